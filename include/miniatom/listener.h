/* miniatom/listener.h - the listener ABI: what a listener type (built-in or plugin) implements and
 * what the server offers it.
 *
 * `miniatom serve` runs one embedded HTTP server. A listener type owns a URL prefix ("/ws/",
 * "/fs/") under it: once per deployment (at start and at every reload) it builds its routing state
 * from the deployment's components; then the server hands it each request under its prefix, on a
 * server thread, and it maps the request to a process and the process's result to a response. The
 * server owns everything else: settings, authentication, limits, the request log, the deployment
 * snapshots, the worker pool, timeouts, the execution history and draining
 * (boomi-atom-semantics.md 3-4; docs/server.md). The Web Services Server (connectors/wss) and the
 * Flow Services Server (connectors/fss) are two such types. */
#ifndef MINIATOM_LISTENER_H
#define MINIATOM_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "deploy.h"
#include "document.h"
#include "error.h"
#include "shape.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ma_server ma_server;     /* the running server (owned by `miniatom serve`) */
typedef struct ma_snapshot ma_snapshot; /* one deployment as served, refcounted */

/* ---- requests and responses ------------------------------------------------------------------ */

typedef struct ma_pair {
    const char *name, *value; /* borrowed from the server for the request's lifetime */
} ma_pair;

typedef struct ma_http_req {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* decoded path, e.g. "/ws/rest/order/42" */
    const char *body;   /* raw body (NUL-terminated), may be "" */
    size_t body_len;
    const ma_pair *headers; /* as received */
    size_t n_headers;
    const ma_pair *query; /* decoded query parameters, in order */
    size_t n_query;
    const char *remote_addr;    /* "127.0.0.1:53012" */
    const char *user;           /* the authenticated user (Basic), or NULL */
    const char *client_subject; /* the client certificate's subject DN (mTLS), or NULL */
    int debug;                  /* X-Boomi-Debug: true or _boomi_debug=true: run in general mode */
} ma_http_req;

/* Case-insensitive header lookup; borrowed or NULL. */
const char *ma_http_header(const ma_http_req *req, const char *name);
/* Query parameter lookup (the first one); borrowed or NULL. */
const char *ma_http_query(const ma_http_req *req, const char *name);

typedef struct ma_http_resp {
    int status; /* 200 unless set */
    char *body; /* malloc'ed, owned by the response (the server frees it) */
    size_t body_len;
    char *content_type; /* malloc'ed, or NULL for none */
    char **headers;     /* malloc'ed "Name: value" strings, owned */
    size_t n_headers;
    char execution_id[80]; /* for the request log, "" when no execution ran */
} ma_http_resp;

/* Sets status, content type and body (copied). -1 only when out of memory. */
int ma_http_resp_set(ma_http_resp *r, int status, const char *content_type, const char *body, size_t len);
/* Same, taking ownership of body (malloc'ed; freed on failure too). */
int ma_http_resp_set_owned(ma_http_resp *r, int status, const char *content_type, char *body, size_t len);
int ma_http_resp_header(ma_http_resp *r, const char *name, const char *value);
/* Frees what r holds and zeroes it. */
void ma_http_resp_clear(ma_http_resp *r);
/* The server's JSON error body {"error": message, "executionId": id} with the status; never
 * internals. */
int ma_http_resp_error(ma_http_resp *r, int status, const char *message, const char *execution_id);

/* ---- running a process and how it ended -------------------------------------------------------- */

typedef enum ma_mode { MA_MODE_LOW_LATENCY = 0, MA_MODE_GENERAL, MA_MODE_BRIDGE } ma_mode;

