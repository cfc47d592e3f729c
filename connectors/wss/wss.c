/* wss.c - the Web Services Server listener (issue 4; boomi-atom-semantics.md 3.1, 4.5;
 * listener-components.md 2, 4): serves processes that start with a `wss` Listen at
 * /ws/simple/<operation><Object> and, through API Service components, at /ws/rest/<base>/<object>/<path>;
 * requests become documents by the input type, Return Documents the response by the output type.
 * The URL rules, properties and status codes are in docs/wss.md. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "loader.h"
#include "miniatom/document.h"
#include "process.h"
#include "server.h"
#include "util.h"

/* ---- input and output types ------------------------------------------------------------------ */

enum { IO_NONE = 0, IO_SINGLEDATA, IO_SINGLEXML, IO_MULTIXML, IO_SINGLEJSON, IO_MULTIJSON };
static const char *const io_names[] = {"none", "singledata", "singlexml", "multixml", "singlejson", "multijson"};
#define IO_COUNT 6
#define IO_IS_JSON(t) ((t) == IO_SINGLEJSON || (t) == IO_MULTIJSON)
#define IO_IS_XML(t) ((t) == IO_SINGLEXML || (t) == IO_MULTIXML)

static int io_parse(const char *s)
{
    for (int i = 0; i < IO_COUNT; i++)
        if (strcasecmp(s, io_names[i]) == 0) return i;
    return -1;
}

#define MAX_SEGS 64   /* path segments of a request or a route */
#define MAX_PARAMS 16 /* {x} parameters of one route */
#define XML_LIST "List" /* the element that wraps a multixml response */

/* ---- the routing table built at deploy ---------------------------------------------------------- */

typedef struct wss_target { /* one listener process and its operation */
    ma_component *comp;
    char *op_id, *op_type, *object; /* owned */
    char *content_type;             /* owned: responseContentType, NULL when empty */
    int in, out;
    ma_mode mode;
} wss_target;

typedef struct part { /* a piece of a route segment: literal text or a {parameter} */
    const char *lit;  /* borrowed from the segment text, NULL for a parameter */
    size_t len;
    int param;        /* index into the route's params */
} part;

typedef struct seg {
    char *text; /* owned: as written */
    part *parts;/* owned, NULL for a literal segment */
    size_t n_parts;
} seg;

typedef struct wss_route {
    wss_target *t;          /* borrowed */
    int in, out;
    char method[16];
    char *path;             /* owned: what it serves, "/ws/simple/createOrder", "/ws/rest/order/{id}" */
    char *key;              /* owned: simple: the path after /ws/simple/; rest: canonical template */
    seg *segs;              /* rest only */
    size_t n_segs;
    char **params;          /* owned names, in order of appearance */
    size_t n_params;
    char **captured;        /* owned: the API Service's captured headers (NULL: every header) */
    size_t n_captured;
    int has_captured;
    size_t order;           /* definition order */
} wss_route;

typedef struct wss_state {
    ma_server *srv;
    wss_target **targets;
    size_t n_targets;
    wss_route *simple; /* sorted by key */
    size_t n_simple;
    wss_route *rest;   /* most specific first */
    size_t n_rest;
} wss_state;

static void route_free(wss_route *r)
{
    free(r->path);
    free(r->key);
    for (size_t i = 0; i < r->n_segs; i++) {
        free(r->segs[i].text);
        free(r->segs[i].parts);
    }
    free(r->segs);
    for (size_t i = 0; i < r->n_params; i++) free(r->params[i]);
    free(r->params);
    for (size_t i = 0; i < r->n_captured; i++) free(r->captured[i]);
    free(r->captured);
}

static void wss_undeploy(void *state)
{
    wss_state *st = state;
    if (!st) return;
    for (size_t i = 0; i < st->n_simple; i++) route_free(&st->simple[i]);
    for (size_t i = 0; i < st->n_rest; i++) route_free(&st->rest[i]);
    free(st->simple);
    free(st->rest);
    for (size_t i = 0; i < st->n_targets; i++) {
        wss_target *t = st->targets[i];
        free(t->op_id);
        free(t->op_type);
        free(t->object);
        free(t->content_type);
        free(t);
    }
    free(st->targets);
    free(st);
}

/* The <connectoraction> of a process's start shape when it is a wss Listen, else NULL. */
static xmlNode *wss_start(const ma_component *comp) { return ma_process_listen_start(comp, "wss"); }

static char *attr_or_empty(const xmlNode *n, const char *name)
{
    char *v = ma_xml_attr(n, name);
    return v ? v : ma_strdup("");
}

/* Reads the WSS operation of a listener process into t. -1 with err. */
static int read_operation(ma_deploy *dep, ma_component *pc, const xmlNode *start, wss_target *t, ma_error *err)
{
    t->comp = pc;
    t->op_id = attr_or_empty(start, "operationId");
    if (!t->op_id) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_component *oc = *t->op_id ? ma_deploy_find(dep, t->op_id) : NULL;
    if (!*t->op_id)
        return ma_error_set(err, MA_ERR_CONFIG, "process '%s' (%s): its Web Services Server Listen start has no operationId",
                            pc->name, pc->id);
    if (!oc)
        return ma_error_set(err, MA_ERR_REF, "process '%s' (%s): its Web Services Server operation %s is not deployed",
                            pc->name, pc->id, t->op_id);
    if (strcmp(oc->type, "connector-action") != 0)
        return ma_error_set(err, MA_ERR_CONFIG, "process '%s' (%s): component %s is a '%s' component, not a Web Services Server operation",
                            pc->name, pc->id, t->op_id, oc->type);
    xmlNode *a = ma_xml_child(ma_xml_child(oc->object, "Configuration"), "WebServicesServerListenAction");
    if (!a)
        return ma_error_set(err, MA_ERR_CONFIG, "operation '%s' (%s) has no <WebServicesServerListenAction> under <Configuration>",
                            oc->name, oc->id);
    char *in = ma_xml_attr(a, "inputType"), *out = ma_xml_attr(a, "outputType");
    t->in = in && *in ? io_parse(in) : IO_NONE;
    t->out = out && *out ? io_parse(out) : IO_NONE;
    int bad_in = t->in < 0, bad_out = t->out < 0;
    if (bad_in || bad_out) {
        ma_error_set(err, MA_ERR_UNSUPPORTED, "operation '%s' (%s): %s '%s' is not supported (none, singledata, singlexml, multixml, singlejson, multijson are)",
                     oc->name, oc->id, bad_in ? "inputType" : "outputType", bad_in ? in : out);
        free(in);
        free(out);
        return -1;
    }
    free(in);
    free(out);
    t->op_type = attr_or_empty(a, "operationType");
    t->object = attr_or_empty(a, "objectName");
    char *ct = ma_xml_attr(a, "responseContentType");
    if (ct && !*ct) {
        free(ct);
        ct = NULL;
    }
    t->content_type = ct;
    if (!t->op_type || !t->object) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (!*t->op_type || !*t->object)
        return ma_error_set(err, MA_ERR_CONFIG, "operation '%s' (%s): %s is empty", oc->name, oc->id,
                            !*t->op_type ? "operationType" : "objectName");
    for (const char *p = t->op_type; *p; p++)
        if (!isalpha((unsigned char)*p))
            return ma_error_set(err, MA_ERR_CONFIG, "operation '%s' (%s): operationType '%s' is not a word", oc->name,
                                oc->id, t->op_type);
    if (strchr(t->object, '/') || strchr(t->object, '?') || strchr(t->object, '#'))
        return ma_error_set(err, MA_ERR_CONFIG, "operation '%s' (%s): objectName '%s' cannot be part of a URL path",
                            oc->name, oc->id, t->object);
    xmlNode *px = pc->object;
    t->mode = ma_xml_attr_is(px, "workload", "low_latency") ? MA_MODE_LOW_LATENCY
              : ma_xml_attr_is(px, "workload", "bridge")    ? MA_MODE_BRIDGE
                                                              : MA_MODE_GENERAL;
    return 0;
}

