/* test_scripthost.c - the script host client (runtime/scripthost.h, docs/decisions/019-scripting.md)
 * against the real host: a batch through Groovy and JavaScript with properties in and out,
 * property reads answered by the caller, writes and log lines handed back, compile and runtime
 * errors with their lines, a map function call with inputs and outputs by name (the corpus's
 * JavaScript map function), runs from several threads at once, and the host's restart after it was
 * stopped. Skipped (exit 77, loudly) only in a build configured --with-scripting=no. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "miniatom/miniatom.h"
#include "scripthost.h"

static ma_script_cfg cfg;

static char *lookup(void *ctx, int kind, const char *a, const char *b)
{
    (void)ctx;
    if (kind == 0 && strcmp(a, "DPP_IN") == 0) return strdup("41");
    if (kind == 1 && strcmp(a, "comp-1") == 0 && strcmp(b, "key-1") == 0) return strdup("defined");
    return NULL;
}

static const ma_script_run_ctx CTX = {
    .execution_id = "exec-1", .process_id = "proc-1", .process_name = "Unit", .lookup = lookup};

static void batch_of(ma_batch *b, const char *const *texts, size_t n)
{
    ma_batch_init(b);
    for (size_t i = 0; i < n; i++) {
        ma_doc *d = ma_doc_new(texts[i], strlen(texts[i]));
        assert_non_null(d);
        assert_int_equal(ma_doc_set_prop(&d, "dynamicdocument.DDP_A", texts[i]), 0);
        assert_int_equal(ma_doc_set_prop(&d, "connector.disk.filename", "f.txt"), 0);
        assert_int_equal(ma_batch_push(b, d), 0);
    }
}

static void groovy_batch(void **state)
{
    (void)state;
    const char *src =
        "import com.boomi.execution.ExecutionUtil\n"
        "int n = ExecutionUtil.getDynamicProcessProperty('DPP_IN') as Integer\n"
        "for (int i = 0; i < dataContext.getDataCount(); i++) {\n"
        "  Properties p = dataContext.getProperties(i)\n"
        "  p.setProperty('document.dynamic.userdefined.DDP_B', p.getProperty('connector.track.disk.filename'))\n"
        "  String t = dataContext.getStream(i).text\n"
        "  dataContext.storeStream(new ByteArrayInputStream((t + t).getBytes('UTF-8')), p)\n"
        "}\n"
        "ExecutionUtil.setDynamicProcessProperty('DPP_OUT', (n + 1) as String, true)\n"
        "ExecutionUtil.setProcessProperty('comp-1', 'key-2', ExecutionUtil.getProcessProperty('comp-1', 'key-1'))\n"
        "ExecutionUtil.getBaseLogger().warning('ran in ' + ExecutionUtil.getRuntimeExecutionProperty('EXECUTION_ID'))\n"
        "assert ExecutionUtil.getDynamicProcessProperty('NOT_SET') == null\n";
    const char *texts[] = {"ab", "c"};
    ma_batch in;
    batch_of(&in, texts, 2);
    ma_script_result res;
    ma_error err;
    assert_int_equal(ma_script_run(&cfg, "groovy2", src, &CTX, &in, &res, &err), 0);
    assert_false(res.failed);
    assert_int_equal(res.out.len, 2);
    size_t len;
    assert_string_equal(ma_doc_data(res.out.docs[0], &len), "abab");
    assert_string_equal(ma_doc_data(res.out.docs[1], &len), "cc");
    assert_string_equal(ma_doc_prop(res.out.docs[1], "dynamicdocument.DDP_A"), "c");
    assert_string_equal(ma_doc_prop(res.out.docs[1], "dynamicdocument.DDP_B"), "f.txt");
    assert_string_equal(ma_doc_prop(res.out.docs[1], "connector.disk.filename"), "f.txt");
    assert_int_equal(res.n_writes, 2);
    assert_string_equal(res.writes[0].a, "DPP_OUT");
    assert_null(res.writes[0].b);
    assert_string_equal(res.writes[0].value, "42");
    assert_int_equal(res.writes[0].persist, 1);
    assert_string_equal(res.writes[1].a, "comp-1");
    assert_string_equal(res.writes[1].b, "key-2");
    assert_string_equal(res.writes[1].value, "defined");
    assert_int_equal(res.n_logs, 1);
    assert_int_equal(res.logs[0].level, 1);
    assert_string_equal(res.logs[0].message, "ran in exec-1");
    ma_script_result_free(&res);
    ma_batch_clear(&in);
}

static void errors_with_lines(void **state)
{
    (void)state;
    const char *texts[] = {"x"};
    ma_batch in;
    batch_of(&in, texts, 1);
    ma_script_result res;
    ma_error err;
    assert_int_equal(
        ma_script_run(&cfg, "groovy2", "def a = 1\n\nthrow new RuntimeException('no')\n", &CTX, &in, &res, &err), 0);
    assert_true(res.failed);
    assert_int_equal(res.line, 3);
    assert_non_null(strstr(res.message, "java.lang.RuntimeException: no"));
    ma_script_result_free(&res);
    assert_int_equal(ma_script_run(&cfg, "groovy2", "def a = \n}\n", &CTX, &in, &res, &err), 0);
    assert_true(res.failed);
    assert_non_null(strstr(res.message, "does not compile"));
    assert_true(res.line > 0);
    ma_script_result_free(&res);
    assert_int_equal(ma_script_run(&cfg, "javascript", "var a = 1;\nundefinedFunction();\n", &CTX, &in, &res, &err), 0);
    assert_true(res.failed);
    assert_int_equal(res.line, 2);
    ma_script_result_free(&res);
    assert_int_equal(ma_script_run(&cfg, "groovy2", "dataContext.storeStream(null, null)", &CTX, &in, &res, &err), 0);
    assert_true(res.failed);
    ma_script_result_free(&res);
    ma_batch_clear(&in);
}

static void javascript_batch(void **state)
{
    (void)state;
    const char *src =
        "importClass(Packages.com.boomi.execution.ExecutionUtil);\n"
        "for (var i = 0; i < dataContext.getDataCount(); i++) {\n"
        "  var p = dataContext.getProperties(i);\n"
        "  p.setProperty('document.dynamic.userdefined.DDP_JS', 'yes');\n"
        "  dataContext.storeStream(dataContext.getStream(i), p);\n"
        "}\n"
        "ExecutionUtil.setDynamicProcessProperty('DPP_JS', ExecutionUtil.getDynamicProcessProperty('DPP_IN'), false);\n";
    const char *texts[] = {"j"};
    ma_batch in;
    batch_of(&in, texts, 1);
    ma_script_result res;
    ma_error err;
    assert_int_equal(ma_script_run(&cfg, "javascript", src, &CTX, &in, &res, &err), 0);
    assert_false(res.failed);
    assert_int_equal(res.out.len, 1);
    assert_string_equal(ma_doc_prop(res.out.docs[0], "dynamicdocument.DDP_JS"), "yes");
    assert_int_equal(res.n_writes, 1);
    assert_string_equal(res.writes[0].value, "41");
    ma_script_result_free(&res);
    ma_batch_clear(&in);
}

static void map_function(void **state)
{
    (void)state;
    /* the corpus's map function (walidbargaoui RFA_Save_attachement_map), with its host replaced */
    const char *js = "url = 'http://example.invalid/ws/simple/getSharepointFile?filename=' + filename";
    const char *in_n[] = {"filename"}, *in_v[] = {"report.pdf"}, *out_n[] = {"url", "unset"};
    ma_script_result res;
    ma_error err;
    assert_int_equal(ma_script_call(&cfg, "javascript", js, &CTX, in_n, in_v, 1, out_n, 2, &res, &err), 0);
    assert_false(res.failed);
    assert_int_equal(res.n_values, 2);
    assert_string_equal(res.values[0], "http://example.invalid/ws/simple/getSharepointFile?filename=report.pdf");
    assert_null(res.values[1]);
    ma_script_result_free(&res);
    const char *gv = "total = (a as Integer) + (b as Integer)\nlabel = \"${a}+${b}\"";
    const char *gin[] = {"a", "b"}, *gval[] = {"2", "40"}, *gout[] = {"total", "label"};
    assert_int_equal(ma_script_call(&cfg, "groovy2", gv, &CTX, gin, gval, 2, gout, 2, &res, &err), 0);
    assert_false(res.failed);
    assert_string_equal(res.values[0], "42");
    assert_string_equal(res.values[1], "2+40");
    ma_script_result_free(&res);
}

