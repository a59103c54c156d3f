/* test_roundtrip.c - every family type written by vt_proto_write() and read
 * back with protobuf-c's generated decoder: names as Prometheus names them,
 * types, HELP and unit, labels (unescaped, UTF-8, const labels first),
 * values, summary quantiles, cumulative histogram buckets without +Inf,
 * native histogram buckets (schema, zero bucket, spans and deltas), created
 * timestamps, no sample timestamps; compared both with the values the test
 * recorded and, series by series, with what vt_registry_visit() reports.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "pb_stream.h"
#include "vitals.h"
#include "vitals/proto.h"
#include "vitals/visit.h"

/* ---- comparing the decoded stream with a visit -------------------------- */

/* One side of a native histogram decoded from spans and deltas: the
 * populated buckets (count > 0) in increasing index order. Returns how many,
 * or -1 when spans and deltas disagree or a count goes negative. */
static long decode_side(Io__Prometheus__Client__BucketSpan **spans, size_t nspans,
                        const int64_t *deltas, size_t ndeltas, vt_native_bucket_t *out,
                        size_t cap) {
    long n = 0;
    size_t d = 0;
    int64_t idx = 0, count = 0;
    for (size_t k = 0; k < nspans; k++) {
        idx += spans[k]->offset;
        for (uint32_t j = 0; j < spans[k]->length; j++, idx++) {
            if (d >= ndeltas)
                return -1;
            count += deltas[d++];
            if (count < 0)
                return -1;
            if (count > 0) {
                if ((size_t)n >= cap)
                    return -1;
                out[n].index = (int32_t)idx;
                out[n].count = (uint64_t)count;
                n++;
            }
        }
    }
    return d == ndeltas ? n : -1;
}

static void compare_native(const vt_sample_series_t *s,
                           const Io__Prometheus__Client__Histogram *h) {
    CHECK(h->has_schema && h->has_zero_threshold && h->has_zero_count);
    CHECK_INT(h->schema, s->native_schema);
    CHECK_DBL(h->zero_threshold, s->native_zero_threshold);
    CHECK_INT(h->zero_count, s->native_zero_count);
    CHECK_INT(h->n_positive_count + h->n_negative_count, 0); /* deltas, never float counts */
    vt_native_bucket_t got[512];
    long n = decode_side(h->positive_span, h->n_positive_span, h->positive_delta,
                         h->n_positive_delta, got, 512);
    CHECK_INT(n, s->native_positive_count);
    for (long k = 0; k < n && (size_t)k < s->native_positive_count; k++) {
        CHECK_INT(got[k].index, s->native_positive[k].index);
        CHECK_INT(got[k].count, s->native_positive[k].count);
    }
    n = decode_side(h->negative_span, h->n_negative_span, h->negative_delta, h->n_negative_delta,
                    got, 512);
    CHECK_INT(n, s->native_negative_count);
    for (long k = 0; k < n && (size_t)k < s->native_negative_count; k++) {
        CHECK_INT(got[k].index, s->native_negative[k].index);
        CHECK_INT(got[k].count, s->native_negative[k].count);
    }
    /* Without any bucket, the no-op span marks the histogram as native. */
    if (s->native_positive_count + s->native_negative_count == 0) {
        CHECK_INT(h->n_positive_span, 1);
        if (h->n_positive_span == 1)
            CHECK(h->positive_span[0]->offset == 0 && h->positive_span[0]->length == 0);
    }
}

typedef struct compare {
    const pb_stream_t *stream;
    size_t next; /* index of the message the next non-empty family must be */
    size_t families;
} compare_t;

static void check_created(const Google__Protobuf__Timestamp *ts, double created) {
    if (isnan(created)) {
        CHECK(ts == NULL);
        return;
    }
    CHECK(ts != NULL);
    if (!ts)
        return;
    double back = (double)ts->seconds + (double)ts->nanos / 1e9;
    CHECK(ts->nanos >= 0 && ts->nanos < 1000000000);
    CHECK(fabs(back - created) < 1e-6);
}

