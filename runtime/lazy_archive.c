/* lazy_archive.c - libarchive, loaded when the first Data Process Zip or Unzip step is deployed
 * (lazy_archive.h); processes without one, and every other command, never map it (nor the
 * compression libraries it brings). */
#include "lazy_archive.h"

#include "lazylib.h"

struct ma_archive_functions ma_archive;

static const ma_lazy_sym syms[] = {
#define MA_ARCHIVE_SYM(f) {"archive_" #f, (void **)&ma_archive.f},
    MA_ARCHIVE_FUNCTIONS(MA_ARCHIVE_SYM)
#undef MA_ARCHIVE_SYM
        {NULL, NULL},
};

static ma_lazy_lib lib = {.what = "libarchive", .soname = "libarchive.so.13", .package = "libarchive13", .syms = syms};

int ma_archive_load(ma_error *err) { return ma_lazy_load(&lib, err); }
