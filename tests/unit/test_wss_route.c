/* test_wss_route.c - the Web Services Server routing table (connectors/wss/wss_route.c, docs/wss.md
 * 2): /ws/simple/<operationType><ObjectName> of every wss Listen process with its default method,
 * the /ws/rest routes of API Service components with {parameter} spans, literal-before-pattern
 * precedence, 405 data, and the deploy errors that name the components involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "builtins.h"
#include "loader.h"
#include "registry.h"
#include "wss/wss.h"

static ma_registry *reg;

static int setup(void **state)
{
    (void)state;
    ma_error err;
    reg = ma_builtins_registry(&err);
    return reg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ma_registry_free(reg);
    return 0;
}

/* ---- components in memory ------------------------------------------------------------------- */

#define ENV_OPEN                                                                                              \
    "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"%s\" name=\"%s\" type=\"%s\" " \
    "version=\"1\"><bns:object>"
#define ENV_CLOSE "</bns:object></bns:Component>"

static void add(ma_deploy *dep, const char *id, const char *name, const char *type, const char *object)
{
    char *xml = NULL;
    ma_error err;
    assert_true(asprintf(&xml, ENV_OPEN "%s" ENV_CLOSE, id, name, type, object) > 0);
    if (ma_deploy_add_buffer(dep, xml, strlen(xml), id, &err) < 0) fail_msg("%s: %s", id, err.msg);
    free(xml);
}

/* A Web Services Server operation (connector-action, subType wss). */
static void add_operation(ma_deploy *dep, const char *id, const char *op_type, const char *object, const char *in,
                          const char *out)
{
    char obj[1024];
    snprintf(obj, sizeof obj,
             "<Operation xmlns=\"\"><Archiving directory=\"\" enabled=\"false\"/><Configuration>"
             "<WebServicesServerListenAction inputType=\"%s\" objectName=\"%s\" operationType=\"%s\" outputType=\"%s\" "
             "responseContentType=\"\"/></Configuration><Tracking><TrackedFields/></Tracking><Caching/></Operation>",
             in, object, op_type, out);
    add(dep, id, id, "connector-action", obj);
}

/* A process whose start is the given <configuration> content, then a Return Documents. */
static void add_process_with_start(ma_deploy *dep, const char *id, const char *name, const char *start)
{
    char obj[2048];
    snprintf(obj, sizeof obj,
             "<process xmlns=\"\" allowSimultaneous=\"true\" workload=\"general\"><shapes>"
             "<shape name=\"shape1\" shapetype=\"start\"><configuration>%s</configuration>"
             "<dragpoints><dragpoint name=\"shape1.dragpoint1\" toShape=\"shape2\"/></dragpoints></shape>"
             "<shape name=\"shape2\" shapetype=\"returndocuments\"><configuration><returndocuments label=\"R\"/>"
             "</configuration><dragpoints/></shape></shapes></process>",
             start);
    add(dep, id, name, "process", obj);
}

/* A process that starts with a wss Listen of operation op_id. */
static void add_listener(ma_deploy *dep, const char *id, const char *name, const char *op_id)
{
    char start[512];
    snprintf(start, sizeof start,
             "<connectoraction actionType=\"Listen\" allowDynamicCredentials=\"NONE\" connectorType=\"wss\" "
             "hideSettings=\"true\" operationId=\"%s\"><parameters/><dynamicProperties/></connectoraction>",
             op_id);
    add_process_with_start(dep, id, name, start);
}

/* An operation and its listener process: op "op-<id>". */
static void add_wss(ma_deploy *dep, const char *id, const char *name, const char *op_type, const char *object,
                    const char *in, const char *out)
{
    char op_id[128];
    snprintf(op_id, sizeof op_id, "op-%s", id);
    add_operation(dep, op_id, op_type, object, in, out);
    add_listener(dep, id, name, op_id);
}

/* One <route> of an API Service. */
#define ROUTE(pid, method, in, object, path)                                                                 \
    "<route processId=\"" pid "\"><overrides httpMethod=\"" method "\" inputProfileKey=\"\" inputType=\"" in \
    "\" objectName=\"" object "\" outputType=\"\" urlPath=\"" path "\"/><description/></route>"

