/* test_top_calc.c - `vitals top` figures from two fixture scrapes equal hand-computed values.
 *
 * tests/data/cli/top/a.prom and b.prom are two scrapes of one service ten
 * seconds apart (b.om is b in OpenMetrics). Between them: route /a grows by
 * 100 requests, 20 of them 500s; /b gains a new series of five 503s; /c
 * restarts (1000 -> 30, a reset); /d does not move; the Redis client's GET
 * gains 100 calls, 10 of them errors. Every expected figure below is worked
 * out by hand from those numbers, with Prometheus' histogram_quantile()
 * rules. Also: the quantile function's edge cases, bad inputs (NaN
 * counters, time going backwards, no RED family), the order and filter of
 * lines, number formats, URLs, and scrape failures as status text.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/top.h"
#include "cli_run.h"
#include "harness.h"

#define DATA VT_TEST_DATA_DIR "/cli/top/"

static vt_doc_t *load(const char *path) {
    size_t len;
    char *text = read_text(path, &len);
    vt_doc_t *doc = NULL;
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        return NULL;
    }
    vt_parse_opts_t o;
    vt_parse_opts_init(&o);
    o.format = vt_parse_guess_format(text, len, NULL);
    o.mode = VT_PARSE_LENIENT;
    if (vt_parse(text, len, &o, &doc, NULL) != 0) {
        fprintf(stderr, "cannot parse %s\n", path);
    }
    free(text);
    return doc;
}

static vt_doc_t *parse_text(const char *text) {
    vt_doc_t *doc = NULL;
    vt_parse_opts_t o;
    vt_parse_opts_init(&o);
    o.mode = VT_PARSE_LENIENT;
    CHECK_INT(vt_parse(text, strlen(text), &o, &doc, NULL), 0);
    return doc;
}

static int update_file(vt__top_state_t *st, const char *path, double t) {
    vt_doc_t *doc = load(path);
    if (!doc) {
        return -1;
    }
    int rc = vt__top_state_update(st, doc, t);
    vt_doc_free(doc);
    return rc;
}

static const vt__top_route_t *route(const vt__top_state_t *st, const char *family,
                                    const char *name) {
    for (size_t i = 0; i < st->route_count; i++) {
        const vt__top_route_t *r = &st->routes[i];
        if (strcmp(st->families[r->family].name, family) == 0 && strcmp(r->name, name) == 0) {
            return r;
        }
    }
    fprintf(stderr, "no route %s %s\n", family, name);
    return NULL;
}

/* ---- histogram_quantile ---------------------------------------------------------- */

static void test_quantile_rules(void) {
    const double inf = INFINITY;
    double le[] = {0.1, 0.5, 1, inf};
    double c[] = {40, 70, 90, 100};
    CHECK_DBL(vt__top_quantile(0.5, le, c, 4), 0.1 + (0.5 - 0.1) * (10.0 / 30.0));
    CHECK_DBL(vt__top_quantile(0.9, le, c, 4), 1.0);
    CHECK_DBL(vt__top_quantile(0.99, le, c, 4), 1.0); /* in +Inf: the highest finite bound */
    CHECK_DBL(vt__top_quantile(0.2, le, c, 4), 0.1 * (20.0 / 40.0)); /* lowest: from 0 */
    CHECK_DBL(vt__top_quantile(-0.1, le, c, 4), -inf);
    CHECK_DBL(vt__top_quantile(1.1, le, c, 4), inf);
    CHECK(isnan(vt__top_quantile(NAN, le, c, 4)));

    double zero[] = {0, 0, 0, 0};
    CHECK(isnan(vt__top_quantile(0.5, le, zero, 4))); /* no observations */
    double no_inf[] = {0.1, 0.5, 1};
    CHECK(isnan(vt__top_quantile(0.5, no_inf, c, 3))); /* the last bucket must be +Inf */
    double only_inf[] = {inf};
    CHECK(isnan(vt__top_quantile(0.5, only_inf, c, 1))); /* fewer than two buckets */

    /* A first bound at or below zero is returned as is. */
    double neg[] = {-1, 0, 1, inf};
    double nc[] = {10, 10, 20, 20};
    CHECK_DBL(vt__top_quantile(0.25, neg, nc, 4), -1);
    CHECK_DBL(vt__top_quantile(0.75, neg, nc, 4), 0 + 1 * (5.0 / 10.0));

    /* Counts going down are raised to the largest before them. */
    double bumpy[] = {10, 5, 20, 20};
    CHECK_DBL(vt__top_quantile(0.75, le, bumpy, 4), 0.5 + 0.5 * (5.0 / 10.0));
    CHECK_DBL(vt__top_quantile(0.5, le, bumpy, 4), 0.1); /* rank 10 reached in the first */
}

