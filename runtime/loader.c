/* loader.c - reads a deploy folder of Boomi component XML files (the Component API export format,
 * boomi-process-xml.md 1.1: a bns:Component root, prefixed or not, with the payload under
 * bns:object) into a deployment indexed by componentId, then compiles its processes.
 * Parsing never expands entities, loads DTDs or touches the network, and sizes are bounded. */
#include "loader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    pthread_mutex_init(&dep->parse_mu, NULL);
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
    free(c->id);
    free(c->name);
    free(c->type);
    free(c->version);
    free(c->folder);
    free(c->file);
    if (c->xml) xmlFreeDoc(c->xml);
    free(c->buf);
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
    for (size_t i = 0; i < dep->n_problems; i++) ma_problem_free(&dep->problems[i]);
    free(dep->problems);
    pthread_mutex_destroy(&dep->parse_mu);
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

/* The parsed root of a component file: the <bns:Component> element, or NULL with err. */
static xmlNode *component_root(xmlDoc *xml, const char *name, ma_error *err)
{
    xmlNode *root = xmlDocGetRootElement(xml);
    if (!root || strcmp((const char *)root->name, "Component") != 0 ||
        (root->ns && strcmp((const char *)root->ns->href, BNS_NS) != 0)) {
        ma_error_set(err, MA_ERR_PARSE,
                     "%s:%d: not a Boomi component: the root element is <%s>, expected <bns:Component>", name,
                     root ? root->line : 1, root ? (const char *)root->name : "(none)");
        return NULL;
    }
    return root;
}

/* ---- the envelope of a lazy component, read without a parser ------------------------------------- */

typedef struct envelope {
    char *id, *name, *type, *version, *folder; /* owned, NULL when absent */
    int line;
} envelope;

static void envelope_free(envelope *e)
{
    free(e->id), free(e->name), free(e->type), free(e->version), free(e->folder);
    memset(e, 0, sizeof *e);
}

/* An attribute value with XML's predefined and character references decoded; NULL when it holds
 * anything else (the full parser will judge it). */
static char *decode_value(const char *v, size_t n)
{
    if (!memchr(v, '&', n)) return memchr(v, '<', n) ? NULL : ma_strndup(v, n); /* the usual case */
    ma_sb b;
    ma_sb_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '<') goto bad;
        if (v[i] != '&') {
            ma_sb_putc(&b, v[i]);
            continue;
        }
        static const struct {
            const char *ref;
            char c;
        } named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        size_t k = 0;
        for (; k < 5; k++) {
            size_t rl = strlen(named[k].ref);
            if (n - i >= rl && memcmp(v + i, named[k].ref, rl) == 0) {
                ma_sb_putc(&b, named[k].c);
                i += rl - 1;
                break;
            }
        }
        if (k < 5) continue;
        if (n - i < 4 || v[i + 1] != '#') goto bad;
        int hex = v[i + 2] == 'x';
        size_t j = i + 2 + (size_t)hex;
        unsigned long cp = 0;
        for (; j < n && v[j] != ';' && cp <= 0x10FFFF; j++) {
            int d = v[j] >= '0' && v[j] <= '9'          ? v[j] - '0'
                    : hex && v[j] >= 'a' && v[j] <= 'f' ? v[j] - 'a' + 10
                    : hex && v[j] >= 'A' && v[j] <= 'F' ? v[j] - 'A' + 10
                                                        : -1;
            if (d < 0) goto bad;
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
        }
        if (j >= n || j == i + 2 + (size_t)hex || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        char u[4];
        size_t ul = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (ul == 1) u[0] = (char)cp;
        else if (ul == 2) u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F));
        else if (ul == 3)
            u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F));
        else
            u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
            u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F));
        ma_sb_append(&b, u, ul);
        i = j;
    }
    return ma_sb_take(&b, NULL);
bad:
    ma_sb_free(&b);
    return NULL;
}

