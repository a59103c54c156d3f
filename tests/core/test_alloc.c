/* test_alloc.c - a replaced allocator, and every allocation failing in turn.
 *
 * A counting allocator (over the C library's) is installed before any other
 * vitals call, as alloc.h requires. A scenario of ordinary calls (registry,
 * families of every type, bindings, a collector, callbacks, scrapes, sample
 * reads, removal) runs once to count its allocation calls K; then it runs
 * again K times with the Nth call failing. Each time:
 * - a call that fails returns VT_ENOMEM (or VT_ENOTFOUND when what it needed
 *   was not created), and only a call during which the failure happened;
 * - a call that absorbs the failure and returns 0 gives a correct result (a
 *   scrape equals a second scrape made right after it);
 * - with failures off, a last scrape shows exactly the families and series
 *   whose creation succeeded;
 * - after vt_registry_destroy, allocations minus frees is back to its value
 *   after the first run: the library's process-wide state (the thread's cell
 *   pages, freed slot runs) is allocated by then and does not grow; the list
 *   of freed cell runs, whose length depends on which call failed, is
 *   counted apart.
 * A second scenario takes the paths the first does not: native histograms
 * with each bucket-limit strategy, a summary with objectives, exemplars,
 * vt_registry_visit and the process collector; after each of its runs the
 * scrapes pass the strict parser and the totals that were recorded are exact.
 * Everything runs twice: with the allocator's optional calloc_fn, and without.
 * The buffers the first native read of a process grows are failed in forked
 * children, one fresh process per failure (test_first_native_read).
 *
 * vt-test: libs=vitals_parse
 *
 * SPDX-License-Identifier: MIT
 */
#include <execinfo.h>
#include <math.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core_helpers.h"
#include "harness.h"
#include "parse/parse.h"
#include "vitals.h"

/* ---- the counting allocator ---- */

static long n_calls;  /* allocation calls (malloc, calloc, realloc) so far */
static long fail_at;  /* the call that fails, or 0 */
static long n_failed; /* calls made to fail */
static long live;     /* allocations minus frees */

/* Where failed calls came from: the return address in the library function
 * that called the allocator (past alloc.c's wrappers), an allocation site.
 * Each scenario prints how many sites it failed that the ones before did not. */
void *vt__malloc(size_t n);
void *vt__calloc(size_t count, size_t size);
void *vt__realloc(void *p, size_t n);
char *vt__strdup(const char *s);

#define MAX_SITES 1024
static uintptr_t sites[MAX_SITES];
static int n_sites;

static uintptr_t addr_of(void (*fn)(void)) {
    uintptr_t a;
    memcpy(&a, &fn, sizeof a);
    return a;
}

/* pc lies just past the start of a function whose first call allocates. */
static int in_wrapper(uintptr_t pc) {
    const uintptr_t w[] = {addr_of((void (*)(void))vt__malloc), addr_of((void (*)(void))vt__calloc),
                           addr_of((void (*)(void))vt__realloc),
                           addr_of((void (*)(void))vt__strdup)};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (pc > w[i] && pc - w[i] < 128)
            return 1;
    return 0;
}

/* Frames 0-2 are this function, fail_now and the allocator function. */
static __attribute__((noinline)) void note_site(void) {
    void *frames[8] = {0};
    int n = backtrace(frames, 8);
    uintptr_t site = 0;
    for (int i = 3; i < n && !site; i++)
        if (!in_wrapper((uintptr_t)frames[i]))
            site = (uintptr_t)frames[i];
    for (int i = 0; i < n_sites; i++)
        if (sites[i] == site)
            return;
    if (n_sites < MAX_SITES)
        sites[n_sites++] = site;
}

static __attribute__((noinline)) int fail_now(void) {
    n_calls++;
    if (n_calls == fail_at) {
        n_failed++;
        note_site();
        return 1;
    }
    return 0;
}

/* The library keeps the cell runs it frees on a process-wide list, one small
 * block per run, for the next series of that size. How many a run leaves
 * there depends on which allocations failed (a native histogram that lost a
 * snapshot halves at another moment and touches other pages), so these
 * blocks, allocated by vt__slots_free, are counted apart: `kept`. */
void vt__slots_free(uint32_t slot, uint32_t n);

#define MAX_KEPT 8192
static void *kept[MAX_KEPT];
static long n_kept;

static __attribute__((noinline)) int from_slots_free(void) {
    void (*fn)(uint32_t, uint32_t) = vt__slots_free;
    uintptr_t start;
    memcpy(&start, &fn, sizeof start);
    void *frames[5] = {0};
    int n = backtrace(frames, 5);
    for (int i = 2; i < n; i++) { /* past this function and c_malloc */
        uintptr_t pc = (uintptr_t)frames[i];
        if (pc > start && pc - start < 256) /* its allocation is its first call */
            return 1;
    }
    return 0;
}

static void *c_malloc(size_t n) {
    if (fail_now())
        return NULL;
    void *p = malloc(n);
    if (p) {
        live++;
        if (n_kept < MAX_KEPT && from_slots_free())
            kept[n_kept++] = p;
    }
    return p;
}

static void *c_calloc(size_t n, size_t size) {
    if (fail_now())
        return NULL;
    void *p = calloc(n, size);
    if (p)
        live++;
    return p;
}

static void *c_realloc(void *p, size_t n) {
    if (fail_now())
        return NULL;
    void *q = realloc(p, n);
    if (q && !p)
        live++;
    return q;
}

