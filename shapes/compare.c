/* compare.c - Decision and Route comparisons (compare.h; boomi-atom-semantics.md 1.5), and the
 * translation of Java regexes to POSIX extended ones that they share with the Data Process
 * shape's Search/Replace (what is supported and refused: compare.h). Relies on glibc regex for
 * \b \B and backreferences in extended syntax. */
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

/* ---- Java regex -> POSIX ERE ----------------------------------------------------------------- */

typedef struct rx {
    const char *p; /* current position in the Java pattern */
    const char *start;
    int flags; /* MA_RX_* */
    ma_sb out;
    int dotall;
    int ngroups;                   /* POSIX groups opened so far */
    int java_groups;               /* Java capturing groups so far */
    int map[MA_RX_MAX_GROUPS + 1]; /* Java group -> POSIX group */
    ma_error *err;
} rx;

static int rx_unsupported(rx *r, const char *what)
{
    return ma_error_set(r->err, MA_ERR_UNSUPPORTED, "regular expression '%s': %s is not supported (POSIX regex)",
                        r->start, what);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_utf8(ma_sb *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    ma_sb_append(b, u, n);
}

/* Reads a character escape after the backslash (r->p at the letter). Returns 1 with the bytes in
 * *lit (a literal), 0 when it is not a character escape, -1 on error. */
static int rx_char_escape(rx *r, ma_sb *lit)
{
    char c = *r->p;
    unsigned long v = 0;
    switch (c) {
    case 't':
        ma_sb_putc(lit, '\t');
        r->p++;
        return 1;
    case 'n':
        ma_sb_putc(lit, '\n');
        r->p++;
        return 1;
    case 'r':
        ma_sb_putc(lit, '\r');
        r->p++;
        return 1;
    case 'f':
        ma_sb_putc(lit, '\f');
        r->p++;
        return 1;
    case 'a':
        ma_sb_putc(lit, '\a');
        r->p++;
        return 1;
    case 'e':
        ma_sb_putc(lit, 0x1b);
        r->p++;
        return 1;
    case '0': {
        r->p++;
        int k = 0;
        while (k < 3 && *r->p >= '0' && *r->p <= '7') {
            v = v * 8 + (unsigned long)(*r->p - '0');
            r->p++;
            k++;
        }
        if (!k || v == 0 || v > 0xFF) return rx_unsupported(r, "this octal escape");
        ma_sb_putc(lit, (char)v);
        return 1;
    }
    case 'x': {
        r->p++;
        if (*r->p == '{') {
            r->p++;
            int k = 0;
            while (hexval(*r->p) >= 0 && k < 6) {
                v = v * 16 + (unsigned long)hexval(*r->p);
                r->p++;
                k++;
            }
            if (*r->p != '}' || !k) return rx_unsupported(r, "this \\x{...} escape");
            r->p++;
        } else {
            if (hexval(r->p[0]) < 0 || hexval(r->p[1]) < 0) return rx_unsupported(r, "this \\x escape");
            v = (unsigned long)(hexval(r->p[0]) * 16 + hexval(r->p[1]));
            r->p += 2;
        }
        if (v == 0 || v > 0x10FFFF) return rx_unsupported(r, "a NUL or out of range character");
        put_utf8(lit, v);
        return 1;
    }
    case 'u': {
        r->p++;
        for (int k = 0; k < 4; k++) {
            if (hexval(r->p[k]) < 0) return rx_unsupported(r, "this \\u escape");
            v = v * 16 + (unsigned long)hexval(r->p[k]);
        }
        r->p += 4;
        if (v == 0) return rx_unsupported(r, "a NUL character");
        put_utf8(lit, v);
        return 1;
    }
    case 'c':
        if (!r->p[1]) return rx_unsupported(r, "a trailing \\c");
        if ((r->p[1] ^ 64) == 0) return rx_unsupported(r, "a NUL character");
        ma_sb_putc(lit, (char)(r->p[1] ^ 64));
        r->p += 2;
        return 1;
    default:
        if (c && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            ma_sb_putc(lit, c); /* escaped punctuation: itself */
            r->p++;
            return 1;
        }
        return 0;
    }
}

/* Emits literal bytes outside brackets, escaping what POSIX ERE treats specially. */
static void rx_put_literal(rx *r, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (strchr(".[()*+?{|^$\\", c)) {
            ma_sb_putc(&r->out, '\\');
            ma_sb_putc(&r->out, c);
        } else if (c == ']' || c == '}') {
            ma_sb_putc(&r->out, '[');
            ma_sb_putc(&r->out, c);
            ma_sb_putc(&r->out, ']');
        } else {
            ma_sb_putc(&r->out, c);
        }
    }
}

