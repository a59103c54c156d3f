/* top.h - what the files of `vitals top` share: per-endpoint figures, rates, quantiles, views.
 *
 * One endpoint's figures live in a vt__top_state_t that only the main thread
 * touches. Each scrape (a parsed document and the time it was taken) updates
 * it: rates are the difference of every counter series between that scrape
 * and the previous successful one, over the seconds between them, with
 * Prometheus' rule for resets (a series lower than before counts from 0).
 * A series missing from the previous scrape also counts from 0: the RED
 * middleware creates a series at its first request, so its whole value
 * happened within the interval. Quantiles come from the interval's bucket
 * differences, summed by `le` over the series of a route, interpolated as
 * Prometheus' histogram_quantile() does (top_quantile.c).
 *
 * A route is one line of the view: a RED family (red.h) and the value of
 * its route-like label, with the method in front when the family's request
 * metric and histogram both carry a method label ("GET /users/:id"). Route
 * entries are never removed while the state lives, so their rate history
 * survives a scrape in which they are absent; `present` tells whether the
 * latest successful scrape had them.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CLI_TOP_H
#define VT_CLI_TOP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/red.h"
#include "parse/parse.h"

/* Rates kept per route for the sparkline: a minute at 0.5 s intervals. */
#define VT__TOP_HISTORY 120

/* ---- histogram_quantile (top_quantile.c) ------------------------------------ */

/* The q-quantile of cumulative bucket counts, as Prometheus' histogram_quantile():
 * bounds ascending (the last must be +Inf, else NaN), counts cumulative (a
 * count lower than an earlier one is raised to it, as Prometheus does); NaN
 * with fewer than two buckets or no observations; -Inf for q < 0, +Inf for
 * q > 1. Linear within the bucket the rank falls in; from 0 for the lowest
 * bucket when its bound is positive (else that bound); a rank in the +Inf
 * bucket gives the highest finite bound. */
double vt__top_quantile(double q, const double *bounds, const double *counts, size_t n);

/* ---- series map (top_map.c) ---------------------------------------------------- */

/* Byte strings to indexes; keys are copied. Not thread-safe. */
typedef struct vt__top_map {
    struct vt__top_slot *slots; /* cap entries, open addressing */
    size_t cap;                 /* 0 or a power of two */
    size_t count;
    char *keys; /* the copied keys, back to back */
    size_t keys_len, keys_cap;
} vt__top_map_t;

/* Find key; when absent insert it with value. *out_value receives the value
 * found or inserted; *out_found (may be NULL) 1 when it was there. */
int vt__top_map_put(vt__top_map_t *m, const char *key, size_t len, size_t value, size_t *out_value,
                    int *out_found);
/* 1 and *out_value when key is in the map, else 0. */
int vt__top_map_get(const vt__top_map_t *m, const char *key, size_t len, size_t *out_value);
void vt__top_map_free(vt__top_map_t *m);

/* ---- one endpoint's figures (top_calc.c) -------------------------------------------- */

typedef struct vt__top_bucket {
    double le;    /* upper bound; +Inf for the last */
    double count; /* observations in the interval, cumulative */
} vt__top_bucket_t;

typedef struct vt__top_family {
    char *name;        /* RED family base name: "http_request" */
    char *histogram;   /* its duration histogram */
    char *requests;    /* the metric rate is counted from */
    char *route_label; /* route-like label, or NULL (one line for the family) */
    int by_method;     /* lines are method + route */
} vt__top_family_t;

