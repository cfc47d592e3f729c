/* compare.h - the comparisons of Decision and Route (boomi-atom-semantics.md 1.5 "Decision"):
 * equals, notequals, greater/less (or equal), wildcard (* and ?, whole value) and regex (Java
 * syntax, whole value). Values compare as numbers when both parse as numbers, otherwise as
 * strings; a missing value is the empty string. Also the Java -> POSIX regex translation that
 * the regex comparison and Data Process Search/Replace share. */
#ifndef MA_COMPARE_H
#define MA_COMPARE_H

#include <regex.h>

#include "miniatom/error.h"

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
    int have_re; /* re compiled from a static right-hand value */
    regex_t re;
} ma_cmp;

/* Parses a comparison name ("equals", "greaterthaneq", ...); -1 with err when unknown. */
int ma_cmp_parse(const char *name, ma_cmp_op *op, ma_error *err);
/* Prepares c; static_right (may be NULL) is the right value when it is known at deploy, so a regex
 * is compiled once. -1 with err for an invalid regex. */
int ma_cmp_init(ma_cmp *c, ma_cmp_op op, const char *static_right, ma_error *err);
void ma_cmp_free(ma_cmp *c);
/* 1 when left OP right holds, 0 when not, -1 with err (an invalid regex given at run time). */
int ma_cmp_eval(const ma_cmp *c, const char *left, const char *right, ma_error *err);

/* ---- Java regex -> POSIX extended regex (regcomp) ------------------------------------------
 * Shared by the regex comparison and the Data Process Search/Replace. Supported: literals, . (no
 * line terminators unless (?s)), [] classes with ranges and negation, ( ) | * + ? {n,m}, ^ $,
 * groups incl. (?:...), \b \B \A \z \Z, the classes \d \D \w \W \s \S (\D \W \S not inside []),
 * escapes \t \n \r \f \e \a \0oo \xhh \x{h..} \uhhhh \cX, \Q...\E, any escaped punctuation,
 * leading inline flags (?i) (?s) (?m), and backreferences \1-\9 with MA_RX_CAPTURE. Refused
 * (MA_ERR_UNSUPPORTED, no silent change of meaning): lazy and possessive quantifiers, lookaround,
 * atomic and named groups, inline flags after the start, \p{..}, nested classes and && in [],
 * and other letter escapes. Malformed patterns (unclosed [ or {, a dangling quantifier, a
 * backreference to a later group) are MA_ERR_CONFIG. */
#define MA_RX_MAX_GROUPS 64
enum {
    MA_RX_WHOLE = 1,   /* the whole value must match (Java's matches()): the result is ^( ... )$,
                        * so POSIX group 1 is that wrapper; (?m) is refused */
    MA_RX_CAPTURE = 2, /* the caller uses groups: backreferences allowed, map filled, at most
                        * MA_RX_MAX_GROUPS groups (MA_ERR_LIMIT) */
};
typedef struct ma_regex_posix {
    char *posix;                   /* malloc'ed; the caller frees */
    int cflags;                    /* for regcomp: REG_EXTENDED, | REG_ICASE for (?i), | REG_NEWLINE for (?m) */
    int groups;                    /* Java capturing groups */
    int map[MA_RX_MAX_GROUPS + 1]; /* with MA_RX_CAPTURE: Java group n is POSIX group map[n] */
} ma_regex_posix;
/* Translates the Java regex java into *out. -1 with err (*out empty) for what is refused above. */
int ma_regex_from_java(const char *java, int flags, ma_regex_posix *out, ma_error *err);

#endif
