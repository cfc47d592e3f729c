/* settings.c - deployment settings and connection settings (settings.h, miniatom/connector.h):
 * a key=value file and --set overrides, the environment, then the connection component's own
 * values; secrets are wiped when released and never logged. */
#include "settings.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "component.h"
#include "miniatom/connector.h"
#include "util.h"

#define MAX_SETTINGS_FILE (1u << 20)
#define MAX_SECRET_FILE (64u << 10)

void ma_settings_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
}

int ma_settings_add(char ***list, size_t *n, const char *kv, ma_error *err)
{
    char **nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    *list = nl;
    if (!(nl[*n] = ma_strdup(kv))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    (*n)++;
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

int ma_settings_load(const char *path, char ***list, size_t *n, ma_error *err)
{
    size_t len;
    char *buf = ma_read_file(path, MAX_SETTINGS_FILE, &len, err);
    if (!buf) return -1;
    int rc = 0, line = 0;
    char *save = NULL;
    for (char *l = strtok_r(buf, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save)) {
        line++;
        char *t = trim(l);
        if (!*t || *t == '#' || *t == '!') continue;
        char *eq = strchr(t, '=');
        if (!eq || eq == t) {
            rc = ma_error_set(err, MA_ERR_CONFIG, "%s:%d: expected 'key = value'", path, line);
            break;
        }
        *eq = '\0';
        char *k = trim(t), *v = trim(eq + 1);
        char *kv = ma_asprintf("%s=%s", k, v);
        if (!kv) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        else rc = ma_settings_add(list, n, kv, err);
        free(kv);
    }
    free(buf);
    return rc;
}

const char *ma_settings_get(const char *const *list, size_t n, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = n; i-- > 0;)
        if (strncmp(list[i], key, kl) == 0 && list[i][kl] == '=') return list[i] + kl + 1;
    return NULL;
}

const char *ma_deploy_setting(const ma_deploy *dep, const char *key)
{
    return dep ? ma_settings_get(dep->opts.settings, dep->opts.n_settings, key) : NULL;
}

/* MINIATOM_CONNECTION_<WHO>_<FIELD>[_FILE] */
static char *env_name(const char *who, const char *field, int file)
{
    char *s = ma_asprintf("MINIATOM_CONNECTION_%s_%s%s", who, field, file ? "_FILE" : "");
    for (char *p = s ? s + 20 : NULL; p && *p; p++) *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    return s;
}

static char *read_value_file(const char *path, ma_error *err)
{
    size_t len;
    char *v = ma_read_file(path, MAX_SECRET_FILE, &len, err);
    if (!v) return NULL;
    if (len && v[len - 1] == '\n') v[--len] = '\0';
    if (len && v[len - 1] == '\r') v[--len] = '\0';
    return v;
}

static char *xml_value(const xmlNode *n, const char *field)
{
    if (!n) return NULL;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (strcmp((const char *)c->name, "field") == 0 && ma_xml_attr_is(c, "id", field)) return ma_xml_attr(c, "value");
        char *v = xml_value(c, field);
        if (v) return v;
    }
    return NULL;
}

char *ma_connector_setting(const ma_connector_step *step, const char *field, ma_error *err)
{
    ma_deploy *dep = step->shape ? ma_shape_deploy(step->shape) : NULL;
    const char *who[2] = {step->connection_id, step->connection_name};
    for (int file = 0; file < 2; file++)
        for (int w = 0; w < 2; w++) {
            if (!who[w] || !*who[w]) continue;
            char *key = ma_asprintf("connection.%s.%s%s", who[w], field, file ? ".file" : "");
            const char *v = key ? ma_deploy_setting(dep, key) : NULL;
            free(key);
            if (v) return file ? read_value_file(v, err) : ma_strdup(v);
        }
    for (int file = 0; file < 2; file++)
        for (int w = 0; w < 2; w++) {
            if (!who[w] || !*who[w]) continue;
            char *name = env_name(who[w], field, file);
            const char *v = name ? getenv(name) : NULL;
            free(name);
            if (v) return file ? read_value_file(v, err) : ma_strdup(v);
        }
    const xmlNode *conn = (const xmlNode *)step->connection;
    char *v = xml_value(conn, field);
    if (!v && conn) v = ma_xml_attr(conn, field);
    return v;
}

char *ma_connector_secret(const ma_connector_step *step, const char *field, ma_error *err)
{
    char *v = ma_connector_setting(step, field, err);
    if (v && !*v) { /* an exported blank password is no secret at all */
        free(v);
        v = NULL;
    }
    return v;
}

void ma_secret_free(char *secret)
{
    if (!secret) return;
    volatile char *p = secret;
    while (*p) *p++ = '\0';
    free(secret);
}