/* ---- rates, errors, quantiles from two scrapes -------------------------------------------- */

static void check_b_figures(const vt__top_state_t *st) {
    CHECK(st->have_rates);
    CHECK_DBL(st->interval, 10.0);
    CHECK_INT(st->family_count, 2);
    const vt__top_route_t *r = route(st, "http_request", "GET /a");
    CHECK(r != NULL);
    if (r) {
        CHECK(r->present);
        CHECK_DBL(r->rate, 100.0 / 10.0);
        CHECK_DBL(r->errors, 20.0 / 10.0);
        CHECK_DBL(r->error_ratio, 20.0 / 100.0);
        CHECK_DBL(r->p50, 0.1 + (0.5 - 0.1) * (10.0 / 30.0));
        CHECK_DBL(r->p90, 1.0);
        CHECK_DBL(r->p99, 1.0);
        CHECK_STR(r->method, "GET");
        CHECK_STR(r->route, "/a");
    }
    /* A new series (503s) counts from 0; the 201s did not move. */
    r = route(st, "http_request", "POST /b");
    if (r) {
        CHECK_DBL(r->rate, 0.5);
        CHECK_DBL(r->errors, 0.5);
        CHECK_DBL(r->error_ratio, 1.0);
        CHECK_DBL(r->p50, 1.0); /* every observation in +Inf */
        CHECK_DBL(r->p99, 1.0);
    }
    /* A reset: 1000 -> 30 counts as 30, never negative. */
    r = route(st, "http_request", "GET /c");
    if (r) {
        CHECK_DBL(r->rate, 3.0);
        CHECK_DBL(r->errors, 0.0);
        CHECK_DBL(r->error_ratio, 0.0);
        CHECK_DBL(r->p50, 0.1 + (0.5 - 0.1) * (5.0 / 10.0));
        CHECK_DBL(r->p90, 0.5 + (1 - 0.5) * (7.0 / 10.0));
        CHECK_DBL(r->p99, 0.5 + (1 - 0.5) * ((0.99 * 30 - 20) / 10.0));
    }
    /* No requests: rate 0, no ratio, no quantiles. */
    r = route(st, "http_request", "GET /d");
    if (r) {
        CHECK(r->present);
        CHECK_DBL(r->rate, 0.0);
        CHECK_DBL(r->errors, 0.0);
        CHECK(isnan(r->error_ratio));
        CHECK(isnan(r->p50) && isnan(r->p90) && isnan(r->p99));
    }
    /* The Redis client: status="error" is the error rule, operation the route. */
    r = route(st, "redis_call", "GET");
    if (r) {
        CHECK_DBL(r->rate, 10.0);
        CHECK_DBL(r->errors, 1.0);
        CHECK_DBL(r->error_ratio, 0.1);
        CHECK_DBL(r->p50, 0.001 * (50.0 / 60.0));
        CHECK_DBL(r->p90, 0.001 + (0.01 - 0.001) * (30.0 / 30.0));
        CHECK_DBL(r->p99, 0.01);
        CHECK(r->method == NULL);
        CHECK_STR(r->route, "GET");
    }
    r = route(st, "redis_call", "SET");
    if (r) {
        CHECK_DBL(r->rate, 0.0);
        CHECK(isnan(r->error_ratio));
    }
    CHECK_DBL(st->sat.cpu, 0.5 / 10.0);
    CHECK_DBL(st->sat.resident, 2000000);
    CHECK_DBL(st->sat.open_fds, 10);
    CHECK_DBL(st->sat.max_fds, 1024);
    CHECK_INT(st->sat.in_flight_count, 1);
    if (st->sat.in_flight_count == 1) {
        CHECK_STR(st->sat.in_flight[0].name, "http_requests_in_flight");
        CHECK_DBL(st->sat.in_flight[0].value, 3); /* summed over its series */
    }
}

