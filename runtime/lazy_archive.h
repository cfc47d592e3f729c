/* lazy_archive.h - libarchive as the Data Process Zip and Unzip steps use it
 * (shapes/dataprocess_zip.c), loaded when the first such step is deployed (lazylib.h): types and
 * constants from <archive.h> and <archive_entry.h>, functions from the table ma_archive under their
 * usual names (the macros below). Include it instead of those headers, and call ma_archive_load
 * before the first archive_ function. */
#ifndef MA_LAZY_ARCHIVE_H
#define MA_LAZY_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include "miniatom/error.h"

/* every libarchive function miniatom calls (without the "archive_" prefix) */
/* clang-format off */
#define MA_ARCHIVE_FUNCTIONS(X)                                                                              \
    X(read_new) X(read_support_format_zip) X(read_open_memory) X(read_next_header) X(read_data)             \
    X(read_free) X(error_string) X(entry_pathname_utf8) X(entry_pathname) X(entry_filetype) X(write_new) X(write_set_format_zip)   \
    X(write_set_bytes_per_block) X(write_set_options) X(write_open) X(write_header) X(write_data) X(write_close) X(write_free)   \
    X(entry_new) X(entry_free) X(entry_set_pathname_utf8) X(entry_set_size) X(entry_set_filetype)               \
    X(entry_set_perm) X(entry_set_mtime)
/* clang-format on */

struct ma_archive_functions {
#define MA_ARCHIVE_FIELD(f) __typeof__(&archive_##f) f;
    MA_ARCHIVE_FUNCTIONS(MA_ARCHIVE_FIELD)
#undef MA_ARCHIVE_FIELD
};
extern struct ma_archive_functions ma_archive; /* filled by ma_archive_load */

/* Loads libarchive (libarchive.so.13, Debian package libarchive13) once. 0, or -1 with err naming
 * the package to install. */
int ma_archive_load(ma_error *err);

#define archive_read_new ma_archive.read_new
#define archive_read_support_format_zip ma_archive.read_support_format_zip
#define archive_read_open_memory ma_archive.read_open_memory
#define archive_read_next_header ma_archive.read_next_header
#define archive_read_data ma_archive.read_data
#define archive_read_free ma_archive.read_free
#define archive_error_string ma_archive.error_string
#define archive_entry_pathname_utf8 ma_archive.entry_pathname_utf8
#define archive_entry_pathname ma_archive.entry_pathname
#define archive_entry_filetype ma_archive.entry_filetype
#define archive_write_new ma_archive.write_new
#define archive_write_set_format_zip ma_archive.write_set_format_zip
#define archive_write_set_bytes_per_block ma_archive.write_set_bytes_per_block
#define archive_write_set_options ma_archive.write_set_options
#define archive_write_open ma_archive.write_open
#define archive_write_header ma_archive.write_header
#define archive_write_data ma_archive.write_data
#define archive_write_close ma_archive.write_close
#define archive_write_free ma_archive.write_free
#define archive_entry_new ma_archive.entry_new
#define archive_entry_free ma_archive.entry_free
#define archive_entry_set_pathname_utf8 ma_archive.entry_set_pathname_utf8
#define archive_entry_set_size ma_archive.entry_set_size
#define archive_entry_set_filetype ma_archive.entry_set_filetype
#define archive_entry_set_perm ma_archive.entry_set_perm
#define archive_entry_set_mtime ma_archive.entry_set_mtime

#endif
