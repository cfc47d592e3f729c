/* doccache.c - Add to Cache (doccacheload), Retrieve From Cache (doccacheretrieve) and Remove From
 * Cache (doccacheremove) (boomi-atom-semantics.md 2 "Add to Cache / Retrieve From Cache"): a
 * documentcache component defines indexes of keys (profile elements or document properties); the
 * cache lives for one execution, shared by its subprocesses and threads (ma_exec_slot). The
 * Document Cache Lookup parameter value (doccache.h) reads the same cache. */

/* Decisions:
 *  - Add: every document is indexed by every index; an empty key value fails that document
 *    ("document cache '<name>': key '<key>' is empty") and it is not cached. Documents then pass
 *    on to the single output (Boomi's Add to Cache is normally a path end; the Boomi companion
 *    reference says it even drops documents when connected - here they continue).
 *  - Retrieve, loadAllDoc="true": every cached document, in the order it was added, replaces the
 *    batch (once per batch). Retrieving all needs enforceSingleLucene="true", as in Boomi (checked
 *    at deploy). With an empty cache, emptyCacheBehavior="stopprocess" ends the path quietly
 *    ("Stop document execution", Boomi's recommended choice: no error); any other value
 *    ("returnerror", Boomi's default when the attribute is absent) fails the incoming documents
 *    with "no documents found in cache": document errors, not a process-level error, as Boomi
 *    describes it ("Fail document with errors").
 *  - Retrieve by index (docCacheIndex = an indexId, else the index the given keys belong to):
 *    <cacheKeyValues><cacheKeyValue cacheKeyId="N"><parametervalue .../></cacheKeyValue>... are
 *    evaluated per incoming document; the cached documents whose keys equal them are emitted
 *    (their data and properties replace the current document). No match emits nothing for that
 *    document (Boomi applies emptyCacheBehavior to All Documents only).
 *  - Remove: removeAllDocuments="true" empties the cache once per batch; otherwise the documents
 *    matching the key values computed per incoming document are removed. Documents pass through. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "shapes_common.h"
#include "component.h"
#include "doccache.h"
#include "executor.h"
#include "params.h"
#include "profile.h"
#include "util.h"

#define MAX_INDEXES 64
#define MAX_KEYS 64
#define MAX_ENTRIES ((size_t)1 << 24)
#define KEY_SEP '\x1f'

/* ---- the compiled documentcache component ---- */

typedef struct dc_key {
    char *id;              /* cacheKey id */
    char *name;            /* for messages */
    ma_profile_path *path; /* profile element key, or NULL */
    char *prop;            /* document property key (DocumentPropertyKeyConfig), or NULL */
    char *def;             /* its default value */
} dc_key;

typedef struct dc_index {
    char *id, *name;
    dc_key *keys;
    size_t n_keys;
} dc_index;

typedef struct dc_def {
    char *id, *name, *slot;
    char *profile, *ptype; /* the cached documents' profile (id and type) */
    int single;            /* enforceSingleLucene */
    dc_index *idx;
    size_t n_idx;
} dc_def;

static void def_free(dc_def *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n_idx; i++) {
        dc_index *x = &d->idx[i];
        for (size_t k = 0; k < x->n_keys; k++) {
            free(x->keys[k].id);
            free(x->keys[k].name);
            ma_profile_path_free(x->keys[k].path);
            free(x->keys[k].prop);
            free(x->keys[k].def);
        }
        free(x->keys);
        free(x->id);
        free(x->name);
    }
    free(d->idx);
    free(d->id);
    free(d->name);
    free(d->slot);
    free(d->profile);
    free(d->ptype);
    free(d);
}

/* xsi:type (or any attribute) by local name, whatever its namespace. */
static char *attr_any_ns(const xmlNode *n, const char *local)
{
    for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next) {
        if (a->name && strcmp((const char *)a->name, local) == 0) {
            xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
            char *s = ma_strdup(v ? (const char *)v : "");
            xmlFree(v);
            return s;
        }
    }
    return NULL;
}

