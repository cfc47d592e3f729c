/* history.c - the execution history (history.h): one SQLite database, DATA/history.db, in WAL mode
 * with synchronous=FULL, shared by every miniatom process on the data folder (busy timeout,
 * BEGIN IMMEDIATE write transactions) and by the threads of one (one connection, one mutex,
 * statements prepared once). Also the pending Flow callbacks, the crash recovery, the purge (age
 * and size), the faults that make a handle unusable, and `store check` / `store repair`.
 * One file on purpose: everything that knows the schema below is here, next to it.
 *
 * Schema, version 1 (PRAGMA user_version = 1; a newer version is refused, 0 creates it):
 *   executions    one row per execution
 *     rid INTEGER PRIMARY KEY; id TEXT UNIQUE (execution-<uuid>-<yyyy.MM.dd>); process_id,
 *     process_name, mode (general | bridge | low_latency), trig ("wss", "fss", "cli" or ""),
 *     status (STARTED while it runs, then COMPLETE | COMPLETE_WARN | ERROR | ABORTED), message,
 *     started_ms, ended_ms (Unix epoch milliseconds, UTC), duration_ms REAL, docs_in, docs_out,
 *     doc_errors (documents in and out counted in full, even when fewer are recorded), payloads
 *     (1: documents recorded; 2: they were, and the size cap purged them; 3, 4: some were not, over a
 *     byte budget: history_budget.h), log_omitted (user log entries past the first 10000), owner (the
 *     uuid of the handle recording a STARTED row; NULL once it ended).
 *     Indexes on started_ms, process_id, and status for the STARTED rows.
 *   shape_counts  (exec -> executions.rid, idx, shape, type, label, documents): documents that
 *                 entered each shape of the top process, in the process's shape order
 *   log           (exec, seq, time ISO-8601, level INFO | WARNING | ERROR, shape, message)
 *   documents     (exec, dir 'in' | 'out', seq, size, data BLOB, properties TEXT): data is cut to
 *                 max_doc_bytes (at a UTF-8 boundary), size is the full size; properties is a JSON
 *                 object of property id -> value; at most max_docs rows per direction
 *   callbacks     (exec_id PRIMARY KEY, callback_uri, tenant, token, state_id, created_ms): pending
 *                 Flow callbacks; no foreign key (a low-latency execution has no row)
 *   settings      (key PRIMARY KEY, value INTEGER): purge_days, max_doc_bytes, max_docs, max_size as
 *                 the last opener that passed options set them; an opener without options uses them
 * Child rows go with their execution (ON DELETE CASCADE, foreign_keys=ON). What the purge frees is
 * reused, not given back (auto_vacuum would cost general mode 10-15%: decision 016).
 *
 * Liveness: a handle that records an execution first creates and locks (flock) the file
 * DATA/history.db-owners/<its uuid>; open() marks ABORTED only the STARTED rows whose owner's file
 * is gone or unlocked (the kernel drops the lock of a killed process), so `miniatom executions` or
 * `miniatom run` next to a running server never aborts the server's executions.
 *
 * SQLite is loaded when the first history is opened (lazy_sqlite.h): a low-latency `miniatom run`
 * and the commands that never open one do not map it. */
#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "history_budget.h"
#include "lazy_sqlite.h"
#include "process.h"
#include "util.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000
#define MAX_LOG_ENTRIES 10000
#define DAY_MS 86400000LL
#define ABORT_MESSAGE "the runtime stopped while it ran"
#define DEFAULT_PURGE_DAYS 30
#define DEFAULT_MAX_DOC_BYTES ((size_t)1 << 20)
#define DEFAULT_MAX_DOCS 1000
#define DEFAULT_MAX_SIZE ((uint64_t)1 << 30)
#define WAL_LIMIT 4194304 /* the -wal file is cut back to this after a checkpoint */
#define PURGE_BATCH 100   /* executions per purge transaction */
#define MA_STR2(x) #x
#define MA_STR(x) MA_STR2(x)

static const char SCHEMA[] = "CREATE TABLE executions ("
                             " rid INTEGER PRIMARY KEY,"
                             " id TEXT NOT NULL UNIQUE,"
                             " process_id TEXT NOT NULL,"
                             " process_name TEXT NOT NULL,"
                             " mode TEXT NOT NULL,"
                             " trig TEXT NOT NULL,"
                             " status TEXT NOT NULL,"
                             " message TEXT,"
                             " started_ms INTEGER NOT NULL,"
                             " ended_ms INTEGER,"
                             " duration_ms REAL,"
                             " docs_in INTEGER NOT NULL,"
                             " docs_out INTEGER,"
                             " doc_errors INTEGER,"
                             " payloads INTEGER NOT NULL,"
                             " log_omitted INTEGER NOT NULL DEFAULT 0,"
                             " owner TEXT);"
                             "CREATE INDEX executions_started ON executions(started_ms);"
                             "CREATE INDEX executions_process ON executions(process_id);"
                             "CREATE INDEX executions_running ON executions(status) WHERE status = 'STARTED';"
                             "CREATE TABLE shape_counts ("
                             " exec INTEGER NOT NULL REFERENCES executions(rid) ON DELETE CASCADE,"
                             " idx INTEGER NOT NULL, shape TEXT NOT NULL, type TEXT NOT NULL, label TEXT NOT NULL,"
                             " documents INTEGER NOT NULL, PRIMARY KEY (exec, idx)) WITHOUT ROWID;"
                             "CREATE TABLE log ("
                             " exec INTEGER NOT NULL REFERENCES executions(rid) ON DELETE CASCADE,"
                             " seq INTEGER NOT NULL, time TEXT NOT NULL, level TEXT NOT NULL, shape TEXT NOT NULL,"
                             " message TEXT NOT NULL, PRIMARY KEY (exec, seq)) WITHOUT ROWID;"
                             "CREATE TABLE documents ("
                             " exec INTEGER NOT NULL REFERENCES executions(rid) ON DELETE CASCADE,"
                             " dir TEXT NOT NULL CHECK (dir IN ('in', 'out')), seq INTEGER NOT NULL,"
                             " size INTEGER NOT NULL, data BLOB NOT NULL, properties TEXT NOT NULL,"
                             " PRIMARY KEY (exec, dir, seq));"
                             "CREATE TABLE callbacks ("
                             " exec_id TEXT PRIMARY KEY, callback_uri TEXT, tenant TEXT, token TEXT, state_id TEXT,"
                             " created_ms INTEGER NOT NULL);"
                             "CREATE TABLE settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL);";

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_INS_EXEC,
    S_FIND_EXEC,
    S_INS_DOC,
    S_END_EXEC,
    S_DEL_COUNTS,
    S_DEL_LOG,
    S_DEL_OUT,
    S_INS_COUNT,
    S_INS_LOG,
    S_CB_ADD,
    S_CB_DONE,
    S_CB_LIST,
    S_LIST,
    S_SHOW,
    S_SHOW_COUNTS,
    S_SHOW_LOG,
    S_SHOW_DOCS,
    S_SHOW_CB,
    S_PURGE,
    S_ABORT_OWNER,
    S_N
};

static const char *const SQL[S_N] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_INS_EXEC] = "INSERT INTO executions (id, process_id, process_name, mode, trig, status, started_ms, docs_in,"
                   " payloads, owner) VALUES (?1, ?2, ?3, ?4, ?5, 'STARTED', ?6, ?7, ?8, ?9)",
    [S_FIND_EXEC] = "SELECT rid FROM executions WHERE id = ?1",
    [S_INS_DOC] = "INSERT INTO documents (exec, dir, seq, size, data, properties) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_END_EXEC] = "UPDATE executions SET status = ?2, message = ?3, ended_ms = ?4,"
                   " started_ms = min(started_ms, ?4 - CAST(?5 AS INTEGER)), duration_ms = ?5, docs_out = ?6,"
                   " doc_errors = ?7, log_omitted = ?8, owner = NULL WHERE rid = ?1",
    [S_DEL_COUNTS] = "DELETE FROM shape_counts WHERE exec = ?1",
    [S_DEL_LOG] = "DELETE FROM log WHERE exec = ?1",
    [S_DEL_OUT] = "DELETE FROM documents WHERE exec = ?1 AND dir = 'out'",
    [S_INS_COUNT] = "INSERT INTO shape_counts (exec, idx, shape, type, label, documents)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_INS_LOG] = "INSERT INTO log (exec, seq, time, level, shape, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CB_ADD] = "INSERT OR REPLACE INTO callbacks (exec_id, callback_uri, tenant, token, state_id, created_ms)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CB_DONE] = "DELETE FROM callbacks WHERE exec_id = ?1",
    [S_CB_LIST] = "SELECT exec_id, callback_uri, tenant, token, state_id FROM callbacks ORDER BY created_ms, exec_id",
    [S_LIST] = "SELECT id, process_id, process_name, mode, trig, status, message, started_ms, ended_ms, duration_ms,"
               " docs_in, docs_out FROM executions"
               " WHERE (?1 IS NULL OR process_id = ?1 OR process_name = ?1) AND (?2 IS NULL OR status = upper(?2))"
               " ORDER BY started_ms DESC, rid DESC LIMIT ?3",
    [S_SHOW] = "SELECT id, process_id, process_name, mode, trig, status, message, started_ms, ended_ms, duration_ms,"
               " docs_in, docs_out, doc_errors, payloads, log_omitted, rid FROM executions WHERE id = ?1",
    [S_SHOW_COUNTS] = "SELECT shape, type, label, documents FROM shape_counts WHERE exec = ?1 ORDER BY idx",
    [S_SHOW_LOG] = "SELECT time, level, shape, message FROM log WHERE exec = ?1 ORDER BY seq",
    [S_SHOW_DOCS] = "SELECT size, data, properties FROM documents WHERE exec = ?1 AND dir = ?2 ORDER BY seq",
    [S_SHOW_CB] = "SELECT callback_uri, tenant, state_id, created_ms FROM callbacks WHERE exec_id = ?1",
    [S_PURGE] = "DELETE FROM executions WHERE rid IN (SELECT rid FROM executions WHERE started_ms < ?1"
                " AND status <> 'STARTED' ORDER BY started_ms LIMIT " MA_STR(PURGE_BATCH) ")",
    [S_ABORT_OWNER] = "UPDATE executions SET status = 'ABORTED', message = '" ABORT_MESSAGE "', ended_ms = ?2,"
                      " owner = NULL WHERE status = 'STARTED' AND owner IS ?1",
};

