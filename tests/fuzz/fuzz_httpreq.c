/* fuzz_httpreq.c - libFuzzer target for the HTTP request path of `miniatom serve`: the whole server
 * (runtime/server*.c, as ma_server_run starts it) runs in this process on a free port of 127.0.0.1,
 * serving tests/server/wss/deploy (its slow and failing processes left out) and processes/, with Basic
 * authentication on the Flow listener (user "fuzz", token "secret"). Each input is written as raw
 * bytes on a new connection, the write side is closed, and the answer read until the server closes
 * the connection: libmicrohttpd's parser, the server's own checks (limits, authentication, the checks
 * on_request makes before any body is read), /health and the listeners' dispatch and executions run on
 * whatever request line, headers, query, chunked or multipart body, or pipelined requests the input
 * holds. Checked: a request the server must answer however it is read (a complete GET, HEAD or
 * DELETE without a body) is answered within MA_FUZZ_ANSWER_MS (default 10000; any other input may
 * leave it waiting for the rest, which is not waited for), every answer starts with an HTTP/1.x status line, the server never answers 500 on its own (the
 * deployment's processes do not fail that way), and it keeps serving (GET /health every 64 inputs).
 * The server's log goes to stderr: run with -close_fd_mask=2 (run.sh does) to keep libFuzzer's own
 * output readable; this target says what went wrong on stdout. Its deployment and data folder are
 * made in $TMPDIR (default /tmp). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "miniatom/config.h"
#include "server.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sockaddr_in addr;
static ma_settings *settings;
static long answer_ms = 10000;
#define QUIET_MS 40
static int verbose; /* MA_FUZZ_VERBOSE: each answer's start on stdout */

/* Says what went wrong (on stdout: stderr may be closed) and aborts: libFuzzer keeps the input. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz_httpreq: ", stdout);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    abort();
}

static atomic_int started, stopped; /* the server listens; ma_server_run returned (before that) */

static void *serve_main(void *arg)
{
    int rc = ma_server_run(arg, 0);
    if (!atomic_load(&started)) { /* the port was taken meanwhile: init tries another */
        atomic_store(&stopped, 1);
        return NULL;
    }
    die("the server stopped (exit %d)", rc); /* it runs for as long as the fuzzer does */
}

static void setting(const char *key, const char *value)
{
    ma_error err;
    if (ma_settings_add(settings, key, value, "fuzz_httpreq", &err) < 0) {
        die("%s: %s", key, err.msg);
    }
}

/* dir/name -> from/name for every XML file of from, but the slow processes (they wait on a test server)
 * and the failing one (its Exception shape makes the listener answer 500 by design, which would hide
 * a 500 of the server's own). */
static void link_deployment(const char *dir, const char *from)
{
    char **names = NULL;
    size_t n = 0;
    ma_error err;
    if (ma_dir_list(from, ".xml", 10000, &names, &n, &err) < 0) {
        die("%s: %s", from, err.msg);
    }
    for (size_t i = 0; i < n; i++) {
        if (strstr(names[i], "slow") || strstr(names[i], "fail")) continue;
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/%s", from, names[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, names[i]);
        if (symlink(src, dst) < 0 && errno != EEXIST) abort();
    }
    ma_strings_free(names, n);
}

static int try_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        /* interrupted (libFuzzer's timer signal): the connection goes on; wait for its outcome */
        int e = errno, soe = 0;
        socklen_t sl = sizeof soe;
        struct pollfd p = {fd, POLLOUT, 0};
        if (e == EINTR)
            while (poll(&p, 1, 10000) < 0 && errno == EINTR) continue;
        if (e != EINTR || !(p.revents & POLLOUT) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soe, &sl) < 0 || soe) {
            close(fd);
            errno = e == EINTR && soe ? soe : e;
            return -1;
        }
    }
    struct linger lg = {1, 0}; /* closed with a reset: no TIME_WAIT left behind per input */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    return fd;
}

