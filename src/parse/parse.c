/* parse.c - the single-pass line parser of text 0.0.4 and OpenMetrics 1.0.
 *
 * Invariants: the parser reads each byte of the input a bounded number of
 * times (memchr finds the line end, then one scan per token); it never reads
 * outside [buf, buf + len). Families are blocks of consecutive lines, so the
 * samples of block k are one contiguous run of the sample array, and a sample
 * is only ever appended to the newest block. Strings live in the arena; the
 * sample array grows by doubling and is handed to the arena at the end.
 * Not thread-safe per parse; separate parses share nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/internal.h"

#define SUF(k) (1u << (k))

/* A family block while the parse runs. */
typedef struct fam {
    vt_doc_family_t pub; /* samples/sample_count filled at the end */
    size_t name_len;
    size_t first;     /* index of its first sample */
    size_t count;     /* its samples */
    unsigned allowed; /* SUF() mask of sample name suffixes it takes */
} fam_t;

typedef struct labels {
    vt_doc_label_t *v;
    size_t n, cap;
} labels_t;

typedef struct parser {
    const char *ls, *eol; /* the current line [ls, eol) */
    unsigned line;
    int om, lenient, eof;
    vt__arena_t arena;
    fam_t *fams;
    size_t nfam, capfam;
    vt_doc_sample_t *samples;
    size_t nsamp, capsamp;
    labels_t lab, xlab; /* scratch label sets of the line's sample and exemplar */
    size_t *map;        /* open addressing: family name -> newest block index + 1 */
    size_t mapcap;      /* power of two; 0 before the first family */
    vt_parse_error_t *err;
} parser_t;

/* ---- errors ---------------------------------------------------------------- */

