/* fuzz_jregex.c - libFuzzer target for Java regular expressions (runtime/jregex_java.c, the syntax
 * adapter, and runtime/jregex.c on PCRE2): the input up to its first newline is a Java pattern,
 * the rest a subject. The pattern is compiled for find() and matches(), matched, found from every
 * offset of a short subject and used in a replacement. Besides memory errors it checks: an invalid
 * or refused pattern has a message with "near index"; what compiles for find() compiles for
 * matches(); matches() implies find(); found groups lie within the subject; a replacement by "$0"
 * gives the subject back (bytes that are not UTF-8 as U+FFFD). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "miniatom/miniatom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char *pat = malloc(plen + 1);
    if (!pat) return 0;
    memcpy(pat, data, plen);
    pat[plen] = '\0'; /* patterns are C strings: an embedded NUL ends the pattern */
    const char *subj = nl ? (const char *)nl + 1 : "";
    size_t slen = nl ? size - plen - 1 : 0;

    ma_error err;
    ma_error_clear(&err);
    ma_jregex *find = ma_jregex_compile(pat, 0, &err);
    if (!find) {
        if (err.code == 0 || !err.msg[0]) abort();
        if ((err.code == MA_ERR_CONFIG || err.code == MA_ERR_UNSUPPORTED) && !strstr(err.msg, "near index")) abort();
        free(pat);
        return 0;
    }
    ma_jregex *whole = ma_jregex_compile(pat, MA_JREGEX_WHOLE, &err);
    if (!whole) abort(); /* what compiles for find() compiles for matches() */
    int f = ma_jregex_match(find, subj, slen, &err);
    int w = ma_jregex_match(whole, subj, slen, &err);
    if (w == 1 && f == 0) abort();
    size_t ov[8];
    for (size_t at = 0; at <= slen && at < 64; at++)
        if (ma_jregex_find(find, subj, slen, at, ov, 4, &err) == 1 && (ov[0] > ov[1] || ov[1] > slen)) abort();
    ma_jregex_repl *r = ma_jregex_repl_compile(find, "$0", &err);
    if (!r) abort();
    ma_sb out;
    ma_sb_init(&out);
    int rc = ma_jregex_replace(find, r, subj, slen, &out, 1 << 20, &err);
    /* a subject that is not UTF-8 comes back as Java decodes it: each such byte as U+FFFD */
    size_t want = 0;
    for (size_t i = 0; i < slen;) {
        unsigned cp;
        size_t l = ma_utf8_decode((const unsigned char *)subj + i, slen - i, &cp);
        want += l ? l : 3;
        i += l ? l : 1;
    }
    if (rc == 0 && (out.len != want || (want == slen && slen && memcmp(out.s, subj, slen) != 0))) abort();
    ma_sb_free(&out);
    ma_jregex_repl_free(r);
    ma_jregex_free(whole);
    ma_jregex_free(find);
    free(pat);
    return 0;
}
