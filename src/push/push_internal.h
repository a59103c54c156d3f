/* push_internal.h - what the files of libvitals-push share; never installed.
 *
 * The StatsD client is split in three: statsd_line.c formats and sanitizes
 * lines (pure functions), statsd.c owns the datagram ring, the socket and the
 * sender thread, statsd_mirror.c turns a registry into lines on that thread.
 * The Pushgateway client builds its group path in pushgateway_path.c and
 * talks HTTP in pushgateway.c, through the libcurl requests of
 * curl_request.c that remote write uses too. The Graphite bridge renders lines in
 * graphite_lines.c and owns its connection in graphite.c; it and remote write
 * (remote_write.c, encoding in remote_write_encode.c) run on the sender
 * thread of sender_loop.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_PUSH_INTERNAL_H
#define VT_PUSH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vitals.h"
#include "vitals/statsd.h"
#include "vitals/visit.h"

#if defined(__GNUC__)
#define VT__PUSH_LIKELY(x) __builtin_expect(!!(x), 1)
#define VT__PUSH_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define VT__PUSH_LIKELY(x) (x)
#define VT__PUSH_UNLIKELY(x) (x)
#endif

/* ---- random numbers (rand.c) ---- */

/* A uniform double in [0, 1) from the calling thread's xorshift generator,
 * seeded from getrandom() on the thread's first call. */
double vt__rand_unit(void);
/* Fill buf with n bytes from getrandom() (or the clock when that fails). */
void vt__rand_bytes(void *buf, size_t n);

/* ---- StatsD lines (statsd_line.c) ---- */

/* Longest line the client builds on the caller's stack. A longer one, up to
 * max_datagram, is built in the client's long-line buffer (vt__statsd_emit). */
#define VT__STATSD_LINE_MAX 2048

/* Append src sanitized as etsy statsd sanitizes keys (whitespace runs -> "_",
 * "/" -> "-", drop everything outside [A-Za-z0-9_.;=-]) to dst[0..cap).
 * Returns the bytes written, or (size_t)-1 when they do not fit. */
size_t vt__statsd_sanitize(char *dst, size_t cap, const char *src);
/* Write v the shortest way that reads back (integers without a dot);
 * buf holds VT_DOUBLE_BUFSZ. Returns the length. */
size_t vt__statsd_num(double v, char *buf);
/* Write n in decimal; buf holds 21 bytes. Returns the length. */
size_t vt__statsd_i64(int64_t n, char *buf);
/* Does a tag hold none of '|', ',', '#', newline, and is it non-empty? */
int vt__statsd_tag_ok(const char *tag);

/* The parts of one line, ready to be assembled. */
typedef struct vt__statsd_parts {
    const char *prefix; /* sanitized already */
    size_t prefix_len;
    const char *key;   /* raw; sanitized while copying */
    const char *value; /* formatted value, sign included */
    size_t value_len;
    const char *type; /* "c", "g", ... */
    double rate;      /* < 1 adds "|@rate" */
    const char *tags; /* the client's rendered tags ("a:b,c:d"), or NULL */
    size_t tags_len;
    const char *const *call_tags; /* per-call tags, validated already, or NULL */
} vt__statsd_parts_t;

/* Assemble a line into out[0..cap). Returns its length, 0 when the key is
 * empty after sanitizing, or (size_t)-1 when it does not fit. */
size_t vt__statsd_line(const vt__statsd_parts_t *p, char *out, size_t cap);

/* ---- path segments (segment.c) ---- */

/* Append src to dst[0..cap) with every byte outside [A-Za-z0-9_-] turned into
 * "_", as Graphite bridges name path segments. Returns the bytes written, or
 * (size_t)-1 when they do not fit. */
size_t vt__segment(char *dst, size_t cap, const char *src);

/* ---- Pushgateway paths (pushgateway_path.c) ---- */

/* Is s valid UTF-8 (no overlongs, no surrogates)? */
int vt__utf8_valid(const char *s);
/* Base64url of in[0..n) with "=" padding into out (4 * ceil(n / 3) + 1 bytes);
 * returns the length. */
size_t vt__base64url(const unsigned char *in, size_t n, char *out);
/* base + "/metrics/job/<job>" + "/<label>/<value>"... (see the file); the
 * same errors as vt_pushgateway_create. *out_url is malloc'd. */
int vt__pushgateway_url(const char *base, const char *job, const char *const *grouping,
                        char **out_url);

/* ---- Graphite plaintext (graphite_lines.c) ---- */

