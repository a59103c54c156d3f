/* test_expose_readback.c - the strict parser reads the writer's output back to the registry's
 * values.
 *
 * Every registry of expose_corpus.h is written in text 0.0.4 and in
 * OpenMetrics (without and with _created) and parsed with vt_parse in strict
 * mode, which must accept it. Then:
 * - the document holds exactly the samples the registry has: the count
 *   vt_registry_visit() gives (a counter's _total, a gauge's, untyped's or
 *   info's one sample, a histogram's buckets, _sum and _count, a summary's
 *   quantiles, _sum and _count, plus _created where it is asked for and
 *   known), and no sample (name and label set) twice;
 * - each parsed sample's label values, used as given by the parser, find the
 *   series through vt_registry_get_sample_value(), which compares raw bytes:
 *   so every escape (quotes, backslashes, newlines, a 10,000-byte value,
 *   multibyte UTF-8) came back byte for byte; "le" and "quantile" are
 *   compared as numbers, since OpenMetrics writes 1.0 where text writes 1;
 * - each parsed value equals the registry's: bit for bit for finite values,
 *   with NaN equal to NaN, +Inf and -Inf kept, and -0 keeping its sign.
 * vt_registry_get_sample_value() visits the whole registry, so for the large
 * registry (some 24,000 samples) every 47th sample is looked up; the count
 * and uniqueness checks still cover all of them. The process collector reads
 * /proc at each call: its CPU, memory, thread and open-fd samples change
 * between the scrape and the lookup and are checked to be found, finite and
 * not negative; the others of it exactly.
 *
 * vt-test: libs=vitals_parse
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expose_corpus.h"
#include "expose_tools.h"
#include "harness.h"
#include "parse/parse.h"
#include "vitals.h"

#define MAX_LABELS 64
#define STRIDE_OVER 4000 /* samples; above it, look up every STRIDE-th */
#define STRIDE 47

typedef struct want {
    int om, created;
    size_t samples;
} want_t;

/* The samples a scrape of this family writes. */
static int count_family(const vt_sample_family_t *f, void *ud) {
    want_t *w = ud;
    for (size_t i = 0; i < f->series_count; i++) {
        const vt_sample_series_t *s = &f->series[i];
        int with_created = w->om && w->created && !isnan(s->created);
        switch (f->type) {
        case VT_COUNTER:
            w->samples += 1 + (size_t)with_created;
            break;
        case VT_HISTOGRAM:
            w->samples += f->bound_count + 2 + (size_t)with_created;
            break;
        case VT_SUMMARY:
            w->samples += s->quantile_count + 2 + (size_t)with_created;
            break;
        default:
            w->samples += 1;
            break;
        }
    }
    return 0;
}

