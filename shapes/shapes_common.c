/* shapes_common.c - helpers several built-in shapes share: lists of <parametervalue> and {n}
 * message templates with their parameters (Message, Notify, Exception). */
#include "shapes_common.h"

#include <stdlib.h>

#include "params.h"
#include "util.h"

void ma_params_free(ma_param **ps, size_t n)
{
    for (size_t i = 0; i < n; i++) ma_param_free(ps[i]);
    free(ps);
}

int ma_params_compile_children(ma_shape *shape, const ma_xml_node *node, ma_param ***out, size_t *n, ma_error *err)
{
    *out = NULL;
    *n = 0;
    size_t cnt = 0;
    for (xmlNode *c = ma_xml_child(node, "parametervalue"); c; c = ma_xml_next(c, "parametervalue")) cnt++;
    if (!cnt) return 0;
    ma_param **ps = calloc(cnt, sizeof *ps);
    if (!ps) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    size_t i = 0;
    for (xmlNode *c = ma_xml_child(node, "parametervalue"); c; c = ma_xml_next(c, "parametervalue")) {
        if (!(ps[i] = ma_param_compile(shape, c, err))) {
            ma_params_free(ps, i);
            return -1;
        }
        i++;
    }
    *out = ps;
    *n = cnt;
    return 0;
}

char **ma_params_eval_all(ma_exec *ex, ma_param **ps, size_t n, const ma_doc *doc, ma_error *err)
{
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = ma_param_eval(ex, ps[i], doc, err))) {
            ma_strings_free(v, i);
            return NULL;
        }
    return v;
}

int ma_msg_compile(ma_shape *shape, const ma_xml_node *config, const char *text_el, const char *params_el, ma_msg *m,
                   ma_error *err)
{
    m->tpl = NULL;
    m->ps = NULL;
    m->n = 0;
    char *text = ma_xml_text(ma_xml_child(config, text_el));
    if (!text) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    m->tpl = ma_template_compile(text, err);
    free(text);
    if (!m->tpl) {
        ma_error_prefix(err, "%s", text_el);
        return -1;
    }
    const ma_xml_node *params = ma_xml_child(config, params_el);
    if (params && ma_params_compile_children(shape, params, &m->ps, &m->n, err) < 0) {
        ma_error_prefix(err, "%s", params_el);
        ma_msg_free(m);
        return -1;
    }
    return 0;
}

int ma_msg_render(ma_exec *ex, const ma_msg *m, const ma_doc *doc, ma_sb *out, ma_error *err)
{
    char **vals = NULL;
    if (m->n) {
        vals = ma_params_eval_all(ex, m->ps, m->n, doc, err);
        if (!vals) return err && err->code == MA_ERR_NOMEM ? -1 : 1;
    }
    int rc = ma_template_render(m->tpl, (const char *const *)vals, m->n, out);
    if (vals) ma_strings_free(vals, m->n);
    if (rc < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return 0;
}

void ma_msg_free(ma_msg *m)
{
    ma_template_free(m->tpl);
    if (m->ps) ma_params_free(m->ps, m->n);
    m->tpl = NULL;
    m->ps = NULL;
    m->n = 0;
}
