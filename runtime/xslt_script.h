/* xslt_script.h - the map Scripting functions' XSLT extension functions (xslt_script.c):
 * ma:script(language, source, n, inName1, inValue1, ..., outName1, ...) runs a script once in the
 * script host (scripthost.h) and returns a handle; ma:script-output(handle, i) is output i. */
#ifndef MA_XSLT_SCRIPT_H
#define MA_XSLT_SCRIPT_H

#include <libxml/xpathInternals.h>

#include "miniatom/config.h"
#include "miniatom/shape.h"

/* The values of one transform's script calls (owned by the transform's state in xslt.c). */
typedef struct ma_xslt_calls ma_xslt_calls;
void ma_xslt_calls_free(ma_xslt_calls *c); /* NULL is fine */

/* Registers ma:script and ma:script-output (once, with xslt.c's other functions). */
void ma_xslt_script_register(void);

/* Provided by xslt.c for the functions: the transform's execution, the deployment's settings
 * (NULL: none) and the transform's call values (created on first use; NULL when out of memory); a
 * script that fails fails the transform with ma_xslt_fn_fail (xslt.h). */
ma_exec *ma_xslt_exec_of(xmlXPathParserContextPtr ctxt);
const ma_settings *ma_xslt_settings_of(xmlXPathParserContextPtr ctxt);
ma_xslt_calls **ma_xslt_calls_of(xmlXPathParserContextPtr ctxt);

#endif
