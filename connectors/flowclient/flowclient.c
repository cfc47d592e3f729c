/* flowclient.c - the Boomi Flow Client connector (connector type "flowclient"): EXECUTE of
 * "Run - Initialize and Invoke Flow" against a Boomi Flow tenant through the Flow run API
 * (POST /api/run/1 to initialize, POST /api/run/1/state/{stateId} to invoke; the ManyWhoTenant
 * header names the tenant). Each input document names the flow (and its inputs); the invoke
 * response (state id, invoke type, outputs) becomes the output document. See docs/connectors.md. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "httpc.h"
#include "miniatom/miniatom.h"

#define DEFAULT_URL "https://flow.manywho.com"
#define PROP_STATUS "meta.base.applicationstatuscode"
#define PROP_STATUS_MSG "meta.base.applicationstatusmessage"
#define PROP_STATE "connector.track.flowclient.stateId"
#define PROP_INVOKE "connector.track.flowclient.invokeType"
#define MAX_SHOWN_BODY 300

typedef struct flow_data {
    char *url;         /* the Flow base URL, no trailing '/' */
    char *tenant;      /* ManyWhoTenant, or NULL */
    char *flow_id;     /* per-flow object ("Run - Invoke <flow>"): the flow; NULL for the generic object */
    char *player;      /* playerName, or NULL (default player) */
    int return_errors; /* returnApplicationErrors */
    char *conn_label;
    ma_httpc *pool;
} flow_data;

static const char *const flow_actions[] = {"EXECUTE", NULL};
static const char *const flow_objects[] = {"Run - Initialize and Invoke Flow",
                                           "Run - Invoke <flow> (objectTypeId = the flow id)", NULL};

static void flow_free(flow_data *d)
{
    if (!d) return;
    free(d->url);
    free(d->tenant);
    free(d->flow_id);
    free(d->player);
    free(d->conn_label);
    ma_httpc_free(d->pool);
    free(d);
}

static const char *reason(long st)
{
    switch (st) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return st >= 200 && st < 300 ? "OK" : "Error";
    }
}

static int is_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* The first setting found among the field ids given. */
static char *setting_any(const ma_connector_step *step, const char *const *fields, ma_error *err)
{
    for (size_t i = 0; fields[i]; i++) {
        char *v = ma_connector_setting(step, fields[i], err);
        if (v && *v) return v;
        free(v);
        if (err->code) return NULL;
    }
    return NULL;
}

static char *secret_any(const ma_connector_step *step, const char *const *fields, ma_error *err)
{
    for (size_t i = 0; fields[i]; i++) {
        char *v = ma_connector_secret(step, fields[i], err);
        if (v) return v;
        if (err->code) return NULL;
    }
    return NULL;
}

static const char *const F_URL[] = {"url", "flowUrl", NULL};
static const char *const F_TENANT[] = {"tenantId", "flowTenantId", "tenant", NULL};
static const char *const F_USER[] = {"username", "flowUsername", "user", NULL};
static const char *const F_PASS[] = {"password", "flowPassword", NULL};
static const char *const F_APIKEY[] = {"apiKey", NULL};

/* The fields of the connection, with the names Boomi's Flow Client connection and older exports
 * use for them; the typed ones are read with ma_connector_config. */
