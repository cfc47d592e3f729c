/* dataprocess_combine.c - Data Process "Combine Documents" with "Combine Documents Into New
 * Profile" (dataprocess_combine.h). Boomi: the documents match the selected profile and are
 * combined by the Combine Element; with a new profile, into the Combine Into Element of the
 * Combine Into Profile ("Data Process step: Split or combine XML or JSON files";
 * docs/decisions/025-data-process-steps.md). */

/* Decisions:
 *  - The result is a new document shaped by the combine-into element's path: its ancestors, once,
 *    and under them one combine-into element per combine element found in the documents, in
 *    document order. XML: each is a copy of the combine element (attributes and children) under
 *    the combine-into element's name. JSON: the combine-into element must be an array element
 *    (Boomi allows only repeating array elements); the items of every array holding a combine
 *    element become its items.
 *  - The export's attribute for the combine-into element is combineIntoLinkElementKey (an element
 *    key, "null" when the step does not combine into a new profile). The profile it belongs to and
 *    the element's path come from combineIntoProfileId and combineIntoLinkElementName when the
 *    export has them (this project's names: no real export with them was found), else from the
 *    combine's own profileId: the key is then looked up in that profile when it is deployed.
 *  - The combined document keeps the first document's properties and tracking id; a document that
 *    does not parse, or holds no combine element, fails alone (the others are still combined). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataprocess_combine.h"
#include "params.h"
#include "profile.h"
#include "util.h"

#define MAX_NAMES 256

typedef struct path_names {
    char **v; /* owned */
    size_t n;
} path_names;

struct ma_dp_combine_into {
    int json;
    char *label;
    ma_profile_path *from, *into;
    path_names f, t;
};

static void names_free(path_names *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->v[i]);
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

void ma_dp_combine_into_free(ma_dp_combine_into *c)
{
    if (!c) return;
    free(c->label);
    ma_profile_path_free(c->from);
    ma_profile_path_free(c->into);
    names_free(&c->f);
    names_free(&c->t);
    free(c);
}

static int split_path(const char *str, path_names *p, ma_error *err)
{
    p->v = calloc(MAX_NAMES, sizeof *p->v);
    if (!p->v) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (const char *s = str; *s;) {
        const char *e = strchr(s, '/');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (p->n >= MAX_NAMES) return ma_error_set(err, MA_ERR_LIMIT, "element path too deep");
        if (!(p->v[p->n++] = ma_strndup(s, l))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        s += l + (e ? 1 : 0);
    }
    return 0;
}

static ma_profile_path *resolve(ma_shape *shape, const char *label, const char *pid, int json, const char *key,
                                const char *name, const char *what, ma_error *err)
{
    ma_profile_path *p = ma_param_profile_path(shape, pid, json ? "profile.json" : "profile.xml", key, name, err);
    if (!p) {
        ma_error_prefix(err, "%s: %s", label, what);
        return NULL;
    }
    if (ma_profile_path_is_json(p) != json) {
        ma_error_set(err, MA_ERR_CONFIG, "%s: %s: profile %s is not a%s profile", label, what, pid ? pid : "",
                     json ? " JSON" : "n XML");
        ma_profile_path_free(p);
        return NULL;
    }
    return p;
}

ma_dp_combine_into *ma_dp_combine_into_compile(ma_shape *shape, const xmlNode *opts, int json, const char *label,
                                               ma_error *err)
{
    ma_dp_combine_into *c = calloc(1, sizeof *c);
    if (!c) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->json = json;
    c->label = ma_strdup(label);
    char *pid = ma_xml_attr(opts, "profileId");
    char *key = ma_xml_attr(opts, "linkElementKey");
    char *name = ma_xml_attr(opts, "linkElementName");
    char *ipid = ma_xml_attr(opts, "combineIntoProfileId");
    char *ikey = ma_xml_attr(opts, "combineIntoLinkElementKey");
    char *iname = ma_xml_attr(opts, "combineIntoLinkElementName");
    int rc = 0;
    if (!c->label) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    else if ((!key || !*key || ma_streq(key, "null")) && (!name || !*name))
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: no combine element is selected", label);
    else if (!(c->from = resolve(shape, label, pid, json, key, name, "the combine element", err))) rc = -1;
    else if (!(c->into = resolve(shape, label, ipid && *ipid ? ipid : pid, json, ikey, iname,
                                 "the element to combine into", err)))
        rc = -1;
    else if (split_path(ma_profile_path_str(c->from), &c->f, err) < 0 ||
             split_path(ma_profile_path_str(c->into), &c->t, err) < 0) {
        ma_error_prefix(err, "%s", label);
        rc = -1;
    } else if (c->f.n < 2 || c->t.n < 2) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: the combine and combine-into elements cannot be the root", label);
    } else if (json && (strncmp(c->f.v[c->f.n - 1], "ArrayElement", 12) != 0 ||
                        strncmp(c->t.v[c->t.n - 1], "ArrayElement", 12) != 0)) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: JSON documents combine by repeating array elements only (%s, %s)",
                          label, ma_profile_path_str(c->from), ma_profile_path_str(c->into));
    }
    free(pid);
    free(key);
    free(name);
    free(ipid);
    free(ikey);
    free(iname);
    if (rc < 0) {
        ma_dp_combine_into_free(c);
        return NULL;
    }
    return c;
}