static void add_service(ma_deploy *dep, const char *id, const char *name, const char *base, const char *routes,
                        const char *headers)
{
    char *obj = NULL;
    assert_true(asprintf(&obj,
                         "<webservice xmlns=\"\" urlPath=\"%s\"><restApi>%s</restApi>"
                         "<soapApi fullEnvelopePassthrough=\"false\"/><odataApi/><profileOverrides/>"
                         "<capturedHeaders>%s</capturedHeaders><apiRoles/></webservice>",
                         base, routes, headers) > 0);
    add(dep, id, name, "webservice", obj);
    free(obj);
}

static ma_deploy *new_deploy(void)
{
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    assert_non_null(dep);
    return dep;
}

static void build_ok(ma_deploy *dep, wss_state *st)
{
    ma_error err;
    ma_error_clear(&err);
    if (wss_routes_build(dep, st, &err) < 0) fail_msg("not built: %s", err.msg);
}

/* Builds, which must fail; the message is returned (static) and st is left empty. */
static const char *build_fails(ma_deploy *dep)
{
    static ma_error err;
    wss_state st;
    ma_error_clear(&err);
    if (wss_routes_build(dep, &st, &err) == 0) {
        wss_routes_free(&st);
        fail_msg("built, but should not have been");
    }
    assert_true(err.msg[0] != '\0');
    assert_int_equal(st.n_targets, 0);
    assert_int_equal(st.n_simple, 0);
    assert_int_equal(st.n_rest, 0);
    return err.msg;
}

static void assert_contains(const char *s, const char *needle)
{
    if (!s || !strstr(s, needle)) fail_msg("'%s' does not contain '%s'", s ? s : "(null)", needle);
}

/* ---- matching helpers ----------------------------------------------------------------------- */

static char allow[128];
static wss_span caps[MAX_PARAMS];

static const wss_route *match(const wss_state *st, const char *method, const char *path)
{
    memset(caps, 0xff, sizeof caps);
    memset(allow, 'x', sizeof allow);
    return wss_route_match(st, method, path, caps, allow, sizeof allow);
}

/* The route that serves method path, which must be the one of process pid with the given path. */
static const wss_route *served(const wss_state *st, const char *method, const char *path, const char *pid,
                               const char *route_path)
{
    const wss_route *r = match(st, method, path);
    if (!r) fail_msg("%s %s: no route (allow '%s')", method, path, allow);
    assert_string_equal(r->t->id, pid);
    assert_string_equal(r->path, route_path);
    return r;
}

/* method path must not be served; allow must then be want. */
static void not_served(const wss_state *st, const char *method, const char *path, const char *want)
{
    const wss_route *r = match(st, method, path);
    if (r) fail_msg("%s %s: served by %s", method, path, r->path);
    assert_string_equal(allow, want);
}

/* Parameter i of the last match, as text of path. */
static void assert_cap(const char *path, int i, const char *want)
{
    size_t n = strlen(want);
    if (caps[i].len != n || caps[i].off + n > strlen(path) || memcmp(path + caps[i].off, want, n) != 0)
        fail_msg("parameter %d of %s is '%.*s' at %zu, not '%s'", i, path,
                 (int)(caps[i].off < strlen(path) ? caps[i].len : 0),
                 caps[i].off < strlen(path) ? path + caps[i].off : "", caps[i].off, want);
}

/* ---- /ws/simple ----------------------------------------------------------------------------- */

