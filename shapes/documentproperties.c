/* documentproperties.c - the Set Properties shape (boomi-atom-semantics.md 2 "Set Properties",
 * boomi-process-xml.md 2 "documentproperties"): per document, each property's source values are
 * evaluated and concatenated, then written to its target by propertyId prefix: process.NAME
 * (dynamic process property), definedprocess.COMPONENT@KEY (a property of a processproperty
 * component), dynamicdocument.NAME, connector.TYPE.PROP and mime.* (document properties).
 * docs/decisions/026-set-properties-and-parameter-values.md says what is checked at deploy. */
#include <stdlib.h>
#include <string.h>

#include "shapes_common.h"
#include "executor.h"
#include "params.h"
#include "util.h"

typedef enum dp_target { T_DOC = 0, T_PROCESS, T_DEFINED } dp_target;

typedef struct dprop {
    dp_target target;
    char *id;         /* owned: full propertyId (the document property id for T_DOC) */
    const char *name; /* borrowed from id: the dynamic process property name (T_PROCESS) */
    char *comp, *key; /* owned: component id and property key (T_DEFINED) */
    char *def;        /* owned: defaultValue */
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
        free(d->props[i].comp);
        free(d->props[i].key);
        free(d->props[i].def);
        ma_params_free(d->props[i].src, d->props[i].n_src);
    }
    free(d->props);
    free(d);
    ma_shape_set_data(s, NULL);
}

/* The connector document properties Boomi defines for the built-in connector types, as Set
 * Properties writes them (connector.TYPE.PROP), and what each connector reads. A type not listed
 * here (sftp, mail, a plugin's) is written as it is. */
static const char *const disk_props[] = {"filename", "directory", NULL};
static const char *const cloudblue_props[] = {"request_id",
                                              "asset_id",
                                              "tier_account_id",
                                              "tier_account_version",
                                              "tier_account_request_id",
                                              "tier_config_id",
                                              "tier_config_request_id",
                                              "product_id",
                                              "template_id",
                                              "action_id",
                                              "item_id",
                                              "parameter_id",
                                              "usage_report_id",
                                              "usage_record_id",
                                              "usage_chunk_id",
                                              "usage_recon_id",
                                              "case_id",
                                              "conversation_id",
                                              "message_id",
                                              "upload_note",
                                              "id",
                                              "filter",
                                              "select",
                                              "ordering",
                                              "limit",
                                              "offset",
                                              "filename",
                                              NULL};
static const struct conn_props {
    const char *type;
    const char *const *props; /* NULL: Boomi defines none that can be set */
    const char *prefix;       /* a family of names (connector.TYPE.PREFIX<anything>), or NULL */
    const char *why;          /* when props is NULL: where the connector takes such values from */
} conn_props[] = {
    {"disk", disk_props, NULL, NULL},
    {"cloudblue", cloudblue_props, "filter.", NULL},
    {"http", NULL, NULL,
     "the HTTP Client connector has no connector document properties to set: its replacement variables "
     "come from step parameters or dynamic document properties (dynamicdocument.NAME)"},
    {"flowclient", NULL, NULL,
     "the Boomi Flow Client connector has no connector document properties to set: its inputs are the "
     "document's data"},
};

static int check_connector_prop(const char *id, int line, ma_error *err)
{
    const char *type = id + strlen("connector.");
    const char *dot = strchr(type, '.');
    if (!dot || dot == type || !dot[1])
        return ma_error_set(err, MA_ERR_CONFIG, "line %d: propertyId '%s' is not connector.TYPE.PROPERTY", line, id);
    size_t tl = (size_t)(dot - type);
    if (tl == 5 && strncmp(type, "track", 5) == 0)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "line %d: '%s' is a tracked connector property: the connector that read the document "
                            "sets it, Set Properties cannot (set connector.TYPE.PROP instead)",
                            line, id);
    const char *prop = dot + 1;
    for (size_t i = 0; i < sizeof conn_props / sizeof *conn_props; i++) {
        const struct conn_props *c = &conn_props[i];
        if (strlen(c->type) != tl || strncmp(c->type, type, tl) != 0) continue;
        if (!c->props) return ma_error_set(err, MA_ERR_CONFIG, "line %d: propertyId '%s': %s", line, id, c->why);
        for (const char *const *p = c->props; *p; p++)
            if (strcmp(*p, prop) == 0) return 0;
        if (c->prefix && ma_str_has_prefix(prop, c->prefix) && prop[strlen(c->prefix)]) return 0;
        ma_sb list;
        ma_sb_init(&list);
        for (const char *const *p = c->props; *p; p++) ma_sb_printf(&list, "%s%s", p == c->props ? "" : ", ", *p);
        if (c->prefix) ma_sb_printf(&list, ", %sNAME", c->prefix);
        int rc =
            ma_error_set(err, MA_ERR_CONFIG, "line %d: the %s connector has no document property '%s' (it has: %s)",
                         line, c->type, prop, list.s ? list.s : "");
        ma_sb_free(&list);
        return rc;
    }
    return 0;
}

