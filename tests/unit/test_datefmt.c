/* test_datefmt.c - Java SimpleDateFormat masks (runtime/datefmt.c): formatting a fixed instant with
 * every supported letter and count, zone offsets, parsing back (round trips, lenient rollover,
 * two-digit years, names) and the compile and parse errors. Expected strings were checked against
 * Java 17's SimpleDateFormat (Locale.US) for the same instants. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "datefmt.h"

/* 2024-02-29T13:05:09.007Z, a Thursday, day 60 of a leap year. */
#define T_SECS ((time_t)1709211909)
#define T_MS 7
#define T_MIDNIGHT ((time_t)1709164800) /* 2024-02-29T00:00:00Z */

static ma_datefmt *compile_ok(const char *mask)
{
    ma_error err;
    ma_error_clear(&err);
    ma_datefmt *f = ma_datefmt_compile(mask, &err);
    if (!f) fail_msg("mask '%s' did not compile: %s", mask, err.msg);
    return f;
}

static void check_fmt(const char *mask, time_t secs, int ms, int off, const char *want)
{
    ma_datefmt *f = compile_ok(mask);
    ma_sb out;
    ma_sb_init(&out);
    assert_int_equal(ma_datefmt_format(f, secs, ms, off, &out), 0);
    const char *got = out.s ? out.s : "";
    if (strcmp(got, want) != 0) {
        print_error("mask: %s (offset %d)\nwant: %s\ngot:  %s\n", mask, off, want, got);
        ma_sb_free(&out);
        ma_datefmt_free(f);
        fail();
    }
    ma_sb_free(&out);
    ma_datefmt_free(f);
}

static void check_parse(const char *mask, const char *text, time_t want_secs, int want_ms)
{
    ma_datefmt *f = compile_ok(mask);
    ma_error err;
    ma_error_clear(&err);
    time_t secs = -12345;
    int ms = -1;
    if (ma_datefmt_parse(f, text, &secs, &ms, &err) < 0) {
        ma_datefmt_free(f);
        fail_msg("parse '%s' with '%s' failed: %s", text, mask, err.msg);
    }
    ma_datefmt_free(f);
    if (secs != want_secs || ms != want_ms)
        fail_msg("parse '%s' with '%s': got %lld.%03d, want %lld.%03d", text, mask, (long long)secs, ms,
                 (long long)want_secs, want_ms);
}

static void check_parse_error(const char *mask, const char *text, const char *piece1, const char *piece2)
{
    ma_datefmt *f = compile_ok(mask);
    ma_error err;
    ma_error_clear(&err);
    time_t secs;
    int ms;
    int rc = ma_datefmt_parse(f, text, &secs, &ms, &err);
    ma_datefmt_free(f);
    if (rc == 0) fail_msg("parse '%s' with '%s' succeeded but should not", text, mask);
    assert_int_equal(err.code, MA_ERR_PARSE);
    if (piece1 && !strstr(err.msg, piece1)) fail_msg("error '%s' lacks '%s'", err.msg, piece1);
    if (piece2 && !strstr(err.msg, piece2)) fail_msg("error '%s' lacks '%s'", err.msg, piece2);
}

static void check_compile_error(const char *mask, const char *piece1, const char *piece2)
{
    ma_error err;
    ma_error_clear(&err);
    ma_datefmt *f = ma_datefmt_compile(mask, &err);
    if (f) {
        ma_datefmt_free(f);
        fail_msg("mask '%s' compiled but should not", mask);
    }
    assert_int_equal(err.code, MA_ERR_PARSE);
    if (piece1 && !strstr(err.msg, piece1)) fail_msg("'%s': error '%s' lacks '%s'", mask, err.msg, piece1);
    if (piece2 && !strstr(err.msg, piece2)) fail_msg("'%s': error '%s' lacks '%s'", mask, err.msg, piece2);
}

static void test_format_common_masks(void **state)
{
    (void)state;
    check_fmt("yyyy-MM-dd'T'HH:mm:ss.SSSZ", T_SECS, T_MS, 0, "2024-02-29T13:05:09.007+0000");
    check_fmt("EEE, d MMM yyyy HH:mm:ss Z", T_SECS, T_MS, 0, "Thu, 29 Feb 2024 13:05:09 +0000");
    check_fmt("hh 'o''clock' a", T_SECS, T_MS, 0, "01 o'clock PM");
    check_fmt("yyyyMMdd HHmmss.SSS", T_SECS, T_MS, 0, "20240229 130509.007");
    check_fmt("yyyy.MM.dd G 'at' HH:mm:ss z", T_SECS, T_MS, 0, "2024.02.29 AD at 13:05:09 UTC");
    check_fmt("EEEE, MMMM d, yy", T_SECS, T_MS, 0, "Thursday, February 29, 24");
    check_fmt("MM/dd/yyyy hh:mm:ss a", T_SECS, T_MS, 0, "02/29/2024 01:05:09 PM");
    check_fmt("K:mm a, z", T_SECS, T_MS, 0, "1:05 PM, UTC");
    check_fmt("yyyy-MM-dd", T_SECS, T_MS, 0, "2024-02-29");
    check_fmt("", T_SECS, T_MS, 0, "");
    check_fmt("'literal only'", T_SECS, T_MS, 0, "literal only");
}

