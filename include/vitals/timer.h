/* vitals/timer.h - monotonic timers that observe seconds, and in-flight gauges.
 *
 *   vt_timer_t t = vt_inflight_begin(in_flight);
 *   handle_request();
 *   vt_inflight_end(&t, in_flight, duration);
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_TIMER_H
#define VITALS_TIMER_H

#include <stdint.h>

#include "vitals/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_timer {
    uint64_t start_ns; /* CLOCK_MONOTONIC at start, nanoseconds */
} vt_timer_t;

/* vt_now_ns - CLOCK_MONOTONIC in nanoseconds. Since: 0.1.0 */
VT_EXTERN uint64_t vt_now_ns(void);

/* vt_timer_start - a timer started now. Since: 0.1.0 */
VT_EXTERN vt_timer_t vt_timer_start(void);

/* vt_timer_elapsed - seconds since the timer started. Since: 0.1.0 */
VT_EXTERN double vt_timer_elapsed(const vt_timer_t *t);

/* vt_timer_observe / vt_timer_observe_summary - observe the seconds since the
 * timer started into h (or s) and return them. h or s may be NULL.
 * Thread-safety: safe from any thread. Since: 0.1.0 */
VT_EXTERN double vt_timer_observe(const vt_timer_t *t, vt_histogram_series_t *h);
VT_EXTERN double vt_timer_observe_summary(const vt_timer_t *t, vt_summary_series_t *s);

/* vt_inflight_begin - increment the gauge (may be NULL) and start a timer.
 * vt_inflight_end - decrement the gauge, observe the elapsed seconds into h
 * (may be NULL), and return them. Since: 0.1.0 */
VT_EXTERN vt_timer_t vt_inflight_begin(vt_gauge_series_t *g);
VT_EXTERN double vt_inflight_end(const vt_timer_t *t, vt_gauge_series_t *g,
                                 vt_histogram_series_t *h);

#ifdef __cplusplus
}
#endif
#endif
