/* red_mhd.c - the libmicrohttpd adapter of the RED middleware.
 *
 * The adapter stands between libmicrohttpd and the service: on a request's
 * first handler call it allocates a small state (the RED timer, the service's
 * own con_cls, the status seen so far) and stores it in *con_cls; the service
 * handler gets a pointer to its own slot inside that state. After each call
 * of the service handler the adapter reads the queued status back from
 * libmicrohttpd. The completion callback records the request and frees the
 * state. A state belongs to one request, and libmicrohttpd never runs two
 * callbacks of one request at once, so the state needs no lock; the pointer
 * to the state of the handler running on this thread is thread-local, for
 * vt_http_queue_response().
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

/* The status recorded for a request that ended before any response was
 * queued, for a reason other than the handler failing (nginx's code for a
 * client that closed the request). */
#define STATUS_CLIENT_CLOSED 499

struct vt_red_mhd {
    vt_red_t *red;
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    MHD_RequestCompletedCallback completed;
    void *completed_cls;
    vt_registry_t *metrics_registry; /* NULL: the service answers every path */
    char *metrics_path;
    vt_http_render_opts_t render;
    int pass_ambiguous_framing;
    vt__deadlines_t *guard; /* request deadlines and room; NULL when neither is asked */
    atomic_int guard_live;  /* vt_red_mhd_connection() was called: socket contexts are ours */
};

typedef struct mreq {
    vt_red_req_t red;
    struct MHD_Connection *conn;
    void *user_cls;          /* the service's *con_cls */
    unsigned status;         /* 0 until a response is queued */
    int handler_failed;      /* the handler returned MHD_NO with nothing queued */
    uint64_t request_bytes;  /* header size plus body bytes consumed */
    uint64_t response_bytes; /* VT_RED_NO_SIZE unless told */
    int metrics;             /* a request for metrics_path, answered by the adapter */
    int refused;             /* answered 400 for its framing; the handler never sees it */
} mreq_t;

/* Thread-locals of a shared library: initial-exec avoids a __tls_get_addr
 * call on every access (the few bytes come from the static TLS reserve). */
#if defined(__GNUC__)
#define TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#define TLS_FAST
#endif

/* The request whose service handler runs on this thread. */
static _Thread_local mreq_t *current TLS_FAST;

/* One finished request state kept per thread for the next request (the
 * completion callback runs on the thread that served the request), so a
 * keep-alive connection allocates nothing per request. A thread-specific key,
 * set once per thread, frees the kept state when the thread exits. */
static _Thread_local mreq_t *spare TLS_FAST;
static _Thread_local int spare_hooked TLS_FAST;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static pthread_key_t spare_key;
static int spare_key_ok;

static void spare_free(void *unused) {
    (void)unused;
    free(spare);
    spare = NULL;
}

static void spare_init(void) {
    spare_key_ok = pthread_key_create(&spare_key, spare_free) == 0;
}

static mreq_t *state_get(void) {
    mreq_t *st = spare;
    if (st) {
        spare = NULL;
        memset(st, 0, sizeof(*st));
        return st;
    }
    return calloc(1, sizeof(mreq_t));
}

static void state_put(mreq_t *st) {
    if (!spare) {
        if (!spare_hooked) {
            pthread_once(&spare_once, spare_init);
            spare_hooked = spare_key_ok && pthread_setspecific(spare_key, &spare_hooked) == 0;
        }
        if (spare_hooked) {
            spare = st;
            return;
        }
    }
    free(st);
}

void vt_red_mhd_opts_init(vt_red_mhd_opts_t *opts) {
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->metrics_path = "/metrics";
    vt_http_render_opts_init(&opts->render);
}

int vt_red_mhd_create(vt_red_t *red, const vt_red_mhd_opts_t *opts, vt_red_mhd_t **out_adapter) {
    vt_red_mhd_t *a;
    size_t n;
    if (!red || !opts || !opts->handler || !out_adapter)
        return VT_EINVAL;
    if (opts->metrics_registry) {
        int rc;
        if (!opts->metrics_path || opts->metrics_path[0] != '/')
            return VT_EINVAL;
        if (opts->render.gzip && (opts->render.gzip_level < 1 || opts->render.gzip_level > 9))
            return VT_EINVAL;
        rc = vt_red_route_add(red, opts->metrics_path);
        if (rc != 0 && rc != VT_EDUPLICATE)
            return rc;
    }
    a = calloc(1, sizeof(*a));
    if (!a)
        return VT_ENOMEM;
    a->red = red;
    a->handler = opts->handler;
    a->handler_cls = opts->handler_cls;
    a->completed = opts->completed;
    a->completed_cls = opts->completed_cls;
    a->metrics_registry = opts->metrics_registry;
    a->render = opts->render;
    a->pass_ambiguous_framing = opts->pass_ambiguous_framing;
    if (opts->request_timeout_s || opts->max_connections) {
        int rc = vt__deadlines_start(opts->request_timeout_s, opts->max_connections, &a->guard);
        if (rc != 0) {
            free(a);
            return rc;
        }
    }
    if (opts->metrics_registry) {
        n = strlen(opts->metrics_path) + 1;
        a->metrics_path = malloc(n);
        if (!a->metrics_path) {
            vt__deadlines_stop(a->guard);
            free(a);
            return VT_ENOMEM;
        }
        memcpy(a->metrics_path, opts->metrics_path, n);
    }
    *out_adapter = a;
    return 0;
}

