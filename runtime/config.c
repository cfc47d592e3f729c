/* config.c - settings and config maps (miniatom/config.h): the one reader of configuration files
 * and --set arguments (key = value lines, as Boomi's container.properties), and the one value
 * grammar every declared setting is checked and read with (docs/configuration.md). */
#include "miniatom/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_SETTINGS_FILE (1u << 20)
#define MAX_SETTINGS 100000

typedef struct setting {
    char *key, *value, *origin; /* owned */
} setting;

struct ma_settings {
    setting *v;
    size_t n, cap;
};

ma_settings *ma_settings_new(void) { return calloc(1, sizeof(ma_settings)); }

void ma_settings_free(ma_settings *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        free(s->v[i].value);
        free(s->v[i].origin);
    }
    free(s->v);
    free(s);
}

int ma_settings_add(ma_settings *s, const char *key, const char *value, const char *origin, ma_error *err)
{
    if (s->n == MAX_SETTINGS) return ma_error_set(err, MA_ERR_LIMIT, "more than %d settings", MAX_SETTINGS);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        setting *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        s->v = nv;
        s->cap = cap;
    }
    setting *e = &s->v[s->n];
    e->key = ma_strdup(key);
    e->value = ma_strdup(value);
    e->origin = ma_strdup(origin ? origin : "--set");
    if (!e->key || !e->value || !e->origin) {
        free(e->key);
        free(e->value);
        free(e->origin);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    s->n++;
    return 0;
}

/* Drops blanks (space, tab, CR) at both ends, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) *--e = '\0';
    return s;
}

/* Splits one line at its first '=' into trimmed key and value; -1 when it is not "key = value". */
static int split_line(char *line, char **key, char **value)
{
    char *eq = strchr(line, '=');
    if (!eq) return -1;
    *eq = '\0';
    *key = trim(line);
    *value = trim(eq + 1);
    return **key ? 0 : -1;
}

int ma_settings_load_file(ma_settings *s, const char *path, ma_error *err)
{
    size_t len;
    char *buf = ma_read_file(path, MAX_SETTINGS_FILE, &len, err);
    if (!buf) return -1;
    if (memchr(buf, '\0', len)) {
        free(buf);
        return ma_error_set(err, MA_ERR_CONFIG, "%s: not a text file (it holds a NUL byte)", path);
    }
    size_t before = s->n;
    int rc = 0, line = 0;
    for (char *l = buf; l && rc == 0;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = '\0';
        line++;
        char *t = trim(l), *k, *v;
        if (*t && *t != '#' && *t != '!') {
            if (split_line(t, &k, &v) < 0) {
                rc = ma_error_set(err, MA_ERR_CONFIG, "%s:%d: expected 'key = value'", path, line);
            } else {
                char origin[4200];
                snprintf(origin, sizeof origin, "%.4096s:%d", path, line);
                rc = ma_settings_add(s, k, v, origin, err);
            }
        }
        l = nl ? nl + 1 : NULL;
    }
    free(buf);
    if (rc < 0) { /* nothing of a file that is not valid is kept */
        while (s->n > before) {
            setting *e = &s->v[--s->n];
            free(e->key);
            free(e->value);
            free(e->origin);
        }
    }
    return rc;
}

int ma_settings_add_arg(ma_settings *s, const char *kv, ma_error *err)
{
    char *dup = ma_strdup(kv), *k, *v;
    if (!dup) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    int rc = split_line(dup, &k, &v) < 0 ? ma_error_set(err, MA_ERR_USAGE, "--set wants KEY=VALUE, not '%s'", kv)
                                         : ma_settings_add(s, k, v, "--set", err);
    free(dup);
    return rc;
}

static const setting *find(const ma_settings *s, const char *key)
{
    for (size_t i = s ? s->n : 0; i-- > 0;)
        if (strcmp(s->v[i].key, key) == 0) return &s->v[i];
    return NULL;
}

const char *ma_settings_get(const ma_settings *s, const char *key)
{
    const setting *e = find(s, key);
    return e ? e->value : NULL;
}

const char *ma_settings_origin(const ma_settings *s, const char *key)
{
    const setting *e = find(s, key);
    return e ? e->origin : NULL;
}

