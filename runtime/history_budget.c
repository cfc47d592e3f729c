/* history_budget.c - the byte budgets of recorded payloads (history_budget.h): a count per
 * execution and a leaky bucket per minute. Over either, the documents that do not fit are not
 * recorded - the execution still runs and is recorded, its record says why the payloads are
 * missing. */
#include "history_budget.h"

#include "util.h"

size_t ma_payload_budget_take(ma_payload_budget *b, const ma_batch *docs, size_t n, size_t max_doc_bytes,
                              uint64_t *used, int *why)
{
    *why = MA_PAYLOADS_KEPT;
    if (!b || (!b->per_execution && !b->per_minute)) return n;
    uint64_t now = ma_now_ns();
    if (b->per_minute) {
        b->level -= (double)(now - b->t_ns) * (double)b->per_minute / 60e9;
        if (b->level < 0) b->level = 0;
    }
    b->t_ns = now;
    size_t k = 0;
    for (; k < n; k++) {
        size_t len = 0;
        ma_doc_data(docs->docs[k], &len);
        uint64_t cost = len < max_doc_bytes ? len : max_doc_bytes;
        if (b->per_execution && *used + cost > b->per_execution) {
            *why = MA_PAYLOADS_OVER_EXECUTION;
            break;
        }
        if (b->per_minute && b->level + (double)cost > (double)b->per_minute) {
            *why = MA_PAYLOADS_OVER_MINUTE;
            break;
        }
        *used += cost;
        b->level += (double)cost;
    }
    return k;
}

const char *ma_payload_budget_why(int why)
{
    return why == MA_PAYLOADS_OVER_EXECUTION ? "over history.max_payload_bytes (per execution)"
           : why == MA_PAYLOADS_OVER_MINUTE  ? "over history.payload_bytes_per_minute"
                                             : NULL;
}
