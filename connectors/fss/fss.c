/* fss.c - the Flow Services Server listener (issue 4; reference/flow-services-protocol.md,
 * listener-components.md 1 and 3): serves every Flow Service component (type="flowservice") at
 * /fs/<basePath>: the describe (v1 and v2), message actions, data actions and file resources, each run
 * by an FSS listener process; a message action past its sync timeout answers WAIT and later POSTs the
 * final ServiceResponse to the callbackUri. The component format, URLs and properties: docs/flow.md. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "fss_decode.h"
#include "httpc.h"
#include "miniatom/miniatom.h"

/* ---- the component format (docs/flow.md 2): every XML name in one place ----------------------------
 * Confirmed (listener-components.md 1, 3): FlowService@basePath/@name, flowActions@name/@path/@processId
 * with <description>, FSSListenAction@operationType/@requestProfile/@responseProfile/@syncTimeout.
 * Ours (no real export is known): configurationValues, dataActions, fileResources and the
 * operationType values other than "action". */
#define X_SERVICE "FlowService"
#define X_ACTION "flowActions"         /* name, path, processId; <description> */
#define X_CONFIG "configurationValues" /* name, type, required; <description> */
#define X_DATA "dataActions"   /* name, profileId, getProcessId, queryProcessId, saveProcessId, deleteProcessId */
#define X_FILE "fileResources" /* path, listProcessId, uploadProcessId, deleteProcessId */
#define X_OPERATION "FSSListenAction"

#define MAX_PATH_SEGS 32
#define MAX_BUSY_WAIT_MS 10000

/* ---- deployment state ----------------------------------------------------------------------------- */

typedef enum role { R_ACTION = 0, R_LOAD, R_SAVE, R_DELETE, R_LIST_FILES, R_UPLOAD_FILE, R_DELETE_FILE } role;
static const char *const role_names[] = {"action", "load", "save", "delete", "listFiles", "uploadFile", "deleteFile"};
/* <FSSListenAction operationType>: "action" is the value real exports show (listener-components.md
 * 3); the others name the remaining service types the same way (docs/decisions/027-option-values.md) */
static const ma_enum role_types[] = {
    {"action", R_ACTION, 0},
    {"load", R_LOAD, 0},
    {"save", R_SAVE, 0},
    {"delete", R_DELETE, 0},
    {"listFiles", R_LIST_FILES, 0},
    {"uploadFile", R_UPLOAD_FILE, 0},
    {"deleteFile", R_DELETE_FILE, 0},
    {NULL, 0, 0},
};

typedef struct fss_proc {
    ma_component *comp; /* NULL when not configured */
    ma_process *proc;   /* its compiled process (borrowed from the deployment) */
    ma_mode mode;
    uint64_t timeout_ms;              /* syncTimeout; 0: the server's */
    char *req_profile, *resp_profile; /* owned ids, NULL when none */
} fss_proc;

typedef struct fss_action {
    char *name, *path, *summary, *uri_part; /* owned */
    fss_proc p;
    fss_type *req, *resp; /* roots (borrowed from the service's types), NULL without a profile */
    char *resp_prefix;    /* "<name> RESPONSE" */
    int may_wait;         /* its process may wait on the outside world (ma_process_may_wait) */
} fss_action;

typedef struct fss_data {
    char *name; /* the object type name = the Flow type */
    fss_type *type;
    fss_proc get, query, save, del;
} fss_data;

typedef struct fss_file {
    char *path; /* without a leading '/' */
    fss_proc list, upload, del;
    fss_type *list_t, *upload_t;   /* roots of the response profiles, or NULL */
    char *list_name, *upload_name; /* "$File RESPONSE - <Object>" or "$File" */
} fss_file;

typedef struct fss_cfgval {
    char *name;
    fss_kind kind;
    int required;
} fss_cfgval;

typedef struct fss_service {
    ma_component *comp;
    char *base, *name;
    fss_action *actions;
    size_t n_actions;
    fss_data *data;
    size_t n_data;
    fss_file *files;
    size_t n_files;
    fss_cfgval *cfg;
    size_t n_cfg;
    fss_types types;          /* described: message-action and data-action types */
    fss_types file_types;     /* the $File RESPONSE types, never described (Flow users create them) */
    char *describe, *install; /* cached response bodies */
    size_t describe_len, install_len;
} fss_service;

/* The settings of the FSS listener (docs/flow.md "Callbacks"), under "fss.". */
typedef struct fss_cfg {
    uint64_t cb_timeout_ms, cb_backoff_ms, cb_retries, cb_busy_retries;
    uint64_t max_docs;
    const char *cb_ca_file; /* borrowed from the deployment's settings */
} fss_cfg;

#define AT(m) MA_CONFIG_AT(fss_cfg, m)
static const ma_config_entry fss_config_map[] = {
    {.key = "callback.timeout",
     .kind = MA_CONFIG_DURATION,
     .def = "30s",
     .min = 1,
     .max = 86400000,
     .at = AT(cb_timeout_ms),
     .description = "how long one callback POST to Flow may take"},
    {.key = "callback.backoff",
     .kind = MA_CONFIG_DURATION,
     .def = "500ms",
     .min = 0,
     .max = 86400000,
     .at = AT(cb_backoff_ms),
     .description = "the wait before the first retry of a callback, doubled each time (0: none)"},
    {.key = "callback.retries",
     .kind = MA_CONFIG_UINT,
     .def = "5",
     .min = 0,
     .max = 1000,
     .at = AT(cb_retries),
     .description = "retries of a callback that got no answer or a 5xx/429"},
    {.key = "callback.busy_retries",
     .kind = MA_CONFIG_UINT,
     .def = "10",
     .min = 0,
     .max = 1000,
     .at = AT(cb_busy_retries),
     .description = "retries while Flow answers BUSY"},
    {.key = "documents",
     .kind = MA_CONFIG_UINT,
     .def = "2000",
     .min = 1,
     .max = 100000000,
     .at = AT(max_docs),
     .description = "most objects one data save or delete request becomes as documents; more: 413"},
    {.key = "callback.ca_file",
     .kind = MA_CONFIG_FILE,
     .at = AT(cb_ca_file),
     .description = "PEM CA certificates to verify Flow's callback endpoint with"},
    MA_CONFIG_END,
};
#undef AT

typedef struct fss_state {
    ma_server *srv; /* NULL when deployed by `miniatom check` */
    fss_cfg cfg;
    fss_service *svcs;
    size_t n;
} fss_state;

static void proc_free(fss_proc *p)
{
    free(p->req_profile);
    free(p->resp_profile);
}

static void fss_undeploy(void *state)
{
    fss_state *st = state;
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) {
        fss_service *s = &st->svcs[i];
        for (size_t k = 0; k < s->n_actions; k++) {
            fss_action *a = &s->actions[k];
            free(a->name), free(a->path), free(a->summary), free(a->uri_part), free(a->resp_prefix);
            proc_free(&a->p);
        }
        free(s->actions);
        for (size_t k = 0; k < s->n_data; k++) {
            fss_data *d = &s->data[k];
            free(d->name);
            proc_free(&d->get), proc_free(&d->query), proc_free(&d->save), proc_free(&d->del);
        }
        free(s->data);
        for (size_t k = 0; k < s->n_files; k++) {
            fss_file *f = &s->files[k];
            free(f->path), free(f->list_name), free(f->upload_name);
            proc_free(&f->list), proc_free(&f->upload), proc_free(&f->del);
        }
        free(s->files);
        for (size_t k = 0; k < s->n_cfg; k++) free(s->cfg[k].name);
        free(s->cfg);
        fss_types_free(&s->types);
        fss_types_free(&s->file_types);
        free(s->base), free(s->name), free(s->describe), free(s->install);
    }
    free(st->svcs);
    free(st);
}

/* ---- reading the deployment ---------------------------------------------------------------------- */

static char *attr(const xmlNode *n, const char *name)
{
    char *v = ma_xml_attr(n, name);
    if (v && !*v) {
        free(v);
        return NULL;
    }
    return v;
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 4;
    void *nv = realloc(*v, c * size);
    if (!nv) return -1;
    memset((char *)nv + *cap * size, 0, (c - *cap) * size);
    *v = nv;
    *cap = c;
    return 0;
}

/* A type name not yet used in the set: name, name_1, name_2 ... (Boomi's naming of repeats). */
static char *unique_name(const fss_types *set, const char *name)
{
    if (!fss_types_has(set, name)) return ma_strdup(name);
    for (int i = 1; i < 10000; i++) {
        char *n = ma_asprintf("%s_%d", name, i);
        if (!n || !fss_types_has(set, n)) return n;
        free(n);
    }
    return NULL;
}

static int profile_object(const char *where, xmlNode *obj, fss_type *t, const char *prefix, fss_types *set, int depth,
                          ma_error *err);

/* The Flow type of a nested JSONObject: "<prefix> - <object name>". */
static fss_type *nested_type(const char *where, xmlNode *obj, const char *entry, const char *prefix, fss_types *set,
                             int depth, ma_error *err)
{
    char *oname = attr(obj, "name");
    char *base = ma_asprintf("%s - %s", prefix, oname ? oname : entry);
    char *name = base ? unique_name(set, base) : NULL;
    free(oname);
    free(base);
    fss_type *t = name ? fss_types_add(set, name) : NULL;
    free(name);
    if (!t) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (profile_object(where, obj, t, prefix, set, depth + 1, err) < 0) return NULL;
    return t;
}

static fss_kind simple_kind(const xmlNode *e)
{
    char *dt = ma_xml_attr(e, "dataType");
    fss_kind k = FSS_STRING;
    if (dt && strcasecmp(dt, "number") == 0) k = FSS_NUMBER;
    else if (dt && strcasecmp(dt, "boolean") == 0) k = FSS_BOOLEAN;
    else if (dt && strcasecmp(dt, "datetime") == 0) k = FSS_DATETIME;
    free(dt);
    return k;
}

