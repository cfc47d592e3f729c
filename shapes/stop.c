/* stop.c - the Stop shape (boomi-atom-semantics.md 2 "Stop"): continue="true" ends this path and
 * lets the other paths go on; continue="false" ends the whole process execution as soon as a
 * document reaches it. A Stop is never an error. Documents that reach it have ended their path. */
#include "shapes_common.h"
#include "executor.h"
#include "util.h"

static int stop_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    /* a missing attribute means "continue", Boomi's default */
    int cont = !ma_xml_attr_is(c, "continue", "false");
    ma_shape_set_data(s, cont ? (void *)s : NULL);
    return 0;
}

static int stop_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    ma_batch b;
    ma_batch_init(&b);
    for (size_t i = 0; i < in->len; i++)
        if (ma_batch_push(&b, ma_doc_ref(in->docs[i])) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (ma_exec_path_end(ex, &b) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (!ma_shape_data(s)) ma_exec_stop_process(ex);
    return 0;
}

const ma_shape_type ma_shape_stop = {
    .name = "stop",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = stop_compile,
    .execute = stop_execute,
};
