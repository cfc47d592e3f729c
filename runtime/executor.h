/* executor.h - running a compiled process over batches of documents with Boomi's semantics
 * (boomi-atom-semantics.md 1.4-1.5, 2): every shape gets the whole batch; each output path runs
 * to completion in the declared order; document errors are caught by the innermost Try/Catch or
 * fail the execution; process-level errors unwind to a Try/Catch with catchAll or end the
 * execution with ERROR. Also the internal services the built-in control shapes use. */
#ifndef MA_EXECUTOR_H
#define MA_EXECUTOR_H

#include <stdint.h>

#include "component.h"
#include "miniatom/shape.h"
#include "process.h"

const char *ma_status_name(ma_status s);

typedef struct ma_run_opts {
    int general_mode;         /* 1 general (default), 0 low latency */
    const char *data_dir;     /* persisted process properties; NULL = "./data" */
    const char *const *props; /* "NAME=VALUE" process properties (borrowed) */
    size_t n_props;
    double retry_scale;         /* multiplies Boomi's Try/Catch retry waits (1.0; tests use 0) */
    const char *atom_name;      /* "Atom Name" (default: host name) */
    const char *account_id;     /* "Account Id" (default: "miniatom") */
    int max_depth;              /* process call nesting limit (default 32) */
    uint64_t timeout_ms;        /* 0 = none; exceeded -> ABORTED, whatever runs (maps included) */
    uint64_t max_memory;        /* bytes the execution may hold (membudget.h); 0 = none; exceeded -> ERROR */
    const char *max_memory_key; /* the setting named when it is exceeded (default "execution.max_memory") */
    const volatile int *cancel; /* when it becomes non-zero the execution stops: ABORTED (borrowed;
                                   NULL = never) */
    const char *execution_id;   /* use this id instead of a new one (a listener records it first) */
} ma_run_opts;

typedef struct ma_log_entry {
    ma_log_level level;
    char *shape;   /* owned: "shape5" or "" */
    char *message; /* owned */
    char time[32]; /* ISO-8601 UTC */
} ma_log_entry;

typedef struct ma_result {
    ma_status status;
    char execution_id[80];
    char *message;  /* owned: why ERROR / ABORTED / COMPLETE_WARN, or NULL */
    ma_batch docs;  /* result documents, in arrival order */
    size_t *counts; /* owned: documents that entered each shape of the top process */
    size_t n_counts;
    ma_log_entry *log; /* owned */
    size_t n_log;
    size_t doc_errors; /* document errors not caught by a Try/Catch */
    uint64_t duration_ns;
    int stop;            /* ma_stop_reason (membudget.h) when a limit or a cancel ended it, else 0 */
    uint64_t peak_bytes; /* the most it held, as accounted by membudget.h */
} ma_result;

/* Runs proc (top level). input: documents for a passthrough or listener start (borrowed; the
 * documents are referenced, not consumed), may be NULL. Returns 0 when the execution ran (its
 * outcome is res->status) and -1 with err when it could not start. Free res with ma_result_free. */
int ma_execute(ma_deploy *dep, ma_process *proc, const ma_batch *input, const ma_run_opts *opts, ma_result *res,
               ma_error *err);
void ma_result_free(ma_result *res);
/* A new execution id, execution-<uuid>-<yyyy.MM.dd> (Boomi's form, boomi-atom-semantics.md 3.4). */
void ma_execution_id_new(char out[80]);

/* ---- services for built-in control shapes ---- */

/* Try/Catch: runs the try output on in; failed documents (the originals as they entered) are
 * retried `retries` times with Boomi's waits, then run down the catch output carrying
 * meta.base.catcherrorsmessage. With catch_all, process-level errors on the try path send every
 * original document to catch; without it they propagate. Consumes in. */
int ma_exec_try(ma_exec *ex, ma_shape *shape, int try_out, int catch_out, int catch_all, int retries, ma_batch *in,
                ma_error *err);

/* Stop with continue="false": ends the current process execution; nothing more runs in it. */
void ma_exec_stop_process(ma_exec *ex);

/* Return Documents: hands the batch (consumed) to the caller under the shape's name. */
int ma_exec_return(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_error *err);

/* What a child process returned, by child Return Documents shape name. Owned by the caller:
 * free with ma_child_returns_free. */
