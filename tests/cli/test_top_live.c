/* test_top_live.c - `vitals top --once/--count` against real services on 127.0.0.1.
 *
 * - http_hello (examples/http_hello) under known traffic sent by this test
 *   with libcurl at a fixed pace (GET /hello/:name 40/s, POST /echo 10/s):
 *   `--once --json` shows both routes at those rates (within 20%), no
 *   errors, quantiles, and the process collector's saturation figures.
 * - tests/cli/red_server.py, whose counters grow at set rates with the time
 *   since it started: rates, error ratios and the bucket-interpolated
 *   quantiles it implies, in JSON and in text tables.
 * - The same server stopped and started again on its port (by pid): the
 *   endpoint's status goes from "ok" to "down: connection refused" and back
 *   to "ok", and no rate is ever negative although its counters restarted.
 * - The server answering HTTP 500, then text that does not parse at line 3,
 *   then metrics again: each shows as the endpoint's status; it recovers.
 * - Exit statuses and usage errors.
 * Needs python3 for red_server.py; http_hello is built with the examples.
 * Each part skips (locally) or fails (CI) when what it needs is missing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli_run.h"
#include "harness.h"

#define RED_SERVER VT_SOURCE_DIR "/tests/cli/red_server.py"

static char scratch[256];
static char python[512];

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- a red_server.py on a given port ---------------------------------------------------- */

static pid_t red_start(int port, const char *log) {
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    char *argv[] = {python, RED_SERVER, p, NULL};
    pid_t pid = spawn_bg(argv, log);
    if (pid > 0 && wait_http(port, "/metrics", pid, 10000) != 0) {
        stop_pid(pid);
        return -1;
    }
    return pid;
}

static void red_mode(int port, const char *mode) {
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/mode/%s", port, mode);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *null = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, null);
    CHECK_INT(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    fclose(null);
}

/* ---- JSON lines --------------------------------------------------------------------------- */

/* Every line of out parsed as JSON (malloc'd array, *n entries). */
static json_t **json_lines(const char *out, size_t *n) {
    json_t **v = NULL;
    *n = 0;
    const char *p = out;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        json_error_t err;
        json_t *j = json_loadb(p, len, 0, &err);
        if (!j) {
            fprintf(stderr, "not JSON: %.*s\n", (int)len, p);
            CHECK(0);
        } else {
            v = realloc(v, (*n + 1) * sizeof *v);
            v[(*n)++] = j;
        }
        p = eol ? eol + 1 : NULL;
    }
    return v;
}

static void json_lines_free(json_t **v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        json_decref(v[i]);
    }
    free(v);
}

static json_t *find_route(json_t *line, const char *family, const char *name) {
    json_t *fams = json_object_get(line, "families");
    for (size_t i = 0; i < json_array_size(fams); i++) {
        json_t *f = json_array_get(fams, i);
        if (strcmp(json_string_value(json_object_get(f, "family")), family) != 0) {
            continue;
        }
        json_t *routes = json_object_get(f, "routes");
        for (size_t k = 0; k < json_array_size(routes); k++) {
            json_t *r = json_array_get(routes, k);
            if (strcmp(json_string_value(json_object_get(r, "route")), name) == 0) {
                return r;
            }
        }
    }
    fprintf(stderr, "no route %s %s\n", family, name);
    return NULL;
}

