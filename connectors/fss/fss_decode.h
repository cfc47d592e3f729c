/* fss_decode.h - the Flow wire format of the Flow Services Server (connectors/fss, docs/flow.md): the
 * Flow types derived from JSON profiles, the requests Flow sends (DescribeServiceRequest,
 * ServiceRequest, ObjectDataRequest, FileDataRequest) decoded and checked, turned into the documents a
 * process receives, and what a process returns encoded as ServiceResponse outputs and ObjectDataResponse
 * objects (reference/flow-services-protocol.md 2). Pure: the JSON tree of miniatom/json.h,
 * jansson (describe) and the string buffer only (fuzzed). */
#ifndef MA_FSS_DECODE_H
#define MA_FSS_DECODE_H

#include <jansson.h>
#include <stddef.h>

#include "miniatom/helpers.h"
#include "miniatom/json.h"

/* ---- Flow types ---------------------------------------------------------------------------- */

typedef enum fss_kind {
    FSS_STRING = 0,
    FSS_NUMBER,
    FSS_BOOLEAN,
    FSS_DATETIME,
    FSS_PASSWORD,
    FSS_CONTENT,
    FSS_OBJECT,
    FSS_LIST
} fss_kind;

/* "ContentString" ... */
const char *fss_kind_name(fss_kind k);
/* Case-insensitive ContentX name -> kind; -1 when unknown or NULL. */
int fss_kind_parse(const char *content_type);

typedef struct fss_type fss_type;

typedef struct fss_field {
    char *name; /* owned: the JSON member name, the Flow property / value developerName */
    fss_kind kind;
    fss_type *type; /* FSS_OBJECT / FSS_LIST: the type of the object(s) (borrowed from the set) */
} fss_field;

struct fss_type {
    char *name;    /* owned: the Flow type's developerName; NULL for a message root (its fields are
                       the action's inputs or outputs, it is not a Flow type) */
    char *summary; /* owned, may be NULL */
    fss_field *fields;
    size_t n, cap;
    int bound; /* a data-action type: described with a binding */
};

/* The types of one deployment, owned together. */
typedef struct fss_types {
    fss_type **v;
    size_t n, cap;
} fss_types;

/* A new type in the set (name may be NULL for a root). NULL when out of memory. */
fss_type *fss_types_add(fss_types *set, const char *name);
/* 1 when the set already holds a type with this name. */
int fss_types_has(const fss_types *set, const char *name);
int fss_type_add_field(fss_type *t, const char *name, fss_kind kind, fss_type *type);
const fss_field *fss_type_field(const fss_type *t, const char *name);
void fss_types_free(fss_types *set);

/* ---- requests -------------------------------------------------------------------------------- */

typedef enum fss_req_kind {
    FSS_REQ_DESCRIBE = 0, /* DescribeServiceRequest; an empty body is accepted (v2) */
    FSS_REQ_SERVICE,      /* ServiceRequest (message actions) */
    FSS_REQ_DATA,         /* ObjectDataRequest (load, save, delete) */
    FSS_REQ_FILE          /* FileDataRequest (list, delete; the JSON part of an upload) */
} fss_req_kind;

typedef struct fss_req {
    ma_jv *root; /* owned (ma_jv_free); NULL for an empty describe body */
    /* borrowed from root; NULL when absent, null or "" */
    const char *token, *tenant_id, *state_id, *callback_uri, *uri;
    char culture[128];          /* "EN-USA" (language-country-variant, empty parts left out), or "" */
    const ma_jv *config;        /* configurationValues: array of EngineValue, or NULL */
    const ma_jv *authorization; /* object, or NULL */
    const ma_jv *inputs;        /* ServiceRequest.inputs: array of EngineValue, or NULL */
    const ma_jv *objects;       /* ObjectDataRequest.objectData: array of Object, or NULL */
    const char *type_name;      /* objectDataType.developerName, or NULL */
    const ma_jv *list_filter;   /* object, or NULL */
    const char *filter_id;      /* listFilter.id as text (numbers accepted), or NULL */
    char filter_id_buf[64];
    long long limit, offset;                          /* listFilter.limit / offset (0 when absent) */
    const char *search;                               /* listFilter.search, or NULL */
    const char *resource_path, *resource_file, *path; /* FileDataRequest */
} fss_req;

#define FSS_MAX_DEPTH 32     /* objects nested in objects, in a request */
#define FSS_MAX_ITEMS 100000 /* values, objects or properties in one array */

/* Decodes and checks one request body. Returns 0, 1 when the request is malformed (why filled: what
 * and where, for a ServiceProblem), -1 out of memory. Unknown members are ignored; null is accepted
 * wherever a value may be missing; contentValue may be a string, a number, a boolean or null. A
 * callbackUri must be an http or https URL. r is zeroed first; free it with fss_req_free either way. */
int fss_req_decode(fss_req *r, fss_req_kind kind, const char *body, size_t len, char *why, size_t whyn);
void fss_req_free(fss_req *r);

