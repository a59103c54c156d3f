/* red.c - the framework-agnostic RED middleware: request counts, durations,
 * sizes and in-flight requests by (method, route template, status code).
 *
 * Routes live in a trie that requests match without a lock while
 * vt_red_route_add() inserts under the mutex (see routes.c for the memory
 * orders). Route objects are never freed before vt_red_destroy(), so the
 * pointer a request keeps between begin and end stays valid.
 *
 * Each route holds, per normalized method, a 16-slot open-addressed cache of
 * "bundles" (the bound series of one status code). A slot goes from NULL to a
 * bundle once, by compare-and-swap, and never changes again; a bundle is
 * fully written before it is published (release) and read after an acquire
 * load, so readers see its series pointers complete. A racing loser frees
 * its own bundle; both bound the same series, so nothing is counted twice.
 * Codes past the 16 slots of a (route, method) bind through the core on each
 * request, which is a lock-free lookup there.
 *
 * In flight: requests count themselves in two private per-thread counters
 * (started, finished) and the gauge reads their difference at scrape time, so
 * no shared atomic is touched per request.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

#define N_METHODS 10 /* the nine known methods and "other" */
#define METHOD_OTHER 9
#define N_SLOTS 16
#define MAX_ROUTES 4096
#define SIZE_BUCKETS 10

static const char *const method_names[N_METHODS] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "other"};

typedef struct bundle {
    int code;
    vt_counter_series_t *requests;
    vt_histogram_series_t *duration;
    vt_histogram_series_t *request_size;  /* NULL when sizes are off */
    vt_histogram_series_t *response_size; /* NULL when sizes are off */
} bundle_t;

typedef struct route {
    char *pattern; /* the route label value */
    _Atomic(bundle_t *) slots[N_METHODS][N_SLOTS];
} route_t;

struct vt_red {
    vt_registry_t *reg;
    vt_counter_t *requests;
    vt_histogram_t *duration;
    vt_gauge_t *in_flight_fam;
    vt_gauge_series_t *in_flight; /* NULL when off; its value is started - finished */
    vt_counter_t *started_fam;    /* private (unregistered) counters behind the gauge */
    vt_counter_t *finished_fam;
    vt_counter_series_t *started, *finished;
    vt_histogram_t *request_size;
    vt_histogram_t *response_size;
    route_t unmatched;
    vt__rtrie_t *trie;  /* inserted into under mu, matched without it */
    pthread_mutex_t mu; /* serializes route additions */
    route_t **routes;   /* every route, for destroy; guarded by mu */
    size_t n_routes, cap_routes;
};

