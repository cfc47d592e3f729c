/* test_config.c - settings and config maps (miniatom/config.h, runtime/config.c): configuration
 * files read as Boomi's container.properties with every origin "FILE:LINE", --set arguments, the
 * value grammar of every kind with its messages (a secret never repeated), key patterns, reading a
 * map into a struct; and the fields of a connection (runtime/connection.c) from the settings, the
 * environment and the component, as a connector type reads them (docs/configuration.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "builtins.h"
#include "loader.h"
#include "miniatom/miniatom.h"
#include "registry.h"

/* ---- scratch files -------------------------------------------------------------------------- */

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/ma-test-config-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes len bytes of text to tmpdir/name; the path is static until the next call. */
static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

#define WRITE(name, text) write_file(name, text, sizeof text - 1)

static void assert_contains(const char *s, const char *needle)
{
    if (!s || !strstr(s, needle)) fail_msg("'%s' does not contain '%s'", s ? s : "(null)", needle);
}

static void assert_lacks(const char *s, const char *needle)
{
    if (s && strstr(s, needle)) fail_msg("'%s' contains '%s'", s, needle);
}

/* ---- settings files ------------------------------------------------------------------------- */

static void test_file_lines_and_origins(void **state)
{
    (void)state;
    const char *path = WRITE("a.properties", "# a comment\n"
                                             "! another comment\n"
                                             "\n"
                                             "   \t\n"
                                             "  server.port =  8080  \n"
                                             "\tname\t=\tThe  Shop\t\r\n"
                                             "   # an indented comment\n"
                                             "url = http://x/?a=b=c\n"
                                             "empty =\n"
                                             "note = b # not a comment\n"
                                             "last=no newline");
    ma_settings *s = ma_settings_new();
    assert_non_null(s);
    ma_error err;
    ma_error_clear(&err);
    assert_int_equal(ma_settings_load_file(s, path, &err), 0);
    assert_int_equal(ma_settings_count(s), 6);

    char origin[300];
    assert_string_equal(ma_settings_get(s, "server.port"), "8080");
    snprintf(origin, sizeof origin, "%s:5", path);
    assert_string_equal(ma_settings_origin(s, "server.port"), origin);
    assert_string_equal(ma_settings_get(s, "name"), "The  Shop"); /* inner blanks kept, CR dropped */
    snprintf(origin, sizeof origin, "%s:6", path);
    assert_string_equal(ma_settings_origin(s, "name"), origin);
    assert_string_equal(ma_settings_get(s, "url"), "http://x/?a=b=c"); /* all after the first '=' */
    snprintf(origin, sizeof origin, "%s:8", path);
    assert_string_equal(ma_settings_origin(s, "url"), origin);
    assert_string_equal(ma_settings_get(s, "empty"), "");
    assert_string_equal(ma_settings_get(s, "note"), "b # not a comment");
    assert_string_equal(ma_settings_get(s, "last"), "no newline");
    snprintf(origin, sizeof origin, "%s:11", path);
    assert_string_equal(ma_settings_origin(s, "last"), origin);
    assert_null(ma_settings_get(s, "# a comment"));
    assert_null(ma_settings_get(s, "absent"));
    assert_null(ma_settings_origin(s, "absent"));

    /* in the order they were added */
    const char *k, *v, *o;
    assert_int_equal(ma_settings_at(s, 0, &k, &v, &o), 0);
    assert_string_equal(k, "server.port");
    assert_string_equal(v, "8080");
    assert_int_equal(ma_settings_at(s, 5, &k, NULL, NULL), 0);
    assert_string_equal(k, "last");
    assert_int_equal(ma_settings_at(s, 6, &k, &v, &o), -1);
    ma_settings_free(s);
}

