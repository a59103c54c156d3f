/* output.c - writing generated files whole, creating directories, relative paths.
 *
 * A file is written to "<path>.tmp.<pid>" and renamed over the target, so
 * Grafana or Prometheus reloading a provisioning directory never reads half
 * a file.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

int vt__write_file(const char *path, const char *text, size_t len, char *err, size_t errlen) {
    if (!path || strcmp(path, "-") == 0) {
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
            snprintf(err, errlen, "stdout: %s", strerror(errno));
            return VT_EIO;
        }
        return 0;
    }
    char *tmp = vt__aprintf("%s.tmp.%ld", path, (long)getpid());
    if (!tmp) {
        return VT_ENOMEM;
    }
    int rc = 0;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return VT_EIO;
    }
    if (fwrite(text, 1, len, f) != len) {
        rc = VT_EIO;
    }
    if (fclose(f) != 0) {
        rc = VT_EIO;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = VT_EIO;
    }
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return rc;
}

int vt__mkdir_p(const char *path, char *err, size_t errlen) {
    char *p = vt__strdup(path);
    if (!p) {
        return VT_ENOMEM;
    }
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "%s: %s", p, strerror(errno));
                rc = VT_EIO;
                break;
            }
            *s = c;
            if (c == '\0') {
                break;
            }
        }
    }
    struct stat st;
    if (rc == 0 && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "%s: not a directory", path);
        rc = VT_EIO;
    }
    free(p);
    return rc;
}

char *vt__absolute_path(const char *p) {
    char *copy = vt__strdup(p);
    if (!copy) {
        return NULL;
    }
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    const char *base = copy;
    if (slash == copy) {
        dir = "/";
        base = copy + 1;
    } else if (slash) {
        *slash = '\0';
        dir = copy;
        base = slash + 1;
    }
    char real[PATH_MAX];
    char *out = NULL;
    if (realpath(dir, real)) {
        if (*base == '\0' || strcmp(base, ".") == 0) {
            out = vt__strdup(real);
        } else {
            out = vt__aprintf("%s%s%s", real, strcmp(real, "/") == 0 ? "" : "/", base);
        }
    }
    free(copy);
    return out;
}

char *vt__relative_path(const char *dir, const char *to) {
    char *d = vt__absolute_path(dir);
    char *t = vt__absolute_path(to);
    char *out = NULL;
    if (!d || !t) {
        free(d);
        free(t);
        return vt__strdup(to);
    }
    /* Longest common prefix ending at a component boundary. */
    size_t common = 0;
    for (size_t i = 0;; i++) {
        int d_end = d[i] == '\0' || d[i] == '/';
        int t_end = t[i] == '\0' || t[i] == '/';
        if (d_end && t_end) {
            common = i;
        }
        if (d[i] != t[i] || d[i] == '\0') {
            break;
        }
    }
    vt__str_t s = {0};
    for (const char *p = d + common; *p; p++) {
        if (*p == '/') {
            vt__str_puts(&s, "../");
        }
    }
    const char *rest = t + common;
    if (*rest == '/') {
        rest++;
    }
    vt__str_puts(&s, rest);
    if (vt__str_ok(&s) == 0) {
        out = vt__str_take(&s);
    }
    vt__str_free(&s);
    free(d);
    free(t);
    return out;
}
