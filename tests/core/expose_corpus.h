/* expose_corpus.h - every registry the exposition tests write, for the external checkers.
 *
 * The corpus: the golden registry, an empty registry, one with only the
 * self-metrics, one with the process collector, a large one (10,000 counter
 * series plus 1,000 histogram series), the hostile round-trip registry (label
 * values and HELP texts that need escaping or look like syntax, a
 * 10,000-character value, multibyte UTF-8, in created families and through a
 * collector) and the float registry (Go's number vectors and random doubles
 * as gauges and counters). promtool, the Python text parser and the strict
 * OpenMetrics parser all run over each of them. Used from one thread.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_EXPOSE_CORPUS_H
#define VT_TEST_EXPOSE_CORPUS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_registry.h"
#include "vitals.h"

/* ---- hostile strings ---- */

#define HOSTILE_LONG_LEN 10000

static char hostile_long[HOSTILE_LONG_LEN + 1];

/* A 10,000-byte value cycling through every character that needs care. */
static inline const char *hostile_long_value(void) {
    if (hostile_long[0])
        return hostile_long;
    static const char unit[] = "ab\\\"\n}{#=, \xc3\xa9\\n";
    size_t ul = sizeof unit - 1, n = 0;
    hostile_long[n++] = 'a';
    while (n + ul < HOSTILE_LONG_LEN) {
        memcpy(hostile_long + n, unit, ul);
        n += ul;
    }
    while (n < HOSTILE_LONG_LEN)
        hostile_long[n++] = 'z';
    hostile_long[n] = '\0';
    return hostile_long;
}

/* Label values; the last entry is replaced by the long value at run time. */
static const char *hostile_values[] = {
    "double \"quotes\"",
    "\"",
    "back\\slash",
    "\\",
    "\\\\",
    "trailing backslash\\",
    "new\nline",
    "\n",
    "\nleading newline",
    "trailing newline\n",
    "\\n",
    "\\\"",
    "close } brace",
    "}",
    "{",
    "# not a comment",
    "#",
    "a=b",
    "=",
    "x,y",
    ",",
    "\",x=\"}#",
    "\xc3\xa9",
    "\xe6\x97\xa5\xe6\x9c\xac",
    "\xf0\x9f\x8e\x89 emoji",
    "mix\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x8e\x89\\\"\n",
    "  spaces  inside  ",
    "tab\there",
    "",
    NULL, /* the long value */
};
#define HOSTILE_NVALUES (sizeof hostile_values / sizeof hostile_values[0])

/* HELP texts. None starts or ends with a space or tab: the Python text parser
 * strips those, which says nothing about the writer. None is empty either:
 * promtool's lint refuses a family without HELP (the round-trip test adds an
 * empty one outside the corpus). */
static const char *hostile_helps[] = {
    "quote \" inside",
    "\"",
    "back\\slash",
    "ends with backslash \\",
    "\\",
    "literal \\n two chars",
    "new\nline",
    "ends with newline\n",
    "\nstarts with newline",
    "braces {} and # and = and ,",
    "# HELP looks like metadata",
    "\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x8e\x89",
    NULL, /* the long value */
};
#define HOSTILE_NHELPS (sizeof hostile_helps / sizeof hostile_helps[0])

static inline void hostile_init(void) {
    hostile_values[HOSTILE_NVALUES - 1] = hostile_long_value();
    hostile_helps[HOSTILE_NHELPS - 1] = hostile_long_value();
}

static inline int hostile_collect(vt_emitter_t *e, void *ud) {
    (void)ud;
    int rc = vt_emit_family(e, VT_GAUGE, "rt_collected", "Hostile values from a collector.", NULL,
                            VT_LABELS("v", "w"));
    for (size_t i = 0; i < HOSTILE_NVALUES; i++)
        rc |= vt_emit_value(
            e, VT_VALUES(hostile_values[i], hostile_values[(i + 7) % HOSTILE_NVALUES]), (double)i);
    rc |= vt_emit_family(e, VT_COUNTER, "rt_collected_events", "Hostile counter labels.", NULL,
                         VT_LABELS("v"));
    for (size_t i = 0; i < HOSTILE_NVALUES; i++)
        rc |= vt_emit_value(e, VT_VALUES(hostile_values[i]), (double)i);
    for (size_t i = 0; i < HOSTILE_NHELPS; i++) {
        char name[64];
        snprintf(name, sizeof name, "rt_collected_help_%zu", i);
        rc |= vt_emit_family(e, VT_GAUGE, name, hostile_helps[i], NULL, NULL);
        rc |= vt_emit_value(e, NULL, (double)i);
    }
    return rc ? -1 : 0;
}

