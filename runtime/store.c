/* store.c - persisted process properties on disk (boomi-atom-semantics.md 1.3): one JSON object
 * per process component, DATA/persisted/<componentId>.json, written at once (atomically) each time
 * a Set Properties shape persists a value, read when an execution of the process starts. */
#include "store.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util.h"

#define MAX_STORE_FILE (8u << 20)

static char *store_path(const char *dir, const char *process_id)
{
    /* component ids are GUIDs; refuse anything that could leave the folder */
    for (const char *p = process_id; *p; p++)
        if (*p == '/' || (p[0] == '.' && p[1] == '.')) return NULL;
    return ma_asprintf("%s/persisted/%s.json", dir, process_id);
}

void ma_kv_free(ma_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].name);
        free(kv[i].value);
    }
    free(kv);
}

static json_t *load_obj(const char *path, ma_error *err)
{
    if (access(path, F_OK) != 0) return json_object();
    size_t len;
    char *buf = ma_read_file(path, MAX_STORE_FILE, &len, err);
    if (!buf) return NULL;
    json_error_t je;
    json_t *o = json_loadb(buf, len, 0, &je);
    free(buf);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        ma_error_set(err, MA_ERR_PARSE, "%s:%d: persisted process properties are not a JSON object: %s", path, je.line,
                     je.text);
        return NULL;
    }
    return o;
}

int ma_store_load(const char *data_dir, const char *process_id, ma_kv **out, size_t *n, ma_error *err)
{
    *out = NULL;
    *n = 0;
    char *path = store_path(data_dir, process_id);
    if (!path) return ma_error_set(err, MA_ERR_CONFIG, "invalid process id '%s'", process_id);
    json_t *o = load_obj(path, err);
    free(path);
    if (!o) return -1;
    size_t cnt = json_object_size(o);
    ma_kv *kv = calloc(cnt ? cnt : 1, sizeof *kv);
    if (!kv) { json_decref(o); return ma_error_set(err, MA_ERR_NOMEM, "out of memory"); }
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach(o, k, v) {
        if (!json_is_string(v)) continue;
        kv[i].name = ma_strdup(k);
        kv[i].value = ma_strdup(json_string_value(v));
        if (!kv[i].name || !kv[i].value) {
            ma_kv_free(kv, i + 1);
            json_decref(o);
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        i++;
    }
    json_decref(o);
    *out = kv;
    *n = i;
    return 0;
}

int ma_store_put(const char *data_dir, const char *process_id, const char *name, const char *value, ma_error *err)
{
    char *dir = ma_asprintf("%s/persisted", data_dir);
    char *path = store_path(data_dir, process_id);
    char *lockp = path ? ma_asprintf("%s.lock", path) : NULL;
    int rc = -1, fd = -1;
    json_t *o = NULL;
    char *text = NULL;
    if (!dir || !path || !lockp) {
        ma_error_set(err, path || !dir ? MA_ERR_NOMEM : MA_ERR_CONFIG, "cannot persist property '%s'", name);
        goto out;
    }
    if (ma_mkdirs(dir, err) < 0) goto out;
    fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        ma_error_set(err, MA_ERR_IO, "%s: cannot lock", lockp);
        goto out;
    }
    if (!(o = load_obj(path, err))) goto out;
    json_object_set_new(o, name, json_string(value));
    text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = ma_write_file(path, text, strlen(text), err);
out:
    if (fd >= 0) close(fd);
    free(text);
    json_decref(o);
    free(dir);
    free(path);
    free(lockp);
    return rc;
}
