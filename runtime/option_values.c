/* option_values.c - enumerated option values of component XML (helpers.h "enumerated option
 * values"): a reader gives one table of the spellings Boomi's exports use (and older ones mini-Atom
 * documented), and every unknown value is reported the same way, naming the values accepted.
 * The tables and their sources are listed in docs/decisions/027-option-values.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "miniatom/helpers.h"

#define SHOWN_MAX 100 /* the most bytes of an unknown value a message repeats */

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char *ma_enum_list(const ma_enum *table, int flags, char *buf, size_t n)
{
    if (!buf || n == 0) return buf;
    buf[0] = '\0';
    size_t len = 0;
    for (const ma_enum *e = table; e && e->name; e++) {
        int kind = e->flags & MA_ENUM_UNSUPPORTED ? MA_ENUM_UNSUPPORTED : e->flags & MA_ENUM_OLD ? MA_ENUM_OLD : 0;
        if (kind != flags) continue;
        int dup = 0; /* a name listed twice (two meanings never; two rows for one spelling) */
        for (const ma_enum *p = table; p < e && !dup; p++) dup = strcmp(p->name, e->name) == 0;
        if (dup) continue;
        int w = snprintf(buf + len, n - len, "%s%s", len ? ", " : "", e->name);
        if (w < 0 || (size_t)w >= n - len) { /* keep the names that fit whole */
            buf[len] = '\0';
            if (len + 6 <= n) memcpy(buf + len, len ? ", ..." : "...", len ? 6 : 4);
            else if (n > 4) memcpy(buf + n - 4, "...", 4);
            return buf;
        }
        len += (size_t)w;
    }
    return buf;
}

const char *ma_enum_name(const ma_enum *table, int value)
{
    for (const ma_enum *e = table; e && e->name; e++)
        if (e->value == value && !(e->flags & MA_ENUM_OLD)) return e->name;
    return NULL;
}

int ma_enum_parse(const ma_enum *table, const char *what, const char *text, int def, int opts, int *value,
                  ma_error *err)
{
    const char *s = text ? text : "";
    size_t len = strlen(s);
    while (len && blank(*s)) s++, len--;
    while (len && blank(s[len - 1])) len--;
    char ok[512], old[256];
    if (len == 0) {
        if (!(opts & MA_ENUM_REQUIRED)) {
            *value = def;
            return 0;
        }
        return ma_error_set(err, MA_ERR_CONFIG, "%s is missing (one of: %s)", what,
                            ma_enum_list(table, 0, ok, sizeof ok));
    }
    for (const ma_enum *e = table; e && e->name; e++) {
        if (strlen(e->name) != len) continue;
        if (opts & MA_ENUM_NOCASE ? strncasecmp(e->name, s, len) != 0 : strncmp(e->name, s, len) != 0) continue;
        if (e->flags & MA_ENUM_UNSUPPORTED)
            return ma_error_set(err, MA_ERR_UNSUPPORTED, "%s \"%.*s\" is not supported by mini-Atom (supported: %s)",
                                what, (int)len, s, ma_enum_list(table, 0, ok, sizeof ok));
        *value = e->value;
        return 0;
    }
    ma_enum_list(table, 0, ok, sizeof ok);
    ma_enum_list(table, MA_ENUM_OLD, old, sizeof old);
    char unsup[256];
    ma_enum_list(table, MA_ENUM_UNSUPPORTED, unsup, sizeof unsup);
    return ma_error_set(err, MA_ERR_CONFIG, "%s \"%.*s%s\" is not one of: %s%s%s%s%s%s", what,
                        len > SHOWN_MAX ? SHOWN_MAX : (int)len, s, len > SHOWN_MAX ? "..." : "", ok,
                        *old ? " (also read: " : "", old, *old ? ")" : "", *unsup ? "; not supported: " : "", unsup);
}

int ma_xml_enum(const ma_xml_node *n, const char *attr, const ma_enum *table, int def, int opts, int *value,
                ma_error *err)
{
    char *v = n ? ma_xml_attr(n, attr) : NULL;
    int rc = ma_enum_parse(table, attr, v, def, opts, value, err);
    free(v);
    return rc;
}
