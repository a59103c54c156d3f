/* fuzz_statsd_key.c - libFuzzer target: StatsD keys and tags of arbitrary bytes.
 *
 * The input (up to its first NUL) is a key. Properties:
 *   - vt__statsd_sanitize() gives exactly what the rule of vitals/statsd.h
 *     gives (a run of ASCII whitespace becomes "_", "/" becomes "-", any byte
 *     outside [A-Za-z0-9_.;=-] goes), computed here independently; so the
 *     key never holds ':', '|', '@', '#', ',', a newline or whitespace;
 *   - sanitizing is idempotent, and a too-small buffer is refused, not
 *     overrun;
 *   - vt__statsd_line() builds "<key>:<value>|<type>[|@rate]" with exactly
 *     one ':' and the key unchanged;
 *   - through the public client, the datagram that arrives at a UDP socket
 *     of this process is exactly "<sanitized key>:1|c", and a key that
 *     sanitizes to nothing is refused with VT_EINVAL;
 *   - vt__statsd_tag_ok() accepts a tag exactly when it is non-empty and
 *     holds none of '|', ',', '#', CR, LF.
 *
 * vt-fuzz: sources=core,push/statsd.c,push/statsd_line.c,push/statsd_mirror.c
 * vt-fuzz: sources=push/rand.c,push/segment.c,push/pushgateway.c,push/pushgateway_path.c
 * vt-fuzz: sources=push/curl_request.c
 * vt-fuzz: libs=-lcurl,-lm,-lpthread
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "push/push_internal.h"
#include "vitals.h"
#include "vitals/statsd.h"

#include "fuzz_must.h"

#define MAX_DGRAM 8192

static int rx = -1;         /* UDP socket the client sends to */
static vt_statsd_t *client; /* kept across inputs */

static void setup(void) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    rx = socket(AF_INET, SOCK_DGRAM, 0);
    MUST(rx >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    MUST(bind(rx, (struct sockaddr *)&a, sizeof a) == 0);
    MUST(getsockname(rx, (struct sockaddr *)&a, &al) == 0);
    struct timeval tv = {1, 0};
    MUST(setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);

    vt_statsd_opts_t o;
    vt_statsd_opts_init(&o);
    o.port = ntohs(a.sin_port);
    o.max_datagram = MAX_DGRAM;
    o.buffer_size = 8 * MAX_DGRAM;
    o.flush_interval_ms = 60000;
    MUST(vt_statsd_create(&o, &client) == 0);
}

static int ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int keep(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ';' || c == '=' || c == '-';
}

/* The rule, in two passes as the daemon applies its three replacements. */
static size_t reference(const char *in, char *out) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p;) {
        if (ws(*p)) {
            while (ws(*p))
                p++;
            out[n++] = '_';
        } else if (*p == '/') {
            out[n++] = '-';
            p++;
        } else if (keep(*p)) {
            out[n++] = (char)*p++;
        } else {
            p++;
        }
    }
    out[n] = '\0';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!client)
        setup();
    char *key = malloc(size + 1);
    char *want = malloc(size + 1);
    char *got = malloc(size + 1);
    char *again = malloc(size + 1);
    MUST(key && want && got && again);
    memcpy(key, data, size);
    key[size] = '\0';

    size_t wn = reference(key, want);
    size_t gn = vt__statsd_sanitize(got, size, key);
    MUST(gn == wn);
    MUST(memcmp(got, want, wn) == 0);
    for (size_t i = 0; i < gn; i++)
        MUST(keep((unsigned char)got[i]));
    got[gn] = '\0';
    MUST(vt__statsd_sanitize(again, size, got) == gn && memcmp(again, got, gn) == 0);
    if (gn > 0)
        MUST(vt__statsd_sanitize(again, gn - 1, key) == (size_t)-1);

    /* One assembled line. */
    char line[VT__STATSD_LINE_MAX];
    vt__statsd_parts_t p;
    memset(&p, 0, sizeof p);
    p.prefix = "app.";
    p.prefix_len = 4;
    p.key = key;
    p.value = "1";
    p.value_len = 1;
    p.type = "c";
    p.rate = 0.5;
    size_t ln = vt__statsd_line(&p, line, sizeof line);
    if (gn == 0) {
        MUST(ln == 0);
    } else if (gn + 4 + 9 > sizeof line) {
        MUST(ln == (size_t)-1);
    } else {
        MUST(ln == 4 + gn + 9);
        MUST(memcmp(line, "app.", 4) == 0 && memcmp(line + 4, got, gn) == 0);
        MUST(memcmp(line + 4 + gn, ":1|c|@0.5", 9) == 0);
        MUST(memchr(line, ':', ln) == line + 4 + gn);
    }

    /* The public client, over a real socket. */
    int rc = vt_statsd_count(client, key, 1, 1.0);
    if (gn == 0) {
        MUST(rc == VT_EINVAL);
    } else if (gn + 4 > MAX_DGRAM) {
        /* A datagram is the only limit, also past VT__STATSD_LINE_MAX. */
        MUST(rc == VT_ELIMIT);
    } else {
        MUST(rc == 0);
        MUST(vt_statsd_flush(client) == 0);
        char dg[MAX_DGRAM + 1];
        ssize_t r = recv(rx, dg, sizeof dg, 0);
        MUST(r == (ssize_t)(gn + 4));
        MUST(memcmp(dg, got, gn) == 0 && memcmp(dg + gn, ":1|c", 4) == 0);
    }

    int tag_ok = size > 0 && strlen(key) > 0 && strpbrk(key, "|,#\r\n") == NULL;
    MUST(vt__statsd_tag_ok(key) == tag_ok);

    free(key);
    free(want);
    free(got);
    free(again);
    return 0;
}
