/* component.c - the deployment's component index (componentId -> component), lookups by id or
 * name, and the list of problems found at deploy with where they are (file, line, component,
 * shape). See boomi-process-xml.md 1.1 for the envelope and 3 for how components refer to each
 * other by componentId. */
#include "component.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process.h"
#include "util.h"

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

ma_component *ma_deploy_find(const ma_deploy *dep, const char *id)
{
    if (!dep || !id || !dep->index_cap) return NULL;
    size_t mask = dep->index_cap - 1;
    for (size_t i = hash_str(id) & mask;; i = (i + 1) & mask) {
        size_t v = dep->index[i];
        if (!v) return NULL;
        if (strcmp(dep->comps[v - 1]->id, id) == 0) return dep->comps[v - 1];
    }
}

ma_component *ma_deploy_find_process(const ma_deploy *dep, const char *id_or_name)
{
    ma_component *c = ma_deploy_find(dep, id_or_name);
    if (c) return c;
    ma_component *found = NULL;
    for (size_t i = 0; i < dep->n; i++) {
        if (strcmp(dep->comps[i]->type, "process") == 0 && strcmp(dep->comps[i]->name, id_or_name) == 0) {
            if (found) return NULL; /* ambiguous */
            found = dep->comps[i];
        }
    }
    return found;
}

int ma_deploy_problem(ma_deploy *dep, const ma_component *comp, const ma_shape *shape, int line,
                      int code, const char *fmt, ...)
{
    if (dep->n_problems == dep->cap_problems) {
        size_t cap = dep->cap_problems ? dep->cap_problems * 2 : 16;
        ma_problem *np = realloc(dep->problems, cap * sizeof *np);
        if (!np) return -1;
        dep->problems = np;
        dep->cap_problems = cap;
    }
    ma_problem *p = &dep->problems[dep->n_problems];
    memset(p, 0, sizeof *p);
    char msg[MA_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->file = ma_strdup(comp ? comp->file : "");
    p->line = line ? line : (shape ? shape->line : (comp ? comp->line : 0));
    p->component_id = ma_strdup(comp ? comp->id : "");
    p->component_name = ma_strdup(comp ? comp->name : "");
    p->shape = ma_strdup(shape ? shape->name : "");
    p->label = ma_strdup(shape ? shape->label : "");
    p->shapetype = ma_strdup(shape ? shape->type_name : "");
    p->code = code;
    p->message = ma_strdup(msg);
    if (!p->file || !p->component_id || !p->component_name || !p->shape || !p->label || !p->shapetype ||
        !p->message) {
        free(p->file); free(p->component_id); free(p->component_name); free(p->shape);
        free(p->label); free(p->shapetype); free(p->message);
        return -1;
    }
    dep->n_problems++;
    return -1;
}

ma_component *ma_deploy_ref(ma_deploy *dep, const char *id, const char *type_prefix, const char *what,
                            ma_error *err)
{
    if (!id || !*id) {
        ma_error_set(err, MA_ERR_CONFIG, "no %s is set", what);
        return NULL;
    }
    ma_component *c = ma_deploy_find(dep, id);
    if (!c) {
        ma_error_set(err, MA_ERR_REF, "%s %s is not in the deployment", what, id);
        return NULL;
    }
    if (type_prefix && !ma_str_has_prefix(c->type, type_prefix)) {
        ma_error_set(err, MA_ERR_REF, "%s %s is a component of type '%s' ('%s' in %s), not %s", what, id, c->type,
                     c->name, c->file, type_prefix);
        return NULL;
    }
    return c;
}

char *ma_problem_format(const ma_problem *p)
{
    ma_sb b;
    ma_sb_init(&b);
    if (p->file && *p->file) ma_sb_printf(&b, "%s:%d: ", p->file, p->line);
    if (p->component_id && *p->component_id)
        ma_sb_printf(&b, "process '%s' (%s): ", p->component_name, p->component_id);
    if (p->shape && *p->shape) {
        ma_sb_printf(&b, "shape %s", p->shape);
        if (p->label && *p->label) ma_sb_printf(&b, " '%s'", p->label);
        if (p->shapetype && *p->shapetype) ma_sb_printf(&b, " (%s)", p->shapetype);
        ma_sb_puts(&b, ": ");
    }
    ma_sb_puts(&b, p->message);
    return ma_sb_take(&b, NULL);
}
