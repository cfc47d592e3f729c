/* fss_decode.c - the Flow wire format (fss_decode.h): Flow types, requests decoded and checked with
 * ma_jv_parse (miniatom/json.h), request documents written as JSON text, the query filter as XML,
 * and returned documents encoded as ServiceResponse outputs and ObjectDataResponse objects with the
 * field names and casing of the samples in shared/spec/flow-samples
 * (reference/flow-services-protocol.md 2). */
#include "fss_decode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "miniatom/helpers.h"
#include "miniatom/json.h"

/* ---- UTF-8 ------------------------------------------------------------------------------------ */

/* in as UTF-8 of at most outn - 1 bytes: whole characters, anything not UTF-8 as '?'. Returns the length. */
static size_t utf8_clean(const char *in, char *out, size_t outn)
{
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    size_t n = 0, left = strlen((const char *)p);
    while (left) {
        unsigned cp;
        size_t l = ma_utf8_decode(p, left, &cp);
        if (n + (l ? l : 1) >= outn) break;
        if (l) memcpy(out + n, p, l), n += l, p += l, left -= l;
        else out[n++] = '?', p++, left--;
    }
    out[n] = '\0';
    return n;
}

/* ---- Flow types ------------------------------------------------------------------------------ */

static const char *const kind_names[] = {"ContentString",   "ContentNumber",  "ContentBoolean", "ContentDateTime",
                                         "ContentPassword", "ContentContent", "ContentObject",  "ContentList"};

const char *fss_kind_name(fss_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof *kind_names ? kind_names[k] : "ContentString";
}

int fss_kind_parse(const char *s)
{
    if (!s) return -1;
    for (size_t i = 0; i < sizeof kind_names / sizeof *kind_names; i++)
        if (strcasecmp(s, kind_names[i]) == 0) return (int)i;
    if (strcasecmp(s, "ContentEncrypted") == 0) return FSS_PASSWORD;
    return -1;
}

fss_type *fss_types_add(fss_types *set, const char *name)
{
    if (set->n == set->cap) {
        size_t c = set->cap ? set->cap * 2 : 8;
        fss_type **nv = realloc(set->v, c * sizeof *nv);
        if (!nv) return NULL;
        set->v = nv;
        set->cap = c;
    }
    fss_type *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (name && !(t->name = ma_strdup(name))) {
        free(t);
        return NULL;
    }
    set->v[set->n++] = t;
    return t;
}

int fss_types_has(const fss_types *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i]->name && strcmp(set->v[i]->name, name) == 0) return 1;
    return 0;
}

int fss_type_add_field(fss_type *t, const char *name, fss_kind kind, fss_type *type)
{
    if (t->n == t->cap) {
        size_t c = t->cap ? t->cap * 2 : 8;
        fss_field *nv = realloc(t->fields, c * sizeof *nv);
        if (!nv) return -1;
        t->fields = nv;
        t->cap = c;
    }
    char *n = ma_strdup(name);
    if (!n) return -1;
    t->fields[t->n].name = n;
    t->fields[t->n].kind = kind;
    t->fields[t->n].type = type;
    t->n++;
    return 0;
}

const fss_field *fss_type_field(const fss_type *t, const char *name)
{
    if (!t || !name) return NULL;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->fields[i].name, name) == 0) return &t->fields[i];
    return NULL;
}

void fss_types_free(fss_types *set)
{
    for (size_t i = 0; i < set->n; i++) {
        fss_type *t = set->v[i];
        for (size_t k = 0; k < t->n; k++) free(t->fields[k].name);
        free(t->fields);
        free(t->name);
        free(t->summary);
        free(t);
    }
    free(set->v);
    memset(set, 0, sizeof *set);
}

/* ---- decoding ---------------------------------------------------------------------------------- */

typedef struct dctx {
    char *why;
    size_t whyn;
    char path[256];
} dctx;

static int json_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int bad(dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(dctx *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->why, c->whyn, "%s%s%s", c->path, c->path[0] ? ": " : "", msg);
    return 1;
}

/* Appends ".name" or "[i]" to the path for the duration of a check; returns the old length. */
static size_t path_push(dctx *c, const char *name, long idx)
{
    size_t l = strlen(c->path), n = l, room = sizeof c->path - 1;
    char num[24];
    if (!name) { /* "[idx]" */
        size_t k = sizeof num;
        num[--k] = '\0';
        num[--k] = ']';
        unsigned long v = (unsigned long)idx;
        do num[--k] = (char)('0' + v % 10);
        while ((v /= 10) && k > 1);
        num[--k] = '[';
        name = num + k;
    } else if (l && n < room) {
        c->path[n++] = '.';
    }
    for (; *name && n < room; name++) c->path[n++] = *name;
    c->path[n] = '\0';
    return l;
}
static void path_pop(dctx *c, size_t l) { c->path[l] = '\0'; }

/* Member that must be a string or null (or absent). *out: the string, NULL for absent/null/"". */
static int want_str(dctx *c, const ma_jv *o, const char *name, const char **out)
{
    const ma_jv *v = ma_jv_get(o, name);
    if (out) *out = NULL;
    if (!v || ma_jv_is_null(v)) return 0;
    if (!ma_jv_is(v, MA_JV_STRING)) {
        size_t l = path_push(c, name, 0);
        int r = bad(c, "must be a string or null");
        path_pop(c, l);
        return r;
    }
    if (out && v->n) *out = ma_jv_str(v);
    return 0;
}

static int want_kind(dctx *c, const ma_jv *o, const char *name, int (*is)(const ma_jv *), const char *what,
                     const ma_jv **out)
{
    const ma_jv *v = ma_jv_get(o, name);
    if (out) *out = NULL;
    if (!v || ma_jv_is_null(v)) return 0;
    if (!is(v)) {
        size_t l = path_push(c, name, 0);
        int r = bad(c, "must be %s or null", what);
        path_pop(c, l);
        return r;
    }
    if (out) *out = v;
    return 0;
}
static int is_array(const ma_jv *v) { return ma_jv_is(v, MA_JV_ARRAY); }
static int is_object(const ma_jv *v) { return ma_jv_is(v, MA_JV_OBJECT); }
static int is_scalar(const ma_jv *v) { return ma_jv_is(v, MA_JV_STRING) || ma_jv_is_number(v) || ma_jv_is_bool(v); }

static int check_objects(dctx *c, const ma_jv *arr, int depth);

/* contentValue, contentType, developerName, objectData: shared by EngineValue and Property. */
static int check_valueish(dctx *c, const ma_jv *v, int depth)
{
    if (!ma_jv_is(v, MA_JV_OBJECT)) return bad(c, "must be an object");
    const ma_jv *od;
    if (want_str(c, v, "developerName", NULL) || want_str(c, v, "contentType", NULL) ||
        want_kind(c, v, "contentValue", is_scalar, "a string, a number, a boolean", NULL) ||
        want_kind(c, v, "objectData", is_array, "an array", &od))
        return 1;
    if (od) {
        size_t l = path_push(c, "objectData", 0);
        int r = check_objects(c, od, depth + 1);
        path_pop(c, l);
        if (r) return r;
    }
    return 0;
}

