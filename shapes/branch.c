/* branch.c - the Branch shape (boomi-atom-semantics.md 1.5): every document goes down every path;
 * paths 1..N run in order, each to completion before the next. The executor keeps the copies
 * apart (copy-on-write documents) and holds back documents that failed on an earlier path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "shapes_common.h"
#include "util.h"

#define MAX_BRANCHES 25

static int branch_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    char *nb = ma_xml_attr((const xmlNode *)config, "numBranches");
    char *end = NULL;
    long n = nb ? strtol(nb, &end, 10) : 0;
    int ok = nb && *nb && !*end && n >= 1 && n <= MAX_BRANCHES;
    if (!ok) {
        ma_error_set(err, MA_ERR_CONFIG, "numBranches '%s' is not a number from 1 to %d", nb ? nb : "", MAX_BRANCHES);
        free(nb);
        return -1;
    }
    free(nb);
    for (long i = 1; i <= n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%ld", i);
        if (ma_shape_declare_output(s, id, err) < 0) return -1;
    }
    ma_shape_set_data(s, (void *)(intptr_t)n);
    return 0;
}

static int branch_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    int n = (int)(intptr_t)ma_shape_data(s);
    for (int p = 0; p < n; p++)
        for (size_t i = 0; i < in->len; i++)
            if (ma_outputs_emit(out, p, ma_doc_ref(in->docs[i])) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return 0;
}

const ma_shape_type ma_shape_branch = {
    .name = "branch",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = branch_compile,
    .execute = branch_execute,
};
