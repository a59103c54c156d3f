/* test_graphite.c - the Graphite bridge against a TCP line sink on
 * 127.0.0.1: the exact paths (segments and tags, sanitizing, histograms,
 * summaries), timestamps, a sink that goes away and comes back on the same
 * port, a peer that never reads (instrumented code and scrapes go on), the
 * bounded buffer while nobody listens, and bad options.
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "push_test.h"
#include "vitals.h"
#include "vitals/graphite.h"

static vt_registry_t *sample_registry(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "http_requests";
    o.help = "Requests.";
    o.label_names = VT_LABELS("path", "code");
    o.const_labels = VT_LABELS("app", "shop");
    vt_counter_t *c;
    vt_counter_series_t *s;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("/api/v1.2 x", "200"), &s), 0);
    vt_counter_add(s, 3);
    CHECK_INT(vt_counter_with(c, VT_VALUES("", "caf\xc3\xa9"), &s), 0);
    vt_counter_add(s, 1);

    vt_gauge_t *g;
    vt_gauge_series_t *gs;
    CHECK_INT(vt_gauge_create(reg, "temp:celsius", "Temperature.", NULL, &g), 0);
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
    vt_gauge_set(gs, -1.5);
    vt_gauge_t *nan;
    vt_gauge_series_t *ns;
    CHECK_INT(vt_gauge_create(reg, "unknown_now", "NaN.", NULL, &nan), 0);
    CHECK_INT(vt_gauge_with(nan, NULL, &ns), 0);
    vt_gauge_set(ns, NAN);

    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    CHECK_INT(vt_histogram_create(reg, "lat_seconds", "Latency.", VT_LABELS("op"),
                                  (const double[]){0.25, 1}, 2, &h),
              0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("get"), &hs), 0);
    vt_histogram_observe(hs, 0.1);
    vt_histogram_observe(hs, 0.5);
    vt_histogram_observe(hs, 3);

    vt_summary_t *sm;
    vt_summary_series_t *ss;
    CHECK_INT(vt_summary_create(reg, "rpc_seconds", "RPC.", NULL, &sm), 0);
    CHECK_INT(vt_summary_with(sm, NULL, &ss), 0);
    vt_summary_observe(ss, 2);

    vt_info_t *info;
    CHECK_INT(vt_info_create(reg, "build", "Build.", VT_LABELS("version"), VT_VALUES("1.0"), &info),
              0);
    return reg;
}

/* The text with every line's timestamp replaced by "T"; checks that each
 * timestamp is within 5 s of now. */
static char *strip_ts(const char *text, int *bad_ts) {
    char *out = malloc(strlen(text) + 1);
    size_t n = 0;
    *bad_ts = 0;
    long long now = (long long)time(NULL);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *sp = p + len;
        while (sp > p && sp[-1] != ' ')
            sp--;
        long long ts = strtoll(sp, NULL, 10);
        if (ts < now - 5 || ts > now + 5)
            (*bad_ts)++;
        memcpy(out + n, p, (size_t)(sp - p));
        n += (size_t)(sp - p);
        out[n++] = 'T';
        out[n++] = '\n';
        p += len + (nl ? 1 : 0);
    }
    out[n] = '\0';
    return out;
}

static vt_graphite_t *bridge(vt_registry_t *reg, int port, const char *prefix, int tags,
                             unsigned interval) {
    vt_graphite_opts_t o;
    vt_graphite_opts_init(&o);
    o.port = port;
    o.prefix = prefix;
    o.tags = tags;
    o.interval_ms = interval;
    o.timeout_ms = 500;
    o.backoff_min_ms = 20;
    o.backoff_max_ms = 200;
    vt_graphite_t *g = NULL;
    CHECK_INT(vt_graphite_create(reg, &o, &g), 0);
    return g;
}

static const char want_paths[] =
    "app.web-1.http_requests_total.app.shop.code.200.path._api_v1_2_x 3 T\n"
    "app.web-1.http_requests_total.app.shop.code.caf__.path._ 1 T\n"
    "app.web-1.temp_celsius -1.5 T\n"
    "app.web-1.lat_seconds_bucket.le.0_25.op.get 1 T\n"
    "app.web-1.lat_seconds_bucket.le.1.op.get 2 T\n"
    "app.web-1.lat_seconds_bucket.le._Inf.op.get 3 T\n"
    "app.web-1.lat_seconds_sum.op.get 3.6 T\n"
    "app.web-1.lat_seconds_count.op.get 3 T\n"
    "app.web-1.rpc_seconds_sum 2 T\n"
    "app.web-1.rpc_seconds_count 1 T\n"
    "app.web-1.build_info.version.1_0 1 T\n";

static const char want_tags[] = "http_requests_total;app=shop;code=200;path=_api_v1_2_x 3 T\n"
                                "http_requests_total;app=shop;code=caf__;path=_ 1 T\n"
                                "temp_celsius -1.5 T\n"
                                "lat_seconds_bucket;le=0_25;op=get 1 T\n"
                                "lat_seconds_bucket;le=1;op=get 2 T\n"
                                "lat_seconds_bucket;le=_Inf;op=get 3 T\n"
                                "lat_seconds_sum;op=get 3.6 T\n"
                                "lat_seconds_count;op=get 3 T\n"
                                "rpc_seconds_sum 2 T\n"
                                "rpc_seconds_count 1 T\n"
                                "build_info;version=1_0 1 T\n";