static int check_values(dctx *c, const ma_jv *arr, int depth)
{
    if (ma_jv_size(arr) > FSS_MAX_ITEMS) return bad(c, "more than %d items", FSS_MAX_ITEMS);
    for (size_t i = 0; i < ma_jv_size(arr); i++) {
        size_t l = path_push(c, NULL, (long)i);
        int r = check_valueish(c, ma_jv_at(arr, i), depth);
        path_pop(c, l);
        if (r) return r;
    }
    return 0;
}

static int check_objects(dctx *c, const ma_jv *arr, int depth)
{
    if (depth > FSS_MAX_DEPTH) return bad(c, "objects are nested deeper than %d levels", FSS_MAX_DEPTH);
    if (ma_jv_size(arr) > FSS_MAX_ITEMS) return bad(c, "more than %d items", FSS_MAX_ITEMS);
    for (size_t i = 0; i < ma_jv_size(arr); i++) {
        const ma_jv *o = ma_jv_at(arr, i);
        size_t l = path_push(c, NULL, (long)i);
        const ma_jv *props;
        int r =
            !ma_jv_is(o, MA_JV_OBJECT) ? bad(c, "must be an object")
            : (want_str(c, o, "developerName", NULL) || want_kind(c, o, "externalId", is_scalar, "a string", NULL) ||
               want_kind(c, o, "internalId", is_scalar, "a string", NULL) ||
               want_kind(c, o, "properties", is_array, "an array", &props))
                ? 1
                : 0;
        if (!r && props) {
            size_t l2 = path_push(c, "properties", 0);
            r = check_values(c, props, depth);
            path_pop(c, l2);
        }
        path_pop(c, l);
        if (r) return r;
    }
    return 0;
}

static int want_int(dctx *c, const ma_jv *o, const char *name, long long *out)
{
    const ma_jv *v = ma_jv_get(o, name);
    *out = 0;
    if (!v || ma_jv_is_null(v)) return 0;
    if (ma_jv_is(v, MA_JV_INTEGER) && v->i >= 0) {
        *out = v->i;
        return 0;
    }
    if (ma_jv_is(v, MA_JV_REAL) && v->d >= 0 && v->d < 9e15 && v->d == (double)(long long)v->d) {
        *out = (long long)v->d;
        return 0;
    }
    size_t l = path_push(c, name, 0);
    int r = bad(c, "must be a whole number from 0, or null");
    path_pop(c, l);
    return r;
}

static int check_filter(dctx *c, const ma_jv *f, int depth)
{
    if (depth > FSS_MAX_DEPTH) return bad(c, "filters are nested deeper than %d levels", FSS_MAX_DEPTH);
    const ma_jv *where, *nested, *order;
    if (want_str(c, f, "comparisonType", NULL) || want_kind(c, f, "where", is_array, "an array", &where) ||
        want_kind(c, f, "listFilters", is_array, "an array", &nested) ||
        want_kind(c, f, "orderBy", is_array, "an array", &order) ||
        want_str(c, f, "orderByPropertyDeveloperName", NULL) || want_str(c, f, "orderByDirectionType", NULL) ||
        want_str(c, f, "search", NULL))
        return 1;
    if (ma_jv_size(where) > FSS_MAX_ITEMS || ma_jv_size(nested) > FSS_MAX_ITEMS || ma_jv_size(order) > FSS_MAX_ITEMS)
        return bad(c, "more than %d filter items", FSS_MAX_ITEMS);
    for (size_t i = 0; i < ma_jv_size(where); i++) {
        const ma_jv *w = ma_jv_at(where, i);
        size_t l = path_push(c, "where", 0);
        size_t l2 = path_push(c, NULL, (long)i);
        int r = !ma_jv_is(w, MA_JV_OBJECT) ? bad(c, "must be an object")
                : (want_str(c, w, "columnName", NULL) || want_str(c, w, "criteriaType", NULL) ||
                   want_kind(c, w, "value", is_scalar, "a string", NULL) ||
                   want_kind(c, w, "contentValue", is_scalar, "a string", NULL))
                    ? 1
                    : 0;
        path_pop(c, l2);
        path_pop(c, l);
        if (r) return r;
    }
    for (size_t i = 0; i < ma_jv_size(order); i++) {
        const ma_jv *o = ma_jv_at(order, i);
        size_t l = path_push(c, "orderBy", 0);
        size_t l2 = path_push(c, NULL, (long)i);
        int r = !ma_jv_is(o, MA_JV_OBJECT) ? bad(c, "must be an object")
                : (want_str(c, o, "columnName", NULL) || want_str(c, o, "direction", NULL)) ? 1
                                                                                            : 0;
        path_pop(c, l2);
        path_pop(c, l);
        if (r) return r;
    }
    for (size_t i = 0; i < ma_jv_size(nested); i++) {
        const ma_jv *n = ma_jv_at(nested, i);
        size_t l = path_push(c, "listFilters", 0);
        size_t l2 = path_push(c, NULL, (long)i);
        int r = !ma_jv_is(n, MA_JV_OBJECT) ? bad(c, "must be an object") : check_filter(c, n, depth + 1);
        path_pop(c, l2);
        path_pop(c, l);
        if (r) return r;
    }
    return 0;
}

static int url_ok(const char *u)
{
    const char *rest = NULL;
    if (strncasecmp(u, "https://", 8) == 0) rest = u + 8;
    else if (strncasecmp(u, "http://", 7) == 0) rest = u + 7;
    if (!rest || !*rest || *rest == '/') return 0;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) return 0;
    return 1;
}

/* The text of a scalar (strings as they are, numbers as JSON writes them, true/false) into buf
 * (at least 32 bytes) or borrowed; NULL for null, absent, objects and arrays. */
static const char *scalar_text(const ma_jv *v, char *buf, size_t bufn)
{
    if (!v) return NULL;
    switch (v->type) {
    case MA_JV_STRING: return v->s;
    case MA_JV_TRUE: return "true";
    case MA_JV_FALSE: return "false";
    case MA_JV_INTEGER: snprintf(buf, bufn, "%lld", v->i); return buf;
    case MA_JV_REAL: return ma_real_text(v->d, buf, bufn); /* the shortest text that reads back as the same number */
    default: return NULL;
    }
}

const char *fss_content_value(const ma_jv *v, char *buf, size_t bufn)
{
    return scalar_text(ma_jv_get(v, "contentValue"), buf, bufn);
}

const char *fss_object_id(const ma_jv *object, const char *member)
{
    static __thread char buf[64];
    const ma_jv *v = ma_jv_get(object, member);
    if (!v || ma_jv_is_null(v)) return NULL;
    if (ma_jv_is(v, MA_JV_STRING)) return v->n ? ma_jv_str(v) : NULL;
    if (ma_jv_is(v, MA_JV_INTEGER)) {
        snprintf(buf, sizeof buf, "%lld", v->i);
        return buf;
    }
    return NULL;
}

void fss_req_free(fss_req *r)
{
    ma_jv_free(r->root);
    memset(r, 0, sizeof *r);
}

/* What the decoder reads of each kind of request (ma_jv_parse): the other members are checked
 * as JSON and dropped without being built. A Flow value (EngineValue, Property) may hold objects
 * whose properties are values again. */