static void compare_series(const vt_sample_family_t *f, const vt_sample_series_t *s,
                           const pb_metric_t *m) {
    CHECK_INT(m->n_label, s->label_count);
    for (size_t l = 0; l < m->n_label && l < s->label_count; l++) {
        CHECK_STR(m->label[l]->name, s->label_names[l]);
        CHECK_STR(m->label[l]->value, s->label_values[l]);
    }
    CHECK(!m->has_timestamp_ms);
    int set = !!m->counter + !!m->gauge + !!m->untyped + !!m->summary + !!m->histogram;
    CHECK_INT(set, 1);
    switch (f->type) {
    case VT_COUNTER:
        CHECK(m->counter && m->counter->has_value);
        if (m->counter) {
            CHECK_DBL(m->counter->value, s->value);
            check_created(m->counter->created_timestamp, s->created);
            CHECK(m->counter->exemplar == NULL);
        }
        break;
    case VT_GAUGE:
    case VT_INFO:
        CHECK(m->gauge && m->gauge->has_value);
        if (m->gauge)
            CHECK_DBL(m->gauge->value, f->type == VT_INFO ? 1.0 : s->value);
        break;
    case VT_UNTYPED:
        CHECK(m->untyped && m->untyped->has_value);
        if (m->untyped)
            CHECK_DBL(m->untyped->value, s->value);
        break;
    case VT_SUMMARY:
        CHECK(m->summary != NULL);
        if (!m->summary)
            break;
        CHECK_INT(m->summary->sample_count, s->count);
        CHECK_DBL(m->summary->sample_sum, s->sum);
        CHECK_INT(m->summary->n_quantile, s->quantile_count);
        for (size_t q = 0; q < m->summary->n_quantile && q < s->quantile_count; q++) {
            CHECK_DBL(m->summary->quantile[q]->quantile, s->quantiles[q]);
            CHECK_DBL(m->summary->quantile[q]->value, s->quantile_values[q]);
        }
        check_created(m->summary->created_timestamp, s->created);
        break;
    case VT_HISTOGRAM: {
        const Io__Prometheus__Client__Histogram *h = m->histogram;
        CHECK(h != NULL);
        if (!h)
            break;
        CHECK(h->has_sample_count && h->has_sample_sum);
        CHECK_INT(h->sample_count, s->count);
        CHECK_DBL(h->sample_sum, s->sum);
        /* Every finite bound, never +Inf: readers add it from sample_count. */
        CHECK_INT(h->n_bucket, f->bound_count ? f->bound_count - 1 : 0);
        for (size_t b = 0; b < h->n_bucket && b + 1 < f->bound_count; b++) {
            CHECK_DBL(h->bucket[b]->upper_bound, f->bounds[b]);
            CHECK_INT(h->bucket[b]->cumulative_count, s->buckets[b]);
            CHECK(isfinite(h->bucket[b]->upper_bound));
        }
        CHECK(!h->has_sample_count_float);
        check_created(h->created_timestamp, s->created);
        if (s->has_native)
            compare_native(s, h);
        else
            CHECK(!h->has_schema && h->n_positive_span == 0 && h->n_negative_span == 0);
        break;
    }
    }
}

static int compare_family(const vt_sample_family_t *f, void *ud) {
    compare_t *c = ud;
    char name[256];
    const char *suffix = f->type == VT_COUNTER ? "_total" : f->type == VT_INFO ? "_info" : "";
    snprintf(name, sizeof(name), "%s%s", f->name, suffix);
    if (f->series_count == 0) {
        CHECK(pb_find(c->stream, name) == NULL);
        return 0;
    }
    c->families++;
    CHECK(c->next < c->stream->n);
    if (c->next >= c->stream->n)
        return 0;
    const pb_family_t *pf = c->stream->fam[c->next++];
    CHECK_STR(pf->name, name);
    CHECK_STR(pf->help, f->help);
    if (f->unit)
        CHECK_STR(pf->unit, f->unit);
    else
        CHECK(pf->unit == NULL);
    CHECK(pf->has_type);
    int want = f->type == VT_COUNTER     ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER
               : f->type == VT_HISTOGRAM ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM
               : f->type == VT_SUMMARY   ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY
               : f->type == VT_UNTYPED   ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED
                                         : IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
    CHECK_INT(pf->type, want);
    CHECK_INT(pf->n_metric, f->series_count);
    for (size_t i = 0; i < pf->n_metric && i < f->series_count; i++)
        compare_series(f, &f->series[i], pf->metric[i]);
    return 0;
}

