/* vitals-bench.c - the core's speed, measured beside in-run references.
 *
 * Usage: vitals-bench [--repeats N] [--quick] [--json] [--filter SUBSTR]
 *
 * Every case is calibrated (and thereby warmed up) once, then the repeats run
 * round-robin over the selected cases, so a burst of load from elsewhere on
 * the machine lands on every case alike. Each row reports the median, minimum
 * and maximum over the repeats. A row that costs time per operation also
 * reports its ratio to ref_atomic_fetch_add measured in the same run (median
 * over median), which moves much less than absolute numbers when the
 * machine's speed or load changes between runs. Rows with a target from the
 * project's requirements are marked met or missed.
 *
 * Timing uses CLOCK_MONOTONIC, except where several threads run (threads.c
 * explains why those use per-thread CPU time). The last row, run_cpu_share,
 * is the driver thread's CPU time over wall time during the single-thread
 * cases of each repeat: near 1 the machine left this process alone; well
 * below 1 other processes took the processor and the wall-clock rows are
 * inflated by it.
 *
 * --quick uses tiny fixed iteration counts: the numbers mean nothing, the run
 * only proves every case works (the bench-smoke test). The child mode
 * --series-child N is how cases_series.c gets a fresh process.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "vitals.h"

#define MAX_REPEATS 101
#define MAX_CASES 32
#define CALIBRATE_NS 20000000ull /* calibration (and warm-up) runs until this long */
#define TARGET_NS (BENCH_MIN_REPEAT_NS + BENCH_MIN_REPEAT_NS / 5)
#define REF_NAME "ref_atomic_fetch_add"

typedef struct entry {
    const bench_case_t *c;
    uint64_t iters;
    double v[BENCH_MAX_ROWS][MAX_REPEATS];
} entry_t;

typedef struct stats {
    double median, min, max;
} stats_t;

/* The run_cpu_share row: filled by the driver, not by a case. */
static const bench_case_t share_case = {
    .rows = {{"run_cpu_share", "cpu/wall", 0, BENCH_NO_TARGET, 0}}, .nrows = 1};

static entry_t entries[MAX_CASES + 1];
static size_t nentries;
static double ref_per_repeat[MAX_REPEATS]; /* ref_atomic_fetch_add, ns/op */
static int have_ref;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static stats_t stats_of(const double *v, size_t n) {
    double s[MAX_REPEATS];
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, cmp_double);
    stats_t st = {.min = s[0], .max = s[n - 1]};
    st.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    return st;
}

static int case_matches(const bench_case_t *c, const char *filter) {
    for (size_t r = 0; r < c->nrows; r++)
        if (!filter || strstr(c->rows[r].name, filter))
            return 1;
    return 0;
}

static int case_is_hot(const bench_case_t *c) {
    for (size_t r = 0; r < c->nrows; r++)
        if (c->rows[r].hot)
            return 1;
    return 0;
}

static int case_is_ref(const bench_case_t *c) {
    return strcmp(c->rows[0].name, REF_NAME) == 0;
}

/* Selects the cases whose rows match the filter; ref_atomic_fetch_add joins
 * any selection with a per-operation row, for the ratios. */
static void select_cases(const char *filter) {
    size_t (*lists[])(const bench_case_t **) = {bench_ref_cases, bench_hot_cases,
                                                bench_expose_cases, bench_series_cases};
    const bench_case_t *all[MAX_CASES];
    size_t nall = 0;
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        const bench_case_t *cs;
        size_t n = lists[l](&cs);
        for (size_t i = 0; i < n && nall < MAX_CASES; i++)
            all[nall++] = &cs[i];
    }
    int want_ref = 0;
    for (size_t i = 0; i < nall; i++)
        if (case_matches(all[i], filter) && case_is_hot(all[i]))
            want_ref = 1;
    for (size_t i = 0; i < nall; i++)
        if (case_matches(all[i], filter) || (want_ref && case_is_ref(all[i])))
            entries[nentries++] = (entry_t){.c = all[i]};
}

