/* test_server.c - the embedded /metrics server over real sockets on
 * 127.0.0.1: negotiation, gzip, HEAD, 405, 404, health, self metrics, basic
 * auth, options, connection and in-flight limits, idle timeouts and hostile
 * requests.
 *
 * SPDX-License-Identifier: MIT
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vitals.h"
#include "vitals/http.h"

#include "client.h"
#include "sample_value.h"

#define PROM_ACCEPT                                                                                \
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"       \
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define TEXT_CT "text/plain; version=0.0.4; charset=utf-8"
#define OM_CT "application/openmetrics-text; version=1.0.0; charset=utf-8"

static char url_buf[256];

static const char *url(const vt_http_server_t *s, const char *path) {
    snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%u%s", vt_http_server_port(s), path);
    return url_buf;
}

/* A registry whose scrape never changes: self metrics off, fixed values. */
static vt_registry_t *fixed_registry(void) {
    vt_registry_t *reg;
    vt_counter_t *c;
    vt_counter_series_t *s;
    char v[16];
    int i;
    if (vt_registry_create(&reg) != 0)
        return NULL;
    vt_registry_set_self_metrics(reg, 0);
    vt_counter_create(reg, "demo_requests_total", "Requests.", VT_LABELS("path"), &c);
    for (i = 0; i < 200; i++) {
        snprintf(v, sizeof(v), "/p%d", i);
        if (vt_counter_with(c, VT_VALUES(v), &s) == 0)
            vt_counter_add(s, i);
    }
    return reg;
}

static double scrapes(vt_registry_t *self, const char *code) {
    return sample_one(self, "promhttp_metric_handler_requests_total", "code", code);
}

static void test_defaults(void) {
    vt_http_server_opts_t o;
    vt_registry_t *reg = fixed_registry(), *self;
    vt_http_server_t *s;
    resp_t r;
    char h[256];
    vt_http_server_opts_init(&o);
    CHECK_STR(o.address, "127.0.0.1");
    CHECK_INT(o.port, 0);
    CHECK_STR(o.metrics_path, "/metrics");
    CHECK_STR(o.health_path, "/-/healthy");
    CHECK_INT(o.render.gzip, 1);
    CHECK_INT(o.self_metrics, 1);
    CHECK_INT(vt_registry_create(&self), 0);
    o.self_registry = self;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    CHECK(vt_http_server_port(s) != 0);
    CHECK_INT(http_do(url(s, "/metrics"), NULL, &r), 200);
    CHECK_STR(resp_header(&r, "Content-Type", h, sizeof(h)), TEXT_CT);
    CHECK_STR(resp_header(&r, "Vary", h, sizeof(h)), "Accept-Encoding");
    CHECK(resp_header(&r, "Content-Encoding", h, sizeof(h)) == NULL);
    CHECK_CONTAINS(r.body, "demo_requests_total{path=\"/p199\"} 199\n");
    resp_free(&r);
    /* The query string is not part of the path. */
    CHECK_INT(http_do(url(s, "/metrics?x=1&y=2"), NULL, &r), 200);
    resp_free(&r);
    CHECK_DBL(scrapes(self, "200"), 2);
    CHECK_DBL(sample_one(self, "promhttp_metric_handler_requests_in_flight", NULL, NULL), 0);
    vt_http_server_stop(s);
    vt_http_server_stop(NULL);
    vt_registry_destroy(self);
    vt_registry_destroy(reg);
}

