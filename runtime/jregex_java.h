/* jregex_java.h - the syntax adapter of the Java regular expressions (jregex.c): rewrites a
 * java.util.regex pattern into a PCRE2 pattern of the same meaning, or refuses it with the index
 * and the reason. It is not a regex engine: PCRE2 matches; this only spells Java's constructs so
 * that PCRE2 reads them as Java does (docs/decisions/024-java-regex-on-pcre2.md). */
#ifndef MA_JREGEX_JAVA_H
#define MA_JREGEX_JAVA_H

#include <stddef.h>

#include "miniatom/error.h"

typedef struct ma_jregex_pcre {
    char *pattern; /* the PCRE2 pattern (ASCII only; malloc'ed, the caller frees) */
    size_t len;
    size_t *from; /* from[k]: the byte of the Java pattern that output byte k came from (malloc'ed) */
    int groups;   /* capturing groups (Java and PCRE2 number them alike) */
} ma_jregex_pcre;

/* Translates java (NUL-terminated UTF-8) into *out. -1 with err (*out empty): MA_ERR_CONFIG when
 * Java itself refuses the pattern, MA_ERR_UNSUPPORTED for what mini-Atom refuses on purpose. The
 * message is "regular expression 'P': <reason> near index N". */
int ma_jregex_translate(const char *java, ma_jregex_pcre *out, ma_error *err);
void ma_jregex_pcre_free(ma_jregex_pcre *p);
/* The index Java reports for byte offset off of java (UTF-16 units from the start). */
size_t ma_jregex_java_index(const char *java, size_t off);

#endif
