/* test_params.c - comparisons (numbers vs strings, wildcard, regex, missing values) and every
 * parameter value kind, evaluated through a Set Properties shape in a real execution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "compare.h"
#include "executor.h"
#include "loader.h"
#include "builtins.h"
#include "registry.h"

static ma_registry *reg;

static int setup(void **state)
{
    (void)state;
    ma_error err;
    reg = ma_builtins_registry(&err);
    return reg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ma_registry_free(reg);
    return 0;
}

static int cmp(const char *op, const char *a, const char *b)
{
    ma_cmp_op o;
    ma_error err;
    assert_int_equal(ma_cmp_parse(op, &o, &err), 0);
    ma_cmp c;
    assert_int_equal(ma_cmp_init(&c, o, b, &err), 0);
    int r = ma_cmp_eval(&c, a, b, &err);
    ma_cmp_free(&c);
    return r;
}

static void test_comparisons(void **state)
{
    (void)state;
    assert_int_equal(cmp("equals", "10", "10.0"), 1); /* both numeric: as numbers */
    assert_int_equal(cmp("equals", "abc", "abc"), 1);
    assert_int_equal(cmp("equals", "abc", "ABC"), 0);
    assert_int_equal(cmp("notequals", "1", "2"), 1);
    assert_int_equal(cmp("greaterthan", "10", "9"), 1);  /* numbers: 10 > 9 */
    assert_int_equal(cmp("greaterthan", "10", "9a"), 0); /* strings: "10" < "9a" */
    assert_int_equal(cmp("greaterthaneq", "5", "5"), 1);
    assert_int_equal(cmp("lessthan", "-1.5", "0"), 1);
    assert_int_equal(cmp("lessthaneq", "b", "a"), 0);
    assert_int_equal(cmp("equals", NULL, ""), 1); /* a missing value is the empty string */
    assert_int_equal(cmp("lessthan", "", "a"), 1);
    assert_int_equal(cmp("wildcard", "200", "20*"), 1);
    assert_int_equal(cmp("wildcard", "2001", "20?"), 0); /* the whole value must match */
    assert_int_equal(cmp("wildcard", "abc", "a?c"), 1);
    assert_int_equal(cmp("wildcard", "", "*"), 1);
    assert_int_equal(cmp("regex", "ORD-123", "ORD-\\d+"), 1);
    assert_int_equal(cmp("regex", "xORD-123", "ORD-\\d+"), 0); /* whole value */
    assert_int_equal(cmp("regex", "a.b", "a\\.b"), 1);
    assert_int_equal(cmp("regex", "axb", "a\\.b"), 0);
    assert_int_equal(cmp("regex", "ab", "(?:a)b"), 1);
    ma_cmp_op o;
    ma_error err;
    assert_int_equal(ma_cmp_parse("sortof", &o, &err), -1);
    assert_non_null(strstr(err.msg, "sortof"));
    ma_cmp c;
    assert_int_equal(ma_cmp_init(&c, MA_CMP_REGEX, "\\Ga", &err), -1); /* refused: decision 024 */
    assert_int_equal(err.code, MA_ERR_UNSUPPORTED);
}

#define PV(kind, body) "<parametervalue key=\"1\" valueType=\"" kind "\">" body "</parametervalue>"
#define SETPROP(id, pv)                                                                             \
    "<documentproperty propertyId=\"" id "\" persist=\"false\" defaultValue=\"\"><sourcevalues>" pv \
    "</sourcevalues></documentproperty>"

static const char *pp_component =
    "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"pp1\" name=\"Common Properties\" type=\"processproperty\">"
    "<bns:object><DefinedProcessProperties xmlns=\"\"><definedProcessProperty key=\"k-env\"><label>Environment</label>"
    "<type>string</type><defaultValue>TEST</defaultValue></definedProcessProperty></DefinedProcessProperties></bns:object></bns:Component>";

/* Runs a passthrough process whose one Set Properties shape holds `props`, on input `data`.
 * Returns the result document (new reference). */
