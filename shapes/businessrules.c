/* businessrules.c - the Business Rules shape (shapetype "businessrules"; boomi-atom-semantics.md
 * "Business Rules"): every rule, in XML order, checks its condition (and/or groups of comparisons
 * on profile fields, map functions and static values) once per occurrence of the record its fields
 * sit in (a flat file's line). Documents that pass every rule go down Accepted; the others go down
 * Rejected with the failures, as Boomi's XML <business_rule_failures>, in
 * meta.base.businessrulesmessage (Business Rules Result Message). Accepted documents run first.
 * docs/decisions/020-business-rules.md. */
#include <stdlib.h>
#include <string.h>

#include "businessrules.h"
#include "compare.h"
#include "component.h"
#include "flatfile.h"
#include "shapes_common.h"
#include "template.h"
#include "util.h"

#define BR_PROP "meta.base.businessrulesmessage"
#define BR_MESSAGE_MAX 10000 /* characters of failure messages kept per document (Boomi's limit) */
#define BR_OCCURRENCES_MAX 100000
#define BR_DEPTH_MAX 64 /* nesting of condition groups */
#define BR_ARGS_MAX 100 /* {n} of an error message */

typedef enum ci_kind { CI_FIELD = 0, CI_FUNC, CI_STATIC } ci_kind;

typedef struct cinput { /* a <leftInput>, <rightInput> or message input */
    ci_kind kind;
    size_t input; /* CI_FIELD, CI_FUNC: index in the rule's inputs */
    char *value;  /* CI_STATIC */
} cinput;

typedef enum cop { OP_CMP = 0, OP_CONTAINS, OP_NOT_CONTAINS, OP_STARTS, OP_EMPTY, OP_NOT_EMPTY } cop;

typedef struct cond {
    int group, is_or;
    struct cond *kids;
    size_t nkids;
    cop op;
    int have_cmp;
    ma_cmp cmp;
    cinput left, right;
} cond;

typedef struct rinput { /* a rule's <input> */
    char *id;
    ma_profile_path *path; /* a profile field */
    ma_brfn *fn;           /* or a function */
} rinput;

typedef struct rule {
    char *name;
    rinput *in;
    size_t nin;
    cond cond;
    ma_template *msg;
    cinput *margs; /* argument i+1 of the message; kind CI_STATIC with NULL value: not given */
    size_t nmargs;
    ma_profile_path *occ; /* owned: the record the rule runs once for each occurrence of; NULL: once */
} rule;

typedef struct br_data {
    rule *rules;
    size_t n;
    int json;
    ma_flatfile *ff; /* owned: a flat file profile's reader (each line an occurrence), or NULL */
    int needs_data;  /* some rule reads the document's data */
    char *profile;   /* "'NAME' (ID)" for messages */
} br_data;

static void cinput_free(cinput *c) { free(c->value); }

static void cond_free(cond *c)
{
    for (size_t i = 0; i < c->nkids; i++) cond_free(&c->kids[i]);
    free(c->kids);
    if (c->have_cmp) ma_cmp_free(&c->cmp);
    cinput_free(&c->left);
    cinput_free(&c->right);
}

static void rule_free(rule *r)
{
    free(r->name);
    for (size_t i = 0; i < r->nin; i++) {
        free(r->in[i].id);
        ma_profile_path_free(r->in[i].path);
        ma_brfn_free(r->in[i].fn);
    }
    free(r->in);
    cond_free(&r->cond);
    ma_template_free(r->msg);
    for (size_t i = 0; i < r->nmargs; i++) cinput_free(&r->margs[i]);
    free(r->margs);
    ma_profile_path_free(r->occ);
}

static void br_destroy(ma_shape *s)
{
    br_data *d = ma_shape_data(s);
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) rule_free(&d->rules[i]);
    free(d->rules);
    free(d->profile);
    ma_flatfile_free(d->ff);
    free(d);
    ma_shape_set_data(s, NULL);
}

/* ---- compiling ---- */

