/* upper.c - an out-of-tree shape plugin, built by tests/plugin/run.sh and outoftree.sh from the
 * installed headers alone (pkg-config miniatom): shapetype "uppercase" upper-cases each document's
 * data, adds the shape's `suffix` configuration attribute and records itself in a dynamic document
 * property. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "miniatom/miniatom.h"

static int up_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err)
{
    char *suffix = ma_xml_attr(config, "suffix"); /* NULL when absent (or config is NULL) */
    if (!suffix && !(suffix = ma_strdup(""))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_shape_set_data(shape, suffix);
    return ma_shape_declare_output(shape, NULL, err) < 0 ? -1 : 0;
}

static int up_execute(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_outputs *out, ma_error *err)
{
    const char *suffix = ma_shape_data(shape);
    for (size_t i = 0; i < in->len; i++) {
        size_t len;
        const char *data = ma_doc_data(in->docs[i], &len);
        char *up = malloc(len + strlen(suffix) + 1);
        if (!up) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        for (size_t k = 0; k < len; k++) up[k] = (char)toupper((unsigned char)data[k]);
        strcpy(up + len, suffix);
        ma_doc *d = ma_doc_derive_owned(in->docs[i], up, len + strlen(suffix));
        if (!d || ma_doc_set_prop(&d, "dynamicdocument.PLUGIN", "uppercase") < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        ma_exec_log(ex, shape, MA_LOG_INFO, "upper-cased %zu bytes", len);
        if (ma_outputs_emit(out, 0, d) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static void up_destroy(ma_shape *shape) { free(ma_shape_data(shape)); }

static const ma_shape_type upper_type = {
    .name = "uppercase",
#ifdef WRONG_ABI
    .abi_version = MA_ABI_VERSION + 100,
#else
    .abi_version = MA_ABI_VERSION,
#endif
    .compile = up_compile,
    .execute = up_execute,
    .destroy = up_destroy,
};

int ma_plugin_register(ma_registry *reg, ma_error *err) { return ma_registry_add_shape(reg, &upper_type, err); }
