/* lint_names.c - naming, type and HELP warnings in the spirit of promtool's `check metrics`.
 *
 * The rules: a HELP text on every family; base units (seconds, bytes,
 * meters, grams, ...) without SI prefixes and no abbreviated units; "_total"
 * on counters and only on counters; "_bucket", "_count", "_sum" and the "le"
 * and "quantile" labels only where histograms and summaries put them; no
 * type name inside a metric name; no colons (reserved for recording rules);
 * snake_case names. Unknown (untyped) families are exempt from the type
 * rules, as in promtool. Each name is checked once, at its first block.
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/lint.h"

/* Unit words and the base unit each should be expressed in. */
static const struct {
    const char *unit;
    const char *base;
} units[] = {
    /* base units */
    {"seconds", "seconds"},
    {"bytes", "bytes"},
    {"meters", "meters"},
    {"metres", "metres"},
    {"grams", "grams"},
    {"amperes", "amperes"},
    {"volts", "volts"},
    {"kelvin", "kelvin"},
    {"kelvins", "kelvins"},
    {"celsius", "celsius"},
    {"candela", "candela"},
    {"moles", "moles"},
    {"joules", "joules"},
    {"hertz", "hertz"},
    {"ratio", "ratio"},
    /* units to convert */
    {"minutes", "seconds"},
    {"hours", "seconds"},
    {"days", "seconds"},
    {"weeks", "seconds"},
    {"bits", "bytes"},
    {"inches", "meters"},
    {"feet", "meters"},
    {"yards", "meters"},
    {"miles", "meters"},
    {"fahrenheit", "celsius"},
    {"rankine", "kelvin"},
    {"calories", "joules"},
    {"pounds", "grams"},
    {"ounces", "grams"},
    {"percent", "ratio"},
};

static const char *const prefixes[] = {
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo",
    "mega", "giga", "tera",  "peta",  "kibi",  "mebi", "gibi", "tebi",  "pebi",
};

/* Abbreviations that hide the unit, as whole name segments. */
static const char *const abbreviations[] = {
    "s", "sec", "secs", "ms", "us", "ns", "min", "mins", "hr",  "hrs", "h",   "d",
    "m", "b",   "kb",   "mb", "gb", "tb", "pb",  "kib",  "mib", "gib", "tib",
};

