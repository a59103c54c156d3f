/* test_fmt_double.c - number formatting: Go's shortest 'g' doubles, OpenMetrics canonical form,
 * u64.
 *
 * The expected texts come from Go's strconv.FormatFloat(v, 'g', -1, 64)
 * (tests/data/go_g.txt) and, for random doubles, from a brute-force reference
 * in this file that tries every digit count with printf and strtod and knows
 * nothing of the fast paths of fmt_double.c. The locale check builds a German
 * locale with localedef into a temporary directory when none is installed.
 *
 * SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/fmt_double.h"
#include "harness.h"
#include "vitals/expose.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void) {
    /* xorshift64*: fixed seed, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static double from_bits(uint64_t bits) {
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static uint64_t to_bits(double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

static void fmt(double v, char *buf) {
    vt_format_double(v, buf);
}

/* A digit string with its decimal exponent: value = 0.d * 10^dp, no trailing zeros. */
typedef struct digits {
    char d[32];
    int nd;
    int dp;
} digits;

/* Reads a positive decimal in any layout ("123", "0.005", "1.5e-07") into digits. */
static int parse_digits(const char *s, digits *out) {
    int nd = 0, dp = 0, seen_point = 0, leading = 1;
    for (; *s && *s != 'e'; s++) {
        if (*s == '.') {
            seen_point = 1;
            continue;
        }
        if (*s < '0' || *s > '9') {
            return 0;
        }
        if (leading && *s == '0') {
            if (seen_point) {
                dp--;
            }
            continue;
        }
        leading = 0;
        if (nd >= (int)sizeof out->d) {
            return 0;
        }
        out->d[nd++] = *s;
        if (!seen_point) {
            dp++;
        }
    }
    if (*s == 'e') {
        dp += atoi(s + 1);
    }
    while (nd > 0 && out->d[nd - 1] == '0') {
        nd--;
    }
    if (nd == 0) {
        return 0;
    }
    out->nd = nd;
    out->dp = dp;
    return 1;
}

/* strtod of d * 10^-shift written without a decimal point, so no locale matters. */
static double digits_value(const char *d, int nd, int exp10) {
    char tmp[64];
    memcpy(tmp, d, (size_t)nd);
    snprintf(tmp + nd, sizeof tmp - (size_t)nd, "e%d", exp10);
    return strtod(tmp, NULL);
}

/* Adds delta (+1 or -1) to the last of nd digits; 0 when it leaves nd digits. */
static int bump(char *d, int nd, int *dp, int delta) {
    int i = nd - 1;
    if (delta > 0) {
        while (i >= 0 && d[i] == '9') {
            d[i--] = '0';
        }
        if (i < 0) {
            d[0] = '1';
            (*dp)++;
            return 1;
        }
        d[i]++;
    } else {
        while (i >= 0 && d[i] == '0') {
            d[i--] = '9';
        }
        if (i < 0 || (i == 0 && d[0] == '1' && nd == 1)) {
            return 0;
        }
        d[i]--;
        if (d[0] == '0') {
            return 0; /* lost a digit: that neighbour has fewer digits, tried before */
        }
    }
    return 1;
}

/* The brute-force reference: for each digit count from 1, the correctly rounded
 * decimal and its two neighbours; the first count where one reads back wins,
 * the closest first. v is positive and finite. */
static void reference(double v, digits *out) {
    for (int k = 1; k <= 17; k++) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.*e", k - 1, v);
        digits c;
        char raw[32];
        int rawdp;
        /* raw k digits, zeros kept */
        int n = 0;
        const char *s = tmp;
        for (; *s != 'e'; s++) {
            if (*s >= '0' && *s <= '9') {
                raw[n++] = *s;
            }
        }
        rawdp = atoi(s + 1) + 1;
        const int deltas[3] = {0, -1, +1};
        for (int j = 0; j < 3; j++) {
            char d[32];
            int dp = rawdp;
            memcpy(d, raw, (size_t)n);
            if (deltas[j] != 0 && !bump(d, n, &dp, deltas[j])) {
                continue;
            }
            if (digits_value(d, n, dp - n) == v) {
                memcpy(c.d, d, (size_t)n);
                c.nd = n;
                c.dp = dp;
                while (c.nd > 1 && c.d[c.nd - 1] == '0') {
                    c.nd--;
                }
                *out = c;
                return;
            }
        }
    }
    out->nd = 0;
}

