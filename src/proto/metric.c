/* metric.c - one series of a visited family as an io.prometheus.client.Metric.
 *
 * The scratch's messages are initialized once; each series only repoints
 * labels and sets numbers, so filling a series allocates nothing. Strings are
 * borrowed from the visit (protobuf-c's char * fields are never written
 * through when packing). Histogram upper bounds are the same for every series
 * of a family and are set once per family; the +Inf bucket is left out, as
 * its count is the sample count (readers add it back).
 *
 * Native buckets become spans of consecutive indexes and per-bucket count
 * deltas, as client_golang writes them: a gap of one or two empty buckets is
 * filled with zero-count buckets (two deltas cost less than a new span), a
 * longer gap starts a new span. A native histogram with no populated bucket
 * carries one span of offset 0 and length 0, so that a reader still takes it
 * for native.
 *
 * Exemplars go where client_golang puts them: a counter's in Counter.exemplar,
 * a bucket's in its Bucket.exemplar, the +Inf bucket's in an explicit +Inf
 * Bucket (cumulative count = sample count) that is written only to carry it.
 * A histogram with native buckets also lists every exemplar it has in
 * Histogram.exemplars, which newer Prometheus versions read for native
 * histograms (2.42 reads the bucket ones).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto_internal.h"

static const Io__Prometheus__Client__Metric metric_init = IO__PROMETHEUS__CLIENT__METRIC__INIT;
static const Io__Prometheus__Client__Counter counter_init = IO__PROMETHEUS__CLIENT__COUNTER__INIT;
static const Io__Prometheus__Client__Gauge gauge_init = IO__PROMETHEUS__CLIENT__GAUGE__INIT;
static const Io__Prometheus__Client__Untyped untyped_init = IO__PROMETHEUS__CLIENT__UNTYPED__INIT;
static const Io__Prometheus__Client__Summary summary_init = IO__PROMETHEUS__CLIENT__SUMMARY__INIT;
static const Io__Prometheus__Client__Histogram histogram_init =
    IO__PROMETHEUS__CLIENT__HISTOGRAM__INIT;
static const Google__Protobuf__Timestamp timestamp_init = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
static const vt__pb_label_t label_init = IO__PROMETHEUS__CLIENT__LABEL_PAIR__INIT;
static const vt__pb_bucket_t bucket_init = IO__PROMETHEUS__CLIENT__BUCKET__INIT;
static const vt__pb_quantile_t quantile_init = IO__PROMETHEUS__CLIENT__QUANTILE__INIT;
static const vt__pb_span_t span_init = IO__PROMETHEUS__CLIENT__BUCKET_SPAN__INIT;
static const vt__pb_exemplar_t exemplar_init = IO__PROMETHEUS__CLIENT__EXEMPLAR__INIT;

/* Empty buckets filled in rather than starting a new span. */
#define MAX_FILLED_GAP 2

Io__Prometheus__Client__MetricType vt__pb_type(vt_type_t type) {
    switch (type) {
    case VT_COUNTER:
        return IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER;
    case VT_GAUGE:
    case VT_INFO:
        return IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
    case VT_HISTOGRAM:
        return IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM;
    case VT_SUMMARY:
        return IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY;
    default:
        return IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED;
    }
}

const char *vt__pb_name_suffix(vt_type_t type) {
    return type == VT_COUNTER ? "_total" : type == VT_INFO ? "_info" : "";
}

void vt__pb_scratch_init(vt__pb_scratch_t *sc) {
    memset(sc, 0, sizeof(*sc));
    sc->metric = metric_init;
    sc->counter = counter_init;
    sc->gauge = gauge_init;
    sc->untyped = untyped_init;
    sc->summary = summary_init;
    sc->histogram = histogram_init;
    sc->created = timestamp_init;
}

void vt__pb_scratch_free(vt__pb_scratch_t *sc) {
    free(sc->labels);
    free(sc->label_ptrs);
    free(sc->buckets);
    free(sc->bucket_ptrs);
    free(sc->quantiles);
    free(sc->quantile_ptrs);
    free(sc->spans);
    free(sc->span_ptrs);
    free(sc->deltas);
    free(sc->exemplars);
    free(sc->exemplar_ptrs);
    free(sc->exemplar_ts);
    free(sc->ex_slots);
    free(sc->ex_labels);
    free(sc->ex_label_ptrs);
    vt__pb_scratch_init(sc);
}