static void c_free(void *p) {
    for (long i = 0; p && i < n_kept; i++)
        if (kept[i] == p) {
            kept[i] = kept[--n_kept];
            break;
        }
    if (p)
        live--;
    free(p);
}

static void use_counting(int with_calloc) {
    vt_allocator_t a;
    memset(&a, 0, sizeof a);
    a.malloc_fn = c_malloc;
    a.realloc_fn = c_realloc;
    a.free_fn = c_free;
    if (with_calloc)
        a.calloc_fn = c_calloc;
    CHECK_INT(vt_set_allocator(&a), 0);
}

/* ---- the scenario ---- */

enum {
    S_REGISTRY,
    S_COUNTER,
    S_GAUGE,
    S_HISTOGRAM,
    S_SUMMARY,
    S_INFO,
    S_BIND_GET,
    S_BIND_POST,
    S_BIND_PUT, /* past the counter's limit of 2: the overflow series */
    S_BIND_GAUGE_A,
    S_BIND_GAUGE_LONG, /* a value long enough for the lookup to allocate */
    S_BIND_HIST,
    S_BIND_SUMMARY,
    S_COLLECTOR,
    S_CALLBACK,
    S_SCRAPE_TEXT,
    S_SCRAPE_OM,
    S_SAMPLE_COUNTER,
    S_REMOVE_GAUGE_A,
    S_INFO_SET,
    S_SAMPLE_BUCKET,
    S_REMOVE_LONG,
    S_WRITE_SINK,
    S_COUNT
};

static const char *const step_names[S_COUNT] = {
    "registry_create", "counter_create", "gauge_create",   "histogram_create", "summary_create",
    "info_create",     "bind GET",       "bind POST",      "bind PUT",         "bind gauge a",
    "bind gauge long", "bind histogram", "bind summary",   "add_collector",    "set_callback",
    "scrape text",     "scrape om",      "sample counter", "remove gauge a",   "info_set",
    "sample bucket",   "remove long",    "write to sink"};

#define SKIPPED 1

#define MAX_STEPS 32

typedef struct run {
    int rc[MAX_STEPS];
    int failed_in[MAX_STEPS]; /* the injected failure happened during this step */
    int bad;                  /* a check failed; print the run */
    long step_calls;          /* allocation calls the steps made (the ones that may fail) */
} run_t;

static char long_value[2048];

static double gauge_cb(void *ud) {
    (void)ud;
    return 11;
}

static int emit_coll(vt_emitter_t *e, void *ud) {
    (void)ud;
    vt_emit_family(e, VT_GAUGE, "coll", "from a collector", NULL, VT_LABELS("x"));
    vt_emit_value(e, VT_VALUES("1"), 3);
    static const double b[] = {1};
    static const uint64_t c[] = {1};
    vt_emit_family(e, VT_HISTOGRAM, "coll_h", "h", NULL, NULL);
    vt_emit_histogram(e, NULL, b, c, 1, 2, 1.5);
    return 0;
}

static int sink_ok(void *ud, const char *data, size_t len) {
    (void)data;
    *(size_t *)ud += len;
    return 0;
}

/* Removes, in place, the collector's lines and the collector error count: a
 * collector that lost an allocation drops its family, as documented. */
static void strip_collector(char *text) {
    char *p = text, *d = text;
    while (*p) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        int drop = strncmp(p, "coll", 4) == 0 || strncmp(p, "# HELP coll", 11) == 0 ||
                   strncmp(p, "# TYPE coll", 11) == 0 ||
                   strncmp(p, "vitals_errors_total{kind=\"collector\"}", 37) == 0;
        if (!drop) {
            memmove(d, p, n);
            d += n;
        }
        p += n;
    }
    *d = '\0';
}

/* One step of a scenario: run expr unless cond is false (a step it depends
 * on failed), keep its result and whether an allocation failed inside it.
 * Uses the scenario's r and the global n_failed. */
#define STEP(id, cond, expr)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            r->rc[id] = SKIPPED;                                                                   \
            break;                                                                                 \
        }                                                                                          \
        long before = n_failed;                                                                    \
        r->rc[id] = (expr);                                                                        \
        r->failed_in[id] = n_failed != before;                                                     \
    } while (0)

