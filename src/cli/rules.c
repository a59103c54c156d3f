/* rules.c - `vitals rules`: Prometheus recording and alerting rules for the RED families of an
 * exposition.
 *
 * One rule group per family, recording rules first so the alerts of the
 * same group read this evaluation's values. Expressions come from promql.c,
 * the builder the dashboards use; thresholds are written in the shortest
 * form that reads back as the same number. With --tests, a promtool test
 * file is written beside the rules (rules_tests.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/discover.h"
#include "cli/rules.h"
#include "cli/yaml.h"

static void usage(FILE *f) {
    fputs("Usage: vitals rules [options] URL|FILE|-\n"
          "\n"
          "Write Prometheus rules (YAML) for the RED families the exposition has. For each\n"
          "family, recording rules named level:metric:operations:\n"
          "  job_route:http_requests:rate5m                      request rate\n"
          "  job_route:http_requests_errors:ratio_rate5m         error ratio (0..1)\n"
          "  job_route:http_request_duration_seconds:p99_rate5m  p99 duration\n"
          "and two alerts, <Family>ErrorRatioHigh and <Family>LatencyP99High, with a\n"
          "severity label and summary and description annotations.\n"
          "\n"
          "Options:\n"
          "  -o, --output=FILE          write the rules here (default: stdout)\n"
          "  --tests=FILE               also write a `promtool test rules` file that feeds\n"
          "                             synthetic failing and healthy series and expects\n"
          "                             each alert to fire on the first only (needs -o)\n"
          "  --error-ratio=RATIO        alert when errors exceed this share (default 0.05)\n"
          "  --latency-p99=SECONDS      alert when p99 exceeds this (default 0.5)\n"
          "  --for=DURATION             how long before an alert fires (default 5m)\n"
          "  --window=DURATION          range of rate() in the records (default 5m)\n"
          "  --error-severity=LEVEL     severity label of error alerts (default critical)\n"
          "  --latency-severity=LEVEL   severity label of latency alerts (default warning)\n"
          "  --include=REGEX            keep only the families the expression matches\n"
          "                             (base name, histogram or counter); repeatable\n"
          "  --exclude=REGEX            drop the families the expression matches\n"
          "  --format=text|openmetrics  read the input in this format (default: guessed)\n"
          "  --timeout=SECONDS          give up fetching a URL after this long (default 10)\n"
          "  -h, --help                 show this help\n"
          "\n"
          "Exit status: 0 written, 1 no RED family found, 2 usage or input error.\n",
          f);
}

typedef struct rules_args {
    vt__rules_opts_t r;
    vt__discover_opts_t src; /* --format, --timeout, --include, --exclude */
    const char *output;
    const char *tests;
} rules_args_t;

static int duration_arg(const char *name, const char *value, double min_s, double *out) {
    if (vt__parse_duration(value, out) || *out < min_s) {
        vt__errorf("rules: --%s takes a duration such as 5m, not \"%s\"", name, value);
        return -1;
    }
    return 0;
}

static int label_value_ok(const char *s) {
    return *s && strlen(s) < 128 && !strpbrk(s, "\n\r");
}

