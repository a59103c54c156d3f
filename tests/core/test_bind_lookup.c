/* test_bind_lookup.c - finding an existing series by label values: the table
 * lookup, its hash collisions, and the per-thread bind cache.
 *
 * A bind hashes the values as given and compares them with a series' stored
 * text; a thread also remembers recent binds keyed by the value pointers.
 * These tests hold both paths to exact answers: values that differ only in
 * escaping, in one byte, in length, or not at all but for their hash; buffers
 * whose contents change under the same pointer; series removed, cleared or
 * recreated while a thread still remembers them; families destroyed and made
 * again; and many threads binding the same new series at once.
 *
 * vt-test: labels=concurrency
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdint.h>

#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

/* Internal (linked from vitals_static): the hash a bind computes. */
int vt__family_hash(vt_family_t *f, const char *const *values, uint32_t *out_hash);

static vt_counter_series_t *bind1(vt_counter_t *c, const char *v) {
    vt_counter_series_t *s = NULL;
    int rc = vt_counter_with(c, VT_VALUES(v), &s);
    CHECK_INT(rc, 0);
    return s;
}

/* Values that only escaping tells apart are different series, each found
 * again (twice, so a second bind could come from the cache). */
static void test_escaping_neighbours(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "esc", "h", VT_LABELS("v"), &c), 0);
    static const char *const vals[] = {
        "a\"b", "a\\\"b", "a\\b", "a\\\\b", "a\nb", "a\\nb", "a\\", "a",   "a\"",
        "\"",   "\\",     "\n",   "",       "ab",   "a b",   "a,b", "a=b", "a}b",
    };
    enum { N = sizeof vals / sizeof vals[0] };
    vt_counter_series_t *s[N];
    for (int i = 0; i < N; i++)
        s[i] = bind1(c, vals[i]);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i; j++)
            CHECK(s[i] != s[j]);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++)
            CHECK(bind1(c, vals[i]) == s[i]);
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), N);
    for (int i = 0; i < N; i++)
        vt_counter_add_u64(s[i], (uint64_t)i + 1);
    char *text = scrape(reg);
    CHECK(has_line(text, "esc_total{v=\"a\\\"b\"} 1"));
    CHECK(has_line(text, "esc_total{v=\"a\\\\\\\"b\"} 2"));
    CHECK(has_line(text, "esc_total{v=\"a\\nb\"} 5"));
    CHECK(has_line(text, "esc_total{v=\"a\\\\nb\"} 6"));
    CHECK(has_line(text, "esc_total{v=\"\"} 13"));
    free(text);
    vt_registry_destroy(reg);
}

/* Every length around the word sizes, and long values: a value differing in
 * one byte anywhere, or one byte longer or shorter, is another series. */
static void test_lengths_and_single_bytes(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "len";
    o.label_names = VT_LABELS("a", "v");
    o.max_series = 100000;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    static const size_t lens[] = {0,  1,  2,  3,  4,  5,  7,  8,  9,   12,   15,
                                  16, 17, 23, 24, 25, 31, 33, 64, 100, 1000, 5000};
    char *base = malloc(5001), *buf = malloc(5001);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = lens[k];
        for (size_t i = 0; i < n; i++)
            base[i] = (char)('a' + i % 23);
        base[n] = '\0';
        vt_counter_series_t *first, *again;
        CHECK_INT(vt_counter_with(c, VT_VALUES("x", base), &first), 0);
        memcpy(buf, base, n + 1);
        CHECK_INT(vt_counter_with(c, VT_VALUES("x", buf), &again), 0);
        CHECK(first == again); /* the same content at another address */
        /* One byte changed: first, middle, last, and every byte of short values. */
        size_t step = n <= 40 ? 1 : n / 7;
        for (size_t p = 0; p < n; p += step) {
            memcpy(buf, base, n + 1);
            buf[p] = 'Z';
            vt_counter_series_t *d, *d2;
            CHECK_INT(vt_counter_with(c, VT_VALUES("x", buf), &d), 0);
            CHECK(d != first);
            CHECK_INT(vt_counter_with(c, VT_VALUES("x", buf), &d2), 0);
            CHECK(d2 == d);
        }
        if (n > 0) {
            memcpy(buf, base, n + 1);
            buf[n - 1] = '\0'; /* one shorter */
            vt_counter_series_t *d;
            CHECK_INT(vt_counter_with(c, VT_VALUES("x", buf), &d), 0);
            CHECK(d != first);
        }
        CHECK_INT(vt_counter_with(c, VT_VALUES("x", base), &again), 0);
        CHECK(first == again);
    }
    free(base);
    free(buf);
    vt_registry_destroy(reg);
}

/* Two label sets whose hashes are equal (found by search) are still two
 * series, and each bind finds its own. */
