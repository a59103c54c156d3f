/* service_proc.c - start, run and stop the reservations service for tests
 * (see service_proc.h).
 *
 * The child gets the test's environment plus the given variables; its stdout
 * is a pipe the parent reads the URL line from, its stderr is the test's.
 *
 * SPDX-License-Identifier: MIT
 */
#include "service_proc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t spawn(const char *binary, const char *const *argv, const char *const *env,
                   int *out_fd) {
    int p[2];
    pid_t pid;
    if (pipe(p) != 0)
        return -1;
    pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        const char *args[64];
        size_t n = 0;
        args[n++] = binary;
        for (size_t i = 0; argv && argv[i] && n < 63; i++)
            args[n++] = argv[i];
        args[n] = NULL;
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(binary, (char *const *)args);
        _exit(127);
    }
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

/* Wait for the child; -1 when it is still running after timeout_ms. */
static int reap(pid_t pid, long timeout_ms) {
    for (long waited = 0;; waited += 10) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0 && errno != EINTR)
            return -1;
        if (waited >= timeout_ms)
            return -2;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
}

static int kill_reap(pid_t pid, long timeout_ms) {
    int rc;
    kill(pid, SIGTERM);
    rc = reap(pid, timeout_ms);
    if (rc == -2) {
        fprintf(stderr, "service %d did not stop on SIGTERM; killing it\n", (int)pid);
        kill(pid, SIGKILL);
        reap(pid, 5000);
        return -1;
    }
    return rc;
}

int svc_start(svc_t *s, const char *binary, const char *const *argv, const char *const *env) {
    char line[512];
    size_t len = 0;
    const char *url;
    memset(s, 0, sizeof(*s));
    s->pid = spawn(binary, argv, env, &s->out_fd);
    if (s->pid <= 0) {
        s->pid = 0;
        return -1;
    }
    /* Read up to the first newline, 20 s at most (ASan startup is slow). */
    while (len < sizeof(line) - 1) {
        struct pollfd pfd = {s->out_fd, POLLIN, 0};
        ssize_t n;
        if (poll(&pfd, 1, 20000) <= 0)
            break;
        n = read(s->out_fd, line + len, 1);
        if (n <= 0)
            break;
        if (line[len++] == '\n')
            break;
    }
    line[len] = '\0';
    url = strstr(line, "http://127.0.0.1:");
    if (!url) {
        fprintf(stderr, "service did not print its URL (got \"%s\")\n", line);
        kill_reap(s->pid, 5000);
        close(s->out_fd);
        s->pid = 0;
        return -1;
    }
    s->port = (unsigned)strtoul(url + strlen("http://127.0.0.1:"), NULL, 10);
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", s->port);
    return 0;
}

int svc_run(const char *binary, const char *const *argv, const char *const *env, char **out) {
    int fd, rc;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    pid_t pid = spawn(binary, argv, env, &fd);
    if (pid <= 0)
        return -1;
    for (;;) {
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0)
            break;
        if (len + (size_t)n + 1 > cap) {
            char *p;
            cap = (len + (size_t)n + 1) * 2;
            p = realloc(buf, cap);
            if (!p)
                break;
            buf = p;
        }
        memcpy(buf + len, chunk, (size_t)n);
        len += (size_t)n;
        buf[len] = '\0';
    }
    close(fd);
    rc = reap(pid, 20000);
    if (rc == -2)
        rc = kill_reap(pid, 5000);
    if (out)
        *out = buf ? buf : calloc(1, 1);
    else
        free(buf);
    return rc;
}

int svc_stop(svc_t *s) {
    int rc;
    if (s->pid <= 0)
        return -1;
    rc = kill_reap(s->pid, 20000);
    close(s->out_fd);
    s->pid = 0;
    return rc;
}

const char *svc_url(const svc_t *s, const char *path, char *buf, size_t n) {
    snprintf(buf, n, "%s%s", s->base, path);
    return buf;
}