/* Runs the scenario; fails allocation call number `fail` (0: none). */
static void scenario(long fail, run_t *r) {
    memset(r, 0, sizeof *r);
    n_calls = 0;
    fail_at = fail;
    vt_registry_t *reg = NULL;
    vt_counter_t *c = NULL;
    vt_gauge_t *g = NULL;
    vt_histogram_t *h = NULL;
    vt_summary_t *s = NULL;
    vt_info_t *inf = NULL;
    vt_counter_series_t *get = NULL, *post = NULL, *put = NULL;
    vt_gauge_series_t *ga = NULL, *glong = NULL;
    vt_histogram_series_t *hs = NULL;
    vt_summary_series_t *ss = NULL;
    double v = 0;
    vt_metric_opts_t o;

    STEP(S_REGISTRY, 1, vt_registry_create(&reg));
    if (r->rc[S_REGISTRY] != 0) {
        for (int i = 1; i < S_COUNT; i++)
            r->rc[i] = SKIPPED;
        return;
    }
    vt_metric_opts_init(&o);
    o.name = "c_total";
    o.help = "Requests.";
    o.label_names = VT_LABELS("method");
    o.const_labels = VT_LABELS("svc", "api");
    o.max_series = 2;
    STEP(S_COUNTER, 1, vt_counter_create_opts(reg, &o, &c));
    STEP(S_GAUGE, 1, vt_gauge_create(reg, "g", "Gauge.", VT_LABELS("k"), &g));
    STEP(S_HISTOGRAM, 1, vt_histogram_create(reg, "h", "Hist.", VT_LABELS("route"), NULL, 0, &h));
    STEP(S_SUMMARY, 1, vt_summary_create(reg, "s", "Sum.", NULL, &s));
    STEP(S_INFO, 1, vt_info_create(reg, "i", "Info.", VT_LABELS("version"), VT_VALUES("1"), &inf));
    STEP(S_BIND_GET, c, vt_counter_with(c, VT_VALUES("GET"), &get));
    STEP(S_BIND_POST, c, vt_counter_with(c, VT_VALUES("POST"), &post));
    STEP(S_BIND_PUT, c, vt_counter_with(c, VT_VALUES("PUT"), &put));
    if (get)
        vt_counter_inc(get);
    if (post)
        vt_counter_add_u64(post, 2);
    if (put)
        vt_counter_inc(put);
    STEP(S_BIND_GAUGE_A, g, vt_gauge_with(g, VT_VALUES("a"), &ga));
    STEP(S_BIND_GAUGE_LONG, g, vt_gauge_with(g, VT_VALUES(long_value), &glong));
    if (ga)
        vt_gauge_set(ga, 5);
    if (glong)
        vt_gauge_set(glong, 7);
    STEP(S_BIND_HIST, h, vt_histogram_with(h, VT_VALUES("/x"), &hs));
    if (hs)
        vt_histogram_observe(hs, 0.3);
    STEP(S_BIND_SUMMARY, s, vt_summary_with(s, NULL, &ss));
    if (ss)
        vt_summary_observe(ss, 2);
    STEP(S_COLLECTOR, 1,
         vt_registry_add_collector(reg, VT_LABELS("coll", "coll_h"), emit_coll, NULL, NULL, NULL));
    STEP(S_CALLBACK, glong, vt_gauge_set_callback(glong, gauge_cb, NULL));

    for (int k = 0; k < 2; k++) {
        vt_format_t f = k ? VT_FORMAT_OPENMETRICS : VT_FORMAT_TEXT;
        int id = k ? S_SCRAPE_OM : S_SCRAPE_TEXT;
        vt_write_opts_t wo;
        vt_write_opts_init(&wo);
        wo.format = f;
        vt_buf_t buf = {0};
        STEP(id, 1, vt_registry_write_buf(reg, &wo, &buf));
        if (r->rc[id] == 0 && r->failed_in[id]) {
            /* The failure was absorbed: the output must be whole. */
            long saved = fail_at;
            fail_at = 0;
            char *again = scrape_fmt(reg, f);
            fail_at = saved;
            char *first = malloc(buf.len + 1);
            memcpy(first, buf.data ? buf.data : "", buf.len);
            first[buf.len] = '\0';
            strip_collector(first);
            if (again)
                strip_collector(again);
            if (!again || strcmp(first, again) != 0) {
                fprintf(stderr,
                        "scrape that absorbed failure %ld differs:\n--- got\n%s--- want\n%s", fail,
                        first, again ? again : "(null)");
                r->bad = 1;
            }
            free(first);
            free(again);
        }
        vt_buf_free(&buf);
    }
    v = -1;
    STEP(S_SAMPLE_COUNTER, get,
         vt_registry_get_sample_value(reg, "c_total", VT_LABELS("svc", "method"),
                                      VT_VALUES("api", "GET"), &v));
    if (r->rc[S_SAMPLE_COUNTER] == 0 && v != 1) {
        fprintf(stderr, "sample counter read %g\n", v);
        r->bad = 1;
    }
    STEP(S_REMOVE_GAUGE_A, ga, vt_family_remove(vt_gauge_family(g), VT_VALUES("a")));
    STEP(S_INFO_SET, inf, vt_info_set(inf, VT_VALUES("2")));
    v = -1;
    STEP(S_SAMPLE_BUCKET, hs,
         vt_registry_get_sample_value(reg, "h_bucket", VT_LABELS("le", "route"),
                                      VT_VALUES("0.5", "/x"), &v));
    if (r->rc[S_SAMPLE_BUCKET] == 0 && v != 1) {
        fprintf(stderr, "sample bucket read %g\n", v);
        r->bad = 1;
    }
    STEP(S_REMOVE_LONG, glong, vt_family_remove(vt_gauge_family(g), VT_VALUES(long_value)));
    size_t written = 0;
    STEP(S_WRITE_SINK, 1, vt_registry_write(reg, NULL, sink_ok, &written));
    r->step_calls = n_calls;
    fail_at = 0;

    /* Every failure is VT_ENOMEM and happened inside the call that reports it. */
    for (int i = 0; i < S_COUNT; i++) {
        int rc = r->rc[i];
        if (rc == 0 || rc == SKIPPED)
            continue;
        int ok = rc == VT_ENOMEM && r->failed_in[i];
        if (!ok) {
            fprintf(stderr, "failure %ld: step %s returned %d (%s)%s\n", fail, step_names[i], rc,
                    vt_err_name(rc), r->failed_in[i] ? "" : " without a failed allocation");
            r->bad = 1;
        }
    }

    /* With failures off: the output holds what was created, nothing else. */
    char *text = scrape(reg);
    if (!text) {
        fprintf(stderr, "failure %ld: the scrape after it failed\n", fail);
        r->bad = 1;
    } else {
        struct {
            const char *type_line;
            int want;
        } fams[] = {
            {"# TYPE c_total counter", r->rc[S_COUNTER] == 0},
            {"# TYPE g gauge", r->rc[S_GAUGE] == 0},
            {"# TYPE h histogram", r->rc[S_HISTOGRAM] == 0},
            {"# TYPE s summary", r->rc[S_SUMMARY] == 0},
            {"# TYPE i_info gauge", r->rc[S_INFO] == 0},
            {"# TYPE coll gauge", r->rc[S_COLLECTOR] == 0},
            {"# TYPE coll_h histogram", r->rc[S_COLLECTOR] == 0},
            {"# TYPE vitals_errors_total counter", 1},
        };
        int types = 0;
        for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
            int has = has_line(text, fams[i].type_line);
            types += has;
            if (has != fams[i].want) {
                fprintf(stderr, "failure %ld: \"%s\" %s\n", fail, fams[i].type_line,
                        has ? "present but its creation failed" : "missing");
                r->bad = 1;
            }
        }
        int overflow = has_line(text, "# TYPE vitals_series_overflow_total counter");
        types += overflow;
        if (count_lines_with_prefix(text, "# TYPE ") != types) {
            fprintf(stderr, "failure %ld: unexpected families\n", fail);
            r->bad = 1;
        }
        /* Series. */
        struct {
            const char *line;
            int want;
        } lines[] = {
            {"c_total{svc=\"api\",method=\"GET\"} 1", r->rc[S_BIND_GET] == 0},
            {"c_total{svc=\"api\",method=\"POST\"} 2", r->rc[S_BIND_POST] == 0},
            {"c_total{svc=\"api\",method=\"__overflow__\"} 1",
             r->rc[S_BIND_PUT] == 0 && r->rc[S_BIND_GET] == 0 && r->rc[S_BIND_POST] == 0},
            {"c_total{svc=\"api\",method=\"PUT\"} 1",
             r->rc[S_BIND_PUT] == 0 && !(r->rc[S_BIND_GET] == 0 && r->rc[S_BIND_POST] == 0)},
            {"g{k=\"a\"} 5", r->rc[S_BIND_GAUGE_A] == 0 && r->rc[S_REMOVE_GAUGE_A] != 0},
            {"h_count{route=\"/x\"} 1", r->rc[S_BIND_HIST] == 0},
            {"s_count 1", r->rc[S_BIND_SUMMARY] == 0},
            {"i_info{version=\"1\"} 1", r->rc[S_INFO] == 0 && r->rc[S_INFO_SET] != 0},
            {"i_info{version=\"2\"} 1", r->rc[S_INFO] == 0 && r->rc[S_INFO_SET] == 0},
            {"coll{x=\"1\"} 3", r->rc[S_COLLECTOR] == 0},
        };
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            int has = has_line(text, lines[i].line);
            if (has != lines[i].want) {
                fprintf(stderr, "failure %ld: line \"%s\" %s\n", fail, lines[i].line,
                        has ? "present" : "missing");
                r->bad = 1;
            }
        }
        /* The long gauge: present (with the callback's 11 when it was set)
         * unless it was removed. */
        int long_there = strstr(text, "g{k=\"aaaa") != NULL;
        int long_want = r->rc[S_BIND_GAUGE_LONG] == 0 && r->rc[S_REMOVE_LONG] != 0;
        if (long_there != long_want) {
            fprintf(stderr, "failure %ld: long gauge %s\n", fail,
                    long_there ? "present" : "missing");
            r->bad = 1;
        }
        free(text);
    }
    vt_registry_destroy(reg);
}

