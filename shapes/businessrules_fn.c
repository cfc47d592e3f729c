/* businessrules_fn.c - the map functions a Business Rules input may hold (<input
 * xsi:type="BusinessRuleFunction"> with a <FunctionStep> in the grammar of Map functions), run in C
 * with the semantics the map compiler gives them (runtime/mapcompile.c): property reads, string
 * functions, Date Format and Current Date; Scripting functions run in the script host
 * (runtime/scripthost.h) as the map's do (runtime/xslt_script.c). An input takes its wired profile
 * field's value, or its `default` when that is empty. Other function types are refused at deploy by
 * name (docs/decisions/020-business-rules.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "businessrules.h"
#include "component.h"
#include "datefmt.h"
#include "executor.h"
#include "miniatom/deploy.h"
#include "script_exec.h"
#include "scripthost.h"
#include "util.h"

typedef enum fn_kind {
    FN_DOCPROP = 0, /* DocumentPropertyGet */
    FN_DPP,         /* PropertyGet: a dynamic process property */
    FN_DEFINED,     /* DefinedProcessPropertyGet: a process property component's property */
    FN_UPPER,       /* String2Upper */
    FN_LOWER,       /* String2Lower */
    FN_WSTRIM,      /* WhitespaceTrim */
    FN_LTRIM,       /* LeftTrim: keep the rightmost N characters */
    FN_RTRIM,       /* RightTrim: keep the leftmost N characters */
    FN_CONCAT,      /* StringConcat */
    FN_DATEFORMAT,  /* DateFormat */
    FN_CURRENTDATE, /* CurrentDate */
    FN_SCRIPT       /* Scripting: a Groovy or JavaScript script in the script host */
} fn_kind;

static const struct {
    const char *type;
    fn_kind kind;
} fn_types[] = {
    {"DocumentPropertyGet", FN_DOCPROP},
    {"PropertyGet", FN_DPP},
    {"DefinedProcessPropertyGet", FN_DEFINED},
    {"String2Upper", FN_UPPER},
    {"String2Lower", FN_LOWER},
    {"WhitespaceTrim", FN_WSTRIM},
    {"LeftTrim", FN_LTRIM},
    {"RightTrim", FN_RTRIM},
    {"StringConcat", FN_CONCAT},
    {"DateFormat", FN_DATEFORMAT},
    {"CurrentDate", FN_CURRENTDATE},
    {"Scripting", FN_SCRIPT},
    /* the names Boomi's Platform API gives these functions (MapExtensionsFunction type) */
    {"TrimWhitespace", FN_WSTRIM},
    {"StringToUpper", FN_UPPER},
    {"StringToLower", FN_LOWER},
};

#define MAX_FN_INPUTS 64

typedef struct fn_input {
    char *key;             /* the <Input key> */
    char *name;            /* the <Input name> ("" when none) */
    char *def;             /* its default ("" when none) */
    ma_profile_path *path; /* the profile field wired into it, or NULL */
} fn_input;

struct ma_brfn {
    fn_kind kind;
    char *name;
    fn_input *in; /* in <Inputs> order */
    size_t nin;
    char **outputs; /* <Output key> values */
    size_t nout;
    char *prop, *prop_def;    /* DocumentPropertyGet: propertyId, defaultValue */
    char *comp_id, *comp_key; /* DefinedProcessPropertyGet */
    char *delim;              /* StringConcat */
    long fixed;               /* StringConcat fixedLength (0: none) */
    ma_profile_path **paths;  /* borrowed views of in[].path, for ma_brfn_path */
    size_t npaths;
    char *out_name; /* <Outputs><Output name> ("" when none) */
    /* Scripting: language, source, the script variable of each input and of the output */
    char *lang, *src;
    const char **vars; /* nin entries, borrowed from in[].name or script_names */
    const char *out_var;
    char **script_names; /* owned <Scripting><Input|Output name>s */
    size_t nscript_names;
    char *java, *jar; /* copies of the settings script_cfg points to */
    ma_script_cfg script_cfg;
};