static const ma_json_keep keep_object;
static const char *const value_names[] = {"developerName", "contentValue", "contentType", "objectData", NULL};
static const ma_json_keep *const value_subs[] = {NULL, NULL, NULL, &keep_object};
static const ma_json_keep keep_value = {value_names, value_subs};
static const char *const object_names[] = {"developerName", "externalId", "internalId", "properties", NULL};
static const ma_json_keep *const object_subs[] = {NULL, NULL, NULL, &keep_value};
static const ma_json_keep keep_object = {object_names, object_subs};
static const char *const culture_names[] = {"language", "country", "variant", NULL};
static const ma_json_keep *const culture_subs[] = {NULL, NULL, NULL};
static const ma_json_keep keep_culture = {culture_names, culture_subs};
/* the members of every request, then those of its kind; authorization, listFilter and
 * objectDataType are kept whole */
#define COMMON_NAMES \
    "token", "tenantId", "stateId", "callbackUri", "uri", "culture", "configurationValues", "authorization"
#define COMMON_SUBS NULL, NULL, NULL, NULL, NULL, &keep_culture, &keep_value, NULL
static const char *const describe_names[] = {COMMON_NAMES, NULL};
static const ma_json_keep *const describe_subs[] = {COMMON_SUBS};
static const char *const service_names[] = {COMMON_NAMES, "inputs", NULL};
static const ma_json_keep *const service_subs[] = {COMMON_SUBS, &keep_value};
static const char *const data_names[] = {COMMON_NAMES, "objectData", "objectDataType", "listFilter", NULL};
static const ma_json_keep *const data_subs[] = {COMMON_SUBS, &keep_object, NULL, NULL};
static const char *const file_names[] = {COMMON_NAMES, "resourcePath", "resourceFile", "path", "listFilter", NULL};
static const ma_json_keep *const file_subs[] = {COMMON_SUBS, NULL, NULL, NULL, NULL};
static const ma_json_keep keep_request[] = {
    [FSS_REQ_DESCRIBE] = {describe_names, describe_subs},
    [FSS_REQ_SERVICE] = {service_names, service_subs},
    [FSS_REQ_DATA] = {data_names, data_subs},
    [FSS_REQ_FILE] = {file_names, file_subs},
};

int fss_req_decode(fss_req *r, fss_req_kind kind, const char *body, size_t len, char *why, size_t whyn)
{
    memset(r, 0, sizeof *r);
    dctx c = {why, whyn, ""};
    if (whyn) why[0] = '\0';
    size_t i = 0;
    if (len >= 3 && (unsigned char)body[0] == 0xEF && (unsigned char)body[1] == 0xBB && (unsigned char)body[2] == 0xBF)
        i = 3;
    while (i < len && json_ws(body[i])) i++;
    if (i == len) {
        if (kind == FSS_REQ_DESCRIBE) return 0;
        return bad(&c, "the request body is empty");
    }
    ma_error je;
    ma_error_clear(&je);
    r->root = ma_jv_parse(body + i, len - i, 0, &keep_request[kind], &je);
    if (!r->root) {
        if (je.code == MA_ERR_NOMEM) return -1;
        return bad(&c, "the request body is not JSON: %s", je.msg);
    }
    if (!ma_jv_is(r->root, MA_JV_OBJECT)) return bad(&c, "the request body must be a JSON object");
    const ma_jv *o = r->root, *culture;
    if (want_str(&c, o, "token", &r->token) || want_str(&c, o, "tenantId", &r->tenant_id) ||
        want_str(&c, o, "stateId", &r->state_id) || want_str(&c, o, "callbackUri", &r->callback_uri) ||
        want_str(&c, o, "uri", &r->uri) || want_kind(&c, o, "culture", is_object, "an object", &culture) ||
        want_kind(&c, o, "configurationValues", is_array, "an array", &r->config) ||
        want_kind(&c, o, "authorization", is_object, "an object", &r->authorization))
        return 1;
    if (culture) {
        const char *lang, *country, *variant;
        size_t l = path_push(&c, "culture", 0);
        int rc = want_str(&c, culture, "language", &lang) || want_str(&c, culture, "country", &country) ||
                 want_str(&c, culture, "variant", &variant);
        path_pop(&c, l);
        if (rc) return 1;
        snprintf(r->culture, sizeof r->culture, "%s%s%s%s%s", lang ? lang : "", lang && (country || variant) ? "-" : "",
                 country ? country : "", country && variant ? "-" : "", variant ? variant : "");
    }
    if (r->config) {
        size_t l = path_push(&c, "configurationValues", 0);
        int rc = check_values(&c, r->config, 0);
        path_pop(&c, l);
        if (rc) return 1;
    }
    if (r->callback_uri && !url_ok(r->callback_uri)) return bad(&c, "callbackUri must be an http or https URL");
    switch (kind) {
    case FSS_REQ_DESCRIBE: break;
    case FSS_REQ_SERVICE:
        if (want_kind(&c, o, "inputs", is_array, "an array", &r->inputs)) return 1;
        if (r->inputs) {
            size_t l = path_push(&c, "inputs", 0);
            int rc = check_values(&c, r->inputs, 0);
            path_pop(&c, l);
            if (rc) return 1;
        }
        break;
    case FSS_REQ_DATA: {
        const ma_jv *odt;
        if (want_kind(&c, o, "objectData", is_array, "an array", &r->objects) ||
            want_kind(&c, o, "objectDataType", is_object, "an object", &odt) ||
            want_kind(&c, o, "listFilter", is_object, "an object", &r->list_filter))
            return 1;
        if (r->objects) {
            size_t l = path_push(&c, "objectData", 0);
            int rc = check_objects(&c, r->objects, 0);
            path_pop(&c, l);
            if (rc) return 1;
        }
        if (odt) {
            size_t l = path_push(&c, "objectDataType", 0);
            int rc = want_str(&c, odt, "developerName", &r->type_name);
            path_pop(&c, l);
            if (rc) return 1;
        }
        if (r->list_filter) {
            size_t l = path_push(&c, "listFilter", 0);
            const ma_jv *id = ma_jv_get(r->list_filter, "id");
            int rc = 0;
            if (id && ma_jv_is(id, MA_JV_STRING) && id->n) r->filter_id = ma_jv_str(id);
            else if (id && ma_jv_is(id, MA_JV_INTEGER)) {
                snprintf(r->filter_id_buf, sizeof r->filter_id_buf, "%lld", id->i);
                r->filter_id = r->filter_id_buf;
            } else if (id && !ma_jv_is_null(id) && !ma_jv_is(id, MA_JV_STRING)) {
                size_t l2 = path_push(&c, "id", 0);
                rc = bad(&c, "must be a string or null");
                path_pop(&c, l2);
            }
            if (!rc)
                rc = want_int(&c, r->list_filter, "limit", &r->limit) ||
                     want_int(&c, r->list_filter, "offset", &r->offset) ||
                     want_str(&c, r->list_filter, "search", &r->search) || check_filter(&c, r->list_filter, 0);
            path_pop(&c, l);
            if (rc) return 1;
        }
        break;
    }
    case FSS_REQ_FILE: {
        if (want_str(&c, o, "resourcePath", &r->resource_path) || want_str(&c, o, "resourceFile", &r->resource_file) ||
            want_str(&c, o, "path", &r->path) ||
            want_kind(&c, o, "listFilter", is_object, "an object", &r->list_filter))
            return 1;
        if (r->list_filter) {
            size_t l = path_push(&c, "listFilter", 0);
            int rc = want_int(&c, r->list_filter, "limit", &r->limit) ||
                     want_int(&c, r->list_filter, "offset", &r->offset) ||
                     want_str(&c, r->list_filter, "search", &r->search) ||
                     want_str(&c, r->list_filter, "orderByPropertyDeveloperName", NULL) ||
                     want_str(&c, r->list_filter, "orderByDirectionType", NULL);
            path_pop(&c, l);
            if (rc) return 1;
        }
        break;
    }
    }
    return 0;
}

