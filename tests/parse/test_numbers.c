/* test_numbers.c - values and timestamps read exactly, and every malformed number rejected.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "parse/files.h"
#include "parse/internal.h"
#include "parse_helpers.h"

#include <float.h>
#include <locale.h>
#include <stdint.h>

/* The value of "x <num>\n" in the given format, strict; NaN sentinel via ok. */
static double value_of(const char *num, vt_format_t f, int *ok) {
    char buf[512];
    snprintf(buf, sizeof buf, "x %s\n%s", num, f == OM ? "# EOF\n" : "");
    vt_doc_t *d = NULL;
    *ok = ph_parse(buf, f, STRICT, &d) == 0;
    double v = *ok && ph_only(d) ? ph_only(d)->value : 0.0;
    vt_doc_free(d);
    return v;
}

static void test_plain_and_special_values(void) {
    static const struct {
        const char *in;
        double want;
    } cases[] = {
        {"0", 0.0},
        {"1", 1.0},
        {"-1", -1.0},
        {"1e3", 1000.0},
        {"1E3", 1000.0},
        {"1e+3", 1000.0},
        {"2.5e-3", 0.0025},
        {".5", 0.5},
        {"5.", 5.0},
        {"+7", 7.0},
        {"0.1", 0.1},
        {"0000000000000000000000000000000000000000001.2e-1", 0.12},
        {"0000000000000000000000000000000000000000001", 1.0},
        {"9223372036854775808", 9223372036854775808.0},
        {"18446744073709551616", 18446744073709551616.0},
        {"1.7976931348623157e+308", DBL_MAX},
        {"5e-324", 4.9406564584124654e-324},
        {"2.2250738585072014e-308", DBL_MIN},
        {"1e-400", 0.0},
        {"123456789012345678901234567890", 1.2345678901234568e29},
        {"0.30000000000000004", 0.30000000000000004},
        {"1.605281325123e+09", 1605281325.123},
        {"+Inf", HUGE_VAL},
        {"-Inf", -HUGE_VAL},
        {"Inf", HUGE_VAL},
        {"inf", HUGE_VAL},
        {"+infinity", HUGE_VAL},
        {"-INFINITY", -HUGE_VAL},
    };
    for (int f = 0; f < 2; f++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            int ok = 0;
            double v = value_of(cases[i].in, f ? OM : TEXT, &ok);
            if (!ok) {
                fprintf(stderr, "value %s: %s\n", cases[i].in, ph_err.message);
            }
            CHECK(ok);
            CHECK_DBL(v, cases[i].want);
        }
    }
}

static void test_negative_zero_and_nan(void) {
    int ok = 0;
    double v = value_of("-0", TEXT, &ok);
    CHECK(ok);
    CHECK(v == 0.0 && signbit(v));
    v = value_of("-0.0e5", OM, &ok);
    CHECK(ok);
    CHECK(v == 0.0 && signbit(v));
    v = value_of("NaN", TEXT, &ok);
    CHECK(ok && isnan(v));
    v = value_of("nan", OM, &ok);
    CHECK(ok && isnan(v));
}

static void test_malformed_values_rejected(void) {
    static const char *const bad[] = {
        "0x1",   "0X1p-3", "0b1", "0o7",   "1_000", "1e",   "1e+",   "e3",  ".",
        "-",     "+",      "--1", "1.2.3", "1e3.5", "+NaN", "-nan",  "Na",  "infin",
        "1e400", "-1e999", "1,5", "١",     "12a",   "in f", "\"1\"", "'1'",
    };
    for (int f = 0; f < 2; f++) {
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            int ok = 1;
            (void)value_of(bad[i], f ? OM : TEXT, &ok);
            if (ok) {
                fprintf(stderr, "value \"%s\" was accepted\n", bad[i]);
            }
            CHECK(!ok);
            if (!ok) {
                CHECK_INT(ph_err.code, VT_EPARSE);
                CHECK_CONTAINS(ph_err.message, "line 1, column 3: ");
            }
        }
    }
}

/* A tiny deterministic generator, so failures reproduce. */
static uint64_t rng_state = 0x853c49e6748fea9bull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Every finite double printed with 1 to 17 significant digits reads back as
 * strtod reads it: the fast path and the strtod path agree bit for bit. */