static void test_hash_collision(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "coll", "h", VT_LABELS("k", "v"), &c), 0);
    vt_family_t *f = vt_counter_family(c);
    enum { TRIES = 300000 };
    uint32_t *hashes = malloc(TRIES * sizeof *hashes);
    char a[32], b[32];
    int found = 0;
    /* Sort-free search: a small open-addressing map from hash to index. */
    enum { MAPN = 1 << 20 };
    int32_t *map = malloc(MAPN * sizeof *map);
    for (int i = 0; i < MAPN; i++)
        map[i] = -1;
    for (int i = 0; i < TRIES && !found; i++) {
        snprintf(a, sizeof a, "user-%d", i);
        CHECK_INT(vt__family_hash(f, VT_VALUES("k", a), &hashes[i]), 0);
        uint32_t j = hashes[i] & (MAPN - 1);
        while (map[j] >= 0 && hashes[map[j]] != hashes[i])
            j = (j + 1) & (MAPN - 1);
        if (map[j] >= 0) {
            snprintf(b, sizeof b, "user-%d", map[j]);
            found = 1;
        } else
            map[j] = i;
    }
    free(map);
    free(hashes);
    CHECK(found);
    if (found) {
        uint32_t ha, hb;
        CHECK_INT(vt__family_hash(f, VT_VALUES("k", a), &ha), 0);
        CHECK_INT(vt__family_hash(f, VT_VALUES("k", b), &hb), 0);
        CHECK(ha == hb && strcmp(a, b) != 0);
        vt_counter_series_t *sa, *sb, *sa2, *sb2;
        CHECK_INT(vt_counter_with(c, VT_VALUES("k", a), &sa), 0);
        CHECK_INT(vt_counter_with(c, VT_VALUES("k", b), &sb), 0);
        CHECK(sa != sb);
        for (int r = 0; r < 3; r++) {
            CHECK_INT(vt_counter_with(c, VT_VALUES("k", a), &sa2), 0);
            CHECK_INT(vt_counter_with(c, VT_VALUES("k", b), &sb2), 0);
            CHECK(sa2 == sa && sb2 == sb);
        }
        CHECK_INT(vt_family_remove(f, VT_VALUES("k", a)), 0);
        CHECK_INT(vt_counter_with(c, VT_VALUES("k", b), &sb2), 0);
        CHECK(sb2 == sb);
        CHECK_INT(vt_family_remove(f, VT_VALUES("k", a)), VT_ENOTFOUND);
        CHECK_INT(vt_family_series_count(f), 1);
    }
    CHECK_INT(vt__family_hash(f, VT_VALUES("k"), &(uint32_t){0}), VT_ELABELCOUNT);
    vt_registry_destroy(reg);
}

/* The same buffer holding other contents binds other series. */
static void test_reused_buffer(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "buf", "h", VT_LABELS("method", "code"), &c), 0);
    char code[32];
    strcpy(code, "200");
    vt_counter_series_t *s200, *s404, *s20, *s2000, *s;
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", code), &s200), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", code), &s), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", code), &s), 0); /* from the cache */
    CHECK(s == s200);
    strcpy(code, "404");
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", code), &s404), 0);
    CHECK(s404 != s200);
    strcpy(code, "20");
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", code), &s20), 0);
    strcpy(code, "2000");
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", code), &s2000), 0);
    CHECK(s20 != s200 && s2000 != s200 && s20 != s2000 && s20 != s404);
    strcpy(code, "200");
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", code), &s), 0);
    CHECK(s == s200);
    /* A quote in the same buffer: an escaped series, never mistaken. */
    strcpy(code, "2\"0");
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", code), &s), 0);
    CHECK(s != s200 && s != s20);
    vt_counter_series_t *q;
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", code), &q), 0);
    CHECK(q == s);
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), 5);
    vt_registry_destroy(reg);
}

/* A wrong number of values is an error whatever this thread bound before
 * with the same pointers. */
static void test_label_count_after_hits(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "cnt", "h", VT_LABELS("a", "b", "c"), &c), 0);
    static const char *const three[] = {"x", "y", "z", NULL};
    static const char *const two[] = {"x", "y", NULL, NULL};
    static const char *const four[] = {"x", "y", "z", "w", NULL};
    vt_counter_series_t *s;
    for (int i = 0; i < 3; i++)
        CHECK_INT(vt_counter_with(c, three, &s), 0);
    CHECK_INT(vt_counter_with(c, two, &s), VT_ELABELCOUNT);
    CHECK_INT(vt_counter_with(c, four, &s), VT_ELABELCOUNT);
    CHECK_INT(vt_counter_with(c, NULL, &s), VT_ELABELCOUNT);
    CHECK_INT(vt_counter_with(c, three, NULL), VT_EINVAL);
    CHECK_INT(vt_family_remove(vt_counter_family(c), two), VT_ELABELCOUNT);
    CHECK_INT(vt_family_remove(vt_counter_family(c), four), VT_ELABELCOUNT);
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), 1);
    vt_registry_destroy(reg);
}

