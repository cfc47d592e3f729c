/* profile.h - profile elements: a Boomi profile component (profile.xml, profile.json) names its
 * elements with numeric keys; processes and document caches refer to an element by profile id and
 * element key (<profileelement elementId profileId profileType>). At deploy the key is resolved to
 * a path of element names; per document the path is evaluated on the XML or JSON data
 * (boomi-process-xml.md 3 "Profiles"). */
#ifndef MA_PROFILE_H
#define MA_PROFILE_H

#include "component.h"
#include "miniatom/document.h"

typedef struct ma_profile_path ma_profile_path;

/* Resolves element_key in profile profile_id (a component of the deployment; its type must be
 * profile.xml, profile.json or profile.flatfile). Returns a new path (free with
 * ma_profile_path_free) or NULL with err (missing profile, unknown key, unsupported profile type
 * such as database or EDI). A flat file element is evaluated on the first record that has it. */
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

#endif
