/* remote_write.c - the remote write thread: snapshot every interval, POST
 * oldest first, retry what the receiver may accept later.
 *
 * The thread, its cadence, flushes and the backoff are sender_loop.c's; this
 * file gives it the snapshot and the delivery. Only the writer thread touches
 * the curl handle and the queue of pending payloads (a ring of at most
 * max_pending compressed WriteRequests). The loop's mutex guards the stats
 * and the error text. A payload leaves the queue when the receiver answers
 * 2xx, or with a 4xx other than 429 (the request itself is wrong: sending it
 * again cannot help); after a network error, a timeout, a 5xx or a 429 it
 * stays at the head and the next attempt waits an exponential backoff, so
 * series stay in time order at the receiver.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "push_internal.h"
#include "vitals/remote_write.h"

void vt_remote_write_opts_init(vt_remote_write_opts_t *o) {
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->interval_ms = 15000;
    o->metadata = 1;
    o->max_pending = 32;
    o->timeout_ms = 10000;
    o->backoff_min_ms = 100;
    o->backoff_max_ms = 10000;
}

#ifndef VT_HAVE_REMOTE_WRITE

int vt_remote_write_create(vt_registry_t *reg, const vt_remote_write_opts_t *opts,
                           vt_remote_write_t **out) {
    (void)reg;
    (void)opts;
    (void)out;
    return VT_EUNSUPPORTED;
}

int vt_remote_write_flush(vt_remote_write_t *w) {
    (void)w;
    return VT_EINVAL;
}

void vt_remote_write_destroy(vt_remote_write_t *w) {
    (void)w;
}

void vt_remote_write_stats(vt_remote_write_t *w, vt_remote_write_stats_t *out) {
    (void)w;
    if (out)
        memset(out, 0, sizeof *out);
}

void vt_remote_write_last_error(vt_remote_write_t *w, char *buf, size_t len) {
    (void)w;
    if (buf && len)
        snprintf(buf, len, "%s", vt_strerror(VT_EUNSUPPORTED));
}

#else

/* Bytes of a response body kept for the error message. */
#define BODY_MAX 2048

typedef struct payload {
    vt__gbuf_t body; /* snappy-compressed WriteRequest */
    uint64_t samples;
} payload_t;

struct vt_remote_write {
    vt_registry_t *reg;
    char **labels; /* name, value pairs */
    size_t nlabels;
    int metadata;
    size_t max_pending;
    char *bearer;

    vt__sender_t loop;          /* its mu guards st and error */
    vt_remote_write_stats_t st; /* under loop.mu */
    char error[BODY_MAX + 64];  /* under loop.mu */

    /* writer thread only */
    vt__curl_t http;
    payload_t *queue; /* ring of max_pending */
    size_t head, count;
};

static void set_error(vt_remote_write_t *w, const char *msg) {
    vt__sender_set_error(&w->loop, "%s", msg);
}

/* ---- the queue ---- */

static void drop_head(vt_remote_write_t *w) {
    free(w->queue[w->head].body.data);
    memset(&w->queue[w->head], 0, sizeof w->queue[0]);
    w->head = (w->head + 1) % w->max_pending;
    w->count--;
}

static void snapshot(void *owner) {
    vt_remote_write_t *w = owner;
    payload_t p = {{0}, 0};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t ts = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    int rc = vt__rw_encode(w->reg, (const char *const *)w->labels, w->nlabels, w->metadata, ts,
                           &p.body, &p.samples);
    pthread_mutex_lock(&w->loop.mu);
    w->st.snapshots++;
    pthread_mutex_unlock(&w->loop.mu);
    if (rc) {
        set_error(w, vt_strerror(rc));
        free(p.body.data);
        return;
    }
    if (w->count == w->max_pending) {
        drop_head(w);
        pthread_mutex_lock(&w->loop.mu);
        w->st.snapshots_dropped++;
        pthread_mutex_unlock(&w->loop.mu);
    }
    w->queue[(w->head + w->count) % w->max_pending] = p;
    w->count++;
    pthread_mutex_lock(&w->loop.mu);
    w->st.pending = w->count;
    pthread_mutex_unlock(&w->loop.mu);
}

/* ---- HTTP ---- */

/* POST one payload. Returns 0, or a VT_E* code with *retry set when the
 * receiver may take it later: after a network error, a timeout, a 5xx or a
 * 429. */
static int post(vt_remote_write_t *w, const payload_t *p, int *retry) {
    char auth[1200];
    const char *headers[] = {"Content-Encoding: snappy", "Content-Type: application/x-protobuf",
                             "X-Prometheus-Remote-Write-Version: 0.1.0", "Expect:", auth};
    size_t nh = 4;
    if (w->bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", w->bearer);
        nh = 5;
    }
    char msg[BODY_MAX + 64];
    int rc =
        vt__curl_request(&w->http, NULL, headers, nh, p->body.data, p->body.len, msg, sizeof msg);
    long status = w->http.status;
    pthread_mutex_lock(&w->loop.mu);
    w->st.last_status = status;
    pthread_mutex_unlock(&w->loop.mu);
    if (rc)
        set_error(w, msg);
    *retry = rc && rc != VT_ENOMEM && (status == 0 || status >= 500 || status == 429);
    return rc;
}

/* Send pending payloads oldest first. Returns 0 when none is left, else the
 * code of the first failure. */
