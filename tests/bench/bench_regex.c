/* bench_regex.c - regular expression throughput (tests/bench/regex_bench.sh; figures in
 * tests/bench/README.md "Regular expressions"): the regex comparison of Decision and Route
 * (ma_cmp_init once, ma_cmp_eval per value: whole-value matches per second) and a Data Process
 * Search/Replace step run by the executor over documents (MB/s). It uses only what every build
 * since the POSIX translator has (compare.h, the executor), so that one source measures the builds
 * before and after PCRE2 alike. It measures and prints; it asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "compare.h"
#include "executor.h"
#include "loader.h"
#include "registry.h"

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Whole-value matches per second of pattern on value (the median of rounds). */
static void bench_cmp(const char *name, const char *pattern, const char *value, int want, long iters, int rounds)
{
    ma_cmp c;
    ma_error err;
    if (ma_cmp_init(&c, MA_CMP_REGEX, pattern, &err) < 0) {
        printf("%-34s refused: %s\n", name, err.msg);
        return;
    }
    if (ma_cmp_eval(&c, value, pattern, &err) != want) {
        printf("%-34s WRONG RESULT\n", name);
        ma_cmp_free(&c);
        return;
    }
    double rate[32];
    for (int r = 0; r < rounds; r++) {
        uint64_t t = ma_now_ns();
        long hits = 0;
        for (long i = 0; i < iters; i++) hits += ma_cmp_eval(&c, value, pattern, &err);
        rate[r] = (double)iters / ((double)(ma_now_ns() - t) / 1e9);
        if (hits != (want ? iters : 0)) printf("(miscount)\n");
    }
    qsort(rate, (size_t)rounds, sizeof *rate, cmpd);
    printf("%-34s %12.0f matches/s (value of %zu bytes)\n", name, rate[rounds / 2], strlen(value));
    ma_cmp_free(&c);
}

static const char PROCESS[] =
    "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"bench\" name=\"Regex bench\" "
    "type=\"process\"><bns:object><process xmlns=\"\"><shapes>"
    "<shape name=\"shape1\" shapetype=\"start\"><configuration><passthroughaction/></configuration>"
    "<dragpoints><dragpoint toShape=\"shape2\"/></dragpoints></shape>"
    "<shape name=\"shape2\" shapetype=\"dataprocess\"><configuration><dataprocess>"
    "<step index=\"1\" processtype=\"1\"><dataprocessreplace texttofind=\"%s\" replacewith=\"%s\" "
    "searchType=\"document\"/></step></dataprocess></configuration><dragpoints/></shape>"
    "</shapes></process></bns:object></bns:Component>";

/* Search/Replace over n documents of data: MB/s of input (the median of rounds). */
static void bench_replace(ma_registry *reg, const char *name, const char *find, const char *repl, const char *data,
                          size_t n, int rounds)
{
    char xml[4096];
    snprintf(xml, sizeof xml, PROCESS, find, repl);
    ma_error err;
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    if (!dep || ma_deploy_add_buffer(dep, xml, strlen(xml), "bench.xml", &err) < 0) return;
    if (ma_deploy_compile(dep) > 0) {
        char *why = ma_problem_format(&dep->problems[0]);
        printf("%-34s refused: %s\n", name, why ? why : "");
        free(why);
        ma_deploy_free(dep);
        return;
    }
    size_t len = strlen(data);
    double rate[32];
    for (int r = 0; r < rounds; r++) {
        ma_batch in;
        ma_batch_init(&in);
        for (size_t i = 0; i < n; i++) ma_batch_push(&in, ma_doc_new(data, len));
        ma_run_opts o = {.retry_scale = 0, .data_dir = "/nonexistent-miniatom-bench", .atom_name = "bench"};
        ma_result res;
        uint64_t t = ma_now_ns();
        if (ma_execute(dep, ma_deploy_find(dep, "bench")->process, &in, &o, &res, &err) < 0 ||
            res.status != MA_STATUS_COMPLETE || res.docs.len != n) {
            printf("%-34s failed: %s\n", name, err.msg);
            ma_batch_clear(&in);
            ma_deploy_free(dep);
            return;
        }
        rate[r] = (double)(len * n) / 1e6 / ((double)(ma_now_ns() - t) / 1e9);
        ma_result_free(&res);
        ma_batch_clear(&in);
    }
    qsort(rate, (size_t)rounds, sizeof *rate, cmpd);
    printf("%-34s %12.1f MB/s (%zu documents of %zu bytes)\n", name, rate[rounds / 2], n, len);
    ma_deploy_free(dep);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (rounds < 1 || rounds > 32) rounds = 5;
    ma_error err;
    ma_registry *reg = ma_builtins_registry(&err);
    if (!reg) {
        fprintf(stderr, "bench_regex: %s\n", err.msg);
        return 1;
    }
    /* a 1 KB text with "container" near its end, lines of words */
    char text[1100];
    size_t k = 0;
    while (k < 1000) k += (size_t)snprintf(text + k, sizeof text - k, "word%zu and more text\n", k);
    snprintf(text + k, sizeof text - k, "the container\n");
    bench_cmp("regex ORD-\\d+ (match)", "ORD-\\d+", "ORD-1234567", 1, iters, rounds);
    bench_cmp("regex ORD-\\d+ (no match)", "ORD-\\d+", "XORD-1234567", 0, iters, rounds);
    bench_cmp("regex [A-Z]{3}-[0-9]{4}-.*", "[A-Z]{3}-[0-9]{4}-.*", "ABC-1234-some trailing text", 1, iters, rounds);
    bench_cmp("regex (?i)(yes|true|y|1)", "(?i)(yes|true|y|1)", "TRUE", 1, iters, rounds);
    bench_cmp("regex (?s).*container.* (1 KB)", "(?s).*container.*", text, 1, iters / 10, rounds);
    bench_cmp("regex (?s).*?container.*? (1 KB)", "(?s).*?container.*?", text, 1, iters / 10, rounds);
    /* Search/Replace over 100 documents of 100 KB */
    size_t big = 100 * 1024;
    char *doc = malloc(big + 1);
    if (!doc) return 1;
    for (size_t i = 0; i < big; i++) doc[i] = "call 555-1234 or mail bob@example.com, then the ORD-42 report. "[i % 63];
    doc[big] = '\0';
    bench_replace(reg, "replace a literal (foo)", "example", "sample", doc, 100, rounds);
    bench_replace(reg, "replace (\\d{3})-(\\d{4}) by $2-$1", "(\\d{3})-(\\d{4})", "$2-$1", doc, 100, rounds);
    bench_replace(reg, "replace (\\w+)@(\\w+) by $2 at $1", "(\\w+)@(\\w+)", "$2 at $1", doc, 100, rounds);
    bench_replace(reg, "replace \\s+ by one space", "\\s+", " ", doc, 100, rounds);
    free(doc);
    ma_registry_free(reg);
    return 0;
}
