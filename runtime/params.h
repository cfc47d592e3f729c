/* params.h - <parametervalue> (and decisionvalue, routeproperty ...) compiled at deploy and
 * evaluated per document (boomi-process-xml.md 2 "parametervalue"). Kinds: static, process,
 * track, current, execution, date, definedparameter, profile, connector (a connector call lookup,
 * shapes/connectorparam.c), crossref (a cross reference table lookup, crossref.h), unique, keygen
 * (Sequential Value) and documentcache (a document cache lookup, shapes/doccache.h). The public
 * entry points are in miniatom/shape.h. */
#ifndef MA_PARAMS_H
#define MA_PARAMS_H

#include "connectorparam.h"
#include "datefmt.h"
#include "miniatom/shape.h"
#include "profile.h"

typedef enum ma_param_kind {
    MA_PV_STATIC = 0,
    MA_PV_PROCESS,
    MA_PV_TRACK,
    MA_PV_CURRENT,
    MA_PV_EXECUTION,
    MA_PV_DATE,
    MA_PV_DEFINED,
    MA_PV_PROFILE,
    MA_PV_CONNECTOR,
    MA_PV_CROSSREF,
    MA_PV_UNIQUE,
    MA_PV_KEYGEN,
    MA_PV_DOCCACHE
} ma_param_kind;

typedef enum ma_exec_prop {
    MA_EP_PROCESS_NAME = 0,
    MA_EP_PROCESS_ID,
    MA_EP_EXECUTION_ID,
    MA_EP_ATOM_NAME,
    MA_EP_ACCOUNT_ID,
    MA_EP_DOCUMENT_COUNT,
    MA_EP_ATOM_ID,
    MA_EP_NODE_ID
} ma_exec_prop;

struct ma_param {
    ma_param_kind kind;
    char *value; /* owned: static value, process property name, track property id,
                         defined component id */
    char *key;   /* owned: defined property key; keygen: the counter name */
    char *def;   /* owned: default value when unset (process, track), or NULL */
    ma_exec_prop exec_prop;
    ma_datefmt *fmt;       /* owned: date mask */
    ma_profile_path *path; /* owned: profile element */
    ma_connparam *conn;    /* owned: connector call */
    struct ma_dcparam *dc; /* owned: document cache lookup */
    int fix_len;           /* keygen: keyfixtolength, 0 for none */
    /* crossref: the table (borrowed from the deployment), its output column and the inputs, each
     * compared with its column (0-based) */
    const struct ma_xref *xref;
    size_t xref_out, n_inputs;
    size_t *xref_cols; /* owned */
    ma_param **inputs; /* owned, each */
};

/* Parses the execution property name used in <executionparameter executionproperty="...">.
 * Returns -1 when unknown. */
int ma_exec_prop_parse(const char *name);

/* A profile element of a parameter, a split or a cache key: resolved through the profile
 * component when it is deployed, otherwise from the path the export records in the element's
 * name ("end_date (CompoundEmployee/person/end_date)"). */
ma_profile_path *ma_param_profile_path(ma_shape *shape, const char *profile_id, const char *profile_type,
                                       const char *element_id, const char *element_name, ma_error *err);

#endif