static void init(void)
{
    const char *top = getenv("top_srcdir");
    if (!top) top = ".";
    const char *ms = getenv("MA_FUZZ_ANSWER_MS");
    if (ms && atol(ms) > 0) answer_ms = atol(ms);
    verbose = getenv("MA_FUZZ_VERBOSE") != NULL;
    const char *tmpdir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/fuzz_httpreq.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    char *tmp = mkdtemp(tmpl);
    if (!tmp) abort();
    char deploy[4096], data[4096], from[4096];
    snprintf(deploy, sizeof deploy, "%s/deploy", tmp);
    snprintf(data, sizeof data, "%s/data", tmp);
    if (mkdir(deploy, 0700) < 0) abort();
    snprintf(from, sizeof from, "%s/tests/server/wss/deploy", top);
    link_deployment(deploy, from);
    snprintf(from, sizeof from, "%s/processes", top);
    link_deployment(deploy, from);

    ma_error err;
    char *hash = ma_server_hash_token("secret", 6, 1000, &err);
    if (!hash) abort();
    for (int attempt = 0; attempt < 5; attempt++) {
        /* a free port: bound, named and let go (the server binds it again at once) */
        int s = socket(AF_INET, SOCK_STREAM, 0);
        memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t al = sizeof addr;
        if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 ||
            getsockname(s, (struct sockaddr *)&addr, &al) < 0)
            abort();
        close(s);
        char listen[64];
        snprintf(listen, sizeof listen, "127.0.0.1:%u", ntohs(addr.sin_port));
        if (!(settings = ma_settings_new())) abort();
        setting("server.listen", listen);
        setting("server.deploy", deploy);
        setting("server.data", data);
        setting("log.requests", "false");
        setting("limits.sync_timeout", "5s");
        setting("auth.fss.mode", "basic");
        setting("auth.fss.user.fuzz", hash);
        atomic_store(&stopped, 0);
        pthread_t th;
        if (pthread_create(&th, NULL, serve_main, settings) != 0) abort();
        for (int i = 0; i < 3000 && !atomic_load(&stopped); i++) { /* start-up only: wait for it to listen */
            int fd = try_connect();
            if (fd >= 0 && !atomic_load(&stopped)) {
                close(fd);
                atomic_store(&started, 1);
                pthread_detach(th);
                free(hash);
                return;
            }
            if (fd >= 0) close(fd);
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (!atomic_load(&stopped)) die("the server did not listen on %s", listen);
        pthread_join(th, NULL);
        ma_settings_free(settings);
        settings = NULL;
    }
    die("the server could not start on any of 5 free ports");
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Checks what the server answered: status lines, each "HTTP/1.x NNN", never 500 of its own. */
static void check_answer(const char *buf, size_t n)
{
    if (!n) return; /* closed without an answer: a request libmicrohttpd dropped */
    if (n < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        die("not a status line: %.*s", (int)(n < 200 ? n : 200), buf);
    int status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (status < 100 || status > 599) die("status %d", status);
    if (status == 500) {
        die("the server answered 500:\n%.*s", (int)(n < 2000 ? n : 2000), buf);
    }
}

/* 1 when the line at p (the input ends at end, without a NUL) starts with the header name. */
static int header_is(const char *p, const char *end, const char *name)
{
    size_t n = strlen(name);
    return (size_t)(end - p) >= n && !strncasecmp(p, name, n);
}

/* 1 when data is one request the server must answer however it is read: a GET, HEAD or DELETE
 * whose request line and headers are complete, lines ended by CRLF, with no body announced. Other
 * inputs may leave the server waiting for the rest (a body, the end of the headers); it then keeps the
 * connection until server.idle_timeout, which is not waited for here. */
static int must_answer(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    if (!((size > 4 && !memcmp(d, "GET ", 4)) || (size > 5 && !memcmp(d, "HEAD ", 5)) ||
          (size > 7 && !memcmp(d, "DELETE ", 7))))
        return 0;
    const char *end = memmem(d, size, "\r\n\r\n", 4);
    if (!end) return 0;
    for (const char *p = d; p < end + 2; p++) {
        if (*p == '\0' || (*p == '\r' && p[1] != '\n') || (*p == '\n' && p[-1] != '\r')) return 0;
        if (*p == '\n' && (header_is(p + 1, d + size, "content-length") || header_is(p + 1, d + size, "transfer-encoding") ||
                           header_is(p + 1, d + size, "expect")))
            return 0;
    }
    return 1;
}

/* Writes data on a new connection, closes the write side and reads the answer into buf (at most
 * bufn; *got its length): until the server closes the connection, or QUIET_MS after the headers of
 * an answer with nothing more, or - when it need not answer - QUIET_MS without a byte. Aborts when a
 * request it must answer gets nothing within answer_ms. */
static void exchange(const uint8_t *data, size_t size, int must, char *buf, size_t bufn, size_t *got)
{
    int fd = try_connect();
    if (fd < 0) {
        die("the server no longer accepts connections: %s", strerror(errno));
    }
    long deadline = now_ms() + answer_ms;
    size_t off = 0;
    int wr_open = 1;
    *got = 0;
    if (!size) {
        shutdown(fd, SHUT_WR);
        wr_open = 0;
    }
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0) {
            if (!must && !*got) break; /* still waiting for the rest of the request */
            die("no answer within %ld ms (%zu of %zu bytes written)", answer_ms, off, size);
        }
        int headers = *got >= 12 && memmem(buf, *got, "\r\n\r\n", 4);
        int quiet = !wr_open && (headers || !must);
        struct pollfd p = {fd, (short)(POLLIN | (wr_open ? POLLOUT : 0)), 0};
        int pr = poll(&p, 1, quiet && left > QUIET_MS ? QUIET_MS : (int)left);
        if (pr == 0 && quiet) break;
        if (pr <= 0) continue;
        if (wr_open && (p.revents & POLLOUT)) {
            ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) off += (size_t)w;
            if (w < 0 && errno != EAGAIN && errno != EINTR) off = size; /* the server closed: read its answer */
            if (off == size) {
                shutdown(fd, SHUT_WR);
                wr_open = 0;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(fd, buf + *got, bufn - *got, MSG_DONTWAIT);
            if (r > 0) {
                *got += (size_t)r;
                if (*got == bufn) *got = bufn / 2; /* only the first answer's status line is checked */
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EINTR)) break; /* closed (or reset) */
        }
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[1 << 16];
    static unsigned long runs;
    if (!settings) init();
    size_t got;
    exchange(data, size, must_answer(data, size), buf, sizeof buf, &got);
    if (verbose) fprintf(stdout, "fuzz_httpreq: answer: %.*s\n", (int)(got < 400 ? got : 400), buf);
    check_answer(buf, got);
    if (++runs % 64 == 0) { /* it keeps serving */
        static const char health[] = "GET /health HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n";
        exchange((const uint8_t *)health, sizeof health - 1, 1, buf, sizeof buf, &got);
        if (got < 12 || memcmp(buf + 9, "200", 3) != 0) {
            die("GET /health answered: %.*s", (int)(got < 200 ? got : 200), buf);
        }
    }
    return 0;
}