/* Checks that s is laid out as Go's 'g' shortest lays out its digits. */
static int layout_ok(const char *s) {
    if (*s == '-') {
        s++;
    }
    const char *e = strchr(s, 'e');
    digits d;
    if (!parse_digits(s, &d)) {
        return 0;
    }
    int exp = d.dp - 1;
    if (e) {
        /* d[.ddd]e(+|-)XX: one nonzero leading digit, no trailing zeros, 2+ exponent digits */
        if (s[0] < '1' || s[0] > '9') {
            return 0;
        }
        if (e - s > 1 && (s[1] != '.' || e[-1] == '0' || e - s == 2)) {
            return 0;
        }
        if (e[1] != '+' && e[1] != '-') {
            return 0;
        }
        size_t elen = strlen(e + 2);
        if (elen < 2 || elen > 3 || (elen == 3 && e[2] == '0')) {
            return 0;
        }
        return exp < -4 || exp >= 6;
    }
    if (exp < -4 || exp >= 6) {
        return 0;
    }
    const char *dot = strchr(s, '.');
    if (dot) {
        size_t len = strlen(s);
        if (s[len - 1] == '0' || s[len - 1] == '.') {
            return 0;
        }
        if (s[0] == '0' && dot != s + 1) {
            return 0;
        }
    } else if (s[0] == '0' && s[1] != '\0') {
        return 0;
    }
    return 1;
}

/* Round trip, length, layout and, when full is set, the reference digits. */
static int check_value(double v, int full) {
    char buf[64];
    memset(buf, 0x5A, sizeof buf);
    size_t len = vt_format_double(v, buf);
    if (len != strlen(buf) || len > 24) {
        fprintf(stderr, "bad length %zu for %.17g: %s\n", len, v, buf);
        return 0;
    }
    for (size_t i = len + 1; i < sizeof buf; i++) {
        if (buf[i] != 0x5A) {
            fprintf(stderr, "wrote past the NUL for %.17g\n", v);
            return 0;
        }
    }
    if (isinf(v)) {
        return strcmp(buf, v > 0 ? "+Inf" : "-Inf") == 0;
    }
    double back = strtod(buf, NULL);
    if (to_bits(back) != to_bits(v)) {
        fprintf(stderr, "no round trip: %.17g -> %s -> %.17g\n", v, buf, back);
        return 0;
    }
    if (v == 0) {
        return strcmp(buf, signbit(v) ? "-0" : "0") == 0;
    }
    if (!layout_ok(buf)) {
        fprintf(stderr, "not Go's layout: %.17g -> %s\n", v, buf);
        return 0;
    }
    if (full) {
        digits got, want;
        parse_digits(buf[0] == '-' ? buf + 1 : buf, &got);
        reference(fabs(v), &want);
        if (got.nd != want.nd || got.dp != want.dp || memcmp(got.d, want.d, (size_t)got.nd) != 0) {
            fprintf(stderr, "not the shortest closest: %.17g -> %s, want %.*s (dp %d)\n", v, buf,
                    want.nd, want.d, want.dp);
            return 0;
        }
        /* The brief's own criterion as well: no fewer digits from printf read back. */
        for (int prec = 0; prec < got.nd - 1; prec++) {
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%.*e", prec, v);
            if (strtod(tmp, NULL) == v) {
                fprintf(stderr, "%.17g: %s is shorter than %s\n", v, tmp, buf);
                return 0;
            }
        }
    }
    return 1;
}

/* "a+b" with plain decimals a and b: the exact sum rounded once, which is what
 * Go's constant arithmetic gives FormatFloat. */
