/* test_store.c - persisted process properties and counters on disk (store.c) and the small helpers of util.c:
 * bounded file reads, atomic writes, the string buffer and JSON escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store.h"
#include "util.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/miniatom-test-store-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_store_roundtrip(void **state)
{
    (void)state;
    ma_kv *kv;
    size_t n;
    ma_error err;
    assert_int_equal(ma_store_load(dir, "proc-1", &kv, &n, &err), 0); /* nothing yet */
    assert_int_equal(n, 0);
    ma_kv_free(kv, n);
    assert_int_equal(ma_store_put(dir, "proc-1", "LAST_ID", "41", &err), 0);
    assert_int_equal(ma_store_put(dir, "proc-1", "LAST_ID", "42", &err), 0); /* last writer wins */
    assert_int_equal(ma_store_put(dir, "proc-1", "CURSOR", "a\"b", &err), 0);
    assert_int_equal(ma_store_put(dir, "proc-2", "OTHER", "x", &err), 0);
    assert_int_equal(ma_store_load(dir, "proc-1", &kv, &n, &err), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kv[i].name, "LAST_ID") == 0) assert_string_equal(kv[i].value, "42");
        else assert_string_equal(kv[i].value, "a\"b");
    }
    ma_kv_free(kv, n);
}

static void test_store_refuses_paths_and_bad_files(void **state)
{
    (void)state;
    ma_error err;
    assert_int_equal(ma_store_put(dir, "../escape", "A", "1", &err), -1);
    ma_kv *kv;
    size_t n;
    assert_int_equal(ma_store_load(dir, "a/b", &kv, &n, &err), -1);
    char path[128];
    snprintf(path, sizeof path, "%s/persisted/broken.json", dir);
    assert_int_equal(ma_write_file(path, "[1,2", 4, &err), 0);
    assert_int_equal(ma_store_load(dir, "broken", &kv, &n, &err), -1);
    assert_non_null(strstr(err.msg, "broken.json"));
}

static void test_counters(void **state)
{
    (void)state;
    ma_error err;
    unsigned long long v = 0;
    assert_int_equal(ma_store_counter_next(dir, "Invoice", &v, &err), 0);
    assert_int_equal(v, 1);
    assert_int_equal(ma_store_counter_next(dir, "Invoice", &v, &err), 0);
    assert_int_equal(v, 2);
    assert_int_equal(ma_store_counter_next(dir, "Other", &v, &err), 0); /* each name counts on its own */
    assert_int_equal(v, 1);
    assert_int_equal(ma_store_counter_next(dir, "Invoice", &v, &err), 0);
    assert_int_equal(v, 3);
    char *path = ma_asprintf("%s/counters.json", dir);
    const char *bad = "{\"Invoice\": \"12x\"}";
    assert_int_equal(ma_write_file(path, bad, strlen(bad), &err), 0);
    free(path);
    assert_int_equal(ma_store_counter_next(dir, "Invoice", &v, &err), -1);
    assert_int_equal(err.code, MA_ERR_PARSE);
    assert_non_null(strstr(err.msg, "counter 'Invoice' holds '12x'"));
}

static void test_read_file_limit(void **state)
{
    (void)state;
    char path[128];
    ma_error err;
    snprintf(path, sizeof path, "%s/ten.txt", dir);
    assert_int_equal(ma_write_file(path, "0123456789", 10, &err), 0);
    size_t len;
    char *s = ma_read_file(path, 10, &len, &err);
    assert_non_null(s);
    assert_int_equal(len, 10);
    assert_string_equal(s, "0123456789");
    free(s);
    assert_null(ma_read_file(path, 9, &len, &err));
    assert_int_equal(err.code, MA_ERR_LIMIT);
    assert_null(ma_read_file(dir, 100, &len, &err)); /* a folder is not a file */
}

static void test_sb_and_json_escape(void **state)
{
    (void)state;
    ma_sb b;
    ma_sb_init(&b);
    for (int i = 0; i < 1000; i++) ma_sb_printf(&b, "%d,", i);
    assert_int_equal(strncmp(b.s, "0,1,2,", 6), 0);
    ma_sb_reset(&b);
    ma_sb_json_escape(&b, "a\"b\\c\n\x01", 7);
    assert_string_equal(b.s, "a\\\"b\\\\c\\n\\u0001");
    size_t len;
    char *s = ma_sb_take(&b, &len);
    assert_int_equal(len, strlen(s));
    free(s);
    assert_null(b.s);
}

static void test_error_prefix_is_bounded(void **state)
{
    (void)state;
    ma_error err;
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ma_error_set(&err, MA_ERR_RUNTIME, "%s", big);
    ma_error_prefix(&err, "shape %s", "shape1");
    assert_int_equal(strncmp(err.msg, "shape shape1: xxx", 17), 0);
    assert_true(strlen(err.msg) < MA_ERROR_MAX);
    assert_int_equal(err.code, MA_ERR_RUNTIME);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_roundtrip),    cmocka_unit_test(test_store_refuses_paths_and_bad_files),
        cmocka_unit_test(test_counters),           cmocka_unit_test(test_read_file_limit),
        cmocka_unit_test(test_sb_and_json_escape), cmocka_unit_test(test_error_prefix_is_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