static int fail_at(parser_t *ps, int code, const char *at, const char *fmt, ...) {
    vt_parse_error_t *e = ps->err;
    if (e) {
        e->code = code;
        e->line = ps->line;
        e->column = at ? (unsigned)(at - ps->ls) + 1u : 0u;
        e->semantic = 0;
        int k;
        if (at) {
            k = snprintf(e->message, sizeof e->message, "line %u, column %u: ", e->line, e->column);
        } else {
            k = snprintf(e->message, sizeof e->message, "line %u: ", e->line);
        }
        if (k < 0 || (size_t)k >= sizeof e->message) {
            k = 0;
        }
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message + k, sizeof e->message - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return code;
}

#define FAIL(at, ...) fail_at(ps, VT_EPARSE, (at), __VA_ARGS__)

static int nomem(parser_t *ps) {
    return fail_at(ps, VT_ENOMEM, NULL, "out of memory");
}

/* Quote a byte for an error message. */
static const char *show(char c, char buf[8]) {
    unsigned char u = (unsigned char)c;
    if (u >= 0x21 && u < 0x7f) {
        buf[0] = '\'';
        buf[1] = c;
        buf[2] = '\'';
        buf[3] = '\0';
    } else if (c == ' ') {
        snprintf(buf, 8, "space");
    } else {
        snprintf(buf, 8, "0x%02X", u);
    }
    return buf;
}

/* Is the NUL-terminated z equal to s[0..n)? Stops at z's end, so z may be
 * shorter than n. */
static int same_str(const char *z, const char *s, size_t n) {
    size_t i = 0;
    while (i < n && z[i] == s[i]) {
        i++;
    }
    return i == n && z[n] == '\0';
}

/* ---- families --------------------------------------------------------------- */

static unsigned allowed_for(int om, vt_doc_type_t t) {
    switch (t) {
    case VT_DOC_COUNTER:
        return om ? SUF(VT__SUF_TOTAL) | SUF(VT__SUF_CREATED) : SUF(VT__SUF_NONE);
    case VT_DOC_SUMMARY:
        return SUF(VT__SUF_NONE) | SUF(VT__SUF_COUNT) | SUF(VT__SUF_SUM) |
               (om ? SUF(VT__SUF_CREATED) : 0u);
    case VT_DOC_HISTOGRAM:
        return SUF(VT__SUF_BUCKET) | SUF(VT__SUF_COUNT) | SUF(VT__SUF_SUM) |
               (om ? SUF(VT__SUF_CREATED) : 0u);
    case VT_DOC_GAUGEHISTOGRAM:
        return SUF(VT__SUF_BUCKET) | SUF(VT__SUF_GCOUNT) | SUF(VT__SUF_GSUM);
    case VT_DOC_INFO:
        return SUF(VT__SUF_INFO);
    default:
        return SUF(VT__SUF_NONE);
    }
}

static uint64_t name_hash(const char *s, size_t n) {
    return vt__hash_bytes(s, n, vt__hash_seed());
}

/* Index of the newest block named s[0..n), or SIZE_MAX. */
static size_t map_find(const parser_t *ps, const char *s, size_t n) {
    if (!ps->mapcap) {
        return SIZE_MAX;
    }
    size_t mask = ps->mapcap - 1;
    for (size_t i = (size_t)name_hash(s, n) & mask;; i = (i + 1) & mask) {
        size_t v = ps->map[i];
        if (!v) {
            return SIZE_MAX;
        }
        const fam_t *f = &ps->fams[v - 1];
        if (f->name_len == n && memcmp(f->pub.name, s, n) == 0) {
            return v - 1;
        }
    }
}

static void map_put_raw(size_t *map, size_t cap, const fam_t *fams, size_t idx) {
    size_t mask = cap - 1;
    const fam_t *f = &fams[idx];
    for (size_t i = (size_t)name_hash(f->pub.name, f->name_len) & mask;; i = (i + 1) & mask) {
        if (!map[i]) {
            map[i] = idx + 1;
            return;
        }
        const fam_t *g = &fams[map[i] - 1];
        if (g->name_len == f->name_len && memcmp(g->pub.name, f->pub.name, f->name_len) == 0) {
            map[i] = idx + 1; /* the newest block of a name wins */
            return;
        }
    }
}

static int map_put(parser_t *ps, size_t idx) {
    if (2 * (ps->nfam + 1) > ps->mapcap) {
        size_t cap = ps->mapcap ? ps->mapcap * 2 : 64;
        size_t *m = calloc(cap, sizeof *m);
        if (!m) {
            return -1;
        }
        for (size_t i = 0; i < ps->mapcap; i++) {
            if (ps->map[i]) {
                map_put_raw(m, cap, ps->fams, ps->map[i] - 1);
            }
        }
        free(ps->map);
        ps->map = m;
        ps->mapcap = cap;
    }
    map_put_raw(ps->map, ps->mapcap, ps->fams, idx);
    return 0;
}

/* Start a new block; returns its index or SIZE_MAX when out of memory. */
static size_t fam_new(parser_t *ps, const char *name, size_t n, vt_doc_type_t type) {
    if (ps->nfam == ps->capfam) {
        size_t cap = ps->capfam ? ps->capfam * 2 : 16;
        fam_t *f = realloc(ps->fams, cap * sizeof *f);
        if (!f) {
            return SIZE_MAX;
        }
        ps->fams = f;
        ps->capfam = cap;
    }
    fam_t *f = &ps->fams[ps->nfam];
    memset(f, 0, sizeof *f);
    /* Reuse the previous sample's name when it is the same string. */
    if (ps->nsamp && same_str(ps->samples[ps->nsamp - 1].name, name, n)) {
        f->pub.name = ps->samples[ps->nsamp - 1].name;
    } else {
        f->pub.name = vt__arena_strndup(&ps->arena, name, n);
        if (!f->pub.name) {
            return SIZE_MAX;
        }
    }
    f->pub.type = type;
    f->pub.line = ps->line;
    f->name_len = n;
    f->first = ps->nsamp;
    f->allowed = allowed_for(ps->om, type);
    size_t idx = ps->nfam++;
    if (map_put(ps, idx) != 0) {
        return SIZE_MAX;
    }
    return idx;
}

static fam_t *cur_fam(parser_t *ps) {
    return ps->nfam ? &ps->fams[ps->nfam - 1] : NULL;
}

/* Does a sample named s[0..n) belong to family f? */
static int fam_takes(const fam_t *f, const char *s, size_t n) {
    if (n < f->name_len || memcmp(s, f->pub.name, f->name_len) != 0) {
        return 0;
    }
    return (f->allowed & SUF(vt__suffix_kind(s, n, f->name_len))) != 0;
}

/* The block a sample named s[0..n) goes to: the current block when it takes
 * the name, else a new block. A new block keeps the name and type of an
 * earlier family the sample belongs to, so that validation can say that the
 * family came back; otherwise it is a family of unknown type named after the
 * sample. Returns NULL when out of memory. */
static fam_t *fam_for_sample(parser_t *ps, const char *s, size_t n) {
    fam_t *f = cur_fam(ps);
    if (f && fam_takes(f, s, n)) {
        return f;
    }
    size_t idx = map_find(ps, s, n);
    if (idx != SIZE_MAX && fam_takes(&ps->fams[idx], s, n)) {
        const fam_t *old = &ps->fams[idx];
        idx = fam_new(ps, s, n, old->pub.type);
        return idx == SIZE_MAX ? NULL : &ps->fams[idx];
    }
    static const size_t suffix_len[] = {6, 8, 6, 4, 7, 7, 5, 5};
    for (size_t k = 0; k < sizeof suffix_len / sizeof suffix_len[0]; k++) {
        size_t sl = suffix_len[k];
        if (n <= sl) {
            continue;
        }
        idx = map_find(ps, s, n - sl);
        if (idx != SIZE_MAX && fam_takes(&ps->fams[idx], s, n)) {
            const fam_t *old = &ps->fams[idx];
            idx = fam_new(ps, s, n - sl, old->pub.type);
            return idx == SIZE_MAX ? NULL : &ps->fams[idx];
        }
    }
    idx = fam_new(ps, s, n, VT_DOC_UNKNOWN);
    return idx == SIZE_MAX ? NULL : &ps->fams[idx];
}

/* ---- tokens ----------------------------------------------------------------- */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    return p;
}

