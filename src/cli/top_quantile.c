/* top_quantile.c - quantiles from cumulative histogram buckets, as Prometheus'
 * histogram_quantile().
 *
 * The rules are Prometheus' (2.x, classic histograms), so that `vitals top`
 * and a dashboard built on histogram_quantile() show the same figure for the
 * same buckets: the rank q * total falls in the first bucket whose
 * cumulative count reaches it, and the quantile is interpolated linearly
 * between that bucket's lower and upper bound. Buckets whose cumulative
 * counts go down (which rate() over a reset series can produce) are read as
 * if each count were the largest one before it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>

#include "cli/top.h"

double vt__top_quantile(double q, const double *bounds, const double *counts, size_t n) {
    if (isnan(q)) {
        return NAN;
    }
    if (q < 0) {
        return -INFINITY;
    }
    if (q > 1) {
        return INFINITY;
    }
    if (n < 2 || !(isinf(bounds[n - 1]) && bounds[n - 1] > 0)) {
        return NAN;
    }
    /* The total is the largest count: the last one once counts are monotonic. */
    double total = counts[0];
    for (size_t i = 1; i < n; i++) {
        if (counts[i] > total) {
            total = counts[i];
        }
    }
    if (!(total > 0)) {
        return NAN;
    }
    double rank = q * total;
    double below = 0; /* monotonic count of the bucket before i */
    double seen = -INFINITY;
    for (size_t i = 0; i + 1 < n; i++) {
        double c = counts[i] > seen ? counts[i] : seen;
        if (c >= rank) {
            if (i == 0 && bounds[0] <= 0) {
                return bounds[0];
            }
            double lower = i == 0 ? 0 : bounds[i - 1];
            double in_bucket = c - (i == 0 ? 0 : below);
            double into = rank - (i == 0 ? 0 : below);
            return lower + (bounds[i] - lower) * (into / in_bucket);
        }
        seen = c;
        below = c;
    }
    /* The rank is in the +Inf bucket: the highest finite bound. */
    return bounds[n - 2];
}
