/* redis_internal.h - what the files of libvitals-redis share: the metrics
 * object, the operation table and the recording calls.
 *
 * Operations are small integers: 0 .. VT__REDIS_N_OPS-1 index the known
 * command names, VT__REDIS_OP_OTHER stands for every other name. Statuses and
 * error kinds are small integers too, so a bound series is one array load.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_REDIS_INTERNAL_H
#define VT_REDIS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vitals/redis.h"

/* Known command names; the operation index is the position in the list. */
#define VT__REDIS_N_OPS 118
#define VT__REDIS_OP_OTHER VT__REDIS_N_OPS
#define VT__REDIS_N_LABELS (VT__REDIS_N_OPS + 1) /* known ones and "other" */
#define VT__REDIS_NAME_MAX 16                    /* longest known name */
#define VT__REDIS_SLOTS 512                      /* name index size, a power of two */

/* Error kinds, in label order. */
enum {
    VT__REDIS_KIND_REPLY = 0,
    VT__REDIS_KIND_TIMEOUT,
    VT__REDIS_KIND_IO,
    VT__REDIS_KIND_PROTOCOL,
    VT__REDIS_KIND_OTHER,
    VT__REDIS_N_KINDS
};
/* Passed as the kind of a successful call. */
#define VT__REDIS_SUCCESS (-1)

/* The name index: slot -> operation + 1 (0 for an empty slot), and each
 * operation's upper-cased name packed into two zero-padded words. Built once
 * per metrics object, read-only afterwards. */
typedef struct vt__redis_index {
    uint8_t slot[VT__REDIS_SLOTS];
    uint64_t words[VT__REDIS_N_OPS][2];
    uint8_t push[VT__REDIS_N_OPS]; /* 1 for the subscribe family and MONITOR */
} vt__redis_index_t;

/* Series bound lazily: each pointer goes from NULL to the series the core
 * returns for its label values and never changes again. Two threads racing
 * to bind store the same pointer (the core returns one series per label
 * set), so a plain release store is enough; readers load with acquire so
 * they see the series the core built. */
struct vt_redis_metrics {
    vt_registry_t *reg;
    vt_histogram_t *duration;
    vt_counter_t *calls;
    vt_counter_t *errors;
    vt_gauge_t *connected;
    vt_counter_t *reconnects;
    vt_counter_series_t *reconnect_ok;
    vt_counter_series_t *reconnect_err;
    atomic_int up;         /* redis_connected, read by the gauge's scrape callback */
    const void *reply_fns; /* hiredis's default reply builders: replies are redisReply */
    vt__redis_index_t index;
    _Atomic(vt_histogram_series_t *) dur_s[VT__REDIS_N_LABELS][2]; /* [op][0 success, 1 error] */
    _Atomic(vt_counter_series_t *) calls_s[VT__REDIS_N_LABELS][2];
    _Atomic(vt_counter_series_t *) err_s[VT__REDIS_N_LABELS][VT__REDIS_N_KINDS];
};

/* ops.c */
extern const char *const vt__redis_op_names[VT__REDIS_N_LABELS];
extern const char *const vt__redis_kind_names[VT__REDIS_N_KINDS];
void vt__redis_index_build(vt__redis_index_t *ix);
/* The operation of a command name (any case); VT__REDIS_OP_OTHER when the
 * name is unknown, empty or NULL. */
unsigned vt__redis_op_lookup(const vt__redis_index_t *ix, const char *name, size_t len);
/* The operation of a formatted RESP command ("*N\r\n$L\r\nNAME\r\n..."). */
unsigned vt__redis_op_from_resp(const vt__redis_index_t *ix, const char *cmd, size_t len);
/* The operation of an argv command; argvlen may be NULL. */
unsigned vt__redis_op_from_argv(const vt__redis_index_t *ix, int argc, const char **argv,
                                const size_t *argvlen);
/* Whether hiredis's async API calls this operation's callback more than once
 * (the subscribe family and MONITOR). */
int vt__redis_op_is_push(const vt__redis_index_t *ix, unsigned op);

/* record.c */
/* The kind of a failed call, from the context after it; pre_err is c->err
 * before the call and saved_errno is errno right after it. */
int vt__redis_kind(const redisContext *c, int pre_err, int saved_errno);
/* Record one call: kind is VT__REDIS_SUCCESS or a VT__REDIS_KIND_*. */
void vt__redis_record(vt_redis_metrics_t *m, unsigned op, int kind, uint64_t ns);
/* Record a call that hiredis finished: success, error reply or failure. */
void vt__redis_finish(vt_redis_metrics_t *m, unsigned op, uint64_t t0, const redisContext *c,
                      int pre_err, int ok, const void *reply, int saved_errno);
/* Whether reply is a REDIS_REPLY_ERROR made by hiredis's default builders. */
int vt__redis_is_error_reply(const vt_redis_metrics_t *m, const redisContext *c, const void *reply);
/* Set redis_connected when it changes. */
void vt__redis_note_up(vt_redis_metrics_t *m, int up);
/* Bind the calls, duration and error series of op (for preinit). */
int vt__redis_bind_op(vt_redis_metrics_t *m, unsigned op);

#endif