/* grow_<kind>(&items, &ptrs, &cap, n, &init): grow an array of messages and
 * its array of pointers to at least n entries, each message a copy of init.
 * The old arrays stay as they were on failure. */
#define DEFINE_GROW(fn, T)                                                                         \
    static int fn(T **items, T ***ptrs, size_t *cap, size_t n, const T *init) {                    \
        if (n <= *cap)                                                                             \
            return 0;                                                                              \
        size_t want = *cap ? *cap : 8;                                                             \
        while (want < n)                                                                           \
            want *= 2;                                                                             \
        if (want > SIZE_MAX / sizeof(T))                                                           \
            return VT_ENOMEM;                                                                      \
        T *it = malloc(want * sizeof(T));                                                          \
        T **pt = malloc(want * sizeof(T *));                                                       \
        if (!it || !pt) {                                                                          \
            free(it);                                                                              \
            free(pt);                                                                              \
            return VT_ENOMEM;                                                                      \
        }                                                                                          \
        for (size_t i = 0; i < want; i++) {                                                        \
            it[i] = *init;                                                                         \
            pt[i] = &it[i];                                                                        \
        }                                                                                          \
        free(*items);                                                                              \
        free(*ptrs);                                                                               \
        *items = it;                                                                               \
        *ptrs = pt;                                                                                \
        *cap = want;                                                                               \
        return 0;                                                                                  \
    }

DEFINE_GROW(grow_labels, vt__pb_label_t)
DEFINE_GROW(grow_buckets, vt__pb_bucket_t)
DEFINE_GROW(grow_quantiles, vt__pb_quantile_t)
DEFINE_GROW(grow_spans, vt__pb_span_t)
DEFINE_GROW(grow_exemplar_msgs, vt__pb_exemplar_t)

static int grow_exemplars(vt__pb_scratch_t *sc, size_t n) {
    if (n <= sc->exemplar_cap)
        return 0;
    if (grow_exemplar_msgs(&sc->exemplars, &sc->exemplar_ptrs, &sc->exemplar_cap, n,
                           &exemplar_init) != 0)
        return VT_ENOMEM;
    Google__Protobuf__Timestamp *ts = realloc(sc->exemplar_ts, sc->exemplar_cap * sizeof(*ts));
    if (ts)
        sc->exemplar_ts = ts;
    vt__pb_exemplar_t **slots =
        ts ? realloc(sc->ex_slots, sc->exemplar_cap * sizeof(*slots)) : NULL;
    if (!slots) {
        sc->exemplar_cap = 0; /* the next family grows all of them again */
        return VT_ENOMEM;
    }
    sc->ex_slots = slots;
    for (size_t i = 0; i < sc->exemplar_cap; i++)
        ts[i] = timestamp_init;
    return 0;
}

static int grow_deltas(vt__pb_scratch_t *sc, size_t n) {
    if (n <= sc->delta_cap)
        return 0;
    if (n > SIZE_MAX / sizeof(int64_t))
        return VT_ENOMEM;
    int64_t *p = realloc(sc->deltas, n * sizeof(*p));
    if (!p)
        return VT_ENOMEM;
    sc->deltas = p;
    sc->delta_cap = n;
    return 0;
}

