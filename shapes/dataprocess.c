/* dataprocess.c - the Data Process shape (boomi-atom-semantics.md 2 "Data Process",
 * boomi-process-xml.md 2 "dataprocess"): its <step>s run in order, each on the batch the previous
 * step produced. Supported: Search/Replace (1), Base64 Encode (6) / Decode (7), Split Documents (8)
 * and Combine Documents (9), and the step kinds of dataprocess_steps.c (PGP Encrypt 2 / Decrypt 3 in
 * dataprocess_pgp.c, Custom Scripting 12 in dataprocess_script.c, Zip 4 / Unzip 5 in
 * dataprocess_zip.c, Character Encode / Decode in dataprocess_charset.c); anything else is refused
 * at deploy with MA_ERR_UNSUPPORTED. A document a step cannot handle is a document error.
 * Combine reads JSON with jansson, not miniatom/json.h: it builds a new tree from the documents' trees. */

/* Decisions (Boomi's own behaviour where it is documented, otherwise written here):
 *  - processtype numbers 6 (Base64 Encode), 7 (Base64 Decode), 4 Zip and 5 Unzip come from the
 *    Boomi companion's step reference (boomi-integration references/steps/data_process_step.md).
 *    Encode writes standard base64 with padding and no line breaks; decode skips whitespace and
 *    accepts missing padding; any other character fails the document.
 *  - Search/Replace: texttofind is a Java regular expression run by miniatom/jregex.h (PCRE2,
 *    compiled once at deploy; what is translated and refused: decision 024), replacewith follows
 *    Java's replaceAll: $n and ${name} are groups, \x is a literal x. searchType "document" works
 *    on the whole document, "line" on each line (without its terminator); the default rolling
 *    window ("char_limit") is done like "document" (it only differs where Boomi misses matches
 *    that cross a window border). A match that reaches the regex limits fails the document.
 *  - Split by line (profileType ff/flatfile/line, or FFOptions splitOption="split_line"): one
 *    document per line (batchCount lines per document), lines joined with "\n" and no trailing
 *    newline, trailing empty lines dropped; headersOption "remove" drops the first line, "retain"
 *    puts it on top of every document, "none"/absent treats it as data. Split by a flat file
 *    profile: dataprocess_flatfile.c. Split by an EDI profile is refused at deploy.
 *  - Split by XML / JSON profile element: see profile.c (ancestors rebuilt around each piece);
 *    batchCount > 1 puts that many consecutive pieces into one document (the pieces combined as
 *    below). The element is resolved through the profile component when it is deployed, else from
 *    the path in linkElementName "name (A/B/C)".
 *  - Combine flat file / none: documents joined with one "\n" between them (none added after a
 *    document that already ends with a newline); flat file honours headersOption (remove: drop
 *    every document's first line; retain: keep only the first document's) and freeFormHeader /
 *    freeFormFooter lines. XML: with a link element, every link element of documents 2..n is
 *    appended next to the last link element of document 1 (parents created when document 1 has
 *    none); without one, the children of every root go under the first document's root. JSON: with
 *    a link element (an array element) the arrays holding it are concatenated into document 1's;
 *    without one, top-level arrays are concatenated and other values become items of one array.
 *    "Combine into a new profile" (combineIntoLinkElementKey other than "null"): dataprocess_combine.c.
 *    The combined document keeps the first document's properties and tracking id. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "dataprocess_combine.h"
#include "dataprocess_flatfile.h"
#include "dataprocess_step.h"
#include "miniatom/jregex.h"
#include "shapes_common.h"
#include "params.h"
#include "profile.h"
#include "util.h"

#define MAX_STEPS 64
#define MAX_PATH_NAMES 256

enum {
    PT_REPLACE = 1,
    PT_PGP_ENCRYPT = 2,
    PT_PGP_DECRYPT = 3,
    PT_ZIP = 4,
    PT_UNZIP = 5,
    PT_B64_ENCODE = 6,
    PT_B64_DECODE = 7,
    PT_SPLIT = 8,
    PT_COMBINE = 9,
    PT_SCRIPT = 12
};

typedef enum fmt { FMT_NONE = 0, FMT_LINE, FMT_XML, FMT_JSON } fmt;
typedef enum hdr { HDR_NONE = 0, HDR_REMOVE, HDR_RETAIN } hdr;

typedef struct dp_step {
    int type;
    char *label; /* "step 2 'Split Documents'" */
    /* search/replace */
    ma_jregex *re;
    ma_jregex_repl *repl;
    int by_line;
    /* split / combine */
    fmt format;
    ma_profile_path *path; /* XML/JSON link element, or NULL */
    char **names;          /* the link element's path names (owned) */
    size_t n_names;
    size_t batch;
    hdr headers;
    char *ff_header, *ff_footer;
    ma_dp_ffsplit *ffsplit;   /* split by a flat file profile (dataprocess_flatfile.c), or NULL */
    ma_dp_combine_into *into; /* combine into a new profile (dataprocess_combine.c), or NULL */
    /* a step kind from its own file (dataprocess_step.h), with its state */
    const ma_dp_step_kind *kind;
    void *state;
} dp_step;

typedef struct dp_data {
    dp_step *steps;
    size_t n;
} dp_data;