static int deliver(void *owner, int force) {
    vt_remote_write_t *w = owner;
    int first = 0;
    while (w->count > 0) {
        if (!force && vt__mono_ns() < w->loop.retry_ns)
            return VT_ENET;
        int retry;
        payload_t *p = &w->queue[w->head];
        int rc = post(w, p, &retry);
        pthread_mutex_lock(&w->loop.mu);
        if (rc == 0) {
            w->st.requests_ok++;
            w->st.samples_sent += p->samples;
        } else {
            w->st.requests_failed++;
            if (!retry)
                w->st.snapshots_dropped++;
        }
        pthread_mutex_unlock(&w->loop.mu);
        if (rc && retry) {
            vt__sender_retry_later(&w->loop);
            return first ? first : rc;
        }
        if (rc && !first)
            first = rc;
        if (rc == 0)
            vt__sender_retry_reset(&w->loop);
        drop_head(w);
        pthread_mutex_lock(&w->loop.mu);
        w->st.pending = w->count;
        pthread_mutex_unlock(&w->loop.mu);
    }
    return first;
}

static int pending(void *owner) {
    const vt_remote_write_t *w = owner;
    return w->count != 0;
}

/* ---- public calls ---- */

static void free_writer(vt_remote_write_t *w) {
    vt__curl_close(&w->http);
    while (w->queue && w->count)
        drop_head(w);
    free(w->queue);
    for (size_t i = 0; i < 2 * w->nlabels; i++)
        free(w->labels ? w->labels[i] : NULL);
    free(w->labels);
    free(w->bearer);
    free(w);
}

static int dup_opt(const char *s, char **out) {
    *out = s ? strdup(s) : NULL;
    return s && !*out ? VT_ENOMEM : 0;
}

static int check_opts(const vt_remote_write_opts_t *o, size_t *out_pairs) {
    if (!o->url || (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0) ||
        o->interval_ms == 0 || o->max_pending == 0 || o->timeout_ms <= 0 ||
        o->backoff_min_ms == 0 || o->backoff_min_ms > o->backoff_max_ms)
        return VT_EINVAL;
    size_t n = 0;
    while (o->labels && o->labels[n])
        n++;
    if (n % 2)
        return VT_EINVAL;
    for (size_t i = 0; i < n; i += 2) {
        if (!vt__label_name_ok(o->labels[i]) || strncmp(o->labels[i], "__", 2) == 0)
            return VT_ELABELNAME;
        if (!vt__utf8_valid(o->labels[i + 1]))
            return VT_EUTF8;
    }
    *out_pairs = n / 2;
    return 0;
}

int vt_remote_write_create(vt_registry_t *reg, const vt_remote_write_opts_t *o,
                           vt_remote_write_t **out) {
    size_t pairs = 0;
    if (!reg || !o || !out)
        return VT_EINVAL;
    int rc = check_opts(o, &pairs);
    if (rc)
        return rc;
    vt_remote_write_t *w = calloc(1, sizeof *w);
    if (!w)
        return VT_ENOMEM;
    w->reg = reg;
    w->metadata = o->metadata;
    w->max_pending = o->max_pending;
    w->nlabels = pairs;
    w->labels = calloc(2 * pairs + 1, sizeof *w->labels);
    w->queue = calloc(o->max_pending, sizeof *w->queue);
    vt__curl_conf_t hc = {.url = o->url,
                          .username = o->username,
                          .password = o->password,
                          .ca_file = o->ca_file,
                          .cert_file = o->cert_file,
                          .key_file = o->key_file,
                          .insecure = o->insecure_skip_verify,
                          .timeout_ms = o->timeout_ms,
                          .connect_timeout_ms = o->timeout_ms,
                          .reply_max = BODY_MAX};
    rc = !w->labels || !w->queue ? VT_ENOMEM : vt__curl_open(&w->http, &hc);
    for (size_t i = 0; i < 2 * pairs && !rc; i++)
        rc = dup_opt(o->labels[i], &w->labels[i]);
    if (!rc)
        rc = dup_opt(o->bearer_token, &w->bearer);
    if (rc) {
        free_writer(w);
        return rc;
    }
    vt__sender_conf_t sc = {.owner = w,
                            .snapshot = snapshot,
                            .deliver = deliver,
                            .pending = pending,
                            .interval_ms = o->interval_ms,
                            .backoff_min_ms = o->backoff_min_ms,
                            .backoff_max_ms = o->backoff_max_ms,
                            .error = w->error,
                            .error_cap = sizeof w->error};
    if (vt__sender_start(&w->loop, &sc) != 0) {
        free_writer(w);
        return VT_ENOMEM;
    }
    *out = w;
    return 0;
}

int vt_remote_write_flush(vt_remote_write_t *w) {
    return w ? vt__sender_flush(&w->loop) : VT_EINVAL;
}

void vt_remote_write_destroy(vt_remote_write_t *w) {
    if (!w)
        return;
    vt__sender_stop(&w->loop);
    free_writer(w);
}

void vt_remote_write_stats(vt_remote_write_t *w, vt_remote_write_stats_t *out) {
    if (out)
        vt__sender_copy(w ? &w->loop : NULL, out, w ? &w->st : NULL, sizeof *out);
}

void vt_remote_write_last_error(vt_remote_write_t *w, char *buf, size_t len) {
    vt__sender_last_error(w ? &w->loop : NULL, buf, len);
}

#endif