static int xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Reads the start tag of the root element: 0 when it is a plain <(prefix:)Component ...> in Boomi's
 * namespace with a componentId and a type, -1 for anything the full parser must judge (a DOCTYPE,
 * another root, a reference it does not know). Nothing else of the text is looked at. */
static int scan_envelope(const char *s, size_t n, envelope *e)
{
    memset(e, 0, sizeof *e);
    size_t i = 0;
    int line = 1;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) i = 3;
    for (;;) { /* the prolog: white space, the XML declaration, comments, processing instructions */
        while (i < n && xml_space(s[i])) line += s[i++] == '\n';
        if (i + 1 >= n || s[i] != '<') return -1;
        const char *end = NULL;
        if (s[i + 1] == '?') end = memmem(s + i, n - i, "?>", 2);
        else if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) end = memmem(s + i + 4, n - i - 4, "-->", 3);
        else if (s[i + 1] == '!') return -1; /* a DOCTYPE: the parser refuses what it must */
        else break;
        if (!end) return -1;
        for (; s + i < end; i++) line += s[i] == '\n';
        i += s[i] == '?' ? 2 : 3;
    }
    e->line = line;
    size_t ns = ++i;
    while (i < n && !xml_space(s[i]) && s[i] != '>' && s[i] != '/') i++;
    const char *colon = memchr(s + ns, ':', i - ns);
    size_t ln = colon ? (size_t)(s + i - colon - 1) : i - ns;
    if (ln != 9 || memcmp(colon ? colon + 1 : s + ns, "Component", 9) != 0) return -1;
    char prefix_attr[80];
    if (colon && (size_t)(colon - (s + ns)) + 7 >= sizeof prefix_attr) return -1;
    snprintf(prefix_attr, sizeof prefix_attr, colon ? "xmlns:%.*s" : "xmlns", (int)(colon ? colon - (s + ns) : 0),
             s + ns);
    int ns_ok = 0;
    for (;;) {
        while (i < n && xml_space(s[i])) i++;
        if (i >= n) goto bad;
        if (s[i] == '>' || s[i] == '/') break;
        size_t an = i;
        while (i < n && s[i] != '=' && !xml_space(s[i]) && s[i] != '>') i++;
        size_t al = i - an;
        while (i < n && xml_space(s[i])) i++;
        if (i >= n || s[i] != '=') goto bad;
        i++;
        while (i < n && xml_space(s[i])) i++;
        if (i >= n || (s[i] != '"' && s[i] != '\'')) goto bad;
        char q = s[i++];
        const char *vend = memchr(s + i, q, n - i);
        if (!vend) goto bad;
        size_t vs = i;
        i = (size_t)(vend - s) + 1;
        char **slot = NULL;
        int is_ns = 0;
#define ATTR_IS(lit) (al == sizeof(lit) - 1 && memcmp(s + an, lit, al) == 0)
        if (ATTR_IS("componentId")) slot = &e->id;
        else if (ATTR_IS("name")) slot = &e->name;
        else if (ATTR_IS("type")) slot = &e->type;
        else if (ATTR_IS("version")) slot = &e->version;
        else if (ATTR_IS("folderFullPath")) slot = &e->folder;
        else is_ns = al == strlen(prefix_attr) && memcmp(s + an, prefix_attr, al) == 0;
#undef ATTR_IS
        if (!slot && !is_ns) continue; /* the others are the parser's business */
        if ((slot && *slot) || memchr(s + vs, '<', (size_t)(vend - (s + vs)))) goto bad; /* repeated, or not XML */
        char *v = decode_value(s + vs, (size_t)(vend - (s + vs)));
        if (!v) goto bad;
        if (slot) *slot = v;
        else {
            ns_ok = strcmp(v, BNS_NS) == 0 ? 1 : -1;
            free(v);
        }
    }
    /* a prefixed root needs its namespace declared here; an unprefixed one may have none */
    if ((colon && ns_ok != 1) || ns_ok < 0 || !e->id || !*e->id || !e->type || !*e->type) goto bad;
    return 0;
bad:
    envelope_free(e);
    return -1;
}

