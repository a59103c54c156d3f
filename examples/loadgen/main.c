/* main.c - loadgen: sends the reservations demo service a realistic mix of
 * requests at a steady rate and reports what came back.
 *
 * One thread drives every transfer through libcurl's multi interface. Sends
 * are open-loop: request i is due at start + i / rate, whatever the answers
 * do, unless --concurrency requests are already in flight; a send slot more
 * than a second overdue is dropped and counted as late, so a slow service
 * gets no burst when it recovers. Stops after --requests, after --duration,
 * or on SIGINT/SIGTERM; then waits for the requests in flight (a second
 * signal, or --timeout, abandons them) and prints the summary.
 *
 * Only a server on this machine is accepted (127.0.0.1, localhost, [::1]):
 * this is a demo tool, not a way to load someone else's service.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "loadgen.h"

static const char usage[] =
    "Usage: loadgen [options]\n"
    "\n"
    "Send the reservations demo service a mix of requests and report the answers\n"
    "per route and status.\n"
    "\n"
    "Options:\n"
    "  --url URL          the service, on this machine only (http://127.0.0.1:8080)\n"
    "  --rate R           requests per second; 0 = as fast as --concurrency allows (20)\n"
    "  --duration S       stop after S seconds; 0 = no limit (0)\n"
    "  --requests N       stop after sending N requests; 0 = no limit (0)\n"
    "  --concurrency N    requests in flight at most (16)\n"
    "  --mix SPEC         weights per route, e.g. the default\n"
    "                     reservations=70,checkout=10,database=5,error=5,root=10\n"
    "                     (names: reservations checkout database error root up)\n"
    "  --long-ids P       share of reservation ids 6-7 characters long, answered 400 (0.03)\n"
    "  --seed N           seed of the request sequence; 0 draws one (0)\n"
    "  --timeout S        per-request timeout, and the wait for requests in flight\n"
    "                     at the end (10)\n"
    "  --json FILE        also write the summary as JSON to FILE ('-': stdout, and the\n"
    "                     table goes to stderr)\n"
    "  --quiet            no progress line every 5 s on stderr\n"
    "  -h, --help         this text\n"
    "\n"
    "Without --duration or --requests it runs until SIGINT or SIGTERM. Exit status:\n"
    "0 when every request was answered, 1 when some were not, 2 for a bad option.\n";

typedef struct options {
    const char *url;
    char base[256]; /* scheme, host, port and path prefix, without a trailing "/" */
    double rate;
    double duration_s;
    unsigned long long requests;
    unsigned concurrency;
    uint64_t seed;
    double timeout_s;
    const char *json;
    int quiet;
    lg_mix_t mix;
} options_t;

/* One transfer slot: an easy handle reused for request after request. */
typedef struct slot {
    CURL *easy;
    int busy;
    lg_kind_t kind;
    uint64_t start_ns;
    char url[384];
    char body[96];
} slot_t;

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig) {
    (void)sig;
    signals_seen++;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static size_t discard(char *data, size_t size, size_t n, void *user) {
    (void)data;
    (void)user;
    return size * n;
}

static int bad(const char *what, const char *value) {
    fprintf(stderr, "loadgen: bad %s: '%s' (see --help)\n", what, value);
    return -1;
}

static int parse_double(const char *what, const char *s, double lo, double hi, double *out) {
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (!*s || errno || *end || !isfinite(v) || v < lo || v > hi)
        return bad(what, s);
    *out = v;
    return 0;
}

static int parse_ull(const char *what, const char *s, unsigned long long max,
                     unsigned long long *out) {
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (!*s || *s == '-' || errno || *end || v > max)
        return bad(what, s);
    *out = v;
    return 0;
}

/* Accept http://127.0.0.1[:port][/prefix], localhost or [::1]; keep it
 * without a trailing slash in o->base. */
static int check_url(options_t *o) {
    static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};
    const char *u = o->url, *rest;
    size_t len;
    int ok = 0;
    if (strncmp(u, "http://", 7) != 0) {
        fprintf(stderr, "loadgen: --url must start with http:// (got '%s')\n", u);
        return -1;
    }
    rest = u + 7;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(rest, hosts[i], n) == 0 &&
            (rest[n] == '\0' || rest[n] == ':' || rest[n] == '/')) {
            const char *p = rest + n;
            if (*p == ':') {
                p++;
                if (*p < '0' || *p > '9')
                    break;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
            ok = *p == '\0' || *p == '/';
            break;
        }
    }
    if (!ok) {
        fprintf(stderr,
                "loadgen: --url must name this machine (127.0.0.1, localhost or [::1]), "
                "got '%s'\n",
                u);
        return -1;
    }
    len = strlen(u);
    while (len > 7 && u[len - 1] == '/')
        len--;
    if (len >= sizeof(o->base) - 64) {
        fprintf(stderr, "loadgen: --url is too long\n");
        return -1;
    }
    memcpy(o->base, u, len);
    o->base[len] = '\0';
    return 0;
}