static ma_doc *run_setprops(const char *props, const char *data, const char *const *cli, size_t n_cli, ma_result *res)
{
    char *xml = NULL;
    assert_true(
        asprintf(
            &xml,
            "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"proc1\" name=\"Params\" type=\"process\">"
            "<bns:object><process xmlns=\"\"><shapes>"
            "<shape name=\"shape1\" shapetype=\"start\"><configuration><passthroughaction/></configuration><dragpoints><dragpoint toShape=\"shape2\"/></dragpoints></shape>"
            "<shape name=\"shape2\" shapetype=\"documentproperties\"><configuration><documentproperties>%s</documentproperties></configuration>"
            "<dragpoints><dragpoint toShape=\"shape3\"/></dragpoints></shape>"
            "<shape name=\"shape3\" shapetype=\"stop\"><configuration><stop continue=\"true\"/></configuration><dragpoints/></shape>"
            "</shapes></process></bns:object></bns:Component>",
            props) > 0);
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    ma_error err;
    assert_int_equal(ma_deploy_add_buffer(dep, xml, strlen(xml), "p.xml", &err), 0);
    assert_int_equal(ma_deploy_add_buffer(dep, pp_component, strlen(pp_component), "pp.xml", &err), 0);
    free(xml);
    assert_int_equal(ma_deploy_compile(dep), 0);
    ma_batch in;
    ma_batch_init(&in);
    ma_batch_push(&in, ma_doc_new(data, strlen(data)));
    ma_run_opts o = {.general_mode = 1,
                     .retry_scale = 0,
                     .data_dir = "/nonexistent-miniatom-test",
                     .props = cli,
                     .n_props = n_cli,
                     .atom_name = "test-atom"};
    assert_int_equal(ma_execute(dep, ma_deploy_find(dep, "proc1")->process, &in, &o, res, &err), 0);
    ma_batch_clear(&in);
    assert_int_equal(res->status, MA_STATUS_COMPLETE);
    assert_int_equal(res->docs.len, 1);
    ma_doc *d = ma_doc_ref(res->docs.docs[0]);
    ma_deploy_free(dep);
    return d;
}

static void test_param_kinds(void **state)
{
    (void)state;
    const char *cli[] = {"DPP_SET=from cli", "Common Properties/Environment=PROD"};
    ma_result res;
    ma_doc *d = run_setprops(
        SETPROP("dynamicdocument.STATIC", PV("static", "<staticparameter staticproperty=\"s1\"/>")) SETPROP(
            "dynamicdocument.PROC",
            PV("process", "<processparameter processproperty=\"DPP_SET\" processpropertydefaultvalue=\"d\"/>"))
            SETPROP(
                "dynamicdocument.PROC_DEF",
                PV("process", "<processparameter processproperty=\"DPP_UNSET\" processpropertydefaultvalue=\"dflt\"/>"))
                SETPROP("dynamicdocument.TRACK",
                        PV("track", "<trackparameter propertyId=\"dynamicdocument.STATIC\" defaultValue=\"\"/>"))
                    SETPROP(
                        "dynamicdocument.TRACK_DEF",
                        PV("track",
                           "<trackparameter propertyId=\"meta.base.applicationstatuscode\" defaultValue=\"none\"/>"))
                        SETPROP("dynamicdocument.CURRENT", PV("current", "")) SETPROP(
                            "dynamicdocument.PNAME",
                            PV("execution", "<executionparameter executionproperty=\"Process Name\"/>"))
                            SETPROP("dynamicdocument.PID",
                                    PV("execution", "<executionparameter executionproperty=\"Process Id\"/>"))
                                SETPROP("dynamicdocument.EID",
                                        PV("execution", "<executionparameter executionproperty=\"Execution Id\"/>"))
                                    SETPROP("dynamicdocument.ATOM",
                                            PV("execution", "<executionparameter executionproperty=\"Atom Name\"/>"))
                                        SETPROP("dynamicdocument.COUNT",
                                                PV("execution",
                                                   "<executionparameter executionproperty=\"Document Count\"/>"))
                                            SETPROP(
                                                "dynamicdocument.DATE",
                                                PV("date",
                                                   "<dateparameter dateparametertype=\"current\" datetimemask=\"yyyy\"/>"))
                                                SETPROP(
                                                    "dynamicdocument.DEFINED",
                                                    PV("definedparameter",
                                                       "<definedprocessparameter componentId=\"pp1\" propertyKey=\"k-env\"/>"))
                                                    SETPROP(
                                                        "dynamicdocument.JSONEL",
                                                        PV("profile",
                                                           "<profileelement elementId=\"9\" elementName=\"id (Root/Object/order/Object/id)\" profileId=\"missing\" profileType=\"profile.json\"/>"))
                                                        SETPROP("dynamicdocument.CONCAT",
                                                                PV("static", "<staticparameter staticproperty=\"a\"/>")
                                                                    PV("static",
                                                                       "<staticparameter staticproperty=\"b\"/>")),
        "{\"order\": {\"id\": \"A-7\"}}", cli, 2, &res);
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.STATIC"), "s1");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.PROC"), "from cli");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.PROC_DEF"), "dflt");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.TRACK"), "s1"); /* set earlier in the same shape */
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.TRACK_DEF"), "none");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.CURRENT"), "{\"order\": {\"id\": \"A-7\"}}");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.PNAME"), "Params");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.PID"), "proc1");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.EID"), res.execution_id);
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.ATOM"), "test-atom");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.COUNT"), "1");
    char year[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.DATE"), year);
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.DEFINED"), "PROD");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.JSONEL"), "A-7");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.CONCAT"), "ab");
    ma_doc_unref(d);
    ma_result_free(&res);
}

