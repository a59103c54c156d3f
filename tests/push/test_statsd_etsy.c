/* test_statsd_etsy.c - the StatsD client against the real etsy statsd daemon
 * (npm "statsd", run with node), whose graphite backend flushes to a TCP line
 * sink in this test: sampled counters arrive scaled, gauges absolute,
 * negative and relative, timers' upper_90, set sizes, prefix and sanitized
 * keys, DogStatsD tags as Graphite tags, and the registry mirror.
 *
 * Usage: push_statsd_etsy <path to node_modules/statsd/stats.js>
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "push_test.h"
#include "vitals.h"
#include "vitals/statsd.h"

static pt_lines_t *sink;
static int statsd_port;

/* Wait for "<path> " in the sink and return its latest value, or with sum the
 * total over every flush (NAN if it never came). */
static double graphite_at(const char *path, long timeout_ms, int sum) {
    char needle[512];
    snprintf(needle, sizeof needle, "\n%s ", path);
    if (pt_lines_wait(sink, needle, timeout_ms) != 0)
        return NAN;
    char *t = pt_lines_text(sink);
    double v = NAN;
    if (sum) {
        pt_sleep_ms(700); /* two more flushes: a straddled batch is complete */
        free(t);
        t = pt_lines_text(sink);
        pt_graphite_sum(t, path, &v);
    } else
        pt_graphite_value(t, path, &v);
    free(t);
    return v;
}

static double graphite(const char *path, long timeout_ms) {
    return graphite_at(path, timeout_ms, 0);
}

static double graphite_sum(const char *path, long timeout_ms) {
    return graphite_at(path, timeout_ms, 1);
}

static vt_statsd_t *client(const char *prefix, const char *const *tags) {
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = statsd_port;
    o.prefix = prefix;
    o.tags = tags;
    /* One datagram per test, sent by vt_statsd_flush: the daemon then sees
     * every line of a test in the same flush. */
    o.max_datagram = 8192;
    o.flush_interval_ms = 60000;
    vt_statsd_t *c = NULL;
    CHECK_INT(vt_statsd_create(&o, &c), 0);
    return c;
}

static void test_counters_and_sampling(void) {
    vt_statsd_t *c = client("vt.", NULL);
    for (int i = 0; i < 10; i++)
        CHECK_INT(vt_statsd_count(c, "plain", 2, 1), 0);
    /* Rate 0.5: each kept line counts for 2 at the daemon. */
    for (int i = 0; i < 400; i++)
        CHECK_INT(vt_statsd_count(c, "sampled", 1, 0.5), 0);
    CHECK_INT(vt_statsd_flush(c), 0);
    CHECK_DBL(graphite_sum("stats.counters.vt.plain.count", 5000), 20);
    double s = graphite_sum("stats.counters.vt.sampled.count", 5000);
    printf("400 increments at rate 0.5 arrived as %g\n", s);
    /* Even, and within 6 sd (sd of 2*Binomial(400, .5) is 20). */
    CHECK(fmod(s, 2) == 0);
    CHECK(s >= 400 - 120 && s <= 400 + 120);
    CHECK_INT(vt_statsd_dropped(c), 0);
    vt_statsd_destroy(c);
}

static void test_gauges(void) {
    vt_statsd_t *c = client("vt.", NULL);
    CHECK_INT(vt_statsd_gauge(c, "level", 10), 0);
    CHECK_INT(vt_statsd_gauge_delta(c, "level", 5), 0);
    CHECK_INT(vt_statsd_gauge_delta(c, "level", -2), 0);
    CHECK_INT(vt_statsd_gauge(c, "below", 3), 0);
    CHECK_INT(vt_statsd_gauge(c, "below", -7.5), 0);
    CHECK_INT(vt_statsd_flush(c), 0);
    CHECK_DBL(graphite("stats.gauges.vt.level", 5000), 13);
    CHECK_DBL(graphite("stats.gauges.vt.below", 5000), -7.5);
    vt_statsd_destroy(c);
}

