/* dataprocess_flatfile.c - Data Process "Split Documents" with a flat file profile (Boomi's Data
 * Process step page: split a flat file by its profile, optionally by a Link Element so that the
 * records sharing that element's value go into one document). Records are read with the profile
 * (runtime/flatfile.h): a text-qualified value spanning lines stays in its record, record formats
 * are detected as the profile says. Each piece holds its records' text as it was, one record per
 * line ("\n" between records, none after the last, as the split by line).
 *  - With a link element: one document per distinct value, in the order the values first occur;
 *    a record of a format that lacks the element joins the document of the record before it.
 *  - Without: one document per record, or batchCount records per document.
 *  - The profile's column header line (Use Column Headers) is put on top of every piece, so that
 *    the pieces still match the profile, unless headersOption="remove". A profile without column
 *    headers treats headersOption as the split by line does: "remove" drops the first line,
 *    "retain" puts it on top of every piece. */
#include "dataprocess_flatfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component.h"
#include "flatfile.h"
#include "util.h"

struct ma_dp_ffsplit {
    char *label;     /* owned */
    ma_flatfile *ff; /* owned */
    char *link_key;  /* owned, NULL: one record per piece */
    char *link_name; /* owned, for messages */
    int headers;     /* 0 none, 1 remove, 2 retain */
    size_t batch;
};

void ma_dp_ffsplit_free(ma_dp_ffsplit *s)
{
    if (!s) return;
    free(s->label);
    ma_flatfile_free(s->ff);
    free(s->link_key);
    free(s->link_name);
    free(s);
}

ma_dp_ffsplit *ma_dp_ffsplit_compile(ma_shape *shape, const xmlNode *o, const char *label, ma_error *err)
{
    ma_dp_ffsplit *s = calloc(1, sizeof *s);
    char *pid = ma_xml_attr(o, "profileId"), *key = ma_xml_attr(o, "linkElementKey"),
         *name = ma_xml_attr(o, "linkElementName"), *h = ma_xml_attr(o, "headersOption"),
         *b = ma_xml_attr(o, "batchCount");
    int rc = 0;
    if (!s || !(s->label = ma_strdup(label))) {
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    s->headers = ma_streq(h, "remove") ? 1 : ma_streq(h, "retain") ? 2 : 0;
    if (b && *b) {
        char *end;
        long v = strtol(b, &end, 10);
        if (*end || v < 0 || v > 1000000000L) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "%s: invalid batchCount '%s'", label, b);
            goto out;
        }
        s->batch = (size_t)v;
    }
    ma_deploy *dep = ma_shape_deploy(shape);
    ma_component *c = pid && *pid ? ma_deploy_find(dep, pid) : NULL;
    if (!pid || !*pid) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: splitting by a flat file profile names no profile", label);
        goto out;
    }
    if (!c) {
        rc = ma_error_set(err, MA_ERR_REF, "%s: flat file profile %s is not in the deployment", label, pid);
        goto out;
    }
    if (!ma_streq(c->type, "profile.flatfile")) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: profile '%s' (%s) is a %s, not a flat file profile", label, c->name,
                          c->id, c->type);
        goto out;
    }
    if (!(s->ff = ma_flatfile_compile(c, err))) {
        ma_error_prefix(err, "%s", label);
        rc = -1;
        goto out;
    }
    if (key && *key && !ma_streq(key, "null") && !ma_streq(key, "-1")) {
        if (!ma_flatfile_xml_name(s->ff, key)) {
            rc = ma_error_set(err, MA_ERR_REF, "%s: flat file profile %s has no element with key %s (link element %s)",
                              label, ma_flatfile_label(s->ff), key, name ? name : "");
            goto out;
        }
        s->link_key = key;
        key = NULL;
        if (name && *name) {
            s->link_name = name;
            name = NULL;
        } else {
            s->link_name = ma_strdup(s->link_key);
        }
        if (!s->link_name) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
out:
    free(pid);
    free(key);
    free(name);
    free(h);
    free(b);
    if (rc < 0) {
        ma_dp_ffsplit_free(s);
        return NULL;
    }
    return s;
}

typedef struct piece {
    char *value; /* owned: the link element's value (NULL without a link element) */
    ma_sb text;
} piece;

typedef struct split_ctx {
    const ma_dp_ffsplit *s;
    const char *header; /* the header line to put on top of every piece, or NULL */
    size_t hlen;
    piece *p;
    size_t n, cap;
    long cur; /* piece the last record went to */
    size_t in_cur;
    size_t *slots; /* hash of the pieces by value: index + 1, 0 for a free slot */
    size_t nslots; /* a power of two, at least twice the number of pieces */
    ma_error *err;
} split_ctx;

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* Slot of value in the hash: its piece's slot, or the free slot where it would go. */
static size_t slot_of(const split_ctx *c, const char *value)
{
    size_t m = c->nslots - 1, i = hash_str(value) & m;
    while (c->slots[i] && strcmp(c->p[c->slots[i] - 1].value, value) != 0) i = (i + 1) & m;
    return i;
}

