/* main.c - the reservations demo service: options from flags and the
 * environment, metrics, Redis, the libmicrohttpd daemon with the RED adapter,
 * and an orderly stop on SIGINT or SIGTERM.
 *
 * Flags win over environment variables, which win over defaults. The first
 * line on stdout is "reservations: listening on http://HOST:PORT/ ..." with
 * the real port (useful with --port 0). Exit status: 0 after a signal, 1 when
 * the service cannot start, 2 for a bad option.
 *
 * The stop signals are blocked in every thread and taken by sigwait() in
 * main, so no handler runs on a libmicrohttpd thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <vitals.h>
#include <vitals/http.h>

#include "service.h"

static const char usage[] =
    "Usage: reservations [options]\n"
    "\n"
    "A small reservations API measured with vitals: RED metrics for every route,\n"
    "Redis calls and simulated database queries, served on /metrics.\n"
    "\n"
    "Routes:\n"
    "  GET  /reservations/:user_id  the user's reservations (JSON), cached in Redis;\n"
    "                               400 for an id over 5 characters, 500 at --error-rate\n"
    "  POST /checkout               100-500 ms; 500 at --checkout-error-rate\n"
    "  GET  /database               a slow query, 0.5-1.5 s\n"
    "  GET  /error                  always 500\n"
    "  GET  / and /up               200\n"
    "  GET  /metrics                Prometheus text or OpenMetrics, gzip when asked\n"
    "\n"
    "Options (environment variable in brackets; flags win):\n"
    "  --port N                 listen port; 0 picks a free one [PORT] (8080)\n"
    "  --host ADDR              listen address, IPv4 or IPv6 literal (127.0.0.1)\n"
    "  --redis-host HOST        Redis server [REDIS_HOST] (127.0.0.1)\n"
    "  --redis-port N           Redis port [REDIS_PORT] (6379)\n"
    "  --error-rate P           share of /reservations answered 500, 0..1 [ERROR_RATE] (0.1)\n"
    "  --checkout-error-rate P  share of /checkout answered 500, 0..1\n"
    "                           [CHECKOUT_ERROR_RATE] (0.2)\n"
    "  --latency-scale X        multiplies every simulated delay; 1 = the original\n"
    "                           timings, 0.01 for tests [LATENCY_SCALE] (1)\n"
    "  --cache-ttl S            seconds a cached reservation list lives [CACHE_TTL] (60)\n"
    "  --threads N              0: a thread per connection; N: a pool of N threads,\n"
    "                           where a slow request holds up its thread's others (0)\n"
    "  --max-connections N      concurrent connections (256)\n"
    "  --redis-pool N           Redis connections kept at most (16)\n"
    "  --redis-timeout-ms N     Redis connect and call timeout (500)\n"
    "  --seed N                 seed of the random latencies and failures; 0 draws one (0)\n"
    "  -h, --help               this text\n"
    "\n"
    "When Redis is down the service answers from the simulated database, counts\n"
    "the failed calls in redis_errors_total and reconnects (at most once a second\n"
    "per connection) when it is back. Stops on SIGINT or SIGTERM.\n";

static int bad(const char *what, const char *value) {
    fprintf(stderr, "reservations: bad %s: '%s' (see --help)\n", what, value);
    return -1;
}

static int parse_uint(const char *what, const char *s, unsigned long max, unsigned *out) {
    char *end;
    unsigned long v;
    if (!s || !*s || *s == '-')
        return bad(what, s ? s : "");
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return bad(what, s);
    *out = (unsigned)v;
    return 0;
}

static int parse_double(const char *what, const char *s, double lo, double hi, double *out) {
    char *end;
    double v;
    if (!s || !*s)
        return bad(what, s ? s : "");
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return bad(what, s);
    *out = v;
    return 0;
}

/* One option, from a flag or an environment variable. */
static int set_option(res_config_t *cfg, const char *name, const char *v) {
    if (strcmp(name, "port") == 0)
        return parse_uint("--port", v, 65535, &cfg->port);
    if (strcmp(name, "host") == 0) {
        cfg->host = v;
        return 0;
    }
    if (strcmp(name, "redis-host") == 0) {
        if (!*v)
            return bad("--redis-host", v);
        cfg->redis_host = v;
        return 0;
    }
    if (strcmp(name, "redis-port") == 0) {
        if (parse_uint("--redis-port", v, 65535, &cfg->redis_port) != 0)
            return -1;
        return cfg->redis_port ? 0 : bad("--redis-port", v);
    }
    if (strcmp(name, "error-rate") == 0)
        return parse_double("--error-rate", v, 0, 1, &cfg->error_rate);
    if (strcmp(name, "checkout-error-rate") == 0)
        return parse_double("--checkout-error-rate", v, 0, 1, &cfg->checkout_error_rate);
    if (strcmp(name, "latency-scale") == 0)
        return parse_double("--latency-scale", v, 0, 1000, &cfg->latency_scale);
    if (strcmp(name, "cache-ttl") == 0) {
        if (parse_uint("--cache-ttl", v, 100000000, &cfg->cache_ttl_s) != 0)
            return -1;
        return cfg->cache_ttl_s ? 0 : bad("--cache-ttl", v);
    }
    if (strcmp(name, "threads") == 0)
        return parse_uint("--threads", v, 1024, &cfg->threads);
    if (strcmp(name, "max-connections") == 0) {
        if (parse_uint("--max-connections", v, 100000, &cfg->max_connections) != 0)
            return -1;
        return cfg->max_connections ? 0 : bad("--max-connections", v);
    }
    if (strcmp(name, "redis-pool") == 0) {
        if (parse_uint("--redis-pool", v, 1024, &cfg->redis_pool) != 0)
            return -1;
        return cfg->redis_pool ? 0 : bad("--redis-pool", v);
    }
    if (strcmp(name, "redis-timeout-ms") == 0) {
        if (parse_uint("--redis-timeout-ms", v, 600000, &cfg->redis_timeout_ms) != 0)
            return -1;
        return cfg->redis_timeout_ms ? 0 : bad("--redis-timeout-ms", v);
    }
    if (strcmp(name, "seed") == 0) {
        char *end;
        unsigned long long s;
        errno = 0;
        s = strtoull(v, &end, 10);
        if (!*v || *v == '-' || errno || *end)
            return bad("--seed", v);
        cfg->seed = (uint64_t)s;
        return 0;
    }
    fprintf(stderr, "reservations: unknown option --%s (see --help)\n", name);
    return -1;
}