static void test_random_doubles_match_strtod(void) {
    int mismatches = 0;
    for (int i = 0; i < 200000 && mismatches < 5; i++) {
        uint64_t bits = rng();
        double d;
        if (i % 3 == 0) {
            d = (double)(rng() % 100000000) / (double)(1u << (rng() % 30));
        } else {
            memcpy(&d, &bits, sizeof d);
        }
        if (!isfinite(d)) {
            continue;
        }
        char buf[64];
        int prec = 1 + (int)(rng() % 17);
        int n = snprintf(buf, sizeof buf, i % 2 ? "%.*g" : "%.*e", prec, d);
        double want = strtod(buf, NULL);
        if (isinf(want)) {
            continue; /* rounding at 1 digit can overflow; rejected by design */
        }
        double got = 0;
        int rc = vt__parse_double(buf, (size_t)n, &got);
        if (rc != 0 || memcmp(&got, &want, sizeof got) != 0) {
            fprintf(stderr, "%s: got %.17g (rc %d), strtod %.17g\n", buf, got, rc, want);
            mismatches++;
        }
    }
    CHECK_INT(mismatches, 0);
}

/* The shortest forms Go prints, from the shared vectors, read back exactly. */
static void test_go_shortest_forms(void) {
    size_t n = 0;
    char *text = tf_read(VT_SHARED_TESTDATA_DIR "/floats/go_g.txt", &n);
    if (!text) {
        printf("(go_g.txt not found; skipped)\n");
        return;
    }
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') {
            continue;
        }
        char *tab = strchr(line, '\t');
        if (!tab) {
            continue;
        }
        const char *go = tab + 1;
        double got;
        CHECK_INT(vt__parse_double(go, strlen(go), &got), 0);
        double want = strcmp(go, "NaN") == 0    ? NAN
                      : strcmp(go, "+Inf") == 0 ? HUGE_VAL
                      : strcmp(go, "-Inf") == 0 ? -HUGE_VAL
                                                : strtod(go, NULL);
        CHECK_DBL(got, want);
        lines++;
    }
    CHECK(lines > 10);
    free(text);
}

/* A locale whose decimal point is a comma must not change what we read. */
static void test_locale_independent(void) {
    const char *loc = setlocale(LC_NUMERIC, "de_DE.UTF-8");
    if (!loc) {
        loc = setlocale(LC_NUMERIC, "fr_FR.UTF-8");
    }
    double v;
    CHECK_INT(vt__parse_double("3.14159265358979323846264338327950288", 37, &v), 0);
    CHECK_DBL(v, 3.141592653589793);
    CHECK_INT(vt__parse_double("1.5", 3, &v), 0);
    CHECK_DBL(v, 1.5);
    CHECK(vt__parse_double("1,5", 3, &v) != 0);
    setlocale(LC_NUMERIC, "C");
}

static void test_text_timestamps(void) {
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse("x 1 1395066363000\n", TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) && ph_only(d)->has_timestamp);
    if (ph_only(d)) {
        CHECK_INT(ph_only(d)->timestamp_ms, 1395066363000LL);
        CHECK_DBL(ph_only(d)->timestamp, 1395066363.0);
    }
    vt_doc_free(d);
    CHECK_INT(ph_parse("x 1 -5\n", TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) && ph_only(d)->timestamp_ms == -5);
    vt_doc_free(d);
    CHECK_INT(ph_parse("x 1 9223372036854775807\n", TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) && ph_only(d)->timestamp_ms == INT64_MAX);
    vt_doc_free(d);
    CHECK_INT(ph_parse("x 1\n", TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) && !ph_only(d)->has_timestamp);
    vt_doc_free(d);
    /* Text timestamps are integer milliseconds. */
    CHECK_INT(ph_rc("x 1 1.5\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "integer milliseconds");
    CHECK_INT(ph_rc("x 1 9223372036854775808\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("x 1 1e3\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("x 1 2 3\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "after the timestamp");
}

static void test_openmetrics_timestamps(void) {
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse("x 1 1520879607.789\n# EOF\n", OM, STRICT, &d), 0);
    const vt_doc_sample_t *s = ph_only(d);
    CHECK(s && s->has_timestamp);
    if (s) {
        CHECK_DBL(s->timestamp, 1520879607.789);
        CHECK_INT(s->timestamp_ms, 1520879607789LL);
    }
    vt_doc_free(d);
    CHECK_INT(ph_parse("x 1 -1.5e3\n# EOF\n", OM, STRICT, &d), 0);
    CHECK(ph_only(d) && ph_only(d)->timestamp_ms == -1500000);
    vt_doc_free(d);
    CHECK_INT(ph_rc("x 1 NaN\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("x 1 +Inf\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("x 1 0x10\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("x 1 1e999\n# EOF\n", OM, LENIENT), VT_EPARSE);
}

int main(void) {
    RUN(test_plain_and_special_values);
    RUN(test_negative_zero_and_nan);
    RUN(test_malformed_values_rejected);
    RUN(test_random_doubles_match_strtod);
    RUN(test_go_shortest_forms);
    RUN(test_locale_independent);
    RUN(test_text_timestamps);
    RUN(test_openmetrics_timestamps);
    TEST_EXIT();
}
