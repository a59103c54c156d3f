/* threads.c - run one benchmark loop on several threads at the same moment.
 *
 * Each worker warms up (first touch of its shard pages, caches, branch
 * predictors), reports ready, then spins until the driver's start signal so
 * that all workers enter the timed loop together. Each worker times itself
 * from that signal to its own end; the result is the mean of those times.
 * Spins yield the processor, because the machine may have no spare core for
 * a waiting thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "bench.h"

#define MAX_THREADS 8
#define WARMUP_OPS 100000u

typedef struct worker {
    void (*loop)(uint64_t n);
    uint64_t n;
    uint64_t ns; /* this worker's elapsed time in the timed loop */
    _Atomic unsigned *ready;
    _Atomic int *go;
} worker_t;

static void *worker_main(void *arg) {
    worker_t *w = arg;
    w->loop(w->n < WARMUP_OPS ? w->n : WARMUP_OPS);
    atomic_fetch_add(w->ready, 1);
    while (!atomic_load_explicit(w->go, memory_order_acquire))
        sched_yield();
    uint64_t t0 = bench_now_ns();
    w->loop(w->n);
    w->ns = bench_now_ns() - t0;
    return NULL;
}

uint64_t bench_threads(unsigned nthreads, void (*loop)(uint64_t n), uint64_t n) {
    if (nthreads == 0 || nthreads > MAX_THREADS)
        return 0;
    pthread_t tid[MAX_THREADS];
    worker_t w[MAX_THREADS];
    _Atomic unsigned ready = 0;
    _Atomic int go = 0;
    unsigned started = 0;
    for (; started < nthreads; started++) {
        w[started] = (worker_t){.loop = loop, .n = n, .ready = &ready, .go = &go};
        if (pthread_create(&tid[started], NULL, worker_main, &w[started]) != 0) {
            fprintf(stderr, "vitals-bench: cannot start a thread\n");
            break;
        }
    }
    while (atomic_load(&ready) < started)
        sched_yield();
    atomic_store_explicit(&go, 1, memory_order_release);
    uint64_t total = 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
        total += w[i].ns;
    }
    if (started < nthreads || total == 0)
        return 0;
    return total / nthreads;
}
