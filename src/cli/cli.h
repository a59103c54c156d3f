/* cli.h - what the files of the vitals command share: strings, input, options, output.
 *
 * The command is one process run once: helpers return 0 or a negative VT_E*
 * code and leave printing to the subcommand, which reports on stderr and
 * chooses the exit status. Nothing here is shared between threads.
 *
 * Exit statuses of every subcommand: 0 success, 1 the input is not valid
 * (lint) or nothing could be generated from it, 2 a usage or input/output
 * error, 3 lint found warnings only.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CLI_H
#define VT_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "parse/parse.h"
#include "vitals/error.h"
#include "vitals/expose.h"

#define VT_EXIT_OK 0
#define VT_EXIT_INVALID 1
#define VT_EXIT_USAGE 2
#define VT_EXIT_WARNINGS 3

/* ---- growable strings (str.c) ---------------------------------------------- */

/* A NUL-terminated string that grows; zero-initialize it. After a failed
 * append the string is unchanged and every later append fails too, so a
 * caller may check once at the end with vt__str_ok(). */
typedef struct vt__str {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    int failed; /* an allocation failed */
} vt__str_t;

int vt__str_add(vt__str_t *s, const char *p, size_t n);
int vt__str_puts(vt__str_t *s, const char *p);
int vt__str_printf(vt__str_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vt__str_vprintf(vt__str_t *s, const char *fmt, va_list ap);
/* The text so far ("" when empty); never NULL. */
const char *vt__str_get(const vt__str_t *s);
/* 0, or VT_ENOMEM when an append failed since the string was zeroed. */
int vt__str_ok(const vt__str_t *s);
void vt__str_free(vt__str_t *s);
/* Take the buffer (a malloc'd NUL-terminated string); the string is zeroed. */
char *vt__str_take(vt__str_t *s);

/* strdup that reports failure by NULL; x_printf returns a malloc'd string. */
char *vt__strdup(const char *s);
char *vt__aprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- reading an exposition (fetch.c) ---------------------------------------- */

/* VT__FORMAT_AUTO: no --format given. Otherwise a vt_format_t. */
#define VT__FORMAT_AUTO (-1)

typedef struct vt__input {
    char *data;         /* the body, NUL-terminated (not counted in len) */
    size_t len;         /* bytes in data */
    char *content_type; /* HTTP Content-Type, or NULL for files, stdin, none sent */
    const char *name;   /* what problems are reported against: the URL, path or "<stdin>" */
} vt__input_t;

/* Read source: "-" is stdin, http:// and https:// are fetched with libcurl
 * (an Accept header like Prometheus' scrape, or only the forced format's
 * type), anything else is a file. timeout_s bounds a fetch. On failure err
 * holds a one-line reason. Returns 0, VT_EIO, VT_ENET, VT_EHTTP,
 * VT_ETIMEDOUT, VT_ENOMEM. */
int vt__input_read(const char *source, int forced_format, double timeout_s, vt__input_t *out,
                   char *err, size_t errlen);
void vt__input_free(vt__input_t *in);

/* The format to read an input in: the forced one, else the Content-Type when
 * it names one, else a guess from the content. */
vt_format_t vt__input_format(const vt__input_t *in, int forced_format);

/* Read, choose the format and parse leniently: what dashboard and rules read
 * a scrape with. On failure err says why (with the line for parse errors). */
int vt__load_doc(const char *source, int forced_format, double timeout_s, vt_doc_t **out_doc,
                 char *err, size_t errlen);

/* A parse error's reason without its "line N" prefix, with the column last. */
void vt__parse_error_text(const vt_parse_error_t *e, char *buf, size_t n);

/* ---- options (args.c) ------------------------------------------------------- */

/* "text" or "openmetrics" (also "om", "prometheus"). Returns 0 or VT_EINVAL. */
int vt__parse_format_name(const char *s, int *out_format);
/* A finite number within [lo, hi]. */
int vt__parse_number(const char *s, double lo, double hi, double *out);
/* A Prometheus duration such as 30s, 5m, 1h30m; returns seconds. */
int vt__parse_duration(const char *s, double *out_seconds);
/* Write seconds as a Prometheus duration ("5m", "1h30m", "90s" stays "1m30s"). */
void vt__format_duration(double seconds, char *buf, size_t n);

/* A list of compiled extended regular expressions (--include, --exclude). */
typedef struct vt__regex_list {
    void *items; /* regex_t array */
    size_t count;
} vt__regex_list_t;

/* Compile and append pattern, anchored at both ends. On failure err says why. */
int vt__regex_list_add(vt__regex_list_t *l, const char *pattern, char *err, size_t errlen);
/* 1 when any expression matches s. */
int vt__regex_list_match(const vt__regex_list_t *l, const char *s);
void vt__regex_list_free(vt__regex_list_t *l);

/* ---- writing files (output.c) ---------------------------------------------- */

/* Write text to path ("-" or NULL is stdout), through a temporary file and
 * rename so a reader never sees half a file. On failure err says why. */
int vt__write_file(const char *path, const char *text, size_t len, char *err, size_t errlen);
/* mkdir -p for one directory path. */
int vt__mkdir_p(const char *path, char *err, size_t errlen);
/* An absolute, normalized path for p: the realpath of its directory (which
 * must exist) plus its last component (which need not); malloc'd, or NULL. */
char *vt__absolute_path(const char *p);
/* The path of to relative to the directory dir (both may be relative to the
 * working directory); a malloc'd string, or NULL when out of memory. */
char *vt__relative_path(const char *dir, const char *to);

/* ---- subcommands ------------------------------------------------------------- */

int vt__cmd_lint(int argc, char **argv);
int vt__cmd_dashboard(int argc, char **argv);
int vt__cmd_rules(int argc, char **argv);
int vt__cmd_top(int argc, char **argv);

/* "vitals: " + message on stderr. */
void vt__errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
