/* test_expose_roundtrip.c - hostile label values and HELP texts survive both formats byte for byte.
 *
 * The hostile registry of expose_corpus.h (quotes, backslashes, newlines,
 * braces, '#', '=', ',', a 10,000-character value, multibyte UTF-8, a lone
 * trailing backslash, a literal backslash-n; bound in created families, as
 * const and info labels, and emitted by a collector) is written in text 0.0.4
 * and OpenMetrics and parsed back by the Python client's parsers
 * (tests/tools/om_check.py). Every expected label value and HELP text is
 * passed to the checker hex-encoded in an expectation file, and each must come
 * back identical, with no extra values. vt_registry_get_sample_value() must
 * find every series by its raw values as well. Without /usr/bin/python3 and
 * prometheus_client the program skips (and fails under CI).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expose_corpus.h"
#include "expose_tools.h"
#include "harness.h"
#include "vitals.h"

static vt_registry_t *reg;

static void put_hex(FILE *f, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fprintf(f, "%02x", *p);
}

static void expect_label(FILE *f, const char *sample, const char *label, const char *value) {
    fprintf(f, "label %s %s ", sample, label);
    put_hex(f, value);
    fputc('\n', f);
}

static void expect_help(FILE *f, const char *family, const char *help) {
    fprintf(f, "help %s ", family);
    put_hex(f, help);
    fputc('\n', f);
}

/* Everything the hostile registry must give back, in om_check.py's format.
 * Sample and family names are the same in both formats for these families. */
static int write_expectations(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < HOSTILE_NVALUES; i++) {
        const char *v = hostile_values[i];
        expect_label(f, "rt_hostile", "v", v);
        expect_label(f, "rt_hostile", "w", v);
        expect_label(f, "rt_collected", "v", v);
        expect_label(f, "rt_collected", "w", v);
        expect_label(f, "rt_requests_total", "v", v);
        expect_label(f, "rt_collected_events_total", "v", v);
        expect_label(f, "rt_wait_seconds_bucket", "v", v);
        expect_label(f, "rt_wait_seconds_count", "v", v);
        expect_label(f, "rt_wait_seconds_sum", "v", v);
    }
    expect_label(f, "rt_const", "c", hostile_long_value());
    expect_label(f, "rt_const", "v", "\"}");
    expect_label(f, "rt_build_info", "v", hostile_values[HOSTILE_NVALUES - 5]);
    for (size_t i = 0; i < HOSTILE_NHELPS; i++) {
        char name[64];
        snprintf(name, sizeof name, "rt_help_%zu", i);
        expect_help(f, name, hostile_helps[i]);
        snprintf(name, sizeof name, "rt_collected_help_%zu", i);
        expect_help(f, name, hostile_helps[i]);
    }
    expect_help(f, "rt_help_empty", "");
    expect_help(f, "rt_hostile", "Hostile label values.");
    return fclose(f);
}

static void roundtrip(vt_format_t format, int created, const char *parser) {
    char expect[4400];
    tools_path(expect, sizeof expect, "expect.txt");
    CHECK(write_expectations(expect) == 0);
    char *text = tools_scrape(reg, format, created);
    CHECK(text != NULL);
    if (!text)
        return;
    char what[64];
    snprintf(what, sizeof what, "hostile round trip (%s%s)", parser, created ? ", _created" : "");
    CHECK(tools_python_check(what, parser, text, expect));
    free(text);
}

static void test_text(void) {
    roundtrip(VT_FORMAT_TEXT, 0, "text");
}

static void test_openmetrics(void) {
    roundtrip(VT_FORMAT_OPENMETRICS, 0, "openmetrics");
    roundtrip(VT_FORMAT_OPENMETRICS, 1, "openmetrics");
}

/* The checker notices a value that did not come back. */
static void test_checker_catches_mismatch(void) {
    char expect[4400];
    tools_path(expect, sizeof expect, "expect-bad.txt");
    FILE *f = fopen(expect, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    expect_label(f, "rt_hostile", "v", "a value nobody bound");
    expect_help(f, "rt_hostile", "Another help.");
    fclose(f);
    char *text = tools_scrape(reg, VT_FORMAT_OPENMETRICS, 0);
    fprintf(stderr, "(the next failure is expected)\n");
    CHECK(!tools_python_check("deliberate mismatch", "openmetrics", text, expect));
    free(text);
}

/* The library finds each hostile series by its raw values. */
static void test_sample_values(void) {
    for (size_t i = 0; i < HOSTILE_NVALUES; i++) {
        const char *v = hostile_values[i], *w = hostile_values[(i + 7) % HOSTILE_NVALUES];
        double got = -1;
        CHECK_INT(vt_registry_get_sample_value(reg, "rt_hostile", VT_LABELS("v", "w"),
                                               VT_VALUES(v, w), &got),
                  0);
        CHECK_DBL(got, (double)i);
        got = -1;
        CHECK_INT(vt_registry_get_sample_value(reg, "rt_collected", VT_LABELS("w", "v"),
                                               VT_VALUES(w, v), &got),
                  0);
        CHECK_DBL(got, (double)i);
        got = -1;
        CHECK_INT(vt_registry_get_sample_value(reg, "rt_requests_total", VT_LABELS("v"),
                                               VT_VALUES(v), &got),
                  0);
        CHECK_DBL(got, (double)i);
        got = -1;
        CHECK_INT(vt_registry_get_sample_value(reg, "rt_wait_seconds_count", VT_LABELS("v"),
                                               VT_VALUES(v), &got),
                  0);
        CHECK_DBL(got, 1);
    }
    double got = 0;
    CHECK_INT(vt_registry_get_sample_value(reg, "rt_const", VT_LABELS("c", "v"),
                                           VT_VALUES(hostile_long_value(), "\"}"), &got),
              0);
    CHECK_INT(vt_registry_get_sample_value(reg, "rt_build_info", VT_LABELS("v"),
                                           VT_VALUES(hostile_values[HOSTILE_NVALUES - 5]), &got),
              0);
    CHECK_DBL(got, 1);
    /* An escaped spelling is not the value. */
    CHECK_INT(vt_registry_get_sample_value(reg, "rt_requests_total", VT_LABELS("v"),
                                           VT_VALUES("back\\\\slash"), &got),
              VT_ENOTFOUND);
}

int main(void) {
    if (!tools_have_python_client())
        SKIP_ALL("/usr/bin/python3 cannot import prometheus_client (python3-prometheus-client)");
    if (hostile_registry_build(&reg) != 0) {
        fprintf(stderr, "cannot build the hostile registry\n");
        return 1;
    }
    vt_gauge_t *empty_help;
    CHECK_INT(vt_gauge_create(reg, "rt_help_empty", "", NULL, &empty_help), 0);
    RUN(test_checker_catches_mismatch);
    RUN(test_text);
    RUN(test_openmetrics);
    RUN(test_sample_values);
    vt_registry_destroy(reg);
    tools_cleanup();
    TEST_EXIT();
}
