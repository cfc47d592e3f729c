/* profile.c - profile element paths (profile.h): a key of a profile.xml / profile.json component
 * resolved to a path of element names, evaluated on XML (libxml2, local names) or JSON (jansson)
 * data, and Data Process "Split Documents" by an XML or JSON element (boomi-process-xml.md 3
 * "Profiles"; boomi-atom-semantics.md 2 "Data Process"). JSON is read with jansson, not the fast
 * reader (miniatom/json.h): split rebuilds documents from a tree it edits, which ma_jv cannot. */

/* Profile trees: XMLElement / XMLAttribute nodes; JSONRootValue ("Root") / JSONObject ("Object") /
 * JSONObjectEntry (the key) / JSONArray ("Array", some exports repeat the entry's name) /
 * JSONArrayElement ("ArrayElement1": every item of a repeating array, item N of an absolute one).
 *
 * Split output follows Boomi ("a split is a filter, not an unwrap"): each piece is a complete
 * document holding one matched element inside its ancestors rebuilt around it.
 *  - XML: the ancestors keep their names, namespaces and attributes; their other children are
 *    dropped; the matched element is copied whole. Serialized with an XML declaration.
 *  - JSON (the choice for JSON): likewise the matched value inside its ancestors, every object on
 *    the way keeping only the entry on the path and every array only the item on the path, so
 *    {"h":1,"orders":[A,B]} split by Root/Object/orders/Array/ArrayElement1 gives {"orders":[A]}
 *    and {"orders":[B]} (profile.h: "wrapped the way the profile's root expects"; a profile whose
 *    root is the array gives [A], [B]), not bare A and B: later steps keep using the same profile.
 *    Written compact, keys in input order, reals in their shortest round-trip form.
 * A flat file profile element (profile.flatfile, flatfile.h) is read from the first record that
 * has it, as read (qualifiers and escapes handled, numbers as written); a split by a flat file
 * profile is the Data Process shape's (dataprocess_flatfile.c), not this file's. Read per
 * occurrence (Business Rules), a flat file is its XML form (ma_flatfile_to_xml): each record
 * (line) an element, numbers in their plain form, walked as XML. */
#include "profile.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "flatfile.h"
#include "util.h"

#define MAX_STEPS 256 /* deepest path accepted */
#define MAX_XML_DEPTH 4096

typedef enum ps_kind {
    PS_ELEM = 0, /* XML element, by local name */
    PS_ATTR,     /* XML attribute of the element so far (last step only) */
    PS_JROOT,    /* JSON: the root value */
    PS_JOBJECT,  /* JSON: the value must be an object */
    PS_JENTRY,   /* JSON: entry `name` of the object */
    PS_JARRAY,   /* JSON: the value must be an array */
    PS_JITEM     /* JSON: every item of the array (index < 0) or item `index` (absolute arrays) */
} ps_kind;

typedef struct ps_step {
    ps_kind kind;
    char *name; /* owned: element, attribute or entry name; NULL for structural JSON steps */
    long index;
} ps_step;

struct ma_profile_path {
    int json;
    size_t n;
    ps_step *steps;  /* owned */
    char *str;       /* owned: readable form */
    ma_flatfile *ff; /* owned: a flat file profile element (then steps is unused) */
    char *ff_key;    /* owned: the element's key */
};

void ma_profile_path_free(ma_profile_path *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) free(p->steps[i].name);
    free(p->steps);
    free(p->str);
    ma_flatfile_free(p->ff);
    free(p->ff_key);
    free(p);
}

const char *ma_profile_path_str(const ma_profile_path *p) { return p ? p->str : ""; }
int ma_profile_path_is_json(const ma_profile_path *p) { return p && p->json; }

static ma_profile_path *path_new(int json)
{
    ma_profile_path *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->json = json;
    p->steps = calloc(MAX_STEPS, sizeof *p->steps);
    if (!p->steps) {
        free(p);
        return NULL;
    }
    return p;
}

