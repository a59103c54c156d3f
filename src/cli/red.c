/* red.c - RED-family and saturation detection over a parsed exposition (see red.h).
 *
 * A name may appear in several blocks of the document (a family split apart
 * or with repeated metadata); the label sets and values of all blocks with
 * that name are considered together. Names are compared as PromQL sees
 * them: an OpenMetrics counter "x" is the series "x_total".
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "cli/red.h"

static const char *const route_labels[] = {"route", "operation",  "handler", "endpoint",
                                           "path",  "uri",        "command", "op",
                                           "rpc",   "method_name"};
static const char *const status_labels[] = {"code", "status_code", "status", "http_status",
                                            "http_code"};

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The name PromQL queries a family's main series by. */
static char *promql_name(const vt_doc_t *doc, const vt_doc_family_t *f) {
    if (f->type == VT_DOC_COUNTER && doc->format == VT_FORMAT_OPENMETRICS) {
        return vt__aprintf("%s_total", f->name);
    }
    return vt__strdup(f->name);
}

/* The first family (of the given type) whose PromQL name is name. */
static const vt_doc_family_t *find_promql(const vt_doc_t *doc, const char *name,
                                          vt_doc_type_t type) {
    for (size_t i = 0; i < doc->family_count; i++) {
        const vt_doc_family_t *f = &doc->families[i];
        if (f->type != type) {
            continue;
        }
        size_t n = strlen(f->name);
        if (strcmp(f->name, name) == 0 &&
            !(type == VT_DOC_COUNTER && doc->format == VT_FORMAT_OPENMETRICS)) {
            return f;
        }
        if (type == VT_DOC_COUNTER && doc->format == VT_FORMAT_OPENMETRICS &&
            strncmp(f->name, name, n) == 0 && strcmp(name + n, "_total") == 0) {
            return f;
        }
    }
    return NULL;
}

/* 1 when any sample of any block named fam->name has the label. */
static int has_label(const vt_doc_t *doc, const char *fam, const char *label) {
    for (size_t i = 0; i < doc->family_count; i++) {
        const vt_doc_family_t *f = &doc->families[i];
        if (strcmp(f->name, fam) != 0) {
            continue;
        }
        for (size_t s = 0; s < f->sample_count; s++) {
            if (vt_doc_sample_label(&f->samples[s], label)) {
                return 1;
            }
        }
    }
    return 0;
}

static const char *first_label(const vt_doc_t *doc, const char *fam, const char *const *names,
                               size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (has_label(doc, fam, names[i])) {
            return names[i];
        }
    }
    return NULL;
}

const char *vt__red_route_label(const char *const *labels, size_t n) {
    for (size_t r = 0; r < sizeof route_labels / sizeof route_labels[0]; r++) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(labels[i], route_labels[r]) == 0) {
                return route_labels[r];
            }
        }
    }
    return NULL;
}

/* Whether every value of label on the family is a three-digit HTTP status. A
 * "code"-like label with no values at all counts as HTTP. */
static int http_codes(const vt_doc_t *doc, const char *fam, const char *label) {
    int any = 0;
    for (size_t i = 0; i < doc->family_count; i++) {
        const vt_doc_family_t *f = &doc->families[i];
        if (strcmp(f->name, fam) != 0) {
            continue;
        }
        for (size_t s = 0; s < f->sample_count; s++) {
            const char *v = vt_doc_sample_label(&f->samples[s], label);
            if (!v) {
                continue;
            }
            any = 1;
            if (strlen(v) != 3 || v[0] < '1' || v[0] > '5' || v[1] < '0' || v[1] > '9' ||
                v[2] < '0' || v[2] > '9') {
                return 0;
            }
        }
    }
    return any || strcmp(label, "status") != 0;
}

static char *dup_or_null(const char *s) {
    return s ? vt__strdup(s) : NULL;
}

static void red_free(vt__red_t *r) {
    free(r->name);
    free(r->histogram);
    free(r->counter);
    free(r->requests);
    free(r->route_label);
    free(r->method_label);
    free(r->errors);
    free(r->status_label);
    free(r->error_matcher);
    free(r->errors_route_label);
    free(r->duration_route_label);
    free(r->bounds);
    memset(r, 0, sizeof *r);
}

