/* executor.c - runs a compiled process with Boomi's batch semantics (boomi-atom-semantics.md 1.4,
 * 1.5 and 2): a depth-first walk where each shape gets the whole batch, sorts its documents onto
 * its outputs, and each output path runs to completion in declaration order before the next.
 * Document errors go to the innermost Try/Catch scope (or fail the execution while the other
 * documents go on); process-level errors unwind to a Try/Catch with catchAll or end the execution
 * with ERROR. Subprocesses share the execution's process properties, caches and Try/Catch scopes;
 * Flow Control threads share everything through the lock of the execution.
 * One file on purpose: the walk, the Try/Catch scopes and the services control shapes call share
 * one execution state whose invariants are easier to keep in one place. */
#include "executor.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loader.h"
#include "membudget.h"
#include "store.h"
#include "util.h"

#define MAX_LOG_ENTRIES 10000
#define MAX_THREADS 64
#define RELEASE_AFTER (16u << 20) /* an execution that held more gives its memory back when it ends */

struct ma_outputs {
    ma_batch *slots;
    size_t n;
    ma_doc **fail_docs;
    char **fail_msgs;
    size_t n_fails, cap_fails;
};

typedef struct ma_frame {
    struct ma_frame *parent;
    int catch_all;
    ma_batch originals;
    uint64_t *ids; /* failed tracking ids (0 = a document of unknown origin: all originals) */
    char **msgs;
    size_t n, cap;
} ma_frame;

typedef struct slot {
    char *key;
    void *obj;
    void (*destroy)(void *);
} slot;

typedef struct ma_shared {
    pthread_mutex_t mu;
    ma_deploy *dep;
    ma_run_opts opts;
    char exec_id[80];
    time_t start_s;
    int start_ms;
    uint64_t deadline_ns;
    ma_budget budget; /* memory, deadline and cancel flag; entered by every thread of the execution */
    ma_process *top;
    /* process properties: dynamic (name) and defined ("\x01compid\x01key") */
    ma_kv *props;
    size_t n_props, cap_props;
    char **loaded; /* process ids whose persisted properties are loaded */
    size_t n_loaded;
    slot *slots;
    size_t n_slots;
    ma_log_entry *log;
    size_t n_log, cap_log;
    uint64_t *failed; /* tracking ids of failed documents */
    size_t n_failed, cap_failed;
    atomic_size_t any_failed;
    size_t doc_errors;
    char *first_error;
    char *warning;
    atomic_int aborted;
    size_t *counts;
    ma_batch returned, ends;
    char atom_name[256];
} ma_shared;

struct ma_exec {
    ma_shared *sh;
    ma_process *proc;
    ma_exec *parent;
    ma_frame *frame;
    atomic_int *stopped;
    ma_child_returns *returns;
    int depth;
    size_t doc_count;
    int raw_set;                /* raw_msg holds the first process error's own message */
    char raw_msg[MA_ERROR_MAX]; /* ... before "shape N (type)" prefixes were added */
};

static int run_shape(ma_exec *ex, ma_shape *s, ma_batch *in, int force, ma_error *err);
static int path_end(ma_exec *ex, ma_batch *b);

const char *ma_status_name(ma_status s)
{
    switch (s) {
    case MA_STATUS_COMPLETE: return "COMPLETE";
    case MA_STATUS_COMPLETE_WARN: return "COMPLETE_WARN";
    case MA_STATUS_ERROR: return "ERROR";
    case MA_STATUS_ABORTED: return "ABORTED";
    }
    return "UNKNOWN";
}

/* ---- outputs ---- */

int ma_outputs_emit(ma_outputs *out, int index, ma_doc *doc)
{
    if (!doc) return -1;
    if (index < 0 || (size_t)index >= out->n) {
        ma_doc_unref(doc);
        return -1;
    }
    return ma_batch_push(&out->slots[index], doc);
}

