/* jregex.c - Java regular expressions on PCRE2 (miniatom/jregex.h): the pattern is translated by
 * jregex_java.c, compiled once with pcre2_compile and the JIT (the interpreter when the JIT is not
 * available), in UTF mode where bytes that are not UTF-8 never match. Matching follows Java's
 * Matcher: matches() for whole values, find() and replaceAll() with Java's replacement syntax.
 * Every match runs under limits (match steps, heap, JIT stack) so that a pattern that backtracks
 * without end fails the document instead of spending the CPU. Decision 024. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "miniatom/jregex.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jregex_java.h"

/* Under valgrind the JIT's wide loads past the end of a subject read as uninitialised bytes (false
 * positives, PCRE2 "pcre2jit": build PCRE2 with --enable-valgrind): there the interpreter runs. */
#if defined(__has_include) && !defined(__CPPCHECK__)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define MA_UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef MA_UNDER_VALGRIND
#define MA_UNDER_VALGRIND() 0
#endif

/* Limits of one match. The step limit grows with the subject, so that a long document is not
 * refused for being long: a pattern gets LIMIT_BASE steps plus LIMIT_PER_BYTE per byte. */
#define LIMIT_BASE 10000000u
#define LIMIT_PER_BYTE 20u
#define HEAP_LIMIT_KIB (64u * 1024u)       /* the interpreter's backtracking memory */
#define JIT_STACK_MAX (8u * 1024u * 1024u) /* the JIT's stack, per thread */
#define MAX_GROUPS 1000

struct ma_jregex {
    char *java;
    pcre2_code *code;
    int flags;
    int groups;
};

typedef struct rtoken {
    int group; /* >= 0: a group; -1: text */
    char *text;
    size_t len;
} rtoken;

struct ma_jregex_repl {
    rtoken *t;
    size_t n;
};

/* ---- per-thread match state: a JIT stack, a match context with its limits, match data ---- */

typedef struct tls {
    pcre2_jit_stack *stack;
    pcre2_match_context *mc;
    pcre2_match_data *md;
    uint32_t pairs;
} tls;

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static int tls_ok;

static void tls_free(void *p)
{
    tls *s = p;
    if (!s) return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mc);
    pcre2_jit_stack_free(s->stack);
    free(s);
}

static void tls_init(void) { tls_ok = pthread_key_create(&tls_key, tls_free) == 0; }

static pcre2_jit_stack *jit_stack_cb(void *data) { return ((tls *)data)->stack; }

/* This thread's state with match data for at least pairs pairs; NULL when out of memory. */
static tls *thread_state(uint32_t pairs)
{
    pthread_once(&tls_once, tls_init);
    if (!tls_ok) return NULL;
    tls *s = pthread_getspecific(tls_key);
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) return NULL;
        s->mc = pcre2_match_context_create(NULL);
        s->stack = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX, NULL);
        if (!s->mc || pthread_setspecific(tls_key, s) != 0) {
            tls_free(s);
            return NULL;
        }
        pcre2_set_heap_limit(s->mc, HEAP_LIMIT_KIB);
        if (s->stack) pcre2_jit_stack_assign(s->mc, jit_stack_cb, s);
    }
    if (!s->md || s->pairs < pairs) {
        uint32_t n = pairs < 16 ? 16 : pairs;
        pcre2_match_data *md = pcre2_match_data_create(n, NULL);
        if (!md) return NULL;
        pcre2_match_data_free(s->md);
        s->md = md;
        s->pairs = n;
    }
    return s;
}

/* ---- compiling ---------------------------------------------------------------------------------- */

