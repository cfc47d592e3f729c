/* catcherrors.c - the Try/Catch shape (boomi-atom-semantics.md 2 "Try/Catch"): documents go down
 * Try; the ones that fail there (as they entered) are retried retryCount times with Boomi's waits
 * (at once, 10 s, 30 s, 60 s, 120 s; scaled by the run's retry scale) and then go down Catch with
 * meta.base.catcherrorsmessage. catchAll="true" also catches process-level errors, sending every
 * document that entered to Catch. The work is done by ma_exec_try in the executor. */
#include <stdlib.h>

#include "shapes_common.h"
#include "executor.h"
#include "util.h"

typedef struct tc_data {
    int catch_all, retries;
} tc_data;

static int tc_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "catcherrors")) return ma_error_set(err, MA_ERR_CONFIG, "expected a <catcherrors> configuration");
    tc_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_shape_set_data(s, d);
    d->catch_all = ma_xml_attr_is(c, "catchAll", "true");
    char *rc = ma_xml_attr(c, "retryCount");
    char *end = NULL;
    long r = rc && *rc ? strtol(rc, &end, 10) : 0;
    if (rc && *rc && (*end || r < 0 || r > 5)) {
        ma_error_set(err, MA_ERR_CONFIG, "retryCount '%s' is not a number from 0 to 5", rc);
        free(rc);
        return -1;
    }
    free(rc);
    d->retries = (int)r;
    if (ma_shape_declare_output(s, "default", err) < 0 || ma_shape_declare_output(s, "error", err) < 0) return -1;
    return 0;
}

static int tc_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    tc_data *d = ma_shape_data(s);
    ma_batch b;
    ma_batch_init(&b);
    for (size_t i = 0; i < in->len; i++)
        if (ma_batch_push(&b, ma_doc_ref(in->docs[i])) < 0) {
            ma_batch_clear(&b);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    return ma_exec_try(ex, s, 0, 1, d->catch_all, d->retries, &b, err);
}

static void tc_destroy(ma_shape *s)
{
    free(ma_shape_data(s));
    ma_shape_set_data(s, NULL);
}

const ma_shape_type ma_shape_catcherrors = {
    .name = "catcherrors",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = tc_compile,
    .execute = tc_execute,
    .destroy = tc_destroy,
};
