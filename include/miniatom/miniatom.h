/* miniatom/miniatom.h - the public API of mini-Atom: include this one header.
 *
 * documents and batches (document.h), errors (error.h), settings and config maps (config.h), the
 * deployment (deploy.h), the shape ABI (shape.h), the connector ABI (connector.h), the listener ABI
 * (listener.h), the registry that plugins join (plugin.h), the helpers plugins may use
 * (helpers.h), the JSON reader (json.h) and Java regular expressions (jregex.h). `pkg-config --cflags miniatom` gives what a plugin
 * builds with. */
#ifndef MINIATOM_MINIATOM_H
#define MINIATOM_MINIATOM_H

#include "config.h"
#include "connector.h"
#include "deploy.h"
#include "document.h"
#include "error.h"
#include "helpers.h"
#include "json.h"
#include "jregex.h"
#include "listener.h"
#include "plugin.h"
#include "shape.h"

#define MA_VERSION_STRING "0.1.0"

#endif