static int compile_key(ma_shape *shape, dc_def *d, dc_key *k, const xmlNode *kn, const char *profile,
                       const char *profile_type, ma_error *err)
{
    k->id = ma_xml_attr(kn, "id");
    char *alias = ma_xml_attr(kn, "alias");
    char *name = ma_xml_attr(kn, "name");
    char *pname = ma_xml_attr(kn, "propertyName");
    char *elem = ma_xml_attr(kn, "elementKey");
    char *prop = ma_xml_attr(kn, "propertyId");
    char *xtype = attr_any_ns(kn, "type");
    int rc = 0;
    const char *shown = alias && *alias ? alias : name && *name ? name : pname && *pname ? pname : k->id ? k->id : "?";
    if (!(k->name = ma_strdup(shown)) || !k->id) {
        rc = k->name ? ma_error_set(err, MA_ERR_CONFIG, "document cache '%s': a cache key has no id", d->name)
                     : ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (ma_streq(xtype, "UserDefKeyConfig")) {
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                          "document cache '%s': key '%s' is user defined, which Boomi does not run either", d->name,
                          k->name);
    } else if (prop && *prop) {
        k->prop = prop;
        prop = NULL;
        k->def = ma_xml_attr(kn, "defaultValue");
    } else if (elem && *elem) {
        k->path = ma_param_profile_path(shape, profile, profile_type, elem, name, err);
        if (!k->path) {
            ma_error_prefix(err, "document cache '%s' (%s): key '%s'", d->name, d->id, k->name);
            rc = -1;
        }
    } else {
        rc = ma_error_set(err, MA_ERR_CONFIG,
                          "document cache '%s': key '%s' names neither a profile element nor a property", d->name,
                          k->name);
    }
out:
    free(alias);
    free(name);
    free(pname);
    free(elem);
    free(prop);
    free(xtype);
    return rc;
}

/* Resolves the documentcache component id into a compiled definition. */
static dc_def *def_compile(ma_shape *shape, const char *id, ma_error *err)
{
    ma_component *c = ma_deploy_ref(ma_shape_deploy(shape), id, "documentcache", "document cache", err);
    if (!c) return NULL;
    const xmlNode *root = c->object;
    if (!ma_xml_is(root, "DocumentCache")) {
        ma_error_set(err, MA_ERR_CONFIG, "document cache '%s' (%s) has no <DocumentCache>", c->name, c->id);
        return NULL;
    }
    dc_def *d = calloc(1, sizeof *d);
    if (!d || !(d->id = ma_strdup(c->id)) || !(d->name = ma_strdup(c->name)) ||
        !(d->slot = ma_asprintf("doccache:%s", c->id))) {
        def_free(d);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->single = ma_xml_attr_is(root, "enforceSingleLucene", "true");
    char *profile = ma_xml_attr(root, "profile");
    char *ptype = ma_xml_attr(root, "profileType");
    size_t n = 0;
    for (xmlNode *x = ma_xml_child(root, "CacheIndex"); x; x = ma_xml_next(x, "CacheIndex")) n++;
    int rc = 0;
    if (!n) rc = ma_error_set(err, MA_ERR_CONFIG, "document cache '%s' (%s) has no index", d->name, d->id);
    else if (n > MAX_INDEXES)
        rc = ma_error_set(err, MA_ERR_LIMIT, "document cache '%s' has more than %d indexes", d->name, MAX_INDEXES);
    else if (!(d->idx = calloc(n, sizeof *d->idx))) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (xmlNode *x = ma_xml_child(root, "CacheIndex"); x && rc == 0; x = ma_xml_next(x, "CacheIndex")) {
        dc_index *ix = &d->idx[d->n_idx++];
        ix->id = ma_xml_attr(x, "indexId");
        ix->name = ma_xml_attr(x, "indexName");
        size_t nk = 0;
        for (xmlNode *k = ma_xml_child(x, "cacheKey"); k; k = ma_xml_next(k, "cacheKey")) nk++;
        if (!nk) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "document cache '%s': index '%s' has no key", d->name,
                              ix->name ? ix->name : "");
            break;
        }
        if (nk > MAX_KEYS) {
            rc = ma_error_set(err, MA_ERR_LIMIT, "document cache '%s': index has more than %d keys", d->name, MAX_KEYS);
            break;
        }
        if (!(ix->keys = calloc(nk, sizeof *ix->keys))) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            break;
        }
        for (xmlNode *k = ma_xml_child(x, "cacheKey"); k && rc == 0; k = ma_xml_next(k, "cacheKey"))
            rc = compile_key(shape, d, &ix->keys[ix->n_keys++], k, profile, ptype, err);
    }
    d->profile = profile;
    d->ptype = ptype;
    if (rc < 0) {
        def_free(d);
        return NULL;
    }
    return d;
}

