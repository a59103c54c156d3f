/* test_remote_write.c - remote write 1.0 into a real Prometheus started with
 * --web.enable-remote-write-receiver on 127.0.0.1, read back through its
 * query API: every metric type with the writer's labels, a series' own label
 * winning over the writer's, later values, a 404 that is not retried, a
 * Prometheus that stops and starts again (the kept snapshot arrives), and one
 * that stays down for six snapshots with max_pending 3 (the three newest are
 * kept and arrive in time order, the three oldest are dropped and counted).
 *
 * A real Prometheus cannot be made to answer 503, 429 or 400 on demand: for
 * those a scripted receiver thread in this file answers each request with the
 * next status of its list and records what it was sent.
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "push_http.h"
#include "push_test.h"
#include "vitals.h"
#include "vitals/remote_write.h"

static char dir[512], prom_bin[1024];
static int port;
static pid_t prom_pid = -1;
static char write_url[128];

/* GET path on Prometheus; malloc'd body, or NULL; *status gets the code. */
static char *get(const char *path, long *status) {
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    return pt_http_get(url, status);
}

/* The instant query's JSON for expr. */
static char *query(const char *expr) {
    CURL *h = curl_easy_init();
    char *esc = curl_easy_escape(h, expr, 0);
    char path[1024];
    snprintf(path, sizeof path, "/api/v1/query?query=%s", esc);
    curl_free(esc);
    curl_easy_cleanup(h);
    long status;
    char *r = get(path, &status);
    return r;
}

/* Does the query's result hold every needle? Polls for up to 5 s. */
static int query_has(const char *expr, const char *const *needles) {
    char *r = NULL;
    for (int i = 0; i < 50; i++) {
        free(r);
        r = query(expr);
        int all = r != NULL;
        for (const char *const *n = needles; all && *n; n++)
            all = strstr(r, *n) != NULL;
        if (all) {
            free(r);
            return 1;
        }
        pt_sleep_ms(100);
    }
    fprintf(stderr, "query %s gave: %s\n", expr, r ? r : "(nothing)");
    free(r);
    return 0;
}

static int start_prometheus(void) {
    char cfg[700], data[700], listen[64], log[700];
    snprintf(cfg, sizeof cfg, "--config.file=%s/prometheus.yml", dir);
    snprintf(data, sizeof data, "--storage.tsdb.path=%s/data", dir);
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", port);
    snprintf(log, sizeof log, "%s/prometheus.log", dir);
    char *args[] = {prom_bin, cfg, data, listen, "--web.enable-remote-write-receiver", NULL};
    prom_pid = pt_spawn(args, log);
    for (int i = 0; i < 300; i++) {
        long status = 0;
        char *r = get("/-/ready", &status);
        free(r);
        if (status == 200)
            return 0;
        pt_sleep_ms(100);
    }
    char *l = pt_read_file(log);
    fprintf(stderr, "prometheus did not become ready:\n%s\n", l ? l : "");
    free(l);
    return -1;
}

static void stop_prometheus(void) {
    pt_stop(prom_pid);
    prom_pid = -1;
}

typedef struct fixture {
    vt_registry_t *reg;
    vt_counter_series_t *ok;
    vt_gauge_series_t *temp;
    vt_histogram_series_t *lat;
} fixture_t;