/* A remembered series that was removed is never handed out again: the next
 * bind makes (or finds) the live one. */
static void test_removed_and_recreated(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "rm", "h", VT_LABELS("method", "code"), &c), 0);
    vt_family_t *f = vt_counter_family(c);
    vt_counter_series_t *old, *s, *fresh;
    for (int i = 0; i < 3; i++)
        CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "200"), &old), 0);
    vt_counter_add_u64(old, 5);
    CHECK_INT(vt_family_remove(f, VT_VALUES("GET", "200")), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "200"), &fresh), 0);
    CHECK(fresh != old);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "200"), &s), 0);
        CHECK(s == fresh);
    }
    vt_counter_inc(fresh);
    vt_counter_inc(old); /* a removed handle stays writable and unseen */
    CHECK_DBL(sample(reg, "rm_total", VT_LABELS("method", "code"), VT_VALUES("GET", "200")), 1);
    CHECK_INT(vt_family_series_count(f), 1);

    /* Cleared: every remembered series is gone. */
    vt_family_clear(f);
    CHECK_INT(vt_family_series_count(f), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "200"), &s), 0);
    CHECK(s != fresh && s != old);
    CHECK_INT(vt_family_series_count(f), 1);
    vt_counter_series_t *s2;
    CHECK_INT(vt_counter_with(c, VT_VALUES("GET", "200"), &s2), 0);
    CHECK(s2 == s);
    vt_registry_destroy(reg);
}

/* Families destroyed and made again (often at the same address) never answer
 * with a series of the old family. */
static void test_family_recreated(void) {
    for (int round = 0; round < 20; round++) {
        vt_registry_t *reg;
        CHECK_INT(vt_registry_create(&reg), 0);
        vt_counter_t *c;
        CHECK_INT(vt_counter_create(reg, "again", "h", VT_LABELS("code"), &c), 0);
        vt_counter_series_t *s, *s2;
        for (int i = 0; i < 3; i++)
            CHECK_INT(vt_counter_with(c, VT_VALUES("200"), &s), 0);
        CHECK_INT(vt_counter_with(c, VT_VALUES("200"), &s2), 0);
        CHECK(s2 == s);
        vt_counter_add_u64(s, (uint64_t)round + 1);
        CHECK_DBL(sample(reg, "again_total", VT_LABELS("code"), VT_VALUES("200")), round + 1);
        CHECK_INT(vt_family_series_count(vt_counter_family(c)), 1);
        vt_registry_destroy(reg);
    }
    /* Without a registry: vt_family_destroy, then the same shape again. */
    for (int round = 0; round < 20; round++) {
        vt_counter_t *c;
        CHECK_INT(vt_counter_create(NULL, "free", "h", VT_LABELS("code"), &c), 0);
        vt_counter_series_t *s;
        for (int i = 0; i < 3; i++)
            CHECK_INT(vt_counter_with(c, VT_VALUES("200"), &s), 0);
        CHECK_INT(vt_family_series_count(vt_counter_family(c)), 1);
        CHECK_INT(vt_family_destroy(vt_counter_family(c)), 0);
    }
}

/* The overflow series is never remembered for other values: once there is
 * room again, those values get a series of their own. */
static void test_overflow_not_remembered(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "ovf";
    o.label_names = VT_LABELS("v");
    o.max_series = 2;
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_family_t *f = vt_counter_family(c);
    vt_counter_series_t *a, *b, *x, *x2, *ov;
    a = bind1(c, "a");
    b = bind1(c, "b");
    x = bind1(c, "c");
    x2 = bind1(c, "c");
    CHECK(x == x2 && x != a && x != b);
    CHECK_INT(vt_counter_with(c, VT_VALUES(VT_OVERFLOW_LABEL_VALUE), &ov), 0);
    CHECK(ov == x);
    CHECK_INT(vt_family_remove(f, VT_VALUES("a")), 0);
    vt_counter_series_t *own = bind1(c, "c");
    CHECK(own != x && own != a && own != b);
    CHECK(bind1(c, "c") == own);
    CHECK(bind1(c, "b") == b);
    vt_registry_destroy(reg);
}

/* Const labels, escaped or not, do not change what the values bind. */
static void test_const_labels(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "cl";
    o.label_names = VT_LABELS("code");
    o.const_labels = VT_LABELS("env", "a\"b\\c\nd");
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_counter_series_t *s = bind1(c, "200"), *t = bind1(c, "404");
    CHECK(s != t);
    CHECK(bind1(c, "200") == s);
    CHECK(bind1(c, "200") == s);
    CHECK(bind1(c, "404") == t);
    vt_counter_inc(s);
    char *text = scrape(reg);
    CHECK(has_line(text, "cl_total{env=\"a\\\"b\\\\c\\nd\",code=\"200\"} 1"));
    free(text);
    vt_registry_destroy(reg);
}

