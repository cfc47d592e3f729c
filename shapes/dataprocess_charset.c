/* dataprocess_charset.c - the Data Process steps Character Encode (UTF-8 to a character set) and
 * Character Decode (a character set to UTF-8), with iconv. Boomi: "Character Decode - decodes
 * document data from the selected character set to the system default (typically UTF-8)";
 * "Character Encode - encodes document data from the system default to the selected character
 * set"; any standard Java character set (docs/decisions/025-data-process-steps.md). */

/* Decisions:
 *  - Boomi's documentation gives neither the processtype numbers nor the XML of these steps: they
 *    are recognized by the step name Boomi writes ("Character Encode", "Character Decode"), and the
 *    character set is read from the first of the attributes charset, characterSet, characterset,
 *    charsetName, encoding of the step's configuration element (or of the <step> itself).
 *  - Names: Java's (US-ASCII, ISO-8859-1, UTF-8, UTF-16BE, UTF-16LE, UTF-16, windows-1252, Cp1252,
 *    Shift_JIS ...) as iconv knows them, case-insensitively. A name iconv does not know is a deploy
 *    error naming the ones Boomi lists.
 *  - UTF-16 as Java: decoding takes a leading byte-order mark to choose the order (and drops it),
 *    big-endian without one; encoding writes FE FF and big-endian. UTF-16BE/LE write no mark and
 *    keep one they read (as U+FEFF).
 *  - The system default is UTF-8. Data that does not convert (bytes that are not the character
 *    set on decode, not UTF-8 or a character the set cannot hold on encode, a sequence cut at the
 *    end) fails the document with the byte offset, where Java's readers and writers would put
 *    U+FFFD or '?' in silently. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataprocess_step.h"
#include "util.h"

#define BOOMI_CHARSETS "US-ASCII, ISO-8859-1, UTF-8, UTF-16BE, UTF-16LE, UTF-16"

typedef struct charset_step {
    int encode;
    int utf16; /* the name is UTF-16 (Java's byte-order mark rules) */
    char *label;
    char *charset; /* the name as iconv takes it (owned) */
} charset_step;

static void charset_destroy(void *state)
{
    charset_step *s = state;
    if (!s) return;
    free(s->label);
    free(s->charset);
    free(s);
}

static char *charset_attr(const xmlNode *n)
{
    static const char *const names[] = {"charset", "characterSet", "characterset", "charsetName", "encoding", NULL};
    for (size_t i = 0; n && names[i]; i++) {
        char *v = ma_xml_attr(n, names[i]);
        if (v && *v) return v;
        free(v);
    }
    return NULL;
}