static void *thread_run(void *arg)
{
    const char *src = (const char *)arg;
    for (int k = 0; k < 20; k++) {
        const char *texts[] = {"t1", "t2", "t3"};
        ma_batch in;
        batch_of(&in, texts, 3);
        ma_script_result res;
        ma_error err;
        if (ma_script_run(&cfg, "groovy2", src, &CTX, &in, &res, &err) < 0 || res.failed || res.out.len != 3) {
            ma_batch_clear(&in);
            return (void *)1;
        }
        ma_script_result_free(&res);
        ma_batch_clear(&in);
    }
    return NULL;
}

static void threads_and_restart(void **state)
{
    (void)state;
    const char *src = "for (int i = 0; i < dataContext.getDataCount(); i++)\n"
                      "  dataContext.storeStream(dataContext.getStream(i), dataContext.getProperties(i))";
    pthread_t t[4];
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, thread_run, (void *)src), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    unsigned starts = ma_script_host_starts();
    assert_true(ma_script_host_pid() > 0);
    ma_script_host_stop();
    assert_int_equal(ma_script_host_pid(), 0);
    assert_null(thread_run((void *)src));
    assert_int_equal(ma_script_host_starts(), starts + 1);
}

int main(void)
{
    const char *mode = getenv("MA_SCRIPTING");
    if (mode && strcmp(mode, "off") == 0) {
        fprintf(stderr, "SKIP: configured --with-scripting=no: the script host tests did NOT run\n");
        return 77;
    }
    ma_error err;
    if (ma_config_read(ma_script_config_map, MA_SCRIPT_PREFIX, NULL, &cfg, &err) < 0) return 1;
    char why[700];
    if (!ma_script_available(&cfg, why, sizeof why)) {
        fprintf(stderr, "FAIL: this build cannot run scripts: %s\n", why);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groovy_batch), cmocka_unit_test(errors_with_lines),   cmocka_unit_test(javascript_batch),
        cmocka_unit_test(map_function), cmocka_unit_test(threads_and_restart),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ma_script_host_stop();
    return rc;
}
