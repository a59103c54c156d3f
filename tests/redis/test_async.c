/* test_async.c - the async wrappers against a real redis-server, driven by a
 * minimal poll(2) loop written here as a hiredis event adapter: replies reach
 * the caller's callback with its privdata, in order; each command is counted
 * once under its operation; the subscribe family passes untouched; a killed
 * server, a freed context and a refused command count as errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <poll.h>
#include <time.h>

#include <hiredis/async.h>

#include "common.h"

static rs_server_t srv;
static vt_registry_t *reg;
static vt_redis_metrics_t *m;

/* ---- a poll loop for one async context --------------------------------- */

typedef struct loop {
    redisAsyncContext *ac; /* NULL once hiredis freed it */
    int reading, writing;
    int connected, disconnected;
} loop_t;

static void add_read(void *p) {
    ((loop_t *)p)->reading = 1;
}
static void del_read(void *p) {
    ((loop_t *)p)->reading = 0;
}
static void add_write(void *p) {
    ((loop_t *)p)->writing = 1;
}
static void del_write(void *p) {
    ((loop_t *)p)->writing = 0;
}
static void cleanup(void *p) {
    loop_t *l = p;
    l->reading = l->writing = 0;
    l->ac = NULL;
}

static void on_connect(const redisAsyncContext *ac, int status) {
    loop_t *l = ac->ev.data;
    l->connected = status == REDIS_OK ? 1 : -1;
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    loop_t *l = ac->ev.data;
    (void)status;
    l->disconnected = 1;
}

static void loop_open(loop_t *l) {
    memset(l, 0, sizeof(*l));
    l->ac = redisAsyncConnect("127.0.0.1", srv.port);
    CHECK(l->ac && !l->ac->err);
    l->ac->ev.data = l;
    l->ac->ev.addRead = add_read;
    l->ac->ev.delRead = del_read;
    l->ac->ev.addWrite = add_write;
    l->ac->ev.delWrite = del_write;
    l->ac->ev.cleanup = cleanup;
    redisAsyncSetConnectCallback(l->ac, on_connect);
    redisAsyncSetDisconnectCallback(l->ac, on_disconnect);
    /* hiredis asks for the write event that completes the connect before
     * the adapter is attached; ask for it here. */
    l->writing = 1;
}

/* Run until *flag reaches want, the context is gone or `rounds` polls of
 * 10 ms passed; whether *flag reached want. */
static int loop_poll(loop_t *l, const int *flag, int want, int rounds) {
    for (int i = 0; i < rounds; i++) {
        if (*flag >= want)
            return 1;
        if (!l->ac)
            return *flag >= want;
        struct pollfd p = {l->ac->c.fd, 0, 0};
        if (l->reading)
            p.events |= POLLIN;
        if (l->writing)
            p.events |= POLLOUT;
        if (poll(&p, 1, 10) <= 0)
            continue;
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            redisAsyncHandleRead(l->ac);
        if (l->ac && (p.revents & POLLOUT))
            redisAsyncHandleWrite(l->ac);
    }
    return *flag >= want;
}

/* loop_poll for up to 10 s. */
static int loop_run(loop_t *l, const int *flag, int want) {
    return loop_poll(l, flag, want, 1000);
}

/* ---- callbacks --------------------------------------------------------- */

typedef struct seen {
    int calls;
    int order[16]; /* privdata tags in callback order */
    int types[16]; /* reply types, -1 for NULL */
    long long ints[16];
} seen_t;

static seen_t seen;

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata) {
    redisReply *r = reply;
    (void)ac;
    if (seen.calls < 16) {
        seen.order[seen.calls] = (int)(intptr_t)privdata;
        seen.types[seen.calls] = r ? r->type : -1;
        seen.ints[seen.calls] = r ? r->integer : 0;
    }
    seen.calls++;
}

/* ---- tests ------------------------------------------------------------- */

