/* fuzz_jsonxml.c - libFuzzer target for JSON <-> XML (runtime/jsonxml.c): the input goes through
 * ma_doc_looks_json and ma_json_to_xml; when it converts, the tree goes back to JSON, and that JSON
 * through both conversions again, which must give byte-identical JSON (round-trip stability).
 * Also checked: every error carries a message, and the validate-only pass agrees with the parser;
 * ma_jv_parse agrees with jansson's parser (same value, or both refuse) except where it is
 * documented to differ (a byte order mark, nesting deeper than MA_JSONXML_MAX_DEPTH; jansson ends
 * the text at a NUL byte, ma_jv_parse refuses it), and what ma_jv_write writes of it reads back as
 * the same value; ma_json_check accepts what ma_jv_parse reads and refuses what ma_doc_looks_json's
 * pass refuses, and each item span of a top-level array checks on its own; the input escaped by
 * ma_sb_json_escape as a string is always JSON, which jansson reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonxml.h"
#include "util.h"
#include "../jv_equal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the first value starts, as ma_doc_looks_json sees it (after a BOM and white space). */
static int starts_container(const uint8_t *d, size_t n)
{
    size_t i = 0;
    if (n >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF) i = 3;
    while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r')) i++;
    return i < n && (d[i] == '{' || d[i] == '[');
}

static char *to_json(const char *text, size_t n, size_t *outlen, int *dup)
{
    ma_error err;
    ma_error_clear(&err);
    xmlDoc *doc = ma_json_to_xml(text, n, &err);
    if (!doc) {
        if (err.code == MA_OK || err.msg[0] == '\0') abort();
        return NULL;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !ma_xml_is_json_vocab(root)) abort();
    ma_error_clear(&err);
    char *out = ma_xml_to_json(root, outlen, &err);
    xmlFreeDoc(doc);
    if (!out) {
        /* the only thing json-to-xml keeps that xml-to-json refuses: duplicate keys */
        if (!strstr(err.msg, "duplicate key")) abort();
        *dup = 1;
        return NULL;
    }
    if (strlen(out) != *outlen) abort(); /* no NUL inside JSON text */
    return out;
}

/* ma_jv_parse against json_loadb (JSON_DECODE_ANY, no BOM: jansson has no BOM). */
static void differential(const char *text, size_t size)
{
    if (size >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB && (unsigned char)text[2] == 0xBF) return;
    ma_error err;
    ma_error_clear(&err);
    ma_jv *a = ma_jv_parse(text, size, 1, NULL, &err);
    json_t *b = json_loadb(text, size, JSON_DECODE_ANY, NULL);
    if (!a && (err.code == MA_OK || strncmp(err.msg, "line ", 5) != 0)) abort();
    if (a && !b) abort();
    if (!a && b && err.code != MA_ERR_LIMIT && !memchr(text, 0, size)) abort(); /* jansson stops at a NUL byte */
    if (a && b && !jv_equal_json(a, b)) abort();
    if (a) { /* written back, it reads as the same value */
        ma_sb w;
        ma_sb_init(&w);
        if (ma_jv_write(&w, a) < 0) abort();
        json_t *c = json_loadb(w.s, w.len, JSON_DECODE_ANY, NULL);
        if (!c || !json_equal(b, c)) abort();
        json_decref(c);
        ma_sb_free(&w);
    }
    ma_jv_free(a);
    json_decref(b);
}

/* ma_json_check against the parsers, and the spans of a top-level array's items. */
static void check_only(const char *text, size_t size)
{
    ma_error err;
    ma_error_clear(&err);
    ma_json_span *items = NULL;
    size_t n = 0, start = 9;
    int rc = ma_json_check(text, size, &start, &items, &n, &err);
    if (rc != ma_json_check(text, size, NULL, NULL, NULL, NULL)) abort();
    if (start != 0 && start != 3) abort();
    if (rc < 0) {
        if (items || n != (size_t)-1 || strncmp(err.msg, "line ", 5) != 0) abort();
        ma_jv *v = ma_jv_parse(text, size, 1, NULL, NULL);
        if (v) abort(); /* ma_jv_parse reads less, never more */
        return;
    }
    if (starts_container((const uint8_t *)text, size) && !ma_doc_looks_json(text, size, NULL)) abort();
    if (n == (size_t)-1) {
        if (items) abort();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i].off < start || items[i].len == 0 || items[i].off + items[i].len > size) abort();
        if (i && items[i].off < items[i - 1].off + items[i - 1].len) abort();
        if (ma_json_check(text + items[i].off, items[i].len, NULL, NULL, NULL, NULL) != 0) abort();
    }
    free(items);
}

/* Any bytes, escaped as a JSON string, are JSON. */
static void escape_any(const char *text, size_t size)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_putc(&b, '"');
    ma_sb_json_escape(&b, text, size);
    ma_sb_putc(&b, '"');
    if (b.oom || ma_json_check(b.s, b.len, NULL, NULL, NULL, NULL) != 0) abort();
    json_t *v = json_loadb(b.s, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!v || json_string_length(v) < size) abort(); /* each byte gives at least one byte */
    json_decref(v);
    ma_sb_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    differential(text, size);
    check_only(text, size);
    escape_any(text, size);
    int looks = ma_doc_looks_json(text, size, NULL);
    if (looks != ma_doc_looks_json(text, size, "")) abort();
    if (ma_doc_looks_json(text, size, "application/json") != 1) abort();
    if (ma_doc_looks_json(text, size, "text/xml") != 0) abort();

    ma_error err;
    ma_error_clear(&err);
    xmlDoc *doc = ma_json_to_xml(text, size, &err);
    if (!doc) {
        if (err.code == MA_OK || err.msg[0] == '\0' || strncmp(err.msg, "line ", 5) != 0) abort();
        return 0;
    }
    xmlFreeDoc(doc);
    /* what converts is JSON; the validate-only pass must say so for '{' and '[' documents */
    if (looks != starts_container(data, size)) abort();

    size_t n1 = 0, n2 = 0;
    int dup = 0;
    char *j1 = to_json(text, size, &n1, &dup);
    if (!j1) {
        if (!dup) abort();
        return 0;
    }
    /* our own output converts again, to the same bytes */
    char *j2 = to_json(j1, n1, &n2, &dup);
    if (!j2 || n1 != n2 || memcmp(j1, j2, n1) != 0) abort();
    if ((j1[0] == '{' || j1[0] == '[') && ma_doc_looks_json(j1, n1, NULL) != 1) abort();
    free(j1);
    free(j2);
    return 0;
}