struct ma_history {
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *st[S_N];
    char *dir;  /* the data folder */
    char *path; /* DATA/history.db */
    ma_history_opts opts;
    ma_payload_budget budget; /* from opts */
    char owner[37];           /* this handle's uuid: the STARTED rows it records carry it */
    int owner_fd;             /* DATA/history.db-owners/<owner>, flock'ed; -1 until the first begin */
    dev_t dev;                /* the identity of the file opened */
    ino_t ino;
    struct stat wal_st, shm_st;  /* and of its -wal and -shm files (st_nlink 0: none) */
    ma_history_fault_kind fault; /* MA_HISTORY_OK until a fault breaks the handle */
    char why[512];               /* the fault's reason, short (no path) */
};

/* ---- small helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The kind of fault a SQLite result code means (primary code), MA_HISTORY_OK when it is none (a
 * busy database, a constraint, memory). */
static ma_history_fault_kind fault_kind(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return MA_HISTORY_CORRUPT;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL: return MA_HISTORY_IO;
    default: return MA_HISTORY_OK;
    }
}

/* Breaks h (the first fault stays) and fills err. Returns -1. */
static int set_fault(ma_history *h, ma_history_fault_kind kind, ma_error *err, const char *what, const char *why)
{
    if (!h->fault) {
        h->fault = kind;
        ma_strlcpy(h->why, why, sizeof h->why);
    }
    return ma_error_set(err, kind == MA_HISTORY_CORRUPT ? MA_ERR_PARSE : MA_ERR_IO, "execution history %s: %s: %s",
                        h->path ? h->path : h->dir, what, why);
}

static int db_error(ma_history *h, ma_error *err, const char *what)
{
    int rc = sqlite3_extended_errcode(h->db);
    ma_history_fault_kind kind = fault_kind(rc);
    if (kind) return set_fault(h, kind, err, what, sqlite3_errmsg(h->db));
    int code = rc == SQLITE_NOMEM ? MA_ERR_NOMEM : MA_ERR_IO;
    return ma_error_set(err, code, "execution history %s/history.db: %s: %s", h->dir, what, sqlite3_errmsg(h->db));
}

/* -1 with err when h is broken: nothing more is written through it. */
static int broken(ma_history *h, ma_error *err)
{
    if (!h->fault) return 0;
    return ma_error_set(err, h->fault == MA_HISTORY_CORRUPT ? MA_ERR_PARSE : MA_ERR_IO,
                        "the execution history is unusable: %s", h->why);
}

/* Whether DATA/history.db is still the file h opened; breaks h when not. */
static int same_file(ma_history *h, ma_error *err)
{
    struct stat st;
    if (stat(h->path, &st) < 0) {
        if (errno == ENOENT)
            return set_fault(h, MA_HISTORY_GONE, err, "checking the file",
                             "history.db was deleted or moved away while the server had it open");
        char why[160];
        snprintf(why, sizeof why, "history.db cannot be looked at: %s", strerror(errno));
        return set_fault(h, MA_HISTORY_IO, err, "checking the file", why);
    }
    if (st.st_dev != h->dev || st.st_ino != h->ino)
        return set_fault(h, MA_HISTORY_REPLACED, err, "checking the file",
                         "history.db was replaced by another file while the server had it open");
    return 0;
}

ma_history_fault_kind ma_history_fault(ma_history *h, char *why, size_t why_len)
{
    if (!h) return MA_HISTORY_IO;
    pthread_mutex_lock(&h->mu);
    ma_history_fault_kind k = h->fault;
    if (why && why_len) ma_strlcpy(why, k ? h->why : "", why_len);
    pthread_mutex_unlock(&h->mu);
    return k;
}

int ma_history_check(ma_history *h, ma_error *err)
{
    if (!h) return ma_error_set(err, MA_ERR_USAGE, "execution history: not open");
    pthread_mutex_lock(&h->mu);
    int rc = broken(h, err);
    if (rc == 0) rc = same_file(h, err);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

ma_history_fault_kind ma_history_open_fault(const ma_error *err)
{
    return err->code == MA_ERR_PARSE || err->code == MA_ERR_UNSUPPORTED ? MA_HISTORY_CORRUPT : MA_HISTORY_IO;
}

static sqlite3_stmt *stmt(ma_history *h, int which)
{
    sqlite3_stmt *s = h->st[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* Runs a statement that returns no rows; 0 or -1 with err. */
static int run_simple(ma_history *h, int which, ma_error *err, const char *what)
{
    sqlite3_stmt *s = h->st[which];
    int rc = sqlite3_step(s);
    int ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
    if (!ok) db_error(h, err, what);
    sqlite3_reset(s);
    return ok ? 0 : -1;
}

static int tx_begin(ma_history *h, ma_error *err) { return run_simple(h, S_BEGIN, err, "begin"); }
static int tx_commit(ma_history *h, ma_error *err) { return run_simple(h, S_COMMIT, err, "commit"); }
static void tx_rollback(ma_history *h)
{
    if (sqlite3_get_autocommit(h->db)) return;
    ma_error ignored;
    run_simple(h, S_ROLLBACK, &ignored, "rollback");
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : NULL;
}

/* Appends s as a JSON string (with quotes); bytes that are not UTF-8 become U+FFFD. */
static void json_str(ma_sb *b, const char *s, size_t n)
{
    ma_sb_putc(b, '"');
    ma_sb_json_escape(b, s, n);
    ma_sb_putc(b, '"');
}

static void json_cstr(ma_sb *b, const char *s)
{
    if (s) json_str(b, s, strlen(s));
    else ma_sb_puts(b, "null");
}

/* "key": with a leading comma unless first */
static void json_key(ma_sb *b, int *first, const char *key)
{
    if (!*first) ma_sb_putc(b, ',');
    *first = 0;
    ma_sb_printf(b, "\"%s\":", key);
}

static void json_time(ma_sb *b, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    ma_sb_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* A column as JSON: text, integer, time (ms) or real, null when NULL. */
static void json_col_text(ma_sb *b, sqlite3_stmt *s, int i)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL) {
        ma_sb_puts(b, "null");
        return;
    }
    const char *t = col_text(s, i);
    json_str(b, t ? t : "", (size_t)sqlite3_column_bytes(s, i));
}

static void json_col_int(ma_sb *b, sqlite3_stmt *s, int i)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL) ma_sb_puts(b, "null");
    else ma_sb_printf(b, "%lld", (long long)sqlite3_column_int64(s, i));
}

static void json_col_time(ma_sb *b, sqlite3_stmt *s, int i)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL) ma_sb_puts(b, "null");
    else json_time(b, sqlite3_column_int64(s, i));
}

static void json_col_real(ma_sb *b, sqlite3_stmt *s, int i)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL) ma_sb_puts(b, "null");
    else ma_sb_printf(b, "%.3f", sqlite3_column_double(s, i));
}

static void base64(ma_sb *b, const unsigned char *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        q[0] = tab[v >> 18], q[1] = tab[(v >> 12) & 63], q[2] = tab[(v >> 6) & 63], q[3] = tab[v & 63];
        ma_sb_append(b, q, 4);
    }
    if (i < n) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
        q[0] = tab[v >> 18], q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = '=';
        ma_sb_append(b, q, 4);
    }
}

