/* test_profile.c - profile element paths (runtime/profile.c): keys of profile.xml and profile.json
 * components resolved to name paths, evaluation on XML and JSON data, and splitting with the
 * ancestors rebuilt around each piece (boomi-process-xml.md 3 "Profiles"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader.h"
#include "miniatom/document.h"
#include "profile.h"
#include "util.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

static ma_doc *doc_of(const char *s)
{
    ma_doc *d = ma_doc_new(s, strlen(s));
    assert_non_null(d);
    return d;
}

static ma_profile_path *names(const char *n, int json)
{
    ma_error err = {0};
    ma_profile_path *p = ma_profile_path_from_names(n, json, &err);
    if (!p) fail_msg("from_names(%s): %s", n, err.msg);
    return p;
}

static void assert_eval(const ma_profile_path *p, const char *data, const char *want)
{
    ma_doc *d = doc_of(data);
    char *v = ma_profile_path_eval(p, d);
    assert_non_null(v);
    assert_string_equal(v, want);
    free(v);
    ma_doc_unref(d);
}

static const char *data_of(const ma_doc *d)
{
    size_t len;
    return ma_doc_data(d, &len);
}

/* ---- XML ---- */

static const char *EMPLOYEES = "<?xml version=\"1.0\"?>"
                               "<CompoundEmployee><person><person_id_external>E1</person_id_external></person>"
                               "<log><log_item><id>1</id><v a=\"x\">one</v></log_item><other>o</other>"
                               "<log_item><id>2</id></log_item></log></CompoundEmployee>";

static void test_xml_eval(void **state)
{
    (void)state;
    ma_profile_path *p = names("CompoundEmployee/log/log_item/id", 0);
    assert_string_equal(ma_profile_path_str(p), "CompoundEmployee/log/log_item/id");
    assert_false(ma_profile_path_is_json(p));
    assert_eval(p, EMPLOYEES, "1"); /* the first match */
    assert_eval(p, "<CompoundEmployee><log/></CompoundEmployee>", "");
    assert_eval(p, "<Other><log><log_item><id>9</id></log_item></log></Other>", ""); /* root must match */
    assert_eval(p, "not xml <", "");
    assert_eval(p, "", "");
    ma_profile_path_free(p);

    p = names("CompoundEmployee/person/person_id_external", 0);
    assert_eval(p, EMPLOYEES, "E1");
    ma_profile_path_free(p);

    p = names("/CompoundEmployee/log/log_item/v/@a", 0);
    assert_eval(p, EMPLOYEES, "x");
    ma_profile_path_free(p);

    /* namespaces: local names are compared (a prefix in the path is ignored) */
    p = names("Envelope/Body/value", 0);
    assert_eval(p, "<s:Envelope xmlns:s=\"urn:s\"><s:Body><value xmlns=\"urn:v\">42</value></s:Body></s:Envelope>",
                "42");
    ma_profile_path_free(p);
    p = names("soap:Envelope/soap:Body/value", 0);
    assert_string_equal(ma_profile_path_str(p), "soap:Envelope/soap:Body/value");
    assert_eval(p, "<s:Envelope xmlns:s=\"urn:s\"><s:Body><value>42</value></s:Body></s:Envelope>", "42");
    ma_profile_path_free(p);
}

static void test_xml_split(void **state)
{
    (void)state;
    ma_profile_path *p = names("CompoundEmployee/log/log_item", 0);
    ma_doc *d = doc_of(EMPLOYEES);
    assert_int_equal(ma_doc_set_prop(&d, "dynamicdocument.X", "kept"), 0);
    ma_batch out;
    ma_batch_init(&out);
    ma_error err = {0};
    assert_int_equal(ma_profile_path_split(p, d, &out, &err), 0);
    assert_int_equal(out.len, 2);
    assert_string_equal(
        data_of(out.docs[0]),
        XML_DECL "<CompoundEmployee><log><log_item><id>1</id><v a=\"x\">one</v></log_item></log></CompoundEmployee>\n");
    assert_string_equal(data_of(out.docs[1]),
                        XML_DECL "<CompoundEmployee><log><log_item><id>2</id></log_item></log></CompoundEmployee>\n");
    for (size_t i = 0; i < out.len; i++) {
        assert_string_equal(ma_doc_prop(out.docs[i], "dynamicdocument.X"), "kept");
        assert_true(ma_doc_track_id(out.docs[i]) == ma_doc_track_id(d));
    }
    ma_batch_clear(&out);

    /* no match: no pieces, no error */
    ma_doc *none = doc_of("<CompoundEmployee/>");
    assert_int_equal(ma_profile_path_split(p, none, &out, &err), 0);
    assert_int_equal(out.len, 0);
    ma_doc_unref(none);

    /* not XML: error, nothing added */
    ma_doc *bad = doc_of("<CompoundEmployee><log>");
    assert_int_equal(ma_profile_path_split(p, bad, &out, &err), -1);
    assert_int_equal(err.code, MA_ERR_PARSE);
    assert_int_equal(out.len, 0);
    ma_doc_unref(bad);
    ma_doc_unref(d);
    ma_profile_path_free(p);
}

