/* client.h - what the http tests use to talk to a server on 127.0.0.1: a
 * libcurl request that keeps status, headers and body, and raw TCP sockets
 * for requests no well-behaved client would send.
 *
 * Each call owns its handles: safe from several test threads at once (after
 * client_init() has run once).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_HTTP_CLIENT_H
#define VT_TEST_HTTP_CLIENT_H

#include <stddef.h>

typedef struct resp {
    long status;   /* 0 when the transfer failed */
    int curl_code; /* CURLcode of the transfer */
    char *headers; /* every header line received, NUL-terminated */
    char *body;    /* NUL-terminated (bodies here are text or gzip) */
    size_t len;    /* bytes in body */
} resp_t;

/* Request options; zero means default. */
typedef struct req {
    const char *method;         /* default GET; "HEAD" sets CURLOPT_NOBODY */
    const char *const *headers; /* NULL-terminated "Name: value" lines */
    const char *body;           /* request body for POST-like methods */
    long timeout_ms;            /* default 10000 */
    const char *cainfo;         /* CA file for https URLs */
    const char *userpwd;        /* "user:password" for basic auth */
} req_t;

void client_init(void);

/* Perform one request; returns resp->status. */
long http_do(const char *url, const req_t *req, resp_t *out);
void resp_free(resp_t *r);

/* The value of the last header called name (case-insensitive), copied into
 * buf; NULL when absent. */
const char *resp_header(const resp_t *r, const char *name, char *buf, size_t n);

/* Inflate a gzip body; returns a malloc'd NUL-terminated string or NULL. */
char *gunzip_body(const char *data, size_t len, size_t *out_len);

/* A TCP connection to 127.0.0.1:port, or -1. */
int tcp_connect(unsigned port);

/* The same from a given local IPv4 address (another loopback address such
 * as "127.0.0.2"); src NULL: any. */
int tcp_connect_from(unsigned port, const char *src);

/* Send len bytes, then read until the server closes or timeout_ms passes;
 * returns the bytes read (malloc'd, NUL-terminated) or NULL. */
char *raw_exchange(unsigned port, const char *data, size_t len, long timeout_ms);

/* Wall-clock milliseconds since an arbitrary start (monotonic). */
double now_ms(void);

/* Whether the peer closes fd (or resets it) within ms milliseconds; a byte
 * it sends instead is consumed. */
int closed_within(int fd, int ms);

/* How many times needle occurs in hay (0 for a NULL hay). */
int count_of_str(const char *hay, const char *needle);

#endif