/* ---- the cache of one execution ---- */

typedef struct dc_entry {
    ma_doc *doc;  /* owned reference; NULL once removed */
    char **vals;  /* owned: joined key values, one per index */
    size_t *next; /* hash chain per index (entry index + 1, 0 = end) */
} dc_entry;

typedef struct dc_cache {
    size_t n_idx;
    dc_entry *e;
    size_t n, cap, live;
    size_t *heads; /* n_idx * nb: entry index + 1 */
    size_t nb;
} dc_cache;

static void *cache_create(void) { return calloc(1, sizeof(dc_cache)); }

static void entry_free(dc_cache *c, dc_entry *e)
{
    ma_doc_unref(e->doc);
    e->doc = NULL;
    if (e->vals)
        for (size_t i = 0; i < c->n_idx; i++) free(e->vals[i]);
    free(e->vals);
    free(e->next);
    e->vals = NULL;
    e->next = NULL;
}

static void cache_clear(dc_cache *c)
{
    for (size_t i = 0; i < c->n; i++) entry_free(c, &c->e[i]);
    free(c->e);
    free(c->heads);
    c->e = NULL;
    c->heads = NULL;
    c->n = c->cap = c->live = c->nb = 0;
}

static void cache_destroy(void *p)
{
    dc_cache *c = p;
    if (!c) return;
    cache_clear(c);
    free(c);
}

static size_t hash_val(size_t index, const char *v)
{
    uint64_t h = 1469598103934665603ULL ^ index;
    for (; *v; v++) h = (h ^ (unsigned char)*v) * 1099511628211ULL;
    return (size_t)h;
}

static int cache_rehash(dc_cache *c, size_t nb)
{
    size_t *heads = calloc(nb * c->n_idx, sizeof *heads);
    if (!heads) return -1;
    free(c->heads);
    c->heads = heads;
    c->nb = nb;
    for (size_t k = 0; k < c->n; k++) {
        dc_entry *e = &c->e[k];
        if (!e->doc) continue;
        for (size_t i = 0; i < c->n_idx; i++) {
            size_t b = i * nb + hash_val(i, e->vals[i]) % nb;
            e->next[i] = heads[b];
            heads[b] = k + 1;
        }
    }
    return 0;
}

/* Adds doc with its key values (taken over) under the lock. */
static int cache_add(dc_cache *c, ma_doc *doc, char **vals)
{
    if (c->n >= MAX_ENTRIES) return -2;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        dc_entry *ne = realloc(c->e, cap * sizeof *ne);
        if (!ne) return -1;
        c->e = ne;
        c->cap = cap;
    }
    size_t *next = calloc(c->n_idx ? c->n_idx : 1, sizeof *next);
    if (!next) return -1;
    dc_entry *e = &c->e[c->n++];
    e->doc = ma_doc_ref(doc);
    e->vals = vals;
    e->next = next;
    c->live++;
    if (c->n > c->nb * 2) {
        if (cache_rehash(c, c->nb ? c->nb * 4 : 256) < 0) {
            /* keep the entry out of the tables; undo */
            c->n--;
            c->live--;
            ma_doc_unref(e->doc);
            free(next);
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < c->n_idx; i++) {
        size_t b = i * c->nb + hash_val(i, vals[i]) % c->nb;
        next[i] = c->heads[b];
        c->heads[b] = c->n;
    }
    return 0;
}

/* Entries of index i whose value is v, in insertion order, into *out (entry indexes). */
static size_t *cache_find(dc_cache *c, size_t i, const char *v, size_t *n)
{
    *n = 0;
    if (!c->nb || i >= c->n_idx) return NULL;
    size_t cnt = 0;
    for (size_t k = c->heads[i * c->nb + hash_val(i, v) % c->nb]; k; k = c->e[k - 1].next[i])
        if (c->e[k - 1].doc && strcmp(c->e[k - 1].vals[i], v) == 0) cnt++;
    if (!cnt) return NULL;
    size_t *r = malloc(cnt * sizeof *r);
    if (!r) return NULL;
    for (size_t k = c->heads[i * c->nb + hash_val(i, v) % c->nb]; k; k = c->e[k - 1].next[i])
        if (c->e[k - 1].doc && strcmp(c->e[k - 1].vals[i], v) == 0) r[(*n)++] = k - 1;
    /* chains are newest first */
    for (size_t a = 0, b = *n - 1; a < b; a++, b--) {
        size_t t = r[a];
        r[a] = r[b];
        r[b] = t;
    }
    return r;
}