static void test_xml_split_namespaces(void **state)
{
    (void)state;
    ma_profile_path *p = names("root/list/item", 0);
    ma_doc *d = doc_of(
        "<n:root xmlns:n=\"urn:n\" version=\"2\"><n:head>h</n:head>"
        "<n:list kind=\"k\"><n:item id=\"1\"><x xmlns=\"urn:x\">a</x></n:item><n:item id=\"2\"/></n:list></n:root>");
    ma_batch out;
    ma_batch_init(&out);
    ma_error err = {0};
    assert_int_equal(ma_profile_path_split(p, d, &out, &err), 0);
    assert_int_equal(out.len, 2);
    assert_string_equal(
        data_of(out.docs[0]), XML_DECL
        "<n:root xmlns:n=\"urn:n\" version=\"2\"><n:list kind=\"k\"><n:item id=\"1\"><x xmlns=\"urn:x\">a</x></n:item></n:list></n:root>\n");
    assert_string_equal(
        data_of(out.docs[1]),
        XML_DECL "<n:root xmlns:n=\"urn:n\" version=\"2\"><n:list kind=\"k\"><n:item id=\"2\"/></n:list></n:root>\n");
    ma_batch_clear(&out);
    ma_doc_unref(d);
    ma_profile_path_free(p);
}

/* ---- JSON ---- */

static const char *ORDERS = "{\"batch\":\"b1\",\"orders\":[{\"id\":1,\"total\":1.5,\"paid\":true,\"note\":null,"
                            "\"lines\":[{\"sku\":\"A\"},{\"sku\":\"B\"}]},{\"id\":2,\"total\":0.1}]}";

static void test_json_eval(void **state)
{
    (void)state;
    ma_profile_path *p = names("Root/Object/orders/Array/ArrayElement1/Object/id", 1);
    assert_true(ma_profile_path_is_json(p));
    assert_eval(p, ORDERS, "1");
    assert_eval(p, "{\"orders\":[]}", "");
    assert_eval(p, "{\"orders\":{\"id\":3}}", ""); /* not an array */
    assert_eval(p, "not json", "");
    ma_profile_path_free(p);

    p = names("Root/Object/orders/Array/ArrayElement1/Object/total", 1);
    assert_eval(p, ORDERS, "1.5");
    ma_profile_path_free(p);
    p = names("Root/Object/orders/Array/ArrayElement1/Object/paid", 1);
    assert_eval(p, ORDERS, "true");
    ma_profile_path_free(p);
    p = names("Root/Object/orders/Array/ArrayElement1/Object/note", 1);
    assert_eval(p, ORDERS, "");
    ma_profile_path_free(p);
    p = names("Root/Object/orders/Array/ArrayElement1/Object/lines", 1);
    assert_eval(p, ORDERS, "[{\"sku\":\"A\"},{\"sku\":\"B\"}]");
    ma_profile_path_free(p);
    /* the doubled-name form some exports write (entry, then the array named after it) */
    p = names("Root/Object/orders/orders/ArrayElement1/Object/lines/lines/ArrayElement1/Object/sku", 1);
    assert_eval(p, ORDERS, "A");
    ma_profile_path_free(p);
    /* names without the structural nodes */
    p = names("Root/batch", 1);
    assert_eval(p, ORDERS, "b1");
    ma_profile_path_free(p);
    /* a root array */
    p = names("Root/Array/ArrayElement1/Object/devName", 1);
    assert_eval(p, "[{\"devName\":\"inv-1\"},{\"devName\":\"inv-2\"}]", "inv-1");
    ma_profile_path_free(p);
}

