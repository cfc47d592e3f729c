/* miniatom/document.h - documents, their properties, and batches of documents.
 *
 * A document is data (bytes, always NUL-terminated for convenience) plus a property map and a
 * tracking id (Boomi's document id: pieces split from one document share it; see
 * boomi-atom-semantics.md 1.1). Documents are reference counted and copy-on-write: a Branch puts
 * the same document on every path, and the first change on one path makes a private copy, so
 * properties set on path 1 are never visible on path 2 (1.2). Reference counts are atomic, so
 * documents may cross threads (Flow Control); one document must not be changed by two threads.
 *
 * Property ids are the ids of the process XML: "dynamicdocument.NAME", "connector.TYPE.PROP",
 * "mime.Content-Type", "meta.base.catcherrorsmessage", "meta.base.applicationstatuscode", ...
 * Values are strings. */
#ifndef MINIATOM_DOCUMENT_H
#define MINIATOM_DOCUMENT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ma_doc ma_doc;

/* Largest document mini-Atom accepts anywhere (bytes). */
#define MA_DOC_MAX_SIZE ((size_t)1 << 30)

/* New document holding a copy of data[0..len). Returns a new reference (caller releases), or
 * NULL when out of memory or len > MA_DOC_MAX_SIZE. */
ma_doc *ma_doc_new(const void *data, size_t len);

/* New document that takes ownership of data (malloc'ed, len bytes, with room for one more byte
 * or already NUL-terminated at data[len]: pass len+1 bytes allocated). On failure data is freed. */
ma_doc *ma_doc_new_owned(char *data, size_t len);

/* New document with src's properties and tracking id and the given data (copied).
 * Returns a new reference. */
ma_doc *ma_doc_derive(const ma_doc *src, const void *data, size_t len);
/* Same, taking ownership of data (see ma_doc_new_owned). */
ma_doc *ma_doc_derive_owned(const ma_doc *src, char *data, size_t len);

ma_doc *ma_doc_ref(ma_doc *doc); /* returns doc with one more reference */
void ma_doc_unref(ma_doc *doc);  /* NULL is fine */

/* The data, borrowed for as long as the caller holds its reference; data[len] == '\0'. */
const char *ma_doc_data(const ma_doc *doc, size_t *len);
size_t ma_doc_size(const ma_doc *doc);

/* Replaces the data (copied). *doc may be replaced by a private copy when it is shared: the
 * caller's reference moves to the new one. Returns 0 or -1 (out of memory). */
int ma_doc_set_data(ma_doc **doc, const void *data, size_t len);
int ma_doc_set_data_owned(ma_doc **doc, char *data, size_t len);

/* Property value, borrowed (valid until the document is changed or released), or NULL. */
const char *ma_doc_prop(const ma_doc *doc, const char *id);
/* Sets (value != NULL) or removes (value == NULL) a property; copy-on-write like set_data. */
int ma_doc_set_prop(ma_doc **doc, const char *id, const char *value);
/* Iterates properties in insertion order. Returns 0 while i < count. */
size_t ma_doc_prop_count(const ma_doc *doc);
int ma_doc_prop_at(const ma_doc *doc, size_t i, const char **id, const char **value);
/* Removes every property (keeps data and tracking id). */
int ma_doc_clear_props(ma_doc **doc);

/* The Boomi document id; equal for copies on branch paths and for split pieces. */
uint64_t ma_doc_track_id(const ma_doc *doc);
void ma_doc_set_track_id(ma_doc **doc, uint64_t id);

/* A batch: an ordered list of document references. The batch owns one reference per entry. */
typedef struct ma_batch {
    ma_doc **docs;
    size_t len, cap;
} ma_batch;

void ma_batch_init(ma_batch *b);
/* Appends doc, taking over the caller's reference (released on failure). */
int ma_batch_push(ma_batch *b, ma_doc *doc);
/* Releases every document and frees the storage; the batch is empty and reusable afterwards. */
void ma_batch_clear(ma_batch *b);
/* Moves all documents of src to the end of dst; src becomes empty. */
int ma_batch_move(ma_batch *dst, ma_batch *src);

#ifdef __cplusplus
}
#endif
#endif
