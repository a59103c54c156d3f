/* number.c - numbers of the exposition formats, read without the C locale's help.
 *
 * Values are read exactly: the common case (at most 19 significant digits
 * that fit in 53 bits, decimal exponent within +-22) is one exact IEEE
 * multiplication or division, which is correctly rounded; anything else goes
 * to strtod() with the digits rewritten as "DDDDe-N", a form that contains no
 * decimal point and so reads the same under every LC_NUMERIC.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parse/internal.h"

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define EXP_CAP 100000000L

/* Case-insensitive compare of s[0..n) with a lowercase word. */
static int word_is(const char *s, size_t n, const char *w) {
    size_t i = 0;
    for (; i < n && w[i]; i++) {
        if ((s[i] | 0x20) != w[i]) {
            return 0;
        }
    }
    return i == n && w[i] == '\0';
}

/* Slow path: strtod on the significant digits and an adjusted exponent. */
static int slow(const char *ip, size_t in, const char *fp, size_t fn, long exp10, double *out) {
    char stackbuf[128];
    size_t cap = in + fn + 24;
    char *buf = cap <= sizeof stackbuf ? stackbuf : malloc(cap);
    if (!buf) {
        return -2;
    }
    size_t k = 0;
    for (size_t i = 0; i < in; i++) {
        if (k || ip[i] != '0') {
            buf[k++] = ip[i];
        }
    }
    for (size_t i = 0; i < fn; i++) {
        if (k || fp[i] != '0') {
            buf[k++] = fp[i];
        }
    }
    double v = 0.0;
    if (k) {
        long e = exp10 - (long)fn;
        if (e > EXP_CAP) {
            e = EXP_CAP;
        } else if (e < -EXP_CAP) {
            e = -EXP_CAP;
        }
        buf[k++] = 'e';
        if (e < 0) {
            buf[k++] = '-';
            e = -e;
        }
        char digits[24];
        size_t nd = 0;
        do {
            digits[nd++] = (char)('0' + (e % 10));
            e /= 10;
        } while (e);
        while (nd) {
            buf[k++] = digits[--nd];
        }
        buf[k] = '\0';
        int saved = errno;
        v = strtod(buf, NULL);
        errno = saved;
    }
    if (buf != stackbuf) {
        free(buf);
    }
    *out = v;
    return 0;
}

static int parse_num(const char *s, size_t n, int special, double *out) {
    size_t i = 0;
    int neg = 0, has_sign = 0;
    if (n == 0) {
        return -1;
    }
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        has_sign = 1;
        i = 1;
    }
    if (i < n && ((s[i] | 0x20) == 'i' || (s[i] | 0x20) == 'n')) {
        if (!special) {
            return -1;
        }
        if (word_is(s + i, n - i, "inf") || word_is(s + i, n - i, "infinity")) {
            *out = neg ? -HUGE_VAL : HUGE_VAL;
            return 0;
        }
        if (!has_sign && word_is(s + i, n - i, "nan")) {
            *out = NAN;
            return 0;
        }
        return -1;
    }

    uint64_t mant = 0;
    int nd = 0, inexact = 0;
    long exp10 = 0;
    const char *ip = s + i;
    while (i < n && (unsigned)(s[i] - '0') < 10u) {
        unsigned d = (unsigned)(s[i] - '0');
        if (mant == 0 && d == 0) {
            /* a leading zero: not significant */
        } else if (nd < 19) {
            mant = mant * 10u + d;
            nd++;
        } else {
            exp10++;
            inexact |= d != 0;
        }
        i++;
    }
    size_t in = (size_t)(s + i - ip);
    const char *fp = s + i;
    size_t fn = 0;
    if (i < n && s[i] == '.') {
        i++;
        fp = s + i;
        while (i < n && (unsigned)(s[i] - '0') < 10u) {
            unsigned d = (unsigned)(s[i] - '0');
            if (mant == 0 && d == 0) {
                exp10--;
            } else if (nd < 19) {
                mant = mant * 10u + d;
                nd++;
                exp10--;
            } else {
                inexact |= d != 0;
            }
            i++;
        }
        fn = (size_t)(s + i - fp);
    }
    if (in == 0 && fn == 0) {
        return -1;
    }
    long e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        size_t start = i;
        while (i < n && (unsigned)(s[i] - '0') < 10u) {
            if (e < EXP_CAP) {
                e = e * 10 + (s[i] - '0');
            }
            i++;
        }
        if (i == start) {
            return -1;
        }
        if (eneg) {
            e = -e;
        }
    }
    if (i != n) {
        return -1;
    }

    double v;
    long total = exp10 + e;
    if (mant == 0) {
        v = 0.0;
    } else if (!inexact && mant <= ((uint64_t)1 << 53) && total >= -22 && total <= 22) {
        v = (double)mant;
        v = total >= 0 ? v * pow10_tab[total] : v / pow10_tab[-total];
    } else {
        int rc = slow(ip, in, fp, fn, e, &v);
        if (rc) {
            return rc;
        }
    }
    if (isinf(v)) {
        return -1; /* a finite literal beyond the range of a double */
    }
    *out = neg ? -v : v;
    return 0;
}

int vt__parse_double(const char *s, size_t n, double *out) {
    return parse_num(s, n, 1, out);
}

int vt__parse_real(const char *s, size_t n, double *out) {
    return parse_num(s, n, 0, out);
}

int vt__parse_int64(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n) {
        return -1;
    }
    uint64_t v = 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9u) {
            return -1;
        }
        if (v > (limit - d) / 10u) {
            return -1;
        }
        v = v * 10u + d;
    }
    if (neg) {
        *out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
    } else {
        *out = (int64_t)v;
    }
    return 0;
}
