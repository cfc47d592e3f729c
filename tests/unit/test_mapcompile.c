/* test_mapcompile.c - Boomi Map components compiled to XSLT (runtime/mapcompile.c).
 *
 * Every folder of tests/maps is one case, in the real export format:
 *   map.xml (or map.ref: the file name of a map of the shared corpus), from.xml, to.xml
 *   then either error.txt (line 1: the exact message, line 2: the error code name)
 *   or input.xml|input.json + expected.xml|expected.json (or run-error.txt: the document must fail
 *   with this message), and optionally properties.txt (the
 *   document and process properties the map reads, ID=VALUE per line) and
 *   expected-properties.txt (those it must set).
 * A case that compiles must compile to the same text twice, be accepted by libxslt, and turn its
 * input into its expected output. The stylesheets are run here with libxslt and stand-ins for the
 * mini-Atom extension functions (ma:property, ma:set-property, ma:date-convert, ma:sequence,
 * ma:upper ... with the semantics of docs/maps.md; ma:date returns a fixed instant); JSON is
 * converted to and from the json-to-xml vocabulary here too, so the test does not depend on the
 * map shape. MA_MAPCOMPILE_DUMP=DIR writes each generated stylesheet to DIR/<case>.xsl.
 *
 * Every transform.map of the shared corpus (MA_SHARED, default ../shared next to the source
 * tree) either compiles or is refused with the exact message listed below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpathInternals.h>
#include <libxslt/extensions.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>
#include <sys/stat.h>

#include "datefmt.h"
#include "loader.h"
#include "mapcompile.h"
#include "util.h"

#define FN_NS "http://www.w3.org/2005/xpath-functions"
#define MA_NS "urn:miniatom"

/* ---- paths --------------------------------------------------------------------------------- */

static char g_src[4096]; /* the source tree */

static void find_src(void)
{
    const char *s = getenv("srcdir");
    if (s && *s) {
        snprintf(g_src, sizeof g_src, "%s", s);
        return;
    }
    /* __FILE__ is ".../tests/unit/test_mapcompile.c" relative to where the compiler ran */
    const char *f = __FILE__;
    const char *p = strstr(f, "tests/unit/test_mapcompile.c");
    if (p && p > f) snprintf(g_src, sizeof g_src, "%.*s", (int)(p - f - 1), f);
    else snprintf(g_src, sizeof g_src, ".");
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static char *path2(const char *a, const char *b)
{
    char *s = ma_asprintf("%s/%s", a, b);
    assert_non_null(s);
    return s;
}

static char *read_all(const char *path)
{
    ma_error err;
    size_t len;
    char *s = ma_read_file(path, 1u << 24, &len, &err);
    if (!s) {
        fail_msg("%s", err.msg);
        abort(); /* not reached: fail_msg does not return */
    }
    return s;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = '\0';
}

static const char *shared_dir(void)
{
    static char buf[4200];
    const char *s = getenv("MA_SHARED");
    if (s && *s) snprintf(buf, sizeof buf, "%s", s);
    else snprintf(buf, sizeof buf, "%s/../shared", g_src);
    return buf;
}

/* ---- stand-ins for the ma: extension functions ---------------------------------------------- */

#define MAX_PROPS 64
typedef struct kv {
    char *k, *v;
} kv;
static kv g_in[MAX_PROPS], g_out[MAX_PROPS];
static size_t g_nin, g_nout;
static struct {
    char *name;
    long next;
} g_seq[16];
static size_t g_nseq;

static void props_reset(void)
{
    for (size_t i = 0; i < g_nin; i++) free(g_in[i].k), free(g_in[i].v);
    for (size_t i = 0; i < g_nout; i++) free(g_out[i].k), free(g_out[i].v);
    for (size_t i = 0; i < g_nseq; i++) free(g_seq[i].name);
    g_nin = g_nout = g_nseq = 0;
}

static void kv_set(kv *t, size_t *n, const char *k, const char *v)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(t[i].k, k) == 0) {
            free(t[i].v);
            t[i].v = strdup(v);
            return;
        }
    assert_true(*n < MAX_PROPS);
    t[*n].k = strdup(k);
    t[*n].v = strdup(v);
    (*n)++;
}

