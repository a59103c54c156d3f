/* vitals/graphite.h - libvitals-push: a bridge that writes a registry to
 * Graphite (carbon's plaintext protocol over TCP) every interval.
 *
 *   vt_graphite_opts_t o;
 *   vt_graphite_opts_init(&o);
 *   o.host = "carbon.internal";
 *   o.prefix = "shop.web-1";
 *   vt_graphite_t *g;
 *   vt_graphite_create(reg, &o, &g);   // a thread now sends every 10 s
 *   ...
 *   vt_graphite_destroy(g);
 *
 * Each sample becomes one line "<path> <value> <unix seconds>\n". The path is
 * prefix "." sample name, then the labels sorted by name: as segments
 * ".label.value" (default) or as Graphite 1.1 tags ";label=value". Names,
 * label names and values keep [a-zA-Z0-9_-] and turn every other character
 * into "_"; the prefix is used as given. A histogram writes name_bucket with
 * an "le" label ("0_25", "_Inf"), name_sum and name_count; a summary its
 * quantiles with a "quantile" label, _sum and _count; a counter name_total;
 * an info metric name_info 1. NaN and infinite values are left out.
 *
 * All I/O runs on the bridge's own thread: instrumented code never waits for
 * carbon. When carbon cannot be reached the bridge keeps the unsent
 * snapshots (up to max_buffer bytes, oldest dropped first and counted) and
 * retries the connection with exponential backoff; once connected it sends
 * what it kept, then goes on.
 *
 * Link with -lvitals_push (pkg-config vitals-push, CMake vitals::push).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_GRAPHITE_H
#define VITALS_GRAPHITE_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_graphite vt_graphite_t;

/* vt_graphite_opts_t - where and how the bridge writes. Fill with
 * vt_graphite_opts_init(). Strings are copied. */
typedef struct vt_graphite_opts {
    const char *host;        /* carbon's name or address; default "127.0.0.1" */
    int port;                /* plaintext line receiver; default 2003 */
    const char *prefix;      /* path prefix without the trailing "."; NULL for none;
                                no whitespace, no ";" */
    unsigned interval_ms;    /* time between snapshots; default 10000 */
    int tags;                /* 1: labels as ";name=value" tags; 0 (default): as segments */
    unsigned timeout_ms;     /* connect, and each wait to write; default 3000 */
    unsigned backoff_min_ms; /* first retry after a failed connect; default 200 */
    unsigned backoff_max_ms; /* retries never wait longer; default 30000 */
    size_t max_buffer;       /* unsent bytes kept while carbon is away; default 4 MiB */
} vt_graphite_opts_t;

/* vt_graphite_opts_init - the defaults above.
 * Thread-safety: touches only *opts. Since: 0.1.0 */
VT_EXTERN void vt_graphite_opts_init(vt_graphite_opts_t *opts);

/* vt_graphite_create - start a bridge thread for reg.
 *
 * The first snapshot is taken one interval after the call. The host is
 * resolved on the bridge thread at each connection attempt, so create never
 * waits for the network.
 * Returns: 0; VT_EINVAL (reg NULL, port, interval 0, backoff_min above
 * backoff_max, a prefix with whitespace or ";"); VT_ENOMEM.
 * Thread-safety: safe from any thread.
 * Ownership: copies opts; borrows reg, which must outlive the bridge.
 * Since: 0.1.0
 */
VT_EXTERN int vt_graphite_create(vt_registry_t *reg, const vt_graphite_opts_t *opts,
                                 vt_graphite_t **out_bridge);

/* vt_graphite_flush - take a snapshot now and send everything kept; return
 * when the bridge thread has tried.
 *
 * Returns: 0 when all was written to carbon's socket; VT_ENET when carbon is
 * not reachable (the data stays kept); VT_EINVAL.
 * Thread-safety: safe from any thread. Blocks the caller up to about two
 * timeout_ms; use it in tests and at shutdown, not on hot paths.
 * Since: 0.1.0
 */
VT_EXTERN int vt_graphite_flush(vt_graphite_t *bridge);

/* vt_graphite_destroy - stop the thread after one last attempt to send (bounded
 * by timeout_ms) and free the bridge. NULL is ignored.
 * Thread-safety: no other thread may use the bridge during or after the call.
 * Since: 0.1.0 */
VT_EXTERN void vt_graphite_destroy(vt_graphite_t *bridge);

/* vt_graphite_stats_t - what the bridge has done so far. */
typedef struct vt_graphite_stats {
    uint64_t snapshots;     /* registry snapshots taken */
    uint64_t lines_sent;    /* lines written to carbon's socket */
    uint64_t lines_dropped; /* lines discarded because max_buffer was full */
    uint64_t connects;      /* successful connections */
    uint64_t connect_failures;
    uint64_t write_failures; /* connections lost while writing */
    int connected;           /* 1 while a connection is open */
} vt_graphite_stats_t;

/* vt_graphite_stats - copy the bridge's counters into *out.
 * vt_graphite_last_error - the last connection or write error ("" if none),
 * copied into buf (NUL-terminated, truncated to len).
 * Thread-safety: safe from any thread. Since: 0.1.0 */
VT_EXTERN void vt_graphite_stats(vt_graphite_t *bridge, vt_graphite_stats_t *out);
VT_EXTERN void vt_graphite_last_error(vt_graphite_t *bridge, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