static void test_defined_default(void **state)
{
    (void)state;
    ma_result res;
    ma_doc *d = run_setprops(
        SETPROP("dynamicdocument.DEFINED",
                PV("definedparameter", "<definedprocessparameter componentId=\"pp1\" propertyKey=\"k-env\"/>"))
            SETPROP(
                "dynamicdocument.XMLEL",
                PV("profile",
                   "<profileelement elementId=\"3\" elementName=\"b (a/b)\" profileId=\"none\" profileType=\"profile.xml\"/>")),
        "<a><b>xml value</b></a>", NULL, 0, &res);
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.DEFINED"), "TEST");
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.XMLEL"), "xml value");
    ma_doc_unref(d);
    ma_result_free(&res);
}

/* Set Properties writes a property of a processproperty component; a later property reads it;
 * connector properties the built-in connectors define are accepted. */
static void test_defined_write(void **state)
{
    (void)state;
    ma_result res;
    ma_doc *d = run_setprops(
        SETPROP("definedprocess.pp1@k-env", PV("static", "<staticparameter staticproperty=\"PROD\"/>"))
            SETPROP("dynamicdocument.READ",
                    PV("definedparameter", "<definedprocessparameter componentId=\"pp1\" propertyKey=\"k-env\"/>"))
                SETPROP("connector.disk.filename", PV("static", "<staticparameter staticproperty=\"a.txt\"/>")) SETPROP(
                    "connector.cloudblue.filter.status", PV("static", "<staticparameter staticproperty=\"pending\"/>")),
        "x", NULL, 0, &res);
    assert_string_equal(ma_doc_prop(d, "dynamicdocument.READ"), "PROD");
    assert_string_equal(ma_doc_prop(d, "connector.disk.filename"), "a.txt");
    assert_string_equal(ma_doc_prop(d, "connector.cloudblue.filter.status"), "pending");
    assert_null(ma_doc_prop(d, "definedprocess.pp1@k-env")); /* not a document property */
    ma_doc_unref(d);
    ma_result_free(&res);
}

static void expect_compile_problem(const char *props, const char *needle, int code)
{
    char *xml = NULL;
    assert_true(
        asprintf(
            &xml,
            "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"proc2\" name=\"Bad\" type=\"process\">"
            "<bns:object><process xmlns=\"\"><shapes>"
            "<shape name=\"shape1\" shapetype=\"start\"><configuration><noaction/></configuration><dragpoints><dragpoint toShape=\"shape2\"/></dragpoints></shape>"
            "<shape name=\"shape2\" shapetype=\"documentproperties\"><configuration><documentproperties>%s</documentproperties></configuration><dragpoints/></shape>"
            "</shapes></process></bns:object></bns:Component>",
            props) > 0);
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    ma_error err;
    assert_int_equal(ma_deploy_add_buffer(dep, xml, strlen(xml), "bad.xml", &err), 0);
    assert_int_equal(ma_deploy_add_buffer(dep, pp_component, strlen(pp_component), "pp.xml", &err), 0);
    free(xml);
    assert_int_equal(ma_deploy_compile(dep), 1);
    assert_true(dep->n_problems >= 1);
    if (!strstr(dep->problems[0].message, needle)) fail_msg("'%s' not in '%s'", needle, dep->problems[0].message);
    assert_int_equal(dep->problems[0].code, code);
    ma_deploy_free(dep);
}

