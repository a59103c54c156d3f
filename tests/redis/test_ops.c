/* test_ops.c - operation names without a server: the known set, case,
 * "other" for everything else, RESP and argv forms, malformed input; and
 * creating the metrics object with good and bad options.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "harness.h"
#include "redis_internal.h"
#include "vitals.h"
#include "vitals/redis.h"

static vt__redis_index_t ix;

static const char *op_of(const char *name) {
    return vt__redis_op_names[vt__redis_op_lookup(&ix, name, strlen(name))];
}

static const char *op_of_resp(const char *cmd) {
    return vt__redis_op_names[vt__redis_op_from_resp(&ix, cmd, strlen(cmd))];
}

static void test_every_known_name(void) {
    char lower[32];
    for (unsigned op = 0; op < VT__REDIS_N_OPS; op++) {
        const char *n = vt__redis_op_names[op];
        size_t len = strlen(n);
        CHECK(len >= 1 && len <= VT__REDIS_NAME_MAX);
        CHECK_INT(vt__redis_op_lookup(&ix, n, len), op);
        for (size_t i = 0; i <= len; i++)
            lower[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
        CHECK_INT(vt__redis_op_lookup(&ix, lower, len), op);
        for (unsigned other = 0; other < op; other++)
            CHECK(strcmp(vt__redis_op_names[other], n) != 0);
    }
    CHECK_STR(vt__redis_op_names[VT__REDIS_OP_OTHER], "other");
}

static void test_case_and_other(void) {
    CHECK_STR(op_of("get"), "GET");
    CHECK_STR(op_of("GeT"), "GET");
    CHECK_STR(op_of("hincrbyfloat"), "HINCRBYFLOAT");
    CHECK_STR(op_of("zremrangebyscore"), "ZREMRANGEBYSCORE");
    CHECK_STR(op_of("NOSUCHCOMMAND"), "other");
    CHECK_STR(op_of("GETS"), "other"); /* a known name plus one letter */
    CHECK_STR(op_of("GE"), "other");   /* a prefix of a known name */
    CHECK_STR(op_of("G\xc3\xa9T"), "other");
    CHECK_STR(op_of("GET "), "other");
    CHECK_STR(op_of("other"), "other"); /* the label value is not a command */
    CHECK_STR(op_of("OTHER"), "other");
    CHECK_STR(op_of("ZREMRANGEBYSCOREX"), "other"); /* longer than any known name */
    CHECK_STR(op_of(""), "other");
    CHECK_INT(vt__redis_op_lookup(&ix, NULL, 3), VT__REDIS_OP_OTHER);
    CHECK_INT(vt__redis_op_lookup(&ix, "GET\0junk", 8), VT__REDIS_OP_OTHER);
    /* Prefix compare must use the full length: "GET" is not "GETSET". */
    CHECK_STR(op_of("GETSET"), "GETSET");
    CHECK_STR(op_of("GETDEL"), "GETDEL");
}

static void test_resp(void) {
    CHECK_STR(op_of_resp("*2\r\n$3\r\nget\r\n$1\r\nk\r\n"), "GET");
    CHECK_STR(op_of_resp("*1\r\n$4\r\nPING\r\n"), "PING");
    CHECK_STR(op_of_resp("*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n10\r\n"), "EXPIRE");
    CHECK_STR(op_of_resp("*1\r\n$7\r\nFOOBARX\r\n"), "other");
    /* Malformed or truncated text never reads past its length. */
    CHECK_STR(op_of_resp("*0\r\n"), "other");
    CHECK_STR(op_of_resp("*1\r\n$10\r\nGET\r\n"), "other");
    CHECK_STR(op_of_resp("*1\r\n$3\r\nGE"), "other");
    CHECK_STR(op_of_resp("*1\r\n$\r\nGET\r\n"), "other");
    CHECK_STR(op_of_resp("*1\r\n$-1\r\n"), "other");
    CHECK_STR(op_of_resp("*1\n$3\r\nGET\r\n"), "other");
    CHECK_STR(op_of_resp("GET k\r\n"), "other");
    CHECK_STR(op_of_resp("*99999999999999999999\r\n$3\r\nGET\r\n"), "other");
    CHECK_STR(op_of_resp(""), "other");
    CHECK_INT(vt__redis_op_from_resp(&ix, NULL, 10), VT__REDIS_OP_OTHER);
    /* Exactly the bytes needed. */
    const char *exact = "*1\r\n$3\r\nDEL";
    CHECK_INT(vt__redis_op_from_resp(&ix, exact, strlen(exact)),
              vt__redis_op_lookup(&ix, "DEL", 3));
}

