/* test_framing.c - the delimited stream: one varint length before each
 * MetricFamily, many families in a row, families and single series larger
 * than the 64 KiB sink piece (so messages and even length prefixes straddle
 * piece boundaries), bytes identical to protobuf-c packing each family whole,
 * a sink that refuses any one piece, and bad arguments.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pb_stream.h"
#include "vitals.h"
#include "vitals/proto.h"

#define PIECE_MAX 65536
#define BIG_SERIES 4000

/* A registry with small families around a large one, and one series whose
 * label value alone is larger than a piece. */
static vt_registry_t *build(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    char name[64], value[32];
    for (int i = 0; i < 20; i++) {
        vt_gauge_t *g;
        vt_gauge_series_t *gs;
        snprintf(name, sizeof(name), "small_%02d", i);
        CHECK_INT(vt_gauge_create(reg, name, "A small family.", NULL, &g), 0);
        CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
        vt_gauge_set(gs, i);
        if (i == 9) {
            /* Thousands of histogram series: one message of several hundred KiB. */
            vt_metric_opts_t o;
            vt_metric_opts_init(&o);
            o.name = "big_seconds";
            o.help = "Many series.";
            o.label_names = VT_LABELS("id");
            o.max_series = BIG_SERIES + 10;
            vt_histogram_t *h;
            CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
            for (int k = 0; k < BIG_SERIES; k++) {
                vt_histogram_series_t *hs;
                snprintf(value, sizeof(value), "series-%05d", k);
                CHECK_INT(vt_histogram_with(h, VT_VALUES(value), &hs), 0);
                vt_histogram_observe(hs, k * 0.001);
            }
        }
        if (i == 14) {
            /* One series larger than a piece. */
            size_t n = 150000;
            char *huge = malloc(n + 1);
            for (size_t k = 0; k < n; k++)
                huge[k] = (char)('a' + k % 26);
            huge[n] = '\0';
            vt_counter_t *c;
            vt_counter_series_t *cs;
            CHECK_INT(vt_counter_create(reg, "huge_label", "One long label.", VT_LABELS("v"), &c),
                      0);
            CHECK_INT(vt_counter_with(c, (const char *const[]){huge, NULL}, &cs), 0);
            vt_counter_add(cs, 3);
            free(huge);
        }
    }
    return reg;
}

static void test_multi_family_stream(void) {
    vt_registry_t *reg = build();
    pb_out_t o;
    pb_stream_t s;
    CHECK_INT(pb_scrape(reg, &o, &s), 0);
    /* 20 gauges, the big histogram and the long-label counter. */
    CHECK_INT(s.n, 22);
    CHECK(o.len > 4 * PIECE_MAX);
    CHECK(o.max_piece <= PIECE_MAX);
    CHECK(o.pieces >= o.len / PIECE_MAX);
    CHECK_INT(o.empty, 0);

    const pb_family_t *big = pb_find(&s, "big_seconds");
    CHECK(big != NULL);
    if (big) {
        CHECK_INT(big->n_metric, BIG_SERIES);
        /* Series come in registration order with their own values. */
        for (size_t k = 0; k < big->n_metric; k += 997) {
            char want[32];
            snprintf(want, sizeof(want), "series-%05zu", k);
            CHECK_STR(pb_label(big->metric[k], "id"), want);
            CHECK_INT(big->metric[k]->histogram->sample_count, 1);
            CHECK_DBL(big->metric[k]->histogram->sample_sum, (double)k * 0.001);
        }
    }
    const pb_family_t *huge = pb_find(&s, "huge_label_total");
    CHECK(huge && huge->n_metric == 1);
    if (huge && huge->n_metric == 1) {
        const char *v = pb_label(huge->metric[0], "v");
        CHECK(v && strlen(v) == 150000 && v[149999] == 'a' + 149999 % 26);
        CHECK_DBL(huge->metric[0]->counter->value, 3);
    }
    /* Families keep exposition order: small_00..small_08, big, small_09... */
    CHECK_STR(s.fam[0]->name, "small_00");
    CHECK_STR(s.fam[9]->name, "small_09");
    CHECK_STR(s.fam[10]->name, "big_seconds");
    CHECK_STR(s.fam[21]->name, "small_19");

    /* Some message boundary falls inside a piece and some message spans
     * several pieces: both sides of the framing are exercised. */
    int straddles = 0;
    for (size_t i = 0; i < s.n; i++) {
        size_t start = s.offsets[i], end = i + 1 < s.n ? s.offsets[i + 1] : o.len;
        if (start / PIECE_MAX != (end - 1) / PIECE_MAX)
            straddles++;
    }
    CHECK(straddles >= 2);

    pb_stream_free(&s);
    pb_out_free(&o);
    vt_registry_destroy(reg);
}