/* The entries of a JSONObject become the fields of t (BDOCS "Integration Profiles and Flow Types"). */
static int profile_object(const char *where, xmlNode *obj, fss_type *t, const char *prefix, fss_types *set, int depth,
                          ma_error *err)
{
    if (depth > 16) return ma_error_set(err, MA_ERR_LIMIT, "%s: objects nested deeper than 16 levels", where);
    for (xmlNode *e = ma_xml_child(obj, "JSONObjectEntry"); e; e = ma_xml_next(e, "JSONObjectEntry")) {
        char *name = attr(e, "name");
        if (!name) return ma_error_set(err, MA_ERR_CONFIG, "%s: an entry has no name", where);
        if (fss_type_field(t, name)) {
            ma_error_set(err, MA_ERR_CONFIG, "%s: entry '%s' appears twice in one object", where, name);
            free(name);
            return -1;
        }
        xmlNode *o = ma_xml_child(e, "JSONObject"), *a = ma_xml_child(e, "JSONArray");
        int rc = 0;
        if (o) {
            fss_type *nt = nested_type(where, o, name, prefix, set, depth, err);
            rc = !nt                                               ? -1
                 : fss_type_add_field(t, name, FSS_OBJECT, nt) < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory")
                                                                   : 0;
        } else if (a) {
            xmlNode *el = ma_xml_child(a, "JSONArrayElement");
            xmlNode *eo = el ? ma_xml_child(el, "JSONObject") : NULL;
            if (ma_xml_attr_is(a, "elementType", "absolute"))
                rc = ma_error_set(
                    err, MA_ERR_UNSUPPORTED,
                    "%s: entry '%s' is an absolute array; Flow Services take repeating arrays of objects only", where,
                    name);
            else if (!eo)
                rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                                  "%s: entry '%s' is a list of simple values; Flow lists must contain objects", where,
                                  name);
            else {
                fss_type *nt = nested_type(where, eo, name, prefix, set, depth, err);
                rc = !nt                                             ? -1
                     : fss_type_add_field(t, name, FSS_LIST, nt) < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory")
                                                                     : 0;
            }
        } else {
            rc = fss_type_add_field(t, name, simple_kind(e), NULL) < 0
                     ? ma_error_set(err, MA_ERR_NOMEM, "out of memory")
                     : 0;
        }
        free(name);
        if (rc < 0) return -1;
    }
    return 0;
}

/* Reads profile.json profile_id into a root type of set (named root_name, NULL for a message root);
 * *obj_name gets the root JSONObject's name (malloc'ed, may be NULL). */
static fss_type *profile_types(ma_deploy *dep, const char *profile_id, const char *root_name, const char *prefix,
                               fss_types *set, char **obj_name, ma_error *err)
{
    ma_component *pc = ma_deploy_find(dep, profile_id);
    if (!pc) {
        ma_error_set(err, MA_ERR_REF, "profile %s is not deployed", profile_id);
        return NULL;
    }
    if (strcmp(ma_component_type(pc), "profile.json") != 0) {
        ma_error_set(err, MA_ERR_UNSUPPORTED, "profile '%s' (%s) is a %s profile; Flow Services take JSON profiles",
                     ma_component_name(pc), ma_component_id(pc), ma_component_type(pc));
        return NULL;
    }
    char where[400];
    snprintf(where, sizeof where, "profile '%s' (%s)", ma_component_name(pc), ma_component_id(pc));
    xmlNode *rv = ma_xml_child(ma_xml_child(ma_component_object(pc), "DataElements"), "JSONRootValue");
    xmlNode *ro = rv ? ma_xml_child(rv, "JSONObject") : NULL;
    if (!ro) {
        ma_error_set(err, MA_ERR_UNSUPPORTED,
                     "%s: its root is not an Object (Flow Service profiles start with an Object)", where);
        return NULL;
    }
    if (obj_name) *obj_name = attr(ro, "name");
    fss_type *t = fss_types_add(set, root_name);
    if (!t) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (profile_object(where, ro, t, prefix, set, 0, err) < 0) return NULL;
    return t;
}

/* The <connectoraction> of a process's start shape when it is a fss Listen, else NULL. */
static const xmlNode *fss_start(const ma_component *comp) { return ma_process_listen_start(comp, "fss"); }

/* Seconds ("30", "1.5") into ms; -1 when not valid. */
static long long parse_seconds(const char *s)
{
    char *e;
    double d = strtod(s, &e);
    while (*e == ' ') e++;
    if (e == s || *e || !(d >= 0) || d > 86400) return -1;
    return (long long)(d * 1000.0 + 0.5);
}

/* Reads the listener process pid for a role into p. where names the component part that links it. */
static int read_proc(fss_state *st, ma_deploy *dep, const char *where, const char *pid, role r, fss_proc *p,
                     ma_error *err)
{
    ma_component *pc = ma_deploy_find(dep, pid);
    if (!pc) return ma_error_set(err, MA_ERR_REF, "%s: process %s is not deployed", where, pid);
    if (strcmp(ma_component_type(pc), "process") != 0)
        return ma_error_set(err, MA_ERR_CONFIG, "%s: component %s is a '%s' component, not a process", where, pid,
                            ma_component_type(pc));
    const xmlNode *start = fss_start(pc);
    if (!start)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "%s: process '%s' (%s) does not start with a Flow Services Server Listen", where,
                            ma_component_name(pc), ma_component_id(pc));
    p->comp = pc;
    p->proc = ma_component_process(dep, pc);
    const xmlNode *px = ma_component_object(pc);
    p->mode = ma_xml_attr_is(px, "workload", "low_latency") ? MA_MODE_LOW_LATENCY
              : ma_xml_attr_is(px, "workload", "bridge")    ? MA_MODE_BRIDGE
                                                            : MA_MODE_GENERAL;
    char *opid = attr(start, "operationId");
    ma_component *oc = opid ? ma_deploy_find(dep, opid) : NULL;
    int rc = 0;
    if (!opid)
        rc = ma_error_set(err, MA_ERR_CONFIG, "process '%s' (%s): its Flow Services Server Listen has no operationId",
                          ma_component_name(pc), ma_component_id(pc));
    else if (!oc)
        rc = ma_error_set(err, MA_ERR_REF, "process '%s' (%s): its Flow Services Server operation %s is not deployed",
                          ma_component_name(pc), ma_component_id(pc), opid);
    free(opid);
    if (rc) return rc;
    const xmlNode *a = ma_xml_child(ma_xml_child(ma_component_object(oc), "Configuration"), X_OPERATION);
    if (strcmp(ma_component_type(oc), "connector-action") != 0 || !a)
        return ma_error_set(
            err, MA_ERR_CONFIG,
            "operation '%s' (%s) is not a Flow Services Server operation (no <%s> under <Configuration>)",
            ma_component_name(oc), ma_component_id(oc), X_OPERATION);
    char *ot = attr(a, "operationType"), *sync = attr(a, "syncTimeout");
    if (ot) {
        int known = -1;
        if (ma_enum_parse(role_types, "operationType", ot, -1, MA_ENUM_NOCASE, &known, err) < 0) {
            ma_error_prefix(err, "operation '%s' (%s)", ma_component_name(oc), ma_component_id(oc));
            rc = -1;
        } else if (known >= 0 && known != (int)r) {
            char x[600];
            snprintf(x, sizeof x, "{\"operation\":\"%s\",\"operationType\":\"%s\",\"usedAs\":\"%s\"}",
                     ma_component_id(oc), role_names[known], role_names[r]);
            ma_server_log(st->srv, MA_LOG_WARNING,
                          "fss: an operation is used for another service type than its operationType", x);
        }
    }
    if (!rc && sync) {
        long long ms = parse_seconds(sync);
        if (ms < 0)
            rc = ma_error_set(err, MA_ERR_CONFIG, "operation '%s' (%s): syncTimeout '%s' is not a number of seconds",
                              ma_component_name(oc), ma_component_id(oc), sync);
        else p->timeout_ms = (uint64_t)ms;
    }
    free(ot);
    free(sync);
    if (rc) return rc;
    p->req_profile = attr(a, "requestProfile");
    p->resp_profile = attr(a, "responseProfile");
    return 0;
}

/* Characters a URL path segment may hold as they are (the rest is percent-encoded in uriPart). */
static int unreserved(int c) { return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

static int path_ok(const char *p)
{
    if (!*p || *p == '/' || p[strlen(p) - 1] == '/' || strstr(p, "//")) return 0;
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '?' || *p == '#' || *p == '\\' || *p == 0x7f) return 0;
    return 1;
}

static char *uri_part(const char *path)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "actions/");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (unreserved(*p) || *p == '/') ma_sb_putc(&b, (char)*p);
        else ma_sb_printf(&b, "%%%02X", *p);
    return ma_sb_take(&b, NULL);
}

static json_t *action_json(const fss_action *a)
{
    json_t *o = json_object(), *in = json_array(), *out = json_array();
    if (!o || !in || !out) goto oom;
    for (size_t i = 0; a->req && i < a->req->n; i++) {
        const fss_field *f = &a->req->fields[i];
        if (json_array_append_new(in, fss_describe_value(f->name, f->kind, f->type ? f->type->name : NULL, 0, (int)i)))
            goto oom;
    }
    for (size_t i = 0; a->resp && i < a->resp->n; i++) {
        const fss_field *f = &a->resp->fields[i];
        if (json_array_append_new(out, fss_describe_value(f->name, f->kind, f->type ? f->type->name : NULL, 0, (int)i)))
            goto oom;
    }
    if (json_object_set_new(o, "uriPart", json_string(a->uri_part)) ||
        json_object_set_new(o, "developerName", json_string(a->name)) ||
        json_object_set_new(o, "developerSummary", a->summary ? json_string(a->summary) : json_null()))
        goto oom;
    int e = json_object_set_new(o, "serviceInputs", in);
    in = NULL;
    e = e || json_object_set_new(o, "serviceOutputs", out);
    out = NULL;
    if (e || json_object_set_new(o, "serviceActionOutcomes", json_array()) ||
        json_object_set_new(o, "isViewMessageAction", json_false()))
        goto oom;
    return o;
oom:
    json_decref(o);
    json_decref(in);
    json_decref(out);
    return NULL;
}