void vt_red_opts_init(vt_red_opts_t *opts) {
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->requests_name = "http_requests_total";
    opts->duration_name = "http_request_duration_seconds";
    opts->in_flight_name = "http_requests_in_flight";
    opts->request_size_name = "http_request_size_bytes";
    opts->response_size_name = "http_response_size_bytes";
    opts->method_label = "method";
    opts->route_label = "route";
    opts->code_label = "code";
    opts->unmatched_route = VT_RED_UNMATCHED;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void drop_family(vt_registry_t *reg, vt_family_t *fam) {
    if (!fam)
        return;
    vt_registry_unregister(reg, fam);
    vt_family_destroy(fam);
}

static void drop_families(vt_red_t *r) {
    drop_family(r->reg, r->requests ? vt_counter_family(r->requests) : NULL);
    drop_family(r->reg, r->duration ? vt_histogram_family(r->duration) : NULL);
    drop_family(r->reg, r->in_flight_fam ? vt_gauge_family(r->in_flight_fam) : NULL);
    drop_family(r->reg, r->request_size ? vt_histogram_family(r->request_size) : NULL);
    drop_family(r->reg, r->response_size ? vt_histogram_family(r->response_size) : NULL);
    r->requests = NULL;
    r->duration = NULL;
    r->in_flight_fam = NULL;
    if (r->started_fam)
        vt_family_destroy(vt_counter_family(r->started_fam));
    if (r->finished_fam)
        vt_family_destroy(vt_counter_family(r->finished_fam));
    r->started_fam = NULL;
    r->finished_fam = NULL;
    r->request_size = NULL;
    r->response_size = NULL;
}

/* The in-flight gauge at scrape time. Requests count themselves in two
 * per-thread counters (no shared atomic on the request path); reading
 * "finished" before "started" keeps the difference from going below zero,
 * as both only grow. The counters are in no registry, so reading them here,
 * under the gauge family's lock, touches no lock a scrape holds. */
static double in_flight_value(void *user_data) {
    vt_red_t *r = user_data;
    double done = vt_counter_get(r->finished);
    return vt_counter_get(r->started) - done;
}

static int make_histogram(vt_red_t *r, const vt_red_opts_t *o, const char *name, const char *help,
                          const char *const *labels, const double *buckets, size_t count,
                          vt_histogram_t **out) {
    vt_metric_opts_t mo;
    vt_metric_opts_init(&mo);
    mo.name = name;
    mo.help = help;
    mo.label_names = labels;
    mo.const_labels = o->const_labels;
    mo.buckets = buckets;
    mo.bucket_count = count;
    mo.max_series = o->max_series;
    if (ends_with(name, "_seconds"))
        mo.unit = "seconds";
    else if (ends_with(name, "_bytes"))
        mo.unit = "bytes";
    return vt_histogram_create_opts(r->reg, &mo, out);
}

static int make_families(vt_red_t *r, const vt_red_opts_t *o) {
    const char *const labels[] = {o->method_label, o->route_label, o->code_label, NULL};
    vt_metric_opts_t mo;
    int rc;

    vt_metric_opts_init(&mo);
    mo.name = o->requests_name;
    mo.help = "Total number of HTTP requests by method, route template and status code.";
    mo.label_names = labels;
    mo.const_labels = o->const_labels;
    mo.max_series = o->max_series;
    rc = vt_counter_create_opts(r->reg, &mo, &r->requests);
    if (rc == 0)
        rc = make_histogram(r, o, o->duration_name,
                            "HTTP request duration in seconds by method, route template and "
                            "status code.",
                            labels, o->duration_buckets, o->duration_bucket_count, &r->duration);
    if (rc == 0 && o->in_flight_name) {
        vt_metric_opts_init(&mo);
        mo.name = o->in_flight_name;
        mo.help = "Number of HTTP requests being served.";
        mo.const_labels = o->const_labels;
        rc = vt_gauge_create_opts(r->reg, &mo, &r->in_flight_fam);
        if (rc == 0)
            rc = vt_gauge_with(r->in_flight_fam, NULL, &r->in_flight);
        if (rc == 0)
            rc = vt_counter_create(NULL, "vt_red_started", NULL, NULL, &r->started_fam);
        if (rc == 0)
            rc = vt_counter_create(NULL, "vt_red_finished", NULL, NULL, &r->finished_fam);
        if (rc == 0)
            rc = vt_counter_with(r->started_fam, NULL, &r->started);
        if (rc == 0)
            rc = vt_counter_with(r->finished_fam, NULL, &r->finished);
        if (rc == 0)
            rc = vt_gauge_set_callback(r->in_flight, in_flight_value, r);
    }
    if (rc == 0 && o->sizes) {
        double def[SIZE_BUCKETS];
        const double *b = o->size_buckets;
        size_t nb = o->size_bucket_count;
        if (!b) {
            rc = vt_buckets_exponential(64, 4, SIZE_BUCKETS, def);
            b = def;
            nb = SIZE_BUCKETS;
        }
        if (rc == 0)
            rc = make_histogram(r, o, o->request_size_name,
                                "HTTP request size in bytes (headers and body).", labels, b, nb,
                                &r->request_size);
        if (rc == 0)
            rc = make_histogram(r, o, o->response_size_name, "HTTP response body size in bytes.",
                                labels, b, nb, &r->response_size);
    }
    return rc;
}

int vt_red_create(vt_registry_t *reg, const vt_red_opts_t *opts, vt_red_t **out_red) {
    vt_red_opts_t defaults;
    vt_red_t *r;
    int rc;
    if (!out_red)
        return VT_EINVAL;
    if (!opts) {
        vt_red_opts_init(&defaults);
        opts = &defaults;
    }
    if (!opts->requests_name || !opts->duration_name || !opts->method_label || !opts->route_label ||
        !opts->code_label || !opts->unmatched_route ||
        (opts->sizes && (!opts->request_size_name || !opts->response_size_name)))
        return VT_EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return VT_ENOMEM;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        return VT_ENOMEM;
    }
    r->reg = reg ? reg : vt_registry_default();
    r->unmatched.pattern = dup_str(opts->unmatched_route);
    rc = r->unmatched.pattern ? vt__rtrie_create(&r->trie) : VT_ENOMEM;
    if (rc == 0)
        rc = make_families(r, opts);
    if (rc != 0) {
        drop_families(r);
        vt__rtrie_free(r->trie);
        free(r->unmatched.pattern);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return rc;
    }
    *out_red = r;
    return 0;
}

static void free_route_bundles(route_t *rt) {
    size_t m, i;
    for (m = 0; m < N_METHODS; m++)
        for (i = 0; i < N_SLOTS; i++)
            free(atomic_load_explicit(&rt->slots[m][i], memory_order_relaxed));
}

