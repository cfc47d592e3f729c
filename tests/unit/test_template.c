/* test_template.c - message templates (runtime/template.c): Java MessageFormat quoting as Boomi's
 * Message, Notify and Exception shapes use it (boomi-atom-semantics.md 2 "Message"), argument
 * references, and compile errors that name the column. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "template.h"

/* Compiles text (must succeed), renders it with args, returns the malloc'ed result. */
static char *render(const char *text, const char *const *args, size_t nargs)
{
    ma_error err;
    ma_error_clear(&err);
    ma_template *t = ma_template_compile(text, &err);
    if (!t) fail_msg("compile '%s' failed: %s", text, err.msg);
    ma_sb out;
    ma_sb_init(&out);
    assert_int_equal(ma_template_render(t, args, nargs, &out), 0);
    ma_template_free(t);
    char *s = ma_sb_take(&out, NULL);
    assert_non_null(s);
    return s;
}

static void check(const char *text, const char *const *args, size_t nargs, const char *want)
{
    char *got = render(text, args, nargs);
    if (strcmp(got, want) != 0) {
        print_error("template: %s\nwant: %s\ngot:  %s\n", text, want, got);
        free(got);
        fail();
    }
    free(got);
}

/* Compiling text must fail; the message must contain each of the given pieces. */
static void check_error(const char *text, const char *piece1, const char *piece2)
{
    ma_error err;
    ma_error_clear(&err);
    ma_template *t = ma_template_compile(text, &err);
    if (t) {
        ma_template_free(t);
        fail_msg("'%s' compiled but should not", text);
    }
    assert_int_equal(err.code, MA_ERR_PARSE);
    if (piece1 && !strstr(err.msg, piece1)) fail_msg("'%s': error '%s' lacks '%s'", text, err.msg, piece1);
    if (piece2 && !strstr(err.msg, piece2)) fail_msg("'%s': error '%s' lacks '%s'", text, err.msg, piece2);
}

static void test_plain_and_args(void **state)
{
    (void)state;
    const char *args[] = {"12", "x", "third"};
    check("", args, 3, "");
    check("hello", args, 3, "hello");
    check("{1}", args, 3, "12");
    check("a{1}b{2}c{3}d", args, 3, "a12bxcthirdd");
    check("{3}{3}{1}", args, 3, "thirdthird12");
    check("{01}", args, 3, "12"); /* leading zeros, as Integer.parseInt reads them */
    check("multi\nline {2}\n", args, 3, "multi\nline x\n");
    check("caf\xc3\xa9 {1}", args, 3, "caf\xc3\xa9 12");
}

static void test_quotes(void **state)
{
    (void)state;
    const char *args[] = {"12", "x"};
    check("today's date", args, 2, "todays date");   /* a lone quote is removed */
    check("today''s date", args, 2, "today's date"); /* '' is one quote */
    check("''", args, 2, "'");
    check("''''", args, 2, "''");
    check("'{1}' is {1}", args, 2, "{1} is 12");
    check("{1} o'clock {2}", args, 2, "12 oclock {2}"); /* unclosed quote escapes the rest */
    check("'it''s {1}'", args, 2, "it's {1}");          /* '' inside quotes is one quote too */
    check("'['{1}']'", args, 2, "[12]");                /* a real Boomi template */
    check("'", args, 2, "");
    check("'{'", args, 2, "{");
}

static void test_json_in_quotes(void **state)
{
    (void)state;
    const char *args[] = {"ARG"};
    check("'{\"id\": {1}, \"name\": \"n\"}'", args, 1, "{\"id\": {1}, \"name\": \"n\"}");
    /* JSON quoted around an argument, the way Boomi users write it */
    check("'{\"id\": \"'{1}'\"}'", args, 1, "{\"id\": \"ARG\"}");
    /* a multi-line JSON body wrapped in quotes is copied verbatim */
    check("'{\n  \"a\": [1, 2],\n  \"b\": {}\n}'", args, 1, "{\n  \"a\": [1, 2],\n  \"b\": {}\n}");
}

static void test_missing_args(void **state)
{
    (void)state;
    const char *args[] = {"one"};
    check("{1} {2}", args, 1, "one {2}");
    check("{2,number}", args, 1, "{2}"); /* MessageFormat prints the bare number */
    check("{1}{7}", NULL, 0, "{1}{7}");
    const char *with_null[] = {NULL, "b"};
    check("[{1}][{2}]", with_null, 2, "[][b]"); /* a NULL argument renders as "" */
}

static void test_format_types(void **state)
{
    (void)state;
    const char *args[] = {"1234.5", "2024-01-01"};
    check("{1,number}", args, 2, "1234.5");
    check("{1,number,#.##} and {2,date,yyyy-MM-dd}", args, 2, "1234.5 and 2024-01-01");
    check("{1,choice,0#none|1#{1} items}", args, 2, "1234.5"); /* nested braces are skipped */
    check("{1,number,'}'}!", args, 2, "1234.5!");              /* a quoted brace in the style */
    check("{1,}", args, 2, "1234.5");
}

static void test_lone_close_brace(void **state)
{
    (void)state;
    const char *args[] = {"v"};
    check("a}b", args, 1, "a}b");
    check("}{1}}", args, 1, "}v}");
}

static void test_errors(void **state)
{
    (void)state;
    check_error("{x}", "column 1", "does not start an argument");
    check_error("{1", "column 1", "not closed");
    check_error("abc {1,number", "column 5", "not closed");
    check_error("{}", "column 1", "does not start an argument");
    check_error("{ 1}", "column 1", NULL);
    check_error("{1 }", "column 1", NULL);
    check_error("{-1}", "column 1", NULL);
    check_error("{0}", "column 1", "start at 1");
    check_error("{99999999999}", "column 1", "too large");
    check_error("ok {1} then {", "column 13", "does not start an argument");
    check_error("'q' {1} {a}", "column 9", NULL);
    check_error("line1\nab{z}", "line 2, column 3", NULL);
    check_error("\xc3\xa9\xc3\xa9{z}", "column 3", NULL); /* columns count characters */
    check_error("{1,'unclosed}", "not closed", NULL);
}

static void test_max_arg_and_reuse(void **state)
{
    (void)state;
    ma_error err;
    ma_template *t = ma_template_compile("{2} and '{9}' {5,number} {3}", &err);
    assert_non_null(t);
    assert_int_equal(ma_template_max_arg(t), 5);
    /* rendering appends, and a compiled template renders many times */
    ma_sb out;
    ma_sb_init(&out);
    const char *a1[] = {"a", "b", "c", "d", "e"};
    const char *a2[] = {"A", "B", "C"};
    assert_int_equal(ma_template_render(t, a1, 5, &out), 0);
    assert_int_equal(ma_sb_putc(&out, '|'), 0);
    assert_int_equal(ma_template_render(t, a2, 3, &out), 0);
    assert_string_equal(out.s, "b and {9} e c|B and {9} {5} C");
    ma_sb_free(&out);
    ma_template_free(t);

    t = ma_template_compile("no args", &err);
    assert_non_null(t);
    assert_int_equal(ma_template_max_arg(t), 0);
    ma_template_free(t);
    ma_template_free(NULL);

    /* NULL text is the empty template */
    t = ma_template_compile(NULL, &err);
    assert_non_null(t);
    ma_template_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_args), cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_json_in_quotes), cmocka_unit_test(test_missing_args),
        cmocka_unit_test(test_format_types),   cmocka_unit_test(test_lone_close_brace),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_max_arg_and_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
