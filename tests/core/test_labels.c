/* test_labels.c - binding label values to series: identity, counts, UTF-8,
 * escaping, const labels.
 *
 * The lock-free lookup compares a series' escaped label text with the raw
 * values asked for, so values full of quotes, backslashes, newlines and the
 * exposition's own separators must bind once and be found again.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

static void test_same_values_same_handle(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "req", "h", VT_LABELS("method", "code"), &c), 0);
    vt_counter_series_t *a, *a2, *b, *d;
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "200"), &a), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "200"), &a2), 0);
    CHECK(a == a2);
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "500"), &b), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("200", "GET"), &d), 0);
    CHECK(a != b && a != d && b != d);
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), 3);
    vt_counter_inc(a);
    vt_counter_inc(a2);
    vt_counter_add_u64(b, 7);
    CHECK_DBL(sample(reg, "req_total", VT_LABELS("method", "code"), VT_VALUES("GET", "200")), 2);
    CHECK_DBL(sample(reg, "req_total", VT_LABELS("code", "method"), VT_VALUES("500", "GET")), 7);
    CHECK_DBL(sample(reg, "req_total", VT_LABELS("method", "code"), VT_VALUES("200", "GET")), 0);

    /* Values that concatenate alike are different sets. */
    vt_counter_series_t *x, *y;
    CHECK_INT(vt_counter_with(c, VT_VALUES("ab", "c"), &x), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("a", "bc"), &y), 0);
    CHECK(x != y);

    /* Many sets: each found again as itself. */
    vt_counter_series_t *hs[500];
    for (int i = 0; i < 500; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        CHECK_INT(vt_counter_with(c, VT_VALUES("PUT", v), &hs[i]), 0);
    }
    for (int i = 0; i < 500; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        vt_counter_series_t *again;
        CHECK_INT(vt_counter_with(c, VT_VALUES("PUT", v), &again), 0);
        CHECK(again == hs[i]);
        vt_counter_add_u64(again, (uint64_t)i);
    }
    CHECK_DBL(sample(reg, "req_total", VT_LABELS("method", "code"), VT_VALUES("PUT", "499")), 499);
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), 505);
    vt_registry_destroy(reg);
}

static void test_label_count(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "req", "h", VT_LABELS("method", "code"), &c), 0);
    vt_counter_series_t *keep = (vt_counter_series_t *)&keep;
    vt_counter_series_t *s = keep;
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET"), &s), VT_ELABELCOUNT);
    CHECK(s == keep); /* left as it was */
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "200", "x"), &s), VT_ELABELCOUNT);
    CHECK_INT(vt_counter_with(c, NULL, &s), VT_ELABELCOUNT);
    const char *const empty[] = {NULL};
    CHECK_INT(vt_counter_with(c, empty, &s), VT_ELABELCOUNT);
    CHECK(s == keep);
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), 0);

    /* A family without labels: NULL or an empty list; any value is too many. */
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "up", "h", NULL, &g), 0);
    vt_gauge_series_t *g1, *g2, *g3 = NULL;
    CHECK_INT(vt_gauge_with(g, NULL, &g1), 0);
    CHECK_INT(vt_gauge_with(g, empty, &g2), 0);
    CHECK(g1 == g2);
    CHECK_INT(vt_gauge_with(g, VT_VALUES("x"), &g3), VT_ELABELCOUNT);
    CHECK(g3 == NULL);
    vt_gauge_set(g1, 1);
    CHECK_DBL(sample(reg, "up", NULL, NULL), 1);

    /* Each type checks the count. */
    vt_histogram_t *h;
    vt_summary_t *sm;
    CHECK_INT(vt_histogram_create(reg, "h", "h", VT_LABELS("a"), NULL, 0, &h), 0);
    CHECK_INT(vt_summary_create(reg, "s", "h", VT_LABELS("a"), &sm), 0);
    vt_histogram_series_t *hs = NULL;
    vt_summary_series_t *ss = NULL;
    CHECK_INT(vt_histogram_with(h, NULL, &hs), VT_ELABELCOUNT);
    CHECK_INT(vt_summary_with(sm, VT_VALUES("1", "2"), &ss), VT_ELABELCOUNT);
    CHECK(hs == NULL && ss == NULL);

    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "req_total{");
    CHECK_NOT_CONTAINS(text, "h_bucket");
    free(text);
    vt_registry_destroy(reg);
}

