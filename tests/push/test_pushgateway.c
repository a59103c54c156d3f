/* test_pushgateway.c - the Pushgateway client against Debian's
 * prometheus-pushgateway on 127.0.0.1: push, push-add, delete, grouping keys
 * with "/" and empty values, the server's 400 message, timeouts, a closed
 * port, bad options, and (with certtool) TLS plus basic auth through a
 * --web.config.file.
 *
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "push_http.h"
#include "push_test.h"
#include "vitals.h"
#include "vitals/pushgateway.h"

static char base_url[64];
static char tmp[512];

/* ---- reading back ---- */

/* GET base_url/metrics; malloc'd body or NULL. */
static char *scrape(void) {
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", base_url);
    return pt_http_get(url, NULL);
}

/* The scrape once needle has left it, polling for up to 5 s: the
 * Pushgateway answers a DELETE with 202 and removes the group afterwards.
 * The last scrape (malloc'd) either way. */
static char *scrape_without(const char *needle) {
    char *m = scrape();
    for (int i = 0; i < 50 && m && strstr(m, needle); i++) {
        free(m);
        pt_sleep_ms(100);
        m = scrape();
    }
    return m;
}

/* ---- registries ---- */

static vt_registry_t *registry_with(const char *counter, double v, const char *gauge, double g) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    if (counter) {
        vt_counter_t *c;
        vt_counter_series_t *s;
        CHECK_INT(vt_counter_create(reg, counter, "A counter.", NULL, &c), 0);
        CHECK_INT(vt_counter_with(c, NULL, &s), 0);
        vt_counter_add(s, v);
    }
    if (gauge) {
        vt_gauge_t *c;
        vt_gauge_series_t *s;
        CHECK_INT(vt_gauge_create(reg, gauge, "A gauge.", NULL, &c), 0);
        CHECK_INT(vt_gauge_with(c, NULL, &s), 0);
        vt_gauge_set(s, g);
    }
    return reg;
}

static vt_pushgateway_t *client(const char *job, const char *const *grouping) {
    vt_pushgateway_opts_t o;
    vt_pushgateway_opts_init(&o);
    o.url = base_url;
    o.job = job;
    o.grouping = grouping;
    vt_pushgateway_t *pg = NULL;
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    return pg;
}

/* ---- tests ---- */

static void test_push_replace_delete(void) {
    vt_pushgateway_t *pg = client("batch", VT_LABELS("instance", "host-1"));
    vt_registry_t *a = registry_with("rows_done", 3, NULL, 0);
    vt_registry_t *b = registry_with(NULL, 0, "last_run_seconds", 12.5);

    CHECK_INT(vt_pushgateway_push(pg, a), 0);
    CHECK_INT(vt_pushgateway_last_status(pg), 200);
    CHECK_STR(vt_pushgateway_last_error(pg), "");
    char *m = scrape();
    CHECK_CONTAINS(m, "rows_done_total{instance=\"host-1\",job=\"batch\"} 3\n");
    CHECK_CONTAINS(m, "# HELP rows_done_total A counter.");
    free(m);

    /* POST keeps what else the group holds. */
    CHECK_INT(vt_pushgateway_push_add(pg, b), 0);
    m = scrape();
    CHECK_CONTAINS(m, "rows_done_total{instance=\"host-1\",job=\"batch\"} 3\n");
    CHECK_CONTAINS(m, "last_run_seconds{instance=\"host-1\",job=\"batch\"} 12.5\n");
    free(m);

    /* POST of a metric already there replaces its value. */
    vt_registry_t *a2 = registry_with("rows_done", 8, NULL, 0);
    CHECK_INT(vt_pushgateway_push_add(pg, a2), 0);
    m = scrape();
    CHECK_CONTAINS(m, "rows_done_total{instance=\"host-1\",job=\"batch\"} 8\n");
    CHECK_CONTAINS(m, "last_run_seconds{instance=\"host-1\",job=\"batch\"} 12.5\n");
    free(m);

    /* PUT replaces the whole group. */
    CHECK_INT(vt_pushgateway_push(pg, b), 0);
    m = scrape();
    CHECK(m && !strstr(m, "rows_done_total{"));
    CHECK_CONTAINS(m, "last_run_seconds{instance=\"host-1\",job=\"batch\"} 12.5\n");
    free(m);

    /* Another group is untouched by this group's delete. */
    vt_pushgateway_t *other = client("batch", VT_LABELS("instance", "host-2"));
    CHECK_INT(vt_pushgateway_push(other, a), 0);
    CHECK_INT(vt_pushgateway_delete(pg), 0);
    CHECK_INT(vt_pushgateway_last_status(pg), 202);
    m = scrape_without("host-1");
    CHECK(m && !strstr(m, "host-1"));
    CHECK_CONTAINS(m, "rows_done_total{instance=\"host-2\",job=\"batch\"} 3\n");
    free(m);
    CHECK_INT(vt_pushgateway_delete(other), 0);

    vt_pushgateway_destroy(pg);
    vt_pushgateway_destroy(other);
    vt_registry_destroy(a);
    vt_registry_destroy(a2);
    vt_registry_destroy(b);
}