/* The xsi:type of n ("" when none; *hold is freed by the caller). */
static const char *xsi_type(const xmlNode *n, char **hold)
{
    *hold = NULL;
    for (xmlAttr *a = n->properties; a && !*hold; a = a->next) {
        if (!a->name || strcmp((const char *)a->name, "type") != 0) continue;
        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
        *hold = ma_strdup(v ? (const char *)v : "");
        xmlFree(v);
    }
    return *hold ? *hold : "";
}

static int compile_cinput(const rule *r, const xmlNode *n, cinput *ci, ma_error *err)
{
    char *t;
    const char *type = xsi_type(n, &t);
    char *id = ma_xml_attr(n, "id");
    int rc = 0;
    if (strcmp(type, "StaticConditionInput") == 0) {
        ci->kind = CI_STATIC;
        ci->value = ma_xml_attr(n, "value");
        if (!ci->value && !(ci->value = ma_strdup(""))) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    } else if (strcmp(type, "FieldConditionInput") == 0 || strcmp(type, "FunctionConditionInput") == 0) {
        int func = strcmp(type, "FunctionConditionInput") == 0;
        size_t k = 0;
        while (k < r->nin && !ma_streq(r->in[k].id, id)) k++;
        if (k == r->nin) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: <%s> refers to input id %s, which the rule does not have",
                              n->line, (const char *)n->name, id ? id : "(none)");
        } else if (func != (r->in[k].fn != NULL)) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: <%s xsi:type=\"%s\"> refers to input %s, which is a %s",
                              n->line, (const char *)n->name, type, id, r->in[k].fn ? "function" : "profile field");
        } else if (func) {
            char *out = ma_xml_attr(n, "outputId");
            if (!ma_brfn_has_output(r->in[k].fn, out))
                rc = ma_error_set(err, MA_ERR_CONFIG,
                                  "line %d: <%s> reads output %s of function input %s, which has "
                                  "no such output",
                                  n->line, (const char *)n->name, out ? out : "(none)", id);
            free(out);
        }
        ci->kind = func ? CI_FUNC : CI_FIELD;
        ci->input = k;
    } else {
        rc = ma_error_set(err, MA_ERR_CONFIG,
                          "line %d: <%s> has xsi:type \"%s\" (expected FieldConditionInput, "
                          "FunctionConditionInput or StaticConditionInput)",
                          n->line, (const char *)n->name, type);
    }
    free(t);
    free(id);
    return rc;
}

static int parse_op(const char *s, cop *op, ma_cmp_op *cmp)
{
    static const struct {
        const char *name;
        cop op;
        ma_cmp_op cmp;
    } ops[] = {
        {"=", OP_CMP, MA_CMP_EQ},
        {"!=", OP_CMP, MA_CMP_NE},
        {"<", OP_CMP, MA_CMP_LT},
        {">", OP_CMP, MA_CMP_GT},
        {"<=", OP_CMP, MA_CMP_LE},
        {">=", OP_CMP, MA_CMP_GE},
        {"contains", OP_CONTAINS, MA_CMP_EQ},
        {"does not contain", OP_NOT_CONTAINS, MA_CMP_EQ},
        {"starts with", OP_STARTS, MA_CMP_EQ},
        {"is empty", OP_EMPTY, MA_CMP_EQ},
        {"is not empty", OP_NOT_EMPTY, MA_CMP_EQ},
    };
    for (size_t i = 0; s && i < sizeof ops / sizeof *ops; i++)
        if (strcmp(s, ops[i].name) == 0) {
            *op = ops[i].op;
            *cmp = ops[i].cmp;
            return 0;
        }
    return -1;
}

