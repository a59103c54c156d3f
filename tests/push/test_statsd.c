/* test_statsd.c - the StatsD client against a UDP collector on 127.0.0.1:
 * line formats, sanitizing, tags, sampling, batching limits, flush triggers,
 * drops without a listener, bad input, threads, and the registry mirror.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"
#include "push_test.h"
#include "vitals.h"
#include "vitals/statsd.h"

/* Wait until the collector has seen nothing new for 60 ms. */
static void settle(pt_udp_t *u) {
    long last = -1;
    for (int i = 0; i < 100; i++) {
        long n = pt_udp_datagrams(u);
        if (n == last)
            return;
        last = n;
        pt_sleep_ms(60);
    }
}

static vt_statsd_t *client_for(pt_udp_t *u, vt_statsd_opts_t *o) {
    vt_statsd_opts_t def;
    if (!o) {
        vt_statsd_opts_init(&def);
        o = &def;
    }
    o->port = pt_udp_port(u);
    vt_statsd_t *c = NULL;
    int rc = vt_statsd_create(o, &c);
    CHECK_INT(rc, 0);
    return c;
}

/* Everything received after a flush. */
static char *flushed(vt_statsd_t *c, pt_udp_t *u) {
    CHECK_INT(vt_statsd_flush(c), 0);
    settle(u);
    return pt_udp_text(u);
}

static void test_line_formats(void) {
    pt_udp_t *u = pt_udp_start();
    CHECK(u != NULL);
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.prefix = "app.";
    o.flush_interval_ms = 60000;
    vt_statsd_t *c = client_for(u, &o);
    CHECK_INT(vt_statsd_count(c, "hits", 3, 1.0), 0);
    CHECK_INT(vt_statsd_count(c, "hits", -2, 1.0), 0);
    CHECK_INT(vt_statsd_gauge(c, "temp", 5.5), 0);
    CHECK_INT(vt_statsd_gauge(c, "temp", -3), 0);
    CHECK_INT(vt_statsd_gauge_delta(c, "temp", 5), 0);
    CHECK_INT(vt_statsd_gauge_delta(c, "temp", -5), 0);
    CHECK_INT(vt_statsd_gauge_delta(c, "temp", 0), 0);
    CHECK_INT(vt_statsd_timing(c, "lat", 12.5, 1.0), 0);
    CHECK_INT(vt_statsd_timing(c, "lat", 1e6, 1.0), 0);
    CHECK_INT(vt_statsd_timing(c, "n", 0.1, 1.0), 0);
    CHECK_INT(vt_statsd_timing(c, "n", -0.005, 1.0), 0);
    CHECK_INT(vt_statsd_timing(c, "n", 1.0005, 1.0), 0);
    CHECK_INT(vt_statsd_timing(c, "n", 1e-7, 1.0), 0);
    CHECK_INT(vt_statsd_timing(c, "n", 123456789.125, 1.0), 0);
    CHECK_INT(vt_statsd_set(c, "users", "alice"), 0);
    CHECK_INT(vt_statsd_histogram(c, "size", 0.25, 1.0), 0);
    CHECK_INT(vt_statsd_distribution(c, "size", 7, 1.0), 0);
    vt_statsd_line_t l = {.key = "req",
                          .type = VT_STATSD_COUNTER,
                          .value = 1.5,
                          .tags = VT_VALUES("route:/x", "code:200")};
    CHECK_INT(vt_statsd_send(c, &l), 0);
    char *t = flushed(c, u);
    CHECK_STR(
        t,
        "app.hits:3|c\napp.hits:-2|c\napp.temp:5.5|g\napp.temp:0|g\napp.temp:-3|g\n"
        "app.temp:+5|g\napp.temp:-5|g\napp.temp:+0|g\napp.lat:12.5|ms\n"
        "app.lat:1000000|ms\napp.n:0.1|ms\napp.n:-0.005|ms\napp.n:1.0005|ms\n"
        "app.n:1e-07|ms\napp.n:123456789.125|ms\napp.users:alice|s\napp.size:0.25|h\napp.size:7|d\n"
        "app.req:1.5|c|#route:/x,code:200\n");
    CHECK_INT(vt_statsd_dropped(c), 0);
    CHECK_INT(vt_statsd_sent(c), 1);
    free(t);
    vt_statsd_destroy(c);
    pt_udp_stop(u);
}