static const char *const type_words[] = {"counter", "gauge", "histogram", "summary"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Split name at '_' into lower-cased segments; returns the count (at most
 * max), each NUL-terminated inside buf. */
static size_t segments(const char *name, char *buf, size_t buflen, const char **seg, size_t max) {
    size_t n = 0, j = 0;
    const char *start = buf;
    for (size_t i = 0; name[i] && j + 1 < buflen; i++) {
        if (name[i] == '_') {
            buf[j++] = '\0';
            if (n < max && *start) {
                seg[n++] = start;
            }
            start = buf + j;
        } else {
            buf[j++] = (char)tolower((unsigned char)name[i]);
        }
    }
    buf[j] = '\0';
    if (n < max && *start) {
        seg[n++] = start;
    }
    return n;
}

static void lint_units(const vt_doc_family_t *f, const char **seg, size_t nseg, vt__lint_t *out) {
    for (size_t i = 0; i < nseg; i++) {
        for (size_t u = 0; u < N(units); u++) {
            const char *unit = units[u].unit;
            size_t sl = strlen(seg[i]), ul = strlen(unit);
            if (sl < ul || strcmp(seg[i] + sl - ul, unit) != 0) {
                continue;
            }
            int prefixed = 0;
            if (sl > ul) {
                for (size_t p = 0; p < N(prefixes); p++) {
                    if (strlen(prefixes[p]) == sl - ul &&
                        strncmp(seg[i], prefixes[p], sl - ul) == 0) {
                        prefixed = 1;
                    }
                }
                if (!prefixed) {
                    continue; /* "thermometers" is not a unit */
                }
            }
            if (prefixed || strcmp(unit, units[u].base) != 0) {
                vt__lint_add(out, VT_SEV_WARNING, f->line,
                             "\"%s\": use the base unit \"%s\" instead of \"%s\"", f->name,
                             units[u].base, seg[i]);
            }
            return;
        }
    }
}

static void lint_abbreviations(const vt_doc_family_t *f, const char **seg, size_t nseg,
                               vt__lint_t *out) {
    /* The first segment names the subsystem ("s3_...", "m3_..."), not a unit. */
    for (size_t i = 1; i < nseg; i++) {
        for (size_t a = 0; a < N(abbreviations); a++) {
            if (strcmp(seg[i], abbreviations[a]) == 0) {
                vt__lint_add(out, VT_SEV_WARNING, f->line,
                             "\"%s\": abbreviated unit \"%s\"; spell out a base unit (seconds, "
                             "bytes, ...)",
                             f->name, seg[i]);
                return;
            }
        }
    }
}

static void lint_type_words(const vt_doc_family_t *f, const char **seg, size_t nseg,
                            vt__lint_t *out) {
    for (size_t t = 0; t < N(type_words); t++) {
        for (size_t i = 1; i < nseg; i++) {
            if (strcmp(seg[i], type_words[t]) == 0) {
                vt__lint_add(out, VT_SEV_WARNING, f->line,
                             "\"%s\": the metric name should not include its type \"%s\"", f->name,
                             type_words[t]);
                break;
            }
        }
    }
}

static int camel(const char *s) {
    for (size_t i = 0; s[i] && s[i + 1]; i++) {
        if (islower((unsigned char)s[i]) && isupper((unsigned char)s[i + 1])) {
            return 1;
        }
    }
    return 0;
}

static int has_text(const char *s, size_t n) {
    for (size_t i = 0; s && i < n; i++) {
        if (!isspace((unsigned char)s[i])) {
            return 1;
        }
    }
    return 0;
}

static void lint_type_suffixes(const vt_doc_t *doc, const vt_doc_family_t *f, vt__lint_t *out) {
    vt_doc_type_t t = f->type;
    const char *tn = vt_doc_type_name(t);
    if (t == VT_DOC_UNKNOWN) {
        return;
    }
    /* OpenMetrics counter family names never carry "_total" (the samples do). */
    if (t == VT_DOC_COUNTER && doc->format == VT_FORMAT_TEXT && !ends_with(f->name, "_total")) {
        vt__lint_add(out, VT_SEV_WARNING, f->line, "counter \"%s\" should end in \"_total\"",
                     f->name);
    }
    if (t != VT_DOC_COUNTER && ends_with(f->name, "_total")) {
        vt__lint_add(out, VT_SEV_WARNING, f->line,
                     "%s \"%s\" ends in \"_total\", which is for counters only", tn, f->name);
    }
    int hist = t == VT_DOC_HISTOGRAM || t == VT_DOC_GAUGEHISTOGRAM;
    int summ = t == VT_DOC_SUMMARY;
    if (!hist && ends_with(f->name, "_bucket")) {
        vt__lint_add(out, VT_SEV_WARNING, f->line,
                     "%s \"%s\" ends in \"_bucket\", which is for histograms only", tn, f->name);
    }
    if (!hist && !summ && (ends_with(f->name, "_count") || ends_with(f->name, "_sum"))) {
        vt__lint_add(out, VT_SEV_WARNING, f->line,
                     "%s \"%s\" ends in \"%s\", which is for histograms and summaries only", tn,
                     f->name, ends_with(f->name, "_sum") ? "_sum" : "_count");
    }
    int le_seen = 0, quantile_seen = 0;
    for (size_t i = 0; i < f->sample_count; i++) {
        const vt_doc_sample_t *s = &f->samples[i];
        for (size_t k = 0; k < s->label_count; k++) {
            const char *ln = s->labels[k].name;
            if (!hist && !le_seen && strcmp(ln, "le") == 0) {
                le_seen = 1;
                vt__lint_add(out, VT_SEV_WARNING, s->line,
                             "%s \"%s\" has an \"le\" label, which is for histogram buckets", tn,
                             f->name);
            }
            if (!summ && !quantile_seen && strcmp(ln, "quantile") == 0) {
                quantile_seen = 1;
                vt__lint_add(out, VT_SEV_WARNING, s->line,
                             "%s \"%s\" has a \"quantile\" label, which is for summaries", tn,
                             f->name);
            }
        }
    }
}

static void lint_label_names(const vt_doc_family_t *f, vt__lint_t *out) {
    /* One warning per label name: remember the names already reported. */
    const char *reported[16];
    size_t nrep = 0;
    for (size_t i = 0; i < f->sample_count; i++) {
        const vt_doc_sample_t *s = &f->samples[i];
        for (size_t k = 0; k < s->label_count; k++) {
            const char *ln = s->labels[k].name;
            if (!camel(ln)) {
                continue;
            }
            int seen = 0;
            for (size_t r = 0; r < nrep; r++) {
                seen |= strcmp(reported[r], ln) == 0;
            }
            if (seen) {
                continue;
            }
            if (nrep < N(reported)) {
                reported[nrep++] = ln;
            }
            vt__lint_add(out, VT_SEV_WARNING, s->line,
                         "label \"%s\" of \"%s\" should be snake_case, not camelCase", ln, f->name);
        }
    }
}

static int by_name(const void *a, const void *b) {
    const vt_doc_family_t *fa = *(const vt_doc_family_t *const *)a;
    const vt_doc_family_t *fb = *(const vt_doc_family_t *const *)b;
    int c = strcmp(fa->name, fb->name);
    return c ? c : (fa < fb ? -1 : fa > fb);
}

void vt__lint_names(const vt_doc_t *doc, vt__lint_t *out) {
    if (doc->family_count == 0) {
        return;
    }
    /* The first block of each name: sort by (name, position). */
    const vt_doc_family_t **order = malloc(doc->family_count * sizeof *order);
    if (!order) {
        out->failed = 1;
        return;
    }
    for (size_t i = 0; i < doc->family_count; i++) {
        order[i] = &doc->families[i];
    }
    qsort(order, doc->family_count, sizeof *order, by_name);
    for (size_t i = 0; i < doc->family_count; i++) {
        const vt_doc_family_t *f = order[i];
        if (i > 0 && strcmp(order[i - 1]->name, f->name) == 0) {
            continue;
        }
        if (!has_text(f->help, f->help_len)) {
            vt__lint_add(out, VT_SEV_WARNING, f->line, "\"%s\" has no HELP text", f->name);
        }
        char buf[512];
        const char *seg[64];
        size_t nseg = segments(f->name, buf, sizeof buf, seg, N(seg));
        lint_units(f, seg, nseg, out);
        lint_abbreviations(f, seg, nseg, out);
        if (f->type != VT_DOC_UNKNOWN) {
            lint_type_words(f, seg, nseg, out);
        }
        lint_type_suffixes(doc, f, out);
        if (strchr(f->name, ':')) {
            vt__lint_add(out, VT_SEV_WARNING, f->line,
                         "\"%s\": colons in metric names are for recording rules", f->name);
        }
        if (camel(f->name)) {
            vt__lint_add(out, VT_SEV_WARNING, f->line, "\"%s\" should be snake_case, not camelCase",
                         f->name);
        }
        lint_label_names(f, out);
    }
    free(order);
}
