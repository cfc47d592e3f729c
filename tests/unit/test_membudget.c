/* test_membudget.c - execution budgets (runtime/membudget.c, docs/decisions/015-execution-budgets.md):
 * what a thread allocates through the accounting allocator is counted to its budget and freed from
 * it; over the budget the execution stops and large blocks are refused; memory freed on another
 * thread or after the end never wraps a figure; the server's total; the deadline and the cancel flag;
 * the thread's stopper is called; and a map's transform stops at its deadline and budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "builtins.h"
#include "executor.h"
#include "loader.h"
#include "membudget.h"
#include "miniatom/miniatom.h"
#include "registry.h"

static int64_t used(const ma_budget *b) { return __atomic_load_n(&b->used, __ATOMIC_RELAXED); }

static void counts_and_frees(void **state)
{
    (void)state;
    ma_budget b;
    ma_budget_init(&b, 0, 0, NULL);
    ma_budget *prev = ma_budget_enter(&b);
    assert_ptr_equal(ma_budget_current(), &b);
    void *p[64];
    for (int i = 0; i < 64; i++) assert_non_null(p[i] = ma_budget_malloc(4096));
    p[0] = ma_budget_realloc(p[0], 100000);
    assert_non_null(p[0]);
    char *s = ma_budget_strdup("budget");
    assert_string_equal(s, "budget");
    ma_budget_leave(prev); /* what the thread counted reaches the budget */
    assert_true(used(&b) >= 63 * 4096 + 100000);
    assert_true(b.peak >= used(&b));
    assert_true(ma_membudget_server_used() >= (uint64_t)used(&b));
    prev = ma_budget_enter(&b);
    for (int i = 0; i < 64; i++) ma_budget_free(p[i]);
    free(s); /* no header: the C library's free takes the blocks too */
    ma_budget_leave(prev);
    assert_true(used(&b) <= (int64_t)sizeof(void *) * 8); /* the strdup given to free() is not subtracted */
    assert_int_equal(ma_budget_check(), MA_STOP_NONE);    /* no budget on this thread now */
    ma_budget_end(&b);
    assert_int_equal(used(&b), 0);
}

static int stopper_calls;
static void count_stop(void *arg)
{
    (void)arg;
    stopper_calls++;
}

static void over_budget_stops(void **state)
{
    (void)state;
    ma_budget b;
    ma_budget_init(&b, 1 << 20, 0, NULL);
    b.limit_key = "--max-memory";
    ma_budget *prev = ma_budget_enter(&b);
    stopper_calls = 0;
    ma_stopper old = ma_budget_set_stopper((ma_stopper){count_stop, NULL});
    void *small[300];
    size_t n = 0;
    while (n < 300 && ma_budget_check() == MA_STOP_NONE) assert_non_null(small[n++] = ma_budget_malloc(8192));
    assert_true(n < 300);
    assert_int_equal(ma_budget_check(), MA_STOP_MEMORY);
    assert_true(stopper_calls >= 1);
    assert_null(ma_budget_malloc(1 << 20)); /* a large block is refused over the budget */
    void *more = ma_budget_malloc(64);      /* a small one still comes, to unwind */
    assert_non_null(more);
    char msg[256];
    assert_string_equal(ma_budget_message(&b, msg, sizeof msg),
                        "the execution used more than its memory budget of 1 MB (--max-memory)");
    ma_budget_free(more);
    for (size_t i = 0; i < n; i++) ma_budget_free(small[i]);
    ma_budget_set_stopper(old);
    ma_budget_leave(prev);
    ma_budget_end(&b);
}

static void *free_there(void *arg)
{
    ma_budget other;
    ma_budget_init(&other, 0, 0, NULL);
    ma_budget *prev = ma_budget_enter(&other);
    ma_budget_free(arg); /* allocated by another execution: subtracted from this one */
    ma_budget_leave(prev);
    int64_t u = __atomic_load_n(&other.used, __ATOMIC_RELAXED);
    ma_budget_end(&other);
    return (void *)(intptr_t)(u < 0);
}