int ma_outputs_fail(ma_outputs *out, ma_doc *doc, const char *fmt, ...)
{
    if (!doc) return -1;
    if (out->n_fails == out->cap_fails) {
        size_t cap = out->cap_fails ? out->cap_fails * 2 : 4;
        ma_doc **nd = realloc(out->fail_docs, cap * sizeof *nd);
        if (!nd) {
            ma_doc_unref(doc);
            return -1;
        }
        out->fail_docs = nd;
        char **nm = realloc(out->fail_msgs, cap * sizeof *nm);
        if (!nm) {
            ma_doc_unref(doc);
            return -1;
        }
        out->fail_msgs = nm;
        out->cap_fails = cap;
    }
    char msg[MA_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *m = ma_strdup(msg);
    if (!m) {
        ma_doc_unref(doc);
        return -1;
    }
    out->fail_docs[out->n_fails] = doc;
    out->fail_msgs[out->n_fails] = m;
    out->n_fails++;
    return 0;
}

static void outputs_free(ma_outputs *o)
{
    for (size_t i = 0; i < o->n; i++) ma_batch_clear(&o->slots[i]);
    free(o->slots);
    for (size_t i = 0; i < o->n_fails; i++) {
        ma_doc_unref(o->fail_docs[i]);
        free(o->fail_msgs[i]);
    }
    free(o->fail_docs);
    free(o->fail_msgs);
}

ma_outputs *ma_outputs_new(size_t n)
{
    ma_outputs *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->n = n;
    if (n && !(o->slots = calloc(n, sizeof *o->slots))) {
        free(o);
        return NULL;
    }
    return o;
}

ma_batch *ma_outputs_batch(ma_outputs *out, size_t i) { return i < out->n ? &out->slots[i] : NULL; }

size_t ma_outputs_failed(const ma_outputs *out, const char **msg)
{
    if (msg) *msg = out->n_fails ? out->fail_msgs[0] : NULL;
    return out->n_fails;
}

void ma_outputs_free(ma_outputs *out)
{
    if (!out) return;
    outputs_free(out);
    free(out);
}

/* ---- execution state ---- */

void ma_exec_lock(ma_exec *ex) { pthread_mutex_lock(&ex->sh->mu); }
void ma_exec_unlock(ma_exec *ex) { pthread_mutex_unlock(&ex->sh->mu); }
const char *ma_exec_id(const ma_exec *ex) { return ex->sh->exec_id; }
const char *ma_exec_process_name(const ma_exec *ex) { return ex->proc->comp->name; }
const char *ma_exec_process_id(const ma_exec *ex) { return ex->proc->comp->id; }
int ma_exec_is_general_mode(const ma_exec *ex) { return ex->sh->opts.general_mode; }
int ma_exec_must_stop(void) { return ma_budget_check() != MA_STOP_NONE; }
size_t ma_exec_document_count(const ma_exec *ex) { return ex->doc_count; }
const ma_run_opts *ma_exec_opts(const ma_exec *ex) { return &ex->sh->opts; }

const char *ma_exec_data_dir(const ma_exec *ex) { return ex->sh->opts.data_dir ? ex->sh->opts.data_dir : "./data"; }
const char *ma_exec_atom_name(const ma_exec *ex) { return ex->sh->atom_name; }
ma_deploy *ma_exec_deploy(const ma_exec *ex) { return ex->sh->dep; }

void ma_exec_start_time(const ma_exec *ex, time_t *secs, int *millis)
{
    *secs = ex->sh->start_s;
    *millis = ex->sh->start_ms;
}

static ma_kv *prop_find(ma_shared *sh, const char *name)
{
    for (size_t i = 0; i < sh->n_props; i++)
        if (strcmp(sh->props[i].name, name) == 0) return &sh->props[i];
    return NULL;
}

/* Sets a property; caller holds the lock. */
static int prop_set(ma_shared *sh, const char *name, const char *value)
{
    ma_kv *kv = prop_find(sh, name);
    char *v = ma_strdup(value);
    if (!v) return -1;
    if (kv) {
        free(kv->value);
        kv->value = v;
        return 0;
    }
    if (sh->n_props == sh->cap_props) {
        size_t cap = sh->cap_props ? sh->cap_props * 2 : 16;
        ma_kv *np = realloc(sh->props, cap * sizeof *np);
        if (!np) {
            free(v);
            return -1;
        }
        sh->props = np;
        sh->cap_props = cap;
    }
    char *n = ma_strdup(name);
    if (!n) {
        free(v);
        return -1;
    }
    sh->props[sh->n_props].name = n;
    sh->props[sh->n_props].value = v;
    sh->n_props++;
    return 0;
}

char *ma_exec_get_process_prop(ma_exec *ex, const char *name)
{
    ma_exec_lock(ex);
    ma_kv *kv = prop_find(ex->sh, name);
    char *v = kv ? ma_strdup(kv->value) : NULL;
    ma_exec_unlock(ex);
    return v;
}

int ma_exec_set_process_prop(ma_exec *ex, const char *name, const char *value, int persist, ma_error *err)
{
    ma_exec_lock(ex);
    int rc = prop_set(ex->sh, name, value);
    ma_exec_unlock(ex);
    if (rc < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (persist) {
        const char *dir = ma_exec_data_dir(ex);
        /* one writer at a time inside this execution; across executions last writer wins */
        ma_exec_lock(ex);
        rc = ma_store_put(dir, ex->proc->comp->id, name, value, err);
        ma_exec_unlock(ex);
        if (rc < 0) return -1;
    }
    return 0;
}

static char *defined_key(const char *component_id, const char *key)
{
    return ma_asprintf("\x01%s\x01%s", component_id, key);
}

/* The <definedProcessProperty key=...> of a deployed processproperty component, or NULL. */
static xmlNode *defined_def(ma_deploy *dep, const char *component_id, const char *key)
{
    ma_component *c = ma_deploy_find(dep, component_id);
    if (!c || !c->object || strcmp(c->type, "processproperty") != 0) return NULL;
    for (xmlNode *d = ma_xml_child(c->object, "definedProcessProperty"); d;
         d = ma_xml_next(d, "definedProcessProperty"))
        if (ma_xml_attr_is(d, "key", key)) return d;
    return NULL;
}

int ma_defined_prop_persisted(ma_deploy *dep, const char *component_id, const char *key)
{
    xmlNode *d = defined_def(dep, component_id, key);
    char *t = d ? ma_xml_text(ma_xml_child(d, "persisted")) : NULL;
    int yes = t && strcmp(t, "true") == 0;
    free(t);
    return yes;
}

int ma_exec_set_defined_prop(ma_exec *ex, const char *component_id, const char *key, const char *value, int persist,
                             ma_error *err)
{
    char *k = defined_key(component_id, key);
    if (!k) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_exec_lock(ex);
    int rc = prop_set(ex->sh, k, value);
    ma_exec_unlock(ex);
    free(k);
    if (rc < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (!persist && !ma_defined_prop_persisted(ex->sh->dep, component_id, key)) return 0;
    /* stored with the dynamic ones, under the name Set Properties gives it */
    char *name = ma_asprintf(MA_DEFINED_PREFIX "%s@%s", component_id, key);
    if (!name) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    const char *dir = ma_exec_data_dir(ex);
    ma_exec_lock(ex);
    rc = ma_store_put(dir, ex->proc->comp->id, name, value, err);
    ma_exec_unlock(ex);
    free(name);
    return rc;
}

char *ma_exec_get_defined_prop(ma_exec *ex, const char *component_id, const char *key)
{
    char *k = defined_key(component_id, key);
    if (!k) return NULL;
    ma_exec_lock(ex);
    ma_kv *kv = prop_find(ex->sh, k);
    char *v = kv ? ma_strdup(kv->value) : NULL;
    ma_exec_unlock(ex);
    free(k);
    if (v) return v;
    /* the component's default */
    xmlNode *d = defined_def(ex->sh->dep, component_id, key);
    return d ? ma_xml_text(ma_xml_child(d, "defaultValue")) : NULL;
}

void ma_exec_log(ma_exec *ex, const ma_shape *shape, ma_log_level level, const char *fmt, ...)
{
    char msg[MA_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ma_shared *sh = ex->sh;
    /* low latency: nothing but errors is recorded (boomi-atom-semantics.md 3.1) */
    if (!sh->opts.general_mode && level != MA_LOG_ERROR) return;
    ma_exec_lock(ex);
    if (sh->n_log < MAX_LOG_ENTRIES) {
        if (sh->n_log == sh->cap_log) {
            size_t cap = sh->cap_log ? sh->cap_log * 2 : 16;
            ma_log_entry *nl = realloc(sh->log, cap * sizeof *nl);
            if (!nl) goto out;
            sh->log = nl;
            sh->cap_log = cap;
        }
        ma_log_entry *e = &sh->log[sh->n_log];
        e->level = level;
        e->shape = ma_strdup(shape ? shape->name : "");
        e->message = ma_strdup(msg);
        if (!e->shape || !e->message) {
            free(e->shape);
            free(e->message);
            goto out;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char ymd[24];
        strftime(ymd, sizeof ymd, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(e->time, sizeof e->time, "%.20s.%03dZ", ymd, (int)(ts.tv_nsec / 1000000) % 1000);
        sh->n_log++;
    }
out:
    ma_exec_unlock(ex);
}

void ma_exec_warn(ma_exec *ex, const ma_shape *shape, const char *fmt, ...)
{
    char msg[MA_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ma_exec_log(ex, shape, MA_LOG_WARNING, "%s", msg);
    ma_exec_lock(ex);
    if (!ex->sh->warning) ex->sh->warning = ma_strdup(msg);
    ma_exec_unlock(ex);
}

void *ma_exec_slot(ma_exec *ex, const char *key, void *(*create)(void), void (*destroy)(void *))
{
    ma_shared *sh = ex->sh;
    void *obj = NULL;
    ma_exec_lock(ex);
    for (size_t i = 0; i < sh->n_slots; i++)
        if (strcmp(sh->slots[i].key, key) == 0) {
            obj = sh->slots[i].obj;
            goto out;
        }
    slot *ns = realloc(sh->slots, (sh->n_slots + 1) * sizeof *ns);
    if (!ns) goto out;
    sh->slots = ns;
    char *k = ma_strdup(key);
    if (!k) goto out;
    obj = create();
    if (!obj) {
        free(k);
        goto out;
    }
    sh->slots[sh->n_slots].key = k;
    sh->slots[sh->n_slots].obj = obj;
    sh->slots[sh->n_slots].destroy = destroy;
    sh->n_slots++;
out:
    ma_exec_unlock(ex);
    return obj;
}

static int load_persisted(ma_exec *ex, ma_error *err)
{
    ma_shared *sh = ex->sh;
    const char *id = ex->proc->comp->id;
    for (size_t i = 0; i < sh->n_loaded; i++)
        if (strcmp(sh->loaded[i], id) == 0) return 0;
    ma_kv *kv = NULL;
    size_t n = 0;
    if (ma_store_load(ma_exec_data_dir(ex), id, &kv, &n, err) < 0) return -1;
    ma_exec_lock(ex);
    int rc = 0;
    char **nl = realloc(sh->loaded, (sh->n_loaded + 1) * sizeof *nl);
    if (nl) {
        sh->loaded = nl;
        if ((sh->loaded[sh->n_loaded] = ma_strdup(id))) sh->n_loaded++;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* a defined property is stored as definedprocess.COMPONENT@KEY */
        const char *at = ma_str_has_prefix(kv[i].name, MA_DEFINED_PREFIX) ? strchr(kv[i].name, '@') : NULL;
        char *dk = at ? ma_asprintf("\x01%.*s\x01%s", (int)(at - kv[i].name - strlen(MA_DEFINED_PREFIX)),
                                    kv[i].name + strlen(MA_DEFINED_PREFIX), at + 1)
                      : NULL;
        if (at && !dk) rc = -1;
        else if (!prop_find(sh, dk ? dk : kv[i].name)) rc = prop_set(sh, dk ? dk : kv[i].name, kv[i].value);
        free(dk);
    }
    ma_exec_unlock(ex);
    ma_kv_free(kv, n);
    return rc < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
}

/* ---- failed documents ---- */

static int is_failed(ma_shared *sh, uint64_t id)
{
    for (size_t i = 0; i < sh->n_failed; i++)
        if (sh->failed[i] == id) return 1;
    return 0;
}

static void unmark_failed(ma_shared *sh, uint64_t id)
{
    for (size_t i = 0; i < sh->n_failed; i++)
        if (sh->failed[i] == id) {
            sh->failed[i] = sh->failed[--sh->n_failed];
            atomic_store(&sh->any_failed, sh->n_failed);
            return;
        }
}

static int frame_add(ma_frame *f, uint64_t id, const char *msg)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->ids[i] == id) return 0; /* first message wins */
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        uint64_t *ni = realloc(f->ids, cap * sizeof *ni);
        if (!ni) return -1;
        f->ids = ni;
        char **nm = realloc(f->msgs, cap * sizeof *nm);
        if (!nm) return -1;
        f->msgs = nm;
        f->cap = cap;
    }
    if (!(f->msgs[f->n] = ma_strdup(msg))) return -1;
    f->ids[f->n++] = id;
    return 0;
}

/* A document failed at shape with msg. */
static void fail_doc(ma_exec *ex, ma_shape *shape, ma_doc *doc, const char *msg)
{
    ma_shared *sh = ex->sh;
    uint64_t id = ma_doc_track_id(doc);
    int logit = 0;
    ma_exec_lock(ex);
    if (!is_failed(sh, id)) {
        if (sh->n_failed == sh->cap_failed) {
            size_t cap = sh->cap_failed ? sh->cap_failed * 2 : 16;
            uint64_t *nf = realloc(sh->failed, cap * sizeof *nf);
            if (nf) {
                sh->failed = nf;
                sh->cap_failed = cap;
            }
        }
        if (sh->n_failed < sh->cap_failed) sh->failed[sh->n_failed++] = id;
        atomic_store(&sh->any_failed, sh->n_failed);
    }
    if (ex->frame) {
        ma_frame *f = ex->frame;
        int known = 0;
        for (size_t i = 0; i < f->originals.len && !known; i++) known = ma_doc_track_id(f->originals.docs[i]) == id;
        frame_add(f, known ? id : 0, msg);
    } else {
        sh->doc_errors++;
        if (!sh->first_error)
            sh->first_error = ma_asprintf("shape %s%s%s%s: %s", shape->name, *shape->label ? " '" : "", shape->label,
                                          *shape->label ? "'" : "", msg);
        logit = 1;
    }
    ma_exec_unlock(ex);
    if (logit) ma_exec_log(ex, shape, MA_LOG_ERROR, "document error: %s", msg);
}

/* ---- running paths ---- */

int ma_exec_path_end(ma_exec *ex, ma_batch *b) { return path_end(ex, b); }

static int path_end(ma_exec *ex, ma_batch *b)
{
    if (ex->parent || ex->returns || ex->proc->has_return) {
        ma_batch_clear(b);
        return 0;
    }
    ma_exec_lock(ex);
    int rc = ma_batch_move(&ex->sh->ends, b);
    ma_exec_unlock(ex);
    return rc;
}

/* Removes documents that failed earlier (a document that errors on one branch path does not go
 * down the later paths). */
static void drop_failed(ma_exec *ex, ma_batch *b)
{
    if (!atomic_load(&ex->sh->any_failed)) return;
    ma_exec_lock(ex);
    size_t k = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (is_failed(ex->sh, ma_doc_track_id(b->docs[i]))) ma_doc_unref(b->docs[i]);
        else b->docs[k++] = b->docs[i];
    }
    b->len = k;
    ma_exec_unlock(ex);
}

int ma_exec_run_output(ma_exec *ex, ma_shape *shape, int index, ma_batch *batch, ma_error *err)
{
    if (index < 0 || (size_t)index >= shape->n_outs) {
        ma_batch_clear(batch);
        return ma_error_set(err, MA_ERR_RUNTIME, "shape %s has no output %d", shape->name, index);
    }
    drop_failed(ex, batch);
    if (!batch->len) {
        ma_batch_clear(batch);
        return 0;
    }
    ma_shape *t = shape->outs[index].target;
    if (!t) return path_end(ex, batch);
    return run_shape(ex, t, batch, 0, err);
}

static int stopped(ma_exec *ex) { return atomic_load(ex->stopped) || atomic_load(&ex->sh->aborted); }

static int run_shape(ma_exec *ex, ma_shape *s, ma_batch *in, int force, ma_error *err)
{
    if ((!in->len && !force) || stopped(ex)) {
        ma_batch_clear(in);
        return 0;
    }
    ma_shared *sh = ex->sh;
    if (ma_budget_check() != MA_STOP_NONE) {
        atomic_store(&sh->aborted, 1);
        ma_batch_clear(in);
        return 0;
    }
    if (ex->proc == sh->top && !force) __atomic_fetch_add(&sh->counts[s->index], in->len, __ATOMIC_RELAXED);
    ma_outputs out;
    memset(&out, 0, sizeof out);
    out.n = s->n_outs;
    if (out.n && !(out.slots = calloc(out.n, sizeof *out.slots))) {
        ma_batch_clear(in);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    ex->doc_count = in->len;
    int rc = s->type->execute(ex, s, in, &out, err);
    ma_batch_clear(in);
    if (ma_budget_check() != MA_STOP_NONE) { /* whatever failed meanwhile failed because of it */
        atomic_store(&sh->aborted, 1);
        outputs_free(&out);
        return 0;
    }
    if (ex->proc == sh->top && force && rc == 0) /* the start shape: count what it yields */
        for (size_t i = 0; i < out.n; i++)
            __atomic_fetch_add(&sh->counts[s->index], out.slots[i].len, __ATOMIC_RELAXED);
    if (rc < 0) {
        outputs_free(&out);
        if (!ex->raw_set) {
            memcpy(ex->raw_msg, err->msg, sizeof ex->raw_msg);
            ex->raw_set = 1;
        }
        if (!strstr(err->msg, "shape ")) /* say where, once */
            ma_error_prefix(err, "shape %s%s%s%s (%s)", s->name, *s->label ? " '" : "", s->label, *s->label ? "'" : "",
                            s->type_name);
        return -1;
    }
    for (size_t i = 0; i < out.n_fails; i++) fail_doc(ex, s, out.fail_docs[i], out.fail_msgs[i]);
    for (size_t i = 0; i < out.n && rc == 0; i++) {
        if (stopped(ex)) break;
        rc = ma_exec_run_output(ex, s, (int)i, &out.slots[i], err);
    }
    outputs_free(&out);
    return rc;
}

/* ---- Try/Catch ---- */

static void frame_free(ma_frame *f)
{
    ma_batch_clear(&f->originals);
    for (size_t i = 0; i < f->n; i++) free(f->msgs[i]);
    free(f->ids);
    free(f->msgs);
    f->ids = NULL;
    f->msgs = NULL;
    f->n = f->cap = 0;
}

static const char *frame_msg_for(const ma_frame *f, uint64_t id)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->ids[i] == id) return f->msgs[i];
    for (size_t i = 0; i < f->n; i++)
        if (f->ids[i] == 0) return f->msgs[i];
    return NULL;
}

/* Originals whose documents failed (with their messages in *msgs, borrowed from f). */
static int frame_failed_originals(ma_frame *f, ma_batch *out, const char ***msgs)
{
    *msgs = NULL;
    if (!f->n) return 0;
    const char **m = calloc(f->originals.len ? f->originals.len : 1, sizeof *m);
    if (!m) return -1;
    size_t k = 0;
    for (size_t i = 0; i < f->originals.len; i++) {
        const char *msg = frame_msg_for(f, ma_doc_track_id(f->originals.docs[i]));
        if (!msg) continue;
        if (ma_batch_push(out, ma_doc_ref(f->originals.docs[i])) < 0) {
            free(m);
            return -1;
        }
        m[k++] = msg;
    }
    *msgs = m;
    return 0;
}

static const double retry_waits[] = {0, 10, 30, 60, 120};

int ma_exec_try(ma_exec *ex, ma_shape *shape, int try_out, int catch_out, int catch_all, int retries, ma_batch *in,
                ma_error *err)
{
    ma_frame f;
    memset(&f, 0, sizeof f);
    f.parent = ex->frame;
    f.catch_all = catch_all;
    for (size_t i = 0; i < in->len; i++)
        if (ma_batch_push(&f.originals, ma_doc_ref(in->docs[i])) < 0) {
            frame_free(&f);
            ma_batch_clear(in);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    ma_batch work = *in;
    ma_batch_init(in);
    ex->frame = &f;
    ex->raw_set = 0;
    int rc = ma_exec_run_output(ex, shape, try_out, &work, err);
    for (int attempt = 0; rc == 0 && f.n && attempt < retries && attempt < 5 && !stopped(ex); attempt++) {
        double wait = retry_waits[attempt] * ex->sh->opts.retry_scale;
        /* the wait ends early when the execution must stop */
        for (uint64_t end = ma_now_ns() + (uint64_t)(wait * 1e9); wait > 0 && ma_now_ns() < end;) {
            if (ma_budget_check() != MA_STOP_NONE) {
                atomic_store(&ex->sh->aborted, 1);
                break;
            }
            uint64_t left = end - ma_now_ns();
            if (left > 50000000u) left = 50000000u;
            struct timespec ts = {0, (long)left};
            nanosleep(&ts, NULL);
        }
        if (stopped(ex)) break;
        const char **msgs = NULL;
        ma_batch again;
        ma_batch_init(&again);
        if (frame_failed_originals(&f, &again, &msgs) < 0) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            break;
        }
        free(msgs);
        ma_exec_lock(ex);
        for (size_t i = 0; i < again.len; i++) unmark_failed(ex->sh, ma_doc_track_id(again.docs[i]));
        ma_exec_unlock(ex);
        for (size_t i = 0; i < f.n; i++) free(f.msgs[i]);
        f.n = 0;
        ma_exec_log(ex, shape, MA_LOG_INFO, "Try/Catch retry %d of %d for %zu document(s)", attempt + 1, retries,
                    again.len);
        rc = ma_exec_run_output(ex, shape, try_out, &again, err);
    }
    ex->frame = f.parent;
    if (stopped(ex)) {
        frame_free(&f);
        return rc;
    }
    ma_batch catch_b;
    ma_batch_init(&catch_b);
    const char **msgs = NULL;
    char *all_msg = NULL;
    if (rc < 0) {
        if (!catch_all || err->code == MA_ERR_NOMEM) {
            frame_free(&f);
            return -1;
        }
        /* every document that entered goes to Catch with the process error's own message */
        all_msg = ma_strdup(ex->raw_set ? ex->raw_msg : err->msg);
        ex->raw_set = 0;
        ma_error_clear(err);
        catch_b = f.originals;
        ma_batch_init(&f.originals);
    } else if (frame_failed_originals(&f, &catch_b, &msgs) < 0) {
        frame_free(&f);
        ma_batch_clear(&catch_b);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    ma_exec_lock(ex);
    for (size_t i = 0; i < catch_b.len; i++) unmark_failed(ex->sh, ma_doc_track_id(catch_b.docs[i]));
    ma_exec_unlock(ex);
    rc = 0;
    for (size_t i = 0; i < catch_b.len && rc == 0; i++) {
        const char *m = all_msg ? all_msg : msgs[i];
        if (ma_doc_set_prop(&catch_b.docs[i], "meta.base.catcherrorsmessage", m ? m : "") < 0)
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    free(msgs);
    free(all_msg);
    frame_free(&f);
    if (rc < 0) {
        ma_batch_clear(&catch_b);
        return -1;
    }
    return ma_exec_run_output(ex, shape, catch_out, &catch_b, err);
}

void ma_exec_stop_process(ma_exec *ex) { atomic_store(ex->stopped, 1); }

static int returns_add(ma_child_returns *r, const char *name, ma_batch *b)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->names[i], name) == 0) return ma_batch_move(&r->docs[i], b);
    char **nn = realloc(r->names, (r->n + 1) * sizeof *nn);
    if (!nn) return -1;
    r->names = nn;
    ma_batch *nd = realloc(r->docs, (r->n + 1) * sizeof *nd);
    if (!nd) return -1;
    r->docs = nd;
    if (!(r->names[r->n] = ma_strdup(name))) return -1;
    ma_batch_init(&r->docs[r->n]);
    r->n++;
    return ma_batch_move(&r->docs[r->n - 1], b);
}

void ma_child_returns_free(ma_child_returns *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->names[i]);
        ma_batch_clear(&r->docs[i]);
    }
    free(r->names);
    free(r->docs);
    memset(r, 0, sizeof *r);
}

