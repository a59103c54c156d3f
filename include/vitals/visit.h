/* vitals/visit.h - reading a registry's values as structures instead of text.
 *
 * vt_registry_visit() takes the same snapshot a scrape takes (families,
 * collectors and self-metrics, in exposition order) and hands each family to a
 * callback as plain structures: label names and unescaped values, numbers,
 * cumulative bucket counts. Bridges to other systems (StatsD, Graphite, remote
 * write) use it instead of parsing the text format.
 *
 * Everything the callback sees is borrowed for the duration of that one call:
 * copy what must outlive it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_VISIT_H
#define VITALS_VISIT_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One populated native histogram bucket: index i holds values in
 * (2^((i-1)/2^schema), 2^(i/2^schema)] (negated for the negative side). */
typedef struct vt_native_bucket {
    int32_t index;
    uint64_t count; /* observations in this bucket, not cumulative */
} vt_native_bucket_t;

/* One exemplar (OpenMetrics): the labels of a traced observation. */
typedef struct vt_sample_exemplar {
    size_t label_count;              /* 0: this slot holds no exemplar */
    const char *const *label_names;  /* e.g. "trace_id" */
    const char *const *label_values; /* unescaped UTF-8, NUL-terminated */
    double value;                    /* the observed value (a counter's: the increment) */
    double timestamp;                /* Unix seconds when it was recorded */
} vt_sample_exemplar_t;

/* One series of a family, as a scrape would expose it. */
typedef struct vt_sample_series {
    size_t label_count;              /* pairs in label_names / label_values */
    const char *const *label_names;  /* const labels first, then the family's labels */
    const char *const *label_values; /* unescaped UTF-8, NUL-terminated */
    double value;                    /* counter total, gauge or untyped value; 1 for info */
    uint64_t count;                  /* histogram and summary: observations */
    double sum;                      /* histogram and summary: sum of observations */
    const uint64_t *buckets;         /* histogram: cumulative counts, one per family bound;
                                        the last (+Inf) equals count. NULL otherwise */
    size_t quantile_count;           /* summary: entries in quantiles / quantile_values */
    const double *quantiles;         /* summary: ranks in [0, 1], increasing */
    const double *quantile_values;
    double created; /* Unix seconds the series started, or NaN when unknown */
    /* Histograms with native buckets (has_native 1); see vitals/metrics.h. */
    int has_native;
    int32_t native_schema;
    double native_zero_threshold;
    uint64_t native_zero_count;
    size_t native_positive_count, native_negative_count;
    const vt_native_bucket_t *native_positive; /* increasing index, counts > 0 */
    const vt_native_bucket_t *native_negative; /* increasing index (of |v|), counts > 0 */
    /* Exemplars, when the series ever recorded one (exemplar_count 0 otherwise):
     * a counter has 1 slot, a histogram one per bucket of bounds (the last for
     * +Inf). A slot without an exemplar has label_count 0. */
    size_t exemplar_count;
    const vt_sample_exemplar_t *exemplars;
} vt_sample_series_t;

/* One family and all its series. */
typedef struct vt_sample_family {
    vt_type_t type;
    const char *name;     /* family name: a counter's without "_total", an info's without "_info" */
    const char *help;     /* never NULL; may be "" */
    const char *unit;     /* OpenMetrics unit, or NULL */
    size_t bound_count;   /* histogram: entries in bounds, the last being +Inf; 0 otherwise */
    const double *bounds; /* histogram: increasing upper bounds, ending in +Inf */
    size_t series_count;
    const vt_sample_series_t *series;
} vt_sample_family_t;

/* Receives one family. Return 0 to go on; any other value stops the visit,
 * and vt_registry_visit() returns that value unchanged. */
typedef int (*vt_visit_fn)(const vt_sample_family_t *family, void *user_data);

/* vt_registry_visit - call fn once per family of the registry, with values
 * snapshotted as for a scrape.
 *
 * Families come in exposition order: registered families, then collectors'
 * families, then the self-metrics when they are enabled. A family with no
 * series is still visited (series_count 0). A histogram with native buckets
 * reports count, sum, classic buckets and native buckets from one moment:
 * count equals native_zero_count plus every native bucket, also while other
 * threads observe. Exemplars are the latest of each counter or bucket.
 * Parameters: reg; fn; user_data passed to fn.
 * Returns: 0; the nonzero value fn returned; VT_EINVAL (reg or fn NULL);
 * VT_ENOMEM.
 * Thread-safety: safe from any thread, concurrently with the hot path and
 * scrapes. fn runs on the calling thread while the registry's read lock is
 * held: it must not register or unregister in the same registry.
 * Ownership: every pointer fn receives is borrowed until fn returns.
 * Since: 0.1.0
 *
 *     static int show(const vt_sample_family_t *f, void *ud) {
 *         for (size_t i = 0; i < f->series_count; i++)
 *             printf("%s %g\n", f->name, f->series[i].value);
 *         return 0;
 *     }
 *     vt_registry_visit(reg, show, NULL);
 */
VT_EXTERN int vt_registry_visit(vt_registry_t *reg, vt_visit_fn fn, void *user_data);

#ifdef __cplusplus
}
#endif
#endif
