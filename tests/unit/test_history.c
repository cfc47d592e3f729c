/* test_history.c - the execution history (history.c): begin/end with payloads, bounds on documents,
 * bridge mode without payloads, crash recovery (STARTED -> ABORTED, live handles untouched), pending
 * callbacks across reopen, purge by age and by size, the list/show JSON, 8 threads recording at
 * once, faults (the file deleted or replaced under an open handle), store check and repair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "executor.h"
#include "history.h"
#include "process.h"
#include "util.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/miniatom-test-history-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* a fresh data folder per test */
static char data[128];
static int fresh(void **state)
{
    (void)state;
    static int n;
    snprintf(data, sizeof data, "%s/d%d", dir, ++n);
    return 0;
}

/* ---- a fake process of three shapes and results ---- */

static ma_component comp = {.id = "proc-1", .name = "Order Sync"};
static ma_shape shapes[3] = {
    {.name = "shape1", .label = "Start", .type_name = "start"},
    {.name = "shape2", .label = "Set props", .type_name = "documentproperties"},
    {.name = "shape3", .label = "", .type_name = "returndocuments"},
};
static ma_process proc = {.comp = &comp, .shapes = shapes, .n_shapes = 3};

static ma_doc *doc(const char *text, const char *prop, const char *value)
{
    ma_doc *d = ma_doc_new(text, strlen(text));
    assert_non_null(d);
    if (prop) assert_int_equal(ma_doc_set_prop(&d, prop, value), 0);
    return d;
}

static void make_result(ma_result *res, const char *id, ma_status status, size_t n_docs)
{
    memset(res, 0, sizeof *res);
    res->status = status;
    snprintf(res->execution_id, sizeof res->execution_id, "%s", id);
    res->message = status == MA_STATUS_COMPLETE ? NULL : ma_strdup("it went wrong");
    ma_batch_init(&res->docs);
    for (size_t i = 0; i < n_docs; i++) {
        char text[32];
        snprintf(text, sizeof text, "result %zu", i + 1);
        ma_batch_push(&res->docs, doc(text, "dynamicdocument.DDP_N", "v"));
    }
    res->n_counts = 3;
    res->counts = calloc(3, sizeof *res->counts);
    res->counts[0] = 1, res->counts[1] = 2, res->counts[2] = n_docs;
    res->n_log = 2;
    res->log = calloc(2, sizeof *res->log);
    res->log[0] = (ma_log_entry){MA_LOG_INFO, ma_strdup("shape2"), ma_strdup("hello"), "2026-11-23T10:00:00.000Z"};
    res->log[1] = (ma_log_entry){MA_LOG_ERROR, ma_strdup(""), ma_strdup("bad \x01 \xff"), "2026-11-23T10:00:01.000Z"};
    res->duration_ns = 12500000; /* 12.5 ms */
}

static ma_history *open_h(const ma_history_opts *o)
{
    ma_error err;
    ma_error_clear(&err);
    ma_history *h = ma_history_open(data, o, &err);
    if (!h) fail_msg("open: %s", err.msg);
    return h;
}

static json_t *show(ma_history *h, const char *id)
{
    ma_error err;
    char *text = ma_history_show_json(h, id, &err);
    if (!text) fail_msg("show %s: %s", id, err.msg);
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v) fail_msg("show gave bad JSON (%s): %s", je.text, text);
    free(text);
    return v;
}

static json_t *list(ma_history *h, const char *process, const char *status, size_t last)
{
    ma_error err;
    char *text = ma_history_list_json(h, process, status, last, &err);
    if (!text) fail_msg("list: %s", err.msg);
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    free(text);
    json_t *a = json_incref(json_object_get(v, "executions"));
    json_decref(v);
    assert_true(json_is_array(a));
    return a;
}

