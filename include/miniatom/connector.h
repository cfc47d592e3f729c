/* miniatom/connector.h - the connector ABI.
 *
 * A connector type (http, disk, cloudblue, ... or a plugin) turns a connector step - the
 * connectoraction shape with its connection (connector-settings) and operation (connector-action)
 * components - into compiled data once at deploy, then executes the step's action on batches:
 * each input document yields zero or more output documents or a document error
 * (boomi-atom-semantics.md 2, "Connector step"). */
#ifndef MINIATOM_CONNECTOR_H
#define MINIATOM_CONNECTOR_H

#include "shape.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ma_connector_step {
    const char *action;            /* actionType: Get, Send, Listen, QUERY, ... (borrowed) */
    const char *connector_type;    /* connectorType attribute (borrowed) */
    const ma_xml_node *shape_config;/* the <connectoraction> element (borrowed) */
    const ma_xml_node *connection; /* payload root of the connection component, or NULL */
    const ma_xml_node *operation;  /* payload root of the operation component, or NULL */
    const char *connection_id;     /* borrowed, may be NULL */
    const char *operation_id;      /* borrowed, may be NULL */
    ma_shape *shape;               /* the step's shape */
    void *data;                    /* the connector type's compiled data */
} ma_connector_step;

typedef struct ma_connector_type {
    const char *name; /* the connectorType id it serves, e.g. "http" */
    int abi_version;  /* MA_ABI_VERSION */
    /* Once, at deploy. Set step->data. -1 with err when the step cannot run. */
    int (*compile)(ma_connector_step *step, ma_error *err);
    /* Executes the action on a batch; emit on output 0 or fail documents. */
    int (*execute)(ma_exec *ex, ma_connector_step *step, ma_batch *in, ma_outputs *out,
                   ma_error *err);
    void (*destroy)(ma_connector_step *step);
} ma_connector_type;

#ifdef __cplusplus
}
#endif
#endif