static void test_negotiation(void) {
    static const char *const text_accepts[] = {
        "Accept: text/plain",
        "Accept: text/plain;version=0.0.4",
        "Accept: */*",
        "Accept: application/json",
        "Accept: application/openmetrics-text;q=0",
        "Accept: ;;;,,,",
        "Accept: application/openmetrics-text;version=1.0.0;q=abc",
        "Accept: \x01\x02\x7f",
        "Accept: text/plain;q=1, application/openmetrics-text;q=0.5",
    };
    vt_registry_t *reg = fixed_registry();
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    resp_t r;
    char h[256];
    size_t i;
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    {
        const char *hdr[] = {"Accept: " PROM_ACCEPT, NULL};
        req_t q = {0};
        q.headers = hdr;
        CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 200);
        CHECK_STR(resp_header(&r, "Content-Type", h, sizeof(h)), OM_CT);
        CHECK(r.len > 6 && strcmp(r.body + r.len - 6, "# EOF\n") == 0);
        resp_free(&r);
    }
    {
        const char *hdr[] = {"Accept:", NULL}; /* curl: remove the header */
        req_t q = {0};
        q.headers = hdr;
        CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 200);
        CHECK_STR(resp_header(&r, "Content-Type", h, sizeof(h)), TEXT_CT);
        resp_free(&r);
    }
    for (i = 0; i < sizeof(text_accepts) / sizeof(text_accepts[0]); i++) {
        const char *hdr[] = {text_accepts[i], NULL};
        req_t q = {0};
        q.headers = hdr;
        CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 200);
        if (!resp_header(&r, "Content-Type", h, sizeof(h)) || strcmp(h, TEXT_CT) != 0)
            fprintf(stderr, "for \"%s\"\n", text_accepts[i]);
        CHECK_STR(resp_header(&r, "Content-Type", h, sizeof(h)), TEXT_CT);
        resp_free(&r);
    }
    vt_http_server_stop(s);
    vt_registry_destroy(reg);
}

static void test_gzip(void) {
    vt_registry_t *reg = fixed_registry(), *self;
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    resp_t plain, gz, off;
    char h[256];
    size_t n = 0;
    char *text;
    const char *gz_hdr[] = {"Accept-Encoding: gzip", NULL};
    const char *q0_hdr[] = {"Accept-Encoding: gzip;q=0, identity", NULL};
    req_t q = {0};
    vt_http_server_opts_init(&o);
    CHECK_INT(vt_registry_create(&self), 0);
    o.self_registry = self;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    CHECK_INT(http_do(url(s, "/metrics"), NULL, &plain), 200);
    q.headers = gz_hdr;
    CHECK_INT(http_do(url(s, "/metrics"), &q, &gz), 200);
    CHECK_STR(resp_header(&gz, "Content-Encoding", h, sizeof(h)), "gzip");
    CHECK_STR(resp_header(&gz, "Vary", h, sizeof(h)), "Accept-Encoding");
    CHECK_STR(resp_header(&gz, "Content-Type", h, sizeof(h)), TEXT_CT);
    CHECK(gz.len < plain.len);
    text = gunzip_body(gz.body, gz.len, &n);
    CHECK(text != NULL);
    CHECK(text && n == plain.len && memcmp(text, plain.body, n) == 0);
    free(text);
    q.headers = q0_hdr;
    CHECK_INT(http_do(url(s, "/metrics"), &q, &off), 200);
    CHECK(resp_header(&off, "Content-Encoding", h, sizeof(h)) == NULL);
    CHECK(off.len == plain.len && memcmp(off.body, plain.body, plain.len) == 0);
    resp_free(&plain);
    resp_free(&gz);
    resp_free(&off);
    vt_http_server_stop(s);
    vt_registry_destroy(self);
    vt_registry_destroy(reg);
}

static void test_head(void) {
    vt_registry_t *reg = fixed_registry();
    vt_http_server_t *s;
    vt_http_server_opts_t o;
    resp_t get, head;
    char h[256];
    req_t q = {0};
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    CHECK_INT(http_do(url(s, "/metrics"), NULL, &get), 200);
    q.method = "HEAD";
    CHECK_INT(http_do(url(s, "/metrics"), &q, &head), 200);
    CHECK_INT((int)head.len, 0);
    CHECK_STR(resp_header(&head, "Content-Type", h, sizeof(h)), TEXT_CT);
    CHECK(resp_header(&head, "Content-Length", h, sizeof(h)) != NULL);
    CHECK_INT(atoi(h), (int)get.len);
    resp_free(&head);
    CHECK_INT(http_do(url(s, "/-/healthy"), &q, &head), 200);
    CHECK_INT((int)head.len, 0);
    resp_free(&head);
    resp_free(&get);
    vt_http_server_stop(s);
    vt_registry_destroy(reg);
}

