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
 *   pages, freed slot runs) is allocated by then and does not grow.
 * Everything runs twice: with the allocator's optional calloc_fn, and without.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

/* ---- the counting allocator ---- */

static long n_calls;  /* allocation calls (malloc, calloc, realloc) so far */
static long fail_at;  /* the call that fails, or 0 */
static long n_failed; /* calls made to fail */
static long live;     /* allocations minus frees */

static int fail_now(void) {
    n_calls++;
    if (n_calls == fail_at) {
        n_failed++;
        return 1;
    }
    return 0;
}

static void *c_malloc(size_t n) {
    if (fail_now())
        return NULL;
    void *p = malloc(n);
    if (p)
        live++;
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

typedef struct run {
    int rc[S_COUNT];
    int failed_in[S_COUNT]; /* the injected failure happened during this step */
    int bad;                /* a check failed; print the run */
    long step_calls;        /* allocation calls the steps made (the ones that may fail) */
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
#undef STEP
}

static void print_run(long fail, const run_t *r) {
    fprintf(stderr, "run with failure %ld:\n", fail);
    for (int i = 0; i < S_COUNT; i++)
        fprintf(stderr, "  %-18s %s%s\n", step_names[i],
                r->rc[i] == SKIPPED ? "skipped" : vt_err_name(r->rc[i]),
                r->failed_in[i] ? "  <- failed allocation" : "");
}

static void run_all_failures(int with_calloc) {
    fprintf(stderr, "-- calloc_fn %s\n", with_calloc ? "set" : "unset");
    use_counting(with_calloc);
    run_t r;
    /* Two clean runs: the first allocates the process-wide state. */
    scenario(0, &r);
    CHECK(!r.bad);
    long base = live;
    scenario(0, &r);
    CHECK(!r.bad);
    long k = r.step_calls;
    CHECK_INT(live, base);
    for (int i = 0; i < S_COUNT; i++)
        CHECK_INT(r.rc[i], 0);
    CHECK(k > 50);

    int absorbed = 0, absorbed_by[S_COUNT] = {0};
    for (long n = 1; n <= k + 3; n++) {
        long failed_before = n_failed;
        scenario(n, &r);
        int hit = n_failed != failed_before;
        if (n <= k && !hit) {
            fprintf(stderr, "failure %ld was never reached (the scenario changed its path)\n", n);
            r.bad = 1;
        }
        int any_error = 0;
        for (int i = 0; i < S_COUNT; i++)
            if (r.rc[i] != 0 && r.rc[i] != SKIPPED)
                any_error = 1;
        if (hit && !any_error) {
            absorbed++;
            for (int i = 0; i < S_COUNT; i++)
                absorbed_by[i] += r.failed_in[i];
        }
        if (live != base) {
            fprintf(stderr, "failure %ld: %ld allocations not freed\n", n, live - base);
            r.bad = 1;
        }
        if (r.bad) {
            print_run(n, &r);
            th_checks_failed++;
        }
        base = live;
    }
    printf("calloc_fn %s: %ld allocation calls, each failed once; %d failures absorbed:",
           with_calloc ? "set" : "unset", k, absorbed);
    for (int i = 0; i < S_COUNT; i++)
        if (absorbed_by[i])
            printf(" %s %d,", step_names[i], absorbed_by[i]);
    printf("\n");
    CHECK_INT(vt_set_allocator(NULL), 0);
}

static void test_failures_with_calloc(void) {
    run_all_failures(1);
}

static void test_failures_without_calloc(void) {
    run_all_failures(0);
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
    RUN(test_failures_with_calloc);
    RUN(test_failures_without_calloc);
    RUN(test_set_allocator);
    TEST_EXIT();
}
