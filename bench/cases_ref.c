/* cases_ref.c - in-run references: what a plain increment, a relaxed atomic
 * increment and a contended atomic increment cost on this machine, now.
 *
 * The plain reference increments a volatile counter in memory through a
 * pointer held in a register: a load, an add and a store per operation, the
 * same instructions as the library's update of a thread's own cell, and the
 * floor of any counter kept in memory. (Addressed by name instead, the same
 * increment costs several times more on recent Intel cores, whose zero-latency
 * store-to-load forwarding only works for register-based addresses.) The atomic
 * references use one shared _Atomic uint64_t; compilers do not merge or drop
 * atomic read-modify-writes, so every iteration is a locked instruction.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdatomic.h>
#include <stddef.h>

#include "bench.h"

static volatile uint64_t plain_counter;
/* Read through a volatile pointer so the compiler cannot see its target. */
static volatile uint64_t *volatile plain_ptr = &plain_counter;
/* Alone on its cache line, so only the contended case makes it bounce. */
static struct {
    _Alignas(64) _Atomic uint64_t value;
    char pad[64 - sizeof(uint64_t)];
} shared;

static uint64_t per_op(uint64_t ns, uint64_t iters, double *out) {
    out[0] = (double)ns / (double)iters;
    return ns;
}

static uint64_t run_plain(uint64_t iters, double *out) {
    volatile uint64_t *p = plain_ptr;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        *p = *p + 1;
    return per_op(bench_now_ns() - t0, iters, out);
}

static uint64_t run_fetch_add(uint64_t iters, double *out) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        atomic_fetch_add_explicit(&shared.value, 1, memory_order_relaxed);
    return per_op(bench_now_ns() - t0, iters, out);
}

static void fetch_add_loop(uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        atomic_fetch_add_explicit(&shared.value, 1, memory_order_relaxed);
}

static uint64_t run_contended(uint64_t iters, double *out) {
    uint64_t ns = bench_threads(2, fetch_add_loop, iters, NULL);
    return ns ? per_op(ns, iters, out) : 0;
}

static const bench_case_t cases[] = {
    {.rows = {{"ref_plain_inc", "ns/op", 1, BENCH_NO_TARGET, 0}},
     .nrows = 1,
     .quick_iters = 20000,
     .run = run_plain},
    {.rows = {{"ref_atomic_fetch_add", "ns/op", 1, BENCH_NO_TARGET, 0}},
     .nrows = 1,
     .quick_iters = 20000,
     .run = run_fetch_add},
    {.rows = {{"ref_atomic_contended", "ns/op", 1, BENCH_NO_TARGET, 0}},
     .nrows = 1,
     .quick_iters = 20000,
     .offcpu = 1,
     .run = run_contended},
};

size_t bench_ref_cases(const bench_case_t **out_cases) {
    *out_cases = cases;
    return sizeof cases / sizeof cases[0];
}
