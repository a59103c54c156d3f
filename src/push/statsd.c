/* statsd.c - the StatsD client: datagram ring, UDP socket, sender thread.
 *
 * Callers format a line on their own stack, then hold the client mutex only
 * to copy it into the datagram being filled (see the ring invariant on struct
 * vt_statsd in push_internal.h). A line too long for the stack buffer
 * (VT__STATSD_LINE_MAX) but not for a datagram is formatted in the client's
 * long-line buffer under long_mu, taken before the client mutex, so the
 * limit on a line is max_datagram alone. When the line does not fit, that datagram is
 * sealed and the sender thread is signalled if it sleeps; when no free
 * datagram is left, the line is dropped and counted. Callers never touch the
 * socket.
 *
 * The sender thread alone sends: sealed datagrams as they come, the partial
 * one every flush interval, on vt_statsd_flush() and at destroy. It sends with
 * the mutex released (a sealed slot belongs to it until it advances head), on
 * a non-blocking socket: a datagram the kernel refuses (EAGAIN, ECONNREFUSED
 * after an ICMP port unreachable, ...) is dropped and its lines counted.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "push_internal.h"

void vt_statsd_opts_init(vt_statsd_opts_t *o) {
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8125;
    o->max_datagram = VT_STATSD_DEFAULT_DATAGRAM;
    o->buffer_size = 64 * 1024;
    o->flush_interval_ms = 1000;
    o->mirror_interval_ms = 10000;
}

/* ---- the ring ---- */

/* What the sender thread is doing, in sender_idle. */
enum { RUNNING = 0, SLEEP_POLL = 1, SLEEP_LONG = 2 };
/* How often the sender looks for sealed datagrams while traffic flows. */
#define POLL_MS 5u

void vt__statsd_count_drop(vt_statsd_t *c, uint64_t lines) {
    atomic_fetch_add_explicit(&c->dropped, lines, memory_order_relaxed);
    if (c->drop_series)
        vt_counter_add_u64(c->drop_series, lines);
}

static char *slot_buf(vt_statsd_t *c, size_t slot) {
    return c->bufs + slot * c->max_dgram;
}

static size_t filling(const vt_statsd_t *c) {
    return (c->head + c->nsealed) % c->nslots;
}

/* With mu held: seal the filling slot if it holds anything and a free slot
 * follows. Returns 1 when it sealed. */
static int seal(vt_statsd_t *c) {
    size_t cur = filling(c);
    if (c->lens[cur] == 0 || c->nsealed + 1 >= c->nslots)
        return 0;
    c->nsealed++;
    size_t next = filling(c);
    c->lens[next] = 0;
    c->lines[next] = 0;
    return 1;
}

static void send_slot(vt_statsd_t *c, size_t slot) {
    ssize_t r = send(c->fd, slot_buf(c, slot), c->lens[slot], MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR)
        r = send(c->fd, slot_buf(c, slot), c->lens[slot], MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r == (ssize_t)c->lens[slot])
        atomic_fetch_add_explicit(&c->sent, 1, memory_order_relaxed);
    else
        vt__statsd_count_drop(c, c->lines[slot]);
}

/* With mu held, on the sender thread: send every sealed slot. Returns the
 * number sent. */
static size_t drain(vt_statsd_t *c) {
    size_t n = 0;
    for (; c->nsealed > 0; n++) {
        size_t slot = c->head;
        pthread_mutex_unlock(&c->mu);
        send_slot(c, slot);
        pthread_mutex_lock(&c->mu);
        c->head = (c->head + 1) % c->nslots;
        c->nsealed--;
    }
    return n;
}

