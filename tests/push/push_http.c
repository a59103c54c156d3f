/* push_http.c - an HTTP GET with libcurl for the push tests (see push_http.h).
 *
 * Each call is independent: its own handle, its own body buffer.
 *
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "push_http.h"

typedef struct body {
    char *s;
    size_t n;
} body_t;

static size_t on_data(char *d, size_t size, size_t nm, void *ud) {
    body_t *b = ud;
    char *s = realloc(b->s, b->n + size * nm + 1);
    if (!s)
        return 0;
    memcpy(s + b->n, d, size * nm);
    b->s = s;
    b->n += size * nm;
    b->s[b->n] = '\0';
    return size * nm;
}

char *pt_http_get(const char *url, long *out_status) {
    CURL *h = curl_easy_init();
    body_t b = {calloc(1, 1), 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(h);
    if (out_status) {
        *out_status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, out_status);
    }
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
