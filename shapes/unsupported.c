/* unsupported.c - shape types this runtime knows but cannot run yet. They are registered so that
 * `miniatom check` names them precisely and `run`/`serve` refuse the process with the reason:
 * cleanse. */
#include <stdlib.h>

#include "shapes_common.h"
#include "util.h"

static int cleanse_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    return ma_error_set(err, MA_ERR_UNSUPPORTED, "cleanse shapes are not supported by this runtime");
}

static int never(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    return ma_error_set(err, MA_ERR_UNSUPPORTED, "shapetype %s cannot run", ma_shape_type_name(s));
}

const ma_shape_type ma_shape_cleanse = {.name = "cleanse",
                                        .abi_version = MA_ABI_VERSION,
                                        .traits = MA_SHAPE_IN_MEMORY,
                                        .compile = cleanse_compile,
                                        .execute = never};
