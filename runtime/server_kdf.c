/* server_kdf.c - the threads that hash Basic tokens for `miniatom serve` (docs/server.md
 * "Authentication"): a token that is not remembered is checked with PBKDF2 here, never on the
 * server threads, whose connection waits suspended meanwhile. The queue is bounded (a full one is
 * answered 503 by the caller), so a flood of logins costs these threads only. */
#include <pthread.h>
#include <stdlib.h>

#include "server.h"
#include "util.h"

typedef struct kdf_job {
    void (*fn)(void *arg);
    void *arg;
} kdf_job;

struct ma_kdf_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    kdf_job *ring; /* owned: cap jobs */
    size_t cap, head, len;
    int stop;
    pthread_t *threads; /* owned */
    size_t n_threads;
};

static void *kdf_main(void *arg)
{
    ma_kdf_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->len && !p->stop) pthread_cond_wait(&p->cv, &p->mu);
        if (!p->len) break; /* stopping, and every queued job has run */
        kdf_job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->len--;
        pthread_mutex_unlock(&p->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

ma_kdf_pool *ma_kdf_start(size_t threads, size_t queue, ma_error *err)
{
    ma_kdf_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->ring = calloc(queue, sizeof *p->ring)) || !(p->threads = calloc(threads, sizeof *p->threads))) {
        if (p) free(p->ring);
        free(p);
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->cap = queue;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (size_t i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, kdf_main, p) != 0) {
            ma_kdf_stop(p);
            ma_error_set(err, MA_ERR_GENERIC, "cannot start the token hashing threads");
            return NULL;
        }
        p->n_threads++;
    }
    return p;
}

int ma_kdf_submit(ma_kdf_pool *p, void (*fn)(void *arg), void *arg, void (*before)(void *arg))
{
    pthread_mutex_lock(&p->mu);
    int ok = !p->stop && p->len < p->cap;
    if (ok) {
        if (before) before(arg); /* under the lock: before any thread can run fn */
        p->ring[(p->head + p->len) % p->cap] = (kdf_job){fn, arg};
        p->len++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return ok ? 0 : -1;
}

void ma_kdf_stop(ma_kdf_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p->ring);
    free(p);
}