static int path_add(ma_profile_path *p, ps_kind kind, const char *name, long index, ma_error *err)
{
    if (p->n >= MAX_STEPS) return ma_error_set(err, MA_ERR_LIMIT, "profile element path is deeper than %d", MAX_STEPS);
    char *nm = NULL;
    if (name && (kind == PS_ELEM || kind == PS_ATTR)) {
        const char *colon = strchr(name, ':'); /* XML names are compared without their prefix */
        if (colon && colon[1]) name = colon + 1;
    }
    if (name && !(nm = ma_strdup(name))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    p->steps[p->n].kind = kind;
    p->steps[p->n].name = nm;
    p->steps[p->n].index = index;
    p->n++;
    return 0;
}

/* ---- compiling from names -------------------------------------------------------------------- */

static int starts_with_array_element(const char *s) { return s && strncmp(s, "ArrayElement", 12) == 0; }

ma_profile_path *ma_profile_path_from_names(const char *names, int json, ma_error *err)
{
    if (!names) {
        ma_error_set(err, MA_ERR_USAGE, "no profile element path");
        return NULL;
    }
    while (*names == '/') names++;
    size_t len = strlen(names);
    while (len && names[len - 1] == '/') len--;
    if (!len) {
        ma_error_set(err, MA_ERR_CONFIG, "empty profile element path");
        return NULL;
    }
    char *buf = ma_strndup(names, len);
    ma_profile_path *p = path_new(json);
    char **seg = calloc(MAX_STEPS + 1, sizeof *seg);
    if (!buf || !p || !seg) {
        free(buf);
        free(seg);
        ma_profile_path_free(p);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    size_t ns = 0;
    for (char *s = buf;;) {
        char *e = strchr(s, '/');
        if (e) *e = '\0';
        if (!*s) {
            ma_error_set(err, MA_ERR_CONFIG, "profile element path '%.*s' has an empty name", (int)len, names);
            goto fail;
        }
        if (ns >= MAX_STEPS) {
            ma_error_set(err, MA_ERR_LIMIT, "profile element path is deeper than %d", MAX_STEPS);
            goto fail;
        }
        seg[ns++] = s;
        if (!e) break;
        s = e + 1;
    }
    if (!json) {
        for (size_t i = 0; i < ns; i++) {
            if (seg[i][0] == '@') {
                if (i + 1 != ns || i == 0) {
                    ma_error_set(err, MA_ERR_CONFIG, "profile element path '%s': an attribute must be the last name",
                                 names);
                    goto fail;
                }
                if (path_add(p, PS_ATTR, seg[i] + 1, -1, err) < 0) goto fail;
            } else if (path_add(p, PS_ELEM, seg[i], -1, err) < 0) {
                goto fail;
            }
        }
    } else {
        /* Boomi JSON paths name structural nodes too: Root/Object/orders/Array/ArrayElement1/...
         * (some exports name the array after its entry: orders/orders/ArrayElement1). Names
         * that skip the structure ("Root/orders/id") are read as entries. */
        enum { AT_VALUE, AT_OBJECT, AT_ARRAY } st = AT_VALUE;
        size_t i = 0;
        if (path_add(p, PS_JROOT, NULL, -1, err) < 0) goto fail;
        if (strcmp(seg[0], "Root") == 0) i = 1;
        const char *last_entry = NULL;
        for (; i < ns; i++) {
            const char *s = seg[i];
            if (st == AT_OBJECT) {
                if (path_add(p, PS_JENTRY, s, -1, err) < 0) goto fail;
                last_entry = s;
                st = AT_VALUE;
            } else if (st == AT_ARRAY) {
                if (path_add(p, PS_JITEM, NULL, -1, err) < 0) goto fail;
                st = AT_VALUE;
            } else if (strcmp(s, "Object") == 0) {
                if (path_add(p, PS_JOBJECT, NULL, -1, err) < 0) goto fail;
                st = AT_OBJECT;
            } else if (strcmp(s, "Array") == 0 || (last_entry && strcmp(s, last_entry) == 0 && i + 1 < ns &&
                                                   starts_with_array_element(seg[i + 1]))) {
                if (path_add(p, PS_JARRAY, NULL, -1, err) < 0) goto fail;
                st = AT_ARRAY;
            } else if (starts_with_array_element(s)) {
                if (path_add(p, PS_JARRAY, NULL, -1, err) < 0 || path_add(p, PS_JITEM, NULL, -1, err) < 0) goto fail;
            } else {
                if (path_add(p, PS_JENTRY, s, -1, err) < 0) goto fail;
                last_entry = s;
            }
        }
    }
    {
        ma_sb b;
        ma_sb_init(&b);
        for (size_t i = 0; i < ns; i++) {
            if (i) ma_sb_putc(&b, '/');
            ma_sb_puts(&b, seg[i]);
        }
        char *s = ma_sb_take(&b, NULL);
        if (!s) {
            ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto fail;
        }
        free(p->str);
        p->str = s;
    }
    free(seg);
    free(buf);
    return p;
fail:
    free(seg);
    free(buf);
    ma_profile_path_free(p);
    return NULL;
}

/* ---- compiling from a profile component ------------------------------------------------------ */

static xmlNode *find_key(xmlNode *n, const char *key, int depth)
{
    if (depth > MAX_XML_DEPTH) return NULL;
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (ma_xml_attr_is(c, "key", key) &&
            (ma_str_has_prefix((const char *)c->name, "XML") || ma_str_has_prefix((const char *)c->name, "JSON")) &&
            !ma_xml_is(c, "XMLNamespace"))
            return c;
        xmlNode *r = find_key(c, key, depth + 1);
        if (r) return r;
    }
    return NULL;
}

static const char *profile_kind(const char *type)
{
    if (ma_streq(type, "profile.flatfile")) return "flat file";
    if (ma_streq(type, "profile.db")) return "database";
    if (ma_streq(type, "profile.edi")) return "EDI";
    if (type && ma_str_has_prefix(type, "profile.")) return type + 8;
    return type ? type : "unknown";
}

/* A flat file element: read from the first record that has it (ma_profile_path_eval), and its
 * steps are the element's names in the profile's XML form (FlatFile/RECORD/ELEMENTS/FIELD), for
 * reading it per record from ma_profile_data_parse_flatfile. */
static ma_profile_path *flatfile_path(const ma_component *c, const char *key, ma_error *err)
{
    ma_profile_path *p = path_new(0);
    char *xpath = NULL;
    if (!p) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (!(p->ff = ma_flatfile_compile(c, err))) goto fail;
    if (!key || !(p->str = ma_flatfile_field_path(p->ff, key))) {
        ma_error_set(err, MA_ERR_REF, "profile '%s' (%s) has no element with key %s", c->name, c->id, key ? key : "");
        goto fail;
    }
    if (!(p->ff_key = ma_strdup(key)) || !(xpath = ma_flatfile_field_xml_path(p->ff, key))) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (char *s = xpath, *e; s; s = e ? e + 1 : NULL) { /* XML names hold no '/' */
        if ((e = strchr(s, '/'))) *e = '\0';
        if (path_add(p, PS_ELEM, s, -1, err) < 0) goto fail;
    }
    free(xpath);
    return p;
fail:
    free(xpath);
    ma_profile_path_free(p);
    return NULL;
}

typedef struct ffeval {
    const char *key;
    char *value;
} ffeval;

static int ff_first(void *ctx, const ma_ff_record *r)
{
    ffeval *e = ctx;
    for (size_t i = 0; !r->header && i < r->n; i++)
        if (strcmp(r->keys[i], e->key) == 0) {
            e->value = ma_strdup(r->values[i]);
            return e->value ? 1 : -1;
        }
    return 0;
}

ma_profile_path *ma_profile_path_compile(ma_deploy *dep, const char *profile_id, const char *element_key, ma_error *err)
{
    ma_component *c = ma_deploy_ref(dep, profile_id, "profile", "profile", err);
    if (!c) return NULL;
    int json;
    if (ma_streq(c->type, "profile.xml")) json = 0;
    else if (ma_streq(c->type, "profile.json")) json = 1;
    else if (ma_streq(c->type, "profile.flatfile")) return flatfile_path(c, element_key, err);
    else {
        ma_error_set(err, MA_ERR_UNSUPPORTED,
                     "profile '%s' (%s) is a %s profile; only XML, JSON and flat file profiles are supported", c->name,
                     c->id, profile_kind(c->type));
        return NULL;
    }
    if (!element_key || !*element_key) {
        ma_error_set(err, MA_ERR_CONFIG, "profile '%s' (%s): no element key given", c->name, c->id);
        return NULL;
    }
    xmlNode *root = c->object;
    if (!root || !ma_xml_is(root, json ? "JSONProfile" : "XMLProfile")) {
        ma_error_set(err, MA_ERR_CONFIG, "profile '%s' (%s) has no <%s>", c->name, c->id,
                     json ? "JSONProfile" : "XMLProfile");
        return NULL;
    }
    xmlNode *hit = find_key(ma_xml_child(root, "DataElements"), element_key, 0);
    if (!hit) hit = find_key(root, element_key, 0); /* an element declared in a type */
    if (!hit) {
        ma_error_set(err, MA_ERR_REF, "profile '%s' (%s) has no element with key %s", c->name, c->id, element_key);
        return NULL;
    }
    /* the chain from the top profile node down to hit */
    xmlNode *chain[MAX_STEPS];
    size_t n = 0;
    for (xmlNode *x = hit; x && x->type == XML_ELEMENT_NODE; x = x->parent) {
        const char *nm = (const char *)x->name;
        int ours = json ? ma_str_has_prefix(nm, "JSON") && strcmp(nm, "JSONProfile") != 0
                        : (strcmp(nm, "XMLElement") == 0 || strcmp(nm, "XMLAttribute") == 0);
        if (!ours) break;
        if (n >= MAX_STEPS) {
            ma_error_set(err, MA_ERR_LIMIT, "profile '%s' (%s): element %s is deeper than %d", c->name, c->id,
                         element_key, MAX_STEPS);
            return NULL;
        }
        chain[n++] = x;
    }
    if (!n) {
        ma_error_set(err, MA_ERR_CONFIG, "profile '%s' (%s): key %s is not an element (<%s>)", c->name, c->id,
                     element_key, (const char *)hit->name);
        return NULL;
    }
    ma_profile_path *p = path_new(json);
    if (!p) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ma_sb str;
    ma_sb_init(&str);
    for (size_t k = n; k-- > 0;) {
        xmlNode *x = chain[k];
        char *name = ma_xml_attr(x, "name");
        const char *nm = (const char *)x->name;
        int rc = 0;
        if (!name) {
            char *key = ma_xml_attr(x, "key");
            rc = ma_error_set(err, MA_ERR_CONFIG, "profile '%s' (%s): <%s key=\"%s\"> has no name", c->name, c->id, nm,
                              key ? key : "");
            free(key);
        } else if (!json) {
            if (strcmp(nm, "XMLAttribute") == 0 && k != 0)
                rc = ma_error_set(err, MA_ERR_CONFIG, "profile '%s' (%s): attribute '%s' has children", c->name, c->id,
                                  name);
            else rc = path_add(p, strcmp(nm, "XMLAttribute") == 0 ? PS_ATTR : PS_ELEM, name, -1, err);
        } else if (strcmp(nm, "JSONRootValue") == 0) {
            rc = path_add(p, PS_JROOT, NULL, -1, err);
        } else if (strcmp(nm, "JSONObject") == 0) {
            rc = path_add(p, PS_JOBJECT, NULL, -1, err);
        } else if (strcmp(nm, "JSONObjectEntry") == 0) {
            rc = path_add(p, PS_JENTRY, name, -1, err);
        } else if (strcmp(nm, "JSONArray") == 0) {
            rc = path_add(p, PS_JARRAY, NULL, -1, err);
        } else if (strcmp(nm, "JSONArrayElement") == 0) {
            long idx = -1;
            xmlNode *arr = x->parent;
            char *et = ma_xml_attr(arr, "elementType");
            if (et && strcmp(et, "repeating") != 0) { /* absolute (tuple) array: position counts */
                idx = 0;
                for (xmlNode *s = ma_xml_child(arr, "JSONArrayElement"); s && s != x;
                     s = ma_xml_next(s, "JSONArrayElement"))
                    idx++;
            }
            free(et);
            rc = path_add(p, PS_JITEM, NULL, idx, err);
        } else {
            rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                              "profile '%s' (%s): element %s is under a <%s>, which is not supported", c->name, c->id,
                              element_key, nm);
        }
        if (rc == 0 && k != n - 1) ma_sb_putc(&str, '/');
        if (rc == 0) ma_sb_puts(&str, name);
        free(name);
        if (rc < 0) {
            ma_sb_free(&str);
            ma_profile_path_free(p);
            return NULL;
        }
    }
    if (json && (p->n == 0 || p->steps[0].kind != PS_JROOT)) {
        /* a node from a type definition: anchor it at the root value */
        ma_profile_path *q = path_new(1);
        int ok = q && path_add(q, PS_JROOT, NULL, -1, err) == 0;
        for (size_t i = 0; ok && i < p->n; i++) {
            if (path_add(q, p->steps[i].kind, p->steps[i].name, p->steps[i].index, err) < 0) ok = 0;
        }
        ma_profile_path_free(p);
        if (!ok) {
            if (!q) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            ma_profile_path_free(q);
            ma_sb_free(&str);
            return NULL;
        }
        p = q;
    }
    p->str = ma_sb_take(&str, NULL);
    if (!p->str) {
        ma_profile_path_free(p);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return p;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* Scalar text of a value: strings as they are, numbers and booleans as written, null as "",
 * objects and arrays as compact JSON. */
static char *json_scalar(const json_t *v)
{
    if (!v || json_is_null(v)) return ma_strdup("");
    if (json_is_string(v)) return ma_strndup(json_string_value(v), json_string_length(v));
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_json_value(&b, v);
    return ma_sb_take(&b, NULL);
}

static json_t *json_parse(const ma_doc *doc, ma_error *err)
{
    size_t len;
    const char *data = ma_doc_data(doc, &len);
    json_error_t je;
    json_t *v = json_loadb(data, len, JSON_DECODE_ANY, &je);
    if (!v) ma_error_set(err, MA_ERR_PARSE, "not well-formed JSON: line %d column %d: %s", je.line, je.column, je.text);
    return v;
}

typedef struct jlevel {
    json_t *container; /* borrowed */
    const char *key;   /* object entry, or NULL for an array item */
} jlevel;

typedef struct jwalk {
    const ma_profile_path *p;
    jlevel trail[MAX_STEPS];
    size_t depth;
    int (*hit)(struct jwalk *w, json_t *v); /* 1 = stop, 0 = go on, -1 = error */
    void *ctx;
} jwalk;

static int jwalk_run(jwalk *w, json_t *v, size_t i)
{
    if (i == w->p->n) return w->hit(w, v);
    const ps_step *s = &w->p->steps[i];
    switch (s->kind) {
    case PS_JROOT: return jwalk_run(w, v, i + 1);
    case PS_JOBJECT: return json_is_object(v) ? jwalk_run(w, v, i + 1) : 0;
    case PS_JARRAY: return json_is_array(v) ? jwalk_run(w, v, i + 1) : 0;
    case PS_JENTRY: {
        json_t *x = json_is_object(v) ? json_object_get(v, s->name) : NULL;
        if (!x) return 0;
        w->trail[w->depth].container = v;
        w->trail[w->depth].key = s->name;
        w->depth++;
        int r = jwalk_run(w, x, i + 1);
        w->depth--;
        return r;
    }
    case PS_JITEM: {
        if (!json_is_array(v)) return 0;
        size_t from = 0, to = json_array_size(v);
        if (s->index >= 0) {
            if ((size_t)s->index >= to) return 0;
            from = (size_t)s->index;
            to = from + 1;
        }
        for (size_t k = from; k < to; k++) {
            w->trail[w->depth].container = v;
            w->trail[w->depth].key = NULL;
            w->depth++;
            int r = jwalk_run(w, json_array_get(v, k), i + 1);
            w->depth--;
            if (r) return r;
        }
        return 0;
    }
    default: return 0;
    }
}

static int jhit_first(jwalk *w, json_t *v)
{
    *(json_t **)w->ctx = v;
    return 1;
}

typedef struct jsplit_ctx {
    const ma_doc *src;
    ma_batch *out;
    size_t count;
    ma_error *err;
} jsplit_ctx;

static int jhit_split(jwalk *w, json_t *v)
{
    jsplit_ctx *c = w->ctx;
    json_t *cur = json_incref(v);
    for (size_t k = w->depth; k-- > 0 && cur;) {
        json_t *wrap;
        if (w->trail[k].key) {
            wrap = json_object();
            if (wrap && json_object_set_new(wrap, w->trail[k].key, cur) < 0) {
                json_decref(wrap);
                wrap = NULL;
            }
        } else {
            wrap = json_array();
            if (wrap && json_array_append_new(wrap, cur) < 0) {
                json_decref(wrap);
                wrap = NULL;
            }
        }
        if (!wrap) json_decref(cur);
        cur = wrap;
    }
    if (!cur) return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_json_value(&b, cur);
    json_decref(cur);
    size_t len;
    char *s = ma_sb_take(&b, &len);
    if (!s) return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
    ma_doc *d = ma_doc_derive_owned(c->src, s, len);
    if (!d || ma_batch_push(c->out, d) < 0) return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
    c->count++;
    return 0;
}

/* ---- XML ------------------------------------------------------------------------------------- */

typedef struct xwalk {
    const ma_profile_path *p;
    int (*hit)(struct xwalk *w, xmlNode *elem, xmlAttr *attr); /* 1 stop, 0 go on, -1 error */
    void *ctx;
} xwalk;

static xmlAttr *find_attr(xmlNode *e, const char *name)
{
    for (xmlAttr *a = e->properties; a; a = a->next)
        if (a->name && strcmp((const char *)a->name, name) == 0) return a;
    return NULL;
}

/* e matched step i-1; looks for step i below it */
static int xwalk_run(xwalk *w, xmlNode *e, size_t i)
{
    if (i == w->p->n) return w->hit(w, e, NULL);
    const ps_step *s = &w->p->steps[i];
    if (s->kind == PS_ATTR) {
        xmlAttr *a = find_attr(e, s->name);
        return a ? w->hit(w, e, a) : 0;
    }
    for (xmlNode *c = e->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, s->name) != 0) continue;
        int r = xwalk_run(w, c, i + 1);
        if (r) return r;
    }
    return 0;
}

