/* jregex_java.c - the Java -> PCRE2 syntax adapter (jregex_java.h), following java.util.regex.Pattern
 * of JDK 17: what PCRE2 reads differently is spelled out (`.`, `^`, `$`, \Z, \b and \B with Java's
 * line terminators and word characters, (?i) ASCII-only unless (?u), (?x) comments, \p{..} names,
 * nested classes and && intersections, escapes), what Java refuses is refused with Java's message,
 * and what PCRE2 cannot do is refused with the index and the reason. Flags are tracked here and
 * scoped like Java's, so that PCRE2 never sees i, m, s, d or x. Decision 024. */
#include "jregex_java.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miniatom/helpers.h"

enum { F_I = 1, F_D = 2, F_M = 4, F_S = 8, F_U = 16, F_X = 32 };

#define MAX_JAVA (64 * 1024) /* pattern bytes */
#define MAX_DEPTH 200        /* nested groups and classes */
#define MAX_NAMES 256        /* named groups */
#define MAX_REPEAT 65535     /* PCRE2's largest {n} */
#define MAX_OPERANDS 32      /* && operands of one class */

typedef struct tr {
    const char *s;
    size_t i;   /* the byte being read */
    size_t tok; /* the byte where the construct being written starts */
    ma_sb out;
    size_t *from;
    size_t cap;
    int groups; /* capturing groups opened so far */
    int total;  /* all groups of the pattern (second pass), or -1 */
    int maxref; /* the largest numbered backreference */
    char *names[MAX_NAMES];
    size_t nnames;
    ma_error *err;
} tr;

/* ---- output and errors ---------------------------------------------------------------------- */

static void put(tr *t, const char *s, size_t n)
{
    size_t old = t->out.len;
    if (ma_sb_append(&t->out, s, n) < 0) return;
    if (t->out.len > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->out.len) cap *= 2;
        size_t *f = realloc(t->from, cap * sizeof *f);
        if (!f) {
            t->out.oom = 1;
            return;
        }
        t->from = f;
        t->cap = cap;
    }
    for (size_t k = old; k < t->out.len; k++) t->from[k] = t->tok;
}

static void puts_(tr *t, const char *s) { put(t, s, strlen(s)); }

size_t ma_jregex_java_index(const char *java, size_t off)
{
    size_t idx = 0;
    for (size_t k = 0; k < off && java[k]; k++) {
        unsigned char c = (unsigned char)java[k];
        if ((c & 0xC0) != 0x80) idx += c >= 0xF0 ? 2 : 1; /* a supplementary character is 2 UTF-16 units */
    }
    return idx;
}

