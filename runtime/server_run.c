/* server_run.c - "run this process and tell me how it ended" for listener types
 * (miniatom/listener.h): ma_listener_run turns what the pool did into one outcome (done, failed,
 * timed out, busy, cancelled, not runnable, answered early), and ma_listener_answer_run gives every
 * listener the same answer to each outcome - status, message, Retry-After, the log line - in the
 * listener's own error format (a Flow ServiceProblem, the server's JSON error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membudget.h"
#include "server.h"
#include "util.h"

#define MAX_REASONS 5 /* reasons a caller is told; the server log has them all */

void ma_run_result_free(ma_run_result *res)
{
    if (!res) return;
    free(res->message);
    ma_strings_free(res->reasons, res->n_reasons);
    ma_batch_clear(&res->docs);
    memset(res, 0, sizeof *res);
}

void ma_run_result_from(ma_run_result *out, const ma_process *proc, ma_result *res, int cancelled)
{
    memset(out, 0, sizeof *out);
    ma_batch_init(&out->docs);
    ma_strlcpy(out->execution_id, res->execution_id, sizeof out->execution_id);
    out->status = res->status;
    switch (res->status) {
    case MA_STATUS_COMPLETE:
    case MA_STATUS_COMPLETE_WARN:
        out->outcome = MA_RUN_DONE;
        if (proc->has_return) {
            out->docs = res->docs; /* taken over */
            ma_batch_init(&res->docs);
        }
        break;
    case MA_STATUS_ERROR: /* stopped because the executions together held too much: the server is busy */
        out->outcome = res->stop == MA_STOP_SERVER_MEMORY ? MA_RUN_BUSY : MA_RUN_FAILED;
        break;
    case MA_STATUS_ABORTED: out->outcome = cancelled ? MA_RUN_CANCELLED : MA_RUN_TIMED_OUT; break;
    }
    if (out->outcome != MA_RUN_DONE) {
        out->message = res->message ? res->message : ma_strdup("the process ended with an error");
        res->message = NULL;
    }
    ma_result_free(res);
    memset(res, 0, sizeof *res);
}

/* A process that cannot run: the message names it and its first reasons. -1 when out of memory. */
static int not_runnable(const ma_snapshot *snap, const ma_process *proc, ma_run_result *res)
{
    res->outcome = MA_RUN_NOT_RUNNABLE;
    res->n_reasons = ma_process_reasons(snap->dep, proc->comp, MAX_REASONS, &res->reasons);
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_printf(&b, "the process '%s' is not runnable here", proc->comp->name);
    for (size_t i = 0; i < res->n_reasons; i++) ma_sb_printf(&b, "%s%s", i ? "; " : ": ", res->reasons[i]);
    return (res->message = ma_sb_take(&b, NULL)) ? 0 : -1;
}

/* General and bridge work while the execution history is unusable: 503, saying why. */
static int store_unusable(ma_run_result *res, const char *why)
{
    res->outcome = MA_RUN_BUSY;
    res->message = ma_strdup(why);
    return res->message ? 0 : -1;
}

static int run(ma_server *srv, ma_snapshot *snap, ma_process *proc, const ma_batch *input, const ma_run_request *rq,
               ma_run_result *res)
{
    if (!proc->runnable) return not_runnable(snap, proc, res);
    char why[700];
    if (rq->mode != MA_MODE_LOW_LATENCY && !ma_store_usable(srv, why, sizeof why)) /* it would have no record */
        return store_unusable(res, why);
    ma_result r;
    memset(&r, 0, sizeof r);
    ma_error err;
    ma_error_clear(&err);
    int cancelled = 0;
    switch (ma_pool_execute(srv, snap, proc, input, rq, &r, res->execution_id, &cancelled, &err)) {
    case MA_POOL_RAN: ma_run_result_from(res, proc, &r, cancelled); return 0;
    case MA_POOL_ANSWERED: res->outcome = MA_RUN_ANSWERED; return 0;
    case MA_POOL_TIMEOUT:
        res->outcome = MA_RUN_TIMED_OUT;
        res->message =
            ma_strdup(rq->keep_running ? "the process did not finish within the sync timeout; it goes on"
                                       : "the process did not finish within the sync timeout; its execution was "
                                         "cancelled");
        return res->message ? 0 : -1;
    case MA_POOL_NOT_STARTED: break;
    }
    if (err.code == MA_ERR_NOMEM) return -1;
    if (rq->mode != MA_MODE_LOW_LATENCY && !ma_store_usable(srv, why, sizeof why)) /* its record failed */
        return store_unusable(res, why);
    if (err.code == MA_ERR_LIMIT) {
        res->outcome = MA_RUN_BUSY;
        res->message = ma_strdup(err.msg);
    } else { /* the detail goes to the log, the caller learns only that it could not start */
        res->outcome = MA_RUN_FAILED;
        res->status = MA_STATUS_ERROR;
        res->message = ma_strdup("the execution could not start");
        ma_sb b;
        ma_sb_init(&b);
        ma_sb_lit(&b, "{\"process\":");
        ma_sb_json_str(&b, proc->comp->name);
        ma_sb_lit(&b, ",\"executionId\":");
        ma_sb_json_str(&b, res->execution_id);
        ma_sb_lit(&b, ",\"detail\":");
        ma_sb_json_str(&b, err.msg);
        ma_sb_putc(&b, '}');
        if (!b.oom) ma_log_line(srv, "warning", "an execution could not start", b.s);
        ma_sb_free(&b);
    }
    return res->message ? 0 : -1;
}