/* The text of an EngineValue's or Property's contentValue (numbers and booleans as JSON writes them;
 * borrowed or in buf), NULL when null or absent. */
const char *fss_content_value(const ma_jv *v, char *buf, size_t bufn);

/* ---- requests into documents ----------------------------------------------------------------- */

/* The request document of a message action: a JSON object with one member per input, named by its
 * developerName, typed by the root's field of that name (else by its contentType): strings, numbers
 * (when the text is a JSON number), booleans, objects from objectData[0], arrays of objects from
 * objectData. Null inputs are left out; a repeated name keeps its first value. Malloc'ed (len set),
 * NULL when out of memory. root may be NULL. */
char *fss_inputs_document(const fss_req *r, const fss_type *root, size_t *len);
/* One Flow Object (objectData item) as a JSON object of its properties, typed by t (may be NULL). */
char *fss_object_document(const ma_jv *object, const fss_type *t, size_t *len);
/* The object's externalId / internalId as text, or NULL. */
const char *fss_object_id(const ma_jv *object, const char *member);
/* The listFilter as Boomi's query filter XML (docs/flow.md 5.2):
 * <QueryFilter><expression operator="and"><nestedExpression operator="EQUAL" property="name">
 * <argument>v</argument></nestedExpression>...</expression><sort property="id" sortOrder="ASC"/>
 * </QueryFilter>. Malloc'ed, NULL when out of memory. */
char *fss_query_filter_xml(const fss_req *r, size_t *len);

/* ---- results into responses ------------------------------------------------------------------ */

typedef struct fss_doc {
    const char *data; /* a returned document (borrowed) */
    size_t len;
    const char *external_id, *internal_id; /* its dynamicdocument.externalId / internalId, or NULL */
} fss_doc;

/* The outputs of a message action (a JSON array of EngineValue, as text) from its returned documents,
 * each a JSON object (an empty document counts as {}): with a root, one output per root field (null
 * when no document has it); without, one per member of the documents. Object and list types are named
 * "<prefix> - <name>" when the root does not name them. Members repeated across documents: the first
 * non-null wins, lists are appended. Returns malloc'ed text; NULL with *oom = 0 and why filled when a
 * document is not a JSON object, NULL with *oom = 1 when out of memory. */
char *fss_outputs(const fss_type *root, const char *prefix, const fss_doc *docs, size_t n, char *why, size_t whyn,
                  int *oom, size_t *len);
/* Flow Objects of type t (named type_name; a JSON array, as text) from returned documents, each a JSON
 * object or an array of objects, keeping those from offset on, at most limit (0: all); *more says
 * whether some were left out at the end. externalId: the member "externalId" or "externalid", else "id"
 * (any case), else the document's external_id; internalId: the document's internal_id. Same errors. */
char *fss_objects(const fss_type *t, const char *type_name, const fss_doc *docs, size_t n, long long offset,
                  long long limit, int *more, char *why, size_t whyn, int *oom, size_t *len);

/* A ServiceResponse (message-action-response.service-email.json): outputs is the JSON text of the
 * outputs array (NULL: []); fault, when not NULL, becomes rootFaults {"error": fault}. Malloc'ed JSON
 * text, or NULL when out of memory. */
char *fss_service_response(const char *token, const char *tenant_id, const char *invoke_type, const char *wait_message,
                           const char *outputs, const char *fault, size_t *len);
/* An ObjectDataResponse (data-load-response-where.service-sql.json); objects: JSON array text or NULL. */
char *fss_object_data_response(const char *objects, int has_more, size_t *len);
/* A ServiceProblem (service-problem-error.service-email.json), kind "service"; message cut to 500. */
char *fss_service_problem(const char *uri, int status, const char *message, size_t *len);

/* ---- describe ------------------------------------------------------------------------------- */

/* A DescribeValue: developerName, contentValue null, contentType, typeElementDeveloperName, ordinal
 * and required (the samples' names) plus order and isRequired (FAPI's names). */
json_t *fss_describe_value(const char *name, fss_kind kind, const char *type_name, int required, int ordinal);
/* A TypeElement with its properties; a binding when t->bound. */
json_t *fss_type_element(const fss_type *t);

/* ---- uploads ---------------------------------------------------------------------------------- */

typedef struct fss_upload {
    const char *json;
    size_t json_len; /* the first part whose type contains application/json, or NULL */
    const char *file;
    size_t file_len;        /* the first other part */
    char filename[256];     /* its filename (path stripped), or "" */
    char content_type[128]; /* its Content-Type, or "" */
} fss_upload;

/* Splits a multipart/form-data body (content_type is the request's Content-Type header with its
 * boundary). Pointers point into body. 0, or 1 with why when it is not well-formed or has no file. */
int fss_multipart(const char *content_type, const char *body, size_t len, fss_upload *out, char *why, size_t whyn);

#endif
