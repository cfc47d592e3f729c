/* bench_map.c - the map shape against a bare in-process libxslt loop (parse the document, apply
 * the precompiled stylesheet, serialize) on the same 1 KB and 100 KB XML documents, and the
 * documents per second of JSON->JSON maps of a 1 KB document (data/order-1k.json through the order
 * map: fields from nested objects and a loop over the items; and a 1 KB list of lines through a
 * map that multiplies in a loop), all on one thread, through the real process path.
 * Usage: bench_map DEPLOY_DIR [SECONDS_PER_CASE=2] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>

#include "executor.h"
#include "loader.h"
#include "builtins.h"
#include "registry.h"
#include "util.h"

static char *xml_doc(size_t target)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "<orders>");
    for (int i = 0; b.len + 120 < target; i++)
        ma_sb_printf(&b, "<order id=\"o%d\"><customer>Customer %d</customer><line amount=\"%d.50\"/><line amount=\"%d\"/></order>", i,
                     i, i % 97, i % 13);
    ma_sb_puts(&b, "</orders>");
    return ma_sb_take(&b, NULL);
}

static char *json_doc(size_t target)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "{\"customer\": \"ACME Trading\", \"lines\": [");
    for (int i = 0; b.len + 60 < target; i++) ma_sb_printf(&b, "%s{\"sku\": \"SKU-%04d\", \"qty\": %d, \"price\": %d.25}", i ? ", " : "", i, i % 7 + 1, i % 50);
    ma_sb_puts(&b, "]}");
    return ma_sb_take(&b, NULL);
}

/* documents per second through the process (start -> map -> stop), batches of `batch` docs */
static double run_process(ma_deploy *dep, const char *name, const char *data, size_t batch, double secs)
{
    ma_component *c = ma_deploy_find_process(dep, name);
    ma_error err;
    if (!c || ma_deploy_compile_process(dep, c) < 0) {
        fprintf(stderr, "%s is not runnable\n", name);
        exit(1);
    }
    ma_batch in;
    ma_batch_init(&in);
    for (size_t i = 0; i < batch; i++) ma_batch_push(&in, ma_doc_new(data, strlen(data)));
    ma_run_opts o = {.general_mode = 0, .retry_scale = 0, .data_dir = "/tmp"};
    size_t docs = 0;
    uint64_t t0 = ma_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
    while (ma_now_ns() < end) {
        ma_result res;
        if (ma_execute(dep, c->process, &in, &o, &res, &err) < 0 || res.status != MA_STATUS_COMPLETE || res.docs.len != batch) {
            fprintf(stderr, "execution failed: %s\n", res.message ? res.message : err.msg);
            exit(1);
        }
        docs += batch;
        ma_result_free(&res);
    }
    ma_batch_clear(&in);
    return (double)docs / ((double)(ma_now_ns() - t0) / 1e9);
}

/* documents per second of the bare loop: parse, apply, serialize */
static double run_bare(const char *sheet_file, const char *data, double secs)
{
    ma_error err;
    size_t len;
    char *buf = ma_read_file(sheet_file, 1 << 20, &len, &err);
    xmlDoc *comp = buf ? xmlReadMemory(buf, (int)len, "c", NULL, XML_PARSE_NONET) : NULL;
    free(buf);
    if (!comp) exit(1);
    /* the stylesheet is the element under bns:object */
    xmlNode *obj = xmlDocGetRootElement(comp)->children;
    while (obj && !(obj->type == XML_ELEMENT_NODE && !strcmp((const char *)obj->name, "object"))) obj = obj->next;
    xmlNode *st = obj->children;
    while (st && st->type != XML_ELEMENT_NODE) st = st->next;
    xmlDoc *sd = xmlNewDoc((const xmlChar *)"1.0");
    xmlDocSetRootElement(sd, xmlDocCopyNode(st, sd, 1));
    xmlReconciliateNs(sd, xmlDocGetRootElement(sd));
    xmlFreeDoc(comp);
    xsltStylesheetPtr style = xsltParseStylesheetDoc(sd);
    size_t docs = 0, dl = strlen(data);
    uint64_t t0 = ma_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
    while (ma_now_ns() < end) {
        for (int k = 0; k < 64; k++) {
            xmlDoc *d = xmlReadMemory(data, (int)dl, "d", NULL, XML_PARSE_NONET);
            xmlDoc *r = xsltApplyStylesheet(style, d, NULL);
            xmlChar *out = NULL;
            int olen = 0;
            xsltSaveResultToString(&out, &olen, r, style);
            xmlFree(out);
            xmlFreeDoc(r);
            xmlFreeDoc(d);
            docs++;
        }
    }
    xsltFreeStylesheet(style);
    return (double)docs / ((double)(ma_now_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DEPLOY_DIR [SECONDS]\n", argv[0]);
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 5.0; /* per case, split into 5 rounds */
    xmlInitParser();
    ma_error err;
    ma_registry *reg = ma_builtins_registry(&err);
    ma_deploy *dep = ma_deploy_new(reg, NULL);
    if (!reg || !dep || ma_deploy_add_dir(dep, argv[1], &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    char sheet[4096];
    snprintf(sheet, sizeof sheet, "%s/map-xml.xml", argv[1]);
    size_t sizes[] = {1024, 100 * 1024};
    const char *only = getenv("BENCH_ONLY"); /* "xml" or "json": run one part (profiling) */
    for (int i = 0; i < 2 && !(only && strcmp(only, "xml") != 0); i++) {
        char *doc = xml_doc(sizes[i]);
        /* rounds alternate between the two so that a busy machine slows both alike; best of each */
        double bare = 0, shape = 0;
        for (int r = 0; r < 5; r++) {
            double b = run_bare(sheet, doc, secs / 5), m = run_process(dep, "Bench Map xml", doc, 64, secs / 5);
            if (b > bare) bare = b;
            if (m > shape) shape = m;
        }
        printf("XML %6zu bytes: bare libxslt %9.0f docs/s (%7.1f us/doc), map shape %9.0f docs/s (%7.1f us/doc): overhead %+.1f%%\n",
               strlen(doc), bare, 1e6 / bare, shape, 1e6 / shape, (bare / shape - 1) * 100);
        free(doc);
    }
    if (only && strcmp(only, "json") != 0) goto done;
    char path[4096];
    snprintf(path, sizeof path, "%s/../data/order-1k.json", argv[1]);
    size_t ol;
    char *order = ma_read_file(path, 1 << 20, &ol, &err);
    if (!order) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double jr = 0;
    for (int r = 0; r < 5; r++) {
        double v = run_process(dep, "Bench Map json", order, 64, secs / 5);
        if (v > jr) jr = v;
    }
    printf("JSON->JSON %zu bytes (order map): map shape %.0f docs/s (%.1f us/doc)\n", ol, jr, 1e6 / jr);
    free(order);
    char *j = json_doc(1024);
    jr = 0;
    for (int r = 0; r < 5; r++) {
        double v = run_process(dep, "Bench Map json calc", j, 64, secs / 5);
        if (v > jr) jr = v;
    }
    printf("JSON->JSON %zu bytes (15-line loop with arithmetic): map shape %.0f docs/s (%.1f us/doc)\n", strlen(j), jr, 1e6 / jr);
    free(j);
done:
    ma_deploy_free(dep);
    ma_registry_free(reg);
    return 0;
}
