/* top_calc.c - one endpoint's RED figures from consecutive scrapes: rates, errors, quantiles,
 * saturation.
 *
 * An update reads every sample that a figure needs once: the request and
 * error counters and the duration buckets of each RED family, the process
 * collector's metrics and in-flight gauges. Each counter-like sample is
 * recorded in the scrape's snapshot under its series key (name and label
 * set, labels sorted) and compared with the baseline's value for the same
 * key (see top.h for resets and new series). Differences are summed per
 * route; buckets per route and `le`.
 *
 * The RED families are found again (vt__red_detect) only when the names
 * and types of the exposition's families change, which keeps an update
 * linear in the samples. Everything runs on the main thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/top.h"

struct vt__top_snap {
    vt__top_map_t map; /* series key -> index into values */
    double *values;
    size_t count, cap;
};

static void snap_free(vt__top_snap_t *s) {
    if (s) {
        vt__top_map_free(&s->map);
        free(s->values);
        free(s);
    }
}

/* ---- keys ----------------------------------------------------------------------- */

/* A reusable byte buffer; unlike vt__str_t it holds NUL bytes. */
typedef struct buf {
    char *data;
    size_t len, cap;
} buf_t;

static int put(buf_t *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (!d) {
            return VT_ENOMEM;
        }
        b->data = d;
        b->cap = cap;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    return 0;
}

/* A string with its length in front, so that keys built of several never
 * run into each other, whatever bytes the strings hold. */
static int put_field(buf_t *b, const char *s, size_t n) {
    uint32_t len = (uint32_t)n;
    int rc = put(b, &len, sizeof len);
    return rc ? rc : put(b, s, n);
}

/* name, then the labels sorted by name; "le" by its value, which *out_le
 * receives (NaN without one). */
static int series_key(const vt_doc_sample_t *s, buf_t *b, double *out_le) {
    b->len = 0;
    *out_le = NAN;
    int rc = put_field(b, s->name, strlen(s->name));
    size_t order[32];
    size_t n = s->label_count;
    int sorted = n <= sizeof order / sizeof order[0];
    if (sorted) {
        for (size_t i = 0; i < n; i++) {
            size_t j = i;
            while (j > 0 && strcmp(s->labels[order[j - 1]].name, s->labels[i].name) > 0) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = i;
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const vt_doc_label_t *l = &s->labels[sorted ? order[i] : i];
        rc = put_field(b, l->name, strlen(l->name));
        if (rc) {
            break;
        }
        /* A bound is a number: "1" (text) and "1.0" (OpenMetrics) are one series. */
        char *end;
        int is_le = l->name[0] == 'l' && l->name[1] == 'e' && !l->name[2];
        double le = is_le ? strtod(l->value, &end) : 0;
        if (is_le && *l->value && !*end) {
            *out_le = le;
            rc = put_field(b, (const char *)&le, sizeof le);
        } else {
            rc = put_field(b, l->value, l->value_len);
        }
    }
    return rc;
}

/* ---- families and routes --------------------------------------------------------------- */

static char *dup_or_null(const char *s) {
    return s ? vt__strdup(s) : NULL;
}

static void family_free(vt__top_family_t *f) {
    free(f->name);
    free(f->histogram);
    free(f->requests);
    free(f->route_label);
}

/* Whether the first sample of the family named name has the label. */
static int first_has(const vt_doc_t *doc, const char *name, const char *label) {
    for (size_t i = 0; i < doc->family_count; i++) {
        const vt_doc_family_t *f = &doc->families[i];
        if (f->sample_count && strncmp(name, f->name, strlen(f->name)) == 0) {
            const vt_doc_sample_t *s = &f->samples[0];
            if (strncmp(s->name, name, strlen(name)) == 0) {
                return vt_doc_sample_label(s, label) != NULL;
            }
        }
    }
    return 0;
}

static uint64_t signature_of(const vt_doc_t *doc) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < doc->family_count; i++) {
        const vt_doc_family_t *f = &doc->families[i];
        for (const char *p = f->name; *p; p++) {
            h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
        }
        h = (h ^ (unsigned)f->type) * 0x100000001b3ULL;
        h = (h ^ 0xff) * 0x100000001b3ULL;
    }
    return h ^ (uint64_t)doc->format;
}

