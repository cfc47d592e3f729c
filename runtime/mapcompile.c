/* mapcompile.c - a Boomi Map component (type transform.map) compiled to an XSLT 1.0 stylesheet
 * (mapcompile.h), with its fromProfile and toProfile components (profile.xml, profile.json).
 * One file on purpose: the one translation from a map's mappings and functions to XSLT, whose
 * parts share the path and function tables below.
 *
 * ---- What the export format holds ----------------------------------------------------------
 * Sources: boomi-process-xml.md 3; every map and profile of shared/corpus/boomi (the PepsiCo,
 * IT Resonance, Boomi Helper Suite and RenEra exports); the OfficialBoomi/boomi-integration
 * references components/map_component.md, map_component_functions.md, xml_profile_component.md
 * and json_profile_component.md (found with the code search).
 *
 *   <Map fromProfile="ID" toProfile="ID">
 *     <Mappings>
 *       <Mapping fromType="profile" fromKey="26623" fromKeyPath="*[@key='1']/..." fromNamePath="A/b"
 *                toType="profile" toKey="3" toKeyPath="..." toNamePath="R/c"/>
 *       <Mapping fromType="profile" fromKey="4" toType="function" toFunction="1" toKey="1"/>
 *       <Mapping fromType="function" fromFunction="1" fromKey="2" toType="profile" toKey="9"/>
 *     </Mappings>
 *     <Functions optimizeExecutionOrder="true|false">
 *       <FunctionStep key="2" name="..." type="DocumentPropertyGet" category="..." x y position>
 *         <Inputs><Input key="1" name="..." default="..."/></Inputs>
 *         <Outputs><Output key="3" name="..."/></Outputs>
 *         <Configuration>...</Configuration>
 *       </FunctionStep>
 *     </Functions>
 *     <Defaults><Default toKey="6" value="Pipeline"/></Defaults>
 *     <DocumentCacheJoins/>
 *   </Map>
 *
 * - The engine matches fields by fromKey/toKey alone; keyPath and namePath are display metadata
 *   (map_component.md). Keys are the numeric `key` of profile nodes.
 * - A function's input and output ports have keys of their own (an input and an output may share
 *   one: the mapping's direction tells them apart). An unwired input, or one whose value is empty,
 *   takes its `default`. Outputs feed target fields or other functions' inputs.
 * - <Default toKey value> writes value when the field is unmapped or its mapping is empty.
 * - A function result or field value that is empty writes no target element at all (not an
 *   empty one), and an instance (an element, object or array) with nothing written into it is
 *   dropped; a map that writes nothing is an error (zero documents).
 * - One Mapping per leaf covers every occurrence of a repeating element: the engine iterates, and
 *   a repeating target mirrors the source's nesting. A repeating source read into a target that
 *   does not repeat splits the document in Boomi.
 * - datetime fields (dataType="datetime" with <ProfileDateFormat dateFormat>) go through Boomi's
 *   internal form yyyyMMdd HHmmss.SSS: a datetime source field is read as that, a datetime target
 *   field is written from it (a Date Format function therefore takes that mask for datetime
 *   fields), and datetime to datetime converts between the two masks.
 * - XML profiles: <XMLProfile><DataElements><XMLElement key name maxOccurs minOccurs dataType
 *   useNamespace isNode>... with <XMLAttribute> children (or XMLElement isNode="false");
 *   maxOccurs="-1" repeats; <Namespaces><XMLNamespace key name prefix uri> (key -1 is the empty
 *   namespace).
 * - JSON profiles: <JSONProfile><DataElements><JSONRootValue name="Root"> holding a JSONObject
 *   (entries JSONObjectEntry name=...), a JSONArray (elementType="repeating": one
 *   JSONArrayElement maxOccurs="-1" for every item; "absolute": one JSONArrayElement per
 *   position) or a scalar; dataType character, number, boolean, datetime.
 *
 * ---- What it generates ---------------------------------------------------------------------
 * One template on "/". Source fields are read with relative paths: XML by element names (@name
 * for attributes, a prefix for a profile namespace); JSON in the json-to-xml vocabulary (jsonxml.h):
 * an object entry is fn:map[@key='k'] or fn:array[@key='k'] and a value entry fn:*[@key='k'] (any
 * JSON type: Boomi reads a number in a character field too), the items of a repeating array fn:*
 * (fn:map when they are objects), item N of an absolute array fn:*[N].
 * The target tree is built in profile order, as literal result elements (XML, in the profile's
 * namespaces) or fn:map / fn:array / fn:string / fn:number / fn:boolean (JSON). Only elements that
 * are mapped, have a default or hold such elements are built, each inside a test that something
 * is written into it. A repeating target element (maxOccurs -1, a repeating JSON array) becomes an
 * xsl:for-each over the source repeating element its fields come from (the deepest one its own
 * fields need; the outermost one when only nested repeating elements have fields), with nested
 * loops for nested repeats; paths inside are relative to the loop's element. A value read from a
 * repeating source element that no enclosing loop iterates is read once, behind a run-time check
 * that fails the document (xsl:message terminate="yes") when that element occurs more than once:
 * Boomi would split the document there, which one stylesheet cannot do.
 * Functions become xsl:variable elements f<KEY>.out<PORT> (inputs with a default and a wiring
 * f<KEY>.in<PORT>) in dependency order, evaluated once in the innermost loop that holds every
 * field they feed (a Set function: the outermost loop that iterates its inputs, or the template).
 * Set functions run as <xsl:value-of select="ma:set-property(...)"/> (it writes nothing).
 *
 * ---- Function types (FunctionStep/@type) supported, with their Configuration ---------------
 *   DocumentPropertyGet   <DocumentProperty propertyId="dynamicdocument.X|mime.X|meta.base.X|
 *                         connector.X" defaultValue=".."/>; no inputs -> ma:property('ID')
 *   DocumentPropertySet   <DocumentProperty propertyId="dynamicdocument.X|mime.X|connector.X"/>;
 *                         input 1 -> ma:set-property('ID', value)
 *   PropertyGet           (Get Dynamic Process Property) <Configuration/>; inputs Property Name,
 *                         Default Value -> ma:property('process.NAME')
 *   PropertySet           (Set Dynamic Process Property) inputs Property Name, Property Value ->
 *                         ma:set-property('process.NAME', value)
 *   StringConcat          <StringConcat delimiter="-" fixedLength="20"/> -> concat(), substring()
 *   LeftTrim / RightTrim  (Left/Right Character Trim) inputs Original String, Fix to Length: keep
 *                         the rightmost / leftmost N characters -> substring()
 *   WhitespaceTrim        -> ma:trim()
 *   String2Upper / String2Lower -> ma:upper() / ma:lower()
 *   StringAppend / StringPrepend  inputs Original String, Fix to Length, Char (both unwired, with
 *                         defaults): pad with the fill or cut to the length -> substring(concat())
 *   DateFormat            inputs Date String, Input Mask, Output Mask (Java SimpleDateFormat) ->
 *                         ma:date-convert(value, inMask, outMask)
 *   CurrentDate           -> ma:date('yyyyMMdd HHmmss.SSS')
 *   NumberFormat          inputs Number String, Input Mask (unwired: # 0 , . only), Output Mask
 *                         (DecimalFormat) -> format-number(number(), mask); XSLT's format-number
 *                         takes the same JDK DecimalFormat patterns and rounds half up
 *   MathAdd / MathSubtract / MathMultiply / MathDivide / MathAbs / MathCeil / MathFloor /
 *   MathPrecision         inputs Value (and the operand, or Number of Precision) -> XPath
 *                         arithmetic; Divide keeps 10 decimals, rounded half up; Precision pads
 *                         and rounds half up (format-number). A value that is not a number and a
 *                         division by zero fail the document, as in Boomi; an empty operand (after
 *                         its default) gives an empty result.
 *   SequentialValue       <SequentialValue keyname="K" keyfixtolength="6" batchSize="1"/> ->
 *                         ma:sequence('K'), zero-padded to (and cut to the low-order digits of)
 *                         keyfixtolength. The counter goes on across executions (runtime/store.h).
 *   SimpleLookup          <SimpleLookup><Input index refId/><Output index refId/>
 *                         <CrossRefTableObj><CrossRefTable><Rows><row><Values><ref colIdx value/>
 *                         -> xsl:choose over the rows, first match wins, no match writes nothing
 *   CrossRefLookup        <CrossRefLookup crossRefTableId skipLookupIfNoInputs><Input index refId/>
 *                         <Output index refId/> (refId: 1-based column of a crossref component)
 *                         -> ma:crossref(table, outCol, inCol, value, ...) per mapped output
 *                         (map_xref.h; the table is compiled here, crossref.h)
 *   Scripting             <Scripting language="javascript|groovy|groovy2"><ScriptToExecute>
 *                         <Input index name/><Output index name/> -> ma:script(language, source,
 *                         n, inName1, value1, ..., outName1, ...) once (a handle), then
 *                         ma:script-output(handle, i) per mapped output (runtime/xslt_script.c,
 *                         the script host: docs/decisions/019-scripting.md); useComponent="true"
 *                         runs the Map Script component (runtime/script_component.h). Not runnable with the
 *                         reason when this miniatom cannot run scripts.
 * Refused (MA_ERR_UNSUPPORTED, naming the function key, name and type): userdefined,
 * ConnectorCall, SqlLookup, DocumentCacheLookup, DefinedProcessPropertyGet/Set
 * (process property components: no ma: function reads them), Sum, Sum2, Count,
 * LineItemIncrement, StringReplace, StringRemove (Java regular expressions), StringSplit,
 * TradingPartnerSet and any other type. Also refused: database and EDI profiles; document cache
 * joins; instance identifiers (fromTagListKey / toTagListKey); a missing profile.
 * Flat file profiles (profile.flatfile) are read and written as XML in the form flatfile.h
 * describes (<FlatFile><RECORD><ELEMENTS><FIELD>): the stylesheet sees that tree, the map shape
 * converts at its edges (xslt.c). A record format is a repeating element.
 *
 * Not reproduced: the trimming of leading and trailing white space as a value is written (values
 * are written as they are; only the emptiness test ignores white space); number profile formats
 * (ProfileNumberFormat numberFormat) and implied decimals; Boomi's exact decimal arithmetic
 * (XPath numbers are doubles, printed with up to 15 significant digits; "+5" and "1E3" are not
 * numbers to XPath); the difference Boomi makes between an absent source element and an empty one
 * for an input with a default (both take the default here). An element that only a profile type (<Types>)
 * declares is not found: keys are looked up in <DataElements>.
 *
 * Errors are raised with longjmp to ma_map_to_xslt, which owns every allocation made here (the
 * `allocs` list) and frees it on both paths. */
#include "mapcompile.h"
#include "script_component.h"
#include "scripthost.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "crossref.h"
#include "datefmt.h"
#include "flatfile.h"
#include "util.h"

#define FN_NS "http://www.w3.org/2005/xpath-functions"
#define MA_NS "urn:miniatom"
#define INTERNAL_DATE "yyyyMMdd HHmmss.SSS"
#define MAX_DEPTH 256
#define TRUE_EXPR "true()"

/* ---- data ---------------------------------------------------------------------------------- */

typedef enum pkind { PK_XELEM, PK_XATTR, PK_JROOT, PK_JOBJECT, PK_JENTRY, PK_JARRAY, PK_JITEM } pkind;
typedef enum dtype { DT_CHAR, DT_NUMBER, DT_DATETIME, DT_BOOLEAN } dtype;
typedef enum jcont { JC_SCALAR, JC_OBJECT, JC_ARRAY } jcont;

typedef struct fnc fnc;
typedef struct pnode pnode;

typedef struct vec {
    void **v;
    size_t n, cap;
} vec;

struct pnode {
    pkind kind;
    const char *key, *name; /* name: XML local name, JSON entry key, or the profile's node name */
    const char *path;       /* Boomi name path ("Orders/Order/id", "Root/Object/lines/...") */
    int ns;                 /* namespace table index, -1 for none */
    dtype dt;
    const char *datefmt; /* datetime mask, NULL when none */
    int repeating;
    long index;     /* item position (1-based) in an absolute JSON array, else 0 */
    jcont jc;       /* JSON: what the node holds */
    pnode *parent;  /* profile parent */
    pnode *sparent; /* nearest ancestor that is a path step (not JSONObject / JSONArray) */
    int sdepth;     /* steps from the document: 1 for the root */
    vec skids;      /* step children */
    size_t order;   /* profile document order */
    /* as a target */
    int mapping; /* 1-based index of the Mapping writing it, 0 */
    pnode *src;  /* source field written into it */
    fnc *fsrc;   /* or function output fout */
    const char *fout;
    const char *def; /* Default value, or NULL */
    int emit, loop;
    pnode *bound;         /* loop: the source element it iterates */
    pnode *pscope, *pctx; /* scope (loop node, NULL: template) and source context it is placed in */
    pnode *scope, *ctx;   /* scope and context of its content (itself and bound for a loop) */
};

typedef struct profile {
    const ma_component *comp;
    int json, target;
    ma_flatfile *ff; /* owned (freed by ma_map_to_xslt): a flat file profile's XML names */
    pnode *root;
    vec all; /* every node, in document order */
} profile;

typedef struct nsent {
    const char *uri, *prefix;
    int src, tgt; /* used by the source, by the emitted target */
} nsent;

