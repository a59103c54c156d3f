/* fuzz_proto_accept.c - libFuzzer target: the delimited-protobuf preference of an Accept header.
 *
 * The input is used two ways. First, up to its first NUL, as a raw Accept
 * header for vt_proto_preferred(); properties beyond "no crash, no overread,
 * no undefined behaviour":
 *   - the answer is 0 or 1, and asking again gives the same answer;
 *   - 1 only from a header naming the protobuf media type, the
 *     io.prometheus.client.MetricFamily message and the delimited encoding;
 *   - a full protobuf range listed first with q=1 makes the answer 1, and a
 *     text/plain;version=0.0.4 range listed first makes it 0 (ties go to the
 *     first range), whatever follows;
 *   - appending a range with q=0 (protobuf or text) changes nothing, and so
 *     does repeating the whole header after a comma.
 * Second, the bytes pick a well-formed header from a table of media ranges
 * (the protobuf range with its parameters in either order, quoted, with one
 * missing or wrong, the text ranges the core serves and some it does not),
 * q-values (absent, 0, 1, fractions, malformed) and separators; a reference
 * decision computed from the table (the first range with the highest q
 * above 0 among the acceptable ones wins; protobuf when that range is the
 * protobuf one) must equal vt_proto_preferred().
 *
 * accept.c is compiled into this file rather than from src/proto: its
 * internal header pulls in the message code protoc-c generates at build
 * time, which accept.c itself does not use. The include guard of that header
 * is set here so only the public declaration is seen.
 *
 * vt-fuzz: sources=core libs=-lm,-lpthread
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vitals/proto.h"

#define VITALS_PROTO_INTERNAL_H
#include "proto/accept.c"

#include "fuzz_must.h"

#define PB_FULL                                                                                    \
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"

enum cls { C_NONE, C_TEXT, C_PROTO };

static const struct {
    const char *range;
    enum cls cls;
} ranges[] = {
    {PB_FULL, C_PROTO},
    {"application/vnd.google.protobuf; encoding=delimited; proto=io.prometheus.client.MetricFamily",
     C_PROTO},
    {"Application/Vnd.Google.Protobuf;Proto=\"io.prometheus.client.MetricFamily\";"
     "ENCODING=\"delimited\"",
     C_PROTO},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily", C_NONE},
    {"application/vnd.google.protobuf;encoding=delimited", C_NONE},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.Metric;encoding=delimited",
     C_NONE},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
     C_NONE},
    {"application/vnd.google.protobuf", C_NONE},
    {"application/openmetrics-text;version=1.0.0", C_TEXT},
    {"application/openmetrics-text", C_TEXT},
    {"application/openmetrics-text;version=0.0.1", C_NONE},
    {"text/plain;version=0.0.4", C_TEXT},
    {"text/plain", C_TEXT},
    {"text/plain;version=1.0.0", C_NONE},
    {"text/*", C_TEXT},
    {"*/*", C_TEXT},
    {"application/*", C_NONE},
    {"application/json", C_NONE},
    {"text/html", C_NONE},
};

/* q in thousandths; -1: malformed, which rules the range out. */
static const struct {
    const char *param;
    int q;
} qs[] = {
    {"", 1000},       {";q=1", 1000},       {";q=0", 0},          {";q=0.5", 500},
    {";q=0.9", 900},  {";q=0.900", 900},    {";q=1.000", 1000},   {";q=0.001", 1},
    {";q=0.0", 0},    {";Q=0.7", 700},      {" ; q = 0.3 ", 300}, {";q=\"0.8\"", 800},
    {";q=2", -1},     {";q=0.5000", -1},    {";q=abc", -1},       {";q=", -1},
    {";q=1.001", -1}, {";q=0.25;x=y", 250},
};

static const char *const seps[] = {",", ", ", " ,\t", ",,"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char *cat(const char *a, const char *b, const char *c) {
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = malloc(na + nb + nc + 1);
    MUST(s != NULL);
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}

static void check_raw(const char *h) {
    int p = vt_proto_preferred(h);
    MUST(p == 0 || p == 1);
    MUST(vt_proto_preferred(h) == p);
    if (p) {
        char *low = cat(h, "", "");
        for (char *c = low; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        MUST(strstr(low, "application/vnd.google.protobuf") != NULL);
        MUST(strstr(h, "io.prometheus.client.MetricFamily") != NULL);
        MUST(strstr(h, "delimited") != NULL);
        free(low);
    }
    char *s = cat(PB_FULL ",", h, "");
    MUST(vt_proto_preferred(s) == 1);
    free(s);
    s = cat("text/plain;version=0.0.4,", h, "");
    MUST(vt_proto_preferred(s) == 0);
    free(s);
    s = cat(h, "," PB_FULL ";q=0", "");
    MUST(vt_proto_preferred(s) == p);
    free(s);
    s = cat(h, ",text/plain;q=0", "");
    MUST(vt_proto_preferred(s) == p);
    free(s);
    s = cat(h, ",", h);
    MUST(vt_proto_preferred(s) == p);
    free(s);
}

/* Build a header of up to 8 ranges from pairs of bytes and compare with the
 * reference decision. */
static void check_built(const uint8_t *data, size_t size) {
    char h[1024];
    size_t len = 0;
    int best_q = 0;
    enum cls best = C_NONE;
    h[0] = '\0';
    for (size_t i = 0; i + 1 < size && i < 16; i += 2) {
        size_t r = data[i] % N(ranges), q = data[i + 1] % N(qs);
        const char *sep = len ? seps[(data[i] / N(ranges)) % N(seps)] : "";
        int n = snprintf(h + len, sizeof h - len, "%s%s%s", sep, ranges[r].range, qs[q].param);
        MUST(n > 0 && (size_t)n < sizeof h - len);
        len += (size_t)n;
        if (ranges[r].cls != C_NONE && qs[q].q > best_q) {
            best_q = qs[q].q;
            best = ranges[r].cls;
        }
    }
    int want = best == C_PROTO;
    if (vt_proto_preferred(h) != want)
        fprintf(stderr, "header: %s\nwant %d\n", h, want);
    MUST(vt_proto_preferred(h) == want);
    check_raw(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    MUST(vt_proto_preferred(NULL) == 0 && vt_proto_preferred("") == 0);
    char *h = malloc(size + 1);
    MUST(h != NULL);
    memcpy(h, data, size);
    h[size] = '\0';
    check_raw(h);
    free(h);
    check_built(data, size);
    return 0;
}
