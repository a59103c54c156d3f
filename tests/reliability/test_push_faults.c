/* test_push_faults.c - the push clients when the other side is gone or hostile.
 *
 * StatsD: four threads flood a client whose daemon's port is closed; no call
 * may block on the network, every refused datagram must be counted, and the
 * client must stop at once. Pushgateway: receivers on 127.0.0.1 that dribble
 * a response, answer with a huge body, never accept, or hang up halfway; each
 * push must fail with a clear error in bounded time, without holding memory
 * or file descriptors, and the client must work again afterwards.
 * (The plain closed port, the silent server and the Redis server killed under
 * load are covered by push_pushgateway, push_statsd and redis_failure.)
 *
 * Every receiver is a thread of this process on a port of 127.0.0.1 picked by
 * the kernel; the test joins each before it returns.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "harness.h"
#include "vitals.h"
#include "vitals/pushgateway.h"
#include "vitals/statsd.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A socket bound to 127.0.0.1 on a free port; *out_port receives the port. */
static int bound_socket(int type, int *out_port) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, type, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    *out_port = ntohs(a.sin_port);
    return fd;
}

static int open_fds(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static long rss_kib(void) {
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

/* ---- StatsD: a flood towards a closed port -------------------------------- */

#define FLOOD_THREADS 4
#define FLOOD_CALLS 100000

typedef struct flood {
    pthread_t thread;
    vt_statsd_t *client;
    double worst_s; /* slowest single call */
    long ok, busy, other;
} flood_t;

static void *flood_main(void *arg) {
    flood_t *f = arg;
    for (long i = 0; i < FLOOD_CALLS; i++) {
        double t0 = now_s();
        int rc = i % 3 ? vt_statsd_count(f->client, "shop.orders", 1, 1.0)
                       : vt_statsd_timing(f->client, "shop.checkout", (double)(i % 1000), 1.0);
        double took = now_s() - t0;
        if (took > f->worst_s)
            f->worst_s = took;
        if (rc == 0)
            f->ok++;
        else if (rc == VT_EBUSY)
            f->busy++;
        else
            f->other++;
    }
    return NULL;
}

static void test_statsd_closed_port(void) {
    int port, fd = bound_socket(SOCK_DGRAM, &port);
    CHECK(fd >= 0);
    close(fd); /* nothing listens there now */

    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = port;
    o.flush_interval_ms = 5;
    o.registry = reg;
    vt_statsd_t *c = NULL;
    CHECK_INT(vt_statsd_create(&o, &c), 0);
    if (!c) {
        vt_registry_destroy(reg);
        return;
    }

    flood_t fl[FLOOD_THREADS];
    memset(fl, 0, sizeof fl);
    double t0 = now_s();
    for (int i = 0; i < FLOOD_THREADS; i++) {
        fl[i].client = c;
        CHECK_INT(pthread_create(&fl[i].thread, NULL, flood_main, &fl[i]), 0);
    }
    double worst = 0;
    long ok = 0, busy = 0, other = 0;
    for (int i = 0; i < FLOOD_THREADS; i++) {
        pthread_join(fl[i].thread, NULL);
        worst = fl[i].worst_s > worst ? fl[i].worst_s : worst;
        ok += fl[i].ok;
        busy += fl[i].busy;
        other += fl[i].other;
    }
    double flood_s = now_s() - t0;
    CHECK_INT(vt_statsd_flush(c), 0);
    uint64_t dropped = vt_statsd_dropped(c), sent = vt_statsd_sent(c);
    double exposed = -1;
    CHECK_INT(vt_registry_get_sample_value(reg, "statsd_dropped_total", NULL, NULL, &exposed), 0);
    double t1 = now_s();
    vt_statsd_destroy(c);
    double destroy_s = now_s() - t1;

    printf("statsd to a closed port: %d calls in %.2f s (%.0f/s), slowest call %.1f ms; "
           "%ld queued, %ld refused as busy; %llu datagrams sent, %llu lines dropped; "
           "destroy %.1f ms\n",
           FLOOD_THREADS * FLOOD_CALLS, flood_s, FLOOD_THREADS * FLOOD_CALLS / flood_s, worst * 1e3,
           ok, busy, (unsigned long long)sent, (unsigned long long)dropped, destroy_s * 1e3);
    CHECK_INT(other, 0);
    CHECK_INT(ok + busy, FLOOD_THREADS * FLOOD_CALLS);
    /* "Never blocks": no call waits for the network. A call may wait for the
     * ring's lock while another thread holds it, never for a send. */
    CHECK(worst < 0.25);
    /* Refused datagrams (ECONNREFUSED once the port is known closed) and full
     * buffers are counted, and the registry sees the same number. */
    CHECK(dropped > 0);
    CHECK(dropped >= (uint64_t)busy);
    CHECK_DBL(exposed, (double)dropped);
    CHECK(destroy_s < 1.0);
    vt_registry_destroy(reg);
}

/* ---- Pushgateway: hostile receivers ---------------------------------------- */

typedef enum mode {
    DRIBBLE,    /* a status line, then one byte every 100 ms */
    HUGE_ERROR, /* 400 with a 50 MB body, as fast as it goes */
    HANG_UP,    /* half a status line, then close */
    GOOD        /* 200, no body */
} recv_mode_t;

typedef struct receiver {
    int fd, port;
    recv_mode_t mode;
    pthread_t thread;
    atomic_int stop;
} receiver_t;

/* Read the request head (and what fits of the body) without answering it. */
static void drain(int c) {
    char buf[65536];
    struct timeval tv = {0, 200000};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n;
    while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
        if (memmem(buf, (size_t)n, "\r\n\r\n", 4))
            break;
    }
}

static int send_all(int c, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(c, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *receiver_main(void *arg) {
    receiver_t *r = arg;
    while (!atomic_load(&r->stop)) {
        int c = accept(r->fd, NULL, NULL);
        if (c < 0)
            break;
        drain(c);
        if (r->mode == DRIBBLE) {
            const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
            send_all(c, head, strlen(head));
            for (int i = 0; i < 100 && !atomic_load(&r->stop); i++) {
                if (send_all(c, "x", 1) != 0)
                    break;
                sleep_ms(100);
            }
        } else if (r->mode == HUGE_ERROR) {
            const char *head = "HTTP/1.1 400 Bad Request\r\nContent-Length: 52428800\r\n\r\n";
            static char chunk[65536];
            memset(chunk, 'e', sizeof chunk);
            send_all(c, head, strlen(head));
            for (int i = 0; i < 800; i++)
                if (send_all(c, chunk, sizeof chunk) != 0)
                    break;
        } else if (r->mode == HANG_UP) {
            send_all(c, "HTTP/1.1 2", 10);
        } else {
            const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            send_all(c, ok, strlen(ok));
        }
        close(c);
    }
    return NULL;
}

static int receiver_start(receiver_t *r, recv_mode_t mode) {
    memset(r, 0, sizeof *r);
    r->mode = mode;
    r->fd = bound_socket(SOCK_STREAM, &r->port);
    if (r->fd < 0 || listen(r->fd, 16) != 0)
        return -1;
    return pthread_create(&r->thread, NULL, receiver_main, r);
}

static void receiver_stop(receiver_t *r) {
    atomic_store(&r->stop, 1);
    shutdown(r->fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(r->thread, NULL);
    close(r->fd);
}

static vt_pushgateway_t *client_for(int port, long timeout_ms, long connect_ms) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    vt_pushgateway_opts_t o;
    vt_pushgateway_opts_init(&o);
    o.url = url;
    o.job = "reliability";
    o.grouping = VT_LABELS("instance", "a/b");
    o.timeout_ms = timeout_ms;
    o.connect_timeout_ms = connect_ms;
    vt_pushgateway_t *pg = NULL;
    CHECK_INT(vt_pushgateway_create(&o, &pg), 0);
    return pg;
}

static vt_registry_t *small_registry(void) {
    vt_registry_t *reg = NULL;
    vt_counter_t *c;
    vt_counter_series_t *s;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_counter_create(reg, "batch_rows", "Rows.", VT_LABELS("table"), &c), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("orders"), &s), 0);
    vt_counter_add(s, 1234);
    return reg;
}

static void test_pushgateway_dribble(void) {
    receiver_t r;
    CHECK_INT(receiver_start(&r, DRIBBLE), 0);
    vt_registry_t *reg = small_registry();
    vt_pushgateway_t *pg = client_for(r.port, 800, 500);
    double t0 = now_s();
    int rc = vt_pushgateway_push(pg, reg);
    double took = now_s() - t0;
    printf("dribbling receiver: %s after %.2f s (%s)\n", vt_err_name(rc), took,
           vt_pushgateway_last_error(pg));
    CHECK_INT(rc, VT_ETIMEDOUT);
    CHECK(took >= 0.7 && took < 2.0);
    CHECK(strlen(vt_pushgateway_last_error(pg)) > 0);
    vt_pushgateway_destroy(pg);
    vt_registry_destroy(reg);
    receiver_stop(&r);
}

static void test_pushgateway_huge_error(void) {
    receiver_t r;
    CHECK_INT(receiver_start(&r, HUGE_ERROR), 0);
    vt_registry_t *reg = small_registry();
    vt_pushgateway_t *pg = client_for(r.port, 10000, 1000);
    long before = rss_kib();
    double t0 = now_s();
    int rc = vt_pushgateway_push(pg, reg);
    double took = now_s() - t0;
    long grown = rss_kib() - before;
    const char *err = vt_pushgateway_last_error(pg);
    printf("400 with a 50 MB body: %s after %.2f s, error text %zu bytes, RSS +%ld KiB\n",
           vt_err_name(rc), took, strlen(err), grown);
    CHECK_INT(rc, VT_EHTTP);
    CHECK_INT(vt_pushgateway_last_status(pg), 400);
    CHECK(strncmp(err, "HTTP 400", 8) == 0);
    CHECK(strlen(err) <= 4200);
    CHECK(grown < 16 * 1024);
    vt_pushgateway_destroy(pg);
    vt_registry_destroy(reg);
    receiver_stop(&r);
}

static void test_pushgateway_hang_up(void) {
    receiver_t r;
    CHECK_INT(receiver_start(&r, HANG_UP), 0);
    vt_registry_t *reg = small_registry();
    vt_pushgateway_t *pg = client_for(r.port, 3000, 1000);
    double t0 = now_s();
    int rc = vt_pushgateway_push(pg, reg);
    double took = now_s() - t0;
    printf("receiver hangs up mid-status: %s after %.3f s (%s)\n", vt_err_name(rc), took,
           vt_pushgateway_last_error(pg));
    CHECK(rc == VT_ENET || rc == VT_EHTTP);
    CHECK(took < 1.0);
    CHECK(strlen(vt_pushgateway_last_error(pg)) > 0);
    vt_pushgateway_destroy(pg);
    vt_registry_destroy(reg);
    receiver_stop(&r);
}

/* A listener whose accept queue is full and that never accepts: the
 * connection is not completed, and the connect timeout ends the call. */
static void test_pushgateway_backlog_full(void) {
    int port, fd = bound_socket(SOCK_STREAM, &port);
    CHECK(fd >= 0 && listen(fd, 0) == 0);
    int fillers[4];
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    for (int i = 0; i < 4; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&a, sizeof a);
    }
    sleep_ms(100);
    vt_registry_t *reg = small_registry();
    vt_pushgateway_t *pg = client_for(port, 3000, 500);
    double t0 = now_s();
    int rc = vt_pushgateway_push(pg, reg);
    double took = now_s() - t0;
    printf("accept queue full: %s after %.2f s (%s)\n", vt_err_name(rc), took,
           vt_pushgateway_last_error(pg));
    CHECK(rc == VT_ETIMEDOUT || rc == VT_ENET);
    CHECK(took < 4.0);
    CHECK(strlen(vt_pushgateway_last_error(pg)) > 0);
    vt_pushgateway_destroy(pg);
    vt_registry_destroy(reg);
    for (int i = 0; i < 4; i++)
        close(fillers[i]);
    close(fd);
}

