/* vitals/http.h - libvitals-http: the embedded /metrics server, render-to-buffer
 * for other HTTP servers, and RED middleware (a framework-agnostic core plus a
 * libmicrohttpd adapter).
 *
 * Threading: the embedded server runs libmicrohttpd with a pool of `threads`
 * threads that poll() their connections (MHD_USE_POLL_INTERNAL_THREAD), plus
 * one thread that enforces request_timeout_s: an open connection costs no
 * thread. Every call on a
 * vt_red_t and the adapter callbacks are safe from any thread. Option structs
 * and vt_http_body_t values belong to the caller.
 *
 * Link with -lvitals_http (pkg-config vitals-http, CMake vitals::http).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_HTTP_H
#define VITALS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "vitals/expose.h"
#include "vitals/metrics.h"
#include "vitals/registry.h"
#include "vitals/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== rendering a scrape into memory ===================================== */

/* vt_http_render_opts_t - how a scrape body is made.
 *
 * Fill with vt_http_render_opts_init() and set what you need.
 */
typedef struct vt_http_render_opts {
    int gzip;       /* gzip the body when Accept-Encoding allows it; default 1 */
    int gzip_level; /* zlib level 1 (fastest) to 9 (smallest); default 1 */
    int created;    /* OpenMetrics only: also write _created samples; default 0 */
} vt_http_render_opts_t;

/* A rendered scrape: what to send as the body and the two headers that go
 * with it. Zero-initialize it or let vt_http_render() fill it. */
typedef struct vt_http_body {
    char *data;                   /* the body (gzipped or not), then a NUL not counted in len;
                                     NULL when len is 0 */
    size_t len;                   /* bytes in data */
    const char *content_type;     /* exact Content-Type value; static string */
    const char *content_encoding; /* "gzip", or NULL for an uncompressed body; static */
    vt_format_t format;           /* the format chosen from Accept; VT_FORMAT_PROTOBUF (2,
                                     vitals/proto.h) for delimited protobuf */
} vt_http_body_t;

/* vt_http_render_opts_init - defaults: gzip allowed at level 1, no _created.
 *
 * Thread-safety: touches only *opts.
 * Since: 0.1.0
 */
VT_EXTERN void vt_http_render_opts_init(vt_http_render_opts_t *opts);

/* vt_http_accepts_gzip - whether an Accept-Encoding header value accepts gzip:
 * "gzip" or "x-gzip" with a q-value above 0, or "*" with q above 0 when gzip
 * is not listed. NULL, empty and malformed values give 0.
 *
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN int vt_http_accepts_gzip(const char *accept_encoding);

/* vt_http_render - write the registry as a scrape answer for a client that
 * sent these Accept and Accept-Encoding headers.
 *
 * For users with their own HTTP server:
 *
 *   vt_http_body_t b;
 *   if (vt_http_render(reg, accept, accept_encoding, NULL, &b) == 0) {
 *       send_header("Content-Type", b.content_type);
 *       if (b.content_encoding)
 *           send_header("Content-Encoding", b.content_encoding);
 *       send_header("Vary", "Accept-Encoding");
 *       send_body(b.data, b.len);
 *       vt_http_body_free(&b);
 *   }
 *
 * The format is delimited protobuf (VT_CONTENT_TYPE_PROTOBUF) when this
 * library was built with libvitals-proto and vt_proto_preferred() says the
 * Accept header prefers it, else the text format vt_format_from_accept()
 * picks. The body is gzipped (gzip wrapper, RFC 1952) when opts allow it and
 * vt_http_accepts_gzip() says so.
 * Parameters: reg (NULL means vt_registry_default()); accept and
 * accept_encoding may be NULL (no such header); opts may be NULL (defaults);
 * out_body receives the result.
 * Returns: 0; VT_ENOMEM; VT_EINVAL (out_body NULL, gzip_level outside 1..9);
 * VT_EIO (zlib failed). On error *out_body is zeroed.
 * Thread-safety: safe from any thread, concurrently with everything else.
 * Ownership: out_body->data belongs to the caller; free it with
 * vt_http_body_free().
 * Since: 0.1.0
 */
