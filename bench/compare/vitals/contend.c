/* contend.c - two threads incrementing the same counter series at once.
 *
 * Both workers warm up (their shard pages, caches), report ready and spin
 * until one release signal, then run the same number of increments, as in
 * the Go and Python harnesses. Each worker times its loop in its own CPU time
 * (CLOCK_THREAD_CPUTIME_ID): ns per operation per thread is the mean of the
 * two over n. CPU time, because on a shared machine two threads may get less
 * than two cores, and wall time would charge the library for the scheduler's
 * sharing; a core stalled on a cache line the other core owns is still busy,
 * so contention shows. The aggregate rate, 2n over the wall time from the
 * release until both are done, is what the process got; the process's CPU
 * time over that wall time tells whether the two threads really ran at the
 * same time (near 2) or shared one core (near 1).
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>

#include "compare.h"

#define WARMUP_OPS 100000u

typedef struct worker {
    void (*loop)(uint64_t n);
    uint64_t n;
    uint64_t cpu; /* CPU ns of the timed loop */
    _Atomic unsigned *ready;
    _Atomic int *go;
} worker_t;

static vt_counter_series_t *shared;
static double last_cores;
static uint64_t last_cpu;

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    w->loop(w->n < WARMUP_OPS ? w->n : WARMUP_OPS);
    atomic_fetch_add(w->ready, 1);
    while (!atomic_load_explicit(w->go, memory_order_acquire))
        sched_yield();
    uint64_t t0 = thread_cpu_ns();
    w->loop(w->n);
    w->cpu = thread_cpu_ns() - t0;
    return NULL;
}

static uint64_t cpu_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

uint64_t compare_two_threads(void (*loop)(uint64_t n), uint64_t n, uint64_t *out_cpu,
                             double *out_cores) {
    pthread_t tid[2];
    worker_t w[2];
    _Atomic unsigned ready = 0;
    _Atomic int go = 0;
    unsigned started = 0;
    for (; started < 2; started++) {
        w[started] = (worker_t){.loop = loop, .n = n, .ready = &ready, .go = &go};
        if (pthread_create(&tid[started], NULL, worker_main, &w[started]) != 0)
            break;
    }
    while (atomic_load(&ready) < started)
        sched_yield();
    uint64_t c0 = cpu_ns(), t0 = compare_now_ns();
    atomic_store_explicit(&go, 1, memory_order_release);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    uint64_t wall = compare_now_ns() - t0, cpu = cpu_ns() - c0;
    if (started < 2 || wall == 0) {
        fprintf(stderr, "vitals-compare: cannot start two threads\n");
        return 0;
    }
    *out_cpu = (w[0].cpu + w[1].cpu) / 2;
    *out_cores = (double)cpu / (double)wall;
    return wall;
}

static void shared_worker(uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        vt_counter_inc(shared);
}

static uint64_t contended_loop(uint64_t n) {
    return compare_two_threads(shared_worker, n, &last_cpu, &last_cores);
}

int compare_contended_inc(int quick) {
    vt_registry_t *reg;
    vt_counter_t *c;
    int rc;
    if ((rc = vt_registry_create(&reg)) != 0 ||
        (rc = vt_counter_create(reg, "bench_shared_total", "Two threads.", NULL, &c)) != 0 ||
        (rc = vt_counter_with(c, NULL, &shared)) != 0)
        return compare_fail("counter", rc);
    uint64_t n;
    uint64_t ns = compare_measure(contended_loop, quick, &n);
    if (ns == 0)
        return 1;
    compare_row("contended_inc", "ns/op/thread", (double)last_cpu / (double)n);
    compare_row("contended_inc_mops", "Mops/s", 2.0 * (double)n / (double)ns * 1e3);
    compare_row("contended_cores", "cpu/wall", last_cores);
    vt_registry_destroy(reg);
    return 0;
}