static void test_simple_paths_and_methods(void **state)
{
    (void)state;
    ma_deploy *dep = new_deploy();
    add_wss(dep, "p-create", "Create Order", "CREATE", "order", "singlejson", "singlejson");
    add_wss(dep, "p-get", "Get Items", "GET", "items", "none", "multijson");
    add_wss(dep, "p-exec", "Intake", "EXECUTE", "qaM6IntakeA", "singlexml", "none");
    add_wss(dep, "p-digit", "Digit", "Query", "1thing", "", "");
    add_wss(dep, "p-data", "Data", "upsert", "blob", "SINGLEDATA", "singledata");
    /* not listeners: ignored */
    add_process_with_start(dep, "p-plain", "Plain", "<noaction/>");
    add_operation(dep, "op-unused", "GET", "unused", "none", "none");
    wss_state st;
    build_ok(dep, &st);
    assert_int_equal(st.n_targets, 5);
    assert_int_equal(st.n_simple, 5);
    assert_int_equal(st.n_rest, 0);

    const wss_route *r = served(&st, "POST", "/ws/simple/createOrder", "p-create", "/ws/simple/createOrder");
    assert_string_equal(r->method, "POST");
    assert_int_equal(r->in, IO_SINGLEJSON);
    assert_int_equal(r->out, IO_SINGLEJSON);
    assert_string_equal(r->t->name, "Create Order");
    assert_string_equal(r->t->op_id, "op-p-create");
    r = served(&st, "GET", "/ws/simple/getItems", "p-get", "/ws/simple/getItems");
    assert_string_equal(r->method, "GET"); /* input none: GET */
    assert_int_equal(r->out, IO_MULTIJSON);
    served(&st, "HEAD", "/ws/simple/getItems", "p-get", "/ws/simple/getItems");
    served(&st, "POST", "/ws/simple/executeQaM6IntakeA", "p-exec", "/ws/simple/executeQaM6IntakeA");
    r = served(&st, "GET", "/ws/simple/query1thing", "p-digit", "/ws/simple/query1thing"); /* absent types: none */
    assert_int_equal(r->in, IO_NONE);
    assert_int_equal(r->out, IO_NONE);
    r = served(&st, "POST", "/ws/simple/upsertBlob", "p-data", "/ws/simple/upsertBlob");
    assert_int_equal(r->in, IO_SINGLEDATA);

    /* the wrong method: 405 with what the path takes */
    not_served(&st, "GET", "/ws/simple/createOrder", "POST");
    not_served(&st, "HEAD", "/ws/simple/createOrder", "POST");
    not_served(&st, "POST", "/ws/simple/getItems", "GET");
    not_served(&st, "DELETE", "/ws/simple/getItems", "GET");
    /* exact and case-sensitive: 404 */
    not_served(&st, "POST", "/ws/simple/createorder", "");
    not_served(&st, "POST", "/ws/simple/CreateOrder", "");
    not_served(&st, "POST", "/ws/simple/createOrder/", "");
    not_served(&st, "POST", "/ws/simple/", "");
    not_served(&st, "GET", "/ws/simple/getItemsX", "");
    not_served(&st, "GET", "/ws/getItems", "");
    not_served(&st, "GET", "/ws/rest/getItems", "");
    wss_routes_free(&st);
    ma_deploy_free(dep);
}

static void test_simple_errors(void **state)
{
    (void)state;
    /* two processes on one path */
    ma_deploy *dep = new_deploy();
    add_wss(dep, "p-a", "First", "GET", "items", "none", "none");
    add_wss(dep, "p-b", "Second", "get", "Items", "none", "singlejson");
    const char *msg = build_fails(dep);
    assert_contains(msg, "'First' (p-a)");
    assert_contains(msg, "'Second' (p-b)");
    assert_contains(msg, "/ws/simple/getItems");
    ma_deploy_free(dep);

    /* the operation is not deployed */
    dep = new_deploy();
    add_listener(dep, "p-lost", "Lost", "op-nowhere");
    msg = build_fails(dep);
    assert_contains(msg, "'Lost' (p-lost)");
    assert_contains(msg, "op-nowhere is not deployed");
    ma_deploy_free(dep);

    /* an unsupported type */
    dep = new_deploy();
    add_wss(dep, "p-multi", "Multi", "CREATE", "form", "multipart", "none");
    msg = build_fails(dep);
    assert_contains(
        msg, "inputType \"multipart\" is not one of: none, singledata, singlexml, multixml, singlejson, multijson");
    ma_deploy_free(dep);

    /* objectName that cannot be part of a path, an empty operationType */
    dep = new_deploy();
    add_wss(dep, "p-slash", "Slash", "GET", "a/b", "none", "none");
    assert_contains(build_fails(dep), "objectName 'a/b'");
    ma_deploy_free(dep);
    dep = new_deploy();
    add_wss(dep, "p-empty", "Empty", "", "thing", "none", "none");
    assert_contains(build_fails(dep), "operationType is empty");
    ma_deploy_free(dep);
}