/* ID=VALUE lines */
static void load_props(const char *path, kv *t, size_t *n)
{
    if (!is_file(path)) return;
    char *s = read_all(path);
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        chomp(line);
        char *eq = strchr(line, '=');
        if (!*line || line[0] == '#' || !eq) continue;
        *eq = '\0';
        kv_set(t, n, line, eq + 1);
    }
    free(s);
}

static int pop_args(xmlXPathParserContextPtr ctxt, int nargs, int want, xmlChar **a)
{
    if (nargs != want) {
        xmlXPathSetArityError(ctxt);
        return -1;
    }
    for (int i = want - 1; i >= 0; i--) a[i] = xmlXPathPopString(ctxt);
    return 0;
}

static void push_str(xmlXPathParserContextPtr ctxt, const char *s) { valuePush(ctxt, xmlXPathNewCString(s ? s : "")); }

static void fn_property(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[1];
    if (pop_args(ctxt, nargs, 1, a) < 0) return;
    const char *v = "";
    for (size_t i = 0; i < g_nin; i++)
        if (strcmp(g_in[i].k, (const char *)a[0]) == 0) v = g_in[i].v;
    push_str(ctxt, v);
    xmlFree(a[0]);
}

static void fn_set_property(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[2];
    if (pop_args(ctxt, nargs, 2, a) < 0) return;
    kv_set(g_out, &g_nout, (const char *)a[0], (const char *)a[1]);
    push_str(ctxt, "");
    xmlFree(a[0]);
    xmlFree(a[1]);
}

static void fn_date_convert(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[3];
    if (pop_args(ctxt, nargs, 3, a) < 0) return;
    ma_sb b;
    ma_sb_init(&b);
    if (*a[0]) {
        ma_error e;
        ma_datefmt *from = ma_datefmt_compile((const char *)a[1], &e), *to = ma_datefmt_compile((const char *)a[2], &e);
        time_t secs;
        int ms;
        if (from && to && ma_datefmt_parse(from, (const char *)a[0], &secs, &ms, &e) == 0) {
            ma_datefmt_format(to, secs, ms, 0, &b);
        } else {
            xsltTransformContextPtr t = xsltXPathGetTransformContext(ctxt);
            xsltTransformError(t, NULL, NULL, "ma:date-convert: '%s' does not match '%s'\n", (const char *)a[0],
                               (const char *)a[1]);
            if (t) t->state = XSLT_STATE_STOPPED;
        }
        ma_datefmt_free(from);
        ma_datefmt_free(to);
    }
    push_str(ctxt, b.s ? b.s : "");
    ma_sb_free(&b);
    for (int i = 0; i < 3; i++) xmlFree(a[i]);
}

static void fn_date(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[1];
    if (pop_args(ctxt, nargs, 1, a) < 0) return;
    ma_error e;
    ma_datefmt *f = ma_datefmt_compile((const char *)a[0], &e);
    ma_sb b;
    ma_sb_init(&b);
    if (f) ma_datefmt_format(f, 1704164645, 6, 0, &b); /* 2024-01-02T03:04:05.006Z */
    push_str(ctxt, b.s ? b.s : "");
    ma_sb_free(&b);
    ma_datefmt_free(f);
    xmlFree(a[0]);
}

static void fn_sequence(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[1];
    if (pop_args(ctxt, nargs, 1, a) < 0) return;
    size_t i = 0;
    while (i < g_nseq && strcmp(g_seq[i].name, (const char *)a[0]) != 0) i++;
    if (i == g_nseq) {
        assert_true(g_nseq < 16);
        g_seq[i].name = strdup((const char *)a[0]);
        g_seq[i].next = 1;
        g_nseq++;
    }
    valuePush(ctxt, xmlXPathNewFloat((double)g_seq[i].next++));
    xmlFree(a[0]);
}

