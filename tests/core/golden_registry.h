/* golden_registry.h - the deterministic registry behind the exposition golden files.
 *
 * golden_registry_build() fills a new registry with one of everything the
 * writers print: counters with and without labels, a "_total" name given and
 * omitted, const labels, float adds, a 64-bit integer count, gauges with
 * special values and a callback, histograms with default and custom buckets,
 * a summary, an info metric, units, a family past its series limit, refused
 * values (self-metrics), a collector's families and hostile label values and
 * HELP texts. Every value is fixed, so the output is the same on every run
 * except for the _created timestamps. Names and HELP texts are chosen to pass
 * `promtool check metrics` lint (counters end in _total, base units, HELP on
 * every family). Used from one thread.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_GOLDEN_REGISTRY_H
#define VT_TEST_GOLDEN_REGISTRY_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "vitals.h"

/* Label values that need escaping or look like syntax, for the golden files. */
static const char *const golden_hostile_values[] = {
    "quote\"inside",
    "back\\slash",
    "new\nline",
    "brace}",
    "hash # sign",
    "a=b,c=d",
    "trailing\\",
    "\\n",
    "\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x8e\x89",
    "",
};
#define GOLDEN_NHOSTILE (sizeof golden_hostile_values / sizeof golden_hostile_values[0])

#define GOLDEN_HOSTILE_HELP "Backslash \\ quote \" newline\nand a literal \\n, {braces} # too."

static inline double golden_callback(void *ud) {
    return *(const double *)ud;
}

static const double golden_callback_value = 42.5;

static inline int golden_collect(vt_emitter_t *e, void *ud) {
    (void)ud;
    int rc = 0;
    rc |= vt_emit_family(e, VT_COUNTER, "golden_collected_jobs", "Jobs taken from each queue.",
                         NULL, VT_LABELS("queue"));
    rc |= vt_emit_value(e, VT_VALUES("high"), 17);
    rc |= vt_emit_value(e, VT_VALUES("low \"batch\""), 2.5);

    rc |= vt_emit_family(e, VT_GAUGE, "golden_collected_pool_size", GOLDEN_HOSTILE_HELP, NULL,
                         VT_LABELS("pool"));
    rc |= vt_emit_value(e, VT_VALUES("a\\b\nc"), 8);

    static const double qs[] = {0, 0.5, 0.99, 1};
    static const double qv[] = {0.001, 0.25, 0.75, 1.5};
    rc |= vt_emit_family(e, VT_SUMMARY, "golden_collected_rtt_seconds", "Round trips to each peer.",
                         "seconds", VT_LABELS("peer"));
    rc |= vt_emit_summary(e, VT_VALUES("db-1"), 4, 2.501, qs, qv, 4);

    static const double bounds[] = {0.1, 1, 100000};
    static const uint64_t cum[] = {1, 3, 3};
    rc |= vt_emit_family(e, VT_HISTOGRAM, "golden_collected_wait_seconds",
                         "Time jobs waited in a queue.", "seconds", NULL);
    rc |= vt_emit_histogram(e, NULL, bounds, cum, 3, 4, 2.25);

    rc |= vt_emit_family(e, VT_UNTYPED, "golden_collected_legacy", "A value of unknown type.", NULL,
                         NULL);
    rc |= vt_emit_value(e, NULL, -7.25);

    rc |= vt_emit_family(e, VT_INFO, "golden_collected_host", "The host the jobs run on.", NULL,
                         VT_LABELS("hostname"));
    rc |= vt_emit_value(e, VT_VALUES("node-\xc3\xa9"), 1);
    return rc ? -1 : 0;
}

/* Report a failed setup call; returns rc. */
static inline int golden_check(int rc, const char *what) {
    if (rc != 0)
        fprintf(stderr, "golden registry: %s: %s\n", what, vt_strerror(rc));
    return rc;
}