static void test_methods_and_paths(void) {
    static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"};
    static const char *const missing[] = {"/",         "/metrics/", "/METRICS",
                                          "/metricsx", "/-/ready",  "/metrics/../metrics2"};
    vt_registry_t *reg = fixed_registry(), *self;
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    resp_t r;
    char h[256];
    size_t i;
    vt_http_server_opts_init(&o);
    CHECK_INT(vt_registry_create(&self), 0);
    o.self_registry = self;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        req_t q = {0};
        q.method = methods[i];
        CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 405);
        CHECK_STR(resp_header(&r, "Allow", h, sizeof(h)), "GET, HEAD");
        resp_free(&r);
        CHECK_INT(http_do(url(s, "/-/healthy"), &q, &r), 405);
        CHECK_STR(resp_header(&r, "Allow", h, sizeof(h)), "GET, HEAD");
        resp_free(&r);
    }
    CHECK_DBL(scrapes(self, "405"), 6);
    for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        CHECK_INT(http_do(url(s, missing[i]), NULL, &r), 404);
        resp_free(&r);
    }
    CHECK_INT(http_do(url(s, "/-/healthy"), NULL, &r), 200);
    CHECK_STR(r.body, "OK\n");
    resp_free(&r);
    CHECK_DBL(scrapes(self, "200"), 0);
    vt_http_server_stop(s);

    /* Other paths; health off. */
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.metrics_path = "/internal/m";
    o.health_path = NULL;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    CHECK_INT(http_do(url(s, "/internal/m"), NULL, &r), 200);
    resp_free(&r);
    CHECK_INT(http_do(url(s, "/metrics"), NULL, &r), 404);
    resp_free(&r);
    CHECK_INT(http_do(url(s, "/-/healthy"), NULL, &r), 404);
    resp_free(&r);
    vt_http_server_stop(s);
    vt_registry_destroy(self);
    vt_registry_destroy(reg);
}

static void test_self_metrics(void) {
    vt_registry_t *reg;
    vt_http_server_opts_t o;
    vt_http_server_t *s, *s2 = NULL;
    resp_t r;
    int i;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_http_server_opts_init(&o);
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    for (i = 0; i < 3; i++) {
        CHECK_INT(http_do(url(s, "/metrics"), NULL, &r), 200);
        resp_free(&r);
    }
    CHECK_INT(http_do(url(s, "/metrics"), NULL, &r), 200);
    /* The scrape counts itself only after it is answered, like promhttp. */
    CHECK_CONTAINS(r.body, "promhttp_metric_handler_requests_total{code=\"200\"} 3\n");
    CHECK_CONTAINS(r.body, "promhttp_metric_handler_requests_total{code=\"503\"} 0\n");
    CHECK_CONTAINS(r.body, "promhttp_metric_handler_requests_in_flight 1\n");
    resp_free(&r);
    /* A second server on the same registry cannot register them again. */
    CHECK_INT(vt_http_server_start(reg, &o, &s2), VT_EDUPLICATE);
    CHECK(s2 == NULL);
    o.self_metrics = 0;
    CHECK_INT(vt_http_server_start(reg, &o, &s2), 0);
    vt_http_server_stop(s2);
    vt_http_server_stop(s);
    /* Stopping unregistered them. */
    CHECK_DBL(scrapes(reg, "200"), -1);
    o.self_metrics = 1;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    vt_http_server_stop(s);
    vt_registry_destroy(reg);
}

