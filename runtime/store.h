/* store.h - persisted process properties (boomi-atom-semantics.md 1.3): a property set with
 * persist="true" is written at once to DATA/persisted/<process componentId>.json and loaded when
 * the next execution of that process starts. Last writer wins; writes are atomic (rename). */
#ifndef MA_STORE_H
#define MA_STORE_H

#include "miniatom/error.h"

typedef struct ma_kv {
    char *name, *value; /* owned */
} ma_kv;

/* Loads the persisted properties of process_id from data_dir. Missing file -> 0 entries.
 * *out is a malloc'ed array the caller frees with ma_kv_free (NULL when there are none). */
int ma_store_load(const char *data_dir, const char *process_id, ma_kv **out, size_t *n, ma_error *err);
/* Sets name=value in the persisted properties of process_id (read-modify-write under a lock). */
int ma_store_put(const char *data_dir, const char *process_id, const char *name, const char *value, ma_error *err);
/* Sequential Value counters (the keygen parameter value): DATA/counters.json, a JSON object of
 * counter name to its last value. Adds one to name's value (0 when it has none) under the same
 * lock as ma_store_put and returns it in *next: 1, 2, 3 ... across executions. */
int ma_store_counter_next(const char *data_dir, const char *name, unsigned long long *next, ma_error *err);
void ma_kv_free(ma_kv *kv, size_t n);

#endif
