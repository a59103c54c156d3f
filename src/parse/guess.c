/* guess.c - which exposition format a buffer or an HTTP Content-Type holds.
 *
 * Pure functions of their arguments; they read only the bytes given.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "parse/internal.h"

static int lower(int c) {
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ieq(const char *a, size_t an, const char *b) {
    size_t bn = strlen(b);
    if (an != bn) {
        return 0;
    }
    for (size_t i = 0; i < an; i++) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

static void trim(const char **s, const char **e) {
    while (*s < *e && (**s == ' ' || **s == '\t')) {
        (*s)++;
    }
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) {
        (*e)--;
    }
}

int vt_parse_format_from_content_type(const char *ct, vt_format_t *out_format) {
    if (!ct || !*ct || !out_format) {
        return VT_EINVAL;
    }
    const char *end = ct + strlen(ct);
    const char *semi = memchr(ct, ';', (size_t)(end - ct));
    const char *ts = ct, *te = semi ? semi : end;
    trim(&ts, &te);
    int om;
    if (ieq(ts, (size_t)(te - ts), "application/openmetrics-text")) {
        om = 1;
    } else if (ieq(ts, (size_t)(te - ts), "text/plain")) {
        om = 0;
    } else {
        return VT_EUNSUPPORTED;
    }
    const char *p = semi;
    while (p && p < end) {
        const char *ps = p + 1;
        const char *next = memchr(ps, ';', (size_t)(end - ps));
        const char *pe = next ? next : end;
        const char *eq = memchr(ps, '=', (size_t)(pe - ps));
        if (eq) {
            const char *ns = ps, *ne = eq, *vs = eq + 1, *ve = pe;
            trim(&ns, &ne);
            trim(&vs, &ve);
            if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
                vs++;
                ve--;
            }
            if (ieq(ns, (size_t)(ne - ns), "version")) {
                size_t vn = (size_t)(ve - vs);
                int ok = om ? ieq(vs, vn, "1.0.0") || ieq(vs, vn, "0.0.1") : ieq(vs, vn, "0.0.4");
                if (!ok) {
                    return VT_EUNSUPPORTED;
                }
            } else if (ieq(ns, (size_t)(ne - ns), "charset")) {
                size_t vn = (size_t)(ve - vs);
                if (!ieq(vs, vn, "utf-8") && !ieq(vs, vn, "utf8")) {
                    return VT_EUNSUPPORTED;
                }
            }
        }
        p = next;
    }
    *out_format = om ? VT_FORMAT_OPENMETRICS : VT_FORMAT_TEXT;
    return 0;
}

static int starts(const char *s, const char *e, const char *w) {
    size_t n = strlen(w);
    return (size_t)(e - s) >= n && memcmp(s, w, n) == 0;
}

/* -1 text, 1 OpenMetrics, 0 undecided, from one TYPE line's rest "name type". */
static int judge_type(const char *s, const char *e) {
    const char *ne = s;
    while (ne < e && *ne != ' ' && *ne != '\t') {
        ne++;
    }
    const char *ts = ne, *te = e;
    trim(&ts, &te);
    size_t tn = (size_t)(te - ts);
    if (ieq(ts, tn, "info") || ieq(ts, tn, "stateset") || ieq(ts, tn, "gaugehistogram") ||
        ieq(ts, tn, "unknown")) {
        return 1;
    }
    if (ieq(ts, tn, "untyped")) {
        return -1;
    }
    if (ieq(ts, tn, "counter") && ne - s > 6 && memcmp(ne - 6, "_total", 6) == 0) {
        return -1;
    }
    return 0;
}

vt_format_t vt_parse_guess_format(const char *buf, size_t len, const char *content_type) {
    vt_format_t f;
    if (content_type && vt_parse_format_from_content_type(content_type, &f) == 0) {
        return f;
    }
    if (!buf) {
        return VT_FORMAT_TEXT;
    }
    const char *p = buf, *end = buf + len;
    const char *last = NULL, *last_end = NULL; /* last non-empty line */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *s = p, *te = e;
        if (te > s && te[-1] == '\r') {
            te--;
        }
        trim(&s, &te);
        if (s == te) {
            if (nl && nl + 1 < end) {
                return VT_FORMAT_TEXT; /* a blank line inside: OpenMetrics has none */
            }
        } else if (*s == '#') {
            int v = 0;
            if (starts(s, te, "# UNIT ")) {
                v = 1;
            } else if (starts(s, te, "# TYPE ")) {
                v = judge_type(s + 7, te);
            } else if (!starts(s, te, "# HELP ") && !(te - s == 5 && memcmp(s, "# EOF", 5) == 0)) {
                v = -1; /* a comment */
            }
            if (v) {
                return v > 0 ? VT_FORMAT_OPENMETRICS : VT_FORMAT_TEXT;
            }
            last = s;
            last_end = te;
        } else {
            /* An exemplar follows the value: "} 1 # {" or "x 1 # {". */
            for (const char *q = s; q + 4 <= te; q++) {
                q = memchr(q, ' ', (size_t)(te - q));
                if (!q || q + 4 > te) {
                    break;
                }
                if (memcmp(q, " # {", 4) == 0) {
                    return VT_FORMAT_OPENMETRICS;
                }
            }
            last = s;
            last_end = te;
        }
        p = nl ? nl + 1 : end;
    }
    if (last && last_end - last == 5 && memcmp(last, "# EOF", 5) == 0) {
        return VT_FORMAT_OPENMETRICS;
    }
    return VT_FORMAT_TEXT;
}
