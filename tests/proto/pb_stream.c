/* pb_stream.c - a collecting sink and a checked reader of delimited
 * MetricFamily streams for the proto tests. See pb_stream.h.
 *
 * The length prefix is decoded here independently of the library (at most 10
 * bytes, no overlong final byte) so that a framing bug cannot hide behind a
 * matching bug on both sides.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_stream.h"
#include "vitals/proto.h"

void pb_out_init(pb_out_t *o) {
    memset(o, 0, sizeof(*o));
    o->refuse_at = -1;
}

void pb_out_free(pb_out_t *o) {
    free(o->data);
    pb_out_init(o);
}

int pb_sink(void *user_data, const char *data, size_t len) {
    pb_out_t *o = user_data;
    if (o->refused) {
        o->calls_after_refusal++;
        return -1;
    }
    if (len == 0) {
        o->empty++;
        return 0;
    }
    if (o->refuse_at >= 0 && (size_t)o->refuse_at == o->pieces) {
        o->refused = 1;
        return -1;
    }
    if (o->len + len > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + len)
            cap *= 2;
        uint8_t *p = realloc(o->data, cap);
        if (!p)
            return -1;
        o->data = p;
        o->cap = cap;
    }
    memcpy(o->data + o->len, data, len);
    o->len += len;
    o->pieces++;
    if (len > o->max_piece)
        o->max_piece = len;
    return 0;
}

/* A varint at p (before end) into *v; returns its length, 0 when malformed. */
static size_t read_varint(const uint8_t *p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (i == 9 && p[i] > 1)
                return 0;
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

int pb_decode(const uint8_t *data, size_t len, pb_stream_t *out) {
    const uint8_t *p = data, *end = data + len;
    memset(out, 0, sizeof(*out));
    while (p < end) {
        uint64_t size;
        size_t k = read_varint(p, end, &size);
        if (k == 0) {
            fprintf(stderr, "pb_decode: bad length prefix at offset %zu\n", (size_t)(p - data));
            return -1;
        }
        if (size > (uint64_t)(end - p - (ptrdiff_t)k)) {
            fprintf(stderr, "pb_decode: message at offset %zu runs past the end (%llu bytes)\n",
                    (size_t)(p - data), (unsigned long long)size);
            return -1;
        }
        pb_family_t *f = io__prometheus__client__metric_family__unpack(NULL, (size_t)size, p + k);
        if (!f) {
            fprintf(stderr, "pb_decode: message at offset %zu does not unpack\n",
                    (size_t)(p - data));
            return -1;
        }
        pb_family_t **fam = realloc(out->fam, (out->n + 1) * sizeof(*fam));
        size_t *offsets = realloc(out->offsets, (out->n + 1) * sizeof(*offsets));
        if (fam)
            out->fam = fam;
        if (offsets)
            out->offsets = offsets;
        if (!fam || !offsets) {
            io__prometheus__client__metric_family__free_unpacked(f, NULL);
            return -1;
        }
        out->fam[out->n] = f;
        out->offsets[out->n] = (size_t)(p - data);
        out->n++;
        p += k + size;
    }
    return 0;
}

void pb_stream_free(pb_stream_t *s) {
    for (size_t i = 0; i < s->n; i++)
        io__prometheus__client__metric_family__free_unpacked(s->fam[i], NULL);
    free(s->fam);
    free(s->offsets);
    memset(s, 0, sizeof(*s));
}

const pb_family_t *pb_find(const pb_stream_t *s, const char *name) {
    for (size_t i = 0; i < s->n; i++)
        if (s->fam[i]->name && strcmp(s->fam[i]->name, name) == 0)
            return s->fam[i];
    return NULL;
}

const char *pb_label(const pb_metric_t *m, const char *name) {
    for (size_t i = 0; i < m->n_label; i++)
        if (m->label[i]->name && strcmp(m->label[i]->name, name) == 0)
            return m->label[i]->value;
    return NULL;
}

const pb_metric_t *pb_find_metric(const pb_family_t *f, const char *name, const char *value) {
    if (!f)
        return NULL;
    for (size_t i = 0; i < f->n_metric; i++) {
        const char *v = pb_label(f->metric[i], name);
        if (v && strcmp(v, value) == 0)
            return f->metric[i];
    }
    return NULL;
}

int pb_scrape(void *reg, pb_out_t *out, pb_stream_t *stream) {
    pb_out_init(out);
    int rc = vt_proto_write(reg, pb_sink, out);
    if (pb_decode(out->data, out->len, stream) != 0) {
        fprintf(stderr, "pb_scrape: the output does not decode\n");
        return -1000;
    }
    return rc;
}