static void string_op(xmlXPathParserContextPtr ctxt, int nargs, int op)
{
    xmlChar *a[1];
    if (pop_args(ctxt, nargs, 1, a) < 0) return;
    char *s = (char *)a[0], *b = s, *e = s + strlen(s);
    if (op == 0 || op == 1)
        for (char *p = s; *p; p++) *p = (char)(op ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
    if (op == 2 || op == 4)
        while (b < e && isspace((unsigned char)*b)) b++;
    if (op == 3 || op == 4)
        while (e > b && isspace((unsigned char)e[-1])) e--;
    *e = '\0';
    push_str(ctxt, b);
    xmlFree(a[0]);
}

static void fn_lower(xmlXPathParserContextPtr c, int n) { string_op(c, n, 0); }
static void fn_upper(xmlXPathParserContextPtr c, int n) { string_op(c, n, 1); }
static void fn_ltrim(xmlXPathParserContextPtr c, int n) { string_op(c, n, 2); }
static void fn_rtrim(xmlXPathParserContextPtr c, int n) { string_op(c, n, 3); }
static void fn_trim(xmlXPathParserContextPtr c, int n) { string_op(c, n, 4); }

static void register_stubs(void)
{
    static int done;
    if (done) return;
    done = 1;
    static const struct {
        const char *name;
        xmlXPathFunction fn;
    } fns[] = {
        {"property", fn_property},
        {"set-property", fn_set_property},
        {"date-convert", fn_date_convert},
        {"date", fn_date},
        {"sequence", fn_sequence},
        {"upper", fn_upper},
        {"lower", fn_lower},
        {"trim", fn_trim},
        {"ltrim", fn_ltrim},
        {"rtrim", fn_rtrim},
    };
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        xsltRegisterExtModuleFunction((const xmlChar *)fns[i].name, (const xmlChar *)MA_NS, fns[i].fn);
}

/* ---- JSON <-> json-to-xml ------------------------------------------------------------------- */

static void j2x(xmlNodePtr parent, xmlDocPtr doc, xmlNsPtr ns, json_t *v, const char *key)
{
    const char *tag = json_is_object(v)    ? "map"
                      : json_is_array(v)   ? "array"
                      : json_is_string(v)  ? "string"
                      : json_is_number(v)  ? "number"
                      : json_is_boolean(v) ? "boolean"
                                           : "null";
    xmlNodePtr e = xmlNewDocNode(doc, ns, (const xmlChar *)tag, NULL);
    if (parent) xmlAddChild(parent, e);
    else {
        xmlDocSetRootElement(doc, e);
        xmlSetNs(e, xmlNewNs(e, (const xmlChar *)FN_NS, (const xmlChar *)"fn"));
        ns = e->ns;
    }
    if (key) xmlNewProp(e, (const xmlChar *)"key", (const xmlChar *)key);
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach (v, k, m) j2x(e, doc, ns, m, k);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach (v, i, m) j2x(e, doc, ns, m, NULL);
    } else if (json_is_string(v)) {
        xmlNodeAddContent(e, (const xmlChar *)json_string_value(v));
    } else if (json_is_number(v) || json_is_boolean(v)) {
        char *t = json_dumps(v, JSON_ENCODE_ANY);
        xmlNodeAddContent(e, (const xmlChar *)t);
        free(t);
    }
}

static xmlDocPtr json_doc(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (!v) fail_msg("input JSON: line %d: %s", je.line, je.text);
    xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
    j2x(NULL, d, NULL, v, NULL);
    json_decref(v);
    return d;
}