static const char *default_method(int in) { return in == IO_NONE ? "GET" : "POST"; }

static int simple_cmp(const void *a, const void *b)
{
    return strcmp(((const wss_route *)a)->key, ((const wss_route *)b)->key);
}

/* Rest routes: segment by segment, a literal segment before a pattern one; then definition order. */
static int rest_cmp(const void *a, const void *b)
{
    const wss_route *x = a, *y = b;
    size_t n = x->n_segs < y->n_segs ? x->n_segs : y->n_segs;
    for (size_t i = 0; i < n; i++) {
        int px = x->segs[i].parts != NULL, py = y->segs[i].parts != NULL;
        if (px != py) return px - py;
    }
    if (x->n_segs != y->n_segs) return x->n_segs < y->n_segs ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int push_route(wss_route **v, size_t *n, size_t *cap, wss_route *r)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        wss_route *nv = realloc(*v, c * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = *r;
    return 0;
}

/* Parses one template segment ("{id}", "order-{id}.json", "lines") into r->segs[r->n_segs]. */
static int add_segment(wss_route *r, const char *s, size_t len, const char *where, ma_error *err)
{
    if (r->n_segs == MAX_SEGS) return ma_error_set(err, MA_ERR_LIMIT, "%s: more than %d path segments", where, MAX_SEGS);
    seg *g = &r->segs[r->n_segs];
    memset(g, 0, sizeof *g);
    g->text = ma_strndup(s, len);
    if (!g->text) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    r->n_segs++;
    if (!memchr(g->text, '{', len) && !memchr(g->text, '}', len)) return 0;
    g->parts = calloc(len + 1, sizeof *g->parts);
    if (!g->parts) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    const char *p = g->text, *end = g->text + len;
    while (p < end) {
        part *pt = &g->parts[g->n_parts];
        if (*p == '{') {
            const char *c = memchr(p, '}', (size_t)(end - p));
            if (!c) return ma_error_set(err, MA_ERR_CONFIG, "%s: '{' without '}' in '%s'", where, g->text);
            size_t nl = (size_t)(c - p - 1);
            if (!nl) return ma_error_set(err, MA_ERR_CONFIG, "%s: an empty {} parameter in '%s'", where, g->text);
            for (const char *q = p + 1; q < c; q++)
                if (*q == '{' || *q == '=' || isspace((unsigned char)*q))
                    return ma_error_set(err, MA_ERR_CONFIG, "%s: parameter name '%.*s' in '%s' is not valid", where,
                                        (int)nl, p + 1, g->text);
            if (g->n_parts && !g->parts[g->n_parts - 1].lit)
                return ma_error_set(err, MA_ERR_CONFIG, "%s: two parameters with nothing between them in '%s'", where, g->text);
            for (size_t k = 0; k < r->n_params; k++)
                if (strlen(r->params[k]) == nl && memcmp(r->params[k], p + 1, nl) == 0)
                    return ma_error_set(err, MA_ERR_CONFIG, "%s: parameter {%s} appears twice", where, r->params[k]);
            if (r->n_params == MAX_PARAMS)
                return ma_error_set(err, MA_ERR_LIMIT, "%s: more than %d parameters", where, MAX_PARAMS);
            char **np = realloc(r->params, (r->n_params + 1) * sizeof *np);
            if (!np) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            r->params = np;
            if (!(r->params[r->n_params] = ma_strndup(p + 1, nl))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            pt->lit = NULL;
            pt->param = (int)r->n_params++;
            p = c + 1;
        } else {
            const char *q = p;
            while (q < end && *q != '{') {
                if (*q == '}') return ma_error_set(err, MA_ERR_CONFIG, "%s: '}' without '{' in '%s'", where, g->text);
                q++;
            }
            pt->lit = p;
            pt->len = (size_t)(q - p);
            p = q;
        }
        g->n_parts++;
    }
    return 0;
}

static int add_segments(wss_route *r, const char *path, const char *where, ma_error *err)
{
    const char *p = path;
    while (*p) {
        while (*p == '/') p++;
        const char *e = p;
        while (*e && *e != '/') e++;
        if (e > p && add_segment(r, p, (size_t)(e - p), where, err) < 0) return -1;
        p = e;
    }
    return 0;
}

/* The canonical template (parameter names left out) that two routes must not share with one method. */
static char *route_key(const wss_route *r)
{
    ma_sb b;
    ma_sb_init(&b);
    for (size_t i = 0; i < r->n_segs; i++) {
        ma_sb_putc(&b, '/');
        const seg *g = &r->segs[i];
        if (!g->parts) {
            ma_sb_puts(&b, g->text);
            continue;
        }
        for (size_t k = 0; k < g->n_parts; k++)
            if (g->parts[k].lit) ma_sb_append(&b, g->parts[k].lit, g->parts[k].len);
            else ma_sb_puts(&b, "{}");
    }
    return ma_sb_take(&b, NULL);
}

static wss_target *find_target(wss_state *st, const char *process_id)
{
    for (size_t i = 0; i < st->n_targets; i++)
        if (strcmp(st->targets[i]->comp->id, process_id) == 0) return st->targets[i];
    return NULL;
}

static void log_route(ma_server *srv, const wss_route *r)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "{\"method\":\"");
    ma_sb_json_escape(&b, r->method, strlen(r->method));
    ma_sb_puts(&b, "\",\"path\":\"");
    ma_sb_json_escape(&b, r->path, strlen(r->path));
    ma_sb_puts(&b, "\",\"process\":\"");
    ma_sb_json_escape(&b, r->t->comp->name, strlen(r->t->comp->name));
    ma_sb_puts(&b, "\",\"processId\":\"");
    ma_sb_json_escape(&b, r->t->comp->id, strlen(r->t->comp->id));
    ma_sb_puts(&b, "\",\"input\":\"");
    ma_sb_puts(&b, io_names[r->in]);
    ma_sb_puts(&b, "\",\"output\":\"");
    ma_sb_puts(&b, io_names[r->out]);
    ma_sb_puts(&b, "\"}");
    if (!b.oom) ma_server_log(srv, "info", "wss endpoint", b.s);
    ma_sb_free(&b);
}

