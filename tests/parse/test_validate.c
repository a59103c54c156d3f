/* test_validate.c - the rules beyond syntax: what strict parsing rejects and validation lists.
 *
 * Each rule is shown three ways: strict parsing fails (and says why, with the
 * line), lenient parsing succeeds, and vt_doc_validate() lists the problem
 * with its severity and line.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "parse_helpers.h"

/* Strict parse fails on line `line` with text in the message; lenient
 * parse succeeds; validation lists an error on that line with the text. */
static void rejects(const char *in, vt_format_t f, unsigned line, const char *text) {
    int rc = ph_rc(in, f, STRICT);
    if (rc != VT_EPARSE || ph_err.line != line || !strstr(ph_err.message, text) ||
        !ph_err.semantic) {
        fprintf(stderr, "input:\n%s-> rc %d, %s\n   (wanted line %u: %s)\n", in, rc, ph_err.message,
                line, text);
        th_checks_failed++;
    }
    CHECK_INT(ph_rc(in, f, LENIENT), 0);
    vt_problems_t p = ph_problems(in, f);
    CHECK(p.errors >= 1);
    CHECK(ph_has(&p, VT_SEV_ERROR, line, text));
    vt_problems_free(&p);
}

/* Strict parse succeeds and validation finds no error. */
static void accepts(const char *in, vt_format_t f) {
    int rc = ph_rc(in, f, STRICT);
    if (rc != 0) {
        fprintf(stderr, "input:\n%s-> rc %d, %s\n", in, rc, ph_err.message);
        th_checks_failed++;
    }
    vt_problems_t p = ph_problems(in, f);
    CHECK_INT(p.errors, 0);
    vt_problems_free(&p);
}

static void test_text_metadata_rules(void) {
    rejects("# HELP a x\n# HELP a y\na 1\n", TEXT, 2,
            "HELP for \"a\" is repeated (first at line 1)");
    rejects("# TYPE a gauge\n# TYPE a gauge\na 1\n", TEXT, 2, "TYPE for \"a\" is repeated");
    rejects("a 1\n# TYPE a gauge\n", TEXT, 2, "TYPE for \"a\" comes after its samples (line 1)");
    rejects("# TYPE a gauge\na 1\n# HELP a late\n", TEXT, 3,
            "HELP for \"a\" comes after its samples");
    rejects("a 1\nb 1\na 2\n", TEXT, 3, "family \"a\" is not contiguous");
    rejects("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nx 1\nh_sum 1\n", TEXT, 4,
            "family \"h\" is not contiguous");
    rejects("# TYPE h histogram\nh 1\n", TEXT, 2, "\"h\" is not a sample name of histogram \"h\"");
    accepts("# HELP a x\n# TYPE a gauge\na 1\n# TYPE b gauge\n# HELP b y\nb 2\n", TEXT);
    accepts("# TYPE a gauge\n# HELP b y\nb 1\n", TEXT);
}

static void test_text_duplicate_series(void) {
    rejects("a{x=\"1\"} 1\na{x=\"1\"} 2\n", TEXT, 2, "duplicate series");
    rejects("a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", TEXT, 2, "already at line 1");
    rejects("a 1 100\na 2 200\n", TEXT, 2, "duplicate series");
    accepts("a{x=\"1\"} 1\na{x=\"2\"} 2\na{x=\"1\",y=\"\"} 3\na{y=\"1\"} 4\n", TEXT);
    /* Values with NUL bytes and equal prefixes are told apart. */
    static const char nul[] = "a{x=\"1\0a\"} 1\na{x=\"1\0b\"} 2\n# EOF\n";
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse_n(nul, sizeof nul - 1, OM, STRICT, &d), 0);
    vt_doc_free(d);
}