/* Decode a scrape of reg and compare it with a visit; *out keeps the stream. */
static void scrape_and_compare(vt_registry_t *reg, pb_stream_t *out) {
    pb_out_t o;
    CHECK_INT(pb_scrape(reg, &o, out), 0);
    compare_t c = {.stream = out};
    CHECK_INT(vt_registry_visit(reg ? reg : vt_registry_default(), compare_family, &c), 0);
    CHECK_INT(c.next, out->n); /* nothing beyond the visited families */
    CHECK(c.families > 0);
    pb_out_free(&o);
}

/* ---- the registry ------------------------------------------------------- */

static const double bounds[] = {0.1, 0.5, 1, 5};

/* In bucket i of schema 3 (values in (2^((i-1)/8), 2^(i/8)]): 2^((i-0.5)/8). */
#define AT(i) pow(2, ((i)-0.5) / 8)
/* Positive buckets 0 (twice), 1, 3, 6 and 10: gaps of 1, 2 and 3 empty
 * buckets; negative buckets 2 and 5; two zeros (0 and a value below the
 * zero threshold). */
static double native_values[11];
static void init_native_values(void) {
    const double v[11] = {AT(0),  AT(0),  AT(1), AT(3), AT(6), AT(10),
                          -AT(2), -AT(5), 0,     1e-30, AT(6)};
    memcpy(native_values, v, sizeof(v));
}

static int collect(vt_emitter_t *e, void *ud) {
    (void)ud;
    vt_emit_family(e, VT_UNTYPED, "legacy_value", "Untyped from a collector.", NULL,
                   VT_LABELS("slot"));
    vt_emit_value(e, VT_VALUES("a"), 7.25);
    vt_emit_value(e, VT_VALUES("b"), -3);
    const uint64_t cum[] = {1, 2, 2};
    const double cb[] = {1, 2, 4};
    vt_emit_family(e, VT_HISTOGRAM, "collected_histogram", "Histogram from a collector.", NULL,
                   NULL);
    vt_emit_histogram(e, NULL, cb, cum, 3, 4, 11.5);
    return 0;
}

