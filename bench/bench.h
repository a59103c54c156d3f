/* bench.h - what every case of vitals-bench declares, and the timing helpers.
 *
 * A case does `iters` units of work per repeat (operations, scrapes, or series
 * bound in a child process) and reports one value per row it declares. The
 * driver (vitals-bench.c) calibrates `iters`, unless the case fixes it, so that
 * the shortest timed section of a repeat lasts at least BENCH_MIN_REPEAT_NS,
 * after a warm-up; it interleaves the repeats of all
 * cases so that machine noise hits each of them alike, and prints medians.
 *
 * Cases run on the driver's thread, one at a time; the ones that start
 * threads join them before returning.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_BENCH_H
#define VT_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BENCH_MAX_ROWS 3
/* Each repeat's shortest timed section lasts at least this long (50 ms). */
#define BENCH_MIN_REPEAT_NS 50000000ull

/* How a row's value is judged against a requirement of the project. */
typedef enum bench_target_kind {
    BENCH_NO_TARGET = 0,
    BENCH_RATIO_AT_MOST, /* median ratio to ref_atomic_fetch_add <= limit */
    BENCH_AT_MOST,       /* median <= limit */
    BENCH_AT_LEAST       /* median >= limit */
} bench_target_kind_t;

typedef struct bench_row {
    const char *name;
    const char *unit;
    int hot; /* per-operation cost: also shown as a ratio to ref_atomic_fetch_add */
    bench_target_kind_t target;
    double limit;
} bench_row_t;

typedef struct bench_case {
    bench_row_t rows[BENCH_MAX_ROWS];
    size_t nrows;
    /* Units of work per repeat in --quick mode. */
    uint64_t quick_iters;
    /* Units of work per repeat otherwise; 0 means calibrate to
     * BENCH_MIN_REPEAT_NS. */
    uint64_t fixed_iters;
    /* Nonzero when the work runs on other threads or processes, so the
     * driver thread's CPU time says nothing about the machine's load. */
    int offcpu;
    /* Prepares shared state once; 0 or -1 (after printing why to stderr). */
    int (*setup)(int quick);
    /* Does iters units of work and stores one value per row in out[]. Returns
     * the length in ns of its shortest timed section, 0 on failure. */
    uint64_t (*run)(uint64_t iters, double *out);
} bench_case_t;

/* The cases of each file, in the order they are printed. */
size_t bench_ref_cases(const bench_case_t **out_cases);
size_t bench_hot_cases(const bench_case_t **out_cases);
size_t bench_expose_cases(const bench_case_t **out_cases);
size_t bench_series_cases(const bench_case_t **out_cases);

/* The child side of create_series / memory_per_series: binds n series in a
 * fresh registry and prints "<ms> <bytes per series>" to stdout. Returns the
 * process exit code. */
int bench_series_child(unsigned long n);

static inline uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread. */
static inline uint64_t bench_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Runs loop(n) on nthreads threads at once, each after a short warm-up and a
 * common start signal. Returns the mean over threads of the CPU time (ns) each
 * spent in its timed loop, 0 when a thread could not be started. When
 * out_cpu_share is not NULL it receives the workers' CPU time over their wall
 * time: 1 when each had a core to itself throughout. */
uint64_t bench_threads(unsigned nthreads, void (*loop)(uint64_t n), uint64_t n,
                       double *out_cpu_share);

#endif
