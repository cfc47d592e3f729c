/* server_debug.c - debug runs of `miniatom serve` (docs/server.md "Modes", decision 017): a request
 * with X-Boomi-Debug: true or _boomi_debug=true runs in general mode, recorded with its payloads,
 * only for an authenticated user that auth.<listener>.debug_users names, at most debug.rate times a
 * minute per user and debug.concurrent at once. Anyone else's flag is ignored: the request is served
 * as it would be without it. */
#include <string.h>

#include "server.h"
#include "util.h"

/* 1 when the comma list names user (white space around names is ignored). */
static int listed(const char *list, const char *user)
{
    size_t ul = strlen(user);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *end = e;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
        if ((size_t)(end - p) == ul && ul && strncmp(p, user, ul) == 0) return 1;
        p = e;
    }
    return 0;
}

ma_debug_verdict ma_debug_decide(ma_server *srv, const ma_auth_cfg *a, const char *user, unsigned *retry_s)
{
    *retry_s = 0;
    if (a->mode != MA_AUTH_BASIC || !user || !listed(a->debug_users, user)) return MA_DEBUG_IGNORED;
    if (atomic_fetch_add(&srv->n_debug, 1) >= srv->c.debug_concurrent) { /* not counted against the rate */
        atomic_fetch_sub(&srv->n_debug, 1);
        *retry_s = 1;
        return MA_DEBUG_LIMITED;
    }
    if ((*retry_s = ma_ratelimit_take(srv->debug_rl, 'd', user, strlen(user))) != 0) {
        atomic_fetch_sub(&srv->n_debug, 1);
        return MA_DEBUG_LIMITED;
    }
    return MA_DEBUG_RUN;
}

void ma_debug_done(ma_server *srv) { atomic_fetch_sub(&srv->n_debug, 1); }
