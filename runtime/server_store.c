/* server_store.c - the server's execution history and its faults (docs/server.md "The store",
 * decision 016): opened at start, and when it cannot be the server still serves what needs no
 * record (low-latency processes) while general and bridge work is answered 503; a watch thread
 * notices a history that became unusable (file deleted or replaced, I/O errors, a full disk,
 * corruption: history.h), reopens it when that is safe, and purges it (history.purge_days,
 * history.max_size) every history.check_interval. Boomi's Atom keeps serving while its own
 * execution records cannot be written, and says so in its status; this is that. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "server.h"
#include "util.h"

/* A handle with its users: the last release closes it, so that a broken handle can be replaced while
 * executions still hold it. */
struct ma_store_ref {
    atomic_int refs;
    ma_history *h;
};

static struct ma_store_ref *acquire(ma_server *srv)
{
    pthread_mutex_lock(&srv->store_mu);
    struct ma_store_ref *r = srv->hist_ref;
    if (r) atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&srv->store_mu);
    return r;
}

static void release(struct ma_store_ref *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        ma_history_close(r->h);
        free(r);
    }
}

static const char *const fault_names[] = {
    [MA_HISTORY_OK] = "ok",
    [MA_HISTORY_IO] = "io",
    [MA_HISTORY_CORRUPT] = "corrupt",
    [MA_HISTORY_GONE] = "deleted",
    [MA_HISTORY_REPLACED] = "replaced",
};

/* The identity of DATA/history.db now; 0 when it is not there. */
static int file_id(ma_server *srv, dev_t *dev, ino_t *ino)
{
    struct stat st;
    char *path = ma_asprintf("%s/history.db", srv->c.data);
    int there = path && stat(path, &st) == 0;
    free(path);
    if (there) *dev = st.st_dev, *ino = st.st_ino;
    return there;
}

/* The part of an error after its last ": " (SQLite's or the system's words, without paths). */
static const char *short_why(const char *msg)
{
    const char *p = msg, *q;
    while ((q = strstr(p, ": "))) p = q + 2;
    return *p ? p : msg;
}

static void log_store(ma_server *srv, const char *level, const char *msg, const char *error)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"path\":");
    char *path = ma_asprintf("%s/history.db", srv->c.data);
    ma_sb_json_str(&b, path ? path : "");
    free(path);
    if (error) {
        ma_sb_lit(&b, ",\"error\":");
        ma_sb_json_str(&b, error);
    }
    ma_sb_putc(&b, '}');
    ma_log_line(srv, level, msg, b.oom ? NULL : b.s);
    ma_sb_free(&b);
}

/* The history is unusable from now on (kind, why for callers, error for /health and the log); the
 * server lets go of broken (its handle, when it still holds it). One log line per change of state. */
static void set_unusable(ma_server *srv, struct ma_store_ref *broken, ma_history_fault_kind kind, const char *why,
                         const char *error)
{
    struct ma_store_ref *drop = NULL;
    pthread_mutex_lock(&srv->store_mu);
    if (broken && srv->hist_ref != broken) { /* already replaced: a fault of the old handle */
        pthread_mutex_unlock(&srv->store_mu);
        return;
    }
    drop = srv->hist_ref;
    srv->hist_ref = NULL;
    int was_ok = srv->store_state == MA_STORE_OK, changed = was_ok || srv->store_fault != kind;
    srv->store_state = MA_STORE_UNUSABLE;
    srv->store_fault = kind;
    ma_strlcpy(srv->store_why, why, sizeof srv->store_why);
    ma_strlcpy(srv->store_error, error, sizeof srv->store_error);
    if (was_ok) ma_iso_now(srv->store_since);
    /* a corrupt file is tried again only once it is another; a replacement is tried once */
    srv->store_id_known = kind != MA_HISTORY_REPLACED && file_id(srv, &srv->store_dev, &srv->store_ino);
    pthread_mutex_unlock(&srv->store_mu);
    release(drop);
    if (changed) {
        const char *msg =
            kind == MA_HISTORY_CORRUPT
                ? "the execution history is unusable; general and bridge executions are answered 503 until it is "
                  "repaired (miniatom store check, miniatom store repair)"
            : kind == MA_HISTORY_GONE
                ? "the execution history was deleted; general and bridge executions are answered 503 until it is back "
                  "(or miniatom store repair makes a fresh one, or a restart)"
                : "the execution history is unusable; general and bridge executions are answered 503 until it is "
                  "usable again";
        log_store(srv, "error", msg, error);
    }
}

/* After a call through r failed with err: when the handle is broken, the history is unusable. */
static void note_failure(ma_server *srv, struct ma_store_ref *r, const ma_error *err)
{
    char why[512];
    ma_history_fault_kind k = ma_history_fault(r->h, why, sizeof why);
    if (k) set_unusable(srv, r, k, why, err->msg);
}

