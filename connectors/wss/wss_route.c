/* wss_route.c - the routing table of the Web Services Server listener (wss.h; boomi-atom-semantics.md
 * 3.1, 4.5; listener-components.md 2, 4): /ws/simple/<operation><Object> for every process that starts
 * with a `wss` Listen (its operation gives the input and output types), and the routes of API
 * Service components under /ws/rest, a literal segment before a {parameter} one; then matching a
 * request to its route. The URL rules are in docs/wss.md. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "wss.h"

const char *const wss_io_names[] = {"none", "singledata", "singlexml", "multixml", "singlejson", "multijson"};

/* inputType / outputType (boomi-integration references/components/
 * web_services_server_start_shape_operation.md; listener-components.md 2) */
static const ma_enum io_types[] = {
    {"none", IO_NONE, 0},
    {"singledata", IO_SINGLEDATA, 0},
    {"singlexml", IO_SINGLEXML, 0},
    {"multixml", IO_MULTIXML, 0},
    {"singlejson", IO_SINGLEJSON, 0},
    {"multijson", IO_MULTIJSON, 0},
    {NULL, 0, 0},
};

int wss_io_parse(const char *what, const char *s, int def, int *io, ma_error *err)
{
    return ma_enum_parse(io_types, what, s, def, MA_ENUM_NOCASE, io, err);
}

/* ---- the routing table built at deploy ---------------------------------------------------------- */

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

void wss_routes_free(wss_state *st)
{
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
    memset(st, 0, sizeof *st);
}

/* The <connectoraction> of a process's start shape when it is a wss Listen, else NULL. */
static const xmlNode *wss_start(const ma_component *comp) { return ma_process_listen_start(comp, "wss"); }

static char *attr_or_empty(const xmlNode *n, const char *name)
{
    char *v = ma_xml_attr(n, name);
    return v ? v : ma_strdup("");
}

/* Reads the WSS operation of a listener process into t. -1 with err. */
static int read_operation(ma_deploy *dep, ma_component *pc, const xmlNode *start, wss_target *t, ma_error *err)
{
    t->comp = pc;
    t->proc = ma_component_process(dep, pc);
    t->name = ma_component_name(pc);
    t->id = ma_component_id(pc);
    t->op_id = attr_or_empty(start, "operationId");
    if (!t->op_id) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_component *oc = *t->op_id ? ma_deploy_find(dep, t->op_id) : NULL;
    if (!*t->op_id)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "process '%s' (%s): its Web Services Server Listen start has no operationId",
                            ma_component_name(pc), ma_component_id(pc));
    if (!oc)
        return ma_error_set(err, MA_ERR_REF, "process '%s' (%s): its Web Services Server operation %s is not deployed",
                            ma_component_name(pc), ma_component_id(pc), t->op_id);
    if (strcmp(ma_component_type(oc), "connector-action") != 0)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "process '%s' (%s): component %s is a '%s' component, not a Web Services Server operation",
                            ma_component_name(pc), ma_component_id(pc), t->op_id, ma_component_type(oc));
    const xmlNode *a =
        ma_xml_child(ma_xml_child(ma_component_object(oc), "Configuration"), "WebServicesServerListenAction");
    if (!a)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "operation '%s' (%s) has no <WebServicesServerListenAction> under <Configuration>",
                            ma_component_name(oc), ma_component_id(oc));
    char *in = ma_xml_attr(a, "inputType"), *out = ma_xml_attr(a, "outputType");
    int rc = wss_io_parse("inputType", in, IO_NONE, &t->in, err);
    if (rc == 0) rc = wss_io_parse("outputType", out, IO_NONE, &t->out, err);
    free(in);
    free(out);
    if (rc < 0) {
        ma_error_prefix(err, "operation '%s' (%s)", ma_component_name(oc), ma_component_id(oc));
        return -1;
    }
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
        return ma_error_set(err, MA_ERR_CONFIG, "operation '%s' (%s): %s is empty", ma_component_name(oc),
                            ma_component_id(oc), !*t->op_type ? "operationType" : "objectName");
    for (const char *p = t->op_type; *p; p++)
        if (!isalpha((unsigned char)*p))
            return ma_error_set(err, MA_ERR_CONFIG, "operation '%s' (%s): operationType '%s' is not a word",
                                ma_component_name(oc), ma_component_id(oc), t->op_type);
    if (strchr(t->object, '/') || strchr(t->object, '?') || strchr(t->object, '#'))
        return ma_error_set(err, MA_ERR_CONFIG, "operation '%s' (%s): objectName '%s' cannot be part of a URL path",
                            ma_component_name(oc), ma_component_id(oc), t->object);
    const xmlNode *px = ma_component_object(pc);
    t->mode = ma_xml_attr_is(px, "workload", "low_latency") ? MA_MODE_LOW_LATENCY
              : ma_xml_attr_is(px, "workload", "bridge")    ? MA_MODE_BRIDGE
                                                            : MA_MODE_GENERAL;
    return 0;
}

