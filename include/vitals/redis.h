/* vitals/redis.h - libvitals-redis: hiredis calls that record RED metrics.
 *
 * Each wrapper does what the hiredis call of the same shape does and returns
 * exactly what that call returns; ctx->err and ctx->errstr are left as
 * hiredis set them. On the way it records, in a vt_redis_metrics_t:
 *
 *   redis_calls_total{operation,status}            counter
 *   redis_call_duration_seconds{operation,status}  histogram
 *   redis_errors_total{operation,kind}             counter
 *   redis_connected                                gauge, 1 or 0
 *   redis_reconnects_total{status}                 counter
 *
 * operation is the command name upper-cased when it is one of a fixed set of
 * common commands (GET, SET, HGET, EXPIRE, ...), else "other": a command name
 * the program builds from user input can never add a series. status is
 * "success" or "error"; a call is an error when hiredis returns no reply or a
 * reply of type REDIS_REPLY_ERROR. kind says which: "reply" (an error reply
 * such as WRONGTYPE), "timeout" (the socket timeout set with redisSetTimeout
 * expired), "io" (the connection was lost, refused or was already broken),
 * "protocol" (the server sent bytes that are not RESP), "other" (out of
 * memory, a bad format string, a disconnecting async context).
 *
 *   redisContext *c = redisConnect("127.0.0.1", 6379);
 *   vt_redis_metrics_t *m;
 *   vt_redis_metrics_create(NULL, NULL, &m);
 *   redisReply *r = vt_redis_command(m, c, "SET %s %s", "k", "v");
 *   freeReplyObject(r);
 *
 * Threading: not thread-safe except where stated. A redisContext, a
 * vt_redis_conn_t and a redisAsyncContext belong to one thread at a time, as
 * in hiredis. A vt_redis_metrics_t is safe from any thread: many connections
 * on many threads may share one.
 *
 * Works with hiredis 0.14 and 1.x. Link with -lvitals_redis (pkg-config
 * vitals-redis, CMake vitals::redis).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_REDIS_H
#define VITALS_REDIS_H

#include <stdarg.h>
#include <stddef.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "vitals/metrics.h"
#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The operation label value of every command outside the known set. */
#define VT_REDIS_OTHER "other"

/* Bounds of the default duration buckets: 100 us * 2^k for k = 0..15, that is
 * 0.0001 0.0002 0.0004 ... 1.6384 3.2768 seconds. */
#define VT_REDIS_BUCKET_COUNT 16

typedef struct vt_redis_metrics vt_redis_metrics_t;
typedef struct vt_redis_conn vt_redis_conn_t;

/* vt_redis_metrics_opts_t - names, buckets and labels of the Redis metrics.
 *
 * Fill with vt_redis_metrics_opts_init() and set what you need. Two metrics
 * objects in one registry need different prefixes or different const labels
 * (e.g. {"server", "sessions", NULL}).
 */
typedef struct vt_redis_metrics_opts {
    const char *prefix;              /* metric name prefix; default "redis" */
    const double *buckets;           /* duration bounds in seconds; NULL: the default 16 */
    size_t bucket_count;             /* entries in buckets */
    const char *const *const_labels; /* NULL-terminated name, value pairs on every metric */
    const char *const *preinit;      /* NULL-terminated operations exposed at 0 from the start */
} vt_redis_metrics_opts_t;

/* vt_redis_metrics_opts_init - zero *opts and set the defaults: prefix
 * "redis", the default buckets, no const labels, nothing preinitialized.
 *
 * Thread-safety: touches only *opts.
 * Since: 0.1.0
 */
VT_EXTERN void vt_redis_metrics_opts_init(vt_redis_metrics_opts_t *opts);

/* vt_redis_metrics_create - create the five families in a registry.
 *
 * A series exists once a call has used it, so an idle program exposes only
 * the two gauges and counters without labels. The operations listed in
 * opts->preinit (case-insensitive, "other" allowed) get their calls, duration
 * and error series at 0 right away, for alerts that must see a 0 before the
 * first error.
 * Parameters: reg (NULL means vt_registry_default()); opts (NULL means the
 * defaults); out_metrics receives the object.
 * Returns: 0; VT_EINVAL (NULL out_metrics or prefix, an operation in preinit
 * that is not in the known set); VT_ENAME (the prefix makes a bad metric
 * name); VT_EBUCKETS; VT_ELABELNAME, VT_ERESERVED, VT_EDUPLABEL or VT_EUTF8 for
 * bad const labels; VT_EDUPLICATE (a name is taken in reg; nothing is
 * created); VT_ENOMEM.
 * Thread-safety: safe from any thread.
 * Ownership: copies opts; borrows reg until vt_redis_metrics_destroy(). The
 * caller owns the object.
 * Since: 0.1.0
 */
VT_EXTERN int vt_redis_metrics_create(vt_registry_t *reg, const vt_redis_metrics_opts_t *opts,
                                      vt_redis_metrics_t **out_metrics);

