/* map_xref.c - ma:crossref, the run-time side of Boomi's Cross Reference Lookup map function
 * (map_xref.h): the table (crossref.h) is found in the execution's deployment and looked up with
 * the values the stylesheet passes. A Map component's tables are compiled with the map, at deploy;
 * a table that only a hand-written XSLT component names is compiled on its first call, under a
 * lock that every call takes to find its table (a compiled table is not changed afterwards, so the
 * lookup itself runs without it). */
#include "map_xref.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crossref.h"
#include "executor.h"
#include "util.h"
#include "xslt.h"

#define MAX_ARGS (2 + 2 * MA_XREF_MAX_COLUMNS)

static pthread_mutex_t resolve_mu = PTHREAD_MUTEX_INITIALIZER;

/* A 1-based column number as the stylesheet passes it, 0-based; -1 when it is none. */
static long column_of(const xmlChar *s)
{
    char *end;
    long v = strtol((const char *)s, &end, 10);
    if (end == (const char *)s || (*end && strcmp(end, ".0") != 0) || v < 1 || v > MA_XREF_MAX_COLUMNS) return -1;
    return v - 1;
}

void ma_xslt_fn_crossref(xmlXPathParserContextPtr ctxt, int nargs)
{
    if (nargs < 4 || nargs % 2 || nargs > MAX_ARGS) {
        xmlXPathSetArityError(ctxt);
        return;
    }
    xmlChar *a[MAX_ARGS] = {0};
    for (int i = nargs - 1; i >= 0; i--) {
        a[i] = xmlXPathPopString(ctxt);
        if (xmlXPathCheckError(ctxt) || !a[i]) goto out;
    }
    ma_exec *ex = ma_xslt_fn_exec(ctxt);
    if (!ex) goto out; /* not in a transform of this runtime */
    const char *id = (const char *)a[0];
    ma_error err;
    ma_deploy *dep = ma_exec_deploy(ex);
    pthread_mutex_lock(&resolve_mu);
    const ma_xref *t = ma_xref_compiled(dep, id);
    if (!t) t = ma_xref_for(dep, id, &err);
    pthread_mutex_unlock(&resolve_mu);
    if (!t) {
        ma_xslt_fn_fail(ctxt, "ma:crossref: %s", err.msg);
        goto out;
    }
    size_t n = (size_t)(nargs - 2) / 2, cols[MA_XREF_MAX_COLUMNS];
    const char *vals[MA_XREF_MAX_COLUMNS];
    long out_col = column_of(a[1]);
    for (size_t i = 0; i < n; i++) {
        long c = column_of(a[2 + 2 * i]);
        if (c < 0 || out_col < 0 || (size_t)c >= ma_xref_columns(t) || (size_t)out_col >= ma_xref_columns(t)) {
            ma_xslt_fn_fail(ctxt, "ma:crossref: column '%s' is not a column of %s",
                            (const char *)(out_col < 0 ? a[1] : a[2 + 2 * i]), ma_xref_name(t));
            goto out;
        }
        cols[i] = (size_t)c;
        vals[i] = (const char *)a[3 + 2 * i];
    }
    const char *hit;
    int rc = ma_xref_lookup(t, cols, vals, n, (size_t)out_col, &hit, &err);
    if (rc < 0) {
        ma_xslt_fn_fail(ctxt, "%s", err.msg);
        goto out;
    }
    valuePush(ctxt, xmlXPathNewCString(rc ? hit : ""));
out:
    for (int i = 0; i < nargs; i++) xmlFree(a[i]);
}
