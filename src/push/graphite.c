/* graphite.c - the Graphite bridge: a thread that snapshots a registry every
 * interval and writes the lines to carbon over TCP.
 *
 * The thread, its cadence, flushes and the backoff are sender_loop.c's; this
 * file gives it the snapshot, the delivery and the connection. Only the
 * bridge thread touches the socket and the pending buffer (unsent bytes
 * pending.data[off..len), always whole lines). The loop's mutex guards the
 * stats and the error text.
 *
 * Connection states: no socket -> connect when the backoff deadline passes
 * (or at once for a flush or the final send); a failed connect doubles the
 * backoff up to its maximum; a connection that fails while writing is closed,
 * the unsent line it was in is kept whole, and the next attempt waits the
 * minimum backoff. Carbon never writes to us, so a readable socket means it
 * closed the connection: checked before each write, which saves most of the
 * lines that would otherwise go into a dead connection.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "push_internal.h"
#include "vitals/graphite.h"

struct vt_graphite {
    vt_registry_t *reg;
    char *host, *prefix;
    int port, tags;
    unsigned timeout_ms;
    size_t max_buffer;

    vt__sender_t loop;      /* its mu guards st and error */
    vt_graphite_stats_t st; /* under loop.mu */
    char error[256];        /* under loop.mu */

    /* bridge thread only */
    int fd;
    vt__gbuf_t pending;
    size_t off;
};

void vt_graphite_opts_init(vt_graphite_opts_t *o) {
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 2003;
    o->interval_ms = 10000;
    o->timeout_ms = 3000;
    o->backoff_min_ms = 200;
    o->backoff_max_ms = 30000;
    o->max_buffer = 4u << 20;
}

static void set_error(vt_graphite_t *g, const char *what, int err) {
    if (err)
        vt__sender_set_error(&g->loop, "%s: %s", what, strerror(err));
    else
        vt__sender_set_error(&g->loop, "%s", what);
}

/* ---- the connection ---- */

static void disconnect(vt_graphite_t *g) {
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    pthread_mutex_lock(&g->loop.mu);
    g->st.connected = 0;
    pthread_mutex_unlock(&g->loop.mu);
}

/* Wait for events on the socket up to timeout_ms; 1 ready, 0 timeout, -1 error. */
static int wait_fd(vt_graphite_t *g, short events) {
    struct pollfd p = {.fd = g->fd, .events = events};
    int r;
    do
        r = poll(&p, 1, (int)g->timeout_ms);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : r;
}

static void connect_failed(vt_graphite_t *g, const char *what, int err) {
    set_error(g, what, err);
    pthread_mutex_lock(&g->loop.mu);
    g->st.connect_failures++;
    pthread_mutex_unlock(&g->loop.mu);
    vt__sender_retry_later(&g->loop);
}