typedef enum fkind {
    FK_DOCPROP_GET,
    FK_DOCPROP_SET,
    FK_DPP_GET,
    FK_DPP_SET,
    FK_CONCAT,
    FK_LTRIM,
    FK_RTRIM,
    FK_WSTRIM,
    FK_UPPER,
    FK_LOWER,
    FK_APPEND,
    FK_PREPEND,
    FK_DATEFORMAT,
    FK_CURRENTDATE,
    FK_NUMBERFORMAT,
    FK_ADD,
    FK_SUB,
    FK_MUL,
    FK_DIV,
    FK_ABS,
    FK_CEIL,
    FK_FLOOR,
    FK_PRECISION,
    FK_SEQUENCE,
    FK_SIMPLELOOKUP,
    FK_CROSSREF,
    FK_SCRIPT
} fkind;

static const struct {
    const char *type;
    fkind kind;
    int side_effect;
} FTYPES[] = {
    {"DocumentPropertyGet", FK_DOCPROP_GET, 0},
    {"DocumentPropertySet", FK_DOCPROP_SET, 1},
    {"PropertyGet", FK_DPP_GET, 0},
    {"PropertySet", FK_DPP_SET, 1},
    {"StringConcat", FK_CONCAT, 0},
    {"LeftTrim", FK_LTRIM, 0},
    {"RightTrim", FK_RTRIM, 0},
    {"WhitespaceTrim", FK_WSTRIM, 0},
    {"String2Upper", FK_UPPER, 0},
    {"String2Lower", FK_LOWER, 0},
    {"StringAppend", FK_APPEND, 0},
    {"StringPrepend", FK_PREPEND, 0},
    {"DateFormat", FK_DATEFORMAT, 0},
    {"CurrentDate", FK_CURRENTDATE, 0},
    {"NumberFormat", FK_NUMBERFORMAT, 0},
    {"MathAdd", FK_ADD, 0},
    {"MathSubtract", FK_SUB, 0},
    {"MathMultiply", FK_MUL, 0},
    {"MathDivide", FK_DIV, 0},
    {"MathAbs", FK_ABS, 0},
    {"MathCeil", FK_CEIL, 0},
    {"MathFloor", FK_FLOOR, 0},
    {"MathPrecision", FK_PRECISION, 0},
    {"SequentialValue", FK_SEQUENCE, 0},
    {"SimpleLookup", FK_SIMPLELOOKUP, 0},
    {"CrossRefLookup", FK_CROSSREF, 0},
    {"Scripting", FK_SCRIPT, 1},
    /* the names Boomi's Platform API gives these functions (MapExtensionsFunction type) */
    {"TrimWhitespace", FK_WSTRIM, 0},
    {"StringToUpper", FK_UPPER, 0},
    {"StringToLower", FK_LOWER, 0},
    {"MathABS", FK_ABS, 0},
    {"MathSetPrecision", FK_PRECISION, 0},
};

typedef struct port {
    const char *key, *name;
    const char *def; /* Input default, NULL when absent */
    int mapping;     /* input: 1-based Mapping feeding it, 0 */
    pnode *src;      /* input fed by a source field */
    fnc *from;       /* or by output from_out of a function */
    const char *from_out;
    int used; /* output: read by a target or a function */
} port;

struct fnc {
    xmlNode *step;
    const char *key, *name, *type, *id; /* id: "f" + key, for variable names */
    size_t index;
    fkind kind;
    int side_effect;
    port *in, *out;
    size_t nin, nout;
    vec srcs;        /* source fields it reads, directly or through other functions */
    int srcs_state;  /* 0 not computed, 1 computing, 2 done */
    int scope_state; /* 0 not computed, 1 computing, 2 done */
    int active;      /* it runs: a side effect or an output is read by an active reader */
    pnode *scope;
    int emitted;
};

typedef struct guard {
    const char *test, *msg;
} guard;

typedef struct mc {
    ma_deploy *dep;
    const ma_component *map;
    ma_error *err;
    jmp_buf jb;
    vec allocs; /* everything malloc'ed here */
    vec sbs;    /* ma_sb buffers to free */
    profile src, tgt;
    nsent *ns;
    size_t nns, capns;
    fnc *fns;
    size_t nfns;
    vec loops; /* target loop nodes in document order */
    size_t order;
} mc;

/* ---- allocation and errors ----------------------------------------------------------------- */

static void oom(mc *c) __attribute__((noreturn));
static void oom(mc *c)
{
    ma_error_set(c->err, MA_ERR_NOMEM, "out of memory");
    longjmp(c->jb, 1);
}

static void fail(mc *c, int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
static void fail(mc *c, int code, const char *fmt, ...)
{
    char msg[MA_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ma_error_set(c->err, code, "map '%s' (%s): %s", c->map->name, c->map->id, msg);
    longjmp(c->jb, 1);
}

static void track(mc *c, void *p)
{
    if (!p) oom(c);
    if (c->allocs.n == c->allocs.cap) {
        size_t cap = c->allocs.cap ? c->allocs.cap * 2 : 256;
        void **nv = realloc(c->allocs.v, cap * sizeof *nv);
        if (!nv) {
            free(p);
            oom(c);
        }
        c->allocs.v = nv;
        c->allocs.cap = cap;
    }
    c->allocs.v[c->allocs.n++] = p;
}

static void *mc_alloc(mc *c, size_t size)
{
    void *p = calloc(1, size ? size : 1);
    track(c, p);
    return p;
}

static const char *mc_strdup(mc *c, const char *s)
{
    char *d = ma_strdup(s ? s : "");
    track(c, d);
    return d;
}

static const char *mc_printf(mc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *mc_printf(mc *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) oom(c);
    track(c, s);
    return s;
}

static void vec_push(mc *c, vec *v, void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void **nv = mc_alloc(c, cap * sizeof *nv);
        if (v->n) memcpy(nv, v->v, v->n * sizeof *nv);
        v->v = nv; /* the old array stays in allocs until the end */
        v->cap = cap;
    }
    v->v[v->n++] = item;
}

static ma_sb *new_sb(mc *c)
{
    ma_sb *b = mc_alloc(c, sizeof *b);
    ma_sb_init(b);
    vec_push(c, &c->sbs, b);
    return b;
}

static void sb_check(mc *c, ma_sb *b)
{
    if (b->oom) oom(c);
}

/* Attribute value (tracked) or NULL when absent. */
static const char *attr(mc *c, const xmlNode *n, const char *name)
{
    if (!n || !xmlHasProp(n, (const xmlChar *)name)) return NULL;
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v) oom(c);
    const char *s = mc_strdup(c, (const char *)v);
    xmlFree(v);
    return s;
}

static const char *attr_or(mc *c, const xmlNode *n, const char *name, const char *dflt)
{
    const char *v = attr(c, n, name);
    return v ? v : dflt;
}

static int empty(const char *s) { return !s || !*s; }

/* ---- text helpers -------------------------------------------------------------------------- */

/* XML escaping for attribute values (attr != 0) or text. */
static const char *esc(mc *c, const char *s, int in_attr)
{
    ma_sb b;
    ma_sb_init(&b);
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&': ma_sb_puts(&b, "&amp;"); break;
        case '<': ma_sb_puts(&b, "&lt;"); break;
        case '>': ma_sb_puts(&b, "&gt;"); break;
        case '"': ma_sb_puts(&b, in_attr ? "&quot;" : "\""); break;
        case '\n': ma_sb_puts(&b, in_attr ? "&#10;" : "\n"); break;
        case '\r': ma_sb_puts(&b, "&#13;"); break;
        case '\t': ma_sb_puts(&b, in_attr ? "&#9;" : "\t"); break;
        default: ma_sb_putc(&b, *p);
        }
    }
    char *r = ma_sb_take(&b, NULL);
    track(c, r);
    return r;
}

#define EA(s) esc(c, (s), 1)
#define ET(s) esc(c, (s), 0)

/* Attribute value template: braces doubled, then escaped. */
static const char *avt(mc *c, const char *s)
{
    ma_sb b;
    ma_sb_init(&b);
    for (const char *p = s; *p; p++) {
        if (*p == '{' || *p == '}') ma_sb_putc(&b, *p);
        ma_sb_putc(&b, *p);
    }
    char *r = ma_sb_take(&b, NULL);
    track(c, r);
    return EA(r);
}

/* Text fit for an XML comment (no "--", no trailing "-"). */
static const char *cmt(mc *c, const char *s)
{
    ma_sb b;
    ma_sb_init(&b);
    for (const char *p = s ? s : ""; *p; p++) {
        ma_sb_putc(&b, *p);
        if (*p == '-' && (p[1] == '-' || !p[1])) ma_sb_putc(&b, ' ');
    }
    char *r = ma_sb_take(&b, NULL);
    track(c, r);
    return r;
}

/* XPath 1.0 string literal for s. */
static const char *xlit(mc *c, const char *s)
{
    if (!s) s = "";
    if (!strchr(s, '\'')) return mc_printf(c, "'%s'", s);
    if (!strchr(s, '"')) return mc_printf(c, "\"%s\"", s);
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "concat(");
    const char *p = s;
    int first = 1;
    while (*p) {
        size_t n = strcspn(p, "'");
        if (!first) ma_sb_puts(&b, ", ");
        first = 0;
        if (n) {
            ma_sb_printf(&b, "'%.*s'", (int)n, p);
            p += n;
        } else {
            ma_sb_puts(&b, "\"'\"");
            p++;
        }
    }
    ma_sb_puts(&b, ", '')");
    char *r = ma_sb_take(&b, NULL);
    track(c, r);
    return r;
}

