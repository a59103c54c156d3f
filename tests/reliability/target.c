/* target.c - the service the reliability tests attack: vitals' embedded
 * /metrics server and a small libmicrohttpd service measured by the RED
 * adapter, both on 127.0.0.1, plus threads that keep the metrics busy.
 *
 * Usage: reliability_target [--auth USER:PASSWORD] [--max-connections N]
 *            [--per-ip N] [--timeout S] [--request-timeout S]
 *            [--max-in-flight N] [--load THREADS] [--series N]
 *            [--red-connections N] [--red-mode epoll|poll|thread]
 * Prints "ready server=<port> red=<port> pid=<pid>" once both listen, then
 * runs until its standard input closes or it gets SIGTERM or SIGINT; then it
 * stops both servers, joins its threads, frees everything and prints
 * "stopped" (so a leak checker sees a clean exit).
 *
 * The service (RED routes): GET /api/items/:id (200), GET /api/users/:id/orders
 * (200), POST /api/items (201, reads its body), GET under /static/ (200),
 * anything else 404; /metrics on the same daemon is answered by the adapter.
 * The embedded server serves the same registry with the options given.
 *
 * Threads: libmicrohttpd's (the embedded server's own pool and deadline
 * sweeper; for the service a pool of two polling threads using epoll or poll,
 * or a thread per connection, as --red-mode says), THREADS load threads that record
 * requests and bump counters in bursts, and the main thread, which waits.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "vitals.h"
#include "vitals/http.h"

static atomic_int stopping;

typedef struct cfg {
    const char *auth;
    unsigned max_connections, per_ip, timeout_s, request_timeout_s, max_in_flight, red_connections;
    unsigned load, series;
    const char *red_mode; /* "epoll" (default), "poll" or "thread" */
} cfg_t;

/* ---- the measured service ------------------------------------------------ */

static const char *const routes[] = {"/api/items/:id", "/api/users/:id/orders", "/api/items",
                                     "/static/*"};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    enum MHD_Result rc = vt_http_queue_response(c, status, r, strlen(body));
    MHD_destroy_response(r);
    return rc;
}

/* Answers once the request is read, as keep-alive needs with libmicrohttpd. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls) {
    vt_red_t *red = cls;
    (void)version;
    (void)upload;
    if (*con_cls == NULL) {
        *con_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* bodies are read and dropped */
        return MHD_YES;
    }
    const char *route = vt_red_route_match(red, url, strlen(url));
    if (strcmp(method, "POST") == 0 && strcmp(route, "/api/items") == 0)
        return answer(c, 201, "created\n");
    if (strcmp(method, "GET") == 0 && strcmp(route, VT_RED_UNMATCHED) != 0 &&
        strcmp(route, "/api/items") != 0)
        return answer(c, 200, "ok\n");
    return answer(c, 404, "not found\n");
}

/* ---- load ---------------------------------------------------------------- */

typedef struct load {
    pthread_t thread;
    vt_red_t *red;
    vt_counter_t *work;
    unsigned seed;
} load_t;

static void *load_main(void *arg) {
    load_t *l = arg;
    static const char *const paths[] = {"/api/items/1", "/api/items/2", "/api/users/7/orders",
                                        "/static/app.js", "/nope"};
    static const int codes[] = {200, 200, 200, 304, 404, 500};
    char key[16];
    while (!atomic_load(&stopping)) {
        for (int i = 0; i < 2000; i++) {
            unsigned r = l->seed = l->seed * 1103515245u + 12345u;
            vt_red_observe(l->red, "GET", paths[(r >> 8) % 5], codes[(r >> 16) % 6],
                           (double)((r >> 4) % 1000) / 10000.0, VT_RED_NO_SIZE, VT_RED_NO_SIZE);
            vt_counter_series_t *s;
            snprintf(key, sizeof key, "w%u", (r >> 20) % 16);
            if (vt_counter_with(l->work, VT_VALUES(key), &s) == 0)
                vt_counter_inc(s);
        }
        struct timespec ts = {0, 2000000}; /* 2 ms: busy, not spinning */
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- main ----------------------------------------------------------------- */

static int parse_args(int argc, char **argv, cfg_t *c) {
    c->auth = NULL;
    c->max_connections = 256;
    c->timeout_s = 10;
    c->per_ip = 0;
    c->request_timeout_s = 10;
    c->max_in_flight = 4;
    c->red_connections = 256;
    c->load = 2;
    c->series = 500;
    c->red_mode = "epoll";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned *u = NULL;
        if (strcmp(a, "--auth") == 0 && v) {
            c->auth = v;
            i++;
            continue;
        }
        if (strcmp(a, "--red-mode") == 0 && v) {
            c->red_mode = v;
            i++;
            continue;
        }
        if (strcmp(a, "--max-connections") == 0)
            u = &c->max_connections;
        else if (strcmp(a, "--per-ip") == 0)
            u = &c->per_ip;
        else if (strcmp(a, "--request-timeout") == 0)
            u = &c->request_timeout_s;
        else if (strcmp(a, "--timeout") == 0)
            u = &c->timeout_s;
        else if (strcmp(a, "--max-in-flight") == 0)
            u = &c->max_in_flight;
        else if (strcmp(a, "--red-connections") == 0)
            u = &c->red_connections;
        else if (strcmp(a, "--load") == 0)
            u = &c->load;
        else if (strcmp(a, "--series") == 0)
            u = &c->series;
        if (!u || !v) {
            fprintf(stderr, "reliability_target: bad argument %s\n", a);
            return -1;
        }
        *u = (unsigned)strtoul(v, NULL, 10);
        i++;
    }
    return 0;
}

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&stopping, 1);
}

