/* cli_history.c - `miniatom executions` (the recorded executions, newest first, as a table or as
 * JSON) and `miniatom execution show ID` (everything recorded about one execution: counts per
 * shape, user log, documents in and out with their properties), read from the execution history
 * DATA/history.db (history.h). Exit status: 0 found, 1 not found (or unreadable), 2 usage. Reads
 * JSON with jansson: a command line tool, on no request path, where its speed does not matter. */
#include "history.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define DEFAULT_LAST 50

enum { OPT_DATA = 256, OPT_PROCESS, OPT_STATUS, OPT_LAST, OPT_JSON };

static const char *const STATUSES[] = {"STARTED", "COMPLETE", "COMPLETE_WARN", "ERROR", "ABORTED"};

static void executions_usage(FILE *f)
{
    fprintf(f,
            "Usage: miniatom executions [--data DIR] [--process X] [--status S] [--last N] [--json]\n"
            "\n"
            "Lists the executions recorded in the execution history (DATA/history.db), newest first: start\n"
            "time (UTC), execution id, process, mode, status, duration, documents in and out. General-mode\n"
            "executions are recorded with their documents, bridge-mode ones without; low-latency ones are not\n"
            "recorded.\n"
            "\n"
            "Options:\n"
            "  --data DIR      the data folder (default: ./data)\n"
            "  --process X     only executions of process X (componentId or name)\n"
            "  --status S      only executions with status S: STARTED (still running), COMPLETE,\n"
            "                  COMPLETE_WARN, ERROR or ABORTED\n"
            "  --last N        at most the N newest executions (default: %d; 0: all)\n"
            "  --json          print {\"executions\": [...]} instead of a table\n"
            "  -h, --help      this help\n"
            "\n"
            "Exit status: 0 executions were found, 1 none (or the history cannot be read), 2 usage error.\n",
            DEFAULT_LAST);
}

static void execution_usage(FILE *f)
{
    fprintf(f, "Usage: miniatom execution show [--data DIR] [--json] ID\n"
               "\n"
               "Prints everything the execution history (DATA/history.db) holds about execution ID: process,\n"
               "mode, status, message, times, documents in and out, the documents that entered each shape, the\n"
               "user log and, for general mode, the documents in and out with their properties (data as text when\n"
               "it is printable UTF-8, else base64; documents larger than the history's limit are shown cut).\n"
               "\n"
               "Options:\n"
               "  --data DIR      the data folder (default: ./data)\n"
               "  --json          print the record as one JSON object\n"
               "  -h, --help      this help\n"
               "\n"
               "Exit status: 0 the execution was found, 1 it was not (or the history cannot be read), 2 usage\n"
               "error.\n");
}

/* Opens the history of data_dir for reading; NULL after printing why when there is none. */
static ma_history *open_history(const char *data_dir, const char *what)
{
    char *path = ma_asprintf("%s/history.db", data_dir);
    if (!path) return NULL;
    int exists = access(path, F_OK) == 0;
    if (!exists)
        fprintf(stderr, "miniatom: %s: no execution history in %s (%s does not exist)\n", what, data_dir, path);
    free(path);
    if (!exists) return NULL;
    ma_error err;
    ma_error_clear(&err);
    ma_history *h = ma_history_open(data_dir, NULL, &err);
    if (!h) fprintf(stderr, "miniatom: %s\n", err.msg);
    return h;
}

static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void fmt_duration(char *buf, size_t n, const json_t *v)
{
    if (!json_is_number(v)) {
        snprintf(buf, n, "-");
        return;
    }
    double ms = json_number_value(v);
    if (ms < 1000) snprintf(buf, n, "%.1f ms", ms);
    else if (ms < 60000) snprintf(buf, n, "%.2f s", ms / 1000);
    else snprintf(buf, n, "%dm%02ds", (int)(ms / 60000), (int)(ms / 1000) % 60);
}

static void fmt_count(char *buf, size_t n, const json_t *v)
{
    if (json_is_integer(v)) snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else snprintf(buf, n, "-");
}

