/* builtins.c - the one place that names the built-in types: the shapes of shapes/, the connectors
 * and listeners of connectors/. Each registers through the same calls a plugin's
 * ma_plugin_register makes (miniatom/plugin.h), so a plugin can do anything a built-in can. Adding
 * a type is one line here and its files in Makefile.am. */
#include "builtins.h"

#include "registry.h"
#include "xslt.h"

extern const ma_shape_type ma_shape_start, ma_shape_documentproperties, ma_shape_message, ma_shape_notify,
    ma_shape_decision, ma_shape_branch, ma_shape_route, ma_shape_stop, ma_shape_returndocuments, ma_shape_exception,
    ma_shape_catcherrors, ma_shape_processcall, ma_shape_flowcontrol, ma_shape_dataprocess, ma_shape_doccacheload,
    ma_shape_doccacheretrieve, ma_shape_doccacheremove, ma_shape_connectoraction, ma_shape_map, ma_shape_businessrules,
    ma_shape_cleanse;
extern const ma_connector_type ma_connector_http, ma_connector_disk, ma_connector_flowclient, ma_connector_cloudblue;
extern const ma_listener_type ma_listener_wss, ma_listener_fss;

static const ma_shape_type *const shapes[] = {
    &ma_shape_start,
    &ma_shape_documentproperties,
    &ma_shape_message,
    &ma_shape_notify,
    &ma_shape_decision,
    &ma_shape_branch,
    &ma_shape_route,
    &ma_shape_stop,
    &ma_shape_returndocuments,
    &ma_shape_exception,
    &ma_shape_catcherrors,
    &ma_shape_processcall,
    &ma_shape_flowcontrol,
    &ma_shape_dataprocess,
    &ma_shape_doccacheload,
    &ma_shape_doccacheretrieve,
    &ma_shape_doccacheremove,
    &ma_shape_connectoraction,
    &ma_shape_map,
    &ma_shape_businessrules,
    &ma_shape_cleanse,
};

static const ma_connector_type *const connectors[] = {
    &ma_connector_http,
    &ma_connector_disk,
    &ma_connector_flowclient,
    &ma_connector_cloudblue,
};

static const ma_listener_type *const listeners[] = {
    &ma_listener_wss,
    &ma_listener_fss,
};

int ma_builtins_register(ma_registry *reg, ma_error *err)
{
    ma_xslt_global_init(); /* the map shape's: process-wide, before any thread runs a map */
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (ma_registry_add_shape(reg, shapes[i], err) < 0) return -1;
    for (size_t i = 0; i < sizeof connectors / sizeof *connectors; i++)
        if (ma_registry_add_connector(reg, connectors[i], err) < 0) return -1;
    for (size_t i = 0; i < sizeof listeners / sizeof *listeners; i++)
        if (ma_registry_add_listener(reg, listeners[i], err) < 0) return -1;
    return 0;
}

ma_registry *ma_builtins_registry(ma_error *err)
{
    ma_registry *reg = ma_registry_new(err);
    if (reg && ma_builtins_register(reg, err) < 0) {
        ma_registry_free(reg);
        return NULL;
    }
    return reg;
}
