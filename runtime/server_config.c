/* server_config.c - the settings of `miniatom serve` as config maps (docs/server.md): the server's
 * own keys, auth.<listener>.* for each listener type and /health, and the check of a whole settings
 * list against every declared map (the server's, each listener type's, connector.map.* and
 * connection.*), so that run, check, serve and --check-config refuse the same things. */
#include <netdb.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataprocess_step.h"
#include "lazy_gnutls.h"
#include "scripthost.h"
#include "server.h"
#include "util.h"

#define MAX_TLS_FILE (1u << 20)

/* "HOST:PORT" or "[V6]:PORT" resolved with getaddrinfo; NULL ss: only checked. */
static int parse_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sl, char *why, size_t wl)
{
    char host[256];
    const char *colon, *port;
    if (*v == '[') {
        const char *rb = strchr(v, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - v - 1) >= sizeof host) goto bad;
        memcpy(host, v + 1, (size_t)(rb - v - 1));
        host[rb - v - 1] = '\0';
        port = rb + 2;
    } else {
        colon = strrchr(v, ':');
        if (!colon || colon == v || (size_t)(colon - v) >= sizeof host) goto bad;
        memcpy(host, v, (size_t)(colon - v));
        host[colon - v] = '\0';
        port = colon + 1;
    }
    if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 || atoi(port) > 65535) goto bad;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(why, wl, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    if (ss) {
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *sl = res->ai_addrlen;
    }
    freeaddrinfo(res);
    return 0;
bad:
    snprintf(why, wl, "expected ADDRESS:PORT (e.g. 127.0.0.1:9090 or [::1]:9090)");
    return -1;
}

int ma_server_parse_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sl, char *why, size_t wl)
{
    return parse_listen(v, ss, sl, why, wl);
}

static int check_listen(const char *v, char *why, size_t wl) { return parse_listen(v, NULL, NULL, why, wl); }

static int check_hash(const char *v, char *why, size_t wl)
{
    ma_hashed_user u;
    memset(&u, 0, sizeof u);
    if (ma_server_parse_hash(v, &u) == 0) return 0;
    snprintf(why, wl,
             "expected a hashed token (pbkdf2-sha256$...; make one with 'miniatom serve --hash-token'), never "
             "the token itself");
    return -1;
}

