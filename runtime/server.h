/* server.h - `miniatom serve` inside: what its parts share. The server is one embedded HTTP server
 * (libmicrohttpd, a thread pool on epoll, TLS and client certificates through GnuTLS) that listener
 * types plug into (miniatom/listener.h is their side). Its parts, one purpose each:
 *   server_config.c    its config maps and the checks across keys (TLS files, users)
 *   server_auth.c      authentication: hashed tokens, Basic, client certificates
 *   server_kdf.c       the threads that hash tokens, off the server threads
 *   server_ratelimit.c rates per key: failed logins per client and user, debug runs per user
 *   server_log.c       the JSON log and the request log, written by a log thread
 *   server_snapshot.c  deployments as served: loaded, compiled, listeners deployed, refcounted
 *   server_store.c     the execution history as served: faults, reopening, the scheduled purge
 *   server_pool.c      executions in flight, the worker pool, the timer of early answers
 *   server_run.c       ma_listener_run and the answers to runs, shared by every listener
 *   server_http.c      the libmicrohttpd glue: requests, limits, dispatch to listener types
 *   server_debug.c     who may ask for a debug run (X-Boomi-Debug), how often, how many at once
 *   server_front.c     the HTTP front's defences: connections, late headers, framing, budgets
 *   server_health.c    GET /health
 *   server.c           start, signals, reload, drain, stop
 * (boomi-atom-semantics.md 3-4; docs/server.md, docs/architecture.md). */
#ifndef MA_SERVER_H
#define MA_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "component.h"
#include "executor.h"
#include "history.h"
#include "miniatom/listener.h"
#include "registry.h"

#define MA_SERVER_HASH_LEN 32
#define MA_SERVER_AUTH_CACHE 256
#define MA_SERVER_SLOW_PATHS 1024 /* remembered slow request paths */

/* ---- configuration (server_config.c) ------------------------------------------------------------ */

typedef struct ma_hashed_user {
    char *name; /* owned */
    unsigned iterations;
    unsigned char salt[64];
    size_t salt_len;
    unsigned char hash[MA_SERVER_HASH_LEN];
} ma_hashed_user;

enum ma_auth_mode { MA_AUTH_NONE = 0, MA_AUTH_BASIC, MA_AUTH_CLIENTCERT };

typedef struct ma_auth_cfg {
    int mode;              /* ma_auth_mode */
    ma_hashed_user *users; /* owned array */
    size_t n_users;
    const char **subjects; /* owned array of strings borrowed from the settings */
    size_t n_subjects;
    const char *debug_users; /* borrowed: "alice,bob", the users allowed debug runs, or NULL */
} ma_auth_cfg;

typedef struct ma_server_cfg {
    const char *listen, *deploy, *data, *plugins; /* borrowed from the settings or the map */
    uint64_t threads, slow_threads, idle_ms, drain_ms, sync_ms, slow_ms;
    const char *tls_cert, *tls_key, *tls_ca;
    uint64_t req_body, resp_body, header, connections, rps, workers, queue;
    uint64_t purge_days, max_doc_bytes, max_docs, max_size, check_ms;
    uint64_t exec_memory, server_memory;                  /* execution.max_memory, server.max_memory (0: from RAM) */
    uint64_t debug_rate, debug_concurrent;                /* debug runs per minute per user, at once */
    uint64_t auth_failures, kdf_threads, kdf_queue;       /* failed logins per minute; the token hashing */
    uint64_t max_payload_bytes, payload_bytes_per_minute; /* recorded payloads */
    uint64_t per_client, header_ms, header_fields, buffered_bodies; /* the HTTP front (server_front.c) */
    int log_requests;
    int strict;        /* serve --strict: a process that is not runnable refuses the deployment */
    ma_auth_cfg *auth; /* owned: one per listener type of the registry, then /health */
    size_t n_auth;
} ma_server_cfg;

/* The server's own keys (docs/server.md "Every key"). */
extern const ma_config_entry ma_server_config_map[];