int ma_store_usable(ma_server *srv, char *msg, size_t n)
{
    pthread_mutex_lock(&srv->store_mu);
    int ok = srv->store_state == MA_STORE_OK;
    if (!ok && msg && n)
        snprintf(msg, n, "the execution history is unusable: %s; general-mode processes cannot run until it is %s",
                 srv->store_why, srv->store_fault == MA_HISTORY_IO ? "usable again" : "repaired");
    pthread_mutex_unlock(&srv->store_mu);
    return ok;
}

/* The error of a call made while the history is unusable. */
static int unusable_error(ma_server *srv, ma_error *err)
{
    char msg[700];
    ma_store_usable(srv, msg, sizeof msg);
    return ma_error_set(err, MA_ERR_IO, "%s", msg);
}

#define THROUGH_STORE(call)                  \
    struct ma_store_ref *r = acquire(srv);   \
    if (!r) return unusable_error(srv, err); \
    int rc = (call);                         \
    if (rc < 0) note_failure(srv, r, err);   \
    release(r);                              \
    return rc

int ma_store_begin(ma_server *srv, const char *exec_id, const ma_process *proc, const char *mode, const char *trigger,
                   const ma_batch *input, int with_payloads, ma_error *err)
{
    THROUGH_STORE(
        ma_history_begin(r->h, exec_id, proc->comp->id, proc->comp->name, mode, trigger, input, with_payloads, err));
}

int ma_store_end(ma_server *srv, const char *exec_id, const ma_process *proc, const ma_result *res, int with_payloads,
                 ma_error *err)
{
    THROUGH_STORE(ma_history_end(r->h, exec_id, proc, res, with_payloads, err));
}

int ma_server_callback_add(ma_server *srv, const ma_pending_callback *cb, ma_error *err)
{
    THROUGH_STORE(ma_history_callback_add(r->h, cb, err));
}

int ma_server_callback_done(ma_server *srv, const char *exec_id, ma_error *err)
{
    THROUGH_STORE(ma_history_callback_done(r->h, exec_id, err));
}

int ma_server_callbacks(ma_server *srv, ma_pending_callback **out, size_t *n, ma_error *err)
{
    *out = NULL;
    *n = 0;
    THROUGH_STORE(ma_history_callbacks(r->h, out, n, err));
}

/* ---- opening, watching, purging ---- */

static void history_opts(ma_server *srv, ma_history_opts *ho, int must_exist)
{
    memset(ho, 0, sizeof *ho);
    ho->purge_days = (int)srv->c.purge_days;
    ho->max_doc_bytes = (size_t)srv->c.max_doc_bytes;
    ho->max_docs = (size_t)srv->c.max_docs;
    ho->max_size = srv->c.max_size;
    ho->must_exist = must_exist;
    ho->max_payload_bytes = srv->c.max_payload_bytes;
    ho->payload_bytes_per_minute = srv->c.payload_bytes_per_minute;
}

/* Opens the history; 0, or -1 after setting the state unusable. */
static int open_store(ma_server *srv, int must_exist)
{
    ma_error err;
    ma_error_clear(&err);
    ma_history_opts ho;
    history_opts(srv, &ho, must_exist);
    ma_history *h = must_exist || ma_mkdirs(srv->c.data, &err) == 0 ? ma_history_open(srv->c.data, &ho, &err) : NULL;
    struct ma_store_ref *ref = h ? calloc(1, sizeof *ref) : NULL;
    if (!ref) {
        if (h) {
            ma_history_close(h);
            ma_error_set(&err, MA_ERR_NOMEM, "out of memory");
        }
        set_unusable(srv, NULL, ma_history_open_fault(&err), short_why(err.msg), err.msg);
        return -1;
    }
    atomic_init(&ref->refs, 1);
    ref->h = h;
    uint64_t used = 0, file = 0;
    ma_history_size(h, &used, &file, &err);
    pthread_mutex_lock(&srv->store_mu);
    srv->hist_ref = ref;
    int was = srv->store_state;
    srv->store_state = MA_STORE_OK;
    srv->store_fault = MA_HISTORY_OK;
    srv->store_opened = 1;
    srv->store_used = used;
    srv->store_file = file;
    int recover = srv->recover_pending;
    srv->recover_pending = 0;
    pthread_mutex_unlock(&srv->store_mu);
    if (was == MA_STORE_UNUSABLE) log_store(srv, "info", "the execution history is usable again", NULL);
    if (recover) ma_server_start_recovery(srv);
    return 0;
}

/* While unusable: reopens the history when that is safe. A file that was deleted is not made anew
 * (`miniatom store repair` or a restart does that); a corrupt file is tried again only once it is
 * another file (repaired, restored); I/O faults (full, read-only, errors) are tried every time. */
