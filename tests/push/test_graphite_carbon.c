/* test_graphite_carbon.c - the Graphite bridge against Debian's carbon-cache
 * (graphite-carbon) on 127.0.0.1, read back from its whisper files with
 * whisper-fetch (python3-whisper): counters, gauges and histogram buckets
 * land under the expected paths; carbon is stopped and started again while
 * the bridge runs, and the points written after the restart arrive.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
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

static char dir[512];
static char carbon_bin[1024], fetch_bin[1024];
static int line_port;
static pid_t carbon_pid = -1;

static int write_config(void) {
    char path[700], text[4096];
    int pickle = pt_free_port(SOCK_STREAM), query = pt_free_port(SOCK_STREAM);
    line_port = pt_free_port(SOCK_STREAM);
    snprintf(text, sizeof text,
             "[cache]\n"
             "STORAGE_DIR = %s/storage/\n"
             "LOCAL_DATA_DIR = %s/storage/whisper/\n"
             "WHITELISTS_DIR = %s/storage/lists/\n"
             "CONF_DIR = %s/\n"
             "LOG_DIR = %s/log/\n"
             "PID_DIR = %s/\n"
             "USER =\n"
             "ENABLE_TAGS = False\n"
             "MAX_CACHE_SIZE = inf\n"
             "MAX_UPDATES_PER_SECOND = inf\n"
             "MAX_CREATES_PER_MINUTE = inf\n"
             "LINE_RECEIVER_INTERFACE = 127.0.0.1\n"
             "LINE_RECEIVER_PORT = %d\n"
             "ENABLE_UDP_LISTENER = False\n"
             "PICKLE_RECEIVER_INTERFACE = 127.0.0.1\n"
             "PICKLE_RECEIVER_PORT = %d\n"
             "CACHE_QUERY_INTERFACE = 127.0.0.1\n"
             "CACHE_QUERY_PORT = %d\n"
             "LOG_LISTENER_CONNECTIONS = False\n",
             dir, dir, dir, dir, dir, dir, line_port, pickle, query);
    snprintf(path, sizeof path, "%s/carbon.conf", dir);
    if (pt_write_file(path, text) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/storage-schemas.conf", dir);
    return pt_write_file(path, "[everything]\npattern = .*\nretentions = 1s:1h\n");
}

static int start_carbon(void) {
    char conf[700], logdir[700], pidfile[700], log[700];
    snprintf(conf, sizeof conf, "--config=%s/carbon.conf", dir);
    snprintf(logdir, sizeof logdir, "--logdir=%s/log", dir);
    snprintf(pidfile, sizeof pidfile, "--pidfile=%s/carbon.pid", dir);
    snprintf(log, sizeof log, "%s/carbon.out", dir);
    char *args[] = {carbon_bin, conf, logdir, pidfile, "--nodaemon", "start", NULL};
    carbon_pid = pt_spawn(args, log);
    if (pt_wait_tcp(line_port, 20000) != 0) {
        char *l = pt_read_file(log);
        fprintf(stderr, "carbon-cache did not start:\n%s\n", l ? l : "");
        free(l);
        return -1;
    }
    return 0;
}

static void stop_carbon(void) {
    pt_stop(carbon_pid);
    carbon_pid = -1;
    char pidfile[700];
    snprintf(pidfile, sizeof pidfile, "%s/carbon.pid", dir);
    unlink(pidfile); /* carbon refuses to start over a pid file it thinks is live */
}

/* The latest non-empty value whisper-fetch shows for metric path (dots), or
 * NAN. */
static double whisper_last(const char *metric) {
    char file[1400], cmd[3000];
    int n = snprintf(file, sizeof file, "%s/storage/whisper/", dir);
    for (const char *p = metric; *p && n < (int)sizeof file - 5; p++)
        file[n++] = *p == '.' ? '/' : *p;
    snprintf(file + n, sizeof file - (size_t)n, ".wsp");
    if (access(file, R_OK) != 0)
        return NAN;
    snprintf(cmd, sizeof cmd, "'%s' --from=%lld '%s' 2>/dev/null", fetch_bin,
             (long long)time(NULL) - 600, file);
    FILE *f = popen(cmd, "r");
    if (!f)
        return NAN;
    double last = NAN;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (tab && strncmp(tab + 1, "None", 4) != 0)
            last = strtod(tab + 1, NULL);
    }
    pclose(f);
    return last;
}

/* Wait until the metric's latest value is want. */
static int wait_value(const char *metric, double want, long timeout_ms) {
    long long end = pt_now_ms() + timeout_ms;
    double v = NAN;
    do {
        v = whisper_last(metric);
        if (v == want)
            return 0;
        pt_sleep_ms(100);
    } while (pt_now_ms() < end);
    fprintf(stderr, "%s: last value %g, expected %g\n", metric, v, want);
    return -1;
}

