/* params.c - <parametervalue> and its relatives (decisionvalue, routeproperty ...) compiled once at
 * deploy and evaluated per document (boomi-process-xml.md 2 "parametervalue"). Kinds: static,
 * process (dynamic process property), track (document property, meta.base.* included), current
 * (the document's data), execution (Process Name, Execution Id ...), date (current, relative,
 * lastsuccessful; Java SimpleDateFormat masks), definedparameter (processproperty components) and
 * profile (an element of the current XML or JSON document), connector (a connector call lookup,
 * shapes/connectorparam.c), crossref (a cross reference table lookup, crossref.h: its inputs are
 * parameter values themselves), unique (a new number per evaluation), keygen (Boomi's Sequential
 * Value: a named counter kept across executions, store.h) and documentcache (a document cache
 * lookup, shapes/doccache.h). The kinds this runtime cannot run are refused with the reason
 * (docs/decisions/026-set-properties-and-parameter-values.md). */
#include "params.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crossref.h"
#include "doccache.h"
#include "executor.h"
#include "process.h"
#include "store.h"
#include "util.h"

static const char *const exec_props[] = {
    [MA_EP_PROCESS_NAME] = "Process Name", [MA_EP_PROCESS_ID] = "Process Id", [MA_EP_EXECUTION_ID] = "Execution Id",
    [MA_EP_ATOM_NAME] = "Atom Name",       [MA_EP_ACCOUNT_ID] = "Account Id", [MA_EP_DOCUMENT_COUNT] = "Document Count",
    [MA_EP_ATOM_ID] = "Atom Id",           [MA_EP_NODE_ID] = "Node Id",
};
/* the scripting names (HB:ExecProps) are accepted too */
static const char *const exec_props_script[] = {
    [MA_EP_PROCESS_NAME] = "PROCESS_NAME", [MA_EP_PROCESS_ID] = "PROCESS_ID", [MA_EP_EXECUTION_ID] = "EXECUTION_ID",
    [MA_EP_ATOM_NAME] = "ATOM_NAME",       [MA_EP_ACCOUNT_ID] = "ACCOUNT_ID", [MA_EP_DOCUMENT_COUNT] = "DOCUMENT_COUNT",
    [MA_EP_ATOM_ID] = "ATOM_ID",           [MA_EP_NODE_ID] = "NODE_ID",
};

int ma_exec_prop_parse(const char *name)
{
    for (size_t i = 0; i < sizeof exec_props / sizeof *exec_props; i++)
        if (strcasecmp(name, exec_props[i]) == 0 || strcmp(name, exec_props_script[i]) == 0) return (int)i;
    return -1;
}

void ma_param_free(ma_param *p)
{
    if (!p) return;
    free(p->value);
    free(p->key);
    free(p->def);
    ma_datefmt_free(p->fmt);
    ma_profile_path_free(p->path);
    ma_connparam_free(p->conn);
    ma_dcparam_free(p->dc);
    for (size_t i = 0; i < p->n_inputs; i++) ma_param_free(p->inputs[i]);
    free(p->inputs);
    free(p->xref_cols);
    free(p);
}

/* "end_date (CompoundEmployee/person/end_date)" -> "CompoundEmployee/person/end_date" */
static char *names_in_parens(const char *element_name)
{
    if (!element_name) return NULL;
    const char *o = strrchr(element_name, '(');
    const char *c = o ? strchr(o, ')') : NULL;
    if (!o || !c || c == o + 1) return NULL;
    return ma_strndup(o + 1, (size_t)(c - o - 1));
}

ma_profile_path *ma_param_profile_path(ma_shape *shape, const char *profile_id, const char *profile_type,
                                       const char *element_id, const char *element_name, ma_error *err)
{
    ma_deploy *dep = ma_shape_deploy(shape);
    if (profile_id && ma_deploy_find(dep, profile_id)) return ma_profile_path_compile(dep, profile_id, element_id, err);
    /* the profile is not deployed: the export names the element's path, use it */
    char *names = names_in_parens(element_name);
    if (!names) {
        ma_error_set(err, MA_ERR_REF, "profile %s is not in the deployment and element '%s' does not name its path",
                     profile_id ? profile_id : "(none)", element_name ? element_name : "");
        return NULL;
    }
    if (profile_type && strstr(profile_type, "flatfile")) {
        ma_error_set(err, MA_ERR_REF,
                     "flat file profile %s is not in the deployment (element '%s' cannot be read without it)",
                     profile_id ? profile_id : "(none)", element_name ? element_name : "");
        free(names);
        return NULL;
    }
    int json = profile_type && strstr(profile_type, "json") != NULL;
    if (profile_type && !json && !strstr(profile_type, "xml")) {
        ma_error_set(err, MA_ERR_UNSUPPORTED, "profile element '%s': %s profiles are not supported (XML and JSON are)",
                     element_name, profile_type);
        free(names);
        return NULL;
    }
    ma_profile_path *p = ma_profile_path_from_names(names, json, err);
    free(names);
    return p;
}