static void build(vt_registry_t *reg) {
    vt_metric_opts_t o;
    init_native_values();

    vt_metric_opts_init(&o);
    o.name = "http_requests";
    o.help = "Requests, with a \\ backslash\nand a newline.";
    o.label_names = VT_LABELS("method", "path");
    o.const_labels = VT_LABELS("service", "shop");
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_counter_series_t *cs;
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "/a \"q\" \\ \nx"), &cs), 0);
    vt_counter_add(cs, 5);
    CHECK_INT(vt_counter_with(c, VT_VALUES("POST", "/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac"), &cs),
              0);
    vt_counter_add(cs, 2.5);

    vt_metric_opts_init(&o);
    o.name = "job_duration_seconds";
    o.help = "Time spent in jobs.";
    o.unit = "seconds";
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    CHECK_INT(vt_counter_with(c, NULL, &cs), 0);
    vt_counter_add(cs, 0.125);

    vt_gauge_t *g;
    vt_gauge_series_t *gs;
    CHECK_INT(vt_gauge_create(reg, "temperature", "", VT_LABELS("room"), &g), 0);
    const char *rooms[] = {"nan", "inf", "neg_inf", "neg_zero", "neg", "big"};
    const double temps[] = {NAN, INFINITY, -INFINITY, -0.0, -12.5, 1.7976931348623157e308};
    for (size_t i = 0; i < 6; i++) {
        CHECK_INT(vt_gauge_with(g, VT_VALUES(rooms[i]), &gs), 0);
        vt_gauge_set(gs, temps[i]);
    }

    vt_info_t *info;
    CHECK_INT(vt_info_create(reg, "build", "Build.", VT_LABELS("version", "commit"),
                             VT_VALUES("1.2.3", "abc"), &info),
              0);

    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    CHECK_INT(
        vt_histogram_create(reg, "latency_seconds", "Latency.", VT_LABELS("route"), bounds, 4, &h),
        0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("/busy"), &hs), 0);
    const double obs[] = {0.05, 0.1, 0.3, 0.7, 0.9, 2, 4, 10, 100};
    for (size_t i = 0; i < 9; i++)
        vt_histogram_observe(hs, obs[i]);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("/idle"), &hs), 0);

    CHECK_INT(
        vt_histogram_create(reg, "unused_seconds", "No series yet.", VT_LABELS("x"), NULL, 0, &h),
        0);

    vt_metric_opts_init(&o);
    o.name = "rpc_seconds";
    o.help = "RPC latency.";
    static const double qs[] = {0.5, 0.9, 0.99};
    o.quantiles = qs;
    o.quantile_count = 3;
    vt_summary_t *sm;
    vt_summary_series_t *ss;
    CHECK_INT(vt_summary_create_opts(reg, &o, &sm), 0);
    CHECK_INT(vt_summary_with(sm, NULL, &ss), 0);
    for (int i = 1; i <= 100; i++)
        vt_summary_observe(ss, i);

    CHECK_INT(vt_summary_create(reg, "payload_bytes", "Payloads.", VT_LABELS("dir"), &sm), 0);
    CHECK_INT(vt_summary_with(sm, VT_VALUES("in"), &ss), 0);
    vt_summary_observe(ss, 100);
    vt_summary_observe(ss, 300);

    /* Native histograms: schema 3, with classic buckets and without. */
    vt_metric_opts_init(&o);
    o.name = "native_seconds";
    o.help = "Native and classic.";
    o.label_names = VT_LABELS("kind");
    o.buckets = bounds;
    o.bucket_count = 4;
    o.native_bucket_factor = 1.1;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("gaps"), &hs), 0);
    for (size_t i = 0; i < sizeof(native_values) / sizeof(native_values[0]); i++)
        vt_histogram_observe(hs, native_values[i]);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("empty"), &hs), 0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("wide"), &hs), 0);
    for (int i = -300; i <= 300; i += 7)
        vt_histogram_observe(hs, i == 0 ? 0 : (i < 0 ? -1 : 1) * pow(2, abs(i) / 10.0));

    vt_metric_opts_init(&o);
    o.name = "native_only_seconds";
    o.help = "Native buckets only.";
    o.native_bucket_factor = 2;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    vt_histogram_observe(hs, 3);
    vt_histogram_observe(hs, 0.001);

    CHECK_INT(vt_registry_add_collector(reg, NULL, collect, NULL, NULL, NULL), 0);
}

/* ---- tests -------------------------------------------------------------- */

static void test_matches_visit(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    build(reg);
    pb_stream_t s;
    scrape_and_compare(reg, &s);
    pb_stream_free(&s);
    vt_registry_destroy(reg);
}

