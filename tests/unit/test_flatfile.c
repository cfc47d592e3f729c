/* test_flatfile.c - flat file profiles (runtime/flatfile.c): number formats read and written
 * (grouping, implied decimals, half-even rounding as Java's DecimalFormat), delimited records
 * (text qualifiers, escapes, white space, empty rows, line breaks inside qualifiers, too many
 * fields), data positioned records (padding, justification), record formats told apart by
 * unique values or by number of columns, the XML names of the profile nodes, the writer (column
 * headers, qualifiers, padding) and its errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "flatfile.h"
#include "util.h"

/* ---- numbers ----------------------------------------------------------------------------- */

static void read_ok(const char *pat, int implied, const char *text, const char *want)
{
    ma_error err;
    ma_error_clear(&err);
    char *got = ma_ff_number_read(pat, implied, text, &err);
    if (!got) fail_msg("read '%s' with '%s' (%d): %s", text, pat, implied, err.msg);
    if (strcmp(got, want) != 0)
        fail_msg("read '%s' with '%s' (%d): got '%s', want '%s'", text, pat, implied, got, want);
    free(got);
}

static void read_bad(const char *pat, const char *text)
{
    ma_error err;
    ma_error_clear(&err);
    char *got = ma_ff_number_read(pat, 0, text, &err);
    if (got) fail_msg("read '%s' with '%s' should fail, got '%s'", text, pat, got);
    assert_non_null(strstr(err.msg, "is not a number"));
}

static void write_ok(const char *pat, int implied, const char *plain, const char *want)
{
    ma_error err;
    ma_error_clear(&err);
    char *got = ma_ff_number_write(pat, implied, plain, &err);
    if (!got) fail_msg("write '%s' with '%s' (%d): %s", plain, pat, implied, err.msg);
    if (strcmp(got, want) != 0)
        fail_msg("write '%s' with '%s' (%d): got '%s', want '%s'", plain, pat, implied, got, want);
    free(got);
}

static void test_number_read(void **state)
{
    (void)state;
    read_ok("#,##0.00", 0, "1,234.50", "1234.5");
    read_ok("", 0, " -007.100 ", "-7.1");
    read_ok("", 0, "+42", "42");
    read_ok("", 0, "-0.00", "0");
    read_ok("0", 2, "12345", "123.45");
    read_ok("0", 2, "5", "0.05");
    read_ok("0", 1, "-0", "0");    /* no negative zero */
    read_ok("0", 2, "1.5", "1.5"); /* a point written wins over implied decimals */
    read_ok("$#,##0.00", 0, "$1,000.00", "1000");
    read_ok("0.0 kg", 0, "12.5 kg", "12.5");
    read_ok("#.#", 0, ".5", "0.5");
    read_bad("0.00", "12x.00");
    read_bad("0.00", "1.2.3");
    read_bad("0.00", "1,234.00"); /* no grouping in the pattern */
    read_bad("", "-");
    read_bad("", "");
}

static void test_number_write(void **state)
{
    (void)state;
    write_ok("0.00", 0, "1234.5", "1234.50");
    write_ok("#,##0.00", 0, "1234567.891", "1,234,567.89");
    write_ok("#,##0", 0, "999", "999");
    write_ok("0.00", 0, "2.345", "2.34"); /* half-even */
    write_ok("0.00", 0, "2.355", "2.36");
    write_ok("0.00", 0, "2.3451", "2.35");
    write_ok("0", 0, "2.5", "2");
    write_ok("0", 0, "3.5", "4");
    write_ok("0", 0, "9.5", "10");
    write_ok("0", 0, "0.4", "0");
    write_ok("#.##", 0, "0.5", ".5"); /* as DecimalFormat: no minimum integer digit */
    write_ok("#.##", 0, "0", "0");
    write_ok("000", 0, "7", "007");
    write_ok("0.00", 0, "-7", "-7.00");
    write_ok("$#,##0.00", 0, "-1234.5", "-$1,234.50");
    write_ok("", 0, "+7.50", "7.5");
    write_ok("", 2, "123.45", "12345");
    write_ok("", 2, "0.5", "50");
    write_ok("", 2, "1.005", "100"); /* rounded half-even to whole hundredths */
    ma_error err;
    ma_error_clear(&err);
    assert_null(ma_ff_number_write("0.00", 0, "1,234", &err));
    assert_non_null(strstr(err.msg, "'1,234' is not a number"));
    ma_error_clear(&err);
    assert_null(ma_ff_number_write("0.0%", 0, "1", &err));
    assert_int_equal(err.code, MA_ERR_UNSUPPORTED);
}

