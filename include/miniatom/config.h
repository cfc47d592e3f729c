/* miniatom/config.h - settings and the config maps that declare them.
 *
 * Settings are "key = value" pairs from configuration files (one per line, '#' and '!' start
 * comments, as Boomi's container.properties) and from `--set KEY=VALUE`, later ones winning; each
 * remembers where it came from ("FILE:LINE", "--set"), so that every problem names its place.
 *
 * Every type that has settings - the server, each listener type, each connector type (the fields
 * of its connection) - declares them in a config map: an array of ma_config_entry ending with
 * MA_CONFIG_END, giving each key its kind, default, bounds and description. One reader and one
 * value grammar serve all of them (docs/configuration.md):
 *   bool      true, false, yes, no, on, off, 1, 0 (any case)
 *   uint      a whole number: 42
 *   size      bytes, with an optional unit in powers of 1024: 512, 16KB, 1MB, 2GiB
 *   duration  a whole number with its unit ms, s, m or h: 500ms, 30s, 2m (a bare 0 needs none)
 *   string    any text; empty only where the entry allows it (MA_CONFIG_EMPTY)
 *   file      a readable regular file; dir: an existing directory
 *   enum      one of the entry's choices, as written there
 * A type reads its values with ma_config_read into its own struct (each entry names the member
 * with MA_CONFIG_AT), in the spirit of Fluent Bit's config maps. */
#ifndef MINIATOM_CONFIG_H
#define MINIATOM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- settings ------------------------------------------------------------------------------- */

typedef struct ma_settings ma_settings; /* an ordered list of key, value, origin (owns them all) */

ma_settings *ma_settings_new(void); /* NULL when out of memory; free with ma_settings_free */
void ma_settings_free(ma_settings *s);
/* Appends every "key = value" line of FILE (at most 1 MiB). Blanks around key and value are
 * dropped; blank lines and comments are skipped but counted, so that origins are "FILE:LINE" of
 * the line as an editor shows it. -1 with err "FILE:LINE: expected 'key = value'" (nothing of the
 * file is kept then) or naming why the file cannot be read. */
int ma_settings_load_file(ma_settings *s, const char *path, ma_error *err);
/* Appends one "KEY=VALUE" argument, read as a file line is (blanks dropped); origin "--set".
 * -1 with err when it has no '=' or no key. */
int ma_settings_add_arg(ma_settings *s, const char *kv, ma_error *err);
/* Appends key = value (copied) with its origin (copied; NULL: "--set"). */
int ma_settings_add(ma_settings *s, const char *key, const char *value, const char *origin, ma_error *err);
/* The value of key (the last one set wins), borrowed for the settings' lifetime; NULL when unset.
 * s may be NULL. */
const char *ma_settings_get(const ma_settings *s, const char *key);
/* Where the value ma_settings_get returns came from ("FILE:LINE", "--set"), or NULL when unset. */
const char *ma_settings_origin(const ma_settings *s, const char *key);
/* Entry i in the order they were added (borrowed); 0 while i < count. */
size_t ma_settings_count(const ma_settings *s);
int ma_settings_at(const ma_settings *s, size_t i, const char **key, const char **value, const char **origin);

/* ---- config maps ---------------------------------------------------------------------------- */

typedef enum ma_config_kind {
    MA_CONFIG_STRING = 0, /* stored as const char * (borrowed from the settings or the map) */
    MA_CONFIG_BOOL,       /* int, 0 or 1 */
    MA_CONFIG_UINT,       /* uint64_t */
    MA_CONFIG_SIZE,       /* uint64_t, bytes */
    MA_CONFIG_DURATION,   /* uint64_t, milliseconds */
    MA_CONFIG_FILE,       /* const char *: a readable regular file */
    MA_CONFIG_DIR,        /* const char *: an existing directory */
    MA_CONFIG_ENUM        /* int: the index of the value in choices */
} ma_config_kind;

/* entry flags */
#define MA_CONFIG_EMPTY 0x1  /* an empty value is allowed (a string kind) */
#define MA_CONFIG_SECRET 0x2 /* never repeat the value in an error */

typedef struct ma_config_entry {
    /* The key under the map's prefix ("callback.timeout" under "fss."). A "*" segment matches one
     * segment ("a.*.b" matches "a.x.b"); a final "*" matches the rest, one segment or more
     * ("user.*" matches "user.ada" and "user.a.b"). Such entries are checked but not stored. */
    const char *key;
    ma_config_kind kind;
    const char *def;             /* the default, written in the grammar above (NULL: unset) */
    unsigned long long min, max; /* uint, size (bytes), duration (ms): bounds when max != 0 */
    const char *const *choices;  /* enum: NULL-terminated list of the values */
    const char *description;     /* one line for docs and `miniatom plugins` */
    /* Extra validation of a value that passed its kind: 0, or -1 with why (without the key). */
    int (*check)(const char *value, char *why, size_t whyn);
    unsigned flags; /* MA_CONFIG_* */
    size_t at;      /* MA_CONFIG_AT(struct, member), 0: not stored */
} ma_config_entry;

#define MA_CONFIG_AT(type, member) (offsetof(type, member) + 1)
/* (clang-format 14 would lay this braced initializer out as a block) */
/* clang-format off */
#define MA_CONFIG_END {NULL, MA_CONFIG_STRING, NULL, 0, 0, NULL, NULL, NULL, 0, 0}
/* clang-format on */

/* Checks one value against entry e (kind, bounds, choices, check). 0, or -1 with why, which does
 * not name the key (callers prefix it) and never repeats a secret's value. */
int ma_config_check_value(const ma_config_entry *e, const char *value, char *why, size_t whyn);
/* The entry of map that key (without the prefix) names, or NULL. */
const ma_config_entry *ma_config_find(const ma_config_entry *map, const char *key);
/* Stores into out (a struct of the type's, see MA_CONFIG_AT) the value of every stored entry of
 * map: the setting prefix+key from s when set (s may be NULL), else the default; entries with
 * neither are left as they are in out. -1 with err "ORIGIN: KEY: why" for the first value that
 * is not valid (settings are normally checked before: see `serve --check-config`). */
int ma_config_read(const ma_config_entry *map, const char *prefix, const ma_settings *s, void *out, ma_error *err);
/* One value parsed by e's kind into *num (uint, size, duration: the number; bool, enum: 0/1 or the
 * index). 0, or -1 with why as ma_config_check_value. For values read outside a settings list
 * (a connection's fields). */
int ma_config_parse(const ma_config_entry *e, const char *value, uint64_t *num, char *why, size_t whyn);

#ifdef __cplusplus
}
#endif
#endif