static const ma_config_entry flow_config_map[] = {
    {.key = "url", .kind = MA_CONFIG_STRING, .def = DEFAULT_URL, .description = "the Flow base URL (also flowUrl)"},
    {.key = "flowUrl", .kind = MA_CONFIG_STRING, .description = "the same as url"},
    {.key = "tenantId",
     .kind = MA_CONFIG_STRING,
     .description = "the Flow tenant, sent as ManyWhoTenant (also flowTenantId, tenant)"},
    {.key = "flowTenantId", .kind = MA_CONFIG_STRING, .description = "the same as tenantId"},
    {.key = "tenant", .kind = MA_CONFIG_STRING, .description = "the same as tenantId"},
    {.key = "username",
     .kind = MA_CONFIG_STRING,
     .description = "the Flow user to log in as (also flowUsername, user)"},
    {.key = "flowUsername", .kind = MA_CONFIG_STRING, .description = "the same as username"},
    {.key = "user", .kind = MA_CONFIG_STRING, .description = "the same as username"},
    {.key = "password",
     .kind = MA_CONFIG_STRING,
     .flags = MA_CONFIG_SECRET,
     .description = "the Flow user's password (also flowPassword)"},
    {.key = "flowPassword", .kind = MA_CONFIG_STRING, .flags = MA_CONFIG_SECRET, .description = "the same as password"},
    {.key = "apiKey",
     .kind = MA_CONFIG_STRING,
     .flags = MA_CONFIG_SECRET,
     .description = "a Flow API key (sent as x-boomi-flow-api-key)"},
    MA_HTTPC_CONFIG_ENTRIES("Flow"),
    MA_CONFIG_END,
};

static int flow_compile(ma_connector_step *step, ma_error *err)
{
    flow_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_error e;
    ma_error_clear(&e);
    d->conn_label = ma_strdup(step->connection_name ? step->connection_name
                              : step->connection_id ? step->connection_id
                                                    : "(none)");
    char *url = setting_any(step, F_URL, &e);
    if (!url && !e.code) url = ma_strdup(DEFAULT_URL);
    if (url) {
        size_t n = strlen(url);
        while (n && url[n - 1] == '/') url[--n] = '\0';
    }
    d->url = url;
    d->tenant = e.code ? NULL : setting_any(step, F_TENANT, &e);
    /* the operation: GenericOperationConfig (customOperationType EXECUTE, objectTypeId), returnApplicationErrors */
    const ma_xml_node *op = step->operation;
    const ma_xml_node *cfg = op ? ma_xml_child(op, "Configuration") : NULL;
    const ma_xml_node *goc = cfg ? ma_xml_child(cfg, NULL) : NULL;
    if (op && ma_xml_attr_is(op, "returnApplicationErrors", "true")) d->return_errors = 1;
    if (goc) {
        char *ct = ma_xml_attr(goc, "customOperationType");
        if (!ct) ct = ma_xml_attr(goc, "operationType");
        if (ct && strcasecmp(ct, "EXECUTE") != 0) {
            ma_error_set(&e, MA_ERR_UNSUPPORTED, "flowclient: action %s is not supported (EXECUTE is the only action)",
                         ct);
        }
        free(ct);
        char *obj = ma_xml_attr(goc, "objectTypeId");
        if (obj && strncmp(obj, "flow:", 5) == 0) memmove(obj, obj + 5, strlen(obj + 5) + 1);
        if (obj && is_uuid(obj)) d->flow_id = obj;
        else free(obj);
        for (const ma_xml_node *f = ma_xml_child(goc, "field"); f; f = ma_xml_next(f, "field"))
            if (ma_xml_attr_is(f, "id", "playerName")) {
                char *v = ma_xml_attr(f, "value");
                if (v && *v) d->player = v;
                else free(v);
            }
        if (!d->return_errors && ma_xml_attr_is(goc, "returnApplicationErrors", "true")) d->return_errors = 1;
    } else if (step->operation_id && op) {
        ma_error_set(&e, MA_ERR_CONFIG, "flowclient: operation %s has no <Configuration><GenericOperationConfig>",
                     step->operation_id);
    }
    ma_httpc_fields cf;
    memset(&cf, 0, sizeof cf);
    if (!e.code && ma_connector_config(step, flow_config_map, &cf, &e) < 0) ma_error_prefix(&e, "flowclient");
    ma_httpc_opts o;
    memset(&o, 0, sizeof o);
    o.connect_timeout_ms = (long)cf.connect_timeout_ms;
    o.timeout_ms = (long)cf.read_timeout_ms;
    o.retries = cf.retries ? (int)cf.retries : -1;
    o.insecure = cf.insecure;
    char *ca = NULL, *proxy = NULL;
    if (!e.code) {
        ca = ma_connector_setting(step, "caFile", &e);
        proxy = ma_connector_setting(step, "proxy", &e);
    }
    o.ca_file = ca;
    o.proxy = proxy;
    if (!e.code && (!d->conn_label || !d->url)) ma_error_set(&e, MA_ERR_NOMEM, "out of memory");
    if (!e.code) d->pool = ma_httpc_new(&o, &e);
    free(ca);
    free(proxy);
    if (e.code) {
        *err = e;
        flow_free(d);
        return -1;
    }
    step->data = d;
    return 0;
}