/* A growable byte buffer. */
typedef struct vt__gbuf {
    char *data;
    size_t len, cap;
} vt__gbuf_t;

/* Make room for n more bytes; 0 or VT_ENOMEM. */
int vt__gbuf_reserve(vt__gbuf_t *b, size_t n);
/* Append n bytes; 0 or VT_ENOMEM. */
int vt__gbuf_put(vt__gbuf_t *b, const char *s, size_t n);
/* Append the registry's samples as "<path> <value> <ts>\n" lines (see
 * vitals/graphite.h for the naming); on error nothing is appended. */
int vt__graphite_render(vt_registry_t *reg, const char *prefix, int tags, long long ts,
                        vt__gbuf_t *out, uint64_t *out_lines);

/* ---- remote write (remote_write_encode.c) ---- */

/* The registry as one snappy-compressed WriteRequest in *out (replacing its
 * contents): extra holds nextra name, value pairs added to series lacking
 * them; every sample carries ts_ms. *out_samples receives the sample count. */
int vt__rw_encode(vt_registry_t *reg, const char *const *extra, size_t nextra, int with_metadata,
                  int64_t ts_ms, vt__gbuf_t *out, uint64_t *out_samples);
/* Is s a label name a user may set ([a-zA-Z_][a-zA-Z0-9_]*)? */
int vt__label_name_ok(const char *s);

/* ---- HTTP requests with libcurl (curl_request.c) ---- */

/* The settings of a client's requests; vt__curl_open copies them. */
typedef struct vt__curl_conf {
    const char *url;
    const char *username, *password; /* basic auth when username is set */
    const char *ca_file, *cert_file, *key_file;
    int insecure; /* do not verify the server's certificate */
    long timeout_ms, connect_timeout_ms;
    size_t reply_max; /* bytes of a response body kept for the error text */
} vt__curl_conf_t;

/* One libcurl easy handle, reused so that keep-alive carries the next
 * request, with copies of the settings. One thread at a time. */
typedef struct vt__curl {
    void *curl; /* CURL * (curl.h stays out of this header) */
    char *url, *username, *password, *ca_file, *cert_file, *key_file;
    int insecure;
    long timeout_ms, connect_timeout_ms;
    long status;      /* of the last request; 0 when no answer came */
    char *reply;      /* the last response body, truncated to reply_max, NUL-terminated */
    size_t reply_len; /* bytes in reply */
    size_t reply_max;
} vt__curl_t;

/* libcurl's global init (once per process), a handle and copies of conf;
 * 0 or VT_ENOMEM (h is closed again then). */
int vt__curl_open(vt__curl_t *h, const vt__curl_conf_t *conf);
/* Free what vt__curl_open made, wiping the password first. */
void vt__curl_close(vt__curl_t *h);
/* One request to h->url: method (NULL: POST), nheaders header lines, body
 * (NULL: none). Returns 0 for a 2xx answer; VT_EAUTH (401, 403) or VT_EHTTP
 * (any other status) with "HTTP <status>: <body>" in err; VT_ENET,
 * VT_ETIMEDOUT or VT_ENOMEM with libcurl's message in err. err is left alone
 * on success. */
int vt__curl_request(vt__curl_t *h, const char *method, const char *const *headers, size_t nheaders,
                     const char *body, size_t len, char *err, size_t errlen);

/* ---- the sender thread (sender_loop.c) ---- */

/* Monotonic nanoseconds. */
uint64_t vt__mono_ns(void);

/* What an owner (the Graphite bridge, remote write) gives its sender thread. */
typedef struct vt__sender_conf {
    void *owner;
    void (*snapshot)(void *owner);          /* queue a fresh copy of the registry */
    int (*deliver)(void *owner, int force); /* send the queue; 0 when it is empty after.
                                               force: now, whatever the backoff says */
    int (*pending)(void *owner);            /* is anything queued? called under mu */
    unsigned interval_ms;                   /* between snapshots */
    unsigned backoff_min_ms, backoff_max_ms;
    char *error; /* the owner's last-error text, written under mu */
    size_t error_cap;
} vt__sender_conf_t;

/* A thread that snapshots every interval and delivers; see sender_loop.c. */
typedef struct vt__sender {
    vt__sender_conf_t c;
    pthread_t thread;
    pthread_mutex_t mu; /* guards the fields below, the error text and the owner's stats */
    pthread_cond_t wake, done;
    int stopping;
    uint64_t flush_req, flush_done;
    int flush_rc;

    /* the sender thread only (the owner's deliver runs there) */
    unsigned backoff_ms; /* the wait after the next failure */
    uint64_t retry_ns;   /* no unforced attempt before this (vt__mono_ns) */
} vt__sender_t;

