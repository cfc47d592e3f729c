/* crossref.c - Boomi Cross Reference Table components (crossref.h): <CrossRefTable> read into
 * columns and rows, the rows of an environment extension applied, and the lookup Boomi documents:
 * each input value is compared with its column, row by row, and the first row where all match
 * gives the output column; no match gives no value. Exact matching ignores case (Java's
 * equalsIgnoreCase), wildcard cells take * and ?, regex cells are Java regular expressions the
 * whole input must match (Matcher.matches(), through miniatom/jregex.h: decision 024). Decision 021. */
#include "crossref.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "miniatom/jregex.h"
#include "util.h"

struct ma_xref {
    char *where; /* "cross reference table 'Name' (id)" */
    ma_xref_match match;
    char **cols; /* column names */
    size_t ncols;
    char **cells; /* nrows * ncols, row-major; never NULL ("" for an empty cell) */
    size_t nrows;
    ma_jregex **re; /* a regex table: one per cell (NULL when it did not compile) */
    char **re_err;  /* a regex table: why a cell did not compile (NULL when it did) */
};

/* ---- building ---------------------------------------------------------------------------------------- */

static void free_rows(ma_xref *t)
{
    size_t n = t->nrows * t->ncols;
    for (size_t i = 0; t->cells && i < n; i++) free(t->cells[i]);
    for (size_t i = 0; t->re && i < n; i++) ma_jregex_free(t->re[i]);
    for (size_t i = 0; t->re_err && i < n; i++) free(t->re_err[i]);
    free(t->cells);
    free(t->re);
    free(t->re_err);
    t->cells = NULL;
    t->re = NULL;
    t->re_err = NULL;
    t->nrows = 0;
}

void ma_xref_free(ma_xref *t)
{
    if (!t) return;
    free_rows(t);
    for (size_t i = 0; i < t->ncols; i++) free(t->cols[i]);
    free(t->cols);
    free(t->where);
    free(t);
}

