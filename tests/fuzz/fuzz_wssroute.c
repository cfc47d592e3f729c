/* fuzz_wssroute.c - libFuzzer target for the Web Services Server listener's request side
 * (connectors/wss/wss_route.c and wss.c, docs/wss.md 2-3): route matching, path parameters, the
 * properties made from the query and headers, the input documents by input type, and the response
 * made of returned documents by output type. The routes are built once from tests/server/wss/deploy
 * (with an API Service of awkward templates added: several parameters in one segment, deep paths,
 * every method and input/output type) and from processes/ (under $top_srcdir, else the current
 * folder). The input is a request as text: "METHOD URL" on the first line, "Name: value" header lines,
 * a blank line, the body; the URL's path is percent-decoded and its query split as libmicrohttpd does.
 * A header "Out-<property>: v" sets dynamicdocument.out<property> on the documents handed back.
 * Checked: a route matches only its method (HEAD as GET) and a path that its template, with the
 * captured parameters put back, spells; the parameters are one or more characters of one segment, in
 * order; the match is the one a plain backtracking matcher finds (on short segments); 405's Allow lists
 * only other methods of routes; documents and responses are well-formed (multijson: valid JSON).
 * wss.c is included: the functions it keeps to itself are called here. */
#include "wss/wss.c"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "loader.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_SERVICE                                                                                               \
    "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"fz-service\" name=\"Fuzz API\" "  \
    "type=\"webservice\" version=\"1\"><bns:object><webservice xmlns=\"\" urlPath=\"fz\"><restApi>" FZ_ROUTE(    \
        "GET", "", "", "d", "{y}-{m}-{d}.json") FZ_ROUTE("POST", "multijson", "multijson", "d", "{a}.{b}")       \
        FZ_ROUTE("PUT", "multixml", "multixml", "d",                                                             \
                 "x{a}x{b}x/{c}") FZ_ROUTE("DELETE", "singledata", "singledata", "d",                            \
                                           "lit/{p}/lit/{q}") FZ_ROUTE("PATCH", "singlexml", "none", "d", "{p}") \
            FZ_ROUTE("GET", "none", "singlexml", "", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/{q}") FZ_ROUTE(            \
                "POST", "singlejson", "singlejson", "e",                                                         \
                "{a}a{b}a{c}a{d}a{e}a{f}a{g}a{h}b") "</restApi><capturedHeaders/></webservice></bns:object></bns:Component>"
#define FZ_ROUTE(m, in, out, obj, path)                                                                         \
    "<route processId=\"568bfc50-9f3a-53c5-9211-374cc4c5f2d6\"><overrides httpMethod=\"" m "\" inputType=\"" in \
    "\" outputType=\"" out "\" objectName=\"" obj "\" urlPath=\"" path "\"/></route>"

static ma_registry *reg;
static ma_deploy *deps[2];
static wss_state states[2];

static void load(size_t i, const char *dir, int extra)
{
    ma_error err;
    ma_error_clear(&err);
    deps[i] = ma_deploy_new(reg, NULL);
    if (!deps[i] || ma_deploy_add_dir(deps[i], dir, &err) < 0 ||
        (extra && ma_deploy_add_buffer(deps[i], FZ_SERVICE, strlen(FZ_SERVICE), "fz-service.xml", &err) < 0)) {
        fprintf(stderr, "fuzz_wssroute: cannot load %s: %s\n", dir, err.msg);
        abort();
    }
    ma_deploy_compile(deps[i]);
    if (wss_routes_build(deps[i], &states[i], &err) < 0 || !states[i].n_rest) {
        fprintf(stderr, "fuzz_wssroute: no routes from %s: %s\n", dir, err.msg);
        abort();
    }
}

static void init(void)
{
    ma_error err;
    xmlInitParser();
    reg = ma_builtins_registry(&err);
    if (!reg) abort();
    const char *top = getenv("top_srcdir");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/server/wss/deploy", top ? top : ".");
    load(0, dir, 1);
    snprintf(dir, sizeof dir, "%s/processes", top ? top : ".");
    load(1, dir, 0);
}

/* ---- the request as libmicrohttpd hands it over ---------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s in place (MHD_http_unescape; '+' as a blank when plus); a "%00" ends the text. */
static void unescape(char *s, int plus)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
            *w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
            r += 2;
        } else {
            *w++ = plus && *r == '+' ? ' ' : *r;
        }
    }
    *w = '\0';
}

