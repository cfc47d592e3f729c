/* process.c - compiles a process component into a graph of shapes (boomi-process-xml.md 1.3):
 * shapes by name, dragpoints bound to the outputs each shape type declares (decision true/false,
 * branch 1..N, catcherrors default/error, processcall child return shapes ...), toShape="unset"
 * and missing dragpoints as path ends, note shapes ignored. Everything wrong is recorded as a
 * problem with file, line, shape name and label; a process with a problem is not runnable. */
#include "process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "registry.h"
#include "util.h"

/* ---- the process side of the ABI (miniatom/deploy.h) ---- */
ma_component *ma_process_component(const ma_process *p) { return p->comp; }
int ma_process_runnable(const ma_process *p) { return p && p->runnable; }
int ma_process_returns(const ma_process *p) { return p && p->has_return; }
int ma_process_low_latency(const ma_process *p) { return p && p->low_latency; }

/* ---- the shape side of the ABI ---- */
const char *ma_shape_name(const ma_shape *s) { return s->name; }
const char *ma_shape_label(const ma_shape *s) { return s->label; }
const char *ma_shape_type_name(const ma_shape *s) { return s->type_name; }
const char *ma_shape_process_id(const ma_shape *s) { return s->process->comp->id; }
ma_deploy *ma_shape_deploy(const ma_shape *s) { return s->deploy; }
void *ma_shape_data(const ma_shape *s) { return s->data; }
void ma_shape_set_data(ma_shape *s, void *data) { s->data = data; }
size_t ma_shape_dragpoint_count(const ma_shape *s) { return s->n_dps; }
const char *ma_shape_dragpoint_identifier(const ma_shape *s, size_t i)
{
    return i < s->n_dps ? s->dps[i].identifier : NULL;
}

