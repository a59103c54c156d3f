/* vitals/pushgateway.h - libvitals-push: pushing a registry to a Prometheus
 * Pushgateway, for batch jobs that end before anyone could scrape them.
 *
 *   vt_pushgateway_opts_t o;
 *   vt_pushgateway_opts_init(&o);
 *   o.url = "http://pushgateway:9091";
 *   o.job = "nightly_backup";
 *   o.grouping = VT_LABELS("instance", "db-1");
 *   vt_pushgateway_t *pg;
 *   if (vt_pushgateway_create(&o, &pg) == 0) {
 *       if (vt_pushgateway_push(pg, reg) != 0)
 *           fprintf(stderr, "push: %s\n", vt_pushgateway_last_error(pg));
 *       vt_pushgateway_destroy(pg);
 *   }
 *
 * A client stands for one group: the job plus its grouping key. It sends the
 * registry in text format 0.0.4 (vt_registry_write) over HTTP or HTTPS with
 * libcurl; the call returns when the server has answered or the timeout
 * passed. A grouping value (or job) that holds "/" or is empty goes in the
 * path base64url-encoded, as "<label>@base64/<value>".
 *
 * Link with -lvitals_push (pkg-config vitals-push, CMake vitals::push).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_PUSHGATEWAY_H
#define VITALS_PUSHGATEWAY_H

#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_pushgateway vt_pushgateway_t;

/* vt_pushgateway_opts_t - the group and how to reach it. Fill with
 * vt_pushgateway_opts_init(). Strings are copied by vt_pushgateway_create. */
typedef struct vt_pushgateway_opts {
    const char *url;             /* "http://host:9091" or "https://..."; required; a path
                                    prefix is kept ("http://h/pg" -> http://h/pg/metrics/...) */
    const char *job;             /* job label value; required, UTF-8 */
    const char *const *grouping; /* NULL-terminated name, value, name, value... or NULL */
    const char *username;        /* HTTP basic auth, or NULL */
    const char *password;        /* used with username */
    const char *ca_file;         /* PEM CA bundle to verify the server, or NULL (system) */
    const char *cert_file;       /* PEM client certificate, or NULL */
    const char *key_file;        /* its PEM key, or NULL */
    int insecure_skip_verify;    /* 1: do not verify the server's certificate */
    long timeout_ms;             /* whole request; default 10000 */
    long connect_timeout_ms;     /* connection setup; default 5000 */
} vt_pushgateway_opts_t;

/* vt_pushgateway_opts_init - zero *opts, timeouts 10 s and 5 s, verification on.
 * Thread-safety: touches only *opts. Since: 0.1.0 */
VT_EXTERN void vt_pushgateway_opts_init(vt_pushgateway_opts_t *opts);

/* vt_pushgateway_create - check the options and prepare the group's URL.
 *
 * No network traffic happens here.
 * Returns: 0; VT_EINVAL (no url or job, an empty job, an odd grouping list,
 * a url that is not http:// or https://); VT_ELABELNAME (a grouping label
 * name that is not [a-zA-Z_][a-zA-Z0-9_]*, or "job"); VT_EDUPLABEL; VT_EUTF8
 * (job or a grouping value not UTF-8); VT_ENOMEM.
 * Thread-safety: safe from any thread.
 * Ownership: copies the options; the caller owns the client.
 * Since: 0.1.0
 */
VT_EXTERN int vt_pushgateway_create(const vt_pushgateway_opts_t *opts,
                                    vt_pushgateway_t **out_client);

/* vt_pushgateway_destroy - free the client. NULL is ignored. Since: 0.1.0 */
VT_EXTERN void vt_pushgateway_destroy(vt_pushgateway_t *client);

/* vt_pushgateway_push - PUT: the group's metrics become exactly the registry's.
 * vt_pushgateway_push_add - POST: metrics of the same names are replaced,
 * the group's others stay.
 * vt_pushgateway_delete - DELETE the whole group.
 *
 * Returns: 0 (HTTP 2xx); VT_EHTTP (the server refused: 4xx/5xx, e.g. 400 for
 * metrics inconsistent with what the Pushgateway holds); VT_EAUTH (401, 403);
 * VT_ETIMEDOUT; VT_ENET (no connection, TLS failure); VT_ENOMEM; VT_EINVAL.
 * On failure vt_pushgateway_last_error() holds the server's message (its
 * response body) or the transport's.
 * Thread-safety: one call at a time per client; different clients may run at
 * once. The registry may be updated meanwhile.
 * Ownership: borrows reg for the call.
 * Since: 0.1.0
 */
VT_EXTERN int vt_pushgateway_push(vt_pushgateway_t *client, vt_registry_t *reg);
VT_EXTERN int vt_pushgateway_push_add(vt_pushgateway_t *client, vt_registry_t *reg);
VT_EXTERN int vt_pushgateway_delete(vt_pushgateway_t *client);

/* vt_pushgateway_last_error - what went wrong in the client's last call ("" after
 * a success): "HTTP 400: <server message>" or the transport's message.
 * vt_pushgateway_last_status - the last HTTP status, 0 when none came.
 * vt_pushgateway_url - the group's URL, as sent.
 *
 * Thread-safety: like the calls above. Ownership: borrowed until the next call
 * on the client. Since: 0.1.0
 */
VT_EXTERN const char *vt_pushgateway_last_error(const vt_pushgateway_t *client);
VT_EXTERN long vt_pushgateway_last_status(const vt_pushgateway_t *client);
VT_EXTERN const char *vt_pushgateway_url(const vt_pushgateway_t *client);

#ifdef __cplusplus
}
#endif
#endif