static int compile_cond(const rule *r, const xmlNode *n, cond *c, int depth, ma_error *err)
{
    if (depth > BR_DEPTH_MAX)
        return ma_error_set(err, MA_ERR_LIMIT, "line %d: conditions are nested deeper than %d", n->line, BR_DEPTH_MAX);
    char *t, *opname = ma_xml_attr(n, "operator");
    const char *type = xsi_type(n, &t);
    int rc = 0;
    if (strcmp(type, "GroupingCondition") == 0) {
        c->group = 1;
        if (ma_streq(opname, "or")) c->is_or = 1;
        else if (!ma_streq(opname, "and"))
            rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: a condition group has operator \"%s\" (expected and, or)",
                              n->line, opname ? opname : "");
        size_t k = 0;
        for (xmlNode *e = ma_xml_child(n, NULL); e; e = ma_xml_next(e, NULL)) k++;
        if (rc == 0 && k == 0)
            rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: a condition group holds no conditions to check", n->line);
        if (rc == 0 && !(c->kids = calloc(k, sizeof *c->kids))) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        for (xmlNode *e = ma_xml_child(n, NULL); rc == 0 && e; e = ma_xml_next(e, NULL)) {
            if (!ma_xml_is(e, "nestedExpression"))
                rc =
                    ma_error_set(err, MA_ERR_CONFIG, "line %d: <%s> in a condition group (expected <nestedExpression>)",
                                 e->line, (const char *)e->name);
            else rc = compile_cond(r, e, &c->kids[c->nkids++], depth + 1, err);
        }
    } else if (strcmp(type, "SimpleCondition") == 0) {
        ma_cmp_op cop_;
        if (parse_op(opname, &c->op, &cop_) < 0) {
            rc = ma_error_set(err, MA_ERR_CONFIG,
                              "line %d: comparison \"%s\" is not one of Boomi's business rule "
                              "operators (=, !=, <, >, <=, >=, contains, does not contain, starts with, is empty, is "
                              "not empty)",
                              n->line, opname ? opname : "");
        } else {
            int unary = c->op == OP_EMPTY || c->op == OP_NOT_EMPTY;
            xmlNode *l = ma_xml_child(n, "leftInput"), *rt = ma_xml_child(n, "rightInput");
            if (!l)
                rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: comparison \"%s\" has no <leftInput>", n->line, opname);
            else if (!unary && !rt)
                rc =
                    ma_error_set(err, MA_ERR_CONFIG, "line %d: comparison \"%s\" has no <rightInput>", n->line, opname);
            else if (unary && rt)
                rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: comparison \"%s\" takes no <rightInput>", n->line,
                                  opname);
            if (rc == 0) rc = compile_cinput(r, l, &c->left, err);
            if (rc == 0 && !unary) rc = compile_cinput(r, rt, &c->right, err);
            if (rc == 0 && c->op == OP_CMP) {
                rc = ma_cmp_init(&c->cmp, cop_, NULL, err);
                c->have_cmp = rc == 0;
            }
        }
    } else {
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                          "line %d: condition type \"%s\" is not supported (Boomi's rule "
                          "editor offers and/or groups of comparisons: GroupingCondition, SimpleCondition)",
                          n->line, type);
    }
    free(t);
    free(opname);
    return rc;
}

static int compile_inputs(ma_shape *s, const char *profile_id, const xmlNode *rn, rule *r, ma_error *err)
{
    size_t k = 0;
    for (xmlNode *e = ma_xml_child(rn, "input"); e; e = ma_xml_next(e, "input")) k++;
    if (k && !(r->in = calloc(k, sizeof *r->in))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (xmlNode *e = ma_xml_child(rn, "input"); e; e = ma_xml_next(e, "input")) {
        rinput *in = &r->in[r->nin++];
        in->id = ma_xml_attr(e, "id");
        if (!in->id) return ma_error_set(err, MA_ERR_CONFIG, "line %d: an <input> has no id", e->line);
        for (size_t j = 0; j + 1 < r->nin; j++)
            if (strcmp(r->in[j].id, in->id) == 0)
                return ma_error_set(err, MA_ERR_CONFIG, "line %d: two inputs have id %s", e->line, in->id);
        char *t;
        const char *type = xsi_type(e, &t);
        int rc = 0;
        if (strcmp(type, "BusinessRuleField") == 0) {
            char *key = ma_xml_attr(e, "elementKey"), *tag = ma_xml_attr(e, "taglist");
            if (tag && *tag && strcmp(tag, "0") != 0) {
                rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                                  "line %d: input %s reads element %s through tag list %s; "
                                  "instance identifiers (tag lists) are not supported",
                                  e->line, in->id, key ? key : "", tag);
            } else if (!(in->path = ma_profile_path_compile(ma_shape_deploy(s), profile_id, key, err))) {
                ma_error_prefix(err, "line %d: input %s", e->line, in->id);
                rc = -1;
            }
            free(key);
            free(tag);
        } else if (strcmp(type, "BusinessRuleFunction") == 0) {
            if (!(in->fn = ma_brfn_compile(s, profile_id, e, err))) {
                ma_error_prefix(err, "input %s", in->id);
                rc = -1;
            }
        } else {
            rc = ma_error_set(err, MA_ERR_CONFIG,
                              "line %d: <input> has xsi:type \"%s\" (expected BusinessRuleField "
                              "or BusinessRuleFunction)",
                              e->line, type);
        }
        free(t);
        if (rc < 0) return -1;
    }
    return 0;
}

