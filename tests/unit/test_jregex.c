/* test_jregex.c - Java regular expressions on PCRE2 (miniatom/jregex.h, runtime/jregex.c and the
 * syntax adapter runtime/jregex_java.c): compile errors with Java's reason and index, refusals,
 * the match limits (a pathological pattern fails with the limit error), the replacement syntax and
 * its errors, the output bound, bytes that are not UTF-8, and one compiled pattern shared by
 * several threads. The meaning of patterns is compared with java.util.regex by tests/regex. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "miniatom/miniatom.h"

/* Compiling java fails with code, and the message holds each of the NULL-ended parts. */
static void refused(const char *java, int code, ...)
{
    ma_error err;
    ma_error_clear(&err);
    ma_jregex *re = ma_jregex_compile(java, 0, &err);
    if (re) fail_msg("'%s' compiled", java);
    assert_int_equal(err.code, code);
    va_list ap;
    va_start(ap, code);
    for (const char *part; (part = va_arg(ap, const char *)) != NULL;)
        if (!strstr(err.msg, part)) fail_msg("'%s': message '%s' lacks '%s'", java, err.msg, part);
    va_end(ap);
}

static void test_compile_errors(void **state)
{
    (void)state;
    /* what Java refuses: Java's reason and index */
    refused("[a", MA_ERR_CONFIG, "regular expression '[a'", "Unclosed character class", "near index 2", NULL);
    refused("a{", MA_ERR_CONFIG, "Illegal repetition", "near index 1", NULL);
    refused("ab)", MA_ERR_CONFIG, "Unmatched closing ')'", "near index 2", NULL);
    refused("(ab", MA_ERR_CONFIG, "Unclosed group", NULL);
    refused("*a", MA_ERR_CONFIG, "Dangling meta character '*'", "near index 0", NULL);
    refused("[z-a]", MA_ERR_CONFIG, "Illegal character range", NULL);
    refused("\\y", MA_ERR_CONFIG, "Illegal/unsupported escape sequence", NULL);
    refused("\\p{Foo}", MA_ERR_CONFIG, "Unknown character property name {Foo}", NULL);
    refused("(?<a>x)(?<a>y)", MA_ERR_CONFIG, "Named capturing group <a> is already defined", NULL);
    refused("\\k<b>", MA_ERR_CONFIG, "named capturing group <b> does not exist", NULL);
    refused("(?P<a>x)", MA_ERR_CONFIG, "Unknown inline modifier", NULL);
    /* an index counts characters as Java does (a supplementary character is two) */
    refused("\xc3\xa9\xf0\x9f\x98\x80[", MA_ERR_CONFIG, "near index 4", NULL);
    /* a script PCRE2 does not know: PCRE2's reason at the Java index */
    refused("ab\\p{IsNoSuchScript}", MA_ERR_CONFIG, "near index 2", NULL);
    /* refused on purpose, with the reason */
    refused("\\Ga", MA_ERR_UNSUPPORTED, "\\G", "not supported", "near index 0", NULL);
    refused("x(?<=ab?)c", MA_ERR_UNSUPPORTED, "lookbehind whose length varies", "PCRE2 10.", NULL);
    refused("[\\p{InGreek}]", MA_ERR_UNSUPPORTED, "Unicode blocks", NULL);
    refused("(?i)(a)\\1", MA_ERR_UNSUPPORTED, "backreference under (?i) without (?u)", NULL);
    refused("(?U)\\w", MA_ERR_UNSUPPORTED, "UNICODE_CHARACTER_CLASS", NULL);
    refused("a{70000}", MA_ERR_UNSUPPORTED, "65535", NULL);
    /* not UTF-8 */
    refused("a\xff", MA_ERR_CONFIG, "not UTF-8", NULL);
}

