/* pipeline.c - pipelined calls: appends queue (operation, batch start) in a
 * ring per connection, and each reply dequeues one entry and records it.
 *
 * Invariant: the ring holds exactly the commands appended through this
 * wrapper whose replies hiredis has not yet handed out, oldest first, so the
 * n-th reply belongs to the n-th entry (hiredis answers in order). The ring
 * grows before hiredis is asked to append, so a command is never in hiredis's
 * buffer without its entry. When hiredis fails a reply the connection is
 * dead and no queued command will be answered: the whole ring is counted as
 * errors and emptied. A vt_redis_conn_t belongs to one thread at a time.
 *
 * Clock reads are the largest cost per pipelined command, so there are few:
 * one at the first append of a batch, and one after each get_reply that had
 * to read the socket (replies served from hiredis's buffer reuse it; see
 * vt_redis_get_reply for how the two cases are told apart).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "redis_internal.h"
#include "vitals/timer.h"

#define RING_MIN 16

typedef struct entry {
    uint64_t t0; /* CLOCK_MONOTONIC ns at the first append of its batch */
    unsigned op;
} entry_t;

struct vt_redis_conn {
    vt_redis_metrics_t *m;
    redisContext *c;
    entry_t *ring; /* cap entries, a power of two */
    size_t cap;
    size_t head;       /* index of the oldest entry */
    size_t count;      /* entries queued */
    uint64_t batch_t0; /* time of the first append since the last get_reply */
    int batch_open;    /* batch_t0 is set: no get_reply since that append */
    uint64_t last_io;  /* time of the last get_reply that read the socket */
};

int vt_redis_conn_create(vt_redis_metrics_t *m, redisContext *c, vt_redis_conn_t **out_conn) {
    vt_redis_conn_t *conn;
    if (!m || !c || !out_conn)
        return VT_EINVAL;
    conn = calloc(1, sizeof(*conn));
    if (!conn)
        return VT_ENOMEM;
    conn->ring = malloc(RING_MIN * sizeof(entry_t));
    if (!conn->ring) {
        free(conn);
        return VT_ENOMEM;
    }
    conn->cap = RING_MIN;
    conn->m = m;
    conn->c = c;
    vt__redis_note_up(m, c->err == 0);
    *out_conn = conn;
    return 0;
}

void vt_redis_conn_destroy(vt_redis_conn_t *conn) {
    if (!conn)
        return;
    free(conn->ring);
    free(conn);
}

redisContext *vt_redis_conn_context(const vt_redis_conn_t *conn) {
    return conn ? conn->c : NULL;
}

size_t vt_redis_conn_pending(const vt_redis_conn_t *conn) {
    return conn ? conn->count : 0;
}

/* Room for one more entry; 0 or VT_ENOMEM. */
static int reserve(vt_redis_conn_t *conn) {
    if (conn->count < conn->cap)
        return 0;
    if (conn->cap > ((size_t)-1 / sizeof(entry_t)) / 2)
        return VT_ENOMEM;
    size_t cap = conn->cap * 2;
    entry_t *r = malloc(cap * sizeof(entry_t));
    if (!r)
        return VT_ENOMEM;
    /* Unwrap: the oldest entry moves to index 0. */
    size_t first = conn->cap - conn->head;
    if (first > conn->count)
        first = conn->count;
    memcpy(r, conn->ring + conn->head, first * sizeof(entry_t));
    memcpy(r + first, conn->ring, (conn->count - first) * sizeof(entry_t));
    free(conn->ring);
    conn->ring = r;
    conn->cap = cap;
    conn->head = 0;
    return 0;
}

/* The start time of the batch being appended: one clock read per batch, not
 * per command. */
static uint64_t batch_time(vt_redis_conn_t *conn) {
    if (!conn->batch_open) {
        conn->batch_t0 = vt_now_ns();
        conn->batch_open = 1;
    }
    return conn->batch_t0;
}

static void push(vt_redis_conn_t *conn, unsigned op, uint64_t t0) {
    entry_t *e = &conn->ring[(conn->head + conn->count) & (conn->cap - 1)];
    e->op = op;
    e->t0 = t0;
    conn->count++;
}

static entry_t pop(vt_redis_conn_t *conn) {
    entry_t e = conn->ring[conn->head];
    conn->head = (conn->head + 1) & (conn->cap - 1);
    conn->count--;
    return e;
}

/* Count every queued command as an error of this kind, ending now. */
static void fail_all(vt_redis_conn_t *conn, int kind, uint64_t now) {
    while (conn->count) {
        entry_t e = pop(conn);
        vt__redis_record(conn->m, e.op, kind, now > e.t0 ? now - e.t0 : 0);
    }
}

/* Mark the context out of memory the way hiredis does for its own failed
 * allocations. */
static void set_oom(redisContext *c) {
    static const char msg[] = "Out of memory";
    c->err = REDIS_ERR_OOM;
    memcpy(c->errstr, msg, sizeof(msg));
}

/* After hiredis tried to append: queue the command, or count the failure. */
static int appended(vt_redis_conn_t *conn, unsigned op, uint64_t t0, int pre_err, int rc) {
    if (rc == REDIS_OK)
        push(conn, op, t0);
    else
        vt__redis_finish(conn->m, op, t0, conn->c, pre_err, 0, NULL, errno);
    return rc;
}

