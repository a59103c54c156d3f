/* files.h - reading whole files and listing directories for the parser tests.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_PARSE_FILES_H
#define VT_TEST_PARSE_FILES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, NUL-terminated (the length excludes the NUL); NULL when it
 * cannot be read. Free with free(). */
static inline char *tf_read(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len + 1 < cap) {
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    if (buf) {
        buf[len] = '\0';
        *out_len = len;
    }
    return buf;
}

static inline int tf_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory's entries, without "." and ".."; NULL-terminated.
 * NULL when the directory cannot be opened. Free with tf_free_list(). */
static inline char **tf_list(const char *dir, size_t *out_n) {
    DIR *d = opendir(dir);
    if (!d) {
        return NULL;
    }
    size_t n = 0, cap = 64;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (n + 1 >= cap) {
            char **nv = realloc(v, cap * 2 * sizeof *v);
            if (!nv) {
                break;
            }
            v = nv;
            cap *= 2;
        }
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (!v) {
        return NULL;
    }
    v[n] = NULL;
    qsort(v, n, sizeof *v, tf_cmp);
    *out_n = n;
    return v;
}

static inline void tf_free_list(char **v) {
    for (size_t i = 0; v && v[i]; i++) {
        free(v[i]);
    }
    free(v);
}

#endif
