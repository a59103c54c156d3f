/* proto_service.c - the service a real Prometheus scrapes in the proto
 * integration test: the embedded /metrics server on 127.0.0.1 (a free port,
 * printed as "port N" on the first line of stdout) over a registry whose
 * values are known: a counter with awkward label values, a classic
 * histogram, a gauge, an info, summaries with and without quantiles, a
 * counter with a unit, and a native histogram (schema 3, no classic buckets)
 * that a thread feeds with the same batch of 100 values every 50 ms:
 * 0.001 * 2^(k/10) for k = 0..99. It runs until stdin closes or SIGTERM /
 * SIGINT arrives. both_seconds has classic and native buckets at once.
 * Exemplars: orders{shop="north"} (trace_id "ord-1", value 2), the wait of
 * 2.4 s (trace_id "wait-1", bucket le=2.5) and traced_seconds, a native
 * histogram with one observation of 0.3 (trace_id "native-1", +Inf bucket).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vitals.h"
#include "vitals/http.h"

static volatile sig_atomic_t stop_now;
static vt_histogram_series_t *native_series;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int done;

/* Observe the batch every 50 ms until done. */
static void *feed(void *arg) {
    (void)arg;
    pthread_mutex_lock(&done_lock);
    while (!done) {
        for (int k = 0; k < 100; k++)
            vt_histogram_observe(native_series, 0.001 * pow(2, k / 10.0));
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 50 * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&done_cond, &done_lock, &t);
    }
    pthread_mutex_unlock(&done_lock);
    return NULL;
}

static void on_signal(int sig) {
    (void)sig;
    stop_now = 1;
}