static void test_unsupported_kinds(void **state)
{
    (void)state;
    expect_compile_problem(SETPROP("dynamicdocument.X", PV("crossref", "<crossrefparameter crossRefTableId=\"t\"/>")),
                           "cross reference table t is not in the deployment", MA_ERR_REF);
    /* a connector call lookup reports what it lacks: the connector type, the output element */
    expect_compile_problem(
        SETPROP("dynamicdocument.X", PV("connector", "<connectorparameter actionType=\"Get\" connectorType=\"nosuch\" "
                                                     "operationId=\"op1\" outputParamName=\"a (Root/Object/a)\"/>")),
        "connector call: connector type 'nosuch' (action Get, operation op1) has no implementation",
        MA_ERR_UNSUPPORTED);
    expect_compile_problem(
        SETPROP("dynamicdocument.X", PV("connector", "<connectorparameter connectorType=\"http\"/>")),
        "the connector call names no output element (outputParamName)", MA_ERR_CONFIG);
    expect_compile_problem(
        SETPROP("dynamicdocument.X",
                PV("definedparameter", "<definedprocessparameter componentId=\"gone\" propertyKey=\"k\"/>")),
        "process property component gone is not in the deployment", MA_ERR_REF);
    expect_compile_problem(
        SETPROP("dynamicdocument.X", PV("execution", "<executionparameter executionproperty=\"Moon Phase\"/>")),
        "execution property 'Moon Phase' is not one of: Process Name, Process Id, Execution Id, Atom Name, Account Id, Document Count, Atom Id, Node Id",
        MA_ERR_UNSUPPORTED);
    expect_compile_problem(
        SETPROP("dynamicdocument.X",
                PV("date", "<dateparameter dateparametertype=\"current\" datetimemask=\"yyyy-qq\"/>")),
        "date mask 'yyyy-qq'", MA_ERR_PARSE);
    expect_compile_problem(SETPROP("weird.X", PV("static", "<staticparameter staticproperty=\"v\"/>")),
                           "propertyId 'weird.X' is not a target", MA_ERR_UNSUPPORTED);
    /* the kinds that cannot run, and the checks of the new ones */
    expect_compile_problem(SETPROP("dynamicdocument.X", PV("sp", "<spparameter sqltoexecute=\"p\"/>")),
                           "'sp' (Stored Procedure) runs on a legacy Database connection", MA_ERR_UNSUPPORTED);
    expect_compile_problem(SETPROP("dynamicdocument.X", PV("errormessage", "")),
                           "'errormessage' is not one Boomi's parameter value dialog offers", MA_ERR_UNSUPPORTED);
    expect_compile_problem(SETPROP("dynamicdocument.X", PV("command", "")), "'command' is not one", MA_ERR_UNSUPPORTED);
    expect_compile_problem(SETPROP("dynamicdocument.X", PV("keygen", "<keygenparameter keyfixtolength=\"4\"/>")),
                           "a sequential value (keygen) has no keyname", MA_ERR_CONFIG);
    expect_compile_problem(
        SETPROP("dynamicdocument.X", PV("keygen", "<keygenparameter keyname=\"k\" keyfixtolength=\"4x\"/>")),
        "keyfixtolength '4x' is not a length from 0 to 20", MA_ERR_CONFIG);
    expect_compile_problem(
        SETPROP("dynamicdocument.X", PV("documentcache", "<documentcacheparameter docCache=\"dc\"/>")),
        "document cache dc is not in the deployment", MA_ERR_REF);
    /* Set Properties targets */
    expect_compile_problem(SETPROP("definedprocess.pp1@nokey", PV("static", "<staticparameter staticproperty=\"v\"/>")),
                           "process property component 'Common Properties' (pp1) has no property with key nokey",
                           MA_ERR_REF);
    expect_compile_problem(SETPROP("definedprocess.pp1", PV("static", "<staticparameter staticproperty=\"v\"/>")),
                           "is not definedprocess.COMPONENT@KEY", MA_ERR_CONFIG);
    expect_compile_problem(SETPROP("definedprocess.gone@k", PV("static", "<staticparameter staticproperty=\"v\"/>")),
                           "process property component gone is not in the deployment", MA_ERR_REF);
    expect_compile_problem(SETPROP("meta.base.size", PV("static", "<staticparameter staticproperty=\"1\"/>")),
                           "read-only meta information (Base) property", MA_ERR_CONFIG);
    expect_compile_problem(SETPROP("connector.disk.size", PV("static", "<staticparameter staticproperty=\"1\"/>")),
                           "the disk connector has no document property 'size' (it has: filename, directory)",
                           MA_ERR_CONFIG);
    expect_compile_problem(SETPROP("connector.flowclient.x", PV("static", "<staticparameter staticproperty=\"1\"/>")),
                           "the Boomi Flow Client connector has no connector document properties to set",
                           MA_ERR_CONFIG);
    expect_compile_problem(SETPROP("connector.disk", PV("static", "<staticparameter staticproperty=\"1\"/>")),
                           "is not connector.TYPE.PROPERTY", MA_ERR_CONFIG);
    expect_compile_problem("<documentproperty propertyId=\"process.P\" isDynamicCredential=\"true\"><sourcevalues/>"
                           "</documentproperty>",
                           "is a Dynamic Process Connection property", MA_ERR_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comparisons),       cmocka_unit_test(test_param_kinds),
        cmocka_unit_test(test_defined_default),   cmocka_unit_test(test_defined_write),
        cmocka_unit_test(test_unsupported_kinds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