static void test_json_split(void **state)
{
    (void)state;
    ma_profile_path *p = names("Root/Object/orders/Array/ArrayElement1", 1);
    ma_doc *d = doc_of(ORDERS);
    assert_int_equal(ma_doc_set_prop(&d, "dynamicdocument.X", "kept"), 0);
    ma_batch out;
    ma_batch_init(&out);
    ma_error err = {0};
    assert_int_equal(ma_profile_path_split(p, d, &out, &err), 0);
    assert_int_equal(out.len, 2);
    assert_string_equal(data_of(out.docs[0]), "{\"orders\":[{\"id\":1,\"total\":1.5,\"paid\":true,\"note\":null,"
                                              "\"lines\":[{\"sku\":\"A\"},{\"sku\":\"B\"}]}]}");
    assert_string_equal(data_of(out.docs[1]), "{\"orders\":[{\"id\":2,\"total\":0.1}]}");
    assert_string_equal(ma_doc_prop(out.docs[1], "dynamicdocument.X"), "kept");
    assert_true(ma_doc_track_id(out.docs[1]) == ma_doc_track_id(d));
    ma_batch_clear(&out);

    /* nested arrays: every line of every order */
    ma_profile_path *q = names("Root/Object/orders/Array/ArrayElement1/Object/lines/Array/ArrayElement1", 1);
    assert_int_equal(ma_profile_path_split(q, d, &out, &err), 0);
    assert_int_equal(out.len, 2);
    assert_string_equal(data_of(out.docs[0]), "{\"orders\":[{\"lines\":[{\"sku\":\"A\"}]}]}");
    assert_string_equal(data_of(out.docs[1]), "{\"orders\":[{\"lines\":[{\"sku\":\"B\"}]}]}");
    ma_batch_clear(&out);
    ma_profile_path_free(q);

    /* a root array */
    q = names("Root/Array/ArrayElement1", 1);
    ma_doc *arr = doc_of("[{\"a\":1},2,\"three\"]");
    assert_int_equal(ma_profile_path_split(q, arr, &out, &err), 0);
    assert_int_equal(out.len, 3);
    assert_string_equal(data_of(out.docs[0]), "[{\"a\":1}]");
    assert_string_equal(data_of(out.docs[1]), "[2]");
    assert_string_equal(data_of(out.docs[2]), "[\"three\"]");
    ma_batch_clear(&out);
    ma_doc_unref(arr);
    ma_profile_path_free(q);

    ma_doc *bad = doc_of("{\"orders\":[");
    assert_int_equal(ma_profile_path_split(p, bad, &out, &err), -1);
    assert_int_equal(err.code, MA_ERR_PARSE);
    assert_int_equal(out.len, 0);
    ma_doc_unref(bad);
    ma_doc_unref(d);
    ma_profile_path_free(p);
}

static void test_from_names_errors(void **state)
{
    (void)state;
    ma_error err = {0};
    assert_null(ma_profile_path_from_names("", 0, &err));
    assert_null(ma_profile_path_from_names("a//b", 0, &err));
    assert_null(ma_profile_path_from_names("a/@x/b", 0, &err));
    assert_null(ma_profile_path_from_names(NULL, 1, &err));
    char deep[4096] = "";
    for (int i = 0; i < 300; i++) strcat(deep, "a/");
    strcat(deep, "a");
    assert_null(ma_profile_path_from_names(deep, 0, &err));
    assert_int_equal(err.code, MA_ERR_LIMIT);
}

/* ---- profile components in a deployment ---- */

#define ENVELOPE_START(id, name, type)                                                                                 \
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><bns:Component "                                     \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:bns=\"http://api.platform.boomi.com/\" "            \
    "componentId=\"" id "\" version=\"1\" name=\"" name "\" type=\"" type "\" folderFullPath=\"T\" deleted=\"false\" " \
    "currentVersion=\"true\"><bns:encryptedValues/><bns:object>"
#define ENVELOPE_END "</bns:object></bns:Component>"

static const char *XML_PROFILE = ENVELOPE_START(
    "p-xml", "Employees",
    "profile.xml") "<XMLProfile xmlns=\"\" modelVersion=\"2\" strict=\"true\"><ProfileProperties><XMLGeneralInfo/></ProfileProperties>"
                   "<DataElements><XMLElement isNode=\"true\" key=\"1\" name=\"CompoundEmployee\" typeKey=\"-1\" useNamespace=\"-1\">"
                   "<XMLElement isNode=\"true\" key=\"20448\" name=\"log\" useNamespace=\"-1\">"
                   "<XMLElement isNode=\"true\" key=\"20650\" maxOccurs=\"-1\" name=\"log_item\" useNamespace=\"-1\">"
                   "<XMLAttribute key=\"20651\" name=\"seq\"/>"
                   "<XMLElement isNode=\"true\" key=\"26623\" name=\"person_id_external\" useNamespace=\"-1\"/>"
                   "</XMLElement></XMLElement></XMLElement></DataElements>"
                   "<Namespaces><XMLNamespace key=\"-1\" name=\"Empty Namespace\"><Types><Type typeKey=\"-2\">"
                   "<XMLElement key=\"3\" name=\"typed\"><XMLElement key=\"4\" name=\"inner\"/></XMLElement></Type></Types></XMLNamespace></Namespaces>"
                   "</XMLProfile>" ENVELOPE_END;

