/* vitals/remote_write.h - libvitals-push: Prometheus remote write 1.0 from a
 * registry, every interval, to Prometheus (--web.enable-remote-write-receiver),
 * Mimir, Thanos receive, VictoriaMetrics and the like.
 *
 *   vt_remote_write_opts_t o;
 *   vt_remote_write_opts_init(&o);
 *   o.url = "http://prometheus:9090/api/v1/write";
 *   o.labels = VT_LABELS("job", "shop", "instance", "web-1");
 *   vt_remote_write_t *rw;
 *   vt_remote_write_create(reg, &o, &rw);   // a thread now sends every 15 s
 *   ...
 *   vt_remote_write_destroy(rw);
 *
 * Each snapshot is one WriteRequest: a time series per sample as the text
 * format names it (x_total, x_bucket{le}, x_sum, x_count, x{quantile},
 * x_info), labels sorted by name with __name__, the option's labels added
 * where a series does not already have them, one timestamp (milliseconds)
 * for the whole snapshot, and one MetricMetadata per family. The body is
 * protobuf, snappy-compressed, POSTed with the headers the specification
 * requires. NaN values are sent as they are (Prometheus stores them).
 *
 * All I/O runs on the writer's thread. A request that fails with a network
 * error, a 5xx or a 429 is retried with exponential backoff, and later
 * snapshots queue behind it (oldest first, so each series stays in time
 * order) up to max_pending; past that the oldest is dropped and counted. A
 * request refused with another 4xx is dropped at once (retrying cannot fix
 * it) and its message kept in last_error.
 *
 * Built only when protobuf-c and snappy were found: otherwise
 * vt_remote_write_create returns VT_EUNSUPPORTED.
 *
 * Link with -lvitals_push (pkg-config vitals-push, CMake vitals::push).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_REMOTE_WRITE_H
#define VITALS_REMOTE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_remote_write vt_remote_write_t;

/* vt_remote_write_opts_t - where and how often. Fill with
 * vt_remote_write_opts_init(). Strings are copied. */
typedef struct vt_remote_write_opts {
    const char *url;                 /* the receiver, e.g. http://h:9090/api/v1/write; required */
    const char *const *labels;       /* NULL-terminated name, value pairs added to every series
                                        that lacks them (job, instance...); or NULL */
    unsigned interval_ms;            /* time between snapshots; default 15000 */
    int metadata;                    /* 1 (default): send each family's type, help and unit */
    size_t max_pending;              /* snapshots kept while the receiver fails; default 32 */
    const char *username, *password; /* HTTP basic auth, or NULL */
    const char *bearer_token;        /* "Authorization: Bearer ...", or NULL */
    const char *ca_file, *cert_file, *key_file; /* TLS, as for the Pushgateway client */
    int insecure_skip_verify;
    long timeout_ms;         /* per request; default 10000 */
    unsigned backoff_min_ms; /* first retry; default 100 */
    unsigned backoff_max_ms; /* longest wait between retries; default 10000 */
} vt_remote_write_opts_t;

/* vt_remote_write_opts_init - the defaults above. Thread-safety: touches only
 * *opts. Since: 0.1.0 */
VT_EXTERN void vt_remote_write_opts_init(vt_remote_write_opts_t *opts);

/* vt_remote_write_create - start a writer thread for reg. The first snapshot
 * is taken one interval after the call.
 *
 * Returns: 0; VT_EINVAL (reg or url NULL, not http:// or https://, interval
 * 0, max_pending 0, an odd label list, backoff_min above backoff_max);
 * VT_ELABELNAME (a label name that is not [a-zA-Z_][a-zA-Z0-9_]* or starts
 * with "__"); VT_EUTF8; VT_EUNSUPPORTED (built without protobuf-c/snappy);
 * VT_ENOMEM.
 * Thread-safety: safe from any thread.
 * Ownership: copies opts; borrows reg, which must outlive the writer.
 * Since: 0.1.0
 */
VT_EXTERN int vt_remote_write_create(vt_registry_t *reg, const vt_remote_write_opts_t *opts,
                                     vt_remote_write_t **out_writer);

/* vt_remote_write_flush - take a snapshot now and try to send everything
 * pending, once, ignoring the backoff; return when that attempt is over.
 *
 * Returns: 0 (nothing left pending); VT_EHTTP or VT_EAUTH (the receiver
 * refused; see last_error); VT_ETIMEDOUT; VT_ENET (the data stays pending);
 * VT_ENOMEM; VT_EINVAL.
 * Thread-safety: safe from any thread; blocks up to timeout_ms per pending
 * request.
 * Since: 0.1.0
 */
VT_EXTERN int vt_remote_write_flush(vt_remote_write_t *writer);

/* vt_remote_write_destroy - one last snapshot and attempt (bounded by
 * timeout_ms per pending request), then stop and free. NULL is ignored.
 * Thread-safety: no other thread may use the writer during or after the call.
 * Since: 0.1.0 */
VT_EXTERN void vt_remote_write_destroy(vt_remote_write_t *writer);

typedef struct vt_remote_write_stats {
    uint64_t snapshots;         /* WriteRequests built */
    uint64_t requests_ok;       /* accepted with 2xx */
    uint64_t requests_failed;   /* attempts that failed (each retry counts) */
    uint64_t samples_sent;      /* samples in accepted requests */
    uint64_t snapshots_dropped; /* refused with 4xx, or pushed out of max_pending */
    size_t pending;             /* snapshots waiting now */
    long last_status;           /* HTTP status of the last attempt, 0 if none came */
} vt_remote_write_stats_t;

/* vt_remote_write_stats / vt_remote_write_last_error - what happened so far;
 * the error ("" if none yet) is copied into buf, truncated to len.
 * Thread-safety: safe from any thread. Since: 0.1.0 */
VT_EXTERN void vt_remote_write_stats(vt_remote_write_t *writer, vt_remote_write_stats_t *out);
VT_EXTERN void vt_remote_write_last_error(vt_remote_write_t *writer, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
