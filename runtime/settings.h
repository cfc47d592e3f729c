/* settings.h - deployment settings: a key=value configuration file (in the spirit of Boomi's
 * container.properties: one "key = value" per line, '#' or '!' comments) plus --set overrides.
 * Connection settings (environment extensions) are looked up through these and the environment
 * (miniatom/connector.h: ma_connector_setting). */
#ifndef MA_SETTINGS_H
#define MA_SETTINGS_H

#include <stddef.h>

#include "miniatom/error.h"

/* Reads FILE into "key=value" strings appended to *list (malloc'ed array of malloc'ed strings;
 * free with ma_settings_free). -1 with err naming the file and line of a line that is not
 * "key = value". Files are bounded to 1 MiB. */
int ma_settings_load(const char *path, char ***list, size_t *n, ma_error *err);
/* Appends one "key=value" (copied). */
int ma_settings_add(char ***list, size_t *n, const char *kv, ma_error *err);
void ma_settings_free(char **list, size_t n);
/* The value of key in list (the last one wins), borrowed; NULL when unset. */
const char *ma_settings_get(const char *const *list, size_t n, const char *key);

#endif