static void test_bad_options(void) {
    vt_registry_t *reg = fixed_registry();
    vt_http_server_opts_t o;
    vt_http_server_t *s = NULL, *s2 = NULL;
    resp_t r;
    char hash[VT_HTTP_HASH_BUFSZ];
    static const char *const bad_addresses[] = {"localhost", "300.1.1.1", "", "127.0.0.1:80",
                                                "::g"};
    size_t i;
    CHECK_INT(vt_http_server_start(reg, NULL, NULL), VT_EINVAL);
    for (i = 0; i < sizeof(bad_addresses) / sizeof(bad_addresses[0]); i++) {
        vt_http_server_opts_init(&o);
        o.address = bad_addresses[i];
        CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    }
    vt_http_server_opts_init(&o);
    o.address = NULL;
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    vt_http_server_opts_init(&o);
    o.metrics_path = "metrics";
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    vt_http_server_opts_init(&o);
    o.metrics_path = NULL;
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    vt_http_server_opts_init(&o);
    o.health_path = "healthy";
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    vt_http_server_opts_init(&o);
    o.tls_cert_file = "/nonexistent/cert.pem";
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    o.tls_key_file = "/nonexistent/key.pem";
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EIO);
    vt_http_server_opts_init(&o);
    o.auth_user = "prom";
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    o.auth_password_hash = "plain-password";
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    CHECK_INT(vt_http_hash_password("s", "pw", hash), 0);
    o.auth_password_hash = hash;
    o.auth_realm = "bad\"realm";
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    vt_http_server_opts_init(&o);
    o.render.gzip_level = 12;
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EINVAL);
    CHECK(s == NULL);

    /* A port in use. */
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    o.port = vt_http_server_port(s);
    CHECK_INT(vt_http_server_start(reg, &o, &s2), VT_ENET);
    CHECK(s2 == NULL);
    vt_http_server_stop(s);

    /* IPv6 loopback, where the machine has it. */
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.address = "::1";
    if (vt_http_server_start(reg, &o, &s) == 0) {
        snprintf(url_buf, sizeof(url_buf), "http://[::1]:%u/metrics", vt_http_server_port(s));
        CHECK_INT(http_do(url_buf, NULL, &r), 200);
        resp_free(&r);
        vt_http_server_stop(s);
    } else {
        printf("note: no IPv6 loopback here\n");
    }
    vt_registry_destroy(reg);
}

static void test_basic_auth(void) {
    vt_registry_t *reg = fixed_registry(), *self;
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    char hash[VT_HTTP_HASH_BUFSZ], h[256];
    resp_t r;
    req_t q = {0};
    CHECK_INT(vt_registry_create(&self), 0);
    CHECK_INT(vt_http_hash_password(NULL, "s3cret:with:colons", hash), 0);
    vt_http_server_opts_init(&o);
    o.self_registry = self;
    o.auth_user = "prom";
    o.auth_password_hash = hash;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);

    CHECK_INT(http_do(url(s, "/metrics"), NULL, &r), 401);
    CHECK_STR(resp_header(&r, "WWW-Authenticate", h, sizeof(h)), "Basic realm=\"metrics\"");
    CHECK(!strstr(r.body, "demo_requests_total"));
    resp_free(&r);
    q.userpwd = "prom:s3cret:with:colons";
    CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 200);
    CHECK_CONTAINS(r.body, "demo_requests_total");
    resp_free(&r);
    q.userpwd = "prom:s3cret";
    CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 401);
    CHECK(resp_header(&r, "WWW-Authenticate", h, sizeof(h)) != NULL);
    resp_free(&r);
    q.userpwd = "Prom:s3cret:with:colons";
    CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 401);
    resp_free(&r);
    q.userpwd = ":";
    CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 401);
    resp_free(&r);
    {
        /* Not base64 at all, and a scheme that is not Basic. */
        const char *hdr1[] = {"Authorization: Basic !!!notbase64***", NULL};
        const char *hdr2[] = {"Authorization: Bearer abc", NULL};
        req_t b = {0};
        b.headers = hdr1;
        CHECK_INT(http_do(url(s, "/metrics"), &b, &r), 401);
        resp_free(&r);
        b.headers = hdr2;
        CHECK_INT(http_do(url(s, "/metrics"), &b, &r), 401);
        resp_free(&r);
    }
    /* Every path asks for credentials. */
    CHECK_INT(http_do(url(s, "/-/healthy"), NULL, &r), 401);
    resp_free(&r);
    q.userpwd = "prom:s3cret:with:colons";
    CHECK_INT(http_do(url(s, "/-/healthy"), &q, &r), 200);
    resp_free(&r);
    CHECK_DBL(scrapes(self, "200"), 1);
    CHECK_DBL(scrapes(self, "401"), 6);
    vt_http_server_stop(s);
    vt_registry_destroy(self);
    vt_registry_destroy(reg);
}