static int collect_bounds(const vt_doc_family_t *h, vt__red_t *r) {
    /* The bounds of the first series' buckets, as written, ascending. */
    for (size_t s = 0; s < h->sample_count; s++) {
        const vt_doc_sample_t *smp = &h->samples[s];
        if (!ends_with(smp->name, "_bucket")) {
            continue;
        }
        const char *le = vt_doc_sample_label(smp, "le");
        if (!le) {
            continue;
        }
        char *end;
        double v = strtod(le, &end);
        if (*end || v != v || v > 1e300 || v < -1e300) {
            if (r->bound_count) {
                break; /* +Inf ends the first series */
            }
            continue;
        }
        if (r->bound_count && v <= r->bounds[r->bound_count - 1]) {
            break; /* the next series begins */
        }
        double *b = realloc(r->bounds, (r->bound_count + 1) * sizeof *b);
        if (!b) {
            return VT_ENOMEM;
        }
        r->bounds = b;
        r->bounds[r->bound_count++] = v;
    }
    return 0;
}

/* Fill r for histogram h; returns 1 when it is a RED family, 0 when not, or
 * a negative error. */
static int build(const vt_doc_t *doc, const vt_doc_family_t *h, vt__red_t *r) {
    size_t n = strlen(h->name);
    size_t base_len = ends_with(h->name, "_duration_seconds") ? n - strlen("_duration_seconds")
                      : ends_with(h->name, "_seconds")        ? n - strlen("_seconds")
                                                              : n;
    if (base_len == 0) {
        return 0;
    }
    char *base = vt__aprintf("%.*s", (int)base_len, h->name);
    char *cand1 = vt__aprintf("%ss_total", base ? base : "");
    char *cand2 = vt__aprintf("%s_total", base ? base : "");
    if (!base || !cand1 || !cand2) {
        free(base);
        free(cand1);
        free(cand2);
        return VT_ENOMEM;
    }
    const vt_doc_family_t *c = find_promql(doc, cand1, VT_DOC_COUNTER);
    const char *cname = cand1;
    if (!c) {
        c = find_promql(doc, cand2, VT_DOC_COUNTER);
        cname = cand2;
    }
    size_t nstatus = sizeof status_labels / sizeof status_labels[0];
    size_t nroute = sizeof route_labels / sizeof route_labels[0];
    const char *h_status = first_label(doc, h->name, status_labels, nstatus);
    const char *c_status = c ? first_label(doc, c->name, status_labels, nstatus) : NULL;
    int rc = 0;
    if (!h_status && !c_status) {
        goto out; /* no way to tell errors: not a RED family */
    }
    r->name = base;
    base = NULL;
    r->histogram = vt__strdup(h->name);
    r->counter = c ? vt__strdup(cname) : NULL;
    const char *req_fam = c ? c->name : h->name;
    r->requests = c ? vt__strdup(cname) : vt__aprintf("%s_count", h->name);
    r->route_label = dup_or_null(first_label(doc, req_fam, route_labels, nroute));
    r->method_label = has_label(doc, req_fam, "method") ? vt__strdup("method") : NULL;
    const char *err_fam = c_status ? c->name : h->name;
    const char *status = c_status ? c_status : h_status;
    r->errors = c_status ? vt__strdup(cname) : vt__aprintf("%s_count", h->name);
    r->status_label = vt__strdup(status);
    r->err_kind = http_codes(doc, err_fam, status) ? VT__ERR_HTTP_5XX : VT__ERR_STATUS_VALUE;
    r->error_matcher = r->err_kind == VT__ERR_HTTP_5XX ? vt__aprintf("%s=~\"5..\"", status)
                                                       : vt__aprintf("%s=\"error\"", status);
    r->errors_route_label = dup_or_null(first_label(doc, err_fam, route_labels, nroute));
    r->duration_route_label = dup_or_null(first_label(doc, h->name, route_labels, nroute));
    if (!r->histogram || (c && !r->counter) || !r->requests || !r->errors || !r->status_label ||
        !r->error_matcher) {
        rc = VT_ENOMEM;
        goto out;
    }
    rc = collect_bounds(h, r);
    if (rc == 0) {
        rc = 1;
    }
out:
    free(base);
    free(cand1);
    free(cand2);
    if (rc <= 0) {
        red_free(r);
    }
    return rc;
}

static int by_red_name(const void *a, const void *b) {
    return strcmp(((const vt__red_t *)a)->name, ((const vt__red_t *)b)->name);
}

static int by_string(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether the words of name say "in flight" or "in progress". */
static int in_flight_name(const char *name) {
    static const char *const words[] = {"_in_flight", "_inflight", "_in_progress", "_inprogress"};
    char padded[512];
    snprintf(padded, sizeof padded, "_%s_", name);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        const char *p = strstr(padded, words[i]);
        if (p && p[strlen(words[i])] == '_') {
            return 1;
        }
    }
    return 0;
}