typedef enum ma_run_outcome {
    MA_RUN_DONE = 0,     /* it ended COMPLETE or COMPLETE_WARN within the timeout: docs hold its result */
    MA_RUN_FAILED,       /* it ended with ERROR, or could not start (message says why) */
    MA_RUN_TIMED_OUT,    /* the sync timeout passed: it was cancelled, or (keep_running) it goes on
                            and late() gets its result */
    MA_RUN_BUSY,         /* it did not start: the queue is full, the process does not allow
                            simultaneous executions, the server stops ... (answer 503, Retry-After) */
    MA_RUN_CANCELLED,    /* it was cancelled while the server stopped */
    MA_RUN_NOT_RUNNABLE, /* the process cannot run here: message and reasons say why */
    MA_RUN_ANSWERED      /* a deferred request: the caller got the early answer, late() got the
                            result; the handler returns at once and its response is dropped */
} ma_run_outcome;

typedef struct ma_run_result {
    ma_run_outcome outcome;
    char execution_id[80]; /* "" when none started */
    ma_status status;      /* DONE, FAILED, CANCELLED: the execution's status */
    char *message;         /* owned: what the caller is told when not DONE (never internals) */
    char **reasons;        /* owned: NOT_RUNNABLE: the first reasons, each "shape ... : why" */
    size_t n_reasons;
    ma_batch docs; /* owned: DONE: the documents its Return Documents shapes returned
                              (none for a process without one) */
} ma_run_result;
void ma_run_result_free(ma_run_result *res); /* frees what res holds; res is reusable */

typedef struct ma_run_request {
    ma_mode mode;             /* from the process's workload, general when req->debug */
    uint64_t timeout_ms;      /* the sync timeout the caller waits (0: limits.sync_timeout) */
    int keep_running;         /* 0: past the timeout the execution is cancelled (TIMED_OUT);
                                 1: it goes on, and late gets its result */
    const char *const *props; /* "NAME=VALUE" dynamic process properties (borrowed) */
    size_t n_props;
    const char *trigger; /* recorded with the execution: the listener's name */
    /* keep_running on a deferred request (ma_listener_type.deferrable): builds the answer the caller
     * gets when the sync timeout passes while the execution goes on. Called at most once, on the
     * server's timer thread, always before late. Fills resp; -1 only when out of memory. */
    int (*early)(void *user, const char *exec_id, ma_http_resp *resp);
    /* Called once, on the thread that ran it, with the result of an execution that outlived its
     * timeout (keep_running); takes over what res holds (ma_run_result_free). */
    void (*late)(void *user, ma_run_result *res);
    void *user;
} ma_run_request;

/* Runs proc of snapshot snap on input (borrowed) with the server's rules: low latency on the
 * calling thread, general and bridge on the bounded worker pool, every mode on the handler's thread
 * of a deferred request; recorded in the execution history as the mode says (general: before it
 * runs). Fills res (caller frees) with how it ended. Returns -1 only when out of memory. */
int ma_listener_run(ma_server *srv, ma_snapshot *snap, ma_process *proc, const ma_batch *input,
                    const ma_run_request *rq, ma_run_result *res);
/* 1 on the thread that handles a deferred request: only there can a run answer early (rq->early)
 * and call late; elsewhere a low-latency run with keep_running goes to its end on the caller's
 * thread. */
int ma_server_handler_deferred(void);
/* The HTTP status of a run that did not end DONE: FAILED 500, TIMED_OUT 504, BUSY, CANCELLED and
 * NOT_RUNNABLE 503. */
int ma_run_http_status(const ma_run_result *res);
/* Answers a run that did not end DONE: the status above and res->message in the listener's error
 * format (lt->problem with state, else ma_http_resp_error; NOT_RUNNABLE adds the process and its
 * reasons to that JSON body), Retry-After on BUSY; and logs it (level warning) with the listener,
 * path, process and execution id. -1 only when out of memory. */
typedef struct ma_listener_type ma_listener_type;
int ma_listener_answer_run(ma_server *srv, const ma_listener_type *lt, void *state, const ma_http_req *req,
                           const ma_process *proc, const ma_run_result *res, ma_http_resp *resp);
/* An error answer in the listener's format (lt->problem, else ma_http_resp_error). */
int ma_listener_answer_error(const ma_listener_type *lt, void *state, const ma_http_req *req, int status,
                             const char *message, const char *execution_id, ma_http_resp *resp);

