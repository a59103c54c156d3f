/* test_lint.c - `vitals lint`: each planted problem found at its line with promtool's exit codes.
 *
 * Every file in tests/data/cli/lint/ plants exactly one problem in an
 * otherwise clean exposition; lint must print exactly that one line. Clean
 * inputs (the committed demo fixtures, a live scrape of what the libraries
 * write, the Python client's output) must give no output and exit 0. The URL
 * cases run against a real HTTP server on 127.0.0.1 (serve_fixture.py) to
 * check the Accept header and that the Content-Type decides the format.
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_run.h"
#include "harness.h"

#define LINT_DIR VT_TEST_DATA_DIR "/cli/lint/"
#define PY_DIR VT_SHARED_TESTDATA_DIR "/python-client/"

static const struct planted {
    const char *file;
    unsigned line;
    const char *severity;
    const char *fragment;
    int status;
} planted[] = {
    {"counter_no_total.prom", 1, "warning", "counter \"jobs_processed\" should end in \"_total\"",
     3},
    {"missing_help.prom", 4, "warning", "\"queue_length\" has no HELP text", 3},
    {"help_empty.prom", 1, "warning", "\"jobs_total\" has no HELP text", 3},
    {"unit_milliseconds.prom", 1, "warning",
     "use the base unit \"seconds\" instead of \"milliseconds\"", 3},
    {"unit_kilobytes.prom", 1, "warning", "use the base unit \"bytes\" instead of \"kilobytes\"",
     3},
    {"unit_abbreviation.prom", 1, "warning", "abbreviated unit \"ms\"", 3},
    {"total_on_gauge.prom", 1, "warning", "gauge \"sessions_total\" ends in \"_total\"", 3},
    {"name_colon.prom", 1, "warning", "colons in metric names are for recording rules", 3},
    {"name_type_word.prom", 1, "warning", "should not include its type \"gauge\"", 3},
    {"le_on_gauge.prom", 3, "warning", "gauge \"pool_size\" has an \"le\" label", 3},
    {"label_camel_case.prom", 3, "warning",
     "label \"statusCode\" of \"requests_total\" should be snake_case", 3},
    {"label_number.prom", 4, "warning",
     "label \"user\" of \"logins_total\" has a value that looks like a number", 3},
    {"label_uuid.prom", 4, "warning", "looks like a UUID", 3},
    {"label_hex_id.prom", 4, "warning", "looks like a hex id", 3},
    {"label_raw_path.prom", 4, "warning",
     "looks like a path with an id in it (\"/users/1042/orders\")", 3},
    {"label_many_values.prom", 103, "warning",
     "label \"key\" of \"cache_hits_total\" has 150 distinct values (more than 100)", 3},
    {"duplicate_metric.prom", 4, "error", "HELP for \"queue_length\" comes after its samples", 1},
    {"duplicate_series.prom", 5, "error", "duplicate series: \"jobs_total\"", 1},
    {"histogram_no_inf.prom", 6, "error", "histogram \"job_duration_seconds\" has no +Inf bucket",
     1},
    {"histogram_not_cumulative.prom", 4, "error",
     "is below the previous bucket (buckets are cumulative)", 1},
    {"histogram_count_mismatch.prom", 7, "error",
     "_count of \"job_duration_seconds\" (6) does not equal its +Inf bucket (5)", 1},
    {"syntax_error.prom", 3, "error", "after a label value", 1},
};

/* Each planted file: exactly one line, "FILE:LINE: severity: ...fragment...". */
static void test_planted_problems(void) {
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
        const struct planted *p = &planted[i];
        char path[512], prefix[600];
        snprintf(path, sizeof path, "%s%s", LINT_DIR, p->file);
        snprintf(prefix, sizeof prefix, "%s:%u: %s: ", path, p->line, p->severity);
        run_result_t r;
        run_vitals(&r, NULL, "lint", path, NULL);
        if (r.status != p->status || count_of(r.out, "\n") != 1 ||
            strncmp(r.out, prefix, strlen(prefix)) != 0 || !strstr(r.out, p->fragment)) {
            fprintf(stderr, "%s: status %d, output:\n%s%s", p->file, r.status, r.out, r.err);
        }
        CHECK_INT(r.status, p->status);
        CHECK_INT(count_of(r.out, "\n"), 1);
        CHECK(strncmp(r.out, prefix, strlen(prefix)) == 0);
        CHECK_CONTAINS(r.out, p->fragment);
        run_free(&r);
    }
}

static void expect_clean(const char *what, const char *path, const char *format_opt) {
    run_result_t r;
    if (format_opt) {
        run_vitals(&r, NULL, "lint", format_opt, path, NULL);
    } else {
        run_vitals(&r, NULL, "lint", path, NULL);
    }
    if (r.status != 0 || r.out[0]) {
        fprintf(stderr, "%s: status %d\n%s%s", what, r.status, r.out, r.err);
    }
    CHECK_INT(r.status, 0);
    CHECK_STR(r.out, "");
    run_free(&r);
}

