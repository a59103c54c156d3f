/* memory.c - the memory workload: create 100,000 counter series with three
 * labels in a fresh process, increment each once, and report the growth of
 * the resident set per series and the time the creation took.
 *
 * Series i has method methods[i % 4], code codes[(i / 4) % 5] (constants, as
 * a service's would be) and path "/u/<i / 20>", formatted for each series the
 * way a service formats a value from a request: into a stack buffer here,
 * since vitals copies label values. The handle array is allocated and touched
 * before the baseline, and one series is incremented first so the thread's
 * shard exists; the resident set is then read from /proc/self/statm before
 * and after. The timed part is the creation loop (formatting included).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"

#define SERIES 100000ul
#define QUICK_SERIES 2000ul

static long resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    long size, resident;
    int ok = fscanf(f, "%ld %ld", &size, &resident) == 2;
    fclose(f);
    return ok ? resident * sysconf(_SC_PAGESIZE) : -1;
}

int compare_memory(int quick) {
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    static const char *const codes[] = {"200", "201", "400", "404", "500"};
    unsigned long n = quick ? QUICK_SERIES : SERIES;
    vt_counter_series_t **series = malloc(n * sizeof *series);
    if (!series)
        return compare_fail("malloc", VT_ENOMEM);
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
    int rc;
    if ((rc = vt_registry_create(&reg)) != 0 || (rc = vt_counter_create_opts(reg, &o, &c)) != 0 ||
        (rc = vt_counter_create(reg, "bench_warm_total", NULL, NULL, &warm)) != 0 ||
        (rc = vt_counter_with(warm, NULL, &w)) != 0)
        return compare_fail("registry", rc);
    vt_counter_inc(w);

    long rss0 = resident_bytes();
    uint64_t t0 = compare_cpu_ns();
    for (unsigned long i = 0; i < n; i++) {
        char path[24];
        snprintf(path, sizeof path, "/u/%lu", i / 20);
        const char *v[4] = {methods[i % 4], path, codes[(i / 4) % 5], NULL};
        if ((rc = vt_counter_with(c, v, &series[i])) != 0)
            return compare_fail("vt_counter_with", rc);
    }
    uint64_t ns = compare_cpu_ns() - t0;
    for (unsigned long i = 0; i < n; i++)
        vt_counter_inc(series[i]);
    long rss1 = resident_bytes();
    if (rss0 < 0 || rss1 < 0)
        return compare_fail("/proc/self/statm", VT_EIO);
    if (vt_family_series_count(vt_counter_family(c)) != n)
        return compare_fail("series count", VT_EINVAL);
    compare_row("memory_per_series", "bytes", (double)(rss1 - rss0) / (double)n);
    compare_row("create_series", "ms/100k", (double)ns / 1e6 * (double)SERIES / (double)n);
    vt_registry_destroy(reg);
    free(series);
    return 0;
}
