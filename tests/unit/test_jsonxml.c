/* test_jsonxml.c - JSON <-> XML (runtime/jsonxml.c): round trips of every value kind, the exact XML
 * produced, string escapes and number text, JSON errors with line and column, xml-to-json errors
 * on hand-written XML, and the map shape's "is this JSON?" rule; the one JSON string escaper and
 * UTF-8 decoder (util.c); the check that builds nothing (ma_json_check) with its array item spans. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "jsonxml.h"
#include "util.h"
#include "../jv_equal.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static xmlDoc *j2x(const char *json)
{
    ma_error err;
    ma_error_clear(&err);
    xmlDoc *d = ma_json_to_xml(json, strlen(json), &err);
    if (!d) fail_msg("json-to-xml failed on %s: %s", json, err.msg);
    return d;
}

/* JSON -> XML -> JSON; returns the malloc'ed output. */
static char *roundtrip(const char *json)
{
    xmlDoc *d = j2x(json);
    ma_error err;
    ma_error_clear(&err);
    size_t len = 0;
    char *out = ma_xml_to_json(xmlDocGetRootElement(d), &len, &err);
    if (!out) fail_msg("xml-to-json failed on %s: %s", json, err.msg);
    assert_int_equal(len, strlen(out));
    xmlFreeDoc(d);
    return out;
}

static void assert_roundtrip(const char *json, const char *expect)
{
    char *out = roundtrip(json);
    assert_string_equal(out, expect ? expect : json);
    free(out);
}

/* The error message of a failing json-to-xml. */
static void assert_json_error(const char *json, size_t len, int code, const char *msg_part)
{
    ma_error err;
    ma_error_clear(&err);
    xmlDoc *d = ma_json_to_xml(json, len, &err);
    if (d) {
        xmlFreeDoc(d);
        fail_msg("expected an error for %s", json);
    }
    if (!strstr(err.msg, msg_part)) fail_msg("error \"%s\" does not contain \"%s\"", err.msg, msg_part);
    assert_int_equal(err.code, code);
}

static char *node_xml(xmlDoc *d)
{
    xmlBuffer *b = xmlBufferCreate();
    xmlNodeDump(b, d, xmlDocGetRootElement(d), 0, 0);
    char *s = strdup((const char *)xmlBufferContent(b));
    xmlBufferFree(b);
    return s;
}

static xmlDoc *parse_xml(const char *xml)
{
    ma_error err;
    xmlDoc *d = ma_xml_parse(xml, strlen(xml), "test.xml", &err);
    if (!d) fail_msg("XML does not parse: %s", err.msg);
    return d;
}

/* xml-to-json of an XML text: the JSON (malloc'ed) or NULL with err. */
static char *x2j(const char *xml, ma_error *err)
{
    xmlDoc *d = parse_xml(xml);
    ma_error_clear(err);
    size_t len;
    char *out = ma_xml_to_json(xmlDocGetRootElement(d), &len, err);
    xmlFreeDoc(d);
    return out;
}

#define FN "xmlns:fn='http://www.w3.org/2005/xpath-functions'"

static void assert_x2j(const char *xml, const char *expect)
{
    ma_error err;
    char *out = x2j(xml, &err);
    if (!out) fail_msg("xml-to-json failed on %s: %s", xml, err.msg);
    assert_string_equal(out, expect);
    free(out);
}

static void assert_x2j_error(const char *xml, const char *msg_part)
{
    ma_error err;
    char *out = x2j(xml, &err);
    if (out) fail_msg("expected an error for %s, got %s", xml, out);
    if (!strstr(err.msg, msg_part)) fail_msg("error \"%s\" does not contain \"%s\"", err.msg, msg_part);
    assert_int_not_equal(err.code, MA_OK);
}

/* ---- JSON -> XML -> JSON ---------------------------------------------------------------- */

static void test_roundtrip_scalars(void **state)
{
    (void)state;
    assert_roundtrip("true", NULL);
    assert_roundtrip("false", NULL);
    assert_roundtrip("null", NULL);
    assert_roundtrip("0", NULL);
    assert_roundtrip("-12", NULL);
    assert_roundtrip("\"\"", NULL);
    assert_roundtrip("\"text\"", NULL);
    assert_roundtrip("{}", NULL);
    assert_roundtrip("[]", NULL);
}

static void test_roundtrip_nested(void **state)
{
    (void)state;
    assert_roundtrip("{\"a\":{\"b\":[1,[2,[3,{}]],{\"c\":null}],\"d\":\"x\"},\"e\":[true,false,null,\"\",0.5,[]]}",
                     NULL);
    assert_roundtrip("[[[[[[[[[[\"deep\"]]]]]]]]]]", NULL);
    /* white space goes, order and duplicates... order stays */
    assert_roundtrip(" \t\r\n{ \"z\" : 1 ,\n \"a\" : [ 1 , 2 ] , \"m\" : { } }\n ", "{\"z\":1,\"a\":[1,2],\"m\":{}}");
    /* a UTF-8 byte order mark is skipped */
    assert_roundtrip("\xEF\xBB\xBF{\"a\":1}", "{\"a\":1}");
    /* keys: empty, escaped, non-ASCII */
    assert_roundtrip("{\"\":1,\"a\\\"b\":2,\"caf\xC3\xA9\":3,\"t\\tab\":4}", NULL);
}

static void test_number_text_kept(void **state)
{
    (void)state;
    assert_roundtrip("[1.50e+3,-0,0.0,1E-7,12345678901234567890123,-0.000e0,9.99E99]", NULL);
    xmlDoc *d = j2x("1.50e+3");
    xmlChar *t = xmlNodeGetContent(xmlDocGetRootElement(d));
    assert_string_equal((const char *)t, "1.50e+3");
    xmlFree(t);
    xmlFreeDoc(d);
}

