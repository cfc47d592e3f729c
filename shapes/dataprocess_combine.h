/* dataprocess_combine.h - Data Process "Combine Documents" into a new profile, called from
 * dataprocess.c (internal to the shape; see dataprocess_combine.c for the behaviour). */
#ifndef MA_DATAPROCESS_COMBINE_H
#define MA_DATAPROCESS_COMBINE_H

#include <libxml/tree.h>

#include "miniatom/shape.h"

typedef struct ma_dp_combine_into ma_dp_combine_into;

/* Compiles the <XMLOptions> / <JSONOptions> (json) of a combine whose combineIntoLinkElementKey
 * names an element: the combine element (profileId, linkElementKey, linkElementName) and the
 * element to combine into (combineIntoProfileId, else profileId; combineIntoLinkElementKey;
 * combineIntoLinkElementName). label names the step in messages. Returns a new state (free with
 * ma_dp_combine_into_free) or NULL with err. */
ma_dp_combine_into *ma_dp_combine_into_compile(ma_shape *shape, const xmlNode *opts, int json, const char *label,
                                               ma_error *err);
void ma_dp_combine_into_free(ma_dp_combine_into *c);

/* Combines the documents of in (borrowed) into one new document pushed to next (a new reference);
 * a document that does not parse fails alone (ma_outputs_fail). -1 only for out of memory. */
int ma_dp_combine_into_run(const ma_dp_combine_into *c, const ma_batch *in, ma_batch *next, ma_outputs *out,
                           ma_error *err);

#endif
