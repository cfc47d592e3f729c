/* server.c - the life of `miniatom serve` (docs/server.md): settings checked, the registry with its
 * plugins, the execution history, the first deployment, the worker pool and the HTTP server
 * started; then signals: SIGHUP reloads the deploy folder (a new snapshot, or the old one stays
 * with why), SIGTERM and SIGINT drain (stop accepting, let executions in flight end within
 * server.drain.timeout, cancel the rest) and stop. Also --check-config, which goes as far as a
 * start would without listening. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builtins.h"
#include "server.h"
#include "util.h"

#define DRAIN_GRACE_MS 5000 /* after the drain timeout, cancelled executions get this long to stop */

/* ---- what listeners get (miniatom/listener.h) ---- */

const char *ma_server_data_dir(const ma_server *srv) { return srv->c.data; }

/* ---- problems of the configuration, on stderr ---- */

static void report_stderr(void *ctx, const char *where, const char *why)
{
    (void)ctx;
    fprintf(stderr, "miniatom: %s: %s\n", where, why);
}

/* The registry with every built-in type and the plugins of server.plugins; NULL after saying why. */
static ma_registry *make_registry(const ma_settings *s, ma_error *err)
{
    ma_registry *reg = ma_builtins_registry(err);
    if (!reg) return NULL;
    const char *plugins = ma_settings_get(s, "server.plugins");
    if (plugins && ma_registry_load_plugins(reg, plugins, err) < 0) {
        ma_registry_free(reg);
        return NULL;
    }
    return reg;
}

int ma_server_check(const ma_settings *s, int strict)
{
    ma_error err;
    ma_error_clear(&err);
    ma_registry *reg = make_registry(s, &err);
    if (!reg) {
        fprintf(stderr, "miniatom: %s\n", err.msg);
        return 3;
    }
    ma_server_cfg c;
    memset(&c, 0, sizeof c);
    c.strict = strict;
    int problems = ma_server_cfg_load(reg, s, &c, report_stderr, NULL);
    int rc = 0;
    if (problems) {
        fprintf(stderr, "miniatom: %d problem%s in the configuration\n", problems, problems == 1 ? "" : "s");
        rc = 2;
    } else {
        ma_snapshot *snap = ma_snapshot_build(NULL, reg, s, c.deploy, strict, &err);
        if (!snap) {
            fprintf(stderr, "miniatom: the deployment in %s would not be served: %s\n", c.deploy, err.msg);
            rc = 3;
        } else {
            printf("configuration OK (%zu setting%s); deployment %s: %zu process%s, %zu not runnable%s\n",
                   ma_settings_count(s), ma_settings_count(s) == 1 ? "" : "s", c.deploy, snap->n_processes,
                   snap->n_processes == 1 ? "" : "es", snap->n_not_runnable,
                   snap->n_not_runnable ? " (served with 503; miniatom check says why)" : "");
            ma_snapshot_unref(snap);
        }
    }
    ma_server_cfg_free(&c);
    ma_registry_free(reg);
    return rc;
}

/* ---- life ---- */

static void *recover_main(void *arg)
{
    ma_server *srv = arg;
    ma_snapshot *snap = ma_server_snapshot(srv);
    for (size_t i = 0; snap && i < srv->reg->n_listeners; i++)
        if (srv->reg->listeners[i]->recover) srv->reg->listeners[i]->recover(srv, snap->states[i]);
    ma_snapshot_unref(snap);
    return NULL;
}

void ma_server_start_recovery(ma_server *srv)
{
    pthread_mutex_lock(&srv->recover_mu);
    if (!srv->recovering && !srv->recover_closed)
        srv->recovering = pthread_create(&srv->recover_thread, NULL, recover_main, srv) == 0;
    pthread_mutex_unlock(&srv->recover_mu);
}

/* Stops new recoveries; 1 when one runs (its thread is to be joined). */
static int close_recovery(ma_server *srv)
{
    pthread_mutex_lock(&srv->recover_mu);
    srv->recover_closed = 1;
    int r = srv->recovering;
    pthread_mutex_unlock(&srv->recover_mu);
    return r;
}

void ma_http_forget_slow_paths(ma_server *srv);

