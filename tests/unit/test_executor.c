/* test_executor.c - the executor's batch semantics, observed through a test-only "trace" shape
 * registered through the plugin table: the order in which paths run (decision true before false,
 * branch 1..N, try before catch), batch sizes under Flow Control, Stop, Try/Catch originals,
 * threads, and the ABORTED status of an execution that runs out of time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "executor.h"
#include "loader.h"
#include "builtins.h"
#include "registry.h"
#include "util.h"

/* trace: appends "LABEL:n=BATCH:DATA,DATA" to process property TRACE, passes documents on */
static int trace_compile(ma_shape *s, const ma_xml_node *c, ma_error *err)
{
    (void)c;
    return ma_shape_declare_output(s, NULL, err) < 0 ? -1 : 0;
}

static int trace_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    char *old = ma_exec_get_process_prop(ex, "TRACE");
    ma_sb b;
    ma_sb_init(&b);
    if (old && *old) ma_sb_printf(&b, "%s|", old);
    ma_sb_printf(&b, "%s:n=%zu:", ma_shape_label(s), in->len);
    for (size_t i = 0; i < in->len; i++) {
        if (i) ma_sb_putc(&b, ',');
        ma_sb_puts(&b, ma_doc_data(in->docs[i], NULL));
        const char *p = ma_doc_prop(in->docs[i], "dynamicdocument.P");
        if (p) ma_sb_printf(&b, "[P=%s]", p);
    }
    char *v = ma_sb_take(&b, NULL);
    ma_exec_set_process_prop(ex, "TRACE", v, 0, err);
    free(v);
    free(old);
    for (size_t i = 0; i < in->len; i++)
        if (ma_outputs_emit(out, 0, ma_doc_ref(in->docs[i])) < 0) return -1;
    return 0;
}

/* sleepy: sleeps 30 ms per batch */
static int sleepy_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    (void)ex;
    (void)err;
    struct timespec ts = {0, 30000000};
    nanosleep(&ts, NULL);
    for (size_t i = 0; i < in->len; i++) ma_outputs_emit(out, 0, ma_doc_ref(in->docs[i]));
    (void)s;
    return 0;
}

static const ma_shape_type trace_type = {
    .name = "trace", .abi_version = MA_ABI_VERSION, .compile = trace_compile, .execute = trace_execute};
static const ma_shape_type sleepy_type = {
    .name = "sleepy", .abi_version = MA_ABI_VERSION, .compile = trace_compile, .execute = sleepy_execute};

static ma_registry *reg;

static int setup(void **state)
{
    (void)state;
    ma_error err;
    reg = ma_builtins_registry(&err);
    if (!reg) return -1;
    return ma_registry_add_shape(reg, &trace_type, &err) || ma_registry_add_shape(reg, &sleepy_type, &err);
}

static int teardown(void **state)
{
    (void)state;
    ma_registry_free(reg);
    return 0;
}

#define SHAPE(name, type, label, conf, dps)                                                        \
    "<shape name=\"" name "\" shapetype=\"" type "\" userlabel=\"" label "\"><configuration>" conf \
    "</configuration><dragpoints>" dps "</dragpoints></shape>"
#define DP(to) "<dragpoint toShape=\"" to "\"/>"
#define DPI(id, to) "<dragpoint identifier=\"" id "\" toShape=\"" to "\"/>"
#define START_PT(to) SHAPE("shape1", "start", "", "<passthroughaction/>", DP(to))
#define TRACE(name, label, to) SHAPE(name, "trace", label, "<trace/>", DP(to))
#define TRACE_END(name, label) SHAPE(name, "trace", label, "<trace/>", "")
#define STATIC(v) \
    "<parametervalue key=\"1\" valueType=\"static\"><staticparameter staticproperty=\"" v "\"/></parametervalue>"
#define CURRENT "<parametervalue key=\"1\" valueType=\"current\"/>"

typedef struct run {
    ma_result res;
    char *trace;
} run;