static const char *JSON_PROFILE = ENVELOPE_START(
    "p-json", "Walls",
    "profile.json") "<JSONProfile xmlns=\"\" strict=\"false\"><DataElements>"
                    "<JSONRootValue key=\"1\" name=\"Root\"><JSONObject key=\"2\" name=\"Object\">"
                    "<JSONObjectEntry key=\"3\" name=\"wall\"><JSONObject key=\"4\" name=\"Object\">"
                    "<JSONObjectEntry key=\"7\" name=\"ID\"/>"
                    "<JSONObjectEntry key=\"48\" name=\"WallSides\"><JSONArray elementType=\"repeating\" key=\"49\" name=\"Array\">"
                    "<JSONArrayElement key=\"50\" maxOccurs=\"-1\" name=\"ArrayElement1\"><JSONObject key=\"51\" name=\"Object\">"
                    "<JSONObjectEntry key=\"52\" name=\"Name\"/></JSONObject></JSONArrayElement></JSONArray></JSONObjectEntry>"
                    "<JSONObjectEntry key=\"60\" name=\"pair\"><JSONArray elementType=\"absolute\" key=\"61\" name=\"Array\">"
                    "<JSONArrayElement key=\"62\" name=\"ArrayElement1\"/><JSONArrayElement key=\"63\" name=\"ArrayElement2\"/>"
                    "</JSONArray></JSONObjectEntry>"
                    "</JSONObject></JSONObjectEntry></JSONObject></JSONRootValue></DataElements><tagLists/></JSONProfile>" ENVELOPE_END;

static const char *FF_PROFILE = ENVELOPE_START(
    "p-ff", "Cost Centers",
    "profile.flatfile") "<FlatFileProfile xmlns=\"\"><ProfileProperties><GeneralInfo fileType=\"delimited\" useColumnHeaders=\"true\"/>"
                        "<Options><DelimitedOptions fileDelimiter=\"commadelimited\" textQualifier=\"textqualifierdouble\"/>"
                        "</Options></ProfileProperties><DataElements><FlatFileRecord key=\"1\" name=\"Record\">"
                        "<FlatFileElements key=\"2\" name=\"Elements\"><FlatFileElement key=\"3\" name=\"Code\"/>"
                        "<FlatFileElement key=\"4\" name=\"Cost Center\"/></FlatFileElements></FlatFileRecord>"
                        "</DataElements></FlatFileProfile>" ENVELOPE_END;

/* two record formats told apart by their first value; the header's fields in two groups */
static const char *FF_ORDERS_PROFILE = ENVELOPE_START(
    "p-ff-orders", "Orders",
    "profile.flatfile") "<FlatFileProfile xmlns=\"\"><ProfileProperties><GeneralInfo fileType=\"delimited\"/>"
                        "<Options><DelimitedOptions fileDelimiter=\"bardelimited\" textQualifier=\"na\"/>"
                        "</Options></ProfileProperties><DataElements>"
                        "<FlatFileRecord detectFormat=\"uniquevalues\" key=\"1\" name=\"Header\">"
                        "<FlatFileElements key=\"2\" name=\"Ids\">"
                        "<FlatFileElement key=\"3\" name=\"Type\" useToIdentifyFormat=\"true\" identityValue=\"H\"/>"
                        "<FlatFileElement key=\"4\" name=\"Order Id\"/></FlatFileElements>"
                        "<FlatFileElements key=\"5\" name=\"Party\"><FlatFileElement key=\"6\" name=\"Customer\"/>"
                        "</FlatFileElements></FlatFileRecord>"
                        "<FlatFileRecord detectFormat=\"uniquevalues\" key=\"10\" name=\"Detail\">"
                        "<FlatFileElements key=\"11\" name=\"Elements\">"
                        "<FlatFileElement key=\"12\" name=\"Type\" useToIdentifyFormat=\"true\" identityValue=\"D\"/>"
                        "<FlatFileElement key=\"13\" name=\"Sku\"/>"
                        "<FlatFileElement key=\"14\" name=\"Qty\" dataType=\"number\"><DataFormat>"
                        "<ProfileNumberFormat numberFormat=\"#,##0\"/></DataFormat></FlatFileElement>"
                        "</FlatFileElements></FlatFileRecord></DataElements></FlatFileProfile>" ENVELOPE_END;

