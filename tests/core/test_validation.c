/* test_validation.c - metric names, label names, reserved names, help text,
 * units and the error strings.
 *
 * Each refused creation must return its own code and leave nothing behind:
 * the name stays free and the registry's output is unchanged.
 *
 * SPDX-License-Identifier: MIT
 */
#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

/* Creates a counter; on success it is destroyed again so names can repeat. */
static int try_counter(vt_registry_t *reg, const char *name, const char *const *labels) {
    vt_counter_t *c = NULL;
    int rc = vt_counter_create(reg, name, "h", labels, &c);
    if (rc == 0) {
        CHECK(c != NULL);
        CHECK_INT(vt_registry_unregister(reg, vt_counter_family(c)), 0);
        CHECK_INT(vt_family_destroy(vt_counter_family(c)), 0);
    } else
        CHECK(c == NULL);
    return rc;
}

static void test_metric_names(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    static const char *const good[] = {
        "a",   "_",  ":",    "a:b",  "ns:sub:name",   "A_b_9",      "_x",
        ":x:", "x1", "abc_", "a__b", "http_requests", "HTTP:Req_2", "x_total"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int rc = try_counter(reg, good[i], NULL);
        if (rc != 0)
            fprintf(stderr, "refused good name \"%s\"\n", good[i]);
        CHECK_INT(rc, 0);
    }
    static const char *const bad[] = {
        "",         "1abc", "9",    "a-b",  "a b",  " a",  "a ",  "a.b", "a/b", "caf\xc3\xa9",
        "\xc3\xa9", "a\tb", "a\nb", "a{b}", "a\"b", "a=b", "a,b", "-",   "a$",  "\xe2\x82\xac"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = try_counter(reg, bad[i], NULL);
        if (rc != VT_ENAME)
            fprintf(stderr, "bad name \"%s\" gave %d\n", bad[i], rc);
        CHECK_INT(rc, VT_ENAME);
    }
    /* A counter named only "_total" has no family name. */
    CHECK_INT(try_counter(reg, "_total", NULL), VT_ENAME);
    CHECK_INT(try_counter(reg, NULL, NULL), VT_EINVAL);

    /* Every type validates names. */
    vt_gauge_t *g = NULL;
    vt_histogram_t *h = NULL;
    vt_summary_t *s = NULL;
    vt_info_t *inf = NULL;
    CHECK_INT(vt_gauge_create(reg, "1g", "h", NULL, &g), VT_ENAME);
    CHECK_INT(vt_histogram_create(reg, "h-1", "h", NULL, NULL, 0, &h), VT_ENAME);
    CHECK_INT(vt_summary_create(reg, "s s", "h", NULL, &s), VT_ENAME);
    CHECK_INT(vt_info_create(reg, "", "h", NULL, NULL, &inf), VT_ENAME);
    CHECK(g == NULL && h == NULL && s == NULL && inf == NULL);

    char *text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "# TYPE"), 1); /* only vitals_errors_total */
    free(text);
    vt_registry_destroy(reg);
}

static void test_label_names(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    static const char *const good[] = {"a", "_", "_a", "A9", "method", "le", "quantile", "a_"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_INT(try_counter(reg, "c", VT_LABELS(good[i])), 0);
    static const char *const bad[] = {"", "1a", "a-b", "a:b", "a b", "a.b", "caf\xc3\xa9", ":"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = try_counter(reg, "c", VT_LABELS("ok", bad[i]));
        if (rc != VT_ELABELNAME)
            fprintf(stderr, "bad label name \"%s\" gave %d\n", bad[i], rc);
        CHECK_INT(rc, VT_ELABELNAME);
    }
    CHECK_INT(try_counter(reg, "c", VT_LABELS("__name__")), VT_ERESERVED);
    CHECK_INT(try_counter(reg, "c", VT_LABELS("__x")), VT_ERESERVED);
    CHECK_INT(try_counter(reg, "c", VT_LABELS("__")), VT_ERESERVED);
    CHECK_INT(try_counter(reg, "c", VT_LABELS("a", "b", "a")), VT_EDUPLABEL);
    CHECK_INT(try_counter(reg, "c", VT_LABELS("a", "a")), VT_EDUPLABEL);

    /* At most 64 variable labels. */
    char names[65][16];
    const char *list[66];
    for (int i = 0; i < 65; i++) {
        snprintf(names[i], sizeof names[i], "l%d", i);
        list[i] = names[i];
    }
    list[64] = NULL;
    CHECK_INT(try_counter(reg, "c", list), 0);
    list[64] = names[64];
    list[65] = NULL;
    CHECK_INT(try_counter(reg, "c", list), VT_ELIMIT);

    /* le is reserved on histograms, quantile on summaries, neither elsewhere. */
    vt_histogram_t *h = NULL;
    vt_summary_t *s = NULL;
    vt_gauge_t *g = NULL;
    CHECK_INT(vt_histogram_create(reg, "h", "h", VT_LABELS("a", "le"), NULL, 0, &h), VT_ERESERVED);
    CHECK_INT(vt_summary_create(reg, "s", "h", VT_LABELS("quantile"), &s), VT_ERESERVED);
    CHECK(h == NULL && s == NULL);
    CHECK_INT(vt_histogram_create(reg, "h", "h", VT_LABELS("quantile"), NULL, 0, &h), 0);
    CHECK_INT(vt_summary_create(reg, "s", "h", VT_LABELS("le"), &s), 0);
    CHECK_INT(vt_gauge_create(reg, "g", "h", VT_LABELS("le", "quantile"), &g), 0);
    CHECK_INT(try_counter(reg, "c", VT_LABELS("le", "quantile")), 0);
    vt_info_t *inf = NULL;
    CHECK_INT(vt_info_create(reg, "i", "h", VT_LABELS("__v"), VT_VALUES("1"), &inf), VT_ERESERVED);
    CHECK_INT(vt_info_create(reg, "i", "h", VT_LABELS("v", "v"), VT_VALUES("1", "2"), &inf),
              VT_EDUPLABEL);
    CHECK(inf == NULL);
    vt_registry_destroy(reg);
}

static void test_help(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c = NULL;
    CHECK_INT(vt_counter_create(reg, "c", "bad \xff help", NULL, &c), VT_EUTF8);
    CHECK_INT(vt_counter_create(reg, "c", "\xed\xa0\x80", NULL, &c), VT_EUTF8);
    vt_histogram_t *h = NULL;
    CHECK_INT(vt_histogram_create(reg, "h", "\xc0\x80", NULL, NULL, 0, &h), VT_EUTF8);
    CHECK(c == NULL && h == NULL);
    /* Any valid UTF-8 is fine, escapes included; NULL is empty help. */
    CHECK_INT(vt_counter_create(reg, "c",
                                "Temp \xc2\xb0"
                                "C \\ \"q\"\nnext",
                                NULL, &c),
              0);
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "g", NULL, NULL, &g), 0);
    vt_counter_series_t *cs;
    vt_gauge_series_t *gs;
    CHECK_INT(vt_counter_with(c, NULL, &cs), 0);
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
    char *text = scrape(reg);
    CHECK_LINE(text, "# HELP c_total Temp \xc2\xb0"
                     "C \\\\ \"q\"\\nnext");
    CHECK(has_line(text, "# HELP g ") || has_line(text, "# HELP g"));
    free(text);
    vt_registry_destroy(reg);
}