/* ---- requests into documents ------------------------------------------------------------------- */

/* A JSON number as JSON writes it (RFC 8259 6), at most 64 characters. */
static int json_number_text(const char *s)
{
    const char *p = s;
    if (strlen(s) > 64) return 0;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p)) p++;
    else return 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    return *p == '\0';
}

/* The kind a value is read as: its field's, else its contentType's, else by its objectData. */
static fss_kind value_kind(const ma_jv *v, const fss_field *f)
{
    if (f) return f->kind;
    int k = fss_kind_parse(ma_jv_str(ma_jv_get(v, "contentType")));
    if (k >= 0) return (fss_kind)k;
    const ma_jv *od = ma_jv_get(v, "objectData");
    if (ma_jv_is(od, MA_JV_ARRAY) && ma_jv_size(od)) return ma_jv_size(od) > 1 ? FSS_LIST : FSS_OBJECT;
    return FSS_STRING;
}

static void write_object(ma_sb *b, const ma_jv *obj, const fss_type *t, int depth);

/* Writes "name":value for an EngineValue or Property v; nothing when it has no value. */
static void write_member(ma_sb *b, int *first, const char *name, const ma_jv *v, const fss_field *f, int depth)
{
    fss_kind k = value_kind(v, f);
    const ma_jv *od = ma_jv_get(v, "objectData");
    char buf[64];
    const char *cv = fss_content_value(v, buf, sizeof buf);
    if (k == FSS_OBJECT || k == FSS_LIST) {
        if (!ma_jv_is(od, MA_JV_ARRAY) || depth >= FSS_MAX_DEPTH) return;
        if (k == FSS_OBJECT && !ma_jv_size(od)) return;
    } else if (!cv) {
        return;
    }
    if (!*first) ma_sb_putc(b, ',');
    *first = 0;
    ma_sb_json_str(b, name);
    ma_sb_putc(b, ':');
    switch (k) {
    case FSS_OBJECT: write_object(b, ma_jv_at(od, 0), f ? f->type : NULL, depth + 1); break;
    case FSS_LIST:
        ma_sb_putc(b, '[');
        for (size_t i = 0; i < ma_jv_size(od); i++) {
            if (i) ma_sb_putc(b, ',');
            write_object(b, ma_jv_at(od, i), f ? f->type : NULL, depth + 1);
        }
        ma_sb_putc(b, ']');
        break;
    case FSS_NUMBER:
        if (json_number_text(cv)) ma_sb_puts(b, cv);
        else ma_sb_json_str(b, cv);
        break;
    case FSS_BOOLEAN:
        if (strcasecmp(cv, "true") == 0) ma_sb_lit(b, "true");
        else if (strcasecmp(cv, "false") == 0) ma_sb_lit(b, "false");
        else ma_sb_json_str(b, cv);
        break;
    default: ma_sb_json_str(b, cv); break;
    }
}

/* Writes the members of an array of values, the first of each name only. */
static void write_members(ma_sb *b, const ma_jv *values, const fss_type *t, int depth)
{
    size_t n = ma_jv_size(values);
    json_t *seen = n > 16 ? json_object() : NULL; /* a set; a few names are compared one by one */
    if (n > 16 && !seen) b->oom = 1;
    int first = 1;
    for (size_t i = 0; i < n && !b->oom; i++) {
        const ma_jv *v = ma_jv_at(values, i);
        const char *name = ma_jv_str(ma_jv_get(v, "developerName"));
        if (!name || !*name) continue;
        int dup = 0;
        if (seen) {
            dup = json_object_get(seen, name) != NULL;
            if (!dup && json_object_set_new(seen, name, json_true())) b->oom = 1;
        } else {
            for (size_t k = 0; k < i && !dup; k++)
                dup = ma_streq(ma_jv_str(ma_jv_get(ma_jv_at(values, k), "developerName")), name);
        }
        if (!dup) write_member(b, &first, name, v, fss_type_field(t, name), depth);
    }
    json_decref(seen);
}

static void write_object(ma_sb *b, const ma_jv *obj, const fss_type *t, int depth)
{
    ma_sb_putc(b, '{');
    write_members(b, ma_jv_get(obj, "properties"), t, depth);
    ma_sb_putc(b, '}');
}

char *fss_inputs_document(const fss_req *r, const fss_type *root, size_t *len)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_putc(&b, '{');
    write_members(&b, r->inputs, root, 0);
    ma_sb_putc(&b, '}');
    return ma_sb_take(&b, len);
}

char *fss_object_document(const ma_jv *object, const fss_type *t, size_t *len)
{
    ma_sb b;
    ma_sb_init(&b);
    write_object(&b, object, t, 0);
    return ma_sb_take(&b, len);
}

/* XML text or attribute value; characters XML 1.0 cannot hold are left out. */
static void xml_escape(ma_sb *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': ma_sb_lit(b, "&amp;"); break;
        case '<': ma_sb_lit(b, "&lt;"); break;
        case '>': ma_sb_lit(b, "&gt;"); break;
        case '"': ma_sb_lit(b, "&quot;"); break;
        case '\'': ma_sb_lit(b, "&apos;"); break;
        default:
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') break;
            if (*p == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) { /* U+FFFE, U+FFFF */
                p += 2;
                break;
            }
            ma_sb_putc(b, (char)*p);
        }
    }
}

static const char *filter_op(const ma_jv *f)
{
    const char *ct = ma_jv_str(ma_jv_get(f, "comparisonType"));
    return ct && strcasecmp(ct, "OR") == 0 ? "or" : "and";
}

static int filter_has_terms(const ma_jv *f)
{
    return ma_jv_size(ma_jv_get(f, "where")) || ma_jv_size(ma_jv_get(f, "listFilters"));
}

