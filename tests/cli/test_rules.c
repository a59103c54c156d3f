/* test_rules.c - `vitals rules`: record names, expressions, alerts, annotations, options, the test
 * file.
 *
 * The rules of the demo fixture and of the Python client's output are
 * checked line by line: level:metric:operations names, the expressions
 * (built by the same code as the dashboard's), thresholds, "for", severity,
 * annotations with their template references, YAML escaping. promtool runs
 * on them in test_rules_promtool.c. A service exposing only a duration
 * histogram (status in status_code) gets rules on the histogram's _count;
 * those rules and their test file go through promtool here when it is
 * installed (required under CI).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "harness.h"

#define DEMO VT_TEST_DATA_DIR "/cli/demo.prom"
#define DEMO_OM VT_TEST_DATA_DIR "/cli/demo.om"
#define HIST_ONLY VT_TEST_DATA_DIR "/cli/histogram_only.prom"
#define PY_TEXT VT_SHARED_TESTDATA_DIR "/python-client/golden_text_0.0.4.txt"

static char scratch[256];

/* The rules (stdout) of `vitals rules input args...`; NULL on failure. */
static char *rules_of(const char *input, const char *a1, const char *a2, const char *a3) {
    run_result_t r;
    run_vitals(&r, NULL, "rules", input, a1, a2, a3, NULL);
    if (r.status != 0) {
        fprintf(stderr, "vitals rules %s: status %d: %s\n", input, r.status, r.err);
    }
    CHECK_INT(r.status, 0);
    char *out = r.status == 0 ? strdup(r.out) : NULL;
    run_free(&r);
    return out;
}

static void test_demo_rules(void) {
    char *y = rules_of(DEMO, NULL, NULL, NULL);
    if (!y) {
        return;
    }
    CHECK(strncmp(y, "# ", 2) == 0);
    CHECK_CONTAINS(y, "\ngroups:\n  - name: \"vitals.http_request\"\n    rules:\n");
    /* Recording rules: level:metric:operations. */
    CHECK_CONTAINS(y, "      - record: \"job_route:http_requests:rate5m\"\n"
                      "        expr: \"sum by (job, route) (rate(http_requests_total[5m]))\"\n");
    CHECK_CONTAINS(
        y, "      - record: \"job_route:http_requests_errors:ratio_rate5m\"\n"
           "        expr: \"(sum by (job, route) (rate(http_requests_total{code=~\\\"5..\\\"}"
           "[5m])) or sum by (job, route) (rate(http_requests_total[5m])) * 0) / sum by "
           "(job, route) (rate(http_requests_total[5m]))\"\n");
    CHECK_CONTAINS(y, "      - record: \"job_route:http_request_duration_seconds:p99_rate5m\"\n"
                      "        expr: \"histogram_quantile(0.99, sum by (le, job, route) "
                      "(rate(http_request_duration_seconds_bucket[5m])))\"\n");
    /* Alerts on the records, with severity and annotations. */
    CHECK_CONTAINS(y, "      - alert: \"HttpRequestErrorRatioHigh\"\n"
                      "        expr: \"job_route:http_requests_errors:ratio_rate5m > 0.05\"\n"
                      "        for: \"5m\"\n"
                      "        labels:\n"
                      "          severity: \"critical\"\n"
                      "        annotations:\n"
                      "          summary: \"{{ $labels.job }}: more than 5% of http_requests_total "
                      "fail on {{ $labels.route }}\"\n");
    CHECK_CONTAINS(y, "          description: \"{{ $value | humanizePercentage }} of "
                      "http_requests_total on {{ $labels.route }} in {{ $labels.job }} had "
                      "code=~\\\"5..\\\" over the last 5m; the objective is at most 5%.\"\n");
    CHECK_CONTAINS(y, "      - alert: \"HttpRequestLatencyP99High\"\n"
                      "        expr: \"job_route:http_request_duration_seconds:p99_rate5m > 0.5\"\n"
                      "        for: \"5m\"\n"
                      "        labels:\n"
                      "          severity: \"warning\"\n");
    CHECK_CONTAINS(y, "is {{ $value | humanizeDuration }} over the last 5m; the objective is "
                      "500ms.\"\n");
    /* The Redis client: by operation, errors are status="error". */
    CHECK_CONTAINS(y, "  - name: \"vitals.redis_call\"\n");
    CHECK_CONTAINS(y, "      - record: \"job_operation:redis_calls:rate5m\"\n"
                      "        expr: \"sum by (job, operation) (rate(redis_calls_total[5m]))\"\n");
    CHECK_CONTAINS(y, "rate(redis_calls_total{status=\\\"error\\\"}[5m])");
    CHECK_CONTAINS(y, "      - record: \"job_operation:redis_call_duration_seconds:p99_rate5m\"\n");
    CHECK_CONTAINS(y, "      - alert: \"RedisCallErrorRatioHigh\"\n");
    CHECK_CONTAINS(y, "      - alert: \"RedisCallLatencyP99High\"\n");
    CHECK_CONTAINS(y, "on {{ $labels.operation }}");
    /* Two groups, three records and two alerts each; nothing else. */
    CHECK_INT(count_of(y, "  - name: "), 2);
    CHECK_INT(count_of(y, "      - record: "), 6);
    CHECK_INT(count_of(y, "      - alert: "), 4);
    free(y);
}