#define GOLDEN_TRY(call)                                                                           \
    do {                                                                                           \
        int golden_rc_ = golden_check((call), #call);                                              \
        if (golden_rc_) {                                                                          \
            vt_registry_destroy(reg);                                                              \
            return golden_rc_;                                                                     \
        }                                                                                          \
    } while (0)

static inline int golden_registry_build(vt_registry_t **out_reg) {
    vt_registry_t *reg = NULL;
    int rc = golden_check(vt_registry_create(&reg), "vt_registry_create");
    if (rc)
        return rc;
    vt_metric_opts_t o;

    /* A counter without labels, "_total" given; one refused negative add. */
    vt_counter_t *requests;
    vt_counter_series_t *cs;
    GOLDEN_TRY(
        vt_counter_create(reg, "golden_requests_total", "Requests handled.", NULL, &requests));
    GOLDEN_TRY(vt_counter_with(requests, NULL, &cs));
    vt_counter_inc(cs);
    vt_counter_inc(cs);
    vt_counter_add_u64(cs, 40);
    vt_counter_add(cs, -1);

    /* Labels and const labels, "_total" omitted from the name. */
    vt_counter_t *http;
    vt_metric_opts_init(&o);
    o.name = "golden_http_requests";
    o.help = "HTTP requests by method and status code.";
    o.label_names = VT_LABELS("method", "code");
    o.const_labels = VT_LABELS("service", "api", "zone", "eu \"west\"");
    GOLDEN_TRY(vt_counter_create_opts(reg, &o, &http));
    GOLDEN_TRY(vt_counter_with(http, VT_VALUES("GET", "200"), &cs));
    vt_counter_add_u64(cs, 1027);
    GOLDEN_TRY(vt_counter_with(http, VT_VALUES("POST", "500"), &cs));
    vt_counter_add_u64(cs, 3);
    GOLDEN_TRY(vt_counter_with(http, VT_VALUES("DELETE", "404"), &cs));

    /* Float adds with a unit, and one refused NaN add. */
    vt_counter_t *bytes;
    vt_metric_opts_init(&o);
    o.name = "golden_processed_bytes_total";
    o.help = "Bytes processed, in fractions.";
    o.unit = "bytes";
    o.label_names = VT_LABELS("kind");
    GOLDEN_TRY(vt_counter_create_opts(reg, &o, &bytes));
    GOLDEN_TRY(vt_counter_with(bytes, VT_VALUES("sum"), &cs));
    vt_counter_add(cs, 0.1);
    vt_counter_add(cs, 0.2);
    GOLDEN_TRY(vt_counter_with(bytes, VT_VALUES("mixed"), &cs));
    vt_counter_inc(cs);
    vt_counter_add(cs, 1.75);
    vt_counter_add(cs, NAN);
    GOLDEN_TRY(vt_counter_with(bytes, VT_VALUES("big"), &cs));
    vt_counter_add_u64(cs, (uint64_t)1 << 60);

    /* Gauges: a unit, special values, a callback. */
    vt_gauge_t *temp, *ratio, *cb;
    vt_gauge_series_t *gs;
    vt_metric_opts_init(&o);
    o.name = "golden_temperature_celsius";
    o.help = "Temperature of the room.";
    o.unit = "celsius";
    GOLDEN_TRY(vt_gauge_create_opts(reg, &o, &temp));
    GOLDEN_TRY(vt_gauge_with(temp, NULL, &gs));
    vt_gauge_set(gs, -3.5);
    GOLDEN_TRY(vt_gauge_create(reg, "golden_ratio", "Ratios that are hard to print.",
                               VT_LABELS("case"), &ratio));
    static const struct {
        const char *name;
        double v;
    } ratios[] = {{"zero", 0},           {"neg_zero", -0.0},     {"third", 1.0 / 3},
                  {"million", 1e6},      {"tiny", 1e-5},         {"nan", NAN},
                  {"pos_inf", INFINITY}, {"neg_inf", -INFINITY}, {"max", 1.7976931348623157e308},
                  {"min", 5e-324}};
    for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++) {
        GOLDEN_TRY(vt_gauge_with(ratio, VT_VALUES(ratios[i].name), &gs));
        vt_gauge_set(gs, ratios[i].v);
    }
    GOLDEN_TRY(
        vt_gauge_create(reg, "golden_callback_value", "A value read at scrape time.", NULL, &cb));
    GOLDEN_TRY(vt_gauge_with(cb, NULL, &gs));
    GOLDEN_TRY(vt_gauge_set_callback(gs, golden_callback, (void *)&golden_callback_value));

    /* Histograms: default buckets with labels (one refused NaN), custom buckets. */
    vt_histogram_t *dur, *size;
    vt_histogram_series_t *hs;
    vt_metric_opts_init(&o);
    o.name = "golden_request_duration_seconds";
    o.help = "Time to answer a request.";
    o.unit = "seconds";
    o.label_names = VT_LABELS("route");
    GOLDEN_TRY(vt_histogram_create_opts(reg, &o, &dur));
    GOLDEN_TRY(vt_histogram_with(dur, VT_VALUES("/users/:id"), &hs));
    static const double obs[] = {0.003, 0.005, 0.02, 0.3, 0.3, 7, 12};
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
        vt_histogram_observe(hs, obs[i]);
    vt_histogram_observe(hs, NAN);
    GOLDEN_TRY(vt_histogram_with(dur, VT_VALUES("/idle"), &hs));
    static const double sizes[] = {100, 1000, 1e6, 1.5e7};
    GOLDEN_TRY(vt_histogram_create(reg, "golden_payload_size_bytes", "Size of request payloads.",
                                   NULL, sizes, 4, &size));
    GOLDEN_TRY(vt_histogram_with(size, NULL, &hs));
    vt_histogram_observe(hs, 100);
    vt_histogram_observe(hs, 5000);
    vt_histogram_observe(hs, 2e7);

    /* A summary. */
    vt_summary_t *rpc;
    vt_summary_series_t *ss;
    vt_metric_opts_init(&o);
    o.name = "golden_rpc_latency_seconds";
    o.help = "Latency of outgoing calls.";
    o.unit = "seconds";
    GOLDEN_TRY(vt_summary_create_opts(reg, &o, &rpc));
    GOLDEN_TRY(vt_summary_with(rpc, NULL, &ss));
    vt_summary_observe(ss, 0.125);
    vt_summary_observe(ss, 0.25);

    /* An info metric with a hostile value. */
    vt_info_t *build;
    GOLDEN_TRY(vt_info_create(reg, "golden_build", "Build of the service.",
                              VT_LABELS("version", "revision"), VT_VALUES("1.2.3", "abc\"def"),
                              &build));

    /* Past the series limit: the third label set lands in the overflow series. */
    vt_counter_t *limited;
    vt_metric_opts_init(&o);
    o.name = "golden_limited_total";
    o.help = "Logins by user, at most two users.";
    o.label_names = VT_LABELS("user");
    o.max_series = 2;
    GOLDEN_TRY(vt_counter_create_opts(reg, &o, &limited));
    static const char *const users[] = {"ann", "bob", "cy", "dee"};
    for (size_t i = 0; i < 4; i++) {
        GOLDEN_TRY(vt_counter_with(limited, VT_VALUES(users[i]), &cs));
        vt_counter_inc(cs);
    }

    /* Hostile label values and HELP text. */
    vt_gauge_t *hostile;
    vt_metric_opts_init(&o);
    o.name = "golden_hostile";
    o.help = GOLDEN_HOSTILE_HELP;
    o.label_names = VT_LABELS("value");
    o.const_labels = VT_LABELS("const", "c\"o\\n\nst");
    GOLDEN_TRY(vt_gauge_create_opts(reg, &o, &hostile));
    for (size_t i = 0; i < GOLDEN_NHOSTILE; i++) {
        GOLDEN_TRY(vt_gauge_with(hostile, VT_VALUES(golden_hostile_values[i]), &gs));
        vt_gauge_set(gs, (double)i);
    }

    GOLDEN_TRY(vt_registry_add_collector(
        reg,
        VT_LABELS("golden_collected_jobs", "golden_collected_pool_size",
                  "golden_collected_rtt_seconds", "golden_collected_wait_seconds",
                  "golden_collected_legacy", "golden_collected_host"),
        golden_collect, NULL, NULL, NULL));
    *out_reg = reg;
    return 0;
}

#endif