/* <crossrefparameter crossRefTableId outputParamId outputParamName><inputs><parametervalue
 * elementToSetId elementToSetName .../>...: the table resolved, the columns checked (1-based ids),
 * each input compiled as a parameter value. */
static int compile_crossref(ma_shape *shape, xmlNode *node, xmlNode *c, ma_param *p, ma_error *err)
{
    if (!c || !ma_xml_is(c, "crossrefparameter"))
        return ma_error_set(err, MA_ERR_CONFIG, "line %d: a crossref value has no <crossrefparameter>", node->line);
    char *id = ma_xml_attr(c, "crossRefTableId"), *oid = ma_xml_attr(c, "outputParamId");
    char *oname = ma_xml_attr(c, "outputParamName");
    int rc = 0;
    p->value = ma_strdup(id ? id : "");
    p->xref = ma_xref_for(ma_shape_deploy(shape), id, err);
    if (!p->xref || ma_xref_column(p->xref, oid, oname, &p->xref_out, err) < 0) {
        ma_error_prefix(err, "line %d: cross reference lookup of '%s'", c->line, oname ? oname : "");
        rc = -1;
        goto out;
    }
    xmlNode *ins = ma_xml_child(c, "inputs");
    for (xmlNode *in = ma_xml_child(ins, "parametervalue"); in; in = ma_xml_next(in, "parametervalue")) p->n_inputs++;
    if (!p->n_inputs) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: the cross reference lookup of '%s' has no inputs", c->line,
                          oname ? oname : "");
        goto out;
    }
    p->inputs = calloc(p->n_inputs, sizeof *p->inputs);
    p->xref_cols = calloc(p->n_inputs, sizeof *p->xref_cols);
    if (!p->inputs || !p->xref_cols) {
        p->n_inputs = 0;
        rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t i = 0;
    for (xmlNode *in = ma_xml_child(ins, "parametervalue"); in; in = ma_xml_next(in, "parametervalue"), i++) {
        char *eid = ma_xml_attr(in, "elementToSetId"), *ename = ma_xml_attr(in, "elementToSetName");
        rc = ma_xref_column(p->xref, eid, ename, &p->xref_cols[i], err);
        if (rc < 0) ma_error_prefix(err, "line %d: cross reference lookup input", in->line);
        free(eid);
        free(ename);
        if (rc < 0 || !(p->inputs[i] = ma_param_compile(shape, in, err))) {
            if (rc == 0) ma_error_prefix(err, "cross reference lookup input");
            rc = -1;
            goto out;
        }
    }
    if (ma_xref_check_inputs(p->xref, p->xref_cols, p->n_inputs, err) < 0) {
        ma_error_prefix(err, "line %d", c->line);
        rc = -1;
    }
out:
    free(id);
    free(oid);
    free(oname);
    return rc;
}

/* The output column of the first row the inputs match; "" when none does. NULL with err. */
static char *eval_crossref(ma_exec *ex, const ma_param *p, const ma_doc *doc, ma_error *err)
{
    char *stack[8] = {0}, **vals = p->n_inputs <= 8 ? stack : calloc(p->n_inputs, sizeof *vals);
    if (!vals) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char *v = NULL;
    size_t n = 0;
    for (; n < p->n_inputs; n++)
        if (!(vals[n] = ma_param_eval(ex, p->inputs[n], doc, err))) goto out;
    const char *hit;
    int rc = ma_xref_lookup(p->xref, p->xref_cols, (const char *const *)vals, n, p->xref_out, &hit, err);
    if (rc >= 0 && !(v = ma_strdup(rc ? hit : ""))) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
out:
    for (size_t i = 0; i < n; i++) free(vals[i]);
    if (vals != stack) free(vals);
    return v;
}

