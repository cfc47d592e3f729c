/* script_exec.h - what a script run means to the execution it runs for (scripthost.h): the run
 * context an execution gives a script (its ids, property reads, its deadline, its own temp folder)
 * and what the script's answer does to it (log lines, then property writes). The Custom Scripting
 * step, map Scripting functions and Business Rules Scripting functions all run scripts this way. */
#ifndef MA_SCRIPT_EXEC_H
#define MA_SCRIPT_EXEC_H

#include "executor.h"
#include "scripthost.h"

/* Fills *ctx for a run on behalf of ex (every string borrowed from ex; valid while it runs); the
 * execution's temp folder (exec_temp.h) is made here. -1 with err when it cannot be made. */
int ma_script_exec_ctx(ma_exec *ex, ma_script_run_ctx *ctx, ma_error *err);

/* Applies r to ex: its log lines (under shape, which may be NULL), then its property writes in the
 * order the script made them (dynamic ones, persisted when asked; defined ones under the executor's
 * key). Applied even when the script then threw, as Boomi keeps what a script set before it failed.
 * -1 with err when a write fails. */
int ma_script_exec_apply(ma_exec *ex, const ma_shape *shape, const ma_script_result *r, ma_error *err);

#endif