#define AT(m) MA_CONFIG_AT(ma_server_cfg, m)
const ma_config_entry ma_server_config_map[] = {
    {.key = "server.listen",
     .kind = MA_CONFIG_STRING,
     .def = "127.0.0.1:9090",
     .check = check_listen,
     .at = AT(listen),
     .description = "address and port to listen on (port 0: a free one)"},
    {.key = "server.deploy",
     .kind = MA_CONFIG_DIR,
     .at = AT(deploy),
     .description = "deploy folder of component XML files (default ./processes, else .)"},
    {.key = "server.data",
     .kind = MA_CONFIG_STRING,
     .def = "./data",
     .at = AT(data),
     .description = "data folder: execution history, persisted process properties"},
    {.key = "server.plugins",
     .kind = MA_CONFIG_DIR,
     .at = AT(plugins),
     .description = "folder of plugins (*.so) to load"},
    {.key = "server.threads",
     .kind = MA_CONFIG_UINT,
     .def = "0",
     .min = 0,
     .max = 1024,
     .at = AT(threads),
     .description = "server threads (0: one per core this process may run on)"},
    {.key = "server.slow_threads",
     .kind = MA_CONFIG_UINT,
     .def = "256",
     .min = 1,
     .max = 100000,
     .at = AT(slow_threads),
     .description = "threads for slow and deferred requests at once; more: 503"},
    {.key = "server.slow_after",
     .kind = MA_CONFIG_DURATION,
     .def = "100ms",
     .min = 1,
     .max = 3600000,
     .at = AT(slow_ms),
     .description = "a request path slower than this is handled on a thread of its own from then on"},
    {.key = "server.idle_timeout",
     .kind = MA_CONFIG_DURATION,
     .def = "60s",
     .min = 1000,
     .max = 86400000,
     .at = AT(idle_ms),
     .description = "an idle connection is closed after this"},
    {.key = "server.drain.timeout",
     .kind = MA_CONFIG_DURATION,
     .def = "30s",
     .min = 0,
     .max = 3600000,
     .at = AT(drain_ms),
     .description = "how long a stop waits for executions in flight before it cancels them"},
    {.key = "server.tls.cert",
     .kind = MA_CONFIG_FILE,
     .at = AT(tls_cert),
     .description = "PEM certificate: serve HTTPS"},
    {.key = "server.tls.key",
     .kind = MA_CONFIG_FILE,
     .at = AT(tls_key),
     .description = "PEM private key of server.tls.cert"},
    {.key = "server.tls.clientca",
     .kind = MA_CONFIG_FILE,
     .at = AT(tls_ca),
     .description = "PEM CA certificates that client certificates must chain to"},
    {.key = "limits.request_body",
     .kind = MA_CONFIG_SIZE,
     .def = "1MB",
     .min = 0,
     .max = 1ull << 31,
     .at = AT(req_body),
     .description = "largest request body; over it: 413"},
    {.key = "limits.response_body",
     .kind = MA_CONFIG_SIZE,
     .def = "64MB",
     .min = 1,
     .max = 1ull << 32,
     .at = AT(resp_body),
     .description = "largest response body; over it: 503"},
    {.key = "limits.header",
     .kind = MA_CONFIG_SIZE,
     .def = "16KB",
     .min = 1024,
     .max = 1ull << 20,
     .at = AT(header),
     .description = "largest request line and headers; over it: 431"},
    {.key = "limits.connections",
     .kind = MA_CONFIG_UINT,
     .def = "0",
     .min = 0,
     .max = 1000000,
     .at = AT(connections),
     .description = "connections at once (0: from the file descriptor limit, at most 4096); more: closed"},
    {.key = "limits.connections_per_client",
     .kind = MA_CONFIG_UINT,
     .def = "256",
     .min = 0,
     .max = 1000000,
     .at = AT(per_client),
     .description = "connections at once from one client address (0: no limit); more: closed"},
    {.key = "limits.header_timeout",
     .kind = MA_CONFIG_DURATION,
     .def = "10s",
     .min = 100,
     .max = 3600000,
     .at = AT(header_ms),
     .description = "a request whose line and headers have not all arrived this long after its first byte: "
                    "its connection is closed"},
    {.key = "limits.header_fields",
     .kind = MA_CONFIG_UINT,
     .def = "256",
     .min = 16,
     .max = 100000,
     .at = AT(header_fields),
     .description = "header fields, query parameters and cookies of one request; more: 414 (query) or 431"},
    {.key = "limits.buffered_bodies",
     .kind = MA_CONFIG_SIZE,
     .def = "128MB",
     .min = 0,
     .max = 1ull << 40,
     .at = AT(buffered_bodies),
     .description = "request bodies held in memory at once, server-wide (0: no limit); over it: 503"},
    {.key = "limits.rps",
     .kind = MA_CONFIG_UINT,
     .def = "0",
     .min = 0,
     .max = 100000000,
     .at = AT(rps),
     .description = "requests per second to the listeners (0: no limit); over it: 503"},
    {.key = "limits.sync_timeout",
     .kind = MA_CONFIG_DURATION,
     .def = "30s",
     .min = 1,
     .max = 86400000,
     .at = AT(sync_ms),
     .description = "how long a caller waits for its execution by default"},
    {.key = "execution.max_memory",
     .kind = MA_CONFIG_SIZE,
     .def = "256MB",
     .min = 0,
     .max = 1ull << 40,
     .at = AT(exec_memory),
     .description = "memory one execution may hold, libxml2's, libxslt's and jansson's included (0: no "
                    "limit); over it the execution ends with ERROR"},
    {.key = "server.max_memory",
     .kind = MA_CONFIG_SIZE,
     .def = "0",
     .min = 0,
     .max = 1ull << 44,
     .at = AT(server_memory),
     .description = "memory all executions together may hold (0: half of the physical memory); over it the "
                    "execution that allocates ends with ERROR and new ones get 503"},
    {.key = "workers.threads",
     .kind = MA_CONFIG_UINT,
     .def = "4",
     .min = 1,
     .max = 1024,
     .at = AT(workers),
     .description = "worker threads for general and bridge mode executions"},
    {.key = "workers.queue",
     .kind = MA_CONFIG_UINT,
     .def = "64",
     .min = 1,
     .max = 1000000,
     .at = AT(queue),
     .description = "executions waiting for a worker; more: 503"},
    {.key = "history.purge_days",
     .kind = MA_CONFIG_UINT,
     .def = "30",
     .min = 0,
     .max = 36500,
     .at = AT(purge_days),
     .description = "execution records older than this are deleted (0: never)"},
    {.key = "history.max_doc_bytes",
     .kind = MA_CONFIG_SIZE,
     .def = "1MB",
     .min = 0,
     .max = 1ull << 31,
     .at = AT(max_doc_bytes),
     .description = "documents larger than this are recorded cut"},
    {.key = "history.max_docs",
     .kind = MA_CONFIG_UINT,
     .def = "1000",
     .min = 0,
     .max = 10000000,
     .at = AT(max_docs),
     .description = "documents in and out recorded per execution"},
    {.key = "history.max_size",
     .kind = MA_CONFIG_SIZE,
     .def = "1GB",
     .min = 0,
     .max = 1ull << 50,
     .at = AT(max_size),
     .description = "bytes the execution records may take; over it the oldest payloads, then the oldest records "
                    "are purged (0: no cap)"},
    {.key = "history.check_interval",
     .kind = MA_CONFIG_DURATION,
     .def = "10s",
     .min = 100,
     .max = 86400000,
     .at = AT(check_ms),
     .description = "how often the running server checks its execution history, reopens it when it was "
                    "unusable, and purges it"},
    {.key = "history.max_payload_bytes",
     .kind = MA_CONFIG_SIZE,
     .def = "8MB",
     .min = 0,
     .max = 1ull << 40,
     .at = AT(max_payload_bytes),
     .description = "document bytes recorded per execution (in and out); the rest is not recorded, the record says so"},
    {.key = "history.payload_bytes_per_minute",
     .kind = MA_CONFIG_SIZE,
     .def = "64MB",
     .min = 0,
     .max = 1ull << 40,
     .at = AT(payload_bytes_per_minute),
     .description = "document bytes recorded per minute, server-wide; over it payloads are not recorded"},
    {.key = "debug.rate",
     .kind = MA_CONFIG_UINT,
     .def = "10",
     .min = 0,
     .max = 1000000,
     .at = AT(debug_rate),
     .description = "debug runs per minute per user (0: no limit); over it: 429"},
    {.key = "debug.concurrent",
     .kind = MA_CONFIG_UINT,
     .def = "2",
     .min = 0,
     .max = 100000,
     .at = AT(debug_concurrent),
     .description = "debug runs in flight at once, server-wide (0: none); over it: 429"},
    {.key = "limits.auth_failures",
     .kind = MA_CONFIG_UINT,
     .def = "20",
     .min = 0,
     .max = 100000000,
     .at = AT(auth_failures),
     .description = "failed logins per minute per client address and per user name (0: no limit); over it: 429"},
    {.key = "server.kdf_threads",
     .kind = MA_CONFIG_UINT,
     .def = "1",
     .min = 1,
     .max = 64,
     .at = AT(kdf_threads),
     .description = "threads that hash Basic tokens not yet remembered (never the server threads)"},
    {.key = "limits.kdf_queue",
     .kind = MA_CONFIG_UINT,
     .def = "64",
     .min = 1,
     .max = 1000000,
     .at = AT(kdf_queue),
     .description = "logins waiting for a hashing thread; more: 503"},
    {.key = "log.requests",
     .kind = MA_CONFIG_BOOL,
     .def = "true",
     .at = AT(log_requests),
     .description = "one JSON line per request on stderr"},
    MA_CONFIG_END,
};
#undef AT