static int compile_message(const xmlNode *rn, rule *r, ma_error *err)
{
    xmlNode *m = ma_xml_child(rn, "errorMessage");
    if (!m)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "line %d: the rule has no <errorMessage> (Boomi fails such a rule at "
                            "run time)",
                            rn->line);
    char *content = ma_xml_attr(m, "content");
    r->msg = ma_template_compile(content ? content : "", err);
    free(content);
    if (!r->msg) {
        ma_error_prefix(err, "line %d: <errorMessage content>", m->line);
        return -1;
    }
    size_t max = 0;
    for (xmlNode *w = ma_xml_child(m, "input"); w; w = ma_xml_next(w, "input")) {
        char *idx = ma_xml_attr(w, "index");
        char *end = NULL;
        long v = idx ? strtol(idx, &end, 10) : 0;
        int bad = !idx || *end || v < 1 || v > BR_ARGS_MAX;
        free(idx);
        if (bad)
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: a message input needs an index from 1 to %d", w->line,
                                BR_ARGS_MAX);
        if ((size_t)v > max) max = (size_t)v;
    }
    if (max && !(r->margs = calloc(max, sizeof *r->margs))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    r->nmargs = max;
    for (size_t i = 0; i < max; i++) r->margs[i].kind = CI_STATIC; /* value NULL: not given */
    for (xmlNode *w = ma_xml_child(m, "input"); w; w = ma_xml_next(w, "input")) {
        char *idx = ma_xml_attr(w, "index");
        size_t i = (size_t)strtol(idx, NULL, 10) - 1;
        free(idx);
        xmlNode *in = ma_xml_child(w, "input");
        if (!in) return ma_error_set(err, MA_ERR_CONFIG, "line %d: message input %zu holds no <input>", w->line, i + 1);
        if (r->margs[i].kind != CI_STATIC || r->margs[i].value)
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: message input %zu is given twice", w->line, i + 1);
        if (compile_cinput(r, in, &r->margs[i], err) < 0) return -1;
    }
    return 0;
}

/* The record a rule runs once for each occurrence of: the one holding its deepest field. */
static int choose_occurrence(rule *r, ma_error *err)
{
    const ma_profile_path *deepest = NULL;
    for (size_t i = 0; i < r->nin; i++) {
        if (r->in[i].path && (!deepest || ma_profile_path_len(r->in[i].path) > ma_profile_path_len(deepest)))
            deepest = r->in[i].path;
        for (size_t k = 0; k < ma_brfn_path_count(r->in[i].fn); k++) {
            const ma_profile_path *p = ma_brfn_path(r->in[i].fn, k);
            if (!deepest || ma_profile_path_len(p) > ma_profile_path_len(deepest)) deepest = p;
        }
    }
    if (!deepest) return 0;
    return (r->occ = ma_profile_path_record(deepest, err)) ? 0 : -1;
}