static void flow_destroy(ma_connector_step *step)
{
    flow_free(step->data);
    step->data = NULL;
}

/* ---- execute ---- */

typedef struct creds {
    char *user, *pass, *apikey;
} creds;

static void creds_free(creds *c)
{
    free(c->user);
    ma_secret_free(c->pass);
    ma_secret_free(c->apikey);
    memset(c, 0, sizeof *c);
}

static void wipe(char *s, size_t n)
{
    volatile char *p = s;
    while (s && n--) *p++ = '\0';
}

/* The JSON request body of the initialization (wiped and freed by the caller). NULL with err (a
 * document problem) or err->code == MA_ERR_NOMEM. */
static char *init_body(const flow_data *d, const creds *c, const char *data, size_t len, char **flow_id_out,
                       ma_error *err)
{
    json_error_t je;
    json_t *in = len ? json_loadb(data, len, JSON_REJECT_DUPLICATES, &je) : json_object();
    if (!in || !json_is_object(in)) {
        json_decref(in);
        ma_error_set(err, MA_ERR_PARSE, "the document is not a JSON object%s%s", in ? "" : ": ", in ? "" : je.text);
        return NULL;
    }
    json_t *body = json_object(), *fid = json_object(), *inputs = json_null();
    const char *id = d->flow_id, *version = NULL;
    if (!d->flow_id) { /* Run - Initialize and Invoke Flow: {"id": ..., "versionId": ...} */
        id = json_string_value(json_object_get(in, "id"));
        version = json_string_value(json_object_get(in, "versionId"));
        json_t *given = json_object_get(in, "inputs");
        if (given && (json_is_array(given) || json_is_object(given))) inputs = json_incref(given);
    } else { /* a flow's own object: each member of the document is an input value */
        inputs = json_incref(in);
    }
    if (!id || !*id) {
        json_decref(in);
        json_decref(body);
        json_decref(fid);
        json_decref(inputs);
        ma_error_set(err, MA_ERR_CONFIG,
                     "the document names no flow: it needs {\"id\": \"<flow id>\", \"versionId\": \"<optional>\"}");
        return NULL;
    }
    json_object_set_new(fid, "id", json_string(id));
    json_object_set_new(fid, "versionId", version && *version ? json_string(version) : json_null());
    json_object_set_new(body, "flowId", fid);
    if (json_is_object(inputs)) { /* {"name": value} -> [{"developerName": name, "contentValue": value}] */
        json_t *arr = json_array();
        const char *k;
        json_t *v;
        json_object_foreach (inputs, k, v) {
            json_t *ev = json_object();
            json_object_set_new(ev, "developerName", json_string(k));
            if (json_is_string(v)) {
                json_object_set(ev, "contentValue", v);
                json_object_set_new(ev, "contentType", json_string("ContentString"));
            } else if (json_is_number(v)) {
                char *t = json_dumps(v, JSON_ENCODE_ANY);
                json_object_set_new(ev, "contentValue", json_string(t ? t : "0"));
                json_object_set_new(ev, "contentType", json_string("ContentNumber"));
                free(t);
            } else if (json_is_boolean(v)) {
                json_object_set_new(ev, "contentValue", json_string(json_is_true(v) ? "true" : "false"));
                json_object_set_new(ev, "contentType", json_string("ContentBoolean"));
            } else if (json_is_null(v)) {
                json_object_set_new(ev, "contentValue", json_null());
            } else { /* an object or a list: objectData */
                if (json_is_array(v)) json_object_set(ev, "objectData", v);
                else json_object_set_new(ev, "objectData", json_pack("[O]", v));
                json_object_set_new(ev, "contentType", json_string(json_is_array(v) ? "ContentList" : "ContentObject"));
            }
            json_array_append_new(arr, ev);
        }
        json_decref(inputs);
        inputs = arr;
    }
    json_object_set_new(body, "inputs", json_array_size(inputs) ? inputs : (json_decref(inputs), json_null()));
    if (d->tenant) {
        char *player = ma_asprintf("%s/%s/play/%s", d->url, d->tenant, d->player ? d->player : "default");
        if (player) {
            json_object_set_new(body, "playerUrl", json_string(player));
            json_object_set_new(body, "joinPlayerUrl", json_string(player));
        }
        free(player);
    }
    if (c->user && c->pass) {
        json_t *cr = json_object();
        json_object_set_new(cr, "username", json_string(c->user));
        json_object_set_new(cr, "password", json_string(c->pass));
        json_object_set_new(body, "credentials", cr);
    }
    *flow_id_out = ma_strdup(id);
    char *text = json_dumps(body, JSON_COMPACT);
    /* jansson keeps its own copy of the password: wipe it before releasing */
    json_t *cr = json_object_get(body, "credentials");
    const char *pw = cr ? json_string_value(json_object_get(cr, "password")) : NULL;
    if (pw) wipe((char *)pw, strlen(pw));
    json_decref(body);
    json_decref(in);
    if (!text || !*flow_id_out) {
        free(text);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return text;
}

static int set_status(ma_doc **doc, long st)
{
    char code[24];
    snprintf(code, sizeof code, "%ld", st);
    return ma_doc_set_prop(doc, PROP_STATUS, code) < 0 || ma_doc_set_prop(doc, PROP_STATUS_MSG, reason(st)) < 0 ? -1
                                                                                                                : 0;
}

/* An application error: the response becomes the document (returnApplicationErrors) or the
 * document fails. */
static int app_error(const flow_data *d, ma_doc *in, const char *what, ma_httpc_response *res, const char *why,
                     ma_outputs *out, ma_error *err)
{
    if (d->return_errors) {
        ma_doc *o = ma_doc_derive(in, res->body ? res->body : "", res->body ? res->body_len : 0);
        if (!o || set_status(&o, res->status) < 0 || ma_outputs_emit(out, 0, o) < 0) {
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        return 0;
    }
    ma_doc *f = ma_doc_ref(in);
    if (set_status(&f, res->status) < 0) {
        ma_doc_unref(f);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    size_t n = res->body_len > MAX_SHOWN_BODY ? MAX_SHOWN_BODY : res->body_len;
    return ma_outputs_fail(out, f, "flowclient: %s returned %ld %s%s%s%s%.*s%s", what, res->status, reason(res->status),
                           why ? ": " : "", why ? why : "", n ? ": " : "", (int)n, res->body ? res->body : "",
                           res->body_len > n ? "..." : "");
}

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static int flow_one(const flow_data *d, const creds *c, ma_doc *in, ma_outputs *out, ma_error *err)
{
    ma_error e;
    ma_error_clear(&e);
    size_t len;
    const char *data = ma_doc_data(in, &len);
    char *flow_id = NULL;
    char *body = init_body(d, c, data, len, &flow_id, &e);
    if (!body) {
        free(flow_id);
        return e.code == MA_ERR_NOMEM ? ma_error_set(err, MA_ERR_NOMEM, "out of memory")
                                      : ma_outputs_fail(out, ma_doc_ref(in), "flowclient: %s", e.msg);
    }
    ma_httpc_header h[4];
    size_t nh = 0;
    h[nh++] = (ma_httpc_header){"Content-Type", "application/json"};
    h[nh++] = (ma_httpc_header){"Accept", "application/json"};
    if (d->tenant) h[nh++] = (ma_httpc_header){"ManyWhoTenant", d->tenant};
    if (c->apikey) h[nh++] = (ma_httpc_header){"x-boomi-flow-api-key", c->apikey};
    char *url = ma_asprintf("%s/api/run/1", d->url), *what = NULL;
    int rc = 0;
    ma_httpc_response res;
    memset(&res, 0, sizeof res);
    json_t *init = NULL, *inv = NULL, *doc = NULL;
    if (!url) {
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* 1. initialize */
    int hr = ma_httpc_request(d->pool, "POST", url, h, nh, body, strlen(body), &res, &e);
    wipe(body, strlen(body));
    if (hr < 0) {
        rc = ma_outputs_fail(out, ma_doc_ref(in), "flowclient: %s", e.msg);
        goto done;
    }
    what = ma_asprintf("initializing flow %s (POST /api/run/1)", flow_id);
    if (!what) {
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (res.status < 200 || res.status >= 300) {
        rc = app_error(d, in, what, &res, NULL, out, err);
        goto done;
    }
    init = json_loadb(res.body, res.body_len, 0, NULL);
    const char *state = init ? jstr(init, "stateId") : NULL, *sc = init ? jstr(init, "statusCode") : NULL;
    if (sc && strcmp(sc, "401") == 0) {
        rc = app_error(d, in, what, &res,
                       "the flow needs a signed-in user (statusCode 401): set the connection's username and password",
                       out, err);
        goto done;
    }
    if (!state || !*state) {
        rc = app_error(d, in, what, &res, "the response holds no stateId", out, err);
        goto done;
    }
    /* 2. invoke the state, moving forward */
    json_t *req = json_pack("{s:s, s:s?, s:s?, s:s, s:{s:n}}", "stateId", state, "stateToken", jstr(init, "stateToken"),
                            "currentMapElementId", jstr(init, "currentMapElementId"), "invokeType", "FORWARD",
                            "mapElementInvokeRequest", "selectedOutcomeId");
    char *ibody = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    char *state_path = NULL;
    {
        ma_sb p; /* the state id, percent-encoded for the path */
        ma_sb_init(&p);
        for (const char *s = state; *s; s++) {
            if (isalnum((unsigned char)*s) || strchr("-._~", *s)) ma_sb_putc(&p, *s);
            else ma_sb_printf(&p, "%%%02X", (unsigned char)*s);
        }
        state_path = ma_sb_take(&p, NULL);
    }
    free(url);
    url = state_path ? ma_asprintf("%s/api/run/1/state/%s", d->url, state_path) : NULL;
    free(state_path);
    if (!ibody || !url) {
        free(ibody);
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto done;
    }
    ma_httpc_response_free(&res);
    hr = ma_httpc_request(d->pool, "POST", url, h, nh, ibody, strlen(ibody), &res, &e);
    free(ibody);
    if (hr < 0) {
        rc = ma_outputs_fail(out, ma_doc_ref(in), "flowclient: %s", e.msg);
        goto done;
    }
    free(what);
    what = ma_asprintf("invoking flow %s (POST /api/run/1/state/{stateId})", flow_id);
    if (!what) {
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (res.status < 200 || res.status >= 300) {
        rc = app_error(d, in, what, &res, NULL, out, err);
        goto done;
    }
    inv = res.body_len ? json_loadb(res.body, res.body_len, JSON_DECODE_ANY, NULL) : NULL;
    if (inv && !json_is_object(inv)) {
        json_decref(inv);
        inv = NULL;
    }
    /* 3. the output: state id, invoke type, flow, outputs */
    const json_t *src = inv ? inv : init;
    const char *st_out = jstr(src, "stateId") ? jstr(src, "stateId") : state;
    json_t *fl = json_object_get(src, "flowId");
    const char *fid = json_is_string(fl) ? json_string_value(fl) : json_is_object(fl) ? jstr(fl, "id") : NULL;
    const char *fver = jstr(src, "flowVersion");
    if (!fver && json_is_object(fl)) fver = jstr(fl, "versionId");
    json_t *outputs = json_object_get(src, "outputs");
    doc = json_pack("{s:s, s:s?, s:{s:s, s:s?}, s:s?, s:s?, s:s?, s:s?, s:O?}", "stateId", st_out, "stateToken",
                    jstr(src, "stateToken"), "flowId", "id", fid ? fid : flow_id, "versionId", fver, "invokeType",
                    inv ? jstr(inv, "invokeType") : NULL, "waitMessage", jstr(src, "waitMessage"), "joinFlowUri",
                    jstr(src, "joinFlowUri"), "statusCode", jstr(src, "statusCode"), "outputs",
                    outputs && !json_is_null(outputs) ? outputs : NULL);
    /* json_pack's s? leaves a null for absent strings: keep the keys, they are part of the format */
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    ma_doc *o = text ? ma_doc_derive_owned(in, text, strlen(text)) : NULL;
    const char *itype = inv ? jstr(inv, "invokeType") : NULL;
    if (!o || set_status(&o, res.status) < 0 || ma_doc_set_prop(&o, PROP_STATE, st_out) < 0 ||
        (itype && ma_doc_set_prop(&o, PROP_INVOKE, itype) < 0)) {
        ma_doc_unref(o);
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (ma_outputs_emit(out, 0, o) < 0) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
done:
    json_decref(init);
    json_decref(inv);
    json_decref(doc);
    ma_httpc_response_free(&res);
    free(body);
    free(url);
    free(what);
    free(flow_id);
    return rc;
}

static int flow_execute(ma_exec *ex, ma_connector_step *step, ma_batch *in, ma_outputs *out, ma_error *err)
{
    const flow_data *d = step->data;
    if (!in->len) return 0;
    creds c;
    memset(&c, 0, sizeof c);
    ma_error e;
    ma_error_clear(&e);
    c.user = setting_any(step, F_USER, &e);
    if (!e.code && c.user) c.pass = secret_any(step, F_PASS, &e);
    if (!e.code) c.apikey = secret_any(step, F_APIKEY, &e);
    if (!e.code && c.user && !c.pass)
        ma_error_set(&e, MA_ERR_CONFIG,
                     "connection %s has a username but no password: set connection.%s.password (or password.file, or "
                     "MINIATOM_CONNECTION_<ID>_PASSWORD)",
                     d->conn_label, step->connection_id ? step->connection_id : d->conn_label);
    int rc = 0;
    if (e.code) {
        for (size_t i = 0; i < in->len && rc == 0; i++)
            rc = ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "flowclient: %s", e.msg);
        creds_free(&c);
        return rc < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
    }
    for (size_t i = 0; i < in->len && rc == 0; i++) rc = flow_one(d, &c, in->docs[i], out, err);
    creds_free(&c);
    ma_exec_log(ex, step->shape, MA_LOG_INFO, "flowclient: %zu flow run(s) on %s (tenant %s)", in->len, d->url,
                d->tenant ? d->tenant : "(none)");
    return rc;
}

const ma_connector_type ma_connector_flowclient = {
    .name = "flowclient",
    .abi_version = MA_ABI_VERSION,
    .compile = flow_compile,
    .execute = flow_execute,
    .destroy = flow_destroy,
    .actions = flow_actions,
    .objects = flow_objects,
    .config_map = flow_config_map,
};
