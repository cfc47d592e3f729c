/* jsonxml.c - JSON documents as XML and back (jsonxml.h, miniatom/json.h): a small recursive-descent
 * JSON parser that builds the XPath 3.1 json-to-xml tree (fn:map, fn:array, ...) directly with
 * libxml2, or a read-only tree in one arena (ma_jv_parse), or only checks (ma_json_check,
 * ma_doc_looks_json); a serializer from that vocabulary to compact JSON; and the map shape's "is
 * this document JSON?" rule. Why a reader of our own beside jansson: a Flow request read with
 * jansson took 34 us, with ma_jv_parse 3.5 us (the FSS benchmark). One file on purpose: the three
 * readers are one parser, and its tables serve the writer too. */

/* Decisions (see also jsonxml.h):
 * - Characters that XML 1.0 cannot hold (U+0000-U+001F except tab, LF and CR, i.e. also \b and
 *   \f; U+FFFE, U+FFFF; lone surrogates written as \uD800 etc.) are refused with an error naming
 *   the line and column. XPath 3.1 json-to-xml would replace or escape them; we refuse instead, so
 *   that no data is silently changed. They are still valid JSON for ma_doc_looks_json.
 * - A leading UTF-8 byte order mark is skipped; columns count characters, not bytes.
 * - ma_doc_looks_json: a document nested deeper than MA_JSONXML_MAX_DEPTH counts as JSON (so the
 *   conversion reports the depth, instead of an XML parser reporting a syntax error); an empty
 *   content type counts as absent.
 * - xml-to-json: fn:string/@escaped and @escaped-key (XPath 3.1) are honoured: the JSON escapes
 *   in the text are decoded and written again in the canonical form. fn:boolean also accepts the
 *   xs:boolean forms 1 and 0. Other attributes, comments and processing instructions are
 *   ignored. Numbers are written as their trimmed text, which must be a JSON number. Strings are
 *   escaped by ma_sb_json_escape (util.c): \" \\ \b \f \n \r \t, \u00XX for other controls
 *   (including U+007F-U+009F), and \u2028 \u2029; everything else is kept as UTF-8.
 * - ma_json_check refuses what a consumer of the text could not read back as Unicode (invalid
 *   UTF-8, escapes of lone surrogates) and accepts the rest of RFC 8259 ("\u0000", numbers of any
 *   size): the Web Services Server hands the text on as it came. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "jsonxml.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum { K_MAP, K_ARRAY, K_STRING, K_NUMBER, K_BOOLEAN, K_NULL, K_COUNT };
static const char *const kind_name[K_COUNT] = {"map", "array", "string", "number", "boolean", "null"};

static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static size_t utf8_encode(unsigned cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int xml_char_ok(unsigned cp)
{
    if (cp < 0x20) return cp == 0x9 || cp == 0xA || cp == 0xD;
    if (cp <= 0xD7FF) return 1;
    if (cp < 0xE000) return 0;
    if (cp <= 0xFFFD) return 1;
    return cp >= 0x10000 && cp <= 0x10FFFF;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *v)
{
    if (end - p < 4) return -1;
    unsigned r = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) return -1;
        r = r << 4 | (unsigned)h;
    }
    *v = r;
    return 0;
}

/* Decodes the JSON escape at p (p[0] == '\\'). Returns the bytes used with *cp, or 0 with *why.
 * A high surrogate followed by an escaped low surrogate gives the combined code point; a lone
 * surrogate is returned as such (the caller decides). */
static size_t unescape1(const unsigned char *p, const unsigned char *end, unsigned *cp, const char **why)
{
    if (end - p < 2) {
        *why = "unterminated escape";
        return 0;
    }
    switch (p[1]) {
    case '"': *cp = '"'; return 2;
    case '\\': *cp = '\\'; return 2;
    case '/': *cp = '/'; return 2;
    case 'b': *cp = '\b'; return 2;
    case 'f': *cp = '\f'; return 2;
    case 'n': *cp = '\n'; return 2;
    case 'r': *cp = '\r'; return 2;
    case 't': *cp = '\t'; return 2;
    case 'u': {
        unsigned v, lo;
        if (hex4(p + 2, end, &v) < 0) {
            *why = "invalid \\u escape (it needs 4 hex digits)";
            return 0;
        }
        if (v >= 0xD800 && v <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u' && hex4(p + 8, end, &lo) == 0 &&
            lo >= 0xDC00 && lo <= 0xDFFF) {
            *cp = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            return 12;
        }
        *cp = v;
        return 6;
    }
    default: *why = "invalid escape (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"; return 0;
    }
}

/* ---- JSON -> XML ------------------------------------------------------------------------ */

typedef struct jp {
    const unsigned char *s; /* start of the text, after a byte order mark */
    const unsigned char *p, *end;
    int depth;
    int too_deep;
    xmlDoc *doc; /* building XML; NULL and !tree: validate only */
    xmlNs *ns;
    int tree;            /* building an ma_jv tree (ma_jv_parse); 0 while checking a dropped member */
    int strict;          /* ma_jv_parse, kept members or not: refuse "\u0000", lone surrogates and
                                    numbers out of range */
    int unicode;         /* ma_json_check: refuse lone surrogates */
    int want_items;      /* ma_json_check: record the spans of a top-level array's items */
    ma_json_span *items; /* their offsets from s (malloc'ed) */
    size_t nitems, capitems;
    ma_sb buf;               /* decoded keys and escaped strings */
    struct jv_block *blocks; /* tree: the arena the tree is built in (newest block first) */
    ma_jv *stack;            /* tree: values parsed, not yet placed in their container */
    size_t sn, scap;
    ma_error *err;
} jp;

/* Plain string bytes: ASCII from space on, except '"' and '\\'. */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

/* The first byte at or after p that is not plain (a quote, a backslash, a control character or
 * a byte of a multi-byte UTF-8 sequence), or end: eight bytes at a time, then one by one. In a
 * word that holds such bytes, the lowest flagged byte is the first of them (a borrow only flags
 * bytes above the one that caused it), found with ctz on little-endian machines. */
static inline const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    if (p < end && !plain[*p]) return p; /* the next character of non-ASCII text */
    while (end - p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        /* a byte >= 0x80, a byte < 0x20, a zero byte in q or in b */
        uint64_t m = (w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
        if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(m) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && plain[*p]) p++;
    return p;
}

