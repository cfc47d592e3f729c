/* util.c - string buffer (with JSON output: the one JSON string escaper), allocation, file, UTF-8
 * and libxml2 helpers shared by the runtime and plugins (util.h, miniatom/helpers.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "util.h"

#include "miniatom/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void ma_sb_init(ma_sb *b) { memset(b, 0, sizeof *b); }
void ma_sb_free(ma_sb *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}
void ma_sb_reset(ma_sb *b)
{
    b->len = 0;
    if (b->s) b->s[0] = '\0';
}

static int sb_grow(ma_sb *b, size_t extra)
{
    if (b->oom) return -1;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256; /* most buffers are a JSON or XML text of a few hundred bytes */
    while (cap < need) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

int ma_sb_append(ma_sb *b, const char *s, size_t n)
{
    if (sb_grow(b, n) < 0) return -1;
    if (n) memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

int ma_sb_puts(ma_sb *b, const char *s) { return ma_sb_append(b, s ? s : "", s ? strlen(s) : 0); }
int ma_sb_putc(ma_sb *b, char c)
{
    if (b->len + 2 > b->cap || b->oom) return ma_sb_append(b, &c, 1);
    b->s[b->len++] = c;
    b->s[b->len] = '\0';
    return 0;
}

int ma_sb_printf(ma_sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sb_grow(b, (size_t)n) < 0) return -1;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

size_t ma_strlcpy(char *dst, const char *src, size_t n)
{
    size_t l = strnlen(src, n - 1);
    memcpy(dst, src, l);
    dst[l] = '\0';
    return l;
}

char *ma_sb_take(ma_sb *b, size_t *len)
{
    if (b->oom) {
        ma_sb_free(b);
        return NULL;
    }
    char *s = b->s;
    if (!s) s = calloc(1, 1);
    if (len) *len = b->len;
    memset(b, 0, sizeof *b);
    return s;
}

/* What ma_sb_json_escape does with each byte: 0 copies it, 1 escapes it (controls, '"', '\\', DEL),
 * 2 checks the UTF-8 sequence it starts (U+0080-U+009F and U+2028/U+2029 are escaped, a byte that
 * does not start valid UTF-8 becomes U+FFFD). */
static const unsigned char json_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x40 '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, /* 0x60 DEL */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};

/* The first byte at or after s[i] that ma_sb_json_escape must look at (json_esc), or n: eight bytes
 * at a time, then one by one. In a word that holds such bytes, the lowest flagged byte is the first
 * of them (a borrow or carry only flags bytes above the one that caused it). */
static inline size_t json_plain_run(const unsigned char *s, size_t i, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    if (i < n && json_esc[s[i]]) return i; /* the next character of non-ASCII text */
    while (n - i >= 8) {
        uint64_t w, q, b;
        memcpy(&w, s + i, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        /* a byte >= 0x80, one < 0x20, DEL (adding 1 sets its high bit), a zero byte in q or in b */
        uint64_t m = (w | (w + ones) | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
        if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + ((size_t)__builtin_ctzll(m) >> 3);
#else
            break;
#endif
        }
        i += 8;
    }
    while (i < n && !json_esc[s[i]]) i++;
    return i;
}

int ma_sb_json_escape(ma_sb *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* the escapes of the ASCII bytes json_esc marks: a letter after '\\', or 0 for \u00XX */
    static const char short_esc[128] = {
        ['"'] = '"', ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0, i = 0; /* s[run..i) needs no escape: it is copied in one piece */
    for (;;) {
        i = json_plain_run(s, i, n);
        if (i >= n) break;
        unsigned c = s[i], cp = c;
        size_t adv = 1;
        if (c >= 0x80) { /* multi-byte characters are kept as they are, but for a few */
            while ((adv = ma_utf8_decode_inline(s + i, n - i, &cp)) && cp > 0x9F && cp != 0x2028 && cp != 0x2029) {
                i += adv;
                if (i >= n || s[i] < 0x80) break;
            }
            if (i >= n || s[i] < 0x80) continue;
        }
        if (i > run) ma_sb_append(b, str + run, i - run);
        if (!adv) {
            ma_sb_lit(b, "\\ufffd"); /* not UTF-8: U+FFFD, the byte is dropped */
            adv = 1;
        } else if (c < 0x80 && short_esc[c]) {
            char e[2] = {'\\', short_esc[c]};
            ma_sb_append(b, e, 2);
        } else {
            char u[6] = {'\\', 'u', hex[cp >> 12], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15], hex[cp & 15]};
            ma_sb_append(b, u, 6);
        }
        i += adv;
        run = i;
    }
    if (n > run) ma_sb_append(b, str + run, n - run);
    return b->oom ? -1 : 0;
}

const char *ma_real_text(double d, char *buf, size_t n)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) break;
    }
    return buf;
}

int ma_sb_json_real(ma_sb *b, double d)
{
    char tmp[40];
    ma_real_text(d, tmp, sizeof tmp);
    ma_sb_puts(b, tmp);
    if (!strpbrk(tmp, ".eEn")) ma_sb_puts(b, ".0"); /* still a real when read back */
    return b->oom ? -1 : 0;
}

