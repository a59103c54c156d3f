/* parse_helpers.h - short ways to parse a string in the parser tests.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_PARSE_HELPERS_H
#define VT_TEST_PARSE_HELPERS_H

#include <string.h>

#include "parse/parse.h"

#define TEXT VT_FORMAT_TEXT
#define OM VT_FORMAT_OPENMETRICS
#define STRICT VT_PARSE_STRICT
#define LENIENT VT_PARSE_LENIENT

static vt_parse_error_t ph_err;

/* Parse s (its strlen bytes) and return the code; *out_doc gets the document. */
static inline int ph_parse_n(const char *s, size_t n, vt_format_t f, vt_parse_mode_t m,
                             vt_doc_t **out_doc) {
    vt_parse_opts_t o;
    vt_parse_opts_init(&o);
    o.format = f;
    o.mode = m;
    return vt_parse(s, n, &o, out_doc, &ph_err);
}

static inline int ph_parse(const char *s, vt_format_t f, vt_parse_mode_t m, vt_doc_t **out_doc) {
    return ph_parse_n(s, strlen(s), f, m, out_doc);
}

/* Parse and drop the document: just the code. */
static inline int ph_rc(const char *s, vt_format_t f, vt_parse_mode_t m) {
    vt_doc_t *d = NULL;
    int rc = ph_parse(s, f, m, &d);
    vt_doc_free(d);
    return rc;
}

/* The only sample of a one-sample document, or NULL. */
static inline const vt_doc_sample_t *ph_only(const vt_doc_t *d) {
    if (!d || d->sample_count != 1) {
        return NULL;
    }
    for (size_t i = 0; i < d->family_count; i++) {
        if (d->families[i].sample_count) {
            return &d->families[i].samples[0];
        }
    }
    return NULL;
}

/* Validate a lenient parse of s and return the problem list (caller frees). */
static inline vt_problems_t ph_problems(const char *s, vt_format_t f) {
    vt_problems_t p;
    memset(&p, 0, sizeof p);
    vt_doc_t *d = NULL;
    if (ph_parse(s, f, LENIENT, &d) == 0) {
        vt_doc_validate(d, &p);
    }
    vt_doc_free(d);
    return p;
}

/* Does some problem of severity sev on line contain text? */
static inline int ph_has(const vt_problems_t *p, vt_severity_t sev, unsigned line,
                         const char *text) {
    for (size_t i = 0; i < p->count; i++) {
        if (p->items[i].severity == sev && p->items[i].line == line &&
            strstr(p->items[i].message, text)) {
            return 1;
        }
    }
    return 0;
}

#endif
