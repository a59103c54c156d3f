/* lint.c - `vitals lint`: every problem of an exposition, one per line, with promtool's exit codes.
 *
 * Invariant: the exit status is 1 exactly when a strict parse of the input in
 * the chosen format fails, that is when the input is not valid in that
 * format. The input is parsed strictly first; when that fails on syntax, the
 * reason is reported and a lenient parse (Prometheus' tolerances) recovers
 * the document so that every other problem is listed too. Validation errors
 * come from vt_doc_validate(), which is what a strict parse applies; the
 * checks of lint_names.c and lint_labels.c only ever add warnings.
 *
 * SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/lint.h"

/* ---- the problem list -------------------------------------------------------- */

int vt__lint_add(vt__lint_t *l, vt_severity_t severity, unsigned line, const char *fmt, ...) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        vt__lint_item_t *items = realloc(l->items, cap * sizeof *items);
        if (!items) {
            l->failed = 1;
            return VT_ENOMEM;
        }
        l->items = items;
        l->cap = cap;
    }
    vt__str_t s = {0};
    va_list ap;
    va_start(ap, fmt);
    vt__str_vprintf(&s, fmt, ap);
    va_end(ap);
    if (vt__str_ok(&s)) {
        vt__str_free(&s);
        l->failed = 1;
        return VT_ENOMEM;
    }
    vt__lint_item_t *it = &l->items[l->count++];
    it->severity = severity;
    it->line = line;
    it->message = vt__str_take(&s);
    if (severity == VT_SEV_ERROR) {
        l->errors++;
    } else {
        l->warnings++;
    }
    return 0;
}

static unsigned sort_key(unsigned line) {
    return line == VT__LINT_NO_LINE ? UINT_MAX : line;
}

void vt__lint_sort(vt__lint_t *l) {
    /* Insertion sort keeps equal lines in the order the checks found them;
     * problems arrive mostly in line order already. */
    for (size_t i = 1; i < l->count; i++) {
        vt__lint_item_t it = l->items[i];
        size_t j = i;
        while (j > 0 && sort_key(l->items[j - 1].line) > sort_key(it.line)) {
            l->items[j] = l->items[j - 1];
            j--;
        }
        l->items[j] = it;
    }
}

void vt__lint_free(vt__lint_t *l) {
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].message);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* ---- the command ------------------------------------------------------------- */

typedef struct lint_opts {
    int format; /* VT__FORMAT_AUTO or a vt_format_t */
    double timeout_s;
    vt__label_lint_opts_t labels;
    int cardinality; /* run the label checks */
    int quiet;       /* print errors only */
} lint_opts_t;

static void usage(FILE *f) {
    fputs("Usage: vitals lint [options] URL|FILE|-...\n"
          "\n"
          "Check Prometheus expositions and print one problem per line:\n"
          "  SOURCE:LINE: error|warning: message\n"
          "Errors break the format (the input is not valid text 0.0.4 or OpenMetrics 1.0):\n"
          "syntax, repeated or misplaced metadata, families split apart, duplicate series,\n"
          "histograms without +Inf, buckets not cumulative, _count unequal to +Inf, ...\n"
          "Warnings are naming rules (promtool's check metrics) and label values that look\n"
          "unbounded (numbers, UUIDs, hex ids, raw paths, too many distinct values).\n"
          "\n"
          "Options:\n"
          "  --format=text|openmetrics  read the input in this format; exit status 1 then\n"
          "                             means exactly \"not valid in that format\" (default:\n"
          "                             the Content-Type of a URL, else guessed)\n"
          "  --max-label-values=N       warn when a label of one family has more than N\n"
          "                             distinct values (default 100; 0 turns it off)\n"
          "  --no-cardinality           skip the label value checks\n"
          "  --timeout=SECONDS          give up fetching a URL after this long (default 10)\n"
          "  -q, --quiet                print errors only (the exit status still counts\n"
          "                             warnings)\n"
          "  -h, --help                 show this help\n"
          "\n"
          "Exit status: 0 no problem, 1 errors, 2 usage or input error, 3 warnings only.\n",
          f);
}

static int parse_args(int argc, char **argv, lint_opts_t *o) {
    static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
                                             {"max-label-values", required_argument, NULL, 'm'},
                                             {"no-cardinality", no_argument, NULL, 'n'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    o->format = VT__FORMAT_AUTO;
    o->timeout_s = 10;
    o->labels.max_values = 100;
    o->cardinality = 1;
    o->quiet = 0;
    optind = 1;
    int c;
    double v;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (vt__parse_format_name(optarg, &o->format)) {
                vt__errorf("lint: --format must be text or openmetrics, not \"%s\"", optarg);
                return -1;
            }
            break;
        case 'm':
            if (vt__parse_number(optarg, 0, 1e9, &v) || v != (double)(size_t)v) {
                vt__errorf("lint: --max-label-values needs a whole number, not \"%s\"", optarg);
                return -1;
            }
            o->labels.max_values = (size_t)v;
            break;
        case 'n':
            o->cardinality = 0;
            break;
        case 't':
            if (vt__parse_number(optarg, 0.001, 86400, &o->timeout_s)) {
                vt__errorf("lint: --timeout needs seconds, not \"%s\"", optarg);
                return -1;
            }
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            usage(stdout);
            exit(VT_EXIT_OK);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind >= argc) {
        vt__errorf("lint: name a URL, a file or - (stdin)");
        usage(stderr);
        return -1;
    }
    return 0;
}

