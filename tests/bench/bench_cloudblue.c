/* bench_cloudblue.c - the CloudBlue Connect connector's own cost per call: the process
 * deploy-cloudblue/process-get.xml (Data Passthrough start -> CloudBlue GET Request -> Stop) runs
 * on N documents, each with its own request id (connector.cloudblue.request_id), through one
 * connection against a minimal fake Connect server running in this program: a pthread doing
 * blocking accept() on 127.0.0.1 (one more thread per accepted connection doing blocking
 * read/write, HTTP/1.1 keep-alive) that answers every GET /public/v1/requests/PR-... with the same
 * small JSON object, recording the time it spends on each request (from the request's last byte
 * read to its response written) and the TCP connections it accepted.
 *
 * Prints, per call (best and median of R rounds; loopback wake-up latency on a shared machine
 * varies between rounds): the total time, the server's time, the connector's overhead = total -
 * server time, and the TCP connections the server accepted; then the same figures for the bare
 * shared HTTP client (connectors/common/httpc.h, one pool, the same requests and headers) and a
 * bare socket client (the kernel's loopback round trip: the floor any client pays).
 *
 * Build (from a build folder; tests/bench/bench_cloudblue.sh does it):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I$src/include -I$src/runtime -I$src/shapes -I$src/connectors
 *      -I$src/connectors/common -I. $(pkg-config --cflags libxml-2.0 libxslt libexslt jansson libcurl)
 *      $src/tests/bench/bench_cloudblue.c libmacore.a
 *      $(pkg-config --libs libexslt libxslt libxml-2.0 jansson libcurl) -lpthread -ldl -lm
 * Usage: bench_cloudblue DEPLOY_DIR [CALLS=1000] [ROUNDS=7] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "executor.h"
#include "httpc.h"
#include "loader.h"
#include "builtins.h"
#include "registry.h"

#define CONN_ID "b3c4d5e6-0000-4000-8000-0000000000c1"
#define PROCESS "Bench CloudBlue Get"
#define TOKEN "SU-0000-1111:bench-secret"
#define ID_PREFIX "PR-0000-0000-"
#define PATH_PREFIX "/public/v1/requests/" ID_PREFIX

static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 46\r\nConnection: keep-alive\r\n\r\n"
    "{\"id\":\"PR-0000-0000-0001\",\"status\":\"approved\"}";

static atomic_long accepted, served, refused;
static atomic_llong server_ns; /* summed over requests: from the request's last byte read to the response written */
static atomic_llong id_sum;    /* sum of the numbers at the end of the request ids seen */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* one request (the head, NUL-terminated): checks it as the fake Connect server would */
static int handle(const char *req)
{
    if (strncmp(req, "GET " PATH_PREFIX, 4 + sizeof PATH_PREFIX - 1) != 0) return -1;
    if (!strstr(req, "\r\nAuthorization: ApiKey " TOKEN "\r\n")) return -1;
    atomic_fetch_add(&id_sum, atol(req + 4 + sizeof PATH_PREFIX - 1));
    return 0;
}

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[16384];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have - 1);
        if (n <= 0) break;
        have += (size_t)n;
        buf[have] = '\0';
        char *end;
        while ((end = strstr(buf, "\r\n\r\n")) != NULL) { /* GET requests: no body */
            uint64_t t0 = now_ns();
            size_t used = (size_t)(end + 4 - buf);
            end[2] = '\0';
            if (handle(buf) < 0) {
                atomic_fetch_add(&refused, 1);
                goto out;
            }
            if (write(fd, RESPONSE, sizeof RESPONSE - 1) != (ssize_t)(sizeof RESPONSE - 1)) goto out;
            atomic_fetch_add(&server_ns, (long long)(now_ns() - t0));
            atomic_fetch_add(&served, 1);
            memmove(buf, buf + used, have - used);
            have -= used;
            buf[have] = '\0';
        }
        if (have >= sizeof buf - 1) break;
    }
