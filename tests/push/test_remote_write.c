/* test_remote_write.c - remote write 1.0 into a real Prometheus started with
 * --web.enable-remote-write-receiver on 127.0.0.1, read back through its
 * query API: every metric type with the writer's labels, a series' own label
 * winning over the writer's, later values, a 404 that is not retried, and a
 * Prometheus that stops and starts again (the kept snapshot arrives).
 *
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "push_http.h"
#include "push_test.h"
#include "vitals.h"
#include "vitals/remote_write.h"

static char dir[512], prom_bin[1024];
static int port;
static pid_t prom_pid = -1;
static char write_url[128];

/* GET path on Prometheus; malloc'd body, or NULL; *status gets the code. */
static char *get(const char *path, long *status) {
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    return pt_http_get(url, status);
}

/* The instant query's JSON for expr. */
static char *query(const char *expr) {
    CURL *h = curl_easy_init();
    char *esc = curl_easy_escape(h, expr, 0);
    char path[1024];
    snprintf(path, sizeof path, "/api/v1/query?query=%s", esc);
    curl_free(esc);
    curl_easy_cleanup(h);
    long status;
    char *r = get(path, &status);
    return r;
}

/* Does the query's result hold every needle? Polls for up to 5 s. */
static int query_has(const char *expr, const char *const *needles) {
    char *r = NULL;
    for (int i = 0; i < 50; i++) {
        free(r);
        r = query(expr);
        int all = r != NULL;
        for (const char *const *n = needles; all && *n; n++)
            all = strstr(r, *n) != NULL;
        if (all) {
            free(r);
            return 1;
        }
        pt_sleep_ms(100);
    }
    fprintf(stderr, "query %s gave: %s\n", expr, r ? r : "(nothing)");
    free(r);
    return 0;
}

static int start_prometheus(void) {
    char cfg[700], data[700], listen[64], log[700];
    snprintf(cfg, sizeof cfg, "--config.file=%s/prometheus.yml", dir);
    snprintf(data, sizeof data, "--storage.tsdb.path=%s/data", dir);
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", port);
    snprintf(log, sizeof log, "%s/prometheus.log", dir);
    char *args[] = {prom_bin, cfg, data, listen, "--web.enable-remote-write-receiver", NULL};
    prom_pid = pt_spawn(args, log);
    for (int i = 0; i < 300; i++) {
        long status = 0;
        char *r = get("/-/ready", &status);
        free(r);
        if (status == 200)
            return 0;
        pt_sleep_ms(100);
    }
    char *l = pt_read_file(log);
    fprintf(stderr, "prometheus did not become ready:\n%s\n", l ? l : "");
    free(l);
    return -1;
}

static void stop_prometheus(void) {
    pt_stop(prom_pid);
    prom_pid = -1;
}

typedef struct fixture {
    vt_registry_t *reg;
    vt_counter_series_t *ok;
    vt_gauge_series_t *temp;
    vt_histogram_series_t *lat;
} fixture_t;

