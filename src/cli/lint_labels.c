/* lint_labels.c - label values that suggest unbounded cardinality.
 *
 * Every distinct label value is a new series in Prometheus, so a label that
 * carries a user id, a request id or a raw URL path grows without bound. Two
 * checks, each reported once per (family, label) at the first sample that
 * shows it: values that look like raw identifiers (numbers of four digits or
 * more, or any number in an id-named label; UUIDs; hex ids; e-mail
 * addresses; paths or URLs with an id segment or many segments), and a
 * label with more distinct values in one family than a limit. Route
 * templates ("/users/:id", "/users/{id}") are bounded and pass. The status
 * code labels and the le and quantile labels are numbers by design and
 * exempt from the number rule.
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/lint.h"

#define MAX_LABEL_NAMES 64
#define MANY_SEGMENTS 6

static int is_digits(const char *s, size_t n) {
    if (n == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

static int is_hex_id(const char *s, size_t n, size_t min_len) {
    int digit = 0, letter = 0;
    if (n < min_len) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isdigit(c)) {
            digit = 1;
        } else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
            letter = 1;
        } else {
            return 0;
        }
    }
    return digit && letter;
}

static int is_uuid(const char *s, size_t n) {
    if (n != 36) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static int status_like(const char *label) {
    static const char *const names[] = {"code",      "status",    "status_code", "http_status",
                                        "http_code", "grpc_code", "le",          "quantile"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(label, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int id_like(const char *label) {
    size_t n = strlen(label);
    static const char *const exact[] = {"id", "uid", "pid", "tid", "uuid", "guid"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        if (strcasecmp(label, exact[i]) == 0) {
            return 1;
        }
    }
    return (n > 3 && strcmp(label + n - 3, "_id") == 0) ||
           (n > 2 && strcmp(label + n - 2, "Id") == 0) ||
           (n > 2 && strcmp(label + n - 2, "ID") == 0);
}

/* A path segment that stands for many values. */
static int id_segment(const char *s, size_t n) {
    return is_digits(s, n) || is_uuid(s, n) || is_hex_id(s, n, 8);
}

static const char *path_suspect(const char *s, size_t n) {
    size_t count = 0, templated = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == '/') {
            i++;
        }
        size_t start = i;
        while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#') {
            i++;
        }
        if (i > start) {
            count++;
            char c = s[start];
            if (c == ':' || c == '{' || c == '<' || c == '*') {
                templated++;
            } else if (id_segment(s + start, i - start)) {
                return "a path with an id in it";
            }
        }
        if (i < n && (s[i] == '?' || s[i] == '#')) {
            return "a path with a query string";
        }
    }
    if (count >= MANY_SEGMENTS && templated == 0) {
        return "a raw path with many segments";
    }
    return NULL;
}

const char *vt__label_value_suspect(const char *label, const char *v, size_t n) {
    if (is_uuid(v, n)) {
        return "a UUID";
    }
    if (n > 0 && v[0] == '/') {
        return path_suspect(v, n);
    }
    const char *scheme = memchr(v, ':', n);
    if (scheme && (size_t)(scheme - v) + 3 <= n && scheme[1] == '/' && scheme[2] == '/') {
        const char *host = scheme + 3;
        const char *path = memchr(host, '/', n - (size_t)(host - v));
        const char *why = path ? path_suspect(path, n - (size_t)(path - v)) : NULL;
        return why ? "a URL with an id or query in it" : NULL;
    }
    if (is_digits(v, n)) {
        if (status_like(label)) {
            return NULL;
        }
        return n >= 4 || id_like(label) ? "a number" : NULL;
    }
    if (is_hex_id(v, n, 12)) {
        return "a hex id";
    }
    const char *at = memchr(v, '@', n);
    if (at && at > v && memchr(at, '.', n - (size_t)(at - v)) && !memchr(v, ' ', n)) {
        return "an e-mail address";
    }
    return NULL;
}

/* ---- distinct values: an open-addressing set of (hash, value) ---------------- */

typedef struct vset {
    struct slot {
        uint64_t h;
        const char *v; /* NULL: empty */
        size_t n;
    } * slots;
    size_t cap; /* a power of two */
    size_t count;
} vset_t;

static uint64_t hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h ^ (h >> 29);
}