static void test_file_bad_line_keeps_nothing(void **state)
{
    (void)state;
    ma_settings *s = ma_settings_new();
    ma_error err;
    assert_int_equal(ma_settings_add(s, "kept", "1", "before", &err), 0);

    const char *path = WRITE("bad.properties", "a = 1\n# c\n\nb = 2\njust words\nc = 3\n");
    char want[300];
    assert_int_equal(ma_settings_load_file(s, path, &err), -1);
    assert_int_equal(err.code, MA_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:5: expected 'key = value'", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(ma_settings_count(s), 1); /* nothing of the file, what was there stays */
    assert_null(ma_settings_get(s, "a"));
    assert_null(ma_settings_get(s, "b"));
    assert_string_equal(ma_settings_get(s, "kept"), "1");

    path = WRITE("nokey.properties", "a = 1\n  = value\n");
    assert_int_equal(ma_settings_load_file(s, path, &err), -1);
    snprintf(want, sizeof want, "%s:2: expected 'key = value'", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(ma_settings_count(s), 1);
    ma_settings_free(s);
}

static void test_file_refused(void **state)
{
    (void)state;
    ma_settings *s = ma_settings_new();
    ma_error err;
    const char *path = write_file("nul.properties", "a = 1\nb = x\0y\n", 14);
    assert_int_equal(ma_settings_load_file(s, path, &err), -1);
    assert_int_equal(err.code, MA_ERR_CONFIG);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "NUL");
    assert_int_equal(ma_settings_count(s), 0);

    char missing[300];
    snprintf(missing, sizeof missing, "%s/no-such.properties", tmpdir);
    assert_int_equal(ma_settings_load_file(s, missing, &err), -1);
    assert_contains(err.msg, missing);
    assert_int_equal(ma_settings_load_file(s, tmpdir, &err), -1); /* a directory */
    assert_contains(err.msg, tmpdir);
    assert_int_equal(ma_settings_count(s), 0);
    ma_settings_free(s);
}

static void test_add_arg(void **state)
{
    (void)state;
    ma_settings *s = ma_settings_new();
    ma_error err;
    assert_int_equal(ma_settings_add_arg(s, "  server.port = 9090 ", &err), 0);
    assert_string_equal(ma_settings_get(s, "server.port"), "9090");
    assert_string_equal(ma_settings_origin(s, "server.port"), "--set");
    assert_int_equal(ma_settings_add_arg(s, "k=a=b", &err), 0);
    assert_string_equal(ma_settings_get(s, "k"), "a=b");
    assert_int_equal(ma_settings_add_arg(s, "blank=", &err), 0);
    assert_string_equal(ma_settings_get(s, "blank"), "");

    assert_int_equal(ma_settings_add_arg(s, "nothing", &err), -1);
    assert_int_equal(err.code, MA_ERR_USAGE);
    assert_contains(err.msg, "'nothing'");
    assert_int_equal(ma_settings_add_arg(s, "=x", &err), -1);
    assert_contains(err.msg, "KEY=VALUE");
    assert_int_equal(ma_settings_add_arg(s, " \t= x", &err), -1);
    assert_int_equal(ma_settings_count(s), 3);

    assert_int_equal(ma_settings_add(s, "o", "v", NULL, &err), 0);
    assert_string_equal(ma_settings_origin(s, "o"), "--set");
    ma_settings_free(s);
}

static void test_last_value_wins(void **state)
{
    (void)state;
    const char *path = WRITE("win.properties", "a = from file\nb = only file\na = again in file\n");
    ma_settings *s = ma_settings_new();
    ma_error err;
    assert_int_equal(ma_settings_load_file(s, path, &err), 0);
    char origin[300];
    snprintf(origin, sizeof origin, "%s:3", path);
    assert_string_equal(ma_settings_get(s, "a"), "again in file");
    assert_string_equal(ma_settings_origin(s, "a"), origin);
    assert_int_equal(ma_settings_add_arg(s, "a=from set", &err), 0);
    assert_string_equal(ma_settings_get(s, "a"), "from set");
    assert_string_equal(ma_settings_origin(s, "a"), "--set");
    assert_string_equal(ma_settings_get(s, "b"), "only file");

    /* every value stays listed, in order */
    assert_int_equal(ma_settings_count(s), 4);
    const char *want[][2] = {{"a", "from file"}, {"b", "only file"}, {"a", "again in file"}, {"a", "from set"}};
    for (size_t i = 0; i < 4; i++) {
        const char *k, *v, *o;
        assert_int_equal(ma_settings_at(s, i, &k, &v, &o), 0);
        assert_string_equal(k, want[i][0]);
        assert_string_equal(v, want[i][1]);
    }
    ma_settings_free(s);

    /* NULL settings: nothing set */
    assert_null(ma_settings_get(NULL, "a"));
    assert_null(ma_settings_origin(NULL, "a"));
    assert_int_equal(ma_settings_count(NULL), 0);
    assert_int_equal(ma_settings_at(NULL, 0, NULL, NULL, NULL), -1);
}

/* ---- the value grammar ---------------------------------------------------------------------- */

static ma_config_entry entry(ma_config_kind kind)
{
    ma_config_entry e;
    memset(&e, 0, sizeof e);
    e.key = "k";
    e.kind = kind;
    return e;
}

/* Parses v as e: the number, or fails the test with why. */
static uint64_t ok(const ma_config_entry *e, const char *v)
{
    char why[300] = "";
    uint64_t n = 12345;
    if (ma_config_parse(e, v, &n, why, sizeof why) < 0) fail_msg("'%s' refused: %s", v, why);
    assert_int_equal(ma_config_check_value(e, v, why, sizeof why), 0);
    return n;
}

/* Parses v as e, which must refuse it; the message is returned (static). */
static const char *bad(const ma_config_entry *e, const char *v)
{
    static char why[600];
    why[0] = '\0';
    uint64_t n = 777;
    if (ma_config_parse(e, v, &n, why, sizeof why) == 0) fail_msg("'%s' accepted as %llu", v, (unsigned long long)n);
    assert_int_equal(n, 777); /* untouched */
    assert_true(why[0] != '\0');
    char why2[600];
    assert_int_equal(ma_config_check_value(e, v, why2, sizeof why2), -1);
    assert_string_equal(why, why2);
    return why;
}

static void test_bool(void **state)
{
    (void)state;
    ma_config_entry e = entry(MA_CONFIG_BOOL);
    const char *yes[] = {"true", "TRUE", "True", "yes", "YES", "on", "On", "1"};
    const char *no[] = {"false", "FALSE", "no", "No", "off", "OFF", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) assert_int_equal(ok(&e, yes[i]), 1);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) assert_int_equal(ok(&e, no[i]), 0);
    assert_string_equal(bad(&e, "maybe"), "expected true or false, not 'maybe'");
    bad(&e, "2");
    bad(&e, " true");
    bad(&e, "truee");
    assert_string_equal(bad(&e, ""), "a value is required");
}

