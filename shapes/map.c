/* map.c - the Map shape (boomi-atom-semantics.md 2 "Map"; issue 3): <map mapId="ID"/> resolves ID
 * at deploy to an XSLT component or a Boomi Map component compiled to XSLT (runtime/xslt.c), one
 * stylesheet per deployment shared by every shape, execution and thread. Each document is
 * transformed on its own: a document the stylesheet fails on (runtime error, xsl:message
 * terminate="yes", invalid input or JSON result, no output) fails alone, so a Try/Catch around the
 * map catches it, and the other documents go on. */
#include <stdlib.h>

#include "shapes_common.h"
#include "util.h"
#include "xslt.h"

static int map_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "map")) return ma_error_set(err, MA_ERR_CONFIG, "expected a <map mapId=\"...\"/> configuration");
    char *id = ma_xml_attr(c, "mapId");
    const ma_xslt *x = id && *id ? ma_xslt_for(ma_shape_deploy(s), id, err) : NULL;
    if (!id || !*id) ma_error_set(err, MA_ERR_CONFIG, "the map shape names no mapId");
    free(id);
    if (!x) return -1;
    ma_shape_set_data(s, (void *)x); /* borrowed: owned by the map's component */
    return ma_shape_declare_output(s, NULL, err) < 0 ? -1 : 0;
}

static int map_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    const ma_xslt *x = ma_shape_data(s);
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *res = NULL;
        int rc = ma_xslt_apply(x, ex, in->docs[i], &res, err);
        if (rc < 0) return -1;
        if (rc > 0) {
            if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "%s", err->msg) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            ma_error_clear(err);
            continue;
        }
        if (ma_outputs_emit(out, 0, res) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

const ma_shape_type ma_shape_map = {
    .name = "map",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = map_compile,
    .execute = map_execute,
};
