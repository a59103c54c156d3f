/* top.c - `vitals top`: options, the scraping threads and the main loop of the live RED view.
 *
 * One thread per endpoint scrapes it on a common schedule (start + k *
 * interval; a scrape that overruns skips the ticks it missed), parses the
 * answer and posts the result to a queue; a byte on a pipe wakes the main
 * thread. The main thread alone owns the endpoints' figures, the terminal
 * and stdout: it applies results in arrival order, then draws the
 * full-screen view or prints a text table or a JSON line per endpoint and
 * interval. With --count N each thread stops after N + 1 scrapes (the first
 * is the baseline) and the command ends when all results are out.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP end the command cleanly (the terminal
 * is restored) through a flag and the same pipe; the scraping threads block
 * them, and SIGWINCH, so that they reach the main thread's poll().
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/top.h"

/* ---- options ------------------------------------------------------------------------------ */

static void usage(FILE *f) {
    fputs(
        "Usage: vitals top [options] URL...\n"
        "\n"
        "Scrape each endpoint every interval and show, per RED family and route, the\n"
        "request rate, errors, error ratio and p50/p90/p99 latency of the interval, with\n"
        "CPU, memory, file descriptors and requests in flight. Full screen on a terminal;\n"
        "text tables (or JSON lines) otherwise. URL may be host:port (http://host:port/metrics).\n"
        "\n"
        "Options:\n"
        "  -i, --interval=SECONDS      time between scrapes (default 2; 500ms, 5s, 1m work too)\n"
        "      --once                  scrape twice one interval apart, print, exit\n"
        "  -n, --count=N               stop after N intervals\n"
        "      --json                  one JSON object per endpoint and interval\n"
        "      --plain                 text tables even on a terminal\n"
        "  -s, --sort=COLUMN           rate, errors, ratio, p50, p90, p99 or name (default rate)\n"
        "      --reverse               the other order\n"
        "      --filter=TEXT           only routes or families containing TEXT\n"
        "      --error-threshold=RATIO highlight error ratios above this (default 0.05)\n"
        "      --latency-objective=S   highlight latencies above this (default 0.5)\n"
        "      --ascii                 ASCII sparklines\n"
        "      --format=text|openmetrics  ask for and read this format\n"
        "      --timeout=SECONDS       give up a scrape after this long (default: the interval,\n"
        "                              at least 1 s and at most 10 s)\n"
        "      --bench=N               measure N refreshes back to back (fetch, parse, compute,\n"
        "                              draw into an off-screen terminal) and print CPU per "
        "refresh\n"
        "  -h, --help                  this help\n"
        "\n"
        "Keys: r e % 5 9 p n sort by rate, errors, error %, p50, p90, p99, name (again:\n"
        "reverse); / filter (Enter applies, Esc cancels); space pause; arrows scroll; q quit.\n"
        "Exit status with --once or --count: 0 when every endpoint answered its last\n"
        "scrape, 1 when one did not, 2 on a usage error.\n",
        f);
}

static int parse_seconds(const char *s, double lo, double hi, double *out) {
    if (vt__parse_number(s, lo, hi, out) == 0) {
        return 0;
    }
    double v;
    if (vt__parse_duration(s, &v) == 0 && v >= lo && v <= hi) {
        *out = v;
        return 0;
    }
    return VT_EINVAL;
}

static int parse_sort(const char *s, vt__top_sort_t *out) {
    static const struct {
        const char *name;
        vt__top_sort_t sort;
    } names[] = {{"rate", VT__SORT_RATE},    {"errors", VT__SORT_ERRORS}, {"ratio", VT__SORT_RATIO},
                 {"error%", VT__SORT_RATIO}, {"p50", VT__SORT_P50},       {"p90", VT__SORT_P90},
                 {"p99", VT__SORT_P99},      {"name", VT__SORT_NAME},     {"route", VT__SORT_NAME}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].sort;
            return 0;
        }
    }
    return VT_EINVAL;
}