static void reload(ma_server *srv)
{
    uint64_t t0 = ma_now_ns();
    ma_error err;
    ma_error_clear(&err);
    ma_snapshot *s = ma_snapshot_build(srv, srv->reg, srv->settings, srv->deploy_dir, srv->c.strict, &err);
    if (!s) {
        ma_log_error(srv, "reload failed; the running deployment stays", err.msg);
        return;
    }
    pthread_mutex_lock(&srv->snap_mu);
    s->generation = ++srv->generation;
    ma_snapshot *old = srv->snap;
    srv->snap = s;
    pthread_mutex_unlock(&srv->snap_mu);
    ma_snapshot_unref(old);         /* executions that hold it finish on it */
    ma_http_forget_slow_paths(srv); /* routes may have changed */
    char x[256];
    snprintf(x, sizeof x, "{\"generation\":%u,\"processes\":%zu,\"notRunnable\":%zu,\"duration_ms\":%.1f}",
             s->generation, s->n_processes, s->n_not_runnable, (double)(ma_now_ns() - t0) / 1e6);
    ma_log_line(srv, "info", "deployment reloaded", x);
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
    ma_http_quiesce(srv);
    pthread_mutex_lock(&srv->mu);
    char x[128];
    snprintf(x, sizeof x, "{\"executions\":%zu,\"requests\":%zu,\"timeout_ms\":%llu}", srv->n_inflight, srv->n_handling,
             (unsigned long long)srv->c.drain_ms);
    pthread_mutex_unlock(&srv->mu);
    ma_log_line(srv, "info", "draining", x);
    wait_idle(srv, srv->c.drain_ms);
    pthread_mutex_lock(&srv->mu);
    size_t left = srv->n_inflight + srv->n_handling + srv->n_slow;
    if (left) {
        ma_pool_cancel_all(srv);
        snprintf(x, sizeof x, "{\"executions\":%zu}", srv->n_inflight);
        pthread_mutex_unlock(&srv->mu);
        ma_log_line(srv, "warning", "drain timeout: cancelling the executions still running", x);
        wait_idle(srv, DRAIN_GRACE_MS);
        pthread_mutex_lock(&srv->mu);
        left = srv->n_inflight + srv->n_handling + srv->n_slow;
    }
    pthread_mutex_unlock(&srv->mu);
    return left ? -1 : 0;
}

static void server_free(ma_server *srv)
{
    ma_kdf_stop(srv->kdf); /* its last jobs resume their connections before the HTTP side stops */
    srv->kdf = NULL;
    ma_http_stop(srv);
    ma_pool_stop(srv);
    if (close_recovery(srv)) pthread_join(srv->recover_thread, NULL); /* a start that failed after it began */
    ma_store_stop(srv);
    ma_snapshot_unref(srv->snap);
    ma_registry_free(srv->reg);
    free(srv->deploy_dir);
    free(srv->tls_cert_pem);
    if (srv->tls_key_pem) ma_wipe(srv->tls_key_pem, strlen(srv->tls_key_pem));
    free(srv->tls_key_pem);
    free(srv->tls_ca_pem);
    ma_server_cfg_free(&srv->c);
    ma_ratelimit_free(srv->auth_rl);
    ma_ratelimit_free(srv->debug_rl);
    pthread_mutex_destroy(&srv->snap_mu);
    pthread_mutex_destroy(&srv->rps_mu);
    pthread_mutex_destroy(&srv->auth_mu);
    pthread_mutex_destroy(&srv->recover_mu);
    ma_log_free(srv);
    free(srv);
}

/* The "listening" log line. */
static void log_listening(ma_server *srv, uint64_t t0)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"address\":");
    ma_sb_json_str(&b, srv->c.listen);
    ma_sb_printf(&b, ",\"port\":%u,\"tls\":%s,\"client_certificates\":%s,\"threads\":%llu,\"workers\":%llu,\"deploy\":",
                 srv->port, srv->c.tls_cert ? "true" : "false", srv->c.tls_ca ? "true" : "false",
                 (unsigned long long)srv->c.threads, (unsigned long long)srv->c.workers);
    ma_sb_json_str(&b, srv->deploy_dir);
    ma_sb_printf(&b, ",\"listeners\":[");
    for (size_t i = 0; i < srv->reg->n_listeners; i++) {
        if (i) ma_sb_putc(&b, ',');
        ma_sb_json_str(&b, srv->reg->listeners[i]->prefix);
    }
    ma_sb_printf(&b, "],\"processes\":%zu,\"notRunnable\":%zu,\"startup_ms\":%.1f}", srv->snap->n_processes,
                 srv->snap->n_not_runnable, (double)(ma_now_ns() - t0) / 1e6);
    ma_log_line(srv, "info", "listening", b.s);
    ma_sb_free(&b);
    int basic = 0;
    for (size_t i = 0; i < srv->c.n_auth; i++) basic |= srv->c.auth[i].mode == MA_AUTH_BASIC;
    if (basic && !srv->c.tls_cert)
        ma_log_line(
            srv, "warning",
            "basic authentication without TLS sends tokens in clear text; set server.tls.cert and server.tls.key",
            NULL);
}

