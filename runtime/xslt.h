/* xslt.h - stylesheets for map shapes: compiled once per deployment from an XSLT component
 * (type "xslt", a mini-Atom extension: <bns:object> holds an xsl:stylesheet) or from a Boomi Map
 * component (mapcompile.h), shared by every execution and thread, and applied per document with
 * the mini-Atom extension functions (namespace urn:miniatom) and libxslt's security preferences
 * forbidding file, directory and network access. See docs/maps.md. */
#ifndef MA_XSLT_H
#define MA_XSLT_H

#include "component.h"
#include "miniatom/shape.h"

#define MA_XSLT_NS "urn:miniatom"

typedef struct ma_xslt ma_xslt;

/* The compiled stylesheet of component id (type xslt or transform.map), compiled on first use and
 * kept by the component (freed with the deployment). Returns a borrowed pointer or NULL with err
 * (a stylesheet that does not compile: its line and libxslt's message; an unsupported map). */
const ma_xslt *ma_xslt_for(ma_deploy *dep, const char *component_id, ma_error *err);

/* The stylesheet text of component id: the generated stylesheet of a Map component, or the XSLT
 * component's own. malloc'ed (caller frees), or NULL with err. */
char *ma_xslt_text(ma_deploy *dep, const char *component_id, ma_error *err);

/* Applies the stylesheet to doc. On success *out is a new document (derived from doc: its
 * properties, plus those the stylesheet set). Returns 0, 1 when this document fails (err holds
 * the stylesheet's message: a runtime error, xsl:message terminate="yes", input that does not
 * parse, a result that is not valid JSON), or -1 for a process-level error (out of memory). */
int ma_xslt_apply(const ma_xslt *x, ma_exec *ex, const ma_doc *doc, ma_doc **out, ma_error *err);

/* For extension functions defined in other files (map_xref.c): the execution a function runs in
 * (NULL outside a transform), and failing the document with a message (the XPath error is set). */
struct _xmlXPathParserContext;
ma_exec *ma_xslt_fn_exec(struct _xmlXPathParserContext *ctxt);
void ma_xslt_fn_fail(struct _xmlXPathParserContext *ctxt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Process-wide libxslt set-up (idempotent, thread-safe): EXSLT and the ma: functions. */
void ma_xslt_global_init(void);

#endif