void ma_brfn_free(ma_brfn *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->nin; i++) {
        free(f->in[i].key);
        free(f->in[i].name);
        free(f->in[i].def);
        ma_profile_path_free(f->in[i].path);
    }
    free(f->in);
    ma_strings_free(f->outputs, f->nout);
    free(f->name);
    free(f->prop);
    free(f->prop_def);
    free(f->comp_id);
    free(f->comp_key);
    free(f->delim);
    free(f->paths);
    free(f->out_name);
    free(f->lang);
    free(f->src);
    free(f->vars);
    ma_strings_free(f->script_names, f->nscript_names);
    free(f->java);
    free(f->jar);
    free(f);
}

int ma_brfn_has_output(const ma_brfn *f, const char *key)
{
    for (size_t i = 0; f && key && i < f->nout; i++)
        if (strcmp(f->outputs[i], key) == 0) return 1;
    return 0;
}

size_t ma_brfn_path_count(const ma_brfn *f) { return f ? f->npaths : 0; }
const ma_profile_path *ma_brfn_path(const ma_brfn *f, size_t i) { return f && i < f->npaths ? f->paths[i] : NULL; }

static int parse_long(const char *s, long *out)
{
    if (!s || !*s) return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end) return 0;
    *out = v;
    return 1;
}

/* Reads <Inputs>, <Outputs> and the <inputMapping>s of input into f. */
static int compile_ports(ma_shape *shape, const char *profile_id, const xmlNode *input, const xmlNode *step, ma_brfn *f,
                         ma_error *err)
{
    (void)shape;
    xmlNode *ins = ma_xml_child(step, "Inputs");
    for (xmlNode *i = ma_xml_child(ins, "Input"); i; i = ma_xml_next(i, "Input")) {
        if (f->nin >= MAX_FN_INPUTS)
            return ma_error_set(err, MA_ERR_LIMIT, "function '%s' has more than %d inputs", f->name, MAX_FN_INPUTS);
        if (!f->in && !(f->in = calloc(MAX_FN_INPUTS, sizeof *f->in)))
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        fn_input *fi = &f->in[f->nin++];
        fi->key = ma_xml_attr(i, "key");
        fi->def = ma_xml_attr(i, "default");
        fi->name = ma_xml_attr(i, "name");
        if (!fi->def) fi->def = ma_strdup("");
        if (!fi->name) fi->name = ma_strdup("");
        if (!fi->key)
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s' has an <Input> without a key", i->line,
                                f->name);
        if (!fi->def || !fi->name) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    xmlNode *outs = ma_xml_child(step, "Outputs");
    size_t nout = 0;
    for (xmlNode *o = ma_xml_child(outs, "Output"); o; o = ma_xml_next(o, "Output")) nout++;
    if (nout && !(f->outputs = calloc(nout, sizeof *f->outputs)))
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    for (xmlNode *o = ma_xml_child(outs, "Output"); o; o = ma_xml_next(o, "Output")) {
        char *k = ma_xml_attr(o, "key");
        if (!k)
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s' has an <Output> without a key", o->line,
                                f->name);
        if (!f->out_name && !(f->out_name = ma_xml_attr(o, "name"))) f->out_name = ma_strdup("");
        f->outputs[f->nout++] = k;
        if (!f->out_name) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    if (f->nout != 1)
        return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s' declares %zu outputs; it has one", step->line,
                            f->name, f->nout);
    for (xmlNode *m = ma_xml_child(input, "inputMapping"); m; m = ma_xml_next(m, "inputMapping")) {
        char *from = ma_xml_attr(m, "fromElementKey"), *to = ma_xml_attr(m, "toFunctionInputKey");
        char *tag = ma_xml_attr(m, "fromTaglist");
        int rc = 0;
        fn_input *fi = NULL;
        for (size_t k = 0; to && k < f->nin && !fi; k++)
            if (strcmp(f->in[k].key, to) == 0) fi = &f->in[k];
        if (!fi) {
            rc = ma_error_set(err, MA_ERR_CONFIG,
                              "line %d: an <inputMapping> of function '%s' goes to input %s, which "
                              "the function does not have",
                              m->line, f->name, to ? to : "(none)");
        } else if (from && *from && strcmp(from, "0") != 0) {
            if (tag && *tag && strcmp(tag, "0") != 0) {
                rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                                  "line %d: function '%s' reads element %s through tag list %s; instance "
                                  "identifiers (tag lists) are not supported",
                                  m->line, f->name, from, tag);
            } else if (fi->path) {
                rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: input %s of function '%s' is wired twice", m->line,
                                  fi->key, f->name);
            } else if (!(fi->path = ma_profile_path_compile(ma_shape_deploy(shape), profile_id, from, err))) {
                ma_error_prefix(err, "line %d: function '%s' input %s", m->line, f->name, fi->key);
                rc = -1;
            }
        }
        free(from);
        free(to);
        free(tag);
        if (rc < 0) return -1;
    }
    for (size_t k = 0; k < f->nin; k++)
        if (f->in[k].path) f->npaths++;
    if (f->npaths && !(f->paths = calloc(f->npaths, sizeof *f->paths)))
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    size_t j = 0;
    for (size_t k = 0; k < f->nin; k++)
        if (f->in[k].path) f->paths[j++] = f->in[k].path;
    return 0;
}

