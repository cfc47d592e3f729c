/* bench_httpc.c - the shared HTTP client's own cost (connectors/common/httpc.c): N GET calls
 * through one pool against a fake keep-alive HTTP/1.1 server running in this program on
 * 127.0.0.1, compared with the server's own time per request and with a bare socket client doing
 * the same exchange; prints the per-call overhead (best round: loopback wake-up latency on a shared
 * machine varies a lot between rounds) and the TCP connections opened (pool and server).
 * Build: cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Iconnectors/common tests/bench/bench_httpc.c
 *          connectors/common/httpc.c runtime/error.c $(pkg-config --cflags --libs libcurl) -pthread
 * Usage: bench_httpc [CALLS=1000] [ROUNDS=5] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
                               "Connection: keep-alive\r\n\r\n{\"ok\":true}";

static atomic_long accepted, served;
static atomic_llong server_ns; /* from a request's last byte read to its response written */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

/* The same exchange with a bare socket: the floor any client pays (kernel round trip + server). */
static double raw_round(int port, int calls)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); exit(1); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[256];
    int rl = snprintf(req, sizeof req, "GET /bench HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: */*\r\n\r\n", port);
    char buf[4096];
    uint64_t t0 = now_ns();
    for (int i = 0; i < calls; i++) {
        if (write(fd, req, (size_t)rl) != rl) { perror("write"); exit(1); }
        size_t got = 0;
        while (got < sizeof RESPONSE - 1) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0) { perror("read"); exit(1); }
            got += (size_t)n;
        }
    }
    double per = (double)(now_ns() - t0) / calls / 1000.0;
    close(fd);
    return per;
}

static double httpc_round(ma_httpc *c, const char *url, int calls)
{
    ma_httpc_header h[] = {{"Accept", "application/json"}};
    ma_error err;
    uint64_t t0 = now_ns();
    for (int i = 0; i < calls; i++) {
        ma_httpc_response res;
        if (ma_httpc_request(c, "GET", url, h, 1, NULL, 0, &res, &err) < 0) {
            fprintf(stderr, "request %d: %s\n", i, err.msg);
            exit(1);
        }
        if (res.status != 200 || res.body_len != 11) {
            fprintf(stderr, "request %d: status %ld, %zu bytes\n", i, res.status, res.body_len);
            exit(1);
        }
        ma_httpc_response_free(&res);
    }
    return (double)(now_ns() - t0) / calls / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int calls = argc > 1 ? atoi(argv[1]) : 1000, rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (calls <= 0 || rounds <= 0 || rounds > 100) { fprintf(stderr, "usage: %s [CALLS] [ROUNDS]\n", argv[0]); return 2; }
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 64) < 0 || getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
        perror("listen");
        return 1;
    }
    int port = ntohs(a.sin_port);
    pthread_t st;
    pthread_create(&st, NULL, server, (void *)(intptr_t)ls);
    pthread_detach(st);

    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bench/items?limit=1", port);
    ma_error err;
    ma_httpc_opts o;
    memset(&o, 0, sizeof o);
    ma_httpc *c = ma_httpc_new(&o, &err);
    if (!c) { fprintf(stderr, "%s\n", err.msg); return 1; }

    httpc_round(c, url, 50); /* warm up: the connection, caches, the allocator */
    raw_round(port, 50);
    long pool0 = ma_httpc_connections_opened(c);
    double hp[100] = {0}, rp[100] = {0}, sp[100] = {0};
    for (int r = 0; r < rounds; r++) {
        long s0 = atomic_load(&served);
        long long ns0 = atomic_load(&server_ns);
        hp[r] = httpc_round(c, url, calls);
        sp[r] = (double)(atomic_load(&server_ns) - ns0) / (double)(atomic_load(&served) - s0) / 1000.0;
        rp[r] = raw_round(port, calls);
    }
    long pool_conns = ma_httpc_connections_opened(c);
    long srv_conns = atomic_load(&accepted) - 1 - rounds; /* minus the raw clients' sockets */
    qsort(hp, (size_t)rounds, sizeof hp[0], cmp_double);
    qsort(rp, (size_t)rounds, sizeof rp[0], cmp_double);
    qsort(sp, (size_t)rounds, sizeof sp[0], cmp_double);
    double h = hp[0], raw = rp[0], srv = sp[0];
    printf("httpc: %d GET calls x %d rounds through one pool (best round, per call; median httpc call %.1f us)\n", calls,
           rounds, hp[rounds / 2]);
    printf("  httpc call:                 %8.1f us\n", h);
    printf("  server time:                %8.1f us\n", srv);
    printf("  bare socket round trip:     %8.1f us (kernel loopback + server)\n", raw);
    printf("  overhead beyond the server: %8.1f us\n", h - srv);
    printf("  overhead beyond a bare socket client (the connector's own cost): %.1f us\n", h - raw);
    printf("  TCP connections opened: %ld by the pool (%ld of them during the warm-up), %ld accepted by the server for it\n",
           pool_conns, pool0, srv_conns);
    ma_httpc_free(c);
    return 0;
}
