/* server_http.c - the HTTP side of `miniatom serve`: libmicrohttpd with a thread pool on epoll, TLS
 * and client certificates through GnuTLS. It reads requests within their limits (431 for big
 * headers, 413 for a big body - read and dropped first, so that clients that write the whole body
 * before reading see it, RFC 9112 9.6), authenticates them, applies the request rate, and hands
 * each to the listener type that owns its URL prefix: inline on the server thread, or on a thread
 * of its own for slow and deferred requests (docs/server.md). Every answer under a listener's
 * prefix, the server's own included, is in that listener's error format. Boomi's Shared Web Server
 * is the model (boomi-atom-semantics.md 3.1-3.2, 4.5). libmicrohttpd is loaded when the server
 * starts listening (lazy_mhd.h). What a request must be before any of its body is read, and the
 * connection limits, are server_front.c's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lazy_mhd.h"
#include "server.h"
#include "util.h"

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

#define MAX_TLS_FILE (1u << 20)
#define MAX_DROPPED (64u << 20) /* a body over the limit is read and dropped up to this */
#define SLOW_PROBE 8

/* One request (MHD's con_cls): freed when it completes. */
struct ma_http_conn {
    ma_server *srv;
    struct MHD_Connection *c;
    uint64_t t0;
    char *body; /* owned */
    size_t len, cap;
    int too_big;           /* the body is over limits.request_body: dropped as it comes, then 413 */
    size_t dropped;        /* body bytes read and dropped */
    int answered;          /* a response is queued: whatever else arrives is dropped */
    int offloaded;         /* handled on a thread of its own; the connection is suspended meanwhile */
    ma_http_resp *pending; /* owned: the response that thread made (NULL: out of memory) */
    char *user;            /* owned (MHD_free): the authenticated user */
    int counted;           /* in srv->n_handling until its response has been sent (on_completed) */
    int li;                /* the listener type its path is under, -1 for none */
    char remote[80];       /* "addr:port" of the client, "" until conn_remote() */
    int auth_wait;         /* suspended while a hashing thread checks its credentials (kdf_check) */
    int auth_ok;           /* what the check found */
    size_t auth_ai;        /* the auth table checked */
    char *auth_pass;       /* owned (MHD_free), wiped: the token being checked */
    const char *debug;     /* for the request log: "ran", "ignored", "limited", or NULL */
    int refused;           /* refused on its headers (401, 403, 429, 503): the body is dropped, then this */
    const char *refuse_msg;
    char refuse_retry[16]; /* its Retry-After, "" for none */
    int started;           /* its headers have arrived (on_request has been called) */
    int close;             /* its answer closes the connection (framing in doubt) */
    const char *path;      /* the path served: url, or the path of an absolute-form target */
    ma_front_req fr;       /* what its request line showed (on_uri) */
    size_t reserved;       /* bytes of limits.buffered_bodies held for its body */
    int over_budget;       /* limits.buffered_bodies is used up: its body is dropped, then 503 */
    int body_held;         /* it counts in its server thread's bodies (ma_front_body_begin) */
    int big;               /* its body was 64 KB or more */
};

typedef struct conn_tls { /* one connection (MHD's socket context) */
    int checked;
    char *subject;     /* owned: verified client certificate subject DN, or NULL */
    ma_front_conn *fc; /* owned by server_front.c: its limits */
} conn_tls;

void ma_http_conn_answer(struct ma_http_conn *conn, ma_http_resp *resp)
{
    conn->pending = resp; /* the connection is suspended: nothing else touches conn */
    MHD_resume_connection(conn->c);
}

/* ---- reading requests --------------------------------------------------------------------------------- */

typedef struct pairs {
    ma_pair *v;
    size_t n, cap;
    size_t bytes;
} pairs;

static mhd_result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    pairs *p = cls;
    p->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    if (p->n < p->cap) {
        p->v[p->n].name = key;
        p->v[p->n].value = value ? value : "";
    }
    p->n++;
    return MHD_YES;
}

/* Headers or query parameters of the request: an owned array of borrowed pairs. */
static ma_pair *get_pairs(struct MHD_Connection *c, enum MHD_ValueKind kind, size_t *n)
{
    pairs p = {NULL, 0, 0, 0};
    MHD_get_connection_values(c, kind, collect, &p);
    if (!p.n) {
        *n = 0;
        return NULL;
    }
    p.cap = p.n;
    p.v = calloc(p.cap, sizeof *p.v);
    if (!p.v) {
        *n = 0;
        return NULL;
    }
    p.n = 0;
    MHD_get_connection_values(c, kind, collect, &p);
    *n = p.n < p.cap ? p.n : p.cap;
    return p.v;
}

static size_t header_bytes(struct MHD_Connection *c, const char *url, const char *method)
{
    pairs p = {NULL, 0, 0, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &p);
    size_t b = p.bytes;
    p.bytes = 0;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &p);
    return b + p.bytes + strlen(url) + strlen(method) + 12;
}

/* Writes v in decimal at p; returns the end. */
static char *put_uint(char *p, unsigned long long v)
{
    char d[24];
    int n = 0;
    do d[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n) *p++ = d[--n];
    return p;
}