static const char *scan_metric_name(const char *p, const char *end) {
    if (p < end && (vt__name_class[(unsigned char)*p] & VT__C_METRIC_FIRST)) {
        p++;
        while (p < end && (vt__name_class[(unsigned char)*p] & VT__C_METRIC)) {
            p++;
        }
    }
    return p;
}

static const char *scan_label_name(const char *p, const char *end) {
    if (p < end && (vt__name_class[(unsigned char)*p] & VT__C_LABEL_FIRST)) {
        p++;
        while (p < end && (vt__name_class[(unsigned char)*p] & VT__C_LABEL)) {
            p++;
        }
    }
    return p;
}

/* Check s[0..n) is UTF-8; report the first bad byte as `what`. */
static int check_utf8(parser_t *ps, const char *s, size_t n, const char *what) {
    size_t bad = vt__utf8_check(s, n);
    if (bad != n) {
        return fail_at(ps, VT_EUTF8, s + bad, "%s is not valid UTF-8", what);
    }
    return 0;
}

/* Read a quoted label value; *pp is just past the opening quote. On return
 * *pp is just past the closing quote. The unescaped value goes to the arena. */
static int read_label_value(parser_t *ps, const char **pp, vt_doc_label_t *out,
                            const vt_doc_label_t *prev) {
    const char *p = *pp, *end = ps->eol;
    const char *q = memchr(p, '"', (size_t)(end - p));
    const char *bs = memchr(p, '\\', (size_t)((q ? q : end) - p));
    if (!bs) {
        if (!q) {
            return FAIL(p - 1, "label value has no closing quote");
        }
        size_t n = (size_t)(q - p);
        if (prev && prev->value_len == n && memcmp(prev->value, p, n) == 0) {
            out->value = prev->value; /* the same as the previous sample's: share it */
            out->value_len = n;
            *pp = q + 1;
            return 0;
        }
        if (check_utf8(ps, p, n, "label value")) {
            return VT_EUTF8;
        }
        char *v = vt__arena_strndup(&ps->arena, p, n);
        if (!v) {
            return nomem(ps);
        }
        out->value = v;
        out->value_len = n;
        *pp = q + 1;
        return 0;
    }
    /* Escapes: find the real closing quote first. */
    for (q = bs; q < end && *q != '"'; q++) {
        if (*q == '\\') {
            q++;
        }
    }
    if (q >= end) {
        return FAIL(p - 1, "label value has no closing quote");
    }
    size_t raw = (size_t)(q - p);
    if (check_utf8(ps, p, raw, "label value")) {
        return VT_EUTF8;
    }
    char *v = vt__arena_bytes(&ps->arena, raw + 1);
    if (!v) {
        return nomem(ps);
    }
    size_t k = 0;
    for (const char *s = p; s < q; s++) {
        if (*s != '\\') {
            v[k++] = *s;
            continue;
        }
        char c = s[1];
        if (c == '\\' || c == '"') {
            v[k++] = c;
        } else if (c == 'n') {
            v[k++] = '\n';
        } else if (ps->om || ps->lenient) {
            v[k++] = '\\'; /* OpenMetrics: a backslash before another character stands for itself */
            v[k++] = c;
        } else {
            char b[8];
            return FAIL(s,
                        "invalid escape sequence '\\' %s in label value (only \\\\, \\\" and \\n)",
                        show(c, b));
        }
        s++;
    }
    v[k] = '\0';
    vt__arena_shrink_last(&ps->arena, v, raw + 1, k + 1);
    out->value = v;
    out->value_len = k;
    *pp = q + 1;
    return 0;
}

static int labels_push(labels_t *l) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        vt_doc_label_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->n++;
    return 0;
}

static int cmp_label_ptr(const void *a, const void *b) {
    const vt_doc_label_t *x = *(const vt_doc_label_t *const *)a;
    const vt_doc_label_t *y = *(const vt_doc_label_t *const *)b;
    return strcmp(x->name, y->name);
}

/* Name of a label that appears twice, or NULL. */
static const char *dup_label(parser_t *ps, const labels_t *l, int *oom) {
    *oom = 0;
    if (l->n <= 16) {
        for (size_t i = 1; i < l->n; i++) {
            for (size_t j = 0; j < i; j++) {
                const char *a = l->v[i].name, *b = l->v[j].name;
                if (a == b || (a[0] == b[0] && strcmp(a, b) == 0)) {
                    return l->v[i].name;
                }
            }
        }
        return NULL;
    }
    const vt_doc_label_t **tmp = malloc(l->n * sizeof *tmp);
    if (!tmp) {
        *oom = 1;
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++) {
        tmp[i] = &l->v[i];
    }
    qsort(tmp, l->n, sizeof *tmp, cmp_label_ptr);
    const char *dup = NULL;
    for (size_t i = 1; i < l->n && !dup; i++) {
        if (strcmp(tmp[i - 1]->name, tmp[i]->name) == 0) {
            dup = tmp[i]->name;
        }
    }
    free(tmp);
    (void)ps;
    return dup;
}

/* Parse "{...}" starting at *pp (on the brace) into l. prev, when not NULL,
 * is the previous sample, whose label name strings are reused when equal. */
