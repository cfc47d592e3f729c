/* cli_store.c - `miniatom store check` (is the execution history DATA/history.db usable: integrity,
 * schema version, sizes, what it holds) and `miniatom store repair` (moves an unusable history aside
 * with a timestamp, starts a fresh one and copies over what can still be read). The server never
 * does the repair by itself: a corrupt history is set aside only when an operator asks (decision
 * 016). Exit status: 0 usable / repaired, 1 not usable / repair failed, 2 usage. */
#include "history.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util.h"

enum { OPT_DATA = 256, OPT_FULL, OPT_FORCE };

static void usage(FILE *f)
{
    fprintf(f, "Usage: miniatom store check [--data DIR] [--full]\n"
               "       miniatom store repair [--data DIR] [--force]\n"
               "\n"
               "check   says whether the execution history (DATA/history.db) is usable: SQLite's quick_check\n"
               "        (--full: integrity_check, slower), the schema version, whether this user may write it,\n"
               "        its sizes and what it holds. It does not write to the history.\n"
               "repair  when check finds a problem (or with --force): moves DATA/history.db and its -wal and\n"
               "        -shm files aside to DATA/history.db.corrupt-YYYYMMDDTHHMMSSZ, starts a fresh history\n"
               "        and copies into it the records and pending Flow callbacks that can still be read. A\n"
               "        running server notices the new file and uses it. Without a history it makes one.\n"
               "\n"
               "Options:\n"
               "  --data DIR      the data folder (default: ./data)\n"
               "  --full          check: a full integrity check\n"
               "  --force         repair: even a history that check finds usable\n"
               "  -h, --help      this help\n"
               "\n"
               "Exit status: 0 usable (check) or repaired (repair), 1 not usable or the repair failed, 2 usage\n"
               "error.\n");
}

static void human_size(char *out, size_t n, uint64_t v)
{
    if (v >= (1ull << 30)) snprintf(out, n, "%.1f GB", (double)v / (1ull << 30));
    else if (v >= (1ull << 20)) snprintf(out, n, "%.1f MB", (double)v / (1ull << 20));
    else if (v >= 1024) snprintf(out, n, "%.1f KB", (double)v / 1024);
    else snprintf(out, n, "%llu bytes", (unsigned long long)v);
}

static void utc(char *out, size_t n, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int check(const char *data, int full)
{
    ma_history_report r;
    ma_error err;
    ma_error_clear(&err);
    if (ma_history_inspect(data, full, &r, &err) < 0) {
        fprintf(stderr, "miniatom: store check: %s\n", err.msg);
        return 1;
    }
    printf("history     %s/history.db\n", data);
    if (!r.exists) {
        if (r.ok) printf("state       ok: there is none yet (the first start or record makes it)\n");
        else printf("state       NOT USABLE: %s\n", r.problem);
        return r.ok ? 0 : 1;
    }
    if (r.ok) printf("state       ok\n");
    else printf("state       NOT USABLE: %s\n", r.problem);
    printf("integrity   %s (%s)\n", r.integrity[0] ? r.integrity : "not checked",
           full ? "integrity_check" : "quick_check");
    printf("schema      version %lld\n", (long long)r.schema_version);
    char a[32], b[32], c[32];
    human_size(a, sizeof a, r.file_size);
    human_size(b, sizeof b, r.wal_size);
    human_size(c, sizeof c, r.used);
    printf("size        %s (%llu bytes) in use; file %s, -wal %s\n", c, (unsigned long long)r.used, a, b);
    printf("writable    %s\n", r.writable ? "yes" : "no");
    printf("records     %lld executions (%lld running, %lld with payloads), %lld documents, %lld pending "
           "callbacks\n",
           (long long)r.executions, (long long)r.running, (long long)r.with_payloads, (long long)r.documents,
           (long long)r.callbacks);
    if (r.oldest_ms) {
        utc(a, sizeof a, r.oldest_ms);
        utc(b, sizeof b, r.newest_ms);
        printf("span        %s to %s\n", a, b);
    }
    return r.ok ? 0 : 1;
}

static int repair(const char *data, int force)
{
    ma_history_report r;
    ma_error err;
    ma_error_clear(&err);
    if (ma_history_inspect(data, 0, &r, &err) < 0) {
        fprintf(stderr, "miniatom: store repair: %s\n", err.msg);
        return 1;
    }
    if (r.exists && r.ok && !force) {
        printf("%s/history.db is usable: nothing to repair (--force sets it aside anyway)\n", data);
        return 0;
    }
    if (r.exists && !r.ok) printf("problem     %s\n", r.problem);
    ma_history_salvage s;
    if (ma_history_repair(data, &s, &err) < 0) {
        if (s.aside[0]) printf("moved       %s/history.db to %s (with its -wal and -shm files)\n", data, s.aside);
        fprintf(stderr, "miniatom: store repair: %s\n", err.msg);
        return 1;
    }
    if (s.aside[0]) printf("moved       %s/history.db to %s (with its -wal and -shm files)\n", data, s.aside);
    printf("fresh       %s/history.db\n", data);
    if (s.aside[0])
        printf("salvaged    %lld executions (%lld shape counts, %lld log entries, %lld documents), %lld pending "
               "callbacks\n",
               (long long)s.executions, (long long)s.shape_counts, (long long)s.log, (long long)s.documents,
               (long long)s.callbacks);
    if (s.note[0]) printf("not read    %s\n", s.note);
    return 0;
}

int ma_cli_store(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, OPT_DATA},
        {"full", no_argument, NULL, OPT_FULL},
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "repair") != 0)) {
        fprintf(stderr, "miniatom: store: say check or repair\n\n");
        usage(stderr);
        return MA_EXIT_USAGE;
    }
    int is_check = strcmp(argv[1], "check") == 0;
    const char *data = "./data";
    int full = 0, force = 0, c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA: data = optarg; break;
        case OPT_FULL: full = 1; break;
        case OPT_FORCE: force = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return MA_EXIT_USAGE;
        }
    }
    if (optind < argc - 1 || (is_check && force) || (!is_check && full)) {
        fprintf(stderr, "miniatom: store %s: unexpected arguments\n\n", argv[1]);
        usage(stderr);
        return MA_EXIT_USAGE;
    }
    return is_check ? check(data, full) : repair(data, force);
}
