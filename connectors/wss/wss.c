/* wss.c - the Web Services Server listener type (boomi-atom-semantics.md 3.1, 4.5; listener-components.md
 * 2, 4): a request under /ws/ is matched to its route (wss_route.c), becomes documents by the route's
 * input type and properties (path parameters, query, headers), runs its process, and the documents
 * its Return Documents shapes give back become the response by the output type. The URL rules,
 * properties and status codes are in docs/wss.md. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "wss.h"

/* ---- JSON: ma_json_check (miniatom/json.h) checks a body and gives a top-level array's items ---- */

/* Checks that data[0..len) is one JSON value: 0, 1 (not JSON: why filled with "line L, column C:
 * reason") or -1 (out of memory). *skip = the bytes of a byte order mark; with items, as
 * ma_json_check. */
static int json_check(const char *data, size_t len, ma_json_span **items, size_t *n_items, size_t *skip, char *why,
                      size_t whyn)
{
    ma_error e;
    ma_error_clear(&e);
    if (ma_json_check(data, len, skip, items, n_items, &e) == 0) return 0;
    if (e.code == MA_ERR_NOMEM) return -1;
    ma_strlcpy(why, e.msg, whyn);
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
static void request_props(const wss_route *r, const ma_http_req *req, const wss_span *caps, kvlist *doc, kvlist *dpp)
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
            for (size_t k = 0; k < i && !seen; k++)
                seen = req->headers[k].name && header_is(req->headers[k].name, name);
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
 * declarations it needs. 2 (why filled) when there are more than max. */
static int split_xml(xmlDoc *x, ma_batch *b, const kvlist *kv, uint64_t max, char *why, size_t whyn)
{
    xmlNode *root = xmlDocGetRootElement(x);
    uint64_t n = 0;
    for (xmlNode *c = root ? root->children : NULL; c; c = c->next) n += c->type == XML_ELEMENT_NODE;
    if (n > max) {
        snprintf(why, whyn, "the request has %llu documents, more than the limit of %llu (wss.documents)",
                 (unsigned long long)n, (unsigned long long)max);
        return 2;
    }
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
                rc = push_doc(b, (const char *)xmlBufferContent(buf), (size_t)xmlBufferLength(buf), "application/xml",
                              kv);
        } else if (copy) {
            xmlFreeNode(copy);
        }
        if (buf) xmlBufferFree(buf);
        if (nd) xmlFreeDoc(nd);
        if (rc < 0) return -1;
    }
    return 0;
}

/* The input documents of a request, at most max. 0, 1 (bad request: why filled), 2 (too many
 * documents: why filled) or -1 (out of memory). */
static int request_docs(const wss_route *r, const ma_http_req *req, const kvlist *kv, uint64_t max, ma_batch *b,
                        char *why, size_t whyn)
{
    const char *body = req->body ? req->body : "";
    size_t len = req->body ? req->body_len : 0;
    switch (r->in) {
    case IO_NONE: return push_doc(b, "", 0, NULL, kv);
    case IO_SINGLEDATA: return push_doc(b, body, len, ma_http_header(req, "Content-Type"), kv);
    case IO_SINGLEJSON:
    case IO_MULTIJSON: {
        ma_json_span *items = NULL;
        size_t n = 0, skip = 0;
        int rc = json_check(body, len, r->in == IO_MULTIJSON ? &items : NULL, &n, &skip, why, whyn);
        if (rc) return rc;
        if (r->in == IO_SINGLEJSON || n == (size_t)-1)
            return push_doc(b, body + skip, len - skip, "application/json", kv);
        if (n > max) {
            free(items);
            snprintf(why, whyn, "the request has %zu documents, more than the limit of %llu (wss.documents)", n,
                     (unsigned long long)max);
            return 2;
        }
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = push_doc(b, body + items[i].off, items[i].len, "application/json", kv);
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
        int rc =
            r->in == IO_SINGLEXML ? push_doc(b, body, len, "application/xml", kv) : split_xml(x, b, kv, max, why, whyn);
        xmlFreeDoc(x);
        return rc;
    }
    }
    return 0;
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
                    snprintf(
                        why, whyn,
                        "returned document %zu: dynamicdocument.outstatus '%.60s' is not an HTTP status from 200 to 599",
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
    case IO_NONE: break;
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

/* ---- the listener type ------------------------------------------------------------------------ */

static void log_route(ma_server *srv, const wss_route *r)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"method\":");
    ma_sb_json_str(&b, r->method);
    ma_sb_lit(&b, ",\"path\":");
    ma_sb_json_str(&b, r->path);
    ma_sb_lit(&b, ",\"process\":");
    ma_sb_json_str(&b, r->t->name);
    ma_sb_lit(&b, ",\"processId\":");
    ma_sb_json_str(&b, r->t->id);
    ma_sb_lit(&b, ",\"input\":");
    ma_sb_json_str(&b, wss_io_names[r->in]);
    ma_sb_lit(&b, ",\"output\":");
    ma_sb_json_str(&b, wss_io_names[r->out]);
    ma_sb_putc(&b, '}');
    if (!b.oom) ma_server_log(srv, MA_LOG_INFO, "wss endpoint", b.s);
    ma_sb_free(&b);
}