static void test_python_client_rules(void) {
    if (access(PY_TEXT, R_OK) != 0) {
        SKIP_ALL("the shared test data (../shared/testdata/python-client) is missing");
    }
    char *y = rules_of(PY_TEXT, NULL, NULL, NULL);
    if (!y) {
        return;
    }
    /* The counter has path and code; the histogram only method. */
    CHECK_CONTAINS(y, "      - record: \"job_path:http_requests:rate5m\"\n"
                      "        expr: \"sum by (job, path) (rate(http_requests_total[5m]))\"\n");
    CHECK_CONTAINS(y, "      - record: \"job_path:http_requests_errors:ratio_rate5m\"\n");
    CHECK_CONTAINS(y, "      - record: \"job:http_request_duration_seconds:p99_rate5m\"\n"
                      "        expr: \"histogram_quantile(0.99, sum by (le, job) "
                      "(rate(http_request_duration_seconds_bucket[5m])))\"\n");
    CHECK(strstr(y, "redis") == NULL);
    free(y);
}

static void test_options(void) {
    char *y = rules_of(DEMO, "--error-ratio=0.01", "--latency-p99=0.25", "--for=10m");
    if (y) {
        CHECK_CONTAINS(y, "ratio_rate5m > 0.01\"\n        for: \"10m\"\n");
        CHECK_CONTAINS(y, "p99_rate5m > 0.25\"\n        for: \"10m\"\n");
        CHECK_CONTAINS(y, "more than 1% of http_requests_total");
        CHECK_CONTAINS(y, "the objective is 250ms.");
    }
    free(y);
    y = rules_of(DEMO, "--window=1m", "--error-severity=page", "--latency-severity=ticket");
    if (y) {
        CHECK_CONTAINS(y, "\"job_route:http_requests:rate1m\"");
        CHECK_CONTAINS(y, "rate(http_requests_total[1m])");
        CHECK_CONTAINS(y, "severity: \"page\"");
        CHECK_CONTAINS(y, "severity: \"ticket\"");
        CHECK(strstr(y, "[5m]") == NULL);
    }
    free(y);
    y = rules_of(DEMO, "--include=redis_.*", "--latency-p99=2", NULL);
    if (y) {
        CHECK(strstr(y, "http_request") == NULL);
        CHECK_CONTAINS(y, "p99_rate5m > 2\"");
        CHECK_CONTAINS(y, "the objective is 2s.");
    }
    free(y);
    y = rules_of(DEMO, "--exclude=redis_call", NULL, NULL);
    if (y) {
        CHECK(strstr(y, "redis") == NULL);
        CHECK_CONTAINS(y, "vitals.http_request");
    }
    free(y);

    /* Text or OpenMetrics, the same service gives the same rules. */
    char *a = rules_of(DEMO, NULL, NULL, NULL), *b = rules_of(DEMO_OM, NULL, NULL, NULL);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);

    run_result_t r;
    run_vitals(&r, NULL, "rules", DEMO, "--tests", "/tmp/x.yml", NULL);
    CHECK_INT(r.status, 2); /* --tests needs -o */
    CHECK_CONTAINS(r.err, "--tests needs");
    run_free(&r);
    const char *bad[][2] = {{"--error-ratio", "2"},  {"--latency-p99", "0"}, {"--for", "5 minutes"},
                            {"--window", "0s"},      {"--window", "5"},      {"--include", "("},
                            {"--error-severity", ""}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_vitals(&r, NULL, "rules", DEMO, bad[i][0], bad[i][1], NULL);
        if (r.status != 2) {
            fprintf(stderr, "%s %s: status %d\n", bad[i][0], bad[i][1], r.status);
        }
        CHECK_INT(r.status, 2);
        run_free(&r);
    }
    run_vitals(&r, NULL, "rules", VT_TEST_DATA_DIR "/cli/lint/missing_help.prom", NULL);
    CHECK_INT(r.status, 1);
    CHECK_CONTAINS(r.err, "no RED family");
    run_free(&r);
    run_vitals(&r, NULL, "rules", "--help", NULL);
    CHECK_INT(r.status, 0);
    const char *opts[] = {"--output",  "--tests",   "--error-ratio",    "--latency-p99",
                          "--for",     "--window",  "--error-severity", "--latency-severity",
                          "--include", "--exclude", "--format",         "--timeout"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        CHECK_CONTAINS(r.out, opts[i]);
    }
    run_free(&r);
}