/* The script variable bound to port key (<Scripting><Input|Output index="key" name/>, el names
 * which), kept in f->script_names; NULL when the configuration names none. */
static const char *script_var(const xmlNode *sc, const char *el, const char *key, ma_brfn *f, ma_error *err)
{
    for (xmlNode *n = ma_xml_child(sc, el); n; n = ma_xml_next(n, el)) {
        if (!ma_xml_attr_is(n, "index", key)) continue;
        char *name = ma_xml_attr(n, "name");
        if (!name || !*name) {
            free(name);
            return NULL;
        }
        char **nv = realloc(f->script_names, (f->nscript_names + 1) * sizeof *nv);
        if (!nv) {
            free(name);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory"), NULL;
        }
        f->script_names = nv;
        f->script_names[f->nscript_names++] = name;
        return name;
    }
    return NULL;
}

/* Scripting: the language, the inline script, the variables by name, and whether this miniatom
 * can run scripts (the shape is not runnable, with ma_script_available's reason, when it cannot). */
static int compile_script(ma_shape *shape, const xmlNode *step, const xmlNode *cfg, ma_brfn *f, ma_error *err)
{
    xmlNode *sc = ma_xml_child(cfg, "Scripting");
    if (!sc)
        return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s' has no <Scripting> configuration", step->line,
                            f->name);
    f->lang = ma_xml_attr(sc, "language");
    if (f->lang && !*f->lang) {
        free(f->lang);
        f->lang = NULL;
    }
    if (!f->lang && !(f->lang = ma_strdup("groovy"))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (!ma_streq(f->lang, "groovy") && !ma_streq(f->lang, "groovy2") && !ma_streq(f->lang, "javascript"))
        return ma_error_set(err, MA_ERR_UNSUPPORTED,
                            "line %d: function '%s': scripts in '%s' are not supported (groovy, groovy2, javascript "
                            "are)",
                            step->line, f->name, f->lang);
    f->src = ma_xml_text(ma_xml_child(sc, "ScriptToExecute"));
    if (!f->src || !*f->src) {
        int comp = ma_xml_attr_is(sc, "useComponent", "true");
        return ma_error_set(err, MA_ERR_UNSUPPORTED, "line %d: function '%s': no inline <ScriptToExecute>%s",
                            step->line, f->name, comp ? " (Script components are not supported)" : "");
    }
    if (f->nin && !(f->vars = calloc(f->nin, sizeof *f->vars))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_error_clear(err);
    for (size_t k = 0; k < f->nin; k++) {
        const char *v = script_var(sc, "Input", f->in[k].key, f, err);
        if (!v && err->code == MA_ERR_NOMEM) return -1;
        f->vars[k] = v ? v : f->in[k].name;
        if (!*f->vars[k])
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s': input %s has no name", step->line, f->name,
                                f->in[k].key);
    }
    const char *ov = script_var(sc, "Output", f->outputs[0], f, err);
    if (!ov && err->code == MA_ERR_NOMEM) return -1;
    f->out_var = ov ? ov : f->out_name;
    if (!*f->out_var)
        return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s': output %s has no name", step->line, f->name,
                            f->outputs[0]);
    const ma_settings *set = ma_deploy_settings(ma_shape_deploy(shape));
    if (ma_config_read(ma_script_config_map, MA_SCRIPT_PREFIX, set, &f->script_cfg, err) < 0) return -1;
    f->java = ma_strdup(f->script_cfg.java ? f->script_cfg.java : "");
    f->jar = ma_strdup(f->script_cfg.jar ? f->script_cfg.jar : "");
    if (!f->java || !f->jar) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    f->script_cfg.java = f->java;
    f->script_cfg.jar = f->jar;
    char why[700];
    if (!ma_script_available(&f->script_cfg, why, sizeof why))
        return ma_error_set(err, MA_ERR_UNSUPPORTED, "line %d: function '%s': custom scripts (%s) cannot run: %s",
                            step->line, f->name, f->lang, why);
    return 0;
}

