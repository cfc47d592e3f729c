/* server_pool.c - where the server's executions run (boomi-atom-semantics.md 3.1-3.2): low latency on
 * the request's own thread; general and bridge mode on a bounded pool of worker threads (a full
 * queue is refused, never grown); every mode on the thread of a deferred request, whose caller a
 * timer thread can answer early (a Flow WAIT) while the execution goes on. It keeps the executions
 * in flight (for allowSimultaneous="false", drains and cancelling) and records general and bridge
 * executions in the history before they run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "membudget.h"
#include "server.h"
#include "util.h"

typedef struct ma_job {
    ma_exec_rec rec;
    pthread_cond_t cv; /* signalled (under srv->mu) when done */
    int refs;          /* the waiting caller + the worker; under srv->mu */
    int done, abandoned, keep_running;
    ma_snapshot *snap; /* owned reference */
    ma_process *proc;  /* borrowed from snap */
    ma_batch input;    /* owned references */
    char **props;      /* owned copies */
    size_t n_props;
    ma_mode mode;
    char trigger[16];
    char exec_id[80];
    int rc;
    ma_error err;
    ma_result res; /* owned until handed to the caller or to late() */
    void (*late)(void *user, ma_run_result *res);
    void *user;
} ma_job;

/* tl_inline is set while a server (libmicrohttpd) thread runs a listener's handle(); a wait for the
 * worker pool there sets tl_waited, and that request path is served on a thread of its own from then
 * on, so that waiting requests do not hold the server threads (server_http.c). tl_defer is set while
 * a thread handles a deferred request: its early answer. */
static _Thread_local int tl_inline, tl_waited;
static _Thread_local ma_deferral *tl_defer;

void ma_pool_inline(int on)
{
    tl_inline = on;
    if (on) tl_waited = 0;
}
int ma_pool_waited(void) { return tl_waited; }
void ma_pool_set_deferral(ma_deferral *w) { tl_defer = w; }
int ma_server_handler_deferred(void) { return tl_defer != NULL; }

/* Registers an execution (under srv->mu). -1 with err when the server has stopped or the process
 * (allowSimultaneous="false") is already running. While draining, requests accepted before still
 * run: new requests are refused before they get here. */
