/* curl_request.c - the HTTP side of the Pushgateway client and of remote
 * write: one reused libcurl easy handle, its settings, and one request with
 * the answer turned into a VT_E* code and a message.
 *
 * A vt__curl_t is used by one thread at a time; libcurl's global init runs
 * once per process, guarded by pthread_once. Every request starts from a
 * reset handle, so nothing of one request leaks into the next but the
 * connection, which keep-alive reuses. The strings are copies; the password
 * is wiped before it is freed.
 *
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int dup_opt(const char *s, char **out) {
    *out = s ? strdup(s) : NULL;
    return s && !*out ? VT_ENOMEM : 0;
}

void vt__curl_close(vt__curl_t *h) {
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h->url);
    free(h->username);
    if (h->password) {
        /* Do not leave the password in freed memory. */
        volatile char *p = h->password;
        while (*p)
            *p++ = '\0';
    }
    free(h->password);
    free(h->ca_file);
    free(h->cert_file);
    free(h->key_file);
    free(h->reply);
    memset(h, 0, sizeof *h);
}

int vt__curl_open(vt__curl_t *h, const vt__curl_conf_t *conf) {
    memset(h, 0, sizeof *h);
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return VT_ENOMEM;
    h->insecure = conf->insecure;
    h->timeout_ms = conf->timeout_ms;
    h->connect_timeout_ms = conf->connect_timeout_ms;
    h->reply_max = conf->reply_max;
    h->curl = curl_easy_init();
    h->reply = calloc(1, conf->reply_max + 1);
    int rc = !h->curl || !h->reply ? VT_ENOMEM : 0;
    if (!rc)
        rc = dup_opt(conf->url, &h->url);
    if (!rc)
        rc = dup_opt(conf->username, &h->username);
    /* With a user name, a missing password is the empty one. */
    if (!rc)
        rc = dup_opt(conf->password ? conf->password : (conf->username ? "" : NULL), &h->password);
    if (!rc)
        rc = dup_opt(conf->ca_file, &h->ca_file);
    if (!rc)
        rc = dup_opt(conf->cert_file, &h->cert_file);
    if (!rc)
        rc = dup_opt(conf->key_file, &h->key_file);
    if (rc)
        vt__curl_close(h);
    return rc;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
    vt__curl_t *h = ud;
    size_t n = size * nmemb, room = h->reply_max - h->reply_len;
    memcpy(h->reply + h->reply_len, data, n < room ? n : room);
    h->reply_len += n < room ? n : room;
    h->reply[h->reply_len] = '\0';
    return n;
}

static int fail(char *err, size_t errlen, int code, const char *msg) {
    snprintf(err, errlen, "%s", msg);
    return code;
}

int vt__curl_request(vt__curl_t *h, const char *method, const char *const *headers, size_t nheaders,
                     const char *body, size_t len, char *err, size_t errlen) {
    CURL *c = h->curl;
    char curl_err[CURL_ERROR_SIZE] = "";
    h->status = 0;
    h->reply_len = 0;
    h->reply[0] = '\0';
    curl_easy_reset(c);
    struct curl_slist *list = NULL, *t;
    for (size_t i = 0; i < nheaders; i++) {
        if (!(t = curl_slist_append(list, headers[i]))) {
            curl_slist_free_all(list);
            return fail(err, errlen, VT_ENOMEM, "out of memory");
        }
        list = t;
    }
    if (list)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (method)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    else
        curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_URL, h->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vitals/" VT_VERSION_STRING);
#ifdef CURLOPT_PROTOCOLS_STR
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    if (h->username) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->password);
    }
    if (h->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    if (h->cert_file)
        curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert_file);
    if (h->key_file)
        curl_easy_setopt(c, CURLOPT_SSLKEY, h->key_file);
    if (h->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(list);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    if (cc != CURLE_OK) {
        int code = cc == CURLE_OPERATION_TIMEDOUT ? VT_ETIMEDOUT
                   : cc == CURLE_OUT_OF_MEMORY    ? VT_ENOMEM
                                                  : VT_ENET;
        return fail(err, errlen, code, curl_err[0] ? curl_err : curl_easy_strerror(cc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
    if (h->status >= 200 && h->status < 300)
        return 0;
    /* The server's message, without its trailing newline. */
    while (h->reply_len > 0 &&
           (h->reply[h->reply_len - 1] == '\n' || h->reply[h->reply_len - 1] == '\r'))
        h->reply[--h->reply_len] = '\0';
    snprintf(err, errlen, "HTTP %ld: %s", h->status, h->reply_len ? h->reply : "(no message)");
    return h->status == 401 || h->status == 403 ? VT_EAUTH : VT_EHTTP;
}
