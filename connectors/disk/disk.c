/* disk.c - the Disk connector (connector type "disk"): Boomi's Disk (Legacy) connection
 * (<DiskSettings directory>) with its Get (<DiskGetAction>: file filter as wildcard, Java regex
 * (miniatom/jregex.h) or exact name, max files, delete after read) and Send (<DiskSendAction>:
 * writeOption unique/over/append/abort, as Boomi's exports spell them) operations. Every path
 * stays inside the configured folder: names are relative, without "..", and opened with
 * openat(O_NOFOLLOW) below a directory descriptor; see docs/connectors.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "miniatom/miniatom.h"

#define PROP_TRACK_NAME "connector.track.disk.filename"
#define PROP_NAME "connector.disk.filename"
#define PROP_DYN_NAME "connector.dynamic.disk.filename"
#define PROP_DIR "connector.disk.directory"
#define MAX_FILES_LISTED 100000
#define MAX_UNIQUE_TRIES 10000

typedef enum { MATCH_WILDCARD, MATCH_REGEX, MATCH_EXACT } match_kind;
typedef enum { W_UNIQUE, W_OVERWRITE, W_APPEND, W_FAIL } write_kind;

typedef struct disk_data {
    int send;
    /* Get */
    match_kind match;
    char *filter;       /* "" = every file */
    ma_jregex *re;      /* a regex filter (Java syntax, the whole name) */
    uint64_t max_files; /* 0 = all */
    int delete_after, fail_delete;
    /* Send */
    write_kind write;
    int create_dir;
    /* both */
    char *subdir; /* getDirectory / sendDirectory: relative to the folder, or NULL */
    char *folder; /* the connection's directory (after settings), or NULL */
    char *conn_label;
} disk_data;

static const char *const disk_actions[] = {"Get", "Send", NULL};

static void disk_free(disk_data *d)
{
    if (!d) return;
    ma_jregex_free(d->re);
    free(d->filter);
    free(d->subdir);
    free(d->folder);
    free(d->conn_label);
    free(d);
}

/* ---- names ---- */

/* A relative path below the folder: not empty, not absolute, no "." or ".." component, no empty
 * component, no control character. NULL when valid, else why not. */
static const char *bad_relpath(const char *p)
{
    if (!p || !*p) return "is empty";
    if (*p == '/') return "is absolute";
    if (strlen(p) > PATH_MAX / 2) return "is too long";
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) return "holds a control character";
    const char *s = p;
    while (*s) {
        size_t n = strcspn(s, "/");
        if (n == 0) return "has an empty path component";
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return "has a '.' or '..' component";
        if (n > NAME_MAX) return "has a component longer than NAME_MAX";
        s += n;
        if (*s == '/') {
            s++;
            if (!*s) return "ends with '/'";
        }
    }
    return NULL;
}

/* Wildcards as Boomi has them: '*' any run of characters, '?' one character, all else literal. */
static int wild_match(const char *pat, const char *s)
{
    const char *star = NULL, *ss = NULL;
    while (*s) {
        if (*pat == '?' || (*pat && *pat != '*' && *pat == *s)) {
            pat++;
            s++;
        } else if (*pat == '*') {
            star = pat++;
            ss = s;
        } else if (star) {
            pat = star + 1;
            s = ++ss;
        } else {
            return 0;
        }
    }
    while (*pat == '*') pat++;
    return *pat == '\0';
}

/* 1 when name passes the filter, 0 when not, -1 with err (the regex match limits reached). */
static int name_matches(const disk_data *d, const char *name, ma_error *err)
{
    if (!*d->filter) return 1;
    switch (d->match) {
    case MATCH_EXACT: return strcmp(d->filter, name) == 0;
    case MATCH_REGEX: return ma_jregex_match(d->re, name, strlen(name), err);
    default: return wild_match(d->filter, name);
    }
}

/* ---- compile ---- */

/* The connection's field (connection.<id or name>.directory, else DiskSettings directory). */
static const ma_config_entry disk_config_map[] = {
    {.key = "directory",
     .kind = MA_CONFIG_STRING,
     .description = "the folder files are read from and written to (Send creates it when missing)"},
    MA_CONFIG_END,
};