static void test_format_letters_and_counts(void **state)
{
    (void)state;
    check_fmt("G yy M MMMM EEEE D u k K h S SSSS w W F", T_SECS, T_MS, 0,
              "AD 24 2 February Thursday 60 4 13 1 1 7 0007 9 5 5");
    check_fmt("y yyy yyyyy", T_SECS, T_MS, 0, "2024 2024 02024");
    check_fmt("L LL LLL LLLL", T_SECS, T_MS, 0, "2 02 Feb February");
    check_fmt("E EE EEE EEEE", T_SECS, T_MS, 0, "Thu Thu Thu Thursday");
    check_fmt("DDD ddd uu", T_SECS, T_MS, 0, "060 029 04");
    check_fmt("H:m:s.S", T_SECS, T_MS, 0, "13:5:9.7");
    check_fmt("HH:mm:ss.SSS", T_SECS, 123, 0, "13:05:09.123");
    check_fmt("GGGG zzzz", T_SECS, T_MS, 0, "AD Coordinated Universal Time");
    check_fmt("''yyyy'' 'it''s'", T_SECS, T_MS, 0, "'2024' it's");
    check_fmt("yyyy-MM-dd'T'HH:mm:ss'Z'", T_SECS, T_MS, 0, "2024-02-29T13:05:09Z");
    check_fmt("dd.MM.yyyy \xc3\xa0 HH", T_SECS, T_MS, 0, "29.02.2024 \xc3\xa0 13"); /* non-ASCII literal */
    /* midnight: k is 24, h is 12, K and H are 0 */
    check_fmt("k h a K H", T_MIDNIGHT, 0, 0, "24 12 AM 0 0");
    /* noon */
    check_fmt("k h a K H", T_MIDNIGHT + 12 * 3600, 0, 0, "12 12 PM 0 12");
}

static void test_format_offsets(void **state)
{
    (void)state;
    check_fmt("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", T_SECS, T_MS, 0, "2024-02-29T13:05:09.007Z");
    check_fmt("X XX XXX", T_SECS, T_MS, 0, "Z Z Z");
    check_fmt("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", T_SECS, T_MS, 330, "2024-02-29T18:35:09.007+05:30");
    check_fmt("X|XX|XXX|Z|z|zzzz", T_SECS, T_MS, 330, "+05|+0530|+05:30|+0530|GMT+05:30|GMT+05:30");
    check_fmt("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", T_SECS, T_MS, -480, "2024-02-29T05:05:09.007-08:00");
    check_fmt("X|XX|XXX|Z|z", T_SECS, T_MS, -480, "-08|-0800|-08:00|-0800|GMT-08:00");
    check_fmt("EEE, d MMM yyyy HH:mm:ss Z", T_SECS, T_MS, -300, "Thu, 29 Feb 2024 08:05:09 -0500");
    /* the offset moves the local date across midnight */
    check_fmt("yyyy-MM-dd HH:mm E", T_SECS, T_MS, 660, "2024-03-01 00:05 Fri");
    check_fmt("yyyy-MM-dd HH:mm E", T_MIDNIGHT, 0, -60, "2024-02-28 23:00 Wed");
}

static void test_format_calendar_edges(void **state)
{
    (void)state;
    /* 2024-12-30 belongs to week 1 of week-year 2025 (weeks start on Sunday, week 1 holds Jan 1) */
    check_fmt("YYYY-'W'ww yyyy", (time_t)1735516800, 0, 0, "2025-W01 2024");
    check_fmt("YY w", (time_t)1735516800, 0, 0, "25 1");
    check_fmt("YYYY ww EEE", (time_t)1735344000, 0, 0, "2024 52 Sat"); /* 2024-12-28 */
    check_fmt("YYYY w W F", (time_t)1704067200, 0, 0, "2024 1 1 1");   /* 2024-01-01, Monday */
    /* before the epoch, milliseconds included */
    check_fmt("yyyy-MM-dd HH:mm:ss.SSS EEE", (time_t)-1, 999, 0, "1969-12-31 23:59:59.999 Wed");
    check_fmt("yyyy-MM-dd HH:mm:ss.SSS", (time_t)0, -1, 0, "1969-12-31 23:59:59.999");
    check_fmt("yyyy-MM-dd HH:mm:ss.SSS", (time_t)0, 1500, 0, "1970-01-01 00:00:01.500");
    /* 1 BC is year 0 of the proleptic calendar */
    check_fmt("yyyy G", (time_t)-62167219200LL, 0, 0, "0001 BC");
    check_fmt("yyyy-MM-dd", (time_t)253402214400LL, 0, 0, "9999-12-31");
    check_fmt("yyyy-MM-dd", (time_t)951782400, 0, 0, "2000-02-29");    /* 400-year leap rule */
    check_fmt("yyyy-MM-dd", (time_t)4107542400LL, 0, 0, "2100-03-01"); /* 2100 is not leap */
}