static int try_connect(vt_graphite_t *g) {
    char service[16];
    snprintf(service, sizeof service, "%d", g->port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int grc = getaddrinfo(g->host, service, &hints, &res);
    if (grc != 0 || !res) {
        char msg[200];
        snprintf(msg, sizeof msg, "resolving %s: %s", g->host, gai_strerror(grc));
        connect_failed(g, msg, 0);
        return -1;
    }
    int err = 0;
    for (struct addrinfo *ai = res; ai && g->fd < 0; ai = ai->ai_next) {
        g->fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (g->fd < 0) {
            err = errno;
            continue;
        }
        if (connect(g->fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        err = errno;
        if (err == EINPROGRESS) {
            socklen_t len = sizeof err;
            int w = wait_fd(g, POLLOUT);
            if (w > 0 && getsockopt(g->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
                break;
            if (w == 0)
                err = ETIMEDOUT;
        }
        close(g->fd);
        g->fd = -1;
    }
    freeaddrinfo(res);
    if (g->fd < 0) {
        connect_failed(g, "connecting to carbon", err);
        return -1;
    }
    vt__sender_retry_reset(&g->loop);
    pthread_mutex_lock(&g->loop.mu);
    g->st.connects++;
    g->st.connected = 1;
    pthread_mutex_unlock(&g->loop.mu);
    return 0;
}

/* Has carbon closed the connection? It never sends, so readable means EOF. */
static int peer_closed(vt_graphite_t *g) {
    struct pollfd p = {.fd = g->fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    char b[256];
    ssize_t r = recv(g->fd, b, sizeof b, MSG_DONTWAIT);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Write pending[off..len). 0 when all is written, -1 when the connection
 * failed (it is closed; off is moved back to the start of the line it was
 * in, so that line is sent whole again). */
static int send_pending(vt_graphite_t *g) {
    if (peer_closed(g)) {
        disconnect(g);
        set_error(g, "carbon closed the connection", 0);
        pthread_mutex_lock(&g->loop.mu);
        g->st.write_failures++;
        pthread_mutex_unlock(&g->loop.mu);
        g->loop.retry_ns = vt__mono_ns();
        return -1;
    }
    uint64_t lines = 0;
    while (g->off < g->pending.len) {
        ssize_t w = send(g->fd, g->pending.data + g->off, g->pending.len - g->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            const char *p = g->pending.data + g->off;
            for (ssize_t i = 0; i < w; i++)
                lines += p[i] == '\n';
            g->off += (size_t)w;
            continue;
        }
        int err = errno;
        if (w < 0 && err == EINTR)
            continue;
        if (w < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
            int r = wait_fd(g, POLLOUT);
            if (r > 0)
                continue;
            err = r == 0 ? ETIMEDOUT : errno;
        }
        set_error(g, "writing to carbon", err);
        disconnect(g);
        while (g->off > 0 && g->pending.data[g->off - 1] != '\n')
            g->off--;
        pthread_mutex_lock(&g->loop.mu);
        g->st.write_failures++;
        g->st.lines_sent += lines;
        pthread_mutex_unlock(&g->loop.mu);
        g->loop.retry_ns = vt__mono_ns() + (uint64_t)g->loop.c.backoff_min_ms * 1000000u;
        return -1;
    }
    g->off = g->pending.len = 0;
    pthread_mutex_lock(&g->loop.mu);
    g->st.lines_sent += lines;
    pthread_mutex_unlock(&g->loop.mu);
    return 0;
}

/* ---- the pending buffer ---- */

/* Make room for a new snapshot of n bytes: drop the oldest whole lines. */
static void make_room(vt_graphite_t *g, size_t n) {
    if (g->off > 0 && g->off * 2 >= g->pending.len) {
        memmove(g->pending.data, g->pending.data + g->off, g->pending.len - g->off);
        g->pending.len -= g->off;
        g->off = 0;
    }
    size_t used = g->pending.len - g->off;
    if (used + n <= g->max_buffer)
        return;
    size_t cut = used + n - g->max_buffer, dropped = 0, i = g->off;
    while (i < g->pending.len && (i - g->off < cut || g->pending.data[i - 1] != '\n'))
        dropped += g->pending.data[i++] == '\n';
    g->off = i;
    pthread_mutex_lock(&g->loop.mu);
    g->st.lines_dropped += dropped;
    pthread_mutex_unlock(&g->loop.mu);
}

static void snapshot(void *owner) {
    vt_graphite_t *g = owner;
    vt__gbuf_t fresh = {0};
    uint64_t lines = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int rc = vt__graphite_render(g->reg, g->prefix, g->tags, (long long)now.tv_sec, &fresh, &lines);
    if (rc == 0 && fresh.len > g->max_buffer) {
        pthread_mutex_lock(&g->loop.mu);
        g->st.lines_dropped += lines;
        pthread_mutex_unlock(&g->loop.mu);
        set_error(g, "a snapshot is larger than max_buffer", 0);
    } else if (rc == 0) {
        make_room(g, fresh.len);
        if (vt__gbuf_put(&g->pending, fresh.data, fresh.len) != 0) {
            pthread_mutex_lock(&g->loop.mu);
            g->st.lines_dropped += lines;
            pthread_mutex_unlock(&g->loop.mu);
        }
    } else
        set_error(g, vt_strerror(rc), 0);
    free(fresh.data);
    pthread_mutex_lock(&g->loop.mu);
    g->st.snapshots++;
    pthread_mutex_unlock(&g->loop.mu);
}

/* Send what is pending, connecting first when allowed. 0 when nothing is left. */
static int deliver(void *owner, int force) {
    vt_graphite_t *g = owner;
    if (g->off == g->pending.len)
        return 0;
    if (g->fd < 0 && (force || vt__mono_ns() >= g->loop.retry_ns))
        try_connect(g);
    if (g->fd < 0)
        return VT_ENET;
    if (send_pending(g) == 0)
        return 0;
    /* One immediate retry when the old connection had died under us. */
    if (try_connect(g) == 0 && send_pending(g) == 0)
        return 0;
    return VT_ENET;
}

static int pending(void *owner) {
    const vt_graphite_t *g = owner;
    return g->off != g->pending.len;
}

/* ---- public calls ---- */

static void free_bridge(vt_graphite_t *g) {
    if (g->fd >= 0)
        close(g->fd);
    free(g->pending.data);
    free(g->host);
    free(g->prefix);
    free(g);
}

int vt_graphite_create(vt_registry_t *reg, const vt_graphite_opts_t *opts, vt_graphite_t **out) {
    vt_graphite_opts_t def;
    if (!opts) {
        vt_graphite_opts_init(&def);
        opts = &def;
    }
    if (!reg || !out || !opts->host || opts->port <= 0 || opts->port > 65535 ||
        opts->interval_ms == 0 || opts->timeout_ms == 0 || opts->backoff_min_ms == 0 ||
        opts->backoff_min_ms > opts->backoff_max_ms || opts->max_buffer == 0)
        return VT_EINVAL;
    if (opts->prefix && strpbrk(opts->prefix, " \t\r\n;"))
        return VT_EINVAL;
    vt_graphite_t *g = calloc(1, sizeof *g);
    if (!g)
        return VT_ENOMEM;
    g->fd = -1;
    g->reg = reg;
    g->port = opts->port;
    g->tags = opts->tags;
    g->timeout_ms = opts->timeout_ms;
    g->max_buffer = opts->max_buffer;
    g->host = strdup(opts->host);
    g->prefix = strdup(opts->prefix ? opts->prefix : "");
    if (!g->host || !g->prefix) {
        free_bridge(g);
        return VT_ENOMEM;
    }
    vt__sender_conf_t sc = {.owner = g,
                            .snapshot = snapshot,
                            .deliver = deliver,
                            .pending = pending,
                            .interval_ms = opts->interval_ms,
                            .backoff_min_ms = opts->backoff_min_ms,
                            .backoff_max_ms = opts->backoff_max_ms,
                            .error = g->error,
                            .error_cap = sizeof g->error};
    if (vt__sender_start(&g->loop, &sc) != 0) {
        free_bridge(g);
        return VT_ENOMEM;
    }
    *out = g;
    return 0;
}

int vt_graphite_flush(vt_graphite_t *g) {
    return g ? vt__sender_flush(&g->loop) : VT_EINVAL;
}

void vt_graphite_destroy(vt_graphite_t *g) {
    if (!g)
        return;
    vt__sender_stop(&g->loop);
    free_bridge(g);
}

void vt_graphite_stats(vt_graphite_t *g, vt_graphite_stats_t *out) {
    if (out)
        vt__sender_copy(g ? &g->loop : NULL, out, g ? &g->st : NULL, sizeof *out);
}

void vt_graphite_last_error(vt_graphite_t *g, char *buf, size_t len) {
    vt__sender_last_error(g ? &g->loop : NULL, buf, len);
}