/* One API Service component: its REST routes. */
static int deploy_service(wss_state *st, ma_deploy *dep, ma_component *c, size_t *cap, size_t *order, ma_error *err)
{
    xmlNode *ws = c->object;
    if (!ws || !ma_xml_is(ws, "webservice"))
        return ma_error_set(err, MA_ERR_CONFIG, "API Service '%s' (%s): no <webservice> element under <bns:object>", c->name, c->id);
    char *base = attr_or_empty(ws, "urlPath");
    if (!base) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    /* captured headers apply to every route of the service */
    char **captured = NULL;
    size_t n_captured = 0;
    int has_captured = 0, rc = 0;
    xmlNode *ch = ma_xml_child(ws, "capturedHeaders");
    for (xmlNode *h = ma_xml_child(ch, "header"); h; h = ma_xml_next(h, "header")) {
        char *name = ma_xml_attr(h, "name");
        if (!name || !*name) {
            free(name);
            continue;
        }
        char **nv = realloc(captured, (n_captured + 1) * sizeof *nv);
        if (!nv) {
            free(name);
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto out;
        }
        captured = nv;
        captured[n_captured++] = name;
        has_captured = 1;
    }
    size_t route_no = 0;
    for (xmlNode *ro = ma_xml_child(ma_xml_child(ws, "restApi"), "route"); ro; ro = ma_xml_next(ro, "route")) {
        route_no++;
        char where[512];
        snprintf(where, sizeof where, "API Service '%s' (%s), route %zu", c->name, c->id, route_no);
        char *pid = attr_or_empty(ro, "processId");
        if (!pid) { rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory"); goto out; }
        wss_target *t = *pid ? find_target(st, pid) : NULL;
        if (!t) {
            ma_component *pc = *pid ? ma_deploy_find(dep, pid) : NULL;
            if (!*pid) rc = ma_error_set(err, MA_ERR_CONFIG, "%s: no processId", where);
            else if (!pc) rc = ma_error_set(err, MA_ERR_REF, "%s: process %s is not deployed", where, pid);
            else rc = ma_error_set(err, MA_ERR_CONFIG, "%s: process '%s' (%s) does not start with a Web Services Server Listen", where, pc->name, pid);
            free(pid);
            goto out;
        }
        free(pid);
        xmlNode *ov = ma_xml_child(ro, "overrides");
        char *o_method = ov ? attr_or_empty(ov, "httpMethod") : ma_strdup("");
        char *o_in = ov ? attr_or_empty(ov, "inputType") : ma_strdup("");
        char *o_out = ov ? attr_or_empty(ov, "outputType") : ma_strdup("");
        char *o_obj = ov ? attr_or_empty(ov, "objectName") : ma_strdup("");
        char *o_path = ov ? attr_or_empty(ov, "urlPath") : ma_strdup("");
        wss_route r;
        memset(&r, 0, sizeof r);
        r.t = t;
        r.order = (*order)++;
        if (!o_method || !o_in || !o_out || !o_obj || !o_path || !(r.segs = calloc(MAX_SEGS, sizeof *r.segs))) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto route_fail;
        }
        r.in = *o_in ? io_parse(o_in) : t->in;
        r.out = *o_out ? io_parse(o_out) : t->out;
        if (r.in < 0 || r.out < 0) {
            rc = ma_error_set(err, MA_ERR_UNSUPPORTED, "%s: %s '%s' is not supported (none, singledata, singlexml, multixml, singlejson, multijson are)",
                              where, r.in < 0 ? "inputType" : "outputType", r.in < 0 ? o_in : o_out);
            goto route_fail;
        }
        const char *m = *o_method ? o_method : default_method(r.in);
        if (strlen(m) >= sizeof r.method) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "%s: httpMethod '%s' is not valid", where, m);
            goto route_fail;
        }
        for (size_t i = 0; m[i]; i++) r.method[i] = (char)toupper((unsigned char)m[i]);
        if (strcmp(r.method, "GET") && strcmp(r.method, "POST") && strcmp(r.method, "PUT") && strcmp(r.method, "DELETE") &&
            strcmp(r.method, "PATCH")) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "%s: httpMethod '%s' is not GET, POST, PUT, DELETE or PATCH", where, m);
            goto route_fail;
        }
        if (add_segments(&r, base, where, err) < 0 || add_segments(&r, *o_obj ? o_obj : t->object, where, err) < 0 ||
            add_segments(&r, o_path, where, err) < 0) {
            rc = -1;
            goto route_fail;
        }
        ma_sb pb;
        ma_sb_init(&pb);
        ma_sb_puts(&pb, "/ws/rest");
        for (size_t i = 0; i < r.n_segs; i++) {
            ma_sb_putc(&pb, '/');
            ma_sb_puts(&pb, r.segs[i].text);
        }
        r.path = ma_sb_take(&pb, NULL);
        r.key = route_key(&r);
        if (!r.path || !r.key) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto route_fail;
        }
        for (size_t i = 0; i < st->n_rest; i++)
            if (strcmp(st->rest[i].key, r.key) == 0 && strcmp(st->rest[i].method, r.method) == 0) {
                rc = ma_error_set(err, MA_ERR_CONFIG, "%s: %s %s is already served by process '%s' (%s)", where, r.method,
                                  r.path, st->rest[i].t->comp->name, st->rest[i].t->comp->id);
                goto route_fail;
            }
        if (has_captured) {
            r.captured = calloc(n_captured, sizeof *r.captured);
            if (!r.captured) {
                rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                goto route_fail;
            }
            r.has_captured = 1;
            for (size_t i = 0; i < n_captured; i++) {
                if (!(r.captured[i] = ma_strdup(captured[i]))) {
                    rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                    goto route_fail;
                }
                r.n_captured++;
            }
        }
        if (push_route(&st->rest, &st->n_rest, cap, &r) < 0) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto route_fail;
        }
        free(o_method), free(o_in), free(o_out), free(o_obj), free(o_path);
        continue;
    route_fail:
        route_free(&r);
        free(o_method), free(o_in), free(o_out), free(o_obj), free(o_path);
        goto out;
    }