/* "2026-11-23T10:00:01.123Z" -> "2026-11-23 10:00:01" */
static void fmt_time(char *buf, size_t n, const char *iso)
{
    snprintf(buf, n, "%.19s", iso && *iso ? iso : "-");
    if (strlen(buf) > 10 && buf[10] == 'T') buf[10] = ' ';
}

/* One line of the table; widths are the column widths. */
static void print_row(const char *const *cells, const int *widths, int n)
{
    for (int i = 0; i < n; i++) {
        if (i == n - 1) printf("%s\n", cells[i]);
        else printf("%-*s  ", widths[i], cells[i]);
    }
}

static void print_table(const json_t *list)
{
    enum { NC = 8 };
    static const char *const head[NC] = {"TIME (UTC)", "EXECUTION ID", "PROCESS", "MODE",
                                         "STATUS",     "DURATION",     "IN",      "OUT"};
    size_t rows = json_array_size(list);
    char(*cells)[NC][128] = calloc(rows ? rows : 1, sizeof *cells);
    if (!cells) return;
    int widths[NC];
    for (int c = 0; c < NC; c++) widths[c] = (int)strlen(head[c]);
    for (size_t r = 0; r < rows; r++) {
        const json_t *e = json_array_get(list, r);
        const char *name = str_of(e, "processName");
        fmt_time(cells[r][0], sizeof cells[r][0], str_of(e, "startTime"));
        snprintf(cells[r][1], sizeof cells[r][1], "%s", str_of(e, "executionId"));
        snprintf(cells[r][2], sizeof cells[r][2], "%s", *name ? name : str_of(e, "processId"));
        snprintf(cells[r][3], sizeof cells[r][3], "%s", str_of(e, "mode"));
        snprintf(cells[r][4], sizeof cells[r][4], "%s", str_of(e, "status"));
        fmt_duration(cells[r][5], sizeof cells[r][5], json_object_get(e, "durationMs"));
        fmt_count(cells[r][6], sizeof cells[r][6], json_object_get(e, "inputCount"));
        fmt_count(cells[r][7], sizeof cells[r][7], json_object_get(e, "resultCount"));
        for (int c = 0; c < NC; c++)
            if ((int)strlen(cells[r][c]) > widths[c]) widths[c] = (int)strlen(cells[r][c]);
    }
    print_row(head, widths, NC);
    for (size_t r = 0; r < rows; r++) {
        const char *row[NC];
        for (int c = 0; c < NC; c++) row[c] = cells[r][c];
        print_row(row, widths, NC);
    }
    free(cells);
}

/* Parses text (consumed) as JSON; NULL after printing why. */
static json_t *parse(char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    free(text);
    if (!v) fprintf(stderr, "miniatom: the execution history gave JSON that does not parse: %s\n", je.text);
    return v;
}

static void print_json(const json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    fputc('\n', stdout);
}

int ma_cli_executions(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, OPT_DATA},
        {"process", required_argument, 0, OPT_PROCESS},
        {"status", required_argument, 0, OPT_STATUS},
        {"last", required_argument, 0, OPT_LAST},
        {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *data = "./data", *process = NULL, *status = NULL;
    size_t last = DEFAULT_LAST;
    int json = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case OPT_DATA: data = optarg; break;
        case OPT_PROCESS: process = optarg; break;
        case OPT_STATUS: {
            status = NULL;
            for (size_t i = 0; i < sizeof STATUSES / sizeof *STATUSES; i++)
                if (strcasecmp(optarg, STATUSES[i]) == 0) status = STATUSES[i];
            if (!status) {
                fprintf(stderr, "miniatom: --status is STARTED, COMPLETE, COMPLETE_WARN, ERROR or ABORTED, not '%s'\n",
                        optarg);
                return MA_EXIT_USAGE;
            }
            break;
        }
        case OPT_LAST: {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!*optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "miniatom: --last wants a number of executions, not '%s'\n", optarg);
                return MA_EXIT_USAGE;
            }
            last = (size_t)v;
            break;
        }
        case OPT_JSON: json = 1; break;
        case 'h': executions_usage(stdout); return MA_EXIT_OK;
        default: executions_usage(stderr); return MA_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "miniatom executions: unexpected argument '%s'\n\n", argv[optind]);
        executions_usage(stderr);
        return MA_EXIT_USAGE;
    }
    ma_history *h = open_history(data, "executions");
    if (!h) {
        if (json) printf("{\n  \"executions\": []\n}\n");
        return MA_EXIT_FAILED;
    }
    ma_error err;
    ma_error_clear(&err);
    char *text = ma_history_list_json(h, process, status, last, &err);
    ma_history_close(h);
    if (!text) {
        fprintf(stderr, "miniatom: %s\n", err.msg);
        return MA_EXIT_FAILED;
    }
    json_t *v = parse(text);
    if (!v) return MA_EXIT_FAILED;
    const json_t *list = json_object_get(v, "executions");
    size_t n = json_array_size(list);
    if (json) print_json(v);
    else if (n) print_table(list);
    if (!n) fprintf(stderr, "miniatom: no recorded execution matches\n");
    json_decref(v);
    return n ? MA_EXIT_OK : MA_EXIT_FAILED;
}

