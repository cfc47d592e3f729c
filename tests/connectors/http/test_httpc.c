/* test_httpc.c - unit checks of the shared HTTP client (connectors/common/httpc.c) against the
 * test server (server.py), run by tests/connectors/http/run.sh: methods and bodies, response
 * headers, retries on 503 and 429 (Retry-After), giving up with the last response, no retry when
 * disabled, connection failures (the message without the query string), the response size limit,
 * timeouts, keep-alive reuse, and one pool shared by several threads.
 * Usage: test_httpc BASE_URL   (prints "ok - ..." / "not ok - ..." lines; exit 1 on a failure) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"

static int failed;
static void check(int cond, const char *what)
{
    printf("%s - httpc: %s\n", cond ? "ok" : "not ok", what);
    if (!cond) failed++;
}

static const char *base;
static ma_httpc *shared;

/* The runtime's answer to "must the calling thread's execution stop?" (miniatom/shape.h): here a
 * switch the checks below turn on. */
static volatile int stop_now;
int ma_exec_must_stop(void) { return stop_now; }

static void *worker(void *arg)
{
    long bad = 0;
    char url[256];
    snprintf(url, sizeof url, "%s/echo/thread/%ld", base, (long)(intptr_t)arg);
    for (int i = 0; i < 50; i++) {
        ma_httpc_response r;
        ma_error e;
        if (ma_httpc_request(shared, "GET", url, NULL, 0, NULL, 0, &r, &e) < 0 || r.status != 200 || !strstr(r.body, "/echo/thread/")) bad++;
        ma_httpc_response_free(&r);
    }
    return (void *)(intptr_t)bad;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    base = argv[1];
    char url[512];
    ma_error e;
    ma_httpc_response r;
    ma_httpc_opts o;
    memset(&o, 0, sizeof o);
    o.backoff_ms = 1;
    ma_httpc *c = ma_httpc_new(&o, &e);
    check(c != NULL, "a pool with default options");

    ma_httpc_header h[] = {{"Content-Type", "application/json"}, {"X-Static", "v"}, {"X-Empty", ""}};
    snprintf(url, sizeof url, "%s/echo/post?q=1", base);
    int rc = ma_httpc_request(c, "POST", url, h, 3, "{\"a\":1}", 7, &r, &e);
    check(rc == 0 && r.status == 200 && strstr(r.body, "\"body\": \"{\\\"a\\\":1}\"") && strstr(r.body, "\"x-empty\": \"\"") &&
              strstr(r.body, "\"method\": \"POST\"") && r.attempts == 1,
          "POST with a body and headers (an empty header is sent empty)");
    check(rc == 0 && ma_httpc_header_get(&r, "x-request-id") && strcmp(ma_httpc_header_get(&r, "X-REQUEST-ID"), "req-post") == 0 &&
              !ma_httpc_header_get(&r, "X-Missing"),
          "response headers by case-insensitive name");
    check(rc == 0 && r.body[r.body_len] == '\0' && r.body_len == strlen(r.body), "the body is NUL-terminated");
    ma_httpc_response_free(&r);
    snprintf(url, sizeof url, "%s/echo/x", base);
    rc = ma_httpc_request(c, "HEAD", url, NULL, 0, NULL, 0, &r, &e);
    check(rc == 0 && r.status == 200 && r.body_len == 0 && r.body && ma_httpc_header_get(&r, "Content-Length"), "HEAD: headers, no body");
    ma_httpc_response_free(&r);
    rc = ma_httpc_request(c, "DELETE", url, NULL, 0, NULL, 0, &r, &e);
    check(rc == 0 && strstr(r.body, "\"method\": \"DELETE\""), "DELETE without a body");
    ma_httpc_response_free(&r);

    snprintf(url, sizeof url, "%s/flaky/a/2/503", base);
    rc = ma_httpc_request(c, "GET", url, NULL, 0, NULL, 0, &r, &e);
    check(rc == 0 && r.status == 200 && r.attempts == 3 && strcmp(r.body, "ok after 2") == 0, "503 twice, then 200: retried (3 attempts)");
    ma_httpc_response_free(&r);
    snprintf(url, sizeof url, "%s/flaky/b/1/429", base);
    rc = ma_httpc_request(c, "GET", url, NULL, 0, NULL, 0, &r, &e);
    check(rc == 0 && r.status == 200 && r.attempts == 2, "429 with Retry-After, then 200");
    ma_httpc_response_free(&r);
    snprintf(url, sizeof url, "%s/flaky/c/9/500", base);
    rc = ma_httpc_request(c, "GET", url, NULL, 0, NULL, 0, &r, &e);
    check(rc == 0 && r.status == 500 && r.attempts == 4, "500 every time: 3 retries, then the last response (status 500)");
    ma_httpc_response_free(&r);
    snprintf(url, sizeof url, "%s/status/404", base);
    rc = ma_httpc_request(c, "GET", url, NULL, 0, NULL, 0, &r, &e);
    check(rc == 0 && r.status == 404 && r.attempts == 1 && strcmp(r.body, "status 404") == 0, "404 is not retried");
    ma_httpc_response_free(&r);
    long conns = ma_httpc_connections_opened(c);
    check(conns == 1, "every request so far went through one kept-alive connection");

    ma_httpc_opts o2;
    memset(&o2, 0, sizeof o2);
    o2.retries = -1;
    o2.max_response = 1000;
    o2.timeout_ms = 500;
    ma_httpc *c2 = ma_httpc_new(&o2, &e);
    snprintf(url, sizeof url, "%s/flaky/d/1/503", base);
    rc = ma_httpc_request(c2, "GET", url, NULL, 0, NULL, 0, &r, &e);
    check(rc == 0 && r.status == 503 && r.attempts == 1, "retries < 0: no retry");
    ma_httpc_response_free(&r);
    snprintf(url, sizeof url, "%s/big/5000", base);
    rc = ma_httpc_request(c2, "GET", url, NULL, 0, NULL, 0, &r, &e);
    check(rc < 0 && e.code == MA_ERR_LIMIT && strstr(e.msg, "larger than 1000 bytes") && r.body == NULL, "a response over max_response is an error");
    snprintf(url, sizeof url, "%s/slow?token=SECRET", base);
    rc = ma_httpc_request(c2, "GET", url, NULL, 0, NULL, 0, &r, &e);
    check(rc < 0 && e.code == MA_ERR_IO && strstr(e.msg, "/slow") && !strstr(e.msg, "SECRET"), "a timeout is an error naming the URL without its query");
    /* an execution that must stop (deadline, cancel, memory) ends its call at once: /slow would
     * answer after the pool's timeout, /retry/... after retries */
    stop_now = 1;
    snprintf(url, sizeof url, "%s/slow", base);
    rc = ma_httpc_request(c, "GET", url, NULL, 0, NULL, 0, &r, &e);
    check(rc < 0 && e.code == MA_ERR_IO && strstr(e.msg, "stopped, the execution must end"),
          "a call whose execution must stop is aborted, with an error that says so");
    stop_now = 0;
    ma_httpc_free(c2);

    rc = ma_httpc_request(c, "GET", "http://user:pw0rd@127.0.0.1:1/x?token=SECRET", NULL, 0, NULL, 0, &r, &e);
    check(rc < 0 && strncmp(e.msg, "HTTP GET http://127.0.0.1:1/x: ", 31) == 0 && !strstr(e.msg, "SECRET") && !strstr(e.msg, "pw0rd") &&
              strstr(e.msg, "(after retries)"),
          "a refused connection: retried, then an error without user info or query");
    rc = ma_httpc_request(c, "get", "http://127.0.0.1:1/", NULL, 0, NULL, 0, &r, &e);
    check(rc < 0 && e.code == MA_ERR_USAGE, "a method that is not upper case is refused");
    rc = ma_httpc_request(c, "GET", "file:///etc/passwd", NULL, 0, NULL, 0, &r, &e);
    check(rc < 0, "only http and https URLs");

    shared = c;
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    long bad = 0;
    for (int i = 0; i < 4; i++) {
        void *v;
        pthread_join(t[i], &v);
        bad += (long)(intptr_t)v;
    }
    check(bad == 0, "4 threads x 50 requests through one pool");
    check(ma_httpc_connections_opened(c) <= conns + 4 + 1, "threads reuse the pool's connections");
    ma_httpc_free(c);
    return failed ? 1 : 0;
}