static void test_sanitize_and_tags(void) {
    pt_udp_t *u = pt_udp_start();
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.prefix = "my app/";
    o.tags = VT_VALUES("env:prod", "region:eu-1");
    o.flush_interval_ms = 60000;
    vt_statsd_t *c = client_for(u, &o);
    CHECK_INT(vt_statsd_count(c, "a key/with:bad|chars@x#y", 1, 1.0), 0);
    CHECK_INT(vt_statsd_count(c, "tabs \t\n and  spaces", 1, 1.0), 0);
    CHECK_INT(vt_statsd_count(c, "caf\xc3\xa9.ok;tag=1", 1, 1.0), 0);
    vt_statsd_line_t l = {.key = "t",
                          .type = VT_STATSD_GAUGE,
                          .value = -1,
                          .relative = 1,
                          .tags = VT_VALUES("k:v:w")};
    CHECK_INT(vt_statsd_send(c, &l), 0);
    char *t = flushed(c, u);
    CHECK_STR(t, "my_app-a_key-withbadcharsxy:1|c|#env:prod,region:eu-1\n"
                 "my_app-tabs_and_spaces:1|c|#env:prod,region:eu-1\n"
                 "my_app-caf.ok;tag=1:1|c|#env:prod,region:eu-1\n"
                 "my_app-t:-1|g|#env:prod,region:eu-1,k:v:w\n");
    free(t);
    vt_statsd_destroy(c);
    pt_udp_stop(u);
}