VT_EXTERN int vt_http_render(vt_registry_t *reg, const char *accept, const char *accept_encoding,
                             const vt_http_render_opts_t *opts, vt_http_body_t *out_body);

/* vt_http_body_free - free the body's memory and zero it. NULL is ignored.
 *
 * Thread-safety: touches only *body.
 * Ownership: takes body->data.
 * Since: 0.1.0
 */
VT_EXTERN void vt_http_body_free(vt_http_body_t *body);

/* ==== basic-auth password hashes ========================================= */

/* Bytes needed for a hash string, NUL included. */
#define VT_HTTP_HASH_BUFSZ 144
/* Longest salt accepted, in bytes. */
#define VT_HTTP_SALT_MAX 64

/* vt_http_hash_password - the hash string that the server's auth_password_hash
 * option takes: "sha256$<salt>$<hex of SHA-256(salt || password)>".
 *
 * A shell can make the same string without this library:
 *
 *   salt=$(head -c 12 /dev/urandom | base64 | tr -d '+/=')
 *   printf 'sha256$%s$%s\n' "$salt" \
 *       "$(printf '%s%s' "$salt" "$password" | sha256sum | cut -d' ' -f1)"
 *
 * SHA-256 is fast, so the hash protects a long random password (a token), not
 * a word a person would pick.
 * Parameters: salt is 1 to VT_HTTP_SALT_MAX bytes of [A-Za-z0-9._-], or NULL
 * to draw 16 random characters; password is any NUL-terminated string;
 * out_hash receives the NUL-terminated hash and must hold VT_HTTP_HASH_BUFSZ
 * bytes.
 * Returns: 0; VT_EINVAL (bad salt, NULL password or out_hash); VT_EIO (the
 * random source or the hash function failed).
 * Thread-safety: safe from any thread.
 * Ownership: copies nothing; out_hash is the caller's.
 * Since: 0.1.0
 */
VT_EXTERN int vt_http_hash_password(const char *salt, const char *password, char *out_hash);

/* vt_http_auth_check - whether given_user and given_password match user and
 * a hash made by vt_http_hash_password().
 *
 * The user names and the password digests are compared in constant time, and
 * both comparisons always run, so a wrong user and a wrong password take the
 * same time.
 * Returns: 0 on a match; VT_EAUTH on a mismatch or a NULL given_user /
 * given_password; VT_EINVAL when user or hash is NULL or hash is malformed.
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN int vt_http_auth_check(const char *user, const char *hash, const char *given_user,
                                 const char *given_password);

/* ==== the embedded /metrics server ======================================= */

typedef struct vt_http_server vt_http_server_t;

/* Receives the server's own diagnostics (libmicrohttpd's error log). */
typedef void (*vt_http_log_fn)(void *user_data, const char *message);

/* vt_http_server_opts_t - everything the server is started with.
 *
 * Fill with vt_http_server_opts_init() and set what you need. Strings are
 * read during vt_http_server_start(); the caller keeps them.
 */
typedef struct vt_http_server_opts {
    const char *address;             /* IPv4 or IPv6 literal to listen on; default "127.0.0.1" */
    uint16_t port;                   /* TCP port; 0 (default) picks a free one */
    const char *metrics_path;        /* default "/metrics" */
    const char *health_path;         /* answers 200 "OK"; default "/-/healthy"; NULL disables */
    unsigned max_connections;        /* connections kept, all addresses (past it the longest-waiting
                                        for a request is closed); default 256 */
    unsigned max_connections_per_ip; /* from one client address; 0 (default): no such limit */
    unsigned threads;                /* threads polling the connections; default 2 */
    unsigned connection_timeout_s;   /* an idle connection is closed after this; default 10 */
    unsigned request_timeout_s;      /* a request must arrive whole within this of the connection
                                        opening or the previous response; default 10; 0: none */
    unsigned max_in_flight; /* scrapes rendered at once, 503 past it; default 4; 0: no limit */
    unsigned retry_after_s; /* Retry-After value sent with that 503; default 1 */
    vt_http_render_opts_t render;   /* gzip and format details */
    const char *tls_cert_file;      /* PEM certificate (chain); NULL (default): plain HTTP */
    const char *tls_key_file;       /* PEM private key; required with tls_cert_file */
    const char *tls_key_password;   /* for an encrypted key; default NULL */
    const char *auth_user;          /* basic auth user; NULL (default): no auth */
    const char *auth_password_hash; /* from vt_http_hash_password(); required with auth_user */
    const char *auth_realm;         /* default "metrics" */
    int self_metrics;               /* register promhttp_metric_handler_* metrics; default 1 */
    vt_registry_t *self_registry;   /* where they go; NULL (default): the served registry */
    vt_http_log_fn log_fn;          /* NULL (default): nothing is logged */
    void *log_user_data;
} vt_http_server_opts_t;