/* Doubles the work until a run lasts CALIBRATE_NS, then scales it to
 * TARGET_NS. Returns 0, or -1 when the case failed. */
static int calibrate(entry_t *e, int quick) {
    double out[BENCH_MAX_ROWS];
    if (quick) {
        e->iters = e->c->quick_iters;
        return e->c->fixed_iters || e->c->run(e->iters, out) ? 0 : -1;
    }
    if (e->c->fixed_iters) {
        e->iters = e->c->fixed_iters;
        return 0;
    }
    uint64_t n = 1;
    for (;;) {
        uint64_t ns = e->c->run(n, out);
        if (!ns)
            return -1;
        if (ns >= CALIBRATE_NS) {
            double scale = (double)TARGET_NS / (double)ns;
            e->iters = (uint64_t)ceil((double)n * (scale > 1 ? scale : 1));
            return 0;
        }
        n = ns < CALIBRATE_NS / 64 ? n * 16 : n * 2;
    }
}

static const char *target_text(const bench_row_t *row, char *buf, size_t size) {
    switch (row->target) {
    case BENCH_RATIO_AT_MOST:
        snprintf(buf, size, "<= %gx fetch_add", row->limit);
        break;
    case BENCH_AT_MOST:
        snprintf(buf, size, "<= %g", row->limit);
        break;
    case BENCH_AT_LEAST:
        snprintf(buf, size, ">= %g", row->limit);
        break;
    default:
        buf[0] = '\0';
    }
    return buf;
}

/* "met", or how far the median is from the limit; "" without a target. */
static const char *verdict(const bench_row_t *row, double median, double ratio, char *buf,
                           size_t size) {
    double got = row->target == BENCH_RATIO_AT_MOST ? ratio : median;
    int met;
    switch (row->target) {
    case BENCH_RATIO_AT_MOST:
    case BENCH_AT_MOST:
        met = got <= row->limit;
        break;
    case BENCH_AT_LEAST:
        met = got >= row->limit;
        break;
    default:
        return "";
    }
    if (isnan(got))
        snprintf(buf, size, "no reference");
    else if (met)
        snprintf(buf, size, "met");
    else
        snprintf(buf, size, "MISSED by %.0f%%", fabs(got / row->limit - 1) * 100);
    return buf;
}

static double ratio_of(const entry_t *e, size_t r, size_t nrep) {
    if (!have_ref || !e->c->rows[r].hot)
        return NAN;
    return stats_of(e->v[r], nrep).median / stats_of(ref_per_repeat, nrep).median;
}

static void json_number(const char *key, double v) {
    printf(", \"%s\": %.6g", key, isfinite(v) ? v : 0.0);
}

static void print_json(size_t nrep) {
    int first = 1;
    printf("[\n");
    for (size_t i = 0; i < nentries; i++)
        for (size_t r = 0; r < entries[i].c->nrows; r++) {
            const bench_row_t *row = &entries[i].c->rows[r];
            stats_t st = stats_of(entries[i].v[r], nrep);
            double ratio = ratio_of(&entries[i], r, nrep);
            printf("%s  {\"name\": \"%s\", \"unit\": \"%s\"", first ? "" : ",\n", row->name,
                   row->unit);
            json_number("median", st.median);
            json_number("min", st.min);
            json_number("max", st.max);
            if (!isnan(ratio))
                json_number("ratio", ratio);
            printf("}");
            first = 0;
        }
    printf("\n]\n");
}