static int read_labels(parser_t *ps, const char **pp, labels_t *l, const vt_doc_sample_t *prev,
                       const char *what) {
    const char *p = *pp + 1, *end = ps->eol;
    int text = !ps->om;
    char b[8];
    l->n = 0;
    if (text) {
        p = skip_ws(p, end);
    }
    if (p < end && *p == '}') {
        *pp = p + 1;
        return 0;
    }
    for (;;) {
        const char *ns = p;
        p = scan_label_name(p, end);
        if (p == ns) {
            if (p >= end) {
                return FAIL(p, "%s labels are not closed with '}'", what);
            }
            return FAIL(p, "expected a label name, found %s", show(*p, b));
        }
        size_t nn = (size_t)(p - ns);
        if (labels_push(l)) {
            return nomem(ps);
        }
        vt_doc_label_t *lab = &l->v[l->n - 1];
        size_t i = l->n - 1;
        const vt_doc_label_t *pl = prev && i < prev->label_count ? &prev->labels[i] : NULL;
        if (pl && same_str(pl->name, ns, nn)) {
            lab->name = pl->name;
        } else {
            pl = NULL;
            lab->name = vt__arena_strndup(&ps->arena, ns, nn);
            if (!lab->name) {
                return nomem(ps);
            }
        }
        if (text) {
            p = skip_ws(p, end);
        }
        if (p >= end || *p != '=') {
            if (p < end && (vt__name_class[(unsigned char)*p] & VT__C_METRIC)) {
                return FAIL(p, "invalid character %s in label name", show(*p, b));
            }
            return FAIL(p, "expected '=' after label name \"%s\"", lab->name);
        }
        p++;
        if (text) {
            p = skip_ws(p, end);
        }
        if (p >= end || *p != '"') {
            return FAIL(p, "expected '\"' to open the value of label \"%s\"", lab->name);
        }
        p++;
        int rc = read_label_value(ps, &p, lab, pl);
        if (rc) {
            return rc;
        }
        if (text) {
            p = skip_ws(p, end);
        }
        if (p < end && *p == ',') {
            p++;
            if (text) {
                p = skip_ws(p, end);
                if (p < end && *p == '}') {
                    p++;
                    break; /* text 0.0.4 allows a trailing comma */
                }
            }
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            break;
        }
        if (p >= end) {
            return FAIL(p, "%s labels are not closed with '}'", what);
        }
        return FAIL(p, "expected ',' or '}' after a label value, found %s", show(*p, b));
    }
    int oom;
    const char *dup = dup_label(ps, l, &oom);
    if (oom) {
        return nomem(ps);
    }
    if (dup) {
        return FAIL(*pp, "duplicate label name \"%s\" in %s labels", dup, what);
    }
    *pp = p;
    return 0;
}

static vt_doc_label_t *labels_commit(parser_t *ps, const labels_t *l) {
    if (!l->n) {
        return NULL;
    }
    vt_doc_label_t *v = vt__arena_alloc(&ps->arena, l->n * sizeof *v);
    if (v) {
        memcpy(v, l->v, l->n * sizeof *v);
    }
    return v;
}

/* ---- samples ---------------------------------------------------------------- */

static const char *token_end(const char *p, const char *end, int text) {
    if (text) {
        while (p < end && *p != ' ' && *p != '\t') {
            p++;
        }
    } else {
        while (p < end && *p != ' ') {
            p++;
        }
    }
    return p;
}

static int read_value(parser_t *ps, const char *s, const char *e, double *out, const char *what) {
    if (s == e) {
        return FAIL(s, "expected %s", what);
    }
    int rc = vt__parse_double(s, (size_t)(e - s), out);
    if (rc == -2) {
        return nomem(ps);
    }
    if (rc) {
        return FAIL(s, "invalid %s \"%.*s\"", what, (int)(e - s > 40 ? 40 : e - s), s);
    }
    return 0;
}

static int read_om_timestamp(parser_t *ps, const char *s, const char *e, double *out,
                             const char *what) {
    if (s == e) {
        return FAIL(s, "expected %s", what);
    }
    int rc = vt__parse_real(s, (size_t)(e - s), out);
    if (rc == -2) {
        return nomem(ps);
    }
    if (rc) {
        return FAIL(s, "invalid %s \"%.*s\" (a decimal number of seconds)", what,
                    (int)(e - s > 40 ? 40 : e - s), s);
    }
    return 0;
}

static int64_t seconds_to_ms(double s) {
    double ms = s * 1000.0;
    if (!(ms > -9.2e18)) {
        return INT64_MIN;
    }
    if (!(ms < 9.2e18)) {
        return INT64_MAX;
    }
    return (int64_t)llround(ms);
}