static fixture_t make_registry(void) {
    fixture_t f;
    CHECK_INT(vt_registry_create(&f.reg), 0);
    vt_counter_t *jobs;
    vt_gauge_t *temp, *own;
    vt_histogram_t *lat;
    vt_summary_t *rpc;
    vt_info_t *info;
    vt_gauge_series_t *own_s;
    vt_summary_series_t *rs;
    CHECK_INT(vt_counter_create(f.reg, "rw_jobs", "Jobs.", VT_LABELS("status"), &jobs), 0);
    CHECK_INT(vt_counter_with(jobs, VT_VALUES("ok"), &f.ok), 0);
    CHECK_INT(vt_gauge_create(f.reg, "rw_temp", "Temperature.", NULL, &temp), 0);
    CHECK_INT(vt_gauge_with(temp, NULL, &f.temp), 0);
    CHECK_INT(vt_histogram_create(f.reg, "rw_lat_seconds", "Latency.", NULL, (const double[]){0.5},
                                  1, &lat),
              0);
    CHECK_INT(vt_histogram_with(lat, NULL, &f.lat), 0);
    CHECK_INT(vt_summary_create(f.reg, "rw_rpc_seconds", "RPC.", NULL, &rpc), 0);
    CHECK_INT(vt_summary_with(rpc, NULL, &rs), 0);
    vt_summary_observe(rs, 4);
    CHECK_INT(
        vt_info_create(f.reg, "rw_build", "Build.", VT_LABELS("version"), VT_VALUES("1.0"), &info),
        0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "rw_own_job";
    o.help = "Carries its own job label.";
    o.const_labels = VT_LABELS("job", "own");
    CHECK_INT(vt_gauge_create_opts(f.reg, &o, &own), 0);
    CHECK_INT(vt_gauge_with(own, NULL, &own_s), 0);
    vt_gauge_set(own_s, 5);
    vt_counter_add(f.ok, 7);
    vt_gauge_set(f.temp, -3.5);
    vt_histogram_observe(f.lat, 0.25);
    vt_histogram_observe(f.lat, 2);
    /* Every test sends the same series to the same Prometheus: a snapshot in
     * the millisecond of the previous test's last one, with other values,
     * would be refused as a duplicate sample. */
    pt_sleep_ms(5);
    return f;
}

/* The options every test starts from: snapshots only when flushed. */
static void test_opts(vt_remote_write_opts_t *o, const char *url) {
    /* static: a compound literal would end with this function */
    static const char *const labels[] = {"job", "vitals_test", "instance", "host-1", NULL};
    vt_remote_write_opts_init(o);
    o->url = url;
    o->labels = labels;
    o->interval_ms = 60000;
    o->timeout_ms = 3000;
    o->backoff_min_ms = 50;
    o->backoff_max_ms = 200;
}

static vt_remote_write_t *writer(vt_registry_t *reg, const char *url) {
    vt_remote_write_opts_t o;
    test_opts(&o, url);
    vt_remote_write_t *w = NULL;
    CHECK_INT(vt_remote_write_create(reg, &o, &w), 0);
    return w;
}

static void test_values_arrive(void) {
    fixture_t f = make_registry();
    vt_remote_write_t *w = writer(f.reg, write_url);
    CHECK_INT(vt_remote_write_flush(w), 0);
    CHECK(query_has("rw_jobs_total", VT_VALUES("\"job\":\"vitals_test\"", "\"instance\":\"host-1\"",
                                               "\"status\":\"ok\"", ",\"7\"]")));
    CHECK(query_has("rw_temp", VT_VALUES(",\"-3.5\"]")));
    CHECK(query_has("rw_lat_seconds_bucket{le=\"0.5\"}", VT_VALUES(",\"1\"]")));
    CHECK(query_has("rw_lat_seconds_bucket{le=\"+Inf\"}", VT_VALUES(",\"2\"]")));
    CHECK(query_has("rw_lat_seconds_count", VT_VALUES(",\"2\"]")));
    CHECK(query_has("rw_lat_seconds_sum", VT_VALUES(",\"2.25\"]")));
    CHECK(query_has("rw_rpc_seconds_count", VT_VALUES(",\"1\"]")));
    CHECK(query_has("rw_rpc_seconds_sum", VT_VALUES(",\"4\"]")));
    CHECK(query_has("rw_build_info", VT_VALUES("\"version\":\"1.0\"", ",\"1\"]")));
    /* The series' own label wins over the writer's. */
    CHECK(query_has("rw_own_job", VT_VALUES("\"job\":\"own\"", "\"instance\":\"host-1\"")));

    /* A later snapshot's values replace them. */
    vt_counter_add(f.ok, 5);
    vt_gauge_set(f.temp, 18);
    pt_sleep_ms(5); /* a new millisecond timestamp */
    CHECK_INT(vt_remote_write_flush(w), 0);
    CHECK(query_has("rw_jobs_total", VT_VALUES(",\"12\"]")));
    CHECK(query_has("rw_temp", VT_VALUES(",\"18\"]")));
    vt_remote_write_stats_t st;
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.requests_ok, 2);
    CHECK_INT(st.snapshots, 2);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.last_status, 204);
    CHECK(st.samples_sent >= 2 * 12);
    vt_remote_write_destroy(w);
    vt_registry_destroy(f.reg);
}