/* The cached bodies of POST metadata (v1, the full describe) and POST metadata/install (v2). */
static int build_describe(fss_service *s)
{
    json_t *cfg = json_array(), *acts = json_array(), *types = json_array();
    json_t *d = json_object(), *inst = json_object();
    int rc = -1;
    if (!cfg || !acts || !types || !d || !inst) goto out;
    for (size_t i = 0; i < s->n_cfg; i++)
        if (json_array_append_new(cfg,
                                  fss_describe_value(s->cfg[i].name, s->cfg[i].kind, NULL, s->cfg[i].required, (int)i)))
            goto out;
    for (size_t i = 0; i < s->n_actions; i++)
        if (json_array_append_new(acts, action_json(&s->actions[i]))) goto out;
    for (size_t i = 0; i < s->types.n; i++)
        if (s->types.v[i]->name && json_array_append_new(types, fss_type_element(s->types.v[i]))) goto out;
    static const char *const flags[] = {"providesAutoBinding",   "providesDatabase",  "providesFiles",
                                        "providesIdentity",      "providesListening", "providesLogic",
                                        "providesNotifications", "providesSmartSave", "providesSocial",
                                        "providesSharing",       "providesViews",     "providesVoting"};
    if (json_object_set_new(d, "culture", json_null()) || json_object_set_new(d, "uri", json_null()) ||
        json_object_set(d, "configurationValues", cfg))
        goto out;
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        int v = (strcmp(flags[i], "providesDatabase") == 0 && s->n_data) ||
                (strcmp(flags[i], "providesFiles") == 0 && s->n_files) ||
                (strcmp(flags[i], "providesLogic") == 0 && s->n_actions);
        if (json_object_set_new(d, flags[i], json_boolean(v))) goto out;
    }
    json_t *install = json_object();
    if (!install || json_object_set(d, "actions", acts) || json_object_set_new(d, "install", install) ||
        json_object_set(install, "typeElements", types))
        goto out;
    if (json_object_set(inst, "actions", acts) || json_object_set(inst, "types", types)) goto out;
    s->describe = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    s->install = json_dumps(inst, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s->describe || !s->install) goto out;
    s->describe_len = strlen(s->describe);
    s->install_len = strlen(s->install);
    rc = 0;
out:
    json_decref(cfg), json_decref(acts), json_decref(types), json_decref(d), json_decref(inst);
    return rc;
}

static int cfg_kind(const char *t, fss_kind *k)
{
    if (!t || strcasecmp(t, "String") == 0) *k = FSS_STRING;
    else if (strcasecmp(t, "Number") == 0) *k = FSS_NUMBER;
    else if (strcasecmp(t, "Boolean") == 0) *k = FSS_BOOLEAN;
    else if (strcasecmp(t, "Datetime") == 0 || strcasecmp(t, "DateTime") == 0) *k = FSS_DATETIME;
    else if (strcasecmp(t, "Password") == 0) *k = FSS_PASSWORD;
    else return -1;
    return 0;
}

/* A process id attribute of a data action or file resource into p (nothing when absent). */
static int opt_proc(fss_state *st, ma_deploy *dep, const char *where, xmlNode *n, const char *name, role r, fss_proc *p,
                    ma_error *err)
{
    char *pid = attr(n, name);
    if (!pid) return 0;
    char w[600];
    snprintf(w, sizeof w, "%s, %s", where, name);
    int rc = read_proc(st, dep, w, pid, r, p, err);
    free(pid);
    return rc;
}