#define MAX_PAIRS 64

typedef struct fz_req {
    char *text; /* owned: the input, NUL-terminated, cut into pieces */
    ma_http_req req;
    ma_pair hs[MAX_PAIRS], qs[MAX_PAIRS];
    char *out_ids[MAX_PAIRS]; /* owned: "dynamicdocument.out<x>" */
    const char *out_vals[MAX_PAIRS];
    size_t n_out;
    char root[2]; /* "/": the URL of a request line without one */
} fz_req;

/* The next line of *p (its end cut off, a '\r' before it too); NULL at the end of the text. */
static char *next_line(char **p, char *end)
{
    if (*p >= end) return NULL;
    char *l = *p, *nl = memchr(l, '\n', (size_t)(end - l));
    if (!nl) nl = end;
    *nl = '\0';
    if (nl > l && nl[-1] == '\r') nl[-1] = '\0';
    *p = nl + 1;
    return l;
}

static int parse_request(fz_req *f, const uint8_t *data, size_t size)
{
    memset(f, 0, sizeof *f);
    if (!(f->text = malloc(size + 1))) return -1;
    memcpy(f->text, data, size);
    f->text[size] = '\0';
    char *p = f->text, *end = f->text + size;
    char *line = next_line(&p, end);
    if (!line) return -1;
    char *sp = strchr(line, ' ');
    f->root[0] = '/';
    char *url = sp ? sp + 1 : f->root;
    if (sp) *sp = '\0';
    if (strlen(line) > 32) return -1; /* libmicrohttpd takes a method token, the server no more */
    f->req.method = line;
    char *q = strchr(url, '?');
    if (q) *q++ = '\0';
    unescape(url, 0);
    f->req.path = url;
    while (q && *q && f->req.n_query < MAX_PAIRS) {
        char *amp = strchr(q, '&');
        if (amp) *amp = '\0';
        char *eq = strchr(q, '=');
        if (eq) *eq = '\0';
        unescape(q, 1);
        if (eq) unescape(eq + 1, 1);
        f->qs[f->req.n_query++] = (ma_pair){q, eq ? eq + 1 : ""};
        q = amp ? amp + 1 : NULL;
    }
    while ((line = next_line(&p, end)) && *line && f->req.n_headers < MAX_PAIRS) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        if (strncasecmp(line, "Out-", 4) == 0 && f->n_out < MAX_PAIRS) {
            f->out_ids[f->n_out] = ma_asprintf("dynamicdocument.out%s", line + 4);
            if (!f->out_ids[f->n_out]) return -1;
            f->out_vals[f->n_out++] = v;
            continue;
        }
        f->hs[f->req.n_headers++] = (ma_pair){line, v};
    }
    f->req.headers = f->hs;
    f->req.query = f->qs;
    f->req.body = p < end ? p : "";
    f->req.body_len = p < end ? (size_t)(end - p) : 0;
    f->req.remote_addr = "127.0.0.1:1";
    f->req.debug = (f->text[0] & 1) != 0;
    return 0;
}

static void fz_req_free(fz_req *f)
{
    for (size_t i = 0; i < f->n_out; i++) free(f->out_ids[i]);
    free(f->text);
}

