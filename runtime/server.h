/* server.h - `miniatom serve`: one embedded HTTP server (libmicrohttpd, thread pool on epoll,
 * HTTP/1.1 keep-alive, TLS and client certificates) that listeners plug into: the Web Services
 * Server (connectors/wss, prefix /ws/) and the Flow Services Server (connectors/fss, prefix /fs/).
 * The server owns the configuration, authentication, limits, request logs, the current deployment
 * (swapped atomically on SIGHUP), the general-mode worker pool and the execution history; a
 * listener only maps requests to processes and results to responses (boomi-atom-semantics.md
 * 3-4; reference/flow-services-protocol.md). */
#ifndef MA_SERVER_H
#define MA_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "component.h"
#include "executor.h"
#include "miniatom/error.h"

/* ---- requests and responses -------------------------------------------------------------- */

typedef struct ma_pair {
    const char *name, *value; /* borrowed from the server for the request's lifetime */
} ma_pair;

typedef struct ma_http_req {
    const char *method;              /* "GET", "POST", ... */
    const char *path;                /* decoded path, e.g. "/ws/rest/order/42" */
    const char *body;                /* raw body (NUL-terminated), may be "" */
    size_t body_len;
    const ma_pair *headers;          /* as received */
    size_t n_headers;
    const ma_pair *query;            /* decoded query parameters, in order */
    size_t n_query;
    const char *remote_addr;         /* "127.0.0.1:53012" */
    const char *user;                /* the authenticated user (Basic), or NULL */
    const char *client_subject;      /* the client certificate's subject DN (mTLS), or NULL */
    int debug;                       /* X-Boomi-Debug: true or _boomi_debug=true: run in general mode */
} ma_http_req;

/* Case-insensitive header lookup; borrowed or NULL. */
const char *ma_http_header(const ma_http_req *req, const char *name);
/* Query parameter lookup (first one); borrowed or NULL. */
const char *ma_http_query(const ma_http_req *req, const char *name);

typedef struct ma_http_resp {
    int status;              /* default 200 */
    char *body;              /* malloc'ed, owned by the response (the server frees it) */
    size_t body_len;
    char *content_type;      /* malloc'ed, or NULL for none */
    char **headers;          /* malloc'ed "Name: value" strings, owned */
    size_t n_headers;
    char execution_id[80];   /* for the request log, "" when no execution ran */
} ma_http_resp;

/* Sets status, content type and body (copied). */
int ma_http_resp_set(ma_http_resp *r, int status, const char *content_type, const char *body, size_t len);
/* Same, taking ownership of body (malloc'ed). */
int ma_http_resp_set_owned(ma_http_resp *r, int status, const char *content_type, char *body, size_t len);
int ma_http_resp_header(ma_http_resp *r, const char *name, const char *value);
/* A JSON error body {"error": message, "executionId": id} with the status; never internals. */
int ma_http_resp_error(ma_http_resp *r, int status, const char *message, const char *execution_id);

/* ---- what listeners get from the server ---------------------------------------------------- */

typedef struct ma_server ma_server;
typedef struct ma_snapshot ma_snapshot; /* one deployment, refcounted; see ma_server_deployment */

typedef enum ma_mode { MA_MODE_LOW_LATENCY = 0, MA_MODE_GENERAL, MA_MODE_BRIDGE } ma_mode;

typedef struct ma_server_exec {
    ma_mode mode;            /* from the process's workload, general when req->debug */
    uint64_t timeout_ms;     /* the sync timeout the caller waits (0: the server's default) */
    int keep_running;        /* 0: past the timeout the execution is cancelled (WSS -> 504);
                                1: it goes on and `late` gets its result (FSS -> WAIT) */
    const char *const *props;/* "NAME=VALUE" dynamic process properties for the execution */
    size_t n_props;
    const char *trigger;     /* "wss", "fss": recorded with the execution */
    /* keep_running on a deferred request (ma_listener.deferrable): builds the answer the caller
     * gets when the sync timeout passes while the execution goes on (FSS: WAIT, once its callback
     * is recorded). Called at most once, on the server's timer thread, with the user of `late`,
     * and always before late(). Fills resp; -1 only for out of memory. NULL: no early answer. */
    int (*early)(void *user, const char *exec_id, ma_http_resp *resp);
} ma_server_exec;

/* Called once, on the thread that ran it, with the result of an execution that outlived its timeout
 * (keep_running = 1). Takes ownership of res (free with ma_result_free). */
typedef void (*ma_server_late_fn)(void *user, ma_result *res);