/* rt_hostile{v,w}, rt_requests_total{v}, rt_wait_seconds{v}, rt_const{c=long,v},
 * rt_build_info, rt_help_<i> and the collector's rt_collected* families. */
static inline int hostile_registry_build(vt_registry_t **out_reg) {
    hostile_init();
    vt_registry_t *reg = NULL;
    int rc = golden_check(vt_registry_create(&reg), "vt_registry_create");
    if (rc)
        return rc;
    vt_gauge_t *g;
    vt_gauge_series_t *gs;
    GOLDEN_TRY(
        vt_gauge_create(reg, "rt_hostile", "Hostile label values.", VT_LABELS("v", "w"), &g));
    for (size_t i = 0; i < HOSTILE_NVALUES; i++) {
        GOLDEN_TRY(vt_gauge_with(
            g, VT_VALUES(hostile_values[i], hostile_values[(i + 7) % HOSTILE_NVALUES]), &gs));
        vt_gauge_set(gs, (double)i);
    }
    vt_counter_t *c;
    vt_counter_series_t *cs;
    GOLDEN_TRY(
        vt_counter_create(reg, "rt_requests_total", "Hostile counter labels.", VT_LABELS("v"), &c));
    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    GOLDEN_TRY(vt_histogram_create(reg, "rt_wait_seconds", "Hostile histogram labels.",
                                   VT_LABELS("v"), NULL, 0, &h));
    for (size_t i = 0; i < HOSTILE_NVALUES; i++) {
        GOLDEN_TRY(vt_counter_with(c, VT_VALUES(hostile_values[i]), &cs));
        vt_counter_add_u64(cs, i);
        GOLDEN_TRY(vt_histogram_with(h, VT_VALUES(hostile_values[i]), &hs));
        vt_histogram_observe(hs, (double)i / 10);
    }
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "rt_const";
    o.help = "A hostile const label.";
    o.label_names = VT_LABELS("v");
    o.const_labels = VT_LABELS("c", hostile_long_value());
    GOLDEN_TRY(vt_gauge_create_opts(reg, &o, &g));
    GOLDEN_TRY(vt_gauge_with(g, VT_VALUES("\"}"), &gs));
    vt_info_t *info;
    GOLDEN_TRY(vt_info_create(reg, "rt_build", "Hostile info labels.", VT_LABELS("v"),
                              VT_VALUES(hostile_values[HOSTILE_NVALUES - 5]), &info));
    for (size_t i = 0; i < HOSTILE_NHELPS; i++) {
        char name[64];
        snprintf(name, sizeof name, "rt_help_%zu", i);
        GOLDEN_TRY(vt_gauge_create(reg, name, hostile_helps[i], NULL, &g));
        GOLDEN_TRY(vt_gauge_with(g, NULL, &gs));
        vt_gauge_set(gs, (double)i);
    }
    GOLDEN_TRY(vt_registry_add_collector(reg, NULL, hostile_collect, NULL, NULL, NULL));
    *out_reg = reg;
    return 0;
}

/* ---- floats ---- */

/* A deterministic 64-bit generator (xorshift64*). */
static inline uint64_t floats_rand(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Random doubles of every magnitude: random bit patterns (NaN excluded, which
 * has no single text), half of them with a small exponent range so that
 * ordinary magnitudes are well covered too. */
static inline double floats_random_double(uint64_t *state) {
    for (;;) {
        uint64_t bits = floats_rand(state);
        if (floats_rand(state) & 1) {
            uint64_t exp = 1023 - 30 + floats_rand(state) % 60;
            bits = (bits & 0x800FFFFFFFFFFFFFULL) | (exp << 52);
        }
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isnan(d))
            return d;
    }
}

#define FLOATS_NRANDOM 2000
#define FLOATS_NCOUNTERS 300
#define FLOATS_SEED 0x9E3779B97F4A7C15ULL

/* One go_g.txt row: the input as a double and Go's text. */
typedef struct floats_vector {
    double v;
    char want[64];
} floats_vector_t;

