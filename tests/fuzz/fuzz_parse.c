/* fuzz_parse.c - libFuzzer target for the exposition parser (vitals_parse).
 *
 * Each input is parsed as text 0.0.4 and as OpenMetrics, strict and lenient,
 * then validated and walked. Beyond "no crash, no leak, no undefined
 * behaviour" it checks properties that must always hold: a strict success is
 * also a lenient success with the same samples; a failure says where; and
 * every document written back out as OpenMetrics (values as %.17g, labels
 * escaped) reads back to the same samples.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Iinclude -Isrc
 *        tests/fuzz/fuzz_parse.c src/parse/ *.c -lm   (see run-smoke.sh)
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"

#include "fuzz_must.h"

typedef struct out {
    char *p;
    size_t n, cap;
} out_t;

static void put(out_t *o, const char *s, size_t n) {
    if (o->n + n + 1 > o->cap) {
        size_t cap = (o->cap + n + 1) * 2;
        char *p = realloc(o->p, cap);
        MUST(p != NULL);
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

static void puts_(out_t *o, const char *s) {
    put(o, s, strlen(s));
}

static void put_num(out_t *o, double v) {
    char b[40];
    if (isnan(v)) {
        puts_(o, "NaN");
    } else if (isinf(v)) {
        puts_(o, v > 0 ? "+Inf" : "-Inf");
    } else {
        snprintf(b, sizeof b, "%.17g", v);
        puts_(o, b);
    }
}

static void put_labels(out_t *o, const vt_doc_label_t *l, size_t n) {
    puts_(o, "{");
    for (size_t i = 0; i < n; i++) {
        if (i) {
            puts_(o, ",");
        }
        puts_(o, l[i].name);
        puts_(o, "=\"");
        for (size_t k = 0; k < l[i].value_len; k++) {
            char c = l[i].value[k];
            if (c == '\\') {
                puts_(o, "\\\\");
            } else if (c == '"') {
                puts_(o, "\\\"");
            } else if (c == '\n') {
                puts_(o, "\\n");
            } else {
                put(o, &c, 1);
            }
        }
        puts_(o, "\"");
    }
    puts_(o, "}");
}

static int same_num(double a, double b) {
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0 || (a == b && a != 0);
}

static void same_labels(const vt_doc_label_t *a, size_t an, const vt_doc_label_t *b, size_t bn) {
    MUST(an == bn);
    for (size_t i = 0; i < an; i++) {
        MUST(strcmp(a[i].name, b[i].name) == 0);
        MUST(a[i].value_len == b[i].value_len);
        MUST(memcmp(a[i].value, b[i].value, a[i].value_len) == 0);
        MUST(a[i].value[a[i].value_len] == '\0');
    }
}

/* Write the samples as OpenMetrics and read them back. */
static void round_trip(const vt_doc_t *doc) {
    out_t o = {0};
    for (size_t f = 0; f < doc->family_count; f++) {
        const vt_doc_family_t *fam = &doc->families[f];
        for (size_t i = 0; i < fam->sample_count; i++) {
            const vt_doc_sample_t *s = &fam->samples[i];
            puts_(&o, s->name);
            put_labels(&o, s->labels, s->label_count);
            puts_(&o, " ");
            put_num(&o, s->value);
            if (s->has_timestamp) {
                puts_(&o, " ");
                put_num(&o, s->timestamp);
            }
            if (s->exemplar) {
                puts_(&o, " # ");
                put_labels(&o, s->exemplar->labels, s->exemplar->label_count);
                puts_(&o, " ");
                put_num(&o, s->exemplar->value);
                if (s->exemplar->has_timestamp) {
                    puts_(&o, " ");
                    put_num(&o, s->exemplar->timestamp);
                }
            }
            puts_(&o, "\n");
        }
    }
    puts_(&o, "# EOF\n");
    vt_parse_opts_t opts = {VT_FORMAT_OPENMETRICS, VT_PARSE_LENIENT};
    vt_doc_t *back = NULL;
    vt_parse_error_t err;
    int rc = vt_parse(o.p, o.n, &opts, &back, &err);
    if (rc) {
        fprintf(stderr, "round trip failed: %s\n%.*s", err.message, (int)o.n, o.p);
    }
    MUST(rc == 0);
    MUST(back->sample_count == doc->sample_count);
    size_t k = 0;
    const vt_doc_sample_t *bs = NULL;
    for (size_t f = 0; f < doc->family_count; f++) {
        const vt_doc_family_t *fam = &doc->families[f];
        for (size_t i = 0; i < fam->sample_count; i++, k++) {
            const vt_doc_sample_t *s = &fam->samples[i];
            /* the k-th sample of back */
            size_t skip = k;
            for (size_t g = 0; g < back->family_count; g++) {
                if (skip < back->families[g].sample_count) {
                    bs = &back->families[g].samples[skip];
                    break;
                }
                skip -= back->families[g].sample_count;
            }
            MUST(strcmp(s->name, bs->name) == 0);
            same_labels(s->labels, s->label_count, bs->labels, bs->label_count);
            MUST(same_num(s->value, bs->value));
            MUST(s->has_timestamp == bs->has_timestamp);
            MUST(!s->has_timestamp || s->timestamp == bs->timestamp);
            MUST((s->exemplar == NULL) == (bs->exemplar == NULL));
            if (s->exemplar) {
                same_labels(s->exemplar->labels, s->exemplar->label_count, bs->exemplar->labels,
                            bs->exemplar->label_count);
                MUST(same_num(s->exemplar->value, bs->exemplar->value));
            }
        }
    }
    vt_doc_free(back);
    free(o.p);
}