static int deploy_service(fss_state *st, ma_deploy *dep, ma_component *c, fss_service *s, ma_error *err)
{
    const xmlNode *fs = ma_component_object(c);
    s->comp = c;
    if (!fs || !ma_xml_is(fs, X_SERVICE))
        return ma_error_set(err, MA_ERR_CONFIG, "Flow Service '%s' (%s): no <%s> element under <bns:object>",
                            ma_component_name(c), ma_component_id(c), X_SERVICE);
    char *base = attr(fs, "basePath");
    if (!base)
        return ma_error_set(err, MA_ERR_CONFIG, "Flow Service '%s' (%s): basePath is empty", ma_component_name(c),
                            ma_component_id(c));
    const char *b = base;
    while (*b == '/') b++;
    if (strncmp(b, "fs/", 3) == 0) b += 3;
    size_t bl = strlen(b);
    while (bl && b[bl - 1] == '/') bl--;
    s->base = ma_strndup(b, bl);
    free(base);
    s->name = attr(fs, "name");
    if (!s->name) s->name = ma_strdup(ma_component_name(c));
    if (!s->base || !s->name) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (!path_ok(s->base))
        return ma_error_set(err, MA_ERR_CONFIG, "Flow Service '%s' (%s): basePath '%s' cannot be a URL path",
                            ma_component_name(c), ma_component_id(c), s->base);
    char where[600];
    size_t cap = 0;
    /* configuration values */
    for (xmlNode *n = ma_xml_child(fs, X_CONFIG); n; n = ma_xml_next(n, X_CONFIG)) {
        if (grow((void **)&s->cfg, &cap, s->n_cfg, sizeof *s->cfg) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        fss_cfgval *v = &s->cfg[s->n_cfg];
        char *type = attr(n, "type");
        v->name = attr(n, "name");
        int bad_type = cfg_kind(type, &v->kind) < 0;
        v->required = ma_xml_attr_is(n, "required", "true");
        s->n_cfg++;
        if (!v->name || bad_type) {
            ma_error_set(err, MA_ERR_CONFIG, "Flow Service '%s' (%s), configuration value %zu: %s",
                         ma_component_name(c), ma_component_id(c), s->n_cfg,
                         !v->name ? "no name" : "type must be String, Number, Boolean, Datetime or Password");
            free(type);
            return -1;
        }
        free(type);
        for (size_t k = 0; k + 1 < s->n_cfg; k++)
            if (strcmp(s->cfg[k].name, v->name) == 0)
                return ma_error_set(err, MA_ERR_CONFIG,
                                    "Flow Service '%s' (%s): configuration value '%s' is defined twice",
                                    ma_component_name(c), ma_component_id(c), v->name);
    }
    /* message actions */
    cap = 0;
    for (xmlNode *n = ma_xml_child(fs, X_ACTION); n; n = ma_xml_next(n, X_ACTION)) {
        if (grow((void **)&s->actions, &cap, s->n_actions, sizeof *s->actions) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        fss_action *a = &s->actions[s->n_actions++];
        a->name = attr(n, "name");
        a->path = attr(n, "path");
        snprintf(where, sizeof where, "Flow Service '%s' (%s), message action '%s'", ma_component_name(c),
                 ma_component_id(c), a->name ? a->name : "");
        if (!a->name) return ma_error_set(err, MA_ERR_CONFIG, "%s: no name", where);
        if (!a->path && !(a->path = ma_strdup(a->name))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        if (!path_ok(a->path))
            return ma_error_set(err, MA_ERR_CONFIG, "%s: path '%s' cannot be a URL path", where, a->path);
        char *d = ma_xml_text(ma_xml_child(n, "description"));
        if (d && *d) a->summary = d;
        else free(d);
        for (size_t k = 0; k + 1 < s->n_actions; k++) {
            if (strcmp(s->actions[k].path, a->path) == 0)
                return ma_error_set(err, MA_ERR_CONFIG, "%s: path '%s' is already the path of action '%s'", where,
                                    a->path, s->actions[k].name);
            if (strcmp(s->actions[k].name, a->name) == 0)
                return ma_error_set(err, MA_ERR_CONFIG, "%s: the name is used twice", where);
        }
        char *pid = attr(n, "processId");
        if (!pid) return ma_error_set(err, MA_ERR_CONFIG, "%s: no processId", where);
        int rc = read_proc(st, dep, where, pid, R_ACTION, &a->p, err);
        if (!rc) a->may_wait = ma_process_may_wait(a->p.proc);
        free(pid);
        if (rc) return -1;
        char *req_prefix = ma_asprintf("%s REQUEST", a->name);
        a->resp_prefix = ma_asprintf("%s RESPONSE", a->name);
        a->uri_part = uri_part(a->path);
        if (!req_prefix || !a->resp_prefix || !a->uri_part) {
            free(req_prefix);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        if (a->p.req_profile &&
            !(a->req = profile_types(dep, a->p.req_profile, NULL, req_prefix, &s->types, NULL, err)))
            rc = -1;
        if (!rc && a->p.resp_profile &&
            !(a->resp = profile_types(dep, a->p.resp_profile, NULL, a->resp_prefix, &s->types, NULL, err)))
            rc = -1;
        free(req_prefix);
        if (rc) {
            ma_error_prefix(err, "%s", where);
            return -1;
        }
    }
    /* data actions */
    cap = 0;
    for (xmlNode *n = ma_xml_child(fs, X_DATA); n; n = ma_xml_next(n, X_DATA)) {
        if (grow((void **)&s->data, &cap, s->n_data, sizeof *s->data) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        fss_data *d = &s->data[s->n_data++];
        d->name = attr(n, "name");
        snprintf(where, sizeof where, "Flow Service '%s' (%s), data action '%s'", ma_component_name(c),
                 ma_component_id(c), d->name ? d->name : "");
        if (!d->name) return ma_error_set(err, MA_ERR_CONFIG, "%s: no name (the object type name)", where);
        for (size_t k = 0; k + 1 < s->n_data; k++)
            if (strcmp(s->data[k].name, d->name) == 0)
                return ma_error_set(err, MA_ERR_CONFIG, "%s: the name is used twice", where);
        if (fss_types_has(&s->types, d->name))
            return ma_error_set(err, MA_ERR_CONFIG,
                                "%s: a Flow type of this name is already derived from a message action's profile",
                                where);
        if (opt_proc(st, dep, where, n, "getProcessId", R_LOAD, &d->get, err) ||
            opt_proc(st, dep, where, n, "queryProcessId", R_LOAD, &d->query, err) ||
            opt_proc(st, dep, where, n, "saveProcessId", R_SAVE, &d->save, err) ||
            opt_proc(st, dep, where, n, "deleteProcessId", R_DELETE, &d->del, err))
            return -1;
        if (!d->get.comp && !d->query.comp && !d->save.comp && !d->del.comp)
            return ma_error_set(err, MA_ERR_CONFIG,
                                "%s: no process (getProcessId, queryProcessId, saveProcessId, deleteProcessId)", where);
        char *pid = attr(n, "profileId");
        const char *prof = pid                     ? pid
                           : d->query.resp_profile ? d->query.resp_profile
                           : d->get.resp_profile   ? d->get.resp_profile
                           : d->save.req_profile   ? d->save.req_profile
                                                   : d->save.resp_profile;
        if (!prof) {
            free(pid);
            return ma_error_set(err, MA_ERR_CONFIG,
                                "%s: no object type profile (profileId, or a response profile on the Load operation)",
                                where);
        }
        d->type = profile_types(dep, prof, d->name, d->name, &s->types, NULL, err);
        free(pid);
        if (!d->type) {
            ma_error_prefix(err, "%s", where);
            return -1;
        }
        d->type->bound = 1;
        char *desc = ma_xml_text(ma_xml_child(n, "description"));
        if (desc && *desc) d->type->summary = desc;
        else free(desc);
    }
    /* file resources */
    cap = 0;
    for (xmlNode *n = ma_xml_child(fs, X_FILE); n; n = ma_xml_next(n, X_FILE)) {
        if (grow((void **)&s->files, &cap, s->n_files, sizeof *s->files) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        fss_file *f = &s->files[s->n_files++];
        char *p = attr(n, "path");
        const char *pp = p ? p : "";
        while (*pp == '/') pp++;
        f->path = ma_strdup(pp);
        free(p);
        if (!f->path) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        snprintf(where, sizeof where, "Flow Service '%s' (%s), file resource '/%s'", ma_component_name(c),
                 ma_component_id(c), f->path);
        for (size_t k = 0; k + 1 < s->n_files; k++)
            if (strcmp(s->files[k].path, f->path) == 0)
                return ma_error_set(err, MA_ERR_CONFIG, "%s: the path is used twice", where);
        if (opt_proc(st, dep, where, n, "listProcessId", R_LIST_FILES, &f->list, err) ||
            opt_proc(st, dep, where, n, "uploadProcessId", R_UPLOAD_FILE, &f->upload, err) ||
            opt_proc(st, dep, where, n, "deleteProcessId", R_DELETE_FILE, &f->del, err))
            return -1;
        if (!f->list.comp && !f->upload.comp && !f->del.comp)
            return ma_error_set(err, MA_ERR_CONFIG, "%s: no process (listProcessId, uploadProcessId, deleteProcessId)",
                                where);
        /* the $File types are not described (Flow users create them, BDOCS "File Resource Operations and types") */
        fss_proc *lp[2] = {&f->list, &f->upload};
        fss_type **lt[2] = {&f->list_t, &f->upload_t};
        char **ln[2] = {&f->list_name, &f->upload_name};
        for (int i = 0; i < 2; i++) {
            char *obj = NULL;
            if (lp[i]->resp_profile && !(*lt[i] = profile_types(dep, lp[i]->resp_profile, NULL, "$File RESPONSE",
                                                                &s->file_types, &obj, err))) {
                free(obj);
                ma_error_prefix(err, "%s", where);
                return -1;
            }
            *ln[i] = obj ? ma_asprintf("$File RESPONSE - %s", obj) : ma_strdup("$File");
            free(obj);
            if (!*ln[i]) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    }
    if (build_describe(s) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return 0;
}

static int fss_deploy(ma_server *srv, ma_deploy *dep, void **state, ma_error *err)
{
    fss_state *st = calloc(1, sizeof *st);
    if (!st) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    st->srv = srv;
    if (ma_config_read(fss_config_map, "fss.", ma_deploy_settings(dep), &st->cfg, err) < 0) goto fail;
    size_t cap = 0;
    for (size_t i = 0; i < ma_deploy_count(dep); i++) {
        ma_component *c = ma_deploy_at(dep, i);
        if (!c) continue; /* not parsed: a problem of the deployment says why */
        if (strcmp(ma_component_type(c), "flowservice") != 0) continue;
        if (grow((void **)&st->svcs, &cap, st->n, sizeof *st->svcs) < 0) {
            ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto fail;
        }
        fss_service *s = &st->svcs[st->n++];
        if (deploy_service(st, dep, c, s, err) < 0) goto fail;
        for (size_t k = 0; k + 1 < st->n; k++)
            if (strcmp(st->svcs[k].base, s->base) == 0) {
                ma_error_set(err, MA_ERR_CONFIG, "Flow Services '%s' (%s) and '%s' (%s) both have the basePath '%s'",
                             ma_component_name(st->svcs[k].comp), ma_component_id(st->svcs[k].comp),
                             ma_component_name(c), ma_component_id(c), s->base);
                goto fail;
            }
    }
    for (size_t i = 0; i < st->n; i++) {
        fss_service *s = &st->svcs[i];
        ma_sb b;
        ma_sb_init(&b);
        ma_sb_puts(&b, "{\"path\":\"/fs/");
        ma_sb_json_escape(&b, s->base, strlen(s->base));
        ma_sb_lit(&b, "\",\"service\":");
        ma_sb_json_str(&b, s->name);
        size_t named = 0;
        for (size_t k = 0; k < s->types.n; k++) named += s->types.v[k]->name != NULL;
        ma_sb_printf(&b, ",\"messageActions\":%zu,\"dataActions\":%zu,\"fileResources\":%zu,\"types\":%zu}",
                     s->n_actions, s->n_data, s->n_files, named);
        if (!b.oom) ma_server_log(srv, MA_LOG_INFO, "fss service", b.s);
        ma_sb_free(&b);
    }
    *state = st;
    return 0;
fail:
    fss_undeploy(st);
    return -1;
}

/* ---- responses ---------------------------------------------------------------------------------- */

static int problem(ma_http_resp *resp, const char *uri, int status, const char *msg, const char *exec_id)
{
    size_t len;
    char *body = fss_service_problem(uri, status, msg, &len);
    if (!body) return -1;
    if (exec_id && *exec_id) ma_strlcpy(resp->execution_id, exec_id, sizeof resp->execution_id);
    if (ma_http_resp_set_owned(resp, status, "application/json", body, len) < 0) return -1;
    return ma_http_resp_header(resp, "X-ManyWho-Service-Problem-Kind", "service") < 0 ? -1 : 0;
}

static int json_reply(ma_http_resp *resp, char *body, size_t len)
{
    if (!body) return -1;
    return ma_http_resp_set_owned(resp, 200, "application/json", body, len) < 0 ? -1 : 0;
}

/* ---- process properties --------------------------------------------------------------------------- */

typedef struct props {
    char **v;
    size_t n, cap;
    int oom;
} props;

/* Adds "<prefix><name>=<value>" (prefix may be ""); nothing for a NULL value or a name with '='. */
static void prop_with(props *p, const char *prefix, const char *name, const char *value)
{
    if (!value || p->oom || strchr(name, '=')) return;
    size_t pl = strlen(prefix), nl = strlen(name), vl = strlen(value);
    char *s = malloc(pl + nl + vl + 2);
    if (!s || grow((void **)&p->v, &p->cap, p->n, sizeof *p->v) < 0) {
        free(s);
        p->oom = 1;
        return;
    }
    memcpy(s, prefix, pl);
    memcpy(s + pl, name, nl);
    s[pl + nl] = '=';
    memcpy(s + pl + nl + 1, value, vl + 1);
    p->v[p->n++] = s;
}

static void prop(props *p, const char *name, const char *value) { prop_with(p, "", name, value); }

static void props_free(props *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->v[i]);
    free(p->v);
}

/* The properties every FSS execution gets (docs/flow.md 6). */
static void common_props(props *p, const fss_req *r, const char *operation)
{
    prop(p, "fssOperation", operation);
    prop(p, "token", r->token);
    prop(p, "tenantId", r->tenant_id);
    prop(p, "stateId", r->state_id);
    prop(p, "callbackUri", r->callback_uri);
    if (r->culture[0]) prop(p, "culture", r->culture);
    if (r->authorization) {
        ma_sb a;
        ma_sb_init(&a);
        ma_jv_write(&a, r->authorization);
        if (a.oom) p->oom = 1;
        else prop(p, "authorization", a.s);
        ma_sb_free(&a);
    }
    for (size_t i = 0; i < ma_jv_size(r->config); i++) {
        const ma_jv *v = ma_jv_at(r->config, i);
        const char *name = ma_jv_str(ma_jv_get(v, "developerName"));
        char buf[64];
        const char *val = fss_content_value(v, buf, sizeof buf);
        if (!name || !*name || !val) continue;
        prop_with(p, "inflowconfigurationvalues_", name, val);
    }
}

/* ---- running a process -------------------------------------------------------------------------- */

static void log_failure(ma_server *srv, const char *msg, const char *path, const ma_component *pc, const char *exec_id,
                        const char *detail)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "{\"path\":\"");
    ma_sb_json_escape(&b, path, strlen(path));
    ma_sb_puts(&b, "\",\"process\":\"");
    if (pc) ma_sb_json_escape(&b, ma_component_name(pc), strlen(ma_component_name(pc)));
    ma_sb_puts(&b, "\",\"executionId\":\"");
    ma_sb_json_escape(&b, exec_id ? exec_id : "", exec_id ? strlen(exec_id) : 0);
    ma_sb_puts(&b, "\",\"detail\":\"");
    ma_sb_json_escape(&b, detail ? detail : "", detail ? strlen(detail) : 0);
    ma_sb_puts(&b, "\"}");
    if (!b.oom) ma_server_log(srv, MA_LOG_WARNING, msg, b.s);
    ma_sb_free(&b);
}

static ma_doc *new_doc(char *data, size_t len, const char *ctype)
{
    if (!data) return NULL;
    ma_doc *d = ma_doc_new_owned(data, len);
    if (d && ctype && ma_doc_set_prop(&d, "mime.Content-Type", ctype) < 0) {
        ma_doc_unref(d);
        return NULL;
    }
    return d;
}

/* fss_doc views of the documents a process returned (borrowed; caller frees the array). */
static fss_doc *doc_views(const ma_run_result *res, size_t *n)
{
    *n = res->docs.len;
    fss_doc *v = calloc(*n ? *n : 1, sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < *n; i++) {
        ma_doc *d = res->docs.docs[i];
        v[i].data = ma_doc_data(d, &v[i].len);
        v[i].external_id = ma_doc_prop(d, "dynamicdocument.externalId");
        v[i].internal_id = ma_doc_prop(d, "dynamicdocument.internalId");
        if (v[i].external_id && !*v[i].external_id) v[i].external_id = NULL;
        if (v[i].internal_id && !*v[i].internal_id) v[i].internal_id = NULL;
    }
    return v;
}

const ma_listener_type ma_listener_fss;

/* Runs p synchronously (no WAIT) and leaves the result in res. Returns 0 when res holds a finished
 * execution that did not fail; 1 when resp was filled with a ServiceProblem; -1 out of memory. */
static int run_sync(ma_server *srv, ma_snapshot *snap, const fss_state *st, const fss_proc *p, const ma_http_req *req,
                    ma_batch *in, props *pr, ma_run_result *res, ma_http_resp *resp)
{
    ma_run_request o;
    memset(&o, 0, sizeof o);
    o.mode = req->debug ? MA_MODE_GENERAL : p->mode;
    o.timeout_ms = p->timeout_ms;
    o.props = (const char *const *)pr->v;
    o.n_props = pr->n;
    o.trigger = "fss";
    if (ma_listener_run(srv, snap, p->proc, in, &o, res) < 0) return -1;
    ma_strlcpy(resp->execution_id, res->execution_id, sizeof resp->execution_id);
    if (res->outcome == MA_RUN_DONE) return 0;
    int rc = ma_listener_answer_run(srv, &ma_listener_fss, (void *)st, req, p->proc, res, resp);
    ma_run_result_free(res);
    return rc < 0 ? -1 : 1;
}

/* ---- callbacks (WAIT) ----------------------------------------------------------------------------- */

/* Executions whose callbacks this process recorded and still owes: recover() leaves them alone. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static char **live;
static size_t n_live, cap_live;

static void live_add(const char *id)
{
    pthread_mutex_lock(&live_mu);
    char *c = ma_strdup(id);
    if (c && grow((void **)&live, &cap_live, n_live, sizeof *live) == 0) live[n_live++] = c;
    else free(c);
    pthread_mutex_unlock(&live_mu);
}

static void live_remove(const char *id)
{
    pthread_mutex_lock(&live_mu);
    for (size_t i = 0; i < n_live; i++)
        if (strcmp(live[i], id) == 0) {
            free(live[i]);
            live[i] = live[--n_live];
            break;
        }
    if (!n_live) {
        free(live);
        live = NULL;
        cap_live = 0;
    }
    pthread_mutex_unlock(&live_mu);
}

static int live_has(const char *id)
{
    pthread_mutex_lock(&live_mu);
    int has = 0;
    for (size_t i = 0; i < n_live && !has; i++) has = strcmp(live[i], id) == 0;
    pthread_mutex_unlock(&live_mu);
    return has;
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
}

static int body_is_busy(const char *b, size_t n)
{
    while (n && isspace((unsigned char)*b)) b++, n--;
    while (n && isspace((unsigned char)b[n - 1])) n--;
    if (n >= 2 && b[0] == '"' && b[n - 1] == '"') b++, n -= 2;
    return n == 4 && strncasecmp(b, "BUSY", 4) == 0;
}

static void log_callback(ma_server *srv, ma_log_level level, const char *msg, const char *exec_id, const char *uri,
                         long status, int attempts, const char *detail)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "{\"executionId\":\"");
    ma_sb_json_escape(&b, exec_id, strlen(exec_id));
    ma_sb_puts(&b, "\",\"callbackUri\":\"");
    size_t ul = strcspn(uri, "?#"); /* never the query string */
    ma_sb_json_escape(&b, uri, ul);
    ma_sb_printf(&b, "\",\"status\":%ld,\"attempts\":%d", status, attempts);
    if (detail) {
        ma_sb_puts(&b, ",\"detail\":\"");
        ma_sb_json_escape(&b, detail, strlen(detail));
        ma_sb_putc(&b, '"');
    }
    ma_sb_putc(&b, '}');
    if (!b.oom) ma_server_log(srv, level, msg, b.s);
    ma_sb_free(&b);
}

/* POSTs a ServiceResponse to a callbackUri (reference 2.5): 0 delivered, 1 refused for good (a 4xx
 * other than 429), -1 not delivered (no answer, 5xx, or BUSY after every retry). */
static int deliver(ma_server *srv, const fss_cfg *cfg, const char *exec_id, const char *uri, const char *tenant,
                   const char *body, size_t len)
{
    ma_httpc_opts o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = (long)cfg->cb_timeout_ms;
    o.retries = cfg->cb_retries ? (int)cfg->cb_retries : -1; /* 0: none */
    o.backoff_ms = cfg->cb_backoff_ms ? (long)cfg->cb_backoff_ms : -1;
    o.ca_file = cfg->cb_ca_file;
    long long busy = (long long)cfg->cb_busy_retries;
    ma_error err;
    ma_error_clear(&err);
    ma_httpc *c = ma_httpc_new(&o, &err);
    if (!c) {
        log_callback(srv, MA_LOG_ERROR, "fss callback not delivered", exec_id, uri, 0, 0, err.msg);
        return -1;
    }
    ma_httpc_header hs[3] = {
        {"Content-Type", "application/json"}, {"Accept", "application/json"}, {"ManyWhoTenant", tenant}};
    size_t nh = tenant ? 3 : 2;
    long long wait = (long long)cfg->cb_backoff_ms;
    int rc = -1, attempts = 0;
    long status = 0;
    for (long long round = 0; round <= busy; round++) {
        ma_httpc_response r;
        memset(&r, 0, sizeof r);
        ma_error_clear(&err);
        if (ma_httpc_request(c, "POST", uri, hs, nh, body, len, &r, &err) < 0) {
            attempts += r.attempts;
            log_callback(srv, MA_LOG_ERROR, "fss callback not delivered", exec_id, uri, 0, attempts, err.msg);
            ma_httpc_response_free(&r);
            break;
        }
        attempts += r.attempts;
        status = r.status;
        int is_busy = status >= 200 && status < 300 && body_is_busy(r.body ? r.body : "", r.body_len);
        ma_httpc_response_free(&r);
        if (status >= 200 && status < 300 && !is_busy) {
            rc = 0;
            log_callback(srv, MA_LOG_INFO, "fss callback delivered", exec_id, uri, status, attempts, NULL);
            break;
        }
        if (status >= 400 && status < 500 && status != 429) {
            rc = 1;
            log_callback(srv, MA_LOG_ERROR, "fss callback refused by Flow", exec_id, uri, status, attempts, NULL);
            break;
        }
        if (!is_busy) { /* 5xx after the client's own retries */
            log_callback(srv, MA_LOG_ERROR, "fss callback not delivered", exec_id, uri, status, attempts,
                         "Flow answered with an error");
            break;
        }
        if (round == busy) {
            log_callback(srv, MA_LOG_ERROR, "fss callback not delivered", exec_id, uri, status, attempts,
                         "Flow stayed BUSY");
            break;
        }
        sleep_ms(wait);
        wait = wait * 2 > MAX_BUSY_WAIT_MS ? MAX_BUSY_WAIT_MS : wait * 2;
    }
    ma_httpc_free(c);
    return rc;
}

/* What a WAITed execution needs to answer Flow later. */
typedef struct late_ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state; /* 0: the request thread has not decided; 1: the callback is recorded; 2: drop */
    ma_server *srv;
    ma_snapshot *snap; /* held while the action (borrowed from its state) is used */
    const fss_action *act;
    fss_cfg cfg; /* the listener's settings (strings borrowed from the server's settings) */
    char *token, *tenant, *callback_uri, *state_id;
    char *uri, *path; /* the action's URI (for a ServiceProblem) and the request path (for the log) */
    char exec_id[80];
} late_ctx;

static void late_free(late_ctx *c)
{
    if (c->snap) ma_snapshot_unref(c->snap);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->token), free(c->tenant), free(c->callback_uri), free(c->state_id);
    free(c->uri), free(c->path);
    free(c);
}

static void done(ma_server *srv, const char *exec_id)
{
    ma_error err;
    ma_error_clear(&err);
    if (ma_server_callback_done(srv, exec_id, &err) < 0)
        log_callback(srv, MA_LOG_ERROR, "fss callback delivered but not marked done", exec_id, "", 0, 0, err.msg);
}

static void late_result(void *user, ma_run_result *res)
{
    late_ctx *c = user;
    pthread_mutex_lock(&c->mu);
    while (c->state == 0) pthread_cond_wait(&c->cv, &c->mu);
    int st = c->state;
    pthread_mutex_unlock(&c->mu);
    if (st != 1) {
        ma_run_result_free(res);
        late_free(c);
        return;
    }
    char why[600] = "";
    char *body = NULL;
    size_t len = 0;
    if (res->outcome != MA_RUN_DONE) {
        snprintf(why, sizeof why, "%.500s (execution %s)",
                 res->message ? res->message : "the process ended with an error", c->exec_id);
    } else {
        size_t n;
        fss_doc *docs = doc_views(res, &n);
        int oom = 0;
        size_t ol;
        char *outs = docs ? fss_outputs(c->act->resp, c->act->resp_prefix, docs, n, why, sizeof why, &oom, &ol) : NULL;
        free(docs);
        if (outs) body = fss_service_response(c->token, c->tenant, "FORWARD", NULL, outs, NULL, &len);
        else if (oom || !docs)
            snprintf(why, sizeof why, "out of memory while building the response (execution %s)", c->exec_id);
        free(outs);
    }
    if (!body) body = fss_service_response(c->token, c->tenant, "FORWARD", NULL, NULL, why, &len);
    ma_run_result_free(res);
    ma_snapshot_unref(c->snap);
    c->snap = NULL;
    if (body) {
        int rc = deliver(c->srv, &c->cfg, c->exec_id, c->callback_uri, c->tenant, body, len);
        if (rc >= 0) done(c->srv, c->exec_id); /* else it stays recorded: the next start answers it */
    }
    free(body);
    live_remove(c->exec_id);
    late_free(c);
}

/* The WAIT answer, once the execution has outlived the sync timeout (ma_run_request.early, or the
 * request thread's wait returned 1): given only after the callback is recorded (issue 4 "Nothing
 * accepted is lost"); otherwise a 503 ServiceProblem. Hands lc to late_result (which may run at
 * once on another thread: lc is not touched after). */
static int answer_wait(void *user, const char *exec_id, ma_http_resp *resp)
{
    late_ctx *lc = user;
    ma_server *srv = lc->srv;
    ma_strlcpy(lc->exec_id, exec_id, sizeof lc->exec_id);
    ma_pending_callback cb = {lc->exec_id, lc->callback_uri, lc->tenant ? lc->tenant : "", lc->token,
                              lc->state_id ? lc->state_id : ""};
    ma_error herr;
    ma_error_clear(&herr);
    live_add(exec_id); /* before it is recorded: recover() must never answer it */
    int recorded = ma_server_callback_add(srv, &cb, &herr) == 0;
    if (!recorded) live_remove(exec_id);
    int ret;
    if (!recorded) {
        log_failure(srv, "fss callback could not be recorded; no WAIT", lc->path, lc->act->p.comp, exec_id, herr.msg);
        ret = problem(resp, lc->uri, 503,
                      "the process did not finish within the sync timeout and its callback could not be recorded",
                      exec_id);
    } else {
        char wait_msg[160];
        snprintf(wait_msg, sizeof wait_msg, "The integration process is still running (execution %s).", exec_id);
        size_t bl = 0;
        char *body = fss_service_response(lc->token, lc->tenant, "WAIT", wait_msg, NULL, NULL, &bl);
        ret = json_reply(resp, body, bl);
    }
    ma_strlcpy(resp->execution_id, exec_id, sizeof resp->execution_id);
    pthread_mutex_lock(&lc->mu);
    lc->state = recorded ? 1 : 2;
    pthread_cond_signal(&lc->cv);
    pthread_mutex_unlock(&lc->mu);
    return ret;
}

static void fss_recover(ma_server *srv, void *state)
{
    const fss_state *st = state;
    ma_pending_callback *cbs = NULL;
    size_t n = 0;
    ma_error err;
    ma_error_clear(&err);
    if (ma_server_callbacks(srv, &cbs, &n, &err) < 0) {
        log_callback(srv, MA_LOG_ERROR, "fss: the pending callbacks cannot be read", "", "", 0, 0, err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ma_pending_callback *cb = &cbs[i];
        if (!cb->exec_id || live_has(cb->exec_id)) continue;
        if (!cb->callback_uri || !*cb->callback_uri) {
            done(srv, cb->exec_id);
            continue;
        }
        char msg[300];
        snprintf(msg, sizeof msg, "the runtime stopped while the process ran; its result is lost (execution %s)",
                 cb->exec_id);
        size_t len;
        char *body = fss_service_response(cb->token, cb->tenant, "FORWARD", NULL, NULL, msg, &len);
        if (!body) continue;
        int rc = deliver(srv, &st->cfg, cb->exec_id, cb->callback_uri, cb->tenant && *cb->tenant ? cb->tenant : NULL,
                         body, len);
        free(body);
        if (rc >= 0) done(srv, cb->exec_id);
    }
    ma_pending_callbacks_free(cbs, n);
}

/* ---- message actions ------------------------------------------------------------------------------ */

static int handle_action(ma_server *srv, ma_snapshot *snap, const fss_state *st, const fss_action *a, const char *uri,
                         const ma_http_req *req, ma_http_resp *resp)
{
    fss_req r;
    char why[600];
    int rc = fss_req_decode(&r, FSS_REQ_SERVICE, req->body, req->body_len, why, sizeof why);
    if (rc) {
        fss_req_free(&r);
        return rc < 0 ? -1 : problem(resp, uri, 400, why, NULL);
    }
    props pr = {0};
    common_props(&pr, &r, "action");
    size_t dl = 0;
    char *data = fss_inputs_document(&r, a->req, &dl);
    ma_doc *doc = new_doc(data, dl, "application/json");
    ma_batch in;
    ma_batch_init(&in);
    int keep = r.callback_uri && r.token && srv;
    late_ctx *lc = NULL;
    int ret = 0;
    ma_run_result res;
    memset(&res, 0, sizeof res);
    if (pr.oom || !doc || ma_batch_push(&in, doc) < 0) goto nomem;
    ma_mode mode = req->debug ? MA_MODE_GENERAL : a->p.mode;
    /* a low-latency action that is not deferred runs to its end on this thread: no WAIT, no late result */
    if (keep && (mode != MA_MODE_LOW_LATENCY || ma_server_handler_deferred())) {
        lc = calloc(1, sizeof *lc);
        if (!lc) goto nomem;
        pthread_mutex_init(&lc->mu, NULL);
        pthread_cond_init(&lc->cv, NULL);
        lc->srv = srv;
        lc->act = a;
        lc->cfg = st->cfg;
        lc->token = ma_strdup(r.token);
        lc->tenant = r.tenant_id ? ma_strdup(r.tenant_id) : NULL;
        lc->callback_uri = ma_strdup(r.callback_uri);
        lc->state_id = r.state_id ? ma_strdup(r.state_id) : NULL;
        lc->uri = ma_strdup(uri);
        lc->path = ma_strdup(req->path);
        if (!lc->token || !lc->callback_uri || (r.tenant_id && !lc->tenant) || (r.state_id && !lc->state_id) ||
            !lc->uri || !lc->path)
            goto nomem;
        lc->snap = ma_snapshot_ref(snap);
    }
    ma_run_request o;
    memset(&o, 0, sizeof o);
    o.mode = mode;
    o.timeout_ms = a->p.timeout_ms;
    o.keep_running = keep;
    o.props = (const char *const *)pr.v;
    o.n_props = pr.n;
    o.trigger = "fss";
    o.early = keep ? answer_wait : NULL;
    o.late = lc ? late_result : NULL;
    o.user = lc;
    if (ma_listener_run(srv, snap, a->p.proc, &in, &o, &res) < 0) goto nomem;
    ma_batch_clear(&in);
    if (res.outcome == MA_RUN_ANSWERED) { /* answered WAIT at the timeout; late_result had the result (and lc) */
        lc = NULL;
        goto out;
    }
    ma_strlcpy(resp->execution_id, res.execution_id, sizeof resp->execution_id);
    if (res.outcome == MA_RUN_TIMED_OUT && lc) { /* it goes on: WAIT now, the result by callback */
        ret = answer_wait(lc, res.execution_id, resp);
        lc = NULL; /* late_result owns it now */
        goto out;
    }
    if (lc) { /* late_result will not be called */
        late_free(lc);
        lc = NULL;
    }
    if (res.outcome == MA_RUN_TIMED_OUT) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "the process did not finish within the sync timeout and the request has no %s to answer later; "
                 "its execution was cancelled",
                 r.callback_uri ? "token" : "callbackUri");
        free(res.message);
        res.message = ma_strdup(msg);
        if (!res.message) goto nomem;
    }
    if (res.outcome != MA_RUN_DONE) {
        ret = ma_listener_answer_run(srv, &ma_listener_fss, (void *)st, req, a->p.proc, &res, resp);
        goto out;
    }
    size_t n;
    fss_doc *docs = doc_views(&res, &n);
    int oom = 0;
    size_t ol;
    char *outs = docs ? fss_outputs(a->resp, a->resp_prefix, docs, n, why, sizeof why, &oom, &ol) : NULL;
    free(docs);
    if (!outs) {
        if (oom || !docs) goto nomem;
        log_failure(srv, "fss response could not be built", req->path, a->p.comp, res.execution_id, why);
        ret = problem(resp, uri, 500, why, res.execution_id);
        goto out;
    }
    size_t bl = 0;
    char *reply = fss_service_response(r.token, r.tenant_id, "FORWARD", NULL, outs, NULL, &bl);
    free(outs);
    ret = json_reply(resp, reply, bl);
out:
    if (lc) late_free(lc);
    ma_run_result_free(&res);
    ma_batch_clear(&in);
    props_free(&pr);
    fss_req_free(&r);
    return ret;
nomem:
    ret = -1;
    goto out;
}

/* ---- data actions --------------------------------------------------------------------------------- */

typedef enum data_op { D_LOAD, D_SAVE, D_DELETE } data_op;

static const fss_data *find_data(const fss_service *s, const fss_req *r)
{
    const char *name = r->type_name;
    if (!name && ma_jv_size(r->objects)) name = ma_jv_str(ma_jv_get(ma_jv_at(r->objects, 0), "developerName"));
    if (name)
        for (size_t i = 0; i < s->n_data; i++)
            if (strcmp(s->data[i].name, name) == 0) return &s->data[i];
    return s->n_data == 1 && !r->type_name ? &s->data[0] : NULL;
}

static int handle_data(ma_server *srv, ma_snapshot *snap, const fss_state *st, const fss_service *s, data_op op,
                       const char *uri, const ma_http_req *req, ma_http_resp *resp)
{
    fss_req r;
    char why[600];
    int rc = fss_req_decode(&r, FSS_REQ_DATA, req->body, req->body_len, why, sizeof why);
    if (rc) {
        fss_req_free(&r);
        return rc < 0 ? -1 : problem(resp, uri, 400, why, NULL);
    }
    int ret = 0;
    props pr = {0};
    ma_batch in;
    ma_batch_init(&in);
    const fss_data *d = find_data(s, &r);
    if (!d) {
        snprintf(why, sizeof why, "no data action of this service handles the type '%.200s'",
                 r.type_name ? r.type_name : "(objectDataType.developerName is missing)");
        ret = problem(resp, uri, 404, why, NULL);
        goto out;
    }
    const fss_proc *p = NULL;
    if (op == D_LOAD) p = r.filter_id ? (d->get.comp ? &d->get : &d->query) : (d->query.comp ? &d->query : &d->get);
    else p = op == D_SAVE ? &d->save : &d->del;
    if (!p->comp) {
        snprintf(why, sizeof why, "the data action '%.200s' has no %s process", d->name,
                 op == D_LOAD   ? "Get or Query"
                 : op == D_SAVE ? "Save"
                                : "Delete");
        ret = problem(resp, uri, 501, why, NULL);
        goto out;
    }
    common_props(&pr, &r, op == D_LOAD ? "load" : op == D_SAVE ? "save" : "delete");
    if (op == D_LOAD) {
        char num[32];
        prop(&pr, "param_id", r.filter_id);
        if (r.limit) snprintf(num, sizeof num, "%lld", r.limit), prop(&pr, "param_limit", num);
        if (r.offset) snprintf(num, sizeof num, "%lld", r.offset), prop(&pr, "param_offset", num);
        prop(&pr, "param_search", r.search);
        size_t l = 0;
        char *text = fss_query_filter_xml(&r, &l);
        ma_doc *doc = new_doc(text, l, "application/xml");
        if (!doc || ma_batch_push(&in, doc) < 0) goto nomem;
    } else {
        if (!ma_jv_size(r.objects)) { /* nothing to save or delete */
            size_t bl = 0;
            char *reply = fss_object_data_response(NULL, 0, &bl);
            ret = json_reply(resp, reply, bl);
            goto out;
        }
        if (ma_jv_size(r.objects) > st->cfg.max_docs) {
            snprintf(why, sizeof why, "the request has %zu objects, more than the limit of %llu (fss.documents)",
                     ma_jv_size(r.objects), (unsigned long long)st->cfg.max_docs);
            ret = problem(resp, uri, 413, why, NULL);
            goto out;
        }
        for (size_t i = 0; i < ma_jv_size(r.objects); i++) {
            const ma_jv *o = ma_jv_at(r.objects, i);
            size_t l = 0;
            char *text = fss_object_document(o, d->type, &l);
            ma_doc *doc = new_doc(text, l, "application/json");
            if (!doc) goto nomem;
            const char *ext = fss_object_id(o, "externalId"); /* used before the next call reuses its buffer */
            int fail = ext && ma_doc_set_prop(&doc, "dynamicdocument.externalId", ext) < 0;
            const char *internal = fss_object_id(o, "internalId");
            fail = fail || (internal && ma_doc_set_prop(&doc, "dynamicdocument.internalId", internal) < 0);
            if (fail) {
                ma_doc_unref(doc);
                goto nomem;
            }
            if (ma_batch_push(&in, doc) < 0) goto nomem;
        }
    }
    if (pr.oom) goto nomem;
    ma_run_result res;
    rc = run_sync(srv, snap, st, p, req, &in, &pr, &res, resp);
    if (rc) {
        ret = rc < 0 ? -1 : 0;
        goto out;
    }
    size_t n;
    fss_doc *docs = doc_views(&res, &n);
    int oom = 0, more = 0;
    size_t ol;
    char *objs = docs ? fss_objects(d->type, d->name, docs, n, op == D_LOAD ? r.offset : 0, op == D_LOAD ? r.limit : 0,
                                    &more, why, sizeof why, &oom, &ol)
                      : NULL;
    free(docs);
    char exec_id[80];
    ma_strlcpy(exec_id, res.execution_id, sizeof exec_id);
    ma_run_result_free(&res);
    if (!objs) {
        if (oom || !docs) goto nomem;
        log_failure(srv, "fss response could not be built", req->path, p->comp, exec_id, why);
        ret = problem(resp, uri, 500, why, exec_id);
        goto out;
    }
    size_t bl = 0;
    char *reply = fss_object_data_response(objs, more, &bl);
    free(objs);
    ret = json_reply(resp, reply, bl);
out:
    ma_batch_clear(&in);
    props_free(&pr);
    fss_req_free(&r);
    return ret;
nomem:
    ret = -1;
    goto out;
}

/* ---- file resources -------------------------------------------------------------------------------- */

typedef enum file_op { F_LIST, F_UPLOAD, F_DELETE } file_op;

static const fss_file *find_file(const fss_service *s, const char *resource_path)
{
    const char *rp = resource_path ? resource_path : "";
    while (*rp == '/') rp++;
    size_t rl = strlen(rp);
    while (rl && rp[rl - 1] == '/') rl--;
    for (size_t i = 0; i < s->n_files; i++)
        if (strlen(s->files[i].path) == rl && strncmp(s->files[i].path, rp, rl) == 0) return &s->files[i];
    return !rl && s->n_files == 1 ? &s->files[0] : NULL;
}

/* The document a list or delete process gets: the FileDataRequest's own fields. */
static char *file_request_doc(const fss_req *r, size_t *len)
{
    ma_sb b;
    ma_sb_init(&b);
    const char *names[] = {"resourcePath", "resourceFile", "path"},
               *values[] = {r->resource_path, r->resource_file, r->path};
    for (size_t i = 0; i < 3; i++) {
        ma_sb_puts(&b, i ? ",\"" : "{\"");
        ma_sb_puts(&b, names[i]);
        ma_sb_puts(&b, "\":");
        if (!values[i]) {
            ma_sb_puts(&b, "null");
            continue;
        }
        ma_sb_putc(&b, '"');
        ma_sb_json_escape(&b, values[i], strlen(values[i]));
        ma_sb_putc(&b, '"');
    }
    ma_sb_puts(&b, ",\"listFilter\":");
    if (r->list_filter) ma_jv_write(&b, r->list_filter);
    else ma_sb_puts(&b, "null");
    ma_sb_putc(&b, '}');
    return ma_sb_take(&b, len);
}

static int handle_file(ma_server *srv, ma_snapshot *snap, const fss_state *st, const fss_service *s, file_op op,
                       const char *uri, const ma_http_req *req, ma_http_resp *resp)
{
    fss_req r;
    memset(&r, 0, sizeof r);
    char why[600];
    fss_upload up;
    memset(&up, 0, sizeof up);
    int rc = 0;
    const char *ctype = ma_http_header(req, "Content-Type");
    if (op == F_UPLOAD) {
        if (ctype && strncasecmp(ctype, "multipart/", 10) == 0) {
            rc = fss_multipart(ctype, req->body, req->body_len, &up, why, sizeof why);
            if (!rc && up.json) rc = fss_req_decode(&r, FSS_REQ_FILE, up.json, up.json_len, why, sizeof why);
        } else { /* application/octet-stream: the body is the file */
            up.file = req->body;
            up.file_len = req->body_len;
            const char *cd = ma_http_header(req, "Content-Disposition");
            const char *fn = cd ? strstr(cd, "filename=") : NULL;
            if (fn) {
                fn += 9;
                size_t l = strcspn(fn, ";");
                if (l && *fn == '"') fn++, l = strcspn(fn, "\"");
                snprintf(up.filename, sizeof up.filename, "%.*s", (int)(l < 255 ? l : 255), fn);
            }
            ma_strlcpy(up.content_type, ctype ? ctype : "application/octet-stream", sizeof up.content_type);
        }
    } else {
        rc = fss_req_decode(&r, FSS_REQ_FILE, req->body, req->body_len, why, sizeof why);
    }
    if (rc) {
        fss_req_free(&r);
        return rc < 0 ? -1 : problem(resp, uri, 400, why, NULL);
    }
    int ret = 0;
    props pr = {0};
    ma_batch in;
    ma_batch_init(&in);
    const char *rpath = r.resource_path ? r.resource_path : ma_http_query(req, "resourcePath");
    const fss_file *f = find_file(s, rpath);
    if (!f) {
        snprintf(why, sizeof why, "no file resource of this service has the resource path '%.200s'",
                 rpath ? rpath : "");
        ret = problem(resp, uri, 404, why, NULL);
        goto out;
    }
    const fss_proc *p = op == F_LIST ? &f->list : op == F_UPLOAD ? &f->upload : &f->del;
    if (!p->comp) {
        snprintf(why, sizeof why, "the file resource '/%.200s' has no %s process", f->path,
                 op == F_LIST     ? "List Files"
                 : op == F_UPLOAD ? "Upload File"
                                  : "Delete File");
        ret = problem(resp, uri, 501, why, NULL);
        goto out;
    }
    common_props(&pr, &r, op == F_LIST ? "listFiles" : op == F_UPLOAD ? "uploadFile" : "deleteFile");
    prop(&pr, "param_resourcePath", r.resource_path ? r.resource_path : rpath);
    prop(&pr, "param_resourceFile", r.resource_file);
    prop(&pr, "param_path", r.path);
    if (op == F_DELETE) prop(&pr, "param_id", r.resource_file);
    ma_doc *doc;
    if (op == F_UPLOAD) {
        char *data = malloc(up.file_len + 1);
        if (data) memcpy(data, up.file, up.file_len), data[up.file_len] = '\0';
        doc = new_doc(data, up.file_len, up.content_type[0] ? up.content_type : "application/octet-stream");
        if (doc && ((up.filename[0] && ma_doc_set_prop(&doc, "dynamicdocument.fileName", up.filename) < 0) ||
                    ma_doc_set_prop(&doc, "dynamicdocument.fileContentType",
                                    up.content_type[0] ? up.content_type : "application/octet-stream") < 0)) {
            ma_doc_unref(doc);
            doc = NULL;
        }
    } else {
        size_t l = 0;
        char *text = file_request_doc(&r, &l);
        doc = new_doc(text, l, "application/json");
    }
    if (!doc || ma_batch_push(&in, doc) < 0 || pr.oom) goto nomem;
    ma_run_result res;
    rc = run_sync(srv, snap, st, p, req, &in, &pr, &res, resp);
    if (rc) {
        ret = rc < 0 ? -1 : 0;
        goto out;
    }
    size_t n;
    fss_doc *docs = doc_views(&res, &n);
    int oom = 0, more = 0;
    const fss_type *t = op == F_UPLOAD ? f->upload_t : f->list_t;
    const char *tn = op == F_UPLOAD ? f->upload_name : f->list_name;
    size_t ol;
    char *objs = docs ? fss_objects(t, tn, docs, n, op == F_LIST ? r.offset : 0, op == F_LIST ? r.limit : 0, &more, why,
                                    sizeof why, &oom, &ol)
                      : NULL;
    free(docs);
    char exec_id[80];
    ma_strlcpy(exec_id, res.execution_id, sizeof exec_id);
    ma_run_result_free(&res);
    if (!objs) {
        if (oom || !docs) goto nomem;
        ret = problem(resp, uri, 500, why, exec_id);
        goto out;
    }
    size_t bl = 0;
    char *reply = fss_object_data_response(objs, more, &bl);
    free(objs);
    ret = json_reply(resp, reply, bl);
out:
    ma_batch_clear(&in);
    props_free(&pr);
    fss_req_free(&r);
    return ret;
nomem:
    ret = -1;
    goto out;
}

/* ---- routing ------------------------------------------------------------------------------------- */

static int method_not_allowed(ma_http_resp *resp, const char *uri, const char *method, const char *allow)
{
    char msg[200];
    snprintf(msg, sizeof msg, "method %.20s is not allowed here; use %s", method, allow);
    if (problem(resp, uri, 405, msg, NULL) < 0) return -1;
    return ma_http_resp_header(resp, "Allow", allow) < 0 ? -1 : 0;
}

/* The service a request path names (the longest base path), with path (2048 bytes) set to the path
 * after /fs/ without empty segments and *sub to the rest after the base; NULL when none is deployed
 * there. -1 in *too_long when the path does not fit. */
static const fss_service *route(const fss_state *st, const char *reqpath, char path[2048], const char **sub,
                                int *too_long)
{
    size_t pl = 0;
    const char *p = reqpath ? reqpath : "";
    *too_long = 0;
    if (strncmp(p, "/fs", 3) == 0) p += 3;
    for (; *p && pl + 1 < 2048; p++) {
        if (*p == '/' && (pl == 0 || path[pl - 1] == '/')) continue;
        path[pl++] = *p;
    }
    if (*p) {
        *too_long = 1;
        return NULL;
    }
    while (pl && path[pl - 1] == '/') pl--;
    path[pl] = '\0';
    const fss_service *s = NULL;
    size_t best = 0;
    for (size_t i = 0; st && i < st->n; i++) {
        size_t bl = strlen(st->svcs[i].base);
        if (bl > best && strncmp(path, st->svcs[i].base, bl) == 0 && (path[bl] == '/' || path[bl] == '\0')) {
            s = &st->svcs[i];
            best = bl;
        }
    }
    *sub = path + best;
    if (**sub == '/') (*sub)++;
    return s;
}

static const fss_action *find_action(const fss_service *s, const char *sub)
{
    if (strncmp(sub, "actions/", 8) != 0) return NULL;
    for (size_t i = 0; i < s->n_actions; i++)
        if (strcmp(s->actions[i].path, sub + 8) == 0) return &s->actions[i];
    return NULL;
}

static int fss_handle(ma_server *srv, ma_snapshot *snap, void *state, const ma_http_req *req, ma_http_resp *resp)
{
    const fss_state *st = state;
    char path[2048];
    const char *sub = "";
    int too_long;
    const fss_service *s = route(st, req->path, path, &sub, &too_long);
    if (too_long) return problem(resp, "/", 404, "the path is too long", NULL);
    if (!s) {
        char msg[300];
        snprintf(msg, sizeof msg, "no Flow Service is deployed at /fs/%.200s", path);
        return problem(resp, req->path, 404, msg, NULL);
    }
    char uri[2100];
    snprintf(uri, sizeof uri, "/%s", sub);
    const char *m = req->method;
    int post = strcmp(m, "POST") == 0, put = strcmp(m, "PUT") == 0;
    if (strcmp(sub, "metadata") == 0 || strcmp(sub, "metadata/install") == 0) {
        if (!post) return method_not_allowed(resp, uri, m, "POST");
        fss_req r;
        char why[600];
        int rc = fss_req_decode(&r, FSS_REQ_DESCRIBE, req->body, req->body_len, why, sizeof why);
        fss_req_free(&r);
        if (rc) return rc < 0 ? -1 : problem(resp, uri, 400, why, NULL);
        int inst = sub[8] == '/';
        return ma_http_resp_set(resp, 200, "application/json", inst ? s->install : s->describe,
                                inst ? s->install_len : s->describe_len) < 0
                   ? -1
                   : 0;
    }
    if (strncmp(sub, "actions/", 8) == 0) {
        const fss_action *a = find_action(s, sub);
        if (a) return post ? handle_action(srv, snap, st, a, uri, req, resp) : method_not_allowed(resp, uri, m, "POST");
        char msg[300];
        snprintf(msg, sizeof msg, "the Flow Service '%.100s' has no message action at %.150s", s->name, uri);
        return problem(resp, uri, 404, msg, NULL);
    }
    /* data actions: the SDK's /data, and /listener (reference 1.2, ADAM) */
    if (strcmp(sub, "data") == 0 || strcmp(sub, "listener") == 0) {
        if (post) return handle_data(srv, snap, st, s, D_LOAD, uri, req, resp);
        if (put) return handle_data(srv, snap, st, s, D_SAVE, uri, req, resp);
        return method_not_allowed(resp, uri, m, "POST, PUT");
    }
    if (strcmp(sub, "data/delete") == 0 || strcmp(sub, "listener/delete") == 0) {
        if (!post) return method_not_allowed(resp, uri, m, "POST");
        return handle_data(srv, snap, st, s, D_DELETE, uri, req, resp);
    }
    /* file resources: the SDK's /file..., and /files... (reference 1.2, ADAM) */
    if (strcmp(sub, "file") == 0 || strcmp(sub, "files") == 0 || strcmp(sub, "file/content") == 0 ||
        strcmp(sub, "files/content") == 0 || strcmp(sub, "file/delete") == 0 || strcmp(sub, "files/delete") == 0) {
        if (!post) return method_not_allowed(resp, uri, m, "POST");
        const char *slash = strchr(sub, '/');
        file_op op = !slash ? F_LIST : strcmp(slash, "/content") == 0 ? F_UPLOAD : F_DELETE;
        return handle_file(srv, snap, st, s, op, uri, req, resp);
    }
    char msg[300];
    snprintf(msg, sizeof msg, "the Flow Service '%.100s' serves nothing at %.150s", s->name, uri);
    return problem(resp, uri, 404, msg, NULL);
}

/* Message actions may answer WAIT while their execution goes on (ma_listener.deferrable): those
 * whose process may wait on the outside world, or runs in general or bridge mode, are deferred; a
 * low-latency one that works in memory runs on the server thread, unless its path has turned slow. */
static int fss_deferrable(void *state, const ma_http_req *req)
{
    if (!req->method || strcmp(req->method, "POST") != 0) return 0;
    char path[2048];
    const char *sub = "";
    int too_long;
    const fss_service *s = route(state, req->path, path, &sub, &too_long);
    const fss_action *a = s ? find_action(s, sub) : NULL;
    if (!a) return 0;
    return a->may_wait || req->debug || a->p.mode != MA_MODE_LOW_LATENCY ? 1 : 2;
}

/* Every answer under /fs/ that is not a success is a ServiceProblem (docs/flow.md): the listener's
 * own and the server's (401, 413, 431, 503 ...). uri is the path after the service's base path. */
static int fss_problem(void *state, const ma_http_req *req, int status, const char *message, const char *execution_id,
                       ma_http_resp *resp)
{
    char path[2048], uri[2100], msg[900];
    const char *sub = "";
    int too_long = 0;
    const fss_service *s = req && req->path ? route(state, req->path, path, &sub, &too_long) : NULL;
    snprintf(uri, sizeof uri, "/%s", s ? sub : too_long || !req || !req->path ? "" : path);
    if (execution_id && *execution_id && !strstr(message, execution_id))
        snprintf(msg, sizeof msg, "%.700s (execution %s)", message, execution_id);
    else snprintf(msg, sizeof msg, "%.850s", message);
    return problem(resp, uri, status, msg, execution_id);
}

const ma_listener_type ma_listener_fss = {
    .name = "fss",
    .abi_version = MA_ABI_VERSION,
    .prefix = "/fs/",
    .config_map = fss_config_map,
    .deploy = fss_deploy,
    .undeploy = fss_undeploy,
    .handle = fss_handle,
    .deferrable = fss_deferrable,
    .recover = fss_recover,
    .problem = fss_problem,
};
