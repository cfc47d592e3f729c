/* cli.c - the miniatom commands: run (execute a process, print or write its result documents),
 * check (report per process what is not runnable), graph (DOT) and plugins (registered types).
 * Deploy folders are read with the secure loader; a process that is not runnable is refused with
 * every reason, file and line. */
#include "cli.h"
#include "scripthost.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"
#include "history.h"
#include "loader.h"
#include "process.h"
#include "registry.h"
#include "builtins.h"
#include "dataprocess_step.h"
#include "server.h"
#include "util.h"
#include "xslt.h"

#define MAX_INPUTS 100000
#define LOW_LATENCY_LIMIT_MS 30000 /* Boomi's Atom Worker limit for low-latency executions */

typedef struct common {
    const char *deploy;
    const char *plugins;
    int stub_connectors;
    ma_stub *stubs;
    size_t n_stubs;
    int json;
    ma_settings *settings; /* --config FILE, then --set (owned; NULL until the first) */
    int lazy;              /* parse only the components the process references (ma_deploy_opts.lazy) */
} common;

/* --config FILE / --set KEY=VALUE; returns -1 after printing why. */
static int add_setting_opt(common *c, int is_file, const char *arg)
{
    ma_error err;
    ma_error_clear(&err);
    if (!c->settings && !(c->settings = ma_settings_new())) {
        fprintf(stderr, "miniatom: out of memory\n");
        return -1;
    }
    if ((is_file ? ma_settings_load_file(c->settings, arg, &err) : ma_settings_add_arg(c->settings, arg, &err)) == 0)
        return 0;
    fprintf(stderr, "miniatom: %s%s\n", is_file ? "--config: " : "", err.msg);
    return -1;
}

static void report_stderr(void *ctx, const char *where, const char *why)
{
    (void)ctx;
    fprintf(stderr, "miniatom: %s: %s\n", where, why);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add_stub(common *c, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) {
        fprintf(stderr, "miniatom: --stub wants OPERATION_ID=FILE, not '%s'\n", spec);
        return -1;
    }
    ma_stub *ns = realloc(c->stubs, (c->n_stubs + 1) * sizeof *ns);
    if (!ns) return -1;
    c->stubs = ns;
    ns[c->n_stubs].operation_id = ma_strndup(spec, (size_t)(eq - spec));
    ns[c->n_stubs].file = ma_strdup(eq + 1);
    if (!ns[c->n_stubs].operation_id || !ns[c->n_stubs].file) return -1;
    if (!is_file(eq + 1)) {
        fprintf(stderr, "miniatom: --stub %s: %s is not a readable file\n", ns[c->n_stubs].operation_id, eq + 1);
        c->n_stubs++;
        return -1;
    }
    c->n_stubs++;
    return 0;
}

static void common_free(common *c)
{
    ma_settings_free(c->settings);
    c->settings = NULL;
    for (size_t i = 0; i < c->n_stubs; i++) {
        free(c->stubs[i].operation_id);
        free(c->stubs[i].file);
    }
    free(c->stubs);
}

/* The registry with every built-in type and the plugins of --plugins, and the settings checked
 * against every declared config map; NULL after saying why (*rc: the exit status). */
static ma_registry *make_registry(const common *c, int *rc)
{
    ma_error err;
    ma_error_clear(&err);
    *rc = MA_EXIT_DEPLOY;
    ma_registry *reg = ma_builtins_registry(&err);
    if (!reg || (c->plugins && ma_registry_load_plugins(reg, c->plugins, &err) < 0)) {
        fprintf(stderr, "miniatom: %s\n", err.msg);
        ma_registry_free(reg);
        return NULL;
    }
    int problems = ma_settings_check(reg, c->settings, report_stderr, NULL);
    if (problems) {
        fprintf(stderr, "miniatom: %d problem%s in the configuration\n", problems, problems == 1 ? "" : "s");
        ma_registry_free(reg);
        *rc = MA_EXIT_USAGE;
        return NULL;
    }
    return reg;
}

static ma_deploy *make_deploy(const common *c, const ma_registry *reg)
{
    ma_deploy_opts o;
    memset(&o, 0, sizeof o);
    o.stub_connectors = c->stub_connectors;
    o.stubs = c->stubs;
    o.n_stubs = c->n_stubs;
    o.settings = c->settings;
    o.lazy = c->lazy;
    return ma_deploy_new(reg, &o);
}

/* Prints every problem of comp and of the processes it calls (once each). */
static void print_problems_of(const ma_deploy *dep, const ma_component *comp)
{
    char **lines;
    size_t n = ma_deploy_reasons(dep, comp, 1, dep->n_problems + 1, &lines);
    for (size_t i = 0; i < n; i++) fprintf(stderr, "  %s\n", lines[i]);
    ma_strings_free(lines, n);
}