/* Runs the process made of `shapes` on the comma-separated input documents. */
static void run_process(const char *shapes, const char *inputs, uint64_t timeout_ms, run *r)
{
    char *xml = NULL;
    assert_true(
        asprintf(
            &xml,
            "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"t1\" name=\"T\" type=\"process\">"
            "<bns:object><process xmlns=\"\"><shapes>%s</shapes></process></bns:object></bns:Component>",
            shapes) > 0);
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    ma_error err;
    assert_int_equal(ma_deploy_add_buffer(dep, xml, strlen(xml), "t.xml", &err), 0);
    free(xml);
    if (ma_deploy_compile(dep) != 0) {
        char *line = ma_problem_format(&dep->problems[0]);
        fail_msg("not runnable: %s", line);
    }
    ma_batch in;
    ma_batch_init(&in);
    char *copy = strdup(inputs), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        ma_batch_push(&in, ma_doc_new(tok, strlen(tok)));
    free(copy);
    ma_run_opts o = {
        .general_mode = 1, .retry_scale = 0, .data_dir = "/nonexistent-miniatom-test", .timeout_ms = timeout_ms};
    /* the trace is read back through a Set Properties -> result: simpler to keep it in the result
     * of a final execution-level read: we read it from the shared properties via the log */
    assert_int_equal(ma_execute(dep, ma_deploy_find(dep, "t1")->process, &in, &o, &r->res, &err), 0);
    ma_batch_clear(&in);
    ma_deploy_free(dep);
    r->trace = NULL;
    for (size_t i = 0; i < r->res.n_log; i++)
        if (strncmp(r->res.log[i].message, "TRACE=", 6) == 0) {
            free(r->trace);
            r->trace = strdup(r->res.log[i].message + 6);
        }
}

static void run_free(run *r)
{
    ma_result_free(&r->res);
    free(r->trace);
}

/* a notify at the end of every test process logs the trace */
#define LOG_TRACE(name)                                                                                                                                                                                  \
    SHAPE(                                                                                                                                                                                               \
        name, "notify", "",                                                                                                                                                                              \
        "<notify perExecution=\"true\" title=\"\"><notifyMessage>TRACE={1}</notifyMessage><notifyMessageLevel>INFO</notifyMessageLevel>"                                                                 \
        "<notifyParameters><parametervalue key=\"1\" valueType=\"process\"><processparameter processproperty=\"TRACE\" processpropertydefaultvalue=\"\"/></parametervalue></notifyParameters></notify>", \
        "")
/* a branch whose last path logs the trace after everything else ran */
#define WRAP(first)                                                                                    \
    START_PT("shape90")                                                                                \
    SHAPE("shape90", "branch", "", "<branch numBranches=\"2\"/>", DPI("1", first) DPI("2", "shape91")) \
    LOG_TRACE("shape91")

static void test_decision_true_before_false(void **state)
{
    (void)state;
    run r;
    run_process(
        WRAP("shape2") SHAPE(
            "shape2", "decision", "",
            "<decision comparison=\"wildcard\"><decisionvalue valueType=\"current\"/>"
            "<decisionvalue valueType=\"static\"><staticparameter staticproperty=\"a*\"/></decisionvalue></decision>",
            DPI("true", "shape3") DPI("false", "shape4")) TRACE_END("shape3", "T") TRACE_END("shape4", "F"),
        "a1,b2,a3", 0, &r);
    assert_int_equal(r.res.status, MA_STATUS_COMPLETE);
    assert_string_equal(r.trace, "T:n=2:a1,a3|F:n=1:b2");
    /* documents that reach path ends are the results, in arrival order (the trace logger's
     * copies on the second branch path come last) */
    assert_int_equal(r.res.docs.len, 6);
    assert_string_equal(ma_doc_data(r.res.docs.docs[0], NULL), "a1");
    assert_string_equal(ma_doc_data(r.res.docs.docs[2], NULL), "b2");
    run_free(&r);
}

static void test_branch_order_and_scoping(void **state)
{
    (void)state;
    run r;
    run_process(
        WRAP("shape2") SHAPE("shape2", "branch", "", "<branch numBranches=\"3\"/>",
                             DPI("1", "shape3") DPI("2", "shape5") DPI("3", "shape6"))
            SHAPE("shape3", "documentproperties", "",
                  "<documentproperties><documentproperty propertyId=\"dynamicdocument.P\"><sourcevalues>" STATIC(
                      "one") "</sourcevalues></documentproperty></documentproperties>",
                  DP("shape4")) TRACE_END("shape4", "B1") TRACE_END("shape5", "B2") TRACE_END("shape6", "B3"),
        "x,y", 0, &r);
    assert_string_equal(r.trace, "B1:n=2:x[P=one],y[P=one]|B2:n=2:x,y|B3:n=2:x,y");
    run_free(&r);
}

