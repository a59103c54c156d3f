/* demo_exposition.c - print the exposition of an instrumented demo service, for the vitals tests.
 *
 * It builds what the demo service registers: the HTTP RED middleware with
 * route templates, the Redis client metrics, the process collector and the
 * registry's self-metrics; records a deterministic mix of requests and
 * calls; and writes one scrape to stdout. tests/data/cli/demo.prom and
 * demo.om were made with it (with a real redis-server, `--redis-port`), and
 * the lint test runs it live to check that lint is silent on what the
 * libraries write.
 *
 * Usage: demo_exposition [--openmetrics] [--redis-port PORT]
 * Without a port, Redis calls go to a closed port and record errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "vitals.h"
#include "vitals/http.h"
#include "vitals/redis.h"

static const char *const routes[] = {"/", "/reservations", "/reservations/:user_id", "/healthz",
                                     "/static/*"};

static void http_traffic(vt_red_t *red) {
    static const struct {
        const char *method, *path;
        int status;
        double seconds;
        int times;
    } reqs[] = {
        {"GET", "/", 200, 0.004, 40},
        {"GET", "/reservations/42", 200, 0.012, 120},
        {"GET", "/reservations/43", 404, 0.003, 7},
        {"GET", "/reservations/44", 500, 0.2, 3},
        {"POST", "/reservations", 201, 0.035, 25},
        {"POST", "/reservations", 503, 1.2, 2},
        {"GET", "/healthz", 200, 0.0004, 60},
        {"GET", "/static/app.js", 200, 0.002, 15},
        {"GET", "/no/such/page", 404, 0.001, 4},
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        for (int k = 0; k < reqs[i].times; k++) {
            /* Spread the durations a little so several buckets fill. */
            double s = reqs[i].seconds * (0.5 + (double)(k % 5) * 0.25);
            vt_red_observe(red, reqs[i].method, reqs[i].path, reqs[i].status, s, VT_RED_NO_SIZE,
                           VT_RED_NO_SIZE);
        }
    }
}

static void redis_traffic(vt_redis_metrics_t *m, int port) {
    redisContext *c = redisConnect("127.0.0.1", port > 0 ? port : 1);
    if (!c) {
        return;
    }
    for (int i = 0; i < 20; i++) {
        freeReplyObject(vt_redis_command(m, c, "SET reservation:%d %d", i, i * 7));
        freeReplyObject(vt_redis_command(m, c, "GET reservation:%d", i));
    }
    freeReplyObject(vt_redis_command(m, c, "INCR counter:%d", 1));
    /* An error reply: HGET on a string key. */
    freeReplyObject(vt_redis_command(m, c, "HGET reservation:%d field", 1));
    redisFree(c);
}

int main(int argc, char **argv) {
    vt_write_opts_t wopts;
    vt_write_opts_init(&wopts);
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--openmetrics") == 0) {
            wopts.format = VT_FORMAT_OPENMETRICS;
        } else if (strcmp(argv[i], "--redis-port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--openmetrics] [--redis-port PORT]\n", argv[0]);
            return 2;
        }
    }
    vt_registry_t *reg;
    vt_red_t *red;
    vt_redis_metrics_t *rm;
    if (vt_registry_create(&reg) || vt_red_create(reg, NULL, &red) ||
        vt_redis_metrics_create(reg, NULL, &rm) || vt_process_collector_register(reg)) {
        fprintf(stderr, "demo_exposition: setting up the metrics failed\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (vt_red_route_add(red, routes[i])) {
            fprintf(stderr, "demo_exposition: route %s refused\n", routes[i]);
            return 1;
        }
    }
    http_traffic(red);
    redis_traffic(rm, port);
    vt_buf_t buf = {0};
    int rc = vt_registry_write_buf(reg, &wopts, &buf);
    if (rc == 0) {
        fwrite(buf.data, 1, buf.len, stdout);
    } else {
        fprintf(stderr, "demo_exposition: %s\n", vt_strerror(rc));
    }
    vt_buf_free(&buf);
    vt_redis_metrics_destroy(rm);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
    return rc ? 1 : 0;
}