static void remote_of(struct MHD_Connection *c, char *out, size_t ol)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, ol, "-");
    if (!ci || !ci->client_addr) return;
    char ip[INET6_ADDRSTRLEN];
    if (ci->client_addr->sa_family == AF_INET && ol >= sizeof "255.255.255.255:65535") {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ci->client_addr;
        const unsigned char *b = (const unsigned char *)&a->sin_addr; /* network order */
        char *p = out;
        for (int i = 0; i < 4; i++) {
            p = put_uint(p, b[i]);
            *p++ = i < 3 ? '.' : ':';
        }
        *put_uint(p, ntohs(a->sin_port)) = '\0';
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(out, ol, "[%s]:%u", ip, ntohs(a->sin6_port));
    }
}

/* The client's address of request q, worked out once. */
static const char *conn_remote(struct ma_http_conn *q)
{
    if (!q->remote[0]) remote_of(q->c, q->remote, sizeof q->remote);
    return q->remote;
}

/* The listener type whose prefix url is under ("/fs" counts for "/fs/"), -1 when none. */
static int listener_of(const ma_registry *reg, const char *url)
{
    for (size_t i = 0; i < reg->n_listeners; i++) {
        const char *p = reg->listeners[i]->prefix;
        size_t pl = strlen(p);
        if (strncmp(url, p, pl) == 0 || (strlen(url) == pl - 1 && strncmp(url, p, pl - 1) == 0)) return (int)i;
    }
    return -1;
}

/* ---- answering ---------------------------------------------------------------------------------------- */

/* Sends r (its body is handed to MHD), logs the request, frees what r holds. */
static mhd_result respond(struct ma_http_conn *q, const char *method, const char *path, ma_http_resp *r)
{
    ma_server *srv = q->srv;
    if (r->body_len > srv->c.resp_body) {
        char msg[160];
        snprintf(msg, sizeof msg, "the response body is larger than the limit of %llu bytes",
                 (unsigned long long)srv->c.resp_body);
        char eid[80];
        ma_strlcpy(eid, r->execution_id, sizeof eid);
        ma_http_resp_clear(r);
        if (ma_http_resp_error(r, 503, msg, eid) < 0) return MHD_NO;
    }
    if (!r->status) r->status = 200;
    if (r->status < 100 || r->status > 599) { /* a listener's mistake: never an invalid status line */
        char eid[80];
        ma_strlcpy(eid, r->execution_id, sizeof eid);
        ma_http_resp_clear(r);
        if (ma_http_resp_error(r, 500, "the response had an invalid HTTP status", eid) < 0) return MHD_NO;
    }
    struct MHD_Response *mr;
    if (r->body) {
        mr = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
        if (mr) r->body = NULL; /* MHD frees it */
    } else {
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!mr) {
        ma_http_resp_clear(r);
        return MHD_NO;
    }
    if (r->content_type) MHD_add_response_header(mr, "Content-Type", r->content_type);
    for (size_t i = 0; i < r->n_headers; i++) {
        char *h = r->headers[i], *colon = strchr(h, ':');
        if (!colon) continue;
        *colon = '\0';
        const char *v = colon + 1;
        while (*v == ' ') v++;
        if (strcasecmp(h, "Content-Length") && strcasecmp(h, "Transfer-Encoding") && strcasecmp(h, "Connection"))
            MHD_add_response_header(mr, h, v);
        *colon = ':';
    }
    if (atomic_load(&srv->draining) || q->close) MHD_add_response_header(mr, "Connection", "close");
    mhd_result ret = MHD_queue_response(q->c, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    q->answered = 1;
    ma_request_log log = {method, path, conn_remote(q), q->user, r->execution_id, q->debug, r->status, q->t0};
    ma_log_request(srv, &log);
    ma_http_resp_clear(r);
    return ret;
}

/* The server's own answer to a request: in the error format of the listener its path is under. */
static mhd_result respond_error(struct ma_http_conn *q, const char *method, const char *path, int status,
                                const char *msg, const char *retry_after, const char *www_auth)
{
    ma_server *srv = q->srv;
    ma_http_resp r;
    memset(&r, 0, sizeof r);
    const ma_listener_type *lt = q->li >= 0 ? srv->reg->listeners[q->li] : NULL;
    ma_snapshot *snap = lt && lt->problem ? ma_server_snapshot(srv) : NULL;
    ma_http_req req;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.path = path;
    req.body = "";
    int rc = ma_listener_answer_error(lt, snap ? snap->states[q->li] : NULL, &req, status, msg, NULL, &r);
    ma_snapshot_unref(snap);
    if (rc < 0 || (retry_after && ma_http_resp_header(&r, "Retry-After", retry_after) < 0) ||
        (www_auth && ma_http_resp_header(&r, "WWW-Authenticate", www_auth) < 0)) {
        ma_http_resp_clear(&r);
        return MHD_NO;
    }
    return respond(q, method, path, &r);
}

static int rps_allow(ma_server *srv)
{
    if (!srv->c.rps) return 1;
    pthread_mutex_lock(&srv->rps_mu);
    uint64_t now = ma_now_ns();
    srv->tokens += (double)(now - srv->rps_last_ns) * (double)srv->c.rps / 1e9;
    if (srv->tokens > (double)srv->c.rps) srv->tokens = (double)srv->c.rps;
    srv->rps_last_ns = now;
    int ok = srv->tokens >= 1.0;
    if (ok) srv->tokens -= 1.0;
    pthread_mutex_unlock(&srv->rps_mu);
    return ok;
}

/* ---- authentication ------------------------------------------------------------------------------------ */

static long long content_length(const char *v);
static mhd_result dispatch(struct ma_http_conn *q, const char *method, const char *url);

/* The verified client certificate's subject DN of a TLS connection (borrowed), or NULL. */
static const char *client_subject(ma_server *srv, struct MHD_Connection *c)
{
    if (!srv->tls_ca_pem) return NULL;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_tls *ct = ci ? ci->socket_context : NULL;
    if (!ct) return NULL;
    if (ct->checked) return ct->subject;
    ct->checked = 1;
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    ct->subject = ci ? ma_server_peer_subject(ci->tls_session) : NULL;
    return ct->subject;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    ma_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_tls *ct = calloc(1, sizeof(conn_tls)); /* NULL: no subject, no limits for this connection */
        if (ct) ct->fc = ma_front_open(srv, c);
        *socket_context = ct;
    } else {
        conn_tls *ct = *socket_context;
        if (ct) {
            ma_front_close(srv, ct->fc);
            free(ct->subject);
        }
        free(ct);
        *socket_context = NULL;
    }
}

