/* component.c - the deployment's component index (componentId -> component), lookups by id or
 * name, and the list of problems found at deploy with where they are (file, line, component,
 * shape). See boomi-process-xml.md 1.1 for the envelope and 3 for how components refer to each
 * other by componentId. */
#include "component.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
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
        if (strcmp(dep->comps[v - 1]->id, id) == 0)
            return ma_component_parse(dep, dep->comps[v - 1]) == 0 ? dep->comps[v - 1] : NULL;
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
    return found && ma_component_parse(dep, found) == 0 ? found : NULL;
}

int ma_deploy_problem(ma_deploy *dep, const ma_component *comp, const ma_shape *shape, int line, int code,
                      const char *fmt, ...)
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
    if (!p->file || !p->component_id || !p->component_name || !p->shape || !p->label || !p->shapetype || !p->message) {
        ma_problem_free(p);
        return -1;
    }
    dep->n_problems++;
    return -1;
}

ma_component *ma_deploy_ref(ma_deploy *dep, const char *id, const char *type_prefix, const char *what, ma_error *err)
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

/* Appends problem p: with its place (file, line, component) or without it. */
static void put_problem(ma_sb *b, const ma_problem *p, int with_place)
{
    if (with_place && p->file && *p->file) ma_sb_printf(b, "%s:%d: ", p->file, p->line);
    if (with_place && p->component_id && *p->component_id)
        ma_sb_printf(b, "process '%s' (%s): ", p->component_name, p->component_id);
    if (p->shape && *p->shape) {
        ma_sb_printf(b, "shape %s", p->shape);
        if (p->label && *p->label) ma_sb_printf(b, " '%s'", p->label);
        if (p->shapetype && *p->shapetype) ma_sb_printf(b, " (%s)", p->shapetype);
        ma_sb_puts(b, ": ");
    }
    ma_sb_puts(b, p->message);
}

char *ma_problem_format(const ma_problem *p)
{
    ma_sb b;
    ma_sb_init(&b);
    put_problem(&b, p, 1);
    return ma_sb_take(&b, NULL);
}

void ma_problem_free(ma_problem *p)
{
    free(p->file);
    free(p->component_id);
    free(p->component_name);
    free(p->shape);
    free(p->label);
    free(p->shapetype);
    free(p->message);
    memset(p, 0, sizeof *p);
}

/* ---- the deployment side of the ABI (miniatom/deploy.h) ---- */

size_t ma_deploy_count(const ma_deploy *dep) { return dep ? dep->n : 0; }
ma_component *ma_deploy_at(const ma_deploy *dep, size_t i)
{
    return dep && i < dep->n && ma_component_parse(dep, dep->comps[i]) == 0 ? dep->comps[i] : NULL;
}
const char *ma_component_id(const ma_component *c) { return c->id; }
const char *ma_component_name(const ma_component *c) { return c->name; }
const char *ma_component_type(const ma_component *c) { return c->type; }
const char *ma_component_file(const ma_component *c) { return c->file; }
int ma_component_line(const ma_component *c) { return c->line; }
const ma_xml_node *ma_component_object(const ma_component *c) { return c->object; }

ma_process *ma_component_process(ma_deploy *dep, ma_component *c)
{
    if (!c || strcmp(c->type, "process") != 0) return NULL;
    ma_deploy_compile_process(dep, c);
    return c->process;
}

/* One reason: the problem with its place (file, line, component), or without it (callers of a
 * served process never see server paths). */
static char *reason_of(const ma_problem *p, int with_place)
{
    ma_sb b;
    ma_sb_init(&b);
    put_problem(&b, p, with_place);
    return ma_sb_take(&b, NULL);
}

/* Appends the reasons of c, then of the processes it calls that are not runnable (each once). */
static void reasons_of(const ma_deploy *dep, const ma_component *c, int with_place, size_t max, char **out, size_t *n,
                       const ma_component **seen, size_t *n_seen, size_t max_seen)
{
    for (size_t i = 0; i < *n_seen; i++)
        if (seen[i] == c) return;
    if (*n_seen < max_seen) seen[(*n_seen)++] = c;
    for (size_t i = 0; i < dep->n_problems && *n < max; i++) {
        if (strcmp(dep->problems[i].component_id, c->id) != 0) continue;
        char *r = reason_of(&dep->problems[i], with_place);
        if (r) out[(*n)++] = r;
    }
    if (!c->process) return;
    for (size_t i = 0; i < c->process->n_shapes && *n < max; i++) {
        const ma_shape *s = &c->process->shapes[i];
        if (strcmp(s->type_name, "processcall") != 0 || !s->config) continue;
        char *pid = ma_xml_attr(s->config, "processId");
        ma_component *child = pid ? ma_deploy_find(dep, pid) : NULL;
        free(pid);
        if (child && child->process && !child->process->runnable)
            reasons_of(dep, child, with_place, max, out, n, seen, n_seen, max_seen);
    }
}

size_t ma_deploy_reasons(const ma_deploy *dep, const ma_component *c, int with_place, size_t max, char ***out)
{
    *out = NULL;
    if (!max || !(*out = calloc(max, sizeof **out))) return 0;
    const ma_component *seen[256];
    size_t n = 0, n_seen = 0;
    reasons_of(dep, c, with_place, max, *out, &n, seen, &n_seen, 256);
    return n;
}

size_t ma_process_reasons(const ma_deploy *dep, const ma_component *c, size_t max, char ***out)
{
    return ma_deploy_reasons(dep, c, 0, max, out);
}