static void step_free(dp_step *s)
{
    free(s->label);
    ma_jregex_repl_free(s->repl);
    ma_jregex_free(s->re);
    ma_profile_path_free(s->path);
    for (size_t i = 0; i < s->n_names; i++) free(s->names[i]);
    free(s->names);
    free(s->ff_header);
    free(s->ff_footer);
    ma_dp_ffsplit_free(s->ffsplit);
    ma_dp_combine_into_free(s->into);
    if (s->kind && s->kind->destroy) s->kind->destroy(s->state);
}

static void dp_destroy(ma_shape *shape)
{
    dp_data *d = ma_shape_data(shape);
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) step_free(&d->steps[i]);
    free(d->steps);
    free(d);
    ma_shape_set_data(shape, NULL);
}

/* Search/Replace searchType (boomi-integration references/steps/data_process_step.md): 1 = by line;
 * char_limit runs on the whole document (docs/decisions/027-option-values.md) */
static const ma_enum search_types[] = {
    {"document", 0, 0},
    {"line", 1, 0},
    {"char_limit", 0, 0},
    {NULL, 0, 0},
};

static int compile_replace(dp_step *s, const xmlNode *cfg, ma_error *err)
{
    if (!cfg) return ma_error_set(err, MA_ERR_CONFIG, "%s: no <dataprocessreplace>", s->label);
    char *find = ma_xml_attr(cfg, "texttofind");
    char *repl = ma_xml_attr(cfg, "replacewith");
    char *type = ma_xml_attr(cfg, "searchType");
    int rc = -1;
    if (!find || !*find) {
        ma_error_set(err, MA_ERR_CONFIG, "%s: no text to find", s->label);
        goto out;
    }
    if (ma_enum_parse(search_types, "searchType", type, 0, 0, &s->by_line, err) < 0) {
        ma_error_prefix(err, "%s", s->label);
        goto out;
    }
    if (!(s->re = ma_jregex_compile(find, 0, err)) ||
        !(s->repl = ma_jregex_repl_compile(s->re, repl ? repl : "", err))) {
        ma_error_prefix(err, "%s", s->label);
        goto out;
    }
    rc = 0;
out:
    free(find);
    free(repl);
    free(type);
    return rc;
}

static ma_doc *run_replace(const dp_step *s, ma_doc *doc, char *why, size_t whylen)
{
    size_t len;
    const char *data = ma_doc_data(doc, &len);
    ma_sb b;
    ma_sb_init(&b);
    ma_error e;
    ma_error_clear(&e);
    int rc = 0;
    if (!s->by_line) {
        rc = ma_jregex_replace(s->re, s->repl, data, len, &b, MA_DOC_MAX_SIZE, &e);
    } else {
        size_t i = 0;
        while (i < len && rc == 0) {
            const char *nl = memchr(data + i, '\n', len - i);
            size_t end = nl ? (size_t)(nl - data) : len;
            size_t content = end;
            if (content > i && data[content - 1] == '\r') content--;
            rc = ma_jregex_replace(s->re, s->repl, data + i, content - i, &b, MA_DOC_MAX_SIZE - b.len, &e);
            if (rc == 0 && ma_sb_append(&b, data + content, (nl ? end + 1 : end) - content) < 0)
                rc = ma_error_set(&e, MA_ERR_NOMEM, "out of memory");
            if (rc == 0 && b.len > MA_DOC_MAX_SIZE)
                rc = ma_error_set(&e, MA_ERR_LIMIT, "the result is larger than %zu bytes", (size_t)MA_DOC_MAX_SIZE);
            i = nl ? end + 1 : len;
        }
    }
    size_t olen;
    char *o = rc < 0 ? NULL : ma_sb_take(&b, &olen);
    ma_sb_free(&b);
    if (!o) {
        snprintf(why, whylen, "%s: %.900s", s->label, rc < 0 ? e.msg : "out of memory");
        return NULL;
    }
    ma_doc *d = ma_doc_derive_owned(doc, o, olen);
    if (!d) snprintf(why, whylen, "%s: out of memory", s->label);
    return d;
}

