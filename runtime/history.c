/* history.c - the execution history (history.h): one SQLite database, DATA/history.db, in WAL mode
 * with synchronous=FULL, shared by every miniatom process on the data folder (busy timeout,
 * BEGIN IMMEDIATE write transactions) and by the threads of one (one connection, one mutex,
 * statements prepared once). Also the pending Flow callbacks and the crash recovery.
 * One file on purpose: everything that knows the schema below is here, next to it.
 *
 * Schema, version 1 (PRAGMA user_version = 1; a newer version is refused, 0 creates it):
 *   executions    one row per execution
 *     rid INTEGER PRIMARY KEY; id TEXT UNIQUE (execution-<uuid>-<yyyy.MM.dd>); process_id,
 *     process_name, mode (general | bridge | low_latency), trig ("wss", "fss", "cli" or ""),
 *     status (STARTED while it runs, then COMPLETE | COMPLETE_WARN | ERROR | ABORTED), message,
 *     started_ms, ended_ms (Unix epoch milliseconds, UTC), duration_ms REAL, docs_in, docs_out,
 *     doc_errors (documents in and out counted in full, even when fewer are recorded), payloads
 *     (1: documents recorded; 2, 3: some not, over a byte budget: history_budget.h), log_omitted (user log entries past the first 10000), owner (the
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
 *   settings      (key PRIMARY KEY, value INTEGER): purge_days, max_doc_bytes, max_docs as the
 *                 last opener that passed options set them; an opener without options uses them
 * Child rows go with their execution (ON DELETE CASCADE, foreign_keys=ON).
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
    [S_PURGE] = "DELETE FROM executions WHERE started_ms < ?1 AND status <> 'STARTED'",
    [S_ABORT_OWNER] = "UPDATE executions SET status = 'ABORTED', message = '" ABORT_MESSAGE "', ended_ms = ?2,"
                      " owner = NULL WHERE status = 'STARTED' AND owner IS ?1",
};

struct ma_history {
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *st[S_N];
    char *dir; /* the data folder */
    ma_history_opts opts;
    ma_payload_budget budget; /* from opts */
    int64_t last_purge_ms;
    char owner[37]; /* this handle's uuid: the STARTED rows it records carry it */
    int owner_fd;   /* DATA/history.db-owners/<owner>, flock'ed; -1 until the first begin */
};

/* ---- small helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int db_error(ma_history *h, ma_error *err, const char *what)
{
    int rc = sqlite3_extended_errcode(h->db);
    int code = rc == SQLITE_NOMEM ? MA_ERR_NOMEM : MA_ERR_IO;
    return ma_error_set(err, code, "execution history %s/history.db: %s: %s", h->dir, what, sqlite3_errmsg(h->db));
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
    if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
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
                 " ('max_docs', %llu)",
                 h->opts.purge_days, (unsigned long long)h->opts.max_doc_bytes, (unsigned long long)h->opts.max_docs);
        return exec_sql(h, sql, err, "saving the settings");
    }
    int ok;
    int64_t v = query_int(h, "SELECT value FROM settings WHERE key = 'purge_days'", DEFAULT_PURGE_DAYS, &ok);
    h->opts.purge_days = v < 0 || v > 1000000 ? DEFAULT_PURGE_DAYS : (int)v;
    v = query_int(h, "SELECT value FROM settings WHERE key = 'max_doc_bytes'", (int64_t)DEFAULT_MAX_DOC_BYTES, &ok);
    h->opts.max_doc_bytes = v < 0 ? DEFAULT_MAX_DOC_BYTES : (size_t)v;
    v = query_int(h, "SELECT value FROM settings WHERE key = 'max_docs'", DEFAULT_MAX_DOCS, &ok);
    h->opts.max_docs = v < 0 ? DEFAULT_MAX_DOCS : (size_t)v;
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

static int purge(ma_history *h, int64_t now, ma_error *err)
{
    h->last_purge_ms = now;
    if (h->opts.purge_days <= 0) return 0;
    sqlite3_stmt *s = stmt(h, S_PURGE);
    sqlite3_bind_int64(s, 1, now - (int64_t)h->opts.purge_days * DAY_MS);
    return run_simple(h, S_PURGE, err, "purge");
}

void ma_history_close(ma_history *h)
{
    if (!h) return;
    if (h->db && h->owner_fd >= 0 && h->st[S_ABORT_OWNER]) { /* what it still runs will never end */
        sqlite3_stmt *s = stmt(h, S_ABORT_OWNER);
        bind_text(s, 1, h->owner);
        sqlite3_bind_int64(s, 2, now_ms());
        ma_error ignored;
        run_simple(h, S_ABORT_OWNER, &ignored, "close");
    }
    for (int i = 0; i < S_N; i++) sqlite3_finalize(h->st[i]);
    if (h->db) sqlite3_close(h->db);
    if (h->owner_fd >= 0) {
        char *path = owner_path(h, h->owner);
        if (path) unlink(path);
        free(path);
        close(h->owner_fd);
    }
    pthread_mutex_destroy(&h->mu);
    free(h->dir);
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
    char *path = ma_asprintf("%s/history.db", data_dir);
    if (!path) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (ma_mkdirs(data_dir, err) < 0) goto fail;
    /* the records hold payloads and callback tokens: only the owner reads them (the -wal and -shm
     * files get the database's permissions) */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        ma_error_set(err, MA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
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
    if (exec_sql(h, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", err, "pragmas") < 0 || schema(h, err) < 0)
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
    if (settings(h, opts, err) < 0 || recover(h, err) < 0 || purge(h, now_ms(), err) < 0) goto fail;
    free(path);
    return h;
fail:
    free(path);
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
    if (now - h->last_purge_ms >= DAY_MS) {
        ma_error perr; /* a purge that fails is tried again the next day; the record matters more */
        purge(h, now, &perr);
    }
    int rc = owner_claim(h, err), why = MA_PAYLOADS_KEPT;
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
    int rc = tx_begin(h, err);
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
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* ---- pending callbacks ---- */

int ma_history_callback_add(ma_history *h, const ma_pending_callback *cb, ma_error *err)
{
    if (!h || !cb || !cb->exec_id || !*cb->exec_id)
        return ma_error_set(err, MA_ERR_USAGE, "execution history: a callback needs an execution id");
    pthread_mutex_lock(&h->mu);
    sqlite3_stmt *s = stmt(h, S_CB_ADD);
    bind_text(s, 1, cb->exec_id);
    bind_text(s, 2, cb->callback_uri);
    bind_text(s, 3, cb->tenant);
    bind_text(s, 4, cb->token);
    bind_text(s, 5, cb->state_id);
    sqlite3_bind_int64(s, 6, now_ms());
    int rc = run_simple(h, S_CB_ADD, err, "recording a callback");
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int ma_history_callback_done(ma_history *h, const char *exec_id, ma_error *err)
{
    if (!h || !exec_id) return ma_error_set(err, MA_ERR_USAGE, "execution history: no execution id");
    pthread_mutex_lock(&h->mu);
    sqlite3_stmt *s = stmt(h, S_CB_DONE);
    bind_text(s, 1, exec_id);
    int rc = run_simple(h, S_CB_DONE, err, "removing a callback");
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
    sqlite3_stmt *s = stmt(h, S_CB_LIST);
    ma_pending_callback *v = NULL;
    size_t len = 0;
    int rc = 0, step;
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
    int payloads = sqlite3_column_int(s, 13) != 0;
    const char *dropped = ma_payload_budget_why(sqlite3_column_int(s, 13));
    json_key(&b, &first, "payloads"), ma_sb_puts(&b, payloads ? "true" : "false");
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
