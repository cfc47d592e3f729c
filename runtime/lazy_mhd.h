/* lazy_mhd.h - libmicrohttpd as `miniatom serve` uses it (server_http.c), loaded when the server
 * starts listening (lazylib.h): its types, enums and callback signatures come from <microhttpd.h>,
 * its functions from the table ma_mhd, under their usual names (the macros below). Include it
 * instead of <microhttpd.h>, and call ma_mhd_load before the first MHD_ function. */
#ifndef MA_LAZY_MHD_H
#define MA_LAZY_MHD_H

#include <microhttpd.h>

#include "miniatom/error.h"

/* every libmicrohttpd function miniatom calls */
/* clang-format off */
#define MA_MHD_FUNCTIONS(X)                                                                                  \
    X(start_daemon) X(stop_daemon) X(quiesce_daemon) X(get_daemon_info) X(is_feature_supported)              \
    X(get_connection_info) X(get_connection_values) X(lookup_connection_value)                               \
    X(basic_auth_get_username_password) X(free) X(suspend_connection) X(resume_connection)                   \
    X(create_response_from_buffer) X(add_response_header) X(queue_response) X(destroy_response)
/* clang-format on */

struct ma_mhd_functions {
#define MA_MHD_FIELD(f) __typeof__(&MHD_##f) f;
    MA_MHD_FUNCTIONS(MA_MHD_FIELD)
#undef MA_MHD_FIELD
};
extern struct ma_mhd_functions ma_mhd; /* filled by ma_mhd_load */

/* Loads libmicrohttpd (libmicrohttpd.so.12, Debian package libmicrohttpd12) once; it maps GnuTLS
 * with it. 0, or -1 with err naming the package to install. */
int ma_mhd_load(ma_error *err);

#define MHD_start_daemon ma_mhd.start_daemon
#define MHD_stop_daemon ma_mhd.stop_daemon
#define MHD_quiesce_daemon ma_mhd.quiesce_daemon
#define MHD_get_daemon_info ma_mhd.get_daemon_info
#define MHD_is_feature_supported ma_mhd.is_feature_supported
#define MHD_get_connection_info ma_mhd.get_connection_info
#define MHD_get_connection_values ma_mhd.get_connection_values
#define MHD_lookup_connection_value ma_mhd.lookup_connection_value
#define MHD_basic_auth_get_username_password ma_mhd.basic_auth_get_username_password
#define MHD_free ma_mhd.free
#define MHD_suspend_connection ma_mhd.suspend_connection
#define MHD_resume_connection ma_mhd.resume_connection
#define MHD_create_response_from_buffer ma_mhd.create_response_from_buffer
#define MHD_add_response_header ma_mhd.add_response_header
#define MHD_queue_response ma_mhd.queue_response
#define MHD_destroy_response ma_mhd.destroy_response

#endif
