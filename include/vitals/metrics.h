/* vitals/metrics.h - counters, gauges, histograms, summaries and info metrics.
 *
 * A family (vt_counter_t, vt_gauge_t, ...) has a name, help, label names and
 * const labels. Binding it to label values once gives a series handle
 * (vt_counter_series_t, ...); the hot-path calls take that handle, never fail,
 * never lock and never allocate after the calling thread's first touch of a
 * page of cells.
 *
 * The series rule: a series handle stays valid, and writable, until its family
 * is destroyed (directly, or by destroying its registry). Deleting a series
 * (vt_family_remove, vt_family_clear) takes it out of the exposition; a thread
 * that still holds the handle keeps writing into that series' own cells, which
 * nobody reads and no other series ever gets while the family lives. Binding
 * the same label values again creates a new series that starts from zero.
 *
 * The cardinality rule: a family holds at most max_series series. Binding a
 * new label set past the limit returns the family's one overflow series (all
 * label values "__overflow__") and counts the event in
 * vitals_series_overflow_total{metric="<name>"}.
 *
 * Thread-safety: every function here is safe from any thread unless stated.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_METRICS_H
#define VITALS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_counter vt_counter_t;
typedef struct vt_gauge vt_gauge_t;
typedef struct vt_histogram vt_histogram_t;
typedef struct vt_summary vt_summary_t;
typedef struct vt_info vt_info_t;

typedef struct vt_counter_series vt_counter_series_t;
typedef struct vt_gauge_series vt_gauge_series_t;
typedef struct vt_histogram_series vt_histogram_series_t;
typedef struct vt_summary_series vt_summary_series_t;

/* A value read at scrape time. Called with the family's lock held: it must not
 * call back into the same family or registry. */
typedef double (*vt_value_fn)(void *user_data);

/* Label value given to every label of a family's overflow series. */
#define VT_OVERFLOW_LABEL_VALUE "__overflow__"

/* ---- creation -------------------------------------------------------------
 *
 * vt_counter_create and friends create a family and, when reg is not NULL,
 * register it there. With reg NULL the caller owns the family (register it
 * later, or free it with vt_family_destroy()).
 *
 * Parameters: reg (may be NULL); name; help (may be NULL); label_names,
 * NULL-terminated or NULL for none; out_* receives the family.
 * Returns: 0; VT_ENAME for a bad metric name; VT_ELABELNAME for a bad label
 * name; VT_ERESERVED for a "__" label name, "le" on a histogram or "quantile"
 * on a summary; VT_EDUPLABEL; VT_EUTF8 for help or const label values that are
 * not UTF-8; VT_EBUCKETS; VT_EUNIT; VT_ELIMIT (more than 64 label names or
 * 256 bucket bounds); VT_EDUPLICATE (nothing is created);
 * VT_ENOMEM; VT_EINVAL.
 * Thread-safety: safe from any thread.
 * Ownership: copies every string and array it is given.
 * Since: 0.1.0
 */
VT_EXTERN int vt_counter_create(vt_registry_t *reg, const char *name, const char *help,
                                const char *const *label_names, vt_counter_t **out_counter);
VT_EXTERN int vt_gauge_create(vt_registry_t *reg, const char *name, const char *help,
                              const char *const *label_names, vt_gauge_t **out_gauge);
/* buckets NULL (count 0) gives the default bounds .005 .01 .025 .05 .1 .25 .5 1
 * 2.5 5 10; +Inf is always added and must not be listed. */
VT_EXTERN int vt_histogram_create(vt_registry_t *reg, const char *name, const char *help,
                                  const char *const *label_names, const double *buckets,
                                  size_t bucket_count, vt_histogram_t **out_histogram);
VT_EXTERN int vt_summary_create(vt_registry_t *reg, const char *name, const char *help,
                                const char *const *label_names, vt_summary_t **out_summary);
/* An info metric exposes "<name>_info{labels} 1". name must not end in
 * "_info". label_values gives the one label set; change it with vt_info_set(). */
