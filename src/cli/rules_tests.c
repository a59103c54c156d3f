/* rules_tests.c - the `promtool test rules` file that proves each generated alert fires and stays
 * quiet.
 *
 * For each family, two jobs of synthetic series with the family's own
 * metric names, labels and bucket bounds: "vitals-failing" fails a share of
 * its requests above the error objective and answers every request in a
 * bucket above the latency objective; "vitals-healthy" never fails and
 * answers in the first bucket. Both run 120 requests a minute, so every
 * rate is exactly 2 per second and the shares are exact binary fractions.
 * The file expects each alert on the failing job alone (promtool compares
 * the whole list, so the healthy job must stay quiet) with its annotations
 * expanded, and the recorded values of both jobs.
 *
 * The expected p99 is computed here the way Prometheus interpolates within
 * a bucket (lower + (upper - lower) * rank / count), with the same floating
 * point operations, so it matches exactly. An alert the data cannot prove
 * (an objective beyond the last bucket, or below what the first bucket can
 * show) is left out of the file with a comment and a note on stderr.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/rules.h"
#include "cli/yaml.h"

#define JOB_FAILING "vitals-failing"
#define JOB_HEALTHY "vitals-healthy"
#define INSTANCE "127.0.0.1:9100"
#define PER_MINUTE 120 /* requests per minute in each job: 2 per second */

typedef struct plan {
    double share;     /* errors of the failing job, 0 when the error alert is not tested */
    int error_test;   /* the error alert is tested */
    int latency_test; /* the latency alert is tested */
    size_t slow;      /* bucket of the failing job's requests; bound_count means +Inf */
    double p99_failing;
    double p99_healthy;
    int eval_minutes; /* when the alerts are checked */
    int minutes;      /* length of the input series */
} plan_t;

/* A value for a route-like label: a path for HTTP-style names, a command
 * otherwise. */
static const char *route_value(const char *label) {
    if (strcmp(label, "operation") == 0 || strcmp(label, "command") == 0 ||
        strcmp(label, "op") == 0) {
        return "GET";
    }
    if (strcmp(label, "rpc") == 0 || strcmp(label, "method_name") == 0) {
        return "Checkout";
    }
    return "/orders";
}

static const char *ok_status(const vt__red_t *r) {
    return r->err_kind == VT__ERR_HTTP_5XX ? "200" : "success";
}

static const char *err_status(const vt__red_t *r) {
    return r->err_kind == VT__ERR_HTTP_5XX ? "500" : "error";
}

/* Prometheus' p99 of a histogram whose only non-empty bucket is `bucket`,
 * all at `rate` per second: the same operations as its bucketQuantile(). */
static double p99_of(const vt__red_t *r, size_t bucket, double rate) {
    if (bucket >= r->bound_count) {
        return r->bounds[r->bound_count - 1]; /* in +Inf: the highest finite bound */
    }
    double lo = bucket > 0 ? r->bounds[bucket - 1] : 0;
    double hi = r->bounds[bucket];
    double rank = 0.99 * rate;
    double count = rate;
    return lo + (hi - lo) * (rank / count);
}

static void make_plan(const vt__red_t *r, const vt__rules_opts_t *o, plan_t *p) {
    memset(p, 0, sizeof *p);
    static const double shares[] = {0.25, 0.5, 0.75, 1.0};
    for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++) {
        if (shares[i] > o->error_ratio) {
            p->share = shares[i];
            p->error_test = 1;
            break;
        }
    }
    size_t n = r->bound_count;
    p->slow = n;
    if (n > 0 && r->bounds[0] > 0) {
        for (size_t i = 1; i <= n; i++) {
            if (r->bounds[i - 1] >= o->latency && (i < n || r->bounds[n - 1] > o->latency)) {
                p->slow = i;
                break;
            }
        }
        p->p99_failing = p99_of(r, p->slow, 2.0);
        p->p99_healthy = p99_of(r, 0, 2.0);
        p->latency_test = p->p99_failing > o->latency && p->p99_healthy <= o->latency;
    }
    p->eval_minutes = (int)ceil((o->window_s + o->for_s) / 60.0) + 5;
    p->minutes = p->eval_minutes + 5;
}

/* ---- input series ------------------------------------------------------------ */

typedef struct labels {
    const char *names[8];
    const char *values[8];
    size_t n;
} labels_t;

static void put(labels_t *l, const char *name, const char *value) {
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->names[i], name) == 0) {
            l->values[i] = value;
            return;
        }
    }
    if (name && l->n < 8) {
        l->names[l->n] = name;
        l->values[l->n++] = value;
    }
}

static void series(vt__str_t *out, const char *metric, const labels_t *l, double per_minute,
                   int minutes) {
    vt__str_t s = {0};
    vt__str_printf(&s, "%s{", metric);
    for (size_t i = 0; i < l->n; i++) {
        vt__str_printf(&s, "%s%s=\"%s\"", i ? ", " : "", l->names[i], l->values[i]);
    }
    vt__str_puts(&s, "}");
    vt__str_puts(out, "      - series: ");
    vt__yaml_quote(out, vt__str_get(&s));
    vt__str_printf(out, "\n        values: \"0+%gx%d\"\n", per_minute, minutes);
    if (vt__str_ok(&s)) {
        out->failed = 1;
    }
    vt__str_free(&s);
}

