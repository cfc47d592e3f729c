/* test_document.c - documents: copy-on-write properties (what gives Branch its per-path
 * scoping), data replacement, tracking ids, batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "miniatom/document.h"

static void test_new_and_data(void **state)
{
    (void)state;
    ma_doc *d = ma_doc_new("abc", 3);
    assert_non_null(d);
    size_t len;
    const char *p = ma_doc_data(d, &len);
    assert_int_equal(len, 3);
    assert_string_equal(p, "abc"); /* always NUL-terminated */
    assert_int_equal(ma_doc_size(d), 3);
    ma_doc_unref(d);
}

static void test_copy_on_write_props(void **state)
{
    (void)state;
    ma_doc *a = ma_doc_new("x", 1);
    assert_int_equal(ma_doc_set_prop(&a, "dynamicdocument.A", "1"), 0);
    ma_doc *path1 = ma_doc_ref(a), *path2 = ma_doc_ref(a);
    ma_doc *before = path1;
    assert_int_equal(ma_doc_set_prop(&path1, "dynamicdocument.B", "on path 1"), 0);
    assert_ptr_not_equal(path1, before); /* shared: a private copy was made */
    assert_string_equal(ma_doc_prop(path1, "dynamicdocument.B"), "on path 1");
    assert_null(ma_doc_prop(path2, "dynamicdocument.B")); /* not visible on the sibling path */
    assert_string_equal(ma_doc_prop(path2, "dynamicdocument.A"), "1");
    assert_int_equal(ma_doc_track_id(path1), ma_doc_track_id(path2)); /* same Boomi document */
    ma_doc_unref(path1);
    ma_doc_unref(path2);
    ma_doc_unref(a);
}

static void test_set_replace_remove(void **state)
{
    (void)state;
    ma_doc *a = ma_doc_new("", 0);
    ma_doc_set_prop(&a, "k1", "v1");
    ma_doc_set_prop(&a, "k2", "v2");
    ma_doc_set_prop(&a, "k1", "v1b");
    assert_int_equal(ma_doc_prop_count(a), 2);
    const char *k, *v;
    assert_int_equal(ma_doc_prop_at(a, 0, &k, &v), 0);
    assert_string_equal(k, "k1");
    assert_string_equal(v, "v1b");
    ma_doc_set_prop(&a, "k1", NULL);
    assert_null(ma_doc_prop(a, "k1"));
    assert_int_equal(ma_doc_prop_count(a), 1);
    assert_int_equal(ma_doc_prop_at(a, 1, &k, &v), -1);
    ma_doc_clear_props(&a);
    assert_int_equal(ma_doc_prop_count(a), 0);
    ma_doc_unref(a);
}

static void test_set_data_shared(void **state)
{
    (void)state;
    ma_doc *a = ma_doc_new("old", 3);
    ma_doc *b = ma_doc_ref(a);
    assert_int_equal(ma_doc_set_data(&b, "new!", 4), 0);
    assert_string_equal(ma_doc_data(a, NULL), "old");
    assert_string_equal(ma_doc_data(b, NULL), "new!");
    ma_doc_unref(a);
    ma_doc_unref(b);
}

static void test_derive_keeps_props_and_track(void **state)
{
    (void)state;
    ma_doc *a = ma_doc_new("in", 2);
    ma_doc_set_prop(&a, "dynamicdocument.X", "y");
    ma_doc *b = ma_doc_derive(a, "out", 3);
    assert_string_equal(ma_doc_data(b, NULL), "out");
    assert_string_equal(ma_doc_prop(b, "dynamicdocument.X"), "y");
    assert_int_equal(ma_doc_track_id(a), ma_doc_track_id(b));
    ma_doc *c = ma_doc_new("other", 5);
    assert_int_not_equal(ma_doc_track_id(a), ma_doc_track_id(c));
    ma_doc_unref(a);
    ma_doc_unref(b);
    ma_doc_unref(c);
}

static void test_batch(void **state)
{
    (void)state;
    ma_batch a, b;
    ma_batch_init(&a);
    ma_batch_init(&b);
    for (int i = 0; i < 20; i++) assert_int_equal(ma_batch_push(&a, ma_doc_new("d", 1)), 0);
    assert_int_equal(ma_batch_push(&b, ma_doc_new("first", 5)), 0);
    assert_int_equal(ma_batch_move(&b, &a), 0);
    assert_int_equal(a.len, 0);
    assert_int_equal(b.len, 21);
    assert_string_equal(ma_doc_data(b.docs[0], NULL), "first");
    assert_int_equal(ma_batch_push(&a, NULL), -1);
    ma_batch_clear(&b);
    ma_batch_clear(&a);
}

static void test_limits(void **state)
{
    (void)state;
    assert_null(ma_doc_new_owned(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_data),
        cmocka_unit_test(test_copy_on_write_props),
        cmocka_unit_test(test_set_replace_remove),
        cmocka_unit_test(test_set_data_shared),
        cmocka_unit_test(test_derive_keeps_props_and_track),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