static int jp_fail(jp *j, const unsigned char *at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void jp_where(const jp *j, const unsigned char *at, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    const unsigned char *ls = j->s;
    for (const unsigned char *q = j->s; q < at; q++)
        if (*q == '\n' || (*q == '\r' && !(q + 1 < j->end && q[1] == '\n'))) {
            (*line)++;
            ls = q + 1;
        }
    for (const unsigned char *q = ls; q < at; q++)
        if ((*q & 0xC0) != 0x80) (*col)++;
}

static int jp_fail(jp *j, const unsigned char *at, int code, const char *fmt, ...)
{
    if (!j->err) return -1;
    size_t line, col;
    jp_where(j, at, &line, &col);
    char msg[MA_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ma_error_set(j->err, code, "line %zu, column %zu: %s", line, col, msg);
    return -1;
}

static int jp_nomem(jp *j) { return ma_error_set(j->err, MA_ERR_NOMEM, "out of memory parsing JSON"); }

static const char *jp_what(const jp *j, const unsigned char *p, char buf[24])
{
    if (p >= j->end) return "the end of the input";
    if (*p > 0x20 && *p < 0x7F) snprintf(buf, 24, "'%c'", *p);
    else snprintf(buf, 24, "byte 0x%02X", *p);
    return buf;
}

static inline void jp_ws(jp *j)
{
    const unsigned char *p = j->p, *end = j->end;
    while (p < end && *p <= ' ' && is_ws(*p)) p++;
    j->p = p;
}

static xmlNode *jp_node(jp *j, xmlNode *parent, int kind, int keyed)
{
    xmlNode *n = xmlNewDocNode(j->doc, j->ns, BAD_CAST kind_name[kind], NULL);
    if (!n) {
        jp_nomem(j);
        return NULL;
    }
    if (!parent) {
        xmlDocSetRootElement(j->doc, n);
        j->ns = xmlNewNs(n, BAD_CAST MA_FN_NS, BAD_CAST "fn");
        if (!j->ns) {
            jp_nomem(j);
            return NULL;
        }
        n->ns = j->ns;
    } else {
        n->parent = parent;
        if (parent->last) {
            n->prev = parent->last;
            parent->last->next = n;
        } else {
            parent->children = n;
        }
        parent->last = n;
    }
    if (keyed && !xmlNewNsProp(n, NULL, BAD_CAST "key", BAD_CAST j->buf.s)) {
        jp_nomem(j);
        return NULL;
    }
    return n;
}

static int jp_text(jp *j, xmlNode *n, const unsigned char *s, size_t len, const unsigned char *at)
{
    if (len > (size_t)INT_MAX) return jp_fail(j, at, MA_ERR_LIMIT, "a value longer than %d bytes", INT_MAX);
    xmlNode *t = xmlNewDocTextLen(j->doc, s, (int)len);
    if (!t) return jp_nomem(j);
    t->parent = n;
    n->children = n->last = t;
    return 0;
}

/* A string; j->p is after the opening quote. Building a key (key != 0): the decoded text goes
 * to j->buf (NUL-terminated). Building a value: *out and *outlen give the text, in the input when it
 * has no escapes, else in j->buf. Validating: only checks. Building XML refuses what XML cannot
 * hold; building a tree refuses \u0000 and lone surrogates (C strings and valid UTF-8 only).
 * jp_string_rest goes on from p, the first byte after j->p that is not plain. */
static int jp_string_rest(jp *j, int key, const unsigned char **out, size_t *outlen, const unsigned char *p)
{
    const unsigned char *end = j->end, *open = j->p - 1, *run = j->p;
    const int build = j->doc != NULL || j->tree;
    int inbuf = 0;
    if (build && key) {
        ma_sb_reset(&j->buf);
        inbuf = 1;
    }
    for (;;) {
        p = skip_plain(p, end);
        if (p >= end) {
            size_t l, c;
            jp_where(j, open, &l, &c);
            return jp_fail(j, p, MA_ERR_PARSE, "unterminated string (it starts at line %zu, column %zu)", l, c);
        }
        unsigned c = *p, cp;
        if (c == '"') break;
        if (c < 0x20) {
            return jp_fail(j, p, MA_ERR_PARSE, "control character U+%04X in a string (it must be escaped)", c);
        }
        if (c == '\\') {
            const char *why = NULL;
            size_t n = unescape1(p, end, &cp, &why);
            if (!n) {
                if (p + 1 >= end) {
                    size_t l, co;
                    jp_where(j, open, &l, &co);
                    return jp_fail(j, end, MA_ERR_PARSE, "unterminated string (it starts at line %zu, column %zu)", l,
                                   co);
                }
                return jp_fail(j, p, MA_ERR_PARSE, "%s", why);
            }
            if (j->strict) {
                if (cp >= 0xD800 && cp <= 0xDFFF) return jp_fail(j, p, MA_ERR_PARSE, "\\u%04X is a lone surrogate", cp);
                if (cp == 0) return jp_fail(j, p, MA_ERR_PARSE, "\\u0000 is not allowed in a string");
            } else if (j->unicode) {
                if (cp >= 0xD800 && cp <= 0xDFFF) return jp_fail(j, p, MA_ERR_PARSE, "\\u%04X is a lone surrogate", cp);
            } else if (build) {
                if (cp >= 0xD800 && cp <= 0xDFFF)
                    return jp_fail(j, p, MA_ERR_UNSUPPORTED, "\\u%04X is a lone surrogate, which XML cannot hold", cp);
                if (!xml_char_ok(cp))
                    return jp_fail(j, p, MA_ERR_UNSUPPORTED,
                                   "%.*s (U+%04X) is a character that XML 1.0 cannot hold; it is refused",
                                   (int)(n > 6 ? 6 : n), (const char *)p, cp);
            }
            if (build) {
                if (!inbuf) {
                    ma_sb_reset(&j->buf);
                    inbuf = 1;
                }
                char u[4];
                ma_sb_append(&j->buf, (const char *)run, (size_t)(p - run));
                ma_sb_append(&j->buf, u, utf8_encode(cp, u));
            }
            p += n;
            run = p;
            continue;
        }
        size_t n = ma_utf8_decode_inline(p, (size_t)(end - p), &cp);
        if (!n) return jp_fail(j, p, MA_ERR_PARSE, "invalid UTF-8 (byte 0x%02X) in a string", c);
        if (j->doc && (cp == 0xFFFE || cp == 0xFFFF))
            return jp_fail(j, p, MA_ERR_UNSUPPORTED, "U+%04X is a character that XML 1.0 cannot hold; it is refused",
                           cp);
        p += n;
    }
    if (build) {
        if (inbuf) {
            ma_sb_append(&j->buf, (const char *)run, (size_t)(p - run));
            if (j->buf.oom) return jp_nomem(j);
            if (out) {
                *out = (const unsigned char *)j->buf.s;
                *outlen = j->buf.len;
            }
        } else if (out) {
            *out = run;
            *outlen = (size_t)(p - run);
        }
    }
    j->p = p + 1;
    return 0;
}

/* Most strings are plain bytes up to the closing quote: that case without the call. */
static inline int jp_string(jp *j, int key, const unsigned char **out, size_t *outlen)
{
    const unsigned char *p = skip_plain(j->p, j->end);
    if (p < j->end && *p == '"' && !(key && (j->doc || j->tree))) {
        if (out) {
            *out = j->p;
            *outlen = (size_t)(p - j->p);
        }
        j->p = p + 1;
        return 0;
    }
    return jp_string_rest(j, key, out, outlen, p);
}

static int jp_number(jp *j, const unsigned char **end_out)
{
    const unsigned char *p = j->p, *end = j->end, *start = p;
    if (*p == '-') p++;
    if (p < end && *p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return jp_fail(j, start, MA_ERR_PARSE, "invalid number: leading zeros are not allowed");
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') p++;
    } else {
        return jp_fail(j, start, MA_ERR_PARSE, "invalid number: '-' must be followed by a digit");
    }
    if (p < end && *p == '.') {
        p++;
        if (!(p < end && *p >= '0' && *p <= '9'))
            return jp_fail(j, start, MA_ERR_PARSE, "invalid number: '.' must be followed by a digit");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!(p < end && *p >= '0' && *p <= '9'))
            return jp_fail(j, start, MA_ERR_PARSE, "invalid number: the exponent needs digits");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    *end_out = p;
    return 0;
}

static int jp_value(jp *j, xmlNode *parent, int keyed);
static int jp_jvalue(jp *j, const char *key, size_t klen, const ma_json_keep *keep);
static int jv_number(jp *j, const unsigned char *s, const unsigned char *e, ma_jv *v);
static char *jv_strdup(jp *j, const unsigned char *s, size_t n);

/* The position of the member named k (kl bytes) in keep, -1 when it is not kept. */
static int keep_find(const ma_json_keep *keep, const unsigned char *k, size_t kl)
{
    for (int i = 0; keep->names[i]; i++)
        if (keep->names[i][0] == (kl ? (char)k[0] : '\0') && strncmp(keep->names[i], (const char *)k, kl) == 0 &&
            keep->names[i][kl] == '\0')
            return i;
    return -1;
}

/* Records the span of a top-level array's item, from at to j->p (ma_json_check). */
static int jp_item(jp *j, const unsigned char *at)
{
    if (j->nitems == j->capitems) {
        size_t cap = j->capitems ? j->capitems * 2 : 16;
        ma_json_span *n = realloc(j->items, cap * sizeof *n);
        if (!n) return jp_nomem(j);
        j->items = n;
        j->capitems = cap;
    }
    j->items[j->nitems++] = (ma_json_span){(size_t)(at - j->s), (size_t)(j->p - at)};
    return 0;
}

/* The members of the container that opens at j->p (its depth already counted): onto j->stack
 * (filtered by keep) when building a tree, under xparent when building XML (or validating). */
static int jp_members(jp *j, int map, xmlNode *xparent, const ma_json_keep *keep)
{
    const unsigned char *open = j->p;
    const char close = map ? '}' : ']';
    char w[24];
    j->p++;
    jp_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return 0;
    }
    for (;;) {
        if (j->p >= j->end) {
            size_t l, c;
            jp_where(j, open, &l, &c);
            return jp_fail(j, j->p, MA_ERR_PARSE, "unterminated %s (it starts at line %zu, column %zu)",
                           map ? "object" : "array", l, c);
        }
        const char *k = NULL;
        size_t kl = 0;
        int at = -1;
        if (map) {
            if (*j->p != '"')
                return jp_fail(j, j->p, MA_ERR_PARSE, "expected a string key, found %s", jp_what(j, j->p, w));
            j->p++;
            if (!j->tree) {
                if (jp_string(j, 1, NULL, NULL) < 0) return -1; /* the key goes to j->buf */
            } else {
                const unsigned char *ks = NULL;
                if (jp_string(j, 0, &ks, &kl) < 0) return -1;
                at = keep ? keep_find(keep, ks, kl) : 0;
                if (at >= 0 && !(k = jv_strdup(j, ks, kl))) return jp_nomem(j);
            }
            jp_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return jp_fail(j, j->p, MA_ERR_PARSE, "expected ':' after the key, found %s", jp_what(j, j->p, w));
            j->p++;
            jp_ws(j);
        }
        int rc;
        const unsigned char *item = j->p;
        if (!j->tree) {
            rc = jp_value(j, xparent, map);
            if (rc == 0 && j->want_items && j->depth == 1 && !map) rc = jp_item(j, item);
        } else if (!map) rc = jp_jvalue(j, NULL, 0, keep); /* the items' objects are filtered as the array is */
        else if (at >= 0) rc = jp_jvalue(j, k, kl, keep ? keep->subs[at] : NULL);
        else { /* not kept: checked, not built */ j->tree = 0;
            rc = jp_value(j, NULL, 0);
            j->tree = 1;
        }
        if (rc < 0) return -1;
        jp_ws(j);
        if (j->p < j->end && *j->p == ',') {
            const unsigned char *comma = j->p++;
            jp_ws(j);
            if (j->p < j->end && *j->p == close)
                return jp_fail(j, comma, MA_ERR_PARSE, "trailing comma before '%c'", close);
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            break;
        }
        if (j->p >= j->end) continue; /* reports the unterminated container */
        return jp_fail(j, j->p, MA_ERR_PARSE, "expected ',' or '%c', found %s", close, jp_what(j, j->p, w));
    }
    j->depth--;
    return 0;
}

/* Counts one more level of nesting for the container at j->p: -1 past MA_JSONXML_MAX_DEPTH. */
static int jp_deeper(jp *j)
{
    if (++j->depth <= MA_JSONXML_MAX_DEPTH) return 0;
    j->too_deep = 1;
    return jp_fail(j, j->p, MA_ERR_LIMIT, "nesting deeper than %d levels", MA_JSONXML_MAX_DEPTH);
}

static int jp_container(jp *j, xmlNode *parent, int keyed, int map)
{
    if (jp_deeper(j) < 0) return -1;
    xmlNode *n = NULL;
    if (j->doc && !(n = jp_node(j, parent, map ? K_MAP : K_ARRAY, keyed))) return -1;
    return jp_members(j, map, n, NULL);
}

static int jp_bad_literal(jp *j)
{
    const unsigned char *q = j->p;
    while (q < j->end && q - j->p < 16 &&
           ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
        q++;
    if (q == j->p) q++;
    return jp_fail(j, j->p, MA_ERR_PARSE, "invalid literal '%.*s' (expected true, false or null)", (int)(q - j->p),
                   (const char *)j->p);
}

static int jp_literal(jp *j, xmlNode *parent, int keyed, const char *word, size_t n, int kind)
{
    const unsigned char *at = j->p;
    if ((size_t)(j->end - at) < n || memcmp(at, word, n) != 0 ||
        ((size_t)(j->end - at) > n &&
         ((at[n] >= 'a' && at[n] <= 'z') || (at[n] >= 'A' && at[n] <= 'Z') || (at[n] >= '0' && at[n] <= '9'))))
        return jp_bad_literal(j);
    j->p += n;
    if (!j->doc) return 0;
    xmlNode *e = jp_node(j, parent, kind, keyed);
    if (!e) return -1;
    return kind == K_NULL ? 0 : jp_text(j, e, (const unsigned char *)word, n, at);
}

static int jp_value(jp *j, xmlNode *parent, int keyed)
{
    char w[24];
    if (j->p >= j->end) return jp_fail(j, j->p, MA_ERR_PARSE, "expected a value, found the end of the input");
    switch (*j->p) {
    case '{': return jp_container(j, parent, keyed, 1);
    case '[': return jp_container(j, parent, keyed, 0);
    case '"': {
        xmlNode *n = NULL;
        if (j->doc && !(n = jp_node(j, parent, K_STRING, keyed))) return -1;
        const unsigned char *at = j->p++, *s = NULL;
        size_t len = 0;
        if (jp_string(j, 0, &s, &len) < 0) return -1;
        return n && len ? jp_text(j, n, s, len, at) : 0;
    }
    case 't': return jp_literal(j, parent, keyed, "true", 4, K_BOOLEAN);
    case 'f': return jp_literal(j, parent, keyed, "false", 5, K_BOOLEAN);
    case 'n': return jp_literal(j, parent, keyed, "null", 4, K_NULL);
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': {
        const unsigned char *start = j->p, *e = start;
        if (jp_number(j, &e) < 0) return -1;
        j->p = e;
        if (j->strict) { /* a member ma_jv_parse drops: its number must still be one it can read */
            ma_jv unused;
            return jv_number(j, start, e, &unused);
        }
        if (!j->doc) return 0;
        xmlNode *n = jp_node(j, parent, K_NUMBER, keyed);
        return n ? jp_text(j, n, start, (size_t)(e - start), start) : -1;
    }
    default:
        if ((*j->p >= 'a' && *j->p <= 'z') || (*j->p >= 'A' && *j->p <= 'Z')) return jp_bad_literal(j);
        return jp_fail(j, j->p, MA_ERR_PARSE, "expected a value, found %s", jp_what(j, j->p, w));
    }
}

static void jp_init(jp *j, const char *json, size_t len, ma_error *err)
{
    memset(j, 0, sizeof *j);
    const unsigned char *s = (const unsigned char *)(json ? json : "");
    if (!json) len = 0;
    j->end = s + len;
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) s += 3;
    j->s = j->p = s;
    j->err = err;
    ma_sb_init(&j->buf);
}