VT_EXTERN int vt_info_create(vt_registry_t *reg, const char *name, const char *help,
                             const char *const *label_names, const char *const *label_values,
                             vt_info_t **out_info);

/* The same with every option (unit, const labels, buckets, series limit). */
VT_EXTERN int vt_counter_create_opts(vt_registry_t *reg, const vt_metric_opts_t *opts,
                                     vt_counter_t **out_counter);
VT_EXTERN int vt_gauge_create_opts(vt_registry_t *reg, const vt_metric_opts_t *opts,
                                   vt_gauge_t **out_gauge);
VT_EXTERN int vt_histogram_create_opts(vt_registry_t *reg, const vt_metric_opts_t *opts,
                                       vt_histogram_t **out_histogram);
VT_EXTERN int vt_summary_create_opts(vt_registry_t *reg, const vt_metric_opts_t *opts,
                                     vt_summary_t **out_summary);

/* The generic family behind a typed one, for vt_registry_register() and the
 * vt_family_* calls. Never NULL for a non-NULL argument. */
VT_EXTERN vt_family_t *vt_counter_family(vt_counter_t *c);
VT_EXTERN vt_family_t *vt_gauge_family(vt_gauge_t *g);
VT_EXTERN vt_family_t *vt_histogram_family(vt_histogram_t *h);
VT_EXTERN vt_family_t *vt_summary_family(vt_summary_t *s);
VT_EXTERN vt_family_t *vt_info_family(vt_info_t *i);

/* ---- binding label values -------------------------------------------------
 *
 * vt_counter_with and friends return the series for the given label values,
 * creating it on first use. Looking up an existing series takes no lock.
 *
 * Parameters: values, NULL-terminated, one per label name (NULL for a family
 * without labels); out_series receives the handle.
 * Returns: 0 (past the series limit, the overflow series); VT_ELABELCOUNT;
 * VT_EUTF8 for a value that is not UTF-8; VT_ENOMEM; VT_EINVAL.
 * On error *out_series is left as it was.
 * Ownership: copies the values; the handle is borrowed from the family.
 * Since: 0.1.0
 */
VT_EXTERN int vt_counter_with(vt_counter_t *c, const char *const *values,
                              vt_counter_series_t **out_series);
VT_EXTERN int vt_gauge_with(vt_gauge_t *g, const char *const *values,
                            vt_gauge_series_t **out_series);
VT_EXTERN int vt_histogram_with(vt_histogram_t *h, const char *const *values,
                                vt_histogram_series_t **out_series);
VT_EXTERN int vt_summary_with(vt_summary_t *s, const char *const *values,
                              vt_summary_series_t **out_series);

/* vt_family_remove - delete the series with these label values (see the
 * series rule above). Returns 0, VT_ENOTFOUND, VT_ELABELCOUNT, or VT_ENOMEM
 * (label values longer than 1 KiB in all need a temporary buffer). */
VT_EXTERN int vt_family_remove(vt_family_t *fam, const char *const *values);

/* ---- the hot path ---------------------------------------------------------
 *
 * These return nothing and cannot fail. Values that would break a metric's
 * meaning change nothing and are counted in vitals_errors_total{kind}:
 * a negative or NaN counter add (kind "negative_counter_add" / "nan_value"),
 * a NaN observation (kind "nan_value").
 */
VT_EXTERN void vt_counter_inc(vt_counter_series_t *s);
VT_EXTERN void vt_counter_add(vt_counter_series_t *s, double v);
VT_EXTERN void vt_counter_add_u64(vt_counter_series_t *s, uint64_t n);

/* vt_gauge_set - store v (any double, NaN and infinities included).
 * Thread-safety: safe from any thread: one atomic store. Since: 0.1.0 */
VT_EXTERN void vt_gauge_set(vt_gauge_series_t *s, double v);
/* vt_gauge_inc / vt_gauge_dec - add 1 / subtract 1.
 * Thread-safety: safe from any thread: a compare-and-swap loop on the one
 * shared value, so concurrent changes are never lost. Since: 0.1.0 */
