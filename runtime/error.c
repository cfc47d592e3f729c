/* error.c - filling ma_error values (miniatom/error.h). */
#include "miniatom/error.h"

#include <stdio.h>
#include <string.h>

int ma_error_vset(ma_error *err, int code, const char *fmt, va_list ap)
{
    if (!err) return -1;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return -1;
}

int ma_error_set(ma_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ma_error_vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

void ma_error_prefix(ma_error *err, const char *fmt, ...)
{
    if (!err) return;
    char pre[MA_ERROR_MAX], old[MA_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* both parts together may be longer than the message: cut the end */
    size_t n = strlen(pre);
    if (n > sizeof err->msg - 3) n = sizeof err->msg - 3;
    memcpy(err->msg, pre, n);
    memcpy(err->msg + n, ": ", 2);
    size_t rest = sizeof err->msg - n - 3;
    size_t ol = strnlen(old, rest);
    memcpy(err->msg + n + 2, old, ol);
    err->msg[n + 2 + ol] = '\0';
}

void ma_error_clear(ma_error *err)
{
    if (!err) return;
    err->code = MA_OK;
    err->msg[0] = '\0';
}