static int xwalk_doc(xwalk *w, xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !w->p->n || w->p->steps[0].kind != PS_ELEM ||
        strcmp((const char *)root->name, w->p->steps[0].name) != 0)
        return 0;
    return xwalk_run(w, root, 1);
}

static int xhit_first(xwalk *w, xmlNode *e, xmlAttr *a)
{
    char **out = w->ctx;
    if (a) {
        xmlChar *v = xmlNodeListGetString(e->doc, a->children, 1);
        *out = ma_strdup(v ? (const char *)v : "");
        xmlFree(v);
    } else {
        *out = ma_xml_text(e);
    }
    return *out ? 1 : -1;
}

/* Shallow copy of src (name, namespace declarations, namespace, attributes) appended to parent
 * (or made the root of doc). */
static xmlNode *copy_shallow(xmlDoc *doc, xmlNode *parent, const xmlNode *src)
{
    xmlNode *c = xmlNewDocNode(doc, NULL, src->name, NULL);
    if (!c) return NULL;
    if (parent) {
        if (!xmlAddChild(parent, c)) {
            xmlFreeNode(c);
            return NULL;
        }
    } else {
        xmlDocSetRootElement(doc, c);
    }
    if (src->nsDef && !(c->nsDef = xmlCopyNamespaceList(src->nsDef))) return NULL;
    if (src->ns) {
        xmlNs *ns = xmlSearchNs(doc, c, src->ns->prefix);
        if (!ns || !xmlStrEqual(ns->href, src->ns->href)) ns = xmlNewNs(c, src->ns->href, src->ns->prefix);
        if (!ns) return NULL;
        xmlSetNs(c, ns);
    }
    if (src->properties && !(c->properties = xmlCopyPropList(c, src->properties))) return NULL;
    return c;
}