size_t ma_settings_count(const ma_settings *s) { return s ? s->n : 0; }

int ma_settings_at(const ma_settings *s, size_t i, const char **key, const char **value, const char **origin)
{
    if (!s || i >= s->n) return -1;
    if (key) *key = s->v[i].key;
    if (value) *value = s->v[i].value;
    if (origin) *origin = s->v[i].origin;
    return 0;
}

/* ---- the value grammar -------------------------------------------------------------------------- */

static int fail(char *why, size_t whyn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t whyn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && whyn) vsnprintf(why, whyn, fmt, ap);
    va_end(ap);
    return -1;
}

/* Digits only, no sign, no blanks; -1 when not a whole number or too big. */
static int parse_digits(const char *v, const char **end, unsigned long long *out)
{
    if (!isdigit((unsigned char)*v)) return -1;
    unsigned long long x = 0;
    const char *p = v;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (x > (~0ull - d) / 10) return -1;
        x = x * 10 + d;
    }
    *end = p;
    *out = x;
    return 0;
}

static int scale(unsigned long long x, unsigned long long m, unsigned long long *out)
{
    if (m && x > ~0ull / m) return -1;
    *out = x * m;
    return 0;
}

/* "512", "16KB", "1 MiB": units are powers of 1024. */
static int parse_size(const char *v, unsigned long long *out)
{
    const char *e;
    unsigned long long x;
    if (parse_digits(v, &e, &x) < 0) return -1;
    while (*e == ' ') e++;
    static const struct {
        const char *u;
        unsigned long long m;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"K", 1ull << 10},
        {"KB", 1ull << 10},
        {"KiB", 1ull << 10},
        {"M", 1ull << 20},
        {"MB", 1ull << 20},
        {"MiB", 1ull << 20},
        {"G", 1ull << 30},
        {"GB", 1ull << 30},
        {"GiB", 1ull << 30},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcasecmp(e, units[i].u) == 0) return scale(x, units[i].m, out);
    return -1;
}

/* "500ms", "30s", "2m", "1h" -> milliseconds; a bare "0" needs no unit. */
static int parse_duration(const char *v, unsigned long long *out)
{
    const char *e;
    unsigned long long x;
    if (parse_digits(v, &e, &x) < 0) return -1;
    if (!*e && x == 0) return *out = 0, 0;
    while (*e == ' ') e++;
    static const struct {
        const char *u;
        unsigned long long m;
    } units[] = {
        {"ms", 1},
        {"s", 1000},
        {"m", 60000},
        {"h", 3600000},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(e, units[i].u) == 0) return scale(x, units[i].m, out);
    return -1;
}

static int parse_bool(const char *v, unsigned long long *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = 0, 0;
    }
    return -1;
}

static const char *unit_of(ma_config_kind k)
{
    return k == MA_CONFIG_SIZE ? " bytes" : k == MA_CONFIG_DURATION ? " ms" : "";
}

