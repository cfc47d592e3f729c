/* template.h - Boomi message templates ({1}, {2} ... with Java MessageFormat quoting), compiled
 * once at deploy and rendered per document. Used by Message, Notify and Exception shapes
 * (boomi-atom-semantics.md 2 "Message"; boomi-process-xml.md 2 "message").
 *
 * Rules: {n} (n >= 1) is replaced by argument n; a lone ' starts or ends a quoted (literal)
 * section; '' is one '; an unclosed ' quotes the rest of the template; inside a quoted section
 * { and } are literal. {n,anything} renders argument n. A reference to an argument that was not
 * given renders as "{n}" literally. An unquoted { that does not start a valid {n} is a compile
 * error naming the column. */
#ifndef MA_TEMPLATE_H
#define MA_TEMPLATE_H

#include <stddef.h>
#include "miniatom/error.h"
#include "util.h"

typedef struct ma_template ma_template;

/* Returns a new template (free with ma_template_free) or NULL with err. */
ma_template *ma_template_compile(const char *text, ma_error *err);
void ma_template_free(ma_template *t);
/* Appends the rendering to out. args[i] is argument i+1 (NULL renders as ""). */
int ma_template_render(const ma_template *t, const char *const *args, size_t nargs, ma_sb *out);
/* Highest argument number referenced (0 when none). */
int ma_template_max_arg(const ma_template *t);

#endif
