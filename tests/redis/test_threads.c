/* test_threads.c - one metrics object shared by connections on several
 * threads (one-shot and pipelined calls at once): every call is counted
 * exactly once, and the server agrees with the counts.
 *
 * Runs under ThreadSanitizer with the "concurrency" label.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>

#include "common.h"

#define THREADS 4
#define ONE_SHOT 300
#define BATCHES 30
#define BATCH 10

static rs_server_t srv;
static vt_registry_t *reg;
static vt_redis_metrics_t *m;

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg, bad = 0;
    redisContext *c = tr_connect(&srv);
    vt_redis_conn_t *conn;
    if (vt_redis_conn_create(m, c, &conn) != 0)
        return (void *)1;
    for (int i = 0; i < ONE_SHOT; i++) {
        redisReply *r = vt_redis_command(m, c, "INCR shared");
        bad += !r || r->type != REDIS_REPLY_INTEGER;
        if (r)
            freeReplyObject(r);
        /* A different operation per thread, interleaved with the shared one. */
        r = vt_redis_command_argv(m, c, 2, (const char *[]){id % 2 ? "HLEN" : "SCARD", "x"}, NULL);
        bad += !r || r->type != REDIS_REPLY_INTEGER;
        if (r)
            freeReplyObject(r);
    }
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < BATCH; i++)
            bad += vt_redis_append_command(conn, i % 2 ? "INCR shared" : "LPUSH l%d x", id) !=
                   REDIS_OK;
        for (int i = 0; i < BATCH; i++) {
            void *r = NULL;
            bad += vt_redis_get_reply(conn, &r) != REDIS_OK;
            if (r)
                freeReplyObject(r);
        }
    }
    vt_redis_conn_destroy(conn);
    redisFree(c);
    return (void *)(intptr_t)bad;
}

static void test_shared_metrics(void) {
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_INT(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++) {
        void *bad = NULL;
        pthread_join(th[i], &bad);
        CHECK(bad == NULL);
    }
    double incr = THREADS * (ONE_SHOT + BATCHES * BATCH / 2);
    CHECK_DBL(tr_calls(reg, "INCR", "success"), incr);
    CHECK_DBL(tr_dur_count(reg, "INCR", "success"), incr);
    CHECK_DBL(tr_calls(reg, "LPUSH", "success"), THREADS * BATCHES * BATCH / 2);
    CHECK_DBL(tr_calls(reg, "HLEN", "success"), THREADS / 2 * ONE_SHOT);
    CHECK_DBL(tr_calls(reg, "SCARD", "success"), THREADS / 2 * ONE_SHOT);
    CHECK_DBL(tr_calls(reg, "INCR", "error"), 0);

    redisContext *c = tr_connect(&srv);
    redisReply *r = redisCommand(c, "GET shared");
    CHECK(r && r->type == REDIS_REPLY_STRING && atof(r->str) == incr);
    freeReplyObject(r);
    redisFree(c);
}

int main(void) {
    tr_start(&srv);
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_redis_metrics_create(reg, NULL, &m), 0);
    RUN(test_shared_metrics);
    vt_redis_metrics_destroy(m);
    vt_registry_destroy(reg);
    rs_cleanup(&srv);
    TEST_EXIT();
}
