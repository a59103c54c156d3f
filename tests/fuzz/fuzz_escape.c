/* fuzz_escape.c - libFuzzer target: arbitrary bytes as label values, const
 * label values, HELP text and exemplar labels, written by the core and read
 * back by the project's strict parser.
 *
 * The input splits at NUL bytes into up to three strings a, b, c. A string
 * that is valid UTF-8 (decided here by an independent decoder) must be
 * accepted and come back byte for byte from both text 0.0.4 and OpenMetrics
 * (the HELP text less what the formats cannot carry: CRs at its end, and in
 * text 0.0.4 blanks at either end); one that is not must be refused with VT_EUTF8 and leave nothing
 * behind (no series, no family). Each written exposition must also pass the strict parser as a
 * whole, so escaping can never break a neighbouring line.
 *
 * vt-fuzz: sources=core,parse libs=-lm,-lpthread
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"
#include "vitals.h"

#include "fuzz_must.h"

/* Code points in s[0..n) when it is well-formed UTF-8 (shortest form, no
 * surrogates, at most U+10FFFF), else -1. Decodes first, then judges the
 * value, unlike the core's range tables. */
static long utf8_points(const unsigned char *s, size_t n) {
    long points = 0;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], len, cp, min;
        if (c < 0x80) {
            i++;
            points++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            len = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            len = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            len = 4, cp = c & 0x07, min = 0x10000;
        else
            return -1;
        if (n - i < len)
            return -1;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return -1;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        i += len;
        points++;
    }
    return points;
}

static int sample_has(const vt_doc_t *doc, const char *sample, const char *label,
                      const char *want) {
    for (size_t f = 0; f < doc->family_count; f++) {
        const vt_doc_family_t *fam = &doc->families[f];
        for (size_t i = 0; i < fam->sample_count; i++) {
            const vt_doc_sample_t *s = &fam->samples[i];
            if (strcmp(s->name, sample) != 0)
                continue;
            for (size_t k = 0; k < s->label_count; k++) {
                const vt_doc_label_t *l = &s->labels[k];
                if (strcmp(l->name, label) == 0 && l->value_len == strlen(want) &&
                    memcmp(l->value, want, l->value_len) == 0)
                    return 1;
            }
        }
    }
    return 0;
}

static const vt_doc_exemplar_t *exemplar_of(const vt_doc_t *doc, const char *sample) {
    for (size_t f = 0; f < doc->family_count; f++)
        for (size_t i = 0; i < doc->families[f].sample_count; i++)
            if (strcmp(doc->families[f].samples[i].name, sample) == 0)
                return doc->families[f].samples[i].exemplar;
    return NULL;
}