/* ---- profiles ---------------------------------------------------------------------------- */

typedef struct prof {
    xmlDoc *doc;
    ma_component c;
    ma_flatfile *ff;
} prof;

#define ELEM                                                                                             \
    "<FlatFileElement dataType=\"%s\" enforceUnique=\"false\" identityValue=\"%s\" isMappable=\"true\" " \
    "isNode=\"true\" justification=\"%s\" key=\"%s\" name=\"%s\" useToIdentifyFormat=\"%s\" %s>"         \
    "<DataFormat>%s</DataFormat></FlatFileElement>"

static char *elem(const char *key, const char *name, const char *dtype, const char *format, const char *extra)
{
    char df[256];
    if (strcmp(dtype, "number") == 0) snprintf(df, sizeof df, "<ProfileNumberFormat numberFormat=\"%s\"/>", format);
    else if (strcmp(dtype, "datetime") == 0) snprintf(df, sizeof df, "<ProfileDateFormat dateFormat=\"%s\"/>", format);
    else snprintf(df, sizeof df, "<ProfileCharacterFormat/>");
    const char *ident = strstr(extra, "IDENT=");
    char idv[32] = "";
    if (ident) sscanf(ident + 6, "%31[^ ]", idv);
    const char *just = strstr(extra, "RIGHT") ? "right" : "left";
    char rest[256] = "";
    const char *pos = strstr(extra, "startColumn");
    if (pos) snprintf(rest, sizeof rest, "%s", pos);
    return ma_asprintf(ELEM, dtype, idv, just, key, name, ident ? "true" : "false", rest, df);
}

static void prof_load(prof *p, const char *general, const char *options, const char *records)
{
    char *xml =
        ma_asprintf("<FlatFileProfile modelVersion=\"2\" strict=\"true\"><ProfileProperties>%s<Options>%s</Options>"
                    "</ProfileProperties><DataElements>%s</DataElements></FlatFileProfile>",
                    general, options, records);
    assert_non_null(xml);
    p->doc = xmlReadMemory(xml, (int)strlen(xml), "profile", NULL, XML_PARSE_NONET);
    free(xml);
    assert_non_null(p->doc);
    memset(&p->c, 0, sizeof p->c);
    p->c.id = (char *)"p-1";
    p->c.name = (char *)"Test";
    p->c.type = (char *)"profile.flatfile";
    p->c.object = xmlDocGetRootElement(p->doc);
    ma_error err;
    ma_error_clear(&err);
    p->ff = ma_flatfile_compile(&p->c, &err);
    if (!p->ff) fail_msg("profile does not compile: %s", err.msg);
}

static void prof_free(prof *p)
{
    ma_flatfile_free(p->ff);
    xmlFreeDoc(p->doc);
}

/* The records of the XML form as "Rec{a|b|c}Rec{...}" (field values joined by |). */
static char *flat_xml(xmlDoc *d)
{
    ma_sb b;
    ma_sb_init(&b);
    xmlNode *root = xmlDocGetRootElement(d);
    assert_string_equal((const char *)root->name, MA_FLATFILE_ROOT);
    for (xmlNode *r = root->children; r; r = r->next) {
        if (r->type != XML_ELEMENT_NODE) continue;
        ma_sb_printf(&b, "%s{", (const char *)r->name);
        int first = 1;
        for (xmlNode *g = r->children; g; g = g->next)
            for (xmlNode *f = g->children; f; f = f->next) {
                if (f->type != XML_ELEMENT_NODE) continue;
                xmlChar *t = xmlNodeGetContent(f);
                ma_sb_printf(&b, "%s%s=%s", first ? "" : "|", (const char *)f->name, t ? (const char *)t : "");
                xmlFree(t);
                first = 0;
            }
        ma_sb_putc(&b, '}');
    }
    char *s = ma_sb_take(&b, NULL);
    return s ? s : ma_strdup("");
}

