/* test_exemplar.c - exemplars on counters and histogram buckets.
 *
 * SPDX-License-Identifier: MIT
 */
#include <time.h>

#include "core_helpers.h"
#include "expose_tools.h"
#include "harness.h"

static vt_registry_t *reg;
static vt_counter_series_t *hits;
static vt_histogram_series_t *lat;

static void setup(void) {
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_counter_t *c;
    vt_histogram_t *h;
    CHECK_INT(vt_counter_create(reg, "hits_total", "Hits.", VT_LABELS("route"), &c), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("/a"), &hits), 0);
    static const double b[] = {0.1, 0.5, 1};
    CHECK_INT(vt_histogram_create(reg, "lat_seconds", "Latency.", NULL, b, 3, &h), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &lat), 0);
}

/* The line of text starting with prefix, up to its newline (static buffer). */
static const char *line_of(const char *text, const char *prefix) {
    static char buf[4096];
    const char *p = text;
    while (p && *p) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            if (n >= sizeof buf)
                n = sizeof buf - 1;
            memcpy(buf, p, n);
            buf[n] = '\0';
            return buf;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return "";
}

static void test_counter_exemplar(void) {
    setup();
    CHECK_INT(vt_counter_add_exemplar(hits, 2, VT_LABELS("trace_id"), VT_VALUES("abc")), 0);
    CHECK_INT(vt_counter_add_exemplar(hits, 1, VT_LABELS("trace_id", "span_id"),
                                      VT_VALUES("4bf92f3577b34da6", "00f067aa0ba902b7")),
              0);
    CHECK_DBL(vt_counter_get(hits), 3);
    char *om = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    const char *l = line_of(om, "hits_total{");
    /* The latest exemplar replaced the first. */
    CHECK(strncmp(l,
                  "hits_total{route=\"/a\"} 3 # {trace_id=\"4bf92f3577b34da6\","
                  "span_id=\"00f067aa0ba902b7\"} 1 ",
                  strlen("hits_total{route=\"/a\"} 3 # {trace_id=\"4bf92f3577b34da6\","
                         "span_id=\"00f067aa0ba902b7\"} 1 ")) == 0);
    double ts = atof(strrchr(l, ' ') + 1);
    CHECK(ts > (double)time(NULL) - 60 && ts < (double)time(NULL) + 60);
    CHECK(tools_python_check("counter exemplar", "openmetrics", om, NULL));
    free(om);
    /* Text 0.0.4 has no exemplars. */
    char *text = scrape(reg);
    CHECK(has_line(text, "hits_total{route=\"/a\"} 3"));
    CHECK(strstr(text, "trace_id") == NULL);
    free(text);
    vt_registry_destroy(reg);
}

static void test_histogram_exemplar_per_bucket(void) {
    setup();
    CHECK_INT(vt_histogram_observe_exemplar(lat, 0.05, VT_LABELS("trace_id"), VT_VALUES("t1")), 0);
    CHECK_INT(vt_histogram_observe_exemplar(lat, 0.7, VT_LABELS("trace_id"), VT_VALUES("t2")), 0);
    CHECK_INT(vt_histogram_observe_exemplar(lat, 0.8, VT_LABELS("trace_id"), VT_VALUES("t3")), 0);
    CHECK_INT(vt_histogram_observe_exemplar(lat, 5, VT_LABELS("trace_id"), VT_VALUES("t4")), 0);
    vt_histogram_observe(lat, 0.3); /* no exemplar for the 0.5 bucket */
    char *om = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    CHECK(strstr(line_of(om, "lat_seconds_bucket{le=\"0.1\"}"), "# {trace_id=\"t1\"} 0.05 "));
    CHECK(strstr(line_of(om, "lat_seconds_bucket{le=\"0.5\"}"), "#") == NULL);
    CHECK(strstr(line_of(om, "lat_seconds_bucket{le=\"1.0\"}"), "# {trace_id=\"t3\"} 0.8 "));
    CHECK(strstr(line_of(om, "lat_seconds_bucket{le=\"+Inf\"}"), "# {trace_id=\"t4\"} 5 "));
    CHECK(strstr(om, "lat_seconds_count 5\n") != NULL);
    CHECK(tools_python_check("histogram exemplars", "openmetrics", om, NULL));
    free(om);
    vt_registry_destroy(reg);
}

static void test_limits_and_bad_input(void) {
    setup();
    /* 128 code points in names and values together are allowed, 129 are not;
     * a multibyte character counts once. */
    char v[600];
    memset(v, 'x', 120);
    v[120] = '\0'; /* "trace_id" (8) + 120 = 128 */
    CHECK_INT(vt_counter_add_exemplar(hits, 1, VT_LABELS("trace_id"), VT_VALUES(v)), 0);
    strcpy(v + 120, "y");
    CHECK_INT(vt_counter_add_exemplar(hits, 1, VT_LABELS("trace_id"), VT_VALUES(v)), VT_ELIMIT);
    v[0] = '\0';
    for (int i = 0; i < 120; i++)
        strcat(v, "\xc3\xa9"); /* é: 120 code points, 240 bytes */
    CHECK_INT(vt_counter_add_exemplar(hits, 1, VT_LABELS("trace_id"), VT_VALUES(v)), 0);
    CHECK_INT(vt_counter_add_exemplar(hits, 1, VT_LABELS("bad-name"), VT_VALUES("x")),
              VT_ELABELNAME);
    CHECK_INT(vt_counter_add_exemplar(hits, 1, VT_LABELS("trace_id"), VT_VALUES("\xff")), VT_EUTF8);
    CHECK_INT(vt_counter_add_exemplar(hits, 1, VT_LABELS("a", "b"), VT_VALUES("x")),
              VT_ELABELCOUNT);
    CHECK_INT(vt_counter_add_exemplar(hits, 1, NULL, NULL), VT_EINVAL);
    CHECK_INT(vt_counter_add_exemplar(hits, -1, VT_LABELS("trace_id"), VT_VALUES("x")), VT_ERANGE);
    CHECK_INT(vt_histogram_observe_exemplar(lat, NAN, VT_LABELS("trace_id"), VT_VALUES("x")),
              VT_ERANGE);
    /* Every valid value was counted, refused exemplars or not. */
    CHECK_DBL(vt_counter_get(hits), 7);
    /* The kept exemplar is the last accepted one: 120 é. */
    char *om = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    CHECK(strstr(line_of(om, "hits_total{"), "\xc3\xa9\xc3\xa9\"} 1 ") != NULL);
    CHECK(tools_python_check("exemplar limits", "openmetrics", om, NULL));
    free(om);
    vt_registry_destroy(reg);
}

static void test_escaping(void) {
    setup();
    CHECK_INT(vt_counter_add_exemplar(hits, 1, VT_LABELS("note"), VT_VALUES("a\"b\\c\nd")), 0);
    char *om = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    CHECK(strstr(om, "# {note=\"a\\\"b\\\\c\\nd\"} 1 ") != NULL);
    CHECK(tools_python_check("exemplar escaping", "openmetrics", om, NULL));
    free(om);
    vt_registry_destroy(reg);
}

int main(void) {
    if (!tools_have_python_client())
        SKIP_ALL("python3-prometheus-client is not installed");
    RUN(test_counter_exemplar);
    RUN(test_histogram_exemplar_per_bucket);
    RUN(test_limits_and_bad_input);
    RUN(test_escaping);
    tools_cleanup();
    TEST_EXIT();
}
