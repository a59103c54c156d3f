/* metrics.c - creating and destroying the Redis metrics object: its five
 * families, the name index, the preinitialized series and the connected
 * gauge.
 *
 * The object is immutable after creation except for the lazily bound series
 * pointers and the connected flag (both atomics, see redis_internal.h), so
 * any number of threads may record into it. Creation either builds every
 * family or leaves the registry as it was.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "redis_internal.h"

void vt_redis_metrics_opts_init(vt_redis_metrics_opts_t *opts) {
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->prefix = "redis";
}

/* prefix + suffix in a new string, or NULL. */
static char *join(const char *prefix, const char *suffix) {
    size_t a = strlen(prefix), b = strlen(suffix);
    char *s = malloc(a + b + 1);
    if (s) {
        memcpy(s, prefix, a);
        memcpy(s + a, suffix, b + 1);
    }
    return s;
}

static void drop_family(vt_registry_t *reg, vt_family_t *fam) {
    if (!fam)
        return;
    vt_registry_unregister(reg, fam);
    vt_family_destroy(fam);
}

static void drop_families(vt_redis_metrics_t *m) {
    drop_family(m->reg, m->duration ? vt_histogram_family(m->duration) : NULL);
    drop_family(m->reg, m->calls ? vt_counter_family(m->calls) : NULL);
    drop_family(m->reg, m->errors ? vt_counter_family(m->errors) : NULL);
    drop_family(m->reg, m->connected ? vt_gauge_family(m->connected) : NULL);
    drop_family(m->reg, m->reconnects ? vt_counter_family(m->reconnects) : NULL);
}

static double up_value(void *user_data) {
    const vt_redis_metrics_t *m = user_data;
    return atomic_load_explicit(&m->up, memory_order_relaxed) ? 1.0 : 0.0;
}

/* One family: name is prefix + suffix. type is VT_COUNTER, VT_GAUGE or
 * VT_HISTOGRAM; out points at the typed family pointer. */
static int make(vt_redis_metrics_t *m, const vt_redis_metrics_opts_t *o, vt_type_t type,
                const char *suffix, const char *help, const char *const *labels, void *out) {
    double def[VT_REDIS_BUCKET_COUNT];
    vt_metric_opts_t mo;
    int rc;
    char *name = join(o->prefix, suffix);
    if (!name)
        return VT_ENOMEM;
    vt_metric_opts_init(&mo);
    mo.name = name;
    mo.help = help;
    mo.label_names = labels;
    mo.const_labels = o->const_labels;
    switch (type) {
    case VT_HISTOGRAM:
        mo.unit = "seconds";
        mo.buckets = o->buckets;
        mo.bucket_count = o->bucket_count;
        if (!o->buckets) {
            rc = vt_buckets_exponential(0.0001, 2, VT_REDIS_BUCKET_COUNT, def);
            if (rc != 0)
                break;
            mo.buckets = def;
            mo.bucket_count = VT_REDIS_BUCKET_COUNT;
        }
        rc = vt_histogram_create_opts(m->reg, &mo, out);
        break;
    case VT_GAUGE:
        rc = vt_gauge_create_opts(m->reg, &mo, out);
        break;
    default:
        rc = vt_counter_create_opts(m->reg, &mo, out);
        break;
    }
    free(name);
    return rc;
}

static int make_families(vt_redis_metrics_t *m, const vt_redis_metrics_opts_t *o) {
    const char *const op_status[] = {"operation", "status", NULL};
    const char *const op_kind[] = {"operation", "kind", NULL};
    const char *const status[] = {"status", NULL};
    vt_gauge_series_t *up;
    int rc;

    rc = make(m, o, VT_HISTOGRAM, "_call_duration_seconds",
              "Duration of Redis calls in seconds, from sending the command to its reply, by "
              "operation and status.",
              op_status, &m->duration);
    if (rc == 0)
        rc = make(m, o, VT_COUNTER, "_calls_total",
                  "Redis calls by operation and status (success or error).", op_status, &m->calls);
    if (rc == 0)
        rc = make(m, o, VT_COUNTER, "_errors_total",
                  "Failed Redis calls by operation and kind (reply, timeout, io, protocol, other).",
                  op_kind, &m->errors);
    if (rc == 0)
        rc = make(m, o, VT_GAUGE, "_connected",
                  "1 when the latest Redis call found its connection usable, else 0.", NULL,
                  &m->connected);
    if (rc == 0)
        rc = make(m, o, VT_COUNTER, "_reconnects_total",
                  "Redis reconnection attempts by status (success or error).", status,
                  &m->reconnects);
    if (rc == 0)
        rc = vt_gauge_with(m->connected, NULL, &up);
    if (rc == 0)
        rc = vt_gauge_set_callback(up, up_value, m);
    if (rc == 0)
        rc = vt_counter_with(m->reconnects, VT_VALUES("success"), &m->reconnect_ok);
    if (rc == 0)
        rc = vt_counter_with(m->reconnects, VT_VALUES("error"), &m->reconnect_err);
    return rc;
}

static int preinit(vt_redis_metrics_t *m, const char *const *names) {
    for (size_t i = 0; names && names[i]; i++) {
        size_t len = strlen(names[i]);
        unsigned op = vt__redis_op_lookup(&m->index, names[i], len);
        if (op == VT__REDIS_OP_OTHER && strcmp(names[i], VT_REDIS_OTHER) != 0)
            return VT_EINVAL;
        int rc = vt__redis_bind_op(m, op);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The reply builders of a reader made with hiredis's defaults: a context
 * whose reader uses them returns redisReply objects. */
static const void *default_reply_fns(void) {
    redisReader *r = redisReaderCreate();
    const void *fns;
    if (!r)
        return NULL;
    fns = (const void *)r->fn;
    redisReaderFree(r);
    return fns;
}

int vt_redis_metrics_create(vt_registry_t *reg, const vt_redis_metrics_opts_t *opts,
                            vt_redis_metrics_t **out_metrics) {
    vt_redis_metrics_opts_t defaults;
    vt_redis_metrics_t *m;
    int rc;
    if (!out_metrics)
        return VT_EINVAL;
    if (!opts) {
        vt_redis_metrics_opts_init(&defaults);
        opts = &defaults;
    }
    if (!opts->prefix || !*opts->prefix)
        return VT_EINVAL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return VT_ENOMEM;
    m->reg = reg ? reg : vt_registry_default();
    atomic_init(&m->up, 0);
    vt__redis_index_build(&m->index);
    m->reply_fns = default_reply_fns();
    rc = m->reply_fns ? make_families(m, opts) : VT_ENOMEM;
    if (rc == 0)
        rc = preinit(m, opts->preinit);
    if (rc != 0) {
        drop_families(m);
        free(m);
        return rc;
    }
    *out_metrics = m;
    return 0;
}

void vt_redis_metrics_destroy(vt_redis_metrics_t *m) {
    if (!m)
        return;
    drop_families(m);
    free(m);
}

void vt_redis_metrics_set_connected(vt_redis_metrics_t *m, int connected) {
    if (m)
        vt__redis_note_up(m, connected != 0);
}
