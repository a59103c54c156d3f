/* test_timer.c - monotonic timers, timed observations and in-flight gauges.
 *
 * Sleeps use nanosleep; the checks allow a slow machine to oversleep (the
 * observed time is at least the sleep and lands in a bucket at or above it)
 * but never to undersleep.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <time.h>

#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void test_monotonic(void) {
    uint64_t a = vt_now_ns();
    uint64_t b = vt_now_ns();
    CHECK(b >= a);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t mono = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    CHECK(mono >= b && mono - b < 1000000000u);

    vt_timer_t t = vt_timer_start();
    double prev = 0;
    for (int i = 0; i < 10000; i++) {
        double e = vt_timer_elapsed(&t);
        CHECK(e >= prev);
        prev = e;
    }
    CHECK(prev >= 0 && prev < 5);
    sleep_ms(20);
    double e = vt_timer_elapsed(&t);
    CHECK(e >= 0.020);
    CHECK(e < 5);
    CHECK_DBL(vt_timer_elapsed(NULL), 0);
    /* A timer that starts in the future reads 0, never negative. */
    vt_timer_t future = {vt_now_ns() + 1000000000u};
    CHECK_DBL(vt_timer_elapsed(&future), 0);
}

static void test_observe_histogram(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    static const double b[] = {0.001, 0.005, 0.009, 0.5, 5};
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create(reg, "op_seconds", "h", NULL, b, 5, &h), 0);
    vt_histogram_series_t *s;
    CHECK_INT(vt_histogram_with(h, NULL, &s), 0);
    vt_timer_t t = vt_timer_start();
    sleep_ms(10);
    double secs = vt_timer_observe(&t, s);
    CHECK(secs >= 0.010 && secs < 5);
    uint64_t n = 0;
    double sum = 0;
    vt_histogram_get(s, &n, &sum);
    CHECK_INT(n, 1);
    CHECK_DBL(sum, secs);
    /* 10 ms is above 0.009: nothing in the lower buckets, one from 0.5 on. */
    CHECK_DBL(sample(reg, "op_seconds_bucket", VT_LABELS("le"), VT_VALUES("0.009")), 0);
    CHECK_DBL(sample(reg, "op_seconds_bucket", VT_LABELS("le"), VT_VALUES("5")), 1);
    if (secs <= 0.5)
        CHECK_DBL(sample(reg, "op_seconds_bucket", VT_LABELS("le"), VT_VALUES("0.5")), 1);

    /* NULL series: only the time comes back. */
    double only = vt_timer_observe(&t, NULL);
    CHECK(only >= secs);
    vt_histogram_get(s, &n, NULL);
    CHECK_INT(n, 1);
    vt_registry_destroy(reg);
}

static void test_observe_summary(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_summary_t *sm;
    CHECK_INT(vt_summary_create(reg, "job_seconds", "h", NULL, &sm), 0);
    vt_summary_series_t *s;
    CHECK_INT(vt_summary_with(sm, NULL, &s), 0);
    vt_timer_t t = vt_timer_start();
    sleep_ms(5);
    double secs = vt_timer_observe_summary(&t, s);
    CHECK(secs >= 0.005);
    CHECK_DBL(sample(reg, "job_seconds_count", NULL, NULL), 1);
    CHECK_DBL(sample(reg, "job_seconds_sum", NULL, NULL), secs);
    CHECK(vt_timer_observe_summary(&t, NULL) >= secs);
    CHECK_DBL(sample(reg, "job_seconds_count", NULL, NULL), 1);
    vt_registry_destroy(reg);
}

static void test_inflight(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_gauge_t *g;
    vt_histogram_t *h;
    CHECK_INT(vt_gauge_create(reg, "in_flight", "h", NULL, &g), 0);
    CHECK_INT(vt_histogram_create(reg, "req_seconds", "h", NULL, NULL, 0, &h), 0);
    vt_gauge_series_t *gs;
    vt_histogram_series_t *hs;
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);

    vt_timer_t t1 = vt_inflight_begin(gs);
    CHECK_DBL(vt_gauge_get(gs), 1);
    vt_timer_t t2 = vt_inflight_begin(gs);
    CHECK_DBL(vt_gauge_get(gs), 2);
    CHECK_DBL(sample(reg, "in_flight", NULL, NULL), 2);
    sleep_ms(10);
    double s2 = vt_inflight_end(&t2, gs, hs);
    CHECK_DBL(vt_gauge_get(gs), 1);
    double s1 = vt_inflight_end(&t1, gs, hs);
    CHECK_DBL(vt_gauge_get(gs), 0);
    CHECK(s1 >= s2 && s2 >= 0.010);
    uint64_t n = 0;
    double sum = 0;
    vt_histogram_get(hs, &n, &sum);
    CHECK_INT(n, 2);
    CHECK_DBL(sum, s1 + s2);
    /* 10 ms never lands at or below the 0.005 bound. */
    CHECK_DBL(sample(reg, "req_seconds_bucket", VT_LABELS("le"), VT_VALUES("0.005")), 0);
    CHECK_DBL(sample(reg, "req_seconds_bucket", VT_LABELS("le"), VT_VALUES("+Inf")), 2);

    /* NULL gauge and NULL histogram are both accepted. */
    vt_timer_t t3 = vt_inflight_begin(NULL);
    CHECK(vt_inflight_end(&t3, NULL, NULL) >= 0);
    vt_timer_t t4 = vt_inflight_begin(gs);
    CHECK_DBL(vt_gauge_get(gs), 1);
    vt_inflight_end(&t4, gs, NULL);
    CHECK_DBL(vt_gauge_get(gs), 0);
    vt_histogram_get(hs, &n, NULL);
    CHECK_INT(n, 2);
    vt_timer_t t5 = vt_inflight_begin(NULL);
    vt_inflight_end(&t5, NULL, hs);
    vt_histogram_get(hs, &n, NULL);
    CHECK_INT(n, 3);
    CHECK_DBL(vt_gauge_get(gs), 0);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_monotonic);
    RUN(test_observe_histogram);
    RUN(test_observe_summary);
    RUN(test_inflight);
    TEST_EXIT();
}
