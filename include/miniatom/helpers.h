/* miniatom/helpers.h - small helpers the runtime shares with plugins: a growable string buffer
 * (with JSON output), allocation and string helpers, bounded file reading, libxml2 access, UTF-8,
 * constant-time comparison, clocks and ids. Every function says who owns what it returns. They are
 * part of the plugin ABI (MA_ABI_VERSION). */
#ifndef MINIATOM_HELPERS_H
#define MINIATOM_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- a growable NUL-terminated buffer: it owns s; ma_sb_take hands s to the caller ---- */
typedef struct ma_sb {
    char *s;
    size_t len, cap;
    int oom; /* set when an append failed; later appends are ignored */
} ma_sb;

void ma_sb_init(ma_sb *b);
void ma_sb_free(ma_sb *b);
void ma_sb_reset(ma_sb *b); /* len = 0, keeps the memory */
/* Appends; -1 when out of memory (then b->oom stays set). */
int ma_sb_append(ma_sb *b, const char *s, size_t n);
int ma_sb_puts(ma_sb *b, const char *s); /* NULL appends nothing */
/* Appends a string literal (its length known at compile time). */
#define ma_sb_lit(b, lit) ma_sb_append((b), "" lit, sizeof(lit) - 1)
int ma_sb_putc(ma_sb *b, char c);
int ma_sb_printf(ma_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the malloc'ed string (caller frees) and leaves b empty; "" when nothing was added; NULL
 * when an append ran out of memory. */
char *ma_sb_take(ma_sb *b, size_t *len);
/* Appends s[0..n) escaped for a JSON string, without quotes: '"', '\\' and control characters
 * escaped; a byte that does not start valid UTF-8 becomes U+FFFD, so the output is always valid
 * JSON text. The one JSON string writer of mini-Atom. */
int ma_sb_json_escape(ma_sb *b, const char *s, size_t n);
/* Appends "s" (quoted and escaped); NULL is written as "". */
int ma_sb_json_str(ma_sb *b, const char *s);
/* Appends a real as JSON: its shortest round-trip text, with ".0" when that reads as an integer. */
int ma_sb_json_real(ma_sb *b, double d);
struct json_t; /* jansson's json_t */
/* Appends a jansson value as compact JSON (reals as ma_sb_json_real). Values nested deeper than
 * 4096 levels are left out. */
int ma_sb_json_value(ma_sb *b, const struct json_t *v);

/* ---- allocation and strings: NULL when out of memory (never abort); ma_strdup(NULL) is NULL ---- */
char *ma_strdup(const char *s);
char *ma_strndup(const char *s, size_t n);
char *ma_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ma_streq(const char *a, const char *b); /* NULL-safe */
int ma_str_has_prefix(const char *s, const char *prefix);
int ma_str_has_suffix(const char *s, const char *suffix);
/* Copies src into dst of n > 0 bytes, cut to n - 1 bytes, NUL-terminated; returns the length copied. */
size_t ma_strlcpy(char *dst, const char *src, size_t n);
/* Decodes the UTF-8 sequence at s (n bytes available): its length (1-4) with *cp set, or 0 when it
 * is not valid UTF-8 (overlong forms, surrogates and values past U+10FFFF are not). */
size_t ma_utf8_decode(const unsigned char *s, size_t n, unsigned *cp);
/* Constant-time comparison of n bytes (secrets): 1 when equal. */
int ma_ct_equal(const void *a, const void *b, size_t n);
/* Overwrites n bytes with zeros in a way the compiler keeps (secrets before they are freed). */
void ma_wipe(void *p, size_t n);

/* ---- files ---- */
/* Reads a whole file of at most max bytes into a malloc'ed NUL-terminated buffer (caller frees).
 * NULL with err (file, why) when it cannot be read or is larger than max. */
char *ma_read_file(const char *path, size_t max, size_t *len, ma_error *err);
/* Writes data to path atomically (a temporary file, then rename). */
int ma_write_file(const char *path, const void *data, size_t len, ma_error *err);
/* mkdir -p */
int ma_mkdirs(const char *path, ma_error *err);
/* The names of the entries of dir whose names end with suffix (NULL: all), hidden entries (".x")
 * left out, sorted bytewise: a malloc'ed array of malloc'ed names (free with ma_strings_free). -1
 * with err when dir cannot be read or holds more than max such entries. */
int ma_dir_list(const char *dir, const char *suffix, size_t max, char ***names, size_t *n, ma_error *err);
void ma_strings_free(char **s, size_t n);

/* ---- libxml2 (local names; attribute values as malloc'ed copies, caller frees) ----
 * ma_xml_node is libxml2's xmlNode; the functions take it without the plugin needing libxml2's
 * headers. */
typedef struct _xmlNode ma_xml_node;
struct _xmlDoc;
char *ma_xml_attr(const ma_xml_node *n, const char *name);                     /* NULL when absent */
int ma_xml_attr_is(const ma_xml_node *n, const char *name, const char *value); /* absent: 0 */
ma_xml_node *ma_xml_child(const ma_xml_node *n, const char *name); /* first element child (NULL name: any) */
ma_xml_node *ma_xml_next(const ma_xml_node *n, const char *name);  /* next element sibling */
char *ma_xml_text(const ma_xml_node *n);                           /* "" when empty */
int ma_xml_is(const ma_xml_node *n, const char *name);
const char *ma_xml_name(const ma_xml_node *n);    /* an element's local name (borrowed from n); NULL for NULL */
ma_xml_node *ma_xml_parent(const ma_xml_node *n); /* the element n sits in; NULL at the root element */
/* Parses a document from memory securely (no entity substitution, no DTD loading, no network): a
 * new xmlDoc (caller frees with xmlFreeDoc) or NULL with err "NAME:LINE: message". Refuses
 * documents whose DOCTYPE declares entities. */
struct _xmlDoc *ma_xml_parse(const char *buf, size_t len, const char *name, ma_error *err);

/* ---- enumerated option values (runtime/option_values.c) ----
 * One table per option of component XML (an operation's writeOption, a shape's level, a profile's
 * data type), so every reader accepts the spellings Boomi's exports use and reports a value it does
 * not know in the same words: `writeOption "x" is not one of: unique, over, append, abort`.
 * docs/decisions/027-option-values.md lists every table and where its values come from. */
typedef struct ma_enum {
    const char *name; /* the value as the XML spells it; NULL ends the table */
    int value;        /* what the reader makes of it */
    int flags;        /* MA_ENUM_OLD, MA_ENUM_UNSUPPORTED */
} ma_enum;
#define MA_ENUM_OLD 1         /* an older spelling mini-Atom documented: read, listed as "also read" */
#define MA_ENUM_UNSUPPORTED 2 /* a value Boomi defines that this runtime cannot run: refused as such */
/* opts of ma_enum_parse / ma_xml_enum */
#define MA_ENUM_NOCASE 1   /* compare ignoring ASCII case */
#define MA_ENUM_REQUIRED 2 /* an absent or empty value is an error instead of def */

/* Looks text (surrounding blanks ignored) up in table: 0 with *value set; NULL or "" gives def
 * (unless MA_ENUM_REQUIRED). A value not in the table: -1 with err MA_ERR_CONFIG
 * `WHAT "text" is not one of: a, b, c (also read: x)`; a MA_ENUM_UNSUPPORTED one: -1 with
 * MA_ERR_UNSUPPORTED `WHAT "text" is not supported by mini-Atom (supported: a, b)`. what names the
 * option in messages (e.g. "writeOption"); callers prefix where it was read. */
int ma_enum_parse(const ma_enum *table, const char *what, const char *text, int def, int opts, int *value,
                  ma_error *err);
/* ma_enum_parse on attribute attr of n (what = attr); n NULL reads as absent. */
int ma_xml_enum(const ma_xml_node *n, const char *attr, const ma_enum *table, int def, int opts, int *value,
                ma_error *err);
/* The name a value has in table (its first entry that is not MA_ENUM_OLD), or NULL. */
const char *ma_enum_name(const ma_enum *table, int value);
/* Writes the names of table into buf of n bytes, ", "-separated: flags 0 lists Boomi's runnable
 * values, MA_ENUM_OLD the older spellings, MA_ENUM_UNSUPPORTED Boomi's values refused; returns
 * buf (cut at n - 1 bytes with "..." when too long). */
char *ma_enum_list(const ma_enum *table, int flags, char *buf, size_t n);

/* ---- time and ids ---- */
uint64_t ma_now_ns(void);    /* monotonic clock, nanoseconds */
void ma_uuid4(char out[37]); /* a random RFC 4122 version 4 UUID */

#ifdef __cplusplus
}
#endif
#endif