static void test_match_modes(void **state)
{
    (void)state;
    ma_error err;
    ma_jregex *whole = ma_jregex_compile("(?s).*?container.*?", MA_JREGEX_WHOLE, &err);
    ma_jregex *find = ma_jregex_compile("cont[a-z]+", 0, &err);
    assert_non_null(whole);
    assert_non_null(find);
    const char *doc = "first line\nthe container\nlast";
    assert_int_equal(ma_jregex_match(whole, doc, strlen(doc), &err), 1);
    assert_int_equal(ma_jregex_match(whole, "no\nbox", 6, &err), 0);
    assert_int_equal(ma_jregex_match(find, doc, strlen(doc), &err), 1);
    size_t ov[2];
    assert_int_equal(ma_jregex_find(find, doc, strlen(doc), 0, ov, 1, &err), 1);
    assert_int_equal(ov[0], 15);
    assert_int_equal(ov[1], 24);
    assert_int_equal(ma_jregex_find(find, doc, strlen(doc), 16, ov, 1, &err), 0);
    /* a NUL inside the value is an ordinary character */
    assert_int_equal(ma_jregex_match(whole, "a\0container", 11, &err), 1);
    /* bytes that are not UTF-8 read as U+FFFD (one character each), as Java's decoder reads them,
     * whichever PCRE2 engine runs (JIT, or the interpreter under valgrind) */
    ma_jregex *any = ma_jregex_compile("(?s).*", MA_JREGEX_WHOLE, &err);
    ma_jregex *one = ma_jregex_compile("a.b", MA_JREGEX_WHOLE, &err);
    ma_jregex *fffd = ma_jregex_compile("a\\x{FFFD}+b", MA_JREGEX_WHOLE, &err);
    assert_non_null(any);
    assert_non_null(one);
    assert_non_null(fffd);
    assert_int_equal(ma_jregex_match(any,
                                     "a\xff"
                                     "b",
                                     3, &err),
                     1);
    assert_int_equal(ma_jregex_match(one,
                                     "a\xff"
                                     "b",
                                     3, &err),
                     1);
    assert_int_equal(ma_jregex_match(one,
                                     "a\xc3\xa9"
                                     "b",
                                     4, &err),
                     1);
    assert_int_equal(ma_jregex_match(one,
                                     "a\xff\xfe"
                                     "b",
                                     4, &err),
                     0);
    assert_int_equal(ma_jregex_match(fffd,
                                     "a\xff\xfe"
                                     "b",
                                     4, &err),
                     1);
    ma_jregex *onef = ma_jregex_compile("a.b", 0, &err);
    assert_non_null(onef);
    ma_jregex_repl *r = ma_jregex_repl_compile(onef, "[$0]", &err);
    assert_non_null(r);
    ma_sb out;
    ma_sb_init(&out);
    assert_int_equal(ma_jregex_replace(onef, r,
                                       "xa\xff"
                                       "by",
                                       5, &out, 100, &err),
                     0);
    assert_int_equal(out.len, 9);
    assert_memory_equal(out.s,
                        "x[a\xef\xbf\xbd"
                        "b]y",
                        9);
    ma_sb_free(&out);
    ma_jregex_repl_free(r);
    ma_jregex_free(onef);
    ma_jregex_free(one);
    ma_jregex_free(fffd);
    assert_string_equal(ma_jregex_pattern(find), "cont[a-z]+");
    assert_int_equal(ma_jregex_groups(find), 0);
    ma_jregex_free(any);
    ma_jregex_free(whole);
    ma_jregex_free(find);
}

static void test_match_limit(void **state)
{
    (void)state;
    ma_error err;
    /* (a+)+b itself is no test: PCRE2 sees at once that the value has no 'b' */
    ma_jregex *re = ma_jregex_compile("(a+)+[bc]", MA_JREGEX_WHOLE, &err);
    assert_non_null(re);
    char s[64];
    memset(s, 'a', sizeof s - 1);
    s[sizeof s - 1] = '\0';
    ma_error_clear(&err);
    assert_int_equal(ma_jregex_match(re, s, strlen(s), &err), -1);
    assert_int_equal(err.code, MA_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "match limit"));
    assert_non_null(strstr(err.msg, "(a+)+[bc]"));
    /* the same pattern on a value it can decide quickly still works */
    assert_int_equal(ma_jregex_match(re, "aab", 3, &err), 1);
    /* the replacement fails the same way */
    ma_jregex *f = ma_jregex_compile("(a+)+[bc]", 0, &err);
    ma_jregex_repl *r = ma_jregex_repl_compile(f, "x", &err);
    assert_non_null(r);
    ma_sb out;
    ma_sb_init(&out);
    ma_error_clear(&err);
    assert_int_equal(ma_jregex_replace(f, r, s, strlen(s), &out, 1 << 20, &err), -1);
    assert_int_equal(err.code, MA_ERR_LIMIT);
    ma_sb_free(&out);
    ma_jregex_repl_free(r);
    ma_jregex_free(f);
    ma_jregex_free(re);
}