/* The client's address without its port (the key of its failed logins); its length. */
static size_t client_ip(struct ma_http_conn *q, char *out, size_t ol)
{
    const char *r = conn_remote(q), *colon = strrchr(r, ':');
    size_t n = colon ? (size_t)(colon - r) : strlen(r);
    if (n >= ol) n = ol - 1;
    memcpy(out, r, n);
    out[n] = '\0';
    return n;
}

/* A body over limits.request_body (413) or a request refused on its headers: a client that waits
 * for 100 Continue, sends no body, or would send more than is worth reading is answered at once;
 * any other once its body has been read and dropped (never buffered), so that a client that writes
 * the whole body before it reads sees the answer (RFC 9112 9.6). 1 when it is answered at once. */
static int answer_at_once(struct MHD_Connection *c)
{
    long long n = content_length(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH));
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    return (expect && strcasecmp(expect, "100-continue") == 0) || (unsigned long long)n > MAX_DROPPED ||
           (n <= 0 && !te);
}

/* Refuses q on its headers with status and msg (a static string): at once, or after its body. */
static mhd_result refuse(struct ma_http_conn *q, const char *method, const char *url, int status, const char *msg,
                         const char *retry_after)
{
    q->refused = status;
    q->refuse_msg = msg;
    ma_strlcpy(q->refuse_retry, retry_after ? retry_after : "", sizeof q->refuse_retry);
    return answer_at_once(q->c) ? dispatch(q, method, url) : MHD_YES;
}

static void pass_drop(struct ma_http_conn *q)
{
    if (!q->auth_pass) return;
    ma_wipe(q->auth_pass, strlen(q->auth_pass));
    MHD_free(q->auth_pass);
    q->auth_pass = NULL;
}

/* On a hashing thread: checks the credentials of a suspended request, then resumes it (on_request
 * goes on with auth_ok). q is not touched after the resume. */
static void kdf_check(void *arg)
{
    struct ma_http_conn *q = arg;
    ma_server *srv = q->srv;
    q->auth_ok = ma_server_basic_verify(srv, (int)q->auth_ai, &srv->c.auth[q->auth_ai], q->user, q->auth_pass);
    MHD_resume_connection(q->c);
}

static void kdf_suspend(void *arg)
{
    struct ma_http_conn *q = arg;
    q->auth_wait = 1;
    MHD_suspend_connection(q->c);
}

static ma_front_conn *front_conn(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_tls *ct = ci ? ci->socket_context : NULL;
    return ct ? ct->fc : NULL;
}

/* Authenticates a request on its headers, before any of its body is read. 0 authenticated (q->user
 * set when Basic), -1 refused (the answer queued in *ret: 401, 403, 429 over limits.auth_failures,
 * 503 when the hashing queue is full), 1 the connection is suspended while a hashing thread checks a
 * token not remembered (on_request goes on when it resumes). ai: the auth table (a listener's, or
 * /health's). */
static int authenticate(struct ma_http_conn *q, const char *method, const char *url, size_t ai, const char *subject,
                        mhd_result *ret)
{
    ma_server *srv = q->srv;
    const ma_auth_cfg *a = &srv->c.auth[ai];
    if (a->mode == MA_AUTH_NONE) return 0;
    if (a->mode == MA_AUTH_CLIENTCERT) {
        int ok = subject != NULL;
        if (ok && a->n_subjects) {
            ok = 0;
            for (size_t i = 0; i < a->n_subjects; i++)
                if (strcmp(a->subjects[i], subject) == 0) ok = 1;
        }
        if (ok) return 0;
        *ret = refuse(
            q, method, url, 403,
            subject ? "this client certificate is not allowed here" : "a valid client certificate is required", NULL);
        return -1;
    }
    char *pass = NULL;
    char *u = MHD_basic_auth_get_username_password(q->c, &pass);
    if (u && pass && ma_server_basic_remembered(srv, (int)ai, u, pass)) {
        ma_wipe(pass, strlen(pass));
        MHD_free(pass);
        q->user = u;
        return 0;
    }
    const char *why = "authentication is required";
    char ra[16] = "";
    int status = 401;
    if (u && pass) { /* not remembered: over the failed logins of this client or user, or hashed */
        char ip[INET6_ADDRSTRLEN + 4];
        size_t il = client_ip(q, ip, sizeof ip);
        unsigned w = ma_ratelimit_check(srv->auth_rl, 'c', ip, il);
        if (!w) w = ma_ratelimit_check(srv->auth_rl, 'u', u, strlen(u));
        if (w) {
            status = 429;
            why = "too many failed logins from this client or for this user; try again later";
            snprintf(ra, sizeof ra, "%u", w);
        } else {
            q->user = u;
            q->auth_pass = pass;
            q->auth_ai = ai;
            if (ma_kdf_submit(srv->kdf, kdf_check, q, kdf_suspend) == 0) return 1;
            q->user = NULL;
            q->auth_pass = NULL;
            status = 503;
            why = "too many logins are waiting to be checked; try again";
            snprintf(ra, sizeof ra, "1");
        }
    }
    if (pass) {
        ma_wipe(pass, strlen(pass));
        MHD_free(pass);
    }
    if (u) MHD_free(u);
    *ret = refuse(q, method, url, status, why, ra[0] ? ra : NULL);
    return -1;
}

