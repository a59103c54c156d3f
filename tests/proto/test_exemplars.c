/* test_exemplars.c - exemplars through vt_registry_visit() and the protobuf
 * writer: a counter's in Counter.exemplar, each classic bucket's in its
 * Bucket.exemplar, the +Inf bucket's in an explicit +Inf bucket, and a native
 * histogram's also in Histogram.exemplars; labels unescaped, value and
 * timestamp as recorded, and the same exemplars an OpenMetrics scrape shows.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "pb_stream.h"
#include "vitals.h"
#include "vitals/proto.h"
#include "vitals/visit.h"

typedef Io__Prometheus__Client__Exemplar pb_exemplar_t;

static double now_unix(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double ts_seconds(const Google__Protobuf__Timestamp *ts) {
    return (double)ts->seconds + (double)ts->nanos / 1e9;
}

/* One exemplar as recorded by the test: labels, value, and the wall-clock
 * window around the call that recorded it. */
typedef struct want {
    const char *trace, *span; /* span NULL: one label */
    double value, t0, t1;
} want_t;

static void check_pb_exemplar(const pb_exemplar_t *x, const want_t *w) {
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK_INT(x->n_label, w->span ? 2 : 1);
    CHECK_STR(x->label[0]->name, "trace_id");
    CHECK_STR(x->label[0]->value, w->trace);
    if (w->span && x->n_label == 2) {
        CHECK_STR(x->label[1]->name, "span_id");
        CHECK_STR(x->label[1]->value, w->span);
    }
    CHECK(x->has_value);
    CHECK_DBL(x->value, w->value);
    CHECK(x->timestamp != NULL);
    if (x->timestamp) {
        double t = ts_seconds(x->timestamp);
        CHECK(t >= w->t0 - 1e-6 && t <= w->t1 + 1e-6);
    }
}

static void check_visit_exemplar(const vt_sample_exemplar_t *x, const want_t *w) {
    CHECK_INT(x->label_count, w->span ? 2 : 1);
    if (x->label_count < 1)
        return;
    CHECK_STR(x->label_names[0], "trace_id");
    CHECK_STR(x->label_values[0], w->trace);
    if (w->span && x->label_count == 2) {
        CHECK_STR(x->label_names[1], "span_id");
        CHECK_STR(x->label_values[1], w->span);
    }
    CHECK_DBL(x->value, w->value);
    CHECK(x->timestamp >= w->t0 - 1e-6 && x->timestamp <= w->t1 + 1e-6);
}

static int counter_ex(vt_counter_series_t *s, double v, const char *trace, const char *span,
                      want_t *w) {
    w->trace = trace;
    w->span = span;
    w->value = v;
    w->t0 = now_unix();
    int rc = span ? vt_counter_add_exemplar(s, v, VT_LABELS("trace_id", "span_id"),
                                            VT_VALUES(trace, span))
                  : vt_counter_add_exemplar(s, v, VT_LABELS("trace_id"), VT_VALUES(trace));
    w->t1 = now_unix();
    return rc;
}

static int hist_ex(vt_histogram_series_t *s, double v, const char *trace, want_t *w) {
    w->trace = trace;
    w->span = NULL;
    w->value = v;
    w->t0 = now_unix();
    int rc = vt_histogram_observe_exemplar(s, v, VT_LABELS("trace_id"), VT_VALUES(trace));
    w->t1 = now_unix();
    return rc;
}

/* What the test recorded. */
static want_t w_counter, w_b0, w_b2, w_inf, w_native[3];
static const double bounds[] = {0.1, 1, 10};

static void build(vt_registry_t *reg) {
    vt_counter_t *c;
    vt_counter_series_t *cs;
    CHECK_INT(vt_counter_create(reg, "orders", "Orders.", VT_LABELS("shop"), &c), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("north"), &cs), 0);
    CHECK_INT(counter_ex(cs, 1, "older", NULL, &w_counter), 0);
    /* The latest replaces it; escaped characters and UTF-8 come back as is. */
    CHECK_INT(counter_ex(cs, 2.5, "a\"b\\c\nd", "caf\xc3\xa9", &w_counter), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("south"), &cs), 0);
    vt_counter_add(cs, 3); /* no exemplar */

    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    CHECK_INT(
        vt_histogram_create(reg, "lat_seconds", "Latency.", VT_LABELS("route"), bounds, 3, &h), 0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("/a"), &hs), 0);
    CHECK_INT(hist_ex(hs, 0.05, "t-b0", &w_b0), 0);
    vt_histogram_observe(hs, 0.5); /* bucket 1: a count, no exemplar */
    CHECK_INT(hist_ex(hs, 7, "t-b2", &w_b2), 0);
    CHECK_INT(hist_ex(hs, 42, "t-inf", &w_inf), 0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("/plain"), &hs), 0);
    vt_histogram_observe(hs, 0.5);

    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "native_seconds";
    o.help = "Native only.";
    o.native_bucket_factor = 1.1;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    vt_histogram_observe(hs, 0.25);
    CHECK_INT(hist_ex(hs, 0.003, "t-native", &w_native[0]), 0);

    vt_metric_opts_init(&o);
    o.name = "both_seconds";
    o.help = "Native and classic.";
    o.buckets = bounds;
    o.bucket_count = 3;
    o.native_bucket_factor = 2;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    CHECK_INT(hist_ex(hs, 0.5, "t-both-1", &w_native[1]), 0);
    CHECK_INT(hist_ex(hs, 100, "t-both-inf", &w_native[2]), 0);
}

