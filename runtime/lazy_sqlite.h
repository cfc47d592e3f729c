/* lazy_sqlite.h - SQLite as the execution history uses it (history.c), loaded when a history is
 * first opened (lazylib.h): types and constants from <sqlite3.h>, functions from the table
 * ma_sqlite under their usual names (the macros below). Include it instead of <sqlite3.h>, and
 * call ma_sqlite_load before the first sqlite3_ function. */
#ifndef MA_LAZY_SQLITE_H
#define MA_LAZY_SQLITE_H

#include <sqlite3.h>

#include "miniatom/error.h"

/* every SQLite function miniatom calls */
/* clang-format off */
#define MA_SQLITE_FUNCTIONS(X)                                                                               \
    X(open_v2) X(close) X(busy_timeout) X(extended_result_codes) X(exec) X(free)                             \
    X(errmsg) X(extended_errcode) X(get_autocommit) X(last_insert_rowid)                                     \
    X(prepare_v2) X(prepare_v3) X(step) X(reset) X(clear_bindings) X(finalize)                               \
    X(bind_blob64) X(bind_double) X(bind_int) X(bind_int64) X(bind_null) X(bind_text) X(bind_text64)         \
    X(column_blob) X(column_bytes) X(column_double) X(column_int) X(column_int64) X(column_text)             \
    X(column_type) X(changes) X(file_control)
/* clang-format on */

struct ma_sqlite_functions {
#define MA_SQLITE_FIELD(f) __typeof__(&sqlite3_##f) f;
    MA_SQLITE_FUNCTIONS(MA_SQLITE_FIELD)
#undef MA_SQLITE_FIELD
};
extern struct ma_sqlite_functions ma_sqlite; /* filled by ma_sqlite_load */

/* Loads SQLite (libsqlite3.so.0, Debian package libsqlite3-0) once. 0, or -1 with err naming the
 * package to install. */
int ma_sqlite_load(ma_error *err);

#define sqlite3_open_v2 ma_sqlite.open_v2
#define sqlite3_close ma_sqlite.close
#define sqlite3_busy_timeout ma_sqlite.busy_timeout
#define sqlite3_extended_result_codes ma_sqlite.extended_result_codes
#define sqlite3_exec ma_sqlite.exec
#define sqlite3_free ma_sqlite.free
#define sqlite3_errmsg ma_sqlite.errmsg
#define sqlite3_extended_errcode ma_sqlite.extended_errcode
#define sqlite3_get_autocommit ma_sqlite.get_autocommit
#define sqlite3_last_insert_rowid ma_sqlite.last_insert_rowid
#define sqlite3_prepare_v2 ma_sqlite.prepare_v2
#define sqlite3_prepare_v3 ma_sqlite.prepare_v3
#define sqlite3_step ma_sqlite.step
#define sqlite3_reset ma_sqlite.reset
#define sqlite3_clear_bindings ma_sqlite.clear_bindings
#define sqlite3_finalize ma_sqlite.finalize
#define sqlite3_bind_blob64 ma_sqlite.bind_blob64
#define sqlite3_bind_double ma_sqlite.bind_double
#define sqlite3_bind_int ma_sqlite.bind_int
#define sqlite3_bind_int64 ma_sqlite.bind_int64
#define sqlite3_bind_null ma_sqlite.bind_null
#define sqlite3_bind_text ma_sqlite.bind_text
#define sqlite3_bind_text64 ma_sqlite.bind_text64
#define sqlite3_column_blob ma_sqlite.column_blob
#define sqlite3_column_bytes ma_sqlite.column_bytes
#define sqlite3_column_double ma_sqlite.column_double
#define sqlite3_column_int ma_sqlite.column_int
#define sqlite3_column_int64 ma_sqlite.column_int64
#define sqlite3_column_text ma_sqlite.column_text
#define sqlite3_column_type ma_sqlite.column_type
#define sqlite3_changes ma_sqlite.changes
#define sqlite3_file_control ma_sqlite.file_control

#endif
