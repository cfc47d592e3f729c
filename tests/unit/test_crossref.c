/* test_crossref.c - Cross Reference Table components (runtime/crossref.c): reading <CrossRefTable>,
 * the matching rules (exact ignoring case, first row wins, no match, several inputs, an empty
 * input, wildcard, regex), column resolution, environment extension rows, and the component
 * looked up in a deployment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libxml/tree.h>

#include "builtins.h"
#include "crossref.h"
#include "loader.h"
#include "registry.h"
#include "util.h"

#define ROW3(a, b, c)                                                                                                 \
    "<row><Values><ref colIdx=\"0\" value=\"" a "\"/><ref colIdx=\"1\" value=\"" b "\"/><ref colIdx=\"2\" value=\"" c \
    "\"/></Values></row>"
#define TABLE(attrs, rows)                                                                 \
    "<CrossRefTable atomEnabled=\"false\" modelVersion=\"3\" " attrs ">"                   \
    "<ColumnHeaders><columnHeader>Code</columnHeader><columnHeader>Country</columnHeader>" \
    "<columnHeader>Region</columnHeader></ColumnHeaders><Rows>" rows "</Rows></CrossRefTable>"

/* A table parsed from text; NULL with err. The XML document is freed before returning. */
static ma_xref *parse(const char *text, ma_error *err)
{
    xmlDoc *d = ma_xml_parse(text, strlen(text), "table", err);
    if (!d) return NULL;
    ma_xref *t = ma_xref_parse(xmlDocGetRootElement(d), "cross reference table 'T' (t1)", err);
    xmlFreeDoc(d);
    return t;
}

/* Looks up one input (column in_col, 0-based) and returns the output column's cell or "(none)". */
static const char *look1(const ma_xref *t, size_t in_col, const char *v, size_t out_col)
{
    const char *out;
    ma_error err;
    int rc = ma_xref_lookup(t, &in_col, &v, 1, out_col, &out, &err);
    assert_int_not_equal(rc, -1);
    return rc ? out : "(none)";
}

static void test_exact(void **state)
{
    (void)state;
    ma_error err;
    ma_xref *t =
        parse(TABLE("", ROW3("US", "United States", "AMER") ROW3("ca", "Canada", "AMER") ROW3("DE", "Germany", "EMEA")
                            ROW3("us", "duplicate: never returned", "X") ROW3("", "", "no code")),
              &err);
    assert_non_null(t);
    assert_int_equal(ma_xref_columns(t), 3);
    assert_int_equal(ma_xref_rows(t), 5);
    assert_string_equal(ma_xref_column_name(t, 1), "Country");
    assert_int_equal(ma_xref_match_type(t), MA_XREF_EXACT);
    assert_string_equal(look1(t, 0, "US", 1), "United States");
    assert_string_equal(look1(t, 0, "us", 1), "United States"); /* case ignored; the first row wins */
    assert_string_equal(look1(t, 0, "CA", 1), "Canada");
    assert_string_equal(look1(t, 1, "germany", 0), "DE"); /* any column can be the input */
    assert_string_equal(look1(t, 0, "FR", 1), "(none)");
    assert_string_equal(look1(t, 0, "U", 1), "(none)"); /* whole value */
    assert_string_equal(look1(t, 0, "US ", 1), "(none)");
    assert_string_equal(look1(t, 0, "", 2), "AMER"); /* an empty key constrains nothing: first row */
    ma_xref_free(t);
}

static void test_unicode_case(void **state)
{
    (void)state;
    ma_error err;
    ma_xref *t = parse(
        TABLE("", ROW3("ÉCOLE", "a", "") ROW3("straße", "b", "") ROW3("ΣΟΦΙΑ", "c", "") ROW3("ŁÓDŹ", "d", "")), &err);
    assert_non_null(t);
    assert_string_equal(look1(t, 0, "école", 1), "a");
    assert_string_equal(look1(t, 0, "STRASSE", 1), "(none)"); /* no multi-character folding, as equalsIgnoreCase */
    assert_string_equal(look1(t, 0, "STRAßE", 1), "b");
    assert_string_equal(look1(t, 0, "σοφια", 1), "c");
    assert_string_equal(look1(t, 0, "łódź", 1), "d");
    ma_xref_free(t);
}

static void test_several_inputs(void **state)
{
    (void)state;
    ma_error err;
    ma_xref *t = parse(
        TABLE("", ROW3("john", "doe", "555-1") ROW3("john", "smith", "555-2") ROW3("jane", "doe", "555-3")), &err);
    assert_non_null(t);
    size_t cols[2] = {0, 1};
    const char *vals[2] = {"JOHN", "Smith"}, *out;
    assert_int_equal(ma_xref_lookup(t, cols, vals, 2, 2, &out, &err), 1);
    assert_string_equal(out, "555-2");
    vals[0] = "jane";
    vals[1] = "smith";
    assert_int_equal(ma_xref_lookup(t, cols, vals, 2, 2, &out, &err), 0); /* each input must match its column */
    assert_null(out);
    vals[0] = "";
    vals[1] = "doe";
    assert_int_equal(ma_xref_lookup(t, cols, vals, 2, 2, &out, &err), 1); /* the empty one constrains nothing */
    assert_string_equal(out, "555-1");
    ma_xref_free(t);
}

