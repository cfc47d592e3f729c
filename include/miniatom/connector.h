/* miniatom/connector.h - the connector ABI.
 *
 * A connector type (http, disk, cloudblue, ... or a plugin) turns a connector step - the
 * connectoraction shape with its connection (connector-settings) and operation (connector-action)
 * components - into compiled data once at deploy, then executes the step's action on batches:
 * each input document yields zero or more output documents or a document error
 * (boomi-atom-semantics.md 2, "Connector step"). */
#ifndef MINIATOM_CONNECTOR_H
#define MINIATOM_CONNECTOR_H

#include "config.h"
#include "shape.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ma_connector_step {
    const char *action;              /* actionType: Get, Send, Listen, QUERY, ... (borrowed) */
    const char *connection_name;     /* name of the connection component, or NULL (borrowed) */
    const char *connector_type;      /* connectorType attribute (borrowed) */
    const ma_xml_node *shape_config; /* the <connectoraction> element (borrowed) */
    const ma_xml_node *connection;   /* payload root of the connection component, or NULL */
    const ma_xml_node *operation;    /* payload root of the operation component, or NULL */
    const char *connection_id;       /* borrowed, may be NULL */
    const char *operation_id;        /* borrowed, may be NULL */
    ma_shape *shape;                 /* the step's shape */
    void *data;                      /* the connector type's compiled data */
} ma_connector_step;

typedef struct ma_connector_type {
    const char *name; /* the connectorType id it serves, e.g. "http" */
    int abi_version;  /* MA_ABI_VERSION */
    /* Once, at deploy. Set step->data. -1 with err when the step cannot run. */
    int (*compile)(ma_connector_step *step, ma_error *err);
    /* Executes the action on a batch; emit on output 0 or fail documents. */
    int (*execute)(ma_exec *ex, ma_connector_step *step, ma_batch *in, ma_outputs *out, ma_error *err);
    void (*destroy)(ma_connector_step *step);
    /* For `miniatom plugins`: NULL-terminated lists of the actions and object types it runs
     * (either may be NULL). */
    const char *const *actions;
    const char *const *objects;
    /* The fields of its connection it reads (connection.<id or name>.<field>, see below), as a
     * config map without prefix: ma_connector_config checks and reads them. NULL: none declared. */
    const ma_config_entry *config_map;
} ma_connector_type;

/* ---- connection settings (Boomi's environment extensions) ----
 * The value of a connection field, looked up in this order:
 *   1. the deployment's settings (the configuration file, `--set`):
 *        connection.<connectionId>.<field> or connection.<connection name>.<field>
 *      and the same keys ending in ".file", whose value names a file holding the value;
 *   2. the environment: MINIATOM_CONNECTION_<ID or NAME>_<FIELD> and ..._<FIELD>_FILE, where the
 *      id or name and the field are upper-cased and every character that is not a letter or a
 *      digit becomes '_';
 *   3. the connection component itself: the value of <field id="FIELD" value="..."/> anywhere in it,
 *      else the attribute FIELD of its root element.
 * Returns a malloc'ed value (caller frees), or NULL when the field is set nowhere (err untouched)
 * or cannot be read (err set). Values from files lose one trailing line break. */
char *ma_connector_setting(const ma_connector_step *step, const char *field, ma_error *err);
/* The same lookup for a secret (token, password): the value must never be logged, put in an error
 * message or an execution record; release it with ma_secret_free, which wipes it. */
char *ma_connector_secret(const ma_connector_step *step, const char *field, ma_error *err);
void ma_secret_free(char *secret);
/* Reads every entry of map that is not a string kind (uint, size, duration, bool, enum) through
 * the lookup above into out (MA_CONFIG_AT), the default when the field is set nowhere; string,
 * file and dir entries are checked (a file must be readable) but not stored: read them with
 * ma_connector_setting or ma_connector_secret. -1 with err naming the connection, the field, the
 * value (never a secret's) and where it came from ("FILE:LINE", the environment variable, the
 * component's file and line). */
int ma_connector_config(const ma_connector_step *step, const ma_config_entry *map, void *out, ma_error *err);

#ifdef __cplusplus
}
#endif
#endif
