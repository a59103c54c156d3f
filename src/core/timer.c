/* timer.c - monotonic timers and in-flight gauges.
 *
 * SPDX-License-Identifier: MIT
 */
#include <time.h>

#include "internal.h"

uint64_t vt_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

vt_timer_t vt_timer_start(void) {
    vt_timer_t t = {vt_now_ns()};
    return t;
}

double vt_timer_elapsed(const vt_timer_t *t) {
    if (!t)
        return 0;
    uint64_t now = vt_now_ns();
    return now > t->start_ns ? (double)(now - t->start_ns) / 1e9 : 0.0;
}

double vt_timer_observe(const vt_timer_t *t, vt_histogram_series_t *h) {
    double s = vt_timer_elapsed(t);
    if (h)
        vt_histogram_observe(h, s);
    return s;
}

double vt_timer_observe_summary(const vt_timer_t *t, vt_summary_series_t *s) {
    double secs = vt_timer_elapsed(t);
    if (s)
        vt_summary_observe(s, secs);
    return secs;
}

vt_timer_t vt_inflight_begin(vt_gauge_series_t *g) {
    if (g)
        vt_gauge_inc(g);
    return vt_timer_start();
}

double vt_inflight_end(const vt_timer_t *t, vt_gauge_series_t *g, vt_histogram_series_t *h) {
    double s = vt_timer_observe(t, h);
    if (g)
        vt_gauge_dec(g);
    return s;
}
