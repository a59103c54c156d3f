/* test_regressions.c - bugs found in the core, each kept from coming back.
 *
 * SPDX-License-Identifier: MIT
 */
#include "core_helpers.h"
#include "harness.h"

static int emit_named(vt_emitter_t *e, void *ud) {
    const char *name = ud;
    vt_emit_family(e, VT_GAUGE, name, "from collector", NULL, NULL);
    vt_emit_value(e, NULL, 123);
    return 0;
}
static int emit_twice(vt_emitter_t *e, void *ud) {
    (void)ud;
    vt_emit_family(e, VT_GAUGE, "again", "h", NULL, NULL);
    vt_emit_value(e, NULL, 1);
    vt_emit_family(e, VT_GAUGE, "again", "h", NULL, NULL);
    vt_emit_value(e, NULL, 2);
    return 0;
}
static void test_two_collectors_same_name(void) {
    /* Two undeclared collectors emitting one name must not produce the family twice. */
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_named, "twice", NULL, NULL), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_named, "twice", NULL, NULL), 0);
    char *text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "# TYPE twice "), 1);
    free(text);
    vt_registry_destroy(reg);
}

static void test_one_collector_same_name_twice(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_twice, NULL, NULL, NULL), 0);
    char *text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "# TYPE again "), 1);
    free(text);
    vt_registry_destroy(reg);
}

/* For tests/core/test_registry.c: a family registered under a self-metric
 * name while self metrics are off must not give two families of that name
 * once they are switched back on. */
static void test_self_metrics_toggle_duplicate(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_gauge_t *g = NULL;
    int rc = vt_gauge_create(reg, "vitals_errors_total", "h", NULL, &g);
    if (rc == 0) {
        vt_gauge_series_t *s;
        CHECK_INT(vt_gauge_with(g, NULL, &s), 0);
    } else
        CHECK_INT(rc, VT_EDUPLICATE);
    vt_registry_set_self_metrics(reg, 1);
    char *text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "# TYPE vitals_errors_total "), 1);
    free(text);
    vt_registry_destroy(reg);
}

/* For tests/core/test_cardinality.c: a user value equal to the overflow
 * marker must not produce two series with the same labels. */
static void test_overflow_value_collision(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "hit";
    o.label_names = VT_LABELS("path");
    o.max_series = 2;
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_counter_series_t *s;
    CHECK_INT(vt_counter_with(c, VT_VALUES(VT_OVERFLOW_LABEL_VALUE), &s), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("/b"), &s), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("/c"), &s), 0); /* overflows */
    char *text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "hit_total{path=\"__overflow__\"}"), 1);
    free(text);
    vt_registry_destroy(reg);
}

/* A collector that declared a name keeps it against an undeclared one. */
static void test_declared_name_wins(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_named, "owned", NULL, NULL), 0);
    CHECK_INT(vt_registry_add_collector(reg, VT_LABELS("owned"), emit_named, "owned", NULL, NULL),
              0);
    char *text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "# TYPE owned "), 1);
    double v = 0;
    CHECK_INT(vt_registry_get_sample_value(reg, "vitals_errors_total", VT_LABELS("kind"),
                                           VT_VALUES("collector"), &v),
              0);
    CHECK(v >= 1); /* the undeclared one was dropped and counted */
    free(text);
    vt_registry_destroy(reg);
}

/* Replacing an info metric's labels many times keeps memory flat. */
static long live_allocs;
static void *count_malloc(size_t n) {
    live_allocs++;
    return malloc(n);
}
static void *count_realloc(void *p, size_t n) {
    if (!p)
        live_allocs++;
    return realloc(p, n);
}
static void count_free(void *p) {
    if (p)
        live_allocs--;
    free(p);
}
static void *count_calloc(size_t n, size_t size) {
    live_allocs++;
    return calloc(n, size);
}

static void test_info_set_churn_is_flat(void) {
    vt_allocator_t a = {count_malloc, count_realloc, count_free, count_calloc};
    CHECK_INT(vt_set_allocator(&a), 0);
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_info_t *inf;
    CHECK_INT(vt_info_create(reg, "build", "h", VT_LABELS("v"), VT_VALUES("0"), &inf), 0);
    char buf[32];
    for (int i = 1; i <= 100; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        CHECK_INT(vt_info_set(inf, VT_VALUES(buf)), 0);
    }
    long after_100 = live_allocs;
    for (int i = 101; i <= 10000; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        CHECK_INT(vt_info_set(inf, VT_VALUES(buf)), 0);
    }
    CHECK(live_allocs <= after_100 + 8);
    char *text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "build_info{"), 1);
    CHECK_CONTAINS(text, "build_info{v=\"10000\"} 1\n");
    free(text);
    vt_registry_destroy(reg);
    CHECK(vt_set_allocator(NULL) == 0);
}

/* A family without labels is exposed at zero before its first update. */
static void test_labelless_exposed_at_zero(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    vt_gauge_t *g;
    vt_histogram_t *h;
    CHECK_INT(vt_counter_create(reg, "jobs_total", "Jobs.", NULL, &c), 0);
    CHECK_INT(vt_gauge_create(reg, "queue_depth", "Depth.", NULL, &g), 0);
    CHECK_INT(vt_histogram_create(reg, "job_seconds", "Job time.", NULL, NULL, 0, &h), 0);
    char *text = scrape(reg);
    CHECK_CONTAINS(text, "\njobs_total 0\n");
    CHECK_CONTAINS(text, "\nqueue_depth 0\n");
    CHECK_CONTAINS(text, "\njob_seconds_count 0\n");
    free(text);
    vt_counter_series_t *s1, *s2;
    CHECK_INT(vt_counter_with(c, NULL, &s1), 0);
    CHECK_INT(vt_counter_with(c, NULL, &s2), 0);
    CHECK(s1 == s2);
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), 1);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_two_collectors_same_name);
    RUN(test_one_collector_same_name_twice);
    RUN(test_declared_name_wins);
    RUN(test_self_metrics_toggle_duplicate);
    RUN(test_overflow_value_collision);
    RUN(test_info_set_churn_is_flat);
    RUN(test_labelless_exposed_at_zero);
    TEST_EXIT();
}