static void out(ma_sb *b, int ind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void out(ma_sb *b, int ind, const char *fmt, ...)
{
    for (int i = 0; i < ind; i++) ma_sb_puts(b, "  ");
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof buf) {
        ma_sb_puts(b, buf);
    } else if (n >= 0) {
        char *big = malloc((size_t)n + 1);
        if (!big) {
            b->oom = 1;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        ma_sb_puts(b, big);
        free(big);
    }
    ma_sb_putc(b, '\n');
}

/* Variable name part from a key: letters and digits kept, anything else '_'. */
static const char *ident(mc *c, const char *s)
{
    char *r = (char *)mc_strdup(c, s);
    for (char *p = r; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) *p = '_';
    return r;
}

/* Is s a whole number (optionally signed)? */
static int is_int(const char *s, long *v)
{
    if (empty(s)) return 0;
    char *end;
    long x = strtol(s, &end, 10);
    while (*end == ' ') end++;
    if (*end) return 0;
    if (v) *v = x;
    return 1;
}

/* Number of characters (code points) of UTF-8 text. */
static size_t u8len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* ---- namespaces ---------------------------------------------------------------------------- */

static int ncname_ok(const char *s) { return !empty(s) && xmlValidateNCName((const xmlChar *)s, 0) == 0; }

static int ns_register(mc *c, const char *uri, const char *prefix)
{
    for (size_t i = 0; i < c->nns; i++)
        if (strcmp(c->ns[i].uri, uri) == 0) return (int)i;
    static const char *const reserved[] = {"xsl", "fn", "ma", "xml", "xmlns", "exsl"};
    int ok = ncname_ok(prefix) && strncmp(prefix, "xml", 3) != 0;
    for (size_t i = 0; ok && i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(prefix, reserved[i]) == 0) ok = 0;
    for (size_t i = 0; ok && i < c->nns; i++)
        if (strcmp(c->ns[i].prefix, prefix) == 0) ok = 0;
    if (!ok) {
        for (int k = 1;; k++) {
            prefix = mc_printf(c, "ns%d", k);
            int taken = 0;
            for (size_t i = 0; i < c->nns && !taken; i++) taken = strcmp(c->ns[i].prefix, prefix) == 0;
            if (!taken) break;
        }
    }
    if (c->nns == c->capns) {
        size_t cap = c->capns ? c->capns * 2 : 4;
        nsent *n = mc_alloc(c, cap * sizeof *n);
        if (c->nns) memcpy(n, c->ns, c->nns * sizeof *n);
        c->ns = n;
        c->capns = cap;
    }
    c->ns[c->nns].uri = uri;
    c->ns[c->nns].prefix = prefix;
    c->ns[c->nns].src = c->ns[c->nns].tgt = 0;
    return (int)c->nns++;
}

/* ---- profiles ------------------------------------------------------------------------------ */

static int is_step(const pnode *n) { return n->kind != PK_JOBJECT && n->kind != PK_JARRAY; }

/* Can the node hold a value (be mapped from or to)? */
static int is_value(const pnode *n)
{
    if (n->kind == PK_XELEM || n->kind == PK_XATTR) return 1;
    if (n->kind == PK_JROOT || n->kind == PK_JENTRY || n->kind == PK_JITEM) return n->jc == JC_SCALAR;
    return 0;
}

static const char *profile_kind(const char *type)
{
    if (ma_streq(type, "profile.flatfile")) return "flat file";
    if (ma_streq(type, "profile.db")) return "database";
    if (ma_streq(type, "profile.edi")) return "EDI";
    if (type && ma_str_has_prefix(type, "profile.")) return type + 8;
    return type ? type : "unknown";
}

/* A profile element's dataType (XML and JSON profiles; absent is character) */
static const ma_enum dtypes[] = {
    {"character", DT_CHAR, 0},
    {"number", DT_NUMBER, 0},
    {"datetime", DT_DATETIME, 0},
    {"boolean", DT_BOOLEAN, 0},
    {NULL, 0, 0},
};

static dtype parse_dtype(mc *c, const profile *p, const xmlNode *x, const char *name, const char *key)
{
    int v = DT_CHAR;
    ma_error e;
    ma_error_clear(&e);
    if (ma_enum_parse(dtypes, "dataType", attr(c, x, "dataType"), DT_CHAR, 0, &v, &e) < 0)
        fail(c, e.code, "profile '%s' (%s): element '%s' (key %s): %s", p->comp->name, p->comp->id, name, key, e.msg);
    return (dtype)v;
}

static pnode *new_node(mc *c, profile *p, pkind kind, const xmlNode *x, pnode *parent)
{
    pnode *n = mc_alloc(c, sizeof *n);
    n->kind = kind;
    n->key = attr_or(c, x, "key", "");
    n->name = attr_or(c, x, "name", "");
    n->ns = -1;
    n->parent = parent;
    n->order = c->order++;
    n->dt = parse_dtype(c, p, x, n->name, n->key);
    if (n->dt == DT_DATETIME) {
        const xmlNode *df = ma_xml_child(ma_xml_child(x, "DataFormat"), "ProfileDateFormat");
        const char *mask = attr(c, df, "dateFormat");
        if (!empty(mask)) n->datefmt = mask;
    }
    n->path = parent ? mc_printf(c, "%s/%s", parent->path, n->name) : n->name;
    if (parent) n->sparent = is_step(parent) ? parent : parent->sparent;
    if (is_step(n)) {
        n->sdepth = n->sparent ? n->sparent->sdepth + 1 : 1;
        if (n->sparent) vec_push(c, &n->sparent->skids, n);
    } else {
        n->sdepth = parent ? parent->sdepth : 0;
    }
    vec_push(c, &p->all, n);
    return n;
}

typedef struct xmlns_ent {
    const char *key, *uri, *prefix;
} xmlns_ent;

static void build_xml(mc *c, profile *p, const xmlNode *x, pnode *parent, xmlns_ent *nss, size_t nn, int depth)
{
    if (depth > MAX_DEPTH)
        fail(c, MA_ERR_LIMIT, "profile '%s' (%s) is nested deeper than %d", p->comp->name, p->comp->id, MAX_DEPTH);
    int attribute = ma_xml_is(x, "XMLAttribute") || ma_xml_attr_is(x, "isNode", "false");
    pnode *n = new_node(c, p, attribute ? PK_XATTR : PK_XELEM, x, parent);
    const char *colon = strchr(n->name, ':');
    if (colon && colon[1]) n->name = colon + 1; /* a prefixed name: the namespace comes from useNamespace */
    if (!ncname_ok(n->name))
        fail(c, MA_ERR_CONFIG, "profile '%s' (%s): element name '%s' (key %s) is not a valid XML name", p->comp->name,
             p->comp->id, n->name, n->key);
    const char *use = attr(c, x, "useNamespace");
    if (!empty(use) && strcmp(use, "-1") != 0) {
        for (size_t i = 0; i < nn; i++) {
            if (strcmp(nss[i].key, use) == 0 && !empty(nss[i].uri)) {
                n->ns = ns_register(c, nss[i].uri, nss[i].prefix);
                if (!p->target) c->ns[n->ns].src = 1;
                break;
            }
        }
    }
    if (!attribute && parent) {
        const char *mo = attr(c, x, "maxOccurs");
        long m;
        if (mo && (strcmp(mo, "-1") == 0 || strcmp(mo, "unbounded") == 0 || (is_int(mo, &m) && m > 1)))
            n->repeating = 1;
    }
    for (const xmlNode *k = x->children; k; k = k->next) {
        if (!ma_xml_is(k, "XMLElement") && !ma_xml_is(k, "XMLAttribute")) continue;
        if (attribute)
            fail(c, MA_ERR_CONFIG, "profile '%s' (%s): attribute '%s' (key %s) has children", p->comp->name,
                 p->comp->id, n->name, n->key);
        build_xml(c, p, k, n, nss, nn, depth + 1);
    }
}

static void build_json(mc *c, profile *p, const xmlNode *x, pnode *parent, int depth);

/* The children of a JSON value node (root, entry, item): an object, an array or nothing. */
static void build_json_value(mc *c, profile *p, const xmlNode *x, pnode *n, int depth)
{
    for (const xmlNode *k = x->children; k; k = k->next) {
        if (ma_xml_is(k, "JSONObject") || ma_xml_is(k, "JSONArray")) {
            if (n->jc != JC_SCALAR)
                fail(c, MA_ERR_CONFIG, "profile '%s' (%s): '%s' (key %s) holds more than one value", p->comp->name,
                     p->comp->id, n->path, n->key);
            n->jc = ma_xml_is(k, "JSONObject") ? JC_OBJECT : JC_ARRAY;
            build_json(c, p, k, n, depth + 1);
        }
    }
}

static void build_json(mc *c, profile *p, const xmlNode *x, pnode *parent, int depth)
{
    if (depth > MAX_DEPTH)
        fail(c, MA_ERR_LIMIT, "profile '%s' (%s) is nested deeper than %d", p->comp->name, p->comp->id, MAX_DEPTH);
    if (ma_xml_is(x, "JSONObject")) {
        pnode *o = new_node(c, p, PK_JOBJECT, x, parent);
        for (const xmlNode *k = x->children; k; k = k->next) {
            if (!ma_xml_is(k, "JSONObjectEntry")) continue;
            pnode *e = new_node(c, p, PK_JENTRY, k, o);
            build_json_value(c, p, k, e, depth + 1);
        }
    } else if (ma_xml_is(x, "JSONArray")) {
        pnode *a = new_node(c, p, PK_JARRAY, x, parent);
        const char *et = attr(c, x, "elementType");
        int repeating = !et || strcmp(et, "absolute") != 0;
        long pos = 0;
        for (const xmlNode *k = x->children; k; k = k->next) {
            if (!ma_xml_is(k, "JSONArrayElement")) continue;
            pnode *it = new_node(c, p, PK_JITEM, k, a);
            pos++;
            if (repeating) {
                it->repeating = 1;
                if (pos > 1)
                    fail(c, MA_ERR_UNSUPPORTED,
                         "profile '%s' (%s): repeating array '%s' (key %s) declares more than one element",
                         p->comp->name, p->comp->id, a->path, a->key);
            } else {
                it->index = pos;
            }
            build_json_value(c, p, k, it, depth + 1);
        }
    }
}

/* A flat file profile as the XML tree of flatfile.h: a root element, each record format a
 * repeating element, its element groups and fields below, named as the conversion names them. */
static void build_flatfile(mc *c, profile *p)
{
    ma_error e = {0};
    if (!(p->ff = ma_flatfile_compile(p->comp, &e))) fail(c, e.code ? e.code : MA_ERR_CONFIG, "%s", e.msg);
    const xmlNode *root = p->comp->object;
    p->root = new_node(c, p, PK_XELEM, root, NULL);
    p->root->name = p->root->path = MA_FLATFILE_ROOT;
    for (const xmlNode *r = ma_xml_child(ma_xml_child(root, "DataElements"), "FlatFileRecord"); r;
         r = ma_xml_next(r, "FlatFileRecord")) {
        pnode *rn = new_node(c, p, PK_XELEM, r, p->root);
        rn->repeating = 1;
        for (const xmlNode *g = ma_xml_child(r, "FlatFileElements"); g; g = ma_xml_next(g, "FlatFileElements")) {
            pnode *gn = new_node(c, p, PK_XELEM, g, rn);
            for (const xmlNode *f = ma_xml_child(g, "FlatFileElement"); f; f = ma_xml_next(f, "FlatFileElement"))
                new_node(c, p, PK_XELEM, f, gn);
        }
    }
    for (size_t i = 1; i < p->all.n; i++) {
        pnode *n = p->all.v[i];
        const char *x = ma_flatfile_xml_name(p->ff, n->key);
        if (!x)
            fail(c, MA_ERR_CONFIG, "profile '%s' (%s): no element with key '%s'", p->comp->name, p->comp->id, n->key);
        n->name = mc_strdup(c, x);
    }
}

static void load_profile(mc *c, profile *p, const char *id, int target)
{
    p->target = target;
    const char *what = target ? "toProfile" : "fromProfile";
    if (empty(id)) fail(c, MA_ERR_CONFIG, "the map has no %s", what);
    ma_component *comp = ma_deploy_find(c->dep, id);
    if (!comp) fail(c, MA_ERR_REF, "profile %s is not in the deployment", id);
    p->comp = comp;
    if (ma_streq(comp->type, "profile.xml")) p->json = 0;
    else if (ma_streq(comp->type, "profile.json")) p->json = 1;
    else if (ma_streq(comp->type, "profile.flatfile")) {
        build_flatfile(c, p);
        return;
    } else if (ma_str_has_prefix(comp->type, "profile."))
        fail(c, MA_ERR_UNSUPPORTED,
             "profile '%s' (%s) is a %s profile: only XML, JSON and flat file profiles are supported", comp->name,
             comp->id, profile_kind(comp->type));
    else
        fail(c, MA_ERR_REF, "%s %s is a component of type '%s' ('%s' in %s), not a profile", what, id, comp->type,
             comp->name, comp->file);
    const xmlNode *root = comp->object;
    if (!root || !ma_xml_is(root, p->json ? "JSONProfile" : "XMLProfile"))
        fail(c, MA_ERR_CONFIG, "profile '%s' (%s) has no <%s>", comp->name, comp->id,
             p->json ? "JSONProfile" : "XMLProfile");
    const xmlNode *de = ma_xml_child(root, "DataElements");
    if (p->json) {
        const xmlNode *rv = ma_xml_child(de, "JSONRootValue");
        if (!rv) fail(c, MA_ERR_CONFIG, "profile '%s' (%s) has no <JSONRootValue>", comp->name, comp->id);
        p->root = new_node(c, p, PK_JROOT, rv, NULL);
        build_json_value(c, p, rv, p->root, 1);
    } else {
        const xmlNode *re = ma_xml_child(de, "XMLElement");
        if (!re) fail(c, MA_ERR_CONFIG, "profile '%s' (%s) has no root <XMLElement>", comp->name, comp->id);
        size_t nn = 0;
        for (const xmlNode *x = ma_xml_child(ma_xml_child(root, "Namespaces"), "XMLNamespace"); x;
             x = ma_xml_next(x, "XMLNamespace"))
            nn++;
        xmlns_ent *nss = mc_alloc(c, (nn ? nn : 1) * sizeof *nss);
        size_t i = 0;
        for (const xmlNode *x = ma_xml_child(ma_xml_child(root, "Namespaces"), "XMLNamespace"); x;
             x = ma_xml_next(x, "XMLNamespace")) {
            nss[i].key = attr_or(c, x, "key", "");
            nss[i].uri = attr_or(c, x, "uri", "");
            nss[i].prefix = attr_or(c, x, "prefix", "");
            i++;
        }
        build_xml(c, p, re, NULL, nss, nn, 1);
        p->root = p->all.v[0];
    }
}

static pnode *find_key(profile *p, const char *key)
{
    for (size_t i = 0; i < p->all.n; i++) {
        pnode *n = p->all.v[i];
        if (strcmp(n->key, key) == 0) return n;
    }
    return NULL;
}

/* ---- functions ----------------------------------------------------------------------------- */

static const char *fn_label(mc *c, const fnc *f)
{
    return mc_printf(c, "function key %s '%s' (type %s)", f->key, f->name, f->type);
}

static void load_ports(mc *c, fnc *f, const xmlNode *list, const char *tag, port **ports, size_t *n)
{
    size_t cnt = 0;
    for (const xmlNode *x = ma_xml_child(list, tag); x; x = ma_xml_next(x, tag)) cnt++;
    *ports = mc_alloc(c, (cnt ? cnt : 1) * sizeof **ports);
    *n = 0;
    for (const xmlNode *x = ma_xml_child(list, tag); x; x = ma_xml_next(x, tag)) {
        port *pt = &(*ports)[(*n)++];
        pt->key = attr_or(c, x, "key", "");
        pt->name = attr_or(c, x, "name", "");
        pt->def = attr(c, x, "default");
        for (size_t i = 0; i + 1 < *n; i++)
            if (strcmp((*ports)[i].key, pt->key) == 0)
                fail(c, MA_ERR_CONFIG, "%s has two %ss with key %s", fn_label(c, f), tag, pt->key);
    }
}

static const xmlNode *config_of(const fnc *f, const char *name)
{
    return ma_xml_child(ma_xml_child(f->step, "Configuration"), name);
}

static void check_mask(mc *c, const fnc *f, const port *pt, const char *what)
{
    if (pt->mapping) return; /* wired: checked when the document runs */
    if (empty(pt->def))
        fail(c, MA_ERR_CONFIG, "%s: the %s (input %s) has no default and is not mapped", fn_label(c, f), what, pt->key);
    ma_error e;
    ma_datefmt *df = ma_datefmt_compile(pt->def, &e);
    if (!df) fail(c, MA_ERR_CONFIG, "%s: %s '%s': %s", fn_label(c, f), what, pt->def, e.msg);
    ma_datefmt_free(df);
}

static void load_functions(mc *c, const xmlNode *fns)
{
    size_t cnt = 0;
    for (const xmlNode *x = ma_xml_child(fns, "FunctionStep"); x; x = ma_xml_next(x, "FunctionStep")) cnt++;
    c->fns = mc_alloc(c, (cnt ? cnt : 1) * sizeof *c->fns);
    for (const xmlNode *x = ma_xml_child(fns, "FunctionStep"); x; x = ma_xml_next(x, "FunctionStep")) {
        fnc *f = &c->fns[c->nfns];
        f->step = (xmlNode *)x;
        f->index = c->nfns++;
        f->key = attr_or(c, x, "key", "");
        f->name = attr_or(c, x, "name", "");
        f->type = attr_or(c, x, "type", "");
        f->id = mc_printf(c, "f%s", ident(c, f->key));
        if (empty(f->key)) fail(c, MA_ERR_CONFIG, "a FunctionStep ('%s', type %s) has no key", f->name, f->type);
        for (size_t i = 0; i + 1 < c->nfns; i++) {
            if (strcmp(c->fns[i].key, f->key) == 0) fail(c, MA_ERR_CONFIG, "two functions have the key %s", f->key);
            if (strcmp(c->fns[i].id, f->id) == 0) /* keys are numbers; "1-2" and "1_2" would share names */
                fail(c, MA_ERR_UNSUPPORTED, "function keys %s and %s are not supported together", c->fns[i].key,
                     f->key);
        }
        size_t t = 0;
        while (t < sizeof FTYPES / sizeof *FTYPES && strcmp(FTYPES[t].type, f->type) != 0) t++;
        if (t == sizeof FTYPES / sizeof *FTYPES) {
            if (strcmp(f->type, "DefinedProcessPropertyGet") == 0 || strcmp(f->type, "DefinedProcessPropertySet") == 0)
                fail(c, MA_ERR_UNSUPPORTED,
                     "%s is not supported: properties of process property components cannot be read or set in a map",
                     fn_label(c, f));
            fail(c, MA_ERR_UNSUPPORTED, "%s is not supported", fn_label(c, f));
        }
        f->kind = FTYPES[t].kind;
        f->side_effect = FTYPES[t].side_effect;
        load_ports(c, f, ma_xml_child(x, "Inputs"), "Input", &f->in, &f->nin);
        load_ports(c, f, ma_xml_child(x, "Outputs"), "Output", &f->out, &f->nout);
    }
}

static port *fn_port(port *ports, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ports[i].key, key) == 0) return &ports[i];
    return NULL;
}