static const char *DB_PROFILE =
    ENVELOPE_START("p-db", "Orders DB", "profile.db") "<DatabaseProfile xmlns=\"\"/>" ENVELOPE_END;

static ma_deploy *deploy_with_profiles(void)
{
    ma_deploy *dep = ma_deploy_new(NULL, NULL);
    assert_non_null(dep);
    const char *comps[] = {XML_PROFILE, JSON_PROFILE, FF_PROFILE, FF_ORDERS_PROFILE, DB_PROFILE};
    for (size_t i = 0; i < sizeof comps / sizeof *comps; i++) {
        ma_error err = {0};
        if (ma_deploy_add_buffer(dep, comps[i], strlen(comps[i]), "inline", &err) < 0)
            fail_msg("add component %zu: %s", i, err.msg);
    }
    return dep;
}

static ma_profile_path *by_key(ma_deploy *dep, const char *profile, const char *key)
{
    ma_error err = {0};
    ma_profile_path *p = ma_profile_path_compile(dep, profile, key, &err);
    if (!p) fail_msg("compile %s key %s: %s", profile, key, err.msg);
    return p;
}

static void test_deploy_xml_profile(void **state)
{
    (void)state;
    ma_deploy *dep = deploy_with_profiles();
    ma_profile_path *p = by_key(dep, "p-xml", "26623");
    assert_string_equal(ma_profile_path_str(p), "CompoundEmployee/log/log_item/person_id_external");
    assert_false(ma_profile_path_is_json(p));
    assert_eval(
        p,
        "<CompoundEmployee><log><log_item seq=\"4\"><person_id_external>P7</person_id_external></log_item></log></CompoundEmployee>",
        "P7");
    ma_profile_path_free(p);

    p = by_key(dep, "p-xml", "20651");
    assert_string_equal(ma_profile_path_str(p), "CompoundEmployee/log/log_item/seq");
    assert_eval(p, "<CompoundEmployee><log><log_item seq=\"4\"/></log></CompoundEmployee>", "4");
    ma_profile_path_free(p);

    p = by_key(dep, "p-xml", "20650");
    ma_doc *d = doc_of("<CompoundEmployee><log><log_item seq=\"1\"/><log_item seq=\"2\"/></log></CompoundEmployee>");
    ma_batch out;
    ma_batch_init(&out);
    ma_error err = {0};
    assert_int_equal(ma_profile_path_split(p, d, &out, &err), 0);
    assert_int_equal(out.len, 2);
    assert_string_equal(data_of(out.docs[1]),
                        XML_DECL "<CompoundEmployee><log><log_item seq=\"2\"/></log></CompoundEmployee>\n");
    ma_batch_clear(&out);
    ma_doc_unref(d);
    ma_profile_path_free(p);

    /* an element only declared in a type definition */
    p = by_key(dep, "p-xml", "4");
    assert_string_equal(ma_profile_path_str(p), "typed/inner");
    ma_profile_path_free(p);
    ma_deploy_free(dep);
}

static void test_deploy_json_profile(void **state)
{
    (void)state;
    ma_deploy *dep = deploy_with_profiles();
    ma_profile_path *p = by_key(dep, "p-json", "7");
    assert_string_equal(ma_profile_path_str(p), "Root/Object/wall/Object/ID");
    assert_true(ma_profile_path_is_json(p));
    assert_eval(p, "{\"wall\":{\"ID\":\"W-1\",\"WallSides\":[]}}", "W-1");
    assert_eval(p, "{\"wall\":{\"ID\":17}}", "17");
    ma_profile_path_free(p);

    p = by_key(dep, "p-json", "52");
    assert_string_equal(ma_profile_path_str(p), "Root/Object/wall/Object/WallSides/Array/ArrayElement1/Object/Name");
    assert_eval(p, "{\"wall\":{\"WallSides\":[{\"Name\":\"north\"},{\"Name\":\"south\"}]}}", "north");
    ma_profile_path_free(p);

    /* absolute array: the second element is position 1 */
    p = by_key(dep, "p-json", "63");
    assert_eval(p, "{\"wall\":{\"pair\":[\"left\",\"right\"]}}", "right");
    ma_profile_path_free(p);

    p = by_key(dep, "p-json", "50");
    ma_doc *d = doc_of("{\"wall\":{\"ID\":\"W\",\"WallSides\":[{\"Name\":\"n\"},{\"Name\":\"s\"}]}}");
    ma_batch out;
    ma_batch_init(&out);
    ma_error err = {0};
    assert_int_equal(ma_profile_path_split(p, d, &out, &err), 0);
    assert_int_equal(out.len, 2);
    assert_string_equal(data_of(out.docs[0]), "{\"wall\":{\"WallSides\":[{\"Name\":\"n\"}]}}");
    assert_string_equal(data_of(out.docs[1]), "{\"wall\":{\"WallSides\":[{\"Name\":\"s\"}]}}");
    ma_batch_clear(&out);
    ma_doc_unref(d);
    ma_profile_path_free(p);
    ma_deploy_free(dep);
}