static void test_units(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    vt_histogram_t *h = NULL;
    vt_counter_t *c = NULL;
    vt_gauge_t *g = NULL;

    o.name = "req_duration";
    o.unit = "seconds";
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), VT_EUNIT);
    o.name = "req_durationseconds"; /* the unit must follow an underscore */
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), VT_EUNIT);
    o.name = "seconds"; /* the unit alone is no name */
    CHECK_INT(vt_gauge_create_opts(reg, &o, &g), VT_EUNIT);
    o.name = "req_seconds_max"; /* not a suffix */
    CHECK_INT(vt_gauge_create_opts(reg, &o, &g), VT_EUNIT);
    o.name = "size_bytes";
    o.unit = "by tes"; /* not a name fragment */
    CHECK_INT(vt_gauge_create_opts(reg, &o, &g), VT_EUNIT);
    o.unit = "Bytes"; /* case matters */
    CHECK_INT(vt_gauge_create_opts(reg, &o, &g), VT_EUNIT);
    CHECK(h == NULL && g == NULL);

    o.name = "req_duration_seconds";
    o.unit = "seconds";
    o.help = "Duration.";
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    o.name = "sent_bytes_total"; /* a counter's unit comes before _total */
    o.unit = "bytes";
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    o.name = "temp_celsius";
    o.unit = ""; /* empty is none */
    CHECK_INT(vt_gauge_create_opts(reg, &o, &g), 0);
    vt_histogram_series_t *hs;
    vt_counter_series_t *cs;
    vt_gauge_series_t *gs;
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    CHECK_INT(vt_counter_with(c, NULL, &cs), 0);
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);

    char *om = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    CHECK_LINE(om, "# UNIT req_duration_seconds seconds");
    CHECK_LINE(om, "# UNIT sent_bytes bytes");
    CHECK_NOT_CONTAINS(om, "# UNIT temp_celsius");
    free(om);
    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "# UNIT");
    free(text);
    vt_registry_destroy(reg);
}

static void test_error_strings(void) {
    static const int used[] = {VT_EINVAL,    VT_ENOMEM,      VT_ENAME, VT_ELABELNAME,
                               VT_ERESERVED, VT_ELABELCOUNT, VT_EUTF8, VT_EDUPLICATE,
                               VT_ENOTFOUND, VT_EBUCKETS,    VT_ESINK, VT_ETYPE,
                               VT_EBUSY,     VT_ERANGE,      VT_EUNIT, VT_EDUPLABEL,
                               VT_ELIMIT,    VT_ECOLLECTOR,  VT_ESTATE};
    static const char *const names[] = {
        "VT_EINVAL",      "VT_ENOMEM", "VT_ENAME",      "VT_ELABELNAME", "VT_ERESERVED",
        "VT_ELABELCOUNT", "VT_EUTF8",  "VT_EDUPLICATE", "VT_ENOTFOUND",  "VT_EBUCKETS",
        "VT_ESINK",       "VT_ETYPE",  "VT_EBUSY",      "VT_ERANGE",     "VT_EUNIT",
        "VT_EDUPLABEL",   "VT_ELIMIT", "VT_ECOLLECTOR", "VT_ESTATE"};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++) {
        CHECK_STR(vt_err_name(used[i]), names[i]);
        const char *m = vt_strerror(used[i]);
        CHECK(m != NULL && m[0] != '\0' && strcmp(m, "unknown error") != 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(vt_strerror(used[j]), m) != 0);
    }
    CHECK_STR(vt_strerror(VT_EUTF8), "label value or text is not valid UTF-8");
    CHECK_STR(vt_strerror(VT_EUNIT), "metric name must end with the unit");
    CHECK_STR(vt_strerror(12345), "unknown error");
    CHECK_STR(vt_strerror(-12345), "unknown error");
    CHECK_STR(vt_err_name(-12345), "VT_UNKNOWN");
    CHECK(vt_strerror(0) != NULL);
}

int main(void) {
    RUN(test_metric_names);
    RUN(test_label_names);
    RUN(test_help);
    RUN(test_units);
    RUN(test_error_strings);
    TEST_EXIT();
}
