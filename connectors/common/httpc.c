/* httpc.c - the HTTP client the connectors share (httpc.h), on libcurl: a pool of idle easy
 * handles per connection (each keeps its connections alive; DNS and TLS sessions are shared across
 * the pool), timeouts, proxy, TLS options, retries with exponential backoff and jitter, and a count
 * of the TCP connections opened. Nothing here logs; error messages never carry the query string,
 * user info, headers or bodies. */
#define _POSIX_C_SOURCE 200809L
#include "httpc.h"

#include "miniatom/shape.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CURL_DISABLE_TYPECHECK /* the calls below go through pointers */
#include <curl/curl.h>
#include <dlfcn.h>

/* libcurl is loaded when the first pool is made, not when miniatom starts: its dependencies (TLS,
 * HTTP/2, IDN ...) would otherwise cost every `miniatom run` several megabytes of memory and
 * milliseconds of start-up, whether a process talks HTTP or not. */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLSH *(*share_init)(void);
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
    CURLSHcode (*share_cleanup)(CURLSH *);
    time_t (*getdate)(const char *, const time_t *);
} lc;
static char lc_error[256];

static int load_libcurl(void)
{
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(lc_error, sizeof lc_error, "libcurl cannot be loaded (apt-get install -y libcurl4): %s", e ? e : "");
        return -1;
    }
#define LC(field, name)                                                     \
    do {                                                                    \
        *(void **)&lc.field = dlsym(h, name);                               \
        if (!lc.field) {                                                    \
            snprintf(lc_error, sizeof lc_error, "libcurl has no %s", name); \
            return -1;                                                      \
        }                                                                   \
    } while (0)
    LC(global_init, "curl_global_init");
    LC(easy_init, "curl_easy_init");
    LC(easy_setopt, "curl_easy_setopt");
    LC(easy_perform, "curl_easy_perform");
    LC(easy_getinfo, "curl_easy_getinfo");
    LC(easy_cleanup, "curl_easy_cleanup");
    LC(easy_reset, "curl_easy_reset");
    LC(easy_strerror, "curl_easy_strerror");
    LC(slist_append, "curl_slist_append");
    LC(slist_free_all, "curl_slist_free_all");
    LC(share_init, "curl_share_init");
    LC(share_setopt, "curl_share_setopt");
    LC(share_cleanup, "curl_share_cleanup");
    LC(getdate, "curl_getdate");
#undef LC
    return 0; /* the handle stays open for the life of the process */
}

#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt
#define curl_global_init lc.global_init
#define curl_easy_init lc.easy_init
#define curl_easy_setopt lc.easy_setopt
#define curl_easy_perform lc.easy_perform
#define curl_easy_getinfo lc.easy_getinfo
#define curl_easy_cleanup lc.easy_cleanup
#define curl_easy_reset lc.easy_reset
#define curl_easy_strerror lc.easy_strerror
#define curl_slist_append lc.slist_append
#define curl_slist_free_all lc.slist_free_all
#define curl_share_init lc.share_init
#define curl_share_setopt lc.share_setopt
#define curl_share_cleanup lc.share_cleanup
#define curl_getdate lc.getdate

/* Option values: 0 (or NULL) means the default the header states. Two fields also take a negative
 * value: retries < 0 means no retry at all, backoff_ms < 0 means retry without waiting. */
#define DEF_CONNECT_TIMEOUT_MS 10000L
#define DEF_TIMEOUT_MS 60000L
#define DEF_RETRIES 3
#define DEF_BACKOFF_MS 200L
#define DEF_MAX_RESPONSE ((size_t)64 << 20)
#define MAX_IDLE_HANDLES 32
#define MAX_RETRY_AFTER_MS 120000L /* a Retry-After longer than this is cut to it */
#define MAX_BACKOFF_MS 30000L