static int read_environment(res_config_t *cfg) {
    static const char *const vars[][2] = {
        {"PORT", "port"},
        {"REDIS_HOST", "redis-host"},
        {"REDIS_PORT", "redis-port"},
        {"ERROR_RATE", "error-rate"},
        {"CHECKOUT_ERROR_RATE", "checkout-error-rate"},
        {"LATENCY_SCALE", "latency-scale"},
        {"CACHE_TTL", "cache-ttl"},
    };
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i][0]);
        if (v && *v && set_option(cfg, vars[i][1], v) != 0) {
            fprintf(stderr, "reservations: (from the environment variable %s)\n", vars[i][0]);
            return -1;
        }
    }
    return 0;
}

/* Returns 0 to run, 1 after --help, -1 on a bad option. */
static int parse_args(int argc, char **argv, res_config_t *cfg) {
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *eq, *v;
        size_t n;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "reservations: unexpected argument '%s' (see --help)\n", a);
            return -1;
        }
        a += 2;
        eq = strchr(a, '=');
        n = eq ? (size_t)(eq - a) : strlen(a);
        if (n >= sizeof(name)) {
            fprintf(stderr, "reservations: unknown option --%s (see --help)\n", a);
            return -1;
        }
        memcpy(name, a, n);
        name[n] = '\0';
        if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            fprintf(stderr, "reservations: --%s needs a value (see --help)\n", name);
            return -1;
        }
        if (set_option(cfg, name, v) != 0)
            return -1;
    }
    return 0;
}

/* Latency bounds of the request and query histograms, in seconds: the
 * default ones plus 1 and 2.5 ms (the fast routes and cache hits) and .75,
 * 1.5 and 2 s (checkout and the slow query), so that histogram_quantile()
 * lands near the real latencies. */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                 0.5,   0.75,   1,     1.5,  2,     2.5,  5,   10};