/* ---- base64 ---------------------------------------------------------------------------------- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static ma_doc *run_b64_encode(const dp_step *s, ma_doc *doc, char *why, size_t whylen)
{
    size_t len;
    const unsigned char *in = (const unsigned char *)ma_doc_data(doc, &len);
    size_t olen = (len + 2) / 3 * 4;
    if (olen > MA_DOC_MAX_SIZE) {
        snprintf(why, whylen, "%s: the encoded document would be larger than %zu bytes", s->label,
                 (size_t)MA_DOC_MAX_SIZE);
        return NULL;
    }
    char *o = malloc(olen + 1);
    if (!o) {
        snprintf(why, whylen, "%s: out of memory", s->label);
        return NULL;
    }
    size_t j = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v =
            (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
        o[j++] = B64[(v >> 18) & 63];
        o[j++] = B64[(v >> 12) & 63];
        o[j++] = i + 1 < len ? B64[(v >> 6) & 63] : '=';
        o[j++] = i + 2 < len ? B64[v & 63] : '=';
    }
    o[j] = '\0';
    ma_doc *d = ma_doc_derive_owned(doc, o, j);
    if (!d) snprintf(why, whylen, "%s: out of memory", s->label);
    return d;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static ma_doc *run_b64_decode(const dp_step *s, ma_doc *doc, char *why, size_t whylen)
{
    size_t len;
    const unsigned char *in = (const unsigned char *)ma_doc_data(doc, &len);
    char *o = malloc(len / 4 * 3 + 4);
    if (!o) {
        snprintf(why, whylen, "%s: out of memory", s->label);
        return NULL;
    }
    size_t j = 0, quad = 0, pad = 0;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        if (c == '=') {
            if (quad < 2 || pad >= 2) goto bad;
            pad++;
            quad++;
            v <<= 6;
            if (quad == 4) goto flush;
            continue;
        }
        int x = b64val(c);
        if (x < 0 || pad) {
        bad:
            free(o);
            if (c >= 0x20 && c < 0x7f)
                snprintf(why, whylen, "%s: the document is not valid base64 (character '%c' at offset %zu)", s->label,
                         c, i);
            else
                snprintf(why, whylen, "%s: the document is not valid base64 (byte 0x%02x at offset %zu)", s->label, c,
                         i);
            return NULL;
        }
        v = v << 6 | (unsigned)x;
        quad++;
        if (quad < 4) continue;
    flush:
        o[j++] = (char)(v >> 16);
        if (pad < 2) o[j++] = (char)(v >> 8);
        if (pad < 1) o[j++] = (char)v;
        quad = 0;
        v = 0;
        if (pad) {
            /* only whitespace may follow the padding */
            for (size_t k = i + 1; k < len; k++) {
                if (in[k] != ' ' && in[k] != '\t' && in[k] != '\r' && in[k] != '\n') {
                    i = k;
                    c = in[k];
                    goto bad;
                }
            }
            break;
        }
    }
    if (quad == 1) {
        free(o);
        snprintf(why, whylen, "%s: the document is not valid base64 (truncated)", s->label);
        return NULL;
    }
    if (quad == 2 || quad == 3) { /* missing padding: accept like lenient decoders */
        v <<= 6 * (4 - quad);
        o[j++] = (char)(v >> 16);
        if (quad == 3) o[j++] = (char)(v >> 8);
    }
    o[j] = '\0';
    ma_doc *d = ma_doc_derive_owned(doc, o, j);
    if (!d) snprintf(why, whylen, "%s: out of memory", s->label);
    return d;
}

/* ---- combining ------------------------------------------------------------------------------- */

/* A document that failed a step: the message and the document as it entered the step. */
static int fail(ma_outputs *out, ma_doc *doc, const char *msg)
{
    return ma_outputs_fail(out, ma_doc_ref(doc), "%s", msg);
}

static int emit_text(ma_batch *next, ma_doc *first, ma_sb *b)
{
    size_t len;
    char *s = ma_sb_take(b, &len);
    if (!s) return -1;
    ma_doc *d = ma_doc_derive_owned(first, s, len);
    if (!d) return -1;
    return ma_batch_push(next, d);
}

