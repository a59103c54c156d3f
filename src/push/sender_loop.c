/* sender_loop.c - the background thread of the Graphite bridge and of remote
 * write: snapshot every interval, deliver what is queued, retry after a
 * backoff, answer flushes, stop.
 *
 * The owner's three calls run on the loop's thread only, so what they touch
 * besides the stats needs no lock: snapshot() and deliver() are called
 * without mu, pending() with mu held (it only reads the owner's queue). The
 * backoff fields belong to that thread too. mu guards stopping, the flush
 * counters, the error text and the owner's stats, which the owner updates
 * under the same mu.
 *
 * A flush or a stop takes a snapshot and delivers it at once, ignoring the
 * backoff; the flush's caller gets deliver()'s code. Snapshots keep their
 * cadence: a late one moves the next by one interval, unless it was late by
 * a whole interval, when the cadence restarts from now.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "push_internal.h"

uint64_t vt__mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void vt__sender_retry_later(vt__sender_t *s) {
    s->retry_ns = vt__mono_ns() + (uint64_t)s->backoff_ms * 1000000u;
    s->backoff_ms =
        s->backoff_ms * 2 > s->c.backoff_max_ms ? s->c.backoff_max_ms : s->backoff_ms * 2;
}

void vt__sender_retry_reset(vt__sender_t *s) {
    s->backoff_ms = s->c.backoff_min_ms;
}

void vt__sender_set_error(vt__sender_t *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&s->mu);
    vsnprintf(s->c.error, s->c.error_cap, fmt, ap);
    pthread_mutex_unlock(&s->mu);
    va_end(ap);
}

void vt__sender_last_error(vt__sender_t *s, char *buf, size_t len) {
    if (!buf || !len)
        return;
    buf[0] = '\0';
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    snprintf(buf, len, "%s", s->c.error);
    pthread_mutex_unlock(&s->mu);
}

void vt__sender_copy(vt__sender_t *s, void *out, const void *src, size_t n) {
    memset(out, 0, n);
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    memcpy(out, src, n);
    pthread_mutex_unlock(&s->mu);
}

static void *loop_main(void *arg) {
    vt__sender_t *s = arg;
    uint64_t interval = (uint64_t)s->c.interval_ms * 1000000u;
    uint64_t next_snap = vt__mono_ns() + interval;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        for (;;) {
            if (s->stopping || s->flush_req != s->flush_done)
                break;
            uint64_t now = vt__mono_ns(), until = next_snap;
            if (now >= next_snap)
                break;
            int waiting = s->c.pending(s->c.owner);
            if (waiting && now >= s->retry_ns)
                break;
            if (waiting && s->retry_ns < until)
                until = s->retry_ns;
            struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
            pthread_cond_timedwait(&s->wake, &s->mu, &ts);
        }
        int stopping = s->stopping;
        uint64_t req = s->flush_req;
        int flushing = req != s->flush_done;
        pthread_mutex_unlock(&s->mu);

        uint64_t now = vt__mono_ns();
        if (stopping || flushing || now >= next_snap) {
            s->c.snapshot(s->c.owner);
            if (now >= next_snap)
                next_snap = now - next_snap < interval ? next_snap + interval : now + interval;
        }
        int rc = s->c.deliver(s->c.owner, stopping || flushing);
        if (flushing || stopping) {
            pthread_mutex_lock(&s->mu);
            s->flush_rc = rc;
            s->flush_done = req;
            pthread_cond_broadcast(&s->done);
            pthread_mutex_unlock(&s->mu);
        }
        if (stopping)
            break;
    }
    return NULL;
}

int vt__sender_start(vt__sender_t *s, const vt__sender_conf_t *conf) {
    memset(s, 0, sizeof *s);
    s->c = *conf;
    s->backoff_ms = conf->backoff_min_ms;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake, &ca);
    pthread_cond_init(&s->done, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, loop_main, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->wake);
        pthread_cond_destroy(&s->done);
        return VT_ENOMEM;
    }
    return 0;
}

int vt__sender_flush(vt__sender_t *s) {
    pthread_mutex_lock(&s->mu);
    uint64_t req = ++s->flush_req;
    pthread_cond_signal(&s->wake);
    while (s->flush_done < req && !s->stopping)
        pthread_cond_wait(&s->done, &s->mu);
    int rc = s->flush_rc;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void vt__sender_stop(vt__sender_t *s) {
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->wake);
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->done);
}
