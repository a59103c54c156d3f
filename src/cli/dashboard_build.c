/* dashboard_build.c - the rows and panels of the generated dashboard, and its variables.
 *
 * Every query is filtered by job="$job", instance=~"$instance"; $job and
 * $instance are label_values() variables over a metric the exposition has,
 * and $datasource picks any Prometheus data source. Queries come from
 * promql.c, the same builder the rules use.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dashboard.h"
#include "cli/promql.h"

#define FILTER "job=\"$job\", instance=~\"$instance\""

/* "{{method}} {{route}}" for the labels present, or fallback. */
static char *legend_of(const char *a, const char *b, const char *prefix, const char *fallback) {
    vt__str_t s = {0};
    if (prefix) {
        vt__str_puts(&s, prefix);
    }
    const char *labels[] = {a, b};
    int any = 0;
    for (int i = 0; i < 2; i++) {
        if (labels[i]) {
            vt__str_printf(&s, "%s{{%s}}", s.len ? " " : "", labels[i]);
            any = 1;
        }
    }
    if (!any && !prefix) {
        vt__str_puts(&s, fallback);
    }
    if (vt__str_ok(&s)) {
        vt__str_free(&s);
        return NULL;
    }
    return vt__str_take(&s);
}

static int red_row(vt__layout_t *l, const vt__red_t *r, const vt__dash_opts_t *o) {
    vt__promql_t q = {FILTER, o->window};
    char title[512], desc[1024];
    snprintf(title, sizeof title, "%s: rate, errors, duration", r->name);
    int rc = vt__row_add(l, title);
    if (rc) {
        return rc;
    }
    /* Rate, by route (or operation) and method. */
    vt__by_t by_rate = {{r->route_label, r->method_label}};
    char *legend = legend_of(r->method_label, r->route_label, NULL, "requests");
    vt__target_t rate[] = {{vt__q_rate(&q, r->requests, NULL, &by_rate), legend ? legend : ""}};
    snprintf(desc, sizeof desc, "Requests per second from %s.", r->requests);
    vt__panel_spec_t spec = {"Request rate", desc, "reqps", 0, 0, 0, 8};
    rc = vt__panel_add(l, &spec, rate, 1);
    free(legend);
    if (rc) {
        return rc;
    }
    /* Error ratio, by route and for the whole job. */
    vt__by_t by_err = {{r->errors_route_label}};
    vt__by_t by_none = {{NULL}};
    legend = legend_of(r->errors_route_label, NULL, NULL, "errors");
    vt__target_t err[] = {{vt__q_error_ratio(&q, r, &by_err), legend ? legend : ""},
                          {vt__q_error_ratio(&q, r, &by_none), "all"}};
    snprintf(desc, sizeof desc,
             "Share of %s with %s among all. The dashed line is the alert threshold.", r->errors,
             r->error_matcher);
    spec = (vt__panel_spec_t){"Error ratio", desc, "percentunit", o->error_ratio, 1, 8, 8};
    rc = vt__panel_add(l, &spec, err, r->errors_route_label ? 2 : 1);
    if (!r->errors_route_label) {
        free(err[1].expr);
    }
    free(legend);
    if (rc) {
        return rc;
    }
    /* Duration quantiles, by route. */
    vt__by_t by_dur = {{r->duration_route_label}};
    static const double qs[] = {0.5, 0.9, 0.99};
    static const char *const names[] = {"p50", "p90", "p99"};
    vt__target_t dur[3];
    char *legends[3];
    for (int i = 0; i < 3; i++) {
        legends[i] = legend_of(r->duration_route_label, NULL, names[i], NULL);
        dur[i].expr = vt__q_quantile(&q, r->histogram, qs[i], &by_dur);
        dur[i].legend = legends[i] ? legends[i] : names[i];
    }
    snprintf(desc, sizeof desc,
             "Quantiles of %s, estimated from its buckets. The dashed line is the p99 objective.",
             r->histogram);
    spec = (vt__panel_spec_t){"Duration", desc, "s", o->latency, 1, 16, 8};
    rc = vt__panel_add(l, &spec, dur, 3);
    for (int i = 0; i < 3; i++) {
        free(legends[i]);
    }
    if (rc == 0) {
        l->y += VT__PANEL_HEIGHT;
    }
    return rc;
}