static void write_terms(ma_sb *b, const ma_jv *f, int depth)
{
    const ma_jv *where = ma_jv_get(f, "where");
    for (size_t i = 0; i < ma_jv_size(where); i++) {
        const ma_jv *w = ma_jv_at(where, i);
        const char *col = ma_jv_str(ma_jv_get(w, "columnName"));
        const char *op = ma_jv_str(ma_jv_get(w, "criteriaType"));
        char buf[64];
        const char *v = fss_content_value(w, buf, sizeof buf);
        if (!v) v = scalar_text(ma_jv_get(w, "value"), buf, sizeof buf);
        ma_sb_lit(b, "<nestedExpression operator=\"");
        xml_escape(b, op ? op : "EQUAL");
        ma_sb_lit(b, "\" property=\"");
        xml_escape(b, col ? col : "");
        ma_sb_lit(b, "\">");
        if (v) {
            ma_sb_lit(b, "<argument>");
            xml_escape(b, v);
            ma_sb_lit(b, "</argument>");
        }
        ma_sb_lit(b, "</nestedExpression>");
    }
    if (depth >= FSS_MAX_DEPTH) return;
    const ma_jv *nested = ma_jv_get(f, "listFilters");
    for (size_t i = 0; i < ma_jv_size(nested); i++) {
        const ma_jv *n = ma_jv_at(nested, i);
        if (!filter_has_terms(n)) continue;
        ma_sb_printf(b, "<nestedExpression operator=\"%s\">", filter_op(n));
        write_terms(b, n, depth + 1);
        ma_sb_lit(b, "</nestedExpression>");
    }
}

static void write_sort(ma_sb *b, const char *prop, const char *dir)
{
    if (!prop || !*prop) return;
    ma_sb_lit(b, "<sort property=\"");
    xml_escape(b, prop);
    ma_sb_printf(b, "\" sortOrder=\"%s\"></sort>", dir && strcasecmp(dir, "DESC") == 0 ? "DESC" : "ASC");
}

char *fss_query_filter_xml(const fss_req *r, size_t *len)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "<QueryFilter>");
    const ma_jv *f = r->list_filter;
    if (f) {
        if (filter_has_terms(f)) {
            ma_sb_printf(&b, "<expression operator=\"%s\">", filter_op(f));
            write_terms(&b, f, 0);
            ma_sb_lit(&b, "</expression>");
        }
        write_sort(&b, ma_jv_str(ma_jv_get(f, "orderByPropertyDeveloperName")),
                   ma_jv_str(ma_jv_get(f, "orderByDirectionType")));
        const ma_jv *order = ma_jv_get(f, "orderBy");
        for (size_t i = 0; i < ma_jv_size(order); i++) {
            const ma_jv *o = ma_jv_at(order, i);
            write_sort(&b, ma_jv_str(ma_jv_get(o, "columnName")), ma_jv_str(ma_jv_get(o, "direction")));
        }
    }
    ma_sb_lit(&b, "</QueryFilter>");
    return ma_sb_take(&b, len);
}

static json_t *jstr_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* ---- results into responses ------------------------------------------------------------------- *
 * Written straight into a string buffer (no JSON tree built for them): this is the hot path of every message action. */

static void put_str_or_null(ma_sb *b, const char *s)
{
    if (s) ma_sb_json_str(b, s);
    else ma_sb_lit(b, "null");
}

/* contentValue: null, a scalar's text, or the compact JSON of an object or array, as a JSON string. */
static void put_content(ma_sb *b, const ma_jv *v)
{
    char buf[64];
    if (!v || ma_jv_is_null(v)) {
        ma_sb_lit(b, "null");
        return;
    }
    const char *t = scalar_text(v, buf, sizeof buf);
    if (t) {
        ma_sb_json_str(b, t);
        return;
    }
    ma_sb tmp;
    ma_sb_init(&tmp);
    ma_jv_write(&tmp, v);
    if (tmp.oom) b->oom = 1;
    else ma_sb_json_str(b, tmp.s ? tmp.s : "");
    ma_sb_free(&tmp);
}

static fss_kind kind_of(const ma_jv *v)
{
    if (ma_jv_is(v, MA_JV_OBJECT)) return FSS_OBJECT;
    if (ma_jv_is(v, MA_JV_ARRAY)) return FSS_LIST;
    if (ma_jv_is_number(v)) return FSS_NUMBER;
    if (ma_jv_is_bool(v)) return FSS_BOOLEAN;
    return FSS_STRING;
}

static int is_complex(fss_kind k) { return k == FSS_OBJECT || k == FSS_LIST; }

/* "<prefix> - <name>": the type of an object the profile does not name. */
static char *sub_name(const char *prefix, const char *name)
{
    return ma_asprintf("%s - %s", prefix && *prefix ? prefix : "Object", name);
}

static const ma_jv *member_ci(const ma_jv *o, const char *name)
{
    for (size_t i = 0; i < ma_jv_size(o); i++)
        if (strcasecmp(o->v[i].key, name) == 0) return &o->v[i];
    return NULL;
}

/* externalId of an object: "externalId"/"externalid", else "id" in any case, else fallback. */
static void put_external_id(ma_sb *b, const ma_jv *o, const char *fallback)
{
    const ma_jv *v = ma_jv_get(o, "externalId");
    if (!v) v = ma_jv_get(o, "externalid");
    if (!v || ma_jv_is_null(v)) v = member_ci(o, "id");
    char buf[64];
    const char *t = v && (ma_jv_is(v, MA_JV_STRING) || ma_jv_is_number(v)) ? scalar_text(v, buf, sizeof buf) : NULL;
    put_str_or_null(b, t && *t ? t : fallback);
}

static void put_object(ma_sb *b, const ma_jv *o, const fss_type *t, const char *type_name, size_t order,
                       const char *ext, const char *internal, int depth);

/* The objects of a value of kind k (an object, or the objects of an array; an OBJECT takes the first),
 * numbered from *order, comma-separated after *first. */
static void put_objects(ma_sb *b, const ma_jv *v, fss_kind k, const fss_type *t, const char *type_name, size_t *order,
                        int *first, int depth)
{
    if (depth >= FSS_MAX_DEPTH) return;
    if (ma_jv_is(v, MA_JV_OBJECT)) {
        if (!*first) ma_sb_putc(b, ',');
        *first = 0;
        put_object(b, v, t, type_name, (*order)++, NULL, NULL, depth + 1);
        return;
    }
    size_t n = ma_jv_size(v);
    for (size_t i = 0; i < n; i++) {
        const ma_jv *it = ma_jv_at(v, i);
        if (!ma_jv_is(it, MA_JV_OBJECT)) continue;
        if (!*first) ma_sb_putc(b, ',');
        *first = 0;
        put_object(b, it, t, type_name, (*order)++, NULL, NULL, depth + 1);
        if (k == FSS_OBJECT) break;
    }
}

/* A Property (PropertyAPI, the samples' member order). v may be NULL (absent). */
static void put_property(ma_sb *b, const char *name, const ma_jv *v, fss_kind k, const fss_type *t,
                         const char *type_name, int depth)
{
    ma_sb_lit(b, "{\"typeElementPropertyId\":null,\"developerName\":");
    ma_sb_json_str(b, name);
    ma_sb_lit(b, ",\"contentType\":\"");
    ma_sb_puts(b, fss_kind_name(k));
    ma_sb_lit(b, "\",\"contentValue\":");
    if (is_complex(k)) ma_sb_lit(b, "null");
    else put_content(b, v);
    ma_sb_lit(b, ",\"contentFormat\":null,\"objectData\":");
    if (!is_complex(k)) ma_sb_lit(b, "[]");
    else if (!v || ma_jv_is_null(v)) ma_sb_lit(b, "null");
    else {
        size_t order = 0;
        int first = 1;
        ma_sb_putc(b, '[');
        put_objects(b, v, k, t, type_name, &order, &first, depth);
        ma_sb_putc(b, ']');
    }
    ma_sb_putc(b, '}');
}