static int inflight_add(ma_server *srv, ma_exec_rec *r, const ma_process *proc, ma_error *err)
{
    if (srv->stop_workers) return ma_error_set(err, MA_ERR_LIMIT, "the server has stopped");
    r->excl_id = NULL;
    if (proc->xml && ma_xml_attr_is(proc->xml, "allowSimultaneous", "false")) {
        for (ma_exec_rec *o = srv->inflight.next; o != &srv->inflight; o = o->next)
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

void ma_pool_idle_check(ma_server *srv)
{
    if (srv->n_inflight == 0 && srv->n_handling == 0 && srv->n_slow == 0) pthread_cond_broadcast(&srv->idle_cv);
}

static void inflight_remove(ma_server *srv, ma_exec_rec *r)
{
    r->prev->next = r->next;
    r->next->prev = r->prev;
    r->prev = r->next = r;
    srv->n_inflight--;
    ma_pool_idle_check(srv);
}

void ma_pool_cancel_all(ma_server *srv)
{
    for (ma_exec_rec *r = srv->inflight.next; r != &srv->inflight; r = r->next)
        __atomic_store_n(&r->cancel, 1, __ATOMIC_RELAXED);
}

static const char *mode_name(ma_mode m)
{
    return m == MA_MODE_GENERAL ? "general" : m == MA_MODE_BRIDGE ? "bridge" : "low_latency";
}

static void job_free(ma_job *j)
{
    ma_snapshot_unref(j->snap);
    ma_batch_clear(&j->input);
    ma_strings_free(j->props, j->n_props);
    ma_result_free(&j->res);
    pthread_cond_destroy(&j->cv);
    free(j);
}

/* Records the start of a general or bridge execution (before it runs, so before its caller is
 * answered); -1 with err when it could not be recorded. */
static int record_begin(ma_server *srv, const char *exec_id, const ma_process *proc, ma_mode mode, const char *trigger,
                        const ma_batch *input, ma_error *err)
{
    if (ma_store_begin(srv, exec_id, proc, mode_name(mode), trigger, input, mode == MA_MODE_GENERAL, err) == 0)
        return 0;
    ma_error_prefix(err, "the execution could not be recorded");
    return -1;
}

/* Records the end of a general or bridge execution. These modes promise a record: when it cannot be
 * written, an execution that succeeded ends ERROR with why, so that its caller (or late()) is not
 * told it succeeded; logged with the status it had. */
static void record_end(ma_server *srv, const char *exec_id, const ma_process *proc, ma_result *res, ma_mode mode)
{
    ma_error herr;
    ma_error_clear(&herr);
    if (ma_store_end(srv, exec_id, proc, res, mode == MA_MODE_GENERAL, &herr) == 0) return;
    int succeeded = res->status == MA_STATUS_COMPLETE || res->status == MA_STATUS_COMPLETE_WARN;
    ma_sb x;
    ma_sb_init(&x);
    ma_sb_lit(&x, "{\"execution_id\":");
    ma_sb_json_str(&x, exec_id);
    ma_sb_printf(&x, ",\"status\":\"%s\",\"error\":", ma_status_name(res->status));
    ma_sb_json_str(&x, herr.msg);
    ma_sb_putc(&x, '}');
    ma_log_line(srv, "error", "the end of an execution was not recorded; its caller gets an error", x.oom ? NULL : x.s);
    ma_sb_free(&x);
    if (!succeeded) return; /* its caller learns of the failure (ERROR, timed out, cancelled) already */
    char why[700];
    if (ma_store_usable(srv, why, sizeof why)) ma_strlcpy(why, "its record could not be written", sizeof why);
    char *msg =
        ma_asprintf("the execution ran (%s) but it could not be recorded: %s", ma_status_name(res->status), why);
    ma_batch_clear(&res->docs);
    free(res->message);
    res->message = msg ? msg : ma_strdup("the execution ran but it could not be recorded");
    res->status = MA_STATUS_ERROR;
}

/* A result saying why an execution could not start (what its record and late() get). */
static void result_error(ma_result *res, const char *exec_id, const ma_error *err)
{
    ma_result_free(res);
    res->status = MA_STATUS_ERROR;
    res->message = ma_strdup(err->msg);
    ma_strlcpy(res->execution_id, exec_id, sizeof res->execution_id);
}

static void run_opts(ma_server *srv, ma_run_opts *ro, int low, const char *const *props, size_t n_props,
                     const volatile int *cancel, const char *exec_id)
{
    memset(ro, 0, sizeof *ro);
    ro->general_mode = !low;
    ro->data_dir = srv->c.data;
    ro->props = props;
    ro->n_props = n_props;
    ro->retry_scale = 1.0;
    ro->cancel = cancel;
    ro->execution_id = exec_id;
    ro->max_memory = srv->c.exec_memory;
}

/* -1 with err (MA_ERR_LIMIT: 503) when the executions already hold most of server.max_memory */
static int memory_admits(ma_error *err)
{
    if (!ma_membudget_server_full()) return 0;
    return ma_error_set(err, MA_ERR_LIMIT,
                        "the executions running hold %llu MB of the server's memory budget of %llu MB "
                        "(server.max_memory); try again later",
                        (unsigned long long)(ma_membudget_server_used() >> 20),
                        (unsigned long long)(ma_membudget_server_limit() >> 20));
}

static void run_job(ma_server *srv, ma_job *j)
{
    ma_run_opts ro;
    run_opts(srv, &ro, j->mode == MA_MODE_LOW_LATENCY, (const char *const *)j->props, j->n_props, &j->rec.cancel,
             j->exec_id);
    ma_error_clear(&j->err);
    j->rc = ma_execute(ma_snapshot_deploy(j->snap), j->proc, &j->input, &ro, &j->res, &j->err);
    if (j->rc < 0) result_error(&j->res, j->exec_id, &j->err); /* it could not start: the record it has says why */
    if (j->mode != MA_MODE_LOW_LATENCY)
        record_end(srv, j->exec_id, j->proc, &j->res, j->mode); /* low: never recorded */
}

/* Hands the result of an execution that outlived its caller's wait to late(). */
static void give_late(void (*late)(void *, ma_run_result *), void *user, const ma_process *proc, ma_result *res,
                      int cancelled)
{
    ma_run_result rr;
    ma_run_result_from(&rr, proc, res, cancelled);
    late(user, &rr); /* it owns what rr holds now */
}

static void *worker_main(void *arg)
{
    ma_server *srv = arg;
    pthread_mutex_lock(&srv->mu);
    for (;;) {
        while (!srv->q_len && !srv->stop_workers) pthread_cond_wait(&srv->pool_cv, &srv->mu);
        if (!srv->q_len) break;
        ma_job *j = srv->ring[srv->q_head];
        srv->q_head = (srv->q_head + 1) % srv->c.queue;
        srv->q_len--;
        pthread_mutex_unlock(&srv->mu);

        run_job(srv, j);

        pthread_mutex_lock(&srv->mu);
        j->done = 1;
        j->rec.excl_id = NULL; /* the process may run again */
        int give = j->abandoned && j->keep_running && j->late, cancelled = j->rec.cancel;
        if (!j->abandoned) pthread_cond_signal(&j->cv);
        pthread_mutex_unlock(&srv->mu);
        if (give) give_late(j->late, j->user, j->proc, &j->res, cancelled);
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

/* ---- the early answers of deferred requests (the timer thread) ---------------------------------------- */

static void timer_arm(ma_server *srv, ma_deferral *w, const ma_run_request *rq, const char *exec_id,
                      uint64_t timeout_ms)
{
    w->early = rq->early;
    w->user = rq->user;
    ma_strlcpy(w->exec_id, exec_id, sizeof w->exec_id);
    w->deadline_ns = ma_now_ns() + timeout_ms * 1000000ull;
    pthread_mutex_lock(&srv->tmu);
    ma_deferral *p = srv->timers.prev; /* deadlines mostly come in order: look from the end */
    while (p != &srv->timers && p->deadline_ns > w->deadline_ns) p = p->prev;
    w->prev = p;
    w->next = p->next;
    p->next->prev = w;
    p->next = w;
    w->state = MA_D_ARMED;
    if (w->prev == &srv->timers) pthread_cond_signal(&srv->tcv); /* the earliest now */
    pthread_mutex_unlock(&srv->tmu);
}

/* Under srv->tmu: takes w off the list of armed early answers. */
static void timer_unlink(ma_deferral *w)
{
    w->prev->next = w->next;
    w->next->prev = w->prev;
    w->prev = w->next = w;
}

/* Once the execution has ended: 0 when the caller was not answered yet (it will be, by the handler),
 * 1 when the early answer was given (then it waits until that answer is complete). */
static int timer_disarm(ma_server *srv, ma_deferral *w)
{
    pthread_mutex_lock(&srv->tmu);
    if (w->state == MA_D_ARMED) {
        timer_unlink(w);
        w->state = MA_D_DONE;
        pthread_mutex_unlock(&srv->tmu);
        return 0;
    }
    while (w->state != MA_D_ANSWERED) pthread_cond_wait(&srv->tdone, &srv->tmu);
    pthread_mutex_unlock(&srv->tmu);
    return 1;
}

/* Gives the early answers whose deadline has passed: the response goes to the waiting connection;
 * the handler's thread goes on with the execution (timer_disarm). */
static void *timer_main(void *arg)
{
    ma_server *srv = arg;
    pthread_mutex_lock(&srv->tmu);
    while (!srv->timer_stop) {
        ma_deferral *w = srv->timers.next;
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
        w->state = MA_D_ANSWERING;
        pthread_mutex_unlock(&srv->tmu);
        ma_http_resp *r = calloc(1, sizeof *r); /* owned by the connection once handed over */
        if (r) {
            r->status = 200;
            if (w->early(w->user, w->exec_id, r) < 0) {
                ma_http_resp_clear(r);
                ma_http_resp_error(r, 500, "out of memory", w->exec_id);
            }
        }
        struct ma_http_conn *conn = w->conn;
        pthread_mutex_lock(&srv->tmu);
        w->state = MA_D_ANSWERED; /* from here on the handler may free w */
        pthread_cond_broadcast(&srv->tdone);
        pthread_mutex_unlock(&srv->tmu);
        ma_http_conn_answer(conn, r); /* NULL: the connection is closed */
        pthread_mutex_lock(&srv->tmu);
    }
    pthread_mutex_unlock(&srv->tmu);
    return NULL;
}

/* Runs an execution on this thread: low latency on a server thread, and every mode on the thread of a
 * deferred request (w: its early answer, armed when the caller can be answered before the execution
 * ends). */
static ma_pool_rc execute_here(ma_server *srv, ma_snapshot *snap, ma_process *proc, const ma_batch *input,
                               const ma_run_request *rq, uint64_t timeout_ms, ma_result *res, const char *exec_id,
                               ma_deferral *w, int *cancelled, ma_error *err)
{
    int low = rq->mode == MA_MODE_LOW_LATENCY;
    if (memory_admits(err) < 0) return MA_POOL_NOT_STARTED;
    ma_exec_rec rec;
    memset(&rec, 0, sizeof rec);
    pthread_mutex_lock(&srv->mu);
    int rc = inflight_add(srv, &rec, proc, err);
    pthread_mutex_unlock(&srv->mu);
    if (rc < 0) return MA_POOL_NOT_STARTED;
    /* recorded before it runs, and so before the caller is answered */
    if (!low && record_begin(srv, exec_id, proc, rq->mode, rq->trigger ? rq->trigger : "", input, err) < 0) {
        pthread_mutex_lock(&srv->mu);
        inflight_remove(srv, &rec);
        pthread_mutex_unlock(&srv->mu);
        return MA_POOL_NOT_STARTED;
    }
    int early = w && w->state == MA_D_IDLE && rq->keep_running && rq->late && rq->early;
    if (early) timer_arm(srv, w, rq, exec_id, timeout_ms);
    ma_run_opts ro;
    run_opts(srv, &ro, low, rq->props, rq->n_props, &rec.cancel, exec_id);
    ro.timeout_ms = rq->keep_running ? 0 : timeout_ms; /* here, it cannot be left running: it goes on or stops */
    rc = ma_execute(ma_snapshot_deploy(snap), proc, input, &ro, res, err);
    if (rc < 0 && (early || !low)) result_error(res, exec_id, err); /* it could not start: say why */
    if (!low) record_end(srv, exec_id, proc, res, rq->mode);
    if (early && timer_disarm(srv, w)) { /* the caller got the early answer: late() gets the result */
        pthread_mutex_lock(&srv->mu);
        rec.excl_id = NULL; /* the process may run again */
        int was_cancelled = rec.cancel;
        pthread_mutex_unlock(&srv->mu);
        give_late(rq->late, rq->user, proc, res, was_cancelled); /* in flight meanwhile: a stop waits for it */
        memset(res, 0, sizeof *res);
        pthread_mutex_lock(&srv->mu);
        inflight_remove(srv, &rec);
        pthread_mutex_unlock(&srv->mu);
        return MA_POOL_ANSWERED;
    }
    pthread_mutex_lock(&srv->mu);
    *cancelled = rec.cancel;
    inflight_remove(srv, &rec);
    pthread_mutex_unlock(&srv->mu);
    if (rc < 0) {
        if (early || !low) ma_result_free(res);
        return MA_POOL_NOT_STARTED;
    }
    if (!rq->keep_running && res->status == MA_STATUS_ABORTED && !*cancelled) { /* past the sync timeout */
        ma_result_free(res);
        return MA_POOL_TIMEOUT;
    }
    return MA_POOL_RAN;
}

ma_pool_rc ma_pool_execute(ma_server *srv, ma_snapshot *snap, ma_process *proc, const ma_batch *input,
                           const ma_run_request *rq, ma_result *res, char exec_id[80], int *cancelled, ma_error *err)
{
    ma_execution_id_new(exec_id);
    *cancelled = 0;
    uint64_t timeout_ms = rq->timeout_ms ? rq->timeout_ms : srv->c.sync_ms;
    /* A deferred request runs every mode on its own thread. Otherwise low latency runs on the
     * caller's thread, unless it may outlive the caller's wait and the listener gave no early answer:
     * then a worker runs it, in memory, and the caller waits for it as for a general-mode one. Only
     * general and bridge waits mark the path slow; a low-latency one that takes long is marked by
     * server.slow_after. */
    int low = rq->mode == MA_MODE_LOW_LATENCY;
    if (tl_defer) return execute_here(srv, snap, proc, input, rq, timeout_ms, res, exec_id, tl_defer, cancelled, err);
    if (low && (!(rq->keep_running && rq->late) || rq->early)) /* early: the listener chose not to defer it */
        return execute_here(srv, snap, proc, input, rq, timeout_ms, res, exec_id, NULL, cancelled, err);
    if (tl_inline && !low) tl_waited = 1;
    if (memory_admits(err) < 0) return MA_POOL_NOT_STARTED;

    ma_job *j = calloc(1, sizeof *j);
    if (!j) return ma_error_set(err, MA_ERR_NOMEM, "out of memory"), MA_POOL_NOT_STARTED;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the deadline below is monotonic */
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    j->refs = 2;
    j->keep_running = rq->keep_running;
    j->late = rq->late;
    j->user = rq->user;
    j->snap = ma_snapshot_ref(snap);
    j->proc = proc;
    j->mode = rq->mode;
    ma_strlcpy(j->trigger, rq->trigger ? rq->trigger : "", sizeof j->trigger);
    ma_strlcpy(j->exec_id, exec_id, sizeof j->exec_id);
    ma_batch_init(&j->input);
    for (size_t i = 0; input && i < input->len; i++)
        if (ma_batch_push(&j->input, ma_doc_ref(input->docs[i])) < 0) goto nomem;
    if (rq->n_props && !(j->props = calloc(rq->n_props, sizeof *j->props))) goto nomem;
    for (size_t i = 0; i < rq->n_props; i++, j->n_props++)
        if (!(j->props[i] = ma_strdup(rq->props[i]))) goto nomem;

    pthread_mutex_lock(&srv->mu);
    if (srv->q_len + srv->q_reserved >= srv->c.queue) {
        pthread_mutex_unlock(&srv->mu);
        job_free(j);
        ma_error_set(err, MA_ERR_LIMIT, "the general-mode queue is full (%llu executions waiting)",
                     (unsigned long long)srv->c.queue);
        return MA_POOL_NOT_STARTED;
    }
    if (inflight_add(srv, &j->rec, proc, err) < 0) {
        pthread_mutex_unlock(&srv->mu);
        job_free(j);
        return MA_POOL_NOT_STARTED;
    }
    srv->q_reserved++;
    pthread_mutex_unlock(&srv->mu);

    /* recorded before it runs, and so before the caller is answered */
    if (!low && record_begin(srv, exec_id, proc, rq->mode, j->trigger, &j->input, err) < 0) {
        pthread_mutex_lock(&srv->mu);
        srv->q_reserved--;
        inflight_remove(srv, &j->rec);
        pthread_mutex_unlock(&srv->mu);
        job_free(j);
        return MA_POOL_NOT_STARTED;
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
    ma_pool_rc rc;
    if (j->done) {
        *cancelled = j->rec.cancel;
        if (j->rc == 0) {
            *res = j->res;
            memset(&j->res, 0, sizeof j->res);
            rc = MA_POOL_RAN;
        } else {
            if (err) *err = j->err;
            rc = MA_POOL_NOT_STARTED;
        }
    } else {
        j->abandoned = 1;
        if (!j->keep_running) __atomic_store_n(&j->rec.cancel, 1, __ATOMIC_RELAXED); /* read by the executor */
        rc = MA_POOL_TIMEOUT;
    }
    int last = --j->refs == 0;
    pthread_mutex_unlock(&srv->mu);
    if (last) job_free(j);
    return rc;
nomem:
    job_free(j);
    ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return MA_POOL_NOT_STARTED;
}

int ma_pool_start(ma_server *srv, ma_error *err)
{
    srv->pool_started = 1;
    uint64_t limit = srv->c.server_memory;
    if (!limit) { /* half of the physical memory */
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        limit = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 2 : 0;
    }
    ma_membudget_set_server_limit(limit);
    pthread_mutex_init(&srv->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* deadlines are ma_now_ns (monotonic) */
    pthread_cond_init(&srv->idle_cv, &ca);
    pthread_cond_init(&srv->tcv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&srv->pool_cv, NULL);
    pthread_mutex_init(&srv->tmu, NULL);
    pthread_cond_init(&srv->tdone, NULL);
    srv->timers.prev = srv->timers.next = &srv->timers;
    srv->inflight.next = srv->inflight.prev = &srv->inflight;
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

/* Stops the workers, then the timer; frees the pool's memory (ma_pool_start must have run). */
void ma_pool_stop(ma_server *srv)
{
    if (!srv->pool_started) return;
    srv->pool_started = 0;
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
    free(srv->ring);
    free(srv->workers);
    srv->ring = NULL;
    srv->workers = NULL;
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->idle_cv);
    pthread_cond_destroy(&srv->pool_cv);
    pthread_mutex_destroy(&srv->tmu);
    pthread_cond_destroy(&srv->tcv);
    pthread_cond_destroy(&srv->tdone);
}