/* ---- the second scenario: the paths off the first one's way ----
 *
 * Native histograms and their bucket-limit strategy (halve the resolution,
 * widen the zero bucket, reset), a summary with objectives, exemplars on a
 * counter and a histogram, vt_registry_visit, and the process collector. */

enum {
    X_REGISTRY,
    X_NATIVE_HALVE,
    X_NATIVE_WIDEN,
    X_NATIVE_RESET,
    X_BIND_HALVE,
    X_BIND_WIDEN,
    X_BIND_RESET,
    X_OBSERVE_NATIVE, /* void calls: a failure in them is absorbed */
    X_SUMMARY_Q,
    X_BIND_SUMMARY_Q,
    X_OBSERVE_SUMMARY,
    X_COUNTER,
    X_BIND_COUNTER,
    X_EX_COUNTER_1,
    X_EX_COUNTER_2, /* a longer exemplar: the stored text grows */
    X_HIST,
    X_BIND_HIST,
    X_EX_HIST_1,
    X_EX_HIST_2,
    X_VISIT,
    X_PROCESS,
    X_SCRAPE_TEXT,
    X_SCRAPE_OM,
    X_COUNT
};

static const char *const extra_names[X_COUNT] = {
    "registry_create", "native halve",   "native widen",   "native reset", "bind halve",
    "bind widen",      "bind reset",     "observe native", "summary q",    "bind summary q",
    "observe summary", "counter",        "bind counter",   "exemplar c 1", "exemplar c 2",
    "histogram",       "bind histogram", "exemplar h 1",   "exemplar h 2", "visit",
    "process",         "scrape text",    "scrape om"};

enum { N_NATIVE = 30, N_SUMMARY = 100 };

static uint64_t fake_ns;
static uint64_t step_clock(void *ud) {
    (void)ud;
    return fake_ns += 10000000000ull; /* 10 s a read: every limit hit may reset */
}

typedef struct visit_state {
    int families;
    int bad;
    int lossy; /* an observation may have lost its native bucket to a failure */
} visit_state_t;

/* Every native histogram's count is its zero bucket plus its buckets; not
 * after a reset, which restarts the native buckets and keeps the count
 * (src/core/native.c), so not for nh_reset. */
