/* util.h - small internal helpers shared by the runtime: growable string buffer (with JSON
 * output), safe allocation, string helpers, reading bounded files, and libxml2 attribute access.
 * Ownership is spelled out per function. Nothing here is part of the public ABI. */
#ifndef MA_UTIL_H
#define MA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>

#include "miniatom/error.h"

/* Growable NUL-terminated buffer. The buffer owns s; ma_sb_take hands it to the caller. */
typedef struct ma_sb {
    char *s;
    size_t len, cap;
    int oom; /* set when an append failed; later appends are ignored */
} ma_sb;

void ma_sb_init(ma_sb *b);
void ma_sb_free(ma_sb *b);
void ma_sb_reset(ma_sb *b); /* len = 0, keeps memory */
int ma_sb_append(ma_sb *b, const char *s, size_t n);
int ma_sb_puts(ma_sb *b, const char *s);
/* Appends a string literal (its length known at compile time). */
#define ma_sb_lit(b, lit) ma_sb_append((b), "" lit, sizeof(lit) - 1)
int ma_sb_putc(ma_sb *b, char c);
int ma_sb_printf(ma_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the malloc'ed string (caller frees) and leaves b empty; "" when nothing was added;
 * NULL when an append ran out of memory. */
char *ma_sb_take(ma_sb *b, size_t *len);
/* The shortest of d's texts with 15, 16 or 17 significant digits ("%.Ng") that reads back as d,
 * into buf (n >= 32 bytes); returns buf. */
const char *ma_real_text(double d, char *buf, size_t n);
/* Appends a real as JSON: ma_real_text, with ".0" when that reads as an integer. */
int ma_sb_json_real(ma_sb *b, double d);
/* Copies src into dst of n > 0 bytes, cut to n - 1 bytes, NUL-terminated; returns the length copied. */
size_t ma_strlcpy(char *dst, const char *src, size_t n);
/* Appends s escaped for a JSON string (without quotes). */
int ma_sb_json_escape(ma_sb *b, const char *s, size_t n);
struct json_t; /* jansson's json_t */
/* Appends v as compact JSON text (no blanks; reals in their shortest round-trip form, with ".0"
 * when they would read as integers). Values nested deeper than 4096 levels are left out. */
int ma_sb_json_value(ma_sb *b, const struct json_t *v);

/* Allocation that aborts the process on out-of-memory would hide errors; these return NULL and
 * callers handle it. ma_strdup(NULL) returns NULL. */
char *ma_strdup(const char *s);
char *ma_strndup(const char *s, size_t n);
char *ma_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int ma_streq(const char *a, const char *b); /* NULL-safe */
int ma_str_has_prefix(const char *s, const char *prefix);
int ma_str_has_suffix(const char *s, const char *suffix);

/* Reads a whole file of at most max bytes into a malloc'ed NUL-terminated buffer (caller frees).
 * NULL with err (file, why) when it cannot be read or is larger than max. */
char *ma_read_file(const char *path, size_t max, size_t *len, ma_error *err);
/* Writes data to path atomically (temporary file + rename). */
int ma_write_file(const char *path, const void *data, size_t len, ma_error *err);
/* mkdir -p */
int ma_mkdirs(const char *path, ma_error *err);

/* libxml2 helpers. Attribute values are returned borrowed from the node when possible. */
/* Attribute value as a malloc'ed string or NULL when absent (caller frees with free()). */
char *ma_xml_attr(const xmlNode *n, const char *name);
/* Attribute equals value? (absent -> 0) */
int ma_xml_attr_is(const xmlNode *n, const char *name, const char *value);
/* First element child with the given local name (NULL: any element). */
xmlNode *ma_xml_child(const xmlNode *n, const char *name);
/* Next element sibling after n with the given local name (NULL: any element). */
xmlNode *ma_xml_next(const xmlNode *n, const char *name);
/* Text content as a malloc'ed string ("" when empty). */
char *ma_xml_text(const xmlNode *n);
/* Local name comparison. */
int ma_xml_is(const xmlNode *n, const char *name);

/* Parse flags for every XML parse in mini-Atom: no entity substitution, no DTD loading, no
 * network, no huge nodes. */
#define MA_XML_PARSE_FLAGS (XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR)
/* Parses a document from memory securely. Returns a new xmlDoc (caller frees with xmlFreeDoc) or
 * NULL with err saying "NAME:LINE: message". Rejects documents with a DOCTYPE internal subset
 * that declares entities. */
xmlDoc *ma_xml_parse(const char *buf, size_t len, const char *name, ma_error *err);

/* Monotonic clock in nanoseconds. */
uint64_t ma_now_ns(void);
/* Fills out[37] with a random RFC 4122 version 4 UUID. */
void ma_uuid4(char out[37]);

#endif
