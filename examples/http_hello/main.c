/* http_hello - a libmicrohttpd service whose every request is measured by the
 * vitals RED adapter, with its own /metrics on the same port.
 *
 *   GET  /hello/:name   200 "Hello, <name>!"
 *   POST /echo          200, the request body back
 *   GET  /metrics       the service's metrics (Prometheus text or OpenMetrics)
 *   anything else       404, or 405 for a known path with another method
 *
 * Usage: http_hello [--port N] [--address A] [--threads N] [--work-ms N]
 *                   [--no-middleware]
 *   --port 0 picks a free port; the URL is printed on stdout either way.
 *   --threads 0 (default) runs one thread per connection, N > 0 a pool of N
 *   polling threads. --work-ms makes /hello sleep N ms, as if it did work.
 *   --no-middleware serves the same routes unmeasured (for benchmarks).
 * Stops on SIGINT or SIGTERM.
 *
 * Handlers run on libmicrohttpd's threads; each request's state is its own.
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vitals.h>
#include <vitals/http.h>

#define MAX_ECHO (1024 * 1024)

typedef struct config {
    const char *address;
    unsigned port;
    unsigned threads;
    unsigned work_ms;
    int middleware;
} config_t;

/* The body of one POST /echo, gathered over the handler calls. */
typedef struct echo_buf {
    char *data;
    size_t len;
    int too_big;
} echo_buf_t;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text,
                             size_t len, enum MHD_ResponseMemoryMode mode) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)text, mode);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    /* vt_http_queue_response() also tells the middleware the body size;
     * plain MHD_queue_response() works too (the status is read back). */
    ret = vt_http_queue_response(c, status, r, len);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_static(struct MHD_Connection *c, unsigned status, const char *text) {
    return reply(c, status, text, strlen(text), MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result not_allowed(struct MHD_Connection *c, const char *allow) {
    struct MHD_Response *r = MHD_create_response_from_buffer(
        sizeof("method not allowed\n") - 1, (void *)"method not allowed\n", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    MHD_destroy_response(r);
    return ret;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static enum MHD_Result hello(const config_t *cfg, struct MHD_Connection *c, const char *method,
                             const char *name) {
    char buf[160];
    int n;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return not_allowed(c, "GET, HEAD");
    if (cfg->work_ms)
        sleep_ms(cfg->work_ms);
    n = snprintf(buf, sizeof(buf), "Hello, %.100s!\n", name);
    return reply(c, MHD_HTTP_OK, buf, (size_t)n, MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result echo(struct MHD_Connection *c, const char *data, size_t *size,
                            void **con_cls) {
    echo_buf_t *b = *con_cls;
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b)
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*size > 0) {
        if (b->len + *size > MAX_ECHO) {
            b->too_big = 1;
        } else {
            char *p = realloc(b->data, b->len + *size);
            if (!p)
                return MHD_NO;
            memcpy(p + b->len, data, *size);
            b->data = p;
            b->len += *size;
        }
        *size = 0;
        return MHD_YES;
    }
    if (b->too_big)
        return reply_static(c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n");
    return reply(c, MHD_HTTP_OK, b->data ? b->data : "", b->len, MHD_RESPMEM_MUST_COPY);
}

/* Marks a request whose first handler call has passed. */
static int headers_seen;

/* Answer a request that is not POST /echo. */
static enum MHD_Result route(const config_t *cfg, struct MHD_Connection *c, const char *url,
                             const char *method) {
    if (strncmp(url, "/hello/", 7) == 0 && url[7] != '\0' && !strchr(url + 7, '/'))
        return hello(cfg, c, method, url + 7);
    if (strcmp(url, "/echo") == 0)
        return not_allowed(c, "POST");
    return reply_static(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* libmicrohttpd takes a response in the first call (then closes the
 * connection after it) or once the request is fully read (keeping it open).
 * GET and HEAD are answered at the end so connections stay alive; other
 * methods here get an error at once, body unread. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **con_cls) {
    const config_t *cfg = cls;
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    (void)version;
    if (strcmp(url, "/echo") == 0 && strcmp(method, "POST") == 0)
        return echo(c, data, size, con_cls);
    if (!*con_cls) {
        if (!get)
            return route(cfg, c, url, method);
        *con_cls = &headers_seen;
        return MHD_YES;
    }
    if (*size) {
        *size = 0; /* a GET with a body: skipped */
        return MHD_YES;
    }
    return route(cfg, c, url, method);
}

/* Frees what echo() gathered. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    echo_buf_t *b = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (b && *con_cls != &headers_seen) {
        free(b->data);
        free(b);
        *con_cls = NULL;
    }
}

static int parse_args(int argc, char **argv, config_t *cfg) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-middleware") == 0) {
            cfg->middleware = 0;
            continue;
        }
        if (!v)
            return -1;
        if (strcmp(a, "--port") == 0)
            cfg->port = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--address") == 0)
            cfg->address = v;
        else if (strcmp(a, "--threads") == 0)
            cfg->threads = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--work-ms") == 0)
            cfg->work_ms = (unsigned)strtoul(v, NULL, 10);
        else
            return -1;
        i++;
    }
    return cfg->port > 65535 ? -1 : 0;
}

int main(int argc, char **argv) {
    config_t cfg = {"127.0.0.1", 8080, 0, 0, 1};
    vt_red_t *red = NULL;
    vt_red_mhd_t *adapter = NULL;
    vt_red_mhd_opts_t aopts;
    struct MHD_Daemon *d;
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    sigset_t stop;
    int rc, sig;

    if (parse_args(argc, argv, &cfg) != 0) {
        fprintf(stderr,
                "usage: %s [--port N] [--address A] [--threads N] [--work-ms N] "
                "[--no-middleware]\n",
                argv[0]);
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg.port);
    if (inet_pton(AF_INET, cfg.address, &sa.sin_addr) != 1) {
        fprintf(stderr, "http_hello: --address takes an IPv4 address\n");
        return 2;
    }

    if (cfg.middleware) {
        /* The RED metrics, the two route templates, the process metrics and
         * the adapter. */
        rc = vt_red_create(NULL, NULL, &red);
        if (rc == 0)
            rc = vt_red_route_add(red, "/hello/:name");
        if (rc == 0)
            rc = vt_red_route_add(red, "/echo");
        if (rc == 0) /* CPU, memory, threads, file descriptors: saturation */
            rc = vt_process_collector_register(vt_registry_default());
        vt_red_mhd_opts_init(&aopts);
        aopts.handler = handler;
        aopts.handler_cls = &cfg;
        aopts.completed = completed;
        aopts.metrics_registry = vt_registry_default();
        if (rc == 0)
            rc = vt_red_mhd_create(red, &aopts, &adapter);
        if (rc != 0) {
            fprintf(stderr, "http_hello: %s\n", vt_strerror(rc));
            return 1;
        }
    }

    /* Block the stop signals in every thread; main waits for them below. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    if (cfg.threads == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    if (cfg.middleware)
        d = MHD_start_daemon(flags, 0, NULL, NULL, vt_red_mhd_access, adapter,
                             MHD_OPTION_NOTIFY_COMPLETED, vt_red_mhd_completed, adapter,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                             MHD_OPTION_THREAD_POOL_SIZE, cfg.threads, MHD_OPTION_END);
    else
        d = MHD_start_daemon(flags, 0, NULL, NULL, handler, &cfg, MHD_OPTION_NOTIFY_COMPLETED,
                             completed, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                             MHD_OPTION_THREAD_POOL_SIZE, cfg.threads, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "http_hello: cannot listen on %s:%u\n", cfg.address, cfg.port);
        return 1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("http_hello listening on http://%s:%u/ (metrics at /metrics%s)\n", cfg.address,
           info ? info->port : cfg.port, cfg.middleware ? "" : ", off");
    fflush(stdout);

    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    vt_red_mhd_destroy(adapter);
    vt_red_destroy(red);
    return 0;
}
