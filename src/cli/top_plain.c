/* top_plain.c - `vitals top` without the full-screen view: text tables and JSON lines, and number
 * formats.
 *
 * One block (or one JSON object, on one line) per endpoint per interval,
 * written when the endpoint's scrape arrives and flushed at once, so that a
 * pipe reader sees each interval as it ends. Figures above the error ratio
 * threshold or the latency objective are marked with "!" in text. JSON
 * carries the figures in base units (requests per second, seconds, bytes),
 * null for an unknown figure (no baseline, no requests, no observations).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/top.h"

void vt__top_copy(char *dst, size_t n, const char *src) {
    size_t len = strlen(src);
    if (len >= n) {
        len = n - 1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

void vt__top_fmt_seconds(double s, char *buf, size_t n) {
    double a = fabs(s);
    if (isnan(s)) {
        snprintf(buf, n, "-");
    } else if (isinf(s)) {
        snprintf(buf, n, "%sInf", s < 0 ? "-" : "+");
    } else if (a == 0) {
        snprintf(buf, n, "0");
    } else if (a < 0.001) {
        snprintf(buf, n, "%.0fus", s * 1e6);
    } else if (a < 0.01) {
        snprintf(buf, n, "%.2fms", s * 1e3);
    } else if (a < 0.1) {
        snprintf(buf, n, "%.1fms", s * 1e3);
    } else if (a < 1) {
        snprintf(buf, n, "%.0fms", s * 1e3);
    } else if (a < 100) {
        snprintf(buf, n, "%.2fs", s);
    } else {
        snprintf(buf, n, "%.0fs", s);
    }
}

void vt__top_fmt_rate(double v, char *buf, size_t n) {
    double a = fabs(v);
    if (isnan(v)) {
        snprintf(buf, n, "-");
    } else if (a == 0) {
        snprintf(buf, n, "0");
    } else if (a < 10) {
        snprintf(buf, n, "%.2f", v);
    } else if (a < 1000) {
        snprintf(buf, n, "%.1f", v);
    } else if (a < 1e6) {
        snprintf(buf, n, "%.1fk", v / 1e3);
    } else {
        snprintf(buf, n, "%.1fM", v / 1e6);
    }
}

void vt__top_fmt_percent(double v, char *buf, size_t n) {
    if (isnan(v)) {
        snprintf(buf, n, "-");
    } else if (v == 0) {
        snprintf(buf, n, "0%%");
    } else if (v < 0.01) {
        snprintf(buf, n, "%.2f%%", v * 100);
    } else {
        snprintf(buf, n, "%.1f%%", v * 100);
    }
}

void vt__top_fmt_bytes(double v, char *buf, size_t n) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (isnan(v)) {
        snprintf(buf, n, "-");
        return;
    }
    size_t u = 0;
    while (fabs(v) >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    snprintf(buf, n, u ? "%.1f%s" : "%.0f%s", v, units[u]);
}

static void clock_text(double t, char *buf, size_t n) {
    time_t s = (time_t)t;
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void print_saturation(FILE *f, const vt__top_sat_t *sat) {
    char a[32], b[32];
    int any = 0;
    fputs("  saturation:", f);
    if (!isnan(sat->cpu)) {
        vt__top_fmt_percent(sat->cpu, a, sizeof a);
        fprintf(f, " cpu %s", a);
        any = 1;
    }
    if (!isnan(sat->resident)) {
        vt__top_fmt_bytes(sat->resident, a, sizeof a);
        fprintf(f, "  resident %s", a);
        any = 1;
    }
    if (!isnan(sat->open_fds)) {
        snprintf(a, sizeof a, "%.0f", sat->open_fds);
        snprintf(b, sizeof b, "%.0f", sat->max_fds);
        fprintf(f, "  fds %s/%s", a, isnan(sat->max_fds) ? "-" : b);
        any = 1;
    }
    for (size_t i = 0; i < sat->in_flight_count; i++) {
        if (!isnan(sat->in_flight[i].value)) {
            fprintf(f, "  %s %.0f", sat->in_flight[i].name, sat->in_flight[i].value);
            any = 1;
        }
    }
    fputs(any ? "\n" : " none exposed\n", f);
}

void vt__top_print_plain(FILE *f, const vt__top_endpoint_t *e, const vt__top_opts_t *o) {
    const vt__top_state_t *st = &e->state;
    char when[64], since[64], iv[32];
    clock_text(e->time, when, sizeof when);
    if (!e->up) {
        clock_text(e->status_since, since, sizeof since);
        fprintf(f, "%s  %s  %s (since %s)\n\n", e->url, when, e->status, since + 11);
        fflush(f);
        return;
    }
    if (st->have_rates) {
        snprintf(iv, sizeof iv, "interval %.2fs", st->interval);
    } else {
        snprintf(iv, sizeof iv, "first scrape");
    }
    fprintf(f, "%s  %s  %s  %s\n", e->url, when, iv, e->status);
    print_saturation(f, &st->sat);
    size_t *rows = NULL, n = 0;
    if (vt__top_rows(e, o->sort, o->sort_reverse, o->filter, &rows, &n) != 0) {
        fputs("  (out of memory)\n\n", f);
        fflush(f);
        return;
    }
    if (st->red.count == 0) {
        fputs("  no RED families (duration histograms with a status label)\n", f);
    } else if (!st->have_rates) {
        fputs("  rates after the next scrape\n", f);
    }
    int fw = 6, rw = 5;
    for (size_t i = 0; i < n; i++) {
        const vt__top_route_t *r = &st->routes[rows[i]];
        int l1 = (int)strlen(st->families[r->family].name), l2 = (int)strlen(r->name);
        fw = l1 > fw ? l1 : fw;
        rw = l2 > rw ? l2 : rw;
    }
    if (n) {
        fprintf(f, "  %-*s  %-*s  %9s  %9s  %7s  %8s  %8s  %8s\n", fw, "FAMILY", rw, "ROUTE",
                "RATE/s", "ERR/s", "ERR%", "P50", "P90", "P99");
    }
    for (size_t i = 0; i < n; i++) {
        const vt__top_route_t *r = &st->routes[rows[i]];
        char rate[32], errs[32], pct[32], q[3][32];
        vt__top_fmt_rate(r->rate, rate, sizeof rate);
        vt__top_fmt_rate(r->errors, errs, sizeof errs);
        vt__top_fmt_percent(r->error_ratio, pct, sizeof pct);
        if (r->error_ratio > o->error_threshold) {
            strcat(pct, "!");
        }
        const double qs[3] = {r->p50, r->p90, r->p99};
        for (int k = 0; k < 3; k++) {
            vt__top_fmt_seconds(qs[k], q[k], sizeof q[k]);
            if (qs[k] > o->latency_objective) {
                strcat(q[k], "!");
            }
        }
        fprintf(f, "  %-*s  %-*s  %9s  %9s  %7s  %8s  %8s  %8s\n", fw, st->families[r->family].name,
                rw, r->name, rate, errs, pct, q[0], q[1], q[2]);
    }
    free(rows);
    fputc('\n', f);
    fflush(f);
}

/* A figure, or null when unknown. */
static json_t *num(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

static int set(json_t *obj, const char *key, json_t *v) {
    return json_object_set_new(obj, key, v) == 0 ? 0 : VT_ENOMEM;
}

static json_t *route_json(const vt__top_state_t *st, const vt__top_route_t *r) {
    const vt__top_family_t *fam = &st->families[r->family];
    json_t *o = json_object(), *labels = json_object();
    int rc = o && labels ? 0 : VT_ENOMEM;
    if (rc == 0 && r->method) {
        rc = set(labels, "method", json_string(r->method));
    }
    if (rc == 0 && r->route && fam->route_label) {
        rc = set(labels, fam->route_label, json_string(r->route));
    }
    if (rc == 0) {
        rc = set(o, "route", json_string(r->name));
    }
    if (rc == 0) {
        rc = set(o, "labels", labels);
        labels = NULL;
    }
    const char *keys[] = {"rate", "errors", "error_ratio", "p50", "p90", "p99"};
    const double vals[] = {r->rate, r->errors, r->error_ratio, r->p50, r->p90, r->p99};
    for (size_t i = 0; rc == 0 && i < 6; i++) {
        rc = set(o, keys[i], num(vals[i]));
    }
    json_decref(labels);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *sat_json(const vt__top_sat_t *sat) {
    json_t *o = json_object(), *fl = json_object();
    int rc = o && fl ? 0 : VT_ENOMEM;
    const char *keys[] = {"cpu", "resident_bytes", "open_fds", "max_fds"};
    const double vals[] = {sat->cpu, sat->resident, sat->open_fds, sat->max_fds};
    for (size_t i = 0; rc == 0 && i < 4; i++) {
        rc = set(o, keys[i], num(vals[i]));
    }
    for (size_t i = 0; rc == 0 && i < sat->in_flight_count; i++) {
        rc = set(fl, sat->in_flight[i].name, num(sat->in_flight[i].value));
    }
    if (rc == 0) {
        rc = set(o, "in_flight", fl);
        fl = NULL;
    }
    json_decref(fl);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *families_json(const vt__top_endpoint_t *e, const vt__top_opts_t *o) {
    const vt__top_state_t *st = &e->state;
    json_t *list = json_array();
    size_t *rows = NULL, n = 0;
    if (!list || vt__top_rows(e, VT__SORT_NAME, 0, o->filter, &rows, &n) != 0) {
        json_decref(list);
        return NULL;
    }
    int rc = 0;
    json_t *fam = NULL, *routes = NULL;
    /* Every RED family is listed, with its present routes (grouped in rows). */
    for (size_t k = 0; rc == 0 && k < st->red.count; k++) {
        size_t fi = st->red_family[k];
        const vt__top_family_t *f = &st->families[fi];
        fam = json_object();
        routes = json_array();
        rc = fam && routes ? 0 : VT_ENOMEM;
        if (rc == 0) {
            rc = set(fam, "family", json_string(f->name));
        }
        if (rc == 0) {
            rc = set(fam, "histogram", json_string(f->histogram));
        }
        if (rc == 0) {
            rc = set(fam, "requests", json_string(f->requests));
        }
        if (rc == 0) {
            rc =
                set(fam, "route_label", f->route_label ? json_string(f->route_label) : json_null());
        }
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const vt__top_route_t *r = &st->routes[rows[i]];
            if (r->family == fi) {
                json_t *rj = route_json(st, r);
                rc = rj && json_array_append_new(routes, rj) == 0 ? 0 : VT_ENOMEM;
            }
        }
        if (rc == 0) {
            rc = set(fam, "routes", routes);
            routes = NULL;
        }
        if (rc == 0) {
            rc = json_array_append_new(list, fam) == 0 ? 0 : VT_ENOMEM;
            fam = NULL;
        }
        json_decref(routes);
        json_decref(fam);
    }
    free(rows);
    if (rc) {
        json_decref(list);
        return NULL;
    }
    return list;
}

int vt__top_print_json(FILE *f, const vt__top_endpoint_t *e, const vt__top_opts_t *o) {
    const vt__top_state_t *st = &e->state;
    json_t *root = json_object();
    int rc = root ? 0 : VT_ENOMEM;
    if (rc == 0) {
        rc = set(root, "endpoint", json_string(e->url));
    }
    if (rc == 0) {
        rc = set(root, "time", json_real(floor(e->time * 1000) / 1000));
    }
    if (rc == 0) {
        rc = set(root, "up", json_boolean(e->up));
    }
    if (rc == 0) {
        rc = set(root, "status", json_string(e->status));
    }
    if (rc == 0 && e->up) {
        rc = set(root, "format",
                 json_string(e->format == VT_FORMAT_OPENMETRICS ? "openmetrics" : "text"));
        if (rc == 0) {
            rc = set(root, "interval", st->have_rates ? json_real(st->interval) : json_null());
        }
        json_t *fams = rc == 0 ? families_json(e, o) : NULL;
        if (rc == 0) {
            rc = fams ? set(root, "families", fams) : VT_ENOMEM;
        }
        json_t *sat = rc == 0 ? sat_json(&st->sat) : NULL;
        if (rc == 0) {
            rc = sat ? set(root, "saturation", sat) : VT_ENOMEM;
        }
    }
    char *text = rc == 0 ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(root);
    if (!text) {
        return VT_ENOMEM;
    }
    fputs(text, f);
    fputc('\n', f);
    fflush(f);
    free(text);
    return 0;
}
