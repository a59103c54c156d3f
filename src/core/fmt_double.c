/* fmt_double.c - numbers as Prometheus prints them: shortest round-trip doubles and integers.
 *
 * vt_format_double() writes exactly what Go's strconv.FormatFloat(v, 'g', -1, 64)
 * writes: the fewest significant digits that strtod() reads back as the same
 * double and, when several digit strings of that length do, the one closest to
 * v; exponent form ("1.5e-07", "1e+06") when the decimal exponent is below -4 or
 * at least 6, else plain form ("100000", "0.0001"); "NaN", "+Inf", "-Inf", "-0".
 *
 * Why the cheap paths are exact. A double's round-trip interval (the reals that
 * strtod rounds to it) is at most one binary ulp wide, under 2.3e-16 of the
 * value for normal doubles, while decimals of 15 significant digits lie at
 * least 1e-15 of the value apart. So at most one decimal of 15 or fewer digits
 * reads back as a given normal double, and when one exists it is the shortest
 * answer. Two paths find it without printf:
 *   - integers below 2^53 are their own digits;
 *   - otherwise, when n / 10^k == v in double arithmetic for an integer n below
 *     10^15 and k <= 22, both operands are exact, so the division is the
 *     correctly rounded value of the decimal n * 10^-k, which is what strtod
 *     would return: that decimal round-trips and is the unique short answer.
 * Everything else asks printf once for the correctly rounded 17 digits, which
 * always read back. The closest 15- and 16-digit decimals are that text rounded
 * (exact unless the dropped digits are a tie, see shortest_normal), and
 * whether they read back is mostly decided by their distance to the text
 * against half an ulp; strtod settles the close calls. The 16-digit decimal
 * closest to v can miss while its upper neighbour fits only when v is a power
 * of two (its interval reaches half as far below as above): those, and
 * subnormals, whose interval is relatively wide, try digit counts with printf
 * and strtod one by one.
 *
 * Locale: printf follows LC_NUMERIC and may write ',' as the decimal point.
 * Digits are read from its output by skipping whatever separates them, strtod
 * is only fed "DIGITSe-N" texts that no locale reads differently, and the text
 * this file writes always uses '.'. errno is preserved (strtod sets ERANGE for
 * subnormals).
 *
 * Thread-safety: pure functions writing only the caller's buffer.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fmt_double.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A positive decimal 0.d[0]d[1]...d[nd-1] * 10^dp. d holds ASCII digits,
 * d[0] != '0' and, once trimmed, d[nd-1] != '0'. */
typedef struct decimal {
    char d[24];
    int nd;
    int dp;
} decimal;

static const char pairs[] = "00010203040506070809"
                            "10111213141516171819"
                            "20212223242526272829"
                            "30313233343536373839"
                            "40414243444546474849"
                            "50515253545556575859"
                            "60616263646566676869"
                            "70717273747576777879"
                            "80818283848586878889"
                            "90919293949596979899";

/* 10^0 .. 10^22: every one of them is exactly representable as a double. */
static const double powers10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define TWO_POW_53 9007199254740992.0

size_t vt__format_u64(uint64_t v, char *buf) {
    char tmp[20];
    char *p = tmp + sizeof tmp;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, &pairs[2 * r], 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, &pairs[2 * v], 2);
    } else {
        *--p = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(buf, p, n);
    buf[n] = '\0';
    return n;
}

static void trim(decimal *dec) {
    while (dec->nd > 1 && dec->d[dec->nd - 1] == '0') {
        dec->nd--;
    }
}

/* The digits of integer n scaled by 10^-k. */
static void from_u64(uint64_t n, int k, decimal *dec) {
    char tmp[VT__U64_BUFSZ];
    size_t len = vt__format_u64(n, tmp);
    memcpy(dec->d, tmp, len);
    dec->nd = (int)len;
    dec->dp = (int)len - k;
    trim(dec);
}

/* Finds n < 10^15 and k with n / 10^k == v exactly (see the file comment). The
 * cheap nearness test only skips divisions that could not succeed: when n / 10^k
 * rounds to v, v * 10^k lies within a few ulps of n. */
static int try_scaled(double v, decimal *dec) {
    if (v < 1e-10 || v >= 1e15) {
        return 0;
    }
    for (int k = 1; k <= 22; k++) {
        double s = v * powers10[k];
        if (s >= 1e15) {
            return 0;
        }
        uint64_t n = (uint64_t)(s + 0.5);
        double off = s - (double)n;
        if ((off < 0 ? -off : off) <= s * 0x1p-50 && (double)n / powers10[k] == v) {
            from_u64(n, k, dec);
            return 1;
        }
    }
    return 0;
}