/* The Get operation's maxFileCount attribute, read by the same grammar. */
static const ma_config_entry max_file_count = {
    .key = "maxFileCount", .kind = MA_CONFIG_UINT, .description = "the most files one Get reads (0: all)"};

/* Boomi's values (Platform API DiskGetOptions/DiskSendOptions; Disk (Legacy) operation page), then
 * the spellings mini-Atom documented before; see docs/decisions/027-option-values.md. */
static const ma_enum match_types[] = {
    {"wildcard", MATCH_WILDCARD, 0},
    {"regex", MATCH_REGEX, 0},
    {"exact", MATCH_EXACT, 0},
    {"regularexpression", MATCH_REGEX, MA_ENUM_OLD},
    {"exactmatch", MATCH_EXACT, MA_ENUM_OLD},
    {NULL, 0, 0},
};
static const ma_enum write_options[] = {
    {"unique", W_UNIQUE, 0},        {"over", W_OVERWRITE, 0},          {"append", W_APPEND, 0},
    {"abort", W_FAIL, 0},           {"create", W_UNIQUE, MA_ENUM_OLD}, {"overwrite", W_OVERWRITE, MA_ENUM_OLD},
    {"error", W_FAIL, MA_ENUM_OLD}, {"fail", W_FAIL, MA_ENUM_OLD},     {NULL, 0, 0},
};

static int bool_attr(const ma_xml_node *n, const char *name) { return n && ma_xml_attr_is(n, name, "true"); }