static void test_utf8(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "u", "h", VT_LABELS("v"), &c), 0);
    static const char *const bad[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xf0\x80\x80\xaf", /* overlong, 4 bytes */
        "\xc1\xbf",         /* overlong */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "ok\xe2\x82",       /* truncated euro sign */
        "\xe2",             /* truncated at the end */
        "\xf0\x9f\x98",     /* truncated emoji */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* lead byte past U+10FFFF */
        "\xff",             /* never in UTF-8 */
        "\xfe",             /* never in UTF-8 */
        "\x80",             /* lone continuation */
        "a\xbf"
        "b",                    /* lone continuation inside */
        "\xe2\x28\xa1",         /* bad second byte */
        "\xc3\x28",             /* bad continuation */
        "\xf8\x88\x80\x80\x80", /* 5-byte form */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vt_counter_series_t *s = NULL;
        int rc = vt_counter_with(c, VT_VALUES(bad[i]), &s);
        if (rc != VT_EUTF8)
            fprintf(stderr, "bad UTF-8 case %zu accepted\n", i);
        CHECK_INT(rc, VT_EUTF8);
        CHECK(s == NULL);
    }
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), 0);
    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "u_total{");
    free(text);

    static const char *const good[] = {
        "",
        "caf\xc3\xa9",                          /* é */
        "\xe2\x82\xac",                         /* € */
        "\xf0\x9f\x98\x80",                     /* U+1F600 */
        "\xf4\x8f\xbf\xbf",                     /* U+10FFFF */
        "\xed\x9f\xbf",                         /* U+D7FF, just below the surrogates */
        "\xee\x80\x80",                         /* U+E000, just above */
        "\xc2\x80",                             /* U+0080 */
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", /* 日本語 */
        "\x01\x7f",                             /* control characters are valid UTF-8 */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        vt_counter_series_t *s = NULL, *again = NULL;
        int rc = vt_counter_with(c, VT_VALUES(good[i]), &s);
        if (rc != 0)
            fprintf(stderr, "good UTF-8 case %zu refused\n", i);
        CHECK_INT(rc, 0);
        CHECK_INT(vt_counter_with(c, VT_VALUES(good[i]), &again), 0);
        CHECK(s != NULL && s == again);
        if (s)
            vt_counter_add_u64(s, i + 1);
        CHECK_DBL(sample(reg, "u_total", VT_LABELS("v"), VT_VALUES(good[i])), (double)(i + 1));
    }
    text = scrape(reg);
    CHECK_LINE(text, "u_total{v=\"\"} 1");
    CHECK_LINE(text, "u_total{v=\"caf\xc3\xa9\"} 2");
    CHECK_LINE(text, "u_total{v=\"\xf0\x9f\x98\x80\"} 4");
    free(text);

    /* Const label values are checked at creation. */
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "cu";
    o.const_labels = VT_LABELS("env", "\xed\xa0\x80");
    vt_counter_t *cc = NULL;
    CHECK_INT(vt_counter_create_opts(reg, &o, &cc), VT_EUTF8);
    CHECK(cc == NULL);
    vt_registry_destroy(reg);
}

