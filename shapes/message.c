/* message.c - the Message shape (shapetype "message"): replaces each document's data with a
 * template whose {1}, {2} ... are its <parametervalue>s in document order, evaluated for that
 * document; properties are kept (boomi-atom-semantics.md 2 "Message"; boomi-process-xml.md 2).
 *
 * Decision for combined="true" ("all documents in, one document out"): the template is rendered
 * once per document, with the parameters evaluated against that document, and the renderings are
 * concatenated in batch order into one document that keeps the first document's properties. A
 * real process relies on this: template '['{1}']' over the current document, combined, then a
 * Search/Replace of "][" by "," turns N documents into one JSON array. */
#include "shapes_common.h"
#include "util.h"

#include <stdlib.h>

typedef struct message_data {
    ma_msg msg;
    int combined;
} message_data;

static void message_data_free(message_data *d)
{
    if (!d) return;
    ma_msg_free(&d->msg);
    free(d);
}

static int message_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err)
{
    if (!ma_xml_is(config, "message"))
        return ma_error_set(err, MA_ERR_CONFIG, "message: the configuration has no <message> element");
    message_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    d->combined = ma_xml_attr_is(config, "combined", "true");
    if (ma_msg_compile(shape, config, "msgTxt", "msgParameters", &d->msg, err) < 0) goto fail;
    if (ma_shape_declare_output(shape, NULL, err) < 0) goto fail;
    ma_shape_set_data(shape, d);
    return 0;
fail:
    message_data_free(d);
    return -1;
}

/* Emits text (taken over) as a document derived from src. */
static int emit_derived(const ma_doc *src, ma_sb *text, ma_outputs *out, ma_error *err)
{
    if (text->len > MA_DOC_MAX_SIZE) {
        ma_sb_free(text);
        return ma_error_set(err, MA_ERR_LIMIT, "message: the result is larger than the %zu byte document limit",
                            MA_DOC_MAX_SIZE);
    }
    size_t len;
    char *s = ma_sb_take(text, &len);
    if (!s) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_doc *nd = ma_doc_derive_owned(src, s, len); /* frees s on failure */
    if (!nd) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (ma_outputs_emit(out, 0, nd) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return 0;
}

static int message_execute(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_outputs *out, ma_error *err)
{
    const message_data *d = ma_shape_data(shape);
    ma_sb text;
    ma_sb_init(&text);
    const ma_doc *first = NULL; /* combined: the first document that rendered */
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        ma_error derr;
        ma_error_clear(&derr);
        if (!d->combined) ma_sb_reset(&text);
        int rc = ma_msg_render(ex, &d->msg, doc, &text, &derr);
        if (rc < 0) {
            ma_sb_free(&text);
            if (err) *err = derr;
            return -1;
        }
        if (rc > 0) {
            if (ma_outputs_fail(out, ma_doc_ref(doc), "%s", derr.msg) < 0) {
                ma_sb_free(&text);
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            }
            continue;
        }
        if (d->combined) {
            if (!first) first = doc;
            if (text.len > MA_DOC_MAX_SIZE) break; /* emit_derived reports it */
        } else if (emit_derived(doc, &text, out, err) < 0) {
            ma_sb_free(&text);
            return -1;
        }
    }
    if (first) return emit_derived(first, &text, out, err);
    ma_sb_free(&text);
    return 0;
}

static void message_destroy(ma_shape *shape)
{
    message_data_free(ma_shape_data(shape));
    ma_shape_set_data(shape, NULL);
}

const ma_shape_type ma_shape_message = {
    .name = "message",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = message_compile,
    .execute = message_execute,
    .destroy = message_destroy,
};
