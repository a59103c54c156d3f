/* parse.h - read a Prometheus text 0.0.4 or OpenMetrics 1.0 exposition into a document.
 *
 * An internal library (vitals_parse) for the vitals command-line tool and the
 * tests; it is not part of libvitals' public API and depends on libc alone.
 *
 * The document: vt_parse() turns a whole buffer into a vt_doc_t, a list of
 * metric families in the order they appear, each with its metadata and its
 * samples. A "family" here is one contiguous block of lines: when the same
 * name comes back later (repeated metadata, metadata after samples, families
 * interleaved), the parser starts a new block with that name, so nothing is
 * lost or merged and vt_doc_validate() can report exactly what is wrong.
 * Every string is copied into the document's arena; the input buffer may be
 * freed as soon as vt_parse() returns. vt_doc_free() frees it all at once.
 *
 * Syntax versus semantics. vt_parse() checks syntax: what a line is, the
 * names, the label syntax and escapes, numbers and timestamps, UTF-8, line
 * ends, `# EOF`, duplicate label names within one label set, and which family
 * each sample belongs to. vt_doc_validate() checks meaning: the rules that
 * span lines (a family's lines contiguous, metadata once and before the
 * samples, unique series, no clashing names), the rules of each type
 * (histogram buckets present, increasing and cumulative, `_count` equal to the
 * `+Inf` bucket, quantiles within [0, 1], counters not negative or NaN,
 * stateset and info values, exemplar placement and size, units) and
 * timestamps ordering. It returns every problem, each an error (a MUST of the
 * format is broken) or a warning (a SHOULD), with its line.
 *
 * Which problems are which. Errors in vt_doc_validate() for both formats:
 * repeated metadata, metadata after the family's samples, a family that is
 * not contiguous, a sample name its family's type does not have (a counter
 * "x" given a sample "x" in OpenMetrics), histogram buckets without "le", with
 * an unreadable or NaN "le", not increasing, not cumulative, without "+Inf",
 * or with `_count` unequal to "+Inf"; summary samples without a "quantile"
 * in [0, 1]. Text 0.0.4 only: a series (name and label set) written twice.
 * OpenMetrics only: clashing names (a gauge "x_total" beside a counter "x"),
 * the unit not the name's suffix or set on info and stateset, the samples of
 * one metric not contiguous, timestamps mixed or going backwards within a
 * metric, negative or NaN counter-like samples, non-integer counts, the
 * `_sum`/`_count` pairing and negative-bucket rules of histograms, info
 * values other than 1, stateset values other than 0 and 1 or without the
 * family-named label, exemplars on other samples than counter `_total` and
 * histogram `_bucket`, or with labels over 128 characters. Warnings: label
 * names starting "__", and in text 0.0.4 negative or NaN counters, a
 * negative histogram `_sum`/`_count`, and clashing names; in OpenMetrics a
 * point written twice (same series and timestamp), which the test suite
 * accepts.
 *
 * Modes. VT_PARSE_STRICT is syntax exactly as the format's specification
 * states it, followed by vt_doc_validate(): the first error-level problem
 * (by line) fails the parse. Strict OpenMetrics agrees with the OpenMetrics
 * test suite. VT_PARSE_LENIENT is syntax only, and accepts what Prometheus'
 * own scrape parser accepts beyond the specification: for text 0.0.4 a
 * missing final newline, CR before LF, unknown backslash escapes (kept as
 * written) and non-UTF-8 comments; for OpenMetrics a missing `# EOF` (and so
 * a missing final newline) and the type `untyped` (read as unknown). Both
 * modes reject hexadecimal, octal and binary numbers, underscores in numbers,
 * finite numbers beyond a double's range, invalid UTF-8 in label values and
 * help, duplicate label names, and anything that is not a line of the format.
 *
 * Hash tables seed themselves per process, so inputs built to collide in one
 * run do not in the next; work stays linear in the input in any case that is
 * not such an attack.
 *
 * Thread-safety: every function is safe to call from any thread; a document
 * is immutable once returned and may be read by several threads at once.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_PARSE_H
#define VT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/error.h"
#include "vitals/expose.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vt_parse_mode {
    VT_PARSE_STRICT = 0, /* the specification, then vt_doc_validate() errors fail */
    VT_PARSE_LENIENT = 1 /* syntax only, with Prometheus' tolerances */
} vt_parse_mode_t;

