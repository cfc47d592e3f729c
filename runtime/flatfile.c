/* flatfile.c - Boomi flat file profiles (flatfile.h): the <FlatFileProfile> options, record
 * formats and element formats compiled once; a reader from delimited or data positioned text to
 * the profile-shaped XML tree (and record by record for the Data Process split) and a writer back.
 * Follows Boomi's "Flat file profiles", "Flat file profile's Options tab", "Delimited flat file
 * data" (parsing rules) and "Flat file record format detection" pages; the choices where Boomi
 * says nothing are in docs/decisions/022-flat-file-profiles.md. */
#include "flatfile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "datefmt.h"
#include "miniatom/document.h"
#include "util.h"

typedef enum ftype { FT_CHAR = 0, FT_NUMBER, FT_DATE } ftype;
/* an element's justification (data positioned padding) and a record's detectFormat (decision 022;
 * the corpus has left and numberofcolumns) */
static const ma_enum justifications[] = {
    {"left", 0, 0},
    {"right", 1, 0},
    {NULL, 0, 0},
};
static const ma_enum detect_formats[] = {
    {"numberofcolumns", 0, 0},
    {"uniquevalues", 1, 0},
    {NULL, 0, 0},
};
/* a flat file element's dataType (absent is character) */
static const ma_enum field_types[] = {
    {"character", FT_CHAR, 0},
    {"number", FT_NUMBER, 0},
    {"datetime", FT_DATE, 0},
    {NULL, 0, 0},
};

typedef struct fffield {
    char *key, *name, *xname; /* owned */
    ftype type;
    char *numfmt; /* owned: DecimalFormat pattern, "" for none */
    int implied;  /* implied decimal digits */
    char *mask;   /* owned: date mask, NULL when none */
    ma_datefmt *date;
    long start, length; /* data positioned: 0-based column and width */
    int right;          /* justification right (padding on the left) */
    int ident;          /* used to identify the record format */
    char *ident_value;  /* owned */
    size_t group;       /* index of its FlatFileElements group */
} fffield;

typedef struct ffgroup {
    char *key, *name, *xname; /* owned */
} ffgroup;

typedef struct ffrec {
    char *key, *name, *xname; /* owned */
    int by_values;            /* detectFormat="uniquevalues" */
    fffield *f;
    size_t nf;
    ffgroup *g;
    size_t ng;
    size_t *order; /* data positioned: field indexes by start column */
    long width;    /* data positioned: the record's length */
} ffrec;

struct ma_flatfile {
    char *label; /* owned: "'Name' (id)" */
    int positioned, header;
    char *delim; /* owned: the field delimiter (delimited files) */
    size_t dlen;
    char qual;             /* text qualifier, 0 for none */
    char qesc, desc, eesc; /* text qualifier escape, delimiter escape, escape for escape; 0 none */
    int remove_escape;     /* escape characters are dropped from values */
    char pad;              /* data positioned: the pad character */
    ffrec *r;
    size_t nr;
};

/* ---- compile ----------------------------------------------------------------------------- */

static void rec_free(ffrec *r)
{
    for (size_t i = 0; i < r->nf; i++) {
        fffield *f = &r->f[i];
        free(f->key);
        free(f->name);
        free(f->xname);
        free(f->numfmt);
        free(f->mask);
        ma_datefmt_free(f->date);
        free(f->ident_value);
    }
    for (size_t i = 0; i < r->ng; i++) {
        free(r->g[i].key);
        free(r->g[i].name);
        free(r->g[i].xname);
    }
    free(r->f);
    free(r->g);
    free(r->order);
    free(r->key);
    free(r->name);
    free(r->xname);
}

void ma_flatfile_free(ma_flatfile *ff)
{
    if (!ff) return;
    for (size_t i = 0; i < ff->nr; i++) rec_free(&ff->r[i]);
    free(ff->r);
    free(ff->delim);
    free(ff->label);
    free(ff);
}

const char *ma_flatfile_label(const ma_flatfile *ff) { return ff ? ff->label : ""; }
int ma_flatfile_has_header(const ma_flatfile *ff) { return ff && ff->header; }

static char *attr_dup(const xmlNode *n, const char *name, const char *dflt)
{
    char *v = ma_xml_attr(n, name);
    if (!v && dflt) v = ma_strdup(dflt);
    return v;
}

static int is_true(const xmlNode *n, const char *name) { return ma_xml_attr_is(n, name, "true"); }

/* XML name for a profile name; used[] holds the names of the earlier siblings. */
static char *xml_name(const char *name, const char *key, char **used, size_t nused)
{
    ma_sb b;
    ma_sb_init(&b);
    const unsigned char *s = (const unsigned char *)(name ? name : "");
    if (!(isalpha(*s) || *s == '_' || *s >= 0x80)) ma_sb_putc(&b, '_');
    for (; *s; s++) {
        unsigned char c = *s;
        ma_sb_putc(&b, (isalnum(c) || c == '_' || c == '-' || c == '.' || c >= 0x80) ? (char)c : '_');
    }
    char *x = ma_sb_take(&b, NULL);
    if (!x) return NULL;
    int clash = xmlValidateNCName((const xmlChar *)x, 0) != 0 || strlen(x) > 200;
    for (size_t i = 0; !clash && i < nused; i++)
        if (used[i] && strcmp(used[i], x) == 0) clash = 1;
    if (clash) {
        char *y = ma_asprintf("%s_%s", xmlValidateNCName((const xmlChar *)x, 0) == 0 && strlen(x) <= 200 ? x : "_",
                              key ? key : "");
        free(x);
        x = y;
    }
    return x;
}

/* DecimalFormat pattern pieces: prefix, integer part, fraction part, suffix. */
typedef struct numpat {
    const char *prefix, *suffix;
    size_t plen, slen;
    int min_int, group, min_frac, max_frac, has_point;
} numpat;

