/* connection.h - what the runtime asks of connection settings beyond the public lookups of
 * miniatom/connector.h (connection.c). */
#ifndef MA_CONNECTION_H
#define MA_CONNECTION_H

#include "miniatom/connector.h"

/* Every setting connection.<id or name of step's connection>.<field>[.file] must name a field of
 * the connector type's config map (when it declares one): -1 with err naming the setting, where it
 * came from and the fields there are. */
int ma_connection_check_settings(const ma_connector_step *step, const ma_connector_type *type, ma_error *err);

#endif