/* 0 to go on, -1 after --help, or the exit status of a usage error. */
static int parse_args(int argc, char **argv, vt__top_opts_t *o, int *out_first) {
    enum {
        O_ONCE = 256,
        O_JSON,
        O_PLAIN,
        O_REVERSE,
        O_FILTER,
        O_ERR,
        O_LAT,
        O_ASCII,
        O_FORMAT,
        O_TIMEOUT,
        O_BENCH
    };
    static const struct option longopts[] = {{"interval", required_argument, NULL, 'i'},
                                             {"once", no_argument, NULL, O_ONCE},
                                             {"count", required_argument, NULL, 'n'},
                                             {"json", no_argument, NULL, O_JSON},
                                             {"plain", no_argument, NULL, O_PLAIN},
                                             {"sort", required_argument, NULL, 's'},
                                             {"reverse", no_argument, NULL, O_REVERSE},
                                             {"filter", required_argument, NULL, O_FILTER},
                                             {"error-threshold", required_argument, NULL, O_ERR},
                                             {"latency-objective", required_argument, NULL, O_LAT},
                                             {"ascii", no_argument, NULL, O_ASCII},
                                             {"format", required_argument, NULL, O_FORMAT},
                                             {"timeout", required_argument, NULL, O_TIMEOUT},
                                             {"bench", required_argument, NULL, O_BENCH},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->interval = 2;
    o->timeout = NAN;
    o->error_threshold = 0.05;
    o->latency_objective = 0.5;
    o->forced_format = VT__FORMAT_AUTO;
    o->sort = VT__SORT_RATE;
    optind = 1;
    int c, once = 0;
    double v;
    while ((c = getopt_long(argc, argv, "i:n:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (parse_seconds(optarg, 0.05, 86400, &o->interval)) {
                vt__errorf("top: --interval needs seconds (0.05 to 86400), not \"%s\"", optarg);
                return VT_EXIT_USAGE;
            }
            break;
        case O_ONCE:
            once = 1;
            break;
        case 'n':
            if (vt__parse_number(optarg, 1, 1e9, &v) || v != floor(v)) {
                vt__errorf("top: --count needs a whole number of intervals, not \"%s\"", optarg);
                return VT_EXIT_USAGE;
            }
            o->count = (long)v;
            break;
        case O_JSON:
            o->json = 1;
            break;
        case O_PLAIN:
            o->plain = 1;
            break;
        case 's':
            if (parse_sort(optarg, &o->sort)) {
                vt__errorf("top: --sort takes rate, errors, ratio, p50, p90, p99 or name, not "
                           "\"%s\"",
                           optarg);
                return VT_EXIT_USAGE;
            }
            break;
        case O_REVERSE:
            o->sort_reverse = 1;
            break;
        case O_FILTER:
            o->filter = optarg;
            break;
        case O_ERR:
            if (vt__parse_number(optarg, 0, 1, &o->error_threshold)) {
                vt__errorf("top: --error-threshold needs a ratio from 0 to 1, not \"%s\"", optarg);
                return VT_EXIT_USAGE;
            }
            break;
        case O_LAT:
            if (parse_seconds(optarg, 0, 1e9, &o->latency_objective)) {
                vt__errorf("top: --latency-objective needs seconds, not \"%s\"", optarg);
                return VT_EXIT_USAGE;
            }
            break;
        case O_ASCII:
            o->ascii = 1;
            break;
        case O_FORMAT:
            if (vt__parse_format_name(optarg, &o->forced_format)) {
                vt__errorf("top: --format must be text or openmetrics, not \"%s\"", optarg);
                return VT_EXIT_USAGE;
            }
            break;
        case O_TIMEOUT:
            if (parse_seconds(optarg, 0.001, 86400, &o->timeout)) {
                vt__errorf("top: --timeout needs seconds, not \"%s\"", optarg);
                return VT_EXIT_USAGE;
            }
            break;
        case O_BENCH:
            if (vt__parse_number(optarg, 1, 1e6, &v) || v != floor(v)) {
                vt__errorf("top: --bench needs a number of refreshes, not \"%s\"", optarg);
                return VT_EXIT_USAGE;
            }
            o->bench = (long)v;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return VT_EXIT_USAGE;
        }
    }
    if (once) {
        if (o->count && o->count != 1) {
            vt__errorf("top: --once and --count=%ld disagree", o->count);
            return VT_EXIT_USAGE;
        }
        o->count = 1;
        o->plain = 1;
    }
    if (optind >= argc) {
        vt__errorf("top: no endpoint given (a URL such as http://127.0.0.1:8080/metrics)");
        usage(stderr);
        return VT_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0) {
            vt__errorf("top: standard input cannot be scraped twice; give a URL");
            return VT_EXIT_USAGE;
        }
    }
    if (isnan(o->timeout)) {
        o->timeout = o->interval < 1 ? 1 : o->interval > 10 ? 10 : o->interval;
    }
    *out_first = optind;
    return 0;
}

