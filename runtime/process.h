/* process.h - a process component compiled into a graph of shapes linked by dragpoints
 * (boomi-process-xml.md 1.3): outputs by identifier, toShape="unset" and missing dragpoints as
 * path ends, note shapes ignored, every reference resolved by the shape types' compile. */
#ifndef MA_PROCESS_H
#define MA_PROCESS_H

#include <libxml/tree.h>

#include "component.h"
#include "miniatom/shape.h"

typedef struct ma_dragpoint {
    char *identifier; /* owned, NULL when the dragpoint has none */
    char *text;       /* owned, NULL when none */
    char *to;         /* owned: toShape ("unset" or missing -> NULL) */
    int line;
    int used; /* bound to a declared output */
} ma_dragpoint;

typedef struct ma_output {
    char *identifier; /* owned, NULL for the single unnamed output */
    char *text;       /* owned: the dragpoint text, for graphs */
    ma_shape *target; /* borrowed: next shape, or NULL for a path end */
    int dp;           /* index of the bound dragpoint, or -1 */
} ma_output;

typedef enum ma_start_kind {
    MA_START_NONE = 0,
    MA_START_NODATA,      /* <noaction/> */
    MA_START_PASSTHROUGH, /* <passthroughaction/> */
    MA_START_LISTEN,      /* <connectoraction actionType="Listen"> */
    MA_START_CONNECTOR    /* <connectoraction> Get */
} ma_start_kind;

struct ma_shape {
    char *name, *label, *type_name; /* owned */
    int line;
    xmlNode *node;             /* borrowed: the <shape> element */
    xmlNode *config;           /* borrowed: the element inside <configuration>, or NULL */
    const ma_shape_type *type; /* borrowed from the registry; NULL when unknown */
    void *data;                /* owned by type (destroy) */
    ma_process *process;       /* borrowed: owner */
    ma_deploy *deploy;         /* borrowed */
    ma_output *outs;           /* owned: declared outputs, run in this order */
    size_t n_outs;
    ma_dragpoint *dps; /* owned */
    size_t n_dps;
    size_t index;  /* position in process->shapes */
    int compiled;  /* compile succeeded */
    int calls_out; /* its configuration waits on the outside world although its type works in memory
                      (a connector parameter value, a PGP step running gpg): it may wait */
};

struct ma_process {
    ma_component *comp; /* borrowed: its component */
    ma_shape *shapes;   /* owned array (note shapes are not kept) */
    size_t n_shapes;
    ma_shape *start; /* borrowed */
    ma_start_kind start_kind;
    int has_return;  /* a returndocuments shape exists */
    int runnable;    /* no problem was found */
    int low_latency; /* workload="low_latency" */
    xmlNode *xml;    /* borrowed: the <process> element */
};

/* Compiles comp (type "process") into comp->process, recording problems in dep. Returns 0 when
 * the process is runnable. */
int ma_process_compile(ma_deploy *dep, ma_component *comp);
void ma_process_free(ma_process *p);
ma_shape *ma_process_find_shape(const ma_process *p, const char *name);
/* Graphviz DOT of the process, malloc'ed. */
char *ma_process_to_dot(const ma_process *p);

#endif