/* Reads printf's "%e" output, whatever its decimal separator; keeps zeros. */
static int parse_e(const char *s, decimal *dec) {
    int nd = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s >= '0' && *s <= '9' && nd < (int)sizeof dec->d) {
            dec->d[nd++] = *s;
        }
    }
    if (*s != 'e' || nd == 0) {
        return 0;
    }
    s++;
    int neg = *s == '-';
    if (*s == '-' || *s == '+') {
        s++;
    }
    int exp = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        exp = exp * 10 + (*s - '0');
    }
    dec->nd = nd;
    dec->dp = (neg ? -exp : exp) + 1;
    return 1;
}

/* printf's v with prec + 1 significant digits; 0 if the text is not understood. */
static int print_e(double v, int prec, decimal *dec) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*e", prec, v);
    return parse_e(tmp, dec);
}

static uint64_t digits_u64(const decimal *dec) {
    uint64_t n = 0;
    for (int i = 0; i < dec->nd; i++) {
        n = n * 10 + (uint64_t)(dec->d[i] - '0');
    }
    return n;
}

/* Does the decimal n * 10^exp10 read back as v? The text has no decimal point,
 * so no locale changes how strtod reads it. */
static int reads_back(uint64_t n, int exp10, double v) {
    char tmp[48];
    size_t len = vt__format_u64(n, tmp);
    tmp[len++] = 'e';
    if (exp10 < 0) {
        tmp[len++] = '-';
        exp10 = -exp10;
    }
    vt__format_u64((uint64_t)exp10, tmp + len);
    return strtod(tmp, NULL) == v;
}

/* Does printf's correctly rounded v with prec + 1 digits read back as v? */
static int try_printf(double v, int prec, decimal *dec) {
    if (!print_e(v, prec, dec) || dec->nd > 19 ||
        !reads_back(digits_u64(dec), dec->dp - dec->nd, v)) {
        return 0;
    }
    trim(dec);
    return 1;
}

/* Subnormals: their interval is relatively wide, so any digit count may do. */
static void shortest_subnormal(double v, decimal *dec) {
    for (int prec = 0; prec < 16; prec++) {
        if (try_printf(v, prec, dec)) {
            return;
        }
    }
    print_e(v, 16, dec);
    trim(dec);
}

/* Powers of two: the interval reaches half as far below v as above, so the
 * closest 16-digit decimal may miss below while its upper neighbour fits. */
static void shortest_power_of_two(double v, decimal *dec) {
    if (try_printf(v, 14, dec) || try_printf(v, 15, dec)) {
        return;
    }
    decimal up;
    if (print_e(v, 15, &up) && up.nd == 16) {
        uint64_t n = digits_u64(&up) + 1;
        if (reads_back(n, up.dp - 16, v)) {
            from_u64(n, 16 - up.dp, dec);
            return;
        }
    }
    print_e(v, 16, dec);
    trim(dec);
}

enum verdict { FAILS, READS_BACK, UNSURE };

/* Whether a candidate dist units of the 17th digit away from printf's 17-digit
 * text reads back, given the interval's half-width h in those units. The text
 * is within half a unit of v; the margins cover the rounding in h. */
static enum verdict judge(double dist, double h) {
    if (dist - 0.5 > h * (1 + 1e-9)) {
        return FAILS;
    }
    if (dist + 0.5 < h * (1 - 1e-9)) {
        return READS_BACK;
    }
    return UNSURE;
}

/* Normal doubles that are not powers of two: one printf of 17 digits m17
 * decides most cases. v = f * 2^E with f in [1, 2) has ulp 2^(E-52), and
 * v ~ m17 * 10^(dp-17), so half an ulp is m17 * 2^-53 / f units of the 17th
 * digit (between 0.55 and 11.2). strtod settles only the close calls. */