/* vt_http_server_opts_init - zero *opts and set the defaults listed above.
 *
 * Thread-safety: touches only *opts.
 * Since: 0.1.0
 */
VT_EXTERN void vt_http_server_opts_init(vt_http_server_opts_t *opts);

/* vt_http_server_start - serve a registry over HTTP until
 * vt_http_server_stop().
 *
 * Answers:
 *   GET or HEAD metrics_path: 200, the scrape in the format Accept asks for,
 *     gzipped when Accept-Encoding allows it, with Vary: Accept-Encoding;
 *     503 with Retry-After when max_in_flight scrapes are already running.
 *   GET or HEAD health_path: 200 "OK".
 *   another method on those paths: 405 with Allow: GET, HEAD.
 *   any other path: 404.
 *   with basic auth on, any request without the right user and password: 401
 *     with WWW-Authenticate: Basic realm="<auth_realm>".
 * With self_metrics on, promhttp_metric_handler_requests_total{code} counts
 * the answers on metrics_path and promhttp_metric_handler_requests_in_flight
 * gauges the scrapes being rendered, as client_golang's promhttp does.
 *   a request with an ambiguous length (both Content-Length and
 *     Transfer-Encoding, either of them twice, an invalid length, a coding
 *     other than chunked, a GET or HEAD with Transfer-Encoding, a header
 *     name with a blank before the colon): 400, and the connection closes.
 * A connection past max_connections_per_ip from its address is closed at
 * once. When a connection opens past max_connections, the open connection
 * that has waited longest for a request (never one being answered) is closed
 * to make room, so idle or stalled connections cannot lock scrapers out;
 * libmicrohttpd holds at most an eighth more (at least 4 per thread) while
 * that happens. A connection whose request has not arrived whole
 * request_timeout_s after it opened (or after its previous response) is
 * closed then, however slowly it keeps sending.
 *
 * Parameters: reg (NULL means vt_registry_default()); opts may be NULL
 * (defaults); out_server receives the server.
 * Returns: 0; VT_EINVAL (bad address, a path not starting with "/", a
 * certificate without key or user without hash, a malformed hash);
 * VT_EIO (a TLS file cannot be read); VT_EPARSE (the certificate and key do
 * not load); VT_EUNSUPPORTED (TLS asked for, libmicrohttpd built without it);
 * VT_EDUPLICATE (self metrics already registered there: use another
 * self_registry or turn them off); VT_ENET (cannot listen, e.g. port in use);
 * VT_ENOMEM.
 * Thread-safety: safe from any thread.
 * Ownership: copies opts; borrows reg (and self_registry) until stop. The
 * caller owns the server and frees it with vt_http_server_stop().
 * Since: 0.1.0
 */
VT_EXTERN int vt_http_server_start(vt_registry_t *reg, const vt_http_server_opts_t *opts,
                                   vt_http_server_t **out_server);

/* vt_http_server_port - the TCP port the server listens on (the one picked
 * when opts->port was 0).
 *
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN uint16_t vt_http_server_port(const vt_http_server_t *server);

/* vt_http_server_stop - stop listening, finish or close every connection,
 * join the threads, unregister the self metrics and free the server. NULL is
 * ignored.
 *
 * Thread-safety: not from one of the server's own threads; no other thread may
 * use the server during or after the call.
 * Ownership: takes the server.
 * Since: 0.1.0
 */
VT_EXTERN void vt_http_server_stop(vt_http_server_t *server);

/* ==== RED middleware: the framework-agnostic core ======================== */