/* Prints free text (a message, a property) with control characters shown as '?', so that a
 * recorded value cannot drive the terminal. */
static void put_clean(const char *s)
{
    for (; *s; s++) fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, stdout);
}

/* Prints s with every line indented. */
static void print_indented(const char *s, size_t len, const char *indent)
{
    int bol = 1;
    for (size_t i = 0; i < len; i++) {
        if (bol) fputs(indent, stdout);
        fputc(s[i], stdout);
        bol = s[i] == '\n';
    }
    if (!bol) fputc('\n', stdout);
}

static void print_docs(const char *title, const json_t *docs, const json_t *rec)
{
    size_t n = json_array_size(docs);
    json_t *omitted = json_object_get(rec, "resultsOmitted");
    if (strcmp(title, "Input documents") == 0) omitted = json_object_get(rec, "inputsOmitted");
    if (!json_is_true(json_object_get(rec, "payloads"))) {
        printf("\n%s: not recorded (%s mode records no payloads)\n", title, str_of(rec, "mode"));
        return;
    }
    printf("\n%s (%zu recorded", title, n);
    if (json_integer_value(omitted) > 0) printf(", %lld more not recorded", (long long)json_integer_value(omitted));
    printf(")\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(docs, i);
        const char *data = str_of(d, "data");
        long long size = (long long)json_integer_value(json_object_get(d, "size"));
        int b64 = strcmp(str_of(d, "encoding"), "base64") == 0;
        printf("  #%zu  %lld bytes", i + 1, size);
        if (json_is_true(json_object_get(d, "truncated")))
            printf(" (only the first %lld recorded)",
                   (long long)json_integer_value(json_object_get(d, "recordedSize")));
        printf("%s\n", b64 ? ", base64" : "");
        const json_t *props = json_object_get(d, "properties");
        const char *k;
        json_t *v;
        if (json_object_size(props)) {
            printf("    properties:\n");
            json_object_foreach ((json_t *)props, k, v) {
                const char *value = json_string_value(v);
                printf("      ");
                put_clean(k);
                printf(" = ");
                put_clean(value ? value : "");
                fputc('\n', stdout);
            }
        }
        printf("    data:\n");
        size_t len = json_string_length(json_object_get(d, "data"));
        if (!b64) {
            print_indented(data, len, "      ");
        } else {
            for (size_t off = 0; off < len; off += 76)
                printf("      %.*s\n", (int)(len - off < 76 ? len - off : 76), data + off);
        }
    }
}

