/* http_internal.h - declarations shared by the files of libvitals-http.
 *
 * Nothing here is installed. Every function is safe from any thread unless
 * its comment says otherwise.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_HTTP_INTERNAL_H
#define VITALS_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/http.h"

/* ---- auth.c ------------------------------------------------------------- */

#define VT__SHA256_LEN 32

/* A parsed credential: everything a check needs, so a request hashes only
 * what the client sent. */
typedef struct vt__auth {
    uint8_t user_digest[VT__SHA256_LEN]; /* SHA-256 of the expected user name */
    char salt[VT_HTTP_SALT_MAX + 1];
    size_t salt_len;
    uint8_t pass_digest[VT__SHA256_LEN]; /* SHA-256(salt || password) */
} vt__auth_t;

/* Parse user and a "sha256$salt$hex" hash. Returns 0, VT_EINVAL or VT_EIO. */
int vt__auth_init(vt__auth_t *a, const char *user, const char *hash);

/* 0 when the pair matches, VT_EAUTH otherwise; constant time in the contents. */
int vt__auth_verify(const vt__auth_t *a, const char *given_user, const char *given_password);

/* ---- answer.c: libmicrohttpd answers shared by the server and the adapter - */

/* Whether method is exactly "GET" or "HEAD". */
int vt__http_get_or_head(const char *method);

/* Queue a short text/plain answer, with one extra header when name is not
 * NULL. Returns what MHD_queue_response() returns. */
enum MHD_Result vt__http_answer_text(struct MHD_Connection *conn, unsigned status, const char *text,
                                     const char *name, const char *value);

/* Queue the answer to a request for the metrics path: 405 for methods other
 * than GET and HEAD, else the rendered registry (500 when rendering fails).
 * *out_status and *out_bytes receive the status and body size queued. */
enum MHD_Result vt__http_answer_metrics(struct MHD_Connection *conn, const char *method,
                                        vt_registry_t *reg, const vt_http_render_opts_t *ropts,
                                        unsigned *out_status, uint64_t *out_bytes);

/* ---- framing.c: requests with an ambiguous length ------------------------ */

/* On a request's first handler call: NULL when its framing is sound, else the
 * text of a 400 answer (conflicting or repeated Content-Length and
 * Transfer-Encoding, an invalid length, a coding other than chunked last, a
 * field name with a blank). bodyless: the method takes no body (GET, HEAD),
 * so any Transfer-Encoding is refused too. */
const char *vt__http_framing_error(struct MHD_Connection *conn, int bodyless);

/* ---- deadline.c: request deadlines, and room when the server is full ------ */

typedef struct vt__deadlines vt__deadlines_t;

/* Track connections: with timeout_s, a sweeper thread closes those whose
 * request is late; with limit, a connection opening past it closes the one
 * that has waited longest for its request. Returns 0 or VT_ENOMEM. */
int vt__deadlines_start(unsigned timeout_s, size_t limit, vt__deadlines_t **out);

/* Stop the sweeper and free everything; after MHD_stop_daemon(). */
void vt__deadlines_stop(vt__deadlines_t *d);

/* The MHD_OPTION_NOTIFY_CONNECTION callback (cls: the deadlines). */
void vt__deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);

/* The request on conn is being answered: no deadline until it completes. */
void vt__deadlines_answering(vt__deadlines_t *d, struct MHD_Connection *conn);

/* A response on conn completed: the next request has until the timeout. */
void vt__deadlines_rearm(vt__deadlines_t *d, struct MHD_Connection *conn);

/* ---- red.c --------------------------------------------------------------- */

/* Whether the middleware records the size histograms. */
int vt__red_sizes_on(const vt_red_t *red);

/* ---- routes.c: a trie of route templates -------------------------------- */

typedef struct vt__rtrie vt__rtrie_t;

/* Check a template's syntax. Returns 0 or VT_EINVAL. */
int vt__route_check(const char *pattern);

/* An empty trie. Returns 0, VT_EINVAL or VT_ENOMEM. */
int vt__rtrie_create(vt__rtrie_t **out_trie);

/* Add a template (copied) whose matches yield item. One writer at a time;
 * readers may match meanwhile. Returns 0, VT_EINVAL, VT_EDUPLICATE (a
 * template of the same shape is there: nothing changes) or VT_ENOMEM. */
int vt__rtrie_insert(vt__rtrie_t *t, const char *pattern, void *item);

/* The item of the template that path (len bytes) matches, or NULL. Safe from
 * any thread, also during an insert. */
void *vt__rtrie_match(const vt__rtrie_t *t, const char *path, size_t len);

void vt__rtrie_free(vt__rtrie_t *t);

#endif