static int detect_saturation(const vt_doc_t *doc, vt__saturation_t *sat) {
    for (size_t i = 0; i < doc->family_count; i++) {
        const vt_doc_family_t *f = &doc->families[i];
        char *name = promql_name(doc, f);
        if (!name) {
            return VT_ENOMEM;
        }
        sat->cpu |= f->type == VT_DOC_COUNTER && strcmp(name, "process_cpu_seconds_total") == 0;
        if (f->type == VT_DOC_GAUGE) {
            sat->resident |= strcmp(name, "process_resident_memory_bytes") == 0;
            sat->virtual_mem |= strcmp(name, "process_virtual_memory_bytes") == 0;
            sat->open_fds |= strcmp(name, "process_open_fds") == 0;
            sat->max_fds |= strcmp(name, "process_max_fds") == 0;
            sat->threads |= strcmp(name, "process_threads") == 0;
        }
        int known = 0;
        for (size_t k = 0; k < sat->in_flight_count; k++) {
            known |= strcmp(sat->in_flight[k], name) == 0;
        }
        if (f->type == VT_DOC_GAUGE && !known && in_flight_name(name)) {
            char **list = realloc(sat->in_flight, (sat->in_flight_count + 1) * sizeof *list);
            if (!list) {
                free(name);
                return VT_ENOMEM;
            }
            sat->in_flight = list;
            sat->in_flight[sat->in_flight_count++] = name;
            continue;
        }
        free(name);
    }
    if (sat->in_flight_count) {
        qsort(sat->in_flight, sat->in_flight_count, sizeof *sat->in_flight, by_string);
    }
    return 0;
}

int vt__red_detect(const vt_doc_t *doc, vt__red_set_t *out) {
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (size_t i = 0; i < doc->family_count && rc == 0; i++) {
        const vt_doc_family_t *h = &doc->families[i];
        if (h->type != VT_DOC_HISTOGRAM) {
            continue;
        }
        if (!ends_with(h->name, "_seconds") && !(h->unit && strcmp(h->unit, "seconds") == 0)) {
            continue;
        }
        int seen = 0;
        for (size_t k = 0; k < out->count; k++) {
            seen |= strcmp(out->items[k].histogram, h->name) == 0;
        }
        if (seen) {
            continue;
        }
        vt__red_t r = {0};
        int found = build(doc, h, &r);
        if (found < 0) {
            rc = found;
        } else if (found) {
            vt__red_t *items = realloc(out->items, (out->count + 1) * sizeof *items);
            if (!items) {
                red_free(&r);
                rc = VT_ENOMEM;
            } else {
                out->items = items;
                out->items[out->count++] = r;
            }
        }
    }
    if (rc == 0) {
        rc = detect_saturation(doc, &out->sat);
    }
    if (rc) {
        vt__red_set_free(out);
        return rc;
    }
    if (out->count) {
        qsort(out->items, out->count, sizeof *out->items, by_red_name);
    }
    return 0;
}

static int kept(const char *const *names, size_t n, const vt__regex_list_t *include,
                const vt__regex_list_t *exclude) {
    int in = include->count == 0, out = 0;
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) {
            continue;
        }
        in |= vt__regex_list_match(include, names[i]);
        out |= vt__regex_list_match(exclude, names[i]);
    }
    return in && !out;
}

void vt__red_filter(vt__red_set_t *set, const vt__regex_list_t *include,
                    const vt__regex_list_t *exclude) {
    size_t j = 0;
    for (size_t i = 0; i < set->count; i++) {
        vt__red_t *r = &set->items[i];
        const char *names[] = {r->name, r->histogram, r->counter};
        if (kept(names, 3, include, exclude)) {
            set->items[j++] = *r;
        } else {
            red_free(r);
        }
    }
    set->count = j;
    j = 0;
    for (size_t i = 0; i < set->sat.in_flight_count; i++) {
        const char *names[] = {set->sat.in_flight[i]};
        if (kept(names, 1, include, exclude)) {
            set->sat.in_flight[j++] = set->sat.in_flight[i];
        } else {
            free(set->sat.in_flight[i]);
        }
    }
    set->sat.in_flight_count = j;
}

int vt__red_has_saturation(const vt__red_set_t *set) {
    const vt__saturation_t *s = &set->sat;
    return s->cpu || s->resident || s->open_fds || s->in_flight_count;
}

void vt__red_set_free(vt__red_set_t *set) {
    for (size_t i = 0; i < set->count; i++) {
        red_free(&set->items[i]);
    }
    free(set->items);
    for (size_t i = 0; i < set->sat.in_flight_count; i++) {
        free(set->sat.in_flight[i]);
    }
    free(set->sat.in_flight);
    memset(set, 0, sizeof *set);
}
