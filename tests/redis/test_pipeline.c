/* test_pipeline.c - pipelined calls through vt_redis_conn_t against a real
 * redis-server: replies equal plain hiredis pipelines, each command is
 * attributed to its own operation, the queue survives growth and wrapping,
 * durations run from each append, pub/sub messages pass unrecorded, and a
 * non-blocking context dequeues only real replies.
 *
 * SPDX-License-Identifier: MIT
 */
#include <poll.h>
#include <time.h>

#include "common.h"

static rs_server_t srv;
static vt_registry_t *reg;
static vt_redis_metrics_t *m;

static double calls_all(const char *op) {
    return tr_calls(reg, op, "success") + tr_calls(reg, op, "error");
}

/* The same mixed pipeline plain (db 3) and instrumented (db 4). */
static void test_mixed_equals_plain(void) {
    redisContext *cp = tr_connect(&srv), *ci = tr_connect(&srv);
    vt_redis_conn_t *conn;
    const char *hset[] = {"HSET", "h", "f", "v"};
    const size_t hset_len[] = {4, 1, 1, 1};
    CHECK_INT(vt_redis_conn_create(m, ci, &conn), 0);
    CHECK(vt_redis_conn_context(conn) == ci);
    freeReplyObject(redisCommand(cp, "SELECT 3"));
    freeReplyObject(redisCommand(ci, "SELECT 4"));
    freeReplyObject(redisCommand(cp, "FLUSHDB"));
    freeReplyObject(redisCommand(ci, "FLUSHDB"));

    /* Plain. */
    CHECK_INT(redisAppendCommand(cp, "SET a %d", 1), REDIS_OK);
    CHECK_INT(redisAppendCommand(cp, "GET a"), REDIS_OK);
    CHECK_INT(redisAppendCommand(cp, "INCR a"), REDIS_OK);
    CHECK_INT(redisAppendCommand(cp, "LPUSH a x"), REDIS_OK);
    CHECK_INT(redisAppendCommand(cp, "NOSUCH a"), REDIS_OK);
    CHECK_INT(redisAppendCommandArgv(cp, 4, hset, hset_len), REDIS_OK);
    CHECK_INT(redisAppendCommand(cp, "HGETALL h"), REDIS_OK);
    CHECK_INT(redisAppendCommand(cp, "GET a"), REDIS_OK);
    /* Instrumented. */
    CHECK_INT(vt_redis_append_command(conn, "SET a %d", 1), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "GET a"), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "INCR a"), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "LPUSH a x"), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "NOSUCH a"), REDIS_OK);
    CHECK_INT(vt_redis_append_command_argv(conn, 4, hset, hset_len), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "HGETALL h"), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "GET a"), REDIS_OK);
    CHECK_INT(vt_redis_conn_pending(conn), 8);
    /* Nothing is recorded before the replies come. */
    CHECK_DBL(calls_all("SET"), 0);

    for (int i = 0; i < 8; i++) {
        void *a = NULL, *b = NULL;
        CHECK_INT(redisGetReply(cp, &a), REDIS_OK);
        CHECK_INT(vt_redis_get_reply(conn, &b), REDIS_OK);
        CHECK(tr_reply_equal(a, b));
        CHECK_INT(vt_redis_conn_pending(conn), 7 - i);
        freeReplyObject(a);
        freeReplyObject(b);
    }
    CHECK_INT(cp->err, 0);
    CHECK_INT(ci->err, 0);
    CHECK_DBL(tr_calls(reg, "SET", "success"), 1);
    CHECK_DBL(tr_calls(reg, "GET", "success"), 2);
    CHECK_DBL(tr_calls(reg, "INCR", "success"), 1);
    CHECK_DBL(tr_calls(reg, "LPUSH", "error"), 1);
    CHECK_DBL(tr_errors(reg, "LPUSH", "reply"), 1);
    CHECK_DBL(tr_calls(reg, "other", "error"), 1);
    CHECK_DBL(tr_errors(reg, "other", "reply"), 1);
    CHECK_DBL(tr_calls(reg, "HSET", "success"), 1);
    CHECK_DBL(tr_calls(reg, "HGETALL", "success"), 1);
    CHECK_DBL(tr_dur_count(reg, "GET", "success"), 2);
    CHECK_DBL(tr_connected(reg), 1);

    vt_redis_conn_destroy(conn);
    redisFree(cp);
    redisFree(ci);
}

/* Many commands, appended and answered in uneven steps so the ring grows
 * while it wraps; each reply's type shows which command it answers. */