static void test_commands(void) {
    loop_t l;
    loop_open(&l);
    memset(&seen, 0, sizeof(seen));
    const char *incr[] = {"INCRBY", "async:n", "5"};
    CHECK_INT(vt_redis_async_command(m, l.ac, on_reply, (void *)1, "SET %s %s", "async:k", "v"),
              REDIS_OK);
    CHECK_INT(vt_redis_async_command(m, l.ac, on_reply, (void *)2, "GET async:k"), REDIS_OK);
    CHECK_INT(vt_redis_async_command_argv(m, l.ac, on_reply, (void *)3, 3, incr, NULL), REDIS_OK);
    CHECK_INT(vt_redis_async_command(m, l.ac, on_reply, (void *)4, "LPUSH async:k x"), REDIS_OK);
    CHECK_INT(vt_redis_async_command(m, l.ac, on_reply, (void *)5, "NOSUCH x"), REDIS_OK);
    /* No callback: hiredis allows it, the wrapper still counts. */
    CHECK_INT(vt_redis_async_command(m, l.ac, NULL, NULL, "DEL async:n"), REDIS_OK);
    CHECK_INT(vt_redis_async_command(m, l.ac, on_reply, (void *)6, "EXISTS async:n"), REDIS_OK);
    /* Nothing is recorded before the replies arrive. */
    CHECK_DBL(tr_calls(reg, "SET", "success"), 0);
    CHECK(loop_run(&l, &seen.calls, 6));
    CHECK_INT(l.connected, 1);
    CHECK_INT(seen.calls, 6);
    for (int i = 0; i < 6; i++)
        CHECK_INT(seen.order[i], i + 1);
    CHECK_INT(seen.types[0], REDIS_REPLY_STATUS);
    CHECK_INT(seen.types[1], REDIS_REPLY_STRING);
    CHECK_INT(seen.types[2], REDIS_REPLY_INTEGER);
    CHECK_INT(seen.ints[2], 5);
    CHECK_INT(seen.types[3], REDIS_REPLY_ERROR);
    CHECK_INT(seen.types[4], REDIS_REPLY_ERROR);
    CHECK_INT(seen.types[5], REDIS_REPLY_INTEGER);
    CHECK_INT(seen.ints[5], 0); /* the DEL ran before it */

    CHECK_DBL(tr_calls(reg, "SET", "success"), 1);
    CHECK_DBL(tr_calls(reg, "GET", "success"), 1);
    CHECK_DBL(tr_calls(reg, "INCRBY", "success"), 1);
    CHECK_DBL(tr_calls(reg, "LPUSH", "error"), 1);
    CHECK_DBL(tr_errors(reg, "LPUSH", "reply"), 1);
    CHECK_DBL(tr_calls(reg, "other", "error"), 1);
    CHECK_DBL(tr_calls(reg, "DEL", "success"), 1);
    CHECK_DBL(tr_calls(reg, "EXISTS", "success"), 1);
    CHECK_DBL(tr_dur_count(reg, "GET", "success"), 1);
    CHECK(tr_dur_sum(reg, "GET", "success") > 0);

    /* A clean disconnect: no command is pending, nothing more counted. */
    redisAsyncDisconnect(l.ac);
    CHECK(loop_run(&l, &l.disconnected, 1));
    CHECK(l.ac == NULL);
    CHECK_DBL(tr_calls(reg, "other", "error"), 1);
}

static int sub_calls;
static char last_message[64];

static void on_message(redisAsyncContext *ac, void *reply, void *privdata) {
    redisReply *r = reply;
    (void)ac;
    (void)privdata;
    sub_calls++;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->str)
        snprintf(last_message, sizeof(last_message), "%s", r->element[2]->str);
}

static void test_subscribe_passes_through(void) {
    loop_t l;
    redisContext *pub = tr_connect(&srv);
    loop_open(&l);
    sub_calls = 0;
    CHECK_INT(vt_redis_async_command(m, l.ac, on_message, NULL, "SUBSCRIBE %s", "chan"), REDIS_OK);
    CHECK(loop_run(&l, &sub_calls, 1)); /* the subscribe confirmation */
    redisReply *r = vt_redis_command(m, pub, "PUBLISH chan %s", "first");
    CHECK(r && r->integer == 1);
    freeReplyObject(r);
    CHECK(loop_run(&l, &sub_calls, 2));
    CHECK_STR(last_message, "first");
    r = vt_redis_command(m, pub, "PUBLISH chan %s", "second");
    freeReplyObject(r);
    CHECK(loop_run(&l, &sub_calls, 3));
    CHECK_STR(last_message, "second");
    CHECK_DBL(tr_calls(reg, "SUBSCRIBE", "success") + tr_calls(reg, "SUBSCRIBE", "error"), 0);
    CHECK_DBL(tr_calls(reg, "PUBLISH", "success"), 2);
    redisAsyncFree(l.ac); /* hiredis calls the callback once more, with NULL */
    CHECK(l.ac == NULL);
    redisFree(pub);
}

