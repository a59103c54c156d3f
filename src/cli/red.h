/* red.h - finding RED families (rate, errors, duration) and saturation signals in an exposition.
 *
 * A RED family is a duration histogram (name ending in "_seconds", such as
 * "*_duration_seconds", or a histogram whose OpenMetrics UNIT is seconds)
 * with the request counter beside it when there is one ("<base>s_total" or
 * "<base>_total" for a histogram "<base>_duration_seconds"), and a
 * status-like label (code, status_code, status, http_status, http_code) on
 * the histogram or on the counter. The prefix does not matter:
 * http_request_duration_seconds with http_requests_total, and
 * redis_call_duration_seconds with redis_calls_total, are both found.
 * Rate comes from the counter, else from the histogram's _count; errors
 * from whichever carries the status label (the counter first).
 *
 * Errors are: for a status label whose values are HTTP status codes, the
 * 5xx codes (matcher =~"5.."); for any other status label, the value
 * "error" (matcher ="error").
 *
 * Saturation: the process collector's metrics and in-flight gauges (names
 * with "in_flight", "inflight", "in_progress" or "inprogress" as words).
 *
 * Everything is copied: the result does not borrow the document. The
 * families are sorted by name so that generated output is stable however
 * the exposition orders its families.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CLI_RED_H
#define VT_CLI_RED_H

#include <stddef.h>

#include "cli/cli.h"
#include "parse/parse.h"

typedef enum vt__err_kind {
    VT__ERR_HTTP_5XX = 0,    /* status label holds HTTP codes: errors are 5xx */
    VT__ERR_STATUS_VALUE = 1 /* errors are the status value "error" */
} vt__err_kind_t;

typedef struct vt__red {
    char *name;      /* the family's base name: "http_request", "redis_call" */
    char *histogram; /* histogram name (samples <histogram>_bucket ...) */
    char *counter;   /* PromQL name of the request counter (with _total), or NULL */

    /* What the rate and error queries count: the counter, or <histogram>_count. */
    char *requests;     /* PromQL name */
    char *route_label;  /* route-like label on requests ("route", "operation", ...) or NULL */
    char *method_label; /* "method" when requests has one, else NULL */

    char *errors;       /* PromQL name counted for errors (counter or <histogram>_count) */
    char *status_label; /* its status label */
    vt__err_kind_t err_kind;
    char *error_matcher;        /* e.g. code=~"5.." or status="error" */
    char *errors_route_label;   /* route-like label on errors or NULL */
    char *duration_route_label; /* route-like label on the histogram or NULL */

    double *bounds; /* the histogram's finite bucket bounds, ascending */
    size_t bound_count;
} vt__red_t;

typedef struct vt__saturation {
    int cpu;          /* process_cpu_seconds_total */
    int resident;     /* process_resident_memory_bytes */
    int virtual_mem;  /* process_virtual_memory_bytes */
    int open_fds;     /* process_open_fds */
    int max_fds;      /* process_max_fds */
    int threads;      /* process_threads */
    char **in_flight; /* in-flight gauges, sorted */
    size_t in_flight_count;
} vt__saturation_t;

typedef struct vt__red_set {
    vt__red_t *items; /* sorted by name */
    size_t count;
    vt__saturation_t sat;
} vt__red_set_t;

/* Find the RED families and saturation signals of doc. */
int vt__red_detect(const vt_doc_t *doc, vt__red_set_t *out);

/* Keep the RED families and in-flight gauges that a pattern of include
 * matches (any of: the family name, the histogram, the counter; all kept
 * when include is empty) and that no pattern of exclude matches. */
void vt__red_filter(vt__red_set_t *set, const vt__regex_list_t *include,
                    const vt__regex_list_t *exclude);

/* 1 when the set has any saturation signal. */
int vt__red_has_saturation(const vt__red_set_t *set);

void vt__red_set_free(vt__red_set_t *set);

/* A route-like label name is one of these, in order of preference. */
const char *vt__red_route_label(const char *const *labels, size_t n);

#endif
