/* compare.h - the vitals side of the cross-client comparison: workloads,
 * timing and the JSON rows every harness of bench/compare prints.
 *
 * Each workload runs in a fresh process started by bench/compare/run.py and
 * prints its rows to stdout, one JSON object per line:
 *   {"lib": "vitals", "name": "counter_inc", "unit": "ns/op", "value": 0.52}
 * The Go and Python harnesses print the same rows for the same workloads;
 * bench/compare/README.md defines them. Everything here runs on the main
 * thread except the contended workers (contend.c), which only increment.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_COMPARE_H
#define VT_COMPARE_H

#include <stdint.h>
#include <time.h>

#include "vitals.h"

#define COMPARE_LIB "vitals"

/* Per-operation loops: calibration doubles the work until one run lasts
 * CALIBRATE_NS (this is the warm-up), then one run of about MEASURE_NS is
 * the measurement. --quick runs QUICK_OPS operations once. */
#define COMPARE_CALIBRATE_NS 50000000ull
#define COMPARE_MEASURE_NS 200000000ull
#define COMPARE_QUICK_OPS 20000ull

/* Runs n operations and returns the process CPU time they took in ns (0 on
 * failure). */
typedef uint64_t (*compare_loop_fn)(uint64_t n);

/* Wall time: only for what the process got (rates of the two-thread case). */
static inline uint64_t compare_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The process's CPU time: what every timed section of one thread is measured
 * in, in every harness, so that time the scheduler gives to other processes
 * on a shared machine is not charged to the library. */
static inline uint64_t compare_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Prints one row; a NULL reason means a measured value, otherwise the row is
 * pending for that reason and value is ignored. */
void compare_row(const char *name, const char *unit, double value);
void compare_pending(const char *name, const char *unit, const char *reason);
/* Prints why a workload failed to stderr and returns 1 (the exit code). */
int compare_fail(const char *what, int rc);

/* Calibrates loop as described above; stores the operation count of the
 * measured run in *out_ops and returns its ns (0 on failure). */
uint64_t compare_measure(compare_loop_fn loop, int quick, uint64_t *out_ops);

/* Workloads: each returns the process exit code. */
int compare_ref(int quick);
int compare_counter_inc(int quick);
int compare_labeled_inc(int quick);
int compare_histogram_observe(int quick);
int compare_summary_observe(int quick);
int compare_contended_inc(int quick);
int compare_expose(int quick);
int compare_memory(int quick);
/* Serves the expose registry on 127.0.0.1:port until stdin reaches EOF. */
int compare_serve(unsigned port);

/* The expose registry: 10 counter families of 1,000 series and 10 histogram
 * families of 100 series, three labels each. Returns 0 or a VT_E* code. */
int compare_scrape_registry(vt_registry_t **out_reg);

/* Runs loop(n) on two threads released at the same moment; returns the wall
 * time from the release until both finished (0 on failure), the mean CPU time
 * of the two loops in *out_cpu and the process's CPU time over that wall time
 * in *out_cores. */
uint64_t compare_two_threads(void (*loop)(uint64_t n), uint64_t n, uint64_t *out_cpu,
                             double *out_cores);

#endif
