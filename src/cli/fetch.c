/* fetch.c - read an exposition from a URL (libcurl), a file or stdin, and pick its format.
 *
 * A URL is fetched the way Prometheus scrapes: an Accept header that prefers
 * OpenMetrics and falls back to text 0.0.4, gzip accepted, redirects
 * followed, and the answer's Content-Type kept so that it decides the format.
 * With a forced format, only that format's media type is asked for. Inputs
 * are bounded (VT__INPUT_MAX) so a runaway endpoint cannot exhaust memory.
 * curl_global_init() runs once per process, from the first fetch, under
 * pthread_once (vitals top fetches from a thread of its own).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "vitals/version.h"

#define VT__INPUT_MAX ((size_t)1 << 30)

/* Prometheus 2.42's default scrape Accept header. */
static const char accept_any[] =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
static const char accept_text[] = "text/plain;version=0.0.4";
static const char accept_om[] = "application/openmetrics-text;version=1.0.0";

static void say(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
    if (err && errlen) {
        snprintf(err, errlen, fmt, a, b);
    }
}

static int append(vt__str_t *body, const char *p, size_t n) {
    if (body->len + n > VT__INPUT_MAX) {
        return VT_ELIMIT;
    }
    return vt__str_add(body, p, n);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *user) {
    size_t n = size * nmemb;
    return append(user, p, n) == 0 ? n : 0;
}

static int read_stream(FILE *f, vt__str_t *body) {
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        int rc = append(body, chunk, n);
        if (rc) {
            return rc;
        }
    }
    return ferror(f) ? VT_EIO : 0;
}

static int is_url(const char *s) {
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int fetch(const char *url, int forced, double timeout_s, vt__input_t *out, vt__str_t *body,
                 char *err, size_t errlen) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        say(err, errlen, "%s%s: libcurl failed to start", url, "");
        return VT_ENET;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        return VT_ENOMEM;
    }
    char accept[256];
    snprintf(accept, sizeof accept, "Accept: %s",
             forced == VT_FORMAT_TEXT          ? accept_text
             : forced == VT_FORMAT_OPENMETRICS ? accept_om
                                               : accept_any);
    struct curl_slist *headers = curl_slist_append(NULL, accept);
    if (!headers) {
        curl_easy_cleanup(c);
        return VT_ENOMEM;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    long timeout_ms = (long)(timeout_s * 1000.0);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vitals/" VT_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);

    int rc = 0;
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_WRITE_ERROR && body->len >= VT__INPUT_MAX) {
        say(err, errlen, "%s: the answer is larger than %s", url, "1 GiB");
        rc = VT_ELIMIT;
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        say(err, errlen, "%s: %s", url, errbuf[0] ? errbuf : "timed out");
        rc = VT_ETIMEDOUT;
    } else if (cc != CURLE_OK) {
        say(err, errlen, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        rc = body->failed ? VT_ENOMEM : VT_ENET;
    } else if (status < 200 || status > 299) {
        char code[32];
        snprintf(code, sizeof code, "%ld", status);
        say(err, errlen, "%s: the server answered HTTP %s", url, code);
        rc = VT_EHTTP;
    } else {
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        if (ct && *ct) {
            out->content_type = vt__strdup(ct);
            if (!out->content_type) {
                rc = VT_ENOMEM;
            }
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return rc;
}

int vt__input_read(const char *source, int forced_format, double timeout_s, vt__input_t *out,
                   char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    vt__str_t body = {0};
    int rc;
    if (strcmp(source, "-") == 0) {
        out->name = "<stdin>";
        rc = read_stream(stdin, &body);
        if (rc) {
            say(err, errlen, "%s: %s", out->name,
                rc == VT_ELIMIT ? "the input is larger than 1 GiB" : "read failed");
        }
    } else if (is_url(source)) {
        out->name = source;
        rc = fetch(source, forced_format, timeout_s, out, &body, err, errlen);
    } else {
        out->name = source;
        FILE *f = fopen(source, "rb");
        if (!f) {
            say(err, errlen, "%s: %s", source, strerror(errno));
            return VT_EIO;
        }
        rc = read_stream(f, &body);
        if (rc) {
            say(err, errlen, "%s: %s", source,
                rc == VT_ELIMIT ? "the file is larger than 1 GiB" : "read failed");
        }
        fclose(f);
    }
    if (rc == 0 && (rc = vt__str_ok(&body)) != 0) {
        say(err, errlen, "%s: %s", out->name, "out of memory");
    }
    if (rc) {
        vt__str_free(&body);
        free(out->content_type);
        out->content_type = NULL;
        return rc;
    }
    out->len = body.len;
    out->data = vt__str_take(&body);
    if (!out->data) {
        return VT_ENOMEM;
    }
    return 0;
}

void vt__input_free(vt__input_t *in) {
    free(in->data);
    free(in->content_type);
    memset(in, 0, sizeof *in);
}

vt_format_t vt__input_format(const vt__input_t *in, int forced_format) {
    if (forced_format != VT__FORMAT_AUTO) {
        return (vt_format_t)forced_format;
    }
    return vt_parse_guess_format(in->data, in->len, in->content_type);
}

int vt__load_doc(const char *source, int forced_format, double timeout_s, vt_doc_t **out_doc,
                 char *err, size_t errlen) {
    *out_doc = NULL;
    vt__input_t in;
    int rc = vt__input_read(source, forced_format, timeout_s, &in, err, errlen);
    if (rc) {
        return rc;
    }
    vt_parse_opts_t opts;
    vt_parse_opts_init(&opts);
    opts.format = vt__input_format(&in, forced_format);
    opts.mode = VT_PARSE_LENIENT;
    vt_parse_error_t perr;
    rc = vt_parse(in.data, in.len, &opts, out_doc, &perr);
    if (rc && err && errlen) {
        char what[VT_PARSE_MSG_SIZE + 32];
        vt__parse_error_text(&perr, what, sizeof what);
        snprintf(err, errlen, "%s:%u: %s (read as %s; `vitals lint` lists every problem)", in.name,
                 perr.line, what,
                 opts.format == VT_FORMAT_OPENMETRICS ? "OpenMetrics" : "text 0.0.4");
    }
    vt__input_free(&in);
    return rc;
}

void vt__parse_error_text(const vt_parse_error_t *e, char *buf, size_t n) {
    /* The parser's message starts "line L, column C: " or "line L: "; the line
     * is reported separately, so keep the reason and put the column last. */
    const char *msg = e->message;
    if (strncmp(msg, "line ", 5) == 0) {
        const char *colon = strstr(msg, ": ");
        if (colon) {
            msg = colon + 2;
        }
    }
    if (e->column) {
        snprintf(buf, n, "%s (column %u)", msg, e->column);
    } else {
        snprintf(buf, n, "%s", msg);
    }
}