static const char *s_of(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static json_int_t i_of(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

static void begin(ma_history *h, const char *id, const ma_batch *in, int payloads)
{
    ma_error err;
    if (ma_history_begin(h, id, "proc-1", "Order Sync", payloads ? "general" : "bridge", "wss", in, payloads, &err) < 0)
        fail_msg("begin %s: %s", id, err.msg);
}

static void end(ma_history *h, const char *id, ma_status st, size_t n_docs, int payloads)
{
    ma_result res;
    make_result(&res, id, st, n_docs);
    ma_error err;
    if (ma_history_end(h, id, &proc, &res, payloads, &err) < 0) fail_msg("end %s: %s", id, err.msg);
    ma_result_free(&res);
}

/* ---- tests ---- */

static void test_begin_end(void **state)
{
    (void)state;
    ma_history *h = open_h(NULL);
    ma_batch in;
    ma_batch_init(&in);
    ma_batch_push(&in, doc("{\"order\":1}", "connector.wss.method", "POST"));
    ma_batch_push(&in, ma_doc_new("\x00\x01\x02\xff", 4)); /* binary, with a NUL */
    begin(h, "execution-a", &in, 1);
    ma_batch_clear(&in);

    json_t *r = show(h, "execution-a");
    assert_string_equal(s_of(r, "status"), "STARTED");
    assert_true(json_is_null(json_object_get(r, "endTime")));
    assert_int_equal(i_of(r, "inputCount"), 2);
    json_decref(r);

    ma_error err;
    assert_int_equal(ma_history_begin(h, "execution-a", "p", "P", "general", "", NULL, 1, &err), -1); /* twice */
    assert_non_null(strstr(err.msg, "already recorded"));

    end(h, "execution-a", MA_STATUS_COMPLETE_WARN, 2, 1);
    r = show(h, "execution-a");
    assert_string_equal(s_of(r, "executionId"), "execution-a");
    assert_string_equal(s_of(r, "processId"), "proc-1");
    assert_string_equal(s_of(r, "processName"), "Order Sync");
    assert_string_equal(s_of(r, "mode"), "general");
    assert_string_equal(s_of(r, "trigger"), "wss");
    assert_string_equal(s_of(r, "status"), "COMPLETE_WARN");
    assert_string_equal(s_of(r, "message"), "it went wrong");
    assert_non_null(s_of(r, "startTime"));
    assert_non_null(s_of(r, "endTime"));
    assert_true(json_number_value(json_object_get(r, "durationMs")) == 12.5);
    assert_int_equal(i_of(r, "resultCount"), 2);
    assert_true(json_is_true(json_object_get(r, "payloads")));
    json_t *sh = json_object_get(r, "shapes");
    assert_int_equal(json_array_size(sh), 3);
    assert_string_equal(s_of(json_array_get(sh, 1), "shape"), "shape2");
    assert_string_equal(s_of(json_array_get(sh, 1), "type"), "documentproperties");
    assert_string_equal(s_of(json_array_get(sh, 1), "label"), "Set props");
    assert_int_equal(i_of(json_array_get(sh, 1), "documents"), 2);
    json_t *log = json_object_get(r, "log");
    assert_int_equal(json_array_size(log), 2);
    assert_string_equal(s_of(json_array_get(log, 0), "level"), "INFO");
    assert_string_equal(s_of(json_array_get(log, 0), "shape"), "shape2");
    assert_string_equal(s_of(json_array_get(log, 1), "message"), "bad \x01 \xef\xbf\xbd"); /* not UTF-8 -> U+FFFD */
    json_t *ins = json_object_get(r, "inputs");
    assert_int_equal(json_array_size(ins), 2);
    assert_string_equal(s_of(json_array_get(ins, 0), "encoding"), "text");
    assert_string_equal(s_of(json_array_get(ins, 0), "data"), "{\"order\":1}");
    assert_string_equal(s_of(json_object_get(json_array_get(ins, 0), "properties"), "connector.wss.method"), "POST");
    assert_string_equal(s_of(json_array_get(ins, 1), "encoding"), "base64");
    assert_string_equal(s_of(json_array_get(ins, 1), "data"), "AAEC/w==");
    assert_int_equal(i_of(json_array_get(ins, 1), "size"), 4);
    json_t *outs = json_object_get(r, "results");
    assert_int_equal(json_array_size(outs), 2);
    assert_string_equal(s_of(json_array_get(outs, 1), "data"), "result 2");
    assert_string_equal(s_of(json_object_get(json_array_get(outs, 1), "properties"), "dynamicdocument.DDP_N"), "v");
    assert_true(json_is_false(json_object_get(json_array_get(outs, 1), "truncated")));
    assert_true(json_is_null(json_object_get(r, "pendingCallback")));
    json_decref(r);

    /* an end recorded again replaces the first */
    end(h, "execution-a", MA_STATUS_COMPLETE, 1, 1);
    r = show(h, "execution-a");
    assert_string_equal(s_of(r, "status"), "COMPLETE");
    assert_true(json_is_null(json_object_get(r, "message")));
    assert_int_equal(json_array_size(json_object_get(r, "results")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "inputs")), 2);
    json_decref(r);

    /* an end without a begin is recorded all the same */
    end(h, "execution-b", MA_STATUS_ERROR, 0, 0);
    r = show(h, "execution-b");
    assert_string_equal(s_of(r, "status"), "ERROR");
    assert_string_equal(s_of(r, "processName"), "Order Sync");
    json_decref(r);

    /* unknown */
    assert_null(ma_history_show_json(h, "execution-nope", &err));
    assert_int_equal(err.code, MA_ERR_REF);
    ma_history_close(h);

    struct stat st;
    char path[256];
    snprintf(path, sizeof path, "%s/history.db", data);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0); /* payloads and tokens: owner only */
}

