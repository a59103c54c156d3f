/* pushgateway.c - the Pushgateway client: PUT, POST and DELETE of one group
 * with libcurl.
 *
 * A client owns one curl easy handle (reused, so a keep-alive connection
 * carries the next push) and the last error text; it is used by one thread at
 * a time. The body is the registry in text 0.0.4, rendered into memory first
 * so that a slow server never holds the registry's locks. libcurl's global
 * init runs once per process, guarded by pthread_once.
 *
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"
#include "vitals/pushgateway.h"

/* Bytes of a response body kept for the error message. */
#define BODY_MAX 4096

struct vt_pushgateway {
    CURL *curl;
    char *url;
    char *username, *password, *ca_file, *cert_file, *key_file;
    int insecure;
    long timeout_ms, connect_timeout_ms;
    long status;
    char body[BODY_MAX + 1]; /* the last response, truncated */
    size_t body_len;
    char error[BODY_MAX + 64];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void vt_pushgateway_opts_init(vt_pushgateway_opts_t *o) {
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->timeout_ms = 10000;
    o->connect_timeout_ms = 5000;
}

static int dup_opt(const char *s, char **out) {
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : VT_ENOMEM;
}

void vt_pushgateway_destroy(vt_pushgateway_t *pg) {
    if (!pg)
        return;
    if (pg->curl)
        curl_easy_cleanup(pg->curl);
    free(pg->url);
    free(pg->username);
    if (pg->password) {
        /* Do not leave the password in freed memory. */
        volatile char *p = pg->password;
        while (*p)
            *p++ = '\0';
    }
    free(pg->password);
    free(pg->ca_file);
    free(pg->cert_file);
    free(pg->key_file);
    free(pg);
}

int vt_pushgateway_create(const vt_pushgateway_opts_t *o, vt_pushgateway_t **out) {
    if (!o || !out || o->timeout_ms < 0 || o->connect_timeout_ms < 0)
        return VT_EINVAL;
    char *url = NULL;
    int rc = vt__pushgateway_url(o->url, o->job, o->grouping, &url);
    if (rc)
        return rc;
    pthread_once(&curl_once, curl_init);
    vt_pushgateway_t *pg = calloc(1, sizeof *pg);
    if (!pg) {
        free(url);
        return VT_ENOMEM;
    }
    pg->url = url;
    pg->insecure = o->insecure_skip_verify;
    pg->timeout_ms = o->timeout_ms;
    pg->connect_timeout_ms = o->connect_timeout_ms;
    if (curl_init_rc != CURLE_OK || !(pg->curl = curl_easy_init()))
        rc = VT_ENOMEM;
    if (!rc)
        rc = dup_opt(o->username, &pg->username);
    if (!rc)
        rc = dup_opt(o->password ? o->password : (o->username ? "" : NULL), &pg->password);
    if (!rc)
        rc = dup_opt(o->ca_file, &pg->ca_file);
    if (!rc)
        rc = dup_opt(o->cert_file, &pg->cert_file);
    if (!rc)
        rc = dup_opt(o->key_file, &pg->key_file);
    if (rc) {
        vt_pushgateway_destroy(pg);
        return rc;
    }
    *out = pg;
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
    vt_pushgateway_t *pg = ud;
    size_t n = size * nmemb, room = BODY_MAX - pg->body_len;
    memcpy(pg->body + pg->body_len, data, n < room ? n : room);
    pg->body_len += n < room ? n : room;
    pg->body[pg->body_len] = '\0';
    return n;
}

static int fail(vt_pushgateway_t *pg, int code, const char *msg) {
    snprintf(pg->error, sizeof pg->error, "%s", msg);
    return code;
}

/* One request; body may be NULL (DELETE). */
static int request(vt_pushgateway_t *pg, const char *method, const char *body, size_t len) {
    CURL *h = pg->curl;
    char curl_err[CURL_ERROR_SIZE] = "";
    pg->status = 0;
    pg->body_len = 0;
    pg->body[0] = '\0';
    pg->error[0] = '\0';
    curl_easy_reset(h);
    struct curl_slist *headers = NULL;
    if (body) {
        headers = curl_slist_append(NULL, "Content-Type: " VT_CONTENT_TYPE_TEXT);
        if (!headers)
            return fail(pg, VT_ENOMEM, "out of memory");
        /* No "Expect: 100-continue" round trip for large bodies. */
        struct curl_slist *more = curl_slist_append(headers, "Expect:");
        if (!more) {
            curl_slist_free_all(headers);
            return fail(pg, VT_ENOMEM, "out of memory");
        }
        headers = more;
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_URL, pg->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, pg->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, pg->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, pg);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vitals/" VT_VERSION_STRING);
#ifdef CURLOPT_PROTOCOLS_STR
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    if (pg->username) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, pg->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, pg->password);
    }
    if (pg->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, pg->ca_file);
    if (pg->cert_file)
        curl_easy_setopt(h, CURLOPT_SSLCERT, pg->cert_file);
    if (pg->key_file)
        curl_easy_setopt(h, CURLOPT_SSLKEY, pg->key_file);
    if (pg->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    if (cc != CURLE_OK) {
        const char *msg = curl_err[0] ? curl_err : curl_easy_strerror(cc);
        int code = VT_ENET;
        if (cc == CURLE_OPERATION_TIMEDOUT)
            code = VT_ETIMEDOUT;
        else if (cc == CURLE_OUT_OF_MEMORY)
            code = VT_ENOMEM;
        return fail(pg, code, msg);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &pg->status);
    if (pg->status >= 200 && pg->status < 300)
        return 0;
    /* The server's message, without its trailing newline. */
    while (pg->body_len > 0 &&
           (pg->body[pg->body_len - 1] == '\n' || pg->body[pg->body_len - 1] == '\r'))
        pg->body[--pg->body_len] = '\0';
    snprintf(pg->error, sizeof pg->error, "HTTP %ld: %s", pg->status,
             pg->body_len ? pg->body : "(no message)");
    return pg->status == 401 || pg->status == 403 ? VT_EAUTH : VT_EHTTP;
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
    return pg ? pg->status : 0;
}

const char *vt_pushgateway_url(const vt_pushgateway_t *pg) {
    return pg ? pg->url : "";
}
