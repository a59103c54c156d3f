/* test_accept.c - vt_proto_preferred(): which Accept headers get delimited
 * protobuf. Prometheus's headers with and without native histograms, q-value
 * order and ties (the same rule as the core's text choice: highest q, then
 * first listed), the parameters that must be there, wildcards, and malformed
 * or random input.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "harness.h"
#include "vitals.h"
#include "vitals/proto.h"

#define PB                                                                                         \
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"

static void check_pref(const char *header, int want, int line) {
    int got = vt_proto_preferred(header);
    if (got != want) {
        fprintf(stderr, "%s:%d: Accept \"%s\": got %d, want %d\n", __FILE__, line,
                header ? header : "(null)", got, want);
        th_checks_failed++;
    }
}
#define PREF(h, want) check_pref((h), (want), __LINE__)

static void test_prometheus_headers(void) {
    /* Prometheus 2.42 with --enable-feature=native-histograms. */
    PREF(PB ",application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;"
            "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         1);
    /* Prometheus 2.42's default: no protobuf at all. */
    PREF("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
         "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         0);
    /* Later Prometheus versions weight every range. */
    PREF(PB ";q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", 1);
    PREF("application/openmetrics-text;version=1.0.0;q=0.9," PB ";q=0.8", 0);
}

static void test_parameters(void) {
    PREF(PB, 1);
    PREF("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
         "encoding=delimited",
         1);
    PREF(VT_CONTENT_TYPE_PROTOBUF, 1);
    PREF("Application/Vnd.Google.Protobuf;PROTO=io.prometheus.client.MetricFamily;"
         "Encoding=delimited",
         1);
    PREF("application/vnd.google.protobuf;proto=\"io.prometheus.client.MetricFamily\";"
         "encoding=\"delimited\"",
         1);
    PREF("application/vnd.google.protobuf;encoding=delimited;proto=io.prometheus.client."
         "MetricFamily",
         1);
    /* Other encodings, other messages, or parameters missing: not ours. */
    PREF("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
         0);
    PREF("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=compact-text",
         0);
    PREF("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily", 0);
    PREF("application/vnd.google.protobuf;encoding=delimited", 0);
    PREF("application/vnd.google.protobuf", 0);
    PREF("application/vnd.google.protobuf;proto=prometheus.WriteRequest;encoding=delimited", 0);
    PREF("application/vnd.google.protobuf;proto=io.prometheus.client.metricfamily;"
         "encoding=delimited",
         0);
    PREF("application/x-protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", 0);
}

static void test_q_values(void) {
    PREF(PB ";q=0.5,text/plain;q=0.6", 0);
    PREF(PB ";q=0.6,text/plain;q=0.5", 1);
    PREF(PB ";q=0.5,text/plain;q=0.5", 1);       /* tie: the first listed */
    PREF("text/plain;q=0.5," PB ";q=0.5", 0);    /* tie: the first listed */
    PREF("application/openmetrics-text," PB, 0); /* both 1: the first */
    PREF("*/*," PB, 0);                          /* the wildcard is text */
    PREF("*/*;q=0.1," PB ";q=0.2", 1);
    PREF(PB ";q=0", 0); /* not acceptable */
    PREF(PB ";q=0.000,text/plain", 0);
    PREF(PB ";q=0.001", 1);
    PREF(PB ";q=1.000", 1);
    PREF(PB ";q=1.", 1);
    PREF("text/html," PB ";q=0.1", 1);                                  /* html is not ours */
    PREF("application/openmetrics-text;version=0.0.1," PB ";q=0.2", 1); /* 0.0.1 is not ours */
    PREF("text/plain;version=0.0.3," PB ";q=0.2", 1);
}

static void test_malformed(void) {
    PREF(NULL, 0);
    PREF("", 0);
    PREF(",,,", 0);
    PREF(";;;", 0);
    PREF("*/*", 0);
    PREF(PB ";q=2", 0);
    PREF(PB ";q=1.5", 0);
    PREF(PB ";q=0.0001", 0);
    PREF(PB ";q=abc", 0);
    PREF(PB ";q=", 0);
    PREF(PB ";q=-1", 0);
    PREF(PB ";;", 1);
    PREF(" " PB " ", 1);
    PREF(PB ";q=0.5;", 1);
    PREF("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=", 0);
    PREF("application/vnd.google.protobuf;proto;encoding", 0);
    PREF("application/vnd.google.protobuf;=;=", 0);
}

/* Random bytes drawn from the header's alphabet: never a crash, always 0 or
 * 1, and 1 only when the header names the protobuf range. */
static void test_random(void) {
    static const char *parts[] = {PB,
                                  "application/openmetrics-text",
                                  "text/plain",
                                  "*/*",
                                  ";q=0.5",
                                  ";q=0",
                                  ";q=1",
                                  ",",
                                  ";",
                                  "=",
                                  "\"",
                                  " ",
                                  "version=1.0.0",
                                  "encoding=delimited",
                                  "\xff",
                                  "q"};
    uint64_t x = 0x9e3779b97f4a7c15u;
    char buf[512];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        int pieces = (int)(x % 8) + 1;
        for (int p = 0; p < pieces; p++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            const char *s = parts[x % (sizeof(parts) / sizeof(parts[0]))];
            size_t n = strlen(s);
            if (len + n >= sizeof(buf))
                break;
            memcpy(buf + len, s, n);
            len += n;
        }
        buf[len] = '\0';
        int r = vt_proto_preferred(buf);
        CHECK(r == 0 || r == 1);
        if (r == 1)
            CHECK(strstr(buf, "vnd.google.protobuf") != NULL);
    }
}

int main(void) {
    RUN(test_prometheus_headers);
    RUN(test_parameters);
    RUN(test_q_values);
    RUN(test_malformed);
    RUN(test_random);
    TEST_EXIT();
}
