/* profile.h - profile elements: a Boomi profile component (profile.xml, profile.json) names its
 * elements with numeric keys; processes and document caches refer to an element by profile id and
 * element key (<profileelement elementId profileId profileType>). At deploy the key is resolved to
 * a path of element names; per document the path is evaluated on the XML or JSON data
 * (boomi-process-xml.md 3 "Profiles"). */
#ifndef MA_PROFILE_H
#define MA_PROFILE_H

#include "component.h"
#include "flatfile.h"
#include "miniatom/document.h"

typedef struct ma_profile_path ma_profile_path;

/* Resolves element_key in profile profile_id (a component of the deployment; its type must be
 * profile.xml, profile.json or profile.flatfile). Returns a new path (free with
 * ma_profile_path_free) or NULL with err (missing profile, unknown key, unsupported profile type
 * such as database or EDI). A flat file element is evaluated on the first record that has it;
 * per occurrence it is read from data of ma_profile_data_parse_flatfile. */
ma_profile_path *ma_profile_path_compile(ma_deploy *dep, const char *profile_id, const char *element_key,
                                         ma_error *err);
/* Builds a path directly from a slash-separated element name path ("Root/Object/wall/Object/ID"
 * for JSON, "CompoundEmployee/log/log_item" for XML); json selects the JSON reading. */
ma_profile_path *ma_profile_path_from_names(const char *names, int json, ma_error *err);
void ma_profile_path_free(ma_profile_path *p);
/* Readable form of the path ("CompoundEmployee/log/log_item"), borrowed. */
const char *ma_profile_path_str(const ma_profile_path *p);
int ma_profile_path_is_json(const ma_profile_path *p);

/* Value of the first element the path matches in doc's data, as a malloc'ed string ("" when the
 * element is absent or the data does not parse). NULL only when out of memory. */
char *ma_profile_path_eval(const ma_profile_path *p, const ma_doc *doc);

/* Splits doc's data into one document per element matched by the path (each a complete document
 * of its own: for XML the element with its ancestors' names rebuilt around it; for JSON the
 * array element wrapped the way the profile's root expects). New documents keep doc's properties
 * and tracking id. Appends to out. -1 with err when the data does not parse. */
int ma_profile_path_split(const ma_profile_path *p, const ma_doc *doc, ma_batch *out, ma_error *err);

/* ---- occurrences (Business Rules: a rule runs once per occurrence of its repeating fields) ----
 * A document's data is parsed once (ma_profile_data) and read many times: the matches of one path
 * are enumerated in document order, and other paths are read relative to a match, from the deepest
 * node they share with it (a field of the same detail element, or of one of its ancestors). */
typedef struct ma_profile_data ma_profile_data;
/* Parses doc's data as JSON or XML (no entities, no network). Empty data is an empty document
 * (nothing matches). NULL with err (MA_ERR_PARSE) when the data does not parse. */
ma_profile_data *ma_profile_data_parse(const ma_doc *doc, int json, ma_error *err);
/* Reads doc's data as a flat file of profile ff (borrowed; only for the call) into its XML form
 * (flatfile.h): each record (line) is one occurrence of the record of the fields that paths
 * compiled from the same profile name; numbers are in their plain form ("1,234.50" reads
 * "1234.5"), the column header line is left out. Empty data has no records. NULL with err
 * (MA_ERR_PARSE naming the line and field) when a line does not read as the profile. */
ma_profile_data *ma_profile_data_parse_flatfile(const ma_doc *doc, const ma_flatfile *ff, ma_error *err);
void ma_profile_data_free(ma_profile_data *d);

/* One match of a path: nodes[i] is where the walk stood after i steps (nodes[0] the document).
 * Borrowed from d; valid during the callback only. The root match (path NULL, depth 0) stands for
 * "no occurrence": every path is read from the document. */
typedef struct ma_profile_match {
    const ma_profile_data *data;
    const ma_profile_path *path;
    size_t depth;
    const void *const *nodes;
} ma_profile_match;
ma_profile_match ma_profile_match_root(const ma_profile_data *d);
/* Calls fn for every match of p in d, in document order, until fn returns non-zero (its value is
 * returned; -1 is an error with err set by fn). At most `limit` matches: more is MA_ERR_LIMIT. */
int ma_profile_path_each(const ma_profile_path *p, const ma_profile_data *d, size_t limit,
                         int (*fn)(void *ctx, const ma_profile_match *m), void *ctx, ma_error *err);
/* Value of q read from m: the first match of q below the deepest node q shares with m's path ("" when
 * none). malloc'ed; NULL only when out of memory. */
char *ma_profile_match_value(const ma_profile_match *m, const ma_profile_path *q);
/* The path of the element (XML) or value (JSON: an array item, an object entry) that holds p's
 * value: p without its last name, and for JSON without the object or array steps before it; for
 * a flat file element the record (FlatFile/RECORD: a line), not its group of elements. A
 * path of no steps matches once, at the document. New path (free with ma_profile_path_free) or
 * NULL with err. */
ma_profile_path *ma_profile_path_record(const ma_profile_path *p, ma_error *err);
/* Number of steps of p (the root value of a JSON path counts as one). */
size_t ma_profile_path_len(const ma_profile_path *p);

#endif