/* Reports one problem: where ("FILE:LINE", "--set", a key) and why. */
typedef void (*ma_report_fn)(void *ctx, const char *where, const char *why);

/* Checks every setting against the config map that owns its key - the server's, auth.<listener>.*,
 * each listener type's ("<name>.*"), connector.map.* and connection.* - reporting each problem.
 * Returns their number. Used by every command that takes settings. */
int ma_settings_check(const ma_registry *reg, const ma_settings *s, ma_report_fn report, void *ctx);
/* The server's settings: ma_settings_check, then the checks across keys (the TLS pair loads, users
 * for basic, a client CA for clientcert) and cfg filled (free with ma_server_cfg_free). Returns the
 * number of problems. */
int ma_server_cfg_load(const ma_registry *reg, const ma_settings *s, ma_server_cfg *cfg, ma_report_fn report,
                       void *ctx);
void ma_server_cfg_free(ma_server_cfg *cfg);
/* server.listen's "HOST:PORT" or "[V6]:PORT" as a socket address; -1 with why. */
int ma_server_parse_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sl, char *why, size_t wl);

/* ---- authentication (server_auth.c) --------------------------------------------------------------- */

/* "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX" of a token (malloc'ed), NULL with err. */
char *ma_server_hash_token(const char *token, size_t len, unsigned iterations, ma_error *err);
/* Parses a stored hash into u (without the name); -1 when it is not one. */
int ma_server_parse_hash(const char *v, ma_hashed_user *u);
/* 1 when user and password were verified before (remembered as an HMAC): no hashing. */
int ma_server_basic_remembered(ma_server *srv, int li, const char *user, const char *pass);
/* 1 when user and password match one of a's users: PBKDF2, as dear for an unknown user or one with
 * fewer iterations as for a's dearest user; remembered when they match. */
int ma_server_basic_verify(ma_server *srv, int li, const ma_auth_cfg *a, const char *user, const char *pass);

/* ---- the token hashing threads (server_kdf.c) ---------------------------------------------------------- */

typedef struct ma_kdf_pool ma_kdf_pool;
ma_kdf_pool *ma_kdf_start(size_t threads, size_t queue, ma_error *err);
/* Queues fn(arg) for a hashing thread, calling before(arg) (may be NULL) first, before fn can run;
 * -1 when the queue is full or the pool stops (then neither is called). */
int ma_kdf_submit(ma_kdf_pool *p, void (*fn)(void *arg), void *arg, void (*before)(void *arg));
/* Runs what is queued, then stops the threads and frees p (NULL: nothing). */
void ma_kdf_stop(ma_kdf_pool *p);

/* ---- rates per key (server_ratelimit.c) --------------------------------------------------------------- */

typedef struct ma_ratelimit ma_ratelimit;
/* A table of slots buckets allowing per_minute events per key and minute (bursts up to that many;
 * 0: no limit). NULL when out of memory. */
ma_ratelimit *ma_ratelimit_new(size_t slots, uint64_t per_minute, uint64_t seed);
void ma_ratelimit_free(ma_ratelimit *rl);
/* 0 when one more event of key (kind: a letter separating kinds of keys) fits; else the seconds to
 * wait. check only looks; take counts the event when it fits; add counts it anyway. */
unsigned ma_ratelimit_check(ma_ratelimit *rl, char kind, const char *key, size_t len);
unsigned ma_ratelimit_take(ma_ratelimit *rl, char kind, const char *key, size_t len);
void ma_ratelimit_add(ma_ratelimit *rl, char kind, const char *key, size_t len);

/* ---- debug runs (server_debug.c) ----------------------------------------------------------------------- */

typedef enum { MA_DEBUG_NO = 0, MA_DEBUG_RUN, MA_DEBUG_IGNORED, MA_DEBUG_LIMITED } ma_debug_verdict;
/* Whether a request of user (NULL: none) on auth table a that asks for a debug run gets one: RUN
 * (counted in srv->n_debug: ma_debug_done after), IGNORED (the user may not: served as without the
 * flag), LIMITED (over debug.rate or debug.concurrent: *retry_s says when to come back). */
