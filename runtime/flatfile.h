/* flatfile.h - Boomi flat file profiles (type profile.flatfile): delimited and data positioned
 * (fixed width) records, read into an XML tree shaped by the profile and written back from one,
 * so that maps (an XSLT over XML) read and write flat files, and record by record for the Data
 * Process split. The rules followed and the choices made are in docs/decisions/022-flat-file-
 * profiles.md. Everything is bounded (MA_DOC_MAX_SIZE data, MA_FLATFILE_MAX_* below) and never
 * touches files or the network.
 *
 * The XML form of a flat file document:
 *   <FlatFile>
 *     <RECORD>            one per data line, named after its record format (FlatFileRecord)
 *       <ELEMENTS>        each FlatFileElements group of the format
 *         <FIELD>v</FIELD> every FlatFileElement, in profile order (empty fields too)
 * Element names are the profile names made into XML names (ma_flatfile_xml_name): characters
 * that cannot be in an XML name become '_', a name that cannot start one gets a leading '_', and
 * a name already used by a sibling gets "_KEY" (its profile key) appended. Numbers are read into
 * a plain decimal form (no grouping, '.' as the point, implied decimals applied) and written with
 * the field's number format; dates are checked against their mask when read and written as they
 * come (the map converts between masks). */
#ifndef MA_FLATFILE_H
#define MA_FLATFILE_H

#include <libxml/tree.h>
#include <stddef.h>

#include "component.h"
#include "miniatom/error.h"

#define MA_FLATFILE_ROOT "FlatFile"
#define MA_FLATFILE_MAX_FIELDS 4096  /* fields of one record format */
#define MA_FLATFILE_MAX_RECORDS 1024 /* record formats of one profile */

typedef struct ma_flatfile ma_flatfile;

/* Compiles a profile.flatfile component (c->object is its <FlatFileProfile>). Returns a new
 * profile (free with ma_flatfile_free) or NULL with err naming the profile and what is wrong or
 * unsupported (an unknown file type or delimiter, a number format it cannot apply). */
ma_flatfile *ma_flatfile_compile(const ma_component *c, ma_error *err);
void ma_flatfile_free(ma_flatfile *ff);

/* The XML element name of the profile node with this key (a FlatFileRecord, FlatFileElements or
 * FlatFileElement), borrowed; NULL when the profile has no such node. */
const char *ma_flatfile_xml_name(const ma_flatfile *ff, const char *key);

/* "Record/Elements/Name": the profile names of the record, group and element with this key
 * (malloc'ed), or NULL when key is not an element (FlatFileElement) of the profile. */
char *ma_flatfile_field_path(const ma_flatfile *ff, const char *key);
/* "FlatFile/RECORD/ELEMENTS/FIELD": the XML names (the XML form above) of the root, record, group
 * and element with this key (malloc'ed), or NULL when key is not an element of the profile. */
char *ma_flatfile_field_xml_path(const ma_flatfile *ff, const char *key);

/* Flat file text -> a new XML document in the form above (caller frees with xmlFreeDoc), or NULL
 * with err ("line 3, field 'Amount' (key 5): ..."): a line with more fields than its record
 * format, a line no record format matches, a number or date that does not match its format, an
 * unclosed text qualifier. */
xmlDoc *ma_flatfile_to_xml(const ma_flatfile *ff, const char *data, size_t len, ma_error *err);

/* The XML form -> flat file text (malloc'ed, NUL-terminated, *len set), or NULL with err naming
 * the record and field: an element that is not a record of the profile, a value that is not a
 * number in a number field. Records are written in document order, each followed by "\n"; with
 * Use Column Headers the first line holds the element names of the first record format. */
char *ma_flatfile_from_xml(const ma_flatfile *ff, const xmlNode *root, size_t *len, ma_error *err);

/* ---- record by record (Data Process split) ---- */

typedef struct ma_ff_record {
    size_t line;       /* 1-based line where the record starts */
    const char *text;  /* the record's text in the data (borrowed), without its line terminator */
    size_t len;        /* may span several lines (a text-qualified value with line breaks) */
    int header;        /* the column header line (Use Column Headers) */
    size_t format;     /* index of the record format (not meaningful for the header) */
    char **values;     /* the fields' values as read (borrowed for the callback's duration) */
    const char **keys; /* the fields' profile keys, borrowed */
    size_t n;          /* number of fields of the format */
} ma_ff_record;

/* Calls fn for every record of data (the header line first when the profile has one) until fn
 * returns non-zero (that value is returned). Returns 0, or -1 with err as ma_flatfile_to_xml. */
int ma_flatfile_scan(const ma_flatfile *ff, const char *data, size_t len, int (*fn)(void *ctx, const ma_ff_record *r),
                     void *ctx, ma_error *err);

/* True when the profile's first line is a column header (Use Column Headers). */
int ma_flatfile_has_header(const ma_flatfile *ff);
/* "'Name' (id)" of the profile, borrowed, for messages. */
const char *ma_flatfile_label(const ma_flatfile *ff);

/* ---- number formats (exposed for the unit tests) ---- */

/* Reads text written with a DecimalFormat pattern (grouping ',' and point '.', a literal prefix
 * or suffix) and implied decimals into the plain decimal form ("-1234.5"). Returns a malloc'ed
 * string, or NULL with err when text is not such a number. */
char *ma_ff_number_read(const char *pattern, int implied, const char *text, ma_error *err);
/* Writes a plain decimal ("-1234.5", "+7", "0.125") with the pattern (minimum integer digits,
 * grouping, minimum and maximum fraction digits, rounded half-even as Java's DecimalFormat) and
 * implied decimals (no point written). Returns a malloc'ed string, or NULL with err. */
char *ma_ff_number_write(const char *pattern, int implied, const char *plain, ma_error *err);

#endif