static void test_refused_not_retried(void) {
    fixture_t f = make_registry();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/no-such-endpoint", port);
    vt_remote_write_t *w = writer(f.reg, url);
    CHECK_INT(vt_remote_write_flush(w), VT_EHTTP);
    vt_remote_write_stats_t st;
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.last_status, 404);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.snapshots_dropped, 1);
    char err[512];
    vt_remote_write_last_error(w, err, sizeof err);
    CHECK_CONTAINS(err, "HTTP 404");
    vt_remote_write_destroy(w);
    vt_registry_destroy(f.reg);
}

static void test_receiver_restart(void) {
    fixture_t f = make_registry();
    vt_remote_write_t *w = writer(f.reg, write_url);
    CHECK_INT(vt_remote_write_flush(w), 0);
    stop_prometheus();
    vt_gauge_set(f.temp, 42);
    CHECK_INT(vt_remote_write_flush(w), VT_ENET);
    vt_remote_write_stats_t st;
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.pending, 1);
    char err[512];
    vt_remote_write_last_error(w, err, sizeof err);
    printf("while down: %s\n", err);
    vt_gauge_set(f.temp, 43);
    CHECK_INT(start_prometheus(), 0);
    /* The kept snapshot (42) goes first, then a fresh one (43). */
    CHECK_INT(vt_remote_write_flush(w), 0);
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.pending, 0);
    /* Every sample of the last minutes, in time order: 42 before 43. */
    CHECK(query_has("rw_temp{instance=\"host-1\"}[5m]",
                    VT_VALUES(",\"-3.5\"],", ",\"42\"],", ",\"43\"]]")));
    vt_remote_write_destroy(w);
    vt_registry_destroy(f.reg);
}

/* How many times needle occurs in hay. */
static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Where needle first occurs in hay, or -1. */
static long find_at(const char *hay, const char *needle) {
    const char *p = hay ? strstr(hay, needle) : NULL;
    return p ? (long)(p - hay) : -1;
}

/* max_pending 3 and a receiver down for six snapshots: each flush fails at
 * once with VT_ENET, the queue never grows past three, the oldest are pushed
 * out and counted, and once the receiver is back the writer's own retry
 * delivers exactly the three newest, in time order; a fresh flush follows. */