/* The test file: relative rule_files path, both jobs, each alert expected. */
static void test_tests_file(void) {
    char rules[400], tests[400], sub[300];
    snprintf(sub, sizeof sub, "%s/tests", scratch);
    CHECK_INT(mkdir(sub, 0700), 0);
    snprintf(rules, sizeof rules, "%s/rules.yml", scratch);
    snprintf(tests, sizeof tests, "%s/tests/rules_test.yml", scratch);
    run_result_t r;
    run_vitals(&r, NULL, "rules", DEMO, "-o", rules, "--tests", tests, NULL);
    CHECK_INT(r.status, 0);
    CHECK_STR(r.err, "");
    run_free(&r);
    char *t = read_text(tests, NULL);
    CHECK(t != NULL);
    if (!t) {
        return;
    }
    CHECK_CONTAINS(t, "rule_files:\n  - \"../rules.yml\"\n");
    CHECK_CONTAINS(t, "job=\\\"vitals-failing\\\"");
    CHECK_CONTAINS(t, "job=\\\"vitals-healthy\\\"");
    CHECK_CONTAINS(t, "        alertname: \"HttpRequestErrorRatioHigh\"\n");
    CHECK_CONTAINS(t, "        alertname: \"HttpRequestLatencyP99High\"\n");
    CHECK_CONTAINS(t, "        alertname: \"RedisCallErrorRatioHigh\"\n");
    CHECK_CONTAINS(t, "        alertname: \"RedisCallLatencyP99High\"\n");
    CHECK_CONTAINS(t, "description: \"25% of http_requests_total on /orders in vitals-failing");
    CHECK_CONTAINS(t, "is 995ms over the last 5m");
    /* Rising counters and buckets with the exposition's own bounds. */
    CHECK_CONTAINS(t, "le=\\\"0.005\\\"");
    CHECK_CONTAINS(t, "le=\\\"+Inf\\\"");
    CHECK_CONTAINS(t, "values: \"0+120x20\"");
    CHECK(strstr(t, "# ") == t);
    free(t);

    /* An objective beyond the last bucket cannot be proven: said so. */
    run_vitals(&r, NULL, "rules", DEMO, "-o", rules, "--tests", tests, "--latency-p99=60", NULL);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.err, "HttpRequestLatencyP99High is not tested");
    run_free(&r);
    t = read_text(tests, NULL);
    CHECK_CONTAINS(t, "# HttpRequestLatencyP99High: the buckets of http_request_duration_seconds");
    CHECK(t && strstr(t, "alertname: \"HttpRequestLatencyP99High\"") == NULL);
    free(t);
}