/* Loads the deployment and finds PROCESS (id, name or component file). */
static int load_for_process(const common *c, const ma_registry *reg, const char *process, ma_deploy **depo,
                            ma_component **compo)
{
    ma_error err;
    ma_error_clear(&err);
    ma_deploy *dep = make_deploy(c, reg);
    if (!dep) return MA_EXIT_FAILED;
    *depo = dep;
    const char *deploy = c->deploy;
    char *dirbuf = NULL;
    int from_file = is_file(process);
    if (!deploy) {
        if (from_file) {
            dirbuf = ma_strdup(process);
            deploy = dirbuf ? dirname(dirbuf) : ".";
        } else {
            deploy = is_dir("processes") ? "processes" : ".";
        }
    }
    if (ma_deploy_add_dir(dep, deploy, &err) < 0) {
        fprintf(stderr, "miniatom: cannot load the deployment: %s\n", err.msg);
        free(dirbuf);
        return MA_EXIT_DEPLOY;
    }
    free(dirbuf);
    ma_component *comp = NULL;
    if (from_file) {
        char *real = realpath(process, NULL);
        for (size_t i = 0; real && i < dep->n && !comp; i++) {
            char *r2 = realpath(dep->comps[i]->file, NULL);
            if (r2 && strcmp(r2, real) == 0) comp = dep->comps[i];
            free(r2);
        }
        free(real);
        if (!comp) {
            /* a file outside the deploy folder: add it */
            if (ma_deploy_add_file(dep, process, &err) < 0) {
                fprintf(stderr, "miniatom: %s\n", err.msg);
                return MA_EXIT_DEPLOY;
            }
            comp = dep->comps[dep->n - 1];
        }
    } else {
        comp = ma_deploy_find_process(dep, process);
    }
    if (!comp && dep->n_problems) { /* it is there, but its file could not be read (a lazy deployment) */
        for (size_t i = 0; i < dep->n_problems; i++) fprintf(stderr, "miniatom: %s\n", dep->problems[i].message);
        return MA_EXIT_DEPLOY;
    }
    if (!comp) {
        fprintf(stderr,
                "miniatom: no process '%s' in %s (give a componentId, a unique process name, or a component file)\n",
                process, deploy);
        return MA_EXIT_DEPLOY;
    }
    if (strcmp(comp->type, "process") != 0) {
        fprintf(stderr, "miniatom: %s (%s, %s) is a component of type '%s', not a process\n", comp->name, comp->id,
                comp->file, comp->type);
        return MA_EXIT_DEPLOY;
    }
    *compo = comp;
    return 0;
}

static int deploy_process(ma_deploy *dep, ma_component *comp)
{
    if (ma_deploy_compile_process(dep, comp) == 0 && comp->process && comp->process->runnable) return 0;
    fprintf(stderr, "miniatom: process '%s' (%s) is not runnable:\n", comp->name, comp->id);
    print_problems_of(dep, comp);
    return MA_EXIT_DEPLOY;
}

static json_t *doc_props_json(const ma_doc *d)
{
    json_t *o = json_object();
    for (size_t i = 0; i < ma_doc_prop_count(d); i++) {
        const char *k, *v;
        ma_doc_prop_at(d, i, &k, &v);
        json_object_set_new(o, k, json_string(v));
    }
    return o;
}

static const char *level_name(ma_log_level l)
{
    return l == MA_LOG_ERROR ? "ERROR" : l == MA_LOG_WARNING ? "WARNING" : "INFO";
}

static json_t *summary_json(const ma_component *comp, const ma_result *res, int with_docs)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(ma_status_name(res->status)));
    json_object_set_new(o, "executionId", json_string(res->execution_id));
    json_object_set_new(o, "processId", json_string(comp->id));
    json_object_set_new(o, "processName", json_string(comp->name));
    if (res->message) json_object_set_new(o, "message", json_string(res->message));
    json_object_set_new(o, "durationMs", json_real((double)res->duration_ns / 1e6));
    json_object_set_new(o, "documentErrors", json_integer((json_int_t)res->doc_errors));
    json_object_set_new(o, "resultCount", json_integer((json_int_t)res->docs.len));
    json_t *shapes = json_array();
    for (size_t i = 0; i < res->n_counts; i++) {
        const ma_shape *s = &comp->process->shapes[i];
        json_t *so = json_object();
        json_object_set_new(so, "shape", json_string(s->name));
        json_object_set_new(so, "type", json_string(s->type_name));
        json_object_set_new(so, "label", json_string(s->label));
        json_object_set_new(so, "documents", json_integer((json_int_t)res->counts[i]));
        json_array_append_new(shapes, so);
    }
    json_object_set_new(o, "shapes", shapes);
    json_t *log = json_array();
    for (size_t i = 0; i < res->n_log; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "time", json_string(res->log[i].time));
        json_object_set_new(e, "level", json_string(level_name(res->log[i].level)));
        json_object_set_new(e, "shape", json_string(res->log[i].shape));
        json_object_set_new(e, "message", json_string(res->log[i].message));
        json_array_append_new(log, e);
    }
    json_object_set_new(o, "log", log);
    if (with_docs) {
        json_t *docs = json_array();
        for (size_t i = 0; i < res->docs.len; i++) {
            size_t len;
            const char *data = ma_doc_data(res->docs.docs[i], &len);
            json_t *d = json_object();
            json_object_set_new(d, "data", json_stringn(data, len));
            json_object_set_new(d, "properties", doc_props_json(res->docs.docs[i]));
            json_array_append_new(docs, d);
        }
        json_object_set_new(o, "results", docs);
    }
    return o;
}

