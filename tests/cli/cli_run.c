/* cli_run.c - running programs and servers for the vitals command tests.
 *
 * Children write stdout and stderr into files in a scratch directory, so a
 * chatty child can never block on a full pipe. Every server is started by
 * pid and stopped by that pid (SIGTERM, then SIGKILL after 10 s).
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli_run.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *read_text(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[len] = '\0';
    }
    if (out_len) {
        *out_len = len;
    }
    return buf;
}

int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        return -1;
    }
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int make_scratch(char *out, size_t n, const char *tag) {
    const char *tmp = getenv("TMPDIR");
    snprintf(out, n, "%s/vitals-cli-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    return mkdtemp(out) ? 0 : -1;
}

void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            char child[1024];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
                remove_tree(child);
            } else {
                unlink(child);
            }
        }
        closedir(d);
    }
    rmdir(path);
}

int run_argv(char *const argv[], const char *stdin_path, const char *cwd, run_result_t *r) {
    memset(r, 0, sizeof *r);
    r->status = -1;
    char dir[256], out_path[300], err_path[300];
    if (make_scratch(dir, sizeof dir, "run")) {
        return -1;
    }
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    snprintf(err_path, sizeof err_path, "%s/err", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0 || (cwd && chdir(cwd) != 0)) {
            _exit(126);
        }
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid > 0) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    r->out = read_text(out_path, NULL);
    r->err = read_text(err_path, NULL);
    if (!r->out) {
        r->out = calloc(1, 1);
    }
    if (!r->err) {
        r->err = calloc(1, 1);
    }
    remove_tree(dir);
    return r->status;
}

void run_free(run_result_t *r) {
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

int run_vitals(run_result_t *r, const char *stdin_path, ...) {
    char *argv[64];
    int n = 0;
    argv[n++] = VT_CLI_PATH;
    va_list ap;
    va_start(ap, stdin_path);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 63) {
        argv[n++] = (char *)a;
    }
    va_end(ap);
    argv[n] = NULL;
    return run_argv(argv, stdin_path, NULL, r);
}

int find_tool(const char *name, const char *extra_dir, char *out, size_t n) {
    if (extra_dir) {
        snprintf(out, n, "%s/%s", extra_dir, name);
        if (access(out, X_OK) == 0) {
            return 1;
        }
    }
    const char *path = getenv("PATH");
    if (!path) {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    const char *p = path;
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(out, n, "%.*s/%s", (int)len, p, name);
        if (len && access(out, X_OK) == 0) {
            return 1;
        }
        p += len + (colon ? 1 : 0);
    }
    return 0;
}

int find_ajv(char *out, size_t n) {
    char node[512];
    if (!find_tool("node", NULL, node, sizeof node)) {
        return 0;
    }
    snprintf(out, n, "%s/node_modules/.bin/ajv", VT_SOURCE_DIR);
    return access(out, X_OK) == 0;
}

int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

/* 1 when GET path on 127.0.0.1:port answers 200. */
static int http_ok(int port, const char *path) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    int ok = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        char req[256];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
        if (write(fd, req, (size_t)n) == n) {
            char buf[64] = {0};
            ssize_t got = read(fd, buf, sizeof buf - 1);
            ok = got > 12 && strncmp(buf + 9, "200", 3) == 0;
        }
    }
    close(fd);
    return ok;
}

