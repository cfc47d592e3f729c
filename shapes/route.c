/* route.c - the Route shape (boomi-atom-semantics.md 1.5 "Route", boomi-process-xml.md 2
 * "route"): a Route By value is taken per document and compared with the route values in their
 * configured order; the first match wins, no match goes to Default. Paths run in the configured
 * order with Default last. A routevalue's qualifier names the comparison (equals by default). */
#include <stdlib.h>
#include <string.h>

#include "shapes_common.h"
#include "compare.h"
#include "params.h"
#include "util.h"

typedef struct route_val {
    char *value;
    ma_cmp cmp;
} route_val;

typedef struct route_data {
    ma_param *by;
    route_val *vals;
    size_t n;
} route_data;

static void route_destroy(ma_shape *s)
{
    route_data *d = ma_shape_data(s);
    if (!d) return;
    ma_param_free(d->by);
    for (size_t i = 0; i < d->n; i++) {
        free(d->vals[i].value);
        ma_cmp_free(&d->vals[i].cmp);
    }
    free(d->vals);
    free(d);
    ma_shape_set_data(s, NULL);
}

static int route_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "route")) return ma_error_set(err, MA_ERR_CONFIG, "expected a <route> configuration");
    route_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_shape_set_data(s, d);
    xmlNode *rp = ma_xml_child(c, "routeproperty");
    if (!rp) return ma_error_set(err, MA_ERR_CONFIG, "a route needs a <routeproperty> (its Route By value)");
    if (!(d->by = ma_param_compile(s, rp, err))) return -1;
    xmlNode *vals = ma_xml_child(c, "routevalues");
    size_t n = 0;
    for (xmlNode *v = ma_xml_child(vals, "routevalue"); v; v = ma_xml_next(v, "routevalue")) n++;
    if (n && !(d->vals = calloc(n, sizeof *d->vals))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (xmlNode *v = ma_xml_child(vals, "routevalue"); v; v = ma_xml_next(v, "routevalue")) {
        route_val *rv = &d->vals[d->n];
        char *key = ma_xml_attr(v, "key"), *qual = ma_xml_attr(v, "qualifier");
        rv->value = ma_xml_attr(v, "value");
        if (!rv->value) rv->value = ma_strdup("");
        ma_cmp_op op = MA_CMP_EQ;
        int rc = 0;
        if (!key || !*key) rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: a route value has no key", v->line);
        else if (qual && *qual) rc = ma_cmp_parse(qual, &op, err);
        if (rc == 0) rc = ma_cmp_init(&rv->cmp, op, rv->value, err);
        if (rc == 0) d->n++;
        if (rc == 0 && ma_shape_declare_output(s, key, err) < 0) rc = -1;
        free(key);
        free(qual);
        if (rc < 0) return -1;
    }
    return ma_shape_declare_output(s, "default", err) < 0 ? -1 : 0;
}

static int route_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    route_data *d = ma_shape_data(s);
    for (size_t i = 0; i < in->len; i++) {
        char *v = ma_param_eval(ex, d->by, in->docs[i], err);
        if (!v) return -1;
        size_t k = d->n; /* default */
        for (size_t j = 0; j < d->n; j++) {
            int m = ma_cmp_eval(&d->vals[j].cmp, v, d->vals[j].value, err);
            if (m < 0) { /* an invalid regex given at run time fails this document, like Decision */
                k = (size_t)-1;
                break;
            }
            if (m) {
                k = j;
                break;
            }
        }
        free(v);
        if (k == (size_t)-1) {
            if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "%s", err->msg) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            ma_error_clear(err);
            continue;
        }
        if (ma_outputs_emit(out, (int)k, ma_doc_ref(in->docs[i])) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

const ma_shape_type ma_shape_route = {
    .name = "route",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = route_compile,
    .execute = route_execute,
    .destroy = route_destroy,
};
