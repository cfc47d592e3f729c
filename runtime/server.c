/* server.c - the embedded HTTP server of `miniatom serve` (server.h): libmicrohttpd with a thread pool
 * on epoll, TLS and client certificates through GnuTLS; per-listener authentication, limits, JSON
 * request logs, GET /health, the refcounted deployment snapshot (swapped on SIGHUP), the bounded
 * general-mode worker pool and the execution history. Boomi's Shared Web Server is the model
 * (boomi-atom-semantics.md 3.1-3.2, 4.5): port 9090, 503 over the quota and while shutting down. */
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "history.h"
#include "loader.h"
#include "process.h"
#include "registry.h"
#include "settings.h"
#include "util.h"

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

/* Internal entry points for runtime/serve.c (declared there too; see the report on server.h). */
int ma_server_check_settings(const char *const *kv, const char *const *origin, size_t n);
int ma_server_run(const char *const *kv, const char *const *origin, size_t n);
char *ma_server_hash_token(const char *token, size_t len, unsigned iterations, ma_error *err);
ma_history *ma_server_history(ma_server *srv);

#define HASH_SCHEME "pbkdf2-sha256"
#define HASH_LEN 32
#define AUTH_CACHE 256
#define DRAIN_GRACE_MS 5000 /* after the drain timeout, cancelled executions get this long to stop */
#define MAX_TLS_FILE (1u << 20)
#define LOG_BUF (64u << 10) /* log lines waiting for the log thread */
#define LOG_GATHER_MS 20L   /* how long the log thread gathers lines before one write */
#define MAX_DROPPED (64u << 20) /* a chunked body over the limit is read and dropped up to this */
#define SLOW_PATHS 1024     /* remembered slow request paths */
#define SLOW_PROBE 8

/* ---- the listeners this binary serves --------------------------------------------------------- */

static const ma_listener *const listeners[] = {&ma_listener_wss, &ma_listener_fss};
#define N_LISTENERS (sizeof listeners / sizeof listeners[0])

/* ---- configuration ------------------------------------------------------------------------------ */

enum kind { K_STR, K_DIR, K_FILE, K_LISTEN, K_UINT, K_SIZE, K_DURATION, K_BOOL };

typedef struct key_def {
    const char *key;
    enum kind kind;
    const char *def; /* default as documented (NULL: none) */
    unsigned long long min, max;
} key_def;

static const key_def keys[] = {
    {"server.listen", K_LISTEN, "127.0.0.1:9090", 0, 0},
    {"server.deploy", K_DIR, NULL, 0, 0},
    {"server.data", K_STR, "./data", 0, 0},
    {"server.plugins", K_DIR, NULL, 0, 0},
    {"server.threads", K_UINT, "0", 0, 1024},
    {"server.slow_threads", K_UINT, "256", 1, 100000},
    {"server.slow_after", K_DURATION, "100ms", 1, 3600000ull},
    {"server.idle_timeout", K_DURATION, "60s", 1000, 86400000ull},
    {"server.drain.timeout", K_DURATION, "30s", 0, 3600000ull},
    {"server.tls.cert", K_FILE, NULL, 0, 0},
    {"server.tls.key", K_FILE, NULL, 0, 0},
    {"server.tls.clientca", K_FILE, NULL, 0, 0},
    {"limits.request_body", K_SIZE, "1MB", 0, 1ull << 31},
    {"limits.response_body", K_SIZE, "64MB", 1, 1ull << 32},
    {"limits.header", K_SIZE, "16KB", 1024, 1ull << 20},
    {"limits.connections", K_UINT, "1024", 1, 1000000},
    {"limits.rps", K_UINT, "0", 0, 100000000},
    {"limits.sync_timeout", K_DURATION, "30s", 1, 86400000ull},
    {"workers.threads", K_UINT, "4", 1, 1024},
    {"workers.queue", K_UINT, "64", 1, 1000000},
    {"history.purge_days", K_UINT, "30", 0, 36500},
    {"history.max_doc_bytes", K_SIZE, "1MB", 0, 1ull << 31},
    {"history.max_docs", K_UINT, "1000", 0, 10000000},
    {"log.requests", K_BOOL, "true", 0, 0},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

typedef struct hashed_user {
    char *name;                 /* owned */
    unsigned iterations;
    unsigned char salt[64];
    size_t salt_len;
    unsigned char hash[HASH_LEN];
} hashed_user;

enum auth_mode { AUTH_NONE = 0, AUTH_BASIC, AUTH_CLIENTCERT };

typedef struct auth_cfg {
    enum auth_mode mode;
    hashed_user *users; /* owned array */
    size_t n_users;
    const char **subjects; /* borrowed from the settings */
    size_t n_subjects;
} auth_cfg;

typedef struct cfg {
    const char *listen, *deploy, *data, *plugins; /* borrowed from the settings or static */
    unsigned threads, slow_threads;
    uint64_t idle_ms, drain_ms, sync_ms, slow_ms;
    const char *tls_cert, *tls_key, *tls_ca;
    size_t req_body, resp_body, header;
    unsigned connections, rps, workers, queue;
    ma_history_opts hist;
    int log_requests;
    auth_cfg auth[N_LISTENERS + 1]; /* per listener, then "health" */
} cfg;

/* ---- executions in flight, the worker pool ----------------------------------------------------- */

typedef struct exec_rec {
    struct exec_rec *prev, *next; /* srv->inflight, under srv->mu */
    volatile int cancel;          /* read by the executor (ma_run_opts.cancel) */
    const char *excl_id;          /* component id while an allowSimultaneous="false" process runs
                                     (borrowed from the snapshot the execution holds), else NULL */
} exec_rec;

typedef struct job {
    exec_rec rec;
    pthread_cond_t cv;         /* signalled (under srv->mu) when done */
    int refs;                  /* the waiting caller + the worker; under srv->mu */
    int done, abandoned, keep_running;
    ma_snapshot *snap;         /* owned reference */
    ma_process *proc;          /* borrowed from snap */
    ma_batch input;            /* owned references */
    char **props;              /* owned copies */
    size_t n_props;
    ma_mode mode;
    char trigger[16];
    char exec_id[80];
    int rc;
    ma_error err;
    ma_result res;             /* owned until handed to the caller or to late() */
    ma_server_late_fn late;
    void *user;
} job;

/* The early answer of a deferred request (ma_server_exec.early), armed while its execution runs. */
enum { D_IDLE, D_ARMED, D_ANSWERING, D_ANSWERED, D_DONE };
typedef struct deferral {
    struct deferral *prev, *next; /* srv->timers, sorted by deadline, while D_ARMED; under srv->tmu */
    uint64_t deadline_ns;
    int state;                    /* D_*, under srv->tmu */
    int (*early)(void *user, const char *exec_id, ma_http_resp *resp);
    void *user;
    char exec_id[80];
    struct MHD_Connection *c;     /* borrowed: suspended until it is answered */
    struct rq *q;                 /* borrowed: likewise */
} deferral;

struct ma_snapshot {
    atomic_int refs;
    ma_deploy *dep;            /* owned */
    void *states[N_LISTENERS]; /* owned by each listener (undeploy) */
    int deployed[N_LISTENERS];
    unsigned generation;
    size_t n_processes;
    char loaded_at[32];
};

struct ma_server {
    const char *const *kv; /* the settings (borrowed from serve.c for the server's life) */
    size_t n_kv;
    cfg c;
    ma_registry *reg;      /* owned */
    ma_history *hist;      /* owned */
    char *deploy_dir;      /* owned */

    pthread_mutex_t snap_mu;
    ma_snapshot *snap;     /* the current deployment (one reference) */
    unsigned generation;

    struct MHD_Daemon *mhd;
    char *tls_cert_pem, *tls_key_pem, *tls_ca_pem; /* owned, wiped (key) when freed */
    unsigned port;

    pthread_mutex_t mu;    /* inflight, the queue, jobs, counters */
    pthread_cond_t idle_cv;
    pthread_cond_t pool_cv;
    exec_rec inflight;     /* list head */
    size_t n_inflight, n_handling;
    job **ring;            /* owned: the bounded queue */
    size_t q_head, q_len, q_reserved;
    pthread_t *workers;    /* owned */
    size_t n_workers;
    int stop_workers;

    pthread_mutex_t tmu;   /* the early answers armed (timers) and their states */
    pthread_cond_t tcv, tdone;
    deferral timers;       /* list head */
    pthread_t timer;
    int timer_run, timer_stop;
    atomic_int draining;

    pthread_mutex_t rps_mu;
    double tokens;
    uint64_t rps_last_ns;

    _Atomic uint64_t slow_paths[SLOW_PATHS]; /* request paths that run on their own thread */
    size_t n_slow;          /* such requests now, and deferred ones; under mu */

    pthread_mutex_t log_mu; /* the log: lines are gathered here and written by log_thread */
    pthread_cond_t log_cv, log_room;
    char *log_buf, *log_spare; /* owned, LOG_BUF bytes each */
    size_t log_len;
    int log_run, log_stop;
    pthread_t log_thread;

    pthread_mutex_t auth_mu;
    unsigned char cache_key[32];
    unsigned char cache[AUTH_CACHE][HASH_LEN];
    size_t cache_n, cache_next;
};

/* ---- small helpers ------------------------------------------------------------------------------ */

/* "2026-11-23T20:18:31.275Z" (24 characters); the seconds are formatted once per second per thread. */
static void iso_now(char out[32])
{
    static _Thread_local time_t last = -1;
    static _Thread_local char prefix[24];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != last) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &tm);
        last = ts.tv_sec;
    }
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000);
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

static void write_all(const char *p, size_t len)
{
    for (size_t off = 0; off < len;) { /* one write per call: lines from many threads do not interleave */
        ssize_t w = write(2, p + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
}

static void log_emit(ma_server *srv, const char *line, size_t len);

static void write_line(ma_server *srv, ma_sb *b)
{
    if (b->oom || !b->s) return;
    ma_sb_putc(b, '\n');
    log_emit(srv, b->s, b->len);
}

static void json_str(ma_sb *b, const char *name, const char *v)
{
    ma_sb_printf(b, ",\"%s\":\"", name);
    ma_sb_json_escape(b, v ? v : "", v ? strlen(v) : 0);
    ma_sb_putc(b, '"');
}

/* Logs without a server (before one exists) through the same format. */
static void log_line(ma_server *srv, const char *level, const char *msg, const char *extra_json)
{
    char t[32];
    iso_now(t);
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_printf(&b, "{\"time\":\"%s\"", t);
    json_str(&b, "level", level);
    json_str(&b, "msg", msg);
    if (extra_json) {
        const char *s = extra_json, *e = extra_json + strlen(extra_json);
        while (*s && isspace((unsigned char)*s)) s++;
        while (e > s && isspace((unsigned char)e[-1])) e--;
        if (e - s >= 2 && *s == '{' && e[-1] == '}') {
            s++, e--;
            while (s < e && isspace((unsigned char)*s)) s++;
            if (s < e) {
                ma_sb_putc(&b, ',');
                ma_sb_append(&b, s, (size_t)(e - s));
            }
        } else {
            json_str(&b, "extra", extra_json);
        }
    }
    ma_sb_putc(&b, '}');
    write_line(srv, &b);
    ma_sb_free(&b);
}

void ma_server_log(ma_server *srv, const char *level, const char *msg, const char *extra_json)
{
    log_line(srv, level, msg, extra_json);
}

/* A JSON object text {"error": msg} for log lines. Caller frees. */
static char *extra_error(const char *msg)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "{\"error\":\"");
    ma_sb_json_escape(&b, msg, strlen(msg));
    ma_sb_puts(&b, "\"}");
    return ma_sb_take(&b, NULL);
}

/* The log thread: request threads append complete lines to srv->log_buf and go on; this thread
 * writes what has gathered with one write(2). It wakes at the first line, then gathers for
 * LOG_GATHER_MS (or until the buffer is half full) before writing: under load one wake-up and one
 * write serve hundreds of requests, and a line is never later than that. A full buffer makes the
 * appending thread wait: the log is never dropped and memory stays bounded. */
