/* test_guess.c - telling the formats apart by Content-Type and by content.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "parse/files.h"
#include "parse_helpers.h"

static void test_content_types(void) {
    vt_format_t f = (vt_format_t)-1;
    CHECK_INT(vt_parse_format_from_content_type(VT_CONTENT_TYPE_TEXT, &f), 0);
    CHECK_INT(f, TEXT);
    CHECK_INT(vt_parse_format_from_content_type(VT_CONTENT_TYPE_OPENMETRICS, &f), 0);
    CHECK_INT(f, OM);
    CHECK_INT(vt_parse_format_from_content_type("text/plain", &f), 0);
    CHECK_INT(f, TEXT);
    CHECK_INT(vt_parse_format_from_content_type("Text/Plain ; Version=\"0.0.4\"", &f), 0);
    CHECK_INT(f, TEXT);
    CHECK_INT(vt_parse_format_from_content_type("application/openmetrics-text", &f), 0);
    CHECK_INT(f, OM);
    CHECK_INT(vt_parse_format_from_content_type("application/openmetrics-text;version=0.0.1;"
                                                "charset=utf-8;escaping=underscores",
                                                &f),
              0);
    CHECK_INT(f, OM);
    CHECK_INT(vt_parse_format_from_content_type("text/plain; version=1.0.0", &f), VT_EUNSUPPORTED);
    CHECK_INT(vt_parse_format_from_content_type("application/openmetrics-text; version=2.0.0", &f),
              VT_EUNSUPPORTED);
    CHECK_INT(vt_parse_format_from_content_type("text/plain; charset=latin1", &f), VT_EUNSUPPORTED);
    CHECK_INT(vt_parse_format_from_content_type("application/vnd.google.protobuf; "
                                                "proto=io.prometheus.client.MetricFamily; "
                                                "encoding=delimited",
                                                &f),
              VT_EUNSUPPORTED);
    CHECK_INT(vt_parse_format_from_content_type("text/html", &f), VT_EUNSUPPORTED);
    CHECK_INT(vt_parse_format_from_content_type("", &f), VT_EINVAL);
    CHECK_INT(vt_parse_format_from_content_type(NULL, &f), VT_EINVAL);
    CHECK_INT(vt_parse_format_from_content_type("text/plain", NULL), VT_EINVAL);
}

static vt_format_t guess(const char *s) {
    return vt_parse_guess_format(s, strlen(s), NULL);
}

static void test_guess_by_content(void) {
    CHECK_INT(guess(""), TEXT);
    CHECK_INT(guess("a 1\n"), TEXT);
    CHECK_INT(guess("a 1\n# EOF\n"), OM);
    CHECK_INT(guess("a 1\n# EOF"), OM);
    CHECK_INT(guess("# UNIT a_s s\n"), OM);
    CHECK_INT(guess("# TYPE a stateset\na{a=\"x\"} 1\n"), OM);
    CHECK_INT(guess("# TYPE a info\n"), OM);
    CHECK_INT(guess("# TYPE a gaugehistogram\n"), OM);
    CHECK_INT(guess("# TYPE a unknown\n"), OM);
    CHECK_INT(guess("# TYPE a counter\na_total 1 # {t=\"1\"} 1\n"), OM);
    /* Decisive text lines win over a trailing # EOF comment. */
    CHECK_INT(guess("# TYPE a untyped\na 1\n# EOF\n"), TEXT);
    CHECK_INT(guess("# TYPE a_total counter\na_total 1\n# EOF\n"), TEXT);
    CHECK_INT(guess("# just a comment\na 1\n# EOF\n"), TEXT);
    CHECK_INT(guess("a 1\n\nb 1\n# EOF\n"), TEXT);
    CHECK_INT(guess("a{x=\"y\"} 1 # {t=\"1\"} 1\n"), OM);
    /* The header decides when it is known. */
    CHECK_INT(vt_parse_guess_format("a 1\n# EOF\n", 10, "text/plain; version=0.0.4"), TEXT);
    CHECK_INT(vt_parse_guess_format("a 1\n", 4, "application/openmetrics-text"), OM);
    CHECK_INT(vt_parse_guess_format("a 1\n# EOF\n", 10, "application/json"), OM);
    CHECK_INT(vt_parse_guess_format(NULL, 0, NULL), TEXT);
}

static void test_guess_shared_files(void) {
    static const struct {
        const char *path;
        vt_format_t want;
    } files[] = {
        {"/prometheus-textparse/v2.42.0/promtestdata.txt", TEXT},
        {"/prometheus-textparse/v2.42.0/metrics-test.prom", TEXT},
        {"/prometheus-textparse/head/alltypes.237mfs.prom.txt", TEXT},
        {"/prometheus-textparse/head/1histogram.om.txt", OM},
        {"/prometheus-textparse/head/alltypes.5mfs.om.txt", OM},
        {"/python-client/golden_text_0.0.4.txt", TEXT},
        {"/python-client/golden_openmetrics_1.0.0.txt", OM},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s%s", VT_SHARED_TESTDATA_DIR, files[i].path);
        size_t len = 0;
        char *buf = tf_read(path, &len);
        if (!buf) {
            continue; /* the data tests report missing data */
        }
        if (vt_parse_guess_format(buf, len, NULL) != files[i].want) {
            fprintf(stderr, "guess of %s is wrong\n", files[i].path);
            th_checks_failed++;
        }
        free(buf);
    }
}

int main(void) {
    RUN(test_content_types);
    RUN(test_guess_by_content);
    RUN(test_guess_shared_files);
    TEST_EXIT();
}