typedef struct vt__top_route {
    size_t family; /* index into the state's families */
    char *name;    /* "GET /users/:id", "/users/:id", or "(all)" without a route label */
    char *method;  /* method label value, or NULL */
    char *route;   /* route label value, or NULL */
    int present;   /* the latest successful scrape has series of this line */

    /* The latest interval; NaN when unknown (no baseline yet, no requests
     * for the ratio, no observations for the quantiles). */
    double rate;        /* requests per second */
    double errors;      /* errors per second */
    double error_ratio; /* errors / requests */
    double p50, p90, p99;

    double history[VT__TOP_HISTORY]; /* rates, a ring: newest at history_next - 1 */
    size_t history_len, history_next;

    /* Scratch of one update. */
    double req_delta, err_delta;
    vt__top_bucket_t *buckets; /* sorted by le */
    size_t bucket_count, bucket_cap;
} vt__top_route_t;

typedef struct vt__top_gauge {
    char *name;   /* an in-flight gauge */
    double value; /* summed over its series; NaN when the scrape lacks it */
} vt__top_gauge_t;

typedef struct vt__top_sat {
    double cpu;      /* cores busy over the interval (rate of process_cpu_seconds_total) */
    double resident; /* process_resident_memory_bytes */
    double open_fds; /* process_open_fds */
    double max_fds;  /* process_max_fds */
    vt__top_gauge_t *in_flight;
    size_t in_flight_count;
} vt__top_sat_t; /* every figure NaN when the exposition lacks it */

typedef struct vt__top_snap vt__top_snap_t;

typedef struct vt__top_state {
    /* Figures of the latest update. */
    int have_rates;  /* the latest update had a baseline: rates are known */
    double interval; /* seconds between the baseline and the latest scrape */
    vt__top_family_t *families;
    size_t family_count;
    vt__top_route_t *routes;
    size_t route_count;
    vt__top_sat_t sat;

    /* Between updates. */
    vt__top_map_t route_map; /* family index + route key -> index into routes */
    vt__top_snap_t *prev;    /* counter series of the baseline scrape, or NULL */
    double prev_time;        /* its monotonic time, seconds */
    uint64_t signature;      /* of the family names the RED set was found in */
    vt__red_set_t red;       /* RED families and saturation signals found */
    size_t *red_family;      /* red.items[i] -> index into families */
    int red_valid;
} vt__top_state_t;

void vt__top_state_init(vt__top_state_t *st);
/* Read one scrape taken at monotonic time t (seconds). Returns 0 or VT_ENOMEM
 * (the state is then as after a failed scrape: the next one is a baseline). */
int vt__top_state_update(vt__top_state_t *st, const vt_doc_t *doc, double t);
/* Forget the baseline: the next update only records (after a restart of the
 * view, for instance). */
void vt__top_state_reset(vt__top_state_t *st);
void vt__top_state_free(vt__top_state_t *st);

/* ---- the endpoints and the command ------------------------------------------------------ */

#define VT__TOP_STATUS_SIZE 200

typedef struct vt__top_endpoint {
    char *url;
    vt__top_state_t state;
    int up;                           /* the latest scrape succeeded */
    int scraped;                      /* a result has arrived */
    char status[VT__TOP_STATUS_SIZE]; /* "ok", "down: connection refused", "HTTP 500", ... */
    double status_since;              /* Unix time the status began */
    double time;                      /* Unix time of the latest result */
    unsigned long results;            /* results received */
    vt_format_t format;               /* of the latest successful scrape */
} vt__top_endpoint_t;

typedef enum vt__top_sort {
    VT__SORT_NAME = 0,
    VT__SORT_RATE,
    VT__SORT_ERRORS,
    VT__SORT_RATIO,
    VT__SORT_P50,
    VT__SORT_P90,
    VT__SORT_P99
} vt__top_sort_t;

typedef struct vt__top_opts {
    double interval;          /* seconds between scrapes */
    double timeout;           /* seconds a scrape may take */
    double error_threshold;   /* error ratios above are highlighted */
    double latency_objective; /* latencies above (seconds) are highlighted */
    int forced_format;        /* VT__FORMAT_AUTO or a vt_format_t */
    long count;               /* intervals before stopping; 0: until stopped */
    int json;
    int plain; /* not the full-screen view */
    int ascii; /* sparklines in ASCII */
    vt__top_sort_t sort;
    int sort_reverse;
    const char *filter; /* initial filter, or NULL */
    long bench;         /* refreshes to measure; 0: off */
} vt__top_opts_t;

