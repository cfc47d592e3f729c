/* bench_executor.c - executor throughput: the 20-shape process in deploy/throughput-20.xml (Set
 * Properties, Decision, Message, Branch) over N small documents, on one thread. Prints the number
 * of shape-document steps (documents entering shapes) per second, best of R rounds.
 * Usage: bench_executor DEPLOY_DIR [DOCS=10000] [ROUNDS=5] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "executor.h"
#include "loader.h"
#include "builtins.h"
#include "registry.h"
#include "util.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DEPLOY_DIR [DOCS] [ROUNDS]\n", argv[0]);
        return 2;
    }
    size_t ndocs = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    xmlInitParser();
    ma_error err;
    ma_registry *reg = ma_builtins_registry(&err);
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    if (!reg || !dep || ma_deploy_add_dir(dep, argv[1], &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    ma_component *c = ma_deploy_find_process(dep, "Throughput 20");
    if (!c || ma_deploy_compile_process(dep, c) < 0) {
        fprintf(stderr, "Throughput 20 is not runnable\n");
        return 1;
    }
    ma_batch in;
    ma_batch_init(&in);
    for (size_t i = 0; i < ndocs; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%zu", 100000 + i);
        ma_batch_push(&in, ma_doc_new(buf, (size_t)n));
    }
    ma_run_opts o = {.general_mode = 0, .retry_scale = 0, .data_dir = "/tmp"};
    double best = 0;
    size_t steps = 0;
    for (int r = 0; r < rounds; r++) {
        ma_result res;
        uint64_t t0 = ma_now_ns();
        if (ma_execute(dep, c->process, &in, &o, &res, &err) < 0 || res.status != MA_STATUS_COMPLETE) {
            fprintf(stderr, "execution failed: %s\n", res.message ? res.message : err.msg);
            return 1;
        }
        double secs = (double)(ma_now_ns() - t0) / 1e9;
        steps = 0;
        for (size_t i = 0; i < res.n_counts; i++) steps += res.counts[i];
        double rate = (double)steps / secs;
        if (rate > best) best = rate;
        ma_result_free(&res);
    }
    printf("shapes: %zu, documents: %zu, shape-document steps per execution: %zu\n", c->process->n_shapes, ndocs, steps);
    printf("best of %d: %.0f shape-document steps/s (%.1f ns per step)\n", rounds, best, 1e9 / best);
    ma_batch_clear(&in);
    ma_deploy_free(dep);
    ma_registry_free(reg);
    xmlCleanupParser();
    return 0;
}
