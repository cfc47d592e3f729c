/* exec_temp.h - the execution's own temp folder: made (0700) the first time a step asks for it,
 * shared by the execution's subprocesses and threads, and removed with everything in it when the
 * execution ends. Custom Scripting runs scripts in it (docs/decisions/019-scripting.md). */
#ifndef MA_EXEC_TEMP_H
#define MA_EXEC_TEMP_H

#include "executor.h"
#include "miniatom/error.h"

/* The folder's absolute path (borrowed from the execution, valid until it ends), made under
 * DATA/tmp (the --data folder, ma_run_opts.data_dir) on first use; NULL with err when it cannot
 * be made. */
const char *ma_exec_temp_dir(ma_exec *ex, ma_error *err);

#endif
