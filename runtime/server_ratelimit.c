/* server_ratelimit.c - rates per key for `miniatom serve` (docs/server.md "Limits and failure
 * behaviour"): failed logins per client address and per user name, debug runs per user. A small
 * fixed-size table of leaky buckets: each key's level drains at the rate per minute and may hold up
 * to that many events; when the table is full the emptiest bucket near a new key is reused, so
 * memory stays fixed whatever the clients send. Keys are hashed with a seed made at start. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "util.h"

#define PROBE 8

typedef struct bucket {
    uint64_t key; /* 0: free */
    double level; /* events, draining at rate per minute */
    uint64_t t_ns;
} bucket;

struct ma_ratelimit {
    pthread_mutex_t mu;
    uint64_t seed;
    double per_minute;
    size_t n;
    bucket b[]; /* n of them */
};

ma_ratelimit *ma_ratelimit_new(size_t slots, uint64_t per_minute, uint64_t seed)
{
    if (!slots) slots = 1;
    ma_ratelimit *rl = calloc(1, sizeof *rl + slots * sizeof(bucket));
    if (!rl) return NULL;
    pthread_mutex_init(&rl->mu, NULL);
    rl->seed = seed | 1;
    rl->per_minute = (double)per_minute;
    rl->n = slots;
    return rl;
}

void ma_ratelimit_free(ma_ratelimit *rl)
{
    if (!rl) return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

static uint64_t hash(const ma_ratelimit *rl, char kind, const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ rl->seed;
    h = (h ^ (unsigned char)kind) * 1099511628211ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h | 1; /* 0 marks a free bucket */
}

/* Under rl->mu: the bucket of key, drained up to now; a fresh one (the emptiest of its neighbours)
 * when it has none. */
static bucket *find(ma_ratelimit *rl, uint64_t k, uint64_t now)
{
    bucket *victim = NULL;
    double victim_level = 0;
    for (size_t i = 0; i < PROBE; i++) {
        bucket *b = &rl->b[(k + i) % rl->n];
        if (b->key) {
            b->level -= (double)(now - b->t_ns) * rl->per_minute / 60e9;
            if (b->level < 0) b->level = 0;
            b->t_ns = now;
        }
        if (b->key == k) return b;
        double lv = b->key ? b->level : -1;
        if (!victim || lv < victim_level) victim = b, victim_level = lv;
    }
    victim->key = k;
    victim->level = 0;
    victim->t_ns = now;
    return victim;
}

/* Seconds until one more event fits in a bucket at level (at least 1). */
static unsigned wait_s(const ma_ratelimit *rl, double level)
{
    double s = (level + 1 - rl->per_minute) * 60 / rl->per_minute;
    return s < 1 ? 1 : s > 3600 ? 3600 : (unsigned)s + 1;
}

enum { OP_CHECK = 1, OP_ADD = 2, OP_TAKE = 3 };

/* One look at key's bucket: OP_CHECK says how long to wait (0: an event fits), OP_ADD counts an event
 * (capped: a flood waits at most two minutes once it stops), OP_TAKE counts one only when it fits. */
static unsigned bucket_op(ma_ratelimit *rl, char kind, const char *key, size_t len, int op)
{
    if (!rl || rl->per_minute <= 0) return 0;
    uint64_t k = hash(rl, kind, key, len), now = ma_now_ns();
    pthread_mutex_lock(&rl->mu);
    bucket *b = find(rl, k, now);
    unsigned w = (op & OP_CHECK) && b->level + 1 > rl->per_minute ? wait_s(rl, b->level) : 0;
    if ((op & OP_ADD) && !w && b->level < rl->per_minute * 2) b->level += 1;
    pthread_mutex_unlock(&rl->mu);
    return w;
}

unsigned ma_ratelimit_check(ma_ratelimit *rl, char kind, const char *key, size_t len)
{
    return bucket_op(rl, kind, key, len, OP_CHECK);
}

void ma_ratelimit_add(ma_ratelimit *rl, char kind, const char *key, size_t len)
{
    bucket_op(rl, kind, key, len, OP_ADD);
}

unsigned ma_ratelimit_take(ma_ratelimit *rl, char kind, const char *key, size_t len)
{
    return bucket_op(rl, kind, key, len, OP_TAKE);
}