void vt_red_destroy(vt_red_t *red) {
    size_t i;
    if (!red)
        return;
    drop_families(red);
    vt__rtrie_free(red->trie);
    for (i = 0; i < red->n_routes; i++) {
        free_route_bundles(red->routes[i]);
        free(red->routes[i]->pattern);
        free(red->routes[i]);
    }
    free(red->routes);
    free_route_bundles(&red->unmatched);
    free(red->unmatched.pattern);
    pthread_mutex_destroy(&red->mu);
    free(red);
}

int vt_red_route_add(vt_red_t *red, const char *pattern) {
    route_t *rt;
    int rc;
    if (!red)
        return VT_EINVAL;
    rc = vt__route_check(pattern);
    if (rc != 0)
        return rc;
    rt = calloc(1, sizeof(*rt));
    if (!rt)
        return VT_ENOMEM;
    rt->pattern = dup_str(pattern);
    if (!rt->pattern) {
        free(rt);
        return VT_ENOMEM;
    }
    pthread_mutex_lock(&red->mu);
    if (red->n_routes >= MAX_ROUTES) {
        rc = VT_ELIMIT;
    } else if (red->n_routes == red->cap_routes) {
        size_t cap = red->cap_routes ? red->cap_routes * 2 : 16;
        route_t **p = realloc(red->routes, cap * sizeof(*p));
        if (!p) {
            rc = VT_ENOMEM;
        } else {
            red->routes = p;
            red->cap_routes = cap;
        }
    }
    if (rc == 0)
        rc = vt__rtrie_insert(red->trie, rt->pattern, rt);
    if (rc == 0)
        red->routes[red->n_routes++] = rt;
    pthread_mutex_unlock(&red->mu);
    if (rc != 0) {
        free(rt->pattern);
        free(rt);
    }
    return rc;
}

static route_t *match(vt_red_t *red, const char *path, size_t len) {
    route_t *rt = path ? vt__rtrie_match(red->trie, path, len) : NULL;
    return rt ? rt : &red->unmatched;
}

int vt__red_sizes_on(const vt_red_t *red) {
    return red && red->request_size != NULL;
}

const char *vt_red_route_match(vt_red_t *red, const char *path, size_t len) {
    if (!red)
        return VT_RED_UNMATCHED;
    return match(red, path, len)->pattern;
}

static unsigned method_index(const char *m) {
    if (!m)
        return METHOD_OTHER;
    switch (m[0]) {
    case 'G':
        return strcmp(m, "GET") == 0 ? 0 : METHOD_OTHER;
    case 'H':
        return strcmp(m, "HEAD") == 0 ? 1 : METHOD_OTHER;
    case 'P':
        if (strcmp(m, "POST") == 0)
            return 2;
        if (strcmp(m, "PUT") == 0)
            return 3;
        return strcmp(m, "PATCH") == 0 ? 8 : METHOD_OTHER;
    case 'D':
        return strcmp(m, "DELETE") == 0 ? 4 : METHOD_OTHER;
    case 'C':
        return strcmp(m, "CONNECT") == 0 ? 5 : METHOD_OTHER;
    case 'O':
        return strcmp(m, "OPTIONS") == 0 ? 6 : METHOD_OTHER;
    case 'T':
        return strcmp(m, "TRACE") == 0 ? 7 : METHOD_OTHER;
    default:
        return METHOD_OTHER;
    }
}

void vt_red_begin(vt_red_t *red, const char *method, const char *path, vt_red_req_t *out_req) {
    if (!out_req)
        return;
    out_req->started_ = 0;
    out_req->trace_id_[0] = '\0';
    out_req->span_id_[0] = '\0';
    out_req->method_ = method_index(method);
    out_req->route_ = NULL;
    if (!red) {
        out_req->timer = vt_timer_start();
        return;
    }
    out_req->route_ = match(red, path, path ? strlen(path) : 0);
    if (red->in_flight) {
        vt_counter_inc(red->started);
        out_req->started_ = 1;
    }
    out_req->timer = vt_timer_start();
}

/* Bind the series of one (method, route, code) into b. */
static int bind_series(vt_red_t *red, const route_t *rt, unsigned method, int code, bundle_t *b) {
    char code_s[16];
    const char *values[4];
    int rc;
    snprintf(code_s, sizeof(code_s), "%d", code);
    values[0] = method_names[method];
    values[1] = rt->pattern;
    values[2] = code_s;
    values[3] = NULL;
    memset(b, 0, sizeof(*b));
    b->code = code;
    rc = vt_counter_with(red->requests, values, &b->requests);
    if (rc == 0)
        rc = vt_histogram_with(red->duration, values, &b->duration);
    if (rc == 0 && red->request_size)
        rc = vt_histogram_with(red->request_size, values, &b->request_size);
    if (rc == 0 && red->response_size)
        rc = vt_histogram_with(red->response_size, values, &b->response_size);
    return rc;
}