static int numpat_parse(const char *p, numpat *np, ma_error *err)
{
    memset(np, 0, sizeof *np);
    if (!p) p = "";
    if (strpbrk(p, "%;E'") || strstr(p, "\xe2\x80\xb0"))
        return ma_error_set(err, MA_ERR_UNSUPPORTED,
                            "number format '%s': percent, per mille, exponent, quoting and negative subpatterns are "
                            "not supported",
                            p);
    size_t n = strlen(p), a = 0, z = n;
    while (a < n && !strchr("#0,.", p[a])) a++;
    while (z > a && !strchr("#0,.", p[z - 1])) z--;
    np->prefix = p;
    np->plen = a;
    np->suffix = p + z;
    np->slen = n - z;
    int frac = 0, since_comma = -1;
    for (size_t i = a; i < z; i++) {
        char c = p[i];
        if (c == '.') {
            if (frac) return ma_error_set(err, MA_ERR_CONFIG, "number format '%s' has two decimal points", p);
            frac = 1;
            np->has_point = 1;
        } else if (c == ',') {
            if (frac) return ma_error_set(err, MA_ERR_CONFIG, "number format '%s': grouping after the point", p);
            since_comma = 0;
        } else if (!frac) {
            if (c == '0') np->min_int++;
            if (since_comma >= 0) since_comma++;
        } else {
            if (c == '0') np->min_frac++;
            np->max_frac++;
        }
    }
    if (since_comma > 0) np->group = since_comma;
    return 0;
}

static int load_field(ma_flatfile *ff, ffrec *r, const xmlNode *x, size_t group, long *col, ma_error *err)
{
    if (r->nf >= MA_FLATFILE_MAX_FIELDS)
        return ma_error_set(err, MA_ERR_LIMIT, "flat file profile %s: record '%s' has more than %d elements", ff->label,
                            r->name, MA_FLATFILE_MAX_FIELDS);
    fffield *nf = realloc(r->f, (r->nf + 1) * sizeof *nf);
    if (!nf) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    r->f = nf;
    fffield *f = &r->f[r->nf++];
    memset(f, 0, sizeof *f);
    f->group = group;
    f->key = attr_dup(x, "key", "");
    f->name = attr_dup(x, "name", "");
    if (!f->key || !f->name) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    int ft = FT_CHAR;
    if (ma_xml_enum(x, "dataType", field_types, FT_CHAR, 0, &ft, err) < 0) {
        ma_error_prefix(err, "flat file profile %s: element '%s' (key %s)", ff->label, f->name, f->key);
        return -1;
    }
    f->type = (ftype)ft;
    const xmlNode *df = ma_xml_child(x, "DataFormat");
    if (f->type == FT_NUMBER) {
        const xmlNode *nfm = ma_xml_child(df, "ProfileNumberFormat");
        f->numfmt = attr_dup(nfm, "numberFormat", "");
        char *imp = ma_xml_attr(nfm, "impliedDecimal");
        f->implied = imp && *imp ? atoi(imp) : 0;
        free(imp);
        if (!f->numfmt) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        if (f->implied < 0 || f->implied > 30)
            return ma_error_set(err, MA_ERR_CONFIG, "flat file profile %s: element '%s' (key %s): implied decimals %d",
                                ff->label, f->name, f->key, f->implied);
        numpat np;
        if (numpat_parse(f->numfmt, &np, err) < 0) {
            ma_error_prefix(err, "flat file profile %s: element '%s' (key %s)", ff->label, f->name, f->key);
            return -1;
        }
    } else if (f->type == FT_DATE) {
        f->mask = ma_xml_attr(ma_xml_child(df, "ProfileDateFormat"), "dateFormat");
        if (f->mask && *f->mask && !(f->date = ma_datefmt_compile(f->mask, err))) {
            ma_error_prefix(err, "flat file profile %s: element '%s' (key %s)", ff->label, f->name, f->key);
            return -1;
        }
    }
    f->ident = is_true(x, "useToIdentifyFormat");
    f->ident_value = attr_dup(x, "identityValue", "");
    if (ma_xml_enum(x, "justification", justifications, 0, 0, &f->right, err) < 0) {
        ma_error_prefix(err, "flat file profile %s: element '%s' (key %s)", ff->label, f->name, f->key);
        return -1;
    }
    if (ff->positioned) {
        char *st = ma_xml_attr(x, "startColumn"), *ln = ma_xml_attr(x, "length");
        f->start = st && *st ? strtol(st, NULL, 10) : *col;
        f->length = ln && *ln ? strtol(ln, NULL, 10) : 0;
        free(st);
        free(ln);
        if (f->start < 0 || f->length < 0 || f->start > 1000000 || f->length > 1000000)
            return ma_error_set(err, MA_ERR_CONFIG, "flat file profile %s: element '%s' (key %s): bad position",
                                ff->label, f->name, f->key);
        *col = f->start + f->length;
        if (*col > r->width) r->width = *col;
    }
    char **used = calloc(r->nf, sizeof *used);
    if (!used) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    size_t nu = 0;
    for (size_t i = 0; i + 1 < r->nf; i++)
        if (r->f[i].group == group) used[nu++] = r->f[i].xname;
    f->xname = xml_name(f->name, f->key, used, nu);
    free(used);
    if (!f->xname || !f->ident_value) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return 0;
}

static int load_record(ma_flatfile *ff, ffrec *r, const xmlNode *x, ma_error *err)
{
    r->key = attr_dup(x, "key", "");
    r->name = attr_dup(x, "name", "");
    if (!r->key || !r->name) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (ma_xml_enum(x, "detectFormat", detect_formats, 0, 0, &r->by_values, err) < 0) {
        ma_error_prefix(err, "flat file profile %s: record '%s'", ff->label, r->name);
        return -1;
    }
    long col = 0;
    for (const xmlNode *g = ma_xml_child(x, "FlatFileElements"); g; g = ma_xml_next(g, "FlatFileElements")) {
        ffgroup *ng = realloc(r->g, (r->ng + 1) * sizeof *ng);
        if (!ng) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        r->g = ng;
        ffgroup *gr = &r->g[r->ng++];
        memset(gr, 0, sizeof *gr);
        gr->key = attr_dup(g, "key", "");
        gr->name = attr_dup(g, "name", "");
        char **used = calloc(r->ng, sizeof *used);
        if (!gr->key || !gr->name || !used) {
            free(used);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i + 1 < r->ng; i++) used[i] = r->g[i].xname;
        gr->xname = xml_name(gr->name, gr->key, used, r->ng - 1);
        free(used);
        if (!gr->xname) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        for (const xmlNode *e = ma_xml_child(g, "FlatFileElement"); e; e = ma_xml_next(e, "FlatFileElement"))
            if (load_field(ff, r, e, r->ng - 1, &col, err) < 0) return -1;
    }
    if (!r->nf)
        return ma_error_set(err, MA_ERR_CONFIG, "flat file profile %s: record '%s' (key %s) has no elements", ff->label,
                            r->name, r->key);
    if (r->by_values) {
        size_t k = 0;
        for (size_t i = 0; i < r->nf; i++) k += r->f[i].ident;
        if (!k)
            return ma_error_set(err, MA_ERR_CONFIG,
                                "flat file profile %s: record '%s' is detected by unique values but no element is "
                                "used to identify it",
                                ff->label, r->name);
    }
    if (ff->positioned) {
        r->order = malloc(r->nf * sizeof *r->order);
        if (!r->order) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < r->nf; i++) r->order[i] = i;
        for (size_t i = 1; i < r->nf; i++) /* insertion sort by start column, stable */
            for (size_t j = i; j > 0 && r->f[r->order[j - 1]].start > r->f[r->order[j]].start; j--) {
                size_t t = r->order[j];
                r->order[j] = r->order[j - 1];
                r->order[j - 1] = t;
            }
    }
    return 0;
}