static void check_format(int tags) {
    vt_registry_t *reg = sample_registry();
    pt_lines_t *sink = pt_lines_start(0);
    vt_graphite_t *g = bridge(reg, pt_lines_port(sink), tags ? NULL : "app.web-1", tags, 60000);
    CHECK_INT(vt_graphite_flush(g), 0);
    CHECK_INT(pt_lines_wait(sink, "build_info", 2000), 0);
    char *text = pt_lines_text(sink);
    int bad_ts;
    char *got = strip_ts(text, &bad_ts);
    CHECK_STR(got, tags ? want_tags : want_paths);
    CHECK_INT(bad_ts, 0);
    vt_graphite_stats_t st;
    vt_graphite_stats(g, &st);
    CHECK_INT(st.lines_sent, 11);
    CHECK_INT(st.connects, 1);
    CHECK_INT(st.connected, 1);
    CHECK_INT(st.snapshots, 1);
    free(got);
    free(text);
    vt_graphite_destroy(g);
    pt_lines_stop(sink);
    vt_registry_destroy(reg);
}

static void test_paths(void) {
    check_format(0);
}

static void test_tags(void) {
    check_format(1);
}

/* Count occurrences of needle. */
static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_interval_and_reconnect(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_gauge_t *gg;
    vt_gauge_series_t *gs;
    CHECK_INT(vt_gauge_create(reg, "phase", "Phase.", NULL, &gg), 0);
    CHECK_INT(vt_gauge_with(gg, NULL, &gs), 0);
    vt_gauge_set(gs, 1);

    pt_lines_t *sink = pt_lines_start(0);
    int port = pt_lines_port(sink);
    vt_graphite_t *g = bridge(reg, port, "r", 0, 100);
    /* Snapshots come on the interval, without a flush. */
    CHECK_INT(pt_lines_wait(sink, "r.phase 1 ", 3000), 0);
    pt_sleep_ms(450);
    char *t = pt_lines_text(sink);
    CHECK(count(t, "r.phase 1 ") >= 3);
    free(t);

    /* The sink goes away: nothing blocks, connection attempts fail. */
    pt_lines_stop(sink);
    vt_gauge_set(gs, 2);
    long long t0 = pt_now_ms();
    for (int i = 0; i < 100000; i++)
        vt_gauge_add(gs, 0);
    CHECK(pt_now_ms() - t0 < 1000);
    pt_sleep_ms(600);
    vt_graphite_stats_t st;
    vt_graphite_stats(g, &st);
    CHECK(st.connect_failures > 0 || st.write_failures > 0);
    CHECK_INT(st.connected, 0);
    char err[256];
    vt_graphite_last_error(g, err, sizeof err);
    CHECK(strlen(err) > 0);
    printf("while away: %s (failures: %llu connect, %llu write)\n", err,
           (unsigned long long)st.connect_failures, (unsigned long long)st.write_failures);
    CHECK_INT(vt_graphite_flush(g), VT_ENET);

    /* It comes back on the same port: the bridge reconnects by itself, and
     * the snapshots kept while it was away arrive too. */
    sink = pt_lines_start(port);
    CHECK(sink != NULL);
    if (!sink) {
        vt_graphite_destroy(g);
        vt_registry_destroy(reg);
        return;
    }
    vt_gauge_set(gs, 3);
    CHECK_INT(pt_lines_wait(sink, "r.phase 3 ", 3000), 0);
    t = pt_lines_text(sink);
    CHECK(count(t, "r.phase 2 ") >= 2);
    /* Kept snapshots arrive first, in order. */
    const char *two = strstr(t, "r.phase 2 "), *three = strstr(t, "r.phase 3 ");
    CHECK(two && three && two < three);
    free(t);
    vt_graphite_stats(g, &st);
    CHECK(st.connects >= 2);
    CHECK_INT(st.lines_dropped, 0);
    vt_graphite_destroy(g);
    pt_lines_stop(sink);
    vt_registry_destroy(reg);
}

/* A peer that accepts and never reads: the bridge's writes stall, the
 * instrumented threads and scrapes do not. */