/* General mode records every execution in full in the execution history, DATA/history.db
 * (history.h): status, times, per-shape counts, the user log and every result document with its
 * properties. A record that cannot be written is reported, not fatal. */
static void write_record(const char *data_dir, const ma_component *comp, const ma_result *res)
{
    ma_error err;
    ma_error_clear(&err);
    ma_history *h = ma_history_open(data_dir, NULL, &err);
    if (!h || ma_history_begin(h, res->execution_id, comp->id, comp->name, "general", "cli", NULL, 1, &err) < 0 ||
        ma_history_end(h, res->execution_id, comp->process, res, 1, &err) < 0)
        fprintf(stderr, "miniatom: warning: the execution record was not written: %s\n",
                err.msg[0] ? err.msg : "out of memory");
    ma_history_close(h);
}

static int write_results(const char *dir, const ma_result *res)
{
    ma_error err;
    ma_error_clear(&err);
    if (ma_mkdirs(dir, &err) < 0) {
        fprintf(stderr, "miniatom: --out: %s\n", err.msg);
        return -1;
    }
    for (size_t i = 0; i < res->docs.len; i++) {
        char path[4096];
        size_t len;
        const char *data = ma_doc_data(res->docs.docs[i], &len);
        snprintf(path, sizeof path, "%s/%04zu.dat", dir, i + 1);
        if (ma_write_file(path, data, len, &err) < 0) goto fail;
        json_t *p = doc_props_json(res->docs.docs[i]);
        char *text = json_dumps(p, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(p);
        snprintf(path, sizeof path, "%s/%04zu.properties.json", dir, i + 1);
        int rc = text ? ma_write_file(path, text, strlen(text), &err) : -1;
        free(text);
        if (rc < 0) goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "miniatom: --out: %s\n", err.msg);
    return -1;
}

static void run_usage(FILE *f)
{
    fprintf(f, "Usage: miniatom run [OPTIONS] PROCESS\n"
               "\n"
               "Runs PROCESS (a componentId, a process name, or a component XML file) and prints its result\n"
               "documents: those that reach Return Documents shapes or, in a process without one, those that\n"
               "reach the ends of its paths, in the order they arrive.\n"
               "\n"
               "Options:\n"
               "  --deploy DIR           deploy folder of component XML files (default: ./processes, else .;\n"
               "                         for a component file: its folder)\n"
               "  --input FILE           a document for a passthrough or listener start (repeat for more)\n"
               "  -p, --property NAME=VALUE\n"
               "                         set a dynamic process property; COMPONENT/PROPERTY=VALUE sets a\n"
               "                         property of a process property component (id or name / key or label)\n"
               "  --mode general|low_latency   general records the execution in full (DATA/history.db) with no\n"
               "                         time limit; low_latency records nothing but errors and stops after\n"
               "                         30 s unless --timeout says otherwise (default: the process's workload)\n"
               "  --data DIR             folder for persisted process properties (default: ./data)\n"
               "  --out DIR              write results as DIR/0001.dat and DIR/0001.properties.json, ...\n"
               "  --json                 print an execution summary as JSON (with the results unless --out)\n"
               "  --stub-connectors[=all]  connector steps without an implementation pass documents through;\n"
               "                         with =all every connector step does (nothing leaves the machine)\n"
               "  --stub OPERATION_ID=FILE   that operation returns FILE's content for each document\n"
               "  --plugins DIR          load shape and connector plugins (*.so) from DIR\n"
               "  --config FILE          settings, one 'key = value' per line (connection.<id or name>.<field>,\n"
               "                         connector.map.<connectorType> ...; see docs/configuration.md)\n"
               "  --set KEY=VALUE        one setting; wins over --config\n"
               "  --timeout DURATION     abort the execution after DURATION, maps included (status ABORTED):\n"
               "                         500ms, 2s, 1m; a bare number is milliseconds\n"
               "  --max-memory SIZE      end the execution with ERROR when it holds more than SIZE (64MB,\n"
               "                         1GB; 0: no limit; default: the setting execution.max_memory, 256MB)\n"
               "  --retry-scale X        multiply Try/Catch retry waits by X (default 1; 0 retries at once)\n"
               "  -h, --help             this help\n"
               "\n"
               "Exit status: 0 COMPLETE or COMPLETE_WARN, 1 ERROR or ABORTED, 2 usage error, 3 deploy error.\n");
}

/* execution.max_memory from the settings (checked already), else its default. */
static uint64_t setting_max_memory(const ma_settings *s)
{
    const ma_config_entry *e = ma_config_find(ma_server_config_map, "execution.max_memory");
    const char *v = s ? ma_settings_get(s, "execution.max_memory") : NULL;
    uint64_t n = 0;
    char why[200];
    if (e && ma_config_parse(e, v ? v : e->def, &n, why, sizeof why) < 0) n = 0;
    return n;
}

enum {
    OPT_DEPLOY = 256,
    OPT_INPUT,
    OPT_MODE,
    OPT_DATA,
    OPT_OUT,
    OPT_JSON,
    OPT_STUBS,
    OPT_STUB,
    OPT_PLUGINS,
    OPT_TIMEOUT,
    OPT_MAX_MEMORY,
    OPT_RETRY,
    OPT_CONFIG,
    OPT_SET
};

int ma_cli_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"deploy", required_argument, 0, OPT_DEPLOY},
        {"input", required_argument, 0, OPT_INPUT},
        {"property", required_argument, 0, 'p'},
        {"mode", required_argument, 0, OPT_MODE},
        {"data", required_argument, 0, OPT_DATA},
        {"out", required_argument, 0, OPT_OUT},
        {"json", no_argument, 0, OPT_JSON},
        {"stub-connectors", optional_argument, 0, OPT_STUBS},
        {"stub", required_argument, 0, OPT_STUB},
        {"plugins", required_argument, 0, OPT_PLUGINS},
        {"timeout", required_argument, 0, OPT_TIMEOUT},
        {"max-memory", required_argument, 0, OPT_MAX_MEMORY},
        {"retry-scale", required_argument, 0, OPT_RETRY},
        {"config", required_argument, 0, OPT_CONFIG},
        {"set", required_argument, 0, OPT_SET},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    common c;
    memset(&c, 0, sizeof c);
    c.lazy = 1; /* one process runs: only what it references is parsed */
    const char **inputs = NULL, **props = NULL;
    size_t n_inputs = 0, n_props = 0;
    ma_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.general_mode = -1; /* from the process's workload unless --mode says */
    ro.retry_scale = 1.0;
    int timeout_set = 0, max_memory_set = 0;
    uint64_t max_memory = 0;
    const char *out_dir = NULL;
    int rc = MA_EXIT_USAGE, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        switch (o) {
        case OPT_DEPLOY: c.deploy = optarg; break;
        case OPT_INPUT:
        case 'p': {
            const char ***arr = o == 'p' ? &props : &inputs;
            size_t *n = o == 'p' ? &n_props : &n_inputs;
            if (*n >= MAX_INPUTS) {
                fprintf(stderr, "miniatom: too many %s\n", o == 'p' ? "properties" : "inputs");
                goto out;
            }
            const char **na = realloc(*arr, (*n + 1) * sizeof *na);
            if (!na) goto out;
            *arr = na;
            na[(*n)++] = optarg;
            break;
        }
        case OPT_MODE:
            if (strcmp(optarg, "general") == 0) ro.general_mode = 1;
            else if (strcmp(optarg, "low_latency") == 0) ro.general_mode = 0;
            else {
                fprintf(stderr, "miniatom: --mode is general or low_latency, not '%s'\n", optarg);
                goto out;
            }
            break;
        case OPT_DATA: ro.data_dir = optarg; break;
        case OPT_OUT: out_dir = optarg; break;
        case OPT_JSON: c.json = 1; break;
        case OPT_STUBS:
            if (optarg && strcmp(optarg, "all") != 0) {
                fprintf(stderr, "miniatom: --stub-connectors takes no value or =all, not '%s'\n", optarg);
                return MA_EXIT_USAGE;
            }
            c.stub_connectors = optarg ? 2 : 1;
            break;
        case OPT_STUB:
            if (add_stub(&c, optarg) < 0) goto out;
            break;
        case OPT_PLUGINS: c.plugins = optarg; break;
        case OPT_CONFIG:
        case OPT_SET:
            if (add_setting_opt(&c, o == OPT_CONFIG, optarg) < 0) goto out;
            break;
        case OPT_TIMEOUT: {
            /* a duration with its unit (the settings' grammar); a bare number stays milliseconds */
            static const ma_config_entry dur = {.key = "--timeout", .kind = MA_CONFIG_DURATION};
            char why[200];
            uint64_t v;
            if (*optarg && strspn(optarg, "0123456789") == strlen(optarg) && strlen(optarg) < 16) {
                v = strtoull(optarg, NULL, 10);
            } else if (ma_config_parse(&dur, optarg, &v, why, sizeof why) < 0) {
                fprintf(stderr, "miniatom: --timeout: %s\n", why);
                goto out;
            }
            ro.timeout_ms = v;
            timeout_set = 1;
            break;
        }
        case OPT_MAX_MEMORY: {
            static const ma_config_entry size = {.key = "--max-memory", .kind = MA_CONFIG_SIZE};
            char why[200];
            if (ma_config_parse(&size, optarg, &max_memory, why, sizeof why) < 0) {
                fprintf(stderr, "miniatom: --max-memory: %s\n", why);
                goto out;
            }
            max_memory_set = 1;
            break;
        }
        case OPT_RETRY: {
            char *end;
            double v = strtod(optarg, &end);
            if (*end || !*optarg || v < 0) {
                fprintf(stderr, "miniatom: --retry-scale wants a number >= 0, not '%s'\n", optarg);
                goto out;
            }
            ro.retry_scale = v;
            break;
        }
        case 'h':
            run_usage(stdout);
            rc = 0;
            goto out;
        default: run_usage(stderr); goto out;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "miniatom run: name one PROCESS\n\n");
        run_usage(stderr);
        goto out;
    }
    ro.props = props;
    ro.n_props = n_props;
    for (size_t i = 0; i < n_props; i++)
        if (!strchr(props[i], '=') || props[i][0] == '=') {
            fprintf(stderr, "miniatom: -p wants NAME=VALUE, not '%s'\n", props[i]);
            goto out;
        }
    /* inputs are read before anything runs: a missing file is a usage error */
    ma_batch input;
    ma_batch_init(&input);
    for (size_t i = 0; i < n_inputs; i++) {
        ma_error err;
        size_t len;
        char *data = ma_read_file(inputs[i], MA_DOC_MAX_SIZE, &len, &err);
        if (!data) {
            fprintf(stderr, "miniatom: --input: %s\n", err.msg);
            ma_batch_clear(&input);
            goto out;
        }
        ma_doc *d = ma_doc_new_owned(data, len);
        if (!d || ma_batch_push(&input, d) < 0) {
            ma_batch_clear(&input);
            rc = MA_EXIT_FAILED;
            goto out;
        }
    }
    ma_registry *reg = make_registry(&c, &rc);
    if (!reg) {
        ma_batch_clear(&input);
        goto out;
    }
    ma_deploy *dep = NULL;
    ma_component *comp = NULL;
    rc = load_for_process(&c, reg, argv[optind], &dep, &comp);
    if (rc == 0) rc = deploy_process(dep, comp);
    if (rc == 0) {
        if (input.len && comp->process->start_kind == MA_START_NODATA)
            fprintf(stderr, "miniatom: note: process '%s' starts with No Data; the --input documents are not used\n",
                    comp->name);
        if (ro.general_mode < 0) ro.general_mode = !comp->process->low_latency;
        if (!ro.general_mode && !timeout_set) ro.timeout_ms = LOW_LATENCY_LIMIT_MS;
        if (max_memory_set) {
            ro.max_memory = max_memory;
            ro.max_memory_key = "--max-memory";
        } else {
            ro.max_memory = setting_max_memory(c.settings);
        }
        ma_result res;
        ma_error err;
        ma_error_clear(&err);
        if (ma_execute(dep, comp->process, &input, &ro, &res, &err) < 0) {
            fprintf(stderr, "miniatom: %s\n", err.msg);
            rc = err.code == MA_ERR_USAGE ? MA_EXIT_USAGE : MA_EXIT_FAILED;
        } else {
            if (ro.general_mode) write_record(ro.data_dir ? ro.data_dir : "./data", comp, &res);
            rc =
                res.status == MA_STATUS_COMPLETE || res.status == MA_STATUS_COMPLETE_WARN ? MA_EXIT_OK : MA_EXIT_FAILED;
            if (out_dir && write_results(out_dir, &res) < 0) rc = MA_EXIT_FAILED;
            if (c.json) {
                json_t *s = summary_json(comp, &res, out_dir == NULL);
                json_dumpf(s, stdout, JSON_INDENT(2));
                fputc('\n', stdout);
                json_decref(s);
            } else if (!out_dir) {
                for (size_t i = 0; i < res.docs.len; i++) {
                    size_t len;
                    const char *data = ma_doc_data(res.docs.docs[i], &len);
                    fwrite(data, 1, len, stdout);
                    if (!len || data[len - 1] != '\n') fputc('\n', stdout);
                }
            }
            if (res.status != MA_STATUS_COMPLETE)
                fprintf(stderr, "miniatom: %s %s: %s\n", res.execution_id, ma_status_name(res.status),
                        res.message ? res.message : "");
            ma_result_free(&res);
        }
    }
    ma_batch_clear(&input);
    ma_deploy_free(dep);
    ma_registry_free(reg);