struct ma_httpc {
    long connect_timeout_ms, timeout_ms, backoff_ms;
    char *proxy, *ca_file, *client_cert, *client_key;
    int insecure, retries, follow_redirects;
    size_t max_response;
    CURLSH *share;
    pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
    pthread_mutex_t lock; /* the idle list and the jitter state */
    CURL *idle[MAX_IDLE_HANDLES];
    size_t n_idle;
    uint64_t rng;
    atomic_long connections;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;
static int global_loaded = 0;
static void global_init(void)
{
    if (load_libcurl() < 0) return;
    global_loaded = 1;
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock_cb(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
    (void)h;
    (void)access;
    ma_httpc *c = user;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_lock(&c->share_lock[data]);
}

static void share_unlock_cb(CURL *h, curl_lock_data data, void *user)
{
    (void)h;
    ma_httpc *c = user;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_unlock(&c->share_lock[data]);
}

static char *dup_or_null(const char *s)
{
    if (!s || !*s) return NULL;
    return strdup(s);
}

static uint64_t seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&ts;
    return s ? s : 0x9e3779b97f4a7c15ull;
}

/* Makes what the first request needs: libcurl (loaded here, not at deploy: a deployment whose
 * connectors never run does not pay for libcurl and its TLS library in memory or start-up) and the
 * share of DNS and TLS sessions. Under c->lock; 0 or -1 with err. */
static int ready(ma_httpc *c, ma_error *err)
{
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    if (!c->share) {
        pthread_once(&global_once, global_init);
        if (!global_loaded) rc = ma_error_set(err, MA_ERR_IO, "%s", lc_error);
        else if (global_rc != CURLE_OK)
            rc = ma_error_set(err, MA_ERR_IO, "libcurl cannot be initialised: %s", curl_easy_strerror(global_rc));
        else if (!(c->share = curl_share_init())) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory (curl share)");
        else {
            curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock_cb);
            curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock_cb);
            curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
            curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
            curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

ma_httpc *ma_httpc_new(const ma_httpc_opts *opts, ma_error *err)
{
    ma_httpc_opts o;
    memset(&o, 0, sizeof o);
    if (opts) o = *opts;
    ma_httpc *c = calloc(1, sizeof *c);
    if (!c) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->connect_timeout_ms = o.connect_timeout_ms > 0 ? o.connect_timeout_ms : DEF_CONNECT_TIMEOUT_MS;
    c->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : DEF_TIMEOUT_MS;
    c->retries = o.retries > 0 ? o.retries : o.retries < 0 ? 0 : DEF_RETRIES;
    c->backoff_ms = o.backoff_ms > 0 ? o.backoff_ms : o.backoff_ms < 0 ? 0 : DEF_BACKOFF_MS;
    c->max_response = o.max_response ? o.max_response : DEF_MAX_RESPONSE;
    c->insecure = o.insecure != 0;
    c->follow_redirects = o.follow_redirects != 0;
    c->rng = seed();
    atomic_init(&c->connections, 0);
    pthread_mutex_init(&c->lock, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&c->share_lock[i], NULL);
    if ((o.proxy && *o.proxy && !(c->proxy = dup_or_null(o.proxy))) ||
        (o.ca_file && *o.ca_file && !(c->ca_file = dup_or_null(o.ca_file))) ||
        (o.client_cert && *o.client_cert && !(c->client_cert = dup_or_null(o.client_cert))) ||
        (o.client_key && *o.client_key && !(c->client_key = dup_or_null(o.client_key)))) {
        ma_httpc_free(c);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return c;
}

void ma_httpc_free(ma_httpc *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_idle; i++) curl_easy_cleanup(c->idle[i]);
    if (c->share) curl_share_cleanup(c->share);
    free(c->proxy);
    free(c->ca_file);
    free(c->client_cert);
    free(c->client_key);
    pthread_mutex_destroy(&c->lock);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&c->share_lock[i]);
    free(c);
}

long ma_httpc_connections_opened(const ma_httpc *c) { return c ? atomic_load(&((ma_httpc *)c)->connections) : 0; }

static CURL *take_handle(ma_httpc *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->n_idle) h = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->lock);
    if (h) curl_easy_reset(h); /* keeps the handle's live connections */
    else h = curl_easy_init();
    return h;
}