static void test_deploy_errors(void **state)
{
    (void)state;
    ma_deploy *dep = deploy_with_profiles();
    ma_error err = {0};
    /* a flat file profile: elements only (not a record), read from the first record that has them */
    assert_null(ma_profile_path_compile(dep, "p-ff", "1", &err));
    assert_int_equal(err.code, MA_ERR_REF);
    assert_string_equal(err.msg, "profile 'Cost Centers' (p-ff) has no element with key 1");
    ma_profile_path *ff = ma_profile_path_compile(dep, "p-ff", "4", &err);
    assert_non_null(ff);
    assert_string_equal(ma_profile_path_str(ff), "Record/Elements/Cost Center");
    const char *csv = "Code,Cost Center\nC1,\"Sales, North\"\nC2,Ops\n";
    ma_doc *d = ma_doc_new(csv, strlen(csv));
    assert_non_null(d);
    char *v = ma_profile_path_eval(ff, d);
    assert_string_equal(v, "Sales, North");
    free(v);
    ma_batch out;
    ma_batch_init(&out);
    assert_int_equal(ma_profile_path_split(ff, d, &out, &err), -1);
    ma_batch_clear(&out);
    ma_doc_unref(d);
    ma_profile_path_free(ff);
    assert_null(ma_profile_path_compile(dep, "p-db", "1", &err));
    assert_int_equal(err.code, MA_ERR_UNSUPPORTED);
    assert_string_equal(
        err.msg,
        "profile 'Orders DB' (p-db) is a database profile; only XML, JSON and flat file profiles are supported");
    assert_null(ma_profile_path_compile(dep, "p-xml", "999", &err));
    assert_int_equal(err.code, MA_ERR_REF);
    assert_non_null(strstr(err.msg, "no element with key 999"));
    assert_null(ma_profile_path_compile(dep, "missing-profile", "1", &err));
    assert_int_equal(err.code, MA_ERR_REF);
    assert_null(ma_profile_path_compile(dep, "p-json", "", &err));
    ma_deploy_free(dep);
}

/* ---- occurrences (Business Rules) ---- */

typedef struct occ_ctx {
    const ma_profile_path *const *read; /* paths read at each occurrence */
    size_t nread;
    ma_sb out;
} occ_ctx;

static int collect(void *ctx, const ma_profile_match *m)
{
    occ_ctx *c = ctx;
    ma_sb_puts(&c->out, "[");
    for (size_t i = 0; i < c->nread; i++) {
        char *v = ma_profile_match_value(m, c->read[i]);
        assert_non_null(v);
        ma_sb_printf(&c->out, "%s%s", i ? "," : "", v);
        free(v);
    }
    ma_sb_puts(&c->out, "]");
    return 0;
}

/* "[..][..]": the values of read at each occurrence of the record holding `deepest` */
static char *occurrences(const char *data, int json, const char *deepest, const char *const *read, size_t nread)
{
    ma_error err = {0};
    ma_doc *d = doc_of(data);
    ma_profile_data *pd = ma_profile_data_parse(d, json, &err);
    if (!pd) fail_msg("parse: %s", err.msg);
    ma_profile_path *deep = names(deepest, json);
    ma_profile_path *rec = ma_profile_path_record(deep, &err);
    assert_non_null(rec);
    ma_profile_path *paths[8];
    for (size_t i = 0; i < nread; i++) paths[i] = names(read[i], json);
    occ_ctx c = {.read = (const ma_profile_path *const *)paths, .nread = nread};
    ma_sb_init(&c.out);
    assert_int_equal(ma_profile_path_each(rec, pd, 100, collect, &c, &err), 0);
    if (!c.out.len) { /* no occurrence: the root match */
        ma_profile_match root = ma_profile_match_root(pd);
        collect(&c, &root);
    }
    for (size_t i = 0; i < nread; i++) ma_profile_path_free(paths[i]);
    ma_profile_path_free(rec);
    ma_profile_path_free(deep);
    ma_profile_data_free(pd);
    ma_doc_unref(d);
    return ma_sb_take(&c.out, NULL);
}