static void test_bad_input(void) {
    pt_udp_t *u = pt_udp_start();
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.flush_interval_ms = 60000;
    vt_statsd_t *c = client_for(u, &o);
    CHECK_INT(vt_statsd_count(NULL, "k", 1, 1), VT_EINVAL);
    CHECK_INT(vt_statsd_count(c, NULL, 1, 1), VT_EINVAL);
    CHECK_INT(vt_statsd_count(c, ":|@#", 1, 1), VT_EINVAL); /* empty once sanitized */
    CHECK_INT(vt_statsd_count(c, "", 1, 1), VT_EINVAL);
    CHECK_INT(vt_statsd_count(c, "k", 1, 0), VT_EINVAL);
    CHECK_INT(vt_statsd_count(c, "k", 1, -0.5), VT_EINVAL);
    CHECK_INT(vt_statsd_count(c, "k", 1, NAN), VT_EINVAL);
    CHECK_INT(vt_statsd_gauge(c, "k", NAN), VT_EINVAL);
    CHECK_INT(vt_statsd_gauge(c, "k", INFINITY), VT_EINVAL);
    CHECK_INT(vt_statsd_gauge_delta(c, "k", -INFINITY), VT_EINVAL);
    CHECK_INT(vt_statsd_timing(c, "k", NAN, 1), VT_EINVAL);
    CHECK_INT(vt_statsd_timing(c, "k", 1, 0), VT_EINVAL);
    CHECK_INT(vt_statsd_set(c, "k", NULL), VT_EINVAL);
    CHECK_INT(vt_statsd_set(c, "k", ""), VT_EINVAL);
    CHECK_INT(vt_statsd_set(c, "k", "a:b"), VT_EINVAL);
    CHECK_INT(vt_statsd_set(c, "k", "a|b"), VT_EINVAL);
    CHECK_INT(vt_statsd_set(c, "k", "a\nb"), VT_EINVAL);
    vt_statsd_line_t l = {
        .key = "k", .type = VT_STATSD_COUNTER, .value = 1, .tags = VT_VALUES("a|b")};
    CHECK_INT(vt_statsd_send(c, &l), VT_EINVAL);
    l.tags = VT_VALUES("a,b");
    CHECK_INT(vt_statsd_send(c, &l), VT_EINVAL);
    l.tags = VT_VALUES("");
    CHECK_INT(vt_statsd_send(c, &l), VT_EINVAL);
    l.tags = NULL;
    l.type = (vt_statsd_type_t)99;
    CHECK_INT(vt_statsd_send(c, &l), VT_EINVAL);
    CHECK_INT(vt_statsd_send(c, NULL), VT_EINVAL);
    CHECK_INT(vt_statsd_flush(NULL), VT_EINVAL);
    /* A line longer than a datagram is refused and counted. */
    char longkey[2000];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    CHECK_INT(vt_statsd_count(c, longkey, 1, 1), VT_ELIMIT);
    CHECK_INT(vt_statsd_dropped(c), 1);
    /* Nothing of the refused calls reached the wire; a good line still does. */
    CHECK_INT(vt_statsd_count(c, "ok", 1, 1), 0);
    char *t = flushed(c, u);
    CHECK_STR(t, "ok:1|c\n");
    free(t);
    vt_statsd_destroy(c);

    /* Bad options create nothing. */
    vt_statsd_t *bad = NULL;
    vt_statsd_opts_init(&o);
    CHECK_INT(vt_statsd_create(&o, NULL), VT_EINVAL);
    o.port = 0;
    CHECK_INT(vt_statsd_create(&o, &bad), VT_EINVAL);
    o.port = 70000;
    CHECK_INT(vt_statsd_create(&o, &bad), VT_EINVAL);
    vt_statsd_opts_init(&o);
    o.max_datagram = 10;
    CHECK_INT(vt_statsd_create(&o, &bad), VT_EINVAL);
    o.max_datagram = 70000;
    CHECK_INT(vt_statsd_create(&o, &bad), VT_EINVAL);
    vt_statsd_opts_init(&o);
    o.buffer_size = o.max_datagram;
    CHECK_INT(vt_statsd_create(&o, &bad), VT_EINVAL);
    vt_statsd_opts_init(&o);
    o.flush_interval_ms = 0;
    CHECK_INT(vt_statsd_create(&o, &bad), VT_EINVAL);
    vt_statsd_opts_init(&o);
    o.tags = VT_VALUES("ok:1", "bad|tag");
    CHECK_INT(vt_statsd_create(&o, &bad), VT_EINVAL);
    vt_statsd_opts_init(&o);
    o.host = "no-such-host.invalid";
    CHECK_INT(vt_statsd_create(&o, &bad), VT_ENET);
    o.host = NULL;
    CHECK_INT(vt_statsd_create(&o, &bad), VT_EINVAL);
    CHECK(bad == NULL);
    vt_statsd_destroy(NULL);
    pt_udp_stop(u);
}

/* Count the lines of text and check each one against want_suffix. memchr on
 * known lengths keeps this linear under ASan's strict string checks. */
static long count_lines(const char *text, const char *want_suffix, long *bad) {
    long n = 0;
    *bad = 0;
    size_t sl = strlen(want_suffix);
    const char *p = text, *end = text + strlen(text);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len) {
            n++;
            if (len < sl || memcmp(p + len - sl, want_suffix, sl) != 0)
                (*bad)++;
        }
        p += len + 1;
    }
    return n;
}

static void test_sample_rate(void) {
    pt_udp_t *u = pt_udp_start();
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.buffer_size = 1 << 20;
    vt_statsd_t *c = client_for(u, &o);
    const int calls = 40000;
    for (int i = 0; i < calls; i++)
        CHECK_INT(vt_statsd_count(c, "s", 1, 0.25), 0);
    char *t = flushed(c, u);
    long bad, n = count_lines(t, "|@0.25", &bad);
    CHECK_INT(bad, 0);
    CHECK_INT(vt_statsd_dropped(c), 0);
    /* Binomial(40000, 0.25): mean 10000, sd 87; 6 sd either way. */
    printf("sampled %ld of %d at rate 0.25\n", n, calls);
    CHECK(n > 10000 - 520 && n < 10000 + 520);
    free(t);
    vt_statsd_destroy(c);
    pt_udp_stop(u);
}

