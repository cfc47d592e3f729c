/* script_exec.c - the execution's side of a script run (script_exec.h): the run context and the
 * effects of the answer, the same for every place that runs scripts
 * (docs/decisions/019-scripting.md). */
#include <stdlib.h>
#include <string.h>

#include "exec_temp.h"
#include "script_exec.h"
#include "util.h"

static char *lookup(void *ctx, int kind, const char *a, const char *b)
{
    ma_exec *ex = ctx;
    if (kind == 0) return ma_exec_get_process_prop(ex, a);
    return ma_exec_get_defined_prop(ex, a, b);
}

int ma_script_exec_ctx(ma_exec *ex, ma_script_run_ctx *ctx, ma_error *err)
{
    const char *tmpdir = ma_exec_temp_dir(ex, err);
    if (!tmpdir) return -1;
    memset(ctx, 0, sizeof *ctx);
    ctx->execution_id = ma_exec_id(ex);
    ctx->process_id = ma_exec_process_id(ex);
    ctx->process_name = ma_exec_process_name(ex);
    ctx->atom_name = ma_exec_atom_name(ex);
    ctx->lookup = lookup;
    ctx->lookup_ctx = ex;
    ctx->must_stop = ma_exec_must_stop;
    ctx->temp_dir = tmpdir;
    return 0;
}

int ma_script_exec_apply(ma_exec *ex, const ma_shape *shape, const ma_script_result *r, ma_error *err)
{
    for (size_t i = 0; i < r->n_logs; i++) {
        int lv = r->logs[i].level;
        ma_exec_log(ex, shape,
                    lv >= 2   ? MA_LOG_ERROR
                    : lv == 1 ? MA_LOG_WARNING
                              : MA_LOG_INFO,
                    "%s", r->logs[i].message ? r->logs[i].message : "");
    }
    for (size_t i = 0; i < r->n_writes; i++) {
        const ma_script_write *w = &r->writes[i];
        if (!w->a || !w->value) continue;
        if (!w->b) {
            if (ma_exec_set_process_prop(ex, w->a, w->value, w->persist, err) < 0) return -1;
            continue;
        }
        /* ExecutionUtil.setProcessProperty: persisted when the component's property says so */
        if (ma_exec_set_defined_prop(ex, w->a, w->b, w->value, 0, err) < 0) return -1;
    }
    return 0;
}