static void parse_ok(const prof *p, const char *data, const char *want)
{
    ma_error err;
    ma_error_clear(&err);
    xmlDoc *d = ma_flatfile_to_xml(p->ff, data, strlen(data), &err);
    if (!d) fail_msg("parse failed: %s\ninput: %s", err.msg, data);
    char *got = flat_xml(d);
    if (strcmp(got, want) != 0) fail_msg("parse\ninput: %s\nwant:  %s\ngot:   %s", data, want, got);
    free(got);
    xmlFreeDoc(d);
}

static void parse_bad(const prof *p, const char *data, const char *want)
{
    ma_error err;
    ma_error_clear(&err);
    xmlDoc *d = ma_flatfile_to_xml(p->ff, data, strlen(data), &err);
    if (d) fail_msg("parse of '%s' should fail with '%s'", data, want);
    if (!strstr(err.msg, want)) fail_msg("parse of '%s'\nwant: %s\ngot:  %s", data, want, err.msg);
}

static void roundtrip(const prof *p, const char *data, const char *want)
{
    ma_error err;
    ma_error_clear(&err);
    xmlDoc *d = ma_flatfile_to_xml(p->ff, data, strlen(data), &err);
    if (!d) fail_msg("parse failed: %s", err.msg);
    size_t len = 0;
    char *out = ma_flatfile_from_xml(p->ff, xmlDocGetRootElement(d), &len, &err);
    if (!out) fail_msg("write failed: %s", err.msg);
    if (strcmp(out, want) != 0) fail_msg("write\nwant: [%s]\ngot:  [%s]", want, out);
    assert_int_equal(len, strlen(want));
    free(out);
    xmlFreeDoc(d);
}

#define REC(key, name, detect, gkey, elems)                                                          \
    "<FlatFileRecord detectFormat=\"" detect "\" isNode=\"true\" key=\"" key "\" name=\"" name "\">" \
    "<FlatFileElements isNode=\"true\" key=\"" gkey "\" name=\"Elements\">" elems                    \
    "</FlatFileElements></FlatFileRecord>"

static char *three_fields(void)
{
    char *a = elem("3", "Id", "character", "", ""), *b = elem("4", "Error text", "character", "", ""),
         *c = elem("5", "Amount", "number", "#,##0.00", "");
    char *r = ma_asprintf("<FlatFileRecord detectFormat=\"numberofcolumns\" isNode=\"true\" key=\"1\" name=\"Record\">"
                          "<FlatFileElements isNode=\"true\" key=\"2\" name=\"Elements\">%s%s%s</FlatFileElements>"
                          "</FlatFileRecord>",
                          a, b, c);
    free(a);
    free(b);
    free(c);
    return r;
}

static void test_delimited_read(void **state)
{
    (void)state;
    char *recs = three_fields();
    prof p;
    prof_load(&p, "<GeneralInfo fileType=\"delimited\" useColumnHeaders=\"true\"/>",
              "<DataOptions/><DelimitedOptions fileDelimiter=\"commadelimited\" removeEscape=\"false\" "
              "textQualifier=\"textqualifierdouble\"/>",
              recs);
    free(recs);
    assert_string_equal(ma_flatfile_xml_name(p.ff, "4"), "Error_text");
    assert_string_equal(ma_flatfile_xml_name(p.ff, "1"), "Record");
    assert_null(ma_flatfile_xml_name(p.ff, "99"));
    /* the header line is skipped; empty and white-space-only rows too; CRLF */
    parse_ok(&p, "Id,Error text,Amount\r\nA, x ,\"1,234.50\"\r\n  \r\n\r\nB,\"q \"\"u\"\" , y\"  ,7\n",
             "Record{Id=A|Error_text= x |Amount=1234.5}Record{Id=B|Error_text=q \"u\" , y|Amount=7}");
    /* a line break inside qualifiers; missing trailing fields are empty; a qualifier after other
     * characters is an ordinary character */
    parse_ok(&p, "h\nC,\"two\nlines\"\nD,ab\"c\n",
             "Record{Id=C|Error_text=two\nlines|Amount=}Record{Id=D|Error_text=ab\"c|Amount=}");
    parse_bad(&p, "h\nA,b,1\nA,b,2,3\n",
              "line 3 has 4 fields; record 'Record' of profile 'Test' (p-1) has 3 (field 4, '3', is one too many)");
    parse_bad(&p, "h\nA,\"never closed\n", "line 2, field 2: the text qualifier \" is not closed");
    parse_bad(&p, "h\nA,b,1.5x\n", "line 2, field 'Amount' (key 5): '1.5x' is not a number (format '#,##0.00')");
    parse_ok(&p, "", "");
    prof_free(&p);
}

