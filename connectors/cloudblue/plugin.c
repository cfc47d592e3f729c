/* plugin.c - the CloudBlue Connect connector as a shared object: build cloudblue.c, this file and
 * connectors/common/httpc.c with -shared -fPIC (linking libcurl and jansson) and load the result
 * with `miniatom run --plugins DIR`; it replaces the built-in connector type of the same name. */
#include "miniatom/miniatom.h"

extern const ma_connector_type ma_connector_cloudblue; /* cloudblue.c */

int ma_plugin_register(ma_registry *reg, ma_error *err)
{
    return ma_registry_add_connector(reg, &ma_connector_cloudblue, err);
}