ma_debug_verdict ma_debug_decide(ma_server *srv, const ma_auth_cfg *a, const char *user, unsigned *retry_s);
void ma_debug_done(ma_server *srv);
/* Makes the key under which verified tokens are remembered (loading GnuTLS); -1 with err when GnuTLS
 * cannot be loaded or gives no random numbers. */
int ma_server_auth_init(ma_server *srv, ma_error *err);
/* The subject DN of a TLS session's verified client certificate (malloc'ed), or NULL. */
char *ma_server_peer_subject(void *tls_session);

/* ---- deployments as served (server_snapshot.c) ----------------------------------------------------- */

struct ma_snapshot {
    atomic_int refs;
    ma_deploy *dep;          /* owned */
    const ma_registry *reg;  /* borrowed: its listener types */
    void **states;           /* owned array; each state owned by its listener type (undeploy) */
    unsigned char *deployed; /* owned */
    unsigned generation;
    size_t n_processes, n_not_runnable;
    char loaded_at[32];
};

/* Loads and compiles deploy_dir with settings and deploys every listener type on it (srv may be
 * NULL: `check` and `--check-config`). With strict, a process that is not runnable makes it
 * invalid; otherwise each is logged with all of its reasons. NULL with err (why). */
ma_snapshot *ma_snapshot_build(ma_server *srv, const ma_registry *reg, const ma_settings *settings,
                               const char *deploy_dir, int strict, ma_error *err);
/* The current deployment, with a reference (release with ma_snapshot_unref). */
ma_snapshot *ma_server_snapshot(ma_server *srv);

/* ---- executions (server_pool.c) ------------------------------------------------------------------ */

typedef struct ma_exec_rec {
    struct ma_exec_rec *prev, *next; /* srv->inflight, under srv->mu */
    volatile int cancel;             /* read by the executor (ma_run_opts.cancel) */
    const char *excl_id;             /* component id while an allowSimultaneous="false" process runs */
} ma_exec_rec;

/* The early answer of a deferred request (ma_run_request.early), armed while its execution runs. */
enum { MA_D_IDLE, MA_D_ARMED, MA_D_ANSWERING, MA_D_ANSWERED, MA_D_DONE };
struct ma_http_conn;
typedef struct ma_deferral {
    struct ma_deferral *prev, *next; /* srv->timers, sorted by deadline, while ARMED; under srv->tmu */
    uint64_t deadline_ns;
    int state; /* MA_D_*, under srv->tmu */
    int (*early)(void *user, const char *exec_id, ma_http_resp *resp);
    void *user;
    char exec_id[80];
    struct ma_http_conn *conn; /* borrowed: the connection waiting for its answer */
} ma_deferral;

/* How an execution the pool ran ended: the executor's result, or why it did not run. */
typedef enum { MA_POOL_RAN = 0, MA_POOL_TIMEOUT, MA_POOL_NOT_STARTED, MA_POOL_ANSWERED } ma_pool_rc;

/* Runs an execution with the server's rules (ma_listener_run's): fills res when it ran (MA_POOL_RAN:
 * *cancelled says whether a drain cancelled it), err when it did not start (MA_POOL_NOT_STARTED:
 * MA_ERR_LIMIT when busy, MA_ERR_NOMEM, else why it could not start). exec_id is made first. */
ma_pool_rc ma_pool_execute(ma_server *srv, ma_snapshot *snap, ma_process *proc, const ma_batch *input,
                           const ma_run_request *rq, ma_result *res, char exec_id[80], int *cancelled, ma_error *err);
