/* http.c - the HTTP client connector (connector type "http"): Boomi's HTTP Client connection
 * (<HttpSettings>) and its Get and Send operations (<HttpGetAction>, <HttpSendAction>) as they
 * appear in real exports. One request per document through a keep-alive pool (httpc.h); the
 * response body becomes the document, its status goes to meta.base.applicationstatuscode/message.
 * The accepted XML, settings and document properties are listed in docs/connectors.md. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpc.h"
#include "miniatom/miniatom.h"

#define PROP_STATUS "meta.base.applicationstatuscode"
#define PROP_STATUS_MSG "meta.base.applicationstatusmessage"
#define PROP_URL "connector.track.http.url"
#define PROP_HEADER_PREFIX "connector.track.http.header."

typedef struct http_header {
    char *name, *value, *key; /* value: the value, or for a replacement variable its name ("" = name) */
    int is_var;
} http_header;

typedef struct http_elem {
    char *name, *key; /* name: literal text, or for a replacement variable its name */
    int is_var;
} http_elem;

typedef struct http_map {
    char *header, *prop; /* response header -> document property id (dynamicdocument.X) */
} http_map;

typedef struct http_param {
    char *id, *name; /* elementToSetId, elementToSetName */
    ma_param *p;
} http_param;

typedef struct http_data {
    int send; /* HttpSendAction: the document is the request body */
    char *method, *content_type;
    int return_errors, return_responses, follow;
    http_header *headers;
    size_t n_headers;
    http_elem *elems;
    size_t n_elems;
    http_map *maps;
    size_t n_maps;
    http_param *params;
    size_t n_params;
    char *url;       /* connection base URL (after settings) */
    int basic;       /* BASIC authentication */
    int client_auth; /* SSLOptions clientauth="true": a client certificate is required */
    int has_client_cert;
    int password_in_xml_ok; /* AuthSettings/@password is plain text (not an encrypted export value) */
    char *conn_label;       /* for messages: the connection's name or id */
    ma_httpc *pool;
} http_data;

static const char *const http_actions[] = {"Get", "Send", NULL};

/* HttpSettings authenticationType (Boomi's HTTP Client connection; Platform API HTTPSettings) */
enum { AUTH_NONE, AUTH_BASIC, AUTH_OTHER };
static const ma_enum auth_types[] = {
    {"NONE", AUTH_NONE, 0},
    {"BASIC", AUTH_BASIC, 0},
    {"PASSWORD_DIGEST", AUTH_OTHER, MA_ENUM_UNSUPPORTED},
    {"CUSTOM", AUTH_OTHER, MA_ENUM_UNSUPPORTED},
    {"OAUTH", AUTH_OTHER, MA_ENUM_UNSUPPORTED},
    {"OAUTH2", AUTH_OTHER, MA_ENUM_UNSUPPORTED},
    {"AWSV4", AUTH_OTHER, MA_ENUM_UNSUPPORTED},
    {"NETWORK_AUTHENTICATION", AUTH_OTHER, MA_ENUM_UNSUPPORTED},
    {NULL, 0, 0},
};

/* ---- small helpers ---- */

static int attr_true(const ma_xml_node *n, const char *name) { return n && ma_xml_attr_is(n, name, "true"); }

static char *attr_or(const ma_xml_node *n, const char *name, const char *def)
{
    char *v = n ? ma_xml_attr(n, name) : NULL;
    if (!v && def) v = ma_strdup(def);
    return v;
}

/* The <bns:Component> element above a payload root, or NULL. */
static const ma_xml_node *component_of(const ma_xml_node *payload)
{
    for (const ma_xml_node *p = ma_xml_parent(payload); p; p = ma_xml_parent(p))
        if (ma_xml_is(p, "Component")) return p;
    return NULL;
}

/* Does the export mark the value at path (e.g. "//HttpSettings/AuthSettings/@password") as encrypted? */
static int encrypted_in_export(const ma_xml_node *payload, const char *path)
{
    const ma_xml_node *comp = component_of(payload);
    const ma_xml_node *ev = comp ? ma_xml_child(comp, "encryptedValues") : NULL;
    for (const ma_xml_node *v = ev ? ma_xml_child(ev, "encryptedValue") : NULL; v; v = ma_xml_next(v, "encryptedValue"))
        if (ma_xml_attr_is(v, "path", path)) return 1;
    return 0;
}

