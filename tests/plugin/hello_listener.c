/* hello_listener.c - an out-of-tree listener plugin, built by tests/plugin/outoftree.sh from the
 * installed headers alone (pkg-config miniatom): listener type "hello" owns the URL prefix /hello/.
 * Its settings are hello.* (a config map read at every deployment); GET /hello/run/PROCESS runs a
 * process of the deployment with the query parameters as dynamic process properties and answers
 * with the documents it returns; any other GET /hello/... answers with the greeting, the path and
 * the number of processes deployed. docs/connectors.md "Writing a listener" walks through it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miniatom/miniatom.h"

/* ---- settings: hello.greeting, hello.run ---- */

typedef struct hello_cfg {
    const char *greeting; /* borrowed from the settings or the map while deploying */
    int run;
} hello_cfg;

#define AT(m) MA_CONFIG_AT(hello_cfg, m)
static const ma_config_entry hello_config_map[] = {
    {.key = "greeting", .kind = MA_CONFIG_STRING, .def = "Hello", .at = AT(greeting),
     .description = "the greeting every answer under /hello/ carries"},
    {.key = "run", .kind = MA_CONFIG_BOOL, .def = "true", .at = AT(run),
     .description = "whether GET /hello/run/PROCESS may run processes"},
    MA_CONFIG_END,
};
#undef AT

/* ---- one deployment ---- */

typedef struct hello_state {
    char *greeting; /* owned */
    int run;
    size_t processes; /* process components of the deployment */
} hello_state;

static void hello_undeploy(void *state)
{
    hello_state *st = state;
    if (!st) return;
    free(st->greeting);
    free(st);
}

static int hello_deploy(ma_server *srv, ma_deploy *dep, void **state, ma_error *err)
{
    hello_cfg cfg = {0};
    if (ma_config_read(hello_config_map, "hello.", ma_deploy_settings(dep), &cfg, err) < 0) return -1;
    hello_state *st = calloc(1, sizeof *st);
    if (!st || !(st->greeting = ma_strdup(cfg.greeting))) {
        free(st);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    st->run = cfg.run;
    for (size_t i = 0; i < ma_deploy_count(dep); i++)
        if (ma_streq(ma_component_type(ma_deploy_at(dep, i)), "process")) st->processes++;
    char extra[64];
    snprintf(extra, sizeof extra, "{\"processes\":%zu}", st->processes);
    ma_server_log(srv, MA_LOG_INFO, "hello listener deployed", extra); /* nothing under `miniatom check` */
    *state = st;
    return 0;
}

/* ---- requests ---- */

extern const ma_listener_type hello_listener;

/* GET /hello/run/NAME: runs the process NAME (id or unique name) on one empty document. */
static int hello_run(ma_server *srv, ma_snapshot *snap, hello_state *st, const ma_http_req *req, const char *name,
                     ma_http_resp *resp)
{
    if (!st->run) return ma_listener_answer_error(&hello_listener, st, req, 403, "hello.run is off", NULL, resp);
    ma_deploy *dep = ma_snapshot_deploy(snap);
    ma_component *c = ma_deploy_find_process(dep, name);
    ma_process *proc = c ? ma_component_process(dep, c) : NULL;
    if (!proc) return ma_listener_answer_error(&hello_listener, st, req, 404, "no such process", NULL, resp);

    /* the query parameters become dynamic process properties NAME=VALUE */
    char **props = calloc(req->n_query + 1, sizeof *props);
    ma_batch in;
    ma_batch_init(&in);
    ma_run_request rq;
    memset(&rq, 0, sizeof rq);
    ma_run_result res;
    int rc = -1;
    if (!props) goto out;
    for (size_t i = 0; i < req->n_query; i++)
        if (!(props[i] = ma_asprintf("%s=%s", req->query[i].name, req->query[i].value))) goto out;
    if (ma_batch_push(&in, ma_doc_new("", 0)) < 0) goto out;

    rq.mode = req->debug || !ma_process_low_latency(proc) ? MA_MODE_GENERAL : MA_MODE_LOW_LATENCY;
    rq.props = (const char *const *)props;
    rq.n_props = req->n_query;
    rq.trigger = "hello";
    if (ma_listener_run(srv, snap, proc, &in, &rq, &res) < 0) goto out;
    ma_strlcpy(resp->execution_id, res.execution_id, sizeof resp->execution_id);
    if (res.outcome != MA_RUN_DONE) {
        /* failed, timed out, busy, cancelled, not runnable: the server's answer for each */
        rc = ma_listener_answer_run(srv, &hello_listener, st, req, proc, &res, resp);
    } else {
        ma_sb b;
        ma_sb_init(&b);
        ma_sb_lit(&b, "{\"greeting\":");
        ma_sb_json_str(&b, st->greeting);
        ma_sb_lit(&b, ",\"process\":");
        ma_sb_json_str(&b, ma_component_name(c));
        ma_sb_lit(&b, ",\"executionId\":");
        ma_sb_json_str(&b, res.execution_id);
        ma_sb_lit(&b, ",\"documents\":[");
        for (size_t i = 0; i < res.docs.len; i++) {
            size_t len;
            const char *data = ma_doc_data(res.docs.docs[i], &len);
            if (i) ma_sb_putc(&b, ',');
            ma_sb_putc(&b, '"');
            ma_sb_json_escape(&b, data, len);
            ma_sb_putc(&b, '"');
        }
        ma_sb_lit(&b, "]}");
        size_t len;
        char *body = ma_sb_take(&b, &len);
        rc = body ? ma_http_resp_set_owned(resp, 200, "application/json", body, len) : -1;
    }
    ma_run_result_free(&res);
out:
    for (size_t i = 0; props && i < req->n_query; i++) free(props[i]);
    free(props);
    ma_batch_clear(&in);
    return rc;
}

static int hello_handle(ma_server *srv, ma_snapshot *snap, void *state, const ma_http_req *req, ma_http_resp *resp)
{
    hello_state *st = state;
    if (strcmp(req->method, "GET") != 0) {
        if (ma_http_resp_header(resp, "Allow", "GET") < 0) return -1;
        return ma_listener_answer_error(&hello_listener, st, req, 405, "only GET is answered here", NULL, resp);
    }
    const char *rest = req->path + strlen(hello_listener.prefix);
    if (ma_str_has_prefix(rest, "run/") && rest[4]) return hello_run(srv, snap, st, req, rest + 4, resp);
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"greeting\":");
    ma_sb_json_str(&b, st->greeting);
    ma_sb_lit(&b, ",\"path\":");
    ma_sb_json_str(&b, req->path);
    ma_sb_printf(&b, ",\"processes\":%zu}", st->processes);
    size_t len;
    char *body = ma_sb_take(&b, &len);
    return body ? ma_http_resp_set_owned(resp, 200, "application/json", body, len) : -1;
}

const ma_listener_type hello_listener = {
    .name = "hello",
    .abi_version = MA_ABI_VERSION,
    .prefix = "/hello/",
    .config_map = hello_config_map,
    .deploy = hello_deploy,
    .undeploy = hello_undeploy,
    .handle = hello_handle,
};

int ma_plugin_register(ma_registry *reg, ma_error *err) { return ma_registry_add_listener(reg, &hello_listener, err); }