/* After a hashing thread checked q's credentials: 0 authenticated, -1 refused (401 queued in *ret,
 * the failure counted against the client's address and the user name). */
static int authenticated(struct ma_http_conn *q, const char *method, const char *url, mhd_result *ret)
{
    q->auth_wait = 0;
    pass_drop(q);
    if (q->auth_ok) return 0;
    ma_server *srv = q->srv;
    char ip[INET6_ADDRSTRLEN + 4];
    size_t il = client_ip(q, ip, sizeof ip);
    ma_ratelimit_add(srv->auth_rl, 'c', ip, il);
    ma_ratelimit_add(srv->auth_rl, 'u', q->user, strlen(q->user));
    MHD_free(q->user);
    q->user = NULL;
    *ret = refuse(q, method, url, 401, "authentication is required", NULL);
    return -1;
}

/* ---- listener requests: inline on the server thread, or on a thread of their own ------------------ */

typedef struct request { /* one listener request being handled */
    ma_server *srv;
    struct ma_http_conn *q; /* borrowed: the connection's request */
    int li;                 /* the listener type */
    ma_http_req req;
    ma_pair *hs, *qs; /* owned arrays of borrowed pairs */
    char remote[80];
    uint64_t key;      /* the request path's key in srv->slow_paths and srv->fast_paths */
    int inline_run;    /* handled on the server thread that read it */
    ma_snapshot *snap; /* owned reference */
    int failed;        /* no thread could be started */
    int deferred;      /* handled on a thread of its own that may be answered early (deferred_main) */
    char *body;        /* owned: the body, when deferred (taken from q) */
    ma_deferral w;     /* deferred: its early answer */
    int debug;         /* a debug run: counted in srv->n_debug */
} request;

static void request_free(request *t)
{
    if (t->debug) ma_debug_done(t->srv);
    free(t->body);
    ma_snapshot_unref(t->snap);
    free(t->hs);
    free(t->qs);
    free(t);
}

static uint64_t path_key(int li, const char *path)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)li;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) h = (h ^ *p) * 1099511628211ull;
    return h | 1; /* 0 marks an empty slot */
}

/* The tables of request paths (srv->slow_paths, srv->fast_paths): open addressing over a few slots,
 * lock-free; when full, the oldest neighbour goes. */
static int path_in(_Atomic uint64_t *tab, uint64_t key)
{
    for (size_t i = 0; i < SLOW_PROBE; i++)
        if (atomic_load_explicit(&tab[(key + i) % MA_SERVER_SLOW_PATHS], memory_order_relaxed) == key) return 1;
    return 0;
}

static void path_add(_Atomic uint64_t *tab, uint64_t key)
{
    if (path_in(tab, key)) return;
    for (size_t i = 0; i < SLOW_PROBE; i++) {
        uint64_t zero = 0;
        if (atomic_compare_exchange_strong(&tab[(key + i) % MA_SERVER_SLOW_PATHS], &zero, key)) return;
    }
    atomic_store(&tab[key % MA_SERVER_SLOW_PATHS], key);
}

static void path_remove(_Atomic uint64_t *tab, uint64_t key)
{
    for (size_t i = 0; i < SLOW_PROBE; i++) {
        uint64_t k = key;
        atomic_compare_exchange_strong(&tab[(key + i) % MA_SERVER_SLOW_PATHS], &k, 0);
    }
}

static int is_slow_path(ma_server *srv, uint64_t key) { return path_in(srv->slow_paths, key); }

static void mark_slow_path(ma_server *srv, uint64_t key)
{
    path_remove(srv->fast_paths, key);
    path_add(srv->slow_paths, key);
}

void ma_http_forget_slow_paths(ma_server *srv)
{
    for (size_t i = 0; i < MA_SERVER_SLOW_PATHS; i++) {
        atomic_store(&srv->slow_paths[i], 0);
        atomic_store(&srv->fast_paths[i], 0);
    }
}

/* Runs the listener's handle() for t into r (a 500 when it ran out of memory). A request that waited
 * for the worker pool or took longer than server.slow_after marks its path slow. */