static void job_labels(const vt__red_t *r, const char *job, const char *route_label,
                       int with_method, labels_t *l) {
    memset(l, 0, sizeof *l);
    put(l, "job", job);
    put(l, "instance", INSTANCE);
    if (route_label) {
        put(l, route_label, route_value(route_label));
    }
    if (with_method && r->method_label) {
        put(l, r->method_label, "GET");
    }
}

static void counter_series(vt__str_t *out, const vt__red_t *r, const plan_t *p) {
    int status_here = strcmp(r->errors, r->counter) == 0;
    for (int failing = 1; failing >= 0; failing--) {
        labels_t l;
        job_labels(r, failing ? JOB_FAILING : JOB_HEALTHY, r->route_label, 1, &l);
        double errors = failing ? p->share * PER_MINUTE : 0;
        if (status_here) {
            put(&l, r->status_label, ok_status(r));
            series(out, r->counter, &l, PER_MINUTE - errors, p->minutes);
            put(&l, r->status_label, err_status(r));
            series(out, r->counter, &l, errors, p->minutes);
        } else {
            series(out, r->counter, &l, PER_MINUTE, p->minutes);
        }
    }
}

static void bucket_series(vt__str_t *out, const vt__red_t *r, const labels_t *base, size_t bucket,
                          double per_minute, int minutes) {
    char name[512], le[64];
    labels_t l = *base;
    snprintf(name, sizeof name, "%s_bucket", r->histogram);
    for (size_t i = 0; i <= r->bound_count; i++) {
        if (i < r->bound_count) {
            vt_format_double(r->bounds[i], le);
        } else {
            snprintf(le, sizeof le, "+Inf");
        }
        put(&l, "le", le);
        series(out, name, &l, i >= bucket ? per_minute : 0, minutes);
    }
    snprintf(name, sizeof name, "%s_count", r->histogram);
    series(out, name, base, per_minute, minutes);
}

static void histogram_series(vt__str_t *out, const vt__red_t *r, const plan_t *p) {
    int requests_here = r->counter == NULL;
    int status_here = r->counter == NULL || strcmp(r->errors, r->counter) != 0;
    for (int failing = 1; failing >= 0; failing--) {
        labels_t l;
        job_labels(r, failing ? JOB_FAILING : JOB_HEALTHY, r->duration_route_label, requests_here,
                   &l);
        size_t bucket = failing ? p->slow : 0;
        double errors = failing ? p->share * PER_MINUTE : 0;
        if (status_here) {
            put(&l, r->status_label, ok_status(r));
            bucket_series(out, r, &l, bucket, PER_MINUTE - errors, p->minutes);
            put(&l, r->status_label, err_status(r));
            bucket_series(out, r, &l, bucket, errors, p->minutes);
        } else {
            bucket_series(out, r, &l, bucket, PER_MINUTE, p->minutes);
        }
    }
}

/* ---- expectations ------------------------------------------------------------ */

/* What Prometheus' humanizePercentage prints. */
static void humanize_percentage(double v, char *buf, size_t n) {
    snprintf(buf, n, "%.4g%%", v * 100);
}

/* What Prometheus' humanizeDuration prints for 0 < v < 60 seconds. */
static void humanize_duration(double v, char *buf, size_t n) {
    if (v >= 1) {
        snprintf(buf, n, "%.4gs", v);
        return;
    }
    static const char *const prefixes[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
    const char *prefix = "";
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0] && fabs(v) < 1; i++) {
        prefix = prefixes[i];
        v *= 1000;
    }
    snprintf(buf, n, "%.4g%ss", v, prefix);
}

static void expect_alert(vt__str_t *out, const char *alertname, int eval_minutes,
                         const char *severity, const char *route_label, char *summary,
                         char *description) {
    vt__str_printf(out, "      - eval_time: %dm\n", eval_minutes);
    vt__yaml_kv(out, 8, "alertname", alertname);
    vt__str_puts(out, "        exp_alerts:\n          - exp_labels:\n");
    vt__yaml_kv(out, 14, "severity", severity);
    vt__yaml_kv(out, 14, "job", JOB_FAILING);
    if (route_label) {
        vt__yaml_kv(out, 14, route_label, route_value(route_label));
    }
    vt__str_puts(out, "            exp_annotations:\n");
    vt__yaml_kv(out, 14, "summary", summary ? summary : "");
    vt__yaml_kv(out, 14, "description", description ? description : "");
    if (!summary || !description) {
        out->failed = 1;
    }
    free(summary);
    free(description);
}

