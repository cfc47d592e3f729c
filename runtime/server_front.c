/* server_front.c - the defences of the HTTP front of `miniatom serve` (docs/server.md "Limits and
 * failure behaviour", docs/decisions/018-http-front-limits.md): the connection limit sized from the
 * file descriptor limit, a deadline for a request's line and headers (slowloris), room kept for new
 * clients by closing the oldest connection that is still sending its headers, the checks of a
 * request on its headers before any body is read (RFC 9112 3.2, 6.1, 6.3: Host, Content-Length,
 * Transfer-Encoding; NUL bytes; credentials in the target, RFC 9110 4.2.4), and the server-wide
 * budget of buffered request bodies. libmicrohttpd does the rest (server_http.c). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lazy_mhd.h"
#include "server.h"
#include "util.h"

#define AUTO_CONNECTIONS_MAX 4096u /* limits.connections = 0: at most this many */
#define FD_RESERVE_MIN 64u         /* descriptors kept for files, the store and outgoing connections */
#define FIELD_RECORD 64u           /* libmicrohttpd's record of one header field or query parameter */
#define POOL_SLACK 8192u           /* the response's headers and the first body bytes */
#define EVICT_AGE_NS 500000000ull  /* a connection this old still sending headers (or idle) may make room */
#define LOG_PER_SECOND 5           /* libmicrohttpd messages logged per second; the rest are counted */

/* mimalloc's, when the binary is linked with it (docs/decisions/011-allocator.md); NULL otherwise */
void mi_collect(_Bool force) __attribute__((weak));

enum { FC_HEADERS, FC_BUSY, FC_IDLE, FC_CLOSING };

struct ma_front_conn {
    ma_front_conn *prev, *next; /* f->conns, oldest first; under f->mu */
    int fd;
    int state;            /* FC_* */
    uint64_t deadline_ns; /* FC_HEADERS: closed at this time */
    uint64_t since_ns;    /* when its state began */
};

struct ma_front {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ma_front_conn conns; /* list head */
    size_t n_conns;
    unsigned limit, soft; /* libmicrohttpd's limit; over soft, room is made for new clients */
    uint64_t late, evicted;
    pthread_t th;
    int run, stop;
    _Atomic uint64_t bodies; /* bytes of request bodies buffered now */
    _Atomic uint64_t bodies_refused;
    pthread_mutex_t log_mu;
    time_t log_sec;
    int log_n;
    uint64_t log_dropped;
};

/* ---- sizes --------------------------------------------------------------------------------------------- */

size_t ma_front_pool_size(const ma_server_cfg *c)
{
    /* libmicrohttpd reads the request line and headers from the start of the pool and puts a record
     * per field and query parameter (and a copy of the Cookie header) at its end: room for the
     * largest request line and headers, every field the limits allow, and slack for the response's
     * headers. No more: libmicrohttpd zeroes the whole pool after every request (front.sh sends the
     * largest request the limits allow) */
    return (size_t)c->header + (size_t)c->header_fields * FIELD_RECORD + 2 * POOL_SLACK;
}

unsigned ma_front_connection_limit(const ma_server *srv) { return srv->front ? srv->front->limit : 0; }

/* The connection limit: limits.connections, or from RLIMIT_NOFILE (its soft limit raised to the hard
 * one first) less a quarter kept for files, the store and outgoing connections. */
static unsigned size_connections(ma_server *srv, char *note, size_t nl)
{
    struct rlimit rl;
    unsigned long long fds = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur != RLIM_INFINITY && (rl.rlim_max == RLIM_INFINITY || rl.rlim_cur < rl.rlim_max)) {
            struct rlimit up = {rl.rlim_max, rl.rlim_max};
            if (up.rlim_max == RLIM_INFINITY) up.rlim_cur = up.rlim_max = 1u << 20;
            if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl = up;
        }
        fds = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (unsigned long long)rl.rlim_cur;
    }
    unsigned long long reserve = fds / 4 > FD_RESERVE_MIN ? fds / 4 : FD_RESERVE_MIN;
    unsigned long long by_fds = fds > reserve + 16 ? fds - reserve : 16;
    unsigned long long n = srv->c.connections ? srv->c.connections : by_fds;
    if (!srv->c.connections && n > AUTO_CONNECTIONS_MAX) n = AUTO_CONNECTIONS_MAX;
    snprintf(note, nl,
             "{\"connections\":%llu,\"file_descriptors\":%llu,\"per_client\":%llu,\"header_timeout_ms\":%llu,"
             "\"pool_bytes\":%zu}",
             n, fds, (unsigned long long)srv->c.per_client, (unsigned long long)srv->c.header_ms,
             ma_front_pool_size(&srv->c));
    if (srv->c.connections && n > by_fds)
        ma_log_line(srv, "warning", "limits.connections is more than the file descriptors allow",
                    note); /* accept() fails with EMFILE before the limit is reached */
    return (unsigned)n;
}

