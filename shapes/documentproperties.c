/* documentproperties.c - the Set Properties shape (boomi-atom-semantics.md 2 "Set Properties",
 * boomi-process-xml.md 2 "documentproperties"): per document, each property's source values are
 * evaluated and concatenated, then written to its target by propertyId prefix: process.NAME
 * (dynamic process property; persist="true" stores it for the next execution at once),
 * dynamicdocument.NAME, connector.TYPE.PROP and mime.* (document properties). */
#include <stdlib.h>
#include <string.h>

#include "shapes_common.h"
#include "params.h"
#include "util.h"

typedef struct dprop {
    char *id;    /* owned: full propertyId */
    char *pname; /* borrowed from id: process property name, or NULL for document targets */
    char *def;   /* owned: defaultValue */
    int persist;
    ma_param **src;
    size_t n_src;
} dprop;

typedef struct dp_data {
    dprop *props;
    size_t n;
} dp_data;

static void dp_destroy(ma_shape *s)
{
    dp_data *d = ma_shape_data(s);
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->props[i].id);
        free(d->props[i].def);
        ma_params_free(d->props[i].src, d->props[i].n_src);
    }
    free(d->props);
    free(d);
    ma_shape_set_data(s, NULL);
}

static int dp_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "documentproperties"))
        return ma_error_set(err, MA_ERR_CONFIG, "expected a <documentproperties> configuration");
    dp_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_shape_set_data(s, d);
    size_t n = 0;
    for (xmlNode *p = ma_xml_child(c, "documentproperty"); p; p = ma_xml_next(p, "documentproperty")) n++;
    if (n && !(d->props = calloc(n, sizeof *d->props))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (xmlNode *p = ma_xml_child(c, "documentproperty"); p; p = ma_xml_next(p, "documentproperty")) {
        dprop *dp = &d->props[d->n++];
        dp->id = ma_xml_attr(p, "propertyId");
        dp->def = ma_xml_attr(p, "defaultValue");
        dp->persist = ma_xml_attr_is(p, "persist", "true");
        if (!dp->id || !*dp->id)
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: a property has no propertyId", p->line);
        if (ma_str_has_prefix(dp->id, "process.")) {
            dp->pname = dp->id + strlen("process.");
            if (!*dp->pname)
                return ma_error_set(err, MA_ERR_CONFIG, "line %d: propertyId 'process.' names no property", p->line);
        } else if (!ma_str_has_prefix(dp->id, "dynamicdocument.") && !ma_str_has_prefix(dp->id, "connector.") &&
                   !ma_str_has_prefix(dp->id, "mime.")) {
            return ma_error_set(err, MA_ERR_UNSUPPORTED,
                                "line %d: propertyId '%s' is not a target Set Properties can write "
                                "(process.*, dynamicdocument.*, connector.*, mime.*)",
                                p->line, dp->id);
        } else if (dp->persist) {
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: persist applies to process properties, not to '%s'",
                                p->line, dp->id);
        }
        if (ma_params_compile_children(s, ma_xml_child(p, "sourcevalues"), &dp->src, &dp->n_src, err) < 0) {
            ma_error_prefix(err, "property '%s'", dp->id);
            return -1;
        }
    }
    return ma_shape_declare_output(s, NULL, err) < 0 ? -1 : 0;
}

static int dp_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    dp_data *d = ma_shape_data(s);
    ma_sb val;
    ma_sb_init(&val);
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = ma_doc_ref(in->docs[i]);
        for (size_t j = 0; j < d->n; j++) {
            dprop *p = &d->props[j];
            ma_sb_reset(&val);
            for (size_t k = 0; k < p->n_src; k++) {
                char *v = ma_param_eval(ex, p->src[k], doc, err);
                if (!v) goto fail;
                ma_sb_puts(&val, v);
                free(v);
            }
            const char *value = val.len || !p->def ? (val.s ? val.s : "") : p->def;
            if (p->pname) {
                if (ma_exec_set_process_prop(ex, p->pname, value, p->persist, err) < 0) goto fail;
            } else if (ma_doc_set_prop(&doc, p->id, value) < 0) {
                ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                goto fail;
            }
        }
        if (ma_outputs_emit(out, 0, doc) < 0) {
            ma_sb_free(&val);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        continue;
    fail:
        ma_doc_unref(doc);
        ma_sb_free(&val);
        return -1;
    }
    ma_sb_free(&val);
    return 0;
}

const ma_shape_type ma_shape_documentproperties = {
    .name = "documentproperties",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = dp_compile,
    .execute = dp_execute,
    .destroy = dp_destroy,
};