/* More label sets than the cache holds, over several families and label
 * counts (1 to 6, so some families bypass the cache): every bind answers the
 * handle the first bind gave. */
static void test_many_sets(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    enum { FAMS = 6, SETS = 300 };
    vt_counter_t *c[FAMS];
    static const char *const names[] = {"a", "b", "c", "d", "e", "f", NULL};
    static char vals[SETS][16];
    for (int i = 0; i < SETS; i++)
        snprintf(vals[i], sizeof vals[i], "%d", i);
    static vt_counter_series_t *first[FAMS][SETS];
    memset(first, 0, sizeof first);
    for (int k = 0; k < FAMS; k++) {
        const char *ln[7] = {0};
        for (int j = 0; j <= k; j++)
            ln[j] = names[j];
        char name[16];
        snprintf(name, sizeof name, "many%d", k);
        CHECK_INT(vt_counter_create(reg, name, "h", ln, &c[k]), 0);
    }
    uint64_t x = 12345;
    for (int r = 0; r < 6000; r++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int k = (int)(x % FAMS), i = (int)((x >> 8) % SETS);
        const char *v[8] = {0};
        for (int j = 0; j <= k; j++)
            v[j] = vals[(i + j) % SETS];
        vt_counter_series_t *s;
        CHECK_INT(vt_counter_with(c[k], v, &s), 0);
        if (!first[k][i])
            first[k][i] = s;
        CHECK(first[k][i] == s);
    }
    /* Mostly misses so far, so the thread skips its cache for a while; past
     * that, a few sets bound over and over are cached again. */
    for (int r = 0; r < 20000; r++) {
        int i = r % 5;
        vt_counter_series_t *s;
        CHECK_INT(vt_counter_with(c[1], VT_VALUES(vals[i], vals[(i + 1) % SETS]), &s), 0);
        if (!first[1][i])
            first[1][i] = s;
        CHECK(first[1][i] == s);
    }
    vt_registry_destroy(reg);
}

/* Many threads bind the same new series at once, again and again, and count:
 * one series per label set, every thread got the same handle, no count lost. */
enum { THREADS = 8, RSETS = 40, ROUNDS = 200 };
static vt_counter_t *race_c;
static vt_counter_series_t *race_seen[THREADS][RSETS];
static pthread_barrier_t race_barrier;
static char race_vals[RSETS][16];

static void *race_worker(void *arg) {
    int t = (int)(intptr_t)arg;
    pthread_barrier_wait(&race_barrier);
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < RSETS; i++) {
            int k = (i + t * 7) % RSETS;
            vt_counter_series_t *s;
            if (vt_counter_with(race_c, VT_VALUES("GET", race_vals[k], "200"), &s) != 0)
                return (void *)1;
            if (race_seen[t][k] && race_seen[t][k] != s)
                return (void *)2;
            race_seen[t][k] = s;
            vt_counter_inc(s);
        }
    return NULL;
}

static void test_concurrent_create(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_counter_create(reg, "race", "h", VT_LABELS("method", "path", "code"), &race_c), 0);
    for (int i = 0; i < RSETS; i++)
        snprintf(race_vals[i], sizeof race_vals[i], "/p/%d", i);
    memset(race_seen, 0, sizeof race_seen);
    pthread_barrier_init(&race_barrier, NULL, THREADS);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        CHECK_INT(pthread_create(&th[t], NULL, race_worker, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++) {
        void *rv;
        pthread_join(th[t], &rv);
        CHECK(rv == NULL);
    }
    pthread_barrier_destroy(&race_barrier);
    CHECK_INT(vt_family_series_count(vt_counter_family(race_c)), RSETS);
    for (int i = 0; i < RSETS; i++) {
        for (int t = 1; t < THREADS; t++)
            CHECK(race_seen[t][i] == race_seen[0][i]);
        CHECK_DBL(sample(reg, "race_total", VT_LABELS("method", "path", "code"),
                         VT_VALUES("GET", race_vals[i], "200")),
                  THREADS * ROUNDS);
    }
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_escaping_neighbours);
    RUN(test_lengths_and_single_bytes);
    RUN(test_hash_collision);
    RUN(test_reused_buffer);
    RUN(test_label_count_after_hits);
    RUN(test_removed_and_recreated);
    RUN(test_family_recreated);
    RUN(test_overflow_not_remembered);
    RUN(test_const_labels);
    RUN(test_many_sets);
    RUN(test_concurrent_create);
    TEST_EXIT();
}