/* an API Service route's httpMethod (listener-components.md 4); value = index in this table */
static const ma_enum http_methods[] = {
    {"GET", 0, 0}, {"POST", 1, 0}, {"PUT", 2, 0}, {"DELETE", 3, 0}, {"PATCH", 4, 0}, {NULL, 0, 0},
};

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
    if (r->n_segs == MAX_SEGS)
        return ma_error_set(err, MA_ERR_LIMIT, "%s: more than %d path segments", where, MAX_SEGS);
    wss_seg *g = &r->segs[r->n_segs];
    memset(g, 0, sizeof *g);
    g->text = ma_strndup(s, len);
    if (!g->text) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    r->n_segs++;
    if (!memchr(g->text, '{', len) && !memchr(g->text, '}', len)) return 0;
    g->parts = calloc(len + 1, sizeof *g->parts);
    if (!g->parts) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    const char *p = g->text, *end = g->text + len;
    while (p < end) {
        wss_part *pt = &g->parts[g->n_parts];
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
                return ma_error_set(err, MA_ERR_CONFIG, "%s: two parameters with nothing between them in '%s'", where,
                                    g->text);
            for (size_t k = 0; k < r->n_params; k++)
                if (strlen(r->params[k]) == nl && memcmp(r->params[k], p + 1, nl) == 0)
                    return ma_error_set(err, MA_ERR_CONFIG, "%s: parameter {%s} appears twice", where, r->params[k]);
            if (r->n_params == MAX_PARAMS)
                return ma_error_set(err, MA_ERR_LIMIT, "%s: more than %d parameters", where, MAX_PARAMS);
            char **np = realloc(r->params, (r->n_params + 1) * sizeof *np);
            if (!np) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            r->params = np;
            if (!(r->params[r->n_params] = ma_strndup(p + 1, nl)))
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
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
        const wss_seg *g = &r->segs[i];
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
        if (strcmp(st->targets[i]->id, process_id) == 0) return st->targets[i];
    return NULL;
}

/* One API Service component: its REST routes. */
static int deploy_service(wss_state *st, ma_deploy *dep, ma_component *c, size_t *cap, size_t *order, ma_error *err)
{
    const xmlNode *ws = ma_component_object(c);
    if (!ws || !ma_xml_is(ws, "webservice"))
        return ma_error_set(err, MA_ERR_CONFIG, "API Service '%s' (%s): no <webservice> element under <bns:object>",
                            ma_component_name(c), ma_component_id(c));
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
        snprintf(where, sizeof where, "API Service '%s' (%s), route %zu", ma_component_name(c), ma_component_id(c),
                 route_no);
        char *pid = attr_or_empty(ro, "processId");
        if (!pid) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto out;
        }
        wss_target *t = *pid ? find_target(st, pid) : NULL;
        if (!t) {
            ma_component *pc = *pid ? ma_deploy_find(dep, pid) : NULL;
            if (!*pid) rc = ma_error_set(err, MA_ERR_CONFIG, "%s: no processId", where);
            else if (!pc) rc = ma_error_set(err, MA_ERR_REF, "%s: process %s is not deployed", where, pid);
            else
                rc = ma_error_set(err, MA_ERR_CONFIG,
                                  "%s: process '%s' (%s) does not start with a Web Services Server Listen", where,
                                  ma_component_name(pc), pid);
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
        if (wss_io_parse("inputType", o_in, t->in, &r.in, err) < 0 ||
            wss_io_parse("outputType", o_out, t->out, &r.out, err) < 0) {
            ma_error_prefix(err, "%s", where);
            rc = -1;
            goto route_fail;
        }
        int mi;
        if (ma_enum_parse(http_methods, "httpMethod", *o_method ? o_method : default_method(r.in), 0, MA_ENUM_NOCASE,
                          &mi, err) < 0) {
            ma_error_prefix(err, "%s", where);
            rc = -1;
            goto route_fail;
        }
        ma_strlcpy(r.method, http_methods[mi].name, sizeof r.method);
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
                rc = ma_error_set(err, MA_ERR_CONFIG,
                                  "%s: %s %s of process '%s' (%s) is already served by process '%s' (%s)", where,
                                  r.method, r.path, t->name, t->id, st->rest[i].t->name, st->rest[i].t->id);
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

int wss_routes_build(ma_deploy *dep, wss_state *st, ma_error *err)
{
    memset(st, 0, sizeof *st);
    size_t cap_t = 0, cap_s = 0, cap_r = 0, order = 0;
    /* listener processes and their /ws/simple paths */
    for (size_t i = 0; i < ma_deploy_count(dep); i++) {
        ma_component *c = ma_deploy_at(dep, i);
        if (!c) continue; /* not parsed: a problem of the deployment says why */
        if (strcmp(ma_component_type(c), "process") != 0) continue;
        const xmlNode *start = wss_start(c);
        if (!start) continue;
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
                         st->simple[i - 1].t->name, st->simple[i - 1].t->id, st->simple[i].t->name, st->simple[i].t->id,
                         st->simple[i].path);
            goto fail;
        }
    /* API Service components and their /ws/rest routes */
    for (size_t i = 0; i < ma_deploy_count(dep); i++) {
        ma_component *c = ma_deploy_at(dep, i);
        if (!c) continue; /* not parsed: a problem of the deployment says why */
        if (strcmp(ma_component_type(c), "webservice") != 0) continue;
        if (deploy_service(st, dep, c, &cap_r, &order, err) < 0) goto fail;
    }
    if (st->n_rest) qsort(st->rest, st->n_rest, sizeof *st->rest, rest_cmp);
    return 0;
nomem:
    ma_error_set(err, MA_ERR_NOMEM, "out of memory");
fail:
    wss_routes_free(st);
    return -1;
}

