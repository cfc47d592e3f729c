/* server_log.c - the log of `miniatom serve`: one JSON object per line on stderr
 * ({"time","level","msg",...}), server events and one line per request (docs/server.md "Logs").
 * Request threads append whole lines to a buffer and go on; a log thread writes what has gathered
 * with one write(2), so lines never interleave and a request never waits on the terminal. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "util.h"

#define LOG_BUF (64u << 10) /* log lines waiting for the log thread */
#define LOG_GATHER_MS 20L   /* how long the log thread gathers lines before one write */

/* "2026-11-23T20:18:31.275Z" (24 characters); the seconds are formatted once per second per thread. */
void ma_iso_now(char out[32])
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

/* The log thread: it wakes at the first line, then gathers for LOG_GATHER_MS (or until the buffer
 * is half full) before one write: under load one wake-up and one write serve hundreds of requests,
 * and a line is never later than that. A full buffer makes the appending thread wait: the log is
 * never dropped and memory stays bounded. */
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

void ma_log_emit(ma_server *srv, const char *line, size_t len)
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

void ma_log_start(ma_server *srv)
{
    pthread_mutex_init(&srv->log_mu, NULL);
    pthread_cond_init(&srv->log_room, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->log_cv, &ca);
    pthread_condattr_destroy(&ca);
    srv->log_buf = malloc(LOG_BUF);
    srv->log_spare = malloc(LOG_BUF);
    if (srv->log_buf && srv->log_spare && pthread_create(&srv->log_thread, NULL, log_main, srv) == 0) srv->log_run = 1;
}

void ma_log_stop(ma_server *srv)
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

void ma_log_free(ma_server *srv)
{
    ma_log_stop(srv);
    free(srv->log_buf);
    free(srv->log_spare);
    pthread_mutex_destroy(&srv->log_mu);
    pthread_cond_destroy(&srv->log_cv);
    pthread_cond_destroy(&srv->log_room);
}

/* The start of every log line: {"time":"...","level":"...","msg":"..." */
static void line_head(ma_sb *b, const char *level, const char *msg)
{
    char t[32];
    ma_iso_now(t);
    ma_sb_lit(b, "{\"time\":\"");
    ma_sb_puts(b, t);
    ma_sb_lit(b, "\",\"level\":");
    ma_sb_json_str(b, level);
    ma_sb_lit(b, ",\"msg\":");
    ma_sb_json_str(b, msg);
}

void ma_log_line(ma_server *srv, const char *level, const char *msg, const char *extra_json)
{
    ma_sb b;
    ma_sb_init(&b);
    line_head(&b, level, msg);
    if (extra_json) { /* the members of a JSON object text */
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
            ma_sb_lit(&b, ",\"extra\":");
            ma_sb_json_str(&b, extra_json);
        }
    }
    ma_sb_lit(&b, "}\n");
    if (!b.oom) ma_log_emit(srv, b.s, b.len);
    ma_sb_free(&b);
}

static const char *const level_names[] = {"info", "warning", "error"};

void ma_server_log(ma_server *srv, ma_log_level level, const char *msg, const char *extra_json)
{
    if (srv) ma_log_line(srv, level_names[(unsigned)level < 3 ? level : 2], msg, extra_json);
}

void ma_log_error(ma_server *srv, const char *msg, const char *why)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"error\":");
    ma_sb_json_str(&b, why);
    ma_sb_putc(&b, '}');
    ma_log_line(srv, "error", msg, b.oom ? NULL : b.s);
    ma_sb_free(&b);
}

/* ,"name":"value" with value cut at max bytes (then marked "...") */
static void put_field(ma_sb *b, const char *name, const char *v, size_t max)
{
    ma_sb_putc(b, ',');
    ma_sb_json_str(b, name);
    ma_sb_lit(b, ":\"");
    size_t n = strnlen(v, max + 1);
    ma_sb_json_escape(b, v, n > max ? max : n);
    if (n > max) ma_sb_lit(b, "...");
    ma_sb_putc(b, '"');
}

static void put_uint(ma_sb *b, unsigned long long v)
{
    char d[24];
    int n = 0;
    do d[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n) ma_sb_putc(b, d[--n]);
}

/* The path of a request as logged: an absolute-form target ("http://user:token@host/x") loses its
 * userinfo, so that credentials sent in a URL never reach the log. */
static void put_path(ma_sb *b, const char *path)
{
    const char *sep = strstr(path, "://");
    const char *auth = sep ? sep + 3 : NULL;
    const char *end = auth ? auth + strcspn(auth, "/?#") : NULL;
    const char *at = NULL;
    for (const char *p = auth; p && p < end; p++)
        if (*p == '@') at = p;
    if (!at) {
        put_field(b, "path", path, 1024);
        return;
    }
    ma_sb_lit(b, ",\"path\":\"");
    ma_sb_json_escape(b, path, (size_t)(auth - path));
    size_t n = strnlen(at + 1, 1024);
    ma_sb_json_escape(b, at + 1, n);
    ma_sb_putc(b, '"');
}

void ma_log_request(ma_server *srv, const ma_request_log *r)
{
    if (!srv->c.log_requests) return;
    ma_sb b;
    ma_sb_init(&b);
    line_head(&b, "info", "request");
    put_field(&b, "method", r->method ? r->method : "", 32);
    put_path(&b, r->path ? r->path : "");
    uint64_t us = (ma_now_ns() - r->t0_ns) / 1000;
    ma_sb_lit(&b, ",\"status\":");
    put_uint(&b, (unsigned)r->status);
    ma_sb_lit(&b, ",\"duration_ms\":");
    put_uint(&b, us / 1000);
    char frac[4] = {'.', (char)('0' + us % 1000 / 100), (char)('0' + us % 100 / 10), (char)('0' + us % 10)};
    ma_sb_append(&b, frac, 4);
    if (r->execution_id && r->execution_id[0]) put_field(&b, "execution_id", r->execution_id, 80);
    put_field(&b, "remote", r->remote ? r->remote : "-", 80);
    if (r->user) put_field(&b, "user", r->user, 128);
    if (r->debug) put_field(&b, "debug", r->debug, 16);
    ma_sb_lit(&b, "}\n");
    if (!b.oom) ma_log_emit(srv, b.s, b.len);
    ma_sb_free(&b);
}