/* The exact decimal sum of two plain decimals ("0.1+0.2" means 0.3, as Go's
 * constant arithmetic computes it), as a double. */
static inline double floats_exact_sum(const char *a, const char *b) {
    char ia[64] = "", fa[64] = "", ib[64] = "", fb[64] = "";
    sscanf(a, "%63[0-9].%63[0-9]", ia, fa);
    sscanf(b, "%63[0-9].%63[0-9]", ib, fb);
    size_t nf = strlen(fa) > strlen(fb) ? strlen(fa) : strlen(fb);
    while (strlen(fa) < nf)
        strcat(fa, "0");
    while (strlen(fb) < nf)
        strcat(fb, "0");
    char da[128], db[128], sum[130];
    snprintf(da, sizeof da, "%s%s", ia, fa);
    snprintf(db, sizeof db, "%s%s", ib, fb);
    size_t la = strlen(da), lb = strlen(db), n = la > lb ? la : lb;
    int carry = 0;
    sum[n + 1] = '\0';
    for (size_t k = 0; k < n; k++) {
        int x = k < la ? da[la - 1 - k] - '0' : 0, y = k < lb ? db[lb - 1 - k] - '0' : 0;
        int s = x + y + carry;
        sum[n - k] = (char)('0' + s % 10);
        carry = s / 10;
    }
    sum[0] = (char)('0' + carry);
    char text[160];
    snprintf(text, sizeof text, "%.*s.%se0", (int)(n + 1 - nf), sum, sum + n + 1 - nf);
    return strtod(text, NULL);
}

static inline double floats_parse_input(const char *s) {
    if (strcmp(s, "+Inf") == 0)
        return INFINITY;
    if (strcmp(s, "-Inf") == 0)
        return -INFINITY;
    if (strcmp(s, "NaN") == 0)
        return NAN;
    const char *plus = strchr(s + 1, '+');
    if (plus && plus[-1] != 'e' && plus[-1] != 'E') {
        char a[64];
        snprintf(a, sizeof a, "%.*s", (int)(plus - s), s);
        return floats_exact_sum(a, plus + 1);
    }
    return strtod(s, NULL);
}

/* Rows of tests/data/go_g.txt (or the shared copy); *out_n 0 when neither exists. */
static inline floats_vector_t *floats_load_go(size_t *out_n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/go_g.txt", VT_TEST_DATA_DIR);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(path, sizeof path, "%s/floats/go_g.txt", VT_SHARED_TESTDATA_DIR);
        f = fopen(path, "r");
    }
    *out_n = 0;
    if (!f)
        return NULL;
    size_t cap = 64, n = 0;
    floats_vector_t *v = malloc(cap * sizeof *v);
    char line[512];
    while (v && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        *tab = '\0';
        if (n == cap) {
            floats_vector_t *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        v[n].v = floats_parse_input(line);
        snprintf(v[n].want, sizeof v[n].want, "%s", tab + 1);
        n++;
    }
    fclose(f);
    *out_n = n;
    return v;
}

/* fv_go{i} = the go_g.txt rows, fv_random{i} = FLOATS_NRANDOM random doubles,
 * fv_added_total{i} = FLOATS_NCOUNTERS non-negative random doubles added once.
 * The values are returned through out_* (may be NULL; caller frees). */
