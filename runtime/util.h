/* util.h - the helpers of miniatom/helpers.h (shared with plugins, part of the ABI) plus the few
 * the runtime keeps to itself. Implemented in util.c. */
#ifndef MA_UTIL_H
#define MA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>

#include "miniatom/error.h"

#include "miniatom/helpers.h"

/* Parse flags for every XML parse in mini-Atom: no entity substitution, no DTD loading, no network. */
#define MA_XML_PARSE_FLAGS (XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR)

#endif
