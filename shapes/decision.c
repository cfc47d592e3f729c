/* decision.c - the Decision shape (boomi-atom-semantics.md 1.5 "Decision"): for each document the
 * first value is compared with the second; documents that hold go down True, the others down
 * False, and all True documents run to completion before the False ones. */
#include <stdlib.h>
#include <string.h>

#include "shapes_common.h"
#include "compare.h"
#include "params.h"
#include "util.h"

typedef struct dec_data {
    ma_param *left, *right;
    ma_cmp cmp;
} dec_data;

static void dec_destroy(ma_shape *s)
{
    dec_data *d = ma_shape_data(s);
    if (!d) return;
    ma_param_free(d->left);
    ma_param_free(d->right);
    ma_cmp_free(&d->cmp);
    free(d);
    ma_shape_set_data(s, NULL);
}

static int dec_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "decision")) return ma_error_set(err, MA_ERR_CONFIG, "expected a <decision> configuration");
    dec_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_shape_set_data(s, d);
    char *comparison = ma_xml_attr(c, "comparison");
    ma_cmp_op op;
    int rc = ma_cmp_parse(comparison, &op, err);
    free(comparison);
    if (rc < 0) return -1;
    xmlNode *v1 = ma_xml_child(c, "decisionvalue");
    xmlNode *v2 = ma_xml_next(v1, "decisionvalue");
    if (!v1 || !v2 || ma_xml_next(v2, "decisionvalue"))
        return ma_error_set(err, MA_ERR_CONFIG, "a decision needs exactly two <decisionvalue> elements");
    if (!(d->left = ma_param_compile(s, v1, err))) return -1;
    if (!(d->right = ma_param_compile(s, v2, err))) return -1;
    if (ma_cmp_init(&d->cmp, op, d->right->kind == MA_PV_STATIC ? d->right->value : NULL, err) < 0) return -1;
    if (ma_shape_declare_output(s, "true", err) < 0 || ma_shape_declare_output(s, "false", err) < 0) return -1;
    return 0;
}

static int dec_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    dec_data *d = ma_shape_data(s);
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        char *l = ma_param_eval(ex, d->left, doc, err);
        if (!l) return -1;
        char *r = ma_param_eval(ex, d->right, doc, err);
        if (!r) {
            free(l);
            return -1;
        }
        int m = ma_cmp_eval(&d->cmp, l, r, err);
        free(l);
        free(r);
        if (m < 0) {
            if (ma_outputs_fail(out, ma_doc_ref(doc), "%s", err->msg) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            ma_error_clear(err);
            continue;
        }
        if (ma_outputs_emit(out, m ? 0 : 1, ma_doc_ref(doc)) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

const ma_shape_type ma_shape_decision = {
    .name = "decision",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = dec_compile,
    .execute = dec_execute,
    .destroy = dec_destroy,
};