/* ---- XML ------------------------------------------------------------------------------------- */

static int is_elem(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Appends a renamed copy of every element below e matching names[i..] to parent. */
static int xml_take(xmlNode *e, const path_names *p, size_t i, xmlDoc *dst, xmlNode *parent, const char *as,
                    size_t *found)
{
    if (i == p->n) {
        xmlNode *clone = NULL;
        if (xmlDOMWrapCloneNode(NULL, e->doc, e, &clone, dst, parent, 1, 0) != 0 || !clone) {
            if (clone) xmlFreeNode(clone);
            return -1;
        }
        xmlNodeSetName(clone, (const xmlChar *)as);
        if (!xmlAddChild(parent, clone)) {
            xmlFreeNode(clone);
            return -1;
        }
        (*found)++;
        return 0;
    }
    for (xmlNode *c = e->children; c; c = c->next)
        if (is_elem(c, p->v[i]) && xml_take(c, p, i + 1, dst, parent, as, found) < 0) return -1;
    return 0;
}

static int run_xml(const ma_dp_combine_into *c, const ma_batch *in, ma_batch *next, ma_outputs *out)
{
    xmlDoc *dst = xmlNewDoc((const xmlChar *)"1.0");
    if (!dst) return -1;
    xmlNode *parent = NULL;
    for (size_t i = 0; i + 1 < c->t.n; i++) {
        xmlNode *n = xmlNewDocNode(dst, NULL, (const xmlChar *)c->t.v[i], NULL);
        if (!n) {
            xmlFreeDoc(dst);
            return -1;
        }
        if (parent) xmlAddChild(parent, n);
        else xmlDocSetRootElement(dst, n);
        parent = n;
    }
    ma_doc *first = NULL;
    int rc = 0;
    for (size_t i = 0; i < in->len && rc == 0; i++) {
        size_t len;
        const char *data = ma_doc_data(in->docs[i], &len);
        ma_error e = {0};
        xmlDoc *x = ma_xml_parse(data, len, "document", &e);
        xmlNode *root = x ? xmlDocGetRootElement(x) : NULL;
        size_t found = 0;
        if (root && is_elem(root, c->f.v[0]) && xml_take(root, &c->f, 1, dst, parent, c->t.v[c->t.n - 1], &found) < 0)
            rc = -1;
        if (rc == 0 && !found) {
            if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "%s: %s", c->label,
                                !x      ? e.msg
                                : !root ? "the document has no root element"
                                        : "the document has no combine element") < 0)
                rc = -1;
        } else if (rc == 0 && !first) {
            first = in->docs[i];
        }
        if (x) xmlFreeDoc(x);
    }
    if (rc == 0 && first) {
        xmlChar *mem = NULL;
        int size = 0;
        xmlDocDumpFormatMemoryEnc(dst, &mem, &size, "UTF-8", 0);
        ma_doc *d = mem ? ma_doc_derive(first, mem, (size_t)size) : NULL;
        if (mem) xmlFree(mem);
        if (!d || ma_batch_push(next, d) < 0) rc = -1;
    }
    xmlFreeDoc(dst);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* Appends to items every item of the arrays that hold names[n-1] below v (v matched names[i-1]). */
