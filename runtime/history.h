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
    int purge_days;             /* records older than this are deleted by ma_history_purge (default 30; 0 = never) */
    size_t max_doc_bytes;       /* documents larger than this are recorded cut, with their full size (default 1 MiB) */
    size_t max_docs;            /* at most this many documents in and out per execution (default 1000) */
    uint64_t max_size;          /* bytes the records may take; over it ma_history_purge deletes the oldest
                             payloads, then the oldest records (default 1 GiB; 0 = no cap) */
    int must_exist;             /* 1: fail rather than create a history that is not there */
    uint64_t max_payload_bytes; /* document bytes recorded per execution (0: no limit) */
    uint64_t payload_bytes_per_minute; /* document bytes recorded per minute (0: no limit); history_budget.h */
} ma_history_opts;

/* Opens (creating unless opts->must_exist) DATA/history.db and purges it (ma_history_purge).
 * Executions recorded as STARTED (left by a crash) become ABORTED with the message "the runtime
 * stopped while it ran". NULL with err. */
ma_history *ma_history_open(const char *data_dir, const ma_history_opts *opts, ma_error *err);
/* Closes h; the executions it still records as STARTED become ABORTED (unless h is broken: then
 * nothing more is written to its file). */
void ma_history_close(ma_history *h);

/* Faults. A call that fails because the store itself is unusable - DATA/history.db deleted or
 * replaced by another file since it was opened, an I/O error, a full disk or file size limit, a
 * corrupt file or one that is not a database, a file or folder that became read-only - breaks the
 * handle: every later write fails at once with the same reason, and only a new handle (closing
 * this one) can use the store again. Writes check the file's identity (device and inode) against
 * the one opened: begin before it writes, end and callback_add after they committed (a record
 * committed to a file that is no longer DATA/history.db fails). */
typedef enum {
    MA_HISTORY_OK = 0,
    MA_HISTORY_IO,      /* an I/O error, full, read-only, cannot open: may pass */
    MA_HISTORY_CORRUPT, /* corrupt, not a database, a newer schema: needs `miniatom store repair` */
    MA_HISTORY_GONE,    /* DATA/history.db was deleted (or renamed) while open */
    MA_HISTORY_REPLACED /* DATA/history.db is another file than the one open */
} ma_history_fault_kind;
/* The fault that broke h (MA_HISTORY_OK while it is usable); why gets its reason. */
ma_history_fault_kind ma_history_fault(ma_history *h, char *why, size_t why_len);
/* Checks that DATA/history.db is still the file h has open (breaking h when not). 0 or -1 with err. */
int ma_history_check(ma_history *h, ma_error *err);
/* The kind of an error ma_history_open reported (in err->msg is why): corrupt files are told apart
 * from I/O errors so that a server does not retry what only a repair can mend. */
ma_history_fault_kind ma_history_open_fault(const ma_error *err);

/* Deletes the ended executions older than purge_days, then, while the records take more than
 * max_size, the payloads of the oldest executions (recorded as purged), then the oldest ended
 * executions; in small transactions, so that recording goes on meanwhile. The pages freed are
 * reused (the file does not shrink). 0 or -1 with err. */
int ma_history_purge(ma_history *h, ma_error *err);
/* The bytes the records take (pages in use) and the size of the file with its -wal file. */
int ma_history_size(ma_history *h, uint64_t *used, uint64_t *file, ma_error *err);

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

/* `miniatom store check`: what DATA/history.db holds, read without writing to it. */
typedef struct ma_history_report {
    int exists;                 /* 0: no history yet (a fresh one is made at the first write) */
    int ok;                     /* 1: usable; else problem says why */
    char problem[MA_ERROR_MAX]; /* the first problem found */
    char integrity[512];        /* "ok" or the first lines of quick_check / integrity_check */
    int64_t schema_version;
    uint64_t file_size, wal_size, used; /* bytes: the file, its -wal file, pages in use */
    int64_t executions, running, with_payloads, documents, callbacks;
    int64_t oldest_ms, newest_ms; /* start times, 0 when none */
    int writable;                 /* the file and its folder can be written by this user */
} ma_history_report;
/* Fills r (full: integrity_check instead of quick_check). 0 when the file could be looked at (r->ok
 * gives the verdict), -1 with err when not even that (SQLite missing). */
int ma_history_inspect(const char *data_dir, int full, ma_history_report *r, ma_error *err);

/* `miniatom store repair`: moves DATA/history.db with its -wal and -shm files aside, to
 * DATA/history.db.corrupt-YYYYMMDDTHHMMSSZ (-wal, -shm), creates a fresh history and copies into it
 * the rows of every table that can still be read. */
typedef struct ma_history_salvage {
    char aside[4096];                                            /* where the old file went */
    int64_t executions, shape_counts, log, documents, callbacks; /* rows copied */
    char note[MA_ERROR_MAX];                                     /* what could not be read, or "" */
} ma_history_salvage;
int ma_history_repair(const char *data_dir, ma_history_salvage *out, ma_error *err);

/* `miniatom store check|repair` (runtime/cli_store.c). */
int ma_cli_store(int argc, char **argv);

/* `miniatom executions` / `miniatom execution show ID` (runtime/cli_history.c). */
int ma_cli_executions(int argc, char **argv);
int ma_cli_execution(int argc, char **argv);

#endif
