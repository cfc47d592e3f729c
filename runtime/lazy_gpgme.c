/* lazy_gpgme.c - gpgme, loaded when the first Data Process PGP step is deployed (lazy_gpgme.h);
 * processes without one, and every other command, never map it (nor libassuan and libgpg-error,
 * which it brings). */
#include "lazy_gpgme.h"

#include "lazylib.h"

struct ma_gpgme_functions ma_gpgme;

static const ma_lazy_sym syms[] = {
#define MA_GPGME_SYM(f) {"gpgme_" #f, (void **)&ma_gpgme.f},
    MA_GPGME_FUNCTIONS(MA_GPGME_SYM)
#undef MA_GPGME_SYM
        {NULL, NULL},
};

static ma_lazy_lib lib = {.what = "gpgme", .soname = "libgpgme.so.11", .package = "libgpgme11", .syms = syms};

int ma_gpgme_load(ma_error *err) { return ma_lazy_load(&lib, err); }