static void test_exact_xml(void **state)
{
    (void)state;
    xmlDoc *d = j2x("{\"a\":[1,\"x<&>\",true,null],\"b\":{},\"c\":false,\"d\":\"\"}");
    char *s = node_xml(d);
    assert_string_equal(s,
                        "<fn:map xmlns:fn=\"http://www.w3.org/2005/xpath-functions\">"
                        "<fn:array key=\"a\"><fn:number>1</fn:number><fn:string>x&lt;&amp;&gt;</fn:string>"
                        "<fn:boolean>true</fn:boolean><fn:null/></fn:array>"
                        "<fn:map key=\"b\"/><fn:boolean key=\"c\">false</fn:boolean><fn:string key=\"d\"/></fn:map>");
    free(s);
    /* the tree, walked */
    xmlNode *root = xmlDocGetRootElement(d);
    assert_non_null(root->ns);
    assert_string_equal((const char *)root->ns->href, MA_FN_NS);
    assert_string_equal((const char *)root->ns->prefix, "fn");
    assert_true(ma_xml_is_json_vocab(root));
    xmlNode *arr = ma_xml_child(root, NULL);
    assert_string_equal((const char *)arr->name, "array");
    assert_ptr_equal(arr->ns, root->ns);
    assert_true(ma_xml_attr_is(arr, "key", "a"));
    xmlNode *num = ma_xml_child(arr, NULL);
    assert_string_equal((const char *)num->name, "number");
    assert_null(xmlHasProp(num, BAD_CAST "key")); /* array members carry no key */
    xmlFreeDoc(d);

    d = j2x("\"top\"");
    s = node_xml(d);
    assert_string_equal(s, "<fn:string xmlns:fn=\"http://www.w3.org/2005/xpath-functions\">top</fn:string>");
    free(s);
    xmlFreeDoc(d);

    /* duplicate keys are kept, in order */
    d = j2x("{\"k\":1,\"k\":2}");
    s = node_xml(d);
    assert_string_equal(s, "<fn:map xmlns:fn=\"http://www.w3.org/2005/xpath-functions\">"
                           "<fn:number key=\"k\">1</fn:number><fn:number key=\"k\">2</fn:number></fn:map>");
    free(s);
    xmlFreeDoc(d);
}

static void test_string_escapes(void **state)
{
    (void)state;
    xmlDoc *d = j2x("[\"caf\\u00e9\",\"\\ud83d\\ude00\",\"a\\nb\",\"\\\"\\\\\\/\\t\\r\",\"\\u00E9\\u20AC\"]");
    xmlNode *root = xmlDocGetRootElement(d);
    const char *expect[] = {"caf\xC3\xA9", "\xF0\x9F\x98\x80", "a\nb", "\"\\/\t\r", "\xC3\xA9\xE2\x82\xAC"};
    int i = 0;
    for (xmlNode *c = ma_xml_child(root, NULL); c; c = ma_xml_next(c, NULL), i++) {
        xmlChar *t = xmlNodeGetContent(c);
        assert_string_equal((const char *)t, expect[i]);
        xmlFree(t);
    }
    assert_int_equal(i, 5);
    xmlFreeDoc(d);
    /* back to JSON: UTF-8 kept as is, controls escaped, '/' unescaped */
    assert_roundtrip("[\"caf\\u00e9\",\"\\ud83d\\ude00\",\"a\\nb\",\"\\\"\\\\\\/\\t\\r\"]",
                     "[\"caf\xC3\xA9\",\"\xF0\x9F\x98\x80\",\"a\\nb\",\"\\\"\\\\/\\t\\r\"]");
    /* raw UTF-8 in the input is kept; U+2028, U+2029, DEL and C1 controls are escaped on output */
    assert_roundtrip("\"\xE2\x80\xA8|\xE2\x80\xA9|\x7F|\xC2\x85|\xC2\xA0|\xE2\x82\xAC\"",
                     "\"\\u2028|\\u2029|\\u007f|\\u0085|\xC2\xA0|\xE2\x82\xAC\"");
    /* raw 2-, 3- and 4-byte UTF-8 in the input */
    assert_roundtrip("[\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"]", NULL);
    /* a key with an escape */
    d = j2x("{\"a\\u00e9\\n\":1}");
    assert_true(ma_xml_attr_is(ma_xml_child(xmlDocGetRootElement(d), NULL), "key", "a\xC3\xA9\n"));
    xmlFreeDoc(d);
}

static void test_max_depth(void **state)
{
    (void)state;
    char buf[2 * MA_JSONXML_MAX_DEPTH + 8];
    /* exactly the limit: fine both ways */
    memset(buf, '[', MA_JSONXML_MAX_DEPTH);
    memset(buf + MA_JSONXML_MAX_DEPTH, ']', MA_JSONXML_MAX_DEPTH);
    buf[2 * MA_JSONXML_MAX_DEPTH] = '\0';
    assert_roundtrip(buf, NULL);
    assert_int_equal(ma_doc_looks_json(buf, strlen(buf), NULL), 1);
    /* one more: refused at the opening bracket of the level too many */
    memset(buf, '[', MA_JSONXML_MAX_DEPTH + 1);
    memset(buf + MA_JSONXML_MAX_DEPTH + 1, ']', MA_JSONXML_MAX_DEPTH + 1);
    buf[2 * MA_JSONXML_MAX_DEPTH + 2] = '\0';
    assert_json_error(buf, strlen(buf), MA_ERR_LIMIT, "line 1, column 513: nesting deeper than 512 levels");
    /* too deep still counts as JSON (the conversion then says why it fails) */
    assert_int_equal(ma_doc_looks_json(buf, strlen(buf), NULL), 1);
}

/* ---- JSON errors ------------------------------------------------------------------------ */

