/* exception.c - the Exception shape (shapetype "exception"): a terminal shape that raises an error
 * with a {n} message (boomi-atom-semantics.md 2 "Exception"; boomi-process-xml.md 2 "exception").
 * stopsingledoc="true" ("Continue executing other documents") fails each document on its own, a
 * document error Try/Catch catches; otherwise ("Stop executing the entire process", also the
 * default) the step fails with a process-level error whose message is rendered for the first
 * document. A non-empty title is logged at ERROR first, as Boomi writes it as the first log line. */
#include "shapes_common.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct exception_data {
    ma_msg msg;
    int single_doc;
    char *title; /* owned, "" when none */
} exception_data;

static void exception_data_free(exception_data *d)
{
    if (!d) return;
    ma_msg_free(&d->msg);
    free(d->title);
    free(d);
}

static int exception_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err)
{
    if (!ma_xml_is(config, "exception"))
        return ma_error_set(err, MA_ERR_CONFIG, "exception: the configuration has no <exception> element");
    exception_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    d->single_doc = ma_xml_attr_is(config, "stopsingledoc", "true");
    d->title = ma_xml_attr(config, "title");
    if (!d->title) d->title = calloc(1, 1);
    if (!d->title) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (ma_msg_compile(shape, config, "exMessage", "exParameters", &d->msg, err) < 0) goto fail;
    /* terminal: no output */
    ma_shape_set_data(shape, d);
    return 0;
fail:
    exception_data_free(d);
    return -1;
}

/* The message to raise: the rendering, else the title, else a generic one naming the shape. */
static const char *message_of(const ma_shape *shape, const exception_data *d, const ma_sb *text, char *buf,
                              size_t bufsz)
{
    if (text->len) return text->s;
    if (d->title[0]) return d->title;
    snprintf(buf, bufsz, "Exception shape %s reached", ma_shape_name(shape));
    return buf;
}

static int exception_execute(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_outputs *out, ma_error *err)
{
    const exception_data *d = ma_shape_data(shape);
    char buf[256];
    if (d->title[0]) ma_exec_log(ex, shape, MA_LOG_ERROR, "%s", d->title);

    if (!d->single_doc) {
        ma_sb text;
        ma_sb_init(&text);
        ma_error derr;
        ma_error_clear(&derr);
        int rc = ma_msg_render(ex, &d->msg, in->len ? in->docs[0] : NULL, &text, &derr);
        if (rc != 0) {
            ma_sb_free(&text);
            if (err) *err = derr;
            return -1;
        }
        ma_error_set(err, MA_ERR_RUNTIME, "%s", message_of(shape, d, &text, buf, sizeof buf));
        ma_sb_free(&text);
        return -1;
    }

    ma_sb text;
    ma_sb_init(&text);
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        ma_error derr;
        ma_error_clear(&derr);
        ma_sb_reset(&text);
        int rc = ma_msg_render(ex, &d->msg, doc, &text, &derr);
        if (rc < 0) {
            ma_sb_free(&text);
            if (err) *err = derr;
            return -1;
        }
        /* a document whose parameters fail still fails here, with that reason */
        const char *msg = rc > 0 ? derr.msg : message_of(shape, d, &text, buf, sizeof buf);
        if (ma_outputs_fail(out, ma_doc_ref(doc), "%s", msg) < 0) {
            ma_sb_free(&text);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    }
    ma_sb_free(&text);
    return 0;
}

static void exception_destroy(ma_shape *shape)
{
    exception_data_free(ma_shape_data(shape));
    ma_shape_set_data(shape, NULL);
}

const ma_shape_type ma_shape_exception = {
    .name = "exception",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = exception_compile,
    .execute = exception_execute,
    .destroy = exception_destroy,
};
