/* vitals/registry.h - registries of metric families, and family options.
 *
 * A registry owns the families registered in it and the collectors added to
 * it; a scrape writes all of them. Registration, unregistration and scrapes may
 * run at the same time from any threads: a registry lock orders them.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_REGISTRY_H
#define VITALS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_registry vt_registry_t;
/* Any metric family (counter, gauge, histogram, summary, info). Each typed
 * family handle converts to this with vt_counter_family() and friends. */
typedef struct vt_family vt_family_t;

/* Metric types, as exposition formats name them. */
typedef enum vt_type {
    VT_COUNTER = 0,
    VT_GAUGE = 1,
    VT_HISTOGRAM = 2,
    VT_SUMMARY = 3,
    VT_INFO = 4,
    VT_UNTYPED = 5
} vt_type_t;

/* Series limit of a family when its options leave max_series at 0. */
#define VT_DEFAULT_MAX_SERIES 10000

/* A NULL-terminated list of strings built in place:
 *   VT_LABELS("method", "code")   VT_VALUES("GET", "200") */
#define VT_LABELS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define VT_VALUES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* vt_metric_opts_t - everything that describes a family at creation.
 *
 * Fill with vt_metric_opts_init() and set what you need. Strings and arrays are
 * copied by the create call; the caller keeps ownership of them.
 */
typedef struct vt_metric_opts {
    const char *name; /* metric name, [a-zA-Z_:][a-zA-Z0-9_:]*; counters may omit "_total" */
    const char *help; /* HELP text, any UTF-8; NULL means empty */
    const char *unit; /* OpenMetrics unit such as "seconds"; NULL for none; the name must end in
                         "_<unit>" */
    const char *const *label_names; /* NULL-terminated variable label names, or NULL */
    const char *const
        *const_labels;     /* NULL-terminated name, value, name, value... pairs, or NULL */
    const double *buckets; /* histogram upper bounds, increasing, finite; NULL for the default 11 */
    size_t bucket_count;   /* entries in buckets */
    size_t max_series;     /* series limit; 0 means VT_DEFAULT_MAX_SERIES */
    /* Summaries only: quantile objectives over a sliding window. */
    const double *quantiles; /* increasing, in [0, 1], at most 32; NULL: count and sum only */
    size_t quantile_count;   /* entries in quantiles */
    double max_age_seconds;  /* the window; 0 means 600 */
    unsigned age_buckets;    /* slices the window moves by; 0 means 5 (at most 64) */
    double relative_error;   /* the sketch's bound on each quantile; 0 means 0.01 (below 0.5) */
    /* Histograms only: native (sparse exponential) buckets, exposed in
     * Prometheus's protobuf format. With buckets NULL, no classic buckets. */
    double native_bucket_factor;      /* > 1 turns them on: max growth from one bucket to the next,
                                         e.g. 1.1 gives schema 3; the finest schema is 8, coarsest -4 */
    double native_zero_threshold;     /* |v| at most this counts as zero; 0 means 2^-64 */
    uint32_t native_max_buckets;      /* populated buckets allowed; 0 means no limit */
    double native_min_reset_seconds;  /* past the limit, reset if this long since the last reset */
    double native_max_zero_threshold; /* past the limit, else widen the zero bucket up to this;
                                         else halve the resolution */
} vt_metric_opts_t;

/* vt_metric_opts_init - zero *opts and set the defaults (no labels, default
 * buckets, default series limit).
 *
 * Thread-safety: touches only *opts.
 * Since: 0.1.0
 */
VT_EXTERN void vt_metric_opts_init(vt_metric_opts_t *opts);

/* vt_registry_create - a new, empty registry.
 *
 * Parameters: out_reg receives the registry.
 * Returns: 0, VT_EINVAL or VT_ENOMEM.
 * Thread-safety: safe from any thread.
 * Ownership: the caller owns the registry and frees it with vt_registry_destroy().
 * Since: 0.1.0
 */
VT_EXTERN int vt_registry_create(vt_registry_t **out_reg);