out:
    free(inputs);
    free(props);
    common_free(&c);
    return rc;
}

/* ---- check ---- */

typedef struct check_ctx {
    json_t *errors;
    int bad_files, dup;
} check_ctx;

static void on_load_error(void *vctx, const ma_error *e)
{
    check_ctx *ctx = vctx;
    if (e->code == MA_ERR_PARSE || e->code == MA_ERR_IO || e->code == MA_ERR_LIMIT) ctx->bad_files++;
    else ctx->dup++;
    json_array_append_new(ctx->errors, json_string(e->msg));
}

static void check_usage(FILE *f)
{
    fprintf(f, "Usage: miniatom check [--deploy DIR | FILE...] [--json] [--stub-connectors[=all]] [--plugins DIR]\n"
               "                      [--config FILE] [--set KEY=VALUE]...\n"
               "\n"
               "Loads every component and prints, per process, its shapes by type and what is not runnable\n"
               "here: unsupported shape types or steps, connector types without an implementation, missing\n"
               "references, invalid configuration, each with file and line.\n"
               "\n"
               "Exit status: 0 every process is runnable, 3 some are not, 1 a file is not well-formed XML or\n"
               "not a component, 2 usage error.\n");
}

/* Deploys every listener type on dep as serve would (its routes, its settings): 1 when all accept
 * it, else 0 after printing why. */
