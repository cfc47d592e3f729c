/* registry.h - the table of shape, connector and listener types (built-in and plugins), and loading
 * plugins from a folder of shared objects (miniatom/plugin.h is the public side). The registry
 * knows no type by name: runtime/builtins.c registers the built-in ones. */
#ifndef MA_REGISTRY_H
#define MA_REGISTRY_H

#include "miniatom/plugin.h"

struct ma_registry {
    const ma_shape_type **shapes; /* borrowed entries, owned array */
    size_t n_shapes, cap_shapes;
    const ma_connector_type **connectors;
    size_t n_connectors, cap_connectors;
    const ma_listener_type **listeners;
    size_t n_listeners, cap_listeners;
    void **handles;      /* dlopen handles (owned; closed by ma_registry_free) */
    char **handle_paths; /* owned */
    size_t n_handles;
};

/* New empty registry (free with ma_registry_free); NULL when out of memory. */
ma_registry *ma_registry_new(ma_error *err);
void ma_registry_free(ma_registry *reg);
/* Loads every *.so in dir (sorted) and calls its ma_plugin_register. -1 with err naming the file
 * when one cannot be loaded, lacks the symbol, fails, or registers a type of another ABI. */
int ma_registry_load_plugins(ma_registry *reg, const char *dir, ma_error *err);
const ma_shape_type *ma_registry_shape(const ma_registry *reg, const char *name);
const ma_connector_type *ma_registry_connector(const ma_registry *reg, const char *name);
const ma_listener_type *ma_registry_listener(const ma_registry *reg, const char *name);

#endif