static void run_handler(request *t, ma_http_resp *r)
{
    ma_server *srv = t->srv;
    const ma_listener_type *lt = srv->reg->listeners[t->li];
    uint64_t t0 = ma_now_ns();
    ma_pool_inline(1);
    int hrc = lt->handle(srv, t->snap, t->snap->states[t->li], &t->req, r);
    ma_pool_inline(0);
    if (!t->deferred) { /* deferred: q may be gone (an early answer) and the body goes with t */
        if (!t->req.debug && (ma_pool_waited() || ma_now_ns() - t0 > srv->c.slow_ms * 1000000ull))
            mark_slow_path(srv, t->key);
        else if (!t->req.debug && t->inline_run && !path_in(srv->fast_paths, t->key)) path_add(srv->fast_paths, t->key);
        free(t->q->body); /* the body is no longer needed */
        t->q->body = NULL;
        ma_front_body_release(srv, t->q->reserved);
        t->q->big |= t->q->reserved >= 65536;
        t->q->reserved = 0;
    }
    if (hrc < 0) {
        char eid[80];
        ma_strlcpy(eid, r->execution_id, sizeof eid);
        ma_http_resp_clear(r);
        ma_listener_answer_error(lt, t->snap->states[t->li], &t->req, 500, "out of memory", eid[0] ? eid : NULL, r);
    }
}

/* A request's own thread, at the end of its work (under srv->mu): it is joined later (join_ended),
 * so that the server never exits while a thread of its own is still running its way out. When the
 * list cannot grow, the thread detaches itself instead. */
static void thread_listed(ma_server *srv, pthread_t th)
{
    if (srv->n_ended == srv->cap_ended) {
        size_t cap = srv->cap_ended ? srv->cap_ended * 2 : 16;
        pthread_t *n = realloc(srv->ended, cap * sizeof *n);
        if (!n) {
            pthread_detach(th);
            return;
        }
        srv->ended = n;
        srv->cap_ended = cap;
    }
    srv->ended[srv->n_ended++] = th;
}

static void thread_ended(ma_server *srv) { thread_listed(srv, pthread_self()); }

/* Joins the threads that have ended their work. wait 0 (a server thread, between requests): only
 * those already gone (pthread_tryjoin_np), the others stay listed; wait 1 (at stop, when every one
 * has ended its work): all of them. Not under mu. */
static void join_ended(ma_server *srv, int wait)
{
    pthread_mutex_lock(&srv->mu);
    pthread_t *list = srv->ended; /* taken out: joined without holding mu */
    size_t n = srv->n_ended;
    srv->ended = NULL;
    srv->n_ended = srv->cap_ended = 0;
    pthread_mutex_unlock(&srv->mu);
    if (!n) return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((wait ? pthread_join(list[i], NULL) : pthread_tryjoin_np(list[i], NULL)) != 0) list[k++] = list[i];
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < k; i++) thread_listed(srv, list[i]);
    pthread_mutex_unlock(&srv->mu);
    free(list);
}

static void *request_main(void *arg)
{
    request *t = arg;
    ma_server *srv = t->srv;
    struct ma_http_conn *q = t->q;
    ma_http_resp *r = calloc(1, sizeof *r);
    if (r && t->failed) {
        ma_listener_answer_error(srv->reg->listeners[t->li], t->snap->states[t->li], &t->req, 503,
                                 "no thread could be started for this request", NULL, r);
    } else if (r) {
        r->status = 200;
        run_handler(t, r);
    }
    int own = !t->failed; /* a failed start runs here on the server thread */
    request_free(t);
    pthread_mutex_lock(&srv->mu);
    srv->n_slow--;
    if (own) thread_ended(srv);
    pthread_mutex_unlock(&srv->mu);
    /* on_request sends the response; once it has, the server may stop: srv is not touched after this */
    ma_http_conn_answer(q, r);
    return NULL;
}

/* A deferred request, on a thread of its own: its handler runs here while the connection waits
 * suspended; the timer may answer it early (then the handler's response is dropped and q is not
 * touched). The thread stays counted in n_slow until it ends, so that a drain waits for it. */
static void *deferred_main(void *arg)
{
    request *t = arg;
    ma_server *srv = t->srv;
    struct ma_http_conn *q = t->q;
    ma_http_resp *r = calloc(1, sizeof *r);
    if (r) {
        r->status = 200;
        ma_pool_set_deferral(&t->w);
        run_handler(t, r);
        ma_pool_set_deferral(NULL);
    }
    int answered = t->w.state == MA_D_ANSWERED; /* set before this thread's timer_disarm returned */
    request_free(t);
    if (answered) {
        if (r) ma_http_resp_clear(r);
        free(r);
    } else {
        ma_http_conn_answer(q, r); /* NULL: the connection is closed; counted in n_handling until sent */
    }
    pthread_mutex_lock(&srv->mu);
    srv->n_slow--;
    thread_ended(srv);
    ma_pool_idle_check(srv);
    pthread_mutex_unlock(&srv->mu); /* srv is not touched after this */
    return NULL;
}

static int is_true(const char *v) { return v && strcasecmp(v, "true") == 0; }

