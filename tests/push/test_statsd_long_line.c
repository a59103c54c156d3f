/* test_statsd_long_line.c - the longest StatsD line is max_datagram, also past
 * the 2048 bytes the client formats on the caller's stack (vitals/statsd.h:
 * VT_ELIMIT only when "the line is longer than a datagram").
 *
 * Against a UDP collector on 127.0.0.1 owned by the test: a line that fits a
 * datagram arrives whole, in one datagram; one byte more is refused with
 * VT_ELIMIT, counted as dropped, and nothing of it is sent (never truncated);
 * a negative gauge's two lines count as one unit; the registry mirror's lines
 * follow the same limit; threads sending long and short lines at once lose
 * nothing (the long-line buffer has a lock of its own).
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "push_test.h"
#include "vitals.h"
#include "vitals/statsd.h"

#define DGRAM 8192

/* A key of n bytes, 'a'..'z' repeating from first. malloc'd. */
static char *key_of(size_t n, char first) {
    char *k = malloc(n + 1);
    CHECK(k != NULL);
    for (size_t i = 0; k && i < n; i++)
        k[i] = (char)('a' + (first - 'a' + (int)(i % 26)) % 26);
    if (k)
        k[n] = '\0';
    return k;
}

static vt_statsd_t *client_for(pt_udp_t *u, size_t max_datagram, const char *prefix) {
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = pt_udp_port(u);
    o.max_datagram = max_datagram;
    o.buffer_size = 16 * max_datagram;
    o.flush_interval_ms = 60000; /* flushed by the test */
    o.prefix = prefix;
    vt_statsd_t *c = NULL;
    CHECK_INT(vt_statsd_create(&o, &c), 0);
    return c;
}

/* Flush, then wait until `datagrams` datagrams arrived (or 3 s). */
static char *received(vt_statsd_t *c, pt_udp_t *u, long datagrams) {
    CHECK_INT(vt_statsd_flush(c), 0);
    for (int i = 0; i < 300 && pt_udp_datagrams(u) < datagrams; i++)
        pt_sleep_ms(10);
    return pt_udp_text(u);
}

static void test_fits_a_datagram(void) {
    pt_udp_t *u = pt_udp_start();
    CHECK(u != NULL);
    vt_statsd_t *c = client_for(u, DGRAM, NULL);

    /* 3000 bytes: the case that used to get VT_ELIMIT. */
    char *k = key_of(3000, 'k');
    CHECK_INT(vt_statsd_count(c, k, 1, 1.0), 0);
    char *t = received(c, u, 1);
    CHECK_INT((long)strlen(t), 3000 + 4 + 1); /* the collector adds "\n" */
    CHECK(strncmp(t, k, 3000) == 0 && strcmp(t + 3000, ":1|c\n") == 0);
    CHECK_INT((long)pt_udp_max_size(u), 3004);
    free(t);
    free(k);

    /* Exactly max_datagram bytes, through every kind of call. */
    pt_udp_clear(u);
    k = key_of(DGRAM - 4, 'a'); /* "key:7|c" */
    CHECK_INT(vt_statsd_count(c, k, 7, 1.0), 0);
    t = received(c, u, 1);
    CHECK_INT((long)pt_udp_max_size(u), DGRAM);
    CHECK_INT(pt_udp_datagrams(u), 1);
    CHECK(strlen(t) == DGRAM + 1 && strcmp(t + DGRAM - 4, ":7|c\n") == 0);
    free(t);
    free(k);

    pt_udp_clear(u);
    k = key_of(DGRAM - 6, 'b'); /* "key:1.5|g" */
    CHECK_INT(vt_statsd_gauge(c, k, 1.5), 0);
    CHECK_INT(vt_statsd_timing(c, k, 2.5, 1.0), VT_ELIMIT); /* "key:2.5|ms": a byte too many */
    k[DGRAM - 7] = '\0';
    CHECK_INT(vt_statsd_timing(c, k, 2.5, 1.0), 0);
    t = received(c, u, 2);
    CHECK_INT(pt_udp_datagrams(u), 2);
    CHECK_INT((long)pt_udp_max_size(u), DGRAM);
    CHECK_CONTAINS(t, ":1.5|g\n");
    CHECK_CONTAINS(t, ":2.5|ms\n");
    free(t);
    free(k);
    CHECK_INT((long)vt_statsd_dropped(c), 1);

    /* With tags and a prefix, the whole line counts. */
    vt_statsd_destroy(c);
    pt_udp_clear(u);
    char *prefix = key_of(2500, 'p');
    c = client_for(u, DGRAM, prefix);
    k = key_of(2500, 'q');
    CHECK_INT(vt_statsd_send(c, &(vt_statsd_line_t){.key = k,
                                                    .type = VT_STATSD_COUNTER,
                                                    .value = 2,
                                                    .tags = VT_VALUES("route:/x", "code:200")}),
              0);
    t = received(c, u, 1);
    CHECK_INT((long)strlen(t), 2500 + 2500 + (long)strlen(":2|c|#route:/x,code:200") + 1);
    CHECK_CONTAINS(t, ":2|c|#route:/x,code:200\n");
    free(t);
    free(k);
    free(prefix);
    CHECK_INT((long)vt_statsd_dropped(c), 0);
    vt_statsd_destroy(c);
    pt_udp_stop(u);
}

