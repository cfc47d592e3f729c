/* jsonxml.h - JSON documents as XML for stylesheets: the W3C XPath 3.1 json-to-xml representation
 * (namespace http://www.w3.org/2005/xpath-functions: map, array, string, number, boolean, null,
 * with @key on the members of a map), and back (xml-to-json). Used by the map shape so that XSLT
 * 1.0 stylesheets can read and write JSON (issue 3, "Documents"). The same parser also builds
 * read-only trees and checks JSON without building anything: that part is public
 * (miniatom/json.h). Everything is bounded (nesting depth MA_JSONXML_MAX_DEPTH) and never touches
 * files or the network. */
#ifndef MA_JSONXML_H
#define MA_JSONXML_H

#include <libxml/tree.h>
#include <stddef.h>

#include "miniatom/error.h"
#include "miniatom/json.h"

#define MA_FN_NS "http://www.w3.org/2005/xpath-functions"
#define MA_JSONXML_MAX_DEPTH MA_JSON_MAX_DEPTH

/* Parses JSON text (RFC 8259; any value at the top) into a new XML document whose root element is
 * fn:map, fn:array, fn:string, fn:number, fn:boolean or fn:null (prefix "fn" bound to MA_FN_NS).
 * Numbers keep their JSON text; strings are stored unescaped (as XPath 3.1 does with
 * escape="false"). Returns a new xmlDoc (caller frees with xmlFreeDoc) or NULL with err ("line L,
 * column C: ..."). Duplicate keys in one object are kept, in order (XPath 3.1's default,
 * duplicates="retain"). */
xmlDoc *ma_json_to_xml(const char *json, size_t len, ma_error *err);

/* True when the element is one of the json-to-xml vocabulary (in MA_FN_NS). */
int ma_xml_is_json_vocab(const xmlNode *el);

/* Serializes an element of the json-to-xml vocabulary to JSON text (compact, UTF-8). Returns a
 * malloc'ed NUL-terminated string (caller frees) with *len set, or NULL with err naming what is
 * wrong and where (element name and line): an unknown element, a map member without @key, a
 * number that is not a JSON number, a boolean that is not true/false, text inside map or array,
 * duplicate keys in one map. White-space-only text between elements is ignored. */
char *ma_xml_to_json(const xmlNode *el, size_t *len, ma_error *err);

/* Is this document JSON? The rule of the map shape (docs/maps.md): when content_type is not NULL,
 * JSON exactly when it names application/json or a +json type; otherwise when the data starts,
 * after white space, with '{' or '[' and parses as JSON. */
int ma_doc_looks_json(const char *data, size_t len, const char *content_type);

#endif
