/* registry.c - the one table of shape and connector types. Built-ins register through the same
 * calls plugins use (miniatom/plugin.h); plugins are shared objects loaded with dlopen whose
 * ma_plugin_register adds their types. Every type's abi_version must equal MA_ABI_VERSION. */
#include "registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "util.h"
#include "xslt.h"

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
        return ma_error_set(err, MA_ERR_ABI, "connector type '%s' was built for plugin ABI %d; this miniatom has ABI %d",
                            t->name, t->abi_version, MA_ABI_VERSION);
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

ma_registry *ma_registry_new(ma_error *err)
{
    ma_xslt_global_init(); /* process-wide libxslt set-up, before any thread runs a map */
    ma_registry *reg = calloc(1, sizeof *reg);
    if (!reg) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (ma_builtin_register(reg, err) < 0) {
        ma_registry_free(reg);
        return NULL;
    }
    return reg;
}

void ma_registry_free(ma_registry *reg)
{
    if (!reg) return;
    free(reg->shapes);
    free(reg->connectors);
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

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

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
    DIR *d = opendir(dir);
    if (!d) return ma_error_set(err, MA_ERR_IO, "plugin folder %s cannot be opened", dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!ma_str_has_suffix(e->d_name, ".so")) continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn) { rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory"); break; }
        names = nn;
        if (!(names[n] = ma_asprintf("%s/%s", dir, e->d_name))) { rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory"); break; }
        n++;
    }
    closedir(d);
    if (rc == 0 && n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++) rc = load_one(reg, names[i], err);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}