/* ---- connections ---------------------------------------------------------------------------------------- */

static void unlink_conn(ma_front *f, ma_front_conn *fc)
{
    fc->prev->next = fc->next;
    fc->next->prev = fc->prev;
    fc->prev = fc->next = fc;
}

ma_front_conn *ma_front_open(ma_server *srv, struct MHD_Connection *c)
{
    ma_front *f = srv->front;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!f || !ci) return NULL;
    ma_front_conn *fc = calloc(1, sizeof *fc);
    if (!fc) return NULL;
    fc->fd = ci->connect_fd;
    fc->state = FC_HEADERS;
    fc->since_ns = ma_now_ns();
    fc->deadline_ns = fc->since_ns + srv->c.header_ms * 1000000ull;
    pthread_mutex_lock(&f->mu);
    fc->prev = f->conns.prev;
    fc->next = &f->conns;
    f->conns.prev->next = fc;
    f->conns.prev = fc;
    f->n_conns++;
    pthread_mutex_unlock(&f->mu);
    return fc;
}

/* libmicrohttpd calls this before it closes the socket: once fc is unlinked, its fd is no longer
 * touched here. */
void ma_front_close(ma_server *srv, ma_front_conn *fc)
{
    ma_front *f = srv->front;
    if (!fc) return;
    pthread_mutex_lock(&f->mu);
    unlink_conn(f, fc);
    f->n_conns--;
    pthread_mutex_unlock(&f->mu);
    free(fc);
}

static void set_state(ma_server *srv, ma_front_conn *fc, int state)
{
    if (!fc) return;
    pthread_mutex_lock(&srv->front->mu);
    if (fc->state != FC_CLOSING) {
        fc->state = state;
        fc->since_ns = ma_now_ns();
    }
    pthread_mutex_unlock(&srv->front->mu);
}

void ma_front_busy(ma_server *srv, ma_front_conn *fc) { set_state(srv, fc, FC_BUSY); }
void ma_front_idle(ma_server *srv, ma_front_conn *fc) { set_state(srv, fc, FC_IDLE); }

/* Closes fc's socket for reading and writing (under f->mu): libmicrohttpd's thread sees it end and
 * closes the connection itself. */
static void cut(ma_front_conn *fc)
{
    shutdown(fc->fd, SHUT_RDWR);
    fc->state = FC_CLOSING;
}

/* Has data arrived on an idle keep-alive connection since it went idle? Then its next request has
 * begun, and its headers are timed from now. */
static int data_since(const ma_front_conn *fc, uint64_t now)
{
#ifdef TCP_INFO
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    if (getsockopt(fc->fd, IPPROTO_TCP, TCP_INFO, &ti, &l) != 0) return 0;
    /* when data last came, in the kernel's ticks (up to 10 ms): what came with the previous request
     * can look up to a tick later than it was */
    uint64_t last = now - (uint64_t)ti.tcpi_last_data_recv * 1000000ull;
    return last > fc->since_ns + 20000000ull;
#else
    (void)fc;
    (void)now;
    return 0;
#endif
}