static char *xml_serialize(xmlDoc *doc, size_t *len)
{
    xmlChar *mem = NULL;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 0);
    if (!mem || size < 0) {
        xmlFree(mem);
        return NULL;
    }
    char *s = ma_strndup((const char *)mem, (size_t)size);
    xmlFree(mem);
    if (s && len) *len = strlen(s);
    return s;
}

typedef struct xsplit_ctx {
    const ma_doc *src;
    ma_batch *out;
    size_t count;
    ma_error *err;
} xsplit_ctx;

static int xhit_split(xwalk *w, xmlNode *e, xmlAttr *a)
{
    (void)a; /* a split by an attribute splits by the element that holds it */
    xsplit_ctx *c = w->ctx;
    xmlNode *chain[MAX_STEPS];
    size_t n = 0;
    for (xmlNode *x = e->parent; x && x->type == XML_ELEMENT_NODE; x = x->parent) {
        if (n >= MAX_STEPS) return ma_error_set(c->err, MA_ERR_LIMIT, "split element is deeper than %d", MAX_STEPS);
        chain[n++] = x;
    }
    xmlDoc *nd = xmlNewDoc((const xmlChar *)"1.0");
    if (!nd) return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
    xmlNode *parent = NULL;
    for (size_t k = n; k-- > 0;) {
        if (!(parent = copy_shallow(nd, parent, chain[k]))) {
            xmlFreeDoc(nd);
            return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
        }
    }
    xmlNode *clone = NULL;
    if (xmlDOMWrapCloneNode(NULL, e->doc, e, &clone, nd, parent, 1, 0) != 0 || !clone) {
        if (clone) xmlFreeNode(clone);
        xmlFreeDoc(nd);
        return ma_error_set(c->err, MA_ERR_NOMEM, "cannot copy element <%s>", (const char *)e->name);
    }
    if (parent) {
        if (!xmlAddChild(parent, clone)) {
            xmlFreeNode(clone);
            xmlFreeDoc(nd);
            return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
        }
    } else {
        xmlDocSetRootElement(nd, clone);
    }
    size_t len = 0;
    char *s = xml_serialize(nd, &len);
    xmlFreeDoc(nd);
    if (!s) return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
    ma_doc *d = ma_doc_derive_owned(c->src, s, len);
    if (!d || ma_batch_push(c->out, d) < 0) return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
    c->count++;
    return 0;
}

