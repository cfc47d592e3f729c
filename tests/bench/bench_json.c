/* bench_json.c - the JSON reader and writer on one thread, in nanoseconds per call: ma_json_check
 * (what the Web Services Server runs on every singlejson and multijson request body), ma_jv_parse
 * (Flow requests), ma_doc_looks_json (the map shape) and jansson's json_loadb on the order API's
 * request body, the Flow Greet request, a 100 KB document of ASCII strings and one of mostly
 * non-ASCII strings; then ma_sb_json_escape on 1 KB of ASCII and 1 KB of mostly non-ASCII text.
 * Usage: bench_json ORDER_BODY GREET_REQUEST [MILLISECONDS_PER_CASE=500] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonxml.h"
#include "util.h"

static double ms_per_case = 500;

/* Runs f(d, n) for ms_per_case in 5 batches: nanoseconds per call in the fastest batch (the
 * machine is shared: the fastest is the least disturbed). */
static double per_call(void (*f)(const char *, size_t), const char *d, size_t n)
{
    double best = 0;
    for (int batch = 0; batch < 5; batch++) {
        uint64_t t0 = ma_now_ns(), t;
        size_t calls = 0, round = 16;
        do {
            for (size_t i = 0; i < round; i++) f(d, n);
            calls += round;
            if (round < 65536) round *= 2;
            t = ma_now_ns();
        } while ((double)(t - t0) < ms_per_case * 1e6 / 5);
        double ns = (double)(t - t0) / (double)calls;
        if (!batch || ns < best) best = ns;
    }
    return best;
}

static volatile size_t sink;

static void run_check(const char *d, size_t n)
{
    if (ma_json_check(d, n, NULL, NULL, NULL, NULL) != 0) abort();
}

static void run_check_items(const char *d, size_t n)
{
    ma_json_span *items = NULL;
    size_t k = 0;
    if (ma_json_check(d, n, NULL, &items, &k, NULL) != 0) abort();
    sink += k;
    free(items);
}

static void run_jv(const char *d, size_t n)
{
    ma_jv *v = ma_jv_parse(d, n, 1, NULL, NULL);
    if (!v) abort();
    ma_jv_free(v);
}

static void run_looks(const char *d, size_t n)
{
    if (!ma_doc_looks_json(d, n, NULL)) abort();
}

static void run_jansson(const char *d, size_t n)
{
    json_t *v = json_loadb(d, n, JSON_DECODE_ANY, NULL);
    if (!v) abort();
    json_decref(v);
}

static ma_sb out;

static void run_escape(const char *d, size_t n)
{
    ma_sb_reset(&out);
    ma_sb_json_escape(&out, d, n);
    sink += out.len;
}

/* A 100 KB array of records whose strings are ASCII, or mostly 2- and 3-byte UTF-8. */
static char *big_doc(int utf8, size_t *len)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_putc(&b, '[');
    const char *text = utf8 ? "Gr\xC3\xBC\xC3\x9F\x65 \xC3\xA0 \xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE6\x97\xA5\xE6\x9C\xAC"
                            : "Greetings to everyone, here and there";
    for (int i = 0; b.len < 100000; i++)
        ma_sb_printf(&b, "%s{\"id\":%d,\"name\":\"%s %d\",\"price\":%d.25,\"ok\":true,\"tags\":[\"a\",\"b\"]}", i ? "," : "",
                     i, text, i, i % 50);
    ma_sb_putc(&b, ']');
    return ma_sb_take(&b, len);
}

static void text_of(ma_sb *b, int utf8)
{
    const char *t = utf8 ? "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE6\x97\xA5\xE6\x9C\xAC \xC3\xA9t\xC3\xA9 "
                         : "The quick brown fox jumps over the lazy dog. ";
    while (b->len < 1024) ma_sb_puts(b, t);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_json ORDER_BODY GREET_REQUEST [MILLISECONDS_PER_CASE]\n");
        return 2;
    }
    if (argc > 3) ms_per_case = atof(argv[3]);
    ma_error err;
    size_t n[4];
    char *doc[4];
    const char *name[4] = {"order body", "Flow Greet request", "100 KB, ASCII strings", "100 KB, UTF-8 strings"};
    for (int i = 0; i < 2; i++)
        if (!(doc[i] = ma_read_file(argv[1 + i], 1 << 20, &n[i], &err))) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
    doc[2] = big_doc(0, &n[2]);
    doc[3] = big_doc(1, &n[3]);
    printf("%-24s %8s %12s %12s %12s %12s %12s\n", "document", "bytes", "check", "check+items", "jv_parse",
           "looks_json", "jansson");
    for (int i = 0; i < 4; i++) {
        printf("%-24s %8zu", name[i], n[i]);
        printf(" %9.0f ns", per_call(run_check, doc[i], n[i]));
        printf(" %9.0f ns", per_call(run_check_items, doc[i], n[i]));
        printf(" %9.0f ns", per_call(run_jv, doc[i], n[i]));
        if (doc[i][0] == '{' || doc[i][0] == '[') printf(" %9.0f ns", per_call(run_looks, doc[i], n[i]));
        else printf(" %12s", "-");
        printf(" %9.0f ns\n", per_call(run_jansson, doc[i], n[i]));
        free(doc[i]);
    }
    ma_sb_init(&out);
    for (int utf8 = 0; utf8 < 2; utf8++) {
        ma_sb t;
        ma_sb_init(&t);
        text_of(&t, utf8);
        printf("ma_sb_json_escape, %zu bytes of %s text: %.0f ns\n", t.len, utf8 ? "UTF-8" : "ASCII",
               per_call(run_escape, t.s, t.len));
        ma_sb_free(&t);
    }
    ma_sb_free(&out);
    return 0;
}
