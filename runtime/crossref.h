/* crossref.h - Boomi Cross Reference Table components (type "crossref"): the table compiled once
 * per deployment (columns, rows, the match type), with the rows of an environment extension when
 * the deploy folder holds one, and the lookup Boomi runs for a crossref parameter value and for
 * the map function Cross Reference Lookup: the first row whose input columns all match gives the
 * output column. See docs/decisions/021-cross-reference-tables.md.
 *
 * Columns are 0-based here; Boomi's lookups name them 1-based (outputParamId, elementToSetId,
 * refId) and its rows 0-based (<ref colIdx>). */
#ifndef MA_CROSSREF_H
#define MA_CROSSREF_H

#include <stddef.h>

#include "component.h"
#include "miniatom/error.h"

/* The file of Boomi's EnvironmentExtensions object (JSON, as the Platform API returns it) read
 * from the deploy folder for cross reference overrides. */
#define MA_XREF_EXTENSIONS_FILE "environment-extensions.json"
#define MA_XREF_MAX_COLUMNS 20

typedef enum ma_xref_match {
    MA_XREF_EXACT = 0, /* equal ignoring case (Java's equalsIgnoreCase); the default */
    MA_XREF_WILDCARD,  /* the cell is a pattern: * any run, ? one character; ignoring case */
    MA_XREF_REGEX      /* the cell is a Java regular expression the whole input must match */
} ma_xref_match;

typedef struct ma_xref ma_xref;

/* A table from its <CrossRefTable> element. where names it in messages ("cross reference table
 * 'Name' (id)"). NULL with err: MA_ERR_CONFIG for a malformed table (a column index out of range,
 * more than MA_XREF_MAX_COLUMNS columns), MA_ERR_UNSUPPORTED for atom-specific values or an
 * unknown matchType. Free with ma_xref_free. */
ma_xref *ma_xref_parse(const void *crossreftable_node, const char *where, ma_error *err);
void ma_xref_free(ma_xref *t);

/* Replaces the rows of t (an environment extension's override): rows[i][c] is column c of row i,
 * NULL for an empty cell; n_cols cells per row. -1 with err (a regular expression that does not
 * compile, out of memory). */
int ma_xref_set_rows(ma_xref *t, const char *const *cells, size_t n_rows, size_t n_cols, ma_error *err);

/* Applies the override of t's component from an EnvironmentExtensions JSON text (crossReferences
 * .crossReference[] with id = table_id and overrideValues true; rows ref1..ref20). 0 when it holds
 * none for this table or applied it, -1 with err naming source and what is wrong. */
int ma_xref_apply_extensions(ma_xref *t, const char *table_id, const char *json, size_t len, const char *source,
                             ma_error *err);

size_t ma_xref_columns(const ma_xref *t);
size_t ma_xref_rows(const ma_xref *t);
const char *ma_xref_column_name(const ma_xref *t, size_t col); /* "" when past the last column */
const char *ma_xref_name(const ma_xref *t);                    /* the where given to ma_xref_parse */
ma_xref_match ma_xref_match_type(const ma_xref *t);

/* Resolves a lookup's column: id is Boomi's 1-based column number (outputParamId, elementToSetId,
 * refId), name its display name (may be NULL). *col is 0-based. -1 with err (MA_ERR_CONFIG) when
 * id is not a column of the table, naming the table, its columns and what was asked for. */
int ma_xref_column(const ma_xref *t, const char *id, const char *name, size_t *col, ma_error *err);

/* Checks that every cell of the input columns cols[0..n) can be matched (a regex table: every cell
 * compiled). -1 with err naming the row, the column and why. */
int ma_xref_check_inputs(const ma_xref *t, const size_t *cols, size_t n, ma_error *err);

/* The lookup: the first row (in table order) where, for every i, vals[i] matches the cell of
 * column cols[i] under the table's match type gives *out = its cell of column out_col (borrowed
 * from t, "" for an empty cell). An empty value constrains nothing (Boomi's empty lookup key).
 * Returns 1 found, 0 no row matches (*out NULL), -1 with err (a regex cell that did not compile, or
 * the regex match limits reached). */
int ma_xref_lookup(const ma_xref *t, const size_t *cols, const char *const *vals, size_t n, size_t out_col,
                   const char **out, ma_error *err);

/* The compiled table of cross reference component id in dep: compiled on first use (at deploy)
 * with the deploy folder's extension file applied, then kept by the component. Borrowed, or NULL
 * with err: MA_ERR_REF when no such component is deployed or it is not a crossref component. */
const ma_xref *ma_xref_for(ma_deploy *dep, const char *id, ma_error *err);
/* The table of id when it is compiled already (run time: no compiling, no locking), else NULL. */
const ma_xref *ma_xref_compiled(const ma_deploy *dep, const char *id);

#endif