static fixture_t make_registry(void) {
    fixture_t f;
    CHECK_INT(vt_registry_create(&f.reg), 0);
    vt_counter_t *jobs;
    vt_gauge_t *temp, *own;
    vt_histogram_t *lat;
    vt_summary_t *rpc;
    vt_info_t *info;
    vt_gauge_series_t *own_s;
    vt_summary_series_t *rs;
    CHECK_INT(vt_counter_create(f.reg, "rw_jobs", "Jobs.", VT_LABELS("status"), &jobs), 0);
    CHECK_INT(vt_counter_with(jobs, VT_VALUES("ok"), &f.ok), 0);
    CHECK_INT(vt_gauge_create(f.reg, "rw_temp", "Temperature.", NULL, &temp), 0);
    CHECK_INT(vt_gauge_with(temp, NULL, &f.temp), 0);
    CHECK_INT(vt_histogram_create(f.reg, "rw_lat_seconds", "Latency.", NULL, (const double[]){0.5},
                                  1, &lat),
              0);
    CHECK_INT(vt_histogram_with(lat, NULL, &f.lat), 0);
    CHECK_INT(vt_summary_create(f.reg, "rw_rpc_seconds", "RPC.", NULL, &rpc), 0);
    CHECK_INT(vt_summary_with(rpc, NULL, &rs), 0);
    vt_summary_observe(rs, 4);
    CHECK_INT(
        vt_info_create(f.reg, "rw_build", "Build.", VT_LABELS("version"), VT_VALUES("1.0"), &info),
        0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "rw_own_job";
    o.help = "Carries its own job label.";
    o.const_labels = VT_LABELS("job", "own");
    CHECK_INT(vt_gauge_create_opts(f.reg, &o, &own), 0);
    CHECK_INT(vt_gauge_with(own, NULL, &own_s), 0);
    vt_gauge_set(own_s, 5);
    vt_counter_add(f.ok, 7);
    vt_gauge_set(f.temp, -3.5);
    vt_histogram_observe(f.lat, 0.25);
    vt_histogram_observe(f.lat, 2);
    /* Every test sends the same series to the same Prometheus: a snapshot in
     * the millisecond of the previous test's last one, with other values,
     * would be refused as a duplicate sample. */
    pt_sleep_ms(5);
    return f;
}

static vt_remote_write_t *writer(vt_registry_t *reg, const char *url) {
    vt_remote_write_opts_t o;
    vt_remote_write_opts_init(&o);
    o.url = url;
    o.labels = VT_LABELS("job", "vitals_test", "instance", "host-1");
    o.interval_ms = 60000;
    o.timeout_ms = 3000;
    o.backoff_min_ms = 50;
    o.backoff_max_ms = 200;
    vt_remote_write_t *w = NULL;
    CHECK_INT(vt_remote_write_create(reg, &o, &w), 0);
    return w;
}

static void test_values_arrive(void) {
    fixture_t f = make_registry();
    vt_remote_write_t *w = writer(f.reg, write_url);
    CHECK_INT(vt_remote_write_flush(w), 0);
    CHECK(query_has("rw_jobs_total", VT_VALUES("\"job\":\"vitals_test\"", "\"instance\":\"host-1\"",
                                               "\"status\":\"ok\"", ",\"7\"]")));
    CHECK(query_has("rw_temp", VT_VALUES(",\"-3.5\"]")));
    CHECK(query_has("rw_lat_seconds_bucket{le=\"0.5\"}", VT_VALUES(",\"1\"]")));
    CHECK(query_has("rw_lat_seconds_bucket{le=\"+Inf\"}", VT_VALUES(",\"2\"]")));
    CHECK(query_has("rw_lat_seconds_count", VT_VALUES(",\"2\"]")));
    CHECK(query_has("rw_lat_seconds_sum", VT_VALUES(",\"2.25\"]")));
    CHECK(query_has("rw_rpc_seconds_count", VT_VALUES(",\"1\"]")));
    CHECK(query_has("rw_rpc_seconds_sum", VT_VALUES(",\"4\"]")));
    CHECK(query_has("rw_build_info", VT_VALUES("\"version\":\"1.0\"", ",\"1\"]")));
    /* The series' own label wins over the writer's. */
    CHECK(query_has("rw_own_job", VT_VALUES("\"job\":\"own\"", "\"instance\":\"host-1\"")));

    /* A later snapshot's values replace them. */
    vt_counter_add(f.ok, 5);
    vt_gauge_set(f.temp, 18);
    pt_sleep_ms(5); /* a new millisecond timestamp */
    CHECK_INT(vt_remote_write_flush(w), 0);
    CHECK(query_has("rw_jobs_total", VT_VALUES(",\"12\"]")));
    CHECK(query_has("rw_temp", VT_VALUES(",\"18\"]")));
    vt_remote_write_stats_t st;
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.requests_ok, 2);
    CHECK_INT(st.snapshots, 2);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.last_status, 204);
    CHECK(st.samples_sent >= 2 * 12);
    vt_remote_write_destroy(w);
    vt_registry_destroy(f.reg);
}

static void test_refused_not_retried(void) {
    fixture_t f = make_registry();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/no-such-endpoint", port);
    vt_remote_write_t *w = writer(f.reg, url);
    CHECK_INT(vt_remote_write_flush(w), VT_EHTTP);
    vt_remote_write_stats_t st;
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.last_status, 404);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.snapshots_dropped, 1);
    char err[512];
    vt_remote_write_last_error(w, err, sizeof err);
    CHECK_CONTAINS(err, "HTTP 404");
    vt_remote_write_destroy(w);
    vt_registry_destroy(f.reg);
}