static void test_recorded_values(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    build(reg);
    time_t before = time(NULL);
    pb_out_t o;
    pb_stream_t s;
    CHECK_INT(pb_scrape(reg, &o, &s), 0);

    /* Counter: the _total name, HELP raw (no text escaping), labels unescaped. */
    const pb_family_t *f = pb_find(&s, "http_requests_total");
    CHECK(f != NULL);
    CHECK(pb_find(&s, "http_requests") == NULL);
    if (f) {
        CHECK_INT(f->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER);
        CHECK_STR(f->help, "Requests, with a \\ backslash\nand a newline.");
        CHECK_INT(f->n_metric, 2);
        const pb_metric_t *m = pb_find_metric(f, "path", "/a \"q\" \\ \nx");
        CHECK(m != NULL);
        if (m) {
            CHECK_INT(m->n_label, 3);
            CHECK_STR(m->label[0]->name, "service");
            CHECK_STR(m->label[0]->value, "shop");
            CHECK_STR(pb_label(m, "method"), "GET");
            CHECK_DBL(m->counter->value, 5);
            /* The series started during this test. */
            CHECK(m->counter->created_timestamp != NULL);
            if (m->counter->created_timestamp) {
                CHECK(m->counter->created_timestamp->seconds <= (int64_t)before);
                CHECK(m->counter->created_timestamp->seconds >= (int64_t)before - 60);
            }
        }
        m = pb_find_metric(f, "path", "/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac");
        CHECK(m != NULL);
        if (m)
            CHECK_DBL(m->counter->value, 2.5);
    }
    f = pb_find(&s, "job_duration_seconds_total");
    CHECK(f != NULL);
    if (f) {
        CHECK_STR(f->unit, "seconds");
        CHECK_INT(f->n_metric, 1);
        CHECK_INT(f->metric[0]->n_label, 0);
        CHECK_DBL(f->metric[0]->counter->value, 0.125);
    }

    /* Gauge: special values survive as doubles; empty HELP is present. */
    f = pb_find(&s, "temperature");
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE);
        CHECK_STR(f->help, "");
        CHECK(f->unit == NULL);
        const pb_metric_t *m = pb_find_metric(f, "room", "nan");
        CHECK(m && m->gauge && isnan(m->gauge->value));
        m = pb_find_metric(f, "room", "inf");
        CHECK(m && m->gauge && isinf(m->gauge->value) && m->gauge->value > 0);
        m = pb_find_metric(f, "room", "neg_inf");
        CHECK(m && m->gauge && isinf(m->gauge->value) && m->gauge->value < 0);
        m = pb_find_metric(f, "room", "neg_zero");
        CHECK(m && m->gauge && m->gauge->value == 0 && signbit(m->gauge->value));
        m = pb_find_metric(f, "room", "neg");
        CHECK(m && m->gauge && m->gauge->value == -12.5);
        m = pb_find_metric(f, "room", "big");
        CHECK(m && m->gauge && m->gauge->value == 1.7976931348623157e308);
    }

    /* Info: a gauge named <name>_info with value 1. */
    f = pb_find(&s, "build_info");
    CHECK(f != NULL);
    CHECK(pb_find(&s, "build") == NULL);
    if (f) {
        CHECK_INT(f->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE);
        CHECK_INT(f->n_metric, 1);
        CHECK_STR(pb_label(f->metric[0], "version"), "1.2.3");
        CHECK_STR(pb_label(f->metric[0], "commit"), "abc");
        CHECK(f->metric[0]->gauge != NULL);
        if (f->metric[0]->gauge)
            CHECK_DBL(f->metric[0]->gauge->value, 1);
    }

    /* Classic histogram: cumulative, +Inf left out, count and sum. */
    f = pb_find(&s, "latency_seconds");
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM);
        const pb_metric_t *m = pb_find_metric(f, "route", "/busy");
        CHECK(m && m->histogram);
        if (m && m->histogram) {
            const Io__Prometheus__Client__Histogram *h = m->histogram;
            CHECK_INT(h->sample_count, 9);
            CHECK_DBL(h->sample_sum, 0.05 + 0.1 + 0.3 + 0.7 + 0.9 + 2 + 4 + 10 + 100);
            CHECK_INT(h->n_bucket, 4);
            const uint64_t want[] = {2, 3, 5, 7};
            for (size_t b = 0; b < h->n_bucket && b < 4; b++) {
                CHECK_DBL(h->bucket[b]->upper_bound, bounds[b]);
                CHECK_INT(h->bucket[b]->cumulative_count, want[b]);
            }
            /* Classic only: nothing that makes a reader take it as native. */
            CHECK(!h->has_schema && !h->has_zero_threshold && !h->has_zero_count);
            CHECK_INT(h->n_positive_span + h->n_negative_span, 0);
        }
        m = pb_find_metric(f, "route", "/idle");
        CHECK(m && m->histogram);
        if (m && m->histogram) {
            CHECK_INT(m->histogram->sample_count, 0);
            CHECK_INT(m->histogram->n_bucket, 4);
            for (size_t b = 0; b < m->histogram->n_bucket; b++)
                CHECK_INT(m->histogram->bucket[b]->cumulative_count, 0);
        }
    }
    /* A family without series is left out. */
    CHECK(pb_find(&s, "unused_seconds") == NULL);

    /* Summaries, with and without quantiles. */
    f = pb_find(&s, "rpc_seconds");
    CHECK(f != NULL);
    if (f && f->n_metric == 1 && f->metric[0]->summary) {
        const Io__Prometheus__Client__Summary *sm = f->metric[0]->summary;
        CHECK_INT(f->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY);
        CHECK_INT(sm->sample_count, 100);
        CHECK_DBL(sm->sample_sum, 5050);
        CHECK_INT(sm->n_quantile, 3);
        const double want_q[] = {0.5, 0.9, 0.99};
        const double exact[] = {50, 90, 99}; /* rank floor(q * 99) of 1..100 */
        for (size_t q = 0; q < sm->n_quantile && q < 3; q++) {
            CHECK_DBL(sm->quantile[q]->quantile, want_q[q]);
            CHECK(fabs(sm->quantile[q]->value - exact[q]) <= 0.011 * exact[q]);
        }
    } else {
        CHECK(0);
    }
    f = pb_find(&s, "payload_bytes");
    CHECK(f && f->n_metric == 1 && f->metric[0]->summary);
    if (f && f->n_metric == 1 && f->metric[0]->summary) {
        CHECK_INT(f->metric[0]->summary->sample_count, 2);
        CHECK_DBL(f->metric[0]->summary->sample_sum, 400);
        CHECK_INT(f->metric[0]->summary->n_quantile, 0);
    }

    /* Collector families: untyped, and a histogram with its own bounds. */
    f = pb_find(&s, "legacy_value");
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED);
        const pb_metric_t *m = pb_find_metric(f, "slot", "b");
        CHECK(m && m->untyped && m->untyped->value == -3);
    }
    f = pb_find(&s, "collected_histogram");
    CHECK(f && f->n_metric == 1 && f->metric[0]->histogram);
    if (f && f->n_metric == 1 && f->metric[0]->histogram) {
        const Io__Prometheus__Client__Histogram *h = f->metric[0]->histogram;
        CHECK_INT(h->sample_count, 4);
        CHECK_DBL(h->sample_sum, 11.5);
        CHECK_INT(h->n_bucket, 3);
        if (h->n_bucket == 3) {
            CHECK_DBL(h->bucket[2]->upper_bound, 4);
            CHECK_INT(h->bucket[2]->cumulative_count, 2);
        }
    }

    /* No sample anywhere carries a timestamp. */
    for (size_t i = 0; i < s.n; i++)
        for (size_t k = 0; k < s.fam[i]->n_metric; k++)
            CHECK(!s.fam[i]->metric[k]->has_timestamp_ms);

    pb_stream_free(&s);
    pb_out_free(&o);
    vt_registry_destroy(reg);
}