static int check_listeners(const ma_registry *reg, ma_deploy *dep, int json)
{
    int ok = 1;
    for (size_t i = 0; i < reg->n_listeners; i++) {
        const ma_listener_type *lt = reg->listeners[i];
        void *state = NULL;
        ma_error err;
        ma_error_clear(&err);
        if (!lt->deploy) continue;
        if (lt->deploy(NULL, dep, &state, &err) < 0) {
            fprintf(json ? stderr : stdout, "LISTENER ERROR  %s (%s): %s\n", lt->name, lt->prefix, err.msg);
            ok = 0;
        } else if (lt->undeploy) {
            lt->undeploy(state);
        }
    }
    return ok;
}

int ma_cli_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"deploy", required_argument, 0, OPT_DEPLOY},
        {"json", no_argument, 0, OPT_JSON},
        {"stub-connectors", optional_argument, 0, OPT_STUBS},
        {"plugins", required_argument, 0, OPT_PLUGINS},
        {"config", required_argument, 0, OPT_CONFIG},
        {"set", required_argument, 0, OPT_SET},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    common c;
    memset(&c, 0, sizeof c);
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case OPT_DEPLOY: c.deploy = optarg; break;
        case OPT_CONFIG:
        case OPT_SET:
            if (add_setting_opt(&c, o == OPT_CONFIG, optarg) < 0) {
                common_free(&c);
                return MA_EXIT_USAGE;
            }
            break;
        case OPT_JSON: c.json = 1; break;
        case OPT_STUBS:
            if (optarg && strcmp(optarg, "all") != 0) {
                fprintf(stderr, "miniatom: --stub-connectors takes no value or =all, not '%s'\n", optarg);
                return MA_EXIT_USAGE;
            }
            c.stub_connectors = optarg ? 2 : 1;
            break;
        case OPT_PLUGINS: c.plugins = optarg; break;
        case 'h': check_usage(stdout); return 0;
        default: check_usage(stderr); return MA_EXIT_USAGE;
        }
    }
    if (c.deploy && optind < argc) {
        fprintf(stderr, "miniatom check: give --deploy DIR or files, not both\n");
        return MA_EXIT_USAGE;
    }
    int rc = 0;
    ma_registry *reg = make_registry(&c, &rc);
    if (!reg) {
        common_free(&c);
        return rc;
    }
    ma_deploy *dep = make_deploy(&c, reg);
    check_ctx ctx = {.errors = json_array()};
    ma_error err;
    ma_error_clear(&err);
    if (optind < argc) {
        for (int i = optind; i < argc; i++)
            if (ma_deploy_add_file(dep, argv[i], &err) < 0) {
                on_load_error(&ctx, &err);
                ma_error_clear(&err);
            }
    } else if (ma_deploy_add_dir_report(dep, c.deploy ? c.deploy : (is_dir("processes") ? "processes" : "."),
                                        on_load_error, &ctx, &err) < 0) {
        fprintf(stderr, "miniatom: %s\n", err.msg);
        json_decref(ctx.errors);
        ma_deploy_free(dep);
        ma_registry_free(reg);
        return MA_EXIT_USAGE;
    }
    size_t bad = ma_deploy_compile(dep);
    json_t *procs = json_array();
    size_t n_proc = 0;
    for (size_t i = 0; i < dep->n; i++) {
        ma_component *comp = dep->comps[i];
        if (strcmp(comp->type, "process") != 0) continue;
        n_proc++;
        ma_process *p = comp->process;
        json_t *po = json_object();
        json_object_set_new(po, "id", json_string(comp->id));
        json_object_set_new(po, "name", json_string(comp->name));
        json_object_set_new(po, "file", json_string(comp->file));
        json_object_set_new(po, "runnable", json_boolean(p && p->runnable));
        json_t *types = json_object();
        for (size_t k = 0; p && k < p->n_shapes; k++) {
            json_t *cnt = json_object_get(types, p->shapes[k].type_name);
            json_object_set_new(types, p->shapes[k].type_name, json_integer(cnt ? json_integer_value(cnt) + 1 : 1));
        }
        json_object_set_new(po, "shapes", types);
        json_t *probs = json_array();
        for (size_t k = 0; k < dep->n_problems; k++) {
            ma_problem *pr = &dep->problems[k];
            if (strcmp(pr->component_id, comp->id) != 0) continue;
            json_t *jo = json_object();
            json_object_set_new(jo, "file", json_string(pr->file));
            json_object_set_new(jo, "line", json_integer(pr->line));
            json_object_set_new(jo, "shape", json_string(pr->shape));
            json_object_set_new(jo, "label", json_string(pr->label));
            json_object_set_new(jo, "shapetype", json_string(pr->shapetype));
            json_object_set_new(jo, "kind",
                                json_string(pr->code == MA_ERR_UNSUPPORTED ? "unsupported"
                                            : pr->code == MA_ERR_REF       ? "missing-reference"
                                                                           : "invalid"));
            json_object_set_new(jo, "message", json_string(pr->message));
            json_array_append_new(probs, jo);
        }
        json_object_set_new(po, "problems", probs);
        json_array_append_new(procs, po);
    }
    if (c.json) {
        json_t *jo_out = json_object();
        json_object_set_new(jo_out, "components", json_integer((json_int_t)dep->n));
        json_object_set_new(jo_out, "processes", procs);
        json_object_set_new(jo_out, "notRunnable", json_integer((json_int_t)bad));
        json_object_set_new(jo_out, "loadErrors", json_incref(ctx.errors));
        json_dumpf(jo_out, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(jo_out);
    } else {
        size_t idx;
        json_t *po;
        json_array_foreach (procs, idx, po) {
            int ok = json_is_true(json_object_get(po, "runnable"));
            printf("%s  %s (%s)\n    %s\n    shapes:", ok ? "runnable    " : "NOT RUNNABLE",
                   json_string_value(json_object_get(po, "name")), json_string_value(json_object_get(po, "id")),
                   json_string_value(json_object_get(po, "file")));
            const char *k;
            json_t *v;
            json_object_foreach (json_object_get(po, "shapes"), k, v)
                printf(" %s=%lld", k, (long long)json_integer_value(v));
            printf("\n");
            for (size_t k2 = 0; k2 < dep->n_problems; k2++) {
                if (strcmp(dep->problems[k2].component_id, json_string_value(json_object_get(po, "id"))) != 0) continue;
                char *line = ma_problem_format(&dep->problems[k2]);
                printf("    - %s\n", line ? line : dep->problems[k2].message);
                free(line);
            }
        }
        size_t ei;
        json_t *ev;
        json_array_foreach (ctx.errors, ei, ev) printf("LOAD ERROR  %s\n", json_string_value(ev));
        printf("%zu components, %zu processes, %zu not runnable, %zu files not loaded\n", dep->n, n_proc, bad,
               json_array_size(ctx.errors));
        json_decref(procs);
    }
    int listeners_ok = check_listeners(reg, dep, c.json);
    rc = ctx.bad_files ? MA_EXIT_FAILED : (bad || ctx.dup || !listeners_ok) ? MA_EXIT_DEPLOY : MA_EXIT_OK;
    json_decref(ctx.errors);
    ma_deploy_free(dep);
    ma_registry_free(reg);
    common_free(&c);
    return rc;
}

