/* push_test.c - helpers of the push tests: ports, child servers, sinks.
 *
 * The TCP line sink runs one thread that polls the listening socket and every
 * accepted connection; what arrives is appended to one buffer under a mutex.
 *
 * SPDX-License-Identifier: MIT
 */
#include "push_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long pt_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pt_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int bound_socket(int type, int port, int *out_port) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = loopback(port);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *out_port = ntohs(a.sin_port);
    return fd;
}

int pt_free_port(int type) {
    int port;
    int fd = bound_socket(type, 0, &port);
    if (fd < 0)
        return -1;
    close(fd);
    return port;
}

const char *pt_which(const char *name) {
    static char path[4096];
    const char *env = getenv("PATH");
    if (!env)
        env = "/usr/bin:/bin";
    while (*env) {
        const char *end = strchr(env, ':');
        size_t n = end ? (size_t)(end - env) : strlen(env);
        snprintf(path, sizeof path, "%.*s/%s", (int)n, env, name);
        if (access(path, X_OK) == 0)
            return path;
        env += n + (end ? 1 : 0);
    }
    return NULL;
}

const char *pt_tempdir(const char *tag) {
    static char dir[4096];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/vt-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    return mkdtemp(dir);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void pt_rmrf(const char *dir) {
    if (dir && *dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int pt_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

char *pt_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

pid_t pt_spawn(char *const argv[], const char *log) {
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    execv(argv[0], argv);
    _exit(127);
}

int pt_alive(pid_t pid) {
    return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

void pt_stop(pid_t pid) {
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) != 0)
            return;
        pt_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int pt_wait_tcp(int port, long timeout_ms) {
    long long end = pt_now_ms() + timeout_ms;
    do {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = loopback(port);
        int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return 0;
        pt_sleep_ms(50);
    } while (pt_now_ms() < end);
    return -1;
}

int pt_udp_sink(int *out_port, int rcvbuf) {
    int fd = bound_socket(SOCK_DGRAM, 0, out_port);
    if (fd >= 0 && rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    return fd;
}

long pt_udp_recv(int fd, char *buf, size_t cap, long timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, (int)timeout_ms) <= 0)
        return -1;
    ssize_t n = recv(fd, buf, cap - 1, 0);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return (long)n;
}

/* ---- the UDP collector ---- */

struct pt_udp {
    int fd, port;
    int stop_pipe[2];
    pthread_t thread;
    pthread_mutex_t mu;
    char *text;
    size_t len, cap, max;
    long count;
};

static void udp_append(pt_udp_t *u, const char *data, size_t n) {
    pthread_mutex_lock(&u->mu);
    if (u->len + n + 2 > u->cap) {
        size_t cap = u->cap ? u->cap : 65536;
        while (cap < u->len + n + 2)
            cap *= 2;
        char *t = realloc(u->text, cap);
        if (!t) {
            pthread_mutex_unlock(&u->mu);
            return;
        }
        u->text = t;
        u->cap = cap;
    }
    memcpy(u->text + u->len, data, n);
    u->len += n;
    u->text[u->len++] = '\n';
    u->text[u->len] = '\0';
    if (n > u->max)
        u->max = n;
    u->count++;
    pthread_mutex_unlock(&u->mu);
}

static void *udp_main(void *arg) {
    pt_udp_t *u = arg;
    struct pollfd p[2] = {{.fd = u->stop_pipe[0], .events = POLLIN},
                          {.fd = u->fd, .events = POLLIN}};
    static _Thread_local char buf[65536];
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        ssize_t r = recv(u->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r >= 0)
            udp_append(u, buf, (size_t)r);
    }
    return NULL;
}

pt_udp_t *pt_udp_start(void) {
    pt_udp_t *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->fd = pt_udp_sink(&u->port, 4 << 20);
    if (u->fd < 0 || pipe(u->stop_pipe) != 0) {
        if (u->fd >= 0)
            close(u->fd);
        free(u);
        return NULL;
    }
    int big = 8 << 20;
    setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    pthread_mutex_init(&u->mu, NULL);
    if (pthread_create(&u->thread, NULL, udp_main, u) != 0) {
        close(u->fd);
        free(u);
        return NULL;
    }
    return u;
}

int pt_udp_port(pt_udp_t *u) {
    return u->port;
}

char *pt_udp_text(pt_udp_t *u) {
    pthread_mutex_lock(&u->mu);
    char *t = strdup(u->text ? u->text : "");
    pthread_mutex_unlock(&u->mu);
    return t;
}

size_t pt_udp_max_size(pt_udp_t *u) {
    pthread_mutex_lock(&u->mu);
    size_t m = u->max;
    pthread_mutex_unlock(&u->mu);
    return m;
}

long pt_udp_datagrams(pt_udp_t *u) {
    pthread_mutex_lock(&u->mu);
    long n = u->count;
    pthread_mutex_unlock(&u->mu);
    return n;
}

int pt_udp_wait(pt_udp_t *u, const char *needle, long timeout_ms) {
    long long end = pt_now_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&u->mu);
        int hit = u->text && strstr(u->text, needle);
        pthread_mutex_unlock(&u->mu);
        if (hit)
            return 0;
        if (pt_now_ms() >= end)
            return -1;
        pt_sleep_ms(5);
    }
}

