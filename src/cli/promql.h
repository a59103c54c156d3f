/* promql.h - the PromQL expressions that dashboards and rules are made of.
 *
 * One place builds every query, so a dashboard panel and the recording rule
 * for the same signal always agree. A context carries what differs between
 * the two: the matchers every selector gets (a dashboard filters by
 * job="$job", instance=~"$instance"; rules select everything and aggregate by
 * job) and the range of rate() ("$__rate_interval" or "5m").
 *
 * Functions return malloc'd strings, or NULL when out of memory.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CLI_PROMQL_H
#define VT_CLI_PROMQL_H

#include <stddef.h>

#include "cli/red.h"

typedef struct vt__promql {
    const char *filter; /* matchers for every selector, "" for none */
    const char *window; /* range of rate(), e.g. "$__rate_interval" or "5m" */
} vt__promql_t;

/* Up to four grouping labels; NULL entries are skipped. */
typedef struct vt__by {
    const char *labels[4];
} vt__by_t;

/* metric{filter, extra}; extra may be NULL. */
char *vt__q_selector(const vt__promql_t *q, const char *metric, const char *extra);

/* sum by (by) (rate(metric{...}[window])); "sum(...)" without labels. */
char *vt__q_rate(const vt__promql_t *q, const char *metric, const char *extra, const vt__by_t *by);

/* The share of errors: errors matching the family's error matcher over all,
 * both from r->errors, by the given labels. Groups without errors give 0,
 * not an empty result:
 *   (sum by (g) (rate(E{m}[w])) or sum by (g) (rate(E[w])) * 0) / sum by (g) (rate(E[w])) */
char *vt__q_error_ratio(const vt__promql_t *q, const vt__red_t *r, const vt__by_t *by);

/* histogram_quantile(quantile, sum by (le, by) (rate(<histogram>_bucket{...}[w]))) */
char *vt__q_quantile(const vt__promql_t *q, const char *histogram, double quantile,
                     const vt__by_t *by);

/* "a, b" for the labels of by (and "le" first when with_le). */
char *vt__q_by_list(const vt__by_t *by, int with_le);

#endif