/* " # {labels} value [timestamp]" with *pp on the '#'. */
static int read_exemplar(parser_t *ps, const char *p, vt_doc_exemplar_t **out) {
    const char *end = ps->eol;
    char b[8];
    if (p + 1 >= end || p[1] != ' ') {
        return FAIL(p + 1, "expected \" {\" after '#' to start an exemplar");
    }
    p += 2;
    if (p >= end || *p != '{') {
        return FAIL(p, "expected '{' to start the exemplar's labels");
    }
    int rc = read_labels(ps, &p, &ps->xlab, NULL, "exemplar");
    if (rc) {
        return rc;
    }
    if (p >= end || *p != ' ') {
        if (p >= end) {
            return FAIL(p, "expected a space and the exemplar's value");
        }
        return FAIL(p, "expected a space after the exemplar's labels, found %s", show(*p, b));
    }
    p++;
    vt_doc_exemplar_t *x = vt__arena_alloc(&ps->arena, sizeof *x);
    if (!x) {
        return nomem(ps);
    }
    memset(x, 0, sizeof *x);
    const char *e = token_end(p, end, 0);
    rc = read_value(ps, p, e, &x->value, "exemplar value");
    if (rc) {
        return rc;
    }
    p = e;
    if (p < end) {
        p++;
        e = token_end(p, end, 0);
        rc = read_om_timestamp(ps, p, e, &x->timestamp, "exemplar timestamp");
        if (rc) {
            return rc;
        }
        x->has_timestamp = 1;
        if (e < end) {
            return FAIL(e, "unexpected text after the exemplar's timestamp");
        }
    }
    x->label_count = ps->xlab.n;
    if (x->label_count) {
        x->labels = labels_commit(ps, &ps->xlab);
        if (!x->labels) {
            return nomem(ps);
        }
    }
    *out = x;
    return 0;
}

static int parse_sample(parser_t *ps, const char *p) {
    const char *end = ps->eol;
    int text = !ps->om;
    char b[8];
    const char *ns = p;
    p = scan_metric_name(p, end);
    if (p == ns) {
        return FAIL(p, "expected a metric name, found %s", show(*p, b));
    }
    size_t nn = (size_t)(p - ns);
    if (p < end && *p != ' ' && *p != '{' && !(text && *p == '\t')) {
        return FAIL(p, "invalid character %s in metric name", show(*p, b));
    }
    fam_t *f = fam_for_sample(ps, ns, nn);
    if (!f) {
        return nomem(ps);
    }
    const vt_doc_sample_t *prev = ps->nsamp ? &ps->samples[ps->nsamp - 1] : NULL;

    vt_doc_sample_t s;
    memset(&s, 0, sizeof s);
    s.line = ps->line;
    if (prev && same_str(prev->name, ns, nn)) {
        s.name = prev->name;
    } else if (f->name_len == nn) {
        s.name = f->pub.name;
    } else {
        s.name = vt__arena_strndup(&ps->arena, ns, nn);
        if (!s.name) {
            return nomem(ps);
        }
    }
    if (text) {
        p = skip_ws(p, end);
    }
    ps->lab.n = 0;
    if (p < end && *p == '{') {
        int rc = read_labels(ps, &p, &ps->lab, prev, "sample");
        if (rc) {
            return rc;
        }
    }
    if (text) {
        p = skip_ws(p, end);
    } else {
        if (p >= end || *p != ' ') {
            if (p >= end) {
                return FAIL(p, "expected a space and a value after the metric name and labels");
            }
            return FAIL(p, "expected a space before the value, found %s", show(*p, b));
        }
        p++;
    }
    const char *e = token_end(p, end, text);
    int rc = read_value(ps, p, e, &s.value, "value");
    if (rc) {
        return rc;
    }
    p = e;
    if (text) {
        p = skip_ws(p, end);
        if (p < end) {
            e = token_end(p, end, 1);
            if (vt__parse_int64(p, (size_t)(e - p), &s.timestamp_ms)) {
                return FAIL(p, "invalid timestamp \"%.*s\" (integer milliseconds)",
                            (int)(e - p > 40 ? 40 : e - p), p);
            }
            s.has_timestamp = 1;
            s.timestamp = (double)s.timestamp_ms / 1000.0;
            p = skip_ws(e, end);
            if (p < end) {
                return FAIL(p, "unexpected text after the timestamp");
            }
        }
    } else if (p < end) {
        p++; /* the space */
        if (p < end && *p == '#') {
            vt_doc_exemplar_t *x = NULL;
            rc = read_exemplar(ps, p, &x);
            if (rc) {
                return rc;
            }
            s.exemplar = x;
        } else {
            e = token_end(p, end, 0);
            rc = read_om_timestamp(ps, p, e, &s.timestamp, "timestamp");
            if (rc) {
                return rc;
            }
            s.has_timestamp = 1;
            s.timestamp_ms = seconds_to_ms(s.timestamp);
            p = e;
            if (p < end) {
                if (p + 1 < end && p[1] == '#') {
                    vt_doc_exemplar_t *x = NULL;
                    rc = read_exemplar(ps, p + 1, &x);
                    if (rc) {
                        return rc;
                    }
                    s.exemplar = x;
                } else {
                    return FAIL(p, "unexpected text after the timestamp");
                }
            }
        }
    }
    s.label_count = ps->lab.n;
    if (s.label_count && prev && prev->label_count == s.label_count) {
        /* _sum after _count, or a series repeated: every string is already
         * shared with the previous sample, so share the whole array. */
        size_t i = 0;
        while (i < s.label_count && prev->labels[i].name == ps->lab.v[i].name &&
               prev->labels[i].value == ps->lab.v[i].value) {
            i++;
        }
        if (i == s.label_count) {
            s.labels = prev->labels;
        }
    }
    if (s.label_count && !s.labels) {
        s.labels = labels_commit(ps, &ps->lab);
        if (!s.labels) {
            return nomem(ps);
        }
    }
    if (ps->nsamp == ps->capsamp) {
        size_t cap = ps->capsamp ? ps->capsamp * 2 : 64;
        if (cap > SIZE_MAX / sizeof *ps->samples) {
            return nomem(ps);
        }
        vt_doc_sample_t *v = vt__arena_array_grow(ps->samples, cap * sizeof *v);
        if (!v) {
            return nomem(ps);
        }
        ps->samples = v;
        ps->capsamp = cap;
    }
    ps->samples[ps->nsamp++] = s;
    f->count++;
    return 0;
}

