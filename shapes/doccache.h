/* doccache.h - the Document Cache Lookup parameter value (valueType="documentcache"): an element
 * of the first document of a documentcache component's cache (shapes/doccache.c) whose index keys
 * equal the key values evaluated for the current document. Owned by the parameter value that
 * compiles it (runtime/params.c). */
#ifndef MA_DOCCACHE_H
#define MA_DOCCACHE_H

#include "miniatom/shape.h"

typedef struct ma_dcparam ma_dcparam;

/* <documentcacheparameter docCache docCacheIndex elementId elementName><cacheKeyValues>
 * <cacheKeyValue cacheKeyId><parametervalue/>...: the cache, its index and keys and the element (of
 * the cache's profile) resolved at deploy. NULL with err. */
ma_dcparam *ma_dcparam_compile(ma_shape *shape, const ma_xml_node *config, ma_error *err);
/* The element's value in the first cached document (in the order added) that matches; "" when
 * none does, the cache is empty or a key value is empty. Malloc'ed, or NULL with err. */
char *ma_dcparam_eval(ma_exec *ex, const ma_dcparam *p, const ma_doc *doc, ma_error *err);
void ma_dcparam_free(ma_dcparam *p);

#endif