/* ---- through vt_registry_visit() ---------------------------------------- */

static const vt_sample_series_t *find_series(const vt_sample_family_t *f, const char *value) {
    for (size_t i = 0; i < f->series_count; i++) {
        const vt_sample_series_t *s = &f->series[i];
        if (!value && s->label_count == 0)
            return s;
        for (size_t l = 0; value && l < s->label_count; l++)
            if (strcmp(s->label_values[l], value) == 0)
                return s;
    }
    return NULL;
}

static int seen_families;

static int visit_check(const vt_sample_family_t *f, void *ud) {
    (void)ud;
    const vt_sample_series_t *s;
    if (strcmp(f->name, "orders") == 0) {
        seen_families++;
        s = find_series(f, "north");
        CHECK(s && s->exemplar_count == 1);
        if (s && s->exemplar_count == 1)
            check_visit_exemplar(&s->exemplars[0], &w_counter);
        s = find_series(f, "south");
        CHECK(s && s->exemplar_count == 0 && s->exemplars == NULL);
    } else if (strcmp(f->name, "lat_seconds") == 0) {
        seen_families++;
        s = find_series(f, "/a");
        CHECK(s && s->exemplar_count == 4);
        if (s && s->exemplar_count == 4) {
            check_visit_exemplar(&s->exemplars[0], &w_b0);
            CHECK_INT(s->exemplars[1].label_count, 0);
            CHECK(s->exemplars[1].label_names == NULL);
            check_visit_exemplar(&s->exemplars[2], &w_b2);
            check_visit_exemplar(&s->exemplars[3], &w_inf);
        }
        s = find_series(f, "/plain");
        CHECK(s && s->exemplar_count == 0);
    } else if (strcmp(f->name, "native_seconds") == 0) {
        seen_families++;
        s = find_series(f, NULL);
        CHECK(s && s->has_native && s->exemplar_count == 1);
        if (s && s->exemplar_count == 1)
            check_visit_exemplar(&s->exemplars[0], &w_native[0]);
    }
    return 0;
}

static void test_visit(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    build(reg);
    seen_families = 0;
    CHECK_INT(vt_registry_visit(reg, visit_check, NULL), 0);
    CHECK_INT(seen_families, 3);
    vt_registry_destroy(reg);
}

/* ---- through the protobuf writer ----------------------------------------- */

