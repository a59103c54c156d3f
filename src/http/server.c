/* server.c - the embedded /metrics server on a libmicrohttpd daemon.
 *
 * Threading: a pool of `threads` libmicrohttpd threads, each accepting and
 * poll()ing its share of the connections, so an open connection costs no
 * thread and max_connections can be in the hundreds; plus the sweeper of
 * deadline.c when request_timeout_s is set. libmicrohttpd may hold a few more
 * connections than max_connections (ROOM): deadline.c closes the connection
 * that has waited longest for its request whenever one opens past the limit. poll(), not epoll:
 * libmicrohttpd 0.9.75's epoll mode keeps a connection that sent half a request and closed until
 * the idle timeout. A scrape is rendered on the pool thread that read it, which holds that thread's
 * other connections for the few milliseconds it takes. The server's fields are written only before
 * the daemon starts and after it stops, except in_flight (an atomic counter of scrapes being
 * rendered) and the self-metric series, which are safe from any thread. No
 * per-request state is needed beyond a marker in *con_cls (see on_request for
 * when a request is answered).
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "http_internal.h"

#define TLS_FILE_MAX (1024 * 1024)

struct vt_http_server {
    struct MHD_Daemon *daemon;
    vt_registry_t *reg;
    char *metrics_path;
    char *health_path; /* NULL when disabled */
    char *realm;
    unsigned max_in_flight; /* 0: no limit */
    char retry_after[16];   /* decimal seconds */
    vt_http_render_opts_t render;
    int auth_on;
    vt__auth_t auth;
    char *tls_cert, *tls_key, *tls_key_password; /* file contents, kept while serving */
    size_t tls_key_len;
    atomic_uint in_flight;
    /* self metrics; all NULL when off */
    vt_registry_t *self_reg;
    vt_counter_t *requests;
    vt_gauge_t *in_flight_fam;
    vt_gauge_series_t *in_flight_gauge;
    vt_counter_series_t *code_200, *code_500, *code_503;
    uint16_t port;
    vt_http_log_fn log_fn;
    void *log_user_data;
    vt__deadlines_t *deadlines; /* connection tracking (deadline.c) */
};

void vt_http_server_opts_init(vt_http_server_opts_t *opts) {
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->address = "127.0.0.1";
    opts->port = 0;
    opts->metrics_path = "/metrics";
    opts->health_path = "/-/healthy";
    opts->max_connections = 256;
    opts->max_connections_per_ip = 0;
    opts->threads = 2;
    opts->connection_timeout_s = 10;
    opts->request_timeout_s = 10;
    opts->max_in_flight = 4;
    opts->retry_after_s = 1;
    vt_http_render_opts_init(&opts->render);
    opts->auth_realm = "metrics";
    opts->self_metrics = 1;
}