static json_t *x2j(xmlNodePtr e, char *why, size_t whylen)
{
    if (!e->ns || strcmp((const char *)e->ns->href, FN_NS) != 0) {
        snprintf(why, whylen, "<%s> is not in the json-to-xml vocabulary", (const char *)e->name);
        return NULL;
    }
    const char *n = (const char *)e->name;
    if (!strcmp(n, "map") || !strcmp(n, "array")) {
        json_t *r = !strcmp(n, "map") ? json_object() : json_array();
        for (xmlNodePtr k = e->children; k; k = k->next) {
            if (k->type == XML_TEXT_NODE) {
                xmlChar *t = xmlNodeGetContent(k);
                int blank = 1;
                for (const xmlChar *p = t; p && *p; p++) blank &= isspace(*p) != 0;
                xmlFree(t);
                if (blank) continue;
                snprintf(why, whylen, "text inside fn:%s", n);
                json_decref(r);
                return NULL;
            }
            if (k->type != XML_ELEMENT_NODE) continue;
            json_t *m = x2j(k, why, whylen);
            if (!m) {
                json_decref(r);
                return NULL;
            }
            if (json_is_object(r)) {
                xmlChar *key = xmlGetProp(k, (const xmlChar *)"key");
                if (!key) {
                    snprintf(why, whylen, "a member of fn:map has no key");
                    json_decref(m);
                    json_decref(r);
                    return NULL;
                }
                json_object_set_new(r, (const char *)key, m);
                xmlFree(key);
            } else {
                json_array_append_new(r, m);
            }
        }
        return r;
    }
    xmlChar *t = xmlNodeGetContent(e);
    json_t *r = NULL;
    if (!strcmp(n, "string")) r = json_string((const char *)t);
    else if (!strcmp(n, "null")) r = json_null();
    else if (!strcmp(n, "boolean"))
        r = !strcmp((const char *)t, "true") ? json_true() : !strcmp((const char *)t, "false") ? json_false() : NULL;
    else if (!strcmp(n, "number")) {
        json_error_t je;
        r = json_loads((const char *)t, JSON_DECODE_ANY, &je);
        if (r && !json_is_number(r)) {
            json_decref(r);
            r = NULL;
        }
    }
    if (!r) snprintf(why, whylen, "fn:%s '%s' is not valid", n, t ? (const char *)t : "");
    xmlFree(t);
    return r;
}

/* ---- running a stylesheet ------------------------------------------------------------------- */

static char *canonical_xml(const char *text, size_t len, const char *what)
{
    xmlDocPtr d = xmlReadMemory(text, (int)len, what, NULL, XML_PARSE_NOBLANKS | XML_PARSE_NONET);
    if (!d) fail_msg("%s is not well-formed XML:\n%.*s", what, (int)len, text);
    xmlChar *buf = NULL;
    int n = 0;
    xmlDocDumpMemoryEnc(d, &buf, &n, "UTF-8");
    char *s = strndup((const char *)buf, (size_t)n);
    xmlFree(buf);
    xmlFreeDoc(d);
    return s;
}

static char g_xslt_errors[4096];

static void collect(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void collect(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    size_t n = strlen(g_xslt_errors);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_xslt_errors + n, sizeof g_xslt_errors - n, fmt, ap);
    va_end(ap);
}

static xsltStylesheetPtr parse_stylesheet(const char *name, const char *text)
{
    xmlDocPtr sd = xmlReadMemory(text, (int)strlen(text), name, NULL, XML_PARSE_NONET);
    if (!sd) fail_msg("%s: the generated stylesheet is not well-formed XML:\n%s", name, text);
    g_xslt_errors[0] = '\0';
    xsltSetGenericErrorFunc(NULL, collect);
    xsltStylesheetPtr st = xsltParseStylesheetDoc(sd);
    xsltSetGenericErrorFunc(NULL, NULL);
    if (!st || st->errors) fail_msg("%s: libxslt refuses the generated stylesheet: %s\n%s", name, g_xslt_errors, text);
    return st;
}

/* ---- one case ------------------------------------------------------------------------------- */

static const char *code_name(int code)
{
    switch (code) {
    case MA_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case MA_ERR_REF: return "REF";
    case MA_ERR_CONFIG: return "CONFIG";
    case MA_ERR_NOMEM: return "NOMEM";
    default: return "OTHER";
    }
}

static const ma_component *the_map(ma_deploy *dep)
{
    const ma_component *m = NULL;
    for (size_t i = 0; i < dep->n; i++)
        if (strcmp(dep->comps[i]->type, "transform.map") == 0) {
            assert_null(m);
            m = dep->comps[i];
        }
    assert_non_null(m);
    return m;
}

static void add_file(ma_deploy *dep, const char *dir, const char *name)
{
    char *p = path2(dir, name);
    ma_error err = {0};
    if (is_file(p) && ma_deploy_add_file(dep, p, &err) < 0) fail_msg("%s", err.msg);
    free(p);
}