/* vt_redis_metrics_destroy - unregister and destroy the families and free the
 * object. NULL is ignored.
 *
 * Thread-safety: no call may use the object (directly, through a
 * vt_redis_conn_t, or through an async command still waiting for its reply)
 * during or after the call.
 * Ownership: takes the object.
 * Since: 0.1.0
 */
VT_EXTERN void vt_redis_metrics_destroy(vt_redis_metrics_t *m);

/* vt_redis_metrics_set_connected - set redis_connected to 1 (connected != 0)
 * or 0, for a program that learns the state outside the wrappers: after its
 * own redisConnect(), or in an async connect or disconnect callback.
 *
 * The wrappers also set it: 1 after a call that leaves the context without an
 * error, 0 after one that leaves c->err set. It is one value per metrics
 * object: with several connections it shows the state the latest call saw.
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN void vt_redis_metrics_set_connected(vt_redis_metrics_t *m, int connected);

/* ==== one call, one reply ================================================ */

/* vt_redis_command - redisCommand(c, fmt, ...) with metrics.
 *
 * The command is formatted once (redisvFormatCommand), its name read from the
 * first argument, then sent and answered as redisCommand would
 * (redisAppendFormattedCommand + redisGetReply). The duration runs from the
 * append to the reply. On a non-blocking context the command is only
 * appended, as hiredis does, and nothing is recorded: use the pipelined calls
 * below. With m NULL the call is plain hiredis.
 * Parameters: m; c, a connected context (NULL returns NULL); fmt and its
 * arguments as for redisCommand (%s, %b, ...).
 * Returns: what redisCommand returns: the reply (free it with
 * freeReplyObject) or NULL with c->err set.
 * Thread-safety: m may be shared; c belongs to the calling thread.
 * Ownership: the reply belongs to the caller.
 * Since: 0.1.0
 */
VT_EXTERN void *vt_redis_command(vt_redis_metrics_t *m, redisContext *c, const char *fmt, ...);

/* vt_redis_vcommand - vt_redis_command with a va_list (redisvCommand).
 * ap is consumed as redisvCommand consumes it. Since: 0.1.0 */
VT_EXTERN void *vt_redis_vcommand(vt_redis_metrics_t *m, redisContext *c, const char *fmt,
                                  va_list ap);

/* vt_redis_command_argv - redisCommandArgv(c, argc, argv, argvlen) with
 * metrics; argv[0] is the command name. argvlen NULL means strlen of each.
 * Returns what redisCommandArgv returns. Since: 0.1.0 */
VT_EXTERN void *vt_redis_command_argv(vt_redis_metrics_t *m, redisContext *c, int argc,
                                      const char **argv, const size_t *argvlen);

/* vt_redis_reconnect - redisReconnect(c), counted in
 * redis_reconnects_total{status="success"|"error"}; redis_connected follows
 * the result.
 *
 * Commands appended but not yet answered are dropped by hiredis; with a
 * vt_redis_conn_t use vt_redis_conn_reconnect(), which accounts for them.
 * Returns: what redisReconnect returns (REDIS_OK or REDIS_ERR with c->err
 * set); REDIS_ERR for a NULL c.
 * Thread-safety: m may be shared; c belongs to the calling thread.
 * Since: 0.1.0
 */
VT_EXTERN int vt_redis_reconnect(vt_redis_metrics_t *m, redisContext *c);

/* ==== pipelines ==========================================================
 *
 * A vt_redis_conn_t pairs a redisContext with a queue of the commands
 * appended and not yet answered. Each append queues (operation, batch start);
 * each reply taken with vt_redis_get_reply() dequeues one entry and records
 * it, so every command of a pipeline is attributed to its own operation.
 *
 * The duration of a pipelined command runs from the start of its batch (the
 * first append since the previous get_reply; hiredis sends nothing before
 * that get_reply anyway) to the socket read that brought its reply. A reply
 * hiredis already holds in its buffer is timed to the read that brought it,
 * not to the moment the program takes it. On a blocking context that costs
 * one clock read per batch and one per socket read, instead of two per
 * command; on a non-blocking context, where the program reads the socket
 * itself, each reply is timed when get_reply returns it.
 *
 * When get_reply fails (the connection broke), hiredis will answer none of
 * the queued commands: the failing call and every entry still queued count
 * as errors of the same kind, at once. A reply taken while the queue is empty
 * (pub/sub messages, commands appended with plain hiredis) is passed through
 * and not recorded. Do not mix vt_redis_command() and appends on one context
 * while replies are pending: hiredis would hand the oldest pending reply to
 * the command, and so would the metrics.
 */

/* vt_redis_conn_create - wrap c for pipelined calls.
 *
 * Returns: 0; VT_EINVAL (NULL m, c or out_conn); VT_ENOMEM.
 * Thread-safety: m may be shared; the new object belongs to one thread at a
 * time, like c.
 * Ownership: borrows m and c; the caller still frees c (after destroying the
 * wrapper or before, but not using the wrapper in between).
 * Since: 0.1.0
 */