pid_t spawn_bg(char *const argv[], const char *log) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int in = open("/dev/null", O_RDONLY);
        if (fd >= 0 && in >= 0) {
            dup2(in, 0);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

void stop_pid(pid_t pid) {
    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            return;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int wait_http(int port, const char *path, pid_t pid, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        int st;
        if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid) {
            return -2;
        }
        if (http_ok(port, path)) {
            return 0;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

int prom_start(prom_server_t *p, const char *scrape_config_yaml) {
    memset(p, 0, sizeof *p);
    char prom[512];
    if (!find_tool("prometheus", NULL, prom, sizeof prom) ||
        make_scratch(p->dir, sizeof p->dir, "prometheus")) {
        return -1;
    }
    char cfg[400], log[400], listen[64], cfg_arg[420], data_arg[420];
    snprintf(cfg, sizeof cfg, "%s/prometheus.yml", p->dir);
    snprintf(log, sizeof log, "%s/prometheus.log", p->dir);
    snprintf(cfg_arg, sizeof cfg_arg, "--config.file=%s", cfg);
    snprintf(data_arg, sizeof data_arg, "--storage.tsdb.path=%s/data", p->dir);
    if (write_text(cfg, scrape_config_yaml ? scrape_config_yaml
                                           : "global:\n  scrape_interval: 15s\n"
                                             "scrape_configs: []\n")) {
        return -1;
    }
    /* A port can be taken between free_port() and the bind: try again then. */
    for (int attempt = 0; attempt < 3; attempt++) {
        p->port = free_port();
        snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", p->port);
        char *argv[] = {prom, cfg_arg, data_arg, listen, NULL};
        p->pid = spawn_bg(argv, log);
        if (p->pid < 0) {
            p->pid = 0;
            break;
        }
        int rc = wait_http(p->port, "/-/ready", p->pid, 30000);
        if (rc == 0) {
            return 0;
        }
        if (rc != -2) {
            stop_pid(p->pid);
        }
        p->pid = 0;
    }
    char *text = read_text(log, NULL);
    fprintf(stderr, "prometheus did not start:\n%s\n", text ? text : "");
    free(text);
    return -1;
}

void prom_stop(prom_server_t *p) {
    stop_pid(p->pid);
    p->pid = 0;
    if (p->dir[0]) {
        remove_tree(p->dir);
        p->dir[0] = '\0';
    }
}

int fixture_serve(fixture_server_t *s, const char *file, const char *content_type) {
    char python[512], port[16], out[320];
    memset(s, 0, sizeof *s);
    if (!find_tool("python3", "/usr/bin", python, sizeof python) ||
        make_scratch(s->dir, sizeof s->dir, "serve")) {
        return -1;
    }
    snprintf(s->log, sizeof s->log, "%s/accept.log", s->dir);
    snprintf(out, sizeof out, "%s/server.out", s->dir);
    for (int attempt = 0; attempt < 3; attempt++) {
        s->port = free_port();
        snprintf(port, sizeof port, "%d", s->port);
        char *argv[] = {python,
                        VT_SOURCE_DIR "/tests/cli/serve_fixture.py",
                        port,
                        (char *)file,
                        (char *)content_type,
                        s->log,
                        NULL};
        s->pid = spawn_bg(argv, out);
        int rc = wait_http(s->port, "/ping", s->pid, 10000);
        if (rc == 0) {
            unlink(s->log); /* forget the readiness probe */
            return 0;
        }
        if (rc == -1) {
            stop_pid(s->pid);
        }
        s->pid = 0;
    }
    remove_tree(s->dir);
    return -1;
}

void fixture_stop(fixture_server_t *s) {
    stop_pid(s->pid);
    s->pid = 0;
    remove_tree(s->dir);
}

static char *replace_all(const char *s, const char *from, const char *to) {
    size_t n = count_of(s, from), fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(s) + n * tl + 1);
    if (!out) {
        return NULL;
    }
    char *o = out;
    const char *p = s, *hit;
    while ((hit = strstr(p, from)) != NULL) {
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, to, tl);
        o += tl;
        p = hit + fl;
    }
    strcpy(o, p);
    return out;
}

char *substitute_grafana_vars(const char *expr) {
    static const char *const pairs[][2] = {
        {"$__rate_interval", "1m"}, {"$__interval", "15s"}, {"$job", "x"}, {"$instance", ".*"}};
    char *cur = strdup(expr);
    for (size_t i = 0; cur && i < sizeof pairs / sizeof pairs[0]; i++) {
        char *next = replace_all(cur, pairs[i][0], pairs[i][1]);
        free(cur);
        cur = next;
    }
    return cur;
}

int promql_instant(const prom_server_t *p, const char *expr, run_result_t *r) {
    char promtool[512], url[64];
    if (!find_tool("promtool", NULL, promtool, sizeof promtool)) {
        memset(r, 0, sizeof *r);
        r->status = -1;
        return -1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d", p->port);
    char *argv[] = {promtool, "query", "instant", url, (char *)expr, NULL};
    return run_argv(argv, NULL, NULL, r);
}

size_t count_of(const char *hay, const char *needle) {
    size_t n = 0, k = strlen(needle);
    for (const char *p = hay; k && (p = strstr(p, needle)) != NULL; p += k) {
        n++;
    }
    return n;
}