/* Many failed pushes in a row leak no descriptor, and a good receiver then
 * gets the push. */
static void test_pushgateway_recovers(void) {
    int port, fd = bound_socket(SOCK_STREAM, &port);
    CHECK(fd >= 0);
    close(fd); /* closed port */
    vt_registry_t *reg = small_registry();
    vt_pushgateway_t *pg = client_for(port, 2000, 500);
    /* The first call may open what the client keeps (libcurl's handle). */
    CHECK_INT(vt_pushgateway_push(pg, reg), VT_ENET);
    int fds_before = open_fds();
    double worst = 0;
    for (int i = 0; i < 200; i++) {
        double t0 = now_s();
        CHECK_INT(vt_pushgateway_push(pg, reg), VT_ENET);
        double took = now_s() - t0;
        worst = took > worst ? took : worst;
    }
    int fds_after = open_fds();
    printf("200 pushes to a closed port: slowest %.1f ms, descriptors %d -> %d\n", worst * 1e3,
           fds_before, fds_after);
    CHECK(worst < 0.5);
    CHECK_INT(fds_after, fds_before);
    vt_pushgateway_destroy(pg);

    receiver_t r;
    CHECK_INT(receiver_start(&r, GOOD), 0);
    pg = client_for(r.port, 2000, 500);
    CHECK_INT(vt_pushgateway_push(pg, reg), 0);
    CHECK_INT(vt_pushgateway_last_status(pg), 200);
    CHECK_STR(vt_pushgateway_last_error(pg), "");
    vt_pushgateway_destroy(pg);
    receiver_stop(&r);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_statsd_closed_port);
    RUN(test_pushgateway_dribble);
    RUN(test_pushgateway_huge_error);
    RUN(test_pushgateway_hang_up);
    RUN(test_pushgateway_backlog_full);
    RUN(test_pushgateway_recovers);
    TEST_EXIT();
}