int vt__pb_scratch_family(vt__pb_scratch_t *sc, const vt_sample_family_t *f) {
    size_t labels = 0, quantiles = 0, native = 0, exemplars = 0, ex_labels = 0;
    for (size_t i = 0; i < f->series_count; i++) {
        const vt_sample_series_t *s = &f->series[i];
        size_t xl = 0;
        for (size_t e = 0; e < s->exemplar_count; e++)
            xl += s->exemplars[e].label_count;
        if (xl > ex_labels)
            ex_labels = xl;
        if (s->exemplar_count > exemplars)
            exemplars = s->exemplar_count;
        if (s->label_count > labels)
            labels = s->label_count;
        if (s->quantile_count > quantiles)
            quantiles = s->quantile_count;
        if (f->type == VT_HISTOGRAM && s->has_native &&
            s->native_positive_count + s->native_negative_count > native)
            native = s->native_positive_count + s->native_negative_count;
    }
    /* Each bucket adds at most one span, or one delta plus the deltas of the
     * gap it fills; one more span for the no-op span. */
    if (native > (SIZE_MAX - 1) / (MAX_FILLED_GAP + 1) ||
        grow_spans(&sc->spans, &sc->span_ptrs, &sc->span_cap, native + 1, &span_init) != 0 ||
        grow_deltas(sc, native * (MAX_FILLED_GAP + 1) + 1) != 0)
        return VT_ENOMEM;
    /* The last bound is +Inf, which the message leaves out. */
    size_t buckets = f->type == VT_HISTOGRAM && f->bound_count > 0 ? f->bound_count - 1 : 0;
    if (grow_labels(&sc->labels, &sc->label_ptrs, &sc->label_cap, labels, &label_init) != 0 ||
        grow_labels(&sc->ex_labels, &sc->ex_label_ptrs, &sc->ex_label_cap, ex_labels,
                    &label_init) != 0 ||
        grow_exemplars(sc, exemplars) != 0 ||
        grow_buckets(&sc->buckets, &sc->bucket_ptrs, &sc->bucket_cap, buckets + 1, &bucket_init) !=
            0 ||
        grow_quantiles(&sc->quantiles, &sc->quantile_ptrs, &sc->quantile_cap, quantiles,
                       &quantile_init) != 0)
        return VT_ENOMEM;
    for (size_t b = 0; b <= buckets; b++) {
        sc->buckets[b].has_upper_bound = 1;
        sc->buckets[b].upper_bound = b < buckets ? f->bounds[b] : INFINITY;
        sc->buckets[b].has_cumulative_count = 1;
    }
    sc->bucket_count = buckets;
    for (size_t q = 0; q < sc->quantile_cap; q++)
        sc->quantiles[q].has_quantile = sc->quantiles[q].has_value = 1;
    for (size_t k = 0; k < sc->span_cap; k++)
        sc->spans[k].has_offset = sc->spans[k].has_length = 1;
    return 0;
}

/* Unix seconds t into *ts; 0 when t is unknown (NaN) or not a time a
 * Timestamp can hold. */
static int to_timestamp(double t, Google__Protobuf__Timestamp *ts) {
    if (!(t >= 0 && t < 253402300800.0)) /* up to year 9999, as Timestamp allows */
        return 0;
    int64_t whole = (int64_t)t; /* t >= 0: truncation is floor */
    int64_t nanos = (int64_t)((t - (double)whole) * 1e9 + 0.5);
    if (nanos >= 1000000000) {
        whole += 1;
        nanos -= 1000000000;
    }
    ts->has_seconds = 1;
    ts->seconds = whole;
    ts->has_nanos = nanos != 0;
    ts->nanos = (int32_t)nanos;
    return 1;
}

/* Point *out at sc->created holding Unix seconds t, or at nothing. */
static void set_created(vt__pb_scratch_t *sc, double t, Google__Protobuf__Timestamp **out) {
    *out = to_timestamp(t, &sc->created) ? &sc->created : NULL;
}

/* Fill the scratch's exemplar messages from the series' exemplar slots:
 * sc->exemplars[e] for slot e, NULL in out[e] for an empty slot. Labels come
 * from sc->ex_labels in turn. Returns how many slots hold one. */
