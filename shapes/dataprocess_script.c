/* dataprocess_script.c - the Data Process step Custom Scripting (processtype 12): the batch goes
 * through a Groovy or JavaScript script in the script host (runtime/scripthost.h) with Boomi's
 * script API (dataContext, ExecutionUtil); what the script stores is the step's output. Boomi:
 * "Custom Scripting" step of the Data Process shape (docs/decisions/019-scripting.md). */

/* Decisions:
 *  - language "groovy" (Boomi's Groovy 1.5) and "groovy2" (Groovy 2.4) both run on Groovy 2.4;
 *    "javascript" runs on Rhino.
 *  - useComponent="true" componentId: the Process Script component (runtime/script_component.h)
 *    runs, with its own language; the step's inline <script> (the copy an export carries) runs
 *    only when the deployment does not hold the component, and the execution log says so once per
 *    batch. Neither: the step does not compile (a missing component).
 *  - A script that throws (or does not compile) fails every document of the batch with its message
 *    and line: document errors, caught by Try/Catch. The property writes it made before it threw
 *    still apply (Boomi keeps them: they are made on the execution as the script runs).
 *  - Stored document i takes the tracking id of input document i (the last input document's when
 *    the script stores more than it got), so a split keeps the lineage like Split Documents.
 *  - A host that cannot start, crashes or runs past script.timeout fails the batch's documents the
 *    same way; the host is restarted for the next batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataprocess_step.h"
#include "script_exec.h"
#include "executor.h"
#include "miniatom/deploy.h"
#include "script_component.h"
#include "scripthost.h"
#include "shapes_common.h"
#include "util.h"

typedef struct script_step {
    char *label;
    char *inline_of; /* the componentId whose inline copy runs (not deployed), or NULL */
    char *language;
    char *source;
    char *java, *jar; /* copies of the settings */
    ma_script_cfg cfg;
} script_step;

static void script_destroy(void *state)
{
    script_step *s = state;
    if (!s) return;
    free(s->label);
    free(s->inline_of);
    free(s->language);
    free(s->source);
    free(s->java);
    free(s->jar);
    free(s);
}

static int script_compile(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    const xmlNode *sc = ma_xml_child(step, "dataprocessscript");
    if (!sc) return ma_error_set(err, MA_ERR_CONFIG, "%s: no <dataprocessscript>", label);
    script_step *s = calloc(1, sizeof *s);
    if (!s) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    s->label = ma_strdup(label);
    const xmlNode *src = sc;
    if (ma_xml_attr_is(sc, "useComponent", "true")) {
        char *id = ma_xml_attr(sc, "componentId");
        int missing = 0;
        ma_error cerr;
        ma_error_clear(&cerr);
        const xmlNode *comp = ma_script_component(ma_shape_deploy(shape), id, MA_SCRIPT_PROCESSING, &missing, &cerr);
        if (comp) {
            free(id);
            src = comp;
        } else {
            char *inl = ma_xml_text(ma_xml_child(sc, "script"));
            int have_inline = inl && inl[strspn(inl, " \t\r\n")];
            free(inl);
            if (!missing || !have_inline) {
                ma_error_set(err, cerr.code, "%s (processtype 12): %s%s", label, cerr.msg,
                             missing ? " and the step carries no inline copy of its script" : "");
                free(id);
                script_destroy(s);
                return -1;
            }
            s->inline_of = id ? id : ma_strdup("");
            id = NULL;
            if (!s->inline_of) {
                script_destroy(s);
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            }
        }
    }
    s->language = ma_xml_attr(src, "language");
    s->source = ma_xml_text(ma_xml_child(src, "script"));
    if (!s->label || !s->source) {
        script_destroy(s);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    if (!s->language || !*s->language) {
        free(s->language);
        s->language = ma_strdup("groovy");
    }
    if (!ma_streq(s->language, "groovy") && !ma_streq(s->language, "groovy2") && !ma_streq(s->language, "javascript")) {
        ma_error_set(err, MA_ERR_UNSUPPORTED,
                     "%s (processtype 12): custom scripts in '%s' cannot run in mini-Atom (groovy, groovy2, "
                     "javascript can)",
                     label, s->language ? s->language : "");
        script_destroy(s);
        return -1;
    }
    const ma_settings *set = ma_deploy_settings(ma_shape_deploy(shape));
    if (ma_config_read(ma_script_config_map, MA_SCRIPT_PREFIX, set, &s->cfg, err) < 0) {
        script_destroy(s);
        return -1;
    }
    s->java = ma_strdup(s->cfg.java ? s->cfg.java : "");
    s->jar = ma_strdup(s->cfg.jar ? s->cfg.jar : "");
    if (!s->java || !s->jar) {
        script_destroy(s);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    s->cfg.java = s->java;
    s->cfg.jar = s->jar;
    char why[700];
    if (!ma_script_available(&s->cfg, why, sizeof why)) {
        ma_error_set(err, MA_ERR_UNSUPPORTED, "%s (processtype 12): custom scripts (%s) cannot run: %s", label,
                     s->language, why);
        script_destroy(s);
        return -1;
    }
    *state = s;
    return 0;
}

/* Fails every document of in: "LABEL: WHAT[ at line N]: MSG". */
static int fail_all(ma_outputs *out, const ma_batch *in, const char *label, const char *what, const char *msg, int line)
{
    char at[32] = "";
    if (line > 0) snprintf(at, sizeof at, " at line %d", line);
    for (size_t i = 0; i < in->len; i++)
        if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "%s: %s%s: %s", label, what, at, msg) < 0) return -1;
    return 0;
}