static void test_uint(void **state)
{
    (void)state;
    ma_config_entry e = entry(MA_CONFIG_UINT);
    assert_int_equal(ok(&e, "0"), 0);
    assert_int_equal(ok(&e, "42"), 42);
    assert_int_equal(ok(&e, "007"), 7);
    assert_true(ok(&e, "18446744073709551615") == UINT64_MAX);
    assert_string_equal(bad(&e, "18446744073709551616"), "expected a whole number, not '18446744073709551616'");
    assert_string_equal(bad(&e, "-1"), "expected a whole number, not '-1'");
    bad(&e, "+1");
    bad(&e, "4x");
    bad(&e, "1.5");
    bad(&e, "1 000");
    bad(&e, "abc");
    bad(&e, "");

    e.min = 1;
    e.max = 65535;
    assert_int_equal(ok(&e, "1"), 1);
    assert_int_equal(ok(&e, "65535"), 65535);
    assert_string_equal(bad(&e, "0"), "'0' is out of range: expected a whole number from 1 to 65535");
    assert_string_equal(bad(&e, "65536"), "'65536' is out of range: expected a whole number from 1 to 65535");
    assert_string_equal(bad(&e, "port"), "expected a whole number from 1 to 65535, not 'port'");
    assert_string_equal(bad(&e, "-5"), "expected a whole number from 1 to 65535, not '-5'");

    /* without max, min is no bound */
    e.min = 10;
    e.max = 0;
    assert_int_equal(ok(&e, "3"), 3);
}

static void test_size(void **state)
{
    (void)state;
    ma_config_entry e = entry(MA_CONFIG_SIZE);
    assert_int_equal(ok(&e, "0"), 0);
    assert_int_equal(ok(&e, "512"), 512);
    assert_int_equal(ok(&e, "512B"), 512);
    assert_int_equal(ok(&e, "16K"), 16384);
    assert_int_equal(ok(&e, "16KB"), 16384);
    assert_int_equal(ok(&e, "16KiB"), 16384);
    assert_int_equal(ok(&e, "16kb"), 16384);
    assert_int_equal(ok(&e, "16 KB"), 16384);
    assert_int_equal(ok(&e, "3M"), 3u << 20);
    assert_int_equal(ok(&e, "3MB"), 3u << 20);
    assert_int_equal(ok(&e, "3MiB"), 3u << 20);
    assert_true(ok(&e, "2G") == 2ull << 30);
    assert_true(ok(&e, "2GB") == 2ull << 30);
    assert_true(ok(&e, "2GiB") == 2ull << 30);
    assert_true(ok(&e, "17179869183GiB") == 17179869183ull << 30);
    /* 2^34 GiB is 2^64 bytes */
    assert_string_equal(bad(&e, "17179869184GiB"), "expected a size such as 1MB, 16KB or 512, not '17179869184GiB'");
    bad(&e, "99999999999999999999999");
    bad(&e, "1TB");
    bad(&e, "1.5MB");
    bad(&e, "-1KB");
    bad(&e, "KB");
    bad(&e, "16KB ");
    bad(&e, "");

    e.min = 1024;
    e.max = 1 << 20;
    assert_int_equal(ok(&e, "1K"), 1024);
    assert_int_equal(ok(&e, "1MB"), 1 << 20);
    assert_string_equal(bad(&e, "2MB"), "'2MB' is out of range (1024 to 1048576 bytes)");
    assert_string_equal(bad(&e, "1023"), "'1023' is out of range (1024 to 1048576 bytes)");
}

static void test_duration(void **state)
{
    (void)state;
    ma_config_entry e = entry(MA_CONFIG_DURATION);
    assert_int_equal(ok(&e, "0"), 0);
    assert_int_equal(ok(&e, "0s"), 0);
    assert_int_equal(ok(&e, "500ms"), 500);
    assert_int_equal(ok(&e, "30s"), 30000);
    assert_int_equal(ok(&e, "30 s"), 30000);
    assert_int_equal(ok(&e, "2m"), 120000);
    assert_int_equal(ok(&e, "1h"), 3600000);
    const char *why = bad(&e, "30");
    assert_string_equal(why, "expected a duration with its unit (ms, s, m, h) such as 30s or 500ms, not '30'");
    bad(&e, "1");
    bad(&e, "-1s");
    bad(&e, "1.5s");
    bad(&e, "10 minutes");
    bad(&e, "5S"); /* units are case-sensitive: M would be ambiguous */
    bad(&e, "1d");
    bad(&e, "s");
    bad(&e, "18446744073709551615h");
    bad(&e, "");

    e.min = 100;
    e.max = 60000;
    assert_int_equal(ok(&e, "1m"), 60000);
    assert_string_equal(bad(&e, "2m"), "'2m' is out of range (100 to 60000 ms)");
    assert_string_equal(bad(&e, "0"), "'0' is out of range (100 to 60000 ms)");
}