typedef struct ma_child_returns {
    char **names;   /* owned */
    ma_batch *docs; /* owned */
    size_t n;
} ma_child_returns;
void ma_child_returns_free(ma_child_returns *r);
/* Runs child once with batch `in` (borrowed) passed to its start shape; the child shares the
 * execution's process properties, caches and Try/Catch scopes. Returns 0 when the child
 * completed, 1 when it ended with an error (message in err), -1 on a failure to run it. */
int ma_exec_call(ma_exec *ex, ma_shape *shape, ma_process *child, const ma_batch *in, ma_child_returns *ret,
                 ma_error *err);

/* Runs output `index` of shape on each batch, all batches at the same time, one thread each
 * (Flow Control parallel processing). Within a thread, each > 0 runs the batch in consecutive
 * pieces of `each` documents, one after another. Consumes the batches. */
int ma_exec_run_output_parallel(ma_exec *ex, ma_shape *shape, int index, ma_batch *batches, size_t n, size_t each,
                                ma_error *err);
/* Runs output index on consecutive pieces of `each` documents of batch, one piece after the
 * other (Flow Control "run as batches of x documents"). Consumes batch. */
int ma_exec_run_output_chunked(ma_exec *ex, ma_shape *shape, int index, ma_batch *batch, size_t each, ma_error *err);
/* Documents that end their path here (Stop): they are results of a process without Return
 * Documents. Consumes b. */
int ma_exec_path_end(ma_exec *ex, ma_batch *b);

/* An ma_outputs of its own with n outputs, for running a connector outside a shape's execute (a
 * connector parameter value): what it emits and fails stays in it. NULL when out of memory. */
ma_outputs *ma_outputs_new(size_t n);
/* Output i's documents (borrowed; take them with ma_batch_move). */
ma_batch *ma_outputs_batch(ma_outputs *out, size_t i);
/* How many documents were failed, and the first one's message (borrowed) in *msg. */
size_t ma_outputs_failed(const ma_outputs *out, const char **msg);
void ma_outputs_free(ma_outputs *out);

/* Execution-scoped objects (document caches ...): returns the object stored under key, creating
 * it with create() the first time. The execution owns it and calls destroy at its end. Shared by
 * subprocesses and threads of the execution; callers lock with ma_exec_lock/unlock. */
void *ma_exec_slot(ma_exec *ex, const char *key, void *(*create)(void), void (*destroy)(void *));
void ma_exec_lock(ma_exec *ex);
void ma_exec_unlock(ma_exec *ex);

/* Documents in the batch at the start of the current step (DOCUMENT_COUNT). */
size_t ma_exec_document_count(const ma_exec *ex);
/* Options of the run (borrowed). */
const ma_run_opts *ma_exec_opts(const ma_exec *ex);
/* The folder of the execution history and the persisted state: the run's data_dir, else ./data. */
const char *ma_exec_data_dir(const ma_exec *ex);
/* Marks the execution COMPLETE_WARN (unless it ends worse) with a message. */
void ma_exec_warn(ma_exec *ex, const ma_shape *shape, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Value of a defined process property (processproperty component id + key): the value set for
 * the execution, else the component's default. Returns malloc'ed or NULL. */
char *ma_exec_get_defined_prop(ma_exec *ex, const char *component_id, const char *key);
/* Sets a defined process property for the execution (seen by later shapes, subprocesses and
 * scripts). When the component's property says <persisted>true</persisted>, or persist is set, the
 * value is also stored at once in the running process's persisted properties (store.h) as
 * MA_DEFINED_PREFIX "COMPONENT@KEY", and the next execution of that process loads it. */
int ma_exec_set_defined_prop(ma_exec *ex, const char *component_id, const char *key, const char *value, int persist,
                             ma_error *err);
/* 1 when property key of processproperty component component_id is <persisted>true</persisted>. */
int ma_defined_prop_persisted(ma_deploy *dep, const char *component_id, const char *key);
/* The Set Properties propertyId prefix of a defined process property: definedprocess.COMPONENT@KEY. */
#define MA_DEFINED_PREFIX "definedprocess."
/* "Atom Name" of the execution (borrowed). */
const char *ma_exec_atom_name(const ma_exec *ex);
/* The deployment the execution runs in (borrowed; read-only at run time). */
ma_deploy *ma_exec_deploy(const ma_exec *ex);
/* Time the execution started (epoch seconds and milliseconds). */
void ma_exec_start_time(const ma_exec *ex, time_t *secs, int *millis);

#endif
