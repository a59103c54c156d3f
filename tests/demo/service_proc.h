/* service_proc.h - run the reservations service as a child process for a
 * test: started with given flags and environment, its URL read from the
 * line it prints, stopped by its pid.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_SERVICE_PROC_H
#define VT_TEST_SERVICE_PROC_H

#include <sys/types.h>

typedef struct svc {
    pid_t pid;     /* 0 when not running */
    int out_fd;    /* read end of its stdout */
    unsigned port; /* the port it listens on */
    char base[64]; /* "http://127.0.0.1:PORT" */
} svc_t;

/* Start binary with argv (NULL-terminated, without the program name) and,
 * for the child only, the NULL-terminated "NAME=value" strings of env. Waits
 * up to 20 s for the "listening on http://..." line. Returns 0, or -1 (the
 * child is stopped and reaped). */
int svc_start(svc_t *s, const char *binary, const char *const *argv, const char *const *env);

/* Run binary to completion with argv and env; returns its exit status (or
 * -1), and its stdout, when out is not NULL, as a malloc'd string. */
int svc_run(const char *binary, const char *const *argv, const char *const *env, char **out);

/* Send SIGTERM and reap; returns the exit status (0 is a clean stop), or -1
 * when it died of a signal or did not stop within 20 s (then it is killed). */
int svc_stop(svc_t *s);

/* "http://127.0.0.1:PORT" + path into buf. */
const char *svc_url(const svc_t *s, const char *path, char *buf, size_t n);

#endif
