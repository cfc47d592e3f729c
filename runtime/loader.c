/* loader.c - reads a deploy folder of Boomi component XML files (the Component API export format,
 * boomi-process-xml.md 1.1: a bns:Component root, prefixed or not, with the payload under
 * bns:object) into a deployment indexed by componentId, then compiles its processes.
 * Parsing never expands entities, loads DTDs or touches the network, and sizes are bounded. */
#include "loader.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "process.h"
#include "util.h"

#define BNS_NS "http://api.platform.boomi.com/"
#define DEFAULT_MAX_FILE (16u << 20)
#define DEFAULT_MAX_FILES 100000u

ma_deploy *ma_deploy_new(const ma_registry *reg, const ma_deploy_opts *opts)
{
    ma_deploy *dep = calloc(1, sizeof *dep);
    if (!dep) return NULL;
    dep->reg = reg;
    if (opts) dep->opts = *opts;
    if (!dep->opts.max_file_size) dep->opts.max_file_size = DEFAULT_MAX_FILE;
    if (!dep->opts.max_files) dep->opts.max_files = DEFAULT_MAX_FILES;
    return dep;
}

static void component_free(ma_component *c)
{
    if (!c) return;
    if (c->process) ma_process_free(c->process);
    if (c->compiled && c->compiled_free) c->compiled_free(c->compiled);
    free(c->id); free(c->name); free(c->type); free(c->version); free(c->folder); free(c->file);
    if (c->xml) xmlFreeDoc(c->xml);
    free(c);
}

void ma_deploy_free(ma_deploy *dep)
{
    if (!dep) return;
    /* processes first: shape destroy callbacks may look at other components */
    for (size_t i = 0; i < dep->n; i++) {
        if (dep->comps[i]->process) {
            ma_process_free(dep->comps[i]->process);
            dep->comps[i]->process = NULL;
        }
    }
    for (size_t i = 0; i < dep->n; i++) component_free(dep->comps[i]);
    free(dep->comps);
    free(dep->index);
    for (size_t i = 0; i < dep->n_problems; i++) {
        ma_problem *p = &dep->problems[i];
        free(p->file); free(p->component_id); free(p->component_name); free(p->shape);
        free(p->label); free(p->shapetype); free(p->message);
    }
    free(dep->problems);
    free(dep->root);
    free(dep);
}

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int index_insert(ma_deploy *dep, size_t pos)
{
    size_t mask = dep->index_cap - 1;
    for (size_t i = hash_str(dep->comps[pos]->id) & mask;; i = (i + 1) & mask) {
        if (!dep->index[i]) {
            dep->index[i] = pos + 1;
            return 0;
        }
    }
}

static int add_component(ma_deploy *dep, ma_component *c, ma_error *err)
{
    ma_component *dup = ma_deploy_find(dep, c->id);
    if (dup)
        return ma_error_set(err, MA_ERR_CONFIG, "%s:%d: componentId %s is already defined by %s:%d ('%s')", c->file,
                            c->line, c->id, dup->file, dup->line, dup->name);
    if (dep->n == dep->cap) {
        size_t cap = dep->cap ? dep->cap * 2 : 64;
        ma_component **nc = realloc(dep->comps, cap * sizeof *nc);
        if (!nc) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        dep->comps = nc;
        dep->cap = cap;
    }
    if ((dep->n + 1) * 2 > dep->index_cap) {
        size_t cap = dep->index_cap ? dep->index_cap * 2 : 128;
        size_t *ni = calloc(cap, sizeof *ni);
        if (!ni) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        free(dep->index);
        dep->index = ni;
        dep->index_cap = cap;
        for (size_t i = 0; i < dep->n; i++) index_insert(dep, i);
    }
    dep->comps[dep->n] = c;
    index_insert(dep, dep->n);
    dep->n++;
    return 0;
}

static char *attr_or_empty(xmlNode *n, const char *name)
{
    char *v = ma_xml_attr(n, name);
    return v ? v : ma_strdup("");
}

