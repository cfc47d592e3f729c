/* mapcompile.h - compiles a Boomi Map component (type transform.map; boomi-process-xml.md 3) into
 * an XSLT 1.0 stylesheet, using its fromProfile and toProfile profile components (profile.xml,
 * profile.json and profile.flatfile). The stylesheet reads XML input as it is, JSON input in the
 * json-to-xml vocabulary (jsonxml.h) and flat file input in the tree of flatfile.h, and writes the
 * output profile's form (JSON output in that vocabulary, flat file output as that tree).
 * Map functions compile to XPath or to the mini-Atom extension functions (namespace urn:miniatom,
 * prefix ma; see docs/maps.md):
 *   ma:property(id), ma:set-property(id, value), ma:execution(name), ma:date(mask),
 *   ma:date-convert(value, fromMask, toMask), ma:sequence(name), ma:upper(s), ma:lower(s),
 *   ma:trim(s), ma:ltrim(s), ma:rtrim(s), ma:crossref(table, outCol, inCol, value, ...)
 * Anything it cannot compile (an unsupported function type, a database or EDI profile,
 * a document cache join, a scripting or user-defined function, a missing profile) is an error
 * naming the map, the mapping or function key, and what is unsupported - never a silently wrong
 * stylesheet. */
#ifndef MA_MAPCOMPILE_H
#define MA_MAPCOMPILE_H

#include "component.h"

/* Returns the stylesheet text (malloc'ed, caller frees) or NULL with err. map must be a component
 * of type transform.map in dep. */
char *ma_map_to_xslt(ma_deploy *dep, const ma_component *map, ma_error *err);

#endif