VT_EXTERN void vt_gauge_inc(vt_gauge_series_t *s);
VT_EXTERN void vt_gauge_dec(vt_gauge_series_t *s);
/* vt_gauge_add / vt_gauge_sub - add v / subtract v (either sign).
 * Thread-safety: as vt_gauge_inc. Since: 0.1.0 */
VT_EXTERN void vt_gauge_add(vt_gauge_series_t *s, double v);
VT_EXTERN void vt_gauge_sub(vt_gauge_series_t *s, double v);
/* Sets the gauge to the current Unix time in seconds (CLOCK_REALTIME). */
VT_EXTERN void vt_gauge_set_to_current_time(vt_gauge_series_t *s);

/* vt_histogram_observe - count v in the first bucket whose bound is >= v
 * (+Inf otherwise) and add it to the sum; with native buckets, also there.
 * NaN is refused and counted (kind "nan_value").
 * Thread-safety: safe from any thread; touches only the calling thread's
 * cells (plus one shared atomic add for native buckets). Since: 0.1.0 */
VT_EXTERN void vt_histogram_observe(vt_histogram_series_t *s, double v);
/* vt_summary_observe - add v to the summary's count and sum and, with
 * objectives, to its quantile window. NaN is refused and counted.
 * Thread-safety: safe from any thread. Since: 0.1.0 */
VT_EXTERN void vt_summary_observe(vt_summary_series_t *s, double v);

/* ---- summary quantiles ---------------------------------------------------
 *
 * A summary created with objectives (vt_metric_opts_t.quantiles) also exposes
 * x{quantile="q"} for each objective q, computed at scrape time over the
 * observations of the last max_age_seconds (the window moves in age_buckets
 * steps, so it covers between max_age_seconds * (1 - 1/age_buckets) and
 * max_age_seconds). Each reported value v is within relative error a
 * (relative_error) of the exact order statistic of rank floor(q * (n - 1)):
 * |v - x| <= a * |x|, for any stream. Magnitudes below 1e-9 count as 0;
 * above 1e15 they saturate. An empty window reports NaN. Observing costs one
 * relaxed atomic add on a shared counter beside the per-thread count and sum.
 *
 * vt_summary_set_clock - replace the monotonic clock of the family's windows
 * (nanoseconds; for tests). Call it before the first observation.
 * Returns: 0; VT_EINVAL; VT_ESTATE for a summary without objectives.
 * Thread-safety: not while other threads observe or scrape the family.
 * Since: 0.1.0
 */
VT_EXTERN int vt_summary_set_clock(vt_summary_t *s, uint64_t (*now_ns)(void *user_data),
                                   void *user_data);

/* ---- native histograms ----------------------------------------------------
 *
 * A histogram created with native_bucket_factor > 1 (vt_metric_opts_t) also
 * keeps Prometheus native buckets: schema s = the finest in -4..8 whose
 * growth 2^(2^-s) is at most the factor; bucket i holds values in
 * (2^((i-1)/2^s), 2^(i/2^s)], mirrored for negatives, and |v| up to the zero
 * threshold counts in the zero bucket. Prometheus reads them from the protobuf
 * exposition (libvitals-proto); text formats show the classic buckets only.
 * Past native_max_buckets populated buckets, the limit applies as in
 * client_golang: reset the native buckets if native_min_reset_seconds have
 * passed since the last reset, else widen the zero bucket (up to
 * native_max_zero_threshold), else halve the resolution.
 *
 * vt_histogram_set_native_clock - replace the monotonic clock the reset rule
 * reads (nanoseconds; for tests). Call it before the first observation.
 * Returns: 0; VT_EINVAL; VT_ESTATE for a histogram without native buckets.
 * Since: 0.1.0
 */
VT_EXTERN int vt_histogram_set_native_clock(vt_histogram_t *h, uint64_t (*now_ns)(void *user_data),
                                            void *user_data);