/* The route's method m serves method (HEAD as GET), as wss_route.c reads it. */
static int same_method(const char *method, const char *m)
{
    return strcmp(method, m) == 0 || (strcmp(m, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* ---- a plain backtracking matcher: what wss_route_match must find ------------------------------- */

static int ref_parts(const wss_part *p, size_t np, const char *s, size_t n, size_t base, wss_span *caps)
{
    if (!np) return n == 0;
    if (p->lit) {
        if (n < p->len || memcmp(s, p->lit, p->len) != 0) return 0;
        return ref_parts(p + 1, np - 1, s + p->len, n - p->len, base + p->len, caps);
    }
    for (size_t k = 1; k <= n; k++) {
        caps[p->param] = (wss_span){base, k};
        if (ref_parts(p + 1, np - 1, s + k, n - k, base + k, caps)) return 1;
    }
    return 0;
}

#define REF_MAX_SEG 40 /* the plain matcher is exponential in the parameters of a segment */
#define FUZZ_MAX_DOCS 16 /* wss.documents in this target: small, so that inputs go over it */

/* The route the rules pick for a /ws/rest path, -1 when none; 0 when the path is too long to check. */
static int ref_match(const wss_state *st, const char *method, const char *path, const wss_route **out, wss_span *caps)
{
    const char *sp[MAX_SEGS];
    size_t sl[MAX_SEGS], n = 0;
    *out = NULL;
    for (const char *p = path + 8; *p;) {
        while (*p == '/') p++;
        const char *e = p;
        while (*e && *e != '/') e++;
        if (e > p) {
            if (n == MAX_SEGS || e - p > REF_MAX_SEG) return 0;
            sp[n] = p, sl[n] = (size_t)(e - p), n++;
        }
        p = e;
    }
    for (size_t i = 0; i < st->n_rest; i++) {
        const wss_route *c = &st->rest[i];
        if (c->n_segs != n) continue;
        size_t k = 0;
        for (; k < n; k++) {
            const wss_seg *g = &c->segs[k];
            if (!g->parts) {
                if (strlen(g->text) != sl[k] || memcmp(g->text, sp[k], sl[k]) != 0) break;
            } else if (!ref_parts(g->parts, g->n_parts, sp[k], sl[k], (size_t)(sp[k] - path), caps)) {
                break;
            }
        }
        if (k == n && same_method(method, c->method)) {
            *out = c;
            return 1;
        }
    }
    return -1;
}

/* ---- checks ------------------------------------------------------------------------------------- */

static int is_method(const char *s)
{
    return !strcmp(s, "GET") || !strcmp(s, "POST") || !strcmp(s, "PUT") || !strcmp(s, "DELETE") || !strcmp(s, "PATCH");
}

/* The path with empty segments left out ("/ws/rest//a/" -> "/ws/rest/a"). */
static char *normal_path(const char *path)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_puts(&b, "/ws/rest");
    for (const char *p = path + 8; *p;) {
        while (*p == '/') p++;
        const char *e = p;
        while (*e && *e != '/') e++;
        if (e > p) {
            ma_sb_putc(&b, '/');
            ma_sb_append(&b, p, (size_t)(e - p));
        }
        p = e;
    }
    return ma_sb_take(&b, NULL);
}

static void check_rest_match(const wss_route *r, const char *path, const wss_span *caps)
{
    size_t plen = strlen(path), prev_end = 0;
    for (size_t i = 0; i < r->n_params; i++) {
        const wss_span *c = &caps[i];
        if (!c->len || c->off + c->len > plen || c->off < prev_end || memchr(path + c->off, '/', c->len)) abort();
        prev_end = c->off + c->len;
    }
    ma_sb b; /* the template with the parameters put back spells the path */
    ma_sb_init(&b);
    ma_sb_puts(&b, "/ws/rest");
    for (size_t i = 0; i < r->n_segs; i++) {
        const wss_seg *g = &r->segs[i];
        ma_sb_putc(&b, '/');
        if (!g->parts) {
            ma_sb_puts(&b, g->text);
            continue;
        }
        for (size_t k = 0; k < g->n_parts; k++)
            if (g->parts[k].lit) ma_sb_append(&b, g->parts[k].lit, g->parts[k].len);
            else ma_sb_append(&b, path + caps[g->parts[k].param].off, caps[g->parts[k].param].len);
    }
    char *spelt = ma_sb_take(&b, NULL), *norm = normal_path(path);
    if (spelt && norm && strcmp(spelt, norm) != 0) abort();
    free(spelt);
    free(norm);
}

static void check_allow(const wss_state *st, const char *method, const char *allow)
{
    if (!*allow) return;
    char copy[128];
    ma_strlcpy(copy, allow, sizeof copy);
    for (char *save = NULL, *m = strtok_r(copy, ", ", &save); m; m = strtok_r(NULL, ", ", &save)) {
        if (!is_method(m) || same_method(method, m)) abort(); /* Allow names other methods only */
        int found = 0;
        for (size_t i = 0; i < st->n_rest && !found; i++) found = !strcmp(st->rest[i].method, m);
        for (size_t i = 0; i < st->n_simple && !found; i++) found = !strcmp(st->simple[i].method, m);
        if (!found) abort();
    }
}

/* The documents of the request, handed back as the process's, into a response. */
static void decode_and_answer(const wss_route *r, fz_req *f, const wss_span *caps)
{
    kvlist doc = {{0}, 0}, dpp = {{0}, 0};
    ma_sb_init(&doc.b);
    ma_sb_init(&dpp.b);
    request_props(r, &f->req, caps, &doc, &dpp);
    if (dpp.n > 2 + MAX_PARAMS) abort(); /* wss_handle's dpps[] */
    ma_batch in;
    ma_batch_init(&in);
    char why[600] = "";
    /* the cap on documents per request (wss.documents): small, so that inputs reach it */
    int rc = doc.b.oom ? -1 : request_docs(r, &f->req, &doc, FUZZ_MAX_DOCS, &in, why, sizeof why);
    if ((rc == 1 || rc == 2) && !why[0]) abort();
    if (rc == 2 && in.len > FUZZ_MAX_DOCS) abort();
    if (rc == 0) {
        if (!in.len && r->in != IO_MULTIJSON && r->in != IO_MULTIXML) abort();
        for (size_t i = 0; i < in.len; i++) {
            size_t len;
            const char *d = ma_doc_data(in.docs[i], &len);
            if (r->in == IO_MULTIJSON && ma_json_check(d, len, NULL, NULL, NULL, NULL) < 0) abort();
            if (!ma_doc_prop(in.docs[i], "dynamicdocument.inmethod")) abort();
            for (size_t k = 0; k < f->n_out; k++) ma_doc_set_prop(&in.docs[i], f->out_ids[k], f->out_vals[k]);
        }
        ma_http_resp resp;
        memset(&resp, 0, sizeof resp);
        why[0] = '\0';
        rc = build_response(r, &in, f->req.debug, "exec-1", &resp, why, sizeof why);
        if (rc == 1 && !why[0]) abort();
        if (rc == 0) {
            if (resp.status < 200 || resp.status > 599) abort();
            int bodyless = resp.status == 204 || resp.status == 304; /* answered without a body */
            if (bodyless && resp.body_len) abort();
            if (r->out == IO_MULTIJSON && !bodyless &&
                ma_json_check(resp.body, resp.body_len, NULL, NULL, NULL, NULL) < 0)
                abort();
            for (size_t i = 0; i < resp.n_headers; i++)
                if (strpbrk(resp.headers[i], "\r\n")) abort(); /* no header splitting */
        }
        ma_http_resp_clear(&resp);
    }
    ma_batch_clear(&in);
    ma_sb_free(&doc.b);
    ma_sb_free(&dpp.b);
}

static void one_state(const wss_state *st, fz_req *f)
{
    const char *method = f->req.method, *path = f->req.path;
    wss_span caps[MAX_PARAMS];
    char allow[128];
    const wss_route *r = wss_route_match(st, method, path, caps, allow, sizeof allow);
    if (r) {
        if (!same_method(method, r->method)) abort();
        if (strncmp(path, "/ws/simple/", 11) == 0) {
            if (strcmp(path, r->path) != 0) abort();
        } else {
            check_rest_match(r, path, caps);
        }
    } else {
        check_allow(st, method, allow);
    }
    if (!strcmp(method, "HEAD")) { /* HEAD is GET */
        wss_span c2[MAX_PARAMS];
        char a2[128];
        if (wss_route_match(st, "GET", path, c2, a2, sizeof a2) != r) abort();
    }
    if (strncmp(path, "/ws/rest/", 9) == 0 || strcmp(path, "/ws/rest") == 0) {
        const wss_route *ref;
        wss_span rcaps[MAX_PARAMS];
        int known = ref_match(st, method, path, &ref, rcaps);
        if (known && ref != r) abort();
        if (known > 0)
            for (size_t i = 0; i < r->n_params; i++)
                if (rcaps[i].off != caps[i].off || rcaps[i].len != caps[i].len) abort();
    }
    if (r) decode_and_answer(r, f, caps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reg) init();
    fz_req f;
    if (parse_request(&f, data, size) == 0)
        for (size_t i = 0; i < 2; i++) one_state(&states[i], &f);
    fz_req_free(&f);
    return 0;
}