static fnc *find_fn(mc *c, const char *key)
{
    for (size_t i = 0; i < c->nfns; i++)
        if (strcmp(c->fns[i].key, key) == 0) return &c->fns[i];
    return NULL;
}

/* Input i (0-based, in document order), or NULL. */
static port *in_at(fnc *f, size_t i) { return i < f->nin ? &f->in[i] : NULL; }

/* Cross Reference Lookup: <CrossRefLookup crossRefTableId skipLookupIfNoInputs><Input index name
 * refId/>...<Output index name refId/>... (index: a port key; refId: a 1-based column). The table
 * is compiled now (crossref.h), so that ma:crossref finds it at run time. */
static void check_crossref(mc *c, fnc *f, const char *label)
{
    const xmlNode *cfg = config_of(f, "CrossRefLookup");
    if (!cfg) fail(c, MA_ERR_CONFIG, "%s has no <CrossRefLookup> configuration", label);
    ma_error e;
    const ma_xref *t = ma_xref_for(c->dep, attr(c, cfg, "crossRefTableId"), &e);
    if (!t) fail(c, e.code, "%s: %s", label, e.msg);
    size_t cols[MA_XREF_MAX_COLUMNS], n = 0;
    for (int outputs = 0; outputs < 2; outputs++) {
        const char *tag = outputs ? "Output" : "Input";
        for (const xmlNode *p = ma_xml_child(cfg, tag); p; p = ma_xml_next(p, tag)) {
            const char *index = attr_or(c, p, "index", "");
            port *pt = outputs ? fn_port(f->out, f->nout, index) : fn_port(f->in, f->nin, index);
            if (!pt) fail(c, MA_ERR_CONFIG, "%s: lookup %s index %s names no %s", label, tag, index, tag);
            size_t col;
            if (ma_xref_column(t, attr(c, p, "refId"), attr(c, p, "name"), &col, &e) < 0)
                fail(c, e.code, "%s: lookup %s %s: %s", label, tag, index, e.msg);
            if (!outputs && n == MA_XREF_MAX_COLUMNS) fail(c, MA_ERR_CONFIG, "%s: too many lookup inputs", label);
            if (!outputs) cols[n++] = col;
        }
    }
    if (!n) fail(c, MA_ERR_CONFIG, "%s: the lookup has no input (<CrossRefLookup><Input>)", label);
    if (ma_xref_check_inputs(t, cols, n, &e) < 0) fail(c, e.code, "%s: %s", label, e.msg);
    for (size_t i = 0; i < f->nout; i++) {
        int bound = 0;
        for (const xmlNode *o = ma_xml_child(cfg, "Output"); o && !bound; o = ma_xml_next(o, "Output"))
            bound = ma_streq(attr(c, o, "index"), f->out[i].key);
        if (f->out[i].used && !bound)
            fail(c, MA_ERR_CONFIG, "%s: output %s has no lookup column (<Output index>)", label, f->out[i].key);
    }
}

/* The script of a Scripting function: its Map Script component (useComponent="true" componentId,
 * <MappingScript language><script><Input/><Output/>) when the deployment holds it, else the
 * inline <Scripting language><ScriptToExecute><Input/><Output/> (the copy an export carries).
 * Fails when the component is referenced and neither it nor an inline script is there. */
static const xmlNode *script_decl(mc *c, const fnc *f, char **src)
{
    const char *label = fn_label(c, f);
    const xmlNode *cfg = config_of(f, "Scripting");
    if (!cfg) fail(c, MA_ERR_CONFIG, "%s has no <Scripting> configuration", label);
    if (ma_streq(attr(c, cfg, "useComponent"), "true")) {
        int missing = 0;
        ma_error e;
        ma_error_clear(&e);
        const xmlNode *comp = ma_script_component(c->dep, attr(c, cfg, "componentId"), MA_SCRIPT_MAPPING, &missing, &e);
        if (comp) {
            *src = ma_xml_text(ma_xml_child(comp, "script"));
            track(c, *src);
            return comp;
        }
        *src = ma_xml_text(ma_xml_child(cfg, "ScriptToExecute"));
        track(c, *src);
        if (!missing || empty(*src))
            fail(c, e.code, "%s: %s%s", label, e.msg,
                 missing ? " and the function carries no inline copy of its script" : "");
        return cfg;
    }
    *src = ma_xml_text(ma_xml_child(cfg, "ScriptToExecute"));
    track(c, *src);
    return cfg;
}

/* The script variable name of port p of a Scripting function (<Input index name/> of its
 * declarations, script_decl), else the port's own name. */
static const char *script_name(mc *c, const fnc *f, const xmlNode *decl, const port *p, const char *el)
{
    (void)f;
    for (const xmlNode *n = ma_xml_child(decl, el); n; n = ma_xml_next(n, el))
        if (ma_streq(attr(c, n, "index"), p->key) && !empty(attr(c, n, "name"))) return attr(c, n, "name");
    return p->name;
}

static void check_script(mc *c, fnc *f)
{
    const char *label = fn_label(c, f);
    char *src = NULL;
    const xmlNode *decl = script_decl(c, f, &src);
    const char *lang = attr_or(c, decl, "language", "groovy");
    if (strcmp(lang, "javascript") != 0 && strcmp(lang, "groovy") != 0 && strcmp(lang, "groovy2") != 0)
        fail(c, MA_ERR_UNSUPPORTED, "%s: scripts in '%s' are not supported (groovy, groovy2, javascript are)", label,
             lang);
    if (empty(src)) fail(c, MA_ERR_CONFIG, "%s: no script (<ScriptToExecute> is empty)", label);
    ma_script_cfg sc;
    memset(&sc, 0, sizeof sc);
    ma_error e;
    char why[700];
    if (ma_config_read(ma_script_config_map, MA_SCRIPT_PREFIX, ma_deploy_settings(c->dep), &sc, &e) < 0)
        fail(c, MA_ERR_CONFIG, "%s", e.msg);
    if (!ma_script_available(&sc, why, sizeof why))
        fail(c, MA_ERR_UNSUPPORTED, "%s: custom scripts (%s) cannot run: %s", label, lang, why);
    for (size_t i = 0; i < f->nin; i++)
        if (empty(script_name(c, f, decl, &f->in[i], "Input")))
            fail(c, MA_ERR_CONFIG, "%s: input %s has no name", label, f->in[i].key);
    for (size_t i = 0; i < f->nout; i++)
        if (f->out[i].used && empty(script_name(c, f, decl, &f->out[i], "Output")))
            fail(c, MA_ERR_CONFIG, "%s: output %s has no name", label, f->out[i].key);
}

/* Checks a function's configuration once its inputs are wired. */
static void check_function(mc *c, fnc *f)
{
    const char *label = fn_label(c, f);
    size_t want_in = 0, want_out = 1;
    switch (f->kind) {
    case FK_DOCPROP_GET:
    case FK_DOCPROP_SET: {
        const char *id = attr(c, config_of(f, "DocumentProperty"), "propertyId");
        if (empty(id)) fail(c, MA_ERR_CONFIG, "%s has no <DocumentProperty propertyId>", label);
        int get = f->kind == FK_DOCPROP_GET;
        if (!ma_str_has_prefix(id, "dynamicdocument.") && !ma_str_has_prefix(id, "mime.") &&
            !ma_str_has_prefix(id, "connector.") && !(get && ma_str_has_prefix(id, "meta.")))
            fail(c, MA_ERR_UNSUPPORTED, "%s: property '%s' is not supported (%s)", label, id,
                 get ? "dynamicdocument.*, mime.*, connector.* and meta.* can be read"
                     : "dynamicdocument.*, mime.* and connector.* can be set");
        want_in = get ? 0 : 1;
        want_out = get ? 1 : 0;
        break;
    }
    case FK_DPP_GET: want_in = 1; break;
    case FK_DPP_SET:
        want_in = 2;
        want_out = 0;
        break;
    case FK_CONCAT: break;
    case FK_LTRIM:
    case FK_RTRIM: want_in = 2; break;
    case FK_WSTRIM:
    case FK_UPPER:
    case FK_LOWER: want_in = 1; break;
    case FK_APPEND:
    case FK_PREPEND: {
        want_in = 3;
        if (f->nin < 3) break;
        long len;
        if (f->in[1].mapping || f->in[2].mapping)
            fail(c, MA_ERR_UNSUPPORTED,
                 "%s: a mapped Fix to Length or fill character is not supported (only their defaults)", label);
        if (!is_int(f->in[1].def, &len) || len < 0 || len > 100000)
            fail(c, MA_ERR_CONFIG, "%s: Fix to Length '%s' is not a whole number", label,
                 f->in[1].def ? f->in[1].def : "");
        break;
    }
    case FK_DATEFORMAT:
        want_in = 3;
        if (f->nin < 3) break;
        check_mask(c, f, &f->in[1], "input mask");
        check_mask(c, f, &f->in[2], "output mask");
        break;
    case FK_CURRENTDATE: break;
    case FK_NUMBERFORMAT: {
        want_in = 3;
        if (f->nin < 3) break;
        if (f->in[1].mapping)
            fail(c, MA_ERR_UNSUPPORTED, "%s: a mapped input mask is not supported (only its default)", label);
        const char *im = f->in[1].def ? f->in[1].def : "";
        if (im[strspn(im, "#0,.")])
            fail(c, MA_ERR_UNSUPPORTED, "%s: input mask '%s' is not supported (only #, 0, ',' and '.')", label, im);
        if (!f->in[2].mapping && empty(f->in[2].def))
            fail(c, MA_ERR_CONFIG, "%s: the output mask (input %s) has no default and is not mapped", label,
                 f->in[2].key);
        break;
    }
    case FK_ADD:
    case FK_SUB:
    case FK_MUL:
    case FK_DIV:
    case FK_PRECISION: want_in = 2; break;
    case FK_ABS:
    case FK_CEIL:
    case FK_FLOOR: want_in = 1; break;
    case FK_SEQUENCE: break;
    case FK_SIMPLELOOKUP: {
        const xmlNode *cfg = config_of(f, "SimpleLookup");
        if (!cfg) fail(c, MA_ERR_CONFIG, "%s has no <SimpleLookup> configuration", label);
        for (size_t i = 0; i < f->nout; i++) {
            int bound = 0;
            for (const xmlNode *o = ma_xml_child(cfg, "Output"); o && !bound; o = ma_xml_next(o, "Output"))
                bound = ma_streq(attr(c, o, "index"), f->out[i].key);
            if (f->out[i].used && !bound)
                fail(c, MA_ERR_CONFIG, "%s: output %s has no lookup column (<Output index>)", label, f->out[i].key);
        }
        want_out = 1;
        break;
    }
    case FK_CROSSREF: check_crossref(c, f, label); break;
    case FK_SCRIPT: check_script(c, f); return;
    }
    if (f->nin < want_in) fail(c, MA_ERR_CONFIG, "%s has %zu inputs, expected %zu", label, f->nin, want_in);
    if (f->nout < want_out) fail(c, MA_ERR_CONFIG, "%s has no output", label);
    for (size_t i = 0; i < f->nout; i++)
        if (f->out[i].used && (want_out == 0 || (i > 0 && f->kind != FK_SIMPLELOOKUP && f->kind != FK_CROSSREF)))
            fail(c, MA_ERR_CONFIG, "%s: output %s is mapped, but the function has %s", label, f->out[i].key,
                 want_out ? "a single result (its first output)" : "no result");
}

/* ---- mappings and defaults ----------------------------------------------------------------- */

static int taglist_set(const char *s) { return !empty(s) && strcmp(s, "0") != 0 && strcmp(s, "-1") != 0; }