/* Each message equals what protobuf-c writes for the same MetricFamily
 * packed in one go: the per-metric framing adds nothing and loses nothing. */
static void test_bytes_equal_whole_pack(void) {
    vt_registry_t *reg = build();
    pb_out_t o;
    pb_stream_t s;
    CHECK_INT(pb_scrape(reg, &o, &s), 0);
    for (size_t i = 0; i < s.n; i++) {
        size_t start = s.offsets[i], end = i + 1 < s.n ? s.offsets[i + 1] : o.len;
        size_t size = io__prometheus__client__metric_family__get_packed_size(s.fam[i]);
        uint8_t *buf = malloc(size ? size : 1);
        CHECK_INT(io__prometheus__client__metric_family__pack(s.fam[i], buf), size);
        /* The prefix is the shortest varint of size. */
        size_t prefix = 1;
        for (size_t v = size; v >= 0x80; v >>= 7)
            prefix++;
        CHECK_INT(end - start, prefix + size);
        CHECK(end - start == prefix + size && memcmp(o.data + start + prefix, buf, size) == 0);
        free(buf);
    }
    pb_stream_free(&s);
    pb_out_free(&o);
    vt_registry_destroy(reg);
}

/* A sink that refuses piece k: VT_ESINK, no call after the refusal, and the
 * registry is untouched (the next full write matches the first). */
static void test_sink_refusal(void) {
    vt_registry_t *reg = build();
    pb_out_t full;
    pb_stream_t s;
    CHECK_INT(pb_scrape(reg, &full, &s), 0);
    pb_stream_free(&s);
    for (long k = 0; k < (long)full.pieces; k++) {
        pb_out_t o;
        pb_out_init(&o);
        o.refuse_at = k;
        CHECK_INT(vt_proto_write(reg, pb_sink, &o), VT_ESINK);
        CHECK(o.refused);
        CHECK_INT(o.calls_after_refusal, 0);
        CHECK_INT(o.pieces, k);
        /* What was delivered is a prefix of the full output. */
        CHECK(o.len <= full.len && (o.len == 0 || memcmp(o.data, full.data, o.len) == 0));
        pb_out_free(&o);
    }
    pb_out_t again;
    CHECK_INT(pb_scrape(reg, &again, &s), 0);
    CHECK_INT(again.len, full.len);
    CHECK(again.len == full.len && memcmp(again.data, full.data, full.len) == 0);
    pb_stream_free(&s);
    pb_out_free(&again);
    pb_out_free(&full);
    vt_registry_destroy(reg);
}

static void test_bad_arguments(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_proto_write(reg, NULL, NULL), VT_EINVAL);
    CHECK_INT(vt_proto_write(NULL, NULL, NULL), VT_EINVAL);
    vt_registry_destroy(reg);
}

/* A sink's nonzero return of any value is VT_ESINK, never passed through. */
static int refuse_with_42(void *ud, const char *data, size_t len) {
    (void)ud;
    (void)data;
    (void)len;
    return 42;
}

static void test_sink_code_is_esink(void) {
    vt_registry_t *reg = build();
    CHECK_INT(vt_proto_write(reg, refuse_with_42, NULL), VT_ESINK);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_multi_family_stream);
    RUN(test_bytes_equal_whole_pack);
    RUN(test_sink_refusal);
    RUN(test_bad_arguments);
    RUN(test_sink_code_is_esink);
    TEST_EXIT();
}