ma_param *ma_param_compile(ma_shape *shape, const ma_xml_node *cnode, ma_error *err)
{
    xmlNode *node = (xmlNode *)cnode;
    ma_param *p = calloc(1, sizeof *p);
    if (!p) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char *vt = ma_xml_attr(node, "valueType");
    xmlNode *c = ma_xml_child(node, NULL);
    int rc = 0;
    if (!vt) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: <%s> has no valueType", node->line, (const char *)node->name);
    } else if (strcmp(vt, "static") == 0) {
        p->kind = MA_PV_STATIC;
        p->value = ma_xml_attr(c, "staticproperty");
        if (!p->value) p->value = ma_strdup("");
    } else if (strcmp(vt, "process") == 0) {
        p->kind = MA_PV_PROCESS;
        p->value = ma_xml_attr(c, "processproperty");
        p->def = ma_xml_attr(c, "processpropertydefaultvalue");
        if (!p->value || !*p->value)
            rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: a process property value names no property", node->line);
    } else if (strcmp(vt, "track") == 0) {
        p->kind = MA_PV_TRACK;
        p->value = ma_xml_attr(c, "propertyId");
        p->def = ma_xml_attr(c, "defaultValue");
        if (!p->value || !*p->value)
            rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: a document property value names no propertyId", node->line);
    } else if (strcmp(vt, "current") == 0) {
        p->kind = MA_PV_CURRENT;
    } else if (strcmp(vt, "execution") == 0) {
        p->kind = MA_PV_EXECUTION;
        char *name = ma_xml_attr(c, "executionproperty");
        int ep = name ? ma_exec_prop_parse(name) : -1;
        if (ep < 0) {
            char known[256] = "";
            for (size_t i = 0; i < sizeof exec_props / sizeof *exec_props; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", exec_props[i]);
            rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                              "line %d: execution property '%s' is not one of: %s (or their scripting names, e.g. "
                              "PROCESS_NAME)",
                              node->line, name ? name : "", known);
        } else p->exec_prop = (ma_exec_prop)ep;
        free(name);
    } else if (strcmp(vt, "date") == 0) {
        p->kind = MA_PV_DATE;
        char *mask = ma_xml_attr(c, "datetimemask");
        char *type = ma_xml_attr(c, "dateparametertype");
        p->fmt = ma_datefmt_compile(mask ? mask : "yyyy-MM-dd'T'HH:mm:ss.SSSZ", err);
        if (!p->fmt) {
            ma_error_prefix(err, "line %d: date mask '%s'", node->line, mask ? mask : "");
            rc = -1;
        }
        /* value = date type; key = signed delta in seconds or months ("m" suffix) */
        p->value = ma_strdup(type ? type : "current");
        if (rc == 0 && type && strcmp(type, "relative") == 0) {
            xmlNode *d = ma_xml_child(c, "datedelta");
            char *sign = ma_xml_attr(d, "sign"), *unit = ma_xml_attr(d, "unit"), *val = ma_xml_attr(d, "value");
            long v = val ? strtol(val, NULL, 10) : 0;
            if (sign && strcmp(sign, "minus") == 0) v = -v;
            long mult = 0;
            int months = 0;
            if (!unit) mult = 86400;
            else if (!strcmp(unit, "seconds")) mult = 1;
            else if (!strcmp(unit, "minutes")) mult = 60;
            else if (!strcmp(unit, "hours")) mult = 3600;
            else if (!strcmp(unit, "days")) mult = 86400;
            else if (!strcmp(unit, "weeks")) mult = 7 * 86400;
            else if (!strcmp(unit, "months")) months = 1, mult = 1;
            else if (!strcmp(unit, "years")) months = 12, mult = 1;
            if (!mult)
                rc = ma_error_set(err, MA_ERR_UNSUPPORTED, "line %d: date delta unit '%s' is not supported", node->line,
                                  unit);
            p->key = ma_asprintf("%ld%s", v * mult * (months ? months : 1), months ? "m" : "");
            free(sign);
            free(unit);
            free(val);
        } else if (rc == 0 && type && strcmp(type, "current") != 0 && strcmp(type, "lastsuccessful") != 0 &&
                   strcmp(type, "lastrun") != 0 && strcmp(type, "last") != 0) {
            rc = ma_error_set(err, MA_ERR_UNSUPPORTED, "line %d: date type '%s' is not supported", node->line, type);
        }
        free(mask);
        free(type);
    } else if (strcmp(vt, "definedparameter") == 0) {
        p->kind = MA_PV_DEFINED;
        p->value = ma_xml_attr(c, "componentId");
        p->key = ma_xml_attr(c, "propertyKey");
        ma_component *comp =
            ma_deploy_ref(ma_shape_deploy(shape), p->value, "processproperty", "process property component", err);
        if (!comp) {
            char *cname = ma_xml_attr(c, "componentName");
            ma_error_prefix(err, "line %d: defined process property '%s'", node->line, cname ? cname : "");
            free(cname);
            rc = -1;
        } else {
            int found = 0;
            for (xmlNode *d = ma_xml_child(comp->object, "definedProcessProperty"); d && !found;
                 d = ma_xml_next(d, "definedProcessProperty"))
                found = ma_xml_attr_is(d, "key", p->key ? p->key : "");
            if (!found)
                rc = ma_error_set(err, MA_ERR_REF,
                                  "line %d: process property component '%s' (%s) has no property with key %s",
                                  node->line, comp->name, comp->id, p->key ? p->key : "(none)");
        }
    } else if (strcmp(vt, "profile") == 0) {
        p->kind = MA_PV_PROFILE;
        char *pid = ma_xml_attr(c, "profileId"), *ptype = ma_xml_attr(c, "profileType");
        char *eid = ma_xml_attr(c, "elementId"), *ename = ma_xml_attr(c, "elementName");
        p->path = ma_param_profile_path(shape, pid, ptype, eid, ename, err);
        if (!p->path) {
            ma_error_prefix(err, "line %d: profile element", node->line);
            rc = -1;
        }
        free(pid);
        free(ptype);
        free(eid);
        free(ename);
    } else if (strcmp(vt, "connector") == 0) {
        p->kind = MA_PV_CONNECTOR;
        if (!(p->conn = ma_connparam_compile(shape, c, err))) {
            ma_error_prefix(err, "line %d", node->line);
            rc = -1;
        } else {
            shape->calls_out = 1;
        }
    } else if (strcmp(vt, "crossref") == 0) {
        p->kind = MA_PV_CROSSREF;
        rc = compile_crossref(shape, node, c, p, err);
    } else if (strcmp(vt, "unique") == 0) {
        p->kind = MA_PV_UNIQUE;
    } else if (strcmp(vt, "keygen") == 0) {
        /* <keygenparameter keyname keyfixtolength [batchSize]/> */
        p->kind = MA_PV_KEYGEN;
        p->key = ma_xml_attr(c, "keyname");
        char *len = ma_xml_attr(c, "keyfixtolength");
        char *end = NULL;
        long n = len && *len ? strtol(len, &end, 10) : 0;
        if (!p->key || !*p->key)
            rc = ma_error_set(err, MA_ERR_CONFIG, "line %d: a sequential value (keygen) has no keyname", node->line);
        else if ((len && *len && *end) || n < 0 || n > 20)
            rc = ma_error_set(err, MA_ERR_CONFIG,
                              "line %d: sequential value '%s': keyfixtolength '%s' is not a length from 0 to 20",
                              node->line, p->key, len);
        p->fix_len = (int)n;
        free(len);
    } else if (strcmp(vt, "documentcache") == 0) {
        p->kind = MA_PV_DOCCACHE;
        if (!(p->dc = ma_dcparam_compile(shape, c, err))) {
            ma_error_prefix(err, "line %d: document cache lookup", node->line);
            rc = -1;
        }
    } else if (strcmp(vt, "sql") == 0 || strcmp(vt, "sp") == 0) {
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                          "line %d: parameter value type '%s' (%s) runs on a legacy Database connection: this "
                          "runtime has no database connector",
                          node->line, vt, vt[1] == 'q' ? "SQL Statement" : "Stored Procedure");
    } else if (strcmp(vt, "tradingpartnerref") == 0) {
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                          "line %d: parameter value type 'tradingpartnerref' reads a trading partner: trading "
                          "partners (B2B/EDI) are not supported by this runtime",
                          node->line);
    } else if (strcmp(vt, "errormessage") == 0 || strcmp(vt, "command") == 0) {
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                          "line %d: parameter value type '%s' is not one Boomi's parameter value dialog offers and "
                          "has no documented value",
                          node->line, vt);
    } else {
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED, "line %d: parameter value type '%s' is not supported", node->line,
                          vt);
    }
    free(vt);
    if (rc < 0) {
        ma_param_free(p);
        return NULL;
    }
    return p;
}