/* Every datagram stays within the limit and holds whole lines. */
static void test_datagram_limit(void) {
    pt_udp_t *u = pt_udp_start();
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.max_datagram = 200;
    o.buffer_size = 1 << 20;
    vt_statsd_t *c = client_for(u, &o);
    char key[200];
    long want = 0;
    for (int i = 0; i < 3000; i++) {
        int len = 1 + (i * 37) % 150;
        for (int k = 0; k < len; k++)
            key[k] = (char)('a' + (i + k) % 26);
        key[len] = '\0';
        if (vt_statsd_count(c, key, i, 1) == 0)
            want++;
    }
    char *t = flushed(c, u);
    CHECK(pt_udp_max_size(u) <= 200);
    CHECK(pt_udp_max_size(u) > 150);
    long bad, n = count_lines(t, "|c", &bad);
    CHECK_INT(bad, 0);
    CHECK_INT(n + (long)vt_statsd_dropped(c), 3000);
    CHECK_INT(n, want);
    CHECK_INT(vt_statsd_dropped(c), 0);
    /* Order is kept: values 0..2999 in sequence. */
    long expect = 0, order_ok = 1;
    const char *p = t, *end = t + strlen(t);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        char num[24] = "";
        if (colon && nl - colon < 20)
            memcpy(num, colon + 1, (size_t)(nl - colon - 1));
        if (strtol(num, NULL, 10) != expect++)
            order_ok = 0;
        p = nl + 1;
    }
    CHECK(order_ok);
    free(t);
    vt_statsd_destroy(c);
    pt_udp_stop(u);
}

