/* test_textparse_files.c - Prometheus' own parser test files all parse.
 *
 * The files (prometheus-textparse/, from the Prometheus repository at v2.42.0
 * and a recent snapshot) are valid for Prometheus' scrape parser. Files named
 * *.om.txt are OpenMetrics; the rest are text 0.0.4. Lenient mode must accept
 * every one. Strict mode accepts those that follow the specifications and
 * rejects the rest for a known reason, pinned below with the line.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "parse/files.h"
#include "parse_helpers.h"

#define DIR VT_SHARED_TESTDATA_DIR "/prometheus-textparse"

/* What strict mode says of each file: NULL for success, else a piece of the
 * message. Files not listed must parse strictly. */
static const struct {
    const char *file;
    const char *strict_error;
} expectations[] = {
    /* No metadata: summaries' quantile, _sum and _count samples are separate
     * untyped families, and each label set repeats the family: not contiguous. */
    {"v2.42.0/promtestdata.nometa.txt",
     "line 37: family \"http_request_duration_microseconds\" is not contiguous"},
    {"head/alltypes.237mfs.nometa.prom.txt",
     "line 231: family \"prometheus_engine_query_duration_seconds\" is not contiguous"},
    /* A histogram with negative buckets must not have _sum in OpenMetrics,
     * which the reference parser (python prometheus_client) rejects too. */
    {"head/alltypes.5mfs.om.txt",
     "line 33: \"rpc_durations_histogram_seconds_sum\" must not be negative"},
};

static const char *expected_error(const char *file) {
    for (size_t i = 0; i < sizeof expectations / sizeof expectations[0]; i++) {
        if (strcmp(expectations[i].file, file) == 0) {
            return expectations[i].strict_error;
        }
    }
    return NULL;
}

static size_t n_files;

static void check_file(const char *sub, const char *name) {
    char rel[512], path[1024];
    snprintf(rel, sizeof rel, "%s/%s", sub, name);
    snprintf(path, sizeof path, "%s/%s", DIR, rel);
    size_t len = 0;
    char *buf = tf_read(path, &len);
    CHECK(buf != NULL);
    if (!buf) {
        return;
    }
    n_files++;
    vt_format_t f = strstr(name, ".om.") ? OM : TEXT;
    vt_doc_t *lenient = NULL, *strict = NULL;
    int rc = ph_parse_n(buf, len, f, LENIENT, &lenient);
    if (rc != 0) {
        fprintf(stderr, "%s (lenient): %s\n", rel, ph_err.message);
    }
    CHECK_INT(rc, 0);
    if (lenient) {
        CHECK(lenient->sample_count > 20);
        /* Every sample line is in the document. */
        size_t lines = 0;
        for (const char *p = buf; p < buf + len; p++) {
            const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
            const char *e = nl ? nl : buf + len;
            if (e > p && *p != '#') {
                lines++;
            }
            p = e;
        }
        CHECK_INT(lenient->sample_count, lines);
    }
    const char *want = expected_error(rel);
    rc = ph_parse_n(buf, len, f, STRICT, &strict);
    if (want) {
        CHECK_INT(rc, VT_EPARSE);
        CHECK_CONTAINS(ph_err.message, want);
        CHECK(ph_err.semantic);
    } else {
        if (rc != 0) {
            fprintf(stderr, "%s (strict): %s\n", rel, ph_err.message);
        }
        CHECK_INT(rc, 0);
        if (strict && lenient) {
            CHECK_INT(strict->sample_count, lenient->sample_count);
        }
    }
    vt_doc_free(lenient);
    vt_doc_free(strict);
    free(buf);
}

static void test_all_files(void) {
    static const char *const subs[] = {"v2.42.0", "head"};
    for (size_t s = 0; s < 2; s++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", DIR, subs[s]);
        size_t n = 0;
        char **names = tf_list(dir, &n);
        CHECK(names != NULL && n > 0);
        for (size_t i = 0; names && names[i]; i++) {
            check_file(subs[s], names[i]);
        }
        tf_free_list(names);
    }
    CHECK_INT(n_files, 7);
}

/* A few exact values from the files. */
static void test_known_values(void) {
    size_t len = 0;
    char *buf = tf_read(DIR "/v2.42.0/promtestdata.txt", &len);
    if (!buf) {
        CHECK(0);
        return;
    }
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse_n(buf, len, TEXT, STRICT, &d), 0);
    const vt_doc_sample_t *s =
        vt_doc_find_sample(d, "go_gc_duration_seconds", (const char *const[]){"quantile", NULL},
                           (const char *const[]){"0.25", NULL});
    CHECK(s && s->value == 7.424100000000001e-05);
    s = vt_doc_find_sample(d, "go_memstats_last_gc_time_seconds", NULL, NULL);
    CHECK(s && s->value == 1.4843955586166437e+09);
    const vt_doc_family_t *f = vt_doc_find_family(d, "go_gc_duration_seconds");
    CHECK(f && f->type == VT_DOC_SUMMARY && f->sample_count == 7);
    CHECK(f && strcmp(f->help, "A summary of the GC invocation durations.") == 0);
    vt_doc_free(d);
    free(buf);

    buf = tf_read(DIR "/head/alltypes.5mfs.om.txt", &len);
    if (!buf) {
        CHECK(0);
        return;
    }
    CHECK_INT(ph_parse_n(buf, len, OM, LENIENT, &d), 0);
    s = vt_doc_find_sample(d, "rpc_durations_histogram_seconds_bucket",
                           (const char *const[]){"le", NULL},
                           (const char *const[]){"-0.0002899999999999998", NULL});
    CHECK(s && s->value == 3 && s->exemplar);
    if (s && s->exemplar) {
        CHECK_STR(s->exemplar->labels[0].name, "dummyID");
        CHECK_STR(s->exemplar->labels[0].value, "17783");
        CHECK_DBL(s->exemplar->value, -0.0003825067330956884);
        CHECK_DBL(s->exemplar->timestamp, 1.7268398142239082e+09);
    }
    vt_doc_free(d);
    free(buf);
}

int main(void) {
    size_t n = 0;
    char **probe = tf_list(DIR, &n);
    if (!probe) {
        SKIP_ALL("Prometheus parser test files not found at " DIR);
    }
    tf_free_list(probe);
    RUN(test_all_files);
    RUN(test_known_values);
    TEST_EXIT();
}