/* ---- public evaluation ----------------------------------------------------------------------- */

char *ma_profile_path_eval(const ma_profile_path *p, const ma_doc *doc)
{
    if (!p || !doc) return ma_strdup("");
    ma_error err;
    if (p->ff) {
        size_t len;
        const char *data = ma_doc_data(doc, &len);
        ffeval e = {.key = p->ff_key};
        if (ma_flatfile_scan(p->ff, data, len, ff_first, &e, &err) < 0 && err.code == MA_ERR_NOMEM) return NULL;
        return e.value ? e.value : ma_strdup("");
    }
    if (p->json) {
        json_t *root = json_parse(doc, &err);
        if (!root) return ma_strdup("");
        json_t *found = NULL;
        jwalk w = {.p = p, .hit = jhit_first, .ctx = &found};
        jwalk_run(&w, root, 0);
        char *s = json_scalar(found);
        json_decref(root);
        return s;
    }
    size_t len;
    const char *data = ma_doc_data(doc, &len);
    if (!len) return ma_strdup("");
    xmlDoc *x = ma_xml_parse(data, len, "document", &err);
    if (!x) return ma_strdup("");
    char *out = NULL;
    xwalk w = {.p = p, .hit = xhit_first, .ctx = &out};
    int r = xwalk_doc(&w, x);
    xmlFreeDoc(x);
    if (r < 0) return NULL;
    return out ? out : ma_strdup("");
}