static void test_growth_and_wrap(void) {
    redisContext *c = tr_connect(&srv);
    vt_redis_conn_t *conn;
    static const char *const ops[] = {"SET", "GET", "INCR", "ECHO"};
    static const int types[] = {REDIS_REPLY_STATUS, REDIS_REPLY_STRING, REDIS_REPLY_INTEGER,
                                REDIS_REPLY_STRING};
    double before[4];
    int sent = 0, got = 0, bad = 0;
    CHECK_INT(vt_redis_conn_create(m, c, &conn), 0);
    freeReplyObject(redisCommand(c, "SELECT 5"));
    freeReplyObject(redisCommand(c, "SET g x"));
    for (int i = 0; i < 4; i++)
        before[i] = tr_calls(reg, ops[i], "success");
    const int steps[][2] = {{10, 5},  {3, 7},       {100, 1}, {500, 300},
                            {1, 300}, {2000, 1000}, {2, 1003}};
    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        for (int k = 0; k < steps[s][0]; k++, sent++) {
            int rc;
            switch (sent % 4) {
            case 0:
                rc = vt_redis_append_command(conn, "SET w%d %d", sent % 7, sent);
                break;
            case 1:
                rc = vt_redis_append_command(conn, "GET g");
                break;
            case 2:
                rc = vt_redis_append_command_argv(conn, 2, (const char *[]){"INCR", "ctr"}, NULL);
                break;
            default:
                rc = vt_redis_append_command(conn, "ECHO %d", sent);
                break;
            }
            CHECK_INT(rc, REDIS_OK);
        }
        for (int k = 0; k < steps[s][1]; k++, got++) {
            redisReply *r = NULL;
            CHECK_INT(vt_redis_get_reply(conn, (void **)&r), REDIS_OK);
            if (!r || r->type != types[got % 4])
                bad++;
            if (r)
                freeReplyObject(r);
        }
        CHECK_INT(vt_redis_conn_pending(conn), (size_t)(sent - got));
    }
    CHECK_INT(sent, got);
    CHECK_INT(bad, 0);
    for (int i = 0; i < 4; i++)
        CHECK_DBL(tr_calls(reg, ops[i], "success") - before[i], sent / 4);
    vt_redis_conn_destroy(conn);
    redisFree(c);
}

/* A reply waited for 60 ms after its batch was appended counts at least
 * 60 ms; a reply already buffered counts until the read that brought it,
 * not until the caller got round to taking it. */
static void test_duration_rule(void) {
    redisContext *c = tr_connect(&srv);
    vt_redis_conn_t *conn;
    struct timespec nap = {0, 60 * 1000000L};
    CHECK_INT(vt_redis_conn_create(m, c, &conn), 0);
    double sum = tr_dur_sum(reg, "DBSIZE", "success");
    CHECK_INT(vt_redis_append_command(conn, "DBSIZE"), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "DBSIZE"), REDIS_OK);
    nanosleep(&nap, NULL);
    /* A NULL reply pointer: the reply is freed and still counted. */
    CHECK_INT(vt_redis_get_reply(conn, NULL), REDIS_OK);
    double first = tr_dur_sum(reg, "DBSIZE", "success") - sum;
    CHECK(first >= 0.060 && first < 5.0);
    nanosleep(&nap, NULL);
    nanosleep(&nap, NULL);
    CHECK_INT(vt_redis_get_reply(conn, NULL), REDIS_OK);
    double second = tr_dur_sum(reg, "DBSIZE", "success") - sum - first;
    /* Both replies came in one read, so they end at the same time (the two
     * naps would add 120 ms if the taking were timed). */
    CHECK(second >= 0.060 && second < first + 0.1);
    CHECK_DBL(tr_calls(reg, "DBSIZE", "success"), 2);
    vt_redis_conn_destroy(conn);
    redisFree(c);
}