/* Compiles every cell of a regex table; a cell that does not compile keeps its reason. */
static int compile_cells(ma_xref *t, ma_error *err)
{
    size_t n = t->nrows * t->ncols;
    if (t->match != MA_XREF_REGEX || !n) return 0;
    t->re = calloc(n, sizeof *t->re);
    t->re_err = calloc(n, sizeof *t->re_err);
    if (!t->re || !t->re_err) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        ma_error e;
        ma_error_clear(&e);
        if (!(t->re[i] = ma_jregex_compile(t->cells[i], MA_JREGEX_WHOLE, &e)) &&
            !(t->re_err[i] = ma_strdup(e.msg[0] ? e.msg : "it does not compile")))
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

int ma_xref_set_rows(ma_xref *t, const char *const *cells, size_t n_rows, size_t n_cols, ma_error *err)
{
    if (n_cols != t->ncols)
        return ma_error_set(err, MA_ERR_USAGE, "%s: rows of %zu cells, not %zu", t->where, n_cols, t->ncols);
    free_rows(t);
    size_t n = n_rows * n_cols;
    if (n_rows && n / n_rows != n_cols) return ma_error_set(err, MA_ERR_LIMIT, "%s: too many rows", t->where);
    t->cells = calloc(n ? n : 1, sizeof *t->cells);
    if (!t->cells) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    t->nrows = n_rows;
    for (size_t i = 0; i < n; i++) {
        if (!(t->cells[i] = ma_strdup(cells[i] ? cells[i] : ""))) {
            for (size_t j = i + 1; j < n; j++) t->cells[j] = NULL;
            free_rows(t);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    }
    if (compile_cells(t, err) < 0) {
        free_rows(t);
        return -1;
    }
    return 0;
}

static int parse_index(const char *s, long max, long *out)
{
    if (!s || !*s) return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 0 || v >= max) return -1;
    *out = v;
    return 0;
}

/* <CrossRefTable matchType>: absent is exact (docs/decisions/021-cross-reference-tables.md) */
static const ma_enum match_types[] = {
    {"exact", MA_XREF_EXACT, 0},
    {"wildcard", MA_XREF_WILDCARD, 0},
    {"regex", MA_XREF_REGEX, 0},
    {NULL, 0, 0},
};

ma_xref *ma_xref_parse(const void *node, const char *where, ma_error *err)
{
    const xmlNode *tab = node;
    if (!tab || !ma_xml_is(tab, "CrossRefTable")) {
        ma_error_set(err, MA_ERR_CONFIG, "%s holds no <CrossRefTable> under <bns:object>", where);
        return NULL;
    }
    ma_xref *t = calloc(1, sizeof *t);
    char **cells = NULL;
    size_t ncells = 0;
    if (!t || !(t->where = ma_strdup(where))) goto oom;
    char *atom = ma_xml_attr(tab, "atomEnabled");
    int atom_on = atom && strcmp(atom, "true") == 0, match;
    free(atom);
    if (ma_xml_enum(tab, "matchType", match_types, MA_XREF_EXACT, 0, &match, err) < 0) {
        ma_error_prefix(err, "%s", where);
        goto fail;
    }
    t->match = match;
    if (atom_on) {
        ma_error_set(err, MA_ERR_UNSUPPORTED,
                     "%s: runtime-specific values (atomEnabled=\"true\") are not supported; an environment extension "
                     "(" MA_XREF_EXTENSIONS_FILE ") can give the rows instead",
                     where);
        goto fail;
    }
    const xmlNode *hdrs = ma_xml_child(tab, "ColumnHeaders");
    for (const xmlNode *h = ma_xml_child(hdrs, "columnHeader"); h; h = ma_xml_next(h, "columnHeader")) t->ncols++;
    if (!t->ncols) {
        ma_error_set(err, MA_ERR_CONFIG, "%s has no columns (<ColumnHeaders><columnHeader>)", where);
        goto fail;
    }
    if (t->ncols > MA_XREF_MAX_COLUMNS) {
        ma_error_set(err, MA_ERR_CONFIG, "%s has %zu columns; a cross reference table has at most %d", where, t->ncols,
                     MA_XREF_MAX_COLUMNS);
        goto fail;
    }
    if (!(t->cols = calloc(t->ncols, sizeof *t->cols))) goto oom;
    size_t k = 0;
    for (const xmlNode *h = ma_xml_child(hdrs, "columnHeader"); h; h = ma_xml_next(h, "columnHeader"))
        if (!(t->cols[k++] = ma_xml_text(h))) goto oom;
    size_t nrows = 0;
    const xmlNode *rows = ma_xml_child(tab, "Rows");
    for (const xmlNode *r = ma_xml_child(rows, "row"); r; r = ma_xml_next(r, "row")) nrows++;
    ncells = nrows * t->ncols;
    if (!(cells = calloc(ncells ? ncells : 1, sizeof *cells))) goto oom;
    size_t ri = 0;
    for (const xmlNode *r = ma_xml_child(rows, "row"); r; r = ma_xml_next(r, "row"), ri++) {
        size_t pos = 0;
        for (const xmlNode *ref = ma_xml_child(ma_xml_child(r, "Values"), "ref"); ref;
             ref = ma_xml_next(ref, "ref"), pos++) {
            char *ci = ma_xml_attr(ref, "colIdx");
            long col = (long)pos;
            int bad = ci ? parse_index(ci, (long)t->ncols, &col) : (pos < t->ncols ? 0 : -1);
            if (bad < 0) {
                ma_error_set(err, MA_ERR_CONFIG, "%s: row %zu: colIdx '%s' is not a column (0 to %zu)", where, ri + 1,
                             ci ? ci : "", t->ncols - 1);
                free(ci);
                goto fail;
            }
            free(ci);
            char **slot = &cells[ri * t->ncols + (size_t)col];
            free(*slot);
            if (!(*slot = ma_xml_attr(ref, "value")) && !(*slot = ma_strdup(""))) goto oom;
        }
    }
    if (ma_xref_set_rows(t, (const char *const *)cells, nrows, t->ncols, err) < 0) goto fail;
    for (size_t i = 0; i < ncells; i++) free(cells[i]);
    free(cells);
    return t;
oom:
    ma_error_set(err, MA_ERR_NOMEM, "out of memory");
fail:
    for (size_t i = 0; cells && i < ncells; i++) free(cells[i]);
    free(cells);
    ma_xref_free(t);
    return NULL;
}

/* ---- environment extensions -------------------------------------------------------------------------- */

/* v as one JSON object or an array of them: the count, and element i. */
static size_t jlist_size(const json_t *v) { return json_is_array(v) ? json_array_size(v) : json_is_object(v) ? 1 : 0; }
static json_t *jlist_at(const json_t *v, size_t i) { return json_is_array(v) ? json_array_get(v, i) : (json_t *)v; }

static int jtrue(const json_t *v)
{
    return json_is_true(v) || (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0);
}

int ma_xref_apply_extensions(ma_xref *t, const char *table_id, const char *text, size_t len, const char *source,
                             ma_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) return ma_error_set(err, MA_ERR_PARSE, "%s:%d: not valid JSON: %s", source, je.line, je.text);
    int rc = 0;
    const char **cells = NULL;
    json_t *ext = json_object_get(root, "EnvironmentExtensions");
    if (!ext) ext = root;
    if (!json_is_object(ext)) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: not an EnvironmentExtensions object", source);
        goto out;
    }
    json_t *list = json_object_get(json_object_get(ext, "crossReferences"), "crossReference");
    for (size_t i = 0; i < jlist_size(list); i++) {
        json_t *x = jlist_at(list, i);
        const char *id = json_string_value(json_object_get(x, "id"));
        if (!id || strcmp(id, table_id) != 0 || !jtrue(json_object_get(x, "overrideValues"))) continue;
        json_t *rows = json_object_get(json_object_get(x, "CrossReferenceRows"), "row");
        size_t n = jlist_size(rows);
        if (n > SIZE_MAX / MA_XREF_MAX_COLUMNS / sizeof *cells - 1) {
            rc = ma_error_set(err, MA_ERR_LIMIT, "%s: too many rows", source);
            goto out;
        }
        cells = calloc(n * t->ncols + 1, sizeof *cells);
        if (!cells) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t r = 0; r < n; r++) {
            json_t *row = jlist_at(rows, r);
            const char *key;
            json_t *v;
            json_object_foreach (row, key, v) {
                if (strncmp(key, "ref", 3) != 0 || !key[3]) continue; /* "@type" and the like */
                char *end;
                long c = strtol(key + 3, &end, 10);
                if (*end || c < 1 || c > MA_XREF_MAX_COLUMNS) continue;
                if ((size_t)c > t->ncols) {
                    rc = ma_error_set(err, MA_ERR_CONFIG, "%s: crossReference %s row %zu: %s, but %s has %zu columns",
                                      source, id, r + 1, key, t->where, t->ncols);
                    goto out;
                }
                if (!json_is_string(v)) {
                    rc = ma_error_set(err, MA_ERR_CONFIG, "%s: crossReference %s row %zu: %s is not a string", source,
                                      id, r + 1, key);
                    goto out;
                }
                cells[r * t->ncols + (size_t)c - 1] = json_string_value(v);
            }
        }
        rc = ma_xref_set_rows(t, cells, n, t->ncols, err);
        if (rc < 0) ma_error_prefix(err, "%s: crossReference %s", source, id);
        goto out; /* the first override of the table wins */
    }