static size_t fill_exemplars(vt__pb_scratch_t *sc, const vt_sample_series_t *s,
                             vt__pb_exemplar_t **out) {
    size_t used = 0, l = 0;
    for (size_t e = 0; e < s->exemplar_count; e++) {
        const vt_sample_exemplar_t *x = &s->exemplars[e];
        out[e] = NULL;
        if (!x->label_count)
            continue;
        vt__pb_exemplar_t *m = &sc->exemplars[e];
        m->n_label = x->label_count;
        m->label = sc->ex_label_ptrs + l;
        for (size_t k = 0; k < x->label_count; k++, l++) {
            sc->ex_labels[l].name = (char *)(uintptr_t)x->label_names[k];
            sc->ex_labels[l].value = (char *)(uintptr_t)x->label_values[k];
        }
        m->has_value = 1;
        m->value = x->value;
        sc->exemplar_ts[e] = timestamp_init;
        m->timestamp = to_timestamp(x->timestamp, &sc->exemplar_ts[e]) ? &sc->exemplar_ts[e] : NULL;
        out[e] = m;
        used++;
    }
    return used;
}

/* Spans and deltas of one side's populated buckets (increasing index) into
 * spans and deltas; returns the spans written, *out_deltas the deltas. */
static size_t encode_side(const vt_native_bucket_t *b, size_t n, vt__pb_span_t *spans,
                          int64_t *deltas, size_t *out_deltas) {
    size_t ns = 0, nd = 0;
    int64_t prev = 0, next = 0; /* previous bucket's count; index after it */
    for (size_t k = 0; k < n; k++) {
        int64_t idx = b[k].index, gap = idx - next;
        if (k == 0 || gap > MAX_FILLED_GAP) {
            spans[ns].offset = (int32_t)(k == 0 ? idx : gap);
            spans[ns].length = 0;
            ns++;
        } else {
            for (; next < idx; next++) {
                deltas[nd++] = -prev;
                prev = 0;
                spans[ns - 1].length++;
            }
        }
        deltas[nd++] = (int64_t)b[k].count - prev;
        prev = (int64_t)b[k].count;
        spans[ns - 1].length++;
        next = idx + 1;
    }
    *out_deltas = nd;
    return ns;
}

static void fill_native(vt__pb_scratch_t *sc, const vt_sample_series_t *s) {
    Io__Prometheus__Client__Histogram *h = &sc->histogram;
    h->has_schema = h->has_zero_threshold = h->has_zero_count = s->has_native;
    h->n_positive_span = h->n_negative_span = 0;
    h->n_positive_delta = h->n_negative_delta = 0;
    if (!s->has_native)
        return;
    h->schema = s->native_schema;
    h->zero_threshold = s->native_zero_threshold;
    h->zero_count = s->native_zero_count;
    /* Prometheus requires a native histogram's count to equal its zero
     * bucket plus its buckets (newer versions reject the sample otherwise):
     * the visit takes count, sum, classic and native buckets from one moment
     * (native.c), so the count in fill_histogram already does. */
    size_t np, nn, dp, dn;
    np = encode_side(s->native_positive, s->native_positive_count, sc->spans, sc->deltas, &dp);
    nn = encode_side(s->native_negative, s->native_negative_count, sc->spans + np, sc->deltas + dp,
                     &dn);
    if (np == 0 && nn == 0) {
        sc->spans[0].offset = 0; /* the no-op span: native, but empty */
        sc->spans[0].length = 0;
        np = 1;
    }
    h->n_positive_span = np;
    h->positive_span = sc->span_ptrs;
    h->n_positive_delta = dp;
    h->positive_delta = sc->deltas;
    h->n_negative_span = nn;
    h->negative_span = sc->span_ptrs + np;
    h->n_negative_delta = dn;
    h->negative_delta = sc->deltas + dp;
}

/* Observations in a native histogram's buckets, zero bucket included. */
static uint64_t native_total(const vt_sample_series_t *s) {
    uint64_t n = s->native_zero_count;
    for (size_t k = 0; k < s->native_positive_count; k++)
        n += s->native_positive[k].count;
    for (size_t k = 0; k < s->native_negative_count; k++)
        n += s->native_negative[k].count;
    return n;
}

