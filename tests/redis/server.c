/* server.c - start and stop a private redis-server (see server.h).
 *
 * The server gets its own scratch directory, no persistence (--save '',
 * --appendonly no) and binds 127.0.0.1 only. Readiness is a real PING over
 * hiredis, so a test starts only once the server answers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

int rs_available(void) {
    const char *path = getenv("PATH");
    char buf[4096];
    if (!path)
        return 0;
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n > 0 && n < sizeof(buf) - 20) {
            memcpy(buf, path, n);
            strcpy(buf + n, "/redis-server");
            if (access(buf, X_OK) == 0)
                return 1;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

/* A port the kernel considers free right now. */
static int free_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int answers_ping(int port) {
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int ok = 0;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return ok;
}

static void print_log(const rs_server_t *s) {
    char path[200], line[512];
    snprintf(path, sizeof(path), "%s/redis.log", s->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f))
        fprintf(stderr, "redis-server: %s", line);
    fclose(f);
}

/* One attempt on s->port; 0 when the server answers, -1 when it exited. */
static int spawn(rs_server_t *s) {
    char port[16], log[200];
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(log, sizeof(log), "%s/redis.log", s->dir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (chdir(s->dir) != 0)
            _exit(127);
        execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "",
               "--appendonly", "no", "--dir", s->dir, (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 500; i++) { /* up to 10 s, more than enough under ASan */
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            return -1;
        }
        if (answers_ping(s->port))
            return 0;
        sleep_ms(20);
    }
    rs_kill(s, SIGKILL);
    return -1;
}

int rs_start(rs_server_t *s) {
    int pick = s->port == 0;
    if (!s->dir[0]) {
        strcpy(s->dir, "/tmp/vt-redis-XXXXXX");
        if (!mkdtemp(s->dir)) {
            s->dir[0] = '\0';
            return -1;
        }
    }
    for (int attempt = 0; attempt < (pick ? 5 : 1); attempt++) {
        if (pick && (s->port = free_port()) <= 0)
            return -1;
        if (spawn(s) == 0)
            return 0;
    }
    print_log(s);
    return -1;
}

void rs_kill(rs_server_t *s, int sig) {
    if (s->pid <= 0)
        return;
    kill(s->pid, sig);
    while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    s->pid = 0;
}

void rs_cleanup(rs_server_t *s) {
    char path[200];
    rs_kill(s, SIGTERM);
    if (!s->dir[0])
        return;
    snprintf(path, sizeof(path), "%s/redis.log", s->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/dump.rdb", s->dir);
    unlink(path);
    rmdir(s->dir);
    s->dir[0] = '\0';
}