int ma_profile_path_split(const ma_profile_path *p, const ma_doc *doc, ma_batch *out, ma_error *err)
{
    if (!p || !doc || !out) return ma_error_set(err, MA_ERR_USAGE, "ma_profile_path_split: missing argument");
    if (p->ff) return ma_error_set(err, MA_ERR_USAGE, "ma_profile_path_split: %s is a flat file element", p->str);
    size_t start = out->len;
    int r;
    if (p->json) {
        json_t *root = json_parse(doc, err);
        if (!root) return -1;
        jsplit_ctx c = {.src = doc, .out = out, .err = err};
        jwalk w = {.p = p, .hit = jhit_split, .ctx = &c};
        r = jwalk_run(&w, root, 0);
        json_decref(root);
    } else {
        size_t len;
        const char *data = ma_doc_data(doc, &len);
        xmlDoc *x = ma_xml_parse(data, len, "document", err);
        if (!x) return -1;
        xsplit_ctx c = {.src = doc, .out = out, .err = err};
        xwalk w = {.p = p, .hit = xhit_split, .ctx = &c};
        r = xwalk_doc(&w, x);
        xmlFreeDoc(x);
    }
    if (r < 0) {
        /* drop the pieces made before the failure */
        while (out->len > start) ma_doc_unref(out->docs[--out->len]);
        return -1;
    }
    return 0;
}

