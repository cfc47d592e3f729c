/* xslt_script.c - Boomi's map "Scripting" function as two XSLT extension functions: the inputs
 * become the script's variables by name, the script runs once in the script host (scripthost.h,
 * docs/decisions/019-scripting.md), and the output variables are read back by name. Property reads
 * and writes and log lines work as in the Custom Scripting step; a script that fails fails the map's
 * document with its message and line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxslt/extensions.h>

#include "executor.h"
#include "script_exec.h"
#include "scripthost.h"
#include "util.h"
#include "xslt.h"
#include "xslt_script.h"

#define MAX_ARGS 512

struct ma_xslt_calls {
    char **vals; /* owned, NULL entries: outputs the script left unset */
    size_t n, cap;
};

void ma_xslt_calls_free(ma_xslt_calls *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->vals[i]);
    free(c->vals);
    free(c);
}

static void push_str(xmlXPathParserContextPtr ctxt, const char *s)
{
    valuePush(ctxt, xmlXPathWrapString(xmlStrdup((const xmlChar *)(s ? s : ""))));
}

static void fn_script(xmlXPathParserContextPtr ctxt, int nargs)
{
    if (nargs < 3 || nargs > MAX_ARGS) {
        xmlXPathSetArityError(ctxt);
        return;
    }
    xmlChar *a[MAX_ARGS];
    for (int i = nargs - 1; i >= 0; i--) {
        a[i] = xmlXPathPopString(ctxt);
        if (xmlXPathCheckError(ctxt) || !a[i]) {
            for (int j = i; j < nargs; j++) xmlFree(a[j]);
            return;
        }
    }
    const char *lang = (const char *)a[0], *src = (const char *)a[1];
    long nin = strtol((const char *)a[2], NULL, 10);
    ma_exec *ex = ma_xslt_exec_of(ctxt);
    ma_xslt_calls **cp = ma_xslt_calls_of(ctxt);
    if (nin < 0 || 3 + 2 * nin > nargs || !ex || !cp) {
        if (!ex || !cp) ma_xslt_fn_fail(ctxt, "ma:script: no execution (or out of memory)");
        else xmlXPathSetArityError(ctxt);
        for (int j = 0; j < nargs; j++) xmlFree(a[j]);
        return;
    }
    size_t nout = (size_t)nargs - 3 - 2 * (size_t)nin;
    const char *in_n[MAX_ARGS / 2], *in_v[MAX_ARGS / 2], *out_n[MAX_ARGS];
    for (long i = 0; i < nin; i++) {
        in_n[i] = (const char *)a[3 + 2 * i];
        in_v[i] = (const char *)a[4 + 2 * i];
    }
    for (size_t i = 0; i < nout; i++) out_n[i] = (const char *)a[3 + 2 * nin + (long)i];
    ma_script_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    ma_error err;
    ma_script_result res;
    int rc = ma_config_read(ma_script_config_map, MA_SCRIPT_PREFIX, ma_xslt_settings_of(ctxt), &cfg, &err);
    ma_script_run_ctx rctx;
    if (rc == 0) rc = ma_script_exec_ctx(ex, &rctx, &err);
    if (rc == 0) rc = ma_script_call(&cfg, lang, src, &rctx, in_n, in_v, (size_t)nin, out_n, nout, &res, &err);
    if (rc < 0) {
        ma_xslt_fn_fail(ctxt, "a Scripting function: the script host failed: %s", err.msg);
    } else {
        if (ma_script_exec_apply(ex, NULL, &res, &err) < 0) {
            ma_xslt_fn_fail(ctxt, "a Scripting function: %s", err.msg);
        } else if (res.failed) {
            if (res.line > 0)
                ma_xslt_fn_fail(ctxt, "a Scripting function failed at line %d: %s", res.line,
                                res.message ? res.message : "?");
            else ma_xslt_fn_fail(ctxt, "a Scripting function failed: %s", res.message ? res.message : "?");
        } else {
            if (!*cp) *cp = calloc(1, sizeof **cp);
            ma_xslt_calls *c = *cp;
            if (c && c->n + nout > c->cap) {
                size_t cap = (c->cap ? c->cap * 2 : 16) + nout;
                char **nv = realloc(c->vals, cap * sizeof *nv);
                if (nv) {
                    c->vals = nv;
                    c->cap = cap;
                }
            }
            if (!c || c->n + nout > c->cap) {
                ma_xslt_fn_fail(ctxt, "ma:script: out of memory");
            } else {
                char h[48];
                snprintf(h, sizeof h, "%zu:%zu", c->n, nout);
                for (size_t i = 0; i < nout; i++) {
                    c->vals[c->n++] = res.values[i];
                    res.values[i] = NULL;
                }
                push_str(ctxt, h);
            }
        }
        ma_script_result_free(&res);
    }
    for (int j = 0; j < nargs; j++) xmlFree(a[j]);
}

/* ma:script-output(handle, i): output i of the call the handle names ("" when unset). */
static void fn_script_output(xmlXPathParserContextPtr ctxt, int nargs)
{
    if (nargs != 2) {
        xmlXPathSetArityError(ctxt);
        return;
    }
    double i = xmlXPathPopNumber(ctxt);
    xmlChar *h = xmlXPathPopString(ctxt);
    if (xmlXPathCheckError(ctxt) || !h) {
        xmlFree(h);
        return;
    }
    ma_xslt_calls **cp = ma_xslt_calls_of(ctxt);
    size_t at = 0, n = 0;
    const char *v = NULL;
    if (cp && *cp && sscanf((const char *)h, "%zu:%zu", &at, &n) == 2 && i >= 0 && i < (double)n && at + n <= (*cp)->n)
        v = (*cp)->vals[at + (size_t)i];
    xmlFree(h);
    push_str(ctxt, v);
}

void ma_xslt_script_register(void)
{
    xsltRegisterExtModuleFunction((const xmlChar *)"script", (const xmlChar *)MA_XSLT_NS, fn_script);
    xsltRegisterExtModuleFunction((const xmlChar *)"script-output", (const xmlChar *)MA_XSLT_NS, fn_script_output);
}