/* Insert; returns 1 when new, 0 when present, -1 out of memory. */
static int vset_add(vset_t *set, const char *v, size_t n) {
    if ((set->count + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        struct slot *slots = calloc(cap, sizeof *slots);
        if (!slots) {
            return -1;
        }
        for (size_t i = 0; i < set->cap; i++) {
            if (set->slots[i].v) {
                size_t j = (size_t)set->slots[i].h & (cap - 1);
                while (slots[j].v) {
                    j = (j + 1) & (cap - 1);
                }
                slots[j] = set->slots[i];
            }
        }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    uint64_t h = hash(v, n);
    size_t j = (size_t)h & (set->cap - 1);
    while (set->slots[j].v) {
        struct slot *s = &set->slots[j];
        if (s->h == h && s->n == n && memcmp(s->v, v, n) == 0) {
            return 0;
        }
        j = (j + 1) & (set->cap - 1);
    }
    set->slots[j] = (struct slot){h, v, n};
    set->count++;
    return 1;
}

static void vset_clear(vset_t *set) {
    if (set->slots) {
        memset(set->slots, 0, set->cap * sizeof *set->slots);
    }
    set->count = 0;
}

static const vt_doc_label_t *find_label(const vt_doc_sample_t *s, const char *name) {
    for (size_t k = 0; k < s->label_count; k++) {
        if (strcmp(s->labels[k].name, name) == 0) {
            return &s->labels[k];
        }
    }
    return NULL;
}

/* Up to 60 bytes of a value, quoted the way the exposition would quote it,
 * so that a problem stays on one line. */
static void quote_value(const char *v, size_t n, char *buf, size_t cap) {
    size_t j = 0;
    for (size_t i = 0; i < n && i < 60 && j + 3 < cap; i++) {
        char c = v[i];
        if (c == '\\' || c == '"') {
            buf[j++] = '\\';
            buf[j++] = c;
        } else if (c == '\n') {
            buf[j++] = '\\';
            buf[j++] = 'n';
        } else if ((unsigned char)c < 0x20) {
            buf[j++] = '?';
        } else {
            buf[j++] = c;
        }
    }
    if (n > 60 && j + 4 < cap) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j] = '\0';
}

static void lint_family(const vt_doc_family_t *f, const vt__label_lint_opts_t *o, vset_t *set,
                        vt__lint_t *out) {
    const char *names[MAX_LABEL_NAMES];
    size_t nnames = 0;
    for (size_t i = 0; i < f->sample_count; i++) {
        const vt_doc_sample_t *s = &f->samples[i];
        for (size_t k = 0; k < s->label_count && nnames < MAX_LABEL_NAMES; k++) {
            const char *ln = s->labels[k].name;
            int known = 0;
            for (size_t j = 0; j < nnames && !known; j++) {
                known = strcmp(names[j], ln) == 0;
            }
            if (!known) {
                names[nnames++] = ln;
            }
        }
    }
    for (size_t j = 0; j < nnames; j++) {
        const char *ln = names[j];
        if (strcmp(ln, "le") == 0 || strcmp(ln, "quantile") == 0 ||
            (f->type == VT_DOC_STATESET && strcmp(ln, f->name) == 0)) {
            continue;
        }
        int suspect_reported = 0;
        unsigned over_line = 0;
        vset_clear(set);
        for (size_t i = 0; i < f->sample_count; i++) {
            const vt_doc_sample_t *s = &f->samples[i];
            const vt_doc_label_t *l = find_label(s, ln);
            if (!l) {
                continue;
            }
            if (!suspect_reported) {
                const char *why = vt__label_value_suspect(ln, l->value, l->value_len);
                if (why) {
                    char shown[200];
                    quote_value(l->value, l->value_len, shown, sizeof shown);
                    suspect_reported = 1;
                    vt__lint_add(out, VT_SEV_WARNING, s->line,
                                 "label \"%s\" of \"%s\" has a value that looks like %s "
                                 "(\"%s\"): every distinct value is a new series; use a "
                                 "bounded value such as a route template",
                                 ln, f->name, why, shown);
                }
            }
            if (o->max_values) {
                int added = vset_add(set, l->value, l->value_len);
                if (added < 0) {
                    out->failed = 1;
                    return;
                }
                if (added && set->count == o->max_values + 1) {
                    over_line = s->line;
                }
            }
        }
        if (over_line) {
            vt__lint_add(out, VT_SEV_WARNING, over_line,
                         "label \"%s\" of \"%s\" has %zu distinct values (more than %zu): a "
                         "high-cardinality label",
                         ln, f->name, set->count, o->max_values);
        }
    }
}

void vt__lint_labels(const vt_doc_t *doc, const vt__label_lint_opts_t *opts, vt__lint_t *out) {
    vset_t set = {0};
    for (size_t i = 0; i < doc->family_count; i++) {
        lint_family(&doc->families[i], opts, &set, out);
    }
    free(set.slots);
}
