/* registry.c - the one table of shape, connector and listener types. Built-ins register through
 * the same calls plugins use (miniatom/plugin.h; runtime/builtins.c names them); plugins are shared
 * objects loaded with dlopen whose ma_plugin_register adds their types. Every type's abi_version
 * must equal MA_ABI_VERSION. */
#include "registry.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_PLUGINS 1024

int ma_registry_add_shape(ma_registry *reg, const ma_shape_type *t, ma_error *err)
{
    if (!t || !t->name || !t->execute)
        return ma_error_set(err, MA_ERR_USAGE, "a shape type needs a name and an execute function");
    if (t->abi_version != MA_ABI_VERSION)
        return ma_error_set(err, MA_ERR_ABI, "shape type '%s' was built for plugin ABI %d; this miniatom has ABI %d",
                            t->name, t->abi_version, MA_ABI_VERSION);
    for (size_t i = 0; i < reg->n_shapes; i++)
        if (strcmp(reg->shapes[i]->name, t->name) == 0) {
            reg->shapes[i] = t;
            return 0;
        }
    if (reg->n_shapes == reg->cap_shapes) {
        size_t cap = reg->cap_shapes ? reg->cap_shapes * 2 : 32;
        const ma_shape_type **n = realloc(reg->shapes, cap * sizeof *n);
        if (!n) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        reg->shapes = n;
        reg->cap_shapes = cap;
    }
    reg->shapes[reg->n_shapes++] = t;
    return 0;
}

int ma_registry_add_connector(ma_registry *reg, const ma_connector_type *t, ma_error *err)
{
    if (!t || !t->name || !t->execute)
        return ma_error_set(err, MA_ERR_USAGE, "a connector type needs a name and an execute function");
    if (t->abi_version != MA_ABI_VERSION)
        return ma_error_set(err, MA_ERR_ABI,
                            "connector type '%s' was built for plugin ABI %d; this miniatom has ABI %d", t->name,
                            t->abi_version, MA_ABI_VERSION);
    for (size_t i = 0; i < reg->n_connectors; i++)
        if (strcmp(reg->connectors[i]->name, t->name) == 0) {
            reg->connectors[i] = t;
            return 0;
        }
    if (reg->n_connectors == reg->cap_connectors) {
        size_t cap = reg->cap_connectors ? reg->cap_connectors * 2 : 8;
        const ma_connector_type **n = realloc(reg->connectors, cap * sizeof *n);
        if (!n) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        reg->connectors = n;
        reg->cap_connectors = cap;
    }
    reg->connectors[reg->n_connectors++] = t;
    return 0;
}

/* Puts t into the table *v (replacing the entry of the same name); -1 when out of memory. */
static int put_type(const void ***v, size_t *n, size_t *cap, const void *t, const char *(*name_of)(const void *),
                    ma_error *err)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(name_of((*v)[i]), name_of(t)) == 0) {
            (*v)[i] = t;
            return 0;
        }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        const void **nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = t;
    return 0;
}

static const char *listener_name(const void *t) { return ((const ma_listener_type *)t)->name; }

int ma_registry_add_listener(ma_registry *reg, const ma_listener_type *t, ma_error *err)
{
    if (!t || !t->name || !t->handle || !t->prefix)
        return ma_error_set(err, MA_ERR_USAGE, "a listener type needs a name, a URL prefix and a handle function");
    if (t->abi_version != MA_ABI_VERSION)
        return ma_error_set(err, MA_ERR_ABI, "listener type '%s' was built for plugin ABI %d; this miniatom has ABI %d",
                            t->name, t->abi_version, MA_ABI_VERSION);
    size_t pl = strlen(t->prefix);
    if (pl < 3 || t->prefix[0] != '/' || t->prefix[pl - 1] != '/' || strcmp(t->prefix, "/health/") == 0)
        return ma_error_set(err, MA_ERR_USAGE,
                            "listener type '%s': its URL prefix '%s' must start and end with '/' (and not be /health/)",
                            t->name, t->prefix);
    if (strcmp(t->name, "health") == 0 || strchr(t->name, '.'))
        return ma_error_set(err, MA_ERR_USAGE, "a listener type cannot be named '%s'", t->name);
    for (size_t i = 0; i < reg->n_listeners; i++) {
        const ma_listener_type *o = reg->listeners[i];
        if (strcmp(o->name, t->name) == 0) continue; /* replaced below */
        if (strncmp(o->prefix, t->prefix, strlen(o->prefix)) == 0 || strncmp(t->prefix, o->prefix, pl) == 0)
            return ma_error_set(err, MA_ERR_USAGE, "listener types '%s' (%s) and '%s' (%s) would serve the same URLs",
                                o->name, o->prefix, t->name, t->prefix);
    }
    return put_type((const void ***)&reg->listeners, &reg->n_listeners, &reg->cap_listeners, t, listener_name, err);
}