static void test_argv(void) {
    const char *argv[] = {"hset", "h", "f", "v"};
    const size_t lens[] = {4, 1, 1, 1};
    const size_t short_len[] = {3, 1, 1, 1};
    CHECK_STR(vt__redis_op_names[vt__redis_op_from_argv(&ix, 4, argv, NULL)], "HSET");
    CHECK_STR(vt__redis_op_names[vt__redis_op_from_argv(&ix, 4, argv, lens)], "HSET");
    /* argvlen wins over the NUL: "hse" is no command. */
    CHECK_STR(vt__redis_op_names[vt__redis_op_from_argv(&ix, 4, argv, short_len)], "other");
    CHECK_INT(vt__redis_op_from_argv(&ix, 0, argv, NULL), VT__REDIS_OP_OTHER);
    CHECK_INT(vt__redis_op_from_argv(&ix, -1, argv, NULL), VT__REDIS_OP_OTHER);
    CHECK_INT(vt__redis_op_from_argv(&ix, 1, NULL, NULL), VT__REDIS_OP_OTHER);
}

static void test_push_ops(void) {
    const char *push[] = {"SUBSCRIBE",    "PSUBSCRIBE",   "SSUBSCRIBE", "UNSUBSCRIBE",
                          "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR"};
    for (size_t i = 0; i < sizeof(push) / sizeof(push[0]); i++)
        CHECK(vt__redis_op_is_push(&ix, vt__redis_op_lookup(&ix, push[i], strlen(push[i]))));
    CHECK(!vt__redis_op_is_push(&ix, vt__redis_op_lookup(&ix, "PUBLISH", 7)));
    CHECK(!vt__redis_op_is_push(&ix, vt__redis_op_lookup(&ix, "GET", 3)));
    CHECK(!vt__redis_op_is_push(&ix, VT__REDIS_OP_OTHER));
    size_t n = 0;
    for (unsigned op = 0; op < VT__REDIS_N_OPS; op++)
        n += (size_t)vt__redis_op_is_push(&ix, op);
    CHECK_INT(n, sizeof(push) / sizeof(push[0]));
}

static void test_create_defaults(void) {
    vt_registry_t *reg;
    vt_redis_metrics_t *m;
    vt_redis_metrics_opts_t o;
    vt_buf_t buf = {0};
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_redis_metrics_opts_init(&o);
    CHECK_STR(o.prefix, "redis");
    CHECK(o.buckets == NULL && o.bucket_count == 0 && o.const_labels == NULL && !o.preinit);
    CHECK_INT(vt_redis_metrics_create(reg, NULL, &m), 0);
    /* A fresh object: no labeled call series yet, the gauge at 0, both
     * reconnect series at 0. */
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    CHECK_CONTAINS(buf.data, "# TYPE redis_call_duration_seconds histogram");
    CHECK_CONTAINS(buf.data, "# TYPE redis_calls_total counter");
    CHECK_CONTAINS(buf.data, "# TYPE redis_errors_total counter");
    CHECK_CONTAINS(buf.data, "redis_connected 0\n");
    CHECK_CONTAINS(buf.data, "redis_reconnects_total{status=\"success\"} 0\n");
    CHECK_CONTAINS(buf.data, "redis_reconnects_total{status=\"error\"} 0\n");
    CHECK(!strstr(buf.data, "redis_calls_total{"));
    vt_buf_free(&buf);

    vt_redis_metrics_set_connected(m, 7);
    double v = -1;
    CHECK_INT(vt_registry_get_sample_value(reg, "redis_connected", NULL, NULL, &v), 0);
    CHECK_DBL(v, 1);
    vt_redis_metrics_set_connected(m, 0);
    CHECK_INT(vt_registry_get_sample_value(reg, "redis_connected", NULL, NULL, &v), 0);
    CHECK_DBL(v, 0);
    vt_redis_metrics_set_connected(NULL, 1); /* ignored */

    /* The same names again collide and leave the first object intact. */
    vt_redis_metrics_t *m2 = NULL;
    CHECK_INT(vt_redis_metrics_create(reg, NULL, &m2), VT_EDUPLICATE);
    CHECK(m2 == NULL);
    vt_redis_metrics_destroy(m);
    /* Destroy unregistered everything: the names are free again. */
    CHECK_INT(vt_redis_metrics_create(reg, NULL, &m), 0);
    vt_redis_metrics_destroy(m);
    vt_redis_metrics_destroy(NULL);
    vt_registry_destroy(reg);
}