static void freed_elsewhere_never_wraps(void **state)
{
    (void)state;
    ma_budget b;
    ma_budget_init(&b, 1 << 20, 0, NULL);
    ma_budget *prev = ma_budget_enter(&b);
    void *p = ma_budget_malloc(200000);
    ma_budget_leave(prev);
    pthread_t th;
    void *negative = NULL;
    assert_int_equal(pthread_create(&th, NULL, free_there, p), 0);
    pthread_join(th, &negative);
    assert_true(negative != NULL); /* below zero, not a huge unsigned figure */
    assert_int_equal(b.stop, MA_STOP_NONE);
    ma_budget_end(&b);
    uint64_t before = ma_membudget_server_used();
    void *q = ma_budget_malloc(1000); /* no budget: not counted */
    ma_budget_free(q);
    assert_true(ma_membudget_server_used() == before);
}

static void server_budget(void **state)
{
    (void)state;
    ma_membudget_set_server_limit(2 << 20);
    ma_budget b;
    ma_budget_init(&b, 0, 0, NULL);
    ma_budget *prev = ma_budget_enter(&b);
    void *p[64];
    size_t n = 0;
    while (n < 64 && ma_budget_check() == MA_STOP_NONE) assert_non_null(p[n++] = ma_budget_malloc(60000));
    assert_int_equal(ma_budget_check(), MA_STOP_SERVER_MEMORY);
    ma_budget_leave(prev);
    assert_true(ma_membudget_server_full());
    char msg[256];
    assert_non_null(
        strstr(ma_budget_message(&b, msg, sizeof msg), "server's memory budget of 2 MB (server.max_memory)"));
    prev = ma_budget_enter(&b);
    for (size_t i = 0; i < n; i++) ma_budget_free(p[i]);
    ma_budget_leave(prev);
    ma_budget_end(&b);
    assert_false(ma_membudget_server_full());
    ma_membudget_set_server_limit(0);
}

static void deadline_and_cancel(void **state)
{
    (void)state;
    ma_budget b;
    ma_budget_init(&b, 0, ma_now_ns() - 1, NULL);
    ma_budget *prev = ma_budget_enter(&b);
    assert_int_equal(ma_budget_check(), MA_STOP_DEADLINE);
    ma_budget_leave(prev);
    ma_budget_end(&b);
    volatile int cancel = 0;
    ma_budget_init(&b, 0, 0, &cancel);
    prev = ma_budget_enter(&b);
    assert_int_equal(ma_budget_check(), MA_STOP_NONE);
    cancel = 1;
    assert_int_equal(ma_budget_check(), MA_STOP_CANCEL);
    ma_budget_leave(prev);
    ma_budget_end(&b);
}

/* ---- a map stopped inside its transform ---- */

/* Runs a passthrough process whose map (an XSLT component) has the template body on doc. */
static void run_map(const char *body, const char *doc, uint64_t timeout_ms, uint64_t max_memory, ma_result *res)
{
    char *map = NULL, *proc = NULL;
    assert_true(asprintf(&map,
                         "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"m1\" name=\"M\" "
                         "type=\"xslt\"><bns:object><xsl:stylesheet version=\"1.0\" "
                         "xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\">%s</xsl:stylesheet></bns:object>"
                         "</bns:Component>",
                         body) > 0);
    assert_true(asprintf(&proc,
                         "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"p1\" name=\"P\" "
                         "type=\"process\"><bns:object><process xmlns=\"\"><shapes>"
                         "<shape name=\"shape1\" shapetype=\"start\"><configuration><passthroughaction/>"
                         "</configuration><dragpoints><dragpoint toShape=\"shape2\"/></dragpoints></shape>"
                         "<shape name=\"shape2\" shapetype=\"map\"><configuration><map mapId=\"m1\"/></configuration>"
                         "<dragpoints><dragpoint toShape=\"shape3\"/></dragpoints></shape>"
                         "<shape name=\"shape3\" shapetype=\"stop\"><configuration><stop continue=\"true\"/>"
                         "</configuration><dragpoints/></shape></shapes></process></bns:object></bns:Component>") > 0);
    ma_error err;
    ma_registry *reg = ma_builtins_registry(&err);
    assert_non_null(reg);
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    assert_int_equal(ma_deploy_add_buffer(dep, map, strlen(map), "m.xml", &err), 0);
    assert_int_equal(ma_deploy_add_buffer(dep, proc, strlen(proc), "p.xml", &err), 0);
    free(map);
    free(proc);
    if (ma_deploy_compile(dep) != 0) fail_msg("not runnable: %s", ma_problem_format(&dep->problems[0]));
    ma_batch in;
    ma_batch_init(&in);
    assert_int_equal(ma_batch_push(&in, ma_doc_new(doc, strlen(doc))), 0);
    ma_run_opts o = {.general_mode = 0,
                     .retry_scale = 0,
                     .data_dir = "/nonexistent-miniatom-test",
                     .timeout_ms = timeout_ms,
                     .max_memory = max_memory};
    assert_int_equal(ma_execute(dep, ma_deploy_find(dep, "p1")->process, &in, &o, res, &err), 0);
    ma_batch_clear(&in);
    ma_deploy_free(dep);
    ma_registry_free(reg);
}