static void test_json_errors(void **state)
{
    (void)state;
    assert_json_error("{\"a\": \"abc", 10, MA_ERR_PARSE,
                      "line 1, column 11: unterminated string (it starts at line 1, column 7)");
    assert_json_error("[1,\n tru]", 9, MA_ERR_PARSE, "line 2, column 2: invalid literal 'tru'");
    assert_json_error("[nul]", 5, MA_ERR_PARSE, "line 1, column 2: invalid literal 'nul'");
    assert_json_error("[truex]", 7, MA_ERR_PARSE, "line 1, column 2: invalid literal 'truex'");
    assert_json_error("[True]", 6, MA_ERR_PARSE, "line 1, column 2: invalid literal 'True'");
    assert_json_error("[1,2,]", 6, MA_ERR_PARSE, "line 1, column 5: trailing comma before ']'");
    assert_json_error("{\"a\":1,\n}", 9, MA_ERR_PARSE, "line 1, column 7: trailing comma before '}'");
    assert_json_error("[\"\\u0000\"]", 10, MA_ERR_UNSUPPORTED,
                      "line 1, column 3: \\u0000 (U+0000) is a character that XML 1.0 cannot hold");
    assert_json_error("\"\\f\"", 4, MA_ERR_UNSUPPORTED, "line 1, column 2: \\f (U+000C)");
    assert_json_error("{\"\\b\":1}", 8, MA_ERR_UNSUPPORTED, "line 1, column 3: \\b (U+0008)"); /* in a key */
    assert_json_error("[\"abc\\", 6, MA_ERR_PARSE,
                      "line 1, column 7: unterminated string (it starts at line 1, column 2)");
    assert_json_error("\"\\u001F\"", 8, MA_ERR_UNSUPPORTED, "U+001F");
    assert_json_error("\"\\uFFFF\"", 8, MA_ERR_UNSUPPORTED, "U+FFFF");
    assert_json_error("\"\xEF\xBF\xBE\"", 5, MA_ERR_UNSUPPORTED, "line 1, column 2: U+FFFE");
    assert_json_error("\"\\ud800x\"", 9, MA_ERR_UNSUPPORTED, "line 1, column 2: \\uD800 is a lone surrogate");
    assert_json_error("\"\\udc00\"", 8, MA_ERR_UNSUPPORTED, "lone surrogate");
    assert_json_error("\"a\\x\"", 5, MA_ERR_PARSE, "line 1, column 3: invalid escape");
    assert_json_error("\"\\u12G4\"", 8, MA_ERR_PARSE, "line 1, column 2: invalid \\u escape");
    /* raw control characters and invalid UTF-8, with columns in characters */
    assert_json_error("\"a\tb\"", 5, MA_ERR_PARSE, "line 1, column 3: control character U+0009");
    assert_json_error("[\"a\nb\"]", 7, MA_ERR_PARSE, "line 1, column 4: control character U+000A");
    assert_json_error("\"\xC3\xA9\xC3(\"", 6, MA_ERR_PARSE, "line 1, column 3: invalid UTF-8 (byte 0xC3)");
    assert_json_error("\"\xC0\xAF\"", 4, MA_ERR_PARSE, "invalid UTF-8");         /* overlong */
    assert_json_error("\"\xED\xA0\x80\"", 5, MA_ERR_PARSE, "invalid UTF-8");     /* encoded surrogate */
    assert_json_error("\"\xF4\x90\x80\x80\"", 6, MA_ERR_PARSE, "invalid UTF-8"); /* above U+10FFFF */
    assert_json_error("\"abc\xE2\x82\"", 7, MA_ERR_PARSE, "line 1, column 5: invalid UTF-8");
    assert_json_error("\"a\0b\"", 5, MA_ERR_PARSE, "control character U+0000");
    /* structure */
    assert_json_error("", 0, MA_ERR_PARSE, "line 1, column 1: empty document");
    assert_json_error(NULL, 0, MA_ERR_PARSE, "empty document");
    assert_json_error("\xEF\xBB\xBF", 3, MA_ERR_PARSE, "empty document");
    assert_json_error(" \n\t", 3, MA_ERR_PARSE, "line 2, column 2: no JSON value");
    assert_json_error("{\"a\":1} x", 9, MA_ERR_PARSE, "line 1, column 9: unexpected 'x' after the JSON value");
    assert_json_error("1 2", 3, MA_ERR_PARSE, "line 1, column 3: unexpected '2'");
    assert_json_error("{\"a\":1}\0", 8, MA_ERR_PARSE, "unexpected byte 0x00 after the JSON value");
    assert_json_error("{\n  \"a\": 1\n  \"b\": 2}", 20, MA_ERR_PARSE,
                      "line 3, column 3: expected ',' or '}', found '\"'");
    assert_json_error("{\"a\" 1}", 7, MA_ERR_PARSE, "line 1, column 6: expected ':' after the key");
    assert_json_error("{a:1}", 5, MA_ERR_PARSE, "line 1, column 2: expected a string key, found 'a'");
    assert_json_error("[1,", 3, MA_ERR_PARSE, "line 1, column 4: unterminated array");
    assert_json_error("{\"a\":", 5, MA_ERR_PARSE, "line 1, column 6: expected a value, found the end of the input");
    assert_json_error("[1", 2, MA_ERR_PARSE, "line 1, column 3: unterminated array (it starts at line 1, column 1)");
    assert_json_error("\n\n  {\"a\":[]", 11, MA_ERR_PARSE,
                      "line 3, column 10: unterminated object (it starts at line 3, column 3)");
    assert_json_error("[01]", 4, MA_ERR_PARSE, "line 1, column 2: invalid number: leading zeros");
    assert_json_error("[-]", 3, MA_ERR_PARSE, "invalid number");
    assert_json_error("[1.]", 4, MA_ERR_PARSE, "invalid number: '.' must be followed by a digit");
    assert_json_error("[1e+]", 5, MA_ERR_PARSE, "invalid number: the exponent needs digits");
    assert_json_error("[.5]", 4, MA_ERR_PARSE, "expected a value, found '.'");
    assert_json_error("['a']", 5, MA_ERR_PARSE, "expected a value, found '''");
    assert_json_error("\xFF\xFE[\0]\0", 6, MA_ERR_PARSE, "looks like UTF-16");
    assert_json_error("\xC3\xA9", 2, MA_ERR_PARSE, "expected a value, found byte 0xC3");
    /* a BOM only at the very start; columns do not count it */
    assert_json_error("\xEF\xBB\xBF[x]", 6, MA_ERR_PARSE, "line 1, column 2:");
    assert_json_error(" \xEF\xBB\xBF[1]", 7, MA_ERR_PARSE, "line 1, column 2: expected a value, found byte 0xEF");
    /* lines: CRLF counts once, lone CR counts */
    assert_json_error("[1,\r\n2,\r3 x]", 12, MA_ERR_PARSE, "line 3, column 3:");
}

/* ---- JSON -> ma_jv tree (ma_jv_parse) ----------------------------------------------------- */

/* ma_jv_parse and jansson's own parser agree on the value (jansson is the reference here). */
static void assert_load_same(const char *json)
{
    ma_error err;
    ma_error_clear(&err);
    ma_jv *got = ma_jv_parse(json, strlen(json), 1, NULL, &err);
    if (!got) fail_msg("ma_jv_parse failed on %s: %s", json, err.msg);
    json_t *want = json_loadb(json, strlen(json), JSON_DECODE_ANY, NULL);
    if (!want) fail_msg("jansson does not parse %s", json);
    if (!jv_equal_json(got, want)) fail_msg("ma_jv_parse and jansson disagree on %s", json);
    /* written back compactly, it reads as the same value again */
    ma_sb b;
    ma_sb_init(&b);
    assert_int_equal(ma_jv_write(&b, got), 0);
    json_t *again = json_loadb(b.s, b.len, JSON_DECODE_ANY, NULL);
    if (!again || !json_equal(again, want)) fail_msg("ma_jv_write of %s gave %s", json, b.s);
    json_decref(again);
    ma_sb_free(&b);
    ma_jv_free(got);
    json_decref(want);
}

static void assert_load_error(const char *json, size_t len, int any, int code, const char *msg_part)
{
    ma_error err;
    ma_error_clear(&err);
    ma_jv *v = ma_jv_parse(json, len, any, NULL, &err);
    if (v) fail_msg("expected an error for %.*s", (int)len, json);
    assert_int_equal(err.code, code);
    if (!strstr(err.msg, msg_part)) fail_msg("error \"%s\" does not contain \"%s\"", err.msg, msg_part);
}