int ma_pool_start(ma_server *srv, ma_error *err);
void ma_pool_stop(ma_server *srv);
/* Sets the deferral of the calling thread (a deferred request's handler), NULL after. */
void ma_pool_set_deferral(ma_deferral *w);
/* The server thread runs a handler: a wait for the worker pool there is noted (ma_pool_waited). */
void ma_pool_inline(int on);
int ma_pool_waited(void);
/* Under srv->mu: wakes a drain when nothing runs any more. */
void ma_pool_idle_check(ma_server *srv);
/* Cancels every execution in flight (a drain past its timeout). */
void ma_pool_cancel_all(ma_server *srv);

/* ---- the execution history (server_store.c) ------------------------------------------------------ */

enum { MA_STORE_OK = 0, MA_STORE_UNUSABLE };
struct ma_store_ref;

/* Opens the history and starts the thread that watches and purges it. 0, or -1 when the history is
 * unusable (the server serves on: the state says why, and the log has said it). */
int ma_store_start(ma_server *srv);
void ma_store_stop(ma_server *srv); /* stops the thread and closes the history */
/* 1 while the history is usable; else 0, with msg (when not NULL) the answer general and bridge
 * work gets: "the execution history is unusable: WHY; general-mode processes cannot run ...". */
int ma_store_usable(ma_server *srv, char *msg, size_t n);
/* ma_history_begin / ma_history_end through the history in use; a failure that breaks it makes the
 * history unusable (logged once). While unusable: -1 with the message of ma_store_usable. */
int ma_store_begin(ma_server *srv, const char *exec_id, const ma_process *proc, const char *mode, const char *trigger,
                   const ma_batch *input, int with_payloads, ma_error *err);
int ma_store_end(ma_server *srv, const char *exec_id, const ma_process *proc, const ma_result *res, int with_payloads,
                 ma_error *err);
/* 1 when the listeners may recover now; else 0, and ma_server_start_recovery is called once the
 * history is usable. */
int ma_store_want_recovery(ma_server *srv);
/* Appends "store":{...} for /health; returns 1 when the history is usable. */
int ma_store_health(ma_server *srv, ma_sb *b);

/* ---- answers to runs (server_run.c) ------------------------------------------------------------------ */

/* What a listener learns of an execution that ran: DONE, FAILED or CANCELLED from the executor's
 * result res (taken over: res is left empty), with the documents returned when proc returns any. */
void ma_run_result_from(ma_run_result *out, const ma_process *proc, ma_result *res, int cancelled);

/* ---- the log (server_log.c) ----------------------------------------------------------------------- */

void ma_log_start(ma_server *srv);
void ma_log_stop(ma_server *srv); /* writes what is pending; later lines are written directly */
void ma_log_free(ma_server *srv);
/* One JSON line {"time","level","msg",...extra}; srv NULL: written directly. */
void ma_log_line(ma_server *srv, const char *level, const char *msg, const char *extra_json);
void ma_log_error(ma_server *srv, const char *msg, const char *why);
/* A complete line (ending in '\n') onto the log. */
void ma_log_emit(ma_server *srv, const char *line, size_t len);
/* "2026-11-23T20:18:31.275Z" */
void ma_iso_now(char out[32]);
/* The request log line of one answered request. */
typedef struct ma_request_log {
    const char *method, *path, *remote, *user, *execution_id;
    const char *debug; /* a debug run asked for: "ran", "ignored" or "limited"; else NULL */
    int status;
    uint64_t t0_ns;
} ma_request_log;
void ma_log_request(ma_server *srv, const ma_request_log *r);

/* ---- the HTTP side (server_http.c) ---------------------------------------------------------------- */

int ma_http_start(ma_server *srv, ma_error *err);
void ma_http_quiesce(ma_server *srv); /* stops accepting connections */
void ma_http_stop(ma_server *srv);
/* Hands a suspended connection its response (taken over; NULL closes it) and resumes it. */
void ma_http_conn_answer(struct ma_http_conn *conn, ma_http_resp *resp);
/* GET /health (server_health.c): the body, malloc'ed, and its status. */
char *ma_health_body(ma_server *srv, int *status, size_t *len);

/* ---- the HTTP front's defences (server_front.c) -------------------------------------------------------- */