void pt_udp_clear(pt_udp_t *u) {
    pthread_mutex_lock(&u->mu);
    u->len = 0;
    if (u->text)
        u->text[0] = '\0';
    u->max = 0;
    u->count = 0;
    pthread_mutex_unlock(&u->mu);
}

void pt_udp_stop(pt_udp_t *u) {
    if (!u)
        return;
    if (write(u->stop_pipe[1], "x", 1) != 1) {
        /* nothing else to do */
    }
    pthread_join(u->thread, NULL);
    close(u->fd);
    close(u->stop_pipe[0]);
    close(u->stop_pipe[1]);
    pthread_mutex_destroy(&u->mu);
    free(u->text);
    free(u);
}

/* ---- the TCP line sink ---- */

#define PT_MAX_CONN 64

struct pt_lines {
    int lfd, port;
    int stop_pipe[2];
    pthread_t thread;
    pthread_mutex_t mu;
    char *text;
    size_t len, cap;
    int conns;
};

static void append(pt_lines_t *s, const char *data, size_t n) {
    pthread_mutex_lock(&s->mu);
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *t = realloc(s->text, cap);
        if (!t) {
            pthread_mutex_unlock(&s->mu);
            return;
        }
        s->text = t;
        s->cap = cap;
    }
    memcpy(s->text + s->len, data, n);
    s->len += n;
    s->text[s->len] = '\0';
    pthread_mutex_unlock(&s->mu);
}

static void *lines_main(void *arg) {
    pt_lines_t *s = arg;
    struct pollfd p[PT_MAX_CONN + 2];
    int n = 2;
    p[0] = (struct pollfd){.fd = s->stop_pipe[0], .events = POLLIN};
    p[1] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
    char buf[65536];
    for (;;) {
        if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        if (p[1].revents & POLLIN) {
            int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0 && n < PT_MAX_CONN + 2) {
                p[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
                pthread_mutex_lock(&s->mu);
                s->conns++;
                pthread_mutex_unlock(&s->mu);
            } else if (fd >= 0)
                close(fd);
        }
        for (int i = 2; i < n; i++) {
            if (!p[i].revents)
                continue;
            ssize_t r = recv(p[i].fd, buf, sizeof buf, 0);
            if (r > 0) {
                append(s, buf, (size_t)r);
                continue;
            }
            close(p[i].fd);
            p[i--] = p[--n];
        }
    }
    for (int i = 2; i < n; i++)
        close(p[i].fd);
    return NULL;
}

pt_lines_t *pt_lines_start(int port) {
    pt_lines_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->lfd = bound_socket(SOCK_STREAM, port, &s->port);
    if (s->lfd < 0 || listen(s->lfd, 16) != 0 || pipe(s->stop_pipe) != 0) {
        if (s->lfd >= 0)
            close(s->lfd);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->thread, NULL, lines_main, s) != 0) {
        close(s->lfd);
        free(s);
        return NULL;
    }
    return s;
}

int pt_lines_port(pt_lines_t *s) {
    return s->port;
}

char *pt_lines_text(pt_lines_t *s) {
    pthread_mutex_lock(&s->mu);
    char *t = strdup(s->text ? s->text : "");
    pthread_mutex_unlock(&s->mu);
    return t;
}

int pt_lines_connections(pt_lines_t *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->conns;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int pt_lines_wait(pt_lines_t *s, const char *needle, long timeout_ms) {
    long long end = pt_now_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int hit = s->text && strstr(s->text, needle);
        pthread_mutex_unlock(&s->mu);
        if (hit)
            return 0;
        if (pt_now_ms() >= end)
            return -1;
        pt_sleep_ms(20);
    }
}

void pt_lines_stop(pt_lines_t *s) {
    if (!s)
        return;
    if (write(s->stop_pipe[1], "x", 1) != 1) {
        /* the thread then runs until exit; nothing else to do */
    }
    pthread_join(s->thread, NULL);
    close(s->lfd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    pthread_mutex_destroy(&s->mu);
    free(s->text);
    free(s);
}

static int graphite_scan(const char *text, const char *path, double *out, int sum) {
    size_t pl = strlen(path);
    int found = -1;
    if (sum)
        *out = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        if (strncmp(line, path, pl) == 0 && line[pl] == ' ') {
            double v = strtod(line + pl + 1, NULL);
            *out = sum ? *out + v : v;
            found = 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    return found;
}

int pt_graphite_value(const char *text, const char *path, double *out) {
    return graphite_scan(text, path, out, 0);
}

int pt_graphite_sum(const char *text, const char *path, double *out) {
    return graphite_scan(text, path, out, 1);
}
