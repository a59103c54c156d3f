/* cli_run.h - what the vitals command tests share: running programs, files, tools, Prometheus.
 *
 * Programs run with fork/exec and their output captured in scratch files;
 * servers are started on 127.0.0.1 and stopped by their pid. Paths of the
 * programs under test come from compile definitions: VT_CLI_PATH (the vitals
 * command) and VT_DEMO_PATH (demo_exposition).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_CLI_RUN_H
#define VT_TEST_CLI_RUN_H

#include <stddef.h>
#include <sys/types.h>

/* What a finished program left behind. */
typedef struct run_result {
    int status; /* exit status; 128 + signal when killed; -1 when it could not run */
    char *out;  /* stdout, NUL-terminated */
    char *err;  /* stderr, NUL-terminated */
} run_result_t;

/* Run argv (argv[0] is looked up in PATH when it has no '/') with stdin from
 * stdin_path (NULL: /dev/null) in the working directory cwd (NULL: the
 * current one). Returns r->status. */
int run_argv(char *const argv[], const char *stdin_path, const char *cwd, run_result_t *r);
void run_free(run_result_t *r);

/* Run the vitals command with the given arguments (NULL-terminated). */
int run_vitals(run_result_t *r, const char *stdin_path, ...);

/* A malloc'd copy of a whole file (NUL-terminated), or NULL. */
char *read_text(const char *path, size_t *out_len);
/* Write text to path; 0 or -1. */
int write_text(const char *path, const char *text);

/* A fresh scratch directory under TMPDIR (or /tmp), made once per call;
 * remove_tree() removes it. */
int make_scratch(char *out, size_t n, const char *tag);
void remove_tree(const char *path);

/* The full path of a program found in PATH (or in extra_dir when not NULL),
 * or 0 when it is missing. */
int find_tool(const char *name, const char *extra_dir, char *out, size_t n);

/* The repository's node_modules/.bin/ajv when npm installed it. */
int find_ajv(char *out, size_t n);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int free_port(void);

/* Start argv in the background with stdin from /dev/null and stdout and
 * stderr appended to log; returns the pid or -1. */
pid_t spawn_bg(char *const argv[], const char *log);
/* SIGTERM, then SIGKILL after 10 s; reaps the child. */
void stop_pid(pid_t pid);
/* Poll GET path on 127.0.0.1:port until it answers 200; 0, -1 after
 * timeout_ms, or -2 when pid (if > 0) exited first (it is reaped then). */
int wait_http(int port, const char *path, pid_t pid, int timeout_ms);

/* One file served over HTTP on 127.0.0.1 by tests/cli/serve_fixture.py
 * (python3), with the given Content-Type ("-" for none); the Accept header
 * of every request is appended to log. */
typedef struct fixture_server {
    pid_t pid;
    int port;
    char dir[256];
    char log[300];
} fixture_server_t;

int fixture_serve(fixture_server_t *s, const char *file, const char *content_type);
void fixture_stop(fixture_server_t *s);

/* A real Prometheus on 127.0.0.1, with an empty scrape configuration or the
 * one given, storing in dir. */
typedef struct prom_server {
    pid_t pid;
    int port;
    char dir[256];
} prom_server_t;

/* Start it and wait until /-/ready answers (up to 30 s). 0 or -1. */
int prom_start(prom_server_t *p, const char *scrape_config_yaml);
void prom_stop(prom_server_t *p);

/* Grafana's variables replaced as a panel would send the query: $__rate_interval
 * by 1m, $__interval by 15s, $job by x, $instance by .* (malloc'd). */
char *substitute_grafana_vars(const char *expr);

/* `promtool query instant http://127.0.0.1:PORT expr`; returns its status. */
int promql_instant(const prom_server_t *p, const char *expr, run_result_t *r);

/* The count of non-overlapping occurrences of needle in hay. */
size_t count_of(const char *hay, const char *needle);

#endif