static int compile_action(ma_connector_step *step, disk_data *d, ma_error *err)
{
    const ma_xml_node *op = step->operation;
    const ma_xml_node *cfg = op ? ma_xml_child(op, "Configuration") : NULL;
    const ma_xml_node *act = cfg ? ma_xml_child(cfg, "DiskGetAction") : NULL;
    if (!act && cfg && (act = ma_xml_child(cfg, "DiskSendAction"))) d->send = 1;
    if (!act && op && ma_xml_is(op, "DiskGetAction")) act = op;
    if (!act && op && ma_xml_is(op, "DiskSendAction")) act = op, d->send = 1;
    if (!act) {
        if (!op && step->action && (strcasecmp(step->action, "Get") == 0 || strcasecmp(step->action, "Send") == 0)) {
            d->send = strcasecmp(step->action, "Send") == 0; /* no operation: the defaults */
        } else {
            return ma_error_set(err, MA_ERR_CONFIG,
                                "disk: operation %s has no <Configuration><DiskGetAction> or <DiskSendAction>",
                                step->operation_id ? step->operation_id : "(none)");
        }
    }
    char *sub = act ? ma_xml_attr(act, d->send ? "sendDirectory" : "getDirectory") : NULL;
    if (sub && *sub) {
        const char *why = bad_relpath(sub);
        if (why) {
            int rc = ma_error_set(err, MA_ERR_CONFIG,
                                  "disk: %s \"%s\" %s (it must be a folder below the connection's directory)",
                                  d->send ? "sendDirectory" : "getDirectory", sub, why);
            free(sub);
            return rc;
        }
        d->subdir = sub;
    } else {
        free(sub);
    }
    if (!d->send) {
        int mt;
        if (ma_xml_enum(act, "filterMatchType", match_types, MATCH_WILDCARD, MA_ENUM_NOCASE, &mt, err) < 0) {
            ma_error_prefix(err, "disk");
            return -1;
        }
        d->match = (match_kind)mt;
        d->filter = act ? ma_xml_attr(act, "fileFilter") : NULL;
        if (!d->filter && !(d->filter = ma_strdup(""))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        if (d->match == MATCH_WILDCARD && strcmp(d->filter, "*") == 0) d->filter[0] = '\0';
        if (d->match == MATCH_REGEX && *d->filter && !(d->re = ma_jregex_compile(d->filter, MA_JREGEX_WHOLE, err))) {
            ma_error_prefix(err, "disk: fileFilter"); /* a Java regular expression matching the whole name */
            return -1;
        }
        char *mx = act ? ma_xml_attr(act, "maxFileCount") : NULL;
        char why[300];
        if (mx && *mx && ma_config_parse(&max_file_count, mx, &d->max_files, why, sizeof why) < 0) {
            int rc = ma_error_set(err, MA_ERR_CONFIG, "disk: maxFileCount: %s", why);
            free(mx);
            return rc;
        }
        free(mx);
        d->delete_after = bool_attr(act, "deleteAfterRead");
        d->fail_delete = bool_attr(act, "failDeleteAfterRead") || bool_attr(act, "failIfUnableToDelete");
    } else {
        int wo;
        if (ma_xml_enum(act, "writeOption", write_options, W_UNIQUE, MA_ENUM_NOCASE, &wo, err) < 0) {
            ma_error_prefix(err, "disk");
            return -1;
        }
        d->write = (write_kind)wo;
        d->create_dir = bool_attr(act, "createDirectory");
    }
    return 0;
}

static int disk_compile(ma_connector_step *step, ma_error *err)
{
    disk_data *d = calloc(1, sizeof *d);
    if (!d) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    const ma_xml_node *conn = step->connection;
    if (conn && !ma_xml_is(conn, "DiskSettings")) {
        disk_free(d);
        return ma_error_set(err, MA_ERR_CONFIG, "disk: connection %s is a <%s>, not a <DiskSettings>",
                            step->connection_id ? step->connection_id : "", ma_xml_name(conn));
    }
    d->conn_label = ma_strdup(step->connection_name ? step->connection_name
                              : step->connection_id ? step->connection_id
                                                    : "(none)");
    ma_error e2;
    ma_error_clear(&e2);
    d->folder = ma_connector_setting(step, "directory", &e2); /* its one field: a string */
    if (e2.code) {
        *err = e2;
        disk_free(d);
        return -1;
    }
    if (!d->conn_label || compile_action(step, d, err) < 0) {
        if (!d->conn_label) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        disk_free(d);
        return -1;
    }
    step->data = d;
    return 0;
}

static void disk_destroy(ma_connector_step *step)
{
    disk_free(step->data);
    step->data = NULL;
}

/* ---- confined file access ---- */

/* Opens the directory rel (may be NULL or "") below root (a descriptor), one component at a time
 * with O_NOFOLLOW, creating missing components when create is set. Returns a descriptor or -1
 * with errno (ELOOP for a symbolic link). */
static int open_below(int root, const char *rel, int create)
{
    int fd = dup(root);
    if (fd < 0 || !rel || !*rel) return fd;
    char *copy = strdup(rel), *save = NULL;
    if (!copy) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        int nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, c, 0777) < 0 && errno != EEXIST) {
                int e = errno;
                close(fd);
                free(copy);
                errno = e;
                return -1;
            }
            nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int e = errno;
        close(fd);
        if (nfd < 0) {
            free(copy);
            errno = e == ENOTDIR ? ELOOP : e;
            return -1;
        }
        fd = nfd;
    }
    free(copy);
    return fd;
}

/* The folder: its real path (so symbolic links in the configured path itself are fine) opened as a
 * directory. create: make it when missing. -1 with err. */
