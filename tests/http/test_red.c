/* test_red.c - the framework-agnostic RED middleware: what each call records,
 * label normalization, options, bad options, and exact totals under threads.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "vitals.h"
#include "vitals/http.h"

#define LBL VT_LABELS("method", "route", "code")

static double sample(vt_registry_t *reg, const char *name, const char *const *names,
                     const char *const *values) {
    double v = -1;
    if (vt_registry_get_sample_value(reg, name, names, values, &v) != 0)
        return -1;
    return v;
}

static double requests(vt_registry_t *reg, const char *method, const char *route,
                       const char *code) {
    return sample(reg, "http_requests_total", LBL, VT_VALUES(method, route, code));
}

static void test_defaults(void) {
    vt_registry_t *reg;
    vt_red_t *red;
    vt_buf_t buf = {0};
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    CHECK_INT(vt_red_route_add(red, "/hello/:name"), 0);
    vt_red_observe(red, "GET", "/hello/bob", 200, 0.02, VT_RED_NO_SIZE, VT_RED_NO_SIZE);
    vt_red_observe(red, "GET", "/hello/alice?x=1", 200, 0.03, 10, 20);
    vt_red_observe(red, "POST", "/hello/alice", 201, 0.5, 10, 20);
    vt_red_observe(red, "GET", "/secret/../../etc", 404, 0.001, 0, 0);
    CHECK_DBL(requests(reg, "GET", "/hello/:name", "200"), 2);
    CHECK_DBL(requests(reg, "POST", "/hello/:name", "201"), 1);
    CHECK_DBL(requests(reg, "GET", "unmatched", "404"), 1);
    CHECK_DBL(sample(reg, "http_request_duration_seconds_count", LBL,
                     VT_VALUES("GET", "/hello/:name", "200")),
              2);
    CHECK_DBL(sample(reg, "http_request_duration_seconds_sum", LBL,
                     VT_VALUES("GET", "/hello/:name", "200")),
              0.05);
    CHECK_DBL(sample(reg, "http_request_duration_seconds_bucket",
                     VT_LABELS("method", "route", "code", "le"),
                     VT_VALUES("GET", "/hello/:name", "200", "0.025")),
              1);
    CHECK_DBL(sample(reg, "http_requests_in_flight", NULL, NULL), 0);
    /* Sizes are off by default: no such family. */
    CHECK_DBL(
        sample(reg, "http_request_size_bytes_count", LBL, VT_VALUES("GET", "/hello/:name", "200")),
        -1);
    /* Raw paths never become label values. */
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    CHECK(buf.data && !strstr(buf.data, "bob") && !strstr(buf.data, "etc"));
    CHECK_CONTAINS(buf.data, "# TYPE http_requests_total counter");
    CHECK_CONTAINS(buf.data, "# TYPE http_request_duration_seconds histogram");
    CHECK_CONTAINS(buf.data, "# TYPE http_requests_in_flight gauge");
    vt_buf_free(&buf);
    vt_red_destroy(red);
    /* Destroy unregistered everything: the same names can be created again. */
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    CHECK_DBL(requests(reg, "GET", "/hello/:name", "200"), -1);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