static void test_wildcard_and_regex(void **state)
{
    (void)state;
    ma_error err;
    ma_xref *w = parse(
        TABLE("matchType=\"wildcard\"", ROW3("ORD-??", "two", "") ROW3("ord-*", "many", "") ROW3("*", "anything", "")),
        &err);
    assert_non_null(w);
    assert_int_equal(ma_xref_match_type(w), MA_XREF_WILDCARD);
    assert_string_equal(look1(w, 0, "ORD-12", 1), "two");
    assert_string_equal(look1(w, 0, "Ord-1", 1), "many"); /* ignoring case */
    assert_string_equal(look1(w, 0, "ORD-éé", 1), "two"); /* ? is one character, not one byte */
    assert_string_equal(look1(w, 0, "X", 1), "anything");
    ma_xref_free(w);

    ma_xref *r = parse(TABLE("matchType=\"regex\"", ROW3("ORD-\\d+", "order", "") ROW3("(?i)inv-.*", "invoice", "")
                                                        ROW3("[", "never compiled", "")),
                       &err);
    assert_non_null(r);
    assert_string_equal(look1(r, 0, "ORD-42", 1), "order");
    assert_string_equal(look1(r, 0, "INV-7", 1), "invoice");
    /* a cell that is not a regular expression: the column cannot be an input */
    size_t col = 0;
    assert_int_equal(ma_xref_check_inputs(r, &col, 1, &err), -1);
    assert_non_null(strstr(err.msg, "row 3 column 1 ('Code')"));
    col = 1;
    assert_int_equal(ma_xref_check_inputs(r, &col, 1, &err), 0);
    const char *v = "nothing", *out;
    col = 0;
    assert_int_equal(ma_xref_lookup(r, &col, &v, 1, 1, &out, &err), -1); /* reaching row 3 at run time */
    ma_xref_free(r);
}

static void test_regex_whole_value(void **state)
{
    (void)state;
    ma_error err;
    ma_xref *r = parse(TABLE("matchType=\"regex\"", ROW3("ORD-\\d+", "order", "")), &err);
    assert_non_null(r);
    assert_string_equal(look1(r, 0, "xORD-42", 1), "(none)");
    assert_string_equal(look1(r, 0, "ORD-42x", 1), "(none)");
    assert_string_equal(look1(r, 0, "ord-42", 1), "(none)"); /* a regex keeps case unless (?i) */
    ma_xref_free(r);
}

static void test_columns(void **state)
{
    (void)state;
    ma_error err;
    ma_xref *t = parse(TABLE("", ROW3("US", "United States", "AMER")), &err);
    assert_non_null(t);
    size_t col;
    assert_int_equal(ma_xref_column(t, "3", "Region", &col, &err), 0);
    assert_int_equal(col, 2);
    assert_int_equal(ma_xref_column(t, "4", "Email", &col, &err), -1);
    assert_int_equal(err.code, MA_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "column 4 ('Email') is not a column of cross reference table 'T' (t1)"));
    assert_non_null(strstr(err.msg, "1 'Code', 2 'Country', 3 'Region'"));
    assert_int_equal(ma_xref_column(t, "0", NULL, &col, &err), -1);
    assert_int_equal(ma_xref_column(t, NULL, NULL, &col, &err), -1);
    assert_int_equal(ma_xref_column(t, "2x", NULL, &col, &err), -1);
    ma_xref_free(t);
}

static void test_bad_tables(void **state)
{
    (void)state;
    ma_error err;
    assert_null(parse(TABLE("", "<row><Values><ref colIdx=\"3\" value=\"x\"/></Values></row>"), &err));
    assert_int_equal(err.code, MA_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "row 1: colIdx '3' is not a column"));
    assert_null(parse(TABLE("matchType=\"soundex\"", ""), &err));
    assert_int_equal(err.code, MA_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "matchType \"soundex\" is not one of: exact, wildcard, regex"));
    assert_null(parse("<CrossRefTable atomEnabled=\"true\"><ColumnHeaders><columnHeader>a</columnHeader>"
                      "</ColumnHeaders><Rows/></CrossRefTable>",
                      &err));
    assert_int_equal(err.code, MA_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "atomEnabled"));
    assert_null(parse("<CrossRefTable><ColumnHeaders/><Rows/></CrossRefTable>", &err));
    assert_non_null(strstr(err.msg, "has no columns"));
    assert_null(parse("<Table/>", &err));
    /* cells without colIdx are taken in order; missing cells are empty */
    ma_xref *t = parse(TABLE("", "<row><Values><ref value=\"a\"/><ref value=\"b\"/></Values></row>"), &err);
    assert_non_null(t);
    assert_string_equal(look1(t, 0, "A", 1), "b");
    assert_string_equal(look1(t, 0, "a", 2), "");
    ma_xref_free(t);
}

