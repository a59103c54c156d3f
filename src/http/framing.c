/* framing.c - refuse requests whose message length is ambiguous.
 *
 * libmicrohttpd 0.9.75 reads a body by Transfer-Encoding when both it and
 * Content-Length are present and keeps the connection open, takes the first
 * of several Content-Length fields, and files "Content-Length : 0" under a
 * name with a trailing blank that it never reads as a length. A front end
 * that reads the other length then sees a different request boundary: the
 * bytes after it reach us as a second, smuggled request. RFC 9112 (sections
 * 5.1, 6.1 and 6.3) makes each of these a 400 with the connection closed, and
 * that is what vt__http_framing_error() lets the caller send: it runs on a
 * request's first handler call (headers read, body not yet), where an
 * answer also makes libmicrohttpd close the connection after it.
 *
 * No shared state: safe from any libmicrohttpd thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <strings.h>

#include "http_internal.h"

typedef struct scan {
    unsigned content_length; /* fields named Content-Length */
    unsigned transfer_encoding;
    const char *why; /* first field-level reason found: bad name, length or coding */
} scan_t;

static int plain_decimal(const char *v) {
    size_t n = 0;
    if (!v)
        return 0;
    for (; v[n]; n++)
        if (v[n] < '0' || v[n] > '9')
            return 0;
    return n > 0 && n <= 19; /* fits in 63 bits */
}

/* Whether the last coding of a Transfer-Encoding list is exactly "chunked"
 * (case-insensitive, optional blanks around it). */
static int ends_chunked(const char *v) {
    const char *end, *start;
    size_t n;
    if (!v)
        return 0;
    end = v;
    while (*end)
        end++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    start = end;
    while (start > v && start[-1] != ',' && start[-1] != ' ' && start[-1] != '\t')
        start--;
    n = (size_t)(end - start);
    return n == 7 && strncasecmp(start, "chunked", 7) == 0;
}

static int name_ok(const char *key) {
    if (!key || !*key)
        return 0;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == ':')
            return 0;
    return 1;
}

static enum MHD_Result look(void *cls, enum MHD_ValueKind kind, const char *key,
                            const char *value) {
    scan_t *s = cls;
    (void)kind;
    if (!name_ok(key)) {
        if (!s->why)
            s->why = "bad request: malformed header field name\n";
        return MHD_YES;
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        s->content_length++;
        if (!plain_decimal(value)) {
            if (!s->why)
                s->why = "bad request: invalid Content-Length\n";
        }
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        s->transfer_encoding++;
        if (!ends_chunked(value)) {
            if (!s->why)
                s->why = "bad request: unsupported Transfer-Encoding\n";
        }
    }
    return MHD_YES;
}

const char *vt__http_framing_error(struct MHD_Connection *conn, int bodyless) {
    scan_t s = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, look, &s);
    if (s.why)
        return s.why;
    if (s.content_length > 1)
        return "bad request: more than one Content-Length\n";
    if (s.transfer_encoding > 1)
        return "bad request: more than one Transfer-Encoding\n";
    if (s.content_length && s.transfer_encoding)
        return "bad request: both Content-Length and Transfer-Encoding\n";
    if (bodyless && s.transfer_encoding)
        return "bad request: a body on a GET or HEAD request\n";
    return NULL;
}