static void test_clean_fixtures(void) {
    expect_clean("demo.prom", VT_TEST_DATA_DIR "/cli/demo.prom", NULL);
    expect_clean("demo.prom as text", VT_TEST_DATA_DIR "/cli/demo.prom", "--format=text");
    expect_clean("demo.om", VT_TEST_DATA_DIR "/cli/demo.om", NULL);
    expect_clean("demo.om as openmetrics", VT_TEST_DATA_DIR "/cli/demo.om", "--format=openmetrics");
}

/* What the core, the HTTP middleware, the Redis client and the process
 * collector write right now, in both formats. */
static void test_clean_on_own_output(void) {
    char dir[256], path[300];
    if (make_scratch(dir, sizeof dir, "lint")) {
        CHECK(0);
        return;
    }
    const char *formats[] = {NULL, "--openmetrics"};
    for (int f = 0; f < 2; f++) {
        char *argv[] = {VT_DEMO_PATH, (char *)formats[f], NULL};
        run_result_t r;
        run_argv(argv, NULL, NULL, &r);
        CHECK_INT(r.status, 0);
        snprintf(path, sizeof path, "%s/own%d", dir, f);
        CHECK_INT(write_text(path, r.out), 0);
        CHECK_CONTAINS(r.out, "http_request_duration_seconds_bucket");
        CHECK_CONTAINS(r.out, "redis_call_duration_seconds_bucket");
        CHECK_CONTAINS(r.out, "process_open_fds");
        run_free(&r);
        expect_clean(f ? "live OpenMetrics" : "live text", path,
                     f ? "--format=openmetrics" : "--format=text");
        expect_clean("live, format guessed", path, NULL);
    }
    remove_tree(dir);
}

static void test_python_client(void) {
    if (access(PY_DIR "golden_text_0.0.4.txt", R_OK) != 0) {
        SKIP_ALL("the shared test data (../shared/testdata/python-client) is missing");
    }
    expect_clean("python text", PY_DIR "golden_text_0.0.4.txt", "--format=text");
    expect_clean("python openmetrics", PY_DIR "golden_openmetrics_1.0.0.txt",
                 "--format=openmetrics");
}

/* --format: exit 1 means exactly "not valid in that format". */
static void test_forced_format(void) {
    run_result_t r;
    /* No "# EOF": fine as text (the guess), invalid as OpenMetrics. */
    run_vitals(&r, NULL, "lint", LINT_DIR "openmetrics_no_eof.om", NULL);
    CHECK_INT(r.status, 0);
    run_free(&r);
    run_vitals(&r, NULL, "lint", "--format=openmetrics", LINT_DIR "openmetrics_no_eof.om", NULL);
    CHECK_INT(r.status, 1);
    CHECK_CONTAINS(r.out, "error: ");
    CHECK_CONTAINS(r.out, "# EOF");
    run_free(&r);
    /* A valid OpenMetrics file with an exemplar (guessed right) is not valid
     * text. */
    run_vitals(&r, NULL, "lint", LINT_DIR "openmetrics_exemplar.om", NULL);
    CHECK_INT(r.status, 0);
    run_free(&r);
    run_vitals(&r, NULL, "lint", "--format=text", LINT_DIR "openmetrics_exemplar.om", NULL);
    CHECK_INT(r.status, 1);
    CHECK_CONTAINS(r.out, "openmetrics_exemplar.om:5: error: ");
    run_free(&r);
    /* A valid text file is not valid OpenMetrics. */
    run_vitals(&r, NULL, "lint", "--format", "openmetrics", VT_TEST_DATA_DIR "/cli/demo.prom",
               NULL);
    CHECK_INT(r.status, 1);
    run_free(&r);
    /* Warnings do not change the answer to "valid?": exit 3, not 1. */
    run_vitals(&r, NULL, "lint", "--format=text", LINT_DIR "counter_no_total.prom", NULL);
    CHECK_INT(r.status, 3);
    run_free(&r);
}