int vt_redis_vappend_command(vt_redis_conn_t *conn, const char *fmt, va_list ap) {
    char *cmd = NULL;
    long long len;
    int pre_err, rc;
    uint64_t t0;
    va_list copy;
    if (!conn)
        return REDIS_ERR;
    if (reserve(conn) != 0) {
        set_oom(conn->c);
        vt__redis_finish(conn->m, VT__REDIS_OP_OTHER, vt_now_ns(), conn->c, 0, 0, NULL, 0);
        return REDIS_ERR;
    }
    pre_err = conn->c->err;
    va_copy(copy, ap);
    len = redisvFormatCommand(&cmd, fmt, ap);
    if (len < 0) {
        /* hiredis fails the same way and sets c->err (see sync.c). */
        t0 = batch_time(conn);
        rc = redisvAppendCommand(conn->c, fmt, copy);
        va_end(copy);
        return appended(conn, VT__REDIS_OP_OTHER, t0, pre_err, rc);
    }
    va_end(copy);
    t0 = batch_time(conn);
    rc = redisAppendFormattedCommand(conn->c, cmd, (size_t)len);
    rc = appended(conn, vt__redis_op_from_resp(&conn->m->index, cmd, (size_t)len), t0, pre_err, rc);
    redisFreeCommand(cmd);
    return rc;
}

int vt_redis_append_command(vt_redis_conn_t *conn, const char *fmt, ...) {
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = vt_redis_vappend_command(conn, fmt, ap);
    va_end(ap);
    return rc;
}

int vt_redis_append_command_argv(vt_redis_conn_t *conn, int argc, const char **argv,
                                 const size_t *argvlen) {
    int pre_err;
    uint64_t t0;
    unsigned op;
    if (!conn)
        return REDIS_ERR;
    op = vt__redis_op_from_argv(&conn->m->index, argc, argv, argvlen);
    if (reserve(conn) != 0) {
        set_oom(conn->c);
        vt__redis_finish(conn->m, op, vt_now_ns(), conn->c, 0, 0, NULL, 0);
        return REDIS_ERR;
    }
    pre_err = conn->c->err;
    t0 = batch_time(conn);
    return appended(conn, op, t0, pre_err, redisAppendCommandArgv(conn->c, argc, argv, argvlen));
}

/* A reply hiredis already holds in its reader, as redisGetReply's first step
 * takes it: no I/O. With RESP3 (hiredis 1.x) a push message found there goes
 * to the context's push callback, as redisGetReply would send it. */
static int buffered_reply(redisContext *c, void **r) {
    int rc = redisGetReplyFromReader(c, r);
#ifdef REDIS_REPLY_PUSH
    while (rc == REDIS_OK && *r && c->push_cb && ((redisReply *)*r)->type == REDIS_REPLY_PUSH) {
        c->push_cb(c->privdata, *r);
        *r = NULL;
        rc = redisGetReplyFromReader(c, r);
    }
#endif
    return rc;
}

int vt_redis_get_reply(vt_redis_conn_t *conn, void **reply) {
    void *r = NULL;
    int rc = REDIS_OK, pre_err, saved_errno = 0, kind, io = 1;
    uint64_t now;
    entry_t e;
    if (!conn)
        return REDIS_ERR;
    redisContext *c = conn->c;
    conn->batch_open = 0;
    pre_err = c->err;
    /* redisGetReply in two steps, so we know whether it read the socket: a
     * reply already buffered takes the time of the read that brought it
     * (most replies of a pipeline), and costs no clock read. On a
     * non-blocking context the caller reads the socket, so every reply is
     * timed. */
    if ((c->flags & REDIS_BLOCK) && conn->count > 0) {
        rc = buffered_reply(c, &r);
        io = rc == REDIS_OK && r == NULL;
        saved_errno = errno;
    }
    if (io) {
        rc = redisGetReply(c, &r);
        saved_errno = errno;
    }
    /* Something to attribute: not a non-blocking context with no reply
     * ready, nor a reply nobody queued (pub/sub messages, plain hiredis
     * appends). */
    if (conn->count > 0 && (rc != REDIS_OK || r != NULL)) {
        if (io)
            conn->last_io = vt_now_ns();
        now = conn->last_io;
        e = pop(conn);
        if (rc == REDIS_OK)
            kind =
                vt__redis_is_error_reply(conn->m, c, r) ? VT__REDIS_KIND_REPLY : VT__REDIS_SUCCESS;
        else
            kind = vt__redis_kind(c, pre_err, saved_errno);
        vt__redis_record(conn->m, e.op, kind, now > e.t0 ? now - e.t0 : 0);
        if (rc != REDIS_OK)
            fail_all(conn, kind, now);
        vt__redis_note_up(conn->m, c->err == 0);
    }
    if (reply)
        *reply = r;
    else if (r)
        freeReplyObject(r);
    return rc;
}

int vt_redis_conn_reconnect(vt_redis_conn_t *conn) {
    if (!conn)
        return REDIS_ERR;
    conn->batch_open = 0;
    fail_all(conn, VT__REDIS_KIND_IO, vt_now_ns());
    return vt_redis_reconnect(conn->m, conn->c);
}
