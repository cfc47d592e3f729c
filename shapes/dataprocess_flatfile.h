/* dataprocess_flatfile.h - Data Process "Split Documents" by a flat file profile, called from
 * dataprocess.c (internal to the shape; see dataprocess_flatfile.c for the behaviour). */
#ifndef MA_DATAPROCESS_FLATFILE_H
#define MA_DATAPROCESS_FLATFILE_H

#include <libxml/tree.h>

#include "miniatom/shape.h"

typedef struct ma_dp_ffsplit ma_dp_ffsplit;

/* Compiles the <FFOptions> of a split by profile (profileId, linkElementKey, headersOption,
 * batchCount). label names the step in messages. Returns a new state (free with
 * ma_dp_ffsplit_free) or NULL with err (the profile is not deployed or not a flat file profile,
 * the link element is not one of its elements). */
ma_dp_ffsplit *ma_dp_ffsplit_compile(ma_shape *shape, const xmlNode *ffoptions, const char *label, ma_error *err);
void ma_dp_ffsplit_free(ma_dp_ffsplit *s);

/* Splits every document of in (borrowed) into next (new references); a document that does not
 * parse with the profile fails alone (ma_outputs_fail). -1 only for out of memory. */
int ma_dp_ffsplit_run(const ma_dp_ffsplit *s, const ma_batch *in, ma_batch *next, ma_outputs *out, ma_error *err);

#endif