/* ma_jv_write's text of json (parsed with keep), compared with want. */
static void assert_written(const char *json, const ma_json_keep *keep, const char *want)
{
    ma_error err;
    ma_jv *v = ma_jv_parse(json, strlen(json), 1, keep, &err);
    if (!v) fail_msg("ma_jv_parse failed on %s: %s", json, err.msg);
    ma_sb b;
    ma_sb_init(&b);
    assert_int_equal(ma_jv_write(&b, v), 0);
    assert_string_equal(b.s, want);
    ma_sb_free(&b);
    ma_jv_free(v);
}

static void test_load_values(void **state)
{
    (void)state;
    assert_load_same("{}");
    assert_load_same("[]");
    assert_load_same("{\"a\": 1, \"b\": [true, false, null, \"x\"], \"c\": {\"d\": -0.5e3, \"e\": 1E2}}");
    assert_load_same("[0, -0, 9223372036854775807, -9223372036854775808, 1.5, 2e-400, 123456789.125]");
    assert_load_same("\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t \xc3\xa9\"");
    assert_load_same("{\"k\\u00e9y\": {\"\\n\": [\"v\\u0001\"]}, \"\": 0}");
    assert_load_same("3");
    /* a leading byte order mark is skipped (jansson refuses it) */
    ma_error err;
    ma_jv *v = ma_jv_parse("\xEF\xBB\xBF {\"bom\": true} \n", 19, 0, NULL, &err);
    assert_non_null(v);
    assert_true(ma_jv_is(ma_jv_get(v, "bom"), MA_JV_TRUE));
    assert_null(ma_jv_get(v, "bo"));
    assert_null(ma_jv_get(ma_jv_get(v, "bom"), "x")); /* not an object */
    ma_jv_free(v);
    /* of duplicate keys the last one wins, at the place of the first, as in jansson */
    v = ma_jv_parse("{\"a\":1,\"b\":2,\"a\":3}", 19, 0, NULL, &err);
    assert_non_null(v);
    assert_int_equal(ma_jv_size(v), 2);
    assert_int_equal(ma_jv_get(v, "a")->i, 3);
    assert_string_equal(ma_jv_at(v, 0)->key, "a");
    assert_string_equal(ma_jv_at(v, 1)->key, "b");
    assert_null(ma_jv_at(v, 2));
    ma_jv_free(v);
    /* the same with more members than are compared one by one (a hash table then) */
    char big[4096];
    size_t n = (size_t)snprintf(big, sizeof big, "{");
    for (int i = 0; i < 40; i++) n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\":%d,", i % 25, i);
    snprintf(big + n - 1, sizeof big - n + 1, "}");
    assert_load_same(big);
    v = ma_jv_parse(big, strlen(big), 0, NULL, &err);
    assert_non_null(v);
    assert_int_equal(ma_jv_size(v), 25);
    assert_int_equal(ma_jv_get(v, "k3")->i, 28);
    assert_string_equal(ma_jv_at(v, 3)->key, "k3");
    ma_jv_free(v);
    /* integers stay integers, reals reals */
    v = ma_jv_parse("[10, 10.0, 1e1]", 15, 0, NULL, &err);
    assert_non_null(v);
    assert_true(ma_jv_is(ma_jv_at(v, 0), MA_JV_INTEGER));
    assert_true(ma_jv_is(ma_jv_at(v, 1), MA_JV_REAL));
    assert_true(ma_jv_is(ma_jv_at(v, 2), MA_JV_REAL));
    assert_null(ma_jv_str(ma_jv_at(v, 0)));
    ma_jv_free(v);
    assert_written("[10, 10.0, 0.1, -2.5e-3, \"\\u0001\\\"\"]", NULL, "[10,10.0,0.1,-0.0025,\"\\u0001\\\"\"]");
    /* the Flow samples the Flow Services Server decodes */
    const char *shared = getenv("MA_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/spec/flow-samples/message-action-request.service-email.json",
             shared ? shared : "../shared");
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s is missing (set MA_SHARED to the shared material)", path);
    static char buf[1 << 16];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    assert_load_same(buf);
}

/* What keep builds: the members it names (at any depth, through arrays), the rest is dropped. */
static const ma_json_keep k_item;
static const char *const k_item_names[] = {"id", "items", NULL};
static const ma_json_keep *const k_item_subs[] = {NULL, &k_item};
static const ma_json_keep k_item = {k_item_names, k_item_subs};
static const char *const k_top_names[] = {"list", "whole", NULL};
static const ma_json_keep *const k_top_subs[] = {&k_item, NULL};
static const ma_json_keep k_top = {k_top_names, k_top_subs};

static void test_load_kept(void **state)
{
    (void)state;
    assert_written(
        "{\"drop\": [1, {\"x\": 2}], \"list\": [{\"id\": 1, \"name\": \"a\", \"items\": [{\"id\": 2, \"y\": 0}]}, 7],"
        " \"whole\": {\"a\": {\"b\": 1}}, \"i\": \"\"}",
        &k_top, "{\"list\":[{\"id\":1,\"items\":[{\"id\":2}]},7],\"whole\":{\"a\":{\"b\":1}}}");
    /* a dropped member is checked as strictly as a kept one */
    ma_error err;
    assert_null(ma_jv_parse("{\"drop\": \"\\u0000\"}", 18, 0, &k_top, &err));
    assert_non_null(strstr(err.msg, "\\u0000 is not allowed"));
    assert_null(ma_jv_parse("{\"drop\": [1e400]}", 17, 0, &k_top, &err));
    assert_non_null(strstr(err.msg, "the number 1e400 is too big"));
    assert_null(ma_jv_parse("{\"drop\": [1,]}", 14, 0, &k_top, &err));
    assert_non_null(strstr(err.msg, "trailing comma"));
    ma_jv *v = ma_jv_parse("{\"drop\": 1}", 11, 0, &k_top, &err);
    assert_non_null(v);
    assert_int_equal(ma_jv_size(v), 0);
    ma_jv_free(v);
}