static void *log_main(void *arg)
{
    ma_server *srv = arg;
    pthread_mutex_lock(&srv->log_mu);
    for (;;) {
        while (!srv->log_len && !srv->log_stop) pthread_cond_wait(&srv->log_cv, &srv->log_mu);
        if (!srv->log_len) break;
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_nsec += LOG_GATHER_MS * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        while (!srv->log_stop && srv->log_len < LOG_BUF / 2)
            if (pthread_cond_timedwait(&srv->log_cv, &srv->log_mu, &dl) == ETIMEDOUT) break;
        char *out = srv->log_buf;
        size_t n = srv->log_len;
        srv->log_buf = srv->log_spare;
        srv->log_spare = out;
        srv->log_len = 0;
        pthread_cond_broadcast(&srv->log_room);
        pthread_mutex_unlock(&srv->log_mu);
        write_all(out, n);
        pthread_mutex_lock(&srv->log_mu);
    }
    pthread_mutex_unlock(&srv->log_mu);
    return NULL;
}

static void log_emit(ma_server *srv, const char *line, size_t len)
{
    if (!srv || !srv->log_run || len > LOG_BUF) {
        write_all(line, len);
        return;
    }
    pthread_mutex_lock(&srv->log_mu);
    while (srv->log_len + len > LOG_BUF && !srv->log_stop) pthread_cond_wait(&srv->log_room, &srv->log_mu);
    if (srv->log_stop) { /* stopping: written directly */
        pthread_mutex_unlock(&srv->log_mu);
        write_all(line, len);
        return;
    }
    size_t was = srv->log_len;
    memcpy(srv->log_buf + srv->log_len, line, len);
    srv->log_len += len;
    /* the log thread waits for the first line, and while gathering for the half-full mark */
    if (!was || (was < LOG_BUF / 2 && srv->log_len >= LOG_BUF / 2)) pthread_cond_signal(&srv->log_cv);
    pthread_mutex_unlock(&srv->log_mu);
}

static void log_start(ma_server *srv)
{
    srv->log_buf = malloc(LOG_BUF);
    srv->log_spare = malloc(LOG_BUF);
    if (srv->log_buf && srv->log_spare && pthread_create(&srv->log_thread, NULL, log_main, srv) == 0) srv->log_run = 1;
}

/* Writes what is pending and stops the log thread; later lines are written directly. The buffers
 * are freed with the server. */
static void log_stop(ma_server *srv)
{
    if (!srv->log_run) return;
    pthread_mutex_lock(&srv->log_mu);
    srv->log_stop = 1;
    pthread_cond_signal(&srv->log_cv);
    pthread_cond_broadcast(&srv->log_room);
    pthread_mutex_unlock(&srv->log_mu);
    pthread_join(srv->log_thread, NULL);
    srv->log_run = 0;
}

static void log_error(ma_server *srv, const char *msg, const char *why)
{
    char *x = extra_error(why);
    log_line(srv, "error", msg, x);
    free(x);
}

static int ct_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
    volatile unsigned char d = 0;
    for (size_t i = 0; i < n; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--) *v++ = 0;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int unhex(const char *s, size_t slen, unsigned char *out, size_t max, size_t *n)
{
    if (slen % 2 || slen / 2 > max) return -1;
    for (size_t i = 0; i < slen / 2; i++) {
        int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
        if (h < 0 || l < 0) return -1;
        out[i] = (unsigned char)(h << 4 | l);
    }
    *n = slen / 2;
    return 0;
}

static void tohex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- values ---------------------------------------------------------------------------------------- */

static int parse_uint(const char *v, unsigned long long *out)
{
    if (!*v || !isdigit((unsigned char)*v)) return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end) return -1;
    *out = x;
    return 0;
}

/* "1MB", "16KB", "512" (bytes); units are powers of 1024. */
static int parse_size(const char *v, unsigned long long *out)
{
    if (!isdigit((unsigned char)*v)) return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno) return -1;
    while (*end == ' ') end++;
    unsigned long long m = 1;
    if (!*end || strcasecmp(end, "B") == 0) m = 1;
    else if (strcasecmp(end, "K") == 0 || strcasecmp(end, "KB") == 0 || strcasecmp(end, "KiB") == 0) m = 1ull << 10;
    else if (strcasecmp(end, "M") == 0 || strcasecmp(end, "MB") == 0 || strcasecmp(end, "MiB") == 0) m = 1ull << 20;
    else if (strcasecmp(end, "G") == 0 || strcasecmp(end, "GB") == 0 || strcasecmp(end, "GiB") == 0) m = 1ull << 30;
    else return -1;
    if (x > ~0ull / m) return -1;
    *out = x * m;
    return 0;
}

/* "30s", "500ms", "2m", "1h" -> milliseconds. The unit is required: a bare number is ambiguous. */
static int parse_duration(const char *v, unsigned long long *out)
{
    if (!isdigit((unsigned char)*v)) return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno) return -1;
    while (*end == ' ') end++;
    unsigned long long m;
    if (strcmp(end, "s") == 0) m = 1000;
    else if (strcmp(end, "ms") == 0) m = 1;
    else if (strcmp(end, "m") == 0) m = 60000;
    else if (strcmp(end, "h") == 0) m = 3600000;
    else return -1;
    if (x > ~0ull / m) return -1;
    *out = x * m;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1")) *out = 1;
    else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0")) *out = 0;
    else return -1;
    return 0;
}

/* "HOST:PORT" or "[V6]:PORT" -> a socket address (getaddrinfo). */
static int parse_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sl, char *why, size_t wl)
{
    char host[256];
    const char *colon, *port;
    if (*v == '[') {
        const char *rb = strchr(v, ']');
        if (!rb || rb[1] != ':') goto bad;
        if ((size_t)(rb - v - 1) >= sizeof host) goto bad;
        memcpy(host, v + 1, (size_t)(rb - v - 1));
        host[rb - v - 1] = '\0';
        port = rb + 2;
    } else {
        colon = strrchr(v, ':');
        if (!colon || colon == v || (size_t)(colon - v) >= sizeof host) goto bad;
        memcpy(host, v, (size_t)(colon - v));
        host[colon - v] = '\0';
        port = colon + 1;
    }
    unsigned long long p;
    if (parse_uint(port, &p) < 0 || p > 65535) goto bad;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(why, wl, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    if (ss) {
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *sl = res->ai_addrlen;
    }
    freeaddrinfo(res);
    return 0;
bad:
    snprintf(why, wl, "expected ADDRESS:PORT (e.g. 127.0.0.1:9090 or [::1]:9090)");
    return -1;
}

/* pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX */
static int parse_hash(const char *v, hashed_user *u)
{
    size_t sl = strlen(HASH_SCHEME);
    if (strncmp(v, HASH_SCHEME, sl) != 0 || v[sl] != '$') return -1;
    const char *it = v + sl + 1, *d1 = strchr(it, '$');
    if (!d1) return -1;
    const char *d2 = strchr(d1 + 1, '$');
    if (!d2 || strchr(d2 + 1, '$')) return -1;
    char num[16];
    if ((size_t)(d1 - it) >= sizeof num) return -1;
    memcpy(num, it, (size_t)(d1 - it));
    num[d1 - it] = '\0';
    unsigned long long iter;
    if (parse_uint(num, &iter) < 0 || iter < 1 || iter > 10000000) return -1;
    u->iterations = (unsigned)iter;
    size_t hl;
    if (unhex(d1 + 1, (size_t)(d2 - d1 - 1), u->salt, sizeof u->salt, &u->salt_len) < 0 || u->salt_len < 8) return -1;
    if (unhex(d2 + 1, strlen(d2 + 1), u->hash, sizeof u->hash, &hl) < 0 || hl != HASH_LEN) return -1;
    return 0;
}

static int pbkdf2(const char *token, size_t len, const unsigned char *salt, size_t salt_len, unsigned iter,
                  unsigned char out[HASH_LEN])
{
    gnutls_datum_t key = {(unsigned char *)(uintptr_t)token, (unsigned)len};
    gnutls_datum_t s = {(unsigned char *)(uintptr_t)salt, (unsigned)salt_len};
    return gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &s, iter, out, HASH_LEN) < 0 ? -1 : 0;
}

char *ma_server_hash_token(const char *token, size_t len, unsigned iterations, ma_error *err)
{
    unsigned char salt[16], h[HASH_LEN];
    if (gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof salt) < 0) {
        ma_error_set(err, MA_ERR_GENERIC, "no random numbers");
        return NULL;
    }
    if (pbkdf2(token, len, salt, sizeof salt, iterations, h) < 0) {
        ma_error_set(err, MA_ERR_GENERIC, "PBKDF2 failed");
        return NULL;
    }
    char sx[2 * sizeof salt + 1], hx[2 * HASH_LEN + 1];
    tohex(salt, sizeof salt, sx);
    tohex(h, HASH_LEN, hx);
    wipe(h, sizeof h);
    char *out = ma_asprintf(HASH_SCHEME "$%u$%s$%s", iterations, sx, hx);
    if (!out) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return out;
}

/* ---- checking the settings ------------------------------------------------------------------------- */

static const key_def *find_key(const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].key, key) == 0) return &keys[i];
    return NULL;
}

/* Index of the auth table for a listener name ("health" is the last). -1 when unknown. */
static int auth_index(const char *name, size_t len)
{
    for (size_t i = 0; i < N_LISTENERS; i++)
        if (strlen(listeners[i]->name) == len && strncmp(listeners[i]->name, name, len) == 0) return (int)i;
    if (len == 6 && strncmp(name, "health", 6) == 0) return (int)N_LISTENERS;
    return -1;
}

/* The listener whose settings ("<name>.*") key is one of, or NULL. */
static const ma_listener *listener_of_key(const char *key)
{
    for (size_t i = 0; i < N_LISTENERS; i++) {
        size_t l = strlen(listeners[i]->name);
        if (strncmp(key, listeners[i]->name, l) == 0 && key[l] == '.' && key[l + 1]) return listeners[i];
    }
    return NULL;
}

static int file_readable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