/* A positive number of 19 digits, greater than every one given before by this program: the
 * time in milliseconds times a million plus a thousand times the process id's last three digits
 * (so that two programs started together differ), or one more than the last when that is not
 * greater. */
static char *unique_value(void)
{
    static _Atomic uint64_t last;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t want = ((uint64_t)now.tv_sec * 1000u + (uint64_t)(now.tv_nsec / 1000000)) * 1000000u +
                    (uint64_t)getpid() % 1000u * 1000u;
    uint64_t prev = atomic_load(&last), v;
    do v = want > prev ? want : prev + 1;
    while (!atomic_compare_exchange_weak(&last, &prev, v));
    return ma_asprintf("%llu", (unsigned long long)v);
}

/* The counter's next value, zero-padded to (and cut to the low-order digits of) fix_len as the
 * map function does. NULL with err. */
static char *keygen_value(ma_exec *ex, const ma_param *p, ma_error *err)
{
    unsigned long long n;
    if (ma_store_counter_next(ma_exec_data_dir(ex), p->key, &n, err) < 0) {
        ma_error_prefix(err, "sequential value '%s'", p->key);
        return NULL;
    }
    char num[32];
    int len = snprintf(num, sizeof num, "%llu", n);
    char *v = NULL;
    if (!p->fix_len || len == p->fix_len) v = ma_strdup(num);
    else if (len > p->fix_len) v = ma_strdup(num + (len - p->fix_len));
    else v = ma_asprintf("%0*llu", p->fix_len, n);
    if (!v) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return v;
}