static int open_folder(const disk_data *d, int create, ma_error *err)
{
    if (!d->folder || !*d->folder)
        return ma_error_set(err, MA_ERR_CONFIG,
                            "connection %s has no directory: set its directory attribute or connection.<id>.directory",
                            d->conn_label);
    if (create && ma_mkdirs(d->folder, err) < 0) return -1;
    int fd = open(d->folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ma_error_set(err, MA_ERR_IO, "directory %s cannot be opened: %s", d->folder, strerror(errno));
    return fd;
}

/* Relative path of the document's folder: subdir [+ "/" + connector.disk.directory]. */
static char *doc_dir(const disk_data *d, const ma_doc *doc, ma_error *err)
{
    const char *dyn = ma_doc_prop(doc, PROP_DIR);
    if (dyn && *dyn) {
        const char *why = bad_relpath(dyn);
        if (why) {
            ma_error_set(err, MA_ERR_CONFIG, "%s \"%s\" %s: directories must stay inside the connection's folder",
                         PROP_DIR, dyn, why);
            return NULL;
        }
    }
    char *r = ma_asprintf("%s%s%s", d->subdir ? d->subdir : "", d->subdir && dyn && *dyn ? "/" : "", dyn ? dyn : "");
    if (!r) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return r;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Reads a whole regular file at dfd/name without following links. NULL with err. */
static char *read_at(int dfd, const char *name, size_t *len, ma_error *err)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        ma_error_set(err, MA_ERR_IO, "%s cannot be opened: %s", name,
                     errno == ELOOP ? "it is a symbolic link" : strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        ma_error_set(err, MA_ERR_IO, "%s is not a regular file", name);
        return NULL;
    }
    if ((unsigned long long)st.st_size > MA_DOC_MAX_SIZE) {
        close(fd);
        ma_error_set(err, MA_ERR_LIMIT, "%s is larger than %zu bytes", name, (size_t)MA_DOC_MAX_SIZE);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > MA_DOC_MAX_SIZE) {
                free(buf);
                close(fd);
                ma_error_set(err, MA_ERR_LIMIT, "%s grew too large", name);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            ma_error_set(err, MA_ERR_IO, "%s cannot be read: %s", name, strerror(e));
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A symbolic link inside the folder: does it resolve to a regular file inside root_real? */
static int link_stays_inside(int dfd, const char *name, const char *root_real)
{
    char self[64], dir_real[PATH_MAX], *target;
    snprintf(self, sizeof self, "/proc/self/fd/%d", dfd);
    ssize_t n = readlink(self, dir_real, sizeof dir_real - 1);
    if (n <= 0) return 0;
    dir_real[n] = '\0';
    char *full = ma_asprintf("%s/%s", dir_real, name);
    if (!full) return 0;
    target = realpath(full, NULL);
    free(full);
    if (!target) return 0;
    size_t rl = strlen(root_real);
    int inside = strncmp(target, root_real, rl) == 0 && (target[rl] == '/' || (rl == 1 && root_real[0] == '/'));
    struct stat st;
    if (inside && (stat(target, &st) < 0 || !S_ISREG(st.st_mode))) inside = 0;
    free(target);
    return inside;
}

/* Is the file open on fd inside root_real (by the kernel's view of its path)? */
static int fd_inside(int fd, const char *root_real)
{
    char self[64], real[PATH_MAX];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(self, real, sizeof real - 1);
    if (n <= 0) return 0;
    real[n] = '\0';
    size_t rl = strlen(root_real);
    return strncmp(real, root_real, rl) == 0 && real[rl] == '/';
}

static ma_doc *new_file_doc(const ma_doc *in, char *data, size_t len, const char *name)
{
    ma_doc *doc = ma_doc_new_owned(data, len);
    if (!doc) return NULL;
    /* a new document per file (its own id); dynamic document properties carry over */
    for (size_t i = 0; i < ma_doc_prop_count(in); i++) {
        const char *id, *v;
        if (ma_doc_prop_at(in, i, &id, &v) == 0 && ma_str_has_prefix(id, "dynamicdocument.") &&
            ma_doc_set_prop(&doc, id, v) < 0) {
            ma_doc_unref(doc);
            return NULL;
        }
    }
    if (ma_doc_set_prop(&doc, PROP_TRACK_NAME, name) < 0 || ma_doc_set_prop(&doc, PROP_NAME, name) < 0) {
        ma_doc_unref(doc);
        return NULL;
    }
    return doc;
}

/* Get for one input document. 0, or -1 for a process-level error. */
static int get_one(ma_exec *ex, ma_connector_step *step, const disk_data *d, int root, const char *root_real,
                   ma_doc *in, ma_outputs *out, ma_error *err)
{
    ma_error e;
    ma_error_clear(&e);
    char *rel = doc_dir(d, in, &e);
    if (!rel)
        return e.code == MA_ERR_NOMEM ? ma_error_set(err, MA_ERR_NOMEM, "out of memory")
                                      : ma_outputs_fail(out, ma_doc_ref(in), "disk: %s", e.msg);
    int dfd = open_below(root, rel, 0);
    if (dfd < 0) {
        int rc = ma_outputs_fail(out, ma_doc_ref(in), "disk: folder \"%s\" cannot be opened inside %s: %s", rel,
                                 d->folder, errno == ELOOP ? "a component is a symbolic link" : strerror(errno));
        free(rel);
        return rc;
    }
    /* Listed through the descriptor open_below gave, not ma_dir_list(path): a path would be resolved
     * again, through a symbolic link swapped in meanwhile; names starting with '.' are files here too,
     * and the list stops at MAX_FILES_LISTED instead of failing. */
    int lfd = dup(dfd);
    DIR *dir = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!dir) {
        if (lfd >= 0) close(lfd);
        close(dfd);
        int rc = ma_outputs_fail(out, ma_doc_ref(in), "disk: folder \"%s\" cannot be listed: %s", rel, strerror(errno));
        free(rel);
        return rc;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL && n < MAX_FILES_LISTED) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]))) continue;
        int m = name_matches(d, de->d_name, err);
        if (m < 0) {
            ma_error_prefix(err, "disk: fileFilter");
            rc = -1;
            break;
        }
        if (!m) continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                break;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(dir);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    size_t got = 0, skipped = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (d->max_files && got >= d->max_files) break;
        struct stat st;
        if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) continue; /* gone meanwhile */
        const char *readname = names[i];
        if (S_ISLNK(st.st_mode)) {
            if (!link_stays_inside(dfd, names[i], root_real)) {
                ma_exec_log(ex, step->shape, MA_LOG_WARNING,
                            "disk: %s%s%s is a symbolic link that leaves %s (or is not a file); not read", rel,
                            *rel ? "/" : "", names[i], d->folder);
                skipped++;
                continue;
            }
        } else if (!S_ISREG(st.st_mode)) {
            continue;
        }
        size_t len = 0;
        char *data;
        if (S_ISLNK(st.st_mode)) { /* verified to stay inside: read through it */
            int fd = openat(dfd, readname, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            if (fd < 0) continue;
            if (!fd_inside(fd, root_real)) { /* the link changed since it was checked */
                close(fd);
                skipped++;
                continue;
            }
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            data = ma_read_file(path, MA_DOC_MAX_SIZE, &len, &e);
            close(fd);
        } else {
            data = read_at(dfd, readname, &len, &e);
        }
        if (!data) {
            if (e.code == MA_ERR_NOMEM) {
                rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
                break;
            }
            ma_exec_log(ex, step->shape, MA_LOG_WARNING, "disk: %s", e.msg);
            continue;
        }
        ma_doc *doc = new_file_doc(in, data, len, names[i]);
        if (!doc || ma_outputs_emit(out, 0, doc) < 0) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            break;
        }
        got++;
        if (d->delete_after && unlinkat(dfd, names[i], 0) < 0) {
            if (d->fail_delete) {
                rc = ma_error_set(err, MA_ERR_IO, "disk: %s cannot be deleted after reading: %s", names[i],
                                  strerror(errno));
                break;
            }
            ma_exec_log(ex, step->shape, MA_LOG_WARNING, "disk: %s cannot be deleted after reading: %s", names[i],
                        strerror(errno));
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    close(dfd);
    if (rc == 0)
        ma_exec_log(ex, step->shape, MA_LOG_INFO, "disk: read %zu file(s) from %s%s%s%s", got, d->folder,
                    *rel ? "/" : "", rel, skipped ? " (symbolic links leaving the folder skipped)" : "");
    free(rel);
    return rc;
}