int ma_server_run(const ma_settings *settings, int strict)
{
    uint64_t t0 = ma_now_ns();
    ma_server *srv = calloc(1, sizeof *srv);
    if (!srv) return 1;
    srv->settings = settings;
    srv->c.strict = strict;
    pthread_mutex_init(&srv->snap_mu, NULL);
    pthread_mutex_init(&srv->rps_mu, NULL);
    pthread_mutex_init(&srv->auth_mu, NULL);
    pthread_mutex_init(&srv->recover_mu, NULL);
    atomic_init(&srv->draining, 0);
    atomic_init(&srv->n_debug, 0);
    atomic_init(&srv->n_inline, 0);
    /* signals: every thread started from here on blocks them; this one waits for them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit (RLIMIT_FSIZE) is a write error (EFBIG), not an exit */
    ma_log_start(srv);

    ma_error err;
    ma_error_clear(&err);
    int rc = 1;
    if (!(srv->reg = make_registry(settings, &err))) {
        fprintf(stderr, "miniatom: cannot load the shape, connector and listener types: %s\n", err.msg);
        server_free(srv);
        return 3;
    }
    if (ma_server_cfg_load(srv->reg, settings, &srv->c, report_stderr, NULL)) {
        fprintf(stderr, "miniatom: the configuration is not valid (miniatom serve --check-config says the same)\n");
        server_free(srv);
        return 2;
    }
    srv->tokens = (double)srv->c.rps;
    srv->rps_last_ns = ma_now_ns();
    if (ma_server_auth_init(srv, &err) < 0) {
        ma_log_error(srv, "cannot start the server", err.msg);
        goto out;
    }
    uint64_t seed = ma_now_ns() ^ (uint64_t)(uintptr_t)srv ^ ((uint64_t)srv->cache_key[0] << 56);
    if (!(srv->auth_rl = ma_ratelimit_new(4096, srv->c.auth_failures, seed)) ||
        !(srv->debug_rl = ma_ratelimit_new(1024, srv->c.debug_rate, seed * 31)) ||
        !(srv->kdf = ma_kdf_start(srv->c.kdf_threads, srv->c.kdf_queue, &err))) {
        ma_log_error(srv, "cannot start the server", srv->auth_rl && srv->debug_rl ? err.msg : "out of memory");
        goto out;
    }

    if (!(srv->deploy_dir = ma_strdup(srv->c.deploy))) goto out;
    ma_store_start(srv); /* unusable: the server serves what needs no record (the log says why) */
    if (!(srv->snap = ma_snapshot_build(srv, srv->reg, settings, srv->deploy_dir, strict, &err))) {
        char *msg = ma_asprintf("the deployment in %s is not valid", srv->deploy_dir);
        ma_log_error(srv, msg ? msg : "the deployment is not valid", err.msg);
        free(msg);
        rc = 3;
        goto out;
    }
    srv->snap->generation = srv->generation = 1;
    if (ma_pool_start(srv, &err) < 0 || ma_http_start(srv, &err) < 0) {
        ma_log_error(srv, "cannot start the server", err.msg);
        goto out;
    }
    log_listening(srv, t0);
    if (ma_store_want_recovery(srv)) ma_server_start_recovery(srv); /* else once the history is usable */

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
    if (close_recovery(srv)) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += drained == 0 ? 2 : 0;
        if (pthread_timedjoin_np(srv->recover_thread, NULL, &dl) != 0) drained = -1;
        else srv->recovering = 0;
    }
    if (drained < 0) {
        ma_log_line(
            srv, "error",
            "executions (or the listeners' recovery) did not stop in time; exiting now (executions left running "
            "are recorded as ABORTED at the next start)",
            NULL);
        ma_log_stop(srv); /* the log is written out; the executions are left to the exit */
        _exit(0);
    }
    ma_kdf_stop(srv->kdf);
    srv->kdf = NULL;
    ma_http_stop(srv);
    rc = 0;
out:
    server_free(srv);
    if (rc == 0) ma_log_line(NULL, "info", "stopped", NULL);
    return rc;
}