int vt__statsd_push(vt_statsd_t *c, const char *text, size_t len, uint32_t nlines,
                    int from_sender) {
    if (len > c->max_dgram) {
        vt__statsd_count_drop(c, nlines);
        return VT_ELIMIT;
    }
    int wake = 0;
    pthread_mutex_lock(&c->mu);
    size_t cur = filling(c);
    size_t used = c->lens[cur];
    if (used && used + 1 + len > c->max_dgram) {
        if (!seal(c) && from_sender) {
            drain(c);
            seal(c);
        }
        if (filling(c) == cur) {
            pthread_mutex_unlock(&c->mu);
            vt__statsd_count_drop(c, nlines);
            return VT_EBUSY;
        }
        /* A long sleep ends at the first sealed datagram; a sender that polls
         * is woken only when half the ring waits for it. */
        wake = c->sender_idle == SLEEP_LONG ||
               (c->sender_idle == SLEEP_POLL && c->nsealed >= c->nslots / 2);
        cur = filling(c);
        used = 0;
    }
    char *dst = slot_buf(c, cur) + used;
    if (used)
        *dst++ = '\n';
    memcpy(dst, text, len);
    c->lens[cur] = used + (used ? 1 : 0) + len;
    c->lines[cur] += nlines;
    pthread_mutex_unlock(&c->mu);
    if (wake)
        pthread_cond_signal(&c->wake);
    return 0;
}

/* p as one line, or with second set as two (p's value, then second), in
 * out[0..cap). Returns the length, 0 for a key empty after sanitizing, or
 * (size_t)-1 when the lines do not fit. */
static size_t assemble(const vt__statsd_parts_t *p, const char *second, size_t second_len,
                       char *out, size_t cap) {
    size_t len = vt__statsd_line(p, out, cap);
    if (!second || len == 0 || len == (size_t)-1)
        return len;
    if (len + 1 >= cap)
        return (size_t)-1;
    out[len] = '\n';
    vt__statsd_parts_t q = *p;
    q.value = second;
    q.value_len = second_len;
    size_t more = vt__statsd_line(&q, out + len + 1, cap - len - 1);
    return more == (size_t)-1 ? more : len + 1 + more;
}

int vt__statsd_emit(vt_statsd_t *c, const vt__statsd_parts_t *p, const char *second,
                    size_t second_len, int from_sender) {
    uint32_t nlines = second ? 2 : 1;
    char line[VT__STATSD_LINE_MAX];
    size_t cap = c->max_dgram < sizeof line ? c->max_dgram : sizeof line;
    size_t len = assemble(p, second, second_len, line, cap);
    if (VT__PUSH_LIKELY(len != (size_t)-1) || !c->long_buf) {
        if (len == 0)
            return VT_EINVAL;
        if (len == (size_t)-1) {
            vt__statsd_count_drop(c, nlines);
            return VT_ELIMIT;
        }
        return vt__statsd_push(c, line, len, nlines, from_sender);
    }
    /* Too long for the stack buffer, maybe not for a datagram. */
    pthread_mutex_lock(&c->long_mu);
    len = assemble(p, second, second_len, c->long_buf, c->max_dgram);
    int rc;
    if (len == 0)
        rc = VT_EINVAL;
    else if (len == (size_t)-1) {
        vt__statsd_count_drop(c, nlines);
        rc = VT_ELIMIT;
    } else
        rc = vt__statsd_push(c, c->long_buf, len, nlines, from_sender);
    pthread_mutex_unlock(&c->long_mu);
    return rc;
}

/* ---- the sender thread ---- */