static void test_queue_bound(void) {
    vt_registry_t *reg = NULL;
    vt_gauge_t *g;
    vt_gauge_series_t *v;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_gauge_create(reg, "rw_queued", "Numbered per snapshot.", NULL, &g), 0);
    CHECK_INT(vt_gauge_with(g, NULL, &v), 0);
    vt_remote_write_opts_t o;
    test_opts(&o, write_url);
    o.max_pending = 3;
    vt_remote_write_t *w = NULL;
    CHECK_INT(vt_remote_write_create(reg, &o, &w), 0);
    if (!w) {
        vt_registry_destroy(reg);
        return;
    }
    vt_gauge_set(v, 100);
    CHECK_INT(vt_remote_write_flush(w), 0);
    stop_prometheus();

    vt_remote_write_stats_t st;
    long long slowest = 0;
    for (int i = 1; i <= 6; i++) {
        pt_sleep_ms(5); /* each snapshot in its own millisecond */
        vt_gauge_set(v, 100 + i);
        long long t0 = pt_now_ms();
        CHECK_INT(vt_remote_write_flush(w), VT_ENET);
        long long took = pt_now_ms() - t0;
        slowest = took > slowest ? took : slowest;
        /* A refused connection fails at once; the bound is the request
         * timeout, never more. */
        CHECK(took <= o.timeout_ms);
        vt_remote_write_stats(w, &st);
        CHECK_INT(st.pending, i < 3 ? i : 3);
        CHECK_INT(st.snapshots_dropped, i > 3 ? i - 3 : 0);
    }
    printf("six flushes while down: the slowest took %lld ms\n", slowest);
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.snapshots, 7);
    CHECK_INT(st.pending, 3);
    CHECK_INT(st.snapshots_dropped, 3);
    CHECK_INT(st.requests_ok, 1);
    CHECK_INT(st.last_status, 0);

    /* The writer's thread retries on its own (backoff at most 200 ms) and
     * sends the three kept. A flush now would first take a snapshot into the
     * full queue and push out one more. */
    CHECK_INT(start_prometheus(), 0);
    for (int i = 0; i < 100; i++) { /* up to 10 s */
        vt_remote_write_stats(w, &st);
        if (st.pending == 0)
            break;
        pt_sleep_ms(100);
    }
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.snapshots_dropped, 3);
    CHECK_INT(st.requests_ok, 4);
    CHECK_INT(st.last_status, 204);
    pt_sleep_ms(5);
    vt_gauge_set(v, 107);
    CHECK_INT(vt_remote_write_flush(w), 0);
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.snapshots_dropped, 3);
    CHECK_INT(st.requests_ok, 5);

    const char *expr = "rw_queued{instance=\"host-1\"}[5m]";
    CHECK(query_has(expr,
                    VT_VALUES(",\"100\"]", ",\"104\"]", ",\"105\"]", ",\"106\"]", ",\"107\"]]")));
    char *r = query(expr);
    CHECK(r != NULL);
    CHECK(find_at(r, ",\"100\"]") < find_at(r, ",\"104\"]"));
    CHECK(find_at(r, ",\"104\"]") < find_at(r, ",\"105\"]"));
    CHECK(find_at(r, ",\"105\"]") < find_at(r, ",\"106\"]"));
    CHECK(find_at(r, ",\"106\"]") < find_at(r, ",\"107\"]"));
    CHECK_INT(count_of(r, "\"]"), 5); /* [<timestamp>,"<value>"] per sample */
    for (int i = 101; i <= 103; i++) {
        char dropped[16];
        snprintf(dropped, sizeof dropped, ",\"%d\"]", i);
        CHECK(find_at(r, dropped) < 0);
    }
    free(r);
    vt_remote_write_destroy(w);
    vt_registry_destroy(reg);
}

/* ---- a scripted receiver ---- */

#define SCRIPT_MAX 16

/* An HTTP server on 127.0.0.1 whose thread answers the n-th request with
 * codes[n] (the last code repeats) and "Connection: close", and records each
 * request's body and the monotonic millisecond it was read. */
typedef struct scripted {
    int fd, port;
    int codes[SCRIPT_MAX];
    size_t ncodes;
    pthread_t thread;
    pthread_mutex_t mu; /* guards what follows */
    int stop;
    size_t nreq;
    char *body[SCRIPT_MAX];
    size_t len[SCRIPT_MAX];
    long long at_ms[SCRIPT_MAX];
} scripted_t;

/* Read into buf until the headers and the Content-Length body are in; the
 * body's offset and length, or -1 when the client went away or stalled. */