/* vt_registry_destroy - destroy a registry, every family registered in it and
 * every collector's user data release hook.
 *
 * Every series handle of those families dies with it. NULL is ignored.
 * Thread-safety: no other thread may use the registry or its families during
 * or after the call.
 * Ownership: takes the registry.
 * Since: 0.1.0
 */
VT_EXTERN void vt_registry_destroy(vt_registry_t *reg);

/* vt_registry_default - the process-wide default registry, created on first
 * use and never destroyed.
 *
 * Thread-safety: safe from any thread.
 * Ownership: borrowed; do not destroy it.
 * Since: 0.1.0
 */
VT_EXTERN vt_registry_t *vt_registry_default(void);

/* vt_registry_register - add a family that is in no registry.
 *
 * Returns: 0; VT_EDUPLICATE when a family or collector of the registry already
 * uses the name or one of the sample names it writes (for counter "x": x and
 * x_total; histogram "x": x, x_bucket, x_sum, x_count...); VT_EBUSY when the
 * family is already in a registry; VT_EINVAL for NULL.
 * Thread-safety: safe from any thread, also during scrapes.
 * Ownership: the registry takes the family until it is unregistered.
 * Since: 0.1.0
 */
VT_EXTERN int vt_registry_register(vt_registry_t *reg, vt_family_t *fam);

/* vt_registry_unregister - remove a family; the caller owns it again.
 *
 * Its series handles stay valid: destroy the family with vt_family_destroy()
 * once no thread uses them. Returns 0 or VT_ENOTFOUND.
 * Thread-safety: safe from any thread; waits for a scrape in progress.
 * Since: 0.1.0
 */
VT_EXTERN int vt_registry_unregister(vt_registry_t *reg, vt_family_t *fam);

/* vt_registry_get_sample_value - the current value of one sample, as a scrape
 * would write it, for tests of the user's own code.
 *
 * Parameters: name is the sample name as exposed in text format
 * ("http_requests_total", "x_bucket", "x_sum", "x_count", "build_info"),
 * or a counter's, histogram's or summary's "x_created" (Unix seconds);
 * label_names and label_values are NULL-terminated and must match the sample's
 * labels exactly (any order; const labels and "le"/"quantile" included);
 * both NULL means a sample without labels.
 * Returns: 0 with *out_value set; VT_ENOTFOUND; VT_EINVAL; VT_ENOMEM.
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN int vt_registry_get_sample_value(vt_registry_t *reg, const char *name,
                                           const char *const *label_names,
                                           const char *const *label_values, double *out_value);

/* vt_registry_set_self_metrics - whether scrapes of this registry include the
 * library's own metrics (vitals_errors_total{kind}, vitals_series_overflow_total
 * {metric}). On by default.
 *
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN void vt_registry_set_self_metrics(vt_registry_t *reg, int enabled);

/* vt_family_destroy - destroy a family that is in no registry, with all its
 * series. NULL is ignored.
 *
 * Returns: 0, or VT_EBUSY (and nothing happens) while it is registered.
 * Thread-safety: no other thread may use the family or its series handles
 * during or after the call.
 * Ownership: takes the family.
 * Since: 0.1.0
 */
VT_EXTERN int vt_family_destroy(vt_family_t *fam);

/* vt_family_name / vt_family_type - what the family was created with.
 *
 * Thread-safety: safe from any thread. Ownership: the name is borrowed from
 * the family. Since: 0.1.0
 */
VT_EXTERN const char *vt_family_name(const vt_family_t *fam);
VT_EXTERN vt_type_t vt_family_type(const vt_family_t *fam);

/* vt_family_clear - delete every series of the family (see the series rule in
 * vitals/metrics.h: old handles keep writing into their own, unexposed cells).
 *
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN void vt_family_clear(vt_family_t *fam);

/* vt_family_series_count - live series of the family (the overflow series
 * included once it exists).
 *
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN size_t vt_family_series_count(vt_family_t *fam);

#ifdef __cplusplus
}
#endif
#endif