/* ---- Send ---- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* "name.ext" -> "name<k>.ext" (the FTP connector's way of making a name unique) */
static char *numbered(const char *name, unsigned k)
{
    const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name, *dot = strrchr(base, '.');
    if (!dot || dot == base) return ma_asprintf("%s%u", name, k);
    return ma_asprintf("%.*s%u%s", (int)(dot - name), name, k, dot);
}

/* Writes data to dfd/name as the write option says. Returns the name written (malloc'ed) or NULL
 * with err. */
static char *write_file(const disk_data *d, int dfd, const char *name, const char *data, size_t len, ma_error *err)
{
    if (d->write == W_OVERWRITE) { /* a temporary file renamed over the target: readers never see half a file */
        char tmp[NAME_MAX + 1];
        char rnd[37];
        ma_uuid4(rnd);
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        snprintf(tmp, sizeof tmp, ".%.*s.%.8s.tmp", (int)(sizeof tmp - 20), base, rnd);
        char *tmppath = base == name ? ma_strdup(tmp) : ma_asprintf("%.*s%s", (int)(base - name), name, tmp);
        if (!tmppath) {
            ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            return NULL;
        }
        int fd = openat(dfd, tmppath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0) {
            ma_error_set(err, MA_ERR_IO, "%s cannot be written: %s", name, strerror(errno));
            free(tmppath);
            return NULL;
        }
        struct stat st;
        int bad_target = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        if (bad_target || write_all(fd, data, len) < 0 || close(fd) < 0 || renameat(dfd, tmppath, dfd, name) < 0) {
            int e = errno;
            if (!bad_target) close(fd); /* harmless if already closed: EBADF */
            unlinkat(dfd, tmppath, 0);
            ma_error_set(err, MA_ERR_IO, "%s cannot be written: %s", name,
                         bad_target ? "it is a directory" : strerror(e));
            free(tmppath);
            return NULL;
        }
        free(tmppath);
        return ma_strdup(name);
    }
    if (d->write == W_APPEND) {
        int fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0) {
            ma_error_set(err, MA_ERR_IO, "%s cannot be appended to: %s", name,
                         errno == ELOOP ? "it is a symbolic link" : strerror(errno));
            return NULL;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || write_all(fd, data, len) < 0) {
            int e = errno;
            close(fd);
            ma_error_set(err, MA_ERR_IO, "%s cannot be appended to: %s", name,
                         S_ISREG(st.st_mode) ? strerror(e) : "not a regular file");
            return NULL;
        }
        if (close(fd) < 0) {
            ma_error_set(err, MA_ERR_IO, "%s cannot be written: %s", name, strerror(errno));
            return NULL;
        }
        return ma_strdup(name);
    }
    /* unique or fail: O_EXCL never follows a symbolic link and never replaces anything */
    char *try = ma_strdup(name);
    for (unsigned k = 1; try; k++) {
        int fd = openat(dfd, try, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            if (write_all(fd, data, len) < 0 || close(fd) < 0) {
                int e = errno;
                unlinkat(dfd, try, 0);
                ma_error_set(err, MA_ERR_IO, "%s cannot be written: %s", try, strerror(e));
                free(try);
                return NULL;
            }
            return try;
        }
        if (errno != EEXIST) {
            ma_error_set(err, MA_ERR_IO, "%s cannot be written: %s", try, strerror(errno));
            free(try);
            return NULL;
        }
        if (d->write == W_FAIL) {
            ma_error_set(err, MA_ERR_IO, "file %s already exists in %s (writeOption abort)", try, d->folder);
            free(try);
            return NULL;
        }
        if (k > MAX_UNIQUE_TRIES) {
            ma_error_set(err, MA_ERR_IO, "no unique name found for %s after %d tries", name, MAX_UNIQUE_TRIES);
            free(try);
            return NULL;
        }
        free(try);
        try = numbered(name, k);
    }
    ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return NULL;
}