static int compile_config(ma_shape *shape, const xmlNode *step, ma_brfn *f, ma_error *err)
{
    xmlNode *cfg = ma_xml_child(step, "Configuration");
    switch (f->kind) {
    case FN_DOCPROP: {
        xmlNode *dp = ma_xml_child(cfg, "DocumentProperty");
        f->prop = ma_xml_attr(dp, "propertyId");
        f->prop_def = ma_xml_attr(dp, "defaultValue");
        if (!f->prop || !*f->prop)
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s' names no document property (propertyId)",
                                step->line, f->name);
        return 0;
    }
    case FN_DPP:
        if (f->nin < 1)
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s' has no Property Name input", step->line,
                                f->name);
        return 0;
    case FN_DEFINED: {
        xmlNode *d = ma_xml_child(cfg, "DefinedProcessProperty");
        f->comp_id = ma_xml_attr(d, "componentId");
        f->comp_key = ma_xml_attr(d, "propertyKey");
        char *cname = ma_xml_attr(d, "componentName");
        char *what = ma_asprintf("process property component '%s'", cname ? cname : "");
        free(cname);
        if (!what) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        ma_component *comp = ma_deploy_ref(ma_shape_deploy(shape), f->comp_id, "processproperty", what, err);
        free(what);
        if (!comp) {
            ma_error_prefix(err, "line %d: function '%s'", step->line, f->name);
            return -1;
        }
        int found = 0;
        for (xmlNode *p = ma_xml_child(comp->object, "definedProcessProperty"); p && !found;
             p = ma_xml_next(p, "definedProcessProperty"))
            found = ma_xml_attr_is(p, "key", f->comp_key ? f->comp_key : "");
        if (!found)
            return ma_error_set(err, MA_ERR_REF,
                                "line %d: function '%s': process property component '%s' (%s) has no "
                                "property with key %s",
                                step->line, f->name, comp->name, comp->id, f->comp_key ? f->comp_key : "(none)");
        return 0;
    }
    case FN_CONCAT: {
        xmlNode *c = ma_xml_child(cfg, "StringConcat");
        f->delim = ma_xml_attr(c, "delimiter");
        if (!f->delim) f->delim = ma_strdup("");
        char *fl = ma_xml_attr(c, "fixedLength");
        if (fl && *fl && !parse_long(fl, &f->fixed)) {
            free(fl);
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s': fixedLength is not a number", step->line,
                                f->name);
        }
        free(fl);
        return f->delim ? 0 : ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    case FN_LTRIM:
    case FN_RTRIM:
        if (f->nin < 2)
            return ma_error_set(err, MA_ERR_CONFIG,
                                "line %d: function '%s' needs the inputs Original String and Fix "
                                "to Length",
                                step->line, f->name);
        return 0;
    case FN_DATEFORMAT:
        if (f->nin < 3)
            return ma_error_set(err, MA_ERR_CONFIG,
                                "line %d: function '%s' needs the inputs Date String, Input Mask "
                                "and Output Mask",
                                step->line, f->name);
        for (size_t k = 1; k < 3; k++) { /* masks given as defaults are checked now */
            if (f->in[k].path || !*f->in[k].def) continue;
            ma_datefmt *df = ma_datefmt_compile(f->in[k].def, err);
            if (!df) {
                ma_error_prefix(err, "line %d: function '%s': mask '%s'", step->line, f->name, f->in[k].def);
                return -1;
            }
            ma_datefmt_free(df);
        }
        return 0;
    case FN_SCRIPT: return compile_script(shape, step, cfg, f, err);
    default:
        if (f->nin < 1 && f->kind != FN_CURRENTDATE)
            return ma_error_set(err, MA_ERR_CONFIG, "line %d: function '%s' has no input", step->line, f->name);
        return 0;
    }
}