static void add_ms(struct timespec *t, unsigned ms) {
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static int reached(const struct timespec *now, const struct timespec *t) {
    return now->tv_sec > t->tv_sec || (now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec);
}

static void *sender_main(void *arg) {
    vt_statsd_t *c = arg;
    struct timespec now, flush_at, mirror_at;
    clock_gettime(CLOCK_MONOTONIC, &now);
    flush_at = mirror_at = now;
    add_ms(&flush_at, c->flush_ms);
    add_ms(&mirror_at, c->mirror_ms);

    pthread_mutex_lock(&c->mu);
    for (;;) {
        size_t sent = drain(c);
        clock_gettime(CLOCK_MONOTONIC, &now);
        int stopping = c->stopping;
        if (c->mirror && (stopping || reached(&now, &mirror_at))) {
            pthread_mutex_unlock(&c->mu);
            vt__mirror_run(c->mirror, c);
            pthread_mutex_lock(&c->mu);
            mirror_at = now;
            add_ms(&mirror_at, c->mirror_ms);
        }
        uint64_t req = c->flush_req;
        if (stopping || req != c->flush_done || reached(&now, &flush_at)) {
            if (seal(c))
                drain(c);
            if (reached(&now, &flush_at)) {
                flush_at = now;
                add_ms(&flush_at, c->flush_ms);
            }
            c->flush_done = req;
            pthread_cond_broadcast(&c->drained);
            if (stopping)
                break;
        }
        if (c->nsealed > 0)
            continue;
        struct timespec until = flush_at, poll_at = now;
        if (c->mirror && !reached(&mirror_at, &flush_at))
            until = mirror_at;
        /* While datagrams keep coming, poll for them instead of being woken
         * for each one: a wake-up costs the caller a system call. */
        add_ms(&poll_at, POLL_MS);
        c->sender_idle = SLEEP_LONG;
        if (sent && !reached(&poll_at, &until)) {
            until = poll_at;
            c->sender_idle = SLEEP_POLL;
        }
        pthread_cond_timedwait(&c->wake, &c->mu, &until);
        c->sender_idle = 0;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- create / destroy ---- */

static int open_socket(const char *host, int port, int *out_fd) {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res)
        return VT_ENET;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return VT_ENET;
    *out_fd = fd;
    return 0;
}

static int render_tags(vt_statsd_t *c, const char *const *tags) {
    size_t len = 0;
    for (const char *const *t = tags; t && *t; t++) {
        if (!vt__statsd_tag_ok(*t))
            return VT_EINVAL;
        len += strlen(*t) + 1;
    }
    if (!len)
        return 0;
    c->tags = malloc(len);
    if (!c->tags)
        return VT_ENOMEM;
    for (const char *const *t = tags; *t; t++) {
        if (c->tags_len)
            c->tags[c->tags_len++] = ',';
        size_t n = strlen(*t);
        memcpy(c->tags + c->tags_len, *t, n);
        c->tags_len += n;
    }
    return 0;
}

static void free_client(vt_statsd_t *c) {
    if (c->fd >= 0)
        close(c->fd);
    if (c->drop_counter) {
        vt_family_t *f = vt_counter_family(c->drop_counter);
        if (vt_registry_unregister(c->drop_reg, f) == 0)
            vt_family_destroy(f);
    }
    vt__mirror_destroy(c->mirror);
    free(c->bufs);
    free(c->long_buf);
    free(c->lens);
    free(c->lines);
    free(c->prefix);
    free(c->tags);
    free(c);
}

static int init_sync(vt_statsd_t *c) {
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return VT_ENOMEM;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int ok = pthread_mutex_init(&c->mu, NULL) == 0;
    ok = ok && pthread_mutex_init(&c->long_mu, NULL) == 0;
    ok = ok && pthread_cond_init(&c->wake, &ca) == 0;
    ok = ok && pthread_cond_init(&c->drained, &ca) == 0;
    pthread_condattr_destroy(&ca);
    return ok ? 0 : VT_ENOMEM;
}

int vt_statsd_create(const vt_statsd_opts_t *opts, vt_statsd_t **out) {
    vt_statsd_opts_t def;
    if (!opts) {
        vt_statsd_opts_init(&def);
        opts = &def;
    }
    if (!out || !opts->host || opts->port <= 0 || opts->port > 65535 || opts->max_datagram < 64 ||
        opts->max_datagram > 65507 || opts->buffer_size < 2 * opts->max_datagram ||
        opts->flush_interval_ms == 0 || (opts->mirror && opts->mirror_interval_ms == 0))
        return VT_EINVAL;
    vt_statsd_t *c = calloc(1, sizeof *c);
    if (!c)
        return VT_ENOMEM;
    c->fd = -1;
    c->max_dgram = opts->max_datagram;
    c->nslots = opts->buffer_size / opts->max_datagram;
    c->flush_ms = opts->flush_interval_ms;
    c->mirror_ms = opts->mirror_interval_ms;
    int rc = render_tags(c, opts->tags);
    if (rc) {
        free_client(c);
        return rc;
    }
    const char *prefix = opts->prefix ? opts->prefix : "";
    c->bufs = malloc(c->nslots * c->max_dgram);
    c->lens = calloc(c->nslots, sizeof *c->lens);
    c->lines = calloc(c->nslots, sizeof *c->lines);
    c->prefix = malloc(strlen(prefix) + 1);
    if (c->max_dgram > VT__STATSD_LINE_MAX && !(c->long_buf = malloc(c->max_dgram))) {
        free_client(c);
        return VT_ENOMEM;
    }
    if (!c->bufs || !c->lens || !c->lines || !c->prefix) {
        free_client(c);
        return VT_ENOMEM;
    }
    c->prefix_len = vt__statsd_sanitize(c->prefix, strlen(prefix), prefix);
    c->prefix[c->prefix_len] = '\0';
    if ((rc = open_socket(opts->host, opts->port, &c->fd)) != 0) {
        free_client(c);
        return rc;
    }
    if (opts->registry) {
        rc = vt_counter_create(opts->registry, "statsd_dropped",
                               "StatsD lines dropped: buffers full, too long, or refused "
                               "by the socket.",
                               NULL, &c->drop_counter);
        if (rc == 0)
            rc = vt_counter_with(c->drop_counter, NULL, &c->drop_series);
        c->drop_reg = opts->registry;
        if (rc) {
            free_client(c);
            return rc;
        }
    }
    if (opts->mirror && (rc = vt__mirror_create(opts->mirror, opts->mirror_tags, &c->mirror))) {
        free_client(c);
        return rc;
    }
    if ((rc = init_sync(c)) != 0) {
        free_client(c);
        return rc;
    }
    if (pthread_create(&c->thread, NULL, sender_main, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_mutex_destroy(&c->long_mu);
        pthread_cond_destroy(&c->wake);
        pthread_cond_destroy(&c->drained);
        free_client(c);
        return VT_ENOMEM;
    }
    *out = c;
    return 0;
}

void vt_statsd_destroy(vt_statsd_t *c) {
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_mutex_unlock(&c->mu);
    pthread_cond_signal(&c->wake);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->long_mu);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->drained);
    free_client(c);
}

int vt_statsd_flush(vt_statsd_t *c) {
    if (!c)
        return VT_EINVAL;
    pthread_mutex_lock(&c->mu);
    uint64_t req = ++c->flush_req;
    pthread_cond_signal(&c->wake);
    while (c->flush_done < req && !c->stopping)
        pthread_cond_wait(&c->drained, &c->mu);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

uint64_t vt_statsd_dropped(const vt_statsd_t *c) {
    return c ? atomic_load_explicit(&((vt_statsd_t *)c)->dropped, memory_order_relaxed) : 0;
}

uint64_t vt_statsd_sent(const vt_statsd_t *c) {
    return c ? atomic_load_explicit(&((vt_statsd_t *)c)->sent, memory_order_relaxed) : 0;
}

/* ---- the calls ---- */

static const char *const type_text[] = {"c", "g", "ms", "s", "h", "d"};

/* Format, sample and queue one line (two for a negative absolute gauge). */
static int emit(vt_statsd_t *c, const char *key, vt_statsd_type_t type, double value,
                const char *member, double rate, int relative, const char *const *tags) {
    if (VT__PUSH_UNLIKELY(!c || !key || (unsigned)type > VT_STATSD_DISTRIBUTION))
        return VT_EINVAL;
    if (type == VT_STATSD_GAUGE || type == VT_STATSD_SET)
        rate = 1;
    if (VT__PUSH_UNLIKELY(!(rate > 0)))
        return VT_EINVAL;
    char num[VT_DOUBLE_BUFSZ + 1];
    const char *val = num;
    size_t vlen;
    if (type == VT_STATSD_SET) {
        if (!member || !*member || strpbrk(member, ":|\n\r"))
            return VT_EINVAL;
        val = member;
        vlen = strlen(member);
    } else {
        if (VT__PUSH_UNLIKELY(!isfinite(value)))
            return VT_EINVAL;
        if (relative) {
            num[0] = signbit(value) ? '-' : '+';
            vlen = 1 + vt__statsd_num(fabs(value), num + 1);
        } else
            vlen = vt__statsd_num(value, num);
    }
    for (const char *const *t = tags; t && *t; t++)
        if (!vt__statsd_tag_ok(*t))
            return VT_EINVAL;
    if (rate < 1 && vt__rand_unit() >= rate)
        return 0;

    vt__statsd_parts_t p = {.prefix = c->prefix,
                            .prefix_len = c->prefix_len,
                            .key = key,
                            .value = val,
                            .value_len = vlen,
                            .type = type_text[type],
                            .rate = rate,
                            .tags = c->tags,
                            .tags_len = c->tags_len,
                            .call_tags = tags};
    if (type == VT_STATSD_GAUGE && !relative && value < 0) {
        /* "0" first: a leading "-" alone would be read as a decrement. */
        p.value = "0";
        p.value_len = 1;
        return vt__statsd_emit(c, &p, num, vlen, 0);
    }
    return vt__statsd_emit(c, &p, NULL, 0, 0);
}

int vt_statsd_count(vt_statsd_t *c, const char *key, int64_t n, double rate) {
    if (VT__PUSH_UNLIKELY(!c || !key))
        return VT_EINVAL;
    if (VT__PUSH_UNLIKELY(!(rate > 0)))
        return VT_EINVAL;
    if (rate < 1 && vt__rand_unit() >= rate)
        return 0;
    /* The common call, without the double round trip of emit(). */
    char num[24];
    vt__statsd_parts_t p = {.prefix = c->prefix,
                            .prefix_len = c->prefix_len,
                            .key = key,
                            .value = num,
                            .value_len = vt__statsd_i64(n, num),
                            .type = "c",
                            .rate = rate,
                            .tags = c->tags,
                            .tags_len = c->tags_len};
    return vt__statsd_emit(c, &p, NULL, 0, 0);
}

int vt_statsd_gauge(vt_statsd_t *c, const char *key, double value) {
    return emit(c, key, VT_STATSD_GAUGE, value, NULL, 1, 0, NULL);
}

int vt_statsd_gauge_delta(vt_statsd_t *c, const char *key, double delta) {
    return emit(c, key, VT_STATSD_GAUGE, delta, NULL, 1, 1, NULL);
}

int vt_statsd_timing(vt_statsd_t *c, const char *key, double ms, double rate) {
    return emit(c, key, VT_STATSD_TIMING, ms, NULL, rate, 0, NULL);
}

int vt_statsd_set(vt_statsd_t *c, const char *key, const char *member) {
    return emit(c, key, VT_STATSD_SET, 0, member, 1, 0, NULL);
}

int vt_statsd_histogram(vt_statsd_t *c, const char *key, double value, double rate) {
    return emit(c, key, VT_STATSD_HISTOGRAM, value, NULL, rate, 0, NULL);
}

int vt_statsd_distribution(vt_statsd_t *c, const char *key, double value, double rate) {
    return emit(c, key, VT_STATSD_DISTRIBUTION, value, NULL, rate, 0, NULL);
}

int vt_statsd_send(vt_statsd_t *c, const vt_statsd_line_t *l) {
    if (!l)
        return VT_EINVAL;
    double rate = l->sample_rate == 0 ? 1 : l->sample_rate;
    return emit(c, l->key, l->type, l->value, l->member, rate, l->relative, l->tags);
}
