/* test_render.c - Accept-Encoding parsing, render-to-buffer (formats, gzip
 * round trip, bad options) and the password hash and its check.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vitals.h"
#include "vitals/http.h"

#include "client.h"

#define PROM_ACCEPT                                                                                \
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"       \
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

static void test_accepts_gzip(void) {
    static const struct {
        const char *header;
        int gzip;
    } cases[] = {
        {"gzip", 1},
        {"GZIP", 1},
        {"x-gzip", 1},
        {" gzip ", 1},
        {"gzip, deflate, br", 1},
        {"deflate, gzip;q=1.0", 1},
        {"br;q=1, gzip;q=0.5", 1},
        {"gzip;q=0.001", 1},
        {"gzip ; q=0.5", 1},
        {"gzip;level=1", 1},
        {"identity, *;q=0.5", 1},
        {"*", 1},
        {"gzip;q=0", 0},
        {"gzip;q=0.0", 0},
        {"gzip; q=0.000", 0},
        {"gzip;Q=0", 0},
        {"gzip;q=0, *", 0},
        {"*;q=0", 0},
        {"deflate", 0},
        {"identity", 0},
        {"", 0},
        {",,,", 0},
        {";;;", 0},
        {"gzip;q=abc", 0},
        {"gzip;q=2", 0},
        {"gzip;q=1.5", 0},
        {"gzip;q=0.0001", 0},
        {"gzip;q", 0},
        {"gzip;q=", 0},
        {"gzipx", 0},
        {"gz", 0},
        {"\x01\xff", 0},
    };
    size_t i;
    CHECK_INT(vt_http_accepts_gzip(NULL), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = vt_http_accepts_gzip(cases[i].header);
        if (got != cases[i].gzip)
            fprintf(stderr, "Accept-Encoding \"%s\": got %d\n", cases[i].header, got);
        CHECK_INT(got, cases[i].gzip);
    }
}

static vt_registry_t *filled_registry(void) {
    vt_registry_t *reg;
    vt_counter_t *c;
    vt_counter_series_t *s;
    char v[16];
    int i;
    if (vt_registry_create(&reg) != 0)
        return NULL;
    vt_registry_set_self_metrics(reg, 0);
    vt_counter_create(reg, "demo_events_total", "Events.", VT_LABELS("kind"), &c);
    for (i = 0; i < 500; i++) {
        snprintf(v, sizeof(v), "k%d", i);
        if (vt_counter_with(c, VT_VALUES(v), &s) == 0)
            vt_counter_add(s, i);
    }
    return reg;
}

static void test_render_formats(void) {
    vt_registry_t *reg = filled_registry();
    vt_http_body_t b, om;
    CHECK(reg != NULL);
    CHECK_INT(vt_http_render(reg, NULL, NULL, NULL, &b), 0);
    CHECK_STR(b.content_type, "text/plain; version=0.0.4; charset=utf-8");
    CHECK(b.content_encoding == NULL);
    CHECK_INT(b.format, VT_FORMAT_TEXT);
    CHECK_CONTAINS(b.data, "demo_events_total{kind=\"k499\"} 499\n");
    CHECK(b.len == strlen(b.data));

    CHECK_INT(vt_http_render(reg, PROM_ACCEPT, "identity", NULL, &om), 0);
    CHECK_STR(om.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    CHECK_INT(om.format, VT_FORMAT_OPENMETRICS);
    CHECK(om.len > 6 && strcmp(om.data + om.len - 6, "# EOF\n") == 0);
    vt_http_body_free(&om);

    /* Malformed Accept headers fall back to text. */
    CHECK_INT(vt_http_render(reg, ";;;,,,q=", NULL, NULL, &om), 0);
    CHECK_STR(om.content_type, "text/plain; version=0.0.4; charset=utf-8");
    CHECK_INT((int)om.len, (int)b.len);
    vt_http_body_free(&om);
    vt_http_body_free(&b);
    CHECK(b.data == NULL && b.len == 0);
    vt_http_body_free(NULL);
    vt_registry_destroy(reg);
}