ma_brfn *ma_brfn_compile(ma_shape *shape, const char *profile_id, const xmlNode *input, ma_error *err)
{
    xmlNode *step = ma_xml_child(input, "FunctionStep");
    if (!step) {
        ma_error_set(err, MA_ERR_CONFIG, "line %d: a function input has no <FunctionStep>", input->line);
        return NULL;
    }
    char *type = ma_xml_attr(step, "type"), *name = ma_xml_attr(step, "name");
    ma_brfn *f = calloc(1, sizeof *f);
    int found = 0, rc = 0;
    if (!f) {
        free(type);
        free(name);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    f->name = name ? name : ma_strdup(type ? type : "");
    for (size_t i = 0; type && i < sizeof fn_types / sizeof *fn_types && !found; i++)
        if (strcmp(type, fn_types[i].type) == 0) f->kind = fn_types[i].kind, found = 1;
    if (!found) {
        if (ma_streq(type, "userdefined")) {
            /* a user-defined function component: name it when it is missing, refuse it when present */
            char *id = ma_xml_attr(step, "id");
            ma_component *c = ma_deploy_ref(ma_shape_deploy(shape), id, NULL, "user-defined function component", err);
            if (c)
                ma_error_set(err, MA_ERR_UNSUPPORTED,
                             "user-defined function '%s' (%s) is not supported in business rules by this runtime",
                             c->name, c->id);
            free(id);
        } else {
            ma_error_set(err, MA_ERR_UNSUPPORTED,
                         "function type '%s' is not supported in business rules by this runtime (supported: "
                         "DocumentPropertyGet, PropertyGet, DefinedProcessPropertyGet, String2Upper, String2Lower, "
                         "WhitespaceTrim, LeftTrim, RightTrim, StringConcat, DateFormat, CurrentDate, Scripting)",
                         type ? type : "");
        }
        ma_error_prefix(err, "line %d: function '%s'", step->line, f->name ? f->name : "");
        rc = -1;
    }
    free(type);
    if (rc == 0 && !f->name) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (rc == 0) rc = compile_ports(shape, profile_id, input, step, f, err);
    if (rc == 0) rc = compile_config(shape, step, f, err);
    if (rc < 0) {
        ma_brfn_free(f);
        return NULL;
    }
    return f;
}

/* ---- evaluation ---- */

/* Value of input k: the wired field when it is not empty, else the default. */
static char *in_value(const ma_brfn *f, size_t k, const ma_profile_match *m)
{
    if (k >= f->nin) return ma_strdup("");
    if (f->in[k].path && m) {
        char *v = ma_profile_match_value(m, f->in[k].path);
        if (!v || *v) return v;
        free(v);
    }
    return ma_strdup(f->in[k].def);
}

/* Case mapping of ASCII and Latin-1 letters, as the map's ma:upper / ma:lower. */
static void map_case(char *s, int upper)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++) {
        if (*p < 0x80) {
            if (upper && *p >= 'a' && *p <= 'z') *p = (unsigned char)(*p - 32);
            else if (!upper && *p >= 'A' && *p <= 'Z') *p = (unsigned char)(*p + 32);
        } else if (*p == 0xC3 && p[1]) {
            unsigned cp = 0xC0u + (p[1] & 0x3Fu);
            if (upper && cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) p[1] = (unsigned char)(p[1] - 0x20);
            else if (!upper && cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) p[1] = (unsigned char)(p[1] + 0x20);
            p++;
        }
    }
}

