/* test_failure.c - failed Redis calls: the server killed by pid mid-run
 * (calls fail, ctx->err as plain hiredis leaves it, kind "io", pending
 * pipeline entries counted once), a restart on the same port with reconnects
 * counted, a failed reconnect, socket timeouts (kind "timeout") and a peer
 * that does not speak RESP (kind "protocol").
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static rs_server_t srv;
static vt_registry_t *reg;
static vt_redis_metrics_t *m;

static void test_killed_and_restarted(void) {
    redisContext *plain = tr_connect(&srv), *c = tr_connect(&srv), *pc = tr_connect(&srv);
    vt_redis_conn_t *conn;
    redisReply *r;
    CHECK_INT(vt_redis_conn_create(m, pc, &conn), 0);
    r = vt_redis_command(m, c, "SET k %s", "v");
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    CHECK_DBL(tr_connected(reg), 1);

    rs_kill(&srv, SIGKILL);

    /* The same call fails the same way with and without the wrapper. */
    void *a = redisCommand(plain, "GET k");
    void *b = vt_redis_command(m, c, "GET k");
    CHECK(a == NULL && b == NULL);
    CHECK(c->err != 0);
    CHECK_INT(c->err, plain->err);
    CHECK_STR(c->errstr, plain->errstr);
    CHECK(c->err == REDIS_ERR_EOF || c->err == REDIS_ERR_IO);
    CHECK_DBL(tr_calls(reg, "GET", "error"), 1);
    CHECK_DBL(tr_errors(reg, "GET", "io"), 1);
    CHECK_DBL(tr_dur_count(reg, "GET", "error"), 1);
    CHECK_DBL(tr_connected(reg), 0);

    /* A broken context fails without I/O: kind io, ctx->err untouched. */
    int err = c->err;
    char errstr[sizeof(c->errstr)];
    memcpy(errstr, c->errstr, sizeof(errstr));
    CHECK(vt_redis_command_argv(m, c, 3, (const char *[]){"SET", "k", "w"}, NULL) == NULL);
    CHECK_INT(c->err, err);
    CHECK_STR(c->errstr, errstr);
    CHECK_DBL(tr_errors(reg, "SET", "io"), 1);

    /* A pipeline on the dead connection: the first get_reply fails and
     * every queued command is counted once, as io. */
    CHECK_INT(vt_redis_append_command(conn, "INCR n"), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "INCR n"), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "HGET h f"), REDIS_OK);
    void *reply = (void *)1;
    CHECK_INT(vt_redis_get_reply(conn, &reply), REDIS_ERR);
    CHECK(pc->err != 0);
    CHECK_INT(vt_redis_conn_pending(conn), 0);
    CHECK_DBL(tr_errors(reg, "INCR", "io"), 2);
    CHECK_DBL(tr_errors(reg, "HGET", "io"), 1);
    CHECK_DBL(tr_calls(reg, "INCR", "error"), 2);
    /* Asking again for the other two replies fails as in hiredis and
     * counts nothing more. */
    CHECK_INT(vt_redis_get_reply(conn, &reply), REDIS_ERR);
    CHECK_INT(vt_redis_get_reply(conn, &reply), REDIS_ERR);
    CHECK_DBL(tr_calls(reg, "INCR", "error"), 2);
    CHECK_DBL(tr_calls(reg, "HGET", "error"), 1);

    /* Reconnecting while the server is down fails and is counted. */
    CHECK_INT(vt_redis_reconnect(m, c), REDIS_ERR);
    CHECK(c->err != 0);
    CHECK_DBL(tr_reconnects(reg, "error"), 1);
    CHECK_DBL(tr_reconnects(reg, "success"), 0);
    CHECK_DBL(tr_connected(reg), 0);

    /* Restart on the same port: reconnect, and calls succeed again. */
    CHECK_INT(rs_start(&srv), 0);
    CHECK_INT(vt_redis_reconnect(m, c), REDIS_OK);
    CHECK_INT(c->err, 0);
    CHECK_DBL(tr_reconnects(reg, "success"), 1);
    CHECK_DBL(tr_connected(reg), 1);
    r = vt_redis_command(m, c, "SET k %s", "again");
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = vt_redis_command(m, c, "GET k");
    CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "again") == 0);
    freeReplyObject(r);
    CHECK_DBL(tr_calls(reg, "GET", "success"), 1);
    CHECK_DBL(tr_calls(reg, "SET", "success"), 2);

    /* The wrapper: commands queued on the dead connection are counted as
     * lost when it reconnects; then the pipeline works. */
    CHECK_INT(vt_redis_append_command(conn, "DEL k"), REDIS_OK);
    CHECK_INT(vt_redis_conn_pending(conn), 1);
    CHECK_INT(vt_redis_conn_reconnect(conn), REDIS_OK);
    CHECK_INT(vt_redis_conn_pending(conn), 0);
    CHECK_DBL(tr_errors(reg, "DEL", "io"), 1);
    CHECK_DBL(tr_reconnects(reg, "success"), 2);
    CHECK_INT(vt_redis_append_command(conn, "INCR n"), REDIS_OK);
    CHECK_INT(vt_redis_get_reply(conn, &reply), REDIS_OK);
    CHECK(reply && ((redisReply *)reply)->integer == 1);
    freeReplyObject(reply);
    CHECK_DBL(tr_calls(reg, "INCR", "success"), 1);

    /* The plain context reconnects without metrics. */
    CHECK_INT(vt_redis_reconnect(NULL, plain), REDIS_OK);
    CHECK_DBL(tr_reconnects(reg, "success"), 2);

    vt_redis_conn_destroy(conn);
    redisFree(plain);
    redisFree(c);
    redisFree(pc);
}