static int dir_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Checks one "key=value"; fills why and returns -1 when it is not valid. */
static int check_entry(const char *kv, char *why, size_t wl)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        snprintf(why, wl, "expected 'key = value'");
        return -1;
    }
    char key[512];
    if ((size_t)(eq - kv) >= sizeof key) {
        snprintf(why, wl, "key too long");
        return -1;
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    const char *v = eq + 1;
    const key_def *k = find_key(key);
    if (k) {
        unsigned long long x = 0;
        int b;
        switch (k->kind) {
        case K_STR:
            if (!*v) return snprintf(why, wl, "%s: a value is required", key), -1;
            return 0;
        case K_DIR:
            if (!dir_exists(v)) return snprintf(why, wl, "%s: '%s' is not a directory", key, v), -1;
            return 0;
        case K_FILE:
            if (!file_readable(v)) return snprintf(why, wl, "%s: '%s' is not a readable file", key, v), -1;
            return 0;
        case K_LISTEN: {
            char w[300];
            if (parse_listen(v, NULL, NULL, w, sizeof w) < 0) return snprintf(why, wl, "%s: %s", key, w), -1;
            return 0;
        }
        case K_BOOL:
            if (parse_bool(v, &b) < 0) return snprintf(why, wl, "%s: expected true or false, not '%s'", key, v), -1;
            return 0;
        case K_UINT:
            if (parse_uint(v, &x) < 0) return snprintf(why, wl, "%s: expected a whole number, not '%s'", key, v), -1;
            break;
        case K_SIZE:
            if (parse_size(v, &x) < 0)
                return snprintf(why, wl, "%s: expected a size such as 1MB, 16KB or 512, not '%s'", key, v), -1;
            break;
        case K_DURATION:
            if (parse_duration(v, &x) < 0)
                return snprintf(why, wl, "%s: expected a duration with its unit (ms, s, m, h) such as 30s or 500ms, "
                                         "not '%s'", key, v), -1;
            break;
        }
        if (x < k->min || x > k->max)
            return snprintf(why, wl, "%s: '%s' is out of range (%llu to %llu%s)", key, v, k->min, k->max,
                            k->kind == K_SIZE ? " bytes" : k->kind == K_DURATION ? " ms" : ""),
                   -1;
        return 0;
    }
    if (strncmp(key, "auth.", 5) == 0) {
        const char *name = key + 5, *dot = strchr(name, '.');
        if (!dot || auth_index(name, (size_t)(dot - name)) < 0) {
            ma_sb l;
            ma_sb_init(&l);
            for (size_t i = 0; i < N_LISTENERS; i++) ma_sb_printf(&l, "%s, ", listeners[i]->name);
            snprintf(why, wl, "%s: auth.<listener>.* names a listener: %shealth", key, l.s ? l.s : "");
            ma_sb_free(&l);
            return -1;
        }
        const char *rest = dot + 1;
        if (strcmp(rest, "mode") == 0) {
            if (strcmp(v, "none") && strcmp(v, "basic") && strcmp(v, "clientcert"))
                return snprintf(why, wl, "%s: expected none, basic or clientcert, not '%s'", key, v), -1;
            return 0;
        }
        if (strncmp(rest, "user.", 5) == 0 && rest[5]) {
            hashed_user u;
            memset(&u, 0, sizeof u);
            if (parse_hash(v, &u) < 0)
                return snprintf(why, wl, "%s: expected a hashed token (" HASH_SCHEME "$...; make one with "
                                         "'miniatom serve --hash-token'), never the token itself", key),
                       -1;
            return 0;
        }
        if (strncmp(rest, "subject.", 8) == 0 && rest[8]) {
            if (!*v) return snprintf(why, wl, "%s: a subject DN is required", key), -1;
            return 0;
        }
        snprintf(why, wl, "%s: unknown key (auth.<listener>.mode, .user.<name> or .subject.<label>)", key);
        return -1;
    }
    if ((strncmp(key, "connection.", 11) == 0 && key[11]) || (strncmp(key, "connector.map.", 14) == 0 && key[14]))
        return 0; /* deployment settings (docs/configuration.md) */
    const ma_listener *li = listener_of_key(key);
    if (li && li->check_setting) return li->check_setting(key, v, why, wl); /* its own (its documentation) */
    snprintf(why, wl, "%s: unknown key (docs/server.md lists them)", key);
    return -1;
}

static const char *origin_of(const char *const *kv, const char *const *origin, size_t n, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = n; i-- > 0;)
        if (strncmp(kv[i], key, kl) == 0 && kv[i][kl] == '=') return origin ? origin[i] : "--set";
    return "(default)";
}

static void report(int *problems, const char *where, const char *why)
{
    (*problems)++;
    fprintf(stderr, "miniatom: %s: %s\n", where, why);
}

static const char *get(const char *const *kv, size_t n, const char *key)
{
    const char *v = ma_settings_get(kv, n, key);
    if (v) return v;
    const key_def *k = find_key(key);
    return k ? k->def : NULL;
}

static unsigned long long get_num(const char *const *kv, size_t n, const char *key)
{
    const key_def *k = find_key(key);
    const char *v = get(kv, n, key);
    unsigned long long x = 0;
    if (!v) return 0;
    if (k->kind == K_SIZE) parse_size(v, &x);
    else if (k->kind == K_DURATION) parse_duration(v, &x);
    else parse_uint(v, &x);
    return x;
}

static void auth_free(cfg *c)
{
    for (size_t i = 0; i <= N_LISTENERS; i++) {
        for (size_t u = 0; u < c->auth[i].n_users; u++) {
            free(c->auth[i].users[u].name);
            wipe(&c->auth[i].users[u], sizeof c->auth[i].users[u]);
        }
        free(c->auth[i].users);
        free(c->auth[i].subjects);
        memset(&c->auth[i], 0, sizeof c->auth[i]);
    }
}

/* Validates every entry (reporting each problem with where it came from) and fills c from the
 * effective values. Returns the number of problems. */
static int load_cfg(const char *const *kv, const char *const *origin, size_t n, cfg *c)
{
    int problems = 0;
    char why[1200];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < n; i++)
        if (check_entry(kv[i], why, sizeof why) < 0) report(&problems, origin ? origin[i] : "--set", why);
    if (problems) return problems;

    c->listen = get(kv, n, "server.listen");
    c->deploy = get(kv, n, "server.deploy");
    if (!c->deploy) c->deploy = dir_exists("processes") ? "processes" : ".";
    c->data = get(kv, n, "server.data");
    c->plugins = get(kv, n, "server.plugins");
    c->threads = (unsigned)get_num(kv, n, "server.threads");
    if (!c->threads) { /* the cores this process may run on (taskset, cgroups cpusets) */
        cpu_set_t cs;
        long nc = sched_getaffinity(0, sizeof cs, &cs) == 0 ? CPU_COUNT(&cs) : sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = nc > 0 ? (unsigned)nc : 1;
    }
    c->slow_ms = get_num(kv, n, "server.slow_after");
    c->idle_ms = get_num(kv, n, "server.idle_timeout");
    c->drain_ms = get_num(kv, n, "server.drain.timeout");
    c->tls_cert = get(kv, n, "server.tls.cert");
    c->tls_key = get(kv, n, "server.tls.key");
    c->tls_ca = get(kv, n, "server.tls.clientca");
    c->req_body = (size_t)get_num(kv, n, "limits.request_body");
    c->resp_body = (size_t)get_num(kv, n, "limits.response_body");
    c->header = (size_t)get_num(kv, n, "limits.header");
    c->connections = (unsigned)get_num(kv, n, "limits.connections");
    c->rps = (unsigned)get_num(kv, n, "limits.rps");
    c->sync_ms = get_num(kv, n, "limits.sync_timeout");
    c->workers = (unsigned)get_num(kv, n, "workers.threads");
    c->queue = (unsigned)get_num(kv, n, "workers.queue");
    c->slow_threads = (unsigned)get_num(kv, n, "server.slow_threads");
    c->hist.purge_days = (int)get_num(kv, n, "history.purge_days");
    c->hist.max_doc_bytes = (size_t)get_num(kv, n, "history.max_doc_bytes");
    c->hist.max_docs = (size_t)get_num(kv, n, "history.max_docs");
    parse_bool(get(kv, n, "log.requests"), &c->log_requests);

    if (!!c->tls_cert != !!c->tls_key)
        report(&problems, origin_of(kv, origin, n, c->tls_cert ? "server.tls.cert" : "server.tls.key"),
               "server.tls.cert and server.tls.key go together");
    if (c->tls_ca && !c->tls_cert)
        report(&problems, origin_of(kv, origin, n, "server.tls.clientca"),
               "server.tls.clientca needs server.tls.cert and server.tls.key (client certificates need TLS)");
    if (c->tls_cert && c->tls_key && !problems) { /* the pair must load */
        gnutls_certificate_credentials_t cr;
        ma_error e;
        size_t l1, l2, l3;
        char *cert = ma_read_file(c->tls_cert, MAX_TLS_FILE, &l1, &e);
        char *key = cert ? ma_read_file(c->tls_key, MAX_TLS_FILE, &l2, &e) : NULL;
        if (!cert || !key) {
            report(&problems, origin_of(kv, origin, n, cert ? "server.tls.key" : "server.tls.cert"), e.msg);
        } else if (gnutls_certificate_allocate_credentials(&cr) == 0) {
            gnutls_datum_t dc = {(unsigned char *)cert, (unsigned)l1}, dk = {(unsigned char *)key, (unsigned)l2};
            int rc = gnutls_certificate_set_x509_key_mem(cr, &dc, &dk, GNUTLS_X509_FMT_PEM);
            if (rc < 0) {
                snprintf(why, sizeof why,
                         "server.tls.cert %s and server.tls.key %s do not load as a PEM certificate and its key: %s",
                         c->tls_cert, c->tls_key, gnutls_strerror(rc));
                report(&problems, origin_of(kv, origin, n, "server.tls.cert"), why);
            }
            if (c->tls_ca) {
                char *ca = ma_read_file(c->tls_ca, MAX_TLS_FILE, &l3, &e);
                gnutls_datum_t dca = {(unsigned char *)ca, ca ? (unsigned)l3 : 0};
                rc = ca ? gnutls_certificate_set_x509_trust_mem(cr, &dca, GNUTLS_X509_FMT_PEM) : -1;
                if (rc <= 0) {
                    snprintf(why, sizeof why, "server.tls.clientca %s holds no PEM certificate%s%s", c->tls_ca,
                             rc < 0 && ca ? ": " : "", rc < 0 && ca ? gnutls_strerror(rc) : "");
                    report(&problems, origin_of(kv, origin, n, "server.tls.clientca"), why);
                }
                free(ca);
            }
            gnutls_certificate_free_credentials(cr);
        }
        free(cert);
        if (key) wipe(key, l2);
        free(key);
    }

    /* authentication per listener: every distinct auth key, the last value wins */
    for (size_t i = 0; i < n && !problems; i++) {
        if (strncmp(kv[i], "auth.", 5) != 0) continue;
        const char *eq = strchr(kv[i], '=');
        char key[512];
        memcpy(key, kv[i], (size_t)(eq - kv[i]));
        key[eq - kv[i]] = '\0';
        if (ma_settings_get(kv, n, key) != eq + 1) continue; /* overridden later */
        const char *name = key + 5, *dot = strchr(name, '.');
        auth_cfg *a = &c->auth[auth_index(name, (size_t)(dot - name))];
        const char *rest = dot + 1, *v = eq + 1;
        if (strcmp(rest, "mode") == 0) {
            a->mode = !strcmp(v, "basic") ? AUTH_BASIC : !strcmp(v, "clientcert") ? AUTH_CLIENTCERT : AUTH_NONE;
        } else if (strncmp(rest, "user.", 5) == 0) {
            hashed_user *nu = realloc(a->users, (a->n_users + 1) * sizeof *nu);
            if (!nu) return problems + 1;
            a->users = nu;
            memset(&nu[a->n_users], 0, sizeof *nu);
            parse_hash(v, &nu[a->n_users]);
            nu[a->n_users].name = ma_strdup(rest + 5);
            if (!nu[a->n_users].name) return problems + 1;
            a->n_users++;
        } else {
            const char **ns = realloc(a->subjects, (a->n_subjects + 1) * sizeof *ns);
            if (!ns) return problems + 1;
            a->subjects = ns;
            ns[a->n_subjects++] = v;
        }
    }
    for (size_t i = 0; i <= N_LISTENERS && !problems; i++) {
        const char *ln = i < N_LISTENERS ? listeners[i]->name : "health";
        char k[64];
        snprintf(k, sizeof k, "auth.%s.mode", ln);
        if (c->auth[i].mode == AUTH_BASIC && !c->auth[i].n_users) {
            snprintf(why, sizeof why, "%s = basic, but no auth.%s.user.<name> is configured", k, ln);
            report(&problems, origin_of(kv, origin, n, k), why);
        }
        if (c->auth[i].mode == AUTH_CLIENTCERT && !c->tls_ca) {
            snprintf(why, sizeof why, "%s = clientcert needs server.tls.clientca (and server.tls.cert, server.tls.key)", k);
            report(&problems, origin_of(kv, origin, n, k), why);
        }
    }
    return problems;
}

int ma_server_check_settings(const char *const *kv, const char *const *origin, size_t n)
{
    cfg c;
    int problems = load_cfg(kv, origin, n, &c);
    auth_free(&c);
    return problems;
}

/* ---- requests and responses (server.h) ---------------------------------------------------------- */

const char *ma_http_header(const ma_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0) return req->headers[i].value;
    return NULL;
}

const char *ma_http_query(const ma_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].name, name) == 0) return req->query[i].value;
    return NULL;
}

