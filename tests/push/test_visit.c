/* test_visit.c - vt_registry_visit(): every type, unescaped labels, const
 * labels, histogram bounds, collectors, self-metrics, stopping, bad input.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "vitals.h"
#include "vitals/visit.h"

typedef struct seen {
    char names[32][64];
    vt_type_t types[32];
    size_t series[32];
    int n;
    int stop_after; /* return 7 from this family on, when > 0 */
} seen_t;

static int record(const vt_sample_family_t *f, void *ud) {
    seen_t *s = ud;
    if (s->n < 32) {
        snprintf(s->names[s->n], sizeof s->names[0], "%s", f->name);
        s->types[s->n] = f->type;
        s->series[s->n] = f->series_count;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

static const vt_sample_series_t *find_label(const vt_sample_family_t *f, const char *name,
                                            const char *value) {
    for (size_t i = 0; i < f->series_count; i++)
        for (size_t k = 0; k < f->series[i].label_count; k++)
            if (!strcmp(f->series[i].label_names[k], name) &&
                !strcmp(f->series[i].label_values[k], value))
                return &f->series[i];
    return NULL;
}

static int checks(const vt_sample_family_t *f, void *ud) {
    int *families = ud;
    (*families)++;
    if (!strcmp(f->name, "http_requests")) {
        CHECK_INT(f->type, VT_COUNTER);
        CHECK_STR(f->help, "Requests.");
        CHECK(f->unit == NULL);
        CHECK_INT(f->series_count, 2);
        const vt_sample_series_t *s = find_label(f, "path", "/a \"q\" \\ \nx");
        CHECK(s != NULL);
        if (s) {
            CHECK_INT(s->label_count, 3);
            CHECK_STR(s->label_names[0], "service");
            CHECK_STR(s->label_values[0], "shop");
            CHECK_STR(s->label_names[1], "method");
            CHECK_STR(s->label_values[1], "GET");
            CHECK_STR(s->label_names[2], "path");
            CHECK_DBL(s->value, 5);
            CHECK(s->buckets == NULL);
        }
        s = find_label(f, "method", "POST");
        CHECK(s != NULL);
        if (s)
            CHECK_DBL(s->value, 0.5);
    } else if (!strcmp(f->name, "queue_depth")) {
        CHECK_INT(f->type, VT_GAUGE);
        CHECK_INT(f->series_count, 1);
        CHECK_INT(f->series[0].label_count, 0);
        CHECK_DBL(f->series[0].value, -2.5);
    } else if (!strcmp(f->name, "latency_seconds")) {
        CHECK_INT(f->type, VT_HISTOGRAM);
        CHECK_STR(f->unit, "seconds");
        CHECK_INT(f->bound_count, 3);
        CHECK_DBL(f->bounds[0], 0.1);
        CHECK_DBL(f->bounds[1], 1);
        CHECK(isinf(f->bounds[2]) && f->bounds[2] > 0);
        CHECK_INT(f->series_count, 1);
        const vt_sample_series_t *s = &f->series[0];
        CHECK_INT(s->count, 3);
        CHECK_DBL(s->sum, 0.05 + 0.5 + 5);
        CHECK(s->buckets != NULL);
        if (s->buckets) {
            CHECK_INT(s->buckets[0], 1);
            CHECK_INT(s->buckets[1], 2);
            CHECK_INT(s->buckets[2], 3);
        }
    } else if (!strcmp(f->name, "rpc_seconds")) {
        CHECK_INT(f->type, VT_SUMMARY);
        CHECK_INT(f->series[0].count, 2);
        CHECK_DBL(f->series[0].sum, 3);
        CHECK(f->bounds == NULL);
    } else if (!strcmp(f->name, "build")) {
        CHECK_INT(f->type, VT_INFO);
        CHECK_DBL(f->series[0].value, 1);
        CHECK(find_label(f, "version", "1.2.3") != NULL);
    } else if (!strcmp(f->name, "collected")) {
        CHECK_INT(f->type, VT_GAUGE);
        CHECK_INT(f->series_count, 2);
        const vt_sample_series_t *s = find_label(f, "slot", "b,\"c\"");
        CHECK(s != NULL);
        if (s)
            CHECK_DBL(s->value, 42);
    }
    return 0;
}

static int collect(vt_emitter_t *e, void *ud) {
    (void)ud;
    vt_emit_family(e, VT_GAUGE, "collected", "From a collector.", NULL, VT_LABELS("slot"));
    vt_emit_value(e, VT_VALUES("a"), 1);
    vt_emit_value(e, VT_VALUES("b,\"c\""), 42);
    return 0;
}

static vt_registry_t *build(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "http_requests";
    o.help = "Requests.";
    o.label_names = VT_LABELS("method", "path");
    o.const_labels = VT_LABELS("service", "shop");
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_counter_series_t *s1, *s2;
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "/a \"q\" \\ \nx"), &s1), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("POST", "/b"), &s2), 0);
    vt_counter_add(s1, 5);
    vt_counter_add(s2, 0.5);

    vt_gauge_t *g;
    vt_gauge_series_t *gs;
    CHECK_INT(vt_gauge_create(reg, "queue_depth", "Depth.", NULL, &g), 0);
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
    vt_gauge_set(gs, -2.5);

    vt_metric_opts_init(&o);
    o.name = "latency_seconds";
    o.help = "Latency.";
    o.unit = "seconds";
    o.buckets = (const double[]){0.1, 1};
    o.bucket_count = 2;
    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    vt_histogram_observe(hs, 0.05);
    vt_histogram_observe(hs, 0.5);
    vt_histogram_observe(hs, 5);

    vt_summary_t *sm;
    vt_summary_series_t *ss;
    CHECK_INT(vt_summary_create(reg, "rpc_seconds", "RPC.", NULL, &sm), 0);
    CHECK_INT(vt_summary_with(sm, NULL, &ss), 0);
    vt_summary_observe(ss, 1);
    vt_summary_observe(ss, 2);

    vt_info_t *info;
    CHECK_INT(
        vt_info_create(reg, "build", "Build.", VT_LABELS("version"), VT_VALUES("1.2.3"), &info), 0);
    CHECK_INT(vt_registry_add_collector(reg, VT_LABELS("collected"), collect, NULL, NULL, NULL), 0);
    return reg;
}

