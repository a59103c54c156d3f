/* format.c - the text 0.0.4 and OpenMetrics 1.0 writers, over a bounded buffer.
 *
 * A writer receives finished families (a family view and its series views)
 * and turns them into lines in a fixed 64 KiB buffer that is handed to the
 * caller's sink whenever it fills. Labels arrive already rendered and escaped
 * (family.c renders them once, when a series is bound), so a scrape mostly
 * copies bytes and formats numbers.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "fmt_double.h"
#include "internal.h"

static void flush(vt__out_t *o) {
    if (o->len && !o->err && o->sink(o->user_data, o->buf, o->len) != 0)
        o->err = VT_ESINK;
    o->len = 0;
}

static inline void put(vt__out_t *o, const char *s, size_t n) {
    if (VT__LIKELY(o->len + n <= sizeof o->buf)) {
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        return;
    }
    while (n) {
        if (o->len == sizeof o->buf)
            flush(o);
        size_t room = sizeof o->buf - o->len, k = n < room ? n : room;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

static inline void putc_(vt__out_t *o, char c) {
    if (VT__UNLIKELY(o->len == sizeof o->buf))
        flush(o);
    o->buf[o->len++] = c;
}

static inline void puts_(vt__out_t *o, const char *s) {
    put(o, s, strlen(s));
}

static void put_double(vt__out_t *o, double v) {
    char b[VT_DOUBLE_BUFSZ];
    put(o, b, vt_format_double(v, b));
}

static void put_u64(vt__out_t *o, uint64_t v) {
    char b[24];
    put(o, b, vt__format_u64(v, b));
}

/* HELP text: text 0.0.4 escapes \ and newline; OpenMetrics also ". Neither
 * format has an escape for CR. One inside the text is written as it is (every
 * reader keeps it), but one just before the line's LF would make a CR LF line
 * end, which readers strip or refuse: carriage returns at the end of a HELP
 * text are left out, as blanks there are trimmed by text 0.0.4 readers. */
static void put_help(vt__out_t *o, const char *s, int om) {
    const char *end = s + strlen(s);
    while (end > s && end[-1] == '\r')
        end--;
    const char *run = s;
    for (; s < end; s++) {
        char c = *s;
        if (c != '\\' && c != '\n' && !(om && c == '"'))
            continue;
        put(o, run, (size_t)(s - run));
        putc_(o, '\\');
        putc_(o, c == '\n' ? 'n' : c);
        run = s + 1;
    }
    put(o, run, (size_t)(s - run));
}

static void put_meta(vt__out_t *o, const char *kind, const char *name, const char *suffix) {
    put(o, "# ", 2);
    puts_(o, kind);
    putc_(o, ' ');
    puts_(o, name);
    puts_(o, suffix);
    putc_(o, ' ');
}

/* name+suffix{labels[,extra]} */
static void put_series(vt__out_t *o, const char *name, size_t name_len, const char *suffix,
                       const vt__series_view_t *s, const char *extra_name, const char *extra) {
    put(o, name, name_len);
    puts_(o, suffix);
    if (s->labels_len || extra) {
        putc_(o, '{');
        put(o, s->labels, s->labels_len);
        if (extra) {
            if (s->labels_len)
                putc_(o, ',');
            puts_(o, extra_name);
            put(o, "=\"", 2);
            puts_(o, extra);
            putc_(o, '"');
        }
        putc_(o, '}');
    }
    putc_(o, ' ');
}

static const char *type_name(vt_type_t t, int om) {
    switch (t) {
    case VT_COUNTER:
        return "counter";
    case VT_GAUGE:
        return "gauge";
    case VT_HISTOGRAM:
        return "histogram";
    case VT_SUMMARY:
        return "summary";
    case VT_INFO:
        return om ? "info" : "gauge";
    default:
        return om ? "unknown" : "untyped";
    }
}

static void put_value(vt__out_t *o, const vt__series_view_t *s) {
    if (s->value_is_count)
        put_u64(o, s->count);
    else
        put_double(o, s->value);
}

/* OpenMetrics exemplar: " # {labels} value timestamp" before the newline. */
static void put_exemplar(vt__out_t *o, const vt__series_view_t *s, size_t i) {
    if (o->format != VT_FORMAT_OPENMETRICS || !s->ex || i >= s->nex || !s->ex[i].len)
        return;
    const vt__exemplar_view_t *x = &s->ex[i];
    put(o, " # {", 4);
    put(o, x->text, x->len);
    put(o, "} ", 2);
    put_double(o, x->value);
    putc_(o, ' ');
    put_double(o, x->ts);
}

