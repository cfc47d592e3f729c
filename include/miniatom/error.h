/* miniatom/error.h - the error value every mini-Atom function fills on failure.
 *
 * Convention: functions return 0 (or a non-NULL pointer) on success and -1 (or NULL) on failure,
 * with the caller's ma_error filled with a code and a message that says where and why.
 * An ma_error owns no heap memory; it can live on the stack. */
#ifndef MINIATOM_ERROR_H
#define MINIATOM_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MA_ERROR_MAX 1024

typedef enum ma_error_code {
    MA_OK = 0,
    MA_ERR_GENERIC,     /* anything else */
    MA_ERR_NOMEM,       /* an allocation failed */
    MA_ERR_PARSE,       /* input is not well-formed (XML, JSON, template) */
    MA_ERR_REF,         /* a reference to a component or shape does not resolve */
    MA_ERR_CONFIG,      /* a configuration value is invalid */
    MA_ERR_UNSUPPORTED, /* valid, but this runtime cannot run it */
    MA_ERR_IO,          /* a file or network operation failed */
    MA_ERR_USAGE,       /* a caller passed wrong arguments */
    MA_ERR_LIMIT,       /* a size or count limit was exceeded */
    MA_ERR_RUNTIME,     /* a failure while executing a process */
    MA_ERR_ABI          /* a plugin was built against another ABI version */
} ma_error_code;

typedef struct ma_error {
    int code;               /* ma_error_code */
    char msg[MA_ERROR_MAX]; /* NUL-terminated, never contains secrets */
} ma_error;

/* Sets code and message (printf-style). err may be NULL. Returns -1 so that
 * `return ma_error_set(err, ...);` reads naturally. */
int ma_error_set(ma_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ma_error_vset(ma_error *err, int code, const char *fmt, va_list ap);

/* Prepends "PREFIX: " to the message already in err (keeps the code). */
void ma_error_prefix(ma_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void ma_error_clear(ma_error *err);

#ifdef __cplusplus
}
#endif
#endif