static void test_load_errors(void **state)
{
    (void)state;
    assert_load_error("\"x\"", 3, 0, MA_ERR_PARSE, "line 1, column 1: expected an object or an array, found '\"'");
    assert_load_error("[\"a\\u0000b\"]", 12, 0, MA_ERR_PARSE, "line 1, column 4: \\u0000 is not allowed");
    assert_load_error("{\"\\u0000\":1}", 12, 0, MA_ERR_PARSE, "\\u0000 is not allowed");
    assert_load_error("[\"\\ud800x\"]", 11, 0, MA_ERR_PARSE, "line 1, column 3: \\uD800 is a lone surrogate");
    assert_load_error("[\"\\udc00\"]", 10, 0, MA_ERR_PARSE, "lone surrogate");
    assert_load_error("[9223372036854775808]", 21, 0, MA_ERR_PARSE,
                      "line 1, column 2: the integer 9223372036854775808 is too big");
    assert_load_error("[-9223372036854775809]", 22, 0, MA_ERR_PARSE, "too big");
    assert_load_error("[1e400]", 7, 0, MA_ERR_PARSE, "the number 1e400 is too big");
    assert_load_error("{\"a\":1} x", 9, 0, MA_ERR_PARSE, "line 1, column 9: unexpected 'x' after the JSON value");
    assert_load_error("{\"a\":[1,]}", 10, 0, MA_ERR_PARSE, "trailing comma before ']'");
    assert_load_error("{\"a\":", 5, 0, MA_ERR_PARSE, "expected a value, found the end of the input");
    assert_load_error("{\"a\" 1}", 7, 0, MA_ERR_PARSE, "expected ':' after the key");
    assert_load_error("[\"\xC0\xAF\"]", 6, 0, MA_ERR_PARSE, "invalid UTF-8");
    assert_load_error("[tru]", 5, 0, MA_ERR_PARSE, "invalid literal 'tru'");
    assert_load_error("", 0, 1, MA_ERR_PARSE, "empty document");
    assert_load_error(" ", 1, 1, MA_ERR_PARSE, "no JSON value");
    assert_load_error("\xFF\xFE[\0]\0", 6, 1, MA_ERR_PARSE, "looks like UTF-16");
    char deep[1200];
    memset(deep, '[', 600);
    memset(deep + 600, ']', 600);
    assert_load_error(deep, sizeof deep, 0, MA_ERR_LIMIT, "line 1, column 513: nesting deeper than 512 levels");
    memset(deep, '[', 512);
    memset(deep + 512, ']', 512);
    ma_error err;
    ma_jv *v = ma_jv_parse(deep, 1024, 0, NULL, &err);
    assert_non_null(v); /* 512 levels are allowed */
    ma_jv_free(v);
    assert_null(ma_jv_parse("[", 1, 0, NULL, NULL)); /* without an error to fill */
    ma_jv_free(NULL);
}

/* ---- XML -> JSON ------------------------------------------------------------------------ */

static void test_xml_to_json_ok(void **state)
{
    (void)state;
    /* white space between elements, comments and PIs ignored; numbers and booleans trimmed */
    assert_x2j("<fn:map " FN ">\n  <fn:number key='a'> 1.5 </fn:number>\n  <!-- c -->\n"
               "  <fn:array key='b'>\n    <fn:boolean>\ttrue\n</fn:boolean> <fn:boolean>0</fn:boolean> <?pi x?>\n"
               "    <fn:null>  </fn:null><fn:string> s p </fn:string>\n  </fn:array>\n</fn:map>",
               "{\"a\":1.5,\"b\":[true,false,null,\" s p \"]}");
    /* any prefix, or the default namespace */
    assert_x2j("<map xmlns='http://www.w3.org/2005/xpath-functions'><string key='k'>v</string></map>", "{\"k\":\"v\"}");
    /* escaping on output */
    assert_x2j("<fn:string " FN
               ">q\" b\\ &#9;&#10;&#13; &#x85; &#x7f; &#x2028;&#x2029; \xC3\xA9 \xF0\x9F\x98\x80</fn:string>",
               "\"q\\\" b\\\\ \\t\\n\\r \\u0085 \\u007f \\u2028\\u2029 \xC3\xA9 \xF0\x9F\x98\x80\"");
    /* C0 controls cannot come from parsed XML, but a tree built by code may hold them */
    xmlDoc *cd = parse_xml("<fn:string " FN "/>");
    xmlNodeAddContentLen(xmlDocGetRootElement(cd), BAD_CAST "\x01\x08\x0c\x1f", 4);
    ma_error cerr;
    size_t clen;
    char *cout = ma_xml_to_json(xmlDocGetRootElement(cd), &clen, &cerr);
    assert_string_equal(cout, "\"\\u0001\\b\\f\\u001f\"");
    free(cout);
    xmlFreeDoc(cd);
    /* an attribute value made of several text nodes (built by code) */
    cd = parse_xml("<fn:map " FN "><fn:null key='a'/></fn:map>");
    xmlAttr *ka = ma_xml_child(xmlDocGetRootElement(cd), NULL)->properties;
    xmlNode *kt = xmlNewDocText(cd, BAD_CAST "b");
    kt->parent = (xmlNode *)ka;
    kt->prev = ka->last;
    ka->last->next = kt;
    ka->last = kt;
    cout = ma_xml_to_json(xmlDocGetRootElement(cd), &clen, &cerr);
    assert_string_equal(cout, "{\"ab\":null}");
    free(cout);
    xmlFreeDoc(cd);
    /* text pieces: CDATA, comments inside a string */
    assert_x2j("<fn:string " FN ">a<![CDATA[<b>]]><!-- x -->c</fn:string>", "\"a<b>c\"");
    assert_x2j("<fn:number " FN ">1<!-- x -->2</fn:number>", "12");
    /* @escaped and @escaped-key */
    assert_x2j("<fn:map " FN
               "><fn:string key='a\\u0041' escaped-key='true' escaped='1'>x\\n\\u00e9\\ud83d\\ude00\\/\"</fn:string>"
               "<fn:string key='a\\u0041'>\\n</fn:string></fn:map>",
               "{\"aA\":\"x\\n\xC3\xA9\xF0\x9F\x98\x80/\\\"\",\"a\\\\u0041\":\"\\\\n\"}");
    /* other attributes ignored; a key on the top element or on array members is ignored */
    assert_x2j("<fn:array " FN " key='top' other='x'><fn:number key='k'>1</fn:number></fn:array>", "[1]");
    /* empty containers and strings */
    assert_x2j("<fn:map " FN "><fn:map key='m'/><fn:array key='a'></fn:array><fn:string key='s'/></fn:map>",
               "{\"m\":{},\"a\":[],\"s\":\"\"}");
    /* many keys, none duplicate (the sorted check) */
    char xml[4096] = "<fn:map " FN ">";
    for (int i = 0; i < 40; i++) snprintf(xml + strlen(xml), sizeof xml - strlen(xml), "<fn:null key='k%d'/>", i);
    strcat(xml, "</fn:map>");
    ma_error err;
    char *out = x2j(xml, &err);
    assert_non_null(out);
    assert_true(ma_str_has_prefix(out, "{\"k0\":null,\"k1\":null,"));
    free(out);
    /* the same key in different maps is fine */
    assert_x2j("<fn:map " FN
               "><fn:map key='a'><fn:null key='a'/></fn:map><fn:map key='b'><fn:null key='a'/></fn:map></fn:map>",
               "{\"a\":{\"a\":null},\"b\":{\"a\":null}}");
}