/* The series of (method, route, code): from the cache, else bound now (and
 * cached when a slot is free). NULL when binding fails. */
static const bundle_t *series_for(vt_red_t *red, route_t *rt, unsigned method, int code,
                                  bundle_t *scratch) {
    _Atomic(bundle_t *) *slots = rt->slots[method];
    unsigned start = ((unsigned)code * 7u) % N_SLOTS, i;
    bundle_t *fresh;
    for (i = 0; i < N_SLOTS; i++) {
        _Atomic(bundle_t *) *slot = &slots[(start + i) % N_SLOTS];
        bundle_t *b = atomic_load_explicit(slot, memory_order_acquire);
        if (b && b->code == code)
            return b;
        if (b)
            continue;
        /* Free slot: bind and try to publish here. */
        fresh = malloc(sizeof(*fresh));
        if (!fresh)
            break;
        if (bind_series(red, rt, method, code, fresh) != 0) {
            free(fresh);
            return NULL;
        }
        for (; i < N_SLOTS; i++) {
            bundle_t *expected = NULL;
            slot = &slots[(start + i) % N_SLOTS];
            if (atomic_compare_exchange_strong_explicit(slot, &expected, fresh,
                                                        memory_order_acq_rel, memory_order_acquire))
                return fresh;
            if (expected->code == code) {
                free(fresh);
                return expected;
            }
        }
        /* Every slot taken meanwhile: use the bound series uncached. */
        *scratch = *fresh;
        free(fresh);
        return scratch;
    }
    return bind_series(red, rt, method, code, scratch) == 0 ? scratch : NULL;
}

static int norm_status(int status) {
    return status >= 100 && status <= 599 ? status : 500;
}

static int hex_run(const char *s, size_t n) {
    int nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
        nonzero |= c != '0';
    }
    return nonzero;
}

int vt_red_set_traceparent(vt_red_req_t *req, const char *tp) {
    if (!req)
        return VT_EINVAL;
    req->trace_id_[0] = '\0';
    req->span_id_[0] = '\0';
    if (!tp)
        return 0;
    /* version "-" trace-id "-" parent-id "-" flags; a later version may add
     * fields after a further "-", version 00 may not. */
    size_t n = strlen(tp);
    if (n < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-' || hex_run(tp, 2) < 0 ||
        (tp[0] == 'f' && tp[1] == 'f') || hex_run(tp + 53, 2) < 0 ||
        (n > 55 && (tp[0] == '0' && tp[1] == '0' ? 1 : tp[55] != '-')))
        return VT_EINVAL;
    if (hex_run(tp + 3, 32) != 1 || hex_run(tp + 36, 16) != 1)
        return VT_EINVAL;
    memcpy(req->trace_id_, tp + 3, 32);
    req->trace_id_[32] = '\0';
    memcpy(req->span_id_, tp + 36, 16);
    req->span_id_[16] = '\0';
    return 0;
}

static void record(vt_red_t *red, route_t *rt, unsigned method, int status, double seconds,
                   uint64_t request_bytes, uint64_t response_bytes, const vt_red_req_t *req) {
    bundle_t scratch;
    const bundle_t *b;
    if (method >= N_METHODS)
        method = METHOD_OTHER;
    b = series_for(red, rt, method, norm_status(status), &scratch);
    if (!b)
        return;
    vt_counter_inc(b->requests);
    if (req && req->trace_id_[0])
        vt_histogram_observe_exemplar(b->duration, seconds, VT_LABELS("trace_id", "span_id"),
                                      VT_VALUES(req->trace_id_, req->span_id_));
    else
        vt_histogram_observe(b->duration, seconds);
    if (b->request_size && request_bytes != VT_RED_NO_SIZE)
        vt_histogram_observe(b->request_size, (double)request_bytes);
    if (b->response_size && response_bytes != VT_RED_NO_SIZE)
        vt_histogram_observe(b->response_size, (double)response_bytes);
}

void vt_red_end(vt_red_t *red, const vt_red_req_t *req, int status, uint64_t request_bytes,
                uint64_t response_bytes) {
    double seconds;
    route_t *rt;
    if (!red || !req)
        return;
    seconds = vt_timer_elapsed(&req->timer);
    rt = req->route_ ? (route_t *)req->route_ : &red->unmatched;
    record(red, rt, req->method_, status, seconds, request_bytes, response_bytes, req);
    if (req->started_ && red->in_flight)
        vt_counter_inc(red->finished);
}

void vt_red_observe(vt_red_t *red, const char *method, const char *path, int status, double seconds,
                    uint64_t request_bytes, uint64_t response_bytes) {
    if (!red)
        return;
    record(red, match(red, path, path ? strlen(path) : 0), method_index(method), status, seconds,
           request_bytes, response_bytes, NULL);
}