static dc_cache *cache_get(ma_exec *ex, const dc_def *d)
{
    dc_cache *c = ma_exec_slot(ex, d->slot, cache_create, cache_destroy);
    if (!c) return NULL;
    ma_exec_lock(ex);
    if (!c->n_idx) c->n_idx = d->n_idx;
    ma_exec_unlock(ex);
    return c;
}

/* ---- key values ---- */

static int join_push(ma_sb *b, const char *v, int first)
{
    if (!first) ma_sb_putc(b, KEY_SEP);
    return ma_sb_puts(b, v);
}

/* Joined key values of every index for doc (load). Returns NULL and sets *bad_key to the key
 * whose value is empty (or NULL when out of memory). */
static char **doc_keys(const dc_def *d, const ma_doc *doc, const char **bad_key)
{
    *bad_key = NULL;
    char **vals = calloc(d->n_idx, sizeof *vals);
    if (!vals) return NULL;
    for (size_t i = 0; i < d->n_idx; i++) {
        const dc_index *ix = &d->idx[i];
        ma_sb b;
        ma_sb_init(&b);
        for (size_t k = 0; k < ix->n_keys; k++) {
            const dc_key *key = &ix->keys[k];
            char *v;
            if (key->path) v = ma_profile_path_eval(key->path, doc);
            else {
                const char *pv = ma_doc_prop(doc, key->prop);
                v = ma_strdup(pv ? pv : key->def ? key->def : "");
            }
            if (!v || !*v) {
                if (v) *bad_key = key->name;
                free(v);
                ma_sb_free(&b);
                for (size_t j = 0; j < i; j++) free(vals[j]);
                free(vals);
                return NULL;
            }
            join_push(&b, v, k == 0);
            free(v);
        }
        if (!(vals[i] = ma_sb_take(&b, NULL))) {
            for (size_t j = 0; j < i; j++) free(vals[j]);
            free(vals);
            return NULL;
        }
    }
    return vals;
}

/* ---- shapes ---- */

typedef struct dc_lookup {
    size_t index;    /* which index of the definition */
    ma_param **vals; /* one per key of that index, in key order */
    size_t n;
} dc_lookup;

typedef struct dc_shape {
    dc_def *def;
    int all;        /* loadAllDoc / removeAllDocuments */
    int stop_empty; /* emptyCacheBehavior="stopprocess" */
    dc_lookup look;
} dc_shape;

static void dc_destroy(ma_shape *shape)
{
    dc_shape *s = ma_shape_data(shape);
    if (!s) return;
    def_free(s->def);
    for (size_t i = 0; i < s->look.n; i++) ma_param_free(s->look.vals[i]);
    free(s->look.vals);
    free(s);
    ma_shape_set_data(shape, NULL);
}

static dc_shape *dc_begin(ma_shape *shape, const xmlNode *c, const char *elem, ma_error *err)
{
    if (!ma_xml_is(c, elem)) {
        ma_error_set(err, MA_ERR_CONFIG, "the shape has no <%s>", elem);
        return NULL;
    }
    dc_shape *s = calloc(1, sizeof *s);
    if (!s) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char *id = ma_xml_attr(c, "docCache");
    s->def = def_compile(shape, id, err);
    free(id);
    if (!s->def) {
        free(s);
        return NULL;
    }
    ma_shape_set_data(shape, s);
    return s;
}

