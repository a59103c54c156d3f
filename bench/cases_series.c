/* cases_series.c - the cost of creating series: time to bind n new counter
 * series with three short label values, and resident memory per series.
 *
 * Each repeat runs in a new process (fork, then exec of this same program
 * with --series-child), so the heap it measures holds nothing from earlier
 * cases. The child prepares every label value and the handle array first and
 * touches them, takes the resident set size from /proc/self/statm, binds the
 * n series (timed), increments each once so its cells exist, and reads the
 * resident set size again. The delta over n is the cost of one series: its
 * struct and rendered labels, hash table and directory entries, slot kinds,
 * and its two cells in the one thread's shard.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "vitals.h"

#define SERIES_PER_REPORT 100000.0 /* create_series is reported per this many */

static long resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    long size, resident;
    int ok = fscanf(f, "%ld %ld", &size, &resident) == 2;
    fclose(f);
    return ok ? resident * sysconf(_SC_PAGESIZE) : -1;
}

int bench_series_child(unsigned long n) {
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    static const char *const codes[] = {"200", "201", "400", "404", "500"};
    unsigned long npaths = n / 20 + 1;
    char(*paths)[24] = calloc(npaths, sizeof *paths);
    const char *(*vals)[4] = calloc(n, sizeof *vals);
    vt_counter_series_t **series = calloc(n, sizeof *series);
    if (!paths || !vals || !series || n == 0)
        return 1;
    for (unsigned long p = 0; p < npaths; p++)
        snprintf(paths[p], sizeof paths[p], "/u/%lu", p);
    for (unsigned long i = 0; i < n; i++) {
        vals[i][0] = methods[i % 4];
        vals[i][1] = paths[i / 20];
        vals[i][2] = codes[(i / 4) % 5];
        vals[i][3] = NULL;
    }
    memset(series, 0, n * sizeof *series);

    vt_registry_t *reg;
    vt_counter_t *c, *warm;
    vt_counter_series_t *w;
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "bench_created_total";
    o.help = "Series created by the benchmark.";
    o.label_names = VT_LABELS("method", "path", "code");
    o.max_series = n + 1;
    if (vt_registry_create(&reg) || vt_counter_create_opts(reg, &o, &c) ||
        vt_counter_create(reg, "bench_warm_total", NULL, NULL, &warm) ||
        vt_counter_with(warm, NULL, &w))
        return 1;
    vt_counter_inc(w); /* this thread's shard exists before the baseline */

    long rss0 = resident_bytes();
    uint64_t t0 = bench_now_ns();
    for (unsigned long i = 0; i < n; i++)
        if (vt_counter_with(c, vals[i], &series[i]) != 0)
            return 1;
    uint64_t ns = bench_now_ns() - t0;
    for (unsigned long i = 0; i < n; i++)
        vt_counter_inc(series[i]);
    long rss1 = resident_bytes();
    if (rss0 < 0 || rss1 < 0 || vt_family_series_count(vt_counter_family(c)) != n)
        return 1;
    printf("%.6f %.3f\n", (double)ns / 1e6, (double)(rss1 - rss0) / (double)n);
    vt_registry_destroy(reg);
    free(series);
    free(vals);
    free(paths);
    return 0;
}

static uint64_t run_series(uint64_t iters, double *out) {
    int fd[2];
    if (pipe(fd) != 0)
        return 0;
    char count[32];
    snprintf(count, sizeof count, "%llu", (unsigned long long)iters);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return 0;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execl("/proc/self/exe", "vitals-bench", "--series-child", count, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char text[128];
    size_t len = 0;
    ssize_t got;
    while (len + 1 < sizeof text && (got = read(fd[0], text + len, sizeof text - 1 - len)) > 0)
        len += (size_t)got;
    text[len] = '\0';
    close(fd[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "vitals-bench: the create_series child failed\n");
        return 0;
    }
    double ms, bytes;
    if (sscanf(text, "%lf %lf", &ms, &bytes) != 2)
        return 0;
    out[0] = ms * SERIES_PER_REPORT / (double)iters;
    out[1] = bytes;
    return (uint64_t)(ms * 1e6);
}

static const bench_case_t cases[] = {
    {.rows = {{"create_series", "ms/100k", 0, BENCH_AT_MOST, 50},
              {"memory_per_series", "bytes", 0, BENCH_AT_MOST, 160}},
     .nrows = 2,
     .quick_iters = 20000,
     .fixed_iters = 100000,
     .offcpu = 1,
     .run = run_series},
};

size_t bench_series_cases(const bench_case_t **out_cases) {
    *out_cases = cases;
    return sizeof cases / sizeof cases[0];
}