static double num(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int near(double got, double want, double share) {
    int ok = fabs(got - want) <= share * want;
    if (!ok) {
        fprintf(stderr, "%.6g is not within %.0f%% of %.6g\n", got, share * 100, want);
    }
    return ok;
}

/* ---- http_hello under known traffic --------------------------------------------------------- */

typedef struct traffic {
    int port;
    volatile int stop;
    unsigned long sent_hello, sent_echo;
} traffic_t;

static size_t discard(char *p, size_t size, size_t n, void *u) {
    (void)p;
    (void)u;
    return size * n;
}

/* GET /hello/ann 40 times a second and POST /echo 10 times, on an absolute
 * schedule (a late request is sent at once, so the pace holds on average). */
/* Unused where the examples are not built (VT_HELLO_PATH undefined). */
__attribute__((unused)) static void *send_traffic(void *arg) {
    traffic_t *t = arg;
    char hello[96], echo[96];
    snprintf(hello, sizeof hello, "http://127.0.0.1:%d/hello/ann", t->port);
    snprintf(echo, sizeof echo, "http://127.0.0.1:%d/echo", t->port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    double start = mono();
    for (unsigned long tick = 0; !t->stop; tick++) {
        double at = start + (double)tick / 50.0;
        double wait = at - mono();
        if (wait > 0) {
            sleep_s(wait);
        }
        if (tick % 5 == 4) {
            curl_easy_setopt(c, CURLOPT_URL, echo);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, "hi");
            t->sent_echo += curl_easy_perform(c) == CURLE_OK;
        } else {
            curl_easy_setopt(c, CURLOPT_URL, hello);
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
            t->sent_hello += curl_easy_perform(c) == CURLE_OK;
        }
    }
    curl_easy_cleanup(c);
    return NULL;
}

static void test_hello_known_traffic(void) {
    int failed_before = th_checks_failed;
    (void)failed_before;
#ifndef VT_HELLO_PATH
    const char *ci = getenv("CI");
    printf("SKIP test_hello_known_traffic: the examples are not built\n");
    CHECK(!(ci && *ci)); /* CI builds them */
#else
    int port = free_port();
    char p[16], log[300], url[96];
    snprintf(p, sizeof p, "%d", port);
    snprintf(log, sizeof log, "%s/hello.log", scratch);
    char *argv[] = {VT_HELLO_PATH, "--port", p, NULL};
    pid_t pid = spawn_bg(argv, log);
    CHECK(pid > 0);
    CHECK_INT(wait_http(port, "/metrics", pid, 10000), 0);
    traffic_t t = {port, 0, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, send_traffic, &t);
    sleep_s(0.5);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    run_result_t r;
    CHECK_INT(run_vitals(&r, NULL, "top", "--once", "--json", "--interval", "2", url, NULL), 0);
    t.stop = 1;
    pthread_join(th, NULL);
    stop_pid(pid);
    size_t n;
    json_t **lines = json_lines(r.out, &n);
    CHECK_INT(n, 1); /* --once: one object per endpoint */
    if (n == 1) {
        json_t *j = lines[0];
        CHECK(json_is_true(json_object_get(j, "up")));
        CHECK(near(num(j, "interval"), 2.0, 0.1));
        json_t *hello = find_route(j, "http_request", "GET /hello/:name");
        json_t *echo = find_route(j, "http_request", "POST /echo");
        CHECK(hello && echo);
        if (hello && echo) {
            CHECK(near(num(hello, "rate"), 40.0, 0.2));
            CHECK(near(num(echo, "rate"), 10.0, 0.2));
            CHECK_DBL(num(hello, "error_ratio"), 0.0);
            CHECK_DBL(num(hello, "errors"), 0.0);
            CHECK(num(hello, "p50") > 0 && num(hello, "p50") <= num(hello, "p90"));
            CHECK(num(hello, "p90") <= num(hello, "p99"));
            CHECK_STR(json_string_value(json_object_get(json_object_get(hello, "labels"), "route")),
                      "/hello/:name");
        }
        json_t *sat = json_object_get(j, "saturation");
        CHECK(num(sat, "cpu") >= 0);
        CHECK(num(sat, "resident_bytes") > 0);
        CHECK(num(sat, "open_fds") > 0 && num(sat, "max_fds") >= num(sat, "open_fds"));
        CHECK(json_object_size(json_object_get(sat, "in_flight")) >= 1);
    }
    if (n != 1 || th_checks_failed != failed_before) {
        fprintf(stderr, "sent %lu hello, %lu echo; output:\n%s\n%s\n", t.sent_hello, t.sent_echo,
                r.out, r.err);
    }
    json_lines_free(lines, n);
    run_free(&r);
#endif
}

/* ---- red_server.py: exact figures ----------------------------------------------------------- */

static void test_red_server_figures(void) {
    int port = free_port();
    char log[300], url[96];
    snprintf(log, sizeof log, "%s/red1.log", scratch);
    pid_t pid = red_start(port, log);
    CHECK(pid > 0);
    snprintf(url, sizeof url, "127.0.0.1:%d", port); /* host:port is enough */
    run_result_t r;
    CHECK_INT(run_vitals(&r, NULL, "top", "--json", "--count", "2", "--interval", "1", url, NULL),
              0);
    size_t n;
    json_t **lines = json_lines(r.out, &n);
    CHECK_INT(n, 2);
    for (size_t i = 0; i < n; i++) {
        json_t *j = lines[i];
        char want[160];
        snprintf(want, sizeof want, "http://%s/metrics", url);
        CHECK_STR(json_string_value(json_object_get(j, "endpoint")), want);
        json_t *users = find_route(j, "http_request", "GET /api/users");
        json_t *orders = find_route(j, "http_request", "POST /api/orders");
        json_t *slow = find_route(j, "http_request", "GET /api/slow");
        CHECK(users && orders && slow);
        if (!users || !orders || !slow) {
            continue;
        }
        /* Counts are whole requests: within one request per interval. */
        CHECK(near(num(users, "rate"), 50, 0.06));
        CHECK(near(num(orders, "rate"), 20, 0.11));
        CHECK(near(num(slow, "rate"), 5, 0.41));
        CHECK(num(orders, "error_ratio") > 0 && num(orders, "error_ratio") < 0.25);
        /* Every request in one bucket: the quantiles are the bucket's interpolation. */
        CHECK(near(num(users, "p50"), 0.005 + 0.005 * 0.5, 1e-9));
        CHECK(near(num(users, "p99"), 0.005 + 0.005 * 0.99, 1e-9));
        CHECK(near(num(slow, "p50"), 0.5 + 0.5 * 0.5, 1e-9));
        CHECK(near(num(slow, "p90"), 0.5 + 0.5 * 0.9, 1e-9));
        json_t *sat = json_object_get(j, "saturation");
        CHECK(near(num(sat, "cpu"), 0.25, 0.05));
        CHECK_DBL(num(sat, "resident_bytes"), 12582912);
        CHECK_DBL(num(sat, "open_fds"), 17);
        CHECK_DBL(num(json_object_get(sat, "in_flight"), "http_requests_in_flight"), 3);
    }
    json_lines_free(lines, n);
    run_free(&r);

    /* Text tables when stdout is not a terminal. */
    CHECK_INT(
        run_vitals(&r, NULL, "top", "--once", "--interval", "0.5", "--sort", "p99", url, NULL), 0);
    CHECK_CONTAINS(r.out, "FAMILY        ROUTE");
    CHECK_CONTAINS(r.out, "RATE/s      ERR/s     ERR%       P50       P90       P99");
    CHECK_CONTAINS(r.out, "saturation: cpu");
    /* Sorted by p99: the slow route first; its latencies are over the objective. */
    const char *slow = strstr(r.out, "GET /api/slow");
    const char *users = strstr(r.out, "GET /api/users");
    CHECK(slow && users && slow < users);
    CHECK_CONTAINS(r.out, "750ms!");
    run_free(&r);
    stop_pid(pid);
}

/* ---- down, then up again -----------------------------------------------------------------------
 */

/* The statuses of the lines, in order, with repeats folded: "ok|down: ...|ok". */
static void status_sequence(json_t **lines, size_t n, char *out, size_t len) {
    out[0] = '\0';
    const char *last = "";
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_object_get(lines[i], "status"));
        if (s && strncmp(s, last, 12) != 0) {
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%s%.12s", used ? "|" : "", s);
            last = s;
        }
    }
}