static int compile_rule(ma_shape *s, const char *profile_id, const xmlNode *rn, rule *r, ma_error *err)
{
    r->name = ma_xml_attr(rn, "name");
    if (!r->name && !(r->name = ma_strdup(""))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (compile_inputs(s, profile_id, rn, r, err) < 0) return -1;
    xmlNode *c = ma_xml_child(rn, "condition");
    if (!c) return ma_error_set(err, MA_ERR_CONFIG, "line %d: the rule has no <condition>", rn->line);
    if (ma_xml_next(c, "condition"))
        return ma_error_set(err, MA_ERR_CONFIG, "line %d: the rule has more than one <condition>", rn->line);
    if (compile_cond(r, c, &r->cond, 0, err) < 0) return -1;
    if (compile_message(rn, r, err) < 0) return -1;
    return choose_occurrence(r, err);
}

/* The profile the rules read: deployed, XML, JSON or flat file. */
static int resolve_profile(ma_shape *s, const xmlNode *c, const char *pid, br_data *d, ma_error *err)
{
    char *pname = ma_xml_attr(c, "profileName");
    char *what = ma_asprintf("profile '%s'", pname ? pname : "");
    free(pname);
    if (!what) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_component *prof = ma_deploy_ref(ma_shape_deploy(s), pid, "profile", what, err);
    free(what);
    if (!prof) return -1;
    if (!ma_streq(prof->type, "profile.xml") && !ma_streq(prof->type, "profile.json") &&
        !ma_streq(prof->type, "profile.flatfile"))
        return ma_error_set(err, MA_ERR_UNSUPPORTED,
                            "profile '%s' (%s) is of type %s; business rules run on XML, JSON and flat file profiles",
                            prof->name, prof->id, prof->type);
    d->json = ma_streq(prof->type, "profile.json");
    if (ma_streq(prof->type, "profile.flatfile") && !(d->ff = ma_flatfile_compile(prof, err))) return -1;
    d->profile = ma_asprintf("'%s' (%s)", prof->name, prof->id);
    return d->profile ? 0 : ma_error_set(err, MA_ERR_NOMEM, "out of memory");
}

static int br_compile(ma_shape *s, const ma_xml_node *config, ma_error *err)
{
    const xmlNode *c = (const xmlNode *)config;
    if (!ma_xml_is(c, "businessrules"))
        return ma_error_set(err, MA_ERR_CONFIG, "expected a <businessrules> configuration");
    br_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_shape_set_data(s, d);
    char *pid = ma_xml_attr(c, "profileId");
    int rc = resolve_profile(s, c, pid, d, err);
    if (rc == 0) {
        size_t k = 0;
        for (xmlNode *r = ma_xml_child(c, NULL); r; r = ma_xml_next(r, NULL)) k++;
        if (k && !(d->rules = calloc(k, sizeof *d->rules))) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        else if (k == 0) rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: <businessrules> holds no rules", c->line);
    }
    for (xmlNode *r = rc == 0 ? ma_xml_child(c, NULL) : NULL; r && rc == 0; r = ma_xml_next(r, NULL)) {
        if (!ma_xml_is(r, "rule")) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: <%s> in <businessrules> (expected <rule>)", r->line,
                              (const char *)r->name);
            break;
        }
        rule *ru = &d->rules[d->n++];
        if (compile_rule(s, pid, r, ru, err) < 0) {
            ma_error_prefix(err, "rule '%s'", ru->name ? ru->name : "");
            rc = -1;
        }
        if (ru->occ) d->needs_data = 1;
    }
    free(pid);
    if (rc == 0 && (ma_shape_declare_output(s, "Accepted", err) < 0 || ma_shape_declare_output(s, "Rejected", err) < 0))
        rc = -1;
    return rc;
}

/* ---- running ---- */

typedef struct eval_ctx {
    ma_exec *ex;
    const rule *r;
    const ma_doc *doc;
    char **vals; /* per input, for the current occurrence */
    ma_sb *fails;
    size_t used, kept, skipped;
    int doc_error; /* err holds a document error */
    ma_error *err;
} eval_ctx;

/* Value of ci at occurrence m (borrowed from the cache or the rule), or NULL with err. */
static const char *value_of(eval_ctx *e, const ma_profile_match *m, const cinput *ci)
{
    if (ci->kind == CI_STATIC) return ci->value ? ci->value : "";
    if (e->vals[ci->input]) return e->vals[ci->input];
    const rinput *in = &e->r->in[ci->input];
    char *v;
    if (in->path) {
        v = ma_profile_match_value(m, in->path);
    } else {
        ma_error_clear(e->err);
        v = ma_brfn_eval(e->ex, in->fn, e->doc, m, e->err);
        if (!v && e->err->code != MA_ERR_NOMEM) {
            e->doc_error = 1;
            return NULL;
        }
    }
    if (!v) ma_error_set(e->err, MA_ERR_NOMEM, "out of memory");
    e->vals[ci->input] = v;
    return v;
}