/* Printable text: valid UTF-8 without control characters other than tab, newline, return. */
static int is_text(const unsigned char *d, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = d[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return 0;
            i++;
            continue;
        }
        unsigned cp;
        size_t l = ma_utf8_decode(d + i, n - i, &cp);
        if (!l) return 0;
        i += l;
    }
    return 1;
}

/* ---- owners (who records the STARTED rows) ---- */

static char *owner_path(const ma_history *h, const char *owner)
{
    return ma_asprintf("%s/history.db-owners/%s", h->dir, owner);
}

static int valid_owner(const char *o)
{
    size_t n = 0;
    for (; o[n]; n++)
        if (!((o[n] >= '0' && o[n] <= '9') || (o[n] >= 'a' && o[n] <= 'f') || o[n] == '-')) return 0;
    return n == 36;
}

/* 1 while the handle that owns the rows holds its lock file (in any process), else 0. */
static int owner_alive(const ma_history *h, const char *owner)
{
    if (!owner || !valid_owner(owner)) return 0;
    char *path = owner_path(h, owner);
    if (!path) return 1;
    int alive = 1;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        alive = errno != ENOENT;
    } else {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            alive = 0;
            unlink(path);
        }
        close(fd);
    }
    free(path);
    return alive;
}

/* Creates and locks this handle's owner file (before its first STARTED row). */
static int owner_claim(ma_history *h, ma_error *err)
{
    if (h->owner_fd >= 0) return 0;
    char *dir = ma_asprintf("%s/history.db-owners", h->dir);
    char *path = owner_path(h, h->owner);
    if (!dir || !path) {
        free(dir);
        free(path);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    int rc = ma_mkdirs(dir, err);
    if (rc == 0) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
            rc = ma_error_set(err, MA_ERR_IO, "%s: cannot create and lock: %s", path, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(path);
            }
        } else {
            h->owner_fd = fd;
        }
    }
    free(dir);
    free(path);
    return rc;
}

/* Marks ABORTED the STARTED rows of owners that are gone. */
static int recover(ma_history *h, ma_error *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(h->db, "SELECT DISTINCT owner FROM executions WHERE status = 'STARTED'", -1, &q, NULL) !=
        SQLITE_OK)
        return db_error(h, err, "recovery");
    char **dead = NULL;
    size_t n = 0;
    int rc = 0, step, null_owner = 0;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *o = col_text(q, 0);
        if (owner_alive(h, o)) continue;
        if (!o) {
            null_owner = 1;
            continue;
        }
        char **nd = realloc(dead, (n + 1) * sizeof *nd);
        if (!nd || !(nd[n] = ma_strdup(o))) {
            if (nd) dead = nd;
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            break;
        }
        dead = nd;
        n++;
    }
    if (rc == 0 && step != SQLITE_DONE) rc = db_error(h, err, "recovery");
    sqlite3_finalize(q);
    if (rc == 0 && (n || null_owner)) {
        int64_t now = now_ms();
        rc = tx_begin(h, err);
        for (size_t i = 0; rc == 0 && i <= n; i++) {
            if (i == n && !null_owner) break;
            sqlite3_stmt *s = stmt(h, S_ABORT_OWNER);
            bind_text(s, 1, i < n ? dead[i] : NULL);
            sqlite3_bind_int64(s, 2, now);
            rc = run_simple(h, S_ABORT_OWNER, err, "recovery");
        }
        if (rc == 0) rc = tx_commit(h, err);
        if (rc < 0) tx_rollback(h);
    }
    for (size_t i = 0; i < n; i++) free(dead[i]);
    free(dead);
    return rc;
}

/* ---- open / close ---- */

static int exec_sql(ma_history *h, const char *sql, ma_error *err, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(h->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return 0;
    ma_history_fault_kind kind = fault_kind(sqlite3_extended_errcode(h->db));
    if (kind) set_fault(h, kind, err, what, msg ? msg : sqlite3_errmsg(h->db));
    else
        ma_error_set(err, MA_ERR_IO, "execution history %s/history.db: %s: %s", h->dir, what,
                     msg ? msg : sqlite3_errmsg(h->db));
    sqlite3_free(msg);
    return -1;
}

static int64_t query_int(ma_history *h, const char *sql, int64_t dflt, int *ok)
{
    sqlite3_stmt *q;
    int64_t v = dflt;
    *ok = 0;
    if (sqlite3_prepare_v2(h->db, sql, -1, &q, NULL) != SQLITE_OK) return v;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
    *ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    sqlite3_finalize(q);
    return v;
}

/* Creates the schema (version 0) or checks it. */
static int schema(ma_history *h, ma_error *err)
{
    if (exec_sql(h, "BEGIN IMMEDIATE", err, "schema") < 0) return -1;
    int ok;
    int64_t v = query_int(h, "PRAGMA user_version", 0, &ok);
    int rc = 0;
    if (!ok) rc = db_error(h, err, "reading the schema version");
    else if (v > SCHEMA_VERSION)
        rc = ma_error_set(err, MA_ERR_UNSUPPORTED,
                          "execution history %s/history.db: schema version %lld is newer than this miniatom's (%d)",
                          h->dir, (long long)v, SCHEMA_VERSION);
    else if (v == 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
        rc = exec_sql(h, SCHEMA, err, "creating the schema");
        if (rc == 0) rc = exec_sql(h, sql, err, "setting the schema version");
    }
    if (rc == 0) return exec_sql(h, "COMMIT", err, "schema");
    exec_sql(h, "ROLLBACK", &(ma_error){0}, "rollback");
    return -1;
}

/* Options: given ones are used and remembered in settings; without, the remembered ones or the
 * defaults. */
static int settings(ma_history *h, const ma_history_opts *opts, ma_error *err)
{
    if (opts) {
        h->opts = *opts;
        if (h->opts.purge_days < 0) h->opts.purge_days = 0;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO settings (key, value) VALUES ('purge_days', %d), ('max_doc_bytes', %llu),"
                 " ('max_docs', %llu), ('max_size', %llu)",
                 h->opts.purge_days, (unsigned long long)h->opts.max_doc_bytes, (unsigned long long)h->opts.max_docs,
                 (unsigned long long)h->opts.max_size);
        return exec_sql(h, sql, err, "saving the settings");
    }
    int ok;
    int64_t v = query_int(h, "SELECT value FROM settings WHERE key = 'purge_days'", DEFAULT_PURGE_DAYS, &ok);
    h->opts.purge_days = v < 0 || v > 1000000 ? DEFAULT_PURGE_DAYS : (int)v;
    v = query_int(h, "SELECT value FROM settings WHERE key = 'max_doc_bytes'", (int64_t)DEFAULT_MAX_DOC_BYTES, &ok);
    h->opts.max_doc_bytes = v < 0 ? DEFAULT_MAX_DOC_BYTES : (size_t)v;
    v = query_int(h, "SELECT value FROM settings WHERE key = 'max_docs'", DEFAULT_MAX_DOCS, &ok);
    h->opts.max_docs = v < 0 ? DEFAULT_MAX_DOCS : (size_t)v;
    v = query_int(h, "SELECT value FROM settings WHERE key = 'max_size'", (int64_t)DEFAULT_MAX_SIZE, &ok);
    h->opts.max_size = v < 0 ? DEFAULT_MAX_SIZE : (uint64_t)v;
    return 0;
}

/* ---- payloads over their budget (history_budget.h) ---- */

