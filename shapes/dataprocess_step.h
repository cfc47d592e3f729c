/* dataprocess_step.h - the interface between the Data Process shape (dataprocess.c) and steps
 * that live in their own files (dataprocess_<step>.c). A step kind compiles its <step> element
 * into an opaque state and runs it over the batch the previous step produced. */
#ifndef MA_DATAPROCESS_STEP_H
#define MA_DATAPROCESS_STEP_H

#include <libxml/tree.h>

#include "miniatom/config.h"
#include "miniatom/shape.h"

typedef struct ma_dp_step_kind {
    int processtype;  /* Boomi's processtype number; -1 where no real source gives it: the step is then
                       * recognized by its name attribute (name, case-insensitively) */
    const char *name; /* Boomi's step name, e.g. "Custom Scripting" */
    /* Compiles step (the <step> element) into *state (owned by the shape; freed with destroy).
     * label is "step 2 'Name'" for error messages. */
    int (*compile)(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err);
    /* Runs the step over in (borrowed; in->docs stay owned by the caller): pushes each result
     * document (a new reference) to next, fails a document with ma_outputs_fail(out, ...) (a
     * document error), returns -1 only for a process-level error (err filled). */
    int (*run)(ma_exec *ex, ma_shape *shape, void *state, const ma_batch *in, ma_batch *next, ma_outputs *out,
               ma_error *err);
    void (*destroy)(void *state);
    /* The settings the step reads (NULL: none): keys settings_prefix + an entry's key, checked with
     * the other settings and listed by `miniatom plugins`. Kinds may share one prefix and map. */
    const char *settings_prefix;
    const ma_config_entry *config_map;
} ma_dp_step_kind;

/* Every step kind that lives in its own file (dataprocess_steps.c lists them), NULL-terminated. */
extern const ma_dp_step_kind *const ma_dp_step_kinds[];

#endif
