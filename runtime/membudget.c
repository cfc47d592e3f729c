/* membudget.c - accounting of what an execution holds (membudget.h): the allocator of libxml2,
 * libxslt and jansson counts each block's usable size to the budget of the calling thread, refuses
 * what would take an execution well past its budget, and tells the thread's transform to stop when
 * the budget, the server's budget, the deadline or the cancel flag says so. Boomi ends such an
 * execution with an error of its own; what it held is freed as it unwinds. No header is put before
 * the blocks, so memory from this allocator can be given to free() and the other way round. */
#include "config.h"

#include "membudget.h"

#include <jansson.h>
#include <libxml/xmlmemory.h>
#include <malloc.h>
#include <pthread.h>
#ifdef HAVE_MIMALLOC
#include <mimalloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miniatom/helpers.h"

/* what a thread counts before it adds it to its budget and to the server's total (an atomic
 * operation on every allocation costs a third of a transform's time) */
#define FLUSH_BYTES (64 * 1024)
/* over its budget, an execution still gets small blocks while it unwinds (libxml2 2.9 does not
 * free everything on every failed allocation): up to a quarter more; larger ones are refused */
#define LARGE_BLOCK (64 * 1024)
/* the deadline and the cancel flag are read once in this many allocations */
#define TICK_MASK 63u

static __thread ma_budget *tl_b;
static __thread ma_stopper tl_stopper;
static __thread unsigned tl_tick;
static __thread int64_t tl_pending; /* counted to tl_b, not yet to tl_b->used and g_used */
static __thread int64_t tl_room;    /* what tl_pending may reach before the budgets need a look */

static int64_t g_used;   /* atomic: what the budgets hold, as flushed */
static uint64_t g_limit; /* atomic */
static int g_installed;

/* ---- the server's budget ---- */

void ma_membudget_set_server_limit(uint64_t limit) { __atomic_store_n(&g_limit, limit, __ATOMIC_RELAXED); }
uint64_t ma_membudget_server_limit(void) { return __atomic_load_n(&g_limit, __ATOMIC_RELAXED); }

uint64_t ma_membudget_server_used(void)
{
    int64_t u = __atomic_load_n(&g_used, __ATOMIC_RELAXED);
    return u > 0 ? (uint64_t)u : 0;
}

int ma_membudget_server_full(void)
{
    uint64_t l = ma_membudget_server_limit();
    return l && ma_membudget_server_used() > l / 10 * 9;
}

/* ---- budgets ---- */

void ma_budget_init(ma_budget *b, uint64_t limit, uint64_t deadline_ns, const volatile int *cancel)
{
    memset(b, 0, sizeof *b);
    b->limit_key = "execution.max_memory";
    b->limit = limit;
    b->deadline_ns = deadline_ns;
    b->cancel = cancel;
}

