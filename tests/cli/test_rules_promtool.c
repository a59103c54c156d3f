/* test_rules_promtool.c - the generated rules pass `promtool check rules` and their tests pass
 * `promtool test rules`.
 *
 * The real Prometheus rule parser checks every rules file (demo fixture,
 * Python client, several option sets); the generated unit tests must pass,
 * proving that each alert fires on the failing synthetic job and stays quiet
 * on the healthy one, and that the recorded values are what the generator
 * expected. Last, the checks are shown to have teeth: a rule with a raised
 * threshold fails its tests, and a broken expression fails the check. Needs
 * promtool: skips without it, fails under CI.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_run.h"
#include "harness.h"

#define DEMO VT_TEST_DATA_DIR "/cli/demo.prom"
#define DEMO_OM VT_TEST_DATA_DIR "/cli/demo.om"
#define PY VT_SHARED_TESTDATA_DIR "/python-client/"

static char scratch[256], promtool[512], rules[400], tests[400];

static int promtool_run(const char *what, const char *file, run_result_t *r) {
    char *argv[] = {promtool, (char *)what, "rules", (char *)file, NULL};
    return run_argv(argv, NULL, NULL, r);
}

/* Generate rules and tests for input with up to three options, then run
 * promtool check and test on them. */
static void check_and_test(const char *input, const char *a1, const char *a2, const char *a3) {
    run_result_t r;
    run_vitals(&r, NULL, "rules", input, "-o", rules, "--tests", tests, a1, a2, a3, NULL);
    CHECK_INT(r.status, 0);
    run_free(&r);
    promtool_run("check", rules, &r);
    if (r.status != 0) {
        fprintf(stderr, "promtool check rules (%s %s %s %s):\n%s%s\n", input, a1 ? a1 : "",
                a2 ? a2 : "", a3 ? a3 : "", r.out, r.err);
    }
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "SUCCESS");
    run_free(&r);
    promtool_run("test", tests, &r);
    if (r.status != 0) {
        fprintf(stderr, "promtool test rules (%s %s %s %s):\n%s%s\n", input, a1 ? a1 : "",
                a2 ? a2 : "", a3 ? a3 : "", r.out, r.err);
    }
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "SUCCESS");
    run_free(&r);
}

static void test_demo_defaults(void) {
    check_and_test(DEMO, NULL, NULL, NULL);
    check_and_test(DEMO_OM, NULL, NULL, NULL);
}

static void test_python_client(void) {
    if (access(PY "golden_text_0.0.4.txt", R_OK) != 0) {
        SKIP_ALL("the shared test data (../shared/testdata/python-client) is missing");
    }
    check_and_test(PY "golden_text_0.0.4.txt", NULL, NULL, NULL);
    check_and_test(PY "golden_openmetrics_1.0.0.txt", "--error-ratio=0.5", NULL, NULL);
}

/* Thresholds across the buckets of both families, other windows and "for". */
static void test_option_matrix(void) {
    check_and_test(DEMO, "--error-ratio=0.001", "--latency-p99=0.07", NULL);
    check_and_test(DEMO, "--error-ratio=0.3", "--latency-p99=2", NULL);
    check_and_test(DEMO, "--error-ratio=0.6", "--latency-p99=0.0003", NULL);
    check_and_test(DEMO, "--error-ratio=0.9", "--latency-p99=9.99", NULL);
    check_and_test(DEMO, "--error-ratio=1", "--latency-p99=60", NULL); /* nothing provable */
    check_and_test(DEMO, "--for=0s", "--window=2m", NULL);
    check_and_test(DEMO, "--for=1h", "--window=10m", "--error-severity=page");
}

/* The tests catch a rule that would not fire, and check catches bad PromQL. */
static void test_teeth(void) {
    run_result_t r;
    run_vitals(&r, NULL, "rules", DEMO, "-o", rules, "--tests", tests, NULL);
    CHECK_INT(r.status, 0);
    run_free(&r);
    char *text = read_text(rules, NULL);
    CHECK(text != NULL);
    if (!text) {
        return;
    }
    char *hit = strstr(text, "ratio_rate5m > 0.05\"");
    CHECK(hit != NULL);
    if (hit) {
        /* 0.05 -> 0.95: the failing job's 25% no longer fires. */
        hit[strlen("ratio_rate5m > 0.")] = '9';
        CHECK_INT(write_text(rules, text), 0);
        promtool_run("test", tests, &r);
        CHECK(r.status != 0);
        CHECK_CONTAINS(r.err, "alertname: HttpRequestErrorRatioHigh");
        run_free(&r);
    }
    free(text);
    write_text(rules, "groups:\n  - name: \"x\"\n    rules:\n      - record: \"a:b:rate5m\"\n"
                      "        expr: \"sum by (job (rate(x[5m]))\"\n");
    promtool_run("check", rules, &r);
    CHECK(r.status != 0);
    run_free(&r);
}

int main(void) {
    if (!find_tool("promtool", NULL, promtool, sizeof promtool)) {
        SKIP_ALL("promtool is needed (Debian package prometheus)");
    }
    if (make_scratch(scratch, sizeof scratch, "promtool")) {
        return 1;
    }
    snprintf(rules, sizeof rules, "%s/rules.yml", scratch);
    snprintf(tests, sizeof tests, "%s/rules_test.yml", scratch);
    RUN(test_demo_defaults);
    RUN(test_option_matrix);
    RUN(test_teeth);
    RUN(test_python_client);
    remove_tree(scratch);
    TEST_EXIT();
}