int ma_listener_run(ma_server *srv, ma_snapshot *snap, ma_process *proc, const ma_batch *input,
                    const ma_run_request *rq, ma_run_result *res)
{
    memset(res, 0, sizeof *res);
    ma_batch_init(&res->docs);
    if (run(srv, snap, proc, input, rq, res) == 0) return 0;
    ma_run_result_free(res); /* out of memory: nothing is left to the caller */
    return -1;
}

int ma_run_http_status(const ma_run_result *res)
{
    switch (res->outcome) {
    case MA_RUN_DONE: return 200;
    case MA_RUN_TIMED_OUT: return 504;
    case MA_RUN_BUSY:
    case MA_RUN_CANCELLED:
    case MA_RUN_NOT_RUNNABLE: return 503;
    default: return 500;
    }
}

int ma_listener_answer_error(const ma_listener_type *lt, void *state, const ma_http_req *req, int status,
                             const char *message, const char *execution_id, ma_http_resp *resp)
{
    if (execution_id && *execution_id) ma_strlcpy(resp->execution_id, execution_id, sizeof resp->execution_id);
    if (lt && lt->problem) return lt->problem(state, req, status, message, execution_id, resp);
    return ma_http_resp_error(resp, status, message, execution_id);
}

/* The server's JSON error of a process that cannot run: {"error", "process", "reasons"}. */
static int not_runnable_body(const ma_process *proc, const ma_run_result *res, ma_http_resp *resp)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"error\":");
    ma_sb_json_str(&b, res->message);
    ma_sb_lit(&b, ",\"process\":");
    ma_sb_json_str(&b, proc->comp->name);
    ma_sb_lit(&b, ",\"reasons\":[");
    for (size_t i = 0; i < res->n_reasons; i++) {
        if (i) ma_sb_putc(&b, ',');
        ma_sb_json_str(&b, res->reasons[i]);
    }
    ma_sb_lit(&b, "]}\n");
    size_t len;
    char *body = ma_sb_take(&b, &len);
    return body ? ma_http_resp_set_owned(resp, 503, "application/json", body, len) : -1;
}

static void log_run(ma_server *srv, const ma_listener_type *lt, const ma_http_req *req, const ma_process *proc,
                    const ma_run_result *res)
{
    static const char *const what[] = {
        [MA_RUN_FAILED] = "execution failed",
        [MA_RUN_TIMED_OUT] = "execution past the sync timeout",
        [MA_RUN_CANCELLED] = "execution cancelled",
    };
    int over_server = res->outcome == MA_RUN_BUSY && res->status == MA_STATUS_ERROR; /* server.max_memory */
    if (res->outcome != MA_RUN_FAILED && res->outcome != MA_RUN_TIMED_OUT && res->outcome != MA_RUN_CANCELLED &&
        !over_server)
        return;
    char msg[200];
    snprintf(msg, sizeof msg, "%s %s", lt ? lt->name : "listener",
             over_server ? "execution failed" : what[res->outcome]);
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"path\":");
    ma_sb_json_str(&b, req && req->path ? req->path : "");
    ma_sb_lit(&b, ",\"process\":");
    ma_sb_json_str(&b, proc ? proc->comp->name : "");
    ma_sb_lit(&b, ",\"executionId\":");
    ma_sb_json_str(&b, res->execution_id);
    ma_sb_lit(&b, ",\"detail\":");
    ma_sb_json_str(&b, res->message);
    ma_sb_putc(&b, '}');
    if (!b.oom) ma_server_log(srv, MA_LOG_WARNING, msg, b.s);
    ma_sb_free(&b);
}

int ma_listener_answer_run(ma_server *srv, const ma_listener_type *lt, void *state, const ma_http_req *req,
                           const ma_process *proc, const ma_run_result *res, ma_http_resp *resp)
{
    int status = ma_run_http_status(res);
    const char *msg = res->message ? res->message : "the process ended with an error";
    /* nothing ran for a busy or not runnable process: no execution to name - but for one stopped
     * because the executions together held too much (busy, and it ended ERROR) */
    int ran = (res->outcome != MA_RUN_BUSY || res->status == MA_STATUS_ERROR) && res->outcome != MA_RUN_NOT_RUNNABLE;
    const char *eid = ran && res->execution_id[0] ? res->execution_id : NULL;
    log_run(srv, lt, req, proc, res);
    int rc;
    if (res->outcome == MA_RUN_NOT_RUNNABLE && !(lt && lt->problem)) rc = not_runnable_body(proc, res, resp);
    else rc = ma_listener_answer_error(lt, state, req, status, msg, eid, resp);
    if (rc < 0) return -1;
    if (res->execution_id[0]) ma_strlcpy(resp->execution_id, res->execution_id, sizeof resp->execution_id);
    if (res->outcome == MA_RUN_BUSY && ma_http_resp_header(resp, "Retry-After", "1") < 0) return -1;
    return 0;
}
