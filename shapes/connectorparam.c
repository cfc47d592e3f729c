/* connectorparam.c - the connector parameter value (valueType="connector"): Boomi's connector call
 * lookup, a field of the response of a connector operation called with its inputs. The
 * <connectorparameter> names type, action, connection and operation as a connector step does; its
 * <inputs> are the step's parameters, outputParamId/Name the response profile element taken. The
 * call goes through the connector ABI (ma_connstep_*), so stubs apply as to any connector step. */
#include "connectorparam.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "component.h"
#include "executor.h"
#include "params.h"
#include "process.h"
#include "profile.h"
#include "shapes_common.h"
#include "util.h"

struct ma_connparam {
    xmlDoc *xml;           /* owned: the <connectoraction> the call is compiled from */
    void *step;            /* owned: the compiled connector step (ma_connstep_*) */
    ma_shape *shape;       /* borrowed: the shape the parameter belongs to */
    ma_profile_path *path; /* owned: the output element */
    char *what;            /* owned: "operation X (connector type Y)" for messages */
    int single;            /* enforceSingleResult="true" */
};

void ma_connparam_free(ma_connparam *c)
{
    if (!c) return;
    if (c->step) ma_connstep_destroy(c->shape, c->step);
    ma_profile_path_free(c->path);
    if (c->xml) xmlFreeDoc(c->xml);
    free(c->what);
    free(c);
}

/* The element inside <Configuration> of an operation component (HttpGetAction ...), or NULL. */
static const xmlNode *operation_action(ma_shape *shape, const char *op_id)
{
    const ma_component *op = op_id ? ma_deploy_find(ma_shape_deploy(shape), op_id) : NULL;
    const xmlNode *o = op ? (const xmlNode *)ma_component_object(op) : NULL;
    return ma_xml_child(ma_xml_child(o, "Configuration"), NULL);
}

/* Builds <connectoraction actionType connectionId connectorType operationId><parameters>inputs
 * </parameters></connectoraction> in a document of its own. */
static xmlDoc *connectoraction_of(const xmlNode *cp)
{
    xmlDoc *d = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *root = d ? xmlNewDocNode(d, NULL, BAD_CAST "connectoraction", NULL) : NULL;
    if (!root) {
        if (d) xmlFreeDoc(d);
        return NULL;
    }
    xmlDocSetRootElement(d, root);
    static const char *const attrs[] = {"actionType", "connectionId", "connectorType", "operationId"};
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++) {
        char *v = ma_xml_attr(cp, attrs[i]);
        if (v) xmlNewProp(root, BAD_CAST attrs[i], BAD_CAST v);
        free(v);
    }
    xmlNode *ps = xmlNewChild(root, NULL, BAD_CAST "parameters", NULL);
    const xmlNode *in = ma_xml_child(cp, "inputs");
    for (const xmlNode *p = ma_xml_child(in, "parametervalue"); p && ps; p = ma_xml_next(p, "parametervalue")) {
        xmlNode *copy = xmlDocCopyNode((xmlNode *)p, d, 1);
        if (!copy || !xmlAddChild(ps, copy)) {
            if (copy) xmlFreeNode(copy);
            xmlFreeDoc(d);
            return NULL;
        }
    }
    if (!ps) {
        xmlFreeDoc(d);
        return NULL;
    }
    return d;
}

ma_connparam *ma_connparam_compile(ma_shape *shape, const ma_xml_node *node, ma_error *err)
{
    const xmlNode *cp = (const xmlNode *)node;
    if (!ma_xml_is(cp, "connectorparameter")) {
        ma_error_set(err, MA_ERR_CONFIG, "a connector parameter value has no <connectorparameter>");
        return NULL;
    }
    ma_connparam *c = calloc(1, sizeof *c);
    if (!c) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->shape = shape;
    c->single = ma_xml_attr_is(cp, "enforceSingleResult", "true");
    char *op_id = ma_xml_attr(cp, "operationId"), *ctype = ma_xml_attr(cp, "connectorType");
    char *out_id = ma_xml_attr(cp, "outputParamId"), *out_name = ma_xml_attr(cp, "outputParamName");
    char *prof = NULL, *ptype = NULL;
    int rc = 0;
    c->what = ma_asprintf("operation %s (connector type %s)", op_id && *op_id ? op_id : "(none)",
                          ctype && *ctype ? ctype : "(none)");
    if (!c->what || !(c->xml = connectoraction_of(cp))) {
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!out_name || !*out_name) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "the connector call names no output element (outputParamName)");
        goto out;
    }
    /* the connector type, connection and operation, as a connector step resolves them */
    if (ma_connstep_compile_call(shape, (const ma_xml_node *)xmlDocGetRootElement(c->xml), &c->step, err) < 0) {
        ma_error_prefix(err, "connector call");
        rc = -1;
        goto out;
    }
    /* the output element, in the operation's response profile */
    const xmlNode *act = operation_action(shape, op_id);
    prof = ma_xml_attr(act, "responseProfile");
    ptype = ma_xml_attr(act, "responseProfileType");
    if (!ptype || (!strstr(ptype, "json") && !strstr(ptype, "xml"))) { /* NONE: the path's form says */
        const char *o = strrchr(out_name, '(');
        free(ptype);
        ptype = ma_strdup(o && strncmp(o + 1, "Root/", 5) == 0 ? "profile.json" : "profile.xml");
    }
    c->path = ma_param_profile_path(shape, prof && *prof ? prof : NULL, ptype, out_id, out_name, err);
    if (!c->path) {
        ma_error_prefix(err, "connector call %s: output element", c->what);
        rc = -1;
    }
out:
    free(op_id);
    free(ctype);
    free(out_id);
    free(out_name);
    free(prof);
    free(ptype);
    if (rc < 0) {
        ma_connparam_free(c);
        return NULL;
    }
    return c;
}

char *ma_connparam_eval(ma_exec *ex, const ma_connparam *c, const ma_doc *doc, ma_error *err)
{
    ma_outputs *out = ma_outputs_new(1);
    ma_batch in;
    ma_batch_init(&in);
    ma_doc *d = doc ? ma_doc_ref((ma_doc *)doc) : ma_doc_new("", 0);
    char *v = NULL;
    if (!out || !d || ma_batch_push(&in, d) < 0) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (ma_connstep_execute(ex, c->shape, c->step, &in, out, err) < 0) {
        ma_error_prefix(err, "connector call %s", c->what);
        goto done;
    }
    const char *why = NULL;
    if (ma_outputs_failed(out, &why)) {
        ma_error_set(err, MA_ERR_RUNTIME, "connector call %s failed: %s", c->what, why ? why : "");
        goto done;
    }
    const ma_batch *res = ma_outputs_batch(out, 0);
    if (c->single && res->len > 1) {
        ma_error_set(err, MA_ERR_RUNTIME, "connector call %s returned %zu documents, and a single result is enforced",
                     c->what, res->len);
        goto done;
    }
    v = res->len ? ma_profile_path_eval(c->path, res->docs[0]) : ma_strdup("");
    if (!v) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
done:
    ma_batch_clear(&in);
    ma_outputs_free(out);
    return v;
}
