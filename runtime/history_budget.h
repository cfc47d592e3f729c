/* history_budget.h - the byte budgets of recorded payloads (history.c): per execution and per
 * minute, so that a flood of large documents cannot fill the disk through the history
 * (docs/server.md "Limits and failure behaviour"). Not thread-safe: history.c calls it under its
 * lock. */
#ifndef MA_HISTORY_BUDGET_H
#define MA_HISTORY_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "miniatom/document.h"

/* The executions.payloads column: 0 none (bridge), 1 recorded, 2 recorded and later purged by the
 * size cap (history.max_size), 3 and 4: some or all were not recorded, over the budget per
 * execution or per minute. */
enum {
    MA_PAYLOADS_NONE = 0,
    MA_PAYLOADS_KEPT = 1,
    MA_PAYLOADS_PURGED = 2,
    MA_PAYLOADS_OVER_EXECUTION = 3,
    MA_PAYLOADS_OVER_MINUTE = 4
};

typedef struct ma_payload_budget {
    uint64_t per_execution; /* bytes of documents in and out per execution; 0: no limit */
    uint64_t per_minute;    /* bytes per minute for all executions; 0: no limit */
    double level;           /* the minute's bucket: bytes taken, draining at per_minute a minute */
    uint64_t t_ns;
} ma_payload_budget;

/* How many of the first n documents of docs are recorded: each costs its size up to max_doc_bytes
 * (what is stored); they are taken in order while *used (this execution's bytes so far, updated)
 * stays within per_execution and the minute has room. *why is MA_PAYLOADS_KEPT when all fit, else
 * the budget that stopped them. */
size_t ma_payload_budget_take(ma_payload_budget *b, const ma_batch *docs, size_t n, size_t max_doc_bytes,
                              uint64_t *used, int *why);
/* What a payloads value says about dropped documents (NULL for NONE and KEPT). */
const char *ma_payload_budget_why(int why);

#endif