void vt_red_mhd_destroy(vt_red_mhd_t *adapter) {
    if (!adapter)
        return;
    vt__deadlines_stop(adapter->guard);
    free(adapter->metrics_path);
    free(adapter);
}

void vt_red_mhd_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                           enum MHD_ConnectionNotificationCode code) {
    vt_red_mhd_t *a = cls;
    if (!a || !a->guard)
        return;
    atomic_store_explicit(&a->guard_live, 1, memory_order_relaxed);
    vt__deadlines_notify(a->guard, connection, socket_context, code);
}

/* The guard, when the daemon reports connections to it (otherwise the socket
 * contexts are not the adapter's to read). */
static vt__deadlines_t *guard_of(vt_red_mhd_t *a) {
    return atomic_load_explicit(&a->guard_live, memory_order_relaxed) ? a->guard : NULL;
}

static void read_status(mreq_t *st) {
    const union MHD_ConnectionInfo *info;
    if (st->status)
        return;
    info = MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_HTTP_STATUS);
    if (info && info->http_status)
        st->status = info->http_status;
}

static enum MHD_Result answer_metrics(vt_red_mhd_t *a, mreq_t *st, struct MHD_Connection *conn,
                                      const char *method) {
    unsigned status;
    uint64_t bytes;
    enum MHD_Result ret =
        vt__http_answer_metrics(conn, method, a->metrics_registry, &a->render, &status, &bytes);
    st->status = ret == MHD_YES ? status : 0;
    st->handler_failed = ret != MHD_YES;
    st->response_bytes = bytes;
    return ret;
}

enum MHD_Result vt_red_mhd_access(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    vt_red_mhd_t *a = cls;
    mreq_t *st = *con_cls;
    size_t before;
    enum MHD_Result ret;

    if (!st) {
        const union MHD_ConnectionInfo *info;
        st = state_get();
        if (!st)
            return MHD_NO; /* cannot measure it: refuse rather than lose the count */
        st->conn = connection;
        st->response_bytes = VT_RED_NO_SIZE;
        vt__deadlines_answering(guard_of(a), connection); /* headers in: no deadline now */
        if (vt__red_sizes_on(a->red)) {
            info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
            st->request_bytes = info ? info->header_size : 0;
        }
        vt_red_begin(a->red, method, url, &st->red);
        /* A traced request's duration carries its trace id as an exemplar; a
         * malformed header is ignored (the request is measured without one). */
        (void)vt_red_set_traceparent(
            &st->red, MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "traceparent"));
        *con_cls = st;
        if (!a->pass_ambiguous_framing) {
            const char *bad = vt__http_framing_error(connection, vt__http_get_or_head(method));
            if (bad) {
                enum MHD_Result r = vt__http_answer_text(connection, MHD_HTTP_BAD_REQUEST, bad,
                                                         MHD_HTTP_HEADER_CONNECTION, "close");
                st->refused = 1;
                st->status = r == MHD_YES ? MHD_HTTP_BAD_REQUEST : 0;
                st->handler_failed = r != MHD_YES;
                return r;
            }
        }
        if (a->metrics_registry && url && strcmp(url, a->metrics_path) == 0) {
            st->metrics = 1;
            /* GET and HEAD are answered once the request is read, keeping the
             * connection alive (libmicrohttpd closes it after an answer
             * queued in the first call); other methods get 405 at once. */
            if (vt__http_get_or_head(method))
                return MHD_YES;
            return answer_metrics(a, st, connection, method);
        }
    } else if (st->refused) {
        if (upload_data_size)
            *upload_data_size = 0;
        return MHD_YES;
    } else if (st->metrics) {
        if (upload_data_size && *upload_data_size) {
            *upload_data_size = 0; /* a GET with a body: skipped */
            return MHD_YES;
        }
        if (!st->status && !st->handler_failed)
            return answer_metrics(a, st, connection, method);
        return MHD_YES;
    }

    before = upload_data_size ? *upload_data_size : 0;
    current = st;
    ret = a->handler(a->handler_cls, connection, url, method, version, upload_data,
                     upload_data_size, &st->user_cls);
    current = NULL;
    if (upload_data_size && before >= *upload_data_size)
        st->request_bytes += before - *upload_data_size;
    read_status(st);
    if (ret != MHD_YES && !st->status)
        st->handler_failed = 1;
    return ret;
}

void vt_red_mhd_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                          enum MHD_RequestTerminationCode toe) {
    vt_red_mhd_t *a = cls;
    mreq_t *st = *con_cls;
    int status;
    if (!st) {
        /* Nothing of ours: the handler was never called for it. */
        if (a->completed)
            a->completed(a->completed_cls, connection, con_cls, toe);
        return;
    }
    if (a->completed)
        a->completed(a->completed_cls, connection, &st->user_cls, toe);
    vt__deadlines_rearm(guard_of(a), connection);
    if (st->status)
        status = (int)st->status;
    else if (st->handler_failed || toe == MHD_REQUEST_TERMINATED_WITH_ERROR)
        status = 500;
    else
        status = STATUS_CLIENT_CLOSED;
    vt_red_end(a->red, &st->red, status, st->request_bytes, st->response_bytes);
    state_put(st);
    *con_cls = NULL;
}

enum MHD_Result vt_http_queue_response(struct MHD_Connection *connection, unsigned int status,
                                       struct MHD_Response *response, uint64_t body_bytes) {
    enum MHD_Result ret = MHD_queue_response(connection, status, response);
    mreq_t *st = current;
    if (ret == MHD_YES && st && st->conn == connection) {
        st->status = status;
        st->response_bytes = body_bytes;
    }
    return ret;
}