/* The exact spans and deltas, as client_golang would write them. */
static void test_native_encoding(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    build(reg);
    pb_out_t o;
    pb_stream_t s;
    CHECK_INT(pb_scrape(reg, &o, &s), 0);
    const pb_family_t *f = pb_find(&s, "native_seconds");
    CHECK(f != NULL);
    if (f)
        CHECK_INT(f->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM);
    const pb_metric_t *m = pb_find_metric(f, "kind", "gaps");
    CHECK(m && m->histogram);
    if (m && m->histogram) {
        const Io__Prometheus__Client__Histogram *h = m->histogram;
        CHECK_INT(h->schema, 3);
        CHECK_INT(h->sample_count, 11);
        CHECK_INT(h->zero_count, 2);
        CHECK_DBL(h->zero_threshold, ldexp(1, -64)); /* the documented default */
        /* Indexes 0 (x2), 1, 3, 6 (x2), 10: the gaps of 1 and 2 are filled
         * with empty buckets, the gap of 3 starts a span. */
        CHECK_INT(h->n_positive_span, 2);
        if (h->n_positive_span == 2) {
            CHECK_INT(h->positive_span[0]->offset, 0);
            CHECK_INT(h->positive_span[0]->length, 7);
            CHECK_INT(h->positive_span[1]->offset, 3);
            CHECK_INT(h->positive_span[1]->length, 1);
        }
        const int64_t want_pos[] = {2, -1, -1, 1, -1, 0, 2, -1};
        CHECK_INT(h->n_positive_delta, 8);
        for (size_t k = 0; k < h->n_positive_delta && k < 8; k++)
            CHECK_INT(h->positive_delta[k], want_pos[k]);
        /* Negative indexes 2 and 5: one span over 2..5. */
        CHECK_INT(h->n_negative_span, 1);
        if (h->n_negative_span == 1) {
            CHECK_INT(h->negative_span[0]->offset, 2);
            CHECK_INT(h->negative_span[0]->length, 4);
        }
        const int64_t want_neg[] = {1, -1, 0, 1};
        CHECK_INT(h->n_negative_delta, 4);
        for (size_t k = 0; k < h->n_negative_delta && k < 4; k++)
            CHECK_INT(h->negative_delta[k], want_neg[k]);
        /* The classic buckets come along. */
        CHECK_INT(h->n_bucket, 4);
    }
    m = pb_find_metric(f, "kind", "empty");
    CHECK(m && m->histogram);
    if (m && m->histogram) {
        const Io__Prometheus__Client__Histogram *h = m->histogram;
        CHECK(h->has_schema && h->schema == 3);
        CHECK_INT(h->sample_count, 0);
        CHECK_INT(h->n_positive_span, 1);
        if (h->n_positive_span == 1)
            CHECK(h->positive_span[0]->offset == 0 && h->positive_span[0]->length == 0);
        CHECK_INT(h->n_positive_delta + h->n_negative_span + h->n_negative_delta, 0);
    }
    f = pb_find(&s, "native_only_seconds");
    CHECK(f && f->n_metric == 1 && f->metric[0]->histogram);
    if (f && f->n_metric == 1 && f->metric[0]->histogram) {
        const Io__Prometheus__Client__Histogram *h = f->metric[0]->histogram;
        CHECK_INT(h->n_bucket, 0); /* no classic buckets at all */
        CHECK_INT(h->schema, 0);   /* factor 2: schema 0 */
        CHECK_INT(h->sample_count, 2);
        CHECK_DBL(h->sample_sum, 3.001);
        /* 0.001 in bucket -9 ((2^-10, 2^-9]), 3 in bucket 2 ((2, 4]). */
        CHECK_INT(h->n_positive_span, 2);
        if (h->n_positive_span == 2) {
            CHECK_INT(h->positive_span[0]->offset, -9);
            CHECK_INT(h->positive_span[0]->length, 1);
            CHECK_INT(h->positive_span[1]->offset, 10);
            CHECK_INT(h->positive_span[1]->length, 1);
        }
        CHECK_INT(h->n_positive_delta, 2);
        if (h->n_positive_delta == 2)
            CHECK(h->positive_delta[0] == 1 && h->positive_delta[1] == 0);
    }
    pb_stream_free(&s);
    pb_out_free(&o);
    vt_registry_destroy(reg);
}