/* Past max_connections, a new connection takes the slot of the one that has
 * waited longest for its request; a connection being answered is never
 * taken. */
static void test_connection_limit(void) {
    static const char start[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    vt_registry_t *reg = fixed_registry();
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    resp_t r;
    req_t q = {0};
    int fds[3], i;
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.max_connections = 2;
    o.threads = 1;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    for (i = 0; i < 2; i++) {
        fds[i] = tcp_connect(vt_http_server_port(s));
        CHECK(fds[i] >= 0);
        if (fds[i] >= 0) /* half a request: waiting for the rest */
            CHECK(send(fds[i], start, sizeof(start) - 1, MSG_NOSIGNAL) > 0);
        usleep(100 * 1000);
    }
    q.timeout_ms = 2000;
    /* A scrape gets through: the oldest waiting connection makes room. */
    CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 200);
    CHECK_CONTAINS(r.body, "demo_requests_total{path=\"/p7\"} 7");
    resp_free(&r);
    CHECK(fds[0] >= 0 && closed_within(fds[0], 2000));
    CHECK(fds[1] >= 0 && !closed_within(fds[1], 300));
    /* And again: now fds[1] is the oldest waiting. */
    fds[2] = tcp_connect(vt_http_server_port(s));
    CHECK(fds[2] >= 0);
    usleep(100 * 1000);
    CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 200);
    resp_free(&r);
    CHECK(fds[1] >= 0 && closed_within(fds[1], 2000));
    for (i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    vt_http_server_stop(s);
    vt_registry_destroy(reg);
}

/* Time until the server closes a connection that stays silent (or sends
 * only part of a request). */
static double close_after_ms(unsigned port, const char *send_first) {
    double t0 = now_ms();
    char *got = raw_exchange(port, send_first, strlen(send_first), 8000);
    double t = now_ms() - t0;
    free(got);
    return t;
}

