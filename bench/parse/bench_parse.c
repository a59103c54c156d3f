/* bench_parse.c - parser throughput on a 10,000-series exposition, beside promtool check metrics.
 *
 * Writes a deterministic text 0.0.4 exposition of N series (default
 * 10,000: counters, gauges and histograms with three labels each, every
 * family with HELP and TYPE, so it lints clean), then measures:
 *   - vt_parse() in this process, lenient and strict (syntax plus
 *     validation), best and median of R runs, in MB/s;
 *   - whole processes on the same file: `vitals lint FILE` and
 *     `promtool check metrics < FILE`, median wall time of P runs (process
 *     start, reading, parsing, linting and exit, as a user sees it).
 * Prints a Markdown table (or JSON with --json). promtool is optional.
 *
 * Usage: vitals-bench-parse [--series N] [--runs R] [--process-runs P]
 *                           [--keep FILE] [--json] [--quick]
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "parse/parse.h"

typedef struct buf {
    char *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf_t *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + 4096;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
}

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
static const char *const codes[] = {"200", "201", "404", "500", "503"};
static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

/* Label set k of a family: method, route template and code, all distinct. */
static void labels(char *out, size_t n, size_t k) {
    snprintf(out, n, "method=\"%s\",route=\"/api/v1/resource%zu/:id\",code=\"%s\"", methods[k % 4],
             (k / 20) % 100, codes[(k / 4) % 5]);
}

/* About a tenth of the series in each of counters and gauges, the rest in
 * histogram samples (one series per bucket, _sum and _count). */