int ma_config_parse(const ma_config_entry *e, const char *v, uint64_t *num, char *why, size_t whyn)
{
    /* a secret is never repeated: its value is shown as "..." */
    const char *shown = e->flags & MA_CONFIG_SECRET ? "..." : v;
    unsigned long long x = 0;
    struct stat st;
    if (!*v && !(e->flags & MA_CONFIG_EMPTY)) return fail(why, whyn, "a value is required");
    switch (e->kind) {
    case MA_CONFIG_STRING: break;
    case MA_CONFIG_FILE:
        if (stat(v, &st) != 0 || !S_ISREG(st.st_mode) || access(v, R_OK) != 0)
            return fail(why, whyn, "'%s' is not a readable file", shown);
        break;
    case MA_CONFIG_DIR:
        if (stat(v, &st) != 0 || !S_ISDIR(st.st_mode)) return fail(why, whyn, "'%s' is not a directory", shown);
        break;
    case MA_CONFIG_BOOL:
        if (parse_bool(v, &x) < 0) return fail(why, whyn, "expected true or false, not '%s'", shown);
        break;
    case MA_CONFIG_ENUM: {
        size_t i = 0;
        for (; e->choices && e->choices[i]; i++)
            if (strcmp(v, e->choices[i]) == 0) break;
        if (!e->choices || !e->choices[i]) {
            char list[256] = "";
            for (size_t k = 0; e->choices && e->choices[k]; k++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", k ? (e->choices[k + 1] ? ", " : " or ") : "",
                         e->choices[k]);
            }
            return fail(why, whyn, "expected %s, not '%s'", list, shown);
        }
        x = i;
        break;
    }
    case MA_CONFIG_UINT: {
        const char *end = v;
        if (*v == '-' || parse_digits(v, &end, &x) < 0 || *end) {
            if (e->max)
                return fail(why, whyn, "expected a whole number from %llu to %llu, not '%s'", e->min, e->max, shown);
            return fail(why, whyn, "expected a whole number, not '%s'", shown);
        }
        break;
    }
    case MA_CONFIG_SIZE:
        if (parse_size(v, &x) < 0) return fail(why, whyn, "expected a size such as 1MB, 16KB or 512, not '%s'", shown);
        break;
    case MA_CONFIG_DURATION:
        if (parse_duration(v, &x) < 0)
            return fail(why, whyn, "expected a duration with its unit (ms, s, m, h) such as 30s or 500ms, not '%s'",
                        shown);
        break;
    }
    int numeric = e->kind == MA_CONFIG_UINT || e->kind == MA_CONFIG_SIZE || e->kind == MA_CONFIG_DURATION;
    if (numeric && e->max && (x < e->min || x > e->max)) {
        if (e->kind == MA_CONFIG_UINT)
            return fail(why, whyn, "'%s' is out of range: expected a whole number from %llu to %llu", shown, e->min,
                        e->max);
        return fail(why, whyn, "'%s' is out of range (%llu to %llu%s)", shown, e->min, e->max, unit_of(e->kind));
    }
    if (e->check && e->check(v, why, whyn) < 0) return -1;
    if (num) *num = x;
    return 0;
}

int ma_config_check_value(const ma_config_entry *e, const char *value, char *why, size_t whyn)
{
    return ma_config_parse(e, value, NULL, why, whyn);
}

/* Does key match pattern? A "*" segment matches one segment; a final "*" matches the rest (one
 * segment or more). */
static int key_match(const char *pat, const char *key)
{
    while (*pat) {
        if (pat[0] == '*' && (pat[1] == '.' || !pat[1])) {
            if (!*key || *key == '.') return 0;
            if (!pat[1]) return 1; /* the rest, whatever it holds */
            const char *dot = strchr(key, '.');
            if (!dot) return 0;
            key = dot;
            pat++;
            continue;
        }
        if (*pat != *key) return 0;
        pat++, key++;
    }
    return !*key;
}

const ma_config_entry *ma_config_find(const ma_config_entry *map, const char *key)
{
    for (const ma_config_entry *e = map; e && e->key; e++)
        if (key_match(e->key, key)) return e;
    return NULL;
}

static void store(const ma_config_entry *e, void *out, const char *v, uint64_t num)
{
    char *at = (char *)out + (e->at - 1);
    switch (e->kind) {
    case MA_CONFIG_STRING:
    case MA_CONFIG_FILE:
    case MA_CONFIG_DIR: *(const char **)(void *)at = v; break;
    case MA_CONFIG_BOOL:
    case MA_CONFIG_ENUM: *(int *)(void *)at = (int)num; break;
    default: *(uint64_t *)(void *)at = num; break;
    }
}

int ma_config_read(const ma_config_entry *map, const char *prefix, const ma_settings *s, void *out, ma_error *err)
{
    char key[512], why[600];
    for (const ma_config_entry *e = map; e && e->key; e++) {
        if (!e->at) continue;
        snprintf(key, sizeof key, "%s%s", prefix ? prefix : "", e->key);
        const char *v = ma_settings_get(s, key), *origin = ma_settings_origin(s, key);
        if (!v) v = e->def, origin = "(default)";
        if (!v) continue;
        uint64_t num = 0;
        if (ma_config_parse(e, v, &num, why, sizeof why) < 0)
            return ma_error_set(err, MA_ERR_CONFIG, "%s: %s: %s", origin, key, why);
        store(e, out, v, num);
    }
    return 0;
}