int ma_deploy_add_buffer(ma_deploy *dep, const char *buf, size_t len, const char *name, ma_error *err)
{
    if (dep->n >= dep->opts.max_files)
        return ma_error_set(err, MA_ERR_LIMIT, "%s: more than %zu components in the deployment", name,
                            dep->opts.max_files);
    if (len > dep->opts.max_file_size)
        return ma_error_set(err, MA_ERR_LIMIT, "%s: %zu bytes is larger than the limit of %zu bytes", name, len,
                            dep->opts.max_file_size);
    xmlDoc *xml = ma_xml_parse(buf, len, name, err);
    if (!xml) return -1;
    xmlNode *root = xmlDocGetRootElement(xml);
    if (!root || strcmp((const char *)root->name, "Component") != 0 ||
        (root->ns && strcmp((const char *)root->ns->href, BNS_NS) != 0)) {
        ma_error_set(err, MA_ERR_PARSE, "%s:%d: not a Boomi component: the root element is <%s>, expected <bns:Component>",
                     name, root ? root->line : 1, root ? (const char *)root->name : "(none)");
        xmlFreeDoc(xml);
        return -1;
    }
    ma_component *c = calloc(1, sizeof *c);
    if (!c) {
        xmlFreeDoc(xml);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    c->xml = xml;
    c->root = root;
    c->line = root->line;
    c->file = ma_strdup(name);
    c->id = attr_or_empty(root, "componentId");
    c->name = attr_or_empty(root, "name");
    c->type = attr_or_empty(root, "type");
    c->version = attr_or_empty(root, "version");
    c->folder = ma_xml_attr(root, "folderFullPath");
    if (!c->folder) c->folder = ma_strdup("");
    if (!c->file || !c->id || !c->name || !c->type || !c->version || !c->folder) {
        component_free(c);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    if (!*c->id || !*c->type) {
        ma_error_set(err, MA_ERR_PARSE, "%s:%d: the Component element has no %s attribute", name, c->line,
                     !*c->id ? "componentId" : "type");
        component_free(c);
        return -1;
    }
    xmlNode *obj = ma_xml_child(root, "object");
    c->object = obj ? ma_xml_child(obj, NULL) : NULL;
    if (add_component(dep, c, err) < 0) {
        component_free(c);
        return -1;
    }
    return 0;
}

int ma_deploy_add_file(ma_deploy *dep, const char *path, ma_error *err)
{
    size_t len;
    char *buf = ma_read_file(path, dep->opts.max_file_size, &len, err);
    if (!buf) return -1;
    int rc = ma_deploy_add_buffer(dep, buf, len, path, err);
    free(buf);
    return rc;
}

typedef void (*on_error_fn)(void *ctx, const ma_error *e);

static int add_dir(ma_deploy *dep, const char *dir, int depth, on_error_fn on_error, void *ctx, ma_error *err)
{
    if (depth > 32) return ma_error_set(err, MA_ERR_LIMIT, "%s: folders nested more than 32 deep", dir);
    char **names;
    size_t n;
    if (ma_dir_list(dir, NULL, dep->opts.max_files, &names, &n, err) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *path = ma_asprintf("%s/%s", dir, names[i]);
        struct stat st;
        if (!path) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        else if (stat(path, &st) < 0) rc = 0;
        else if (S_ISDIR(st.st_mode))
            rc = add_dir(dep, path, depth + 1, on_error, ctx, err);
        else if (S_ISREG(st.st_mode) && ma_str_has_suffix(path, ".xml"))
            rc = ma_deploy_add_file(dep, path, err);
        free(path);
        if (rc < 0 && on_error && err->code != MA_ERR_NOMEM) {
            on_error(ctx, err);
            ma_error_clear(err);
            rc = 0;
        }
    }
    ma_strings_free(names, n);
    return rc;
}

int ma_deploy_add_dir(ma_deploy *dep, const char *dir, ma_error *err)
{
    struct stat st;
    if (stat(dir, &st) < 0) return ma_error_set(err, MA_ERR_IO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return ma_error_set(err, MA_ERR_IO, "%s: not a folder", dir);
    free(dep->root);
    dep->root = ma_strdup(dir);
    return add_dir(dep, dir, 0, NULL, NULL, err);
}

int ma_deploy_add_dir_report(ma_deploy *dep, const char *dir, on_error_fn on_error, void *ctx, ma_error *err)
{
    struct stat st;
    if (stat(dir, &st) < 0) return ma_error_set(err, MA_ERR_IO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return ma_error_set(err, MA_ERR_IO, "%s: not a folder", dir);
    free(dep->root);
    dep->root = ma_strdup(dir);
    return add_dir(dep, dir, 0, on_error, ctx, err);
}

int ma_deploy_compile_process(ma_deploy *dep, ma_component *comp)
{
    if (comp->compile_state == 2) return comp->process && comp->process->runnable ? 0 : -1;
    if (comp->compile_state == 1) return 0; /* being compiled further up: a recursive call */
    comp->compile_state = 1;
    int rc = ma_process_compile(dep, comp);
    comp->compile_state = 2;
    return rc;
}

size_t ma_deploy_compile(ma_deploy *dep)
{
    size_t bad = 0;
    for (size_t i = 0; i < dep->n; i++) {
        ma_component *c = dep->comps[i];
        if (strcmp(c->type, "process") == 0 && ma_deploy_compile_process(dep, c) != 0) bad++;
    }
    return bad;
}