static void fill_histogram(vt__pb_scratch_t *sc, const vt_sample_series_t *s,
                           vt__pb_exemplar_t **ex) {
    Io__Prometheus__Client__Histogram *h = &sc->histogram;
    h->has_sample_count = 1;
    h->sample_count = s->count;
    /* Prometheus refuses a native histogram whose count is not exactly its
     * buckets' total while its sum is a number. The two part only after the
     * bucket limit reset the native buckets (the count carries on) or a
     * native page could not be allocated: a histogram with native buckets
     * only then reports its buckets' total, which a reader takes for the
     * counter reset it is. With classic buckets too, the count stays theirs. */
    if (s->has_native && sc->bucket_count == 0 && !isnan(s->sum))
        h->sample_count = native_total(s);
    h->has_sample_sum = 1;
    h->sample_sum = s->sum;
    h->n_bucket = s->buckets ? sc->bucket_count : 0;
    h->bucket = sc->bucket_ptrs;
    for (size_t b = 0; b < h->n_bucket; b++) {
        sc->buckets[b].cumulative_count = s->buckets[b];
        sc->buckets[b].exemplar = b < s->exemplar_count ? ex[b] : NULL;
    }
    /* The +Inf bucket is written only to carry its exemplar. */
    size_t inf = sc->bucket_count;
    if (s->buckets && inf < s->exemplar_count && ex[inf]) {
        sc->buckets[inf].cumulative_count = h->sample_count;
        sc->buckets[inf].exemplar = ex[inf];
        h->n_bucket = inf + 1;
    }
    set_created(sc, s->created, &h->created_timestamp);
    fill_native(sc, s);
    /* Native histograms also list their exemplars together. */
    h->n_exemplars = 0;
    h->exemplars = sc->exemplar_ptrs;
    if (s->has_native)
        for (size_t e = 0; e < s->exemplar_count; e++)
            if (ex[e])
                sc->exemplar_ptrs[h->n_exemplars++] = ex[e];
}

static void fill_summary(vt__pb_scratch_t *sc, const vt_sample_series_t *s) {
    Io__Prometheus__Client__Summary *m = &sc->summary;
    m->has_sample_count = 1;
    m->sample_count = s->count;
    m->has_sample_sum = 1;
    m->sample_sum = s->sum;
    m->n_quantile = s->quantile_count;
    m->quantile = sc->quantile_ptrs;
    for (size_t q = 0; q < s->quantile_count; q++) {
        sc->quantiles[q].quantile = s->quantiles[q];
        sc->quantiles[q].value = s->quantile_values[q];
    }
    set_created(sc, s->created, &m->created_timestamp);
}

void vt__pb_scratch_series(vt__pb_scratch_t *sc, const vt_sample_family_t *f, size_t i) {
    const vt_sample_series_t *s = &f->series[i];
    vt__pb_metric_t *m = &sc->metric;

    m->n_label = s->label_count;
    m->label = sc->label_ptrs;
    for (size_t l = 0; l < s->label_count; l++) {
        /* protobuf-c's string fields are char *; packing only reads them. */
        sc->labels[l].name = (char *)(uintptr_t)s->label_names[l];
        sc->labels[l].value = (char *)(uintptr_t)s->label_values[l];
    }
    m->counter = NULL;
    m->gauge = NULL;
    m->untyped = NULL;
    m->summary = NULL;
    m->histogram = NULL;
    /* Exemplar messages by slot; slots without one are NULL. */
    vt__pb_exemplar_t **ex = sc->ex_slots;
    size_t nex = s->exemplar_count;
    fill_exemplars(sc, s, ex);
    switch (f->type) {
    case VT_COUNTER:
        sc->counter.has_value = 1;
        sc->counter.value = s->value;
        sc->counter.exemplar = nex ? ex[0] : NULL;
        set_created(sc, s->created, &sc->counter.created_timestamp);
        m->counter = &sc->counter;
        break;
    case VT_GAUGE:
    case VT_INFO:
        sc->gauge.has_value = 1;
        sc->gauge.value = s->value;
        m->gauge = &sc->gauge;
        break;
    case VT_HISTOGRAM:
        fill_histogram(sc, s, ex);
        m->histogram = &sc->histogram;
        break;
    case VT_SUMMARY:
        fill_summary(sc, s);
        m->summary = &sc->summary;
        break;
    default:
        sc->untyped.has_value = 1;
        sc->untyped.value = s->value;
        m->untyped = &sc->untyped;
        break;
    }
}