static int read_request(int c, char *buf, size_t cap, size_t *out_off, size_t *out_len) {
    size_t got = 0;
    for (;;) {
        struct pollfd p = {c, POLLIN, 0};
        if (got + 1 >= cap || poll(&p, 1, 3000) != 1)
            return -1;
        ssize_t n = read(c, buf + got, cap - 1 - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0'; /* the headers hold no NUL: strstr finds their end */
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        size_t off = (size_t)(end - buf) + 4, len = 0;
        *end = '\0';
        for (char *h = buf; (h = strchr(h, '\n')) != NULL;)
            if (strncasecmp(++h, "Content-Length:", 15) == 0)
                len = strtoul(h + 15, NULL, 10);
        end[0] = '\r';
        if (got >= off + len) {
            *out_off = off;
            *out_len = len;
            return 0;
        }
    }
}

static void *scripted_main(void *arg) {
    scripted_t *s = arg;
    static char buf[1 << 20];
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            return NULL;
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) != 1)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        size_t off, len;
        if (read_request(c, buf, sizeof buf, &off, &len) == 0) {
            pthread_mutex_lock(&s->mu);
            size_t n = s->nreq;
            int code = s->codes[n < s->ncodes ? n : s->ncodes - 1];
            if (n < SCRIPT_MAX) {
                s->body[n] = malloc(len + 1);
                if (s->body[n])
                    memcpy(s->body[n], buf + off, len);
                s->len[n] = len;
                s->at_ms[n] = pt_now_ms();
                s->nreq++;
            }
            pthread_mutex_unlock(&s->mu);
            const char *msg = code == 503   ? "overloaded"
                              : code == 429 ? "slow down"
                              : code == 400 ? "bad sample"
                                            : "";
            char reply[256];
            int rl = snprintf(reply, sizeof reply,
                              "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\n"
                              "Connection: close\r\n\r\n%s",
                              code, strlen(msg), msg);
            if (write(c, reply, (size_t)rl) != rl)
                fprintf(stderr, "scripted receiver: short write\n");
        }
        close(c);
    }
}

/* Start a receiver answering codes (ncodes >= 1) in turn; 0 or -1. */
static int scripted_start(scripted_t *s, const int *codes, size_t ncodes) {
    memset(s, 0, sizeof *s);
    memcpy(s->codes, codes, ncodes * sizeof *codes);
    s->ncodes = ncodes;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 8) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &al) != 0) {
        if (s->fd >= 0)
            close(s->fd);
        return -1;
    }
    s->port = ntohs(a.sin_port);
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->thread, NULL, scripted_main, s) != 0) {
        close(s->fd);
        pthread_mutex_destroy(&s->mu);
        return -1;
    }
    return 0;
}