/* Bytes of documents recorded so far for execution rid (its inputs); 0 when unknown. */
static uint64_t recorded_bytes(ma_history *h, sqlite3_int64 rid)
{
    sqlite3_stmt *q;
    uint64_t v = 0;
    if (sqlite3_prepare_v2(h->db, "SELECT COALESCE(SUM(length(data)), 0) FROM documents WHERE exec = ?1", -1, &q,
                           NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(q, 1, rid);
    if (sqlite3_step(q) == SQLITE_ROW) v = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* Notes on execution rid why some payloads were not recorded (the first reason stays). */
static int payloads_dropped(ma_history *h, sqlite3_int64 rid, int why, ma_error *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(h->db, "UPDATE executions SET payloads = ?2 WHERE rid = ?1 AND payloads = 1", -1, &q,
                           NULL) != SQLITE_OK)
        return db_error(h, err, "recording dropped payloads");
    sqlite3_bind_int64(q, 1, rid);
    sqlite3_bind_int(q, 2, why);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : db_error(h, err, "recording dropped payloads");
    sqlite3_finalize(q);
    return rc;
}

/* ---- purge ---- */

/* Pages in use times the page size (under h->mu). */
static int used_bytes(ma_history *h, uint64_t *used, ma_error *err)
{
    int ok1, ok2, ok3;
    int64_t pages = query_int(h, "PRAGMA page_count", 0, &ok1);
    int64_t free_pages = query_int(h, "PRAGMA freelist_count", 0, &ok2);
    int64_t page_size = query_int(h, "PRAGMA page_size", 4096, &ok3);
    if (!ok1 || !ok2 || !ok3) return db_error(h, err, "measuring the size");
    *used = pages > free_pages ? (uint64_t)(pages - free_pages) * (uint64_t)page_size : 0;
    return 0;
}

/* One transaction of the size purge (under h->mu): the documents of the oldest ended executions
 * that have some, as many as hold excess bytes; else the oldest ended executions. *more: 0 when
 * nothing was left to delete. */
static int purge_size_step(ma_history *h, uint64_t excess, int *more, ma_error *err)
{
    static const char *const docs_sql =
        "SELECT exec, sum(length(data)) FROM documents WHERE exec NOT IN"
        " (SELECT rid FROM executions WHERE status = 'STARTED') GROUP BY exec ORDER BY exec";
    *more = 0;
    if (tx_begin(h, err) < 0) return -1;
    int rc = 0, step = SQLITE_DONE;
    sqlite3_stmt *q = NULL;
    sqlite3_int64 lo = -1, hi = -1;
    uint64_t sum = 0;
    if (sqlite3_prepare_v2(h->db, docs_sql, -1, &q, NULL) != SQLITE_OK) rc = db_error(h, err, "purge");
    for (int n = 0; rc == 0 && sum < excess && n < PURGE_BATCH * 10 && (step = sqlite3_step(q)) == SQLITE_ROW; n++) {
        if (lo < 0) lo = sqlite3_column_int64(q, 0);
        hi = sqlite3_column_int64(q, 0);
        sum += (uint64_t)sqlite3_column_int64(q, 1);
    }
    if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE) rc = db_error(h, err, "purge");
    sqlite3_finalize(q);
    if (rc == 0 && lo >= 0) { /* payloads first */
        char sql[400];
        snprintf(sql, sizeof sql,
                 "DELETE FROM documents WHERE exec BETWEEN %lld AND %lld AND exec NOT IN"
                 " (SELECT rid FROM executions WHERE status = 'STARTED');"
                 "UPDATE executions SET payloads = 2 WHERE rid BETWEEN %lld AND %lld AND payloads IN (1, 3, 4)"
                 " AND status <> 'STARTED'",
                 (long long)lo, (long long)hi, (long long)lo, (long long)hi);
        rc = exec_sql(h, sql, err, "purging payloads");
        *more = 1;
    } else if (rc == 0) { /* then whole records */
        rc = exec_sql(h,
                      "DELETE FROM executions WHERE rid IN (SELECT rid FROM executions WHERE status <> 'STARTED'"
                      " ORDER BY rid LIMIT " MA_STR(PURGE_BATCH) ")",
                      err, "purging records");
        *more = rc == 0 && sqlite3_changes(h->db) > 0;
    }
    if (rc == 0) rc = tx_commit(h, err);
    if (rc < 0) tx_rollback(h);
    return rc;
}

int ma_history_purge(ma_history *h, ma_error *err)
{
    if (!h) return ma_error_set(err, MA_ERR_USAGE, "execution history: not open");
    int rc = 0;
    /* by age, a batch per transaction: recording goes on between them */
    for (int more = h->opts.purge_days > 0; rc == 0 && more;) {
        pthread_mutex_lock(&h->mu);
        rc = broken(h, err);
        if (rc == 0) {
            sqlite3_stmt *s = stmt(h, S_PURGE);
            sqlite3_bind_int64(s, 1, now_ms() - (int64_t)h->opts.purge_days * DAY_MS);
            rc = run_simple(h, S_PURGE, err, "purge");
            more = rc == 0 && sqlite3_changes(h->db) > 0;
        }
        pthread_mutex_unlock(&h->mu);
    }
    /* by size: the oldest payloads, then the oldest records */
    for (int more = h->opts.max_size > 0; rc == 0 && more;) {
        uint64_t used = 0;
        pthread_mutex_lock(&h->mu);
        rc = broken(h, err);
        if (rc == 0) rc = used_bytes(h, &used, err);
        if (rc == 0 && used > h->opts.max_size) {
            rc = purge_size_step(h, used - h->opts.max_size, &more, err);
        } else {
            more = 0;
        }
        pthread_mutex_unlock(&h->mu);
    }
    return rc;
}

int ma_history_size(ma_history *h, uint64_t *used, uint64_t *file, ma_error *err)
{
    if (!h) return ma_error_set(err, MA_ERR_USAGE, "execution history: not open");
    *used = *file = 0;
    pthread_mutex_lock(&h->mu);
    int rc = broken(h, err);
    if (rc == 0) rc = used_bytes(h, used, err);
    pthread_mutex_unlock(&h->mu);
    struct stat st;
    if (stat(h->path, &st) == 0) *file += (uint64_t)st.st_size;
    char *wal = ma_asprintf("%s-wal", h->path);
    if (wal && stat(wal, &st) == 0) *file += (uint64_t)st.st_size;
    free(wal);
    return rc;
}

/* The identities of path's -wal and -shm files (st_nlink 0 when there is none). */
static void side_files(const ma_history *h, const char *path, struct stat *wal, struct stat *shm)
{
    (void)h;
    char name[4200];
    memset(wal, 0, sizeof *wal);
    memset(shm, 0, sizeof *shm);
    snprintf(name, sizeof name, "%s-wal", path);
    if (stat(name, wal) < 0) memset(wal, 0, sizeof *wal);
    snprintf(name, sizeof name, "%s-shm", path);
    if (stat(name, shm) < 0) memset(shm, 0, sizeof *shm);
}

static void unlink_side(const ma_history *h, const char *suffix)
{
    char name[4200];
    snprintf(name, sizeof name, "%s%s", h->path, suffix);
    unlink(name);
}

void ma_history_close(ma_history *h)
{
    if (!h) return;
    if (h->db && !h->fault && h->owner_fd >= 0 && h->st[S_ABORT_OWNER]) { /* what it still runs will never end */
        sqlite3_stmt *s = stmt(h, S_ABORT_OWNER);
        bind_text(s, 1, h->owner);
        sqlite3_bind_int64(s, 2, now_ms());
        ma_error ignored;
        run_simple(h, S_ABORT_OWNER, &ignored, "close");
    }
    for (int i = 0; i < S_N; i++) sqlite3_finalize(h->st[i]);
    struct stat now; /* moved: DATA/history.db is not this handle's file (and was not put back) */
    int moved = h->db && (h->fault == MA_HISTORY_GONE || h->fault == MA_HISTORY_REPLACED) &&
                !(stat(h->path, &now) == 0 && now.st_dev == h->dev && now.st_ino == h->ino);
    if (moved) { /* the -wal and -shm names may be another file's now: SQLite must not delete them */
        int persist = 1;
        sqlite3_file_control(h->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    }
    if (h->db) sqlite3_close(h->db);
    if (moved) { /* ours, left at the old names: a new history there must not take them for its own */
        struct stat wal, shm;
        side_files(h, h->path, &wal, &shm);
        if (wal.st_nlink && wal.st_dev == h->wal_st.st_dev && wal.st_ino == h->wal_st.st_ino) unlink_side(h, "-wal");
        if (shm.st_nlink && shm.st_dev == h->shm_st.st_dev && shm.st_ino == h->shm_st.st_ino) unlink_side(h, "-shm");
    }
    if (h->owner_fd >= 0) {
        char *path = owner_path(h, h->owner);
        if (path) unlink(path);
        free(path);
        close(h->owner_fd);
    }
    pthread_mutex_destroy(&h->mu);
    free(h->dir);
    free(h->path);
    free(h);
}

ma_history *ma_history_open(const char *data_dir, const ma_history_opts *opts, ma_error *err)
{
    if (!data_dir || !*data_dir) {
        ma_error_set(err, MA_ERR_USAGE, "execution history: no data folder");
        return NULL;
    }
    if (ma_sqlite_load(err) < 0) {
        ma_error_prefix(err, "execution history %s/history.db", data_dir);
        return NULL;
    }
    ma_history *h = calloc(1, sizeof *h);
    if (!h || !(h->dir = ma_strdup(data_dir))) {
        free(h);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    h->owner_fd = -1;
    ma_uuid4(h->owner);
    pthread_mutex_init(&h->mu, NULL);
    char *path = h->path = ma_asprintf("%s/history.db", data_dir);
    if (!path) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto fail;
    }
    int must_exist = opts && opts->must_exist;
    if (!must_exist && ma_mkdirs(data_dir, err) < 0) goto fail;
    /* the records hold payloads and callback tokens: only the owner reads them (the -wal and -shm
     * files get the database's permissions) */
    int fd = open(path, O_RDWR | (must_exist ? 0 : O_CREAT) | O_CLOEXEC, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        ma_error_set(err, MA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        goto fail;
    }
    /* a file that is not empty must be SQLite's: SQLite would take a short foreign file for an empty
     * database and write over it */
    char head[16];
    ssize_t got = st.st_size > 0 ? pread(fd, head, sizeof head, 0) : 0;
    close(fd);
    if (st.st_size > 0 && (got != (ssize_t)sizeof head || memcmp(head, "SQLite format 3", 16) != 0)) {
        ma_error_set(err, MA_ERR_PARSE, "execution history %s: open: file is not a database", path);
        goto fail;
    }
    h->dev = st.st_dev;
    h->ino = st.st_ino;
    if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        if (h->db) db_error(h, err, "open");
        else ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(h->db, 1);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(h->db, "PRAGMA journal_mode = WAL", -1, &q, NULL) != SQLITE_OK) {
        db_error(h, err, "journal mode");
        goto fail;
    }
    int wal = sqlite3_step(q) == SQLITE_ROW && col_text(q, 0) && strcmp(col_text(q, 0), "wal") == 0;
    sqlite3_finalize(q);
    if (!wal) {
        db_error(h, err, "cannot switch to WAL mode");
        goto fail;
    }
    if (exec_sql(h,
                 "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = " MA_STR(WAL_LIMIT),
                 err, "pragmas") < 0 ||
        schema(h, err) < 0)
        goto fail;
    for (int i = 0; i < S_N; i++)
        if (sqlite3_prepare_v3(h->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &h->st[i], NULL) != SQLITE_OK) {
            db_error(h, err, "preparing statements");
            goto fail;
        }
    if (opts) {
        h->budget.per_execution = opts->max_payload_bytes;
        h->budget.per_minute = opts->payload_bytes_per_minute;
    }
    if (settings(h, opts, err) < 0 || recover(h, err) < 0 || ma_history_purge(h, err) < 0 || same_file(h, err) < 0)
        goto fail;
    side_files(h, h->path, &h->wal_st, &h->shm_st);
    return h;
fail:
    ma_history_close(h);
    return NULL;
}

/* ---- recording ---- */

static int insert_doc(ma_history *h, sqlite3_int64 rid, const char *dir, size_t seq, const ma_doc *d, ma_error *err)
{
    size_t len;
    const char *data = ma_doc_data(d, &len);
    size_t keep = len;
    if (keep > h->opts.max_doc_bytes) {
        keep = h->opts.max_doc_bytes;
        /* cut at a UTF-8 boundary so that text stays text */
        size_t k = keep;
        while (k > 0 && keep - k < 3 && ((unsigned char)data[k] & 0xC0) == 0x80) k--;
        if (((unsigned char)data[k] & 0xC0) != 0x80) keep = k;
    }
    ma_sb props;
    ma_sb_init(&props);
    ma_sb_putc(&props, '{');
    for (size_t i = 0; i < ma_doc_prop_count(d); i++) {
        const char *k, *v;
        if (ma_doc_prop_at(d, i, &k, &v) != 0) continue;
        if (i) ma_sb_putc(&props, ',');
        json_cstr(&props, k);
        ma_sb_putc(&props, ':');
        json_cstr(&props, v ? v : "");
    }
    ma_sb_putc(&props, '}');
    if (props.oom) {
        ma_sb_free(&props);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    sqlite3_stmt *s = stmt(h, S_INS_DOC);
    sqlite3_bind_int64(s, 1, rid);
    sqlite3_bind_text(s, 2, dir, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)seq);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)len);
    sqlite3_bind_blob64(s, 5, data, keep, SQLITE_STATIC);
    sqlite3_bind_text64(s, 6, props.s, props.len, SQLITE_STATIC, SQLITE_UTF8);
    int rc = run_simple(h, S_INS_DOC, err, "recording a document");
    ma_sb_free(&props);
    return rc;
}