static const char *const auth_modes[] = {"none", "basic", "clientcert", NULL};
/* under auth.<listener>. (a listener type's name, or health) */
const ma_config_entry ma_auth_config_map[] = {
    {.key = "mode",
     .kind = MA_CONFIG_ENUM,
     .def = "none",
     .choices = auth_modes,
     .description = "none, basic (users below) or clientcert (server.tls.clientca)"},
    {.key = "user.*",
     .kind = MA_CONFIG_STRING,
     .check = check_hash,
     .description = "a user's hashed token (miniatom serve --hash-token)"},
    {.key = "subject.*", .kind = MA_CONFIG_STRING, .description = "a client certificate subject DN allowed in"},
    {.key = "debug_users",
     .kind = MA_CONFIG_STRING,
     .description = "Basic users (a comma list) whose X-Boomi-Debug / _boomi_debug=true runs a debug run"},
    MA_CONFIG_END,
};

/* ---- one settings list against every map ------------------------------------------------------------ */

static void report_at(ma_report_fn report, void *ctx, int *problems, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void report_at(ma_report_fn report, void *ctx, int *problems, const char *where, const char *fmt, ...)
{
    char why[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    (*problems)++;
    if (report) report(ctx, where, why);
}

/* The listener type named by key[0..len), NULL when none is. */
static const ma_listener_type *listener_named(const ma_registry *reg, const char *key, size_t len)
{
    for (size_t i = 0; i < reg->n_listeners; i++)
        if (strlen(reg->listeners[i]->name) == len && strncmp(reg->listeners[i]->name, key, len) == 0)
            return reg->listeners[i];
    return NULL;
}

/* The Data Process step kind whose settings prefix key starts with, NULL when none. */
static const ma_dp_step_kind *dp_kind_for(const char *key)
{
    for (size_t i = 0; ma_dp_step_kinds[i]; i++)
        if (ma_dp_step_kinds[i]->settings_prefix && ma_str_has_prefix(key, ma_dp_step_kinds[i]->settings_prefix))
            return ma_dp_step_kinds[i];
    return NULL;
}

static void list_keys(ma_sb *b, const ma_config_entry *map, const char *prefix)
{
    for (const ma_config_entry *e = map; e && e->key; e++)
        ma_sb_printf(b, "%s%s%s", e == map ? "" : ", ", prefix, e->key);
}

/* Checks key = v against map under prefix: 0 or a problem reported. */
static void check_in(const ma_config_entry *map, const char *prefix, const char *key, const char *v, const char *origin,
                     const char *unknown_hint, ma_report_fn report, void *ctx, int *problems)
{
    const ma_config_entry *e = ma_config_find(map, key + strlen(prefix));
    char why[1000];
    if (!e) {
        report_at(report, ctx, problems, origin, "%s: unknown key (%s)", key, unknown_hint);
        return;
    }
    if (ma_config_check_value(e, v, why, sizeof why) < 0) report_at(report, ctx, problems, origin, "%s: %s", key, why);
}

int ma_settings_check(const ma_registry *reg, const ma_settings *s, ma_report_fn report, void *ctx)
{
    int problems = 0;
    for (size_t i = 0; i < ma_settings_count(s); i++) {
        const char *key, *v, *origin;
        ma_settings_at(s, i, &key, &v, &origin);
        const char *dot = strchr(key, '.');
        if (ma_str_has_prefix(key, "auth.")) {
            const char *name = key + 5, *d2 = strchr(name, '.');
            if (!d2 || (!listener_named(reg, name, (size_t)(d2 - name)) && strncmp(name, "health.", 7) != 0)) {
                ma_sb l;
                ma_sb_init(&l);
                for (size_t k = 0; k < reg->n_listeners; k++) ma_sb_printf(&l, "%s, ", reg->listeners[k]->name);
                report_at(report, ctx, &problems, origin, "%s: auth.<listener>.* names a listener: %shealth", key,
                          l.s ? l.s : "");
                ma_sb_free(&l);
                continue;
            }
            char prefix[200];
            snprintf(prefix, sizeof prefix, "%.*s", (int)(d2 + 1 - key), key);
            check_in(ma_auth_config_map, prefix, key, v, origin,
                     "auth.<listener>.mode, .user.<name>, .subject.<label> or .debug_users", report, ctx, &problems);
            continue;
        }
        if (ma_str_has_prefix(key, "connection.")) { /* checked against the connector type's map at deploy */
            const char *who = key + 11, *field = strchr(who, '.');
            if (!field || field == who || !field[1])
                report_at(report, ctx, &problems, origin, "%s: expected connection.<connection id or name>.<field>",
                          key);
            continue;
        }
        if (ma_str_has_prefix(key, "connector.map.")) {
            if (!key[14]) report_at(report, ctx, &problems, origin, "%s: expected connector.map.<connectorType>", key);
            else if (!ma_registry_connector(reg, v))
                report_at(report, ctx, &problems, origin,
                          "%s: '%s' is not a connector type of this miniatom (miniatom plugins lists them)", key, v);
            continue;
        }
        if (ma_str_has_prefix(key, MA_SCRIPT_PREFIX)) {
            check_in(ma_script_config_map, MA_SCRIPT_PREFIX, key, v, origin,
                     "script.timeout, script.java, script.jar, script.network or script.max_memory", report, ctx,
                     &problems);
            continue;
        }
        const ma_dp_step_kind *dk = dp_kind_for(key);
        if (dk) {
            char hint[600];
            ma_sb b;
            ma_sb_init(&b);
            list_keys(&b, dk->config_map, dk->settings_prefix);
            snprintf(hint, sizeof hint, "the %s* keys are %s", dk->settings_prefix, b.s ? b.s : "none");
            ma_sb_free(&b);
            check_in(dk->config_map, dk->settings_prefix, key, v, origin, hint, report, ctx, &problems);
            continue;
        }
        const ma_listener_type *lt = dot ? listener_named(reg, key, (size_t)(dot - key)) : NULL;
        if (lt) {
            char prefix[200], hint[600];
            snprintf(prefix, sizeof prefix, "%s.", lt->name);
            ma_sb b;
            ma_sb_init(&b);
            list_keys(&b, lt->config_map, prefix);
            if (b.s) snprintf(hint, sizeof hint, "the %s.* keys are %s", lt->name, b.s);
            else snprintf(hint, sizeof hint, "the %s listener has no settings", lt->name);
            ma_sb_free(&b);
            check_in(lt->config_map, prefix, key, v, origin, hint, report, ctx, &problems);
            continue;
        }
        check_in(ma_server_config_map, "", key, v, origin, "docs/server.md lists them", report, ctx, &problems);
    }
    return problems;
}

/* ---- the server's values and the checks across keys ------------------------------------------------- */

void ma_server_cfg_free(ma_server_cfg *c)
{
    for (size_t i = 0; i < c->n_auth; i++) {
        for (size_t u = 0; u < c->auth[i].n_users; u++) {
            free(c->auth[i].users[u].name);
            ma_wipe(&c->auth[i].users[u], sizeof c->auth[i].users[u]);
        }
        free(c->auth[i].users);
        free(c->auth[i].subjects);
    }
    free(c->auth);
    c->auth = NULL;
    c->n_auth = 0;
}

static const char *where(const ma_settings *s, const char *key)
{
    const char *o = ma_settings_origin(s, key);
    return o ? o : "(default)";
}

/* The certificate and its key must load together; a client CA must hold certificates (GnuTLS says:
 * it is loaded here, lazy_gnutls.h). */
static void check_tls(const ma_server_cfg *c, const ma_settings *s, ma_report_fn report, void *ctx, int *problems)
{
    gnutls_certificate_credentials_t cr;
    ma_error e;
    size_t l1 = 0, l2 = 0, l3 = 0;
    char *cert = ma_read_file(c->tls_cert, MAX_TLS_FILE, &l1, &e);
    char *key = cert ? ma_read_file(c->tls_key, MAX_TLS_FILE, &l2, &e) : NULL;
    if (!cert || !key) {
        report_at(report, ctx, problems, where(s, cert ? "server.tls.key" : "server.tls.cert"), "%s", e.msg);
    } else if (ma_gnutls_load(&e) < 0) {
        /* said, not counted: a missing library is no configuration problem (serve stops at start
         * with it, exit status 1) */
        char why[MA_ERROR_MAX + 64];
        snprintf(why, sizeof why, "server.tls.cert and server.tls.key are not checked: %s", e.msg);
        if (report) report(ctx, where(s, "server.tls.cert"), why);
    } else if (gnutls_certificate_allocate_credentials(&cr) == 0) {
        gnutls_datum_t dc = {(unsigned char *)cert, (unsigned)l1}, dk = {(unsigned char *)key, (unsigned)l2};
        int rc = gnutls_certificate_set_x509_key_mem(cr, &dc, &dk, GNUTLS_X509_FMT_PEM);
        if (rc < 0)
            report_at(report, ctx, problems, where(s, "server.tls.cert"),
                      "server.tls.cert %s and server.tls.key %s do not load as a PEM certificate and its key: %s",
                      c->tls_cert, c->tls_key, gnutls_strerror(rc));
        if (c->tls_ca) {
            char *ca = ma_read_file(c->tls_ca, MAX_TLS_FILE, &l3, &e);
            gnutls_datum_t dca = {(unsigned char *)ca, ca ? (unsigned)l3 : 0};
            rc = ca ? gnutls_certificate_set_x509_trust_mem(cr, &dca, GNUTLS_X509_FMT_PEM) : -1;
            if (rc <= 0)
                report_at(report, ctx, problems, where(s, "server.tls.clientca"),
                          "server.tls.clientca %s holds no PEM certificate%s%s", c->tls_ca, rc < 0 && ca ? ": " : "",
                          rc < 0 && ca ? gnutls_strerror(rc) : "");
            free(ca);
        }
        gnutls_certificate_free_credentials(cr);
    }
    free(cert);
    if (key) ma_wipe(key, l2);
    free(key);
}

/* auth.<listener>.* into c->auth (one per listener type, then health). -1 when out of memory. */
static int load_auth(const ma_registry *reg, const ma_settings *s, ma_server_cfg *c)
{
    c->n_auth = reg->n_listeners + 1;
    if (!(c->auth = calloc(c->n_auth, sizeof *c->auth))) return -1;
    for (size_t i = 0; i < ma_settings_count(s); i++) {
        const char *key, *v;
        ma_settings_at(s, i, &key, &v, NULL);
        if (!ma_str_has_prefix(key, "auth.") || ma_settings_get(s, key) != v) continue; /* the last value wins */
        const char *name = key + 5, *dot = strchr(name, '.');
        size_t li = reg->n_listeners;
        for (size_t k = 0; k < reg->n_listeners; k++)
            if (strlen(reg->listeners[k]->name) == (size_t)(dot - name) &&
                strncmp(reg->listeners[k]->name, name, (size_t)(dot - name)) == 0)
                li = k;
        ma_auth_cfg *a = &c->auth[li];
        const char *rest = dot + 1;
        if (strcmp(rest, "mode") == 0) {
            a->mode = !strcmp(v, "basic")        ? MA_AUTH_BASIC
                      : !strcmp(v, "clientcert") ? MA_AUTH_CLIENTCERT
                                                 : MA_AUTH_NONE;
        } else if (ma_str_has_prefix(rest, "user.")) {
            ma_hashed_user *nu = realloc(a->users, (a->n_users + 1) * sizeof *nu);
            if (!nu) return -1;
            a->users = nu;
            memset(&nu[a->n_users], 0, sizeof *nu);
            ma_server_parse_hash(v, &nu[a->n_users]);
            if (!(nu[a->n_users].name = ma_strdup(rest + 5))) return -1;
            a->n_users++;
        } else if (strcmp(rest, "debug_users") == 0) {
            a->debug_users = v;
        } else {
            const char **ns = realloc(a->subjects, (a->n_subjects + 1) * sizeof *ns);
            if (!ns) return -1;
            a->subjects = ns;
            ns[a->n_subjects++] = v;
        }
    }
    return 0;
}

int ma_server_cfg_load(const ma_registry *reg, const ma_settings *s, ma_server_cfg *c, ma_report_fn report, void *ctx)
{
    int strict = c->strict;
    memset(c, 0, sizeof *c);
    c->strict = strict;
    int problems = ma_settings_check(reg, s, report, ctx);
    if (problems) return problems;
    ma_error err;
    if (ma_config_read(ma_server_config_map, "", s, c, &err) < 0) {
        report_at(report, ctx, &problems, "configuration", "%s", err.msg);
        return problems;
    }
    if (!c->deploy) c->deploy = access("processes", F_OK) == 0 ? "processes" : ".";
    if (!c->threads) { /* the cores this process may run on (taskset, cgroups cpusets) */
        cpu_set_t cs;
        long nc = sched_getaffinity(0, sizeof cs, &cs) == 0 ? CPU_COUNT(&cs) : sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = nc > 0 ? (unsigned)nc : 1;
    }
    if (!!c->tls_cert != !!c->tls_key)
        report_at(report, ctx, &problems, where(s, c->tls_cert ? "server.tls.cert" : "server.tls.key"),
                  "server.tls.cert and server.tls.key go together");
    if (c->tls_ca && !c->tls_cert)
        report_at(report, ctx, &problems, where(s, "server.tls.clientca"),
                  "server.tls.clientca needs server.tls.cert and server.tls.key (client certificates need TLS)");
    if (c->tls_cert && c->tls_key && !problems) check_tls(c, s, report, ctx, &problems);
    if (load_auth(reg, s, c) < 0) {
        report_at(report, ctx, &problems, "configuration", "out of memory");
        return problems;
    }
    for (size_t i = 0; i < c->n_auth; i++) {
        const char *ln = i < reg->n_listeners ? reg->listeners[i]->name : "health";
        char k[200];
        snprintf(k, sizeof k, "auth.%s.mode", ln);
        if (c->auth[i].mode == MA_AUTH_BASIC && !c->auth[i].n_users)
            report_at(report, ctx, &problems, where(s, k), "%s = basic, but no auth.%s.user.<name> is configured", k,
                      ln);
        if (c->auth[i].mode == MA_AUTH_CLIENTCERT && !c->tls_ca)
            report_at(report, ctx, &problems, where(s, k),
                      "%s = clientcert needs server.tls.clientca (and server.tls.cert, server.tls.key)", k);
    }
    return problems;
}