int ma_http_resp_set_owned(ma_http_resp *r, int status, const char *content_type, char *body, size_t len)
{
    char *ct = content_type ? ma_strdup(content_type) : NULL;
    if (content_type && !ct) {
        free(body);
        return -1;
    }
    free(r->body);
    free(r->content_type);
    r->status = status;
    r->content_type = ct;
    r->body = body;
    r->body_len = body ? len : 0;
    return 0;
}

int ma_http_resp_set(ma_http_resp *r, int status, const char *content_type, const char *body, size_t len)
{
    char *b = NULL;
    if (body) {
        b = malloc(len + 1);
        if (!b) return -1;
        memcpy(b, body, len);
        b[len] = '\0';
    }
    return ma_http_resp_set_owned(r, status, content_type, b, len);
}

int ma_http_resp_header(ma_http_resp *r, const char *name, const char *value)
{
    char **nh = realloc(r->headers, (r->n_headers + 1) * sizeof *nh);
    if (!nh) return -1;
    r->headers = nh;
    if (!(nh[r->n_headers] = ma_asprintf("%s: %s", name, value))) return -1;
    r->n_headers++;
    return 0;
}

int ma_http_resp_error(ma_http_resp *r, int status, const char *message, const char *execution_id)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "{\"error\":\"");
    ma_sb_json_escape(&b, message ? message : "", message ? strlen(message) : 0);
    ma_sb_putc(&b, '"');
    if (execution_id && *execution_id) {
        ma_sb_puts(&b, ",\"executionId\":\"");
        ma_sb_json_escape(&b, execution_id, strlen(execution_id));
        ma_sb_putc(&b, '"');
        ma_strlcpy(r->execution_id, execution_id, sizeof r->execution_id);
    }
    ma_sb_puts(&b, "}\n");
    size_t len;
    char *body = ma_sb_take(&b, &len);
    if (!body) return -1;
    return ma_http_resp_set_owned(r, status, "application/json", body, len);
}