/* 1 holds, 0 does not, -1 with err */
static int cond_eval(eval_ctx *e, const ma_profile_match *m, const cond *c)
{
    if (c->group) {
        for (size_t i = 0; i < c->nkids; i++) {
            int v = cond_eval(e, m, &c->kids[i]);
            if (v < 0) return -1;
            if (c->is_or && v) return 1;
            if (!c->is_or && !v) return 0;
        }
        return !c->is_or;
    }
    const char *l = value_of(e, m, &c->left);
    if (!l) return -1;
    if (c->op == OP_EMPTY) return *l == '\0';
    if (c->op == OP_NOT_EMPTY) return *l != '\0';
    const char *r = value_of(e, m, &c->right);
    if (!r) return -1;
    switch (c->op) {
    case OP_CONTAINS: return strstr(l, r) != NULL;
    case OP_NOT_CONTAINS: return strstr(l, r) == NULL;
    case OP_STARTS: return ma_str_has_prefix(l, r);
    default: {
        int v = ma_cmp_eval(&c->cmp, l, r, e->err);
        if (v < 0) e->doc_error = 1;
        return v;
    }
    }
}

static void xml_escape(ma_sb *b, const char *s, int attr)
{
    for (; *s; s++) {
        if (*s == '&') ma_sb_puts(b, "&amp;");
        else if (*s == '<') ma_sb_puts(b, "&lt;");
        else if (*s == '>') ma_sb_puts(b, "&gt;");
        else if (attr && *s == '"') ma_sb_puts(b, "&quot;");
        else ma_sb_putc(b, *s);
    }
}

/* The rule's message for occurrence m, appended to the failures (or counted as skipped). */
static int add_failure(eval_ctx *e, const ma_profile_match *m)
{
    const rule *r = e->r;
    const char **args = r->nmargs ? calloc(r->nmargs, sizeof *args) : NULL;
    if (r->nmargs && !args) return ma_error_set(e->err, MA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < r->nmargs; i++) {
        const char *v = r->margs[i].kind == CI_STATIC && !r->margs[i].value ? "" : value_of(e, m, &r->margs[i]);
        if (!v) {
            free(args);
            return -1;
        }
        args[i] = *v ? v : "null"; /* an empty value, or an index not given, reads "null" as in Boomi */
    }
    ma_sb msg;
    ma_sb_init(&msg);
    ma_template_render(r->msg, args, r->nmargs, &msg);
    free(args);
    size_t len;
    char *text = ma_sb_take(&msg, &len);
    if (!text) return ma_error_set(e->err, MA_ERR_NOMEM, "out of memory");
    size_t chars = 0;
    for (const char *p = text; *p; p++)
        if ((*p & 0xC0) != 0x80) chars++;
    if (e->used + chars > BR_MESSAGE_MAX) {
        e->skipped++;
    } else {
        e->used += chars;
        e->kept++;
        ma_sb_puts(e->fails, "   <business_rule_failure rule=\"");
        xml_escape(e->fails, r->name, 1);
        ma_sb_puts(e->fails, "\">");
        xml_escape(e->fails, text, 0);
        ma_sb_puts(e->fails, "</business_rule_failure>\n");
    }
    free(text);
    return 0;
}

static int eval_occurrence(void *ctx, const ma_profile_match *m)
{
    eval_ctx *e = ctx;
    int rc = cond_eval(e, m, &e->r->cond);
    if (rc == 0) rc = add_failure(e, m);
    else if (rc == 1) rc = 0;
    for (size_t i = 0; i < e->r->nin; i++) {
        free(e->vals[i]);
        e->vals[i] = NULL;
    }
    return rc;
}

static int count_occurrence(void *ctx, const ma_profile_match *m)
{
    (void)m;
    (*(size_t *)ctx)++;
    return 0;
}