/* Byte offset of character n of s (UTF-8; the end when s is shorter). */
static size_t char_offset(const char *s, size_t n)
{
    size_t i = 0;
    for (; s[i] && n; n--) {
        i++;
        while ((s[i] & 0xC0) == 0x80) i++;
    }
    return i;
}

static size_t char_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if ((*s & 0xC0) != 0x80) n++;
    return n;
}

static char *eval_date(const ma_brfn *f, const ma_profile_match *m, ma_error *err)
{
    char *v = in_value(f, 0, m), *im = in_value(f, 1, m), *om = in_value(f, 2, m);
    char *out = NULL;
    if (!v || !im || !om) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    } else if (!*v) {
        out = ma_strdup("");
    } else if (ma_datefmt_convert(v, im, om, &out, err) != 0) {
        ma_error_prefix(err, "function '%s'", f->name);
    }
    free(v);
    free(im);
    free(om);
    return out;
}

/* Runs a Scripting function once: the inputs as variables by name, its output variable read back
 * ("" when the script leaves it unset). A script that throws, or a host that fails, is a document
 * error naming the function (the caller adds the rule). */
static char *eval_script(ma_exec *ex, const ma_brfn *f, const ma_profile_match *m, ma_error *err)
{
    char **vals = f->nin ? calloc(f->nin, sizeof *vals) : NULL;
    if (f->nin && !vals) return ma_error_set(err, MA_ERR_NOMEM, "out of memory"), NULL;
    char *out = NULL;
    int nomem = 0;
    for (size_t k = 0; k < f->nin && !nomem; k++) nomem = !(vals[k] = in_value(f, k, m));
    ma_script_run_ctx rctx;
    ma_error terr;
    ma_error_clear(&terr);
    if (!nomem && ma_script_exec_ctx(ex, &rctx, &terr) < 0) {
        for (size_t k = 0; k < f->nin; k++) free(vals[k]);
        free(vals);
        if (terr.code == MA_ERR_NOMEM) return ma_error_set(err, MA_ERR_NOMEM, "out of memory"), NULL;
        return ma_error_set(err, MA_ERR_RUNTIME, "function '%s': the script cannot run: %s", f->name, terr.msg), NULL;
    }
    ma_script_result res;
    ma_error herr;
    ma_error_clear(&herr);
    if (nomem) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    } else if (ma_script_call(&f->script_cfg, f->lang, f->src, &rctx, f->vars, (const char *const *)vals, f->nin,
                              &f->out_var, 1, &res, &herr) < 0) {
        if (herr.code == MA_ERR_NOMEM) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        else ma_error_set(err, MA_ERR_RUNTIME, "function '%s': the script host failed: %s", f->name, herr.msg);
    } else {
        if (ma_script_exec_apply(ex, NULL, &res, err) < 0) {
            ma_error_prefix(err, "function '%s'", f->name);
        } else if (res.failed) {
            char at[32] = "";
            if (res.line > 0) snprintf(at, sizeof at, " at line %d", res.line);
            ma_error_set(err, MA_ERR_RUNTIME, "function '%s': the script failed%s: %s", f->name, at,
                         res.message ? res.message : "?");
        } else {
            out = ma_strdup(res.n_values && res.values[0] ? res.values[0] : "");
            if (!out) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        ma_script_result_free(&res);
    }
    for (size_t k = 0; k < f->nin; k++) free(vals[k]);
    free(vals);
    return out;
}