static int fail(tr *t, int code, size_t at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(tr *t, int code, size_t at, const char *fmt, ...)
{
    char why[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    size_t n = strlen(t->s);
    return ma_error_set(t->err, code, "regular expression '%.*s%s': %s near index %zu", n > 200 ? 200 : (int)n, t->s,
                        n > 200 ? "..." : "", why, ma_jregex_java_index(t->s, at));
}

#define REFUSE(t, at, ...) fail((t), MA_ERR_UNSUPPORTED, (at), __VA_ARGS__)
#define INVALID(t, at, ...) fail((t), MA_ERR_CONFIG, (at), __VA_ARGS__)

/* ---- reading -------------------------------------------------------------------------------- */

static unsigned next_cp(tr *t)
{
    unsigned cp = 0;
    size_t n = ma_utf8_decode((const unsigned char *)t->s + t->i, strlen(t->s + t->i), &cp);
    t->i += n ? n : 1; /* the pattern was checked to be UTF-8 */
    return cp;
}

static int is_line_sep(unsigned c, int flags)
{
    if (flags & F_D) return c == '\n';
    return c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* (?x): whitespace and # comments are skipped, inside classes too (Java's peek()). */
static void skip_x(tr *t, int flags)
{
    if (!(flags & F_X)) return;
    for (;;) {
        char c = t->s[t->i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
            t->i++;
        } else if (c == '#') {
            while (t->s[t->i]) {
                unsigned cp = next_cp(t);
                if (is_line_sep(cp, flags)) break;
            }
        } else {
            return;
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int is_alnum(unsigned c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_alpha(unsigned c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* A character escape after '\' (t->i at the letter): 1 with *cp, 0 when e is no character escape,
 * -1 with the error set. */
static int char_escape(tr *t, unsigned *cp)
{
    size_t at = t->i - 1;
    char e = t->s[t->i];
    switch (e) {
    case 't': *cp = '\t'; break;
    case 'n': *cp = '\n'; break;
    case 'r': *cp = '\r'; break;
    case 'f': *cp = '\f'; break;
    case 'a': *cp = 7; break;
    case 'e': *cp = 27; break;
    case '0': { /* \0n, \0nn, \0mnn with m <= 3 */
        const char *p = t->s + t->i + 1;
        if (!(p[0] >= '0' && p[0] <= '7')) return INVALID(t, t->i + 1, "Illegal octal escape sequence");
        unsigned v = (unsigned)(p[0] - '0');
        size_t k = 1;
        if (p[1] >= '0' && p[1] <= '7') {
            v = v * 8 + (unsigned)(p[1] - '0');
            k = 2;
            if (p[2] >= '0' && p[2] <= '7' && p[0] <= '3') {
                v = v * 8 + (unsigned)(p[2] - '0');
                k = 3;
            }
        }
        t->i += 1 + k;
        *cp = v;
        return 1;
    }
    case 'x': {
        const char *p = t->s + t->i + 1;
        unsigned long v = 0;
        if (*p == '{') {
            size_t k = 1;
            while (hexval(p[k]) >= 0) {
                v = v * 16 + (unsigned long)hexval(p[k]);
                if (v > 0x10FFFF) return INVALID(t, t->i + k, "Hexadecimal codepoint is too big");
                k++;
            }
            if (k == 1 || p[k] != '}') return INVALID(t, t->i + k, "Unclosed hexadecimal escape sequence");
            t->i += 2 + k;
        } else {
            if (hexval(p[0]) < 0 || hexval(p[1]) < 0)
                return INVALID(t, t->i + 1, "Illegal hexadecimal escape sequence");
            v = (unsigned long)(hexval(p[0]) * 16 + hexval(p[1]));
            t->i += 3;
        }
        if (v >= 0xD800 && v <= 0xDFFF)
            return REFUSE(t, at, "a lone surrogate (U+%04lX) cannot be matched in UTF-8", v);
        *cp = (unsigned)v;
        return 1;
    }
    case 'u': {
        const char *p = t->s + t->i + 1;
        unsigned v = 0;
        for (int k = 0; k < 4; k++) {
            if (hexval(p[k]) < 0) return INVALID(t, t->i + 1 + (size_t)k, "Illegal Unicode escape sequence");
            v = v * 16 + (unsigned)hexval(p[k]);
        }
        t->i += 5;
        if (v >= 0xD800 && v <= 0xDBFF && t->s[t->i] == '\\' && t->s[t->i + 1] == 'u') {
            unsigned lo = 0;
            int ok = 1;
            for (int k = 0; k < 4 && ok; k++) { /* stops at the first non-hex byte (the NUL at the end) */
                int h = hexval(t->s[t->i + 2 + (size_t)k]);
                if (h < 0) ok = 0;
                else lo = lo * 16 + (unsigned)h;
            }
            if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                t->i += 6;
            }
        }
        if (v >= 0xD800 && v <= 0xDFFF) return REFUSE(t, at, "a lone surrogate (U+%04X) cannot be matched in UTF-8", v);
        *cp = v;
        return 1;
    }
    case 'c':
        if (!t->s[t->i + 1]) return INVALID(t, t->i + 1, "Illegal control escape sequence");
        t->i++;
        *cp = next_cp(t) ^ 64;
        return 1;
    default:
        if (e && !is_alnum((unsigned char)e)) {
            *cp = next_cp(t); /* escaped punctuation or a non-ASCII character: itself */
            return 1;
        }
        return 0;
    }
    t->i++;
    return 1;
}

/* ---- characters, with Java's case rules ---------------------------------------------------------- */

/* A character as a member of a PCRE2 class or a literal: alphanumerics as they are, all else \x{..}. */
static void member(ma_sb *b, unsigned cp)
{
    if (is_alnum(cp)) ma_sb_putc(b, (char)cp);
    else ma_sb_printf(b, "\\x{%x}", cp);
}

/* i, I, dotless i and dotted I are one another's case under (?iu) in Java (toLowerCase(toUpperCase(c))
 * compares them equal), not in PCRE2's case folding. */
static int i_family(unsigned c) { return c == 'i' || c == 'I' || c == 0x131 || c == 0x130; }
#define I_FAMILY "iI\\x{131}\\x{130}"

/* Adds lo..hi to a class under flags: (?i) adds the other ASCII case (Java's CIRange); (?iu) leaves
 * folding to PCRE2 ((?i:[..]) around the class) and adds Java's dotless/dotted i. */
static void add_range(ma_sb *b, unsigned lo, unsigned hi, int single, int flags)
{
    member(b, lo);
    if (hi != lo) {
        ma_sb_putc(b, '-');
        member(b, hi);
    }
    if (!(flags & F_I)) return;
    if (!(flags & F_U)) {
        unsigned a = lo > 'a' ? lo : 'a', z = hi < 'z' ? hi : 'z';
        if (a <= z) ma_sb_printf(b, "%c-%c", (char)(a - 32), (char)(z - 32));
        a = lo > 'A' ? lo : 'A', z = hi < 'Z' ? hi : 'Z';
        if (a <= z) ma_sb_printf(b, "%c-%c", (char)(a + 32), (char)(z + 32));
    } else if (single && i_family(lo)) {
        ma_sb_puts(b, I_FAMILY);
    } else if (!single) {
        if (lo <= 'i' && 'i' <= hi) ma_sb_puts(b, "\\x{131}\\x{130}");
        else if (lo <= 'I' && 'I' <= hi) ma_sb_puts(b, "\\x{131}");
    }
}

static void literal(tr *t, unsigned cp, int flags)
{
    ma_sb b;
    ma_sb_init(&b);
    if ((flags & F_I) && (flags & F_U) && i_family(cp)) {
        ma_sb_puts(&b, "[" I_FAMILY "]");
    } else if ((flags & F_I) && (flags & F_U) && (is_alpha(cp) || cp >= 0x80)) {
        ma_sb_puts(&b, "(?i:");
        member(&b, cp);
        ma_sb_putc(&b, ')');
    } else if ((flags & F_I) && is_alpha(cp)) {
        ma_sb_putc(&b, '[');
        add_range(&b, cp, cp, 1, flags);
        ma_sb_putc(&b, ']');
    } else {
        member(&b, cp);
    }
    if (b.oom) t->out.oom = 1;
    else put(t, b.s, b.len);
    ma_sb_free(&b);
}

/* ---- \p{..} ------------------------------------------------------------------------------------- */

#define CASED "\\p{Lowercase}\\p{Uppercase}\\p{Lt}"
#define CASED_GC "\\p{Lu}\\p{Ll}\\p{Lt}"

/* Java's property names (CharPredicates.forProperty): members of a PCRE2 class; ci: under (?i). */
static const struct prop {
    const char *name, *m, *ci;
} props[] = {
    {"Lower", "a-z", "a-zA-Z"},
    {"Upper", "A-Z", "a-zA-Z"},
    {"ASCII", "\\x{0}-\\x{7f}", NULL},
    {"Alpha", "a-zA-Z", NULL},
    {"Digit", "0-9", NULL},
    {"Alnum", "0-9a-zA-Z", NULL},
    {"Punct", "\\x{21}-\\x{2f}\\x{3a}-\\x{40}\\x{5b}-\\x{60}\\x{7b}-\\x{7e}", NULL},
    {"Graph", "\\x{21}-\\x{7e}", NULL},
    {"Print", "\\x{20}-\\x{7e}", NULL},
    {"Blank", "\\x{20}\\x{9}", NULL},
    {"Cntrl", "\\x{0}-\\x{1f}\\x{7f}", NULL},
    {"XDigit", "0-9a-fA-F", NULL},
    {"Space", "\\x{9}-\\x{d}\\x{20}", NULL},
    {"javaLowerCase", "\\p{Lowercase}", CASED},
    {"javaUpperCase", "\\p{Uppercase}", CASED},
    {"javaTitleCase", "\\p{Lt}", CASED},
    {"javaDigit", "\\p{Nd}", NULL},
    {"javaDefined", "\\P{Cn}", NULL},
    {"javaLetter", "\\p{L}", NULL},
    {"javaLetterOrDigit", "\\p{L}\\p{Nd}", NULL},
    {"javaAlphabetic", "\\p{Alphabetic}", NULL},
    {"javaIdeographic", "\\p{Ideographic}", NULL},
    {"javaSpaceChar", "\\p{Z}", NULL},
    {"javaWhitespace",
     "\\x{9}-\\x{d}\\x{1c}-\\x{20}\\x{1680}\\x{2000}-\\x{2006}\\x{2008}-\\x{200a}\\x{2028}\\x{2029}\\x{205f}\\x{3000}",
     NULL},
    {"javaISOControl", "\\x{0}-\\x{1f}\\x{7f}-\\x{9f}", NULL},
    {"javaIdentifierIgnorable", "\\x{0}-\\x{8}\\x{e}-\\x{1b}\\x{7f}-\\x{9f}\\p{Cf}", NULL},
    {"javaMirrored", "\\p{Bidi_Mirrored}", NULL},
    {"LC", CASED_GC, NULL},
    {"LD", "\\p{L}\\p{Nd}", NULL},
    {"L1", "\\x{0}-\\x{ff}", NULL},
    {"all", "\\x{0}-\\x{10ffff}", NULL},
    {"Lu", "\\p{Lu}", CASED_GC},
    {"Ll", "\\p{Ll}", CASED_GC},
    {"Lt", "\\p{Lt}", CASED_GC},
};

/* Java's binary properties after "Is" (CharPredicates.forUnicodeProperty, names in capitals). */
static const struct prop uprops[] = {
    {"ALPHABETIC", "\\p{Alphabetic}", NULL},
    {"ASSIGNED", "\\P{Cn}", NULL},
    {"CONTROL", "\\p{Cc}", NULL},
    {"IDEOGRAPHIC", "\\p{Ideographic}", NULL},
    {"JOINCONTROL", "\\x{200c}\\x{200d}", NULL},
    {"JOIN_CONTROL", "\\x{200c}\\x{200d}", NULL},
    {"LETTER", "\\p{L}", NULL},
    {"LOWERCASE", "\\p{Lowercase}", CASED},
    {"UPPERCASE", "\\p{Uppercase}", CASED},
    {"TITLECASE", "\\p{Lt}", CASED},
    {"PUNCTUATION", "\\p{P}", NULL},
    {"WHITESPACE", "\\x{9}-\\x{d}\\x{85}\\p{Z}", NULL},
    {"WHITE_SPACE", "\\x{9}-\\x{d}\\x{85}\\p{Z}", NULL},
    {"DIGIT", "\\p{Nd}", NULL},
    {"ALNUM", "\\p{Alphabetic}\\p{Nd}", NULL},
    {"BLANK", "\\x{9}\\p{Zs}", NULL},
};
static const char *const refused_uprops[] = {
    "HEXDIGIT", "HEX_DIGIT", "NONCHARACTERCODEPOINT", "NONCHARACTER_CODE_POINT", "GRAPH", "PRINT", "WORD", NULL};

static const char *const categories[] = {"L",  "M",  "N",  "P",  "S",  "Z",  "C",  "Lm", "Lo", "Mn", "Mc", "Me",
                                         "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc",
                                         "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Cs", "Cn", NULL};

/* forProperty: the case-sensitive names. 1 with members appended, 0 when unknown. */
static int for_property(const char *name, int flags, ma_sb *m)
{
    for (size_t k = 0; k < sizeof props / sizeof *props; k++)
        if (strcmp(name, props[k].name) == 0) {
            ma_sb_puts(m, (flags & F_I) && props[k].ci ? props[k].ci : props[k].m);
            return 1;
        }
    for (size_t k = 0; categories[k]; k++)
        if (strcmp(name, categories[k]) == 0) {
            ma_sb_printf(m, "\\p{%s}", name);
            return 1;
        }
    return 0;
}

static int script_name_ok(const char *s)
{
    if (!*s || strlen(s) > 60) return 0;
    for (; *s; s++)
        if (!is_alnum((unsigned char)*s) && *s != '_' && *s != ' ' && *s != '-') return 0;
    return 1;
}

/* The members of \p{name} (Pattern.family of JDK 17). 0, or -1 with the error set. */
static int property(tr *t, const char *name, size_t at, int flags, ma_sb *m)
{
    const char *eq = strchr(name, '=');
    if (eq) {
        size_t kl = (size_t)(eq - name);
        const char *v = eq + 1;
        if ((kl == 6 && strncmp(name, "script", 6) == 0) || (kl == 2 && strncmp(name, "sc", 2) == 0)) {
            if (!script_name_ok(v)) return INVALID(t, at, "Unknown character script name {%s}", v);
            ma_sb_printf(m, "\\p{sc:%s}", v);
            return 0;
        }
        if ((kl == 5 && strncmp(name, "block", 5) == 0) || (kl == 3 && strncmp(name, "blk", 3) == 0))
            return REFUSE(t, at, "Unicode blocks (\\p{%s}) are not supported: PCRE2 has no block property", name);
        if ((kl == 16 && strncmp(name, "general_category", 16) == 0) || (kl == 2 && strncmp(name, "gc", 2) == 0)) {
            if (for_property(v, flags, m)) return 0;
            return INVALID(t, at, "Unknown Unicode property {name=<%.*s>, value=<%s>}", (int)kl, name, v);
        }
        return INVALID(t, at, "Unknown Unicode property {name=<%.*s>, value=<%s>}", (int)kl, name, v);
    }
    if (strncmp(name, "In", 2) == 0)
        return REFUSE(t, at, "Unicode blocks (\\p{%s}) are not supported: PCRE2 has no block property", name);
    if (strncmp(name, "Is", 2) == 0) {
        const char *n = name + 2;
        char up[64];
        size_t k = 0;
        for (; k < sizeof up - 1 && n[k]; k++) up[k] = (char)((n[k] >= 'a' && n[k] <= 'z') ? n[k] - 32 : n[k]);
        up[k] = '\0';
        for (size_t j = 0; j < sizeof uprops / sizeof *uprops; j++)
            if (strcmp(up, uprops[j].name) == 0) {
                ma_sb_puts(m, (flags & F_I) && uprops[j].ci ? uprops[j].ci : uprops[j].m);
                return 0;
            }
        for (size_t j = 0; refused_uprops[j]; j++)
            if (strcmp(up, refused_uprops[j]) == 0) return REFUSE(t, at, "the property \\p{%s} is not supported", name);
        if (for_property(n, flags, m)) return 0;
        if (!script_name_ok(n)) return INVALID(t, at, "Unknown character property name {%s}", name);
        ma_sb_printf(m, "\\p{sc:%s}", n); /* a script: PCRE2 refuses a name it does not know */
        return 0;
    }
    if (strncmp(name, "javaJavaIdentifier", 18) == 0 || strncmp(name, "javaUnicodeIdentifier", 21) == 0)
        return REFUSE(t, at, "the property \\p{%s} is not supported", name);
    if (for_property(name, flags, m)) return 0;
    return INVALID(t, at, "Unknown character property name {%s}", name);
}

/* \p or \P (t->i at the p): the members in *m and *neg. */
static int read_property(tr *t, int flags, ma_sb *m, int *neg)
{
    size_t at = t->i - 1;
    *neg = t->s[t->i] == 'P';
    t->i++;
    char name[80];
    if (t->s[t->i] == '{') {
        const char *end = strchr(t->s + t->i, '}');
        if (!end) return INVALID(t, t->i, "Unclosed character family");
        size_t n = (size_t)(end - (t->s + t->i + 1));
        if (n == 0) return INVALID(t, t->i, "Empty character family");
        if (n >= sizeof name) return INVALID(t, t->i, "Unknown character property name");
        memcpy(name, t->s + t->i + 1, n);
        name[n] = '\0';
        t->i += n + 2;
    } else {
        if (!t->s[t->i] || (unsigned char)t->s[t->i] >= 0x80) return INVALID(t, t->i, "Illegal character family");
        name[0] = t->s[t->i++];
        name[1] = '\0';
    }
    return property(t, name, at, flags, m);
}

/* A property as a standalone class; "\p{X}" alone becomes \P{X} when negated. */
static void property_atom(ma_sb *out, const ma_sb *m, int neg)
{
    const char *s = m->s ? m->s : "";
    if (strncmp(s, "\\p{", 3) == 0 && strchr(s, '}') == s + m->len - 1) {
        ma_sb_putc(out, '\\');
        ma_sb_putc(out, neg ? 'P' : 'p');
        ma_sb_append(out, s + 2, m->len - 2);
        return;
    }
    ma_sb_puts(out, neg ? "[^" : "[");
    ma_sb_append(out, s, m->len);
    ma_sb_putc(out, ']');
}

/* ---- character classes ------------------------------------------------------------------------- */

/* A union of members: the plain ones in one PCRE2 class, the rest (nested classes, negated
 * properties of several members) as one-character expressions. */
typedef struct cunion {
    ma_sb simple;
    ma_sb parts; /* "|E1|E2" */
    int nparts;
} cunion;

static void simple_class(ma_sb *out, const ma_sb *simple, int neg, int flags)
{
    if ((flags & F_I) && (flags & F_U)) ma_sb_puts(out, "(?i:");
    ma_sb_puts(out, neg ? "[^" : "[");
    ma_sb_append(out, simple->s, simple->len);
    ma_sb_putc(out, ']');
    if ((flags & F_I) && (flags & F_U)) ma_sb_putc(out, ')');
}

/* A union as one expression (empty: matches nothing). */
static void union_expr(ma_sb *out, const cunion *u, int flags)
{
    if (!u->nparts) {
        if (u->simple.len) simple_class(out, &u->simple, 0, flags);
        else ma_sb_puts(out, "(?!)");
        return;
    }
    ma_sb_puts(out, "(?:");
    if (u->simple.len) simple_class(out, &u->simple, 0, flags);
    ma_sb_append(out, u->parts.s + (u->simple.len ? 0 : 1), u->parts.len - (u->simple.len ? 0 : 1));
    ma_sb_putc(out, ')');
}

static int parse_class(tr *t, int flags, ma_sb *expr, int depth);

/* After '\' inside a class (t->i at the letter): adds to u, or sets *cp (return 1) for a character. */
static int class_escape(tr *t, int flags, cunion *u, unsigned *cp)
{
    size_t at = t->i - 1;
    char e = t->s[t->i];
    if (e && strchr("dDwWsShHvV", e)) {
        ma_sb_putc(&u->simple, '\\');
        ma_sb_putc(&u->simple, e);
        t->i++;
        return 0;
    }
    if (e == 'p' || e == 'P') {
        ma_sb m;
        ma_sb_init(&m);
        int neg;
        if (read_property(t, flags, &m, &neg) < 0) {
            ma_sb_free(&m);
            return -1;
        }
        if (!neg) {
            ma_sb_append(&u->simple, m.s, m.len);
        } else if (strncmp(m.s, "\\p{", 3) == 0 && strchr(m.s, '}') == m.s + m.len - 1) {
            ma_sb_puts(&u->simple, "\\P");
            ma_sb_append(&u->simple, m.s + 2, m.len - 2);
        } else {
            ma_sb_puts(&u->parts, "|[^");
            ma_sb_append(&u->parts, m.s, m.len);
            ma_sb_putc(&u->parts, ']');
            u->nparts++;
        }
        ma_sb_free(&m);
        return 0;
    }
    if (e == 'Q') {
        t->i++;
        while (t->s[t->i] && !(t->s[t->i] == '\\' && t->s[t->i + 1] == 'E')) {
            unsigned c = next_cp(t);
            add_range(&u->simple, c, c, 1, flags);
        }
        if (t->s[t->i]) t->i += 2;
        return 0;
    }
    int k = char_escape(t, cp);
    if (k < 0) return -1;
    if (k == 0) {
        if (e == 'N' || (e == 'b' && t->s[t->i + 1] == '{')) return REFUSE(t, at, "\\%c{...} is not supported", e);
        return INVALID(t, t->i, "Illegal/unsupported escape sequence");
    }
    return 1;
}

/* A [...] class (t->i after '['), written to expr as an expression matching one character. */
static int parse_class(tr *t, int flags, ma_sb *expr, int depth)
{
    if (depth > MAX_DEPTH) return REFUSE(t, t->i, "character classes nested too deeply");
    int neg = 0, rc = 0, first = 1;
    if (t->s[t->i] == '^') {
        neg = 1;
        t->i++;
    }
    cunion ops[MAX_OPERANDS];
    size_t nops = 1;
    memset(ops, 0, sizeof ops);
    for (size_t k = 0; k < MAX_OPERANDS; k++) {
        ma_sb_init(&ops[k].simple);
        ma_sb_init(&ops[k].parts);
    }
    for (;;) {
        cunion *u = &ops[nops - 1];
        skip_x(t, flags);
        size_t at = t->i;
        char c = t->s[t->i];
        if (!c) {
            rc = INVALID(t, at, "Unclosed character class");
            break;
        }
        if (c == '[') {
            t->i++;
            ma_sb sub;
            ma_sb_init(&sub);
            if (parse_class(t, flags, &sub, depth + 1) < 0) {
                ma_sb_free(&sub);
                rc = -1;
                break;
            }
            ma_sb_putc(&u->parts, '|');
            ma_sb_append(&u->parts, sub.s, sub.len);
            u->nparts++;
            ma_sb_free(&sub);
            first = 0;
            continue;
        }
        if (c == '&' && t->s[t->i + 1] == '&') {
            t->i += 2;
            if (nops == MAX_OPERANDS) {
                rc = REFUSE(t, at, "more than %d && in one class", MAX_OPERANDS - 1);
                break;
            }
            nops++;
            first = 0;
            continue;
        }
        if (c == ']' && !first) {
            t->i++;
            break;
        }
        first = 0;
        unsigned lo;
        if (c == '\\') {
            t->i++;
            int k = class_escape(t, flags, u, &lo);
            if (k < 0) {
                rc = -1;
                break;
            }
            if (k == 0) continue;
        } else {
            lo = next_cp(t);
        }
        skip_x(t, flags);
        char d = t->s[t->i];
        if (d == '-' && t->s[t->i + 1] != ']' && t->s[t->i + 1] != '[' && t->s[t->i + 1]) {
            t->i++;
            skip_x(t, flags);
            unsigned hi;
            if (t->s[t->i] == '\\') {
                t->i++;
                int k = char_escape(t, &hi);
                if (k < 0) {
                    rc = -1;
                    break;
                }
                if (k == 0) {
                    rc = INVALID(t, t->i, "Illegal character range");
                    break;
                }
            } else {
                hi = next_cp(t);
            }
            if (hi < lo) {
                rc = INVALID(t, t->i - 1, "Illegal character range");
                break;
            }
            add_range(&u->simple, lo, hi, 0, flags);
        } else {
            add_range(&u->simple, lo, lo, 1, flags);
        }
    }
    if (rc == 0) {
        /* the operands that hold something (Java ignores empty ones: [a&&] is [a]) */
        size_t live[MAX_OPERANDS], nl = 0;
        for (size_t k = 0; k < nops; k++)
            if (ops[k].simple.len || ops[k].nparts) live[nl++] = k;
        if (nl == 0) {
            ma_sb_puts(expr, neg ? "(?s:.)" : "(?!)");
        } else if (nl == 1 && !ops[live[0]].nparts) {
            simple_class(expr, &ops[live[0]].simple, neg, flags);
        } else {
            ma_sb_puts(expr, neg ? "(?:(?!" : "(?:");
            for (size_t k = 0; k < nl; k++) {
                if (k + 1 < nl) ma_sb_puts(expr, "(?=");
                union_expr(expr, &ops[live[k]], flags);
                if (k + 1 < nl) ma_sb_putc(expr, ')');
            }
            ma_sb_puts(expr, neg ? ")(?s:.))" : ")");
        }
    }
    for (size_t k = 0; k < MAX_OPERANDS; k++) {
        if (ops[k].simple.oom || ops[k].parts.oom) expr->oom = 1;
        ma_sb_free(&ops[k].simple);
        ma_sb_free(&ops[k].parts);
    }
    return rc;
}

/* ---- anchors and boundaries ------------------------------------------------------------------------- */

#define TERM "\\r\\x{85}\\x{2028}\\x{2029}" /* Java's line terminators besides \n (and \r\n) */

static const char *caret(int flags)
{
    if (!(flags & F_M)) return "\\A";
    if (flags & F_D) return "(?:(?!\\z)(?:\\A|(?<=\\n)))";
    /* after a terminator but not between \r and \n, never at the end (Java's Caret) */
    return "(?:(?!\\z)(?:\\A|(?<=[\\n\\x{85}\\x{2028}\\x{2029}])|(?<=\\r)(?!\\n)))";
}

static const char *dollar(int flags)
{
    if (flags & F_D) return (flags & F_M) ? "(?=\\n|\\z)" : "(?=\\n?\\z)";
    if (flags & F_M) return "(?:(?=[" TERM "]|\\z)|(?<!\\r)(?=\\n))";
    /* at the end, or before a final terminator (\r\n counting as one) */
    return "(?=(?:\\r\\n|(?<!\\r)\\n|[" TERM "])?\\z)";
}

/* \b and \B as JDK 17's Bound: a word character is a letter, a decimal digit or '_', or a nonspacing
 * mark after a letter or digit (up to 3 marks are looked back over). */
#define W "[\\p{L}\\p{Nd}_]"
#define LD "[\\p{L}\\p{Nd}]"
#define BM "(?<=" LD "\\p{Mn}|" LD "\\p{Mn}{2}|" LD "\\p{Mn}{3})"
#define LEFT "(?:(?<=" W ")|" BM ")"
#define RIGHT "(?:(?=" W ")|(?=\\p{Mn})(?:(?<=" LD ")|" BM "))"
#define BOUND "(?:" LEFT "(?!" RIGHT ")|(?!" LEFT ")" RIGHT ")"
#define NOT_BOUND "(?:" LEFT RIGHT "|(?!" LEFT ")(?!" RIGHT "))"

/* ---- the pattern ------------------------------------------------------------------------------------ */

static int name_known(const tr *t, const char *n, size_t len)
{
    for (size_t k = 0; k < t->nnames; k++)
        if (strlen(t->names[k]) == len && strncmp(t->names[k], n, len) == 0) return 1;
    return 0;
}

/* \1..\9 and \k<name> (t->i at the digit or k). */
static int backref(tr *t, int flags, size_t at)
{
    char buf[96];
    if (t->s[t->i] == 'k') {
        t->i++;
        if (t->s[t->i] != '<') return INVALID(t, t->i, "\\k is not followed by '<' for named capturing group");
        const char *n = t->s + t->i + 1;
        size_t len = 0;
        while (is_alnum((unsigned char)n[len])) len++;
        if (n[len] != '>' || len == 0)
            return INVALID(t, t->i + 1 + len, "named capturing group is missing trailing '>'");
        if (!name_known(t, n, len))
            return INVALID(t, t->i + 1 + len, "named capturing group <%.*s> does not exist", (int)len, n);
        if ((flags & F_I) && !(flags & F_U))
            return REFUSE(t, at,
                          "a backreference under (?i) without (?u) (Java ignores ASCII case only, PCRE2 all case)");
        snprintf(buf, sizeof buf, (flags & F_I) ? "(?i:\\k<%.*s>)" : "\\k<%.*s>", (int)len, n);
        t->i += len + 2;
    } else {
        int ref = t->s[t->i++] - '0';
        while (t->s[t->i] >= '0' && t->s[t->i] <= '9' && ref * 10 + (t->s[t->i] - '0') <= t->groups) {
            ref = ref * 10 + (t->s[t->i] - '0');
            t->i++;
        }
        if ((flags & F_I) && !(flags & F_U))
            return REFUSE(t, at,
                          "a backreference under (?i) without (?u) (Java ignores ASCII case only, PCRE2 all case)");
        if (ref > t->maxref) t->maxref = ref;
        if (t->total >= 0 && ref > t->total) snprintf(buf, sizeof buf, "(?!)"); /* Java: never matches */
        else snprintf(buf, sizeof buf, (flags & F_I) ? "(?i:\\g{%d})" : "\\g{%d}", ref);
    }
    puts_(t, buf);
    return 0;
}

/* After '\' outside a class (t->i at the letter). */
static int escape(tr *t, int flags)
{
    size_t at = t->i - 1;
    char e = t->s[t->i];
    if (!e) return INVALID(t, at, "Unexpected internal error (a trailing backslash)");
    if (strchr("dDwWsShHvVX", e)) {
        char b[3] = {'\\', e, 0};
        puts_(t, b);
        t->i++;
        return 0;
    }
    switch (e) {
    case 'R':
        t->i++;
        puts_(t, "(?:\\r\\n|[\\n\\x{b}\\f" TERM "])");
        return 0;
    case 'b':
        if (t->s[t->i + 1] == '{') return REFUSE(t, at, "\\b{g} (grapheme cluster boundary) is not supported");
        t->i++;
        puts_(t, BOUND);
        return 0;
    case 'B':
        t->i++;
        puts_(t, NOT_BOUND);
        return 0;
    case 'A':
        t->i++;
        puts_(t, "\\A");
        return 0;
    case 'z':
        t->i++;
        puts_(t, "\\z");
        return 0;
    case 'Z':
        t->i++;
        puts_(t, dollar(flags & ~F_M));
        return 0;
    case 'G': return REFUSE(t, at, "\\G (end of the previous match) is not supported");
    case 'N': return REFUSE(t, at, "\\N{name} (a character by its Unicode name) is not supported");
    case 'E': return INVALID(t, t->i, "Illegal/unsupported escape sequence");
    case 'k': return backref(t, flags, at);
    case 'Q':
        t->i++;
        while (t->s[t->i] && !(t->s[t->i] == '\\' && t->s[t->i + 1] == 'E')) literal(t, next_cp(t), flags);
        if (t->s[t->i]) t->i += 2;
        return 0;
    case 'p':
    case 'P': {
        ma_sb m, a;
        ma_sb_init(&m);
        ma_sb_init(&a);
        int neg, rc = read_property(t, flags, &m, &neg);
        if (rc == 0) {
            property_atom(&a, &m, neg);
            put(t, a.s, a.len);
        }
        ma_sb_free(&m);
        ma_sb_free(&a);
        return rc;
    }
    default: break;
    }
    if (e >= '1' && e <= '9') return backref(t, flags, at);
    unsigned cp;
    int k = char_escape(t, &cp);
    if (k < 0) return -1;
    if (k == 0) return INVALID(t, t->i, "Illegal/unsupported escape sequence");
    literal(t, cp, flags);
    return 0;
}

/* After '(' : the group's opening; *saved gets the flags to restore at its ')' (-1: none, a flag
 * group "(?i)" that changes flags in place). */
static int group_open(tr *t, int *flags, int *saved)
{
    size_t at = t->i - 1;
    *saved = *flags;
    if (t->s[t->i] != '?') {
        t->groups++;
        puts_(t, "(");
        return 0;
    }
    t->i++;
    char c = t->s[t->i];
    if (c == ':' || c == '=' || c == '!' || c == '>') {
        char b[4] = {'(', '?', c, 0};
        puts_(t, b);
        t->i++;
        return 0;
    }
    if (c == '<' && (t->s[t->i + 1] == '=' || t->s[t->i + 1] == '!')) {
        puts_(t, t->s[t->i + 1] == '=' ? "(?<=" : "(?<!");
        t->i += 2;
        return 0;
    }
    if (c == '<') {
        const char *n = t->s + t->i + 1;
        if (!is_alpha((unsigned char)n[0]))
            return INVALID(t, t->i + 1, "capturing group name does not start with a Latin letter");
        size_t len = 0;
        while (is_alnum((unsigned char)n[len])) len++;
        if (n[len] != '>') return INVALID(t, t->i + 1 + len, "named capturing group is missing trailing '>'");
        if (name_known(t, n, len))
            return INVALID(t, t->i + 1 + len, "Named capturing group <%.*s> is already defined", (int)len, n);
        if (t->nnames == MAX_NAMES) return REFUSE(t, at, "more than %d named groups", MAX_NAMES);
        if (!(t->names[t->nnames] = ma_strndup(n, len))) return ma_error_set(t->err, MA_ERR_NOMEM, "out of memory");
        t->nnames++;
        t->groups++;
        put(t, "(?<", 3);
        put(t, n, len + 1);
        t->i += len + 2;
        return 0;
    }
    /* inline flags: (?idmsux-idmsux) or (?idmsux-idmsux:X) */
    int f = *flags, on = 1;
    for (;; t->i++) {
        char x = t->s[t->i];
        int bit = x == 'i'   ? F_I
                  : x == 'd' ? F_D
                  : x == 'm' ? F_M
                  : x == 's' ? F_S
                  : x == 'u' ? F_U
                  : x == 'x' ? F_X
                             : 0;
        if (bit) f = on ? f | bit : f & ~bit;
        else if (x == '-') on = 0;
        else if (x == 'U') return REFUSE(t, t->i, "(?U) (UNICODE_CHARACTER_CLASS) is not supported");
        else if (x == 'c') return REFUSE(t, t->i, "(?c) (CANON_EQ) is not supported");
        else break;
    }
    if (t->s[t->i] == ')') {
        t->i++;
        *flags = f;
        *saved = -1;
        return 0;
    }
    if (t->s[t->i] == ':') {
        t->i++;
        *flags = f;
        puts_(t, "(?:");
        return 0;
    }
    return INVALID(t, t->i, "Unknown inline modifier");
}

/* {n}, {n,}, {n,m} (t->i at '{'). */
static int counted(tr *t, int flags)
{
    size_t at = t->i;
    long n = -1, m = -1;
    int comma = 0;
    t->i++;
    skip_x(t, flags);
    for (; t->s[t->i] >= '0' && t->s[t->i] <= '9'; t->i++) {
        n = (n < 0 ? 0 : n) * 10 + (t->s[t->i] - '0');
        if (n > 1000000000L) return INVALID(t, t->i, "Illegal repetition range");
    }
    if (n < 0) return INVALID(t, at, "Illegal repetition");
    skip_x(t, flags);
    if (t->s[t->i] == ',') {
        comma = 1;
        t->i++;
        skip_x(t, flags);
        for (; t->s[t->i] >= '0' && t->s[t->i] <= '9'; t->i++) {
            m = (m < 0 ? 0 : m) * 10 + (t->s[t->i] - '0');
            if (m > 1000000000L) return INVALID(t, t->i, "Illegal repetition range");
        }
        skip_x(t, flags);
    }
    if (t->s[t->i] != '}') return INVALID(t, t->i, "Unclosed counted closure");
    t->i++;
    if (comma && m >= 0 && m < n) return INVALID(t, t->i - 1, "Illegal repetition range");
    if (n > MAX_REPEAT || m > MAX_REPEAT)
        return REFUSE(t, at, "a repetition count above %d (PCRE2's largest)", MAX_REPEAT);
    char b[48];
    if (!comma) snprintf(b, sizeof b, "{%ld}", n);
    else if (m < 0) snprintf(b, sizeof b, "{%ld,}", n);
    else snprintf(b, sizeof b, "{%ld,%ld}", n, m);
    puts_(t, b);
    return 0;
}

static int translate(tr *t)
{
    int flags = 0, depth = 0, can_quant = 0, after_quant = 0;
    int saved[MAX_DEPTH];
    for (;;) {
        skip_x(t, flags);
        t->tok = t->i;
        char c = t->s[t->i];
        if (!c) break;
        if (c == '*' || c == '+' || c == '?' || c == '{') {
            if (c == '{' && after_quant)
                return REFUSE(t, t->i,
                              "a {n} repetition right after another quantifier (put a group around the first)");
            if (!can_quant) {
                if (c == '{') return INVALID(t, t->i, "Illegal repetition");
                return INVALID(t, t->i, "Dangling meta character '%c'", c);
            }
            if (c == '{') {
                if (counted(t, flags) < 0) return -1;
            } else {
                put(t, &c, 1);
                t->i++;
            }
            skip_x(t, flags);
            if (t->s[t->i] == '?' || t->s[t->i] == '+') put(t, t->s + t->i++, 1);
            can_quant = 0;
            after_quant = 1;
            continue;
        }
        after_quant = 0;
        can_quant = 1;
        switch (c) {
        case '(': {
            t->i++;
            if (depth == MAX_DEPTH) return REFUSE(t, t->tok, "groups nested more than %d deep", MAX_DEPTH);
            int sv;
            if (group_open(t, &flags, &sv) < 0) return -1;
            if (sv >= 0) saved[depth++] = sv;
            can_quant = 0;
            break;
        }
        case ')':
            if (depth == 0) return INVALID(t, t->i, "Unmatched closing ')'");
            flags = saved[--depth];
            puts_(t, ")");
            t->i++;
            break;
        case '|':
            puts_(t, "|");
            t->i++;
            can_quant = 0;
            break;
        case '[': {
            t->i++;
            ma_sb e;
            ma_sb_init(&e);
            int rc = parse_class(t, flags, &e, 0);
            if (rc == 0) put(t, e.s, e.len);
            if (e.oom) t->out.oom = 1;
            ma_sb_free(&e);
            if (rc < 0) return -1;
            break;
        }
        case '.':
            t->i++;
            puts_(t, (flags & F_S) ? "(?s:.)" : (flags & F_D) ? "[^\\n]" : "[^\\n" TERM "]");
            break;
        case '^':
            t->i++;
            puts_(t, caret(flags));
            break;
        case '$':
            t->i++;
            puts_(t, dollar(flags));
            break;
        case '\\':
            t->i++;
            if (escape(t, flags) < 0) return -1;
            break;
        default: literal(t, next_cp(t), flags); break;
        }
    }
    if (depth) return INVALID(t, t->i, "Unclosed group");
    if (t->out.oom) return ma_error_set(t->err, MA_ERR_NOMEM, "out of memory");
    return 0;
}

static void tr_free(tr *t)
{
    ma_sb_free(&t->out);
    free(t->from);
    for (size_t k = 0; k < t->nnames; k++) free(t->names[k]);
}

int ma_jregex_translate(const char *java, ma_jregex_pcre *out, ma_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(java);
    tr t = {.s = java, .total = -1, .err = err};
    if (n > MAX_JAVA) return fail(&t, MA_ERR_LIMIT, 0, "longer than %d bytes", MAX_JAVA);
    for (size_t k = 0; k < n;) {
        unsigned cp;
        size_t l = ma_utf8_decode((const unsigned char *)java + k, n - k, &cp);
        if (!l) return fail(&t, MA_ERR_CONFIG, k, "not UTF-8");
        k += l;
    }
    for (int pass = 0; pass < 2; pass++) {
        ma_sb_init(&t.out);
        if (translate(&t) < 0) {
            tr_free(&t);
            return -1;
        }
        if (t.maxref <= t.groups || pass == 1) break;
        /* a backreference to a group the pattern does not have never matches in Java: again, with
         * the number of groups known */
        int total = t.groups;
        tr_free(&t);
        t = (tr){.s = java, .total = total, .err = err};
    }
    out->groups = t.groups;
    out->from = t.from;
    t.from = NULL;
    if (!(out->pattern = ma_sb_take(&t.out, &out->len))) {
        tr_free(&t);
        ma_jregex_pcre_free(out);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    tr_free(&t);
    return 0;
}

void ma_jregex_pcre_free(ma_jregex_pcre *p)
{
    free(p->pattern);
    free(p->from);
    memset(p, 0, sizeof *p);
}
