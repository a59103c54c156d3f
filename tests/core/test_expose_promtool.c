/* test_expose_promtool.c - every text 0.0.4 exposition passes `promtool check metrics`.
 *
 * Each registry of expose_corpus.h is written in text 0.0.4 to a scratch
 * file and fed to `promtool check metrics < file`, which must exit 0: it
 * parses with Prometheus' own text parser and lints (counter names, HELP,
 * units), so both a syntax error (exit 1) and a lint problem (exit 3) fail.
 * promtool's output is printed on failure. Without promtool the program
 * skips (and fails under CI).
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

/* Run promtool over text; 1 when it exits 0. */
static int promtool_ok(const char *what, const char *text) {
    char file[4400], cmd[9000];
    snprintf(file, sizeof file, "%s/%s.prom", tools_tmpdir(), what);
    if (tools_write_file(file, text, strlen(text)) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", what, file);
        return 0;
    }
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s'", file);
    char *out = NULL;
    int rc = tools_run(cmd, &out);
    if (rc != 0) {
        fprintf(stderr, "%s: promtool check metrics exited %d:\n%s\n", what, rc, out ? out : "");
        fprintf(stderr, "--- exposition (first 2000 bytes) ---\n%.2000s\n---\n", text);
    }
    free(out);
    return rc == 0;
}

static void test_corpus(void) {
    for (size_t i = 0; i < CORPUS_N; i++) {
        vt_registry_t *reg = NULL;
        CHECK_INT(corpus[i].build(&reg), 0);
        if (!reg)
            continue;
        char *text = tools_scrape(reg, VT_FORMAT_TEXT, 0);
        CHECK(text != NULL);
        if (text && !promtool_ok(corpus[i].name, text)) {
            fprintf(stderr, "registry \"%s\" fails promtool\n", corpus[i].name);
            CHECK(0);
        }
        free(text);
        vt_registry_destroy(reg);
    }
}

/* The checker itself works: a lint problem and a syntax error are caught. */
static void test_promtool_catches_problems(void) {
    char file[4400], cmd[9000];
    snprintf(file, sizeof file, "%s/bad.prom", tools_tmpdir());
    static const char lint[] = "# HELP c A counter.\n# TYPE c counter\nc 1\n";
    static const char syntax[] =
        "# HELP c_total A counter.\n# TYPE c_total counter\nc_total{a=\"1} 1\n";
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s'", file);
    CHECK(tools_write_file(file, lint, strlen(lint)) == 0);
    CHECK(tools_run(cmd, NULL) == 3);
    CHECK(tools_write_file(file, syntax, strlen(syntax)) == 0);
    CHECK(tools_run(cmd, NULL) == 1);
}

int main(void) {
    if (!tools_have("promtool"))
        SKIP_ALL("promtool not found (Debian package prometheus)");
    RUN(test_promtool_catches_problems);
    RUN(test_corpus);
    tools_cleanup();
    TEST_EXIT();
}