static int jp_run(jp *j)
{
    char w[24];
    const unsigned char *s = j->s;
    if (j->end - s >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        return jp_fail(j, s, MA_ERR_PARSE, "JSON must be UTF-8; this looks like UTF-16");
    jp_ws(j);
    if (j->p >= j->end)
        return jp_fail(j, j->p, MA_ERR_PARSE, j->p == s ? "empty document" : "no JSON value, only white space");
    if (jp_value(j, NULL, 0) < 0) return -1;
    jp_ws(j);
    if (j->p < j->end) return jp_fail(j, j->p, MA_ERR_PARSE, "unexpected %s after the JSON value", jp_what(j, j->p, w));
    return 0;
}

xmlDoc *ma_json_to_xml(const char *json, size_t len, ma_error *err)
{
    jp j;
    jp_init(&j, json, len, err);
    /* No dictionary: with one, building and freeing ~1 KB documents measured 30% slower. */
    j.doc = xmlNewDoc(BAD_CAST "1.0");
    if (!j.doc) {
        jp_nomem(&j);
        return NULL;
    }
    int rc = jp_run(&j);
    ma_sb_free(&j.buf);
    if (rc < 0) {
        xmlFreeDoc(j.doc);
        return NULL;
    }
    return j.doc;
}

/* ---- checking only ----------------------------------------------------------------------- */

int ma_json_check(const char *json, size_t len, size_t *start, ma_json_span **items, size_t *n_items, ma_error *err)
{
    jp j;
    ma_error local;
    jp_init(&j, json, len, err ? err : &local);
    j.unicode = 1;
    j.want_items = items != NULL;
    int rc = jp_run(&j);
    ma_sb_free(&j.buf);
    size_t bom = json ? (size_t)(j.s - (const unsigned char *)json) : 0;
    if (start) *start = bom;
    if (!items) return rc;
    *items = NULL;
    *n_items = (size_t)-1;
    if (rc < 0) {
        free(j.items);
        return -1;
    }
    const unsigned char *q = j.s;
    while (q < j.end && is_ws(*q)) q++;
    if (*q != '[') { /* jp_run found a value: q < j.end */
        free(j.items);
        return 0;
    }
    for (size_t i = 0; i < j.nitems; i++) j.items[i].off += bom;
    *items = j.items;
    *n_items = j.nitems;
    return 0;
}

/* ---- JSON -> ma_jv --------------------------------------------------------------------------- */

typedef struct jv_block {
    struct jv_block *next;
    size_t used, cap; /* bytes of the data that follows */
} jv_block;

typedef struct jv_head { /* what ma_jv_parse returns a pointer into */
    jv_block *blocks;    /* owned: the arena */
    ma_jv root;
} jv_head;

#define JV_FIRST_BLOCK 4096
#define JV_MAX_BLOCK (1u << 20)

static void jv_blocks_free(jv_block *b)
{
    while (b) {
        jv_block *next = b->next;
        free(b);
        b = next;
    }
}

/* n bytes, 8-aligned, from j's arena; NULL when out of memory. */
static void *jv_alloc(jp *j, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    jv_block *b = j->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = b ? b->cap * 2 : JV_FIRST_BLOCK;
        if (cap > JV_MAX_BLOCK) cap = JV_MAX_BLOCK;
        if (cap < n) cap = n;
        jv_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        j->blocks = b = nb;
    }
    void *p = (char *)(b + 1) + b->used;
    b->used += n;
    return p;
}