static mhd_result dispatch(struct ma_http_conn *q, const char *method, const char *url)
{
    ma_server *srv = q->srv;
    struct MHD_Connection *c = q->c;
    if (q->refused)
        return respond_error(q, method, url, q->refused, q->refuse_msg, q->refuse_retry[0] ? q->refuse_retry : NULL,
                             q->refused == 401 ? "Basic realm=\"miniatom\"" : NULL);
    if (q->over_budget)
        return respond_error(q, method, url, 503,
                             "the server holds too many request bodies at once (limits.buffered_bodies)", "1", NULL);
    if (q->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body is larger than the limit of %llu bytes",
                 (unsigned long long)srv->c.req_body);
        return respond_error(q, method, url, 413, msg, NULL, NULL);
    }
    if (strcmp(url, "/health") == 0) { /* authenticated on its headers (on_request) */
        ma_http_resp r;
        memset(&r, 0, sizeof r);
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            if (ma_http_resp_error(&r, 405, "GET /health only", NULL) < 0 ||
                ma_http_resp_header(&r, "Allow", "GET, HEAD") < 0) {
                ma_http_resp_clear(&r);
                return MHD_NO;
            }
            return respond(q, method, url, &r);
        }
        int status;
        size_t len;
        char *body = ma_health_body(srv, &status, &len);
        if (!body || ma_http_resp_set_owned(&r, status, "application/json", body, len) < 0 ||
            ma_http_resp_header(&r, "Cache-Control", "no-store") < 0) {
            ma_http_resp_clear(&r);
            return MHD_NO;
        }
        return respond(q, method, url, &r);
    }
    if (atomic_load(&srv->draining))
        return respond_error(q, method, url, 503, "the server is shutting down", NULL, NULL);
    if (!rps_allow(srv)) return respond_error(q, method, url, 503, "too many requests per second", "1", NULL);
    int li = q->li;
    if (li < 0) {
        ma_sb b;
        ma_sb_init(&b);
        ma_sb_puts(&b, "nothing is served at this path (listeners: ");
        for (size_t i = 0; i < srv->reg->n_listeners; i++) ma_sb_printf(&b, "%s, ", srv->reg->listeners[i]->prefix);
        ma_sb_puts(&b, "health: /health)");
        mhd_result ret = b.oom ? MHD_NO : respond_error(q, method, url, 404, b.s, NULL, NULL);
        ma_sb_free(&b);
        return ret;
    }
    const char *subject = client_subject(srv, c); /* authenticated on its headers (on_request) */

    request *t = calloc(1, sizeof *t);
    if (!t) return MHD_NO;
    t->srv = srv;
    t->q = q;
    t->li = li;
    t->hs = get_pairs(c, MHD_HEADER_KIND, &t->req.n_headers);
    t->qs = get_pairs(c, MHD_GET_ARGUMENT_KIND, &t->req.n_query);
    ma_strlcpy(t->remote, conn_remote(q), sizeof t->remote);
    t->req.method = method; /* method, url, headers and query live in the connection's memory */
    t->req.path = url;
    t->req.body = q->body ? q->body : "";
    t->req.body_len = q->len;
    t->req.headers = t->hs;
    t->req.query = t->qs;
    t->req.remote_addr = t->remote;
    t->req.user = q->user;
    t->req.client_subject = subject;
    if (is_true(ma_http_header(&t->req, "X-Boomi-Debug")) || is_true(ma_http_query(&t->req, "_boomi_debug"))) {
        unsigned retry = 0;
        ma_debug_verdict dv = ma_debug_decide(srv, &srv->c.auth[li], q->user, &retry);
        q->debug = dv == MA_DEBUG_RUN ? "ran" : dv == MA_DEBUG_LIMITED ? "limited" : "ignored";
        if (dv == MA_DEBUG_LIMITED) {
            request_free(t);
            char ra[16];
            snprintf(ra, sizeof ra, "%u", retry);
            return respond_error(q, method, url, 429,
                                 "too many debug runs (debug.rate a minute per user, debug.concurrent at once); try "
                                 "again later",
                                 ra, NULL);
        }
        t->req.debug = t->debug = dv == MA_DEBUG_RUN; /* ignored: served as without the flag */
    }
    t->key = path_key(li, url);
    t->snap = ma_server_snapshot(srv);
    const ma_listener_type *lt = srv->reg->listeners[li];
    int defer = lt->deferrable ? lt->deferrable(t->snap->states[li], &t->req) : 0;
    int slow = is_slow_path(srv, t->key);
    t->deferred = defer == 1 || (defer == 2 && slow);

    /* a debug run waits for the worker pool: never on a server thread. At most server.threads of the
     * server threads (there is one more) handle requests at once, so that one is always free for
     * /health and new connections whatever the executions do; past that, only a path known to be
     * fast (last handled here within server.slow_after, without waiting) runs on a server thread,
     * any other on a thread of its own. */
    int own_thread = t->deferred || slow || t->req.debug, on_server_thread = 0;
    if (!own_thread) {
        if (atomic_fetch_add(&srv->n_inline, 1) < srv->c.threads || path_in(srv->fast_paths, t->key))
            on_server_thread = 1;
        else atomic_fetch_sub(&srv->n_inline, 1), own_thread = 1;
    }
    t->inline_run = on_server_thread;
    pthread_mutex_lock(&srv->mu);
    int busy = own_thread && srv->n_slow >= srv->c.slow_threads;
    if (!busy) {
        srv->n_handling++;
        q->counted = 1;
        if (own_thread) srv->n_slow++;
    }
    pthread_mutex_unlock(&srv->mu);
    if (busy) {
        request_free(t);
        return respond_error(q, method, url, 503, "too many slow requests at once (server.slow_threads)", "1", NULL);
    }
    if (own_thread) {
        if (t->deferred) {     /* it may be answered (early) while its handler still runs */
            t->body = q->body; /* t->req.body already points at it */
            q->body = NULL;
            t->w.prev = t->w.next = &t->w;
            t->w.state = MA_D_IDLE;
            t->w.conn = q;
        }
        join_ended(srv, 0); /* the threads of earlier requests that are gone */
        pthread_attr_t at;
        pthread_t th;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 8u << 20);
        q->offloaded = 1;
        MHD_suspend_connection(c); /* resumed by the thread when its response is ready, or by an early answer */
        if (pthread_create(&th, &at, t->deferred ? deferred_main : request_main, t) != 0) {
            t->failed = 1;
            request_main(t); /* answers 503 at once */
        }
        pthread_attr_destroy(&at);
        return MHD_YES;
    }
    ma_http_resp r;
    memset(&r, 0, sizeof r);
    r.status = 200;
    run_handler(t, &r);
    request_free(t);
    if (on_server_thread) atomic_fetch_sub(&srv->n_inline, 1);
    return respond(q, method, url, &r);
}