static int no_negative_rates(json_t **lines, size_t n) {
    for (size_t i = 0; i < n; i++) {
        json_t *fams = json_object_get(lines[i], "families");
        for (size_t f = 0; f < json_array_size(fams); f++) {
            json_t *routes = json_object_get(json_array_get(fams, f), "routes");
            for (size_t k = 0; k < json_array_size(routes); k++) {
                json_t *r = json_array_get(routes, k);
                if (num(r, "rate") < 0 || num(r, "errors") < 0) {
                    return 0;
                }
            }
        }
    }
    return 1;
}

static pid_t spawn_vitals(char **args, const char *log) {
    char *argv[16] = {VT_CLI_PATH, "top"};
    size_t i = 2;
    for (; args[i - 2] && i < 15; i++) {
        argv[i] = args[i - 2];
    }
    argv[i] = NULL;
    return spawn_bg(argv, log);
}

static int wait_exit(pid_t pid, double timeout) {
    double end = mono() + timeout;
    while (mono() < end) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        sleep_s(0.05);
    }
    stop_pid(pid);
    return -1;
}

static void test_down_then_up(void) {
    int failed_before = th_checks_failed;
    int port = free_port();
    char log[300], out[300], url[96];
    snprintf(log, sizeof log, "%s/red2.log", scratch);
    snprintf(out, sizeof out, "%s/top2.json", scratch);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    pid_t srv = red_start(port, log);
    CHECK(srv > 0);
    char *args[] = {"--json", "--interval", "0.3", "--count", "16", url, NULL};
    pid_t top = spawn_vitals(args, out);
    sleep_s(1.3);
    stop_pid(srv); /* down */
    sleep_s(1.5);
    srv = red_start(port, log); /* up again, its counters from 0 */
    CHECK(srv > 0);
    int status = wait_exit(top, 30);
    CHECK_INT(status, 0); /* up at the last scrape */
    stop_pid(srv);
    char *text = read_text(out, NULL);
    size_t n;
    json_t **lines = json_lines(text ? text : "", &n);
    CHECK_INT(n, 16);
    char seq[256];
    status_sequence(lines, n, seq, sizeof seq);
    CHECK_STR(seq, "ok|down: connec|ok");
    CHECK_CONTAINS(text, "\"status\":\"down: connection refused\"");
    CHECK(no_negative_rates(lines, n));
    /* The last interval is after the restart: rates as set, not negative, not huge. */
    if (n) {
        json_t *users = find_route(lines[n - 1], "http_request", "GET /api/users");
        CHECK(users && near(num(users, "rate"), 50, 0.3));
    }
    if (th_checks_failed != failed_before) {
        fprintf(stderr, "%s\n", text ? text : "");
    }
    json_lines_free(lines, n);
    free(text);
}

