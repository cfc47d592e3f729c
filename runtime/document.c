/* document.c - reference-counted, copy-on-write documents and batches (miniatom/document.h).
 *
 * A document points at a shared immutable data blob and a shared property map; both are
 * refcounted with atomics. Changing a document that others also hold first makes a private
 * copy of the document struct (the blob and map stay shared until they are changed themselves),
 * which is what gives Boomi's per-branch property scoping (boomi-atom-semantics.md 1.2) cheaply. */
#include "miniatom/document.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct blob {
    atomic_int refs;
    size_t len;
    char *data; /* owned, NUL-terminated */
} blob;

typedef struct prop {
    char *id, *value; /* owned */
} prop;

typedef struct propmap {
    atomic_int refs;
    size_t n, cap;
    prop *v;
} propmap;

struct ma_doc {
    atomic_int refs;
    blob *data;
    propmap *props; /* NULL = none */
    uint64_t track;
};

static atomic_uint_fast64_t next_track = 1;

static blob *blob_new_owned(char *data, size_t len)
{
    blob *b = malloc(sizeof *b);
    if (!b) {
        free(data);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    b->data = data;
    b->data[len] = '\0';
    return b;
}

static blob *blob_new_copy(const void *data, size_t len)
{
    if (len > MA_DOC_MAX_SIZE) return NULL;
    char *d = malloc(len + 1);
    if (!d) return NULL;
    if (len) memcpy(d, data, len);
    return blob_new_owned(d, len);
}

static void blob_unref(blob *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        free(b->data);
        free(b);
    }
}

static void props_unref(propmap *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1) {
        for (size_t i = 0; i < p->n; i++) {
            free(p->v[i].id);
            free(p->v[i].value);
        }
        free(p->v);
        free(p);
    }
}

static propmap *props_clone(const propmap *src)
{
    propmap *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    atomic_init(&p->refs, 1);
    if (!src || !src->n) return p;
    p->v = calloc(src->n, sizeof *p->v);
    if (!p->v) {
        free(p);
        return NULL;
    }
    p->cap = src->n;
    for (size_t i = 0; i < src->n; i++) {
        p->v[i].id = strdup(src->v[i].id);
        p->v[i].value = strdup(src->v[i].value);
        p->n = i + 1;
        if (!p->v[i].id || !p->v[i].value) {
            props_unref(p);
            return NULL;
        }
    }
    return p;
}

static ma_doc *doc_alloc(blob *b, propmap *props, uint64_t track)
{
    ma_doc *d = malloc(sizeof *d);
    if (!d) return NULL;
    atomic_init(&d->refs, 1);
    d->data = b;
    d->props = props;
    d->track = track ? track : atomic_fetch_add(&next_track, 1);
    return d;
}

ma_doc *ma_doc_new_owned(char *data, size_t len)
{
    if (!data || len > MA_DOC_MAX_SIZE) {
        free(data);
        return NULL;
    }
    blob *b = blob_new_owned(data, len);
    if (!b) return NULL;
    ma_doc *d = doc_alloc(b, NULL, 0);
    if (!d) blob_unref(b);
    return d;
}

ma_doc *ma_doc_new(const void *data, size_t len)
{
    blob *b = blob_new_copy(data, len);
    if (!b) return NULL;
    ma_doc *d = doc_alloc(b, NULL, 0);
    if (!d) blob_unref(b);
    return d;
}

static ma_doc *derive_blob(const ma_doc *src, blob *b)
{
    propmap *p = src->props;
    if (p) atomic_fetch_add(&p->refs, 1);
    ma_doc *d = doc_alloc(b, p, src->track);
    if (!d) {
        blob_unref(b);
        props_unref(p);
    }
    return d;
}

ma_doc *ma_doc_derive(const ma_doc *src, const void *data, size_t len)
{
    blob *b = blob_new_copy(data, len);
    return b ? derive_blob(src, b) : NULL;
}

ma_doc *ma_doc_derive_owned(const ma_doc *src, char *data, size_t len)
{
    if (!data || len > MA_DOC_MAX_SIZE) {
        free(data);
        return NULL;
    }
    blob *b = blob_new_owned(data, len);
    return b ? derive_blob(src, b) : NULL;
}

ma_doc *ma_doc_ref(ma_doc *doc)
{
    if (doc) atomic_fetch_add(&doc->refs, 1);
    return doc;
}

void ma_doc_unref(ma_doc *doc)
{
    if (doc && atomic_fetch_sub(&doc->refs, 1) == 1) {
        blob_unref(doc->data);
        props_unref(doc->props);
        free(doc);
    }
}

const char *ma_doc_data(const ma_doc *doc, size_t *len)
{
    if (len) *len = doc->data->len;
    return doc->data->data;
}

size_t ma_doc_size(const ma_doc *doc) { return doc->data->len; }