/* The lines of one endpoint to show, in order: indexes into state.routes,
 * grouped by family (in family name order), sorted within each family,
 * only present routes whose family or route name contains filter
 * (case-insensitive; NULL or "" keeps all). *out_rows is malloc'd. */
int vt__top_rows(const vt__top_endpoint_t *e, vt__top_sort_t sort, int reverse, const char *filter,
                 size_t **out_rows, size_t *out_count);

/* ---- output (top_plain.c) ---------------------------------------------------------------- */

/* Copy src into dst of size n (n > 0), cut to fit, always terminated. */
void vt__top_copy(char *dst, size_t n, const char *src);
/* A duration for people: "850us", "4.1ms", "1.25s", "-" for NaN. */
void vt__top_fmt_seconds(double s, char *buf, size_t n);
/* A rate or count: "0", "12.5", "1.2k", "-" for NaN. */
void vt__top_fmt_rate(double v, char *buf, size_t n);
/* A ratio as a percentage: "3.2%", "-" for NaN. */
void vt__top_fmt_percent(double v, char *buf, size_t n);
/* Bytes: "45.2MiB", "-" for NaN. */
void vt__top_fmt_bytes(double v, char *buf, size_t n);

/* One endpoint's interval as a plain text table. */
void vt__top_print_plain(FILE *f, const vt__top_endpoint_t *e, const vt__top_opts_t *o);
/* One endpoint's interval as one line of JSON. Returns 0 or VT_ENOMEM. */
int vt__top_print_json(FILE *f, const vt__top_endpoint_t *e, const vt__top_opts_t *o);

/* ---- the full-screen view (top_tui.c) ----------------------------------------------- */

typedef struct vt__top_tui vt__top_tui_t;

/* Take over the terminal (out/in; NULL for stdout/stdin; term NULL for
 * $TERM). Returns 0, or VT_EIO when the terminal cannot be used. */
int vt__top_tui_start(const vt__top_opts_t *o, FILE *out, FILE *in, const char *term,
                      vt__top_tui_t **out_tui);
/* Read the keys waiting; returns 1 when the user asked to quit. */
int vt__top_tui_keys(vt__top_tui_t *t);
/* 1 while the user has paused the view: the caller then leaves the figures
 * as they are (scrapes that arrive are dropped). */
int vt__top_tui_paused(const vt__top_tui_t *t);
/* Draw the endpoints' figures. */
void vt__top_tui_draw(vt__top_tui_t *t, const vt__top_endpoint_t *eps, size_t n);
/* Give the terminal back as it was. */
void vt__top_tui_stop(vt__top_tui_t *t);

/* ---- measuring (top_bench.c) ------------------------------------------------------------ */

/* --bench: o->bench refreshes of the endpoints back to back (scrape, update,
 * draw into an off-screen terminal), then CPU time per refresh on stdout.
 * Returns the exit status. */
int vt__top_bench(const vt__top_opts_t *o, vt__top_endpoint_t *eps, size_t n);

/* ---- scraping (top_scrape.c) ------------------------------------------------------------- */

/* Fetch and parse one endpoint. On success *out_doc is the document;
 * otherwise *out_doc is NULL and status says why in a few words ("down:
 * connection refused", "HTTP 500", "parse error line 3: ..."). *out_format
 * is the format read. */
int vt__top_scrape(const char *url, int forced_format, double timeout, vt_doc_t **out_doc,
                   vt_format_t *out_format, char *status, size_t status_len);

/* The URL to scrape for an argument: "host:port" and "host:port/path" gain
 * "http://", a URL without a path gains "/metrics"; malloc'd. */
char *vt__top_url(const char *arg);

#endif