static void test_timers_and_sets(void) {
    vt_statsd_t *c = client("vt.", NULL);
    for (int i = 1; i <= 100; i++)
        CHECK_INT(vt_statsd_timing(c, "lat", i, 1), 0);
    const char *members[] = {"ann", "bob", "ann", "cy", "bob", "dee"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        CHECK_INT(vt_statsd_set(c, "users", members[i]), 0);
    CHECK_INT(vt_statsd_flush(c), 0);
    CHECK_DBL(graphite("stats.timers.vt.lat.upper_90", 5000), 90);
    CHECK_DBL(graphite("stats.timers.vt.lat.upper", 5000), 100);
    CHECK_DBL(graphite("stats.timers.vt.lat.count", 5000), 100);
    CHECK_DBL(graphite("stats.sets.vt.users.count", 5000), 4);
    vt_statsd_destroy(c);
}

static void test_sanitized_keys_and_tags(void) {
    vt_statsd_t *c = client("my app/", NULL);
    CHECK_INT(vt_statsd_count(c, "GET /api/v1:users|x@y", 1, 1), 0);
    CHECK_INT(vt_statsd_flush(c), 0);
    CHECK_DBL(graphite("stats.counters.my_app-GET_-api-v1usersxy.count", 5000), 1);
    vt_statsd_destroy(c);

    /* DogStatsD tags become Graphite tags (";k=v") at this daemon. */
    c = client("vt.", VT_VALUES("env:test"));
    vt_statsd_line_t l = {
        .key = "tagged", .type = VT_STATSD_COUNTER, .value = 3, .tags = VT_VALUES("code:200")};
    CHECK_INT(vt_statsd_send(c, &l), 0);
    CHECK_INT(vt_statsd_flush(c), 0);
    CHECK_DBL(graphite("stats.counters.vt.tagged.count;env=test;code=200", 5000), 3);
    vt_statsd_destroy(c);
}

static void test_mirror(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_counter_t *jobs;
    vt_counter_series_t *ok;
    vt_gauge_t *depth;
    vt_gauge_series_t *d;
    CHECK_INT(vt_counter_create(reg, "jobs", "Jobs.", VT_LABELS("status"), &jobs), 0);
    CHECK_INT(vt_counter_with(jobs, VT_VALUES("ok"), &ok), 0);
    CHECK_INT(vt_gauge_create(reg, "depth", "Depth.", NULL, &depth), 0);
    CHECK_INT(vt_gauge_with(depth, NULL, &d), 0);
    vt_counter_add(ok, 7);
    vt_gauge_set(d, 12);
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = statsd_port;
    o.prefix = "mirror.";
    o.flush_interval_ms = 50;
    o.mirror = reg;
    o.mirror_interval_ms = 100000; /* only the last mirror, at destroy */
    vt_statsd_t *c = NULL;
    CHECK_INT(vt_statsd_create(&o, &c), 0);
    vt_statsd_destroy(c);
    CHECK_DBL(graphite_sum("stats.counters.mirror.jobs_total.status.ok.count", 5000), 7);
    CHECK_DBL(graphite("stats.gauges.mirror.depth", 5000), 12);
    vt_registry_destroy(reg);
}

int main(int argc, char **argv) {
    if (argc < 2)
        SKIP_ALL("usage: push_statsd_etsy <stats.js>");
    const char *node = pt_which("node");
    if (!node)
        SKIP_ALL("node is not installed (apt-get install nodejs)");
    char node_path[4096];
    snprintf(node_path, sizeof node_path, "%s", node);
    if (access(argv[1], R_OK) != 0)
        SKIP_ALL("npm statsd is not installed (tools/install-deps.sh runs npm install)");

    const char *dir = pt_tempdir("statsd");
    CHECK(dir != NULL);
    if (!dir)
        TEST_EXIT();
    char tmp[4096], cfg[4200], log[4200];
    snprintf(tmp, sizeof tmp, "%s", dir);
    snprintf(cfg, sizeof cfg, "%s/config.js", tmp);
    snprintf(log, sizeof log, "%s/statsd.log", tmp);

    sink = pt_lines_start(0);
    statsd_port = pt_free_port(SOCK_DGRAM);
    int mgmt_port = pt_free_port(SOCK_STREAM);
    char conf[2048];
    snprintf(conf, sizeof conf,
             "{\n  port: %d,\n  address: \"127.0.0.1\",\n  mgmt_port: %d,\n"
             "  mgmt_address: \"127.0.0.1\",\n  flushInterval: 300,\n"
             "  backends: [\"./backends/graphite\"],\n  graphiteHost: \"127.0.0.1\",\n"
             "  graphitePort: %d,\n  graphite: { legacyNamespace: false },\n"
             "  deleteIdleStats: true\n}\n",
             statsd_port, mgmt_port, pt_lines_port(sink));
    CHECK_INT(pt_write_file(cfg, conf), 0);
    char *args[] = {node_path, argv[1], cfg, NULL};
    pid_t pid = pt_spawn(args, log);
    if (pt_wait_tcp(mgmt_port, 15000) != 0) {
        char *l = pt_read_file(log);
        fprintf(stderr, "statsd did not start:\n%s\n", l ? l : "(no log)");
        free(l);
        pt_stop(pid);
        CHECK(0);
        TEST_EXIT();
    }

    RUN(test_counters_and_sampling);
    RUN(test_gauges);
    RUN(test_timers_and_sets);
    RUN(test_sanitized_keys_and_tags);
    RUN(test_mirror);

    CHECK(pt_alive(pid));
    pt_stop(pid);
    pt_lines_stop(sink);
    if (th_tests_failed == 0)
        pt_rmrf(tmp);
    else
        fprintf(stderr, "statsd files kept in %s\n", tmp);
    TEST_EXIT();
}