static void test_default_buckets(void) {
    vt_registry_t *reg;
    vt_redis_metrics_t *m;
    vt_buf_t buf = {0};
    vt_redis_metrics_opts_t o;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_redis_metrics_opts_init(&o);
    o.preinit = VT_VALUES("get");
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m), 0);
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    const char *bounds[] = {"0.0001", "0.0002", "0.0004", "0.0008", "0.0016", "0.0032",
                            "0.0064", "0.0128", "0.0256", "0.0512", "0.1024", "0.2048",
                            "0.4096", "0.8192", "1.6384", "3.2768", "+Inf"};
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        char line[160];
        snprintf(
            line, sizeof(line),
            "redis_call_duration_seconds_bucket{operation=\"GET\",status=\"success\",le=\"%s\"} "
            "0\n",
            bounds[i]);
        CHECK_CONTAINS(buf.data, line);
    }
    CHECK_INT(VT_REDIS_BUCKET_COUNT + 1, sizeof(bounds) / sizeof(bounds[0]));
    /* preinit: both statuses and every kind of GET, nothing of SET. */
    CHECK_CONTAINS(buf.data, "redis_calls_total{operation=\"GET\",status=\"success\"} 0\n");
    CHECK_CONTAINS(buf.data, "redis_calls_total{operation=\"GET\",status=\"error\"} 0\n");
    CHECK_CONTAINS(buf.data, "redis_errors_total{operation=\"GET\",kind=\"reply\"} 0\n");
    CHECK_CONTAINS(buf.data, "redis_errors_total{operation=\"GET\",kind=\"timeout\"} 0\n");
    CHECK_CONTAINS(buf.data, "redis_errors_total{operation=\"GET\",kind=\"io\"} 0\n");
    CHECK_CONTAINS(buf.data, "redis_errors_total{operation=\"GET\",kind=\"protocol\"} 0\n");
    CHECK_CONTAINS(buf.data, "redis_errors_total{operation=\"GET\",kind=\"other\"} 0\n");
    CHECK(!strstr(buf.data, "operation=\"SET\""));
    vt_buf_free(&buf);
    vt_redis_metrics_destroy(m);
    vt_registry_destroy(reg);
}

