/* miniatom/miniatom.h - the public API of mini-Atom: include this one header.
 *
 * documents and batches (document.h), errors (error.h), the shape ABI (shape.h), the connector ABI
 * (connector.h) and the registry that plugins join (plugin.h). */
#ifndef MINIATOM_MINIATOM_H
#define MINIATOM_MINIATOM_H

#include "connector.h"
#include "document.h"
#include "error.h"
#include "plugin.h"
#include "shape.h"

#define MA_VERSION_STRING "0.1.0"

#endif