static void test_text_histograms(void) {
    const char *good = "# TYPE h histogram\n"
                       "h_bucket{m=\"a\",le=\"0.1\"} 1\n"
                       "h_bucket{m=\"a\",le=\"1\"} 3\n"
                       "h_bucket{m=\"a\",le=\"+Inf\"} 3\n"
                       "h_sum{m=\"a\"} 1.5\n"
                       "h_count{m=\"a\"} 3\n"
                       "h_bucket{m=\"b\",le=\"0.1\"} 0\n"
                       "h_bucket{m=\"b\",le=\"1\"} 0\n"
                       "h_bucket{m=\"b\",le=\"+Inf\"} 0\n"
                       "h_sum{m=\"b\"} 0\n"
                       "h_count{m=\"b\"} 0\n";
    accepts(good, TEXT);
    rejects("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", TEXT, 4,
            "histogram \"h\" has no +Inf bucket");
    rejects("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n", TEXT, 3,
            "below the previous bucket");
    rejects("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\n",
            TEXT, 3, "is not above the previous");
    rejects("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1.0\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\n",
            TEXT, 3, "is not above the previous");
    rejects("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_count 4\n", TEXT, 3,
            "_count of \"h\" (4) does not equal its +Inf bucket (3)");
    rejects("# TYPE h histogram\nh_bucket 1\n", TEXT, 2, "has no \"le\" label");
    rejects("# TYPE h histogram\nh_bucket{le=\"abc\"} 1\nh_bucket{le=\"+Inf\"} 1\n", TEXT, 2,
            "invalid le=\"abc\"");
    rejects("# TYPE h histogram\nh_bucket{le=\"NaN\"} 1\nh_bucket{le=\"+Inf\"} 1\n", TEXT, 2,
            "invalid le=\"NaN\"");
    /* Text 0.0.4 may spell +Inf as Go reads it; OpenMetrics may not. */
    accepts("# TYPE h histogram\nh_bucket{le=\"inf\"} 1\n", TEXT);
    rejects("# TYPE h histogram\nh_bucket{le=\"inf\"} 1\n# EOF\n", OM, 2, "as \"+Inf\"");
    /* Untyped samples with histogram-like names are not checked as histograms. */
    accepts("h_bucket{le=\"1\"} 5\nh_count 1\n", TEXT);
}

static void test_text_summaries(void) {
    accepts("# TYPE s summary\ns{quantile=\"0\"} 1\ns{quantile=\"0.5\"} NaN\n"
            "s{quantile=\"1\"} 3\ns_sum 4\ns_count 2\n",
            TEXT);
    rejects("# TYPE s summary\ns 1\n", TEXT, 2, "has no \"quantile\" label");
    rejects("# TYPE s summary\ns{quantile=\"1.5\"} 1\n", TEXT, 2, "must be a number from 0 to 1");
    rejects("# TYPE s summary\ns{quantile=\"x\"} 1\n", TEXT, 2, "must be a number from 0 to 1");
}

static void test_text_warnings(void) {
    const char *in = "# TYPE c counter\nc{__x=\"1\"} -1\nc{__x=\"2\"} NaN\n"
                     "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum -1\nh_count 1\n"
                     "# TYPE h_count gauge\nh_count 2\n";
    vt_problems_t p = ph_problems(in, TEXT);
    CHECK(ph_has(&p, VT_SEV_WARNING, 2, "label name \"__x\" is reserved"));
    CHECK(ph_has(&p, VT_SEV_WARNING, 2, "counter \"c\" is negative"));
    CHECK(ph_has(&p, VT_SEV_WARNING, 3, "counter \"c\" is NaN"));
    CHECK(ph_has(&p, VT_SEV_WARNING, 6, "\"h_sum\" is negative"));
    CHECK(ph_has(&p, VT_SEV_WARNING, 8, "clashes with histogram \"h\""));
    CHECK_INT(p.errors, 0);
    for (size_t i = 1; i < p.count; i++) {
        CHECK(p.items[i - 1].line <= p.items[i].line);
    }
    vt_problems_free(&p);
    /* Warnings do not fail a strict parse. */
    CHECK_INT(ph_rc(in, TEXT, STRICT), 0);
}