static void map_stopped_at_deadline(void **state)
{
    (void)state;
    /* a recursion that allocates little and never ends by itself: 2^40 calls */
    const char *body =
        "<xsl:template match=\"/\"><r><xsl:call-template name=\"t\"><xsl:with-param name=\"d\" "
        "select=\"40\"/></xsl:call-template></r></xsl:template><xsl:template name=\"t\"><xsl:param "
        "name=\"d\"/><xsl:if test=\"$d &gt; 0\"><xsl:call-template name=\"t\"><xsl:with-param "
        "name=\"d\" select=\"$d - 1\"/></xsl:call-template><xsl:call-template name=\"t\"><xsl:with-param "
        "name=\"d\" select=\"$d - 1\"/></xsl:call-template></xsl:if></xsl:template>";
    ma_result res;
    run_map(body, "<a/>", 200, 0, &res);
    assert_int_equal(res.status, MA_STATUS_ABORTED);
    assert_int_equal(res.stop, MA_STOP_DEADLINE);
    assert_true(res.duration_ns < 20ull * 1000000000ull); /* not 2^40 calls */
    ma_result_free(&res);
}

static void map_stopped_at_budget(void **state)
{
    (void)state;
    const char *body = "<xsl:template match=\"/\"><r><xsl:call-template name=\"t\"><xsl:with-param name=\"s\" "
                       "select=\"'0123456789abcdef'\"/><xsl:with-param name=\"k\" select=\"40\"/></xsl:call-template>"
                       "</r></xsl:template><xsl:template name=\"t\"><xsl:param name=\"s\"/><xsl:param name=\"k\"/>"
                       "<xsl:choose><xsl:when test=\"$k = 0\"><xsl:value-of select=\"string-length($s)\"/></xsl:when>"
                       "<xsl:otherwise><xsl:call-template name=\"t\"><xsl:with-param name=\"s\" select=\"concat($s, "
                       "$s)\"/><xsl:with-param name=\"k\" select=\"$k - 1\"/></xsl:call-template></xsl:otherwise>"
                       "</xsl:choose></xsl:template>";
    ma_result res;
    run_map(body, "<a/>", 0, 8u << 20, &res);
    assert_int_equal(res.status, MA_STATUS_ERROR);
    assert_int_equal(res.stop, MA_STOP_MEMORY);
    assert_string_equal(res.message, "the execution used more than its memory budget of 8 MB (execution.max_memory)");
    ma_result_free(&res);
}

int main(void)
{
    ma_membudget_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_and_frees),
        cmocka_unit_test(over_budget_stops),
        cmocka_unit_test(freed_elsewhere_never_wraps),
        cmocka_unit_test(server_budget),
        cmocka_unit_test(deadline_and_cancel),
        cmocka_unit_test(map_stopped_at_deadline),
        cmocka_unit_test(map_stopped_at_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