static void test_enum(void **state)
{
    (void)state;
    static const char *const three[] = {"fast", "safe", "off", NULL};
    static const char *const two[] = {"on", "off", NULL};
    static const char *const one[] = {"only", NULL};
    ma_config_entry e = entry(MA_CONFIG_ENUM);
    e.choices = three;
    assert_int_equal(ok(&e, "fast"), 0);
    assert_int_equal(ok(&e, "safe"), 1);
    assert_int_equal(ok(&e, "off"), 2);
    assert_string_equal(bad(&e, "SAFE"), "expected fast, safe or off, not 'SAFE'"); /* as written */
    assert_string_equal(bad(&e, "slow"), "expected fast, safe or off, not 'slow'");
    e.choices = two;
    assert_string_equal(bad(&e, "x"), "expected on or off, not 'x'");
    e.choices = one;
    assert_string_equal(bad(&e, "x"), "expected only, not 'x'");
    assert_int_equal(ok(&e, "only"), 0);
    e.choices = NULL;
    bad(&e, "x");
}

static void test_string_empty_file_dir(void **state)
{
    (void)state;
    ma_config_entry e = entry(MA_CONFIG_STRING);
    ok(&e, "anything at all = yes");
    assert_string_equal(bad(&e, ""), "a value is required");
    e.flags = MA_CONFIG_EMPTY;
    ok(&e, "");

    const char *file = WRITE("exists.pem", "x");
    char path[300];
    snprintf(path, sizeof path, "%s", file);
    ma_config_entry f = entry(MA_CONFIG_FILE);
    ok(&f, path);
    char missing[300], want[400];
    snprintf(missing, sizeof missing, "%s/missing.pem", tmpdir);
    snprintf(want, sizeof want, "'%s' is not a readable file", missing);
    assert_string_equal(bad(&f, missing), want);
    snprintf(want, sizeof want, "'%s' is not a readable file", tmpdir);
    assert_string_equal(bad(&f, tmpdir), want); /* a directory is no file */

    ma_config_entry d = entry(MA_CONFIG_DIR);
    ok(&d, tmpdir);
    snprintf(want, sizeof want, "'%s' is not a directory", path);
    assert_string_equal(bad(&d, path), want);
    bad(&d, missing);
    bad(&d, "");
}

static void test_secret_never_repeated(void **state)
{
    (void)state;
    static const char *const choices[] = {"a", "b", NULL};
    const char *secret = "hunter2-s3cr3t";
    ma_config_kind kinds[] = {MA_CONFIG_BOOL, MA_CONFIG_UINT, MA_CONFIG_SIZE, MA_CONFIG_DURATION,
                              MA_CONFIG_ENUM, MA_CONFIG_FILE, MA_CONFIG_DIR};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        ma_config_entry e = entry(kinds[i]);
        e.flags = MA_CONFIG_SECRET;
        e.choices = choices;
        const char *why = bad(&e, secret);
        assert_lacks(why, "hunter2");
        assert_lacks(why, "s3cr3t");
    }
    /* out of range */
    ma_config_entry e = entry(MA_CONFIG_UINT);
    e.flags = MA_CONFIG_SECRET;
    e.min = 1;
    e.max = 9;
    const char *why = bad(&e, "1234567");
    assert_lacks(why, "1234567");
    assert_contains(why, "out of range");
    e.kind = MA_CONFIG_SIZE;
    why = bad(&e, "1234567");
    assert_lacks(why, "1234567");
    /* the same value, not secret, is shown */
    e.flags = 0;
    assert_contains(bad(&e, "1234567"), "1234567");
}

/* A check that remembers the value it was given. */
static char checked[64];

static int check_even(const char *value, char *why, size_t whyn)
{
    snprintf(checked, sizeof checked, "%s", value);
    size_t n = strlen(value);
    if (n && (value[n - 1] - '0') % 2 == 0) return 0;
    snprintf(why, whyn, "must be even");
    return -1;
}

static void test_check_callback(void **state)
{
    (void)state;
    ma_config_entry e = entry(MA_CONFIG_UINT);
    e.check = check_even;
    assert_int_equal(ok(&e, "42"), 42);
    assert_string_equal(checked, "42"); /* the whole value, as written */
    assert_string_equal(bad(&e, "43"), "must be even");
    checked[0] = '\0';
    bad(&e, "4x"); /* the kind is checked first */
    assert_string_equal(checked, "");

    e = entry(MA_CONFIG_SIZE);
    e.check = check_even;
    ok(&e, "16");
    assert_string_equal(checked, "16");
}

/* ---- key patterns --------------------------------------------------------------------------- */

static void test_find_patterns(void **state)
{
    (void)state;
    static const ma_config_entry map[] = {
        {.key = "port", .kind = MA_CONFIG_UINT},
        {.key = "user.*", .kind = MA_CONFIG_STRING},
        {.key = "a.*.b", .kind = MA_CONFIG_STRING},
        {.key = "*.tail", .kind = MA_CONFIG_STRING},
        MA_CONFIG_END,
    };
    assert_ptr_equal(ma_config_find(map, "port"), &map[0]);
    assert_null(ma_config_find(map, "port2"));
    assert_null(ma_config_find(map, "por"));
    assert_null(ma_config_find(map, "Port"));
    assert_ptr_equal(ma_config_find(map, "user.ada"), &map[1]);
    assert_ptr_equal(ma_config_find(map, "user.ada.lovelace"), &map[1]); /* a final * takes the rest */
    assert_null(ma_config_find(map, "user."));
    assert_null(ma_config_find(map, "user"));
    assert_null(ma_config_find(map, "users.ada"));
    assert_ptr_equal(ma_config_find(map, "a.x.b"), &map[2]);
    assert_ptr_equal(ma_config_find(map, "a.some thing.b"), &map[2]);
    assert_null(ma_config_find(map, "a..b"));
    assert_null(ma_config_find(map, "a.x.y.b")); /* an inner * is one segment */
    assert_null(ma_config_find(map, "a.x.bc"));
    assert_null(ma_config_find(map, "a.x"));
    assert_ptr_equal(ma_config_find(map, "head.tail"), &map[3]);
    assert_null(ma_config_find(map, ".tail"));
    assert_null(ma_config_find(map, "tail"));
    assert_null(ma_config_find(NULL, "port"));
}

