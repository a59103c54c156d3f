/* accept.c - whether an HTTP Accept header prefers delimited protobuf.
 *
 * The header is a comma-separated list of media ranges, each with optional
 * ";name=value" parameters; q weights a range (default 1, 0: not acceptable).
 * Every range is classed as the protobuf we write, a text range the core
 * serves (the same rules as vt_format_from_accept), or neither; the first
 * range with the highest q wins. Malformed ranges and parameters are skipped.
 * Nothing here allocates or keeps state.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>
#include <strings.h>

#include "proto_internal.h"

enum kind { K_NONE, K_TEXT, K_OPENMETRICS, K_PROTOBUF };

typedef struct span {
    const char *p;
    size_t n;
} span_t;

static int is_ws(char c) {
    return c == ' ' || c == '\t';
}

static span_t trim(const char *p, const char *end) {
    while (p < end && is_ws(*p))
        p++;
    while (end > p && is_ws(end[-1]))
        end--;
    return (span_t){p, (size_t)(end - p)};
}

static int same_ci(span_t s, const char *lit) {
    return strlen(lit) == s.n && strncasecmp(s.p, lit, s.n) == 0;
}

static int same(span_t s, const char *lit) {
    return strlen(lit) == s.n && memcmp(s.p, lit, s.n) == 0;
}

/* q-value in thousandths: "0", "1", "0.5", "1.000"; -1 when malformed. */
static int q_value(span_t s) {
    if (s.n == 0 || s.n > 5 || (s.p[0] != '0' && s.p[0] != '1'))
        return -1;
    int q = (s.p[0] - '0') * 1000;
    if (s.n == 1)
        return q;
    if (s.p[1] != '.')
        return -1;
    int scale = 100;
    for (size_t i = 2; i < s.n; i++, scale /= 10) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        q += (s.p[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* The class of one media range (without its parameters). */
static enum kind range_kind(span_t type) {
    if (same_ci(type, "application/vnd.google.protobuf"))
        return K_PROTOBUF;
    if (same_ci(type, "application/openmetrics-text"))
        return K_OPENMETRICS;
    if (same_ci(type, "text/plain") || same_ci(type, "text/*") || same_ci(type, "*/*"))
        return K_TEXT;
    return K_NONE;
}

/* Read the parameters of one range (params points at the first ';' or end)
 * into *out_q; returns the range's kind after its parameters are checked:
 * K_NONE when a parameter rules the range out or is malformed. */
static enum kind read_params(enum kind k, span_t type, const char *params, const char *end,
                             int *out_q) {
    int q = 1000, proto_ok = 0, delimited = 0;
    for (const char *a = params; a < end;) {
        const char *next = memchr(a + 1, ';', (size_t)(end - a - 1));
        const char *pend = next ? next : end;
        const char *eq = memchr(a + 1, '=', (size_t)(pend - a - 1));
        if (eq) {
            span_t name = trim(a + 1, eq), value = trim(eq + 1, pend);
            if (value.n >= 2 && value.p[0] == '"' && value.p[value.n - 1] == '"')
                value = (span_t){value.p + 1, value.n - 2};
            if (same_ci(name, "q")) {
                q = q_value(value);
                if (q < 0)
                    return K_NONE;
            } else if (k == K_PROTOBUF && same_ci(name, "proto")) {
                proto_ok = same(value, "io.prometheus.client.MetricFamily");
            } else if (k == K_PROTOBUF && same_ci(name, "encoding")) {
                delimited = same(value, "delimited");
            } else if (k == K_OPENMETRICS && same_ci(name, "version")) {
                if (!same(value, "1.0.0"))
                    return K_NONE;
            } else if (k == K_TEXT && same_ci(type, "text/plain") && same_ci(name, "version")) {
                if (!same(value, "0.0.4"))
                    return K_NONE;
            }
        }
        a = pend;
    }
    if (k == K_PROTOBUF && !(proto_ok && delimited))
        return K_NONE;
    *out_q = q;
    return k;
}

int vt_proto_preferred(const char *accept) {
    if (!accept)
        return 0;
    const char *p = accept, *end = accept + strlen(accept);
    int best_q = 0;
    enum kind best = K_NONE;
    while (p < end) {
        const char *elem_end = memchr(p, ',', (size_t)(end - p));
        if (!elem_end)
            elem_end = end;
        const char *semi = memchr(p, ';', (size_t)(elem_end - p));
        const char *type_end = semi ? semi : elem_end;
        span_t type = trim(p, type_end);
        enum kind k = range_kind(type);
        int q = 0;
        if (k != K_NONE)
            k = read_params(k, type, type_end, elem_end, &q);
        if (k != K_NONE && q > best_q) {
            best_q = q;
            best = k;
        }
        p = elem_end + 1;
    }
    return best == K_PROTOBUF;
}