static char *dup_str(const char *s) {
    size_t n;
    char *p;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* Read a whole file, NUL-terminated. Returns 0, VT_EIO, VT_ELIMIT or VT_ENOMEM. */
static int read_file(const char *path, char **out, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t len = 0, cap = 8192;
    if (!f)
        return VT_EIO;
    buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return VT_ENOMEM;
    }
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (cap - len - 1 == 0) {
            char *nb;
            if (cap >= TLS_FILE_MAX) {
                free(buf);
                fclose(f);
                return VT_ELIMIT;
            }
            nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return VT_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return VT_EIO;
    }
    fclose(f);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

/* Free a secret after overwriting it. */
static void free_secret(char *p, size_t n) {
    if (!p)
        return;
    {
        volatile char *v = p;
        size_t i;
        for (i = 0; i < n; i++)
            v[i] = 0;
    }
    free(p);
}

/* Check that the certificate chain and the key parse and that the key is the
 * first certificate's, so a bad pair is VT_EPARSE and not an anonymous listen
 * failure. (Parsed piece by piece: GnuTLS 3.7's all-in-one loader leaks on
 * some malformed input.) */
static int tls_pair_loads(vt_http_server_t *s, size_t cert_len) {
    gnutls_x509_crt_t *crts = NULL;
    gnutls_x509_privkey_t pk = NULL;
    gnutls_datum_t cert, key;
    unsigned char id1[64], id2[64];
    size_t n1 = sizeof(id1), n2 = sizeof(id2);
    unsigned n = 0, i;
    int rc = VT_EPARSE;

    cert.data = (unsigned char *)s->tls_cert;
    cert.size = (unsigned)cert_len;
    key.data = (unsigned char *)s->tls_key;
    key.size = (unsigned)s->tls_key_len;
    if (gnutls_x509_crt_list_import2(&crts, &n, &cert, GNUTLS_X509_FMT_PEM, 0) < 0)
        return VT_EPARSE;
    if (n > 0 && gnutls_x509_privkey_init(&pk) == 0 &&
        gnutls_x509_privkey_import2(pk, &key, GNUTLS_X509_FMT_PEM, s->tls_key_password, 0) == 0 &&
        gnutls_x509_crt_get_key_id(crts[0], 0, id1, &n1) == 0 &&
        gnutls_x509_privkey_get_key_id(pk, 0, id2, &n2) == 0 && n1 == n2 &&
        memcmp(id1, id2, n1) == 0)
        rc = 0;
    if (pk)
        gnutls_x509_privkey_deinit(pk);
    for (i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    return rc;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    vt_http_server_t *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* libmicrohttpd ends its messages with a newline; the callback gets lines. */
    {
        size_t n = strlen(msg);
        if (n > 0 && msg[n - 1] == '\n')
            msg[n - 1] = '\0';
    }
    s->log_fn(s->log_user_data, msg);
}

static void drop_self_metrics(vt_http_server_t *s) {
    if (s->requests) {
        vt_registry_unregister(s->self_reg, vt_counter_family(s->requests));
        vt_family_destroy(vt_counter_family(s->requests));
        s->requests = NULL;
    }
    if (s->in_flight_fam) {
        vt_registry_unregister(s->self_reg, vt_gauge_family(s->in_flight_fam));
        vt_family_destroy(vt_gauge_family(s->in_flight_fam));
        s->in_flight_fam = NULL;
    }
}

static int make_self_metrics(vt_http_server_t *s) {
    int rc;
    rc = vt_counter_create(s->self_reg, "promhttp_metric_handler_requests_total",
                           "Total number of scrapes by HTTP status code.", VT_LABELS("code"),
                           &s->requests);
    if (rc == 0)
        rc = vt_gauge_create(s->self_reg, "promhttp_metric_handler_requests_in_flight",
                             "Current number of scrapes being served.", NULL, &s->in_flight_fam);
    if (rc == 0)
        rc = vt_gauge_with(s->in_flight_fam, NULL, &s->in_flight_gauge);
    if (rc == 0)
        rc = vt_counter_with(s->requests, VT_VALUES("200"), &s->code_200);
    if (rc == 0)
        rc = vt_counter_with(s->requests, VT_VALUES("500"), &s->code_500);
    if (rc == 0)
        rc = vt_counter_with(s->requests, VT_VALUES("503"), &s->code_503);
    if (rc != 0)
        drop_self_metrics(s);
    return rc;
}

static void count_code(vt_http_server_t *s, unsigned status) {
    vt_counter_series_t *c = NULL;
    char code[16];
    if (!s->requests)
        return;
    switch (status) {
    case 200:
        c = s->code_200;
        break;
    case 500:
        c = s->code_500;
        break;
    case 503:
        c = s->code_503;
        break;
    default:
        snprintf(code, sizeof(code), "%u", status);
        if (vt_counter_with(s->requests, VT_VALUES(code), &c) != 0)
            c = NULL;
    }
    if (c)
        vt_counter_inc(c);
}

/* Answer the metrics path once authenticated. */
static enum MHD_Result serve_metrics(vt_http_server_t *s, struct MHD_Connection *conn,
                                     const char *method) {
    enum MHD_Result ret;
    unsigned status, before;
    uint64_t bytes;
    if (!vt__http_get_or_head(method)) {
        count_code(s, MHD_HTTP_METHOD_NOT_ALLOWED);
        return vt__http_answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
                                    MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    before = atomic_fetch_add_explicit(&s->in_flight, 1, memory_order_relaxed);
    if (s->max_in_flight && before >= s->max_in_flight) {
        atomic_fetch_sub_explicit(&s->in_flight, 1, memory_order_relaxed);
        count_code(s, MHD_HTTP_SERVICE_UNAVAILABLE);
        return vt__http_answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                    "too many scrapes in flight\n", MHD_HTTP_HEADER_RETRY_AFTER,
                                    s->retry_after);
    }
    if (s->in_flight_gauge)
        vt_gauge_inc(s->in_flight_gauge);
    ret = vt__http_answer_metrics(conn, method, s->reg, &s->render, &status, &bytes);
    if (s->in_flight_gauge)
        vt_gauge_dec(s->in_flight_gauge);
    atomic_fetch_sub_explicit(&s->in_flight, 1, memory_order_relaxed);
    count_code(s, status);
    return ret;
}

static int authorized(vt_http_server_t *s, struct MHD_Connection *conn) {
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &pass);
    int ok = vt__auth_verify(&s->auth, user, pass) == 0;
    if (pass) {
        volatile char *v = pass;
        while (*v)
            *v++ = 0;
        MHD_free(pass);
    }
    if (user)
        MHD_free(user);
    return ok;
}

/* Queue the answer to a request (after its body, if any). */
static enum MHD_Result respond(vt_http_server_t *s, struct MHD_Connection *conn, const char *url,
                               const char *method) {
    int is_metrics = strcmp(url, s->metrics_path) == 0;
    vt__deadlines_answering(s->deadlines, conn);
    if (s->auth_on && !authorized(s, conn)) {
        struct MHD_Response *r;
        enum MHD_Result ret;
        static const char text[] = "unauthorized\n";
        if (is_metrics)
            count_code(s, MHD_HTTP_UNAUTHORIZED);
        r = MHD_create_response_from_buffer(sizeof(text) - 1, (void *)(uintptr_t)text,
                                            MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        ret = MHD_queue_basic_auth_fail_response(conn, s->realm, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (is_metrics)
        return serve_metrics(s, conn, method);
    if (s->health_path && strcmp(url, s->health_path) == 0) {
        if (!vt__http_get_or_head(method))
            return vt__http_answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
                                        MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        return vt__http_answer_text(conn, MHD_HTTP_OK, "OK\n", NULL, NULL);
    }
    return vt__http_answer_text(conn, MHD_HTTP_NOT_FOUND, "not found\n", NULL, NULL);
}

/* libmicrohttpd 0.9.75 accepts a response during the first handler call
 * (headers read; it then closes the connection after the answer) or once the
 * whole request is read (the connection stays open). So GET and HEAD are
 * answered at the end of the request, keeping connections alive for
 * Prometheus; any other method, which gets an error and may carry a body we
 * will not read, is answered at once. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    static int seen; /* marks a request whose first call has passed */
    vt_http_server_t *s = cls;
    (void)version;
    (void)upload_data;
    if (!*con_cls) {
        const char *bad = vt__http_framing_error(conn, vt__http_get_or_head(method));
        if (bad) {
            if (strcmp(url, s->metrics_path) == 0)
                count_code(s, MHD_HTTP_BAD_REQUEST);
            vt__deadlines_answering(s->deadlines, conn);
            return vt__http_answer_text(conn, MHD_HTTP_BAD_REQUEST, bad, MHD_HTTP_HEADER_CONNECTION,
                                        "close");
        }
        if (!vt__http_get_or_head(method))
            return respond(s, conn, url, method);
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* a GET with a body: skipped */
        return MHD_YES;
    }
    return respond(s, conn, url, method);
}

/* A response went out (or the request ended): the connection's next request
 * has request_timeout_s from now. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    vt_http_server_t *s = cls;
    (void)con_cls;
    (void)toe;
    vt__deadlines_rearm(s->deadlines, conn);
}

static void free_server(vt_http_server_t *s) {
    if (!s)
        return;
    drop_self_metrics(s);
    vt__deadlines_stop(s->deadlines);
    free(s->metrics_path);
    free(s->health_path);
    free(s->realm);
    free(s->tls_cert);
    free_secret(s->tls_key, s->tls_key_len);
    if (s->tls_key_password)
        free_secret(s->tls_key_password, strlen(s->tls_key_password));
    memset(&s->auth, 0, sizeof(s->auth));
    free(s);
}

/* How many connections libmicrohttpd may hold past max_connections while
 * deadline.c closes stale ones to make room: an eighth more, and at least
 * four per pool thread (libmicrohttpd splits its limit evenly between
 * them). */
static unsigned room(unsigned max_conn, unsigned threads) {
    unsigned r = max_conn / 8;
    return r > 4 * threads ? r : 4 * threads;
}

static int path_ok(const char *p) {
    return p && p[0] == '/';
}

/* Copy the options that outlive the start call; validate them. */
static int configure(vt_http_server_t *s, const vt_http_server_opts_t *o) {
    int rc;
    if (!path_ok(o->metrics_path) || (o->health_path && !path_ok(o->health_path)))
        return VT_EINVAL;
    if ((o->tls_cert_file != NULL) != (o->tls_key_file != NULL))
        return VT_EINVAL;
    if ((o->auth_user != NULL) != (o->auth_password_hash != NULL))
        return VT_EINVAL;
    if (o->render.gzip && (o->render.gzip_level < 1 || o->render.gzip_level > 9))
        return VT_EINVAL;
    s->metrics_path = dup_str(o->metrics_path);
    s->health_path = dup_str(o->health_path);
    s->realm = dup_str(o->auth_realm ? o->auth_realm : "metrics");
    if (!s->metrics_path || (o->health_path && !s->health_path) || !s->realm)
        return VT_ENOMEM;
    if (strchr(s->realm, '"'))
        return VT_EINVAL;
    s->max_in_flight = o->max_in_flight;
    snprintf(s->retry_after, sizeof(s->retry_after), "%u", o->retry_after_s);
    s->render = o->render;
    s->log_fn = o->log_fn;
    s->log_user_data = o->log_user_data;
    if (o->auth_user) {
        rc = vt__auth_init(&s->auth, o->auth_user, o->auth_password_hash);
        if (rc != 0)
            return rc;
        s->auth_on = 1;
    }
    if (o->tls_cert_file) {
        size_t cert_len;
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
            return VT_EUNSUPPORTED;
        rc = read_file(o->tls_cert_file, &s->tls_cert, &cert_len);
        if (rc == 0)
            rc = read_file(o->tls_key_file, &s->tls_key, &s->tls_key_len);
        if (rc == 0 && o->tls_key_password) {
            s->tls_key_password = dup_str(o->tls_key_password);
            if (!s->tls_key_password)
                rc = VT_ENOMEM;
        }
        if (rc == 0)
            rc = tls_pair_loads(s, cert_len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Parse the listen address into *ss. Returns 0 or VT_EINVAL. */
static int parse_address(const char *addr, uint16_t port, struct sockaddr_storage *ss,
                         int *out_v6) {
    memset(ss, 0, sizeof(*ss));
    if (!addr)
        return VT_EINVAL;
    {
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
            in4->sin_family = AF_INET;
            in4->sin_port = htons(port);
            *out_v6 = 0;
            return 0;
        }
    }
    {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(port);
            *out_v6 = 1;
            return 0;
        }
    }
    return VT_EINVAL;
}

int vt_http_server_start(vt_registry_t *reg, const vt_http_server_opts_t *opts,
                         vt_http_server_t **out_server) {
    vt_http_server_opts_t defaults;
    struct sockaddr_storage ss;
    struct MHD_OptionItem items[16];
    const union MHD_DaemonInfo *info;
    vt_http_server_t *s;
    unsigned flags, max_conn, threads;
    size_t n = 0;
    int v6 = 0, rc;

    if (!out_server)
        return VT_EINVAL;
    if (!opts) {
        vt_http_server_opts_init(&defaults);
        opts = &defaults;
    }
    if (parse_address(opts->address, opts->port, &ss, &v6) != 0)
        return VT_EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return VT_ENOMEM;
    atomic_init(&s->in_flight, 0);
    s->reg = reg ? reg : vt_registry_default();
    rc = configure(s, opts);
    if (rc == 0 && opts->self_metrics) {
        s->self_reg = opts->self_registry ? opts->self_registry : s->reg;
        rc = make_self_metrics(s);
    }
    if (rc != 0) {
        free_server(s);
        return rc;
    }

    max_conn = opts->max_connections ? opts->max_connections : 1;
    threads = opts->threads ? opts->threads : 1;
    rc = vt__deadlines_start(opts->request_timeout_s, max_conn, &s->deadlines);
    if (rc != 0) {
        free_server(s);
        return rc;
    }

    flags = MHD_USE_POLL_INTERNAL_THREAD;
    if (v6)
        flags |= MHD_USE_IPv6;
    if (s->tls_cert)
        flags |= MHD_USE_TLS;
    if (s->log_fn) {
        flags |= MHD_USE_ERROR_LOG;
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, s};
    }
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                         (intptr_t)(max_conn + room(max_conn, threads)), NULL};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                         (intptr_t)opts->connection_timeout_s, NULL};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL};
    if (opts->max_connections_per_ip)
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                             (intptr_t)opts->max_connections_per_ip, NULL};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
                                         (intptr_t)vt__deadlines_notify, s->deadlines};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
    if (s->tls_cert) {
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
        if (s->tls_key_password)
            items[n++] =
                (struct MHD_OptionItem){MHD_OPTION_HTTPS_KEY_PASSWORD, 0, s->tls_key_password};
    }
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    s->daemon = MHD_start_daemon(flags, opts->port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY,
                                 items, MHD_OPTION_END);
    if (!s->daemon) {
        free_server(s);
        return VT_ENET;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : opts->port;
    *out_server = s;
    return 0;
}

uint16_t vt_http_server_port(const vt_http_server_t *server) {
    return server ? server->port : 0;
}

void vt_http_server_stop(vt_http_server_t *server) {
    if (!server)
        return;
    if (server->daemon)
        MHD_stop_daemon(server->daemon);
    free_server(server);
}
