/* pb_stream.h - what the proto tests use to read the delimited protobuf
 * output: a sink that keeps every piece (and can refuse one), a splitter that
 * checks the varint framing and unpacks each MetricFamily with the code
 * protoc-c generated, and lookups by name and label.
 *
 * Not thread-safe: one stream per test thread.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_PB_STREAM_H
#define VT_TEST_PB_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.pb-c.h"

typedef Io__Prometheus__Client__MetricFamily pb_family_t;
typedef Io__Prometheus__Client__Metric pb_metric_t;

/* Everything a sink was given. */
typedef struct pb_out {
    uint8_t *data;
    size_t len, cap;
    size_t pieces;    /* calls that delivered bytes */
    size_t max_piece; /* largest piece seen */
    size_t empty;     /* calls with len 0 */
    long refuse_at;   /* refuse the piece with this index (0-based); -1: never */
    size_t calls_after_refusal;
    int refused;
} pb_out_t;

void pb_out_init(pb_out_t *o);
void pb_out_free(pb_out_t *o);
int pb_sink(void *user_data, const char *data, size_t len);

/* Decoded messages, in stream order. */
typedef struct pb_stream {
    pb_family_t **fam;
    size_t n;
    size_t *offsets; /* where each message's length prefix starts */
} pb_stream_t;

/* Split data into length-prefixed messages and unpack each one. Returns 0, or
 * -1 when a prefix is malformed, a message runs past the end, or one does not
 * unpack (reason printed on stderr). */
int pb_decode(const uint8_t *data, size_t len, pb_stream_t *out);
void pb_stream_free(pb_stream_t *s);

/* The family with this name, or NULL. */
const pb_family_t *pb_find(const pb_stream_t *s, const char *name);

/* The first metric of f with label name=value, or NULL. */
const pb_metric_t *pb_find_metric(const pb_family_t *f, const char *name, const char *value);

/* The value of label name on m, or NULL. */
const char *pb_label(const pb_metric_t *m, const char *name);

/* vt_proto_write into a fresh pb_out_t and decode it; returns the writer's
 * code (and fails a CHECK on framing errors). */
int pb_scrape(void *reg, pb_out_t *out, pb_stream_t *stream);

#endif
