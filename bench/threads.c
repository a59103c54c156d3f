/* threads.c - run one benchmark loop on several threads at the same moment.
 *
 * Each worker warms up (first touch of its shard pages, caches, branch
 * predictors), reports ready, then spins until the driver's start signal so
 * that all workers enter the timed loop together. Each worker measures the
 * CPU time it spent in the timed loop (CLOCK_THREAD_CPUTIME_ID); the result is
 * the mean over workers. CPU time, not wall time, because on a machine that
 * other processes keep busy two threads may get less than two cores, and wall
 * time would charge the library for the scheduler's sharing. Cache-line
 * contention still shows: a core stalled on a line another core owns is
 * busy. Whether the workers really ran at the same time is what the
 * ref_atomic_contended row shows: a shared atomic only gets slower when they
 * did. Spins yield the processor for the same reason.
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
    uint64_t ns;   /* CPU time this worker spent in the timed loop */
    uint64_t wall; /* wall time of the same loop */
    _Atomic unsigned *ready;
    _Atomic int *go;
} worker_t;

static void *worker_main(void *arg) {
    worker_t *w = arg;
    w->loop(w->n < WARMUP_OPS ? w->n : WARMUP_OPS);
    atomic_fetch_add(w->ready, 1);
    while (!atomic_load_explicit(w->go, memory_order_acquire))
        sched_yield();
    uint64_t w0 = bench_now_ns(), t0 = bench_cpu_ns();
    w->loop(w->n);
    w->ns = bench_cpu_ns() - t0;
    w->wall = bench_now_ns() - w0;
    return NULL;
}

uint64_t bench_threads(unsigned nthreads, void (*loop)(uint64_t n), uint64_t n,
                       double *out_cpu_share) {
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
    uint64_t total = 0, wall = 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
        total += w[i].ns;
        wall += w[i].wall;
    }
    if (started < nthreads || total == 0 || wall == 0)
        return 0;
    if (out_cpu_share)
        *out_cpu_share = (double)total / (double)wall;
    return total / nthreads;
}
