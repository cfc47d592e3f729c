/* fuzz_loader.c - libFuzzer target for the component loader and the process compiler: any bytes
 * go through the secure XML parse, the envelope checks and, when they form a process, the whole
 * compile (shape configurations, parameters, dragpoints). Nothing may crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include <libxml/parser.h>

#include "loader.h"
#include "builtins.h"
#include "registry.h"

static ma_registry *reg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reg) {
        ma_error err;
        xmlInitParser();
        reg = ma_builtins_registry(&err);
        if (!reg) return 0;
    }
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    if (!dep) return 0;
    ma_error err;
    if (ma_deploy_add_buffer(dep, (const char *)data, size, "fuzz.xml", &err) == 0) ma_deploy_compile(dep);
    for (size_t i = 0; i < dep->n_problems; i++) {
        char *line = ma_problem_format(&dep->problems[i]);
        free(line);
    }
    ma_deploy_free(dep);
    return 0;
}