/* ---- occurrences ----------------------------------------------------------------------------- */

struct ma_profile_data {
    int json;
    xmlDoc *xml; /* owned; NULL for empty data */
    json_t *js;  /* owned; NULL for empty data */
};

ma_profile_data *ma_profile_data_parse(const ma_doc *doc, int json, ma_error *err)
{
    ma_profile_data *d = calloc(1, sizeof *d);
    if (!d) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->json = json;
    size_t len = 0;
    const char *data = doc ? ma_doc_data(doc, &len) : NULL;
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) i++;
    if (i == len) return d; /* empty data: an empty document */
    if (json) d->js = json_parse(doc, err);
    else d->xml = ma_xml_parse(data, len, "document", err);
    if (!d->js && !d->xml) {
        free(d);
        return NULL;
    }
    return d;
}

ma_profile_data *ma_profile_data_parse_flatfile(const ma_doc *doc, const ma_flatfile *ff, ma_error *err)
{
    ma_profile_data *d = calloc(1, sizeof *d);
    if (!d) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    size_t len = 0;
    const char *data = doc ? ma_doc_data(doc, &len) : NULL;
    if (!(d->xml = ma_flatfile_to_xml(ff, data, len, err))) { /* empty data: a <FlatFile/> of no records */
        free(d);
        return NULL;
    }
    return d;
}

void ma_profile_data_free(ma_profile_data *d)
{
    if (!d) return;
    if (d->xml) xmlFreeDoc(d->xml);
    if (d->js) json_decref(d->js);
    free(d);
}

size_t ma_profile_path_len(const ma_profile_path *p) { return p ? p->n : 0; }

static const void *data_root(const ma_profile_data *d)
{
    if (d->json) return d->js;
    return d->xml; /* the document node: its children hold the root element */
}

ma_profile_match ma_profile_match_root(const ma_profile_data *d)
{
    static const void *const none[1] = {NULL};
    ma_profile_match m = {.data = d, .path = NULL, .depth = 0, .nodes = none};
    return m;
}

/* A walk over steps [i, n) of a path, recording where it stood after each step. */
typedef struct owalk {
    const ma_profile_path *p;
    int json;
    const void **nodes;                         /* p->n + 1 entries */
    int (*hit)(struct owalk *w, const void *n); /* 1 stop, 0 go on, -1 error */
    void *ctx;
} owalk;

static int owalk_run(owalk *w, const void *node, size_t i)
{
    if (!node) return 0;
    w->nodes[i] = node;
    if (i == w->p->n) return w->hit(w, node);
    const ps_step *s = &w->p->steps[i];
    if (w->json) {
        json_t *v = (json_t *)node;
        switch (s->kind) {
        case PS_JROOT: return owalk_run(w, v, i + 1);
        case PS_JOBJECT: return json_is_object(v) ? owalk_run(w, v, i + 1) : 0;
        case PS_JARRAY: return json_is_array(v) ? owalk_run(w, v, i + 1) : 0;
        case PS_JENTRY: return json_is_object(v) ? owalk_run(w, json_object_get(v, s->name), i + 1) : 0;
        case PS_JITEM: {
            if (!json_is_array(v)) return 0;
            size_t from = 0, to = json_array_size(v);
            if (s->index >= 0) {
                if ((size_t)s->index >= to) return 0;
                from = (size_t)s->index;
                to = from + 1;
            }
            for (size_t k = from; k < to; k++) {
                int r = owalk_run(w, json_array_get(v, k), i + 1);
                if (r) return r;
            }
            return 0;
        }
        default: return 0;
        }
    }
    const xmlNode *e = node;
    if (e->type != XML_ELEMENT_NODE && e->type != XML_DOCUMENT_NODE) return 0;
    if (s->kind == PS_ATTR) {
        if (e->type != XML_ELEMENT_NODE) return 0;
        return owalk_run(w, find_attr((xmlNode *)e, s->name), i + 1);
    }
    if (s->kind != PS_ELEM) return 0;
    for (const xmlNode *c = e->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, s->name) != 0) continue;
        int r = owalk_run(w, c, i + 1);
        if (r) return r;
    }
    return 0;
}