static int parse_args(int argc, char **argv, rules_args_t *a) {
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"tests", required_argument, NULL, 'T'},
                                             {"error-ratio", required_argument, NULL, 'E'},
                                             {"latency-p99", required_argument, NULL, 'L'},
                                             {"for", required_argument, NULL, 'F'},
                                             {"window", required_argument, NULL, 'W'},
                                             {"error-severity", required_argument, NULL, 'S'},
                                             {"latency-severity", required_argument, NULL, 's'},
                                             VT__DISCOVER_LONGOPTS,
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    a->r.window = "5m";
    a->r.window_s = 300;
    a->r.for_ = "5m";
    a->r.for_s = 300;
    a->r.error_ratio = 0.05;
    a->r.latency = 0.5;
    a->r.error_severity = "critical";
    a->r.latency_severity = "warning";
    vt__discover_init(&a->src);
    optind = 1;
    int c;
    while ((c = vt__discover_getopt(&a->src, "rules", argc, argv, "o:h", longopts)) != -1) {
        switch (c) {
        case VT__DISCOVER_BAD:
            return -1;
        case 'o':
            a->output = optarg;
            break;
        case 'T':
            a->tests = optarg;
            break;
        case 'E':
            if (vt__parse_number(optarg, 0, 1, &a->r.error_ratio)) {
                vt__errorf("rules: --error-ratio takes a ratio from 0 to 1, not \"%s\"", optarg);
                return -1;
            }
            break;
        case 'L':
            if (vt__parse_number(optarg, 1e-9, 1e9, &a->r.latency)) {
                vt__errorf("rules: --latency-p99 takes seconds above 0, not \"%s\"", optarg);
                return -1;
            }
            break;
        case 'F':
            if (duration_arg("for", optarg, 0, &a->r.for_s)) {
                return -1;
            }
            a->r.for_ = optarg;
            break;
        case 'W':
            if (duration_arg("window", optarg, 1, &a->r.window_s)) {
                return -1;
            }
            a->r.window = optarg;
            break;
        case 'S':
        case 's':
            if (!label_value_ok(optarg)) {
                vt__errorf("rules: a severity is one line of text");
                return -1;
            }
            *(c == 'S' ? &a->r.error_severity : &a->r.latency_severity) = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(VT_EXIT_OK);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (vt__discover_source("rules", argc, usage)) {
        return -1;
    }
    if (a->tests && (!a->output || strcmp(a->output, "-") == 0)) {
        vt__errorf("rules: --tests needs the rules in a file (-o FILE) for the tests to load");
        return -1;
    }
    return 0;
}

/* ---- the rules file ---------------------------------------------------------- */

static void record(vt__str_t *out, const char *name, char *expr) {
    vt__yaml_item_kv(out, 6, "record", name ? name : "");
    vt__yaml_kv(out, 8, "expr", expr ? expr : "");
    if (!expr) {
        out->failed = 1;
    }
    free(expr);
}

static void alert(vt__str_t *out, const char *name, const char *record_name, double threshold,
                  const char *for_, const char *severity, char *summary, char *description) {
    char num[VT_DOUBLE_BUFSZ];
    vt_format_double(threshold, num);
    char *expr = vt__aprintf("%s > %s", record_name, num);
    vt__yaml_item_kv(out, 6, "alert", name);
    vt__yaml_kv(out, 8, "expr", expr ? expr : "");
    vt__yaml_kv(out, 8, "for", for_);
    vt__str_puts(out, "        labels:\n");
    vt__yaml_kv(out, 10, "severity", severity);
    vt__str_puts(out, "        annotations:\n");
    vt__yaml_kv(out, 10, "summary", summary ? summary : "");
    vt__yaml_kv(out, 10, "description", description ? description : "");
    if (!expr || !summary || !description) {
        out->failed = 1;
    }
    free(expr);
    free(summary);
    free(description);
}

static int family_group(const vt__red_t *r, const vt__rules_opts_t *o, vt__str_t *out) {
    vt__family_rules_t fr;
    int rc = vt__family_rules_init(&fr, r, o);
    if (rc) {
        return rc;
    }
    vt__promql_t q = {"", o->window};
    char group[300];
    snprintf(group, sizeof group, "vitals.%s", r->name);
    vt__yaml_item_kv(out, 2, "name", group);
    vt__str_puts(out, "    rules:\n");
    record(out, fr.rate_record, vt__q_rate(&q, r->requests, NULL, &fr.rate_by));
    record(out, fr.ratio_record, vt__q_error_ratio(&q, r, &fr.ratio_by));
    record(out, fr.p99_record, vt__q_quantile(&q, r->histogram, 0.99, &fr.p99_by));

    char job[] = "{{ $labels.job }}";
    char route[128];
    vt__ann_vars_t v = {job, NULL, "{{ $value | humanizePercentage }}"};
    if (r->errors_route_label) {
        snprintf(route, sizeof route, "{{ $labels.%s }}", r->errors_route_label);
        v.route = route;
    }
    alert(out, fr.error_alert, fr.ratio_record, o->error_ratio, o->for_, o->error_severity,
          vt__ann_error_summary(&fr, o, &v), vt__ann_error_description(&fr, o, &v));
    v.route = NULL;
    v.value = "{{ $value | humanizeDuration }}";
    if (r->duration_route_label) {
        snprintf(route, sizeof route, "{{ $labels.%s }}", r->duration_route_label);
        v.route = route;
    }
    alert(out, fr.latency_alert, fr.p99_record, o->latency, o->for_, o->latency_severity,
          vt__ann_latency_summary(&fr, o, &v), vt__ann_latency_description(&fr, o, &v));
    vt__family_rules_free(&fr);
    return vt__str_ok(out);
}

int vt__rules_yaml(const vt__red_set_t *set, const vt__rules_opts_t *o, vt__str_t *out) {
    vt__str_puts(out, "# Prometheus recording and alerting rules for the RED metrics of a "
                      "service,\n# written by `vitals rules`. Check with `promtool check rules`.\n"
                      "groups:\n");
    for (size_t i = 0; i < set->count; i++) {
        int rc = family_group(&set->items[i], o, out);
        if (rc) {
            return rc;
        }
    }
    return vt__str_ok(out);
}

/* ---- the command ------------------------------------------------------------- */

int vt__cmd_rules(int argc, char **argv) {
    rules_args_t a;
    memset(&a, 0, sizeof a);
    int status = VT_EXIT_USAGE;
    vt_doc_t *doc = NULL;
    vt__red_set_t set = {0};
    vt__str_t rules = {0}, tests = {0};
    char *rules_ref = NULL, *tests_dir = NULL;
    char err[512];
    if (parse_args(argc, argv, &a)) {
        goto out;
    }
    if (vt__discover_families(&a.src, "rules", argv[optind], &doc, &set)) {
        goto out;
    }
    if (set.count == 0) {
        vt__errorf("rules: %s has no RED family (a *_seconds histogram with a code or status "
                   "label)%s",
                   argv[optind], vt__discover_filtered(&a.src));
        status = VT_EXIT_INVALID;
        goto out;
    }
    if (vt__rules_yaml(&set, &a.r, &rules)) {
        vt__errorf("rules: out of memory");
        goto out;
    }
    if (vt__write_file(a.output, rules.data, rules.len, err, sizeof err)) {
        vt__errorf("rules: %s", err);
        goto out;
    }
    if (a.tests) {
        /* rule_files paths are relative to the test file's directory. */
        tests_dir = vt__absolute_path(a.tests);
        char *slash = tests_dir ? strrchr(tests_dir, '/') : NULL;
        if (slash) {
            slash[slash == tests_dir ? 1 : 0] = '\0';
        }
        rules_ref = tests_dir ? vt__relative_path(tests_dir, a.output) : NULL;
        if (!rules_ref) {
            vt__errorf("rules: %s: cannot resolve the path", a.tests);
            goto out;
        }
        if (vt__rules_tests_yaml(&set, &a.r, rules_ref, &tests)) {
            vt__errorf("rules: out of memory");
            goto out;
        }
        if (vt__write_file(a.tests, tests.data, tests.len, err, sizeof err)) {
            vt__errorf("rules: %s", err);
            goto out;
        }
    }
    status = VT_EXIT_OK;
out:
    free(rules_ref);
    free(tests_dir);
    vt__str_free(&rules);
    vt__str_free(&tests);
    vt__red_set_free(&set);
    vt_doc_free(doc);
    vt__discover_free(&a.src);
    return status;
}
