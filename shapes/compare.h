/* compare.h - the comparisons of Decision and Route (boomi-atom-semantics.md 1.5 "Decision"):
 * equals, notequals, greater/less (or equal), wildcard (* and ?, whole value) and regex (Java
 * syntax, whole value). Values compare as numbers when both parse as numbers, otherwise as
 * strings; a missing value is the empty string. The regex is a Java regular expression run by
 * miniatom/jregex.h (PCRE2), compiled once at deploy when the right value is static. */
#ifndef MA_COMPARE_H
#define MA_COMPARE_H

#include "miniatom/error.h"
#include "miniatom/jregex.h"

typedef enum ma_cmp_op {
    MA_CMP_EQ = 0,
    MA_CMP_NE,
    MA_CMP_GT,
    MA_CMP_GE,
    MA_CMP_LT,
    MA_CMP_LE,
    MA_CMP_WILDCARD,
    MA_CMP_REGEX
} ma_cmp_op;

typedef struct ma_cmp {
    ma_cmp_op op;
    ma_jregex *re; /* compiled from a static right-hand value, or NULL */
} ma_cmp;

/* Parses a comparison name ("equals", "greaterthaneq", ...); -1 with err when unknown. */
int ma_cmp_parse(const char *name, ma_cmp_op *op, ma_error *err);
/* Prepares c; static_right (may be NULL) is the right value when it is known at deploy, so a regex
 * is compiled once. -1 with err for an invalid regex. */
int ma_cmp_init(ma_cmp *c, ma_cmp_op op, const char *static_right, ma_error *err);
void ma_cmp_free(ma_cmp *c);
/* 1 when left OP right holds, 0 when not, -1 with err (an invalid regex given at run time, or the
 * regex match limits reached). */
int ma_cmp_eval(const ma_cmp *c, const char *left, const char *right, ma_error *err);

#endif