static void expect_sample(vt__str_t *out, const char *record, const char *route_label,
                          const char *job, double value) {
    vt__str_t s = {0};
    vt__str_printf(&s, "%s{job=\"%s\"", record, job);
    if (route_label) {
        vt__str_printf(&s, ", %s=\"%s\"", route_label, route_value(route_label));
    }
    vt__str_puts(&s, "}");
    char num[VT_DOUBLE_BUFSZ];
    vt_format_double(value, num);
    vt__str_puts(out, "          - labels: ");
    vt__yaml_quote(out, vt__str_get(&s));
    vt__str_printf(out, "\n            value: %s\n", num);
    if (vt__str_ok(&s)) {
        out->failed = 1;
    }
    vt__str_free(&s);
}

static void expect_record(vt__str_t *out, const char *record, const char *route_label,
                          int eval_minutes, double failing, double healthy) {
    vt__yaml_item_kv(out, 6, "expr", record);
    vt__str_printf(out, "        eval_time: %dm\n        exp_samples:\n", eval_minutes);
    expect_sample(out, record, route_label, JOB_FAILING, failing);
    expect_sample(out, record, route_label, JOB_HEALTHY, healthy);
}

static int family_test(const vt__red_t *r, const vt__rules_opts_t *o, vt__str_t *out) {
    vt__family_rules_t fr;
    int rc = vt__family_rules_init(&fr, r, o);
    if (rc) {
        return rc;
    }
    plan_t p;
    make_plan(r, o, &p);
    char name[400];
    snprintf(name, sizeof name, "%s: failing traffic fires the alerts, healthy traffic does not",
             r->name);
    vt__yaml_item_kv(out, 2, "name", name);
    vt__str_puts(out, "    interval: 1m\n    input_series:\n");
    if (r->counter) {
        counter_series(out, r, &p);
    }
    histogram_series(out, r, &p);

    vt__str_puts(out, "    alert_rule_test:\n");
    int alerts = 0;
    char value[64];
    const char *route = r->errors_route_label ? route_value(r->errors_route_label) : NULL;
    vt__ann_vars_t v = {JOB_FAILING, route, value};
    if (p.error_test) {
        humanize_percentage(p.share, value, sizeof value);
        expect_alert(out, fr.error_alert, p.eval_minutes, o->error_severity, r->errors_route_label,
                     vt__ann_error_summary(&fr, o, &v), vt__ann_error_description(&fr, o, &v));
        alerts++;
    } else {
        vt__str_printf(out, "      # %s: no error share above %g can be made; not tested.\n",
                       fr.error_alert, o->error_ratio);
        fprintf(stderr, "vitals: rules: %s is not tested: the error ratio %g cannot be exceeded\n",
                fr.error_alert, o->error_ratio);
    }
    if (p.latency_test) {
        humanize_duration(p.p99_failing, value, sizeof value);
        v.route = r->duration_route_label ? route_value(r->duration_route_label) : NULL;
        expect_alert(out, fr.latency_alert, p.eval_minutes, o->latency_severity,
                     r->duration_route_label, vt__ann_latency_summary(&fr, o, &v),
                     vt__ann_latency_description(&fr, o, &v));
        alerts++;
    } else {
        char objective[64];
        vt__fmt_seconds(o->latency, objective, sizeof objective);
        vt__str_printf(out,
                       "      # %s: the buckets of %s cannot show a p99 above %s with a "
                       "first bucket below it; not tested.\n",
                       fr.latency_alert, r->histogram, objective);
        fprintf(stderr,
                "vitals: rules: %s is not tested: the buckets of %s cannot separate a p99 "
                "above %s from one below it\n",
                fr.latency_alert, r->histogram, objective);
    }
    if (alerts == 0) {
        /* promtool wants at least one test per entry: an alert that must be quiet. */
        vt__str_printf(out, "      - eval_time: %dm\n", p.eval_minutes);
        vt__yaml_kv(out, 8, "alertname", fr.error_alert);
        vt__str_puts(out, "        exp_alerts: []\n");
    }

    vt__str_puts(out, "    promql_expr_test:\n");
    expect_record(out, fr.rate_record, r->route_label, p.eval_minutes, 2.0, 2.0);
    expect_record(out, fr.ratio_record, r->errors_route_label, p.eval_minutes, p.share, 0);
    if (r->bound_count > 0 && r->bounds[0] > 0) {
        expect_record(out, fr.p99_record, r->duration_route_label, p.eval_minutes, p.p99_failing,
                      p.p99_healthy);
    }
    vt__family_rules_free(&fr);
    return vt__str_ok(out);
}

int vt__rules_tests_yaml(const vt__red_set_t *set, const vt__rules_opts_t *o, const char *rules_ref,
                         vt__str_t *out) {
    vt__str_puts(out, "# Unit tests of the rules written by `vitals rules`: run\n"
                      "#   promtool test rules <this file>\n"
                      "rule_files:\n");
    vt__str_puts(out, "  - ");
    vt__yaml_quote(out, rules_ref);
    vt__str_puts(out, "\nevaluation_interval: 1m\ntests:\n");
    for (size_t i = 0; i < set->count; i++) {
        int rc = family_test(&set->items[i], o, out);
        if (rc) {
            return rc;
        }
    }
    return vt__str_ok(out);
}
