/* connectors.h - the built-in connector types. Each lives in connectors/<name>/, registers
 * through the same table plugins use (ma_builtin_register calls ma_connectors_register), and can
 * also be built as a shared object (connectors/<name>/plugin.c) and loaded with --plugins. */
#ifndef MA_CONNECTORS_H
#define MA_CONNECTORS_H

#include "miniatom/plugin.h"

extern const ma_connector_type ma_connector_cloudblue;
extern const ma_connector_type ma_connector_http;
extern const ma_connector_type ma_connector_disk;
extern const ma_connector_type ma_connector_flowclient;

int ma_connectors_register(ma_registry *reg, ma_error *err);

#endif
