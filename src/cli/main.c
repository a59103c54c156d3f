/* main.c - the vitals command: dispatch to a subcommand, global help and version.
 *
 * Each subcommand parses its own options (getopt_long, from argv[1]) and
 * returns the process exit status; see cli.h for their meaning.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "vitals/version.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"lint", vt__cmd_lint, "check an exposition: format errors, naming, cardinality"},
    {"dashboard", vt__cmd_dashboard, "write a Grafana dashboard for the RED metrics it exposes"},
    {"rules", vt__cmd_rules, "write Prometheus recording and alerting rules (and their tests)"},
    {"top", vt__cmd_top, "live RED view of running services: rates, errors, latency, saturation"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

void vt__errorf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("vitals: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *f) {
    fputs("Usage: vitals <command> [options] URL|FILE|-\n"
          "\n"
          "Read a Prometheus /metrics exposition (text 0.0.4 or OpenMetrics 1.0) from a URL,\n"
          "a file or stdin, and check it or turn it into dashboards and rules; or watch\n"
          "running services live (top).\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n"
          "Options:\n"
          "  -h, --help     show this help; `vitals <command> --help` shows a command's\n"
          "  -V, --version  print the version\n"
          "\n"
          "Exit status: 0 success, 1 invalid input (lint: errors), 2 usage or I/O error,\n"
          "3 lint warnings only. Full documentation: docs/cli.md.\n",
          f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return VT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < NCOMMANDS; i++) {
                if (strcmp(argv[2], commands[i].name) == 0) {
                    char *args[] = {argv[2], "--help", NULL};
                    return commands[i].run(2, args);
                }
            }
        }
        usage(stdout);
        return VT_EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("vitals %s\n", VT_VERSION_STRING);
        return VT_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    vt__errorf("unknown command \"%s\"", cmd);
    usage(stderr);
    return VT_EXIT_USAGE;
}