/* <cacheKeyValues><cacheKeyValue cacheKeyId><parametervalue/></cacheKeyValue>... with docCacheIndex. */
static int compile_lookup(ma_shape *shape, dc_shape *s, const xmlNode *c, ma_error *err)
{
    const dc_def *d = s->def;
    const xmlNode *kvs = ma_xml_child(c, "cacheKeyValues");
    char *want = ma_xml_attr(c, "docCacheIndex");
    int rc = 0;
    long found = -1;
    if (want && *want) {
        for (size_t i = 0; i < d->n_idx; i++)
            if (ma_streq(d->idx[i].id, want)) found = (long)i;
        if (found < 0)
            rc = ma_error_set(err, MA_ERR_REF, "document cache '%s' has no index with indexId %s", d->name, want);
    } else {
        /* the index that holds the first key given, else the first index */
        const xmlNode *kv = ma_xml_child(kvs, "cacheKeyValue");
        char *kid = ma_xml_attr(kv, "cacheKeyId");
        for (size_t i = 0; i < d->n_idx && found < 0 && kid; i++)
            for (size_t k = 0; k < d->idx[i].n_keys; k++)
                if (ma_streq(d->idx[i].keys[k].id, kid)) found = (long)i;
        free(kid);
        if (found < 0) found = 0;
    }
    free(want);
    if (rc < 0) return -1;
    const dc_index *ix = &d->idx[found];
    s->look.index = (size_t)found;
    if (!(s->look.vals = calloc(ix->n_keys, sizeof *s->look.vals)))
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    s->look.n = ix->n_keys;
    for (const xmlNode *kv = ma_xml_child(kvs, "cacheKeyValue"); kv; kv = ma_xml_next(kv, "cacheKeyValue")) {
        char *kid = ma_xml_attr(kv, "cacheKeyId");
        long pos = -1;
        for (size_t k = 0; k < ix->n_keys && kid; k++)
            if (ma_streq(ix->keys[k].id, kid)) pos = (long)k;
        if (pos < 0) {
            rc = ma_error_set(err, MA_ERR_REF, "document cache '%s': index '%s' has no key with id %s", d->name,
                              ix->name ? ix->name : "", kid ? kid : "(none)");
        } else if (s->look.vals[pos]) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "document cache '%s': key %s is given twice", d->name, kid);
        } else {
            const xmlNode *pv = ma_xml_child(kv, "parametervalue");
            if (!pv)
                rc = ma_error_set(err, MA_ERR_CONFIG, "document cache '%s': key %s has no <parametervalue>", d->name,
                                  kid);
            else if (!(s->look.vals[pos] = ma_param_compile(shape, pv, err))) rc = -1;
        }
        free(kid);
        if (rc < 0) return -1;
    }
    for (size_t k = 0; k < ix->n_keys; k++)
        if (!s->look.vals[k])
            return ma_error_set(err, MA_ERR_CONFIG, "document cache '%s': no value is given for key '%s' of index '%s'",
                                d->name, ix->keys[k].name, ix->name ? ix->name : "");
    return 0;
}

/* Joined lookup value for doc; "" when a key value is empty (matches nothing). NULL with err. */
static char *lookup_value(ma_exec *ex, const dc_shape *s, const ma_doc *doc, ma_error *err)
{
    ma_sb b;
    ma_sb_init(&b);
    for (size_t k = 0; k < s->look.n; k++) {
        char *v = ma_param_eval(ex, s->look.vals[k], doc, err);
        if (!v) {
            ma_sb_free(&b);
            return NULL;
        }
        if (!*v) {
            free(v);
            ma_sb_free(&b);
            return ma_strdup("");
        }
        join_push(&b, v, k == 0);
        free(v);
    }
    char *r = ma_sb_take(&b, NULL);
    if (!r) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return r;
}

/* ---- Add to Cache ---- */

static int load_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err)
{
    if (!dc_begin(shape, (const xmlNode *)config, "doccacheload", err)) return -1;
    if (ma_shape_declare_output(shape, NULL, err) < 0) {
        dc_destroy(shape);
        return -1;
    }
    return 0;
}