/* Find the RED families again and give each its family entry. */
static int redetect(vt__top_state_t *st, const vt_doc_t *doc) {
    vt__red_set_free(&st->red);
    free(st->red_family);
    st->red_family = NULL;
    st->red_valid = 0;
    int rc = vt__red_detect(doc, &st->red);
    if (rc) {
        return rc;
    }
    st->red_family = calloc(st->red.count ? st->red.count : 1, sizeof *st->red_family);
    if (!st->red_family) {
        return VT_ENOMEM;
    }
    for (size_t i = 0; i < st->red.count; i++) {
        const vt__red_t *r = &st->red.items[i];
        size_t k = 0;
        while (k < st->family_count && strcmp(st->families[k].name, r->name) != 0) {
            k++;
        }
        if (k == st->family_count) {
            vt__top_family_t *fs = realloc(st->families, (k + 1) * sizeof *fs);
            if (!fs) {
                return VT_ENOMEM;
            }
            st->families = fs;
            memset(&fs[k], 0, sizeof fs[k]);
            fs[k].name = vt__strdup(r->name);
            if (!fs[k].name) {
                return VT_ENOMEM;
            }
            st->family_count++;
        }
        vt__top_family_t *f = &st->families[k];
        free(f->histogram);
        free(f->requests);
        free(f->route_label);
        f->histogram = vt__strdup(r->histogram);
        f->requests = vt__strdup(r->requests);
        f->route_label = dup_or_null(r->route_label);
        f->by_method = r->method_label && first_has(doc, r->histogram, "method") &&
                       first_has(doc, r->requests, "method");
        if (!f->histogram || !f->requests || (r->route_label && !f->route_label)) {
            return VT_ENOMEM;
        }
        st->red_family[i] = k;
    }
    st->signature = signature_of(doc);
    st->red_valid = 1;
    return 0;
}

/* The last route looked up: consecutive samples mostly belong to one. */
typedef struct route_cache {
    size_t family;
    const char *method, *route;
    size_t index;
    int valid;
} route_cache_t;

static int same(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int route_of(vt__top_state_t *st, size_t fam, const char *method, const char *route,
                    buf_t *key, route_cache_t *cache, size_t *out_index) {
    if (cache->valid && cache->family == fam && same(cache->method, method) &&
        same(cache->route, route)) {
        *out_index = cache->index;
        return 0;
    }
    key->len = 0;
    uint32_t f32 = (uint32_t)fam;
    int rc = put(key, &f32, sizeof f32);
    if (rc == 0) {
        rc = put_field(key, method ? method : "", method ? strlen(method) + 1 : 0);
    }
    if (rc == 0) {
        rc = put_field(key, route ? route : "", route ? strlen(route) + 1 : 0);
    }
    if (rc) {
        return rc;
    }
    size_t index;
    if (!vt__top_map_get(&st->route_map, key->data, key->len, &index)) {
        /* A new line: build it whole before the map may point at it. */
        vt__top_route_t *rs = realloc(st->routes, (st->route_count + 1) * sizeof *rs);
        if (!rs) {
            return VT_ENOMEM;
        }
        st->routes = rs;
        vt__top_route_t r = {0};
        r.family = fam;
        r.method = dup_or_null(method);
        r.route = dup_or_null(route);
        r.name = method && route                 ? vt__aprintf("%s %s", method, route)
                 : route                         ? vt__strdup(route)
                 : method                        ? vt__strdup(method)
                 : st->families[fam].route_label ? vt__strdup("(none)")
                                                 : vt__strdup("(all)");
        r.rate = r.errors = r.error_ratio = r.p50 = r.p90 = r.p99 = NAN;
        if (!r.name || (method && !r.method) || (route && !r.route) ||
            vt__top_map_put(&st->route_map, key->data, key->len, st->route_count, &index, NULL) !=
                0) {
            free(r.name);
            free(r.method);
            free(r.route);
            return VT_ENOMEM;
        }
        rs[st->route_count++] = r;
    }
    cache->valid = 1;
    cache->family = fam;
    cache->method = method;
    cache->route = route;
    cache->index = index;
    *out_index = index;
    return 0;
}

static int add_bucket(vt__top_route_t *r, double le, double d) {
    size_t lo = 0, hi = r->bucket_count;
    /* Buckets arrive in increasing le: try the end first. */
    if (hi && r->buckets[hi - 1].le < le) {
        lo = hi;
    } else {
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (r->buckets[mid].le < le) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo < r->bucket_count && r->buckets[lo].le == le) {
            r->buckets[lo].count += d;
            return 0;
        }
    }
    if (r->bucket_count == r->bucket_cap) {
        size_t cap = r->bucket_cap ? r->bucket_cap * 2 : 16;
        vt__top_bucket_t *b = realloc(r->buckets, cap * sizeof *b);
        if (!b) {
            return VT_ENOMEM;
        }
        r->buckets = b;
        r->bucket_cap = cap;
    }
    memmove(&r->buckets[lo + 1], &r->buckets[lo], (r->bucket_count - lo) * sizeof *r->buckets);
    r->buckets[lo].le = le;
    r->buckets[lo].count = d;
    r->bucket_count++;
    return 0;
}