static int rehash(split_ctx *c)
{
    size_t n = c->nslots ? c->nslots * 2 : 64;
    size_t *ns = calloc(n, sizeof *ns);
    if (!ns) return -1;
    free(c->slots);
    c->slots = ns;
    c->nslots = n;
    for (size_t k = 0; k < c->n; k++) c->slots[slot_of(c, c->p[k].value)] = k + 1;
    return 0;
}

static piece *new_piece(split_ctx *c, const char *value)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        piece *np = realloc(c->p, nc * sizeof *np);
        if (!np) return NULL;
        c->p = np;
        c->cap = nc;
    }
    piece *p = &c->p[c->n];
    memset(p, 0, sizeof *p);
    ma_sb_init(&p->text);
    if (value && !(p->value = ma_strdup(value))) return NULL;
    if (c->header) {
        ma_sb_append(&p->text, c->header, c->hlen);
        ma_sb_putc(&p->text, '\n');
    }
    c->cur = (long)c->n++;
    c->in_cur = 0;
    return p;
}

static int on_record(void *ctx, const ma_ff_record *r)
{
    split_ctx *c = ctx;
    const ma_dp_ffsplit *s = c->s;
    if (r->header) {
        if (s->headers != 1) {
            c->header = r->text;
            c->hlen = r->len;
        }
        return 0;
    }
    piece *p = NULL;
    if (s->link_key) {
        const char *value = NULL;
        for (size_t i = 0; i < r->n; i++)
            if (strcmp(r->keys[i], s->link_key) == 0) value = r->values[i];
        if (!value && c->cur >= 0) p = &c->p[c->cur];
        else {
            if (!value) value = "";
            if ((c->n + 1) * 2 > c->nslots && rehash(c) < 0) return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
            size_t sl = slot_of(c, value);
            if (c->slots[sl]) {
                c->cur = (long)c->slots[sl] - 1;
                p = &c->p[c->cur];
            } else {
                if (!(p = new_piece(c, value))) return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
                c->slots[sl] = c->n;
            }
        }
    } else {
        size_t per = s->batch ? s->batch : 1;
        if (c->cur >= 0 && c->in_cur < per) p = &c->p[c->cur];
        else if (!(p = new_piece(c, NULL))) return ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
    }
    if (p->text.len && p->text.s[p->text.len - 1] != '\n') ma_sb_putc(&p->text, '\n');
    ma_sb_append(&p->text, r->text, r->len);
    c->in_cur++;
    if (p->text.len > MA_DOC_MAX_SIZE)
        return ma_error_set(c->err, MA_ERR_LIMIT, "a piece is larger than %zu bytes", (size_t)MA_DOC_MAX_SIZE);
    return 0;
}

static void pieces_free(split_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->p[i].value);
        ma_sb_free(&c->p[i].text);
    }
    free(c->p);
    free(c->slots);
}

/* First line of d (without its terminator) and where the rest starts. */
static size_t line_of(const char *d, size_t len, size_t *rest)
{
    const char *nl = memchr(d, '\n', len);
    size_t end = nl ? (size_t)(nl - d) : len;
    *rest = nl ? end + 1 : len;
    if (end && d[end - 1] == '\r') end--;
    return end;
}

int ma_dp_ffsplit_run(const ma_dp_ffsplit *s, const ma_batch *in, ma_batch *next, ma_outputs *out, ma_error *err)
{
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        size_t len;
        const char *d = ma_doc_data(doc, &len);
        split_ctx c = {.s = s, .cur = -1};
        ma_error e = {0};
        c.err = &e;
        if (!ma_flatfile_has_header(s->ff) && s->headers && len) {
            size_t rest;
            size_t hl = line_of(d, len, &rest);
            if (s->headers == 2) {
                c.header = d;
                c.hlen = hl;
            }
            d += rest;
            len -= rest;
        }
        int rc = ma_flatfile_scan(s->ff, d, len, on_record, &c, &e);
        if (rc != 0) {
            pieces_free(&c);
            if (e.code == MA_ERR_NOMEM) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            if (ma_outputs_fail(out, ma_doc_ref(doc), "%s: cannot split by flat file profile %s: %s", s->label,
                                ma_flatfile_label(s->ff), e.msg) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        int oom = 0;
        for (size_t k = 0; k < c.n && !oom; k++) {
            size_t tl;
            char *t = ma_sb_take(&c.p[k].text, &tl);
            ma_doc *nd = t ? ma_doc_derive_owned(doc, t, tl) : NULL;
            if (!nd || ma_batch_push(next, nd) < 0) {
                if (nd) ma_doc_unref(nd);
                oom = 1;
            }
        }
        pieces_free(&c);
        if (oom) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}
