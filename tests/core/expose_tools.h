/* expose_tools.h - scratch files, scrapes and external checkers for the exposition tests.
 *
 * Each test program includes this once. A scratch directory is made under
 * $TMPDIR (or /tmp) on first use and removed, with what the test left in it,
 * by tools_cleanup(). External programs (promtool, /usr/bin/python3) run
 * through the shell with their output captured, so a failing check can print
 * what the tool said. Nothing here is thread-safe; the tests call it from one
 * thread.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_EXPOSE_TOOLS_H
#define VT_TEST_EXPOSE_TOOLS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vitals.h"

#define TOOLS_PYTHON "/usr/bin/python3"

static char tools_dir[4096];

/* The scratch directory, created on first use; "" when that failed. */
static inline const char *tools_tmpdir(void) {
    if (tools_dir[0])
        return tools_dir;
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(tools_dir, sizeof tools_dir, "%s/vt-expose-XXXXXX", base);
    if (!mkdtemp(tools_dir)) {
        fprintf(stderr, "mkdtemp %s failed\n", tools_dir);
        tools_dir[0] = '\0';
    }
    return tools_dir;
}

/* path = scratch dir + "/" + name. */
static inline void tools_path(char *path, size_t size, const char *name) {
    snprintf(path, size, "%s/%s", tools_tmpdir(), name);
}

static inline void tools_cleanup(void) {
    if (!tools_dir[0] || getenv("VT_KEEP_TMP"))
        return;
    DIR *d = opendir(tools_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", tools_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tools_dir);
    tools_dir[0] = '\0';
}

static inline int tools_write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

/* The whole file, NUL-terminated, or NULL. *out_len may be NULL. */
static inline char *tools_read_file(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len + 1 < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[len] = '\0';
    if (out_len)
        *out_len = len;
    return buf;
}

/* Run cmd through the shell, its stdout and stderr captured into a malloc'd
 * string (*out, may be NULL to discard). Returns the exit code, or -1 when it
 * did not exit normally. */
static inline int tools_run(const char *cmd, char **out) {
    char full[13500]; /* cmd plus the redirection */
    snprintf(full, sizeof full, "(%s) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) {
        if (out)
            *out = NULL;
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) {
        if (buf && len + n + 1 > cap) {
            while (len + n + 1 > cap)
                cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                free(buf);
            buf = nb;
        }
        if (buf) {
            memcpy(buf + len, chunk, n);
            len += n;
        }
    }
    if (buf)
        buf[len] = '\0';
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Does the shell find this command (`command -v`)? */
static inline int tools_have(const char *prog) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "command -v '%s' >/dev/null", prog);
    return tools_run(cmd, NULL) == 0;
}

/* Can /usr/bin/python3 import the client's two parsers? */
static inline int tools_have_python_client(void) {
    return tools_run(TOOLS_PYTHON " -c 'import prometheus_client.parser, "
                                  "prometheus_client.openmetrics.parser'",
                     NULL) == 0;
}

/* Scrape reg in a format into a malloc'd NUL-terminated string, or NULL. */
static inline char *tools_scrape(vt_registry_t *reg, vt_format_t format, int created) {
    vt_write_opts_t o;
    vt_write_opts_init(&o);
    o.format = format;
    o.created = created;
    vt_buf_t b = {0};
    int rc = vt_registry_write_buf(reg, &o, &b);
    if (rc != 0) {
        fprintf(stderr, "vt_registry_write_buf: %s\n", vt_strerror(rc));
        vt_buf_free(&b);
        return NULL;
    }
    char *s = malloc(b.len + 1);
    if (s) {
        if (b.len)
            memcpy(s, b.data, b.len);
        s[b.len] = '\0';
    }
    vt_buf_free(&b);
    return s;
}

/* Path of tests/tools/om_check.py, from the test data directory. */
static inline void tools_om_check_path(char *path, size_t size) {
    snprintf(path, size, "%s/../tools/om_check.py", VT_TEST_DATA_DIR);
}

/* Parse text (an exposition in format fmt: "text" or "openmetrics") with the
 * Python client's parser, and check it against the expectation file expect
 * (NULL for none; see om_check.py). Prints the checker's output and the
 * exposition's first lines on failure. Returns 1 when it passed. */
static inline int tools_python_check(const char *what, const char *fmt, const char *text,
                                     const char *expect) {
    char file[4400], script[4400], cmd[13400]; /* room for three paths */
    tools_path(file, sizeof file, "exposition.txt");
    if (!text || tools_write_file(file, text, strlen(text)) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", what, file);
        return 0;
    }
    tools_om_check_path(script, sizeof script);
    snprintf(cmd, sizeof cmd, "%s '%s' %s '%s'%s%s%s", TOOLS_PYTHON, script, fmt, file,
             expect ? " '" : "", expect ? expect : "", expect ? "'" : "");
    char *out = NULL;
    int rc = tools_run(cmd, &out);
    if (rc != 0) {
        fprintf(stderr, "%s: %s parser check failed (exit %d):\n%s\n", what, fmt, rc,
                out ? out : "");
        fprintf(stderr, "--- exposition (first 2000 bytes) ---\n%.2000s\n---\n", text);
    }
    free(out);
    return rc == 0;
}

#endif