static void test_protobuf(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    build(reg);
    pb_out_t out;
    pb_stream_t st;
    CHECK_INT(pb_scrape(reg, &out, &st), 0);

    const pb_family_t *f = pb_find(&st, "orders_total");
    CHECK(f != NULL);
    if (f) {
        const pb_metric_t *m = pb_find_metric(f, "shop", "north");
        CHECK(m && m->counter);
        if (m && m->counter)
            check_pb_exemplar(m->counter->exemplar, &w_counter);
        m = pb_find_metric(f, "shop", "south");
        CHECK(m && m->counter && m->counter->exemplar == NULL);
    }

    f = pb_find(&st, "lat_seconds");
    CHECK(f != NULL);
    if (f) {
        const pb_metric_t *m = pb_find_metric(f, "route", "/a");
        CHECK(m && m->histogram);
        if (m && m->histogram) {
            const Io__Prometheus__Client__Histogram *h = m->histogram;
            /* Three finite buckets plus the explicit +Inf one for its exemplar. */
            CHECK_INT(h->n_bucket, 4);
            CHECK_INT(h->sample_count, 4);
            if (h->n_bucket == 4) {
                check_pb_exemplar(h->bucket[0]->exemplar, &w_b0);
                CHECK(h->bucket[1]->exemplar == NULL);
                check_pb_exemplar(h->bucket[2]->exemplar, &w_b2);
                CHECK(isinf(h->bucket[3]->upper_bound) && h->bucket[3]->upper_bound > 0);
                CHECK_INT(h->bucket[3]->cumulative_count, 4);
                check_pb_exemplar(h->bucket[3]->exemplar, &w_inf);
                CHECK_INT(h->bucket[2]->cumulative_count, 3);
            }
            CHECK_INT(h->n_exemplars, 0); /* classic only */
        }
        m = pb_find_metric(f, "route", "/plain");
        CHECK(m && m->histogram && m->histogram->n_bucket == 3);
        for (size_t b = 0; m && m->histogram && b < m->histogram->n_bucket; b++)
            CHECK(m->histogram->bucket[b]->exemplar == NULL);
    }

    f = pb_find(&st, "native_seconds");
    CHECK(f && f->n_metric == 1);
    if (f && f->n_metric == 1) {
        const Io__Prometheus__Client__Histogram *h = f->metric[0]->histogram;
        CHECK(h != NULL);
        if (h) {
            CHECK_INT(h->sample_count, 2);
            CHECK_INT(h->n_exemplars, 1);
            if (h->n_exemplars == 1)
                check_pb_exemplar(h->exemplars[0], &w_native[0]);
            /* Its only exemplar is the +Inf bucket's, so that bucket is sent. */
            CHECK_INT(h->n_bucket, 1);
            if (h->n_bucket == 1) {
                CHECK(isinf(h->bucket[0]->upper_bound));
                CHECK_INT(h->bucket[0]->cumulative_count, 2);
                check_pb_exemplar(h->bucket[0]->exemplar, &w_native[0]);
            }
        }
    }

    f = pb_find(&st, "both_seconds");
    CHECK(f && f->n_metric == 1);
    if (f && f->n_metric == 1) {
        const Io__Prometheus__Client__Histogram *h = f->metric[0]->histogram;
        CHECK(h && h->n_exemplars == 2 && h->n_bucket == 4);
        if (h && h->n_exemplars == 2 && h->n_bucket == 4) {
            check_pb_exemplar(h->exemplars[0], &w_native[1]);
            check_pb_exemplar(h->exemplars[1], &w_native[2]);
            check_pb_exemplar(h->bucket[1]->exemplar, &w_native[1]);
            check_pb_exemplar(h->bucket[3]->exemplar, &w_native[2]);
            CHECK(h->bucket[0]->exemplar == NULL && h->bucket[2]->exemplar == NULL);
        }
    }
    pb_stream_free(&st);
    pb_out_free(&out);
    vt_registry_destroy(reg);
}

/* ---- the same exemplars as OpenMetrics ---------------------------------- */

typedef struct text {
    char *p;
    size_t len;
} text_t;

static int text_sink(void *ud, const char *data, size_t len) {
    text_t *t = ud;
    char *p = realloc(t->p, t->len + len + 1);
    if (!p)
        return -1;
    memcpy(p + t->len, data, len);
    t->p = p;
    t->len += len;
    p[t->len] = '\0';
    return 0;
}

static size_t count_of(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static int count_visit(const vt_sample_family_t *f, void *ud) {
    size_t *n = ud;
    for (size_t i = 0; i < f->series_count; i++)
        for (size_t e = 0; e < f->series[i].exemplar_count; e++)
            *n += f->series[i].exemplars[e].label_count > 0;
    return 0;
}

static void test_same_as_openmetrics(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    build(reg);
    vt_write_opts_t wo;
    vt_write_opts_init(&wo);
    wo.format = VT_FORMAT_OPENMETRICS;
    text_t t = {0};
    CHECK_INT(vt_registry_write(reg, &wo, text_sink, &t), 0);
    CHECK(t.p != NULL);
    size_t in_text = t.p ? count_of(t.p, " # {") : 0;

    pb_out_t out;
    pb_stream_t st;
    CHECK_INT(pb_scrape(reg, &out, &st), 0);
    size_t in_pb = 0;
    for (size_t i = 0; i < st.n; i++)
        for (size_t k = 0; k < st.fam[i]->n_metric; k++) {
            const pb_metric_t *m = st.fam[i]->metric[k];
            in_pb += m->counter && m->counter->exemplar;
            for (size_t b = 0; m->histogram && b < m->histogram->n_bucket; b++)
                in_pb += m->histogram->bucket[b]->exemplar != NULL;
        }
    size_t in_visit = 0;
    CHECK_INT(vt_registry_visit(reg, count_visit, &in_visit), 0);
    CHECK_INT(in_text, 7);
    CHECK_INT(in_pb, in_text);
    CHECK_INT(in_visit, in_text);
    if (t.p) {
        CHECK_CONTAINS(t.p, "trace_id=\"t-inf\"");
        CHECK_CONTAINS(t.p, "trace_id=\"t-native\"");
    }
    free(t.p);
    pb_stream_free(&st);
    pb_out_free(&out);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_visit);
    RUN(test_protobuf);
    RUN(test_same_as_openmetrics);
    TEST_EXIT();
}