/* ---- metadata --------------------------------------------------------------- */

enum meta { META_HELP, META_TYPE, META_UNIT };

static int type_from_word(const char *s, size_t n, int om, int lenient, vt_doc_type_t *out) {
    static const struct {
        const char *w;
        vt_doc_type_t t;
        int om; /* 1: OpenMetrics only, 0: both, -1: text only */
    } types[] = {
        {"counter", VT_DOC_COUNTER, 0},
        {"gauge", VT_DOC_GAUGE, 0},
        {"histogram", VT_DOC_HISTOGRAM, 0},
        {"summary", VT_DOC_SUMMARY, 0},
        {"untyped", VT_DOC_UNKNOWN, -1},
        {"unknown", VT_DOC_UNKNOWN, 1},
        {"gaugehistogram", VT_DOC_GAUGEHISTOGRAM, 1},
        {"info", VT_DOC_INFO, 1},
        {"stateset", VT_DOC_STATESET, 1},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strlen(types[i].w) == n && memcmp(types[i].w, s, n) == 0) {
            if (types[i].om == 1 && !om) {
                return -1;
            }
            if (types[i].om == -1 && om && !lenient) {
                return -1;
            }
            *out = types[i].t;
            return 0;
        }
    }
    return -1;
}

/* The block that metadata of kind `which` for name[0..n) goes to: the current
 * block when it has the name, no samples and no such metadata yet. */
static fam_t *fam_for_meta(parser_t *ps, const char *name, size_t n, enum meta which) {
    fam_t *f = cur_fam(ps);
    if (f && f->name_len == n && memcmp(f->pub.name, name, n) == 0 && f->count == 0) {
        unsigned seen = which == META_HELP   ? f->pub.help_line
                        : which == META_TYPE ? f->pub.type_line
                                             : f->pub.unit_line;
        if (!seen) {
            return f;
        }
    }
    size_t idx = fam_new(ps, name, n, VT_DOC_UNKNOWN);
    return idx == SIZE_MAX ? NULL : &ps->fams[idx];
}

/* Unescape HELP text: \\ and \n always, \" in OpenMetrics; any other
 * backslash stands for itself except in strict text 0.0.4. */
static int read_help(parser_t *ps, fam_t *f, const char *p, const char *end) {
    size_t n = (size_t)(end - p);
    if (check_utf8(ps, p, n, "HELP text")) {
        return VT_EUTF8;
    }
    char *v = vt__arena_bytes(&ps->arena, n + 1);
    if (!v) {
        return nomem(ps);
    }
    size_t k = 0;
    for (const char *s = p; s < end; s++) {
        if (*s != '\\' || s + 1 == end) {
            if (*s == '\\' && !ps->om && !ps->lenient) {
                return FAIL(s, "HELP text ends in a lone backslash (write \\\\)");
            }
            v[k++] = *s;
            continue;
        }
        char c = s[1];
        if (c == '\\') {
            v[k++] = '\\';
        } else if (c == 'n') {
            v[k++] = '\n';
        } else if (c == '"' && ps->om) {
            v[k++] = '"';
        } else if (ps->om || ps->lenient) {
            v[k++] = '\\';
            v[k++] = c;
        } else {
            char b[8];
            return FAIL(s, "invalid escape sequence '\\' %s in HELP text (only \\\\ and \\n)",
                        show(c, b));
        }
        s++;
    }
    v[k] = '\0';
    vt__arena_shrink_last(&ps->arena, v, n + 1, k + 1);
    f->pub.help = v;
    f->pub.help_len = k;
    f->pub.help_line = ps->line;
    return 0;
}

static int set_type(parser_t *ps, fam_t *f, const char *p, const char *end) {
    vt_doc_type_t t;
    if (p == end) {
        return FAIL(p, "expected a metric type after the metric name");
    }
    if (type_from_word(p, (size_t)(end - p), ps->om, ps->lenient, &t)) {
        return FAIL(p, "unknown metric type \"%.*s\" (%s)", (int)(end - p > 40 ? 40 : end - p), p,
                    ps->om ? "counter, gauge, histogram, gaugehistogram, summary, info, "
                             "stateset or unknown"
                           : "counter, gauge, histogram, summary or untyped");
    }
    f->pub.type = t;
    f->pub.type_line = ps->line;
    f->allowed = allowed_for(ps->om, t);
    return 0;
}

