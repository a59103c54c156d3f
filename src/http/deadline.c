/* deadline.c - close connections whose request does not arrive in time,
 * and make room for a new connection when the server is full.
 *
 * libmicrohttpd's connection timeout closes only idle connections, so a
 * client that sends a header byte every few seconds holds its connection for
 * as long as it likes (slowloris). Here each connection gets a deadline when
 * it opens and again each time a response completes: by then the next
 * request must have been read whole and answered. A sweeper thread wakes a
 * few times a second and shuts down the socket of every connection past its
 * deadline; libmicrohttpd then sees the end of the stream and closes the
 * connection itself, on its own thread, as for any client that went away.
 *
 * Room: libmicrohttpd is given a few more connections than the server's
 * limit. When a connection opens past the limit, the connection that has
 * waited longest for its request (oldest first; never one being answered) is
 * shut down the same way, so that many connections that hold a slot without
 * sending a request (a flood, or a slowloris spread over many addresses)
 * cannot keep a scraper out: each new connection takes the slot of the
 * stalest waiting one.
 *
 * Concurrency: the list of connections is under one mutex, taken by the
 * libmicrohttpd threads when a connection opens, is answered, completes a
 * response or closes, and by the sweeper. A connection's socket stays open
 * until after its MHD_CONNECTION_NOTIFY_CLOSED callback, which unlinks it
 * under the mutex, so the sweeper never shuts down a descriptor that was
 * closed and reused.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "http_internal.h"

typedef struct slot {
    struct slot *prev, *next; /* in the order the connections opened */
    int fd;
    int answering;        /* a request is being answered: never evicted */
    int shut;             /* shut down by us; closes soon */
    uint64_t deadline_ns; /* 0: none (answering, or no timeout) */
} slot_t;

struct vt__deadlines {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t sweeper;
    int has_sweeper;
    int stopping;
    uint64_t timeout_ns; /* 0: no deadlines */
    uint64_t period_ns;
    size_t limit; /* connections kept; 0: no eviction */
    size_t open;  /* connections in the list that we have not shut down */
    slot_t head;  /* circular list sentinel */
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Under the mutex: the list keeps connections oldest first. */
static void link_last(vt__deadlines_t *d, slot_t *s) {
    s->next = &d->head;
    s->prev = d->head.prev;
    s->prev->next = s;
    d->head.prev = s;
}

static void unlink_slot(slot_t *s) {
    s->prev->next = s->next;
    s->next->prev = s->prev;
}

/* Under the mutex. */
static void shut(vt__deadlines_t *d, slot_t *s) {
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    s->deadline_ns = 0;
    s->shut = 1;
    d->open--;
}

static void sweep(vt__deadlines_t *d) {
    uint64_t now = now_ns();
    for (slot_t *s = d->head.next; s != &d->head; s = s->next) {
        if (!s->shut && s->deadline_ns && now >= s->deadline_ns) {
            shut(d, s);
        }
    }
}

/* Under the mutex: past the limit, shut the connection that has waited
 * longest for its request (not fresh, the one just opened). */
static void make_room(vt__deadlines_t *d, const slot_t *fresh) {
    if (!d->limit || d->open <= d->limit)
        return;
    for (slot_t *s = d->head.next; s != &d->head; s = s->next) {
        if (s != fresh && !s->shut && !s->answering) {
            shut(d, s);
            return;
        }
    }
}

static void *sweeper_main(void *arg) {
    vt__deadlines_t *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->stopping) {
        struct timespec ts;
        uint64_t wake = now_ns() + d->period_ns;
        ts.tv_sec = (time_t)(wake / 1000000000u);
        ts.tv_nsec = (long)(wake % 1000000000u);
        (void)pthread_cond_timedwait(&d->cv, &d->mu, &ts);
        if (!d->stopping)
            sweep(d);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int vt__deadlines_start(unsigned timeout_s, size_t limit, vt__deadlines_t **out) {
    pthread_condattr_t ca;
    vt__deadlines_t *d;
    int ok;
    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return VT_ENOMEM;
    d->limit = limit;
    d->timeout_ns = (uint64_t)timeout_s * 1000000000u;
    /* A quarter of the timeout, at most 250 ms: late by at most that. */
    d->period_ns = d->timeout_ns / 4 < 250000000u ? d->timeout_ns / 4 : 250000000u;
    d->head.prev = d->head.next = &d->head;
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        free(d);
        return VT_ENOMEM;
    }
    ok = pthread_condattr_init(&ca) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&d->cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!ok) {
        pthread_mutex_destroy(&d->mu);
        free(d);
        return VT_ENOMEM;
    }
    if (d->timeout_ns) {
        if (pthread_create(&d->sweeper, NULL, sweeper_main, d) != 0) {
            pthread_cond_destroy(&d->cv);
            pthread_mutex_destroy(&d->mu);
            free(d);
            return VT_ENOMEM;
        }
        d->has_sweeper = 1;
    }
    *out = d;
    return 0;
}

void vt__deadlines_stop(vt__deadlines_t *d) {
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (d->has_sweeper)
        pthread_join(d->sweeper, NULL);
    /* The daemon has stopped: whatever is left was never reported closed. */
    while (d->head.next != &d->head) {
        slot_t *s = d->head.next;
        unlink_slot(s);
        free(s);
    }
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

void vt__deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    vt__deadlines_t *d = cls;
    slot_t *s;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        s = calloc(1, sizeof(*s));
        *socket_context = s;
        if (!s)
            return; /* this connection goes without a deadline */
        s->fd = ci ? ci->connect_fd : -1;
        pthread_mutex_lock(&d->mu);
        s->deadline_ns = d->timeout_ns ? now_ns() + d->timeout_ns : 0;
        link_last(d, s);
        d->open++;
        make_room(d, s);
        pthread_mutex_unlock(&d->mu);
        return;
    }
    s = *socket_context;
    if (code != MHD_CONNECTION_NOTIFY_CLOSED || !s)
        return;
    pthread_mutex_lock(&d->mu);
    unlink_slot(s);
    if (!s->shut)
        d->open--;
    pthread_mutex_unlock(&d->mu);
    free(s);
    *socket_context = NULL;
}

static slot_t *slot_of(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void vt__deadlines_answering(vt__deadlines_t *d, struct MHD_Connection *conn) {
    slot_t *s = d ? slot_of(conn) : NULL;
    if (!s)
        return;
    pthread_mutex_lock(&d->mu);
    s->deadline_ns = 0;
    s->answering = 1;
    pthread_mutex_unlock(&d->mu);
}

void vt__deadlines_rearm(vt__deadlines_t *d, struct MHD_Connection *conn) {
    slot_t *s = d ? slot_of(conn) : NULL;
    if (!s)
        return;
    pthread_mutex_lock(&d->mu);
    s->answering = 0;
    if (!s->shut && d->timeout_ns)
        s->deadline_ns = now_ns() + d->timeout_ns;
    /* Waiting again: it now counts as the newest waiting connection. */
    unlink_slot(s);
    link_last(d, s);
    pthread_mutex_unlock(&d->mu);
}
