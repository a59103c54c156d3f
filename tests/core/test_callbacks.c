/* test_callbacks.c - counter and gauge values read at scrape time.
 *
 * A callback's value replaces the stored one at every scrape; a counter
 * callback that returns a negative or NaN value is exposed as 0 and counted in
 * vitals_errors_total{kind="callback_value"}; fn NULL goes back to the stored
 * value.
 *
 * SPDX-License-Identifier: MIT
 */
#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

static int calls;

static double read_double(void *ud) {
    calls++;
    return *(double *)ud;
}

static void test_gauge_callback(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "queue", "h", VT_LABELS("q"), &g), 0);
    vt_gauge_series_t *s, *other;
    CHECK_INT(vt_gauge_with(g, VT_VALUES("a"), &s), 0);
    CHECK_INT(vt_gauge_with(g, VT_VALUES("b"), &other), 0);
    vt_gauge_set(s, 5);
    vt_gauge_set(other, 6);
    double value = 42;
    calls = 0;
    CHECK_INT(vt_gauge_set_callback(s, read_double, &value), 0);
    CHECK_DBL(sample(reg, "queue", VT_LABELS("q"), VT_VALUES("a")), 42);
    CHECK(calls >= 1);
    value = -3.5; /* gauges may go negative */
    char *text = scrape(reg);
    CHECK_LINE(text, "queue{q=\"a\"} -3.5");
    CHECK_LINE(text, "queue{q=\"b\"} 6");
    free(text);
    /* Read at scrape time, not when set. */
    int before = calls;
    value = 7;
    text = scrape(reg);
    CHECK_LINE(text, "queue{q=\"a\"} 7");
    free(text);
    CHECK_INT(calls, before + 1);

    /* Replace the callback, then clear it: the stored value is back. */
    double other_value = 100;
    CHECK_INT(vt_gauge_set_callback(s, read_double, &other_value), 0);
    CHECK_DBL(sample(reg, "queue", VT_LABELS("q"), VT_VALUES("a")), 100);
    CHECK_INT(vt_gauge_set_callback(s, NULL, NULL), 0);
    before = calls;
    CHECK_DBL(sample(reg, "queue", VT_LABELS("q"), VT_VALUES("a")), 5);
    CHECK_INT(calls, before);
    vt_gauge_inc(s);
    CHECK_DBL(sample(reg, "queue", VT_LABELS("q"), VT_VALUES("a")), 6);
    CHECK_INT(vt_gauge_set_callback(NULL, read_double, &value), VT_EINVAL);
    CHECK_DBL(errors_of_kind(reg, "callback_value"), 0);
    vt_registry_destroy(reg);
}

static void test_counter_callback(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "bytes", "h", NULL, &c), 0);
    vt_counter_series_t *s;
    CHECK_INT(vt_counter_with(c, NULL, &s), 0);
    vt_counter_add_u64(s, 10);
    double value = 1234.5;
    CHECK_INT(vt_counter_set_callback(s, read_double, &value), 0);
    char *text = scrape(reg);
    CHECK_LINE(text, "bytes_total 1234.5");
    free(text);
    CHECK_DBL(sample(reg, "bytes_total", NULL, NULL), 1234.5);
    CHECK_DBL(errors_of_kind(reg, "callback_value"), 0);

    /* A negative value: exposed as 0, counted once per scrape. */
    value = -1;
    text = scrape(reg);
    CHECK_LINE(text, "bytes_total 0");
    CHECK_LINE(text, "vitals_errors_total{kind=\"callback_value\"} 1");
    free(text);
    value = NAN;
    text = scrape(reg);
    CHECK_LINE(text, "bytes_total 0");
    CHECK_LINE(text, "vitals_errors_total{kind=\"callback_value\"} 2");
    free(text);
    CHECK_DBL(errors_of_kind(reg, "negative_counter_add"), 0);
    CHECK_DBL(errors_of_kind(reg, "nan_value"), 0);

    /* Cleared: the stored count again, which kept its value. */
    CHECK_INT(vt_counter_set_callback(s, NULL, NULL), 0);
    CHECK_DBL(sample(reg, "bytes_total", NULL, NULL), 10);
    vt_counter_inc(s);
    text = scrape(reg);
    CHECK_LINE(text, "bytes_total 11");
    free(text);
    CHECK_INT(vt_counter_set_callback(NULL, read_double, &value), VT_EINVAL);
    vt_registry_destroy(reg);
}

static void test_callback_on_removed_series(void) {
    /* A removed series' callback is never called again. */
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "cb", "h", VT_LABELS("k"), &g), 0);
    vt_gauge_series_t *s;
    CHECK_INT(vt_gauge_with(g, VT_VALUES("a"), &s), 0);
    double value = 1;
    CHECK_INT(vt_gauge_set_callback(s, read_double, &value), 0);
    CHECK_INT(vt_family_remove(vt_gauge_family(g), VT_VALUES("a")), 0);
    calls = 0;
    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "cb{");
    free(text);
    CHECK_INT(calls, 0);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_gauge_callback);
    RUN(test_counter_callback);
    RUN(test_callback_on_removed_series);
    TEST_EXIT();
}