static const char *reason_phrase(long st)
{
    switch (st) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    case 511: return "Network Authentication Required";
    default: return st >= 200 && st < 300 ? "OK" : "Unknown";
    }
}

static char *b64(const unsigned char *s, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc((n + 2) / 3 * 4 + 1), *p = o;
    if (!o) return NULL;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        *p++ = t[s[i] >> 2];
        *p++ = t[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        *p++ = t[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        *p++ = t[s[i + 2] & 63];
    }
    if (i < n) {
        *p++ = t[s[i] >> 2];
        if (i + 1 < n) {
            *p++ = t[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
            *p++ = t[(s[i + 1] & 15) << 2];
        } else {
            *p++ = t[(s[i] & 3) << 4];
            *p++ = '=';
        }
        *p++ = '=';
    }
    *p = '\0';
    return o;
}

static void wipe_free(char *s)
{
    if (!s) return;
    ma_wipe(s, strlen(s));
    free(s);
}

/* A setting (settings -> environment -> the connection's root attribute or <field>), else the
 * attribute attr of the connection's child element child. */
static char *conn_value(const ma_connector_step *step, const char *field, const char *child, const char *attr,
                        ma_error *err)
{
    err->code = MA_OK;
    char *v = ma_connector_setting(step, field, err);
    if (v || err->code != MA_OK) return v;
    const ma_xml_node *c = child ? ma_xml_child(step->connection, child) : NULL;
    return c ? ma_xml_attr(c, attr) : NULL;
}

/* ---- the connection's fields (ma_connector_setting, ma_connector_config) ---- */

static const ma_config_entry http_config_map[] = {
    {.key = "url", .kind = MA_CONFIG_STRING, .description = "the base URL the operation's path elements are added to"},
    {.key = "user",
     .kind = MA_CONFIG_STRING,
     .description = "the user of BASIC authentication (else AuthSettings user)"},
    {.key = "password",
     .kind = MA_CONFIG_STRING,
     .flags = MA_CONFIG_SECRET,
     .description = "the password of BASIC authentication (an encrypted export value is never used)"},
    {.key = "clientCert",
     .kind = MA_CONFIG_FILE,
     .description = "PEM client certificate, for SSLOptions clientauth=\"true\""},
    {.key = "clientKey", .kind = MA_CONFIG_FILE, .description = "PEM key of clientCert"},
    MA_HTTPC_CONFIG_ENTRIES("the server"),
    MA_CONFIG_END,
};

/* ---- compile ---- */

static void http_free(http_data *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n_headers; i++) {
        free(d->headers[i].name);
        free(d->headers[i].value);
        free(d->headers[i].key);
    }
    for (size_t i = 0; i < d->n_elems; i++) {
        free(d->elems[i].name);
        free(d->elems[i].key);
    }
    for (size_t i = 0; i < d->n_maps; i++) {
        free(d->maps[i].header);
        free(d->maps[i].prop);
    }
    for (size_t i = 0; i < d->n_params; i++) {
        free(d->params[i].id);
        free(d->params[i].name);
        ma_param_free(d->params[i].p);
    }
    free(d->headers);
    free(d->elems);
    free(d->maps);
    free(d->params);
    free(d->method);
    free(d->content_type);
    free(d->url);
    free(d->conn_label);
    ma_httpc_free(d->pool);
    free(d);
}

static size_t count_children(const ma_xml_node *n, const char *name)
{
    size_t k = 0;
    for (const ma_xml_node *c = n ? ma_xml_child(n, name) : NULL; c; c = ma_xml_next(c, name)) k++;
    return k;
}

static int valid_method(const char *m)
{
    if (!m || !*m || strlen(m) > 32) return 0;
    for (const char *p = m; *p; p++)
        if (!isupper((unsigned char)*p)) return 0;
    return 1;
}

static int compile_operation(ma_connector_step *step, http_data *d, ma_error *err)
{
    const ma_xml_node *op = step->operation;
    const ma_xml_node *cfg = op ? ma_xml_child(op, "Configuration") : NULL;
    const ma_xml_node *act = cfg ? ma_xml_child(cfg, "HttpSendAction") : NULL;
    if (act) d->send = 1;
    else act = cfg ? ma_xml_child(cfg, "HttpGetAction") : NULL;
    if (!act) {
        if (op && ma_xml_is(op, "HttpSendAction")) act = op, d->send = 1; /* a bare action element */
        else if (op && ma_xml_is(op, "HttpGetAction")) act = op;
    }
    if (!act)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "http: operation %s has no <Configuration><HttpGetAction> or <HttpSendAction>",
                            step->operation_id ? step->operation_id : "(none)");
    d->method = attr_or(act, "methodType", d->send ? "POST" : "GET");
    for (char *p = d->method; p && *p; p++) *p = (char)toupper((unsigned char)*p);
    if (!valid_method(d->method))
        return ma_error_set(err, MA_ERR_CONFIG, "http: methodType '%s' is not an HTTP method",
                            d->method ? d->method : "");
    d->content_type = attr_or(act, "dataContentType", "text/plain");
    d->return_errors = attr_true(act, "returnErrors");
    d->follow = attr_true(act, "followRedirects");
    /* Send: returnResponses absent means true (older exports); Get always returns the response */
    d->return_responses = !d->send || !ma_xml_attr_is(act, "returnResponses", "false");
    if (attr_true(act, "returnMimeResponse"))
        return ma_error_set(err, MA_ERR_UNSUPPORTED,
                            "http: returnMimeResponse=\"true\" (the response as a MIME document) is not supported");
    if (attr_true(act, "mimePassthrough"))
        return ma_error_set(err, MA_ERR_UNSUPPORTED,
                            "http: mimePassthrough=\"true\" (multipart MIME requests) is not supported");

    const ma_xml_node *hs = ma_xml_child(act, "requestHeaders");
    if ((d->n_headers = count_children(hs, "header")) && !(d->headers = calloc(d->n_headers, sizeof *d->headers)))
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    size_t i = 0;
    for (const ma_xml_node *h = hs ? ma_xml_child(hs, "header") : NULL; h; h = ma_xml_next(h, "header"), i++) {
        http_header *x = &d->headers[i];
        x->name = attr_or(h, "headerName", "");
        x->value = attr_or(h, "headerValue", "");
        x->key = attr_or(h, "key", "");
        x->is_var = attr_true(h, "isVariable");
        if (!x->name || !x->value || !x->key) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        if (!*x->name) return ma_error_set(err, MA_ERR_CONFIG, "http: a request header has no headerName");
        for (const char *p = x->name; *p; p++)
            if (*p <= ' ' || *p == ':' || *p == 127)
                return ma_error_set(err, MA_ERR_CONFIG, "http: request header name '%s' is not a valid header name",
                                    x->name);
    }
    const ma_xml_node *ps = ma_xml_child(act, "pathElements");
    if ((d->n_elems = count_children(ps, "element")) && !(d->elems = calloc(d->n_elems, sizeof *d->elems)))
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    i = 0;
    for (const ma_xml_node *e = ps ? ma_xml_child(ps, "element") : NULL; e; e = ma_xml_next(e, "element"), i++) {
        d->elems[i].name = attr_or(e, "name", "");
        d->elems[i].key = attr_or(e, "key", "");
        d->elems[i].is_var = attr_true(e, "isVariable");
        if (!d->elems[i].name || !d->elems[i].key) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    const ma_xml_node *ms = ma_xml_child(act, "responseHeaderMapping");
    if ((d->n_maps = count_children(ms, "header")) && !(d->maps = calloc(d->n_maps, sizeof *d->maps)))
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    i = 0;
    for (const ma_xml_node *m = ms ? ma_xml_child(ms, "header") : NULL; m; m = ma_xml_next(m, "header"), i++) {
        char *target = attr_or(m, "targetPropertyName", "");
        d->maps[i].header = attr_or(m, "headerFieldName", "");
        d->maps[i].prop =
            target ? (strchr(target, '.') ? ma_strdup(target) : ma_asprintf("dynamicdocument.%s", target)) : NULL;
        free(target);
        if (!d->maps[i].header || !d->maps[i].prop) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static int compile_params(ma_connector_step *step, http_data *d, ma_error *err)
{
    const ma_xml_node *ps = step->shape_config ? ma_xml_child(step->shape_config, "parameters") : NULL;
    if (!(d->n_params = count_children(ps, "parametervalue"))) return 0;
    if (!(d->params = calloc(d->n_params, sizeof *d->params))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    size_t i = 0;
    for (const ma_xml_node *p = ma_xml_child(ps, "parametervalue"); p; p = ma_xml_next(p, "parametervalue"), i++) {
        d->params[i].id = ma_xml_attr(p, "elementToSetId");
        d->params[i].name = ma_xml_attr(p, "elementToSetName");
        if (!(d->params[i].p = ma_param_compile(step->shape, p, err))) {
            ma_error_prefix(err, "http: step parameter %s", d->params[i].name ? d->params[i].name : "");
            return -1;
        }
    }
    return 0;
}

static int compile_connection(ma_connector_step *step, http_data *d, ma_error *err)
{
    const ma_xml_node *conn = step->connection;
    if (conn && !ma_xml_is(conn, "HttpSettings"))
        return ma_error_set(err, MA_ERR_CONFIG, "http: connection %s is a <%s>, not an <HttpSettings>",
                            step->connection_id ? step->connection_id : "", ma_xml_name(conn));
    d->conn_label = ma_strdup(step->connection_name ? step->connection_name
                              : step->connection_id ? step->connection_id
                                                    : "(none)");
    if (!d->conn_label) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_error e2;
    ma_error_clear(&e2);
    d->url = ma_connector_setting(step, "url", &e2);
    if (!d->url && e2.code) {
        *err = e2;
        return -1;
    }
    /* an absent authenticationType: older exports say useBasicAuth="true" */
    int auth = conn && attr_true(conn, "useBasicAuth") ? AUTH_BASIC : AUTH_NONE;
    if (ma_xml_enum(conn, "authenticationType", auth_types, auth, 0, &auth, err) < 0) {
        if (err->code == MA_ERR_UNSUPPORTED) {
            char *v = ma_xml_attr(conn, "authenticationType");
            ma_error_set(err, MA_ERR_UNSUPPORTED,
                         "http: connection %s uses authenticationType %s; mini-Atom's HTTP client supports NONE and "
                         "BASIC (send other credentials as request headers with replacement variables)",
                         d->conn_label, v ? v : "");
            free(v);
        } else {
            ma_error_prefix(err, "http: connection %s", d->conn_label);
        }
        return -1;
    }
    d->basic = auth == AUTH_BASIC;
    d->password_in_xml_ok = !encrypted_in_export(conn, "//HttpSettings/AuthSettings/@password");
    const ma_xml_node *ssl = conn ? ma_xml_child(conn, "SSLOptions") : NULL;
    d->client_auth = attr_true(ssl, "clientauth");

    /* the pool: timeouts, TLS and proxy from the settings (and the connection's own attributes) */
    ma_httpc_fields cf;
    memset(&cf, 0, sizeof cf);
    if (ma_connector_config(step, http_config_map, &cf, err) < 0) {
        ma_error_prefix(err, "http");
        return -1;
    }
    ma_httpc_opts o;
    memset(&o, 0, sizeof o);
    o.connect_timeout_ms = (long)cf.connect_timeout_ms;
    o.timeout_ms = (long)cf.read_timeout_ms;
    o.retries = cf.retries ? (int)cf.retries : -1; /* Boomi's HTTP client does not retry */
    ma_error_clear(&e2);
    char *ca = ma_connector_setting(step, "caFile", &e2), *cert = ma_connector_setting(step, "clientCert", &e2),
         *key = ma_connector_setting(step, "clientKey", &e2), *proxy = ma_connector_setting(step, "proxy", &e2);
    o.ca_file = ca;
    o.client_cert = cert;
    o.client_key = key;
    o.proxy = proxy;
    o.insecure = cf.insecure;
    o.follow_redirects = d->follow;
    d->has_client_cert = cert && *cert;
    int rc = 0;
    if (e2.code) {
        *err = e2;
        rc = -1;
    } else if (!(d->pool = ma_httpc_new(&o, err))) rc = -1;
    free(ca);
    free(cert);
    free(key);
    free(proxy);
    return rc;
}

static int http_compile(ma_connector_step *step, ma_error *err)
{
    http_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (compile_operation(step, d, err) < 0 || compile_params(step, d, err) < 0 ||
        compile_connection(step, d, err) < 0) {
        http_free(d);
        return -1;
    }
    step->data = d;
    return 0;
}

static void http_destroy(ma_connector_step *step)
{
    http_free(step->data);
    step->data = NULL;
}

/* ---- execute ---- */

/* The value of a replacement variable: the step parameter set for it (elementToSetId = key, or
 * elementToSetName = name), else the dynamic document property of that name, else "". NULL with
 * err when a step parameter cannot be evaluated. */
static char *var_value(ma_exec *ex, const http_data *d, const char *key, const char *name, const ma_doc *doc,
                       ma_error *err)
{
    for (size_t i = 0; i < d->n_params; i++) {
        const http_param *p = &d->params[i];
        if ((key && *key && p->id && strcmp(p->id, key) == 0) || (p->name && strcmp(p->name, name) == 0)) {
            char *v = ma_param_eval(ex, p->p, doc, err);
            if (!v) ma_error_prefix(err, "replacement variable %s", name);
            return v;
        }
    }
    char *id = ma_asprintf("dynamicdocument.%s", name);
    if (!id) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    const char *v = ma_doc_prop(doc, id);
    free(id);
    char *r = ma_strdup(v ? v : "");
    if (!r) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return r;
}

/* base + "/" + path (one slash between them; none before a query string) */
static char *build_url(ma_exec *ex, const http_data *d, const ma_doc *doc, ma_error *err)
{
    ma_sb path;
    ma_sb_init(&path);
    for (size_t i = 0; i < d->n_elems; i++) {
        const http_elem *e = &d->elems[i];
        if (!e->is_var) {
            ma_sb_puts(&path, e->name);
            continue;
        }
        char *v = var_value(ex, d, e->key, e->name, doc, err);
        if (!v) {
            ma_sb_free(&path);
            return NULL;
        }
        ma_sb_puts(&path, v);
        free(v);
    }
    size_t plen = 0;
    char *p = ma_sb_take(&path, &plen);
    if (!p) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    const char *base = d->url;
    int scheme = strstr(base, "://") != NULL;
    size_t bl = strlen(base);
    const char *sep = "";
    if (plen) {
        int bslash = bl && base[bl - 1] == '/', pslash = p[0] == '/';
        if (bslash && pslash) memmove(p, p + 1, plen--);
        else if (!bslash && !pslash && p[0] != '?' && p[0] != '#') sep = "/";
    }
    char *url = ma_asprintf("%s%s%s%s", scheme ? "" : "http://", base, sep, p);
    free(p);
    if (!url) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (const char *q = url; url && *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 127) {
            ma_error_set(err, MA_ERR_CONFIG,
                         "the URL holds a space or control character (encode replacement variable values)");
            free(url);
            return NULL;
        }
    return url;
}

/* url for messages and logs: without user info and query string */
static char *display_url(const char *url)
{
    ma_sb b;
    ma_sb_init(&b);
    const char *h = strstr(url, "://");
    if (h) {
        h += 3;
        ma_sb_append(&b, url, (size_t)(h - url));
        const char *end = h + strcspn(h, "/?#"), *at = NULL;
        for (const char *q = h; q < end; q++)
            if (*q == '@') at = q;
        if (at) h = at + 1;
    } else {
        h = url;
    }
    ma_sb_append(&b, h, strcspn(h, "?#"));
    return ma_sb_take(&b, NULL);
}

static int set_status(ma_doc **doc, long status)
{
    char code[24];
    snprintf(code, sizeof code, "%ld", status);
    return ma_doc_set_prop(doc, PROP_STATUS, code) < 0 ||
                   ma_doc_set_prop(doc, PROP_STATUS_MSG, reason_phrase(status)) < 0
               ? -1
               : 0;
}

static int set_response_props(ma_doc **doc, const http_data *d, const ma_httpc_response *res, const char *url)
{
    if (set_status(doc, res->status) < 0) return -1;
    char *shown = display_url(url);
    if (!shown || ma_doc_set_prop(doc, PROP_URL, shown) < 0) {
        free(shown);
        return -1;
    }
    free(shown);
    for (size_t i = 0; i < res->n_headers; i++) {
        const char *line = res->headers[i], *colon = strchr(line, ':');
        if (!colon || colon == line) continue;
        size_t nl = (size_t)(colon - line);
        if (nl == 10 && strncasecmp(line, "set-cookie", 10) == 0) continue; /* session state stays out of the record */
        char *id = malloc(sizeof PROP_HEADER_PREFIX + nl);
        if (!id) return -1;
        memcpy(id, PROP_HEADER_PREFIX, sizeof PROP_HEADER_PREFIX - 1);
        for (size_t k = 0; k < nl; k++) id[sizeof PROP_HEADER_PREFIX - 1 + k] = (char)tolower((unsigned char)line[k]);
        id[sizeof PROP_HEADER_PREFIX - 1 + nl] = '\0';
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        const char *old = ma_doc_prop(*doc, id);
        int rc;
        if (old) { /* a repeated header: values joined with ", " */
            char *j = ma_asprintf("%s, %s", old, v);
            rc = j ? ma_doc_set_prop(doc, id, j) : -1;
            free(j);
        } else {
            rc = ma_doc_set_prop(doc, id, v);
        }
        free(id);
        if (rc < 0) return -1;
    }
    for (size_t i = 0; i < d->n_maps; i++) {
        const char *v = ma_httpc_header_get(res, d->maps[i].header);
        if (v && ma_doc_set_prop(doc, d->maps[i].prop, v) < 0) return -1;
    }
    return 0;
}

static int has_crlf(const char *s) { return strpbrk(s, "\r\n") != NULL; }

/* Credentials for this batch: the "Basic ..." header value (wiped by the caller), or NULL with
 * *why set when they are missing. */
static char *basic_auth(const ma_connector_step *step, const http_data *d, ma_error *why)
{
    ma_error e;
    ma_error_clear(&e);
    char *user = conn_value(step, "user", "AuthSettings", "user", &e);
    char *pass = e.code ? NULL : ma_connector_secret(step, "password", &e);
    if (!pass && !e.code && d->password_in_xml_ok) {
        const ma_xml_node *a = ma_xml_child(step->connection, "AuthSettings");
        pass = a ? ma_xml_attr(a, "password") : NULL;
        if (pass && !*pass) {
            free(pass);
            pass = NULL;
        }
    }
    char *hdr = NULL;
    if (e.code) {
        *why = e;
    } else if (!pass) {
        ma_error_set(
            why, MA_ERR_CONFIG,
            "connection %s uses BASIC authentication but no password is configured: set connection.%s.password "
            "(or connection.%s.password.file) in the configuration, or MINIATOM_CONNECTION_<ID>_PASSWORD",
            d->conn_label, step->connection_id ? step->connection_id : d->conn_label,
            step->connection_id ? step->connection_id : d->conn_label);
    } else {
        char *up = ma_asprintf("%s:%s", user ? user : "", pass);
        char *enc = up ? b64((const unsigned char *)up, strlen(up)) : NULL;
        hdr = enc ? ma_asprintf("Basic %s", enc) : NULL;
        wipe_free(up);
        wipe_free(enc);
        if (!hdr) ma_error_set(why, MA_ERR_NOMEM, "out of memory");
    }
    free(user);
    ma_secret_free(pass);
    return hdr;
}

static int header_set(const ma_httpc_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0) return 1;
    return 0;
}

/* One document: 0 (emitted or failed), -1 process-level error (out of memory). */
static int http_one(ma_exec *ex, const http_data *d, ma_doc *doc, const char *auth, ma_outputs *out, ma_error *err)
{
    ma_error e;
    ma_error_clear(&e);
    char *url = build_url(ex, d, doc, &e);
    if (!url) {
        if (e.code == MA_ERR_NOMEM) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return ma_outputs_fail(out, ma_doc_ref(doc), "http: %s", e.msg);
    }
    ma_httpc_header *hv = calloc(d->n_headers + 2, sizeof *hv);
    char **vals = calloc(d->n_headers + 1, sizeof *vals);
    size_t nh = 0;
    int rc = 0;
    if (!hv || !vals) {
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < d->n_headers; i++) {
        const http_header *h = &d->headers[i];
        const char *v = h->value;
        if (h->is_var) {
            if (!(vals[i] = var_value(ex, d, h->key, *h->value ? h->value : h->name, doc, &e))) {
                if (e.code == MA_ERR_NOMEM) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                else rc = ma_outputs_fail(out, ma_doc_ref(doc), "http: header %s: %s", h->name, e.msg);
                goto done;
            }
            v = vals[i];
        }
        if (has_crlf(v)) {
            rc = ma_outputs_fail(out, ma_doc_ref(doc), "http: the value of request header %s holds a line break",
                                 h->name);
            goto done;
        }
        hv[nh].name = h->name;
        hv[nh++].value = v;
    }
    size_t blen = 0;
    const char *body = NULL;
    int with_body = d->send && strcmp(d->method, "GET") != 0 && strcmp(d->method, "HEAD") != 0;
    if (with_body) {
        body = ma_doc_data(doc, &blen);
        if (!header_set(hv, nh, "Content-Type") && *d->content_type) {
            hv[nh].name = "Content-Type";
            hv[nh++].value = d->content_type;
        }
    }
    if (auth && !header_set(hv, nh, "Authorization")) {
        hv[nh].name = "Authorization";
        hv[nh++].value = auth;
    }
    ma_httpc_response res;
    if (ma_httpc_request(d->pool, d->method, url, hv, nh, with_body ? body : NULL, blen, &res, &e) < 0) {
        if (e.code == MA_ERR_NOMEM) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        else rc = ma_outputs_fail(out, ma_doc_ref(doc), "%s", e.msg); /* "HTTP GET https://host/path: why" */
        goto done;
    }
    int ok = res.status >= 200 && res.status < 300;
    if (ok || d->return_errors) {
        /* Send without returnResponses: the response body is dropped, the status and headers kept */
        int keep_body = !ok || d->return_responses;
        ma_doc *o = keep_body ? ma_doc_derive_owned(doc, res.body, res.body_len) : ma_doc_derive(doc, "", 0);
        if (keep_body) res.body = NULL; /* taken over (freed on failure too) */
        if (!o || set_response_props(&o, d, &res, url) < 0) {
            ma_doc_unref(o);
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        } else if (ma_outputs_emit(out, 0, o) < 0) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    } else {
        ma_doc *f = ma_doc_ref(doc);
        if (set_status(&f, res.status) < 0) {
            ma_doc_unref(f);
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        } else {
            rc = ma_outputs_fail(out, f, "Error message received from Http Server, Code %ld: %s", res.status,
                                 reason_phrase(res.status));
        }
    }
    ma_httpc_response_free(&res);
done:
    if (vals)
        for (size_t i = 0; i < d->n_headers; i++) wipe_free(vals[i]);
    free(vals);
    free(hv);
    free(url);
    return rc;
}

static int http_execute(ma_exec *ex, ma_connector_step *step, ma_batch *in, ma_outputs *out, ma_error *err)
{
    const http_data *d = step->data;
    if (!d->url || !*d->url) {
        for (size_t i = 0; i < in->len; i++)
            if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]),
                                "http: connection %s has no URL: set its url attribute or connection.%s.url",
                                d->conn_label, step->connection_id ? step->connection_id : d->conn_label) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return 0;
    }
    char *auth = NULL;
    ma_error why;
    ma_error_clear(&why);
    if (d->client_auth && !d->has_client_cert)
        ma_error_set(
            &why, MA_ERR_CONFIG,
            "connection %s requires a client certificate (SSLOptions clientauth=\"true\"): set connection.%s.clientCert "
            "and connection.%s.clientKey to PEM files",
            d->conn_label, step->connection_id ? step->connection_id : d->conn_label,
            step->connection_id ? step->connection_id : d->conn_label);
    else if (d->basic && in->len) auth = basic_auth(step, d, &why);
    if (why.code) {
        if (why.code == MA_ERR_NOMEM) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < in->len; i++)
            if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "http: %s", why.msg) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < in->len && rc == 0; i++) rc = http_one(ex, d, in->docs[i], auth, out, err);
    wipe_free(auth);
    if (in->len) {
        char *shown = display_url(d->url);
        ma_exec_log(ex, step->shape, MA_LOG_INFO, "http: %s %s: %zu request(s)", d->method, shown ? shown : "",
                    in->len);
        free(shown);
    }
    return rc;
}

const ma_connector_type ma_connector_http = {
    .name = "http",
    .abi_version = MA_ABI_VERSION,
    .compile = http_compile,
    .execute = http_execute,
    .destroy = http_destroy,
    .actions = http_actions,
    .objects = NULL,
    .config_map = http_config_map,
};