/* Write reg in one format, parse it strictly, check every expectation. */
static void round_trip(vt_registry_t *reg, vt_format_t format, const char *a, int a_ok,
                       const char *b, int ab_ok, int bc_ok, const char *help, int help_ok,
                       int exemplar_ok) {
    vt_write_opts_t wo;
    vt_write_opts_init(&wo);
    wo.format = format;
    vt_buf_t buf = {0};
    MUST(vt_registry_write_buf(reg, &wo, &buf) == 0);

    vt_parse_opts_t po = {format, VT_PARSE_STRICT};
    vt_doc_t *doc = NULL;
    vt_parse_error_t err;
    int rc = vt_parse(buf.data, buf.len, &po, &doc, &err);
    if (rc != 0)
        fprintf(stderr, "strict parse failed: %s\n%s", err.message, buf.data);
    MUST(rc == 0);

    MUST(sample_has(doc, "fz_value", "v", a) == a_ok);
    MUST(sample_has(doc, "fz_pair_total", "w", b) == ab_ok);
    MUST(sample_has(doc, "fz_const", "c", b) == bc_ok);
    const vt_doc_family_t *hf = vt_doc_find_family(doc, "fz_help");
    MUST((hf != NULL) == help_ok);
    if (hf) {
        /* Neither format can end a HELP text in CR (the line would end in
         * CR LF): the writer leaves those out. Text 0.0.4 cannot carry blanks
         * at either end either (a parser takes them for separators and trims
         * them); OpenMetrics can. A CR anywhere else comes back. */
        size_t hb = 0, he = strlen(help);
        while (he > hb && help[he - 1] == '\r')
            he--;
        if (format == VT_FORMAT_TEXT) {
            while (hb < he && (help[hb] == ' ' || help[hb] == '\t'))
                hb++;
            while (he > hb && (help[he - 1] == ' ' || help[he - 1] == '\t'))
                he--;
        }
        if (hf->help == NULL)
            MUST(hb == he); /* an empty HELP may be left out */
        else
            MUST(hf->help_len == he - hb && memcmp(hf->help, help + hb, he - hb) == 0);
    }
    if (format == VT_FORMAT_OPENMETRICS) {
        const vt_doc_exemplar_t *ex = exemplar_of(doc, "fz_events_total");
        MUST((ex != NULL) == exemplar_ok);
        if (ex) {
            MUST(ex->label_count == 1 && strcmp(ex->labels[0].name, "trace_id") == 0);
            MUST(ex->labels[0].value_len == strlen(a));
            MUST(memcmp(ex->labels[0].value, a, strlen(a)) == 0);
        }
    }
    vt_doc_free(doc);
    vt_buf_free(&buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* a, b, c: the NUL-separated pieces (missing ones are empty). */
    char *copy = malloc(size + 3);
    MUST(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = copy[size + 1] = copy[size + 2] = '\0';
    const char *a = copy;
    const char *b = a + strlen(a) + 1;
    if (b > copy + size)
        b = copy + size + 1;
    const char *c = b + strlen(b) + 1;
    if (c > copy + size + 1)
        c = copy + size + 2;

    long pa = utf8_points((const unsigned char *)a, strlen(a));
    long pb = utf8_points((const unsigned char *)b, strlen(b));
    long pc = utf8_points((const unsigned char *)c, strlen(c));

    vt_registry_t *reg = NULL;
    MUST(vt_registry_create(&reg) == 0);

    /* A label value alone. */
    vt_gauge_t *g = NULL;
    vt_gauge_series_t *gs = NULL;
    MUST(vt_gauge_create(reg, "fz_value", "one label", VT_LABELS("v"), &g) == 0);
    int rc = vt_gauge_with(g, VT_VALUES(a), &gs);
    MUST(rc == (pa >= 0 ? 0 : VT_EUTF8));
    MUST(vt_family_series_count(vt_gauge_family(g)) == (pa >= 0 ? 1u : 0u));
    if (rc == 0)
        vt_gauge_set(gs, 1.5);

    /* Two values: a bad one anywhere refuses the whole label set. */
    vt_counter_t *pair = NULL;
    vt_counter_series_t *ps = NULL;
    MUST(vt_counter_create(reg, "fz_pair", NULL, VT_LABELS("v", "w"), &pair) == 0);
    rc = vt_counter_with(pair, VT_VALUES(a, b), &ps);
    int ab_ok = pa >= 0 && pb >= 0;
    MUST(rc == (ab_ok ? 0 : VT_EUTF8));
    MUST(vt_family_series_count(vt_counter_family(pair)) == (ab_ok ? 1u : 0u));
    if (rc == 0)
        vt_counter_inc(ps);

    /* A const label value: a bad one creates nothing. */
    vt_metric_opts_t mo;
    vt_metric_opts_init(&mo);
    mo.name = "fz_const";
    mo.const_labels = VT_LABELS("c", b);
    vt_gauge_t *cg = NULL;
    rc = vt_gauge_create_opts(reg, &mo, &cg);
    MUST(rc == (pb >= 0 ? 0 : VT_EUTF8));
    MUST((cg != NULL) == (pb >= 0));

    /* HELP text. */
    vt_gauge_t *hg = NULL;
    rc = vt_gauge_create(reg, "fz_help", c, NULL, &hg);
    MUST(rc == (pc >= 0 ? 0 : VT_EUTF8));

    /* An exemplar label value: the value is counted either way. */
    vt_counter_t *ev = NULL;
    vt_counter_series_t *es = NULL;
    MUST(vt_counter_create(reg, "fz_events", NULL, NULL, &ev) == 0);
    MUST(vt_counter_with(ev, NULL, &es) == 0);
    rc = vt_counter_add_exemplar(es, 2, VT_LABELS("trace_id"), VT_VALUES(a));
    int ex_ok = pa >= 0 && pa + 8 <= 128;
    MUST(rc == (pa < 0 ? VT_EUTF8 : ex_ok ? 0 : VT_ELIMIT));
    MUST(vt_counter_get(es) == 2.0);

    round_trip(reg, VT_FORMAT_TEXT, a, pa >= 0, b, ab_ok, pb >= 0, c, pc >= 0, ex_ok);
    round_trip(reg, VT_FORMAT_OPENMETRICS, a, pa >= 0, b, ab_ok, pb >= 0, c, pc >= 0, ex_ok);

    vt_registry_destroy(reg);
    free(copy);
    return 0;
}
