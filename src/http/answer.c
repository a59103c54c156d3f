/* answer.c - libmicrohttpd answers shared by the embedded server and the
 * adapter: short text answers and the metrics answer (405, or a rendered
 * scrape with its Content-Type, Content-Encoding and Vary headers).
 *
 * Every function builds and releases its own response object, so they are
 * safe from any libmicrohttpd thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "http_internal.h"

int vt__http_get_or_head(const char *method) {
    return method &&
           (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
}

enum MHD_Result vt__http_answer_text(struct MHD_Connection *conn, unsigned status, const char *text,
                                     const char *name, const char *value) {
    struct MHD_Response *r;
    enum MHD_Result ret;
    r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                        MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8") !=
            MHD_YES ||
        (name && MHD_add_response_header(r, name, value) != MHD_YES)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result vt__http_answer_metrics(struct MHD_Connection *conn, const char *method,
                                        vt_registry_t *reg, const vt_http_render_opts_t *ropts,
                                        unsigned *out_status, uint64_t *out_bytes) {
    const char *accept, *accept_encoding;
    struct MHD_Response *r;
    vt_http_body_t body;
    enum MHD_Result ret;
    int rc;

    *out_bytes = 0;
    if (!vt__http_get_or_head(method)) {
        *out_status = MHD_HTTP_METHOD_NOT_ALLOWED;
        return vt__http_answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
                                    MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    accept_encoding =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    rc = vt_http_render(reg, accept, accept_encoding, ropts, &body);
    if (rc != 0) {
        *out_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        return vt__http_answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                    "error: the metrics could not be rendered\n", NULL, NULL);
    }
    /* From here the response owns body.data and free()s it. */
    r = MHD_create_response_from_buffer(body.len, body.data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        vt_http_body_free(&body);
        *out_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        return MHD_NO;
    }
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, body.content_type) != MHD_YES ||
        (ropts->gzip && MHD_add_response_header(r, MHD_HTTP_HEADER_VARY,
                                                MHD_HTTP_HEADER_ACCEPT_ENCODING) != MHD_YES) ||
        (body.content_encoding && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
                                                          body.content_encoding) != MHD_YES)) {
        MHD_destroy_response(r);
        *out_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        return MHD_NO;
    }
    *out_status = MHD_HTTP_OK;
    *out_bytes = body.len;
    ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
