/* remote_write_encode.c - a registry snapshot as one remote write 1.0
 * WriteRequest, snappy-compressed.
 *
 * The visit callback packs each sample's TimeSeries (built on the stack with
 * the protobuf-c types generated from remote.proto) straight into a byte
 * buffer, prefixed by the WriteRequest field key and length by hand: a
 * repeated message field is just that sequence on the wire, so no tree of the
 * whole request is ever held in memory. Metadata goes into a second buffer
 * that follows the series. Runs on the writer thread only.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"
#include "remote.pb-c.h"

/* Labels one series can carry: __name__, const and family labels (at most
 * 64 + const), le/quantile, and the writer's own. */
#define MAX_LABELS 160

typedef struct enc {
    const char *const *extra; /* name, value pairs */
    size_t nextra;
    int metadata;
    int64_t ts;
    vt__gbuf_t series, meta;
    uint64_t samples;
    int err;
} enc_t;

/* Field key (wire type 2) and varint length, then the packed message. */
static int put_message(vt__gbuf_t *b, unsigned field, const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    unsigned char head[12];
    size_t h = 0;
    head[h++] = (unsigned char)(field << 3 | 2);
    size_t v = n;
    do {
        head[h++] = (unsigned char)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
    if (vt__gbuf_put(b, (const char *)head, h))
        return VT_ENOMEM;
    if (vt__gbuf_reserve(b, n))
        return VT_ENOMEM;
    protobuf_c_message_pack(m, (uint8_t *)b->data + b->len);
    b->len += n;
    return 0;
}

static int cmp_label(const void *a, const void *b) {
    const VtPrompb__Label *x = *(VtPrompb__Label *const *)a, *y = *(VtPrompb__Label *const *)b;
    return strcmp(x->name, y->name);
}

/* One TimeSeries with one sample. */
static void sample(enc_t *e, const char *name, const char *suffix, const vt_sample_series_t *s,
                   const char *extra_name, const char *extra_value, double v) {
    if (e->err)
        return;
    VtPrompb__Label lab[MAX_LABELS];
    VtPrompb__Label *ptr[MAX_LABELS];
    size_t n = 0;
    char full[512];
    size_t nl = strlen(name), sl = strlen(suffix);
    if (nl + sl >= sizeof full || s->label_count + e->nextra + 2 > MAX_LABELS)
        return;
    memcpy(full, name, nl);
    memcpy(full + nl, suffix, sl + 1);
    lab[n] = (VtPrompb__Label)VT_PROMPB__LABEL__INIT;
    lab[n].name = (char *)"__name__";
    lab[n++].value = full;
    for (size_t i = 0; i < s->label_count; i++) {
        lab[n] = (VtPrompb__Label)VT_PROMPB__LABEL__INIT;
        lab[n].name = (char *)s->label_names[i];
        lab[n++].value = (char *)s->label_values[i];
    }
    if (extra_name) {
        lab[n] = (VtPrompb__Label)VT_PROMPB__LABEL__INIT;
        lab[n].name = (char *)extra_name;
        lab[n++].value = (char *)extra_value;
    }
    size_t own = n;
    for (size_t k = 0; k < e->nextra; k++) {
        const char *en = e->extra[2 * k];
        size_t i = 0;
        while (i < own && strcmp(lab[i].name, en) != 0)
            i++;
        if (i < own)
            continue; /* the series' own label wins, as with external labels */
        lab[n] = (VtPrompb__Label)VT_PROMPB__LABEL__INIT;
        lab[n].name = (char *)en;
        lab[n++].value = (char *)e->extra[2 * k + 1];
    }
    for (size_t i = 0; i < n; i++)
        ptr[i] = &lab[i];
    qsort(ptr, n, sizeof ptr[0], cmp_label);

    VtPrompb__Sample smp = VT_PROMPB__SAMPLE__INIT;
    smp.value = v;
    smp.timestamp = e->ts;
    VtPrompb__Sample *sp = &smp;
    VtPrompb__TimeSeries ts = VT_PROMPB__TIME_SERIES__INIT;
    ts.n_labels = n;
    ts.labels = ptr;
    ts.n_samples = 1;
    ts.samples = &sp;
    if (put_message(&e->series, 1, &ts.base))
        e->err = VT_ENOMEM;
    else
        e->samples++;
}

static void metadata(enc_t *e, const vt_sample_family_t *f) {
    VtPrompb__MetricMetadata md = VT_PROMPB__METRIC_METADATA__INIT;
    char name[512];
    const char *suffix = f->type == VT_COUNTER ? "_total" : f->type == VT_INFO ? "_info" : "";
    size_t nl = strlen(f->name), sl = strlen(suffix);
    if (nl + sl >= sizeof name)
        return;
    memcpy(name, f->name, nl);
    memcpy(name + nl, suffix, sl + 1);
    switch (f->type) {
    case VT_COUNTER:
        md.type = VT_PROMPB__METRIC_METADATA__METRIC_TYPE__COUNTER;
        break;
    case VT_GAUGE:
    case VT_INFO: /* as the text format types an info metric */
        md.type = VT_PROMPB__METRIC_METADATA__METRIC_TYPE__GAUGE;
        break;
    case VT_HISTOGRAM:
        md.type = VT_PROMPB__METRIC_METADATA__METRIC_TYPE__HISTOGRAM;
        break;
    case VT_SUMMARY:
        md.type = VT_PROMPB__METRIC_METADATA__METRIC_TYPE__SUMMARY;
        break;
    default:
        md.type = VT_PROMPB__METRIC_METADATA__METRIC_TYPE__UNKNOWN;
    }
    md.metric_family_name = name;
    md.help = (char *)f->help;
    md.unit = (char *)(f->unit ? f->unit : "");
    if (put_message(&e->meta, 3, &md.base))
        e->err = VT_ENOMEM;
}

static int family(const vt_sample_family_t *f, void *ud) {
    enc_t *e = ud;
    if (e->metadata)
        metadata(e, f);
    for (size_t i = 0; i < f->series_count && !e->err; i++) {
        const vt_sample_series_t *s = &f->series[i];
        char nb[VT_DOUBLE_BUFSZ];
        switch (f->type) {
        case VT_COUNTER:
            sample(e, f->name, "_total", s, NULL, NULL, s->value);
            break;
        case VT_INFO:
            sample(e, f->name, "_info", s, NULL, NULL, 1);
            break;
        case VT_HISTOGRAM:
            for (size_t b = 0; b < f->bound_count && s->buckets; b++) {
                vt_format_double(f->bounds[b], nb);
                sample(e, f->name, "_bucket", s, "le", nb, (double)s->buckets[b]);
            }
            sample(e, f->name, "_sum", s, NULL, NULL, s->sum);
            sample(e, f->name, "_count", s, NULL, NULL, (double)s->count);
            break;
        case VT_SUMMARY:
            for (size_t q = 0; q < s->quantile_count; q++) {
                vt_format_double(s->quantiles[q], nb);
                sample(e, f->name, "", s, "quantile", nb, s->quantile_values[q]);
            }
            sample(e, f->name, "_sum", s, NULL, NULL, s->sum);
            sample(e, f->name, "_count", s, NULL, NULL, (double)s->count);
            break;
        default:
            sample(e, f->name, "", s, NULL, NULL, s->value);
        }
    }
    return e->err;
}

int vt__rw_encode(vt_registry_t *reg, const char *const *extra, size_t nextra, int with_metadata,
                  int64_t ts_ms, vt__gbuf_t *out, uint64_t *out_samples) {
    enc_t e = {.extra = extra, .nextra = nextra, .metadata = with_metadata, .ts = ts_ms};
    int rc = vt_registry_visit(reg, family, &e);
    if (!rc && e.meta.len)
        rc = vt__gbuf_put(&e.series, e.meta.data, e.meta.len);
    if (!rc) {
        size_t max = snappy_max_compressed_length(e.series.len);
        char *z = malloc(max ? max : 1);
        size_t zl = max;
        if (!z)
            rc = VT_ENOMEM;
        else if (snappy_compress(e.series.data ? e.series.data : "", e.series.len, z, &zl) !=
                 SNAPPY_OK) {
            free(z);
            rc = VT_ENOMEM;
        } else {
            free(out->data);
            out->data = z;
            out->len = zl;
            out->cap = max;
            *out_samples = e.samples;
        }
    }
    free(e.series.data);
    free(e.meta.data);
    return rc;
}