/* ---- one update ------------------------------------------------------------------------ */

typedef struct update {
    vt__top_state_t *st;
    vt__top_snap_t *snap;
    buf_t key, route_key;
    route_cache_t cache;
    char **bucket_names; /* per RED item: <histogram>_bucket */
    double cpu_delta;
    int cpu_seen;
    double le; /* the "le" of the sample delta_of() read last, or NaN */
} update_t;

/* Record the sample in the new snapshot; *out_delta is its increase since
 * the baseline (0 without one). Returns 0, 1 when the series was already
 * read in this scrape (skip it), or VT_ENOMEM. */
static int delta_of(update_t *u, const vt_doc_sample_t *s, double *out_delta) {
    int rc = series_key(s, &u->key, &u->le);
    if (rc) {
        return rc;
    }
    vt__top_snap_t *sn = u->snap;
    size_t index;
    int found;
    rc = vt__top_map_put(&sn->map, u->key.data, u->key.len, sn->count, &index, &found);
    if (rc) {
        return rc;
    }
    if (found) {
        *out_delta = 0;
        return 1;
    }
    if (sn->count == sn->cap) {
        size_t cap = sn->cap ? sn->cap * 2 : 1024;
        double *v = realloc(sn->values, cap * sizeof *v);
        if (!v) {
            return VT_ENOMEM;
        }
        sn->values = v;
        sn->cap = cap;
    }
    double v = s->value;
    sn->values[sn->count++] = v;
    *out_delta = 0;
    const vt__top_snap_t *prev = u->st->prev;
    if (prev && v >= 0) { /* NaN and negative values add nothing */
        size_t pi;
        if (vt__top_map_get(&prev->map, u->key.data, u->key.len, &pi)) {
            double pv = prev->values[pi];
            *out_delta = v >= pv ? v - pv : v; /* lower: a reset, counting from 0 */
        } else {
            *out_delta = v; /* a new series: counting from 0 */
        }
    }
    return 0;
}

static int is_error(const vt__red_t *r, const vt_doc_sample_t *s) {
    const char *v = vt_doc_sample_label(s, r->status_label);
    if (!v) {
        return 0;
    }
    if (r->err_kind == VT__ERR_HTTP_5XX) {
        return v[0] == '5' && v[1] && v[2] && !v[3];
    }
    return strcmp(v, "error") == 0;
}