static int same_problem(const vt_parse_error_t *a, const vt_parse_error_t *b) {
    return a->line == b->line && strcmp(a->message, b->message) == 0;
}

static void add_parse_error(vt__lint_t *l, const vt_parse_error_t *e) {
    char what[VT_PARSE_MSG_SIZE + 32];
    vt__parse_error_text(e, what, sizeof what);
    vt__lint_add(l, VT_SEV_ERROR, e->line, "%s", what);
}

/* Lint one parsed (or unparsable) input into l. */
static int lint_buffer(const vt__input_t *in, vt_format_t format, const lint_opts_t *o,
                       vt__lint_t *l) {
    vt_parse_opts_t popts = {format, VT_PARSE_STRICT};
    vt_doc_t *doc = NULL;
    vt_parse_error_t strict_err, lenient_err;
    int rc = vt_parse(in->data, in->len, &popts, &doc, &strict_err);
    if (rc == VT_ENOMEM) {
        return rc;
    }
    if (rc) {
        /* A validation failure is listed again, with its siblings, by
         * vt_doc_validate() below; a syntax failure is listed here. */
        if (!strict_err.semantic) {
            add_parse_error(l, &strict_err);
        }
        popts.mode = VT_PARSE_LENIENT;
        rc = vt_parse(in->data, in->len, &popts, &doc, &lenient_err);
        if (rc == VT_ENOMEM) {
            return rc;
        }
        if (rc) {
            if (strict_err.semantic || !same_problem(&strict_err, &lenient_err)) {
                add_parse_error(l, &lenient_err);
            }
            return 0;
        }
    }
    vt_problems_t probs = {0};
    rc = vt_doc_validate(doc, &probs);
    if (rc == 0) {
        for (size_t i = 0; i < probs.count; i++) {
            const vt_problem_t *p = &probs.items[i];
            vt__lint_add(l, p->severity, p->line == UINT_MAX ? VT__LINT_NO_LINE : p->line, "%s",
                         p->message);
        }
        vt__lint_names(doc, l);
        if (o->cardinality) {
            vt__lint_labels(doc, &o->labels, l);
        }
    }
    vt_problems_free(&probs);
    vt_doc_free(doc);
    return rc ? rc : (l->failed ? VT_ENOMEM : 0);
}

static void print_problems(const char *name, const vt__lint_t *l, int quiet) {
    for (size_t i = 0; i < l->count; i++) {
        const vt__lint_item_t *it = &l->items[i];
        if (quiet && it->severity != VT_SEV_ERROR) {
            continue;
        }
        const char *sev = it->severity == VT_SEV_ERROR ? "error" : "warning";
        if (it->line == VT__LINT_NO_LINE) {
            printf("%s: %s: %s\n", name, sev, it->message);
        } else {
            printf("%s:%u: %s: %s\n", name, it->line, sev, it->message);
        }
    }
}

int vt__cmd_lint(int argc, char **argv) {
    lint_opts_t o;
    if (parse_args(argc, argv, &o)) {
        return VT_EXIT_USAGE;
    }
    int status = VT_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        vt__input_t in;
        char err[512];
        if (vt__input_read(argv[i], o.format, o.timeout_s, &in, err, sizeof err)) {
            vt__errorf("lint: %s", err);
            status = VT_EXIT_USAGE;
            continue;
        }
        vt_format_t format = vt__input_format(&in, o.format);
        if (o.format != VT__FORMAT_AUTO && in.content_type) {
            vt_format_t served;
            if (vt_parse_format_from_content_type(in.content_type, &served) == 0 &&
                served != format) {
                fprintf(stderr, "vitals: lint: %s: served as \"%s\", read as --format asks\n",
                        in.name, in.content_type);
            }
        }
        vt__lint_t l = {0};
        int rc = lint_buffer(&in, format, &o, &l);
        if (rc) {
            vt__errorf("lint: %s: %s", in.name, vt_strerror(rc));
            status = VT_EXIT_USAGE;
        } else {
            vt__lint_sort(&l);
            print_problems(in.name, &l, o.quiet);
            if (l.errors && status != VT_EXIT_USAGE) {
                status = VT_EXIT_INVALID;
            } else if (l.warnings && status == VT_EXIT_OK) {
                status = VT_EXIT_WARNINGS;
            }
        }
        vt__lint_free(&l);
        vt__input_free(&in);
    }
    fflush(stdout);
    return status;
}
