/* membudget.h - what an execution may use: a memory budget and a deadline, and the allocator of
 * libxml2, libxslt and jansson that accounts their allocations to the execution running on the
 * calling thread (docs/decisions/015-execution-budgets.md). The budget belongs to the execution
 * (ma_shared in executor.c); threads take it on with ma_budget_enter. */
#ifndef MA_MEMBUDGET_H
#define MA_MEMBUDGET_H

#include <stddef.h>
#include <stdint.h>

/* why an execution must stop */
typedef enum {
    MA_STOP_NONE = 0,
    MA_STOP_DEADLINE,      /* its time limit passed */
    MA_STOP_CANCEL,        /* its cancel flag was raised (a stop, the sync timeout of a worker run) */
    MA_STOP_MEMORY,        /* it used more than its own budget */
    MA_STOP_SERVER_MEMORY, /* all executions together used more than the server's budget */
} ma_stop_reason;

typedef struct ma_budget {
    const char *limit_key;      /* named in the message: "execution.max_memory" (borrowed, static) */
    int64_t used;               /* bytes held now, as accounted (atomic); may go below 0, see below */
    int64_t peak;               /* the most it held (atomic) */
    uint64_t limit;             /* bytes; 0: no limit */
    uint64_t deadline_ns;       /* ma_now_ns(); 0: none */
    const volatile int *cancel; /* borrowed; NULL: never */
    int stop;                   /* ma_stop_reason, the first one (atomic) */
} ma_budget;

/* Sets the allocator of libxml2, libxslt and jansson to the accounting one. Once, at the start of
 * the program, before anything else uses those libraries (they must free with the allocator they
 * allocated with). Without it nothing is counted: deadlines and cancel flags still work. */
void ma_membudget_install(void);
/* 1 when ma_membudget_install ran. */
int ma_membudget_installed(void);

/* The budget of all executions together (bytes; 0: none). Over it, the execution that allocates
 * stops with MA_STOP_SERVER_MEMORY and ma_membudget_server_full() tells a new one to wait. */
void ma_membudget_set_server_limit(uint64_t limit);
uint64_t ma_membudget_server_limit(void);
/* Bytes all executions hold now, as accounted. */
uint64_t ma_membudget_server_used(void);
/* 1 when the executions hold more than nine tenths of the server's budget. */
int ma_membudget_server_full(void);

void ma_budget_init(ma_budget *b, uint64_t limit, uint64_t deadline_ns, const volatile int *cancel);
/* Makes b the budget of the calling thread (NULL: none) and returns the previous one, to be given
 * back to ma_budget_leave. What the thread allocates with the accounting allocator is counted to b. */
ma_budget *ma_budget_enter(ma_budget *b);
void ma_budget_leave(ma_budget *prev);
/* The budget of the calling thread, or NULL. */
ma_budget *ma_budget_current(void);
/* Ends b's share of the server's total; call once after the last thread left it. */
void ma_budget_end(ma_budget *b);

/* Why the calling thread's execution must stop (reading the clock and the cancel flag now), or
 * MA_STOP_NONE; also MA_STOP_NONE without a budget. */
ma_stop_reason ma_budget_check(void);
/* Records reason as b's stop (the first reason wins) and calls the calling thread's stopper. */
void ma_budget_stop(ma_budget *b, ma_stop_reason reason);
/* The message for b's stop: "the execution used more than its memory budget of 256 MB
 * (execution.max_memory)" ... Writes into buf (size n) and returns it. */
const char *ma_budget_message(const ma_budget *b, char *buf, size_t n);

/* What the calling thread runs that can be told to stop from inside (a transform): fn(arg) is called
 * on this thread when its execution must stop. Returns the previous stopper (to be restored). */
typedef struct ma_stopper {
    void (*fn)(void *arg);
    void *arg;
} ma_stopper;
ma_stopper ma_budget_set_stopper(ma_stopper s);

/* Gives the memory the calling thread's allocator keeps free back to the system (mimalloc's
 * mi_collect, the C library's malloc_trim): after an execution that held much, so that the server's
 * resident size comes back near its idle value. Costs a few milliseconds. */
void ma_membudget_release(void);

/* The accounting allocator (what ma_membudget_install gives the libraries). Memory from these is
 * freed with free() as well: no header is added. */
void *ma_budget_malloc(size_t n);
void *ma_budget_realloc(void *p, size_t n);
void ma_budget_free(void *p);
char *ma_budget_strdup(const char *s);

#endif
