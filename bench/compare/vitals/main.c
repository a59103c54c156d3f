/* main.c - vitals-compare: one workload of the cross-client comparison per
 * process, printed as JSON rows (see compare.h and bench/compare/README.md).
 *
 * Usage: vitals-compare run WORKLOAD [--quick]
 *        vitals-compare serve PORT
 *        vitals-compare list
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

static const struct {
    const char *name;
    int (*run)(int quick);
} workloads[] = {
    {"ref", compare_ref},
    {"counter_inc", compare_counter_inc},
    {"labeled_inc", compare_labeled_inc},
    {"histogram_observe", compare_histogram_observe},
    {"summary_observe", compare_summary_observe},
    {"contended_inc", compare_contended_inc},
    {"expose", compare_expose},
    {"memory", compare_memory},
};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

void compare_row(const char *name, const char *unit, double value) {
    printf("{\"lib\": \"%s\", \"name\": \"%s\", \"unit\": \"%s\", \"value\": %.9g}\n", COMPARE_LIB,
           name, unit, value);
    fflush(stdout);
}

void compare_pending(const char *name, const char *unit, const char *reason) {
    printf("{\"lib\": \"%s\", \"name\": \"%s\", \"unit\": \"%s\", \"value\": null, "
           "\"pending\": \"%s\"}\n",
           COMPARE_LIB, name, unit, reason);
    fflush(stdout);
}

int compare_fail(const char *what, int rc) {
    fprintf(stderr, "vitals-compare: %s: %s\n", what, vt_strerror(rc));
    return 1;
}

uint64_t compare_measure(compare_loop_fn loop, int quick, uint64_t *out_ops) {
    uint64_t n = quick ? COMPARE_QUICK_OPS : 1000;
    uint64_t ns = loop(n);
    if (quick || ns == 0) {
        *out_ops = n;
        return ns;
    }
    while (ns < COMPARE_CALIBRATE_NS) {
        n *= ns < COMPARE_CALIBRATE_NS / 16 ? 8 : 2;
        if ((ns = loop(n)) == 0)
            return 0;
    }
    n = (uint64_t)((double)n * (double)COMPARE_MEASURE_NS / (double)ns) + 1;
    *out_ops = n;
    return loop(n);
}

static int usage(FILE *f, int code) {
    fprintf(f, "usage: vitals-compare run WORKLOAD [--quick] | serve PORT | list\n"
               "workloads:");
    for (size_t i = 0; i < NWORKLOADS; i++)
        fprintf(f, " %s", workloads[i].name);
    fprintf(f, "\n");
    return code;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "list")) {
        for (size_t i = 0; i < NWORKLOADS; i++)
            printf("%s\n", workloads[i].name);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "serve")) {
        char *end;
        unsigned long port = strtoul(argv[2], &end, 10);
        if (*end || port == 0 || port > 65535)
            return usage(stderr, 2);
        return compare_serve((unsigned)port);
    }
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "run")) {
        int quick = argc == 4 && !strcmp(argv[3], "--quick");
        if (argc == 4 && !quick)
            return usage(stderr, 2);
        for (size_t i = 0; i < NWORKLOADS; i++)
            if (!strcmp(argv[2], workloads[i].name))
                return workloads[i].run(quick);
    }
    return usage(stderr, 2);
}