static void test_stdin_and_options(void) {
    run_result_t r;
    run_vitals(&r, LINT_DIR "histogram_no_inf.prom", "lint", "-", NULL);
    CHECK_INT(r.status, 1);
    CHECK_CONTAINS(r.out, "<stdin>:6: error: histogram \"job_duration_seconds\" has no +Inf");
    run_free(&r);
    /* --quiet hides warnings, not the status. */
    run_vitals(&r, NULL, "lint", "-q", LINT_DIR "missing_help.prom", NULL);
    CHECK_INT(r.status, 3);
    CHECK_STR(r.out, "");
    run_free(&r);
    run_vitals(&r, NULL, "lint", "--max-label-values=200", LINT_DIR "label_many_values.prom", NULL);
    CHECK_INT(r.status, 0);
    run_free(&r);
    run_vitals(&r, NULL, "lint", "--no-cardinality", LINT_DIR "label_uuid.prom", NULL);
    CHECK_INT(r.status, 0);
    run_free(&r);
    /* Several inputs: the worst status wins, each reported under its name. */
    run_vitals(&r, NULL, "lint", LINT_DIR "missing_help.prom", LINT_DIR "duplicate_series.prom",
               NULL);
    CHECK_INT(r.status, 1);
    CHECK_CONTAINS(r.out, "missing_help.prom:4: warning");
    CHECK_CONTAINS(r.out, "duplicate_series.prom:5: error");
    run_free(&r);
    /* Usage and I/O problems are 2, never 1. */
    run_vitals(&r, NULL, "lint", "/nonexistent/metrics.prom", NULL);
    CHECK_INT(r.status, 2);
    CHECK_CONTAINS(r.err, "No such file");
    run_free(&r);
    run_vitals(&r, NULL, "lint", "--format=protobuf", LINT_DIR "missing_help.prom", NULL);
    CHECK_INT(r.status, 2);
    run_free(&r);
    run_vitals(&r, NULL, "lint", NULL);
    CHECK_INT(r.status, 2);
    run_free(&r);
    run_vitals(&r, NULL, "lint", "--help", NULL);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "--format=text|openmetrics");
    CHECK_CONTAINS(r.out, "--max-label-values");
    CHECK_CONTAINS(r.out, "--timeout");
    run_free(&r);
}

static void test_url(void) {
    fixture_server_t s;
    char url[128];
    run_result_t r;

    /* OpenMetrics served as OpenMetrics: clean; the Accept header prefers it. */
    if (fixture_serve(&s, VT_TEST_DATA_DIR "/cli/demo.om",
                      "application/openmetrics-text; version=1.0.0; charset=utf-8")) {
        SKIP_ALL("python3 could not serve a fixture on 127.0.0.1");
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", s.port);
    run_vitals(&r, NULL, "lint", url, NULL);
    CHECK_INT(r.status, 0);
    CHECK_STR(r.out, "");
    run_free(&r);
    char *accept = read_text(s.log, NULL);
    CHECK(accept != NULL);
    if (accept) {
        CHECK_CONTAINS(accept, "application/openmetrics-text;version=1.0.0");
        CHECK_CONTAINS(accept, "text/plain;version=0.0.4;q=0.5");
        CHECK(strstr(accept, "application/openmetrics-text") < strstr(accept, "text/plain"));
    }
    free(accept);
    unlink(s.log);
    /* --format asks for that format only. */
    run_vitals(&r, NULL, "lint", "--format=text", url, NULL);
    accept = read_text(s.log, NULL);
    CHECK(accept && strcmp(accept, "text/plain;version=0.0.4\n") == 0);
    free(accept);
    run_free(&r);
    /* A 404 is an input error (2), not an invalid exposition. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/404", s.port);
    run_vitals(&r, NULL, "lint", url, NULL);
    CHECK_INT(r.status, 2);
    CHECK_CONTAINS(r.err, "HTTP 404");
    run_free(&r);
    fixture_stop(&s);

    /* OpenMetrics with an exemplar labelled text/plain is read as text: the
     * Content-Type decides, and the exemplar is not valid text. */
    if (fixture_serve(&s, LINT_DIR "openmetrics_exemplar.om",
                      "text/plain; version=0.0.4; charset=utf-8") == 0) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", s.port);
        run_vitals(&r, NULL, "lint", url, NULL);
        CHECK_INT(r.status, 1);
        CHECK_CONTAINS(r.out, url);
        run_free(&r);
        fixture_stop(&s);
    } else {
        CHECK(0);
    }

    /* Text with no Content-Type at all: guessed from the content. */
    if (fixture_serve(&s, LINT_DIR "histogram_no_inf.prom", "-") == 0) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", s.port);
        run_vitals(&r, NULL, "lint", url, NULL);
        CHECK_INT(r.status, 1);
        char want[200];
        snprintf(want, sizeof want, "%s:6: error: histogram", url);
        CHECK_CONTAINS(r.out, want);
        run_free(&r);
        fixture_stop(&s);
    } else {
        CHECK(0);
    }

    /* Nothing listening: an input error. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", free_port());
    run_vitals(&r, NULL, "lint", "--timeout=5", url, NULL);
    CHECK_INT(r.status, 2);
    run_free(&r);
}

int main(void) {
    RUN(test_planted_problems);
    RUN(test_clean_fixtures);
    RUN(test_clean_on_own_output);
    RUN(test_forced_format);
    RUN(test_stdin_and_options);
    RUN(test_url);
    RUN(test_python_client);
    TEST_EXIT();
}