/* A freed context answers pending commands with NULL: kind "other". A
 * disconnecting one refuses new commands: counted at once. */
static void test_freed_and_refused(void) {
    loop_t l;
    loop_open(&l);
    CHECK(loop_run(&l, &l.connected, 1));
    memset(&seen, 0, sizeof(seen));
    double before = tr_errors(reg, "HGET", "other");
    CHECK_INT(vt_redis_async_command(m, l.ac, on_reply, (void *)7, "HGET h f"), REDIS_OK);
    redisAsyncFree(l.ac);
    CHECK_INT(seen.calls, 1);
    CHECK_INT(seen.order[0], 7);
    CHECK_INT(seen.types[0], -1);
    CHECK_DBL(tr_errors(reg, "HGET", "other"), before + 1);

    loop_open(&l);
    CHECK(loop_run(&l, &l.connected, 1));
    memset(&seen, 0, sizeof(seen));
    CHECK_INT(vt_redis_async_command(m, l.ac, on_reply, (void *)8, "PING"), REDIS_OK);
    redisAsyncDisconnect(l.ac);
    before = tr_errors(reg, "ECHO", "other");
    CHECK_INT(redisAsyncCommand(l.ac, on_reply, NULL, "ECHO x"), REDIS_ERR);
    CHECK_INT(vt_redis_async_command(m, l.ac, on_reply, (void *)9, "ECHO x"), REDIS_ERR);
    CHECK_DBL(tr_errors(reg, "ECHO", "other"), before + 1);
    /* The PING sent before the disconnect is still answered. */
    CHECK(loop_run(&l, &l.disconnected, 1));
    CHECK_INT(seen.calls, 1);
    CHECK_INT(seen.types[0], REDIS_REPLY_STATUS);
}

/* The server dies under a pending command: NULL reply, kind "io". */
static void test_server_killed(void) {
    loop_t l;
    loop_open(&l);
    CHECK(loop_run(&l, &l.connected, 1));
    memset(&seen, 0, sizeof(seen));
    CHECK_INT(vt_redis_async_command(m, l.ac, on_reply, (void *)10, "BLPOP %s 5", "empty:list"),
              REDIS_OK);
    /* Let the command reach the server before it dies. */
    int never = 0;
    loop_poll(&l, &never, 1, 10);
    CHECK_DBL(tr_connected(reg), 1);
    rs_kill(&srv, SIGKILL);
    CHECK(loop_run(&l, &seen.calls, 1));
    CHECK_INT(seen.types[0], -1);
    CHECK_INT(seen.order[0], 10);
    CHECK_DBL(tr_errors(reg, "BLPOP", "io"), 1);
    CHECK_DBL(tr_connected(reg), 0);
    CHECK(l.ac == NULL);
    CHECK_INT(l.disconnected, 1);
}

/* Without metrics the wrappers are plain hiredis. */
static void test_without_metrics(void) {
    loop_t l;
    loop_open(&l);
    memset(&seen, 0, sizeof(seen));
    double before = tr_calls(reg, "PING", "success");
    CHECK_INT(vt_redis_async_command(NULL, l.ac, on_reply, (void *)11, "PING"), REDIS_OK);
    CHECK_INT(vt_redis_async_command_argv(NULL, l.ac, on_reply, (void *)12, 1,
                                          (const char *[]){"PING"}, NULL),
              REDIS_OK);
    CHECK(loop_run(&l, &seen.calls, 2));
    CHECK_INT(seen.order[1], 12);
    CHECK_DBL(tr_calls(reg, "PING", "success"), before);
    redisAsyncDisconnect(l.ac);
    CHECK(loop_run(&l, &l.disconnected, 1));
}

int main(void) {
    tr_start(&srv);
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_redis_metrics_create(reg, NULL, &m), 0);
    RUN(test_commands);
    RUN(test_subscribe_passes_through);
    RUN(test_freed_and_refused);
    RUN(test_without_metrics);
    RUN(test_server_killed);
    vt_redis_metrics_destroy(m);
    vt_registry_destroy(reg);
    rs_cleanup(&srv);
    TEST_EXIT();
}
