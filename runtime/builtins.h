/* builtins.h - the built-in shape, connector and listener types (runtime/builtins.c names them all). */
#ifndef MA_BUILTINS_H
#define MA_BUILTINS_H

#include "miniatom/plugin.h"

/* Registers every built-in type through the same calls a plugin makes, after the process-wide set-up
 * they need (libxslt's, before any thread runs a map). */
int ma_builtins_register(ma_registry *reg, ma_error *err);
/* A new registry holding every built-in type (free with ma_registry_free); NULL with err. */
ma_registry *ma_builtins_registry(ma_error *err);

#endif