static void load_mappings(mc *c, const xmlNode *maps)
{
    int idx = 0;
    for (const xmlNode *m = ma_xml_child(maps, "Mapping"); m; m = ma_xml_next(m, "Mapping")) {
        idx++;
        const char *ft = attr_or(c, m, "fromType", "profile"), *tt = attr_or(c, m, "toType", "profile");
        const char *fk = attr_or(c, m, "fromKey", ""), *tk = attr_or(c, m, "toKey", "");
        const char *where = mc_printf(c, "mapping %d (from key %s to key %s)", idx, fk, tk);
        if (!empty(attr(c, m, "fromCacheJoinKey")))
            fail(c, MA_ERR_UNSUPPORTED, "%s: document cache joins are not supported", where);
        const char *ftl = attr(c, m, "fromTagListKey"), *ttl = attr(c, m, "toTagListKey");
        if (taglist_set(ftl) || taglist_set(ttl))
            fail(c, MA_ERR_UNSUPPORTED, "%s: instance identifiers (%s %s) are not supported", where,
                 taglist_set(ftl) ? "fromTagListKey" : "toTagListKey", taglist_set(ftl) ? ftl : ttl);
        pnode *src = NULL;
        fnc *sf = NULL;
        port *sp = NULL;
        if (strcmp(ft, "profile") == 0) {
            src = find_key(&c->src, fk);
            if (!src)
                fail(c, MA_ERR_REF, "%s: the source profile '%s' (%s) has no element with key %s", where,
                     c->src.comp->name, c->src.comp->id, fk);
            if (!is_value(src))
                fail(c, MA_ERR_CONFIG, "%s: source element '%s' is a JSON %s, not a value", where, src->path,
                     src->kind == PK_JARRAY || src->jc == JC_ARRAY ? "array" : "object");
        } else if (strcmp(ft, "function") == 0) {
            const char *fkey = attr_or(c, m, "fromFunction", "");
            sf = find_fn(c, fkey);
            if (!sf) fail(c, MA_ERR_REF, "%s: there is no function with key %s", where, fkey);
            sp = fn_port(sf->out, sf->nout, fk);
            if (!sp) fail(c, MA_ERR_REF, "%s: %s has no output %s", where, fn_label(c, sf), fk);
        } else {
            fail(c, MA_ERR_UNSUPPORTED, "%s: fromType '%s' is not supported", where, ft);
        }
        if (strcmp(tt, "profile") == 0) {
            pnode *t = find_key(&c->tgt, tk);
            if (!t)
                fail(c, MA_ERR_REF, "%s: the target profile '%s' (%s) has no element with key %s", where,
                     c->tgt.comp->name, c->tgt.comp->id, tk);
            if (!is_value(t))
                fail(c, MA_ERR_CONFIG, "%s: target element '%s' is a JSON %s, not a value", where, t->path,
                     t->kind == PK_JARRAY || t->jc == JC_ARRAY ? "array" : "object");
            if (t->mapping)
                fail(c, MA_ERR_UNSUPPORTED, "%s: target element '%s' is already written by mapping %d", where, t->path,
                     t->mapping);
            t->mapping = idx;
            t->src = src;
            t->fsrc = sf;
            t->fout = sp ? sp->key : NULL;
        } else if (strcmp(tt, "function") == 0) {
            const char *fkey = attr_or(c, m, "toFunction", "");
            fnc *f = find_fn(c, fkey);
            if (!f) fail(c, MA_ERR_REF, "%s: there is no function with key %s", where, fkey);
            port *ip = fn_port(f->in, f->nin, tk);
            if (!ip) fail(c, MA_ERR_REF, "%s: %s has no input %s", where, fn_label(c, f), tk);
            if (ip->mapping)
                fail(c, MA_ERR_UNSUPPORTED, "%s: input %s of %s is already fed by mapping %d", where, tk,
                     fn_label(c, f), ip->mapping);
            ip->mapping = idx;
            ip->src = src;
            ip->from = sf;
            ip->from_out = sp ? sp->key : NULL;
        } else {
            fail(c, MA_ERR_UNSUPPORTED, "%s: toType '%s' is not supported", where, tt);
        }
        if (sp) sp->used = 1;
    }
}

static void load_defaults(mc *c, const xmlNode *defs)
{
    for (const xmlNode *d = ma_xml_child(defs, "Default"); d; d = ma_xml_next(d, "Default")) {
        const char *tk = attr_or(c, d, "toKey", ""), *tl = attr(c, d, "toTagListKey");
        if (taglist_set(tl))
            fail(c, MA_ERR_UNSUPPORTED, "default for key %s: instance identifiers (toTagListKey %s) are not supported",
                 tk, tl);
        pnode *t = find_key(&c->tgt, tk);
        if (!t)
            fail(c, MA_ERR_REF, "default for key %s: the target profile '%s' (%s) has no element with key %s", tk,
                 c->tgt.comp->name, c->tgt.comp->id, tk);
        if (!is_value(t)) fail(c, MA_ERR_CONFIG, "default for key %s: target element '%s' is not a value", tk, t->path);
        const char *v = attr_or(c, d, "value", "");
        t->def = *v ? v : NULL; /* an empty default writes nothing, like an empty value */
    }
}

/* ---- dependencies, loops and scopes -------------------------------------------------------- */

static void add_srcs(mc *c, vec *v, const vec *from)
{
    for (size_t i = 0; i < from->n; i++) vec_push(c, v, from->v[i]);
}

static void fn_srcs(mc *c, fnc *f)
{
    if (f->srcs_state == 2) return;
    if (f->srcs_state == 1) fail(c, MA_ERR_CONFIG, "%s: its inputs depend on its own output", fn_label(c, f));
    f->srcs_state = 1;
    for (size_t i = 0; i < f->nin; i++) {
        port *pt = &f->in[i];
        if (pt->src) vec_push(c, &f->srcs, pt->src);
        if (pt->from) {
            fn_srcs(c, pt->from);
            add_srcs(c, &f->srcs, &pt->from->srcs);
        }
    }
    f->srcs_state = 2;
}

static void value_srcs(mc *c, const pnode *t, vec *v)
{
    if (t->src) vec_push(c, v, t->src);
    if (t->fsrc) add_srcs(c, v, &t->fsrc->srcs);
}

static int anc_or_self(const pnode *a, const pnode *n)
{
    for (; n; n = n->sparent)
        if (n == a) return 1;
    return 0;
}

/* A repeating source element that context ctx does not fix. */
static int unbound(const pnode *r, const pnode *ctx) { return r->repeating && !anc_or_self(r, ctx); }

static int mark_emit(mc *c, pnode *t)
{
    int e = t->mapping || t->def;
    for (size_t i = 0; i < t->skids.n; i++) e |= mark_emit(c, t->skids.v[i]);
    t->emit = e;
    if (e && t->ns >= 0) c->ns[t->ns].tgt = 1;
    return e;
}

static void gather(mc *c, const pnode *t, int nested, vec *direct, vec *nest)
{
    if (t->mapping) value_srcs(c, t, nested ? nest : direct);
    for (size_t i = 0; i < t->skids.n; i++) {
        const pnode *k = t->skids.v[i];
        if (k->emit) gather(c, k, nested || k->repeating, direct, nest);
    }
}

/* The source repeating element a repeating target element iterates, or NULL. */
static pnode *choose_loop(mc *c, const pnode *t, const pnode *ctx)
{
    vec direct = {0}, nest = {0};
    gather(c, t, 0, &direct, &nest);
    pnode *best = NULL;
    for (size_t i = 0; i < direct.n; i++) /* the deepest unbound repeating element of its own fields */
        for (pnode *r = direct.v[i]; r; r = r->sparent)
            if (unbound(r, ctx) &&
                (!best || r->sdepth > best->sdepth || (r->sdepth == best->sdepth && r->order < best->order)))
                best = r;
    if (best) return best;
    for (size_t i = 0; i < nest.n; i++) { /* else the outermost one of the nested fields */
        pnode *first = NULL;
        for (pnode *r = nest.v[i]; r; r = r->sparent)
            if (unbound(r, ctx)) first = r;
        if (first &&
            (!best || first->sdepth < best->sdepth || (first->sdepth == best->sdepth && first->order < best->order)))
            best = first;
    }
    return best;
}

static void plan(mc *c, pnode *t, pnode *scope, pnode *ctx)
{
    t->pscope = scope;
    t->pctx = ctx;
    if (t->repeating && t->sparent) {
        pnode *d = choose_loop(c, t, ctx);
        if (d) {
            t->loop = 1;
            t->bound = d;
            scope = t;
            ctx = d;
            vec_push(c, &c->loops, t);
        }
    }
    t->scope = scope;
    t->ctx = ctx;
    for (size_t i = 0; i < t->skids.n; i++) {
        pnode *k = t->skids.v[i];
        if (k->emit) plan(c, k, scope, ctx);
    }
}

static int scope_depth(const pnode *s)
{
    int d = 0;
    for (; s; s = s->pscope) d++;
    return d;
}

static pnode *scope_lca(pnode *a, pnode *b)
{
    int da = scope_depth(a), db = scope_depth(b);
    while (da > db) a = a->pscope, da--;
    while (db > da) b = b->pscope, db--;
    while (a != b) a = a->pscope, b = b->pscope;
    return a;
}

/* Is scope a visible from scope v (a is v or encloses it)? */
static int scope_visible(const pnode *a, const pnode *v)
{
    for (; v; v = v->pscope)
        if (v == a) return 1;
    return a == NULL;
}

/* Every target node written from an output of f. */
static void fn_target_uses(mc *c, pnode *t, const fnc *f, vec *uses)
{
    if (!t->emit) return;
    if (t->fsrc == f) vec_push(c, uses, t);
    for (size_t i = 0; i < t->skids.n; i++) fn_target_uses(c, t->skids.v[i], f, uses);
}

/* Decides where f runs (f->scope) and whether it runs at all (f->active). */
static void fn_scope(mc *c, fnc *f)
{
    if (f->scope_state == 2) return;
    if (f->scope_state == 1) fail(c, MA_ERR_CONFIG, "%s: its inputs depend on its own output", fn_label(c, f));
    f->scope_state = 1;
    if (f->side_effect) {
        /* the outermost loop that fixes every repeating element it reads, else the template */
        int repeats = 0;
        for (size_t i = 0; i < f->srcs.n && !repeats; i++)
            for (const pnode *r = f->srcs.v[i]; r && !repeats; r = r->sparent) repeats = r->repeating;
        pnode *best = NULL;
        for (size_t l = 0; repeats && l < c->loops.n; l++) {
            pnode *loop = c->loops.v[l];
            int ok = 1;
            for (size_t i = 0; i < f->srcs.n && ok; i++)
                for (const pnode *r = f->srcs.v[i]; r && ok; r = r->sparent)
                    if (unbound(r, loop->bound)) ok = 0;
            if (ok && (!best || scope_depth(loop) < scope_depth(best))) best = loop;
        }
        f->scope = best;
        f->active = 1;
    } else {
        int have = 0;
        pnode *s = NULL;
        vec uses = {0};
        fn_target_uses(c, c->tgt.root, f, &uses);
        for (size_t i = 0; i < uses.n; i++) {
            pnode *u = uses.v[i];
            s = have ? scope_lca(s, u->scope) : u->scope;
            have = 1;
        }
        for (size_t g = 0; g < c->nfns; g++) {
            fnc *h = &c->fns[g];
            int reads = 0;
            for (size_t i = 0; i < h->nin; i++) reads |= h->in[i].from == f;
            if (!reads) continue;
            fn_scope(c, h);
            if (!h->active) continue;
            s = have ? scope_lca(s, h->scope) : h->scope;
            have = 1;
        }
        f->active = have;
        f->scope = s;
    }
    f->scope_state = 2;
}

/* ---- paths --------------------------------------------------------------------------------- */

static const char *jelem(const pnode *n)
{
    return n->jc == JC_OBJECT ? "fn:map" : n->jc == JC_ARRAY ? "fn:array" : "fn:*";
}

static const char *qname(mc *c, const pnode *n)
{
    return n->ns >= 0 ? mc_printf(c, "%s:%s", c->ns[n->ns].prefix, n->name) : n->name;
}

/* The XPath step that selects source node n from its step parent. */
static const char *step(mc *c, const pnode *n)
{
    switch (n->kind) {
    case PK_XELEM: return qname(c, n);
    case PK_XATTR: return mc_printf(c, "@%s", qname(c, n));
    case PK_JROOT: return jelem(n);
    case PK_JENTRY: return mc_printf(c, "%s[@key=%s]", jelem(n), xlit(c, n->name));
    case PK_JITEM: return n->index ? mc_printf(c, "fn:*[%ld]", n->index) : jelem(n);
    default: return "";
    }
}

typedef struct glist {
    vec v; /* guard* */
} glist;

static void add_guard(mc *c, glist *g, const char *test, const char *msg)
{
    for (size_t i = 0; i < g->v.n; i++)
        if (strcmp(((guard *)g->v.v[i])->test, test) == 0) return;
    guard *gd = mc_alloc(c, sizeof *gd);
    gd->test = test;
    gd->msg = msg;
    vec_push(c, &g->v, gd);
}

/* Relative path from context ctx (NULL: the document) to source node n. With g, each repeating
 * element below the common ancestor (read once here) gets a guard. */
static const char *relpath(mc *c, const pnode *ctx, const pnode *n, glist *g)
{
    const pnode *chain[MAX_DEPTH + 2];
    int len = 0;
    for (const pnode *x = n; x && len < MAX_DEPTH + 1; x = x->sparent) chain[len++] = x;
    int cdepth = ctx ? ctx->sdepth : 0;
    /* common ancestor: the deepest node of n's chain that is an ancestor-or-self of ctx */
    int common = len; /* index in chain (0 = n); len = the document */
    for (int i = 0; i < len; i++)
        if (anc_or_self(chain[i], ctx)) {
            common = i;
            break;
        }
    int cdep = common < len ? chain[common]->sdepth : 0;
    ma_sb *b = new_sb(c);
    for (int u = 0; u < cdepth - cdep; u++) ma_sb_puts(b, u ? "/.." : "..");
    for (int i = common - 1; i >= 0; i--) {
        if (b->len) ma_sb_putc(b, '/');
        ma_sb_puts(b, step(c, chain[i]));
    }
    if (!b->len) ma_sb_putc(b, '.');
    sb_check(c, b);
    const char *r = mc_strdup(c, b->s);
    if (g) {
        for (int i = common - 1; i >= 0; i--) {
            if (!chain[i]->repeating) continue;
            const char *p = relpath(c, ctx, chain[i], NULL);
            add_guard(c, g, mc_printf(c, "count(%s) &gt; 1", EA(p)),
                      mc_printf(c,
                                "source element '%s' occurs more than once where the map reads it once: Boomi would "
                                "split the document there, which is not supported",
                                chain[i]->path));
        }
    }
    return r;
}