static int charset_compile_kind(const xmlNode *step, const char *label, void **state, int encode, ma_error *err)
{
    const xmlNode *cfg = ma_xml_child(step, NULL);
    char *cs = charset_attr(cfg);
    if (!cs) cs = charset_attr(step);
    if (!cs)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "%s: no character set (read from the attribute charset, characterSet, charsetName or "
                            "encoding of <%s>; Boomi lists %s)",
                            label, cfg ? (const char *)cfg->name : "step", BOOMI_CHARSETS);
    charset_step *s = calloc(1, sizeof *s);
    if (!s) {
        free(cs);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    s->encode = encode;
    s->label = ma_strdup(label);
    s->utf16 = strcasecmp(cs, "UTF-16") == 0 || strcasecmp(cs, "UTF16") == 0;
    s->charset = s->utf16 ? ma_strdup("UTF-16BE") : ma_strdup(cs);
    if (!s->label || !s->charset) {
        free(cs);
        charset_destroy(s);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    iconv_t cd = encode ? iconv_open(s->charset, "UTF-8") : iconv_open("UTF-8", s->charset);
    if (cd == (iconv_t)-1) {
        ma_error_set(err, MA_ERR_CONFIG,
                     "%s: unknown character set '%s' (Boomi lists %s; others are the names iconv knows, "
                     "`iconv -l`)",
                     label, cs, BOOMI_CHARSETS);
        free(cs);
        charset_destroy(s);
        return -1;
    }
    iconv_close(cd);
    free(cs);
    *state = s;
    return 0;
}

static int encode_compile(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    (void)shape;
    return charset_compile_kind(step, label, state, 1, err);
}

static int decode_compile(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    (void)shape;
    return charset_compile_kind(step, label, state, 0, err);
}

/* Converts in[0..len) with cd into *out (malloc'ed, NUL-terminated) after prefix[0..plen).
 * 0; -1 out of memory; -2 with why filled (what and where it failed, off the offset in in). */
static int convert(iconv_t cd, const char *in, size_t len, const char *prefix, size_t plen, char **out, size_t *olen,
                   size_t *off, int *e)
{
    size_t cap = len + len / 2 + plen + 16;
    if (cap > MA_DOC_MAX_SIZE) cap = MA_DOC_MAX_SIZE + 1;
    char *o = malloc(cap + 1);
    if (!o) return -1;
    memcpy(o, prefix, plen);
    size_t used = plen;
    char *ip = (char *)in;
    size_t ileft = len;
    int flushing = 0;
    for (;;) {
        char *op = o + used;
        size_t oleft = cap - used;
        size_t r = flushing ? iconv(cd, NULL, NULL, &op, &oleft) : iconv(cd, &ip, &ileft, &op, &oleft);
        used = (size_t)(op - o);
        if (r != (size_t)-1) {
            if (flushing) break;
            flushing = 1;
            continue;
        }
        if (errno != E2BIG) {
            *e = errno;
            *off = (size_t)(ip - in);
            free(o);
            return -2;
        }
        if (cap > MA_DOC_MAX_SIZE) {
            *e = EFBIG;
            *off = (size_t)(ip - in);
            free(o);
            return -2;
        }
        size_t ncap = cap * 2 > MA_DOC_MAX_SIZE ? MA_DOC_MAX_SIZE + 1 : cap * 2;
        char *n = realloc(o, ncap + 1);
        if (!n) {
            free(o);
            return -1;
        }
        o = n;
        cap = ncap;
    }
    if (used > MA_DOC_MAX_SIZE) {
        *e = EFBIG;
        *off = len;
        free(o);
        return -2;
    }
    o[used] = '\0';
    *out = o;
    *olen = used;
    return 0;
}

/* The code point of the UTF-8 sequence at p (n bytes left), or -1 when it is not valid UTF-8. */
static long utf8_at(const unsigned char *p, size_t n)
{
    unsigned cp;
    size_t l = ma_utf8_decode(p, n, &cp);
    return l ? (long)cp : -1;
}

static int charset_run(ma_exec *ex, ma_shape *shape, void *state, const ma_batch *in, ma_batch *next, ma_outputs *out,
                       ma_error *err)
{
    (void)ex;
    (void)shape;
    const charset_step *s = state;
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        size_t len;
        const char *data = ma_doc_data(doc, &len);
        const char *from = s->charset;
        size_t skip = 0;
        if (s->utf16 && !s->encode && len >= 2) { /* Java's UTF-16: the mark chooses the order */
            const unsigned char *u = (const unsigned char *)data;
            if (u[0] == 0xFE && u[1] == 0xFF) skip = 2;
            else if (u[0] == 0xFF && u[1] == 0xFE) {
                skip = 2;
                from = "UTF-16LE";
            }
        }
        iconv_t cd = s->encode ? iconv_open(s->charset, "UTF-8") : iconv_open("UTF-8", from);
        if (cd == (iconv_t)-1) return ma_error_set(err, MA_ERR_IO, "%s: iconv: %s", s->label, strerror(errno));
        char *o = NULL;
        size_t olen = 0, off = 0;
        int e = 0;
        static const char bom[] = "\xFE\xFF";
        int rc = convert(cd, data + skip, len - skip, s->utf16 && s->encode ? bom : "", s->utf16 && s->encode ? 2 : 0,
                         &o, &olen, &off, &e);
        iconv_close(cd);
        if (rc == -1) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        if (rc == -2) {
            off += skip;
            int frc;
            const unsigned char *at = (const unsigned char *)data + off;
            if (e == EFBIG)
                frc = ma_outputs_fail(out, ma_doc_ref(doc), "%s: the result would be larger than %zu bytes", s->label,
                                      (size_t)MA_DOC_MAX_SIZE);
            else if (e == EINVAL)
                frc =
                    ma_outputs_fail(out, ma_doc_ref(doc), "%s: the data ends inside a character (byte offset %zu%s%s)",
                                    s->label, off, s->encode ? ", not UTF-8" : ": not ", s->encode ? "" : s->charset);
            else if (s->encode && utf8_at(at, len - off) >= 0)
                frc = ma_outputs_fail(out, ma_doc_ref(doc),
                                      "%s: the character U+%04lX at byte offset %zu cannot be encoded in %s", s->label,
                                      utf8_at(at, len - off), off, s->utf16 ? "UTF-16" : s->charset);
            else
                frc = ma_outputs_fail(out, ma_doc_ref(doc), "%s: byte 0x%02x at byte offset %zu is not %s", s->label,
                                      off < len ? *at : 0, off,
                                      s->encode  ? "UTF-8"
                                      : s->utf16 ? "UTF-16"
                                                 : s->charset);
            if (frc < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        ma_doc *d = ma_doc_derive_owned(doc, o, olen);
        if (!d || ma_batch_push(next, d) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* processtype -1: Boomi's documentation gives no number; recognized by name (dataprocess_step.h) */
const ma_dp_step_kind ma_dp_step_charencode = {
    .processtype = -1,
    .name = "Character Encode",
    .compile = encode_compile,
    .run = charset_run,
    .destroy = charset_destroy,
};

const ma_dp_step_kind ma_dp_step_chardecode = {
    .processtype = -1,
    .name = "Character Decode",
    .compile = decode_compile,
    .run = charset_run,
    .destroy = charset_destroy,
};