static void test_bad_answers(void) {
    int failed_before = th_checks_failed;
    int port = free_port();
    char log[300], out[300], url[96];
    snprintf(log, sizeof log, "%s/red3.log", scratch);
    snprintf(out, sizeof out, "%s/top3.json", scratch);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    pid_t srv = red_start(port, log);
    CHECK(srv > 0);
    char *args[] = {"--json", "--interval", "0.3", "--count", "14", url, NULL};
    pid_t top = spawn_vitals(args, out);
    sleep_s(1.0);
    red_mode(port, "500");
    sleep_s(1.2);
    red_mode(port, "garbage");
    sleep_s(1.2);
    red_mode(port, "ok");
    CHECK_INT(wait_exit(top, 30), 0);
    stop_pid(srv);
    char *text = read_text(out, NULL);
    size_t n;
    json_t **lines = json_lines(text ? text : "", &n);
    char seq[256];
    status_sequence(lines, n, seq, sizeof seq);
    CHECK_STR(seq, "ok|HTTP 500|parse error |ok");
    CHECK_CONTAINS(text, "\"status\":\"HTTP 500\"");
    CHECK_CONTAINS(text, "\"status\":\"parse error line 3: ");
    if (th_checks_failed != failed_before) {
        fprintf(stderr, "%s\n", text ? text : "");
    }
    json_lines_free(lines, n);
    free(text);
}

/* ---- exit statuses ------------------------------------------------------------------------------
 */

static void test_exit_statuses(void) {
    run_result_t r;
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", free_port());
    CHECK_INT(run_vitals(&r, NULL, "top", "--once", "--interval", "0.2", url, NULL), 1);
    CHECK_CONTAINS(r.out, "down: connection refused");
    run_free(&r);
    CHECK_INT(run_vitals(&r, NULL, "top", "--help", NULL), 0);
    CHECK_CONTAINS(r.out, "Usage: vitals top");
    run_free(&r);
    CHECK_INT(run_vitals(&r, NULL, "top", NULL), 2);
    CHECK_CONTAINS(r.err, "no endpoint given");
    run_free(&r);
    CHECK_INT(run_vitals(&r, NULL, "top", "--interval", "0", url, NULL), 2);
    CHECK_CONTAINS(r.err, "--interval");
    run_free(&r);
    CHECK_INT(run_vitals(&r, NULL, "top", "--sort", "bogus", url, NULL), 2);
    CHECK_CONTAINS(r.err, "--sort");
    run_free(&r);
    CHECK_INT(run_vitals(&r, NULL, "top", "--once", "--count", "3", url, NULL), 2);
    run_free(&r);
    CHECK_INT(run_vitals(&r, NULL, "top", "-", NULL), 2);
    CHECK_CONTAINS(r.err, "standard input");
    run_free(&r);
    /* Listed in the command's help. */
    CHECK_INT(run_vitals(&r, NULL, "--help", NULL), 0);
    CHECK_CONTAINS(r.out, "  top ");
    run_free(&r);
}

int main(void) {
    if (!find_tool("python3", "/usr/bin", python, sizeof python)) {
        SKIP_ALL("python3 is needed for tests/cli/red_server.py");
    }
    if (make_scratch(scratch, sizeof scratch, "top-live") != 0) {
        fprintf(stderr, "no scratch directory\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_exit_statuses);
    RUN(test_hello_known_traffic);
    RUN(test_red_server_figures);
    RUN(test_down_then_up);
    RUN(test_bad_answers);
    curl_global_cleanup();
    remove_tree(scratch);
    TEST_EXIT();
}
