/* top_bench.c - `vitals top --bench N`: the CPU one refresh of the view costs.
 *
 * A refresh is what the live view does each interval: scrape every endpoint
 * (fetch and parse), update its figures, and draw the full-screen view,
 * here into an off-screen terminal (/dev/null, $LINES x $COLUMNS, default
 * 50 x 200) so that ncurses does all its work. Refreshes run back to back;
 * the first one only records a baseline and is left out of the figures.
 * CPU per refresh is getrusage(RUSAGE_SELF) user + system (one thread runs);
 * the split between phases comes from the thread CPU clock.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "cli/top.h"

static double rusage_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-quantile of n sorted values (nearest rank). */
static double pick(const double *v, size_t n, double p) {
    size_t i = (size_t)ceil(p * (double)n);
    return v[i ? i - 1 : 0];
}

int vt__top_bench(const vt__top_opts_t *o, vt__top_endpoint_t *eps, size_t n) {
    size_t runs = (size_t)o->bench + 1;
    double *cpu = calloc(runs, sizeof *cpu), *wall = calloc(runs, sizeof *wall);
    double *scrape = calloc(runs, sizeof *scrape), *calc = calloc(runs, sizeof *calc);
    double *draw = calloc(runs, sizeof *draw);
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    if (!cpu || !wall || !scrape || !calc || !draw || !out || !in) {
        vt__errorf("top: --bench: out of memory or no /dev/null");
        return VT_EXIT_USAGE;
    }
    setenv("LINES", "50", 0);
    setenv("COLUMNS", "200", 0);
    const char *term = getenv("TERM");
    vt__top_tui_t *tui = NULL;
    if (vt__top_tui_start(o, out, in, term && *term && strcmp(term, "dumb") ? term : "xterm",
                          &tui) != 0) {
        vt__errorf("top: --bench: no terminal description for TERM=%s", term ? term : "");
        return VT_EXIT_USAGE;
    }
    size_t series = 0, lines = 0, families = 0;
    int status = VT_EXIT_OK;
    for (size_t i = 0; i < runs; i++) {
        double c0 = rusage_cpu(), w0 = clock_s(CLOCK_MONOTONIC);
        double ts = 0, tc = 0;
        series = 0;
        for (size_t k = 0; k < n; k++) {
            vt__top_endpoint_t *e = &eps[k];
            vt_doc_t *doc = NULL;
            double a = clock_s(CLOCK_THREAD_CPUTIME_ID);
            int rc = vt__top_scrape(e->url, o->forced_format, o->timeout, &doc, &e->format,
                                    e->status, sizeof e->status);
            double b = clock_s(CLOCK_THREAD_CPUTIME_ID);
            e->scraped = 1;
            e->up = rc == 0;
            e->results++;
            if (rc == 0) {
                series += doc->sample_count;
                vt__top_state_update(&e->state, doc, clock_s(CLOCK_MONOTONIC));
                vt_doc_free(doc);
            } else {
                status = VT_EXIT_INVALID;
            }
            ts += b - a;
            tc += clock_s(CLOCK_THREAD_CPUTIME_ID) - b;
        }
        double d0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        vt__top_tui_draw(tui, eps, n);
        double d1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        cpu[i] = rusage_cpu() - c0;
        wall[i] = clock_s(CLOCK_MONOTONIC) - w0;
        scrape[i] = ts;
        calc[i] = tc;
        draw[i] = d1 - d0;
    }
    vt__top_tui_stop(tui);
    fclose(out);
    fclose(in);
    lines = 0;
    families = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t r = 0; r < eps[k].state.route_count; r++) {
            lines += eps[k].state.routes[r].present ? 1 : 0;
        }
        families += eps[k].state.red.count;
    }
    /* Figures of refreshes 1..N (0 is the baseline). */
    size_t m = runs - 1;
    double *arrays[] = {cpu + 1, wall + 1, scrape + 1, calc + 1, draw + 1};
    double mean = 0;
    for (size_t i = 0; i < m; i++) {
        mean += cpu[1 + i];
    }
    mean /= (double)m;
    for (size_t a = 0; a < 5; a++) {
        qsort(arrays[a], m, sizeof(double), by_double);
    }
    double med = pick(cpu + 1, m, 0.5) * 1e3;
    double share = med / 1e3 / o->interval;
    if (o->json) {
        json_t *j = json_pack(
            "{s:i,s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "refreshes", (json_int_t)m,
            "series", (json_int_t)series, "lines", (json_int_t)lines, "families",
            (json_int_t)families, "cpu_ms_median", med, "cpu_ms_p90", pick(cpu + 1, m, 0.9) * 1e3,
            "cpu_ms_max", cpu[m] * 1e3, "cpu_ms_mean", mean * 1e3, "scrape_ms_median",
            pick(scrape + 1, m, 0.5) * 1e3, "compute_ms_median", pick(calc + 1, m, 0.5) * 1e3,
            "draw_ms_median", pick(draw + 1, m, 0.5) * 1e3, "wall_ms_median",
            pick(wall + 1, m, 0.5) * 1e3, "core_share", share);
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
        if (text) {
            puts(text);
        }
        free(text);
        json_decref(j);
    } else {
        printf("vitals top --bench: %zu refreshes of %zu endpoint%s (%zu samples, %zu lines, "
               "%zu RED famil%s)\n",
               m, n, n == 1 ? "" : "s", series, lines, families, families == 1 ? "y" : "ies");
        printf("CPU per refresh (getrusage user + system): median %.2f ms, p90 %.2f ms, "
               "max %.2f ms, mean %.2f ms\n",
               med, pick(cpu + 1, m, 0.9) * 1e3, cpu[m] * 1e3, mean * 1e3);
        printf("  medians by phase (thread CPU): scrape (fetch + parse) %.2f ms, compute %.2f ms, "
               "draw %.2f ms\n",
               pick(scrape + 1, m, 0.5) * 1e3, pick(calc + 1, m, 0.5) * 1e3,
               pick(draw + 1, m, 0.5) * 1e3);
        printf("  wall per refresh: median %.2f ms\n", pick(wall + 1, m, 0.5) * 1e3);
        printf("At a %g s interval: %.2f%% of one core\n", o->interval, share * 100);
    }
    free(cpu);
    free(wall);
    free(scrape);
    free(calc);
    free(draw);
    return status;
}
