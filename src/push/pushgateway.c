/* pushgateway.c - the Pushgateway client: PUT, POST and DELETE of one group
 * with libcurl.
 *
 * A client owns one curl easy handle (curl_request.c; reused, so a
 * keep-alive connection carries the next push) and the last error text; it is
 * used by one thread at a time. The body is the registry in text 0.0.4,
 * rendered into memory first so that a slow server never holds the registry's
 * locks.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"
#include "vitals/pushgateway.h"

/* Bytes of a response body kept for the error message. */
#define BODY_MAX 4096

struct vt_pushgateway {
    vt__curl_t http;
    char error[BODY_MAX + 64];
};

void vt_pushgateway_opts_init(vt_pushgateway_opts_t *o) {
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->timeout_ms = 10000;
    o->connect_timeout_ms = 5000;
}

void vt_pushgateway_destroy(vt_pushgateway_t *pg) {
    if (!pg)
        return;
    vt__curl_close(&pg->http);
    free(pg);
}

int vt_pushgateway_create(const vt_pushgateway_opts_t *o, vt_pushgateway_t **out) {
    if (!o || !out || o->timeout_ms < 0 || o->connect_timeout_ms < 0)
        return VT_EINVAL;
    char *url = NULL;
    int rc = vt__pushgateway_url(o->url, o->job, o->grouping, &url);
    if (rc)
        return rc;
    vt_pushgateway_t *pg = calloc(1, sizeof *pg);
    if (!pg) {
        free(url);
        return VT_ENOMEM;
    }
    vt__curl_conf_t hc = {.url = url,
                          .username = o->username,
                          .password = o->password,
                          .ca_file = o->ca_file,
                          .cert_file = o->cert_file,
                          .key_file = o->key_file,
                          .insecure = o->insecure_skip_verify,
                          .timeout_ms = o->timeout_ms,
                          .connect_timeout_ms = o->connect_timeout_ms,
                          .reply_max = BODY_MAX};
    rc = vt__curl_open(&pg->http, &hc);
    free(url);
    if (rc) {
        free(pg);
        return rc;
    }
    *out = pg;
    return 0;
}

static int fail(vt_pushgateway_t *pg, int code, const char *msg) {
    snprintf(pg->error, sizeof pg->error, "%s", msg);
    return code;
}

/* One request; body may be NULL (DELETE). */
static int request(vt_pushgateway_t *pg, const char *method, const char *body, size_t len) {
    /* No "Expect: 100-continue" round trip for large bodies. */
    static const char *const headers[] = {"Content-Type: " VT_CONTENT_TYPE_TEXT, "Expect:"};
    pg->error[0] = '\0';
    return vt__curl_request(&pg->http, method, headers, body ? 2 : 0, body, len, pg->error,
                            sizeof pg->error);
}

static int send_registry(vt_pushgateway_t *pg, vt_registry_t *reg, const char *method) {
    if (!pg)
        return VT_EINVAL;
    if (!reg)
        return fail(pg, VT_EINVAL, "no registry");
    vt_buf_t buf = {0};
    int rc = vt_registry_write_buf(reg, NULL, &buf);
    if (rc) {
        vt_buf_free(&buf);
        return fail(pg, rc, vt_strerror(rc));
    }
    rc = request(pg, method, buf.data ? buf.data : "", buf.len);
    vt_buf_free(&buf);
    return rc;
}

int vt_pushgateway_push(vt_pushgateway_t *pg, vt_registry_t *reg) {
    return send_registry(pg, reg, "PUT");
}

int vt_pushgateway_push_add(vt_pushgateway_t *pg, vt_registry_t *reg) {
    return send_registry(pg, reg, "POST");
}

int vt_pushgateway_delete(vt_pushgateway_t *pg) {
    return pg ? request(pg, "DELETE", NULL, 0) : VT_EINVAL;
}

const char *vt_pushgateway_last_error(const vt_pushgateway_t *pg) {
    return pg ? pg->error : "";
}

long vt_pushgateway_last_status(const vt_pushgateway_t *pg) {
    return pg ? pg->http.status : 0;
}

const char *vt_pushgateway_url(const vt_pushgateway_t *pg) {
    return pg ? pg->http.url : "";
}