static double exact_sum(const char *a, const char *b) {
    uint64_t m[2] = {0, 0};
    int frac[2] = {0, 0};
    const char *in[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        int after = 0;
        for (const char *s = in[i]; *s && *s != '+'; s++) {
            if (*s == '.') {
                after = 1;
            } else {
                m[i] = m[i] * 10 + (uint64_t)(*s - '0');
                frac[i] += after;
            }
        }
    }
    while (frac[0] < frac[1]) {
        m[0] *= 10;
        frac[0]++;
    }
    while (frac[1] < frac[0]) {
        m[1] *= 10;
        frac[1]++;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%llue-%d", (unsigned long long)(m[0] + m[1]), frac[0]);
    return strtod(tmp, NULL);
}

static double parse_input(const char *s) {
    if (strcmp(s, "+Inf") == 0) {
        return HUGE_VAL;
    }
    if (strcmp(s, "-Inf") == 0) {
        return -HUGE_VAL;
    }
    if (strcmp(s, "NaN") == 0) {
        return NAN;
    }
    const char *plus = strchr(s + 1, '+');
    if (plus && plus[-1] != 'e' && plus[-1] != 'E') {
        return exact_sum(s, plus + 1);
    }
    return strtod(s, NULL);
}

static FILE *open_data(const char *name) {
    char path[4096];
#ifdef VT_TEST_DATA_DIR
    snprintf(path, sizeof path, "%s/%s", VT_TEST_DATA_DIR, name);
    FILE *f = fopen(path, "r");
    if (f) {
        return f;
    }
#endif
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    int dirlen = slash ? (int)(slash - file) : 1;
    snprintf(path, sizeof path, "%.*s/../data/%s", dirlen, slash ? file : ".", name);
    return fopen(path, "r");
}

/* ---- tests ---- */

static void test_go_vectors(void) {
    FILE *f = open_data("go_g.txt");
    CHECK(f != NULL);
    if (!f) {
        return;
    }
    char line[512];
    int count = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        char *tab = strchr(line, '\t');
        CHECK(tab != NULL);
        if (!tab) {
            continue;
        }
        *tab = '\0';
        char buf[VT_DOUBLE_BUFSZ];
        size_t len = vt_format_double(parse_input(line), buf);
        CHECK_STR(buf, tab + 1);
        CHECK_INT(len, strlen(tab + 1));
        count++;
    }
    fclose(f);
    CHECK(count >= 30);
}

