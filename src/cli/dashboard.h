/* dashboard.h - the Grafana dashboard that `vitals dashboard` writes, as jansson values.
 *
 * The layout: one row per RED family (request rate, error ratio, duration
 * quantiles) and a saturation row (CPU, resident memory, file descriptors,
 * requests in flight). Panel ids count up from 1 in layout order and every
 * gridPos is computed, so the same exposition always gives the same JSON.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CLI_DASHBOARD_H
#define VT_CLI_DASHBOARD_H

#include <jansson.h>

#include "cli/red.h"

#define VT__SCHEMA_VERSION 39

typedef struct vt__dash_opts {
    const char *title;
    const char *uid;
    const char *datasource; /* default data source name, or NULL for Grafana's default */
    const char *window;     /* range of rate(): "$__rate_interval" unless set */
    double error_ratio;     /* threshold drawn on error-ratio panels */
    double latency;         /* threshold drawn on duration panels, seconds */
    int saturation;         /* add the saturation row */
} vt__dash_opts_t;

/* The whole dashboard; NULL when out of memory. */
json_t *vt__dashboard_build(const vt__red_set_t *set, const vt__dash_opts_t *o);

/* Layout state while panels are added. */
typedef struct vt__layout {
    json_t *panels; /* the dashboard's panel array */
    int next_id;
    int y; /* top of the next row */
} vt__layout_t;

/* One query of a panel. */
typedef struct vt__target {
    char *expr; /* malloc'd; taken by vt__panel_add */
    const char *legend;
} vt__target_t;

/* A panel's look: unit, an optional threshold line, a title and a description. */
typedef struct vt__panel_spec {
    const char *title;
    const char *description;
    const char *unit; /* Grafana unit id: "reqps", "percentunit", "s", "bytes", "short" */
    double threshold; /* drawn in red from this value; ignored unless has_threshold */
    int has_threshold;
    int x, w; /* column and width on the 24-column grid */
} vt__panel_spec_t;

/* Append a row header at layout->y and move below it. */
int vt__row_add(vt__layout_t *l, const char *title);
/* Append a timeseries panel at (spec->x, l->y) with the given targets; takes
 * their expr strings (freed here, also on failure). */
int vt__panel_add(vt__layout_t *l, const vt__panel_spec_t *spec, vt__target_t *targets,
                  size_t ntargets);

/* The height of every panel. */
#define VT__PANEL_HEIGHT 8

#endif
