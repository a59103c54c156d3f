/* accept.c - choosing the exposition format from an HTTP Accept header.
 *
 * The header is a list of media ranges with optional parameters; q weights a
 * range (default 1, 0 means "not acceptable"). We serve OpenMetrics 1.0
 * (application/openmetrics-text with version 1.0.0 or no version) and text
 * 0.0.4 (text/plain with version 0.0.4 or none, text/any, any/any). The range with
 * the highest q wins; on a tie, the earlier one. No range we serve: text.
 * Malformed ranges are skipped; nothing here allocates.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>
#include <strings.h>

#include "internal.h"

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static int eq_ci(const char *a, size_t n, const char *lit) {
    return strlen(lit) == n && strncasecmp(a, lit, n) == 0;
}

/* q-value: "1", "1.0", "0.5", up to three decimals; -1 when malformed. */
static int parse_q(const char *p, size_t n) {
    if (n == 0 || n > 5 || (p[0] != '0' && p[0] != '1'))
        return -1;
    int q = (p[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (p[1] != '.')
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        q += (p[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* Trim spaces and optional quotes off a parameter value. */
static void trim_value(const char **v, size_t *n) {
    while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
        (*n)--;
    if (*n >= 2 && (*v)[0] == '"' && (*v)[*n - 1] == '"') {
        (*v)++;
        *n -= 2;
    }
}

vt_format_t vt_format_from_accept(const char *accept) {
    if (!accept)
        return VT_FORMAT_TEXT;
    const char *p = accept, *end = accept + strlen(accept);
    int best_q = 0;
    vt_format_t best = VT_FORMAT_TEXT;
    while (p < end) {
        const char *elem_end = memchr(p, ',', (size_t)(end - p));
        if (!elem_end)
            elem_end = end;
        const char *q = skip_ws(p, elem_end);
        const char *semi = memchr(q, ';', (size_t)(elem_end - q));
        const char *type_end = semi ? semi : elem_end;
        size_t tl = (size_t)(type_end - q);
        while (tl && (q[tl - 1] == ' ' || q[tl - 1] == '\t'))
            tl--;
        int kind = -1; /* 0 text, 1 OpenMetrics */
        if (eq_ci(q, tl, "application/openmetrics-text"))
            kind = 1;
        else if (eq_ci(q, tl, "text/plain") || eq_ci(q, tl, "text/*") || eq_ci(q, tl, "*/*"))
            kind = 0;
        int weight = 1000, ok = 1;
        for (const char *a = semi; a && a < elem_end && ok;) {
            a = skip_ws(a + 1, elem_end);
            const char *next = memchr(a, ';', (size_t)(elem_end - a));
            const char *pend = next ? next : elem_end;
            const char *eq = memchr(a, '=', (size_t)(pend - a));
            if (eq) {
                size_t kl = (size_t)(eq - a);
                while (kl && (a[kl - 1] == ' ' || a[kl - 1] == '\t'))
                    kl--;
                const char *v = skip_ws(eq + 1, pend);
                size_t vl = (size_t)(pend - v);
                trim_value(&v, &vl);
                if (eq_ci(a, kl, "q")) {
                    weight = parse_q(v, vl);
                    ok = weight >= 0;
                } else if (eq_ci(a, kl, "version") && kind == 1)
                    ok = vl == 5 && memcmp(v, "1.0.0", 5) == 0;
                else if (eq_ci(a, kl, "version") && kind == 0 && eq_ci(q, tl, "text/plain"))
                    ok = vl == 5 && memcmp(v, "0.0.4", 5) == 0;
            }
            a = next;
        }
        if (kind >= 0 && ok && weight > best_q) {
            best_q = weight;
            best = kind == 1 ? VT_FORMAT_OPENMETRICS : VT_FORMAT_TEXT;
        }
        p = elem_end + 1;
    }
    return best;
}