static int visit_check(const vt_sample_family_t *f, void *ud) {
    visit_state_t *vs = ud;
    vs->families++;
    for (size_t i = 0; i < f->series_count && strcmp(f->name, "nh_reset") != 0; i++) {
        const vt_sample_series_t *se = &f->series[i];
        if (!se->has_native)
            continue;
        /* Past 4 populated buckets the limit's strategy ran; halving or
         * widening leaves at most 4 (nh_first has no limit). */
        if (strcmp(f->name, "nh_first") != 0 &&
            se->native_positive_count + se->native_negative_count > 4) {
            fprintf(stderr, "visit: %s has %zu native buckets, over its limit of 4\n", f->name,
                    se->native_positive_count + se->native_negative_count);
            vs->bad = 1;
        }
        uint64_t n = se->native_zero_count;
        for (size_t k = 0; k < se->native_positive_count; k++)
            n += se->native_positive[k].count;
        for (size_t k = 0; k < se->native_negative_count; k++)
            n += se->native_negative[k].count;
        if (vs->lossy ? n > se->count : n != se->count) {
            fprintf(stderr, "visit: %s native buckets hold %llu, count %llu\n", f->name,
                    (unsigned long long)n, (unsigned long long)se->count);
            vs->bad = 1;
        }
    }
    return 0;
}

/* The strict parser accepts the scrape; 1 when it does. */
static int parses(vt_registry_t *reg, vt_format_t f, long fail) {
    char *text = scrape_fmt(reg, f);
    if (!text)
        return 0;
    vt_parse_opts_t po = {f, VT_PARSE_STRICT};
    vt_doc_t *doc = NULL;
    vt_parse_error_t err;
    int rc = vt_parse(text, strlen(text), &po, &doc, &err);
    if (rc != 0)
        fprintf(stderr, "failure %ld: the %s scrape does not parse: %s\n%s", fail,
                f == VT_FORMAT_TEXT ? "text" : "OpenMetrics", err.message, text);
    vt_doc_free(doc);
    free(text);
    return rc == 0;
}

static double value_of(vt_registry_t *reg, const char *name, const char *const *names,
                       const char *const *values) {
    double v = NAN;
    if (vt_registry_get_sample_value(reg, name, names, values, &v) != 0)
        return NAN;
    return v;
}

static void expect_value(run_t *r, long fail, vt_registry_t *reg, const char *name, double want) {
    double got = value_of(reg, name, NULL, NULL);
    if (got != want) {
        fprintf(stderr, "failure %ld: %s is %g, want %g\n", fail, name, got, want);
        r->bad = 1;
    }
}

/* The exemplar a scrape shows for a sample: the trace id of the last
 * exemplar call that succeeded, or none. */
static void expect_exemplar(run_t *r, long fail, const char *om, const char *sample_prefix,
                            const char *want_trace) {
    const char *line = om;
    size_t pl = strlen(sample_prefix);
    while (line && strncmp(line, sample_prefix, pl) != 0) {
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    if (!line) {
        fprintf(stderr, "failure %ld: no line %s\n", fail, sample_prefix);
        r->bad = 1;
        return;
    }
    const char *nl = strchr(line, '\n');
    size_t ll = nl ? (size_t)(nl - line) : strlen(line);
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)(ll < sizeof buf - 1 ? ll : sizeof buf - 1), line);
    const char *hash = strstr(buf, " # {");
    if (!want_trace ? hash != NULL : !hash || !strstr(hash, want_trace)) {
        fprintf(stderr, "failure %ld: \"%s\" has the wrong exemplar (want %s)\n", fail, buf,
                want_trace ? want_trace : "none");
        r->bad = 1;
    }
}