out:
    for (size_t i = 0; i < n_captured; i++) free(captured[i]);
    free(captured);
    free(base);
    return rc;
}

static int wss_deploy(ma_server *srv, ma_deploy *dep, void **state, ma_error *err)
{
    wss_state *st = calloc(1, sizeof *st);
    if (!st) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    st->srv = srv;
    size_t cap_t = 0, cap_s = 0, cap_r = 0, order = 0;
    /* listener processes and their /ws/simple paths */
    for (size_t i = 0; i < dep->n; i++) {
        ma_component *c = dep->comps[i];
        if (strcmp(c->type, "process") != 0) continue;
        xmlNode *start = wss_start(c);
        if (!start) continue;
        if (!c->process) ma_deploy_compile_process(dep, c);
        if (st->n_targets == cap_t) {
            cap_t = cap_t ? cap_t * 2 : 8;
            wss_target **nv = realloc(st->targets, cap_t * sizeof *nv);
            if (!nv) goto nomem;
            st->targets = nv;
        }
        wss_target *t = calloc(1, sizeof *t);
        if (!t) goto nomem;
        st->targets[st->n_targets++] = t;
        if (read_operation(dep, c, start, t, err) < 0) goto fail;
        wss_route r;
        memset(&r, 0, sizeof r);
        r.t = t;
        r.in = t->in;
        r.out = t->out;
        r.order = order++;
        ma_strlcpy(r.method, default_method(t->in), sizeof r.method);
        ma_sb k;
        ma_sb_init(&k);
        for (const char *p = t->op_type; *p; p++) ma_sb_putc(&k, (char)tolower((unsigned char)*p));
        ma_sb_putc(&k, (char)toupper((unsigned char)t->object[0]));
        ma_sb_puts(&k, t->object + 1);
        r.key = ma_sb_take(&k, NULL);
        r.path = r.key ? ma_asprintf("/ws/simple/%s", r.key) : NULL;
        if (!r.key || !r.path || push_route(&st->simple, &st->n_simple, &cap_s, &r) < 0) {
            route_free(&r);
            goto nomem;
        }
    }
    if (st->n_simple) qsort(st->simple, st->n_simple, sizeof *st->simple, simple_cmp);
    for (size_t i = 1; i < st->n_simple; i++)
        if (strcmp(st->simple[i - 1].key, st->simple[i].key) == 0) {
            ma_error_set(err, MA_ERR_CONFIG, "processes '%s' (%s) and '%s' (%s) both listen at %s",
                         st->simple[i - 1].t->comp->name, st->simple[i - 1].t->comp->id, st->simple[i].t->comp->name,
                         st->simple[i].t->comp->id, st->simple[i].path);
            goto fail;
        }
    /* API Service components and their /ws/rest routes */
    for (size_t i = 0; i < dep->n; i++) {
        ma_component *c = dep->comps[i];
        if (strcmp(c->type, "webservice") != 0) continue;
        if (deploy_service(st, dep, c, &cap_r, &order, err) < 0) goto fail;
    }
    if (st->n_rest) qsort(st->rest, st->n_rest, sizeof *st->rest, rest_cmp);
    for (size_t i = 0; i < st->n_simple; i++) log_route(srv, &st->simple[i]);
    for (size_t i = 0; i < st->n_rest; i++) log_route(srv, &st->rest[i]);
    *state = st;
    return 0;
nomem:
    ma_error_set(err, MA_ERR_NOMEM, "out of memory");
fail:
    wss_undeploy(st);
    return -1;
}

/* ---- JSON checking (RFC 8259), with the spans of a top-level array's items ------------------- */

typedef struct jscan {
    const unsigned char *s, *p, *end;
    const char *why;
    int depth;
} jscan;

static void jws(jscan *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int jfail(jscan *j, const char *why)
{
    if (!j->why) j->why = why;
    return -1;
}

static int hex4(const unsigned char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

static int jstring(jscan *j)
{
    j->p++; /* the opening quote */
    while (j->p < j->end) {
        unsigned c = *j->p;
        if (c == '"') {
            j->p++;
            return 0;
        }
        if (c == '\\') {
            if (j->end - j->p < 2) break;
            unsigned e = j->p[1];
            if (e == 'u') {
                unsigned v, w;
                if (j->end - j->p < 6 || hex4(j->p + 2, &v) < 0) return jfail(j, "a \\u escape needs four hex digits");
                j->p += 6;
                if (v >= 0xDC00 && v <= 0xDFFF) return jfail(j, "a lone low surrogate in a \\u escape");
                if (v >= 0xD800 && v <= 0xDBFF) {
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || hex4(j->p + 2, &w) < 0 || w < 0xDC00 ||
                        w > 0xDFFF)
                        return jfail(j, "a high surrogate \\u escape without its low surrogate");
                    j->p += 6;
                }
                continue;
            }
            if (!strchr("\"\\/bfnrt", (int)e) || !e) return jfail(j, "an invalid escape in a string");
            j->p += 2;
            continue;
        }
        if (c < 0x20) return jfail(j, "a control character in a string (it must be escaped)");
        if (c < 0x80) {
            j->p++;
            continue;
        }
        /* UTF-8: well-formed sequences only (no overlong forms, no surrogates) */
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
        else return jfail(j, "invalid UTF-8");
        if ((size_t)(j->end - j->p) <= n) return jfail(j, "invalid UTF-8");
        for (size_t k = 1; k <= n; k++) {
            if ((j->p[k] & 0xC0) != 0x80) return jfail(j, "invalid UTF-8");
            cp = cp << 6 | (j->p[k] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return jfail(j, "invalid UTF-8");
        j->p += n + 1;
    }
    return jfail(j, "an unterminated string");
}

static int jdigits(jscan *j)
{
    const unsigned char *s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    return j->p > s ? 0 : -1;
}

static int jnumber(jscan *j)
{
    if (*j->p == '-') j->p++;
    if (j->p < j->end && *j->p == '0') j->p++;
    else if (jdigits(j) < 0) return jfail(j, "an invalid number");
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (jdigits(j) < 0) return jfail(j, "an invalid number (digits must follow '.')");
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
        if (jdigits(j) < 0) return jfail(j, "an invalid number (digits must follow the exponent)");
    }
    return 0;
}

static int jvalue(jscan *j);

static int jcontainer(jscan *j, int obj)
{
    if (++j->depth > 512) return jfail(j, "JSON nested deeper than 512 levels");
    j->p++;
    jws(j);
    if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
        j->p++;
        j->depth--;
        return 0;
    }
    for (;;) {
        if (obj) {
            jws(j);
            if (j->p >= j->end || *j->p != '"') return jfail(j, "an object member name (a string) was expected");
            if (jstring(j) < 0) return -1;
            jws(j);
            if (j->p >= j->end || *j->p != ':') return jfail(j, "':' was expected after an object member name");
            j->p++;
        }
        if (jvalue(j) < 0) return -1;
        jws(j);
        if (j->p >= j->end) return jfail(j, obj ? "an unterminated object" : "an unterminated array");
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == (obj ? '}' : ']')) {
            j->p++;
            j->depth--;
            return 0;
        }
        return jfail(j, obj ? "',' or '}' was expected in an object" : "',' or ']' was expected in an array");
    }
}