typedef struct vt_red vt_red_t;

/* Size value meaning "not known": the size histogram skips that request. */
#define VT_RED_NO_SIZE UINT64_MAX

/* Route label value of a request whose path matches no registered template. */
#define VT_RED_UNMATCHED "unmatched"

/* vt_red_opts_t - metric names, label names and buckets of the middleware.
 *
 * Fill with vt_red_opts_init() and set what you need. The defaults follow the
 * Prometheus naming guidance (base units, _total on counters).
 */
typedef struct vt_red_opts {
    const char *requests_name;      /* counter; default "http_requests_total" */
    const char *duration_name;      /* histogram; default "http_request_duration_seconds" */
    const char *in_flight_name;     /* gauge; default "http_requests_in_flight"; NULL: none */
    const char *request_size_name;  /* histogram; default "http_request_size_bytes" */
    const char *response_size_name; /* histogram; default "http_response_size_bytes" */
    const char *method_label;       /* default "method" */
    const char *route_label;        /* default "route" */
    const char *code_label;         /* default "code" */
    const char *unmatched_route;    /* route value for unmatched paths; default VT_RED_UNMATCHED */
    const double *duration_buckets; /* NULL (default): .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 */
    size_t duration_bucket_count;
    const double *size_buckets; /* NULL (default): 64 * 4^k bytes, k = 0..9 */
    size_t size_bucket_count;
    int sizes;                       /* also record the two size histograms; default 0 */
    const char *const *const_labels; /* NULL-terminated name, value pairs on every metric */
    size_t max_series;               /* per family; 0 (default): VT_DEFAULT_MAX_SERIES */
} vt_red_opts_t;

/* A request between vt_red_begin() and vt_red_end(): a value the caller keeps,
 * on its stack or in its request object. The fields are the library's. */
typedef struct vt_red_req {
    vt_timer_t timer;
    void *route_;       /* the matched route */
    unsigned method_;   /* index of the normalized method */
    unsigned started_;  /* 1 once vt_red_begin() counted it in flight */
    char trace_id_[33]; /* from traceparent: 32 hex digits, or "" */
    char span_id_[17];  /* the caller's span: 16 hex digits */
} vt_red_req_t;

/* vt_red_opts_init - zero *opts and set the defaults listed above.
 *
 * Thread-safety: touches only *opts.
 * Since: 0.1.0
 */
VT_EXTERN void vt_red_opts_init(vt_red_opts_t *opts);

/* vt_red_create - create the RED metrics in a registry:
 *   http_requests_total{method,route,code}             counter
 *   http_request_duration_seconds{method,route,code}   histogram
 *   http_requests_in_flight                            gauge
 *   http_request_size_bytes{method,route,code}         histogram (opts->sizes)
 *   http_response_size_bytes{method,route,code}        histogram (opts->sizes)
 *
 * Labels: method is GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE or PATCH
 * as sent (case matters), anything else "other"; route is the registered
 * template the path matches (vt_red_route_add), else opts->unmatched_route,
 * never the raw path; code is the three-digit status. Every 5xx is an error:
 * the error ratio is
 *   sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))
 *
 * Parameters: reg (NULL means vt_registry_default()); opts may be NULL
 * (defaults); out_red receives the middleware.
 * Returns: 0; any error of the core's create calls (VT_ENAME,
 * VT_ELABELNAME, VT_EDUPLICATE, VT_EBUCKETS, ...), in which case nothing
 * stays registered; VT_ENOMEM; VT_EINVAL.
 * Thread-safety: safe from any thread.
 * Ownership: copies opts; borrows reg until vt_red_destroy(). The caller owns
 * the middleware.
 * Since: 0.1.0
 */
VT_EXTERN int vt_red_create(vt_registry_t *reg, const vt_red_opts_t *opts, vt_red_t **out_red);

/* vt_red_destroy - unregister and destroy the metrics, free the routes. NULL
 * is ignored.
 *
 * Thread-safety: no other thread may use the middleware (or a daemon wired to
 * an adapter of it) during or after the call.
 * Ownership: takes the middleware.
 * Since: 0.1.0
 */
VT_EXTERN void vt_red_destroy(vt_red_t *red);

