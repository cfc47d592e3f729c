/* connectorparam.h - the connector parameter value (<parametervalue valueType="connector">, a
 * connector call lookup): compiled at deploy into a connector step of its own, called per
 * evaluation. params.c owns one per such parameter value. */
#ifndef MA_CONNECTORPARAM_H
#define MA_CONNECTORPARAM_H

#include "miniatom/shape.h"

typedef struct ma_connparam ma_connparam;

/* Compiles <connectorparameter> (the element inside the parameter value) for shape: resolves the
 * connector type, the connection and the operation as a connector step does, and the output
 * element in the operation's response profile. NULL with err (the connector step's own error for a
 * missing connector type, connection or operation). */
ma_connparam *ma_connparam_compile(ma_shape *shape, const ma_xml_node *cp, ma_error *err);
/* Calls the connector with doc (may be NULL: an empty document) and its inputs, and returns the
 * output element's value in the response, malloc'ed ("" when the call returns no document or the
 * element is absent). NULL with err when the call fails, or returns more than one document while
 * enforceSingleResult is set. */
char *ma_connparam_eval(ma_exec *ex, const ma_connparam *c, const ma_doc *doc, ma_error *err);
void ma_connparam_free(ma_connparam *c);

#endif