static void test_render_gzip(void) {
    vt_registry_t *reg = filled_registry();
    vt_http_render_opts_t o;
    vt_http_body_t plain, gz, off;
    size_t n = 0;
    char *text;
    CHECK_INT(vt_http_render(reg, NULL, NULL, NULL, &plain), 0);
    CHECK_INT(vt_http_render(reg, NULL, "gzip, deflate", NULL, &gz), 0);
    CHECK_STR(gz.content_encoding, "gzip");
    CHECK(gz.len > 18 && (unsigned char)gz.data[0] == 0x1f && (unsigned char)gz.data[1] == 0x8b);
    CHECK(gz.len < plain.len);
    text = gunzip_body(gz.data, gz.len, &n);
    CHECK(text != NULL);
    CHECK_INT((int)n, (int)plain.len);
    CHECK(text && memcmp(text, plain.data, n) == 0);
    free(text);

    /* Every level gives the same text back. */
    vt_http_render_opts_init(&o);
    o.gzip_level = 9;
    vt_http_body_free(&gz);
    CHECK_INT(vt_http_render(reg, NULL, "gzip", &o, &gz), 0);
    text = gunzip_body(gz.data, gz.len, &n);
    CHECK(text && n == plain.len && memcmp(text, plain.data, n) == 0);
    free(text);

    /* gzip turned off, or refused with q=0. */
    o.gzip = 0;
    CHECK_INT(vt_http_render(reg, NULL, "gzip", &o, &off), 0);
    CHECK(off.content_encoding == NULL && off.len == plain.len);
    vt_http_body_free(&off);
    CHECK_INT(vt_http_render(reg, NULL, "gzip;q=0", NULL, &off), 0);
    CHECK(off.content_encoding == NULL && off.len == plain.len);
    vt_http_body_free(&off);

    vt_http_body_free(&gz);
    vt_http_body_free(&plain);
    vt_registry_destroy(reg);
}

static void test_render_empty_and_bad(void) {
    vt_registry_t *reg;
    vt_http_render_opts_t o;
    vt_http_body_t b;
    size_t n = 99;
    char *text;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    CHECK_INT(vt_http_render(reg, NULL, NULL, NULL, &b), 0);
    CHECK_INT((int)b.len, 0);
    CHECK(b.data == NULL);
    vt_http_body_free(&b);
    /* An empty body still gzips to a valid stream. */
    CHECK_INT(vt_http_render(reg, NULL, "gzip", NULL, &b), 0);
    text = gunzip_body(b.data, b.len, &n);
    CHECK(text != NULL && n == 0);
    free(text);
    vt_http_body_free(&b);

    CHECK_INT(vt_http_render(reg, NULL, NULL, NULL, NULL), VT_EINVAL);
    vt_http_render_opts_init(&o);
    o.gzip_level = 0;
    CHECK_INT(vt_http_render(reg, NULL, "gzip", &o, &b), VT_EINVAL);
    o.gzip_level = 10;
    CHECK_INT(vt_http_render(reg, NULL, "gzip", &o, &b), VT_EINVAL);
    CHECK(b.data == NULL && b.len == 0);
    vt_registry_destroy(reg);
}

static void test_hash_password(void) {
    char h[VT_HTTP_HASH_BUFSZ], h2[VT_HTTP_HASH_BUFSZ];
    char salt65[66];
    /* Same as: printf '%s' abcsecret | sha256sum */
    CHECK_INT(vt_http_hash_password("abc", "secret", h), 0);
    CHECK_STR(h, "sha256$abc$a42178b773273f5c9f24387fbea546af537d08b8c06b23631e44878b9ce47f49");
    CHECK_INT(vt_http_hash_password("NaCl.-_9", "", h), 0);
    CHECK_STR(h,
              "sha256$NaCl.-_9$931e7d72f0028c5942a6bb584f7a74c6bcb0999186706d1380b883ddec230aad");
    /* Random salts differ, and each hash checks. */
    CHECK_INT(vt_http_hash_password(NULL, "pw", h), 0);
    CHECK_INT(vt_http_hash_password(NULL, "pw", h2), 0);
    CHECK(strcmp(h, h2) != 0);
    CHECK_INT((int)strlen(h), 7 + 16 + 1 + 64);
    CHECK_INT(vt_http_auth_check("u", h, "u", "pw"), 0);
    CHECK_INT(vt_http_auth_check("u", h2, "u", "pw"), 0);
    /* Bad salts. */
    memset(salt65, 'a', 65);
    salt65[65] = '\0';
    CHECK_INT(vt_http_hash_password("", "pw", h), VT_EINVAL);
    CHECK_INT(vt_http_hash_password("a$b", "pw", h), VT_EINVAL);
    CHECK_INT(vt_http_hash_password("a b", "pw", h), VT_EINVAL);
    CHECK_INT(vt_http_hash_password(salt65, "pw", h), VT_EINVAL);
    salt65[64] = '\0';
    CHECK_INT(vt_http_hash_password(salt65, "pw", h), 0);
    CHECK_INT(vt_http_hash_password("s", NULL, h), VT_EINVAL);
    CHECK_INT(vt_http_hash_password("s", "pw", NULL), VT_EINVAL);
}