int ma_front_accept(ma_server *srv)
{
    ma_front *f = srv->front;
    if (!f) return 1;
    pthread_mutex_lock(&f->mu);
    if (f->soft < f->limit &&
        f->n_conns >= f->soft) { /* make room: the oldest still sending its headers, else the oldest idle */
        ma_front_conn *victim = NULL;
        uint64_t old = ma_now_ns() - EVICT_AGE_NS;
        for (ma_front_conn *fc = f->conns.next; fc != &f->conns && !victim; fc = fc->next)
            if (fc->state == FC_HEADERS && fc->since_ns < old) victim = fc;
        for (ma_front_conn *fc = f->conns.next; fc != &f->conns && !victim; fc = fc->next)
            if (fc->state == FC_IDLE && fc->since_ns < old) victim = fc;
        if (victim) {
            cut(victim);
            f->evicted++;
        }
    }
    pthread_mutex_unlock(&f->mu);
    return 1;
}

/* The thread that closes connections whose request line and headers are late. */
static void *sweep_main(void *arg)
{
    ma_server *srv = arg;
    ma_front *f = srv->front;
    uint64_t period_ms = srv->c.header_ms / 4 < 250 ? srv->c.header_ms / 4 : 250;
    if (period_ms < 20) period_ms = 20;
    pthread_mutex_lock(&f->mu);
    while (!f->stop) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_nsec += (long)period_ms * 1000000L;
        if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&f->cv, &f->mu, &dl);
        if (f->stop) break;
        uint64_t now = ma_now_ns();
        unsigned closed = 0;
        for (ma_front_conn *fc = f->conns.next; fc != &f->conns; fc = fc->next) {
            if (fc->state == FC_IDLE && data_since(fc, now)) {
                fc->state = FC_HEADERS;
                fc->since_ns = now;
                fc->deadline_ns = now + srv->c.header_ms * 1000000ull;
            }
            if (fc->state == FC_HEADERS && now >= fc->deadline_ns) {
                cut(fc);
                closed++;
            }
        }
        f->late += closed;
        uint64_t dropped = f->log_dropped;
        f->log_dropped = 0;
        pthread_mutex_unlock(&f->mu);
        char x[160];
        if (closed) {
            snprintf(x, sizeof x, "{\"connections\":%u,\"header_timeout_ms\":%llu}", closed,
                     (unsigned long long)srv->c.header_ms);
            ma_log_line(srv, "warning", "connections closed: their request line and headers came too slowly", x);
        }
        if (dropped) {
            snprintf(x, sizeof x, "{\"messages\":%llu}", (unsigned long long)dropped);
            ma_log_line(srv, "warning", "libmicrohttpd messages not logged (too many)", x);
        }
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

int ma_front_start(ma_server *srv, ma_error *err)
{
    ma_front *f = calloc(1, sizeof *f);
    if (!f) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&f->mu, NULL);
    pthread_mutex_init(&f->log_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    f->conns.prev = f->conns.next = &f->conns;
    srv->front = f;
    char note[256];
    f->limit = size_connections(srv, note, sizeof note);
    /* room for new clients: from seven eighths of the limit on, the oldest connection still sending its
     * headers makes way (none under 8 connections) */
    f->soft = f->limit - f->limit / 8;
    ma_log_line(srv, "info", "http front", note);
    if (pthread_create(&f->th, NULL, sweep_main, srv) != 0) {
        ma_front_stop(srv);
        return ma_error_set(err, MA_ERR_NOMEM, "cannot start the thread that times request headers");
    }
    f->run = 1;
    return 0;
}

void ma_front_stop(ma_server *srv)
{
    ma_front *f = srv->front;
    if (!f) return;
    if (f->run) {
        pthread_mutex_lock(&f->mu);
        f->stop = 1;
        pthread_cond_signal(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->th, NULL);
    }
    while (f->conns.next != &f->conns) { /* none once the daemon has stopped */
        ma_front_conn *fc = f->conns.next;
        unlink_conn(f, fc);
        free(fc);
    }
    pthread_mutex_destroy(&f->mu);
    pthread_mutex_destroy(&f->log_mu);
    pthread_cond_destroy(&f->cv);
    free(f);
    srv->front = NULL;
}

/* ---- the request line and headers ----------------------------------------------------------------------- */