static void put_object(ma_sb *b, const ma_jv *o, const fss_type *t, const char *type_name, size_t order,
                       const char *ext, const char *internal, int depth)
{
    ma_sb_lit(b, "{\"internalId\":");
    put_str_or_null(b, internal);
    ma_sb_lit(b, ",\"externalId\":");
    put_external_id(b, o, ext);
    ma_sb_lit(b, ",\"developerName\":");
    put_str_or_null(b, type_name);
    ma_sb_printf(b, ",\"typeElementId\":null,\"order\":%zu,\"properties\":[", order);
    if (t) {
        for (size_t i = 0; i < t->n; i++) {
            const fss_field *f = &t->fields[i];
            char *nested = is_complex(f->kind) && !(f->type && f->type->name) ? sub_name(type_name, f->name) : NULL;
            if (is_complex(f->kind) && !(f->type && f->type->name) && !nested) b->oom = 1;
            if (i) ma_sb_putc(b, ',');
            put_property(b, f->name, ma_jv_get(o, f->name), f->kind, f->type,
                         nested    ? nested
                         : f->type ? f->type->name
                                   : NULL,
                         depth);
            free(nested);
        }
    } else {
        for (size_t i = 0; i < ma_jv_size(o); i++) {
            const char *k = o->v[i].key;
            const ma_jv *v = &o->v[i];
            fss_kind kk = kind_of(v);
            char *nested = is_complex(kk) ? sub_name(type_name, k) : NULL;
            if (is_complex(kk) && !nested) b->oom = 1;
            if (i) ma_sb_putc(b, ',');
            put_property(b, k, v, kk, NULL, nested, depth);
            free(nested);
        }
    }
    ma_sb_lit(b, "],\"isSelected\":false}");
}

/* Parses a returned document: NULL with why when it is not JSON (or not allowed), *empty for an
 * empty document. */
static ma_jv *parse_doc(const fss_doc *d, size_t i, int allow_array, int *empty, char *why, size_t whyn, int *oom)
{
    const char *p = d->data;
    size_t len = d->len;
    *empty = 0;
    if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
        p += 3, len -= 3;
    while (len && json_ws(*p)) p++, len--;
    if (!len) {
        *empty = 1;
        return NULL;
    }
    ma_error je;
    ma_error_clear(&je);
    ma_jv *v = ma_jv_parse(p, len, 0, NULL, &je);
    if (!v) {
        if (je.code == MA_ERR_NOMEM) *oom = 1;
        else snprintf(why, whyn, "returned document %zu is not JSON: %s", i + 1, je.msg);
        return NULL;
    }
    if (!ma_jv_is(v, MA_JV_OBJECT) && !(allow_array && ma_jv_is(v, MA_JV_ARRAY))) {
        snprintf(why, whyn, "returned document %zu is not a JSON object%s", i + 1,
                 allow_array ? " or an array of objects" : "");
        ma_jv_free(v);
        return NULL;
    }
    return v;
}

/* One output EngineValue (the samples' member order): the member `name` of the parsed documents read
 * as kind k. */
static void put_output(ma_sb *b, ma_jv *const *docs, size_t n, const char *name, fss_kind k, const fss_type *t,
                       const char *type_name)
{
    ma_sb_lit(b, "{\"valueElementId\":null,\"typeElementId\":null,\"typeElementPropertyId\":null,\"developerName\":");
    ma_sb_json_str(b, name);
    ma_sb_lit(b, ",\"typeElementDeveloperName\":");
    put_str_or_null(b, is_complex(k) ? type_name : NULL);
    ma_sb_lit(b, ",\"typeElementPropertyDeveloperName\":null,\"contentValue\":");
    const ma_jv *first_v = NULL;
    for (size_t i = 0; i < n && !first_v; i++) {
        const ma_jv *v = docs[i] ? ma_jv_get(docs[i], name) : NULL;
        if (v && !ma_jv_is_null(v)) first_v = v;
    }
    if (is_complex(k)) ma_sb_lit(b, "null");
    else put_content(b, first_v);
    ma_sb_lit(b, ",\"contentType\":\"");
    ma_sb_puts(b, fss_kind_name(k));
    ma_sb_lit(b, "\",\"objectData\":");
    if (!is_complex(k) || !first_v) {
        ma_sb_lit(b, "null}");
        return;
    }
    /* objects: the first document's for an object; every document's, in order, for a list */
    size_t order = 0;
    int first = 1;
    ma_sb_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        const ma_jv *v = docs[i] ? ma_jv_get(docs[i], name) : NULL;
        if (!v || ma_jv_is_null(v)) continue;
        put_objects(b, v, k, t, type_name, &order, &first, 0);
        if (k == FSS_OBJECT) break;
    }
    ma_sb_lit(b, "]}");
}

char *fss_outputs(const fss_type *root, const char *prefix, const fss_doc *docs, size_t n, char *why, size_t whyn,
                  int *oom, size_t *len)
{
    *oom = 0;
    ma_jv **parsed = calloc(n ? n : 1, sizeof *parsed); /* owned, each freed with ma_jv_free */
    ma_sb b;
    ma_sb_init(&b);
    if (!parsed) goto oom;
    for (size_t i = 0; i < n; i++) {
        int empty;
        parsed[i] = parse_doc(&docs[i], i, 0, &empty, why, whyn, oom);
        if (!parsed[i] && !empty) goto fail;
    }
    ma_sb_putc(&b, '[');
    if (root) {
        for (size_t i = 0; i < root->n; i++) {
            const fss_field *f = &root->fields[i];
            char *nested = is_complex(f->kind) && !(f->type && f->type->name) ? sub_name(prefix, f->name) : NULL;
            if (is_complex(f->kind) && !(f->type && f->type->name) && !nested) goto oom;
            if (i) ma_sb_putc(&b, ',');
            put_output(&b, parsed, n, f->name, f->kind, f->type, nested ? nested : f->type ? f->type->name : NULL);
            free(nested);
        }
    } else {
        int first = 1;
        for (size_t d = 0; d < n; d++) {
            for (size_t m = 0; m < ma_jv_size(parsed[d]); m++) {
                const char *k = parsed[d]->v[m].key;
                int seen = 0; /* named by an earlier document */
                for (size_t e = 0; e < d && !seen; e++) seen = parsed[e] && ma_jv_get(parsed[e], k);
                if (seen) continue;
                /* the kind: of the first document where the member is not null */
                const ma_jv *firstv = NULL;
                for (size_t e = d; e < n && !firstv; e++) {
                    const ma_jv *x = parsed[e] ? ma_jv_get(parsed[e], k) : NULL;
                    if (x && !ma_jv_is_null(x)) firstv = x;
                }
                fss_kind kk = firstv ? kind_of(firstv) : FSS_STRING;
                char *tn = is_complex(kk) ? sub_name(prefix, k) : NULL;
                if (is_complex(kk) && !tn) goto oom;
                if (!first) ma_sb_putc(&b, ',');
                first = 0;
                put_output(&b, parsed, n, k, kk, NULL, tn);
                free(tn);
            }
        }
    }
    ma_sb_putc(&b, ']');
    for (size_t i = 0; i < n; i++) ma_jv_free(parsed[i]);
    free(parsed);
    if (b.oom) {
        ma_sb_free(&b);
        *oom = 1;
        return NULL;
    }
    return ma_sb_take(&b, len);
oom:
    *oom = 1;
fail:
    for (size_t i = 0; parsed && i < n; i++) ma_jv_free(parsed[i]);
    free(parsed);
    ma_sb_free(&b);
    return NULL;
}