static void test_xml_occurrences(void **state)
{
    (void)state;
    const char *order = "<Order id=\"A\"><c>x</c><Lines><Line><sku>1</sku><qty>5</qty></Line>"
                        "<Line><sku>2</sku></Line><Line n=\"3\"><qty>7</qty></Line></Lines></Order>";
    const char *read[] = {"Order/Lines/Line/sku", "Order/Lines/Line/qty", "Order/@id", "Order/Lines/Line/@n"};
    char *s = occurrences(order, 0, "Order/Lines/Line/qty", read, 4);
    /* one occurrence per Line, a missing field is empty, header fields read from the ancestor */
    assert_string_equal(s, "[1,5,A,][2,,A,][,7,A,3]");
    free(s);
    /* a header field: one occurrence */
    s = occurrences(order, 0, "Order/c", read + 2, 1);
    assert_string_equal(s, "[A]");
    free(s);
    /* no Line at all: no occurrence; the root match reads every path from the document */
    s = occurrences("<Order id=\"B\"/>", 0, "Order/Lines/Line/qty", read, 3);
    assert_string_equal(s, "[,,B]");
    free(s);
    /* nested repeats: each inner element, with the outer one it sits in */
    const char *emp = "<E><job><d>d1</d><info><s>A</s></info><info><s>T</s></info></job><job><d>d2</d><info><s>P</s>"
                      "</info></job></E>";
    const char *read2[] = {"E/job/info/s", "E/job/d"};
    s = occurrences(emp, 0, "E/job/info/s", read2, 2);
    assert_string_equal(s, "[A,d1][T,d1][P,d2]");
    free(s);
}

static void test_json_occurrences(void **state)
{
    (void)state;
    const char *cust = "{\"name\":\"Ann\",\"items\":[{\"sku\":\"S1\",\"price\":2.5},{\"price\":3},{\"sku\":\"S3\"}]}";
    const char *read[] = {"Root/Object/items/Array/ArrayElement1/Object/sku",
                          "Root/Object/items/Array/ArrayElement1/Object/price", "Root/Object/name"};
    char *s = occurrences(cust, 1, read[1], read, 3);
    assert_string_equal(s, "[S1,2.5,Ann][,3,Ann][S3,,Ann]");
    free(s);
    s = occurrences("{\"name\":\"Bo\",\"items\":[]}", 1, read[1], read, 3);
    assert_string_equal(s, "[,,Bo]");
    free(s);
    /* a repeating scalar array: its record is the entry, read once (the first item) */
    const char *tags[] = {"Root/Object/tags/Array/ArrayElement1"};
    s = occurrences("{\"tags\":[\"a\",\"b\"]}", 1, tags[0], tags, 1);
    assert_string_equal(s, "[a]");
    free(s);
}

static void test_occurrence_errors(void **state)
{
    (void)state;
    ma_error err = {0};
    ma_doc *d = doc_of("<a><b>");
    assert_null(ma_profile_data_parse(d, 0, &err));
    assert_int_equal(err.code, MA_ERR_PARSE);
    ma_doc_unref(d);
    d = doc_of("{\"a\":");
    assert_null(ma_profile_data_parse(d, 1, &err));
    ma_doc_unref(d);
    /* empty data is an empty document */
    d = doc_of(" \n");
    ma_profile_data *pd = ma_profile_data_parse(d, 0, &err);
    assert_non_null(pd);
    ma_profile_match root = ma_profile_match_root(pd);
    ma_profile_path *p = names("a/b", 0);
    char *v = ma_profile_match_value(&root, p);
    assert_string_equal(v, "");
    free(v);
    ma_profile_data_free(pd);
    ma_doc_unref(d);
    /* more occurrences than the limit */
    d = doc_of("<a><b/><b/><b/></a>");
    pd = ma_profile_data_parse(d, 0, &err);
    occ_ctx c = {0};
    ma_sb_init(&c.out);
    assert_int_equal(ma_profile_path_each(p, pd, 2, collect, &c, &err), -1);
    assert_int_equal(err.code, MA_ERR_LIMIT);
    ma_sb_free(&c.out);
    ma_profile_path_free(p);
    ma_profile_data_free(pd);
    ma_doc_unref(d);
}

/* "[..][..]": the values of keys read at each occurrence of the record of field `deepest` of a
 * flat file profile; "error: ..." when the data does not read */
