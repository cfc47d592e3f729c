/* exec_temp.c - the execution's temp folder (exec_temp.h): DATA/tmp/exec-XXXXXX, 0700, an
 * execution slot whose end removes the folder and what is in it (Boomi's atom keeps an
 * execution's working files under the atom's own folders and drops them with the execution). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec_temp.h"
#include "util.h"

typedef struct exec_temp {
    char *dir; /* NULL until made */
} exec_temp;

static void *temp_create(void) { return calloc(1, sizeof(exec_temp)); }

static void temp_destroy(void *obj)
{
    exec_temp *t = obj;
    if (!t) return;
    if (t->dir) ma_remove_tree(t->dir);
    free(t->dir);
    free(t);
}

const char *ma_exec_temp_dir(ma_exec *ex, ma_error *err)
{
    exec_temp *t = ma_exec_slot(ex, "ma.exec.temp", temp_create, temp_destroy);
    if (!t) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ma_exec_lock(ex);
    if (!t->dir) {
        const char *data = ma_exec_opts(ex)->data_dir;
        char base[PATH_MAX], *abs = NULL;
        if (!data || !*data) data = "data";
        if (mkdir(data, 0700) < 0 && errno != EEXIST) goto fail;
        abs = realpath(data, NULL);
        if (!abs || snprintf(base, sizeof base, "%s/tmp", abs) >= (int)sizeof base) goto fail;
        if (mkdir(base, 0700) < 0 && errno != EEXIST) goto fail;
        char *dir = ma_asprintf("%s/exec-XXXXXX", base);
        if (!dir) goto fail;
        if (!mkdtemp(dir)) { /* mkdtemp makes it 0700 */
            free(dir);
            goto fail;
        }
        t->dir = dir;
        free(abs);
        ma_exec_unlock(ex);
        return t->dir;
    fail:
        ma_error_set(err, MA_ERR_IO, "cannot make the execution's temp folder under %s/tmp: %s", data, strerror(errno));
        free(abs);
        ma_exec_unlock(ex);
        return NULL;
    }
    ma_exec_unlock(ex);
    return t->dir;
}
