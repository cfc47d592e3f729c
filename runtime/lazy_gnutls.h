/* lazy_gnutls.h - GnuTLS as `miniatom serve` uses it outside libmicrohttpd (server_auth.c: token
 * hashes, random numbers, the HMAC of the credentials cache, client certificates; server_config.c:
 * the check of the certificate and key), loaded when first needed (lazylib.h): types and constants
 * from the GnuTLS headers, functions from the table ma_gnutls under their usual names (the macros
 * below). Include it after the GnuTLS headers, and call ma_gnutls_load before the first gnutls_
 * function. */
#ifndef MA_LAZY_GNUTLS_H
#define MA_LAZY_GNUTLS_H

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "miniatom/error.h"

/* every GnuTLS function miniatom calls */
/* clang-format off */
#define MA_GNUTLS_FUNCTIONS(X)                                                                               \
    X(pbkdf2) X(rnd) X(hmac_fast) X(strerror)                                                                \
    X(certificate_verify_peers2) X(certificate_get_peers)                                                    \
    X(certificate_allocate_credentials) X(certificate_free_credentials)                                      \
    X(certificate_set_x509_key_mem) X(certificate_set_x509_trust_mem)                                        \
    X(x509_crt_init) X(x509_crt_import) X(x509_crt_get_dn3) X(x509_crt_deinit)
/* clang-format on */

struct ma_gnutls_functions {
#define MA_GNUTLS_FIELD(f) __typeof__(&gnutls_##f) f;
    MA_GNUTLS_FUNCTIONS(MA_GNUTLS_FIELD)
#undef MA_GNUTLS_FIELD
    gnutls_free_function *free_fn; /* gnutls_free is a variable: the function GnuTLS frees with */
};
extern struct ma_gnutls_functions ma_gnutls; /* filled by ma_gnutls_load */

/* Loads GnuTLS (libgnutls.so.30, Debian package libgnutls30) once. 0, or -1 with err (may be NULL)
 * naming the package to install. */
int ma_gnutls_load(ma_error *err);

#define gnutls_pbkdf2 ma_gnutls.pbkdf2
#define gnutls_rnd ma_gnutls.rnd
#define gnutls_hmac_fast ma_gnutls.hmac_fast
#define gnutls_strerror ma_gnutls.strerror
#define gnutls_certificate_verify_peers2 ma_gnutls.certificate_verify_peers2
#define gnutls_certificate_get_peers ma_gnutls.certificate_get_peers
#define gnutls_certificate_allocate_credentials ma_gnutls.certificate_allocate_credentials
#define gnutls_certificate_free_credentials ma_gnutls.certificate_free_credentials
#define gnutls_certificate_set_x509_key_mem ma_gnutls.certificate_set_x509_key_mem
#define gnutls_certificate_set_x509_trust_mem ma_gnutls.certificate_set_x509_trust_mem
#define gnutls_x509_crt_init ma_gnutls.x509_crt_init
#define gnutls_x509_crt_import ma_gnutls.x509_crt_import
#define gnutls_x509_crt_get_dn3 ma_gnutls.x509_crt_get_dn3
#define gnutls_x509_crt_deinit ma_gnutls.x509_crt_deinit
#undef gnutls_free
#define gnutls_free (*ma_gnutls.free_fn)

#endif
