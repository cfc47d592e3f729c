/* fuzz_flatfile.c - libFuzzer target for flat file profiles (runtime/flatfile.c): the first byte
 * picks one of three profiles (delimited with a qualifier, escapes, a header line and two record
 * formats told apart by identity values; delimited with a multi-character delimiter and record
 * formats told apart by their number of columns; data positioned with overlapping fields, a pad
 * character and implied decimals), the rest is the file. It is read into the XML form and, when
 * it reads, written back, and what is written is read again; the scan gives the same records
 * count as the XML form. Also checked: every error carries a message, and the number functions
 * on the input as text (a number read is written again and read back to the same value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "flatfile.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const PROFILES[] = {
    "<FlatFileProfile><ProfileProperties><GeneralInfo fileType=\"delimited\" useColumnHeaders=\"true\"/><Options>"
    "<DelimitedOptions fileDelimiter=\"commadelimited\" textQualifier=\"textqualifierdouble\" textQualifierEscape=\"\\\" "
    "delimiterEscape=\"\\\" escapeEscape=\"!\"/></Options></ProfileProperties><DataElements>"
    "<FlatFileRecord detectFormat=\"uniquevalues\" key=\"1\" name=\"A\"><FlatFileElements key=\"2\" name=\"E\">"
    "<FlatFileElement key=\"3\" name=\"t\" useToIdentifyFormat=\"true\" identityValue=\"A\"/>"
    "<FlatFileElement key=\"4\" name=\"n\" dataType=\"number\"><DataFormat><ProfileNumberFormat numberFormat=\"#,##0.00\"/>"
    "</DataFormat></FlatFileElement><FlatFileElement key=\"5\" name=\"d\" dataType=\"datetime\"><DataFormat>"
    "<ProfileDateFormat dateFormat=\"yyyyMMdd\"/></DataFormat></FlatFileElement></FlatFileElements></FlatFileRecord>"
    "<FlatFileRecord detectFormat=\"uniquevalues\" key=\"6\" name=\"B\"><FlatFileElements key=\"7\" name=\"E\">"
    "<FlatFileElement key=\"8\" name=\"t\" useToIdentifyFormat=\"true\" identityValue=\"B\"/>"
    "<FlatFileElement key=\"9\" name=\"x y\"/></FlatFileElements></FlatFileRecord></DataElements></FlatFileProfile>",
    "<FlatFileProfile><ProfileProperties><GeneralInfo fileType=\"delimited\"/><Options><DelimitedOptions "
    "fileDelimiter=\"otherdelimited\" fileDelimiterSpecial=\";;\" removeEscape=\"true\" delimiterEscape=\"^\"/></Options>"
    "</ProfileProperties><DataElements><FlatFileRecord key=\"1\" name=\"One\"><FlatFileElements key=\"2\" name=\"E\">"
    "<FlatFileElement key=\"3\" name=\"a\"/></FlatFileElements></FlatFileRecord><FlatFileRecord key=\"4\" name=\"Three\">"
    "<FlatFileElements key=\"5\" name=\"E\"><FlatFileElement key=\"6\" name=\"a\"/><FlatFileElement key=\"7\" name=\"a\"/>"
    "<FlatFileElement key=\"8\" name=\"n\" dataType=\"number\"><DataFormat><ProfileNumberFormat numberFormat=\"0.###\" "
    "impliedDecimal=\"1\"/></DataFormat></FlatFileElement></FlatFileElements></FlatFileRecord></DataElements>"
    "</FlatFileProfile>",
    "<FlatFileProfile><ProfileProperties><GeneralInfo fileType=\"datapositioned\" useColumnHeaders=\"true\"/><Options>"
    "<DataOptions padcharacter=\"_\"/></Options></ProfileProperties><DataElements><FlatFileRecord key=\"1\" name=\"R\">"
    "<FlatFileElements key=\"2\" name=\"E\"><FlatFileElement key=\"3\" name=\"a\" startColumn=\"0\" length=\"3\"/>"
    "<FlatFileElement key=\"4\" name=\"b\" startColumn=\"2\" length=\"4\" justification=\"right\" dataType=\"number\">"
    "<DataFormat><ProfileNumberFormat numberFormat=\"\" impliedDecimal=\"2\"/></DataFormat></FlatFileElement>"
    "<FlatFileElement key=\"5\" name=\"c\" startColumn=\"8\" length=\"2\"/></FlatFileElements></FlatFileRecord>"
    "</DataElements></FlatFileProfile>",
};
#define NPROF (sizeof PROFILES / sizeof *PROFILES)

static ma_flatfile *g_ff[NPROF];
static xmlDoc *g_docs[NPROF];

static void init(void)
{
    if (g_ff[0]) return;
    for (size_t i = 0; i < NPROF; i++) {
        g_docs[i] = xmlReadMemory(PROFILES[i], (int)strlen(PROFILES[i]), "p", NULL, XML_PARSE_NONET);
        if (!g_docs[i]) abort();
        ma_component c;
        memset(&c, 0, sizeof c);
        c.id = (char *)"fuzz";
        c.name = (char *)"fuzz";
        c.object = xmlDocGetRootElement(g_docs[i]);
        ma_error err;
        ma_error_clear(&err);
        if (!(g_ff[i] = ma_flatfile_compile(&c, &err))) abort();
    }
}

static int count(void *ctx, const ma_ff_record *r)
{
    if (!r->header) (*(size_t *)ctx)++;
    return 0;
}

static void numbers(const char *text)
{
    static const char *const pats[] = {"", "#,##0.00", "0.###", "$000"};
    for (size_t i = 0; i < sizeof pats / sizeof *pats; i++) {
        ma_error err;
        ma_error_clear(&err);
        char *plain = ma_ff_number_read(pats[i], (int)i, text, &err);
        if (!plain) {
            if (!err.msg[0]) abort();
            continue;
        }
        char *w = ma_ff_number_write("", 0, plain, &err); /* without a pattern: the plain form again */
        if (!w || strcmp(w, plain) != 0) abort();
        free(w);
        w = ma_ff_number_write(pats[i], 0, plain, &err);
        if (!w) abort(); /* a plain decimal always writes */
        free(w);
        free(plain);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size < 1 || size > 65536) return 0;
    const ma_flatfile *ff = g_ff[data[0] % NPROF];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    ma_error err;
    ma_error_clear(&err);
    xmlDoc *d = ma_flatfile_to_xml(ff, text, len, &err);
    size_t n = 0;
    ma_error e2;
    ma_error_clear(&e2);
    int rc = ma_flatfile_scan(ff, text, len, count, &n, &e2);
    if (!d) {
        if (!err.msg[0] || (rc == 0 && err.code != MA_ERR_PARSE)) abort();
    } else {
        size_t recs = 0;
        for (xmlNode *r = xmlDocGetRootElement(d)->children; r; r = r->next) recs += r->type == XML_ELEMENT_NODE;
        if (rc != 0 || recs != n) abort();
        size_t olen = 0;
        char *out = ma_flatfile_from_xml(ff, xmlDocGetRootElement(d), &olen, &err);
        if (!out || strlen(out) != olen) abort(); /* what was read always writes */
        ma_error_clear(&err);
        xmlDoc *again = ma_flatfile_to_xml(ff, out, olen, &err);
        if (!again && !err.msg[0]) abort();
        if (again) xmlFreeDoc(again);
        free(out);
        xmlFreeDoc(d);
    }
    if (len < 64 && !memchr(text, '\0', len)) {
        char *s = ma_strndup(text, len);
        if (s) numbers(s);
        free(s);
    }
    return 0;
}