/* ---- graph, plugins ---- */

int ma_cli_graph(int argc, char **argv)
{
    static const struct option opts[] = {
        {"deploy", required_argument, 0, OPT_DEPLOY},
        {"plugins", required_argument, 0, OPT_PLUGINS},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    common c;
    memset(&c, 0, sizeof c);
    c.stub_connectors = 1; /* draw processes whose connectors are not implemented, too */
    c.lazy = 1;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case OPT_DEPLOY: c.deploy = optarg; break;
        case OPT_PLUGINS: c.plugins = optarg; break;
        case 'h':
            printf(
                "Usage: miniatom graph [--deploy DIR] PROCESS\n\nPrints PROCESS as Graphviz DOT: shapes with their "
                "names, types and labels; paths with their identifiers.\n\nOptions:\n  --deploy DIR    deploy folder (default: ./processes, else .)\n  --plugins DIR   load shape and connector plugins (*.so) from DIR\n\nRender it with: miniatom graph P | dot -Tsvg > p.svg\n");
            return 0;
        default: return MA_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "Usage: miniatom graph [--deploy DIR] PROCESS\n");
        return MA_EXIT_USAGE;
    }
    int rc;
    ma_registry *reg = make_registry(&c, &rc);
    if (!reg) return rc;
    ma_deploy *dep = NULL;
    ma_component *comp = NULL;
    rc = load_for_process(&c, reg, argv[optind], &dep, &comp);
    if (rc == 0) {
        ma_deploy_compile_process(dep, comp);
        char *dot = comp->process ? ma_process_to_dot(comp->process) : NULL;
        if (dot) fputs(dot, stdout);
        else rc = MA_EXIT_DEPLOY;
        free(dot);
    }
    ma_deploy_free(dep);
    ma_registry_free(reg);
    return rc;
}

