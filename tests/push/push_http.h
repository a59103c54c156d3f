/* push_http.h - an HTTP GET for the push tests that read back what a server
 * received (the Pushgateway's /metrics, Prometheus' query API).
 *
 * libcurl, one easy handle per call, a 5 s timeout. Only the tests that link
 * libcurl compile push_http.c; the other push tests need not.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_PUSH_HTTP_H
#define VT_PUSH_HTTP_H

/* GET url. Returns the body (malloc'd, NUL-terminated), or NULL when no
 * answer came. *out_status, when out_status is not NULL, gets the HTTP
 * status, 0 when none. */
char *pt_http_get(const char *url, long *out_status);

#endif
