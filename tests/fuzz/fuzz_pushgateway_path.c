/* fuzz_pushgateway_path.c - libFuzzer target: Pushgateway group URLs from
 * arbitrary job names, label names and label values.
 *
 * The input splits at NUL bytes into a job, then up to three label name /
 * value pairs. Properties:
 *   - the call succeeds exactly when the job is non-empty UTF-8, every name
 *     is a label name other than "job", no name repeats and every value is
 *     UTF-8; otherwise it fails with one of the codes those rules give;
 *   - vt_pushgateway_create() agrees with the path builder, and
 *     vt_pushgateway_url() is the same URL;
 *   - the URL is the base, "/metrics", then one "/<name>/<value>" or
 *     "/<name>@base64/<value>" per label (job first): no "/" ever appears
 *     inside a value, and each value decodes (percent-decoding, or base64url
 *     with "=" for the empty value) to the original bytes;
 *   - a value holding "/" is always sent base64url-encoded.
 *
 * vt-fuzz: sources=core,push/statsd.c,push/statsd_line.c,push/statsd_mirror.c
 * vt-fuzz: sources=push/rand.c,push/segment.c,push/pushgateway.c,push/pushgateway_path.c
 * vt-fuzz: sources=push/curl_request.c
 * vt-fuzz: libs=-lcurl,-lm,-lpthread
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push/push_internal.h"
#include "vitals.h"
#include "vitals/pushgateway.h"

#include "fuzz_must.h"

#define BASE "http://127.0.0.1:9091/pg"
#define MAXP 3

/* Well-formed UTF-8, by decoding (independent of the library's check). */
static int utf8_ok(const unsigned char *s) {
    while (*s) {
        unsigned c = *s, len, cp, min;
        if (c < 0x80) {
            s++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            len = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            len = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            len = 4, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        s += len;
    }
    return 1;
}

static int label_name_ok(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int b64val(char c) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = c ? strchr(tab, c) : NULL;
    return p ? (int)(p - tab) : -1;
}

/* Decode one value segment s[0..n) into out; returns its length. */
static size_t decode(const char *s, size_t n, int base64, char *out) {
    size_t o = 0;
    if (!base64) {
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '%') {
                MUST(i + 2 < n);
                int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
                MUST(hi >= 0 && lo >= 0);
                out[o++] = (char)(hi << 4 | lo);
                i += 2;
            } else {
                MUST(unreserved(s[i]));
                out[o++] = s[i];
            }
        }
        return o;
    }
    if (n == 1 && s[0] == '=')
        return 0; /* the empty value */
    MUST(n % 4 == 0 && n > 0);
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        size_t pad = 0;
        for (size_t k = 0; k < 4; k++) {
            if (s[i + k] == '=') {
                MUST(i + 4 == n && k >= 2);
                v[k] = 0;
                pad++;
            } else {
                MUST(pad == 0);
                v[k] = b64val(s[i + k]);
                MUST(v[k] >= 0);
            }
        }
        unsigned w =
            (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        out[o++] = (char)(w >> 16);
        if (pad < 2)
            out[o++] = (char)(w >> 8 & 0xFF);
        if (pad < 1)
            out[o++] = (char)(w & 0xFF);
    }
    return o;
}

/* Check one "/<name>[@base64]/<value>" at *pos of url; advance *pos. */
static void check_pair(const char *url, size_t *pos, const char *name, const char *value) {
    const char *p = url + *pos;
    size_t nl = strlen(name);
    MUST(p[0] == '/');
    MUST(strncmp(p + 1, name, nl) == 0);
    p += 1 + nl;
    int b64 = 0;
    if (strncmp(p, "@base64/", 8) == 0) {
        b64 = 1;
        p += 7;
    }
    MUST(p[0] == '/');
    p++;
    const char *end = strchr(p, '/');
    size_t sn = end ? (size_t)(end - p) : strlen(p);
    if (strchr(value, '/') || value[0] == '\0')
        MUST(b64);
    char *dec = malloc(sn + 1);
    MUST(dec != NULL);
    size_t dn = decode(p, sn, b64, dec);
    MUST(dn == strlen(value) && memcmp(dec, value, dn) == 0);
    free(dec);
    *pos = (size_t)(p + sn - url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *copy = malloc(size + 1);
    MUST(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = '\0';

    /* Pieces: job, then name, value pairs (an odd last name is dropped). */
    const char *piece[1 + 2 * MAXP];
    size_t np = 0;
    for (size_t at = 0; at <= size && np < 1 + 2 * MAXP;) {
        piece[np++] = copy + at;
        at += strlen(copy + at) + 1;
    }
    const char *job = piece[0];
    size_t npairs = (np - 1) / 2;
    const char *grouping[2 * MAXP + 1];
    for (size_t i = 0; i < 2 * npairs; i++)
        grouping[i] = piece[1 + i];
    grouping[2 * npairs] = NULL;

    /* Which errors the rules allow; success only when there are none. */
    int e_inval = job[0] == '\0', e_utf8 = !utf8_ok((const unsigned char *)job);
    int e_name = 0, e_dup = 0;
    for (size_t i = 0; i < npairs; i++) {
        const char *n = grouping[2 * i], *v = grouping[2 * i + 1];
        if (!label_name_ok(n) || strcmp(n, "job") == 0)
            e_name = 1;
        if (!utf8_ok((const unsigned char *)v))
            e_utf8 = 1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(grouping[2 * k], n) == 0)
                e_dup = 1;
    }

    char *url = NULL;
    int rc = vt__pushgateway_url(BASE, job, grouping, &url);
    vt_pushgateway_opts_t o;
    vt_pushgateway_opts_init(&o);
    o.url = BASE "/";
    o.job = job;
    o.grouping = grouping;
    vt_pushgateway_t *pg = NULL;
    int rc2 = vt_pushgateway_create(&o, &pg);
    MUST(rc2 == rc);

    if (!e_inval && !e_utf8 && !e_name && !e_dup) {
        MUST(rc == 0);
        MUST(strcmp(vt_pushgateway_url(pg), url) == 0);
        MUST(strncmp(url, BASE "/metrics", strlen(BASE "/metrics")) == 0);
        size_t pos = strlen(BASE "/metrics");
        check_pair(url, &pos, "job", job);
        for (size_t i = 0; i < npairs; i++)
            check_pair(url, &pos, grouping[2 * i], grouping[2 * i + 1]);
        MUST(url[pos] == '\0');
        free(url);
    } else {
        MUST((rc == VT_EINVAL && e_inval) || (rc == VT_EUTF8 && e_utf8) ||
             (rc == VT_ELABELNAME && e_name) || (rc == VT_EDUPLABEL && e_dup));
        MUST(pg == NULL);
    }
    vt_pushgateway_destroy(pg);
    free(copy);
    return 0;
}
