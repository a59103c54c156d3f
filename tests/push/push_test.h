/* push_test.h - what the push tests share: free ports, child servers started
 * and stopped by pid, a UDP sink, a TCP line sink, temporary directories.
 *
 * Every server listens on 127.0.0.1 only. Helpers return -1 / NULL on failure
 * and never exit; the caller decides to fail or skip.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_PUSH_TEST_H
#define VT_PUSH_TEST_H

#include <stddef.h>
#include <sys/types.h>

/* A port that was free a moment ago on 127.0.0.1 (type SOCK_STREAM or
 * SOCK_DGRAM); -1 on failure. */
int pt_free_port(int type);

/* Monotonic milliseconds. */
long long pt_now_ms(void);
void pt_sleep_ms(long ms);

/* The full path of an executable found in PATH, or NULL (static buffer). */
const char *pt_which(const char *name);

/* A fresh directory under $TMPDIR (static buffer); NULL on failure. */
const char *pt_tempdir(const char *tag);
/* rm -rf dir. */
void pt_rmrf(const char *dir);
/* Write a whole file; 0 or -1. */
int pt_write_file(const char *path, const char *text);
/* A file's contents, malloc'd and NUL-terminated, or NULL. */
char *pt_read_file(const char *path);

/* Start argv[0] (a path) with stdout and stderr appended to log; -1 on failure. */
pid_t pt_spawn(char *const argv[], const char *log);
/* SIGTERM, wait up to 5 s, then SIGKILL; reaps the child. */
void pt_stop(pid_t pid);
/* Is the child still running? */
int pt_alive(pid_t pid);
/* Wait until a TCP connect to 127.0.0.1:port succeeds; 0 or -1 on timeout. */
int pt_wait_tcp(int port, long timeout_ms);

/* A UDP socket bound on 127.0.0.1 with a port chosen by the kernel. */
int pt_udp_sink(int *out_port, int rcvbuf);
/* One datagram into buf (NUL-terminated); its length, or -1 after timeout_ms. */
long pt_udp_recv(int fd, char *buf, size_t cap, long timeout_ms);

/* A UDP server on 127.0.0.1 whose thread records every datagram, each
 * followed by "\n" in the text, and the largest datagram size. */
typedef struct pt_udp pt_udp_t;
pt_udp_t *pt_udp_start(void);
int pt_udp_port(pt_udp_t *u);
char *pt_udp_text(pt_udp_t *u); /* malloc'd copy */
size_t pt_udp_max_size(pt_udp_t *u);
long pt_udp_datagrams(pt_udp_t *u);
int pt_udp_wait(pt_udp_t *u, const char *needle, long timeout_ms);
/* Forget what was received so far. */
void pt_udp_clear(pt_udp_t *u);
void pt_udp_stop(pt_udp_t *u);

/* A TCP server on 127.0.0.1 that records every byte it receives. */
typedef struct pt_lines pt_lines_t;
pt_lines_t *pt_lines_start(int port); /* port 0: the kernel chooses */
int pt_lines_port(pt_lines_t *s);
/* A copy of everything received so far (malloc'd). */
char *pt_lines_text(pt_lines_t *s);
/* Wait until the text holds needle; 0 or -1 after timeout_ms. */
int pt_lines_wait(pt_lines_t *s, const char *needle, long timeout_ms);
/* Connections accepted so far. */
int pt_lines_connections(pt_lines_t *s);
void pt_lines_stop(pt_lines_t *s);

/* The value on the last line "<path> <value> <ts>" for path in text, as
 * found; returns 0 and sets *out, or -1 when absent. */
int pt_graphite_value(const char *text, const char *path, double *out);
/* The sum of the values on every such line; 0 and *out, or -1 when absent. */
int pt_graphite_sum(const char *text, const char *path, double *out);

#endif