static void print_settings(const ma_config_entry *map, const char *prefix)
{
    static const char *const kinds[] = {"string", "bool", "uint", "size", "duration", "file", "dir", "enum"};
    if (!map || !map->key) return;
    printf("    settings:\n");
    for (const ma_config_entry *e = map; e->key; e++) {
        printf("      %s%s (%s", prefix, e->key, kinds[e->kind]);
        if (e->max)
            printf(", %llu to %llu%s", e->min, e->max,
                   e->kind == MA_CONFIG_SIZE       ? " bytes"
                   : e->kind == MA_CONFIG_DURATION ? " ms"
                                                   : "");
        if (e->choices)
            for (size_t k = 0; e->choices[k]; k++) printf("%s%s", k ? "|" : ", ", e->choices[k]);
        if (e->def) printf(", default %s", e->def);
        if (e->flags & MA_CONFIG_SECRET) printf(", secret");
        printf(")%s%s\n", e->description ? ": " : "", e->description ? e->description : "");
    }
}

int ma_cli_plugins(int argc, char **argv)
{
    static const struct option opts[] = {
        {"plugins", required_argument, 0, OPT_PLUGINS},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    common c;
    memset(&c, 0, sizeof c);
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case OPT_PLUGINS: c.plugins = optarg; break;
        case 'h':
            printf(
                "Usage: miniatom plugins [--plugins DIR]\n\nLists every registered shape, connector and listener type, "
                "with the settings each declares.\n");
            return 0;
        default: return MA_EXIT_USAGE;
        }
    }
    int rc;
    ma_registry *reg = make_registry(&c, &rc);
    if (!reg) return rc;
    printf("shape types (%zu):\n", reg->n_shapes);
    for (size_t i = 0; i < reg->n_shapes; i++) printf("  %s\n", reg->shapes[i]->name);
    printf("connector types (%zu):\n", reg->n_connectors);
    for (size_t i = 0; i < reg->n_connectors; i++) {
        const ma_connector_type *t = reg->connectors[i];
        printf("  %s\n", t->name);
        if (t->actions) {
            printf("    actions:");
            for (const char *const *a = t->actions; *a; a++) printf("%s %s", a == t->actions ? "" : ",", *a);
            printf("\n");
        }
        if (t->objects) {
            printf("    objects:");
            for (const char *const *a = t->objects; *a; a++) printf("%s %s", a == t->objects ? "" : ",", *a);
            printf("\n");
        }
        print_settings(t->config_map, "connection.<id or name>.");
    }
    printf("listener types (%zu):\n", reg->n_listeners);
    for (size_t i = 0; i < reg->n_listeners; i++) {
        const ma_listener_type *t = reg->listeners[i];
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%s.", t->name);
        printf("  %s %s\n", t->name, t->prefix);
        print_settings(t->config_map, prefix);
    }
    printf("data process steps in their own files (the others are in docs/support-matrix.md):\n");
    for (size_t i = 0; ma_dp_step_kinds[i]; i++) {
        const ma_dp_step_kind *k = ma_dp_step_kinds[i];
        if (k->processtype >= 0) printf("  %s (processtype %d)\n", k->name, k->processtype);
        else printf("  %s (recognized by its step name)\n", k->name);
        if (!k->config_map) continue;
        int shown = 0; /* kinds sharing a map list it once */
        for (size_t j = 0; j < i; j++) shown |= ma_dp_step_kinds[j]->config_map == k->config_map;
        if (shown) printf("    settings: as above\n");
        else print_settings(k->config_map, k->settings_prefix);
    }
    {
        char why[700];
        ma_script_cfg sc;
        memset(&sc, 0, sizeof sc);
        ma_error e;
        int ok = ma_config_read(ma_script_config_map, MA_SCRIPT_PREFIX, NULL, &sc, &e) == 0 &&
                 ma_script_available(&sc, why, sizeof why);
        printf("custom scripting (Data Process processtype 12): %s\n", ok ? "groovy, groovy2, javascript" : why);
        print_settings(ma_script_config_map, MA_SCRIPT_PREFIX);
    }
    if (reg->n_handles) {
        printf("plugins loaded:\n");
        for (size_t i = 0; i < reg->n_handles; i++) printf("  %s\n", reg->handle_paths[i]);
    }
    ma_registry_free(reg);
    return 0;
}

