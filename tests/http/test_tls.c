/* test_tls.c - the embedded server over TLS with a throwaway self-signed
 * certificate made by certtool (gnutls-bin) or, failing that, openssl.
 *
 * Skips (77) when neither tool is installed; fails under CI.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vitals.h"
#include "vitals/http.h"

#include "client.h"

static char dir[64];
static char cert[128], key[128], key2[128], enc_key[128], garbage[128];

static int run(const char *cmd) {
    char full[2200];
    snprintf(full, sizeof(full), "(%s) >/dev/null 2>&1", cmd);
    return system(full);
}

static int have(const char *tool) {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "command -v %s", tool);
    return run(cmd) == 0;
}

/* Make cert.pem/key.pem (self-signed for 127.0.0.1), key2.pem (another key)
 * and enc-key.pem (key.pem encrypted with the password "pw"). */
static int make_files(void) {
    char cmd[2048];
    FILE *f;
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(key2, sizeof(key2), "%s/key2.pem", dir);
    snprintf(enc_key, sizeof(enc_key), "%s/enc-key.pem", dir);
    snprintf(garbage, sizeof(garbage), "%s/garbage.pem", dir);
    f = fopen(garbage, "w");
    if (!f)
        return -1;
    fputs("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    if (have("certtool")) {
        snprintf(cmd, sizeof(cmd), "%s/tmpl", dir);
        f = fopen(cmd, "w");
        if (!f)
            return -1;
        fputs("cn = \"127.0.0.1\"\nip_address = \"127.0.0.1\"\nexpiration_days = 2\nca\n"
              "signing_key\nencryption_key\ncert_signing_key\ntls_www_server\n",
              f);
        fclose(f);
        snprintf(cmd, sizeof(cmd),
                 "certtool --generate-privkey --key-type=ecdsa --outfile %s && "
                 "certtool --generate-privkey --key-type=ecdsa --outfile %s && "
                 "certtool --generate-self-signed --load-privkey %s --template %s/tmpl "
                 "--outfile %s && "
                 "certtool --to-p8 --load-privkey %s --password pw --outfile %s",
                 key, key2, key, dir, cert, key, enc_key);
        return run(cmd);
    }
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s -out %s -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 && "
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out %s && "
             "openssl pkcs8 -topk8 -in %s -out %s -passout pass:pw",
             key, cert, key2, key, enc_key);
    return run(cmd);
}

static vt_registry_t *reg;
static char u[256];

static const char *url(const vt_http_server_t *s, const char *scheme, const char *path) {
    snprintf(u, sizeof(u), "%s://127.0.0.1:%u%s", scheme, vt_http_server_port(s), path);
    return u;
}

static void test_tls_scrape(void) {
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    resp_t r;
    req_t q = {0};
    char h[256];
    size_t n;
    char *text;
    const char *gz[] = {"Accept-Encoding: gzip", NULL};
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    q.cainfo = cert;
    CHECK_INT(http_do(url(s, "https", "/metrics"), &q, &r), 200);
    CHECK_STR(resp_header(&r, "Content-Type", h, sizeof(h)),
              "text/plain; version=0.0.4; charset=utf-8");
    CHECK_CONTAINS(r.body, "tls_demo_total 5\n");
    resp_free(&r);
    q.headers = gz;
    CHECK_INT(http_do(url(s, "https", "/metrics"), &q, &r), 200);
    text = gunzip_body(r.body, r.len, &n);
    CHECK(text && strstr(text, "tls_demo_total 5\n"));
    free(text);
    resp_free(&r);
    /* The certificate is checked: without the CA the client refuses. */
    CHECK_INT(http_do(url(s, "https", "/metrics"), NULL, &r), 0);
    resp_free(&r);
    /* Plain HTTP to the TLS port gets no metrics, and the server lives on. */
    q.headers = NULL;
    q.timeout_ms = 3000;
    CHECK(http_do(url(s, "http", "/metrics"), &q, &r) != 200);
    resp_free(&r);
    q.timeout_ms = 0;
    CHECK_INT(http_do(url(s, "https", "/-/healthy"), &q, &r), 200);
    resp_free(&r);
    vt_http_server_stop(s);
}

static void test_tls_with_auth(void) {
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    char hash[VT_HTTP_HASH_BUFSZ];
    resp_t r;
    req_t q = {0};
    CHECK_INT(vt_http_hash_password("salt", "token-1234", hash), 0);
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    o.auth_user = "prometheus";
    o.auth_password_hash = hash;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    q.cainfo = cert;
    CHECK_INT(http_do(url(s, "https", "/metrics"), &q, &r), 401);
    resp_free(&r);
    q.userpwd = "prometheus:token-1234";
    CHECK_INT(http_do(url(s, "https", "/metrics"), &q, &r), 200);
    resp_free(&r);
    q.userpwd = "prometheus:token-1235";
    CHECK_INT(http_do(url(s, "https", "/metrics"), &q, &r), 401);
    resp_free(&r);
    vt_http_server_stop(s);
}

static void test_bad_tls_files(void) {
    vt_http_server_opts_t o;
    vt_http_server_t *s = NULL;
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.tls_cert_file = garbage;
    o.tls_key_file = key;
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EPARSE);
    o.tls_cert_file = cert;
    o.tls_key_file = key2; /* not the certificate's key */
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EPARSE);
    o.tls_key_file = cert; /* not a key at all */
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EPARSE);
    o.tls_key_file = dir; /* a directory */
    CHECK(vt_http_server_start(reg, &o, &s) != 0);
    CHECK(s == NULL);
}

static void test_encrypted_key(void) {
    vt_http_server_opts_t o;
    vt_http_server_t *s = NULL;
    resp_t r;
    req_t q = {0};
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.tls_cert_file = cert;
    o.tls_key_file = enc_key;
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EPARSE);
    o.tls_key_password = "wrong";
    CHECK_INT(vt_http_server_start(reg, &o, &s), VT_EPARSE);
    o.tls_key_password = "pw";
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    if (s) {
        q.cainfo = cert;
        CHECK_INT(http_do(url(s, "https", "/metrics"), &q, &r), 200);
        resp_free(&r);
        vt_http_server_stop(s);
    }
}

int main(void) {
    vt_counter_t *c;
    vt_counter_series_t *cs;
    char cmd[128];
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        SKIP_ALL("libmicrohttpd was built without TLS");
    if (!have("certtool") && !have("openssl"))
        SKIP_ALL("neither certtool (gnutls-bin) nor openssl is installed");
    snprintf(dir, sizeof(dir), "/tmp/vt-tls-XXXXXX");
    if (!mkdtemp(dir)) {
        printf("cannot make a temporary directory\n");
        return 1;
    }
    if (make_files() != 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        run(cmd);
        printf("could not make a certificate\n");
        return 1;
    }
    client_init();
    vt_registry_create(&reg);
    vt_registry_set_self_metrics(reg, 0);
    vt_counter_create(reg, "tls_demo_total", "Demo.", NULL, &c);
    vt_counter_with(c, NULL, &cs);
    vt_counter_add(cs, 5);
    RUN(test_tls_scrape);
    RUN(test_tls_with_auth);
    RUN(test_bad_tls_files);
    RUN(test_encrypted_key);
    vt_registry_destroy(reg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    run(cmd);
    TEST_EXIT();
}
