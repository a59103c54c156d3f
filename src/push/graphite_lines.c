/* graphite_lines.c - a registry snapshot as Graphite plaintext lines.
 *
 * Runs on the bridge thread only. One line per sample: "<path> <value> <ts>\n"
 * where the path is the prefix, the sanitized sample name, and the sample's
 * labels sorted by name (the histogram's "le" and the summary's "quantile"
 * among them) as ".name.value" segments or ";name=value" tags. A line whose
 * path would pass PATH_MAX_ bytes is skipped, and so are NaN and infinite
 * values, which carbon cannot store usefully. An empty label value becomes
 * "_" (Graphite allows neither an empty segment nor an empty tag value).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"

/* Longest path written; carbon itself has no limit, file systems do. */
#define PATH_MAX_ 4096

int vt__gbuf_reserve(vt__gbuf_t *b, size_t n) {
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < b->len + n)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
        return VT_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int vt__gbuf_put(vt__gbuf_t *b, const char *s, size_t n) {
    if (vt__gbuf_reserve(b, n))
        return VT_ENOMEM;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

typedef struct render {
    vt__gbuf_t *out;
    const char *prefix;
    int tags;
    char ts[24];
    size_t ts_len;
    uint64_t lines;
    int err;
} render_t;

typedef struct label {
    const char *name, *value;
} label_t;

/* Append one sanitized piece to path; 0, or -1 when it does not fit. */
static int seg(char *path, size_t *n, const char *s) {
    size_t w = vt__segment(path + *n, PATH_MAX_ - *n, s);
    if (w == (size_t)-1)
        return -1;
    *n += w;
    return 0;
}

static int ch(char *path, size_t *n, char c) {
    if (*n == PATH_MAX_)
        return -1;
    path[(*n)++] = c;
    return 0;
}

/* One line for the sample name+suffix with the series' labels plus an
 * optional extra label (le / quantile). */
static void line(render_t *r, const char *name, const char *suffix, const vt_sample_series_t *s,
                 const char *extra_name, const char *extra_value, double v) {
    if (!isfinite(v) || r->err)
        return;
    label_t stack[16], *labels = stack;
    size_t nl = s->label_count + (extra_name ? 1 : 0);
    if (nl > sizeof stack / sizeof stack[0] && !(labels = malloc(nl * sizeof *labels))) {
        r->err = VT_ENOMEM;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->label_count; i++)
        labels[k++] = (label_t){s->label_names[i], s->label_values[i]};
    if (extra_name)
        labels[k++] = (label_t){extra_name, extra_value};
    for (size_t i = 1; i < nl; i++) /* insertion sort: label sets are small */
        for (size_t j = i; j > 0 && strcmp(labels[j - 1].name, labels[j].name) > 0; j--) {
            label_t t = labels[j];
            labels[j] = labels[j - 1];
            labels[j - 1] = t;
        }

    char path[PATH_MAX_];
    size_t n = 0;
    int bad = 0;
    if (r->prefix && *r->prefix) {
        size_t pl = strlen(r->prefix);
        bad = pl + 1 >= PATH_MAX_;
        if (!bad) {
            memcpy(path, r->prefix, pl);
            n = pl;
            path[n++] = '.';
        }
    }
    bad = bad || seg(path, &n, name) || seg(path, &n, suffix);
    for (size_t i = 0; i < nl && !bad; i++) {
        bad = ch(path, &n, r->tags ? ';' : '.') || seg(path, &n, labels[i].name) ||
              ch(path, &n, r->tags ? '=' : '.') || seg(path, &n, labels[i].value);
        /* A tag value may not be empty; an empty segment would make "a..b". */
        if (!bad && !*labels[i].value)
            bad = ch(path, &n, '_');
    }
    if (labels != stack)
        free(labels);
    if (bad)
        return;
    char num[VT_DOUBLE_BUFSZ + 2];
    num[0] = ' ';
    size_t vl = 1 + vt_format_double(v, num + 1);
    num[vl++] = ' ';
    if (vt__gbuf_put(r->out, path, n) || vt__gbuf_put(r->out, num, vl) ||
        vt__gbuf_put(r->out, r->ts, r->ts_len)) {
        r->err = VT_ENOMEM;
        return;
    }
    r->lines++;
}

static int family(const vt_sample_family_t *f, void *ud) {
    render_t *r = ud;
    for (size_t i = 0; i < f->series_count; i++) {
        const vt_sample_series_t *s = &f->series[i];
        char nb[VT_DOUBLE_BUFSZ];
        switch (f->type) {
        case VT_COUNTER:
            line(r, f->name, "_total", s, NULL, NULL, s->value);
            break;
        case VT_INFO:
            line(r, f->name, "_info", s, NULL, NULL, 1);
            break;
        case VT_HISTOGRAM:
            for (size_t b = 0; b < f->bound_count && s->buckets; b++) {
                vt_format_double(f->bounds[b], nb);
                line(r, f->name, "_bucket", s, "le", nb, (double)s->buckets[b]);
            }
            line(r, f->name, "_sum", s, NULL, NULL, s->sum);
            line(r, f->name, "_count", s, NULL, NULL, (double)s->count);
            break;
        case VT_SUMMARY:
            for (size_t q = 0; q < s->quantile_count; q++) {
                vt_format_double(s->quantiles[q], nb);
                line(r, f->name, "", s, "quantile", nb, s->quantile_values[q]);
            }
            line(r, f->name, "_sum", s, NULL, NULL, s->sum);
            line(r, f->name, "_count", s, NULL, NULL, (double)s->count);
            break;
        default:
            line(r, f->name, "", s, NULL, NULL, s->value);
        }
    }
    return r->err;
}

int vt__graphite_render(vt_registry_t *reg, const char *prefix, int tags, long long ts,
                        vt__gbuf_t *out, uint64_t *out_lines) {
    render_t r = {.out = out, .prefix = prefix, .tags = tags};
    r.ts_len = (size_t)snprintf(r.ts, sizeof r.ts, "%lld\n", ts);
    size_t before = out->len;
    int rc = vt_registry_visit(reg, family, &r);
    if (rc) {
        out->len = before; /* no partial snapshot */
        return rc;
    }
    *out_lines = r.lines;
    return 0;
}