static uint64_t fake_now_ns;

static uint64_t fake_clock(void *ud) {
    (void)ud;
    return fake_now_ns;
}

/* After the bucket limit resets a native-only histogram's buckets, its count
 * carries on in the registry, but Prometheus refuses a native histogram whose
 * count is not its buckets' total (while the sum is a number): the protobuf
 * count is the buckets' total, which reads as the counter reset it is. */
static void test_native_reset_count(void) {
    vt_registry_t *reg;
    vt_metric_opts_t o;
    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_init(&o);
    o.name = "reset_seconds";
    o.help = "Native only, with a bucket limit.";
    o.native_bucket_factor = 1.1;
    o.native_max_buckets = 4;
    o.native_min_reset_seconds = 60;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    fake_now_ns = 1000000000000u;
    CHECK_INT(vt_histogram_set_native_clock(h, fake_clock, NULL), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    for (int i = 1; i <= 6; i++)
        vt_histogram_observe(hs, i * 1.0);
    fake_now_ns += 61000000000u; /* a minute later the limit resets the buckets */
    for (int i = 1; i <= 5; i++)
        vt_histogram_observe(hs, i * 100.0);
    pb_out_t out;
    pb_stream_t st;
    CHECK_INT(pb_scrape(reg, &out, &st), 0);
    const pb_family_t *f = pb_find(&st, "reset_seconds");
    CHECK(f && f->n_metric == 1 && f->metric[0]->histogram);
    if (f && f->n_metric == 1 && f->metric[0]->histogram) {
        const Io__Prometheus__Client__Histogram *m = f->metric[0]->histogram;
        vt_native_bucket_t got[64];
        uint64_t total = m->zero_count;
        long n = decode_side(m->positive_span, m->n_positive_span, m->positive_delta,
                             m->n_positive_delta, got, 64);
        for (long k = 0; k < n; k++)
            total += got[k].count;
        n = decode_side(m->negative_span, m->n_negative_span, m->negative_delta,
                        m->n_negative_delta, got, 64);
        for (long k = 0; k < n; k++)
            total += got[k].count;
        CHECK_INT(m->sample_count, total);
        CHECK(total >= 1 && total < 11); /* the older observations left the buckets */
        CHECK_DBL(m->sample_sum, 21 + 1500);
    }
    double count = -1;
    CHECK_INT(vt_registry_get_sample_value(reg, "reset_seconds_count", NULL, NULL, &count), 0);
    CHECK_DBL(count, 11); /* the registry's own count carries on */
    pb_stream_free(&st);
    pb_out_free(&out);
    vt_registry_destroy(reg);
}

/* Values change between scrapes and each scrape shows the new ones. */
static void test_second_scrape(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    vt_counter_series_t *cs;
    CHECK_INT(vt_counter_create(reg, "ticks", "Ticks.", NULL, &c), 0);
    CHECK_INT(vt_counter_with(c, NULL, &cs), 0);
    for (int round = 1; round <= 3; round++) {
        vt_counter_add_u64(cs, 10);
        pb_out_t o;
        pb_stream_t s;
        CHECK_INT(pb_scrape(reg, &o, &s), 0);
        const pb_family_t *f = pb_find(&s, "ticks_total");
        CHECK(f && f->n_metric == 1);
        if (f && f->n_metric == 1)
            CHECK_DBL(f->metric[0]->counter->value, 10 * round);
        pb_stream_free(&s);
        pb_out_free(&o);
    }
    vt_registry_destroy(reg);
}

/* The default registry (reg NULL), with the process collector if enabled. */
static void test_default_registry(void) {
    vt_counter_t *c;
    vt_counter_series_t *cs;
    CHECK_INT(vt_counter_create(NULL, "proto_default_hits", "Hits.", NULL, &c), 0);
    CHECK_INT(vt_counter_with(c, NULL, &cs), 0);
    vt_counter_inc(cs);
    CHECK_INT(vt_registry_register(vt_registry_default(), vt_counter_family(c)), 0);
    pb_stream_t s;
    scrape_and_compare(NULL, &s);
    CHECK(pb_find(&s, "proto_default_hits_total") != NULL);
    pb_stream_free(&s);
}

/* An empty registry (self-metrics off) writes nothing at all. */
static void test_empty(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    pb_out_t o;
    pb_out_init(&o);
    CHECK_INT(vt_proto_write(reg, pb_sink, &o), 0);
    CHECK_INT(o.len, 0);
    CHECK_INT(o.pieces, 0);
    pb_out_free(&o);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_matches_visit);
    RUN(test_recorded_values);
    RUN(test_native_encoding);
    RUN(test_native_reset_count);
    RUN(test_second_scrape);
    RUN(test_default_registry);
    RUN(test_empty);
    TEST_EXIT();
}