/* What the family f may hold for RED item r: its requests, errors or buckets. */
static int relevant(const vt_doc_family_t *f, const vt__red_t *r) {
    static const char *const suffixes[] = {"", "_total", "_count", "_bucket"};
    const char *names[] = {r->requests, r->errors, r->histogram};
    size_t n = strlen(f->name);
    for (size_t i = 0; i < 3; i++) {
        if (strncmp(names[i], f->name, n) != 0) {
            continue;
        }
        for (size_t k = 0; k < 4; k++) {
            if (strcmp(names[i] + n, suffixes[k]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int red_sample(update_t *u, size_t ri, const vt_doc_sample_t *s, int *have_delta,
                      double *delta) {
    vt__top_state_t *st = u->st;
    const vt__red_t *r = &st->red.items[ri];
    int req = strcmp(s->name, r->requests) == 0;
    int errors_metric = strcmp(s->name, r->errors) == 0;
    int err = errors_metric && is_error(r, s);
    int bkt = strcmp(s->name, u->bucket_names[ri]) == 0;
    if (!req && !errors_metric && !bkt) {
        return 0;
    }
    if (!*have_delta) {
        int rc = delta_of(u, s, delta);
        if (rc < 0) {
            return rc;
        }
        if (rc == 1) {
            return 0; /* a duplicate series: the first one counts */
        }
        *have_delta = 1;
    }
    size_t fam = st->red_family[ri];
    const char *label = req             ? r->route_label
                        : errors_metric ? r->errors_route_label
                                        : r->duration_route_label;
    const char *route = label ? vt_doc_sample_label(s, label) : NULL;
    const char *method = st->families[fam].by_method ? vt_doc_sample_label(s, "method") : NULL;
    size_t index;
    int rc = route_of(st, fam, method, route, &u->route_key, &u->cache, &index);
    if (rc) {
        return rc;
    }
    vt__top_route_t *rt = &st->routes[index];
    rt->present = 1;
    if (req) {
        rt->req_delta += *delta;
    }
    if (err) {
        rt->err_delta += *delta;
    }
    if (bkt && !isnan(u->le)) {
        rc = add_bucket(rt, u->le, *delta);
    }
    return rc;
}

static int sat_sample(update_t *u, const vt_doc_family_t *f, const vt_doc_sample_t *s) {
    vt__top_sat_t *sat = &u->st->sat;
    if (strncmp(f->name, "process_", 8) == 0) {
        if (strcmp(s->name, "process_cpu_seconds_total") == 0 && !u->cpu_seen) {
            double d;
            int rc = delta_of(u, s, &d);
            if (rc < 0) {
                return rc;
            }
            u->cpu_delta = d;
            u->cpu_seen = 1;
        } else if (strcmp(s->name, "process_resident_memory_bytes") == 0) {
            sat->resident = s->value;
        } else if (strcmp(s->name, "process_open_fds") == 0) {
            sat->open_fds = s->value;
        } else if (strcmp(s->name, "process_max_fds") == 0) {
            sat->max_fds = s->value;
        }
    }
    for (size_t i = 0; i < sat->in_flight_count; i++) {
        if (strcmp(s->name, sat->in_flight[i].name) == 0) {
            double v = sat->in_flight[i].value;
            sat->in_flight[i].value = isnan(v) ? s->value : v + s->value;
        }
    }
    return 0;
}

/* Saturation figures start unknown; the in-flight list follows the RED set. */
static int sat_begin(vt__top_state_t *st) {
    vt__top_sat_t *sat = &st->sat;
    sat->cpu = sat->resident = sat->open_fds = sat->max_fds = NAN;
    size_t n = st->red.sat.in_flight_count;
    int same_list = sat->in_flight_count == n;
    for (size_t i = 0; same_list && i < n; i++) {
        same_list = strcmp(sat->in_flight[i].name, st->red.sat.in_flight[i]) == 0;
    }
    if (!same_list) {
        for (size_t i = 0; i < sat->in_flight_count; i++) {
            free(sat->in_flight[i].name);
        }
        free(sat->in_flight);
        sat->in_flight = NULL;
        sat->in_flight_count = 0;
        if (n) {
            sat->in_flight = calloc(n, sizeof *sat->in_flight);
            if (!sat->in_flight) {
                return VT_ENOMEM;
            }
            for (size_t i = 0; i < n; i++) {
                sat->in_flight[i].name = vt__strdup(st->red.sat.in_flight[i]);
                if (!sat->in_flight[i].name) {
                    return VT_ENOMEM;
                }
                sat->in_flight_count++;
            }
        }
    }
    for (size_t i = 0; i < sat->in_flight_count; i++) {
        sat->in_flight[i].value = NAN;
    }
    return 0;
}

static int read_doc(update_t *u, const vt_doc_t *doc) {
    vt__top_state_t *st = u->st;
    size_t *cands = malloc((st->red.count + 1) * sizeof *cands);
    if (!cands) {
        return VT_ENOMEM;
    }
    int rc = 0;
    for (size_t fi = 0; fi < doc->family_count && rc == 0; fi++) {
        const vt_doc_family_t *f = &doc->families[fi];
        size_t nc = 0;
        for (size_t i = 0; i < st->red.count; i++) {
            if (relevant(f, &st->red.items[i])) {
                cands[nc++] = i;
            }
        }
        int sat = strncmp(f->name, "process_", 8) == 0;
        for (size_t i = 0; !sat && i < st->sat.in_flight_count; i++) {
            sat = strcmp(f->name, st->sat.in_flight[i].name) == 0;
        }
        if (!nc && !sat) {
            continue;
        }
        for (size_t si = 0; si < f->sample_count && rc == 0; si++) {
            const vt_doc_sample_t *s = &f->samples[si];
            int have_delta = 0;
            double delta = 0;
            for (size_t k = 0; k < nc && rc == 0; k++) {
                rc = red_sample(u, cands[k], s, &have_delta, &delta);
            }
            if (sat && rc == 0) {
                rc = sat_sample(u, f, s);
            }
        }
    }
    free(cands);
    return rc;
}

static void finish_route(vt__top_state_t *st, vt__top_route_t *r, double **scratch,
                         size_t *scratch_cap) {
    r->rate = r->errors = r->error_ratio = r->p50 = r->p90 = r->p99 = NAN;
    if (!r->present || !st->have_rates) {
        return;
    }
    double dt = st->interval;
    r->rate = r->req_delta / dt;
    r->errors = r->err_delta / dt;
    r->error_ratio = r->req_delta > 0 ? r->err_delta / r->req_delta : NAN;
    size_t n = r->bucket_count;
    if (n > *scratch_cap) {
        double *s = realloc(*scratch, 2 * n * sizeof *s);
        if (s) {
            *scratch = s;
            *scratch_cap = n;
        }
    }
    if (n && n <= *scratch_cap) {
        double *le = *scratch, *c = *scratch + *scratch_cap;
        for (size_t i = 0; i < n; i++) {
            le[i] = r->buckets[i].le;
            c[i] = r->buckets[i].count;
        }
        r->p50 = vt__top_quantile(0.5, le, c, n);
        r->p90 = vt__top_quantile(0.9, le, c, n);
        r->p99 = vt__top_quantile(0.99, le, c, n);
    }
    r->history[r->history_next] = r->rate;
    r->history_next = (r->history_next + 1) % VT__TOP_HISTORY;
    if (r->history_len < VT__TOP_HISTORY) {
        r->history_len++;
    }
}

void vt__top_state_init(vt__top_state_t *st) {
    memset(st, 0, sizeof *st);
    st->interval = NAN;
    st->sat.cpu = st->sat.resident = st->sat.open_fds = st->sat.max_fds = NAN;
}

void vt__top_state_reset(vt__top_state_t *st) {
    snap_free(st->prev);
    st->prev = NULL;
}

int vt__top_state_update(vt__top_state_t *st, const vt_doc_t *doc, double t) {
    int rc = 0;
    if (!st->red_valid || st->signature != signature_of(doc)) {
        rc = redetect(st, doc);
    }
    update_t u = {0};
    u.st = st;
    u.snap = calloc(1, sizeof *u.snap);
    u.bucket_names = calloc(st->red.count + 1, sizeof *u.bucket_names);
    if (rc == 0 && (!u.snap || !u.bucket_names)) {
        rc = VT_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < st->red.count; i++) {
        u.bucket_names[i] = vt__aprintf("%s_bucket", st->red.items[i].histogram);
        if (!u.bucket_names[i]) {
            rc = VT_ENOMEM;
        }
    }
    if (rc == 0) {
        rc = sat_begin(st);
    }
    st->have_rates = st->prev && t > st->prev_time;
    st->interval = st->have_rates ? t - st->prev_time : NAN;
    for (size_t i = 0; i < st->route_count; i++) {
        vt__top_route_t *r = &st->routes[i];
        r->present = 0;
        r->req_delta = r->err_delta = 0;
        r->bucket_count = 0;
    }
    if (rc == 0) {
        rc = read_doc(&u, doc);
    }
    if (rc == 0) {
        double *scratch = NULL;
        size_t scratch_cap = 0;
        for (size_t i = 0; i < st->route_count; i++) {
            finish_route(st, &st->routes[i], &scratch, &scratch_cap);
        }
        free(scratch);
        st->sat.cpu = st->have_rates && u.cpu_seen ? u.cpu_delta / st->interval : NAN;
        snap_free(st->prev);
        st->prev = u.snap;
        st->prev_time = t;
        u.snap = NULL;
    } else {
        vt__top_state_reset(st);
        st->have_rates = 0;
        st->red_valid = 0;
    }
    snap_free(u.snap);
    for (size_t i = 0; u.bucket_names && i < st->red.count; i++) {
        free(u.bucket_names[i]);
    }
    free(u.bucket_names);
    free(u.key.data);
    free(u.route_key.data);
    return rc;
}

void vt__top_state_free(vt__top_state_t *st) {
    vt__top_state_reset(st);
    for (size_t i = 0; i < st->route_count; i++) {
        vt__top_route_t *r = &st->routes[i];
        free(r->name);
        free(r->method);
        free(r->route);
        free(r->buckets);
    }
    free(st->routes);
    for (size_t i = 0; i < st->family_count; i++) {
        family_free(&st->families[i]);
    }
    free(st->families);
    for (size_t i = 0; i < st->sat.in_flight_count; i++) {
        free(st->sat.in_flight[i].name);
    }
    free(st->sat.in_flight);
    vt__top_map_free(&st->route_map);
    vt__red_set_free(&st->red);
    free(st->red_family);
    memset(st, 0, sizeof *st);
}