static int json_take(json_t *v, const path_names *p, size_t i, json_t *items, size_t *found)
{
    if (!v) return 0;
    if (i == p->n - 1) { /* the array element: v is its array */
        if (!json_is_array(v)) return 0;
        (*found)++;
        return json_array_extend(items, v);
    }
    const char *t = p->v[i];
    if (strcmp(t, "Object") == 0) return json_is_object(v) ? json_take(v, p, i + 1, items, found) : 0;
    if (strcmp(t, "Array") == 0) return json_is_array(v) ? json_take(v, p, i + 1, items, found) : 0;
    if (strncmp(t, "ArrayElement", 12) == 0) { /* an array further up: each of its items */
        if (!json_is_array(v)) return 0;
        for (size_t k = 0; k < json_array_size(v); k++)
            if (json_take(json_array_get(v, k), p, i + 1, items, found) < 0) return -1;
        return 0;
    }
    if (!json_is_object(v)) return 0;
    json_t *x = json_object_get(v, t);
    /* a key holding an array is named twice: the entry, then the array */
    size_t skip = i + 1 < p->n && strcmp(p->v[i + 1], t) == 0 ? 2 : 1;
    return json_take(x, p, i + skip, items, found);
}

/* The skeleton of the combine-into path with the array that holds its element: *root (new), *arr
 * (borrowed from it). -1 when out of memory or the path is not one this builds. */
static int json_build(const path_names *p, json_t **root, json_t **arr)
{
    json_t *cur = NULL;
    *root = NULL;
    for (size_t i = 1; i + 1 < p->n; i++) {
        const char *t = p->v[i];
        json_t *made = NULL;
        if (strcmp(t, "Object") == 0 || strcmp(t, "Array") == 0) {
            if (cur) continue; /* the value of the key just made */
            made = strcmp(t, "Object") == 0 ? json_object() : json_array();
            if (!made) return -1;
            *root = cur = made;
            continue;
        }
        if (strncmp(t, "ArrayElement", 12) == 0) { /* an array further up: one item */
            if (!json_is_array(cur)) return -1;
            int obj = i + 1 < p->n && strcmp(p->v[i + 1], "Object") == 0;
            made = obj ? json_object() : json_array();
            if (!made || json_array_append_new(cur, made) < 0) return -1;
            cur = made;
            continue;
        }
        if (!json_is_object(cur)) return -1;
        int is_arr = i + 1 < p->n && strcmp(p->v[i + 1], t) == 0;
        made = is_arr ? json_array() : json_object();
        if (!made || json_object_set_new(cur, t, made) < 0) return -1;
        cur = made;
        if (is_arr) i++;
    }
    if (!json_is_array(cur)) return -1;
    *arr = cur;
    return 0;
}

static int run_json(const ma_dp_combine_into *c, const ma_batch *in, ma_batch *next, ma_outputs *out)
{
    json_t *root = NULL, *arr = NULL;
    if (json_build(&c->t, &root, &arr) < 0) {
        json_decref(root);
        for (size_t i = 0; i < in->len; i++)
            if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "%s: cannot build a document for %s", c->label,
                                ma_profile_path_str(c->into)) < 0)
                return -1;
        return 0;
    }
    ma_doc *first = NULL;
    int rc = 0;
    for (size_t i = 0; i < in->len && rc == 0; i++) {
        size_t len;
        const char *data = ma_doc_data(in->docs[i], &len);
        json_error_t je;
        json_t *v = json_loadb(data, len, JSON_DECODE_ANY, &je);
        size_t found = 0;
        if (v && json_take(v, &c->f, 1, arr, &found) < 0) rc = -1;
        if (rc == 0 && !found) {
            int frc = v ? ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "%s: the document has no array %s", c->label,
                                          ma_profile_path_str(c->from))
                        : ma_outputs_fail(out, ma_doc_ref(in->docs[i]),
                                          "%s: the document is not well-formed JSON: line %d column %d: %s", c->label,
                                          je.line, je.column, je.text);
            if (frc < 0) rc = -1;
        } else if (rc == 0 && !first) {
            first = in->docs[i];
        }
        json_decref(v);
    }
    if (rc == 0 && first) {
        ma_sb b;
        ma_sb_init(&b);
        ma_sb_json_value(&b, root);
        size_t l;
        char *s = ma_sb_take(&b, &l);
        ma_doc *d = s ? ma_doc_derive_owned(first, s, l) : NULL;
        if (!d || ma_batch_push(next, d) < 0) rc = -1;
    }
    json_decref(root);
    return rc;
}

int ma_dp_combine_into_run(const ma_dp_combine_into *c, const ma_batch *in, ma_batch *next, ma_outputs *out,
                           ma_error *err)
{
    int rc = c->json ? run_json(c, in, next, out) : run_xml(c, in, next, out);
    return rc < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
}
