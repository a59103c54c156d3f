/* discover.c - reading the exposition `vitals dashboard` and `vitals rules`
 * generate from, and choosing its RED families (see discover.h).
 *
 * Both commands word their messages the same way, prefixed with the
 * command's name, so a user sees one vocabulary for the shared options.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/discover.h"

void vt__discover_init(vt__discover_opts_t *d) {
    d->format = VT__FORMAT_AUTO;
    d->timeout_s = 10;
}

void vt__discover_free(vt__discover_opts_t *d) {
    vt__regex_list_free(&d->include);
    vt__regex_list_free(&d->exclude);
}

/* Take c when it is one of ours: 0 taken, 1 not ours, -1 a bad value (reported). */
static int take(vt__discover_opts_t *d, const char *cmd, int c, const char *arg) {
    char err[256];
    switch (c) {
    case 'I':
    case 'X':
        if (vt__regex_list_add(c == 'I' ? &d->include : &d->exclude, arg, err, sizeof err)) {
            vt__errorf("%s: %s", cmd, err);
            return -1;
        }
        return 0;
    case 'f':
        if (vt__parse_format_name(arg, &d->format)) {
            vt__errorf("%s: --format must be text or openmetrics", cmd);
            return -1;
        }
        return 0;
    case 't':
        if (vt__parse_number(arg, 0.001, 86400, &d->timeout_s)) {
            vt__errorf("%s: --timeout needs seconds", cmd);
            return -1;
        }
        return 0;
    default:
        return 1;
    }
}

int vt__discover_getopt(vt__discover_opts_t *d, const char *cmd, int argc, char **argv,
                        const char *shortopts, const struct option *longopts) {
    int c, r = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1 &&
           (r = take(d, cmd, c, optarg)) == 0) {
    }
    return r < 0 ? VT__DISCOVER_BAD : c;
}

int vt__discover_source(const char *cmd, int argc, void (*usage)(FILE *)) {
    if (optind != argc - 1) {
        vt__errorf("%s: name one URL, file or - (stdin)", cmd);
        usage(stderr);
        return -1;
    }
    return 0;
}

int vt__discover_families(const vt__discover_opts_t *d, const char *cmd, const char *source,
                          vt_doc_t **out_doc, vt__red_set_t *out_set) {
    char err[512];
    if (vt__load_doc(source, d->format, d->timeout_s, out_doc, err, sizeof err)) {
        vt__errorf("%s: %s", cmd, err);
        return -1;
    }
    if (vt__red_detect(*out_doc, out_set)) {
        vt__errorf("%s: out of memory", cmd);
        return -1;
    }
    vt__red_filter(out_set, &d->include, &d->exclude);
    return 0;
}

const char *vt__discover_filtered(const vt__discover_opts_t *d) {
    return d->include.count || d->exclude.count ? " left by the filters" : "";
}