/* Returns 0 to run, 1 after --help, -1 on a bad option. */
static int parse_args(int argc, char **argv, options_t *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        unsigned long long u;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "loadgen: unknown option or missing value: '%s' (see --help)\n", a);
            return -1;
        }
        v = argv[++i];
        if (strcmp(a, "--url") == 0) {
            o->url = v;
        } else if (strcmp(a, "--rate") == 0) {
            if (parse_double("--rate", v, 0, 1e6, &o->rate) != 0)
                return -1;
        } else if (strcmp(a, "--duration") == 0) {
            if (parse_double("--duration", v, 0, 1e7, &o->duration_s) != 0)
                return -1;
        } else if (strcmp(a, "--requests") == 0) {
            if (parse_ull("--requests", v, 1000000000000ULL, &o->requests) != 0)
                return -1;
        } else if (strcmp(a, "--concurrency") == 0) {
            if (parse_ull("--concurrency", v, 1024, &u) != 0)
                return -1;
            if (u == 0)
                return bad("--concurrency", v);
            o->concurrency = (unsigned)u;
        } else if (strcmp(a, "--mix") == 0) {
            if (lg_mix_parse(&o->mix, v) != 0)
                return -1;
        } else if (strcmp(a, "--long-ids") == 0) {
            if (parse_double("--long-ids", v, 0, 1, &o->mix.long_id_share) != 0)
                return -1;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_ull("--seed", v, UINT64_MAX, &u) != 0)
                return -1;
            o->seed = (uint64_t)u;
        } else if (strcmp(a, "--timeout") == 0) {
            if (parse_double("--timeout", v, 0.001, 3600, &o->timeout_s) != 0)
                return -1;
        } else if (strcmp(a, "--json") == 0) {
            o->json = v;
        } else {
            fprintf(stderr, "loadgen: unknown option '%s' (see --help)\n", a);
            return -1;
        }
    }
    return check_url(o);
}

static int start_request(CURLM *multi, slot_t *s, const options_t *o, lg_rng_t *rng,
                         struct curl_slist *json_header, lg_tally_t *t) {
    lg_request_t req;
    lg_mix_next(&o->mix, rng, &req);
    snprintf(s->url, sizeof(s->url), "%s%s", o->base, req.path);
    curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
    if (req.kind == LG_CHECKOUT) {
        int n = snprintf(s->body, sizeof(s->body), "{\"cart_id\": %llu, \"items\": %u}",
                         (unsigned long long)(lg_rng_next(rng) % 1000000),
                         1 + (unsigned)(lg_rng_next(rng) % 5));
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)n);
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, json_header);
    } else {
        curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    }
    s->kind = req.kind;
    s->start_ns = now_ns();
    if (curl_multi_add_handle(multi, s->easy) != CURLM_OK) {
        fprintf(stderr, "loadgen: cannot start a transfer\n");
        return -1;
    }
    s->busy = 1;
    t->sent[req.kind]++;
    return 0;
}

/* Tally every finished transfer and free its slot. Returns how many ended. */
static unsigned collect(CURLM *multi, lg_tally_t *t, unsigned *errors_shown) {
    CURLMsg *msg;
    int left;
    unsigned ended = 0;
    while ((msg = curl_multi_info_read(multi, &left))) {
        slot_t *s = NULL;
        long code = 0;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        if (msg->data.result == CURLE_OK)
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        else if (*errors_shown < 5) {
            fprintf(stderr, "loadgen: %s: %s\n", s->url, curl_easy_strerror(msg->data.result));
            if (++*errors_shown == 5)
                fprintf(stderr, "loadgen: (further transfer errors are only counted)\n");
        }
        if (code < 100 || code >= LG_STATUS_SLOTS)
            code = 0;
        t->answered[s->kind][code]++;
        t->latency_sum[s->kind][code] += (double)(now_ns() - s->start_ns) / 1e9;
        curl_multi_remove_handle(multi, s->easy);
        s->busy = 0;
        ended++;
    }
    return ended;
}

static void progress(const lg_tally_t *t, double elapsed) {
    uint64_t by_class[6] = {0};
    for (int k = 0; k < LG_KINDS; k++)
        for (int c = 0; c < LG_STATUS_SLOTS; c++)
            by_class[c / 100] += t->answered[k][c];
    fprintf(stderr, "loadgen: %.0f s: %llu sent, 2xx %llu, 4xx %llu, 5xx %llu, no answer %llu\n",
            elapsed, (unsigned long long)lg_tally_sent(t), (unsigned long long)by_class[2],
            (unsigned long long)by_class[4], (unsigned long long)by_class[5],
            (unsigned long long)by_class[0]);
}

