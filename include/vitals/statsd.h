/* vitals/statsd.h - libvitals-push: a StatsD (and DogStatsD) client over UDP.
 *
 * Calls on the instrumented threads only format a line and copy it into a
 * batch; a background thread owned by the client sends full datagrams (woken
 * when one fills) and the partial one every flush interval. The socket is
 * non-blocking: a line that finds every datagram buffer full, or a datagram
 * the kernel refuses, is dropped and counted, never waited for.
 *
 *   vt_statsd_opts_t o;
 *   vt_statsd_opts_init(&o);
 *   o.prefix = "shop.";
 *   vt_statsd_t *sd;
 *   if (vt_statsd_create(&o, &sd) == 0) {
 *       vt_statsd_count(sd, "orders", 1, 1.0);
 *       vt_statsd_timing(sd, "checkout", 12.5, 0.1);
 *       vt_statsd_destroy(sd);  // sends what is left
 *   }
 *
 * Keys are sanitized as the etsy daemon does on arrival: runs of whitespace
 * become "_", "/" becomes "-", and every character other than [A-Za-z0-9_.;=-]
 * is removed (so ":", "|" and "@" never break a line).
 *
 * Link with -lvitals_push (pkg-config vitals-push, CMake vitals::push).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_STATSD_H
#define VITALS_STATSD_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_statsd vt_statsd_t;

/* Largest datagram that crosses Ethernet without fragmenting. */
#define VT_STATSD_DEFAULT_DATAGRAM 1432

/* vt_statsd_opts_t - where and how a client sends. Fill with
 * vt_statsd_opts_init() and set what you need. Strings are copied. */
typedef struct vt_statsd_opts {
    const char *host;            /* name or address; default "127.0.0.1" */
    int port;                    /* UDP port; default 8125 */
    const char *prefix;          /* prepended to every key, e.g. "app."; NULL for none */
    size_t max_datagram;         /* bytes per datagram, 64 to 65507; default 1432 */
    size_t buffer_size;          /* bytes of datagrams waiting to be sent, at least
                                    2 * max_datagram; default 64 KiB */
    unsigned flush_interval_ms;  /* send the partial datagram this often; default 1000 */
    const char *const *tags;     /* NULL-terminated DogStatsD tags ("env:prod") added to
                                    every line as "|#..."; NULL for none */
    vt_registry_t *registry;     /* when set, the client registers statsd_dropped_total
                                    there; NULL for none */
    vt_registry_t *mirror;       /* when set, the client sends this registry's values
                                    every mirror_interval_ms (see vt_statsd_create) */
    unsigned mirror_interval_ms; /* default 10000 */
    int mirror_tags;             /* 1: labels as DogStatsD tags; 0 (default): as key
                                    segments "name.label.value" */
} vt_statsd_opts_t;

/* vt_statsd_opts_init - defaults: 127.0.0.1:8125, 1432-byte datagrams, 64 KiB
 * of buffers, 1 s flush, no prefix, no tags, no registry, no mirror.
 *
 * Thread-safety: touches only *opts.
 * Since: 0.1.0
 */
VT_EXTERN void vt_statsd_opts_init(vt_statsd_opts_t *opts);

/* vt_statsd_create - open a UDP socket to the daemon and start the sender
 * thread.
 *
 * The host is resolved once, here (a name may take a DNS lookup). With
 * opts->mirror set, every mirror_interval_ms the sender thread reads the
 * registry (vt_registry_visit) and sends:
 *   counters        "<name>_total" as the increase since the last mirror, type c
 *                   (the whole value the first time; nothing when unchanged);
 *   gauges, untyped "<name>" as an absolute gauge, type g, every time;
 *   histograms and  "<name>_count" and "<name>_sum" as increases, type c, so
 *   summaries       the daemon's rates and totals give the mean per interval;
 *   info            nothing.
 * Labels become ".<label>.<value>" key segments, or tags with mirror_tags.
 * Parameters: opts (NULL for every default); out_client receives the client.
 * The prefix is sanitized like keys (see above), once.
 * Returns: 0; VT_EINVAL (out_client or host NULL, port outside 1..65535,
 * max_datagram outside 64..65507, buffer_size below 2 * max_datagram, a zero
 * interval, a tag that is empty or holds '|', ',', '#' or a newline);
 * VT_ENET (the host does not resolve, or no socket); VT_EDUPLICATE
 * (opts->registry already has statsd_dropped_total); VT_ENOMEM.
 * Thread-safety: safe from any thread.
 * Ownership: copies every option; borrows opts->registry and opts->mirror,
 * which must outlive the client.
 * Since: 0.1.0
 */
