/* test_expose_golden.c - the writers' output, byte for byte, against golden files.
 *
 * The registry of golden_registry.h is written in text 0.0.4, in OpenMetrics
 * and in OpenMetrics with _created samples, and compared with
 * tests/data/golden/registry.{txt,om,created.om}. _created values are
 * timestamps: each is checked (a number in the shortest round-trip form, taken
 * while the registry was built) and then masked as "<created>" before the
 * comparison. A difference prints `diff -u golden actual`.
 *
 * To rewrite the golden files after a deliberate change of the output, run the
 * test with VT_GOLDEN_UPDATE=1 and review the diff of tests/data/golden/ by
 * eye against REFERENCE.md before committing it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expose_tools.h"
#include "golden_registry.h"
#include "harness.h"
#include "vitals.h"

static double now_unix(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void golden_path(char *path, size_t size, const char *name) {
    snprintf(path, size, "%s/golden/%s", VT_TEST_DATA_DIR, name);
}

/* Print where got and want differ: `diff -u` when the shell has it, else the
 * first differing line. */
static void print_diff(const char *golden, const char *got) {
    char actual[4400], cmd[9000];
    tools_path(actual, sizeof actual, "actual");
    if (tools_write_file(actual, got, strlen(got)) == 0 && tools_have("diff")) {
        snprintf(cmd, sizeof cmd, "diff -u '%s' '%s'", golden, actual);
        char *out = NULL;
        tools_run(cmd, &out);
        fprintf(stderr, "%s", out ? out : "");
        free(out);
        return;
    }
    char *want = tools_read_file(golden, NULL);
    const char *a = want ? want : "", *b = got;
    int line = 1;
    while (*a && *a == *b) {
        line += *a == '\n';
        a++;
        b++;
    }
    fprintf(stderr, "first difference at line %d:\n  golden: %.*s\n  actual: %.*s\n", line,
            (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
    free(want);
}

/* Compare got with the golden file name, or rewrite it under VT_GOLDEN_UPDATE. */
static void check_golden(const char *name, const char *got) {
    char path[4400];
    golden_path(path, sizeof path, name);
    CHECK(got != NULL);
    if (!got)
        return;
    const char *update = getenv("VT_GOLDEN_UPDATE");
    if (update && *update && strcmp(update, "0") != 0) {
        CHECK(tools_write_file(path, got, strlen(got)) == 0);
        printf("rewrote %s\n", path);
        return;
    }
    char *want = tools_read_file(path, NULL);
    if (!want) {
        fprintf(stderr, "missing golden file %s (VT_GOLDEN_UPDATE=1 writes it)\n", path);
        CHECK(want != NULL);
        return;
    }
    int same = strcmp(want, got) == 0;
    if (!same) {
        fprintf(stderr, "%s: output differs from the golden file:\n", name);
        print_diff(path, got);
    }
    CHECK(same);
    free(want);
}

/* Mask every _created value of an OpenMetrics exposition as "<created>",
 * checking each one first: shortest round-trip form, inside [lo, hi]. Returns
 * a malloc'd copy; *out_count receives the number of _created samples. */
static char *mask_created(const char *text, double lo, double hi, int *out_count) {
    size_t cap = strlen(text) * 2 + 64, len = 0;
    char *out = malloc(cap);
    *out_count = 0;
    if (!out)
        return NULL;
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        const char *name_end = line + strcspn(line, "{ \n");
        int created =
            line[0] != '#' && name_end - line > 8 && memcmp(name_end - 8, "_created", 8) == 0;
        const char *value = line + n;
        while (created && value > line && value[-1] != ' ')
            value--;
        if (created) {
            (*out_count)++;
            char num[64], *end;
            size_t vl = (size_t)(line + n - value);
            snprintf(num, sizeof num, "%.*s", (int)(vl < 63 ? vl : 63), value);
            double v = strtod(num, &end);
            char shortest[VT_DOUBLE_BUFSZ];
            vt_format_double(v, shortest);
            if (*end || end == num || !(v >= lo && v <= hi) || strcmp(shortest, num) != 0) {
                fprintf(stderr,
                        "bad _created value \"%s\" (expected a time in [%.3f, %.3f]): %.*s\n", num,
                        lo, hi, (int)n, line);
                CHECK(0);
            }
            size_t keep = (size_t)(value - line);
            memcpy(out + len, line, keep);
            len += keep;
            memcpy(out + len, "<created>", 9);
            len += 9;
        } else {
            memcpy(out + len, line, n);
            len += n;
        }
        if (line[n] == '\n')
            out[len++] = '\n';
        line += n + (line[n] == '\n');
    }
    out[len] = '\0';
    return out;
}

/* Each "# HELP x" and "# TYPE x" at most once, and before any sample of a
 * later family: the metadata names of an exposition are pairwise distinct. */
static void check_metadata_once(const char *text) {
    char seen[256][256];
    int nseen = 0;
    for (const char *line = text; *line; line += strcspn(line, "\n") + 1) {
        if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0) {
            if (!line[strcspn(line, "\n")])
                break;
            continue;
        }
        char key[256];
        size_t n = strcspn(line + 7, " \n");
        snprintf(key, sizeof key, "%.6s %.*s", line + 2, (int)(n < 240 ? n : 240), line + 7);
        for (int i = 0; i < nseen; i++)
            if (strcmp(seen[i], key) == 0) {
                fprintf(stderr, "metadata repeated: %s\n", key);
                CHECK(0);
            }
        if (nseen < 256)
            snprintf(seen[nseen++], sizeof seen[0], "%s", key);
        if (!line[strcspn(line, "\n")])
            break;
    }
}