/* Runs proc of snapshot snap on input (borrowed) with the server's rules: low latency inline on the
 * request thread, general and bridge on the bounded worker pool (full -> returns -1 with
 * MA_ERR_LIMIT: the listener answers 503), recorded in the history as the mode says (general:
 * recorded before this returns). Returns 0 with *res filled (caller frees) when the execution ended
 * within the timeout; 1 when it did not (res untouched): with keep_running the execution goes on
 * and late(user, result) is called when it ends, otherwise it has been cancelled; -1 with err. The
 * execution id is known before the call returns: *exec_id (80 bytes) is filled in every case.
 * On a deferred request (ma_listener.deferrable) every mode runs on the handler's own thread; with
 * keep_running, late and o->early, the caller is answered by o->early when the timeout passes, and
 * once the execution ends late(user, result) is called here and 2 is returned: the request has been
 * answered, the handler returns at once without touching req (its response is discarded). */
int ma_server_execute(ma_server *srv, ma_snapshot *snap, ma_process *proc, const ma_batch *input,
                      const ma_server_exec *o, ma_result *res, char exec_id[80],
                      ma_server_late_fn late, void *user, ma_error *err);

/* 1 when the calling thread runs the handler of a deferred request (ma_listener.deferrable): only
 * there can ma_server_execute answer early (o->early) and call late; elsewhere a low-latency
 * execution with keep_running and early runs to its end on the caller's thread. */
int ma_server_handler_deferred(void);

/* The deployment of a snapshot (borrowed for as long as the snapshot is held). */
ma_deploy *ma_snapshot_deploy(ma_snapshot *snap);
/* A listener's state for this snapshot (what its deploy() returned). */
void *ma_snapshot_listener_state(ma_snapshot *snap, const char *listener_name);
/* Holds / releases a snapshot (a late execution holds its snapshot until it ends). */
ma_snapshot *ma_snapshot_ref(ma_snapshot *snap);
void ma_snapshot_unref(ma_snapshot *snap);

/* The execution history the server records in (borrowed). */
typedef struct ma_history ma_history;
ma_history *ma_server_history(ma_server *srv);

/* A server setting (the configuration file and --set), borrowed or NULL. */
const char *ma_server_setting(const ma_server *srv, const char *key);
/* The data folder (borrowed). */
const char *ma_server_data_dir(const ma_server *srv);
/* One structured log line (JSON) on the server log: {"time","level","msg",...extra}. extra_json
 * is a JSON object text whose members are added (or NULL). */
void ma_server_log(ma_server *srv, const char *level, const char *msg, const char *extra_json);

/* ---- listeners -------------------------------------------------------------------------------- */

typedef struct ma_listener {
    const char *name;   /* "wss", "fss" */
    const char *prefix; /* URL prefix it serves: "/ws/", "/fs/" */
    /* Once per deployment (start and every reload): build routing tables from the deployment's
     * components into *state. -1 with err makes the deployment invalid (a reload keeps the old one). */
    int (*deploy)(ma_server *srv, ma_deploy *dep, void **state, ma_error *err);
    void (*undeploy)(void *state);
    /* Handles one request under prefix, on a server thread; may block up to the sync timeout.
     * Fill resp (404 for an unknown path). Return -1 only for out of memory. */
    int (*handle)(ma_server *srv, ma_snapshot *snap, void *state, const ma_http_req *req, ma_http_resp *resp);
    /* Whether a request may be answered before its handler returns (see ma_server_execute): 1 when
     * it is to be handled on a thread of its own while its connection waits (the server threads go
     * on serving; at most server.slow_threads such threads with the slow paths' ones), 2 only once its path has turned slow (server.slow_after; until then it runs on the
     * server thread and is answered when its execution ends), 0 never. Sees the request without its
     * body, and the state deploy() made. NULL: never. */
    int (*deferrable)(void *state, const ma_http_req *req);
    /* After start-up (and after a crash restart): resume what was left pending, e.g. answer
     * recorded FSS callbacks with an error. May be NULL. */
    void (*recover)(ma_server *srv);
    /* Checks one of its own settings (a key "<name>.*" of the configuration): 0 when it knows the
     * key and the value is valid, else -1 with why (which names the key). NULL: it has none, and
     * every "<name>.*" key is unknown. */
    int (*check_setting)(const char *key, const char *value, char *why, size_t wl);
} ma_listener;

extern const ma_listener ma_listener_wss;
extern const ma_listener ma_listener_fss;

/* `miniatom serve` (runtime/serve.c): parses its options, runs until SIGTERM. */
int ma_cli_serve(int argc, char **argv);

#endif