static int parse_om_meta(parser_t *ps, const char *p) {
    const char *end = ps->eol;
    size_t len = (size_t)(end - p);
    if (len == 5 && memcmp(p, "# EOF", 5) == 0) {
        ps->eof = 1;
        return 0;
    }
    enum meta which;
    if (len >= 7 && memcmp(p, "# HELP ", 7) == 0) {
        which = META_HELP;
    } else if (len >= 7 && memcmp(p, "# TYPE ", 7) == 0) {
        which = META_TYPE;
    } else if (len >= 7 && memcmp(p, "# UNIT ", 7) == 0) {
        which = META_UNIT;
    } else {
        return FAIL(p, "a line starting with '#' must be \"# HELP\", \"# TYPE\", \"# UNIT\" "
                       "or \"# EOF\" followed by a space (OpenMetrics has no comments)");
    }
    p += 7;
    const char *ns = p;
    p = scan_metric_name(p, end);
    if (p == ns) {
        return FAIL(p, "expected a metric name");
    }
    if (p >= end || *p != ' ') {
        char b[8];
        if (p < end) {
            return FAIL(p, "expected a space after the metric name, found %s", show(*p, b));
        }
        return FAIL(p, "expected a space and text after the metric name");
    }
    fam_t *f = fam_for_meta(ps, ns, (size_t)(p - ns), which);
    if (!f) {
        return nomem(ps);
    }
    p++;
    if (which == META_HELP) {
        return read_help(ps, f, p, end);
    }
    if (which == META_TYPE) {
        return set_type(ps, f, p, end);
    }
    const char *us = p;
    while (p < end && (vt__name_class[(unsigned char)*p] & VT__C_METRIC)) {
        p++;
    }
    if (p != end) {
        char b[8];
        return FAIL(p, "invalid character %s in unit", show(*p, b));
    }
    f->pub.unit = vt__arena_strndup(&ps->arena, us, (size_t)(end - us));
    if (!f->pub.unit) {
        return nomem(ps);
    }
    f->pub.unit_line = ps->line;
    return 0;
}

static int parse_text_comment(parser_t *ps, const char *p) {
    const char *end = ps->eol;
    const char *kw = skip_ws(p + 1, end);
    const char *ke = token_end(kw, end, 1);
    size_t kn = (size_t)(ke - kw);
    enum meta which;
    if (kn == 4 && memcmp(kw, "HELP", 4) == 0) {
        which = META_HELP;
    } else if (kn == 4 && memcmp(kw, "TYPE", 4) == 0) {
        which = META_TYPE;
    } else {
        if (!ps->lenient && check_utf8(ps, p, (size_t)(end - p), "comment")) {
            return VT_EUTF8;
        }
        return 0; /* a comment */
    }
    p = skip_ws(ke, end);
    const char *ns = p;
    p = scan_metric_name(p, end);
    if (p == ns) {
        return FAIL(p, "expected a metric name after %s", which == META_HELP ? "HELP" : "TYPE");
    }
    if (p < end && *p != ' ' && *p != '\t') {
        char b[8];
        return FAIL(p, "invalid character %s in metric name", show(*p, b));
    }
    fam_t *f = fam_for_meta(ps, ns, (size_t)(p - ns), which);
    if (!f) {
        return nomem(ps);
    }
    p = skip_ws(p, end);
    if (which == META_HELP) {
        return read_help(ps, f, p, end);
    }
    const char *te = token_end(p, end, 1);
    int rc = set_type(ps, f, p, te);
    if (rc) {
        return rc;
    }
    if (skip_ws(te, end) != end) {
        return FAIL(skip_ws(te, end), "unexpected text after the metric type");
    }
    return 0;
}

/* ---- the document ----------------------------------------------------------- */

/* Move the parse results into one arena-owned document. */
static int build_doc(parser_t *ps, vt_format_t format, vt_doc_t **out_doc) {
    vt_doc_t *doc = vt__arena_alloc(&ps->arena, sizeof *doc);
    vt__arena_t *ar = vt__arena_alloc(&ps->arena, sizeof *ar);
    vt_doc_family_t *fams = NULL;
    vt_doc_sample_t *samples = ps->samples;
    if (ps->nfam) {
        fams = vt__arena_alloc(&ps->arena, ps->nfam * sizeof *fams);
    }
    if (!doc || !ar || (ps->nfam && !fams)) {
        return nomem(ps);
    }
    if (samples) {
        vt__arena_adopt(&ps->arena, samples); /* the document keeps the array as it is */
        ps->samples = NULL;
    }
    for (size_t i = 0; i < ps->nfam; i++) {
        fams[i] = ps->fams[i].pub;
        fams[i].samples = ps->fams[i].count ? samples + ps->fams[i].first : NULL;
        fams[i].sample_count = ps->fams[i].count;
    }
    memset(doc, 0, sizeof *doc);
    doc->format = format;
    doc->families = fams;
    doc->family_count = ps->nfam;
    doc->sample_count = ps->nsamp;
    doc->has_eof = ps->eof;
    *ar = ps->arena; /* the arena now owns itself through doc->arena_ */
    doc->arena_ = ar;
    ps->arena.head = NULL;
    *out_doc = doc;
    return 0;
}