/* ---- reading back (sums every thread's cells; not for the hot path) ------- */
VT_EXTERN double vt_counter_get(vt_counter_series_t *s);
VT_EXTERN double vt_gauge_get(vt_gauge_series_t *s);
/* Observation count and sum, taken from one consistent snapshot. */
VT_EXTERN void vt_histogram_get(vt_histogram_series_t *s, uint64_t *out_count, double *out_sum);
VT_EXTERN void vt_summary_get(vt_summary_series_t *s, uint64_t *out_count, double *out_sum);

/* ---- values read at scrape time -------------------------------------------
 *
 * vt_counter_set_callback / vt_gauge_set_callback make the series' exposed
 * value whatever fn returns at each scrape (fn NULL goes back to the stored
 * value). A counter callback that returns a negative or NaN value is exposed
 * as 0 and counted (kind "callback_value").
 * Returns: 0, VT_EINVAL or VT_ENOMEM.
 * Ownership: user_data is borrowed until the callback is replaced or the family
 * destroyed.
 * Since: 0.1.0
 */
VT_EXTERN int vt_counter_set_callback(vt_counter_series_t *s, vt_value_fn fn, void *user_data);
VT_EXTERN int vt_gauge_set_callback(vt_gauge_series_t *s, vt_value_fn fn, void *user_data);

/* ---- exemplars (OpenMetrics) ---------------------------------------------
 *
 * vt_counter_add_exemplar adds v like vt_counter_add and keeps an exemplar:
 * the given labels (typically trace_id, span_id), v and the current time. The
 * latest exemplar replaces the previous one. vt_histogram_observe_exemplar
 * observes v like vt_histogram_observe and keeps the exemplar in the bucket v
 * falls in (one per bucket, the latest). Exemplars are written in OpenMetrics
 * (after the counter's _total sample or the bucket's sample) and in protobuf
 * (libvitals-proto), not in the text format 0.0.4; vt_registry_visit()
 * reports them.
 *
 * The value is always recorded, even when the exemplar is refused.
 * Parameters: label_names and label_values, NULL-terminated, at least one
 * label; names and values together at most 128 UTF-8 code points.
 * Returns: 0; VT_ELIMIT over 128 code points; VT_ELABELNAME; VT_EUTF8;
 * VT_ELABELCOUNT; VT_EINVAL (no labels); VT_ERANGE (a negative or NaN value,
 * refused as vt_counter_add / vt_histogram_observe refuse it); VT_ENOMEM.
 * Thread-safety: safe from any thread; exemplar writers of one series
 * serialize on a lock that only they and scrapes take, so series without
 * exemplars never pay for them.
 * Ownership: copies the labels.
 * Since: 0.1.0
 */
VT_EXTERN int vt_counter_add_exemplar(vt_counter_series_t *s, double v,
                                      const char *const *label_names,
                                      const char *const *label_values);
VT_EXTERN int vt_histogram_observe_exemplar(vt_histogram_series_t *s, double v,
                                            const char *const *label_names,
                                            const char *const *label_values);

/* vt_info_set - replace the info metric's label values. Returns 0,
 * VT_ELABELCOUNT, VT_EUTF8 or VT_ENOMEM. */
VT_EXTERN int vt_info_set(vt_info_t *info, const char *const *label_values);

/* ---- histogram bounds -----------------------------------------------------
 *
 * vt_buckets_default - the 11 default bounds; *out_count receives 11.
 * vt_buckets_linear - count bounds start, start+width, ...; width > 0.
 * vt_buckets_exponential - count bounds start, start*factor, ...; start > 0,
 * factor > 1.
 * Returns: 0 or VT_EINVAL (count 0, bad width/start/factor, non-finite result).
 * Thread-safety: safe from any thread. Ownership: out is the caller's array of
 * at least count doubles.
 * Since: 0.1.0
 */
VT_EXTERN const double *vt_buckets_default(size_t *out_count);
VT_EXTERN int vt_buckets_linear(double start, double width, size_t count, double *out);
VT_EXTERN int vt_buckets_exponential(double start, double factor, size_t count, double *out);

#ifdef __cplusplus
}
#endif
#endif
