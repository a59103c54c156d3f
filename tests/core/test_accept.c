/* test_accept.c - choosing text 0.0.4 or OpenMetrics from an HTTP Accept header,
 * and the exact Content-Type of each format.
 *
 * Malformed input of any kind must give text 0.0.4 and never crash; random
 * headers are generated from a fixed seed so a failure reproduces.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "harness.h"
#include "vitals.h"

#define TEXT VT_FORMAT_TEXT
#define OM VT_FORMAT_OPENMETRICS

static void check_accept(const char *header, vt_format_t want, int line) {
    vt_format_t got = vt_format_from_accept(header);
    if (got != want) {
        fprintf(stderr, "%s:%d: Accept \"%s\": got %s, want %s\n", __FILE__, line,
                header ? header : "(null)", got == OM ? "OpenMetrics" : "text",
                want == OM ? "OpenMetrics" : "text");
        th_checks_failed++;
    }
}
#define ACCEPT(h, want) check_accept((h), (want), __LINE__)

static void test_prometheus_headers(void) {
    /* Prometheus 2.42's default scrape header. */
    ACCEPT("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
           "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
           OM);
    /* With native histograms it asks for protobuf first, which we do not serve. */
    ACCEPT("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding="
           "delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
           TEXT);
    ACCEPT("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding="
           "delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/"
           "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
           OM);
    /* Older Prometheus versions. */
    ACCEPT("application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
           TEXT);
    ACCEPT("text/plain;version=0.0.4;q=1,*/*;q=0.1", TEXT);
}

static void test_simple(void) {
    ACCEPT(NULL, TEXT);
    ACCEPT("", TEXT);
    ACCEPT("*/*", TEXT);
    ACCEPT("text/*", TEXT);
    ACCEPT("text/plain", TEXT);
    ACCEPT("text/plain;version=0.0.4", TEXT);
    ACCEPT("application/openmetrics-text", OM);
    ACCEPT("application/openmetrics-text;version=1.0.0", OM);
    ACCEPT("application/openmetrics-text; version=1.0.0; charset=utf-8", OM);
    ACCEPT("application/openmetrics-text;version=\"1.0.0\"", OM);
    /* We serve only OpenMetrics 1.0.0. */
    ACCEPT("application/openmetrics-text;version=0.0.1", TEXT);
    ACCEPT("application/openmetrics-text;version=2.0.0", TEXT);
    ACCEPT("text/html", TEXT);
    ACCEPT("application/json", TEXT);
}

static void test_q_values(void) {
    ACCEPT("application/openmetrics-text;q=0.3,text/plain;q=0.5", TEXT);
    ACCEPT("text/plain;q=0.5,application/openmetrics-text;q=0.6", OM);
    ACCEPT("text/plain;q=0.5,application/openmetrics-text;q=0.501", OM);
    ACCEPT("text/plain;q=0.501,application/openmetrics-text;q=0.5", TEXT);
    ACCEPT("application/openmetrics-text;q=1.0,text/plain;q=0.999", OM);
    ACCEPT("application/openmetrics-text;q=1.000", OM);
    ACCEPT("*/*;q=0.9,application/openmetrics-text;q=0.8", TEXT);
    ACCEPT("*/*;q=0.1,application/openmetrics-text;q=0.2", OM);
    /* q=0 means not acceptable. */
    ACCEPT("application/openmetrics-text;q=0", TEXT);
    ACCEPT("application/openmetrics-text;q=0.0,text/plain", TEXT);
    ACCEPT("application/openmetrics-text;q=0.000", TEXT);
    ACCEPT("text/plain;q=0,application/openmetrics-text", OM);
    ACCEPT("text/plain;q=0,application/openmetrics-text;q=0.001", OM);
    ACCEPT("text/html,application/openmetrics-text;q=0.1", OM);
    /* Malformed q: that range is skipped, the others still count. */
    ACCEPT("application/openmetrics-text;q=abc", TEXT);
    ACCEPT("application/openmetrics-text;q=1.5", TEXT);
    ACCEPT("application/openmetrics-text;q=", TEXT);
    ACCEPT("application/openmetrics-text;q=-1", TEXT);
    ACCEPT("application/openmetrics-text;q=2", TEXT);
    ACCEPT("application/openmetrics-text;q=0.5.5", TEXT);
    ACCEPT("application/openmetrics-text;q=1.0001", TEXT);
    ACCEPT("application/openmetrics-text;q=abc,text/plain;q=0.1", TEXT);
    ACCEPT("text/plain;q=abc,application/openmetrics-text;q=0.1", OM);
    ACCEPT("text/plain;q=1.5,application/openmetrics-text;q=0.1", OM);
    ACCEPT("text/plain;q=,application/openmetrics-text;q=0.1", OM);
}