static size_t scripted_requests(scripted_t *s) {
    pthread_mutex_lock(&s->mu);
    size_t n = s->nreq;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void scripted_stop(scripted_t *s) {
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
}

/* The recorded bodies, after scripted_stop. */
static void scripted_free(scripted_t *s) {
    for (size_t i = 0; i < s->nreq; i++)
        free(s->body[i]);
}

/* Do requests i and j carry the same body? (After scripted_stop.) */
static int same_body(const scripted_t *s, size_t i, size_t j) {
    return s->len[i] == s->len[j] && s->body[i] && s->body[j] &&
           memcmp(s->body[i], s->body[j], s->len[i]) == 0;
}

/* 503 and 429 keep the snapshot at the head of the queue and send it again
 * (the same bytes); the 204 that follows clears it and the two snapshots
 * queued behind it; a 400 drops its snapshot at once, never resent. The
 * backoff is set too long to fire: only the flushes send. */
static void test_retry_statuses(void) {
    static const int codes[] = {503, 429, 204, 204, 204, 400, 204};
    scripted_t s;
    CHECK_INT(scripted_start(&s, codes, sizeof codes / sizeof codes[0]), 0);
    fixture_t f = make_registry();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/write", s.port);
    vt_remote_write_opts_t o;
    test_opts(&o, url);
    o.backoff_min_ms = o.backoff_max_ms = 600000;
    vt_remote_write_t *w = NULL;
    CHECK_INT(vt_remote_write_create(f.reg, &o, &w), 0);
    vt_remote_write_stats_t st;
    char err[512];

    CHECK_INT(vt_remote_write_flush(w), VT_EHTTP);
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.last_status, 503);
    CHECK_INT(st.pending, 1);
    CHECK_INT(st.snapshots_dropped, 0);
    vt_remote_write_last_error(w, err, sizeof err);
    CHECK_STR(err, "HTTP 503: overloaded");

    pt_sleep_ms(5);
    CHECK_INT(vt_remote_write_flush(w), VT_EHTTP); /* the first again, refused with 429 */
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.last_status, 429);
    CHECK_INT(st.pending, 2);
    CHECK_INT(st.snapshots_dropped, 0);
    CHECK_INT(st.requests_failed, 2);

    pt_sleep_ms(5);
    CHECK_INT(vt_remote_write_flush(w), 0); /* all three, oldest first */
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.last_status, 204);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.requests_ok, 3);
    CHECK_INT(st.snapshots, 3);
    CHECK_INT(st.snapshots_dropped, 0);

    pt_sleep_ms(5);
    CHECK_INT(vt_remote_write_flush(w), VT_EHTTP); /* 400: dropped, not kept */
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.last_status, 400);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.snapshots_dropped, 1);
    vt_remote_write_last_error(w, err, sizeof err);
    CHECK_STR(err, "HTTP 400: bad sample");

    pt_sleep_ms(5);
    CHECK_INT(vt_remote_write_flush(w), 0); /* only the new snapshot goes */
    vt_remote_write_stats(w, &st);
    CHECK_INT(st.requests_ok, 4);
    CHECK_INT(st.requests_failed, 3);
    CHECK_INT(scripted_requests(&s), 7);
    vt_remote_write_destroy(w); /* its last snapshot is one more request */
    scripted_stop(&s);
    CHECK_INT(s.nreq, 8);
    CHECK(same_body(&s, 0, 1) && same_body(&s, 1, 2)); /* one snapshot, sent three times */
    CHECK(!same_body(&s, 2, 3) && !same_body(&s, 3, 4));
    CHECK(!same_body(&s, 5, 6)); /* the refused one was not sent again */
    scripted_free(&s);
    vt_registry_destroy(f.reg);
}

/* Without flushes the writer's thread retries on its own, after a backoff
 * that doubles: the gaps between attempts are at least 50 then 100 ms. */
static void test_retry_backoff(void) {
    static const int codes[] = {503, 503, 204};
    scripted_t s;
    CHECK_INT(scripted_start(&s, codes, 3), 0);
    fixture_t f = make_registry();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/write", s.port);
    vt_remote_write_opts_t o;
    test_opts(&o, url);
    o.backoff_min_ms = 50;
    o.backoff_max_ms = 1000;
    vt_remote_write_t *w = NULL;
    CHECK_INT(vt_remote_write_create(f.reg, &o, &w), 0);
    CHECK_INT(vt_remote_write_flush(w), VT_EHTTP);
    vt_remote_write_stats_t st = {0};
    for (int i = 0; i < 100; i++) { /* up to 10 s; about 150 ms unloaded */
        vt_remote_write_stats(w, &st);
        if (st.requests_ok == 1)
            break;
        pt_sleep_ms(100);
    }
    CHECK_INT(st.requests_ok, 1);
    CHECK_INT(st.requests_failed, 2);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.snapshots, 1);
    CHECK_INT(st.snapshots_dropped, 0);
    CHECK_INT(scripted_requests(&s), 3);
    vt_remote_write_destroy(w);
    scripted_stop(&s);
    CHECK(s.nreq >= 3);
    if (s.nreq >= 3) {
        printf("retries came after %lld and %lld ms\n", s.at_ms[1] - s.at_ms[0],
               s.at_ms[2] - s.at_ms[1]);
        /* Whole milliseconds on both sides: allow one for the rounding. */
        CHECK(s.at_ms[1] - s.at_ms[0] >= 49);
        CHECK(s.at_ms[2] - s.at_ms[1] >= 99);
        CHECK(same_body(&s, 0, 1) && same_body(&s, 1, 2));
    }
    scripted_free(&s);
    vt_registry_destroy(f.reg);
}