int ma_exec_return(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_error *err)
{
    ma_exec_lock(ex);
    int rc = ex->returns ? returns_add(ex->returns, shape->name, in)
                         : (ex->parent ? (ma_batch_clear(in), 0) : ma_batch_move(&ex->sh->returned, in));
    ma_exec_unlock(ex);
    if (rc < 0) {
        ma_batch_clear(in);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static int copy_batch(ma_batch *dst, const ma_batch *src)
{
    ma_batch_init(dst);
    if (!src) return 0;
    for (size_t i = 0; i < src->len; i++)
        if (ma_batch_push(dst, ma_doc_ref(src->docs[i])) < 0) {
            ma_batch_clear(dst);
            return -1;
        }
    return 0;
}

static int run_process(ma_exec *ex, const ma_batch *input, ma_error *err)
{
    if (load_persisted(ex, err) < 0) return -1;
    ma_batch b;
    if (copy_batch(&b, input) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return run_shape(ex, ex->proc->start, &b, 1, err);
}

int ma_exec_call(ma_exec *ex, ma_shape *shape, ma_process *child, const ma_batch *in, ma_child_returns *ret,
                 ma_error *err)
{
    int max = ex->sh->opts.max_depth > 0 ? ex->sh->opts.max_depth : 32;
    if (ex->depth + 1 > max)
        return ma_error_set(err, MA_ERR_LIMIT, "process calls are nested more than %d deep (calling '%s')", max,
                            child->comp->name);
    if (!child->runnable)
        return ma_error_set(err, MA_ERR_RUNTIME, "subprocess '%s' (%s) is not runnable", child->comp->name,
                            child->comp->id);
    atomic_int stop;
    atomic_init(&stop, 0);
    ma_exec cex = {.sh = ex->sh,
                   .proc = child,
                   .parent = ex,
                   .frame = ex->frame,
                   .stopped = &stop,
                   .returns = ret,
                   .depth = ex->depth + 1};
    int rc = run_process(&cex, in, err);
    if (rc < 0) {
        if (err->code == MA_ERR_NOMEM) return -1;
        ma_error_prefix(err, "subprocess '%s'", child->comp->name);
        return 1;
    }
    return 0;
}

int ma_exec_run_output_chunked(ma_exec *ex, ma_shape *shape, int index, ma_batch *batch, size_t each, ma_error *err)
{
    if (!each || batch->len <= each) return ma_exec_run_output(ex, shape, index, batch, err);
    int rc = 0;
    for (size_t i = 0; i < batch->len; i += each) {
        ma_batch piece;
        ma_batch_init(&piece);
        for (size_t j = i; j < batch->len && j < i + each; j++) {
            if (rc == 0 && !stopped(ex) && ma_batch_push(&piece, batch->docs[j]) == 0) continue;
            if (rc == 0 && !stopped(ex)) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            else ma_doc_unref(batch->docs[j]);
        }
        if (rc == 0) rc = ma_exec_run_output(ex, shape, index, &piece, err);
        else ma_batch_clear(&piece);
    }
    free(batch->docs);
    ma_batch_init(batch);
    return rc;
}

typedef struct fiber {
    ma_exec ex;
    ma_shape *shape;
    int index;
    size_t each;
    ma_batch batch;
    ma_error err;
    int rc;
} fiber;

static void *fiber_main(void *arg)
{
    fiber *f = arg;
    ma_budget *prev = ma_budget_enter(&f->ex.sh->budget);
    f->rc = ma_exec_run_output_chunked(&f->ex, f->shape, f->index, &f->batch, f->each, &f->err);
    ma_budget_leave(prev);
    return NULL;
}

int ma_exec_run_output_parallel(ma_exec *ex, ma_shape *shape, int index, ma_batch *batches, size_t n, size_t each,
                                ma_error *err)
{
    if (n > MAX_THREADS) {
        for (size_t i = 0; i < n; i++) ma_batch_clear(&batches[i]);
        return ma_error_set(err, MA_ERR_LIMIT, "at most %d threads can run one path", MAX_THREADS);
    }
    fiber *fs = calloc(n ? n : 1, sizeof *fs);
    pthread_t *th = calloc(n ? n : 1, sizeof *th);
    int *started = calloc(n ? n : 1, sizeof *started);
    if (!fs || !th || !started) {
        free(fs);
        free(th);
        free(started);
        for (size_t i = 0; i < n; i++) ma_batch_clear(&batches[i]);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        fs[i].ex = *ex;
        fs[i].shape = shape;
        fs[i].index = index;
        fs[i].each = each;
        fs[i].batch = batches[i];
        ma_batch_init(&batches[i]);
        started[i] = pthread_create(&th[i], NULL, fiber_main, &fs[i]) == 0;
        if (!started[i]) fiber_main(&fs[i]); /* no thread to be had: run it here */
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (started[i]) pthread_join(th[i], NULL);
        if (fs[i].rc < 0 && rc == 0) {
            rc = -1;
            *err = fs[i].err;
        }
    }
    free(fs);
    free(th);
    free(started);
    return rc;
}

/* ---- top level ---- */

/* The host name stands in for "Atom Name"; it is read once per process, not per execution. */
static pthread_once_t host_once = PTHREAD_ONCE_INIT;
static char host_name[256];
static void read_host_name(void)
{
    if (gethostname(host_name, sizeof host_name - 1) < 0 || !host_name[0])
        snprintf(host_name, sizeof host_name, "miniatom");
}

void ma_execution_id_new(char out[80])
{
    /* "execution-<uuid>-YYYY.MM.DD"; the date part is formatted once a day */
    static _Thread_local time_t day_start, day_end;
    static _Thread_local char day[32];
    time_t now = time(NULL);
    if (now < day_start || now >= day_end) {
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(day, sizeof day, "-%04d.%02d.%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        day_start = now - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
        day_end = day_start + 86400;
    }
    memcpy(out, "execution-", 10);
    ma_uuid4(out + 10);
    memcpy(out + 46, day, strlen(day) + 1);
}

/* -p NAME=VALUE: a dynamic process property, or COMPONENT/PROPERTY=VALUE for a property of a
 * processproperty component (by id or name, and key or label). */
static int apply_cli_prop(ma_shared *sh, const char *spec, ma_error *err)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec) return ma_error_set(err, MA_ERR_USAGE, "process property '%s' is not NAME=VALUE", spec);
    const char *value = eq + 1;
    size_t nl = (size_t)(eq - spec);
    if (nl < 256 && !memchr(spec, '/', nl)) { /* a dynamic process property (the usual case): no copy of the name */
        char nb[256];
        memcpy(nb, spec, nl);
        nb[nl] = '\0';
        return prop_set(sh, nb, value) < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
    }
    char *name = ma_strndup(spec, nl);
    if (!name) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    char *slash = strchr(name, '/');
    int rc = 0;
    if (slash) {
        *slash = '\0';
        ma_component *c = ma_deploy_find(sh->dep, name);
        for (size_t i = 0; !c && i < sh->dep->n; i++)
            if (strcmp(sh->dep->comps[i]->type, "processproperty") == 0 && strcmp(sh->dep->comps[i]->name, name) == 0 &&
                ma_component_parse(sh->dep, sh->dep->comps[i]) == 0)
                c = sh->dep->comps[i];
        if (c && strcmp(c->type, "processproperty") == 0 && c->object) {
            for (xmlNode *d = ma_xml_child(c->object, "definedProcessProperty"); d;
                 d = ma_xml_next(d, "definedProcessProperty")) {
                char *key = ma_xml_attr(d, "key");
                char *label = ma_xml_text(ma_xml_child(d, "label"));
                int hit = ma_streq(key, slash + 1) || ma_streq(label, slash + 1);
                if (hit) {
                    char *k = defined_key(c->id, key);
                    rc = k ? prop_set(sh, k, value) : -1;
                    free(k);
                }
                free(key);
                free(label);
                if (hit) {
                    free(name);
                    return rc < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
                }
            }
            rc = ma_error_set(err, MA_ERR_USAGE, "process property component '%s' has no property '%s'", name,
                              slash + 1);
            free(name);
            return rc;
        }
        *slash = '/';
    }
    rc = prop_set(sh, name, value);
    free(name);
    return rc < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
}

static void shared_free(ma_shared *sh)
{
    for (size_t i = sh->n_slots; i-- > 0;) {
        if (sh->slots[i].destroy) sh->slots[i].destroy(sh->slots[i].obj);
        free(sh->slots[i].key);
    }
    free(sh->slots);
    ma_kv_free(sh->props, sh->n_props);
    for (size_t i = 0; i < sh->n_loaded; i++) free(sh->loaded[i]);
    free(sh->loaded);
    for (size_t i = 0; i < sh->n_log; i++) {
        free(sh->log[i].shape);
        free(sh->log[i].message);
    }
    free(sh->log);
    free(sh->failed);
    free(sh->first_error);
    free(sh->warning);
    free(sh->counts);
    ma_batch_clear(&sh->returned);
    ma_batch_clear(&sh->ends);
    pthread_mutex_destroy(&sh->mu);
}

int ma_execute(ma_deploy *dep, ma_process *proc, const ma_batch *input, const ma_run_opts *opts, ma_result *res,
               ma_error *err)
{
    memset(res, 0, sizeof *res);
    if (!proc->runnable)
        return ma_error_set(err, MA_ERR_CONFIG, "process '%s' (%s) is not runnable", proc->comp->name, proc->comp->id);
    ma_shared sh;
    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.mu, NULL);
    sh.dep = dep;
    if (opts) sh.opts = *opts;
    else sh.opts.general_mode = 1, sh.opts.retry_scale = 1.0;
    sh.top = proc;
    uint64_t t0 = ma_now_ns();
    if (sh.opts.timeout_ms) sh.deadline_ns = t0 + sh.opts.timeout_ms * 1000000ull;
    ma_budget_init(&sh.budget, sh.opts.max_memory, sh.deadline_ns, sh.opts.cancel);
    if (sh.opts.max_memory_key) sh.budget.limit_key = sh.opts.max_memory_key;
    ma_budget *prev_budget = ma_budget_enter(&sh.budget);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sh.start_s = now.tv_sec;
    sh.start_ms = (int)(now.tv_nsec / 1000000);
    if (sh.opts.execution_id && *sh.opts.execution_id) ma_strlcpy(sh.exec_id, sh.opts.execution_id, sizeof sh.exec_id);
    else ma_execution_id_new(sh.exec_id);
    if (sh.opts.atom_name) ma_strlcpy(sh.atom_name, sh.opts.atom_name, sizeof sh.atom_name);
    else {
        pthread_once(&host_once, read_host_name);
        ma_strlcpy(sh.atom_name, host_name, sizeof sh.atom_name);
    }
    sh.counts = calloc(proc->n_shapes ? proc->n_shapes : 1, sizeof *sh.counts);
    if (!sh.counts) {
        shared_free(&sh);
        ma_budget_leave(prev_budget);
        ma_budget_end(&sh.budget);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < sh.opts.n_props; i++)
        if (apply_cli_prop(&sh, sh.opts.props[i], err) < 0) {
            shared_free(&sh);
            ma_budget_leave(prev_budget);
            ma_budget_end(&sh.budget);
            return -1;
        }
    atomic_int stop;
    atomic_init(&stop, 0);
    ma_exec ex = {.sh = &sh, .proc = proc, .stopped = &stop};
    ma_error rerr;
    ma_error_clear(&rerr);
    int rc = run_process(&ex, input, &rerr);

    ma_strlcpy(res->execution_id, sh.exec_id, sizeof res->execution_id);
    int why_stop = __atomic_load_n(&sh.budget.stop, __ATOMIC_RELAXED);
    if (why_stop == MA_STOP_MEMORY || why_stop == MA_STOP_SERVER_MEMORY) { /* Boomi: out of memory is an error */
        char why[256];
        res->status = MA_STATUS_ERROR;
        res->message = ma_strdup(ma_budget_message(&sh.budget, why, sizeof why));
        ma_exec_log(&ex, NULL, MA_LOG_ERROR, "%s", why);
    } else if (atomic_load(&sh.aborted)) {
        res->status = MA_STATUS_ABORTED;
        res->message =
            why_stop == MA_STOP_CANCEL || (sh.opts.cancel && __atomic_load_n(sh.opts.cancel, __ATOMIC_RELAXED))
                ? ma_strdup("the execution was cancelled")
                : ma_asprintf("the execution took longer than its limit of %llu ms",
                              (unsigned long long)sh.opts.timeout_ms);
    } else if (rc < 0) {
        res->status = MA_STATUS_ERROR;
        res->message = ma_strdup(rerr.msg);
        ma_exec_log(&ex, NULL, MA_LOG_ERROR, "%s", rerr.msg);
    } else if (sh.doc_errors) {
        res->status = MA_STATUS_ERROR;
        res->message = sh.doc_errors == 1
                           ? ma_strdup(sh.first_error)
                           : ma_asprintf("%zu documents failed; the first: %s", sh.doc_errors, sh.first_error);
    } else if (sh.warning) {
        res->status = MA_STATUS_COMPLETE_WARN;
        res->message = ma_strdup(sh.warning);
    } else {
        res->status = MA_STATUS_COMPLETE;
    }
    res->doc_errors = sh.doc_errors;
    if (proc->has_return) {
        res->docs = sh.returned;
        ma_batch_init(&sh.returned);
    } else {
        res->docs = sh.ends;
        ma_batch_init(&sh.ends);
    }
    res->counts = sh.counts;
    res->n_counts = proc->n_shapes;
    sh.counts = NULL;
    res->log = sh.log;
    res->n_log = sh.n_log;
    sh.log = NULL;
    sh.n_log = 0;
    shared_free(&sh);
    res->stop = why_stop;
    res->peak_bytes = (uint64_t)(sh.budget.peak > 0 ? sh.budget.peak : 0);
    ma_budget_leave(prev_budget);
    ma_budget_end(&sh.budget);
    if (res->peak_bytes > RELEASE_AFTER) ma_membudget_release(); /* what it held goes back to the system */
    res->duration_ns = ma_now_ns() - t0;
    return 0;
}

void ma_result_free(ma_result *res)
{
    free(res->message);
    ma_batch_clear(&res->docs);
    free(res->counts);
    for (size_t i = 0; i < res->n_log; i++) {
        free(res->log[i].shape);
        free(res->log[i].message);
    }
    free(res->log);
    memset(res, 0, sizeof *res);
}