static void give_handle(ma_httpc *c, CURL *h)
{
    if (!h) return;
    pthread_mutex_lock(&c->lock);
    if (c->n_idle < MAX_IDLE_HANDLES) {
        c->idle[c->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (h) curl_easy_cleanup(h);
}

/* ---- one attempt ---- */

typedef struct xfer {
    char *body;
    size_t len, cap, max;
    int too_big;
    char **headers;
    size_t n_headers, cap_headers;
    int oom;
} xfer;

static void xfer_clear_headers(xfer *x)
{
    for (size_t i = 0; i < x->n_headers; i++) free(x->headers[i]);
    x->n_headers = 0;
}

static void xfer_free(xfer *x)
{
    xfer_clear_headers(x);
    free(x->headers);
    free(x->body);
    memset(x, 0, sizeof *x);
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    xfer *x = user;
    size_t add = size * n;
    if (add > x->max - x->len) {
        x->too_big = 1;
        return 0;
    }
    if (x->len + add + 1 > x->cap) {
        size_t nc = x->cap ? x->cap : 4096;
        while (nc < x->len + add + 1) nc *= 2;
        char *nb = realloc(x->body, nc);
        if (!nb) {
            x->oom = 1;
            return 0;
        }
        x->body = nb;
        x->cap = nc;
    }
    memcpy(x->body + x->len, p, add);
    x->len += add;
    x->body[x->len] = '\0';
    return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    xfer *x = user;
    size_t len = size * n, l = len;
    while (l && (p[l - 1] == '\r' || p[l - 1] == '\n')) l--;
    if (l >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (redirect, 100 Continue): start over */
        xfer_clear_headers(x);
        return len;
    }
    if (!l) return len;
    if ((*p == ' ' || *p == '\t') && x->n_headers) { /* obsolete line folding: append to the last line */
        char *last = x->headers[x->n_headers - 1];
        size_t ll = strlen(last);
        char *nl = realloc(last, ll + l + 1);
        if (!nl) {
            x->oom = 1;
            return 0;
        }
        memcpy(nl + ll, p, l);
        nl[ll + l] = '\0';
        x->headers[x->n_headers - 1] = nl;
        return len;
    }
    if (x->n_headers == x->cap_headers) {
        size_t nc = x->cap_headers ? x->cap_headers * 2 : 16;
        char **nh = realloc(x->headers, nc * sizeof *nh);
        if (!nh) {
            x->oom = 1;
            return 0;
        }
        x->headers = nh;
        x->cap_headers = nc;
    }
    char *line = malloc(l + 1);
    if (!line) {
        x->oom = 1;
        return 0;
    }
    memcpy(line, p, l);
    line[l] = '\0';
    x->headers[x->n_headers++] = line;
    return len;
}

/* The URL for error messages: no user info, no query string, no fragment. */
static void safe_url(const char *url, char *out, size_t cap)
{
    size_t o = 0;
    const char *p = url ? url : "";
    const char *scheme_end = strstr(p, "://");
    const char *host = p;
    if (scheme_end) {
        host = scheme_end + 3;
        size_t sl = (size_t)(host - p);
        if (sl >= cap) sl = cap - 1;
        memcpy(out, p, sl);
        o = sl;
        const char *end = host + strcspn(host, "/?#");
        const char *at = NULL;
        for (const char *q = host; q < end; q++)
            if (*q == '@') at = q;
        if (at) host = at + 1;
    }
    for (const char *q = host; *q && *q != '?' && *q != '#' && o + 1 < cap; q++) out[o++] = *q;
    out[o] = '\0';
}

/* Does text quote the URL's query string or user info? */
static int leaks(const char *text, const char *url)
{
    const char *q = strchr(url, '?');
    if (q && q[1] && strstr(text, q + 1)) return 1;
    const char *host = strstr(url, "://");
    if (!host) return 0;
    host += 3;
    const char *end = host + strcspn(host, "/?#"), *at = NULL;
    for (const char *p = host; p < end; p++)
        if (*p == '@') at = p;
    if (!at || at == host) return 0;
    size_t n = (size_t)(at - host);
    for (const char *p = text; *p; p++)
        if (strncmp(p, host, n) == 0) return 1;
    return 0;
}

static int retryable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return 1;
    default: return 0;
    }
}

static int retryable_status(long st) { return st == 429 || (st >= 500 && st <= 599); }