/* ---- values -------------------------------------------------------------------------------- */

static const char *dmask(const pnode *n) { return n->dt == DT_DATETIME ? n->datefmt : NULL; }

/* A source field as a function input (a string; datetime fields in the internal form). */
static const char *read_src(mc *c, const pnode *ctx, const pnode *n, glist *g)
{
    const char *p = relpath(c, ctx, n, g);
    if (dmask(n)) return mc_printf(c, "ma:date-convert(string(%s), %s, '" INTERNAL_DATE "')", p, xlit(c, n->datefmt));
    return mc_printf(c, "string(%s)", p);
}

static const char *fvar(mc *c, const fnc *f, const char *out_key)
{
    return mc_printf(c, "%s.out%s", f->id, ident(c, out_key));
}

/* Raw value of a target's mapping (for the emptiness test) in ctx. */
static const char *raw_value(mc *c, const pnode *t, const pnode *ctx, glist *g)
{
    if (t->src) return relpath(c, ctx, t->src, g);
    return mc_printf(c, "$%s", fvar(c, t->fsrc, t->fout));
}

/* Value written into target t, from its mapping. */
static const char *write_value(mc *c, const pnode *t, const pnode *ctx, glist *g)
{
    const char *tm = dmask(t);
    if (t->src) {
        const char *p = relpath(c, ctx, t->src, g);
        const char *sm = dmask(t->src);
        if (!tm && !sm) return p;
        if (tm && sm && strcmp(tm, sm) == 0) return p;
        return mc_printf(c, "ma:date-convert(string(%s), %s, %s)", p, xlit(c, sm ? sm : INTERNAL_DATE),
                         xlit(c, tm ? tm : INTERNAL_DATE));
    }
    const char *v = mc_printf(c, "$%s", fvar(c, t->fsrc, t->fout));
    if (tm) return mc_printf(c, "ma:date-convert(string(%s), '" INTERNAL_DATE "', %s)", v, xlit(c, tm));
    return v;
}

/* The default value written into t (an xsl instruction). */
static const char *default_instr(mc *c, const pnode *t)
{
    if (dmask(t) && !empty(t->def))
        return mc_printf(
            c, "<xsl:value-of select=\"%s\"/>",
            EA(mc_printf(c, "ma:date-convert(%s, '" INTERNAL_DATE "', %s)", xlit(c, t->def), xlit(c, t->datefmt))));
    return mc_printf(c, "<xsl:text>%s</xsl:text>", ET(t->def));
}

/* ---- presence tests ------------------------------------------------------------------------ */

static const char *node_test(mc *c, const pnode *t, const pnode *ctx, const pnode *vis);

static const char *or_join(mc *c, vec *parts)
{
    if (!parts->n) return "false()";
    ma_sb b;
    ma_sb_init(&b);
    for (size_t i = 0; i < parts->n; i++) {
        if (strcmp(parts->v[i], TRUE_EXPR) == 0) {
            ma_sb_free(&b);
            return TRUE_EXPR;
        }
        if (i) ma_sb_puts(&b, " or ");
        ma_sb_puts(&b, parts->v[i]);
    }
    char *r = ma_sb_take(&b, NULL);
    track(c, r);
    return r;
}

/* Does t get content when placed at source context ctx, seen from scope vis? */
static const char *content_test(mc *c, const pnode *t, const pnode *ctx, const pnode *vis)
{
    if (t->def) return TRUE_EXPR;
    vec parts = {0};
    if (t->mapping) {
        if (t->src) {
            vec_push(c, &parts, (void *)mc_printf(c, "normalize-space(%s) != ''", relpath(c, ctx, t->src, NULL)));
        } else if (t->fsrc->active && scope_visible(t->fsrc->scope, vis)) {
            vec_push(c, &parts, (void *)mc_printf(c, "normalize-space($%s) != ''", fvar(c, t->fsrc, t->fout)));
        } else {
            return TRUE_EXPR; /* computed inside the loop: tested there */
        }
    }
    for (size_t i = 0; i < t->skids.n; i++) {
        const pnode *k = t->skids.v[i];
        if (k->emit) vec_push(c, &parts, (void *)node_test(c, k, ctx, vis));
    }
    return or_join(c, &parts);
}

static const char *node_test(mc *c, const pnode *t, const pnode *ctx, const pnode *vis)
{
    if (t->loop) {
        const char *sel = relpath(c, ctx, t->bound, NULL);
        const char *inner = content_test(c, t, t->bound, vis);
        if (strcmp(inner, TRUE_EXPR) == 0) return sel;
        return mc_printf(c, "%s[%s]", sel, inner);
    }
    return content_test(c, t, ctx, vis);
}

/* ---- functions as XSLT --------------------------------------------------------------------- */

typedef struct fctx {
    mc *c;
    const pnode *ctx;
    ma_sb *b;
    int ind;
    glist *g;
} fctx;

/* The value of input pt of f, as an XPath expression. */
static const char *in_expr(fctx *x, fnc *f, port *pt)
{
    mc *c = x->c;
    const char *base;
    if (pt->src) base = read_src(c, x->ctx, pt->src, x->g);
    else if (pt->from) base = mc_printf(c, "$%s", fvar(c, pt->from, pt->from_out));
    else return xlit(c, pt->def ? pt->def : "");
    if (empty(pt->def)) return base;
    const char *name = mc_printf(c, "%s.in%s", f->id, ident(c, pt->key));
    out(x->b, x->ind, "<xsl:variable name=\"%s\">", name);
    out(x->b, x->ind + 1, "<xsl:choose>");
    out(x->b, x->ind + 2, "<xsl:when test=\"%s != ''\"><xsl:value-of select=\"%s\"/></xsl:when>", EA(base), EA(base));
    out(x->b, x->ind + 2, "<xsl:otherwise><xsl:text>%s</xsl:text></xsl:otherwise>", ET(pt->def));
    out(x->b, x->ind + 1, "</xsl:choose>");
    out(x->b, x->ind, "</xsl:variable>");
    return mc_printf(c, "$%s", name);
}

static const char *in_n(fctx *x, fnc *f, size_t i) { return in_expr(x, f, in_at(f, i)); }

static void var(fctx *x, const char *name, const char *sel)
{
    mc *c = x->c;
    out(x->b, x->ind, "<xsl:variable name=\"%s\" select=\"%s\"/>", name, EA(sel));
}

/* name = sel when test holds, else nothing (an empty result). */
static void var_if(fctx *x, const char *name, const char *test, const char *sel)
{
    mc *c = x->c;
    out(x->b, x->ind, "<xsl:variable name=\"%s\">", name);
    out(x->b, x->ind + 1, "<xsl:if test=\"%s\"><xsl:value-of select=\"%s\"/></xsl:if>", EA(test), EA(sel));
    out(x->b, x->ind, "</xsl:variable>");
}

/* name = sel, or dflt (an expression) when sel is empty. */
static void var_or(fctx *x, const char *name, const char *sel, const char *dflt)
{
    mc *c = x->c;
    out(x->b, x->ind, "<xsl:variable name=\"%s\">", name);
    out(x->b, x->ind + 1, "<xsl:choose>");
    out(x->b, x->ind + 2, "<xsl:when test=\"%s != ''\"><xsl:value-of select=\"%s\"/></xsl:when>", EA(sel), EA(sel));
    out(x->b, x->ind + 2, "<xsl:otherwise><xsl:value-of select=\"%s\"/></xsl:otherwise>", EA(dflt));
    out(x->b, x->ind + 1, "</xsl:choose>");
    out(x->b, x->ind, "</xsl:variable>");
}

/* Fails the document when test holds (as Boomi fails it). */
static void stop_if(fctx *x, const fnc *f, const char *test, const char *msg, const char *shown)
{
    mc *c = x->c;
    out(x->b, x->ind, "<xsl:if test=\"%s\">", EA(test));
    if (shown)
        out(x->b, x->ind + 1, "<xsl:message terminate=\"yes\">%s: %s: '<xsl:value-of select=\"%s\"/>'</xsl:message>",
            ET(fn_label(c, f)), ET(msg), EA(shown));
    else out(x->b, x->ind + 1, "<xsl:message terminate=\"yes\">%s: %s</xsl:message>", ET(fn_label(c, f)), ET(msg));
    out(x->b, x->ind, "</xsl:if>");
}

/* The value of an unwired input (its default, or ""), NULL for a wired one. */
static const char *const_in(const port *pt)
{
    if (!pt || pt->src || pt->from) return NULL;
    return pt->def ? pt->def : "";
}

/* An XPath number: white space, an optional minus, digits with at most one '.'. */
static int xpath_number(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    if (*s == '-') s++;
    size_t digits = 0, dots = 0;
    for (; (*s >= '0' && *s <= '9') || *s == '.'; s++) *s == '.' ? dots++ : digits++;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    return !*s && digits && dots <= 1;
}

/* Input i must be a number: checked now when it is a constant, else when the document runs. */
static void check_number(fctx *x, fnc *f, size_t i, const char *v)
{
    const char *k = const_in(in_at(f, i));
    if (k) {
        if (*k && !xpath_number(k))
            fail(x->c, MA_ERR_CONFIG, "%s: input %s '%s' is not a number: '%s'", fn_label(x->c, f), f->in[i].key,
                 f->in[i].name, k);
        return;
    }
    stop_if(x, f, mc_printf(x->c, "%s != '' and string(number(%s)) = 'NaN'", v, v), "not a number", v);
}

/* The test that input i is not empty, or NULL when it is a constant that is not empty. */
static const char *nonempty(fctx *x, fnc *f, size_t i, const char *v)
{
    const char *k = const_in(in_at(f, i));
    if (k) return *k ? NULL : "false()";
    return mc_printf(x->c, "%s != ''", v);
}

static const char *out0(fctx *x, fnc *f) { return fvar(x->c, f, f->out[0].key); }

static void gen_math(fctx *x, fnc *f)
{
    mc *c = x->c;
    const char *a = in_n(x, f, 0);
    int two =
        f->kind == FK_ADD || f->kind == FK_SUB || f->kind == FK_MUL || f->kind == FK_DIV || f->kind == FK_PRECISION;
    const char *b = two ? in_n(x, f, 1) : NULL;
    check_number(x, f, 0, a);
    if (b) check_number(x, f, 1, b);
    const char *na = mc_printf(c, "number(%s)", a), *nb = b ? mc_printf(c, "number(%s)", b) : NULL;
    const char *e = NULL;
    switch (f->kind) {
    case FK_ADD: e = mc_printf(c, "%s + %s", na, nb); break;
    case FK_SUB: e = mc_printf(c, "%s - %s", na, nb); break;
    case FK_MUL: e = mc_printf(c, "%s * %s", na, nb); break;
    case FK_DIV:
        if (const_in(in_at(f, 1))) {
            if (*const_in(in_at(f, 1)) && strtod(const_in(in_at(f, 1)), NULL) == 0)
                fail(c, MA_ERR_CONFIG, "%s: the divisor is 0", fn_label(c, f));
        } else {
            stop_if(x, f, mc_printf(c, "%s != '' and %s = 0", b, nb), "division by zero", NULL);
        }
        e = mc_printf(c, "format-number(%s div %s, '0.##########')", na, nb);
        break;
    case FK_ABS: e = mc_printf(c, "%s * (1 - 2 * (%s < 0))", na, na); break;
    case FK_CEIL: e = mc_printf(c, "ceiling(%s)", na); break;
    case FK_FLOOR: e = mc_printf(c, "floor(%s)", na); break;
    case FK_PRECISION: {
        long n;
        port *pp = in_at(f, 1);
        if (!pp->src && !pp->from && is_int(pp->def, &n)) {
            if (n < 0 || n > 100)
                fail(c, MA_ERR_CONFIG, "%s: Number of Precision %ld is out of range", fn_label(c, f), n);
            char mask[128] = "0";
            if (n > 0) {
                mask[1] = '.';
                memset(mask + 2, '0', (size_t)n);
                mask[2 + n] = '\0';
            }
            e = mc_printf(c, "format-number(%s, '%s')", na, mask);
        } else {
            stop_if(x, f, mc_printf(c, "%s != '' and (floor(%s) != %s or %s < 0 or %s > 30)", b, nb, nb, nb, nb),
                    "the precision is not a whole number from 0 to 30", b);
            e = mc_printf(
                c, "format-number(%s, concat('0', substring('.000000000000000000000000000000', 1, %s + (%s > 0))))", na,
                nb, nb);
        }
        break;
    }
    default: break;
    }
    const char *ta = nonempty(x, f, 0, a), *tb = b ? nonempty(x, f, 1, b) : NULL;
    const char *test = ta && tb ? mc_printf(c, "%s and %s", ta, tb) : ta ? ta : tb;
    if (test) var_if(x, out0(x, f), test, e);
    else var(x, out0(x, f), mc_printf(c, "string(%s)", e));
}