/* ---- reading a map into a struct ------------------------------------------------------------ */

typedef struct demo_cfg {
    const char *name;
    int enabled;
    uint64_t workers, body, timeout;
    int mode;
    const char *dir;
    const char *untouched;
} demo_cfg;

static const char *const modes[] = {"fast", "safe", NULL};

static const ma_config_entry demo_map[] = {
    {.key = "name", .kind = MA_CONFIG_STRING, .def = "demo", .at = MA_CONFIG_AT(demo_cfg, name)},
    {.key = "enabled", .kind = MA_CONFIG_BOOL, .def = "true", .at = MA_CONFIG_AT(demo_cfg, enabled)},
    {.key = "workers", .kind = MA_CONFIG_UINT, .def = "4", .min = 1, .max = 64, .at = MA_CONFIG_AT(demo_cfg, workers)},
    {.key = "limits.body", .kind = MA_CONFIG_SIZE, .def = "1MB", .at = MA_CONFIG_AT(demo_cfg, body)},
    {.key = "timeout", .kind = MA_CONFIG_DURATION, .def = "30s", .at = MA_CONFIG_AT(demo_cfg, timeout)},
    {.key = "mode", .kind = MA_CONFIG_ENUM, .def = "safe", .choices = modes, .at = MA_CONFIG_AT(demo_cfg, mode)},
    {.key = "dir", .kind = MA_CONFIG_DIR, .at = MA_CONFIG_AT(demo_cfg, dir)},
    {.key = "user.*", .kind = MA_CONFIG_STRING}, /* checked, not stored */
    {.key = "token", .kind = MA_CONFIG_UINT, .flags = MA_CONFIG_SECRET, .at = MA_CONFIG_AT(demo_cfg, untouched)},
    MA_CONFIG_END,
};

static void test_read_defaults(void **state)
{
    (void)state;
    demo_cfg c;
    memset(&c, 0, sizeof c);
    c.dir = "kept";
    ma_error err;
    assert_int_equal(ma_config_read(demo_map, "demo.", NULL, &c, &err), 0);
    assert_string_equal(c.name, "demo");
    assert_int_equal(c.enabled, 1);
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.body, 1 << 20);
    assert_int_equal(c.timeout, 30000);
    assert_int_equal(c.mode, 1);
    assert_string_equal(c.dir, "kept"); /* no value, no default: left as it was */
}

static void test_read_settings(void **state)
{
    (void)state;
    char text[600];
    int n = snprintf(text, sizeof text,
                     "demo.name = The Shop\n"
                     "demo.enabled = off\n"
                     "demo.workers = 64\n"
                     "demo.limits.body = 16 KiB\n"
                     "demo.timeout = 0\n"
                     "demo.mode = fast\n"
                     "demo.dir = %s\n"
                     "other.workers = 1000\n",
                     tmpdir);
    const char *path = write_file("read.properties", text, (size_t)n);
    ma_settings *s = ma_settings_new();
    ma_error err;
    assert_int_equal(ma_settings_load_file(s, path, &err), 0);
    demo_cfg c;
    memset(&c, 0, sizeof c);
    assert_int_equal(ma_config_read(demo_map, "demo.", s, &c, &err), 0);
    assert_string_equal(c.name, "The Shop");
    assert_ptr_equal(c.name, ma_settings_get(s, "demo.name")); /* borrowed from the settings */
    assert_int_equal(c.enabled, 0);
    assert_int_equal(c.workers, 64);
    assert_int_equal(c.body, 16384);
    assert_int_equal(c.timeout, 0);
    assert_int_equal(c.mode, 0);
    assert_string_equal(c.dir, tmpdir);
    assert_null(c.untouched);

    /* a --set after the file wins; a bad one is named with its origin and key */
    assert_int_equal(ma_settings_add_arg(s, "demo.workers=65", &err), 0);
    ma_error_clear(&err);
    assert_int_equal(ma_config_read(demo_map, "demo.", s, &c, &err), -1);
    assert_int_equal(err.code, MA_ERR_CONFIG);
    assert_string_equal(err.msg, "--set: demo.workers: '65' is out of range: expected a whole number from 1 to 64");
    assert_int_equal(ma_settings_add_arg(s, "demo.workers=8", &err), 0);
    assert_int_equal(ma_config_read(demo_map, "demo.", s, &c, &err), 0);
    assert_int_equal(c.workers, 8);
    ma_settings_free(s);

    /* a bad file line: "FILE:LINE: key: why" */
    path = WRITE("read-bad.properties", "# timeouts\n\ndemo.timeout = 30\n");
    s = ma_settings_new();
    assert_int_equal(ma_settings_load_file(s, path, &err), 0);
    assert_int_equal(ma_config_read(demo_map, "demo.", s, &c, &err), -1);
    char want[400];
    snprintf(want, sizeof want, "%s:3: demo.timeout: expected a duration with its unit", path);
    assert_contains(err.msg, want);

    /* a secret is not repeated, its key and origin are named */
    assert_int_equal(ma_settings_add_arg(s, "demo.timeout=1s", &err), 0);
    assert_int_equal(ma_settings_add_arg(s, "demo.token=pa55word", &err), 0);
    assert_int_equal(ma_config_read(demo_map, "demo.", s, &c, &err), -1);
    assert_contains(err.msg, "--set: demo.token: ");
    assert_lacks(err.msg, "pa55word");
    ma_settings_free(s);

    /* without a prefix */
    s = ma_settings_new();
    assert_int_equal(ma_settings_add_arg(s, "workers=2", &err), 0);
    assert_int_equal(ma_config_read(demo_map, NULL, s, &c, &err), 0);
    assert_int_equal(c.workers, 2);
    ma_settings_free(s);
}