static int send_one(const disk_data *d, int root, ma_doc *in, ma_outputs *out, ma_error *err)
{
    ma_error e;
    ma_error_clear(&e);
    const char *name = ma_doc_prop(in, PROP_NAME);
    if (!name || !*name) name = ma_doc_prop(in, PROP_DYN_NAME);
    if (!name || !*name) name = ma_doc_prop(in, PROP_TRACK_NAME);
    char gen[48];
    if (!name || !*name) { /* no name given: a generated one */
        char u[37];
        ma_uuid4(u);
        snprintf(gen, sizeof gen, "%s.dat", u);
        name = gen;
    }
    const char *why = bad_relpath(name);
    if (why)
        return ma_outputs_fail(out, ma_doc_ref(in),
                               "disk: file name \"%s\" %s: files must stay inside the connection's folder", name, why);
    char *rel = doc_dir(d, in, &e);
    if (!rel)
        return e.code == MA_ERR_NOMEM ? ma_error_set(err, MA_ERR_NOMEM, "out of memory")
                                      : ma_outputs_fail(out, ma_doc_ref(in), "disk: %s", e.msg);
    /* the folder of the document, then the folders inside the name */
    char *full = *rel ? ma_asprintf("%s/%s", rel, name) : ma_strdup(name);
    free(rel);
    if (!full) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    char *slash = strrchr(full, '/');
    const char *leaf = slash ? slash + 1 : full;
    if (slash) *slash = '\0';
    int dfd = open_below(root, slash ? full : "", d->create_dir);
    if (dfd < 0) {
        int rc = ma_outputs_fail(out, ma_doc_ref(in), "disk: folder \"%s\" cannot be opened inside %s: %s",
                                 slash ? full : "", d->folder,
                                 errno == ELOOP    ? "a component is a symbolic link"
                                 : errno == ENOENT ? "it does not exist (createDirectory is off)"
                                                   : strerror(errno));
        free(full);
        return rc;
    }
    size_t len;
    const char *data = ma_doc_data(in, &len);
    char *written = write_file(d, dfd, leaf, data, len, &e);
    close(dfd);
    int rc;
    if (!written) {
        rc = e.code == MA_ERR_NOMEM ? ma_error_set(err, MA_ERR_NOMEM, "out of memory")
                                    : ma_outputs_fail(out, ma_doc_ref(in), "disk: %s", e.msg);
    } else {
        /* the name actually written (it may have been made unique), relative to the document's folder */
        const char *nslash = strrchr(name, '/');
        char *shown = nslash ? ma_asprintf("%.*s/%s", (int)(nslash - name), name, written) : ma_strdup(written);
        ma_doc *o = ma_doc_ref(in);
        if (!shown || ma_doc_set_prop(&o, PROP_TRACK_NAME, shown) < 0) {
            ma_doc_unref(o);
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        } else {
            rc = ma_outputs_emit(out, 0, o) < 0 ? ma_error_set(err, MA_ERR_NOMEM, "out of memory") : 0;
        }
        free(shown);
        free(written);
    }
    free(full);
    return rc;
}