char *fss_objects(const fss_type *t, const char *type_name, const fss_doc *docs, size_t n, long long offset,
                  long long limit, int *more, char *why, size_t whyn, int *oom, size_t *len)
{
    *oom = 0;
    *more = 0;
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_putc(&b, '[');
    size_t index = 0, order = 0; /* index: every object; order: those in the page */
    for (size_t i = 0; i < n; i++) {
        int empty;
        ma_jv *v = parse_doc(&docs[i], i, 1, &empty, why, whyn, oom);
        if (!v) {
            if (empty) continue;
            ma_sb_free(&b);
            return NULL;
        }
        size_t cnt = ma_jv_is(v, MA_JV_ARRAY) ? ma_jv_size(v) : 1;
        for (size_t k = 0; k < cnt; k++, index++) {
            const ma_jv *o = ma_jv_is(v, MA_JV_ARRAY) ? ma_jv_at(v, k) : v;
            if (!ma_jv_is(o, MA_JV_OBJECT)) {
                snprintf(why, whyn, "returned document %zu: item %zu is not a JSON object", i + 1, k + 1);
                ma_jv_free(v);
                ma_sb_free(&b);
                return NULL;
            }
            if ((long long)index < offset) continue;
            if (limit > 0 && (long long)order >= limit) {
                *more = 1;
                continue;
            }
            if (order) ma_sb_putc(&b, ',');
            put_object(&b, o, t, type_name, order++, docs[i].external_id, docs[i].internal_id, 0);
        }
        ma_jv_free(v);
    }
    ma_sb_putc(&b, ']');
    if (b.oom) {
        ma_sb_free(&b);
        *oom = 1;
        return NULL;
    }
    return ma_sb_take(&b, len);
}

static char *dump(json_t *v, size_t *len)
{
    if (!v) return NULL;
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (s && len) *len = strlen(s);
    return s;
}

char *fss_service_response(const char *token, const char *tenant_id, const char *invoke_type, const char *wait_message,
                           const char *outputs, const char *fault, size_t *len)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"token\":");
    put_str_or_null(&b, token);
    ma_sb_lit(&b, ",\"tenantId\":");
    put_str_or_null(&b, tenant_id);
    ma_sb_lit(&b, ",\"culture\":null,\"annotations\":{},\"invokeType\":");
    ma_sb_json_str(&b, invoke_type);
    ma_sb_lit(&b, ",\"waitMessage\":");
    put_str_or_null(&b, wait_message);
    ma_sb_lit(&b, ",\"outputs\":");
    ma_sb_puts(&b, outputs ? outputs : "[]");
    ma_sb_lit(&b, ",\"selectedOutcomeId\":null,\"rootFaults\":{");
    if (fault) {
        char clean[1024];
        utf8_clean(fault, clean, sizeof clean);
        ma_sb_lit(&b, "\"error\":");
        ma_sb_json_str(&b, clean);
    }
    ma_sb_lit(&b, "},\"valueFaults\":[],\"mode\":null}");
    if (b.oom) {
        ma_sb_free(&b);
        return NULL;
    }
    return ma_sb_take(&b, len);
}

char *fss_object_data_response(const char *objects, int has_more, size_t *len)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"culture\":null,\"objectData\":");
    ma_sb_puts(&b, objects ? objects : "[]");
    ma_sb_puts(&b, has_more ? ",\"hasMoreResults\":true}" : ",\"hasMoreResults\":false}");
    if (b.oom) {
        ma_sb_free(&b);
        return NULL;
    }
    return ma_sb_take(&b, len);
}

char *fss_service_problem(const char *uri, int status, const char *message, size_t *len)
{
    char msg[501], u[1024]; /* the message cut to 500 bytes, as the JSDK cuts it */
    size_t n = utf8_clean(message, msg, sizeof msg);
    utf8_clean(uri, u, sizeof u);
    json_t *r = json_object();
    json_t *m = json_stringn(msg, n);
    if (!r) {
        json_decref(m);
        return NULL;
    }
    if (json_object_set_new(r, "kind", json_string("service")) ||
        json_object_set_new(r, "uri", uri ? json_string(u) : json_null()) ||
        json_object_set_new(r, "statusCode", json_integer(status)) ||
        json_object_set_new(r, "responseBody", json_null()) || json_object_set_new(r, "responseHeaders", json_null()) ||
        json_object_set_new(r, "message", m) || json_object_set_new(r, "invokeType", json_null()) ||
        json_object_set_new(r, "action", json_null())) {
        json_decref(r);
        return NULL;
    }
    return dump(r, len);
}

/* ---- describe --------------------------------------------------------------------------------- */

json_t *fss_describe_value(const char *name, fss_kind kind, const char *type_name, int required, int ordinal)
{
    json_t *v = json_object();
    if (!v || json_object_set_new(v, "developerName", json_string(name)) ||
        json_object_set_new(v, "contentValue", json_null()) ||
        json_object_set_new(v, "contentType", json_string(fss_kind_name(kind))) ||
        json_object_set_new(v, "typeElementDeveloperName", jstr_or_null(type_name)) ||
        json_object_set_new(v, "ordinal", json_integer(ordinal)) ||
        json_object_set_new(v, "required", json_boolean(required)) ||
        json_object_set_new(v, "order", json_integer(ordinal)) ||
        json_object_set_new(v, "isRequired", json_boolean(required))) {
        json_decref(v);
        return NULL;
    }
    return v;
}