static int one_char(ma_flatfile *ff, const char *what, const char *v, char *out, ma_error *err)
{
    *out = 0;
    if (!v || !*v) return 0;
    if (v[1])
        return ma_error_set(err, MA_ERR_UNSUPPORTED, "flat file profile %s: %s '%s' is not one character", ff->label,
                            what, v);
    *out = v[0];
    return 0;
}

/* GeneralInfo fileType, DelimitedOptions fileDelimiter and textQualifier (decisions/022; the corpus
 * has delimited, commadelimited, stardelimited and na; docs/decisions/027-option-values.md) */
static const ma_enum file_types[] = {
    {"delimited", 0, 0},
    {"datapositioned", 1, 0},
    {NULL, 0, 0},
};
enum { DELIM_COMMA, DELIM_STAR, DELIM_TAB, DELIM_TICK, DELIM_BAR, DELIM_OTHER, DELIM_BYTE };
static const ma_enum delimiters[] = {
    {"commadelimited", DELIM_COMMA, 0}, {"stardelimited", DELIM_STAR, 0},
    {"tabdelimited", DELIM_TAB, 0},     {"tickdelimited", DELIM_TICK, 0},
    {"bardelimited", DELIM_BAR, 0},     {"othercharacter", DELIM_OTHER, 0},
    {"bytecharacter", DELIM_BYTE, 0},   {"otherdelimited", DELIM_OTHER, 0},
    {"bytedelimited", DELIM_BYTE, 0},   {NULL, 0, 0},
};
static const ma_enum qualifiers[] = {
    {"na", 0, 0},
    {"textqualifierdouble", '"', 0},
    {"textqualifiersingle", '\'', 0},
    {"none", 0, MA_ENUM_OLD},
    {"doublequote", '"', MA_ENUM_OLD},
    {"singlequote", '\'', MA_ENUM_OLD},
    {NULL, 0, 0},
};

static int load_options(ma_flatfile *ff, const xmlNode *root, ma_error *err)
{
    const xmlNode *pp = ma_xml_child(root, "ProfileProperties");
    const xmlNode *gi = ma_xml_child(pp, "GeneralInfo");
    const xmlNode *opts = ma_xml_child(pp, "Options");
    const xmlNode *dopt = ma_xml_child(opts, "DataOptions");
    const xmlNode *del = ma_xml_child(opts, "DelimitedOptions");
    int rc = 0;
    if (ma_xml_enum(gi, "fileType", file_types, 0, 0, &ff->positioned, err) < 0) {
        ma_error_prefix(err, "flat file profile %s", ff->label);
        return -1;
    }
    ff->header = is_true(gi, "useColumnHeaders");
    char *pad = ma_xml_attr(dopt, "padcharacter");
    ff->pad = pad && *pad ? pad[0] : ' ';
    if (pad && *pad && pad[1])
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED, "flat file profile %s: pad character '%s' is not one character",
                          ff->label, pad);
    free(pad);
    if (rc < 0) return -1;
    char *fd = ma_xml_attr(del, "fileDelimiter"), *special = ma_xml_attr(del, "fileDelimiterSpecial");
    static const char *const delim_text[] = {",", "*", "\t", "`", "|"}; /* by DELIM_COMMA ... DELIM_BAR */
    const char *d = NULL;
    char byte[2] = {0, 0};
    int dk = DELIM_COMMA;
    if (!ff->positioned && ma_enum_parse(delimiters, "fileDelimiter", fd, DELIM_COMMA, 0, &dk, err) < 0) {
        ma_error_prefix(err, "flat file profile %s", ff->label);
        free(fd);
        free(special);
        return -1;
    }
    if (dk <= DELIM_BAR) d = delim_text[dk];
    if (dk == DELIM_OTHER) d = special && *special ? special : NULL;
    if (dk == DELIM_BYTE && special && *special) {
        char *end;
        long v = strtol(special, &end, 0); /* 0XFF, 0x09, 9 (Java Byte.decode) */
        if (!*end && v > 0 && v < 256) {
            byte[0] = (char)v;
            d = byte;
        }
    }
    if (!d && !ff->positioned)
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED, "flat file profile %s: file delimiter '%s'%s%s%s is not supported",
                          ff->label, fd ? fd : "", special && *special ? " ('" : "", special && *special ? special : "",
                          special && *special ? "')" : "");
    if (rc == 0 && !(ff->delim = ma_strdup(d ? d : ","))) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (rc == 0) ff->dlen = strlen(ff->delim);
    free(fd);
    free(special);
    if (rc < 0) return -1;
    int q = 0;
    if (ma_xml_enum(del, "textQualifier", qualifiers, 0, 0, &q, err) < 0) {
        ma_error_prefix(err, "flat file profile %s", ff->label);
        return -1;
    }
    ff->qual = (char)q;
    char *qe = ma_xml_attr(del, "textQualifierEscape"), *de = ma_xml_attr(del, "delimiterEscape"),
         *ee = ma_xml_attr(del, "escapeEscape");
    if (one_char(ff, "text qualifier escape", qe, &ff->qesc, err) < 0 ||
        one_char(ff, "delimiter escape", de, &ff->desc, err) < 0 ||
        one_char(ff, "escape for escape", ee, &ff->eesc, err) < 0)
        rc = -1;
    free(qe);
    free(de);
    free(ee);
    ff->remove_escape = is_true(del, "removeEscape");
    return rc;
}