static void test_grouping_encoding(void) {
    vt_pushgateway_t *pg = client(
        "a/b job", VT_LABELS("path", "/api/v1/users", "zone", "", "name", "caf\xc3\xa9 & co?"));
    CHECK_CONTAINS(vt_pushgateway_url(pg), "/metrics/job@base64/YS9iIGpvYg==");
    CHECK_CONTAINS(vt_pushgateway_url(pg), "/path@base64/L2FwaS92MS91c2Vycw==");
    CHECK_CONTAINS(vt_pushgateway_url(pg), "/zone@base64/=");
    CHECK_CONTAINS(vt_pushgateway_url(pg), "/name/caf%C3%A9%20%26%20co%3F");
    vt_registry_t *r = registry_with("encoded", 1, NULL, 0);
    CHECK_INT(vt_pushgateway_push(pg, r), 0);
    char *m = scrape();
    CHECK_CONTAINS(m, "encoded_total{instance=\"\",job=\"a/b job\",name=\"caf\xc3\xa9 & co?\","
                      "path=\"/api/v1/users\",zone=\"\"} 1\n");
    free(m);
    CHECK_INT(vt_pushgateway_delete(pg), 0);
    m = scrape_without("encoded_total");
    CHECK(m && !strstr(m, "encoded_total"));
    free(m);
    vt_pushgateway_destroy(pg);
    vt_registry_destroy(r);
}

static void test_server_error_reaches_caller(void) {
    vt_pushgateway_t *one = client("types", VT_LABELS("instance", "one"));
    vt_pushgateway_t *two = client("types", VT_LABELS("instance", "two"));
    vt_registry_t *as_counter = registry_with("shared_name", 1, NULL, 0);
    vt_registry_t *as_gauge = registry_with(NULL, 0, "shared_name_total", 2);
    CHECK_INT(vt_pushgateway_push(one, as_counter), 0);
    /* The same name as a gauge contradicts what the Pushgateway holds. */
    CHECK_INT(vt_pushgateway_push_add(two, as_gauge), VT_EHTTP);
    CHECK_INT(vt_pushgateway_last_status(two), 400);
    CHECK_CONTAINS(vt_pushgateway_last_error(two), "HTTP 400: ");
    CHECK_CONTAINS(vt_pushgateway_last_error(two), "inconsistent with existing metrics");
    /* The Pushgateway names either side of the conflict, in no fixed order. */
    CHECK_CONTAINS(vt_pushgateway_last_error(two), "shared_name_total");
    CHECK(strstr(vt_pushgateway_last_error(two), "is not a COUNTER") ||
          strstr(vt_pushgateway_last_error(two), "is not a GAUGE"));
    printf("server said: %s\n", vt_pushgateway_last_error(two));
    /* Nothing of the refused push landed; the next good call clears the error. */
    char *m = scrape();
    CHECK(m && !strstr(m, "instance=\"two\",job=\"types\"} 2"));
    free(m);
    CHECK_INT(vt_pushgateway_delete(one), 0);
    CHECK_INT(vt_pushgateway_push_add(two, as_gauge), 0);
    CHECK_STR(vt_pushgateway_last_error(two), "");
    CHECK_INT(vt_pushgateway_delete(two), 0);
    vt_pushgateway_destroy(one);
    vt_pushgateway_destroy(two);
    vt_registry_destroy(as_counter);
    vt_registry_destroy(as_gauge);
}