static void test_read_bad_default(void **state)
{
    (void)state;
    typedef struct {
        uint64_t t;
    } one;
    static const ma_config_entry map[] = {
        {.key = "t", .kind = MA_CONFIG_DURATION, .def = "30", .at = MA_CONFIG_AT(one, t)},
        MA_CONFIG_END,
    };
    one o = {0};
    ma_error err;
    assert_int_equal(ma_config_read(map, "x.", NULL, &o, &err), -1);
    assert_contains(err.msg, "(default): x.t: ");
}

/* ---- connection fields (runtime/connection.c) ----------------------------------------------- */

/* A connector type that keeps the step it was compiled with, for the tests to read its fields. */
static const ma_connector_step *last_step;

static int probe_compile(ma_connector_step *step, ma_error *err)
{
    (void)err;
    last_step = step;
    return 0;
}

static int probe_execute(ma_exec *ex, ma_connector_step *step, ma_batch *in, ma_outputs *out, ma_error *err)
{
    (void)ex, (void)step, (void)in, (void)out;
    return ma_error_set(err, MA_ERR_RUNTIME, "not run in this test");
}

static const ma_connector_type probe_type = {
    .name = "probe",
    .abi_version = MA_ABI_VERSION,
    .compile = probe_compile,
    .execute = probe_execute,
};

#define CONN_ID "c0ffee00-0000-4000-8000-000000000001"
#define CONN_NAME "Probe Server"

static const char conn_xml[] =
    "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"" CONN_ID "\" name=\"" CONN_NAME "\"\n"
    "    type=\"connector-settings\" subType=\"probe\" version=\"1\">\n"
    "  <bns:object>\n"
    "    <ProbeSettings xmlns=\"\" url=\"http://from-attribute\" retries=\"3\">\n"
    "      <group>\n"
    "        <field id=\"timeout\" value=\"5s\"/>\n"
    "        <field id=\"pin\" value=\"98765\"/>\n"
    "        <field id=\"verbose\" value=\"sometimes\"/>\n"
    "        <field id=\"blank\" value=\"\"/>\n"
    "      </group>\n"
    "    </ProbeSettings>\n"
    "  </bns:object>\n"
    "</bns:Component>\n";

static const char proc_xml[] =
    "<bns:Component xmlns:bns=\"http://api.platform.boomi.com/\" componentId=\"p1\" name=\"Probe Process\" type=\"process\" version=\"1\">"
    "<bns:object><process xmlns=\"\" workload=\"general\"><shapes>"
    "<shape name=\"shape1\" shapetype=\"start\"><configuration><noaction/></configuration>"
    "<dragpoints><dragpoint name=\"d1\" toShape=\"shape2\"/></dragpoints></shape>"
    "<shape name=\"shape2\" shapetype=\"connectoraction\"><configuration>"
    "<connectoraction actionType=\"Send\" connectorType=\"probe\" connectionId=\"" CONN_ID "\"/></configuration>"
    "<dragpoints><dragpoint name=\"d2\" toShape=\"shape3\"/></dragpoints></shape>"
    "<shape name=\"shape3\" shapetype=\"stop\"><configuration><stop continue=\"true\"/></configuration><dragpoints/></shape>"
    "</shapes></process></bns:object></bns:Component>";

typedef struct probe_cfg {
    uint64_t timeout, retries, pin, blank;
    int verbose;
} probe_cfg;

static const char *const verbosity[] = {"never", "sometimes", "always", NULL};

static const ma_config_entry probe_map[] = {
    {.key = "url", .kind = MA_CONFIG_STRING},
    {.key = "timeout", .kind = MA_CONFIG_DURATION, .def = "1s", .at = MA_CONFIG_AT(probe_cfg, timeout)},
    {.key = "retries", .kind = MA_CONFIG_UINT, .def = "1", .min = 0, .max = 10, .at = MA_CONFIG_AT(probe_cfg, retries)},
    {.key = "pin",
     .kind = MA_CONFIG_UINT,
     .flags = MA_CONFIG_SECRET,
     .min = 1,
     .max = 99999,
     .at = MA_CONFIG_AT(probe_cfg, pin)},
    {.key = "verbose",
     .kind = MA_CONFIG_ENUM,
     .def = "never",
     .choices = verbosity,
     .at = MA_CONFIG_AT(probe_cfg, verbose)},
    {.key = "blank", .kind = MA_CONFIG_SIZE, .def = "2KB", .at = MA_CONFIG_AT(probe_cfg, blank)},
    MA_CONFIG_END,
};