int main(int argc, char **argv) {
    cfg_t cfg;
    if (parse_args(argc, argv, &cfg) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    vt_registry_t *reg;
    vt_red_t *red;
    vt_counter_t *work;
    vt_gauge_t *inventory;
    if (vt_registry_create(&reg) != 0 || vt_red_create(reg, NULL, &red) != 0 ||
        vt_counter_create(reg, "target_work_total", "Work done.", VT_LABELS("worker"), &work) ||
        vt_gauge_create(reg, "target_inventory", "Items.", VT_LABELS("sku"), &inventory)) {
        fprintf(stderr, "reliability_target: cannot create the metrics\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (vt_red_route_add(red, routes[i]) != 0)
            return 1;
    for (unsigned i = 0; i < cfg.series; i++) {
        char sku[24];
        vt_gauge_series_t *s;
        snprintf(sku, sizeof sku, "sku-%05u", i);
        if (vt_gauge_with(inventory, VT_VALUES(sku), &s) == 0)
            vt_gauge_set(s, i * 1.5);
    }

    /* The embedded server. */
    char hash[VT_HTTP_HASH_BUFSZ], user[128] = "";
    vt_http_server_opts_t so;
    vt_http_server_opts_init(&so);
    so.max_connections = cfg.max_connections;
    so.connection_timeout_s = cfg.timeout_s;
    so.max_connections_per_ip = cfg.per_ip;
    so.request_timeout_s = cfg.request_timeout_s;
    so.max_in_flight = cfg.max_in_flight;
    if (cfg.auth) {
        const char *colon = strchr(cfg.auth, ':');
        size_t ul = colon ? (size_t)(colon - cfg.auth) : 0;
        if (!colon || ul >= sizeof user || vt_http_hash_password(NULL, colon + 1, hash) != 0) {
            fprintf(stderr, "reliability_target: bad --auth\n");
            return 2;
        }
        memcpy(user, cfg.auth, ul);
        so.auth_user = user;
        so.auth_password_hash = hash;
    }
    vt_http_server_t *srv;
    int rc = vt_http_server_start(reg, &so, &srv);
    if (rc != 0) {
        fprintf(stderr, "reliability_target: server: %s\n", vt_strerror(rc));
        return 1;
    }

    /* The measured service. */
    vt_red_mhd_opts_t ao;
    vt_red_mhd_t *adapter;
    vt_red_mhd_opts_init(&ao);
    ao.handler = handler;
    ao.handler_cls = red;
    ao.metrics_registry = reg;
    /* The same defences as the embedded server: a request deadline, and room
     * made under the daemon's own limit (an eighth below it). */
    ao.request_timeout_s = cfg.request_timeout_s;
    ao.max_connections = cfg.red_connections - cfg.red_connections / 8;
    if (vt_red_mhd_create(red, &ao, &adapter) != 0)
        return 1;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD, pool = 2;
    if (strcmp(cfg.red_mode, "epoll") == 0)
        flags |= MHD_USE_EPOLL;
    else if (strcmp(cfg.red_mode, "poll") == 0)
        flags |= MHD_USE_POLL;
    else if (strcmp(cfg.red_mode, "thread") == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION, pool = 0;
    else
        return 2;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, vt_red_mhd_access, adapter, MHD_OPTION_NOTIFY_COMPLETED,
        vt_red_mhd_completed, adapter, MHD_OPTION_NOTIFY_CONNECTION, vt_red_mhd_connection, adapter,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_THREAD_POOL_SIZE, pool,
        MHD_OPTION_CONNECTION_LIMIT, cfg.red_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg.timeout_s, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "reliability_target: cannot start the service\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);

    load_t *loads = calloc(cfg.load ? cfg.load : 1, sizeof *loads);
    if (!loads)
        return 1;
    for (unsigned i = 0; i < cfg.load; i++) {
        loads[i].red = red;
        loads[i].work = work;
        loads[i].seed = 7u * i + 1u;
        if (pthread_create(&loads[i].thread, NULL, load_main, &loads[i]) != 0)
            return 1;
    }

    printf("ready server=%u red=%u pid=%ld\n", vt_http_server_port(srv), info ? info->port : 0,
           (long)getpid());
    fflush(stdout);

    /* Wait for stdin to close or a signal. */
    char buf[256];
    while (!atomic_load(&stopping)) {
        struct pollfd p = {0, POLLIN, 0};
        int n = poll(&p, 1, 200);
        if (n > 0) {
            ssize_t r = read(0, buf, sizeof buf);
            if (r == 0 || (r < 0 && errno != EINTR))
                break;
        }
    }
    atomic_store(&stopping, 1);
    for (unsigned i = 0; i < cfg.load; i++)
        pthread_join(loads[i].thread, NULL);
    free(loads);
    MHD_stop_daemon(d);
    vt_red_mhd_destroy(adapter);
    vt_http_server_stop(srv);
    vt_red_destroy(red);
    vt_registry_destroy(reg);
    printf("stopped\n");
    return 0;
}
