/* miniatom/plugin.h - the registry of shape, connector and listener types, and how a plugin joins
 * it.
 *
 * Built-in types register through exactly this table (runtime/builtins.c names them all). A plugin
 * is a shared object that exports
 *
 *     int ma_plugin_register(ma_registry *reg, ma_error *err);
 *
 * and calls ma_registry_add_shape, ma_registry_add_connector or ma_registry_add_listener from it.
 * Each registered type states the MA_ABI_VERSION it was built against; a mismatch is refused with a
 * clear error. The registry is frozen once a deployment is compiled against it; type structs must
 * outlive the registry (static storage in the plugin, which stays loaded). */
#ifndef MINIATOM_PLUGIN_H
#define MINIATOM_PLUGIN_H

#include "connector.h"
#include "listener.h"
#include "shape.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ma_registry ma_registry;

/* Registers a type (borrowed; must stay valid). A later registration of the same name replaces the
 * earlier one (so a plugin can override a built-in); a listener type must also own a URL prefix no
 * other listener type owns. -1 with err when the type is incomplete or of another ABI. */
int ma_registry_add_shape(ma_registry *reg, const ma_shape_type *type, ma_error *err);
int ma_registry_add_connector(ma_registry *reg, const ma_connector_type *type, ma_error *err);
int ma_registry_add_listener(ma_registry *reg, const ma_listener_type *type, ma_error *err);

/* The symbol a plugin exports. A plugin may build with -fvisibility=hidden (so that its own
 * symbols never clash with the runtime's); this declaration keeps ma_plugin_register visible. */
#define MA_PLUGIN_EXPORT __attribute__((visibility("default")))
MA_PLUGIN_EXPORT int ma_plugin_register(ma_registry *reg, ma_error *err);
typedef int (*ma_plugin_register_fn)(ma_registry *reg, ma_error *err);
#define MA_PLUGIN_SYMBOL "ma_plugin_register"

#ifdef __cplusplus
}
#endif
#endif