static void dump(const char *name, const char *text)
{
    const char *d = getenv("MA_MAPCOMPILE_DUMP");
    if (!d || !*d) return;
    char *p = ma_asprintf("%s/%s.xsl", d, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    free(p);
}

static int run_case(const char *dir, const char *name)
{
    ma_error err = {0};
    ma_deploy *dep = ma_deploy_new(NULL, NULL);
    assert_non_null(dep);
    char *ref = path2(dir, "map.ref");
    if (is_file(ref)) { /* a map of the shared corpus */
        char *r = read_all(ref);
        chomp(r);
        char *corpus = ma_asprintf("%s/corpus/boomi", shared_dir());
        if (!is_dir(corpus)) fail_msg("case %s needs the shared corpus: %s is missing (set MA_SHARED)", name, corpus);
        add_file(dep, corpus, r);
        free(corpus);
        free(r);
    } else {
        add_file(dep, dir, "map.xml");
    }
    free(ref);
    add_file(dep, dir, "from.xml");
    add_file(dep, dir, "to.xml");
    const ma_component *map = the_map(dep);
    char *text = ma_map_to_xslt(dep, map, &err);

    char *errpath = path2(dir, "error.txt");
    if (is_file(errpath)) {
        char *want = read_all(errpath);
        char *nl = strchr(want, '\n');
        char *want_code = nl ? nl + 1 : "";
        if (nl) *nl = '\0';
        chomp(want);
        chomp(want_code);
        if (text) fail_msg("case %s: expected the error\n  %s\nbut it compiled:\n%s", name, want, text);
        if (strcmp(err.msg, want) != 0) fail_msg("case %s: expected the error\n  %s\ngot\n  %s", name, want, err.msg);
        if (*want_code && strcmp(code_name(err.code), want_code) != 0)
            fail_msg("case %s: expected error code %s, got %s", name, want_code, code_name(err.code));
        free(want);
        free(errpath);
        ma_deploy_free(dep);
        return 0;
    }
    free(errpath);
    if (!text) fail_msg("case %s: %s", name, err.msg);
    dump(name, text);

    /* deterministic */
    char *again = ma_map_to_xslt(dep, map, &err);
    assert_non_null(again);
    if (strcmp(text, again) != 0) fail_msg("case %s: two compilations differ", name);
    free(again);

    xsltStylesheetPtr st = parse_stylesheet(name, text);

    char *in_xml = path2(dir, "input.xml"), *in_json = path2(dir, "input.json");
    char *ex_xml = path2(dir, "expected.xml"), *ex_json = path2(dir, "expected.json");
    xmlDocPtr src = NULL;
    if (is_file(in_xml)) {
        src = xmlReadFile(in_xml, NULL, XML_PARSE_NONET);
        assert_non_null(src);
    } else if (is_file(in_json)) {
        char *j = read_all(in_json);
        src = json_doc(j);
        free(j);
    }
    if (src) {
        props_reset();
        char *pp = path2(dir, "properties.txt");
        load_props(pp, g_in, &g_nin);
        free(pp);
        g_xslt_errors[0] = '\0';
        xsltTransformContextPtr tc = xsltNewTransformContext(st, src);
        xsltSetTransformErrorFunc(tc, NULL, collect);
        xmlDocPtr res = xsltApplyStylesheetUser(st, src, NULL, NULL, NULL, tc);
        int ok = res && tc->state == XSLT_STATE_OK;
        xsltFreeTransformContext(tc);
        char *rep = path2(dir, "run-error.txt");
        if (is_file(rep)) { /* the document must fail, with this message */
            char *want = read_all(rep);
            chomp(want);
            if (ok) fail_msg("case %s: the transformation should fail with: %s", name, want);
            if (!strstr(g_xslt_errors, want))
                fail_msg("case %s: the transformation failed with\n  %s\nexpected\n  %s", name, g_xslt_errors, want);
            free(want);
            free(rep);
            if (res) xmlFreeDoc(res);
            xmlFreeDoc(src);
            props_reset();
            goto done;
        }
        free(rep);
        if (!ok) fail_msg("case %s: the transformation failed: %s\n%s", name, g_xslt_errors, text);
        xmlNodePtr root = xmlDocGetRootElement(res);
        if (!root) fail_msg("case %s: the map produced no output", name);
        if (is_file(ex_json)) {
            char why[256] = "";
            json_t *got = x2j(root, why, sizeof why);
            if (!got) fail_msg("case %s: the result is not JSON: %s", name, why);
            char *wt = read_all(ex_json);
            json_error_t je;
            json_t *want = json_loads(wt, JSON_DECODE_ANY, &je);
            if (!want) fail_msg("case %s: expected.json: line %d: %s", name, je.line, je.text);
            char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY),
                 *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
            if (strcmp(g, w) != 0)
                fail_msg("case %s: output differs\n  want %s\n  got  %s\nstylesheet:\n%s", name, w, g, text);
            free(g);
            free(w);
            free(wt);
            json_decref(got);
            json_decref(want);
        } else {
            assert_true(is_file(ex_xml));
            xmlChar *buf = NULL;
            int n = 0;
            assert_int_equal(xsltSaveResultToString(&buf, &n, res, st), 0);
            char *got = canonical_xml((const char *)buf, (size_t)n, "the result");
            xmlFree(buf);
            char *wt = read_all(ex_xml);
            char *want = canonical_xml(wt, strlen(wt), "expected.xml");
            if (strcmp(got, want) != 0)
                fail_msg("case %s: output differs\nwant:\n%s\ngot:\n%s\nstylesheet:\n%s", name, want, got, text);
            free(got);
            free(want);
            free(wt);
        }
        xmlFreeDoc(res);
        xmlFreeDoc(src);
        /* properties set */
        kv want[MAX_PROPS];
        size_t nwant = 0;
        char *ep = path2(dir, "expected-properties.txt");
        load_props(ep, want, &nwant);
        free(ep);
        if (nwant != g_nout) fail_msg("case %s: %zu properties set, expected %zu", name, g_nout, nwant);
        for (size_t i = 0; i < nwant; i++) {
            const char *v = NULL;
            for (size_t j = 0; j < g_nout; j++)
                if (strcmp(g_out[j].k, want[i].k) == 0) v = g_out[j].v;
            if (!v) fail_msg("case %s: property %s was not set", name, want[i].k);
            if (strcmp(v, want[i].v) != 0)
                fail_msg("case %s: property %s is '%s', expected '%s'", name, want[i].k, v, want[i].v);
            free(want[i].k);
            free(want[i].v);
        }
        props_reset();
    }
done:
    free(in_xml);
    free(in_json);
    free(ex_xml);
    free(ex_json);
    xsltFreeStylesheet(st);
    free(text);
    ma_deploy_free(dep);
    return 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_cases(void **state)
{
    (void)state;
    register_stubs();
    char *maps = path2(g_src, "tests/maps");
    if (!is_dir(maps)) fail_msg("%s is missing (set srcdir)", maps);
    DIR *d = opendir(maps);
    assert_non_null(d);
    char *names[256];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *p = path2(maps, e->d_name);
        if (is_dir(p) && n < 256) names[n++] = strdup(e->d_name);
        free(p);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    static const char *const required[] = {"xml-to-xml", "json-to-json", "xml-to-json", "json-to-xml", "functions"};
    for (size_t r = 0; r < sizeof required / sizeof *required; r++) {
        int found = 0;
        for (size_t i = 0; i < n; i++) found |= strcmp(names[i], required[r]) == 0;
        if (!found) fail_msg("tests/maps/%s is missing", required[r]);
    }
    size_t ran = 0, refused = 0;
    for (size_t i = 0; i < n; i++) {
        char *dir = path2(maps, names[i]);
        if (run_case(dir, names[i])) ran++;
        else refused++;
        free(dir);
        free(names[i]);
    }
    print_message("tests/maps: %zu maps compiled and ran, %zu refused as expected\n", ran, refused);
    free(maps);
}

/* ---- the shared corpus ---------------------------------------------------------------------- */

static const struct {
    const char *id, *message;
} CORPUS[] = {
    {"c499b35e-c8b1-4eec-a438-775cd6d2b264",
     "map 'RFA_Save_attachement_map' (c499b35e-c8b1-4eec-a438-775cd6d2b264): profile "
     "e7e961a0-7390-4db0-872b-d38b75e61be7 is not in the deployment"},
    {"007fd4cf-e094-4ba3-9c78-aa1c9d362687", "map 'marketview_get_power_hourly_actuals to mktvw_stage_pwr_stl_hrly' "
                                             "(007fd4cf-e094-4ba3-9c78-aa1c9d362687): function key 2 "
                                             "'New Map Function' (type userdefined) is not supported"},
    {"340a2694-36ea-44ac-add1-4e38d3276226",
     "map 'get_next_approver_map' (340a2694-36ea-44ac-add1-4e38d3276226): profile "
     "a3d740b3-dcb4-4b05-9ccc-5e5968d18f86 is not in the deployment"},
    {"64b9abe3-abda-4870-9f5e-8c396a593a03", "map 'error_message_map' (64b9abe3-abda-4870-9f5e-8c396a593a03): profile "
                                             "b3a5d5ef-2ad2-43a4-98dd-646c12e74af9 is not in the deployment"},
    {"cbb5a23f-5904-4fb9-a7dc-9e7062d2b268",
     "map 'Subscription Completed JSON to SF Opportunity CREATE Request XML' (cbb5a23f-5904-4fb9-a7dc-9e7062d2b268): profile "
     "6e791dfd-6dad-469a-9bd7-5339e240cca2 is not in the deployment"},
    {"ac94c065-cdf8-4901-9bff-a07cf100d1e2",
     "map '[Client Walls] 4. CreateWall JSON add cached data' "
     "(ac94c065-cdf8-4901-9bff-a07cf100d1e2): document cache joins are not supported"},
};

static void skip_file(void *ctx, const ma_error *e)
{
    (void)ctx;
    (void)e; /* some corpus files are not components this loader takes; the maps are checked below */
}

static void test_corpus(void **state)
{
    (void)state;
    char *corpus = ma_asprintf("%s/corpus/boomi", shared_dir());
    if (!is_dir(corpus)) fail_msg("the shared corpus %s is missing: set MA_SHARED to the shared folder", corpus);
    ma_deploy *dep = ma_deploy_new(NULL, NULL);
    ma_error err = {0};
    assert_int_equal(ma_deploy_add_dir_report(dep, corpus, skip_file, NULL, &err), 0);
    size_t maps = 0;
    for (size_t i = 0; i < dep->n; i++) {
        const ma_component *m = dep->comps[i];
        if (strcmp(m->type, "transform.map") != 0) continue;
        maps++;
        size_t k = 0;
        while (k < sizeof CORPUS / sizeof *CORPUS && strcmp(CORPUS[k].id, m->id) != 0) k++;
        if (k == sizeof CORPUS / sizeof *CORPUS)
            fail_msg("corpus map '%s' (%s, %s) has no expected result here", m->name, m->id, m->file);
        char *text = ma_map_to_xslt(dep, m, &err);
        if (text) {
            print_message("corpus map '%s' compiles\n", m->name);
            if (CORPUS[k].message) fail_msg("corpus map '%s' compiled, expected: %s", m->name, CORPUS[k].message);
            xsltFreeStylesheet(parse_stylesheet(m->name, text));
            free(text);
            continue;
        }
        if (!CORPUS[k].message) fail_msg("corpus map '%s': %s", m->name, err.msg);
        if (strcmp(err.msg, CORPUS[k].message) != 0)
            fail_msg("corpus map %s:\n  want %s\n  got  %s", m->id, CORPUS[k].message, err.msg);
        print_message("corpus map '%s': %s\n", m->name, code_name(err.code));
    }
    assert_int_equal(maps, sizeof CORPUS / sizeof *CORPUS);
    ma_deploy_free(dep);
    free(corpus);
}

/* ---- API misuse ----------------------------------------------------------------------------- */

static void test_not_a_map(void **state)
{
    (void)state;
    ma_deploy *dep = ma_deploy_new(NULL, NULL);
    ma_error err = {0};
    const char *xml = "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"p1\" name=\"P\" "
                      "type=\"profile.xml\"><bns:object><XMLProfile/></bns:object></bns:Component>";
    assert_int_equal(ma_deploy_add_buffer(dep, xml, strlen(xml), "p1.xml", &err), 0);
    assert_null(ma_map_to_xslt(dep, dep->comps[0], &err));
    assert_int_equal(err.code, MA_ERR_USAGE);
    assert_null(ma_map_to_xslt(NULL, NULL, &err));
    ma_deploy_free(dep);
}

int main(void)
{
    find_src();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_not_a_map),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xsltCleanupGlobals();
    xmlCleanupParser();
    return rc;
}