ma_jregex *ma_jregex_compile(const char *java, int flags, ma_error *err)
{
    if (!java) java = "";
    ma_jregex_pcre tp;
    if (ma_jregex_translate(java, &tp, err) < 0) return NULL;
    if (tp.groups > MAX_GROUPS) {
        ma_jregex_pcre_free(&tp);
        ma_error_set(err, MA_ERR_LIMIT, "regular expression '%.200s': more than %d groups", java, MAX_GROUPS);
        return NULL;
    }
    ma_jregex *re = calloc(1, sizeof *re);
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!re || !cc || !(re->java = ma_strdup(java))) {
        free(re);
        pcre2_compile_context_free(cc);
        ma_jregex_pcre_free(&tp);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    /* Line terminators, case and flags are spelled out by the adapter; LF keeps PCRE2 from
     * treating \r\n specially when it moves on after a failed start. */
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C | PCRE2_NO_UTF_CHECK;
    if (flags & MA_JREGEX_WHOLE) opts |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
    int code;
    PCRE2_SIZE off;
    re->code = pcre2_compile((PCRE2_SPTR)tp.pattern, tp.len, opts, &code, &off, cc);
    pcre2_compile_context_free(cc);
    if (!re->code) {
        PCRE2_UCHAR msg[200];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0) snprintf((char *)msg, sizeof msg, "error %d", code);
        size_t at = ma_jregex_java_index(java, tp.len ? tp.from[off < tp.len ? off : tp.len - 1] : 0);
        if (code == 125 /* lookbehind is not fixed length (10.42: PCRE2_ERROR_LOOKBEHIND_NOT_FIXED_LENGTH) */)
            ma_error_set(err, MA_ERR_UNSUPPORTED,
                         "regular expression '%.200s': a lookbehind whose length varies is not supported (Java "
                         "allows a bounded one, PCRE2 %d.%d needs a fixed length in each alternative) near index %zu",
                         java, PCRE2_MAJOR, PCRE2_MINOR, at);
        else ma_error_set(err, MA_ERR_CONFIG, "regular expression '%.200s': %s near index %zu", java, (char *)msg, at);
        ma_jregex_pcre_free(&tp);
        ma_jregex_free(re);
        return NULL;
    }
    ma_jregex_pcre_free(&tp);
    if (!MA_UNDER_VALGRIND()) (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE); /* else the interpreter */
    re->flags = flags;
    uint32_t n = 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &n);
    re->groups = (int)n;
    return re;
}

void ma_jregex_free(ma_jregex *re)
{
    if (!re) return;
    pcre2_code_free(re->code);
    free(re->java);
    free(re);
}

const char *ma_jregex_pattern(const ma_jregex *re) { return re->java; }
int ma_jregex_groups(const ma_jregex *re) { return re->groups; }

/* ---- matching ----------------------------------------------------------------------------------- */

/* One pcre2_match from start: > 0 matched, 0 no match, -1 with err. */
static int run(const ma_jregex *re, tls *s, const char *str, size_t len, size_t start, ma_error *err)
{
    uint64_t limit = LIMIT_BASE + (uint64_t)LIMIT_PER_BYTE * len;
    pcre2_set_match_limit(s->mc, limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit);
    int rc = pcre2_match(re->code, (PCRE2_SPTR)str, len, start, 0, s->md, s->mc);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
        rc == PCRE2_ERROR_JIT_STACKLIMIT)
        return ma_error_set(err, MA_ERR_LIMIT,
                            "regular expression '%.200s': the match limit was reached on a value of %zu bytes (the "
                            "pattern backtracks too much, as nested quantifiers like (a+)+ do)",
                            re->java, len);
    if (rc == PCRE2_ERROR_NOMEMORY) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    PCRE2_UCHAR msg[200];
    pcre2_get_error_message(rc, msg, sizeof msg);
    return ma_error_set(err, MA_ERR_RUNTIME, "regular expression '%.200s': %s", re->java, (char *)msg);
}

/* Java reads a document's bytes through a UTF-8 decoder that turns each malformed sequence into
 * U+FFFD. When s[0..len) is not valid UTF-8, *copy (malloc'ed, the caller frees it) is s so decoded
 * and re-encoded, and 1 is returned; 0 when s is valid (the common case: an ASCII run is skipped
 * eight bytes at a time); -1 when out of memory. Matching the copy gives both PCRE2 engines (JIT and
 * interpreter) Java's answer. */
