/* jsonxml.h - JSON documents as XML for stylesheets: the W3C XPath 3.1 json-to-xml representation
 * (namespace http://www.w3.org/2005/xpath-functions: map, array, string, number, boolean, null,
 * with @key on the members of a map), and back (xml-to-json). Used by the map shape so that XSLT
 * 1.0 stylesheets can read and write JSON (issue 3, "Documents"). The same parser also builds
 * read-only trees (ma_jv_parse: Flow requests and returned documents). Everything is bounded
 * (nesting depth MA_JSONXML_MAX_DEPTH) and never touches files or the network. */
#ifndef MA_JSONXML_H
#define MA_JSONXML_H

#include <libxml/tree.h>
#include <stddef.h>

#include "miniatom/error.h"

#define MA_FN_NS "http://www.w3.org/2005/xpath-functions"
#define MA_JSONXML_MAX_DEPTH 512

/* Parses JSON text (RFC 8259; any value at the top) into a new XML document whose root element is
 * fn:map, fn:array, fn:string, fn:number, fn:boolean or fn:null (prefix "fn" bound to MA_FN_NS).
 * Numbers keep their JSON text; strings are stored unescaped (as XPath 3.1 does with
 * escape="false"). Returns a new xmlDoc (caller frees with xmlFreeDoc) or NULL with err ("line L,
 * column C: ..."). Duplicate keys in one object are kept, in order (XPath 3.1's default,
 * duplicates="retain"). */
xmlDoc *ma_json_to_xml(const char *json, size_t len, ma_error *err);

/* ---- a read-only JSON tree (Flow requests and returned documents) -------------------------- */

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
 * every pointer in it (s, key, v) is owned by the tree's root. */
typedef struct ma_jv ma_jv;
struct ma_jv {
    ma_jv_type type;
    size_t n;        /* STRING: its length in bytes; ARRAY, OBJECT: the number of items, members */
    const char *s;   /* STRING: its UTF-8 text, NUL-terminated (it holds no NUL) */
    const char *key; /* a member of an object: its key, NUL-terminated; NULL otherwise */
    size_t klen;
    const ma_jv *v;  /* ARRAY, OBJECT: the n items, members, in order */
    long long i;     /* INTEGER */
    double d;        /* REAL */
};

/* Which members of the objects of a value ma_jv_parse keeps: names[i] (NULL-terminated) with
 * subs[i], what to keep of that member's objects (NULL: all of it). The objects of an array are
 * filtered as the array is; a value that is not an object is kept whole. Schemas may refer to
 * each other (a Flow value holds objects whose properties are values). */
typedef struct ma_json_keep {
    const char *const *names;
    const struct ma_json_keep *const *subs;
} ma_json_keep;

/* Parses JSON text (RFC 8259, strict UTF-8; with any == 0 only an object or an array at the top)
 * into a tree, several times faster than jansson's json_loadb and with the same reading: integers
 * without fraction or exponent are long long (refused when too big), other numbers doubles
 * (refused when they overflow); "\u0000" and lone surrogates are refused; of duplicate keys the
 * last value wins, at the place of the first (as jansson does); nesting is bounded by
 * MA_JSONXML_MAX_DEPTH. With keep, only the members it names are built: the others are checked
 * just as strictly and dropped. Returns the root (free it with ma_jv_free) or NULL with err
 * ("line L, column C: ...", MA_ERR_NOMEM when out of memory); err may be NULL. */
ma_jv *ma_jv_parse(const char *json, size_t len, int any, const ma_json_keep *keep, ma_error *err);
void ma_jv_free(ma_jv *root);

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
struct ma_sb;
int ma_jv_write(struct ma_sb *b, const ma_jv *v);

/* True when the element is one of the json-to-xml vocabulary (in MA_FN_NS). */
int ma_xml_is_json_vocab(const xmlNode *el);

/* Serializes an element of the json-to-xml vocabulary to JSON text (compact, UTF-8). Returns a
 * malloc'ed NUL-terminated string (caller frees) with *len set, or NULL with err naming what is
 * wrong and where (element name and line): an unknown element, a map member without @key, a
 * number that is not a JSON number, a boolean that is not true/false, text inside map or array,
 * duplicate keys in one map. White-space-only text between elements is ignored. */
char *ma_xml_to_json(const xmlNode *el, size_t *len, ma_error *err);

/* Is this document JSON? The rule of the map shape (docs/maps.md): when content_type is not NULL,
 * JSON exactly when it names application/json or a +json type; otherwise when the data starts,
 * after white space, with '{' or '[' and parses as JSON. */
int ma_doc_looks_json(const char *data, size_t len, const char *content_type);

#endif
