/* common.h - what the Redis tests share: starting the server or skipping,
 * connecting, reading the recorded samples back, comparing replies.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_REDIS_COMMON_H
#define VT_TEST_REDIS_COMMON_H

#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "harness.h"
#include "server.h"
#include "vitals.h"
#include "vitals/redis.h"

/* Start a private server, or skip the program (fail under CI) when
 * redis-server is missing. A write to a connection the server closed must
 * fail with EPIPE, not kill the test. */
static inline void tr_start(rs_server_t *s) {
    signal(SIGPIPE, SIG_IGN);
    memset(s, 0, sizeof(*s));
    if (!rs_available())
        SKIP_ALL("redis-server is not installed (apt-get install redis-server)");
    if (rs_start(s) != 0) {
        fprintf(stderr, "FAIL: redis-server did not start\n");
        exit(1);
    }
}

static inline redisContext *tr_connect(const rs_server_t *s) {
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (!c || c->err) {
        fprintf(stderr, "FAIL: connect to 127.0.0.1:%d: %s\n", s->port,
                c ? c->errstr : "no context");
        exit(1);
    }
    return c;
}

static inline double tr_sample(vt_registry_t *reg, const char *name, const char *const *names,
                               const char *const *values) {
    double v = -1;
    if (vt_registry_get_sample_value(reg, name, names, values, &v) != 0)
        return 0; /* a series that was never bound reads as 0 */
    return v;
}

/* redis_calls_total{operation,status} */
static inline double tr_calls(vt_registry_t *reg, const char *op, const char *status) {
    return tr_sample(reg, "redis_calls_total", VT_LABELS("operation", "status"),
                     VT_VALUES(op, status));
}

/* redis_errors_total{operation,kind} */
static inline double tr_errors(vt_registry_t *reg, const char *op, const char *kind) {
    return tr_sample(reg, "redis_errors_total", VT_LABELS("operation", "kind"),
                     VT_VALUES(op, kind));
}

/* redis_call_duration_seconds_count{operation,status} */
static inline double tr_dur_count(vt_registry_t *reg, const char *op, const char *status) {
    return tr_sample(reg, "redis_call_duration_seconds_count", VT_LABELS("operation", "status"),
                     VT_VALUES(op, status));
}

static inline double tr_dur_sum(vt_registry_t *reg, const char *op, const char *status) {
    return tr_sample(reg, "redis_call_duration_seconds_sum", VT_LABELS("operation", "status"),
                     VT_VALUES(op, status));
}

static inline double tr_connected(vt_registry_t *reg) {
    return tr_sample(reg, "redis_connected", NULL, NULL);
}

static inline double tr_reconnects(vt_registry_t *reg, const char *status) {
    return tr_sample(reg, "redis_reconnects_total", VT_LABELS("status"), VT_VALUES(status));
}

/* Two replies are equal in type, integer, string bytes and every element. */
static inline int tr_reply_equal(const redisReply *a, const redisReply *b) {
    if (!a || !b)
        return a == b;
    if (a->type != b->type || a->integer != b->integer || a->len != b->len ||
        a->elements != b->elements)
        return 0;
    if ((a->str == NULL) != (b->str == NULL) || (a->str && memcmp(a->str, b->str, a->len) != 0))
        return 0;
    for (size_t i = 0; i < a->elements; i++)
        if (!tr_reply_equal(a->element[i], b->element[i]))
            return 0;
    return 1;
}

#endif
