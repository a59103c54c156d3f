/* write.c - vt_proto_write(): the registry as length-delimited MetricFamily
 * messages, streamed into a sink in pieces of at most 64 KiB.
 *
 * A delimited message needs its length before its bytes, and a family may be
 * larger than any buffer we want to hold. So each family is encoded in two
 * passes over its series: the first sizes every Metric (kept in an array of
 * lengths), the second packs them one by one into the staging buffer. The
 * family's own fields (name, help, type, unit) are packed as a MetricFamily
 * without metrics, and each Metric follows as field 4 (tag, length, bytes):
 * protobuf reads repeated fields from consecutive records, so the bytes equal
 * those of one MetricFamily that holds them all. A Metric larger than the
 * staging buffer goes through protobuf-c's streaming packer.
 *
 * State lives in one writer per call: safe from any thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "proto_internal.h"

#define STAGE_SIZE 65536
/* The key of MetricFamily field 4 (metric), wire type 2 (length-delimited). */
#define METRIC_KEY ((4u << 3) | 2u)

typedef struct writer {
    ProtobufCBuffer pb; /* protobuf-c's view of the staging buffer; first member */
    vt_sink_fn sink;
    void *user_data;
    uint8_t *stage; /* STAGE_SIZE bytes */
    size_t len;     /* bytes of stage in use */
    int error;      /* first failure (VT_ESINK, VT_EIO); later output is dropped */
    vt__pb_scratch_t sc;
    size_t *sizes; /* packed size of each Metric of the current family */
    size_t sizes_cap;
    char *name; /* the current family's protobuf name */
    size_t name_cap;
} writer_t;

static void flush(writer_t *w) {
    if (w->len == 0 || w->error)
        return;
    if (w->sink(w->user_data, (const char *)w->stage, w->len) != 0)
        w->error = VT_ESINK;
    w->len = 0;
}

static void put(writer_t *w, const uint8_t *data, size_t len) {
    while (len > 0 && !w->error) {
        if (w->len == STAGE_SIZE)
            flush(w);
        size_t n = STAGE_SIZE - w->len < len ? STAGE_SIZE - w->len : len;
        memcpy(w->stage + w->len, data, n);
        w->len += n;
        data += n;
        len -= n;
    }
}

/* protobuf-c's append callback for messages packed piece by piece. */
static void append(ProtobufCBuffer *buffer, size_t len, const uint8_t *data) {
    put((writer_t *)(void *)buffer, data, len);
}

static void put_varint(writer_t *w, uint64_t v) {
    uint8_t b[10];
    put(w, b, vt__pb_varint_put(v, b));
}

/* Pack message m, whose packed size is size, into the stream. A packer that
 * disagrees with its own size count would corrupt the framing: VT_EIO. */
static void put_message(writer_t *w, const ProtobufCMessage *m, size_t size) {
    size_t packed;
    if (w->error)
        return;
    if (size > STAGE_SIZE - w->len)
        flush(w);
    if (size <= STAGE_SIZE - w->len) {
        packed = protobuf_c_message_pack(m, w->stage + w->len);
        w->len += packed;
    } else {
        packed = protobuf_c_message_pack_to_buffer(m, &w->pb);
    }
    if (packed != size && !w->error)
        w->error = VT_EIO;
}

static int reserve_sizes(writer_t *w, size_t n) {
    if (n <= w->sizes_cap)
        return 0;
    if (n > SIZE_MAX / sizeof(size_t))
        return VT_ENOMEM;
    size_t *p = realloc(w->sizes, n * sizeof(*p));
    if (!p)
        return VT_ENOMEM;
    w->sizes = p;
    w->sizes_cap = n;
    return 0;
}

/* The family's protobuf name in w->name: its name plus the type's suffix. */
static int set_name(writer_t *w, const vt_sample_family_t *f) {
    const char *suffix = vt__pb_name_suffix(f->type);
    size_t nl = strlen(f->name), sl = strlen(suffix);
    if (nl + sl + 1 > w->name_cap) {
        char *p = realloc(w->name, nl + sl + 1);
        if (!p)
            return VT_ENOMEM;
        w->name = p;
        w->name_cap = nl + sl + 1;
    }
    memcpy(w->name, f->name, nl);
    memcpy(w->name + nl, suffix, sl + 1);
    return 0;
}

static int write_family(const vt_sample_family_t *f, void *user_data) {
    writer_t *w = user_data;
    int rc;
    if (f->series_count == 0)
        return 0;
    if ((rc = set_name(w, f)) != 0 || (rc = reserve_sizes(w, f->series_count)) != 0 ||
        (rc = vt__pb_scratch_family(&w->sc, f)) != 0)
        return rc;

    vt__pb_family_t head = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    head.name = w->name;
    head.help = (char *)(uintptr_t)f->help;
    head.has_type = 1;
    head.type = vt__pb_type(f->type);
    head.unit = (char *)(uintptr_t)f->unit;
    size_t head_size = protobuf_c_message_get_packed_size(&head.base);

    uint64_t total = head_size;
    for (size_t i = 0; i < f->series_count; i++) {
        vt__pb_scratch_series(&w->sc, f, i);
        size_t size = protobuf_c_message_get_packed_size(&w->sc.metric.base);
        w->sizes[i] = size;
        total += 1 + vt__pb_varint_len(size) + size;
    }

    put_varint(w, total);
    put_message(w, &head.base, head_size);
    for (size_t i = 0; i < f->series_count && !w->error; i++) {
        uint8_t key = METRIC_KEY;
        vt__pb_scratch_series(&w->sc, f, i);
        put(w, &key, 1);
        put_varint(w, w->sizes[i]);
        put_message(w, &w->sc.metric.base, w->sizes[i]);
    }
    return w->error;
}

int vt_proto_write(vt_registry_t *reg, vt_sink_fn sink, void *user_data) {
    if (!sink)
        return VT_EINVAL;
    if (!reg)
        reg = vt_registry_default();
    writer_t w;
    memset(&w, 0, sizeof(w));
    w.pb.append = append;
    w.sink = sink;
    w.user_data = user_data;
    vt__pb_scratch_init(&w.sc);
    w.stage = malloc(STAGE_SIZE);
    if (!w.stage)
        return VT_ENOMEM;

    int rc = vt_registry_visit(reg, write_family, &w);
    if (rc == 0) {
        flush(&w);
        rc = w.error;
    }
    free(w.stage);
    free(w.sizes);
    free(w.name);
    vt__pb_scratch_free(&w.sc);
    return rc;
}

size_t vt__pb_varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t vt__pb_varint_put(uint64_t v, uint8_t *out) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}