int main(int argc, char **argv) {
    options_t o = {.url = "http://127.0.0.1:8080", .rate = 20, .concurrency = 16, .timeout_s = 10};
    static lg_tally_t tally;
    lg_rng_t rng;
    slot_t *slots;
    CURLM *multi;
    struct curl_slist *json_header;
    struct sigaction sa;
    uint64_t start, next_due, interval_ns, stop_at = 0, last_progress;
    unsigned in_flight = 0, errors_shown = 0;
    int rc, stopping = 0, abandoned = 0;
    double elapsed;
    FILE *table = stdout;

    lg_mix_default(&o.mix);
    rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (o.seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        o.seed =
            ((uint64_t)ts.tv_sec * (uint64_t)1000003) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
    }
    lg_rng_init(&rng, o.seed);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "loadgen: libcurl failed to start\n");
        return 1;
    }
    multi = curl_multi_init();
    slots = calloc(o.concurrency, sizeof(*slots));
    json_header = curl_slist_append(NULL, "Content-Type: application/json");
    if (!multi || !slots || !json_header) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o.concurrency);
    for (unsigned i = 0; i < o.concurrency; i++) {
        CURL *e = curl_easy_init();
        if (!e) {
            fprintf(stderr, "loadgen: out of memory\n");
            return 1;
        }
        slots[i].easy = e;
        curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&slots[i]);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o.timeout_s * 1000));
        curl_easy_setopt(e, CURLOPT_USERAGENT, "vitals-loadgen");
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
#endif
    }

    interval_ns = o.rate > 0 ? (uint64_t)(1e9 / o.rate) : 0;
    start = next_due = last_progress = now_ns();
    for (;;) {
        uint64_t now = now_ns();
        int running;
        long wait_ms = 100;

        if (!stopping &&
            (signals_seen || (o.duration_s > 0 && (double)(now - start) / 1e9 >= o.duration_s) ||
             (o.requests && lg_tally_sent(&tally) >= o.requests))) {
            stopping = 1;
            stop_at = now;
        }
        if (stopping && in_flight == 0)
            break;
        if (stopping && (signals_seen > 1 || (double)(now - stop_at) / 1e9 > o.timeout_s)) {
            abandoned = 1;
            break;
        }

        if (!stopping) {
            for (unsigned i = 0; i < o.concurrency && (interval_ns == 0 || now >= next_due); i++) {
                if (slots[i].busy)
                    continue;
                if (o.requests && lg_tally_sent(&tally) >= o.requests)
                    break;
                if (start_request(multi, &slots[i], &o, &rng, json_header, &tally) != 0)
                    return 1;
                in_flight++;
                next_due += interval_ns;
            }
            /* All slots busy and a send overdue by over a second: drop it. */
            while (interval_ns && now > next_due + 1000000000ULL) {
                next_due += interval_ns;
                tally.late++;
            }
            if (interval_ns && in_flight < o.concurrency)
                wait_ms = now >= next_due ? 0 : (long)((next_due - now) / 1000000);
            if (wait_ms > 100)
                wait_ms = 100;
        }

        curl_multi_perform(multi, &running);
        in_flight -= collect(multi, &tally, &errors_shown);
        if (wait_ms > 0 && in_flight > 0)
            curl_multi_poll(multi, NULL, 0, (int)wait_ms, NULL);
        else if (wait_ms > 0) {
            struct timespec ts = {0, wait_ms * 1000000L};
            nanosleep(&ts, NULL);
        }

        if (!o.quiet && now - last_progress >= 5000000000ULL) {
            progress(&tally, (double)(now - start) / 1e9);
            last_progress = now;
        }
    }
    elapsed = (double)(now_ns() - start) / 1e9;

    /* Requests still in flight when abandoned count as unanswered. */
    for (unsigned i = 0; i < o.concurrency; i++) {
        if (slots[i].busy) {
            tally.answered[slots[i].kind][0]++;
            curl_multi_remove_handle(multi, slots[i].easy);
        }
        curl_easy_cleanup(slots[i].easy);
    }
    curl_multi_cleanup(multi);
    curl_slist_free_all(json_header);
    free(slots);
    curl_global_cleanup();
    if (abandoned)
        fprintf(stderr, "loadgen: stopped without waiting for the requests in flight\n");

    if (o.json && strcmp(o.json, "-") == 0)
        table = stderr;
    lg_report_text(table, &tally, elapsed, o.seed);
    if (o.json) {
        FILE *f = strcmp(o.json, "-") == 0 ? stdout : fopen(o.json, "w");
        if (!f || lg_report_json(f, &tally, elapsed, o.seed) != 0) {
            fprintf(stderr, "loadgen: cannot write %s\n", o.json);
            return 1;
        }
        if (f != stdout)
            fclose(f);
    }
    return lg_tally_failed(&tally) ? 1 : 0;
}