static void parser_free(parser_t *ps) {
    free(ps->fams);
    vt__arena_array_free(ps->samples);
    free(ps->lab.v);
    free(ps->xlab.v);
    free(ps->map);
    vt__arena_free(&ps->arena);
}

void vt_parse_opts_init(vt_parse_opts_t *opts) {
    if (opts) {
        opts->format = VT_FORMAT_TEXT;
        opts->mode = VT_PARSE_STRICT;
    }
}

static int parse_lines(parser_t *ps, const char *buf, size_t len) {
    const char *p = buf, *end = buf + len;
    while (p < end) {
        if (ps->line == UINT_MAX) {
            return fail_at(ps, VT_ELIMIT, NULL, "more than %u lines", UINT_MAX);
        }
        ps->line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        ps->ls = p;
        ps->eol = eol;
        int rc;
        if (ps->om) {
            if (ps->eof) {
                return FAIL(p, "text after \"# EOF\"");
            }
            if (eol > p && eol[-1] == '\r') {
                return FAIL(eol - 1, "carriage return at the end of the line (lines end with "
                                     "\\n alone)");
            }
            if (p == eol) {
                return FAIL(p, "empty line (OpenMetrics allows none)");
            }
            rc = *p == '#' ? parse_om_meta(ps, p) : parse_sample(ps, p);
            if (rc) {
                return rc;
            }
            if (!nl && !ps->eof && !ps->lenient) {
                return FAIL(eol, "the last line does not end with a newline");
            }
        } else {
            if (eol > p && eol[-1] == '\r') {
                if (!ps->lenient) {
                    return FAIL(eol - 1, "carriage return at the end of the line (lines end "
                                         "with \\n alone)");
                }
                ps->eol = --eol;
            }
            const char *s = skip_ws(p, eol);
            while (eol > s && (eol[-1] == ' ' || eol[-1] == '\t')) {
                eol--;
            }
            ps->eol = eol;
            if (s < eol) {
                rc = *s == '#' ? parse_text_comment(ps, s) : parse_sample(ps, s);
                if (rc) {
                    return rc;
                }
            }
            if (!nl && !ps->lenient) {
                return FAIL(ps->eol, "the last line does not end with a newline");
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (ps->om && !ps->eof && !ps->lenient) {
        ps->ls = end;
        return fail_at(ps, VT_EPARSE, NULL, "the exposition does not end with \"# EOF\"");
    }
    return 0;
}

/* The first validation error becomes the parse error of a strict parse. */
static int strict_check(parser_t *ps, const vt_doc_t *doc) {
    vt_problems_t probs;
    memset(&probs, 0, sizeof probs);
    int rc = vt_doc_validate(doc, &probs);
    if (rc) {
        vt_problems_free(&probs);
        return fail_at(ps, rc, NULL, "out of memory");
    }
    rc = 0;
    for (size_t i = 0; i < probs.count; i++) {
        if (probs.items[i].severity == VT_SEV_ERROR) {
            ps->line = probs.items[i].line;
            rc = fail_at(ps, VT_EPARSE, NULL, "%s", probs.items[i].message);
            if (ps->err) {
                ps->err->semantic = 1;
            }
            break;
        }
    }
    vt_problems_free(&probs);
    return rc;
}

int vt_parse(const char *buf, size_t len, const vt_parse_opts_t *opts, vt_doc_t **out_doc,
             vt_parse_error_t *out_err) {
    vt_parse_opts_t defaults;
    if (out_err) {
        memset(out_err, 0, sizeof *out_err);
    }
    if (out_doc) {
        *out_doc = NULL;
    }
    if (!opts) {
        vt_parse_opts_init(&defaults);
        opts = &defaults;
    }
    if (!out_doc || (!buf && len) ||
        (opts->format != VT_FORMAT_TEXT && opts->format != VT_FORMAT_OPENMETRICS) ||
        (opts->mode != VT_PARSE_STRICT && opts->mode != VT_PARSE_LENIENT)) {
        if (out_err) {
            out_err->code = VT_EINVAL;
            snprintf(out_err->message, sizeof out_err->message, "invalid argument");
        }
        return VT_EINVAL;
    }
    parser_t ps;
    memset(&ps, 0, sizeof ps);
    ps.om = opts->format == VT_FORMAT_OPENMETRICS;
    ps.lenient = opts->mode == VT_PARSE_LENIENT;
    ps.err = out_err;
    static const char empty[1] = "";
    int rc = parse_lines(&ps, buf ? buf : empty, len);
    vt_doc_t *doc = NULL;
    if (!rc) {
        rc = build_doc(&ps, opts->format, &doc);
    }
    parser_free(&ps);
    if (!rc && !ps.lenient) {
        rc = strict_check(&ps, doc);
        if (rc) {
            vt_doc_free(doc);
            doc = NULL;
        }
    }
    if (!rc) {
        *out_doc = doc;
    }
    return rc;
}