typedef struct probe_deploy {
    ma_registry *reg;
    ma_settings *settings;
    ma_deploy *dep;
} probe_deploy;

/* A deployment of the connection and a process whose connector step uses it, compiled with the
 * given --set arguments (NULL-terminated); last_step is its step. */
static void probe_open(probe_deploy *p, const char *const *sets)
{
    ma_error err;
    p->reg = ma_builtins_registry(&err);
    assert_non_null(p->reg);
    if (ma_registry_add_connector(p->reg, &probe_type, &err) < 0) fail_msg("%s", err.msg);
    p->settings = ma_settings_new();
    for (size_t i = 0; sets && sets[i]; i++)
        if (ma_settings_add_arg(p->settings, sets[i], &err) < 0) fail_msg("%s", err.msg);
    ma_deploy_opts o;
    memset(&o, 0, sizeof o);
    o.settings = p->settings;
    p->dep = ma_deploy_new(p->reg, &o);
    assert_non_null(p->dep);
    if (ma_deploy_add_buffer(p->dep, conn_xml, sizeof conn_xml - 1, "deploy/probe-conn.xml", &err) < 0 ||
        ma_deploy_add_buffer(p->dep, proc_xml, sizeof proc_xml - 1, "deploy/probe-proc.xml", &err) < 0)
        fail_msg("%s", err.msg);
    last_step = NULL;
    if (ma_deploy_compile(p->dep) != 0) {
        char *m = p->dep->n_problems ? ma_problem_format(&p->dep->problems[0]) : NULL;
        fail_msg("not runnable: %s", m ? m : "?");
    }
    assert_non_null(last_step);
    assert_string_equal(last_step->connection_name, CONN_NAME);
}

static void probe_close(probe_deploy *p)
{
    ma_deploy_free(p->dep);
    ma_settings_free(p->settings);
    ma_registry_free(p->reg);
}