/* Retry-After in milliseconds (delta seconds or an HTTP date), -1 when absent or unreadable. */
static long retry_after_ms(const xfer *x)
{
    ma_httpc_response tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.headers = x->headers;
    tmp.n_headers = x->n_headers;
    const char *v = ma_httpc_header_get(&tmp, "Retry-After");
    if (!v || !*v) return -1;
    long ms;
    if (isdigit((unsigned char)*v)) {
        char *end;
        errno = 0;
        long s = strtol(v, &end, 10);
        if (errno || s < 0) return -1;
        ms = s > MAX_RETRY_AFTER_MS / 1000 ? MAX_RETRY_AFTER_MS : s * 1000;
    } else {
        time_t t = curl_getdate(v, NULL);
        if (t < 0) return -1;
        time_t now = time(NULL);
        double d = difftime(t, now);
        ms = d <= 0 ? 0 : d * 1000 > MAX_RETRY_AFTER_MS ? MAX_RETRY_AFTER_MS : (long)(d * 1000);
    }
    return ms;
}

static long backoff_wait(ma_httpc *c, int retry /* 1, 2, ... */)
{
    if (c->backoff_ms <= 0) return 0;
    long w = c->backoff_ms;
    for (int i = 1; i < retry && w < MAX_BACKOFF_MS; i++) w *= 2;
    if (w > MAX_BACKOFF_MS) w = MAX_BACKOFF_MS;
    pthread_mutex_lock(&c->lock);
    c->rng ^= c->rng << 13; /* xorshift64 */
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    uint64_t r = c->rng;
    pthread_mutex_unlock(&c->lock);
    return w / 2 + (long)(r % (uint64_t)(w / 2 + 1)); /* jitter: between half and all of w */
}

/* Sleeps ms in slices of at most STOP_POLL_MS, ending early when the execution must stop. */
#define STOP_POLL_MS 100L
static void sleep_ms(long ms)
{
    while (ms > 0 && !ma_exec_must_stop()) {
        long slice = ms < STOP_POLL_MS ? ms : STOP_POLL_MS;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        ms -= slice;
    }
}

/* libcurl's progress callback (called at least once a second while a transfer waits): a transfer
 * whose execution must stop (deadline, cancel, memory budget) is aborted at once. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)ud, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return ma_exec_must_stop();
}

static int has_header(const ma_httpc_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name && strcasecmp(h[i].name, name) == 0) return 1;
    return 0;
}

static struct curl_slist *build_headers(const ma_httpc_header *h, size_t n, int *oom)
{
    struct curl_slist *list = NULL, *t;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !*h[i].name) continue;
        const char *v = h[i].value ? h[i].value : "";
        size_t len = strlen(h[i].name) + strlen(v) + 3;
        char *line = malloc(len);
        if (!line) goto oom;
        /* "Name;" is curl's way to send a header with an empty value ("Name:" would remove it) */
        if (*v) snprintf(line, len, "%s: %s", h[i].name, v);
        else snprintf(line, len, "%s;", h[i].name);
        t = curl_slist_append(list, line);
        /* wipe: the line may carry credentials */
        memset(line, 0, len);
        free(line);
        if (!t) goto oom;
        list = t;
    }
    if (!has_header(h, n, "Expect")) { /* no 100-continue round trip */
        if (!(t = curl_slist_append(list, "Expect:"))) goto oom;
        list = t;
    }
    return list;
oom:
    *oom = 1;
    curl_slist_free_all(list);
    return NULL;
}

static void wipe_slist(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p; p = p->next)
        if (p->data) memset(p->data, 0, strlen(p->data));
    curl_slist_free_all(l);
}