static void scenario_extras(long fail, run_t *r) {
    memset(r, 0, sizeof *r);
    n_calls = 0;
    fail_at = fail;
    fake_ns = 0;
    vt_registry_t *reg = NULL;
    vt_histogram_t *nh[3] = {NULL, NULL, NULL};
    vt_histogram_series_t *nhs[3] = {NULL, NULL, NULL};
    vt_summary_t *sq = NULL;
    vt_summary_series_t *sqs = NULL;
    vt_counter_t *c = NULL;
    vt_counter_series_t *cs = NULL;
    vt_histogram_t *h = NULL;
    vt_histogram_series_t *hs = NULL;
    vt_metric_opts_t o;
    visit_state_t vs = {0, 0, 0};

    STEP(X_REGISTRY, 1, vt_registry_create(&reg));
    if (r->rc[X_REGISTRY] != 0) {
        for (int i = 1; i < X_COUNT; i++)
            r->rc[i] = SKIPPED;
        return;
    }
    static const char *const nh_names[3] = {"nh_halve", "nh_widen", "nh_reset"};
    for (int i = 0; i < 3; i++) {
        vt_metric_opts_init(&o);
        o.name = nh_names[i];
        o.help = "Native.";
        o.native_bucket_factor = 1.1;
        o.native_max_buckets = 4;
        o.native_max_zero_threshold = i == 1 ? 8 : 0;
        o.native_min_reset_seconds = i == 2 ? 5 : 0;
        STEP(X_NATIVE_HALVE + i, 1, vt_histogram_create_opts(reg, &o, &nh[i]));
        if (nh[i] && i == 2)
            CHECK_INT(vt_histogram_set_native_clock(nh[i], step_clock, NULL), 0);
    }
    for (int i = 0; i < 3; i++)
        STEP(X_BIND_HALVE + i, nh[i], vt_histogram_with(nh[i], NULL, &nhs[i]));
    STEP(X_OBSERVE_NATIVE, 1, 0);
    {
        long before = n_failed;
        for (int v = 1; v <= N_NATIVE; v++)
            for (int i = 0; i < 3; i++)
                if (nhs[i])
                    vt_histogram_observe(nhs[i], v % 7 == 0 ? -v : v);
        r->failed_in[X_OBSERVE_NATIVE] = n_failed != before;
    }

    static const double q[] = {0.5, 0.9, 0.99};
    vt_metric_opts_init(&o);
    o.name = "sq";
    o.help = "Quantiles.";
    o.quantiles = q;
    o.quantile_count = 3;
    STEP(X_SUMMARY_Q, 1, vt_summary_create_opts(reg, &o, &sq));
    STEP(X_BIND_SUMMARY_Q, sq, vt_summary_with(sq, NULL, &sqs));
    STEP(X_OBSERVE_SUMMARY, 1, 0);
    {
        long before = n_failed;
        for (int v = 1; v <= N_SUMMARY && sqs; v++)
            vt_summary_observe(sqs, v);
        r->failed_in[X_OBSERVE_SUMMARY] = n_failed != before;
    }

    STEP(X_COUNTER, 1, vt_counter_create(reg, "ex", "Exemplars.", NULL, &c));
    STEP(X_BIND_COUNTER, c, vt_counter_with(c, NULL, &cs));
    STEP(X_EX_COUNTER_1, cs,
         vt_counter_add_exemplar(cs, 2, VT_LABELS("trace_id"), VT_VALUES("t1")));
    STEP(X_EX_COUNTER_2, cs,
         vt_counter_add_exemplar(cs, 3, VT_LABELS("trace_id", "span_id"),
                                 VT_VALUES("t2-0123456789abcdef", "s2")));
    static const double b[] = {1, 10};
    vt_metric_opts_init(&o);
    o.name = "hx";
    o.help = "Histogram exemplars.";
    o.buckets = b;
    o.bucket_count = 2;
    STEP(X_HIST, 1, vt_histogram_create_opts(reg, &o, &h));
    STEP(X_BIND_HIST, h, vt_histogram_with(h, NULL, &hs));
    STEP(X_EX_HIST_1, hs,
         vt_histogram_observe_exemplar(hs, 5, VT_LABELS("trace_id"), VT_VALUES("h1")));
    STEP(X_EX_HIST_2, hs,
         vt_histogram_observe_exemplar(hs, 7, VT_LABELS("trace_id", "span_id"),
                                       VT_VALUES("h2-0123456789abcdef", "s2")));
    STEP(X_VISIT, 1, vt_registry_visit(reg, visit_check, &vs));
    STEP(X_PROCESS, 1, vt_process_collector_register(reg));
    for (int k = 0; k < 2; k++) {
        vt_write_opts_t wo;
        vt_write_opts_init(&wo);
        wo.format = k ? VT_FORMAT_OPENMETRICS : VT_FORMAT_TEXT;
        vt_buf_t buf = {0};
        STEP(k ? X_SCRAPE_OM : X_SCRAPE_TEXT, 1, vt_registry_write_buf(reg, &wo, &buf));
        vt_buf_free(&buf);
    }
    r->step_calls = n_calls;
    fail_at = 0;

    /* Each failing step returns VT_ENOMEM, during the failure. */
    for (int i = 0; i < X_COUNT; i++) {
        int rc = r->rc[i];
        if (rc == 0 || rc == SKIPPED)
            continue;
        if (rc != VT_ENOMEM || !r->failed_in[i]) {
            fprintf(stderr, "failure %ld: step %s returned %d (%s)%s\n", fail, extra_names[i], rc,
                    vt_err_name(rc), r->failed_in[i] ? "" : " without a failed allocation");
            r->bad = 1;
        }
    }
    if (vs.bad)
        r->bad = 1;

    /* With failures off: both formats parse strictly, totals are exact. */
    if (!parses(reg, VT_FORMAT_TEXT, fail) || !parses(reg, VT_FORMAT_OPENMETRICS, fail))
        r->bad = 1;
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s_count", nh_names[i]);
        int want = nhs[i] != NULL;
        if (!want) {
            if (!isnan(value_of(reg, name, NULL, NULL))) {
                fprintf(stderr, "failure %ld: %s present\n", fail, name);
                r->bad = 1;
            }
            continue;
        }
        expect_value(r, fail, reg, name, N_NATIVE);
        double sum = 0;
        for (int v = 1; v <= N_NATIVE; v++)
            sum += v % 7 == 0 ? -v : v;
        snprintf(name, sizeof name, "%s_sum", nh_names[i]);
        expect_value(r, fail, reg, name, sum);
    }
    if (sqs) {
        expect_value(r, fail, reg, "sq_count", N_SUMMARY);
        expect_value(r, fail, reg, "sq_sum", N_SUMMARY * (N_SUMMARY + 1) / 2);
        double med = value_of(reg, "sq", VT_LABELS("quantile"), VT_VALUES("0.5"));
        /* Rank floor(0.5 * 99) = 49 holds 50, within 1%; an observation that
         * lost its page misses the quantiles, as documented. */
        if (!r->failed_in[X_OBSERVE_SUMMARY] && !(fabs(med - 50) <= 0.5)) {
            fprintf(stderr, "failure %ld: median %g\n", fail, med);
            r->bad = 1;
        }
    }
    char *om = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    if (!om) {
        r->bad = 1;
    } else {
        if (cs) {
            expect_value(r, fail, reg, "ex_total", 5);
            const char *t = r->rc[X_EX_COUNTER_2] == 0   ? "t2-0123456789abcdef"
                            : r->rc[X_EX_COUNTER_1] == 0 ? "t1"
                                                         : NULL;
            expect_exemplar(r, fail, om, "ex_total ", t);
        }
        if (hs) {
            expect_value(r, fail, reg, "hx_count", 2);
            expect_value(r, fail, reg, "hx_sum", 12);
            const char *t = r->rc[X_EX_HIST_2] == 0   ? "h2-0123456789abcdef"
                            : r->rc[X_EX_HIST_1] == 0 ? "h1"
                                                      : NULL;
            expect_exemplar(r, fail, om, "hx_bucket{le=\"10.0\"} ", t);
        }
        int proc = strstr(om, "# TYPE process_open_fds gauge") != NULL;
        if (proc != (r->rc[X_PROCESS] == 0)) {
            fprintf(stderr, "failure %ld: process collector %s\n", fail,
                    proc ? "present" : "missing");
            r->bad = 1;
        }
        free(om);
    }
    /* A visit with failures off sees every family the text scrape has. */
    visit_state_t again = {0, 0, 0};
    char *text = scrape(reg);
    CHECK_INT(vt_registry_visit(reg, visit_check, &again), 0);
    if (!text || again.bad || again.families != count_lines_with_prefix(text, "# TYPE ")) {
        fprintf(stderr, "failure %ld: visit saw %d families, the scrape %d\n%s", fail,
                again.families, text ? count_lines_with_prefix(text, "# TYPE ") : -1,
                text ? text : "");
        r->bad = 1;
    }
    free(text);
    vt_registry_destroy(reg);
}