static void test_stalled_peer(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "wide", "Many series.", VT_LABELS("id"), &c), 0);
    vt_counter_series_t *first = NULL;
    for (int i = 0; i < 5000; i++) {
        char id[96];
        snprintf(id, sizeof id, "series-%d-with-a-long-label-value-to-fill-buffers", i);
        vt_counter_series_t *s;
        CHECK_INT(vt_counter_with(c, VT_VALUES(id), &s), 0);
        vt_counter_add(s, i);
        if (!first)
            first = s;
    }
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int small = 4096;
    setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    CHECK_INT(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_INT(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    CHECK_INT(listen(lfd, 4), 0);
    port = ntohs(a.sin_port);

    vt_graphite_t *g = bridge(reg, port, "stall", 0, 50);
    /* Wait until the kernel buffers are full and a write has timed out: the
     * bridge is then stuck in writes for good. */
    vt_graphite_stats_t st;
    for (int i = 0; i < 100; i++) {
        vt_graphite_stats(g, &st);
        if (st.write_failures > 0)
            break;
        pt_sleep_ms(50);
    }
    CHECK(st.write_failures > 0);
    long long t0 = pt_now_ms();
    for (int i = 0; i < 1000000; i++)
        vt_counter_inc(first);
    vt_buf_t buf = {0};
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    long long took = pt_now_ms() - t0;
    printf("1e6 increments and a scrape while carbon stalls: %lld ms\n", took);
    CHECK(took < 2000);
    vt_buf_free(&buf);
    vt_graphite_stats(g, &st);
    printf("stalled peer: %llu snapshots, %llu lines written, %llu write failures\n",
           (unsigned long long)st.snapshots, (unsigned long long)st.lines_sent,
           (unsigned long long)st.write_failures);
    long long d0 = pt_now_ms();
    vt_graphite_destroy(g); /* bounded by timeout_ms */
    CHECK(pt_now_ms() - d0 < 3000);
    close(lfd);
    vt_registry_destroy(reg);
}

static void test_bounded_buffer(void) {
    vt_registry_t *reg = sample_registry();
    vt_graphite_opts_t o;
    vt_graphite_opts_init(&o);
    o.port = pt_free_port(SOCK_STREAM);
    o.interval_ms = 20;
    o.backoff_min_ms = 10;
    o.backoff_max_ms = 40;
    o.max_buffer = 1000;
    vt_graphite_t *g = NULL;
    CHECK_INT(vt_graphite_create(reg, &o, &g), 0);
    pt_sleep_ms(400);
    vt_graphite_stats_t st;
    vt_graphite_stats(g, &st);
    printf("nobody listening: %llu snapshots, %llu lines dropped, %llu failed connects\n",
           (unsigned long long)st.snapshots, (unsigned long long)st.lines_dropped,
           (unsigned long long)st.connect_failures);
    CHECK(st.snapshots >= 5);
    CHECK(st.lines_dropped > 0);
    CHECK(st.connect_failures >= 3);
    CHECK_INT(st.lines_sent, 0);
    vt_graphite_destroy(g);

    /* A snapshot larger than the whole buffer is dropped at once. */
    o.max_buffer = 10;
    CHECK_INT(vt_graphite_create(reg, &o, &g), 0);
    CHECK_INT(vt_graphite_flush(g), 0);
    vt_graphite_stats(g, &st);
    CHECK_INT(st.lines_dropped, 11);
    vt_graphite_destroy(g);
    vt_registry_destroy(reg);
}

static void test_bad_options(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_graphite_opts_t o;
    vt_graphite_t *g = NULL;
    vt_graphite_opts_init(&o);
    CHECK_INT(vt_graphite_create(NULL, &o, &g), VT_EINVAL);
    CHECK_INT(vt_graphite_create(reg, &o, NULL), VT_EINVAL);
    o.port = 0;
    CHECK_INT(vt_graphite_create(reg, &o, &g), VT_EINVAL);
    vt_graphite_opts_init(&o);
    o.interval_ms = 0;
    CHECK_INT(vt_graphite_create(reg, &o, &g), VT_EINVAL);
    vt_graphite_opts_init(&o);
    o.backoff_min_ms = 500;
    o.backoff_max_ms = 100;
    CHECK_INT(vt_graphite_create(reg, &o, &g), VT_EINVAL);
    vt_graphite_opts_init(&o);
    o.prefix = "has space";
    CHECK_INT(vt_graphite_create(reg, &o, &g), VT_EINVAL);
    o.prefix = "semi;colon";
    CHECK_INT(vt_graphite_create(reg, &o, &g), VT_EINVAL);
    o.prefix = NULL;
    o.host = NULL;
    CHECK_INT(vt_graphite_create(reg, &o, &g), VT_EINVAL);
    CHECK(g == NULL);
    CHECK_INT(vt_graphite_flush(NULL), VT_EINVAL);
    vt_graphite_destroy(NULL);
    vt_graphite_stats_t st;
    vt_graphite_stats(NULL, &st);
    CHECK_INT(st.snapshots, 0);

    /* A host that does not resolve fails on the bridge thread, not here. */
    vt_graphite_opts_init(&o);
    o.host = "no-such-host.invalid";
    CHECK_INT(vt_graphite_create(reg, &o, &g), 0);
    CHECK_INT(vt_graphite_flush(g), VT_ENET);
    char err[256];
    vt_graphite_last_error(g, err, sizeof err);
    CHECK_CONTAINS(err, "resolving no-such-host.invalid");
    vt_graphite_destroy(g);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_paths);
    RUN(test_tags);
    RUN(test_interval_and_reconnect);
    RUN(test_stalled_peer);
    RUN(test_bounded_buffer);
    RUN(test_bad_options);
    TEST_EXIT();
}
