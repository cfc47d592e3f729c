/* store.c - persisted process properties on disk (boomi-atom-semantics.md 1.3): one JSON object
 * per process component, DATA/persisted/<componentId>.json, written at once (atomically) each time
 * a Set Properties shape persists a value, read when an execution of the process starts. Read with
 * jansson, not miniatom/json.h: the object is edited and written back, and read once per execution.
 * The Sequential Value counters live the same way in DATA/counters.json. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util.h"

#define MAX_STORE_FILE (8u << 20)

/* Most processes never persist a property: their file is missing, and looking for it at every
 * execution costs a path lookup in the kernel. A missing file is remembered for ABSENT_RECHECK_NS
 * (this process's own writes forget it at once; a file another program puts there is seen within
 * that time). At most ABSENT_MAX paths are remembered; past that the list starts again. */
#define ABSENT_RECHECK_NS 1000000000ull
#define ABSENT_MAX 256
static struct {
    pthread_mutex_t mu;
    size_t n;
    struct {
        char *path; /* owned */
        uint64_t checked_ns;
    } e[ABSENT_MAX];
} g_absent = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* 1 when path was found missing less than ABSENT_RECHECK_NS ago. */
static int known_absent(const char *path)
{
    uint64_t now = ma_now_ns();
    int hit = 0;
    pthread_mutex_lock(&g_absent.mu);
    for (size_t i = 0; i < g_absent.n; i++)
        if (strcmp(g_absent.e[i].path, path) == 0) {
            hit = now - g_absent.e[i].checked_ns < ABSENT_RECHECK_NS;
            break;
        }
    pthread_mutex_unlock(&g_absent.mu);
    return hit;
}

/* Records whether path is missing now (absent=1) or forgets it (absent=0). */
static void note_absent(const char *path, int absent)
{
    pthread_mutex_lock(&g_absent.mu);
    size_t i = 0;
    while (i < g_absent.n && strcmp(g_absent.e[i].path, path) != 0) i++;
    if (!absent) {
        if (i < g_absent.n) {
            free(g_absent.e[i].path);
            g_absent.e[i] = g_absent.e[--g_absent.n];
        }
    } else {
        if (i == g_absent.n) {
            if (g_absent.n == ABSENT_MAX) {
                for (size_t k = 0; k < g_absent.n; k++) free(g_absent.e[k].path);
                g_absent.n = i = 0;
            }
            if ((g_absent.e[i].path = ma_strdup(path))) g_absent.n++;
        }
        if (i < g_absent.n) g_absent.e[i].checked_ns = ma_now_ns();
    }
    pthread_mutex_unlock(&g_absent.mu);
}

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
    if (known_absent(path)) return json_object();
    if (access(path, F_OK) != 0) {
        note_absent(path, 1);
        return json_object();
    }
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
    if (known_absent(path)) { /* the usual case: nothing persisted, nothing to read or allocate */
        free(path);
        return 0;
    }
    json_t *o = load_obj(path, err);
    free(path);
    if (!o) return -1;
    size_t cnt = json_object_size(o);
    ma_kv *kv = calloc(cnt ? cnt : 1, sizeof *kv);
    if (!kv) {
        json_decref(o);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach (o, k, v) {
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

/* Read-modify-write of name in the JSON object at path (folder dir) under an exclusive lock on
 * path.lock: sets value, or (value NULL) adds one to the whole number stored there (0 when absent)
 * and returns the result in *next. */
static int update(const char *dir, const char *path, const char *name, const char *value, unsigned long long *next,
                  ma_error *err)
{
    char *lockp = ma_asprintf("%s.lock", path);
    int rc = -1, fd = -1;
    json_t *o = NULL;
    char *text = NULL;
    if (!lockp) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (ma_mkdirs(dir, err) < 0) goto out;
    fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        ma_error_set(err, MA_ERR_IO, "%s: cannot lock", lockp);
        goto out;
    }
    if (!(o = load_obj(path, err))) goto out;
    char num[32];
    if (!value) {
        const char *cur = json_string_value(json_object_get(o, name));
        char *end = NULL;
        errno = 0;
        unsigned long long n = cur && *cur ? strtoull(cur, &end, 10) : 0;
        if (cur && *cur && (errno || *end || *cur == '-' || n == ULLONG_MAX)) {
            ma_error_set(err, MA_ERR_PARSE, "%s: counter '%s' holds '%s', not a whole number", path, name, cur);
            goto out;
        }
        *next = n + 1;
        snprintf(num, sizeof num, "%llu", *next);
        value = num;
    }
    json_object_set_new(o, name, json_string(value));
    text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = ma_write_file(path, text, strlen(text), err);
    note_absent(path, 0);
out:
    if (fd >= 0) close(fd);
    free(text);
    json_decref(o);
    free(lockp);
    return rc;
}

int ma_store_put(const char *data_dir, const char *process_id, const char *name, const char *value, ma_error *err)
{
    char *dir = ma_asprintf("%s/persisted", data_dir);
    char *path = store_path(data_dir, process_id);
    int rc = !dir || !path
                 ? ma_error_set(err, path || !dir ? MA_ERR_NOMEM : MA_ERR_CONFIG, "cannot persist property '%s'", name)
                 : update(dir, path, name, value, NULL, err);
    free(dir);
    free(path);
    return rc;
}

int ma_store_counter_next(const char *data_dir, const char *name, unsigned long long *next, ma_error *err)
{
    char *path = ma_asprintf("%s/counters.json", data_dir);
    int rc = path ? update(data_dir, path, name, NULL, next, err) : ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    free(path);
    return rc;
}