/* Fills c's envelope from the parsed root. -1 with err. */
static int envelope_from_xml(ma_component *c, xmlNode *root, const char *name, ma_error *err)
{
    c->root = root;
    c->line = root->line;
    c->id = attr_or_empty(root, "componentId");
    c->name = attr_or_empty(root, "name");
    c->type = attr_or_empty(root, "type");
    c->version = attr_or_empty(root, "version");
    c->folder = ma_xml_attr(root, "folderFullPath");
    if (!c->folder) c->folder = ma_strdup("");
    if (!c->id || !c->name || !c->type || !c->version || !c->folder)
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (!*c->id || !*c->type)
        return ma_error_set(err, MA_ERR_PARSE, "%s:%d: the Component element has no %s attribute", name, c->line,
                            !*c->id ? "componentId" : "type");
    return 0;
}

/* Where the text add_text gets comes from. */
enum { TEXT_MEMORY, TEXT_FILE, TEXT_FILE_START };

/* Adds a component from buf: TEXT_MEMORY is copied as needed, TEXT_FILE (a whole file, malloc'ed) is
 * taken over, TEXT_FILE_START is the first bytes of a file (a lazy deployment: its envelope is read
 * from them, the whole file later). */
static int add_text(ma_deploy *dep, char *buf, size_t len, int source, const char *name, ma_error *err)
{
    int owned = source == TEXT_FILE;
    int rc = -1;
    if (dep->n >= dep->opts.max_files) {
        rc = ma_error_set(err, MA_ERR_LIMIT, "%s: more than %zu components in the deployment", name,
                          dep->opts.max_files);
        goto out;
    }
    if (len > dep->opts.max_file_size) {
        rc = ma_error_set(err, MA_ERR_LIMIT, "%s: %zu bytes is larger than the limit of %zu bytes", name, len,
                          dep->opts.max_file_size);
        goto out;
    }
    ma_component *c = calloc(1, sizeof *c);
    if (!c || !(c->file = ma_strdup(name))) {
        free(c);
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    envelope e;
    if (source == TEXT_FILE_START && scan_envelope(buf, len, &e) < 0) { /* the envelope needs the whole file */
        free(c->file);
        free(c);
        char *whole = ma_read_file(name, dep->opts.max_file_size, &len, err);
        return whole ? add_text(dep, whole, len, TEXT_FILE, name, err) : -1;
    }
    if (source == TEXT_FILE_START ||
        (dep->opts.lazy && scan_envelope(buf, len, &e) == 0)) { /* parsed when first looked up */
        c->id = e.id, c->name = e.name ? e.name : ma_strdup(""), c->type = e.type;
        c->version = e.version ? e.version : ma_strdup(""), c->folder = e.folder ? e.folder : ma_strdup("");
        c->line = e.line;
        c->unparsed = 1;
        /* a file is read again when it is needed: keeping every text would cost memory (and, at
         * start-up, page faults) for components the command never uses */
        c->len = len;
        c->buf = source == TEXT_MEMORY ? ma_strndup(buf, len) : NULL;
        if (!c->name || !c->version || !c->folder || (source == TEXT_MEMORY && !c->buf)) {
            component_free(c);
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto out;
        }
    } else {
        xmlDoc *xml = ma_xml_parse(buf, len, name, err);
        xmlNode *root = xml ? component_root(xml, name, err) : NULL;
        c->xml = xml;
        if (!root || envelope_from_xml(c, root, name, err) < 0) {
            component_free(c);
            goto out;
        }
        xmlNode *obj = ma_xml_child(root, "object");
        c->object = obj ? ma_xml_child(obj, NULL) : NULL;
    }
    if (add_component(dep, c, err) < 0) {
        component_free(c);
        goto out;
    }
    rc = 0;
out:
    if (owned) free(buf);
    return rc;
}

int ma_deploy_add_buffer(ma_deploy *dep, const char *buf, size_t len, const char *name, ma_error *err)
{
    return add_text(dep, (char *)buf, len, TEXT_MEMORY, name, err);
}

#define ENVELOPE_READ 4096 /* a lazy deployment reads this much of a file for its envelope */

int ma_deploy_add_file(ma_deploy *dep, const char *path, ma_error *err)
{
    size_t len;
    if (dep->opts.lazy) { /* the start of the file, on the stack: no allocation, one read */
        char start[ENVELOPE_READ];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return ma_error_set(err, MA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        ssize_t r;
        len = 0;
        while (len < sizeof start && ((r = read(fd, start + len, sizeof start - len)) > 0 || (r < 0 && errno == EINTR)))
            if (r > 0) len += (size_t)r;
        close(fd);
        return add_text(dep, start, len, TEXT_FILE_START, path, err);
    }
    char *buf = ma_read_file(path, dep->opts.max_file_size, &len, err);
    if (!buf) return -1;
    return add_text(dep, buf, len, TEXT_FILE, path, err);
}

int ma_component_parse(const ma_deploy *cdep, ma_component *c)
{
    if (!cdep->opts.lazy) return 0;     /* every component was parsed when it was added */
    ma_deploy *dep = (ma_deploy *)cdep; /* the lazy part of a deployment: its own lock */
    pthread_mutex_lock(&dep->parse_mu);
    int rc = 0;
    if (c->unparsed) {
        ma_error err;
        ma_error_clear(&err);
        if (!c->buf) c->buf = ma_read_file(c->file, dep->opts.max_file_size, &c->len, &err);
        xmlDoc *xml = c->buf ? ma_xml_parse(c->buf, c->len, c->file, &err) : NULL;
        xmlNode *root = xml ? component_root(xml, c->file, &err) : NULL;
        char *id = root ? ma_xml_attr(root, "componentId") : NULL;
        if (root && !ma_streq(id, c->id))
            ma_error_set(&err, MA_ERR_PARSE, "%s:%d: the componentId attribute reads '%s' to the parser", c->file,
                         c->line, id ? id : "");
        if (!root || !ma_streq(id, c->id)) {
            if (xml) xmlFreeDoc(xml);
            c->parse_failed = 1;
            ma_deploy_problem(dep, c, NULL, c->line, err.code ? err.code : MA_ERR_PARSE, "%s", err.msg);
            rc = -1;
        } else {
            c->xml = xml;
            c->root = root;
            xmlNode *obj = ma_xml_child(root, "object");
            c->object = obj ? ma_xml_child(obj, NULL) : NULL;
        }
        free(id);
        free(c->buf);
        c->buf = NULL;
        c->unparsed = 0;
    } else if (c->parse_failed) {
        rc = -1;
    }
    pthread_mutex_unlock(&dep->parse_mu);
    return rc;
}

typedef void (*on_error_fn)(void *ctx, const ma_error *e);

static int add_dir(ma_deploy *dep, const char *dir, int depth, on_error_fn on_error, void *ctx, ma_error *err)
{
    if (depth > 32) return ma_error_set(err, MA_ERR_LIMIT, "%s: folders nested more than 32 deep", dir);
    char **names, *kinds;
    size_t n;
    if (ma_dir_list_kinds(dir, NULL, dep->opts.max_files, &names, &kinds, &n, err) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *path = ma_asprintf("%s/%s", dir, names[i]);
        struct stat st;
        char kind = kinds[i]; /* a stat only where readdir could not tell (a link, some file systems) */
        if (path && kind == '?')
            kind = stat(path, &st) < 0 ? 0 : S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : 0;
        if (!path) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        else if (kind == 'd') rc = add_dir(dep, path, depth + 1, on_error, ctx, err);
        else if (kind == 'f' && ma_str_has_suffix(path, ".xml")) rc = ma_deploy_add_file(dep, path, err);
        free(path);
        if (rc < 0 && on_error && err->code != MA_ERR_NOMEM) {
            on_error(ctx, err);
            ma_error_clear(err);
            rc = 0;
        }
    }
    ma_strings_free(names, n);
    free(kinds);
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
    if (ma_component_parse(dep, comp) < 0) {
        comp->compile_state = 2;
        return -1;
    }
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