static void make_exposition(buf_t *b, size_t series) {
    size_t per_family = 100;
    size_t counters = series * 3 / 10, gauges = series * 3 / 10;
    size_t per_hist = NBOUNDS + 3;
    size_t hist_samples = series - counters - gauges;
    counters += hist_samples % per_hist; /* so that the total is exactly series */
    hist_samples -= hist_samples % per_hist;
    char l[160];
    for (size_t f = 0; f * per_family < counters; f++) {
        put(b, "# HELP bench_requests_%zu_total Requests handled by part %zu.\n", f, f);
        put(b, "# TYPE bench_requests_%zu_total counter\n", f);
        for (size_t k = 0; k < per_family && f * per_family + k < counters; k++) {
            labels(l, sizeof l, k);
            put(b, "bench_requests_%zu_total{%s} %zu\n", f, l, k * 7919 % 100000);
        }
    }
    for (size_t f = 0; f * per_family < gauges; f++) {
        put(b, "# HELP bench_queue_%zu_bytes Bytes waiting in queue %zu.\n", f, f);
        put(b, "# TYPE bench_queue_%zu_bytes gauge\n", f);
        for (size_t k = 0; k < per_family && f * per_family + k < gauges; k++) {
            labels(l, sizeof l, k);
            put(b, "bench_queue_%zu_bytes{%s} %.3f\n", f, l, (double)(k * 131 % 1000) / 7.0);
        }
    }
    size_t hist_series = hist_samples / per_hist;
    for (size_t f = 0; f * 25 < hist_series; f++) {
        put(b, "# HELP bench_duration_%zu_seconds Time to answer, part %zu.\n", f, f);
        put(b, "# TYPE bench_duration_%zu_seconds histogram\n", f);
        for (size_t k = 0; k < 25 && f * 25 + k < hist_series; k++) {
            labels(l, sizeof l, k);
            size_t cum = 0;
            for (size_t i = 0; i < NBOUNDS; i++) {
                cum += (k + i) % 9;
                put(b, "bench_duration_%zu_seconds_bucket{%s,le=\"%g\"} %zu\n", f, l, bounds[i],
                    cum);
            }
            put(b, "bench_duration_%zu_seconds_bucket{%s,le=\"+Inf\"} %zu\n", f, l, cum);
            put(b, "bench_duration_%zu_seconds_sum{%s} %.4f\n", f, l, (double)cum * 0.0371);
            put(b, "bench_duration_%zu_seconds_count{%s} %zu\n", f, l, cum);
        }
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Seconds of one in-process parse; -1 when the parse fails. */
static double time_parse(const buf_t *b, vt_parse_mode_t mode, size_t *out_samples) {
    vt_parse_opts_t o = {VT_FORMAT_TEXT, mode};
    vt_doc_t *doc;
    vt_parse_error_t err;
    double t0 = now_s();
    int rc = vt_parse(b->p, b->len, &o, &doc, &err);
    double t = now_s() - t0;
    if (rc) {
        fprintf(stderr, "parse failed: %s\n", err.message);
        return -1;
    }
    *out_samples = doc->sample_count;
    vt_doc_free(doc);
    return t;
}

/* Wall seconds of one process run with stdin from in (NULL: /dev/null) and
 * its output discarded; -1 when it cannot run. *out_status gets its exit
 * status, *out_cpu its user plus system CPU seconds. */
static double time_process(char *const argv[], const char *in, int *out_status, double *out_cpu) {
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(in ? in : "/dev/null", O_RDONLY);
        int null = open("/dev/null", O_WRONLY);
        if (fd < 0 || null < 0) {
            _exit(126);
        }
        dup2(fd, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid < 0) {
        return -1;
    }
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {
    }
    double t = now_s() - t0;
    *out_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    *out_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    return *out_status == 127 || *out_status == 126 ? -1 : t;
}

/* Median wall seconds of runs; *out_cpu gets the median CPU seconds. */
static double process_median(char *const argv[], const char *in, int runs, int *out_status,
                             double *out_cpu) {
    double *t = calloc((size_t)runs, sizeof *t), *c = calloc((size_t)runs, sizeof *c);
    double m = -1;
    if (t && c) {
        int i;
        for (i = 0; i < runs; i++) {
            t[i] = time_process(argv, in, out_status, &c[i]);
            if (t[i] < 0) {
                break;
            }
        }
        if (i == runs) {
            m = median(t, (size_t)runs);
            *out_cpu = median(c, (size_t)runs);
        }
    }
    free(t);
    free(c);
    return m;
}

int main(int argc, char **argv) {
    size_t series = 10000;
    int runs = 30, process_runs = 11, json = 0;
    const char *keep = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--series") == 0 && i + 1 < argc) {
            series = (size_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--process-runs") == 0 && i + 1 < argc) {
            process_runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
            keep = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--quick") == 0) {
            series = 1000;
            runs = 3;
            process_runs = 1;
        } else {
            fprintf(stderr,
                    "usage: %s [--series N] [--runs R] [--process-runs P] [--keep FILE] [--json] "
                    "[--quick]\n",
                    argv[0]);
            return 2;
        }
    }
    if (series < 100 || runs < 1 || process_runs < 1) {
        fprintf(stderr, "bench_parse: --series at least 100, runs at least 1\n");
        return 2;
    }
    buf_t b = {0};
    make_exposition(&b, series);
    char path[256];
    if (keep) {
        snprintf(path, sizeof path, "%s", keep);
    } else {
        snprintf(path, sizeof path, "/tmp/vitals-bench-parse-%ld.prom", (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0) {
        fprintf(stderr, "bench_parse: cannot write %s\n", path);
        return 1;
    }

    double mb = (double)b.len / 1e6;
    double *lenient = calloc((size_t)runs, sizeof(double));
    double *strict = calloc((size_t)runs, sizeof(double));
    size_t samples = 0;
    if (!lenient || !strict) {
        return 1;
    }
    for (int i = 0; i < runs; i++) {
        lenient[i] = time_parse(&b, VT_PARSE_LENIENT, &samples);
        strict[i] = time_parse(&b, VT_PARSE_STRICT, &samples);
        if (lenient[i] < 0 || strict[i] < 0) {
            return 1;
        }
    }
    double len_med = median(lenient, (size_t)runs), len_best = lenient[0];
    double str_med = median(strict, (size_t)runs), str_best = strict[0];

    int lint_status = -1, promtool_status = -1;
    double lint_cpu = 0, prom_cpu = 0;
    char *lint_argv[] = {VT_CLI_PATH, "lint", path, NULL};
    double lint_t = process_median(lint_argv, NULL, process_runs, &lint_status, &lint_cpu);
    char *prom_argv[] = {"promtool", "check", "metrics", NULL};
    double prom_t = process_median(prom_argv, path, process_runs, &promtool_status, &prom_cpu);

    if (json) {
        printf("{\"series\": %zu, \"samples\": %zu, \"bytes\": %zu, \"runs\": %d, "
               "\"lenient_mb_s_median\": %.1f, \"lenient_mb_s_best\": %.1f, "
               "\"strict_mb_s_median\": %.1f, \"strict_mb_s_best\": %.1f, "
               "\"vitals_lint_ms\": %.2f, \"vitals_lint_cpu_ms\": %.2f, "
               "\"vitals_lint_status\": %d, \"promtool_ms\": %.2f, \"promtool_cpu_ms\": %.2f, "
               "\"promtool_status\": %d}\n",
               series, samples, b.len, runs, mb / len_med, mb / len_best, mb / str_med,
               mb / str_best, lint_t * 1e3, lint_cpu * 1e3, lint_status, prom_t * 1e3,
               prom_cpu * 1e3, promtool_status);
    } else {
        printf("Exposition: %zu series (%zu samples), %.2f MB of text 0.0.4\n\n", series, samples,
               mb);
        printf("| what | time | throughput | CPU time |\n|---|---|---|---|\n");
        printf("| vt_parse lenient (in process, median of %d; best) | %.2f ms (%.2f) | %.0f MB/s "
               "(%.0f) | |\n",
               runs, len_med * 1e3, len_best * 1e3, mb / len_med, mb / len_best);
        printf("| vt_parse strict = syntax + validation (median of %d; best) | %.2f ms (%.2f) | "
               "%.0f MB/s (%.0f) | |\n",
               runs, str_med * 1e3, str_best * 1e3, mb / str_med, mb / str_best);
        printf("| `vitals lint FILE` (whole process, median of %d; exit %d) | %.1f ms | %.0f MB/s "
               "| %.1f ms |\n",
               process_runs, lint_status, lint_t * 1e3, mb / lint_t, lint_cpu * 1e3);
        if (prom_t > 0) {
            printf("| `promtool check metrics < FILE` (whole process, median of %d; exit %d) | "
                   "%.1f ms | %.0f MB/s | %.1f ms |\n",
                   process_runs, promtool_status, prom_t * 1e3, mb / prom_t, prom_cpu * 1e3);
        } else {
            printf("| `promtool check metrics` | not installed | | |\n");
        }
    }
    if (!keep) {
        remove(path);
    }
    free(lenient);
    free(strict);
    free(b.p);
    return lint_status == 0 ? 0 : 1;
}
