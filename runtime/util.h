/* util.h - the helpers of miniatom/helpers.h (shared with plugins, part of the ABI) plus the few
 * the runtime keeps to itself. Implemented in util.c. */
#ifndef MA_UTIL_H
#define MA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>

#include "miniatom/error.h"

#include "miniatom/helpers.h"

/* ma_utf8_decode (helpers.h) itself, inline for the runtime's hot loops (the JSON parser and
 * string escaper): the one strict UTF-8 decoder. */
static inline size_t ma_utf8_decode_inline(const unsigned char *p, size_t left, unsigned *cp)
{
    if (!left) return 0;
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        if (left < 2 || (p[1] & 0xC0) != 0x80) return 0;
        *cp = ((c & 0x1Fu) << 6) | (p[1] & 0x3Fu);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && p[1] > 0x9F) return 0; /* surrogate */
        *cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && p[1] > 0x8F) return 0; /* above U+10FFFF */
        *cp = ((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
        return 4;
    }
    return 0;
}

/* Parse flags for every XML parse in mini-Atom: no entity substitution, no DTD loading, no network. */
#define MA_XML_PARSE_FLAGS (XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR)

/* ma_dir_list, with each entry's kind in *kinds (malloc'ed, caller frees): 'd' a folder, 'f' a
 * regular file, '?' not known without a stat (as readdir tells it). */
int ma_dir_list_kinds(const char *dir, const char *suffix, size_t max, char ***names, char **kinds, size_t *n,
                      ma_error *err);

/* Removes path and everything under it, without following symbolic links; best effort (what
 * cannot be removed stays). */
void ma_remove_tree(const char *path);

#endif
