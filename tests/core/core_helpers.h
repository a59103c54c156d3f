/* core_helpers.h - small helpers the core unit tests share: scrape a registry
 * into a string, read one sample, find exact lines in an exposition.
 *
 * Everything is static: each test program includes this once. The helpers use
 * only the public API, so they see what a user of the library would see.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_CORE_HELPERS_H
#define VT_TEST_CORE_HELPERS_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vitals.h"

#if defined(__GNUC__)
#define TH_MAYBE_UNUSED __attribute__((unused))
#else
#define TH_MAYBE_UNUSED
#endif

/* The registry in the given format as a malloc'd string ("" when empty), or
 * NULL when the write failed. */
TH_MAYBE_UNUSED static char *scrape_fmt(vt_registry_t *reg, vt_format_t format) {
    vt_write_opts_t o;
    vt_write_opts_init(&o);
    o.format = format;
    vt_buf_t b = {0};
    int rc = vt_registry_write_buf(reg, &o, &b);
    if (rc != 0) {
        vt_buf_free(&b);
        return NULL;
    }
    char *s = malloc(b.len + 1);
    if (s) {
        if (b.len)
            memcpy(s, b.data, b.len);
        s[b.len] = '\0';
    }
    vt_buf_free(&b);
    return s;
}

TH_MAYBE_UNUSED static char *scrape(vt_registry_t *reg) {
    return scrape_fmt(reg, VT_FORMAT_TEXT);
}

/* Does text hold this exact line (without its newline)? */
TH_MAYBE_UNUSED static int has_line(const char *text, const char *line) {
    if (!text)
        return 0;
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

/* How many lines of text start with prefix. */
TH_MAYBE_UNUSED static int count_lines_with_prefix(const char *text, const char *prefix) {
    int n = 0;
    size_t k = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, k) == 0)
            n++;
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

/* A sample's value, or NAN when vt_registry_get_sample_value fails. */
TH_MAYBE_UNUSED static double sample(vt_registry_t *reg, const char *name, const char *const *names,
                                     const char *const *values) {
    double v = NAN;
    if (vt_registry_get_sample_value(reg, name, names, values, &v) != 0)
        return NAN;
    return v;
}

/* vitals_errors_total{kind=...}, or NAN. */
TH_MAYBE_UNUSED static double errors_of_kind(vt_registry_t *reg, const char *kind) {
    return sample(reg, "vitals_errors_total", VT_LABELS("kind"), VT_VALUES(kind));
}

#define CHECK_LINE(text, line)                                                                     \
    do {                                                                                           \
        const char *th_t = (text), *th_l = (line);                                                 \
        if (!has_line(th_t, th_l)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK_LINE failed: missing line \"%s\" in:\n%s\n", __FILE__,   \
                    __LINE__, th_l, th_t ? th_t : "(null)");                                       \
            th_checks_failed++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_NO_LINE(text, line)                                                                  \
    do {                                                                                           \
        const char *th_t = (text), *th_l = (line);                                                 \
        if (has_line(th_t, th_l)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK_NO_LINE failed: unexpected line \"%s\" in:\n%s\n",       \
                    __FILE__, __LINE__, th_l, th_t ? th_t : "(null)");                             \
            th_checks_failed++;                                                                    \
        }                                                                                          \
    } while (0)

/* text does not contain needle at all. */
#define CHECK_NOT_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        const char *th_h = (hay), *th_n = (needle);                                                \
        if (!th_h || strstr(th_h, th_n)) {                                                         \
            fprintf(stderr, "%s:%d: CHECK_NOT_CONTAINS failed: found \"%s\" in:\n%s\n", __FILE__,  \
                    __LINE__, th_n, th_h ? th_h : "(null)");                                       \
            th_checks_failed++;                                                                    \
        }                                                                                          \
    } while (0)

#endif
