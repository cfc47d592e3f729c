/* dataprocess_xslt.c - the Data Process step XSLT Transformation: each document goes through the
 * stylesheet of an XSLT Stylesheet component (runtime/xslt.h, as a Map shape runs one). Boomi: "XSLT
 * Transformation - transform an input XML document into another output XML document using a
 * user-defined XSLT stylesheet" selected as a component (docs/decisions/025-data-process-steps.md). */

/* Decisions:
 *  - Boomi's documentation gives neither the processtype number nor the XML of this step: it is
 *    recognized by the step name Boomi writes ("XSLT Transformation"), and the component is read
 *    from the first of the attributes componentId, xsltComponentId, stylesheetId of the step's
 *    configuration element (or of the <step> itself). No component named: a deploy error; one that
 *    is not deployed: a missing component.
 *  - Dynamic document properties reach the stylesheet and come back from it as in a Map shape's
 *    XSLT (docs/maps.md); a document the stylesheet fails on is a document error. */
#include <stdio.h>
#include <stdlib.h>

#include "dataprocess_step.h"
#include "util.h"
#include "xslt.h"

typedef struct xslt_step {
    char *label;
    const ma_xslt *x; /* borrowed from the deployment */
} xslt_step;

static void xslt_destroy(void *state)
{
    xslt_step *s = state;
    if (!s) return;
    free(s->label);
    free(s);
}

static char *component_attr(const xmlNode *n)
{
    static const char *const names[] = {"componentId", "xsltComponentId", "stylesheetId", NULL};
    for (size_t i = 0; n && names[i]; i++) {
        char *v = ma_xml_attr(n, names[i]);
        if (v && *v) return v;
        free(v);
    }
    return NULL;
}

static int xslt_compile(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    const xmlNode *cfg = ma_xml_child(step, NULL);
    char *id = component_attr(cfg);
    if (!id) id = component_attr(step);
    if (!id)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "%s: no XSLT Stylesheet component (read from the attribute componentId, "
                            "xsltComponentId or stylesheetId of <%s>)",
                            label, cfg ? (const char *)cfg->name : "step");
    const ma_xslt *x = ma_xslt_for(ma_shape_deploy(shape), id, err);
    free(id);
    if (!x) {
        ma_error_prefix(err, "%s", label);
        return -1;
    }
    xslt_step *s = calloc(1, sizeof *s);
    if (!s || !(s->label = ma_strdup(label))) {
        free(s);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    s->x = x;
    *state = s;
    return 0;
}

static int xslt_run(ma_exec *ex, ma_shape *shape, void *state, const ma_batch *in, ma_batch *next, ma_outputs *out,
                    ma_error *err)
{
    (void)shape;
    const xslt_step *s = state;
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *res = NULL;
        ma_error e;
        ma_error_clear(&e);
        int rc = ma_xslt_apply(s->x, ex, in->docs[i], &res, &e);
        if (rc < 0) {
            *err = e;
            return -1;
        }
        if (rc > 0) {
            if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "%s: %s", s->label, e.msg) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        if (ma_batch_push(next, res) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* processtype -1: Boomi's documentation gives no number; recognized by name (dataprocess_step.h) */
const ma_dp_step_kind ma_dp_step_xslt = {
    .processtype = -1,
    .name = "XSLT Transformation",
    .compile = xslt_compile,
    .run = xslt_run,
    .destroy = xslt_destroy,
};