static void test_two_scrapes(void) {
    vt__top_state_t st;
    vt__top_state_init(&st);
    CHECK_INT(update_file(&st, DATA "a.prom", 100.0), 0);
    /* The first scrape is a baseline: lines are known, figures are not. */
    CHECK(!st.have_rates);
    CHECK_INT(st.route_count, 6);
    const vt__top_route_t *r = route(&st, "http_request", "GET /a");
    CHECK(r && r->present && isnan(r->rate) && isnan(r->p50));
    CHECK(isnan(st.sat.cpu));
    CHECK_DBL(st.sat.resident, 1000000);

    CHECK_INT(update_file(&st, DATA "b.prom", 110.0), 0);
    check_b_figures(&st);
    CHECK_INT(st.route_count, 6);

    /* The same scrape again: every rate 0, the history grows. */
    CHECK_INT(update_file(&st, DATA "b.prom", 112.0), 0);
    r = route(&st, "http_request", "GET /a");
    if (r) {
        CHECK_DBL(r->rate, 0.0);
        CHECK(isnan(r->error_ratio));
        CHECK_INT(r->history_len, 2);
        CHECK_DBL(r->history[0], 10.0);
        CHECK_DBL(r->history[1], 0.0);
    }
    CHECK_DBL(st.interval, 2.0);
    vt__top_state_free(&st);
}

static void test_openmetrics_second_scrape(void) {
    /* Text then OpenMetrics: series are matched by their sample names. */
    vt__top_state_t st;
    vt__top_state_init(&st);
    CHECK_INT(update_file(&st, DATA "a.prom", 5.0), 0);
    CHECK_INT(update_file(&st, DATA "b.om", 15.0), 0);
    check_b_figures(&st);
    vt__top_state_free(&st);
}

static void test_bad_inputs(void) {
    vt__top_state_t st;
    vt__top_state_init(&st);
    const char *base = "# TYPE x_duration_seconds histogram\n"
                       "x_duration_seconds_bucket{route=\"/r\",code=\"200\",le=\"1\"} 4\n"
                       "x_duration_seconds_bucket{route=\"/r\",code=\"200\",le=\"+Inf\"} 4\n"
                       "x_duration_seconds_count{route=\"/r\",code=\"200\"} 4\n"
                       "x_duration_seconds_sum{route=\"/r\",code=\"200\"} 1\n";
    vt_doc_t *doc = parse_text(base);
    CHECK_INT(vt__top_state_update(&st, doc, 10), 0);
    /* Time going backwards: no baseline, no figures, nothing negative. */
    CHECK_INT(vt__top_state_update(&st, doc, 9), 0);
    CHECK(!st.have_rates);
    CHECK(isnan(st.routes[0].rate));
    /* Without a counter, rate comes from the histogram's _count. */
    vt_doc_t *more =
        parse_text("# TYPE x_duration_seconds histogram\n"
                   "x_duration_seconds_bucket{route=\"/r\",code=\"200\",le=\"1\"} 6\n"
                   "x_duration_seconds_bucket{route=\"/r\",code=\"200\",le=\"+Inf\"} 8\n"
                   "x_duration_seconds_count{route=\"/r\",code=\"200\"} 8\n"
                   "x_duration_seconds_bucket{route=\"/r\",code=\"502\",le=\"1\"} 2\n"
                   "x_duration_seconds_bucket{route=\"/r\",code=\"502\",le=\"+Inf\"} 2\n"
                   "x_duration_seconds_count{route=\"/r\",code=\"502\"} 2\n");
    CHECK_INT(vt__top_state_update(&st, more, 11), 0);
    CHECK_INT(st.route_count, 1);
    CHECK_STR(st.routes[0].name, "/r");
    CHECK_DBL(st.interval, 2.0); /* from the scrape at 9, the latest */
    CHECK_DBL(st.routes[0].rate, 6.0 / 2.0);
    CHECK_DBL(st.routes[0].errors, 2.0 / 2.0);
    CHECK_DBL(st.routes[0].error_ratio, 2.0 / 6.0);
    CHECK_DBL(st.routes[0].p50, 1.0 * (3.0 / 4.0)); /* buckets (1: 4, +Inf: 6) */

    /* NaN counters add nothing; the next real value counts from 0. */
    vt_doc_t *nan =
        parse_text("# TYPE x_duration_seconds histogram\n"
                   "x_duration_seconds_bucket{route=\"/r\",code=\"200\",le=\"1\"} NaN\n"
                   "x_duration_seconds_bucket{route=\"/r\",code=\"200\",le=\"+Inf\"} NaN\n"
                   "x_duration_seconds_count{route=\"/r\",code=\"200\"} NaN\n");
    CHECK_INT(vt__top_state_update(&st, nan, 12), 0);
    CHECK_DBL(st.routes[0].rate, 0.0);
    CHECK(isnan(st.routes[0].p50));

    /* A scrape without any RED family: the lines are no longer present. */
    vt_doc_t *none = parse_text("# TYPE up gauge\nup 1\n");
    CHECK_INT(vt__top_state_update(&st, none, 13), 0);
    CHECK_INT(st.red.count, 0);
    CHECK(!st.routes[0].present);
    size_t *rows = NULL, n = 9;
    vt__top_endpoint_t e = {0};
    e.state = st;
    CHECK_INT(vt__top_rows(&e, VT__SORT_RATE, 0, NULL, &rows, &n), 0);
    CHECK_INT(n, 0);
    free(rows);
    /* Back again: the family and its line come back, counting from 0. */
    CHECK_INT(vt__top_state_update(&st, more, 14), 0);
    CHECK(st.routes[0].present);
    CHECK_DBL(st.routes[0].rate, 10.0);
    CHECK_INT(st.route_count, 1);
    vt_doc_free(doc);
    vt_doc_free(more);
    vt_doc_free(nan);
    vt_doc_free(none);
    vt__top_state_free(&st);
}