static void test_try_catch_originals(void **state)
{
    (void)state;
    run r;
    run_process(
        WRAP("shape2") SHAPE(
            "shape2", "catcherrors", "", "<catcherrors catchAll=\"false\" retryCount=\"0\"/>",
            DPI("default", "shape3") DPI(
                "error",
                "shape7")) SHAPE("shape3", "documentproperties", "",
                                 "<documentproperties><documentproperty propertyId=\"dynamicdocument.P\"><sourcevalues>" STATIC(
                                     "changed in try") "</sourcevalues></documentproperty></documentproperties>",
                                 DP("shape4"))
            SHAPE(
                "shape4", "decision", "",
                "<decision comparison=\"equals\"><decisionvalue valueType=\"current\"/>"
                "<decisionvalue valueType=\"static\"><staticparameter staticproperty=\"bad\"/></decisionvalue></decision>",
                DPI("true", "shape5") DPI("false", "shape6"))
                SHAPE(
                    "shape5", "exception", "",
                    "<exception stopsingledoc=\"true\" title=\"\"><exMessage>bad doc {1}</exMessage><exParameters>" CURRENT
                    "</exParameters></exception>",
                    "") TRACE_END("shape6", "TRY")
                    SHAPE(
                        "shape7", "documentproperties", "",
                        "<documentproperties><documentproperty propertyId=\"dynamicdocument.P\"><sourcevalues>"
                        "<parametervalue key=\"1\" valueType=\"track\"><trackparameter propertyId=\"meta.base.catcherrorsmessage\"/></parametervalue>"
                        "</sourcevalues></documentproperty></documentproperties>",
                        DP("shape8")) TRACE_END("shape8", "CATCH"),
        "ok1,bad,ok2", 0, &r);
    assert_int_equal(r.res.status, MA_STATUS_COMPLETE); /* caught */
    assert_string_equal(r.trace, "TRY:n=2:ok1[P=changed in try],ok2[P=changed in try]|CATCH:n=1:bad[P=bad doc bad]");
    run_free(&r);
}

static void test_uncaught_document_error(void **state)
{
    (void)state;
    run r;
    run_process(
        WRAP("shape2")
            SHAPE("shape2", "branch", "", "<branch numBranches=\"2\"/>", DPI("1", "shape3") DPI("2", "shape6")) SHAPE(
                "shape3", "decision", "",
                "<decision comparison=\"equals\"><decisionvalue valueType=\"current\"/>"
                "<decisionvalue valueType=\"static\"><staticparameter staticproperty=\"bad\"/></decisionvalue></decision>",
                DPI("true", "shape4") DPI("false", "shape5"))
                SHAPE(
                    "shape4", "exception", "Fail it",
                    "<exception stopsingledoc=\"true\" title=\"\"><exMessage>no</exMessage><exParameters/></exception>",
                    "") TRACE_END("shape5", "P1") TRACE_END("shape6", "P2"),
        "a,bad,c", 0, &r);
    assert_int_equal(r.res.status, MA_STATUS_ERROR);
    assert_int_equal(r.res.doc_errors, 1);
    /* the failed document does not go down the later branch path */
    assert_string_equal(r.trace, "P1:n=2:a,c|P2:n=2:a,c");
    assert_non_null(strstr(r.res.message, "shape4 'Fail it': no"));
    run_free(&r);
}