out:
    free(cells);
    json_decref(root);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------------------------- */

size_t ma_xref_columns(const ma_xref *t) { return t->ncols; }
size_t ma_xref_rows(const ma_xref *t) { return t->nrows; }
const char *ma_xref_column_name(const ma_xref *t, size_t col) { return col < t->ncols ? t->cols[col] : ""; }
const char *ma_xref_name(const ma_xref *t) { return t->where; }
ma_xref_match ma_xref_match_type(const ma_xref *t) { return t->match; }

int ma_xref_column(const ma_xref *t, const char *id, const char *name, size_t *col, ma_error *err)
{
    long v;
    if (parse_index(id, (long)t->ncols + 1, &v) == 0 && v >= 1) {
        *col = (size_t)v - 1;
        return 0;
    }
    ma_sb b;
    ma_sb_init(&b);
    for (size_t i = 0; i < t->ncols; i++) ma_sb_printf(&b, "%s%zu '%s'", i ? ", " : "", i + 1, t->cols[i]);
    ma_error_set(err, MA_ERR_CONFIG, "column %s%s%s%s is not a column of %s (columns %s)", id && *id ? id : "(none)",
                 name && *name ? " ('" : "", name && *name ? name : "", name && *name ? "')" : "", t->where,
                 b.s ? b.s : "");
    ma_sb_free(&b);
    return -1;
}

int ma_xref_check_inputs(const ma_xref *t, const size_t *cols, size_t n, ma_error *err)
{
    if (!t->re_err) return 0;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < n; i++) {
            const char *why = t->re_err[r * t->ncols + cols[i]];
            if (why)
                return ma_error_set(err, MA_ERR_CONFIG, "%s: row %zu column %zu ('%s'): regular expression '%s': %s",
                                    t->where, r + 1, cols[i] + 1, t->cols[cols[i]], t->cells[r * t->ncols + cols[i]],
                                    why);
        }
    return 0;
}

/* ---- matching ---------------------------------------------------------------------------------------- */

/* The simple lower case of cp for the scripts Java's equalsIgnoreCase folds most often: ASCII,
 * Latin-1, Latin Extended-A, Greek and Cyrillic (and a few letters whose upper or lower case
 * lies elsewhere). Other characters compare as they are. */
static unsigned fold(unsigned cp)
{
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
    if (cp >= 0x100 && cp <= 0x17F) {
        if (cp == 0x130 || cp == 0x131) return 'i';
        if (cp == 0x17F) return 's';
        if (cp == 0x178) return 0xFF;
        if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) return cp & 1 ? cp + 1 : cp;
        if (cp == 0x138 || cp == 0x149) return cp;
        return cp & 1 ? cp : cp + 1;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;
    if (cp == 0x3C2) return 0x3C3;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
    if (cp == 0x212A) return 'k';
    if (cp == 0x212B) return 0xE5;
    return cp;
}