/* ---- lines: order and filter ---------------------------------------------------------------- */

static void names_of(const vt__top_endpoint_t *e, vt__top_sort_t sort, int reverse,
                     const char *filter, char *out, size_t n) {
    size_t *rows = NULL, count = 0;
    out[0] = '\0';
    CHECK_INT(vt__top_rows(e, sort, reverse, filter, &rows, &count), 0);
    for (size_t i = 0; i < count; i++) {
        const vt__top_route_t *r = &e->state.routes[rows[i]];
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", i ? "," : "", r->name);
    }
    free(rows);
}

static void test_rows(void) {
    vt__top_endpoint_t e;
    memset(&e, 0, sizeof e);
    vt__top_state_init(&e.state);
    CHECK_INT(update_file(&e.state, DATA "a.prom", 0), 0);
    CHECK_INT(update_file(&e.state, DATA "b.prom", 10), 0);
    char got[256];
    names_of(&e, VT__SORT_RATE, 0, NULL, got, sizeof got);
    CHECK_STR(got, "GET /a,GET /c,POST /b,GET /d,GET,SET");
    names_of(&e, VT__SORT_RATE, 1, NULL, got, sizeof got);
    CHECK_STR(got, "GET /d,POST /b,GET /c,GET /a,SET,GET");
    names_of(&e, VT__SORT_P50, 0, NULL, got, sizeof got); /* unknown figures last */
    CHECK_STR(got, "POST /b,GET /c,GET /a,GET /d,GET,SET");
    names_of(&e, VT__SORT_P50, 1, NULL, got, sizeof got);
    CHECK_STR(got, "GET /a,GET /c,POST /b,GET /d,GET,SET");
    names_of(&e, VT__SORT_RATIO, 0, NULL, got, sizeof got);
    CHECK_STR(got, "POST /b,GET /a,GET /c,GET /d,GET,SET");
    names_of(&e, VT__SORT_NAME, 0, NULL, got, sizeof got);
    CHECK_STR(got, "GET /a,GET /c,GET /d,POST /b,GET,SET");
    names_of(&e, VT__SORT_NAME, 1, NULL, got, sizeof got);
    CHECK_STR(got, "POST /b,GET /d,GET /c,GET /a,SET,GET");
    names_of(&e, VT__SORT_RATE, 0, "/c", got, sizeof got);
    CHECK_STR(got, "GET /c");
    names_of(&e, VT__SORT_RATE, 0, "get /A", got, sizeof got); /* any case */
    CHECK_STR(got, "GET /a");
    names_of(&e, VT__SORT_RATE, 0, "redis", got, sizeof got); /* the family's name */
    CHECK_STR(got, "GET,SET");
    names_of(&e, VT__SORT_RATE, 0, "nothing", got, sizeof got);
    CHECK_STR(got, "");
    vt__top_state_free(&e.state);
}