static void test_escaping(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "esc", "h", VT_LABELS("a", "b"), &c), 0);
    static const char *const vals[][2] = {
        {"say \"hi\"", "x"}, {"back\\slash", "x"},
        {"new\nline", "x"},  {"}", "{"},
        {",", "="},          {"a=\"b\",c=\"d", "x"},
        {"\\", "\""},        {"\\n", "x"}, /* backslash then n: not a newline */
        {"\\\"", "x"},       {"", ""},
        {"x", ""},           {"", "x"},
        {"trailing\\", "x"}, {"a\",b=\"c", "x"}, /* would forge a second label if unescaped */
    };
    size_t n = sizeof vals / sizeof vals[0];
    vt_counter_series_t *hs[16];
    for (size_t i = 0; i < n; i++) {
        CHECK_INT(vt_counter_with(c, VT_VALUES(vals[i][0], vals[i][1]), &hs[i]), 0);
        vt_counter_add_u64(hs[i], i + 1);
    }
    for (size_t i = 0; i < n; i++) {
        vt_counter_series_t *again = NULL;
        CHECK_INT(vt_counter_with(c, VT_VALUES(vals[i][0], vals[i][1]), &again), 0);
        if (again != hs[i])
            fprintf(stderr, "escaping case %zu not found again\n", i);
        CHECK(again == hs[i]);
        for (size_t j = 0; j < i; j++)
            CHECK(hs[j] != hs[i]);
        CHECK_DBL(sample(reg, "esc_total", VT_LABELS("a", "b"), VT_VALUES(vals[i][0], vals[i][1])),
                  (double)(i + 1));
    }
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), n);
    char *text = scrape(reg);
    CHECK_LINE(text, "esc_total{a=\"say \\\"hi\\\"\",b=\"x\"} 1");
    CHECK_LINE(text, "esc_total{a=\"back\\\\slash\",b=\"x\"} 2");
    CHECK_LINE(text, "esc_total{a=\"new\\nline\",b=\"x\"} 3");
    CHECK_LINE(text, "esc_total{a=\"}\",b=\"{\"} 4");
    CHECK_LINE(text, "esc_total{a=\",\",b=\"=\"} 5");
    CHECK_LINE(text, "esc_total{a=\"\\\\\",b=\"\\\"\"} 7");
    CHECK_LINE(text, "esc_total{a=\"\\\\n\",b=\"x\"} 8");
    CHECK_LINE(text, "esc_total{a=\"a\\\",b=\\\"c\",b=\"x\"} 14");
    free(text);
    /* Removal finds them by the same raw values. */
    CHECK_INT(vt_family_remove(vt_counter_family(c), VT_VALUES("new\nline", "x")), 0);
    CHECK_INT(vt_family_remove(vt_counter_family(c), VT_VALUES("new\\nline", "x")), VT_ENOTFOUND);
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), n - 1);
    vt_registry_destroy(reg);
}