static void test_bridge_and_restart(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *jobs;
    vt_counter_series_t *ok;
    vt_gauge_t *temp;
    vt_gauge_series_t *t;
    vt_histogram_t *lat;
    vt_histogram_series_t *h;
    CHECK_INT(vt_counter_create(reg, "jobs", "Jobs.", VT_LABELS("status"), &jobs), 0);
    CHECK_INT(vt_counter_with(jobs, VT_VALUES("ok"), &ok), 0);
    CHECK_INT(vt_gauge_create(reg, "temp", "Temperature.", NULL, &temp), 0);
    CHECK_INT(vt_gauge_with(temp, NULL, &t), 0);
    CHECK_INT(
        vt_histogram_create(reg, "lat_seconds", "Latency.", NULL, (const double[]){0.5}, 1, &lat),
        0);
    CHECK_INT(vt_histogram_with(lat, NULL, &h), 0);
    vt_counter_add(ok, 7);
    vt_gauge_set(t, 21.5);
    vt_histogram_observe(h, 0.25);
    vt_histogram_observe(h, 2);

    vt_graphite_opts_t o;
    vt_graphite_opts_init(&o);
    o.port = line_port;
    o.prefix = "vt.test";
    o.interval_ms = 250;
    o.timeout_ms = 1000;
    o.backoff_min_ms = 50;
    o.backoff_max_ms = 400;
    vt_graphite_t *g = NULL;
    CHECK_INT(vt_graphite_create(reg, &o, &g), 0);
    CHECK_INT(vt_graphite_flush(g), 0);
    CHECK_INT(wait_value("vt.test.jobs_total.status.ok", 7, 10000), 0);
    CHECK_INT(wait_value("vt.test.temp", 21.5, 10000), 0);
    CHECK_INT(wait_value("vt.test.lat_seconds_bucket.le.0_5", 1, 10000), 0);
    CHECK_INT(wait_value("vt.test.lat_seconds_bucket.le._Inf", 2, 10000), 0);
    CHECK_INT(wait_value("vt.test.lat_seconds_count", 2, 10000), 0);
    CHECK_INT(wait_value("vt.test.lat_seconds_sum", 2.25, 10000), 0);

    /* Carbon goes down; the bridge keeps running and nothing blocks. */
    stop_carbon();
    vt_gauge_set(t, 99);
    vt_counter_add(ok, 1);
    pt_sleep_ms(800);
    vt_graphite_stats_t st;
    vt_graphite_stats(g, &st);
    CHECK_INT(st.connected, 0);
    CHECK(st.connect_failures > 0 || st.write_failures > 0);
    printf("carbon down: %llu connect failures, %llu write failures\n",
           (unsigned long long)st.connect_failures, (unsigned long long)st.write_failures);

    /* Carbon comes back on the same port: later points arrive. */
    CHECK_INT(start_carbon(), 0);
    CHECK_INT(wait_value("vt.test.temp", 99, 15000), 0);
    CHECK_INT(wait_value("vt.test.jobs_total.status.ok", 8, 15000), 0);
    vt_graphite_stats(g, &st);
    CHECK(st.connects >= 2);
    printf("after restart: %llu connects, %llu lines sent, %llu dropped\n",
           (unsigned long long)st.connects, (unsigned long long)st.lines_sent,
           (unsigned long long)st.lines_dropped);
    vt_graphite_destroy(g);
    vt_registry_destroy(reg);
}

int main(void) {
    const char *c = pt_which("carbon-cache");
    if (!c)
        SKIP_ALL("carbon-cache is not installed (apt-get install graphite-carbon)");
    snprintf(carbon_bin, sizeof carbon_bin, "%s", c);
    const char *f = pt_which("whisper-fetch");
    if (!f)
        SKIP_ALL("whisper-fetch is not installed (apt-get install python3-whisper)");
    snprintf(fetch_bin, sizeof fetch_bin, "%s", f);
    const char *d = pt_tempdir("carbon");
    if (!d) {
        printf("cannot make a temporary directory\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s", d);
    if (write_config() != 0 || start_carbon() != 0) {
        if (carbon_pid > 0)
            stop_carbon();
        printf("0 passed, 1 failed\n");
        return 1;
    }

    RUN(test_bridge_and_restart);

    CHECK(pt_alive(carbon_pid));
    stop_carbon();
    if (th_tests_failed == 0)
        pt_rmrf(dir);
    else
        fprintf(stderr, "carbon files kept in %s\n", dir);
    TEST_EXIT();
}
