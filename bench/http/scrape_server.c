/* scrape_server.c - an embedded /metrics server over a registry of N series
 * (default 10,000: counters and gauges in 5 families of N/5 label values),
 * for measuring scrape throughput with a load generator.
 *
 * Usage: vitals-bench-scrape-server [--series N] [--port P]
 * Prints "listening on http://127.0.0.1:P/metrics", serves until SIGINT or
 * SIGTERM. No in-flight limit, so the load generator sets the concurrency.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vitals.h>
#include <vitals/http.h>

#define FAMILIES 5

static int fill(vt_registry_t *reg, unsigned series) {
    static const char *const names[FAMILIES] = {"bench_requests_total", "bench_errors_total",
                                                "bench_bytes_total", "bench_queue_depth",
                                                "bench_temperature_celsius"};
    unsigned per = series / FAMILIES, f, i;
    char value[32];
    for (f = 0; f < FAMILIES; f++) {
        vt_metric_opts_t o;
        vt_counter_t *c = NULL;
        vt_gauge_t *g = NULL;
        int rc;
        vt_metric_opts_init(&o);
        o.name = names[f];
        o.help = "A benchmark family.";
        o.label_names = VT_LABELS("instance_path");
        o.max_series = per + 1;
        rc = f < 3 ? vt_counter_create_opts(reg, &o, &c) : vt_gauge_create_opts(reg, &o, &g);
        if (rc != 0)
            return rc;
        for (i = 0; i < per; i++) {
            snprintf(value, sizeof(value), "/api/v1/item/%u", i);
            if (c) {
                vt_counter_series_t *s;
                if ((rc = vt_counter_with(c, VT_VALUES(value), &s)) != 0)
                    return rc;
                vt_counter_add(s, (double)(i * 7 + f));
            } else {
                vt_gauge_series_t *s;
                if ((rc = vt_gauge_with(g, VT_VALUES(value), &s)) != 0)
                    return rc;
                vt_gauge_set(s, (double)i * 0.25 - 3);
            }
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    unsigned series = 10000, port = 0;
    vt_http_server_opts_t o;
    vt_http_server_t *srv;
    vt_registry_t *reg;
    sigset_t stop;
    int i, rc, sig;
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--series") == 0)
            series = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--port") == 0)
            port = (unsigned)strtoul(argv[i + 1], NULL, 10);
    }
    if (vt_registry_create(&reg) != 0 || (rc = fill(reg, series)) != 0) {
        fprintf(stderr, "scrape_server: cannot build the registry\n");
        return 1;
    }
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    vt_http_server_opts_init(&o);
    o.port = (uint16_t)port;
    o.max_in_flight = 0;
    o.max_connections = 64;
    if ((rc = vt_http_server_start(reg, &o, &srv)) != 0) {
        fprintf(stderr, "scrape_server: %s\n", vt_strerror(rc));
        return 1;
    }
    printf("listening on http://127.0.0.1:%u/metrics (%u series)\n", vt_http_server_port(srv),
           series);
    fflush(stdout);
    sigwait(&stop, &sig);
    vt_http_server_stop(srv);
    vt_registry_destroy(reg);
    return 0;
}