static void test_xml_to_json_errors(void **state)
{
    (void)state;
    assert_x2j_error("<fn:map " FN ">\n<fn:object key='a'/></fn:map>", "<fn:object> at line 2: unknown element");
    assert_x2j_error("<map><string key='a'>x</string></map>", "<map> at line 1: unknown element (namespace \"\")");
    assert_x2j_error("<fn:array " FN "><x:y xmlns:x='urn:x'/></fn:array>",
                     "<x:y> at line 1: unknown element (namespace \"urn:x\")");
    assert_x2j_error("<fn:map " FN ">\n\n<fn:string>v</fn:string></fn:map>",
                     "<fn:string> at line 3: a member of a map without a key attribute");
    assert_x2j_error("<fn:number " FN ">abc</fn:number>", "<fn:number> at line 1: \"abc\" is not a JSON number");
    assert_x2j_error("<fn:array " FN "><fn:number>01</fn:number></fn:array>", "\"01\" is not a JSON number");
    assert_x2j_error("<fn:array " FN "><fn:number>+1</fn:number></fn:array>", "not a JSON number");
    assert_x2j_error("<fn:array " FN "><fn:number>1e</fn:number></fn:array>", "not a JSON number");
    assert_x2j_error("<fn:array " FN "><fn:number>NaN</fn:number></fn:array>", "not a JSON number");
    assert_x2j_error("<fn:array " FN "><fn:number/></fn:array>", "\"\" is not a JSON number");
    assert_x2j_error("<fn:array " FN "><fn:number>1 2</fn:number></fn:array>", "not a JSON number");
    /* long values are cut in messages, never inside a character */
    assert_x2j_error("<fn:number " FN ">123456789012345678901234567890123456789\xC3\xA9 and more</fn:number>",
                     "\"123456789012345678901234567890123456789...\" is not a JSON number");
    assert_x2j_error("<fn:map " FN "><fn:null key='a'/>text</fn:map>",
                     "<fn:map> at line 1: text inside a map: \"text\"");
    assert_x2j_error("<fn:array " FN "> x <fn:null/></fn:array>", "text inside an array: \" x \"");
    assert_x2j_error("<fn:map " FN "><fn:null key='a'/><fn:null key='b'/><fn:null key='a'/></fn:map>",
                     "<fn:map> at line 1: duplicate key \"a\"");
    assert_x2j_error("<fn:boolean " FN ">yes</fn:boolean>", "\"yes\" is not a boolean");
    assert_x2j_error("<fn:null " FN ">x</fn:null>", "a null must be empty");
    assert_x2j_error("<fn:string " FN ">a<b/></fn:string>", "element <b> inside a string");
    assert_x2j_error("<fn:string " FN " escaped='maybe'>a</fn:string>", "@escaped must be true or false");
    assert_x2j_error("<fn:string " FN " escaped='true'>a\\qb</fn:string>", "invalid escape");
    assert_x2j_error("<fn:string " FN " escaped='true'>\\ud800</fn:string>", "a lone surrogate");
    /* many keys with one duplicate (the sorted check) */
    char xml[4096] = "<fn:map " FN ">";
    for (int i = 0; i < 40; i++) snprintf(xml + strlen(xml), sizeof xml - strlen(xml), "<fn:null key='k%d'/>", i % 39);
    strcat(xml, "</fn:map>");
    assert_x2j_error(xml, "duplicate key \"k0\"");
    /* a map with duplicates from JSON converts to XML but not back */
    xmlDoc *d = j2x("{\"k\":1,\"k\":2}");
    ma_error err;
    size_t len;
    assert_null(ma_xml_to_json(xmlDocGetRootElement(d), &len, &err));
    assert_non_null(strstr(err.msg, "duplicate key \"k\""));
    /* not an element */
    assert_null(ma_xml_to_json((xmlNode *)d, &len, &err));
    assert_null(ma_xml_to_json(NULL, &len, &err));
    xmlFreeDoc(d);
}

static void test_xml_to_json_depth(void **state)
{
    (void)state;
    /* build fn:array nested MAX+1 deep */
    xmlDoc *d = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *root = xmlNewDocNode(d, NULL, BAD_CAST "array", NULL);
    xmlDocSetRootElement(d, root);
    xmlNs *ns = xmlNewNs(root, BAD_CAST MA_FN_NS, BAD_CAST "fn");
    xmlSetNs(root, ns);
    xmlNode *cur = root;
    for (int i = 1; i < MA_JSONXML_MAX_DEPTH; i++) cur = xmlNewChild(cur, ns, BAD_CAST "array", NULL);
    ma_error err;
    size_t len;
    char *out = ma_xml_to_json(root, &len, &err); /* exactly the limit */
    assert_non_null(out);
    assert_int_equal(len, 2 * MA_JSONXML_MAX_DEPTH);
    free(out);
    xmlNewChild(cur, ns, BAD_CAST "array", NULL);
    assert_null(ma_xml_to_json(root, &len, &err));
    assert_int_equal(err.code, MA_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "nesting deeper than 512 levels"));
    xmlFreeDoc(d);
}

static void test_is_vocab(void **state)
{
    (void)state;
    xmlDoc *d = parse_xml("<r xmlns:fn='http://www.w3.org/2005/xpath-functions'><fn:map/><fn:array/><fn:string/>"
                          "<fn:number/><fn:boolean/><fn:null/><fn:other/><map/><x:map xmlns:x='urn:x'/></r>");
    xmlNode *r = xmlDocGetRootElement(d);
    assert_false(ma_xml_is_json_vocab(r));
    int i = 0;
    for (xmlNode *c = ma_xml_child(r, NULL); c; c = ma_xml_next(c, NULL), i++)
        assert_int_equal(ma_xml_is_json_vocab(c), i < 6);
    assert_int_equal(i, 9);
    assert_false(ma_xml_is_json_vocab(NULL));
    assert_false(ma_xml_is_json_vocab((xmlNode *)d));
    xmlFreeDoc(d);
}

/* ---- the JSON string escaper and the UTF-8 decoder (util.c) ----------------------------- */

static void assert_escaped(const char *in, size_t n, const char *want)
{
    ma_sb b;
    ma_sb_init(&b);
    assert_int_equal(ma_sb_json_escape(&b, in, n), 0);
    assert_string_equal(b.s ? b.s : "", want);
    ma_sb_free(&b);
}

