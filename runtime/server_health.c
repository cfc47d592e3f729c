/* server_health.c - GET /health (docs/server.md): whether the server serves, serves degraded (its
 * execution history is unusable) or drains, the deployment it serves (folder, generation, when
 * loaded), how many processes it has, each process that cannot run with its first reasons, and the
 * state of the execution history. */
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "util.h"

#define HEALTH_REASONS 3

char *ma_health_body(ma_server *srv, int *status, size_t *len)
{
    int draining = atomic_load(&srv->draining);
    ma_sb store;
    ma_sb_init(&store);
    int store_ok = ma_store_health(srv, &store);
    ma_snapshot *s = ma_server_snapshot(srv);
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_printf(&b, "{\"status\":\"%s\",\"deployment\":{\"folder\":",
                 draining   ? "draining"
                 : store_ok ? "ok"
                            : "degraded");
    ma_sb_json_str(&b, srv->deploy_dir);
    ma_sb_printf(&b, ",\"generation\":%u,\"loaded\":\"%s\"},\"processes\":%zu,\"notRunnable\":[", s ? s->generation : 0,
                 s ? s->loaded_at : "", s ? s->n_processes : 0);
    size_t listed = 0;
    for (size_t i = 0; s && i < s->dep->n; i++) {
        const ma_component *c = s->dep->comps[i];
        if (!c->process || c->process->runnable) continue;
        char **reasons;
        size_t n = ma_process_reasons(s->dep, c, HEALTH_REASONS, &reasons);
        ma_sb_puts(&b, listed++ ? ",{\"id\":" : "{\"id\":");
        ma_sb_json_str(&b, c->id);
        ma_sb_lit(&b, ",\"name\":");
        ma_sb_json_str(&b, c->name);
        ma_sb_lit(&b, ",\"reasons\":[");
        for (size_t k = 0; k < n; k++) {
            if (k) ma_sb_putc(&b, ',');
            ma_sb_json_str(&b, reasons[k]);
        }
        ma_sb_lit(&b, "]}");
        ma_strings_free(reasons, n);
    }
    ma_sb_lit(&b, "],");
    ma_sb_append(&b, store.s ? store.s : "", store.len);
    ma_front_health(srv, &b); /* connections, and the limits of the HTTP front */
    ma_sb_lit(&b, "}\n");
    if (store.oom) b.oom = 1;
    ma_sb_free(&store);
    ma_snapshot_unref(s);
    *status = draining ? 503 : 200; /* degraded: 200, the server serves (decision 016) */
    return ma_sb_take(&b, len);
}
