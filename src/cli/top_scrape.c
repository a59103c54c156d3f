/* top_scrape.c - fetch and parse one endpoint for `vitals top`, and say in a few words why it
 * failed.
 *
 * The fetch is vt__input_read() (libcurl, the Accept header of a Prometheus
 * scrape) and the parse is lenient, as for `vitals dashboard`. A failure
 * becomes a short status for the endpoint's line: "down: connection
 * refused", "down: timed out", "HTTP 500", "parse error line 3: ...". When
 * libcurl only says it could not connect, one plain TCP connect to the same
 * address tells why (refused, no route, unreachable).
 *
 * Thread-safety: called from the scraping threads at once; everything here
 * is local to the call (vt__input_read() initializes libcurl on its first
 * call, which the command makes before it starts the threads).
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/top.h"

/* Why a TCP connect to the URL's host and port fails: an errno, 0 when it
 * succeeds now, -1 when that cannot be told. */
static int connect_errno(const char *url) {
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    int result = -1;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        goto out;
    }
    /* An IPv6 literal comes back in brackets. */
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
        goto out;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd >= 0) {
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            result = 0;
        } else if (errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (poll(&p, 1, 1000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0) {
                result = soerr;
            } else {
                result = ETIMEDOUT;
            }
        } else {
            result = errno;
        }
        close(fd);
    }
    freeaddrinfo(ai);
out:
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return result;
}

static void lower_first(char *s) {
    if (s[0] && isupper((unsigned char)s[0]) && !isupper((unsigned char)s[1])) {
        s[0] = (char)tolower((unsigned char)s[0]);
    }
}

/* The reason of a vt__input_read() message "SOURCE: reason". */
static const char *reason_of(const char *url, const char *err) {
    size_t n = strlen(url);
    if (strncmp(err, url, n) == 0 && strncmp(err + n, ": ", 2) == 0) {
        return err + n + 2;
    }
    return err;
}

static void describe(const char *url, int rc, const char *err, char *status, size_t len) {
    const char *why = reason_of(url, err);
    char buf[VT__TOP_STATUS_SIZE];
    switch (rc) {
    case VT_EHTTP: {
        const char *p = strstr(why, "HTTP ");
        snprintf(status, len, "HTTP %s", p ? p + 5 : "error");
        return;
    }
    case VT_ETIMEDOUT:
        snprintf(status, len, "down: timed out");
        return;
    case VT_ELIMIT:
        snprintf(status, len, "too large: %s", why);
        return;
    case VT_ENOMEM:
        snprintf(status, len, "out of memory");
        return;
    case VT_ENET:
        if (strstr(why, "connect")) {
            int e = connect_errno(url);
            if (e > 0) {
                char text[128];
                vt__top_copy(buf, sizeof buf, strerror_r(e, text, sizeof text));
                lower_first(buf);
                snprintf(status, len, "down: %s", buf);
                return;
            }
        }
        if (strstr(why, "resolve")) {
            snprintf(status, len, "down: cannot resolve the host name");
            return;
        }
        break;
    default:
        break;
    }
    vt__top_copy(buf, sizeof buf, why);
    lower_first(buf);
    snprintf(status, len, "down: %s", buf);
}

int vt__top_scrape(const char *url, int forced_format, double timeout, vt_doc_t **out_doc,
                   vt_format_t *out_format, char *status, size_t status_len) {
    *out_doc = NULL;
    vt__input_t in;
    char err[512] = "";
    int rc = vt__input_read(url, forced_format, timeout, &in, err, sizeof err);
    if (rc) {
        describe(url, rc, err, status, status_len);
        return rc;
    }
    vt_parse_opts_t opts;
    vt_parse_opts_init(&opts);
    opts.format = vt__input_format(&in, forced_format);
    opts.mode = VT_PARSE_LENIENT;
    *out_format = opts.format;
    vt_parse_error_t perr;
    rc = vt_parse(in.data, in.len, &opts, out_doc, &perr);
    vt__input_free(&in);
    if (rc) {
        char what[VT_PARSE_MSG_SIZE + 32];
        vt__parse_error_text(&perr, what, sizeof what);
        if (rc == VT_ENOMEM) {
            snprintf(status, status_len, "out of memory");
        } else if (perr.line) {
            snprintf(status, status_len, "parse error line %u: %s", perr.line, what);
        } else {
            snprintf(status, status_len, "parse error: %s", what);
        }
        return rc;
    }
    snprintf(status, status_len, "ok");
    return 0;
}

static int has_scheme(const char *s) {
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

char *vt__top_url(const char *arg) {
    if (has_scheme(arg)) {
        const char *host = strstr(arg, "//") + 2;
        if (!strchr(host, '/')) {
            return vt__aprintf("%s/metrics", arg);
        }
        return vt__strdup(arg);
    }
    if (access(arg, F_OK) == 0 || !strchr(arg, ':')) {
        return vt__strdup(arg); /* a file */
    }
    return vt__aprintf("http://%s%s", arg, strchr(arg, '/') ? "" : "/metrics");
}