static void test_flush_triggers(void) {
    pt_udp_t *u = pt_udp_start();
    /* On the interval, with no explicit flush. */
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.flush_interval_ms = 100;
    vt_statsd_t *c = client_for(u, &o);
    long long t0 = pt_now_ms();
    CHECK_INT(vt_statsd_count(c, "tick", 1, 1), 0);
    CHECK_INT(pt_udp_wait(u, "tick:1|c", 2000), 0);
    long long waited = pt_now_ms() - t0;
    CHECK(waited < 1000);
    vt_statsd_destroy(c);
    pt_udp_clear(u);

    /* On size: the first datagram leaves long before the 60 s interval. */
    vt_statsd_opts_init(&o);
    o.flush_interval_ms = 60000;
    c = client_for(u, &o);
    for (int i = 0; i < 200; i++)
        CHECK_INT(vt_statsd_count(c, "size_trigger", i, 1), 0);
    CHECK_INT(pt_udp_wait(u, "size_trigger:0|c", 2000), 0);
    CHECK(pt_udp_datagrams(u) >= 1);
    pt_udp_clear(u);

    /* On close: what is left goes out. */
    CHECK_INT(vt_statsd_count(c, "last_words", 1, 1), 0);
    vt_statsd_destroy(c);
    CHECK_INT(pt_udp_wait(u, "last_words:1|c", 2000), 0);
    char *t = pt_udp_text(u);
    CHECK_CONTAINS(t, "size_trigger:199|c");
    free(t);
    pt_udp_stop(u);
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* No listener: sends fail with ECONNREFUSED, a tiny ring fills; callers never
 * wait and every lost line is counted. */
static void test_no_listener(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = pt_free_port(SOCK_DGRAM);
    o.max_datagram = 64;
    o.buffer_size = 128;
    o.registry = reg;
    vt_statsd_t *c = NULL;
    CHECK_INT(vt_statsd_create(&o, &c), 0);
    enum { N = 20000 };
    static long long ns[N];
    long busy = 0, ok = 0;
    for (int i = 0; i < N; i++) {
        long long a = (long long)vt_now_ns();
        int rc = vt_statsd_count(c, "nobody.listens", 1, 1);
        ns[i] = (long long)vt_now_ns() - a;
        if (rc == VT_EBUSY)
            busy++;
        else if (rc == 0)
            ok++;
    }
    CHECK_INT(ok + busy, N);
    qsort(ns, N, sizeof ns[0], cmp_ll);
    printf("no listener: median %lld ns, p99.9 %lld ns, max %lld ns, busy %ld\n", ns[N / 2],
           ns[N - N / 1000], ns[N - 1], busy);
    CHECK(ns[N / 2] < 20000);
    CHECK(ns[N - 1] < 200000000LL); /* never a network wait */
    CHECK_INT(vt_statsd_flush(c), 0);
    uint64_t dropped = vt_statsd_dropped(c);
    CHECK(dropped >= (uint64_t)busy);
    CHECK(dropped > 0);
    double exposed = -1;
    CHECK_INT(vt_registry_get_sample_value(reg, "statsd_dropped_total", NULL, NULL, &exposed), 0);
    CHECK_DBL(exposed, (double)dropped);
    /* One dropped-lines counter per registry. */
    vt_statsd_t *twin = NULL;
    CHECK_INT(vt_statsd_create(&o, &twin), VT_EDUPLICATE);
    vt_statsd_destroy(c);
    CHECK_INT(vt_registry_get_sample_value(reg, "statsd_dropped_total", NULL, NULL, &exposed),
              VT_ENOTFOUND);
    CHECK_INT(vt_statsd_create(&o, &twin), 0);
    vt_statsd_destroy(twin);
    vt_registry_destroy(reg);

    /* Room in the ring, but the closed port answers with ICMP: the datagrams
     * the socket then refuses are counted, line by line. */
    vt_statsd_opts_init(&o);
    o.port = pt_free_port(SOCK_DGRAM);
    CHECK_INT(vt_statsd_create(&o, &c), 0);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 10; i++)
            CHECK_INT(vt_statsd_count(c, "refused", 1, 1), 0);
        CHECK_INT(vt_statsd_flush(c), 0);
        pt_sleep_ms(5);
    }
    printf("closed port: %llu datagrams sent, %llu lines dropped\n",
           (unsigned long long)vt_statsd_sent(c), (unsigned long long)vt_statsd_dropped(c));
    CHECK(vt_statsd_dropped(c) > 0);
    CHECK_INT(vt_statsd_dropped(c) % 10, 0);
    CHECK_INT(vt_statsd_sent(c) + vt_statsd_dropped(c) / 10, 20);
    vt_statsd_destroy(c);
}

typedef struct worker {
    vt_statsd_t *c;
    int n;
    long refused;
} worker_t;

static void *count_worker(void *arg) {
    worker_t *w = arg;
    for (int i = 0; i < w->n; i++)
        if (vt_statsd_count(w->c, "threads.k", 1, 1) != 0)
            w->refused++;
    return NULL;
}

/* Four threads at once: every increment either arrives or is counted. */
static void test_threads(void) {
    pt_udp_t *u = pt_udp_start();
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.buffer_size = 4 << 20;
    vt_statsd_t *c = client_for(u, &o);
    enum { T = 4, PER = 25000 };
    pthread_t th[T];
    worker_t w[T];
    for (int i = 0; i < T; i++) {
        w[i] = (worker_t){c, PER, 0};
        pthread_create(&th[i], NULL, count_worker, &w[i]);
    }
    long refused = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        refused += w[i].refused;
    }
    char *t = flushed(c, u);
    long bad, n = count_lines(t, "threads.k:1|c", &bad);
    CHECK_INT(bad, 0);
    CHECK_INT(n + (long)vt_statsd_dropped(c), T * PER);
    CHECK_INT(refused, (long)vt_statsd_dropped(c));
    free(t);
    vt_statsd_destroy(c);
    pt_udp_stop(u);
}

