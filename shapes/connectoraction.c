/* connectoraction.c - the connector step (boomi-atom-semantics.md 2 "Connector step"): a
 * connectoraction shape names a connector type, an action, a connection (connector-settings) and
 * an operation (connector-action). Both components are resolved at deploy and the step is compiled
 * by the connector type registered for connectorType. Without one, the step is not runnable,
 * unless the deployment stubs connectors: --stub OPERATION_ID=FILE returns FILE's content for each
 * document, --stub-connectors passes documents through and logs that it did. */
#include <stdlib.h>
#include <string.h>

#include "connection.h"
#include "shapes_common.h"
#include "process.h"
#include "registry.h"
#include "util.h"

typedef struct conn_data {
    ma_connector_step step;
    const ma_connector_type *type;          /* NULL when stubbed */
    char *action, *ctype, *conn_id, *op_id; /* owned */
    char *stub;                             /* owned: --stub content, or NULL (pass through) */
    size_t stub_len;
    int compiled;
} conn_data;

void ma_connstep_destroy(ma_shape *s, void *data)
{
    conn_data *d = data;
    if (!d) return;
    if (d->type && d->compiled && d->type->destroy) d->type->destroy(&d->step);
    free(d->action);
    free(d->ctype);
    free(d->conn_id);
    free(d->op_id);
    free(d->stub);
    free(d);
}

static int stub_for(ma_deploy *dep, conn_data *d, ma_error *err)
{
    for (size_t i = 0; i < dep->opts.n_stubs; i++) {
        if (!d->op_id || strcmp(dep->opts.stubs[i].operation_id, d->op_id) != 0) continue;
        d->stub = ma_read_file(dep->opts.stubs[i].file, MA_DOC_MAX_SIZE, &d->stub_len, err);
        if (!d->stub) {
            ma_error_prefix(err, "--stub %s", d->op_id);
            return -1;
        }
        return 1;
    }
    return 0;
}

static int connstep_compile(ma_shape *s, const ma_xml_node *config, void **data, int declare, ma_error *err);

int ma_connstep_compile(ma_shape *s, const ma_xml_node *config, void **data, ma_error *err)
{
    return connstep_compile(s, config, data, 1, err);
}

int ma_connstep_compile_call(ma_shape *s, const ma_xml_node *config, void **data, ma_error *err)
{
    return connstep_compile(s, config, data, 0, err);
}

static int connstep_compile(ma_shape *s, const ma_xml_node *config, void **data, int declare, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    *data = NULL;
    if (!ma_xml_is(c, "connectoraction"))
        return ma_error_set(err, MA_ERR_CONFIG, "a connector step needs a <connectoraction> configuration");
    conn_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    *data = d;
    d->action = ma_xml_attr(c, "actionType");
    d->ctype = ma_xml_attr(c, "connectorType");
    d->conn_id = ma_xml_attr(c, "connectionId");
    d->op_id = ma_xml_attr(c, "operationId");
    if (!d->action) d->action = ma_strdup("");
    if (!d->ctype || !*d->ctype) return ma_error_set(err, MA_ERR_CONFIG, "the connector step names no connectorType");
    if (declare && ma_shape_declare_output(s, NULL, err) < 0) return -1;
    ma_deploy *dep = ma_shape_deploy(s);
    int st = stub_for(dep, d, err);
    if (st < 0) return -1;
    if (st > 0) return 0;
    if (dep->opts.stub_connectors == 2) return 0; /* --stub-connectors=all: nothing leaves the machine */
    d->type = ma_registry_connector(dep->reg, d->ctype);
    if (!d->type) { /* connector.map.<exported connectorType> = <connector type> */
        char *key = ma_asprintf("connector.map.%s", d->ctype);
        const char *mapped = key ? ma_deploy_setting(dep, key) : NULL;
        free(key);
        if (mapped) d->type = ma_registry_connector(dep->reg, mapped);
        if (mapped && !d->type)
            return ma_error_set(err, MA_ERR_CONFIG,
                                "connector.map.%s names connector type '%s', which is not registered", d->ctype,
                                mapped);
    }
    if (!d->type) {
        if (dep->opts.stub_connectors) return 0;
        return ma_error_set(err, MA_ERR_UNSUPPORTED,
                            "connector type '%s' (action %s, operation %s) has no implementation in this runtime; "
                            "run with --stub-connectors or --stub %s=FILE to test without it",
                            d->ctype, d->action, d->op_id ? d->op_id : "(none)", d->op_id ? d->op_id : "OPERATION_ID");
    }
    ma_component *op = NULL, *conn = NULL;
    if (d->op_id && *d->op_id && !(op = ma_deploy_ref(dep, d->op_id, "connector-action", "operation", err))) return -1;
    if (d->conn_id && *d->conn_id && !(conn = ma_deploy_ref(dep, d->conn_id, "connector-settings", "connection", err)))
        return -1;
    d->step.action = d->action;
    d->step.connector_type = d->ctype;
    d->step.shape_config = config;
    d->step.connection = conn ? conn->object : NULL;
    d->step.operation = op ? op->object : NULL;
    d->step.connection_id = d->conn_id;
    d->step.connection_name = conn ? conn->name : NULL;
    d->step.operation_id = d->op_id;
    d->step.shape = s;
    if (ma_connection_check_settings(&d->step, d->type, err) < 0) return -1;
    if (d->type->compile && d->type->compile(&d->step, err) < 0) return -1;
    d->compiled = 1;
    return 0;
}

int ma_connstep_execute(ma_exec *ex, ma_shape *s, void *data, ma_batch *in, ma_outputs *out, ma_error *err)
{
    conn_data *d = data;
    if (d->type) return d->type->execute(ex, &d->step, in, out, err);
    if (d->stub) {
        for (size_t i = 0; i < in->len; i++)
            if (ma_outputs_emit(out, 0, ma_doc_derive(in->docs[i], d->stub, d->stub_len)) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        ma_exec_log(ex, s, MA_LOG_INFO, "stub: operation %s returned its stub file for %zu document(s)", d->op_id,
                    in->len);
        return 0;
    }
    for (size_t i = 0; i < in->len; i++)
        if (ma_outputs_emit(out, 0, ma_doc_ref(in->docs[i])) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_exec_log(ex, s, MA_LOG_INFO,
                "stub: connector type '%s' (action %s, operation %s) passed %zu document(s) through", d->ctype,
                d->action, d->op_id ? d->op_id : "(none)", in->len);
    return 0;
}

static int ca_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    void *d = NULL;
    int rc = ma_connstep_compile(s, config, &d, err);
    ma_shape_set_data(s, d);
    return rc;
}

static int ca_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    return ma_connstep_execute(ex, s, ma_shape_data(s), in, out, err);
}

static void ca_destroy(ma_shape *s)
{
    ma_connstep_destroy(s, ma_shape_data(s));
    ma_shape_set_data(s, NULL);
}

const ma_shape_type ma_shape_connectoraction = {
    .name = "connectoraction",
    .abi_version = MA_ABI_VERSION,
    .compile = ca_compile,
    .execute = ca_execute,
    .destroy = ca_destroy,
};