static void test_escape(void **state)
{
    (void)state;
    assert_escaped("", 0, "");
    assert_escaped("plain text, longer than eight bytes", 35, "plain text, longer than eight bytes");
    /* quotes, backslashes, the short escapes, other controls as \u00XX (also where eight bytes at a
     * time are looked at: the escape sits in the middle of a long run) */
    assert_escaped("a\"b\\c", 5, "a\\\"b\\\\c");
    assert_escaped("\b\f\n\r\t\x01\x1f", 7, "\\b\\f\\n\\r\\t\\u0001\\u001f");
    assert_escaped("0123456789\x7f"
                   "0123456789",
                   21, "0123456789\\u007f0123456789");
    assert_escaped("01234567\"89abcdef", 17, "01234567\\\"89abcdef");
    assert_escaped("0123456789ab\x1e", 13, "0123456789ab\\u001e");
    assert_escaped("a\0b", 3, "a\\u0000b");
    /* U+0080-U+009F and U+2028/U+2029 escaped, the rest of UTF-8 kept */
    assert_escaped("\xC2\x80\xC2\x9F\xC2\xA0", 6, "\\u0080\\u009f\xC2\xA0");
    assert_escaped("x\xE2\x80\xA8y\xE2\x80\xA9z\xE2\x80\xAA", 12, "x\\u2028y\\u2029z\xE2\x80\xAA");
    assert_escaped("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF", 19,
                   "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF");
    /* a byte that does not start valid UTF-8 becomes U+FFFD; what follows it is read again */
    assert_escaped("a\xFF"
                   "b",
                   3, "a\\ufffdb");
    assert_escaped("\x80\xBF", 2, "\\ufffd\\ufffd");
    assert_escaped("\xC3(", 2, "\\ufffd(");
    assert_escaped("\xC0\xAF", 2, "\\ufffd\\ufffd");                       /* overlong '/' */
    assert_escaped("\xE0\x80\xAF", 3, "\\ufffd\\ufffd\\ufffd");            /* overlong */
    assert_escaped("\xED\xA0\x80", 3, "\\ufffd\\ufffd\\ufffd");            /* a surrogate */
    assert_escaped("\xF4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd"); /* past U+10FFFF */
    assert_escaped("\xE2\x82", 2, "\\ufffd\\ufffd");                       /* cut short */
    assert_escaped("\xF0\x9F\x98", 3, "\\ufffd\\ufffd\\ufffd");
    /* whatever the bytes, the output reads back as a JSON string with the text kept */
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_json_str(&b, NULL);
    assert_string_equal(b.s, "\"\"");
    ma_sb_reset(&b);
    ma_sb_putc(&b, '"');
    ma_sb_json_escape(&b, (const char *)all, sizeof all);
    ma_sb_putc(&b, '"');
    json_error_t je;
    json_t *v = json_loadb(b.s, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!v) fail_msg("escaped bytes are not JSON: %s", je.text);
    assert_int_equal(json_string_length(v), 128 + 128 * 3); /* ASCII kept, each other byte U+FFFD */
    assert_memory_equal(json_string_value(v), all, 128);
    json_decref(v);
    ma_jv *t = ma_jv_parse(b.s, b.len, 1, NULL, NULL);
    assert_null(t); /* it holds U+0000, which the tree refuses */
    ma_sb_free(&b);
}

