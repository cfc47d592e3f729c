/* returndocuments.c - the Return Documents shape (boomi-atom-semantics.md 2 "Return Documents"):
 * collects every document that reaches it and hands them to the caller: the parent's Process
 * Call path named after this shape, a listener's response, or the CLI's results. */
#include "shapes_common.h"
#include "executor.h"

static int rd_compile(ma_shape *s, const ma_xml_node *config, ma_error *err) { return 0; }

static int rd_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    ma_batch b;
    ma_batch_init(&b);
    for (size_t i = 0; i < in->len; i++)
        if (ma_batch_push(&b, ma_doc_ref(in->docs[i])) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return ma_exec_return(ex, s, &b, err);
}

const ma_shape_type ma_shape_returndocuments = {
    .name = "returndocuments",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = rd_compile,
    .execute = rd_execute,
};