json_t *fss_type_element(const fss_type *t)
{
    json_t *e = json_object(), *props = json_array(), *pbs = json_array(), *bindings = NULL;
    if (!e || !props || !pbs) goto oom;
    for (size_t i = 0; i < t->n; i++) {
        const fss_field *f = &t->fields[i];
        json_t *p = json_object(), *pb = json_object();
        if (!p || !pb || json_object_set_new(p, "id", json_null()) ||
            json_object_set_new(p, "developerName", json_string(f->name)) ||
            json_object_set_new(p, "contentFormat", json_null()) ||
            json_object_set_new(p, "contentType", json_string(fss_kind_name(f->kind))) ||
            json_object_set_new(p, "typeElementId", json_null()) ||
            json_object_set_new(p, "typeElementDeveloperName", jstr_or_null(f->type ? f->type->name : NULL)) ||
            json_object_set_new(pb, "databaseFieldName", json_string(f->name)) ||
            json_object_set_new(pb, "typeElementPropertyId", json_null()) ||
            json_object_set_new(pb, "typeElementPropertyDeveloperName", json_string(f->name)) ||
            json_object_set_new(pb, "databaseContentType", json_null()) || json_array_append_new(props, p)) {
            json_decref(p);
            json_decref(pb);
            goto oom;
        }
        if (json_array_append_new(pbs, pb)) goto oom;
    }
    if (t->bound) {
        json_t *b = json_object();
        char *summary = ma_asprintf("The binding for %s", t->name ? t->name : "");
        bindings = json_array();
        int e2 = !b || !summary || !bindings || json_object_set_new(b, "id", json_null()) ||
                 json_object_set_new(b, "developerName", jstr_or_null(t->name)) ||
                 json_object_set_new(b, "developerSummary", json_string(summary)) ||
                 json_object_set_new(b, "databaseTableName", jstr_or_null(t->name)) ||
                 json_object_set_new(b, "serviceElementId", json_null());
        free(summary);
        if (e2) {
            json_decref(b);
            goto oom;
        }
        e2 = json_object_set_new(b, "propertyBindings", pbs);
        pbs = NULL;
        if (e2 || json_array_append_new(bindings, b)) goto oom;
    }
    json_decref(pbs);
    pbs = NULL;
    if (json_object_set_new(e, "elementType", json_string("TYPE")) ||
        json_object_set_new(e, "developerName", jstr_or_null(t->name)) ||
        json_object_set_new(e, "developerSummary", jstr_or_null(t->summary)) ||
        json_object_set_new(e, "id", json_null()) || json_object_set_new(e, "serviceElementId", json_null()))
        goto oom;
    int e3 = json_object_set_new(e, "properties", props);
    props = NULL;
    e3 = e3 || json_object_set_new(e, "bindings", bindings ? bindings : json_null());
    bindings = NULL;
    if (e3 || json_object_set_new(e, "updateByName", json_false())) goto oom;
    return e;
oom:
    json_decref(e);
    json_decref(props);
    json_decref(pbs);
    json_decref(bindings);
    return NULL;
}

/* ---- multipart/form-data ---------------------------------------------------------------------- */

/* Parameter `name` of a header value ("form-data; name=\"x\"; filename=\"a.txt\""), unquoted, into out. */
static int header_param(const char *h, size_t hl, const char *name, char *out, size_t outn)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i + nl < hl; i++) {
        if ((i == 0 || h[i - 1] == ';' || h[i - 1] == ' ' || h[i - 1] == '\t') && strncasecmp(h + i, name, nl) == 0 &&
            h[i + nl] == '=') {
            const char *v = h + i + nl + 1, *end = h + hl;
            size_t o = 0;
            if (v < end && *v == '"') {
                v++;
                while (v < end && *v != '"') {
                    if (*v == '\\' && v + 1 < end) v++;
                    if (o + 1 < outn) out[o++] = *v;
                    v++;
                }
            } else {
                while (v < end && *v != ';' && *v != ' ' && *v != '\t') {
                    if (o + 1 < outn) out[o++] = *v;
                    v++;
                }
            }
            out[o] = '\0';
            return 1;
        }
    }
    if (outn) out[0] = '\0';
    return 0;
}

static const char *find_mem(const char *h, size_t hl, const char *n, size_t nl)
{
    return nl <= hl ? memmem(h, hl, n, nl) : NULL;
}

int fss_multipart(const char *content_type, const char *body, size_t len, fss_upload *out, char *why, size_t whyn)
{
    memset(out, 0, sizeof *out);
    if (!content_type || strncasecmp(content_type, "multipart/form-data", 19) != 0) {
        snprintf(why, whyn, "the upload is not multipart/form-data");
        return 1;
    }
    char bnd[80];
    if (!header_param(content_type, strlen(content_type), "boundary", bnd, sizeof bnd) || !*bnd || strlen(bnd) > 70) {
        snprintf(why, whyn, "the multipart/form-data Content-Type has no valid boundary");
        return 1;
    }
    char delim[80];
    int dl = snprintf(delim, sizeof delim, "\r\n--%s", bnd);
    /* the first delimiter may start the body without the CRLF */
    const char *p;
    if (len >= (size_t)dl - 2 && memcmp(body, delim + 2, (size_t)dl - 2) == 0) p = body + dl - 2;
    else {
        p = find_mem(body, len, delim, (size_t)dl);
        if (!p) {
            snprintf(why, whyn, "the multipart body has no boundary line");
            return 1;
        }
        p += dl;
    }
    const char *end = body + len;
    for (int parts = 0;; parts++) {
        if (parts > 64) {
            snprintf(why, whyn, "the multipart body has more than 64 parts");
            return 1;
        }
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') break; /* the close delimiter */
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            snprintf(why, whyn, "the multipart body is not well-formed (a boundary line does not end with CRLF)");
            return 1;
        }
        p += 2;
        const char *hend = find_mem(p, (size_t)(end - p), "\r\n\r\n", 4);
        const char *hdr = p;
        size_t hl;
        if (hend) {
            hl = (size_t)(hend - p);
            p = hend + 4;
        } else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') { /* no headers */
            hl = 0;
            p += 2;
        } else {
            snprintf(why, whyn, "the multipart body is not well-formed (a part's headers do not end)");
            return 1;
        }
        const char *next = find_mem(p, (size_t)(end - p), delim, (size_t)dl);
        if (!next) {
            snprintf(why, whyn, "the multipart body is not well-formed (a part does not end with the boundary)");
            return 1;
        }
        const char *data = p;
        size_t data_len = (size_t)(next - p);
        p = next + dl;
        /* the part's headers */
        char ctype[128] = "", fname[256] = "";
        int has_fname = 0;
        const char *h = hdr, *hx = hdr + hl;
        while (h < hx) {
            const char *eol = find_mem(h, (size_t)(hx - h), "\r\n", 2);
            if (!eol) eol = hx;
            size_t l = (size_t)(eol - h);
            if (l > 13 && strncasecmp(h, "Content-Type:", 13) == 0) {
                const char *v = h + 13;
                size_t vl = l - 13;
                while (vl && (*v == ' ' || *v == '\t')) v++, vl--;
                snprintf(ctype, sizeof ctype, "%.*s", (int)(vl < sizeof ctype ? vl : sizeof ctype - 1), v);
            } else if (l > 20 && strncasecmp(h, "Content-Disposition:", 20) == 0) {
                has_fname = header_param(h + 20, l - 20, "filename", fname, sizeof fname);
            }
            h = eol + 2;
        }
        if (strstr(ctype, "application/json") && !has_fname) {
            if (!out->json) {
                out->json = data;
                out->json_len = data_len;
            }
        } else if (!out->file) {
            out->file = data;
            out->file_len = data_len;
            const char *base = fname;
            for (const char *q = fname; *q; q++)
                if (*q == '/' || *q == '\\') base = q + 1;
            size_t o = 0;
            for (const char *q = base; *q && o + 1 < sizeof out->filename; q++)
                if ((unsigned char)*q >= 0x20 && *q != 0x7f) out->filename[o++] = *q;
            out->filename[o] = '\0';
            for (size_t q = 0; ctype[q] && q + 1 < sizeof out->content_type; q++)
                out->content_type[q] = (unsigned char)ctype[q] < 0x20 ? ' ' : ctype[q];
        }
    }
    if (!out->file) {
        snprintf(why, whyn, "the multipart body has no file part");
        return 1;
    }
    return 0;
}
