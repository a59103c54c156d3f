/* sync.c - one command, one reply: redisCommand, redisvCommand and
 * redisCommandArgv with metrics, and redisReconnect counted.
 *
 * Each wrapper takes the steps hiredis takes inside redisCommand (format,
 * append to the output buffer, block for one reply) so that the reply, the
 * return value and c->err / c->errstr are exactly those of the plain call;
 * the only addition is reading the command name and two clock reads. When
 * formatting fails, the plain hiredis call is made with a copy of the
 * arguments: it fails the same way and sets c->err as hiredis always does.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>

#include "redis_internal.h"
#include "vitals/timer.h"

/* Send one formatted command and wait for its reply, recording the call. */
static void *roundtrip(vt_redis_metrics_t *m, redisContext *c, unsigned op, const char *cmd,
                       size_t len) {
    void *reply = NULL;
    int pre_err = c->err, ok, saved_errno;
    uint64_t t0 = vt_now_ns();
    ok = redisAppendFormattedCommand(c, cmd, len) == REDIS_OK &&
         redisGetReply(c, &reply) == REDIS_OK;
    saved_errno = errno;
    vt__redis_finish(m, op, t0, c, pre_err, ok, reply, saved_errno);
    return ok ? reply : NULL;
}

void *vt_redis_vcommand(vt_redis_metrics_t *m, redisContext *c, const char *fmt, va_list ap) {
    char *cmd = NULL;
    long long len;
    void *reply;
    va_list copy;
    if (!c)
        return NULL;
    /* Without metrics, and on a non-blocking context (where redisCommand
     * only appends), the plain call is the whole story. */
    if (!m || !(c->flags & REDIS_BLOCK))
        return redisvCommand(c, fmt, ap);
    va_copy(copy, ap);
    len = redisvFormatCommand(&cmd, fmt, ap);
    if (len < 0) {
        int pre_err = c->err;
        uint64_t t0 = vt_now_ns();
        reply = redisvCommand(c, fmt, copy);
        int saved_errno = errno;
        va_end(copy);
        vt__redis_finish(m, VT__REDIS_OP_OTHER, t0, c, pre_err, reply != NULL, reply, saved_errno);
        return reply;
    }
    va_end(copy);
    reply = roundtrip(m, c, vt__redis_op_from_resp(&m->index, cmd, (size_t)len), cmd, (size_t)len);
    redisFreeCommand(cmd);
    return reply;
}

void *vt_redis_command(vt_redis_metrics_t *m, redisContext *c, const char *fmt, ...) {
    va_list ap;
    void *reply;
    va_start(ap, fmt);
    reply = vt_redis_vcommand(m, c, fmt, ap);
    va_end(ap);
    return reply;
}

void *vt_redis_command_argv(vt_redis_metrics_t *m, redisContext *c, int argc, const char **argv,
                            const size_t *argvlen) {
    void *reply = NULL;
    int pre_err, ok, saved_errno;
    uint64_t t0;
    unsigned op;
    if (!c)
        return NULL;
    if (!m || !(c->flags & REDIS_BLOCK))
        return redisCommandArgv(c, argc, argv, argvlen);
    op = vt__redis_op_from_argv(&m->index, argc, argv, argvlen);
    pre_err = c->err;
    t0 = vt_now_ns();
    ok = redisAppendCommandArgv(c, argc, argv, argvlen) == REDIS_OK &&
         redisGetReply(c, &reply) == REDIS_OK;
    saved_errno = errno;
    vt__redis_finish(m, op, t0, c, pre_err, ok, reply, saved_errno);
    return ok ? reply : NULL;
}

int vt_redis_reconnect(vt_redis_metrics_t *m, redisContext *c) {
    int rc;
    if (!c)
        return REDIS_ERR;
    rc = redisReconnect(c);
    if (m) {
        vt_counter_inc(rc == REDIS_OK ? m->reconnect_ok : m->reconnect_err);
        vt__redis_note_up(m, rc == REDIS_OK && c->err == 0);
    }
    return rc;
}