static void wss_undeploy(void *state)
{
    wss_routes_free(state);
    free(state);
}

/* The settings of the WSS listener, under "wss." (docs/wss.md). */
typedef struct wss_cfg {
    uint64_t max_docs;
} wss_cfg;

#define AT(m) MA_CONFIG_AT(wss_cfg, m)
static const ma_config_entry wss_config_map[] = {
    {.key = "documents",
     .kind = MA_CONFIG_UINT,
     .def = "2000",
     .min = 1,
     .max = 100000000,
     .at = AT(max_docs),
     .description = "most documents one request becomes (multijson items, multixml elements); more: 413"},
    MA_CONFIG_END,
};
#undef AT

static int wss_deploy(ma_server *srv, ma_deploy *dep, void **state, ma_error *err)
{
    wss_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    if (ma_config_read(wss_config_map, "wss.", ma_deploy_settings(dep), &cfg, err) < 0) return -1;
    wss_state *st = calloc(1, sizeof *st);
    if (!st) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (wss_routes_build(dep, st, err) < 0) {
        free(st);
        return -1;
    }
    st->max_docs = cfg.max_docs;
    for (size_t i = 0; i < st->n_simple; i++) log_route(srv, &st->simple[i]);
    for (size_t i = 0; i < st->n_rest; i++) log_route(srv, &st->rest[i]);
    *state = st;
    return 0;
}

const ma_listener_type ma_listener_wss;

static int wss_handle(ma_server *srv, ma_snapshot *snap, void *state, const ma_http_req *req, ma_http_resp *resp)
{
    const wss_state *st = state;
    const char *path = req->path ? req->path : "";
    wss_span caps[MAX_PARAMS];
    char allow[128];
    const wss_route *r = wss_route_match(st, req->method, path, caps, allow, sizeof allow);
    if (!r) {
        char msg[600];
        if (*allow) {
            snprintf(msg, sizeof msg, "method %.20s is not allowed here; use %s", req->method, allow);
            if (ma_http_resp_error(resp, 405, msg, NULL) < 0 || ma_http_resp_header(resp, "Allow", allow) < 0)
                return -1;
            return 0;
        }
        snprintf(msg, sizeof msg, "no web service is deployed at %.500s", path);
        return ma_http_resp_error(resp, 404, msg, NULL) < 0 ? -1 : 0;
    }
    const wss_target *t = r->t;

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
    int rc = request_docs(r, req, &doc, st->max_docs, &in, why, sizeof why);
    if (rc < 0) goto nomem;
    if (rc == 2) {
        ret = ma_http_resp_error(resp, 413, why, NULL) < 0 ? -1 : 0;
        goto out;
    }
    if (rc > 0) {
        char msg[700];
        snprintf(msg, sizeof msg, "the request body is not valid %s (input type %s): %s",
                 IO_IS_JSON(r->in) ? "JSON" : "XML", wss_io_names[r->in], why);
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

    ma_run_request o;
    memset(&o, 0, sizeof o);
    o.mode = req->debug ? MA_MODE_GENERAL : t->mode;
    o.props = dpps;
    o.n_props = dpp.n;
    o.trigger = "wss";
    ma_run_result res;
    if (ma_listener_run(srv, snap, t->proc, &in, &o, &res) < 0) goto nomem;
    ma_batch_clear(&in);
    ma_strlcpy(resp->execution_id, res.execution_id, sizeof resp->execution_id);
    if (res.outcome != MA_RUN_DONE) {
        ret = ma_listener_answer_run(srv, &ma_listener_wss, state, req, t->proc, &res, resp);
        ma_run_result_free(&res);
        goto out;
    }
    rc = build_response(r, &res.docs, req->debug, res.execution_id, resp, why, sizeof why);
    if (rc > 0) {
        ma_run_result bad = {.outcome = MA_RUN_FAILED, .status = MA_STATUS_ERROR, .message = why};
        ma_strlcpy(bad.execution_id, res.execution_id, sizeof bad.execution_id);
        rc = ma_listener_answer_run(srv, &ma_listener_wss, state, req, t->proc, &bad, resp);
    }
    ma_run_result_free(&res);
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

const ma_listener_type ma_listener_wss = {
    .name = "wss",
    .abi_version = MA_ABI_VERSION,
    .prefix = "/ws/",
    .config_map = wss_config_map,
    .deploy = wss_deploy,
    .undeploy = wss_undeploy,
    .handle = wss_handle,
};