void ma_front_uri(ma_server *srv, char *uri, ma_front_req *fr)
{
    memset(fr, 0, sizeof *fr);
    if (!uri) return;
    fr->raw = uri;
    fr->raw_len = strlen(uri);
    char *q = strchr(uri, '?');
    size_t params = 0;
    if (q && q[1])
        for (const char *p = q; p; p = strchr(p + 1, '&')) params++;
    if (fr->raw_len > srv->c.header) {
        fr->status = 414;
        fr->why = "the request target is longer than the limit (limits.header)";
    } else if (params > srv->c.header_fields) {
        fr->status = 414;
        fr->why = "the request has more query parameters than the limit (limits.header_fields)";
    } else if (strchr(uri, ' ') || strchr(uri, '\t')) { /* "GET /a b HTTP/1.1": where does the target end? */
        fr->status = 400;
        fr->why = "the request target holds white space";
    } else if (strstr(uri, "%00")) {
        fr->status = 400;
        fr->why = "the request target holds a NUL byte (%00)";
    }
    /* a target refused for its size loses its query here, before libmicrohttpd makes a record of
     * each parameter in the connection's memory pool (whose exhaustion there leaves the request
     * unanswered in 0.9.75): the buffer is libmicrohttpd's own, which it cuts at '?' itself next and
     * then parses from the byte after it - now the end */
    if (fr->status == 414 && q && q[1]) q[1] = '\0';
}


typedef struct fields {
    const char *cl, *te, *host;
    int n_cl, n_te, n_host, cl_differ;
    size_t n;
} fields;

#if MHD_VERSION >= 0x00097002
#define FRONT_RESULT enum MHD_Result
#else
#define FRONT_RESULT int
#endif

static FRONT_RESULT count_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    fields *fl = cls;
    fl->n++;
    if (kind != MHD_HEADER_KIND || !key) return MHD_YES;
    if (!value) value = "";
    if (strcasecmp(key, "Content-Length") == 0) {
        if (fl->n_cl++ && strcmp(fl->cl, value) != 0) fl->cl_differ = 1;
        if (!fl->cl) fl->cl = value;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        fl->n_te++;
        fl->te = value;
    } else if (strcasecmp(key, "Host") == 0) {
        fl->n_host++;
        fl->host = value;
    }
    return MHD_YES;
}

/* The last transfer coding of a Transfer-Encoding value, and whether there are others before it. */
static int last_coding_is_chunked(const char *te, int *others)
{
    const char *comma = strrchr(te, ',');
    const char *last = comma ? comma + 1 : te;
    while (*last == ' ' || *last == '\t') last++;
    size_t n = strlen(last);
    while (n && (last[n - 1] == ' ' || last[n - 1] == '\t')) n--;
    *others = comma != NULL;
    return n == 7 && strncasecmp(last, "chunked", 7) == 0;
}

int ma_front_check(ma_server *srv, struct MHD_Connection *c, const ma_front_req *fr, const char *version,
                   const char **path, const char **why)
{
    const char *url = *path;
    if (fr->status) {
        *why = fr->why;
        return fr->status;
    }
    /* a NUL byte as such in the target: the target's string, as it was before libmicrohttpd cut it up
     * (at '?', and by unescaping), ended before the space that libmicrohttpd ended it with (the version
     * follows that space in the same buffer) */
    if (fr->raw && url == fr->raw && version && version > url && (size_t)(version - url) <= srv->c.header + 2 &&
        fr->raw_len + 1 < (size_t)(version - url)) {
        *why = "the request target holds a NUL byte";
        return 400;
    }
    fields fl;
    memset(&fl, 0, sizeof fl);
    MHD_get_connection_values(c, MHD_HEADER_KIND | MHD_COOKIE_KIND | MHD_GET_ARGUMENT_KIND, count_field, &fl);
    if (fl.n > srv->c.header_fields) {
        *why = "the request has more header fields, query parameters and cookies than the limit "
               "(limits.header_fields)";
        return 431;
    }
    int http11 = version && strcmp(version, "HTTP/1.1") == 0;
    if ((http11 && !fl.n_host) || fl.n_host > 1) {
        *why = fl.n_host > 1 ? "the request has more than one Host header" : "an HTTP/1.1 request needs a Host header";
        return 400;
    }
    if (fl.n_te) {
        int others = 0;
        if (fl.n_cl) {
            *why = "the request has both Content-Length and Transfer-Encoding";
            return 400;
        }
        if (!http11) {
            *why = "Transfer-Encoding needs HTTP/1.1";
            return 400;
        }
        if (fl.n_te > 1 || !last_coding_is_chunked(fl.te, &others)) {
            *why = "the request's Transfer-Encoding does not end with chunked: its length cannot be known";
            return 400;
        }
        if (others) {
            *why = "only the chunked transfer coding is supported";
            return 501;
        }
    }
    if (fl.n_cl) {
        if (fl.cl_differ) {
            *why = "the request has Content-Length headers that differ";
            return 400;
        }
        size_t n = strlen(fl.cl);
        if (!n || n > 18 || strspn(fl.cl, "0123456789") != n) {
            *why = "the request's Content-Length is not a number";
            return 400;
        }
    }
    /* absolute form (RFC 9112 3.2.2): its path is served; userinfo there is refused (RFC 9110 4.2.4) */
    size_t sl = strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
    if (sl) {
        const char *auth = url + sl, *slash = strchr(auth, '/');
        size_t al = slash ? (size_t)(slash - auth) : strlen(auth);
        if (memchr(auth, '@', al)) {
            *why = "credentials in the request URL are not accepted";
            return 400;
        }
        *path = slash ? slash : "/";
    }
    return 0;
}

