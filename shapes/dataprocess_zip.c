/* dataprocess_zip.c - the Data Process steps Zip (processtype 4, <dataprocesszip>) and Unzip
 * (processtype 5, <dataprocessunzip>), with libarchive loaded at first use (lazy_archive.h). Boomi:
 * "Zip - zip incoming data ... in the WinZip compression format", "Unzip - unzip incoming data ...";
 * both can take the file name from / put it in a connector's document property
 * (docs/decisions/025-data-process-steps.md). */

/* Decisions (Boomi documents the steps, not these details):
 *  - Zip makes one archive per document holding one entry, the document's data (deflated); the
 *    archive document keeps the document's properties. The entry's name is the file name property
 *    (below) when the document has one, else "document.dat".
 *  - Unzip makes one document per regular file in the archive, in archive order (directories and
 *    links are skipped); each keeps the archive document's properties and tracking id and gets the
 *    entry's name as it is in the archive (with its folders, as java.util.zip's ZipEntry.getName)
 *    in the file name property. An archive with no files gives no documents.
 *  - The file name property: propertyId when the step has one; otherwise the one of the connector
 *    connectorType names (connector.<type>.filename, set on unzip together with the
 *    connector.track.<type>.filename a Get sets; on zip the first of connector.<type>.filename,
 *    connector.dynamic.<type>.filename, connector.track.<type>.filename that is set); without a
 *    connectorType (Boomi exports write connectorType="") the Disk connector's, so a Disk Send
 *    after Unzip writes each entry under its own name.
 *  - Bounds (settings dataprocess.unzip.*): at most max_entries files and max_size uncompressed
 *    bytes per archive, each file at most the document limit. Over a bound, a corrupt, encrypted
 *    or non-zip archive: the archive document fails with the reason (a document error); none of
 *    its entries go on. */
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataprocess_step.h"
#include "lazy_archive.h"
#include "miniatom/deploy.h"
#include "util.h"

#define DEFAULT_ENTRY_NAME "document.dat"
#define MAX_NAME_PROPS 3

typedef struct unzip_cfg {
    uint64_t max_entries;
    uint64_t max_size;
} unzip_cfg;

static const ma_config_entry zip_config_map[] = {
    {.key = "max_entries",
     .kind = MA_CONFIG_UINT,
     .def = "10000",
     .min = 1,
     .max = 10000000,
     .description = "Unzip: most files one archive may hold; more fail the archive document",
     .at = MA_CONFIG_AT(unzip_cfg, max_entries)},
    {.key = "max_size",
     .kind = MA_CONFIG_SIZE,
     .def = "256MB",
     .min = 1,
     .max = 1ull << 40,
     .description = "Unzip: most uncompressed bytes of one archive's files together; more fail the archive "
                    "document (a zip bomb)",
     .at = MA_CONFIG_AT(unzip_cfg, max_size)},
    MA_CONFIG_END,
};

typedef struct zip_step {
    int unzip;
    char *label;
    char *props[MAX_NAME_PROPS]; /* zip: read in order; unzip: all set (owned; NULL-ended) */
    unzip_cfg cfg;
} zip_step;

static void zip_destroy(void *state)
{
    zip_step *s = state;
    if (!s) return;
    free(s->label);
    for (size_t i = 0; i < MAX_NAME_PROPS; i++) free(s->props[i]);
    free(s);
}

