/* wss.h - the Web Services Server listener's routing table (wss_route.c), built once per deployment
 * from the processes that start with a `wss` Listen (/ws/simple/<operation><Object>) and the API
 * Service components (/ws/rest/<base>/<object>/<path>, with {parameters}); docs/wss.md. */
#ifndef MA_WSS_H
#define MA_WSS_H

#include <stddef.h>
#include <stdint.h>

#include "miniatom/miniatom.h"

/* ---- input and output types ------------------------------------------------------------------ */

enum { IO_NONE = 0, IO_SINGLEDATA, IO_SINGLEXML, IO_MULTIXML, IO_SINGLEJSON, IO_MULTIJSON };
extern const char *const wss_io_names[]; /* by IO_* */
#define IO_COUNT 6
#define IO_IS_JSON(t) ((t) == IO_SINGLEJSON || (t) == IO_MULTIJSON)
#define IO_IS_XML(t) ((t) == IO_SINGLEXML || (t) == IO_MULTIXML)


#define MAX_SEGS 64     /* path segments of a request or a route */
#define MAX_PARAMS 16   /* {x} parameters of one route */
#define XML_LIST "List" /* the element that wraps a multixml response */

typedef struct wss_span { /* a part of the request path (a {parameter}'s value) */
    size_t off, len;
} wss_span;

/* ---- the routing table built at deploy ---------------------------------------------------------- */

typedef struct wss_target {         /* one listener process and its operation */
    ma_component *comp;             /* borrowed from the deployment */
    ma_process *proc;               /* borrowed: its compiled process */
    const char *name, *id;          /* borrowed: the process component's */
    char *op_id, *op_type, *object; /* owned */
    char *content_type;             /* owned: responseContentType, NULL when empty */
    int in, out;
    ma_mode mode;
} wss_target;

typedef struct wss_part { /* a piece of a route segment: literal text or a {parameter} */
    const char *lit;      /* borrowed from the segment text, NULL for a parameter */
    size_t len;
    int param; /* index into the route's params */
} wss_part;

typedef struct wss_seg {
    char *text;      /* owned: as written */
    wss_part *parts; /* owned, NULL for a literal segment */
    size_t n_parts;
} wss_seg;

typedef struct wss_route {
    wss_target *t; /* borrowed */
    int in, out;
    char method[16];
    char *path;    /* owned: what it serves, "/ws/simple/createOrder", "/ws/rest/order/{id}" */
    char *key;     /* owned: simple: the path after /ws/simple/; rest: canonical template */
    wss_seg *segs; /* rest only */
    size_t n_segs;
    char **params; /* owned names, in order of appearance */
    size_t n_params;
    char **captured; /* owned: the API Service's captured headers (NULL: every header) */
    size_t n_captured;
    int has_captured;
    size_t order; /* definition order */
} wss_route;

typedef struct wss_state {
    uint64_t max_docs; /* wss.documents: most documents one request becomes */
    wss_target **targets;
    size_t n_targets;
    wss_route *simple; /* sorted by key */
    size_t n_simple;
    wss_route *rest; /* most specific first */
    size_t n_rest;
} wss_state;


/* Reads an inputType / outputType value s (what names it in messages; NULL or "" gives def) into
 * *io (an IO_*): -1 with err listing the accepted values when it is none of them. */
int wss_io_parse(const char *what, const char *s, int def, int *io, ma_error *err);
/* Builds st (zeroed) from the deployment: -1 with err when a listener process or an API Service is
 * not valid, or two of them serve the same path and method. Free with wss_routes_free. */
int wss_routes_build(ma_deploy *dep, wss_state *st, ma_error *err);
void wss_routes_free(wss_state *st);
/* The route of a request: method (HEAD as GET) and path. caps[MAX_PARAMS] gets the spans of the
 * {parameters} in path. NULL when none matches; then allow holds the methods the path would take
 * ("GET, POST"), "" when no route has the path. */
const wss_route *wss_route_match(const wss_state *st, const char *method, const char *path, wss_span *caps, char *allow,
                                 size_t allown);

#endif
