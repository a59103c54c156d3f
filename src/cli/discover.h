/* discover.h - what `vitals dashboard` and `vitals rules` share: the options
 * that choose what to read and which families to keep, and reading the
 * exposition named on the command line down to its selected RED families.
 *
 * Errors are reported on stderr as "vitals: <command>: ..." and the caller
 * exits with VT_EXIT_USAGE; nothing here is shared between threads.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CLI_DISCOVER_H
#define VT_CLI_DISCOVER_H

#include <getopt.h>
#include <stdio.h>

#include "cli/red.h"

/* --format, --timeout, --include and --exclude, as parsed. */
typedef struct vt__discover_opts {
    int format;                        /* VT__FORMAT_AUTO unless --format */
    double timeout_s;                  /* --timeout; default 10 */
    vt__regex_list_t include, exclude; /* --include, --exclude */
} vt__discover_opts_t;

/* The defaults: format guessed, 10 s timeout, no filters. */
void vt__discover_init(vt__discover_opts_t *d);
void vt__discover_free(vt__discover_opts_t *d);

/* Our entries of a command's getopt_long table. */
/* clang-format off */
#define VT__DISCOVER_LONGOPTS                   \
    {"include", required_argument, NULL, 'I'},  \
    {"exclude", required_argument, NULL, 'X'},  \
    {"format", required_argument, NULL, 'f'},   \
    {"timeout", required_argument, NULL, 't'}
/* clang-format on */

/* What vt__discover_getopt returns after a bad value of one of our options. */
#define VT__DISCOVER_BAD (-2)

/* getopt_long over argv that takes our options itself: returns the next
 * option that is not ours as getopt_long does, -1 at the end, or
 * VT__DISCOVER_BAD after a bad value (reported). */
int vt__discover_getopt(vt__discover_opts_t *d, const char *cmd, int argc, char **argv,
                        const char *shortopts, const struct option *longopts);

/* After getopt_long: exactly one URL, file or "-" must remain; otherwise
 * report it, print usage on stderr and return -1. */
int vt__discover_source(const char *cmd, int argc, void (*usage)(FILE *));

/* Read source, find its RED families and keep those the filters select.
 * Returns 0, or -1 (reported). */
int vt__discover_families(const vt__discover_opts_t *d, const char *cmd, const char *source,
                          vt_doc_t **out_doc, vt__red_set_t *out_set);

/* " left by the filters" when --include or --exclude was given, else "":
 * the end of the message that no family was found. */
const char *vt__discover_filtered(const vt__discover_opts_t *d);

#endif