static void test_methods(void) {
    static const char *const known[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                        "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    static const char *const odd[] = {"get", "BREW", "PROPFIND", "", "GET ", "G", "PATCHX"};
    vt_registry_t *reg;
    vt_red_t *red;
    size_t i;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    for (i = 0; i < 9; i++)
        vt_red_observe(red, known[i], "/x", 200, 0.001, 0, 0);
    for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
        vt_red_observe(red, odd[i], "/x", 200, 0.001, 0, 0);
    vt_red_observe(red, NULL, "/x", 200, 0.001, 0, 0);
    for (i = 0; i < 9; i++)
        CHECK_DBL(requests(reg, known[i], "unmatched", "200"), 1);
    CHECK_DBL(requests(reg, "other", "unmatched", "200"), 8);
    CHECK_DBL(requests(reg, "get", "unmatched", "200"), -1);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

static void test_status(void) {
    vt_registry_t *reg;
    vt_red_t *red;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    vt_red_observe(red, "GET", "/", 0, 0.001, 0, 0); /* failed before a status */
    vt_red_observe(red, "GET", "/", -1, 0.001, 0, 0);
    vt_red_observe(red, "GET", "/", 99, 0.001, 0, 0);
    vt_red_observe(red, "GET", "/", 600, 0.001, 0, 0);
    vt_red_observe(red, "GET", "/", 100, 0.001, 0, 0);
    vt_red_observe(red, "GET", "/", 599, 0.001, 0, 0);
    vt_red_observe(red, "GET", "/", 499, 0.001, 0, 0);
    CHECK_DBL(requests(reg, "GET", "unmatched", "500"), 4);
    CHECK_DBL(requests(reg, "GET", "unmatched", "100"), 1);
    CHECK_DBL(requests(reg, "GET", "unmatched", "599"), 1);
    CHECK_DBL(requests(reg, "GET", "unmatched", "499"), 1);
    CHECK_DBL(requests(reg, "GET", "unmatched", "600"), -1);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

/* More codes than a (route, method) caches: the rest still count exactly. */
static void test_many_codes(void) {
    vt_registry_t *reg;
    vt_red_t *red;
    int code, k, bad = 0;
    char cs[16];
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    for (k = 0; k < 3; k++)
        for (code = 200; code < 260; code++)
            vt_red_observe(red, "GET", "/", code, 0.001, 0, 0);
    for (code = 200; code < 260; code++) {
        snprintf(cs, sizeof(cs), "%d", code);
        bad += requests(reg, "GET", "unmatched", cs) != 3;
    }
    CHECK_INT(bad, 0);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

static void test_begin_end(void) {
    vt_registry_t *reg;
    vt_red_t *red;
    vt_red_req_t a, b;
    struct timespec ts = {0, 30 * 1000000L};
    double sum;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    CHECK_INT(vt_red_route_add(red, "/slow"), 0);
    vt_red_begin(red, "GET", "/slow", &a);
    vt_red_begin(red, "PUT", "/slow", &b);
    CHECK_DBL(sample(reg, "http_requests_in_flight", NULL, NULL), 2);
    nanosleep(&ts, NULL);
    vt_red_end(red, &a, 200, VT_RED_NO_SIZE, VT_RED_NO_SIZE);
    CHECK_DBL(sample(reg, "http_requests_in_flight", NULL, NULL), 1);
    vt_red_end(red, &b, -1, VT_RED_NO_SIZE, VT_RED_NO_SIZE);
    CHECK_DBL(sample(reg, "http_requests_in_flight", NULL, NULL), 0);
    sum = sample(reg, "http_request_duration_seconds_sum", LBL, VT_VALUES("GET", "/slow", "200"));
    CHECK(sum >= 0.029 && sum < 1.0);
    CHECK_DBL(requests(reg, "PUT", "/slow", "500"), 1);
    /* NULL arguments are ignored. */
    vt_red_begin(NULL, "GET", "/", &a);
    vt_red_end(NULL, &a, 200, 0, 0);
    vt_red_begin(red, "GET", "/", NULL);
    vt_red_end(red, NULL, 200, 0, 0);
    vt_red_observe(NULL, "GET", "/", 200, 0, 0, 0);
    CHECK_DBL(sample(reg, "http_requests_in_flight", NULL, NULL), 0);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

static void test_options(void) {
    static const double db[] = {0.1, 1};
    static const double sb[] = {100, 1000};
    vt_registry_t *reg;
    vt_red_opts_t o;
    vt_red_t *red;
    vt_buf_t buf = {0};
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_red_opts_init(&o);
    o.requests_name = "api_requests_total";
    o.duration_name = "api_latency_seconds";
    o.in_flight_name = NULL;
    o.request_size_name = "api_request_bytes";
    o.response_size_name = "api_response_bytes";
    o.method_label = "verb";
    o.route_label = "handler";
    o.code_label = "status";
    o.unmatched_route = "other_route";
    o.duration_buckets = db;
    o.duration_bucket_count = 2;
    o.size_buckets = sb;
    o.size_bucket_count = 2;
    o.sizes = 1;
    o.const_labels = VT_LABELS("service", "demo");
    CHECK_INT(vt_red_create(reg, &o, &red), 0);
    vt_red_observe(red, "GET", "/x", 200, 0.5, 50, 5000);
    vt_red_observe(red, "GET", "/x", 200, 0.5, VT_RED_NO_SIZE, 500);
    CHECK_DBL(sample(reg, "api_requests_total", VT_LABELS("verb", "handler", "status", "service"),
                     VT_VALUES("GET", "other_route", "200", "demo")),
              2);
    CHECK_DBL(sample(reg, "api_request_bytes_count",
                     VT_LABELS("verb", "handler", "status", "service"),
                     VT_VALUES("GET", "other_route", "200", "demo")),
              1);
    CHECK_DBL(sample(reg, "api_response_bytes_sum",
                     VT_LABELS("verb", "handler", "status", "service"),
                     VT_VALUES("GET", "other_route", "200", "demo")),
              5500);
    CHECK_DBL(sample(reg, "api_latency_seconds_bucket",
                     VT_LABELS("verb", "handler", "status", "service", "le"),
                     VT_VALUES("GET", "other_route", "200", "demo", "1")),
              2);
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    CHECK(!strstr(buf.data, "in_flight"));
    CHECK(!strstr(buf.data, "http_"));
    vt_buf_free(&buf);
    vt_red_destroy(red);

    /* Default sizes: 64 * 4^k buckets. */
    vt_red_opts_init(&o);
    o.sizes = 1;
    CHECK_INT(vt_red_create(reg, &o, &red), 0);
    vt_red_observe(red, "GET", "/", 200, 0.001, 64, 65);
    CHECK_DBL(sample(reg, "http_request_size_bytes_bucket",
                     VT_LABELS("method", "route", "code", "le"),
                     VT_VALUES("GET", "unmatched", "200", "64")),
              1);
    CHECK_DBL(sample(reg, "http_response_size_bytes_bucket",
                     VT_LABELS("method", "route", "code", "le"),
                     VT_VALUES("GET", "unmatched", "200", "64")),
              0);
    CHECK_DBL(sample(reg, "http_response_size_bytes_bucket",
                     VT_LABELS("method", "route", "code", "le"),
                     VT_VALUES("GET", "unmatched", "200", "256")),
              1);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

static void test_bad_options(void) {
    static const double bad_buckets[] = {1, 0.5};
    vt_registry_t *reg;
    vt_red_opts_t o;
    vt_red_t *red = NULL, *first;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, NULL), VT_EINVAL);
    vt_red_opts_init(&o);
    o.requests_name = "bad name";
    CHECK_INT(vt_red_create(reg, &o, &red), VT_ENAME);
    vt_red_opts_init(&o);
    o.route_label = "__route";
    CHECK_INT(vt_red_create(reg, &o, &red), VT_ERESERVED);
    vt_red_opts_init(&o);
    o.duration_buckets = bad_buckets;
    o.duration_bucket_count = 2;
    CHECK_INT(vt_red_create(reg, &o, &red), VT_EBUCKETS);
    vt_red_opts_init(&o);
    o.code_label = NULL;
    CHECK_INT(vt_red_create(reg, &o, &red), VT_EINVAL);
    vt_red_opts_init(&o);
    o.method_label = "code";
    CHECK_INT(vt_red_create(reg, &o, &red), VT_EDUPLABEL);
    CHECK(red == NULL);
    /* Nothing was left registered by the failures. */
    CHECK_INT(vt_red_create(reg, NULL, &first), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), VT_EDUPLICATE);
    vt_red_observe(first, "GET", "/", 200, 0.001, 0, 0);
    CHECK_DBL(requests(reg, "GET", "unmatched", "200"), 1);
    vt_red_destroy(first);
    vt_registry_destroy(reg);
}

static void test_series_limit(void) {
    vt_registry_t *reg;
    vt_red_opts_t o;
    vt_red_t *red;
    char pat[32];
    int i;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_red_opts_init(&o);
    o.max_series = 5;
    CHECK_INT(vt_red_create(reg, &o, &red), 0);
    for (i = 0; i < 10; i++) {
        snprintf(pat, sizeof(pat), "/r%d", i);
        CHECK_INT(vt_red_route_add(red, pat), 0);
        vt_red_observe(red, "GET", pat, 200, 0.001, 0, 0);
    }
    CHECK_DBL(
        requests(reg, VT_OVERFLOW_LABEL_VALUE, VT_OVERFLOW_LABEL_VALUE, VT_OVERFLOW_LABEL_VALUE),
        5);
    CHECK_DBL(requests(reg, "GET", "/r0", "200"), 1);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

#define THREADS 4
#define PER_THREAD 50000

typedef struct worker {
    vt_red_t *red;
    int id;
} worker_t;

static void *work(void *arg) {
    worker_t *w = arg;
    static const char *const paths[] = {"/a/1", "/b", "/c/x/y", "/zzz"};
    static const int codes[] = {200, 404, 500, 503};
    int i;
    for (i = 0; i < PER_THREAD; i++) {
        vt_red_req_t r;
        vt_red_begin(w->red, i & 1 ? "GET" : "POST", paths[(i + w->id) % 4], &r);
        vt_red_end(w->red, &r, codes[i % 4], 1, 2);
    }
    return NULL;
}

static void test_threads(void) {
    vt_registry_t *reg;
    vt_red_opts_t o;
    vt_red_t *red;
    pthread_t th[THREADS];
    worker_t w[THREADS];
    double total = 0, v;
    int i;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_red_opts_init(&o);
    o.sizes = 1;
    CHECK_INT(vt_red_create(reg, &o, &red), 0);
    CHECK_INT(vt_red_route_add(red, "/a/:id"), 0);
    for (i = 0; i < THREADS; i++) {
        w[i].red = red;
        w[i].id = i;
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    /* Routes arrive while requests run. */
    CHECK_INT(vt_red_route_add(red, "/b"), 0);
    CHECK_INT(vt_red_route_add(red, "/c/*"), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    {
        static const char *const routes[] = {"/a/:id", "/b", "/c/*", "unmatched"};
        static const char *const methods[] = {"GET", "POST"};
        static const char *const codes[] = {"200", "404", "500", "503"};
        size_t r, m, c;
        for (r = 0; r < 4; r++)
            for (m = 0; m < 2; m++)
                for (c = 0; c < 4; c++) {
                    v = requests(reg, methods[m], routes[r], codes[c]);
                    if (v > 0)
                        total += v;
                }
    }
    CHECK_DBL(total, THREADS * PER_THREAD);
    CHECK_DBL(sample(reg, "http_requests_in_flight", NULL, NULL), 0);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

static void test_cost(void) {
    vt_registry_t *reg;
    vt_red_t *red;
    const int n = 1000000;
    struct timespec t0, t1;
    double ns;
    int i;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    CHECK_INT(vt_red_route_add(red, "/users/:id"), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < n; i++) {
        vt_red_req_t r;
        vt_red_begin(red, "GET", "/users/42", &r);
        vt_red_end(red, &r, 200, VT_RED_NO_SIZE, VT_RED_NO_SIZE);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n;
    printf("begin+end: %.0f ns per request\n", ns);
    CHECK_DBL(requests(reg, "GET", "/users/:id", "200"), n); /* the cost is bench/'s to judge */
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_defaults);
    RUN(test_methods);
    RUN(test_status);
    RUN(test_many_codes);
    RUN(test_begin_end);
    RUN(test_options);
    RUN(test_bad_options);
    RUN(test_series_limit);
    RUN(test_threads);
    RUN(test_cost);
    TEST_EXIT();
}
