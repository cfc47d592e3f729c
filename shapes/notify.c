/* notify.c - the Notify shape (shapetype "notify"): writes a {n} message to the execution's user
 * log at INFO, WARNING or ERROR and passes every document through unchanged
 * (boomi-atom-semantics.md 2 "Notify"; boomi-process-xml.md 2 "notify"). One log line per
 * document, or one per batch (rendered for its first document) with perExecution="true". There is
 * no email or event platform here: disableEvent and enableUserLog do not change what is logged. */
#include "shapes_common.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct notify_data {
    ma_msg msg;
    ma_log_level level;
    int per_execution;
} notify_data;

static void notify_data_free(notify_data *d)
{
    if (!d) return;
    ma_msg_free(&d->msg);
    free(d);
}

/* <notifyMessageLevel> (boomi-process-xml.md 2 "notify"): any case, surrounding blanks ignored,
 * empty = INFO. */
static const ma_enum levels[] = {
    {"INFO", MA_LOG_INFO, 0},
    {"WARNING", MA_LOG_WARNING, 0},
    {"ERROR", MA_LOG_ERROR, 0},
    {NULL, 0, 0},
};

static int notify_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err)
{
    if (!ma_xml_is(config, "notify"))
        return ma_error_set(err, MA_ERR_CONFIG, "notify: the configuration has no <notify> element");
    notify_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    d->per_execution = ma_xml_attr_is(config, "perExecution", "true");

    char *level = ma_xml_text(ma_xml_child(config, "notifyMessageLevel"));
    if (!level) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto fail;
    }
    int lv = MA_LOG_INFO;
    int rc = ma_enum_parse(levels, "notifyMessageLevel", level, MA_LOG_INFO, MA_ENUM_NOCASE, &lv, err);
    d->level = (ma_log_level)lv;
    free(level);
    if (rc < 0) goto fail;

    if (ma_msg_compile(shape, config, "notifyMessage", "notifyParameters", &d->msg, err) < 0) goto fail;
    if (ma_shape_declare_output(shape, NULL, err) < 0) goto fail;
    ma_shape_set_data(shape, d);
    return 0;
fail:
    notify_data_free(d);
    return -1;
}

/* Logs the message rendered for doc. 0 on success; 1 when the parameters cannot be evaluated for
 * this document (a document error, message in err); -1 for a process-level error. */
static int log_for(ma_exec *ex, const ma_shape *shape, const notify_data *d, const ma_doc *doc, ma_error *err)
{
    ma_sb text;
    ma_sb_init(&text);
    int rc = ma_msg_render(ex, &d->msg, doc, &text, err);
    if (rc != 0) {
        ma_sb_free(&text);
        return rc;
    }
    ma_exec_log(ex, shape, d->level, "%s", text.s ? text.s : "");
    ma_sb_free(&text);
    return 0;
}

static int notify_execute(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_outputs *out, ma_error *err)
{
    const notify_data *d = ma_shape_data(shape);
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        if (!d->per_execution || i == 0) {
            ma_error derr;
            ma_error_clear(&derr);
            int rc = log_for(ex, shape, d, doc, &derr);
            if (rc < 0) {
                if (err) *err = derr;
                return -1;
            }
            if (rc > 0) {
                if (ma_outputs_fail(out, ma_doc_ref(doc), "%s", derr.msg) < 0)
                    return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                continue;
            }
        }
        if (ma_outputs_emit(out, 0, ma_doc_ref(doc)) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static void notify_destroy(ma_shape *shape)
{
    notify_data_free(ma_shape_data(shape));
    ma_shape_set_data(shape, NULL);
}

const ma_shape_type ma_shape_notify = {
    .name = "notify",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = notify_compile,
    .execute = notify_execute,
    .destroy = notify_destroy,
};
