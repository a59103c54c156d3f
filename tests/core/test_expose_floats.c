/* test_expose_floats.c - numbers pass through the writers exactly.
 *
 * Gauges set to every input of tests/data/go_g.txt must appear in both
 * formats with exactly the text Go's strconv.FormatFloat(v, 'g', -1, 64)
 * gives (the form Prometheus prints), and random doubles of every magnitude,
 * as gauges and as counter float adds, must read back with strtod() as the
 * identical double. The registry is expose_corpus.h's float registry, which
 * the external checkers parse too.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expose_corpus.h"
#include "expose_tools.h"
#include "harness.h"
#include "vitals.h"

static vt_registry_t *reg;
static floats_vector_t *go;
static size_t ngo;

/* The value text of sample name{i="idx"} in an exposition, or NULL. */
static const char *find_value(const char *text, const char *name, size_t idx, size_t *out_len) {
    char key[128];
    int kl = snprintf(key, sizeof key, "\n%s{i=\"%zu\"} ", name, idx);
    const char *p = strstr(text, key);
    if (!p)
        return NULL;
    p += kl;
    *out_len = strcspn(p, "\n");
    return p;
}

static int same_double(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

static void check_go(vt_format_t format) {
    char *text = tools_scrape(reg, format, 0);
    CHECK(text != NULL);
    for (size_t i = 0; text && i < ngo; i++) {
        size_t len = 0;
        const char *v = find_value(text, "fv_go", i, &len);
        CHECK(v != NULL);
        if (v && (len != strlen(go[i].want) || memcmp(v, go[i].want, len) != 0)) {
            fprintf(stderr, "go_g row %zu (format %d): wrote \"%.*s\", Go writes \"%s\"\n", i,
                    (int)format, (int)len, v, go[i].want);
            CHECK(0);
        }
    }
    free(text);
}

static void test_go_vectors(void) {
    if (ngo == 0) {
        printf("note: tests/data/go_g.txt not found; Go vectors not checked\n");
        return;
    }
    CHECK(ngo >= 30);
    check_go(VT_FORMAT_TEXT);
    check_go(VT_FORMAT_OPENMETRICS);
}

static void check_random(vt_format_t format) {
    char *text = tools_scrape(reg, format, 0);
    CHECK(text != NULL);
    if (!text)
        return;
    uint64_t state = FLOATS_SEED;
    int bad = 0;
    for (size_t i = 0; i < FLOATS_NRANDOM + FLOATS_NCOUNTERS; i++) {
        int counter = i >= FLOATS_NRANDOM;
        double want = floats_random_double(&state);
        if (counter)
            want = fabs(want);
        size_t len = 0;
        const char *v = find_value(text, counter ? "fv_added_total" : "fv_random",
                                   counter ? i - FLOATS_NRANDOM : i, &len);
        CHECK(v != NULL);
        if (!v)
            continue;
        char num[64], *end;
        snprintf(num, sizeof num, "%.*s", (int)(len < 63 ? len : 63), v);
        double got = strtod(num, &end);
        if (*end != '\0' || !same_double(got, want)) {
            if (bad++ < 10)
                fprintf(stderr, "%s %zu: wrote \"%s\" for %.17g\n", counter ? "counter" : "gauge",
                        i, num, want);
            CHECK(0);
        }
        /* The writer's text is the library's own shortest form. */
        char shortest[VT_DOUBLE_BUFSZ];
        vt_format_double(want, shortest);
        CHECK_STR(num, shortest);
    }
    free(text);
}

static void test_random_doubles(void) {
    check_random(VT_FORMAT_TEXT);
    check_random(VT_FORMAT_OPENMETRICS);
}

int main(void) {
    if (floats_registry_build(&reg, &go, &ngo) != 0) {
        fprintf(stderr, "cannot build the float registry\n");
        return 1;
    }
    RUN(test_go_vectors);
    RUN(test_random_doubles);
    vt_registry_destroy(reg);
    free(go);
    TEST_EXIT();
}
