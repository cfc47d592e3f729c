/* lazy_sqlite.c - SQLite, loaded when an execution history is first opened (lazy_sqlite.h): by
 * `miniatom serve`, by `miniatom executions`, and by `miniatom run` in general mode, which records
 * the execution; a low-latency run, `check` and the other commands never map it. */
#include "lazy_sqlite.h"

#include "lazylib.h"

struct ma_sqlite_functions ma_sqlite;

static const ma_lazy_sym syms[] = {
#define MA_SQLITE_SYM(f) {"sqlite3_" #f, (void **)&ma_sqlite.f},
    MA_SQLITE_FUNCTIONS(MA_SQLITE_SYM)
#undef MA_SQLITE_SYM
        {NULL, NULL},
};

static ma_lazy_lib lib = {.what = "SQLite", .soname = "libsqlite3.so.0", .package = "libsqlite3-0", .syms = syms};

int ma_sqlite_load(ma_error *err) { return ma_lazy_load(&lib, err); }