/* ---- matching a request ---------------------------------------------------------------------- */

/* Matches one request segment s[0..n) against a template segment's parts: literal text and
 * {parameters}, never two parameters side by side. A parameter takes one or more characters, as few
 * as it can: it ends where the text after it first occurs (last in the segment, where the text that
 * ends the segment begins). The first occurrence never loses a match that a later one would give
 * (the next parameter takes what lies between), so this finds what trying every split would find,
 * in time linear in the segment instead of a power of it ("{y}-{m}-{d}.json" against thousands of
 * dashes). base: the segment's offset in the path, for caps. */
static int part_match(const wss_part *p, size_t np, const char *s, size_t n, size_t base, wss_span *caps)
{
    size_t pos = 0;
    for (size_t i = 0; i < np; i++) {
        if (p[i].lit) {
            if (n - pos < p[i].len || memcmp(s + pos, p[i].lit, p[i].len) != 0) return 0;
            pos += p[i].len;
            continue;
        }
        if (pos >= n) return 0;
        size_t end = n; /* last in the segment: the parameter takes the rest */
        if (i + 1 < np) {
            const wss_part *t = &p[i + 1];
            if (i + 2 == np) {
                if (n - pos < t->len + 1 || memcmp(s + n - t->len, t->lit, t->len) != 0) return 0;
                end = n - t->len;
            } else {
                const char *hit = memmem(s + pos + 1, n - pos - 1, t->lit, t->len);
                if (!hit) return 0;
                end = (size_t)(hit - s);
            }
        }
        caps[p[i].param] = (wss_span){base + pos, end - pos};
        pos = end;
    }
    return pos == n;
}

static int method_is(const char *method, const char *m)
{
    return strcmp(method, m) == 0 || (strcmp(m, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* Adds m to the comma-separated list allow once. */
static void allow_add(char *allow, size_t allown, const char *m)
{
    if (strstr(allow, m) || strlen(allow) + strlen(m) + 3 >= allown) return;
    if (*allow) strcat(allow, ", ");
    strcat(allow, m);
}

const wss_route *wss_route_match(const wss_state *st, const char *method, const char *path, wss_span *caps, char *allow,
                                 size_t allown)
{
    *allow = '\0';
    if (strncmp(path, "/ws/simple/", 11) == 0) {
        const char *key = path + 11;
        size_t lo = 0, hi = st ? st->n_simple : 0;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int c = strcmp(key, st->simple[mid].key);
            if (!c) {
                if (method_is(method, st->simple[mid].method)) return &st->simple[mid];
                allow_add(allow, allown, st->simple[mid].method);
                return NULL;
            }
            if (c < 0) hi = mid;
            else lo = mid + 1;
        }
        return NULL;
    }
    if (strncmp(path, "/ws/rest/", 9) != 0 && strcmp(path, "/ws/rest") != 0) return NULL;
    /* the request's segments (empty ones are left out) */
    const char *sp[MAX_SEGS];
    size_t sl[MAX_SEGS], n = 0;
    for (const char *p = path + 8; *p;) {
        while (*p == '/') p++;
        const char *e = p;
        while (*e && *e != '/') e++;
        if (e > p) {
            if (n == MAX_SEGS) return NULL; /* no route has that many */
            sp[n] = p, sl[n] = (size_t)(e - p), n++;
        }
        p = e;
    }
    for (size_t i = 0; st && i < st->n_rest; i++) {
        const wss_route *c = &st->rest[i];
        if (c->n_segs != n) continue;
        size_t k = 0;
        for (; k < n; k++) {
            const wss_seg *g = &c->segs[k];
            if (!g->parts) {
                if (strlen(g->text) != sl[k] || memcmp(g->text, sp[k], sl[k]) != 0) break;
            } else if (!part_match(g->parts, g->n_parts, sp[k], sl[k], (size_t)(sp[k] - path), caps)) {
                break;
            }
        }
        if (k < n) continue;
        if (method_is(method, c->method)) return c;
        allow_add(allow, allown, c->method);
    }
    return NULL;
}