static void gen_lookup(fctx *x, fnc *f)
{
    mc *c = x->c;
    const xmlNode *cfg = config_of(f, "SimpleLookup");
    const xmlNode *tab = ma_xml_child(ma_xml_child(cfg, "CrossRefTableObj"), "CrossRefTable");
    /* inputs: port expression and 0-based column */
    size_t nin = 0;
    for (const xmlNode *i = ma_xml_child(cfg, "Input"); i; i = ma_xml_next(i, "Input")) nin++;
    const char **iexpr = mc_alloc(c, (nin ? nin : 1) * sizeof *iexpr);
    long *icol = mc_alloc(c, (nin ? nin : 1) * sizeof *icol);
    size_t k = 0;
    for (const xmlNode *i = ma_xml_child(cfg, "Input"); i; i = ma_xml_next(i, "Input"), k++) {
        const char *index = attr_or(c, i, "index", ""), *ref = attr_or(c, i, "refId", "");
        port *pt = fn_port(f->in, f->nin, index);
        if (!pt) fail(c, MA_ERR_CONFIG, "%s: lookup input index %s names no input", fn_label(c, f), index);
        if (!is_int(ref, &icol[k]) || icol[k] < 1)
            fail(c, MA_ERR_CONFIG, "%s: lookup input refId '%s' is not a column", fn_label(c, f), ref);
        icol[k]--;
        iexpr[k] = in_expr(x, f, pt);
    }
    if (!nin) fail(c, MA_ERR_CONFIG, "%s: the lookup has no input", fn_label(c, f));
    for (const xmlNode *o = ma_xml_child(cfg, "Output"); o; o = ma_xml_next(o, "Output")) {
        const char *index = attr_or(c, o, "index", ""), *ref = attr_or(c, o, "refId", "");
        port *pt = fn_port(f->out, f->nout, index);
        if (!pt) fail(c, MA_ERR_CONFIG, "%s: lookup output index %s names no output", fn_label(c, f), index);
        long col;
        if (!is_int(ref, &col) || col < 1)
            fail(c, MA_ERR_CONFIG, "%s: lookup output refId '%s' is not a column", fn_label(c, f), ref);
        col--;
        if (!pt->used) continue;
        out(x->b, x->ind, "<xsl:variable name=\"%s\">", fvar(c, f, pt->key));
        out(x->b, x->ind + 1, "<xsl:choose>");
        for (const xmlNode *row = ma_xml_child(ma_xml_child(tab, "Rows"), "row"); row; row = ma_xml_next(row, "row")) {
            const xmlNode *vals = ma_xml_child(row, "Values");
            const char *result = "";
            ma_sb *t = new_sb(c);
            for (size_t j = 0; j < nin; j++) {
                const char *cell = "";
                for (const xmlNode *r = ma_xml_child(vals, "ref"); r; r = ma_xml_next(r, "ref")) {
                    long ci;
                    if (is_int(attr_or(c, r, "colIdx", ""), &ci) && ci == icol[j]) cell = attr_or(c, r, "value", "");
                }
                if (j) ma_sb_puts(t, " and ");
                ma_sb_printf(t, "%s = %s", iexpr[j], xlit(c, cell));
            }
            for (const xmlNode *r = ma_xml_child(vals, "ref"); r; r = ma_xml_next(r, "ref")) {
                long ci;
                if (is_int(attr_or(c, r, "colIdx", ""), &ci) && ci == col) result = attr_or(c, r, "value", "");
            }
            sb_check(c, t);
            const char *test = mc_strdup(c, t->s);
            out(x->b, x->ind + 2, "<xsl:when test=\"%s\"><xsl:text>%s</xsl:text></xsl:when>", EA(test), ET(result));
        }
        out(x->b, x->ind + 2, "<xsl:otherwise/>");
        out(x->b, x->ind + 1, "</xsl:choose>");
        out(x->b, x->ind, "</xsl:variable>");
    }
}

/* Each mapped output: ma:crossref(table, outCol, inCol1, value1, ...); with skipLookupIfNoInputs
 * the lookup runs only when some input has a value. */
static void gen_crossref(fctx *x, fnc *f)
{
    mc *c = x->c;
    const xmlNode *cfg = config_of(f, "CrossRefLookup");
    ma_sb *args = new_sb(c), *test = new_sb(c);
    for (const xmlNode *i = ma_xml_child(cfg, "Input"); i; i = ma_xml_next(i, "Input")) {
        const char *e = in_expr(x, f, fn_port(f->in, f->nin, attr_or(c, i, "index", "")));
        if (!ma_str_has_prefix(e, "string(")) e = mc_printf(c, "string(%s)", e);
        ma_sb_printf(args, ", %s, %s", xlit(c, attr_or(c, i, "refId", "")), e);
        ma_sb_printf(test, "%s%s != ''", test->len ? " or " : "", e);
    }
    sb_check(c, args);
    sb_check(c, test);
    const char *id = xlit(c, attr_or(c, cfg, "crossRefTableId", ""));
    int skip = ma_streq(attr(c, cfg, "skipLookupIfNoInputs"), "true");
    for (const xmlNode *o = ma_xml_child(cfg, "Output"); o; o = ma_xml_next(o, "Output")) {
        port *pt = fn_port(f->out, f->nout, attr_or(c, o, "index", ""));
        if (!pt->used) continue;
        const char *call = mc_printf(c, "ma:crossref(%s, %s%s)", id, xlit(c, attr_or(c, o, "refId", "")), args->s);
        if (skip) var_if(x, fvar(c, f, pt->key), test->s, call);
        else var(x, fvar(c, f, pt->key), call);
    }
}

/* One ma:script call (the script runs once), then ma:script-output per mapped output. */
static void gen_script(fctx *x, fnc *f)
{
    mc *c = x->c;
    char *src = NULL;
    const xmlNode *decl = script_decl(c, f, &src);
    ma_sb *b = new_sb(c);
    ma_sb_printf(b, "ma:script(%s, %s, %zu", xlit(c, attr_or(c, decl, "language", "groovy")), xlit(c, src), f->nin);
    for (size_t i = 0; i < f->nin; i++)
        ma_sb_printf(b, ", %s, string(%s)", xlit(c, script_name(c, f, decl, &f->in[i], "Input")), in_n(x, f, i));
    size_t k = 0;
    for (size_t i = 0; i < f->nout; i++)
        if (f->out[i].used) {
            ma_sb_printf(b, ", %s", xlit(c, script_name(c, f, decl, &f->out[i], "Output")));
            k++;
        }
    ma_sb_putc(b, ')');
    sb_check(c, b);
    const char *h = mc_printf(c, "%s.script", f->id);
    var(x, h, mc_strdup(c, b->s));
    k = 0;
    for (size_t i = 0; i < f->nout; i++)
        if (f->out[i].used) var(x, fvar(c, f, f->out[i].key), mc_printf(c, "ma:script-output($%s, %zu)", h, k++));
}

static void gen_function(fctx *x, fnc *f)
{
    mc *c = x->c;
    out(x->b, x->ind, "<!-- %s -->", cmt(c, fn_label(c, f)));
    switch (f->kind) {
    case FK_DOCPROP_GET: {
        const xmlNode *cfg = config_of(f, "DocumentProperty");
        const char *get = mc_printf(c, "ma:property(%s)", xlit(c, attr(c, cfg, "propertyId")));
        const char *dv = attr(c, cfg, "defaultValue");
        if (empty(dv)) var(x, out0(x, f), get);
        else var_or(x, out0(x, f), get, xlit(c, dv));
        break;
    }
    case FK_DOCPROP_SET: {
        const char *id = attr(c, config_of(f, "DocumentProperty"), "propertyId");
        const char *v = in_n(x, f, 0);
        out(x->b, x->ind, "<xsl:value-of select=\"%s\"/>", EA(mc_printf(c, "ma:set-property(%s, %s)", xlit(c, id), v)));
        break;
    }
    case FK_DPP_GET:
    case FK_DPP_SET: {
        port *np = in_at(f, 0);
        const char *name;
        if (!np->src && !np->from) {
            if (empty(np->def))
                fail(c, MA_ERR_CONFIG, "%s: the property name (input %s) has no default and is not mapped",
                     fn_label(c, f), np->key);
            name = xlit(c, mc_printf(c, "process.%s", np->def));
        } else {
            name = mc_printf(c, "concat('process.', %s)", in_expr(x, f, np));
        }
        if (f->kind == FK_DPP_SET) {
            out(x->b, x->ind, "<xsl:value-of select=\"%s\"/>",
                EA(mc_printf(c, "ma:set-property(%s, %s)", name, in_n(x, f, 1))));
        } else {
            const char *get = mc_printf(c, "ma:property(%s)", name);
            port *dp = in_at(f, 1);
            if (!dp || (!dp->src && !dp->from && empty(dp->def))) var(x, out0(x, f), get);
            else var_or(x, out0(x, f), get, in_expr(x, f, dp));
        }
        break;
    }
    case FK_CONCAT: {
        const xmlNode *cfg = config_of(f, "StringConcat");
        const char *delim = attr_or(c, cfg, "delimiter", "");
        long fixed = 0;
        is_int(attr(c, cfg, "fixedLength"), &fixed);
        ma_sb *b = new_sb(c);
        for (size_t i = 0; i < f->nin; i++) {
            const char *v = in_n(x, f, i);
            if (i && *delim) ma_sb_printf(b, ", %s", xlit(c, delim));
            ma_sb_printf(b, "%s%s", b->len ? ", " : "", v);
        }
        sb_check(c, b);
        const char *args = mc_strdup(c, b->s);
        const char *e = f->nin == 0   ? "''"
                        : f->nin == 1 ? mc_printf(c, "string(%s)", args)
                                      : mc_printf(c, "concat(%s)", args);
        if (fixed > 0) e = mc_printf(c, "substring(%s, 1, %ld)", e, fixed);
        var(x, out0(x, f), e);
        break;
    }
    case FK_LTRIM:
    case FK_RTRIM: {
        const char *s = in_n(x, f, 0);
        port *lp = in_at(f, 1);
        long n;
        const char *len = !lp->src && !lp->from && is_int(lp->def, &n) ? mc_printf(c, "%ld", n)
                                                                       : mc_printf(c, "number(%s)", in_expr(x, f, lp));
        if (f->kind == FK_LTRIM)
            var(x, out0(x, f), mc_printf(c, "substring(%s, string-length(%s) - %s + 1)", s, s, len));
        else var(x, out0(x, f), mc_printf(c, "substring(%s, 1, %s)", s, len));
        break;
    }
    case FK_WSTRIM: var(x, out0(x, f), mc_printf(c, "ma:trim(%s)", in_n(x, f, 0))); break;
    case FK_UPPER: var(x, out0(x, f), mc_printf(c, "ma:upper(%s)", in_n(x, f, 0))); break;
    case FK_LOWER: var(x, out0(x, f), mc_printf(c, "ma:lower(%s)", in_n(x, f, 0))); break;
    case FK_APPEND:
    case FK_PREPEND: {
        const char *s = in_n(x, f, 0);
        long n = 0;
        is_int(in_at(f, 1)->def, &n);
        const char *fill = in_at(f, 2)->def ? in_at(f, 2)->def : "";
        ma_sb pad;
        ma_sb_init(&pad);
        size_t fl = u8len(fill), reps = fl ? ((size_t)n + fl - 1) / fl : 0;
        for (size_t i = 0; i < reps; i++) ma_sb_puts(&pad, fill);
        char *ps = ma_sb_take(&pad, NULL);
        track(c, ps);
        if (f->kind == FK_APPEND)
            var(x, out0(x, f), mc_printf(c, "substring(concat(%s, %s), 1, %ld)", s, xlit(c, ps), n));
        else
            var(x, out0(x, f),
                mc_printf(c, "substring(concat(%s, %s), string-length(%s) + %zu - %ld + 1)", xlit(c, ps), s, s,
                          u8len(ps), n));
        break;
    }
    case FK_DATEFORMAT:
        var(x, out0(x, f), mc_printf(c, "ma:date-convert(%s, %s, %s)", in_n(x, f, 0), in_n(x, f, 1), in_n(x, f, 2)));
        break;
    case FK_CURRENTDATE: var(x, out0(x, f), "ma:date('" INTERNAL_DATE "')"); break;
    case FK_NUMBERFORMAT: {
        const char *v = in_n(x, f, 0);
        const char *im = in_at(f, 1)->def ? in_at(f, 1)->def : "";
        const char *num =
            strchr(im, ',') ? mc_printf(c, "number(translate(%s, ',', ''))", v) : mc_printf(c, "number(%s)", v);
        const char *k = const_in(in_at(f, 0));
        if (k && *k) {
            ma_sb *nb = new_sb(c); /* the constant without grouping separators */
            for (const char *q = k; *q; q++)
                if (*q != ',' || !strchr(im, ',')) ma_sb_putc(nb, *q);
            sb_check(c, nb);
            if (!xpath_number(nb->s)) fail(c, MA_ERR_CONFIG, "%s: '%s' is not a number", fn_label(c, f), k);
        } else if (!k) {
            stop_if(x, f, mc_printf(c, "%s != '' and string(%s) = 'NaN'", v, num), "not a number", v);
        }
        const char *t = nonempty(x, f, 0, v), *e = mc_printf(c, "format-number(%s, %s)", num, in_n(x, f, 2));
        if (t) var_if(x, out0(x, f), t, e);
        else var(x, out0(x, f), e);
        break;
    }
    case FK_ADD:
    case FK_SUB:
    case FK_MUL:
    case FK_DIV:
    case FK_ABS:
    case FK_CEIL:
    case FK_FLOOR:
    case FK_PRECISION: gen_math(x, f); break;
    case FK_SEQUENCE: {
        const xmlNode *cfg = config_of(f, "SequentialValue");
        const char *kn = attr(c, cfg, "keyname");
        if (empty(kn)) kn = mc_printf(c, "%s %s", c->map->id, f->key);
        long w = 0;
        is_int(attr(c, cfg, "keyfixtolength"), &w);
        const char *seq = mc_printf(c, "%s.seq", f->id), *call = mc_printf(c, "string(ma:sequence(%s))", xlit(c, kn));
        if (w > 0 && w <= 64) {
            var(x, seq, call);
            char zeros[65];
            memset(zeros, '0', (size_t)w);
            zeros[w] = '\0';
            var(x, out0(x, f), mc_printf(c, "substring(concat('%s', $%s), string-length($%s) + 1)", zeros, seq, seq));
        } else {
            var(x, out0(x, f), call);
        }
        break;
    }
    case FK_SIMPLELOOKUP: gen_lookup(x, f); break;
    case FK_CROSSREF: gen_crossref(x, f); break;
    case FK_SCRIPT: gen_script(x, f); break;
    }
}