typedef struct vt_parse_opts {
    vt_format_t format;   /* VT_FORMAT_TEXT or VT_FORMAT_OPENMETRICS; default text */
    vt_parse_mode_t mode; /* default VT_PARSE_STRICT */
} vt_parse_opts_t;

/* The metric type of a family. Text 0.0.4's "untyped" and a family without a
 * TYPE line are VT_DOC_UNKNOWN. */
typedef enum vt_doc_type {
    VT_DOC_UNKNOWN = 0,
    VT_DOC_COUNTER = 1,
    VT_DOC_GAUGE = 2,
    VT_DOC_HISTOGRAM = 3,
    VT_DOC_GAUGEHISTOGRAM = 4,
    VT_DOC_SUMMARY = 5,
    VT_DOC_INFO = 6,
    VT_DOC_STATESET = 7
} vt_doc_type_t;

/* One label. Values are unescaped; a value may hold NUL bytes (OpenMetrics
 * allows them), so value_len is its true length; value[value_len] is NUL. */
typedef struct vt_doc_label {
    const char *name;
    const char *value;
    size_t value_len;
} vt_doc_label_t;

typedef struct vt_doc_exemplar {
    const vt_doc_label_t *labels; /* label_count entries, in the order written */
    size_t label_count;
    double value;
    int has_timestamp;
    double timestamp; /* seconds since the epoch */
} vt_doc_exemplar_t;

typedef struct vt_doc_sample {
    const char *name;             /* full sample name, such as "x_bucket" */
    const vt_doc_label_t *labels; /* label_count entries, in the order written */
    size_t label_count;
    double value;
    int has_timestamp;
    int64_t timestamp_ms; /* text: as written; OpenMetrics: seconds * 1000, rounded */
    double timestamp;     /* seconds; OpenMetrics: as written; text: timestamp_ms / 1000 */
    const vt_doc_exemplar_t *exemplar; /* NULL when the sample has none */
    unsigned line;                     /* 1-based line number */
} vt_doc_sample_t;

typedef struct vt_doc_family {
    const char *name; /* the family name (a counter "x" has samples "x_total") */
    vt_doc_type_t type;
    const char *help; /* unescaped HELP text, NULL without a HELP line */
    size_t help_len;
    const char *unit; /* UNIT text (OpenMetrics), NULL without a UNIT line */
    const vt_doc_sample_t *samples;
    size_t sample_count;
    unsigned line;      /* line of the family's first line */
    unsigned type_line; /* line of its TYPE, HELP, UNIT; 0 when absent */
    unsigned help_line;
    unsigned unit_line;
} vt_doc_family_t;

typedef struct vt_doc {
    vt_format_t format;
    const vt_doc_family_t *families; /* family_count entries, in input order */
    size_t family_count;
    size_t sample_count; /* over all families */
    int has_eof;         /* OpenMetrics: the input ended with "# EOF" */
    struct vt__arena *arena_;
} vt_doc_t;

/* Where and why a parse failed. message reads like
 * "line 12, column 5: label value is not valid UTF-8". */
#define VT_PARSE_MSG_SIZE 256
typedef struct vt_parse_error {
    int code;        /* same as the return value */
    unsigned line;   /* 1-based; 0 when not tied to a line */
    unsigned column; /* 1-based byte column within the line; 0 when not tied to one */
    int semantic;    /* 1 when a vt_doc_validate() rule failed a strict parse */
    char message[VT_PARSE_MSG_SIZE];
} vt_parse_error_t;

/* vt_parse_opts_init - text 0.0.4, strict. */
void vt_parse_opts_init(vt_parse_opts_t *opts);

