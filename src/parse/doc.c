/* doc.c - reading a parsed document: lookups by name and labels, type names, freeing.
 *
 * A document never changes after vt_parse() returns, so every function here
 * only reads, and any number of threads may call them at once.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "parse/internal.h"

void vt_doc_free(vt_doc_t *doc) {
    if (doc) {
        vt__arena_t a = *doc->arena_; /* the arena holds the document itself */
        vt__arena_free(&a);
    }
}

const vt_doc_family_t *vt_doc_find_family(const vt_doc_t *doc, const char *name) {
    if (!doc || !name) {
        return NULL;
    }
    for (size_t i = 0; i < doc->family_count; i++) {
        if (strcmp(doc->families[i].name, name) == 0) {
            return &doc->families[i];
        }
    }
    return NULL;
}

const char *vt_doc_sample_label(const vt_doc_sample_t *sample, const char *name) {
    if (!sample || !name) {
        return NULL;
    }
    for (size_t i = 0; i < sample->label_count; i++) {
        if (strcmp(sample->labels[i].name, name) == 0) {
            return sample->labels[i].value;
        }
    }
    return NULL;
}

/* Does s carry exactly the given labels? Names in a sample are unique, so
 * equal counts and every wanted pair present mean equal sets. */
static int has_labels(const vt_doc_sample_t *s, const char *const *names, const char *const *values,
                      size_t n) {
    if (s->label_count != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const vt_doc_label_t *l = NULL;
        for (size_t k = 0; k < s->label_count; k++) {
            if (strcmp(s->labels[k].name, names[i]) == 0) {
                l = &s->labels[k];
                break;
            }
        }
        if (!l || strlen(values[i]) != l->value_len || memcmp(l->value, values[i], l->value_len)) {
            return 0;
        }
    }
    return 1;
}

const vt_doc_sample_t *vt_doc_find_sample(const vt_doc_t *doc, const char *name,
                                          const char *const *label_names,
                                          const char *const *label_values) {
    if (!doc || !name || (!label_names) != (!label_values)) {
        return NULL;
    }
    size_t n = 0;
    if (label_names) {
        while (label_names[n]) {
            if (!label_values[n]) {
                return NULL;
            }
            n++;
        }
        if (label_values[n]) {
            return NULL;
        }
    }
    for (size_t i = 0; i < doc->family_count; i++) {
        const vt_doc_family_t *f = &doc->families[i];
        for (size_t k = 0; k < f->sample_count; k++) {
            const vt_doc_sample_t *s = &f->samples[k];
            if (strcmp(s->name, name) == 0 && has_labels(s, label_names, label_values, n)) {
                return s;
            }
        }
    }
    return NULL;
}

const char *vt_doc_type_name(vt_doc_type_t type) {
    switch (type) {
    case VT_DOC_COUNTER:
        return "counter";
    case VT_DOC_GAUGE:
        return "gauge";
    case VT_DOC_HISTOGRAM:
        return "histogram";
    case VT_DOC_GAUGEHISTOGRAM:
        return "gaugehistogram";
    case VT_DOC_SUMMARY:
        return "summary";
    case VT_DOC_INFO:
        return "info";
    case VT_DOC_STATESET:
        return "stateset";
    default:
        return "unknown";
    }
}