static void test_idle_timeout(void) {
    vt_registry_t *reg = fixed_registry();
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    resp_t r;
    double t;
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.connection_timeout_s = 1;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    t = close_after_ms(vt_http_server_port(s), "");
    printf("silent client closed after %.0f ms\n", t);
    CHECK(t > 800 && t < 4000);
    t = close_after_ms(vt_http_server_port(s), "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    printf("half a request closed after %.0f ms\n", t);
    CHECK(t > 800 && t < 4000);
    CHECK_INT(http_do(url(s, "/metrics"), NULL, &r), 200);
    resp_free(&r);
    vt_http_server_stop(s);
    vt_registry_destroy(reg);
}

static int slow_collect(vt_emitter_t *e, void *ud) {
    struct timespec ts = {0, 400 * 1000000L};
    (void)ud;
    nanosleep(&ts, NULL);
    if (vt_emit_family(e, VT_GAUGE, "slow_gauge", "Takes time to read.", NULL, NULL) != 0)
        return -1;
    return vt_emit_value(e, NULL, 1);
}

typedef struct fetch {
    const char *url;
    long status;
} fetch_t;

static void *fetch_thread(void *arg) {
    fetch_t *f = arg;
    resp_t r;
    f->status = http_do(f->url, NULL, &r);
    resp_free(&r);
    return NULL;
}

static void test_in_flight_limit(void) {
    vt_registry_t *reg = fixed_registry(), *self;
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    pthread_t th[3];
    fetch_t f[3];
    char u[256], h[64];
    resp_t r;
    int i;
    CHECK_INT(vt_registry_create(&self), 0);
    CHECK_INT(
        vt_registry_add_collector(reg, VT_LABELS("slow_gauge"), slow_collect, NULL, NULL, NULL), 0);
    vt_http_server_opts_init(&o);
    o.self_registry = self;
    o.max_in_flight = 1;
    o.retry_after_s = 7;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    snprintf(u, sizeof(u), "%s", url(s, "/metrics"));
    f[0].url = u;
    pthread_create(&th[0], NULL, fetch_thread, &f[0]);
    usleep(150 * 1000);
    CHECK_DBL(sample_one(self, "promhttp_metric_handler_requests_in_flight", NULL, NULL), 1);
    CHECK_INT(http_do(u, NULL, &r), 503);
    CHECK_STR(resp_header(&r, "Retry-After", h, sizeof(h)), "7");
    resp_free(&r);
    /* Health checks are not scrapes. */
    CHECK_INT(http_do(url(s, "/-/healthy"), NULL, &r), 200);
    resp_free(&r);
    pthread_join(th[0], NULL);
    CHECK_INT(f[0].status, 200);
    CHECK_DBL(scrapes(self, "503"), 1);
    CHECK_DBL(scrapes(self, "200"), 1);
    CHECK_INT(http_do(u, NULL, &r), 200);
    resp_free(&r);
    vt_http_server_stop(s);

    /* 0 lifts the limit. */
    o.max_in_flight = 0;
    o.self_metrics = 0;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    snprintf(u, sizeof(u), "%s", url(s, "/metrics"));
    for (i = 0; i < 3; i++) {
        f[i].url = u;
        pthread_create(&th[i], NULL, fetch_thread, &f[i]);
    }
    for (i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(f[i].status, 200);
    }
    vt_http_server_stop(s);
    vt_registry_destroy(self);
    vt_registry_destroy(reg);
}

/* Prometheus reuses its connection: several requests on one connection
 * each get their answer, and the connection stays open. */
static void test_keep_alive(void) {
    static const char three[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
                                "HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
                                "GET /-/healthy HTTP/1.1\r\nHost: a\r\n\r\n";
    vt_registry_t *reg = fixed_registry();
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    char *got;
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.connection_timeout_s = 1;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    got = raw_exchange(vt_http_server_port(s), three, sizeof(three) - 1, 3000);
    CHECK_INT(count_of_str(got, "HTTP/1.1 200 OK"), 3);
    CHECK_INT(count_of_str(got, "Connection: close"), 0);
    CHECK_INT(count_of_str(got, "demo_requests_total{path=\"/p3\"} 3"), 1); /* HEAD: no body */
    free(got);
    vt_http_server_stop(s);
    vt_registry_destroy(reg);
}

static void test_hostile(void) {
    static const char *const raw[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /metrics HTTP/9.9\r\nHost: a\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost a\r\nNoColon\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
        "POST /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "GET /%00%ff/../metrics HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET http://evil/metrics HTTP/1.1\r\nHost: a\r\n\r\n",
        "\r\n\r\n\r\n",
        "GET /metrics HTTP/1.0\r\n\r\n",
    };
    vt_registry_t *reg = fixed_registry(), *self;
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    unsigned port;
    char *big, *got, h[256];
    size_t i;
    int ok = 0, n;
    resp_t r;
    CHECK_INT(vt_registry_create(&self), 0);
    vt_http_server_opts_init(&o);
    o.self_registry = self;
    o.connection_timeout_s = 2;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    port = vt_http_server_port(s);

    for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        got = raw_exchange(port, raw[i], strlen(raw[i]), 3000);
        free(got);
        CHECK_INT(http_do(url(s, "/-/healthy"), NULL, &r), 200);
        resp_free(&r);
    }
    {
        /* A NUL inside the request line. */
        static const char nul[] = "GET /met\0rics HTTP/1.1\r\nHost: a\r\n\r\n";
        got = raw_exchange(port, nul, sizeof(nul) - 1, 3000);
        CHECK(got && !strstr(got, "demo_requests_total"));
        free(got);
    }

    /* Headers of many KB: one huge header, then very many small ones. */
    big = malloc(300000);
    CHECK(big != NULL);
    if (big) {
        size_t len;
        len = (size_t)snprintf(big, 100, "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Big: ");
        memset(big + len, 'a', 200000);
        len += 200000;
        memcpy(big + len, "\r\n\r\n", 4);
        len += 4;
        got = raw_exchange(port, big, len, 3000);
        CHECK(got && !strstr(got, "demo_requests_total"));
        free(got);
        len = (size_t)snprintf(big, 100, "GET /metrics HTTP/1.1\r\nHost: a\r\n");
        for (n = 0; n < 5000; n++)
            len += (size_t)sprintf(big + len, "X-H%d: v\r\n", n);
        memcpy(big + len, "\r\n", 2);
        len += 2;
        got = raw_exchange(port, big, len, 3000);
        CHECK(got && !strstr(got, "demo_requests_total"));
        free(got);
        /* Random bytes. */
        for (i = 0; i < 65536; i++)
            big[i] = (char)(rand() & 0xff);
        got = raw_exchange(port, big, 65536, 3000);
        free(got);
        free(big);
    }
    {
        /* A large but legal Accept header still gets an answer. */
        char *acc = malloc(6000);
        const char *hdr[] = {acc, NULL};
        req_t q = {0};
        CHECK(acc != NULL);
        strcpy(acc, "Accept: ");
        for (i = 0; i < 500; i++)
            strcat(acc, "x/y;q=0.1,");
        q.headers = hdr;
        CHECK_INT(http_do(url(s, "/metrics"), &q, &r), 200);
        CHECK_STR(resp_header(&r, "Content-Type", h, sizeof(h)), TEXT_CT);
        resp_free(&r);
        free(acc);
    }

    /* Thousands of tiny requests; then the counts are exact. */
    for (n = 0; n < 1500; n++) {
        long st = http_do(url(s, (n % 5) ? "/-/healthy" : "/metrics"), NULL, &r);
        ok += st == 200;
        resp_free(&r);
    }
    CHECK_INT(ok, 1500);
    CHECK_INT(http_do(url(s, "/metrics"), NULL, &r), 200);
    CHECK_CONTAINS(r.body, "demo_requests_total{path=\"/p7\"} 7\n");
    resp_free(&r);
    /* 300 scrapes in the loop, 1 after, 1 with the long Accept, and the
     * HTTP/1.0 request of the raw list. */
    CHECK_DBL(scrapes(self, "200"), 303);
    CHECK_DBL(sample_one(self, "promhttp_metric_handler_requests_in_flight", NULL, NULL), 0);
    vt_http_server_stop(s);
    vt_registry_destroy(self);
    vt_registry_destroy(reg);
}

int main(void) {
    client_init();
    RUN(test_defaults);
    RUN(test_negotiation);
    RUN(test_gzip);
    RUN(test_head);
    RUN(test_methods_and_paths);
    RUN(test_self_metrics);
    RUN(test_bad_options);
    RUN(test_basic_auth);
    RUN(test_connection_limit);
    RUN(test_idle_timeout);
    RUN(test_in_flight_limit);
    RUN(test_keep_alive);
    RUN(test_hostile);
    TEST_EXIT();
}