static void test_mirror(int tags) {
    pt_udp_t *u = pt_udp_start();
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_counter_t *req;
    vt_gauge_t *temp;
    vt_histogram_t *lat;
    CHECK_INT(vt_counter_create(reg, "reqs", "Requests.", VT_LABELS("method"), &req), 0);
    CHECK_INT(vt_gauge_create(reg, "temp", "Temperature.", NULL, &temp), 0);
    CHECK_INT(vt_histogram_create(reg, "lat_seconds", "Latency.", NULL, NULL, 0, &lat), 0);
    vt_counter_series_t *get;
    vt_gauge_series_t *g;
    vt_histogram_series_t *h;
    CHECK_INT(vt_counter_with(req, VT_VALUES("G.E T"), &get), 0);
    CHECK_INT(vt_gauge_with(temp, NULL, &g), 0);
    CHECK_INT(vt_histogram_with(lat, NULL, &h), 0);
    vt_counter_add(get, 3);
    vt_gauge_set(g, -4.5);
    vt_histogram_observe(h, 0.5);
    vt_histogram_observe(h, 1.5);

    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.mirror = reg;
    o.mirror_interval_ms = 200;
    o.flush_interval_ms = 50;
    o.mirror_tags = tags;
    vt_statsd_t *c = client_for(u, &o);
    const char *first_counter =
        tags ? "reqs_total:3|c|#method:G.E T" : "reqs_total.method.G_E_T:3|c";
    CHECK_INT(pt_udp_wait(u, first_counter, 3000), 0);
    settle(u);
    char *t = pt_udp_text(u);
    CHECK_CONTAINS(t, "temp:0|g\ntemp:-4.5|g");
    CHECK_CONTAINS(t, "lat_seconds_count:2|c");
    CHECK_CONTAINS(t, "lat_seconds_sum:2|c");
    free(t);

    pt_udp_clear(u);
    vt_counter_add(get, 2);
    vt_gauge_set(g, 7);
    vt_histogram_observe(h, 0.25);
    const char *second = tags ? "reqs_total:2|c|#method:G.E T" : "reqs_total.method.G_E_T:2|c";
    CHECK_INT(pt_udp_wait(u, second, 3000), 0);
    settle(u);
    t = pt_udp_text(u);
    CHECK_CONTAINS(t, "temp:7|g");
    CHECK_CONTAINS(t, "lat_seconds_count:1|c");
    CHECK_CONTAINS(t, "lat_seconds_sum:0.25|c");
    free(t);

    /* Unchanged counters send nothing; gauges keep coming. */
    pt_udp_clear(u);
    CHECK_INT(pt_udp_wait(u, "temp:7|g", 3000), 0);
    CHECK_INT(pt_udp_wait(u, "temp:7|g\n", 3000), 0);
    pt_sleep_ms(250);
    t = pt_udp_text(u);
    CHECK(strstr(t, "reqs_total") == NULL);
    CHECK(strstr(t, "lat_seconds_count") == NULL);
    free(t);

    /* A removed and re-bound series restarts from zero: its value is sent whole. */
    pt_udp_clear(u);
    CHECK_INT(vt_family_remove(vt_counter_family(req), VT_VALUES("G.E T")), 0);
    CHECK_INT(vt_counter_with(req, VT_VALUES("G.E T"), &get), 0);
    vt_counter_add(get, 1);
    const char *third = tags ? "reqs_total:1|c|#method:G.E T" : "reqs_total.method.G_E_T:1|c";
    CHECK_INT(pt_udp_wait(u, third, 3000), 0);
    vt_statsd_destroy(c);
    vt_registry_destroy(reg);
    pt_udp_stop(u);
}

static void test_mirror_paths(void) {
    test_mirror(0);
}

static void test_mirror_tags(void) {
    test_mirror(1);
}

int main(void) {
    RUN(test_line_formats);
    RUN(test_sanitize_and_tags);
    RUN(test_bad_input);
    RUN(test_sample_rate);
    RUN(test_datagram_limit);
    RUN(test_flush_triggers);
    RUN(test_no_listener);
    RUN(test_threads);
    RUN(test_mirror_paths);
    RUN(test_mirror_tags);
    TEST_EXIT();
}
