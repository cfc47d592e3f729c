/* echo.c - the example connector plugin of docs/connectors.md, built by
 * tests/connectors/example/run.sh against the public headers only: connector type "echo" returns
 * each document with the connection's "prefix" in front (upper-cased when its "upper" field says
 * so), records its length in a tracked property, and fails documents that say "fail" (a document
 * error, catchable by Try/Catch). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miniatom/miniatom.h"

typedef struct echo_data {
    char *prefix; /* from the connection (or the settings/environment that override it) */
    int upper;    /* read through the config map */
} echo_data;

/* The connection's fields: `miniatom plugins` lists them; ma_connector_config reads the typed ones
 * (here "upper") into echo_data and checks the others. */
static const ma_config_entry echo_config_map[] = {
    {.key = "prefix", .kind = MA_CONFIG_STRING, .flags = MA_CONFIG_EMPTY, .description = "put in front of each document"},
    {.key = "token", .kind = MA_CONFIG_STRING, .flags = MA_CONFIG_SECRET, .description = "a token (only its presence is used)"},
    {.key = "upper", .kind = MA_CONFIG_BOOL, .def = "false", .at = MA_CONFIG_AT(echo_data, upper),
     .description = "upper-case the document's data"},
    MA_CONFIG_END,
};

static int echo_compile(ma_connector_step *step, ma_error *err)
{
    echo_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_error e;
    ma_error_clear(&e);
    /* typed fields: the value set, else the default; -1 naming the field, value and origin */
    if (ma_connector_config(step, echo_config_map, d, &e) == 0)
        d->prefix = ma_connector_setting(step, "prefix", &e); /* malloc'ed, or NULL when set nowhere */
    if (e.code) {
        free(d->prefix);
        free(d);
        *err = e;
        return -1;
    }
    step->data = d;
    return 0;
}

static int echo_execute(ma_exec *ex, ma_connector_step *step, ma_batch *in, ma_outputs *out, ma_error *err)
{
    const echo_data *d = step->data; /* read-only here: execute may run on several threads */
    const char *prefix = d->prefix ? d->prefix : "";
    /* a secret is fetched when needed, never logged, and wiped when released */
    ma_error e;
    ma_error_clear(&e);
    char *token = ma_connector_secret(step, "token", &e);
    int authed = token != NULL;
    ma_secret_free(token);
    for (size_t i = 0; i < in->len; i++) {
        size_t len;
        const char *data = ma_doc_data(in->docs[i], &len);
        if (len == 4 && memcmp(data, "fail", 4) == 0) {
            if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "echo: asked to fail") < 0) goto oom;
            continue;
        }
        size_t pl = strlen(prefix);
        char *buf = malloc(pl + len + 1);
        if (!buf) goto oom;
        memcpy(buf, prefix, pl);
        for (size_t k = 0; k < len; k++) buf[pl + k] = d->upper ? (char)toupper((unsigned char)data[k]) : data[k];
        buf[pl + len] = '\0';
        ma_doc *o = ma_doc_derive_owned(in->docs[i], buf, pl + len); /* keeps the properties */
        char n[32];
        snprintf(n, sizeof n, "%zu", pl + len);
        if (!o || ma_doc_set_prop(&o, "connector.track.echo.length", n) < 0 ||
            ma_doc_set_prop(&o, "connector.track.echo.authenticated", authed ? "true" : "false") < 0) {
            ma_doc_unref(o);
            goto oom;
        }
        if (ma_outputs_emit(out, 0, o) < 0) goto oom;
    }
    ma_exec_log(ex, step->shape, MA_LOG_INFO, "echo: %zu document(s)", in->len);
    return 0;
oom:
    return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
}

static void echo_destroy(ma_connector_step *step)
{
    echo_data *d = step->data;
    if (d) free(d->prefix);
    free(d);
    step->data = NULL;
}

static const char *const echo_actions[] = {"Send", NULL};

static const ma_connector_type echo_type = {
    .name = "echo", /* the connectorType of the steps it runs */
    .abi_version = MA_ABI_VERSION,
    .compile = echo_compile,
    .execute = echo_execute,
    .destroy = echo_destroy,
    .actions = echo_actions,
    .objects = NULL,
    .config_map = echo_config_map,
};

int ma_plugin_register(ma_registry *reg, ma_error *err) { return ma_registry_add_connector(reg, &echo_type, err); }