/* The next character of *s, folded (an invalid byte stands for itself, above Unicode). */
static unsigned next_cp(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    unsigned cp;
    size_t n = ma_utf8_decode_inline(p, strnlen(*s, 4), &cp);
    if (!n) {
        *s += 1;
        return 0x110000u + *p;
    }
    *s += n;
    return fold(cp);
}

static int equal_ic(const char *a, const char *b)
{
    while (*a && *b)
        if (next_cp(&a) != next_cp(&b)) return 0;
    return !*a && !*b;
}

/* Whole-value wildcard match of s against pattern p (* any run, ? one character), ignoring case. */
static int wildcard_ic(const char *s, const char *p)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = ++p;
            resume = s;
            continue;
        }
        const char *s1 = s, *p1 = p;
        unsigned cs = next_cp(&s1);
        if (*p == '?') {
            s = s1;
            p++;
            continue;
        }
        if (*p && next_cp(&p1) == cs) {
            s = s1;
            p = p1;
            continue;
        }
        if (!star) return 0;
        p = star;
        next_cp(&resume); /* the run the last * takes grows by one character */
        s = resume;
    }
    while (*p == '*') p++;
    return !*p;
}

int ma_xref_lookup(const ma_xref *t, const size_t *cols, const char *const *vals, size_t n, size_t out_col,
                   const char **out, ma_error *err)
{
    *out = NULL;
    if (out_col >= t->ncols) return ma_error_set(err, MA_ERR_USAGE, "%s: no column %zu", t->where, out_col + 1);
    for (size_t r = 0; r < t->nrows; r++) {
        int all = 1;
        for (size_t i = 0; i < n && all; i++) {
            const char *v = vals[i] ? vals[i] : "";
            if (!*v) continue; /* an empty key constrains nothing */
            if (cols[i] >= t->ncols) return ma_error_set(err, MA_ERR_USAGE, "%s: no column %zu", t->where, cols[i] + 1);
            size_t at = r * t->ncols + cols[i];
            switch (t->match) {
            case MA_XREF_EXACT: all = equal_ic(v, t->cells[at]); break;
            case MA_XREF_WILDCARD: all = wildcard_ic(v, t->cells[at]); break;
            case MA_XREF_REGEX:
                if (t->re_err[at])
                    return ma_error_set(err, MA_ERR_CONFIG, "%s: row %zu column %zu: %s", t->where, r + 1, cols[i] + 1,
                                        t->re_err[at]);
                if ((all = ma_jregex_match(t->re[at], v, strlen(v), err)) < 0) {
                    ma_error_prefix(err, "%s: row %zu column %zu", t->where, r + 1, cols[i] + 1);
                    return -1;
                }
                break;
            }
        }
        if (all) {
            *out = t->cells[r * t->ncols + out_col];
            return 1;
        }
    }
    return 0;
}

/* ---- the component ----------------------------------------------------------------------------------- */

static void xref_free_void(void *p) { ma_xref_free(p); }

const ma_xref *ma_xref_compiled(const ma_deploy *dep, const char *id)
{
    ma_component *c = id ? ma_deploy_find(dep, id) : NULL;
    return c && c->compiled && c->compiled_free == xref_free_void ? c->compiled : NULL;
}

const ma_xref *ma_xref_for(ma_deploy *dep, const char *id, ma_error *err)
{
    ma_component *c = ma_deploy_ref(dep, id, "crossref", "cross reference table", err);
    if (!c) return NULL;
    if (strcmp(c->type, "crossref") != 0) {
        ma_error_set(err, MA_ERR_REF, "cross reference table %s is a component of type '%s' ('%s' in %s)", id, c->type,
                     c->name, c->file);
        return NULL;
    }
    if (c->compiled) return c->compiled;
    char *where = ma_asprintf("cross reference table '%s' (%s)", c->name, c->id);
    if (!where) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ma_xref *t = ma_xref_parse(c->object, where, err);
    free(where);
    if (!t) {
        ma_error_prefix(err, "%s:%d", c->file, c->line);
        return NULL;
    }
    if (dep->root) {
        char *path = ma_asprintf("%s/%s", dep->root, MA_XREF_EXTENSIONS_FILE);
        if (!path) {
            ma_xref_free(t);
            ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            return NULL;
        }
        if (access(path, F_OK) == 0) {
            size_t len;
            char *text = ma_read_file(path, dep->opts.max_file_size, &len, err);
            int rc = text ? ma_xref_apply_extensions(t, c->id, text, len, path, err) : -1;
            free(text);
            if (rc < 0) {
                free(path);
                ma_xref_free(t);
                return NULL;
            }
        }
        free(path);
    }
    c->compiled = t;
    c->compiled_free = xref_free_void;
    return t;
}