/* replaceAll(repl) of java on s, or NULL when the replacement does not compile (err.msg kept). */
static char *replace(const char *java, const char *s, const char *repl, ma_error *err)
{
    ma_jregex *re = ma_jregex_compile(java, 0, err);
    assert_non_null(re);
    ma_jregex_repl *r = ma_jregex_repl_compile(re, repl, err);
    char *res = NULL;
    if (r) {
        ma_sb out;
        ma_sb_init(&out);
        assert_int_equal(ma_jregex_replace(re, r, s, strlen(s), &out, 1 << 20, err), 0);
        res = ma_sb_take(&out, NULL);
    }
    ma_jregex_repl_free(r);
    ma_jregex_free(re);
    return res;
}

static void expect_replace(const char *java, const char *s, const char *repl, const char *want)
{
    ma_error err;
    char *got = replace(java, s, repl, &err);
    if (!got) fail_msg("%s / %s: %s", java, repl, err.msg);
    if (strcmp(got, want) != 0) fail_msg("%s on '%s' with '%s': '%s', not '%s'", java, s, repl, got, want);
    free(got);
}

static void expect_repl_error(const char *java, const char *repl, const char *part)
{
    ma_error err;
    ma_error_clear(&err);
    char *got = replace(java, "abc", repl, &err);
    if (got) fail_msg("'%s' compiled as a replacement", repl);
    assert_int_equal(err.code, MA_ERR_CONFIG);
    if (!strstr(err.msg, part)) fail_msg("'%s': message '%s' lacks '%s'", repl, err.msg, part);
}

static void test_replacement(void **state)
{
    (void)state;
    expect_replace("(\\w+)@(\\w+)", "bob@host", "$2/$1", "host/bob");
    expect_replace("(?<u>\\w+)@(?<h>\\w+)", "bob@host", "${h}:${u}", "host:bob");
    expect_replace("\\d+", "cost 42", "\\$$0", "cost $42");
    expect_replace("a", "banana", "\\\\", "b\\n\\n\\");
    expect_replace("(a)(b)", "ab", "$21", "b1");          /* no group 21: group 2, then "1" */
    expect_replace("(x)?y", "y xy", "[$1]", "[] [x]");    /* an unset group is empty */
    expect_replace("b*", "abc", "-", "-a--c-");           /* empty matches as Java */
    expect_replace("", "\xc3\xa9z", "-", "-\xc3\xa9-z-"); /* one character further, not one byte */
    expect_replace("x", "", "y", "");
    expect_repl_error("a", "$", "group index is missing");
    expect_repl_error("a", "x\\", "character to be escaped is missing");
    expect_repl_error("a", "$1", "No group 1");
    expect_repl_error("a", "${nope}", "No group with name {nope}");
    expect_repl_error("a", "${}", "0 length name");
    expect_repl_error("a", "$x", "Illegal group reference");
    expect_repl_error("(?<a>x)", "${a", "missing trailing '}'");
}

static void test_output_bound(void **state)
{
    (void)state;
    ma_error err;
    ma_jregex *re = ma_jregex_compile("a", 0, &err);
    ma_jregex_repl *r = ma_jregex_repl_compile(re, "0123456789", &err);
    ma_sb out;
    ma_sb_init(&out);
    ma_error_clear(&err);
    assert_int_equal(ma_jregex_replace(re, r, "aaaaaaaaaa", 10, &out, 50, &err), -1);
    assert_int_equal(err.code, MA_ERR_LIMIT);
    ma_sb_free(&out);
    ma_jregex_repl_free(r);
    ma_jregex_free(re);
}

/* ---- one pattern, several threads ---- */

typedef struct job {
    const ma_jregex *re;
    const ma_jregex_repl *repl;
    int bad;
} job;

static void *worker(void *p)
{
    job *j = p;
    char in[64];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(in, sizeof in, "id-%d and id-%d", i, i + 1);
        ma_error err;
        ma_sb out;
        ma_sb_init(&out);
        if (ma_jregex_replace(j->re, j->repl, in, (size_t)n, &out, 1 << 20, &err) < 0) j->bad++;
        char want[64];
        snprintf(want, sizeof want, "<%d> and <%d>", i, i + 1);
        if (!out.s || strcmp(out.s, want) != 0) j->bad++;
        ma_sb_free(&out);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    ma_error err;
    ma_jregex *re = ma_jregex_compile("id-(?<n>\\d+)", 0, &err);
    ma_jregex_repl *r = ma_jregex_repl_compile(re, "<${n}>", &err);
    assert_non_null(r);
    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){re, r, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].bad, 0);
    }
    ma_jregex_repl_free(r);
    ma_jregex_free(re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_errors), cmocka_unit_test(test_match_modes),  cmocka_unit_test(test_match_limit),
        cmocka_unit_test(test_replacement),    cmocka_unit_test(test_output_bound), cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