static void test_longer_than_a_datagram(void) {
    pt_udp_t *u = pt_udp_start();
    CHECK(u != NULL);
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = pt_udp_port(u);
    o.max_datagram = DGRAM;
    o.buffer_size = 16 * DGRAM;
    o.flush_interval_ms = 60000;
    o.registry = reg;
    vt_statsd_t *c = NULL;
    CHECK_INT(vt_statsd_create(&o, &c), 0);

    char *k = key_of(DGRAM - 3, 'x'); /* "key:1|c" is max_datagram + 1 */
    CHECK_INT(vt_statsd_count(c, k, 1, 1.0), VT_ELIMIT);
    CHECK_INT(vt_statsd_gauge(c, k, 2), VT_ELIMIT);
    CHECK_INT(vt_statsd_set(c, k, "m"), VT_ELIMIT);
    free(k);
    k = key_of(20000, 'y'); /* far over, and over a 16-bit length too */
    CHECK_INT(vt_statsd_count(c, k, 1, 1.0), VT_ELIMIT);
    free(k);
    CHECK_INT((long)vt_statsd_dropped(c), 4);

    /* A negative gauge is "0" then the value: one unit, dropped whole (two
     * lines) when both do not fit one datagram, sent whole when they do. */
    k = key_of(4200, 'g');
    CHECK_INT(vt_statsd_gauge(c, k, -3), VT_ELIMIT);
    CHECK_INT((long)vt_statsd_dropped(c), 6);
    k[4000] = '\0';
    CHECK_INT(vt_statsd_gauge(c, k, -3), 0);

    /* Nothing refused went out, not even in part. */
    char *t = received(c, u, 1);
    CHECK_INT(pt_udp_datagrams(u), 1);
    CHECK_INT((long)strlen(t), 4000 + 4 + 1 + 4000 + 5 + 1);
    CHECK(strncmp(t + 4000, ":0|g\n", 5) == 0);
    CHECK(strcmp(t + 4000 + 5 + 4000, ":-3|g\n") == 0);
    free(t);
    free(k);

    /* The drops are in statsd_dropped_total too. */
    vt_buf_t b = {0};
    CHECK_INT(vt_registry_write_buf(reg, NULL, &b), 0);
    CHECK_CONTAINS(b.data, "statsd_dropped_total 6\n");
    vt_buf_free(&b);
    vt_statsd_destroy(c);
    vt_registry_destroy(reg);
    pt_udp_stop(u);
}

/* The default 1432-byte datagram: 2048 bytes on the stack change nothing. */
static void test_default_datagram(void) {
    pt_udp_t *u = pt_udp_start();
    CHECK(u != NULL);
    vt_statsd_t *c = client_for(u, VT_STATSD_DEFAULT_DATAGRAM, NULL);
    char *k = key_of(VT_STATSD_DEFAULT_DATAGRAM - 4, 'd');
    CHECK_INT(vt_statsd_count(c, k, 1, 1.0), 0);
    free(k);
    k = key_of(VT_STATSD_DEFAULT_DATAGRAM - 3, 'e');
    CHECK_INT(vt_statsd_count(c, k, 1, 1.0), VT_ELIMIT);
    free(k);
    k = key_of(1800, 'f');
    CHECK_INT(vt_statsd_count(c, k, 1, 1.0), VT_ELIMIT);
    free(k);
    char *t = received(c, u, 1);
    CHECK_INT((long)pt_udp_max_size(u), VT_STATSD_DEFAULT_DATAGRAM);
    CHECK_INT(pt_udp_datagrams(u), 1);
    free(t);
    CHECK_INT((long)vt_statsd_dropped(c), 2);
    vt_statsd_destroy(c);
    pt_udp_stop(u);
}

