/* sample.c - vt_registry_get_sample_value(): one sample's value, for tests.
 *
 * It runs a scrape into a matcher instead of a writer, so it sees exactly
 * what an exposition would show, collectors and self-metrics included.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "fmt_double.h"
#include "internal.h"

typedef struct matcher {
    vt__target_t target;
    const char *name;
    const char *const *names, *const *values;
    size_t n;
    int found;
    double value;
} matcher_t;

/* Compare an escaped label value of length n with a plain string. */
static int value_eq(const char *esc, size_t n, const char *plain) {
    size_t i = 0;
    for (; i < n; i++, plain++) {
        char c = esc[i];
        if (c == '\\' && i + 1 < n) {
            c = esc[++i];
            if (c == 'n')
                c = '\n';
        }
        if (*plain != c)
            return 0;
    }
    return *plain == '\0';
}

/* Do the rendered labels plus (extra_name, extra) equal the requested set? */
static int labels_match(const matcher_t *m, const char *text, size_t len, const char *extra_name,
                        const char *extra) {
    size_t pairs = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return 0;
        size_t nl = (size_t)(eq - p);
        const char *v = eq + 2, *ve = v;
        while (ve < end && *ve != '"')
            ve += *ve == '\\' ? 2 : 1;
        size_t i = 0;
        for (; i < m->n; i++)
            if (strlen(m->names[i]) == nl && memcmp(m->names[i], p, nl) == 0)
                break;
        if (i == m->n || !value_eq(v, (size_t)(ve - v), m->values[i]))
            return 0;
        pairs++;
        p = ve + 2; /* past '"' and ',' */
    }
    if (extra) {
        size_t i = 0;
        for (; i < m->n; i++)
            if (strcmp(m->names[i], extra_name) == 0)
                break;
        if (i == m->n || strcmp(m->values[i], extra) != 0)
            return 0;
        pairs++;
    }
    return pairs == m->n;
}

static int is(const char *want, const char *name, const char *suffix) {
    size_t a = strlen(name);
    return strncmp(want, name, a) == 0 && strcmp(want + a, suffix) == 0;
}

static int match_family(vt__target_t *t, const vt__family_view_t *f, const vt__series_view_t *sv,
                        size_t n) {
    matcher_t *m = (matcher_t *)t;
    if (m->found || strncmp(m->name, f->name, strlen(f->name)) != 0)
        return 0;
    for (size_t i = 0; i < n && !m->found; i++) {
        const vt__series_view_t *s = &sv[i];
        int hit = 0;
        double v = 0;
        switch (f->type) {
        case VT_COUNTER:
            if ((hit = is(m->name, f->name, "_total")))
                v = s->value;
            else if ((hit = is(m->name, f->name, "_created") && !isnan(s->created)))
                v = s->created;
            hit = hit && labels_match(m, s->labels, s->labels_len, NULL, NULL);
            break;
        case VT_INFO:
            hit = is(m->name, f->name, "_info") &&
                  labels_match(m, s->labels, s->labels_len, NULL, NULL);
            v = 1;
            break;
        case VT_HISTOGRAM:
            if (is(m->name, f->name, "_bucket")) {
                for (size_t b = 0; b <= f->nbounds && !hit; b++)
                    if (labels_match(m, s->labels, s->labels_len, "le", f->le_text[b])) {
                        hit = 1;
                        v = (double)s->buckets[b];
                    }
                break;
            }
            /* fall through */
        case VT_SUMMARY:
            if (is(m->name, f->name, "_sum"))
                hit = 1, v = s->sum;
            else if (is(m->name, f->name, "_count"))
                hit = 1, v = (double)s->count;
            else if (is(m->name, f->name, "_created") && !isnan(s->created))
                hit = 1, v = s->created;
            hit = hit && labels_match(m, s->labels, s->labels_len, NULL, NULL);
            if (!hit && f->type == VT_SUMMARY && is(m->name, f->name, ""))
                for (size_t q = 0; q < s->nquantiles && !hit; q++) {
                    char qb[VT_DOUBLE_BUFSZ];
                    vt_format_double(s->quantiles[q], qb);
                    if (labels_match(m, s->labels, s->labels_len, "quantile", qb)) {
                        hit = 1;
                        v = s->qvalues[q];
                    }
                }
            break;
        default:
            hit = is(m->name, f->name, "") && labels_match(m, s->labels, s->labels_len, NULL, NULL);
            v = s->value;
        }
        if (hit) {
            m->found = 1;
            m->value = v;
        }
    }
    return 0;
}

int vt_registry_get_sample_value(vt_registry_t *reg, const char *name,
                                 const char *const *label_names, const char *const *label_values,
                                 double *out) {
    if (!reg || !name || !out)
        return VT_EINVAL;
    size_t n = 0, k = 0;
    while (label_names && label_names[n])
        n++;
    while (label_values && label_values[k])
        k++;
    if (n != k)
        return VT_EINVAL;
    matcher_t m = {.target = {.family = match_family},
                   .name = name,
                   .names = label_names,
                   .values = label_values,
                   .n = n};
    int rc = vt__registry_visit(reg, &m.target);
    if (rc)
        return rc;
    if (!m.found)
        return VT_ENOTFOUND;
    *out = m.value;
    return 0;
}