static void print_table(size_t nrep, int quick) {
    printf("vitals-bench %s: %zu repeat%s%s; median, min and max over repeats;\n"
           "ratio = median of the row / median of %s\n\n",
           VT_VERSION_STRING, nrep, nrep == 1 ? "" : "s",
           quick ? " (quick mode: numbers are meaningless)" : "", REF_NAME);
    printf("%-24s %-10s %11s %11s %11s %9s  %-18s %s\n", "name", "unit", "median", "min", "max",
           "ratio", "target", "");
    for (size_t i = 0; i < nentries; i++)
        for (size_t r = 0; r < entries[i].c->nrows; r++) {
            const bench_row_t *row = &entries[i].c->rows[r];
            stats_t st = stats_of(entries[i].v[r], nrep);
            double ratio = ratio_of(&entries[i], r, nrep);
            char rbuf[32] = "", tbuf[48], vbuf[48];
            if (!isnan(ratio))
                snprintf(rbuf, sizeof rbuf, "%.3f", ratio);
            printf("%-24s %-10s %11.4g %11.4g %11.4g %9s  %-18s %s\n", row->name, row->unit,
                   st.median, st.min, st.max, rbuf, target_text(row, tbuf, sizeof tbuf),
                   verdict(row, st.median, ratio, vbuf, sizeof vbuf));
        }
}

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: vitals-bench [--repeats N] [--quick] [--json] [--filter SUBSTR]\n"
            "  --repeats N      repeats per case, 1..%d (default 7)\n"
            "  --quick          tiny iteration counts, to check that every case runs\n"
            "  --json           one JSON array of {name, unit, median, min, max[, ratio]}\n"
            "  --filter SUBSTR  only rows whose name contains SUBSTR (and %s)\n",
            MAX_REPEATS, REF_NAME);
    return code;
}

int main(int argc, char **argv) {
    long repeats = 7;
    int quick = 0, json = 0;
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--series-child") && i + 1 < argc)
            return bench_series_child(strtoul(argv[i + 1], NULL, 10));
        if (!strcmp(a, "--repeats") && i + 1 < argc) {
            char *end;
            repeats = strtol(argv[++i], &end, 10);
            if (*end || repeats < 1 || repeats > MAX_REPEATS)
                return usage(stderr, 2);
        } else if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--filter") && i + 1 < argc) {
            filter = argv[++i];
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            return usage(stdout, 0);
        } else {
            return usage(stderr, 2);
        }
    }
    size_t nrep = (size_t)repeats;

    select_cases(filter);
    if (nentries == 0) {
        fprintf(stderr, "vitals-bench: no row matches \"%s\"\n", filter);
        return 2;
    }
    for (size_t i = 0; i < nentries; i++) {
        const bench_case_t *c = entries[i].c;
        if ((c->setup && c->setup(quick) != 0) || calibrate(&entries[i], quick) != 0) {
            fprintf(stderr, "vitals-bench: %s could not run\n", c->rows[0].name);
            return 1;
        }
    }
    entry_t *share = &entries[nentries];
    int have_share = 0;
    for (size_t k = 0; k < nrep; k++) {
        uint64_t cpu = 0, wall = 0;
        for (size_t i = 0; i < nentries; i++) {
            entry_t *e = &entries[i];
            double out[BENCH_MAX_ROWS];
            uint64_t c0 = bench_cpu_ns(), w0 = bench_now_ns();
            if (!e->c->run(e->iters, out)) {
                fprintf(stderr, "vitals-bench: %s failed\n", e->c->rows[0].name);
                return 1;
            }
            if (!e->c->offcpu) {
                wall += bench_now_ns() - w0;
                cpu += bench_cpu_ns() - c0;
            }
            for (size_t r = 0; r < e->c->nrows; r++)
                e->v[r][k] = out[r];
            if (case_is_ref(e->c)) {
                ref_per_repeat[k] = out[0];
                have_ref = 1;
            }
        }
        if (wall) {
            share->v[0][k] = (double)cpu / (double)wall;
            have_share = 1;
        }
    }
    if (have_share)
        entries[nentries++].c = &share_case;
    if (json)
        print_json(nrep);
    else
        print_table(nrep, quick);
    return 0;
}