static void test_receiver_restart(void) {
    fixture_t f = make_registry();
    vt_remote_write_t *w = writer(f.reg, write_url);
    CHECK_INT(vt_remote_write_flush(w), 0);
    stop_prometheus();
    vt_gauge_set(f.temp, 42);
    CHECK_INT(vt_remote_write_flush(w), VT_ENET);
    vt_remote_write_stats_t st;
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.pending, 1);
    char err[512];
    vt_remote_write_last_error(w, err, sizeof err);
    printf("while down: %s\n", err);
    vt_gauge_set(f.temp, 43);
    CHECK_INT(start_prometheus(), 0);
    /* The kept snapshot (42) goes first, then a fresh one (43). */
    CHECK_INT(vt_remote_write_flush(w), 0);
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.pending, 0);
    /* Every sample of the last minutes, in time order: 42 before 43. */
    CHECK(query_has("rw_temp{instance=\"host-1\"}[5m]",
                    VT_VALUES(",\"-3.5\"],", ",\"42\"],", ",\"43\"]]")));
    vt_remote_write_destroy(w);
    vt_registry_destroy(f.reg);
}

static void test_bad_options(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_remote_write_opts_t o;
    vt_remote_write_t *w = NULL;
    vt_remote_write_opts_init(&o);
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL); /* no url */
    o.url = "ftp://x/";
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL);
    o.url = write_url;
    CHECK_INT(vt_remote_write_create(NULL, &o, &w), VT_EINVAL);
    CHECK_INT(vt_remote_write_create(reg, NULL, &w), VT_EINVAL);
    CHECK_INT(vt_remote_write_create(reg, &o, NULL), VT_EINVAL);
    o.labels = VT_LABELS("job");
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL);
    o.labels = VT_LABELS("__name__", "x");
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_ELABELNAME);
    o.labels = VT_LABELS("bad-name", "x");
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_ELABELNAME);
    o.labels = VT_LABELS("job", "\xff");
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EUTF8);
    o.labels = NULL;
    o.interval_ms = 0;
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL);
    vt_remote_write_opts_init(&o);
    o.url = write_url;
    o.max_pending = 0;
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL);
    CHECK(w == NULL);
    CHECK_INT(vt_remote_write_flush(NULL), VT_EINVAL);
    vt_remote_write_destroy(NULL);
    vt_registry_destroy(reg);
}

int main(void) {
    {
        vt_registry_t *probe = NULL;
        vt_remote_write_t *w = NULL;
        vt_remote_write_opts_t o;
        vt_registry_create(&probe);
        vt_remote_write_opts_init(&o);
        o.url = "http://127.0.0.1:1/";
        int rc = vt_remote_write_create(probe, &o, &w);
        vt_remote_write_destroy(w);
        vt_registry_destroy(probe);
        if (rc == VT_EUNSUPPORTED)
            SKIP_ALL("built without remote write (protobuf-c, protoc-c or snappy missing)");
    }
    const char *p = pt_which("prometheus");
    if (!p)
        SKIP_ALL("prometheus is not installed (apt-get install prometheus)");
    snprintf(prom_bin, sizeof prom_bin, "%s", p);
    const char *d = pt_tempdir("remote-write");
    if (!d) {
        printf("cannot make a temporary directory\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s", d);
    char cfg[700];
    snprintf(cfg, sizeof cfg, "%s/prometheus.yml", dir);
    CHECK_INT(pt_write_file(cfg, "global:\n  scrape_interval: 1h\n"), 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    port = pt_free_port(SOCK_STREAM);
    snprintf(write_url, sizeof write_url, "http://127.0.0.1:%d/api/v1/write", port);
    if (start_prometheus() != 0) {
        stop_prometheus();
        printf("0 passed, 1 failed\n");
        return 1;
    }

    RUN(test_values_arrive);
    RUN(test_refused_not_retried);
    RUN(test_receiver_restart);
    RUN(test_bad_options);

    CHECK(pt_alive(prom_pid));
    stop_prometheus();
    curl_global_cleanup();
    if (th_tests_failed == 0)
        pt_rmrf(dir);
    else
        fprintf(stderr, "prometheus files kept in %s\n", dir);
    TEST_EXIT();
}