static void print_record(const json_t *rec)
{
    char dur[64], buf[64];
    printf("Execution        %s\n", str_of(rec, "executionId"));
    printf("Process          %s (%s)\n", str_of(rec, "processName"), str_of(rec, "processId"));
    printf("Mode             %s", str_of(rec, "mode"));
    if (*str_of(rec, "trigger")) printf(" (trigger: %s)", str_of(rec, "trigger"));
    printf("\nStatus           %s\n", str_of(rec, "status"));
    if (json_is_string(json_object_get(rec, "message"))) {
        printf("Message          ");
        put_clean(str_of(rec, "message"));
        fputc('\n', stdout);
    }
    printf("Started          %s\n", str_of(rec, "startTime"));
    printf("Ended            %s\n", json_is_string(json_object_get(rec, "endTime")) ? str_of(rec, "endTime") : "-");
    fmt_duration(dur, sizeof dur, json_object_get(rec, "durationMs"));
    printf("Duration         %s\n", dur);
    fmt_count(buf, sizeof buf, json_object_get(rec, "inputCount"));
    printf("Documents        %s in, ", buf);
    fmt_count(buf, sizeof buf, json_object_get(rec, "resultCount"));
    printf("%s out, ", buf);
    fmt_count(buf, sizeof buf, json_object_get(rec, "documentErrors"));
    printf("%s document errors\n", buf);

    const json_t *shapes = json_object_get(rec, "shapes");
    printf("\nDocuments per shape\n");
    if (!json_array_size(shapes)) printf("  (none recorded)\n");
    int wn = 5, wt = 4, wl = 5;
    for (size_t i = 0; i < json_array_size(shapes); i++) {
        const json_t *s = json_array_get(shapes, i);
        int a = (int)strlen(str_of(s, "shape")), b = (int)strlen(str_of(s, "type"));
        int c = (int)strlen(str_of(s, "label"));
        wn = a > wn ? a : wn, wt = b > wt ? b : wt, wl = c > wl ? c : wl;
    }
    if (json_array_size(shapes)) printf("  %-*s  %-*s  %-*s  DOCUMENTS\n", wn, "SHAPE", wt, "TYPE", wl, "LABEL");
    for (size_t i = 0; i < json_array_size(shapes); i++) {
        const json_t *s = json_array_get(shapes, i);
        printf("  %-*s  %-*s  %-*s  %lld\n", wn, str_of(s, "shape"), wt, str_of(s, "type"), wl, str_of(s, "label"),
               (long long)json_integer_value(json_object_get(s, "documents")));
    }

    const json_t *log = json_object_get(rec, "log");
    printf("\nUser log\n");
    if (!json_array_size(log)) printf("  (empty)\n");
    for (size_t i = 0; i < json_array_size(log); i++) {
        const json_t *e = json_array_get(log, i);
        printf("  %s  %-7s  %s  ", str_of(e, "time"), str_of(e, "level"), str_of(e, "shape"));
        put_clean(str_of(e, "message"));
        fputc('\n', stdout);
    }
    if (json_integer_value(json_object_get(rec, "logOmitted")) > 0)
        printf("  (%lld more entries not recorded)\n",
               (long long)json_integer_value(json_object_get(rec, "logOmitted")));

    print_docs("Input documents", json_object_get(rec, "inputs"), rec);
    print_docs("Result documents", json_object_get(rec, "results"), rec);

    const json_t *cb = json_object_get(rec, "pendingCallback");
    if (json_is_object(cb))
        printf("\nPending Flow callback to %s (tenant %s, state %s) since %s\n", str_of(cb, "callbackUri"),
               str_of(cb, "tenant"), str_of(cb, "stateId"), str_of(cb, "since"));
}

int ma_cli_execution(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, OPT_DATA},
        {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *data = "./data";
    int json = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case OPT_DATA: data = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'h': execution_usage(stdout); return MA_EXIT_OK;
        default: execution_usage(stderr); return MA_EXIT_USAGE;
        }
    }
    if (optind != argc - 2 || strcmp(argv[optind], "show") != 0 || !*argv[optind + 1]) {
        fprintf(stderr, "miniatom execution: expected 'show ID'\n\n");
        execution_usage(stderr);
        return MA_EXIT_USAGE;
    }
    const char *id = argv[optind + 1];
    ma_history *h = open_history(data, "execution show");
    if (!h) return MA_EXIT_FAILED;
    ma_error err;
    ma_error_clear(&err);
    char *text = ma_history_show_json(h, id, &err);
    ma_history_close(h);
    if (!text) {
        fprintf(stderr, "miniatom: %s\n", err.msg);
        return MA_EXIT_FAILED;
    }
    json_t *v = parse(text);
    if (!v) return MA_EXIT_FAILED;
    if (json) print_json(v);
    else print_record(v);
    json_decref(v);
    return MA_EXIT_OK;
}