static int load_execute(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_outputs *out, ma_error *err)
{
    dc_shape *s = ma_shape_data(shape);
    dc_cache *c = cache_get(ex, s->def);
    if (!c) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        const char *bad = NULL;
        char **vals = doc_keys(s->def, doc, &bad);
        if (!vals) {
            if (!bad) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            if (ma_outputs_fail(out, ma_doc_ref(doc), "document cache '%s': key '%s' is empty", s->def->name, bad) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        ma_exec_lock(ex);
        int rc = cache_add(c, doc, vals);
        ma_exec_unlock(ex);
        if (rc < 0) {
            for (size_t k = 0; k < s->def->n_idx; k++) free(vals[k]);
            free(vals);
            if (rc == -1) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            if (ma_outputs_fail(out, ma_doc_ref(doc), "document cache '%s' holds %zu documents, the most it can",
                                s->def->name, MAX_ENTRIES) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        if (ma_outputs_emit(out, 0, ma_doc_ref(doc)) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* ---- Retrieve From Cache ---- */

/* emptyCacheBehavior: Boomi's values (boomi-integration references/steps/document_cache_steps.md);
 * absent is returnerror */
static const ma_enum empty_cache[] = {
    {"returnerror", 0, 0},
    {"stopprocess", 1, 0},
    {NULL, 0, 0},
};

static int retrieve_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    dc_shape *s = dc_begin(shape, c, "doccacheretrieve", err);
    if (!s) return -1;
    s->all = ma_xml_attr_is(c, "loadAllDoc", "true");
    int rc = ma_xml_enum(c, "emptyCacheBehavior", empty_cache, 0, 0, &s->stop_empty, err);
    if (rc < 0) {
        dc_destroy(shape);
        return -1;
    }
    if (s->all && !s->def->single)
        rc = ma_error_set(
            err, MA_ERR_CONFIG,
            "retrieving all documents is only supported for document caches that enforce one index entry per "
            "document; document cache '%s' does not",
            s->def->name);
    else if (!s->all) rc = compile_lookup(shape, s, c, err);
    if (rc == 0 && ma_shape_declare_output(shape, NULL, err) < 0) rc = -1;
    if (rc < 0) dc_destroy(shape);
    return rc;
}

/* References to the cached documents (all of them, or those whose value in the lookup index is v)
 * appended to got, in insertion order, in one locked section. */
static int collect(ma_exec *ex, dc_cache *c, const char *v, size_t index, ma_batch *got)
{
    ma_exec_lock(ex);
    int rc = 0;
    if (!v) {
        for (size_t k = 0; k < c->n && rc == 0; k++)
            if (c->e[k].doc) rc = ma_batch_push(got, ma_doc_ref(c->e[k].doc));
    } else {
        size_t n = 0;
        size_t *which = cache_find(c, index, v, &n);
        for (size_t k = 0; k < n && rc == 0; k++) rc = ma_batch_push(got, ma_doc_ref(c->e[which[k]].doc));
        free(which);
    }
    ma_exec_unlock(ex);
    return rc;
}

static int retrieve_execute(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_outputs *out, ma_error *err)
{
    dc_shape *s = ma_shape_data(shape);
    if (!in->len) return 0;
    dc_cache *c = cache_get(ex, s->def);
    if (!c) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_batch got;
    ma_batch_init(&got);
    if (s->all) {
        if (collect(ex, c, NULL, 0, &got) < 0) {
            ma_batch_clear(&got);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        if (!got.len && !s->stop_empty) {
            for (size_t i = 0; i < in->len; i++)
                if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "document cache '%s': no documents found in cache",
                                    s->def->name) < 0)
                    return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    } else {
        for (size_t i = 0; i < in->len; i++) {
            char *v = lookup_value(ex, s, in->docs[i], err);
            if (!v) {
                ma_batch_clear(&got);
                return -1;
            }
            if (*v && collect(ex, c, v, s->look.index, &got) < 0) {
                free(v);
                ma_batch_clear(&got);
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            }
            free(v);
        }
    }
    for (size_t i = 0; i < got.len; i++) {
        if (ma_outputs_emit(out, 0, got.docs[i]) < 0) {
            for (size_t k = i + 1; k < got.len; k++) ma_doc_unref(got.docs[k]);
            got.len = 0;
            ma_batch_clear(&got);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        got.docs[i] = NULL;
    }
    got.len = 0;
    ma_batch_clear(&got);
    return 0;
}

/* ---- Remove From Cache ---- */

static int remove_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    dc_shape *s = dc_begin(shape, c, "doccacheremove", err);
    if (!s) return -1;
    s->all = ma_xml_attr_is(c, "removeAllDocuments", "true");
    int rc = 0;
    if (!s->all) {
        if (!s->def->single)
            rc = ma_error_set(
                err, MA_ERR_CONFIG,
                "removing by key is only supported for document caches that enforce one index entry per document; "
                "document cache '%s' does not",
                s->def->name);
        else rc = compile_lookup(shape, s, c, err);
    }
    if (rc == 0 && ma_shape_declare_output(shape, NULL, err) < 0) rc = -1;
    if (rc < 0) dc_destroy(shape);
    return rc;
}

static int remove_execute(ma_exec *ex, ma_shape *shape, ma_batch *in, ma_outputs *out, ma_error *err)
{
    dc_shape *s = ma_shape_data(shape);
    dc_cache *c = cache_get(ex, s->def);
    if (!c) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (s->all) {
        ma_exec_lock(ex);
        size_t n_idx = c->n_idx;
        cache_clear(c);
        c->n_idx = n_idx;
        ma_exec_unlock(ex);
    } else {
        for (size_t i = 0; i < in->len; i++) {
            char *v = lookup_value(ex, s, in->docs[i], err);
            if (!v) return -1;
            if (*v) {
                ma_exec_lock(ex);
                size_t n = 0;
                size_t *which = cache_find(c, s->look.index, v, &n);
                for (size_t k = 0; k < n; k++) {
                    dc_entry *e = &c->e[which[k]];
                    ma_doc_unref(e->doc);
                    e->doc = NULL; /* stays in the chains as a tombstone; values kept for them */
                    c->live--;
                }
                ma_exec_unlock(ex);
                free(which);
            }
            free(v);
        }
    }
    for (size_t i = 0; i < in->len; i++)
        if (ma_outputs_emit(out, 0, ma_doc_ref(in->docs[i])) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return 0;
}

const ma_shape_type ma_shape_doccacheload = {
    .name = "doccacheload",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = load_compile,
    .execute = load_execute,
    .destroy = dc_destroy,
};

const ma_shape_type ma_shape_doccacheretrieve = {
    .name = "doccacheretrieve",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = retrieve_compile,
    .execute = retrieve_execute,
    .destroy = dc_destroy,
};

const ma_shape_type ma_shape_doccacheremove = {
    .name = "doccacheremove",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = remove_compile,
    .execute = remove_execute,
    .destroy = dc_destroy,
};

/* ---- Document Cache Lookup parameter value ---- */

struct ma_dcparam {
    dc_shape s;            /* the cache definition and the lookup's key values */
    ma_profile_path *path; /* the element returned */
};

void ma_dcparam_free(ma_dcparam *p)
{
    if (!p) return;
    def_free(p->s.def);
    for (size_t i = 0; i < p->s.look.n; i++) ma_param_free(p->s.look.vals[i]);
    free(p->s.look.vals);
    ma_profile_path_free(p->path);
    free(p);
}

ma_dcparam *ma_dcparam_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "documentcacheparameter")) {
        ma_error_set(err, MA_ERR_CONFIG, "a documentcache value has no <documentcacheparameter>");
        return NULL;
    }
    ma_dcparam *p = calloc(1, sizeof *p);
    if (!p) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char *id = ma_xml_attr(c, "docCache"), *eid = ma_xml_attr(c, "elementId"), *ename = ma_xml_attr(c, "elementName");
    int rc = (p->s.def = def_compile(shape, id, err)) ? compile_lookup(shape, &p->s, c, err) : -1;
    if (rc == 0 && !(p->path = ma_param_profile_path(shape, p->s.def->profile, p->s.def->ptype, eid, ename, err))) {
        ma_error_prefix(err, "document cache '%s': element '%s'", p->s.def->name, ename ? ename : "");
        rc = -1;
    }
    free(id);
    free(eid);
    free(ename);
    if (rc < 0) {
        ma_dcparam_free(p);
        return NULL;
    }
    return p;
}

char *ma_dcparam_eval(ma_exec *ex, const ma_dcparam *p, const ma_doc *doc, ma_error *err)
{
    char *v = lookup_value(ex, &p->s, doc, err);
    if (!v) return NULL;
    ma_doc *hit = NULL;
    dc_cache *c = *v ? cache_get(ex, p->s.def) : NULL;
    if (c) {
        ma_exec_lock(ex);
        size_t n = 0;
        size_t *which = cache_find(c, p->s.look.index, v, &n);
        if (n) hit = ma_doc_ref(c->e[which[0]].doc);
        free(which);
        ma_exec_unlock(ex);
    }
    free(v);
    char *r = hit ? ma_profile_path_eval(p->path, hit) : ma_strdup("");
    ma_doc_unref(hit);
    if (!r) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return r;
}