/* Initialize s from conf and start the thread; 0 or VT_ENOMEM. */
int vt__sender_start(vt__sender_t *s, const vt__sender_conf_t *conf);
/* Ask for a snapshot delivered now and wait for deliver()'s code. */
int vt__sender_flush(vt__sender_t *s);
/* A final snapshot and delivery, then join the thread and free the locks. */
void vt__sender_stop(vt__sender_t *s);
/* On the sender thread: no attempt before the backoff has passed, and the
 * backoff doubles (up to its maximum). */
void vt__sender_retry_later(vt__sender_t *s);
/* On the sender thread: the next failure waits the minimum again. */
void vt__sender_retry_reset(vt__sender_t *s);
/* printf into the error text under mu. */
void vt__sender_set_error(vt__sender_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The error text into buf[0..len); "" when s is NULL. */
void vt__sender_last_error(vt__sender_t *s, char *buf, size_t len);
/* Copy n bytes of src (the owner's stats) to out under mu; zeros when s is NULL. */
void vt__sender_copy(vt__sender_t *s, void *out, const void *src, size_t n);

/* ---- the client (statsd.c) ---- */

typedef struct vt__mirror vt__mirror_t;

struct vt_statsd {
    int fd;           /* connected non-blocking UDP socket */
    size_t max_dgram; /* bytes per datagram */
    size_t nslots;    /* datagram buffers in the ring, at least 2 */
    char *bufs;       /* nslots * max_dgram bytes */
    size_t *lens;     /* bytes used in each slot */
    uint32_t *lines;  /* lines in each slot, for drop accounting */
    char *prefix;     /* sanitized prefix, "" when none */
    size_t prefix_len;
    char *tags; /* rendered client tags "a:b,c:d", or NULL */
    size_t tags_len;
    unsigned flush_ms;
    unsigned mirror_ms;

    /* The ring, under mu: slots head .. head+nsealed-1 are sealed (waiting for
     * or being sent by the sender thread, which alone advances head); the slot
     * after them, head+nsealed, is the one callers fill. A caller may seal only
     * while nsealed + 1 < nslots, so the filling slot is never one in flight. */
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* the sender waits here */
    pthread_cond_t drained; /* vt_statsd_flush waits here */
    size_t head, nsealed;
    int sender_idle; /* 0 running, 1 polling (short wait), 2 asleep until the
                        next flush: see vt__statsd_push for when to signal */
    int stopping;
    uint64_t flush_req, flush_done;

    /* Lines longer than VT__STATSD_LINE_MAX (rare) are built here:
     * max_dgram bytes, or NULL when a datagram is no longer than that.
     * long_mu guards it and is taken before mu, never while holding mu. */
    char *long_buf;
    pthread_mutex_t long_mu;

    _Atomic uint64_t dropped; /* lines */
    _Atomic uint64_t sent;    /* datagrams */
    vt_registry_t *drop_reg;
    vt_counter_t *drop_counter;
    vt_counter_series_t *drop_series;

    vt__mirror_t *mirror; /* NULL when no registry is mirrored */
    pthread_t thread;
};

/* Queue text (nlines lines joined by "\n") as one unit. from_sender is 1 on
 * the sender thread, which then sends sealed datagrams itself rather than
 * drop when the ring is full. Returns 0 or VT_EBUSY (dropped and counted). */
int vt__statsd_push(vt_statsd_t *c, const char *text, size_t len, uint32_t nlines, int from_sender);
/* Assemble p into a line and queue it; with second set, two lines: p's value,
 * then second (a negative absolute gauge goes as "0", then the value). A line
 * as long as a datagram is sent whatever VT__STATSD_LINE_MAX says. Returns 0;
 * VT_EINVAL (the key is empty after sanitizing; nothing counted); VT_ELIMIT
 * (longer than a datagram) or VT_EBUSY, both counted as dropped. */
int vt__statsd_emit(vt_statsd_t *c, const vt__statsd_parts_t *p, const char *second,
                    size_t second_len, int from_sender);
void vt__statsd_count_drop(vt_statsd_t *c, uint64_t lines);

/* ---- the registry mirror (statsd_mirror.c) ---- */

int vt__mirror_create(vt_registry_t *reg, int tags, vt__mirror_t **out);
void vt__mirror_destroy(vt__mirror_t *m);
/* On the sender thread: read the registry and push its lines. */
int vt__mirror_run(vt__mirror_t *m, vt_statsd_t *c);

#endif