/* ---- /ws/rest ------------------------------------------------------------------------------- */

/* The order of routes below is on purpose: the literal "special" is defined after "{id}". */
static ma_deploy *rest_deploy(void)
{
    ma_deploy *dep = new_deploy();
    add_wss(dep, "p-get", "Get Items", "GET", "items", "none", "singlejson");
    add_wss(dep, "p-put", "Put Item", "UPDATE", "item", "singlejson", "singlejson");
    add_wss(dep, "p-create", "Create Order", "CREATE", "order", "singlejson", "singlejson");
    static const char *const routes[] = {
        ROUTE("p-get", "", "", "", "{id}"),                    /* GET  /ws/rest/test/items/{id} */
        ROUTE("p-get", "", "", "", "{id}/lines/{line}"),       /* GET  .../items/{id}/lines/{line} */
        ROUTE("p-get", "", "", "items", "special"),            /* GET  .../items/special */
        ROUTE("p-put", "put", "", "items", "{id}"),            /* PUT  .../items/{id} */
        ROUTE("p-create", "", "", "", ""),                     /* POST /ws/rest/test/order */
        ROUTE("p-get", "", "singlejson", "raw", ""),           /* POST /ws/rest/test/raw */
        ROUTE("p-get", "", "", "files", "file-{id}.json"),     /* GET  .../files/file-{id}.json */
        ROUTE("p-get", "", "", "pairs", "{a}-{b}"),            /* GET  .../pairs/{a}-{b} */
        ROUTE("p-get", "", "", "dates", "{y}-{m}-{d}.json"),   /* GET  .../dates/{y}-{m}-{d}.json */
        ROUTE("p-get", "DELETE", "", "//deep//", "/x/{k}/y/"), /* DELETE .../deep/x/{k}/y */
    };
    ma_sb all;
    ma_sb_init(&all);
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) ma_sb_puts(&all, routes[i]);
    char *joined = ma_sb_take(&all, NULL);
    assert_non_null(joined);
    add_service(dep, "api", "Test API", "test", joined, "<header name=\"X-Api-Key\"/><header name=\"\"/>");
    free(joined);
    add_service(dep, "api-root", "Root API", "", ROUTE("p-get", "", "", "", ""), "");
    return dep;
}