static void test_bad_options(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_remote_write_opts_t o;
    vt_remote_write_t *w = NULL;
    vt_remote_write_opts_init(&o);
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL); /* no url */
    o.url = "ftp://x/";
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL);
    o.url = write_url;
    CHECK_INT(vt_remote_write_create(NULL, &o, &w), VT_EINVAL);
    CHECK_INT(vt_remote_write_create(reg, NULL, &w), VT_EINVAL);
    CHECK_INT(vt_remote_write_create(reg, &o, NULL), VT_EINVAL);
    o.labels = VT_LABELS("job");
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL);
    o.labels = VT_LABELS("__name__", "x");
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_ELABELNAME);
    o.labels = VT_LABELS("bad-name", "x");
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_ELABELNAME);
    o.labels = VT_LABELS("job", "\xff");
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EUTF8);
    o.labels = NULL;
    o.interval_ms = 0;
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL);
    vt_remote_write_opts_init(&o);
    o.url = write_url;
    o.max_pending = 0;
    CHECK_INT(vt_remote_write_create(reg, &o, &w), VT_EINVAL);
    CHECK(w == NULL);
    CHECK_INT(vt_remote_write_flush(NULL), VT_EINVAL);
    vt_remote_write_destroy(NULL);
    vt_registry_destroy(reg);
}

int main(void) {
    {
        vt_registry_t *probe = NULL;
        vt_remote_write_t *w = NULL;
        vt_remote_write_opts_t o;
        vt_registry_create(&probe);
        vt_remote_write_opts_init(&o);
        o.url = "http://127.0.0.1:1/";
        int rc = vt_remote_write_create(probe, &o, &w);
        vt_remote_write_destroy(w);
        vt_registry_destroy(probe);
        if (rc == VT_EUNSUPPORTED)
            SKIP_ALL("built without remote write (protobuf-c, protoc-c or snappy missing)");
    }
    const char *p = pt_which("prometheus");
    if (!p)
        SKIP_ALL("prometheus is not installed (apt-get install prometheus)");
    snprintf(prom_bin, sizeof prom_bin, "%s", p);
    const char *d = pt_tempdir("remote-write");
    if (!d) {
        printf("cannot make a temporary directory\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s", d);
    char cfg[700];
    snprintf(cfg, sizeof cfg, "%s/prometheus.yml", dir);
    CHECK_INT(pt_write_file(cfg, "global:\n  scrape_interval: 1h\n"), 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    port = pt_free_port(SOCK_STREAM);
    snprintf(write_url, sizeof write_url, "http://127.0.0.1:%d/api/v1/write", port);
    if (start_prometheus() != 0) {
        stop_prometheus();
        printf("0 passed, 1 failed\n");
        return 1;
    }

    RUN(test_values_arrive);
    RUN(test_refused_not_retried);
    RUN(test_receiver_restart);
    RUN(test_queue_bound);
    RUN(test_retry_statuses);
    RUN(test_retry_backoff);
    RUN(test_bad_options);

    CHECK(pt_alive(prom_pid));
    stop_prometheus();
    curl_global_cleanup();
    if (th_tests_failed == 0)
        pt_rmrf(dir);
    else
        fprintf(stderr, "prometheus files kept in %s\n", dir);
    TEST_EXIT();
}