/* Makes *doc private to the caller (copy of the struct when shared). */
static int doc_own(ma_doc **doc)
{
    ma_doc *d = *doc;
    if (atomic_load(&d->refs) == 1) return 0;
    atomic_fetch_add(&d->data->refs, 1);
    if (d->props) atomic_fetch_add(&d->props->refs, 1);
    ma_doc *c = doc_alloc(d->data, d->props, d->track);
    if (!c) {
        blob_unref(d->data);
        props_unref(d->props);
        return -1;
    }
    ma_doc_unref(d);
    *doc = c;
    return 0;
}

/* Makes (*doc)->props private and non-NULL. */
static int props_own(ma_doc **doc)
{
    if (doc_own(doc) < 0) return -1;
    ma_doc *d = *doc;
    if (d->props && atomic_load(&d->props->refs) == 1) return 0;
    propmap *p = props_clone(d->props);
    if (!p) return -1;
    props_unref(d->props);
    d->props = p;
    return 0;
}

int ma_doc_set_data_owned(ma_doc **doc, char *data, size_t len)
{
    if (!data || len > MA_DOC_MAX_SIZE) {
        free(data);
        return -1;
    }
    if (doc_own(doc) < 0) {
        free(data);
        return -1;
    }
    blob *b = blob_new_owned(data, len);
    if (!b) return -1;
    blob_unref((*doc)->data);
    (*doc)->data = b;
    return 0;
}

int ma_doc_set_data(ma_doc **doc, const void *data, size_t len)
{
    if (len > MA_DOC_MAX_SIZE) return -1;
    char *d = malloc(len + 1);
    if (!d) return -1;
    if (len) memcpy(d, data, len);
    return ma_doc_set_data_owned(doc, d, len);
}

static prop *find_prop(const propmap *p, const char *id)
{
    if (!p) return NULL;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].id, id) == 0) return &p->v[i];
    return NULL;
}

const char *ma_doc_prop(const ma_doc *doc, const char *id)
{
    prop *p = find_prop(doc->props, id);
    return p ? p->value : NULL;
}

int ma_doc_set_prop(ma_doc **doc, const char *id, const char *value)
{
    if (!value && !find_prop((*doc)->props, id)) return 0;
    if (props_own(doc) < 0) return -1;
    propmap *m = (*doc)->props;
    prop *p = find_prop(m, id);
    if (!value) {
        size_t i = (size_t)(p - m->v);
        free(p->id);
        free(p->value);
        memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
        m->n--;
        return 0;
    }
    char *v = strdup(value);
    if (!v) return -1;
    if (p) {
        free(p->value);
        p->value = v;
        return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4;
        prop *nv = realloc(m->v, cap * sizeof *nv);
        if (!nv) {
            free(v);
            return -1;
        }
        m->v = nv;
        m->cap = cap;
    }
    char *k = strdup(id);
    if (!k) {
        free(v);
        return -1;
    }
    m->v[m->n].id = k;
    m->v[m->n].value = v;
    m->n++;
    return 0;
}

size_t ma_doc_prop_count(const ma_doc *doc) { return doc->props ? doc->props->n : 0; }

int ma_doc_prop_at(const ma_doc *doc, size_t i, const char **id, const char **value)
{
    if (!doc->props || i >= doc->props->n) return -1;
    if (id) *id = doc->props->v[i].id;
    if (value) *value = doc->props->v[i].value;
    return 0;
}

int ma_doc_clear_props(ma_doc **doc)
{
    if (!(*doc)->props) return 0;
    if (doc_own(doc) < 0) return -1;
    props_unref((*doc)->props);
    (*doc)->props = NULL;
    return 0;
}

uint64_t ma_doc_track_id(const ma_doc *doc) { return doc->track; }

void ma_doc_set_track_id(ma_doc **doc, uint64_t id)
{
    if ((*doc)->track == id || doc_own(doc) < 0) return;
    (*doc)->track = id;
}

void ma_batch_init(ma_batch *b) { memset(b, 0, sizeof *b); }

int ma_batch_push(ma_batch *b, ma_doc *doc)
{
    if (!doc) return -1;
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        ma_doc **nd = realloc(b->docs, cap * sizeof *nd);
        if (!nd) {
            ma_doc_unref(doc);
            return -1;
        }
        b->docs = nd;
        b->cap = cap;
    }
    b->docs[b->len++] = doc;
    return 0;
}

void ma_batch_clear(ma_batch *b)
{
    for (size_t i = 0; i < b->len; i++) ma_doc_unref(b->docs[i]);
    free(b->docs);
    memset(b, 0, sizeof *b);
}

int ma_batch_move(ma_batch *dst, ma_batch *src)
{
    if (!dst->len && !dst->docs) {
        *dst = *src;
        memset(src, 0, sizeof *src);
        return 0;
    }
    for (size_t i = 0; i < src->len; i++) {
        if (ma_batch_push(dst, src->docs[i]) < 0) {
            for (size_t j = i + 1; j < src->len; j++) ma_doc_unref(src->docs[j]);
            free(src->docs);
            memset(src, 0, sizeof *src);
            return -1;
        }
    }
    free(src->docs);
    memset(src, 0, sizeof *src);
    return 0;
}