/* vt_red_route_add - register a route template.
 *
 * A template is "/" followed by segments separated by "/":
 *   literal   matches the same bytes             "/reservations"
 *   :name     matches one non-empty segment       "/reservations/:user_id"
 *   * or *name matches the rest of the path, even  "/static/" then "*"
 *             empty; only as the last segment
 * A template may end in "/" (then only paths with that trailing slash match);
 * empty segments elsewhere are refused. Matching compares raw bytes (no
 * percent-decoding), prefers a literal over :name over * at each segment,
 * ignores a query string ("?...") and a fragment ("#..."), and never matches a
 * path that has a "." or ".." segment or does not start with "/". The template
 * text itself is the route label value, and passing a template as a path
 * records it under itself (a last segment spelled "*..." tries the wildcard
 * before :name for that reason).
 * Parameters: pattern of printable ASCII (0x21..0x7e), at most 1024 bytes.
 * Returns: 0; VT_EINVAL (malformed template); VT_EDUPLICATE (a template that
 * matches the same paths is registered, e.g. "/a/:x" after "/a/:y");
 * VT_ELIMIT (more than 4096 routes); VT_ENOMEM.
 * Thread-safety: safe from any thread, also while requests are measured;
 * cheapest when all routes are added before traffic starts.
 * Ownership: copies pattern.
 * Since: 0.1.0
 */
VT_EXTERN int vt_red_route_add(vt_red_t *red, const char *pattern);

/* vt_red_route_match - the route label value a path is recorded under: the
 * matching template, or the unmatched value.
 *
 * Parameters: path of len bytes (may hold any bytes, NUL included).
 * Returns: a string borrowed from the middleware, valid until
 * vt_red_destroy(); the unmatched value for a NULL path.
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN const char *vt_red_route_match(vt_red_t *red, const char *path, size_t len);

/* vt_red_begin - a request starts: match its route, count it in flight and
 * start its timer.
 *
 * Parameters: method and path as received (path may carry a query string;
 * NULL is treated as unmatched / "other"); out_req receives the state to hand
 * to vt_red_end().
 * Thread-safety: safe from any thread; the hot path: no lock, no allocation.
 * Since: 0.1.0
 */
VT_EXTERN void vt_red_begin(vt_red_t *red, const char *method, const char *path,
                            vt_red_req_t *out_req);

/* vt_red_end - the request is answered: count it under (method, route,
 * status), observe its duration and sizes, and take it out of flight.
 *
 * Parameters: req from vt_red_begin(), ended once; status is the HTTP status
 * sent; a status outside 100..599 (such as 0 or -1 for a handler that failed
 * before choosing one) records 500; request_bytes and response_bytes may be
 * VT_RED_NO_SIZE.
 * Thread-safety: safe from any thread (not necessarily the one that began it).
 * Allocates only the first time a (method, route, status) is seen; if that
 * allocation fails the request is not counted.
 * Since: 0.1.0
 */
VT_EXTERN void vt_red_end(vt_red_t *red, const vt_red_req_t *req, int status,
                          uint64_t request_bytes, uint64_t response_bytes);

/* vt_red_set_traceparent - take the trace of a request from its W3C
 * `traceparent` header ("00-<32 hex trace id>-<16 hex parent id>-<2 hex
 * flags>"), so that vt_red_end() attaches an exemplar {trace_id, span_id} to
 * the duration observation: a slow request in Grafana then links to its
 * trace. Call it between vt_red_begin() and vt_red_end(); the adapter does it
 * for every request that carries the header.
 * Parameters: req from vt_red_begin(); traceparent, the header value (NULL
 * clears the trace).
 * Returns: 0; VT_EINVAL for a malformed header, an all-zero trace or parent id,
 * or version ff (the request is then measured without exemplar).
 * Thread-safety: touches only *req.
 * Since: 0.1.0
 */
VT_EXTERN int vt_red_set_traceparent(vt_red_req_t *req, const char *traceparent);