static void resp_free(ma_http_resp *r)
{
    free(r->body);
    free(r->content_type);
    for (size_t i = 0; i < r->n_headers; i++) free(r->headers[i]);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

/* ---- snapshots -------------------------------------------------------------------------------------- */

ma_deploy *ma_snapshot_deploy(ma_snapshot *snap) { return snap->dep; }

void *ma_snapshot_listener_state(ma_snapshot *snap, const char *listener_name)
{
    for (size_t i = 0; i < N_LISTENERS; i++)
        if (strcmp(listeners[i]->name, listener_name) == 0) return snap->states[i];
    return NULL;
}

ma_snapshot *ma_snapshot_ref(ma_snapshot *snap)
{
    atomic_fetch_add(&snap->refs, 1);
    return snap;
}

static void snapshot_free(ma_snapshot *s)
{
    for (size_t i = N_LISTENERS; i-- > 0;)
        if (s->deployed[i] && listeners[i]->undeploy) listeners[i]->undeploy(s->states[i]);
    ma_deploy_free(s->dep);
    free(s);
}

void ma_snapshot_unref(ma_snapshot *snap)
{
    if (snap && atomic_fetch_sub(&snap->refs, 1) == 1) snapshot_free(snap);
}

static ma_snapshot *current_snapshot(ma_server *srv)
{
    pthread_mutex_lock(&srv->snap_mu);
    ma_snapshot *s = srv->snap ? ma_snapshot_ref(srv->snap) : NULL;
    pthread_mutex_unlock(&srv->snap_mu);
    return s;
}

/* Loads and compiles the deploy folder and deploys every listener on it. NULL with err (why). */
static ma_snapshot *snapshot_build(ma_server *srv, ma_error *err)
{
    ma_deploy_opts o;
    memset(&o, 0, sizeof o);
    o.settings = srv->kv;
    o.n_settings = srv->n_kv;
    ma_snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->dep = ma_deploy_new(srv->reg, &o);
    if (!s->dep) {
        free(s);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (ma_deploy_add_dir(s->dep, srv->deploy_dir, err) < 0) goto fail;
    size_t bad = ma_deploy_compile(s->dep);
    if (bad) {
        ma_sb b;
        ma_sb_init(&b);
        ma_sb_printf(&b, "%zu process%s not runnable", bad, bad == 1 ? " is" : "es are");
        for (size_t i = 0; i < s->dep->n_problems && i < 5; i++) {
            char *line = ma_problem_format(&s->dep->problems[i]);
            ma_sb_printf(&b, "%s %s", i ? ";" : ":", line ? line : s->dep->problems[i].message);
            free(line);
        }
        if (s->dep->n_problems > 5) ma_sb_printf(&b, "; and %zu more (miniatom check says all)", s->dep->n_problems - 5);
        ma_error_set(err, MA_ERR_CONFIG, "%s", b.s ? b.s : "processes are not runnable");
        ma_sb_free(&b);
        goto fail;
    }
    for (size_t i = 0; i < s->dep->n; i++)
        if (strcmp(s->dep->comps[i]->type, "process") == 0) s->n_processes++;
    for (size_t i = 0; i < N_LISTENERS; i++) {
        if (!listeners[i]->deploy) {
            s->deployed[i] = 1;
            continue;
        }
        if (listeners[i]->deploy(srv, s->dep, &s->states[i], err) < 0) {
            ma_error_prefix(err, "listener %s", listeners[i]->name);
            goto fail;
        }
        s->deployed[i] = 1;
    }
    iso_now(s->loaded_at);
    return s;
fail:
    snapshot_free(s);
    return NULL;
}

/* ---- executions ------------------------------------------------------------------------------------- */

/* tl_inline is set while a server (libmicrohttpd) thread runs a listener's handle(); a wait for the
 * worker pool there sets tl_waited, and that request path is served on a thread of its own from then
 * on, so that waiting requests do not hold the server threads (see dispatch). */
static _Thread_local int tl_inline, tl_waited;
/* Set while a thread handles a deferred request: its early answer (see deferred_main). */
static _Thread_local deferral *tl_defer;
struct rq;
static void set_pending(struct rq *q, ma_http_resp *r);

/* Registers an execution (under srv->mu). Returns -1 with err when the server has stopped or when
 * the process (allowSimultaneous="false") is already running. While draining, requests that were
 * accepted before still run their executions: new requests are refused before they get here. */
static int inflight_add(ma_server *srv, exec_rec *r, const ma_process *proc, ma_error *err)
{
    if (srv->stop_workers) return ma_error_set(err, MA_ERR_LIMIT, "the server has stopped");
    r->excl_id = NULL;
    if (proc->xml && ma_xml_attr_is(proc->xml, "allowSimultaneous", "false")) {
        for (exec_rec *o = srv->inflight.next; o != &srv->inflight; o = o->next)
            if (o->excl_id && strcmp(o->excl_id, proc->comp->id) == 0)
                return ma_error_set(err, MA_ERR_LIMIT,
                                    "process '%s' is already running and does not allow simultaneous executions",
                                    proc->comp->name);
        r->excl_id = proc->comp->id;
    }
    r->cancel = 0;
    r->next = &srv->inflight;
    r->prev = srv->inflight.prev;
    srv->inflight.prev->next = r;
    srv->inflight.prev = r;
    srv->n_inflight++;
    return 0;
}

/* Under srv->mu: wakes a drain waiting for the server to be idle. */
static void idle_check(ma_server *srv)
{
    if (srv->n_inflight == 0 && srv->n_handling == 0 && srv->n_slow == 0) pthread_cond_broadcast(&srv->idle_cv);
}

static void inflight_remove(ma_server *srv, exec_rec *r)
{
    r->prev->next = r->next;
    r->next->prev = r->prev;
    r->prev = r->next = r;
    srv->n_inflight--;
    idle_check(srv);
}

static const char *mode_name(ma_mode m)
{
    return m == MA_MODE_GENERAL ? "general" : m == MA_MODE_BRIDGE ? "bridge" : "low_latency";
}

static void job_free(job *j)
{
    ma_snapshot_unref(j->snap);
    ma_batch_clear(&j->input);
    for (size_t i = 0; i < j->n_props; i++) free(j->props[i]);
    free(j->props);
    ma_result_free(&j->res);
    pthread_cond_destroy(&j->cv);
    free(j);
}

/* Records the start of a general or bridge execution (before it runs, so before its caller is
 * answered); -1 with err when it could not be recorded. */
static int record_begin(ma_server *srv, const char *exec_id, const ma_process *proc, ma_mode mode, const char *trigger,
                        const ma_batch *input, ma_error *err)
{
    if (ma_history_begin(srv->hist, exec_id, proc->comp->id, proc->comp->name, mode_name(mode), trigger, input,
                         mode == MA_MODE_GENERAL, err) == 0)
        return 0;
    ma_error_prefix(err, "the execution could not be recorded");
    return -1;
}

/* Records the end of a general or bridge execution; a failure is logged (the caller's answer stands). */
static void record_end(ma_server *srv, const char *exec_id, const ma_process *proc, const ma_result *res, ma_mode mode)
{
    ma_error herr;
    ma_error_clear(&herr);
    if (ma_history_end(srv->hist, exec_id, proc, res, mode == MA_MODE_GENERAL, &herr) < 0) {
        char *x = ma_asprintf("{\"execution_id\":\"%s\"}", exec_id);
        char *msg = ma_asprintf("the end of an execution was not recorded: %s", herr.msg);
        log_line(srv, "error", msg ? msg : "the end of an execution was not recorded", x);
        free(msg);
        free(x);
    }
}

/* A result saying why an execution could not start (what its record and late() get). */
static void result_error(ma_result *res, const char *exec_id, const ma_error *err)
{
    ma_result_free(res);
    res->status = MA_STATUS_ERROR;
    res->message = ma_strdup(err->msg);
    ma_strlcpy(res->execution_id, exec_id, sizeof res->execution_id);
}

static void run_job(ma_server *srv, job *j)
{
    ma_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.general_mode = j->mode != MA_MODE_LOW_LATENCY;
    ro.data_dir = srv->c.data;
    ro.props = (const char *const *)j->props;
    ro.n_props = j->n_props;
    ro.retry_scale = 1.0;
    ro.cancel = &j->rec.cancel;
    ro.execution_id = j->exec_id;
    ma_error_clear(&j->err);
    j->rc = ma_execute(ma_snapshot_deploy(j->snap), j->proc, &j->input, &ro, &j->res, &j->err);
    if (j->rc < 0) result_error(&j->res, j->exec_id, &j->err); /* it could not start: the record it has says why */
    if (j->mode != MA_MODE_LOW_LATENCY) record_end(srv, j->exec_id, j->proc, &j->res, j->mode); /* low: never recorded */
}

static void *worker_main(void *arg)
{
    ma_server *srv = arg;
    pthread_mutex_lock(&srv->mu);
    for (;;) {
        while (!srv->q_len && !srv->stop_workers) pthread_cond_wait(&srv->pool_cv, &srv->mu);
        if (!srv->q_len) break;
        job *j = srv->ring[srv->q_head];
        srv->q_head = (srv->q_head + 1) % srv->c.queue;
        srv->q_len--;
        pthread_mutex_unlock(&srv->mu);

        run_job(srv, j);

        pthread_mutex_lock(&srv->mu);
        j->done = 1;
        j->rec.excl_id = NULL; /* the process may run again */
        ma_server_late_fn late = NULL;
        void *user = NULL;
        ma_result res;
        memset(&res, 0, sizeof res);
        if (j->abandoned) {
            if (j->keep_running && j->late) {
                late = j->late;
                user = j->user;
                res = j->res;
                memset(&j->res, 0, sizeof j->res);
            }
        } else {
            pthread_cond_signal(&j->cv);
        }
        pthread_mutex_unlock(&srv->mu);
        if (late) late(user, &res); /* it owns the result's contents now */
        pthread_mutex_lock(&srv->mu);
        inflight_remove(srv, &j->rec);
        int last = --j->refs == 0;
        pthread_mutex_unlock(&srv->mu);
        if (last) job_free(j);
        pthread_mutex_lock(&srv->mu);
    }
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

static int copy_props(job *j, const ma_server_exec *o)
{
    if (!o->n_props) return 0;
    j->props = calloc(o->n_props, sizeof *j->props);
    if (!j->props) return -1;
    for (size_t i = 0; i < o->n_props; i++) {
        if (!(j->props[i] = ma_strdup(o->props[i]))) return -1;
        j->n_props++;
    }
    return 0;
}

/* ---- the early answers of deferred requests (the timer thread) ---------------------------------------- */

static void timer_arm(ma_server *srv, deferral *w, const ma_server_exec *o, void *user, const char *exec_id,
                      uint64_t timeout_ms)
{
    w->early = o->early;
    w->user = user;
    ma_strlcpy(w->exec_id, exec_id, sizeof w->exec_id);
    w->deadline_ns = ma_now_ns() + timeout_ms * 1000000ull;
    pthread_mutex_lock(&srv->tmu);
    deferral *p = srv->timers.prev; /* deadlines mostly come in order: look from the end */
    while (p != &srv->timers && p->deadline_ns > w->deadline_ns) p = p->prev;
    w->prev = p;
    w->next = p->next;
    p->next->prev = w;
    p->next = w;
    w->state = D_ARMED;
    if (w->prev == &srv->timers) pthread_cond_signal(&srv->tcv); /* the earliest now */
    pthread_mutex_unlock(&srv->tmu);
}

/* Under srv->tmu: takes w off the list of armed early answers. */
static void timer_unlink(deferral *w)
{
    w->prev->next = w->next;
    w->next->prev = w->prev;
    w->prev = w->next = w;
}

/* Once the execution has ended: 0 when the caller was not answered yet (it will be, by the handler),
 * 1 when the early answer was given (then it waits until that answer is complete). */
static int timer_disarm(ma_server *srv, deferral *w)
{
    pthread_mutex_lock(&srv->tmu);
    if (w->state == D_ARMED) {
        timer_unlink(w);
        w->state = D_DONE;
        pthread_mutex_unlock(&srv->tmu);
        return 0;
    }
    while (w->state != D_ANSWERED) pthread_cond_wait(&srv->tdone, &srv->tmu);
    pthread_mutex_unlock(&srv->tmu);
    return 1;
}

/* Gives the early answers whose deadline has passed: the response goes to the suspended connection,
 * which is resumed; the handler's thread goes on with the execution (timer_disarm). */
static void *timer_main(void *arg)
{
    ma_server *srv = arg;
    pthread_mutex_lock(&srv->tmu);
    while (!srv->timer_stop) {
        deferral *w = srv->timers.next;
        if (w == &srv->timers) {
            pthread_cond_wait(&srv->tcv, &srv->tmu);
            continue;
        }
        uint64_t now = ma_now_ns();
        if (now < w->deadline_ns) {
            struct timespec dl = {(time_t)(w->deadline_ns / 1000000000ull), (long)(w->deadline_ns % 1000000000ull)};
            pthread_cond_timedwait(&srv->tcv, &srv->tmu, &dl);
            continue;
        }
        timer_unlink(w);
        w->state = D_ANSWERING;
        pthread_mutex_unlock(&srv->tmu);
        ma_http_resp *r = calloc(1, sizeof *r); /* owned by the connection's rq once pending */
        if (r) {
            r->status = 200;
            if (w->early(w->user, w->exec_id, r) < 0) {
                resp_free(r);
                ma_http_resp_error(r, 500, "out of memory", w->exec_id);
            }
        }
        struct MHD_Connection *c = w->c;
        set_pending(w->q, r); /* NULL: the connection is closed */
        pthread_mutex_lock(&srv->tmu);
        w->state = D_ANSWERED; /* from here on the handler may free w */
        pthread_cond_broadcast(&srv->tdone);
        pthread_mutex_unlock(&srv->tmu);
        MHD_resume_connection(c);
        pthread_mutex_lock(&srv->tmu);
    }
    pthread_mutex_unlock(&srv->tmu);
    return NULL;
}

/* Runs an execution on this thread: low latency on a server thread, and every mode on the thread of a
 * deferred request (w: its early answer, armed when the caller can be answered before the execution
 * ends). Returns as ma_server_execute. */
static int execute_here(ma_server *srv, ma_snapshot *snap, ma_process *proc, const ma_batch *input,
                        const ma_server_exec *o, uint64_t timeout_ms, ma_result *res, char exec_id[80],
                        ma_server_late_fn late, void *user, deferral *w, ma_error *err)
{
    int low = o->mode == MA_MODE_LOW_LATENCY;
    exec_rec rec;
    memset(&rec, 0, sizeof rec);
    pthread_mutex_lock(&srv->mu);
    int rc = inflight_add(srv, &rec, proc, err);
    pthread_mutex_unlock(&srv->mu);
    if (rc < 0) return -1;
    /* recorded before it runs, and so before the caller is answered */
    if (!low && record_begin(srv, exec_id, proc, o->mode, o->trigger ? o->trigger : "", input, err) < 0) {
        pthread_mutex_lock(&srv->mu);
        inflight_remove(srv, &rec);
        pthread_mutex_unlock(&srv->mu);
        return -1;
    }
    int early = w && w->state == D_IDLE && o->keep_running && late && o->early;
    if (early) timer_arm(srv, w, o, user, exec_id, timeout_ms);
    ma_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.general_mode = !low;
    ro.data_dir = srv->c.data;
    ro.props = o->props;
    ro.n_props = o->n_props;
    ro.retry_scale = 1.0;
    ro.timeout_ms = o->keep_running ? 0 : timeout_ms; /* here, it cannot be left running: it goes on or stops */
    ro.cancel = &rec.cancel;
    ro.execution_id = exec_id;
    rc = ma_execute(ma_snapshot_deploy(snap), proc, input, &ro, res, err);
    if (rc < 0 && (early || !low)) result_error(res, exec_id, err); /* it could not start: say why */
    if (!low) record_end(srv, exec_id, proc, res, o->mode);
    if (early && timer_disarm(srv, w)) { /* the caller got the early answer: late() gets the result */
        pthread_mutex_lock(&srv->mu);
        rec.excl_id = NULL; /* the process may run again */
        pthread_mutex_unlock(&srv->mu);
        late(user, res); /* still in flight meanwhile: a graceful stop waits for the callback */
        memset(res, 0, sizeof *res);
        pthread_mutex_lock(&srv->mu);
        inflight_remove(srv, &rec);
        pthread_mutex_unlock(&srv->mu);
        return 2;
    }
    pthread_mutex_lock(&srv->mu);
    int cancelled = rec.cancel;
    inflight_remove(srv, &rec);
    pthread_mutex_unlock(&srv->mu);
    if (rc < 0) {
        if (early || !low) ma_result_free(res);
        return -1;
    }
    if (!o->keep_running && res->status == MA_STATUS_ABORTED && !cancelled) { /* past the sync timeout */
        ma_result_free(res);
        return 1;
    }
    return 0;
}

int ma_server_handler_deferred(void) { return tl_defer != NULL; }

int ma_server_execute(ma_server *srv, ma_snapshot *snap, ma_process *proc, const ma_batch *input,
                      const ma_server_exec *o, ma_result *res, char exec_id[80], ma_server_late_fn late, void *user,
                      ma_error *err)
{
    ma_execution_id_new(exec_id);
    uint64_t timeout_ms = o->timeout_ms ? o->timeout_ms : srv->c.sync_ms;
    /* A deferred request runs every mode on its own thread. Otherwise low latency runs on the
     * caller's thread, unless it may outlive the caller's wait and the listener gave no early answer:
     * then a worker runs it, in memory, and the caller waits for it as for a general-mode one. Only
     * general and bridge waits mark the path slow; a low-latency one that takes long is marked by
     * server.slow_after. */
    int low = o->mode == MA_MODE_LOW_LATENCY;
    if (tl_defer) return execute_here(srv, snap, proc, input, o, timeout_ms, res, exec_id, late, user, tl_defer, err);
    if (low && (!(o->keep_running && late) || o->early)) /* early: the listener chose not to defer it */
        return execute_here(srv, snap, proc, input, o, timeout_ms, res, exec_id, NULL, NULL, NULL, err);
    if (tl_inline && !low) tl_waited = 1;

    job *j = calloc(1, sizeof *j);
    if (!j) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the deadline below is monotonic */
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    j->refs = 2;
    j->keep_running = o->keep_running;
    j->late = late;
    j->user = user;
    j->snap = ma_snapshot_ref(snap);
    j->proc = proc;
    j->mode = o->mode;
    ma_strlcpy(j->trigger, o->trigger ? o->trigger : "", sizeof j->trigger);
    ma_strlcpy(j->exec_id, exec_id, sizeof j->exec_id);
    ma_batch_init(&j->input);
    for (size_t i = 0; input && i < input->len; i++)
        if (ma_batch_push(&j->input, ma_doc_ref(input->docs[i])) < 0) goto nomem;
    if (copy_props(j, o) < 0) goto nomem;

    pthread_mutex_lock(&srv->mu);
    if (srv->q_len + srv->q_reserved >= srv->c.queue) {
        pthread_mutex_unlock(&srv->mu);
        job_free(j);
        return ma_error_set(err, MA_ERR_LIMIT, "the general-mode queue is full (%u executions waiting)", srv->c.queue);
    }
    if (inflight_add(srv, &j->rec, proc, err) < 0) {
        pthread_mutex_unlock(&srv->mu);
        job_free(j);
        return -1;
    }
    srv->q_reserved++;
    pthread_mutex_unlock(&srv->mu);

    /* recorded before it runs, and so before the caller is answered */
    if (!low && record_begin(srv, exec_id, proc, o->mode, j->trigger, &j->input, err) < 0) {
        pthread_mutex_lock(&srv->mu);
        srv->q_reserved--;
        inflight_remove(srv, &j->rec);
        pthread_mutex_unlock(&srv->mu);
        job_free(j);
        return -1;
    }

    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += (time_t)(timeout_ms / 1000);
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;

    pthread_mutex_lock(&srv->mu);
    srv->q_reserved--;
    srv->ring[(srv->q_head + srv->q_len) % srv->c.queue] = j;
    srv->q_len++;
    pthread_cond_signal(&srv->pool_cv);
    while (!j->done)
        if (pthread_cond_timedwait(&j->cv, &srv->mu, &dl) == ETIMEDOUT) break;
    int rc;
    if (j->done) {
        rc = j->rc;
        if (rc == 0) {
            *res = j->res;
            memset(&j->res, 0, sizeof j->res);
        } else if (err) {
            *err = j->err;
        }
    } else {
        j->abandoned = 1;
        if (!j->keep_running) __atomic_store_n(&j->rec.cancel, 1, __ATOMIC_RELAXED); /* read by the executor */
        rc = 1;
    }
    int last = --j->refs == 0;
    pthread_mutex_unlock(&srv->mu);
    if (last) job_free(j);
    return rc;
nomem:
    job_free(j);
    return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
}

/* ---- server accessors ------------------------------------------------------------------------------- */

const char *ma_server_setting(const ma_server *srv, const char *key)
{
    return ma_settings_get(srv->kv, srv->n_kv, key);
}

const char *ma_server_data_dir(const ma_server *srv) { return srv->c.data; }

ma_history *ma_server_history(ma_server *srv) { return srv->hist; }

/* ---- HTTP ------------------------------------------------------------------------------------------- */

typedef struct rq {        /* one request (MHD's con_cls); freed when it completes */
    uint64_t t0;
    char *body;            /* owned */
    size_t len, cap;
    int too_big;
    size_t dropped;        /* body bytes read and dropped after too_big */
    int answered;          /* a response is queued: whatever else arrives is dropped */
    int offloaded;         /* handled on a thread of its own; the connection is suspended meanwhile */
    ma_http_resp *pending; /* owned: the response that thread made (NULL: out of memory) */
    char *user;            /* owned (MHD_free): the authenticated user */
    int counted;           /* in srv->n_handling until its response has been sent (on_completed) */
    char remote[80];       /* "addr:port" of the client, "" until rq_remote() */
} rq;

/* The response a suspended connection sends when it is resumed (owned by q from here on). */
static void set_pending(rq *q, ma_http_resp *r) { q->pending = r; }

typedef struct conn_tls {  /* one TLS connection (MHD's socket context) */
    int checked;
    char *subject;         /* owned: verified client certificate subject DN, or NULL */
} conn_tls;

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
static ma_pair *get_pairs(struct MHD_Connection *c, enum MHD_ValueKind kind, size_t *n, size_t *bytes)
{
    pairs p = {NULL, 0, 0, 0};
    MHD_get_connection_values(c, kind, collect, &p);
    *bytes = p.bytes;
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
    do d[n++] = (char)('0' + v % 10); while (v /= 10);
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
static const char *rq_remote(rq *q, struct MHD_Connection *c)
{
    if (!q->remote[0]) remote_of(c, q->remote, sizeof q->remote);
    return q->remote;
}

/* Appends ,"name":"value" JSON-escaped to a fixed buffer; a value longer than max is cut and marked
 * with "...". Returns the new length (the buffer has room: see log_request). */
static size_t put_field(char *buf, size_t len, const char *name, const char *v, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t nl = strlen(name);
    buf[len++] = ',';
    buf[len++] = '"';
    memcpy(buf + len, name, nl);
    len += nl;
    memcpy(buf + len, "\":\"", 3);
    len += 3;
    size_t i = 0;
    for (; i < max && v[i]; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch == '"' || ch == '\\') {
            buf[len++] = '\\';
            buf[len++] = (char)ch;
        } else if (ch < 0x20) {
            memcpy(buf + len, "\\u00", 4);
            buf[len + 4] = hex[ch >> 4];
            buf[len + 5] = hex[ch & 15];
            len += 6;
        } else {
            buf[len++] = (char)ch;
        }
    }
    if (v[i]) {
        memcpy(buf + len, "...", 3);
        len += 3;
    }
    buf[len++] = '"';
    return len;
}

/* The request log line: built in one buffer, written with one write(2). Every field is bounded
 * (6 bytes per escaped character at most), so the buffer cannot overflow. */
static void log_request(ma_server *srv, rq *q, const char *method, const char *path, const ma_http_resp *r,
                        struct MHD_Connection *c, const char *user)
{
    if (!srv->c.log_requests) return;
    char buf[256 + 6 * (32 + 1024 + 80 + 80 + 128)], t[32];
    iso_now(t);
    const char *remote = rq_remote(q, c);
    static const char head[] = "{\"time\":\"", tail[] = "\",\"level\":\"info\",\"msg\":\"request\"";
    size_t len = 0, tl = strlen(t);
    memcpy(buf, head, sizeof head - 1);
    len += sizeof head - 1;
    memcpy(buf + len, t, tl);
    len += tl;
    memcpy(buf + len, tail, sizeof tail - 1);
    len += sizeof tail - 1;
    len = put_field(buf, len, "method", method, 32);
    len = put_field(buf, len, "path", path, 1024);
    uint64_t us = (ma_now_ns() - q->t0) / 1000;
    static const char st[] = ",\"status\":", du[] = ",\"duration_ms\":";
    memcpy(buf + len, st, sizeof st - 1);
    char *p = put_uint(buf + len + sizeof st - 1, (unsigned)r->status); /* 100-599 */
    memcpy(p, du, sizeof du - 1);
    p = put_uint(p + sizeof du - 1, us / 1000);
    *p++ = '.';
    *p++ = (char)('0' + us % 1000 / 100);
    *p++ = (char)('0' + us % 100 / 10);
    *p++ = (char)('0' + us % 10);
    len = (size_t)(p - buf);
    if (r->execution_id[0]) len = put_field(buf, len, "execution_id", r->execution_id, 80);
    len = put_field(buf, len, "remote", remote, 80);
    if (user) len = put_field(buf, len, "user", user, 128);
    buf[len++] = '}';
    buf[len++] = '\n';
    log_emit(srv, buf, len);
}

/* Sends r (its body is handed to MHD), logs the request, frees r. */
static mhd_result respond(ma_server *srv, struct MHD_Connection *c, rq *q, const char *method, const char *path,
                          ma_http_resp *r, const char *user)
{
    if (r->body_len > srv->c.resp_body) {
        char msg[160];
        snprintf(msg, sizeof msg, "the response body is larger than the limit of %zu bytes", srv->c.resp_body);
        char eid[80];
        ma_strlcpy(eid, r->execution_id, sizeof eid);
        resp_free(r);
        if (ma_http_resp_error(r, 503, msg, eid) < 0) return MHD_NO;
    }
    if (!r->status) r->status = 200;
    if (r->status < 100 || r->status > 599) { /* a listener's mistake: never an invalid status line */
        char eid[80];
        ma_strlcpy(eid, r->execution_id, sizeof eid);
        resp_free(r);
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
        resp_free(r);
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
    if (atomic_load(&srv->draining)) MHD_add_response_header(mr, "Connection", "close");
    mhd_result ret = MHD_queue_response(c, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    q->answered = 1;
    log_request(srv, q, method, path, r, c, user);
    resp_free(r);
    return ret;
}

static mhd_result respond_error(ma_server *srv, struct MHD_Connection *c, rq *q, const char *method, const char *path,
                                int status, const char *msg)
{
    ma_http_resp r;
    memset(&r, 0, sizeof r);
    if (ma_http_resp_error(&r, status, msg, NULL) < 0) return MHD_NO;
    return respond(srv, c, q, method, path, &r, NULL);
}

static int rps_allow(ma_server *srv)
{
    if (!srv->c.rps) return 1;
    pthread_mutex_lock(&srv->rps_mu);
    uint64_t now = ma_now_ns();
    srv->tokens += (double)(now - srv->rps_last_ns) * srv->c.rps / 1e9;
    if (srv->tokens > srv->c.rps) srv->tokens = srv->c.rps;
    srv->rps_last_ns = now;
    int ok = srv->tokens >= 1.0;
    if (ok) srv->tokens -= 1.0;
    pthread_mutex_unlock(&srv->rps_mu);
    return ok;
}

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
    gnutls_session_t s = ci ? (gnutls_session_t)ci->tls_session : NULL;
    if (!s) return NULL;
    unsigned status = 1, n = 0;
    if (gnutls_certificate_verify_peers2(s, &status) < 0 || status != 0) return NULL;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
    if (!certs || !n) return NULL;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) return NULL;
    gnutls_datum_t dn = {NULL, 0};
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 && gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
        ct->subject = ma_strndup((const char *)dn.data, dn.size);
        gnutls_free(dn.data);
    }
    gnutls_x509_crt_deinit(crt);
    return ct->subject;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    (void)c;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(conn_tls)); /* NULL: no subject for this connection */
    } else {
        conn_tls *ct = *socket_context;
        if (ct) free(ct->subject);
        free(ct);
        *socket_context = NULL;
    }
}