static char *jv_strdup(jp *j, const unsigned char *s, size_t n)
{
    char *c = jv_alloc(j, n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static int jv_push(jp *j, const ma_jv *v)
{
    if (j->sn == j->scap) {
        size_t cap = j->scap ? j->scap * 2 : 64;
        ma_jv *ns = realloc(j->stack, cap * sizeof *ns);
        if (!ns) return jp_nomem(j);
        j->stack = ns;
        j->scap = cap;
    }
    j->stack[j->sn++] = *v;
    return 0;
}

/* A number's value: an integer when it has no fraction and no exponent (refused when it does not
 * fit a long long), else a double (refused when it overflows), as jansson reads them. */
static int jv_number(jp *j, const unsigned char *s, const unsigned char *e, ma_jv *v)
{
    int real = 0;
    for (const unsigned char *q = s; q < e; q++)
        if (*q == '.' || *q == 'e' || *q == 'E') real = 1;
    if (!real) {
        int neg = *s == '-';
        unsigned long long x = 0, lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
        for (const unsigned char *q = s + neg; q < e; q++) {
            unsigned d = (unsigned)(*q - '0');
            if (x > (lim - d) / 10)
                return jp_fail(j, s, MA_ERR_PARSE, "the integer %.*s is too big", (int)(e - s > 40 ? 40 : e - s),
                               (const char *)s);
            x = x * 10 + d;
        }
        v->type = MA_JV_INTEGER;
        v->i = neg ? (long long)(0 - x) : (long long)x;
        return 0;
    }
    ma_sb_reset(&j->buf);
    if (ma_sb_append(&j->buf, (const char *)s, (size_t)(e - s)) < 0) return jp_nomem(j);
    errno = 0;
    double d = strtod(j->buf.s, NULL);
    if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
        return jp_fail(j, s, MA_ERR_PARSE, "the number %.*s is too big", (int)(e - s > 40 ? 40 : e - s),
                       (const char *)s);
    v->type = MA_JV_REAL;
    v->d = d;
    return 0;
}

static int jv_same_key(const ma_jv *a, const ma_jv *b)
{
    return a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

/* Member b repeats the key of member a (a < b): a takes b's value, b is dropped (key NULL). */
static void jv_replace(ma_jv *a, ma_jv *b)
{
    const char *k = a->key;
    size_t kl = a->klen;
    *a = *b;
    a->key = k;
    a->klen = kl;
    b->key = NULL;
}

/* The n members m[] of an object with duplicate keys merged as jansson does (the last value, at
 * the place of the first); returns the new count, (size_t)-1 when out of memory. */
static size_t jv_dedupe(ma_jv *m, size_t n)
{
    int dup = 0;
    if (n <= 16) {
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; m[a].key && b < n; b++)
                if (m[b].key && jv_same_key(&m[a], &m[b])) {
                    jv_replace(&m[a], &m[b]);
                    dup = 1;
                }
    } else { /* open addressing over the first member of each key */
        size_t cap = 32;
        while (cap < 2 * n) cap *= 2;
        size_t *tab = malloc(cap * sizeof *tab);
        if (!tab) return (size_t)-1;
        for (size_t i = 0; i < cap; i++) tab[i] = SIZE_MAX;
        for (size_t b = 0; b < n; b++) {
            uint64_t h = 1469598103934665603ULL; /* FNV-1a */
            for (size_t i = 0; i < m[b].klen; i++) h = (h ^ (unsigned char)m[b].key[i]) * 1099511628211ULL;
            for (size_t at = (size_t)h & (cap - 1);; at = (at + 1) & (cap - 1)) {
                if (tab[at] == SIZE_MAX) {
                    tab[at] = b;
                    break;
                }
                if (jv_same_key(&m[tab[at]], &m[b])) {
                    jv_replace(&m[tab[at]], &m[b]);
                    dup = 1;
                    break;
                }
            }
        }
        free(tab);
    }
    if (!dup) return n;
    size_t w = 0;
    for (size_t r = 0; r < n; r++)
        if (m[r].key) m[w++] = m[r];
    return w;
}

/* Parses one value onto j->stack (as member key of its object when key is set). A container's
 * items are parsed onto the stack, then moved into the arena in one piece. */
static int jp_jvalue(jp *j, const char *key, size_t klen, const ma_json_keep *keep)
{
    ma_jv v;
    memset(&v, 0, sizeof v);
    v.key = key;
    v.klen = klen;
    const unsigned char *at = j->p;
    if (at >= j->end) return jp_value(j, NULL, 0); /* reports the end of the input */
    switch (*at) {
    case '{':
    case '[': {
        int map = *at == '{';
        if (jp_deeper(j) < 0) return -1;
        size_t base = j->sn;
        if (jp_members(j, map, NULL, keep) < 0) return -1;
        size_t n = j->sn - base;
        if (map && n > 1 && (n = jv_dedupe(j->stack + base, n)) == (size_t)-1) return jp_nomem(j);
        v.type = map ? MA_JV_OBJECT : MA_JV_ARRAY;
        v.n = n;
        if (n) {
            ma_jv *items = jv_alloc(j, n * sizeof *items);
            if (!items) return jp_nomem(j);
            memcpy(items, j->stack + base, n * sizeof *items);
            v.v = items;
        }
        j->sn = base;
        break;
    }
    case '"': {
        const unsigned char *s = NULL;
        size_t len = 0;
        j->p++;
        if (jp_string(j, 0, &s, &len) < 0) return -1;
        if (!(v.s = jv_strdup(j, s, len))) return jp_nomem(j);
        v.type = MA_JV_STRING;
        v.n = len;
        break;
    }
    case 't':
    case 'f':
    case 'n': {
        int k = *at == 'n' ? K_NULL : K_BOOLEAN;
        const char *word = *at == 't' ? "true" : *at == 'f' ? "false" : "null";
        if (jp_literal(j, NULL, 0, word, strlen(word), k) < 0) return -1;
        v.type = *at == 't' ? MA_JV_TRUE : *at == 'f' ? MA_JV_FALSE : MA_JV_NULL;
        break;
    }
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': {
        const unsigned char *e = at;
        if (jp_number(j, &e) < 0) return -1;
        j->p = e;
        if (jv_number(j, at, e, &v) < 0) return -1;
        break;
    }
    default: return jp_value(j, NULL, 0); /* the error */
    }
    return jv_push(j, &v);
}

ma_jv *ma_jv_parse(const char *json, size_t len, int any, const ma_json_keep *keep, ma_error *err)
{
    jp j;
    char w[24];
    ma_error local;
    jp_init(&j, json, len, err ? err : &local);
    j.tree = 1;
    j.strict = 1;
    const unsigned char *s = j.s;
    int rc;
    if (j.end - s >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        rc = jp_fail(&j, s, MA_ERR_PARSE, "JSON must be UTF-8; this looks like UTF-16");
    else {
        jp_ws(&j);
        if (j.p >= j.end)
            rc = jp_fail(&j, j.p, MA_ERR_PARSE, j.p == s ? "empty document" : "no JSON value, only white space");
        else if (!any && *j.p != '{' && *j.p != '[')
            rc = jp_fail(&j, j.p, MA_ERR_PARSE, "expected an object or an array, found %s", jp_what(&j, j.p, w));
        else if ((rc = jp_jvalue(&j, NULL, 0, keep)) == 0) {
            jp_ws(&j);
            if (j.p < j.end)
                rc = jp_fail(&j, j.p, MA_ERR_PARSE, "unexpected %s after the JSON value", jp_what(&j, j.p, w));
        }
    }
    ma_sb_free(&j.buf);
    jv_head *h = rc == 0 ? malloc(sizeof *h) : NULL;
    if (rc == 0 && !h) jp_nomem(&j);
    if (!h) {
        free(j.stack);
        jv_blocks_free(j.blocks);
        return NULL;
    }
    h->blocks = j.blocks;
    h->root = j.stack[0];
    free(j.stack);
    return &h->root;
}

void ma_jv_free(ma_jv *root)
{
    if (!root) return;
    jv_head *h = (jv_head *)(void *)((char *)root - offsetof(jv_head, root));
    jv_blocks_free(h->blocks);
    free(h);
}

const ma_jv *ma_jv_get(const ma_jv *v, const char *key)
{
    if (!v || v->type != MA_JV_OBJECT || !key) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i].klen == kl && memcmp(v->v[i].key, key, kl) == 0) return &v->v[i];
    return NULL;
}

