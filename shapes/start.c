/* start.c - the Start shape (boomi-atom-semantics.md 2 "Start"): No Data yields one empty
 * document; Data Passthrough yields the caller's documents (a parent's batch, or the CLI's), or
 * like No Data one empty document when it is run on its own without any (HB:Passthrough);
 * a connector Listen yields the documents a listener (or the CLI) hands over; a connector Get
 * runs its operation through the connector step (connectoraction.c) on one empty document. */
#include <stdlib.h>
#include <string.h>

#include "shapes_common.h"
#include "process.h"
#include "util.h"

typedef struct start_data {
    ma_start_kind kind;
    void *connector; /* connectoraction data for a connector Get start */
} start_data;

static void start_destroy(ma_shape *s)
{
    start_data *d = ma_shape_data(s);
    if (!d) return;
    if (d->connector) ma_connstep_destroy(s, d->connector);
    free(d);
    ma_shape_set_data(s, NULL);
}

static int start_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    start_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (ma_xml_is(c, "noaction")) {
        d->kind = MA_START_NODATA;
    } else if (ma_xml_is(c, "passthroughaction")) {
        d->kind = MA_START_PASSTHROUGH;
    } else if (ma_xml_is(c, "connectoraction") && ma_xml_attr_is(c, "actionType", "Listen")) {
        d->kind = MA_START_LISTEN;
    } else if (ma_xml_is(c, "connectoraction")) {
        d->kind = MA_START_CONNECTOR;
        ma_shape_set_data(s, d);
        return ma_connstep_compile(s, config, &d->connector, err);
    } else {
        free(d);
        if (!c) return ma_error_set(err, MA_ERR_CONFIG, "the start shape has no configuration");
        return ma_error_set(err, MA_ERR_UNSUPPORTED,
                            "start type <%s> is not supported (No Data, Data Passthrough and connector starts are)",
                            (const char *)c->name);
    }
    ma_shape_set_data(s, d);
    return ma_shape_declare_output(s, NULL, err) < 0 ? -1 : 0;
}

static int start_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    start_data *d = ma_shape_data(s);
    /* a passthrough start with nothing passed in (run on its own) behaves like No Data */
    if (d->kind == MA_START_LISTEN || (d->kind == MA_START_PASSTHROUGH && in->len)) {
        for (size_t i = 0; i < in->len; i++)
            if (ma_outputs_emit(out, 0, ma_doc_ref(in->docs[i])) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return 0;
    }
    ma_doc *doc = ma_doc_new("", 0);
    if (!doc) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    /* a child run once per document of its caller: errors map back to that document */
    if (in->len == 1) ma_doc_set_track_id(&doc, ma_doc_track_id(in->docs[0]));
    if (d->kind != MA_START_CONNECTOR)
        return ma_outputs_emit(out, 0, doc) < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
    ma_batch one;
    ma_batch_init(&one);
    if (ma_batch_push(&one, doc) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    int rc = ma_connstep_execute(ex, s, d->connector, &one, out, err);
    ma_batch_clear(&one);
    return rc;
}

/* A connector Get start calls its connector; the others hand over documents in memory. */
static int start_may_wait(const ma_shape *s)
{
    const start_data *d = ma_shape_data(s);
    return !d || d->kind == MA_START_CONNECTOR;
}

const ma_shape_type ma_shape_start = {
    .name = "start",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = start_compile,
    .execute = start_execute,
    .destroy = start_destroy,
    .may_wait = start_may_wait,
};