static int script_run(ma_exec *ex, ma_shape *shape, void *state, const ma_batch *in, ma_batch *next, ma_outputs *out,
                      ma_error *err)
{
    script_step *s = state;
    ma_error terr;
    ma_error_clear(&terr);
    ma_script_run_ctx ctx;
    if (ma_script_exec_ctx(ex, &ctx, &terr) < 0) {
        if (terr.code == MA_ERR_NOMEM) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        ma_exec_log(ex, shape, MA_LOG_ERROR, "%s: %s", s->label, terr.msg);
        if (fail_all(out, in, s->label, "the script cannot run", terr.msg, 0) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return 0;
    }
    if (s->inline_of)
        ma_exec_log(ex, shape, MA_LOG_INFO,
                    "%s: Process Script component %s is not deployed: the inline copy of its script runs", s->label,
                    s->inline_of);
    ma_script_result res;
    ma_error herr;
    ma_error_clear(&herr);
    if (ma_script_run(&s->cfg, s->language, s->source, &ctx, in, &res, &herr) < 0) {
        if (herr.code == MA_ERR_NOMEM) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        ma_exec_log(ex, shape, MA_LOG_ERROR, "%s: %s", s->label, herr.msg);
        if (fail_all(out, in, s->label, "the script host failed", herr.msg, 0) < 0)
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return 0;
    }
    int rc = ma_script_exec_apply(ex, shape, &res, err);
    if (rc == 0 && res.failed) {
        if (fail_all(out, in, s->label, "the script failed", res.message ? res.message : "?", res.line) < 0)
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    } else if (rc == 0) {
        for (size_t i = 0; i < res.out.len; i++) {
            ma_doc *d = res.out.docs[i];
            res.out.docs[i] = NULL;
            if (in->len) ma_doc_set_track_id(&d, ma_doc_track_id(in->docs[i < in->len ? i : in->len - 1]));
            if (ma_batch_push(next, d) < 0) {
                rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                for (size_t j = i + 1; j < res.out.len; j++) {
                    ma_doc_unref(res.out.docs[j]);
                    res.out.docs[j] = NULL;
                }
                break;
            }
        }
        res.out.len = 0;
    }
    ma_script_result_free(&res);
    return rc;
}

const ma_dp_step_kind ma_dp_step_script = {
    .processtype = 12,
    .name = "Custom Scripting",
    .compile = script_compile,
    .run = script_run,
    .destroy = script_destroy,
};