static int xml_names_match(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Collects (appends to *v) every element matching names[i..] below e (which matched names[i-1]). */
typedef struct nodelist {
    xmlNode **v;
    size_t n, cap;
} nodelist;

static int nodelist_push(nodelist *l, xmlNode *x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        xmlNode **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

static int xml_collect(xmlNode *e, char **names, size_t n, size_t i, nodelist *l)
{
    if (i == n) return nodelist_push(l, e);
    for (xmlNode *c = e->children; c; c = c->next)
        if (xml_names_match(c, names[i]) && xml_collect(c, names, n, i + 1, l) < 0) return -1;
    return 0;
}

static int xml_find_links(xmlDoc *x, char **names, size_t n, nodelist *l)
{
    xmlNode *root = xmlDocGetRootElement(x);
    if (!root || !n || !xml_names_match(root, names[0])) return 0;
    return xml_collect(root, names, n, 1, l);
}

/* Parent for link elements in base: the parent of its last link element, or the path made. */
static xmlNode *xml_link_parent(xmlDoc *base, char **names, size_t n)
{
    nodelist l = {0};
    if (xml_find_links(base, names, n, &l) < 0) {
        free(l.v);
        return NULL;
    }
    if (l.n) {
        xmlNode *p = l.v[l.n - 1]->parent;
        free(l.v);
        return p;
    }
    free(l.v);
    xmlNode *cur = xmlDocGetRootElement(base);
    if (!cur) return NULL;
    for (size_t i = 1; i + 1 < n; i++) {
        xmlNode *found = NULL;
        for (xmlNode *c = cur->children; c; c = c->next)
            if (xml_names_match(c, names[i])) found = c;
        if (!found) {
            found = xmlNewDocNode(base, cur->ns, (const xmlChar *)names[i], NULL);
            if (!found || !xmlAddChild(cur, found)) {
                xmlFreeNode(found);
                return NULL;
            }
        }
        cur = found;
    }
    return cur;
}

static int xml_append_copy(xmlDoc *base, xmlNode *parent, xmlNode *src)
{
    xmlNode *clone = NULL;
    if (xmlDOMWrapCloneNode(NULL, src->doc, src, &clone, base, parent, 1, 0) != 0 || !clone) {
        if (clone) xmlFreeNode(clone);
        return -1;
    }
    if (!xmlAddChild(parent, clone)) {
        xmlFreeNode(clone);
        return -1;
    }
    return 0;
}

/* Combines docs[0..n) (XML) into one document appended to next. Documents that do not parse are
 * failed. Returns -1 only when out of memory. */
static int combine_xml(const dp_step *s, ma_doc **docs, size_t n, ma_batch *next, ma_outputs *out)
{
    xmlDoc *base = NULL;
    ma_doc *first = NULL;
    xmlNode *target = NULL;
    char msg[2 * MA_ERROR_MAX + 256];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len;
        const char *data = ma_doc_data(docs[i], &len);
        ma_error err = {0};
        xmlDoc *x = ma_xml_parse(data, len, "document", &err);
        if (!x || !xmlDocGetRootElement(x)) {
            snprintf(msg, sizeof msg, "%s: %s", s->label, x ? "the document has no root element" : err.msg);
            if (x) xmlFreeDoc(x);
            rc = fail(out, docs[i], msg);
            continue;
        }
        if (!base) {
            base = x;
            first = docs[i];
            if (s->n_names) {
                if (!xml_names_match(xmlDocGetRootElement(base), s->names[0])) {
                    snprintf(msg, sizeof msg, "%s: the document's root <%s> is not <%s> of the link element %s",
                             s->label, (const char *)xmlDocGetRootElement(base)->name, s->names[0],
                             ma_profile_path_str(s->path));
                    xmlFreeDoc(base);
                    base = NULL;
                    rc = fail(out, docs[i], msg);
                    continue;
                }
                if (!(target = xml_link_parent(base, s->names, s->n_names))) rc = -1;
            } else {
                target = xmlDocGetRootElement(base);
            }
            continue;
        }
        if (s->n_names) {
            nodelist l = {0};
            if (xml_find_links(x, s->names, s->n_names, &l) < 0) rc = -1;
            for (size_t k = 0; k < l.n && rc == 0; k++)
                if (xml_append_copy(base, target, l.v[k]) < 0) rc = -1;
            free(l.v);
        } else {
            for (xmlNode *c = xmlDocGetRootElement(x)->children; c && rc == 0; c = c->next)
                if (c->type == XML_ELEMENT_NODE && xml_append_copy(base, target, c) < 0) rc = -1;
        }
        xmlFreeDoc(x);
    }
    if (rc == 0 && base) {
        xmlChar *mem = NULL;
        int size = 0;
        xmlDocDumpFormatMemoryEnc(base, &mem, &size, "UTF-8", 0);
        if (!mem) rc = -1;
        else {
            ma_sb b;
            ma_sb_init(&b);
            ma_sb_append(&b, (const char *)mem, (size_t)size);
            xmlFree(mem);
            if (emit_text(next, first, &b) < 0) rc = -1;
        }
    }
    if (base) xmlFreeDoc(base);
    return rc;
}

/* JSON: the array that holds the link element (names end with the ArrayElement name). */
static json_t *json_link_array(json_t *v, char **names, size_t n)
{
    /* names[0] is the root; the last names the array element itself */
    const char *prev = NULL;
    for (size_t i = 1; v && i + 1 < n; i++) {
        const char *nm = names[i];
        json_t *x = json_is_object(v) ? json_object_get(v, nm) : NULL;
        if (x) {
            v = x;
            prev = nm;
        } else if (strcmp(nm, "Object") == 0) {
            if (!json_is_object(v)) return NULL;
        } else if (strcmp(nm, "Array") == 0 || (prev && strcmp(nm, prev) == 0)) {
            if (!json_is_array(v)) return NULL;
            prev = NULL;
        } else if (strncmp(nm, "ArrayElement", 12) == 0 && json_is_array(v)) {
            v = json_array_size(v) ? json_array_get(v, 0) : NULL; /* an array further up: its first item */
        } else {
            return NULL;
        }
    }
    return json_is_array(v) ? v : NULL;
}

static int combine_json(const dp_step *s, ma_doc **docs, size_t n, ma_batch *next, ma_outputs *out)
{
    json_t *result = NULL; /* owned */
    json_t *arr = NULL;    /* borrowed from result: where items go */
    ma_doc *first = NULL;
    char msg[2 * MA_ERROR_MAX + 256];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len;
        const char *data = ma_doc_data(docs[i], &len);
        json_error_t je;
        json_t *v = json_loadb(data, len, JSON_DECODE_ANY, &je);
        if (!v) {
            snprintf(msg, sizeof msg, "%s: the document is not well-formed JSON: line %d column %d: %s", s->label,
                     je.line, je.column, je.text);
            rc = fail(out, docs[i], msg);
            continue;
        }
        if (s->n_names) {
            json_t *a = json_link_array(v, s->names, s->n_names);
            if (!result) {
                if (!a) {
                    snprintf(msg, sizeof msg, "%s: the document has no array %s", s->label,
                             ma_profile_path_str(s->path));
                    json_decref(v);
                    rc = fail(out, docs[i], msg);
                    continue;
                }
                result = v;
                arr = a;
                first = docs[i];
                continue;
            }
            for (size_t k = 0; a && k < json_array_size(a) && rc == 0; k++)
                if (json_array_append(arr, json_array_get(a, k)) < 0) rc = -1;
            json_decref(v);
            continue;
        }
        if (!result) {
            if (!(result = arr = json_array())) {
                json_decref(v);
                rc = -1;
                break;
            }
            first = docs[i];
        }
        if (json_is_array(v)) {
            if (json_array_extend(arr, v) < 0) rc = -1;
        } else if (json_array_append(arr, v) < 0) {
            rc = -1;
        }
        json_decref(v);
    }
    if (rc == 0 && result) {
        ma_sb b;
        ma_sb_init(&b);
        ma_sb_json_value(&b, result);
        if (emit_text(next, first, &b) < 0) rc = -1;
    }
    json_decref(result);
    return rc;
}