/* vt_red_observe - record a finished request in one call, when the caller
 * timed it: the same as vt_red_begin() then vt_red_end() with the given
 * duration in seconds, without touching the in-flight gauge.
 *
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN void vt_red_observe(vt_red_t *red, const char *method, const char *path, int status,
                              double seconds, uint64_t request_bytes, uint64_t response_bytes);

/* ==== RED middleware: the libmicrohttpd adapter ========================== */

typedef struct vt_red_mhd vt_red_mhd_t;

/* vt_red_mhd_opts_t - what the adapter wraps.
 *
 * Fill with vt_red_mhd_opts_init() and set what you need.
 */
typedef struct vt_red_mhd_opts {
    MHD_AccessHandlerCallback handler;      /* the service's handler; required */
    void *handler_cls;                      /* its closure */
    MHD_RequestCompletedCallback completed; /* the service's completion hook; may be NULL */
    void *completed_cls;
    vt_registry_t *metrics_registry; /* also serve this registry; NULL (default): no */
    const char *metrics_path;        /* where; default "/metrics" */
    vt_http_render_opts_t render;    /* gzip and format details of that answer */
    int pass_ambiguous_framing;      /* 1: hand requests with an ambiguous length to the
                                        handler as libmicrohttpd reads them; default 0: 400 */
    /* With vt_red_mhd_connection() given to the daemon (else unused): */
    unsigned request_timeout_s; /* close a connection whose request headers have not arrived
                                   this long after it opened or after its previous response;
                                   default 0: no deadline */
    unsigned max_connections;   /* past this many connections, close the one that has waited
                                   longest for a request; set it below the daemon's
                                   MHD_OPTION_CONNECTION_LIMIT; default 0: never */
} vt_red_mhd_opts_t;

/* vt_red_mhd_opts_init - zero *opts and set the defaults listed above.
 *
 * Thread-safety: touches only *opts.
 * Since: 0.1.0
 */
VT_EXTERN void vt_red_mhd_opts_init(vt_red_mhd_opts_t *opts);

/* vt_red_mhd_create - an adapter that measures every request of a
 * libmicrohttpd daemon with no code in the handlers. Start the daemon with the
 * adapter's two callbacks in place of the service's:
 *
 *   vt_red_mhd_t *a;
 *   vt_red_mhd_create(red, &opts, &a);   // opts.handler = my_handler ...
 *   d = MHD_start_daemon(flags, port, NULL, NULL, vt_red_mhd_access, a,
 *                        MHD_OPTION_NOTIFY_COMPLETED, vt_red_mhd_completed, a,
 *                        MHD_OPTION_END);
 *
 * The handler sees its own *con_cls (NULL on the first call) as usual; the
 * adapter keeps its state beside it. The status is read back after each call
 * of the handler (MHD_get_connection_info(MHD_CONNECTION_INFO_HTTP_STATUS)),
 * so handlers keep calling MHD_queue_response(). When a request ends:
 *   a response was queued             -> its status, even if the client then
 *                                        went away before the end of the body;
 *   none, and the handler returned
 *   MHD_NO or the daemon reported an
 *   internal error                    -> 500;
 *   none, and the client closed, the
 *   connection timed out or the
 *   daemon shut down first            -> 499 (the client-closed-request code).
 * Request size is the header size plus the body bytes the handler consumed;
 * response size is known only through vt_http_queue_response().
 * Requests that libmicrohttpd rejects before calling any handler (a malformed
 * request line, headers past its memory limit) are not measured.
 * A request whose length is ambiguous (both Content-Length and
 * Transfer-Encoding, either twice, an invalid length, a last coding other
 * than chunked, Transfer-Encoding on GET or HEAD, a blank before a header
 * name's colon) never reaches the handler: the adapter answers 400 and the
 * connection closes, so that a proxy in front that reads the other length
 * cannot slip a second request past it (libmicrohttpd 0.9.75 would read one
 * of the lengths and keep the connection open). It is measured with status
 * 400. opts->pass_ambiguous_framing turns this off.
 * With opts->metrics_registry set, the adapter answers metrics_path itself
 * (like the embedded server: negotiation, gzip, HEAD, 405) and measures it
 * under the route metrics_path, which it registers.
 * Do not set MHD_OPTION_URI_LOG_CALLBACK on that daemon: its return value
 * would take the adapter's place in *con_cls.
 * Keep-alive: libmicrohttpd 0.9.75 closes a connection after a response
 * queued in the handler's first call (headers only); queue it once the request
 * is read (a later call with *upload_data_size == 0) to keep the connection
 * open, as the adapter does for metrics_path.
 * Returns: 0; VT_EINVAL (no handler, bad metrics_path); VT_ENOMEM.
 * Thread-safety: safe from any thread; works with every libmicrohttpd
 * threading mode.
 * Ownership: copies opts; borrows red, the closures and metrics_registry until
 * vt_red_mhd_destroy(). The caller owns the adapter.
 * Since: 0.1.0
 */
