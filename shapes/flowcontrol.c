/* flowcontrol.c - the Flow Control shape (boomi-atom-semantics.md 2 "Flow Control"):
 * forEachCount="N" runs the rest of the path on batches of N documents, one batch after another
 * (N=1: each document runs to the end before the next); chunks="T" with T > 1 splits the batch
 * into T groups that run the rest of the path at the same time, one thread each (Boomi's
 * threads; "processes" run as threads too), the step waiting for all of them. */
#include <stdint.h>
#include <stdlib.h>

#include "shapes_common.h"
#include "executor.h"
#include "util.h"

#define MAX_FC_THREADS 64

typedef struct fc_data {
    size_t each;
    size_t threads;
} fc_data;

static long attr_num(const xmlNode *c, const char *name, long max, ma_error *err)
{
    char *v = ma_xml_attr(c, name);
    if (!v || !*v) {
        free(v);
        return 0;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 0 || n > max) {
        ma_error_set(err, MA_ERR_CONFIG, "%s '%s' is not a number from 0 to %ld", name, v, max);
        free(v);
        return -1;
    }
    free(v);
    return n;
}

static int fc_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "flowcontrol")) return ma_error_set(err, MA_ERR_CONFIG, "expected a <flowcontrol> configuration");
    fc_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_shape_set_data(s, d);
    long each = attr_num(c, "forEachCount", 1000000000L, err);
    if (each < 0) return -1;
    long threads = attr_num(c, "chunks", MAX_FC_THREADS, err);
    if (threads < 0) return -1;
    d->each = (size_t)each;
    d->threads = (size_t)threads;
    return ma_shape_declare_output(s, NULL, err) < 0 ? -1 : 0;
}

static int fc_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    fc_data *d = ma_shape_data(s);
    ma_batch all;
    ma_batch_init(&all);
    for (size_t i = 0; i < in->len; i++)
        if (ma_batch_push(&all, ma_doc_ref(in->docs[i])) < 0) {
            ma_batch_clear(&all);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    size_t t = d->threads > all.len ? all.len : d->threads;
    if (t <= 1) return ma_exec_run_output_chunked(ex, s, 0, &all, d->each, err);
    /* t groups of consecutive documents, sizes differing by at most one */
    ma_batch *groups = calloc(t, sizeof *groups);
    if (!groups) {
        ma_batch_clear(&all);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    size_t pos = 0;
    for (size_t g = 0; g < t; g++) {
        size_t cnt = all.len / t + (g < all.len % t ? 1 : 0);
        for (size_t k = 0; k < cnt; k++) ma_batch_push(&groups[g], ma_doc_ref(all.docs[pos++]));
    }
    ma_batch_clear(&all);
    int rc = ma_exec_run_output_parallel(ex, s, 0, groups, t, d->each, err);
    free(groups);
    return rc;
}

static void fc_destroy(ma_shape *s)
{
    free(ma_shape_data(s));
    ma_shape_set_data(s, NULL);
}

const ma_shape_type ma_shape_flowcontrol = {
    .name = "flowcontrol",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = fc_compile,
    .execute = fc_execute,
    .destroy = fc_destroy,
};