static void try_reopen(ma_server *srv)
{
    dev_t dev = 0;
    ino_t ino = 0;
    int there = file_id(srv, &dev, &ino);
    pthread_mutex_lock(&srv->store_mu);
    int opened = srv->store_opened;
    int same = srv->store_id_known && there && dev == srv->store_dev && ino == srv->store_ino;
    ma_history_fault_kind kind = srv->store_fault;
    pthread_mutex_unlock(&srv->store_mu);
    if (!there && opened) return;
    if (kind == MA_HISTORY_CORRUPT && same) return;
    open_store(srv, opened);
}

static void watch_once(ma_server *srv)
{
    struct ma_store_ref *r = acquire(srv);
    if (!r) {
        try_reopen(srv);
        return;
    }
    ma_error err;
    ma_error_clear(&err);
    int rc = ma_history_check(r->h, &err);
    if (rc == 0) rc = ma_history_purge(r->h, &err);
    uint64_t used = 0, file = 0;
    if (rc == 0) rc = ma_history_size(r->h, &used, &file, &err);
    if (rc < 0) {
        note_failure(srv, r, &err);
        /* not a fault (a database busy past its timeout): logged once until a purge succeeds */
        if (!ma_history_fault(r->h, NULL, 0) && !srv->purge_failing)
            ma_log_error(srv, "the execution history could not be purged", err.msg);
        srv->purge_failing = 1;
    } else {
        srv->purge_failing = 0;
        pthread_mutex_lock(&srv->store_mu);
        srv->store_used = used;
        srv->store_file = file;
        pthread_mutex_unlock(&srv->store_mu);
    }
    release(r);
}

static void *watch_main(void *arg)
{
    ma_server *srv = arg;
    pthread_mutex_lock(&srv->store_mu);
    while (!srv->store_stop) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += (time_t)(srv->c.check_ms / 1000);
        dl.tv_nsec += (long)(srv->c.check_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
        if (pthread_cond_timedwait(&srv->store_cv, &srv->store_mu, &dl) != ETIMEDOUT) continue;
        pthread_mutex_unlock(&srv->store_mu);
        watch_once(srv);
        pthread_mutex_lock(&srv->store_mu);
    }
    pthread_mutex_unlock(&srv->store_mu);
    return NULL;
}

int ma_store_start(ma_server *srv)
{
    pthread_mutex_init(&srv->store_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->store_cv, &ca);
    pthread_condattr_destroy(&ca);
    srv->store_init = 1;
    srv->store_state = MA_STORE_OK;
    int rc = open_store(srv, 0);
    srv->store_run = pthread_create(&srv->store_thread, NULL, watch_main, srv) == 0;
    return rc;
}

void ma_store_stop(ma_server *srv)
{
    if (!srv->store_init) return;
    if (srv->store_run) {
        pthread_mutex_lock(&srv->store_mu);
        srv->store_stop = 1;
        pthread_cond_signal(&srv->store_cv);
        pthread_mutex_unlock(&srv->store_mu);
        pthread_join(srv->store_thread, NULL);
        srv->store_run = 0;
    }
    release(srv->hist_ref);
    srv->hist_ref = NULL;
    pthread_cond_destroy(&srv->store_cv);
    pthread_mutex_destroy(&srv->store_mu);
    srv->store_init = 0;
}

int ma_store_want_recovery(ma_server *srv)
{
    pthread_mutex_lock(&srv->store_mu);
    int ok = srv->store_state == MA_STORE_OK;
    if (!ok) srv->recover_pending = 1;
    pthread_mutex_unlock(&srv->store_mu);
    return ok;
}

int ma_store_health(ma_server *srv, ma_sb *b)
{
    char *path = ma_asprintf("%s/history.db", srv->c.data);
    pthread_mutex_lock(&srv->store_mu);
    int ok = srv->store_state == MA_STORE_OK;
    ma_sb_printf(b, "\"store\":{\"state\":\"%s\",\"path\":", ok ? "ok" : "unusable");
    ma_sb_json_str(b, path ? path : "");
    if (ok) {
        ma_sb_printf(b, ",\"used\":%llu,\"fileSize\":%llu,\"maxSize\":%llu}", (unsigned long long)srv->store_used,
                     (unsigned long long)srv->store_file, (unsigned long long)srv->c.max_size);
    } else {
        ma_sb_printf(b, ",\"fault\":\"%s\",\"error\":", fault_names[srv->store_fault]);
        ma_sb_json_str(b, srv->store_error);
        ma_sb_printf(b, ",\"since\":\"%s\"}", srv->store_since);
    }
    pthread_mutex_unlock(&srv->store_mu);
    free(path);
    return ok;
}
