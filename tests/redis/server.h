/* server.h - a real redis-server for the tests and the benchmark: started on
 * 127.0.0.1 on a free port in a scratch directory, stopped by its pid.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_REDIS_SERVER_H
#define VT_TEST_REDIS_SERVER_H

#include <sys/types.h>

typedef struct rs_server {
    pid_t pid;     /* 0 when not running */
    int port;      /* kept across rs_kill so rs_start can reuse it */
    char dir[128]; /* scratch directory holding the log; removed by rs_cleanup */
} rs_server_t;

/* Whether redis-server can be run (found on PATH). */
int rs_available(void);

/* Start redis-server. With s->port 0 a free port is picked (and retried if
 * another process takes it first); otherwise that port is used, as for a
 * restart. Waits until it answers PING. Returns 0 or -1 (the log is printed
 * to stderr). */
int rs_start(rs_server_t *s);

/* Send sig (SIGKILL for a crash, SIGTERM for a clean stop) and reap it. */
void rs_kill(rs_server_t *s, int sig);

/* Stop the server if running and remove the scratch directory. */
void rs_cleanup(rs_server_t *s);

#endif