/* ---- running a scenario with each allocation failing in turn ---- */

typedef struct scenario_def {
    const char *label;
    void (*run)(long fail, run_t *r);
    const char *const *names;
    int nsteps;
} scenario_def_t;

static const scenario_def_t main_scenario = {"registry and scrapes", scenario, step_names, S_COUNT};
static const scenario_def_t extra_scenario = {"native, quantiles, exemplars, visit, process",
                                              scenario_extras, extra_names, X_COUNT};

/* With VT_ALLOC_SITES set, the sites from `from` on, for addr2line: offsets
 * from vt__malloc. */
static void print_sites(int from) {
    if (getenv("VT_ALLOC_SITES"))
        for (int i = from; i < n_sites; i++)
            printf("site vt__malloc+0x%lx\n",
                   (unsigned long)(sites[i] - addr_of((void (*)(void))vt__malloc)));
}

static void print_run(const scenario_def_t *d, long fail, const run_t *r) {
    fprintf(stderr, "run with failure %ld:\n", fail);
    for (int i = 0; i < d->nsteps; i++)
        fprintf(stderr, "  %-18s %s%s\n", d->names[i],
                r->rc[i] == SKIPPED ? "skipped" : vt_err_name(r->rc[i]),
                r->failed_in[i] ? "  <- failed allocation" : "");
}

static void run_failures(const scenario_def_t *d, int with_calloc) {
    fprintf(stderr, "-- %s, calloc_fn %s\n", d->label, with_calloc ? "set" : "unset");
    use_counting(with_calloc);
    run_t r;
    /* Two clean runs: the first allocates the process-wide state. */
    d->run(0, &r);
    CHECK(!r.bad);
    long base = live - n_kept;
    d->run(0, &r);
    CHECK(!r.bad);
    long k = r.step_calls;
    CHECK_INT(live - n_kept, base);
    for (int i = 0; i < d->nsteps; i++)
        CHECK_INT(r.rc[i], 0);
    CHECK(k > 50);

    int sites_before = n_sites;
    int absorbed = 0, absorbed_by[MAX_STEPS] = {0};
    for (long n = 1; n <= k + 3; n++) {
        long failed_before = n_failed;
        d->run(n, &r);
        int hit = n_failed != failed_before;
        if (n <= k && !hit) {
            fprintf(stderr, "failure %ld was never reached (the scenario changed its path)\n", n);
            r.bad = 1;
        }
        int any_error = 0;
        for (int i = 0; i < d->nsteps; i++)
            if (r.rc[i] != 0 && r.rc[i] != SKIPPED)
                any_error = 1;
        if (hit && !any_error) {
            absorbed++;
            for (int i = 0; i < d->nsteps; i++)
                absorbed_by[i] += r.failed_in[i];
        }
        if (live - n_kept != base) {
            fprintf(stderr, "failure %ld: %ld allocations not freed\n", n, live - n_kept - base);
            r.bad = 1;
        }
        if (r.bad) {
            print_run(d, n, &r);
            th_checks_failed++;
        }
        base = live - n_kept;
    }
    printf("%s, calloc_fn %s: %ld allocation calls, each failed once; %d new allocation sites "
           "failed (%d in all); %d failures absorbed:",
           d->label, with_calloc ? "set" : "unset", k, n_sites - sites_before, n_sites, absorbed);
    for (int i = 0; i < d->nsteps; i++)
        if (absorbed_by[i])
            printf(" %s %d,", d->names[i], absorbed_by[i]);
    printf("\n");
    print_sites(sites_before);
    CHECK_INT(vt_set_allocator(NULL), 0);
}

static void test_failures_with_calloc(void) {
    run_failures(&main_scenario, 1);
    run_failures(&extra_scenario, 1);
}

static void test_failures_without_calloc(void) {
    run_failures(&main_scenario, 0);
    run_failures(&extra_scenario, 0);
}