static void test_auth_check(void) {
    const char *h = "sha256$abc$a42178b773273f5c9f24387fbea546af537d08b8c06b23631e44878b9ce47f49";
    CHECK_INT(vt_http_auth_check("prom", h, "prom", "secret"), 0);
    CHECK_INT(vt_http_auth_check("prom", h, "prom", "Secret"), VT_EAUTH);
    CHECK_INT(vt_http_auth_check("prom", h, "prom", "secret "), VT_EAUTH);
    CHECK_INT(vt_http_auth_check("prom", h, "prom", ""), VT_EAUTH);
    CHECK_INT(vt_http_auth_check("prom", h, "Prom", "secret"), VT_EAUTH);
    CHECK_INT(vt_http_auth_check("prom", h, "", "secret"), VT_EAUTH);
    CHECK_INT(vt_http_auth_check("prom", h, NULL, "secret"), VT_EAUTH);
    CHECK_INT(vt_http_auth_check("prom", h, "prom", NULL), VT_EAUTH);
    /* Malformed hashes. */
    CHECK_INT(vt_http_auth_check("prom", "md5$abc$00", "prom", "secret"), VT_EINVAL);
    CHECK_INT(vt_http_auth_check("prom", "sha256$abc$a421", "prom", "secret"), VT_EINVAL);
    CHECK_INT(vt_http_auth_check("prom",
                                 "sha256$abc$g42178b773273f5c9f24387fbea546af537d08b8c06b23631e4"
                                 "4878b9ce47f49",
                                 "prom", "secret"),
              VT_EINVAL);
    CHECK_INT(vt_http_auth_check("prom",
                                 "sha256$$a42178b773273f5c9f24387fbea546af537d08b8c06b23631e4487"
                                 "8b9ce47f49",
                                 "prom", "secret"),
              VT_EINVAL);
    CHECK_INT(vt_http_auth_check("prom", "sha256$abc", "prom", "secret"), VT_EINVAL);
    CHECK_INT(vt_http_auth_check(NULL, h, "prom", "secret"), VT_EINVAL);
    CHECK_INT(vt_http_auth_check("prom", NULL, "prom", "secret"), VT_EINVAL);
    /* Upper-case hex reads the same. */
    CHECK_INT(vt_http_auth_check("prom",
                                 "sha256$abc$A42178B773273F5C9F24387FBEA546AF537D08B8C06B23631E44"
                                 "878B9CE47F49",
                                 "prom", "secret"),
              0);
}

/* A wrong user and a wrong password cost the same: both digests are always
 * computed and compared in full. The bound is loose and each side takes its
 * best of several interleaved rounds; it catches an early exit that skips a
 * hash (about half the time), not cache effects. */
static double time_check(const char *user, const char *pass, int n, int *sink) {
    const char *h = "sha256$abc$a42178b773273f5c9f24387fbea546af537d08b8c06b23631e44878b9ce47f49";
    double t0 = now_ms();
    int i;
    for (i = 0; i < n; i++)
        *sink += vt_http_auth_check("prom", h, user, pass) == VT_EAUTH;
    return now_ms() - t0;
}

static void test_auth_timing(void) {
    const int n = 2000, rounds = 15;
    double wrong_user = 1e9, wrong_pass = 1e9, t, ratio = 0;
    int r, attempt, sink = 0;
    /* A busy machine can spoil one measurement: three tries. */
    for (attempt = 0; attempt < 3; attempt++) {
        time_check("prxm", "secret", n, &sink);
        for (r = 0; r < rounds; r++) {
            t = time_check("prxm", "secret", n, &sink);
            wrong_user = t < wrong_user ? t : wrong_user;
            t = time_check("prom", "secrxt", n, &sink);
            wrong_pass = t < wrong_pass ? t : wrong_pass;
        }
        ratio = wrong_user / wrong_pass;
        printf("auth check: wrong user %.2f us, wrong password %.2f us\n", wrong_user * 1e3 / n,
               wrong_pass * 1e3 / n);
        if (ratio > 0.6 && ratio < 1.66)
            break;
    }
    CHECK_INT(sink, (attempt < 3 ? attempt + 1 : 3) * (2 * rounds + 1) * n);
    CHECK(ratio > 0.6 && ratio < 1.66);
}

int main(void) {
    client_init();
    RUN(test_accepts_gzip);
    RUN(test_render_formats);
    RUN(test_render_gzip);
    RUN(test_render_empty_and_bad);
    RUN(test_hash_password);
    RUN(test_auth_check);
    RUN(test_auth_timing);
    TEST_EXIT();
}
