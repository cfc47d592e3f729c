/* miniatom/json.h - reading JSON fast: a read-only JSON tree (ma_jv_parse; Flow requests, returned
 * documents) and a check that builds nothing (ma_json_check; the Web Services Server's JSON input
 * and output types, with the spans of a top-level array's items). One strict RFC 8259 parser
 * (runtime/jsonxml.c) serves both and the map shape's JSON-as-XML. Everything is bounded (nesting
 * depth MA_JSON_MAX_DEPTH) and never touches files or the network. Writing JSON: ma_sb_json_* in
 * helpers.h. Part of the plugin ABI (MA_ABI_VERSION). */
#ifndef MINIATOM_JSON_H
#define MINIATOM_JSON_H

#include <stddef.h>

#include "error.h"
#include "helpers.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MA_JSON_MAX_DEPTH 512 /* objects and arrays nested deeper are refused (MA_ERR_LIMIT) */

/* ---- checking without building --------------------------------------------------------------- */

typedef struct ma_json_span { /* bytes [off, off + len) of the text that was checked */
    size_t off, len;
} ma_json_span;

/* Checks that json[0..len) is one JSON text (RFC 8259: any value at the top, white space around
 * it; a leading UTF-8 byte order mark is skipped) without building anything: strings must be
 * strict UTF-8 and a \u escape of a lone surrogate is refused; "\u0000" and numbers of any size are
 * valid JSON and accepted. *start (optional) is set to where the text starts after the byte order
 * mark (0 or 3). With items: when the value is an array, *items is set to the spans of its items
 * (offsets into json, without white space; a malloc'ed array the caller frees, NULL for []) and
 * *n_items to their count; when it is not an array, *items = NULL and *n_items = (size_t)-1.
 * Returns 0, or -1 with err ("line L, column C: ..." with MA_ERR_PARSE, MA_ERR_LIMIT past
 * MA_JSON_MAX_DEPTH, MA_ERR_NOMEM) and nothing to free; err may be NULL. */
int ma_json_check(const char *json, size_t len, size_t *start, ma_json_span **items, size_t *n_items, ma_error *err);

/* ---- a read-only JSON tree -------------------------------------------------------------------- */

typedef enum ma_jv_type {
    MA_JV_NULL = 0,
    MA_JV_FALSE,
    MA_JV_TRUE,
    MA_JV_INTEGER, /* no fraction, no exponent: i */
    MA_JV_REAL,    /* d */
    MA_JV_STRING,
    MA_JV_ARRAY,
    MA_JV_OBJECT
} ma_jv_type;

/* One value. A tree is made by ma_jv_parse and lives in one arena, freed at once by ma_jv_free:
 * every pointer in it (s, key, v) is owned by the tree's root and lives as long as the root. The
 * tree does not point into the parsed text, which the caller may free after parsing. */
typedef struct ma_jv ma_jv;
struct ma_jv {
    ma_jv_type type;
    size_t n;        /* STRING: its length in bytes; ARRAY, OBJECT: the number of items, members */
    const char *s;   /* STRING: its UTF-8 text, NUL-terminated (it holds no NUL) */
    const char *key; /* a member of an object: its key, NUL-terminated; NULL otherwise */
    size_t klen;
    const ma_jv *v; /* ARRAY, OBJECT: the n items, members, in order */
    long long i;    /* INTEGER */
    double d;       /* REAL */
};

/* Which members of the objects of a value ma_jv_parse keeps: names[i] (NULL-terminated) with
 * subs[i], what to keep of that member's objects (NULL: all of it). The objects of an array are
 * filtered as the array is; a value that is not an object is kept whole. Schemas may refer to
 * each other (a Flow value holds objects whose properties are values). Borrowed by ma_jv_parse
 * while it runs. */
typedef struct ma_json_keep {
    const char *const *names;
    const struct ma_json_keep *const *subs;
} ma_json_keep;

/* Parses JSON text (RFC 8259, strict UTF-8; with any == 0 only an object or an array at the top)
 * into a tree, several times faster than jansson's json_loadb and with the same reading: integers
 * without fraction or exponent are long long (refused when too big), other numbers doubles
 * (refused when they overflow); "\u0000" and lone surrogates are refused; of duplicate keys the
 * last value wins, at the place of the first (as jansson does); nesting is bounded by
 * MA_JSON_MAX_DEPTH. With keep, only the members it names are built: the others are checked
 * just as strictly and dropped. Returns the root (the caller frees it with ma_jv_free) or NULL
 * with err ("line L, column C: ...", MA_ERR_NOMEM when out of memory); err may be NULL. */
ma_jv *ma_jv_parse(const char *json, size_t len, int any, const ma_json_keep *keep, ma_error *err);
/* Frees a tree ma_jv_parse returned (NULL: nothing); only its root may be passed. */
void ma_jv_free(ma_jv *root);

/* The following borrow from the tree: what they return lives as long as its root. */
/* The member of an object (the last of that name), NULL when v is not an object or has none. */
const ma_jv *ma_jv_get(const ma_jv *v, const char *key);
/* Items of an array, members of an object; 0 for anything else and for NULL. */
size_t ma_jv_size(const ma_jv *v);
/* Item or member i (NULL past the end or when v is neither). */
const ma_jv *ma_jv_at(const ma_jv *v, size_t i);
/* The text of a string, NULL for anything else and for NULL. */
const char *ma_jv_str(const ma_jv *v);
static inline int ma_jv_is(const ma_jv *v, ma_jv_type t) { return v && v->type == t; }
static inline int ma_jv_is_null(const ma_jv *v) { return v && v->type == MA_JV_NULL; }
static inline int ma_jv_is_bool(const ma_jv *v) { return v && (v->type == MA_JV_TRUE || v->type == MA_JV_FALSE); }
static inline int ma_jv_is_number(const ma_jv *v) { return v && (v->type == MA_JV_INTEGER || v->type == MA_JV_REAL); }
/* Appends v as compact JSON (as ma_sb_json_value writes a jansson value); -1 when out of memory. */
int ma_jv_write(ma_sb *b, const ma_jv *v);
/* The text JSON output gives a real (MA_JV_REAL's d): the shortest of its texts with 15, 16 or 17
 * significant digits ("%.Ng") that reads back as d, into buf (n >= 32 bytes); returns buf. */
const char *ma_real_text(double d, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