/* Basic authentication of user/password against a listener's users. */
static int basic_ok(ma_server *srv, int li, const auth_cfg *a, const char *user, const char *pass)
{
    size_t ul = strlen(user), pl = strlen(pass);
    unsigned char mac[HASH_LEN];
    char *text = malloc(ul + pl + 8);
    if (!text) return 0;
    int tl = snprintf(text, ul + pl + 8, "%d%c%s%c%s", li, 0, user, 0, pass);
    gnutls_hmac_fast(GNUTLS_MAC_SHA256, srv->cache_key, sizeof srv->cache_key, text, (size_t)tl, mac);
    wipe(text, (size_t)tl);
    free(text);
    int hit = 0;
    pthread_mutex_lock(&srv->auth_mu);
    for (size_t i = 0; i < srv->cache_n; i++) hit |= ct_equal(srv->cache[i], mac, HASH_LEN);
    pthread_mutex_unlock(&srv->auth_mu);
    if (hit) return 1;
    const hashed_user *u = NULL;
    for (size_t i = 0; i < a->n_users; i++)
        if (!u && strcmp(a->users[i].name, user) == 0) u = &a->users[i];
    const hashed_user *check = u ? u : &a->users[0]; /* an unknown user costs the same time */
    unsigned char h[HASH_LEN];
    if (pbkdf2(pass, pl, check->salt, check->salt_len, check->iterations, h) < 0) return 0;
    int ok = ct_equal(h, check->hash, HASH_LEN) && u != NULL;
    wipe(h, sizeof h);
    if (ok) {
        pthread_mutex_lock(&srv->auth_mu);
        memcpy(srv->cache[srv->cache_next], mac, HASH_LEN);
        srv->cache_next = (srv->cache_next + 1) % AUTH_CACHE;
        if (srv->cache_n < AUTH_CACHE) srv->cache_n++;
        pthread_mutex_unlock(&srv->auth_mu);
    }
    return ok;
}

/* 0 authenticated (*user set, caller frees with MHD_free), -1 refused (response queued in *ret). */
static int authenticate(ma_server *srv, struct MHD_Connection *c, rq *q, const char *method, const char *url, int li,
                        const char *subject, char **user, mhd_result *ret)
{
    const auth_cfg *a = &srv->c.auth[li];
    *user = NULL;
    if (a->mode == AUTH_NONE) return 0;
    if (a->mode == AUTH_CLIENTCERT) {
        int ok = subject != NULL;
        if (ok && a->n_subjects) {
            ok = 0;
            for (size_t i = 0; i < a->n_subjects; i++)
                if (strcmp(a->subjects[i], subject) == 0) ok = 1;
        }
        if (ok) return 0;
        *ret = respond_error(srv, c, q, method, url, 403,
                             subject ? "this client certificate is not allowed here" : "a valid client certificate is required");
        return -1;
    }
    char *pass = NULL;
    char *u = MHD_basic_auth_get_username_password(c, &pass);
    int ok = u && pass && basic_ok(srv, li, a, u, pass);
    if (pass) {
        wipe(pass, strlen(pass));
        MHD_free(pass);
    }
    if (ok) {
        *user = u;
        return 0;
    }
    if (u) MHD_free(u);
    ma_http_resp r;
    memset(&r, 0, sizeof r);
    if (ma_http_resp_error(&r, 401, "authentication is required", NULL) < 0 ||
        ma_http_resp_header(&r, "WWW-Authenticate", "Basic realm=\"miniatom\"") < 0) {
        resp_free(&r);
        *ret = MHD_NO;
        return -1;
    }
    *ret = respond(srv, c, q, method, url, &r, NULL);
    return -1;
}

static mhd_result health(ma_server *srv, struct MHD_Connection *c, rq *q, const char *method, const char *url,
                         const char *user)
{
    ma_http_resp r;
    memset(&r, 0, sizeof r);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        if (ma_http_resp_error(&r, 405, "GET /health only", NULL) < 0 || ma_http_resp_header(&r, "Allow", "GET, HEAD") < 0) {
            resp_free(&r);
            return MHD_NO;
        }
        return respond(srv, c, q, method, url, &r, user);
    }
    int draining = atomic_load(&srv->draining);
    ma_snapshot *s = current_snapshot(srv);
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_printf(&b, "{\"status\":\"%s\",\"deployment\":{\"folder\":\"", draining ? "draining" : "ok");
    ma_sb_json_escape(&b, srv->deploy_dir, strlen(srv->deploy_dir));
    ma_sb_printf(&b, "\",\"generation\":%u,\"loaded\":\"%s\"},\"processes\":%zu}\n", s ? s->generation : 0,
                 s ? s->loaded_at : "", s ? s->n_processes : 0);
    ma_snapshot_unref(s);
    size_t len;
    char *body = ma_sb_take(&b, &len);
    if (!body || ma_http_resp_set_owned(&r, draining ? 503 : 200, "application/json", body, len) < 0 ||
        ma_http_resp_header(&r, "Cache-Control", "no-store") < 0) {
        resp_free(&r);
        return MHD_NO;
    }
    return respond(srv, c, q, method, url, &r, user);
}

