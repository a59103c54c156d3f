/* record.c - the hot path of libvitals-redis: classify how a call ended and
 * add it to the bound series of its (operation, status) and (operation,
 * kind).
 *
 * A series pointer is bound on first use and cached in the metrics object
 * (see the struct in redis_internal.h for the memory orders); after that a
 * call costs one acquire load per series and the core's lock-free updates.
 * redis_connected is a scrape-time callback over an atomic int that calls
 * store only when the state changes, so connections on many threads that all
 * stay up never write a shared cache line.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>

#include "redis_internal.h"
#include "vitals/timer.h"

int vt__redis_kind(const redisContext *c, int pre_err, int saved_errno) {
    /* A context that was already broken fails without any I/O; errno is
     * stale then, so the kind says only that there is no connection. */
    if (pre_err)
        return VT__REDIS_KIND_IO;
    switch (c->err) {
    case REDIS_ERR_IO:
        /* SO_RCVTIMEO / SO_SNDTIMEO expiring show as EAGAIN on a blocking
         * socket (ETIMEDOUT on some systems); hiredis 0.14 and 1.x report
         * both as REDIS_ERR_IO with errno still set. */
        if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT)
            return VT__REDIS_KIND_TIMEOUT;
        return VT__REDIS_KIND_IO;
    case REDIS_ERR_EOF:
        return VT__REDIS_KIND_IO;
    case REDIS_ERR_PROTOCOL:
        return VT__REDIS_KIND_PROTOCOL;
#ifdef REDIS_ERR_TIMEOUT
    case REDIS_ERR_TIMEOUT:
        return VT__REDIS_KIND_TIMEOUT;
#endif
    default:
        return VT__REDIS_KIND_OTHER;
    }
}

void vt__redis_note_up(vt_redis_metrics_t *m, int up) {
    if (atomic_load_explicit(&m->up, memory_order_relaxed) != up)
        atomic_store_explicit(&m->up, up, memory_order_relaxed);
}

static vt_histogram_series_t *bind_duration(vt_redis_metrics_t *m, unsigned op, int st) {
    vt_histogram_series_t *s = atomic_load_explicit(&m->dur_s[op][st], memory_order_acquire);
    if (s)
        return s;
    const char *values[] = {vt__redis_op_names[op], st ? "error" : "success", NULL};
    if (vt_histogram_with(m->duration, values, &s) != 0)
        return NULL;
    atomic_store_explicit(&m->dur_s[op][st], s, memory_order_release);
    return s;
}

static vt_counter_series_t *bind_calls(vt_redis_metrics_t *m, unsigned op, int st) {
    vt_counter_series_t *s = atomic_load_explicit(&m->calls_s[op][st], memory_order_acquire);
    if (s)
        return s;
    const char *values[] = {vt__redis_op_names[op], st ? "error" : "success", NULL};
    if (vt_counter_with(m->calls, values, &s) != 0)
        return NULL;
    atomic_store_explicit(&m->calls_s[op][st], s, memory_order_release);
    return s;
}

static vt_counter_series_t *bind_error(vt_redis_metrics_t *m, unsigned op, int kind) {
    vt_counter_series_t *s = atomic_load_explicit(&m->err_s[op][kind], memory_order_acquire);
    if (s)
        return s;
    const char *values[] = {vt__redis_op_names[op], vt__redis_kind_names[kind], NULL};
    if (vt_counter_with(m->errors, values, &s) != 0)
        return NULL;
    atomic_store_explicit(&m->err_s[op][kind], s, memory_order_release);
    return s;
}

int vt__redis_bind_op(vt_redis_metrics_t *m, unsigned op) {
    for (int st = 0; st < 2; st++)
        if (!bind_duration(m, op, st) || !bind_calls(m, op, st))
            return VT_ENOMEM;
    for (int k = 0; k < VT__REDIS_N_KINDS; k++)
        if (!bind_error(m, op, k))
            return VT_ENOMEM;
    return 0;
}

void vt__redis_record(vt_redis_metrics_t *m, unsigned op, int kind, uint64_t ns) {
    int st = kind != VT__REDIS_SUCCESS;
    vt_histogram_series_t *d;
    vt_counter_series_t *c;
    if (op > VT__REDIS_OP_OTHER)
        op = VT__REDIS_OP_OTHER;
    /* A series the core could not allocate is skipped: the hot path cannot
     * fail, and the next call tries to bind it again. */
    if ((d = bind_duration(m, op, st)) != NULL)
        vt_histogram_observe(d, (double)ns * 1e-9);
    if ((c = bind_calls(m, op, st)) != NULL)
        vt_counter_inc(c);
    if (st && kind < VT__REDIS_N_KINDS && (c = bind_error(m, op, kind)) != NULL)
        vt_counter_inc(c);
}

int vt__redis_is_error_reply(const vt_redis_metrics_t *m, const redisContext *c,
                             const void *reply) {
    /* A reader with the caller's own reply builders makes objects whose type
     * is unknown here: those replies count as successes. */
    if (!c->reader || (const void *)c->reader->fn != m->reply_fns)
        return 0;
    return ((const redisReply *)reply)->type == REDIS_REPLY_ERROR;
}

void vt__redis_finish(vt_redis_metrics_t *m, unsigned op, uint64_t t0, const redisContext *c,
                      int pre_err, int ok, const void *reply, int saved_errno) {
    uint64_t t1 = vt_now_ns();
    int kind;
    if (!ok)
        kind = vt__redis_kind(c, pre_err, saved_errno);
    else if (reply && vt__redis_is_error_reply(m, c, reply))
        kind = VT__REDIS_KIND_REPLY;
    else
        kind = VT__REDIS_SUCCESS;
    vt__redis_record(m, op, kind, t1 > t0 ? t1 - t0 : 0);
    vt__redis_note_up(m, c->err == 0);
}
