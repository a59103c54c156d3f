/* scrape.c - the expose and scrape_http workloads: one registry of 10,000
 * counter series and 1,000 histogram series, written as text 0.0.4 into a
 * sink that counts bytes, or served over HTTP by libvitals-http.
 *
 * The series are spread over 10 counter and 10 histogram families (default 11
 * buckets), labels method, path and code, with the values every harness uses:
 * counter i of family f holds 1 + (i * 2654435761 mod 2^32 + f) mod 1000003;
 * histogram i gets 16 observations log-spaced from 1 ms to 20 s, shifted by i.
 * The registry's self-metrics are off, so the output holds these series only.
 * The server, when built (VT_COMPARE_HTTP), has no in-flight limit and no
 * self-metrics, like promhttp.HandlerFor on a custom registry.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>

#include "compare.h"

#ifdef VT_COMPARE_HTTP
#include "vitals/http.h"
#endif

#define FAMILIES 10u
#define COUNTERS_PER_FAMILY 1000u  /* 4 methods x 5 codes x 50 paths */
#define HISTOGRAMS_PER_FAMILY 100u /* 4 methods x 5 codes x 5 paths */
#define OBSERVATIONS 16u
#define NPATHS 50u
#define MIN_SCRAPES 3u

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
static const char *const codes[] = {"200", "201", "400", "404", "500"};
static char paths[NPATHS][32];

/* The i-th label set of a family: method, path, code. */
static void label_set(unsigned i, const char *out[4]) {
    out[0] = methods[i % 4];
    out[1] = paths[(i / 20) % NPATHS];
    out[2] = codes[(i / 4) % 5];
    out[3] = NULL;
}

static int add_counters(vt_registry_t *reg, unsigned fam) {
    char name[64];
    snprintf(name, sizeof name, "bench_app%u_requests_total", fam);
    vt_counter_t *c;
    int rc = vt_counter_create(reg, name, "Requests handled, by method, route and status code.",
                               VT_LABELS("method", "path", "code"), &c);
    for (unsigned i = 0; rc == 0 && i < COUNTERS_PER_FAMILY; i++) {
        const char *v[4];
        label_set(i, v);
        vt_counter_series_t *s;
        if ((rc = vt_counter_with(c, v, &s)) == 0)
            vt_counter_add_u64(s, 1 + (uint64_t)(i * 2654435761u + fam) % 1000003u);
    }
    return rc;
}

static int add_histograms(vt_registry_t *reg, unsigned fam) {
    char name[64];
    snprintf(name, sizeof name, "bench_app%u_request_duration_seconds", fam);
    vt_histogram_t *h;
    int rc = vt_histogram_create(reg, name, "Request latency, by method, route and status code.",
                                 VT_LABELS("method", "path", "code"), NULL, 0, &h);
    for (unsigned i = 0; rc == 0 && i < HISTOGRAMS_PER_FAMILY; i++) {
        const char *v[4];
        label_set(i, v);
        vt_histogram_series_t *s;
        if ((rc = vt_histogram_with(h, v, &s)) != 0)
            break;
        for (unsigned k = 0; k < OBSERVATIONS; k++) {
            double u = (double)((k * 7u + i) % OBSERVATIONS) / (OBSERVATIONS - 1);
            vt_histogram_observe(s, 0.001 * pow(20000.0, u));
        }
    }
    return rc;
}

int compare_scrape_registry(vt_registry_t **out_reg) {
    vt_registry_t *reg;
    int rc = vt_registry_create(&reg);
    if (rc)
        return rc;
    vt_registry_set_self_metrics(reg, 0);
    for (unsigned p = 0; p < NPATHS; p++)
        snprintf(paths[p], sizeof paths[p], "/api/v1/route%02u/:id", p);
    for (unsigned f = 0; f < FAMILIES && rc == 0; f++)
        if ((rc = add_counters(reg, f)) == 0)
            rc = add_histograms(reg, f);
    if (rc) {
        vt_registry_destroy(reg);
        return rc;
    }
    *out_reg = reg;
    return 0;
}

static int count_sink(void *user_data, const char *data, size_t len) {
    (void)data;
    *(size_t *)user_data += len;
    return 0;
}

int compare_expose(int quick) {
    vt_registry_t *reg;
    int rc = compare_scrape_registry(&reg);
    if (rc)
        return compare_fail("registry", rc);
    size_t bytes = 0;
    if ((rc = vt_registry_write(reg, NULL, count_sink, &bytes)) != 0) /* warm-up */
        return compare_fail("vt_registry_write", rc);
    uint64_t scrapes = 0, t0 = compare_cpu_ns(), ns;
    do {
        bytes = 0;
        if ((rc = vt_registry_write(reg, NULL, count_sink, &bytes)) != 0)
            return compare_fail("vt_registry_write", rc);
        scrapes++;
        ns = compare_cpu_ns() - t0;
    } while (!quick && (scrapes < MIN_SCRAPES || ns < COMPARE_MEASURE_NS));
    double per = (double)ns / (double)scrapes;
    compare_row("expose", "ms", per / 1e6);
    compare_row("expose_bytes", "bytes", (double)bytes);
    compare_row("expose_mbps", "MB/s", (double)bytes / per * 1e3);
    vt_registry_destroy(reg);
    return 0;
}

#ifdef VT_COMPARE_HTTP
int compare_serve(unsigned port) {
    vt_registry_t *reg;
    int rc = compare_scrape_registry(&reg);
    if (rc)
        return compare_fail("registry", rc);
    vt_http_server_opts_t o;
    vt_http_server_opts_init(&o);
    o.address = "127.0.0.1";
    o.port = (uint16_t)port;
    o.max_in_flight = 0;
    o.self_metrics = 0;
    vt_http_server_t *srv;
    if ((rc = vt_http_server_start(reg, &o, &srv)) != 0)
        return compare_fail("vt_http_server_start", rc);
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF) /* the runner closes stdin to stop the server */
        ;
    vt_http_server_stop(srv);
    vt_registry_destroy(reg);
    return 0;
}
#else
int compare_serve(unsigned port) {
    (void)port;
    printf("pending: built without libvitals-http (libmicrohttpd, zlib or GnuTLS missing)\n");
    return 3;
}
#endif