static int is_true(const char *v) { return v && strcasecmp(v, "true") == 0; }

/* ---- listener requests: inline on the server thread, or on a thread of their own ------------------ */

typedef struct request {   /* one listener request being handled */
    ma_server *srv;
    struct MHD_Connection *c;
    rq *q;                 /* borrowed: the connection's request */
    int li;                /* the listener */
    ma_http_req req;
    ma_pair *hs, *qs;      /* owned arrays of borrowed pairs */
    char remote[80];
    uint64_t key;          /* the request path's key in srv->slow_paths */
    ma_snapshot *snap;     /* owned reference */
    int failed;            /* no thread could be started */
    int deferred;          /* handled on a thread of its own that may be answered early (deferred_main) */
    char *body;            /* owned: the body, when deferred (taken from q) */
    deferral w;            /* deferred: its early answer */
} request;

static void request_free(request *t)
{
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

static int is_slow_path(ma_server *srv, uint64_t key)
{
    for (size_t i = 0; i < SLOW_PROBE; i++)
        if (atomic_load_explicit(&srv->slow_paths[(key + i) % SLOW_PATHS], memory_order_relaxed) == key) return 1;
    return 0;
}

static void mark_slow_path(ma_server *srv, uint64_t key)
{
    if (is_slow_path(srv, key)) return;
    for (size_t i = 0; i < SLOW_PROBE; i++) {
        uint64_t zero = 0;
        if (atomic_compare_exchange_strong(&srv->slow_paths[(key + i) % SLOW_PATHS], &zero, key)) return;
    }
    atomic_store(&srv->slow_paths[key % SLOW_PATHS], key); /* full: the oldest neighbour goes */
}

/* Runs the listener's handle() for t into r (a 500 when it ran out of memory). A request that waited
 * for the worker pool or took longer than server.slow_after marks its path slow. */
static void run_handler(request *t, ma_http_resp *r)
{
    ma_server *srv = t->srv;
    uint64_t t0 = ma_now_ns();
    tl_inline = 1;
    tl_waited = 0;
    int hrc = listeners[t->li]->handle(srv, t->snap, t->snap->states[t->li], &t->req, r);
    tl_inline = 0;
    if (!t->deferred) { /* deferred: q may be gone (an early answer) and the body goes with t */
        if (!t->req.debug && (tl_waited || ma_now_ns() - t0 > srv->c.slow_ms * 1000000ull)) mark_slow_path(srv, t->key);
        free(t->q->body); /* the body is no longer needed */
        t->q->body = NULL;
    }
    if (hrc < 0) {
        char eid[80];
        ma_strlcpy(eid, r->execution_id, sizeof eid);
        resp_free(r);
        ma_http_resp_error(r, 500, "out of memory", eid[0] ? eid : NULL);
    }
}

static void *request_main(void *arg)
{
    request *t = arg;
    ma_server *srv = t->srv;
    struct MHD_Connection *c = t->c;
    ma_http_resp *r = calloc(1, sizeof *r);
    if (r && t->failed) {
        ma_http_resp_error(r, 503, "no thread could be started for this request", NULL);
    } else if (r) {
        r->status = 200;
        run_handler(t, r);
    }
    t->q->pending = r; /* the connection is suspended: nothing else touches q */
    request_free(t);
    pthread_mutex_lock(&srv->mu);
    srv->n_slow--;
    pthread_mutex_unlock(&srv->mu);
    /* on_request sends the response; once it has, the server may stop: srv is not touched after this */
    MHD_resume_connection(c);
    return NULL;
}

/* A deferred request, on a thread of its own: its handler runs here while the connection waits
 * suspended; the timer may answer it early (then the handler's response is dropped and q is not
 * touched). The thread stays counted in n_slow until it ends, so that a drain waits for it. */
static void *deferred_main(void *arg)
{
    request *t = arg;
    ma_server *srv = t->srv;
    struct MHD_Connection *c = t->c;
    rq *q = t->q;
    ma_http_resp *r = calloc(1, sizeof *r);
    if (r) {
        r->status = 200;
        tl_defer = &t->w;
        run_handler(t, r);
        tl_defer = NULL;
    }
    int answered = t->w.state == D_ANSWERED; /* set before this thread's timer_disarm returned */
    request_free(t);
    if (answered) {
        if (r) resp_free(r);
        free(r);
    } else {
        q->pending = r; /* NULL: the connection is closed */
        MHD_resume_connection(c); /* counted in n_handling until it is sent: srv stays */
    }
    pthread_mutex_lock(&srv->mu);
    srv->n_slow--;
    idle_check(srv);
    pthread_mutex_unlock(&srv->mu); /* srv is not touched after this */
    return NULL;
}

static mhd_result dispatch(ma_server *srv, struct MHD_Connection *c, rq *q, const char *method, const char *url)
{
    if (q->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body is larger than the limit of %zu bytes", srv->c.req_body);
        return respond_error(srv, c, q, method, url, 400, msg);
    }
    if (strcmp(url, "/health") == 0) {
        mhd_result ret = MHD_YES;
        char *user = NULL;
        if (authenticate(srv, c, q, method, url, (int)N_LISTENERS, client_subject(srv, c), &user, &ret) < 0) return ret;
        ret = health(srv, c, q, method, url, user);
        if (user) MHD_free(user);
        return ret;
    }
    if (atomic_load(&srv->draining)) return respond_error(srv, c, q, method, url, 503, "the server is shutting down");
    if (!rps_allow(srv)) {
        ma_http_resp r;
        memset(&r, 0, sizeof r);
        if (ma_http_resp_error(&r, 503, "too many requests per second", NULL) < 0 ||
            ma_http_resp_header(&r, "Retry-After", "1") < 0) {
            resp_free(&r);
            return MHD_NO;
        }
        return respond(srv, c, q, method, url, &r, NULL);
    }
    int li = -1;
    for (size_t i = 0; i < N_LISTENERS && li < 0; i++) {
        const char *p = listeners[i]->prefix;
        size_t pl = strlen(p);
        if (strncmp(url, p, pl) == 0 || (pl > 1 && p[pl - 1] == '/' && strlen(url) == pl - 1 && strncmp(url, p, pl - 1) == 0))
            li = (int)i;
    }
    if (li < 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "nothing is served at this path (listeners: /ws/, /fs/; health: /health)");
        return respond_error(srv, c, q, method, url, 404, msg);
    }
    const char *subject = client_subject(srv, c);
    mhd_result ret = MHD_YES;
    if (authenticate(srv, c, q, method, url, li, subject, &q->user, &ret) < 0) return ret;

    request *t = calloc(1, sizeof *t);
    if (!t) return MHD_NO;
    t->srv = srv;
    t->c = c;
    t->q = q;
    t->li = li;
    size_t bytes;
    t->hs = get_pairs(c, MHD_HEADER_KIND, &t->req.n_headers, &bytes);
    t->qs = get_pairs(c, MHD_GET_ARGUMENT_KIND, &t->req.n_query, &bytes);
    ma_strlcpy(t->remote, rq_remote(q, c), sizeof t->remote);
    t->req.method = method; /* method, url, headers and query live in the connection's memory */
    t->req.path = url;
    t->req.body = q->body ? q->body : "";
    t->req.body_len = q->len;
    t->req.headers = t->hs;
    t->req.query = t->qs;
    t->req.remote_addr = t->remote;
    t->req.user = q->user;
    t->req.client_subject = subject;
    t->req.debug = is_true(ma_http_header(&t->req, "X-Boomi-Debug")) || is_true(ma_http_query(&t->req, "_boomi_debug"));
    t->key = path_key(li, url);
    t->snap = current_snapshot(srv);
    int defer = listeners[li]->deferrable ? listeners[li]->deferrable(t->snap->states[li], &t->req) : 0;
    int slow = is_slow_path(srv, t->key);
    t->deferred = defer == 1 || (defer == 2 && slow);

    pthread_mutex_lock(&srv->mu);
    int own_thread = t->deferred || slow, busy = own_thread && srv->n_slow >= srv->c.slow_threads;
    if (!busy) {
        srv->n_handling++;
        q->counted = 1;
        if (own_thread) srv->n_slow++;
    }
    pthread_mutex_unlock(&srv->mu);
    if (busy) {
        request_free(t);
        ma_http_resp r;
        memset(&r, 0, sizeof r);
        if (ma_http_resp_error(&r, 503, "too many slow requests at once (server.slow_threads)", NULL) < 0 ||
            ma_http_resp_header(&r, "Retry-After", "1") < 0) {
            resp_free(&r);
            return MHD_NO;
        }
        return respond(srv, c, q, method, url, &r, q->user);
    }
    if (own_thread) {
        if (t->deferred) { /* it may be answered (early) while its handler still runs */
            t->body = q->body; /* t->req.body already points at it */
            q->body = NULL;
            t->w.prev = t->w.next = &t->w;
            t->w.state = D_IDLE;
            t->w.c = c;
            t->w.q = q;
        }
        pthread_attr_t at;
        pthread_t th;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
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
    return respond(srv, c, q, method, url, &r, q->user);
}

static mhd_result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                             const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    ma_server *srv = cls;
    rq *q = *con_cls;
    if (!q) { /* the headers have arrived */
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        q->t0 = ma_now_ns();
        *con_cls = q;
        if (header_bytes(c, url, method) > srv->c.header) {
            char msg[128];
            snprintf(msg, sizeof msg, "the request line and headers are larger than the limit of %zu bytes", srv->c.header);
            return respond_error(srv, c, q, method, url, 431, msg);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long n;
        if (cl && parse_uint(cl, &n) == 0 && n > srv->c.req_body) {
            q->too_big = 1;
            return dispatch(srv, c, q, method, url); /* answered at once: the body is not read */
        }
        return MHD_YES;
    }
    if (q->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (q->offloaded) { /* resumed: its thread made the response */
        ma_http_resp *r = q->pending;
        q->pending = NULL;
        if (!r) return MHD_NO;
        mhd_result ret = respond(srv, c, q, method, url, r, q->user);
        free(r);
        return ret;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->too_big) { /* dropped; a client that goes on for long is cut off */
            q->dropped += n;
            return q->dropped > MAX_DROPPED ? MHD_NO : MHD_YES;
        }
        if (q->len + n > srv->c.req_body) {
            q->too_big = 1; /* the rest is read and dropped; the answer is 400 */
            free(q->body);
            q->body = NULL;
            q->len = q->cap = 0;
            return MHD_YES;
        }
        if (q->len + n + 1 > q->cap) { /* small bodies get exactly their size (no large-bin mallocs) */
            size_t cap = q->cap ? q->cap * 2 : n + 1;
            if (cap < q->len + n + 1) cap = q->len + n + 1;
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
    return dispatch(srv, c, q, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    ma_server *srv = cls;
    (void)c;
    (void)toe;
    rq *q = *con_cls;
    if (!q) return;
    if (q->counted) { /* its response is out (or the client went away) */
        pthread_mutex_lock(&srv->mu);
        srv->n_handling--;
        idle_check(srv);
        pthread_mutex_unlock(&srv->mu);
    }
    free(q->body);
    if (q->pending) {
        resp_free(q->pending);
        free(q->pending);
    }
    if (q->user) MHD_free(q->user);
    free(q);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    ma_server *srv = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t l = strlen(msg);
    while (l && (msg[l - 1] == '\n' || msg[l - 1] == '\r')) msg[--l] = '\0';
    char *x = extra_error(msg);
    log_line(srv, "warning", "http", x);
    free(x);
}

/* ---- start, signals, drain, stop -------------------------------------------------------------------- */

static int start_http(ma_server *srv, ma_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    char why[300];
    if (parse_listen(srv->c.listen, &ss, &sl, why, sizeof why) < 0)
        return ma_error_set(err, MA_ERR_CONFIG, "server.listen: %s", why);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    struct MHD_OptionItem o[16];
    size_t n = 0;
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)srv->c.connections, NULL};
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)((srv->c.idle_ms + 999) / 1000), NULL};
    /* per connection: the request line and headers, the response's headers and a read buffer for
     * the body; MHD clears what a request used before the next one on the connection */
    size_t mem = srv->c.header + 8192;
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)mem, NULL};
    if (srv->c.threads > 1) o[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)srv->c.threads, NULL};
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
    if (srv->tls_ca_pem)
        srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                                    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
                                    on_connection, srv, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
    else
        srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                                    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
    if (!srv->mhd)
        return ma_error_set(err, MA_ERR_IO, "cannot listen on %s (in use, or not an address of this machine?)",
                            srv->c.listen);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    return 0;
}