static void test_format_refuses_bad_input(void **state)
{
    (void)state;
    ma_datefmt *f = compile_ok("yyyy");
    ma_sb out;
    ma_sb_init(&out);
    assert_int_equal(ma_datefmt_format(f, T_SECS, 0, 25 * 60, &out), -1);
    assert_int_equal(ma_datefmt_format(f, (time_t)INT64_MAX, 0, 0, &out), -1);
    ma_sb_free(&out);
    ma_datefmt_free(f);
}

static void roundtrip(const char *mask, int off)
{
    ma_datefmt *f = compile_ok(mask);
    ma_sb out;
    ma_sb_init(&out);
    assert_int_equal(ma_datefmt_format(f, T_SECS, T_MS, off, &out), 0);
    ma_error err;
    ma_error_clear(&err);
    time_t secs = 0;
    int ms = -1;
    if (ma_datefmt_parse(f, out.s, &secs, &ms, &err) < 0)
        fail_msg("'%s' (%s, offset %d) does not parse back: %s", out.s, mask, off, err.msg);
    if (secs != T_SECS || ms != T_MS)
        fail_msg("'%s' (%s, offset %d) parsed as %lld.%03d", out.s, mask, off, (long long)secs, ms);
    ma_sb_free(&out);
    ma_datefmt_free(f);
}

static void test_parse_roundtrips(void **state)
{
    (void)state;
    static const char *const masks[] = {
        "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
        "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
        "yyyy-MM-dd'T'HH:mm:ss.SSSXX",
        "EEE, d MMM yyyy HH:mm:ss.SSS Z",
        "EEEE, MMMM dd, yyyy hh:mm:ss.SSS a z",
        "yyyy.MM.dd G 'at' HH:mm:ss.SSS zzzz",
        "yyyy-DDD kk:mm:ss.SSS Z",
        "yyyyMMddHHmmssSSSZ",
        "dd-MMM-yy KK:mm:ss:SSS a XXX",
        "'on' yyyy/M/d 'at' H:m:s.S Z",
    };
    static const int offs[] = {0, 330, -480, 60, -690};
    for (size_t i = 0; i < sizeof masks / sizeof *masks; i++)
        for (size_t j = 0; j < sizeof offs / sizeof *offs; j++) roundtrip(masks[i], offs[j]);
    /* masks without a zone are read as UTC */
    roundtrip("yyyyMMdd HHmmss.SSS", 0);
    roundtrip("yyyyMMddHHmmssSSS", 0);
    /* X keeps whole hours only */
    roundtrip("yyyy-MM-dd HH:mm:ss.SSS X", -480);
    roundtrip("yyyy-MM-dd HH:mm:ss.SSS X", 0);
}