static void setup(ma_httpc *c, CURL *h, const char *method, const char *url, struct curl_slist *hdrs, const void *body,
                  size_t body_len, xfer *x, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");             /* every encoding curl can decode */
    curl_easy_setopt(h, CURLOPT_PROXY, c->proxy ? c->proxy : ""); /* "" = no proxy, not even from the environment */
    if (c->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->client_cert) curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
    if (c->client_key) curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->follow_redirects) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
        if (strcmp(method, "POST") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        else curl_easy_setopt(h, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
}

static int valid_method(const char *m)
{
    if (!m || !*m || strlen(m) > 32) return 0;
    for (const char *p = m; *p; p++)
        if (!isupper((unsigned char)*p) && *p != '-' && *p != '_') return 0;
    return 1;
}

int ma_httpc_request(ma_httpc *c, const char *method, const char *url, const ma_httpc_header *headers, size_t n_headers,
                     const void *body, size_t body_len, ma_httpc_response *res, ma_error *err)
{
    if (res) memset(res, 0, sizeof *res);
    char shown[512];
    safe_url(url, shown, sizeof shown);
    if (!c || !res || !url) return ma_error_set(err, MA_ERR_USAGE, "ma_httpc_request: no pool, URL or response");
    if (!valid_method(method))
        return ma_error_set(err, MA_ERR_USAGE, "HTTP %s %s: not a method name", method ? method : "(null)", shown);
    if (ready(c, err) < 0) return -1;
    int oom = 0;
    struct curl_slist *hdrs = build_headers(headers, n_headers, &oom);
    if (oom) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    CURL *h = take_handle(c);
    if (!h) {
        wipe_slist(hdrs);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory (curl handle)");
    }
    char errbuf[CURL_ERROR_SIZE];
    xfer x;
    memset(&x, 0, sizeof x);
    int rc = -1, attempts = 0;
    long status = 0;
    for (int attempt = 0;; attempt++) {
        xfer_free(&x);
        x.max = c->max_response;
        errbuf[0] = '\0';
        if (attempt) curl_easy_reset(h);
        setup(c, h, method, url, hdrs, body, body_len, &x, errbuf);
        CURLcode cc = curl_easy_perform(h);
        attempts++;
        long nconn = 0;
        if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK && nconn > 0)
            atomic_fetch_add(&c->connections, nconn);
        status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (x.oom) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "HTTP %s %s: out of memory reading the response", method, shown);
            break;
        }
        if (x.too_big) {
            rc = ma_error_set(err, MA_ERR_LIMIT, "HTTP %s %s: the response is larger than %zu bytes", method, shown,
                              c->max_response);
            break;
        }
        int more = attempt < c->retries;
        if (cc == CURLE_ABORTED_BY_CALLBACK || (cc != CURLE_OK && ma_exec_must_stop())) {
            rc = ma_error_set(err, MA_ERR_IO, "HTTP %s %s: stopped, the execution must end (its time or memory limit)",
                              method, shown);
            break;
        }
        if (cc != CURLE_OK) {
            if (more && retryable_curl(cc)) {
                sleep_ms(backoff_wait(c, attempt + 1));
                continue;
            }
            const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
            if (leaks(why, url)) why = curl_easy_strerror(cc); /* curl's detail quoted the query or user info */
            rc = ma_error_set(err, MA_ERR_IO, "HTTP %s %s: %s%s", method, shown, why,
                              attempts > 1 ? " (after retries)" : "");
            break;
        }
        if (more && retryable_status(status)) {
            long w = backoff_wait(c, attempt + 1), ra = retry_after_ms(&x);
            if (ra >= 0) w = ra;
            sleep_ms(w);
            continue;
        }
        rc = 0;
        break;
    }
    wipe_slist(hdrs);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    give_handle(c, h);
    if (rc < 0) {
        xfer_free(&x);
        return -1;
    }
    if (!x.body) {
        x.body = malloc(1);
        if (!x.body) {
            xfer_free(&x);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        x.body[0] = '\0';
    }
    res->status = status;
    res->body = x.body;
    res->body_len = x.len;
    res->headers = x.headers;
    res->n_headers = x.n_headers;
    res->attempts = attempts;
    return 0;
}

void ma_httpc_response_free(ma_httpc_response *res)
{
    if (!res) return;
    for (size_t i = 0; i < res->n_headers; i++) free(res->headers[i]);
    free(res->headers);
    free(res->body);
    memset(res, 0, sizeof *res);
}

const char *ma_httpc_header_get(const ma_httpc_response *res, const char *name)
{
    if (!res || !name) return NULL;
    size_t nl = strlen(name);
    for (size_t i = 0; i < res->n_headers; i++) {
        const char *l = res->headers[i];
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ' || *v == '\t') v++;
            return v;
        }
    }
    return NULL;
}