static void json_put(ma_sb *b, const json_t *v, int depth)
{
    if (depth > 4096) return;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        ma_sb_putc(b, '{');
        const char *k;
        json_t *x;
        int first = 1;
        json_object_foreach ((json_t *)v, k, x) {
            if (!first) ma_sb_putc(b, ',');
            first = 0;
            ma_sb_putc(b, '"');
            ma_sb_json_escape(b, k, strlen(k));
            ma_sb_puts(b, "\":");
            json_put(b, x, depth + 1);
        }
        ma_sb_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        ma_sb_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) ma_sb_putc(b, ',');
            json_put(b, json_array_get(v, i), depth + 1);
        }
        ma_sb_putc(b, ']');
        break;
    }
    case JSON_STRING:
        ma_sb_putc(b, '"');
        ma_sb_json_escape(b, json_string_value(v), json_string_length(v));
        ma_sb_putc(b, '"');
        break;
    case JSON_INTEGER: ma_sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: ma_sb_json_real(b, json_real_value(v)); break;
    case JSON_TRUE: ma_sb_puts(b, "true"); break;
    case JSON_FALSE: ma_sb_puts(b, "false"); break;
    case JSON_NULL: ma_sb_puts(b, "null"); break;
    }
}

int ma_sb_json_value(ma_sb *b, const json_t *v)
{
    json_put(b, v, 0);
    return b->oom ? -1 : 0;
}

char *ma_strdup(const char *s) { return s ? strdup(s) : NULL; }
char *ma_strndup(const char *s, size_t n) { return s ? strndup(s, n) : NULL; }

char *ma_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

int ma_streq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

int ma_str_has_prefix(const char *s, const char *p) { return s && p && strncmp(s, p, strlen(p)) == 0; }

int ma_str_has_suffix(const char *s, const char *x)
{
    if (!s || !x) return 0;
    size_t a = strlen(s), b = strlen(x);
    return a >= b && memcmp(s + a - b, x, b) == 0;
}