/* A connector type as a property id segment: letters, digits, '_' and '-' only. */
static int type_ok(const char *t)
{
    for (const char *p = t; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-'))
            return 0;
    return 1;
}

static int zip_compile_kind(ma_shape *shape, const xmlNode *step, const char *label, void **state, int unzip,
                            ma_error *err)
{
    const char *elem = unzip ? "dataprocessunzip" : "dataprocesszip";
    const xmlNode *cfg = ma_xml_child(step, elem); /* Base64-like steps may carry none: defaults */
    if (ma_archive_load(err) < 0) {
        ma_error_prefix(err, "%s (processtype %d)", label, unzip ? 5 : 4);
        return -1;
    }
    zip_step *s = calloc(1, sizeof *s);
    if (!s) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    s->unzip = unzip;
    s->label = ma_strdup(label);
    char *type = cfg ? ma_xml_attr(cfg, "connectorType") : NULL;
    char *pid = cfg ? ma_xml_attr(cfg, "propertyId") : NULL;
    int rc = 0;
    if (pid && *pid) {
        s->props[0] = pid;
        pid = NULL;
    } else {
        const char *t = type && *type ? type : "disk";
        if (!type_ok(t)) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "%s: connectorType '%s' is not a connector type", label, t);
        } else if (unzip) {
            s->props[0] = ma_asprintf("connector.track.%s.filename", t);
            s->props[1] = ma_asprintf("connector.%s.filename", t);
            if (!s->props[0] || !s->props[1]) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        } else {
            s->props[0] = ma_asprintf("connector.%s.filename", t);
            s->props[1] = ma_asprintf("connector.dynamic.%s.filename", t);
            s->props[2] = ma_asprintf("connector.track.%s.filename", t);
            if (!s->props[0] || !s->props[1] || !s->props[2]) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    }
    free(type);
    free(pid);
    if (rc == 0 && !s->label) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (rc == 0 && unzip &&
        ma_config_read(zip_config_map, "dataprocess.unzip.", ma_deploy_settings(ma_shape_deploy(shape)), &s->cfg, err) <
            0)
        rc = -1;
    if (rc < 0) {
        zip_destroy(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int zip_compile(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    return zip_compile_kind(shape, step, label, state, 0, err);
}

static int unzip_compile(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    return zip_compile_kind(shape, step, label, state, 1, err);
}

/* ---- zip ------------------------------------------------------------------------------------- */

static int sb_open(struct archive *a, void *ud)
{
    (void)a;
    (void)ud;
    return ARCHIVE_OK;
}

static la_ssize_t sb_write(struct archive *a, void *ud, const void *buf, size_t n)
{
    (void)a;
    ma_sb *b = ud;
    ma_sb_append(b, buf, n);
    if (b->oom || b->len > MA_DOC_MAX_SIZE) return -1;
    return (la_ssize_t)n;
}

static int sb_close(struct archive *a, void *ud)
{
    (void)a;
    (void)ud;
    return ARCHIVE_OK;
}

/* The zip of doc's data as one entry, into b. NULL, or the reason it failed. */
static const char *zip_one(const zip_step *s, const ma_doc *doc, ma_sb *b, char *why, size_t whylen)
{
    const char *name = NULL;
    for (size_t i = 0; i < MAX_NAME_PROPS && s->props[i] && !name; i++) {
        const char *v = ma_doc_prop(doc, s->props[i]);
        if (v && *v) name = v;
    }
    if (!name) name = DEFAULT_ENTRY_NAME;
    size_t len;
    const char *data = ma_doc_data(doc, &len);
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    const char *res = NULL;
    if (!a || !e) {
        res = "out of memory";
        goto out;
    }
    if (archive_write_set_format_zip(a) != ARCHIVE_OK || archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
        archive_write_set_options(a, "zip:hdrcharset=UTF-8") != ARCHIVE_OK ||
        archive_write_open(a, b, sb_open, sb_write, sb_close) != ARCHIVE_OK)
        goto fail;
    archive_entry_set_pathname_utf8(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_mtime(e, time(NULL), 0);
    if (archive_write_header(a, e) != ARCHIVE_OK) goto fail;
    for (size_t off = 0; off < len;) {
        size_t n = len - off > (1u << 20) ? (1u << 20) : len - off;
        la_ssize_t w = archive_write_data(a, data + off, n);
        if (w <= 0) goto fail;
        off += (size_t)w;
    }
    if (archive_write_close(a) != ARCHIVE_OK) goto fail;
    goto out;
fail:
    if (b->oom || b->len > MA_DOC_MAX_SIZE) res = "the archive would be larger than the document limit";
    else {
        const char *m = archive_error_string(a);
        snprintf(why, whylen, "%s", m ? m : "libarchive failed");
        res = why;
    }
out:
    if (e) archive_entry_free(e);
    if (a) archive_write_free(a);
    return res;
}

static int zip_run(ma_exec *ex, ma_shape *shape, void *state, const ma_batch *in, ma_batch *next, ma_outputs *out,
                   ma_error *err)
{
    (void)ex;
    (void)shape;
    const zip_step *s = state;
    char why[512];
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        ma_sb b;
        ma_sb_init(&b);
        const char *bad = zip_one(s, doc, &b, why, sizeof why);
        if (bad) {
            ma_sb_free(&b);
            if (ma_outputs_fail(out, ma_doc_ref(doc), "%s: cannot zip the document: %s", s->label, bad) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        size_t len;
        char *z = ma_sb_take(&b, &len);
        ma_doc *d = z ? ma_doc_derive_owned(doc, z, len) : NULL;
        if (!d || ma_batch_push(next, d) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* libarchive converts entry names through the calling thread's character set: a UTF-8 one is used
 * while reading (uselocale, this thread only), so names flagged UTF-8 in the archive come out as
 * they are; the process's locale is left alone. */
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;
static locale_t utf8_loc;

static void utf8_init(void)
{
    utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!utf8_loc) utf8_loc = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
}

/* ---- unzip ----------------------------------------------------------------------------------- */

/* The files of doc's archive, pushed to pieces (new references). NULL, or why the archive fails;
 * *oom set when memory ran out. */
static const char *unzip_one(const zip_step *s, ma_doc *doc, ma_batch *pieces, int *oom, char *why, size_t whylen)
{
    size_t len;
    const char *data = ma_doc_data(doc, &len);
    struct archive *a = archive_read_new();
    if (!a) {
        *oom = 1;
        return "out of memory";
    }
    pthread_once(&utf8_once, utf8_init);
    locale_t old = utf8_loc ? uselocale(utf8_loc) : (locale_t)0;
    const char *res = NULL;
    uint64_t files = 0, total = 0;
    ma_sb b;
    ma_sb_init(&b);
    if (archive_read_support_format_zip(a) != ARCHIVE_OK || archive_read_open_memory(a, data, len) != ARCHIVE_OK)
        goto fail;
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) goto fail;
        if (archive_entry_filetype(e) != AE_IFREG) continue; /* folders, links */
        const char *name = archive_entry_pathname_utf8(e);   /* NULL: not UTF-8, the bytes as they are */
        if (!name) name = archive_entry_pathname(e);
        if (++files > s->cfg.max_entries) {
            snprintf(why, whylen, "the archive holds more than %llu files (setting dataprocess.unzip.max_entries)",
                     (unsigned long long)s->cfg.max_entries);
            res = why;
            goto out;
        }
        b.len = 0;
        char buf[65536];
        for (;;) {
            la_ssize_t n = archive_read_data(a, buf, sizeof buf);
            if (n == 0) break;
            if (n < 0) goto fail;
            total += (uint64_t)n;
            if (total > s->cfg.max_size) {
                snprintf(why, whylen,
                         "the archive's files are larger than %llu bytes uncompressed (setting "
                         "dataprocess.unzip.max_size)",
                         (unsigned long long)s->cfg.max_size);
                res = why;
                goto out;
            }
            if (b.len + (size_t)n > MA_DOC_MAX_SIZE) {
                snprintf(why, whylen, "the file '%s' is larger than the document limit", name ? name : "");
                res = why;
                goto out;
            }
            ma_sb_append(&b, buf, (size_t)n);
            if (b.oom) {
                *oom = 1;
                res = "out of memory";
                goto out;
            }
        }
        ma_doc *d = ma_doc_derive(doc, b.s ? b.s : "", b.len);
        for (size_t k = 0; d && k < MAX_NAME_PROPS && s->props[k]; k++)
            if (ma_doc_set_prop(&d, s->props[k], name ? name : "") < 0) {
                ma_doc_unref(d);
                d = NULL;
            }
        if (!d || ma_batch_push(pieces, d) < 0) {
            *oom = 1;
            res = "out of memory";
            goto out;
        }
    }
    goto out;
fail : {
    const char *m = archive_error_string(a);
    snprintf(why, whylen, "the document is not a readable zip archive: %s", m ? m : "libarchive failed");
    res = why;
}
out:
    ma_sb_free(&b);
    archive_read_free(a);
    if (utf8_loc) uselocale(old);
    return res;
}

static int unzip_run(ma_exec *ex, ma_shape *shape, void *state, const ma_batch *in, ma_batch *next, ma_outputs *out,
                     ma_error *err)
{
    const zip_step *s = state;
    char why[512];
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        ma_batch pieces;
        ma_batch_init(&pieces);
        int oom = 0;
        const char *bad = unzip_one(s, doc, &pieces, &oom, why, sizeof why);
        if (oom) {
            ma_batch_clear(&pieces);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        if (bad) {
            ma_batch_clear(&pieces);
            if (ma_outputs_fail(out, ma_doc_ref(doc), "%s: %s", s->label, bad) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        ma_exec_log(ex, shape, MA_LOG_INFO, "%s: %zu file(s) unzipped from document %zu", s->label, pieces.len, i + 1);
        if (ma_batch_move(next, &pieces) < 0) {
            ma_batch_clear(&pieces);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    }
    return 0;
}

const ma_dp_step_kind ma_dp_step_zip = {
    .processtype = 4,
    .name = "Zip",
    .compile = zip_compile,
    .run = zip_run,
    .destroy = zip_destroy,
};

const ma_dp_step_kind ma_dp_step_unzip = {
    .processtype = 5,
    .name = "Unzip",
    .compile = unzip_compile,
    .run = unzip_run,
    .destroy = zip_destroy,
    .settings_prefix = "dataprocess.unzip.",
    .config_map = zip_config_map,
};