char *ma_brfn_eval(ma_exec *ex, const ma_brfn *f, const ma_doc *doc, const ma_profile_match *m, ma_error *err)
{
    char *out = NULL;
    switch (f->kind) {
    case FN_DOCPROP: {
        const char *v = doc ? ma_doc_prop(doc, f->prop) : NULL;
        out = ma_strdup(v ? v : (f->prop_def ? f->prop_def : ""));
        break;
    }
    case FN_DPP: {
        char *name = in_value(f, 0, m);
        out = name && *name ? ma_exec_get_process_prop(ex, name) : NULL;
        if (!out && name) out = in_value(f, 1, m);
        free(name);
        break;
    }
    case FN_DEFINED:
        out = ma_exec_get_defined_prop(ex, f->comp_id, f->comp_key);
        if (!out) out = ma_strdup("");
        break;
    case FN_UPPER:
    case FN_LOWER:
        out = in_value(f, 0, m);
        if (out) map_case(out, f->kind == FN_UPPER);
        break;
    case FN_WSTRIM: {
        char *v = in_value(f, 0, m);
        if (!v) break;
        const char *b = v, *e = v + strlen(v);
        while (b < e && (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')) b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) e--;
        out = ma_strndup(b, (size_t)(e - b));
        free(v);
        break;
    }
    case FN_LTRIM:
    case FN_RTRIM: {
        char *v = in_value(f, 0, m), *len = in_value(f, 1, m);
        long n = 0;
        int bad = v && len && !parse_long(len, &n);
        if (bad) {
            ma_error_set(err, MA_ERR_RUNTIME, "function '%s': Fix to Length '%s' is not a number", f->name, len);
        } else if (v && len) {
            size_t total = char_count(v), keep = n < 0 ? 0 : (size_t)n;
            if (keep > total) keep = total;
            if (f->kind == FN_LTRIM) out = ma_strdup(v + char_offset(v, total - keep));
            else out = ma_strndup(v, char_offset(v, keep));
        }
        free(v);
        free(len);
        if (bad) return NULL;
        break;
    }
    case FN_CONCAT: {
        ma_sb b;
        ma_sb_init(&b);
        for (size_t k = 0; k < f->nin; k++) {
            char *v = in_value(f, k, m);
            if (!v) {
                ma_sb_free(&b);
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory"), NULL;
            }
            if (k) ma_sb_puts(&b, f->delim);
            ma_sb_puts(&b, v);
            free(v);
        }
        out = ma_sb_take(&b, NULL);
        if (out && f->fixed > 0) out[char_offset(out, (size_t)f->fixed)] = '\0';
        break;
    }
    case FN_DATEFORMAT: return eval_date(f, m, err);
    case FN_SCRIPT: return eval_script(ex, f, m, err);
    case FN_CURRENTDATE: {
        ma_error e;
        ma_datefmt *df = ma_datefmt_compile("yyyyMMdd HHmmss.SSS", &e);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct tm lt;
        localtime_r(&now.tv_sec, &lt);
        ma_sb b;
        ma_sb_init(&b);
        if (df) ma_datefmt_format(df, now.tv_sec, (int)(now.tv_nsec / 1000000), (int)(lt.tm_gmtoff / 60), &b);
        ma_datefmt_free(df);
        out = ma_sb_take(&b, NULL);
        break;
    }
    }
    if (!out) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return out;
}
