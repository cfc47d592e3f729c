/* map_xref.h - the Cross Reference Lookup map function at run time: the XSLT extension function
 * ma:crossref(tableId, outputColumn, inputColumn1, value1, inputColumn2, value2, ...) that the map
 * compiler (mapcompile.c) generates for a FunctionStep of type CrossRefLookup. Columns are Boomi's
 * 1-based refIds; the result is the output column of the first matching row, "" when none matches
 * (an empty result writes no target element). See crossref.h and docs/maps.md. */
#ifndef MA_MAP_XREF_H
#define MA_MAP_XREF_H

#include <libxml/xpathInternals.h>

/* Registered by xslt.c in the urn:miniatom namespace. */
void ma_xslt_fn_crossref(xmlXPathParserContextPtr ctxt, int nargs);

#endif
