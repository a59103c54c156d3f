/* test_metrics.c - counters, gauges, summaries and info metrics: values in and out.
 *
 * Every value is read back twice, through the handle (vt_*_get) and through
 * vt_registry_get_sample_value, which runs a real scrape; refused values
 * (negative or NaN counter adds, NaN observations) must change nothing and be
 * counted in vitals_errors_total{kind}. Histograms have their own file.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

static void test_counter_inc_add(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "jobs", "Jobs done.", NULL, &c), 0);
    vt_counter_series_t *s = NULL;
    CHECK_INT(vt_counter_with(c, NULL, &s), 0);
    CHECK(s != NULL);
    CHECK_DBL(vt_counter_get(s), 0);
    CHECK_DBL(sample(reg, "jobs_total", NULL, NULL), 0);

    vt_counter_inc(s);
    vt_counter_inc(s);
    CHECK_DBL(vt_counter_get(s), 2);
    vt_counter_add_u64(s, 40);
    CHECK_DBL(vt_counter_get(s), 42);
    CHECK_DBL(sample(reg, "jobs_total", NULL, NULL), 42);
    vt_counter_add(s, 0.5);
    CHECK_DBL(vt_counter_get(s), 42.5);
    vt_counter_add(s, 0);
    CHECK_DBL(vt_counter_get(s), 42.5);
    CHECK_DBL(sample(reg, "jobs_total", NULL, NULL), 42.5);

    char *text = scrape(reg);
    CHECK_LINE(text, "jobs_total 42.5");
    CHECK_LINE(text, "# TYPE jobs_total counter");
    CHECK_LINE(text, "# HELP jobs_total Jobs done.");
    free(text);

    /* The family name is "jobs"; the sample "jobs" alone does not exist. */
    double v;
    CHECK_INT(vt_registry_get_sample_value(reg, "jobs", NULL, NULL, &v), VT_ENOTFOUND);
    CHECK_STR(vt_family_name(vt_counter_family(c)), "jobs");
    CHECK_INT(vt_family_type(vt_counter_family(c)), VT_COUNTER);
    vt_registry_destroy(reg);
}

static void test_counter_integer_exact(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "big_total", "h", NULL, &c), 0);
    vt_counter_series_t *s;
    CHECK_INT(vt_counter_with(c, NULL, &s), 0);
    /* 2^53 + 1 is not a double; integer adds are exposed exactly. */
    vt_counter_add_u64(s, (UINT64_C(1) << 53));
    vt_counter_inc(s);
    char *text = scrape(reg);
    CHECK_LINE(text, "big_total 9007199254740993");
    free(text);
    vt_registry_destroy(reg);
}

static void test_counter_refused_values(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "x", "h", VT_LABELS("k"), &c), 0);
    vt_counter_series_t *a, *b;
    CHECK_INT(vt_counter_with(c, VT_VALUES("a"), &a), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("b"), &b), 0);
    vt_counter_add_u64(a, 5);
    vt_counter_add(b, 1.25);
    CHECK_DBL(errors_of_kind(reg, "negative_counter_add"), 0);
    CHECK_DBL(errors_of_kind(reg, "nan_value"), 0);

    vt_counter_add(a, -1);
    vt_counter_add(a, -0.001);
    vt_counter_add(b, -INFINITY);
    vt_counter_add(a, NAN);
    CHECK_DBL(vt_counter_get(a), 5);
    CHECK_DBL(vt_counter_get(b), 1.25);
    CHECK_DBL(sample(reg, "x_total", VT_LABELS("k"), VT_VALUES("a")), 5);
    CHECK_DBL(sample(reg, "x_total", VT_LABELS("k"), VT_VALUES("b")), 1.25);
    CHECK_DBL(errors_of_kind(reg, "negative_counter_add"), 3);
    CHECK_DBL(errors_of_kind(reg, "nan_value"), 1);
    CHECK_DBL(errors_of_kind(reg, "callback_value"), 0);
    CHECK_DBL(errors_of_kind(reg, "collector"), 0);

    /* -0.0 is not negative: accepted, changes nothing, not counted. */
    vt_counter_add(a, -0.0);
    CHECK_DBL(vt_counter_get(a), 5);
    CHECK_DBL(errors_of_kind(reg, "negative_counter_add"), 3);

    /* The series keeps working after refused values. */
    vt_counter_inc(a);
    CHECK_DBL(sample(reg, "x_total", VT_LABELS("k"), VT_VALUES("a")), 6);
    vt_registry_destroy(reg);
}

