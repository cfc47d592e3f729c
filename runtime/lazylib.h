/* lazylib.h - libraries that only some commands need, loaded with dlopen when they are first used
 * rather than mapped by the dynamic loader at every start (the way connectors/common/httpc.c loads
 * libcurl): libmicrohttpd (lazy_mhd.h) and GnuTLS (lazy_gnutls.h) for `miniatom serve`, SQLite
 * (lazy_sqlite.h) for the execution history, gpgme (lazy_gpgme.h) for the Data Process PGP steps. `miniatom run`, `check` and the other short commands
 * then start at the cost of what they really use. A library that is missing is an error naming the
 * Debian package that provides it, never a crash. */
#ifndef MA_LAZYLIB_H
#define MA_LAZYLIB_H

#include <stdatomic.h>

#include "miniatom/error.h"

typedef struct ma_lazy_sym {
    const char *name; /* the symbol in the library */
    void **at;        /* where its address goes */
} ma_lazy_sym;

/* One library: static, filled by its lazy_*.c; state is this file's. */
typedef struct ma_lazy_lib {
    const char *what;        /* its name in messages ("libmicrohttpd") */
    const char *soname;      /* the ABI it was built against ("libmicrohttpd.so.12") */
    const char *package;     /* the Debian package that provides it ("libmicrohttpd12") */
    const ma_lazy_sym *syms; /* ended by a NULL name */
    atomic_int state;        /* 0 not tried, 1 loaded, -1 cannot be loaded (error holds why) */
    char error[512];
} ma_lazy_lib;

/* Loads lib and every symbol of it once per process (thread-safe; the library stays loaded for the
 * life of the process). 0, or -1 with err (may be NULL) saying why and what to install. */
int ma_lazy_load(ma_lazy_lib *lib, ma_error *err);

#endif
