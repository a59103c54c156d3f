/* test_service.c - the reservations demo service over real sockets, with a
 * real redis-server: every route and its status, the 400 rule, cache misses
 * then hits (Redis holds the key with its TTL, no second database query), the
 * failure probabilities at 0 and 1, /metrics (route templates, Redis and
 * database metrics, OpenMetrics, gzip), slow requests served in parallel,
 * options and environment variables, and Redis killed and restarted under
 * the running service, once between single requests (exact counts) and once
 * under four client threads that never pause (every request answered 200
 * within its timeout, errors and reconnects counted, recovery).
 *
 * Usage: demo_service <path to the reservations binary>
 * Delays run at --latency-scale 0.01. Each service and the redis-server are
 * started on free ports on 127.0.0.1 and stopped by pid; a service must exit
 * 0 on SIGTERM (under ASan that also means no leak).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "harness.h"
#include "http/client.h"
#include "redis/server.h"
#include "service_proc.h"

static const char *binary;
static rs_server_t redis;
static char redis_port_arg[16];

/* The main service: no random failures, 1% of the original delays. */
static svc_t main_svc;

static const char *const main_args[] = {
    "--port",
    "0",
    "--redis-port",
    redis_port_arg,
    "--latency-scale",
    "0.01",
    "--error-rate",
    "0",
    "--checkout-error-rate",
    "0",
    "--cache-ttl",
    "120",
    NULL,
};

static long get(const svc_t *s, const char *path, resp_t *out) {
    char url[256];
    return http_do(svc_url(s, path, url, sizeof(url)), NULL, out);
}

static long send_req(const svc_t *s, const char *method, const char *path, const char *body,
                     const char *const *headers, resp_t *out) {
    char url[256];
    req_t r = {0};
    r.method = method;
    r.body = body;
    r.headers = headers;
    return http_do(svc_url(s, path, url, sizeof(url)), &r, out);
}

/* The value of one sample (name with its labels, exactly as exposed in text
 * format) on the service's /metrics; NAN when absent. */
static double metric(const svc_t *s, const char *sample) {
    resp_t r;
    double v = NAN;
    size_t n = strlen(sample);
    if (get(s, "/metrics", &r) == 200 && r.body) {
        for (const char *line = r.body; line && *line;) {
            if (strncmp(line, sample, n) == 0 && line[n] == ' ') {
                v = strtod(line + n + 1, NULL);
                break;
            }
            line = strchr(line, '\n');
            if (line)
                line++;
        }
    }
    resp_free(&r);
    return v;
}

#define GET_OK "redis_calls_total{operation=\"GET\",status=\"success\"}"
#define GET_ERR "redis_calls_total{operation=\"GET\",status=\"error\"}"
#define SET_OK "redis_calls_total{operation=\"SET\",status=\"success\"}"
#define GET_IO "redis_errors_total{operation=\"GET\",kind=\"io\"}"
#define DB_BY_USER "db_query_duration_seconds_count{operation=\"select_by_user\"}"
#define DB_SLOW "db_query_duration_seconds_count{operation=\"select\"}"

/* Whether a response carries Content-Type: application/json. */
static int is_json(const resp_t *r) {
    char ct[128];
    return resp_header(r, "Content-Type", ct, sizeof(ct)) && strcmp(ct, "application/json") == 0;
}

/* The "error" member of a JSON error body, or "" when the body is not one. */
static void error_message(const resp_t *r, char *out, size_t n) {
    json_error_t e;
    json_t *doc = json_loadb(r->body ? r->body : "", r->len, 0, &e);
    json_t *m = doc ? json_object_get(doc, "error") : NULL;
    snprintf(out, n, "%s", json_is_string(m) ? json_string_value(m) : "");
    json_decref(doc);
}

/* Check a reservations body: a non-empty JSON list of {"id": int >= 0,
 * "user_id": user}. */
static void check_reservations_body(const resp_t *r, const char *user) {
    json_error_t e;
    json_t *doc = json_loadb(r->body ? r->body : "", r->len, 0, &e);
    CHECK(json_is_array(doc));
    CHECK(json_array_size(doc) >= 1);
    for (size_t i = 0; doc && i < json_array_size(doc); i++) {
        json_t *item = json_array_get(doc, i);
        json_t *id = json_object_get(item, "id"), *uid = json_object_get(item, "user_id");
        CHECK(json_is_integer(id) && json_integer_value(id) >= 0 &&
              json_integer_value(id) <= 12200);
        CHECK(json_is_string(uid));
        if (json_is_string(uid))
            CHECK_STR(json_string_value(uid), user);
    }
    if (!doc)
        fprintf(stderr, "not JSON (%s): %s\n", e.text, r->body ? r->body : "(null)");
    json_decref(doc);
}