char *ma_read_file(const char *path, size_t max, size_t *len, ma_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ma_error_set(err, MA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ma_error_set(err, MA_ERR_IO, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > max) {
        ma_error_set(err, MA_ERR_LIMIT, "%s: %lld bytes is larger than the limit of %zu bytes", path,
                     (long long)st.st_size, max);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        ma_error_set(err, MA_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    for (;;) {
        /* a regular file is read as large as it was when opened (no read more to see its end); a
         * size of 0 may mean nothing (/proc), so those are read to their end */
        if (st.st_size > 0 && n == (size_t)st.st_size) break;
        if (n + 1 >= cap) {
            if (cap > max + 1) break;
            size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                close(fd);
                ma_error_set(err, MA_ERR_NOMEM, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            ma_error_set(err, MA_ERR_IO, "%s: read failed: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        free(buf);
        ma_error_set(err, MA_ERR_LIMIT, "%s: larger than the limit of %zu bytes", path, max);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int ma_write_file(const char *path, const void *data, size_t len, ma_error *err)
{
    char *tmp = ma_asprintf("%s.tmp.%ld", path, (long)getpid());
    if (!tmp) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ma_error_set(err, MA_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            ma_error_set(err, MA_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        ma_error_set(err, MA_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int ma_mkdirs(const char *path, ma_error *err)
{
    char *p = ma_strdup(path);
    if (!p) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                ma_error_set(err, MA_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
                free(p);
                return -1;
            }
            *s = c;
            if (!c) break;
        }
    }
    free(p);
    return 0;
}

char *ma_xml_attr(const xmlNode *n, const char *name)
{
    if (!n) return NULL;
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v) return NULL;
    char *s = strdup((const char *)v);
    xmlFree(v);
    return s;
}

int ma_xml_attr_is(const xmlNode *n, const char *name, const char *value)
{
    char *v = ma_xml_attr(n, name);
    int r = v && strcmp(v, value) == 0;
    free(v);
    return r;
}

int ma_xml_is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && (!name || strcmp((const char *)n->name, name) == 0);
}

const char *ma_xml_name(const xmlNode *n) { return n ? (const char *)n->name : NULL; }

xmlNode *ma_xml_parent(const xmlNode *n)
{
    xmlNode *p = n ? n->parent : NULL;
    return p && p->type == XML_ELEMENT_NODE ? p : NULL;
}

xmlNode *ma_xml_child(const xmlNode *n, const char *name)
{
    if (!n) return NULL;
    for (xmlNode *c = n->children; c; c = c->next)
        if (ma_xml_is(c, name)) return c;
    return NULL;
}

xmlNode *ma_xml_next(const xmlNode *n, const char *name)
{
    if (!n) return NULL;
    for (xmlNode *c = n->next; c; c = c->next)
        if (ma_xml_is(c, name)) return c;
    return NULL;
}

char *ma_xml_text(const xmlNode *n)
{
    if (!n) return strdup("");
    xmlChar *t = xmlNodeGetContent(n);
    char *s = strdup(t ? (const char *)t : "");
    xmlFree(t);
    return s;
}

xmlDoc *ma_xml_parse(const char *buf, size_t len, const char *name, ma_error *err)
{
    if (len > (size_t)INT32_MAX) {
        ma_error_set(err, MA_ERR_LIMIT, "%s: too large to parse", name);
        return NULL;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL, MA_XML_PARSE_FLAGS);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        if (e && e->message) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", e->message);
            size_t l = strlen(msg);
            while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' ')) msg[--l] = '\0';
            ma_error_set(err, MA_ERR_PARSE, "%s:%d: not well-formed XML: %s", name, e->line, msg);
        } else {
            ma_error_set(err, MA_ERR_PARSE, "%s: not well-formed XML", name);
        }
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (doc->intSubset && doc->intSubset->entities) {
        ma_error_set(err, MA_ERR_PARSE, "%s: a DOCTYPE that declares entities is not accepted", name);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

uint64_t ma_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Random bytes for ids come from getrandom(2) RANDOM_BATCH at a time, kept per thread: one system
 * call serves 16 ids. */
#define RANDOM_BATCH 256
static void random_bytes(unsigned char *b, size_t n)
{
    static _Thread_local unsigned char pool[RANDOM_BATCH];
    static _Thread_local size_t left;
    while (n) {
        if (!left) {
            size_t got = 0;
            while (got < sizeof pool) {
                ssize_t r = getrandom(pool + got, sizeof pool - got, 0);
                if (r <= 0) {
                    /* fall back to time-seeded bytes; uniqueness, not secrecy, is what ids need */
                    uint64_t t = ma_now_ns() ^ (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&left;
                    for (; got < sizeof pool; got++) {
                        t = t * 6364136223846793005ULL + 1442695040888963407ULL;
                        pool[got] = (unsigned char)(t >> 56);
                    }
                    break;
                }
                got += (size_t)r;
            }
            left = sizeof pool;
        }
        size_t k = n < left ? n : left;
        memcpy(b, pool + sizeof pool - left, k);
        memset(pool + sizeof pool - left, 0, k); /* a byte is handed out once */
        left -= k;
        b += k;
        n -= k;
    }
}

void ma_uuid4(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char *o = out;
    for (int i = 0; i < 16; i++) { /* 8-4-4-4-12 hex digits */
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
}

void ma_strings_free(char **s, size_t n)
{
    if (!s) return;
    for (size_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

size_t ma_utf8_decode(const unsigned char *p, size_t left, unsigned *cp) { return ma_utf8_decode_inline(p, left, cp); }

int ma_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++) d |= (unsigned char)(x[i] ^ y[i]);
    return d == 0;
}

void ma_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--) *v++ = 0;
}

int ma_sb_json_str(ma_sb *b, const char *s)
{
    ma_sb_putc(b, '"');
    if (s) ma_sb_json_escape(b, s, strlen(s));
    ma_sb_putc(b, '"');
    return b->oom ? -1 : 0;
}

/* Entries are kept as their kind ('d', 'f', '?') followed by their name, sorted by name. */
static int cmp_entry(const void *a, const void *b) { return strcmp(*(char *const *)a + 1, *(char *const *)b + 1); }

int ma_dir_list_kinds(const char *dir, const char *suffix, size_t max, char ***names, char **kinds, size_t *n,
                      ma_error *err)
{
    *names = NULL;
    *n = 0;
    if (kinds) *kinds = NULL;
    DIR *d = opendir(dir);
    if (!d) return ma_error_set(err, MA_ERR_IO, "%s: cannot open the folder: %s", dir, strerror(errno));
    char **v = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || (suffix && !ma_str_has_suffix(e->d_name, suffix))) continue;
        if (len == max) {
            rc = ma_error_set(err, MA_ERR_LIMIT, "%s: more than %zu entries", dir, max);
            break;
        }
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        char kind = e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f' : '?';
        if (!(v[len] = ma_asprintf("%c%s", kind, e->d_name))) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            break;
        }
        len++;
    }
    closedir(d);
    if (rc == 0 && kinds && len && !(*kinds = malloc(len))) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (rc < 0) {
        ma_strings_free(v, len);
        return -1;
    }
    if (len) qsort(v, len, sizeof *v, cmp_entry);
    for (size_t i = 0; i < len; i++) {
        if (kinds) (*kinds)[i] = v[i][0];
        memmove(v[i], v[i] + 1, strlen(v[i]));
    }
    *names = v;
    *n = len;
    return 0;
}

int ma_dir_list(const char *dir, const char *suffix, size_t max, char ***names, size_t *n, ma_error *err)
{
    return ma_dir_list_kinds(dir, suffix, max, names, NULL, n, err);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP) rmdir(path);
    else unlink(path);
    return 0;
}

void ma_remove_tree(const char *path)
{
    if (path && *path) nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