/* 0 evaluated; -1 with err (e->doc_error tells a document error from a process-level one) */
static int eval_rule(eval_ctx *e, const ma_profile_data *pd)
{
    const rule *r = e->r;
    size_t n = 0;
    if (r->occ && pd) {
        if (ma_profile_path_each(r->occ, pd, BR_OCCURRENCES_MAX, count_occurrence, &n, e->err) < 0) {
            e->doc_error = e->err->code == MA_ERR_LIMIT;
            return -1;
        }
    }
    if (n) {
        int rc = ma_profile_path_each(r->occ, pd, BR_OCCURRENCES_MAX, eval_occurrence, e, e->err);
        return rc < 0 ? -1 : 0;
    }
    /* no occurrence (or no field): once, every field read from the document */
    ma_profile_match root = ma_profile_match_root(pd);
    return eval_occurrence(e, &root) < 0 ? -1 : 0;
}

static int br_execute(ma_exec *ex, ma_shape *s, ma_batch *in, ma_outputs *out, ma_error *err)
{
    br_data *d = ma_shape_data(s);
    for (size_t i = 0; i < in->len; i++) {
        ma_doc *doc = in->docs[i];
        ma_error e;
        ma_error_clear(&e);
        ma_profile_data *pd = NULL;
        if (d->needs_data &&
            !(pd = d->ff ? ma_profile_data_parse_flatfile(doc, d->ff, &e) : ma_profile_data_parse(doc, d->json, &e))) {
            if (e.code == MA_ERR_NOMEM) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            if (ma_outputs_fail(out, ma_doc_ref(doc), "the document does not read as %s profile %s: %s",
                                d->ff     ? "flat file"
                                : d->json ? "JSON"
                                          : "XML",
                                d->profile, e.msg) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        size_t maxin = 0;
        for (size_t k = 0; k < d->n; k++)
            if (d->rules[k].nin > maxin) maxin = d->rules[k].nin;
        char **vals = maxin ? calloc(maxin, sizeof *vals) : NULL;
        ma_sb fails;
        ma_sb_init(&fails);
        eval_ctx ec = {.ex = ex, .doc = doc, .vals = vals, .fails = &fails, .err = &e};
        int rc = maxin && !vals ? ma_error_set(&e, MA_ERR_NOMEM, "out of memory") : 0;
        for (size_t k = 0; k < d->n && rc == 0; k++) {
            ec.r = &d->rules[k];
            rc = eval_rule(&ec, pd);
            if (rc < 0 && ec.doc_error) ma_error_prefix(&e, "rule '%s'", ec.r->name);
        }
        for (size_t k = 0; k < maxin; k++) free(vals[k]);
        free(vals);
        ma_profile_data_free(pd);
        if (rc < 0 || fails.oom) {
            ma_sb_free(&fails);
            if (!ec.doc_error || e.code == MA_ERR_NOMEM || fails.oom) {
                if (e.code == MA_ERR_NOMEM || fails.oom) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                *err = e;
                return -1;
            }
            if (ma_outputs_fail(out, ma_doc_ref(doc), "%s", e.msg) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            continue;
        }
        ma_doc *o = ma_doc_ref(doc);
        int port = 0;
        if (ec.kept || ec.skipped) {
            ma_sb x;
            ma_sb_init(&x);
            ma_sb_puts(&x, "<business_rule_failures");
            if (ec.skipped) ma_sb_printf(&x, " skippedErrorsCount=\"%zu\"", ec.skipped);
            ma_sb_puts(&x, ">\n");
            if (fails.s) ma_sb_puts(&x, fails.s);
            ma_sb_puts(&x, "</business_rule_failures>\n");
            char *v = ma_sb_take(&x, NULL);
            if (!v || ma_doc_set_prop(&o, BR_PROP, v) < 0) {
                free(v);
                ma_sb_free(&fails);
                ma_doc_unref(o);
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            }
            free(v);
            port = 1;
        } else if (ma_doc_prop(o, BR_PROP) && ma_doc_set_prop(&o, BR_PROP, NULL) < 0) {
            ma_sb_free(&fails);
            ma_doc_unref(o);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        ma_sb_free(&fails);
        if (ma_outputs_emit(out, port, o) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

const ma_shape_type ma_shape_businessrules = {
    .name = "businessrules",
    .abi_version = MA_ABI_VERSION,
    .traits = MA_SHAPE_IN_MEMORY,
    .compile = br_compile,
    .execute = br_execute,
    .destroy = br_destroy,
};
