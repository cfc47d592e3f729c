/* fuzz_flowreq.c - libFuzzer target for the Flow request decoder of the Flow Services Server
 * (connectors/fss/fss_decode.c). The first byte picks the request kind (byte % 4: describe, ServiceRequest,
 * ObjectDataRequest, FileDataRequest; bit 2: also split the rest as multipart/form-data); the rest is the
 * body. Checked: a refusal always says why; what a decoded request turns into (request documents,
 * every objectData object as a document, typed and untyped, the QueryFilter XML) parses again; the
 * input read back as returned documents encodes to valid JSON. */
#include <jansson.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fss/fss_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fss_types types;
static fss_type *root;

static void build_model(void)
{
    if (root) return;
    fss_type *addr = fss_types_add(&types, "T - address");
    fss_type *item = fss_types_add(&types, "T - items");
    root = fss_types_add(&types, NULL);
    if (!addr || !item || !root) abort();
    fss_type_add_field(addr, "street", FSS_STRING, NULL);
    fss_type_add_field(addr, "city", FSS_STRING, NULL);
    fss_type_add_field(item, "sku", FSS_STRING, NULL);
    fss_type_add_field(item, "qty", FSS_NUMBER, NULL);
    fss_type_add_field(item, "where", FSS_OBJECT, addr);
    fss_type_add_field(root, "name", FSS_STRING, NULL);
    fss_type_add_field(root, "count", FSS_NUMBER, NULL);
    fss_type_add_field(root, "ok", FSS_BOOLEAN, NULL);
    fss_type_add_field(root, "when", FSS_DATETIME, NULL);
    fss_type_add_field(root, "address", FSS_OBJECT, addr);
    fss_type_add_field(root, "items", FSS_LIST, item);
}

/* text must be JSON of the given type (object when obj, else any); takes text. */
static void must_be_json(char *text, size_t len, int obj)
{
    if (!text) return; /* out of memory */
    if (strlen(text) != len) abort();
    json_error_t je;
    json_t *v = json_loadb(text, len, 0, &je);
    if (!v || (obj && !json_is_object(v))) abort();
    json_decref(v);
    free(text);
}

static void encode_back(const char *body, size_t len)
{
    fss_doc d[2] = {{body, len, "ext", NULL}, {body, len, NULL, "int"}};
    char why[600];
    int oom, more;
    size_t n;
    for (int typed = 0; typed < 2; typed++) {
        why[0] = '\0';
        char *outs = fss_outputs(typed ? root : NULL, "P", d, 1 + (size_t)typed, why, sizeof why, &oom, &n);
        if (!outs && !oom && !why[0]) abort();
        if (outs) {
            char *s = fss_service_response("tok", NULL, "FORWARD", NULL, outs, typed ? why : NULL, &n);
            free(outs);
            must_be_json(s, s ? n : 0, 1);
        }
        why[0] = '\0';
        char *objs = fss_objects(typed ? root : NULL, "Obj", d, 1 + (size_t)typed, typed, typed ? 2 : 0, &more, why,
                                 sizeof why, &oom, &n);
        if (!objs && !oom && !why[0]) abort();
        if (objs) {
            char *s = fss_object_data_response(objs, more, &n);
            free(objs);
            must_be_json(s, s ? n : 0, 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        xmlInitParser();
        build_model();
        init = 1;
    }
    if (size < 1) return 0;
    fss_req_kind kind = (fss_req_kind)(data[0] % 4);
    int multipart = data[0] & 4;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    if (multipart) {
        fss_upload up;
        char why[600] = "";
        int rc = fss_multipart("multipart/form-data; boundary=\"XyZ\"", body, len, &up, why, sizeof why);
        if (rc == 1 && !why[0]) abort();
        if (rc == 0) {
            if (!up.file || up.file < body || up.file + up.file_len > body + len) abort();
            if (up.json && (up.json < body || up.json + up.json_len > body + len)) abort();
            if (strlen(up.filename) >= sizeof up.filename) abort();
        }
    }

    fss_req r;
    char why[600] = "";
    int rc = fss_req_decode(&r, kind, body, len, why, sizeof why);
    if (rc == 1 && !why[0]) abort();
    if (rc == 1) {
        size_t n;
        char *p = fss_service_problem("/x", 400, why, &n);
        must_be_json(p, p ? n : 0, 1);
    }
    if (rc == 0) {
        if (kind == FSS_REQ_DESCRIBE && len && !r.root) {
            for (size_t i = 0; i < len; i++) /* only blanks (and a BOM) make no root */
                if (!strchr(" \t\r\n\xEF\xBB\xBF", body[i]) || !body[i]) abort();
        }
        size_t n;
        char *doc = fss_inputs_document(&r, root, &n);
        must_be_json(doc, doc ? n : 0, 1);
        doc = fss_inputs_document(&r, NULL, &n);
        must_be_json(doc, doc ? n : 0, 1);
        /* r.objects is a light-tree array (miniatom/json.h), not a jansson value */
        if (kind == FSS_REQ_DATA && r.objects && r.objects->type != MA_JV_ARRAY) abort();
        for (size_t i = 0; r.objects && i < r.objects->n; i++) {
            const ma_jv *obj = &r.objects->v[i];
            for (int typed = 0; typed < 2; typed++) {
                char *o = fss_object_document(obj, typed ? root : NULL, &n);
                must_be_json(o, o ? n : 0, 1);
            }
            const char *ids[] = {"externalId", "internalId"};
            for (int k = 0; k < 2; k++) {
                const char *id = fss_object_id(obj, ids[k]);
                if (id && strlen(id) > len) abort(); /* borrowed from the tree: never longer than the input */
            }
        }
        char *x = fss_query_filter_xml(&r, &n);
        if (x) {
            xmlDoc *xd =
                xmlReadMemory(x, (int)n, "filter.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
            if (!xd) abort();
            xmlNode *top = xmlDocGetRootElement(xd);
            if (!top || strcmp((const char *)top->name, "QueryFilter") != 0) abort();
            xmlFreeDoc(xd);
            free(x);
        }
        char *resp = fss_service_response(r.token, r.tenant_id, "WAIT", r.culture, NULL, r.callback_uri, &n);
        must_be_json(resp, resp ? n : 0, 1);
    }
    fss_req_free(&r);
    encode_back(body, len);
    return 0;
}
