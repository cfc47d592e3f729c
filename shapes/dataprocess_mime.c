/* dataprocess_mime.c - the Data Process steps Map JSON to Multipart Form Data MIME and Map
 * Multipart Form Data MIME to JSON, recognized so that `miniatom check` names them precisely: they
 * are not supported (docs/decisions/025-data-process-steps.md). Boomi: the first builds a
 * multipart/form-data document from a JSON document whose file attachments come from a Document
 * Cache and Cache Index; the second parses one into JSON and puts its attachments in a Document
 * Cache. */
#include "dataprocess_step.h"

static int mime_refuse(const xmlNode *step, const char *label, ma_error *err)
{
    const xmlNode *cfg = ma_xml_child(step, NULL);
    return ma_error_set(err, MA_ERR_UNSUPPORTED,
                        "%s%s%s%s: not supported by mini-Atom (its attachments go through a Document Cache, and no "
                        "real source shows the step's XML or its processtype)",
                        label, cfg ? " (<" : "", cfg ? (const char *)cfg->name : "", cfg ? ">)" : "");
}

static int to_mime_compile(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    (void)shape;
    (void)state;
    return mime_refuse(step, label, err);
}

static int from_mime_compile(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    (void)shape;
    (void)state;
    return mime_refuse(step, label, err);
}

static int never_run(ma_exec *ex, ma_shape *shape, void *state, const ma_batch *in, ma_batch *next, ma_outputs *out,
                     ma_error *err)
{
    (void)ex;
    (void)shape;
    (void)state;
    (void)in;
    (void)next;
    (void)out;
    return ma_error_set(err, MA_ERR_UNSUPPORTED, "not supported");
}

static void nothing(void *state) { (void)state; }

/* processtype -1: Boomi's documentation gives no number; recognized by name (dataprocess_step.h) */
const ma_dp_step_kind ma_dp_step_json_to_mime = {
    .processtype = -1,
    .name = "Map JSON to Multipart Form Data MIME",
    .compile = to_mime_compile,
    .run = never_run,
    .destroy = nothing,
};

const ma_dp_step_kind ma_dp_step_mime_to_json = {
    .processtype = -1,
    .name = "Map Multipart Form Data MIME to JSON",
    .compile = from_mime_compile,
    .run = never_run,
    .destroy = nothing,
};