struct MHD_Connection;
typedef struct ma_front ma_front;           /* the server's connections and budgets (srv->front) */
typedef struct ma_front_conn ma_front_conn; /* one connection, tracked from accept to close */

/* What the request line showed before libmicrohttpd parsed its query (ma_front_uri). */
typedef struct ma_front_req {
    const char *raw; /* borrowed: the request target as it came (libmicrohttpd's buffer) */
    size_t raw_len;  /* its length up to the first NUL */
    int status;      /* to be answered at once (400, 414), 0 when none */
    const char *why; /* static: the reason of status */
} ma_front_req;

/* Sizes the front from the settings and the file descriptor limit (raising the soft limit to the
 * hard one) and starts the thread that closes connections whose headers are late. -1 with err. */
int ma_front_start(ma_server *srv, ma_error *err);
void ma_front_stop(ma_server *srv); /* after the HTTP daemon has stopped */
/* The figures libmicrohttpd is started with: connections at once, and each one's memory pool
 * (room for the largest request line and headers the limits allow, with every field). */
unsigned ma_front_connection_limit(const ma_server *srv);
size_t ma_front_pool_size(const ma_server_cfg *c);
/* libmicrohttpd's accept policy: 1 accepts; near the limit, the oldest connection still sending its
 * headers (else the oldest idle one) is closed to make room. */
int ma_front_accept(ma_server *srv);
/* A connection opened (NULL: not tracked, out of memory) and closed; a request's headers have all
 * arrived (busy) and its answer has been sent (idle: the next request's headers are timed again). */
ma_front_conn *ma_front_open(ma_server *srv, struct MHD_Connection *c);
void ma_front_close(ma_server *srv, ma_front_conn *fc);
void ma_front_busy(ma_server *srv, ma_front_conn *fc);
void ma_front_idle(ma_server *srv, ma_front_conn *fc);
/* The request target as it came, before libmicrohttpd splits the query (its URI log callback):
 * fr filled; a query over the limits is cut off here (fr->status 414) so that it is never parsed. */
void ma_front_uri(ma_server *srv, char *uri, ma_front_req *fr);
/* The checks of a request on its headers alone, before any body is read (RFC 9112 3.2, 6.1, 6.3;
 * RFC 9110 4.2.4): 0, or the status to answer (then close) with *why. *path becomes the path an
 * absolute-form target names. */
int ma_front_check(ma_server *srv, struct MHD_Connection *c, const ma_front_req *fr, const char *version,
                   const char **path, const char **why);
/* The server-wide budget of buffered request bodies (limits.buffered_bodies): 0 reserved, -1 over. */
int ma_front_body_reserve(ma_server *srv, size_t n);
void ma_front_body_release(ma_server *srv, size_t n);
/* A server thread starts buffering a request's body, and is done with it (big: 64 KB or more):
 * when it holds none any more after a big one, its freed memory goes back to the system. */
void ma_front_body_begin(void);
void ma_front_body_end(int big);
/* 1 when a libmicrohttpd message may be logged (at most a few per second; the rest are counted). */
int ma_front_log_allow(ma_server *srv);
/* ,"http":{...} for /health: connections open and the limit, closed for late headers, evicted. */
void ma_front_health(ma_server *srv, ma_sb *b);

/* ---- the server --------------------------------------------------------------------------------------- */

struct ma_server {
    const ma_settings *settings; /* borrowed from serve.c for the server's life */
    ma_server_cfg c;
    ma_registry *reg; /* owned */
    char *deploy_dir; /* owned */

