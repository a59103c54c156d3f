/* encoding.c - reading Accept-Encoding: does the client take gzip?
 *
 * The header is a comma-separated list of codings, each with optional
 * parameters; only "q" matters (RFC 9110 section 12.5.3). An element we cannot
 * read is skipped, never trusted: a malformed header can only turn gzip off.
 * Pure functions on the caller's string: safe from any thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stddef.h>
#include <string.h>

#include "http_internal.h"

static int is_ows(char c) {
    return c == ' ' || c == '\t';
}

static int ieq(const char *a, size_t n, const char *lit) {
    size_t i;
    if (strlen(lit) != n)
        return 0;
    for (i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return 0;
    }
    return 1;
}

/* A qvalue: "0" ["." 0-3 digits] or "1" ["." 0-3 zeros]. Returns -1 when
 * malformed, else the value in thousandths. */
static int parse_q(const char *s, size_t n) {
    int v, scale = 100;
    size_t i;
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    v = (s[0] - '0') * 1000;
    if (n == 1)
        return v;
    if (s[1] != '.' || n > 5)
        return -1;
    for (i = 2; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v += (s[i] - '0') * scale;
        scale /= 10;
    }
    return v > 1000 ? -1 : v;
}

/* Trim optional whitespace from both ends of [*b, *e). */
static void trim(const char **b, const char **e) {
    while (*b < *e && is_ows(**b))
        (*b)++;
    while (*e > *b && is_ows((*e)[-1]))
        (*e)--;
}

/* The q of one list element [b, e) in thousandths (1000 when absent), or -1
 * when a parameter is malformed. *out_name / *out_len receive the coding. */
static int element_q(const char *b, const char *e, const char **out_name, size_t *out_len) {
    const char *semi = memchr(b, ';', (size_t)(e - b));
    const char *ne = semi ? semi : e;
    int q = 1000;
    trim(&b, &ne);
    *out_name = b;
    *out_len = (size_t)(ne - b);
    while (semi) {
        const char *pb = semi + 1, *pe, *eq;
        semi = memchr(pb, ';', (size_t)(e - pb));
        pe = semi ? semi : e;
        trim(&pb, &pe);
        eq = memchr(pb, '=', (size_t)(pe - pb));
        if (!eq)
            return -1;
        if (ieq(pb, (size_t)(eq - pb), "q")) {
            const char *vb = eq + 1, *ve = pe;
            trim(&vb, &ve);
            q = parse_q(vb, (size_t)(ve - vb));
            if (q < 0)
                return -1;
        }
    }
    return q;
}

int vt_http_accepts_gzip(const char *accept_encoding) {
    int q_gzip = -1, q_star = -1;
    const char *p = accept_encoding, *end;
    if (!p)
        return 0;
    end = p + strlen(p);
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *ee = comma ? comma : end;
        const char *name;
        size_t len;
        int q = element_q(p, ee, &name, &len);
        if (q >= 0 && len > 0) {
            if (ieq(name, len, "gzip") || ieq(name, len, "x-gzip"))
                q_gzip = q > q_gzip ? q : q_gzip;
            else if (len == 1 && name[0] == '*')
                q_star = q > q_star ? q : q_star;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    if (q_gzip >= 0)
        return q_gzip > 0;
    return q_star > 0;
}