/* ---- map compile ---- */

static void map_usage(FILE *f)
{
    fprintf(f, "Usage: miniatom map compile [--deploy DIR] MAP\n"
               "\n"
               "Prints the XSLT stylesheet that MAP (a componentId or a unique name of a transform.map or xslt\n"
               "component) runs as: the stylesheet generated from a Boomi Map component, or the XSLT component's\n"
               "own. Keep it, read it, or turn it into an XSLT component of your own.\n"
               "\n"
               "Options:\n"
               "  --deploy DIR    deploy folder (default: ./processes, else .)\n"
               "\n"
               "Exit status: 0 printed, 2 usage error, 3 the map cannot be compiled (the reason is printed).\n");
}

int ma_cli_map(int argc, char **argv)
{
    static const struct option opts[] = {
        {"deploy", required_argument, 0, OPT_DEPLOY},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    common c;
    memset(&c, 0, sizeof c);
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case OPT_DEPLOY: c.deploy = optarg; break;
        case 'h': map_usage(stdout); return 0;
        default: map_usage(stderr); return MA_EXIT_USAGE;
        }
    }
    if (optind != argc - 2 || strcmp(argv[optind], "compile") != 0) {
        map_usage(stderr);
        return MA_EXIT_USAGE;
    }
    const char *id = argv[optind + 1];
    int rc;
    ma_registry *reg = make_registry(&c, &rc);
    if (!reg) return rc;
    rc = 0;
    ma_deploy *dep = make_deploy(&c, reg);
    ma_error err;
    ma_error_clear(&err);
    const char *dir = c.deploy ? c.deploy : (is_dir("processes") ? "processes" : ".");
    if (!dep || ma_deploy_add_dir(dep, dir, &err) < 0) {
        fprintf(stderr, "miniatom: cannot load the deployment: %s\n", err.msg);
        rc = MA_EXIT_DEPLOY;
    } else {
        ma_component *m = ma_deploy_find(dep, id);
        for (size_t i = 0; !m && i < dep->n; i++)
            if ((strcmp(dep->comps[i]->type, "transform.map") == 0 || strcmp(dep->comps[i]->type, "xslt") == 0) &&
                strcmp(dep->comps[i]->name, id) == 0)
                m = dep->comps[i];
        char *text = m ? ma_xslt_text(dep, m->id, &err) : NULL;
        const ma_xslt *x = text ? ma_xslt_for(dep, m->id, &err) : NULL; /* it must also compile */
        if (!m) {
            fprintf(stderr, "miniatom: no map '%s' in %s\n", id, dir);
            rc = MA_EXIT_DEPLOY;
        } else if (!text || !x) {
            fprintf(stderr, "miniatom: %s\n", err.msg);
            rc = MA_EXIT_DEPLOY;
        } else {
            fputs(text, stdout);
            if (!*text || text[strlen(text) - 1] != '\n') fputc('\n', stdout);
        }
        free(text);
    }
    ma_deploy_free(dep);
    ma_registry_free(reg);
    return rc;
}