static void test_extensions(void **state)
{
    (void)state;
    ma_error err;
    ma_xref *t = parse(TABLE("", ROW3("US", "United States", "AMER")), &err);
    assert_non_null(t);
    const char *other = "{\"crossReferences\":{\"crossReference\":[{\"id\":\"zz\",\"overrideValues\":true,"
                        "\"CrossReferenceRows\":{\"row\":[{\"ref1\":\"x\"}]}}]}}";
    assert_int_equal(ma_xref_apply_extensions(t, "t1", other, strlen(other), "ext.json", &err), 0);
    assert_string_equal(look1(t, 0, "us", 1), "United States"); /* another table's override */
    const char *off = "{\"crossReferences\":{\"crossReference\":{\"id\":\"t1\",\"overrideValues\":false,"
                      "\"CrossReferenceRows\":{\"row\":[{\"ref1\":\"x\"}]}}}}";
    assert_int_equal(ma_xref_apply_extensions(t, "t1", off, strlen(off), "ext.json", &err), 0);
    assert_string_equal(look1(t, 0, "us", 1), "United States"); /* Override not ticked */
    const char *on = "{\"@type\":\"EnvironmentExtensions\",\"crossReferences\":{\"@type\":\"CrossReferences\","
                     "\"crossReference\":[{\"@type\":\"CrossReference\",\"id\":\"t1\",\"name\":\"T\","
                     "\"overrideValues\":true,\"CrossReferenceRows\":{\"@type\":\"CrossReferenceRows\",\"row\":["
                     "{\"@type\":\"CrossReferenceRow\",\"ref1\":\"FR\",\"ref2\":\"France\",\"ref3\":\"EMEA\"},"
                     "{\"ref1\":\"US\",\"ref3\":\"NA\"}]}}]}}";
    assert_int_equal(ma_xref_apply_extensions(t, "t1", on, strlen(on), "ext.json", &err), 0);
    assert_int_equal(ma_xref_rows(t), 2);
    assert_string_equal(look1(t, 0, "fr", 1), "France");
    assert_string_equal(look1(t, 0, "us", 1), ""); /* the override replaces every row */
    assert_string_equal(look1(t, 0, "us", 2), "NA");
    const char *wide = "{\"crossReferences\":{\"crossReference\":{\"id\":\"t1\",\"overrideValues\":\"true\","
                       "\"CrossReferenceRows\":{\"row\":{\"ref4\":\"x\"}}}}}";
    assert_int_equal(ma_xref_apply_extensions(t, "t1", wide, strlen(wide), "ext.json", &err), -1);
    assert_non_null(
        strstr(err.msg, "ext.json: crossReference t1 row 1: ref4, but cross reference table 'T' (t1) has 3"));
    assert_int_equal(ma_xref_apply_extensions(t, "t1", "{", 1, "ext.json", &err), -1);
    assert_int_equal(err.code, MA_ERR_PARSE);
    ma_xref_free(t);
}

static void test_in_deployment(void **state)
{
    (void)state;
    ma_error err;
    ma_registry *reg = ma_builtins_registry(&err);
    assert_non_null(reg);
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    const char *comp =
        "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"x1\" name=\"Countries\""
        " type=\"crossref\"><bns:object>" TABLE("",
                                                ROW3("US", "United States", "AMER")) "</bns:object></bns:Component>";
    const char *other =
        "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"p1\" name=\"P\""
        " type=\"processproperty\"><bns:object><DefinedProcessProperties/></bns:object></bns:Component>";
    assert_int_equal(ma_deploy_add_buffer(dep, comp, strlen(comp), "x1.xml", &err), 0);
    assert_int_equal(ma_deploy_add_buffer(dep, other, strlen(other), "p1.xml", &err), 0);
    assert_null(ma_xref_compiled(dep, "x1"));
    const ma_xref *t = ma_xref_for(dep, "x1", &err);
    assert_non_null(t);
    assert_ptr_equal(ma_xref_for(dep, "x1", &err), t); /* compiled once */
    assert_ptr_equal(ma_xref_compiled(dep, "x1"), t);
    assert_string_equal(ma_xref_name(t), "cross reference table 'Countries' (x1)");
    assert_null(ma_xref_for(dep, "gone", &err));
    assert_int_equal(err.code, MA_ERR_REF);
    assert_non_null(strstr(err.msg, "cross reference table gone is not in the deployment"));
    assert_null(ma_xref_for(dep, "p1", &err));
    assert_int_equal(err.code, MA_ERR_REF);
    assert_null(ma_xref_compiled(dep, "p1"));
    ma_deploy_free(dep);
    ma_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_unicode_case),
        cmocka_unit_test(test_several_inputs),
        cmocka_unit_test(test_wildcard_and_regex),
        cmocka_unit_test(test_regex_whole_value),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_bad_tables),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_in_deployment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
