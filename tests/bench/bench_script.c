/* bench_script.c - the script host's cost (tests/bench/script_bench.sh): the cold start of the first
 * script run (JVM up, Groovy compile), then on the warm host the corpus's pass-through Groovy script
 * (RenEra process_doccacheretrieve_loadalldoc_variant) over batches of N documents of SIZE bytes
 * (documents per second), and the round trip of a one-document batch (the per-batch overhead).
 * It measures and prints; it asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miniatom/helpers.h"
#include "scripthost.h"

static const char PASS[] = "import java.util.Properties;\n"
                           "import java.io.InputStream;\n"
                           "\n"
                           "for( int i = 0; i < dataContext.getDataCount(); i++ ) {\n"
                           "    InputStream is = dataContext.getStream(i);\n"
                           "    Properties props = dataContext.getProperties(i);\n"
                           "\n"
                           "    dataContext.storeStream(is, props);\n"
                           "}";

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run(const ma_script_cfg *cfg, const ma_script_run_ctx *ctx, const ma_batch *in, size_t want)
{
    ma_script_result res;
    ma_error err;
    if (ma_script_run(cfg, "groovy2", PASS, ctx, in, &res, &err) < 0) {
        fprintf(stderr, "bench_script: %s\n", err.msg);
        return -1;
    }
    int bad = res.failed || res.out.len != want;
    if (bad) fprintf(stderr, "bench_script: %s (%zu documents)\n", res.message ? res.message : "", res.out.len);
    ma_script_result_free(&res);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    size_t size = argc > 2 ? strtoul(argv[2], NULL, 10) : 1024;
    int rounds = argc > 3 ? atoi(argv[3]) : 7;
    int trips = argc > 4 ? atoi(argv[4]) : 2000;
    if (rounds < 1 || rounds > 100) rounds = 7;
    ma_script_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    ma_error err;
    if (ma_config_read(ma_script_config_map, MA_SCRIPT_PREFIX, NULL, &cfg, &err) < 0) return 1;
    cfg.jar = getenv("MA_SCRIPTHOST_JAR") ? getenv("MA_SCRIPTHOST_JAR") : "";
    char why[700];
    if (!ma_script_available(&cfg, why, sizeof why)) {
        fprintf(stderr, "bench_script: %s\n", why);
        return 1;
    }
    ma_script_run_ctx ctx = {.execution_id = "bench", .process_id = "bench", .process_name = "bench"};
    char *data = malloc(size);
    if (!data) return 1;
    for (size_t i = 0; i < size; i++) data[i] = (char)('a' + i % 26);
    ma_batch big, one;
    ma_batch_init(&big);
    ma_batch_init(&one);
    for (size_t i = 0; i < n; i++) {
        ma_doc *d = ma_doc_new(data, size);
        if (!d || ma_doc_set_prop(&d, "dynamicdocument.DDP_N", "1") < 0 || ma_batch_push(&big, d) < 0) return 1;
    }
    ma_batch_push(&one, ma_doc_new("x", 1));

    uint64_t t0 = ma_now_ns();
    if (run(&cfg, &ctx, &one, 1) < 0) return 1;
    double cold = (double)(ma_now_ns() - t0) / 1e6;
    printf("cold start: first run %.0f ms (JVM ready after %llu ms; the rest is the Groovy compile and first run)\n",
           cold, (unsigned long long)ma_script_host_last_start_ms());

    /* warm-up: the JIT compiles the host's paths */
    for (int r = 0; r < 3; r++)
        if (run(&cfg, &ctx, &big, n) < 0) return 1;
    double *rate = calloc((size_t)rounds, sizeof *rate);
    for (int r = 0; r < rounds; r++) {
        uint64_t t = ma_now_ns();
        if (run(&cfg, &ctx, &big, n) < 0) return 1;
        rate[r] = (double)n / ((double)(ma_now_ns() - t) / 1e9);
    }
    qsort(rate, (size_t)rounds, sizeof *rate, cmp);
    printf("pass-through, %zu documents of %zu bytes per batch: median %.0f documents/s (best %.0f, worst %.0f; %d "
           "batches)\n",
           n, size, rate[rounds / 2], rate[rounds - 1], rate[0], rounds);

    for (int r = 0; r < 200; r++)
        if (run(&cfg, &ctx, &one, 1) < 0) return 1;
    uint64_t t = ma_now_ns();
    for (int r = 0; r < trips; r++)
        if (run(&cfg, &ctx, &one, 1) < 0) return 1;
    printf("round trip of a one-document batch: %.1f us (mean of %d)\n",
           (double)(ma_now_ns() - t) / 1e3 / trips, trips);
    printf("host starts: %u\n", ma_script_host_starts());
    free(rate);
    free(data);
    ma_batch_clear(&big);
    ma_batch_clear(&one);
    ma_script_host_stop();
    return 0;
}
