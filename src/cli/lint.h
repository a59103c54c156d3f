/* lint.h - the problem list of `vitals lint` and the checks that fill it.
 *
 * The parser's own validation (vt_doc_validate) supplies the errors: what the
 * format forbids. The checks here add warnings only, so an exposition that a
 * strict parse accepts never gets an error from them: naming rules in the
 * spirit of promtool's `check metrics` (lint_names.c) and label values that
 * look unbounded (lint_labels.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CLI_LINT_H
#define VT_CLI_LINT_H

#include <stddef.h>

#include "parse/parse.h"

/* Line number of a problem not tied to one line. */
#define VT__LINT_NO_LINE 0u

typedef struct vt__lint_item {
    vt_severity_t severity;
    unsigned line;
    char *message; /* malloc'd */
} vt__lint_item_t;

typedef struct vt__lint {
    vt__lint_item_t *items;
    size_t count;
    size_t cap;
    size_t errors;
    size_t warnings;
    int failed; /* an allocation failed: the list is incomplete */
} vt__lint_t;

int vt__lint_add(vt__lint_t *l, vt_severity_t severity, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Stable sort by line (problems without a line last). */
void vt__lint_sort(vt__lint_t *l);
void vt__lint_free(vt__lint_t *l);

/* Naming, type and HELP rules for every family (first block of each name). */
void vt__lint_names(const vt_doc_t *doc, vt__lint_t *out);

typedef struct vt__label_lint_opts {
    size_t max_values; /* distinct values of one label in one family; 0: no limit */
} vt__label_lint_opts_t;

/* Label values that look like raw ids or paths, and labels with too many
 * distinct values in one family. */
void vt__lint_labels(const vt_doc_t *doc, const vt__label_lint_opts_t *opts, vt__lint_t *out);

/* What a label value looks like, for the checks above; exposed for tests of
 * the classification through the command. Returns NULL for a value that
 * looks bounded, else a short reason ("a number", "a UUID", ...). */
const char *vt__label_value_suspect(const char *label, const char *value, size_t len);

#endif
