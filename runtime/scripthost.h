/* scripthost.h - the client of the script host (scripthost/, docs/decisions/019-scripting.md): one
 * long-lived JVM per miniatom process that runs Custom Scripting (Groovy, JavaScript) batches.
 * It is started by the first script run (never at deploy or serve start), kept warm, and killed and
 * restarted when it dies or runs past a timeout. Thread-safe: one request at a time (a mutex), so
 * script batches of concurrent executions wait for each other. */
#ifndef MA_SCRIPTHOST_H
#define MA_SCRIPTHOST_H

#include <stdint.h>

#include "miniatom/config.h"
#include "miniatom/document.h"
#include "miniatom/error.h"

/* The script.* settings (docs/user-guide.md "Custom Scripting"); keys without the prefix. */
extern const ma_config_entry ma_script_config_map[];
#define MA_SCRIPT_PREFIX "script."

/* The host's settings, read with ma_config_read(ma_script_config_map, "script.", ...). Strings are
 * borrowed from the settings or the map. */
typedef struct ma_script_cfg {
    uint64_t timeout_ms; /* script.timeout: one batch's run */
    const char *java;    /* script.java: the java program ("" = the one configure found) */
    const char *jar;     /* script.jar: the host jar ("" = installed or build tree) */
    int network;         /* script.network: scripts may open sockets */
    uint64_t max_memory; /* script.max_memory: the JVM's -Xmx (bytes) */
} ma_script_cfg;

/* Whether scripts can run with cfg: 1, or 0 with why ("this miniatom was built without
 * scripting ...", "no Java runtime at ..."). Cheap: checks files, starts nothing. */
int ma_script_available(const ma_script_cfg *cfg, char *why, size_t whyn);

/* What a run hands back. Everything is owned by the result (ma_script_result_free). */
typedef struct ma_script_log {
    int level; /* 0 info, 1 warning, 2 error (java.util.logging SEVERE) */
    char *message;
} ma_script_log;
typedef struct ma_script_write {
    char *a, *b; /* dynamic: a = name, b = NULL; defined: a = component id, b = key */
    char *value;
    int persist; /* dynamic only */
} ma_script_write;
typedef struct ma_script_result {
    ma_script_log *logs;
    size_t n_logs;
    ma_script_write *writes; /* in the order the script made them */
    size_t n_writes;
    int failed;    /* 1: the script threw: message and line (0 = unknown) say what */
    char *message; /* malloc'ed when failed */
    int line;
    ma_batch out;  /* ma_script_run: the stored documents in order, new documents with their properties */
    char **values; /* ma_script_call: n_values output values (malloc'ed; NULL: the script left it unset) */
    size_t n_values;
} ma_script_result;
void ma_script_result_free(ma_script_result *r); /* frees the members; r itself is the caller's */

/* Property reads the script makes that the request did not carry: kind 0 a dynamic process
 * property (a = name), 1 a defined one (a = component id, b = key). Returns a malloc'ed value
 * (the host takes it over) or NULL when unset. Called on the calling thread, inside the run. */
typedef char *(*ma_script_lookup_fn)(void *ctx, int kind, const char *a, const char *b);

typedef struct ma_script_run_ctx {
    const char *execution_id, *process_id, *process_name, *atom_name; /* borrowed; NULL = "" */
    ma_script_lookup_fn lookup;                                       /* may be NULL */
    void *lookup_ctx;
    /* 1 when the run must give up now (the execution's deadline, budget, cancel); may be NULL */
    int (*must_stop)(void);
    /* the execution's temp folder (exec_temp.h): the only folder the script may read and write
     * during this request (absolute; borrowed). NULL: the host's own work folder */
    const char *temp_dir;
} ma_script_run_ctx;

/* Runs the script (language "groovy", "groovy2" or "javascript"; source borrowed) over the
 * documents of in (borrowed), in order. Compiles it in the host first when the host does not
 * have it (cached there by a hash of language and source). Returns 0 when the host answered
 * (res filled, res->failed for a script error or a compile error), -1 with err when it did not:
 * it could not start, crashed, or ran past cfg->timeout_ms or must_stop (it is then killed and the
 * next run starts a new one). On -1, res holds nothing to free. */
int ma_script_run(const ma_script_cfg *cfg, const char *language, const char *source, const ma_script_run_ctx *ctx,
                  const ma_batch *in, ma_script_result *res, ma_error *err);

/* A map function script (Boomi's "Scripting" map function): the inputs are set as variables by
 * name (in_names[i] = in_values[i], all borrowed), the script runs once, and the values of the
 * variables out_names (borrowed) are read back into res->values, in that order (n_values ==
 * n_out). Compiled and cached like ma_script_run; the same property API, log lines and failures
 * (res->failed). Returns 0 or -1 with err as ma_script_run. */
int ma_script_call(const ma_script_cfg *cfg, const char *language, const char *source, const ma_script_run_ctx *ctx,
                   const char *const *in_names, const char *const *in_values, size_t n_in, const char *const *out_names,
                   size_t n_out, ma_script_result *res, ma_error *err);

/* For tests and tools: the host's process id (0 when it is not running), how many times it was
 * started, and the time the last start took (milliseconds until it was ready). */
int ma_script_host_pid(void);
unsigned ma_script_host_starts(void);
uint64_t ma_script_host_last_start_ms(void);
/* Stops the host (it is started again when needed) and removes its folder. Also run at exit. */
void ma_script_host_stop(void);

#endif
