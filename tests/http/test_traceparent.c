/* test_traceparent.c - W3C traceparent headers become duration exemplars.
 *
 * SPDX-License-Identifier: MIT
 */
#include <microhttpd.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "harness.h"
#include "vitals.h"
#include "vitals/http.h"

#define TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define SPAN "00f067aa0ba902b7"
#define GOOD "00-" TRACE "-" SPAN "-01"

static void test_parse(void) {
    vt_red_req_t r;
    memset(&r, 0, sizeof r);
    CHECK_INT(vt_red_set_traceparent(&r, GOOD), 0);
    CHECK_STR(r.trace_id_, TRACE);
    CHECK_STR(r.span_id_, SPAN);
    /* A later version may carry more fields after a '-'. */
    CHECK_INT(vt_red_set_traceparent(&r, "cc-" TRACE "-" SPAN "-01-what-ever"), 0);
    static const char *const bad[] = {
        "",
        "00-" TRACE "-" SPAN,                              /* no flags */
        "00-" TRACE "-" SPAN "-01-extra",                  /* version 00 has no more fields */
        "ff-" TRACE "-" SPAN "-01",                        /* version ff is invalid */
        "00-00000000000000000000000000000000-" SPAN "-01", /* zero trace id */
        "00-" TRACE "-0000000000000000-01",                /* zero parent id */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" SPAN "-01", /* upper case */
        "00-" TRACE "x" SPAN "-01",                        /* wrong separator */
        "00-4bf92f3577b34da6a3ce929d0e0e473-" SPAN "-01",  /* short trace id */
        "0g-" TRACE "-" SPAN "-01",                        /* not hex */
        "00-" TRACE "-" SPAN "-0z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(vt_red_set_traceparent(&r, GOOD), 0);
        if (vt_red_set_traceparent(&r, bad[i]) != VT_EINVAL) {
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
            th_checks_failed++;
        }
        CHECK_STR(r.trace_id_, ""); /* a refused header leaves no trace behind */
    }
    CHECK_INT(vt_red_set_traceparent(&r, NULL), 0);
    CHECK_INT(vt_red_set_traceparent(NULL, GOOD), VT_EINVAL);
}

static void test_core_api(void) {
    vt_registry_t *reg;
    vt_red_t *red;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    CHECK_INT(vt_red_route_add(red, "/slow"), 0);
    vt_red_req_t req;
    vt_red_begin(red, "GET", "/slow", &req);
    CHECK_INT(vt_red_set_traceparent(&req, GOOD), 0);
    vt_red_end(red, &req, 200, VT_RED_NO_SIZE, VT_RED_NO_SIZE);
    vt_red_begin(red, "GET", "/slow", &req); /* reused: the trace does not stick */
    vt_red_end(red, &req, 500, VT_RED_NO_SIZE, VT_RED_NO_SIZE);
    vt_write_opts_t o;
    vt_write_opts_init(&o);
    o.format = VT_FORMAT_OPENMETRICS;
    vt_buf_t b = {0};
    CHECK_INT(vt_registry_write_buf(reg, &o, &b), 0);
    CHECK_CONTAINS(b.data, "# {trace_id=\"" TRACE "\",span_id=\"" SPAN "\"}");
    /* Exactly one exemplar: the 500 request had none. */
    const char *first = strstr(b.data, "trace_id");
    CHECK(first && strstr(first + 1, "trace_id") == NULL);
    vt_buf_free(&b);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls) {
    (void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
    (void)con_cls;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void test_adapter_header(void) {
    vt_registry_t *reg;
    vt_red_t *red;
    vt_red_mhd_t *adapter;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    CHECK_INT(vt_red_route_add(red, "/items/:id"), 0);
    vt_red_mhd_opts_t ao;
    vt_red_mhd_opts_init(&ao);
    ao.handler = handler;
    ao.metrics_registry = reg;
    CHECK_INT(vt_red_mhd_create(red, &ao, &adapter), 0);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, vt_red_mhd_access, adapter, MHD_OPTION_NOTIFY_COMPLETED,
                         vt_red_mhd_completed, adapter, MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    CHECK(d != NULL);
    if (!d)
        return;
    unsigned port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/items/7", port);
    req_t rq;
    memset(&rq, 0, sizeof rq);
    const char *hdr[] = {"traceparent: " GOOD, NULL};
    rq.headers = hdr;
    resp_t rs;
    CHECK_INT(http_do(url, &rq, &rs), 200);
    resp_free(&rs);
    const char *junk[] = {"traceparent: garbage", NULL};
    rq.headers = junk;
    CHECK_INT(http_do(url, &rq, &rs), 200); /* a bad header changes nothing for the request */
    resp_free(&rs);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", port);
    const char *om[] = {"Accept: application/openmetrics-text;version=1.0.0", NULL};
    rq.headers = om;
    /* A request is recorded by libmicrohttpd's completion callback, which may
     * run just after the client has its answer: wait for both to be counted. */
    for (double end = now_ms() + 5000;;) {
        CHECK_INT(http_do(url, &rq, &rs), 200);
        if (now_ms() > end || (rs.body && strstr(rs.body, "route=\"/items/:id\",code=\"200\"} 2")))
            break;
        resp_free(&rs);
        usleep(10000);
    }
    CHECK_CONTAINS(rs.body, "route=\"/items/:id\"");
    CHECK_CONTAINS(rs.body, "# {trace_id=\"" TRACE "\",span_id=\"" SPAN "\"}");
    CHECK_CONTAINS(rs.body,
                   "http_requests_total{method=\"GET\",route=\"/items/:id\",code=\"200\"} 2");
    resp_free(&rs);
    MHD_stop_daemon(d);
    vt_red_mhd_destroy(adapter);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

int main(void) {
    client_init();
    RUN(test_parse);
    RUN(test_core_api);
    RUN(test_adapter_header);
    TEST_EXIT();
}