static int build(vt_registry_t *reg) {
    vt_counter_t *c;
    vt_counter_series_t *cs;
    int rc;
    if ((rc = vt_counter_create(reg, "orders", "Orders taken.", VT_LABELS("shop"), &c)) != 0 ||
        (rc = vt_counter_with(c, VT_VALUES("north"), &cs)) != 0)
        return rc;
    vt_counter_add(cs, 40);
    if ((rc = vt_counter_add_exemplar(cs, 2, VT_LABELS("trace_id"), VT_VALUES("ord-1"))) != 0)
        return rc;
    if ((rc = vt_counter_with(c, VT_VALUES("s\"\xc3\xbc\\\n"), &cs)) != 0)
        return rc;
    vt_counter_add(cs, 7.5);

    /* 3 waits up to 0.1 s, 4 in (0.25, 0.5], 3 in (1, 2.5]: the median
     * (rank 5 of 10) is in (0.25, 0.5]. */
    static const double bounds[] = {0.1, 0.25, 0.5, 1, 2.5};
    static const double waits[] = {0.01, 0.05, 0.09, 0.3, 0.35, 0.4, 0.45, 1.5, 2, 2.4};
    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    if ((rc = vt_histogram_create(reg, "wait_seconds", "Waits.", NULL, bounds, 5, &h)) != 0 ||
        (rc = vt_histogram_with(h, NULL, &hs)) != 0)
        return rc;
    for (size_t i = 0; i + 1 < sizeof(waits) / sizeof(waits[0]); i++)
        vt_histogram_observe(hs, waits[i]);
    if ((rc = vt_histogram_observe_exemplar(hs, 2.4, VT_LABELS("trace_id"), VT_VALUES("wait-1"))) !=
        0)
        return rc;

    vt_gauge_t *g;
    vt_gauge_series_t *gs;
    if ((rc = vt_gauge_create(reg, "queue_depth", "Queued jobs.", NULL, &g)) != 0 ||
        (rc = vt_gauge_with(g, NULL, &gs)) != 0)
        return rc;
    vt_gauge_set(gs, -3.25);

    vt_info_t *info;
    if ((rc = vt_info_create(reg, "build", "Build.", VT_LABELS("version"), VT_VALUES("1.2.3"),
                             &info)) != 0)
        return rc;

    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    static const double qs[] = {0.5, 0.9};
    o.name = "rpc_seconds";
    o.help = "RPC latency.";
    o.quantiles = qs;
    o.quantile_count = 2;
    vt_summary_t *sm;
    vt_summary_series_t *ss;
    if ((rc = vt_summary_create_opts(reg, &o, &sm)) != 0 || (rc = vt_summary_with(sm, NULL, &ss)))
        return rc;
    for (int i = 1; i <= 100; i++)
        vt_summary_observe(ss, i);

    /* A summary without quantiles, and a counter with a unit. */
    if ((rc = vt_summary_create(reg, "payload_bytes", "Payload sizes.", NULL, &sm)) != 0 ||
        (rc = vt_summary_with(sm, NULL, &ss)) != 0)
        return rc;
    vt_summary_observe(ss, 100);
    vt_summary_observe(ss, 300);
    vt_metric_opts_init(&o);
    o.name = "busy_seconds";
    o.help = "Time spent busy.";
    o.unit = "seconds";
    if ((rc = vt_counter_create_opts(reg, &o, &c)) != 0 || (rc = vt_counter_with(c, NULL, &cs)))
        return rc;
    vt_counter_add(cs, 1.5);

    vt_histogram_t *nh;
    vt_metric_opts_init(&o);
    o.name = "request_seconds";
    o.help = "Request latency, native buckets only.";
    o.native_bucket_factor = 1.1; /* schema 3 */
    if ((rc = vt_histogram_create_opts(reg, &o, &nh)) != 0 ||
        (rc = vt_histogram_with(nh, NULL, &native_series)) != 0)
        return rc;

    vt_histogram_series_t *ts;
    vt_metric_opts_init(&o);
    o.name = "traced_seconds";
    o.help = "A native histogram with an exemplar.";
    o.native_bucket_factor = 1.1;
    if ((rc = vt_histogram_create_opts(reg, &o, &nh)) != 0 ||
        (rc = vt_histogram_with(nh, NULL, &ts)) != 0 ||
        (rc = vt_histogram_observe_exemplar(ts, 0.3, VT_LABELS("trace_id"),
                                            VT_VALUES("native-1"))) != 0)
        return rc;

    /* Classic and native buckets in one histogram. */
    vt_metric_opts_init(&o);
    o.name = "both_seconds";
    o.help = "Classic and native buckets.";
    o.buckets = bounds;
    o.bucket_count = 5;
    o.native_bucket_factor = 1.1;
    if ((rc = vt_histogram_create_opts(reg, &o, &h)) != 0 || (rc = vt_histogram_with(h, NULL, &hs)))
        return rc;
    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++)
        vt_histogram_observe(hs, waits[i]);
    return 0;
}

int main(void) {
    vt_registry_t *reg;
    vt_http_server_t *srv;
    vt_http_server_opts_t o;
    int rc;

    /* No SA_RESTART: a signal must end the blocking read below. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if ((rc = vt_registry_create(&reg)) != 0 || (rc = build(reg)) != 0) {
        fprintf(stderr, "proto_service: %s\n", vt_strerror(rc));
        return 1;
    }
    vt_http_server_opts_init(&o);
    if ((rc = vt_http_server_start(reg, &o, &srv)) != 0) {
        fprintf(stderr, "proto_service: server: %s\n", vt_strerror(rc));
        return 1;
    }
    pthread_t feeder;
    if (pthread_create(&feeder, NULL, feed, NULL) != 0) {
        fprintf(stderr, "proto_service: cannot start the feeding thread\n");
        return 1;
    }
    printf("port %u\n", vt_http_server_port(srv));
    fflush(stdout);

    /* Wait for the end: stdin closing (the test went away) or a signal. */
    char buf[64];
    while (!stop_now && read(0, buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&done_lock);
    done = 1;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
    pthread_join(feeder, NULL);
    vt_http_server_stop(srv);
    vt_registry_destroy(reg);
    return 0;
}