static void test_delimited_escapes(void **state)
{
    (void)state;
    char *recs = three_fields();
    prof p;
    /* escapes kept in the data (removeEscape false), other delimiter, no qualifier */
    prof_load(&p, "<GeneralInfo fileType=\"delimited\"/>",
              "<DataOptions/><DelimitedOptions fileDelimiter=\"otherdelimited\" fileDelimiterSpecial=\"~|\" "
              "delimiterEscape=\"\\\" removeEscape=\"false\" textQualifier=\"na\"/>",
              recs);
    parse_ok(&p, "a\\~|b~|\"c\"~|1\n", "Record{Id=a\\~|b|Error_text=\"c\"|Amount=1}");
    prof_free(&p);
    prof_load(&p, "<GeneralInfo fileType=\"delimited\"/>",
              "<DataOptions/><DelimitedOptions fileDelimiter=\"stardelimited\" delimiterEscape=\"?\" "
              "textQualifierEscape=\"\\\" removeEscape=\"true\" textQualifier=\"textqualifiersingle\"/>",
              recs);
    free(recs);
    parse_ok(&p, "a?*b*'it\\'s'*2\n", "Record{Id=a*b|Error_text=it's|Amount=2}");
    /* written back: character values between qualifiers (no delimiter escape needed there), the
     * qualifier escaped, the number in its format */
    roundtrip(&p, "a?*b*'it\\'s'*2\n", "'a*b'*'it\\'s'*2.00\n");
    prof_free(&p);
}

static void test_write_delimited(void **state)
{
    (void)state;
    char *recs = three_fields();
    prof p;
    prof_load(&p, "<GeneralInfo fileType=\"delimited\" useColumnHeaders=\"true\"/>",
              "<DataOptions/><DelimitedOptions fileDelimiter=\"tabdelimited\" textQualifier=\"textqualifierdouble\"/>",
              recs);
    free(recs);
    roundtrip(&p, "x\ty\tz\nA\t\"say \"\"hi\"\"\"\t1234.5\nB\t\t\n",
              "\"Id\"\t\"Error text\"\t\"Amount\"\n\"A\"\t\"say \"\"hi\"\"\"\t1,234.50\n\"B\"\t\t\n");
    /* an element that is not in the profile, a number that is not one */
    const char *bad[] = {
        "<FlatFile><Other/></FlatFile>", "<FlatFile><Record><Elements><Nope>1</Nope></Elements></Record></FlatFile>",
        "<FlatFile><Record><Elements><Amount>12,5</Amount></Elements></Record></FlatFile>", "<Orders/>"};
    const char *want[] = {"record 1: <Other> is not a record format of profile 'Test' (p-1)",
                          "record 1 'Record': <Nope> is not an element of the record",
                          "record 1 'Record', field 'Amount' (key 5): '12,5' is not a number",
                          "the result is not a flat file tree (<Orders> instead of <FlatFile>)"};
    for (size_t i = 0; i < 4; i++) {
        xmlDoc *d = xmlReadMemory(bad[i], (int)strlen(bad[i]), "x", NULL, XML_PARSE_NONET);
        ma_error err;
        ma_error_clear(&err);
        char *out = ma_flatfile_from_xml(p.ff, xmlDocGetRootElement(d), NULL, &err);
        if (out) fail_msg("writing %s should fail", bad[i]);
        if (!strstr(err.msg, want[i])) fail_msg("writing %s\nwant: %s\ngot:  %s", bad[i], want[i], err.msg);
        xmlFreeDoc(d);
    }
    prof_free(&p);
}

