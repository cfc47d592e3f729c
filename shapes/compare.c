/* compare.c - Decision and Route comparisons (compare.h; boomi-atom-semantics.md 1.5): numbers or
 * strings, wildcards, and Java regular expressions matching the whole value (Matcher.matches())
 * through miniatom/jregex.h (PCRE2; decision 024). */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Decision comparison / Route qualifier (boomi-process-xml.md 2 "decision"; boomi-integration
 * references/steps/route_step.md); the "...orequal" forms are older mini-Atom spellings */
static const ma_enum ops[] = {
    {"equals", MA_CMP_EQ, 0},
    {"notequals", MA_CMP_NE, 0},
    {"wildcard", MA_CMP_WILDCARD, 0},
    {"regex", MA_CMP_REGEX, 0},
    {"greaterthan", MA_CMP_GT, 0},
    {"greaterthaneq", MA_CMP_GE, 0},
    {"lessthan", MA_CMP_LT, 0},
    {"lessthaneq", MA_CMP_LE, 0},
    {"greaterthanorequal", MA_CMP_GE, MA_ENUM_OLD},
    {"lessthanorequal", MA_CMP_LE, MA_ENUM_OLD},
    {NULL, 0, 0},
};

int ma_cmp_parse(const char *name, ma_cmp_op *op, ma_error *err)
{
    int v;
    if (ma_enum_parse(ops, "comparison", name, 0, MA_ENUM_REQUIRED, &v, err) < 0) return -1;
    *op = (ma_cmp_op)v;
    return 0;
}

int ma_cmp_init(ma_cmp *c, ma_cmp_op op, const char *static_right, ma_error *err)
{
    memset(c, 0, sizeof *c);
    c->op = op;
    if (op == MA_CMP_REGEX && static_right && !(c->re = ma_jregex_compile(static_right, MA_JREGEX_WHOLE, err)))
        return -1;
    return 0;
}

void ma_cmp_free(ma_cmp *c)
{
    ma_jregex_free(c->re);
    c->re = NULL;
}

static int parse_num(const char *s, double *out)
{
    if (!s || !*s) return 0;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return 0;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || errno == ERANGE) return 0;
    while (*end == ' ' || *end == '\t') end++;
    if (*end) return 0;
    if (isnan(d) || isinf(d)) return 0; /* "nan", "inf" are words here, not numbers */
    *out = d;
    return 1;
}

/* * matches any run, ? one character; the whole value must match. */
static int wildcard(const char *s, const char *p)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '?' || (*p && *p == *s)) {
            s++;
            p++;
        } else if (*p == '*') {
            star = p++;
            resume = s;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*') p++;
    return !*p;
}

int ma_cmp_eval(const ma_cmp *c, const char *l, const char *r, ma_error *err)
{
    if (!l) l = "";
    if (!r) r = "";
    if (c->op == MA_CMP_WILDCARD) return wildcard(l, r);
    if (c->op == MA_CMP_REGEX) {
        if (c->re) return ma_jregex_match(c->re, l, strlen(l), err);
        ma_jregex *re = ma_jregex_compile(r, MA_JREGEX_WHOLE, err);
        if (!re) return -1;
        int m = ma_jregex_match(re, l, strlen(l), err);
        ma_jregex_free(re);
        return m;
    }
    double a, b;
    int cmp;
    if (parse_num(l, &a) && parse_num(r, &b)) cmp = a < b ? -1 : a > b ? 1 : 0;
    else cmp = strcmp(l, r);
    switch (c->op) {
    case MA_CMP_EQ: return cmp == 0;
    case MA_CMP_NE: return cmp != 0;
    case MA_CMP_GT: return cmp > 0;
    case MA_CMP_GE: return cmp >= 0;
    case MA_CMP_LT: return cmp < 0;
    case MA_CMP_LE: return cmp <= 0;
    default: return 0;
    }
}
