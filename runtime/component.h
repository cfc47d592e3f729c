/* component.h - one Boomi component as loaded from a deploy folder (the bns:Component envelope,
 * boomi-process-xml.md 1.1), and the deployment: every component indexed by componentId, the
 * problems found while compiling, and the options the deployment was compiled with. */
#ifndef MA_COMPONENT_H
#define MA_COMPONENT_H

#include <libxml/tree.h>
#include <pthread.h>
#include <stddef.h>

#include "miniatom/deploy.h"
#include "miniatom/shape.h"

typedef struct ma_registry ma_registry;

/* ma_component and ma_process are opaque to plugins (miniatom/deploy.h); the runtime sees them whole. */
struct ma_component {
    char *id, *name, *type, *version, *folder; /* envelope attributes (owned; "" when absent) */
    char *file;                                /* path of the file it came from (owned) */
    int line;                                  /* line of the Component element */
    xmlDoc *xml;                               /* owned: the parsed file */
    xmlNode *root;                             /* borrowed from xml: the Component element */
    xmlNode *object;                           /* borrowed from xml: the payload root under <bns:object>, or NULL */
    ma_process *process;                       /* owned: compiled process (type "process"), or NULL */
    int compile_state;                         /* 0 not yet, 1 compiling, 2 done */
    void *compiled;                            /* owned: what a type compiles the component into once per deployment
                            (the stylesheet of an xslt or transform.map component), or NULL */
    void (*compiled_free)(void *compiled);
    char *buf; /* owned: the text of a component added from memory, while it is not parsed
                            yet (a lazy deployment) */
    size_t len;
    int unparsed;     /* a lazy deployment: only the envelope is read; parsed from buf, or read
                            again from file, when first looked up */
    int parse_failed; /* parsing it failed once: a problem says why */
};

/* A problem found at deploy: where and why. All strings owned ("" when not applicable). */
typedef struct ma_problem {
    char *file;
    int line;
    char *component_id, *component_name;
    char *shape, *label, *shapetype;
    int code; /* ma_error_code: MA_ERR_UNSUPPORTED for what this runtime cannot run */
    char *message;
} ma_problem;

typedef struct ma_stub {
    char *operation_id; /* owned */
    char *file;         /* owned: path whose content the operation returns */
} ma_stub;

typedef struct ma_deploy_opts {
    int stub_connectors; /* 1: connector types without an implementation pass documents through;
                              2: every connector step does */
    ma_stub *stubs;      /* --stub OPERATION_ID=FILE (borrowed array) */
    size_t n_stubs;
    size_t max_file_size;        /* largest component file read (default 16 MiB) */
    size_t max_files;            /* most component files in a deploy folder (default 100000) */
    const ma_settings *settings; /* the configuration files, then --set (borrowed; may be NULL) */
    int lazy;                    /* read only each file's envelope (componentId, name, type) and parse a
                              component when it is first looked up: a command that runs one process
                              reads only what that process references (run, graph) */
} ma_deploy_opts;

struct ma_deploy {
    ma_component **comps; /* owned */
    size_t n, cap;
    size_t *index; /* open-addressing table of comps indexes + 1 (0 = empty) */
    size_t index_cap;
    ma_problem *problems; /* owned */
    size_t n_problems, cap_problems;
    const ma_registry *reg;   /* borrowed */
    pthread_mutex_t parse_mu; /* a lazy deployment: components parsed on first lookup, from any thread */
    ma_deploy_opts opts;      /* copied; arrays borrowed */
    char *root;               /* deploy folder (owned) */
};


/* Parses a component of a lazy deployment that is not parsed yet (a no-op otherwise). 0, or -1 when
 * it is not well-formed or not a component: a problem of the deployment says why (it is tried once). */
int ma_component_parse(const ma_deploy *dep, ma_component *c);

/* Every reason a process component cannot run (ma_process_reasons), at most max; with_place 1
 * gives each with its file, line and component (ma_problem_format). */
size_t ma_deploy_reasons(const ma_deploy *dep, const ma_component *c, int with_place, size_t max, char ***out);

/* Records a problem. comp/shape may be NULL. Returns -1. */
int ma_deploy_problem(ma_deploy *dep, const ma_component *comp, const ma_shape *shape, int line, int code,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Payload root element of a component of the given type, with a problem recorded when the
 * component is missing or has another type. Used by shapes to resolve references at compile. */
ma_component *ma_deploy_ref(ma_deploy *dep, const char *id, const char *type_prefix, const char *what, ma_error *err);

#endif