int ma_history_begin(ma_history *h, const char *exec_id, const char *process_id, const char *process_name,
                     const char *mode, const char *trigger, const ma_batch *input, int with_payloads, ma_error *err)
{
    if (!h || !exec_id || !*exec_id) return ma_error_set(err, MA_ERR_USAGE, "execution history: no execution id");
    pthread_mutex_lock(&h->mu);
    int64_t now = now_ms();
    int rc = broken(h, err), why = MA_PAYLOADS_KEPT;
    if (rc == 0) rc = same_file(h, err);
    ma_error oerr;
    if (rc == 0 && owner_claim(h, &oerr) < 0) rc = set_fault(h, MA_HISTORY_IO, err, "recording an execution", oerr.msg);
    uint64_t used = 0;
    size_t n_in = with_payloads && input ? (input->len < h->opts.max_docs ? input->len : h->opts.max_docs) : 0;
    n_in = ma_payload_budget_take(&h->budget, input, n_in, h->opts.max_doc_bytes, &used, &why);
    if (rc == 0) rc = tx_begin(h, err);
    if (rc == 0) {
        sqlite3_stmt *s = stmt(h, S_INS_EXEC);
        bind_text(s, 1, exec_id);
        bind_text(s, 2, process_id ? process_id : "");
        bind_text(s, 3, process_name ? process_name : "");
        bind_text(s, 4, mode ? mode : "");
        bind_text(s, 5, trigger ? trigger : "");
        sqlite3_bind_int64(s, 6, now);
        sqlite3_bind_int64(s, 7, input ? (sqlite3_int64)input->len : 0);
        sqlite3_bind_int(s, 8, with_payloads ? why : 0);
        bind_text(s, 9, h->owner);
        int step = sqlite3_step(s);
        if (step != SQLITE_DONE) {
            if (sqlite3_extended_errcode(h->db) == SQLITE_CONSTRAINT_UNIQUE)
                rc = ma_error_set(err, MA_ERR_USAGE, "execution history: %s is already recorded", exec_id);
            else rc = db_error(h, err, "recording an execution");
        }
        sqlite3_reset(s);
        sqlite3_int64 rid = sqlite3_last_insert_rowid(h->db);
        for (size_t i = 0; rc == 0 && i < n_in; i++) rc = insert_doc(h, rid, "in", i, input->docs[i], err);
        if (rc == 0) rc = tx_commit(h, err);
        if (rc < 0) tx_rollback(h);
        if (rc == 0) rc = same_file(h, err);
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static const char *level_name(ma_log_level l)
{
    return l == MA_LOG_ERROR ? "ERROR" : l == MA_LOG_WARNING ? "WARNING" : "INFO";
}

/* The row of exec_id, inserted when begin was never called (nothing accepted is lost). */
static int find_or_insert(ma_history *h, const char *exec_id, const ma_process *proc, const ma_result *res,
                          int with_payloads, sqlite3_int64 *rid, ma_error *err)
{
    sqlite3_stmt *s = stmt(h, S_FIND_EXEC);
    bind_text(s, 1, exec_id);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) *rid = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (step == SQLITE_ROW) return 0;
    if (step != SQLITE_DONE) return db_error(h, err, "finding an execution");
    const ma_component *c = proc ? proc->comp : NULL;
    s = stmt(h, S_INS_EXEC);
    bind_text(s, 1, exec_id);
    bind_text(s, 2, c && c->id ? c->id : "");
    bind_text(s, 3, c && c->name ? c->name : "");
    bind_text(s, 4, with_payloads ? "general" : "bridge");
    bind_text(s, 5, "");
    sqlite3_bind_int64(s, 6, now_ms() - (int64_t)(res->duration_ns / 1000000));
    sqlite3_bind_int64(s, 7, 0);
    sqlite3_bind_int(s, 8, with_payloads ? 1 : 0);
    sqlite3_bind_null(s, 9);
    if (run_simple(h, S_INS_EXEC, err, "recording an execution") < 0) return -1;
    *rid = sqlite3_last_insert_rowid(h->db);
    return 0;
}

int ma_history_end(ma_history *h, const char *exec_id, const ma_process *proc, const ma_result *res, int with_payloads,
                   ma_error *err)
{
    if (!h || !exec_id || !*exec_id || !res)
        return ma_error_set(err, MA_ERR_USAGE, "execution history: no execution id or result");
    pthread_mutex_lock(&h->mu);
    int64_t now = now_ms();
    sqlite3_int64 rid = 0;
    int rc = broken(h, err);
    if (rc == 0) rc = tx_begin(h, err);
    if (rc == 0) rc = find_or_insert(h, exec_id, proc, res, with_payloads, &rid, err);
    static const int dels[] = {S_DEL_COUNTS, S_DEL_LOG, S_DEL_OUT}; /* an end recorded twice: the last wins */
    for (size_t i = 0; rc == 0 && i < sizeof dels / sizeof *dels; i++) {
        sqlite3_bind_int64(stmt(h, dels[i]), 1, rid);
        rc = run_simple(h, dels[i], err, "recording the end of an execution");
    }
    size_t n_log = res->n_log < MAX_LOG_ENTRIES ? res->n_log : MAX_LOG_ENTRIES;
    if (rc == 0) {
        sqlite3_stmt *s = stmt(h, S_END_EXEC);
        sqlite3_bind_int64(s, 1, rid);
        bind_text(s, 2, ma_status_name(res->status));
        bind_text(s, 3, res->message);
        sqlite3_bind_int64(s, 4, now);
        sqlite3_bind_double(s, 5, (double)res->duration_ns / 1e6);
        sqlite3_bind_int64(s, 6, (sqlite3_int64)res->docs.len);
        sqlite3_bind_int64(s, 7, (sqlite3_int64)res->doc_errors);
        sqlite3_bind_int64(s, 8, (sqlite3_int64)(res->n_log - n_log));
        rc = run_simple(h, S_END_EXEC, err, "recording the end of an execution");
    }
    for (size_t i = 0; rc == 0 && i < res->n_counts; i++) {
        const ma_shape *sh = proc && i < proc->n_shapes ? &proc->shapes[i] : NULL;
        char fallback[32];
        snprintf(fallback, sizeof fallback, "shape%zu", i + 1);
        sqlite3_stmt *s = stmt(h, S_INS_COUNT);
        sqlite3_bind_int64(s, 1, rid);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
        bind_text(s, 3, sh && sh->name ? sh->name : fallback);
        bind_text(s, 4, sh && sh->type_name ? sh->type_name : "");
        bind_text(s, 5, sh && sh->label ? sh->label : "");
        sqlite3_bind_int64(s, 6, (sqlite3_int64)res->counts[i]);
        rc = run_simple(h, S_INS_COUNT, err, "recording shape counts");
    }
    for (size_t i = 0; rc == 0 && i < n_log; i++) {
        const ma_log_entry *e = &res->log[i];
        sqlite3_stmt *s = stmt(h, S_INS_LOG);
        sqlite3_bind_int64(s, 1, rid);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
        bind_text(s, 3, e->time);
        bind_text(s, 4, level_name(e->level));
        bind_text(s, 5, e->shape ? e->shape : "");
        bind_text(s, 6, e->message ? e->message : "");
        rc = run_simple(h, S_INS_LOG, err, "recording the user log");
    }
    size_t n_out = with_payloads ? (res->docs.len < h->opts.max_docs ? res->docs.len : h->opts.max_docs) : 0;
    if (rc == 0 && n_out && (h->budget.per_execution || h->budget.per_minute)) {
        uint64_t used = recorded_bytes(h, rid);
        int why;
        n_out = ma_payload_budget_take(&h->budget, &res->docs, n_out, h->opts.max_doc_bytes, &used, &why);
        if (why != MA_PAYLOADS_KEPT) rc = payloads_dropped(h, rid, why, err);
    }
    for (size_t i = 0; rc == 0 && i < n_out; i++) rc = insert_doc(h, rid, "out", i, res->docs.docs[i], err);
    if (rc == 0) rc = tx_commit(h, err);
    if (rc < 0) tx_rollback(h);
    if (rc == 0) rc = same_file(h, err); /* committed to the file that is still DATA/history.db */
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* ---- pending callbacks ---- */

int ma_history_callback_add(ma_history *h, const ma_pending_callback *cb, ma_error *err)
{
    if (!h || !cb || !cb->exec_id || !*cb->exec_id)
        return ma_error_set(err, MA_ERR_USAGE, "execution history: a callback needs an execution id");
    pthread_mutex_lock(&h->mu);
    int rc = broken(h, err);
    if (rc == 0) {
        sqlite3_stmt *s = stmt(h, S_CB_ADD);
        bind_text(s, 1, cb->exec_id);
        bind_text(s, 2, cb->callback_uri);
        bind_text(s, 3, cb->tenant);
        bind_text(s, 4, cb->token);
        bind_text(s, 5, cb->state_id);
        sqlite3_bind_int64(s, 6, now_ms());
        rc = run_simple(h, S_CB_ADD, err, "recording a callback");
    }
    if (rc == 0) rc = same_file(h, err);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int ma_history_callback_done(ma_history *h, const char *exec_id, ma_error *err)
{
    if (!h || !exec_id) return ma_error_set(err, MA_ERR_USAGE, "execution history: no execution id");
    pthread_mutex_lock(&h->mu);
    int rc = broken(h, err);
    if (rc == 0) {
        sqlite3_stmt *s = stmt(h, S_CB_DONE);
        bind_text(s, 1, exec_id);
        rc = run_simple(h, S_CB_DONE, err, "removing a callback");
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

void ma_pending_callbacks_free(ma_pending_callback *cbs, size_t n)
{
    for (size_t i = 0; cbs && i < n; i++) {
        free(cbs[i].exec_id);
        free(cbs[i].callback_uri);
        free(cbs[i].tenant);
        free(cbs[i].token);
        free(cbs[i].state_id);
    }
    free(cbs);
}

int ma_history_callbacks(ma_history *h, ma_pending_callback **out, size_t *n, ma_error *err)
{
    *out = NULL;
    *n = 0;
    if (!h) return ma_error_set(err, MA_ERR_USAGE, "execution history: not open");
    pthread_mutex_lock(&h->mu);
    if (broken(h, err) < 0) {
        pthread_mutex_unlock(&h->mu);
        return -1;
    }
    sqlite3_stmt *s = stmt(h, S_CB_LIST);
    ma_pending_callback *v = NULL;
    size_t len = 0;
    int rc = 0, step = SQLITE_DONE;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        ma_pending_callback *nv = realloc(v, (len + 1) * sizeof *nv);
        if (!nv) {
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            break;
        }
        v = nv;
        ma_pending_callback *c = &v[len++];
        memset(c, 0, sizeof *c);
        char **f[] = {&c->exec_id, &c->callback_uri, &c->tenant, &c->token, &c->state_id};
        for (int i = 0; i < 5; i++) {
            const char *t = col_text(s, i);
            if (t && !(*f[i] = ma_strdup(t))) rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
        if (rc < 0) break;
    }
    if (rc == 0 && step != SQLITE_DONE) rc = db_error(h, err, "reading the callbacks");
    sqlite3_reset(s);
    pthread_mutex_unlock(&h->mu);
    if (rc < 0) {
        ma_pending_callbacks_free(v, len);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}

/* ---- reading: JSON for the commands ---- */

static char *finish_json(ma_sb *b, ma_error *err)
{
    if (b->oom) {
        ma_sb_free(b);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return ma_sb_take(b, NULL);
}

char *ma_history_list_json(ma_history *h, const char *process, const char *status, size_t last, ma_error *err)
{
    if (!h) {
        ma_error_set(err, MA_ERR_USAGE, "execution history: not open");
        return NULL;
    }
    ma_sb b;
    ma_sb_init(&b);
    pthread_mutex_lock(&h->mu);
    sqlite3_stmt *s = stmt(h, S_LIST);
    bind_text(s, 1, process);
    bind_text(s, 2, status);
    sqlite3_bind_int64(s, 3, last && last < (size_t)INT64_MAX ? (sqlite3_int64)last : -1);
    ma_sb_puts(&b, "{\"executions\":[");
    int step, nrow = 0;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        int first = 1;
        ma_sb_puts(&b, nrow++ ? ",{" : "{");
        json_key(&b, &first, "executionId"), json_col_text(&b, s, 0);
        json_key(&b, &first, "processId"), json_col_text(&b, s, 1);
        json_key(&b, &first, "processName"), json_col_text(&b, s, 2);
        json_key(&b, &first, "mode"), json_col_text(&b, s, 3);
        json_key(&b, &first, "trigger"), json_col_text(&b, s, 4);
        json_key(&b, &first, "status"), json_col_text(&b, s, 5);
        json_key(&b, &first, "message"), json_col_text(&b, s, 6);
        json_key(&b, &first, "startTime"), json_col_time(&b, s, 7);
        json_key(&b, &first, "endTime"), json_col_time(&b, s, 8);
        json_key(&b, &first, "durationMs"), json_col_real(&b, s, 9);
        json_key(&b, &first, "inputCount"), json_col_int(&b, s, 10);
        json_key(&b, &first, "resultCount"), json_col_int(&b, s, 11);
        ma_sb_putc(&b, '}');
    }
    ma_sb_puts(&b, "]}");
    if (step != SQLITE_DONE) db_error(h, err, "listing executions");
    sqlite3_reset(s);
    pthread_mutex_unlock(&h->mu);
    if (step != SQLITE_DONE) {
        ma_sb_free(&b);
        return NULL;
    }
    return finish_json(&b, err);
}

/* The recorded documents of one direction as a JSON array; returns how many. */
static int show_docs(ma_history *h, ma_sb *b, sqlite3_int64 rid, const char *dir, int64_t *count)
{
    sqlite3_stmt *s = stmt(h, S_SHOW_DOCS);
    sqlite3_bind_int64(s, 1, rid);
    sqlite3_bind_text(s, 2, dir, -1, SQLITE_STATIC);
    ma_sb_putc(b, '[');
    int step;
    *count = 0;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        int first = 1;
        const unsigned char *data = sqlite3_column_blob(s, 1);
        size_t len = (size_t)sqlite3_column_bytes(s, 1);
        int64_t size = sqlite3_column_int64(s, 0);
        ma_sb_puts(b, (*count)++ ? ",{" : "{");
        json_key(b, &first, "size"), ma_sb_printf(b, "%lld", (long long)size);
        json_key(b, &first, "truncated"), ma_sb_puts(b, (int64_t)len < size ? "true" : "false");
        json_key(b, &first, "recordedSize"), ma_sb_printf(b, "%zu", len);
        int text = is_text(data ? data : (const unsigned char *)"", len);
        json_key(b, &first, "encoding"), ma_sb_puts(b, text ? "\"text\"" : "\"base64\"");
        json_key(b, &first, "data");
        if (text) {
            json_str(b, data ? (const char *)data : "", len);
        } else {
            ma_sb_putc(b, '"');
            base64(b, data, len);
            ma_sb_putc(b, '"');
        }
        json_key(b, &first, "properties");
        /* written by insert_doc; checked so that a damaged file cannot break the output */
        const char *props = col_text(s, 2);
        json_t *p = props ? json_loadb(props, (size_t)sqlite3_column_bytes(s, 2), 0, NULL) : NULL;
        if (json_is_object(p)) ma_sb_json_value(b, p);
        else ma_sb_puts(b, "{}");
        json_decref(p);
        ma_sb_putc(b, '}');
    }
    ma_sb_putc(b, ']');
    sqlite3_reset(s);
    return step == SQLITE_DONE ? 0 : -1;
}

char *ma_history_show_json(ma_history *h, const char *exec_id, ma_error *err)
{
    if (!h || !exec_id) {
        ma_error_set(err, MA_ERR_USAGE, "execution history: no execution id");
        return NULL;
    }
    ma_sb b;
    ma_sb_init(&b);
    pthread_mutex_lock(&h->mu);
    int ok = 0, first = 1;
    /* one read transaction: the parts agree with each other */
    if (exec_sql(h, "BEGIN", err, "show") < 0) goto out;
    sqlite3_stmt *s = stmt(h, S_SHOW);
    bind_text(s, 1, exec_id);
    int step = sqlite3_step(s);
    if (step != SQLITE_ROW) {
        if (step == SQLITE_DONE) ma_error_set(err, MA_ERR_REF, "no execution '%s' in %s/history.db", exec_id, h->dir);
        else db_error(h, err, "reading an execution");
        sqlite3_reset(s);
        goto out;
    }
    ma_sb_putc(&b, '{');
    json_key(&b, &first, "executionId"), json_col_text(&b, s, 0);
    json_key(&b, &first, "processId"), json_col_text(&b, s, 1);
    json_key(&b, &first, "processName"), json_col_text(&b, s, 2);
    json_key(&b, &first, "mode"), json_col_text(&b, s, 3);
    json_key(&b, &first, "trigger"), json_col_text(&b, s, 4);
    json_key(&b, &first, "status"), json_col_text(&b, s, 5);
    json_key(&b, &first, "message"), json_col_text(&b, s, 6);
    json_key(&b, &first, "startTime"), json_col_time(&b, s, 7);
    json_key(&b, &first, "endTime"), json_col_time(&b, s, 8);
    json_key(&b, &first, "durationMs"), json_col_real(&b, s, 9);
    json_key(&b, &first, "inputCount"), json_col_int(&b, s, 10);
    json_key(&b, &first, "resultCount"), json_col_int(&b, s, 11);
    json_key(&b, &first, "documentErrors"), json_col_int(&b, s, 12);
    int pv = sqlite3_column_int(s, 13);
    int payloads = pv != MA_PAYLOADS_NONE && pv != MA_PAYLOADS_PURGED, purged = pv == MA_PAYLOADS_PURGED;
    const char *dropped = ma_payload_budget_why(pv);
    json_key(&b, &first, "payloads"), ma_sb_puts(&b, payloads ? "true" : "false");
    if (purged) json_key(&b, &first, "payloadsPurged"), ma_sb_puts(&b, "true");
    if (dropped) json_key(&b, &first, "payloadsDropped"), json_cstr(&b, dropped);
    json_key(&b, &first, "logOmitted"), json_col_int(&b, s, 14);
    int64_t n_in = sqlite3_column_int64(s, 10), n_out = sqlite3_column_int64(s, 11);
    sqlite3_int64 rid = sqlite3_column_int64(s, 15);
    sqlite3_reset(s);

    s = stmt(h, S_SHOW_COUNTS);
    sqlite3_bind_int64(s, 1, rid);
    json_key(&b, &first, "shapes"), ma_sb_putc(&b, '[');
    for (int i = 0; (step = sqlite3_step(s)) == SQLITE_ROW; i++) {
        int f = 1;
        ma_sb_puts(&b, i ? ",{" : "{");
        json_key(&b, &f, "shape"), json_col_text(&b, s, 0);
        json_key(&b, &f, "type"), json_col_text(&b, s, 1);
        json_key(&b, &f, "label"), json_col_text(&b, s, 2);
        json_key(&b, &f, "documents"), json_col_int(&b, s, 3);
        ma_sb_putc(&b, '}');
    }
    ma_sb_putc(&b, ']');
    sqlite3_reset(s);
    if (step != SQLITE_DONE) goto dberr;

    s = stmt(h, S_SHOW_LOG);
    sqlite3_bind_int64(s, 1, rid);
    json_key(&b, &first, "log"), ma_sb_putc(&b, '[');
    for (int i = 0; (step = sqlite3_step(s)) == SQLITE_ROW; i++) {
        int f = 1;
        ma_sb_puts(&b, i ? ",{" : "{");
        json_key(&b, &f, "time"), json_col_text(&b, s, 0);
        json_key(&b, &f, "level"), json_col_text(&b, s, 1);
        json_key(&b, &f, "shape"), json_col_text(&b, s, 2);
        json_key(&b, &f, "message"), json_col_text(&b, s, 3);
        ma_sb_putc(&b, '}');
    }
    ma_sb_putc(&b, ']');
    sqlite3_reset(s);
    if (step != SQLITE_DONE) goto dberr;

    int64_t rec_in = 0, rec_out = 0;
    json_key(&b, &first, "inputs");
    if (show_docs(h, &b, rid, "in", &rec_in) < 0) goto dberr;
    json_key(&b, &first, "results");
    if (show_docs(h, &b, rid, "out", &rec_out) < 0) goto dberr;
    if (payloads) {
        json_key(&b, &first, "inputsOmitted"), ma_sb_printf(&b, "%lld", (long long)(n_in > rec_in ? n_in - rec_in : 0));
        json_key(&b, &first, "resultsOmitted"),
            ma_sb_printf(&b, "%lld", (long long)(n_out > rec_out ? n_out - rec_out : 0));
    }

    s = stmt(h, S_SHOW_CB); /* the token is a secret: not shown */
    bind_text(s, 1, exec_id);
    step = sqlite3_step(s);
    json_key(&b, &first, "pendingCallback");
    if (step == SQLITE_ROW) {
        int f = 1;
        ma_sb_putc(&b, '{');
        json_key(&b, &f, "callbackUri"), json_col_text(&b, s, 0);
        json_key(&b, &f, "tenant"), json_col_text(&b, s, 1);
        json_key(&b, &f, "stateId"), json_col_text(&b, s, 2);
        json_key(&b, &f, "since"), json_col_time(&b, s, 3);
        ma_sb_putc(&b, '}');
    } else {
        ma_sb_puts(&b, "null");
    }
    sqlite3_reset(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE) goto dberr;
    ma_sb_putc(&b, '}');
    ok = 1;
    goto out;
dberr:
    db_error(h, err, "reading an execution");
out:
    if (!sqlite3_get_autocommit(h->db)) exec_sql(h, "COMMIT", &(ma_error){0}, "show");
    pthread_mutex_unlock(&h->mu);
    if (!ok) {
        ma_sb_free(&b);
        return NULL;
    }
    return finish_json(&b, err);
}

/* ---- store check and repair ---- */

/* The first row of a one-column query as text into out; 0, or -1 with out holding SQLite's message. */
static int query_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        ma_strlcpy(out, sqlite3_errmsg(db), n);
        return -1;
    }
    size_t len = 0;
    int step;
    out[0] = 0;
    for (int rows = 0; (step = sqlite3_step(q)) == SQLITE_ROW && rows < 8; rows++) { /* the first lines */
        const char *t = col_text(q, 0);
        int w = snprintf(out + len, n - len, "%s%s", rows ? "; " : "", t ? t : "");
        if (w < 0 || (size_t)w >= n - len) break;
        len += (size_t)w;
    }
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
    if (rc < 0) ma_strlcpy(out, sqlite3_errmsg(db), n);
    sqlite3_finalize(q);
    return rc;
}

static int64_t db_int(sqlite3 *db, const char *sql, int *ok)
{
    char t[64];
    *ok = query_text(db, sql, t, sizeof t) == 0;
    return *ok ? strtoll(t, NULL, 10) : 0;
}

int ma_history_inspect(const char *data_dir, int full, ma_history_report *r, ma_error *err)
{
    memset(r, 0, sizeof *r);
    if (ma_sqlite_load(err) < 0) return -1;
    char *path = ma_asprintf("%s/history.db", data_dir), *wal = ma_asprintf("%s/history.db-wal", data_dir);
    if (!path || !wal) {
        free(path);
        free(wal);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    struct stat st;
    r->ok = 1;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT) {
            r->ok = 0;
            snprintf(r->problem, sizeof r->problem, "%s cannot be looked at: %s", path, strerror(errno));
        } else if (access(data_dir, F_OK) == 0 && access(data_dir, W_OK) != 0) {
            r->ok = 0;
            snprintf(r->problem, sizeof r->problem,
                     "the data folder %s is not writable by this user (uid %u): no history can be made there: %s",
                     data_dir, (unsigned)getuid(), strerror(errno));
        }
        r->writable = r->ok;
        goto out;
    }
    r->exists = 1;
    r->file_size = (uint64_t)st.st_size;
    if (stat(wal, &st) == 0) r->wal_size = (uint64_t)st.st_size;
    r->writable = access(path, R_OK | W_OK) == 0 && access(data_dir, W_OK) == 0;
    if (!r->writable) {
        r->ok = 0;
        snprintf(r->problem, sizeof r->problem, "%s or its folder is not writable by this user (uid %u): %s", path,
                 (unsigned)getuid(), strerror(errno));
    }
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READONLY; /* a -wal is read, never checkpointed into the file */
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        r->ok = 0;
        snprintf(r->problem, sizeof r->problem, "%s cannot be opened: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        goto out;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    int ok;
    if (query_text(db, full ? "PRAGMA integrity_check" : "PRAGMA quick_check", r->integrity, sizeof r->integrity) < 0 ||
        strcmp(r->integrity, "ok") != 0) {
        if (r->ok) snprintf(r->problem, sizeof r->problem, "%s is damaged: %s", path, r->integrity);
        r->ok = 0;
    }
    r->schema_version = db_int(db, "PRAGMA user_version", &ok);
    if (r->ok && r->schema_version > SCHEMA_VERSION) {
        r->ok = 0;
        snprintf(r->problem, sizeof r->problem, "%s has schema version %lld, newer than this miniatom's (%d)", path,
                 (long long)r->schema_version, SCHEMA_VERSION);
    }
    int64_t tables = db_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &ok);
    if (r->ok && r->schema_version == 0 && tables > 0) {
        r->ok = 0;
        snprintf(r->problem, sizeof r->problem, "%s is a SQLite database but not an execution history", path);
    }
    int64_t pages = db_int(db, "PRAGMA page_count", &ok), free_pages = db_int(db, "PRAGMA freelist_count", &ok);
    int64_t page_size = db_int(db, "PRAGMA page_size", &ok);
    r->used = pages > free_pages ? (uint64_t)(pages - free_pages) * (uint64_t)page_size : 0;
    if (r->schema_version == SCHEMA_VERSION) {
        r->executions = db_int(db, "SELECT count(*) FROM executions", &ok);
        r->running = db_int(db, "SELECT count(*) FROM executions WHERE status = 'STARTED'", &ok);
        r->with_payloads = db_int(db, "SELECT count(*) FROM executions WHERE payloads IN (1, 3, 4)", &ok);
        r->documents = db_int(db, "SELECT count(*) FROM documents", &ok);
        r->callbacks = db_int(db, "SELECT count(*) FROM callbacks", &ok);
        r->oldest_ms = db_int(db, "SELECT coalesce(min(started_ms), 0) FROM executions", &ok);
        r->newest_ms = db_int(db, "SELECT coalesce(max(started_ms), 0) FROM executions", &ok);
    }
    sqlite3_close(db);
out:
    free(path);
    free(wal);
    return 0;
}

/* DATA/history.db.corrupt-YYYYMMDDTHHMMSSZ (with -N when taken) into out. */
static void aside_name(const char *path, char *out, size_t n)
{
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, n, "%s.corrupt-%s", path, ts);
    for (int i = 2; access(out, F_OK) == 0 && i < 1000; i++) snprintf(out, n, "%s.corrupt-%s-%d", path, ts, i);
}

/* Copies what can be read of the old file (attached as "old") into h's, table by table. */
static void salvage(ma_history *h, const char *old, ma_history_salvage *out)
{
    static const struct {
        const char *table, *sql;
    } copies[] = {
        {"executions", "INSERT OR IGNORE INTO main.executions SELECT * FROM old.executions"},
        {"shape_counts", "INSERT OR IGNORE INTO main.shape_counts SELECT * FROM old.shape_counts"
                         " WHERE exec IN (SELECT rid FROM main.executions)"},
        {"log", "INSERT OR IGNORE INTO main.log SELECT * FROM old.log WHERE exec IN (SELECT rid FROM main.executions)"},
        {"documents", "INSERT OR IGNORE INTO main.documents SELECT * FROM old.documents"
                      " WHERE exec IN (SELECT rid FROM main.executions)"},
        {"callbacks", "INSERT OR IGNORE INTO main.callbacks SELECT * FROM old.callbacks"},
        {"settings", "INSERT OR REPLACE INTO main.settings SELECT * FROM old.settings"},
    };
    int64_t *counts[] = {&out->executions, &out->shape_counts, &out->log, &out->documents, &out->callbacks, NULL};
    ma_sb note;
    ma_sb_init(&note);
    char *sql = ma_asprintf("ATTACH DATABASE '%s' AS old", old); /* old has no quote: aside_name made it */
    ma_error e;
    if (!sql || strchr(old, '\'') || exec_sql(h, sql, &e, "reading the old file") < 0) {
        ma_sb_printf(&note, "nothing could be read: %s", sql ? sqlite3_errmsg(h->db) : "out of memory");
    } else {
        int ok;
        int64_t v = query_int(h, "PRAGMA old.user_version", -1, &ok);
        if (!ok || v != SCHEMA_VERSION) {
            ma_sb_printf(&note, "nothing could be read: %s",
                         !ok ? sqlite3_errmsg(h->db) : "its schema version is not this miniatom's");
        } else {
            for (size_t i = 0; i < sizeof copies / sizeof *copies; i++) {
                if (exec_sql(h, "SAVEPOINT salvage", &e, "salvage") < 0) break;
                if (exec_sql(h, copies[i].sql, &e, copies[i].table) < 0) {
                    exec_sql(h, "ROLLBACK TO salvage", &(ma_error){0}, "salvage");
                    ma_sb_printf(&note, "%stable %s could not be read (%s)", note.len ? "; " : "", copies[i].table,
                                 sqlite3_errmsg(h->db));
                } else if (counts[i]) {
                    *counts[i] = sqlite3_changes(h->db);
                }
                exec_sql(h, "RELEASE salvage", &(ma_error){0}, "salvage");
            }
        }
        exec_sql(h, "DETACH DATABASE old", &(ma_error){0}, "salvage");
    }
    h->fault = MA_HISTORY_OK; /* a failed read of the old file says nothing of the new one */
    if (!note.oom && note.s) ma_strlcpy(out->note, note.s, sizeof out->note);
    ma_sb_free(&note);
    free(sql);
}

int ma_history_repair(const char *data_dir, ma_history_salvage *out, ma_error *err)
{
    memset(out, 0, sizeof *out);
    if (ma_sqlite_load(err) < 0) return -1;
    char *path = ma_asprintf("%s/history.db", data_dir);
    if (!path) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    int rc = 0;
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    int db_there = access(path, F_OK) == 0, wal_only = !db_there && access(wal, F_OK) == 0;
    if (db_there || wal_only) { /* left-over -wal and -shm files belong to no new history either */
        aside_name(path, out->aside, sizeof out->aside);
        if (db_there && rename(path, out->aside) < 0) {
            rc = ma_error_set(err, MA_ERR_IO, "%s cannot be moved to %s: %s", path, out->aside, strerror(errno));
            out->aside[0] = 0;
        }
        static const char *const sides[] = {"-wal", "-shm"}; /* they belong to it */
        for (size_t i = 0; rc == 0 && i < 2; i++) {
            char from[4200], to[4200];
            snprintf(from, sizeof from, "%s%s", path, sides[i]);
            snprintf(to, sizeof to, "%s%s", out->aside, sides[i]);
            if (rename(from, to) < 0 && errno != ENOENT)
                rc = ma_error_set(err, MA_ERR_IO, "%s cannot be moved to %s: %s", from, to, strerror(errno));
        }
    }
    ma_history *h = rc == 0 ? ma_history_open(data_dir, NULL, err) : NULL;
    if (rc == 0 && !h) {
        ma_error_prefix(err, "a fresh history could not be made");
        rc = -1;
    }
    if (h && out->aside[0] && db_there) {
        pthread_mutex_lock(&h->mu);
        salvage(h, out->aside, out);
        pthread_mutex_unlock(&h->mu);
    } else if (h && wal_only) {
        snprintf(out->note, sizeof out->note,
                 "there was no history.db, only its -wal and -shm files (moved with the name above)");
    }
    ma_history_close(h);
    free(path);
    return rc;
}