/* Replies nobody queued (pub/sub messages, plain appends) pass through. */
static void test_unqueued_replies(void) {
    redisContext *sub = tr_connect(&srv), *pub = tr_connect(&srv);
    vt_redis_conn_t *conn;
    redisReply *r = NULL;
    CHECK_INT(vt_redis_conn_create(m, sub, &conn), 0);
    CHECK_INT(vt_redis_append_command(conn, "SUBSCRIBE %s", "news"), REDIS_OK);
    CHECK_INT(vt_redis_get_reply(conn, (void **)&r), REDIS_OK);
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    freeReplyObject(r);
    CHECK_DBL(tr_calls(reg, "SUBSCRIBE", "success"), 1);

    double publish_before = tr_calls(reg, "PUBLISH", "success");
    double other_before = calls_all("other");
    r = vt_redis_command(m, pub, "PUBLISH news %s", "hello");
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
    freeReplyObject(r);
    CHECK_DBL(tr_calls(reg, "PUBLISH", "success"), publish_before + 1);

    r = NULL;
    CHECK_INT(vt_redis_get_reply(conn, (void **)&r), REDIS_OK);
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
          strcmp(r->element[2]->str, "hello") == 0);
    freeReplyObject(r);
    CHECK_DBL(tr_calls(reg, "SUBSCRIBE", "success"), 1);
    CHECK_DBL(calls_all("other"), other_before); /* the message is no call */
    CHECK_INT(vt_redis_conn_pending(conn), 0);
    vt_redis_conn_destroy(conn);

    /* A plain append on a wrapped context: its reply is not attributed. */
    CHECK_INT(vt_redis_conn_create(m, pub, &conn), 0);
    double echo_before = calls_all("ECHO");
    CHECK_INT(redisAppendCommand(pub, "ECHO x"), REDIS_OK);
    CHECK_INT(vt_redis_get_reply(conn, (void **)&r), REDIS_OK);
    CHECK(r && r->type == REDIS_REPLY_STRING);
    freeReplyObject(r);
    CHECK_DBL(calls_all("ECHO"), echo_before);
    vt_redis_conn_destroy(conn);
    redisFree(sub);
    redisFree(pub);
}

/* Non-blocking: get_reply with no reply ready dequeues nothing. */
static void test_non_blocking(void) {
    redisContext *c = redisConnectNonBlock("127.0.0.1", srv.port);
    vt_redis_conn_t *conn;
    void *r = NULL;
    int done = 0;
    CHECK(c && !c->err);
    CHECK_INT(vt_redis_conn_create(m, c, &conn), 0);
    double before = tr_calls(reg, "PING", "success");
    CHECK_INT(vt_redis_append_command(conn, "PING"), REDIS_OK);
    CHECK_INT(vt_redis_get_reply(conn, &r), REDIS_OK);
    CHECK(r == NULL);
    CHECK_INT(vt_redis_conn_pending(conn), 1);
    for (int i = 0; i < 500 && !done; i++) {
        struct pollfd p = {c->fd, POLLOUT, 0};
        if (poll(&p, 1, 10) == 1 && redisBufferWrite(c, &done) != REDIS_OK)
            break;
    }
    CHECK(done);
    for (int i = 0; i < 500 && !r; i++) {
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 10) == 1) {
            CHECK_INT(redisBufferRead(c), REDIS_OK);
            CHECK_INT(vt_redis_get_reply(conn, &r), REDIS_OK);
        }
    }
    CHECK(r && ((redisReply *)r)->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
    CHECK_INT(vt_redis_conn_pending(conn), 0);
    CHECK_DBL(tr_calls(reg, "PING", "success"), before + 1);
    vt_redis_conn_destroy(conn);
    redisFree(c);
}

/* A format hiredis rejects fails the append as plain hiredis does and
 * queues nothing. */
static void test_bad_format(void) {
    redisContext *a = tr_connect(&srv), *b = tr_connect(&srv);
    vt_redis_conn_t *conn;
    CHECK_INT(vt_redis_conn_create(m, b, &conn), 0);
    double before = tr_errors(reg, "other", "other");
    CHECK_INT(redisAppendCommand(a, "GET %q", 1), REDIS_ERR);
    CHECK_INT(vt_redis_append_command(conn, "GET %q", 1), REDIS_ERR);
    CHECK_INT(b->err, a->err);
    CHECK_STR(b->errstr, a->errstr);
    CHECK_INT(vt_redis_conn_pending(conn), 0);
    CHECK_DBL(tr_errors(reg, "other", "other"), before + 1);
    vt_redis_conn_destroy(conn);
    redisFree(a);
    redisFree(b);
}

int main(void) {
    tr_start(&srv);
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_redis_metrics_create(reg, NULL, &m), 0);
    RUN(test_mixed_equals_plain);
    RUN(test_growth_and_wrap);
    RUN(test_duration_rule);
    RUN(test_unqueued_replies);
    RUN(test_non_blocking);
    RUN(test_bad_format);
    vt_redis_metrics_destroy(m);
    vt_registry_destroy(reg);
    rs_cleanup(&srv);
    TEST_EXIT();
}