/* The listen address as a socket address; 0 or -1 when not a literal. */
static int listen_address(const res_config_t *cfg, struct sockaddr_storage *out, int *out_v6) {
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, cfg->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
        *out_v6 = 0;
        return 0;
    }
    if (inet_pton(AF_INET6, cfg->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        *out_v6 = 1;
        return 0;
    }
    return -1;
}

int main(int argc, char **argv) {
    res_config_t cfg = {
        .host = "127.0.0.1",
        .port = 8080,
        .redis_host = "127.0.0.1",
        .redis_port = 6379,
        .error_rate = 0.1,
        .checkout_error_rate = 0.2,
        .latency_scale = 1.0,
        .cache_ttl_s = 60,
        .threads = 0,
        .max_connections = 256,
        .redis_pool = 16,
        .redis_timeout_ms = 500,
        .seed = 0,
    };
    res_app_t app = {&cfg, NULL, NULL};
    vt_registry_t *reg = vt_registry_default();
    vt_red_t *red = NULL;
    vt_red_mhd_t *adapter = NULL;
    vt_red_mhd_opts_t ao;
    vt_red_opts_t ro;
    struct MHD_Daemon *d;
    struct sockaddr_storage sa;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    sigset_t stop;
    int rc, sig, v6, status = 1;

    if (read_environment(&cfg) != 0)
        return 2;
    rc = parse_args(argc, argv, &cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (listen_address(&cfg, &sa, &v6) != 0) {
        fprintf(stderr, "reservations: --host takes an IPv4 or IPv6 address, not '%s'\n", cfg.host);
        return 2;
    }
    res_rand_seed(cfg.seed);
    /* A write to a connection Redis closed must fail, not kill the service. */
    signal(SIGPIPE, SIG_IGN);

    /* Metrics: process saturation, the simulated database, Redis, RED. */
    rc = vt_process_collector_register(reg);
    if (rc == 0)
        rc = res_db_create(reg, cfg.latency_scale, buckets, sizeof(buckets) / sizeof(buckets[0]),
                           &app.db);
    if (rc == 0)
        rc = res_cache_create(reg, &cfg, &app.cache);
    vt_red_opts_init(&ro);
    ro.duration_buckets = buckets;
    ro.duration_bucket_count = sizeof(buckets) / sizeof(buckets[0]);
    if (rc == 0)
        rc = vt_red_create(reg, &ro, &red);
    for (size_t i = 0; rc == 0 && res_routes[i]; i++)
        rc = vt_red_route_add(red, res_routes[i]);
    if (rc == 0) {
        vt_red_mhd_opts_init(&ao);
        ao.handler = res_handle;
        ao.handler_cls = &app;
        ao.metrics_registry = reg;
        rc = vt_red_mhd_create(red, &ao, &adapter);
    }
    if (rc != 0) {
        fprintf(stderr, "reservations: cannot set up metrics: %s\n", vt_strerror(rc));
        goto out;
    }

    /* Block the stop signals in every thread; main waits for them below. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    if (cfg.threads == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    if (v6)
        flags |= MHD_USE_IPv6;
    d = MHD_start_daemon(flags, 0, NULL, NULL, vt_red_mhd_access, adapter,
                         MHD_OPTION_NOTIFY_COMPLETED, vt_red_mhd_completed, adapter,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
                         cfg.threads, MHD_OPTION_CONNECTION_LIMIT, cfg.max_connections,
                         MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "reservations: cannot listen on %s port %u (in use?)\n", cfg.host,
                cfg.port);
        goto out;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("reservations: listening on http://%s%s%s:%u/ (metrics at /metrics; redis %s:%u %s)\n",
           v6 ? "[" : "", cfg.host, v6 ? "]" : "", info ? info->port : cfg.port, cfg.redis_host,
           cfg.redis_port,
           res_cache_connected_at_start(app.cache) ? "connected" : "not reachable, will retry");
    fflush(stdout);

    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    status = 0;
out:
    vt_red_mhd_destroy(adapter);
    vt_red_destroy(red);
    res_cache_destroy(app.cache);
    res_db_destroy(app.db);
    return status;
}