static int jvalue(jscan *j)
{
    jws(j);
    if (j->p >= j->end) return jfail(j, "a value was expected");
    switch (*j->p) {
    case '{': return jcontainer(j, 1);
    case '[': return jcontainer(j, 0);
    case '"': return jstring(j);
    case 't':
        if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) return j->p += 4, 0;
        break;
    case 'f':
        if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) return j->p += 5, 0;
        break;
    case 'n':
        if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) return j->p += 4, 0;
        break;
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) return jnumber(j);
    }
    return jfail(j, "unexpected character (not the start of a JSON value)");
}

/* Fills why with "line L, column C: reason". */
static void jwhere(const jscan *j, char *why, size_t n)
{
    int line = 1, col = 1;
    for (const unsigned char *q = j->s; q < j->p && q < j->end; q++) {
        if (*q == '\n') line++, col = 1;
        else if ((*q & 0xC0) != 0x80) col++;
    }
    snprintf(why, n, "line %d, column %d: %s", line, col, j->why ? j->why : "invalid JSON");
}

typedef struct span {
    size_t off, len;
} span;

/* Checks that data[0..len) is one JSON value. With items != NULL and a top-level array, fills
 * *items (malloc'ed) with the spans of its elements; *n_items = (size_t)-1 when the value is not
 * an array. Returns 0, 1 (not JSON; why filled) or -1 (out of memory). *skip = bytes of a BOM. */
static int json_check(const char *data, size_t len, span **items, size_t *n_items, size_t *skip, char *why, size_t whyn)
{
    jscan j = {(const unsigned char *)data, (const unsigned char *)data, (const unsigned char *)data + len, NULL, 0};
    *skip = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) j.p += 3, *skip = 3;
    if (items) *items = NULL, *n_items = (size_t)-1;
    jws(&j);
    if (j.p >= j.end) {
        snprintf(why, whyn, "the request body is empty");
        return 1;
    }
    if (items && *j.p == '[') {
        size_t cap = 0;
        *n_items = 0;
        j.p++;
        j.depth = 1;
        jws(&j);
        if (j.p < j.end && *j.p == ']') {
            j.p++;
        } else {
            for (;;) {
                jws(&j);
                const unsigned char *b = j.p;
                if (jvalue(&j) < 0) goto bad;
                if (*n_items == cap) {
                    cap = cap ? cap * 2 : 8;
                    span *nv = realloc(*items, cap * sizeof *nv);
                    if (!nv) {
                        free(*items);
                        *items = NULL;
                        return -1;
                    }
                    *items = nv;
                }
                (*items)[(*n_items)++] = (span){(size_t)(b - j.s), (size_t)(j.p - b)};
                jws(&j);
                if (j.p >= j.end) {
                    jfail(&j, "an unterminated array");
                    goto bad;
                }
                if (*j.p == ',') {
                    j.p++;
                    continue;
                }
                if (*j.p == ']') {
                    j.p++;
                    break;
                }
                jfail(&j, "',' or ']' was expected in an array");
                goto bad;
            }
        }
    } else if (jvalue(&j) < 0) {
        goto bad;
    }
    jws(&j);
    if (j.p < j.end) {
        jfail(&j, "unexpected text after the JSON value");
        goto bad;
    }
    return 0;
bad:
    if (items) {
        free(*items);
        *items = NULL;
    }
    jwhere(&j, why, whyn);
    return 1;
}

/* ---- requests into documents -------------------------------------------------------------------- */

/* A list of "id\0value\0" pairs built in one buffer. */
typedef struct kvlist {
    ma_sb b;
    size_t n;
} kvlist;

static void kv_add(kvlist *l, const char *id_prefix, const char *id, size_t id_len, const char *value)
{
    ma_sb_puts(&l->b, id_prefix);
    ma_sb_append(&l->b, id, id_len);
    ma_sb_putc(&l->b, '\0');
    ma_sb_puts(&l->b, value ? value : "");
    ma_sb_putc(&l->b, '\0');
    l->n++;
}

static int header_is(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

/* Header names as properties: each dash-separated word with its first letter upper-cased and the
 * rest lower-cased ("content-type" -> "Content-Type"), unless a captured header spells it. */
static void kv_header(kvlist *l, const char *name, const char *value)
{
    char buf[256];
    size_t n = strlen(name);
    if (n >= sizeof buf) return;
    int up = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        buf[i] = (char)(up ? toupper(c) : tolower(c));
        up = c == '-';
    }
    kv_add(l, "dynamicdocument.inheader_", buf, n, value);
}

static int value_ok(const char *v)
{
    for (; *v; v++)
        if (*v == '\r' || *v == '\n') return 0;
    return 1;
}

/* Builds the document properties and the dynamic process properties of a request. */
static void request_props(const wss_route *r, const ma_http_req *req, const span *caps, kvlist *doc, kvlist *dpp)
{
    kv_add(doc, "dynamicdocument.", "inmethod", 8, req->method);
    kv_add(doc, "dynamicdocument.", "inpath", 6, req->path);
    kv_add(dpp, "", "inmethod", 8, req->method);
    for (size_t i = 0; i < r->n_params; i++) {
        char v[1024];
        size_t n = caps[i].len < sizeof v ? caps[i].len : sizeof v - 1;
        memcpy(v, req->path + caps[i].off, n);
        v[n] = '\0';
        kv_add(doc, "dynamicdocument.param_", r->params[i], strlen(r->params[i]), v);
        kv_add(dpp, "param_", r->params[i], strlen(r->params[i]), v);
    }
    for (size_t i = 0; i < req->n_query; i++) {
        const char *name = req->query[i].name;
        if (!name || !*name || strcmp(name, "_boomi_debug") == 0) continue;
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++) seen = req->query[k].name && strcmp(req->query[k].name, name) == 0;
        if (!seen) kv_add(doc, "dynamicdocument.query_", name, strlen(name), req->query[i].value);
    }
    if (r->has_captured) {
        for (size_t i = 0; i < r->n_captured; i++) {
            const char *v = ma_http_header(req, r->captured[i]);
            if (v) kv_add(doc, "dynamicdocument.inheader_", r->captured[i], strlen(r->captured[i]), v);
        }
    } else {
        for (size_t i = 0; i < req->n_headers; i++) {
            const char *name = req->headers[i].name;
            if (!name || !*name || header_is(name, "Authorization") || header_is(name, "Proxy-Authorization") ||
                header_is(name, "Cookie"))
                continue;
            int seen = 0;
            for (size_t k = 0; k < i && !seen; k++) seen = req->headers[k].name && header_is(req->headers[k].name, name);
            if (!seen) kv_header(doc, name, req->headers[i].value);
        }
    }
    if (req->user) kv_add(doc, "dynamicdocument.", "inuser", 6, req->user);
    if (req->client_subject) kv_add(doc, "dynamicdocument.", "inclientsubject", 15, req->client_subject);
}

