/* test_loader.c - loading component XML and compiling processes: every error says where and why
 * (file, line, shape, label), nothing unsafe is parsed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "loader.h"
#include "process.h"
#include "builtins.h"
#include "registry.h"

#define ENV_OPEN \
    "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"%s\" name=\"%s\" type=\"%s\" version=\"1\">"
#define ENV_CLOSE "</bns:Component>"

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

/* A process component with the given shapes XML. */
static char *process_xml(const char *id, const char *shapes)
{
    char *s = NULL;
    if (asprintf(
            &s,
            ENV_OPEN
            "<bns:object><process xmlns=\"\" workload=\"general\"><shapes>%s</shapes></process></bns:object>" ENV_CLOSE,
            id, id, "process", shapes) < 0)
        return NULL;
    return s;
}

static ma_deploy *deploy_of(const char *name, const char *xml, ma_error *err)
{
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    assert_non_null(dep);
    int rc = ma_deploy_add_buffer(dep, xml, strlen(xml), name, err);
    if (rc < 0) {
        ma_deploy_free(dep);
        return NULL;
    }
    return dep;
}

#define START(next)                                                                                                                          \
    "<shape name=\"shape1\" shapetype=\"start\"><configuration><noaction/></configuration><dragpoints><dragpoint name=\"d\" toShape=\"" next \
    "\"/></dragpoints></shape>"
#define STOP(name)        \
    "<shape name=\"" name \
    "\" shapetype=\"stop\" userlabel=\"the end\"><configuration><stop continue=\"true\"/></configuration><dragpoints/></shape>"

static int has_problem(const ma_deploy *dep, const char *shape, const char *needle)
{
    for (size_t i = 0; i < dep->n_problems; i++)
        if ((!shape || strcmp(dep->problems[i].shape, shape) == 0) && strstr(dep->problems[i].message, needle))
            return 1;
    return 0;
}

static void test_minimal_runnable(void **state)
{
    (void)state;
    char *xml = process_xml(
        "p1",
        START("shape2") STOP(
            "shape2") "<shape name=\"shape9\" shapetype=\"note\"><configuration><note><noteText>hi</noteText></note></configuration></shape>");
    ma_error err;
    ma_deploy *dep = deploy_of("p1.xml", xml, &err);
    assert_non_null(dep);
    assert_int_equal(ma_deploy_compile(dep), 0);
    ma_component *c = ma_deploy_find(dep, "p1");
    assert_non_null(c);
    assert_string_equal(c->type, "process");
    assert_true(c->process->runnable);
    assert_int_equal(c->process->n_shapes, 2); /* the note is not kept */
    assert_int_equal(c->process->start_kind, MA_START_NODATA);
    ma_deploy_free(dep);
    free(xml);
}

#define CALL(name, pid)                                                                                              \
    "<shape name=\"" name "\" shapetype=\"processcall\"><configuration><processcall abort=\"true\" processId=\"" pid \
    "\" wait=\"true\"><parameters/><returnpaths/></processcall></configuration><dragpoints><dragpoint name=\"d\" toShape=\"shape9\"/></dragpoints></shape>"

/* ma_process_may_wait: which processes only work in memory (the server answers those on its own
 * thread) and which may wait on the outside world. */
static void test_may_wait(void **state)
{
    (void)state;
    const char *const procs[][2] = {
        {"mem",
         START("shape2") "<shape name=\"shape2\" shapetype=\"message\"><configuration><message combined=\"false\"><msgTxt>hi</msgTxt><msgParameters/></message></configuration><dragpoints><dragpoint name=\"d\" toShape=\"shape9\"/></dragpoints></shape>" STOP(
             "shape9")},
        {"net",
         START("shape2") "<shape name=\"shape2\" shapetype=\"connectoraction\"><configuration><connectoraction actionType=\"Get\" connectorType=\"http\" connectionId=\"c\" operationId=\"o\"/></configuration><dragpoints><dragpoint name=\"d\" toShape=\"shape9\"/></dragpoints></shape>" STOP(
             "shape9")},
        {"calls-mem", START("shape2") CALL("shape2", "mem") STOP("shape9")},
        {"calls-net", START("shape2") CALL("shape2", "net") STOP("shape9")},
        {"calls-calls-net", START("shape2") CALL("shape2", "calls-net") STOP("shape9")},
        {"calls-nothing", START("shape2") CALL("shape2", "absent") STOP("shape9")},
    };
    const int want[] = {0, 1, 0, 1, 1, 1};
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    assert_non_null(dep);
    ma_error err;
    for (size_t i = 0; i < sizeof procs / sizeof *procs; i++) {
        char *xml = process_xml(procs[i][0], procs[i][1]);
        if (ma_deploy_add_buffer(dep, xml, strlen(xml), procs[i][0], &err) < 0)
            fail_msg("%s: %s", procs[i][0], err.msg);
        free(xml);
    }
    ma_deploy_compile(dep);
    for (size_t i = 0; i < sizeof procs / sizeof *procs; i++) {
        ma_component *c = ma_deploy_find(dep, procs[i][0]);
        assert_non_null(c);
        if (ma_process_may_wait(c->process) != want[i]) fail_msg("%s: may_wait should be %d", procs[i][0], want[i]);
    }
    assert_int_equal(ma_process_may_wait(NULL), 1);
    ma_deploy_free(dep);
}