static int start_workers(ma_server *srv, ma_error *err)
{
    srv->ring = calloc(srv->c.queue, sizeof *srv->ring);
    srv->workers = calloc(srv->c.workers, sizeof *srv->workers);
    if (!srv->ring || !srv->workers) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (pthread_create(&srv->timer, NULL, timer_main, srv) != 0)
        return ma_error_set(err, MA_ERR_GENERIC, "cannot start the timer thread");
    srv->timer_run = 1;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 8u << 20); /* executions recurse through subprocesses */
    for (unsigned i = 0; i < srv->c.workers; i++) {
        if (pthread_create(&srv->workers[i], &at, worker_main, srv) != 0) {
            pthread_attr_destroy(&at);
            return ma_error_set(err, MA_ERR_GENERIC, "cannot start worker threads");
        }
        srv->n_workers++;
    }
    pthread_attr_destroy(&at);
    return 0;
}

static void stop_workers(ma_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    srv->stop_workers = 1;
    pthread_cond_broadcast(&srv->pool_cv);
    pthread_mutex_unlock(&srv->mu);
    for (size_t i = 0; i < srv->n_workers; i++) pthread_join(srv->workers[i], NULL);
    srv->n_workers = 0;
    if (srv->timer_run) { /* after the workers: none of them waits for an early answer now */
        pthread_mutex_lock(&srv->tmu);
        srv->timer_stop = 1;
        pthread_cond_signal(&srv->tcv);
        pthread_mutex_unlock(&srv->tmu);
        pthread_join(srv->timer, NULL);
        srv->timer_run = 0;
    }
}

static void *recover_main(void *arg)
{
    ma_server *srv = arg;
    for (size_t i = 0; i < N_LISTENERS; i++)
        if (listeners[i]->recover) listeners[i]->recover(srv);
    return NULL;
}

static void reload(ma_server *srv)
{
    uint64_t t0 = ma_now_ns();
    ma_error err;
    ma_error_clear(&err);
    ma_snapshot *s = snapshot_build(srv, &err);
    if (!s) {
        log_error(srv, "reload failed; the running deployment stays", err.msg);
        return;
    }
    pthread_mutex_lock(&srv->snap_mu);
    s->generation = ++srv->generation;
    ma_snapshot *old = srv->snap;
    srv->snap = s;
    pthread_mutex_unlock(&srv->snap_mu);
    ma_snapshot_unref(old); /* executions that hold it finish on it */
    for (size_t i = 0; i < SLOW_PATHS; i++) atomic_store(&srv->slow_paths[i], 0); /* routes may have changed */
    char x[256];
    snprintf(x, sizeof x, "{\"generation\":%u,\"processes\":%zu,\"duration_ms\":%.1f}", s->generation, s->n_processes,
             (double)(ma_now_ns() - t0) / 1e6);
    log_line(srv, "info", "deployment reloaded", x);
}

static void wait_idle(ma_server *srv, uint64_t ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += (time_t)(ms / 1000);
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&srv->mu);
    while (srv->n_inflight || srv->n_handling || srv->n_slow)
        if (pthread_cond_timedwait(&srv->idle_cv, &srv->mu, &dl) == ETIMEDOUT) break;
    pthread_mutex_unlock(&srv->mu);
}

/* Stops accepting, lets executions in flight end (bounded), cancels what is left. Returns 0 when
 * everything ended, -1 when executions are still running after the grace period. */
static int drain(ma_server *srv)
{
    atomic_store(&srv->draining, 1);
    MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    pthread_mutex_lock(&srv->mu);
    char x[128];
    snprintf(x, sizeof x, "{\"executions\":%zu,\"requests\":%zu,\"timeout_ms\":%llu}", srv->n_inflight, srv->n_handling,
             (unsigned long long)srv->c.drain_ms);
    pthread_mutex_unlock(&srv->mu);
    log_line(srv, "info", "draining", x);
    wait_idle(srv, srv->c.drain_ms);
    pthread_mutex_lock(&srv->mu);
    size_t left = srv->n_inflight + srv->n_handling + srv->n_slow;
    if (left) {
        for (exec_rec *r = srv->inflight.next; r != &srv->inflight; r = r->next)
            __atomic_store_n(&r->cancel, 1, __ATOMIC_RELAXED);
        snprintf(x, sizeof x, "{\"executions\":%zu}", srv->n_inflight);
        pthread_mutex_unlock(&srv->mu);
        log_line(srv, "warning", "drain timeout: cancelling the executions still running", x);
        wait_idle(srv, DRAIN_GRACE_MS);
        pthread_mutex_lock(&srv->mu);
        left = srv->n_inflight + srv->n_handling + srv->n_slow;
    }
    pthread_mutex_unlock(&srv->mu);
    return left ? -1 : 0;
}

static void server_free(ma_server *srv)
{
    if (srv->mhd) MHD_stop_daemon(srv->mhd);
    stop_workers(srv);
    ma_snapshot_unref(srv->snap);
    if (srv->hist) ma_history_close(srv->hist);
    ma_registry_free(srv->reg);
    free(srv->ring);
    free(srv->workers);
    free(srv->deploy_dir);
    free(srv->tls_cert_pem);
    if (srv->tls_key_pem) wipe(srv->tls_key_pem, strlen(srv->tls_key_pem));
    free(srv->tls_key_pem);
    free(srv->tls_ca_pem);
    auth_free(&srv->c);
    pthread_mutex_destroy(&srv->snap_mu);
    pthread_mutex_destroy(&srv->mu);
    pthread_mutex_destroy(&srv->rps_mu);
    pthread_mutex_destroy(&srv->auth_mu);
    pthread_cond_destroy(&srv->idle_cv);
    pthread_cond_destroy(&srv->pool_cv);
    pthread_mutex_destroy(&srv->tmu);
    pthread_cond_destroy(&srv->tcv);
    pthread_cond_destroy(&srv->tdone);
    log_stop(srv);
    free(srv->log_buf);
    free(srv->log_spare);
    pthread_mutex_destroy(&srv->log_mu);
    pthread_cond_destroy(&srv->log_cv);
    pthread_cond_destroy(&srv->log_room);
    free(srv);
}

int ma_server_run(const char *const *kv, const char *const *origin, size_t n)
{
    uint64_t t0 = ma_now_ns();
    ma_server *srv = calloc(1, sizeof *srv);
    if (!srv) return 1;
    srv->kv = kv;
    srv->n_kv = n;
    pthread_mutex_init(&srv->snap_mu, NULL);
    pthread_mutex_init(&srv->mu, NULL);
    pthread_mutex_init(&srv->rps_mu, NULL);
    pthread_mutex_init(&srv->auth_mu, NULL);
    pthread_mutex_init(&srv->log_mu, NULL);
    pthread_cond_init(&srv->log_room, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->idle_cv, &ca);
    pthread_cond_init(&srv->log_cv, &ca);
    pthread_cond_init(&srv->tcv, &ca); /* deadlines are ma_now_ns (monotonic) */
    pthread_mutex_init(&srv->tmu, NULL);
    pthread_cond_init(&srv->tdone, NULL);
    srv->timers.prev = srv->timers.next = &srv->timers;
    pthread_cond_init(&srv->pool_cv, NULL);
    pthread_condattr_destroy(&ca);
    srv->inflight.next = srv->inflight.prev = &srv->inflight;
    atomic_init(&srv->draining, 0);
    if (load_cfg(kv, origin, n, &srv->c)) {
        fprintf(stderr, "miniatom: the configuration is not valid (miniatom serve --check-config says the same)\n");
        server_free(srv);
        return 2;
    }
    srv->tokens = srv->c.rps;
    srv->rps_last_ns = ma_now_ns();
    gnutls_rnd(GNUTLS_RND_KEY, srv->cache_key, sizeof srv->cache_key);

    /* signals: every thread started from here on blocks them; this one waits for them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    log_start(srv);

    ma_error err;
    ma_error_clear(&err);
    int rc = 1;
    pthread_t recover_thread;
    int recovering = 0;
    if (!(srv->deploy_dir = ma_strdup(srv->c.deploy))) goto out;
    if (!(srv->reg = ma_registry_new(&err)) ||
        (srv->c.plugins && ma_registry_load_plugins(srv->reg, srv->c.plugins, &err) < 0)) {
        log_error(srv, "cannot load the shape and connector types", err.msg);
        rc = 3;
        goto out;
    }
    if (ma_mkdirs(srv->c.data, &err) < 0 || !(srv->hist = ma_history_open(srv->c.data, &srv->c.hist, &err))) {
        log_error(srv, "cannot open the execution history", err.msg);
        goto out;
    }
    if (!(srv->snap = snapshot_build(srv, &err))) {
        char *x = extra_error(err.msg);
        char *msg = ma_asprintf("the deployment in %s is not valid", srv->deploy_dir);
        log_line(srv, "error", msg ? msg : "the deployment is not valid", x);
        free(msg);
        free(x);
        rc = 3;
        goto out;
    }
    srv->snap->generation = srv->generation = 1;
    if (start_workers(srv, &err) < 0 || start_http(srv, &err) < 0) {
        log_error(srv, "cannot start the server", err.msg);
        goto out;
    }
    {
        ma_sb b;
        ma_sb_init(&b);
        ma_sb_puts(&b, "{\"address\":\"");
        ma_sb_json_escape(&b, srv->c.listen, strlen(srv->c.listen));
        ma_sb_printf(&b, "\",\"port\":%u,\"tls\":%s,\"client_certificates\":%s,\"threads\":%u,\"workers\":%u,\"deploy\":\"",
                     srv->port, srv->c.tls_cert ? "true" : "false", srv->c.tls_ca ? "true" : "false", srv->c.threads,
                     srv->c.workers);
        ma_sb_json_escape(&b, srv->deploy_dir, strlen(srv->deploy_dir));
        ma_sb_printf(&b, "\",\"processes\":%zu,\"startup_ms\":%.1f}", srv->snap->n_processes, (double)(ma_now_ns() - t0) / 1e6);
        log_line(srv, "info", "listening", b.s);
        ma_sb_free(&b);
        int basic = 0;
        for (size_t i = 0; i <= N_LISTENERS; i++) basic |= srv->c.auth[i].mode == AUTH_BASIC;
        if (basic && !srv->c.tls_cert)
            log_line(srv, "warning",
                     "basic authentication without TLS sends tokens in clear text; "
                     "set server.tls.cert and server.tls.key",
                     NULL);
    }
    recovering = pthread_create(&recover_thread, NULL, recover_main, srv) == 0;

    for (;;) {
        int sig = sigwaitinfo(&sigs, NULL);
        if (sig < 0) continue;
        if (sig == SIGHUP) {
            reload(srv);
            continue;
        }
        break;
    }
    int drained = drain(srv);
    if (recovering) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += drained == 0 ? 2 : 0;
        if (pthread_timedjoin_np(recover_thread, NULL, &dl) != 0) drained = -1;
    }
    if (drained < 0) {
        log_line(srv, "error",
                 "executions (or the listeners' recovery) did not stop in time; exiting now (executions left running "
                 "are recorded as ABORTED at the next start)",
                 NULL);
        log_stop(srv); /* the log is written out; the executions are left to the exit */
        _exit(0);
    }
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    rc = 0;
out:
    server_free(srv);
    if (rc == 0) log_line(NULL, "info", "stopped", NULL);
    return rc;
}