/* The registry mirror builds its lines the same way: a long prefix makes
 * every mirrored line longer than the stack buffer. */
static void test_mirror(void) {
    pt_udp_t *u = pt_udp_start();
    CHECK(u != NULL);
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_gauge_t *g = NULL;
    vt_gauge_series_t *gs = NULL;
    CHECK_INT(vt_gauge_create(reg, "temp", "Temperature.", NULL, &g), 0);
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
    vt_gauge_set(gs, -2);
    char *prefix = key_of(3000, 'm');
    prefix[2999] = '.';
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = pt_udp_port(u);
    o.max_datagram = DGRAM;
    o.buffer_size = 16 * DGRAM;
    o.prefix = prefix;
    o.mirror = reg;
    o.mirror_interval_ms = 100;
    o.flush_interval_ms = 50;
    vt_statsd_t *c = NULL;
    CHECK_INT(vt_statsd_create(&o, &c), 0);
    CHECK_INT(pt_udp_wait(u, ".temp:0|g\n", 3000), 0);
    char *t = pt_udp_text(u);
    /* Both lines of the negative gauge, each with the whole prefix. */
    const char *first = strstr(t, ".temp:0|g\n");
    CHECK(first != NULL && first - t >= 2999 && strncmp(first - 2999, prefix, 2999) == 0);
    CHECK(first != NULL && strncmp(first + 10, prefix, 3000) == 0 &&
          strncmp(first + 10 + 3000, "temp:-2|g\n", 10) == 0);
    free(t);
    CHECK_INT((long)vt_statsd_dropped(c), 0);
    vt_statsd_destroy(c);
    free(prefix);
    vt_registry_destroy(reg);
    pt_udp_stop(u);
}

/* Threads sending long lines (the shared long-line buffer) and short ones. */
#define THREADS 4
#define PER_THREAD 200

typedef struct worker {
    vt_statsd_t *c;
    int id;
    int failures;
} worker_t;

static void *work(void *arg) {
    worker_t *w = arg;
    char *long_key = key_of(2500 + (size_t)w->id * 100, (char)('a' + w->id));
    char short_key[16];
    snprintf(short_key, sizeof short_key, "short%d", w->id);
    for (int i = 0; i < PER_THREAD; i++) {
        if (vt_statsd_count(w->c, (i & 1) ? long_key : short_key, 1, 1.0) != 0)
            w->failures++;
    }
    free(long_key);
    return NULL;
}

static void test_threads(void) {
    pt_udp_t *u = pt_udp_start();
    CHECK(u != NULL);
    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = pt_udp_port(u);
    o.max_datagram = DGRAM;
    o.buffer_size = 4096 * 1024; /* room for everything: nothing is dropped */
    o.flush_interval_ms = 60000;
    vt_statsd_t *c = NULL;
    CHECK_INT(vt_statsd_create(&o, &c), 0);
    pthread_t th[THREADS];
    worker_t w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.c = c, .id = i};
        CHECK_INT(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].failures, 0);
    }
    CHECK_INT(vt_statsd_flush(c), 0);
    long sent = (long)vt_statsd_sent(c);
    for (int i = 0; i < 300 && pt_udp_datagrams(u) < sent; i++)
        pt_sleep_ms(10);
    char *t = pt_udp_text(u);
    /* The collector ends each datagram with "\n" and lines inside one are
     * joined by "\n": either way every line is one, whole. */
    long lines = 0, longs = 0, bad = 0;
    for (char *p = t, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        size_t n = (size_t)(nl - p);
        lines++;
        if (n < 4 || strncmp(nl - 4, ":1|c", 4) != 0)
            bad++;
        else if (n >= 2500 + 4)
            longs++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(lines, THREADS * PER_THREAD);
    CHECK_INT(longs, THREADS * PER_THREAD / 2);
    CHECK_INT((long)vt_statsd_dropped(c), 0);
    free(t);
    vt_statsd_destroy(c);
    pt_udp_stop(u);
}

int main(void) {
    RUN(test_fits_a_datagram);
    RUN(test_longer_than_a_datagram);
    RUN(test_default_datagram);
    RUN(test_mirror);
    RUN(test_threads);
    TEST_EXIT();
}