/* definedprocess.COMPONENT@KEY: the component must be deployed and have the key. */
static int compile_defined(ma_shape *s, dprop *dp, xmlNode *p, ma_error *err)
{
    const char *rest = dp->id + strlen(MA_DEFINED_PREFIX);
    const char *at = strchr(rest, '@');
    if (!at || at == rest || !at[1])
        return ma_error_set(err, MA_ERR_CONFIG, "line %d: propertyId '%s' is not definedprocess.COMPONENT@KEY", p->line,
                            dp->id);
    dp->target = T_DEFINED;
    dp->comp = ma_strndup(rest, (size_t)(at - rest));
    dp->key = ma_strdup(at + 1);
    if (!dp->comp || !dp->key) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_component *comp =
        ma_deploy_ref(ma_shape_deploy(s), dp->comp, "processproperty", "process property component", err);
    if (!comp) {
        char *name = ma_xml_attr(p, "name");
        ma_error_prefix(err, "line %d: property '%s'", p->line, name ? name : dp->id);
        free(name);
        return -1;
    }
    for (xmlNode *d = ma_xml_child(comp->object, "definedProcessProperty"); d;
         d = ma_xml_next(d, "definedProcessProperty"))
        if (ma_xml_attr_is(d, "key", dp->key)) return 0;
    return ma_error_set(err, MA_ERR_REF, "line %d: process property component '%s' (%s) has no property with key %s",
                        p->line, comp->name, comp->id, dp->key);
}

static int compile_target(ma_shape *s, dprop *dp, xmlNode *p, ma_error *err)
{
    const char *id = dp->id;
    /* what the export says about the property before its id */
    if (ma_xml_attr_is(p, "isTradingPartner", "true"))
        return ma_error_set(err, MA_ERR_UNSUPPORTED,
                            "line %d: property '%s' is a trading partner property (isTradingPartner=\"true\"): "
                            "trading partners (B2B/EDI) are not supported by this runtime",
                            p->line, id);
    if (ma_xml_attr_is(p, "isDynamicCredential", "true"))
        return ma_error_set(err, MA_ERR_UNSUPPORTED,
                            "line %d: property '%s' is a Dynamic Process Connection property "
                            "(isDynamicCredential=\"true\"): connections take their values from the settings "
                            "(docs/configuration.md), not from the process",
                            p->line, id);
    if (ma_str_has_prefix(id, "process.")) {
        dp->target = T_PROCESS;
        dp->name = id + strlen("process.");
        if (!*dp->name)
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: propertyId 'process.' names no property", p->line);
        return 0;
    }
    if (ma_str_has_prefix(id, MA_DEFINED_PREFIX)) return compile_defined(s, dp, p, err);
    if (dp->persist)
        return ma_error_set(err, MA_ERR_CONFIG, "line %d: persist applies to process properties, not to '%s'", p->line,
                            id);
    if (ma_str_has_prefix(id, "meta."))
        return ma_error_set(err, MA_ERR_CONFIG,
                            "line %d: '%s' is a read-only meta information (Base) property: the shapes that produce "
                            "it set it, Set Properties cannot",
                            p->line, id);
    if (ma_str_has_prefix(id, "connector.")) return check_connector_prop(id, p->line, err);
    if ((ma_str_has_prefix(id, "dynamicdocument.") && id[strlen("dynamicdocument.")]) ||
        (ma_str_has_prefix(id, "mime.") && id[strlen("mime.")]))
        return 0;
    return ma_error_set(err, MA_ERR_UNSUPPORTED,
                        "line %d: propertyId '%s' is not a target Set Properties can write "
                        "(process.*, definedprocess.*, dynamicdocument.*, connector.*, mime.*)",
                        p->line, id);
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
        if (compile_target(s, dp, p, err) < 0) return -1;
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
            int rc = 0;
            switch (p->target) {
            case T_PROCESS: rc = ma_exec_set_process_prop(ex, p->name, value, p->persist, err); break;
            case T_DEFINED: rc = ma_exec_set_defined_prop(ex, p->comp, p->key, value, p->persist, err); break;
            case T_DOC:
                if (ma_doc_set_prop(&doc, p->id, value) < 0) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                break;
            }
            if (rc < 0) goto fail;
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