/* vt_parse - parse a whole exposition.
 *
 * Parameters: buf/len the input (need not be NUL-terminated; may hold NUL
 * bytes, which are errors outside label values and help); opts may be NULL
 * (text 0.0.4, strict); out_doc receives the document; out_err may be NULL.
 * Returns: 0; VT_EPARSE on a syntax error (or, in strict mode, a validation
 * error); VT_EUTF8 on invalid UTF-8; VT_ELIMIT when the input has more than
 * UINT_MAX lines; VT_ENOMEM; VT_EINVAL on bad arguments. On failure *out_doc
 * is NULL and out_err says where.
 * Ownership: the caller owns *out_doc; free it with vt_doc_free().
 */
int vt_parse(const char *buf, size_t len, const vt_parse_opts_t *opts, vt_doc_t **out_doc,
             vt_parse_error_t *out_err);

/* vt_doc_free - free a document and everything it holds. NULL is fine. */
void vt_doc_free(vt_doc_t *doc);

/* vt_doc_find_family - the first family with this name, or NULL. */
const vt_doc_family_t *vt_doc_find_family(const vt_doc_t *doc, const char *name);

/* vt_doc_find_sample - the first sample named name whose label set is exactly
 * the given one (in any order). label_names and label_values are
 * NULL-terminated and parallel; both NULL means no labels. Linear in the
 * number of samples. Returns NULL when there is no such sample. */
const vt_doc_sample_t *vt_doc_find_sample(const vt_doc_t *doc, const char *name,
                                          const char *const *label_names,
                                          const char *const *label_values);

/* vt_doc_sample_label - the value of the sample's label name, or NULL. */
const char *vt_doc_sample_label(const vt_doc_sample_t *sample, const char *name);

/* vt_doc_type_name - "counter", "gauge", ..., "unknown". */
const char *vt_doc_type_name(vt_doc_type_t type);

typedef enum vt_severity { VT_SEV_ERROR = 0, VT_SEV_WARNING = 1 } vt_severity_t;

#define VT_PROBLEM_MSG_SIZE 200
typedef struct vt_problem {
    vt_severity_t severity;
    unsigned line; /* 1-based line the problem is found on */
    char message[VT_PROBLEM_MSG_SIZE];
} vt_problem_t;

typedef struct vt_problems {
    vt_problem_t *items; /* count entries, ordered by line */
    size_t count;
    size_t errors; /* entries with VT_SEV_ERROR */
    size_t cap;
} vt_problems_t;

/* vt_doc_validate - check the rules that are not syntax (see the top of this
 * file) for the document's format, and append every problem to *out.
 *
 * Parameters: out must be zeroed before the first use (or hold earlier
 * problems); free it with vt_problems_free().
 * Returns: 0 when validation ran (look at out->errors), VT_ENOMEM, VT_EINVAL.
 */
int vt_doc_validate(const vt_doc_t *doc, vt_problems_t *out);

/* vt_problems_free - free the list and zero it. */
void vt_problems_free(vt_problems_t *problems);

/* vt_parse_format_from_content_type - the format of an HTTP Content-Type.
 *
 * "application/openmetrics-text" (version 1.0.0, 0.0.1 or none) gives
 * OpenMetrics; "text/plain" (version 0.0.4 or none) gives text. Media types
 * and parameter names are case-insensitive; other parameters are ignored.
 * Returns: 0; VT_EUNSUPPORTED for any other type or version; VT_EINVAL for
 * NULL or an empty string.
 */
int vt_parse_format_from_content_type(const char *content_type, vt_format_t *out_format);

/* vt_parse_guess_format - the format of an exposition whose origin is unsure.
 *
 * A Content-Type that vt_parse_format_from_content_type() knows decides.
 * Otherwise the content does, by its first decisive line: a `# UNIT` line, a
 * TYPE of info, stateset, gaugehistogram or unknown, or an exemplar mean
 * OpenMetrics; a TYPE of untyped, a counter TYPE on a name ending in _total,
 * a blank line or a comment line mean text. With no decisive line, input
 * whose last line is `# EOF` is OpenMetrics and anything else text.
 * (Prometheus' own test files end text expositions with a `# EOF` comment,
 * which is why that rule comes last.)
 * Parameters: content_type may be NULL.
 */
vt_format_t vt_parse_guess_format(const char *buf, size_t len, const char *content_type);

#ifdef __cplusplus
}
#endif
#endif