ma_registry *ma_registry_new(ma_error *err)
{
    ma_registry *reg = calloc(1, sizeof *reg);
    if (!reg) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return reg;
}

void ma_registry_free(ma_registry *reg)
{
    if (!reg) return;
    free(reg->shapes);
    free(reg->connectors);
    free(reg->listeners);
    for (size_t i = 0; i < reg->n_handles; i++) {
        dlclose(reg->handles[i]);
        free(reg->handle_paths[i]);
    }
    free(reg->handles);
    free(reg->handle_paths);
    free(reg);
}

const ma_shape_type *ma_registry_shape(const ma_registry *reg, const char *name)
{
    for (size_t i = 0; reg && i < reg->n_shapes; i++)
        if (strcmp(reg->shapes[i]->name, name) == 0) return reg->shapes[i];
    return NULL;
}

const ma_connector_type *ma_registry_connector(const ma_registry *reg, const char *name)
{
    for (size_t i = 0; reg && i < reg->n_connectors; i++)
        if (strcmp(reg->connectors[i]->name, name) == 0) return reg->connectors[i];
    return NULL;
}

const ma_listener_type *ma_registry_listener(const ma_registry *reg, const char *name)
{
    for (size_t i = 0; reg && i < reg->n_listeners; i++)
        if (strcmp(reg->listeners[i]->name, name) == 0) return reg->listeners[i];
    return NULL;
}

static int load_one(ma_registry *reg, const char *path, ma_error *err)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) return ma_error_set(err, MA_ERR_IO, "plugin %s cannot be loaded: %s", path, dlerror());
    ma_plugin_register_fn fn;
    *(void **)&fn = dlsym(h, MA_PLUGIN_SYMBOL);
    if (!fn) {
        dlclose(h);
        return ma_error_set(err, MA_ERR_ABI, "plugin %s does not export %s()", path, MA_PLUGIN_SYMBOL);
    }
    void **nh = realloc(reg->handles, (reg->n_handles + 1) * sizeof *nh);
    char **np = nh ? realloc(reg->handle_paths, (reg->n_handles + 1) * sizeof *np) : NULL;
    if (nh) reg->handles = nh;
    if (np) reg->handle_paths = np;
    char *dup = ma_strdup(path);
    if (!nh || !np || !dup) {
        free(dup);
        dlclose(h);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    reg->handles[reg->n_handles] = h;
    reg->handle_paths[reg->n_handles] = dup;
    reg->n_handles++;
    ma_error perr;
    ma_error_clear(&perr);
    if (fn(reg, &perr) < 0) {
        return ma_error_set(err, perr.code ? perr.code : MA_ERR_GENERIC, "plugin %s: %s", path,
                            perr.msg[0] ? perr.msg : "registration failed");
    }
    return 0;
}

int ma_registry_load_plugins(ma_registry *reg, const char *dir, ma_error *err)
{
    char **names;
    size_t n;
    if (ma_dir_list(dir, ".so", MAX_PLUGINS, &names, &n, err) < 0) {
        ma_error_prefix(err, "plugin folder");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *path = ma_asprintf("%s/%s", dir, names[i]);
        rc = path ? load_one(reg, path, err) : ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        free(path);
    }
    ma_strings_free(names, n);
    return rc;
}
