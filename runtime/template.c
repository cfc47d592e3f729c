/* template.c - Boomi message templates ({1}, {2} ...) for the Message, Notify and Exception shapes
 * (template.h). Quoting follows Java MessageFormat as Boomi applies it (boomi-atom-semantics.md 2
 * "Message"): a lone ' toggles literal mode and is dropped, '' is one ', an unclosed ' quotes the
 * rest. A template is compiled once at deploy into a list of literal and argument segments, so
 * rendering a document is one loop of appends. */
#include "template.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* One piece of the rendering: arg == 0 is literal text lit[off .. off+len), arg >= 1 is argument
 * number arg (1-based, as written in the template). */
typedef struct tpl_seg {
    size_t off, len;
    int arg;
} tpl_seg;

struct ma_template {
    char *lit;     /* owned: all literal text, concatenated */
    tpl_seg *segs; /* owned */
    size_t n, cap;
    int max_arg;
};

static int seg_push(ma_template *t, size_t off, size_t len, int arg)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        tpl_seg *s = realloc(t->segs, cap * sizeof *s);
        if (!s) return -1;
        t->segs = s;
        t->cap = cap;
    }
    t->segs[t->n].off = off;
    t->segs[t->n].len = len;
    t->segs[t->n].arg = arg;
    t->n++;
    return 0;
}

/* Sets err to "column N: MSG" (or "line L, column N: MSG" past the first line) for the character
 * at text[at]. Columns count characters (UTF-8 sequences), starting at 1. */
static int where_error(ma_error *err, int code, const char *text, size_t at, const char *msg)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            line++;
            col = 1;
        } else if ((c & 0xC0) != 0x80) {
            col++;
        }
    }
    if (line > 1) return ma_error_set(err, code, "line %zu, column %zu: %s", line, col, msg);
    return ma_error_set(err, code, "column %zu: %s", col, msg);
}

/* Parses the argument that starts with the '{' at text[at]. On success sets *num and *end (the
 * index of the closing '}'). */
static int parse_arg(const char *text, size_t at, int *num, size_t *end, ma_error *err)
{
    size_t j = at + 1;
    if (text[j] < '0' || text[j] > '9')
        return where_error(err, MA_ERR_PARSE, text, at,
                           "'{' does not start an argument like {1} (quote a literal brace: '{')");
    long long n = 0;
    int too_big = 0;
    while (text[j] >= '0' && text[j] <= '9') {
        if (n <= INT_MAX) n = n * 10 + (text[j] - '0');
        if (n > INT_MAX) too_big = 1;
        j++;
    }
    if (text[j] == '}') {
        *end = j;
    } else if (text[j] == ',') {
        /* {n,type[,style]}: the rest is a Java format type and style that mini-Atom does not
         * apply (Boomi's arguments are strings). Skip it the way MessageFormat does: quotes
         * quote, braces nest, the first unquoted unnested '}' ends the argument. */
        int quoted = 0, depth = 0;
        for (j++;; j++) {
            char c = text[j];
            if (c == '\0') return where_error(err, MA_ERR_PARSE, text, at, "'{' is not closed by '}'");
            if (quoted) {
                if (c == '\'') quoted = 0;
            } else if (c == '\'') {
                quoted = 1;
            } else if (c == '{') {
                depth++;
            } else if (c == '}') {
                if (depth == 0) break;
                depth--;
            }
        }
        *end = j;
    } else if (text[j] == '\0') {
        return where_error(err, MA_ERR_PARSE, text, at, "'{' is not closed by '}'");
    } else {
        return where_error(err, MA_ERR_PARSE, text, at,
                           "'{' does not start an argument like {1} (quote a literal brace: '{')");
    }
    if (too_big) return where_error(err, MA_ERR_PARSE, text, at, "argument number is too large");
    if (n == 0) return where_error(err, MA_ERR_PARSE, text, at, "argument numbers start at 1 ({0} refers to nothing)");
    *num = (int)n;
    return 0;
}

ma_template *ma_template_compile(const char *text, ma_error *err)
{
    if (!text) text = "";
    ma_template *t = calloc(1, sizeof *t);
    if (!t) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ma_sb lit;
    ma_sb_init(&lit);
    size_t pending = 0; /* where the literal not yet in a segment starts in lit */
    int quoted = 0;
    for (size_t i = 0; text[i]; i++) {
        char c = text[i];
        if (c == '\'') {
            if (text[i + 1] == '\'') {
                ma_sb_putc(&lit, '\'');
                i++;
            } else {
                quoted = !quoted;
            }
            continue;
        }
        if (c == '{' && !quoted) {
            int num = 0;
            size_t end = i;
            if (parse_arg(text, i, &num, &end, err) < 0) goto fail;
            if (lit.len > pending && seg_push(t, pending, lit.len - pending, 0) < 0) goto oom;
            pending = lit.len;
            if (seg_push(t, 0, 0, num) < 0) goto oom;
            if (num > t->max_arg) t->max_arg = num;
            i = end;
            continue;
        }
        ma_sb_putc(&lit, c); /* an unquoted '}' alone is literal, as in MessageFormat */
    }
    if (lit.len > pending && seg_push(t, pending, lit.len - pending, 0) < 0) goto oom;
    t->lit = ma_sb_take(&lit, NULL);
    if (!t->lit) goto oom;
    return t;
oom:
    ma_error_set(err, MA_ERR_NOMEM, "out of memory");
fail:
    ma_sb_free(&lit);
    ma_template_free(t);
    return NULL;
}

void ma_template_free(ma_template *t)
{
    if (!t) return;
    free(t->lit);
    free(t->segs);
    free(t);
}

int ma_template_render(const ma_template *t, const char *const *args, size_t nargs, ma_sb *out)
{
    for (size_t i = 0; i < t->n; i++) {
        const tpl_seg *s = &t->segs[i];
        if (s->arg == 0) {
            ma_sb_append(out, t->lit + s->off, s->len);
        } else if ((size_t)s->arg <= nargs) {
            const char *a = args ? args[s->arg - 1] : NULL;
            if (a) ma_sb_puts(out, a);
        } else {
            ma_sb_printf(out, "{%d}", s->arg); /* like MessageFormat with too few arguments */
        }
    }
    return out->oom ? -1 : 0;
}

int ma_template_max_arg(const ma_template *t) { return t ? t->max_arg : 0; }