/* ---- output -------------------------------------------------------------------------------------
 */

static void test_formats(void) {
    char b[32];
    vt__top_fmt_seconds(0.0041, b, sizeof b);
    CHECK_STR(b, "4.10ms");
    vt__top_fmt_seconds(0.0412, b, sizeof b);
    CHECK_STR(b, "41.2ms");
    vt__top_fmt_seconds(0.412, b, sizeof b);
    CHECK_STR(b, "412ms");
    vt__top_fmt_seconds(1.25, b, sizeof b);
    CHECK_STR(b, "1.25s");
    vt__top_fmt_seconds(0.00085, b, sizeof b);
    CHECK_STR(b, "850us");
    vt__top_fmt_seconds(NAN, b, sizeof b);
    CHECK_STR(b, "-");
    vt__top_fmt_rate(12.5, b, sizeof b);
    CHECK_STR(b, "12.5");
    vt__top_fmt_rate(2.5, b, sizeof b);
    CHECK_STR(b, "2.50");
    vt__top_fmt_rate(1250, b, sizeof b);
    CHECK_STR(b, "1.2k");
    vt__top_fmt_rate(0, b, sizeof b);
    CHECK_STR(b, "0");
    vt__top_fmt_percent(0.032, b, sizeof b);
    CHECK_STR(b, "3.2%");
    vt__top_fmt_percent(0.005, b, sizeof b);
    CHECK_STR(b, "0.50%");
    vt__top_fmt_percent(NAN, b, sizeof b);
    CHECK_STR(b, "-");
    vt__top_fmt_bytes(47395635, b, sizeof b);
    CHECK_STR(b, "45.2MiB");
    vt__top_fmt_bytes(512, b, sizeof b);
    CHECK_STR(b, "512B");
}

static void test_print(void) {
    vt__top_endpoint_t e;
    memset(&e, 0, sizeof e);
    e.url = "http://127.0.0.1:1/metrics";
    e.up = 1;
    e.scraped = 1;
    e.time = 1700000000.5;
    snprintf(e.status, sizeof e.status, "ok");
    vt__top_state_init(&e.state);
    CHECK_INT(update_file(&e.state, DATA "a.prom", 0), 0);
    CHECK_INT(update_file(&e.state, DATA "b.prom", 10), 0);
    vt__top_opts_t o;
    memset(&o, 0, sizeof o);
    o.error_threshold = 0.05;
    o.latency_objective = 0.5;
    o.sort = VT__SORT_RATE;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    vt__top_print_plain(f, &e, &o);
    fclose(f);
    CHECK_CONTAINS(text, "interval 10.00s  ok");
    CHECK_CONTAINS(text, "saturation: cpu 5.0%  resident 1.9MiB  fds 10/1024  "
                         "http_requests_in_flight 3");
    CHECK_CONTAINS(text, "RATE/s");
    /* /a: 10/s, 2 errors/s, 20% (over the threshold), p50 233ms, p90 and p99 1 s (over). */
    CHECK_CONTAINS(text, "GET /a        10.0       2.00   20.0%!     233ms    1.00s!    1.00s!");
    free(text);

    text = NULL;
    f = open_memstream(&text, &len);
    CHECK_INT(vt__top_print_json(f, &e, &o), 0);
    fclose(f);
    CHECK(strchr(text, '\n') == text + strlen(text) - 1); /* one line */
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    CHECK(j != NULL);
    if (j) {
        CHECK_STR(json_string_value(json_object_get(j, "endpoint")), e.url);
        CHECK(json_is_true(json_object_get(j, "up")));
        CHECK_DBL(json_real_value(json_object_get(j, "interval")), 10.0);
        json_t *fams = json_object_get(j, "families");
        CHECK_INT(json_array_size(fams), 2);
        json_t *http = json_array_get(fams, 0);
        CHECK_STR(json_string_value(json_object_get(http, "family")), "http_request");
        json_t *routes = json_object_get(http, "routes");
        CHECK_INT(json_array_size(routes), 4);
        json_t *a = json_array_get(routes, 0); /* by name: GET /a first */
        CHECK_STR(json_string_value(json_object_get(a, "route")), "GET /a");
        CHECK_STR(json_string_value(json_object_get(json_object_get(a, "labels"), "route")), "/a");
        CHECK_DBL(json_real_value(json_object_get(a, "rate")), 10.0);
        CHECK_DBL(json_real_value(json_object_get(a, "error_ratio")), 0.2);
        CHECK_DBL(json_real_value(json_object_get(a, "p90")), 1.0);
        json_t *d = json_array_get(routes, 2);
        CHECK_STR(json_string_value(json_object_get(d, "route")), "GET /d");
        CHECK(json_is_null(json_object_get(d, "error_ratio")));
        CHECK(json_is_null(json_object_get(d, "p99")));
        json_t *sat = json_object_get(j, "saturation");
        CHECK_DBL(json_real_value(json_object_get(sat, "cpu")), 0.05);
        CHECK_DBL(json_real_value(json_object_get(sat, "max_fds")), 1024);
        CHECK_DBL(json_real_value(json_object_get(json_object_get(sat, "in_flight"),
                                                  "http_requests_in_flight")),
                  3);
        json_decref(j);
    }
    free(text);

    /* A down endpoint: its status, nothing else. */
    e.up = 0;
    snprintf(e.status, sizeof e.status, "down: connection refused");
    text = NULL;
    f = open_memstream(&text, &len);
    CHECK_INT(vt__top_print_json(f, &e, &o), 0);
    fclose(f);
    CHECK_CONTAINS(text, "\"up\":false");
    CHECK_CONTAINS(text, "\"status\":\"down: connection refused\"");
    CHECK(strstr(text, "families") == NULL);
    free(text);
    vt__top_state_free(&e.state);
}