static void test_rest_routes(void **state)
{
    (void)state;
    ma_deploy *dep = rest_deploy();
    wss_state st;
    build_ok(dep, &st);
    assert_int_equal(st.n_simple, 3);
    assert_int_equal(st.n_rest, 11);

    const char *p = "/ws/rest/test/items/42";
    const wss_route *r = served(&st, "GET", p, "p-get", "/ws/rest/test/items/{id}");
    assert_string_equal(r->method, "GET");
    assert_int_equal(r->n_params, 1);
    assert_string_equal(r->params[0], "id");
    assert_cap(p, 0, "42");
    assert_int_equal(r->has_captured, 1); /* the service's captured headers, blank names left out */
    assert_int_equal(r->n_captured, 1);
    assert_string_equal(r->captured[0], "X-Api-Key");
    served(&st, "HEAD", p, "p-get", "/ws/rest/test/items/{id}");
    r = served(&st, "PUT", p, "p-put", "/ws/rest/test/items/{id}");
    assert_string_equal(r->method, "PUT"); /* upper-cased */
    assert_cap(p, 0, "42");
    not_served(&st, "DELETE", p, "GET, PUT");
    not_served(&st, "POST", p, "GET, PUT");

    /* a literal segment before a pattern one, whatever the definition order */
    r = served(&st, "GET", "/ws/rest/test/items/special", "p-get", "/ws/rest/test/items/special");
    assert_int_equal(r->n_params, 0);
    served(&st, "PUT", "/ws/rest/test/items/special", "p-put", "/ws/rest/test/items/{id}");

    p = "/ws/rest/test/items/42/lines/7";
    r = served(&st, "GET", p, "p-get", "/ws/rest/test/items/{id}/lines/{line}");
    assert_string_equal(r->params[1], "line");
    assert_cap(p, 0, "42");
    assert_cap(p, 1, "7");

    /* empty segments of the request are ignored */
    p = "/ws/rest//test///items/abc%20d/";
    served(&st, "GET", p, "p-get", "/ws/rest/test/items/{id}");
    assert_cap(p, 0, "abc%20d");

    /* default methods: POST for an input, whether the operation's or an override's */
    r = served(&st, "POST", "/ws/rest/test/order", "p-create", "/ws/rest/test/order");
    assert_int_equal(r->in, IO_SINGLEJSON);
    not_served(&st, "GET", "/ws/rest/test/order", "POST");
    r = served(&st, "POST", "/ws/rest/test/raw", "p-get", "/ws/rest/test/raw");
    assert_int_equal(r->in, IO_SINGLEJSON);
    assert_int_equal(r->out, IO_SINGLEJSON); /* inherited */

    /* {param} inside a segment, taking as few characters as it can */
    p = "/ws/rest/test/files/file-abc.json";
    served(&st, "GET", p, "p-get", "/ws/rest/test/files/file-{id}.json");
    assert_cap(p, 0, "abc");
    p = "/ws/rest/test/files/file-a.json.json";
    served(&st, "GET", p, "p-get", "/ws/rest/test/files/file-{id}.json");
    assert_cap(p, 0, "a.json");
    not_served(&st, "GET", "/ws/rest/test/files/file-.json", ""); /* one character at least */
    not_served(&st, "GET", "/ws/rest/test/files/file-abc.jso", "");
    not_served(&st, "GET", "/ws/rest/test/files/xfile-abc.json", "");
    p = "/ws/rest/test/pairs/x-y-z";
    served(&st, "GET", p, "p-get", "/ws/rest/test/pairs/{a}-{b}");
    assert_cap(p, 0, "x");
    assert_cap(p, 1, "y-z");
    not_served(&st, "GET", "/ws/rest/test/pairs/-y", "");
    not_served(&st, "GET", "/ws/rest/test/pairs/xy", "");
    p = "/ws/rest/test/dates/2026-01-02.json";
    served(&st, "GET", p, "p-get", "/ws/rest/test/dates/{y}-{m}-{d}.json");
    assert_cap(p, 0, "2026");
    assert_cap(p, 1, "01");
    assert_cap(p, 2, "02");
    p = "/ws/rest/test/dates/a-b-c-d.json.json";
    served(&st, "GET", p, "p-get", "/ws/rest/test/dates/{y}-{m}-{d}.json");
    assert_cap(p, 0, "a");
    assert_cap(p, 1, "b");
    assert_cap(p, 2, "c-d.json");
    p = "/ws/rest/test/dates/-----.json";
    served(&st, "GET", p, "p-get", "/ws/rest/test/dates/{y}-{m}-{d}.json");
    assert_cap(p, 0, "-");
    assert_cap(p, 1, "-");
    assert_cap(p, 2, "-");
    not_served(&st, "GET", "/ws/rest/test/dates/a--b.json", "");
    not_served(&st, "GET", "/ws/rest/test/dates/a-b-.json", "");
    { /* thousands of dashes: no match, found without trying every split (that took hours) */
        char *dashes = malloc(40000);
        assert_non_null(dashes);
        strcpy(dashes, "/ws/rest/test/dates/");
        memset(dashes + 20, '-', 39970);
        dashes[39990] = '\0';
        not_served(&st, "GET", dashes, "");
        free(dashes);
    }

    /* empty parts of a template are left out */
    p = "/ws/rest/test/deep/x/77/y";
    served(&st, "DELETE", p, "p-get", "/ws/rest/test/deep/x/{k}/y");
    assert_cap(p, 0, "77");

    /* an empty base: /ws/rest/<object> */
    r = served(&st, "GET", "/ws/rest/items", "p-get", "/ws/rest/items");
    assert_int_equal(r->has_captured, 0); /* no capturedHeaders: every header */

    /* no route */
    not_served(&st, "GET", "/ws/rest/test/items", "");
    not_served(&st, "GET", "/ws/rest/test/items/42/lines", "");
    not_served(&st, "GET", "/ws/rest/test/ITEMS/42", "");
    not_served(&st, "GET", "/ws/rest", "");
    not_served(&st, "GET", "/ws/rest/", "");
    not_served(&st, "GET", "/ws/restitems", "");
    not_served(&st, "GET", "/ws/simple/test/items/42", "");

    /* more segments than any route may have */
    char deep[1024] = "/ws/rest";
    for (int i = 0; i <= MAX_SEGS; i++) strcat(deep, "/s");
    not_served(&st, "GET", deep, "");
    wss_routes_free(&st);
    ma_deploy_free(dep);
}