static void test_counter_total_suffix(void) {
    /* "req" and "req_total" name the same family and expose "req_total". */
    const char *names[] = {"req", "req_total"};
    for (int i = 0; i < 2; i++) {
        vt_registry_t *reg;
        CHECK_INT(vt_registry_create(&reg), 0);
        vt_counter_t *c;
        CHECK_INT(vt_counter_create(reg, names[i], "h", NULL, &c), 0);
        CHECK_STR(vt_family_name(vt_counter_family(c)), "req");
        vt_counter_series_t *s;
        CHECK_INT(vt_counter_with(c, NULL, &s), 0);
        vt_counter_add_u64(s, 3);
        CHECK_DBL(sample(reg, "req_total", NULL, NULL), 3);
        char *text = scrape(reg);
        CHECK_LINE(text, "req_total 3");
        CHECK_LINE(text, "# TYPE req_total counter");
        CHECK_NOT_CONTAINS(text, "req_total_total");
        free(text);
        text = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
        CHECK_LINE(text, "# TYPE req counter");
        CHECK_LINE(text, "req_total 3");
        free(text);
        /* The other spelling is the same name: a duplicate. */
        vt_counter_t *c2 = NULL;
        CHECK_INT(vt_counter_create(reg, names[1 - i], "h", NULL, &c2), VT_EDUPLICATE);
        CHECK(c2 == NULL);
        vt_registry_destroy(reg);
    }
}

static void test_gauge(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "temp", "h", NULL, &g), 0);
    CHECK_INT(vt_family_type(vt_gauge_family(g)), VT_GAUGE);
    vt_gauge_series_t *s;
    CHECK_INT(vt_gauge_with(g, NULL, &s), 0);
    CHECK_DBL(vt_gauge_get(s), 0);
    vt_gauge_set(s, 10);
    CHECK_DBL(vt_gauge_get(s), 10);
    vt_gauge_inc(s);
    CHECK_DBL(vt_gauge_get(s), 11);
    vt_gauge_dec(s);
    vt_gauge_dec(s);
    CHECK_DBL(vt_gauge_get(s), 9);
    vt_gauge_add(s, 0.5);
    CHECK_DBL(vt_gauge_get(s), 9.5);
    vt_gauge_sub(s, 20);
    CHECK_DBL(vt_gauge_get(s), -10.5);
    CHECK_DBL(sample(reg, "temp", NULL, NULL), -10.5);
    char *text = scrape(reg);
    CHECK_LINE(text, "temp -10.5");
    CHECK_LINE(text, "# TYPE temp gauge");
    free(text);

    /* Gauges take any double, NaN and infinities included, without errors. */
    vt_gauge_set(s, NAN);
    CHECK(isnan(vt_gauge_get(s)));
    text = scrape(reg);
    CHECK_LINE(text, "temp NaN");
    free(text);
    vt_gauge_set(s, -INFINITY);
    text = scrape(reg);
    CHECK_LINE(text, "temp -Inf");
    free(text);
    CHECK_DBL(errors_of_kind(reg, "nan_value"), 0);

    time_t before = time(NULL);
    vt_gauge_set_to_current_time(s);
    double now = vt_gauge_get(s);
    CHECK(fabs(now - (double)before) <= 2.0);
    CHECK_DBL(sample(reg, "temp", NULL, NULL), now);
    vt_registry_destroy(reg);
}