ma_flatfile *ma_flatfile_compile(const ma_component *c, ma_error *err)
{
    if (!c) {
        ma_error_set(err, MA_ERR_USAGE, "ma_flatfile_compile: no component");
        return NULL;
    }
    ma_flatfile *ff = calloc(1, sizeof *ff);
    if (!ff || !(ff->label = ma_asprintf("'%s' (%s)", c->name, c->id))) {
        free(ff);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    const xmlNode *root = c->object;
    if (!root || !ma_xml_is(root, "FlatFileProfile")) {
        ma_error_set(err, MA_ERR_CONFIG, "flat file profile %s has no <FlatFileProfile>", ff->label);
        goto fail;
    }
    if (load_options(ff, root, err) < 0) goto fail;
    const xmlNode *de = ma_xml_child(root, "DataElements");
    for (const xmlNode *x = ma_xml_child(de, "FlatFileRecord"); x; x = ma_xml_next(x, "FlatFileRecord")) {
        if (ff->nr >= MA_FLATFILE_MAX_RECORDS) {
            ma_error_set(err, MA_ERR_LIMIT, "flat file profile %s has more than %d record formats", ff->label,
                         MA_FLATFILE_MAX_RECORDS);
            goto fail;
        }
        ffrec *nr = realloc(ff->r, (ff->nr + 1) * sizeof *nr);
        if (!nr) {
            ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto fail;
        }
        ff->r = nr;
        ffrec *r = &ff->r[ff->nr++];
        memset(r, 0, sizeof *r);
        if (load_record(ff, r, x, err) < 0) goto fail;
        char **used = calloc(ff->nr, sizeof *used);
        if (!used) {
            ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i + 1 < ff->nr; i++) used[i] = ff->r[i].xname;
        r->xname = xml_name(r->name, r->key, used, ff->nr - 1);
        free(used);
        if (!r->xname) {
            ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    if (!ff->nr) {
        ma_error_set(err, MA_ERR_CONFIG, "flat file profile %s has no <FlatFileRecord>", ff->label);
        goto fail;
    }
    return ff;
fail:
    ma_flatfile_free(ff);
    return NULL;
}

const char *ma_flatfile_xml_name(const ma_flatfile *ff, const char *key)
{
    if (!ff || !key) return NULL;
    for (size_t i = 0; i < ff->nr; i++) {
        const ffrec *r = &ff->r[i];
        if (strcmp(r->key, key) == 0) return r->xname;
        for (size_t k = 0; k < r->ng; k++)
            if (strcmp(r->g[k].key, key) == 0) return r->g[k].xname;
        for (size_t k = 0; k < r->nf; k++)
            if (strcmp(r->f[k].key, key) == 0) return r->f[k].xname;
    }
    return NULL;
}

char *ma_flatfile_field_path(const ma_flatfile *ff, const char *key)
{
    if (!ff || !key) return NULL;
    for (size_t i = 0; i < ff->nr; i++) {
        const ffrec *r = &ff->r[i];
        for (size_t k = 0; k < r->nf; k++)
            if (strcmp(r->f[k].key, key) == 0)
                return ma_asprintf("%s/%s/%s", r->name, r->g[r->f[k].group].name, r->f[k].name);
    }
    return NULL;
}

char *ma_flatfile_field_xml_path(const ma_flatfile *ff, const char *key)
{
    if (!ff || !key) return NULL;
    for (size_t i = 0; i < ff->nr; i++) {
        const ffrec *r = &ff->r[i];
        for (size_t k = 0; k < r->nf; k++)
            if (strcmp(r->f[k].key, key) == 0)
                return ma_asprintf("%s/%s/%s/%s", MA_FLATFILE_ROOT, r->xname, r->g[r->f[k].group].xname, r->f[k].xname);
    }
    return NULL;
}

/* ---- numbers ----------------------------------------------------------------------------- */

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

/* Plain decimal from sign, integer digits and fraction digits: no leading zeros, no trailing
 * fraction zeros, "0" for zero. */
static char *plain_from(int neg, const char *ip, size_t il, const char *fp, size_t fl)
{
    while (il > 1 && *ip == '0') ip++, il--;
    while (fl && fp[fl - 1] == '0') fl--;
    if (!il) ip = "0", il = 1;
    if (il == 1 && *ip == '0' && !fl) neg = 0;
    return ma_asprintf("%s%.*s%s%.*s", neg ? "-" : "", (int)il, ip, fl ? "." : "", (int)fl, fp);
}

char *ma_ff_number_read(const char *pattern, int implied, const char *text, ma_error *err)
{
    numpat np;
    if (numpat_parse(pattern, &np, err) < 0) return NULL;
    const char *s = skip_ws(text ? text : "");
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    const char *e = s + n;
    int neg = 0;
    if (s < e && (*s == '-' || *s == '+')) neg = *s++ == '-';
    if (np.plen && (size_t)(e - s) >= np.plen && strncmp(s, np.prefix, np.plen) == 0) s += np.plen;
    if (!neg && s < e && (*s == '-' || *s == '+')) neg = *s++ == '-';
    if (np.slen && (size_t)(e - s) >= np.slen && strncmp(e - np.slen, np.suffix, np.slen) == 0) e -= np.slen;
    ma_sb ip, fp;
    ma_sb_init(&ip);
    ma_sb_init(&fp);
    int point = 0, digits = 0, bad = s >= e;
    for (const char *p = s; p < e && !bad; p++) {
        if (*p >= '0' && *p <= '9') {
            ma_sb_putc(point ? &fp : &ip, *p);
            digits++;
        } else if (*p == '.' && !point) point = 1;
        else if (*p == ',' && !point && np.group && digits) continue;
        else bad = 1;
    }
    char *r = NULL;
    if (bad || !digits) {
        ma_error_set(err, MA_ERR_PARSE, "'%s' is not a number%s%s%s", text ? text : "",
                     pattern && *pattern ? " (format '" : "", pattern && *pattern ? pattern : "",
                     pattern && *pattern ? "')" : "");
    } else if (implied > 0 && !point) {
        /* the last `implied` digits are the fraction */
        const char *d = ip.s ? ip.s : "";
        size_t l = ip.len;
        char *zeros = calloc((size_t)implied + 1, 1);
        if (zeros) {
            memset(zeros, '0', (size_t)implied);
            char *all = ma_asprintf("%s%s", l < (size_t)implied ? zeros + l : "", d);
            if (all) {
                size_t al = strlen(all);
                r = plain_from(neg, all, al - (size_t)implied, all + al - implied, (size_t)implied);
                free(all);
            }
            free(zeros);
        }
        if (!r) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    } else {
        r = plain_from(neg, ip.s ? ip.s : "", ip.len, fp.s ? fp.s : "", fp.len);
        if (!r) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    ma_sb_free(&ip);
    ma_sb_free(&fp);
    return r;
}

/* Rounds the digit string d (integer digits il, then fraction) to keep fraction digits, half-even,
 * in place; may grow by one leading digit (returned string is malloc'ed). */
static char *round_digits(const char *d, size_t il, size_t fl, size_t keep, size_t *new_il)
{
    *new_il = il;
    if (fl <= keep) return ma_strndup(d, il + fl);
    size_t n = il + keep;
    char *r = malloc(n + 2);
    if (!r) return NULL;
    r[0] = '0';
    memcpy(r + 1, d, n);
    r[n + 1] = '\0';
    int up;
    char first = d[n];
    int rest_nonzero = 0;
    for (size_t i = n + 1; i < il + fl; i++)
        if (d[i] != '0') rest_nonzero = 1;
    if (first > '5' || (first == '5' && rest_nonzero)) up = 1;
    else if (first == '5') up = n > 0 && ((d[n - 1] - '0') % 2 == 1); /* half-even */
    else up = 0;
    for (size_t i = n; up && i > 0; i--) {
        if (r[i] == '9') r[i] = '0';
        else {
            r[i]++;
            up = 0;
        }
    }
    if (up || n == 0) {
        if (up) r[0] = '1';
        if (!up && n == 0) { /* nothing kept and no carry: zero */
            r[0] = '0';
            r[1] = '\0';
            *new_il = 1;
            return r;
        }
        *new_il = il + 1;
        return r;
    }
    memmove(r, r + 1, n + 1);
    return r;
}

char *ma_ff_number_write(const char *pattern, int implied, const char *plain, ma_error *err)
{
    numpat np;
    if (numpat_parse(pattern, &np, err) < 0) return NULL;
    const char *s = skip_ws(plain ? plain : "");
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    int neg = 0;
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    ma_sb dg;
    ma_sb_init(&dg);
    size_t il = 0, fl = 0;
    int point = 0, bad = 0;
    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            ma_sb_putc(&dg, s[i]);
            if (point) fl++;
            else il++;
        } else if (s[i] == '.' && !point) point = 1;
        else bad = 1;
    }
    if (bad || il + fl == 0) {
        ma_sb_free(&dg);
        ma_error_set(err, MA_ERR_PARSE, "'%s' is not a number", plain ? plain : "");
        return NULL;
    }
    char *digits = ma_sb_take(&dg, NULL);
    if (!digits) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (implied > 0) { /* move the point right: the fraction's first digits join the integer */
        size_t mv = (size_t)implied;
        char *z = NULL;
        if (fl < mv) {
            z = ma_asprintf("%s%0*d", digits, (int)(mv - fl), 0);
            free(digits);
            digits = z;
            if (!digits) {
                ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                return NULL;
            }
            fl = mv;
        }
        il += mv;
        fl -= mv;
        np.max_frac = np.min_frac = 0;
        np.has_point = 0;
    } else if (!pattern || !*pattern) {
        char *r = plain_from(neg, digits, il, digits + il, fl);
        free(digits);
        if (!r) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return r;
    }
    size_t nil;
    char *rd = round_digits(digits, il, fl, (size_t)np.max_frac, &nil);
    free(digits);
    if (!rd) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    size_t rl = strlen(rd), nfl = rl - nil;
    const char *ip = rd;
    size_t ipl = nil;
    while (ipl > 0 && *ip == '0') ip++, ipl--;
    size_t fkeep = nfl;
    while (fkeep > (size_t)np.min_frac && rd[nil + fkeep - 1] == '0') fkeep--;
    ma_sb b;
    ma_sb_init(&b);
    if (neg) ma_sb_putc(&b, '-');
    ma_sb_append(&b, np.prefix, np.plen);
    size_t total = ipl < (size_t)np.min_int ? (size_t)np.min_int : ipl;
    if (total == 0 && fkeep == 0) total = 1; /* zero is written "0" */
    for (size_t k = 0; k < total; k++) {
        size_t from_right = total - k;
        char c = from_right > ipl ? '0' : ip[ipl - from_right];
        if (k && np.group && from_right % (size_t)np.group == 0) ma_sb_putc(&b, ',');
        ma_sb_putc(&b, c);
    }
    if (fkeep || np.min_frac) {
        ma_sb_putc(&b, '.');
        ma_sb_append(&b, rd + nil, fkeep);
        for (size_t k = fkeep; k < (size_t)np.min_frac; k++) ma_sb_putc(&b, '0');
    }
    ma_sb_append(&b, np.suffix, np.slen);
    free(rd);
    char *r = ma_sb_take(&b, NULL);
    if (!r) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return r;
}

/* ---- reading ----------------------------------------------------------------------------- */

typedef struct rd {
    const ma_flatfile *ff;
    const char *d;
    size_t len, pos, line; /* line: 1-based line at pos */
    ma_error *err;
} rd;

typedef struct vals {
    char **v;
    size_t n, cap;
} vals;

static void vals_clear(vals *v)
{
    for (size_t i = 0; i < v->n; i++) free(v->v[i]);
    v->n = 0;
}

static int vals_push(vals *v, char *s)
{
    if (!s) return -1;
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 16;
        char **nv = realloc(v->v, nc * sizeof *nv);
        if (!nv) {
            free(s);
            return -1;
        }
        v->v = nv;
        v->cap = nc;
    }
    v->v[v->n++] = s;
    return 0;
}

static int at_delim(const rd *r, size_t p)
{
    return r->ff->dlen && p + r->ff->dlen <= r->len && memcmp(r->d + p, r->ff->delim, r->ff->dlen) == 0;
}

static int at_eol(const rd *r, size_t p)
{
    return p >= r->len || r->d[p] == '\n' || (r->d[p] == '\r' && (p + 1 >= r->len || r->d[p + 1] == '\n'));
}

/* Reads one delimited record at r->pos into v; r->pos ends after its line terminator. */
static int read_delimited(rd *r, vals *v, size_t *end)
{
    const ma_flatfile *ff = r->ff;
    for (;;) {
        ma_sb b;
        ma_sb_init(&b);
        size_t p = r->pos;
        size_t q = p;
        while (q < r->len && (r->d[q] == ' ' || r->d[q] == '\t')) q++;
        if (ff->qual && q < r->len && r->d[q] == ff->qual) {
            /* a text-qualified value: white space outside the qualifiers is dropped */
            size_t start_line = r->line;
            p = q + 1;
            int closed = 0;
            while (p < r->len) {
                char c = r->d[p];
                if (ff->eesc && c == ff->eesc && p + 1 < r->len &&
                    (r->d[p + 1] == ff->qesc || r->d[p + 1] == ff->eesc) && r->d[p + 1]) {
                    if (!ff->remove_escape) ma_sb_putc(&b, c);
                    ma_sb_putc(&b, r->d[p + 1]);
                    p += 2;
                } else if (ff->qesc && c == ff->qesc && p + 1 < r->len && r->d[p + 1] == ff->qual &&
                           ff->qesc != ff->qual) {
                    if (!ff->remove_escape) ma_sb_putc(&b, c);
                    ma_sb_putc(&b, ff->qual);
                    p += 2;
                } else if (c == ff->qual && p + 1 < r->len && r->d[p + 1] == ff->qual) {
                    ma_sb_putc(&b, ff->qual); /* a doubled qualifier */
                    p += 2;
                } else if (c == ff->qual) {
                    closed = 1;
                    p++;
                    break;
                } else {
                    if (c == '\n') r->line++;
                    ma_sb_putc(&b, c);
                    p++;
                }
            }
            if (!closed) {
                ma_sb_free(&b);
                return ma_error_set(r->err, MA_ERR_PARSE, "line %zu, field %zu: the text qualifier %c is not closed",
                                    start_line, v->n + 1, ff->qual);
            }
            /* after the closing qualifier: white space, then a delimiter or the line's end; anything else is kept */
            while (p < r->len && !at_delim(r, p) && !at_eol(r, p)) {
                if (r->d[p] != ' ' && r->d[p] != '\t') ma_sb_putc(&b, r->d[p]);
                p++;
            }
        } else {
            while (p < r->len && !at_delim(r, p) && !at_eol(r, p)) {
                char c = r->d[p];
                if (ff->eesc && c == ff->eesc && p + 1 < r->len && r->d[p + 1] && r->d[p + 1] == ff->desc) {
                    if (!ff->remove_escape) ma_sb_putc(&b, c);
                    ma_sb_putc(&b, r->d[p + 1]);
                    p += 2;
                } else if (ff->desc && c == ff->desc && at_delim(r, p + 1)) {
                    if (!ff->remove_escape) ma_sb_putc(&b, c);
                    ma_sb_append(&b, ff->delim, ff->dlen);
                    p += 1 + ff->dlen;
                } else {
                    ma_sb_putc(&b, c);
                    p++;
                }
            }
        }
        char *val = ma_sb_take(&b, NULL);
        if (!val) val = ma_strdup("");
        if (vals_push(v, val) < 0) return ma_error_set(r->err, MA_ERR_NOMEM, "out of memory");
        if (v->n > MA_FLATFILE_MAX_FIELDS)
            return ma_error_set(r->err, MA_ERR_LIMIT, "line %zu has more than %d fields", r->line,
                                MA_FLATFILE_MAX_FIELDS);
        if (at_delim(r, p)) {
            r->pos = p + ff->dlen;
            continue;
        }
        *end = p;
        if (p < r->len && r->d[p] == '\r') p++;
        if (p < r->len && r->d[p] == '\n') p++;
        r->pos = p;
        return 0;
    }
}

static int blank_line(const rd *r, size_t p, size_t *next)
{
    size_t q = p;
    while (q < r->len && (r->d[q] == ' ' || r->d[q] == '\t')) q++;
    if (q < r->len && !at_eol(r, q)) return 0;
    if (q < r->len && r->d[q] == '\r') q++;
    if (q < r->len && r->d[q] == '\n') q++;
    *next = q;
    return 1;
}

/* Byte offset of code point number cp in s[0..len), or len. */
static size_t cp_offset(const char *s, size_t len, long cp)
{
    size_t i = 0;
    for (long k = 0; k < cp && i < len; k++) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
    }
    return i;
}