/* Pushes a new document with data and the properties of kv. */
static int push_doc(ma_batch *b, const char *data, size_t len, const char *content_type, const kvlist *kv)
{
    ma_doc *d = ma_doc_new(data, len);
    if (!d) return -1;
    if (content_type && ma_doc_set_prop(&d, "mime.Content-Type", content_type) < 0) goto fail;
    const char *p = kv->b.s;
    for (size_t i = 0; i < kv->n; i++) {
        const char *id = p, *v = p + strlen(p) + 1;
        if (ma_doc_set_prop(&d, id, v) < 0) goto fail;
        p = v + strlen(v) + 1;
    }
    return ma_batch_push(b, d);
fail:
    ma_doc_unref(d);
    return -1;
}

/* One document per element child of the root, each serialized on its own with the namespace
 * declarations it needs. */
static int split_xml(xmlDoc *x, ma_batch *b, const kvlist *kv)
{
    xmlNode *root = xmlDocGetRootElement(x);
    for (xmlNode *c = root ? root->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        xmlDoc *nd = xmlNewDoc((const xmlChar *)"1.0");
        xmlNode *copy = nd ? xmlDocCopyNode(c, nd, 1) : NULL;
        xmlBuffer *buf = copy ? xmlBufferCreate() : NULL;
        int rc = -1;
        if (buf) {
            xmlDocSetRootElement(nd, copy);
            xmlReconciliateNs(nd, copy);
            if (xmlNodeDump(buf, nd, copy, 0, 0) >= 0)
                rc = push_doc(b, (const char *)xmlBufferContent(buf), (size_t)xmlBufferLength(buf), "application/xml", kv);
        } else if (copy) {
            xmlFreeNode(copy);
        }
        if (buf) xmlBufferFree(buf);
        if (nd) xmlFreeDoc(nd);
        if (rc < 0) return -1;
    }
    return 0;
}

/* The input documents of a request. 0, 1 (bad request: why filled) or -1 (out of memory). */
static int request_docs(const wss_route *r, const ma_http_req *req, const kvlist *kv, ma_batch *b, char *why, size_t whyn)
{
    const char *body = req->body ? req->body : "";
    size_t len = req->body ? req->body_len : 0;
    switch (r->in) {
    case IO_NONE:
        return push_doc(b, "", 0, NULL, kv);
    case IO_SINGLEDATA:
        return push_doc(b, body, len, ma_http_header(req, "Content-Type"), kv);
    case IO_SINGLEJSON:
    case IO_MULTIJSON: {
        span *items = NULL;
        size_t n = 0, skip = 0;
        int rc = json_check(body, len, r->in == IO_MULTIJSON ? &items : NULL, &n, &skip, why, whyn);
        if (rc) return rc;
        if (r->in == IO_SINGLEJSON || n == (size_t)-1) return push_doc(b, body + skip, len - skip, "application/json", kv);
        for (size_t i = 0; i < n && rc == 0; i++) rc = push_doc(b, body + items[i].off, items[i].len, "application/json", kv);
        free(items);
        return rc;
    }
    case IO_SINGLEXML:
    case IO_MULTIXML: {
        size_t k = 0;
        while (k < len && isspace((unsigned char)body[k])) k++;
        if (k == len) {
            snprintf(why, whyn, "the request body is empty");
            return 1;
        }
        ma_error e;
        ma_error_clear(&e);
        xmlDoc *x = ma_xml_parse(body, len, "request", &e);
        if (!x) {
            if (e.code == MA_ERR_NOMEM) return -1;
            snprintf(why, whyn, "%.500s", e.msg);
            return 1;
        }
        int rc = r->in == IO_SINGLEXML ? push_doc(b, body, len, "application/xml", kv) : split_xml(x, b, kv);
        xmlFreeDoc(x);
        return rc;
    }
    }
    return 0;
}

/* ---- routing ---------------------------------------------------------------------------------- */

static int part_match(const part *p, size_t np, const char *s, size_t n, size_t base, span *caps)
{
    if (!np) return n == 0;
    if (p->lit) {
        if (n < p->len || memcmp(s, p->lit, p->len) != 0) return 0;
        return part_match(p + 1, np - 1, s + p->len, n - p->len, base + p->len, caps);
    }
    for (size_t k = 1; k <= n; k++) { /* a parameter takes at least one character, as few as it can */
        caps[p->param] = (span){base, k};
        if (part_match(p + 1, np - 1, s + k, n - k, base + k, caps)) return 1;
    }
    return 0;
}

static int method_is(const ma_http_req *req, const char *m)
{
    return strcmp(req->method, m) == 0 || (strcmp(m, "GET") == 0 && strcmp(req->method, "HEAD") == 0);
}

/* ---- results into responses ------------------------------------------------------------------- */

static int token_ok(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s)) return 0;
    return 1;
}

static const char *skip_xml_decl(const char *d, size_t *len)
{
    size_t i = 0;
    while (i < *len && isspace((unsigned char)d[i])) i++;
    if (*len - i >= 5 && memcmp(d + i, "<?xml", 5) == 0 && (isspace((unsigned char)d[i + 5]) || d[i + 5] == '?')) {
        const char *e = strstr(d + i, "?>");
        if (e) {
            i = (size_t)(e + 2 - d);
            while (i < *len && isspace((unsigned char)d[i])) i++;
        }
    }
    *len -= i;
    return d + i;
}

static void trim(const char **d, size_t *len)
{
    while (*len && isspace((unsigned char)**d)) (*d)++, (*len)--;
    while (*len && isspace((unsigned char)(*d)[*len - 1])) (*len)--;
}

/* 0 with the response filled, 1 when a returned document does not fit the output type (why
 * filled), -1 out of memory. */
