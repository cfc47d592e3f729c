/* processcall.c - the Process Call shape (boomi-atom-semantics.md 2 "Process Call"): a child with
 * a Data Passthrough start gets the whole batch in one execution; any other child runs once per
 * document. Documents the child returns come back on the path named after the child's Return
 * Documents shape (childShapeName), paths running in the order of the returnpaths list. With
 * abort="true" a failed child fails this step (a process-level error); otherwise the execution
 * goes on and ends COMPLETE_WARN. wait="false" is run as wait="true": the child always finishes
 * before the parent goes on (docs/decisions/004-process-call-wait.md). */
#include <stdlib.h>
#include <string.h>

#include "shapes_common.h"
#include "executor.h"
#include "loader.h"
#include "process.h"
#include "util.h"

typedef struct pc_data {
    ma_component *child; /* borrowed */
    int abort;
} pc_data;

static void pc_destroy(ma_shape *s)
{
    free(ma_shape_data(s));
    ma_shape_set_data(s, NULL);
}

static int pc_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "processcall")) return ma_error_set(err, MA_ERR_CONFIG, "expected a <processcall> configuration");
    pc_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_shape_set_data(s, d);
    d->abort = !ma_xml_attr_is(c, "abort", "false");
    char *pid = ma_xml_attr(c, "processId");
    ma_deploy *dep = ma_shape_deploy(s);
    d->child = ma_deploy_ref(dep, pid, "process", "subprocess", err);
    free(pid);
    if (!d->child) return -1;
    if (ma_deploy_compile_process(dep, d->child) < 0)
        return ma_error_set(err, MA_ERR_REF, "subprocess '%s' (%s) is not runnable (see its problems)", d->child->name,
                            d->child->id);
    xmlNode *rps = ma_xml_child(c, "returnpaths");
    for (xmlNode *rp = ma_xml_child(rps, "returnpaths"); rp; rp = ma_xml_next(rp, "returnpaths")) {
        char *name = ma_xml_attr(rp, "childShapeName");
        int rc = 0;
        if (!name || !*name) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: a return path names no childShapeName", rp->line);
        } else if (d->child->compile_state == 2 && d->child->process) {
            ma_shape *t = ma_process_find_shape(d->child->process, name);
            if (!t || strcmp(t->type_name, "returndocuments") != 0)
                rc = ma_error_set(err, MA_ERR_REF,
                                  "return path '%s': subprocess '%s' has no Return Documents shape named %s", name,
                                  d->child->name, name);
        }
        if (rc == 0 && ma_shape_declare_output(s, name, err) < 0) rc = -1;
        free(name);
        if (rc < 0) return -1;
    }
    return 0;
}

static int emit_returns(ma_shape *s, ma_child_returns *ret, ma_outputs *out, ma_error *err)
{
    for (size_t i = 0; i < ret->n; i++) {
        int idx = -1;
        ma_shape *sh = s;
        for (size_t j = 0; j < sh->n_outs; j++)
            if (ma_streq(sh->outs[j].identifier, ret->names[i])) idx = (int)j;
        if (idx < 0) continue; /* a Return Documents shape the caller has no path for */
        for (size_t k = 0; k < ret->docs[i].len; k++)
            if (ma_outputs_emit(out, idx, ma_doc_ref(ret->docs[i].docs[k])) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static int call_once(ma_exec *ex, ma_shape *s, pc_data *d, const ma_batch *b, ma_child_returns *ret, ma_error *err)
{
    int rc = ma_exec_call(ex, s, d->child->process, b, ret, err);
    if (rc < 0) return -1;
    if (rc == 1) {
        if (d->abort) return -1;
        ma_exec_warn(ex, s, "%s", err->msg);
        ma_error_clear(err);
    }
    return 0;
}

static int pc_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    pc_data *d = ma_shape_data(s);
    ma_child_returns ret;
    memset(&ret, 0, sizeof ret);
    int rc = 0;
    if (d->child->process->start_kind == MA_START_PASSTHROUGH) {
        rc = call_once(ex, s, d, in, &ret, err);
    } else {
        for (size_t i = 0; i < in->len && rc == 0; i++) {
            ma_batch one = {.docs = &in->docs[i], .len = 1, .cap = 1}; /* borrowed view */
            rc = call_once(ex, s, d, &one, &ret, err);
        }
    }
    if (rc == 0) rc = emit_returns(s, &ret, out, err);
    ma_child_returns_free(&ret);
    return rc;
}

/* A process call waits when the process it calls may. */
static int pc_may_wait(const ma_shape *s)
{
    const pc_data *d = ma_shape_data(s);
    return !d || !d->child->process || ma_process_may_wait(d->child->process);
}

const ma_shape_type ma_shape_processcall = {
    .name = "processcall",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = pc_compile,
    .execute = pc_execute,
    .destroy = pc_destroy,
    .may_wait = pc_may_wait,
};