static void test_summary(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_summary_t *sm;
    CHECK_INT(vt_summary_create(reg, "rpc_seconds", "h", VT_LABELS("m"), &sm), 0);
    CHECK_INT(vt_family_type(vt_summary_family(sm)), VT_SUMMARY);
    vt_summary_series_t *s;
    CHECK_INT(vt_summary_with(sm, VT_VALUES("get"), &s), 0);
    vt_summary_observe(s, 0.25);
    vt_summary_observe(s, 1.5);
    vt_summary_observe(s, -2); /* summaries accept negative observations */
    uint64_t count = 0;
    double sum = 0;
    vt_summary_get(s, &count, &sum);
    CHECK_INT(count, 3);
    CHECK_DBL(sum, -0.25);
    CHECK_DBL(sample(reg, "rpc_seconds_count", VT_LABELS("m"), VT_VALUES("get")), 3);
    CHECK_DBL(sample(reg, "rpc_seconds_sum", VT_LABELS("m"), VT_VALUES("get")), -0.25);

    vt_summary_observe(s, NAN);
    vt_summary_get(s, &count, &sum);
    CHECK_INT(count, 3);
    CHECK_DBL(sum, -0.25);
    CHECK_DBL(errors_of_kind(reg, "nan_value"), 1);

    char *text = scrape(reg);
    CHECK_LINE(text, "# TYPE rpc_seconds summary");
    CHECK_LINE(text, "rpc_seconds_sum{m=\"get\"} -0.25");
    CHECK_LINE(text, "rpc_seconds_count{m=\"get\"} 3");
    free(text);
    vt_registry_destroy(reg);
}

static void test_info(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_info_t *info;
    CHECK_INT(vt_info_create(reg, "build", "Build facts.", VT_LABELS("version", "commit"),
                             VT_VALUES("1.2.3", "abc"), &info),
              0);
    CHECK_INT(vt_family_type(vt_info_family(info)), VT_INFO);
    CHECK_STR(vt_family_name(vt_info_family(info)), "build");
    char *text = scrape(reg);
    CHECK_LINE(text, "build_info{version=\"1.2.3\",commit=\"abc\"} 1");
    free(text);
    text = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    CHECK_LINE(text, "# TYPE build info");
    CHECK_LINE(text, "build_info{version=\"1.2.3\",commit=\"abc\"} 1");
    free(text);
    CHECK_DBL(sample(reg, "build_info", VT_LABELS("commit", "version"), VT_VALUES("abc", "1.2.3")),
              1);

    /* vt_info_set replaces the label set: the old one is gone. */
    CHECK_INT(vt_info_set(info, VT_VALUES("1.2.4", "def")), 0);
    text = scrape(reg);
    CHECK_LINE(text, "build_info{version=\"1.2.4\",commit=\"def\"} 1");
    CHECK_NOT_CONTAINS(text, "1.2.3");
    CHECK_INT(count_lines_with_prefix(text, "build_info{"), 1);
    free(text);
    CHECK_INT(vt_family_series_count(vt_info_family(info)), 1);
    /* Setting the same values again keeps exactly one series. */
    CHECK_INT(vt_info_set(info, VT_VALUES("1.2.4", "def")), 0);
    CHECK_INT(vt_family_series_count(vt_info_family(info)), 1);

    /* Bad sets are refused and leave the current one in place. */
    CHECK_INT(vt_info_set(info, VT_VALUES("only-one")), VT_ELABELCOUNT);
    CHECK_INT(vt_info_set(info, VT_VALUES("a", "b", "c")), VT_ELABELCOUNT);
    CHECK_INT(vt_info_set(info, VT_VALUES("\xff", "b")), VT_EUTF8);
    text = scrape(reg);
    CHECK_LINE(text, "build_info{version=\"1.2.4\",commit=\"def\"} 1");
    CHECK_INT(count_lines_with_prefix(text, "build_info{"), 1);
    free(text);

    /* Many replacements still leave exactly one series exposed. */
    for (int i = 0; i < 200; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        CHECK_INT(vt_info_set(info, VT_VALUES(v, "x")), 0);
    }
    text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "build_info{"), 1);
    CHECK_LINE(text, "build_info{version=\"v199\",commit=\"x\"} 1");
    free(text);

    /* An info metric without labels. */
    vt_info_t *plain;
    CHECK_INT(vt_info_create(reg, "plain", "h", NULL, NULL, &plain), 0);
    text = scrape(reg);
    CHECK_LINE(text, "plain_info 1");
    free(text);
    CHECK_DBL(sample(reg, "plain_info", NULL, NULL), 1);
    vt_registry_destroy(reg);
}