static void emit_function(fctx *x, fnc *f, const pnode *scope)
{
    if (f->emitted || !f->active || f->scope != scope) return;
    f->emitted = 1;
    for (size_t i = 0; i < f->nin; i++) /* producers in the same scope first */
        if (f->in[i].from) emit_function(x, f->in[i].from, scope);
    gen_function(x, f);
}

/* ---- the target tree ----------------------------------------------------------------------- */

static void emit_node(mc *c, pnode *t, int ind, ma_sb *b, glist *g);

static const char *jtag(const pnode *t)
{
    if (t->jc == JC_OBJECT) return "fn:map";
    if (t->jc == JC_ARRAY) return "fn:array";
    return t->dt == DT_NUMBER ? "fn:number" : t->dt == DT_BOOLEAN ? "fn:boolean" : "fn:string";
}

/* The value written into t, at its context. */
static void emit_value(mc *c, pnode *t, int ind, ma_sb *b, glist *g)
{
    if (t->mapping && t->def) {
        out(b, ind, "<xsl:choose>");
        out(b, ind + 1, "<xsl:when test=\"%s\"><xsl:value-of select=\"%s\"/></xsl:when>",
            EA(mc_printf(c, "normalize-space(%s) != ''", raw_value(c, t, t->ctx, NULL))),
            EA(write_value(c, t, t->ctx, g)));
        out(b, ind + 1, "<xsl:otherwise>%s</xsl:otherwise>", default_instr(c, t));
        out(b, ind, "</xsl:choose>");
    } else if (t->mapping) {
        out(b, ind, "<xsl:value-of select=\"%s\"/>", EA(write_value(c, t, t->ctx, g)));
    } else if (t->def) {
        out(b, ind, "%s", default_instr(c, t));
    }
}

/* The value instruction of t on one line (a mapping or a default, not both). */
static const char *one_line(mc *c, pnode *t, glist *g)
{
    ma_sb *tmp = new_sb(c);
    emit_value(c, t, 0, tmp, g);
    sb_check(c, tmp);
    while (tmp->len && tmp->s[tmp->len - 1] == '\n') tmp->s[--tmp->len] = '\0';
    return mc_strdup(c, tmp->s);
}

static void emit_kids(mc *c, pnode *t, int ind, ma_sb *b, glist *g, int attrs)
{
    for (size_t i = 0; i < t->skids.n; i++) {
        pnode *k = t->skids.v[i];
        if (k->emit && (k->kind == PK_XATTR) == attrs) emit_node(c, k, ind, b, g);
    }
}

static void emit_element(mc *c, pnode *t, int ind, ma_sb *b, glist *g)
{
    if (t->kind == PK_XATTR) {
        if (!(t->mapping && t->def)) {
            out(b, ind, "<xsl:attribute name=\"%s\">%s</xsl:attribute>", qname(c, t), one_line(c, t, g));
            return;
        }
        out(b, ind, "<xsl:attribute name=\"%s\">", qname(c, t));
        emit_value(c, t, ind + 1, b, g);
        out(b, ind, "</xsl:attribute>");
        return;
    }
    if (t->kind == PK_XELEM) {
        const char *q = qname(c, t);
        int kids = 0;
        for (size_t i = 0; i < t->skids.n; i++) kids |= ((pnode *)t->skids.v[i])->emit;
        int simple = !kids && !(t->mapping && t->def);
        if (simple) { /* one line: <name><xsl:value-of .../></name> */
            out(b, ind, "<%s>%s</%s>", q, one_line(c, t, g), q);
            return;
        }
        out(b, ind, "<%s>", q);
        emit_kids(c, t, ind + 1, b, g, 1);
        emit_value(c, t, ind + 1, b, g);
        emit_kids(c, t, ind + 1, b, g, 0);
        out(b, ind, "</%s>", q);
        return;
    }
    /* JSON */
    const char *tag = jtag(t);
    const char *key = t->kind == PK_JENTRY ? mc_printf(c, " key=\"%s\"", avt(c, t->name)) : "";
    if (t->jc == JC_SCALAR && !(t->mapping && t->def)) {
        out(b, ind, "<%s%s>%s</%s>", tag, key, one_line(c, t, g), tag);
        return;
    }
    out(b, ind, "<%s%s>", tag, key);
    if (t->jc == JC_SCALAR) emit_value(c, t, ind + 1, b, g);
    else emit_kids(c, t, ind + 1, b, g, 0);
    out(b, ind, "</%s>", tag);
}

/* t inside the test that it gets content, at its context and scope. */
static void emit_tested(mc *c, pnode *t, int ind, ma_sb *b, glist *g)
{
    const char *test = content_test(c, t, t->ctx, t->scope);
    if (strcmp(test, TRUE_EXPR) == 0) {
        emit_element(c, t, ind, b, g);
        return;
    }
    out(b, ind, "<xsl:if test=\"%s\">", EA(test));
    emit_element(c, t, ind + 1, b, g);
    out(b, ind, "</xsl:if>");
}

/* The body of a scope (the template, or a loop): run-time checks, functions, then t. */
static void emit_scope(mc *c, pnode *scope, pnode *t, int ind, ma_sb *b)
{
    glist g = {{0}};
    ma_sb *content = new_sb(c), *funcs = new_sb(c);
    emit_tested(c, t, ind, content, &g);
    fctx x = {.c = c, .ctx = scope ? scope->bound : NULL, .b = funcs, .ind = ind, .g = &g};
    for (size_t i = 0; i < c->nfns; i++) emit_function(&x, &c->fns[i], scope);
    sb_check(c, content);
    sb_check(c, funcs);
    for (size_t i = 0; i < g.v.n; i++) {
        const guard *gd = g.v.v[i];
        out(b, ind, "<xsl:if test=\"%s\">", gd->test);
        out(b, ind + 1, "<xsl:message terminate=\"yes\">%s</xsl:message>", ET(gd->msg));
        out(b, ind, "</xsl:if>");
    }
    if (funcs->len) ma_sb_append(b, funcs->s, funcs->len);
    if (content->len) ma_sb_append(b, content->s, content->len);
}

static void emit_node(mc *c, pnode *t, int ind, ma_sb *b, glist *g)
{
    if (!t->emit) return;
    if (t->loop) {
        out(b, ind, "<!-- one %s per %s -->", cmt(c, t->path), cmt(c, t->bound->path));
        out(b, ind, "<xsl:for-each select=\"%s\">", EA(relpath(c, t->pctx, t->bound, NULL)));
        emit_scope(c, t, t, ind + 1, b);
        out(b, ind, "</xsl:for-each>");
        return;
    }
    emit_tested(c, t, ind, b, g);
}

/* ---- the stylesheet ------------------------------------------------------------------------ */

static const char *profile_desc(mc *c, const profile *p)
{
    return mc_printf(c, "'%s' (%s, %s)", p->comp->name, p->comp->id, p->comp->type);
}

static char *generate(mc *c)
{
    const xmlNode *m = c->map->object;
    if (!m || !ma_xml_is(m, "Map")) fail(c, MA_ERR_CONFIG, "the component has no <Map> under <bns:object>");
    const xmlNode *joins = ma_xml_child(m, "DocumentCacheJoins");
    if (ma_xml_child(joins, "DocumentCacheJoin")) fail(c, MA_ERR_UNSUPPORTED, "document cache joins are not supported");
    load_functions(c, ma_xml_child(m, "Functions"));
    /* a profile of an unsupported kind is named before a missing one */
    const char *from = attr(c, m, "fromProfile"), *to = attr(c, m, "toProfile");
    const char *ids[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        const ma_component *pc = empty(ids[i]) ? NULL : ma_deploy_find(c->dep, ids[i]);
        if (pc && ma_str_has_prefix(pc->type, "profile.") && !ma_streq(pc->type, "profile.xml") &&
            !ma_streq(pc->type, "profile.json") && !ma_streq(pc->type, "profile.flatfile"))
            fail(c, MA_ERR_UNSUPPORTED,
                 "profile '%s' (%s) is a %s profile: only XML, JSON and flat file profiles are supported", pc->name,
                 pc->id, profile_kind(pc->type));
    }
    load_profile(c, &c->src, from, 0);
    load_profile(c, &c->tgt, to, 1);
    load_mappings(c, ma_xml_child(m, "Mappings"));
    load_defaults(c, ma_xml_child(m, "Defaults"));
    for (size_t i = 0; i < c->nfns; i++) check_function(c, &c->fns[i]);
    for (size_t i = 0; i < c->nfns; i++) fn_srcs(c, &c->fns[i]);

    pnode *root = c->tgt.root;
    mark_emit(c, root);
    if (root->emit) plan(c, root, NULL, NULL);
    for (size_t i = 0; i < c->nfns; i++) fn_scope(c, &c->fns[i]);

    ma_sb *body = new_sb(c);
    if (root->emit) {
        emit_scope(c, NULL, root, 2, body);
    } else {
        glist g = {{0}};
        ma_sb *funcs = new_sb(c);
        fctx x = {.c = c, .ctx = NULL, .b = funcs, .ind = 2, .g = &g};
        for (size_t i = 0; i < c->nfns; i++) emit_function(&x, &c->fns[i], NULL);
        out(body, 2, "<!-- nothing is mapped: the map produces no document -->");
        for (size_t i = 0; i < g.v.n; i++) {
            const guard *gd = g.v.v[i];
            out(body, 2, "<xsl:if test=\"%s\"><xsl:message terminate=\"yes\">%s</xsl:message></xsl:if>", gd->test,
                ET(gd->msg));
        }
        sb_check(c, funcs);
        if (funcs->len) ma_sb_append(body, funcs->s, funcs->len);
    }
    sb_check(c, body);

    ma_sb *s = new_sb(c);
    ma_sb_puts(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out(s, 0, "<!--");
    out(s, 1, "Generated by mini-Atom from the Boomi map '%s' (%s).", cmt(c, c->map->name), cmt(c, c->map->id));
    out(s, 1, "Source profile %s, target profile %s.", cmt(c, profile_desc(c, &c->src)),
        cmt(c, profile_desc(c, &c->tgt)));
    if (c->src.json) out(s, 1, "The source JSON is read in the XPath 3.1 json-to-xml vocabulary (prefix fn).");
    if (c->tgt.json) out(s, 1, "The result is built in the json-to-xml vocabulary (prefix fn) and written as JSON.");
    if (c->src.ff || c->tgt.ff)
        out(s, 1,
            "Flat file data is read and written as <" MA_FLATFILE_ROOT "><RECORD><ELEMENTS><FIELD> (flatfile.h).");
    out(s, 1, "ma: functions are mini-Atom's (urn:miniatom, docs/maps.md).");
    out(s, 0, "-->");
    ma_sb_puts(s, "<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\"");
    ma_sb_puts(s, "\n    xmlns:fn=\"" FN_NS "\" xmlns:ma=\"" MA_NS "\"");
    ma_sb *excl = new_sb(c);
    ma_sb_puts(excl, "ma");
    if (!c->tgt.json) ma_sb_puts(excl, " fn");
    for (size_t i = 0; i < c->nns; i++) {
        if (!c->ns[i].src && !c->ns[i].tgt) continue;
        ma_sb_printf(s, "\n    xmlns:%s=\"%s\"", c->ns[i].prefix, EA(c->ns[i].uri));
        if (!c->ns[i].tgt) ma_sb_printf(excl, " %s", c->ns[i].prefix);
    }
    sb_check(c, excl);
    ma_sb_printf(s, "\n    exclude-result-prefixes=\"%s\">\n", excl->s);
    out(s, 1, "<xsl:output method=\"xml\" encoding=\"UTF-8\" indent=\"no\"/>");
    out(s, 1, "<xsl:template match=\"/\">");
    ma_sb_append(s, body->s ? body->s : "", body->len);
    out(s, 1, "</xsl:template>");
    out(s, 0, "</xsl:stylesheet>");
    sb_check(c, s);
    char *r = ma_sb_take(s, NULL);
    if (!r) oom(c);
    return r;
}

char *ma_map_to_xslt(ma_deploy *dep, const ma_component *map, ma_error *err)
{
    if (!dep || !map) {
        ma_error_set(err, MA_ERR_USAGE, "ma_map_to_xslt: no deployment or map");
        return NULL;
    }
    if (!ma_streq(map->type, "transform.map")) {
        ma_error_set(err, MA_ERR_USAGE, "component '%s' (%s) is of type '%s', not transform.map", map->name, map->id,
                     map->type);
        return NULL;
    }
    mc *c = calloc(1, sizeof *c);
    if (!c) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->dep = dep;
    c->map = map;
    c->err = err;
    char *volatile text = NULL;
    if (setjmp(c->jb) == 0) text = generate(c);
    ma_flatfile_free(c->src.ff);
    ma_flatfile_free(c->tgt.ff);
    for (size_t i = 0; i < c->sbs.n; i++) ma_sb_free(c->sbs.v[i]);
    for (size_t i = 0; i < c->allocs.n; i++) free(c->allocs.v[i]);
    free(c->allocs.v);
    free(c);
    return text;
}