/* A socket timeout shorter than a blocking command: kind "timeout". */
static void test_timeout(void) {
    redisContext *plain = tr_connect(&srv), *c = tr_connect(&srv), *pc = tr_connect(&srv);
    struct timeval tv = {0, 100000};
    vt_redis_conn_t *conn;
    CHECK_INT(redisSetTimeout(plain, tv), REDIS_OK);
    CHECK_INT(redisSetTimeout(c, tv), REDIS_OK);
    CHECK_INT(redisSetTimeout(pc, tv), REDIS_OK);

    void *a = redisCommand(plain, "BLPOP %s %d", "empty:list", 2);
    void *b = vt_redis_command(m, c, "BLPOP %s %d", "empty:list", 2);
    CHECK(a == NULL && b == NULL);
    CHECK_INT(c->err, REDIS_ERR_IO);
    CHECK_INT(c->err, plain->err);
    CHECK_STR(c->errstr, plain->errstr);
    CHECK_DBL(tr_errors(reg, "BLPOP", "timeout"), 1);
    CHECK_DBL(tr_errors(reg, "BLPOP", "io"), 0);
    CHECK_DBL(tr_calls(reg, "BLPOP", "error"), 1);
    /* It waited about the timeout, not the BLPOP's 2 s. */
    double waited = tr_dur_sum(reg, "BLPOP", "error");
    CHECK(waited >= 0.09 && waited < 1.9);
    CHECK_DBL(tr_connected(reg), 0);

    /* Pipelined: the timeout ends both queued commands. */
    CHECK_INT(vt_redis_conn_create(m, pc, &conn), 0);
    CHECK_INT(vt_redis_append_command(conn, "BRPOP %s %d", "empty:list", 2), REDIS_OK);
    CHECK_INT(vt_redis_append_command(conn, "PING"), REDIS_OK);
    void *reply = NULL;
    CHECK_INT(vt_redis_get_reply(conn, &reply), REDIS_ERR);
    CHECK(reply == NULL);
    CHECK_DBL(tr_errors(reg, "BRPOP", "timeout"), 1);
    CHECK_DBL(tr_errors(reg, "PING", "timeout"), 1);
    CHECK_INT(vt_redis_conn_pending(conn), 0);

    /* Reconnected, the context works again. */
    CHECK_INT(vt_redis_reconnect(m, c), REDIS_OK);
    redisReply *r = vt_redis_command(m, c, "PING");
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    CHECK_DBL(tr_connected(reg), 1);
    vt_redis_conn_destroy(conn);
    redisFree(plain);
    redisFree(c);
    redisFree(pc);
}

/* A peer that answers every connection with bytes that are not RESP. */
static void *babble(void *arg) {
    int lfd = *(int *)arg;
    for (int i = 0; i < 2; i++) {
        int fd = accept(lfd, NULL, NULL);
        char buf[256];
        if (fd < 0)
            break;
        if (read(fd, buf, sizeof(buf)) > 0 && write(fd, "%nonsense\r\n", 11) != 11)
            i = 2;
        /* Wait for the client to close. */
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
        close(fd);
    }
    return NULL;
}

static void test_protocol_error(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    pthread_t th;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 4) == 0 &&
          getsockname(lfd, (struct sockaddr *)&a, &len) == 0);
    CHECK_INT(pthread_create(&th, NULL, babble, &lfd), 0);
    int port = ntohs(a.sin_port);

    /* One connection at a time: the peer serves them in turn. A timeout
     * keeps a mistake from hanging the test. */
    struct timeval tv = {5, 0};
    int plain_err;
    char plain_errstr[128];
    redisContext *plain = redisConnectWithTimeout("127.0.0.1", port, tv);
    CHECK(plain && !plain->err);
    redisSetTimeout(plain, tv);
    CHECK(redisCommand(plain, "GET k") == NULL);
    plain_err = plain->err;
    memcpy(plain_errstr, plain->errstr, sizeof(plain_errstr));
    redisFree(plain);

    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    CHECK(c && !c->err);
    redisSetTimeout(c, tv);
    CHECK(vt_redis_command(m, c, "GET k") == NULL);
    CHECK_INT(c->err, REDIS_ERR_PROTOCOL);
    CHECK_INT(c->err, plain_err);
    CHECK_STR(c->errstr, plain_errstr);
    CHECK_DBL(tr_errors(reg, "GET", "protocol"), 1);
    redisFree(c);
    pthread_join(th, NULL);
    close(lfd);
}

int main(void) {
    tr_start(&srv);
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_redis_metrics_create(reg, NULL, &m), 0);
    RUN(test_killed_and_restarted);
    RUN(test_timeout);
    RUN(test_protocol_error);
    vt_redis_metrics_destroy(m);
    vt_registry_destroy(reg);
    rs_cleanup(&srv);
    TEST_EXIT();
}