out:
    close(fd);
    return NULL;
}

static void *server(void *arg)
{
    int ls = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        atomic_fetch_add(&accepted, 1);
        pthread_t t;
        if (pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd) == 0) pthread_detach(t);
        else close(fd);
    }
    return NULL;
}

typedef struct round_stat {
    double total_us, server_us; /* per call */
} round_stat;

typedef struct counters {
    long served, accepted;
    long long ns, ids;
} counters;

static counters snap(void)
{
    return (counters){atomic_load(&served), atomic_load(&accepted), atomic_load(&server_ns), atomic_load(&id_sum)};
}

static round_stat since(const counters *c0, uint64_t t0, int calls)
{
    uint64_t t1 = now_ns();
    counters c = snap();
    /* the server counts a request after writing its response: the client may be faster */
    for (int spin = 0; c.served - c0->served < calls && spin < 100000; spin++) {
        sched_yield();
        c = snap();
    }
    round_stat r;
    r.total_us = (double)(t1 - t0) / calls / 1000.0;
    r.server_us = c.served > c0->served ? (double)(c.ns - c0->ns) / (double)(c.served - c0->served) / 1000.0 : 0;
    if (c.served - c0->served != calls) {
        fprintf(stderr, "the server answered %ld requests for %d calls\n", c.served - c0->served, calls);
        exit(1);
    }
    long long want = (long long)calls * (calls + 1) / 2;
    if (c.ids - c0->ids != want) {
        fprintf(stderr, "the request ids the server saw do not add up (%lld, expected %lld)\n", c.ids - c0->ids, want);
        exit(1);
    }
    return r;
}

/* one execution of the process over the batch: CALLS CloudBlue GET calls */
static round_stat connector_round(ma_deploy *dep, ma_component *c, const ma_batch *in, int calls)
{
    ma_run_opts o = {.general_mode = 0, .retry_scale = 0, .data_dir = "/tmp"};
    ma_result res;
    ma_error err;
    ma_error_clear(&err);
    counters c0 = snap();
    uint64_t t0 = now_ns();
    if (ma_execute(dep, c->process, in, &o, &res, &err) < 0) {
        fprintf(stderr, "the execution could not start: %s\n", err.msg);
        exit(1);
    }
    round_stat r = since(&c0, t0, calls);
    if (res.status != MA_STATUS_COMPLETE || res.docs.len != (size_t)calls) {
        fprintf(stderr, "execution %s: %s (%zu documents)\n", ma_status_name(res.status),
                res.message ? res.message : "", res.docs.len);
        exit(1);
    }
    for (size_t i = 0; i < res.docs.len; i++) {
        const char *st = ma_doc_prop(res.docs.docs[i], "meta.base.applicationstatuscode");
        if (!st || strcmp(st, "200") != 0) {
            fprintf(stderr, "document %zu: status %s\n", i + 1, st ? st : "(none)");
            exit(1);
        }
    }
    ma_result_free(&res);
    return r;
}

/* the same requests with the bare shared HTTP client, through one pool */
static round_stat httpc_round(ma_httpc *h, const char *base, int calls)
{
    ma_httpc_header hd[] = {{"Authorization", "ApiKey " TOKEN}, {"User-Agent", "miniatom-bench"}, {"Accept", "application/json"}};
    ma_error err;
    char url[256];
    counters c0 = snap();
    uint64_t t0 = now_ns();
    for (int i = 1; i <= calls; i++) {
        snprintf(url, sizeof url, "%s/requests/" ID_PREFIX "%04d", base, i);
        ma_httpc_response res;
        if (ma_httpc_request(h, "GET", url, hd, 3, NULL, 0, &res, &err) < 0) {
            fprintf(stderr, "httpc request %d: %s\n", i, err.msg);
            exit(1);
        }
        if (res.status != 200) {
            fprintf(stderr, "httpc request %d: status %ld\n", i, res.status);
            exit(1);
        }
        ma_httpc_response_free(&res);
    }
    return since(&c0, t0, calls);
}

