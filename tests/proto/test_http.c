/* test_http.c - content negotiation for protobuf in libvitals-http:
 * vt_http_render() and the embedded server over a real socket on 127.0.0.1.
 * Prometheus's native-histogram Accept header gets the exact protobuf
 * Content-Type and a body that decodes (also gzipped, also for HEAD); its
 * default header still gets OpenMetrics, and no header gets text 0.0.4.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "../http/client.h"
#include "harness.h"
#include "pb_stream.h"
#include "vitals.h"
#include "vitals/http.h"
#include "vitals/proto.h"

#define ACCEPT_NATIVE                                                                              \
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"  \
    "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;" \
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define ACCEPT_DEFAULT                                                                             \
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"       \
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

static vt_registry_t *build(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    vt_counter_series_t *cs;
    CHECK_INT(vt_counter_create(reg, "orders", "Orders taken.", VT_LABELS("shop"), &c), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("north"), &cs), 0);
    vt_counter_add(cs, 42);
    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    CHECK_INT(vt_histogram_create(reg, "wait_seconds", "Waits.", NULL, NULL, 0, &h), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    vt_histogram_observe(hs, 0.2);
    vt_histogram_observe(hs, 3);
    return reg;
}

/* The decoded body has the two families with the values recorded. */
static void check_body(const void *data, size_t len) {
    pb_stream_t s;
    CHECK_INT(pb_decode(data, len, &s), 0);
    const pb_family_t *f = pb_find(&s, "orders_total");
    const pb_metric_t *m = pb_find_metric(f, "shop", "north");
    CHECK(m && m->counter && m->counter->value == 42);
    f = pb_find(&s, "wait_seconds");
    CHECK(f && f->n_metric == 1 && f->metric[0]->histogram);
    if (f && f->n_metric == 1 && f->metric[0]->histogram) {
        const Io__Prometheus__Client__Histogram *h = f->metric[0]->histogram;
        CHECK_INT(h->sample_count, 2);
        CHECK_DBL(h->sample_sum, 3.2);
        CHECK_INT(h->n_bucket, 11); /* the default bounds, without +Inf */
        if (h->n_bucket == 11) {
            CHECK_DBL(h->bucket[4]->upper_bound, 0.1);
            CHECK_INT(h->bucket[4]->cumulative_count, 0);
            CHECK_DBL(h->bucket[5]->upper_bound, 0.25);
            CHECK_INT(h->bucket[5]->cumulative_count, 1);
            CHECK_INT(h->bucket[10]->cumulative_count, 2);
        }
    }
    pb_stream_free(&s);
}

static void test_render_negotiation(void) {
    vt_registry_t *reg = build();
    vt_http_render_opts_t o;
    vt_http_render_opts_init(&o);
    vt_http_body_t b;

    CHECK_INT(vt_http_render(reg, ACCEPT_NATIVE, NULL, &o, &b), 0);
    CHECK_STR(b.content_type, VT_CONTENT_TYPE_PROTOBUF);
    CHECK_STR(b.content_type, "application/vnd.google.protobuf; "
                              "proto=io.prometheus.client.MetricFamily; encoding=delimited");
    CHECK_INT(b.format, VT_FORMAT_PROTOBUF);
    CHECK(b.content_encoding == NULL);
    check_body(b.data, b.len);
    vt_http_body_free(&b);

    /* Gzipped: the same messages once inflated. */
    CHECK_INT(vt_http_render(reg, ACCEPT_NATIVE, "gzip", &o, &b), 0);
    CHECK_STR(b.content_type, VT_CONTENT_TYPE_PROTOBUF);
    CHECK_STR(b.content_encoding, "gzip");
    size_t n = 0;
    char *plain = gunzip_body(b.data, b.len, &n);
    CHECK(plain != NULL);
    if (plain)
        check_body(plain, n);
    free(plain);
    vt_http_body_free(&b);

    CHECK_INT(vt_http_render(reg, ACCEPT_DEFAULT, NULL, &o, &b), 0);
    CHECK_STR(b.content_type, VT_CONTENT_TYPE_OPENMETRICS);
    CHECK_INT(b.format, VT_FORMAT_OPENMETRICS);
    CHECK(b.len > 6 && strcmp(b.data + b.len - 6, "# EOF\n") == 0);
    vt_http_body_free(&b);

    CHECK_INT(vt_http_render(reg, NULL, NULL, &o, &b), 0);
    CHECK_STR(b.content_type, VT_CONTENT_TYPE_TEXT);
    CHECK_CONTAINS(b.data, "orders_total{shop=\"north\"} 42\n");
    vt_http_body_free(&b);

    /* Protobuf ranked below text, or without encoding=delimited: text. */
    CHECK_INT(vt_http_render(reg,
                             "application/vnd.google.protobuf;proto=io.prometheus.client."
                             "MetricFamily;encoding=delimited;q=0.4,text/plain;q=0.5",
                             NULL, &o, &b),
              0);
    CHECK_STR(b.content_type, VT_CONTENT_TYPE_TEXT);
    vt_http_body_free(&b);
    CHECK_INT(vt_http_render(reg,
                             "application/vnd.google.protobuf;proto=io.prometheus.client."
                             "MetricFamily;encoding=text",
                             NULL, &o, &b),
              0);
    CHECK_STR(b.content_type, VT_CONTENT_TYPE_TEXT);
    vt_http_body_free(&b);

    /* Bad options fail the same way for protobuf as for text. */
    o.gzip_level = 0;
    CHECK_INT(vt_http_render(reg, ACCEPT_NATIVE, "gzip", &o, &b), VT_EINVAL);
    CHECK(b.data == NULL && b.len == 0);
    vt_registry_destroy(reg);
}

