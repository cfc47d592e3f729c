/* lazylib.c - loading a library when it is first needed (lazylib.h): dlopen by its soname, every
 * symbol of its table through dlsym, once per process; a failure is remembered with a message that
 * names the Debian package to install. */
#include "lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;

static int load(ma_lazy_lib *lib)
{
    void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(lib->error, sizeof lib->error, "%s cannot be loaded (apt-get install -y %s): %s", lib->what,
                 lib->package, e ? e : lib->soname);
        return -1;
    }
    for (const ma_lazy_sym *s = lib->syms; s->name; s++) {
        void *p = dlsym(h, s->name);
        if (!p) {
            snprintf(lib->error, sizeof lib->error,
                     "%s (%s) has no %s: it is older than the one miniatom was built "
                     "with (apt-get install -y %s)",
                     lib->what, lib->soname, s->name, lib->package);
            return -1; /* h stays open: what it mapped may already be in use by another library */
        }
        *s->at = p;
    }
    return 0; /* h stays open for the life of the process */
}

int ma_lazy_load(ma_lazy_lib *lib, ma_error *err)
{
    int st = atomic_load_explicit(&lib->state, memory_order_acquire);
    if (!st) {
        pthread_mutex_lock(&load_mu);
        st = lib->state;
        if (!st) {
            st = load(lib) == 0 ? 1 : -1;
            atomic_store_explicit(&lib->state, st, memory_order_release);
        }
        pthread_mutex_unlock(&load_mu);
    }
    return st > 0 ? 0 : ma_error_set(err, MA_ERR_IO, "%s", lib->error);
}
