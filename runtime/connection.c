/* connection.c - the fields of a connection (miniatom/connector.h), Boomi's environment extensions:
 * the deployment's settings (connection.<id or name>.<field>, or .file), then the environment
 * (MINIATOM_CONNECTION_<ID or NAME>_<FIELD>[_FILE]), then the connection component itself; typed
 * fields are read through the connector type's config map. Secrets are wiped when released and
 * never repeated in errors. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component.h"
#include "miniatom/connector.h"
#include "util.h"

#define MAX_SECRET_FILE (64u << 10)

const ma_settings *ma_deploy_settings(const ma_deploy *dep) { return dep ? dep->opts.settings : NULL; }

const char *ma_deploy_setting(const ma_deploy *dep, const char *key)
{
    return ma_settings_get(ma_deploy_settings(dep), key);
}

/* MINIATOM_CONNECTION_<WHO>_<FIELD>[_FILE] */
static char *env_name(const char *who, const char *field, int file)
{
    char *s = ma_asprintf("MINIATOM_CONNECTION_%s_%s%s", who, field, file ? "_FILE" : "");
    for (char *p = s ? s + 20 : NULL; p && *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
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

/* <field id="FIELD" value="..."/> anywhere below n: its element (borrowed) or NULL. */
static const xmlNode *xml_field(const xmlNode *n, const char *field)
{
    if (!n) return NULL;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (strcmp((const char *)c->name, "field") == 0 && ma_xml_attr_is(c, "id", field)) return c;
        const xmlNode *f = xml_field(c, field);
        if (f) return f;
    }
    return NULL;
}

/* The lookup of miniatom/connector.h, with where the value came from written to origin (for
 * errors): "FILE:LINE" or "--set" of a setting, the environment variable's name, or the component
 * file and line. */
static char *lookup(const ma_connector_step *step, const char *field, char *origin, size_t on, ma_error *err)
{
    ma_deploy *dep = step->shape ? ma_shape_deploy(step->shape) : NULL;
    const ma_settings *s = ma_deploy_settings(dep);
    const char *who[2] = {step->connection_id, step->connection_name};
    for (int file = 0; file < 2; file++)
        for (int w = 0; w < 2; w++) {
            if (!who[w] || !*who[w]) continue;
            char *key = ma_asprintf("connection.%s.%s%s", who[w], field, file ? ".file" : "");
            const char *v = key ? ma_settings_get(s, key) : NULL;
            if (v) snprintf(origin, on, "%s: %s", ma_settings_origin(s, key), key);
            free(key);
            if (v) return file ? read_value_file(v, err) : ma_strdup(v);
        }
    for (int file = 0; file < 2; file++)
        for (int w = 0; w < 2; w++) {
            if (!who[w] || !*who[w]) continue;
            char *name = env_name(who[w], field, file);
            const char *v = name ? getenv(name) : NULL;
            if (v) snprintf(origin, on, "the environment: %s", name);
            free(name);
            if (v) return file ? read_value_file(v, err) : ma_strdup(v);
        }
    const xmlNode *conn = (const xmlNode *)step->connection;
    const xmlNode *f = xml_field(conn, field);
    char *v = f ? ma_xml_attr(f, "value") : NULL;
    if (!v && conn) v = ma_xml_attr(conn, field), f = conn;
    if (v && f) {
        const ma_component *c = dep && step->connection_id ? ma_deploy_find(dep, step->connection_id) : NULL;
        snprintf(origin, on, "%s:%d", c ? c->file : "the connection component", (int)xmlGetLineNo((xmlNode *)f));
    }
    return v;
}

char *ma_connector_setting(const ma_connector_step *step, const char *field, ma_error *err)
{
    char origin[600];
    return lookup(step, field, origin, sizeof origin, err);
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
    ma_wipe(secret, strlen(secret));
    free(secret);
}

int ma_connector_config(const ma_connector_step *step, const ma_config_entry *map, void *out, ma_error *err)
{
    const char *conn = step->connection_name && *step->connection_name ? step->connection_name
                       : step->connection_id                           ? step->connection_id
                                                                       : "(none)";
    char origin[600], why[600];
    for (const ma_config_entry *e = map; e && e->key; e++) {
        ma_error e2;
        ma_error_clear(&e2);
        origin[0] = '\0';
        char *v = lookup(step, e->key, origin, sizeof origin, &e2);
        if (!v && e2.code) return ma_error_set(err, e2.code, "connection '%s' field %s: %s", conn, e->key, e2.msg);
        /* a blank field of an export is no value: the default holds */
        if (v && !*v && !(e->flags & MA_CONFIG_EMPTY)) {
            free(v);
            v = NULL;
        }
        const char *val = v ? v : e->def;
        if (!val) continue;
        uint64_t num = 0;
        int rc = ma_config_parse(e, val, &num, why, sizeof why);
        if (rc < 0) {
            if (v && (e->flags & MA_CONFIG_SECRET)) ma_secret_free(v);
            else free(v);
            return ma_error_set(err, MA_ERR_CONFIG, "connection '%s' field %s: %s (from %s)", conn, e->key, why,
                                origin[0] ? origin : "the default");
        }
        int stored_kind = e->kind != MA_CONFIG_STRING && e->kind != MA_CONFIG_FILE && e->kind != MA_CONFIG_DIR;
        if (e->at && stored_kind) {
            char *at = (char *)out + (e->at - 1);
            if (e->kind == MA_CONFIG_BOOL || e->kind == MA_CONFIG_ENUM) *(int *)(void *)at = (int)num;
            else *(uint64_t *)(void *)at = num;
        }
        if (e->flags & MA_CONFIG_SECRET) ma_secret_free(v);
        else free(v);
    }
    return 0;
}

int ma_connection_check_settings(const ma_connector_step *step, const ma_connector_type *type, ma_error *err)
{
    if (!type->config_map) return 0;
    const ma_settings *s = ma_deploy_settings(step->shape ? ma_shape_deploy(step->shape) : NULL);
    const char *who[2] = {step->connection_id, step->connection_name};
    for (size_t i = 0; i < ma_settings_count(s); i++) {
        const char *key, *origin;
        ma_settings_at(s, i, &key, NULL, &origin);
        if (!ma_str_has_prefix(key, "connection.")) continue;
        for (int w = 0; w < 2; w++) {
            size_t wl = who[w] ? strlen(who[w]) : 0;
            if (!wl || strncmp(key + 11, who[w], wl) != 0 || key[11 + wl] != '.') continue;
            char field[256];
            snprintf(field, sizeof field, "%s", key + 11 + wl + 1);
            size_t fl = strlen(field);
            if (fl > 5 && strcmp(field + fl - 5, ".file") == 0) field[fl - 5] = '\0';
            if (ma_config_find(type->config_map, field)) break;
            ma_sb b;
            ma_sb_init(&b);
            for (const ma_config_entry *e = type->config_map; e->key; e++)
                ma_sb_printf(&b, "%s%s", e == type->config_map ? "" : ", ", e->key);
            ma_error_set(err, MA_ERR_CONFIG,
                         "%s: %s: connector type '%s' has no connection field '%s' (its fields: %s)", origin, key,
                         type->name, field, b.s ? b.s : "");
            ma_sb_free(&b);
            return -1;
        }
    }
    return 0;
}