static void test_connection_from_component(void **state)
{
    (void)state;
    probe_deploy p;
    probe_open(&p, NULL);
    probe_cfg c;
    memset(&c, 0, sizeof c);
    ma_error err;
    ma_error_clear(&err);
    if (ma_connector_config(last_step, probe_map, &c, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(c.timeout, 5000); /* <field id="timeout" value="5s"/> */
    assert_int_equal(c.retries, 3);    /* the root element's attribute */
    assert_int_equal(c.pin, 98765);
    assert_int_equal(c.verbose, 1);
    assert_int_equal(c.blank, 2048); /* a blank field is no value: the default */

    char *v = ma_connector_setting(last_step, "url", &err);
    assert_string_equal(v, "http://from-attribute");
    free(v);
    ma_error_clear(&err);
    assert_null(ma_connector_setting(last_step, "nowhere", &err));
    assert_int_equal(err.code, MA_OK);                          /* set nowhere is no error */
    assert_null(ma_connector_secret(last_step, "blank", &err)); /* a blank secret is none */

    /* the component's value refused: its file and line are named */
    static const char *const strict[] = {"never", "always", NULL};
    const ma_config_entry map[] = {
        {.key = "verbose", .kind = MA_CONFIG_ENUM, .choices = strict, .at = MA_CONFIG_AT(probe_cfg, verbose)},
        MA_CONFIG_END,
    };
    assert_int_equal(ma_connector_config(last_step, map, &c, &err), -1);
    assert_int_equal(err.code, MA_ERR_CONFIG);
    assert_string_equal(err.msg, "connection '" CONN_NAME "' field verbose: expected never or always, not 'sometimes' "
                                 "(from deploy/probe-conn.xml:8)");

    /* a secret's value from the component is not repeated */
    const ma_config_entry pin4[] = {
        {.key = "pin",
         .kind = MA_CONFIG_UINT,
         .flags = MA_CONFIG_SECRET,
         .min = 1,
         .max = 9999,
         .at = MA_CONFIG_AT(probe_cfg, pin)},
        MA_CONFIG_END,
    };
    assert_int_equal(ma_connector_config(last_step, pin4, &c, &err), -1);
    assert_contains(err.msg, "connection '" CONN_NAME "' field pin: ");
    assert_contains(err.msg, "(from deploy/probe-conn.xml:7)");
    assert_lacks(err.msg, "98765");

    /* a bad default is named as such */
    const ma_config_entry bad_def[] = {
        {.key = "absent", .kind = MA_CONFIG_DURATION, .def = "30", .at = MA_CONFIG_AT(probe_cfg, timeout)},
        MA_CONFIG_END,
    };
    assert_int_equal(ma_connector_config(last_step, bad_def, &c, &err), -1);
    assert_contains(err.msg, "(from the default)");
    probe_close(&p);
}

static void test_connection_from_settings(void **state)
{
    (void)state;
    const char *pin_file = WRITE("pin.txt", "4321\n");
    char pin_set[400];
    snprintf(pin_set, sizeof pin_set, "connection." CONN_NAME ".pin.file=%s", pin_file);
    const char *sets[] = {
        "connection." CONN_NAME ".timeout = 2m",  /* by name */
        "connection." CONN_ID ".timeout = 250ms", /* by id: wins over the name */
        "connection." CONN_NAME ".retries = 7",
        "connection." CONN_NAME ".url = http://from-settings",
        pin_set, /* a file holding the value */
        "connection.Other.retries = 10",
        NULL,
    };
    probe_deploy p;
    probe_open(&p, sets);
    probe_cfg c;
    memset(&c, 0, sizeof c);
    ma_error err;
    ma_error_clear(&err);
    if (ma_connector_config(last_step, probe_map, &c, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(c.timeout, 250);
    assert_int_equal(c.retries, 7);
    assert_int_equal(c.pin, 4321);  /* its line break dropped */
    assert_int_equal(c.verbose, 1); /* still from the component */
    char *v = ma_connector_setting(last_step, "url", &err);
    assert_string_equal(v, "http://from-settings");
    free(v);
    v = ma_connector_secret(last_step, "pin", &err);
    assert_string_equal(v, "4321");
    ma_secret_free(v);
    probe_close(&p);

    /* a bad setting: the error names its origin and key */
    const char *bad_sets[] = {"connection." CONN_NAME ".retries=11", NULL};
    probe_open(&p, bad_sets);
    assert_int_equal(ma_connector_config(last_step, probe_map, &c, &err), -1);
    assert_string_equal(err.msg,
                        "connection '" CONN_NAME "' field retries: '11' is out of range: expected a whole number "
                        "from 0 to 10 (from --set: connection." CONN_NAME ".retries)");
    probe_close(&p);

    /* a secret setting that is not valid is not shown */
    const char *secret_sets[] = {"connection." CONN_ID ".pin=123456789", NULL};
    probe_open(&p, secret_sets);
    assert_int_equal(ma_connector_config(last_step, probe_map, &c, &err), -1);
    assert_contains(err.msg, "field pin: ");
    assert_contains(err.msg, "(from --set: connection." CONN_ID ".pin)");
    assert_lacks(err.msg, "123456789");
    probe_close(&p);

    /* a value file that is missing */
    char missing[300], set[400];
    snprintf(missing, sizeof missing, "%s/no-pin.txt", tmpdir);
    snprintf(set, sizeof set, "connection." CONN_ID ".pin.file=%s", missing);
    const char *file_sets[] = {set, NULL};
    probe_open(&p, file_sets);
    assert_int_equal(ma_connector_config(last_step, probe_map, &c, &err), -1);
    assert_contains(err.msg, "connection '" CONN_NAME "' field pin: ");
    assert_contains(err.msg, missing);
    probe_close(&p);
}

#define ENV_NAME_RETRIES "MINIATOM_CONNECTION_PROBE_SERVER_RETRIES"
#define ENV_ID_TIMEOUT "MINIATOM_CONNECTION_C0FFEE00_0000_4000_8000_000000000001_TIMEOUT"
#define ENV_NAME_PIN "MINIATOM_CONNECTION_PROBE_SERVER_PIN"

static void test_connection_from_environment(void **state)
{
    (void)state;
    setenv(ENV_NAME_RETRIES, "9", 1);
    setenv(ENV_ID_TIMEOUT, "1h", 1);
    probe_deploy p;
    probe_open(&p, NULL);
    probe_cfg c;
    memset(&c, 0, sizeof c);
    ma_error err;
    ma_error_clear(&err);
    if (ma_connector_config(last_step, probe_map, &c, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(c.retries, 9);
    assert_int_equal(c.timeout, 3600000);
    probe_close(&p);

    /* the settings win over the environment */
    const char *sets[] = {"connection." CONN_NAME ".retries=2", NULL};
    probe_open(&p, sets);
    if (ma_connector_config(last_step, probe_map, &c, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(c.retries, 2);
    probe_close(&p);

    /* a bad value names the variable */
    setenv(ENV_NAME_RETRIES, "many", 1);
    probe_open(&p, NULL);
    assert_int_equal(ma_connector_config(last_step, probe_map, &c, &err), -1);
    assert_string_equal(err.msg,
                        "connection '" CONN_NAME "' field retries: expected a whole number from 0 to 10, not 'many' "
                        "(from the environment: " ENV_NAME_RETRIES ")");
    probe_close(&p);
    unsetenv(ENV_NAME_RETRIES);
    unsetenv(ENV_ID_TIMEOUT);

    /* a secret from the environment is not shown */
    setenv(ENV_NAME_PIN, "0", 1);
    probe_open(&p, NULL);
    assert_int_equal(ma_connector_config(last_step, probe_map, &c, &err), -1);
    assert_contains(err.msg, "(from the environment: " ENV_NAME_PIN ")");
    assert_contains(err.msg, "out of range");
    assert_lacks(err.msg, "'0'");
    probe_close(&p);
    unsetenv(ENV_NAME_PIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_lines_and_origins),
        cmocka_unit_test(test_file_bad_line_keeps_nothing),
        cmocka_unit_test(test_file_refused),
        cmocka_unit_test(test_add_arg),
        cmocka_unit_test(test_last_value_wins),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_string_empty_file_dir),
        cmocka_unit_test(test_secret_never_repeated),
        cmocka_unit_test(test_check_callback),
        cmocka_unit_test(test_find_patterns),
        cmocka_unit_test(test_read_defaults),
        cmocka_unit_test(test_read_settings),
        cmocka_unit_test(test_read_bad_default),
        cmocka_unit_test(test_connection_from_component),
        cmocka_unit_test(test_connection_from_settings),
        cmocka_unit_test(test_connection_from_environment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
