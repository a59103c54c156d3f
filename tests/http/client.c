/* client.c - libcurl requests, gzip inflation and raw sockets for the http
 * tests (see client.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

typedef struct grow {
    char *p;
    size_t len, cap;
} grow_t;

static int grow_add(grow_t *g, const char *d, size_t n) {
    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        char *np;
        while (cap < g->len + n + 1)
            cap *= 2;
        np = realloc(g->p, cap);
        if (!np)
            return -1;
        g->p = np;
        g->cap = cap;
    }
    memcpy(g->p + g->len, d, n);
    g->len += n;
    g->p[g->len] = '\0';
    return 0;
}

static size_t on_data(char *d, size_t size, size_t nmemb, void *ud) {
    return grow_add(ud, d, size * nmemb) == 0 ? size * nmemb : 0;
}

void client_init(void) {
    curl_global_init(CURL_GLOBAL_ALL);
}

long http_do(const char *url, const req_t *req, resp_t *out) {
    static const req_t none;
    grow_t body = {0}, hdrs = {0};
    struct curl_slist *list = NULL;
    CURL *c = curl_easy_init();
    const char *const *h;
    if (!req)
        req = &none;
    memset(out, 0, sizeof(*out));
    if (!c)
        return 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdrs);
    if (req->method) {
        if (strcmp(req->method, "HEAD") == 0)
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        else
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
    }
    for (h = req->headers; h && *h; h++)
        list = curl_slist_append(list, *h);
    if (list)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (req->cainfo)
        curl_easy_setopt(c, CURLOPT_CAINFO, req->cainfo);
    if (req->userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, req->userpwd);
    }
    out->curl_code = (int)curl_easy_perform(c);
    if (out->curl_code == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    if (!body.p)
        grow_add(&body, "", 0);
    if (!hdrs.p)
        grow_add(&hdrs, "", 0);
    out->body = body.p;
    out->len = body.len;
    out->headers = hdrs.p;
    return out->status;
}

void resp_free(resp_t *r) {
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

const char *resp_header(const resp_t *r, const char *name, char *buf, size_t n) {
    const char *line = r->headers, *found = NULL;
    size_t nl = strlen(name);
    if (!line || n == 0)
        return NULL;
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        if (ll > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1, *e = line + ll;
            size_t vl;
            while (v < e && *v == ' ')
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' '))
                e--;
            vl = (size_t)(e - v) < n - 1 ? (size_t)(e - v) : n - 1;
            memcpy(buf, v, vl);
            buf[vl] = '\0';
            found = buf;
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    return found;
}

char *gunzip_body(const char *data, size_t len, size_t *out_len) {
    grow_t g = {0};
    z_stream zs;
    char buf[16384];
    int rc;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return NULL;
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    do {
        zs.next_out = (Bytef *)buf;
        zs.avail_out = sizeof(buf);
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            free(g.p);
            return NULL;
        }
        grow_add(&g, buf, sizeof(buf) - zs.avail_out);
    } while (rc != Z_STREAM_END);
    inflateEnd(&zs);
    if (!g.p)
        grow_add(&g, "", 0);
    *out_len = g.len;
    return g.p;
}

int tcp_connect(unsigned port) {
    return tcp_connect_from(port, NULL);
}

int tcp_connect_from(unsigned port, const char *src) {
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (src) {
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        if (inet_pton(AF_INET, src, &sa.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            close(fd);
            return -1;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

char *raw_exchange(unsigned port, const char *data, size_t len, long timeout_ms) {
    grow_t g = {0};
    double deadline = now_ms() + (double)timeout_ms;
    size_t sent = 0;
    int fd = tcp_connect(port);
    if (fd < 0)
        return NULL;
    while (sent < len) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may close early on a hostile request */
        sent += (size_t)n;
    }
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        double left = deadline - now_ms();
        char buf[4096];
        ssize_t n;
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        grow_add(&g, buf, (size_t)n);
    }
    close(fd);
    if (!g.p)
        grow_add(&g, "", 0);
    return g.p;
}

double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int closed_within(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    char c;
    return poll(&p, 1, ms) > 0 && recv(fd, &c, 1, 0) <= 0;
}

int count_of_str(const char *hay, const char *needle) {
    int n = 0;
    while (hay && (hay = strstr(hay, needle)) != NULL) {
        n++;
        hay += strlen(needle);
    }
    return n;
}