/* the same exchange over a bare socket: the kernel's loopback round trip plus the server */
static round_stat raw_round(int port, int calls)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[256], buf[4096];
    counters c0 = snap();
    uint64_t t0 = now_ns();
    for (int i = 1; i <= calls; i++) {
        int rl = snprintf(req, sizeof req,
                          "GET " PATH_PREFIX "%04d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: ApiKey " TOKEN
                          "\r\nAccept: application/json\r\n\r\n", i, port);
        if (write(fd, req, (size_t)rl) != rl) {
            perror("write");
            exit(1);
        }
        size_t got = 0;
        while (got < sizeof RESPONSE - 1) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0) {
                perror("read");
                exit(1);
            }
            got += (size_t)n;
        }
    }
    round_stat r = since(&c0, t0, calls);
    close(fd);
    return r;
}

static int cmp_stat(const void *a, const void *b)
{
    double x = ((const round_stat *)a)->total_us - ((const round_stat *)a)->server_us;
    double y = ((const round_stat *)b)->total_us - ((const round_stat *)b)->server_us;
    return x < y ? -1 : x > y;
}

static void report(const char *what, round_stat *r, int rounds, long conns, const char *conn_note)
{
    qsort(r, (size_t)rounds, sizeof r[0], cmp_stat); /* by overhead */
    const round_stat *b = &r[0], *m = &r[rounds / 2];
    printf("%s\n", what);
    printf("  per call, best round:   total %7.1f us   server %5.1f us   overhead (total - server) %7.1f us\n",
           b->total_us, b->server_us, b->total_us - b->server_us);
    printf("  per call, median round: total %7.1f us   server %5.1f us   overhead (total - server) %7.1f us\n",
           m->total_us, m->server_us, m->total_us - m->server_us);
    printf("  TCP connections accepted by the server: %ld%s\n", conns, conn_note);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DEPLOY_DIR [CALLS] [ROUNDS]\n", argv[0]);
        return 2;
    }
    int calls = argc > 2 ? atoi(argv[2]) : 1000, rounds = argc > 3 ? atoi(argv[3]) : 7;
    if (calls <= 0 || calls > 9999 || rounds <= 0 || rounds > 100) {
        fprintf(stderr, "usage: %s DEPLOY_DIR [CALLS (1-9999)] [ROUNDS (1-100)]\n", argv[0]);
        return 2;
    }

    /* the fake server */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 64) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
        perror("listen");
        return 1;
    }
    int port = ntohs(a.sin_port);
    pthread_t st;
    pthread_create(&st, NULL, server, (void *)(intptr_t)ls);
    pthread_detach(st);
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/public/v1", port);

    /* the deployment: the connection's URL and token are connection settings */
    char set_url[256];
    snprintf(set_url, sizeof set_url, "connection." CONN_ID ".url=%s", base);
    const char *settings[] = {set_url, "connection." CONN_ID ".customAuthCredentials=ApiKey " TOKEN};
    xmlInitParser();
    ma_error err;
    ma_error_clear(&err);
    ma_registry *reg = ma_builtins_registry(&err);
    if (!reg) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    ma_deploy_opts dopts;
    memset(&dopts, 0, sizeof dopts);
    dopts.settings = settings;
    dopts.n_settings = 2;
    ma_deploy *dep = ma_deploy_new(reg, &dopts);
    if (!dep || ma_deploy_add_dir(dep, argv[1], &err) < 0) {
        fprintf(stderr, "%s\n", dep ? err.msg : "out of memory");
        return 1;
    }
    ma_component *c = ma_deploy_find_process(dep, PROCESS);
    if (!c || ma_deploy_compile_process(dep, c) < 0) {
        fprintf(stderr, PROCESS " is not runnable (%s)\n", c ? "see miniatom check" : "not found");
        return 1;
    }

    /* CALLS documents, each with its own request id */
    ma_batch in;
    ma_batch_init(&in);
    for (int i = 1; i <= calls; i++) {
        char id[32];
        snprintf(id, sizeof id, ID_PREFIX "%04d", i);
        ma_doc *d = ma_doc_new("", 0);
        if (!d || ma_doc_set_prop(&d, "connector.cloudblue.request_id", id) < 0 || ma_batch_push(&in, d) < 0) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
    }

    ma_httpc_opts ho;
    memset(&ho, 0, sizeof ho);
    ma_httpc *h = ma_httpc_new(&ho, &err);
    if (!h) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }

    /* warm-up: connections, caches, the allocator (counted separately) */
    long acc0 = atomic_load(&accepted);
    connector_round(dep, c, &in, calls);
    long conn_warm = atomic_load(&accepted) - acc0;
    acc0 = atomic_load(&accepted);
    httpc_round(h, base, calls);
    long httpc_warm = atomic_load(&accepted) - acc0;
    raw_round(port, 50 < calls ? 50 : calls);

    round_stat cr[100], hr[100], rr[100];
    long conn_acc = 0, httpc_acc = 0;
    for (int r = 0; r < rounds; r++) { /* interleaved, so that noise hits all three alike */
        acc0 = atomic_load(&accepted);
        cr[r] = connector_round(dep, c, &in, calls);
        conn_acc += atomic_load(&accepted) - acc0;
        acc0 = atomic_load(&accepted);
        hr[r] = httpc_round(h, base, calls);
        httpc_acc += atomic_load(&accepted) - acc0;
        rr[r] = raw_round(port, calls);
    }
    if (atomic_load(&refused)) {
        fprintf(stderr, "the server refused %ld requests\n", atomic_load(&refused));
        return 1;
    }

    printf("%d GET calls per round (one execution of '" PROCESS "' on %d documents, each with its own request id), "
           "%d rounds after a warm-up round; fake server in-process on 127.0.0.1 (keep-alive)\n\n", calls, calls, rounds);
    char note[200];
    snprintf(note, sizeof note, " for all %d calls of %d executions (%ld during the warm-up execution)", calls * (rounds + 1),
             rounds + 1, conn_warm);
    report("CloudBlue connector (GET Request through the executor, one connection):", cr, rounds, conn_warm + conn_acc, note);
    snprintf(note, sizeof note, " for all %d calls of %d rounds (%ld during the warm-up round)", calls * (rounds + 1),
             rounds + 1, httpc_warm);
    report("bare ma_httpc client (the same requests and headers, one pool):", hr, rounds, httpc_warm + httpc_acc, note);
    report("bare socket client (the kernel's loopback round trip + the server):", rr, rounds, rounds, " (one socket per round)");
    /* report() sorted each array by overhead */
    double ov_best = cr[0].total_us - cr[0].server_us, ov_med = cr[rounds / 2].total_us - cr[rounds / 2].server_us;
    printf("\nconnector beyond the bare ma_httpc client (executor, documents, properties, URL, JSON): %+.1f us per call (best "
           "rounds), %+.1f us (median rounds)\n",
           cr[0].total_us - hr[0].total_us, cr[rounds / 2].total_us - hr[rounds / 2].total_us);
    printf("target: connector overhead per call beyond the server under 50 us: %.1f us best, %.1f us median: %s; "
           "connections reused: %s (%ld for %d calls)\n",
           ov_best, ov_med, ov_med < 50 ? "met" : "NOT met", conn_warm + conn_acc == 1 ? "yes" : "NO",
           conn_warm + conn_acc, calls * (rounds + 1));
    ma_httpc_free(h);
    ma_batch_clear(&in);
    ma_deploy_free(dep);
    ma_registry_free(reg);
    xmlCleanupParser();
    return 0;
}