static int java_decoded(const char *s, size_t len, char **copy, size_t *copy_len)
{
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        unsigned cp;
        size_t l = ma_utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (!l) break;
        i += l;
    }
    if (i >= len) return 0;
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_append(&b, s, i);
    while (i < len) {
        unsigned cp;
        size_t l = ma_utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (l) ma_sb_append(&b, s + i, l);
        else ma_sb_append(&b, "\xEF\xBF\xBD", 3);
        i += l ? l : 1;
    }
    if (b.oom) {
        ma_sb_free(&b);
        return -1;
    }
    *copy = ma_sb_take(&b, copy_len);
    return *copy ? 1 : -1;
}

int ma_jregex_match(const ma_jregex *re, const char *s, size_t len, ma_error *err)
{
    tls *st = thread_state(1);
    if (!st) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (!s) s = "", len = 0;
    char *copy = NULL;
    size_t clen = 0;
    int d = java_decoded(s, len, &copy, &clen);
    if (d < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    int rc = d ? run(re, st, copy, clen, 0, err) : run(re, st, s, len, 0, err);
    free(copy);
    return rc;
}

int ma_jregex_find(const ma_jregex *re, const char *s, size_t len, size_t start, size_t *ov, int n, ma_error *err)
{
    tls *st = thread_state((uint32_t)re->groups + 1);
    if (!st) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (!s) s = "", len = 0;
    if (start > len) return 0;
    int m = run(re, st, s, len, start, err);
    if (m <= 0) return m;
    PCRE2_SIZE *o = pcre2_get_ovector_pointer(st->md);
    for (int k = 0; k < n; k++) {
        int have = k <= re->groups && o[2 * k] != PCRE2_UNSET;
        ov[2 * k] = have ? o[2 * k] : (size_t)-1;
        ov[2 * k + 1] = have ? o[2 * k + 1] : (size_t)-1;
    }
    return 1;
}

/* ---- replacement -------------------------------------------------------------------------------- */

void ma_jregex_repl_free(ma_jregex_repl *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) free(r->t[i].text);
    free(r->t);
    free(r);
}

static int repl_add(ma_jregex_repl *r, int group, ma_sb *lit)
{
    rtoken *t = realloc(r->t, (r->n + 1) * sizeof *t);
    if (!t) return -1;
    r->t = t;
    t[r->n].group = group;
    t[r->n].text = NULL;
    t[r->n].len = 0;
    if (group < 0 && !(t[r->n].text = ma_sb_take(lit, &t[r->n].len))) return -1;
    r->n++;
    return 0;
}