static void test_values(void) {
    vt_registry_t *reg = build();
    int families = 0;
    CHECK_INT(vt_registry_visit(reg, checks, &families), 0);
    CHECK(families >= 6);
    vt_registry_destroy(reg);
}

static void test_order_and_self_metrics(void) {
    vt_registry_t *reg = build();
    seen_t s;
    memset(&s, 0, sizeof s);
    CHECK_INT(vt_registry_visit(reg, record, &s), 0);
    CHECK(s.n >= 7);
    CHECK_STR(s.names[0], "http_requests");
    CHECK_STR(s.names[5], "collected");
    CHECK_STR(s.names[6], "vitals_errors");
    CHECK_INT(s.types[6], VT_COUNTER);

    vt_registry_set_self_metrics(reg, 0);
    memset(&s, 0, sizeof s);
    CHECK_INT(vt_registry_visit(reg, record, &s), 0);
    CHECK_INT(s.n, 6);
    vt_registry_destroy(reg);
}

static void test_stop_and_errors(void) {
    vt_registry_t *reg = build();
    seen_t s;
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    CHECK_INT(vt_registry_visit(reg, record, &s), 7);
    CHECK_INT(s.n, 2);
    CHECK_INT(vt_registry_visit(NULL, record, &s), VT_EINVAL);
    CHECK_INT(vt_registry_visit(reg, NULL, &s), VT_EINVAL);
    vt_registry_destroy(reg);

    /* An empty registry without self-metrics visits nothing. */
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    memset(&s, 0, sizeof s);
    CHECK_INT(vt_registry_visit(reg, record, &s), 0);
    CHECK_INT(s.n, 0);
    /* A family with no series yet is still visited. */
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "idle", "Idle.", VT_LABELS("x"), &c), 0);
    CHECK_INT(vt_registry_visit(reg, record, &s), 0);
    CHECK_INT(s.n, 1);
    CHECK_INT(s.series[0], 0);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_values);
    RUN(test_order_and_self_metrics);
    RUN(test_stop_and_errors);
    TEST_EXIT();
}