static void shortest_normal(double v, uint64_t bits, decimal *dec) {
    decimal r;
    if (!print_e(v, 16, &r) || r.nd != 17) {
        dec->d[0] = '0'; /* printf broke its contract; never reached with a C library */
        dec->nd = 1;
        dec->dp = 1;
        return;
    }
    uint64_t m17 = digits_u64(&r);
    uint64_t fbits = (bits & 0xFFFFFFFFFFFFFull) | (1023ull << 52);
    double f;
    memcpy(&f, &fbits, sizeof f);
    double h = (double)m17 * 0x1p-53 / f;

    /* 15 digits. A tie in the text (low == 50) is 49.5 units or more from v
     * either way, beyond any h, so rounding it up is as good as exact. */
    uint64_t low = m17 % 100;
    uint64_t c = m17 / 100 + (low >= 50);
    enum verdict ok = judge((double)(low >= 50 ? 100 - low : low), h);
    if (ok == READS_BACK || (ok == UNSURE && reads_back(c, r.dp - 15, v))) {
        from_u64(c, 15 - r.dp, dec);
        return;
    }

    /* 16 digits. A tie in the text may round either way: ask printf. */
    low = m17 % 10;
    if (low == 5) {
        if (try_printf(v, 15, dec)) {
            return;
        }
    } else {
        c = m17 / 10 + (low > 5);
        ok = judge((double)(low > 5 ? 10 - low : low), h);
        if (ok == READS_BACK || (ok == UNSURE && reads_back(c, r.dp - 16, v))) {
            from_u64(c, 16 - r.dp, dec);
            return;
        }
    }

    /* 17 digits always read back. */
    *dec = r;
    trim(dec);
}

/* The shortest closest digits of a positive finite v that no fast path took. */
static void shortest_printf(double v, decimal *dec) {
    int saved_errno = errno;
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    if (v < DBL_MIN) {
        shortest_subnormal(v, dec);
    } else if ((bits & 0xFFFFFFFFFFFFFull) == 0) {
        shortest_power_of_two(v, dec);
    } else {
        shortest_normal(v, bits, dec);
    }
    errno = saved_errno;
}

static char *put_exponent(char *p, int exp) {
    *p++ = 'e';
    if (exp < 0) {
        *p++ = '-';
        exp = -exp;
    } else {
        *p++ = '+';
    }
    if (exp >= 100) {
        *p++ = (char)('0' + exp / 100);
        exp %= 100;
    }
    memcpy(p, &pairs[2 * exp], 2);
    return p + 2;
}

/* Lays out the digits as Go's 'g' with shortest precision does. */
static size_t layout(const decimal *dec, int neg, char *buf) {
    char *p = buf;
    size_t nd = (size_t)dec->nd;
    int exp = dec->dp - 1;
    if (neg) {
        *p++ = '-';
    }
    if (exp < -4 || exp >= 6) {
        *p++ = dec->d[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, dec->d + 1, nd - 1);
            p += nd - 1;
        }
        p = put_exponent(p, exp);
    } else if (dec->dp <= 0) {
        size_t zeros = (size_t)-dec->dp;
        *p++ = '0';
        *p++ = '.';
        memset(p, '0', zeros);
        p += zeros;
        memcpy(p, dec->d, nd);
        p += nd;
    } else if ((size_t)dec->dp >= nd) {
        size_t zeros = (size_t)dec->dp - nd;
        memcpy(p, dec->d, nd);
        p += nd;
        memset(p, '0', zeros);
        p += zeros;
    } else {
        size_t ip = (size_t)dec->dp;
        memcpy(p, dec->d, ip);
        p += ip;
        *p++ = '.';
        memcpy(p, dec->d + ip, nd - ip);
        p += nd - ip;
    }
    *p = '\0';
    return (size_t)(p - buf);
}

static size_t put_literal(char *buf, const char *s, size_t len) {
    memcpy(buf, s, len + 1);
    return len;
}

size_t vt_format_double(double v, char *buf) {
    if (isnan(v)) {
        return put_literal(buf, "NaN", 3);
    }
    int neg = signbit(v) != 0;
    v = fabs(v);
    if (isinf(v)) {
        return put_literal(buf, neg ? "-Inf" : "+Inf", 4);
    }
    if (v == 0) {
        return put_literal(buf, neg ? "-0" : "0", neg ? 2u : 1u);
    }
    decimal dec;
    if (v < TWO_POW_53 && (double)(uint64_t)v == v) {
        uint64_t n = (uint64_t)v;
        if (n < 1000000) {
            /* Go writes these as plain integers. */
            char *p = buf;
            if (neg) {
                *p++ = '-';
            }
            return (size_t)neg + vt__format_u64(n, p);
        }
        from_u64(n, 0, &dec);
    } else if (!try_scaled(v, &dec)) {
        shortest_printf(v, &dec);
    }
    return layout(&dec, neg, buf);
}

size_t vt__format_om_canonical(double v, char *buf) {
    size_t n = vt_format_double(v, buf);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != '-' && (buf[i] < '0' || buf[i] > '9')) {
            return n;
        }
    }
    memcpy(buf + n, ".0", 3);
    return n + 2;
}
