/* datefmt.h - Java SimpleDateFormat masks (yyyy-MM-dd'T'HH:mm:ss.SSSZ ...), compiled once and
 * used to format and parse dates. Boomi uses these masks in date parameters and map functions
 * (boomi-atom-semantics.md 2 "Message": date masks follow SimpleDateFormat quoting).
 *
 * Supported letters: G y Y M L d D E u a H k K h m s S z Z X w W F; 'quoted text' and '' for '.
 * Month and day names are English. Other letters are a compile error. */
#ifndef MA_DATEFMT_H
#define MA_DATEFMT_H

#include <time.h>
#include "miniatom/error.h"
#include "util.h"

typedef struct ma_datefmt ma_datefmt;

ma_datefmt *ma_datefmt_compile(const char *mask, ma_error *err);
void ma_datefmt_free(ma_datefmt *f);
/* Formats the instant (seconds + milliseconds since the epoch) in UTC (utc_offset_min = 0) or
 * at the given offset from UTC in minutes. Appends to out. */
int ma_datefmt_format(const ma_datefmt *f, time_t secs, int millis, int utc_offset_min, ma_sb *out);
/* Parses text with the mask; -1 with err when text does not match. Missing fields default to
 * 1970-01-01 00:00:00.000 UTC. */
int ma_datefmt_parse(const ma_datefmt *f, const char *text, time_t *secs, int *millis, ma_error *err);
/* Boomi's Date Format function: text read with from_mask and written with to_mask into *out
 * (malloc'ed, the caller frees; "" stays ""). 0 on success; -1 with err when a mask does not
 * compile (or out of memory); 1 with err when text does not match from_mask. */
int ma_datefmt_convert(const char *text, const char *from_mask, const char *to_mask, char **out, ma_error *err);

#endif
