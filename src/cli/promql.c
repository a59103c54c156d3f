/* promql.c - building the PromQL of dashboards and rules (see promql.h).
 *
 * Names and label names come from a parsed exposition, so they are valid
 * PromQL identifiers; the only quoted values are our own matchers and the
 * caller's filter, so no escaping happens here.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/promql.h"

char *vt__q_by_list(const vt__by_t *by, int with_le) {
    vt__str_t s = {0};
    if (with_le) {
        vt__str_puts(&s, "le");
    }
    for (size_t i = 0; by && i < sizeof by->labels / sizeof by->labels[0]; i++) {
        const char *l = by->labels[i];
        if (!l) {
            continue;
        }
        int dup = 0;
        for (size_t k = 0; k < i; k++) {
            dup |= by->labels[k] && strcmp(by->labels[k], l) == 0;
        }
        if (dup || (with_le && strcmp(l, "le") == 0)) {
            continue;
        }
        if (s.len) {
            vt__str_puts(&s, ", ");
        }
        vt__str_puts(&s, l);
    }
    if (vt__str_ok(&s)) {
        vt__str_free(&s);
        return NULL;
    }
    return vt__str_take(&s);
}

char *vt__q_selector(const vt__promql_t *q, const char *metric, const char *extra) {
    const char *filter = q->filter ? q->filter : "";
    int has_extra = extra && *extra;
    if (!*filter && !has_extra) {
        return vt__strdup(metric);
    }
    return vt__aprintf("%s{%s%s%s}", metric, filter, *filter && has_extra ? ", " : "",
                       has_extra ? extra : "");
}

/* "sum by (x) (inner)", or "sum(inner)" when there is nothing to group by. */
static char *sum_by(const char *list, const char *inner) {
    if (!list || !inner) {
        return NULL;
    }
    return *list ? vt__aprintf("sum by (%s) (%s)", list, inner) : vt__aprintf("sum(%s)", inner);
}

static char *rate_of(const vt__promql_t *q, const char *metric, const char *extra,
                     const char *list) {
    char *sel = vt__q_selector(q, metric, extra);
    char *inner = sel ? vt__aprintf("rate(%s[%s])", sel, q->window) : NULL;
    char *out = sum_by(list, inner);
    free(sel);
    free(inner);
    return out;
}

char *vt__q_rate(const vt__promql_t *q, const char *metric, const char *extra, const vt__by_t *by) {
    char *list = vt__q_by_list(by, 0);
    char *out = rate_of(q, metric, extra, list);
    free(list);
    return out;
}

char *vt__q_error_ratio(const vt__promql_t *q, const vt__red_t *r, const vt__by_t *by) {
    char *list = vt__q_by_list(by, 0);
    char *errors = rate_of(q, r->errors, r->error_matcher, list);
    char *all = rate_of(q, r->errors, NULL, list);
    char *out = NULL;
    if (errors && all) {
        out = vt__aprintf("(%s or %s * 0) / %s", errors, all, all);
    }
    free(list);
    free(errors);
    free(all);
    return out;
}

char *vt__q_quantile(const vt__promql_t *q, const char *histogram, double quantile,
                     const vt__by_t *by) {
    char *list = vt__q_by_list(by, 1);
    char *bucket = vt__aprintf("%s_bucket", histogram);
    char *rate = bucket ? rate_of(q, bucket, NULL, list) : NULL;
    char *out = rate ? vt__aprintf("histogram_quantile(%g, %s)", quantile, rate) : NULL;
    free(list);
    free(bucket);
    free(rate);
    return out;
}
