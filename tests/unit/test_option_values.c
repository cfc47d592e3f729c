/* test_option_values.c - enumerated option values (runtime/option_values.c): Boomi's spellings and
 * older ones are read, absent values take the default, and an unknown or unsupported value is
 * refused with a message that lists the values accepted (docs/decisions/027-option-values.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "miniatom/miniatom.h"

enum { W_UNIQUE, W_OVER, W_APPEND, W_ABORT, W_OAUTH };

static const ma_enum write_options[] = {
    {"unique", W_UNIQUE, 0},
    {"over", W_OVER, 0},
    {"append", W_APPEND, 0},
    {"abort", W_ABORT, 0},
    {"create", W_UNIQUE, MA_ENUM_OLD},
    {"overwrite", W_OVER, MA_ENUM_OLD},
    {"oauth", W_OAUTH, MA_ENUM_UNSUPPORTED},
    {NULL, 0, 0},
};

static int parse(const char *text, int opts, int *v, ma_error *err)
{
    ma_error_clear(err);
    *v = -42;
    return ma_enum_parse(write_options, "writeOption", text, W_UNIQUE, opts, v, err);
}

static void test_known_values(void **state)
{
    (void)state;
    ma_error err;
    int v;
    assert_int_equal(parse("over", 0, &v, &err), 0);
    assert_int_equal(v, W_OVER);
    assert_int_equal(parse("abort", 0, &v, &err), 0);
    assert_int_equal(v, W_ABORT);
    assert_int_equal(parse("  append\n", 0, &v, &err), 0); /* blanks around element text */
    assert_int_equal(v, W_APPEND);
    assert_int_equal(parse("overwrite", 0, &v, &err), 0); /* an older spelling */
    assert_int_equal(v, W_OVER);
    assert_int_equal(parse("create", 0, &v, &err), 0);
    assert_int_equal(v, W_UNIQUE);
}

static void test_absent_and_case(void **state)
{
    (void)state;
    ma_error err;
    int v;
    assert_int_equal(parse(NULL, 0, &v, &err), 0);
    assert_int_equal(v, W_UNIQUE);
    assert_int_equal(parse(" ", 0, &v, &err), 0);
    assert_int_equal(v, W_UNIQUE);
    assert_int_equal(parse("", MA_ENUM_REQUIRED, &v, &err), -1);
    assert_int_equal(err.code, MA_ERR_CONFIG);
    assert_string_equal(err.msg, "writeOption is missing (one of: unique, over, append, abort)");
    assert_int_equal(parse("OVER", 0, &v, &err), -1); /* case counts unless asked */
    assert_int_equal(parse("OVER", MA_ENUM_NOCASE, &v, &err), 0);
    assert_int_equal(v, W_OVER);
}

static void test_unknown_lists_accepted(void **state)
{
    (void)state;
    ma_error err;
    int v;
    assert_int_equal(parse("x", 0, &v, &err), -1);
    assert_int_equal(err.code, MA_ERR_CONFIG);
    assert_int_equal(v, -42); /* untouched */
    assert_string_equal(err.msg, "writeOption \"x\" is not one of: unique, over, append, abort (also read: create, "
                                 "overwrite); not supported: oauth");
    char longv[300];
    memset(longv, 'y', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    assert_int_equal(parse(longv, 0, &v, &err), -1);
    assert_non_null(strstr(err.msg, "yyy...\" is not one of"));
    assert_true(strlen(err.msg) < 300);
}

static void test_unsupported(void **state)
{
    (void)state;
    ma_error err;
    int v;
    assert_int_equal(parse("oauth", 0, &v, &err), -1);
    assert_int_equal(err.code, MA_ERR_UNSUPPORTED);
    assert_string_equal(err.msg, "writeOption \"oauth\" is not supported by mini-Atom (supported: unique, over, "
                                 "append, abort)");
}

static void test_names_and_lists(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(ma_enum_name(write_options, W_OVER), "over");
    assert_null(ma_enum_name(write_options, 99));
    assert_string_equal(ma_enum_list(write_options, MA_ENUM_OLD, buf, sizeof buf), "create, overwrite");
    char small[12];
    assert_string_equal(ma_enum_list(write_options, 0, small, sizeof small), "unique, ...");
}

static void test_xml_attribute(void **state)
{
    (void)state;
    const char *x = "<DiskSendAction writeOption=\"over\" other=\"zz\"/>";
    xmlDoc *doc = xmlReadMemory(x, (int)strlen(x), "t.xml", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlNode *n = xmlDocGetRootElement(doc);
    ma_error err;
    ma_error_clear(&err);
    int v = -1;
    assert_int_equal(ma_xml_enum(n, "writeOption", write_options, W_UNIQUE, 0, &v, &err), 0);
    assert_int_equal(v, W_OVER);
    assert_int_equal(ma_xml_enum(n, "absent", write_options, W_APPEND, 0, &v, &err), 0);
    assert_int_equal(v, W_APPEND);
    assert_int_equal(ma_xml_enum(NULL, "writeOption", write_options, W_ABORT, 0, &v, &err), 0);
    assert_int_equal(v, W_ABORT);
    assert_int_equal(ma_xml_enum(n, "other", write_options, W_UNIQUE, 0, &v, &err), -1);
    assert_non_null(strstr(err.msg, "other \"zz\" is not one of: unique, over, append, abort"));
    xmlFreeDoc(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),           cmocka_unit_test(test_absent_and_case),
        cmocka_unit_test(test_unknown_lists_accepted), cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_names_and_lists),        cmocka_unit_test(test_xml_attribute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