static void test_info_refused(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_info_t *info = NULL;
    CHECK_INT(vt_info_create(reg, "build_info", "h", VT_LABELS("v"), VT_VALUES("1"), &info),
              VT_ENAME);
    CHECK(info == NULL);
    CHECK_INT(vt_info_create(reg, "build", "h", VT_LABELS("v"), VT_VALUES("1", "2"), &info),
              VT_ELABELCOUNT);
    CHECK_INT(vt_info_create(reg, "build", "h", VT_LABELS("v"), NULL, &info), VT_ELABELCOUNT);
    CHECK_INT(vt_info_create(reg, "build", "h", VT_LABELS("v"), VT_VALUES("\xc0\xaf"), &info),
              VT_EUTF8);
    CHECK(info == NULL);
    /* None of the refused calls left a family behind: the name is still free. */
    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "build");
    free(text);
    CHECK_INT(vt_info_create(reg, "build", "h", VT_LABELS("v"), VT_VALUES("1"), &info), 0);
    CHECK(info != NULL);
    CHECK_INT(vt_info_set(NULL, VT_VALUES("1")), VT_EINVAL);
    vt_registry_destroy(reg);
}

static void test_wrong_type_handles(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "g", "h", NULL, &g), 0);
    /* A gauge family passed where a counter is expected is refused. */
    vt_counter_series_t *cs = NULL;
    CHECK_INT(vt_counter_with((vt_counter_t *)g, NULL, &cs), VT_EINVAL);
    CHECK(cs == NULL);
    CHECK_INT(vt_counter_with(NULL, NULL, &cs), VT_EINVAL);
    vt_gauge_series_t *gs;
    CHECK_INT(vt_gauge_with(g, NULL, NULL), VT_EINVAL);
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
    CHECK_INT(vt_info_set((vt_info_t *)g, NULL), VT_EINVAL);
    CHECK_INT(vt_counter_create(reg, "c", "h", NULL, NULL), VT_EINVAL);
    CHECK_INT(vt_gauge_create(reg, NULL, "h", NULL, &g), VT_EINVAL);
    CHECK_DBL(vt_counter_get(NULL), 0);
    CHECK_DBL(vt_gauge_get(NULL), 0);
    vt_registry_destroy(reg);
}

static void test_opts_init(void) {
    vt_metric_opts_t o;
    memset(&o, 0xAB, sizeof o);
    vt_metric_opts_init(&o);
    CHECK(o.name == NULL && o.help == NULL && o.unit == NULL);
    CHECK(o.label_names == NULL && o.const_labels == NULL && o.buckets == NULL);
    CHECK_INT(o.bucket_count, 0);
    CHECK_INT(o.max_series, 0);
    vt_metric_opts_init(NULL); /* ignored */
}

int main(void) {
    RUN(test_counter_inc_add);
    RUN(test_counter_integer_exact);
    RUN(test_counter_refused_values);
    RUN(test_counter_total_suffix);
    RUN(test_gauge);
    RUN(test_summary);
    RUN(test_info);
    RUN(test_info_refused);
    RUN(test_wrong_type_handles);
    RUN(test_opts_init);
    TEST_EXIT();
}
