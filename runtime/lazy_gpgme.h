/* lazy_gpgme.h - gpgme as the Data Process PGP steps use it (shapes/dataprocess_pgp.c), loaded when
 * the first PGP step is deployed (lazylib.h): types, constants and inline helpers from <gpgme.h>,
 * functions from the table ma_gpgme under their usual names (the macros below). Include it instead
 * of <gpgme.h>, and call ma_gpgme_load before the first gpgme_ function. */
#ifndef MA_LAZY_GPGME_H
#define MA_LAZY_GPGME_H

#include <gpgme.h>

#include "miniatom/error.h"

/* every gpgme function miniatom calls */
/* clang-format off */
#define MA_GPGME_FUNCTIONS(X)                                                                                \
    X(check_version_internal) X(engine_check_version) X(strerror) X(new) X(release) X(set_protocol)          \
    X(ctx_set_engine_info) X(set_pinentry_mode) X(set_offline) X(set_armor) X(set_passphrase_cb)             \
    X(io_writen) X(data_new) X(data_new_from_mem) X(data_release) X(data_release_and_get_mem) X(free)        \
    X(op_import) X(op_import_result) X(get_key) X(key_unref) X(signers_add) X(op_encrypt)                    \
    X(op_encrypt_sign) X(op_sign) X(op_decrypt_verify) X(op_decrypt_result) X(op_verify_result)
/* clang-format on */

struct ma_gpgme_functions {
#define MA_GPGME_FIELD(f) __typeof__(&gpgme_##f) f;
    MA_GPGME_FUNCTIONS(MA_GPGME_FIELD)
#undef MA_GPGME_FIELD
};
extern struct ma_gpgme_functions ma_gpgme; /* filled by ma_gpgme_load */

/* Loads gpgme (libgpgme.so.11, Debian package libgpgme11) once. 0, or -1 with err naming the
 * package to install. */
int ma_gpgme_load(ma_error *err);

#define gpgme_check_version_internal ma_gpgme.check_version_internal
#define gpgme_engine_check_version ma_gpgme.engine_check_version
#define gpgme_strerror ma_gpgme.strerror
#define gpgme_new ma_gpgme.new
#define gpgme_release ma_gpgme.release
#define gpgme_set_protocol ma_gpgme.set_protocol
#define gpgme_ctx_set_engine_info ma_gpgme.ctx_set_engine_info
#define gpgme_set_pinentry_mode ma_gpgme.set_pinentry_mode
#define gpgme_set_offline ma_gpgme.set_offline
#define gpgme_set_armor ma_gpgme.set_armor
#define gpgme_set_passphrase_cb ma_gpgme.set_passphrase_cb
#define gpgme_io_writen ma_gpgme.io_writen
#define gpgme_data_new ma_gpgme.data_new
#define gpgme_data_new_from_mem ma_gpgme.data_new_from_mem
#define gpgme_data_release ma_gpgme.data_release
#define gpgme_data_release_and_get_mem ma_gpgme.data_release_and_get_mem
#define gpgme_free ma_gpgme.free
#define gpgme_op_import ma_gpgme.op_import
#define gpgme_op_import_result ma_gpgme.op_import_result
#define gpgme_get_key ma_gpgme.get_key
#define gpgme_key_unref ma_gpgme.key_unref
#define gpgme_signers_add ma_gpgme.signers_add
#define gpgme_op_encrypt ma_gpgme.op_encrypt
#define gpgme_op_encrypt_sign ma_gpgme.op_encrypt_sign
#define gpgme_op_sign ma_gpgme.op_sign
#define gpgme_op_decrypt_verify ma_gpgme.op_decrypt_verify
#define gpgme_op_decrypt_result ma_gpgme.op_decrypt_result
#define gpgme_op_verify_result ma_gpgme.op_verify_result

#endif