/* A [...] class; r->p just after '['. */
static int rx_class(rx *r)
{
    int neg = 0, rbr = 0, lbr = 0, caret = 0, dash = 0;
    ma_sb body;
    ma_sb_init(&body);
    if (*r->p == '^') {
        neg = 1;
        r->p++;
    }
    int first = 1;
    for (;;) {
        char c = *r->p;
        if (!c) {
            ma_sb_free(&body);
            return ma_error_set(r->err, MA_ERR_CONFIG, "regular expression '%s': unclosed [", r->start);
        }
        if (c == ']' && !first) {
            r->p++;
            break;
        }
        if (c == ']') { /* a ']' right after '[' is a member, as in POSIX */
            rbr = 1;
            r->p++;
            first = 0;
            continue;
        }
        if (c == '[') {
            ma_sb_free(&body);
            return rx_unsupported(r, "a nested character class");
        }
        if (c == '&' && r->p[1] == '&') {
            ma_sb_free(&body);
            return rx_unsupported(r, "class intersection (&&)");
        }
        if (c == '\\') {
            r->p++;
            char e = *r->p;
            if (e == 'd') {
                ma_sb_puts(&body, "0-9");
                r->p++;
            } else if (e == 'w') {
                ma_sb_puts(&body, "A-Za-z0-9_");
                r->p++;
            } else if (e == 's') {
                ma_sb_puts(&body, " \t\n\r\f\v");
                r->p++;
            } else if (e == 'D' || e == 'W' || e == 'S') {
                ma_sb_free(&body);
                return rx_unsupported(r, "\\D, \\W or \\S inside []");
            } else if (e == 'Q' || e == 'p' || e == 'P') {
                ma_sb_free(&body);
                return rx_unsupported(r, "\\Q, \\p or \\P inside []");
            } else {
                ma_sb lit;
                ma_sb_init(&lit);
                int k = rx_char_escape(r, &lit);
                if (k <= 0) {
                    ma_sb_free(&lit);
                    ma_sb_free(&body);
                    return k < 0 ? -1 : rx_unsupported(r, "this escape inside []");
                }
                for (size_t i = 0; i < lit.len; i++) {
                    char l = lit.s[i];
                    if ((unsigned char)l >= 0x80) {
                        ma_sb_free(&lit);
                        ma_sb_free(&body);
                        return rx_unsupported(r, "a non-ASCII escape inside []");
                    }
                    if (l == ']') rbr = 1;
                    else if (l == '[') lbr = 1;
                    else if (l == '^') caret = 1;
                    else if (l == '-') dash = 1;
                    else ma_sb_putc(&body, l);
                }
                ma_sb_free(&lit);
            }
            first = 0;
            continue;
        }
        if (c == '-' && (first || r->p[1] == ']')) {
            dash = 1;
        } else if (c == '^') {
            caret = 1;
        } else {
            ma_sb_putc(&body, c);
        }
        r->p++;
        first = 0;
    }
    if (!body.len && !rbr && !lbr && !dash && caret && !neg) {
        ma_sb_puts(&r->out, "\\^");
        ma_sb_free(&body);
        return 0;
    }
    ma_sb_putc(&r->out, '[');
    if (neg) ma_sb_putc(&r->out, '^');
    if (rbr) ma_sb_putc(&r->out, ']');
    if (body.len) ma_sb_append(&r->out, body.s, body.len);
    if (lbr) ma_sb_putc(&r->out, '[');
    if (caret) {
        if (!neg && !rbr && !body.len && !lbr) { /* "[^-]" would negate: write "[-^]" */
            ma_sb_puts(&r->out, "-^");
            dash = 0;
        } else {
            ma_sb_putc(&r->out, '^');
        }
    }
    if (dash) ma_sb_putc(&r->out, '-');
    ma_sb_putc(&r->out, ']');
    ma_sb_free(&body);
    return 0;
}