/* ---- what else the server offers ---------------------------------------------------------------- */

/* The deployment of a snapshot (borrowed for as long as the snapshot is held). */
ma_deploy *ma_snapshot_deploy(ma_snapshot *snap);
/* Holds / releases a snapshot (a late execution holds its snapshot until it ends). */
ma_snapshot *ma_snapshot_ref(ma_snapshot *snap);
void ma_snapshot_unref(ma_snapshot *snap);

/* The data folder (borrowed). */
const char *ma_server_data_dir(const ma_server *srv);
/* One structured log line (JSON) on the server log: {"time","level","msg",...extra}. extra_json is
 * a JSON object text whose members are added (or NULL). Nothing when srv is NULL (a deployment
 * checked by `miniatom check`). */
void ma_server_log(ma_server *srv, ma_log_level level, const char *msg, const char *extra_json);

/* Answers a listener owes after the caller has gone (a Flow callback after WAIT), recorded in the
 * execution history so that they survive a crash: recover() finds what a stopped server left. */
typedef struct ma_pending_callback {
    char *exec_id, *callback_uri, *tenant, *token, *state_id; /* owned when listed */
} ma_pending_callback;
int ma_server_callback_add(ma_server *srv, const ma_pending_callback *cb, ma_error *err);
int ma_server_callback_done(ma_server *srv, const char *exec_id, ma_error *err);
/* Every pending callback (caller frees with ma_pending_callbacks_free). */
int ma_server_callbacks(ma_server *srv, ma_pending_callback **out, size_t *n, ma_error *err);
void ma_pending_callbacks_free(ma_pending_callback *cbs, size_t n);

/* ---- the listener type -------------------------------------------------------------------------- */

struct ma_listener_type {
    const char *name;   /* "wss", "fss": its settings are "<name>.*", its authentication "auth.<name>.*" */
    int abi_version;    /* MA_ABI_VERSION; checked at registration */
    const char *prefix; /* the URL prefix it owns, starting and ending with '/': "/ws/" */
    const ma_config_entry *config_map; /* its settings, under "<name>." (NULL: none) */
    /* Once per deployment (start, every reload, and `miniatom check` with srv NULL): build the
     * routing state from the deployment into *state (read the settings with ma_config_read and
     * ma_deploy_settings). -1 with err makes the deployment invalid (a reload keeps the old one). */
    int (*deploy)(ma_server *srv, ma_deploy *dep, void **state, ma_error *err);
    void (*undeploy)(void *state); /* frees the state; may be NULL */
    /* One request under prefix, on a server thread; may block up to the sync timeout. Fill resp
     * (404 for an unknown path). Return -1 only when out of memory. */
    int (*handle)(ma_server *srv, ma_snapshot *snap, void *state, const ma_http_req *req, ma_http_resp *resp);
    /* Whether a request may be answered before its handler returns (see ma_listener_run): 1 when it
     * is handled on a thread of its own while its connection waits (at most server.slow_threads
     * such threads), 2 only once its path has turned slow (server.slow_after), 0 never. Sees the
     * request without its body. NULL: never. */
    int (*deferrable)(void *state, const ma_http_req *req);
    /* After start-up, on a thread of its own, with the state of the first deployment: resume what a
     * stopped server left pending (ma_server_callbacks). May be NULL. */
    void (*recover)(ma_server *srv, void *state);
    /* The listener's error format, for its own errors and for the server's answers under its
     * prefix (401, 413, 431, 503 ...): fills resp with status, message and the execution id (or
     * NULL). state is what deploy() made, or NULL when there is none yet. -1 only when out of
     * memory. NULL: the server's JSON error (ma_http_resp_error). */
    int (*problem)(void *state, const ma_http_req *req, int status, const char *message, const char *execution_id,
                   ma_http_resp *resp);
};

#ifdef __cplusplus
}
#endif
#endif