static void test_utf8_decode(void **state)
{
    (void)state;
    unsigned cp = 0;
    assert_int_equal(ma_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(ma_utf8_decode((const unsigned char *)"\xC2\x80", 2, &cp), 2);
    assert_int_equal(cp, 0x80);
    assert_int_equal(ma_utf8_decode((const unsigned char *)"\xE2\x80\xA8", 3, &cp), 3);
    assert_int_equal(cp, 0x2028);
    assert_int_equal(ma_utf8_decode((const unsigned char *)"\xEF\xBF\xBF", 3, &cp), 3);
    assert_int_equal(cp, 0xFFFF);
    assert_int_equal(ma_utf8_decode((const unsigned char *)"\xF4\x8F\xBF\xBF", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
    const char *bad[] = {"\x80",
                         "\xC1\xBF",
                         "\xC2",
                         "\xC2\x41",
                         "\xE0\x9F\xBF",
                         "\xED\xA0\x80",
                         "\xED\xBF\xBF",
                         "\xF0\x8F\xBF\xBF",
                         "\xF4\x90\x80\x80",
                         "\xF5\x80\x80\x80",
                         "\xFF",
                         "\xE2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(ma_utf8_decode((const unsigned char *)bad[i], strlen(bad[i]), &cp), 0);
    /* the length available bounds the sequence */
    assert_int_equal(ma_utf8_decode((const unsigned char *)"\xE2\x82\xAC", 2, &cp), 0);
    assert_int_equal(ma_utf8_decode((const unsigned char *)"", 0, &cp), 0);
}

/* ---- checking only (ma_json_check) -------------------------------------------------------- */

static void assert_check_error(const char *json, size_t len, int code, const char *msg_part)
{
    ma_error err;
    ma_error_clear(&err);
    ma_json_span *items = (ma_json_span *)&err; /* must be reset */
    size_t n = 7;
    if (ma_json_check(json, len, NULL, &items, &n, &err) == 0) fail_msg("expected an error for %s", json);
    assert_null(items);
    assert_int_equal(n, (size_t)-1);
    assert_int_equal(err.code, code);
    if (!strstr(err.msg, msg_part)) fail_msg("\"%s\" does not contain \"%s\"", err.msg, msg_part);
    assert_int_equal(ma_json_check(json, len, NULL, NULL, NULL, NULL), -1); /* no err: the same answer */
}

static void test_check(void **state)
{
    (void)state;
    /* valid JSON of any kind; what ma_jv_parse refuses but RFC 8259 allows is accepted */
    const char *ok[] = {"{}",
                        "[]",
                        " 1 ",
                        "\"s\"",
                        "true",
                        "null",
                        "-0.5e+3",
                        "[\"\\u0000\"]",
                        "[1e999]",
                        "[123456789012345678901234567890]",
                        "[\"\\ud83d\\ude00\", \"\xF0\x9F\x98\x80\"]",
                        "{\"a\":{\"a\":1},\"a\":2}",
                        "[\"\\b\\f\\uFFFF\"]",
                        "\xEF\xBB\xBF{}"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        size_t start = 9;
        if (ma_json_check(ok[i], strlen(ok[i]), &start, NULL, NULL, NULL) != 0) fail_msg("%s refused", ok[i]);
        assert_int_equal(start, ok[i][0] == '\xEF' ? 3 : 0);
    }
    /* what it refuses, with where */
    assert_check_error("", 0, MA_ERR_PARSE, "line 1, column 1: empty document");
    assert_check_error(" \n ", 3, MA_ERR_PARSE, "only white space");
    assert_check_error("{\"a\":[1,2,]}", 12, MA_ERR_PARSE, "trailing comma");
    assert_check_error("{\n  \"a\": tru\n}", 14, MA_ERR_PARSE, "line 2, column 8: invalid literal");
    assert_check_error("[\"\\ud800\"]", 10, MA_ERR_PARSE, "lone surrogate");
    assert_check_error("[\"\\udc00\\ud800\"]", 16, MA_ERR_PARSE, "lone surrogate");
    assert_check_error("[\"\xC3(\"]", 6, MA_ERR_PARSE, "invalid UTF-8");
    assert_check_error("[\"\xED\xA0\x80\"]", 7, MA_ERR_PARSE, "invalid UTF-8");
    assert_check_error("[\"\x01\"]", 5, MA_ERR_PARSE, "control character");
    assert_check_error("{'a':1}", 7, MA_ERR_PARSE, "expected a string key");
    assert_check_error("[01]", 4, MA_ERR_PARSE, "leading zeros");
    assert_check_error("{} x", 4, MA_ERR_PARSE, "after the JSON value");
    assert_check_error("[1,", 3, MA_ERR_PARSE, "unterminated array");
    assert_check_error("\xFF\xFE[", 3, MA_ERR_PARSE, "UTF-16");
    char deep[2 * MA_JSON_MAX_DEPTH + 8];
    size_t d = 0;
    for (int i = 0; i <= MA_JSON_MAX_DEPTH; i++) deep[d++] = '[';
    for (int i = 0; i <= MA_JSON_MAX_DEPTH; i++) deep[d++] = ']';
    assert_check_error(deep, d, MA_ERR_LIMIT, "nesting deeper than");
    assert_int_equal(ma_json_check(deep + 1, d - 2, NULL, NULL, NULL, NULL), 0); /* at the limit */
    assert_int_equal(ma_json_check(NULL, 0, NULL, NULL, NULL, NULL), -1);
}

static void test_check_items(void **state)
{
    (void)state;
    const char *json = "\xEF\xBB\xBF [ {\"a\":[1,2]} , [2,3],\"s\\\"]\",4 ,null,\n{}]  ";
    const char *want[] = {"{\"a\":[1,2]}", "[2,3]", "\"s\\\"]\"", "4", "null", "{}"};
    ma_json_span *items = NULL;
    size_t n = 0, start = 0;
    ma_error err;
    ma_error_clear(&err);
    assert_int_equal(ma_json_check(json, strlen(json), &start, &items, &n, &err), 0);
    assert_int_equal(start, 3);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(items[i].len, strlen(want[i]));
        assert_memory_equal(json + items[i].off, want[i], items[i].len);
    }
    free(items);
    /* an empty array: no items; not an array: (size_t)-1 */
    assert_int_equal(ma_json_check(" [ ] ", 5, NULL, &items, &n, &err), 0);
    assert_null(items);
    assert_int_equal(n, 0);
    const char *single[] = {"{\"a\":[1,2]}", "\"[1]\"", " 4 ", "null"};
    for (size_t i = 0; i < sizeof single / sizeof *single; i++) {
        items = (ma_json_span *)&err;
        assert_int_equal(ma_json_check(single[i], strlen(single[i]), NULL, &items, &n, &err), 0);
        assert_null(items);
        assert_int_equal(n, (size_t)-1);
    }
    /* many items (the span list grows) */
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_putc(&b, '[');
    for (int i = 0; i < 1000; i++) ma_sb_printf(&b, "%s[%d]", i ? "," : "", i);
    ma_sb_putc(&b, ']');
    assert_int_equal(ma_json_check(b.s, b.len, NULL, &items, &n, &err), 0);
    assert_int_equal(n, 1000);
    assert_memory_equal(b.s + items[999].off, "[999]", items[999].len);
    free(items);
    ma_sb_free(&b);
}

/* ---- is it JSON? ------------------------------------------------------------------------ */

static int looks(const char *data, const char *ct) { return ma_doc_looks_json(data, data ? strlen(data) : 0, ct); }

static void test_looks_json(void **state)
{
    (void)state;
    /* the content type decides when there is one */
    assert_int_equal(looks("{\"a\":1}", "application/json"), 1);
    assert_int_equal(looks("not json at all", "application/json"), 1);
    assert_int_equal(looks("{\"a\":1}", "text/plain"), 0);
    assert_int_equal(looks("[1]", "application/xml"), 0);
    assert_int_equal(looks("{}", "application/vnd.api+json"), 1);
    assert_int_equal(looks("{}", "Application/JSON; charset=UTF-8"), 1);
    assert_int_equal(looks("{}", "  application/json  ;charset=utf-8"), 1);
    assert_int_equal(looks("{}", "APPLICATION/LD+JSON;profile=x"), 1);
    assert_int_equal(looks("{}", "application/jsonx"), 0);
    assert_int_equal(looks("{}", "application/json-seq"), 0);
    assert_int_equal(looks("{}", "application/+json"), 0);
    assert_int_equal(looks("{}", "+json"), 0);
    assert_int_equal(looks("{}", "text/json+xml"), 0);
    /* no content type (or an empty one): the data decides */
    assert_int_equal(looks("  [1]", NULL), 1);
    assert_int_equal(looks("\n\t{\"a\": [true, null]}\n", NULL), 1);
    assert_int_equal(looks("\xEF\xBB\xBF{}", NULL), 1);
    assert_int_equal(looks("{bad", NULL), 0);
    assert_int_equal(looks("[1,]", NULL), 0);
    assert_int_equal(looks("{} x", NULL), 0);
    assert_int_equal(looks("\"just a string\"", NULL), 0);
    assert_int_equal(looks("42", NULL), 0);
    assert_int_equal(looks("<a>{}</a>", NULL), 0);
    assert_int_equal(looks("<?xml version='1.0'?><fn:map/>", NULL), 0);
    assert_int_equal(looks("", NULL), 0);
    assert_int_equal(looks(NULL, NULL), 0);
    assert_int_equal(looks("[1]", ""), 1);
    assert_int_equal(looks("[1]", " ; charset=utf-8"), 1);
    /* valid JSON that XML cannot hold is still JSON (the conversion then reports it) */
    assert_int_equal(looks("[\"\\u0000\"]", NULL), 1);
    assert_int_equal(looks("[\"\\b\\f\\ud800\"]", NULL), 1);
    assert_int_equal(looks("[\"\xC3(\"]", NULL), 0); /* invalid UTF-8 is not */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_scalars), cmocka_unit_test(test_roundtrip_nested),
        cmocka_unit_test(test_number_text_kept),  cmocka_unit_test(test_exact_xml),
        cmocka_unit_test(test_string_escapes),    cmocka_unit_test(test_max_depth),
        cmocka_unit_test(test_json_errors),       cmocka_unit_test(test_load_values),
        cmocka_unit_test(test_load_kept),         cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_xml_to_json_ok),    cmocka_unit_test(test_xml_to_json_errors),
        cmocka_unit_test(test_xml_to_json_depth), cmocka_unit_test(test_is_vocab),
        cmocka_unit_test(test_looks_json),        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_utf8_decode),       cmocka_unit_test(test_check),
        cmocka_unit_test(test_check_items),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmlCleanupParser();
    return rc;
}