static int build_response(const wss_route *r, const ma_batch *docs, int debug, const char *exec_id, ma_http_resp *resp,
                          char *why, size_t whyn)
{
    int status = 200, have_status = 0;
    const char *ctype = NULL;
    /* the status and response headers: from the first returned document that carries each */
    const char *hn[32], *hv[32];
    size_t n_h = 0;
    for (size_t i = 0; i < docs->len; i++) {
        ma_doc *d = docs->docs[i];
        size_t np = ma_doc_prop_count(d);
        for (size_t k = 0; k < np; k++) {
            const char *id, *v;
            if (ma_doc_prop_at(d, k, &id, &v) < 0 || strncmp(id, "dynamicdocument.out", 19) != 0) continue;
            const char *rest = id + 19;
            if (strcmp(rest, "status") == 0) {
                if (have_status) continue;
                char *e;
                long s = strtol(v, &e, 10);
                have_status = 1;
                if (e == v || *e || s < 200 || s > 599) {
                    snprintf(why, whyn, "returned document %zu: dynamicdocument.outstatus '%.60s' is not an HTTP status from 200 to 599",
                             i + 1, v);
                    return 1;
                }
                status = (int)s;
            } else if (strncmp(rest, "header_", 7) == 0) {
                const char *h = rest + 7;
                int seen = 0;
                for (size_t q = 0; q < n_h && !seen; q++) seen = strcasecmp(hn[q], h) == 0;
                if (seen || n_h == 32 || !token_ok(h) || !value_ok(v)) continue;
                if (header_is(h, "Content-Length") || header_is(h, "Transfer-Encoding") || header_is(h, "Connection") ||
                    header_is(h, "Keep-Alive") || header_is(h, "Upgrade") || header_is(h, "Trailer"))
                    continue;
                hn[n_h] = h, hv[n_h] = v, n_h++;
                if (header_is(h, "Content-Type")) ctype = v;
            }
        }
    }
    ma_sb b;
    ma_sb_init(&b);
    switch (r->out) {
    case IO_NONE:
        break;
    case IO_SINGLEDATA:
    case IO_SINGLEJSON:
    case IO_SINGLEXML:
        if (docs->len == 1) { /* the common case: no copy through the string buffer */
            size_t len;
            const char *d = ma_doc_data(docs->docs[0], &len);
            ma_sb_append(&b, d, len);
        } else {
            for (size_t i = 0; i < docs->len; i++) {
                size_t len;
                const char *d = ma_doc_data(docs->docs[i], &len);
                ma_sb_append(&b, d, len);
            }
        }
        break;
    case IO_MULTIJSON:
        ma_sb_putc(&b, '[');
        for (size_t i = 0; i < docs->len; i++) {
            size_t len, skip;
            const char *d = ma_doc_data(docs->docs[i], &len);
            char jwhy[256];
            if (json_check(d, len, NULL, NULL, &skip, jwhy, sizeof jwhy)) {
                ma_sb_free(&b);
                snprintf(why, whyn, "returned document %zu is not JSON (output type multijson): %s", i + 1, jwhy);
                return 1;
            }
            d += skip, len -= skip;
            trim(&d, &len);
            if (i) ma_sb_putc(&b, ',');
            ma_sb_append(&b, d, len);
        }
        ma_sb_putc(&b, ']');
        break;
    case IO_MULTIXML:
        ma_sb_puts(&b, "<" XML_LIST ">");
        for (size_t i = 0; i < docs->len; i++) {
            size_t len;
            const char *d = ma_doc_data(docs->docs[i], &len);
            d = skip_xml_decl(d, &len);
            trim(&d, &len);
            if (!len || *d != '<') {
                ma_sb_free(&b);
                snprintf(why, whyn, "returned document %zu is not XML (output type multixml)", i + 1);
                return 1;
            }
            ma_sb_append(&b, d, len);
        }
        ma_sb_puts(&b, "</" XML_LIST ">");
        break;
    }
    if (!ctype && r->out != IO_NONE) {
        if (r->t->content_type) ctype = r->t->content_type;
        else if (IO_IS_JSON(r->out)) ctype = "application/json";
        else if (IO_IS_XML(r->out)) ctype = "application/xml";
        else ctype = (docs->len ? ma_doc_prop(docs->docs[0], "mime.Content-Type") : NULL);
        if (!ctype) ctype = "text/plain";
    }
    for (size_t i = 0; i < n_h; i++)
        if (!header_is(hn[i], "Content-Type") && ma_http_resp_header(resp, hn[i], hv[i]) < 0) {
            ma_sb_free(&b);
            return -1;
        }
    if (debug && exec_id && *exec_id && ma_http_resp_header(resp, "X-Execution-Id", exec_id) < 0) {
        ma_sb_free(&b);
        return -1;
    }
    size_t len = 0;
    char *body = ma_sb_take(&b, &len);
    if (!body) return -1;
    if (status == 204 || status == 304) len = 0, body[0] = '\0';
    return ma_http_resp_set_owned(resp, status, ctype, body, len) < 0 ? -1 : 0;
}

/* ---- handling a request --------------------------------------------------------------------------- */

static void log_failure(ma_server *srv, const char *msg, const wss_route *r, const char *exec_id, const char *detail)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "{\"path\":\"");
    ma_sb_json_escape(&b, r->path, strlen(r->path));
    ma_sb_puts(&b, "\",\"process\":\"");
    ma_sb_json_escape(&b, r->t->comp->name, strlen(r->t->comp->name));
    ma_sb_puts(&b, "\",\"executionId\":\"");
    ma_sb_json_escape(&b, exec_id ? exec_id : "", exec_id ? strlen(exec_id) : 0);
    ma_sb_puts(&b, "\",\"detail\":\"");
    ma_sb_json_escape(&b, detail ? detail : "", detail ? strlen(detail) : 0);
    ma_sb_puts(&b, "\"}");
    if (!b.oom) ma_server_log(srv, "warn", msg, b.s);
    ma_sb_free(&b);
}

static int not_found(ma_http_resp *resp, const char *path)
{
    char msg[600];
    snprintf(msg, sizeof msg, "no web service is deployed at %.500s", path);
    return ma_http_resp_error(resp, 404, msg, NULL);
}

