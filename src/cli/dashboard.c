/* dashboard.c - `vitals dashboard`: a Grafana dashboard (and provisioning) from a /metrics
 * exposition.
 *
 * The dashboard is generated from what the service exposes right now, so it
 * never names a metric the service does not have: run it in CI against the
 * service's scrape (or a saved one) and commit the result. Exit status 1
 * means no RED family and no saturation signal was found.
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dashboard.h"
#include "cli/discover.h"
#include "cli/yaml.h"

typedef struct dash_args {
    vt__dash_opts_t d;
    vt__discover_opts_t src;  /* --format, --timeout, --include, --exclude */
    const char *output;       /* -o, NULL: stdout */
    const char *provisioning; /* --provisioning DIR */
    const char *prometheus_url;
    const char *dashboards_path; /* where Grafana finds the JSON */
    char uid_buf[41];
} dash_args_t;

static void usage(FILE *f) {
    fputs("Usage: vitals dashboard [options] URL|FILE|-\n"
          "\n"
          "Write a Grafana dashboard (JSON, schemaVersion 39, timeseries panels) for the RED\n"
          "families the exposition has: a row per duration histogram with a status label\n"
          "(request rate, error ratio, p50/p90/p99 duration) and a saturation row (CPU,\n"
          "resident memory, open against max file descriptors, requests in flight).\n"
          "Variables: $datasource (Prometheus), $job, $instance; every query is filtered by\n"
          "job=\"$job\", instance=~\"$instance\".\n"
          "\n"
          "Options:\n"
          "  -o, --output=FILE          write the JSON here (default: stdout)\n"
          "  --title=TEXT               dashboard title (default \"Service vitals\")\n"
          "  --uid=UID                  dashboard uid, 1 to 40 characters (default: made\n"
          "                             from the title)\n"
          "  --datasource=NAME          preselect this Prometheus data source\n"
          "  --include=REGEX            keep only families (base name, histogram or counter)\n"
          "                             and in-flight gauges the expression matches; repeat\n"
          "                             for several; a family list is \"a|b|c\"\n"
          "  --exclude=REGEX            drop the families the expression matches\n"
          "  --rate-window=RANGE        range of rate() (default $__rate_interval)\n"
          "  --error-ratio=RATIO        threshold line on error panels (default 0.05)\n"
          "  --latency-p99=SECONDS      threshold line on duration panels (default 0.5)\n"
          "  --no-saturation            leave out the saturation row\n"
          "  --provisioning=DIR         also write DIR/datasources.yaml and\n"
          "                             DIR/dashboards.yaml for Grafana's provisioning\n"
          "  --prometheus-url=URL       the data source's URL in datasources.yaml\n"
          "                             (default http://localhost:9090)\n"
          "  --dashboards-path=PATH     the folder Grafana loads dashboards from, in\n"
          "                             dashboards.yaml (default: the folder of -o)\n"
          "  --format=text|openmetrics  read the input in this format (default: guessed)\n"
          "  --timeout=SECONDS          give up fetching a URL after this long (default 10)\n"
          "  -h, --help                 show this help\n"
          "\n"
          "Exit status: 0 written, 1 nothing to chart, 2 usage or input error.\n",
          f);
}

/* A uid from the title: lower-case letters, digits and dashes, at most 40. */
static void uid_from_title(const char *title, char *out, size_t n) {
    size_t j = 0;
    int dash = 0;
    for (const char *p = title; *p && j + 1 < n && j < 40; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c)) {
            if (dash && j > 0) {
                out[j++] = '-';
            }
            if (j + 1 < n && j < 40) {
                out[j++] = (char)tolower(c);
            }
            dash = 0;
        } else {
            dash = 1;
        }
    }
    out[j] = '\0';
    if (j == 0) {
        snprintf(out, n, "vitals");
    }
}

