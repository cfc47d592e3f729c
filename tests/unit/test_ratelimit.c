/* test_ratelimit.c - the rates per key of `miniatom serve` (server_ratelimit.c): failed logins per
 * client and user, debug runs per user. Leaky buckets in a fixed table: a key over its rate is told
 * how long to wait, keys and kinds do not mix, a full table keeps its busiest keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server.h"

static unsigned take(ma_ratelimit *rl, char kind, const char *key)
{
    return ma_ratelimit_take(rl, kind, key, strlen(key));
}

static void test_take_until_full(void **state)
{
    (void)state;
    ma_ratelimit *rl = ma_ratelimit_new(64, 3, 42);
    assert_non_null(rl);
    for (int i = 0; i < 3; i++) assert_int_equal(take(rl, 'c', "127.0.0.1"), 0);
    unsigned w = take(rl, 'c', "127.0.0.1");
    assert_true(w >= 1 && w <= 21);                  /* one drains every 20 s */
    assert_int_equal(take(rl, 'c', "127.0.0.2"), 0); /* another key */
    assert_int_equal(take(rl, 'u', "127.0.0.1"), 0); /* the same text, another kind */
    ma_ratelimit_free(rl);
}

static void test_check_and_add(void **state)
{
    (void)state;
    ma_ratelimit *rl = ma_ratelimit_new(64, 2, 7);
    for (int i = 0; i < 5; i++) assert_int_equal(ma_ratelimit_check(rl, 'u', "ada", 3), 0); /* only looks */
    ma_ratelimit_add(rl, 'u', "ada", 3);
    assert_int_equal(ma_ratelimit_check(rl, 'u', "ada", 3), 0);
    ma_ratelimit_add(rl, 'u', "ada", 3);
    assert_true(ma_ratelimit_check(rl, 'u', "ada", 3) > 0);
    for (int i = 0; i < 10; i++) ma_ratelimit_add(rl, 'u', "ada", 3); /* counted anyway, up to two minutes */
    unsigned w = ma_ratelimit_check(rl, 'u', "ada", 3);
    if (!(w > 60 && w <= 121)) fail_msg("waits %u s", w); /* the cap: at most about two minutes */
    ma_ratelimit_free(rl);
}

static void test_no_limit(void **state)
{
    (void)state;
    ma_ratelimit *rl = ma_ratelimit_new(8, 0, 1);
    for (int i = 0; i < 1000; i++) assert_int_equal(take(rl, 'd', "bob"), 0);
    ma_ratelimit_free(rl);
    assert_int_equal(ma_ratelimit_take(NULL, 'd', "x", 1), 0);
}

static void test_full_table_keeps_the_busy(void **state)
{
    (void)state;
    ma_ratelimit *rl = ma_ratelimit_new(16, 3, 99);
    for (int i = 0; i < 3; i++) take(rl, 'c', "10.0.0.1");
    char key[32];
    for (int i = 0; i < 2000; i++) { /* many other clients, one failure each */
        snprintf(key, sizeof key, "192.168.%d.%d", i / 256, i % 256);
        ma_ratelimit_add(rl, 'c', key, strlen(key));
    }
    assert_true(take(rl, 'c', "10.0.0.1") > 0);
    ma_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_until_full),
        cmocka_unit_test(test_check_and_add),
        cmocka_unit_test(test_no_limit),
        cmocka_unit_test(test_full_table_keeps_the_busy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
