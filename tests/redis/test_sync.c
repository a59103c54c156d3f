/* test_sync.c - vt_redis_command, vt_redis_vcommand and vt_redis_command_argv
 * against a real redis-server: each returns what plain hiredis returns for
 * the same script (run on a second connection in another database), and the
 * counts per operation and status match what the script did.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>

#include "common.h"

static rs_server_t srv;
static vt_registry_t *reg;
static vt_redis_metrics_t *m;
static redisContext *cp, *ci; /* plain (db 1) and instrumented (db 2) */

/* What the script expects per operation. */
static struct expect {
    const char *op;
    int ok, err, reply_err;
} exp_tab[64];
static size_t n_exp;

static struct expect *expect_of(const char *op) {
    for (size_t i = 0; i < n_exp; i++)
        if (strcmp(exp_tab[i].op, op) == 0)
            return &exp_tab[i];
    exp_tab[n_exp].op = op;
    return &exp_tab[n_exp++];
}

/* Compare one command's outcome both ways and note what was expected. */
static void both(int line, const char *op, redisReply *a, redisReply *b) {
    if (!tr_reply_equal(a, b)) {
        fprintf(stderr, "line %d: replies differ (%s)\n", line, op);
        CHECK(0);
    }
    CHECK_INT(cp->err, ci->err);
    CHECK_STR(cp->errstr, ci->errstr);
    struct expect *e = expect_of(op);
    if (!a || a->type == REDIS_REPLY_ERROR) {
        e->err++;
        if (a)
            e->reply_err++;
    } else {
        e->ok++;
    }
    if (a)
        freeReplyObject(a);
    if (b)
        freeReplyObject(b);
}

#define BOTH(op, ...)                                                                              \
    both(__LINE__, op, redisCommand(cp, __VA_ARGS__), vt_redis_command(m, ci, __VA_ARGS__))

/* The va_list entry point, called the way a user's own wrapper would. */
static redisReply *via_va(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vt_redis_vcommand(m, ci, fmt, ap);
    va_end(ap);
    return r;
}

static void test_script(void) {
    const char bin[] = {'a', 0, 'b', '\r', '\n', (char)0xff};
    BOTH("SET", "SET %s %s", "k", "v");
    BOTH("GET", "GET %s", "k");
    BOTH("GET", "GET %s", "missing");
    BOTH("SET", "set k2 %d", 42);
    BOTH("SETEX", "SETEX t 100 v");
    BOTH("TTL", "TTL t");
    BOTH("EXPIRE", "EXPIRE k 100");
    BOTH("TTL", "ttl k");
    BOTH("INCR", "INCR n");
    BOTH("INCRBY", "INCRBY n %lld", 5LL);
    BOTH("DECR", "DECR n");
    BOTH("MSET", "MSET a 1 b 2");
    BOTH("MGET", "MGET a b nothing");
    BOTH("DEL", "DEL a b nothing");
    BOTH("EXISTS", "EXISTS k a");
    BOTH("HSET", "HSET h f1 v1 f2 v2");
    BOTH("HGET", "HGET h f1");
    BOTH("HGETALL", "HGETALL h");
    BOTH("HINCRBY", "HINCRBY h n 3");
    BOTH("LPUSH", "LPUSH l 1 2 3");
    BOTH("LRANGE", "LRANGE l 0 -1");
    BOTH("SADD", "SADD s x");
    BOTH("SMEMBERS", "SMEMBERS s");
    BOTH("ZADD", "ZADD z 1.5 m");
    BOTH("ZRANGE", "ZRANGE z 0 -1 WITHSCORES");
    BOTH("SET", "SET bin %b", bin, sizeof(bin));
    BOTH("GET", "GET bin");
    BOTH("ECHO", "ECHO %s", "hello world");
    BOTH("PING", "PING");
    BOTH("TYPE", "TYPE h");
    BOTH("EVAL", "EVAL %s 0", "return {1, 'two', {3}}");
    BOTH("MULTI", "MULTI");
    BOTH("INCR", "INCR n");
    BOTH("SET", "SET m x");
    BOTH("EXEC", "EXEC");
    BOTH("DBSIZE", "DBSIZE");
    /* Error replies: the wrong type, not an integer, unknown commands. */
    BOTH("LPUSH", "LPUSH k x");
    BOTH("INCR", "INCR k");
    BOTH("HGET", "HGET h");
    BOTH("other", "NOSUCHCOMMAND a b");
    BOTH("other", "OBJECT ENCODING k");
    BOTH("other", "%s x", "user-chosen-name");
    /* A command name longer than any known one, from a user's string. */
    BOTH("other", "ZREMRANGEBYSCOREX z");
}

static void test_va_list(void) {
    redisReply *a = redisCommand(cp, "HSET va %s %d", "f", 7);
    redisReply *b = via_va("HSET va %s %d", "f", 7);
    CHECK(tr_reply_equal(a, b));
    expect_of("HSET")->ok++;
    freeReplyObject(a);
    freeReplyObject(b);
}

static void test_argv(void) {
    const char *set[] = {"SET", "argv:k", "x\0y"};
    const size_t set_len[] = {3, 6, 3};
    const char *get[] = {"get", "argv:k"};
    const char *bad[] = {"RPUSH", "argv:k", "z"};
    const char *unknown[] = {"FROBNICATE"};
    struct {
        const char *op;
        int argc;
        const char **argv;
        const size_t *len;
    } script[] = {{"SET", 3, set, set_len},
                  {"GET", 2, get, NULL},
                  {"RPUSH", 3, bad, NULL},
                  {"other", 1, unknown, NULL}};
    for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++)
        both(__LINE__, script[i].op,
             redisCommandArgv(cp, script[i].argc, script[i].argv, script[i].len),
             vt_redis_command_argv(m, ci, script[i].argc, script[i].argv, script[i].len));
}

