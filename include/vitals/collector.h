/* vitals/collector.h - custom collectors: families produced at scrape time.
 *
 * A collector is a function the registry calls during every scrape. It emits
 * whole families through the emitter: vt_emit_family() opens a family, the
 * vt_emit_* sample calls fill it. Everything emitted is validated like a
 * created family; an invalid family is dropped whole (the scrape goes on) and
 * counted in vitals_errors_total{kind="collector"}.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_COLLECTOR_H
#define VITALS_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_emitter vt_emitter_t;
typedef struct vt_collector vt_collector_t;

/* Called once per scrape. Return 0; a negative return drops what this call
 * emitted since its last complete family and is counted as a collector error. */
typedef int (*vt_collect_fn)(vt_emitter_t *e, void *user_data);

/* vt_registry_add_collector - add a collector to a registry.
 *
 * Parameters: names, NULL-terminated family names the collector will emit, so
 * that duplicates are rejected now (may be NULL: then a family whose name is
 * taken is dropped at scrape time); fn; user_data; release, called with
 * user_data when the collector is removed or the registry destroyed (may be
 * NULL); out_collector receives a handle for removal (may be NULL).
 * Returns: 0, VT_EDUPLICATE, VT_ENAME, VT_EINVAL or VT_ENOMEM.
 * Thread-safety: safe from any thread. fn runs on the scraping thread.
 * Ownership: copies names; borrows user_data until release.
 * Since: 0.1.0
 */
VT_EXTERN int vt_registry_add_collector(vt_registry_t *reg, const char *const *names,
                                        vt_collect_fn fn, void *user_data,
                                        void (*release)(void *user_data),
                                        vt_collector_t **out_collector);

/* vt_registry_remove_collector - remove and release a collector.
 * Returns 0 or VT_ENOTFOUND. Waits for a scrape in progress. Since: 0.1.0 */
VT_EXTERN int vt_registry_remove_collector(vt_registry_t *reg, vt_collector_t *collector);

/* vt_emit_family - open a family. type is VT_COUNTER, VT_GAUGE, VT_HISTOGRAM,
 * VT_SUMMARY, VT_INFO or VT_UNTYPED; help and unit may be NULL; label_names is
 * NULL-terminated or NULL. A counter name may end in "_total" or not; an info
 * name must not end in "_info".
 * Returns: 0, VT_ENAME, VT_ELABELNAME, VT_ERESERVED, VT_EDUPLABEL, VT_EUTF8,
 * VT_EUNIT, VT_ENOMEM. After an error the family's samples are refused.
 * Since: 0.1.0 */
VT_EXTERN int vt_emit_family(vt_emitter_t *e, vt_type_t type, const char *name, const char *help,
                             const char *unit, const char *const *label_names);

/* vt_emit_value - one sample of a counter, gauge, untyped or info family
 * (info ignores value). Returns 0, VT_ELABELCOUNT, VT_EUTF8, VT_ETYPE,
 * VT_ERANGE (negative or NaN counter), VT_ESTATE (no open family), VT_ENOMEM. */
VT_EXTERN int vt_emit_value(vt_emitter_t *e, const char *const *label_values, double value);

/* vt_emit_histogram - one histogram series: bound_count finite increasing
 * bounds with their cumulative counts, then the total count (the +Inf bucket)
 * and the sum. Returns 0, VT_EBUCKETS (bounds or counts not increasing, or a
 * cumulative count above count), VT_ELABELCOUNT, VT_EUTF8, VT_ETYPE, VT_ESTATE,
 * VT_ENOMEM. */
VT_EXTERN int vt_emit_histogram(vt_emitter_t *e, const char *const *label_values,
                                const double *bounds, const uint64_t *cumulative_counts,
                                size_t bound_count, uint64_t count, double sum);

/* vt_emit_summary - one summary series: count and sum, plus quantile_count
 * (quantile, value) pairs with quantiles increasing inside [0, 1]. */
VT_EXTERN int vt_emit_summary(vt_emitter_t *e, const char *const *label_values, uint64_t count,
                              double sum, const double *quantiles, const double *values,
                              size_t quantile_count);

#ifdef __cplusplus
}
#endif
#endif