static inline int floats_registry_build(vt_registry_t **out_reg, floats_vector_t **out_go,
                                        size_t *out_ngo) {
    size_t ngo;
    floats_vector_t *go = floats_load_go(&ngo);
    vt_registry_t *reg = NULL;
    int rc = golden_check(vt_registry_create(&reg), "vt_registry_create");
    if (rc) {
        free(go);
        return rc;
    }
#define FLOATS_TRY(call)                                                                           \
    do {                                                                                           \
        if (golden_check((call), #call)) {                                                         \
            free(go);                                                                              \
            vt_registry_destroy(reg);                                                              \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
    vt_gauge_t *g;
    vt_gauge_series_t *gs;
    char idx[32];
    FLOATS_TRY(vt_gauge_create(reg, "fv_go", "Go's number vectors.", VT_LABELS("i"), &g));
    for (size_t i = 0; i < ngo; i++) {
        snprintf(idx, sizeof idx, "%zu", i);
        FLOATS_TRY(vt_gauge_with(g, VT_VALUES(idx), &gs));
        vt_gauge_set(gs, go[i].v);
    }
    FLOATS_TRY(vt_gauge_create(reg, "fv_random", "Random doubles.", VT_LABELS("i"), &g));
    uint64_t state = FLOATS_SEED;
    for (size_t i = 0; i < FLOATS_NRANDOM; i++) {
        snprintf(idx, sizeof idx, "%zu", i);
        FLOATS_TRY(vt_gauge_with(g, VT_VALUES(idx), &gs));
        vt_gauge_set(gs, floats_random_double(&state));
    }
    vt_counter_t *c;
    vt_counter_series_t *cs;
    FLOATS_TRY(vt_counter_create(reg, "fv_added_total", "Random non-negative doubles added.",
                                 VT_LABELS("i"), &c));
    for (size_t i = 0; i < FLOATS_NCOUNTERS; i++) {
        snprintf(idx, sizeof idx, "%zu", i);
        FLOATS_TRY(vt_counter_with(c, VT_VALUES(idx), &cs));
        vt_counter_add(cs, fabs(floats_random_double(&state)));
    }
#undef FLOATS_TRY
    *out_reg = reg;
    if (out_go) {
        *out_go = go;
        *out_ngo = ngo;
    } else
        free(go);
    return 0;
}

/* ---- large ---- */

#define LARGE_NCOUNTER 10000
#define LARGE_NHISTOGRAM 1000

static inline int large_registry_build(vt_registry_t **out_reg) {
    vt_registry_t *reg = NULL;
    int rc = golden_check(vt_registry_create(&reg), "vt_registry_create");
    if (rc)
        return rc;
    vt_counter_t *c;
    vt_counter_series_t *cs;
    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    GOLDEN_TRY(vt_counter_create(reg, "large_requests_total", "Requests by path and code.",
                                 VT_LABELS("path", "code"), &c));
    GOLDEN_TRY(vt_histogram_create(reg, "large_latency_seconds", "Latency by path.",
                                   VT_LABELS("path"), NULL, 0, &h));
    for (unsigned i = 0; i < LARGE_NCOUNTER; i++) {
        char path[32], code[8];
        snprintf(path, sizeof path, "/item/%u", i / 4);
        snprintf(code, sizeof code, "%u", 200 + 100 * (i % 4));
        GOLDEN_TRY(vt_counter_with(c, VT_VALUES(path, code), &cs));
        vt_counter_add_u64(cs, i);
        if (i % 4 == 0 && i / 4 < LARGE_NHISTOGRAM) {
            GOLDEN_TRY(vt_histogram_with(h, VT_VALUES(path), &hs));
            vt_histogram_observe(hs, (double)(i % 97) / 10);
        }
    }
    *out_reg = reg;
    return 0;
}

/* ---- the corpus ---- */

static inline int empty_registry_build(vt_registry_t **out_reg) {
    int rc = vt_registry_create(out_reg);
    if (rc == 0)
        vt_registry_set_self_metrics(*out_reg, 0);
    return rc;
}

static inline int self_registry_build(vt_registry_t **out_reg) {
    return vt_registry_create(out_reg);
}

static inline int process_registry_build(vt_registry_t **out_reg) {
    vt_registry_t *reg = NULL;
    int rc = golden_check(vt_registry_create(&reg), "vt_registry_create");
    if (rc)
        return rc;
    GOLDEN_TRY(vt_process_collector_register(reg));
    *out_reg = reg;
    return 0;
}

static inline int golden_corpus_build(vt_registry_t **out_reg) {
    return golden_registry_build(out_reg);
}

static inline int floats_corpus_build(vt_registry_t **out_reg) {
    return floats_registry_build(out_reg, NULL, NULL);
}

typedef struct corpus_entry {
    const char *name;
    int (*build)(vt_registry_t **out_reg);
} corpus_entry_t;

static const corpus_entry_t corpus[] = {
    {"golden", golden_corpus_build}, {"empty", empty_registry_build},
    {"self", self_registry_build},   {"process", process_registry_build},
    {"large", large_registry_build}, {"hostile", hostile_registry_build},
    {"floats", floats_corpus_build},
};
#define CORPUS_N (sizeof corpus / sizeof corpus[0])

#endif