/* Translates r->start into r->out; *cflags gets REG_ICASE / REG_NEWLINE from leading flags. */
static int rx_translate(rx *r, int *cflags)
{
    /* leading inline flags */
    while (r->p[0] == '(' && r->p[1] == '?' && strchr("ismx-", r->p[2])) {
        const char *q = r->p + 2;
        int on = 1, icase = 0, dotall = 0, multi = 0;
        while (*q && *q != ')') {
            if (*q == '-') on = 0;
            else if (*q == 'i') icase = on;
            else if (*q == 's') dotall = on;
            else if (*q == 'm') multi = on;
            else return rx_unsupported(r, "this inline flag");
            q++;
        }
        if (*q != ')') return rx_unsupported(r, "a scoped inline flag group");
        /* REG_NEWLINE would let the whole-value anchors match at line breaks */
        if (multi && (r->flags & MA_RX_WHOLE)) return rx_unsupported(r, "(?m) in a whole-value match");
        if (icase) *cflags |= REG_ICASE;
        if (dotall) r->dotall = 1;
        if (multi) *cflags |= REG_NEWLINE;
        r->p = q + 1;
    }
    int after_atom = 0; /* a quantifier may follow */
    while (*r->p) {
        char c = *r->p;
        if (c == '\\') {
            r->p++;
            char e = *r->p;
            after_atom = 1;
            switch (e) {
            case 'd':
                ma_sb_puts(&r->out, "[0-9]");
                r->p++;
                continue;
            case 'D':
                ma_sb_puts(&r->out, "[^0-9]");
                r->p++;
                continue;
            case 'w':
                ma_sb_puts(&r->out, "[A-Za-z0-9_]");
                r->p++;
                continue;
            case 'W':
                ma_sb_puts(&r->out, "[^A-Za-z0-9_]");
                r->p++;
                continue;
            case 's':
                ma_sb_puts(&r->out, "[ \t\n\r\f\v]");
                r->p++;
                continue;
            case 'S':
                ma_sb_puts(&r->out, "[^ \t\n\r\f\v]");
                r->p++;
                continue;
            case 'b':
                ma_sb_puts(&r->out, "\\b");
                r->p++;
                after_atom = 0;
                continue;
            case 'B':
                ma_sb_puts(&r->out, "\\B");
                r->p++;
                after_atom = 0;
                continue;
            case 'A':
                ma_sb_puts(&r->out, "^");
                r->p++;
                after_atom = 0;
                continue;
            case 'z':
            case 'Z':
                ma_sb_puts(&r->out, "$");
                r->p++;
                after_atom = 0;
                continue;
            case 'Q': {
                r->p++;
                const char *end = strstr(r->p, "\\E");
                size_t n = end ? (size_t)(end - r->p) : strlen(r->p);
                rx_put_literal(r, r->p, n);
                r->p += n + (end ? 2 : 0);
                continue;
            }
            case 'E': r->p++; continue;
            case 'p':
            case 'P': return rx_unsupported(r, "\\p{...} classes");
            case 'k': return rx_unsupported(r, "named backreferences");
            case 'G': return rx_unsupported(r, "\\G");
            case 'R':
            case 'X':
            case 'h':
            case 'H':
            case 'v':
            case 'V': return rx_unsupported(r, "this escape");
            default: break;
            }
            if (e >= '1' && e <= '9') {
                if (!(r->flags & MA_RX_CAPTURE))
                    return ma_error_set(r->err, MA_ERR_UNSUPPORTED,
                                        "regular expression '%s': backreferences are not supported", r->start);
                int g = e - '0';
                if (g > r->java_groups)
                    return ma_error_set(r->err, MA_ERR_CONFIG,
                                        "regular expression '%s': backreference \\%d to a group that does not exist",
                                        r->start, g);
                if (r->map[g] > 9) return rx_unsupported(r, "a backreference past group 9");
                ma_sb_printf(&r->out, "\\%d", r->map[g]);
                r->p++;
                continue;
            }
            ma_sb lit;
            ma_sb_init(&lit);
            int k = rx_char_escape(r, &lit);
            if (k <= 0) {
                ma_sb_free(&lit);
                if (k < 0) return -1;
                char what[32];
                snprintf(what, sizeof what, "the escape \\%c", e ? e : ' ');
                return rx_unsupported(r, what);
            }
            rx_put_literal(r, lit.s, lit.len);
            ma_sb_free(&lit);
            continue;
        }
        if (c == '[') {
            r->p++;
            if (rx_class(r) < 0) return -1;
            after_atom = 1;
            continue;
        }
        if (c == '(') {
            if ((r->flags & MA_RX_CAPTURE) && r->ngroups >= MA_RX_MAX_GROUPS)
                return ma_error_set(r->err, MA_ERR_LIMIT, "regular expression '%s': more than %d groups", r->start,
                                    MA_RX_MAX_GROUPS);
            if (r->p[1] == '?') {
                if (r->p[2] != ':') {
                    if (r->p[2] == '=' || r->p[2] == '!') return rx_unsupported(r, "lookahead");
                    if (r->p[2] == '<' && (r->p[3] == '=' || r->p[3] == '!')) return rx_unsupported(r, "lookbehind");
                    if (r->p[2] == '<') return rx_unsupported(r, "a named group");
                    if (r->p[2] == '>') return rx_unsupported(r, "an atomic group");
                    return rx_unsupported(r, "an inline flag inside the expression");
                }
                r->p += 3; /* (?: -> a POSIX group that Java does not number */
                r->ngroups++;
            } else {
                r->p++;
                r->ngroups++;
                r->java_groups++;
                if (r->java_groups <= MA_RX_MAX_GROUPS) r->map[r->java_groups] = r->ngroups;
            }
            ma_sb_putc(&r->out, '(');
            after_atom = 0;
            continue;
        }
        if (c == '*' || c == '+' || c == '?' || c == '{') {
            if (c == '{' && !(r->p[1] >= '0' && r->p[1] <= '9')) { /* a literal brace */
                ma_sb_puts(&r->out, "\\{");
                r->p++;
                after_atom = 1;
                continue;
            }
            const char *q = r->p + 1;
            if (c == '{') {
                while (*q && *q != '}') q++;
                if (!*q) return ma_error_set(r->err, MA_ERR_CONFIG, "regular expression '%s': unclosed {", r->start);
                q++;
            }
            if (!after_atom)
                return ma_error_set(r->err, MA_ERR_CONFIG, "regular expression '%s': a quantifier follows nothing",
                                    r->start);
            if (*q == '?') return rx_unsupported(r, "a lazy quantifier (*?, +?, ??, {n}?)");
            if (*q == '+') return rx_unsupported(r, "a possessive quantifier (*+, ++, ?+, {n}+)");
            ma_sb_append(&r->out, r->p, (size_t)(q - r->p));
            r->p = q;
            after_atom = 0;
            continue;
        }
        if (c == ')') {
            ma_sb_putc(&r->out, ')');
            r->p++;
            after_atom = 1;
            continue;
        }
        if (c == '|' || c == '^' || c == '$') {
            ma_sb_putc(&r->out, c);
            r->p++;
            after_atom = 0;
            continue;
        }
        if (c == '.') {
            ma_sb_puts(&r->out, r->dotall ? "." : "[^\n\r]");
            r->p++;
            after_atom = 1;
            continue;
        }
        if (c == ']' || c == '}') {
            rx_put_literal(r, &c, 1);
            r->p++;
            after_atom = 1;
            continue;
        }
        ma_sb_putc(&r->out, c);
        r->p++;
        after_atom = 1;
    }
    if (r->out.oom) return ma_error_set(r->err, MA_ERR_NOMEM, "out of memory");
    return 0;
}

int ma_regex_from_java(const char *java, int flags, ma_regex_posix *out, ma_error *err)
{
    memset(out, 0, sizeof *out);
    rx r = {.p = java, .start = java, .flags = flags, .err = err};
    ma_sb_init(&r.out);
    int cflags = REG_EXTENDED;
    if (flags & MA_RX_WHOLE) {
        ma_sb_puts(&r.out, "^(");
        r.ngroups = 1;
    }
    if (rx_translate(&r, &cflags) < 0) {
        ma_sb_free(&r.out);
        return -1;
    }
    if (flags & MA_RX_WHOLE) ma_sb_puts(&r.out, ")$");
    if (!(out->posix = ma_sb_take(&r.out, NULL))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    out->cflags = cflags;
    out->groups = r.java_groups;
    memcpy(out->map, r.map, sizeof out->map);
    return 0;
}

static int compile_re(regex_t *re, const char *java, ma_error *err)
{
    ma_regex_posix pr;
    if (ma_regex_from_java(java, MA_RX_WHOLE, &pr, err) < 0) return -1;
    int rc = regcomp(re, pr.posix, pr.cflags | REG_NOSUB);
    free(pr.posix);
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