static void test_bounds(void **state)
{
    (void)state;
    ma_history_opts o = {.purge_days = 30, .max_doc_bytes = 10, .max_docs = 2};
    ma_history *h = open_h(&o);
    ma_batch in;
    ma_batch_init(&in);
    ma_batch_push(&in, doc("0123456789abcdefghijklmno", NULL, NULL));                        /* 25 bytes -> 10 */
    ma_batch_push(&in, doc("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL, NULL)); /* 12 bytes of é */
    ma_batch_push(&in, doc("third", NULL, NULL));
    ma_batch_push(&in, doc("fourth", NULL, NULL));
    ma_batch_push(&in, doc("fifth", NULL, NULL));
    begin(h, "execution-big", &in, 1);
    ma_batch_clear(&in);
    end(h, "execution-big", MA_STATUS_COMPLETE, 5, 1);
    json_t *r = show(h, "execution-big");
    json_t *ins = json_object_get(r, "inputs");
    assert_int_equal(json_array_size(ins), 2);
    assert_int_equal(i_of(r, "inputCount"), 5);
    assert_int_equal(i_of(r, "inputsOmitted"), 3);
    assert_string_equal(s_of(json_array_get(ins, 0), "data"), "0123456789");
    assert_int_equal(i_of(json_array_get(ins, 0), "size"), 25);
    assert_true(json_is_true(json_object_get(json_array_get(ins, 0), "truncated")));
    /* cut at a character boundary: 10 bytes of é pairs is 5 characters, still text */
    assert_string_equal(s_of(json_array_get(ins, 1), "encoding"), "text");
    assert_string_equal(s_of(json_array_get(ins, 1), "data"), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    assert_int_equal(json_array_size(json_object_get(r, "results")), 2);
    assert_int_equal(i_of(r, "resultCount"), 5);
    assert_int_equal(i_of(r, "resultsOmitted"), 3);
    json_decref(r);
    ma_history_close(h);

    /* a later opener without options keeps the bounds the server set */
    h = open_h(NULL);
    ma_batch_init(&in);
    ma_batch_push(&in, doc("0123456789abcdefghijklmno", NULL, NULL));
    ma_batch_push(&in, doc("x", NULL, NULL));
    ma_batch_push(&in, doc("y", NULL, NULL));
    begin(h, "execution-big2", &in, 1);
    ma_batch_clear(&in);
    r = show(h, "execution-big2");
    assert_int_equal(json_array_size(json_object_get(r, "inputs")), 2);
    assert_string_equal(s_of(json_array_get(json_object_get(r, "inputs"), 0), "data"), "0123456789");
    json_decref(r);
    ma_history_close(h);
}

/* history.max_payload_bytes and history.payload_bytes_per_minute (history_budget.h): what does not
 * fit is not recorded, the execution is, and its record says why */
static void test_payload_budgets(void **state)
{
    (void)state;
    ma_history_opts o = {.purge_days = 30,
                         .max_doc_bytes = 1 << 20,
                         .max_docs = 1000,
                         .max_payload_bytes = 30,
                         .payload_bytes_per_minute = 50};
    ma_history *h = open_h(&o);
    ma_batch in;
    ma_batch_init(&in);
    ma_batch_push(&in, doc("0123456789", NULL, NULL));
    ma_batch_push(&in, doc("abcdefghij", NULL, NULL));
    begin(h, "execution-b1", &in, 1);                 /* 20 bytes: both fit */
    end(h, "execution-b1", MA_STATUS_COMPLETE, 2, 1); /* "result 1" fits (28), "result 2" not (36 > 30) */
    json_t *r = show(h, "execution-b1");
    assert_string_equal(s_of(r, "status"), "COMPLETE");
    assert_int_equal(json_array_size(json_object_get(r, "inputs")), 2);
    assert_int_equal(json_array_size(json_object_get(r, "results")), 1);
    assert_int_equal(i_of(r, "resultCount"), 2);
    assert_true(json_is_true(json_object_get(r, "payloads")));
    assert_non_null(strstr(s_of(r, "payloadsDropped"), "history.max_payload_bytes"));
    json_decref(r);

    begin(h, "execution-b2", &in, 1);                 /* the minute: 28 + 20 = 48 of 50 */
    end(h, "execution-b2", MA_STATUS_COMPLETE, 1, 1); /* 8 more: over the minute */
    r = show(h, "execution-b2");
    assert_int_equal(json_array_size(json_object_get(r, "inputs")), 2);
    assert_int_equal(json_array_size(json_object_get(r, "results")), 0);
    assert_non_null(strstr(s_of(r, "payloadsDropped"), "history.payload_bytes_per_minute"));
    json_decref(r);

    begin(h, "execution-b3", &in, 1); /* nothing fits any more this minute */
    end(h, "execution-b3", MA_STATUS_COMPLETE, 1, 1);
    r = show(h, "execution-b3");
    assert_string_equal(s_of(r, "status"), "COMPLETE");
    assert_int_equal(i_of(r, "inputCount"), 2);
    assert_int_equal(json_array_size(json_object_get(r, "inputs")), 0);
    assert_non_null(strstr(s_of(r, "payloadsDropped"), "per_minute"));
    json_decref(r);

    begin(h, "execution-b4", &in, 0); /* bridge: no payloads, nothing dropped */
    end(h, "execution-b4", MA_STATUS_COMPLETE, 1, 0);
    r = show(h, "execution-b4");
    assert_null(json_object_get(r, "payloadsDropped"));
    json_decref(r);
    ma_batch_clear(&in);
    ma_history_close(h);
}

static void test_bridge_without_payloads(void **state)
{
    (void)state;
    ma_history *h = open_h(NULL);
    ma_batch in;
    ma_batch_init(&in);
    ma_batch_push(&in, doc("secret payload", "p", "v"));
    begin(h, "execution-bridge", &in, 0);
    ma_batch_clear(&in);
    end(h, "execution-bridge", MA_STATUS_COMPLETE, 2, 0);
    json_t *r = show(h, "execution-bridge");
    assert_string_equal(s_of(r, "mode"), "bridge");
    assert_string_equal(s_of(r, "status"), "COMPLETE");
    assert_true(json_is_false(json_object_get(r, "payloads")));
    assert_int_equal(i_of(r, "inputCount"), 1);
    assert_int_equal(i_of(r, "resultCount"), 2);
    assert_int_equal(json_array_size(json_object_get(r, "inputs")), 0);
    assert_int_equal(json_array_size(json_object_get(r, "results")), 0);
    assert_int_equal(json_array_size(json_object_get(r, "shapes")), 3);
    assert_int_equal(json_array_size(json_object_get(r, "log")), 2);
    json_decref(r);
    ma_batch_init(&in);
    ma_batch_push(&in, doc("visible payload", "p", "v"));
    begin(h, "execution-general", &in, 1);
    ma_batch_clear(&in);
    ma_history_close(h);
    /* nothing of the bridge payload is in the files; the general one is (the check can see) */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cat '%s/history.db' '%s/history.db-wal' 2>/dev/null | grep -q '%s payload'", data, data,
             "secret");
    assert_int_not_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "cat '%s/history.db' '%s/history.db-wal' 2>/dev/null | grep -q '%s payload'", data, data,
             "visible");
    assert_int_equal(system(cmd), 0);
}

static ma_history *child_handle;

static void test_crash_recovery(void **state)
{
    (void)state;
    /* begin without end, close, reopen */
    ma_history *h = open_h(NULL);
    begin(h, "execution-left", NULL, 1);
    ma_history_close(h);
    h = open_h(NULL);
    json_t *r = show(h, "execution-left");
    assert_string_equal(s_of(r, "status"), "ABORTED");
    assert_string_equal(s_of(r, "message"), "the runtime stopped while it ran");
    assert_non_null(s_of(r, "endTime"));
    json_decref(r);
    ma_history_close(h);

    /* a process killed while it runs an execution (no close at all) */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ma_error err;
        child_handle = ma_history_open(data, NULL, &err);
        if (!child_handle ||
            ma_history_begin(child_handle, "execution-killed", "p", "P", "general", "", NULL, 1, &err) < 0)
            _exit(1);
        /* kill -9: nothing is closed, nothing is flushed (through a shell, so that valgrind
         * does not report the handle it never closed) */
        execl("/bin/sh", "sh", "-c", "kill -9 $$", (char *)NULL);
        _exit(2);
    }
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);

    /* a live handle's execution is left alone by another opener */
    ma_history *live = open_h(NULL); /* this open recovers the killed one */
    begin(live, "execution-running", NULL, 1);
    h = open_h(NULL);
    r = show(h, "execution-killed");
    assert_string_equal(s_of(r, "status"), "ABORTED");
    json_decref(r);
    r = show(h, "execution-running");
    assert_string_equal(s_of(r, "status"), "STARTED");
    json_decref(r);
    json_t *a = list(h, NULL, "started", 0);
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    ma_history_close(h);
    end(live, "execution-running", MA_STATUS_COMPLETE, 1, 1);
    ma_history_close(live);
    h = open_h(NULL);
    r = show(h, "execution-running");
    assert_string_equal(s_of(r, "status"), "COMPLETE");
    json_decref(r);
    ma_history_close(h);
}