static void test_positioned(void **state)
{
    (void)state;
    char *a = elem("3", "Code", "character", "", "startColumn=\"0\" length=\"4\""),
         *b = elem("4", "Qty", "number", "0", "RIGHT startColumn=\"4\" length=\"5\""),
         *c = elem("5", "Price", "number", "", "RIGHT startColumn=\"9\" length=\"6\" impliedDecimal=\"2\""),
         *d = elem("6", "Name", "character", "", "startColumn=\"15\" length=\"5\"");
    /* impliedDecimal belongs on ProfileNumberFormat */
    char *c2 = ma_asprintf("%s", c);
    char *at = strstr(c2, " impliedDecimal=\"2\"");
    memmove(at, at + 19, strlen(at + 19) + 1);
    char *nf = strstr(c2, "numberFormat=\"\"");
    char *c3 = ma_asprintf("%.*snumberFormat=\"\" impliedDecimal=\"2\"%s", (int)(nf - c2), c2, nf + 15);
    char *recs = ma_asprintf(REC("1", "Item", "numberofcolumns", "2", "%s%s%s%s"), a, b, c3, d);
    free(a);
    free(b);
    free(c);
    free(c2);
    free(c3);
    free(d);
    prof p;
    prof_load(
        &p, "<GeneralInfo fileType=\"datapositioned\"/>",
        "<DataOptions padcharacter=\"_\"/><DelimitedOptions fileDelimiter=\"stardelimited\" textQualifier=\"na\"/>",
        recs);
    free(recs);
    parse_ok(&p, "AB_____12__1234Pen__\nXYZW____7___050\n",
             "Item{Code=AB|Qty=12|Price=12.34|Name=Pen}Item{Code=XYZW|Qty=7|Price=0.5|Name=}");
    roundtrip(&p, "AB_____12__1234Pen__\nXYZW____7___050\n", "AB_____12__1234Pen__\nXYZW____7____50_____\n");
    /* too long: cut to the width */
    const char *tl = "<FlatFile><Item><Elements><Code>ABCDEFG</Code><Name>Notebook</Name></Elements></Item></FlatFile>";
    xmlDoc *x = xmlReadMemory(tl, (int)strlen(tl), "x", NULL, XML_PARSE_NONET);
    assert_non_null(x);
    ma_error err;
    ma_error_clear(&err);
    char *out = ma_flatfile_from_xml(p.ff, xmlDocGetRootElement(x), NULL, &err);
    assert_non_null(out);
    assert_string_equal(out, "ABCD___________Noteb\n");
    free(out);
    xmlFreeDoc(x);
    prof_free(&p);
}

static void test_record_formats(void **state)
{
    (void)state;
    char *h1 = elem("3", "Type", "character", "", "IDENT=H"), *h2 = elem("4", "OrderId", "character", "", ""),
         *d1 = elem("12", "Type", "character", "", "IDENT=D"), *d2 = elem("13", "OrderId", "character", "", ""),
         *d3 = elem("14", "FILLER", "character", "", ""), *d4 = elem("15", "FILLER", "character", "", "");
    char *recs = ma_asprintf(REC("1", "Header", "uniquevalues", "2", "%s%s")
                                 REC("10", "Detail", "uniquevalues", "11", "%s%s%s%s"),
                             h1, h2, d1, d2, d3, d4);
    free(h1);
    free(h2);
    free(d1);
    free(d2);
    free(d3);
    free(d4);
    prof p;
    prof_load(&p, "<GeneralInfo fileType=\"delimited\"/>",
              "<DataOptions/><DelimitedOptions fileDelimiter=\"bardelimited\"/>", recs);
    free(recs);
    assert_string_equal(ma_flatfile_xml_name(p.ff, "14"), "FILLER");
    assert_string_equal(ma_flatfile_xml_name(p.ff, "15"), "FILLER_15");
    parse_ok(&p, "H|1\nD|1|a|b\nD|1\n",
             "Header{Type=H|OrderId=1}Detail{Type=D|OrderId=1|FILLER=a|FILLER_15=b}"
             "Detail{Type=D|OrderId=1|FILLER=|FILLER_15=}");
    parse_bad(&p, "H|1\nX|2\n", "line 2 (2 fields) matches no record format of profile 'Test' (p-1)");
    roundtrip(&p, "H|1\nD|1|a|b\n", "H|1\nD|1|a|b\n");
    prof_free(&p);

    /* detected by the number of columns */
    char *a = elem("3", "A", "character", "", ""), *b = elem("4", "B", "character", "", ""),
         *c = elem("13", "C", "character", "", "");
    recs = ma_asprintf(REC("1", "Two", "numberofcolumns", "2", "%s%s") REC("10", "One", "numberofcolumns", "11", "%s"),
                       a, b, c);
    free(a);
    free(b);
    free(c);
    prof_load(&p, "<GeneralInfo fileType=\"delimited\"/>",
              "<DataOptions/><DelimitedOptions fileDelimiter=\"commadelimited\"/>", recs);
    free(recs);
    parse_ok(&p, "x\ny,z\n", "One{C=x}Two{A=y|B=z}");
    parse_bad(&p, "x,y,z\n", "line 1 (3 fields) matches no record format");
    prof_free(&p);
}