static int parse_args(int argc, char **argv, dash_args_t *a) {
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"title", required_argument, NULL, 'T'},
                                             {"uid", required_argument, NULL, 'U'},
                                             {"datasource", required_argument, NULL, 'D'},
                                             {"rate-window", required_argument, NULL, 'W'},
                                             {"error-ratio", required_argument, NULL, 'E'},
                                             {"latency-p99", required_argument, NULL, 'L'},
                                             {"no-saturation", no_argument, NULL, 'N'},
                                             {"provisioning", required_argument, NULL, 'P'},
                                             {"prometheus-url", required_argument, NULL, 'R'},
                                             {"dashboards-path", required_argument, NULL, 'A'},
                                             VT__DISCOVER_LONGOPTS,
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    a->d.title = "Service vitals";
    a->d.window = "$__rate_interval";
    a->d.error_ratio = 0.05;
    a->d.latency = 0.5;
    a->d.saturation = 1;
    vt__discover_init(&a->src);
    a->prometheus_url = "http://localhost:9090";
    optind = 1;
    int c;
    double secs;
    while ((c = vt__discover_getopt(&a->src, "dashboard", argc, argv, "o:h", longopts)) != -1) {
        switch (c) {
        case VT__DISCOVER_BAD:
            return -1;
        case 'o':
            a->output = optarg;
            break;
        case 'T':
            a->d.title = optarg;
            break;
        case 'U':
            if (!*optarg || strlen(optarg) > 40) {
                vt__errorf("dashboard: --uid takes 1 to 40 characters");
                return -1;
            }
            a->d.uid = optarg;
            break;
        case 'D':
            a->d.datasource = optarg;
            break;
        case 'W':
            if (strcmp(optarg, "$__rate_interval") != 0 && strcmp(optarg, "$__interval") != 0 &&
                vt__parse_duration(optarg, &secs)) {
                vt__errorf("dashboard: --rate-window takes a duration such as 5m, not \"%s\"",
                           optarg);
                return -1;
            }
            a->d.window = optarg;
            break;
        case 'E':
            if (vt__parse_number(optarg, 0, 1, &a->d.error_ratio)) {
                vt__errorf("dashboard: --error-ratio takes a ratio from 0 to 1");
                return -1;
            }
            break;
        case 'L':
            if (vt__parse_number(optarg, 0, 1e9, &a->d.latency)) {
                vt__errorf("dashboard: --latency-p99 takes seconds");
                return -1;
            }
            break;
        case 'N':
            a->d.saturation = 0;
            break;
        case 'P':
            a->provisioning = optarg;
            break;
        case 'R':
            a->prometheus_url = optarg;
            break;
        case 'A':
            a->dashboards_path = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(VT_EXIT_OK);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (vt__discover_source("dashboard", argc, usage)) {
        return -1;
    }
    if (!a->d.uid) {
        uid_from_title(a->d.title, a->uid_buf, sizeof a->uid_buf);
        a->d.uid = a->uid_buf;
    }
    return 0;
}

/* Grafana's provisioning files: one Prometheus data source, one file provider. */
static int write_provisioning(const dash_args_t *a, char *err, size_t errlen) {
    int rc = vt__mkdir_p(a->provisioning, err, errlen);
    if (rc) {
        return rc;
    }
    const char *ds_name = a->d.datasource ? a->d.datasource : "Prometheus";
    vt__str_t ds = {0};
    vt__str_puts(&ds, "# Grafana data source provisioning, written by `vitals dashboard`.\n"
                      "apiVersion: 1\n"
                      "datasources:\n");
    vt__yaml_item_kv(&ds, 2, "name", ds_name);
    vt__yaml_kv(&ds, 4, "type", "prometheus");
    vt__yaml_kv(&ds, 4, "access", "proxy");
    vt__yaml_kv(&ds, 4, "url", a->prometheus_url);
    vt__str_puts(&ds, "    isDefault: true\n    editable: true\n");

    char *folder = NULL;
    if (a->dashboards_path) {
        folder = vt__strdup(a->dashboards_path);
    } else if (a->output && strcmp(a->output, "-") != 0) {
        folder = vt__absolute_path(a->output);
        char *slash = folder ? strrchr(folder, '/') : NULL;
        if (slash) {
            slash[slash == folder ? 1 : 0] = '\0';
        }
    } else {
        folder = vt__absolute_path(a->provisioning);
    }
    vt__str_t dash = {0};
    vt__str_puts(&dash, "# Grafana dashboard provisioning, written by `vitals dashboard`.\n"
                        "apiVersion: 1\n"
                        "providers:\n");
    vt__yaml_item_kv(&dash, 2, "name", "vitals");
    vt__str_puts(&dash, "    orgId: 1\n");
    vt__yaml_kv(&dash, 4, "folder", "");
    vt__yaml_kv(&dash, 4, "type", "file");
    vt__str_puts(&dash, "    disableDeletion: false\n"
                        "    allowUiUpdates: false\n"
                        "    updateIntervalSeconds: 30\n"
                        "    options:\n");
    vt__yaml_kv(&dash, 6, "path", folder ? folder : "");
    vt__str_puts(&dash, "      foldersFromFilesStructure: false\n");
    free(folder);

    char *ds_path = vt__aprintf("%s/datasources.yaml", a->provisioning);
    char *dash_path = vt__aprintf("%s/dashboards.yaml", a->provisioning);
    rc = vt__str_ok(&ds) || vt__str_ok(&dash) || !ds_path || !dash_path ? VT_ENOMEM : 0;
    if (rc == 0) {
        rc = vt__write_file(ds_path, ds.data, ds.len, err, errlen);
    }
    if (rc == 0) {
        rc = vt__write_file(dash_path, dash.data, dash.len, err, errlen);
    }
    if (rc == VT_ENOMEM) {
        snprintf(err, errlen, "out of memory");
    }
    free(ds_path);
    free(dash_path);
    vt__str_free(&ds);
    vt__str_free(&dash);
    return rc;
}

int vt__cmd_dashboard(int argc, char **argv) {
    dash_args_t a;
    memset(&a, 0, sizeof a);
    int status = VT_EXIT_USAGE;
    vt_doc_t *doc = NULL;
    vt__red_set_t set = {0};
    json_t *root = NULL;
    char *text = NULL;
    char err[512];
    if (parse_args(argc, argv, &a)) {
        goto out;
    }
    if (vt__discover_families(&a.src, "dashboard", argv[optind], &doc, &set)) {
        goto out;
    }
    if (set.count == 0 && !(a.d.saturation && vt__red_has_saturation(&set))) {
        vt__errorf("dashboard: %s has no RED family (a *_seconds histogram with a code or "
                   "status label) and no saturation metric%s",
                   argv[optind], vt__discover_filtered(&a.src));
        status = VT_EXIT_INVALID;
        goto out;
    }
    root = vt__dashboard_build(&set, &a.d);
    text = root ? json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
    if (!text) {
        vt__errorf("dashboard: out of memory");
        goto out;
    }
    vt__str_t body = {0};
    vt__str_puts(&body, text);
    vt__str_puts(&body, "\n");
    if (vt__str_ok(&body) || vt__write_file(a.output, body.data, body.len, err, sizeof err)) {
        vt__errorf("dashboard: %s", vt__str_ok(&body) ? "out of memory" : err);
        vt__str_free(&body);
        goto out;
    }
    vt__str_free(&body);
    if (a.provisioning && write_provisioning(&a, err, sizeof err)) {
        vt__errorf("dashboard: %s", err);
        goto out;
    }
    status = VT_EXIT_OK;
out:
    free(text);
    json_decref(root);
    vt__red_set_free(&set);
    vt_doc_free(doc);
    vt__discover_free(&a.src);
    return status;
}