ma_jregex_repl *ma_jregex_repl_compile(const ma_jregex *re, const char *s, ma_error *err)
{
    ma_jregex_repl *r = calloc(1, sizeof *r);
    if (!r) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ma_sb lit;
    ma_sb_init(&lit);
    const char *why = NULL;
    char whybuf[160];
    for (const char *p = s ? s : ""; *p && !why;) {
        if (*p == '\\') {
            if (!p[1]) {
                why = "character to be escaped is missing (a lone '\\' at the end)";
                break;
            }
            ma_sb_putc(&lit, p[1]);
            p += 2;
            continue;
        }
        if (*p != '$') {
            ma_sb_putc(&lit, *p++);
            continue;
        }
        p++;
        int g;
        if (!*p) {
            why = "Illegal group reference: group index is missing (write \\$ for a dollar)";
            break;
        }
        if (*p == '{') {
            const char *n = ++p;
            while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) p++;
            if (p == n) why = "named capturing group has 0 length name";
            else if (*p != '}') why = "named capturing group is missing trailing '}'";
            else if (*n >= '0' && *n <= '9') why = "capturing group name starts with digit character";
            if (why) break;
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(p - n), n);
            g = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)name);
            if (g < 0) {
                snprintf(whybuf, sizeof whybuf, "No group with name {%s}", name);
                why = whybuf;
                break;
            }
            p++;
        } else {
            if (*p < '0' || *p > '9') {
                why = "Illegal group reference (write \\$ for a dollar)";
                break;
            }
            g = *p++ - '0';
            while (*p >= '0' && *p <= '9' && g * 10 + (*p - '0') <= re->groups) g = g * 10 + (*p++ - '0');
            if (g > re->groups) {
                snprintf(whybuf, sizeof whybuf, "No group %d (the expression has %d)", g, re->groups);
                why = whybuf;
                break;
            }
        }
        if ((lit.len && repl_add(r, -1, &lit) < 0) || repl_add(r, g, NULL) < 0) {
            ma_sb_free(&lit);
            ma_jregex_repl_free(r);
            ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            return NULL;
        }
    }
    if (!why && lit.len && repl_add(r, -1, &lit) < 0) lit.oom = 1;
    if (why || lit.oom) {
        ma_sb_free(&lit);
        ma_jregex_repl_free(r);
        if (why) ma_error_set(err, MA_ERR_CONFIG, "replacement '%.200s': %s", s, why);
        else ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ma_sb_free(&lit);
    return r;
}

/* The length of the character at s (1 for a byte that does not start UTF-8). */
static size_t char_len(const char *s, size_t n)
{
    unsigned cp;
    size_t l = ma_utf8_decode((const unsigned char *)s, n, &cp);
    return l ? l : 1;
}

static int replace_valid(const ma_jregex *re, const ma_jregex_repl *repl, const char *s, size_t len, ma_sb *out,
                         size_t max_out, ma_error *err);

int ma_jregex_replace(const ma_jregex *re, const ma_jregex_repl *repl, const char *s, size_t len, ma_sb *out,
                      size_t max_out, ma_error *err)
{
    if (!s) s = "", len = 0;
    char *copy = NULL;
    size_t clen = 0;
    int d = java_decoded(s, len, &copy, &clen);
    if (d < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    int rc =
        d ? replace_valid(re, repl, copy, clen, out, max_out, err) : replace_valid(re, repl, s, len, out, max_out, err);
    free(copy);
    return rc;
}

/* ma_jregex_replace on s that is valid UTF-8. */
static int replace_valid(const ma_jregex *re, const ma_jregex_repl *repl, const char *s, size_t len, ma_sb *out,
                         size_t max_out, ma_error *err)
{
    tls *st = thread_state((uint32_t)re->groups + 1);
    if (!st) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    size_t pos = 0, copied = 0, base = out->len;
    while (pos <= len) {
        int m = run(re, st, s, len, pos, err);
        if (m < 0) return -1;
        if (m == 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(st->md);
        size_t so = ov[0], eo = ov[1];
        ma_sb_append(out, s + copied, so - copied);
        for (size_t i = 0; i < repl->n; i++) {
            const rtoken *t = &repl->t[i];
            if (t->group < 0) ma_sb_append(out, t->text, t->len);
            else if (ov[2 * t->group] != PCRE2_UNSET)
                ma_sb_append(out, s + ov[2 * t->group], ov[2 * t->group + 1] - ov[2 * t->group]);
        }
        copied = eo;
        if (out->oom) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        if (out->len - base > max_out)
            return ma_error_set(err, MA_ERR_LIMIT, "the result of the replacement is larger than %zu bytes", max_out);
        if (eo == so) { /* an empty match: the next search starts one character further */
            if (so >= len) break;
            pos = so + char_len(s + so, len - so);
        } else {
            pos = eo;
        }
    }
    ma_sb_append(out, s + copied, len - copied);
    if (out->oom) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (out->len - base > max_out)
        return ma_error_set(err, MA_ERR_LIMIT, "the result of the replacement is larger than %zu bytes", max_out);
    return 0;
}