static int saturation_row(vt__layout_t *l, const vt__saturation_t *s, const vt__dash_opts_t *o) {
    vt__promql_t q = {FILTER, o->window};
    vt__by_t by_inst = {{"instance"}};
    int panels =
        (s->cpu != 0) + (s->resident != 0) + (s->open_fds != 0) + (s->in_flight_count != 0);
    if (panels == 0) {
        return 0;
    }
    int w = 24 / panels, x = 0, rc = vt__row_add(l, "Saturation");
    if (rc == 0 && s->cpu) {
        vt__target_t t[] = {
            {vt__q_rate(&q, "process_cpu_seconds_total", NULL, &by_inst), "{{instance}}"}};
        vt__panel_spec_t spec = {"CPU",
                                 "CPU time per second (1.0 = one core busy), from "
                                 "process_cpu_seconds_total.",
                                 "percentunit",
                                 0,
                                 0,
                                 x,
                                 w};
        rc = vt__panel_add(l, &spec, t, 1);
        x += w;
    }
    if (rc == 0 && s->resident) {
        char *sel = vt__q_selector(&q, "process_resident_memory_bytes", NULL);
        vt__target_t t[] = {
            {sel ? vt__aprintf("sum by (instance) (%s)", sel) : NULL, "{{instance}}"}};
        free(sel);
        vt__panel_spec_t spec = {
            "Resident memory", "process_resident_memory_bytes.", "bytes", 0, 0, x, w};
        rc = vt__panel_add(l, &spec, t, 1);
        x += w;
    }
    if (rc == 0 && s->open_fds) {
        char *open = vt__q_selector(&q, "process_open_fds", NULL);
        char *max = vt__q_selector(&q, "process_max_fds", NULL);
        vt__target_t t[] = {
            {open ? vt__aprintf("sum by (instance) (%s)", open) : NULL, "open {{instance}}"},
            {max ? vt__aprintf("sum by (instance) (%s)", max) : NULL, "max {{instance}}"}};
        free(open);
        free(max);
        vt__panel_spec_t spec = {"File descriptors",
                                 "Open file descriptors against the limit (process_open_fds, "
                                 "process_max_fds).",
                                 "short",
                                 0,
                                 0,
                                 x,
                                 w};
        rc = vt__panel_add(l, &spec, t, s->max_fds ? 2 : 1);
        if (!s->max_fds) {
            free(t[1].expr);
        }
        x += w;
    }
    if (rc == 0 && s->in_flight_count) {
        size_t n = s->in_flight_count < 8 ? s->in_flight_count : 8;
        vt__target_t t[8];
        char *legends[8];
        for (size_t i = 0; i < n; i++) {
            char *sel = vt__q_selector(&q, s->in_flight[i], NULL);
            t[i].expr = sel ? vt__aprintf("sum by (instance) (%s)", sel) : NULL;
            legends[i] = vt__aprintf("%s {{instance}}", s->in_flight[i]);
            t[i].legend = legends[i] ? legends[i] : "";
            free(sel);
        }
        vt__panel_spec_t spec = {
            "In flight", "Requests being served right now.", "short", 0, 0, x, w};
        rc = vt__panel_add(l, &spec, t, n);
        for (size_t i = 0; i < n; i++) {
            free(legends[i]);
        }
    }
    if (rc == 0) {
        l->y += VT__PANEL_HEIGHT;
    }
    return rc;
}

/* The metric the $job and $instance variables list label values of. */
static const char *variable_metric(const vt__red_set_t *set) {
    if (set->count) {
        return set->items[0].requests;
    }
    if (set->sat.cpu) {
        return "process_cpu_seconds_total";
    }
    if (set->sat.in_flight_count) {
        return set->sat.in_flight[0];
    }
    return "up";
}

static json_t *variables(const vt__red_set_t *set, const vt__dash_opts_t *o) {
    const char *m = variable_metric(set);
    char *job_q = vt__aprintf("label_values(%s, job)", m);
    char *inst_q = vt__aprintf("label_values(%s{job=\"$job\"}, instance)", m);
    json_t *ds = json_pack("{s:s, s:s, s:s, s:i, s:b, s:b, s:i, s:s}", "type", "datasource", "name",
                           "datasource", "label", "Data source", "hide", 0, "includeAll", 0,
                           "multi", 0, "refresh", 1, "query", "prometheus");
    if (ds && o->datasource) {
        json_object_set_new(ds, "current",
                            json_pack("{s:s, s:s}", "text", o->datasource, "value", o->datasource));
    }
    json_t *out = NULL;
    if (job_q && inst_q && ds) {
        out = json_pack("[o, {s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:i, s:i, s:b, s:b, s:i}, "
                        "{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:i, s:i, s:b, s:b, s:s, s:i, "
                        "s:{s:[s], s:[s]}}]",
                        ds, "type", "query", "name", "job", "label", "job", "datasource", "type",
                        "prometheus", "uid", "${datasource}", "query", job_q, "definition", job_q,
                        "refresh", 2, "sort", 1, "includeAll", 0, "multi", 0, "hide", 0, "type",
                        "query", "name", "instance", "label", "instance", "datasource", "type",
                        "prometheus", "uid", "${datasource}", "query", inst_q, "definition", inst_q,
                        "refresh", 2, "sort", 1, "includeAll", 1, "multi", 1, "allValue", ".*",
                        "hide", 0, "current", "text", "All", "value", "$__all");
    } else {
        json_decref(ds);
    }
    free(job_q);
    free(inst_q);
    return out;
}

json_t *vt__dashboard_build(const vt__red_set_t *set, const vt__dash_opts_t *o) {
    vt__layout_t l = {json_array(), 1, 0};
    if (!l.panels) {
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < set->count && rc == 0; i++) {
        rc = red_row(&l, &set->items[i], o);
    }
    if (rc == 0 && o->saturation) {
        rc = saturation_row(&l, &set->sat, o);
    }
    json_t *vars = variables(set, o);
    if (rc || !vars) {
        json_decref(l.panels);
        json_decref(vars);
        return NULL;
    }
    return json_pack(
        "{s:s, s:s, s:s, s:[s, s], s:s, s:b, s:i, s:{s:s, s:s}, s:s, s:i, s:i, s:[], "
        "s:{s:o}, s:{s:[{s:i, s:{s:s, s:s}, s:b, s:b, s:s, s:s, s:s}]}, s:o}",
        "uid", o->uid, "title", o->title, "description",
        "RED metrics (rate, errors, duration) and saturation, generated by `vitals dashboard` "
        "from what the service exposes.",
        "tags", "vitals", "red", "timezone", "browser", "editable", 1, "graphTooltip", 1, "time",
        "from", "now-1h", "to", "now", "refresh", "30s", "schemaVersion", VT__SCHEMA_VERSION,
        "version", 1, "links", "templating", "list", vars, "annotations", "list", "builtIn", 1,
        "datasource", "type", "grafana", "uid", "-- Grafana --", "enable", 1, "hide", 1,
        "iconColor", "rgba(0, 211, 255, 1)", "name", "Annotations & Alerts", "type", "dashboard",
        "panels", l.panels);
}