static char *format_time(const ma_datefmt *fmt, time_t secs, int millis)
{
    struct tm lt;
    localtime_r(&secs, &lt);
    ma_sb b;
    ma_sb_init(&b);
    ma_datefmt_format(fmt, secs, millis, (int)(lt.tm_gmtoff / 60), &b);
    return ma_sb_take(&b, NULL);
}

static char *eval_date(ma_exec *ex, const ma_param *p)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    time_t secs = now.tv_sec;
    int millis = (int)(now.tv_nsec / 1000000);
    if (strcmp(p->value, "lastsuccessful") == 0 || strcmp(p->value, "lastrun") == 0 || strcmp(p->value, "last") == 0) {
        /* run dates are not captured yet: the start of this execution stands in */
        ma_exec_start_time(ex, &secs, &millis);
    } else if (p->key) {
        long delta = strtol(p->key, NULL, 10);
        if (strchr(p->key, 'm')) {
            struct tm tm;
            localtime_r(&secs, &tm);
            tm.tm_mon += (int)delta;
            tm.tm_isdst = -1;
            secs = mktime(&tm);
        } else {
            secs += delta;
        }
    }
    return format_time(p->fmt, secs, millis);
}

char *ma_param_eval(ma_exec *ex, const ma_param *p, const ma_doc *doc, ma_error *err)
{
    char *v = NULL;
    switch (p->kind) {
    case MA_PV_STATIC: v = ma_strdup(p->value); break;
    case MA_PV_PROCESS:
        v = ma_exec_get_process_prop(ex, p->value);
        if (!v) v = ma_strdup(p->def ? p->def : "");
        break;
    case MA_PV_TRACK: {
        const char *pv = doc ? ma_doc_prop(doc, p->value) : NULL;
        v = ma_strdup(pv ? pv : (p->def ? p->def : ""));
        break;
    }
    case MA_PV_CURRENT: v = doc ? ma_strndup(ma_doc_data(doc, NULL), ma_doc_size(doc)) : ma_strdup(""); break;
    case MA_PV_EXECUTION:
        switch (p->exec_prop) {
        case MA_EP_PROCESS_NAME: v = ma_strdup(ma_exec_process_name(ex)); break;
        case MA_EP_PROCESS_ID: v = ma_strdup(ma_exec_process_id(ex)); break;
        case MA_EP_EXECUTION_ID: v = ma_strdup(ma_exec_id(ex)); break;
        case MA_EP_ATOM_NAME:
        case MA_EP_ATOM_ID:
        case MA_EP_NODE_ID: v = ma_strdup(ma_exec_atom_name(ex)); break;
        case MA_EP_ACCOUNT_ID: {
            const char *a = ma_exec_opts(ex)->account_id;
            v = ma_strdup(a ? a : "miniatom");
            break;
        }
        case MA_EP_DOCUMENT_COUNT: v = ma_asprintf("%zu", ma_exec_document_count(ex)); break;
        }
        break;
    case MA_PV_DATE: v = eval_date(ex, p); break;
    case MA_PV_DEFINED:
        v = ma_exec_get_defined_prop(ex, p->value, p->key);
        if (!v) v = ma_strdup("");
        break;
    case MA_PV_PROFILE: v = doc ? ma_profile_path_eval(p->path, doc) : ma_strdup(""); break;
    case MA_PV_CONNECTOR: return ma_connparam_eval(ex, p->conn, doc, err); /* err says why when NULL */
    case MA_PV_CROSSREF: return eval_crossref(ex, p, doc, err);
    case MA_PV_UNIQUE: v = unique_value(); break;
    case MA_PV_KEYGEN: return keygen_value(ex, p, err);
    case MA_PV_DOCCACHE: return ma_dcparam_eval(ex, p->dc, doc, err);
    }
    if (!v) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return v;
}