static void test_unprefixed_root(void **state)
{
    (void)state;
    const char *xml =
        "<Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"u1\" name=\"U\" type=\"processproperty\">"
        "<bns:object><DefinedProcessProperties xmlns=\"\"/></bns:object></Component>";
    ma_error err;
    ma_deploy *dep = deploy_of("u.xml", xml, &err);
    assert_non_null(dep);
    ma_component *c = ma_deploy_find(dep, "u1");
    assert_non_null(c);
    assert_string_equal(c->name, "U");
    assert_non_null(c->object);
    assert_string_equal((const char *)c->object->name, "DefinedProcessProperties");
    ma_deploy_free(dep);
}

static void test_not_a_component(void **state)
{
    (void)state;
    ma_error err;
    assert_null(deploy_of("x.xml", "<root/>", &err));
    assert_int_equal(err.code, MA_ERR_PARSE);
    assert_non_null(strstr(err.msg, "x.xml:1: not a Boomi component"));
    assert_null(deploy_of("bad.xml", "<a>\n<b></a>", &err));
    assert_non_null(strstr(err.msg, "bad.xml:2: not well-formed XML"));
}

static void test_entities_refused(void **state)
{
    (void)state;
    const char *xml =
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]>"
        "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"e1\" name=\"&e;\" type=\"x\"/>";
    ma_error err;
    assert_null(deploy_of("ent.xml", xml, &err));
    assert_non_null(strstr(err.msg, "DOCTYPE"));
}

static void test_duplicate_id_names_both_files(void **state)
{
    (void)state;
    char *xml = process_xml("dup", START("shape2") STOP("shape2"));
    ma_error err;
    ma_deploy *dep = deploy_of("first.xml", xml, &err);
    assert_non_null(dep);
    assert_int_equal(ma_deploy_add_buffer(dep, xml, strlen(xml), "second.xml", &err), -1);
    assert_non_null(strstr(err.msg, "second.xml"));
    assert_non_null(strstr(err.msg, "first.xml"));
    ma_deploy_free(dep);
    free(xml);
}

static void test_dangling_toshape(void **state)
{
    (void)state;
    char *xml = process_xml("p2", START("shape7"));
    ma_error err;
    ma_deploy *dep = deploy_of("p2.xml", xml, &err);
    assert_int_equal(ma_deploy_compile(dep), 1);
    assert_true(has_problem(dep, "shape1", "points to shape 'shape7', which is not in the process"));
    assert_string_equal(dep->problems[0].file, "p2.xml");
    assert_true(dep->problems[0].line >= 1);
    ma_deploy_free(dep);
    free(xml);
}

static void test_unknown_shapetype_and_label(void **state)
{
    (void)state;
    char *xml = process_xml(
        "p3",
        START(
            "shape2") "<shape name=\"shape2\" shapetype=\"findchanges\" userlabel=\"Diff\"><configuration/><dragpoints/></shape>");
    ma_error err;
    ma_deploy *dep = deploy_of("p3.xml", xml, &err);
    assert_int_equal(ma_deploy_compile(dep), 1);
    assert_true(has_problem(dep, "shape2", "shapetype 'findchanges' is not supported"));
    assert_string_equal(dep->problems[0].label, "Diff");
    assert_int_equal(dep->problems[0].code, MA_ERR_UNSUPPORTED);
    char *line = ma_problem_format(&dep->problems[0]);
    assert_non_null(strstr(line, "shape shape2 'Diff' (findchanges)"));
    free(line);
    ma_deploy_free(dep);
    free(xml);
}