static long cp_count(const char *s, size_t len)
{
    long n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

static char *positioned_value(const ma_flatfile *ff, const fffield *f, const char *line, size_t ll)
{
    size_t a = cp_offset(line, ll, f->start);
    size_t z = a + cp_offset(line + a, ll - a, f->length);
    while (z > a && (line[z - 1] == ff->pad || (!f->right && line[z - 1] == ' '))) z--;
    while (a < z && (line[a] == ff->pad || (f->right && line[a] == ' '))) a++;
    return ma_strndup(line + a, z - a);
}

static int ident_matches(const ma_flatfile *ff, const ffrec *rec, const vals *v, const char *line, size_t ll)
{
    for (size_t i = 0; i < rec->nf; i++) {
        const fffield *f = &rec->f[i];
        if (!f->ident) continue;
        int ok;
        if (ff->positioned) {
            char *x = positioned_value(ff, f, line, ll);
            ok = x && strcmp(x, f->ident_value) == 0;
            free(x);
        } else {
            ok = i < v->n && strcmp(v->v[i], f->ident_value) == 0;
        }
        if (!ok) return 0;
    }
    return 1;
}

/* The record format of a line: the one format, or the first whose detection rule matches. */
static long detect(const ma_flatfile *ff, const vals *v, const char *line, size_t ll)
{
    if (ff->nr == 1 && !ff->r[0].by_values) return 0;
    for (size_t k = 0; k < ff->nr; k++) {
        const ffrec *rec = &ff->r[k];
        if (rec->by_values) {
            if (ident_matches(ff, rec, v, line, ll)) return (long)k;
        } else if (ff->positioned ? cp_count(line, ll) == rec->width : v->n == rec->nf) {
            return (long)k;
        }
    }
    return -1;
}

int ma_flatfile_scan(const ma_flatfile *ff, const char *data, size_t len, int (*fn)(void *ctx, const ma_ff_record *r),
                     void *ctx, ma_error *err)
{
    if (!ff || !fn) return ma_error_set(err, MA_ERR_USAGE, "ma_flatfile_scan: missing argument");
    if (len > MA_DOC_MAX_SIZE)
        return ma_error_set(err, MA_ERR_LIMIT, "the document is larger than %zu bytes", (size_t)MA_DOC_MAX_SIZE);
    rd r = {.ff = ff, .d = data ? data : "", .len = data ? len : 0, .pos = 0, .line = 1, .err = err};
    vals v = {0};
    const char **keys = NULL;
    size_t nkeys = 0;
    int rc = 0, first = 1;
    while (r.pos < r.len && rc == 0) {
        size_t next;
        if (blank_line(&r, r.pos, &next)) { /* white-space-only rows are empty rows */
            r.pos = next;
            r.line++;
            continue;
        }
        size_t start = r.pos, line = r.line, end = r.pos;
        vals_clear(&v);
        if (ff->positioned) {
            const char *nl = memchr(r.d + r.pos, '\n', r.len - r.pos);
            end = nl ? (size_t)(nl - r.d) : r.len;
            r.pos = nl ? end + 1 : r.len;
            if (end > start && r.d[end - 1] == '\r') end--;
            r.line++;
        } else {
            if (read_delimited(&r, &v, &end) < 0) {
                rc = -1;
                break;
            }
            r.line++;
        }
        ma_ff_record rec = {.line = line, .text = r.d + start, .len = end - start};
        if (first && ff->header) {
            first = 0;
            rec.header = 1;
            rec.values = v.v;
            rec.n = v.n;
            rc = fn(ctx, &rec);
            continue;
        }
        first = 0;
        long k = detect(ff, &v, rec.text, rec.len);
        if (k < 0) {
            if (ff->positioned)
                rc = ma_error_set(err, MA_ERR_PARSE, "line %zu (%ld characters) matches no record format of profile %s",
                                  line, cp_count(rec.text, rec.len), ff->label);
            else
                rc = ma_error_set(err, MA_ERR_PARSE, "line %zu (%zu fields) matches no record format of profile %s",
                                  line, v.n, ff->label);
            break;
        }
        const ffrec *fr = &ff->r[k];
        if (ff->positioned) {
            for (size_t i = 0; i < fr->nf && rc == 0; i++)
                if (vals_push(&v, positioned_value(ff, &fr->f[i], rec.text, rec.len)) < 0)
                    rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        } else if (v.n > fr->nf) {
            rc = ma_error_set(err, MA_ERR_PARSE,
                              "line %zu has %zu fields; record '%s' of profile %s has %zu (field %zu, '%.40s', is one "
                              "too many)",
                              line, v.n, fr->name, ff->label, fr->nf, fr->nf + 1, v.v[fr->nf]);
        } else {
            while (v.n < fr->nf && rc == 0) /* missing trailing fields are empty */
                if (vals_push(&v, ma_strdup("")) < 0) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        if (rc < 0) break;
        if (nkeys < fr->nf) {
            const char **nk = realloc(keys, fr->nf * sizeof *nk);
            if (!nk) {
                rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                break;
            }
            keys = nk;
            nkeys = fr->nf;
        }
        for (size_t i = 0; i < fr->nf; i++) keys[i] = fr->f[i].key;
        rec.format = (size_t)k;
        rec.values = v.v;
        rec.keys = keys;
        rec.n = fr->nf;
        rc = fn(ctx, &rec);
    }
    vals_clear(&v);
    free(v.v);
    free(keys);
    return rc;
}

/* ---- to XML ------------------------------------------------------------------------------ */

typedef struct toxml {
    const ma_flatfile *ff;
    xmlDoc *doc;
    xmlNode *root;
    ma_error *err;
} toxml;

static int add_record(void *ctx, const ma_ff_record *r)
{
    toxml *t = ctx;
    if (r->header) return 0;
    const ffrec *fr = &t->ff->r[r->format];
    xmlNode *rn = xmlNewChild(t->root, NULL, (const xmlChar *)fr->xname, NULL);
    if (!rn) return ma_error_set(t->err, MA_ERR_NOMEM, "out of memory");
    xmlNode *gn = NULL;
    size_t cur = (size_t)-1;
    for (size_t i = 0; i < fr->nf; i++) {
        const fffield *f = &fr->f[i];
        if (f->group != cur) {
            cur = f->group;
            if (!(gn = xmlNewChild(rn, NULL, (const xmlChar *)fr->g[cur].xname, NULL)))
                return ma_error_set(t->err, MA_ERR_NOMEM, "out of memory");
        }
        const char *v = r->values[i];
        char *conv = NULL;
        if (*v && f->type == FT_NUMBER) {
            ma_error e = {0};
            if (!(conv = ma_ff_number_read(f->numfmt, f->implied, v, &e)))
                return ma_error_set(t->err, e.code ? e.code : MA_ERR_NOMEM, "line %zu, field '%s' (key %s): %s",
                                    r->line, f->name, f->key, e.msg);
            v = conv;
        } else if (*v && f->type == FT_DATE && f->date) {
            ma_error e = {0};
            time_t secs;
            int ms;
            if (ma_datefmt_parse(f->date, v, &secs, &ms, &e) < 0)
                return ma_error_set(t->err, MA_ERR_PARSE,
                                    "line %zu, field '%s' (key %s): '%s' does not match the date format '%s'", r->line,
                                    f->name, f->key, v, f->mask);
        }
        xmlNode *fn = xmlNewChild(gn, NULL, (const xmlChar *)f->xname, NULL);
        if (fn && *v) xmlNodeAddContent(fn, (const xmlChar *)v); /* text, escaped by the serializer */
        free(conv);
        if (!fn) return ma_error_set(t->err, MA_ERR_NOMEM, "out of memory");
    }
    return 0;
}

xmlDoc *ma_flatfile_to_xml(const ma_flatfile *ff, const char *data, size_t len, ma_error *err)
{
    if (!ff) {
        ma_error_set(err, MA_ERR_USAGE, "ma_flatfile_to_xml: no profile");
        return NULL;
    }
    xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *root = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *)MA_FLATFILE_ROOT, NULL) : NULL;
    if (!root) {
        xmlFreeDoc(doc);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    xmlDocSetRootElement(doc, root);
    toxml t = {.ff = ff, .doc = doc, .root = root, .err = err};
    if (ma_flatfile_scan(ff, data, len, add_record, &t, err) != 0) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* ---- from XML ---------------------------------------------------------------------------- */

/* Boomi puts every character element between qualifiers; an empty one is written empty. */
static int needs_qualifier(const ma_flatfile *ff, const char *v) { return ff->qual != 0 && *v; }

static void put_delimited(const ma_flatfile *ff, ma_sb *b, const char *v, int character)
{
    if (character && needs_qualifier(ff, v)) {
        ma_sb_putc(b, ff->qual);
        for (const char *p = v; *p; p++) {
            if (*p == ff->qual) ma_sb_putc(b, ff->qesc && ff->qesc != ff->qual ? ff->qesc : ff->qual);
            ma_sb_putc(b, *p);
        }
        ma_sb_putc(b, ff->qual);
        return;
    }
    for (const char *p = v; *p; p++) {
        if (ff->desc && ff->dlen && strncmp(p, ff->delim, ff->dlen) == 0) ma_sb_putc(b, ff->desc);
        ma_sb_putc(b, *p);
    }
}

static void put_positioned(const ma_flatfile *ff, ma_sb *b, long *col, const fffield *f, const char *v)
{
    while (*col < f->start) {
        ma_sb_putc(b, ff->pad);
        (*col)++;
    }
    if (*col > f->start) return; /* overlaps the previous element: written once */
    size_t vl = strlen(v);
    long n = cp_count(v, vl);
    if (n > f->length) { /* too long: cut to the width, keeping the side it is justified to */
        size_t off = f->right ? cp_offset(v, vl, n - f->length) : 0;
        vl = cp_offset(v + off, vl - off, f->length);
        v += off;
        n = f->length;
    }
    if (f->right)
        for (long k = n; k < f->length; k++) ma_sb_putc(b, ff->pad);
    ma_sb_append(b, v, vl);
    if (!f->right)
        for (long k = n; k < f->length; k++) ma_sb_putc(b, ff->pad);
    *col += f->length;
}

static void write_header(const ma_flatfile *ff, ma_sb *b)
{
    const ffrec *fr = &ff->r[0];
    long col = 0;
    for (size_t i = 0; i < fr->nf; i++) {
        if (ff->positioned) {
            const fffield *f = &fr->f[fr->order[i]];
            put_positioned(ff, b, &col, f, f->name);
        } else {
            if (i) ma_sb_append(b, ff->delim, ff->dlen);
            put_delimited(ff, b, fr->f[i].name, 1);
        }
    }
    ma_sb_putc(b, '\n');
}

static const ffrec *rec_by_xname(const ma_flatfile *ff, const char *name)
{
    for (size_t i = 0; i < ff->nr; i++)
        if (strcmp(ff->r[i].xname, name) == 0) return &ff->r[i];
    return NULL;
}

static int write_record(const ma_flatfile *ff, const ffrec *fr, const xmlNode *rn, size_t recno, ma_sb *b,
                        ma_error *err)
{
    char **v = calloc(fr->nf, sizeof *v);
    if (!v) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    int rc = 0;
    for (const xmlNode *g = rn->children; g && rc == 0; g = g->next) {
        if (g->type != XML_ELEMENT_NODE) continue;
        size_t gi = fr->ng;
        for (size_t k = 0; k < fr->ng; k++)
            if (strcmp(fr->g[k].xname, (const char *)g->name) == 0) gi = k;
        if (gi == fr->ng) {
            rc = ma_error_set(err, MA_ERR_RUNTIME, "record %zu '%s': <%s> is not an element group of the record", recno,
                              fr->name, (const char *)g->name);
            break;
        }
        for (const xmlNode *e = g->children; e && rc == 0; e = e->next) {
            if (e->type != XML_ELEMENT_NODE) continue;
            size_t fi = fr->nf;
            for (size_t k = 0; k < fr->nf; k++)
                if (fr->f[k].group == gi && strcmp(fr->f[k].xname, (const char *)e->name) == 0) fi = k;
            if (fi == fr->nf) {
                rc = ma_error_set(err, MA_ERR_RUNTIME, "record %zu '%s': <%s> is not an element of the record", recno,
                                  fr->name, (const char *)e->name);
                break;
            }
            free(v[fi]);
            if (!(v[fi] = ma_xml_text((const ma_xml_node *)e))) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    }
    for (size_t i = 0; i < fr->nf && rc == 0; i++) {
        const fffield *f = &fr->f[i];
        if (f->type != FT_NUMBER || !v[i] || !*skip_ws(v[i])) continue;
        ma_error e = {0};
        char *w = ma_ff_number_write(f->numfmt, f->implied, v[i], &e);
        if (!w)
            rc = ma_error_set(err, e.code, "record %zu '%s', field '%s' (key %s): %s", recno, fr->name, f->name, f->key,
                              e.msg);
        free(v[i]);
        v[i] = w;
    }
    if (rc == 0) {
        long col = 0;
        for (size_t i = 0; i < fr->nf; i++) {
            if (ff->positioned) {
                size_t k = fr->order[i];
                put_positioned(ff, b, &col, &fr->f[k], v[k] ? v[k] : "");
            } else {
                if (i) ma_sb_append(b, ff->delim, ff->dlen);
                const char *x = v[i] ? v[i] : "";
                put_delimited(ff, b, x, fr->f[i].type == FT_CHAR);
            }
        }
        if (ff->positioned)
            for (; col < fr->width; col++) ma_sb_putc(b, ff->pad);
        ma_sb_putc(b, '\n');
    }
    for (size_t i = 0; i < fr->nf; i++) free(v[i]);
    free(v);
    return rc;
}

char *ma_flatfile_from_xml(const ma_flatfile *ff, const xmlNode *root, size_t *len, ma_error *err)
{
    if (!ff || !root) {
        ma_error_set(err, MA_ERR_USAGE, "ma_flatfile_from_xml: missing argument");
        return NULL;
    }
    if (root->type != XML_ELEMENT_NODE || strcmp((const char *)root->name, MA_FLATFILE_ROOT) != 0) {
        ma_error_set(err, MA_ERR_RUNTIME, "the result is not a flat file tree (<%s> instead of <" MA_FLATFILE_ROOT ">)",
                     (const char *)root->name);
        return NULL;
    }
    ma_sb b;
    ma_sb_init(&b);
    if (ff->header) write_header(ff, &b);
    size_t recno = 0;
    for (const xmlNode *rn = root->children; rn; rn = rn->next) {
        if (rn->type != XML_ELEMENT_NODE) continue;
        recno++;
        const ffrec *fr = rec_by_xname(ff, (const char *)rn->name);
        if (!fr) {
            ma_error_set(err, MA_ERR_RUNTIME, "record %zu: <%s> is not a record format of profile %s", recno,
                         (const char *)rn->name, ff->label);
            ma_sb_free(&b);
            return NULL;
        }
        if (write_record(ff, fr, rn, recno, &b, err) < 0) {
            ma_sb_free(&b);
            return NULL;
        }
        if (b.len > MA_DOC_MAX_SIZE) {
            ma_sb_free(&b);
            ma_error_set(err, MA_ERR_LIMIT, "the flat file would be larger than %zu bytes", (size_t)MA_DOC_MAX_SIZE);
            return NULL;
        }
    }
    char *s = ma_sb_take(&b, len);
    if (!s) {
        s = ma_strdup("");
        if (len) *len = 0;
    }
    if (!s) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return s;
}