    pthread_mutex_t store_mu;          /* the history in use and its state (server_store.c) */
    pthread_cond_t store_cv;           /* wakes the watch thread to stop */
    struct ma_store_ref *hist_ref;     /* the history in use (one reference), NULL while unusable */
    int store_state;                   /* MA_STORE_* */
    ma_history_fault_kind store_fault; /* why it is unusable */
    char store_why[512];               /* for callers: the fault, without paths */
    char store_error[MA_ERROR_MAX];    /* for /health and the log: the whole error */
    char store_since[32];
    dev_t store_dev; /* the file when the fault was seen (a corrupt one is retried once replaced) */
    ino_t store_ino;
    int store_id_known, store_opened; /* opened once: a file deleted since is not made anew */
    uint64_t store_used, store_file;  /* bytes, as of the last check */
    pthread_t store_thread;
    int store_init, store_run, store_stop;
    int recover_pending; /* the listeners' recovery waits for a usable history */
    int purge_failing;   /* the watch thread's: a failed purge was logged */

    pthread_mutex_t recover_mu; /* the listeners' recovery thread */
    pthread_t recover_thread;
    int recovering, recover_closed;

    pthread_mutex_t snap_mu;
    ma_snapshot *snap; /* the current deployment (one reference) */
    unsigned generation;

    struct MHD_Daemon *mhd;
    ma_front *front;                               /* owned (server_front.c) */
    char *tls_cert_pem, *tls_key_pem, *tls_ca_pem; /* owned, wiped (key) when freed */
    unsigned port;

    pthread_mutex_t mu; /* inflight, the queue, jobs, counters */
    pthread_cond_t idle_cv;
    pthread_cond_t pool_cv;
    ma_exec_rec inflight; /* list head */
    size_t n_inflight, n_handling;
    struct ma_job **ring; /* owned: the bounded queue */
    size_t q_head, q_len, q_reserved;
    pthread_t *workers; /* owned */
    size_t n_workers;
    int stop_workers;
    int pool_started; /* ma_pool_start ran: ma_pool_stop must */

    pthread_mutex_t tmu; /* the early answers armed (timers) and their states */
    pthread_cond_t tcv, tdone;
    ma_deferral timers; /* list head */
    pthread_t timer;
    int timer_run, timer_stop;
    atomic_int draining;

    pthread_mutex_t rps_mu;
    double tokens;
    uint64_t rps_last_ns;

    _Atomic uint64_t slow_paths[MA_SERVER_SLOW_PATHS]; /* request paths that run on a thread of their own */
    _Atomic uint64_t fast_paths[MA_SERVER_SLOW_PATHS]; /* paths last handled on a server thread within
                                                          server.slow_after, without waiting */
    size_t n_slow;                                     /* such requests now, and deferred ones; under mu */
    pthread_t *ended; /* owned: threads of their own that have ended their work, to be joined (under mu) */
    size_t n_ended, cap_ended;

    pthread_mutex_t log_mu; /* the log: lines gather here, the log thread writes them */
    pthread_cond_t log_cv, log_room;
    char *log_buf, *log_spare; /* owned */
    size_t log_len;
    int log_run, log_stop;
    pthread_t log_thread;

    ma_kdf_pool *kdf;       /* owned: the token hashing threads */
    ma_ratelimit *auth_rl;  /* owned: failed logins per client address and per user */
    ma_ratelimit *debug_rl; /* owned: debug runs per user */
    atomic_size_t n_debug;  /* debug runs in flight */
    atomic_size_t n_inline; /* requests handled on server threads now (at most server.threads) */

    pthread_mutex_t auth_mu;
    unsigned char cache_key[32];
    unsigned char cache[MA_SERVER_AUTH_CACHE][MA_SERVER_HASH_LEN];
    size_t cache_n, cache_next;
};

/* Starts the listeners' recovery (their recover(), on a thread of its own) once; nothing once the
 * server drains. */
void ma_server_start_recovery(ma_server *srv);

/* `miniatom serve` (runtime/serve.c) */
int ma_cli_serve(int argc, char **argv);
/* Runs the server until SIGTERM/SIGINT; settings are checked first. Exit status of serve. */
int ma_server_run(const ma_settings *settings, int strict);
/* --check-config: settings, then the deployment as serve would load it. Exit status. */
int ma_server_check(const ma_settings *settings, int strict);

#endif