/* Length of the first line (without its terminator) and of the line with its terminator. */
static size_t first_line(const char *d, size_t len, size_t *with_nl)
{
    const char *nl = memchr(d, '\n', len);
    size_t end = nl ? (size_t)(nl - d) : len;
    *with_nl = nl ? end + 1 : len;
    if (end && d[end - 1] == '\r') end--;
    return end;
}

static int combine_text(const dp_step *s, ma_doc **docs, size_t n, ma_batch *next)
{
    if (!n) return 0;
    ma_sb b;
    ma_sb_init(&b);
    if (s->ff_header && *s->ff_header) {
        ma_sb_puts(&b, s->ff_header);
        ma_sb_putc(&b, '\n');
    }
    for (size_t i = 0; i < n; i++) {
        size_t len, skip = 0;
        const char *d = ma_doc_data(docs[i], &len);
        if (s->headers == HDR_REMOVE || (s->headers == HDR_RETAIN && i > 0)) first_line(d, len, &skip);
        if (b.len && b.s[b.len - 1] != '\n' && len > skip) ma_sb_putc(&b, '\n');
        ma_sb_append(&b, d + skip, len - skip);
        if (b.len > MA_DOC_MAX_SIZE) {
            ma_sb_free(&b);
            return -2;
        }
    }
    if (s->ff_footer && *s->ff_footer) {
        if (b.len && b.s[b.len - 1] != '\n') ma_sb_putc(&b, '\n');
        ma_sb_puts(&b, s->ff_footer);
    }
    return emit_text(next, docs[0], &b);
}

static int run_combine(const dp_step *s, ma_batch *cur, ma_batch *next, ma_outputs *out, ma_error *err)
{
    int rc;
    if (s->into) return ma_dp_combine_into_run(s->into, cur, next, out, err);
    if (s->format == FMT_XML) rc = combine_xml(s, cur->docs, cur->len, next, out);
    else if (s->format == FMT_JSON) rc = combine_json(s, cur->docs, cur->len, next, out);
    else {
        rc = combine_text(s, cur->docs, cur->len, next);
        if (rc == -2) {
            for (size_t i = 0; i < cur->len; i++)
                if (ma_outputs_fail(out, ma_doc_ref(cur->docs[i]),
                                    "%s: the combined document would be larger than %zu bytes", s->label,
                                    (size_t)MA_DOC_MAX_SIZE) < 0)
                    return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            return 0;
        }
    }
    return rc < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
}

/* ---- splitting ------------------------------------------------------------------------------- */

static int split_lines(const dp_step *s, ma_doc *doc, ma_batch *next)
{
    size_t len;
    const char *d = ma_doc_data(doc, &len);
    /* trailing empty lines are not records */
    while (len && (d[len - 1] == '\n' || d[len - 1] == '\r')) len--;
    if (!len) return 0;
    size_t pos = 0, hlen = 0;
    const char *header = NULL;
    if (s->headers != HDR_NONE) {
        size_t with;
        hlen = first_line(d, len, &with);
        header = d;
        pos = with;
    }
    size_t per = s->batch ? s->batch : 1;
    ma_sb b;
    ma_sb_init(&b);
    size_t in_doc = 0;
    while (pos < len) {
        size_t with;
        size_t l = first_line(d + pos, len - pos, &with);
        if (!in_doc && header && s->headers == HDR_RETAIN) {
            ma_sb_append(&b, header, hlen);
            ma_sb_putc(&b, '\n');
        }
        if (in_doc) ma_sb_putc(&b, '\n');
        ma_sb_append(&b, d + pos, l);
        pos += with;
        if (++in_doc == per || pos >= len) {
            if (emit_text(next, doc, &b) < 0) {
                ma_sb_free(&b);
                return -1;
            }
            ma_sb_init(&b);
            in_doc = 0;
        }
    }
    ma_sb_free(&b);
    return 0;
}