static void test_server(void) {
    vt_registry_t *reg = build();
    vt_http_server_opts_t o;
    vt_http_server_opts_init(&o);
    vt_http_server_t *srv;
    CHECK_INT(vt_http_server_start(reg, &o, &srv), 0);
    char url[64], hv[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", vt_http_server_port(srv));

    resp_t r;
    req_t q = {.headers = (const char *const[]){"Accept: " ACCEPT_NATIVE, NULL}};
    CHECK_INT(http_do(url, &q, &r), 200);
    CHECK_STR(resp_header(&r, "Content-Type", hv, sizeof(hv)), VT_CONTENT_TYPE_PROTOBUF);
    CHECK(resp_header(&r, "Content-Encoding", hv, sizeof(hv)) == NULL);
    check_body(r.body, r.len);
    resp_free(&r);

    q.headers = (const char *const[]){"Accept: " ACCEPT_NATIVE, "Accept-Encoding: gzip", NULL};
    CHECK_INT(http_do(url, &q, &r), 200);
    CHECK_STR(resp_header(&r, "Content-Type", hv, sizeof(hv)), VT_CONTENT_TYPE_PROTOBUF);
    CHECK_STR(resp_header(&r, "Content-Encoding", hv, sizeof(hv)), "gzip");
    CHECK_STR(resp_header(&r, "Vary", hv, sizeof(hv)), "Accept-Encoding");
    size_t n = 0;
    char *plain = gunzip_body(r.body, r.len, &n);
    CHECK(plain != NULL);
    if (plain)
        check_body(plain, n);
    free(plain);
    resp_free(&r);

    /* HEAD: the same headers, no body. */
    q.method = "HEAD";
    q.headers = (const char *const[]){"Accept: " ACCEPT_NATIVE, NULL};
    CHECK_INT(http_do(url, &q, &r), 200);
    CHECK_STR(resp_header(&r, "Content-Type", hv, sizeof(hv)), VT_CONTENT_TYPE_PROTOBUF);
    CHECK_INT(r.len, 0);
    resp_free(&r);

    q.method = NULL;
    q.headers = (const char *const[]){"Accept: " ACCEPT_DEFAULT, NULL};
    CHECK_INT(http_do(url, &q, &r), 200);
    CHECK_STR(resp_header(&r, "Content-Type", hv, sizeof(hv)), VT_CONTENT_TYPE_OPENMETRICS);
    CHECK_CONTAINS(r.body, "orders_total{shop=\"north\"} 42\n");
    resp_free(&r);

    q.headers = NULL;
    CHECK_INT(http_do(url, &q, &r), 200);
    CHECK_STR(resp_header(&r, "Content-Type", hv, sizeof(hv)), VT_CONTENT_TYPE_TEXT);
    resp_free(&r);

    /* The server's self-metrics count every scrape, protobuf ones included. */
    q.headers = (const char *const[]){"Accept: " ACCEPT_NATIVE, NULL};
    CHECK_INT(http_do(url, &q, &r), 200);
    pb_stream_t s;
    CHECK_INT(pb_decode((const uint8_t *)r.body, r.len, &s), 0);
    const pb_family_t *f = pb_find(&s, "promhttp_metric_handler_requests_total");
    const pb_metric_t *m = pb_find_metric(f, "code", "200");
    CHECK(m && m->counter && m->counter->value >= 4);
    pb_stream_free(&s);
    resp_free(&r);

    vt_http_server_stop(srv);
    vt_registry_destroy(reg);
}

int main(void) {
    client_init();
    RUN(test_render_negotiation);
    RUN(test_server);
    TEST_EXIT();
}