/* ---- buffered bodies -------------------------------------------------------------------------------------- */

int ma_front_body_reserve(ma_server *srv, size_t n)
{
    ma_front *f = srv->front;
    if (!f || !srv->c.buffered_bodies) {
        if (f) atomic_fetch_add(&f->bodies, n);
        return 0;
    }
    uint64_t was = atomic_fetch_add(&f->bodies, n);
    if (was + n > srv->c.buffered_bodies) {
        atomic_fetch_sub(&f->bodies, n);
        atomic_fetch_add(&f->bodies_refused, 1);
        return -1;
    }
    return 0;
}

void ma_front_body_release(ma_server *srv, size_t n)
{
    if (srv->front && n) atomic_fetch_sub(&srv->front->bodies, n);
}

static _Thread_local size_t t_bodies; /* bodies the calling server thread is buffering */
static _Thread_local int t_big;       /* it has let go of a big one since it last gave memory back */

void ma_front_body_begin(void) { t_bodies++; }

void ma_front_body_end(int big)
{
    if (t_bodies) t_bodies--;
    t_big |= big;
    /* the thread's freed pages go back to the system once it holds no body any more: a burst of
     * large bodies does not stay in the process (mimalloc keeps them otherwise; decision 018) */
    if (!t_bodies && t_big && mi_collect) {
        mi_collect(1);
        t_big = 0;
    }
}

/* ---- the log and /health ------------------------------------------------------------------------------------ */

int ma_front_log_allow(ma_server *srv)
{
    ma_front *f = srv->front;
    if (!f) return 1;
    time_t now = time(NULL);
    pthread_mutex_lock(&f->log_mu);
    if (now != f->log_sec) f->log_sec = now, f->log_n = 0;
    int ok = f->log_n++ < LOG_PER_SECOND;
    pthread_mutex_unlock(&f->log_mu);
    if (!ok) {
        pthread_mutex_lock(&f->mu);
        f->log_dropped++;
        pthread_mutex_unlock(&f->mu);
    }
    return ok;
}

void ma_front_health(ma_server *srv, ma_sb *b)
{
    ma_front *f = srv->front;
    if (!f) return;
    pthread_mutex_lock(&f->mu);
    size_t n = f->n_conns, headers = 0;
    for (ma_front_conn *fc = f->conns.next; fc != &f->conns; fc = fc->next) headers += fc->state == FC_HEADERS;
    uint64_t late = f->late, evicted = f->evicted;
    pthread_mutex_unlock(&f->mu);
    ma_sb_printf(b,
                 ",\"http\":{\"connections\":%zu,\"limit\":%u,\"sendingHeaders\":%zu,\"closedLateHeaders\":%llu,"
                 "\"closedForRoom\":%llu,\"bufferedBodyBytes\":%llu,\"bodiesRefused\":%llu}",
                 n, f->limit, headers, (unsigned long long)late, (unsigned long long)evicted,
                 (unsigned long long)atomic_load(&f->bodies), (unsigned long long)atomic_load(&f->bodies_refused));
}