static int run_split(const dp_step *s, ma_batch *cur, ma_batch *next, ma_outputs *out, ma_error *err)
{
    char msg[2 * MA_ERROR_MAX + 256];
    if (s->ffsplit) return ma_dp_ffsplit_run(s->ffsplit, cur, next, out, err);
    for (size_t i = 0; i < cur->len; i++) {
        ma_doc *doc = cur->docs[i];
        if (s->format == FMT_LINE) {
            if (split_lines(s, doc, next) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        ma_batch pieces;
        ma_batch_init(&pieces);
        ma_error e = {0};
        if (ma_profile_path_split(s->path, doc, &pieces, &e) < 0) {
            if (e.code == MA_ERR_NOMEM) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            snprintf(msg, sizeof msg, "%s: cannot split by %s: %s", s->label, ma_profile_path_str(s->path), e.msg);
            if (fail(out, doc, msg) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        if (s->batch <= 1) {
            if (ma_batch_move(next, &pieces) < 0) {
                ma_batch_clear(&pieces);
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            }
            continue;
        }
        int rc = 0;
        for (size_t k = 0; k < pieces.len && rc == 0; k += s->batch) {
            size_t cnt = pieces.len - k < s->batch ? pieces.len - k : s->batch;
            rc = s->format == FMT_XML ? combine_xml(s, pieces.docs + k, cnt, next, out)
                                      : combine_json(s, pieces.docs + k, cnt, next, out);
        }
        ma_batch_clear(&pieces);
        if (rc < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* ---- compile --------------------------------------------------------------------------------- */

static hdr parse_headers(const xmlNode *n)
{
    char *h = ma_xml_attr(n, "headersOption");
    hdr r = ma_streq(h, "remove") ? HDR_REMOVE : ma_streq(h, "retain") ? HDR_RETAIN : HDR_NONE;
    free(h);
    return r;
}

static int parse_batch(dp_step *s, const xmlNode *n, ma_error *err)
{
    char *b = ma_xml_attr(n, "batchCount");
    s->batch = 0;
    if (b && *b) {
        char *end;
        long v = strtol(b, &end, 10);
        if (*end || v < 0 || v > 1000000000L) {
            ma_error_set(err, MA_ERR_CONFIG, "%s: invalid batchCount '%s'", s->label, b);
            free(b);
            return -1;
        }
        s->batch = (size_t)v;
    }
    free(b);
    return 0;
}

/* Resolves the link element of XMLOptions / JSONOptions into s->path and s->names. */
static int compile_link(ma_shape *shape, dp_step *s, const xmlNode *opt, int json, int required, ma_error *err)
{
    char *key = ma_xml_attr(opt, "linkElementKey");
    char *name = ma_xml_attr(opt, "linkElementName");
    char *pid = ma_xml_attr(opt, "profileId");
    int rc = 0;
    if ((!key || !*key || ma_streq(key, "null")) && (!name || !*name)) {
        if (required) rc = ma_error_set(err, MA_ERR_CONFIG, "%s: no link element is selected", s->label);
        goto out;
    }
    s->path = ma_param_profile_path(shape, pid, json ? "profile.json" : "profile.xml", key, name, err);
    if (!s->path) {
        ma_error_prefix(err, "%s", s->label);
        rc = -1;
        goto out;
    }
    if (ma_profile_path_is_json(s->path) != json) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: profile %s is not a%s profile", s->label, pid ? pid : "",
                          json ? " JSON" : "n XML");
        goto out;
    }
    const char *str = ma_profile_path_str(s->path);
    s->names = calloc(MAX_PATH_NAMES, sizeof *s->names);
    if (!s->names) {
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (const char *p = str; *p;) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (s->n_names >= MAX_PATH_NAMES) {
            rc = ma_error_set(err, MA_ERR_LIMIT, "%s: link element path too deep", s->label);
            goto out;
        }
        if (!(s->names[s->n_names++] = ma_strndup(p, l))) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto out;
        }
        p += l + (e ? 1 : 0);
    }
out:
    free(key);
    free(name);
    free(pid);
    return rc;
}

/* Split / Combine profileType (boomi-process-xml.md 2 "dataprocess"; data_process_step.md): "flatfile"
 * and "xml" are in the corpus; "edi" is Boomi's and refused */
static const ma_enum formats[] = {
    {"none", FMT_NONE, 0},
    {"xml", FMT_XML, 0},
    {"json", FMT_JSON, 0},
    {"flatfile", FMT_LINE, 0},
    {"ff", FMT_LINE, MA_ENUM_OLD},
    {"line", FMT_LINE, MA_ENUM_OLD},
    {"edi", -1, MA_ENUM_UNSUPPORTED},
    {NULL, 0, 0},
};

static fmt parse_format(const char *t)
{
    int f = -1;
    return ma_enum_parse(formats, "profileType", t, FMT_NONE, 0, &f, NULL) < 0 ? (fmt)-1 : (fmt)f;
}

/* The message for a profileType parse_format refused. */
static int format_error(const dp_step *s, const char *t, ma_error *err)
{
    int f;
    ma_enum_parse(formats, "profileType", t, FMT_NONE, 0, &f, err);
    ma_error_prefix(err, "%s", s->label);
    return -1;
}

static int compile_split(ma_shape *shape, dp_step *s, const xmlNode *cfg, ma_error *err)
{
    if (!cfg) return ma_error_set(err, MA_ERR_CONFIG, "%s: no <documentsplit>", s->label);
    char *t = ma_xml_attr(cfg, "profileType");
    fmt f = parse_format(t);
    const xmlNode *opts = ma_xml_child(cfg, "SplitOptions");
    int rc = 0;
    if (ma_streq(t, "edi")) {
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                          "%s: splitting by an EDI profile is not supported (XML, JSON and by line are)", s->label);
    } else if (f == FMT_XML || f == FMT_JSON) {
        const xmlNode *o = ma_xml_child(opts, f == FMT_XML ? "XMLOptions" : "JSONOptions");
        s->format = f;
        if (!o)
            rc = ma_error_set(err, MA_ERR_CONFIG, "%s: no <%s>", s->label, f == FMT_XML ? "XMLOptions" : "JSONOptions");
        else if (parse_batch(s, o, err) < 0 || compile_link(shape, s, o, f == FMT_JSON, 1, err) < 0) rc = -1;
    } else if (f == FMT_LINE || f == FMT_NONE) {
        const xmlNode *o = ma_xml_child(opts, "FFOptions");
        s->format = FMT_LINE;
        char *so = ma_xml_attr(o, "splitOption");
        char *lk = ma_xml_attr(o, "linkElementKey");
        if (ma_streq(so, "split_profile") || (!so && lk && *lk)) {
            if (!(s->ffsplit = ma_dp_ffsplit_compile(shape, o, s->label, err))) rc = -1;
        } else if (o) {
            s->headers = parse_headers(o);
            rc = parse_batch(s, o, err);
        }
        free(so);
        free(lk);
    } else {
        rc = format_error(s, t, err);
    }
    free(t);
    return rc;
}

static int compile_combine(ma_shape *shape, dp_step *s, const xmlNode *cfg, ma_error *err)
{
    if (!cfg) return ma_error_set(err, MA_ERR_CONFIG, "%s: no <dataprocesscombine>", s->label);
    char *t = ma_xml_attr(cfg, "profileType");
    fmt f = parse_format(t);
    int rc = 0;
    if (f == FMT_XML || f == FMT_JSON) {
        s->format = f;
        const xmlNode *o = ma_xml_child(cfg, f == FMT_XML ? "XMLOptions" : "JSONOptions");
        char *into = ma_xml_attr(o, "combineIntoLinkElementKey");
        char *lk = ma_xml_attr(o, "linkElementKey");
        if (into && *into && !ma_streq(into, "null") && !ma_streq(into, lk)) {
            if (!(s->into = ma_dp_combine_into_compile(shape, o, f == FMT_JSON, s->label, err))) rc = -1;
        } else if (o) {
            rc = compile_link(shape, s, o, f == FMT_JSON, 0, err);
        }
        free(into);
        free(lk);
    } else if (f == FMT_LINE || f == FMT_NONE) {
        s->format = f;
        const xmlNode *o = ma_xml_child(cfg, "FFOptions");
        if (o && f == FMT_LINE) {
            s->headers = parse_headers(o);
            s->ff_header = ma_xml_attr(o, "freeFormHeader");
            s->ff_footer = ma_xml_attr(o, "freeFormFooter");
        }
    } else {
        rc = format_error(s, t, err);
    }
    free(t);
    return rc;
}

/* The kind of processtype type, else one Boomi's documentation gives no number for whose name is
 * the step's name (dataprocess_step.h). */
static const ma_dp_step_kind *find_kind(int type, const char *name)
{
    for (size_t i = 0; ma_dp_step_kinds[i]; i++)
        if (ma_dp_step_kinds[i]->processtype >= 0 && ma_dp_step_kinds[i]->processtype == type)
            return ma_dp_step_kinds[i];
    for (size_t i = 0; name && ma_dp_step_kinds[i]; i++)
        if (ma_dp_step_kinds[i]->processtype < 0 && strcasecmp(ma_dp_step_kinds[i]->name, name) == 0)
            return ma_dp_step_kinds[i];
    return NULL;
}

static const char *known_name(int type)
{
    const ma_dp_step_kind *k = find_kind(type, NULL);
    if (k) return k->name;
    switch (type) {
    case PT_REPLACE: return "Search/Replace";
    case PT_PGP_ENCRYPT: return "PGP Encrypt";
    case PT_PGP_DECRYPT: return "PGP Decrypt";
    case PT_ZIP: return "Zip";
    case PT_UNZIP: return "Unzip";
    case PT_B64_ENCODE: return "Base64 Encode";
    case PT_B64_DECODE: return "Base64 Decode";
    case PT_SPLIT: return "Split Documents";
    case PT_COMBINE: return "Combine Documents";
    case PT_SCRIPT: return "Custom Scripting";
    default: return NULL;
    }
}

static int compile_step(ma_shape *shape, dp_step *s, const xmlNode *st, size_t pos, ma_error *err)
{
    char *idx = ma_xml_attr(st, "index");
    char *name = ma_xml_attr(st, "name");
    char *pt = ma_xml_attr(st, "processtype");
    char *end = NULL;
    long type = pt ? strtol(pt, &end, 10) : -1;
    if (!pt || !*pt || *end) type = -1;
    s->type = (int)type;
    const char *nm = name && *name ? name : known_name(s->type) ? known_name(s->type) : "?";
    if (idx && *idx) s->label = ma_asprintf("step %s '%s'", idx, nm);
    else s->label = ma_asprintf("step %zu '%s'", pos + 1, nm);
    int rc = 0;
    if (!s->label) {
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    const xmlNode *cfg = ma_xml_child(st, NULL);
    /* a number this file runs is never taken for a step recognized by name */
    int own = s->type == PT_REPLACE || s->type == PT_B64_ENCODE || s->type == PT_B64_DECODE || s->type == PT_SPLIT ||
              s->type == PT_COMBINE;
    if ((s->kind = find_kind(s->type, own ? NULL : name)) != NULL) {
        rc = s->kind->compile(shape, st, s->label, &s->state, err);
        if (rc < 0) s->kind = NULL; /* nothing to destroy */
        goto out;
    }
    switch (s->type) {
    case PT_REPLACE: rc = compile_replace(s, ma_xml_child(st, "dataprocessreplace"), err); break;
    case PT_B64_ENCODE:
    case PT_B64_DECODE: break;
    case PT_SPLIT: rc = compile_split(shape, s, ma_xml_child(st, "documentsplit"), err); break;
    case PT_COMBINE: rc = compile_combine(shape, s, ma_xml_child(st, "dataprocesscombine"), err); break;
    default:
        if (type < 0) rc = ma_error_set(err, MA_ERR_CONFIG, "%s: no valid processtype ('%s')", s->label, pt ? pt : "");
        else
            rc = ma_error_set(err, MA_ERR_UNSUPPORTED, "%s (processtype %ld): not supported by mini-Atom%s%s%s",
                              s->label, type, cfg ? " (<" : "", cfg ? (const char *)cfg->name : "", cfg ? ">)" : "");
        break;
    }
out:
    free(idx);
    free(name);
    free(pt);
    return rc;
}

static int dp_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "dataprocess"))
        return ma_error_set(err, MA_ERR_CONFIG, "the data process shape has no <dataprocess>");
    dp_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (xmlNode *st = ma_xml_child(c, "step"); st; st = ma_xml_next(st, "step")) n++;
    if (n > MAX_STEPS) {
        free(d);
        return ma_error_set(err, MA_ERR_LIMIT, "the data process shape has %zu steps (at most %d)", n, MAX_STEPS);
    }
    if (n && !(d->steps = calloc(n, sizeof *d->steps))) {
        free(d);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    ma_shape_set_data(shape, d);
    for (xmlNode *st = ma_xml_child(c, "step"); st; st = ma_xml_next(st, "step")) {
        /* counted before compiling so that destroy frees a half-compiled step */
        dp_step *s = &d->steps[d->n++];
        if (compile_step(shape, s, st, d->n - 1, err) < 0) {
            dp_destroy(shape);
            return -1;
        }
    }
    if (ma_shape_declare_output(shape, NULL, err) < 0) {
        dp_destroy(shape);
        return -1;
    }
    return 0;
}

/* ---- execute --------------------------------------------------------------------------------- */

static int dp_execute(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_outputs *out, ma_error *err)
{
    dp_data *d = ma_shape_data(shape);
    ma_batch cur, next;
    ma_batch_init(&cur);
    ma_batch_init(&next);
    for (size_t i = 0; i < in->len; i++)
        if (ma_batch_push(&cur, ma_doc_ref(in->docs[i])) < 0) {
            ma_batch_clear(&cur);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    int rc = 0;
    char why[MA_ERROR_MAX];
    for (size_t k = 0; k < d->n && rc == 0 && cur.len; k++) {
        const dp_step *s = &d->steps[k];
        if (s->kind) {
            rc = s->kind->run(ex, shape, s->state, &cur, &next, out, err);
            ma_batch_clear(&cur);
            cur = next;
            ma_batch_init(&next);
            continue;
        }
        switch (s->type) {
        case PT_SPLIT: rc = run_split(s, &cur, &next, out, err); break;
        case PT_COMBINE: rc = run_combine(s, &cur, &next, out, err); break;
        default:
            for (size_t i = 0; i < cur.len && rc == 0; i++) {
                ma_doc *doc = cur.docs[i], *res = NULL;
                why[0] = '\0';
                if (s->type == PT_REPLACE) res = run_replace(s, doc, why, sizeof why);
                else if (s->type == PT_B64_ENCODE) res = run_b64_encode(s, doc, why, sizeof why);
                else res = run_b64_decode(s, doc, why, sizeof why);
                if (res) rc = ma_batch_push(&next, res) < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
                else if (fail(out, doc, why) < 0) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            }
            break;
        }
        ma_batch_clear(&cur);
        cur = next;
        ma_batch_init(&next);
    }
    for (size_t i = 0; i < cur.len && rc == 0; i++) {
        if (ma_outputs_emit(out, 0, cur.docs[i]) < 0) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        cur.docs[i] = NULL;
    }
    for (size_t i = 0; i < cur.len; i++) ma_doc_unref(cur.docs[i]);
    cur.len = 0;
    ma_batch_clear(&cur);
    ma_batch_clear(&next);
    return rc;
}

const ma_shape_type ma_shape_dataprocess = {
    .name = "dataprocess",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = dp_compile,
    .execute = dp_execute,
    .destroy = dp_destroy,
};
