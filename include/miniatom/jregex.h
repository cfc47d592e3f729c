/* miniatom/jregex.h - Java regular expressions (java.util.regex syntax and meaning) run by PCRE2:
 * the one regex engine of mini-Atom, used by the regex comparison of Decision and Route, the Data
 * Process Search/Replace step, regex cross reference tables and the Disk connector's file filter.
 * A pattern is compiled once (at deploy) and may then be matched from many threads at once. What
 * is translated and what is refused: docs/decisions/024-java-regex-on-pcre2.md. Part of the plugin
 * ABI (MA_ABI_VERSION) so that connector plugins match names as the built-ins do. */
#ifndef MINIATOM_JREGEX_H
#define MINIATOM_JREGEX_H

#include <stddef.h>

#include "error.h"
#include "helpers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ma_jregex ma_jregex;           /* a compiled pattern; immutable, shareable by threads */
typedef struct ma_jregex_repl ma_jregex_repl; /* a compiled Java replacement string */

enum {
    MA_JREGEX_WHOLE = 1, /* ma_jregex_match: the whole value must match (Java's Matcher.matches()) */
};

/* Compiles the Java regular expression java (UTF-8, NUL-terminated). flags: MA_JREGEX_*. NULL with
 * err when it is not valid Java (MA_ERR_CONFIG) or uses what mini-Atom refuses
 * (MA_ERR_UNSUPPORTED); the message names the pattern, the index (as Java counts: characters from
 * 0) and the reason. */
ma_jregex *ma_jregex_compile(const char *java, int flags, ma_error *err);
void ma_jregex_free(ma_jregex *re);
const char *ma_jregex_pattern(const ma_jregex *re); /* the Java pattern (borrowed) */
int ma_jregex_groups(const ma_jregex *re);          /* its capturing groups */

/* Matches s[0..len): with MA_JREGEX_WHOLE the whole value (matches()), else anywhere (find()). 1
 * when it matches, 0 when not, -1 with err (MA_ERR_LIMIT) when the match limits are reached: a
 * pattern that backtracks too much fails instead of spending the CPU. Bytes that are not UTF-8
 * read as U+FFFD, as Java's UTF-8 decoder reads a document. */
int ma_jregex_match(const ma_jregex *re, const char *s, size_t len, ma_error *err);

/* Java's Matcher.find() from byte start: 1 with ov[0..2n) holding the byte offsets where group k
 * starts and ends (ov[2k], ov[2k+1]; (size_t)-1 for a group that took no part; groups past n are
 * left out), 0 when there is no match, -1 with err as ma_jregex_match. Lookbehind sees the bytes
 * before start. s must be valid UTF-8 (offsets are into s; bytes that are not UTF-8 never match). */
int ma_jregex_find(const ma_jregex *re, const char *s, size_t len, size_t start, size_t *ov, int n, ma_error *err);

/* Compiles a Java replacement string for re (Matcher.replaceAll): $n and ${name} are groups (Java
 * takes a second digit while that group exists), \x is x; anything else is literal. NULL with err
 * (MA_ERR_CONFIG) for a lone '\' or '$', or a group re does not have. */
ma_jregex_repl *ma_jregex_repl_compile(const ma_jregex *re, const char *replacement, ma_error *err);
void ma_jregex_repl_free(ma_jregex_repl *r);

/* Appends s[0..len) to out with every match of re replaced by repl, as Java's replaceAll (after an
 * empty match the search goes on one character further; bytes that are not UTF-8 read as U+FFFD
 * and are written as such). 0, or -1 with err for the match limits
 * (MA_ERR_LIMIT), out of memory, or when out would pass max_out bytes (MA_ERR_LIMIT). */
int ma_jregex_replace(const ma_jregex *re, const ma_jregex_repl *repl, const char *s, size_t len, ma_sb *out,
                      size_t max_out, ma_error *err);

#ifdef __cplusplus
}
#endif
#endif
