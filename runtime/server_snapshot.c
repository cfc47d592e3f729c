/* server_snapshot.c - deployments as served: the deploy folder loaded and compiled against the
 * registry, and every listener type deployed on it; refcounted, so that a reload (SIGHUP) swaps
 * in a new snapshot while executions finish on the one they started with (DESIGN "Immutable
 * deployments"). A process that cannot run does not stop the others from being served: it is
 * logged with all of its reasons and answered 503 (docs/server.md), unless serve --strict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "server.h"
#include "util.h"

ma_deploy *ma_snapshot_deploy(ma_snapshot *snap) { return snap->dep; }

ma_snapshot *ma_snapshot_ref(ma_snapshot *snap)
{
    atomic_fetch_add(&snap->refs, 1);
    return snap;
}

static void snapshot_free(ma_snapshot *s)
{
    for (size_t i = s->reg->n_listeners; s->states && i-- > 0;)
        if (s->deployed[i] && s->reg->listeners[i]->undeploy) s->reg->listeners[i]->undeploy(s->states[i]);
    free(s->states);
    free(s->deployed);
    ma_deploy_free(s->dep);
    free(s);
}

void ma_snapshot_unref(ma_snapshot *snap)
{
    if (snap && atomic_fetch_sub(&snap->refs, 1) == 1) snapshot_free(snap);
}

ma_snapshot *ma_server_snapshot(ma_server *srv)
{
    pthread_mutex_lock(&srv->snap_mu);
    ma_snapshot *s = srv->snap ? ma_snapshot_ref(srv->snap) : NULL;
    pthread_mutex_unlock(&srv->snap_mu);
    return s;
}

/* Logs a process that cannot run, with every reason. */
static void log_not_runnable(ma_server *srv, const ma_deploy *dep, const ma_component *c)
{
    char **reasons;
    size_t n = ma_deploy_reasons(dep, c, 1, dep->n_problems + 1, &reasons);
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"process\":");
    ma_sb_json_str(&b, c->name);
    ma_sb_lit(&b, ",\"id\":");
    ma_sb_json_str(&b, c->id);
    ma_sb_lit(&b, ",\"reasons\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) ma_sb_putc(&b, ',');
        ma_sb_json_str(&b, reasons[i]);
    }
    ma_sb_lit(&b, "]}");
    if (!b.oom) ma_log_line(srv, "warning", "process not runnable; its requests are answered 503", b.s);
    ma_sb_free(&b);
    ma_strings_free(reasons, n);
}

ma_snapshot *ma_snapshot_build(ma_server *srv, const ma_registry *reg, const ma_settings *settings,
                               const char *deploy_dir, int strict, ma_error *err)
{
    ma_deploy_opts o;
    memset(&o, 0, sizeof o);
    o.settings = settings;
    ma_snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->reg = reg;
    s->dep = ma_deploy_new(reg, &o);
    s->states = calloc(reg->n_listeners + 1, sizeof *s->states);
    s->deployed = calloc(reg->n_listeners + 1, 1);
    if (!s->dep || !s->states || !s->deployed) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (ma_deploy_add_dir(s->dep, deploy_dir, err) < 0) goto fail;
    s->n_not_runnable = ma_deploy_compile(s->dep);
    for (size_t i = 0; i < s->dep->n; i++)
        if (strcmp(s->dep->comps[i]->type, "process") == 0) s->n_processes++;
    if (s->n_not_runnable && strict) {
        ma_sb b;
        ma_sb_init(&b);
        ma_sb_printf(&b, "%zu process%s not runnable (--strict)", s->n_not_runnable,
                     s->n_not_runnable == 1 ? " is" : "es are");
        for (size_t i = 0; i < s->dep->n_problems && i < 5; i++) {
            char *line = ma_problem_format(&s->dep->problems[i]);
            ma_sb_printf(&b, "%s %s", i ? ";" : ":", line ? line : s->dep->problems[i].message);
            free(line);
        }
        if (s->dep->n_problems > 5)
            ma_sb_printf(&b, "; and %zu more (miniatom check says all)", s->dep->n_problems - 5);
        ma_error_set(err, MA_ERR_CONFIG, "%s", b.s ? b.s : "processes are not runnable");
        ma_sb_free(&b);
        goto fail;
    }
    for (size_t i = 0; i < reg->n_listeners; i++) {
        const ma_listener_type *lt = reg->listeners[i];
        if (lt->deploy && lt->deploy(srv, s->dep, &s->states[i], err) < 0) {
            ma_error_prefix(err, "listener %s", lt->name);
            goto fail;
        }
        s->deployed[i] = 1;
    }
    if (srv)
        for (size_t i = 0; i < s->dep->n; i++) {
            const ma_component *c = s->dep->comps[i];
            if (c->process && !c->process->runnable) log_not_runnable(srv, s->dep, c);
        }
    ma_iso_now(s->loaded_at);
    return s;
fail:
    snapshot_free(s);
    return NULL;
}