static void test_case_and_spaces(void) {
    ACCEPT("Application/OpenMetrics-Text", OM);
    ACCEPT("APPLICATION/OPENMETRICS-TEXT;VERSION=1.0.0", OM);
    ACCEPT("application/openmetrics-text;Q=0.2,TEXT/PLAIN;Q=0.3", TEXT);
    ACCEPT("  application/openmetrics-text  ;  version=1.0.0  ;  q=0.9  ,  text/plain ; q=0.5 ",
           OM);
    ACCEPT("\tapplication/openmetrics-text\t;\tq=0.9,\ttext/plain;q=0.5", OM);
    ACCEPT("text/plain ; q=0.9 , application/openmetrics-text ; q=0.5", TEXT);
    ACCEPT(" , , application/openmetrics-text", OM);
    ACCEPT("application/openmetrics-text,", OM);
}

static void test_garbage(void) {
    ACCEPT(";;;,,,", TEXT);
    ACCEPT(",", TEXT);
    ACCEPT(";", TEXT);
    ACCEPT("=", TEXT);
    ACCEPT(";q=1", TEXT);
    ACCEPT("application/openmetrics-text;;;;q=0.5", OM);
    ACCEPT("application/openmetrics-text;=;=", OM);
    ACCEPT("application/openmetrics-text;q", OM); /* a parameter without value is ignored */
    ACCEPT("application/openmetrics-textx", TEXT);
    ACCEPT("application/openmetrics", TEXT);
    ACCEPT("xapplication/openmetrics-text", TEXT);
    ACCEPT("\"application/openmetrics-text\"", TEXT);
    ACCEPT("application/openmetrics-text;version=\"", TEXT); /* unterminated quote */

    /* A very long header: 100 KB of ranges, the good one at the end. */
    size_t n = 100 * 1024;
    char *big = malloc(n + 64);
    CHECK(big != NULL);
    if (!big)
        return;
    size_t len = 0;
    while (len + 16 < n) {
        memcpy(big + len, "text/html;q=0.9,", 16);
        len += 16;
    }
    strcpy(big + len, "application/openmetrics-text");
    ACCEPT(big, OM);
    memset(big, ';', n);
    big[n] = '\0';
    ACCEPT(big, TEXT);
    memset(big, 'a', n);
    ACCEPT(big, TEXT);
    for (size_t i = 0; i < n; i++)
        big[i] = ",;= q"[i % 5];
    ACCEPT(big, TEXT);
    free(big);

    /* Random bytes without NUL, and random mixtures of header tokens. */
    uint64_t st = 0x853C49E6748FEA9Bull;
    char buf[512];
    static const char *const tok[] = {"application/openmetrics-text",
                                      "text/plain",
                                      "*/*",
                                      ";",
                                      ",",
                                      "q=",
                                      "0.",
                                      "1",
                                      "version=",
                                      "1.0.0",
                                      " ",
                                      "\"",
                                      "=",
                                      "text/*",
                                      "0.0.4"};
    for (int round = 0; round < 20000; round++) {
        size_t k = 0;
        int mode = round & 1;
        size_t want = (size_t)(round % 300) + 1;
        while (k < want) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(st >> 33);
            if (mode) {
                const char *t = tok[r % (sizeof tok / sizeof tok[0])];
                size_t tl = strlen(t);
                if (k + tl >= sizeof buf)
                    break;
                memcpy(buf + k, t, tl);
                k += tl;
            } else {
                buf[k++] = (char)(r % 255 + 1);
            }
        }
        buf[k] = '\0';
        vt_format_t f = vt_format_from_accept(buf);
        CHECK(f == TEXT || f == OM);
    }
}

static void test_content_types(void) {
    CHECK_STR(vt_format_content_type(VT_FORMAT_TEXT), "text/plain; version=0.0.4; charset=utf-8");
    CHECK_STR(vt_format_content_type(VT_FORMAT_OPENMETRICS),
              "application/openmetrics-text; version=1.0.0; charset=utf-8");
    CHECK_STR(VT_CONTENT_TYPE_TEXT, "text/plain; version=0.0.4; charset=utf-8");
    CHECK_STR(VT_CONTENT_TYPE_OPENMETRICS,
              "application/openmetrics-text; version=1.0.0; charset=utf-8");
    /* Our own Content-Type, sent back as Accept, selects the same format. */
    ACCEPT(vt_format_content_type(VT_FORMAT_TEXT), TEXT);
    ACCEPT(vt_format_content_type(VT_FORMAT_OPENMETRICS), OM);
    vt_write_opts_t o;
    memset(&o, 0x5A, sizeof o);
    vt_write_opts_init(&o);
    CHECK_INT(o.format, VT_FORMAT_TEXT);
    CHECK_INT(o.created, 0);
}

int main(void) {
    RUN(test_prometheus_headers);
    RUN(test_simple);
    RUN(test_q_values);
    RUN(test_case_and_spaces);
    RUN(test_garbage);
    RUN(test_content_types);
    TEST_EXIT();
}
