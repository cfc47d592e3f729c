/* xslt.c - map stylesheets (xslt.h): compiled once per deployment with libxslt, shared by all
 * executions; each transform gets its own context with security preferences that forbid reading
 * and writing files, creating directories and network access, and a loader that serves only other
 * XSLT components of the deployment (xsl:include/xsl:import href = componentId) and nothing at
 * run time. JSON documents are presented in the XPath 3.1 json-to-xml vocabulary and results in
 * that vocabulary are serialized back to JSON (jsonxml.h); a Map whose profile is a flat file
 * profile reads its input through, and writes its result as, flat file text (flatfile.h). Extension functions in urn:miniatom
 * read the document's properties as it entered the map and set properties on the result (Boomi:
 * "inside one Map execution a document property cannot be changed step by step",
 * boomi-atom-semantics.md 1.2). A transform stops when its execution must (membudget.h: the
 * deadline, the cancel flag, a memory budget): libxslt's debugger hook is called before every
 * instruction and looks now and then, the allocator tells it at once, and a stopped context ends
 * the XPath expression it evaluates through its operation limit. */
#include "xslt.h"

#include <ctype.h>
#include <libexslt/exslt.h>
#include <libxml/xpathInternals.h>
#include <libxslt/documents.h>
#include <libxslt/extensions.h>
#include <libxslt/security.h>
#include <libxslt/transform.h>
#include <libxslt/variables.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datefmt.h"
#include "executor.h"
#include "flatfile.h"
#include "jsonxml.h"
#include "map_xref.h"
#include "mapcompile.h"
#include "membudget.h"
#include "store.h"
#include "util.h"
#include "xslt_script.h"

#define BASE_URI "miniatom:/xslt/"
#define MAX_INCLUDE_DEPTH 32

/* Transform contexts are reused: making one costs more than a small transform (libxslt registers
 * its elements and functions, makes a dictionary, an XPath context and caches each time). After a
 * transform that ended well, a context is released - everything bound to the source document,
 * the global variables, tree fragments and extension data is freed - and kept in its
 * stylesheet's pool; the next transform binds it to its document. A context that saw an error is
 * freed, and so is one that served CTX_MAX_USES transforms or whose dictionary holds more than
 * CTX_MAX_DICT names (so that memory stays bounded). */
#define CTX_POOL 8
#define CTX_MAX_USES 1000u
#define CTX_MAX_DICT 4096u

typedef struct pooled_ctx {
    xsltTransformContextPtr tc; /* owned */
    unsigned uses;
} pooled_ctx;

struct ma_xslt {
    xsltStylesheetPtr style; /* owned */
    char **params;           /* owned: names of top-level xsl:param */
    size_t n_params;
    char *name;                  /* owned: "map 'Name' (id)" for messages */
    ma_flatfile *ff_in, *ff_out; /* owned: the map's flat file source / target profile, or NULL */
    const ma_settings *settings; /* the deployment's (borrowed): script.* for Scripting functions */
    pthread_mutex_t pool_mu;
    pooled_ctx pool[CTX_POOL]; /* idle released contexts, owned */
    size_t n_pool;
};

/* per transform: what the extension functions work on */
typedef struct xf_state {
    ma_exec *ex;
    const ma_doc *in;
    ma_doc **out_props;          /* a document holding the properties set by ma:set-property */
    ma_sb errors;                /* messages libxslt reported */
    int failed;                  /* an extension function failed (message in errors) */
    const ma_settings *settings; /* the deployment's (borrowed) */
    ma_xslt_calls *calls;        /* owned: the values of Scripting function calls */
} xf_state;

/* ---- compile ---- */

static __thread ma_deploy *tl_dep; /* the deployment whose stylesheet is being compiled */
static __thread int tl_depth;
static __thread ma_sb *tl_errors; /* where compile errors go */

