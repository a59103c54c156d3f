/* rules.h - the Prometheus rules of `vitals rules` and the promtool tests that prove them.
 *
 * Names follow Prometheus' level:metric:operations convention. For a RED
 * family with route label "route" and window 5m:
 *   job_route:http_requests:rate5m                       requests per second
 *   job_route:http_requests_errors:ratio_rate5m          share of errors (0..1)
 *   job_route:http_request_duration_seconds:p99_rate5m   99th percentile, seconds
 * The level lists the labels kept (job and the family's route-like label, or
 * job alone); the metric is the counted metric without "_total"; the
 * operations say what was done to it. Two alerts per family,
 * <Family>ErrorRatioHigh and <Family>LatencyP99High, compare those records
 * with the thresholds.
 *
 * The annotation texts are made by one function for both files: with
 * template references for the rules, and with the values promtool will
 * expand them to for the tests, so the two cannot drift apart.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CLI_RULES_H
#define VT_CLI_RULES_H

#include "cli/promql.h"
#include "cli/red.h"

typedef struct vt__rules_opts {
    const char *window;           /* range of rate(), e.g. "5m" */
    double window_s;              /* the same in seconds */
    const char *for_;             /* alert "for", e.g. "5m" */
    double for_s;                 /* the same in seconds */
    double error_ratio;           /* alert above this share of errors */
    double latency;               /* alert above this p99, seconds */
    const char *error_severity;   /* default "critical" */
    const char *latency_severity; /* default "warning" */
} vt__rules_opts_t;

/* The names and groupings of one family's rules. */
typedef struct vt__family_rules {
    const vt__red_t *r;
    char *camel;        /* "HttpRequest" */
    char *rate_record;  /* job_route:http_requests:rate5m */
    char *ratio_record; /* job_route:http_requests_errors:ratio_rate5m */
    char *p99_record;   /* job_route:http_request_duration_seconds:p99_rate5m */
    char *error_alert;  /* HttpRequestErrorRatioHigh */
    char *latency_alert;
    vt__by_t rate_by;  /* job + route label of the requests metric */
    vt__by_t ratio_by; /* job + route label of the errors metric */
    vt__by_t p99_by;   /* job + route label of the histogram */
} vt__family_rules_t;

int vt__family_rules_init(vt__family_rules_t *fr, const vt__red_t *r, const vt__rules_opts_t *o);
void vt__family_rules_free(vt__family_rules_t *fr);

/* What the annotation texts say about one alert: the job, the route (NULL
 * when the record has no route label) and the alert's value, either as
 * template references or as what they expand to. */
typedef struct vt__ann_vars {
    const char *job;
    const char *route;
    const char *value;
} vt__ann_vars_t;

/* summary and description of the two alerts (malloc'd, NULL when out of memory). */
char *vt__ann_error_summary(const vt__family_rules_t *fr, const vt__rules_opts_t *o,
                            const vt__ann_vars_t *v);
char *vt__ann_error_description(const vt__family_rules_t *fr, const vt__rules_opts_t *o,
                                const vt__ann_vars_t *v);
char *vt__ann_latency_summary(const vt__family_rules_t *fr, const vt__rules_opts_t *o,
                              const vt__ann_vars_t *v);
char *vt__ann_latency_description(const vt__family_rules_t *fr, const vt__rules_opts_t *o,
                                  const vt__ann_vars_t *v);

/* Seconds the way the annotations write them: "500ms", "1.5s". */
void vt__fmt_seconds(double s, char *buf, size_t n);

/* The rules file (YAML) for all families. */
int vt__rules_yaml(const vt__red_set_t *set, const vt__rules_opts_t *o, vt__str_t *out);

/* The promtool test file for the rules file at rules_path (written into
 * the test file relative to its own directory). Notes about alerts the
 * data cannot prove (an objective beyond the last bucket) go to stderr. */
int vt__rules_tests_yaml(const vt__red_set_t *set, const vt__rules_opts_t *o, const char *rules_ref,
                         vt__str_t *out);

#endif
