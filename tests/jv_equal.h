/* jv_equal.h - for tests: is a tree of ma_jv_parse (runtime/jsonxml.h) the same value as a jansson
 * tree? As json_equal compares: the same type (an integer is not a real), the same text for
 * strings, the same members in any order for objects, the same items in order for arrays. */
#ifndef MA_TESTS_JV_EQUAL_H
#define MA_TESTS_JV_EQUAL_H

#include <jansson.h>
#include <string.h>

#include "jsonxml.h"

static int jv_equal_json(const ma_jv *a, const json_t *b)
{
    if (!a || !b) return !a && !b;
    switch (a->type) {
    case MA_JV_NULL: return json_is_null(b);
    case MA_JV_TRUE: return json_is_true(b);
    case MA_JV_FALSE: return json_is_false(b);
    case MA_JV_INTEGER: return json_is_integer(b) && json_integer_value(b) == a->i;
    case MA_JV_REAL: return json_is_real(b) && json_real_value(b) == a->d;
    case MA_JV_STRING:
        return json_is_string(b) && json_string_length(b) == a->n && memcmp(json_string_value(b), a->s, a->n) == 0;
    case MA_JV_ARRAY:
        if (!json_is_array(b) || json_array_size(b) != a->n) return 0;
        for (size_t i = 0; i < a->n; i++)
            if (!jv_equal_json(&a->v[i], json_array_get(b, i))) return 0;
        return 1;
    case MA_JV_OBJECT:
        if (!json_is_object(b) || json_object_size(b) != a->n) return 0;
        for (size_t i = 0; i < a->n; i++) {
            json_t *m = json_object_getn(b, a->v[i].key, a->v[i].klen);
            if (!m || !jv_equal_json(&a->v[i], m)) return 0;
        }
        return 1;
    }
    return 0;
}

#endif
