/* test_syntax.c - lines, names, labels, escapes, UTF-8, metadata and error positions.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "parse_helpers.h"

static void test_text_document_shape(void) {
    const char *in = "# HELP http_requests_total The total.\\nSecond \\\\ line.\n"
                     "# TYPE http_requests_total counter\n"
                     "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
                     "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
                     "\n"
                     "# A comment line.\n"
                     "# TYPE rpc summary\n"
                     "rpc{quantile=\"0.5\"} 4773\n"
                     "rpc_sum 1.7560473e+07\n"
                     "rpc_count 2693\n"
                     "# TYPE h histogram\n"
                     "h_bucket{le=\"1\"} 1\n"
                     "h_bucket{le=\"+Inf\"} 2\n"
                     "h_sum 3\n"
                     "h_count 2\n"
                     "plain 5\n";
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse(in, TEXT, STRICT, &d), 0);
    if (!d) {
        fprintf(stderr, "%s\n", ph_err.message);
        return;
    }
    CHECK_INT(d->format, VT_FORMAT_TEXT);
    CHECK_INT(d->family_count, 4);
    CHECK_INT(d->sample_count, 10);
    const vt_doc_family_t *f = &d->families[0];
    CHECK_STR(f->name, "http_requests_total");
    CHECK_INT(f->type, VT_DOC_COUNTER);
    CHECK_STR(f->help, "The total.\nSecond \\ line.");
    CHECK_INT(f->help_len, strlen("The total.\nSecond \\ line."));
    CHECK_INT(f->help_line, 1);
    CHECK_INT(f->type_line, 2);
    CHECK_INT(f->line, 1);
    CHECK(f->unit == NULL);
    CHECK_INT(f->sample_count, 2);
    CHECK_INT(f->samples[1].line, 4);
    CHECK_DBL(f->samples[1].value, 3);
    CHECK_STR(vt_doc_sample_label(&f->samples[1], "code"), "400");
    CHECK_STR(d->families[1].name, "rpc");
    CHECK_INT(d->families[1].type, VT_DOC_SUMMARY);
    CHECK_INT(d->families[1].sample_count, 3);
    CHECK_STR(d->families[1].samples[2].name, "rpc_count");
    CHECK_INT(d->families[2].type, VT_DOC_HISTOGRAM);
    CHECK_INT(d->families[2].sample_count, 4);
    CHECK_STR(d->families[3].name, "plain");
    CHECK_INT(d->families[3].type, VT_DOC_UNKNOWN);
    CHECK(d->families[3].help == NULL);
    CHECK_INT(d->families[3].type_line, 0);
    vt_doc_free(d);
}

static void test_text_whitespace_and_trailing_comma(void) {
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse("  a  {  b = \"c\" ,\td=\"e\" , }  1.5 \t 123 \t\n", TEXT, STRICT, &d), 0);
    const vt_doc_sample_t *s = ph_only(d);
    CHECK(s != NULL);
    if (s) {
        CHECK_STR(s->name, "a");
        CHECK_INT(s->label_count, 2);
        CHECK_STR(vt_doc_sample_label(s, "b"), "c");
        CHECK_STR(vt_doc_sample_label(s, "d"), "e");
        CHECK_DBL(s->value, 1.5);
        CHECK_INT(s->timestamp_ms, 123);
    }
    vt_doc_free(d);
    /* No labels, empty braces. */
    CHECK_INT(ph_parse("a{} 1\n", TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) && ph_only(d)->label_count == 0 && ph_only(d)->labels == NULL);
    vt_doc_free(d);
    /* OpenMetrics allows none of that. */
    CHECK_INT(ph_rc("a{b=\"c\",} 1\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a  1\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a\t1\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a{b = \"c\"} 1\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc(" a 1\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a 1 \n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a{} 1\n# EOF\n", OM, STRICT), 0);
}

static void test_label_escapes(void) {
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse("a{p=\"C:\\\\DIR\\\\FILE \\\"x\\\"\\nnl\"} 1\n", TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) != NULL);
    if (ph_only(d)) {
        CHECK_STR(ph_only(d)->labels[0].value, "C:\\DIR\\FILE \"x\"\nnl");
        CHECK_INT(ph_only(d)->labels[0].value_len, 18);
    }
    vt_doc_free(d);
    /* Characters that end other tokens are plain inside a value. */
    CHECK_INT(ph_parse("a{p=\"} # {x=\\\"1\\\"},=\"} 1\n# EOF\n", OM, STRICT, &d), 0);
    CHECK(ph_only(d) && strcmp(ph_only(d)->labels[0].value, "} # {x=\"1\"},=") == 0);
    vt_doc_free(d);
    /* An unknown escape: strict text rejects it where it is ... */
    CHECK_INT(ph_rc("a{p=\"x\\ty\"} 1\n", TEXT, STRICT), VT_EPARSE);
    CHECK_INT(ph_err.line, 1);
    CHECK_INT(ph_err.column, 7);
    CHECK_CONTAINS(ph_err.message, "line 1, column 7: invalid escape sequence");
    /* ... lenient text and OpenMetrics keep the backslash. */
    CHECK_INT(ph_parse("a{p=\"x\\ty\"} 1\n", TEXT, LENIENT, &d), 0);
    CHECK(ph_only(d) && strcmp(ph_only(d)->labels[0].value, "x\\ty") == 0);
    vt_doc_free(d);
    CHECK_INT(ph_parse("a{p=\"x\\qy\\\\\"} 1\n# EOF\n", OM, STRICT, &d), 0);
    CHECK(ph_only(d) && strcmp(ph_only(d)->labels[0].value, "x\\qy\\") == 0);
    vt_doc_free(d);
    /* A backslash before the closing quote escapes it: the value is open. */
    CHECK_INT(ph_rc("a{p=\"x\\\"} 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "no closing quote");
}

static void test_help_escapes(void) {
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse("# HELP a x\\\\y\\nz \"q\"\na 1\n", TEXT, STRICT, &d), 0);
    CHECK(d && d->families[0].help && strcmp(d->families[0].help, "x\\y\nz \"q\"") == 0);
    vt_doc_free(d);
    /* \" is an escape in OpenMetrics HELP only. */
    CHECK_INT(ph_rc("# HELP a say \\\"hi\\\"\na 1\n", TEXT, STRICT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "line 1, column 14: invalid escape sequence");
    CHECK_INT(ph_parse("# HELP a say \\\"hi\\\"\na 1\n", TEXT, LENIENT, &d), 0);
    CHECK(d && strcmp(d->families[0].help, "say \\\"hi\\\"") == 0);
    vt_doc_free(d);
    CHECK_INT(ph_parse("# HELP a say \\\"hi\\\" \\f\\\n# EOF\n", OM, STRICT, &d), 0);
    CHECK(d && strcmp(d->families[0].help, "say \"hi\" \\f\\") == 0);
    vt_doc_free(d);
    /* Empty help. */
    CHECK_INT(ph_parse("# HELP a \n# EOF\n", OM, STRICT, &d), 0);
    CHECK(d && d->families[0].help && d->families[0].help_len == 0);
    vt_doc_free(d);
    CHECK_INT(ph_parse("# HELP a\na 1\n", TEXT, STRICT, &d), 0);
    CHECK(d && d->families[0].help && d->families[0].help_len == 0);
    vt_doc_free(d);
}

static void test_names(void) {
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse("_a:b_9{_x=\"1\",Y9=\"2\"} 1\n:c 2\n", TEXT, STRICT, &d), 0);
    CHECK(d && d->sample_count == 2);
    vt_doc_free(d);
    CHECK_INT(ph_rc("9a 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "line 1, column 1: expected a metric name, found '9'");
    CHECK_INT(ph_rc("a.b 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "column 2: invalid character '.' in metric name");
    CHECK_INT(ph_rc("a-b 1\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a{:x=\"1\"} 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "expected a label name");
    CHECK_INT(ph_rc("a{x:y=\"1\"} 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "invalid character ':' in label name");
    CHECK_INT(ph_rc("a{1x=\"1\"} 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a{x=1} 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "expected '\"' to open the value of label \"x\"");
    CHECK_INT(ph_rc("a{x=\"1\" y=\"2\"} 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "expected ',' or '}'");
}

static void test_duplicate_label_names(void) {
    CHECK_INT(ph_rc("a{x=\"1\",y=\"2\",x=\"3\"} 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "duplicate label name \"x\"");
    CHECK_INT(ph_rc("a_total 1 # {t=\"1\",t=\"2\"} 1\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "duplicate label name \"t\" in exemplar labels");
    /* Many labels take the sorting path. */
    size_t n = 400;
    char *buf = malloc(n * 16 + 64);
    size_t k = (size_t)sprintf(buf, "a{");
    for (size_t i = 0; i < n; i++) {
        k += (size_t)sprintf(buf + k, "%sl%zu=\"v\"", i ? "," : "", i);
    }
    sprintf(buf + k, "} 1\n");
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse(buf, TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) && ph_only(d)->label_count == n);
    vt_doc_free(d);
    sprintf(buf + k, ",l7=\"w\"} 1\n");
    CHECK_INT(ph_rc(buf, TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "duplicate label name \"l7\"");
    free(buf);
}

static void test_utf8(void) {
    vt_doc_t *d = NULL;
    CHECK_INT(
        ph_parse("a{v=\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} 1\n# EOF\n", OM, STRICT, &d), 0);
    CHECK(ph_only(d) &&
          strcmp(ph_only(d)->labels[0].value, "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == 0);
    vt_doc_free(d);
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "\xc0\x80",         /* overlong NUL */
        "\xe0\x80\x80",     /* overlong */
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x82",         /* cut short */
        "\x80",             /* lone continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char in[64];
        snprintf(in, sizeof in, "a{v=\"ok%s\"} 1\n", bad[i]);
        for (int m = 0; m < 2; m++) {
            CHECK_INT(ph_rc(in, TEXT, m ? LENIENT : STRICT), VT_EUTF8);
            CHECK_INT(ph_err.code, VT_EUTF8);
            CHECK_INT(ph_err.column, 8);
            CHECK_CONTAINS(ph_err.message, "line 1, column 8: label value is not valid UTF-8");
        }
    }
    CHECK_INT(ph_rc("# HELP a caf\xe9\na 1\n", TEXT, STRICT), VT_EUTF8);
    CHECK_CONTAINS(ph_err.message, "HELP text is not valid UTF-8");
    /* Comments are checked in strict text only. */
    CHECK_INT(ph_rc("# caf\xe9\na 1\n", TEXT, STRICT), VT_EUTF8);
    CHECK_INT(ph_rc("# caf\xe9\na 1\n", TEXT, LENIENT), 0);
}

static void test_nul_bytes(void) {
    /* OpenMetrics strings may hold NUL. */
    static const char in[] = "a{v=\"x\0y\"} 1\n# EOF\n";
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse_n(in, sizeof in - 1, OM, STRICT, &d), 0);
    const vt_doc_sample_t *s = ph_only(d);
    CHECK(s && s->labels[0].value_len == 3 && memcmp(s->labels[0].value, "x\0y", 4) == 0);
    vt_doc_free(d);
    /* Anywhere else it is an error, not an end of input. */
    static const char in2[] = "a\0 1\n";
    CHECK_INT(ph_parse_n(in2, sizeof in2 - 1, TEXT, LENIENT, &d), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "line 1, column 2: invalid character 0x00 in metric name");
    static const char in3[] = "a 1\0\n";
    CHECK_INT(ph_parse_n(in3, sizeof in3 - 1, TEXT, LENIENT, &d), VT_EPARSE);
    static const char in4[] = "a 1\n\0";
    CHECK_INT(ph_parse_n(in4, sizeof in4 - 1, TEXT, LENIENT, &d), VT_EPARSE);
    CHECK_INT(ph_err.line, 2);
}

static void test_line_ends(void) {
    vt_doc_t *d = NULL;
    /* The last line must end in \n in strict text. */
    CHECK_INT(ph_rc("a 1\nb 2", TEXT, STRICT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "line 2, column 4: the last line does not end with a newline");
    CHECK_INT(ph_parse("a 1\nb 2", TEXT, LENIENT, &d), 0);
    CHECK(d && d->sample_count == 2);
    vt_doc_free(d);
    /* CR LF: lenient text only. */
    CHECK_INT(ph_rc("a 1\r\n", TEXT, STRICT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "carriage return");
    CHECK_INT(ph_parse("# TYPE a gauge\r\na{x=\"y\"} 1\r\n", TEXT, LENIENT, &d), 0);
    CHECK(d && d->families[0].type == VT_DOC_GAUGE && d->sample_count == 1);
    vt_doc_free(d);
    CHECK_INT(ph_rc("a 1\r\n# EOF\n", OM, LENIENT), VT_EPARSE);
    /* Empty input and blank lines. */
    CHECK_INT(ph_parse("", TEXT, STRICT, &d), 0);
    CHECK(d && d->family_count == 0 && d->sample_count == 0);
    vt_doc_free(d);
    CHECK_INT(ph_parse("\n\n  \n", TEXT, STRICT, &d), 0);
    vt_doc_free(d);
    CHECK_INT(ph_rc("a 1\n\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "line 2, column 1: empty line");
}

static void test_openmetrics_eof(void) {
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse("a 1\n# EOF\n", OM, STRICT, &d), 0);
    CHECK(d && d->has_eof);
    vt_doc_free(d);
    CHECK_INT(ph_parse("a 1\n# EOF", OM, STRICT, &d), 0);
    vt_doc_free(d);
    CHECK_INT(ph_rc("a 1\n", OM, STRICT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "does not end with \"# EOF\"");
    CHECK_INT(ph_rc("", OM, STRICT), VT_EPARSE);
    CHECK_INT(ph_parse("a 1\n", OM, LENIENT, &d), 0);
    CHECK(d && !d->has_eof && d->sample_count == 1);
    vt_doc_free(d);
    CHECK_INT(ph_parse("a 1\nb 2", OM, LENIENT, &d), 0);
    CHECK(d && !d->has_eof && d->sample_count == 2);
    vt_doc_free(d);
    CHECK_INT(ph_rc("a 1\nb 2", OM, STRICT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "line 2, column 4: the last line does not end with a newline");
    CHECK_INT(ph_rc("a 1\n# EOF\n\n", OM, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "line 3, column 1: text after \"# EOF\"");
    CHECK_INT(ph_rc("a 1\n# EOF \n", OM, LENIENT), VT_EPARSE);
    /* In text 0.0.4, "# EOF" is a comment. */
    CHECK_INT(ph_parse("a 1\n# EOF\nb 2\n", TEXT, STRICT, &d), 0);
    CHECK(d && d->sample_count == 2);
    vt_doc_free(d);
}

static void test_metadata_lines(void) {
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse("#HELP a x\n#\tTYPE a gauge\na 1\n", TEXT, STRICT, &d), 0);
    CHECK(d && d->family_count == 1 && d->families[0].type == VT_DOC_GAUGE);
    vt_doc_free(d);
    CHECK_INT(ph_rc("# TYPE a info\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "unknown metric type \"info\"");
    CHECK_INT(ph_rc("# TYPE a\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("# TYPE a gauge extra\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("# HELP\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("# TYPE 1a gauge\n", TEXT, LENIENT), VT_EPARSE);
    /* untyped is text 0.0.4's word; unknown is OpenMetrics'. */
    CHECK_INT(ph_parse("# TYPE a untyped\na 1\n", TEXT, STRICT, &d), 0);
    CHECK(d && d->families[0].type == VT_DOC_UNKNOWN && d->families[0].type_line == 1);
    vt_doc_free(d);
    CHECK_INT(ph_rc("# TYPE a unknown\na 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("# TYPE a untyped\na 1\n# EOF\n", OM, STRICT), VT_EPARSE);
    CHECK_INT(ph_parse("# TYPE a untyped\na 1\n# EOF\n", OM, LENIENT, &d), 0);
    CHECK(d && d->families[0].type == VT_DOC_UNKNOWN);
    vt_doc_free(d);
    /* OpenMetrics: every type, units, and suffixed sample names. */
    const char *om = "# TYPE c counter\n# UNIT c_seconds seconds\n"
                     "# TYPE s_seconds counter\n# UNIT s_seconds seconds\n# HELP s_seconds h\n"
                     "s_seconds_total 1\ns_seconds_created 2\n"
                     "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum 1\n"
                     "# TYPE i info\ni_info{v=\"1\"} 1\n"
                     "# TYPE st stateset\nst{st=\"a\"} 1\n"
                     "# TYPE u unknown\nu 1\n"
                     "# EOF\n";
    CHECK_INT(ph_parse(om, OM, LENIENT, &d), 0);
    if (d) {
        CHECK_INT(d->family_count, 7);
        CHECK_STR(d->families[0].name, "c");
        CHECK(d->families[0].unit == NULL);
        CHECK_STR(d->families[1].name, "c_seconds");
        CHECK_STR(d->families[1].unit, "seconds");
        CHECK_INT(d->families[1].unit_line, 2);
        CHECK_STR(d->families[2].name, "s_seconds");
        CHECK_INT(d->families[2].type, VT_DOC_COUNTER);
        CHECK_INT(d->families[2].sample_count, 2);
        CHECK_STR(d->families[2].samples[0].name, "s_seconds_total");
        CHECK_INT(d->families[3].type, VT_DOC_GAUGEHISTOGRAM);
        CHECK_INT(d->families[3].sample_count, 3);
        CHECK_INT(d->families[4].type, VT_DOC_INFO);
        CHECK_INT(d->families[5].type, VT_DOC_STATESET);
        CHECK_INT(d->families[6].type, VT_DOC_UNKNOWN);
        CHECK_STR(vt_doc_type_name(d->families[3].type), "gaugehistogram");
    }
    vt_doc_free(d);
    CHECK_INT(ph_rc("# UNIT a_x x-y\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("# COMMENT a x\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("# TYPE a Counter\n# EOF\n", OM, LENIENT), VT_EPARSE);
}

static void test_exemplars(void) {
    vt_doc_t *d = NULL;
    const char *in = "# TYPE a counter\n"
                     "a_total{x=\"1\"} 3 1.5 # {trace_id=\"abc\",span=\"d\"} 0.67 1520879607.789\n"
                     "a_total{x=\"2\"} 3 # {} 1\n"
                     "# EOF\n";
    CHECK_INT(ph_parse(in, OM, STRICT, &d), 0);
    if (d && d->sample_count == 2) {
        const vt_doc_sample_t *s = &d->families[0].samples[0];
        CHECK(s->has_timestamp);
        CHECK(s->exemplar != NULL);
        if (s->exemplar) {
            CHECK_INT(s->exemplar->label_count, 2);
            CHECK_STR(s->exemplar->labels[0].name, "trace_id");
            CHECK_STR(s->exemplar->labels[0].value, "abc");
            CHECK_DBL(s->exemplar->value, 0.67);
            CHECK(s->exemplar->has_timestamp);
            CHECK_DBL(s->exemplar->timestamp, 1520879607.789);
        }
        s = &d->families[0].samples[1];
        CHECK(s->exemplar && s->exemplar->label_count == 0 && !s->exemplar->has_timestamp);
    }
    vt_doc_free(d);
    /* Malformed exemplars. */
    CHECK_INT(ph_rc("a_total 1 # {x=\"1\"}\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a_total 1 # x\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a_total 1 #{} 1\n# EOF\n", OM, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a_total 1 # {} 1 2 3\n# EOF\n", OM, LENIENT), VT_EPARSE);
    /* Text 0.0.4 has no exemplars. */
    CHECK_INT(ph_rc("a_total 1 # {} 1\n", TEXT, LENIENT), VT_EPARSE);
}

static void test_error_positions(void) {
    CHECK_INT(ph_rc("a 1\nb{c=\"d\" 2\n", TEXT, STRICT), VT_EPARSE);
    CHECK_INT(ph_err.code, VT_EPARSE);
    CHECK_INT(ph_err.line, 2);
    CHECK_INT(ph_err.column, 9);
    CHECK_INT(ph_err.semantic, 0);
    CHECK_STR(ph_err.message,
              "line 2, column 9: expected ',' or '}' after a label value, found '2'");
    CHECK_INT(ph_rc("a 1\n# EOF\nb{c=\"d\" 2\n# EOF\n", OM, STRICT), VT_EPARSE);
    CHECK_STR(ph_err.message, "line 3, column 1: text after \"# EOF\"");
    CHECK_INT(ph_rc("a 1\nb{c=\"d\" 2\n# EOF\n", OM, STRICT), VT_EPARSE);
    CHECK_STR(ph_err.message,
              "line 2, column 8: expected ',' or '}' after a label value, found space");
    CHECK_INT(ph_rc("a 1\n\n\nb x\n", TEXT, STRICT), VT_EPARSE);
    CHECK_STR(ph_err.message, "line 4, column 3: invalid value \"x\"");
    /* A broken rule of the format is reported as semantic, with its line. */
    CHECK_INT(ph_rc("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n", TEXT, STRICT),
              VT_EPARSE);
    CHECK_INT(ph_err.semantic, 1);
    CHECK_INT(ph_err.line, 3);
    CHECK_INT(ph_err.column, 0);
    CHECK_CONTAINS(ph_err.message, "line 3: histogram \"h\" has no +Inf bucket");
}

static void test_hostile_input(void) {
    /* A 4 MiB label value and a 1 MiB metric name. */
    size_t big = (size_t)4 << 20;
    char *buf = malloc(big + 64);
    memcpy(buf, "a{v=\"", 5);
    memset(buf + 5, 'x', big);
    memcpy(buf + 5 + big, "\"} 1\n", 6);
    vt_doc_t *d = NULL;
    CHECK_INT(ph_parse(buf, TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) && ph_only(d)->labels[0].value_len == big);
    vt_doc_free(d);
    /* The same without the closing quote. */
    buf[5 + big] = '\0';
    CHECK_INT(ph_rc(buf, TEXT, LENIENT), VT_EPARSE);
    CHECK_CONTAINS(ph_err.message, "no closing quote");
    memset(buf, 'n', (size_t)1 << 20);
    memcpy(buf + ((size_t)1 << 20), " 2\n", 4);
    CHECK_INT(ph_parse(buf, TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) && strlen(ph_only(d)->name) == ((size_t)1 << 20));
    vt_doc_free(d);
    /* A value of a million digits. */
    buf[0] = 'v';
    buf[1] = ' ';
    memset(buf + 2, '7', (size_t)1 << 20);
    memcpy(buf + 2 + ((size_t)1 << 20), "\n", 2);
    CHECK_INT(ph_rc(buf, TEXT, STRICT), VT_EPARSE); /* overflows a double */
    memcpy(buf + 2, "0.", 2);
    CHECK_INT(ph_parse(buf, TEXT, STRICT, &d), 0);
    CHECK(ph_only(d) && ph_only(d)->value > 0.77 && ph_only(d)->value < 0.78);
    vt_doc_free(d);
    free(buf);
    /* Truncated at every byte: errors or documents, never crashes. */
    const char *full =
        "# HELP a x\n# TYPE a counter\na_total{b=\"c\\\"\"} 1 2 # {t=\"1\"} 3 4\n# EOF\n";
    for (size_t n = 0; n <= strlen(full); n++) {
        for (int f = 0; f < 2; f++) {
            int rc = ph_parse_n(full, n, f ? OM : TEXT, LENIENT, &d);
            CHECK(rc == 0 || (rc == VT_EPARSE && strncmp(ph_err.message, "line ", 5) == 0));
            vt_doc_free(d);
        }
    }
    /* Brace soup. */
    CHECK_INT(ph_rc("a{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{ 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("}}}} 1\n", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a{b=\"", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a{b", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a{", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("a", TEXT, LENIENT), VT_EPARSE);
    CHECK_INT(ph_rc("#", TEXT, LENIENT), 0);
}

static void test_bad_arguments(void) {
    vt_doc_t *d = (vt_doc_t *)&d;
    vt_parse_error_t e;
    CHECK_INT(vt_parse(NULL, 1, NULL, &d, &e), VT_EINVAL);
    CHECK(d == NULL);
    CHECK_INT(e.code, VT_EINVAL);
    CHECK_INT(vt_parse("a 1\n", 4, NULL, NULL, &e), VT_EINVAL);
    vt_parse_opts_t o = {(vt_format_t)7, STRICT};
    CHECK_INT(vt_parse("a 1\n", 4, &o, &d, NULL), VT_EINVAL);
    vt_parse_opts_t o2 = {TEXT, (vt_parse_mode_t)9};
    CHECK_INT(vt_parse("a 1\n", 4, &o2, &d, NULL), VT_EINVAL);
    /* NULL options mean text 0.0.4, strict; NULL error is fine. */
    CHECK_INT(vt_parse("a 1\n", 4, NULL, &d, NULL), 0);
    vt_doc_free(d);
    CHECK_INT(vt_parse("a 1", 3, NULL, &d, NULL), VT_EPARSE);
    CHECK_INT(vt_parse(NULL, 0, NULL, &d, NULL), 0);
    vt_doc_free(d);
    vt_doc_free(NULL);
}

static void test_find_sample(void) {
    vt_doc_t *d = NULL;
    const char *in = "# TYPE r counter\n"
                     "r_total{m=\"GET\",c=\"200\"} 5\n"
                     "r_created{m=\"GET\",c=\"200\"} 100\n"
                     "r_total{m=\"GET\",c=\"500\"} 1\n"
                     "r_total 9\n"
                     "# EOF\n";
    CHECK_INT(ph_parse(in, OM, STRICT, &d), 0);
    if (!d) {
        return;
    }
    const vt_doc_sample_t *s =
        vt_doc_find_sample(d, "r_total", (const char *const[]){"c", "m", NULL},
                           (const char *const[]){"500", "GET", NULL});
    CHECK(s && s->value == 1 && s->line == 4);
    s = vt_doc_find_sample(d, "r_total", NULL, NULL);
    CHECK(s && s->value == 9);
    s = vt_doc_find_sample(d, "r_total", (const char *const[]){"m", NULL},
                           (const char *const[]){"GET", NULL});
    CHECK(s == NULL);
    s = vt_doc_find_sample(d, "r_created", (const char *const[]){"m", "c", NULL},
                           (const char *const[]){"GET", "200", NULL});
    CHECK(s && s->value == 100);
    CHECK(vt_doc_find_sample(d, "r", NULL, NULL) == NULL);
    CHECK(vt_doc_find_sample(d, "r_total", (const char *const[]){"m", NULL}, NULL) == NULL);
    CHECK(vt_doc_find_family(d, "r") == &d->families[0]);
    CHECK(vt_doc_find_family(d, "r_total") == NULL);
    CHECK(vt_doc_sample_label(&d->families[0].samples[0], "zz") == NULL);
    vt_doc_free(d);
}

int main(void) {
    RUN(test_text_document_shape);
    RUN(test_text_whitespace_and_trailing_comma);
    RUN(test_label_escapes);
    RUN(test_help_escapes);
    RUN(test_names);
    RUN(test_duplicate_label_names);
    RUN(test_utf8);
    RUN(test_nul_bytes);
    RUN(test_line_ends);
    RUN(test_openmetrics_eof);
    RUN(test_metadata_lines);
    RUN(test_exemplars);
    RUN(test_error_positions);
    RUN(test_hostile_input);
    RUN(test_bad_arguments);
    RUN(test_find_sample);
    TEST_EXIT();
}