int ma_shape_declare_output(ma_shape *s, const char *identifier, ma_error *err)
{
    for (size_t i = 0; i < s->n_outs; i++)
        if (ma_streq(s->outs[i].identifier, identifier))
            return ma_error_set(err, MA_ERR_CONFIG, "output '%s' is declared twice", identifier ? identifier : "");
    ma_output *no = realloc(s->outs, (s->n_outs + 1) * sizeof *no);
    if (!no) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    s->outs = no;
    ma_output *o = &s->outs[s->n_outs];
    memset(o, 0, sizeof *o);
    o->dp = -1;
    if (identifier && !(o->identifier = ma_strdup(identifier))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    /* bind the dragpoint with this identifier; the unnamed output takes the first dragpoint
     * without identifier, or the only dragpoint there is */
    for (size_t i = 0; i < s->n_dps && o->dp < 0; i++)
        if (!s->dps[i].used && ma_streq(s->dps[i].identifier, identifier)) o->dp = (int)i;
    if (!identifier && o->dp < 0 && s->n_dps == 1 && !s->dps[0].used) o->dp = 0;
    if (o->dp >= 0) {
        s->dps[o->dp].used = 1;
        if (s->dps[o->dp].text && !(o->text = ma_strdup(s->dps[o->dp].text))) {
            free(o->identifier);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    }
    return (int)s->n_outs++;
}

ma_shape *ma_process_find_shape(const ma_process *p, const char *name)
{
    for (size_t i = 0; i < p->n_shapes; i++)
        if (strcmp(p->shapes[i].name, name) == 0) return &p->shapes[i];
    return NULL;
}

/* A shape waits unless its type works in memory: its may_wait() decides where the configuration
 * matters, else the MA_SHAPE_IN_MEMORY trait. A shape whose type is unknown or did not compile may
 * wait. Process calls follow their children; the depth bounds a chain the loader has not refused. */
static _Thread_local int may_wait_depth;

int ma_process_may_wait(const ma_process *p)
{
    if (!p || may_wait_depth > 16) return 1;
    int wait = 0;
    may_wait_depth++;
    for (size_t i = 0; i < p->n_shapes && !wait; i++) {
        const ma_shape *s = &p->shapes[i];
        if (!s->type || !s->compiled || s->calls_out) wait = 1;
        else if (s->type->may_wait) wait = s->type->may_wait(s) != 0;
        else wait = !(s->type->traits & MA_SHAPE_IN_MEMORY);
    }
    may_wait_depth--;
    return wait;
}

static int read_shape(ma_deploy *dep, ma_component *comp, xmlNode *node, ma_shape *s)
{
    s->node = node;
    s->line = node->line;
    s->name = ma_xml_attr(node, "name");
    s->label = ma_xml_attr(node, "userlabel");
    s->type_name = ma_xml_attr(node, "shapetype");
    if (!s->label) s->label = ma_strdup("");
    if (!s->name) s->name = ma_strdup("");
    if (!s->type_name) s->type_name = ma_strdup("");
    if (!s->name || !s->label || !s->type_name) return -1;
    xmlNode *conf = ma_xml_child(node, "configuration");
    s->config = conf ? ma_xml_child(conf, NULL) : NULL;
    xmlNode *dps = ma_xml_child(node, "dragpoints");
    size_t n = 0;
    for (xmlNode *d = ma_xml_child(dps, "dragpoint"); d; d = ma_xml_next(d, "dragpoint")) n++;
    if (n) {
        s->dps = calloc(n, sizeof *s->dps);
        if (!s->dps) return -1;
    }
    for (xmlNode *d = ma_xml_child(dps, "dragpoint"); d; d = ma_xml_next(d, "dragpoint")) {
        ma_dragpoint *dp = &s->dps[s->n_dps++];
        dp->line = d->line;
        dp->identifier = ma_xml_attr(d, "identifier");
        dp->text = ma_xml_attr(d, "text");
        dp->to = ma_xml_attr(d, "toShape");
        if (dp->to && (!*dp->to || strcmp(dp->to, "unset") == 0)) {
            free(dp->to);
            dp->to = NULL;
        }
    }
    (void)dep;
    (void)comp;
    return 0;
}

static void shape_free(ma_shape *s)
{
    if (s->type && s->type->destroy && s->compiled) s->type->destroy(s);
    for (size_t i = 0; i < s->n_outs; i++) {
        free(s->outs[i].identifier);
        free(s->outs[i].text);
    }
    free(s->outs);
    for (size_t i = 0; i < s->n_dps; i++) {
        free(s->dps[i].identifier);
        free(s->dps[i].text);
        free(s->dps[i].to);
    }
    free(s->dps);
    free(s->name);
    free(s->label);
    free(s->type_name);
}

void ma_process_free(ma_process *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n_shapes; i++) shape_free(&p->shapes[i]);
    free(p->shapes);
    free(p);
}

/* Depth-first search for a path that loops back (0 white, 1 on stack, 2 done). */
static int find_loop(ma_process *p, ma_shape *s, unsigned char *mark, ma_shape **from, ma_shape **to)
{
    mark[s->index] = 1;
    for (size_t i = 0; i < s->n_outs; i++) {
        ma_shape *t = s->outs[i].target;
        if (!t) continue;
        if (mark[t->index] == 1) {
            *from = s;
            *to = t;
            return 1;
        }
        if (mark[t->index] == 0 && find_loop(p, t, mark, from, to)) return 1;
    }
    mark[s->index] = 2;
    return 0;
}

/* <process workload> (Process Mode; boomi-integration references/components/process_component.md) */
static const ma_enum workloads[] = {
    {"general", MA_MODE_GENERAL, 0},
    {"bridge", MA_MODE_BRIDGE, 0},
    {"low_latency", MA_MODE_LOW_LATENCY, 0},
    {NULL, 0, 0},
};

int ma_process_compile(ma_deploy *dep, ma_component *comp)
{
    size_t before = dep->n_problems;
    ma_process *p = calloc(1, sizeof *p);
    if (!p) return ma_deploy_problem(dep, comp, NULL, 0, MA_ERR_NOMEM, "out of memory");
    comp->process = p;
    p->comp = comp;
    xmlNode *px = comp->object;
    if (!px || strcmp((const char *)px->name, "process") != 0)
        return ma_deploy_problem(dep, comp, NULL, px ? px->line : 0, MA_ERR_CONFIG,
                                 "a process component must hold a <process> element under <bns:object>");
    p->xml = px;
    int workload = MA_MODE_GENERAL;
    ma_error werr;
    ma_error_clear(&werr);
    if (ma_xml_enum(px, "workload", workloads, MA_MODE_GENERAL, 0, &workload, &werr) < 0)
        ma_deploy_problem(dep, comp, NULL, px->line, werr.code, "%s", werr.msg);
    p->low_latency = workload == MA_MODE_LOW_LATENCY;
    xmlNode *shapes = ma_xml_child(px, "shapes");
    size_t n = 0;
    for (xmlNode *s = ma_xml_child(shapes, "shape"); s; s = ma_xml_next(s, "shape"))
        if (!ma_xml_attr_is(s, "shapetype", "note")) n++;
    if (n) {
        p->shapes = calloc(n, sizeof *p->shapes);
        if (!p->shapes) return ma_deploy_problem(dep, comp, NULL, 0, MA_ERR_NOMEM, "out of memory");
    }
    for (xmlNode *x = ma_xml_child(shapes, "shape"); x; x = ma_xml_next(x, "shape")) {
        if (ma_xml_attr_is(x, "shapetype", "note")) continue;
        ma_shape *s = &p->shapes[p->n_shapes];
        s->index = p->n_shapes++;
        s->process = p;
        s->deploy = dep;
        if (read_shape(dep, comp, x, s) < 0)
            return ma_deploy_problem(dep, comp, NULL, x->line, MA_ERR_NOMEM, "out of memory");
        if (!*s->name) ma_deploy_problem(dep, comp, s, 0, MA_ERR_CONFIG, "a shape has no name attribute");
        for (size_t j = 0; j < s->index; j++)
            if (*s->name && strcmp(p->shapes[j].name, s->name) == 0)
                ma_deploy_problem(dep, comp, s, 0, MA_ERR_CONFIG, "the shape name %s is used twice (also on line %d)",
                                  s->name, p->shapes[j].line);
    }
    /* the start shape */
    for (size_t i = 0; i < p->n_shapes; i++) {
        if (strcmp(p->shapes[i].type_name, "start") != 0) continue;
        if (p->start)
            ma_deploy_problem(dep, comp, &p->shapes[i], 0, MA_ERR_CONFIG, "a second start shape (the first is %s)",
                              p->start->name);
        else p->start = &p->shapes[i];
    }
    if (!p->start) ma_deploy_problem(dep, comp, NULL, px->line, MA_ERR_CONFIG, "the process has no start shape");
    /* targets of every dragpoint */
    for (size_t i = 0; i < p->n_shapes; i++) {
        ma_shape *s = &p->shapes[i];
        for (size_t j = 0; j < s->n_dps; j++)
            if (s->dps[j].to && !ma_process_find_shape(p, s->dps[j].to))
                ma_deploy_problem(dep, comp, s, s->dps[j].line, MA_ERR_REF,
                                  "dragpoint %zu%s%s%s points to shape '%s', which is not in the process", j + 1,
                                  s->dps[j].identifier ? " ('" : "", s->dps[j].identifier ? s->dps[j].identifier : "",
                                  s->dps[j].identifier ? "')" : "", s->dps[j].to);
        if (strcmp(s->type_name, "returndocuments") == 0) p->has_return = 1;
    }
    /* compile every shape through its type */
    for (size_t i = 0; i < p->n_shapes; i++) {
        ma_shape *s = &p->shapes[i];
        s->type = ma_registry_shape(dep->reg, s->type_name);
        if (!s->type) {
            ma_deploy_problem(dep, comp, s, 0, MA_ERR_UNSUPPORTED, "shapetype '%s' is not supported by this runtime",
                              s->type_name);
            continue;
        }
        ma_error err;
        ma_error_clear(&err);
        if (s->type->compile && s->type->compile(s, s->config, &err) < 0) {
            ma_deploy_problem(dep, comp, s, 0, err.code ? err.code : MA_ERR_CONFIG, "%s", err.msg);
            if (s->type->destroy) s->type->destroy(s);
            s->data = NULL;
            continue;
        }
        s->compiled = 1;
        for (size_t j = 0; j < s->n_outs; j++) {
            int dp = s->outs[j].dp;
            s->outs[j].target = dp >= 0 && s->dps[dp].to ? ma_process_find_shape(p, s->dps[dp].to) : NULL;
        }
        for (size_t j = 0; j < s->n_dps; j++)
            if (!s->dps[j].used)
                ma_deploy_problem(dep, comp, s, s->dps[j].line, MA_ERR_CONFIG,
                                  "dragpoint %zu (identifier '%s') does not match any output of a %s shape", j + 1,
                                  s->dps[j].identifier ? s->dps[j].identifier : "", s->type_name);
    }
    if (p->start) {
        if (p->start->config && ma_xml_is(p->start->config, "noaction")) p->start_kind = MA_START_NODATA;
        else if (p->start->config && ma_xml_is(p->start->config, "passthroughaction"))
            p->start_kind = MA_START_PASSTHROUGH;
        else if (p->start->config && ma_xml_is(p->start->config, "connectoraction"))
            p->start_kind =
                ma_xml_attr_is(p->start->config, "actionType", "Listen") ? MA_START_LISTEN : MA_START_CONNECTOR;
        unsigned char *mark = calloc(p->n_shapes ? p->n_shapes : 1, 1);
        ma_shape *from = NULL, *to = NULL;
        if (mark && find_loop(p, p->start, mark, &from, &to))
            ma_deploy_problem(dep, comp, from, 0, MA_ERR_UNSUPPORTED,
                              "the path loops back to shape %s; processes must not contain loops", to->name);
        free(mark);
    }
    p->runnable = dep->n_problems == before;
    return p->runnable ? 0 : -1;
}

static void dot_escape(ma_sb *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') ma_sb_putc(b, '\\');
        if (*s == '\n') {
            ma_sb_puts(b, "\\n");
            continue;
        }
        ma_sb_putc(b, *s);
    }
}

