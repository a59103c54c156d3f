/* statsd_bench.c - vitals-bench-statsd: the caller-thread cost of StatsD calls.
 *
 * Each case makes its calls in batches of BATCH and times every batch with
 * CLOCK_MONOTONIC; the figure per call is a batch's time divided by BATCH, and
 * the table shows the median, 90th and 99th percentile over all batches. Cases
 * are interleaved round by round so that machine noise hits each alike. A UDP
 * sink on 127.0.0.1 drains every datagram on its own thread. The reference,
 * "raw sendto per line", formats the same line with snprintf and sends it at
 * once on a non-blocking socket: what a client without batching pays.
 *
 * Usage: vitals-bench-statsd [--quick]
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vitals.h"
#include "vitals/statsd.h"

#define BATCH 64
#define ROUNDS 5

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the sink ---- */

static int sink_fd, sink_port;
static int stop_pipe[2];
static _Atomic unsigned long sink_datagrams;

static void *sink_main(void *arg) {
    (void)arg;
    static char buf[65536];
    struct pollfd p[2] = {{.fd = stop_pipe[0], .events = POLLIN},
                          {.fd = sink_fd, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        while (recv(sink_fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
            atomic_fetch_add(&sink_datagrams, 1);
    }
    return NULL;
}

static struct sockaddr_in sink_addr(void) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)sink_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int sink_start(pthread_t *th) {
    sink_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = sink_addr();
    socklen_t len = sizeof a;
    int big = 8 << 20;
    setsockopt(sink_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    if (sink_fd < 0 || bind(sink_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(sink_fd, (struct sockaddr *)&a, &len) != 0 || pipe(stop_pipe) != 0)
        return -1;
    sink_port = ntohs(a.sin_port);
    return pthread_create(th, NULL, sink_main, NULL) == 0 ? 0 : -1;
}

/* ---- cases ---- */

typedef struct samples {
    double *v;
    size_t n, cap;
} samples_t;

static void add(samples_t *s, double x) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        double *v = realloc(s->v, s->cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        s->v = v;
    }
    s->v[s->n++] = x;
}

static vt_statsd_t *client;
static int raw_fd;

typedef enum which { COUNT, COUNT_PACED, COUNT_SAMPLED, TIMING, GAUGE, RAW_SENDTO, NCASES } which_t;
static const char *const case_name[NCASES] = {
    "vt_statsd_count (batched)",      "vt_statsd_count, paced (batched)",
    "vt_statsd_count @0.1 (batched)", "vt_statsd_timing (batched)",
    "vt_statsd_gauge (batched)",      "raw sendto per line (reference)",
};

static void batch(which_t w, unsigned i) {
    switch (w) {
    case COUNT:
    case COUNT_PACED:
        for (int k = 0; k < BATCH; k++)
            vt_statsd_count(client, "bench.requests", 1, 1.0);
        break;
    case COUNT_SAMPLED:
        for (int k = 0; k < BATCH; k++)
            vt_statsd_count(client, "bench.requests", 1, 0.1);
        break;
    case TIMING:
        for (int k = 0; k < BATCH; k++)
            vt_statsd_timing(client, "bench.latency", 12.25 + (double)k, 1.0);
        break;
    case GAUGE:
        for (int k = 0; k < BATCH; k++)
            vt_statsd_gauge(client, "bench.depth", (double)(i + (unsigned)k));
        break;
    case RAW_SENDTO: {
        struct sockaddr_in a = sink_addr();
        char line[64];
        for (int k = 0; k < BATCH; k++) {
            int n = snprintf(line, sizeof line, "%s:%d|c", "bench.requests", 1);
            sendto(raw_fd, line, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof a);
        }
        break;
    }
    default:
        break;
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(samples_t *s, double p) {
    size_t i = (size_t)(p * (double)(s->n - 1));
    return s->v[i];
}

/* ---- two threads at once ---- */

typedef struct worker {
    unsigned batches;
    samples_t s;
} worker_t;

static void *contended(void *arg) {
    worker_t *w = arg;
    for (unsigned i = 0; i < w->batches; i++) {
        uint64_t a = now_ns();
        batch(COUNT, i);
        add(&w->s, (double)(now_ns() - a) / BATCH);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    unsigned batches = quick ? 500 : 8000; /* per case and round */
    pthread_t sink;
    if (sink_start(&sink) != 0) {
        fprintf(stderr, "cannot open the UDP sink\n");
        return 1;
    }
    raw_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = sink_port;
    o.buffer_size = 1 << 20;
    if (vt_statsd_create(&o, &client) != 0) {
        fprintf(stderr, "vt_statsd_create failed\n");
        return 1;
    }

    samples_t s[NCASES];
    uint64_t dropped[NCASES] = {0};
    memset(s, 0, sizeof s);
    for (unsigned i = 0; i < 200; i++) /* warm-up */
        for (int w = 0; w < NCASES; w++)
            batch((which_t)w, i);
    for (int r = 0; r < ROUNDS; r++)
        for (int w = 0; w < NCASES; w++)
            for (unsigned i = 0; i < batches; i++) {
                uint64_t d0 = vt_statsd_dropped(client);
                uint64_t a = now_ns();
                batch((which_t)w, i);
                uint64_t b = now_ns();
                add(&s[w], (double)(b - a) / BATCH);
                dropped[w] += vt_statsd_dropped(client) - d0;
                if (w == COUNT_PACED) /* untimed: leave the sender time to keep up */
                    while (now_ns() - b < 20000) {
                    }
            }

    worker_t two[2];
    memset(two, 0, sizeof two);
    pthread_t th[2];
    for (int t = 0; t < 2; t++) {
        two[t].batches = batches * ROUNDS / 2;
        pthread_create(&th[t], NULL, contended, &two[t]);
    }
    samples_t both;
    memset(&both, 0, sizeof both);
    for (int t = 0; t < 2; t++) {
        pthread_join(th[t], NULL);
        for (size_t i = 0; i < two[t].s.n; i++)
            add(&both, two[t].s.v[i]);
        free(two[t].s.v);
    }
    vt_statsd_flush(client);

    printf("ns per call, per-batch average of %d calls, %zu batches per case\n", BATCH, s[0].n);
    printf("%-36s %8s %8s %8s %8s\n", "case", "median", "p90", "p99", "dropped");
    for (int w = 0; w < NCASES; w++) {
        qsort(s[w].v, s[w].n, sizeof(double), cmp);
        printf("%-36s %8.1f %8.1f %8.1f %7.1f%%\n", case_name[w], pct(&s[w], 0.5), pct(&s[w], 0.9),
               pct(&s[w], 0.99), 100.0 * (double)dropped[w] / ((double)s[w].n * BATCH));
    }
    qsort(both.v, both.n, sizeof(double), cmp);
    printf("%-36s %8.1f %8.1f %8.1f\n", "vt_statsd_count, 2 threads at once", pct(&both, 0.5),
           pct(&both, 0.9), pct(&both, 0.99));
    printf("datagrams sent %llu, lines dropped %llu, datagrams received %lu\n",
           (unsigned long long)vt_statsd_sent(client),
           (unsigned long long)vt_statsd_dropped(client), atomic_load(&sink_datagrams));

    vt_statsd_destroy(client);
    if (write(stop_pipe[1], "x", 1) != 1)
        return 1;
    pthread_join(sink, NULL);
    for (int w = 0; w < NCASES; w++)
        free(s[w].v);
    free(both.v);
    return 0;
}