static redisContext *redis_connect(void) {
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis.port, tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

static void test_plain_routes(void) {
    resp_t r;
    char msg[128], allow[64];
    static const char *const json_type[] = {"Content-Type: application/json", NULL};

    CHECK_INT(get(&main_svc, "/", &r), 200);
    CHECK_STR(r.body, "I am running\n");
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/up", &r), 200);
    CHECK_STR(r.body, "I am running\n");
    resp_free(&r);
    CHECK_INT(send_req(&main_svc, "HEAD", "/up", NULL, NULL, &r), 200);
    CHECK_INT(r.len, 0);
    resp_free(&r);

    CHECK_INT(get(&main_svc, "/error", &r), 500);
    CHECK(is_json(&r));
    error_message(&r, msg, sizeof(msg));
    CHECK_STR(msg, "this endpoint always fails");
    resp_free(&r);

    CHECK_INT(get(&main_svc, "/no/such/page", &r), 404);
    CHECK(is_json(&r));
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/reservations/", &r), 404);
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/reservations/1/2", &r), 404);
    resp_free(&r);

    CHECK_INT(send_req(&main_svc, "POST", "/up", "x", NULL, &r), 405);
    CHECK_STR(resp_header(&r, "Allow", allow, sizeof(allow)), "GET, HEAD");
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/checkout", &r), 405);
    CHECK_STR(resp_header(&r, "Allow", allow, sizeof(allow)), "POST");
    resp_free(&r);
    CHECK_INT(send_req(&main_svc, "DELETE", "/reservations/42", NULL, NULL, &r), 405);
    resp_free(&r);

    /* checkout at probability 0: always 200 with a JSON body */
    for (int i = 0; i < 10; i++) {
        json_error_t e;
        json_t *doc;
        CHECK_INT(send_req(&main_svc, "POST", "/checkout", "{\"cart_id\": 1}", json_type, &r), 200);
        CHECK(is_json(&r));
        doc = json_loadb(r.body ? r.body : "", r.len, 0, &e);
        CHECK_STR(json_string_value(json_object_get(doc, "status")), "success");
        json_decref(doc);
        resp_free(&r);
    }

    {
        double before = metric(&main_svc, DB_SLOW);
        json_error_t e;
        json_t *doc;
        CHECK_INT(get(&main_svc, "/database", &r), 200);
        CHECK(is_json(&r));
        doc = json_loadb(r.body ? r.body : "", r.len, 0, &e);
        CHECK(json_is_string(json_object_get(doc, "message")));
        /* 0.5 to 1.5 s at scale 0.01 */
        CHECK(json_real_value(json_object_get(doc, "seconds")) >= 0.004);
        json_decref(doc);
        resp_free(&r);
        CHECK_DBL(metric(&main_svc, DB_SLOW), before + 1);
    }
}

static void test_user_id_rule(void) {
    resp_t r;
    char msg[128];
    double db_before = metric(&main_svc, DB_BY_USER), get_before = metric(&main_svc, GET_OK);

    CHECK_INT(get(&main_svc, "/reservations/123456", &r), 400);
    CHECK(is_json(&r));
    error_message(&r, msg, sizeof(msg));
    CHECK_STR(msg, "user_id is longer than 5 characters");
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/reservations/abcdefghijklmnopqrstuvwxyz0123456789", &r), 400);
    resp_free(&r);
    /* five characters are fine, however many bytes: é is two */
    CHECK_INT(get(&main_svc, "/reservations/12345", &r), 200);
    check_reservations_body(&r, "12345");
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/reservations/%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9", &r), 200);
    check_reservations_body(&r, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/reservations/%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9", &r), 400);
    resp_free(&r);
    /* not UTF-8, or a control character */
    CHECK_INT(get(&main_svc, "/reservations/%FF", &r), 400);
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/reservations/a%01", &r), 400);
    resp_free(&r);
    /* a quote in the id is escaped in the JSON */
    CHECK_INT(get(&main_svc, "/reservations/a%22b", &r), 200);
    check_reservations_body(&r, "a\"b");
    resp_free(&r);

    /* the refused ids cost no Redis call and no query */
    CHECK_DBL(metric(&main_svc, DB_BY_USER), db_before + 3);
    CHECK_DBL(metric(&main_svc, GET_OK), get_before + 3);
}

static void test_cache_miss_then_hit(void) {
    resp_t first, second;
    redisContext *c = redis_connect();
    redisReply *rep;
    double get0 = metric(&main_svc, GET_OK), set0 = metric(&main_svc, SET_OK);
    double db0 = metric(&main_svc, DB_BY_USER);

    CHECK(c != NULL);
    if (!c)
        return;
    rep = redisCommand(c, "DEL userReservations:777");
    freeReplyObject(rep);

    CHECK_INT(get(&main_svc, "/reservations/777", &first), 200);
    CHECK(is_json(&first));
    check_reservations_body(&first, "777");
    CHECK_DBL(metric(&main_svc, GET_OK), get0 + 1);
    CHECK_DBL(metric(&main_svc, DB_BY_USER), db0 + 1);
    CHECK_DBL(metric(&main_svc, SET_OK), set0 + 1);

    /* Redis holds the body under the seed's key, with the TTL asked for */
    rep = redisCommand(c, "GET userReservations:777");
    CHECK(rep && rep->type == REDIS_REPLY_STRING);
    if (rep && rep->type == REDIS_REPLY_STRING)
        CHECK_STR(rep->str, first.body);
    freeReplyObject(rep);
    rep = redisCommand(c, "TTL userReservations:777");
    CHECK(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer > 100 && rep->integer <= 120);
    freeReplyObject(rep);

    /* the second read is a hit: one more GET, no query, no SET */
    CHECK_INT(get(&main_svc, "/reservations/777", &second), 200);
    CHECK(is_json(&second));
    CHECK_STR(second.body, first.body);
    CHECK_DBL(metric(&main_svc, GET_OK), get0 + 2);
    CHECK_DBL(metric(&main_svc, DB_BY_USER), db0 + 1);
    CHECK_DBL(metric(&main_svc, SET_OK), set0 + 1);

    /* a value put in Redis by someone else is what the service returns */
    rep = redisCommand(c, "SET userReservations:778 %s", "[{\"id\": 1, \"user_id\": \"778\"}]");
    freeReplyObject(rep);
    resp_free(&second);
    CHECK_INT(get(&main_svc, "/reservations/778", &second), 200);
    CHECK_STR(second.body, "[{\"id\": 1, \"user_id\": \"778\"}]");
    CHECK_DBL(metric(&main_svc, DB_BY_USER), db0 + 1);

    resp_free(&first);
    resp_free(&second);
    redisFree(c);
}

static void test_failures_at_probability_one(void) {
    static const char *const args[] = {
        "--port",
        "0",
        "--redis-port",
        redis_port_arg,
        "--latency-scale",
        "0.01",
        "--error-rate",
        "1",
        "--checkout-error-rate",
        "1",
        NULL,
    };
    svc_t s;
    resp_t r;
    char msg[128];
    CHECK_INT(svc_start(&s, binary, args, NULL), 0);
    if (!s.pid)
        return;
    for (int i = 0; i < 5; i++) {
        CHECK_INT(get(&s, "/reservations/42", &r), 500);
        CHECK(is_json(&r));
        resp_free(&r);
        CHECK_INT(send_req(&s, "POST", "/checkout", "{}", NULL, &r), 500);
        CHECK(is_json(&r));
        error_message(&r, msg, sizeof(msg));
        CHECK_STR(msg, "payment gateway timeout");
        resp_free(&r);
    }
    /* the 400 rule comes before the failure draw */
    CHECK_INT(get(&s, "/reservations/123456", &r), 400);
    resp_free(&r);
    CHECK_INT(get(&s, "/up", &r), 200);
    resp_free(&r);
    CHECK_DBL(metric(&s, "http_requests_total{method=\"GET\",route=\"/reservations/:user_id\","
                         "code=\"500\"}"),
              5);
    CHECK_DBL(metric(&s, "http_requests_total{method=\"POST\",route=\"/checkout\",code=\"500\"}"),
              5);
    /* a failed request never reached the cache */
    CHECK_DBL(metric(&s, GET_OK), 0);
    CHECK_INT(svc_stop(&s), 0);
}

static void test_metrics(void) {
    resp_t r;
    char ct[128], enc[32];
    static const char *const om[] = {"Accept: application/openmetrics-text;version=1.0.0", NULL};
    static const char *const gz[] = {"Accept-Encoding: gzip", NULL};

    CHECK_INT(get(&main_svc, "/reservations/42", &r), 200);
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/metrics", &r), 200);
    CHECK_STR(resp_header(&r, "Content-Type", ct, sizeof(ct)),
              "text/plain; version=0.0.4; charset=utf-8");
    CHECK_CONTAINS(r.body, "http_requests_total{method=\"GET\",route=\"/reservations/:user_id\","
                           "code=\"200\"}");
    CHECK_CONTAINS(r.body, "http_requests_total{method=\"GET\",route=\"/error\",code=\"500\"}");
    CHECK_CONTAINS(r.body, "http_requests_total{method=\"GET\",route=\"/\",code=\"200\"}");
    CHECK_CONTAINS(r.body,
                   "http_request_duration_seconds_bucket{method=\"GET\",route=\"/database\"");
    CHECK_CONTAINS(r.body, "\nhttp_requests_in_flight ");
    CHECK_CONTAINS(r.body, "\nredis_calls_total{operation=\"GET\",status=\"success\"} ");
    CHECK_CONTAINS(r.body, "\nredis_call_duration_seconds_bucket{operation=\"SET\"");
    CHECK_CONTAINS(r.body, "\nredis_connected 1\n");
    CHECK_CONTAINS(r.body, "\ndb_query_duration_seconds_bucket{operation=\"select\",le=\"0.005\"}");
    CHECK_CONTAINS(r.body, "\ndb_query_duration_seconds_count{operation=\"select_by_user\"} ");
    CHECK_CONTAINS(r.body, "\nprocess_cpu_seconds_total ");
    CHECK_CONTAINS(r.body, "\nprocess_resident_memory_bytes ");
    /* route templates only: never a raw path, never a user id */
    CHECK(!strstr(r.body, "route=\"/reservations/42\""));
    CHECK(!strstr(r.body, "route=\"/reservations/777\""));
    CHECK(!strstr(r.body, "route=\"/no/such/page\""));
    CHECK_CONTAINS(r.body, "route=\"unmatched\",code=\"404\"");
    resp_free(&r);

    CHECK_INT(send_req(&main_svc, "GET", "/metrics", NULL, om, &r), 200);
    CHECK_STR(resp_header(&r, "Content-Type", ct, sizeof(ct)),
              "application/openmetrics-text; version=1.0.0; charset=utf-8");
    CHECK(r.len > 6 && strcmp(r.body + r.len - 6, "# EOF\n") == 0);
    resp_free(&r);

    CHECK_INT(send_req(&main_svc, "GET", "/metrics", NULL, gz, &r), 200);
    CHECK_STR(resp_header(&r, "Content-Encoding", enc, sizeof(enc)), "gzip");
    {
        size_t n = 0;
        char *text = gunzip_body(r.body, r.len, &n);
        CHECK(text != NULL);
        CHECK_CONTAINS(text, "http_requests_total{");
        free(text);
    }
    resp_free(&r);
}

typedef struct slow_call {
    const svc_t *svc;
    long status;
} slow_call_t;

static void *call_database(void *arg) {
    slow_call_t *c = arg;
    resp_t r;
    c->status = get(c->svc, "/database", &r);
    resp_free(&r);
    return NULL;
}

/* Six /database calls of 0.2-0.6 s each (scale 0.4) take at least 1.2 s one
 * after another; in parallel they take about the slowest one. */
static void test_slow_requests_in_parallel(void) {
    static const char *const args[] = {
        "--port", "0", "--redis-port", redis_port_arg, "--latency-scale", "0.4", NULL,
    };
    svc_t s;
    pthread_t t[6];
    slow_call_t calls[6];
    double start, took;
    CHECK_INT(svc_start(&s, binary, args, NULL), 0);
    if (!s.pid)
        return;
    start = now_ms();
    for (int i = 0; i < 6; i++) {
        calls[i].svc = &s;
        calls[i].status = 0;
        pthread_create(&t[i], NULL, call_database, &calls[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(calls[i].status, 200);
    }
    took = now_ms() - start;
    printf("six parallel /database calls took %.0f ms\n", took);
    CHECK(took < 1100);
    CHECK_DBL(metric(&s, DB_SLOW), 6);
    CHECK_INT(svc_stop(&s), 0);
}

static void test_options(void) {
    char *out = NULL;
    static const char *const help[] = {"--help", NULL};
    static const char *const flags[] = {"--port",          "--host",       "--redis-host",
                                        "--redis-port",    "--error-rate", "--checkout-error-rate",
                                        "--latency-scale", "--cache-ttl",  "PORT",
                                        "REDIS_HOST",      "REDIS_PORT",   NULL};
    static const char *const bad[][3] = {
        {"--error-rate", "1.5", NULL},
        {"--error-rate", "-0.1", NULL},
        {"--checkout-error-rate", "x", NULL},
        {"--latency-scale", "nan", NULL},
        {"--port", "70000", NULL},
        {"--port", "-1", NULL},
        {"--cache-ttl", "0", NULL},
        {"--host", "localhost", NULL},
        {"--bogus", "1", NULL},
        {"--port", NULL, NULL},
    };
    static const char *const env_bad[] = {"ERROR_RATE=lots", NULL};
    static const char *const no_args[] = {NULL};

    CHECK_INT(svc_run(binary, help, NULL, &out), 0);
    for (size_t i = 0; flags[i]; i++)
        CHECK_CONTAINS(out, flags[i]);
    free(out);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = svc_run(binary, bad[i], NULL, NULL);
        if (rc != 2)
            fprintf(stderr, "option %s %s: exit %d\n", bad[i][0], bad[i][1] ? bad[i][1] : "", rc);
        CHECK_INT(rc, 2);
    }
    CHECK_INT(svc_run(binary, no_args, env_bad, NULL), 2);
}

/* PORT and REDIS_PORT from the environment; a flag wins over its variable. */
static void test_environment(void) {
    static char port_env[32], redis_env[32];
    static const char *const env[] = {port_env, redis_env, "LATENCY_SCALE=0.01", "ERROR_RATE=0",
                                      NULL};
    static const char *const args[] = {"--error-rate", "0", NULL};
    static const char *const env_override[] = {"PORT=1", "ERROR_RATE=1", NULL};
    static const char *const args_override[] = {
        "--port",       "0", "--error-rate", "0", "--latency-scale", "0.01", "--redis-port",
        redis_port_arg, NULL};
    svc_t s;
    resp_t r;
    redisContext *c;
    redisReply *rep;
    unsigned port;

    /* a port nobody uses right now: let the service pick, stop it, reuse */
    CHECK_INT(svc_start(&s, binary, args_override, env_override), 0);
    if (!s.pid)
        return;
    port = s.port;
    CHECK_INT(get(&s, "/reservations/1", &r), 200); /* --error-rate 0 beat ERROR_RATE=1 */
    resp_free(&r);
    CHECK_INT(svc_stop(&s), 0);

    snprintf(port_env, sizeof(port_env), "PORT=%u", port);
    snprintf(redis_env, sizeof(redis_env), "REDIS_PORT=%d", redis.port);
    CHECK_INT(svc_start(&s, binary, args, env), 0);
    if (!s.pid)
        return;
    CHECK_INT(s.port, port);
    c = redis_connect();
    rep = c ? redisCommand(c, "DEL userReservations:env1") : NULL;
    freeReplyObject(rep);
    CHECK_INT(get(&s, "/reservations/env1", &r), 200);
    resp_free(&r);
    rep = c ? redisCommand(c, "EXISTS userReservations:env1") : NULL;
    CHECK(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1);
    freeReplyObject(rep);
    if (c)
        redisFree(c);
    CHECK_INT(svc_stop(&s), 0);
}

/* Redis killed under the running service: answers keep coming from the
 * database and each failed GET is counted; Redis restarted on the same port:
 * the service reconnects within about a second and uses it again. */
static void test_redis_down_and_back(void) {
    resp_t r;
    double get_err0, get_io0, get_ok0, set_ok0, db0, get_ok1;
    char path[64];
    int reconnected = 0;

    get_err0 = metric(&main_svc, GET_ERR);
    get_io0 = metric(&main_svc, GET_IO);
    get_ok0 = metric(&main_svc, GET_OK);
    set_ok0 = metric(&main_svc, SET_OK);
    db0 = metric(&main_svc, DB_BY_USER);

    rs_kill(&redis, SIGKILL);
    for (int i = 0; i < 10; i++) {
        snprintf(path, sizeof(path), "/reservations/d%d", i);
        CHECK_INT(get(&main_svc, path, &r), 200);
        snprintf(path, sizeof(path), "d%d", i);
        check_reservations_body(&r, path);
        resp_free(&r);
    }
    CHECK_DBL(metric(&main_svc, GET_ERR), get_err0 + 10);
    CHECK_DBL(metric(&main_svc, GET_IO), get_io0 + 10);
    CHECK_DBL(metric(&main_svc, GET_OK), get_ok0);
    CHECK_DBL(metric(&main_svc, SET_OK), set_ok0); /* no write after a failed read */
    CHECK_DBL(metric(&main_svc, DB_BY_USER), db0 + 10);
    CHECK_DBL(metric(&main_svc, "redis_connected"), 0);
    /* A reconnect is tried at most once a second: keep asking (up to 3 s)
     * until one has been tried and failed. */
    for (int i = 0; i < 30 && metric(&main_svc, "redis_reconnects_total{status=\"error\"}") < 1;
         i++) {
        struct timespec ts = {0, 100000000L};
        CHECK_INT(get(&main_svc, "/reservations/down", &r), 200);
        resp_free(&r);
        nanosleep(&ts, NULL);
    }
    CHECK(metric(&main_svc, "redis_reconnects_total{status=\"error\"}") >= 1);

    CHECK_INT(rs_start(&redis), 0);
    for (int i = 0; i < 60 && !reconnected; i++) { /* the backoff is 1 s: 3 s is plenty */
        struct timespec ts = {0, 100000000L};
        snprintf(path, sizeof(path), "/reservations/u%d", i);
        CHECK_INT(get(&main_svc, path, &r), 200);
        resp_free(&r);
        reconnected = metric(&main_svc, GET_OK) > get_ok0;
        nanosleep(&ts, NULL);
    }
    CHECK(reconnected);
    CHECK(metric(&main_svc, "redis_reconnects_total{status=\"success\"}") >= 1);
    CHECK_DBL(metric(&main_svc, "redis_connected"), 1);

    /* from now on reads and writes go to the new server */
    get_ok1 = metric(&main_svc, GET_OK);
    CHECK_INT(get(&main_svc, "/reservations/back", &r), 200);
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/reservations/back", &r), 200);
    resp_free(&r);
    CHECK_DBL(metric(&main_svc, GET_OK), get_ok1 + 2);
    {
        redisContext *c = redis_connect();
        redisReply *rep = c ? redisCommand(c, "EXISTS userReservations:back") : NULL;
        CHECK(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1);
        freeReplyObject(rep);
        if (c)
            redisFree(c);
    }
}

/* One client thread of the load: GET /reservations/<id> over ids of its own,
 * one request after another, until stop is set. The harness' CHECKs are not
 * thread-safe: a thread only counts, the test checks the counts. */
typedef struct load {
    const svc_t *svc;
    int n; /* which thread: its ids are L<n>00 to L<n>19 */
    const atomic_int *stop;
    atomic_long *done; /* requests completed by every thread */
    long requests, ok; /* requests made; answered 200 with a good body */
    long no_answer;    /* no HTTP answer within the 5 s client timeout */
    long other_status; /* answered, but not 200 */
    long bad_body;     /* 200, but not the user's reservations */
    double slowest_ms;
} load_t;

/* Is the body a non-empty JSON list of reservations of user? */
static int reservations_ok(const resp_t *r, const char *user) {
    json_error_t e;
    json_t *doc = json_loadb(r->body ? r->body : "", r->len, 0, &e);
    int ok = json_is_array(doc) && json_array_size(doc) >= 1;
    for (size_t i = 0; ok && i < json_array_size(doc); i++) {
        json_t *uid = json_object_get(json_array_get(doc, i), "user_id");
        ok = json_is_string(uid) && strcmp(json_string_value(uid), user) == 0;
    }
    json_decref(doc);
    return ok;
}

static void *load_main(void *arg) {
    load_t *l = arg;
    for (long i = 0; !atomic_load(l->stop); i++) {
        char user[16], url[256];
        req_t q = {0};
        resp_t r;
        snprintf(user, sizeof(user), "L%d%02ld", l->n, i % 20);
        snprintf(url, sizeof(url), "%s/reservations/%s", l->svc->base, user);
        q.timeout_ms = 5000;
        double t0 = now_ms();
        long status = http_do(url, &q, &r);
        double took = now_ms() - t0;
        l->requests++;
        l->slowest_ms = took > l->slowest_ms ? took : l->slowest_ms;
        if (status == 0)
            l->no_answer++;
        else if (status != 200)
            l->other_status++;
        else if (!reservations_ok(&r, user))
            l->bad_body++;
        else
            l->ok++;
        resp_free(&r);
        atomic_fetch_add(l->done, 1);
    }
    return NULL;
}

/* Poll a metric every 50 ms, up to ms, until it is at least want; its last
 * value. */
static double wait_metric(const char *sample, double want, long ms) {
    double v = metric(&main_svc, sample);
    for (long waited = 0; !(v >= want) && waited < ms; waited += 50) {
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
        v = metric(&main_svc, sample);
    }
    return v;
}

#define LOADERS 4
#define RECONNECT_ERR "redis_reconnects_total{status=\"error\"}"
#define RECONNECT_OK "redis_reconnects_total{status=\"success\"}"

/* The same under load: four client threads ask without pause from before the
 * kill until after the recovery. Every request is answered 200 with the
 * user's reservations (from the database while Redis is down) within the
 * client's 5 s timeout; each failed GET is counted as an error of kind io;
 * reconnects fail while Redis is down and succeed once it is back; then
 * redis_connected is 1 and calls succeed again. About 4 s unloaded. */
static void test_redis_down_under_load(void) {
    atomic_int stop = 0;
    atomic_long done = 0;
    load_t l[LOADERS];
    pthread_t t[LOADERS];
    resp_t r;
    double get_err0 = metric(&main_svc, GET_ERR), get_io0 = metric(&main_svc, GET_IO);
    double db0 = metric(&main_svc, DB_BY_USER), rec_err0 = metric(&main_svc, RECONNECT_ERR);
    double rec_ok0 = metric(&main_svc, RECONNECT_OK), get_ok1, get_err1, t_up, t_back = -1;
    long at_kill, at_restart, total = 0;

    memset(l, 0, sizeof(l));
    for (int i = 0; i < LOADERS; i++) {
        l[i].svc = &main_svc;
        l[i].n = i;
        l[i].stop = &stop;
        l[i].done = &done;
        pthread_create(&t[i], NULL, load_main, &l[i]);
    }
    for (int i = 0; i < 100 && atomic_load(&done) < 40; i++) { /* up to 5 s */
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
    }

    at_kill = atomic_load(&done);
    rs_kill(&redis, SIGKILL);
    /* Down until the GETs have failed for a while and a reconnect (at most
     * one a second per connection) has been tried and refused. */
    wait_metric(GET_ERR, get_err0 + 20, 5000);
    CHECK(wait_metric(RECONNECT_ERR, rec_err0 + 1, 5000) >= rec_err0 + 1);
    CHECK_DBL(metric(&main_svc, "redis_connected"), 0);

    at_restart = atomic_load(&done);
    CHECK_INT(rs_start(&redis), 0);
    t_up = now_ms();
    get_ok1 = metric(&main_svc, GET_OK);
    /* Back once a call has succeeded on a reconnected context. */
    if (wait_metric(GET_OK, get_ok1 + 1, 5000) >= get_ok1 + 1)
        t_back = now_ms() - t_up;
    /* Every pooled context in use is reconnected when no GET has failed for
     * 1.2 s (more than the 1 s between a context's attempts); up to 8 s. */
    get_err1 = metric(&main_svc, GET_ERR);
    for (int quiet = 0, i = 0; quiet < 24 && i < 160; i++) {
        struct timespec ts = {0, 50000000L};
        double e;
        nanosleep(&ts, NULL);
        e = metric(&main_svc, GET_ERR);
        quiet = e == get_err1 ? quiet + 1 : 0;
        get_err1 = e;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < LOADERS; i++)
        pthread_join(t[i], NULL);

    for (int i = 0; i < LOADERS; i++) {
        total += l[i].requests;
        CHECK_INT(l[i].no_answer, 0);
        CHECK_INT(l[i].other_status, 0);
        CHECK_INT(l[i].bad_body, 0);
        CHECK_INT(l[i].ok, l[i].requests);
        CHECK(l[i].slowest_ms < 5000);
    }
    printf("%ld requests from %d threads, %ld while Redis was down; slowest per thread "
           "%.0f %.0f %.0f %.0f ms; first success %.0f ms after the restart\n",
           total, LOADERS, at_restart - at_kill, l[0].slowest_ms, l[1].slowest_ms, l[2].slowest_ms,
           l[3].slowest_ms, t_back);
    CHECK(at_restart - at_kill >= 10);
    CHECK(t_back >= 0);
    /* Each request that started after the kill and ended before the restart
     * failed its GET (up to LOADERS were already under way at the kill) and
     * was served from the database. */
    get_err1 = metric(&main_svc, GET_ERR);
    CHECK(get_err1 - get_err0 >= (double)(at_restart - at_kill - LOADERS));
    {
        /* A call slowed past the 500 ms Redis timeout on this busy machine
         * would be of kind timeout: io is at least the outage, at most all. */
        double io = metric(&main_svc, GET_IO) - get_io0;
        CHECK(io >= (double)(at_restart - at_kill - LOADERS));
        CHECK(io <= get_err1 - get_err0);
    }
    CHECK(metric(&main_svc, DB_BY_USER) - db0 >= (double)(at_restart - at_kill - LOADERS));
    CHECK(metric(&main_svc, RECONNECT_OK) >= rec_ok0 + 1);
    CHECK_DBL(metric(&main_svc, "redis_connected"), 1);

    /* After the load: reads and writes go to the new server, no error. */
    get_ok1 = metric(&main_svc, GET_OK);
    CHECK_INT(get(&main_svc, "/reservations/after", &r), 200);
    resp_free(&r);
    CHECK_INT(get(&main_svc, "/reservations/after", &r), 200);
    check_reservations_body(&r, "after");
    resp_free(&r);
    CHECK_DBL(metric(&main_svc, GET_OK), get_ok1 + 2);
    CHECK_DBL(metric(&main_svc, GET_ERR), get_err1);
    {
        redisContext *c = redis_connect();
        redisReply *rep = c ? redisCommand(c, "EXISTS userReservations:after") : NULL;
        CHECK(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1);
        freeReplyObject(rep);
        if (c)
            redisFree(c);
    }
}

/* A service started while Redis is down answers and connects later. */
static void test_started_without_redis(void) {
    static char dead_port[16];
    static const char *const args[] = {
        "--port",       "0", "--redis-port", dead_port, "--latency-scale", "0.01",
        "--error-rate", "0", NULL,
    };
    svc_t s;
    resp_t r;
    rs_server_t late = {0};
    CHECK_INT(rs_start(&late), 0); /* learn a free port, then free it */
    snprintf(dead_port, sizeof(dead_port), "%d", late.port);
    rs_kill(&late, SIGTERM);

    CHECK_INT(svc_start(&s, binary, args, NULL), 0);
    if (!s.pid) {
        rs_cleanup(&late);
        return;
    }
    CHECK_INT(get(&s, "/reservations/5", &r), 200);
    check_reservations_body(&r, "5");
    resp_free(&r);
    CHECK(metric(&s, GET_ERR) >= 1);
    CHECK_DBL(metric(&s, "redis_connected"), 0);
    CHECK_INT(svc_stop(&s), 0);
    rs_cleanup(&late);
}

/* SIGTERM stops the service with status 0 (under ASan: and no leak). */
static void test_clean_stop(void) {
    int rc = svc_stop(&main_svc);
    if (rc != 0)
        fprintf(stderr, "the service exited %d on SIGTERM\n", rc);
    CHECK_INT(rc, 0);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <reservations binary>\n", argv[0]);
        return 2;
    }
    binary = argv[1];
    if (!rs_available())
        SKIP_ALL("redis-server is not installed");
    signal(SIGPIPE, SIG_IGN);
    client_init();
    if (rs_start(&redis) != 0) {
        fprintf(stderr, "cannot start redis-server\n");
        return 1;
    }
    snprintf(redis_port_arg, sizeof(redis_port_arg), "%d", redis.port);
    if (svc_start(&main_svc, binary, main_args, NULL) != 0) {
        rs_cleanup(&redis);
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }

    RUN(test_options);
    RUN(test_plain_routes);
    RUN(test_user_id_rule);
    RUN(test_cache_miss_then_hit);
    RUN(test_failures_at_probability_one);
    RUN(test_metrics);
    RUN(test_slow_requests_in_parallel);
    RUN(test_environment);
    RUN(test_started_without_redis);
    RUN(test_redis_down_and_back);
    RUN(test_redis_down_under_load);
    RUN(test_clean_stop);

    rs_cleanup(&redis);
    curl_global_cleanup();
    TEST_EXIT();
}