size_t ma_jv_size(const ma_jv *v) { return v && (v->type == MA_JV_ARRAY || v->type == MA_JV_OBJECT) ? v->n : 0; }

const ma_jv *ma_jv_at(const ma_jv *v, size_t i) { return i < ma_jv_size(v) ? &v->v[i] : NULL; }

const char *ma_jv_str(const ma_jv *v) { return v && v->type == MA_JV_STRING ? v->s : NULL; }

static void jv_write(ma_sb *b, const ma_jv *v, int depth)
{
    if (depth > MA_JSONXML_MAX_DEPTH) return; /* a parsed tree is never deeper */
    switch (v->type) {
    case MA_JV_OBJECT:
    case MA_JV_ARRAY: {
        int map = v->type == MA_JV_OBJECT;
        ma_sb_putc(b, map ? '{' : '[');
        for (size_t i = 0; i < v->n; i++) {
            if (i) ma_sb_putc(b, ',');
            if (map) {
                ma_sb_putc(b, '"');
                ma_sb_json_escape(b, v->v[i].key, v->v[i].klen);
                ma_sb_puts(b, "\":");
            }
            jv_write(b, &v->v[i], depth + 1);
        }
        ma_sb_putc(b, map ? '}' : ']');
        break;
    }
    case MA_JV_STRING:
        ma_sb_putc(b, '"');
        ma_sb_json_escape(b, v->s, v->n);
        ma_sb_putc(b, '"');
        break;
    case MA_JV_INTEGER: {
        char tmp[24];
        ma_sb_append(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%lld", v->i));
        break;
    }
    case MA_JV_REAL: ma_sb_json_real(b, v->d); break;
    case MA_JV_TRUE: ma_sb_puts(b, "true"); break;
    case MA_JV_FALSE: ma_sb_puts(b, "false"); break;
    case MA_JV_NULL: ma_sb_puts(b, "null"); break;
    }
}

int ma_jv_write(ma_sb *b, const ma_jv *v)
{
    if (v) jv_write(b, v, 0);
    return b->oom ? -1 : 0;
}

/* ---- XML -> JSON ------------------------------------------------------------------------ */

typedef struct kspan {
    size_t off, len; /* of the escaped key in the output */
    const char *p;   /* set for sorting */
} kspan;

typedef struct jw {
    ma_sb out, tmp, tmp2;
    kspan *keys;
    size_t nkeys, capkeys;
    const xmlNs *fn; /* a namespace known to be MA_FN_NS */
    ma_error *err;
} jw;

/* The vocabulary kind of el or -1. *fn (optional) remembers a namespace already checked. */
static int vocab_kind(const xmlNode *el, const xmlNs **fn)
{
    if (!el || el->type != XML_ELEMENT_NODE || !el->ns || !el->name) return -1;
    if (!fn || el->ns != *fn) {
        if (!el->ns->href || strcmp((const char *)el->ns->href, MA_FN_NS) != 0) return -1;
        if (fn) *fn = el->ns;
    }
    const char *n = (const char *)el->name;
    int k;
    switch (n[0]) {
    case 'm': k = K_MAP; break;
    case 'a': k = K_ARRAY; break;
    case 's': k = K_STRING; break;
    case 'b': k = K_BOOLEAN; break;
    case 'n': k = n[1] == 'u' && n[2] == 'm' ? K_NUMBER : K_NULL; break;
    default: return -1;
    }
    return strcmp(n, kind_name[k]) == 0 ? k : -1;
}

int ma_xml_is_json_vocab(const xmlNode *el) { return vocab_kind(el, NULL) >= 0; }

static int jw_fail(jw *w, const xmlNode *el, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int jw_fail(jw *w, const xmlNode *el, int code, const char *fmt, ...)
{
    char msg[MA_ERROR_MAX], at[64] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    long line = el && el->type == XML_ELEMENT_NODE ? xmlGetLineNo(el) : -1;
    if (line > 0) snprintf(at, sizeof at, " at line %ld", line);
    const char *pre = el && el->ns && el->ns->prefix ? (const char *)el->ns->prefix : "";
    const char *name = el && el->name ? (const char *)el->name : "?";
    ma_error_set(w->err, code, "xml-to-json: <%s%s%s>%s: %s", pre, *pre ? ":" : "", name, at, msg);
    return -1;
}

/* A short, printable excerpt of s for messages. */
static const char *excerpt(const char *s, size_t n, char out[48])
{
    size_t o = n < 40 ? n : 40;
    if (o < n)
        while (o > 0 && ((unsigned char)s[o] & 0xC0) == 0x80) o--; /* do not cut a character */
    for (size_t i = 0; i < o; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    if (o < n) {
        memcpy(out + o, "...", 3);
        out[o + 3] = '\0';
    } else {
        out[o] = '\0';
    }
    return out;
}

static int all_ws(const xmlChar *s)
{
    if (!s) return 1;
    while (*s)
        if (!is_ws(*s++)) return 0;
    return 1;
}

/* The value of attribute name (no namespace): 1 with *v (borrowed, or *owned to xmlFree), 0 when
 * absent, -1 out of memory. */
static int jw_attr(const xmlNode *el, const char *name, const char **v, xmlChar **owned)
{
    *owned = NULL;
    for (const xmlAttr *a = el->properties; a; a = a->next) {
        if (a->ns || strcmp((const char *)a->name, name) != 0) continue;
        const xmlNode *c = a->children;
        if (!c) {
            *v = "";
            return 1;
        }
        if (c->type == XML_TEXT_NODE && !c->next) {
            *v = c->content ? (const char *)c->content : "";
            return 1;
        }
        *owned = xmlNodeListGetString(el->doc, c, 1);
        if (!*owned) return -1;
        *v = (const char *)*owned;
        return 1;
    }
    return 0;
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_ws((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_ws((unsigned char)(*s)[*n - 1])) (*n)--;
}

/* xs:boolean attribute (escaped, escaped-key): 1, 0 (also when absent) or -1 with err. */
static int jw_flag(jw *w, const xmlNode *el, const char *name)
{
    const char *v;
    xmlChar *owned;
    int r = jw_attr(el, name, &v, &owned);
    if (r < 0) return ma_error_set(w->err, MA_ERR_NOMEM, "out of memory converting XML to JSON");
    if (r == 0) return 0;
    size_t n = strlen(v);
    trim(&v, &n);
    if ((n == 4 && !memcmp(v, "true", 4)) || (n == 1 && *v == '1')) r = 1;
    else if ((n == 5 && !memcmp(v, "false", 5)) || (n == 1 && *v == '0')) r = 0;
    else {
        char ex[48];
        r = jw_fail(w, el, MA_ERR_PARSE, "@%s must be true or false, not \"%s\"", name, excerpt(v, n, ex));
    }
    xmlFree(owned);
    return r;
}

/* Decodes the JSON escapes in s (an @escaped string or key) into w->tmp2. */
static int jw_unescape(jw *w, const xmlNode *el, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
    ma_sb_reset(&w->tmp2);
    while (p < end) {
        if (*p != '\\') {
            p++;
            continue;
        }
        unsigned cp;
        const char *why = NULL;
        size_t k = unescape1(p, end, &cp, &why);
        if (!k || (cp >= 0xD800 && cp <= 0xDFFF)) {
            char ex[48];
            return jw_fail(w, el, MA_ERR_PARSE, "%s in escaped text \"%s\"", k ? "a lone surrogate" : why,
                           excerpt((const char *)p, (size_t)(end - p), ex));
        }
        char u[4];
        ma_sb_append(&w->tmp2, (const char *)run, (size_t)(p - run));
        ma_sb_append(&w->tmp2, u, utf8_encode(cp, u));
        p += k;
        run = p;
    }
    ma_sb_append(&w->tmp2, (const char *)run, (size_t)(p - run));
    return 0;
}

/* The text of a scalar element: borrowed when it is one text node, else joined in w->tmp.
 * Comments and processing instructions are skipped; element children are errors. */
static int jw_text(jw *w, const xmlNode *el, const char **s, size_t *n)
{
    const xmlNode *c = el->children;
    if (!c) {
        *s = "";
        *n = 0;
        return 0;
    }
    if (!c->next && (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)) {
        *s = c->content ? (const char *)c->content : "";
        *n = strlen(*s);
        return 0;
    }
    ma_sb_reset(&w->tmp);
    for (; c; c = c->next) {
        switch (c->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (c->content) ma_sb_puts(&w->tmp, (const char *)c->content);
            break;
        case XML_COMMENT_NODE:
        case XML_PI_NODE: break;
        case XML_ELEMENT_NODE:
            return jw_fail(w, el, MA_ERR_PARSE, "element <%s> inside a %s", (const char *)c->name,
                           (const char *)el->name);
        default:
            return jw_fail(w, el, MA_ERR_PARSE, "unexpected node (type %d) inside a %s", (int)c->type,
                           (const char *)el->name);
        }
    }
    *s = w->tmp.s ? w->tmp.s : "";
    *n = w->tmp.len;
    return 0;
}

static int is_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return 0;
    if (i < n && s[i] == '.') {
        i++;
        if (!(i < n && s[i] >= '0' && s[i] <= '9')) return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (!(i < n && s[i] >= '0' && s[i] <= '9')) return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    return i == n;
}

static int kspan_cmp(const void *a, const void *b)
{
    const kspan *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return memcmp(x->p, y->p, x->len);
}

static int jw_dups(jw *w, const xmlNode *el, size_t base)
{
    size_t n = w->nkeys - base;
    if (n < 2) return 0;
    kspan *k = w->keys + base;
    const kspan *dup = NULL;
    const char *o = w->out.s;
    if (n <= 24) {
        for (size_t i = 1; i < n && !dup; i++)
            for (size_t m = 0; m < i; m++)
                if (k[i].len == k[m].len && !memcmp(o + k[i].off, o + k[m].off, k[i].len)) {
                    dup = &k[i];
                    break;
                }
    } else {
        for (size_t i = 0; i < n; i++) k[i].p = o + k[i].off;
        qsort(k, n, sizeof *k, kspan_cmp);
        for (size_t i = 1; i < n; i++)
            if (kspan_cmp(&k[i - 1], &k[i]) == 0) {
                dup = &k[i];
                break;
            }
    }
    if (!dup) return 0;
    char ex[48];
    return jw_fail(w, el, MA_ERR_PARSE, "duplicate key \"%s\"", excerpt(o + dup->off, dup->len, ex));
}

static int jw_key(jw *w, const xmlNode *c)
{
    const char *v;
    xmlChar *owned;
    int r = jw_attr(c, "key", &v, &owned);
    if (r < 0) return ma_error_set(w->err, MA_ERR_NOMEM, "out of memory converting XML to JSON");
    if (r == 0) return jw_fail(w, c, MA_ERR_PARSE, "a member of a map without a key attribute");
    int esc = jw_flag(w, c, "escaped-key");
    if (esc < 0) {
        xmlFree(owned);
        return -1;
    }
    size_t n = strlen(v);
    if (esc) {
        if (jw_unescape(w, c, v, n) < 0) {
            xmlFree(owned);
            return -1;
        }
        v = w->tmp2.s ? w->tmp2.s : "";
        n = w->tmp2.len;
    }
    if (w->nkeys == w->capkeys) {
        size_t cap = w->capkeys ? w->capkeys * 2 : 32;
        kspan *k = realloc(w->keys, cap * sizeof *k);
        if (!k) {
            xmlFree(owned);
            return ma_error_set(w->err, MA_ERR_NOMEM, "out of memory converting XML to JSON");
        }
        w->keys = k;
        w->capkeys = cap;
    }
    ma_sb_putc(&w->out, '"');
    size_t off = w->out.len;
    ma_sb_json_escape(&w->out, v, n);
    w->keys[w->nkeys].off = off;
    w->keys[w->nkeys].len = w->out.len - off;
    w->nkeys++;
    ma_sb_append(&w->out, "\":", 2);
    xmlFree(owned);
    return 0;
}

static int jw_value(jw *w, const xmlNode *el, int depth)
{
    int k = vocab_kind(el, &w->fn);
    char ex[48];
    if (k < 0) {
        if (!el || el->type != XML_ELEMENT_NODE)
            return ma_error_set(w->err, MA_ERR_USAGE, "xml-to-json: not an element");
        return jw_fail(w, el, MA_ERR_PARSE,
                       "unknown element (namespace \"%s\"); expected map, array, string, number, "
                       "boolean or null in namespace %s",
                       el->ns && el->ns->href ? (const char *)el->ns->href : "", MA_FN_NS);
    }
    switch (k) {
    case K_MAP:
    case K_ARRAY: {
        if (depth >= MA_JSONXML_MAX_DEPTH)
            return jw_fail(w, el, MA_ERR_LIMIT, "nesting deeper than %d levels", MA_JSONXML_MAX_DEPTH);
        size_t base = w->nkeys;
        int first = 1;
        ma_sb_putc(&w->out, k == K_MAP ? '{' : '[');
        for (const xmlNode *c = el->children; c; c = c->next) {
            switch (c->type) {
            case XML_ELEMENT_NODE:
                if (!first) ma_sb_putc(&w->out, ',');
                first = 0;
                if (k == K_MAP) {
                    if (vocab_kind(c, &w->fn) < 0) return jw_value(w, c, depth + 1); /* reports it */
                    if (jw_key(w, c) < 0) return -1;
                }
                if (jw_value(w, c, depth + 1) < 0) return -1;
                break;
            case XML_TEXT_NODE:
            case XML_CDATA_SECTION_NODE:
                if (!all_ws(c->content)) {
                    const char *t = (const char *)c->content;
                    return jw_fail(w, el, MA_ERR_PARSE, "text inside %s: \"%s\"", k == K_MAP ? "a map" : "an array",
                                   excerpt(t, strlen(t), ex));
                }
                break;
            case XML_COMMENT_NODE:
            case XML_PI_NODE: break;
            default:
                return jw_fail(w, el, MA_ERR_PARSE, "unexpected node (type %d) inside %s", (int)c->type,
                               k == K_MAP ? "a map" : "an array");
            }
        }
        if (k == K_MAP && jw_dups(w, el, base) < 0) return -1;
        w->nkeys = base;
        ma_sb_putc(&w->out, k == K_MAP ? '}' : ']');
        return 0;
    }
    case K_STRING: {
        int esc = jw_flag(w, el, "escaped");
        if (esc < 0) return -1;
        const char *s;
        size_t n;
        if (jw_text(w, el, &s, &n) < 0) return -1;
        if (esc) {
            if (jw_unescape(w, el, s, n) < 0) return -1;
            s = w->tmp2.s ? w->tmp2.s : "";
            n = w->tmp2.len;
        }
        ma_sb_putc(&w->out, '"');
        ma_sb_json_escape(&w->out, s, n);
        ma_sb_putc(&w->out, '"');
        return 0;
    }
    case K_NUMBER: {
        const char *s;
        size_t n;
        if (jw_text(w, el, &s, &n) < 0) return -1;
        trim(&s, &n);
        if (!is_json_number(s, n))
            return jw_fail(w, el, MA_ERR_PARSE, "\"%s\" is not a JSON number", excerpt(s, n, ex));
        ma_sb_append(&w->out, s, n);
        return 0;
    }
    case K_BOOLEAN: {
        const char *s;
        size_t n;
        if (jw_text(w, el, &s, &n) < 0) return -1;
        trim(&s, &n);
        if ((n == 4 && !memcmp(s, "true", 4)) || (n == 1 && *s == '1')) ma_sb_append(&w->out, "true", 4);
        else if ((n == 5 && !memcmp(s, "false", 5)) || (n == 1 && *s == '0')) ma_sb_append(&w->out, "false", 5);
        else return jw_fail(w, el, MA_ERR_PARSE, "\"%s\" is not a boolean (true or false)", excerpt(s, n, ex));
        return 0;
    }
    default: { /* K_NULL */
        const char *s;
        size_t n;
        if (jw_text(w, el, &s, &n) < 0) return -1;
        trim(&s, &n);
        if (n) return jw_fail(w, el, MA_ERR_PARSE, "a null must be empty, not \"%s\"", excerpt(s, n, ex));
        ma_sb_append(&w->out, "null", 4);
        return 0;
    }
    }
}

char *ma_xml_to_json(const xmlNode *el, size_t *len, ma_error *err)
{
    jw w;
    memset(&w, 0, sizeof w);
    w.err = err;
    ma_sb_init(&w.out);
    ma_sb_init(&w.tmp);
    ma_sb_init(&w.tmp2);
    int rc = jw_value(&w, el, 0);
    ma_sb_free(&w.tmp);
    ma_sb_free(&w.tmp2);
    free(w.keys);
    if (rc == 0 && w.out.oom) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory converting XML to JSON");
    if (rc < 0) {
        ma_sb_free(&w.out);
        return NULL;
    }
    char *s = ma_sb_take(&w.out, len);
    if (!s) ma_error_set(err, MA_ERR_NOMEM, "out of memory converting XML to JSON");
    return s;
}

/* ---- is it JSON? ------------------------------------------------------------------------ */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

int ma_doc_looks_json(const char *data, size_t len, const char *content_type)
{
    if (content_type) {
        const char *s = content_type;
        while (*s == ' ' || *s == '\t') s++;
        size_t n = strcspn(s, ";");
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
        if (n) { /* an empty content type names nothing: fall back to the data */
            if (n == 16 && ieq(s, "application/json", 16)) return 1;
            const char *slash = memchr(s, '/', n);
            size_t sub = slash ? n - (size_t)(slash + 1 - s) : 0;
            return slash && slash > s && sub > 5 && ieq(s + n - 5, "+json", 5);
        }
    }
    jp j;
    jp_init(&j, data, len, NULL);
    jp_ws(&j);
    if (j.p >= j.end || (*j.p != '{' && *j.p != '[')) return 0;
    return jp_run(&j) == 0 || j.too_deep;
}