static void test_catch_all_and_process_errors(void **state)
{
    (void)state;
    run r;
    run_process(
        WRAP("shape2") SHAPE("shape2", "catcherrors", "", "<catcherrors catchAll=\"true\"/>",
                             DPI("default", "shape3") DPI("error", "shape4"))
            SHAPE(
                "shape3", "exception", "",
                "<exception stopsingledoc=\"false\" title=\"\"><exMessage>all stop</exMessage><exParameters/></exception>",
                "") TRACE_END("shape4", "CATCH"),
        "d1,d2", 0, &r);
    assert_int_equal(r.res.status, MA_STATUS_COMPLETE);
    assert_string_equal(r.trace, "CATCH:n=2:d1,d2");
    run_free(&r);
    run_process(
        START_PT("shape2") SHAPE("shape2", "catcherrors", "", "<catcherrors catchAll=\"false\"/>",
                                 DPI("default", "shape3") DPI("error", "shape4"))
            SHAPE(
                "shape3", "exception", "",
                "<exception stopsingledoc=\"false\" title=\"\"><exMessage>all stop {1}</exMessage><exParameters>" CURRENT
                "</exParameters></exception>",
                "") TRACE_END("shape4", "CATCH"),
        "d1,d2", 0, &r);
    assert_int_equal(r.res.status, MA_STATUS_ERROR);
    assert_non_null(strstr(r.res.message, "all stop d1"));
    run_free(&r);
}

static void test_flow_control_batches(void **state)
{
    (void)state;
    run r;
    run_process(WRAP("shape2") SHAPE("shape2", "flowcontrol", "",
                                     "<flowcontrol chunkStyle=\"threadOnly\" chunks=\"0\" forEachCount=\"2\"/>",
                                     DP("shape3")) TRACE("shape3", "A", "shape4") TRACE_END("shape4", "B"),
                "1,2,3,4,5", 0, &r);
    /* each batch runs to the end of the path before the next */
    assert_string_equal(r.trace, "A:n=2:1,2|B:n=2:1,2|A:n=2:3,4|B:n=2:3,4|A:n=1:5|B:n=1:5");
    run_free(&r);
}

static void test_flow_control_threads(void **state)
{
    (void)state;
    run r;
    run_process(START_PT("shape2") SHAPE("shape2", "flowcontrol", "",
                                         "<flowcontrol chunkStyle=\"threadOnly\" chunks=\"3\" forEachCount=\"0\"/>",
                                         DP("shape3")) TRACE_END("shape3", "T"),
                "1,2,3,4,5,6,7,8,9", 0, &r);
    assert_int_equal(r.res.status, MA_STATUS_COMPLETE);
    assert_int_equal(r.res.docs.len, 9);
    int seen[10] = {0};
    for (size_t i = 0; i < r.res.docs.len; i++) seen[atoi(ma_doc_data(r.res.docs.docs[i], NULL))]++;
    for (int i = 1; i <= 9; i++) assert_int_equal(seen[i], 1);
    run_free(&r);
}

static void test_stop_false_ends_process(void **state)
{
    (void)state;
    run r;
    run_process(START_PT("shape2") SHAPE("shape2", "branch", "", "<branch numBranches=\"3\"/>",
                                         DPI("1", "shape3") DPI("2", "shape4") DPI("3", "shape5"))
                    TRACE_END("shape3", "B1") SHAPE("shape4", "stop", "", "<stop continue=\"false\"/>", "")
                        TRACE_END("shape5", "B3"),
                "x", 0, &r);
    assert_int_equal(r.res.status, MA_STATUS_COMPLETE);
    /* path 3 never ran: the results are the document at the end of path 1 and the one at the Stop */
    assert_int_equal(r.res.docs.len, 2);
    assert_int_equal(r.res.counts[4], 0);
    run_free(&r);
}

static void test_timeout_aborts(void **state)
{
    (void)state;
    run r;
    run_process(START_PT("shape2") SHAPE("shape2", "flowcontrol", "", "<flowcontrol forEachCount=\"1\"/>", DP("shape3"))
                    SHAPE("shape3", "sleepy", "", "<sleepy/>", DP("shape4")) TRACE_END("shape4", "T"),
                "1,2,3,4,5,6,7,8,9,10", 50, &r);
    assert_int_equal(r.res.status, MA_STATUS_ABORTED);
    assert_true(r.res.docs.len < 10);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision_true_before_false),
        cmocka_unit_test(test_branch_order_and_scoping),
        cmocka_unit_test(test_try_catch_originals),
        cmocka_unit_test(test_uncaught_document_error),
        cmocka_unit_test(test_catch_all_and_process_errors),
        cmocka_unit_test(test_flow_control_batches),
        cmocka_unit_test(test_flow_control_threads),
        cmocka_unit_test(test_stop_false_ends_process),
        cmocka_unit_test(test_timeout_aborts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