static vt_registry_t *reg;
static double built_lo, built_hi;

static void test_text(void) {
    char *text = tools_scrape(reg, VT_FORMAT_TEXT, 0);
    CHECK(text != NULL);
    if (!text)
        return;
    CHECK(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    CHECK(strstr(text, "# EOF") == NULL);
    CHECK(strstr(text, "_created") == NULL);
    check_metadata_once(text);
    check_golden("registry.txt", text);
    /* Writing is repeatable: the same registry gives the same bytes. */
    char *again = tools_scrape(reg, VT_FORMAT_TEXT, 0);
    CHECK(again && strcmp(again, text) == 0);
    free(again);
    free(text);
}

static void test_openmetrics(void) {
    char *om = tools_scrape(reg, VT_FORMAT_OPENMETRICS, 0);
    CHECK(om != NULL);
    if (!om)
        return;
    size_t n = strlen(om);
    CHECK(n >= 6 && strcmp(om + n - 6, "# EOF\n") == 0);
    CHECK(strstr(om, "# EOF") == om + n - 6);
    CHECK(strstr(om, "_created") == NULL);
    check_metadata_once(om);
    check_golden("registry.om", om);
    free(om);
}

static void test_openmetrics_created(void) {
    char *om = tools_scrape(reg, VT_FORMAT_OPENMETRICS, 1);
    CHECK(om != NULL);
    if (!om)
        return;
    int count = 0;
    char *masked = mask_created(om, built_lo, built_hi, &count);
    /* Counters, histograms and summaries of the registry carry one _created
     * per series; callbacks, collectors and self-metrics have no creation time. */
    CHECK_INT(count, 1 + 3 + 3 + 2 + 1 + 1 + 3);
    check_metadata_once(om);
    check_golden("registry.created.om", masked);
    free(masked);
    free(om);
}

/* The text writer ignores the created option. */
static void test_text_ignores_created(void) {
    char *a = tools_scrape(reg, VT_FORMAT_TEXT, 0), *b = tools_scrape(reg, VT_FORMAT_TEXT, 1);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
}

static void test_empty_and_self(void) {
    vt_registry_t *r;
    CHECK_INT(vt_registry_create(&r), 0);
    char *text = tools_scrape(r, VT_FORMAT_TEXT, 0);
    char *om = tools_scrape(r, VT_FORMAT_OPENMETRICS, 1);
    check_golden("self.txt", text);
    check_golden("self.om", om);
    free(text);
    free(om);
    vt_registry_set_self_metrics(r, 0);
    text = tools_scrape(r, VT_FORMAT_TEXT, 0);
    om = tools_scrape(r, VT_FORMAT_OPENMETRICS, 1);
    CHECK_STR(text, "");
    CHECK_STR(om, "# EOF\n");
    free(text);
    free(om);
    vt_registry_destroy(r);
}

int main(void) {
    built_lo = now_unix() - 1;
    if (golden_registry_build(&reg) != 0) {
        fprintf(stderr, "cannot build the golden registry\n");
        return 1;
    }
    built_hi = now_unix() + 1;
    RUN(test_text);
    RUN(test_openmetrics);
    RUN(test_openmetrics_created);
    RUN(test_text_ignores_created);
    RUN(test_empty_and_self);
    vt_registry_destroy(reg);
    tools_cleanup();
    TEST_EXIT();
}