static void test_rest_errors(void **state)
{
    (void)state;
    /* the same path shape and method twice, parameter names aside */
    ma_deploy *dep = new_deploy();
    add_wss(dep, "p-one", "One", "GET", "items", "none", "none");
    add_wss(dep, "p-two", "Two", "QUERY", "things", "none", "none");
    add_service(dep, "api", "Dup API", "test",
                ROUTE("p-one", "", "", "", "{id}") ROUTE("p-two", "GET", "", "items", "{key}"), "");
    const char *msg = build_fails(dep);
    assert_contains(msg, "API Service 'Dup API' (api), route 2");
    assert_contains(msg, "GET /ws/rest/test/items/{key}");
    assert_contains(msg, "'One' (p-one)");
    assert_contains(msg, "'Two' (p-two)");
    ma_deploy_free(dep);

    /* ... across two services */
    dep = new_deploy();
    add_wss(dep, "p-one", "One", "GET", "items", "none", "none");
    add_wss(dep, "p-two", "Two", "QUERY", "things", "none", "none");
    add_service(dep, "api-1", "First API", "v1", ROUTE("p-one", "", "", "", "{id}.json"), "");
    add_service(dep, "api-2", "Second API", "v1", ROUTE("p-two", "", "", "items", "{x}.json"), "");
    msg = build_fails(dep);
    assert_contains(msg, "'Second API' (api-2)");
    assert_contains(msg, "'One' (p-one)");
    assert_contains(msg, "'Two' (p-two)");
    ma_deploy_free(dep);

    /* same path, another method: fine */
    dep = new_deploy();
    add_wss(dep, "p-one", "One", "GET", "items", "none", "none");
    add_service(dep, "api", "API", "", ROUTE("p-one", "", "", "", "{id}") ROUTE("p-one", "PATCH", "", "", "{x}"), "");
    wss_state st;
    build_ok(dep, &st);
    assert_int_equal(st.n_rest, 2);
    not_served(&st, "POST", "/ws/rest/items/1", "GET, PATCH");
    wss_routes_free(&st);
    ma_deploy_free(dep);

    /* a processId that is not deployed */
    dep = new_deploy();
    add_wss(dep, "p-one", "One", "GET", "items", "none", "none");
    add_service(dep, "api", "API", "", ROUTE("p-one", "", "", "", "") ROUTE("p-ghost", "", "", "", ""), "");
    msg = build_fails(dep);
    assert_contains(msg, "API Service 'API' (api), route 2");
    assert_contains(msg, "process p-ghost is not deployed");
    ma_deploy_free(dep);

    /* a process that does not start with a wss Listen */
    dep = new_deploy();
    add_process_with_start(dep, "p-plain", "Plain", "<noaction/>");
    add_process_with_start(dep, "p-fss", "Flow",
                           "<connectoraction actionType=\"Listen\" connectorType=\"fss\" operationId=\"op-x\"/>");
    add_service(dep, "api", "API", "", ROUTE("p-plain", "", "", "x", ""), "");
    msg = build_fails(dep);
    assert_contains(msg, "process 'Plain' (p-plain) does not start with a Web Services Server Listen");
    ma_deploy_free(dep);
    dep = new_deploy();
    add_process_with_start(dep, "p-fss", "Flow",
                           "<connectoraction actionType=\"Listen\" connectorType=\"fss\" operationId=\"op-x\"/>");
    add_service(dep, "api", "API", "", ROUTE("p-fss", "", "", "x", ""), "");
    assert_contains(build_fails(dep), "process 'Flow' (p-fss) does not start with a Web Services Server Listen");
    ma_deploy_free(dep);

    /* an empty processId, a method that is not HTTP's, bad templates */
    static const struct {
        const char *route, *want;
    } bad[] = {
        {ROUTE("", "", "", "", ""), "route 1: no processId"},
        {ROUTE("p-one", "FETCH", "", "", ""), "httpMethod \"FETCH\" is not one of: GET, POST, PUT, DELETE, PATCH"},
        {ROUTE("p-one", "GETGETGETGETGETGET", "", "", ""),
         "httpMethod \"GETGETGETGETGETGET\" is not one of: GET, POST"},
        {ROUTE("p-one", "", "xml", "", ""), "inputType \"xml\" is not one of: none, singledata"},
        {ROUTE("p-one", "", "", "", "{id"), "'{' without '}' in '{id'"},
        {ROUTE("p-one", "", "", "", "id}"), "'}' without '{' in 'id}'"},
        {ROUTE("p-one", "", "", "", "a{}b"), "an empty {} parameter"},
        {ROUTE("p-one", "", "", "", "{a}{b}"), "two parameters with nothing between them"},
        {ROUTE("p-one", "", "", "", "{id}/x/{id}"), "parameter {id} appears twice"},
        {ROUTE("p-one", "", "", "", "{a b}"), "parameter name 'a b'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dep = new_deploy();
        add_wss(dep, "p-one", "One", "GET", "items", "none", "none");
        add_service(dep, "api", "API", "", bad[i].route, "");
        msg = build_fails(dep);
        assert_contains(msg, "API Service 'API' (api)");
        assert_contains(msg, bad[i].want);
        ma_deploy_free(dep);
    }

    /* too many segments in a template */
    char path[512] = "";
    for (int i = 0; i < MAX_SEGS; i++) strcat(path, "s/");
    char route[1024];
    snprintf(route, sizeof route, ROUTE("p-one", "", "", "", "%s"), path);
    dep = new_deploy();
    add_wss(dep, "p-one", "One", "GET", "items", "none", "none");
    add_service(dep, "api", "API", "", route, "");
    assert_contains(build_fails(dep), "more than 64 path segments");
    ma_deploy_free(dep);

    /* too many parameters */
    char params[512] = "";
    for (int i = 0; i <= MAX_PARAMS; i++)
        snprintf(params + strlen(params), sizeof params - strlen(params), "{p%d}/", i);
    snprintf(route, sizeof route, ROUTE("p-one", "", "", "", "%s"), params);
    dep = new_deploy();
    add_wss(dep, "p-one", "One", "GET", "items", "none", "none");
    add_service(dep, "api", "API", "", route, "");
    assert_contains(build_fails(dep), "more than 16 parameters");
    ma_deploy_free(dep);
}

static void test_no_listeners(void **state)
{
    (void)state;
    ma_deploy *dep = new_deploy();
    wss_state st;
    build_ok(dep, &st);
    assert_int_equal(st.n_simple + st.n_rest + st.n_targets, 0);
    not_served(&st, "GET", "/ws/simple/getItems", "");
    not_served(&st, "GET", "/ws/rest/x", "");
    wss_routes_free(&st);
    wss_routes_free(&st); /* freeing twice is harmless: st is emptied */
    ma_deploy_free(dep);
    assert_null(wss_route_match(NULL, "GET", "/ws/simple/x", caps, allow, sizeof allow));
    assert_string_equal(allow, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_paths_and_methods),
        cmocka_unit_test(test_simple_errors),
        cmocka_unit_test(test_rest_routes),
        cmocka_unit_test(test_rest_errors),
        cmocka_unit_test(test_no_listeners),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
