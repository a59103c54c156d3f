/* harness.h - the minimal test harness every C test of vitals uses.
 *
 * A test file defines functions `static void test_x(void)` and lists them in
 * main() with RUN(test_x). CHECK* macros record failures without stopping; the
 * program prints "N passed, N failed" and exits non-zero on any failure.
 * SKIP_ALL(msg) exits 77, which ctest reports as skipped (SKIP_RETURN_CODE).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_HARNESS_H
#define VT_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int th_checks_failed;
static int th_tests_passed, th_tests_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            th_checks_failed++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long th_a = (long long)(a), th_b = (long long)(b);                                    \
        if (th_a != th_b) {                                                                        \
            fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %lld, expected %s == %lld\n",          \
                    __FILE__, __LINE__, #a, th_a, #b, th_b);                                       \
            th_checks_failed++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_DBL(a, b)                                                                            \
    do {                                                                                           \
        double th_a = (double)(a), th_b = (double)(b);                                             \
        if (!(th_a == th_b || (isnan(th_a) && isnan(th_b)))) {                                     \
            fprintf(stderr, "%s:%d: CHECK_DBL failed: %s == %.17g, expected %.17g\n", __FILE__,    \
                    __LINE__, #a, th_a, th_b);                                                     \
            th_checks_failed++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *th_a = (a), *th_b = (b);                                                       \
        if (!th_a || !th_b || strcmp(th_a, th_b) != 0) {                                           \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n  got:      \"%s\"\n  expected: \"%s\"\n", \
                    __FILE__, __LINE__, #a, th_a ? th_a : "(null)", th_b ? th_b : "(null)");       \
            th_checks_failed++;                                                                    \
        }                                                                                          \
    } while (0)

/* Does haystack contain needle? Prints the haystack when it does not. */
#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *th_h = (hay), *th_n = (needle);                                                \
        if (!th_h || !strstr(th_h, th_n)) {                                                        \
            fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: missing \"%s\" in:\n%s\n", __FILE__,    \
                    __LINE__, th_n, th_h ? th_h : "(null)");                                       \
            th_checks_failed++;                                                                    \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int th_before = th_checks_failed;                                                          \
        fn();                                                                                      \
        if (th_checks_failed == th_before) {                                                       \
            th_tests_passed++;                                                                     \
        } else {                                                                                   \
            th_tests_failed++;                                                                     \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        }                                                                                          \
    } while (0)

#define TEST_EXIT()                                                                                \
    do {                                                                                           \
        printf("%d passed, %d failed\n", th_tests_passed, th_tests_failed);                        \
        return th_tests_failed ? 1 : 0;                                                            \
    } while (0)

/* Skip the whole program: exit 77 unless CI is set, where a missing
 * prerequisite is a failure. */
#define SKIP_ALL(msg)                                                                              \
    do {                                                                                           \
        const char *th_ci = getenv("CI");                                                          \
        if (th_ci && *th_ci) {                                                                     \
            fprintf(stderr, "FAIL (prerequisite missing under CI): %s\n", msg);                    \
            exit(1);                                                                               \
        }                                                                                          \
        printf("SKIP: %s\n", msg);                                                                 \
        exit(77);                                                                                  \
    } while (0)

#endif
