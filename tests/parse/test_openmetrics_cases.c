/* test_openmetrics_cases.c - strict OpenMetrics parsing agrees with the OpenMetrics test suite.
 *
 * Every case folder of the suite holds `metrics` and `test.json`; the parse
 * must succeed exactly when test.json says "shouldParse": true. The suite is
 * read in place from VT_SHARED_TESTDATA_DIR; each disagreement is printed
 * with the case name and the parser's message.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "parse/files.h"
#include "parse/parse.h"

#include <ctype.h>

#define CASES_DIR VT_SHARED_TESTDATA_DIR "/openmetrics/cases"

/* 1 or 0 from "shouldParse": true|false; -1 when absent. */
static int should_parse(const char *json) {
    const char *k = strstr(json, "\"shouldParse\"");
    if (!k) {
        return -1;
    }
    k += strlen("\"shouldParse\"");
    while (isspace((unsigned char)*k)) {
        k++;
    }
    if (*k++ != ':') {
        return -1;
    }
    while (isspace((unsigned char)*k)) {
        k++;
    }
    if (strncmp(k, "true", 4) == 0) {
        return 1;
    }
    if (strncmp(k, "false", 5) == 0) {
        return 0;
    }
    return -1;
}

static size_t n_cases, n_good, n_bad;

static void test_every_case_agrees(void) {
    size_t n = 0;
    char **names = tf_list(CASES_DIR, &n);
    CHECK(names != NULL);
    for (size_t i = 0; names && names[i]; i++) {
        char path[4096];
        size_t jlen = 0, mlen = 0;
        snprintf(path, sizeof path, "%s/%s/test.json", CASES_DIR, names[i]);
        char *json = tf_read(path, &jlen);
        if (!json) {
            continue; /* not a case folder */
        }
        int expect = should_parse(json);
        free(json);
        snprintf(path, sizeof path, "%s/%s/metrics", CASES_DIR, names[i]);
        char *metrics = tf_read(path, &mlen);
        if (expect < 0 || !metrics) {
            fprintf(stderr, "case %s: unreadable test.json or metrics\n", names[i]);
            th_checks_failed++;
            free(metrics);
            continue;
        }
        n_cases++;
        if (expect) {
            n_good++;
        } else {
            n_bad++;
        }
        vt_parse_opts_t opts;
        vt_parse_opts_init(&opts);
        opts.format = VT_FORMAT_OPENMETRICS;
        opts.mode = VT_PARSE_STRICT;
        vt_doc_t *doc = NULL;
        vt_parse_error_t err;
        int rc = vt_parse(metrics, mlen, &opts, &doc, &err);
        if (expect && rc != 0) {
            fprintf(stderr, "MISMATCH %s: should parse, got %d: %s\n", names[i], rc, err.message);
            th_checks_failed++;
        } else if (!expect && rc == 0) {
            fprintf(stderr, "MISMATCH %s: should fail, but parsed\n", names[i]);
            th_checks_failed++;
        } else if (!expect) {
            /* A failure must say where and why. */
            CHECK(err.line >= 1);
            CHECK(strncmp(err.message, "line ", 5) == 0);
            CHECK(doc == NULL);
        }
        if (getenv("VT_VERBOSE")) {
            printf("%-50s %s %s\n", names[i], expect ? "good" : "bad ",
                   rc ? err.message : "parsed");
        }
        vt_doc_free(doc);
        free(metrics);
    }
    tf_free_list(names);
    CHECK(n_cases > 0);
}

/* Lenient OpenMetrics accepts every good case too, with the same samples. */
static void test_good_cases_parse_leniently(void) {
    size_t n = 0;
    char **names = tf_list(CASES_DIR, &n);
    for (size_t i = 0; names && names[i]; i++) {
        char path[4096];
        size_t jlen = 0, mlen = 0;
        snprintf(path, sizeof path, "%s/%s/test.json", CASES_DIR, names[i]);
        char *json = tf_read(path, &jlen);
        if (!json) {
            continue;
        }
        int expect = should_parse(json);
        free(json);
        if (expect != 1) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s/metrics", CASES_DIR, names[i]);
        char *metrics = tf_read(path, &mlen);
        vt_parse_opts_t opts = {VT_FORMAT_OPENMETRICS, VT_PARSE_LENIENT};
        vt_parse_opts_t strict = {VT_FORMAT_OPENMETRICS, VT_PARSE_STRICT};
        vt_doc_t *a = NULL, *b = NULL;
        CHECK_INT(vt_parse(metrics, mlen, &opts, &a, NULL), 0);
        CHECK_INT(vt_parse(metrics, mlen, &strict, &b, NULL), 0);
        if (a && b) {
            CHECK_INT(a->sample_count, b->sample_count);
            CHECK_INT(a->family_count, b->family_count);
        }
        vt_doc_free(a);
        vt_doc_free(b);
        free(metrics);
    }
    tf_free_list(names);
}

int main(void) {
    size_t n = 0;
    char **probe = tf_list(CASES_DIR, &n);
    if (!probe) {
        SKIP_ALL("OpenMetrics test suite not found at " CASES_DIR);
    }
    tf_free_list(probe);
    RUN(test_every_case_agrees);
    RUN(test_good_cases_parse_leniently);
    printf("%zu OpenMetrics cases (%zu good, %zu bad)\n", n_cases, n_good, n_bad);
    TEST_EXIT();
}
