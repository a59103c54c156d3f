/* visit.c - vt_registry_visit(): a scrape delivered as structures.
 *
 * It runs the scrape machinery with a target that converts each family view
 * into the public vt_sample_family_t: the rendered label text of every series
 * (`a="x",b="y"`, escaped) is split into name/value arrays and unescaped into
 * one arena per family, and the histogram's `le` texts become numbers.
 * Exemplars are rendered the same way (`trace_id="..."`) and split alike. All
 * of it is freed when the user's callback returns, so the callback must copy
 * what it keeps. The registry read lock is held throughout (see
 * vt__registry_visit).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vitals/visit.h"

typedef struct visitor {
    vt__target_t target;
    vt_visit_fn fn;
    void *user_data;
} visitor_t;

/* Pairs in a rendered label text. Values are quoted and may hold escaped
 * quotes, so commas are counted only outside the quotes. */
static size_t count_pairs(const char *p, size_t len) {
    size_t pairs = 0;
    const char *end = p + len;
    while (p < end) {
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq + 1 >= end || eq[1] != '"')
            break;
        const char *v = eq + 2;
        while (v < end && *v != '"')
            v += *v == '\\' ? 2 : 1;
        pairs++;
        p = v + 2; /* past the closing quote and the comma */
    }
    return pairs;
}

/* Split and unescape one rendered label text into names/values, copying the
 * strings into *arena (advanced past what was written). Returns the pairs. */
static size_t split_labels(const char *p, size_t len, const char **names, const char **values,
                           char **arena) {
    size_t pairs = 0;
    const char *end = p + len;
    char *a = *arena;
    while (p < end) {
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq + 1 >= end || eq[1] != '"')
            break;
        names[pairs] = a;
        memcpy(a, p, (size_t)(eq - p));
        a += eq - p;
        *a++ = '\0';
        values[pairs] = a;
        const char *v = eq + 2;
        while (v < end && *v != '"') {
            char c = *v++;
            if (c == '\\' && v < end) {
                c = *v++;
                if (c == 'n')
                    c = '\n';
            }
            *a++ = c;
        }
        *a++ = '\0';
        pairs++;
        p = v + 2;
    }
    *arena = a;
    return pairs;
}

/* The exemplars of one series as public structures, their label pointers
 * taken from *ptrs and their strings written into *arena (both advanced). */
static void fill_exemplars(const vt__series_view_t *s, vt_sample_exemplar_t *out,
                           const char ***ptrs, char **arena) {
    for (size_t e = 0; e < s->nex; e++) {
        const vt__exemplar_view_t *x = &s->ex[e];
        size_t k = x->len ? count_pairs(x->text, x->len) : 0;
        const char **names = *ptrs, **values = *ptrs + k;
        *ptrs += 2 * k;
        if (k)
            split_labels(x->text, x->len, names, values, arena);
        out[e] = (vt_sample_exemplar_t){
            .label_count = k,
            .label_names = k ? names : NULL,
            .label_values = k ? values : NULL,
            .value = k ? x->value : 0,
            .timestamp = k ? x->ts : 0,
        };
    }
}

static int visit_family(vt__target_t *t, const vt__family_view_t *fv, const vt__series_view_t *sv,
                        size_t n) {
    visitor_t *vis = (visitor_t *)t;
    size_t pairs = 0, text = 0, nex = 0;
    for (size_t i = 0; i < n; i++) {
        pairs += count_pairs(sv[i].labels, sv[i].labels_len);
        text += sv[i].labels_len;
        nex += sv[i].nex;
        for (size_t e = 0; e < sv[i].nex; e++) {
            pairs += count_pairs(sv[i].ex[e].text, sv[i].ex[e].len);
            text += sv[i].ex[e].len;
        }
    }
    size_t nbounds = fv->type == VT_HISTOGRAM ? fv->nbounds + 1 : 0;
    /* One block: series, exemplars, then label pointers, then bounds, then the
     * arena. Unescaping never grows a text, and each pair adds at most two
     * NULs. */
    size_t size = n * sizeof(vt_sample_series_t) + nex * sizeof(vt_sample_exemplar_t) +
                  2 * pairs * sizeof(const char *) + nbounds * sizeof(double) + text + 2 * pairs +
                  1;
    char *block = vt__malloc(size);
    if (!block)
        return VT_ENOMEM;
    vt_sample_series_t *series = (vt_sample_series_t *)(void *)block;
    vt_sample_exemplar_t *exemplars = (vt_sample_exemplar_t *)(void *)(series + n);
    const char **ptrs = (const char **)(void *)(exemplars + nex);
    double *bounds = (double *)(void *)(ptrs + 2 * pairs);
    char *arena = (char *)(bounds + nbounds);

    for (size_t b = 0; b < nbounds; b++)
        bounds[b] = b == fv->nbounds ? INFINITY : strtod(fv->le_text[b], NULL);
    for (size_t i = 0; i < n; i++) {
        const vt__series_view_t *s = &sv[i];
        size_t k = count_pairs(s->labels, s->labels_len);
        const char **names = ptrs, **values = ptrs + k;
        ptrs += 2 * k;
        split_labels(s->labels, s->labels_len, names, values, &arena);
        series[i] = (vt_sample_series_t){
            .label_count = k,
            .label_names = names,
            .label_values = values,
            .value = fv->type == VT_INFO ? 1 : s->value,
            .count = s->count,
            .sum = s->sum,
            .buckets = fv->type == VT_HISTOGRAM ? s->buckets : NULL,
            .quantile_count = fv->type == VT_SUMMARY ? s->nquantiles : 0,
            .quantiles = fv->type == VT_SUMMARY ? s->quantiles : NULL,
            .quantile_values = fv->type == VT_SUMMARY ? s->qvalues : NULL,
            .created = s->created,
        };
        if (s->nex) {
            fill_exemplars(s, exemplars, &ptrs, &arena);
            series[i].exemplar_count = s->nex;
            series[i].exemplars = exemplars;
            exemplars += s->nex;
        }
        if (s->native) {
            series[i].has_native = 1;
            series[i].native_schema = s->native->schema;
            series[i].native_zero_threshold = s->native->zero_threshold;
            series[i].native_zero_count = s->native->zero_count;
            series[i].native_positive_count = s->native->npos;
            series[i].native_negative_count = s->native->nneg;
            series[i].native_positive = s->native->pos;
            series[i].native_negative = s->native->neg;
        }
    }
    vt_sample_family_t fam = {
        .type = fv->type,
        .name = fv->name,
        .help = fv->help ? fv->help : "",
        .unit = fv->unit && *fv->unit ? fv->unit : NULL,
        .bound_count = nbounds,
        .bounds = nbounds ? bounds : NULL,
        .series_count = n,
        .series = series,
    };
    int rc = vis->fn(&fam, vis->user_data);
    vt__free(block);
    return rc;
}

int vt_registry_visit(vt_registry_t *reg, vt_visit_fn fn, void *user_data) {
    if (!reg || !fn)
        return VT_EINVAL;
    visitor_t vis = {
        .target = {.family = visit_family, .wants_native = 1}, .fn = fn, .user_data = user_data};
    return vt__registry_visit(reg, &vis.target);
}