static void test_counts(void) {
    size_t total_ok = 0, total_err = 0;
    for (size_t i = 0; i < n_exp; i++) {
        const struct expect *e = &exp_tab[i];
        if (tr_calls(reg, e->op, "success") != e->ok || tr_calls(reg, e->op, "error") != e->err) {
            fprintf(stderr, "%s: recorded %g ok %g err, expected %d ok %d err\n", e->op,
                    tr_calls(reg, e->op, "success"), tr_calls(reg, e->op, "error"), e->ok, e->err);
            CHECK(0);
        }
        CHECK_DBL(tr_errors(reg, e->op, "reply"), e->reply_err);
        CHECK_DBL(tr_dur_count(reg, e->op, "success"), e->ok);
        CHECK_DBL(tr_dur_count(reg, e->op, "error"), e->err);
        if (e->ok)
            CHECK(tr_dur_sum(reg, e->op, "success") > 0);
        total_ok += (size_t)e->ok;
        total_err += (size_t)e->err;
    }
    /* The script's expectations are not trivially empty. */
    CHECK_DBL(expect_of("LPUSH")->reply_err, 1);
    CHECK_DBL(expect_of("other")->err, 4);
    CHECK_DBL(expect_of("other")->ok, 1); /* OBJECT ENCODING */
    CHECK_INT(total_ok, 40);
    CHECK_INT(total_err, 8);
    /* No series for a raw user string. */
    vt_buf_t buf = {0};
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    CHECK(!strstr(buf.data, "NOSUCHCOMMAND"));
    CHECK(!strstr(buf.data, "user-chosen-name"));
    CHECK(!strstr(buf.data, "FROBNICATE"));
    CHECK(!strstr(buf.data, "OBJECT"));
    CHECK(!strstr(buf.data, "kind=\"io\""));
    vt_buf_free(&buf);
    CHECK_DBL(tr_connected(reg), 1);
}

static void test_without_metrics(void) {
    redisReply *a = redisCommand(cp, "GET k");
    redisReply *b = vt_redis_command(NULL, ci, "GET k");
    CHECK(tr_reply_equal(a, b));
    freeReplyObject(a);
    freeReplyObject(b);
    b = vt_redis_command_argv(NULL, ci, 2, (const char *[]){"GET", "k"}, NULL);
    CHECK(b && b->type == REDIS_REPLY_STRING);
    freeReplyObject(b);
    CHECK_DBL(tr_calls(reg, "GET", "success"), expect_of("GET")->ok);
}

/* A format hiredis rejects leaves both contexts with the same error (and
 * unusable, as hiredis always does), and counts as "other"/"other". */
static void test_bad_format(void) {
    redisContext *a = tr_connect(&srv), *b = tr_connect(&srv);
    double before = tr_errors(reg, "other", "other");
    void *ra = redisCommand(a, "GET %q", 1);
    void *rb = vt_redis_command(m, b, "GET %q", 1);
    CHECK(ra == NULL && rb == NULL);
    CHECK_INT(a->err, REDIS_ERR_OTHER);
    CHECK_INT(b->err, a->err);
    CHECK_STR(b->errstr, a->errstr);
    CHECK_DBL(tr_errors(reg, "other", "other"), before + 1);
    CHECK_DBL(tr_connected(reg), 0);
    redisFree(a);
    redisFree(b);
}

/* On a non-blocking context redisCommand only appends and returns NULL. */
static void test_non_blocking(void) {
    redisContext *a = redisConnectNonBlock("127.0.0.1", srv.port);
    redisContext *b = redisConnectNonBlock("127.0.0.1", srv.port);
    CHECK(a && b && !a->err && !b->err);
    double before = tr_calls(reg, "PING", "success") + tr_calls(reg, "PING", "error");
    CHECK(redisCommand(a, "PING") == NULL);
    CHECK(vt_redis_command(m, b, "PING") == NULL);
    CHECK(vt_redis_command_argv(m, b, 1, (const char *[]){"PING"}, NULL) == NULL);
    CHECK_INT(a->err, b->err);
    CHECK_DBL(tr_calls(reg, "PING", "success") + tr_calls(reg, "PING", "error"), before);
    redisFree(a);
    redisFree(b);
}

int main(void) {
    tr_start(&srv);
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_redis_metrics_create(reg, NULL, &m), 0);
    cp = tr_connect(&srv);
    ci = tr_connect(&srv);
    /* Set up both databases with plain hiredis: nothing recorded yet. */
    freeReplyObject(redisCommand(cp, "SELECT 1"));
    freeReplyObject(redisCommand(ci, "SELECT 2"));
    freeReplyObject(redisCommand(cp, "FLUSHDB"));
    freeReplyObject(redisCommand(ci, "FLUSHDB"));
    RUN(test_script);
    RUN(test_va_list);
    RUN(test_argv);
    RUN(test_counts);
    RUN(test_without_metrics);
    RUN(test_non_blocking);
    RUN(test_bad_format);
    redisFree(cp);
    redisFree(ci);
    vt_redis_metrics_destroy(m);
    vt_registry_destroy(reg);
    rs_cleanup(&srv);
    TEST_EXIT();
}
