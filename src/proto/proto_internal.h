/* proto_internal.h - declarations shared by the files of libvitals-proto.
 *
 * The messages are the protobuf-c structures generated from proto/metrics.proto
 * at build time. A vt__pb_scratch_t holds one Metric message and everything it
 * points to; it is refilled for each series in turn, so encoding a family
 * needs memory for one series, never for the whole family. A scratch belongs
 * to one thread at a time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_PROTO_INTERNAL_H
#define VITALS_PROTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.pb-c.h"
#include "vitals/proto.h"
#include "vitals/visit.h"

typedef Io__Prometheus__Client__Metric vt__pb_metric_t;
typedef Io__Prometheus__Client__MetricFamily vt__pb_family_t;
typedef Io__Prometheus__Client__LabelPair vt__pb_label_t;
typedef Io__Prometheus__Client__Bucket vt__pb_bucket_t;
typedef Io__Prometheus__Client__Quantile vt__pb_quantile_t;
typedef Io__Prometheus__Client__BucketSpan vt__pb_span_t;
typedef Io__Prometheus__Client__Exemplar vt__pb_exemplar_t;

/* One series' Metric message and the sub-messages and arrays it points to.
 * Between vt__pb_scratch_family() and the next call, labels, buckets and
 * quantiles hold at least as many entries as any series of that family needs,
 * and the buckets carry the family's finite upper bounds; spans and deltas
 * hold enough for the native buckets of any series of the family (both
 * sides); exemplars, their timestamps and ex_labels enough for the exemplars
 * of any series (buckets has one spare entry, for an explicit +Inf bucket
 * that carries the +Inf exemplar). */
typedef struct vt__pb_scratch {
    vt__pb_metric_t metric;
    Io__Prometheus__Client__Counter counter;
    Io__Prometheus__Client__Gauge gauge;
    Io__Prometheus__Client__Untyped untyped;
    Io__Prometheus__Client__Summary summary;
    Io__Prometheus__Client__Histogram histogram;
    Google__Protobuf__Timestamp created;

    vt__pb_label_t *labels; /* label_cap entries, with a pointer each in label_ptrs */
    vt__pb_label_t **label_ptrs;
    size_t label_cap;
    vt__pb_bucket_t *buckets; /* bucket_cap entries, with a pointer each in bucket_ptrs */
    vt__pb_bucket_t **bucket_ptrs;
    size_t bucket_cap;
    size_t bucket_count; /* finite bounds of the current family */
    vt__pb_quantile_t *quantiles;
    vt__pb_quantile_t **quantile_ptrs;
    size_t quantile_cap;
    vt__pb_span_t *spans; /* native spans: the positive side first, then the negative */
    vt__pb_span_t **span_ptrs;
    size_t span_cap;
    int64_t *deltas; /* native bucket deltas, positive side first */
    size_t delta_cap;
    vt__pb_exemplar_t *exemplars; /* exemplar_cap entries, pointers in exemplar_ptrs */
    vt__pb_exemplar_t **exemplar_ptrs;
    Google__Protobuf__Timestamp *exemplar_ts; /* one per exemplar */
    vt__pb_exemplar_t **ex_slots;             /* per slot: its message, or NULL */
    size_t exemplar_cap;
    vt__pb_label_t *ex_labels; /* the labels of all exemplars of one series */
    vt__pb_label_t **ex_label_ptrs;
    size_t ex_label_cap;
} vt__pb_scratch_t;

/* A zeroed scratch; nothing to allocate yet. */
void vt__pb_scratch_init(vt__pb_scratch_t *sc);
void vt__pb_scratch_free(vt__pb_scratch_t *sc);

/* Size the arrays for every series of f and set the family-wide parts
 * (bucket bounds). Returns 0 or VT_ENOMEM. */
int vt__pb_scratch_family(vt__pb_scratch_t *sc, const vt_sample_family_t *f);

/* Fill sc->metric with series i of f (after vt__pb_scratch_family(f)). The
 * message borrows f's strings until the next fill. */
void vt__pb_scratch_series(vt__pb_scratch_t *sc, const vt_sample_family_t *f, size_t i);

/* The MetricFamily type of a vitals type: counter COUNTER, gauge and info
 * GAUGE, histogram HISTOGRAM, summary SUMMARY, anything else UNTYPED. */
Io__Prometheus__Client__MetricType vt__pb_type(vt_type_t type);

/* The suffix a family's protobuf name adds to its vitals name: "_total" for
 * counters, "_info" for info, "" otherwise. */
const char *vt__pb_name_suffix(vt_type_t type);

/* Bytes of v as a base-128 varint (1 to 10). */
size_t vt__pb_varint_len(uint64_t v);

/* Write v as a base-128 varint at out (room for 10 bytes); returns its length. */
size_t vt__pb_varint_put(uint64_t v, uint8_t *out);

#endif