/* A lone duration histogram with a status_code label: requests and errors
 * are its _count series, the p99 its buckets; promtool accepts the rules and
 * their generated tests pass. */
static void test_histogram_only_rules(void) {
    char *y = rules_of(HIST_ONLY, NULL, NULL, NULL);
    if (!y) {
        return;
    }
    CHECK_CONTAINS(y, "  - name: \"vitals.api_request\"\n");
    CHECK_CONTAINS(y, "      - record: \"job_route:api_request_duration_seconds_count:rate5m\"\n"
                      "        expr: \"sum by (job, route) "
                      "(rate(api_request_duration_seconds_count[5m]))\"\n");
    CHECK_CONTAINS(y,
                   "        expr: \"(sum by (job, route) "
                   "(rate(api_request_duration_seconds_count{status_code=~\\\"5..\\\"}[5m])) "
                   "or sum by (job, route) (rate(api_request_duration_seconds_count[5m])) * 0) / "
                   "sum by (job, route) (rate(api_request_duration_seconds_count[5m]))\"\n");
    CHECK_CONTAINS(y, "      - record: \"job_route:api_request_duration_seconds:p99_rate5m\"\n"
                      "        expr: \"histogram_quantile(0.99, sum by (le, job, route) "
                      "(rate(api_request_duration_seconds_bucket[5m])))\"\n");
    CHECK_CONTAINS(y, "      - alert: \"ApiRequestErrorRatioHigh\"\n");
    CHECK_CONTAINS(y, "      - alert: \"ApiRequestLatencyP99High\"\n");
    CHECK_CONTAINS(y, "had status_code=~\\\"5..\\\" over the last 5m");
    CHECK_INT(count_of(y, "  - name: "), 1);
    CHECK_INT(count_of(y, "      - record: "), 3);
    CHECK_INT(count_of(y, "      - alert: "), 2);
    CHECK(strstr(y, "_created") == NULL);
    CHECK(strstr(y, "{code=") == NULL);
    free(y);

    char rules[400], tests[400], promtool[512];
    snprintf(rules, sizeof rules, "%s/hist_rules.yml", scratch);
    snprintf(tests, sizeof tests, "%s/hist_rules_test.yml", scratch);
    run_result_t r;
    run_vitals(&r, NULL, "rules", HIST_ONLY, "-o", rules, "--tests", tests, NULL);
    CHECK_INT(r.status, 0);
    CHECK_STR(r.err, "");
    run_free(&r);
    char *t = read_text(tests, NULL);
    CHECK_CONTAINS(t, "api_request_duration_seconds_count{");
    CHECK_CONTAINS(t, "status_code=\\\"500\\\"");
    CHECK_CONTAINS(t, "        alertname: \"ApiRequestErrorRatioHigh\"\n");
    CHECK_CONTAINS(t, "        alertname: \"ApiRequestLatencyP99High\"\n");
    free(t);
    if (!find_tool("promtool", NULL, promtool, sizeof promtool)) {
        CHECK(getenv("CI") == NULL);
        fprintf(stderr, "promtool not found: histogram-only rules not checked by it\n");
        return;
    }
    const char *what[] = {"check", "test"};
    const char *file[] = {rules, tests};
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {promtool, (char *)what[i], "rules", (char *)file[i], NULL};
        run_argv(argv, NULL, NULL, &r);
        if (r.status != 0) {
            fprintf(stderr, "promtool %s rules %s:\n%s%s\n", what[i], file[i], r.out, r.err);
        }
        CHECK_INT(r.status, 0);
        CHECK_CONTAINS(r.out, "SUCCESS");
        run_free(&r);
    }
}

int main(void) {
    if (make_scratch(scratch, sizeof scratch, "rules")) {
        return 1;
    }
    RUN(test_demo_rules);
    RUN(test_options);
    RUN(test_tests_file);
    RUN(test_histogram_only_rules);
    RUN(test_python_client_rules);
    remove_tree(scratch);
    TEST_EXIT();
}
