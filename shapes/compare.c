/* compare.c - Decision and Route comparisons (compare.h; boomi-atom-semantics.md 1.5). Java
 * regexes are translated to POSIX extended syntax: \d \w \s \D \W \S, escaped punctuation and
 * character classes are supported; lookaround, backreferences and lazy quantifiers are refused. */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const struct { const char *name; ma_cmp_op op; } ops[] = {
    {"equals", MA_CMP_EQ},          {"notequals", MA_CMP_NE},       {"greaterthan", MA_CMP_GT},
    {"greaterthaneq", MA_CMP_GE},   {"lessthan", MA_CMP_LT},        {"lessthaneq", MA_CMP_LE},
    {"wildcard", MA_CMP_WILDCARD},  {"regex", MA_CMP_REGEX},        {"greaterthanorequal", MA_CMP_GE},
    {"lessthanorequal", MA_CMP_LE},
};

int ma_cmp_parse(const char *name, ma_cmp_op *op, ma_error *err)
{
    for (size_t i = 0; name && i < sizeof ops / sizeof *ops; i++)
        if (strcmp(name, ops[i].name) == 0) {
            *op = ops[i].op;
            return 0;
        }
    return ma_error_set(err, MA_ERR_UNSUPPORTED,
                        "comparison '%s' is not supported (equals, notequals, wildcard, regex, greaterthan, "
                        "greaterthaneq, lessthan, lessthaneq)", name ? name : "");
}

char *ma_regex_from_java(const char *j, int anchor, ma_error *err)
{
    ma_sb b;
    ma_sb_init(&b);
    if (anchor) ma_sb_puts(&b, "^(");
    int in_class = 0;
    for (const char *p = j; *p; p++) {
        if (*p == '\\' && p[1]) {
            char c = *++p;
            const char *rep = NULL;
            switch (c) {
            case 'd': rep = in_class ? "0-9" : "[0-9]"; break;
            case 'D': rep = "[^0-9]"; break;
            case 'w': rep = in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]"; break;
            case 'W': rep = "[^A-Za-z0-9_]"; break;
            case 's': rep = in_class ? " \t\r\n\f\v" : "[ \t\r\n\f\v]"; break;
            case 'S': rep = "[^ \t\r\n\f\v]"; break;
            case 't': rep = "\t"; break;
            case 'n': rep = "\n"; break;
            case 'r': rep = "\r"; break;
            default:
                if (c >= '1' && c <= '9') {
                    ma_sb_free(&b);
                    ma_error_set(err, MA_ERR_UNSUPPORTED, "regex '%s': backreferences are not supported", j);
                    return NULL;
                }
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                    ma_sb_free(&b);
                    ma_error_set(err, MA_ERR_UNSUPPORTED, "regex '%s': \\%c is not supported", j, c);
                    return NULL;
                }
                if (in_class) {
                    /* inside [...] POSIX has no escapes; ']' and '\\' and '-' need care */
                    if (c == ']' || c == '\\' || c == '-' || c == '^') {
                        ma_sb_free(&b);
                        ma_error_set(err, MA_ERR_UNSUPPORTED, "regex '%s': an escaped '%c' inside [...] is not supported", j, c);
                        return NULL;
                    }
                    ma_sb_putc(&b, c);
                } else {
                    ma_sb_putc(&b, '[');
                    ma_sb_putc(&b, c);
                    ma_sb_putc(&b, ']');
                    if (c == '^') { /* [^] is not a class of '^' */
                        b.len -= 3;
                        ma_sb_puts(&b, "\\^");
                    }
                }
                continue;
            }
            ma_sb_puts(&b, rep);
            continue;
        }
        if (!in_class && *p == '(' && p[1] == '?') {
            if (p[2] == ':') { /* non-capturing group: a plain group in POSIX */
                ma_sb_putc(&b, '(');
                p += 2;
                continue;
            }
            ma_sb_free(&b);
            ma_error_set(err, MA_ERR_UNSUPPORTED, "regex '%s': (?...) constructs are not supported", j);
            return NULL;
        }
        if (!in_class && (*p == '*' || *p == '+' || *p == '?' || *p == '}') && (p[1] == '?' || p[1] == '+')) {
            ma_sb_free(&b);
            ma_error_set(err, MA_ERR_UNSUPPORTED, "regex '%s': lazy and possessive quantifiers are not supported", j);
            return NULL;
        }
        if (*p == '[' && !in_class) {
            in_class = 1;
            ma_sb_putc(&b, '[');
            if (p[1] == '^') ma_sb_putc(&b, *++p);
            if (p[1] == ']') ma_sb_putc(&b, *++p);
            continue;
        }
        if (*p == ']' && in_class) in_class = 0;
        if (*p == '.' && !in_class) { /* Java's '.' does not match a line break */
            ma_sb_puts(&b, "[^\n\r]");
            continue;
        }
        ma_sb_putc(&b, *p);
    }
    if (anchor) ma_sb_puts(&b, ")$");
    char *s = ma_sb_take(&b, NULL);
    if (!s) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return s;
}

static int compile_re(regex_t *re, const char *java, ma_error *err)
{
    char *posix = ma_regex_from_java(java, 1, err);
    if (!posix) return -1;
    int rc = regcomp(re, posix, REG_EXTENDED | REG_NOSUB);
    free(posix);
    if (rc != 0) {
        char msg[256];
        regerror(rc, re, msg, sizeof msg);
        return ma_error_set(err, MA_ERR_CONFIG, "regex '%s' is not valid: %s", java, msg);
    }
    return 0;
}

int ma_cmp_init(ma_cmp *c, ma_cmp_op op, const char *static_right, ma_error *err)
{
    memset(c, 0, sizeof *c);
    c->op = op;
    if (op == MA_CMP_REGEX && static_right) {
        if (compile_re(&c->re, static_right, err) < 0) return -1;
        c->have_re = 1;
    }
    return 0;
}

void ma_cmp_free(ma_cmp *c)
{
    if (c->have_re) regfree(&c->re);
    c->have_re = 0;
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
        if (c->have_re) return regexec(&c->re, l, 0, NULL, 0) == 0;
        regex_t re;
        if (compile_re(&re, r, err) < 0) return -1;
        int m = regexec(&re, l, 0, NULL, 0) == 0;
        regfree(&re);
        return m;
    }
    double a, b;
    int cmp;
    if (parse_num(l, &a) && parse_num(r, &b))
        cmp = a < b ? -1 : a > b ? 1 : 0;
    else
        cmp = strcmp(l, r);
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