static void test_parse_values(void **state)
{
    (void)state;
    check_parse("yyyy-MM-dd", "2024-02-29", T_MIDNIGHT, 0);
    check_parse("dd/MM/yy", "29/02/24", T_MIDNIGHT, 0); /* two-digit year: 80 back, 20 ahead */
    /* yyyy takes 24 literally: year 24 (proleptic Gregorian; Java's Julian calendar says 2 days
     * earlier, -61410009600, for dates before 1582) */
    check_parse("yyyy", "24", (time_t)-61409836800LL, 0);
    check_parse("hh:mm a", "01:05 PM", 47100, 0);
    check_parse("hh:mm a", "12:30 AM", 1800, 0);
    check_parse("hh:mm a", "12:30 pm", 45000, 0);
    check_parse("HH:mm:ss", "13:05:09", 47109, 0);
    check_parse("kk:mm", "24:00", 0, 0);
    check_parse("EEEE, MMMM d, yyyy", "Thursday, February 29, 2024", T_MIDNIGHT, 0);
    check_parse("EEE, d MMM yyyy", "thu, 29 FEB 2024", T_MIDNIGHT, 0);
    check_parse("MMM d yyyy", "February 29 2024", T_MIDNIGHT, 0); /* MMM also reads long names */
    check_parse("yyyy-MM-dd'T'HH:mm:ssX", "2024-02-29T13:05:09Z", T_SECS, 0);
    check_parse("yyyy-MM-dd'T'HH:mm:ss'Z'", "2024-02-29T13:05:09Z", T_SECS, 0);
    check_parse("yyyy-MM-dd HH:mm:ss z", "2024-02-29 13:05:09 GMT+05:30", T_SECS - 19800, 0);
    check_parse("yyyy-MM-dd HH:mm:ss z", "2024-02-29 13:05:09 UTC", T_SECS, 0);
    check_parse("yyyy-MM-dd HH:mm:ss Z", "2024-02-29 13:05:09 -0800", T_SECS + 28800, 0);
    check_parse("yyyy-MM-dd HH:mm:ss.SSS", "2024-02-29 13:05:09.7", T_SECS, 7); /* S is a count */
    check_parse("yyyyMMdd", "20240229", T_MIDNIGHT, 0);
    check_parse("yyyy-D", "2024-60", T_MIDNIGHT, 0);
    check_parse("yyyy G", "1 BC", (time_t)-62167219200LL, 0);
    check_parse("", "", 0, 0); /* nothing given: 1970-01-01T00:00:00Z */
    /* lenient like Java: Feb 30 rolls over, month 13 is next January */
    check_parse("yyyy-MM-dd", "2024-02-30", T_MIDNIGHT + 86400, 0);
    check_parse("yyyy-MM-dd", "2023-13-01", (time_t)1704067200, 0);
    /* Java skips blanks before a field and ignores trailing text */
    check_parse("yyyy-MM-dd", " 2024-02-29 and more", T_MIDNIGHT, 0);
}

static void test_parse_errors(void **state)
{
    (void)state;
    check_parse_error("yyyy-MM-dd", "2024-xx-01", "character 6", "expected a number for 'MM'");
    check_parse_error("yyyy-MM-dd", "2024/02/29", "character 5", "expected '-'");
    check_parse_error("yyyy-MM-dd", "2024/02/29", "'yyyy-MM-dd'", "'2024/02/29'");
    check_parse_error("EEE, d MMM yyyy", "Foo, 29 Feb 2024", "day name", NULL);
    check_parse_error("d MMM yyyy", "29 Fbr 2024", "month name", NULL);
    check_parse_error("yyyy-MM-dd HH:mm z", "2024-02-29 13:05 XYZ", "time zone", NULL);
    check_parse_error("HH:mm Z", "13:05 +2500", "time zone", NULL);
    check_parse_error("yyyy", "", "expected a number", NULL);
    check_parse_error("hh:mm a", "12:00 XM", "AM or PM", NULL);
    check_parse_error("yyyy", "12345678901", "too large", NULL);
    check_parse_error("yyyy-MM-dd'T'HH", "2024-02-29 13", "expected 'T'", NULL);
    /* found by fuzzing: a wide field directly followed by another one once overflowed */
    check_parse_error("yyyyyyyyyyyyyyyyyyyyyyyyMM", "999999999999999999999999999901", "too large", NULL);
}

static void test_parse_wide_fields(void **state)
{
    (void)state;
    /* leading zeros do not count against the size limit */
    check_parse("yyyyyyyyyyyyMM", "00000000202402", (time_t)1706745600, 0);
    check_parse("yyyy-MM-dd HH:mm:ss.SSS", "2024-02-29 13:05:09.0000000007", T_SECS, 7);
}

static void test_compile_errors(void **state)
{
    (void)state;
    check_compile_error("yyyy-MM-dd q", "column 12", "'q'");
    check_compile_error("yyyy-MM-ddTHH:mm", "column 11", "'T'"); /* a common mistake: unquoted T */
    check_compile_error("yyyy 'unclosed", "column 6", "not closed");
    check_compile_error("XXXX", "column 1", "X");
    check_compile_error("yyyy-MM-dd b", "'b'", NULL);
    ma_datefmt_free(NULL);
    /* every supported letter compiles */
    ma_datefmt_free(compile_ok("G y Y M L d D E u a H k K h m s S z Z X w W F"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_common_masks),
        cmocka_unit_test(test_format_letters_and_counts),
        cmocka_unit_test(test_format_offsets),
        cmocka_unit_test(test_format_calendar_edges),
        cmocka_unit_test(test_format_refuses_bad_input),
        cmocka_unit_test(test_parse_roundtrips),
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_wide_fields),
        cmocka_unit_test(test_compile_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