typedef struct each_ctx {
    const ma_profile_data *d;
    size_t count, limit;
    int (*fn)(void *ctx, const ma_profile_match *m);
    void *ctx;
    ma_error *err;
} each_ctx;

static int ohit_each(owalk *w, const void *n)
{
    (void)n;
    each_ctx *c = w->ctx;
    if (++c->count > c->limit)
        return ma_error_set(c->err, MA_ERR_LIMIT, "more than %zu occurrences of %s in one document", c->limit,
                            w->p->str);
    ma_profile_match m = {.data = c->d, .path = w->p, .depth = w->p->n, .nodes = w->nodes};
    return c->fn(c->ctx, &m);
}

int ma_profile_path_each(const ma_profile_path *p, const ma_profile_data *d, size_t limit,
                         int (*fn)(void *ctx, const ma_profile_match *m), void *ctx, ma_error *err)
{
    if (!p || !d || !fn) return ma_error_set(err, MA_ERR_USAGE, "ma_profile_path_each: missing argument");
    if (p->json != d->json)
        return ma_error_set(err, MA_ERR_USAGE, "path %s is %s, the data is not", p->str, p->json ? "JSON" : "XML");
    const void *nodes[MAX_STEPS + 1];
    each_ctx c = {.d = d, .limit = limit, .fn = fn, .ctx = ctx, .err = err};
    owalk w = {.p = p, .json = d->json, .nodes = nodes, .hit = ohit_each, .ctx = &c};
    return owalk_run(&w, data_root(d), 0);
}

static int ohit_first(owalk *w, const void *n)
{
    *(const void **)w->ctx = n;
    return 1;
}

static int same_step(const ps_step *a, const ps_step *b)
{
    return a->kind == b->kind && a->index == b->index && ma_streq(a->name, b->name);
}

char *ma_profile_match_value(const ma_profile_match *m, const ma_profile_path *q)
{
    if (!m || !q || !m->data || q->json != m->data->json) return ma_strdup("");
    size_t k = 0;
    if (m->path)
        while (k < m->depth && k < q->n && k < m->path->n && same_step(&m->path->steps[k], &q->steps[k])) k++;
    const void *start = m->path ? m->nodes[k] : data_root(m->data);
    const void *nodes[MAX_STEPS + 1];
    const void *found = NULL;
    owalk w = {.p = q, .json = q->json, .nodes = nodes, .hit = ohit_first, .ctx = &found};
    owalk_run(&w, start, k);
    if (!found) return ma_strdup("");
    if (q->json) return json_scalar(found);
    const xmlNode *x = found;
    if (x->type == XML_ATTRIBUTE_NODE) {
        xmlChar *v = xmlNodeListGetString(x->doc, x->children, 1);
        char *s = ma_strdup(v ? (const char *)v : "");
        xmlFree(v);
        return s;
    }
    return ma_xml_text((xmlNode *)x);
}

ma_profile_path *ma_profile_path_record(const ma_profile_path *p, ma_error *err)
{
    if (!p) {
        ma_error_set(err, MA_ERR_USAGE, "ma_profile_path_record: no path");
        return NULL;
    }
    size_t n = p->n ? p->n - 1 : 0;
    if (p->ff) n = p->n > 2 ? p->n - 2 : 0; /* a flat file field's record: the line, not its group */
    while (p->json && n > 0 && (p->steps[n - 1].kind == PS_JOBJECT || p->steps[n - 1].kind == PS_JARRAY)) n--;
    ma_profile_path *r = path_new(p->json);
    if (!r) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ma_sb str;
    ma_sb_init(&str);
    for (size_t i = 0; i < n; i++) {
        if (path_add(r, p->steps[i].kind, p->steps[i].name, p->steps[i].index, err) < 0) {
            ma_sb_free(&str);
            ma_profile_path_free(r);
            return NULL;
        }
        if (p->steps[i].name) ma_sb_printf(&str, "%s%s", str.len ? "/" : "", p->steps[i].name);
    }
    if (!(r->str = ma_sb_take(&str, NULL))) {
        ma_profile_path_free(r);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return r;
}