static void test_missing_subprocess(void **state)
{
    (void)state;
    char *xml = process_xml(
        "p4",
        START(
            "shape2") "<shape name=\"shape2\" shapetype=\"processcall\"><configuration><processcall abort=\"true\" processId=\"nope\" wait=\"true\"><parameters/><returnpaths/></processcall></configuration><dragpoints/></shape>");
    ma_error err;
    ma_deploy *dep = deploy_of("p4.xml", xml, &err);
    assert_int_equal(ma_deploy_compile(dep), 1);
    assert_true(has_problem(dep, "shape2", "subprocess nope is not in the deployment"));
    assert_int_equal(dep->problems[0].code, MA_ERR_REF);
    ma_deploy_free(dep);
    free(xml);
}

static void test_invalid_branch_and_identifiers(void **state)
{
    (void)state;
    char *xml = process_xml(
        "p5",
        START(
            "shape2") "<shape name=\"shape2\" shapetype=\"branch\"><configuration><branch numBranches=\"2\"/></configuration><dragpoints>"
                      "<dragpoint identifier=\"1\" toShape=\"shape3\"/><dragpoint identifier=\"3\" toShape=\"shape3\"/></dragpoints></shape>" STOP(
                          "shape3") "<shape name=\"shape4\" shapetype=\"branch\"><configuration><branch numBranches=\"x\"/></configuration><dragpoints/></shape>");
    ma_error err;
    ma_deploy *dep = deploy_of("p5.xml", xml, &err);
    assert_int_equal(ma_deploy_compile(dep), 1);
    assert_true(has_problem(dep, "shape2", "identifier '3') does not match any output"));
    assert_true(has_problem(dep, "shape4", "numBranches 'x'"));
    ma_deploy_free(dep);
    free(xml);
}

static void test_loop_refused(void **state)
{
    (void)state;
    char *xml = process_xml(
        "p6",
        START(
            "shape2") "<shape name=\"shape2\" shapetype=\"branch\"><configuration><branch numBranches=\"2\"/></configuration><dragpoints>"
                      "<dragpoint identifier=\"1\" toShape=\"shape3\"/><dragpoint identifier=\"2\" toShape=\"shape2\"/></dragpoints></shape>" STOP(
                          "shape3"));
    ma_error err;
    ma_deploy *dep = deploy_of("p6.xml", xml, &err);
    assert_int_equal(ma_deploy_compile(dep), 1);
    assert_true(has_problem(dep, NULL, "loops back to shape shape2"));
    ma_deploy_free(dep);
    free(xml);
}

static void test_unset_is_path_end(void **state)
{
    (void)state;
    char *xml = process_xml("p7", START("unset"));
    ma_error err;
    ma_deploy *dep = deploy_of("p7.xml", xml, &err);
    assert_int_equal(ma_deploy_compile(dep), 0);
    ma_component *c = ma_deploy_find(dep, "p7");
    assert_null(c->process->start->outs[0].target);
    ma_deploy_free(dep);
    free(xml);
}

static void test_no_start(void **state)
{
    (void)state;
    char *xml = process_xml("p8", STOP("shape2"));
    ma_error err;
    ma_deploy *dep = deploy_of("p8.xml", xml, &err);
    assert_int_equal(ma_deploy_compile(dep), 1);
    assert_true(has_problem(dep, NULL, "no start shape"));
    ma_deploy_free(dep);
    free(xml);
}

/* A lazy deployment (run, graph): only each file's envelope is read when it is added; a component
 * is parsed when it is first looked up, and one that is not well-formed becomes a problem. */