static char *ff_occurrences(ma_deploy *dep, const char *profile, const char *data, const char *deepest,
                            const char *const *keys, size_t nkeys)
{
    ma_error err = {0};
    ma_component *c = ma_deploy_find(dep, profile);
    assert_non_null(c);
    ma_flatfile *ff = ma_flatfile_compile(c, &err);
    if (!ff) fail_msg("compile %s: %s", profile, err.msg);
    ma_doc *d = doc_of(data);
    ma_profile_data *pd = ma_profile_data_parse_flatfile(d, ff, &err);
    ma_flatfile_free(ff); /* the data does not keep the profile */
    ma_doc_unref(d);
    if (!pd) return ma_asprintf("error: %s", err.msg);
    ma_profile_path *deep = by_key(dep, profile, deepest);
    ma_profile_path *rec = ma_profile_path_record(deep, &err);
    assert_non_null(rec);
    ma_profile_path *paths[8];
    for (size_t i = 0; i < nkeys; i++) paths[i] = by_key(dep, profile, keys[i]);
    occ_ctx oc = {.read = (const ma_profile_path *const *)paths, .nread = nkeys};
    ma_sb_init(&oc.out);
    assert_int_equal(ma_profile_path_each(rec, pd, 100, collect, &oc, &err), 0);
    if (!oc.out.len) { /* no occurrence: the root match */
        ma_profile_match root = ma_profile_match_root(pd);
        collect(&oc, &root);
    }
    for (size_t i = 0; i < nkeys; i++) ma_profile_path_free(paths[i]);
    ma_profile_path_free(rec);
    ma_profile_path_free(deep);
    ma_profile_data_free(pd);
    return ma_sb_take(&oc.out, NULL);
}

static void test_flatfile_occurrences(void **state)
{
    (void)state;
    ma_deploy *dep = deploy_with_profiles();
    /* each line is an occurrence; the column header line is not one */
    const char *cc[] = {"3", "4"};
    char *s = ff_occurrences(dep, "p-ff", "Code,Cost Center\nC1,\"Sales, North\"\n\nC2,Ops\n", "4", cc, 2);
    assert_string_equal(s, "[C1,Sales, North][C2,Ops]");
    free(s);
    /* a detail line's fields, numbers in their plain form; a header field is read from the first
     * header line */
    const char *orders = "H|O1|Ann\nD|S1|1,200\nD|S2\nH|O2|Bo\nD|S3|7\n";
    const char *det[] = {"13", "14", "4", "6"};
    s = ff_occurrences(dep, "p-ff-orders", orders, "14", det, 4);
    assert_string_equal(s, "[S1,1200,O1,Ann][S2,,O1,Ann][S3,7,O1,Ann]");
    free(s);
    /* a header line: the fields of its two groups are read from that line */
    const char *hdr[] = {"4", "6"};
    s = ff_occurrences(dep, "p-ff-orders", orders, "6", hdr, 2);
    assert_string_equal(s, "[O1,Ann][O2,Bo]");
    free(s);
    /* no line of the record: the root match, fields empty (or from the lines that have them) */
    s = ff_occurrences(dep, "p-ff-orders", "H|O9|Cy\n", "14", det, 4);
    assert_string_equal(s, "[,,O9,Cy]");
    free(s);
    s = ff_occurrences(dep, "p-ff-orders", "", "14", det, 4);
    assert_string_equal(s, "[,,,]");
    free(s);
    /* lines that do not read */
    s = ff_occurrences(dep, "p-ff-orders", "H|O1|Ann\nD|S1|2|x\n", "14", det, 4);
    assert_string_equal(s, "error: line 2 has 4 fields; record 'Detail' of profile 'Orders' (p-ff-orders) has 3 "
                           "(field 4, 'x', is one too many)");
    free(s);
    s = ff_occurrences(dep, "p-ff-orders", "H|O1|Ann\nX|S1\n", "14", det, 4);
    assert_string_equal(s, "error: line 2 (2 fields) matches no record format of profile 'Orders' (p-ff-orders)");
    free(s);
    s = ff_occurrences(dep, "p-ff-orders", "D|S1|many\n", "14", det, 4);
    assert_non_null(strstr(s, "line 1, field 'Qty' (key 14)"));
    free(s);
    ma_deploy_free(dep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_eval),
        cmocka_unit_test(test_xml_split),
        cmocka_unit_test(test_xml_split_namespaces),
        cmocka_unit_test(test_json_eval),
        cmocka_unit_test(test_json_split),
        cmocka_unit_test(test_from_names_errors),
        cmocka_unit_test(test_deploy_xml_profile),
        cmocka_unit_test(test_deploy_json_profile),
        cmocka_unit_test(test_deploy_errors),
        cmocka_unit_test(test_xml_occurrences),
        cmocka_unit_test(test_json_occurrences),
        cmocka_unit_test(test_flatfile_occurrences),
        cmocka_unit_test(test_occurrence_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
