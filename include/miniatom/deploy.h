/* miniatom/deploy.h - reading a deployment: its components, processes and settings.
 *
 * A deployment is every component of a deploy folder (the bns:Component envelope,
 * boomi-process-xml.md 1.1), indexed by componentId, with its processes compiled against the
 * registry. Listener and connector types read it through these functions; the deployment owns
 * everything they return (borrowed for the deployment's lifetime). */
#ifndef MINIATOM_DEPLOY_H
#define MINIATOM_DEPLOY_H

#include <stddef.h>

#include "config.h"
#include "shape.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ma_component ma_component; /* one component (owned by its deployment) */
typedef struct ma_process ma_process;     /* a compiled process (owned by its component) */

/* ---- components ---- */
size_t ma_deploy_count(const ma_deploy *dep);
/* In load order; NULL past the end, or for a component read lazily (`run`) that turns out not to be
 * well-formed (a problem of the deployment says why). */
ma_component *ma_deploy_at(const ma_deploy *dep, size_t i);
/* By componentId; NULL when absent. */
ma_component *ma_deploy_find(const ma_deploy *dep, const char *id);
/* By componentId, else by name when exactly one process component has it; NULL otherwise. */
ma_component *ma_deploy_find_process(const ma_deploy *dep, const char *id_or_name);
/* The deployment's settings (the configuration files and --set; borrowed, may be NULL). */
const ma_settings *ma_deploy_settings(const ma_deploy *dep);
/* A deployment setting by key ("connection.X.url"), borrowed; NULL when unset. */
const char *ma_deploy_setting(const ma_deploy *dep, const char *key);

const char *ma_component_id(const ma_component *c); /* "" when absent */
const char *ma_component_name(const ma_component *c);
const char *ma_component_type(const ma_component *c); /* "process", "connector-action", "flowservice" ... */
const char *ma_component_file(const ma_component *c); /* the file it was read from */
int ma_component_line(const ma_component *c);
/* The payload root under <bns:object> (the <process>, <Operation> ... element), or NULL. */
const ma_xml_node *ma_component_object(const ma_component *c);

/* ---- processes ---- */
/* The compiled process of a process component (compiled on first use), NULL for another type. */
ma_process *ma_component_process(ma_deploy *dep, ma_component *c);
ma_component *ma_process_component(const ma_process *p);
/* 1 when nothing stops it from running here. */
int ma_process_runnable(const ma_process *p);
/* 1 when it has a Return Documents shape (its results go back to its caller). */
int ma_process_returns(const ma_process *p);
/* 1 for workload="low_latency". */
int ma_process_low_latency(const ma_process *p);
/* Whether an execution of p may wait on something outside the process: 0 only when every shape
 * works on the documents in memory (MA_SHAPE_IN_MEMORY, or its type's may_wait says so). */
int ma_process_may_wait(const ma_process *p);
/* Why a process component cannot run: up to max reasons (its own problems, then those of the
 * processes it calls), each "shape shapeN 'label' (type): why" or the component's own message,
 * malloc'ed into *out (free each and the array). Returns how many. */
size_t ma_process_reasons(const ma_deploy *dep, const ma_component *c, size_t max, char ***out);
/* The <connectoraction> of a component's start shape when it is a Listen of connector_type
 * ("wss", "fss"), read from the XML (no compile needed); NULL otherwise. */
const ma_xml_node *ma_process_listen_start(const ma_component *c, const char *connector_type);

#ifdef __cplusplus
}
#endif
#endif