/* A Content-Length as a number; -1 when it is not one. */
static long long content_length(const char *v)
{
    if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 18) return -1;
    return strtoll(v, NULL, 10);
}

/* The rest of a request's headers, once it is authenticated: a body over limits.request_body. */
static mhd_result after_auth(struct ma_http_conn *q, const char *method, const char *url)
{
    ma_server *srv = q->srv;
    struct MHD_Connection *c = q->c;
    long long n = content_length(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH));
    if (n >= 0 && (unsigned long long)n > srv->c.req_body) {
        q->too_big = 1;
        /* a client that waits for 100 Continue, or one that would send more than is worth reading,
         * is answered at once; any other is answered once its body has been read and dropped */
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        if ((expect && strcasecmp(expect, "100-continue") == 0) || (unsigned long long)n > MAX_DROPPED)
            return dispatch(q, method, url);
    } else if (n > 0) { /* the body's memory is held from the budget before any of it is read */
        if (ma_front_body_reserve(srv, (size_t)n + 1) < 0) {
            q->over_budget = q->close = 1;
            return dispatch(q, method, url);
        }
        q->reserved = (size_t)n + 1;
        q->body_held = 1;
        ma_front_body_begin();
    }
    return MHD_YES;
}

/* A request's line has arrived (libmicrohttpd's URI log callback, before it parses the query): its
 * request starts here, and what it becomes is on_request's *con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    ma_server *srv = cls;
    struct ma_http_conn *q = calloc(1, sizeof *q);
    if (!q) return NULL; /* on_request closes the connection */
    q->srv = srv;
    q->c = c;
    q->li = -1;
    /* the target lies in libmicrohttpd's read buffer, which it cuts up in place right after this */
    ma_front_uri(srv, (char *)(uintptr_t)uri, &q->fr);
    return q;
}

/* The first call of a request: its line and headers have arrived, none of its body has been read. */
static mhd_result on_headers(struct ma_http_conn *q, const char *url, const char *method, const char *version)
{
    ma_server *srv = q->srv;
    struct MHD_Connection *c = q->c;
    q->started = 1;
    q->t0 = ma_now_ns();
    q->path = url;
    ma_front_busy(srv, front_conn(c));
    const char *why = NULL;
    int st = ma_front_check(srv, c, &q->fr, version, &q->path, &why);
    url = q->path;
    q->li = listener_of(srv->reg, url);
    if (st) {
        q->close = 1; /* what follows the headers cannot be trusted to be the next request */
        return respond_error(q, method, url, st, why, NULL, NULL);
    }
    if (header_bytes(c, url, method) > srv->c.header) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request line and headers are larger than the limit of %llu bytes",
                 (unsigned long long)srv->c.header);
        return respond_error(q, method, url, 431, msg, NULL, NULL);
    }
    /* authenticated before any of the body is read: a refused client's body is never buffered */
    if (q->li >= 0 || strcmp(url, "/health") == 0) {
        size_t ai = q->li >= 0 ? (size_t)q->li : srv->reg->n_listeners;
        mhd_result ret = MHD_YES;
        int ar = authenticate(q, method, url, ai, client_subject(srv, c), &ret);
        if (ar < 0) return ret;
        if (ar > 0) return MHD_YES; /* suspended: on_request is called again once it is checked */
    }
    return after_auth(q, method, url);
}

/* Lets go of what q's body held so far (its memory and its share of limits.buffered_bodies); the n
 * bytes just arrived and the rest are counted as dropped. */
static void drop_body(ma_server *srv, struct ma_http_conn *q, size_t n)
{
    q->dropped = q->len + n;
    free(q->body);
    q->body = NULL;
    q->len = q->cap = 0;
    ma_front_body_release(srv, q->reserved);
    q->reserved = 0;
}