static void test_callbacks(void **state)
{
    (void)state;
    ma_history *h = open_h(NULL);
    ma_error err;
    ma_pending_callback cb1 = {"execution-1", "https://flow.example/callback", "tenant-1", "tok-1", "state-1"};
    ma_pending_callback cb2 = {"execution-2", "https://flow.example/callback", "tenant-2", "tok-2", NULL};
    ma_pending_callback cb3 = {"execution-3", "https://flow.example/cb3", "tenant-3", "tok-3", "state-3"};
    assert_int_equal(ma_history_callback_add(h, &cb1, &err), 0);
    assert_int_equal(ma_history_callback_add(h, &cb2, &err), 0);
    assert_int_equal(ma_history_callback_add(h, &cb3, &err), 0);
    assert_int_equal(ma_history_callback_done(h, "execution-3", &err), 0);
    assert_int_equal(ma_history_callback_done(h, "execution-unknown", &err), 0);
    begin(h, "execution-1", NULL, 1); /* shown with its pending callback, without the token */
    ma_history_close(h);

    h = open_h(NULL);
    ma_pending_callback *cbs;
    size_t n;
    assert_int_equal(ma_history_callbacks(h, &cbs, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(cbs[0].exec_id, "execution-1");
    assert_string_equal(cbs[0].callback_uri, "https://flow.example/callback");
    assert_string_equal(cbs[0].tenant, "tenant-1");
    assert_string_equal(cbs[0].token, "tok-1");
    assert_string_equal(cbs[0].state_id, "state-1");
    assert_string_equal(cbs[1].exec_id, "execution-2");
    assert_null(cbs[1].state_id);
    ma_pending_callbacks_free(cbs, n);
    json_t *r = show(h, "execution-1");
    assert_string_equal(s_of(r, "status"), "ABORTED");
    json_t *pc = json_object_get(r, "pendingCallback");
    assert_string_equal(s_of(pc, "tenant"), "tenant-1");
    assert_null(json_object_get(pc, "token"));
    json_decref(r);
    assert_int_equal(ma_history_callback_done(h, "execution-1", &err), 0);
    assert_int_equal(ma_history_callback_done(h, "execution-2", &err), 0);
    ma_history_close(h);
    h = open_h(NULL);
    assert_int_equal(ma_history_callbacks(h, &cbs, &n, &err), 0);
    assert_int_equal(n, 0);
    ma_pending_callbacks_free(cbs, n);
    ma_history_close(h);
}

static void age(const char *id, int days)
{
    char path[256], sql[256];
    snprintf(path, sizeof path, "%s/history.db", data);
    snprintf(sql, sizeof sql, "UPDATE executions SET started_ms = started_ms - %d * 86400000 WHERE id = '%s'", days,
             id);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

static size_t count_rows(const char *table)
{
    char path[256], sql[128];
    snprintf(path, sizeof path, "%s/history.db", data);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void test_purge_by_age(void **state)
{
    (void)state;
    ma_history_opts keep = {.purge_days = 0, .max_doc_bytes = 1 << 20, .max_docs = 100};
    ma_history *h = open_h(&keep);
    ma_batch in;
    ma_batch_init(&in);
    ma_batch_push(&in, doc("payload", NULL, NULL));
    const char *ids[] = {"execution-old", "execution-week", "execution-new", "execution-old-running"};
    for (int i = 0; i < 4; i++) {
        begin(h, ids[i], &in, 1);
        if (i < 3) end(h, ids[i], MA_STATUS_COMPLETE, 1, 1);
    }
    ma_batch_clear(&in);
    age("execution-old", 40);
    age("execution-week", 6);
    age("execution-old-running", 40);
    ma_history_close(h); /* its running execution becomes ABORTED: give it a live owner instead */
    h = open_h(&keep);
    begin(h, "execution-old-running2", NULL, 1);
    age("execution-old-running2", 40);
    ma_history *h0 = open_h(&keep); /* purge_days 0: nothing goes */
    json_t *a = list(h0, NULL, NULL, 0);
    assert_int_equal(json_array_size(a), 5);
    json_decref(a);
    ma_history_close(h0);

    ma_history_opts week = {.purge_days = 7, .max_doc_bytes = 1 << 20, .max_docs = 100};
    ma_history *h7 = open_h(&week);
    a = list(h7, NULL, NULL, 0);
    assert_int_equal(json_array_size(a), 3); /* the 6-day-old, the new and the one still running */
    json_decref(a);
    ma_error err;
    assert_null(ma_history_show_json(h7, "execution-old", &err));
    json_t *r = show(h7, "execution-old-running2");
    assert_string_equal(s_of(r, "status"), "STARTED");
    json_decref(r);
    ma_history_close(h7);
    end(h, "execution-old-running2", MA_STATUS_COMPLETE, 0, 1);
    ma_history_close(h);
    /* the documents, counts and log of purged executions went with them */
    assert_int_equal(count_rows("documents"), 4); /* week and new: one in, one out each */
    assert_int_equal(count_rows("shape_counts"), 9);
}

static void test_list_and_show_json(void **state)
{
    (void)state;
    ma_history *h = open_h(NULL);
    ma_error err;
    for (int i = 0; i < 5; i++) {
        char id[32];
        snprintf(id, sizeof id, "execution-%d", i);
        const char *pid = i % 2 ? "proc-odd" : "proc-even";
        assert_int_equal(ma_history_begin(h, id, pid, i % 2 ? "Odd" : "Even", "general", "fss", NULL, 1, &err), 0);
        if (i != 4) end(h, id, i == 3 ? MA_STATUS_ERROR : MA_STATUS_COMPLETE, 1, 1);
        usleep(2000); /* distinct start times */
    }
    json_t *a = list(h, NULL, NULL, 0);
    assert_int_equal(json_array_size(a), 5);
    assert_string_equal(s_of(json_array_get(a, 0), "executionId"), "execution-4"); /* newest first */
    assert_string_equal(s_of(json_array_get(a, 4), "executionId"), "execution-0");
    json_t *e = json_array_get(a, 0);
    assert_string_equal(s_of(e, "status"), "STARTED");
    assert_true(json_is_null(json_object_get(e, "durationMs")));
    assert_true(json_is_null(json_object_get(e, "resultCount")));
    e = json_array_get(a, 1);
    assert_string_equal(s_of(e, "processId"), "proc-odd");
    assert_string_equal(s_of(e, "processName"), "Odd");
    assert_string_equal(s_of(e, "mode"), "general");
    assert_string_equal(s_of(e, "trigger"), "fss");
    assert_string_equal(s_of(e, "status"), "ERROR");
    assert_int_equal(i_of(e, "inputCount"), 0);
    assert_int_equal(i_of(e, "resultCount"), 1);
    assert_true(json_is_real(json_object_get(e, "durationMs")));
    const char *t = s_of(e, "startTime");
    assert_non_null(t);
    assert_int_equal(strlen(t), 24); /* 2026-11-23T10:00:00.000Z */
    assert_int_equal(t[23], 'Z');
    json_decref(a);

    a = list(h, "Odd", NULL, 0); /* by name */
    assert_int_equal(json_array_size(a), 2);
    json_decref(a);
    a = list(h, "proc-even", NULL, 0); /* by id */
    assert_int_equal(json_array_size(a), 3);
    json_decref(a);
    a = list(h, NULL, "complete", 0); /* status, any case */
    assert_int_equal(json_array_size(a), 3);
    json_decref(a);
    a = list(h, "proc-even", "COMPLETE", 1);
    assert_int_equal(json_array_size(a), 1);
    assert_string_equal(s_of(json_array_get(a, 0), "executionId"), "execution-2");
    json_decref(a);
    a = list(h, "nobody", NULL, 0);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    ma_history_close(h);
}

#define THREADS 8
#define PER_THREAD 25

static void *worker(void *arg)
{
    ma_history *h = arg;
    static int next;
    int me = __atomic_fetch_add(&next, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < PER_THREAD; i++) {
        char id[64];
        snprintf(id, sizeof id, "execution-t%d-%d", me, i);
        ma_batch in;
        ma_batch_init(&in);
        ma_batch_push(&in, ma_doc_new(id, strlen(id)));
        ma_error err;
        int rc = ma_history_begin(h, id, "proc-1", "Order Sync", "general", "wss", &in, 1, &err);
        ma_batch_clear(&in);
        ma_result res;
        make_result(&res, id, MA_STATUS_COMPLETE, 1);
        if (rc == 0) rc = ma_history_end(h, id, &proc, &res, 1, &err);
        ma_result_free(&res);
        if (rc < 0) return (void *)1;
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    ma_history *h = open_h(NULL);
    ma_history *other = open_h(NULL); /* a second connection writing at the same time */
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&t[i], NULL, worker, i % 4 == 3 ? other : h), 0);
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    json_t *a = list(h, NULL, "COMPLETE", 0);
    assert_int_equal(json_array_size(a), THREADS * PER_THREAD);
    json_decref(a);
    ma_history_close(other);
    ma_history_close(h);
    assert_int_equal(count_rows("documents"), 2 * THREADS * PER_THREAD);
    assert_int_equal(count_rows("log"), 2 * THREADS * PER_THREAD);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    ma_history_close(open_h(NULL));
    char path[256];
    snprintf(path, sizeof path, "%s/history.db", data);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ma_error err;
    assert_null(ma_history_open(data, NULL, &err));
    assert_non_null(strstr(err.msg, "schema version 99"));
}


static void test_purge_by_size(void **state)
{
    (void)state;
    ma_history_opts cap = {.purge_days = 0, .max_doc_bytes = 1 << 20, .max_docs = 100, .max_size = 200 * 1024};
    ma_history *h = open_h(&cap);
    char *big = malloc(20001);
    assert_non_null(big);
    memset(big, 'p', 20000);
    big[20000] = 0;
    char id[32];
    for (int i = 0; i < 20; i++) {
        ma_batch in;
        ma_batch_init(&in);
        ma_batch_push(&in, doc(big, NULL, NULL));
        snprintf(id, sizeof id, "execution-%02d", i);
        begin(h, id, &in, 1);
        ma_batch_clear(&in);
        if (i < 19) end(h, id, MA_STATUS_COMPLETE, 1, 1);
    }
    free(big);
    ma_error err;
    uint64_t used, file;
    assert_int_equal(ma_history_size(h, &used, &file, &err), 0);
    assert_true(used > 400 * 1024);
    assert_int_equal(ma_history_purge(h, &err), 0);
    assert_int_equal(ma_history_size(h, &used, &file, &err), 0);
    assert_true(used <= 200 * 1024);
    json_t *a = list(h, NULL, NULL, 0);
    assert_int_equal(json_array_size(a), 20); /* payloads went first: every record stays */
    json_decref(a);
    json_t *r = show(h, "execution-00");
    assert_true(json_is_false(json_object_get(r, "payloads")));
    assert_true(json_is_true(json_object_get(r, "payloadsPurged")));
    assert_int_equal(json_array_size(json_object_get(r, "inputs")), 0);
    json_decref(r);
    r = show(h, "execution-18");
    assert_true(json_is_true(json_object_get(r, "payloads")));
    assert_int_equal(json_array_size(json_object_get(r, "inputs")), 1);
    json_decref(r);
    r = show(h, "execution-19"); /* running: never purged */
    assert_int_equal(json_array_size(json_object_get(r, "inputs")), 1);
    json_decref(r);
    ma_history_close(h);

    /* a cap below what the records alone take: the oldest ended records go too, running ones stay */
    ma_history_opts tiny = cap;
    tiny.max_size = 1;
    h = open_h(&tiny);
    a = list(h, NULL, NULL, 0);
    assert_int_equal(json_array_size(a), 0); /* execution-19's owner is gone: ABORTED, then purged */
    json_decref(a);
    ma_history_close(h);
}

static void move_aside(const char *suffix)
{
    char from[256], to[256];
    snprintf(from, sizeof from, "%s/history.db%s", data, suffix);
    snprintf(to, sizeof to, "%s/moved%s", data, suffix);
    rename(from, to);
}

static void test_file_deleted_or_replaced(void **state)
{
    (void)state;
    ma_history *h = open_h(NULL);
    begin(h, "execution-1", NULL, 1);
    end(h, "execution-1", MA_STATUS_COMPLETE, 1, 1);
    ma_error err;
    assert_int_equal(ma_history_check(h, &err), 0);
    assert_int_equal(ma_history_fault(h, NULL, 0), MA_HISTORY_OK);

    /* begun, then the file moved away: the end is committed to a file nobody reads, and fails */
    begin(h, "execution-2", NULL, 1);
    move_aside("");
    move_aside("-wal");
    move_aside("-shm");
    ma_result res;
    make_result(&res, "execution-2", MA_STATUS_COMPLETE, 1);
    assert_int_equal(ma_history_end(h, "execution-2", &proc, &res, 1, &err), -1);
    ma_result_free(&res);
    char why[512];
    assert_int_equal(ma_history_fault(h, why, sizeof why), MA_HISTORY_GONE);
    assert_non_null(strstr(why, "deleted"));
    /* broken: later writes fail at once, with the same reason */
    assert_int_equal(ma_history_begin(h, "execution-3", "proc-1", "Order Sync", "general", "wss", NULL, 1, &err), -1);
    assert_non_null(strstr(err.msg, "unusable"));
    assert_non_null(strstr(err.msg, "deleted"));
    ma_history_close(h);
    char path[256];
    snprintf(path, sizeof path, "%s/history.db", data);
    assert_int_equal(access(path, F_OK), -1); /* closing made no new file */

    /* a history opened, then another file put in its place */
    h = open_h(NULL);
    ma_history *h2 = open_h(NULL); /* the same file: both see it */
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/other", data);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("something else", f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
    assert_int_equal(ma_history_check(h, &err), -1);
    assert_int_equal(ma_history_fault(h, why, sizeof why), MA_HISTORY_REPLACED);
    assert_int_equal(ma_history_begin(h2, "execution-4", "proc-1", "Order Sync", "general", "wss", NULL, 1, &err), -1);
    assert_int_equal(ma_history_fault(h2, NULL, 0), MA_HISTORY_REPLACED);
    ma_history_close(h);
    ma_history_close(h2);
    /* the replacement is left as it was, and cannot be opened */
    f = fopen(path, "r");
    assert_non_null(f);
    char buf[32] = {0};
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "something else");
    assert_null(ma_history_open(data, NULL, &err));
    assert_int_equal(ma_history_open_fault(&err), MA_HISTORY_CORRUPT);
    /* must_exist: a missing history is not made */
    unlink(path);
    ma_history_opts must = {.purge_days = 30, .max_doc_bytes = 1 << 20, .max_docs = 10, .must_exist = 1};
    assert_null(ma_history_open(data, &must, &err));
    assert_int_equal(access(path, F_OK), -1);
}

static void test_inspect_and_repair(void **state)
{
    (void)state;
    ma_history_report r;
    ma_error err;
    assert_int_equal(ma_history_inspect(data, 0, &r, &err), 0); /* none yet: fine */
    assert_int_equal(r.exists, 0);
    assert_int_equal(r.ok, 1);

    ma_history *h = open_h(NULL);
    ma_batch in;
    ma_batch_init(&in);
    ma_batch_push(&in, doc("payload", NULL, NULL));
    begin(h, "execution-1", &in, 1);
    ma_batch_clear(&in);
    end(h, "execution-1", MA_STATUS_COMPLETE, 2, 1);
    ma_pending_callback cb = {"execution-1", "https://flow.example/callback", "t", "secret", "s"};
    assert_int_equal(ma_history_callback_add(h, &cb, &err), 0);
    ma_history_close(h);
    assert_int_equal(ma_history_inspect(data, 1, &r, &err), 0);
    assert_int_equal(r.ok, 1);
    assert_string_equal(r.integrity, "ok");
    assert_int_equal(r.schema_version, 1);
    assert_int_equal(r.executions, 1);
    assert_int_equal(r.documents, 3);
    assert_int_equal(r.callbacks, 1);

    /* a repair of a readable history copies everything over */
    ma_history_salvage sv;
    assert_int_equal(ma_history_repair(data, &sv, &err), 0);
    assert_non_null(strstr(sv.aside, "/history.db.corrupt-"));
    assert_int_equal(access(sv.aside, F_OK), 0);
    assert_int_equal(sv.executions, 1);
    assert_int_equal(sv.documents, 3);
    assert_int_equal(sv.callbacks, 1);
    assert_string_equal(sv.note, "");
    h = open_h(NULL);
    json_t *v = show(h, "execution-1");
    assert_string_equal(s_of(v, "status"), "COMPLETE");
    assert_int_equal(json_array_size(json_object_get(v, "results")), 2);
    json_decref(v);
    ma_history_close(h);

    /* garbage: check names it, repair sets it aside and starts afresh */
    char path[256];
    snprintf(path, sizeof path, "%s/history.db", data);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 500; i++) fputs("this is not a database\n", f);
    fclose(f);
    assert_int_equal(ma_history_inspect(data, 0, &r, &err), 0);
    assert_int_equal(r.ok, 0);
    assert_non_null(strstr(r.problem, "not a database"));
    assert_int_equal(ma_history_repair(data, &sv, &err), 0);
    assert_non_null(strstr(sv.note, "not a database"));
    assert_int_equal(sv.executions, 0);
    assert_int_equal(ma_history_inspect(data, 0, &r, &err), 0);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.executions, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_begin_end, fresh),
        cmocka_unit_test_setup(test_bounds, fresh),
        cmocka_unit_test_setup(test_bridge_without_payloads, fresh),
        cmocka_unit_test_setup(test_crash_recovery, fresh),
        cmocka_unit_test_setup(test_callbacks, fresh),
        cmocka_unit_test_setup(test_purge_by_age, fresh),
        cmocka_unit_test_setup(test_list_and_show_json, fresh),
        cmocka_unit_test_setup(test_concurrent, fresh),
        cmocka_unit_test_setup(test_newer_schema_refused, fresh),
        cmocka_unit_test_setup(test_purge_by_size, fresh),
        cmocka_unit_test_setup(test_file_deleted_or_replaced, fresh),
        cmocka_unit_test_setup(test_inspect_and_repair, fresh),
        cmocka_unit_test_setup(test_payload_budgets, fresh),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