static void test_openmetrics_rules(void) {
    /* Beyond the test suite: rules of the specification, each on its own. */
    accepts("# TYPE foo_seconds summary\n# UNIT foo_seconds seconds\n"
            "foo_seconds_count{a=\"bb\"} 0 123\nfoo_seconds_sum{a=\"bb\"} 0 123\n"
            "foo_seconds_count{a=\"bb\"} 0 456\nfoo_seconds_sum{a=\"bb\"} 0 456\n"
            "foo_seconds_count{a=\"ccc\"} 0 123\nfoo_seconds_sum{a=\"ccc\"} 0 123\n# EOF\n",
            OM);
    rejects("# TYPE foo_seconds summary\n"
            "foo_seconds_count{a=\"bb\"} 0 123\nfoo_seconds_count{a=\"ccc\"} 0 123\n"
            "foo_seconds_count{a=\"bb\"} 0 456\n# EOF\n",
            OM, 4, "samples of one metric must be contiguous");
    accepts("# TYPE a histogram\na_bucket{le=\"1.0\"} 0 123\na_bucket{le=\"+Inf\"} 1 123\n"
            "a_count 1 123\na_sum 2 123\na_bucket{le=\"1.0\"} 0 456\na_bucket{le=\"+Inf\"} 1 456\n"
            "a_count 1 456\na_sum 2 456\n# EOF\n",
            OM);
    rejects("a 1 1\na 2\n# EOF\n", OM, 2, "must all have a timestamp or none");
    rejects("# TYPE a counter\na_total 1\n# TYPE a_created gauge\na_created 1\n# EOF\n", OM, 3,
            "clashes with counter \"a\"");
    rejects("# TYPE a_total gauge\na_total 1\n# TYPE a counter\n# EOF\n", OM, 3,
            "clashes with gauge \"a_total\"");
    rejects("# TYPE a counter\n# TYPE b gauge\n# TYPE a gauge\n# EOF\n", OM, 3, "not contiguous");
    rejects("# TYPE a stateset\na{b=\"x\"} 1\n# EOF\n", OM, 2, "has no label named \"a\"");
    rejects("# TYPE a stateset\na{a=\"x\"} 0.5\n# EOF\n", OM, 2, "must be 0 or 1");
    rejects("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1.5\n# EOF\n", OM, 2, "integer count");
    rejects("# TYPE a histogram\na_bucket{le=\"-1\"} 0\na_bucket{le=\"+Inf\"} 1\na_count 1\n"
            "a_sum 1\n# EOF\n",
            OM, 5, "has negative buckets, so it must not have _sum");
    rejects("# TYPE a summary\na_count 1.5\na_sum 1\n# EOF\n", OM, 2, "integer count");
    rejects("# TYPE a counter\na_total 1 # {x=\"1\"} 1\na_created 1 # {x=\"1\"} 1\n# EOF\n", OM, 3,
            "exemplar on \"a_created\"");
    rejects("# TYPE x_seconds counter\n# UNIT x_seconds milliseconds\n# EOF\n", OM, 2,
            "must end with \"_milliseconds\"");
    accepts("# TYPE x_seconds counter\n# UNIT x_seconds \n# EOF\n", OM);
    /* A point written twice is tolerated (the suite says so), with a warning. */
    const char *twice = "a{x=\"1\"} 1 0\na{x=\"1\"} 2 0\n# EOF\n";
    accepts(twice, OM);
    vt_problems_t p = ph_problems(twice, OM);
    CHECK(ph_has(&p, VT_SEV_WARNING, 2, "repeats the series and timestamp of line 1"));
    vt_problems_free(&p);
}

static void test_validate_arguments(void) {
    vt_problems_t p;
    memset(&p, 0, sizeof p);
    CHECK_INT(vt_doc_validate(NULL, &p), VT_EINVAL);
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse("a 1\na 1\n", TEXT, LENIENT, &d), 0);
    CHECK_INT(vt_doc_validate(d, NULL), VT_EINVAL);
    /* Problems accumulate across calls. */
    CHECK_INT(vt_doc_validate(d, &p), 0);
    CHECK_INT(vt_doc_validate(d, &p), 0);
    CHECK_INT(p.count, 2);
    CHECK_INT(p.errors, 2);
    vt_problems_free(&p);
    CHECK(p.items == NULL && p.count == 0);
    vt_doc_free(d);
}

/* A hostile document with a huge number of problems is cut off cleanly. */
static void test_many_problems(void) {
    size_t n = 30000;
    char *buf = malloc(n * 8 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += (size_t)sprintf(buf + k, "a 1\n");
    }
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse(buf, TEXT, LENIENT, &d), 0);
    vt_problems_t p;
    memset(&p, 0, sizeof p);
    CHECK_INT(vt_doc_validate(d, &p), 0);
    CHECK_INT(p.errors, n - 1);
    CHECK_INT(p.count, 10000);
    CHECK_CONTAINS(p.items[p.count - 1].message, "too many problems");
    vt_problems_free(&p);
    vt_doc_free(d);
    CHECK_INT(ph_rc(buf, TEXT, STRICT), VT_EPARSE);
    CHECK_INT(ph_err.line, 2);
    free(buf);
}

int main(void) {
    RUN(test_text_metadata_rules);
    RUN(test_text_duplicate_series);
    RUN(test_text_histograms);
    RUN(test_text_summaries);
    RUN(test_text_warnings);
    RUN(test_openmetrics_rules);
    RUN(test_validate_arguments);
    RUN(test_many_problems);
    TEST_EXIT();
}