static void test_known_values(void) {
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {-0.0, "-0"},
        {0.1 + 0.2, "0.30000000000000004"},
        {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"},
        {2.0 / 3, "0.6666666666666666"},
        {-2.5, "-2.5"},
        {999999, "999999"},
        {999999.5, "999999.5"},
        {1000001, "1.000001e+06"},
        {-1234567, "-1.234567e+06"},
        {123456.7, "123456.7"},
        {1234567.8, "1.2345678e+06"},
        {0.0001234, "0.0001234"},
        {0.00001234, "1.234e-05"},
        {100, "100"},
        {1e15, "1e+15"},
        {1e23, "1e+23"},
        {1e100, "1e+100"},
        {1e-100, "1e-100"},
        {9007199254740992.0, "9.007199254740992e+15"},
        {9223372036854775808.0, "9.223372036854776e+18"},
        {18446744073709551615.0, "1.8446744073709552e+19"},
        {DBL_MIN, "2.2250738585072014e-308"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {-DBL_MAX, "-1.7976931348623157e+308"},
        {4.9406564584124654e-324, "5e-324"},
        {-4.9406564584124654e-324, "-5e-324"},
        {2.2250738585072009e-308, "2.225073858507201e-308"},
        {1e-320, "1e-320"},
        {0x1p-1022 * 3, "6.675221575521604e-308"},
        {123.456, "123.456"},
        {1e-7, "1e-07"},
        {1.5e300, "1.5e+300"},
        {0.000123, "0.000123"},
        {5e-5, "5e-05"},
        {0.1 * 3, "0.30000000000000004"},
        {1e21 + 65536 * 2, "1.0000000000000001e+21"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[VT_DOUBLE_BUFSZ];
        size_t len = vt_format_double(cases[i].v, buf);
        CHECK_STR(buf, cases[i].want);
        CHECK_INT(len, strlen(cases[i].want));
    }
    char buf[VT_DOUBLE_BUFSZ];
    CHECK_INT(vt_format_double(-NAN, buf), 3);
    CHECK_STR(buf, "NaN");
    CHECK_INT(vt_format_double(-HUGE_VAL, buf), 4);
    CHECK_STR(buf, "-Inf");
}

static void test_random_bits(void) {
    int bad = 0;
    for (int i = 0; i < 1000000 && bad < 10; i++) {
        double v = from_bits(rng_next());
        if (isnan(v)) {
            continue;
        }
        if (!check_value(v, i % 50 == 0)) {
            bad++;
        }
    }
    CHECK_INT(bad, 0);
}

/* Values that services really export: integers, decimals with a few places, sums. */
static void test_human_values(void) {
    int bad = 0;
    for (int i = 0; i < 200000 && bad < 10; i++) {
        uint64_t r = rng_next();
        unsigned digits_wanted = (unsigned)(r % 17) + 1;
        uint64_t n = rng_next() % (uint64_t)pow(10, digits_wanted);
        int scale = (int)((r >> 8) % 25) - 6;
        double v = scale >= 0 ? (double)n / pow(10, scale) : (double)n * pow(10, -scale);
        if (r & (1u << 20)) {
            v = -v;
        }
        if (!check_value(v, i % 4 == 0)) {
            bad++;
        }
    }
    CHECK_INT(bad, 0);
}

/* Powers of two are where the closest 16-digit decimal can miss and its
 * neighbour must be taken; their neighbours exercise the other paths. */
static void test_powers_of_two(void) {
    int bad = 0;
    for (int e = -1074; e <= 1023 && bad < 10; e++) {
        double v = ldexp(1.0, e);
        if (!check_value(v, 1) || !check_value(nextafter(v, 0), 1) ||
            !check_value(nextafter(v, HUGE_VAL), 1)) {
            bad++;
        }
    }
    CHECK_INT(bad, 0);
}

static void test_subnormals(void) {
    int bad = 0;
    for (uint64_t m = 1; m < 2000 && bad < 10; m++) {
        if (!check_value(from_bits(m), 1) || !check_value(from_bits(0xFFFFFFFFFFFFFull - m), 1)) {
            bad++;
        }
    }
    for (int i = 0; i < 5000 && bad < 10; i++) {
        if (!check_value(from_bits(rng_next() & 0xFFFFFFFFFFFFFull), 1)) {
            bad++;
        }
    }
    CHECK_INT(bad, 0);
}

static void test_errno_preserved(void) {
    char buf[VT_DOUBLE_BUFSZ];
    errno = 4242;
    fmt(5e-324, buf);
    fmt(2.2250738585072009e-308, buf);
    fmt(0.1 + 0.2, buf);
    CHECK_INT(errno, 4242);
}

/* A locale whose decimal point is ',', set up with localedef when necessary.
 * Returns 1 when LC_NUMERIC now uses ','. */
static char locale_dir[256];

static int comma_locale(void) {
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8",  "de_DE",      "fr_FR.UTF-8",
                                        "fr_FR.utf8",  "nl_NL.UTF-8", "ru_RU.UTF-8"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (setlocale(LC_NUMERIC, names[i]) && strcmp(localeconv()->decimal_point, ",") == 0) {
            return 1;
        }
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(locale_dir, sizeof locale_dir, "%s/vt-locale-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(locale_dir)) {
        locale_dir[0] = '\0';
        return 0;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1",
             locale_dir);
    if (system(cmd) != 0) {
        return 0;
    }
    setenv("LOCPATH", locale_dir, 1);
    return setlocale(LC_NUMERIC, "de_DE.UTF-8") && strcmp(localeconv()->decimal_point, ",") == 0;
}

static void test_locale_independent(void) {
    enum { N = 20000 };
    static double values[N];
    static char want[N][VT_DOUBLE_BUFSZ];
    uint64_t saved_rng = rng_state;
    for (int i = 0; i < N; i++) {
        uint64_t r = rng_next();
        values[i] = (i & 1) ? from_bits(r & ~(0x7FFull << 52)) /* subnormal or zero */
                            : (double)(r % 100000000) / pow(10, (double)(r >> 60));
        if (i % 3 == 0) {
            double v;
            do {
                v = from_bits(rng_next());
            } while (isnan(v));
            values[i] = v;
        }
        fmt(values[i], want[i]);
    }
    rng_state = saved_rng;
    if (!comma_locale()) {
        printf("note: no locale with a ',' decimal point could be set; locale check not run\n");
    } else {
        int bad = 0;
        for (int i = 0; i < N; i++) {
            char buf[VT_DOUBLE_BUFSZ];
            fmt(values[i], buf);
            if (strcmp(buf, want[i]) != 0 && bad++ < 5) {
                fprintf(stderr, "locale changed %s into %s\n", want[i], buf);
            }
        }
        CHECK_INT(bad, 0);
        char buf[VT_DOUBLE_BUFSZ];
        fmt(1.5e-7, buf);
        CHECK_STR(buf, "1.5e-07");
        fmt(0.1 + 0.2, buf);
        CHECK_STR(buf, "0.30000000000000004");
        fmt(-2.5, buf);
        CHECK_STR(buf, "-2.5");
        CHECK(vt__format_om_canonical(1.0, buf) == 3);
        CHECK_STR(buf, "1.0");
    }
    setlocale(LC_NUMERIC, "C");
    if (locale_dir[0]) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", locale_dir);
        CHECK(system(cmd) == 0);
    }
}

static void test_om_canonical(void) {
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {1, "1.0"},           {0, "0.0"},         {-0.0, "-0.0"},       {-1, "-1.0"},
        {1e-5, "1e-05"},      {HUGE_VAL, "+Inf"}, {-HUGE_VAL, "-Inf"},  {NAN, "NaN"},
        {100000, "100000.0"}, {1e6, "1e+06"},     {0.25, "0.25"},       {2.5, "2.5"},
        {0.005, "0.005"},     {10, "10.0"},       {999999, "999999.0"}, {1.5e300, "1.5e+300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[VT_DOUBLE_BUFSZ];
        size_t len = vt__format_om_canonical(cases[i].v, buf);
        CHECK_STR(buf, cases[i].want);
        CHECK_INT(len, strlen(cases[i].want));
    }
    /* The longest text plus ".0" still fits: a 6-digit negative integer is the
     * longest text without '.' or 'e'. */
    char buf[VT_DOUBLE_BUFSZ];
    CHECK_INT(vt__format_om_canonical(-999999, buf), 9);
}

static void test_u64(void) {
    char buf[VT__U64_BUFSZ];
    CHECK_INT(vt__format_u64(0, buf), 1);
    CHECK_STR(buf, "0");
    CHECK_INT(vt__format_u64(UINT64_MAX, buf), 20);
    CHECK_STR(buf, "18446744073709551615");
    uint64_t p = 1;
    for (int i = 0; i < 20; i++) {
        char want[32];
        snprintf(want, sizeof want, "%llu", (unsigned long long)p);
        vt__format_u64(p, buf);
        CHECK_STR(buf, want);
        snprintf(want, sizeof want, "%llu", (unsigned long long)(p - 1));
        vt__format_u64(p - 1, buf);
        CHECK_STR(buf, want);
        p *= 10;
    }
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t v = rng_next() >> (rng_next() % 64);
        char want[32];
        snprintf(want, sizeof want, "%llu", (unsigned long long)v);
        size_t len = vt__format_u64(v, buf);
        if (strcmp(buf, want) != 0 || len != strlen(want)) {
            bad++;
        }
    }
    CHECK_INT(bad, 0);
}

int main(void) {
    RUN(test_go_vectors);
    RUN(test_known_values);
    RUN(test_om_canonical);
    RUN(test_u64);
    RUN(test_errno_preserved);
    RUN(test_random_bits);
    RUN(test_human_values);
    RUN(test_powers_of_two);
    RUN(test_subnormals);
    RUN(test_locale_independent);
    TEST_EXIT();
}
