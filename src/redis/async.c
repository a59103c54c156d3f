/* async.c - hiredis's async API with metrics: the wrapper formats the
 * command, reads its name, and stands between hiredis and the caller's
 * callback to time the reply.
 *
 * Each recorded command owns one heap record from submission until hiredis
 * calls the wrapper's callback, which hiredis does exactly once for every
 * command it accepted (with the reply, or with NULL when the connection
 * breaks or the context is freed); the callback frees the record before it
 * calls the caller's function. Commands whose callback hiredis calls once
 * per message (the subscribe family, MONITOR) are never wrapped. Everything
 * here runs on the event loop's thread; the metrics object may be shared.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "redis_internal.h"
#include "vitals/timer.h"

typedef struct pending {
    vt_redis_metrics_t *m;
    redisCallbackFn *fn; /* the caller's callback, may be NULL */
    void *privdata;      /* the caller's privdata */
    uint64_t t0;         /* CLOCK_MONOTONIC ns at submission */
    unsigned op;
} pending_t;

/* The kind of a failed async call: non-blocking sockets never report a
 * socket timeout through errno, so only the context's error code counts. */
static int async_kind(const redisAsyncContext *ac) {
    return ac->c.err ? vt__redis_kind(&ac->c, 0, 0) : VT__REDIS_KIND_OTHER;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata) {
    pending_t *p = privdata;
    uint64_t now = vt_now_ns();
    redisCallbackFn *fn = p->fn;
    void *user = p->privdata;
    int kind;
    if (!reply)
        kind = async_kind(ac);
    else if (vt__redis_is_error_reply(p->m, &ac->c, reply))
        kind = VT__REDIS_KIND_REPLY;
    else
        kind = VT__REDIS_SUCCESS;
    vt__redis_record(p->m, p->op, kind, now > p->t0 ? now - p->t0 : 0);
    if (reply || ac->c.err)
        vt__redis_note_up(p->m, reply != NULL);
    free(p);
    if (fn)
        fn(ac, reply, user);
}

static int submit(vt_redis_metrics_t *m, redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                  unsigned op, const char *cmd, size_t len) {
    pending_t *p;
    int rc;
    if (vt__redis_op_is_push(&m->index, op) || (p = malloc(sizeof(*p))) == NULL)
        return redisAsyncFormattedCommand(ac, fn, privdata, cmd, len);
    p->m = m;
    p->fn = fn;
    p->privdata = privdata;
    p->op = op;
    p->t0 = vt_now_ns();
    rc = redisAsyncFormattedCommand(ac, on_reply, p, cmd, len);
    if (rc != REDIS_OK) {
        /* hiredis registered no callback: the record is still ours. */
        uint64_t now = vt_now_ns();
        vt__redis_record(m, op, async_kind(ac), now > p->t0 ? now - p->t0 : 0);
        free(p);
    }
    return rc;
}

/* A command hiredis could not format was refused without a callback. */
static int refused(vt_redis_metrics_t *m, int rc) {
    if (rc != REDIS_OK)
        vt__redis_record(m, VT__REDIS_OP_OTHER, VT__REDIS_KIND_OTHER, 0);
    return rc;
}

int vt_redis_async_vcommand(vt_redis_metrics_t *m, redisAsyncContext *ac, redisCallbackFn *fn,
                            void *privdata, const char *fmt, va_list ap) {
    char *cmd = NULL;
    long long len;
    va_list copy;
    int rc;
    if (!ac)
        return REDIS_ERR;
    if (!m)
        return redisvAsyncCommand(ac, fn, privdata, fmt, ap);
    va_copy(copy, ap);
    len = redisvFormatCommand(&cmd, fmt, ap);
    if (len < 0) {
        rc = refused(m, redisvAsyncCommand(ac, fn, privdata, fmt, copy));
        va_end(copy);
        return rc;
    }
    va_end(copy);
    rc = submit(m, ac, fn, privdata, vt__redis_op_from_resp(&m->index, cmd, (size_t)len), cmd,
                (size_t)len);
    redisFreeCommand(cmd);
    return rc;
}

int vt_redis_async_command(vt_redis_metrics_t *m, redisAsyncContext *ac, redisCallbackFn *fn,
                           void *privdata, const char *fmt, ...) {
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = vt_redis_async_vcommand(m, ac, fn, privdata, fmt, ap);
    va_end(ap);
    return rc;
}

int vt_redis_async_command_argv(vt_redis_metrics_t *m, redisAsyncContext *ac, redisCallbackFn *fn,
                                void *privdata, int argc, const char **argv,
                                const size_t *argvlen) {
    char *cmd = NULL;
    long long len;
    int rc;
    if (!ac)
        return REDIS_ERR;
    if (!m)
        return redisAsyncCommandArgv(ac, fn, privdata, argc, argv, argvlen);
    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0)
        return refused(m, redisAsyncCommandArgv(ac, fn, privdata, argc, argv, argvlen));
    rc = submit(m, ac, fn, privdata, vt__redis_op_from_argv(&m->index, argc, argv, argvlen), cmd,
                (size_t)len);
    redisFreeCommand(cmd);
    return rc;
}