static void put_created(vt__out_t *o, const char *name, size_t nl, const vt__series_view_t *s) {
    if (isnan(s->created))
        return;
    put_series(o, name, nl, "_created", s, NULL, NULL);
    put_double(o, s->created);
    putc_(o, '\n');
}

static int write_family(vt__target_t *t, const vt__family_view_t *f, const vt__series_view_t *sv,
                        size_t n) {
    vt__out_t *o = (vt__out_t *)t;
    int om = o->format == VT_FORMAT_OPENMETRICS;
    const char *meta_suffix = "";
    if (!om && f->type == VT_COUNTER)
        meta_suffix = "_total";
    else if (!om && f->type == VT_INFO)
        meta_suffix = "_info";
    size_t nl = strlen(f->name);

    put_meta(o, "HELP", f->name, meta_suffix);
    put_help(o, f->help ? f->help : "", om);
    putc_(o, '\n');
    put_meta(o, "TYPE", f->name, meta_suffix);
    puts_(o, type_name(f->type, om));
    putc_(o, '\n');
    if (om && f->unit) {
        put_meta(o, "UNIT", f->name, "");
        puts_(o, f->unit);
        putc_(o, '\n');
    }
    for (size_t i = 0; i < n; i++) {
        const vt__series_view_t *s = &sv[i];
        switch (f->type) {
        case VT_COUNTER:
            put_series(o, f->name, nl, "_total", s, NULL, NULL);
            put_value(o, s);
            put_exemplar(o, s, 0);
            putc_(o, '\n');
            if (om && o->created)
                put_created(o, f->name, nl, s);
            break;
        case VT_INFO:
            put_series(o, f->name, nl, "_info", s, NULL, NULL);
            put(o, "1\n", 2);
            break;
        case VT_HISTOGRAM: {
            const char *const *le = om ? f->le_om : f->le_text;
            for (size_t b = 0; b <= f->nbounds; b++) {
                put_series(o, f->name, nl, "_bucket", s, "le", le[b]);
                put_u64(o, s->buckets[b]);
                put_exemplar(o, s, b);
                putc_(o, '\n');
            }
            goto sum_count;
        }
        case VT_SUMMARY:
            for (size_t q = 0; q < s->nquantiles; q++) {
                char qb[VT_DOUBLE_BUFSZ];
                if (om && s->qvalues[q] < 0)
                    continue; /* OpenMetrics forbids negative quantile values */
                if (om)
                    vt__format_om_canonical(s->quantiles[q], qb);
                else
                    vt_format_double(s->quantiles[q], qb);
                put_series(o, f->name, nl, "", s, "quantile", qb);
                put_double(o, s->qvalues[q]);
                putc_(o, '\n');
            }
        sum_count:
            if (om) {
                /* OpenMetrics forbids a negative or NaN _sum and any _sum on a
                 * histogram with negative bounds; _count goes with _sum (a
                 * histogram's +Inf bucket still holds it). */
                if (!(s->sum >= 0) ||
                    (f->type == VT_HISTOGRAM && f->nbounds && f->le_om[0][0] == '-'))
                    goto created;
                put_series(o, f->name, nl, "_count", s, NULL, NULL);
                put_u64(o, s->count);
                putc_(o, '\n');
                put_series(o, f->name, nl, "_sum", s, NULL, NULL);
                put_double(o, s->sum);
                putc_(o, '\n');
            created:
                if (o->created)
                    put_created(o, f->name, nl, s);
            } else {
                put_series(o, f->name, nl, "_sum", s, NULL, NULL);
                put_double(o, s->sum);
                putc_(o, '\n');
                put_series(o, f->name, nl, "_count", s, NULL, NULL);
                put_u64(o, s->count);
                putc_(o, '\n');
            }
            break;
        default:
            put_series(o, f->name, nl, "", s, NULL, NULL);
            put_double(o, s->value);
            putc_(o, '\n');
        }
    }
    return o->err;
}

void vt__out_init(vt__out_t *o, const vt_write_opts_t *opts, vt_sink_fn sink, void *ud) {
    o->target.family = write_family;
    o->target.wants_native = 0;
    o->sink = sink;
    o->user_data = ud;
    o->format = opts ? (int)opts->format : VT_FORMAT_TEXT;
    o->created = opts ? opts->created : 0;
    o->err = 0;
    o->len = 0;
}

int vt__out_finish(vt__out_t *o) {
    if (o->format == VT_FORMAT_OPENMETRICS)
        put(o, "# EOF\n", 6);
    flush(o);
    return o->err;
}