static void test_const_labels(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "hits";
    o.help = "h";
    o.label_names = VT_LABELS("path");
    o.const_labels = VT_LABELS("svc", "web \"1\"", "zone", "eu");
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_counter_series_t *a, *b, *a2;
    CHECK_INT(vt_counter_with(c, VT_VALUES("/a"), &a), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("/b"), &b), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("/a"), &a2), 0);
    CHECK(a == a2 && a != b);
    vt_counter_inc(a);
    char *text = scrape(reg);
    CHECK_LINE(text, "hits_total{svc=\"web \\\"1\\\"\",zone=\"eu\",path=\"/a\"} 1");
    CHECK_LINE(text, "hits_total{svc=\"web \\\"1\\\"\",zone=\"eu\",path=\"/b\"} 0");
    free(text);
    const char *const ln[] = {"zone", "path", "svc", NULL};
    const char *const lv[] = {"eu", "/a", "web \"1\"", NULL};
    CHECK_DBL(sample(reg, "hits_total", ln, lv), 1);
    CHECK(isnan(sample(reg, "hits_total", VT_LABELS("path"), VT_VALUES("/a"))));
    /* Removal takes variable values only. */
    CHECK_INT(vt_family_remove(vt_counter_family(c), VT_VALUES("/b")), 0);

    /* Only const labels. */
    vt_metric_opts_init(&o);
    o.name = "ver";
    o.const_labels = VT_LABELS("v", "1");
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create_opts(reg, &o, &g), 0);
    vt_gauge_series_t *gs;
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
    vt_gauge_set(gs, 3);
    text = scrape(reg);
    CHECK_LINE(text, "ver{v=\"1\"} 3");
    free(text);
    CHECK_DBL(sample(reg, "ver", VT_LABELS("v"), VT_VALUES("1")), 3);

    /* Clashes and bad const labels create nothing. */
    vt_metric_opts_init(&o);
    o.name = "clash";
    o.label_names = VT_LABELS("env");
    o.const_labels = VT_LABELS("env", "prod");
    vt_counter_t *x = NULL;
    CHECK_INT(vt_counter_create_opts(reg, &o, &x), VT_EDUPLABEL);
    o.label_names = NULL;
    o.const_labels = VT_LABELS("env", "a", "env", "b");
    CHECK_INT(vt_counter_create_opts(reg, &o, &x), VT_EDUPLABEL);
    o.const_labels = VT_LABELS("env"); /* a name without value */
    CHECK_INT(vt_counter_create_opts(reg, &o, &x), VT_EINVAL);
    o.const_labels = VT_LABELS("1env", "a");
    CHECK_INT(vt_counter_create_opts(reg, &o, &x), VT_ELABELNAME);
    o.const_labels = VT_LABELS("__env", "a");
    CHECK_INT(vt_counter_create_opts(reg, &o, &x), VT_ERESERVED);
    vt_histogram_t *hx = NULL;
    o.const_labels = VT_LABELS("le", "1");
    CHECK_INT(vt_histogram_create_opts(reg, &o, &hx), VT_ERESERVED);
    CHECK(x == NULL && hx == NULL);
    text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "clash");
    free(text);

    /* The caller's strings are copied. */
    char name[] = "copied", lname[] = "k", cname[] = "c", cval[] = "cv", lval[] = "v";
    const char *lnames[] = {lname, NULL};
    const char *consts[] = {cname, cval, NULL};
    vt_metric_opts_init(&o);
    o.name = name;
    o.label_names = lnames;
    o.const_labels = consts;
    vt_gauge_t *cg;
    CHECK_INT(vt_gauge_create_opts(reg, &o, &cg), 0);
    name[0] = lname[0] = cname[0] = cval[0] = 'Z';
    const char *vals[] = {lval, NULL};
    vt_gauge_series_t *cgs;
    CHECK_INT(vt_gauge_with(cg, vals, &cgs), 0);
    lval[0] = 'Z';
    text = scrape(reg);
    CHECK_LINE(text, "copied{c=\"cv\",k=\"v\"} 0");
    free(text);
    vt_registry_destroy(reg);
}

static void test_long_values(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "long", "h", VT_LABELS("v"), &c), 0);
    size_t n = 100000;
    char *v = malloc(n + 1);
    CHECK(v != NULL);
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = (char)('a' + i % 26);
    v[n] = '\0';
    vt_counter_series_t *a, *b;
    CHECK_INT(vt_counter_with(c, VT_VALUES(v), &a), 0);
    v[n - 1] = '"';
    CHECK_INT(vt_counter_with(c, VT_VALUES(v), &b), 0);
    CHECK(a != b);
    vt_counter_series_t *b2;
    CHECK_INT(vt_counter_with(c, VT_VALUES(v), &b2), 0);
    CHECK(b == b2);
    vt_counter_inc(b);
    CHECK_DBL(sample(reg, "long_total", VT_LABELS("v"), VT_VALUES(v)), 1);
    free(v);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_same_values_same_handle);
    RUN(test_label_count);
    RUN(test_utf8);
    RUN(test_escaping);
    RUN(test_const_labels);
    RUN(test_long_values);
    TEST_EXIT();
}