/* NaN equals NaN; otherwise equal, with the sign of a zero. */
static int same_value(double a, double b) {
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

/* Values the process collector reads anew at each call. */
static int volatile_sample(const char *name) {
    static const char *const v[] = {"process_cpu_seconds_total", "process_resident_memory_bytes",
                                    "process_virtual_memory_bytes", "process_open_fds",
                                    "process_threads"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strcmp(name, v[i]) == 0)
            return 1;
    return 0;
}

/* ---- no sample twice: keys of name and sorted labels, sorted ---- */

typedef struct key {
    char *bytes;
    size_t len;
} key_t_;

static int cmp_label(const void *a, const void *b) {
    return strcmp(((const vt_doc_label_t *)a)->name, ((const vt_doc_label_t *)b)->name);
}

static int cmp_key(const void *a, const void *b) {
    const key_t_ *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->bytes, y->bytes, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static key_t_ make_key(const vt_doc_sample_t *s) {
    vt_doc_label_t sorted[MAX_LABELS];
    size_t n = s->label_count < MAX_LABELS ? s->label_count : MAX_LABELS;
    if (n)
        memcpy(sorted, s->labels, n * sizeof sorted[0]);
    if (n)
        qsort(sorted, n, sizeof sorted[0], cmp_label);
    size_t len = strlen(s->name) + 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(sorted[i].name) + 1 + 20 + sorted[i].value_len;
    key_t_ k = {malloc(len), 0};
    if (!k.bytes)
        return k;
    k.len = (size_t)sprintf(k.bytes, "%s", s->name) + 1;
    for (size_t i = 0; i < n; i++) {
        k.len += (size_t)sprintf(k.bytes + k.len, "%s=%zu:", sorted[i].name, sorted[i].value_len);
        memcpy(k.bytes + k.len, sorted[i].value, sorted[i].value_len);
        k.len += sorted[i].value_len;
    }
    return k;
}

static size_t duplicates(const vt_doc_t *doc) {
    key_t_ *keys = calloc(doc->sample_count + 1, sizeof *keys);
    size_t n = 0, dups = 0;
    for (size_t f = 0; f < doc->family_count; f++)
        for (size_t i = 0; i < doc->families[f].sample_count; i++)
            keys[n++] = make_key(&doc->families[f].samples[i]);
    qsort(keys, n, sizeof *keys, cmp_key);
    for (size_t i = 1; i < n; i++)
        if (cmp_key(&keys[i - 1], &keys[i]) == 0) {
            if (dups++ < 5)
                fprintf(stderr, "sample written twice: %s\n", keys[i].bytes);
        }
    for (size_t i = 0; i < n; i++)
        free(keys[i].bytes);
    free(keys);
    return dups;
}

/* ---- one sample against the registry ---- */

static int check_sample(vt_registry_t *reg, const vt_doc_sample_t *s, const char *what) {
    const char *names[MAX_LABELS + 1], *values[MAX_LABELS + 1];
    char numbers[MAX_LABELS][VT_DOUBLE_BUFSZ];
    if (s->label_count > MAX_LABELS) {
        fprintf(stderr, "%s: line %u: %zu labels\n", what, s->line, s->label_count);
        return 0;
    }
    for (size_t i = 0; i < s->label_count; i++) {
        if (strlen(s->labels[i].value) != s->labels[i].value_len) {
            fprintf(stderr, "%s: line %u: label %s holds a NUL byte\n", what, s->line,
                    s->labels[i].name);
            return 0;
        }
        names[i] = s->labels[i].name;
        values[i] = s->labels[i].value;
        /* A bound or rank as the registry holds it: OpenMetrics writes 1.0
         * where text 0.0.4 writes 1. */
        if (strcmp(names[i], "le") == 0 || strcmp(names[i], "quantile") == 0) {
            char *end;
            double d = strtod(values[i], &end);
            if (*end != '\0' || end == values[i]) {
                fprintf(stderr, "%s: line %u: %s=\"%s\" is not a number\n", what, s->line, names[i],
                        values[i]);
                return 0;
            }
            vt_format_double(d, numbers[i]);
            values[i] = numbers[i];
        }
    }
    names[s->label_count] = values[s->label_count] = NULL;
    double v = 0;
    int rc = vt_registry_get_sample_value(reg, s->name, names, values, &v);
    if (rc != 0) {
        fprintf(stderr, "%s: line %u: %s with the parsed labels: %s\n", what, s->line, s->name,
                vt_err_name(rc));
        return 0;
    }
    if (volatile_sample(s->name)) {
        if (!isfinite(s->value) || s->value < 0 || !isfinite(v) || v < 0) {
            fprintf(stderr, "%s: line %u: %s parsed %.17g, registry %.17g\n", what, s->line,
                    s->name, s->value, v);
            return 0;
        }
        return 1;
    }
    if (!same_value(s->value, v)) {
        fprintf(stderr, "%s: line %u: %s parsed %.17g, registry %.17g\n", what, s->line, s->name,
                s->value, v);
        return 0;
    }
    return 1;
}

typedef struct tally {
    size_t parsed, looked_up, failed;
} tally_t;

static void check_scrape(const char *name, vt_registry_t *reg, vt_format_t format, int created,
                         tally_t *t) {
    char what[96];
    snprintf(what, sizeof what, "%s (%s%s)", name,
             format == VT_FORMAT_OPENMETRICS ? "OpenMetrics" : "text", created ? ", _created" : "");
    char *text = tools_scrape(reg, format, created);
    CHECK(text != NULL);
    if (!text)
        return;
    vt_parse_opts_t po = {format, VT_PARSE_STRICT};
    vt_doc_t *doc = NULL;
    vt_parse_error_t err;
    int rc = vt_parse(text, strlen(text), &po, &doc, &err);
    if (rc != 0) {
        fprintf(stderr, "%s: the strict parser refused it: %s\n", what, err.message);
        CHECK_INT(rc, 0);
        free(text);
        return;
    }
    want_t w = {format == VT_FORMAT_OPENMETRICS, created, 0};
    CHECK_INT(vt_registry_visit(reg, count_family, &w), 0);
    if (doc->sample_count != w.samples)
        fprintf(stderr, "%s: parsed %zu samples, the registry has %zu\n", what, doc->sample_count,
                w.samples);
    CHECK_INT(doc->sample_count, w.samples);
    CHECK_INT(duplicates(doc), 0);

    size_t every = doc->sample_count > STRIDE_OVER ? STRIDE : 1, k = 0, bad = 0;
    for (size_t f = 0; f < doc->family_count; f++) {
        const vt_doc_family_t *fam = &doc->families[f];
        for (size_t i = 0; i < fam->sample_count; i++, k++) {
            if (k % every != 0 && k + 1 != doc->sample_count)
                continue;
            t->looked_up++;
            if (!check_sample(reg, &fam->samples[i], what) && ++bad > 20)
                break;
        }
    }
    CHECK_INT(bad, 0);
    t->parsed += doc->sample_count;
    t->failed += bad;
    vt_doc_free(doc);
    free(text);
}

static void test_corpus(void) {
    tally_t t = {0, 0, 0};
    for (size_t i = 0; i < CORPUS_N; i++) {
        vt_registry_t *reg = NULL;
        CHECK_INT(corpus[i].build(&reg), 0);
        if (!reg)
            continue;
        check_scrape(corpus[i].name, reg, VT_FORMAT_TEXT, 0, &t);
        check_scrape(corpus[i].name, reg, VT_FORMAT_OPENMETRICS, 0, &t);
        check_scrape(corpus[i].name, reg, VT_FORMAT_OPENMETRICS, 1, &t);
        vt_registry_destroy(reg);
    }
    printf("%zu registries x 3 scrapes: %zu samples parsed, %zu looked up in the registry\n",
           (size_t)CORPUS_N, t.parsed, t.looked_up);
}

/* The special values one by one, in a registry of their own, so that a
 * failure names the value. */
static void test_special_values(void) {
    static const double v[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-320, -1e308, 0.1};
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "special", "Special values.", VT_LABELS("i"), &g), 0);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char id[8];
        snprintf(id, sizeof id, "%zu", i);
        vt_gauge_series_t *s;
        CHECK_INT(vt_gauge_with(g, VT_VALUES(id), &s), 0);
        vt_gauge_set(s, v[i]);
    }
    tally_t t = {0, 0, 0};
    check_scrape("special", reg, VT_FORMAT_TEXT, 0, &t);
    check_scrape("special", reg, VT_FORMAT_OPENMETRICS, 0, &t);
    CHECK_INT(t.parsed, 2 * (sizeof v / sizeof v[0]));
    /* And the parser agrees with the values set, not only with the reader. */
    char *text = tools_scrape(reg, VT_FORMAT_TEXT, 0);
    vt_doc_t *doc = NULL;
    CHECK_INT(vt_parse(text, strlen(text), NULL, &doc, NULL), 0);
    for (size_t i = 0; doc && i < sizeof v / sizeof v[0]; i++) {
        char id[8];
        snprintf(id, sizeof id, "%zu", i);
        const vt_doc_sample_t *s =
            vt_doc_find_sample(doc, "special", VT_LABELS("i"), VT_VALUES(id));
        CHECK(s != NULL);
        if (s && !same_value(s->value, v[i])) {
            fprintf(stderr, "special %zu: parsed %.17g, set %.17g\n", i, s->value, v[i]);
            CHECK(0);
        }
    }
    vt_doc_free(doc);
    free(text);
    vt_registry_destroy(reg);
}

int main(void) {
    hostile_init();
    RUN(test_corpus);
    RUN(test_special_values);
    TEST_EXIT();
}
