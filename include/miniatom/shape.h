/* miniatom/shape.h - the shape ABI: what a shape type (built-in or plugin) implements and what the
 * runtime offers it.
 *
 * A shape type compiles a shape's <configuration> once, at deploy, into private data, then
 * executes on whole batches (boomi-atom-semantics.md 1.4): it sorts its input documents onto its
 * outputs, or fails single documents (document errors, catchable by Try/Catch), or fails the
 * whole step by returning -1 (a process-level error). The executor runs each output path to
 * completion in the order the outputs were declared. */
#ifndef MINIATOM_SHAPE_H
#define MINIATOM_SHAPE_H

#include <stddef.h>

#include "document.h"
#include "error.h"
#include "helpers.h" /* ma_xml_node: a libxml2 xmlNode */

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct or function of this ABI changes incompatibly. */
#define MA_ABI_VERSION 3


typedef struct ma_shape ma_shape;     /* one shape of a deployed process (owned by the process) */
typedef struct ma_exec ma_exec;       /* one running execution (owned by the executor) */
typedef struct ma_outputs ma_outputs; /* where execute() puts documents (owned by the executor) */
typedef struct ma_deploy ma_deploy;   /* the deployment being compiled (owned by its creator) */
typedef struct ma_param ma_param;     /* a compiled <parametervalue> (owned by its creator) */

/* Traits of a shape type (ma_shape_type.traits). */
#define MA_SHAPE_IN_MEMORY \
    0x1u /* works only on the documents in memory: never waits on the outside
                                   world (a connector, a network, a disk, another thread's work) */

typedef struct ma_shape_type {
    const char *name; /* the shapetype attribute, e.g. "decision" */
    int abi_version;  /* MA_ABI_VERSION; checked at registration */
    unsigned traits;  /* MA_SHAPE_* */
    /* Once, at deploy: read config (the element inside <configuration>, may be NULL), declare the
     * outputs (ma_shape_declare_output) in the order they run, keep private data with
     * ma_shape_set_data. Return -1 with err for invalid or unsupported configuration. */
    int (*compile)(ma_shape *shape, const ma_xml_node *config, ma_error *err);
    /* For each batch reaching the shape. `in` is borrowed: emit documents with
     * ma_outputs_emit(out, index, ma_doc_ref(doc)) or a new document. Return -1 with err for a
     * process-level error. */
    int (*execute)(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_outputs *out, ma_error *err);
    /* Frees the private data; may be NULL. */
    void (*destroy)(ma_shape *shape);
    /* Whether a compiled shape of this type may wait on the outside world, when that depends on
     * its configuration (a process call: whether the process it calls may). 1 or 0. NULL: the
     * MA_SHAPE_IN_MEMORY trait answers. */
    int (*may_wait)(const ma_shape *shape);
} ma_shape_type;

/* ---- shape accessors (borrowed strings, valid for the shape's lifetime) ---- */
const char *ma_shape_name(const ma_shape *shape);      /* "shape5" */
const char *ma_shape_label(const ma_shape *shape);     /* userlabel, "" when none */
const char *ma_shape_type_name(const ma_shape *shape); /* shapetype */
const char *ma_shape_process_id(const ma_shape *shape);
ma_deploy *ma_shape_deploy(const ma_shape *shape);
void *ma_shape_data(const ma_shape *shape);
void ma_shape_set_data(ma_shape *shape, void *data); /* owned by the shape type: free in destroy */

/* Declares the next output. identifier is the dragpoint identifier ("true", "1", "default", a
 * return shape name ...) or NULL for the single unnamed output. Outputs run in declaration order.
 * A declared output with no dragpoint, or a dragpoint toShape="unset", is a path end. Returns the
 * output index (0, 1, ...) or -1 with err. Every dragpoint of the shape must match a declared
 * output, otherwise the process does not load. */
int ma_shape_declare_output(ma_shape *shape, const char *identifier, ma_error *err);
/* Number of dragpoints the shape has in the XML (for shapes whose outputs depend on them). */
size_t ma_shape_dragpoint_count(const ma_shape *shape);
/* Identifier of dragpoint i in XML order (NULL when it has none). */
const char *ma_shape_dragpoint_identifier(const ma_shape *shape, size_t i);

/* ---- outputs ---- */
/* Puts doc (reference taken over) on output index. */
int ma_outputs_emit(ma_outputs *out, int index, ma_doc *doc);
/* Fails doc (reference taken over) with a message: a document error, catchable by Try/Catch;
 * the other documents go on. Returns 0 (or -1 when out of memory). */
int ma_outputs_fail(ma_outputs *out, ma_doc *doc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- parameter values (<parametervalue>, <decisionvalue>, <routeproperty>, ...) ---- */
/* Compiles a parameter value element (its valueType attribute selects the kind). References are
 * resolved against the shape's deployment. Returns a new ma_param (caller frees with
 * ma_param_free) or NULL with err. */
ma_param *ma_param_compile(ma_shape *shape, const ma_xml_node *node, ma_error *err);
void ma_param_free(ma_param *p);
/* Evaluates for doc (may be NULL when there is no current document). Returns a malloc'ed string
 * the caller frees, or NULL with err (an unsupported kind, a profile element that is missing is
 * not an error: it yields ""). */
char *ma_param_eval(ma_exec *ex, const ma_param *p, const ma_doc *doc, ma_error *err);

/* ---- execution services ---- */
/* Process property (dynamic process property NAME, without the "process." prefix): malloc'ed
 * copy or NULL when unset. */
char *ma_exec_get_process_prop(ma_exec *ex, const char *name);
int ma_exec_set_process_prop(ma_exec *ex, const char *name, const char *value, int persist, ma_error *err);
const char *ma_exec_id(const ma_exec *ex);
const char *ma_exec_process_name(const ma_exec *ex);
const char *ma_exec_process_id(const ma_exec *ex);
int ma_exec_is_general_mode(const ma_exec *ex);
/* 1 when the execution running on the calling thread must stop now: its deadline passed, it was
 * cancelled, or it used more than its memory budget (docs/decisions/015-execution-budgets.md).
 * Connector and shape code that waits on the outside world (a network call, a retry's sleep) polls
 * it and gives up with an error; the execution then ends as the stop says (ABORTED or ERROR). 0 on a
 * thread that runs no execution. Cheap: it reads the clock. */
int ma_exec_must_stop(void);

typedef enum ma_log_level { MA_LOG_INFO = 0, MA_LOG_WARNING, MA_LOG_ERROR } ma_log_level;
/* How an execution ended (boomi-atom-semantics.md 3.4). */
typedef enum ma_status {
    MA_STATUS_COMPLETE = 0,
    MA_STATUS_COMPLETE_WARN,
    MA_STATUS_ERROR,
    MA_STATUS_ABORTED
} ma_status;
/* Adds a line to the execution's user log (shape name is recorded with it). */
void ma_exec_log(ma_exec *ex, const ma_shape *shape, ma_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Runs output `index` of shape on batch now, to completion (for shapes that control how their
 * paths run, like Flow Control). The batch's documents are consumed. Returns -1 with err for a
 * process-level error. */
int ma_exec_run_output(ma_exec *ex, ma_shape *shape, int index, ma_batch *batch, ma_error *err);

#ifdef __cplusplus
}
#endif
#endif