static void test_lazy(void **state)
{
    (void)state;
    ma_deploy_opts o = {0};
    o.lazy = 1;
    ma_deploy *dep = ma_deploy_new(reg, &o);
    assert_non_null(dep);
    ma_error err;
    char *good = process_xml("p1", START("shape2") STOP("shape2"));
    const char *named =
        "<?xml version=\"1.0\"?>\n<!-- exported -->\n<Component xmlns=\"http://api.platform.boomi.com/\" "
        "componentId='p&amp;2' name=\"Orders &amp; Invoices &#x263A;\" type=\"processproperty\">"
        "<object><DefinedProcessProperties xmlns=\"\"/></object></Component>";
    const char *doctype = "<!DOCTYPE x [<!ENTITY e \"x\">]>" ENV_OPEN ENV_CLOSE;
    char *bx = NULL;
    assert_true(
        asprintf(&bx, ENV_OPEN "<bns:object><process><shapes></bns:object>" ENV_CLOSE, "p3", "Broken", "process") > 0);
    assert_int_equal(ma_deploy_add_buffer(dep, good, strlen(good), "good.xml", &err), 0);
    assert_int_equal(ma_deploy_add_buffer(dep, named, strlen(named), "named.xml", &err), 0);
    assert_int_equal(ma_deploy_add_buffer(dep, bx, strlen(bx), "broken.xml", &err),
                     0); /* well-formed enough at the top */
    assert_int_equal(ma_deploy_add_buffer(dep, doctype, strlen(doctype), "doctype.xml", &err),
                     -1); /* parsed at once: refused */
    assert_int_equal(dep->n, 3);
    /* the envelope, entities decoded, before any parse */
    assert_string_equal(dep->comps[1]->id, "p&2");
    assert_string_equal(dep->comps[1]->name, "Orders & Invoices \xE2\x98\xBA");
    assert_int_equal(dep->comps[1]->line, 3);
    assert_null(dep->comps[1]->object);
    /* parsed on lookup */
    ma_component *c = ma_deploy_find(dep, "p&2");
    assert_non_null(c);
    assert_non_null(c->object);
    assert_int_equal(ma_deploy_compile_process(dep, ma_deploy_find_process(dep, "p1")), 0);
    /* a component that is not well-formed: NULL, and a problem naming the file */
    assert_null(ma_deploy_find(dep, "p3"));
    assert_int_equal(dep->n_problems, 1);
    assert_non_null(strstr(dep->problems[0].message, "broken.xml"));
    assert_null(ma_deploy_find(dep, "p3")); /* tried once */
    assert_int_equal(dep->n_problems, 1);
    /* from files: the envelope is read from a file's first bytes, from the whole file when it comes
     * later than they reach (a long comment first) */
    char dir[] = "/tmp/ma-test-lazy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/late.xml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("<?xml version=\"1.0\"?>\n<!--", f);
    for (int i = 0; i < 600; i++) fputs(" a long comment", f);
    fputs(" -->\n", f);
    fputs(good, f);
    fclose(f);
    assert_int_equal(ma_deploy_add_file(dep, path, &err), -1); /* p1 is there already */
    assert_non_null(strstr(err.msg, "late.xml"));
    ma_deploy_free(dep);
    dep = ma_deploy_new(reg, &o);
    assert_int_equal(ma_deploy_add_file(dep, path, &err), 0);
    assert_string_equal(dep->comps[0]->id, "p1");
    assert_int_equal(dep->comps[0]->line, 3);
    assert_null(dep->comps[0]->object);
    assert_non_null(ma_deploy_find(dep, "p1"));
    assert_non_null(dep->comps[0]->object);
    remove(path);
    rmdir(dir);
    ma_deploy_free(dep);
    free(good);
    free(bx);
}

static void test_size_limit(void **state)
{
    (void)state;
    ma_deploy_opts o = {.max_file_size = 64};
    ma_deploy *dep = ma_deploy_new(reg, &o);
    char *xml = process_xml("p9", START("shape2") STOP("shape2"));
    ma_error err;
    assert_int_equal(ma_deploy_add_buffer(dep, xml, strlen(xml), "big.xml", &err), -1);
    assert_int_equal(err.code, MA_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "big.xml"));
    ma_deploy_free(dep);
    free(xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_runnable),
        cmocka_unit_test(test_unprefixed_root),
        cmocka_unit_test(test_may_wait),
        cmocka_unit_test(test_not_a_component),
        cmocka_unit_test(test_entities_refused),
        cmocka_unit_test(test_duplicate_id_names_both_files),
        cmocka_unit_test(test_dangling_toshape),
        cmocka_unit_test(test_unknown_shapetype_and_label),
        cmocka_unit_test(test_missing_subprocess),
        cmocka_unit_test(test_invalid_branch_and_identifiers),
        cmocka_unit_test(test_loop_refused),
        cmocka_unit_test(test_unset_is_path_end),
        cmocka_unit_test(test_no_start),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_lazy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