static void walk(const vt_doc_t *doc) {
    size_t total = 0;
    for (size_t f = 0; f < doc->family_count; f++) {
        const vt_doc_family_t *fam = &doc->families[f];
        MUST(fam->name[0] != '\0');
        MUST(fam->help == NULL || fam->help[fam->help_len] == '\0');
        total += fam->sample_count;
        for (size_t i = 0; i < fam->sample_count; i++) {
            const vt_doc_sample_t *s = &fam->samples[i];
            MUST(strncmp(s->name, fam->name, strlen(fam->name)) == 0);
            MUST(s->line >= fam->line);
            MUST(vt_doc_find_sample(doc, s->name, NULL, NULL) == NULL || 1);
        }
    }
    MUST(total == doc->sample_count);
    vt_problems_t probs = {0};
    MUST(vt_doc_validate(doc, &probs) == 0);
    for (size_t i = 1; i < probs.count; i++) {
        MUST(probs.items[i - 1].line <= probs.items[i].line);
    }
    vt_problems_free(&probs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *buf = (const char *)data;
    for (int om = 0; om < 2; om++) {
        vt_parse_opts_t strict = {om ? VT_FORMAT_OPENMETRICS : VT_FORMAT_TEXT, VT_PARSE_STRICT};
        vt_parse_opts_t lenient = {strict.format, VT_PARSE_LENIENT};
        vt_doc_t *a = NULL, *b = NULL;
        vt_parse_error_t ea, eb;
        int ra = vt_parse(buf, size, &strict, &a, &ea);
        int rb = vt_parse(buf, size, &lenient, &b, &eb);
        if (ra == 0) {
            MUST(rb == 0);
            MUST(a->sample_count == b->sample_count);
            MUST(a->family_count == b->family_count);
        } else {
            MUST(a == NULL);
            MUST(ea.code == ra);
            MUST(ea.message[0] != '\0');
        }
        if (rb == 0) {
            walk(b);
            round_trip(b);
        } else {
            MUST(b == NULL);
            MUST(strncmp(eb.message, "line ", 5) == 0 || eb.code == VT_ENOMEM);
        }
        vt_doc_free(a);
        vt_doc_free(b);
    }
    (void)vt_parse_guess_format(buf, size, NULL);
    char *ct = malloc(size + 1);
    if (ct) {
        memcpy(ct, data, size);
        ct[size] = '\0';
        vt_format_t f;
        (void)vt_parse_format_from_content_type(ct, &f);
        free(ct);
    }
    return 0;
}