/* ---- endpoints --------------------------------------------------------------------------------
 */

static void test_urls(void) {
    char *u = vt__top_url("127.0.0.1:8080");
    CHECK_STR(u, "http://127.0.0.1:8080/metrics");
    free(u);
    u = vt__top_url("localhost:9/m");
    CHECK_STR(u, "http://localhost:9/m");
    free(u);
    u = vt__top_url("http://h:1");
    CHECK_STR(u, "http://h:1/metrics");
    free(u);
    u = vt__top_url("https://h:1/x/metrics");
    CHECK_STR(u, "https://h:1/x/metrics");
    free(u);
    u = vt__top_url(DATA "a.prom");
    CHECK_STR(u, DATA "a.prom");
    free(u);
}

static void test_scrape_status(void) {
    char status[VT__TOP_STATUS_SIZE], url[64];
    vt_doc_t *doc = (vt_doc_t *)1;
    vt_format_t fmt = VT_FORMAT_TEXT;
    int port = free_port();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    CHECK(vt__top_scrape(url, VT__FORMAT_AUTO, 2, &doc, &fmt, status, sizeof status) != 0);
    CHECK(doc == NULL);
    CHECK_STR(status, "down: connection refused");

    CHECK(vt__top_scrape("/nonexistent/metrics.prom", VT__FORMAT_AUTO, 2, &doc, &fmt, status,
                         sizeof status) != 0);
    CHECK_STR(status, "down: no such file or directory");

    char dir[256], path[300];
    CHECK_INT(make_scratch(dir, sizeof dir, "top-calc"), 0);
    snprintf(path, sizeof path, "%s/bad.prom", dir);
    write_text(path, "# TYPE x gauge\nx 1\nx{ 2\n");
    CHECK(vt__top_scrape(path, VT__FORMAT_AUTO, 2, &doc, &fmt, status, sizeof status) != 0);
    CHECK(strncmp(status, "parse error line 3: ", 20) == 0);
    if (strncmp(status, "parse error line 3: ", 20) != 0) {
        fprintf(stderr, "status: %s\n", status);
    }
    CHECK_INT(vt__top_scrape(DATA "b.om", VT__FORMAT_AUTO, 2, &doc, &fmt, status, sizeof status),
              0);
    CHECK_STR(status, "ok");
    CHECK_INT(fmt, VT_FORMAT_OPENMETRICS);
    CHECK(doc && doc->family_count > 0);
    vt_doc_free(doc);
    remove_tree(dir);
}

int main(void) {
    RUN(test_quantile_rules);
    RUN(test_two_scrapes);
    RUN(test_openmetrics_second_scrape);
    RUN(test_bad_inputs);
    RUN(test_rows);
    RUN(test_formats);
    RUN(test_print);
    RUN(test_urls);
    RUN(test_scrape_status);
    TEST_EXIT();
}