/* ---- the first native read of the process ----
 *
 * Reading native buckets uses buffers kept for the life of the process and
 * grown on first use, which the scenarios above grow in their clean runs
 * before any call fails. So each failure of this one runs in a child forked
 * before the parent reads any native histogram: a fresh process, failing
 * call n of creating a native histogram, observing into it and visiting the
 * registry. The child reports through a pipe how many calls it made and the
 * sites it failed, and exits 0 when everything held: the visit returned 0 or
 * VT_ENOMEM, and a visit with failures off sees count = zero bucket + native
 * buckets (or no native histogram when its creation failed); an observation
 * that failed to allocate its native page is counted without a native
 * bucket, so after one the count may be larger. */

static int first_read_child(long fail, int fd) {
    n_calls = 0;
    fail_at = fail;
    int bad = 0;
    vt_registry_t *reg = NULL;
    vt_histogram_t *h = NULL;
    vt_histogram_series_t *hs = NULL;
    visit_state_t vs = {0, 0, 0};
    int rc = vt_registry_create(&reg);
    if (rc == 0) {
        vt_metric_opts_t o;
        vt_metric_opts_init(&o);
        o.name = "nh_first";
        o.help = "Native, read first.";
        o.native_bucket_factor = 1.1;
        if (vt_histogram_create_opts(reg, &o, &h) == 0 && vt_histogram_with(h, NULL, &hs) == 0) {
            long before = n_failed;
            for (int v = 1; v <= N_NATIVE; v++)
                vt_histogram_observe(hs, v);
            /* An observation whose page could not be allocated is counted
             * but misses the native buckets. */
            vs.lossy = n_failed != before;
        }
        rc = vt_registry_visit(reg, visit_check, &vs);
        bad |= rc != 0 && rc != VT_ENOMEM;
    }
    long calls = n_calls;
    fail_at = 0;
    if (reg) {
        visit_state_t again = {0, 0, vs.lossy};
        bad |= vt_registry_visit(reg, visit_check, &again) != 0 || again.bad;
        if (hs) {
            uint64_t count;
            double sum;
            vt_histogram_get(hs, &count, &sum);
            bad |= count != N_NATIVE;
        }
        vt_registry_destroy(reg);
    }
    bad |= vs.bad;
    bad |= write(fd, &calls, sizeof calls) != (ssize_t)sizeof calls;
    bad |= write(fd, &n_sites, sizeof n_sites) != (ssize_t)sizeof n_sites;
    bad |= write(fd, sites, (size_t)n_sites * sizeof sites[0]) !=
           (ssize_t)((size_t)n_sites * sizeof sites[0]);
    return bad;
}

/* Runs child `fail`; returns its allocation calls, or -1 when it failed. */
static long first_read_run(long fail) {
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        int bad = first_read_child(fail, fds[1]);
        close(fds[1]);
        exit(bad);
    }
    close(fds[1]);
    long calls = -1;
    int ns = 0, ok = pid > 0 && read(fds[0], &calls, sizeof calls) == (ssize_t)sizeof calls &&
                     read(fds[0], &ns, sizeof ns) == (ssize_t)sizeof ns && ns >= 0 &&
                     ns <= MAX_SITES;
    for (int i = 0; ok && i < ns; i++) {
        uintptr_t site;
        ok = read(fds[0], &site, sizeof site) == (ssize_t)sizeof site;
        int known = 0;
        for (int k = 0; ok && k < n_sites; k++)
            known |= sites[k] == site;
        if (ok && !known && n_sites < MAX_SITES)
            sites[n_sites++] = site;
    }
    close(fds[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "first native read, failure %ld: the child %s\n", fail,
                ok ? "found a problem" : "did not report");
        return -1;
    }
    return calls;
}

static void test_first_native_read(void) {
    int sites_before = n_sites;
    long k = first_read_run(0);
    CHECK(k > 10);
    for (long n = 1; n <= k; n++)
        CHECK(first_read_run(n) >= 0);
    printf("first native read, a fresh process per failure: %ld allocation calls, each failed "
           "once; %d new allocation sites failed (%d in all)\n",
           k, n_sites - sites_before, n_sites);
    print_sites(sites_before);
}

static void test_set_allocator(void) {
    use_counting(1);
    vt_allocator_t a;
    memset(&a, 0, sizeof a);
    a.malloc_fn = c_malloc;
    a.realloc_fn = c_realloc;
    CHECK_INT(vt_set_allocator(&a), VT_EINVAL); /* free missing */
    a.free_fn = c_free;
    a.realloc_fn = NULL;
    CHECK_INT(vt_set_allocator(&a), VT_EINVAL);
    a.realloc_fn = c_realloc;
    a.malloc_fn = NULL;
    CHECK_INT(vt_set_allocator(&a), VT_EINVAL);
    /* The refused calls left the counting allocator in place. */
    long before = n_calls;
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK(n_calls > before);
    vt_registry_destroy(reg);

    /* NULL restores the C library's allocator: the counters stand still. */
    CHECK_INT(vt_set_allocator(NULL), 0);
    before = n_calls;
    long live_before = live;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "g", "h", NULL, &g), 0);
    char *text = scrape(reg);
    CHECK(text != NULL);
    free(text);
    vt_registry_destroy(reg);
    CHECK_INT(n_calls, before);
    CHECK_INT(live, live_before);
}

int main(void) {
    /* The counting allocator must be in place before the first vitals call. */
    use_counting(1);
    memset(long_value, 'a', sizeof long_value - 1);
    RUN(test_first_native_read); /* before any native histogram is read */
    RUN(test_failures_with_calloc);
    RUN(test_failures_without_calloc);
    RUN(test_set_allocator);
    TEST_EXIT();
}