/* ---- time ------------------------------------------------------------------------------------ */

static double now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_unix(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec mono_ts(double t) {
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- the scraping threads ---------------------------------------------------------------------
 */

typedef struct result {
    size_t endpoint;
    vt_doc_t *doc; /* NULL when the scrape failed */
    vt_format_t format;
    char status[VT__TOP_STATUS_SIZE];
    double mono, unix_time; /* when the scrape was taken */
    struct result *next;
} result_t;

typedef struct top top_t;

typedef struct scraper {
    top_t *top;
    size_t index;
    const char *url;
    pthread_t thread;
    int started;
    int done; /* set under top->lock when the thread ends */
} scraper_t;

struct top {
    vt__top_opts_t opts;
    vt__top_endpoint_t *eps;
    scraper_t *scrapers;
    size_t n;
    double start; /* monotonic time of tick 0 */

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;  /* stop was set */
    int stop;
    result_t *head, *tail;

    int pipe_fd[2]; /* a byte: results or a signal wait */
};

static volatile sig_atomic_t got_signal;
static int signal_pipe = -1;

static void on_signal(int sig) {
    got_signal = sig;
    if (signal_pipe >= 0) {
        int saved = errno;
        ssize_t w = write(signal_pipe, "s", 1);
        (void)w;
        errno = saved;
    }
}

static void post(top_t *t, result_t *r) {
    pthread_mutex_lock(&t->lock);
    if (t->tail) {
        t->tail->next = r;
    } else {
        t->head = r;
    }
    t->tail = r;
    pthread_mutex_unlock(&t->lock);
    ssize_t w = write(t->pipe_fd[1], "r", 1); /* a full pipe already wakes the reader */
    (void)w;
}

static void *scrape_main(void *arg) {
    scraper_t *s = arg;
    top_t *t = s->top;
    const vt__top_opts_t *o = &t->opts;
    long scrapes = 0;
    for (double k = 0;; k++) {
        if (o->count && scrapes > o->count) {
            break;
        }
        /* Wait for tick k, or stop. */
        struct timespec at = mono_ts(t->start + k * o->interval);
        pthread_mutex_lock(&t->lock);
        while (!t->stop && pthread_cond_timedwait(&t->wake, &t->lock, &at) != ETIMEDOUT) {
        }
        int stop = t->stop;
        pthread_mutex_unlock(&t->lock);
        if (stop) {
            break;
        }
        result_t *r = calloc(1, sizeof *r);
        if (!r) {
            break;
        }
        r->endpoint = s->index;
        double before = now_mono();
        vt__top_scrape(s->url, o->forced_format, o->timeout, &r->doc, &r->format, r->status,
                       sizeof r->status);
        double after = now_mono();
        r->mono = (before + after) / 2;
        r->unix_time = now_unix();
        post(t, r);
        scrapes++;
        /* Ticks that passed during a slow scrape are skipped. */
        double next = ceil((after - t->start) / o->interval);
        if (next > k + 1) {
            k = next - 1;
        }
    }
    pthread_mutex_lock(&t->lock);
    s->done = 1;
    pthread_mutex_unlock(&t->lock);
    ssize_t w = write(t->pipe_fd[1], "d", 1);
    (void)w;
    return NULL;
}

static int start_scrapers(top_t *t) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGQUIT);
    sigaddset(&block, SIGWINCH);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = 0;
    for (size_t i = 0; i < t->n; i++) {
        scraper_t *s = &t->scrapers[i];
        s->top = t;
        s->index = i;
        s->url = t->eps[i].url;
        if (pthread_create(&s->thread, NULL, scrape_main, s) != 0) {
            rc = VT_ENOMEM;
            break;
        }
        s->started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static void stop_scrapers(top_t *t) {
    pthread_mutex_lock(&t->lock);
    t->stop = 1;
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    /* A thread in the middle of a scrape ends when it returns (within the
     * timeout); the command does not wait that long to give the terminal
     * back: threads still busy after a moment are left to the exit. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 300 * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    for (size_t i = 0; i < t->n; i++) {
        scraper_t *s = &t->scrapers[i];
        if (s->started && pthread_timedjoin_np(s->thread, NULL, &deadline) == 0) {
            s->started = 0;
        }
    }
}

static result_t *take_results(top_t *t) {
    pthread_mutex_lock(&t->lock);
    result_t *r = t->head;
    t->head = t->tail = NULL;
    pthread_mutex_unlock(&t->lock);
    return r;
}

static int all_done(top_t *t) {
    pthread_mutex_lock(&t->lock);
    int done = t->head == NULL;
    for (size_t i = 0; done && i < t->n; i++) {
        done = t->scrapers[i].done;
    }
    pthread_mutex_unlock(&t->lock);
    return done;
}

/* ---- applying results
 * ----------------------------------------------------------------------------- */

static void apply(vt__top_endpoint_t *e, result_t *r) {
    e->results++;
    e->time = r->unix_time;
    int was_up = e->up, had = e->scraped;
    e->scraped = 1;
    if (r->doc) {
        int rc = vt__top_state_update(&e->state, r->doc, r->mono);
        e->up = 1;
        e->format = r->format;
        vt__top_copy(e->status, sizeof e->status, rc ? "ok (out of memory: figures lost)" : "ok");
        if (!was_up || !had) {
            e->status_since = r->unix_time;
        }
    } else {
        if (was_up || !had || strcmp(e->status, r->status) != 0) {
            e->status_since = r->unix_time;
        }
        e->up = 0;
        vt__top_copy(e->status, sizeof e->status, r->status);
    }
}

static void free_result(result_t *r) {
    vt_doc_free(r->doc);
    free(r);
}

/* ---- the main loop
 * ---------------------------------------------------------------------------------- */

static void drain(int fd) {
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static int run(top_t *t, vt__top_tui_t *tui) {
    const vt__top_opts_t *o = &t->opts;
    unsigned long target = o->count ? (unsigned long)o->count + 1 : 0;
    int quit = 0;
    if (tui) {
        vt__top_tui_draw(tui, t->eps, t->n);
    }
    while (!quit && !got_signal) {
        struct pollfd p[2] = {{t->pipe_fd[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int ready = poll(p, tui ? 2 : 1, 1000);
        int redraw = 0;
        if (tui && (ready < 0 || (ready > 0 && (p[1].revents & POLLIN)))) {
            quit = vt__top_tui_keys(tui); /* keys, or a resize (poll was interrupted) */
            redraw = 1;
        }
        if (ready > 0 && (p[0].revents & POLLIN)) {
            drain(t->pipe_fd[0]);
        }
        for (result_t *r = take_results(t), *next; r; r = next) {
            next = r->next;
            vt__top_endpoint_t *e = &t->eps[r->endpoint];
            if (tui && vt__top_tui_paused(tui)) {
                free_result(r);
                continue;
            }
            apply(e, r);
            free_result(r);
            redraw = 1;
            if (!tui && e->results >= 2) {
                if (o->json) {
                    vt__top_print_json(stdout, e, o);
                } else {
                    vt__top_print_plain(stdout, e, o);
                }
            }
        }
        if (tui && redraw) {
            vt__top_tui_draw(tui, t->eps, t->n);
        }
        if (target && all_done(t)) {
            break; /* every thread made its scrapes, and all results are out */
        }
    }
    int status = VT_EXIT_OK;
    if (target) {
        for (size_t i = 0; i < t->n; i++) {
            if (!t->eps[i].up) {
                status = VT_EXIT_INVALID;
            }
        }
    }
    return status;
}

static void install_signals(int fd) {
    signal_pipe = fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void top_free(top_t *t) {
    for (result_t *r = take_results(t), *next; r; r = next) {
        next = r->next;
        free_result(r);
    }
    for (size_t i = 0; i < t->n; i++) {
        /* A thread still scraping reads its URL: leave that endpoint be. */
        if (!t->scrapers[i].started) {
            vt__top_state_free(&t->eps[i].state);
            free(t->eps[i].url);
        }
    }
}

int vt__cmd_top(int argc, char **argv) {
    top_t *t = calloc(1, sizeof *t);
    if (!t) {
        vt__errorf("top: out of memory");
        return VT_EXIT_USAGE;
    }
    int first;
    int rc = parse_args(argc, argv, &t->opts, &first);
    if (rc) {
        free(t);
        return rc < 0 ? VT_EXIT_OK : rc;
    }
    vt__top_opts_t *o = &t->opts;
    long count = o->count;
    setlocale(LC_CTYPE, ""); /* wide characters for the view; numbers stay in the C locale */

    t->n = (size_t)(argc - first);
    t->eps = calloc(t->n, sizeof *t->eps);
    t->scrapers = calloc(t->n, sizeof *t->scrapers);
    if (!t->eps || !t->scrapers) {
        vt__errorf("top: out of memory");
        return VT_EXIT_USAGE;
    }
    for (size_t i = 0; i < t->n; i++) {
        t->eps[i].url = vt__top_url(argv[first + (int)i]);
        if (!t->eps[i].url) {
            vt__errorf("top: out of memory");
            return VT_EXIT_USAGE;
        }
        vt__top_state_init(&t->eps[i].state);
        snprintf(t->eps[i].status, sizeof t->eps[i].status, "waiting");
    }
    /* libcurl's process-wide setup happens in the first fetch: make it here,
     * before any thread, with a URL that fails before any I/O. */
    vt__input_t none;
    if (vt__input_read("http://", VT__FORMAT_AUTO, 1, &none, NULL, 0) == 0) {
        vt__input_free(&none);
    }

    if (o->bench) {
        rc = vt__top_bench(o, t->eps, t->n);
        top_free(t);
        free(t->eps);
        free(t->scrapers);
        free(t);
        return rc;
    }

    int use_tui = !o->plain && !o->json && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
    if (pipe2(t->pipe_fd, O_CLOEXEC | O_NONBLOCK) != 0 || pthread_mutex_init(&t->lock, NULL) != 0) {
        vt__errorf("top: cannot create a pipe or a lock");
        return VT_EXIT_USAGE;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &ca);
    pthread_condattr_destroy(&ca);
    install_signals(t->pipe_fd[1]);

    vt__top_tui_t *tui = NULL;
    if (use_tui && vt__top_tui_start(o, NULL, NULL, NULL, &tui) != 0) {
        vt__errorf("top: this terminal cannot show the full-screen view (TERM=%s); "
                   "printing tables",
                   getenv("TERM") ? getenv("TERM") : "");
        tui = NULL;
    }
    t->start = now_mono();
    int status;
    if (start_scrapers(t) != 0) {
        vt__errorf("top: cannot start a thread");
        status = VT_EXIT_USAGE;
    } else {
        status = run(t, tui);
    }
    vt__top_tui_stop(tui);
    stop_scrapers(t);
    signal_pipe = -1;
    top_free(t);
    int any_busy = 0;
    for (size_t i = 0; i < t->n; i++) {
        any_busy |= t->scrapers[i].started;
    }
    if (!any_busy) {
        close(t->pipe_fd[0]);
        close(t->pipe_fd[1]);
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t->eps);
        free(t->scrapers);
        free(t);
    }
    if (got_signal && !count) {
        return VT_EXIT_OK;
    }
    return status;
}