static mhd_result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                             const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)c;
    struct ma_http_conn *q = *con_cls;
    if (!q) return MHD_NO; /* on_uri ran out of memory */
    if (!q->started) return on_headers(q, url, method, version);
    ma_server *srv = q->srv;
    url = q->path;
    if (q->auth_wait) { /* resumed: a hashing thread checked the credentials */
        mhd_result ret = MHD_YES;
        if (authenticated(q, method, url, &ret) < 0) {
            if (q->answered) *upload_data_size = 0;
            if (q->answered || !*upload_data_size) return ret; /* else refused: its body is dropped below */
        } else if ((ret = after_auth(q, method, url)) != MHD_YES || q->answered) {
            *upload_data_size = 0;
            return ret;
        }
        if (!*upload_data_size) return MHD_YES; /* libmicrohttpd calls again with the body, then without */
    }
    if (q->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (q->offloaded) { /* resumed: its thread made the response */
        ma_http_resp *r = q->pending;
        q->pending = NULL;
        if (!r) return MHD_NO;
        mhd_result ret = respond(q, method, url, r);
        free(r);
        return ret;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->too_big || q->refused || q->over_budget) { /* dropped; one that goes on long is answered at once */
            q->dropped += n;
            return q->dropped > MAX_DROPPED ? dispatch(q, method, url) : MHD_YES;
        }
        if (q->len + n > srv->c.req_body) {
            q->too_big = 1; /* the rest is read and dropped; the answer is 413 */
            drop_body(srv, q, n);
            return MHD_YES;
        }
        if (q->len + n + 1 > q->cap) { /* bodies of a known length get exactly their size */
            size_t cap = q->reserved >= q->len + n + 1 ? q->reserved : q->cap ? q->cap * 2 : n + 1;
            if (cap < q->len + n + 1) cap = q->len + n + 1;
            if (cap > q->reserved) { /* a chunked body: its memory is held from the budget as it grows */
                if (ma_front_body_reserve(srv, cap - q->reserved) < 0) {
                    q->over_budget = 1; /* the rest is read and dropped; the answer is 503 */
                    drop_body(srv, q, n);
                    return MHD_YES;
                }
                if (!q->body_held) ma_front_body_begin();
                q->body_held = 1;
                q->reserved = cap;
            }
            char *nb = realloc(q->body, cap);
            if (!nb) return MHD_NO;
            q->body = nb;
            q->cap = cap;
        }
        memcpy(q->body + q->len, upload_data, n);
        q->len += n;
        q->body[q->len] = '\0';
        return MHD_YES;
    }
    return dispatch(q, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    ma_server *srv = cls;
    (void)toe;
    struct ma_http_conn *q = *con_cls;
    if (!q) return;
    ma_front_idle(srv, front_conn(c)); /* the next request's headers are timed from its first byte */
    if (q->counted) {                  /* its response is out (or the client went away) */
        pthread_mutex_lock(&srv->mu);
        srv->n_handling--;
        ma_pool_idle_check(srv);
        pthread_mutex_unlock(&srv->mu);
    }
    free(q->body);
    if (q->pending) {
        ma_http_resp_clear(q->pending);
        free(q->pending);
    }
    pass_drop(q);
    if (q->user) MHD_free(q->user);
    ma_front_body_release(srv, q->reserved);
    int held = q->body_held, big = q->big || q->reserved >= 65536;
    free(q);
    *con_cls = NULL;
    if (held) ma_front_body_end(big);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    ma_server *srv = cls;
    if (!ma_front_log_allow(srv)) return; /* a flood of refused connections does not flood the log */
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t l = strlen(msg);
    while (l && (msg[l - 1] == '\n' || msg[l - 1] == '\r')) msg[--l] = '\0';
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"error\":");
    ma_sb_json_str(&b, msg);
    ma_sb_putc(&b, '}');
    ma_log_line(srv, "warning", "http", b.oom ? NULL : b.s);
    ma_sb_free(&b);
}

/* ---- start and stop ------------------------------------------------------------------------------------- */

static mhd_result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    return ma_front_accept(cls) ? MHD_YES : MHD_NO;
}

int ma_http_start(ma_server *srv, ma_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    char why[300];
    if (ma_server_parse_listen(srv->c.listen, &ss, &sl, why, sizeof why) < 0)
        return ma_error_set(err, MA_ERR_CONFIG, "server.listen: %s", why);
    if (ma_mhd_load(err) < 0 || ma_front_start(srv, err) < 0) return -1;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    struct MHD_OptionItem o[20];
    size_t n = 0;
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)ma_front_connection_limit(srv), NULL};
    if (srv->c.per_client)
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)srv->c.per_client, NULL};
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)((srv->c.idle_ms + 999) / 1000), NULL};
    /* per connection: the request line and headers with a record of each field, the response's
     * headers and a read buffer for the body; MHD clears what a request used before the next one */
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)ma_front_pool_size(&srv->c), NULL};
    /* MHD_OPTION_STRICT_FOR_CLIENT stays off: libmicrohttpd 0.9.75 writes the status line and headers
     * of its own 400 twice; server_front.c makes those checks (decision 018) */
    /* one thread more than server.threads: at most that many handle requests at once (dispatch), so
     * one always reads new connections and answers /health */
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)srv->c.threads + 1, NULL};
    if (srv->c.tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
            return ma_error_set(err, MA_ERR_UNSUPPORTED, "this libmicrohttpd was built without TLS");
        size_t l;
        if (!(srv->tls_cert_pem = ma_read_file(srv->c.tls_cert, MAX_TLS_FILE, &l, err))) return -1;
        if (!(srv->tls_key_pem = ma_read_file(srv->c.tls_key, MAX_TLS_FILE, &l, err))) return -1;
        flags |= MHD_USE_TLS;
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert_pem};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem};
        if (srv->c.tls_ca) {
            if (!(srv->tls_ca_pem = ma_read_file(srv->c.tls_ca, MAX_TLS_FILE, &l, err))) return -1;
            o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->tls_ca_pem};
        }
    }
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    srv->mhd =
        MHD_start_daemon(flags, 0, on_accept, srv, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
                         srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
    if (!srv->mhd)
        return ma_error_set(err, MA_ERR_IO, "cannot listen on %s (in use, or not an address of this machine?)",
                            srv->c.listen);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    return 0;
}

void ma_http_quiesce(ma_server *srv)
{
    if (!srv->mhd) return;
    MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
    if (fd != MHD_INVALID_SOCKET) close(fd);
}

void ma_http_stop(ma_server *srv)
{
    if (srv->mhd) MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    ma_front_stop(srv);
    if (srv->pool_started) join_ended(srv, 1); /* the requests' own threads: gone before the server */
}