static void collect_error(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void collect_error(void *ctx, const char *fmt, ...)
{
    ma_sb *b = ctx ? ctx : tl_errors;
    if (!b || b->len > 4000) return;
    va_list ap;
    va_start(ap, fmt);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ma_sb_puts(b, msg);
}

/* A stylesheet's document: a copy of the xsl:stylesheet element of component c. */
static xmlDoc *stylesheet_doc(const ma_component *c, ma_error *err)
{
    if (!c->object || !ma_xml_is(c->object, NULL) ||
        (strcmp((const char *)c->object->name, "stylesheet") != 0 &&
         strcmp((const char *)c->object->name, "transform") != 0) ||
        !c->object->ns || strcmp((const char *)c->object->ns->href, "http://www.w3.org/1999/XSL/Transform") != 0) {
        ma_error_set(err, MA_ERR_CONFIG,
                     "%s:%d: XSLT component '%s' (%s) must hold an xsl:stylesheet element under <bns:object>", c->file,
                     c->line, c->name, c->id);
        return NULL;
    }
    xmlDoc *d = xmlNewDoc((const xmlChar *)"1.0");
    if (!d) goto oom;
    xmlNode *root = xmlDocCopyNode(c->object, d, 1);
    if (!root) {
        xmlFreeDoc(d);
        goto oom;
    }
    xmlDocSetRootElement(d, root);
    xmlReconciliateNs(d, root);
    char *url = ma_asprintf(BASE_URI "%s", c->id);
    if (!url) {
        xmlFreeDoc(d);
        goto oom;
    }
    d->URL = xmlStrdup((const xmlChar *)url);
    free(url);
    return d;
oom:
    ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return NULL;
}

/* xsl:include / xsl:import resolve only to XSLT components; run-time document() to nothing. */
static xmlDocPtr restricted_loader(const xmlChar *uri, xmlDictPtr dict, int options, void *ctxt, xsltLoadType type)
{
    (void)dict;
    (void)options;
    (void)ctxt;
    if (type != XSLT_LOAD_STYLESHEET || !tl_dep || !uri) return NULL;
    if (strncmp((const char *)uri, BASE_URI, strlen(BASE_URI)) != 0) {
        collect_error(NULL,
                      "xsl:include/xsl:import of '%s' refused: only other XSLT components of the deployment "
                      "(href=\"COMPONENT_ID\") can be included\n",
                      (const char *)uri);
        return NULL;
    }
    const char *id = (const char *)uri + strlen(BASE_URI);
    ma_component *c = ma_deploy_find(tl_dep, id);
    if (!c || strcmp(c->type, "xslt") != 0) {
        collect_error(NULL, "xsl:include/xsl:import: '%s' is not an XSLT component of the deployment\n", id);
        return NULL;
    }
    if (++tl_depth > MAX_INCLUDE_DEPTH) {
        collect_error(NULL, "xsl:include/xsl:import nested more than %d deep\n", MAX_INCLUDE_DEPTH);
        return NULL;
    }
    ma_error e;
    return stylesheet_doc(c, &e);
}

static xsltSecurityPrefsPtr g_prefs;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void register_functions(void);

/* ---- stopping a transform ---- */

/* instructions between two looks at the clock and the cancel flag */
#define STOP_TICK_MASK 255u
static __thread unsigned tl_insn;

/* Makes tc stop: libxslt's loops check its state, and the XPath expression being evaluated fails at
 * its next operation. Called on the transform's own thread (ma_stopper). */
static void stop_transform(void *arg)
{
    xsltTransformContextPtr tc = arg;
    tc->state = XSLT_STATE_STOPPED;
    tc->debugStatus = XSLT_DEBUG_QUIT; /* sequence constructors return at once */
    if (tc->xpathCtxt) {
        tc->xpathCtxt->opLimit = 1;
        tc->xpathCtxt->opCount = 1;
    }
}

/* libxslt's debugger hooks: called only for contexts whose debugStatus is set, which ours are
 * while an execution with a budget runs them */
static void insn_hook(xmlNodePtr cur, xmlNodePtr node, xsltTemplatePtr templ, xsltTransformContextPtr tc)
{
    (void)cur;
    (void)node;
    (void)templ;
    if ((++tl_insn & STOP_TICK_MASK) == 0 && tc && tc->state == XSLT_STATE_OK && ma_budget_check() != MA_STOP_NONE)
        stop_transform(tc);
}

static int call_hook(xsltTemplatePtr templ, xmlNodePtr source)
{
    (void)templ;
    (void)source;
    return 0; /* no call stack is kept: nothing to drop */
}

static void drop_hook(void) {}

static void global_init(void)
{
    xmlInitParser();
    exsltRegisterAll();
    xsltSetLoaderFunc(restricted_loader);
    g_prefs = xsltNewSecurityPrefs();
    xsltSetSecurityPrefs(g_prefs, XSLT_SECPREF_READ_FILE, xsltSecurityForbid);
    xsltSetSecurityPrefs(g_prefs, XSLT_SECPREF_WRITE_FILE, xsltSecurityForbid);
    xsltSetSecurityPrefs(g_prefs, XSLT_SECPREF_CREATE_DIRECTORY, xsltSecurityForbid);
    xsltSetSecurityPrefs(g_prefs, XSLT_SECPREF_READ_NETWORK, xsltSecurityForbid);
    xsltSetSecurityPrefs(g_prefs, XSLT_SECPREF_WRITE_NETWORK, xsltSecurityForbid);
    /* the preferences go on every transformation context; at compile time restricted_loader is
     * the only way in, and it serves nothing but XSLT components */
    register_functions();
    void *hooks[3] = {(void *)insn_hook, (void *)call_hook, (void *)drop_hook};
    xsltSetDebuggerCallbacks(3, hooks);
}

void ma_xslt_global_init(void) { pthread_once(&g_once, global_init); }

static void xslt_free(void *p)
{
    ma_xslt *x = p;
    if (!x) return;
    for (size_t i = 0; i < x->n_pool; i++) xsltFreeTransformContext(x->pool[i].tc);
    pthread_mutex_destroy(&x->pool_mu);
    if (x->style) xsltFreeStylesheet(x->style);
    ma_flatfile_free(x->ff_in);
    ma_flatfile_free(x->ff_out);
    for (size_t i = 0; i < x->n_params; i++) free(x->params[i]);
    free(x->params);
    free(x->name);
    free(x);
}

/* Names of the top-level xsl:param elements. */
static int collect_params(ma_xslt *x, xmlNode *root)
{
    for (xmlNode *n = root->children; n; n = n->next) {
        if (!ma_xml_is(n, "param") || !n->ns ||
            strcmp((const char *)n->ns->href, "http://www.w3.org/1999/XSL/Transform") != 0)
            continue;
        char *name = ma_xml_attr(n, "name");
        if (!name) continue;
        char **np = realloc(x->params, (x->n_params + 1) * sizeof *np);
        if (!np) {
            free(name);
            return -1;
        }
        x->params = np;
        x->params[x->n_params++] = name;
    }
    return 0;
}

static xmlDoc *doc_for(ma_deploy *dep, const ma_component *c, ma_error *err)
{
    if (strcmp(c->type, "xslt") == 0) return stylesheet_doc(c, err);
    char *text = ma_map_to_xslt(dep, c, err);
    if (!text) return NULL;
    xmlDoc *d = ma_xml_parse(text, strlen(text), c->name, err);
    free(text);
    if (!d) {
        ma_error_prefix(err, "the stylesheet generated for map '%s' (%s)", c->name, c->id);
        return NULL;
    }
    char *url = ma_asprintf(BASE_URI "%s", c->id);
    if (url) {
        xmlFree((xmlChar *)d->URL);
        d->URL = xmlStrdup((const xmlChar *)url);
    }
    free(url);
    return d;
}

/* The flat file profile named by attribute attr of a Map component's <Map>, compiled, or NULL
 * (not a flat file profile, or err set). */
static ma_flatfile *map_flatfile(ma_deploy *dep, const ma_component *c, const char *attr, ma_error *err)
{
    if (strcmp(c->type, "transform.map") != 0 || !c->object) return NULL;
    char *pid = ma_xml_attr(c->object, attr);
    const ma_component *p = pid ? ma_deploy_find(dep, pid) : NULL;
    free(pid);
    if (!p || strcmp(p->type, "profile.flatfile") != 0) return NULL;
    return ma_flatfile_compile(p, err);
}

const ma_xslt *ma_xslt_for(ma_deploy *dep, const char *id, ma_error *err)
{
    ma_xslt_global_init();
    ma_component *c = ma_deploy_find(dep, id);
    if (!c) {
        ma_error_set(err, MA_ERR_REF, "map %s is not in the deployment", id ? id : "(none)");
        return NULL;
    }
    if (strcmp(c->type, "xslt") != 0 && strcmp(c->type, "transform.map") != 0) {
        ma_error_set(err, MA_ERR_REF, "map %s is a component of type '%s' ('%s' in %s), not transform.map or xslt", id,
                     c->type, c->name, c->file);
        return NULL;
    }
    if (c->compiled) return c->compiled;
    ma_xslt *x = calloc(1, sizeof *x);
    if (x) pthread_mutex_init(&x->pool_mu, NULL);
    if (x) x->settings = ma_deploy_settings(dep);
    if (!x || !(x->name = ma_asprintf("map '%s' (%s)", c->name, c->id))) {
        xslt_free(x);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    xmlDoc *d = doc_for(dep, c, err);
    if (!d) {
        xslt_free(x);
        return NULL;
    }
    err->code = 0;
    x->ff_in = map_flatfile(dep, c, "fromProfile", err);
    if (!x->ff_in && err->code == 0) x->ff_out = map_flatfile(dep, c, "toProfile", err);
    else if (x->ff_in) x->ff_out = map_flatfile(dep, c, "toProfile", err);
    if (err->code != 0) {
        xmlFreeDoc(d);
        xslt_free(x);
        return NULL;
    }
    if (collect_params(x, xmlDocGetRootElement(d)) < 0) {
        xmlFreeDoc(d);
        xslt_free(x);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ma_sb errors;
    ma_sb_init(&errors);
    tl_dep = dep;
    tl_depth = 0;
    tl_errors = &errors;
    xsltSetGenericErrorFunc(&errors, collect_error);
    xmlSetGenericErrorFunc(&errors, collect_error); /* XPath compile errors come from libxml2 */
    x->style = xsltParseStylesheetDoc(d);           /* takes d when it succeeds */
    int bad = !x->style || x->style->errors > 0;
    xsltSetGenericErrorFunc(NULL, NULL);
    xmlSetGenericErrorFunc(NULL, NULL);
    tl_dep = NULL;
    tl_errors = NULL;
    if (bad) {
        if (!x->style) xmlFreeDoc(d);
        /* libxslt reports "file X line N element E" followed by the message */
        char *msg = ma_sb_take(&errors, NULL);
        for (char *p = msg; p && *p; p++)
            if (*p == '\n') *p = ' ';
        ma_error_set(err, MA_ERR_CONFIG, "%s:%d: %s does not compile: %s", c->file, c->line, x->name,
                     msg && *msg ? msg : "libxslt refused it");
        free(msg);
        xslt_free(x);
        return NULL;
    }
    ma_sb_free(&errors);
    c->compiled = x;
    c->compiled_free = xslt_free;
    return x;
}

char *ma_xslt_text(ma_deploy *dep, const char *id, ma_error *err)
{
    ma_component *c = ma_deploy_find(dep, id);
    if (!c) {
        ma_error_set(err, MA_ERR_REF, "map %s is not in the deployment", id);
        return NULL;
    }
    if (strcmp(c->type, "transform.map") == 0) return ma_map_to_xslt(dep, c, err);
    xmlDoc *d = doc_for(dep, c, err);
    if (!d) return NULL;
    xmlChar *buf = NULL;
    int len = 0;
    xmlDocDumpFormatMemory(d, &buf, &len, 1);
    xmlFreeDoc(d);
    char *s = buf ? ma_strndup((const char *)buf, (size_t)len) : NULL;
    xmlFree(buf);
    if (!s) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return s;
}

/* ---- extension functions ---- */

static xf_state *state_of(xmlXPathParserContextPtr ctxt)
{
    xsltTransformContextPtr tctxt = xsltXPathGetTransformContext(ctxt);
    return tctxt ? tctxt->_private : NULL;
}

static void fn_fail(xmlXPathParserContextPtr ctxt, xf_state *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fn_fail(xmlXPathParserContextPtr ctxt, xf_state *st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st) {
        if (!st->failed) ma_sb_puts(&st->errors, msg);
        st->failed = 1;
    }
    xsltTransformContextPtr t = xsltXPathGetTransformContext(ctxt);
    if (t) t->state = XSLT_STATE_STOPPED;
    xmlXPathSetError(ctxt, XPATH_EXPR_ERROR);
}

ma_exec *ma_xslt_fn_exec(xmlXPathParserContextPtr ctxt)
{
    xf_state *st = state_of(ctxt);
    return st ? st->ex : NULL;
}

void ma_xslt_fn_fail(xmlXPathParserContextPtr ctxt, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn_fail(ctxt, state_of(ctxt), "%s", msg);
}

/* Pops n string arguments (last first) into args[]; 0 or -1 after an error. */
static int pop_strings(xmlXPathParserContextPtr ctxt, int nargs, int want, xmlChar **args)
{
    if (nargs != want) {
        xmlXPathSetArityError(ctxt);
        return -1;
    }
    for (int i = want - 1; i >= 0; i--) {
        args[i] = xmlXPathPopString(ctxt);
        if (xmlXPathCheckError(ctxt) || !args[i]) {
            for (int j = i; j < want; j++) xmlFree(args[j]);
            return -1;
        }
    }
    return 0;
}

static void free_strings(xmlChar **args, int n)
{
    for (int i = 0; i < n; i++) xmlFree(args[i]);
}

static void push_owned(xmlXPathParserContextPtr ctxt, char *s)
{
    valuePush(ctxt, xmlXPathWrapString(xmlStrdup((const xmlChar *)(s ? s : ""))));
    free(s);
}

/* ma:property(id): dynamicdocument.*, connector.*, mime.*, meta.* of the document as it entered
 * the map; process.NAME of the execution. */
static void fn_property(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[1];
    if (pop_strings(ctxt, nargs, 1, a) < 0) return;
    xf_state *st = state_of(ctxt);
    const char *id = (const char *)a[0];
    char *v = NULL;
    if (st && ma_str_has_prefix(id, "process.")) {
        v = ma_exec_get_process_prop(st->ex, id + 8);
    } else if (st) {
        const char *p = ma_doc_prop(st->in, id);
        v = ma_strdup(p ? p : "");
    }
    free_strings(a, 1);
    push_owned(ctxt, v);
}

static void fn_set_property(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[2];
    if (pop_strings(ctxt, nargs, 2, a) < 0) return;
    xf_state *st = state_of(ctxt);
    const char *id = (const char *)a[0], *val = (const char *)a[1];
    if (st && ma_str_has_prefix(id, "process.") && id[8]) {
        ma_error e;
        if (ma_exec_set_process_prop(st->ex, id + 8, val, 0, &e) < 0) fn_fail(ctxt, st, "ma:set-property: %s", e.msg);
    } else if (st && (ma_str_has_prefix(id, "dynamicdocument.") || ma_str_has_prefix(id, "connector.") ||
                      ma_str_has_prefix(id, "mime."))) {
        if (!*st->out_props) *st->out_props = ma_doc_new("", 0);
        if (!*st->out_props || ma_doc_set_prop(st->out_props, id, val) < 0) fn_fail(ctxt, st, "out of memory");
    } else if (st) {
        fn_fail(ctxt, st,
                "ma:set-property('%s', ...): only process.*, dynamicdocument.*, connector.* and mime.* can be set", id);
    }
    free_strings(a, 2);
    if (!xmlXPathCheckError(ctxt)) valuePush(ctxt, xmlXPathNewCString(""));
}

static void fn_execution(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[1];
    if (pop_strings(ctxt, nargs, 1, a) < 0) return;
    xf_state *st = state_of(ctxt);
    const char *n = (const char *)a[0];
    char *v = NULL;
    if (st) {
        if (!strcasecmp(n, "Execution Id") || !strcmp(n, "EXECUTION_ID")) v = ma_strdup(ma_exec_id(st->ex));
        else if (!strcasecmp(n, "Process Name") || !strcmp(n, "PROCESS_NAME"))
            v = ma_strdup(ma_exec_process_name(st->ex));
        else if (!strcasecmp(n, "Process Id") || !strcmp(n, "PROCESS_ID")) v = ma_strdup(ma_exec_process_id(st->ex));
        else if (!strcasecmp(n, "Atom Name") || !strcmp(n, "ATOM_NAME")) v = ma_strdup(ma_exec_atom_name(st->ex));
        else if (!strcasecmp(n, "Document Count") || !strcmp(n, "DOCUMENT_COUNT"))
            v = ma_asprintf("%zu", ma_exec_document_count(st->ex));
        else if (!strcasecmp(n, "Account Id") || !strcmp(n, "ACCOUNT_ID"))
            v = ma_strdup(ma_exec_opts(st->ex)->account_id ? ma_exec_opts(st->ex)->account_id : "miniatom");
        else fn_fail(ctxt, st, "ma:execution('%s'): unknown execution property", n);
    }
    free_strings(a, 1);
    if (!xmlXPathCheckError(ctxt)) push_owned(ctxt, v);
    else free(v);
}

static char *format_now(const ma_datefmt *f)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm lt;
    localtime_r(&now.tv_sec, &lt);
    ma_sb b;
    ma_sb_init(&b);
    ma_datefmt_format(f, now.tv_sec, (int)(now.tv_nsec / 1000000), (int)(lt.tm_gmtoff / 60), &b);
    return ma_sb_take(&b, NULL);
}

static void fn_date(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[1];
    if (pop_strings(ctxt, nargs, 1, a) < 0) return;
    xf_state *st = state_of(ctxt);
    ma_error e;
    ma_datefmt *f = ma_datefmt_compile((const char *)a[0], &e);
    free_strings(a, 1);
    if (!f) {
        fn_fail(ctxt, st, "ma:date: %s", e.msg);
        return;
    }
    push_owned(ctxt, format_now(f));
    ma_datefmt_free(f);
}

/* ma:date-convert(value, fromMask, toMask): "" stays "". */
static void fn_date_convert(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[3];
    if (pop_strings(ctxt, nargs, 3, a) < 0) return;
    xf_state *st = state_of(ctxt);
    char *out = NULL;
    ma_error e;
    int rc = ma_datefmt_convert((const char *)a[0], (const char *)a[1], (const char *)a[2], &out, &e);
    if (rc < 0) fn_fail(ctxt, st, "ma:date-convert: %s", e.msg);
    else if (rc > 0)
        fn_fail(ctxt, st, "ma:date-convert: '%s' does not match the mask '%s': %s", (const char *)a[0],
                (const char *)a[1], e.msg);
    free_strings(a, 3);
    if (!xmlXPathCheckError(ctxt)) push_owned(ctxt, out);
    else free(out);
}

/* ma:sequence(name): the Sequential Value counter name's next value, 1, 2, 3 ... across
 * executions (DATA/counters.json, shared with the keygen parameter value; runtime/store.h). */
static void fn_sequence(xmlXPathParserContextPtr ctxt, int nargs)
{
    xmlChar *a[1];
    if (pop_strings(ctxt, nargs, 1, a) < 0) return;
    xf_state *st = state_of(ctxt);
    unsigned long long v = 0;
    ma_error e;
    ma_error_clear(&e);
    if (!st || !st->ex) ma_error_set(&e, MA_ERR_RUNTIME, "no execution");
    else (void)ma_store_counter_next(ma_exec_data_dir(st->ex), (const char *)a[0], &v, &e);
    if (!v) fn_fail(ctxt, st, "ma:sequence('%s'): %s", (const char *)a[0], e.msg);
    free_strings(a, 1);
    if (v) valuePush(ctxt, xmlXPathNewFloat((double)v));
}

/* Case mapping of ASCII and Latin-1 letters (U+00C0-U+00DE <-> U+00E0-U+00FE, but for x and
 * division sign); other characters are kept as they are. */
static char *map_case(const char *s, int upper)
{
    size_t n = strlen(s);
    char *o = malloc(n + 1);
    if (!o) return NULL;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            o[i] = (char)(upper ? toupper(c) : tolower(c));
        } else if (c == 0xC3 && i + 1 < n) {
            unsigned char d = (unsigned char)s[i + 1];
            unsigned cp = 0xC0 + (d & 0x3F);
            if (upper && cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) d = (unsigned char)(d - 0x20);
            else if (!upper && cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) d = (unsigned char)(d + 0x20);
            o[i] = (char)c;
            o[++i] = (char)d;
        } else {
            o[i] = (char)c;
        }
    }
    return o;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void string_fn(xmlXPathParserContextPtr ctxt, int nargs, int op)
{
    xmlChar *a[1];
    if (pop_strings(ctxt, nargs, 1, a) < 0) return;
    const char *s = (const char *)a[0];
    char *out;
    if (op <= 1) {
        out = map_case(s, op == 1);
    } else {
        const char *b = s, *e = s + strlen(s);
        if (op == 2 || op == 4)
            while (b < e && is_ws(*b)) b++;
        if (op == 3 || op == 4)
            while (e > b && is_ws(e[-1])) e--;
        out = ma_strndup(b, (size_t)(e - b));
    }
    free_strings(a, 1);
    if (!out) {
        fn_fail(ctxt, state_of(ctxt), "out of memory");
        return;
    }
    push_owned(ctxt, out);
}

static void fn_lower(xmlXPathParserContextPtr c, int n) { string_fn(c, n, 0); }
static void fn_upper(xmlXPathParserContextPtr c, int n) { string_fn(c, n, 1); }
static void fn_ltrim(xmlXPathParserContextPtr c, int n) { string_fn(c, n, 2); }
static void fn_rtrim(xmlXPathParserContextPtr c, int n) { string_fn(c, n, 3); }
static void fn_trim(xmlXPathParserContextPtr c, int n) { string_fn(c, n, 4); }

static void register_functions(void)
{
    static const struct {
        const char *name;
        xmlXPathFunction fn;
    } fns[] = {
        {"property", fn_property},
        {"set-property", fn_set_property},
        {"execution", fn_execution},
        {"date", fn_date},
        {"date-convert", fn_date_convert},
        {"sequence", fn_sequence},
        {"upper", fn_upper},
        {"lower", fn_lower},
        {"trim", fn_trim},
        {"ltrim", fn_ltrim},
        {"rtrim", fn_rtrim},
        {"crossref", ma_xslt_fn_crossref},
    };
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        xsltRegisterExtModuleFunction((const xmlChar *)fns[i].name, (const xmlChar *)MA_XSLT_NS, fns[i].fn);
    ma_xslt_script_register();
}

/* ---- for xslt_script.c ---- */

ma_exec *ma_xslt_exec_of(xmlXPathParserContextPtr ctxt)
{
    xf_state *st = state_of(ctxt);
    return st ? st->ex : NULL;
}

const ma_settings *ma_xslt_settings_of(xmlXPathParserContextPtr ctxt)
{
    xf_state *st = state_of(ctxt);
    return st ? st->settings : NULL;
}

ma_xslt_calls **ma_xslt_calls_of(xmlXPathParserContextPtr ctxt)
{
    xf_state *st = state_of(ctxt);
    return st ? &st->calls : NULL;
}

/* ---- apply ---- */

static void transform_error(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void transform_error(void *ctx, const char *fmt, ...)
{
    xf_state *st = ctx;
    if (!st || st->errors.len > 2000) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ma_sb_puts(&st->errors, msg);
}

static const char *errors_text(xf_state *st)
{
    /* one line, without libxslt's trailing new lines */
    if (!st->errors.s) return "the stylesheet failed";
    for (char *p = st->errors.s; *p; p++)
        if (*p == '\n') *p = ' ';
    while (st->errors.len && st->errors.s[st->errors.len - 1] == ' ') st->errors.s[--st->errors.len] = '\0';
    return st->errors.len ? st->errors.s : "the stylesheet failed";
}

/* ---- transform contexts ---- */

/* Binds a released context to src, as xsltNewTransformContext does for a new one. */
static int ctx_bind(xsltTransformContextPtr tc, xmlDoc *src)
{
    xsltDocumentPtr d = xsltNewDocument(tc, src);
    if (!d) return -1;
    d->main = 1;
    tc->document = d;
    tc->xpathCtxt->doc = src;
    tc->state = XSLT_STATE_OK;
    return xsltInitCtxtExts(tc) < 0 ? -1 : 0;
}

/* A context for src: a pooled one bound to it, or a new one. NULL when out of memory. */
static xsltTransformContextPtr ctx_take(ma_xslt *x, xmlDoc *src, unsigned *uses)
{
    pooled_ctx pc = {NULL, 0};
    pthread_mutex_lock(&x->pool_mu);
    if (x->n_pool) pc = x->pool[--x->n_pool];
    pthread_mutex_unlock(&x->pool_mu);
    if (pc.tc) {
        if (ctx_bind(pc.tc, src) == 0) {
            *uses = pc.uses;
            return pc.tc;
        }
        xsltFreeTransformContext(pc.tc);
    }
    *uses = 0;
    return xsltNewTransformContext(x->style, src);
}

/* Frees what tc holds of its last transform (before the source document is freed) and keeps it
 * for the next one, or frees it when it cannot be reused (see CTX_MAX_USES). */
static void ctx_give_back(ma_xslt *x, xsltTransformContextPtr tc, unsigned uses, int ok)
{
    if (!ok || tc->state != XSLT_STATE_OK || tc->templNr || tc->varsNr || tc->depth || ++uses >= CTX_MAX_USES ||
        (size_t)xmlDictSize(tc->dict) > CTX_MAX_DICT) {
        xsltFreeTransformContext(tc);
        return;
    }
    xsltFreeGlobalVariables(tc); /* values may point into the source document and tree fragments */
    tc->globalVars = NULL;
    xsltFreeRVTs(tc);
    for (int i = 0; i < tc->extrasNr; i++) {
        if (tc->extras[i].deallocate && tc->extras[i].info) tc->extras[i].deallocate(tc->extras[i].info);
        tc->extras[i].info = NULL;
        tc->extras[i].deallocate = NULL;
        tc->extras[i].val.ptr = NULL;
    }
    xsltFreeDocuments(tc); /* the source document's entry, its keys and ids; other documents */
    tc->docList = tc->styleList = tc->document = NULL;
    xsltShutdownCtxtExts(tc);
    tc->xpathCtxt->doc = NULL;
    tc->xpathCtxt->node = NULL;
    tc->node = tc->inst = tc->insert = tc->initialContextNode = NULL;
    tc->output = tc->initialContextDoc = NULL;
    tc->nodeList = NULL;
    tc->templ = tc->currentTemplateRule = NULL;
    tc->vars = NULL;
    tc->mode = tc->modeURI = NULL;
    tc->contextVariable = NULL;
    tc->lasttext = NULL; /* points into the last result: must not match a text node of the next */
    tc->lasttsize = tc->lasttuse = 0;
    tc->keyInitLevel = 0;
    tc->opCount = 0;
    tc->currentId = 0;
    tc->sourceDocDirty = 0;
    tc->_private = NULL;
    tc->error = NULL;
    tc->errctx = NULL;
    pthread_mutex_lock(&x->pool_mu);
    if (x->n_pool < CTX_POOL) {
        x->pool[x->n_pool++] = (pooled_ctx){tc, uses};
        tc = NULL;
    }
    pthread_mutex_unlock(&x->pool_mu);
    if (tc) xsltFreeTransformContext(tc);
}

int ma_xslt_apply(const ma_xslt *x, ma_exec *ex, const ma_doc *in, ma_doc **out, ma_error *err)
{
    *out = NULL;
    size_t len;
    const char *data = ma_doc_data(in, &len);
    const char *ctype = ma_doc_prop(in, "mime.Content-Type");
    ma_error perr;
    int json_in;
    xmlDoc *src;
    if (x->ff_in) {
        json_in = 0;
        src = ma_flatfile_to_xml(x->ff_in, data, len, &perr);
        if (!src) {
            ma_error_set(err, perr.code == MA_ERR_NOMEM ? MA_ERR_NOMEM : MA_ERR_PARSE,
                         "%s: the document does not match flat file profile %s: %s", x->name,
                         ma_flatfile_label(x->ff_in), perr.msg);
            return perr.code == MA_ERR_NOMEM ? -1 : 1;
        }
    } else if (ctype) {
        json_in = ma_doc_looks_json(data, len, ctype);
        src = json_in ? ma_json_to_xml(data, len, &perr) : ma_xml_parse(data, len, "the document", &perr);
    } else {
        /* no content type: JSON when it starts with { or [ (and then it must parse as JSON: XML
         * cannot start that way), XML otherwise - one parse either way */
        size_t k = 0;
        while (k < len && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r')) k++;
        json_in = k < len && (data[k] == '{' || data[k] == '[');
        src = json_in ? ma_json_to_xml(data, len, &perr) : ma_xml_parse(data, len, "the document", &perr);
    }
    if (!src) {
        ma_error_set(err, MA_ERR_PARSE, "%s: the document is not %s: %s", x->name,
                     json_in ? "valid JSON" : "well-formed XML", perr.msg);
        return 1;
    }
    xf_state st;
    memset(&st, 0, sizeof st);
    st.ex = ex;
    st.in = in;
    st.settings = x->settings;
    ma_doc *props = NULL; /* carries the properties set by the stylesheet, made on first use */
    st.out_props = &props;
    unsigned uses;
    xsltTransformContextPtr tc = ctx_take((ma_xslt *)x, src, &uses);
    if (!tc) {
        ma_doc_unref(props);
        xmlFreeDoc(src);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    tc->_private = &st;
    xsltSetCtxtSecurityPrefs(g_prefs, tc);
    xsltSetTransformErrorFunc(tc, &st, transform_error);
    for (size_t i = 0; i < x->n_params; i++) {
        char *pid = ma_asprintf("dynamicdocument.%s", x->params[i]);
        const char *v = pid ? ma_doc_prop(in, pid) : NULL;
        if (v) xsltQuoteOneUserParam(tc, (const xmlChar *)x->params[i], (const xmlChar *)v);
        free(pid);
    }
    xmlSetGenericErrorFunc(&st, transform_error); /* libxml2's XPath errors (per thread) */
    ma_budget *budget = ma_budget_current();
    ma_stopper prev_stopper = ma_budget_set_stopper((ma_stopper){stop_transform, tc});
    if (budget) tc->debugStatus = XSLT_DEBUG_CONT; /* insn_hook runs before each instruction */
    xmlDoc *res =
        ma_budget_check() == MA_STOP_NONE ? xsltApplyStylesheetUser(x->style, src, NULL, NULL, NULL, tc) : NULL;
    ma_budget_set_stopper(prev_stopper);
    tc->debugStatus = XSLT_DEBUG_NONE;
    xmlSetGenericErrorFunc(NULL, NULL);
    int rc = 0;
    char *text = NULL;
    size_t tlen = 0;
    const char *out_type = NULL;
    if (budget && ma_budget_check() != MA_STOP_NONE) {
        char why[256];
        ma_error_set(err, MA_ERR_LIMIT, "%s: %s", x->name, ma_budget_message(budget, why, sizeof why));
        if (tc->state == XSLT_STATE_OK) tc->state = XSLT_STATE_STOPPED; /* not back to the pool */
        rc = 1;
    } else if (!res || tc->state != XSLT_STATE_OK || st.failed) {
        ma_error_set(err, MA_ERR_RUNTIME, "%s: %s", x->name, errors_text(&st));
        rc = 1;
    } else {
        xmlNode *root = xmlDocGetRootElement(res);
        if (x->ff_out) {
            text = root ? ma_flatfile_from_xml(x->ff_out, root, &tlen, &perr) : ma_strdup("");
            if (!text) {
                ma_error_set(err, MA_ERR_RUNTIME, "%s: cannot write flat file profile %s: %s", x->name,
                             ma_flatfile_label(x->ff_out), perr.msg);
                rc = perr.code == MA_ERR_NOMEM ? -1 : 1;
            }
            out_type = "text/plain";
        } else if (root && ma_xml_is_json_vocab(root)) {
            text = ma_xml_to_json(root, &tlen, &perr);
            if (!text) {
                ma_error_set(err, MA_ERR_RUNTIME, "%s: the result is not valid JSON: %s", x->name, perr.msg);
                rc = 1;
            }
            out_type = "application/json";
        } else {
            xmlChar *buf = NULL;
            int blen = 0;
            if (xsltSaveResultToString(&buf, &blen, res, x->style) < 0) {
                rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            } else {
                text = buf ? ma_strndup((const char *)buf, (size_t)blen) : ma_strdup("");
                tlen = (size_t)blen;
                xmlFree(buf);
                if (!text) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            }
            const xmlChar *method = x->style->method;
            out_type = x->style->mediaType                                      ? (const char *)x->style->mediaType
                       : method && xmlStrEqual(method, (const xmlChar *)"text") ? "text/plain"
                       : method && xmlStrEqual(method, (const xmlChar *)"html") ? "text/html"
                                                                                : "application/xml";
        }
        if (rc == 0 && tlen == 0) {
            /* Boomi: a map that produces no output is a document error (HB:TryCatch) */
            ma_error_set(err, MA_ERR_RUNTIME, "%s: the map produced no output", x->name);
            rc = 1;
        }
    }
    if (rc == 0) {
        ma_doc *o = ma_doc_derive_owned(in, text, tlen);
        text = NULL;
        for (size_t i = 0; o && props && i < ma_doc_prop_count(props); i++) {
            const char *k, *v;
            ma_doc_prop_at(props, i, &k, &v);
            if (ma_doc_set_prop(&o, k, v) < 0) {
                ma_doc_unref(o);
                o = NULL;
            }
        }
        /* the content type follows the result, when the document had one or the result is JSON */
        if (o && (ctype || ma_streq(out_type, "application/json")) &&
            !(props && ma_doc_prop(props, "mime.Content-Type")) &&
            ma_doc_set_prop(&o, "mime.Content-Type", out_type) < 0) {
            ma_doc_unref(o);
            o = NULL;
        }
        if (!o) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        *out = o;
    }
    free(text);
    if (res) xmlFreeDoc(res);
    ctx_give_back((ma_xslt *)x, tc, uses, rc == 0);
    xmlFreeDoc(src);
    ma_doc_unref(props);
    ma_sb_free(&st.errors);
    ma_xslt_calls_free(st.calls);
    return rc;
}