static void flush(void)
{
    ma_budget *b = tl_b;
    int64_t d = tl_pending;
    tl_pending = 0;
    if (!b || !d) return;
    int64_t u = __atomic_add_fetch(&b->used, d, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_used, d, __ATOMIC_RELAXED);
    int64_t p = __atomic_load_n(&b->peak, __ATOMIC_RELAXED);
    while (u > p && !__atomic_compare_exchange_n(&b->peak, &p, u, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

/* after a flush or a change of budget: how far this thread may go without looking at the budgets */
static void set_room(void)
{
    ma_budget *b = tl_b;
    int64_t room = INT64_MAX;
    if (b && b->limit) room = (int64_t)b->limit - __atomic_load_n(&b->used, __ATOMIC_RELAXED);
    uint64_t gl = ma_membudget_server_limit();
    if (b && gl) {
        int64_t g = (int64_t)gl - __atomic_load_n(&g_used, __ATOMIC_RELAXED);
        if (g < room) room = g;
    }
    tl_room = room;
}

ma_budget *ma_budget_enter(ma_budget *b)
{
    ma_budget *prev = tl_b;
    flush(); /* what was counted belongs to prev */
    tl_b = b;
    set_room();
    return prev;
}

void ma_budget_leave(ma_budget *prev)
{
    flush();
    tl_b = prev;
    set_room();
}

ma_budget *ma_budget_current(void) { return tl_b; }

void ma_budget_end(ma_budget *b)
{
    /* every thread flushed what it counted when it left: b's share of the total is b->used */
    int64_t u = __atomic_load_n(&b->used, __ATOMIC_RELAXED);
    if (u) __atomic_sub_fetch(&g_used, u, __ATOMIC_RELAXED);
    __atomic_store_n(&b->used, 0, __ATOMIC_RELAXED);
}

ma_stopper ma_budget_set_stopper(ma_stopper s)
{
    ma_stopper prev = tl_stopper;
    tl_stopper = s;
    return prev;
}

void ma_budget_stop(ma_budget *b, ma_stop_reason reason)
{
    int none = MA_STOP_NONE;
    __atomic_compare_exchange_n(&b->stop, &none, (int)reason, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    if (tl_b == b && tl_stopper.fn) tl_stopper.fn(tl_stopper.arg);
}

static ma_stop_reason time_check(ma_budget *b)
{
    if (b->cancel && __atomic_load_n(b->cancel, __ATOMIC_RELAXED)) ma_budget_stop(b, MA_STOP_CANCEL);
    else if (b->deadline_ns && ma_now_ns() > b->deadline_ns) ma_budget_stop(b, MA_STOP_DEADLINE);
    return (ma_stop_reason)__atomic_load_n(&b->stop, __ATOMIC_RELAXED);
}

ma_stop_reason ma_budget_check(void)
{
    ma_budget *b = tl_b;
    if (!b) return MA_STOP_NONE;
    int s = __atomic_load_n(&b->stop, __ATOMIC_RELAXED);
    return s ? (ma_stop_reason)s : time_check(b);
}

static void size_text(uint64_t n, char *buf, size_t len)
{
    if (n && n % (1ull << 30) == 0) snprintf(buf, len, "%llu GB", (unsigned long long)(n >> 30));
    else if (n && n % (1ull << 20) == 0) snprintf(buf, len, "%llu MB", (unsigned long long)(n >> 20));
    else if (n && n % 1024 == 0) snprintf(buf, len, "%llu KB", (unsigned long long)(n >> 10));
    else snprintf(buf, len, "%llu bytes", (unsigned long long)n);
}

const char *ma_budget_message(const ma_budget *b, char *buf, size_t n)
{
    char size[32];
    switch ((ma_stop_reason)__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
    case MA_STOP_MEMORY:
        size_text(b->limit, size, sizeof size);
        snprintf(buf, n, "the execution used more than its memory budget of %s (%s)", size,
                 b->limit_key ? b->limit_key : "execution.max_memory");
        break;
    case MA_STOP_SERVER_MEMORY:
        size_text(ma_membudget_server_limit(), size, sizeof size);
        snprintf(buf, n,
                 "the executions running together used more than the server's memory budget of %s "
                 "(server.max_memory); this one was stopped",
                 size);
        break;
    case MA_STOP_DEADLINE: snprintf(buf, n, "the execution took longer than its time limit"); break;
    case MA_STOP_CANCEL: snprintf(buf, n, "the execution was cancelled"); break;
    case MA_STOP_NONE: snprintf(buf, n, "the execution was not stopped"); break;
    }
    return buf;
}

/* ---- the allocator ---- */

/* 1 when n more bytes must be refused; stops the execution when it goes over a budget. */
static int over(ma_budget *b, size_t n)
{
    if (tl_pending + (int64_t)n <= tl_room) return 0; /* within both budgets */
    int64_t u = __atomic_load_n(&b->used, __ATOMIC_RELAXED) + tl_pending + (int64_t)n;
    if (b->limit && u > (int64_t)b->limit) {
        ma_budget_stop(b, MA_STOP_MEMORY);
        if (n >= LARGE_BLOCK || u > (int64_t)(b->limit + b->limit / 4)) return 1;
    }
    uint64_t gl = ma_membudget_server_limit();
    if (gl) {
        int64_t g = __atomic_load_n(&g_used, __ATOMIC_RELAXED) + tl_pending + (int64_t)n;
        if (g > (int64_t)gl) {
            ma_budget_stop(b, MA_STOP_SERVER_MEMORY);
            if (n >= LARGE_BLOCK || g > (int64_t)(gl + gl / 8)) return 1;
        }
    }
    return 0;
}

static void count(int64_t d)
{
    tl_pending += d;
    if (tl_pending > FLUSH_BYTES || tl_pending < -FLUSH_BYTES) {
        flush();
        set_room();
    }
}

/* every allocation: a stopped execution tells its transform (again: it may be a new one), and
 * now and then the clock and the cancel flag are read */
static void tick(ma_budget *b)
{
    if (__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
        if (tl_stopper.fn) tl_stopper.fn(tl_stopper.arg);
    } else if ((++tl_tick & TICK_MASK) == 0) {
        time_check(b);
    }
}

void *ma_budget_malloc(size_t n)
{
    ma_budget *b = tl_b;
    if (!b) return malloc(n);
    if (over(b, n)) return NULL;
    void *p = malloc(n);
    if (p) count((int64_t)malloc_usable_size(p));
    tick(b);
    return p;
}

void *ma_budget_realloc(void *p, size_t n)
{
    ma_budget *b = tl_b;
    if (!b) return realloc(p, n);
    size_t old = p ? malloc_usable_size(p) : 0;
    if (n > old && over(b, n - old)) return NULL;
    void *q = realloc(p, n);
    if (q) count((int64_t)malloc_usable_size(q) - (int64_t)old);
    else if (!n) count(-(int64_t)old);
    tick(b);
    return q;
}

void ma_budget_free(void *p)
{
    ma_budget *b = tl_b;
    if (b && p) count(-(int64_t)malloc_usable_size(p));
    free(p);
}

char *ma_budget_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = ma_budget_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

#ifdef HAVE_MIMALLOC
/* only the miniatom binary is linked with mimalloc (docs/decisions/011-allocator.md): weak, so that
 * the core library links without it */
#pragma weak mi_collect
#pragma weak mi_option_get
#pragma weak mi_option_set
#endif

void ma_membudget_release(void)
{
#ifdef HAVE_MIMALLOC
    if (mi_collect && mi_option_get && mi_option_set) {
        /* mimalloc decommits freed pages only after a delay, at a later allocation of the same
         * thread: without a delay the collection gives them back now. The options are the
         * process's: one release at a time, so that each puts back the delays it found */
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&mu);
        long d = mi_option_get(mi_option_decommit_delay), sd = mi_option_get(mi_option_segment_decommit_delay);
        mi_option_set(mi_option_decommit_delay, 0);
        mi_option_set(mi_option_segment_decommit_delay, 0);
        mi_collect(1);
        mi_option_set(mi_option_decommit_delay, d);
        mi_option_set(mi_option_segment_decommit_delay, sd);
        pthread_mutex_unlock(&mu);
        return;
    }
#endif
    malloc_trim(0);
}

void ma_membudget_install(void)
{
    if (g_installed) return;
    xmlGcMemSetup(ma_budget_free, ma_budget_malloc, ma_budget_malloc, ma_budget_realloc, ma_budget_strdup);
    json_set_alloc_funcs(ma_budget_malloc, ma_budget_free);
    g_installed = 1;
}

int ma_membudget_installed(void) { return g_installed; }
