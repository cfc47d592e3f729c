/* shapes_common.h - what the built-in shapes share: the connector step (connectoraction.c) and
 * helpers for <parametervalue> lists and {n} message templates (shapes_common.c). */
#ifndef MA_SHAPES_COMMON_H
#define MA_SHAPES_COMMON_H

#include "miniatom/plugin.h"
#include "template.h"

/* The connector step behind connectoraction shapes and connector Get starts: compiled data is
 * returned in *data (owned by the caller; free with ma_connstep_destroy). Declares output 0. */
int ma_connstep_compile(ma_shape *shape, const ma_xml_node *config, void **data, ma_error *err);
int ma_connstep_execute(ma_exec *ex, ma_shape *shape, void *data, ma_batch *in, ma_outputs *out, ma_error *err);
void ma_connstep_destroy(ma_shape *shape, void *data);
/* The same connector step for a call made inside another shape (a connector parameter value,
 * connectorparam.c): no output is declared; run it with ma_connstep_execute on outputs of its own
 * (ma_outputs_new). */
int ma_connstep_compile_call(ma_shape *shape, const ma_xml_node *config, void **data, ma_error *err);

/* Helpers shared by shapes. */
/* Compiles every <parametervalue> child of node (in document order) into *out (malloc'ed array of
 * owned params; free with ma_params_free). */
int ma_params_compile_children(ma_shape *shape, const ma_xml_node *node, ma_param ***out, size_t *n, ma_error *err);
void ma_params_free(ma_param **ps, size_t n);
/* Evaluates params for doc into a malloc'ed array of malloc'ed strings (free with
 * ma_strings_free). */
char **ma_params_eval_all(ma_exec *ex, ma_param **ps, size_t n, const ma_doc *doc, ma_error *err);

/* A {n} message template with its <parametervalue> list, as Message, Notify and Exception hold
 * them. */
typedef struct ma_msg {
    ma_template *tpl;
    ma_param **ps;
    size_t n;
} ma_msg;
/* Compiles config's <text_el> (the template) and <params_el> (its parameter values, optional)
 * into *m; errors are prefixed with the element's name. On failure *m is left empty. */
int ma_msg_compile(ma_shape *shape, const ma_xml_node *config, const char *text_el, const char *params_el, ma_msg *m,
                   ma_error *err);
/* Appends the rendering for doc (may be NULL) to out. 0 on success; 1 when the parameters cannot
 * be evaluated for this document (a document error, message in err); -1 for a process-level
 * error (out of memory). */
int ma_msg_render(ma_exec *ex, const ma_msg *m, const ma_doc *doc, ma_sb *out, ma_error *err);
void ma_msg_free(ma_msg *m);

#endif