static void test_transport_failures(void) {
    vt_registry_t *r = registry_with("x", 1, NULL, 0);
    vt_pushgateway_opts_t o;
    vt_pushgateway_opts_init(&o);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", pt_free_port(SOCK_STREAM));
    o.url = url;
    o.job = "j";
    vt_pushgateway_t *pg = NULL;
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    CHECK_INT(vt_pushgateway_push(pg, r), VT_ENET);
    CHECK_INT(vt_pushgateway_last_status(pg), 0);
    CHECK(strlen(vt_pushgateway_last_error(pg)) > 0);
    printf("closed port: %s\n", vt_pushgateway_last_error(pg));
    vt_pushgateway_destroy(pg);

    /* A server that accepts and never answers: the timeout ends the call. */
    pt_lines_t *mute = pt_lines_start(0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", pt_lines_port(mute));
    o.timeout_ms = 300;
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    long long t0 = pt_now_ms();
    CHECK_INT(vt_pushgateway_push(pg, r), VT_ETIMEDOUT);
    long long took = pt_now_ms() - t0;
    CHECK(took >= 250 && took < 3000);
    char *seen = pt_lines_text(mute);
    CHECK_CONTAINS(seen, "PUT /metrics/job/j HTTP/1.1");
    CHECK_CONTAINS(seen, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
    CHECK_CONTAINS(seen, "x_total 1\n");
    free(seen);
    vt_pushgateway_destroy(pg);
    pt_lines_stop(mute);
    vt_registry_destroy(r);
}

static void test_bad_options(void) {
    vt_pushgateway_opts_t o;
    vt_pushgateway_t *pg = NULL;
    vt_pushgateway_opts_init(&o);
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_EINVAL); /* no url, no job */
    o.url = base_url;
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_EINVAL);
    o.job = "";
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_EINVAL);
    o.job = "j";
    CHECK_INT(vt_pushgateway_create(NULL, &pg), VT_EINVAL);
    CHECK_INT(vt_pushgateway_create(&o, NULL), VT_EINVAL);
    o.job = "bad\xff";
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_EUTF8);
    o.job = "j";
    o.url = "ftp://127.0.0.1/";
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_EINVAL);
    o.url = base_url;
    o.grouping = VT_LABELS("only_a_name");
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_EINVAL);
    o.grouping = VT_LABELS("1bad", "v");
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_ELABELNAME);
    o.grouping = VT_LABELS("job", "v");
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_ELABELNAME);
    o.grouping = VT_LABELS("a", "1", "a", "2");
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_EDUPLABEL);
    o.grouping = VT_LABELS("a", "\xc0\xaf"); /* overlong "/" */
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_EUTF8);
    o.grouping = NULL;
    o.timeout_ms = -1;
    CHECK_INT(vt_pushgateway_create(&o, &pg), VT_EINVAL);
    CHECK(pg == NULL);
    o.timeout_ms = 5000;
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    CHECK_INT(vt_pushgateway_push(pg, NULL), VT_EINVAL);
    CHECK_INT(vt_pushgateway_push(NULL, NULL), VT_EINVAL);
    CHECK_INT(vt_pushgateway_delete(NULL), VT_EINVAL);
    vt_pushgateway_destroy(pg);
    vt_pushgateway_destroy(NULL);
}

/* ---- TLS and basic auth ---- */

/* bcrypt of "s3cret", as the Pushgateway's web config wants it. */
#define PW_HASH "$2b$12$vY/4am/UFCBArpTXDnqueu6xi4dtJiVoYJIK7rmgGWKbohfMcczUO"