static int wss_handle(ma_server *srv, ma_snapshot *snap, void *state, const ma_http_req *req, ma_http_resp *resp)
{
    const wss_state *st = state;
    const char *path = req->path ? req->path : "";
    const wss_route *r = NULL;
    span caps[MAX_PARAMS];
    char allow[128] = "";
    if (strncmp(path, "/ws/simple/", 11) == 0) {
        const char *key = path + 11;
        size_t lo = 0, hi = st ? st->n_simple : 0;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int c = strcmp(key, st->simple[mid].key);
            if (!c) {
                r = &st->simple[mid];
                break;
            }
            if (c < 0) hi = mid;
            else lo = mid + 1;
        }
        if (r && !method_is(req, r->method)) {
            ma_strlcpy(allow, r->method, sizeof allow);
            r = NULL;
        }
    } else if (strncmp(path, "/ws/rest/", 9) == 0 || strcmp(path, "/ws/rest") == 0) {
        /* the request's segments (empty ones are left out) */
        const char *sp[MAX_SEGS];
        size_t sl[MAX_SEGS], n = 0;
        const char *p = path + 8;
        int too_many = 0;
        while (*p) {
            while (*p == '/') p++;
            const char *e = p;
            while (*e && *e != '/') e++;
            if (e > p) {
                if (n == MAX_SEGS) {
                    too_many = 1;
                    break;
                }
                sp[n] = p, sl[n] = (size_t)(e - p), n++;
            }
            p = e;
        }
        for (size_t i = 0; !too_many && st && i < st->n_rest; i++) {
            const wss_route *c = &st->rest[i];
            if (c->n_segs != n) continue;
            size_t k = 0;
            for (; k < n; k++) {
                const seg *g = &c->segs[k];
                if (!g->parts) {
                    if (strlen(g->text) != sl[k] || memcmp(g->text, sp[k], sl[k]) != 0) break;
                } else if (!part_match(g->parts, g->n_parts, sp[k], sl[k], (size_t)(sp[k] - path), caps)) {
                    break;
                }
            }
            if (k < n) continue;
            if (method_is(req, c->method)) {
                r = c;
                break;
            }
            if (!strstr(allow, c->method) && strlen(allow) + strlen(c->method) + 3 < sizeof allow) {
                if (*allow) strcat(allow, ", ");
                strcat(allow, c->method);
            }
        }
    }
    if (!r) {
        if (*allow) {
            char msg[300];
            snprintf(msg, sizeof msg, "method %.20s is not allowed here; use %s", req->method, allow);
            if (ma_http_resp_error(resp, 405, msg, NULL) < 0 || ma_http_resp_header(resp, "Allow", allow) < 0) return -1;
            return 0;
        }
        return not_found(resp, path) < 0 ? -1 : 0;
    }
    const wss_target *t = r->t;
    ma_process *proc = t->comp->process;
    if (!proc || !proc->runnable) {
        char msg[600];
        snprintf(msg, sizeof msg, "the process '%.200s' is not runnable (see the deployment's problems)", t->comp->name);
        return ma_http_resp_error(resp, 503, msg, NULL) < 0 ? -1 : 0;
    }

    /* properties, then documents */
    kvlist doc = {{0}, 0}, dpp = {{0}, 0};
    ma_sb_init(&doc.b);
    ma_sb_init(&dpp.b);
    ma_batch in;
    ma_batch_init(&in);
    const char *dpps[2 + MAX_PARAMS];
    int ret = 0;
    request_props(r, req, caps, &doc, &dpp);
    if (doc.b.oom || dpp.b.oom) goto nomem;
    char why[600] = "";
    int rc = request_docs(r, req, &doc, &in, why, sizeof why);
    if (rc < 0) goto nomem;
    if (rc > 0) {
        char msg[700];
        snprintf(msg, sizeof msg, "the request body is not valid %s (input type %s): %s", IO_IS_JSON(r->in) ? "JSON" : "XML",
                 io_names[r->in], why);
        ret = ma_http_resp_error(resp, 400, msg, NULL) < 0 ? -1 : 0;
        goto out;
    }
    const char *p = dpp.b.s;
    for (size_t i = 0; i < dpp.n; i++) {
        /* "NAME\0VALUE\0" -> "NAME=VALUE": the separator is rewritten in place */
        size_t nl = strlen(p);
        dpps[i] = p;
        ((char *)p)[nl] = '=';
        p += nl + 1 + strlen(p + nl + 1) + 1;
    }

    ma_server_exec o;
    memset(&o, 0, sizeof o);
    o.mode = req->debug ? MA_MODE_GENERAL : t->mode;
    o.timeout_ms = 0;
    o.keep_running = 0;
    o.props = dpps;
    o.n_props = dpp.n;
    o.trigger = "wss";
    ma_result res;
    memset(&res, 0, sizeof res);
    char exec_id[80] = "";
    ma_error err;
    ma_error_clear(&err);
    rc = ma_server_execute(srv, snap, proc, &in, &o, &res, exec_id, NULL, NULL, &err);
    ma_batch_clear(&in);
    ma_strlcpy(resp->execution_id, exec_id, sizeof resp->execution_id);
    if (rc < 0) {
        if (err.code == MA_ERR_NOMEM) goto nomem;
        if (err.code == MA_ERR_LIMIT) {
            ret = ma_http_resp_error(resp, 503, err.msg, NULL) < 0 || /* nothing ran */
                          ma_http_resp_header(resp, "Retry-After", "1") < 0
                      ? -1
                      : 0;
        } else {
            log_failure(srv, "wss execution could not start", r, exec_id, err.msg);
            ret = ma_http_resp_error(resp, 500, "the execution could not start", *exec_id ? exec_id : NULL) < 0 ? -1 : 0;
        }
        goto out;
    }
    if (rc == 1) {
        log_failure(srv, "wss execution past the sync timeout", r, exec_id, "cancelled");
        ret = ma_http_resp_error(resp, 504, "the process did not finish within the sync timeout; its execution was cancelled",
                                 exec_id) < 0
                  ? -1
                  : 0;
        goto out;
    }
    if (res.status == MA_STATUS_ERROR || res.status == MA_STATUS_ABORTED) {
        int code = 500;
        const char *msg = res.message ? res.message : "the process ended with an error";
        if (res.status == MA_STATUS_ABORTED) /* the executor's words: cancelled (the server stopping) or too long */
            code = res.message && strcmp(res.message, "the execution was cancelled") == 0 ? 503 : 504;
        log_failure(srv, "wss execution failed", r, exec_id, msg);
        ret = ma_http_resp_error(resp, code, msg, exec_id) < 0 ? -1 : 0;
        ma_result_free(&res);
        goto out;
    }
    ma_batch none;
    ma_batch_init(&none);
    rc = build_response(r, proc->has_return ? &res.docs : &none, req->debug, exec_id, resp, why, sizeof why);
    if (rc > 0) {
        log_failure(srv, "wss response could not be built", r, exec_id, why);
        rc = ma_http_resp_error(resp, 500, why, exec_id);
    }
    ma_result_free(&res);
    ret = rc < 0 ? -1 : 0;
out:
    ma_batch_clear(&in);
    ma_sb_free(&doc.b);
    ma_sb_free(&dpp.b);
    return ret;
nomem:
    ret = -1;
    goto out;
}

const ma_listener ma_listener_wss = {
    .name = "wss",
    .prefix = "/ws/",
    .deploy = wss_deploy,
    .undeploy = wss_undeploy,
    .handle = wss_handle,
    .recover = NULL,
};