static int disk_execute(ma_exec *ex, ma_connector_step *step, ma_batch *in, ma_outputs *out, ma_error *err)
{
    const disk_data *d = step->data;
    if (!in->len) return 0;
    ma_error e;
    ma_error_clear(&e);
    int root = open_folder(d, d->send && d->create_dir, &e);
    if (root < 0) {
        if (e.code == MA_ERR_NOMEM) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < in->len; i++)
            if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "disk: %s", e.msg) < 0)
                return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return 0;
    }
    char *root_real = d->send ? NULL : realpath(d->folder, NULL);
    int rc = 0;
    for (size_t i = 0; i < in->len && rc == 0; i++)
        rc = d->send ? send_one(d, root, in->docs[i], out, err)
                     : get_one(ex, step, d, root, root_real ? root_real : d->folder, in->docs[i], out, err);
    if (d->send && rc == 0)
        ma_exec_log(ex, step->shape, MA_LOG_INFO, "disk: wrote %zu document(s) to %s", in->len, d->folder);
    free(root_real);
    close(root);
    return rc;
}

const ma_connector_type ma_connector_disk = {
    .name = "disk",
    .abi_version = MA_ABI_VERSION,
    .compile = disk_compile,
    .execute = disk_execute,
    .destroy = disk_destroy,
    .actions = disk_actions,
    .objects = NULL,
    .config_map = disk_config_map,
};
