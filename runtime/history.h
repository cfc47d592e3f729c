/* history.h - the execution history: the embedded store (SQLite, WAL mode, DATA/history.db) where
 * general-mode executions are recorded in full (id, process, status, times, mode, trigger,
 * per-shape document counts, user log, documents in and out, bounded) and bridge-mode ones without
 * payloads (boomi-atom-semantics.md 3.1-3.4). It also keeps the pending Flow callbacks (a WAIT
 * answer is given only once its callback is recorded), so that after a crash and a restart the
 * executions left in progress are marked ABORTED and every pending callback can be answered. */
#ifndef MA_HISTORY_H
#define MA_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "executor.h"
#include "miniatom/error.h"
#include "miniatom/listener.h"

typedef struct ma_history ma_history; /* thread-safe: one connection, one lock */

typedef struct ma_history_opts {
    int purge_days;             /* records older than this are deleted at open and daily (default 30; 0 = never) */
    size_t max_doc_bytes;       /* documents larger than this are recorded cut, with their full size (default 1 MiB) */
    size_t max_docs;            /* at most this many documents in and out per execution (default 1000) */
    uint64_t max_payload_bytes; /* document bytes recorded per execution (0: no limit) */
    uint64_t payload_bytes_per_minute; /* document bytes recorded per minute (0: no limit); history_budget.h */
} ma_history_opts;

/* Opens (creating) DATA/history.db. Executions recorded as STARTED (left by a crash) become
 * ABORTED with the message "the runtime stopped while it ran". NULL with err. */
ma_history *ma_history_open(const char *data_dir, const ma_history_opts *opts, ma_error *err);
void ma_history_close(ma_history *h);

/* Records an execution as STARTED: with_payloads 1 also records the input documents. */
int ma_history_begin(ma_history *h, const char *exec_id, const char *process_id, const char *process_name,
                     const char *mode, const char *trigger, const ma_batch *input, int with_payloads, ma_error *err);
/* Records its end: status, message, duration, per-shape counts (with the process's shape names),
 * the user log and, with payloads, the result documents with their properties. */
int ma_history_end(ma_history *h, const char *exec_id, const ma_process *proc, const ma_result *res, int with_payloads,
                   ma_error *err);

/* Pending Flow callbacks (ma_pending_callback: miniatom/listener.h). */
int ma_history_callback_add(ma_history *h, const ma_pending_callback *cb, ma_error *err);
int ma_history_callback_done(ma_history *h, const char *exec_id, ma_error *err);
/* Every pending callback (caller frees with ma_pending_callbacks_free). */
int ma_history_callbacks(ma_history *h, ma_pending_callback **out, size_t *n, ma_error *err);
void ma_pending_callbacks_free(ma_pending_callback *cbs, size_t n);

/* For `miniatom executions` and `miniatom execution show`: JSON text (malloc'ed). list: newest
 * first, filtered by process (id or name) and status when not NULL, at most last rows. */
char *ma_history_list_json(ma_history *h, const char *process, const char *status, size_t last, ma_error *err);
char *ma_history_show_json(ma_history *h, const char *exec_id, ma_error *err);

/* `miniatom executions` / `miniatom execution show ID` (runtime/cli_history.c). */
int ma_cli_executions(int argc, char **argv);
int ma_cli_execution(int argc, char **argv);

#endif
