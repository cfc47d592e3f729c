/* plugin.c - builds the HTTP client connector (http.c) as a plugin: a shared object exporting
 * ma_plugin_register, loaded with `miniatom run --plugins DIR`; it replaces the built-in "http"
 * connector type of the same name. */
#include "miniatom/miniatom.h"

extern const ma_connector_type ma_connector_http; /* http.c */

int ma_plugin_register(ma_registry *reg, ma_error *err)
{
    return ma_registry_add_connector(reg, &ma_connector_http, err);
}