static void test_tls_and_auth(void) {
    if (!pt_which("certtool")) {
        if (getenv("CI") && *getenv("CI")) {
            fprintf(stderr, "FAIL: certtool (gnutls-bin) is not installed under CI\n");
            CHECK(0);
            return;
        }
        printf("SKIP test_tls_and_auth: certtool (gnutls-bin) is not installed\n");
        return;
    }
    char cmd[4096], key[600], cert[600], web[600], log[600], data[600];
    snprintf(key, sizeof key, "%s/key.pem", tmp);
    snprintf(cert, sizeof cert, "%s/cert.pem", tmp);
    snprintf(web, sizeof web, "%s/web.yml", tmp);
    snprintf(log, sizeof log, "%s/pg-tls.log", tmp);
    snprintf(data, sizeof data, "%s/pg-tls.data", tmp);
    snprintf(cmd, sizeof cmd, "%s/tmpl", tmp);
    CHECK_INT(pt_write_file(cmd, "cn = \"127.0.0.1\"\nip_address = \"127.0.0.1\"\n"
                                 "expiration_days = 2\nca\nsigning_key\nencryption_key\n"
                                 "cert_signing_key\ntls_www_server\n"),
              0);
    snprintf(cmd, sizeof cmd,
             "certtool --generate-privkey --key-type=ecdsa --outfile %s >/dev/null 2>&1 && "
             "certtool --generate-self-signed --load-privkey %s --template %s/tmpl "
             "--outfile %s >/dev/null 2>&1",
             key, key, tmp, cert);
    CHECK_INT(system(cmd), 0);
    char yml[2048];
    snprintf(yml, sizeof yml,
             "tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
             "basic_auth_users:\n  pusher: '%s'\n",
             cert, key, PW_HASH);
    CHECK_INT(pt_write_file(web, yml), 0);
    int port = pt_free_port(SOCK_STREAM);
    char listen[64], webarg[700], persist[700];
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", port);
    snprintf(webarg, sizeof webarg, "--web.config.file=%s", web);
    snprintf(persist, sizeof persist, "--persistence.file=%s", data);
    char bin[4096];
    snprintf(bin, sizeof bin, "%s", pt_which("prometheus-pushgateway"));
    char *args[] = {bin, listen, webarg, persist, NULL};
    pid_t pid = pt_spawn(args, log);
    CHECK_INT(pt_wait_tcp(port, 10000), 0);

    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    vt_registry_t *r = registry_with("secure", 5, NULL, 0);
    vt_pushgateway_opts_t o;
    vt_pushgateway_opts_init(&o);
    o.url = url;
    o.job = "tls";
    vt_pushgateway_t *pg = NULL;

    /* The self-signed certificate is not in the system store. */
    o.username = "pusher";
    o.password = "s3cret";
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    CHECK_INT(vt_pushgateway_push(pg, r), VT_ENET);
    printf("unknown CA: %s\n", vt_pushgateway_last_error(pg));
    CHECK(strlen(vt_pushgateway_last_error(pg)) > 0);
    vt_pushgateway_destroy(pg);

    /* With the CA, but no or wrong credentials: 401. */
    o.ca_file = cert;
    o.username = NULL;
    o.password = NULL;
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    CHECK_INT(vt_pushgateway_push(pg, r), VT_EAUTH);
    CHECK_INT(vt_pushgateway_last_status(pg), 401);
    CHECK_CONTAINS(vt_pushgateway_last_error(pg), "HTTP 401");
    vt_pushgateway_destroy(pg);
    o.username = "pusher";
    o.password = "wrong";
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    CHECK_INT(vt_pushgateway_push(pg, r), VT_EAUTH);
    vt_pushgateway_destroy(pg);

    /* Right credentials over verified TLS. */
    o.password = "s3cret";
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    CHECK_INT(vt_pushgateway_push(pg, r), 0);
    CHECK_INT(vt_pushgateway_delete(pg), 0);
    vt_pushgateway_destroy(pg);

    /* Skipping verification works without the CA. */
    o.ca_file = NULL;
    o.insecure_skip_verify = 1;
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    CHECK_INT(vt_pushgateway_push(pg, r), 0);
    vt_pushgateway_destroy(pg);

    CHECK(pt_alive(pid));
    pt_stop(pid);
    vt_registry_destroy(r);
}

int main(void) {
    const char *bin = pt_which("prometheus-pushgateway");
    if (!bin)
        SKIP_ALL(
            "prometheus-pushgateway is not installed (apt-get install prometheus-pushgateway)");
    char binpath[4096];
    snprintf(binpath, sizeof binpath, "%s", bin);
    const char *dir = pt_tempdir("pushgateway");
    if (!dir) {
        printf("cannot make a temporary directory\n");
        return 1;
    }
    snprintf(tmp, sizeof tmp, "%s", dir);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    int port = pt_free_port(SOCK_STREAM);
    char listen[64], persist[700], log[700];
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", port);
    snprintf(persist, sizeof persist, "--persistence.file=%s/pg.data", tmp);
    snprintf(log, sizeof log, "%s/pg.log", tmp);
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", port);
    char *args[] = {binpath, listen, persist, NULL};
    pid_t pid = pt_spawn(args, log);
    if (pt_wait_tcp(port, 10000) != 0) {
        char *l = pt_read_file(log);
        fprintf(stderr, "the pushgateway did not start:\n%s\n", l ? l : "");
        free(l);
        pt_stop(pid);
        return 1;
    }

    RUN(test_push_replace_delete);
    RUN(test_grouping_encoding);
    RUN(test_server_error_reaches_caller);
    RUN(test_transport_failures);
    RUN(test_bad_options);
    RUN(test_tls_and_auth);

    CHECK(pt_alive(pid));
    pt_stop(pid);
    curl_global_cleanup();
    if (th_tests_failed == 0)
        pt_rmrf(tmp);
    else
        fprintf(stderr, "pushgateway files kept in %s\n", tmp);
    TEST_EXIT();
}