static void test_options(void) {
    vt_registry_t *reg;
    vt_redis_metrics_t *m = NULL;
    vt_redis_metrics_opts_t o;
    vt_buf_t buf = {0};
    const double b[] = {0.001, 0.01, 0.1};
    const double bad[] = {0.01, 0.001};
    CHECK_INT(vt_registry_create(&reg), 0);

    vt_redis_metrics_opts_init(&o);
    o.prefix = "cache";
    o.buckets = b;
    o.bucket_count = 3;
    o.const_labels = VT_LABELS("server", "sessions");
    o.preinit = VT_VALUES("SET", "other");
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m), 0);
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    CHECK_CONTAINS(buf.data, "cache_calls_total{server=\"sessions\",operation=\"SET\","
                             "status=\"success\"} 0\n");
    CHECK_CONTAINS(buf.data, "cache_calls_total{server=\"sessions\",operation=\"other\","
                             "status=\"error\"} 0\n");
    CHECK_CONTAINS(buf.data, "le=\"0.1\"} 0\n");
    CHECK(!strstr(buf.data, "le=\"0.0001\""));
    CHECK_CONTAINS(buf.data, "cache_connected{server=\"sessions\"} 0\n");
    vt_buf_free(&buf);

    /* A second object beside it with other const labels is fine. */
    vt_redis_metrics_t *m2 = NULL;
    o.const_labels = VT_LABELS("server", "cache");
    o.preinit = NULL;
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_EDUPLICATE);
    o.prefix = "cache2";
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), 0);
    vt_redis_metrics_destroy(m2);

    size_t families = 0;
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    for (const char *p = buf.data; (p = strstr(p, "# TYPE ")) != NULL; p++)
        families++;
    vt_buf_free(&buf);

    /* Bad options: a clear code, and the registry is as it was. */
    vt_redis_metrics_opts_init(&o);
    o.prefix = NULL;
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_EINVAL);
    o.prefix = "";
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_EINVAL);
    o.prefix = "9bad";
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_ENAME);
    o.prefix = "bad-name";
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_ENAME);
    o.prefix = "ok";
    o.buckets = bad;
    o.bucket_count = 2;
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_EBUCKETS);
    o.buckets = NULL;
    o.bucket_count = 0;
    o.preinit = VT_VALUES("GET", "NOSUCHCOMMAND");
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_EINVAL);
    o.preinit = NULL;
    o.const_labels = VT_LABELS("operation", "x");
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_EDUPLABEL);
    o.const_labels = VT_LABELS("__x", "y");
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_ERESERVED);
    o.const_labels = VT_LABELS("server", "\xff");
    CHECK_INT(vt_redis_metrics_create(reg, &o, &m2), VT_EUTF8);
    CHECK_INT(vt_redis_metrics_create(reg, NULL, NULL), VT_EINVAL);

    size_t after = 0;
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    for (const char *p = buf.data; (p = strstr(p, "# TYPE ")) != NULL; p++)
        after++;
    CHECK_INT(after, families);
    CHECK(!strstr(buf.data, "ok_calls_total"));
    vt_buf_free(&buf);

    vt_redis_metrics_destroy(m);
    vt_registry_destroy(reg);
}

static void test_null_arguments(void) {
    vt_redis_conn_t *conn = NULL;
    vt_redis_metrics_t *m;
    vt_registry_t *reg;
    redisContext fake;
    memset(&fake, 0, sizeof(fake));
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_redis_metrics_create(reg, NULL, &m), 0);
    CHECK(vt_redis_command(m, NULL, "PING") == NULL);
    CHECK(vt_redis_command_argv(m, NULL, 1, (const char *[]){"PING"}, NULL) == NULL);
    CHECK_INT(vt_redis_reconnect(m, NULL), REDIS_ERR);
    CHECK_INT(vt_redis_conn_create(NULL, &fake, &conn), VT_EINVAL);
    CHECK_INT(vt_redis_conn_create(m, NULL, &conn), VT_EINVAL);
    CHECK_INT(vt_redis_conn_create(m, &fake, NULL), VT_EINVAL);
    CHECK(conn == NULL);
    CHECK_INT(vt_redis_append_command(NULL, "PING"), REDIS_ERR);
    CHECK_INT(vt_redis_append_command_argv(NULL, 1, (const char *[]){"PING"}, NULL), REDIS_ERR);
    CHECK_INT(vt_redis_get_reply(NULL, NULL), REDIS_ERR);
    CHECK_INT(vt_redis_conn_reconnect(NULL), REDIS_ERR);
    CHECK(vt_redis_conn_context(NULL) == NULL);
    CHECK_INT(vt_redis_conn_pending(NULL), 0);
    vt_redis_conn_destroy(NULL);
    CHECK_INT(vt_redis_async_command(m, NULL, NULL, NULL, "PING"), REDIS_ERR);
    CHECK_INT(vt_redis_async_command_argv(m, NULL, NULL, NULL, 1, (const char *[]){"PING"}, NULL),
              REDIS_ERR);
    /* Nothing was recorded by any of these. */
    vt_buf_t buf = {0};
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    CHECK(!strstr(buf.data, "redis_calls_total{"));
    vt_buf_free(&buf);
    vt_redis_metrics_destroy(m);
    vt_registry_destroy(reg);
}

int main(void) {
    vt__redis_index_build(&ix);
    RUN(test_every_known_name);
    RUN(test_case_and_other);
    RUN(test_resp);
    RUN(test_argv);
    RUN(test_push_ops);
    RUN(test_create_defaults);
    RUN(test_default_buckets);
    RUN(test_options);
    RUN(test_null_arguments);
    TEST_EXIT();
}
