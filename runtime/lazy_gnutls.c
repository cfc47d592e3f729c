/* lazy_gnutls.c - GnuTLS, loaded when `miniatom serve` first needs it (lazy_gnutls.h): at start for
 * the key of the credentials cache, for `serve --hash-token`, and by the configuration check when
 * TLS is configured. GnuTLS and its libraries (nettle, gmp, p11-kit, tasn1, idn2, unistring) would
 * otherwise be mapped at the start of every `miniatom run`. */
#include "lazy_gnutls.h"

#include "lazylib.h"

struct ma_gnutls_functions ma_gnutls;

static const ma_lazy_sym syms[] = {
#define MA_GNUTLS_SYM(f) {"gnutls_" #f, (void **)&ma_gnutls.f},
    MA_GNUTLS_FUNCTIONS(MA_GNUTLS_SYM)
#undef MA_GNUTLS_SYM
        {"gnutls_free", (void **)&ma_gnutls.free_fn},
    {NULL, NULL},
};

static ma_lazy_lib lib = {.what = "GnuTLS", .soname = "libgnutls.so.30", .package = "libgnutls30", .syms = syms};

int ma_gnutls_load(ma_error *err) { return ma_lazy_load(&lib, err); }