VT_EXTERN int vt_red_mhd_create(vt_red_t *red, const vt_red_mhd_opts_t *opts,
                                vt_red_mhd_t **out_adapter);

/* vt_red_mhd_destroy - free the adapter; call it after MHD_stop_daemon().
 * NULL is ignored.
 *
 * Thread-safety: no daemon may still use the adapter.
 * Ownership: takes the adapter.
 * Since: 0.1.0
 */
VT_EXTERN void vt_red_mhd_destroy(vt_red_mhd_t *adapter);

/* vt_red_mhd_access - the MHD_AccessHandlerCallback to start the daemon with;
 * cls is the adapter. Calls the service's handler.
 * Thread-safety: called by libmicrohttpd from any of its threads.
 * Since: 0.1.0
 */
VT_EXTERN enum MHD_Result vt_red_mhd_access(void *cls, struct MHD_Connection *connection,
                                            const char *url, const char *method,
                                            const char *version, const char *upload_data,
                                            size_t *upload_data_size, void **con_cls);

/* vt_red_mhd_completed - the MHD_OPTION_NOTIFY_COMPLETED callback to start the
 * daemon with; cls is the adapter. Calls the service's completion hook, then
 * records the request.
 * Thread-safety: called by libmicrohttpd from any of its threads.
 * Since: 0.1.0
 */
VT_EXTERN void vt_red_mhd_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                                    enum MHD_RequestTerminationCode toe);

/* vt_red_mhd_connection - the MHD_OPTION_NOTIFY_CONNECTION callback that
 * gives the daemon the embedded server's defences; cls is the adapter.
 *
 *   d = MHD_start_daemon(..., vt_red_mhd_access, a,
 *                        MHD_OPTION_NOTIFY_COMPLETED, vt_red_mhd_completed, a,
 *                        MHD_OPTION_NOTIFY_CONNECTION, vt_red_mhd_connection, a,
 *                        MHD_OPTION_CONNECTION_LIMIT, 256, ...);   // opts: 224
 *
 * With opts->request_timeout_s, a connection whose request headers have not
 * arrived in time is shut down, however slowly it keeps sending (slowloris);
 * with opts->max_connections, a connection opening past it shuts down the
 * one that has waited longest for a request (never one being answered), so
 * a flood of idle connections cannot keep clients out while the daemon's
 * own limit still has room. A thread of the adapter's does the timing. The
 * daemon's socket context belongs to the adapter then.
 * Thread-safety: called by libmicrohttpd from any of its threads.
 * Since: 0.1.0
 */
VT_EXTERN void vt_red_mhd_connection(void *cls, struct MHD_Connection *connection,
                                     void **socket_context,
                                     enum MHD_ConnectionNotificationCode code);

/* vt_http_queue_response - MHD_queue_response() that also tells the adapter
 * the response body size (for http_response_size_bytes). Optional: the status
 * is captured without it.
 *
 * Parameters: as MHD_queue_response(), plus body_bytes (VT_RED_NO_SIZE when
 * unknown). Outside a handler called by the adapter it only queues.
 * Returns: what MHD_queue_response() returns.
 * Thread-safety: from the handler, as MHD_queue_response().
 * Ownership: as MHD_queue_response() (the caller still destroys response).
 * Since: 0.1.0
 */
VT_EXTERN enum MHD_Result vt_http_queue_response(struct MHD_Connection *connection,
                                                 unsigned int status, struct MHD_Response *response,
                                                 uint64_t body_bytes);

#ifdef __cplusplus
}
#endif
#endif
