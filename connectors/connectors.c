/* connectors.c - registers the built-in connector types through the plugin table, the same call a
 * plugin's ma_plugin_register makes (connectors.h). */
#include "connectors.h"

static const ma_connector_type *const builtins[] = {
    &ma_connector_http,
    &ma_connector_disk,
    &ma_connector_flowclient,
    &ma_connector_cloudblue,
};

int ma_connectors_register(ma_registry *reg, ma_error *err)
{
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
        if (ma_registry_add_connector(reg, builtins[i], err) < 0) return -1;
    return 0;
}