VT_EXTERN int vt_statsd_create(const vt_statsd_opts_t *opts, vt_statsd_t **out_client);

/* vt_statsd_destroy - send what is buffered (one last mirror included), stop
 * the thread, close the socket and free the client. NULL is ignored.
 *
 * Never waits for the network: a datagram the socket refuses is dropped.
 * Thread-safety: no other thread may use the client during or after the call.
 * Ownership: takes the client. Its statsd_dropped_total counter is
 * unregistered from opts->registry and freed.
 * Since: 0.1.0
 */
VT_EXTERN void vt_statsd_destroy(vt_statsd_t *client);

/* vt_statsd_flush - send everything buffered now, and return once the sender
 * thread has handed it to the socket.
 *
 * Returns: 0, VT_EINVAL.
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN int vt_statsd_flush(vt_statsd_t *client);

/* ---- one line each --------------------------------------------------------
 *
 * key is sanitized and prefixed; sample_rate in (0, 1] keeps the line with
 * that probability (a per-thread xorshift generator seeded from getrandom)
 * and tells the daemon with "|@rate", which scales counts back up; 1 (or
 * more) sends every line without the suffix. tags (the _tags variant) is
 * NULL-terminated and follows the client's own tags.
 *
 * Returns: 0 (queued, or left out by sampling); VT_EINVAL (NULL client or key,
 * a key empty after sanitizing, a NaN or infinite value, a rate <= 0 or NaN,
 * a set member holding ':', '|' or a newline, a tag holding '|', ',', '#' or a
 * newline); VT_ELIMIT (the line is longer than a datagram; counted as dropped);
 * VT_EBUSY (every buffer is full: the line was dropped and counted).
 * Thread-safety: safe from any thread; never blocks on the network.
 * Ownership: copies everything.
 * Since: 0.1.0
 */

/* "key:n|c" - a counter increment (n may be negative). */
VT_EXTERN int vt_statsd_count(vt_statsd_t *c, const char *key, int64_t n, double sample_rate);
/* "key:v|g" - an absolute gauge. A negative value goes as "key:0|g" then
 * "key:-N|g" in the same datagram, since a leading sign means "relative". */
VT_EXTERN int vt_statsd_gauge(vt_statsd_t *c, const char *key, double value);
/* "key:+d|g" / "key:-d|g" - change a gauge by delta. */
VT_EXTERN int vt_statsd_gauge_delta(vt_statsd_t *c, const char *key, double delta);
/* "key:ms|ms" - a duration in milliseconds. */
VT_EXTERN int vt_statsd_timing(vt_statsd_t *c, const char *key, double ms, double sample_rate);
/* "key:member|s" - count distinct members per flush interval. */
VT_EXTERN int vt_statsd_set(vt_statsd_t *c, const char *key, const char *member);
/* DogStatsD "key:v|h" (agent-side histogram) and "key:v|d" (distribution). */
VT_EXTERN int vt_statsd_histogram(vt_statsd_t *c, const char *key, double value,
                                  double sample_rate);
VT_EXTERN int vt_statsd_distribution(vt_statsd_t *c, const char *key, double value,
                                     double sample_rate);

/* Line types, for vt_statsd_send(). */
typedef enum vt_statsd_type {
    VT_STATSD_COUNTER = 0,     /* c */
    VT_STATSD_GAUGE = 1,       /* g */
    VT_STATSD_TIMING = 2,      /* ms */
    VT_STATSD_SET = 3,         /* s */
    VT_STATSD_HISTOGRAM = 4,   /* h (DogStatsD) */
    VT_STATSD_DISTRIBUTION = 5 /* d (DogStatsD) */
} vt_statsd_type_t;

/* Any line, with per-call tags. Zero-initialize, then set key, type and what
 * the type needs. */
typedef struct vt_statsd_line {
    const char *key;
    vt_statsd_type_t type;
    double value;            /* every type but sets; a counter's value may have a fraction */
    const char *member;      /* sets only */
    double sample_rate;      /* c, ms, h, d; 0 means 1; ignored for g and s */
    int relative;            /* gauges: 1 sends value as a signed delta */
    const char *const *tags; /* NULL-terminated, or NULL */
} vt_statsd_line_t;
VT_EXTERN int vt_statsd_send(vt_statsd_t *c, const vt_statsd_line_t *line);

/* vt_statsd_dropped - lines dropped so far (full buffers, lines too long,
 * datagrams the socket refused). vt_statsd_sent - datagrams sent.
 *
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN uint64_t vt_statsd_dropped(const vt_statsd_t *c);
VT_EXTERN uint64_t vt_statsd_sent(const vt_statsd_t *c);

#ifdef __cplusplus
}
#endif
#endif