VT_EXTERN int vt_redis_conn_create(vt_redis_metrics_t *m, redisContext *c,
                                   vt_redis_conn_t **out_conn);

/* vt_redis_conn_destroy - free the wrapper; commands still queued are
 * forgotten, not counted. The context is not touched. NULL is ignored.
 * Since: 0.1.0 */
VT_EXTERN void vt_redis_conn_destroy(vt_redis_conn_t *conn);

/* vt_redis_conn_context - the wrapped context. Since: 0.1.0 */
VT_EXTERN redisContext *vt_redis_conn_context(const vt_redis_conn_t *conn);

/* vt_redis_conn_pending - commands appended and not yet answered. Since: 0.1.0 */
VT_EXTERN size_t vt_redis_conn_pending(const vt_redis_conn_t *conn);

/* vt_redis_append_command - redisAppendCommand(c, fmt, ...) on the wrapped
 * context, queueing the command's operation.
 *
 * Returns: what redisAppendCommand returns, REDIS_OK or REDIS_ERR with c->err
 * set. When the queue cannot grow, REDIS_ERR with c->err REDIS_ERR_OOM and
 * errstr "Out of memory", as hiredis reports its own allocation failures. A
 * failed append counts as an error at once. REDIS_ERR for a NULL conn.
 * Thread-safety: conn belongs to the calling thread.
 * Since: 0.1.0
 */
VT_EXTERN int vt_redis_append_command(vt_redis_conn_t *conn, const char *fmt, ...);

/* vt_redis_vappend_command - the same with a va_list (redisvAppendCommand).
 * Since: 0.1.0 */
VT_EXTERN int vt_redis_vappend_command(vt_redis_conn_t *conn, const char *fmt, va_list ap);

/* vt_redis_append_command_argv - redisAppendCommandArgv with the queue.
 * Since: 0.1.0 */
VT_EXTERN int vt_redis_append_command_argv(vt_redis_conn_t *conn, int argc, const char **argv,
                                           const size_t *argvlen);

/* vt_redis_get_reply - redisGetReply(c, reply) with the queue (see above).
 *
 * Parameters: conn; reply receives the reply as redisGetReply gives it (on a
 * non-blocking context NULL when none is ready, which dequeues nothing); a
 * NULL reply frees the reply.
 * Returns: what redisGetReply returns: REDIS_OK, or REDIS_ERR with c->err set.
 * REDIS_ERR for a NULL conn.
 * Thread-safety: conn belongs to the calling thread.
 * Ownership: *reply belongs to the caller (freeReplyObject).
 * Since: 0.1.0
 */
VT_EXTERN int vt_redis_get_reply(vt_redis_conn_t *conn, void **reply);

/* vt_redis_conn_reconnect - vt_redis_reconnect() on the wrapped context.
 * Queued commands are lost with the old connection: each counts as an error
 * of kind "io" before the reconnect. Returns what redisReconnect returns.
 * Since: 0.1.0 */
VT_EXTERN int vt_redis_conn_reconnect(vt_redis_conn_t *conn);

/* ==== the async API ======================================================
 *
 * vt_redis_async_command - redisAsyncCommand(ac, fn, privdata, fmt, ...) with
 * metrics. The wrapper stands between hiredis and fn: when the reply arrives
 * it records the call (duration from this call to the reply callback; a NULL
 * reply, which hiredis gives when the connection breaks or the context is
 * freed, is an error) and then calls fn(ac, reply, privdata) if fn is not
 * NULL. SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their UNSUBSCRIBE forms and MONITOR
 * go to hiredis untouched and are not recorded, since hiredis calls their
 * callback once per message. A command that hiredis refuses (the context is
 * disconnecting) counts as an error at once. If the wrapper cannot allocate
 * its small per-command record it passes the command to hiredis unrecorded.
 * Returns: what redisAsyncCommand returns (REDIS_OK or REDIS_ERR); REDIS_ERR
 * for a NULL ac.
 * Thread-safety: m may be shared; ac belongs to its event loop's thread. m
 * must outlive every reply still pending.
 * Ownership: as redisAsyncCommand; privdata goes to fn unchanged.
 * Since: 0.1.0
 */
VT_EXTERN int vt_redis_async_command(vt_redis_metrics_t *m, redisAsyncContext *ac,
                                     redisCallbackFn *fn, void *privdata, const char *fmt, ...);

/* vt_redis_async_vcommand - the same with a va_list. Since: 0.1.0 */
VT_EXTERN int vt_redis_async_vcommand(vt_redis_metrics_t *m, redisAsyncContext *ac,
                                      redisCallbackFn *fn, void *privdata, const char *fmt,
                                      va_list ap);

/* vt_redis_async_command_argv - redisAsyncCommandArgv with metrics.
 * Since: 0.1.0 */
VT_EXTERN int vt_redis_async_command_argv(vt_redis_metrics_t *m, redisAsyncContext *ac,
                                          redisCallbackFn *fn, void *privdata, int argc,
                                          const char **argv, const size_t *argvlen);

#ifdef __cplusplus
}
#endif
#endif
