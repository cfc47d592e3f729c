/* lazy_mhd.c - libmicrohttpd, loaded when `miniatom serve` starts listening (lazy_mhd.h): only the
 * server needs it, and with it GnuTLS and GnuTLS's own libraries, which would otherwise be mapped
 * at the start of every `miniatom run`. */
#include "lazy_mhd.h"

#include "lazylib.h"

struct ma_mhd_functions ma_mhd;

static const ma_lazy_sym syms[] = {
#define MA_MHD_SYM(f) {"MHD_" #f, (void **)&ma_mhd.f},
    MA_MHD_FUNCTIONS(MA_MHD_SYM)
#undef MA_MHD_SYM
        {NULL, NULL},
};

static ma_lazy_lib lib = {
    .what = "libmicrohttpd", .soname = "libmicrohttpd.so.12", .package = "libmicrohttpd12", .syms = syms};

int ma_mhd_load(ma_error *err) { return ma_lazy_load(&lib, err); }