typedef struct seen {
    ma_sb b;
} seen;

static int on_rec(void *ctx, const ma_ff_record *r)
{
    seen *s = ctx;
    ma_sb_printf(&s->b, "[%zu%s %.*s]", r->line, r->header ? "h" : "", (int)r->len, r->text);
    return 0;
}

static void test_scan(void **state)
{
    (void)state;
    char *recs = three_fields();
    prof p;
    prof_load(
        &p, "<GeneralInfo fileType=\"delimited\" useColumnHeaders=\"true\"/>",
        "<DataOptions/><DelimitedOptions fileDelimiter=\"commadelimited\" textQualifier=\"textqualifierdouble\"/>",
        recs);
    free(recs);
    assert_true(ma_flatfile_has_header(p.ff));
    seen s;
    ma_sb_init(&s.b);
    const char *data = "H1,H2,H3\r\nA,\"b\r\nc\",1\n\nB,,2";
    ma_error err;
    ma_error_clear(&err);
    assert_int_equal(ma_flatfile_scan(p.ff, data, strlen(data), on_rec, &s, &err), 0);
    assert_string_equal(s.b.s, "[1h H1,H2,H3][2 A,\"b\r\nc\",1][5 B,,2]");
    ma_sb_free(&s.b);
    prof_free(&p);
}

static void test_compile_errors(void **state)
{
    (void)state;
    const char *opts[] = {"<DataOptions/><DelimitedOptions fileDelimiter=\"weird\"/>",
                          "<DataOptions/><DelimitedOptions textQualifier=\"backtick\"/>"};
    const char *want[] = {"fileDelimiter \"weird\" is not one of: commadelimited, stardelimited, tabdelimited, "
                          "tickdelimited, bardelimited, othercharacter, bytecharacter, otherdelimited, bytedelimited",
                          "textQualifier \"backtick\" is not one of: na, textqualifierdouble, textqualifiersingle "
                          "(also read: none, doublequote, singlequote)"};
    for (size_t i = 0; i < 2; i++) {
        char *recs = three_fields();
        char *xml =
            ma_asprintf("<FlatFileProfile><ProfileProperties><GeneralInfo fileType=\"delimited\"/><Options>%s</Options>"
                        "</ProfileProperties><DataElements>%s</DataElements></FlatFileProfile>",
                        opts[i], recs);
        free(recs);
        xmlDoc *d = xmlReadMemory(xml, (int)strlen(xml), "p", NULL, XML_PARSE_NONET);
        free(xml);
        ma_component c;
        memset(&c, 0, sizeof c);
        c.id = (char *)"p-2";
        c.name = (char *)"Bad";
        c.object = xmlDocGetRootElement(d);
        ma_error err;
        ma_error_clear(&err);
        assert_null(ma_flatfile_compile(&c, &err));
        if (!strstr(err.msg, want[i])) fail_msg("want %s, got %s", want[i], err.msg);
        xmlFreeDoc(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_read),     cmocka_unit_test(test_number_write),
        cmocka_unit_test(test_delimited_read),  cmocka_unit_test(test_delimited_escapes),
        cmocka_unit_test(test_write_delimited), cmocka_unit_test(test_positioned),
        cmocka_unit_test(test_record_formats),  cmocka_unit_test(test_scan),
        cmocka_unit_test(test_compile_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
