/* test_help_cr.c - carriage returns in HELP text, written in both formats and
 * read back by the strict parser and by the Python client's parsers.
 *
 * Neither format has an escape for CR. One inside a HELP text is written as
 * it is and every reader keeps it; CRs at the end would turn the line end
 * into CR LF, which readers strip (Python's text parser) or refuse (this
 * project's strict parser), so the writer leaves them out. The Python part
 * runs when /usr/bin/python3 has prometheus_client, and fails without it in CI.
 *
 * vt-test: libs=vitals_parse
 *
 * SPDX-License-Identifier: MIT
 */
#include "expose_tools.h"
#include "harness.h"
#include "parse/parse.h"

typedef struct help_case {
    const char *name;
    const char *help; /* as given to vt_gauge_create */
    const char *om;   /* as OpenMetrics readers must read it back */
    const char *text; /* as the strict parser reads text 0.0.4 back */
    const char *py;   /* as Python's text parser does, when that differs */
} help_case_t;

static const help_case_t cases[] = {
    {"cr_end", "ends in CR\r", "ends in CR", "ends in CR", NULL},
    {"crs_end", "two CRs\r\r", "two CRs", "two CRs", NULL},
    {"cr_inside", "a\rb", "a\rb", "a\rb", NULL},
    {"cr_lf_inside", "line one\r\nline two", "line one\r\nline two", "line one\r\nline two", NULL},
    {"cr_only", "\r", "", "", NULL},
    {"cr_backslash", "c:\\dir\\\r", "c:\\dir\\", "c:\\dir\\", NULL},
    {"cr_quote_end", "say \"hi\"\r", "say \"hi\"", "say \"hi\"", NULL},
    /* Python's text parser strips every blank, CR included, at the ends. */
    {"cr_then_blank", "x\r ", "x\r ", "x\r", "x"},
    {"blank_then_cr", "y \r", "y ", "y", NULL},
};
#define NCASES (sizeof cases / sizeof cases[0])

static vt_registry_t *make_registry(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    for (size_t i = 0; i < NCASES; i++) {
        vt_gauge_t *g = NULL;
        CHECK_INT(vt_gauge_create(reg, cases[i].name, cases[i].help, NULL, &g), 0);
    }
    /* A sample after the HELP lines: a CR must not break the next line. */
    vt_counter_t *c = NULL;
    vt_counter_series_t *cs = NULL;
    CHECK_INT(vt_counter_create(reg, "after", "next\r", VT_LABELS("k"), &c), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("v"), &cs), 0);
    vt_counter_add(cs, 3);
    return reg;
}

/* No line of the exposition ends in CR LF. */
static void check_no_crlf(const char *what, const char *text) {
    const char *p = strstr(text, "\r\n");
    if (p)
        fprintf(stderr, "%s: CR LF at byte %zu\n", what, (size_t)(p - text));
    CHECK(p == NULL);
}

static void test_strict_parser(void) {
    vt_registry_t *reg = make_registry();
    for (int om = 0; om < 2; om++) {
        vt_format_t format = om ? VT_FORMAT_OPENMETRICS : VT_FORMAT_TEXT;
        char *text = tools_scrape(reg, format, 0);
        CHECK(text != NULL);
        if (!text)
            continue;
        check_no_crlf(om ? "openmetrics" : "text", text);
        vt_parse_opts_t po = {format, VT_PARSE_STRICT};
        vt_doc_t *doc = NULL;
        vt_parse_error_t err;
        int rc = vt_parse(text, strlen(text), &po, &doc, &err);
        if (rc != 0)
            fprintf(stderr, "%s: %s\n%s", om ? "openmetrics" : "text", err.message, text);
        CHECK_INT(rc, 0);
        for (size_t i = 0; doc && i < NCASES; i++) {
            const vt_doc_family_t *f = vt_doc_find_family(doc, cases[i].name);
            CHECK(f != NULL);
            if (!f)
                continue;
            const char *want = om ? cases[i].om : cases[i].text;
            size_t got_len = f->help ? f->help_len : 0;
            if (got_len != strlen(want) || (got_len && memcmp(f->help, want, got_len) != 0)) {
                fprintf(stderr, "%s (%s): HELP read back as \"%.*s\"\n", cases[i].name,
                        om ? "openmetrics" : "text", (int)got_len, f->help ? f->help : "");
                CHECK(0);
            }
        }
        const vt_doc_family_t *after =
            doc ? vt_doc_find_family(doc, om ? "after" : "after_total") : NULL;
        CHECK(after != NULL && after->sample_count >= 1);
        if (after && after->sample_count >= 1)
            CHECK_DBL(after->samples[0].value, 3.0);
        vt_doc_free(doc);
        free(text);
    }
    vt_registry_destroy(reg);
}

/* Python's parser for one format, through tests/tools/om_check.py with the
 * expected HELP texts. */
static void python_round(vt_registry_t *reg, vt_format_t format, const char *parser) {
    int om = format == VT_FORMAT_OPENMETRICS;
    char expect[4400], line[512];
    tools_path(expect, sizeof expect, "expect.txt");
    FILE *fp = fopen(expect, "w");
    CHECK(fp != NULL);
    if (!fp)
        return;
    for (size_t i = 0; i < NCASES; i++) {
        const char *want = om ? cases[i].om : cases[i].py ? cases[i].py : cases[i].text;
        size_t n = (size_t)snprintf(line, sizeof line, "help %s ", cases[i].name);
        for (const unsigned char *p = (const unsigned char *)want; *p; p++)
            n += (size_t)snprintf(line + n, sizeof line - n, "%02x", *p);
        fprintf(fp, "%s\n", line);
    }
    fclose(fp);
    char *text = tools_scrape(reg, format, 0);
    char what[64];
    snprintf(what, sizeof what, "help_cr %s", parser);
    CHECK(tools_python_check(what, parser, text, expect));
    free(text);
}

static void test_python_parsers(void) {
    if (!tools_have_python_client()) {
        const char *ci = getenv("CI");
        if (ci && *ci) {
            fprintf(stderr, "CI is set but /usr/bin/python3 cannot import prometheus_client\n");
            CHECK(0);
        } else {
            printf("python3-prometheus-client missing: Python parser checks left out\n");
        }
        return;
    }
    vt_registry_t *reg = make_registry();
    python_round(reg, VT_FORMAT_TEXT, "text");
    python_round(reg, VT_FORMAT_OPENMETRICS, "openmetrics");
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_strict_parser);
    RUN(test_python_parsers);
    tools_cleanup();
    TEST_EXIT();
}