char *ma_process_to_dot(const ma_process *p)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "digraph \"");
    dot_escape(&b, p->comp->name);
    ma_sb_puts(&b, "\" {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n");
    for (size_t i = 0; i < p->n_shapes; i++) {
        const ma_shape *s = &p->shapes[i];
        ma_sb_printf(&b, "  \"%s\" [label=\"", s->name);
        dot_escape(&b, s->name);
        ma_sb_puts(&b, "\\n");
        dot_escape(&b, s->type_name);
        if (*s->label) {
            ma_sb_puts(&b, "\\n");
            dot_escape(&b, s->label);
        }
        ma_sb_printf(&b, "\"%s];\n", s == p->start ? ", style=bold" : "");
    }
    for (size_t i = 0; i < p->n_shapes; i++) {
        const ma_shape *s = &p->shapes[i];
        /* declared outputs in run order; dragpoints of shapes that did not compile as they are */
        if (s->compiled) {
            for (size_t j = 0; j < s->n_outs; j++) {
                const ma_output *o = &s->outs[j];
                const char *lbl = o->text ? o->text : o->identifier;
                if (o->target) {
                    ma_sb_printf(&b, "  \"%s\" -> \"%s\"", s->name, o->target->name);
                } else {
                    ma_sb_printf(&b, "  \"%s_end%zu\" [shape=point];\n  \"%s\" -> \"%s_end%zu\"", s->name, j, s->name,
                                 s->name, j);
                }
                if (lbl) {
                    ma_sb_puts(&b, " [label=\"");
                    dot_escape(&b, lbl);
                    ma_sb_puts(&b, "\"]");
                }
                ma_sb_puts(&b, ";\n");
            }
        } else {
            for (size_t j = 0; j < s->n_dps; j++) {
                if (!s->dps[j].to) continue;
                ma_sb_printf(&b, "  \"%s\" -> \"%s\"", s->name, s->dps[j].to);
                const char *lbl = s->dps[j].text ? s->dps[j].text : s->dps[j].identifier;
                if (lbl) {
                    ma_sb_puts(&b, " [label=\"");
                    dot_escape(&b, lbl);
                    ma_sb_puts(&b, "\"]");
                }
                ma_sb_puts(&b, ";\n");
            }
        }
    }
    ma_sb_puts(&b, "}\n");
    return ma_sb_take(&b, NULL);
}

const ma_xml_node *ma_process_listen_start(const ma_component *comp, const char *connector_type)
{
    if (!comp->object) return NULL;
    for (xmlNode *s = ma_xml_child(ma_xml_child(comp->object, "shapes"), "shape"); s; s = ma_xml_next(s, "shape")) {
        if (!ma_xml_attr_is(s, "shapetype", "start")) continue;
        xmlNode *c = ma_xml_child(ma_xml_child(s, "configuration"), "connectoraction");
        if (c && ma_xml_attr_is(c, "actionType", "Listen") && ma_xml_attr_is(c, "connectorType", connector_type))
            return c;
        return NULL;
    }
    return NULL;
}
