/* fuzz_accept.c - libFuzzer target: content negotiation on arbitrary headers.
 *
 * The input (up to its first NUL) is used as an Accept header for
 * vt_format_from_accept() and as an Accept-Encoding header for
 * vt_http_accepts_gzip(), and both go to vt_http_render() on a small
 * registry. Properties beyond "no crash, no leak, no undefined behaviour":
 *   - the format is text or OpenMetrics, and the gzip answer 0 or 1;
 *   - media types, codings and parameter names are case-insensitive, so the
 *     all-lower and all-upper spellings of a header give the same answers;
 *   - a range listed first with q=1 wins whatever follows (ties go to the
 *     first), and a range with q=0 appended changes nothing;
 *   - gzip is never accepted from a header that names neither gzip nor "*";
 *   - the rendered body has the negotiated format and Content-Type, is
 *     gzipped exactly when gzip was accepted, and inflates to the plain body.
 *
 * vt-fuzz: sources=core,http libs=-lmicrohttpd,-lz,-lgnutls,-lm,-lpthread
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "vitals.h"
#include "vitals/http.h"

#include "fuzz_must.h"

static vt_registry_t *reg;

static void setup(void) {
    vt_counter_t *c;
    vt_counter_series_t *s;
    MUST(vt_registry_create(&reg) == 0);
    MUST(vt_counter_create(reg, "fz_requests", "Requests.", VT_LABELS("code"), &c) == 0);
    MUST(vt_counter_with(c, VT_VALUES("200"), &s) == 0);
    vt_counter_add(s, 42);
}

static char *cat(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    MUST(s != NULL);
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

static char *recase(const char *a, int upper) {
    char *s = cat(a, "");
    for (char *p = s; *p; p++)
        *p = (char)(upper ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
    return s;
}

static int names(const char *h, const char *what) {
    char *low = recase(h, 0);
    int found = strstr(low, what) != NULL;
    free(low);
    return found;
}

/* Inflate a gzip body; the caller frees the result (NUL-terminated). */
static char *gunzip(const char *data, size_t len, size_t *out_len) {
    z_stream z;
    memset(&z, 0, sizeof z);
    MUST(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK);
    size_t cap = 4096, n = 0;
    char *out = malloc(cap);
    MUST(out != NULL);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    int rc;
    do {
        if (cap - n < 1024) {
            cap *= 2;
            out = realloc(out, cap);
            MUST(out != NULL);
        }
        z.next_out = (Bytef *)out + n;
        z.avail_out = (uInt)(cap - n - 1);
        rc = inflate(&z, Z_NO_FLUSH);
        n = cap - 1 - z.avail_out;
    } while (rc == Z_OK);
    MUST(rc == Z_STREAM_END);
    MUST(z.avail_in == 0);
    inflateEnd(&z);
    out[n] = '\0';
    *out_len = n;
    return out;
}

static void check_render(const char *h) {
    vt_format_t want = vt_format_from_accept(h);
    int gz = vt_http_accepts_gzip(h);
    vt_http_body_t b, plain;
    MUST(vt_http_render(reg, h, h, NULL, &b) == 0);
    MUST(b.format == want);
    MUST(strcmp(b.content_type, vt_format_content_type(want)) == 0);
    MUST((b.content_encoding != NULL) == gz);
    MUST(vt_http_render(reg, h, NULL, NULL, &plain) == 0);
    MUST(plain.content_encoding == NULL && plain.format == want);
    MUST(strstr(plain.data, "fz_requests_total{code=\"200\"} 42\n") != NULL);
    MUST((want == VT_FORMAT_OPENMETRICS) == (strstr(plain.data, "# EOF\n") != NULL));
    if (gz) {
        MUST(strcmp(b.content_encoding, "gzip") == 0);
        size_t n;
        char *text = gunzip(b.data, b.len, &n);
        MUST(n == plain.len && memcmp(text, plain.data, n) == 0);
        free(text);
    } else {
        MUST(b.len == plain.len && memcmp(b.data, plain.data, b.len) == 0);
    }
    vt_http_body_free(&b);
    vt_http_body_free(&plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!reg)
        setup();
    char *h = malloc(size + 1);
    MUST(h != NULL);
    memcpy(h, data, size);
    h[size] = '\0';

    vt_format_t f = vt_format_from_accept(h);
    MUST(f == VT_FORMAT_TEXT || f == VT_FORMAT_OPENMETRICS);
    int gz = vt_http_accepts_gzip(h);
    MUST(gz == 0 || gz == 1);
    if (gz)
        MUST(names(h, "gzip") || strchr(h, '*') != NULL);

    char *lo = recase(h, 0), *up = recase(h, 1);
    MUST(vt_format_from_accept(lo) == f && vt_format_from_accept(up) == f);
    MUST(vt_http_accepts_gzip(lo) == gz && vt_http_accepts_gzip(up) == gz);
    free(lo);
    free(up);

    char *s = cat("application/openmetrics-text;version=1.0.0;q=1,", h);
    MUST(vt_format_from_accept(s) == VT_FORMAT_OPENMETRICS);
    free(s);
    s = cat("text/plain;version=0.0.4,", h);
    MUST(vt_format_from_accept(s) == VT_FORMAT_TEXT);
    free(s);
    s = cat(h, ",application/openmetrics-text;q=0");
    MUST(vt_format_from_accept(s) == f);
    free(s);

    check_render(h);
    free(h);
    return 0;
}
