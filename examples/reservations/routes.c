/* routes.c - the HTTP handlers of the reservations service.
 *
 *   GET  /                        200 "I am running"
 *   GET  /up                      200 "I am running"
 *   GET  /reservations/:user_id   400 for an id over 5 characters; 500 with
 *                                 probability error_rate; else 200 and the
 *                                 user's reservations as JSON, from Redis or,
 *                                 on a miss or a Redis failure, from the
 *                                 simulated database (then stored in Redis)
 *   POST /checkout                100-500 ms of work; 500 "payment gateway
 *                                 timeout" with probability checkout_error_rate
 *   GET  /database                one slow simulated query (0.5-1.5 s)
 *   GET  /error                   always 500
 *   another method on those       405 with Allow
 *   anything else                 404
 * (/metrics is answered by the RED adapter before this handler is called.)
 * HEAD is answered as GET without the body. Delays are scaled by the latency
 * scale. Errors are JSON objects {"error": "..."}.
 *
 * Every request is answered once its body has been read (a later handler
 * call with *upload_data_size == 0), which keeps libmicrohttpd 0.9.75
 * connections alive; a body is read and dropped.
 *
 * Threading: handlers run on libmicrohttpd's threads, concurrently; each
 * request's state is on its thread's stack.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vitals/http.h>

#include "service.h"

const char *const res_routes[] = {
    "/", "/up", "/reservations/:user_id", "/checkout", "/database", "/error", NULL,
};

#define KEY_PREFIX "userReservations:"
/* Bytes of a user id long enough to be refused; 5 code points take at most
 * 20 bytes, so longer ids are refused without decoding them. */
#define USER_ID_MAX_BYTES (4 * RES_USER_ID_MAX_CHARS)
#define BODY_MAX 1024

static const char running[] = "I am running\n";

/* Marks a request whose headers have been seen (*con_cls). */
static int headers_seen;

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             const char *body, size_t len) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    ret = vt_http_queue_response(conn, status, r, len);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, const char *body,
                                  size_t len) {
    return reply(conn, status, "application/json", body, len);
}

/* {"error": "<message>"} with a static message that needs no escaping. */
static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status,
                                   const char *message) {
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"error\": \"%s\"}", message);
    return reply_json(conn, status, body, (size_t)n);
}

static enum MHD_Result not_allowed(struct MHD_Connection *conn, const char *allow) {
    char body[128];
    int n = snprintf(body, sizeof(body), "{\"error\": \"method not allowed; use %s\"}", allow);
    struct MHD_Response *r =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    ret = vt_http_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r, (uint64_t)n);
    MHD_destroy_response(r);
    return ret;
}

static int is_get(const char *method) {
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static enum MHD_Result reservations(const res_app_t *app, struct MHD_Connection *conn,
                                    const char *id) {
    size_t id_len = strlen(id);
    long chars = id_len > USER_ID_MAX_BYTES ? -2 : res_utf8_chars(id, id_len);
    char key[sizeof(KEY_PREFIX) + USER_ID_MAX_BYTES];
    char body[BODY_MAX];
    char *cached = NULL;
    size_t len = 0, key_len;
    res_cache_result_t found;

    if (chars == -2 || chars > RES_USER_ID_MAX_CHARS)
        return reply_error(conn, MHD_HTTP_BAD_REQUEST, "user_id is longer than 5 characters");
    if (chars < 0)
        return reply_error(conn, MHD_HTTP_BAD_REQUEST, "user_id is not printable UTF-8");
    if (res_rand_chance(app->cfg->error_rate))
        return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal server error");

    key_len = (size_t)snprintf(key, sizeof(key), KEY_PREFIX "%s", id);
    found = res_cache_get(app->cache, key, key_len, &cached, &len);
    if (found == RES_CACHE_HIT) {
        enum MHD_Result ret = reply_json(conn, MHD_HTTP_OK, cached, len);
        free(cached);
        return ret;
    }
    len = res_db_find_reservations(app->db, id, id_len, body, sizeof(body));
    if (len == 0)
        return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "result too large");
    /* After a Redis failure the write would fail too: skip it. */
    if (found == RES_CACHE_MISS)
        res_cache_set(app->cache, key, key_len, body, len);
    return reply_json(conn, MHD_HTTP_OK, body, len);
}

static enum MHD_Result checkout(const res_app_t *app, struct MHD_Connection *conn) {
    static const char ok[] = "{\"status\": \"success\", \"message\": \"checkout complete\"}";
    res_sleep((0.1 + 0.4 * res_rand_unit()) * app->cfg->latency_scale);
    if (res_rand_chance(app->cfg->checkout_error_rate))
        return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "payment gateway timeout");
    return reply_json(conn, MHD_HTTP_OK, ok, sizeof(ok) - 1);
}

static enum MHD_Result database(const res_app_t *app, struct MHD_Connection *conn) {
    char body[128];
    double s = res_db_slow_query(app->db);
    int n = snprintf(body, sizeof(body),
                     "{\"message\": \"completed expensive database operation\", "
                     "\"seconds\": %.3f}",
                     s);
    return reply_json(conn, MHD_HTTP_OK, body, (size_t)n);
}

/* Answer a request whose body (if any) has been read. */
static enum MHD_Result route(const res_app_t *app, struct MHD_Connection *conn, const char *url,
                             const char *method) {
    if (strcmp(url, "/") == 0 || strcmp(url, "/up") == 0) {
        if (!is_get(method))
            return not_allowed(conn, "GET, HEAD");
        return reply(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", running, sizeof(running) - 1);
    }
    /* "." and ".." are not ids: the route template never matches them either. */
    if (strncmp(url, "/reservations/", 14) == 0 && url[14] != '\0' && !strchr(url + 14, '/') &&
        strcmp(url + 14, ".") != 0 && strcmp(url + 14, "..") != 0) {
        if (!is_get(method))
            return not_allowed(conn, "GET, HEAD");
        return reservations(app, conn, url + 14);
    }
    if (strcmp(url, "/checkout") == 0) {
        if (strcmp(method, "POST") != 0)
            return not_allowed(conn, "POST");
        return checkout(app, conn);
    }
    if (strcmp(url, "/database") == 0) {
        if (!is_get(method))
            return not_allowed(conn, "GET, HEAD");
        return database(app, conn);
    }
    if (strcmp(url, "/error") == 0) {
        if (!is_get(method))
            return not_allowed(conn, "GET, HEAD");
        return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "this endpoint always fails");
    }
    return reply_error(conn, MHD_HTTP_NOT_FOUND, "not found");
}

enum MHD_Result res_handle(void *cls, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **con_cls) {
    (void)version;
    (void)upload_data;
    if (!*con_cls) {
        *con_cls = &headers_seen;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return route(cls, conn, url, method);
}
