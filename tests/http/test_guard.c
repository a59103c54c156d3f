/* test_guard.c - what protects the embedded server and the adapter from
 * hostile clients, over real sockets on 127.0.0.1: requests with an ambiguous
 * length get 400 and a closed connection (nothing smuggled behind them is
 * answered), a request that drips in slower than request_timeout_s is cut
 * off, the per-address connection limit, and open connections costing no
 * thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "vitals.h"
#include "vitals/http.h"

#include "client.h"
#include "sample_value.h"

#define SMUGGLED "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"

static vt_registry_t *small_registry(void) {
    vt_registry_t *reg;
    vt_counter_t *c;
    vt_counter_series_t *s;
    if (vt_registry_create(&reg) != 0)
        return NULL;
    vt_registry_set_self_metrics(reg, 0);
    if (vt_counter_create(reg, "guard_marker_total", "Marker.", NULL, &c) == 0 &&
        vt_counter_with(c, NULL, &s) == 0)
        vt_counter_add(s, 7);
    return reg;
}

/* Requests whose length two readers could read differently. libmicrohttpd
 * itself refuses some (ours == 0) before any handler runs; the guard answers
 * the rest. */
static const struct {
    int ours;
    const char *raw;
} ambiguous[] = {
    /* both lengths */
    {1, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLED},
    /* two lengths */
    {1, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: "
        "34\r\n\r\n" SMUGGLED},
    /* a list as the length */
    {0, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 34\r\n\r\n" SMUGGLED},
    /* a blank before the colon */
    {1, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length : 34\r\n\r\n" SMUGGLED},
    /* a body announced on HEAD by chunks */
    {1,
     "HEAD /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLED},
    /* a coding that is not chunked last */
    {1, "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" SMUGGLED},
    /* a length with a sign */
    {0, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n" SMUGGLED},
};

static void test_defaults(void) {
    vt_http_server_opts_t o;
    vt_red_mhd_opts_t a;
    vt_http_server_opts_init(&o);
    CHECK_INT(o.max_connections, 256);
    CHECK_INT(o.max_connections_per_ip, 0);
    CHECK_INT(o.threads, 2);
    CHECK_INT(o.connection_timeout_s, 10);
    CHECK_INT(o.request_timeout_s, 10);
    vt_red_mhd_opts_init(&a);
    CHECK_INT(a.pass_ambiguous_framing, 0);
}

static void test_server_framing(void) {
    vt_registry_t *reg = small_registry(), *self;
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    unsigned port;
    size_t i;
    int ours = 0;
    CHECK_INT(vt_registry_create(&self), 0);
    vt_http_server_opts_init(&o);
    o.self_registry = self;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    port = vt_http_server_port(s);
    for (i = 0; i < sizeof(ambiguous) / sizeof(ambiguous[0]); i++) {
        double t0 = now_ms();
        char *got = raw_exchange(port, ambiguous[i].raw, strlen(ambiguous[i].raw), 5000);
        double took = now_ms() - t0;
        CHECK(got != NULL);
        if (!got)
            continue;
        CHECK_INT(count_of_str(got, "HTTP/1.1 200"), 0);
        CHECK_INT(count_of_str(got, "guard_marker_total"), 0);
        CHECK(count_of_str(got, "HTTP/1.1 400") >= 1);
        if (ambiguous[i].ours) {
            CHECK_INT(count_of_str(got, "HTTP/1.1 "), 1);
            CHECK_CONTAINS(got, "Connection: close");
            if (strncmp(ambiguous[i].raw, "HEAD", 4) != 0) /* HEAD: no body */
                CHECK_CONTAINS(got, "bad request: ");
            ours++;
        }
        /* closed by the server, not by the client's 5 s wait */
        CHECK(took < 4000);
        free(got);
    }
    /* The metrics path counted its 400s (HEAD too); the server still serves. */
    CHECK_DBL(sample_one(self, "promhttp_metric_handler_requests_total", "code", "400"), ours);
    {
        static const char fine[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                                   "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
        char *got = raw_exchange(port, fine, sizeof(fine) - 1, 1500);
        CHECK_INT(count_of_str(got, "HTTP/1.1 200"), 2);
        CHECK_INT(count_of_str(got, "guard_marker_total 7"), 2);
        free(got);
    }
    vt_http_server_stop(s);
    vt_registry_destroy(self);
    vt_registry_destroy(reg);
}

/* ---- the adapter -------------------------------------------------------- */

static atomic_int handler_calls;

static enum MHD_Result answer_ok(struct MHD_Connection *conn) {
    static const char ok[] = "ok\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(ok) - 1, (void *)(uintptr_t)ok,
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static struct sockaddr_in loopback;

static struct sockaddr *loopback_any_port(void) {
    memset(&loopback, 0, sizeof(loopback));
    loopback.sin_family = AF_INET;
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return (struct sockaddr *)&loopback;
}

static enum MHD_Result service(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls) {
    static int seen;
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    atomic_fetch_add(&handler_calls, 1);
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer_ok(conn);
}

static void adapter_case(int pass) {
    static const char post[] = "POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                               "Content-Length: 34\r\n\r\n" SMUGGLED;
    vt_registry_t *reg = small_registry();
    vt_red_t *red;
    vt_red_mhd_opts_t ao;
    vt_red_mhd_t *a;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    const char *labels[] = {"method", "route", "code", NULL};
    const char *values[] = {"POST", "unmatched", "400", NULL};
    double v = -1;
    char *got;
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    vt_red_mhd_opts_init(&ao);
    ao.handler = service;
    ao.pass_ambiguous_framing = pass;
    CHECK_INT(vt_red_mhd_create(red, &ao, &a), 0);
    d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL, vt_red_mhd_access, a,
                         MHD_OPTION_NOTIFY_COMPLETED, vt_red_mhd_completed, a, MHD_OPTION_SOCK_ADDR,
                         loopback_any_port(), MHD_OPTION_END);
    CHECK(d != NULL);
    if (!d)
        return;
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    atomic_store(&handler_calls, 0);
    got = raw_exchange(info->port, post, sizeof(post) - 1, 1500);
    if (!pass) {
        CHECK_INT(count_of_str(got, "HTTP/1.1 "), 1);
        CHECK_INT(count_of_str(got, "HTTP/1.1 400"), 1);
        CHECK_INT(atomic_load(&handler_calls), 0);
    } else {
        /* As libmicrohttpd reads it: the handler answers, then the request
         * behind it too (what the guard exists to stop). */
        CHECK(atomic_load(&handler_calls) > 0);
        CHECK_INT(count_of_str(got, "HTTP/1.1 400"), 0);
    }
    free(got);
    MHD_stop_daemon(d);
    (void)vt_registry_get_sample_value(reg, "http_requests_total", labels, values, &v);
    CHECK_DBL(v, pass ? -1 : 1); /* measured as a 400 when refused */
    vt_red_mhd_destroy(a);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

static void test_adapter_framing(void) {
    adapter_case(0);
    adapter_case(1);
}

/* ---- deadlines and limits ----------------------------------------------- */

/* Send the start of a request, then one byte every 200 ms until the server
 * closes (or limit_ms passes); the milliseconds that took. */
static double drip_until_closed(unsigned port, const char *src, double limit_ms) {
    static const char start[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    double t0 = now_ms();
    int fd = tcp_connect_from(port, src);
    if (fd < 0)
        return -1;
    if (send(fd, start, sizeof(start) - 1, MSG_NOSIGNAL) < 0) {
        close(fd);
        return now_ms() - t0;
    }
    while (now_ms() - t0 < limit_ms) {
        struct pollfd p = {fd, POLLIN, 0};
        char buf[512];
        if (poll(&p, 1, 200) > 0 && recv(fd, buf, sizeof(buf), 0) <= 0)
            break;
        if (send(fd, "a", 1, MSG_NOSIGNAL) < 0)
            break;
    }
    close(fd);
    return now_ms() - t0;
}

static void test_request_deadline(void) {
    vt_registry_t *reg = small_registry();
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    unsigned port;
    double t;
    char *got;
    int fd;
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.connection_timeout_s = 30; /* never idle: only the deadline can close it */
    o.request_timeout_s = 1;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    port = vt_http_server_port(s);
    t = drip_until_closed(port, NULL, 8000);
    printf("a request dripping in closed after %.0f ms (deadline 1 s)\n", t);
    CHECK(t > 900 && t < 6000);

    /* Keep-alive: each response gives the next request a new second. */
    fd = tcp_connect(port);
    CHECK(fd >= 0);
    for (int i = 0; fd >= 0 && i < 3; i++) {
        static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
        char buf[8192];
        ssize_t n;
        struct pollfd p = {fd, POLLIN, 0};
        usleep(600 * 1000);
        CHECK(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1));
        n = poll(&p, 1, 3000) > 0 ? recv(fd, buf, sizeof(buf) - 1, 0) : -1;
        CHECK(n > 0);
        if (n > 0) {
            buf[n] = 0;
            CHECK_CONTAINS(buf, "HTTP/1.1 200");
        }
    }
    if (fd >= 0)
        close(fd);

    /* With no deadline only the idle timeout applies: dripping keeps it. */
    vt_http_server_stop(s);
    o.request_timeout_s = 0;
    o.connection_timeout_s = 1;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    t = drip_until_closed(vt_http_server_port(s), NULL, 2500);
    CHECK(t >= 2400);
    got = raw_exchange(vt_http_server_port(s), SMUGGLED, strlen(SMUGGLED), 1500);
    CHECK_CONTAINS(got, "guard_marker_total 7");
    free(got);
    vt_http_server_stop(s);
    vt_registry_destroy(reg);
}

static void test_per_address_limit(void) {
    vt_registry_t *reg = small_registry();
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    unsigned port;
    int fds[3], i, other;
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    o.threads = 1; /* one pool thread: the limit is exact */
    o.max_connections_per_ip = 2;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    port = vt_http_server_port(s);
    for (i = 0; i < 3; i++) {
        fds[i] = tcp_connect_from(port, "127.0.0.2");
        usleep(100 * 1000);
    }
    CHECK(fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0);
    if (fds[0] < 0) {
        printf("cannot bind 127.0.0.2 here\n");
    } else {
        CHECK(!closed_within(fds[0], 300));
        CHECK(!closed_within(fds[1], 300));
        CHECK(closed_within(fds[2], 2000)); /* the third from that address */
        /* Another address is not held back. */
        other = tcp_connect_from(port, "127.0.0.3");
        CHECK(other >= 0 && !closed_within(other, 300));
        if (other >= 0)
            close(other);
        close(fds[0]);
        usleep(200 * 1000);
        fds[0] = tcp_connect_from(port, "127.0.0.2");
        CHECK(fds[0] >= 0 && !closed_within(fds[0], 300));
    }
    for (i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    vt_http_server_stop(s);
    vt_registry_destroy(reg);
}

static long threads_now(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long n = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %ld", &n) == 1)
            break;
    fclose(f);
    return n;
}

static void test_connections_cost_no_thread(void) {
    vt_registry_t *reg = small_registry();
    vt_http_server_opts_t o;
    vt_http_server_t *s;
    long before, during;
    int fds[200], i, open_n = 0;
    resp_t r;
    vt_http_server_opts_init(&o);
    o.self_metrics = 0;
    CHECK_INT(vt_http_server_start(reg, &o, &s), 0);
    before = threads_now();
    for (i = 0; i < 200; i++) {
        fds[i] = tcp_connect(vt_http_server_port(s));
        open_n += fds[i] >= 0;
    }
    usleep(300 * 1000);
    during = threads_now();
    printf("threads: %ld before, %ld with %d connections open\n", before, during, open_n);
    CHECK_INT(open_n, 200);
    CHECK(during == before);
    {
        char u[64];
        snprintf(u, sizeof(u), "http://127.0.0.1:%u/metrics", vt_http_server_port(s));
        CHECK_INT(http_do(u, NULL, &r), 200);
        resp_free(&r);
    }
    for (i = 0; i < 200; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    vt_http_server_stop(s);
    vt_registry_destroy(reg);
}

/* The adapter gives a daemon of the service's own the same defences when
 * the daemon reports its connections to vt_red_mhd_connection(). */
static void test_adapter_guard(void) {
    static const char start[] = "GET /api HTTP/1.1\r\nHost: x\r\n";
    vt_registry_t *reg = small_registry();
    vt_red_t *red;
    vt_red_mhd_opts_t ao;
    vt_red_mhd_t *a;
    struct MHD_Daemon *d;
    unsigned port;
    int fds[2], i;
    double t;
    char *got;
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    vt_red_mhd_opts_init(&ao);
    CHECK_INT(ao.request_timeout_s, 0);
    CHECK_INT(ao.max_connections, 0);
    ao.handler = service;
    ao.request_timeout_s = 1;
    ao.max_connections = 2;
    CHECK_INT(vt_red_mhd_create(red, &ao, &a), 0);
    d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL, vt_red_mhd_access, a,
                         MHD_OPTION_NOTIFY_COMPLETED, vt_red_mhd_completed, a,
                         MHD_OPTION_NOTIFY_CONNECTION, vt_red_mhd_connection, a,
                         MHD_OPTION_CONNECTION_LIMIT, 6, MHD_OPTION_CONNECTION_TIMEOUT, 30,
                         MHD_OPTION_SOCK_ADDR, loopback_any_port(), MHD_OPTION_END);
    CHECK(d != NULL);
    if (!d)
        return;
    port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    /* A request dripping in is cut off at the deadline (the idle timeout is
     * 30 s). */
    t = drip_until_closed(port, NULL, 8000);
    printf("adapter: a request dripping in closed after %.0f ms (deadline 1 s)\n", t);
    CHECK(t > 900 && t < 6000);
    /* Two stalled connections, then a request: it is answered, and the
     * oldest stalled one makes room. */
    for (i = 0; i < 2; i++) {
        fds[i] = tcp_connect(port);
        CHECK(fds[i] >= 0);
        if (fds[i] >= 0)
            CHECK(send(fds[i], start, sizeof(start) - 1, MSG_NOSIGNAL) > 0);
        usleep(100 * 1000);
    }
    atomic_store(&handler_calls, 0);
    got = raw_exchange(port, SMUGGLED, strlen(SMUGGLED), 1500);
    CHECK_CONTAINS(got, "HTTP/1.1 200");
    free(got);
    CHECK(fds[0] >= 0 && closed_within(fds[0], 2000));
    for (i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    MHD_stop_daemon(d);
    vt_red_mhd_destroy(a);

    /* The options without the callback on the daemon: no deadline, no harm. */
    CHECK_INT(vt_red_mhd_create(red, &ao, &a), 0);
    d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL, vt_red_mhd_access, a,
                         MHD_OPTION_NOTIFY_COMPLETED, vt_red_mhd_completed, a,
                         MHD_OPTION_CONNECTION_TIMEOUT, 2, MHD_OPTION_SOCK_ADDR,
                         loopback_any_port(), MHD_OPTION_END);
    CHECK(d != NULL);
    if (d) {
        port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
        t = drip_until_closed(port, NULL, 2500);
        CHECK(t >= 2400);
        got = raw_exchange(port, SMUGGLED, strlen(SMUGGLED), 1500);
        CHECK_CONTAINS(got, "HTTP/1.1 200");
        free(got);
        MHD_stop_daemon(d);
    }
    vt_red_mhd_destroy(a);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

int main(void) {
    client_init();
    RUN(test_defaults);
    RUN(test_server_framing);
    RUN(test_adapter_framing);
    RUN(test_request_deadline);
    RUN(test_per_address_limit);
    RUN(test_adapter_guard);
    RUN(test_connections_cost_no_thread);
    TEST_EXIT();
}
