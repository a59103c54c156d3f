/* test_python_client.c - what the Python prometheus_client writes reads back exactly.
 *
 * The same registry written as text 0.0.4 and as OpenMetrics 1.0 by a mature
 * client (python-client/ in the shared test data): both parse strictly, the
 * escaped values come back unescaped, and every text sample has the same
 * value in the OpenMetrics document.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "parse/files.h"
#include "parse_helpers.h"

#define DIR VT_SHARED_TESTDATA_DIR "/python-client"

static vt_doc_t *text_doc, *om_doc;

static vt_doc_t *load(const char *path, vt_format_t f) {
    size_t len = 0;
    char *buf = tf_read(path, &len);
    if (!buf) {
        return NULL;
    }
    CHECK_INT(vt_parse_guess_format(buf, len, NULL), f);
    vt_doc_t *d = NULL;
    int rc = ph_parse_n(buf, len, f, STRICT, &d);
    if (rc) {
        fprintf(stderr, "%s: %s\n", path, ph_err.message);
    }
    CHECK_INT(rc, 0);
    free(buf);
    return d;
}

static const char *const path_names[] = {"code", "method", "path", NULL};
static const char *const path_values[] = {"500", "GET", "C:\\DIR\\FILE \"x\"\nnl", NULL};

static void test_text_values(void) {
    vt_doc_t *d = text_doc;
    CHECK_INT(d->family_count, 9);
    const vt_doc_family_t *f = vt_doc_find_family(d, "http_requests_total");
    CHECK(f && f->type == VT_DOC_COUNTER);
    if (f) {
        CHECK_STR(f->help, "Total HTTP requests.\nSecond line with \\ backslash \"quoted\"");
    }
    const vt_doc_sample_t *s =
        vt_doc_find_sample(d, "http_requests_total", path_names, path_values);
    CHECK(s && s->value == 1.0 && s->line == 4);
    if (s) {
        CHECK_STR(vt_doc_sample_label(s, "path"), "C:\\DIR\\FILE \"x\"\nnl");
    }
    s = vt_doc_find_sample(d, "http_requests_created", path_names, path_values);
    CHECK(s && s->value == 1.7000000005e+09);
    f = vt_doc_find_family(d, "http_request_duration_seconds");
    CHECK(f && f->type == VT_DOC_HISTOGRAM && f->sample_count == 7);
    s = vt_doc_find_sample(d, "http_request_duration_seconds_bucket",
                           (const char *const[]){"le", "method", NULL},
                           (const char *const[]){"+Inf", "GET", NULL});
    CHECK(s && s->value == 2.0 && s->exemplar == NULL);
    f = vt_doc_find_family(d, "build_info");
    CHECK(f && f->type == VT_DOC_GAUGE);
}

static void test_openmetrics_values(void) {
    vt_doc_t *d = om_doc;
    CHECK(d->has_eof);
    CHECK_INT(d->family_count, 6);
    const vt_doc_family_t *f = vt_doc_find_family(d, "http_requests");
    CHECK(f && f->type == VT_DOC_COUNTER && f->sample_count == 4);
    if (f) {
        CHECK_STR(f->help, "Total HTTP requests.\nSecond line with \\ backslash \"quoted\"");
    }
    const vt_doc_sample_t *s =
        vt_doc_find_sample(d, "http_requests_total", path_names, path_values);
    CHECK(s && s->value == 1.0);
    if (s) {
        const char *v = vt_doc_sample_label(s, "path");
        CHECK_STR(v, "C:\\DIR\\FILE \"x\"\nnl");
        CHECK_INT(strlen(v), 18);
    }
    s = vt_doc_find_sample(d, "http_request_duration_seconds_bucket",
                           (const char *const[]){"le", "method", NULL},
                           (const char *const[]){"2.0", "GET", NULL});
    CHECK(s && s->value == 2.0 && s->exemplar);
    if (s && s->exemplar) {
        CHECK_INT(s->exemplar->label_count, 1);
        CHECK_STR(s->exemplar->labels[0].name, "trace_id");
        CHECK_STR(s->exemplar->labels[0].value, "abc123");
        CHECK_DBL(s->exemplar->value, 1.0);
        CHECK(s->exemplar->has_timestamp);
        CHECK_DBL(s->exemplar->timestamp, 1700000000.5);
    }
    f = vt_doc_find_family(d, "build");
    CHECK(f && f->type == VT_DOC_INFO && f->sample_count == 1);
    if (f && f->sample_count) {
        CHECK_STR(f->samples[0].name, "build_info");
        CHECK_STR(vt_doc_sample_label(&f->samples[0], "version"), "1.2.3");
    }
    f = vt_doc_find_family(d, "worker_state");
    CHECK(f && f->type == VT_DOC_STATESET && f->sample_count == 2);
    f = vt_doc_find_family(d, "redis_call_duration_seconds");
    CHECK(f && f->type == VT_DOC_SUMMARY && f->sample_count == 3);
}

/* Every sample of the text document is in the OpenMetrics one, same value. */
static void test_formats_agree(void) {
    size_t n = 0;
    for (size_t i = 0; i < text_doc->family_count; i++) {
        const vt_doc_family_t *f = &text_doc->families[i];
        for (size_t k = 0; k < f->sample_count; k++) {
            const vt_doc_sample_t *s = &f->samples[k];
            const char *names[8], *values[8];
            CHECK(s->label_count < 8);
            for (size_t l = 0; l < s->label_count && l < 7; l++) {
                names[l] = s->labels[l].name;
                values[l] = s->labels[l].value;
            }
            names[s->label_count < 8 ? s->label_count : 7] = NULL;
            values[s->label_count < 8 ? s->label_count : 7] = NULL;
            const vt_doc_sample_t *o = vt_doc_find_sample(om_doc, s->name, names, values);
            if (!o) {
                fprintf(stderr, "line %u: %s not in the OpenMetrics document\n", s->line, s->name);
            }
            CHECK(o != NULL);
            if (o) {
                CHECK_DBL(o->value, s->value);
            }
            n++;
        }
    }
    CHECK_INT(n, 19);
    CHECK_INT(om_doc->sample_count, 19);
}

int main(void) {
    size_t n = 0;
    char **probe = tf_list(DIR, &n);
    if (!probe || n < 2) {
        tf_free_list(probe);
        SKIP_ALL("python-client golden files not found at " DIR);
    }
    tf_free_list(probe);
    text_doc = load(DIR "/golden_text_0.0.4.txt", TEXT);
    om_doc = load(DIR "/golden_openmetrics_1.0.0.txt", OM);
    if (!text_doc || !om_doc) {
        vt_doc_free(text_doc);
        vt_doc_free(om_doc);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_text_values);
    RUN(test_openmetrics_values);
    RUN(test_formats_agree);
    vt_doc_free(text_doc);
    vt_doc_free(om_doc);
    TEST_EXIT();
}
