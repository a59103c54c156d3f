/* test_routes.c - route templates: syntax, precedence, hostile paths, a million matches,
 * and routes added while other threads match.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vitals.h"
#include "vitals/http.h"

#include "client.h"

static vt_registry_t *reg;
static vt_red_t *red;

static const char *const routes[] = {
    "/",        "/users/me",       "/users/:id",   "/users/:id/posts",
    "/users/*", "/static/*",       "/a/b/",        "/a/:x/c",
    "/a/b/d",   "/v1/items:batch", "/files/*path", "/reservations/:user_id",
};

static void setup(void) {
    size_t i;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_red_create(reg, NULL, &red), 0);
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        CHECK_INT(vt_red_route_add(red, routes[i]), 0);
}

static void teardown(void) {
    vt_red_destroy(red);
    vt_registry_destroy(reg);
}

static const char *m(const char *path) {
    return vt_red_route_match(red, path, strlen(path));
}

static void test_syntax_errors(void) {
    static const char *const bad[] = {
        "",        "x",      "a/b",          "/a//b",   "//",      "/a/:", "/a/*/b",
        "/a/*x/b", "/./a",   "/a/../b",      "/a/.",    "/a?b=1",  "/a#f", "/a b",
        "/a\tb",   "/a\x01", "/caf\xc3\xa9", "/a/:x-y", "/a/*x.y", "/:"};
    char longp[1100];
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = vt_red_route_add(red, bad[i]);
        if (rc != VT_EINVAL)
            fprintf(stderr, "pattern \"%s\" gave %d\n", bad[i], rc);
        CHECK_INT(rc, VT_EINVAL);
    }
    CHECK_INT(vt_red_route_add(red, NULL), VT_EINVAL);
    CHECK_INT(vt_red_route_add(NULL, "/x"), VT_EINVAL);
    longp[0] = '/';
    memset(longp + 1, 'a', sizeof(longp) - 2);
    longp[sizeof(longp) - 1] = '\0';
    CHECK_INT(vt_red_route_add(red, longp), VT_EINVAL);
    /* A refused template changes nothing. */
    CHECK_STR(m("/users/42"), "/users/:id");
}

static void test_duplicates(void) {
    CHECK_INT(vt_red_route_add(red, "/users/:id"), VT_EDUPLICATE);
    CHECK_INT(vt_red_route_add(red, "/users/:other"), VT_EDUPLICATE);
    CHECK_INT(vt_red_route_add(red, "/static/*rest"), VT_EDUPLICATE);
    CHECK_INT(vt_red_route_add(red, "/"), VT_EDUPLICATE);
    CHECK_INT(vt_red_route_add(red, "/users/me"), VT_EDUPLICATE);
    /* Still the first template's label. */
    CHECK_STR(m("/users/42"), "/users/:id");
    CHECK_STR(m("/static/x"), "/static/*");
}

static void test_precedence(void) {
    CHECK_STR(m("/"), "/");
    CHECK_STR(m("/users/me"), "/users/me");
    CHECK_STR(m("/users/42"), "/users/:id");
    CHECK_STR(m("/users/42/posts"), "/users/:id/posts");
    CHECK_STR(m("/users/me/posts"), "/users/:id/posts"); /* literal fails later: backtrack */
    CHECK_STR(m("/users/42/x"), "/users/*");
    CHECK_STR(m("/users/"), "/users/*");
    CHECK_STR(m("/users/42/posts/7"), "/users/*");
    CHECK_STR(m("/users"), VT_RED_UNMATCHED);
    CHECK_STR(m("/a/b/c"), "/a/:x/c");
    CHECK_STR(m("/a/b/d"), "/a/b/d");
    CHECK_STR(m("/a/z/c"), "/a/:x/c");
    CHECK_STR(m("/a/b/"), "/a/b/");
    CHECK_STR(m("/a/b"), VT_RED_UNMATCHED);
    CHECK_STR(m("/v1/items:batch"), "/v1/items:batch");
    CHECK_STR(m("/reservations/alice"), "/reservations/:user_id");
    CHECK_STR(m("/reservations/"), VT_RED_UNMATCHED); /* :name needs a non-empty segment */
    CHECK_STR(m("/static/"), "/static/*");
    CHECK_STR(m("/static"), VT_RED_UNMATCHED);
    CHECK_STR(m("/static/css/site.css"), "/static/*");
    CHECK_STR(m("/files/a/b/c"), "/files/*path");
    CHECK_STR(m("/nope"), VT_RED_UNMATCHED);
}

static void test_query_and_fragment(void) {
    CHECK_STR(m("/users/42?x=1&y=/etc/passwd"), "/users/:id");
    CHECK_STR(m("/users/42#frag"), "/users/:id");
    CHECK_STR(m("/?q"), "/");
    CHECK_STR(m("/users/me?"), "/users/me");
    CHECK_STR(m("/users/42/../..?a"), VT_RED_UNMATCHED);
    CHECK_STR(m("/users/42?a=/../"), "/users/:id"); /* dots after "?" are query */
}

static void test_hostile_paths(void) {
    static const char nul_path[] = "/users/4\0002";
    static const char nul_me[] = "/users/me\0";
    size_t big = 1 << 20, i;
    char *p;
    double t0;

    CHECK_STR(m(""), VT_RED_UNMATCHED);
    CHECK_STR(vt_red_route_match(red, NULL, 5), VT_RED_UNMATCHED);
    CHECK_STR(m("users/42"), VT_RED_UNMATCHED);
    CHECK_STR(m("*"), VT_RED_UNMATCHED);
    CHECK_STR(m("http://example.com/users/42"), VT_RED_UNMATCHED);
    CHECK_STR(m("/users/.."), VT_RED_UNMATCHED);
    CHECK_STR(m("/users/./42"), VT_RED_UNMATCHED);
    CHECK_STR(m("/static/../../etc/passwd"), VT_RED_UNMATCHED);
    CHECK_STR(m("/static/a/./b"), VT_RED_UNMATCHED);
    CHECK_STR(m("/users/..."), "/users/:id");    /* three dots is a name */
    CHECK_STR(m("/users/%2e%2e"), "/users/:id"); /* raw bytes, not decoded */
    CHECK_STR(m("/users/a%2Fb"), "/users/:id");
    CHECK_STR(m("/users/%00"), "/users/:id");
    CHECK_STR(m("//users/42"), VT_RED_UNMATCHED);
    CHECK_STR(m("/users//42"), "/users/*");
    CHECK_STR(m("/a//b/"), VT_RED_UNMATCHED);
    CHECK_STR(vt_red_route_match(red, nul_path, sizeof(nul_path) - 1), "/users/:id");
    CHECK_STR(vt_red_route_match(red, nul_me, sizeof(nul_me) - 1), "/users/:id");
    CHECK_STR(vt_red_route_match(red, "/\0", 2), VT_RED_UNMATCHED);
    CHECK_STR(m("/users/\xff\xfe"), "/users/:id"); /* bytes that are not UTF-8 */

    /* A megabyte path: deep, wide, full of slashes. */
    p = malloc(big + 1);
    CHECK(p != NULL);
    if (!p)
        return;
    t0 = now_ms();
    memset(p, 'a', big);
    p[0] = '/';
    p[big] = '\0';
    CHECK_STR(vt_red_route_match(red, p, big), VT_RED_UNMATCHED);
    for (i = 0; i < big; i += 2)
        p[i] = '/';
    CHECK_STR(vt_red_route_match(red, p, big), VT_RED_UNMATCHED);
    memcpy(p, "/static/", 8);
    CHECK_STR(vt_red_route_match(red, p, big), "/static/*");
    memset(p, '/', big);
    CHECK_STR(vt_red_route_match(red, p, big), VT_RED_UNMATCHED);
    memcpy(p, "/users/", 7);
    CHECK_STR(vt_red_route_match(red, p, big), "/users/*");
    CHECK(now_ms() - t0 < 1000.0);
    free(p);
}

static void test_template_as_path(void) {
    size_t i;
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        CHECK_STR(m(routes[i]), routes[i]);
}

/* Random byte strings only ever land on a template or "unmatched". */
static void test_random_paths(void) {
    static const char alphabet[] = "/://.?#%*aeu0\0\xff";
    unsigned seed = 12345;
    char path[64];
    int i, bad = 0;
    for (i = 0; i < 200000; i++) {
        size_t len = 0, j, n;
        const char *r;
        int ok = 0;
        seed = seed * 1103515245u + 12345u;
        n = (seed >> 16) % sizeof(path);
        for (j = 0; j < n; j++) {
            seed = seed * 1103515245u + 12345u;
            path[len++] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        if (len && (seed & 1))
            path[0] = '/';
        r = vt_red_route_match(red, path, len);
        if (strcmp(r, VT_RED_UNMATCHED) == 0)
            ok = 1;
        for (j = 0; j < sizeof(routes) / sizeof(routes[0]) && !ok; j++)
            ok = strcmp(r, routes[j]) == 0;
        bad += !ok;
    }
    CHECK_INT(bad, 0);
}

static void test_many_matches(void) {
    static const char *const paths[] = {"/users/42", "/users/me/posts", "/static/app/main.js",
                                        "/nope/at/all", "/reservations/bob?from=today"};
    size_t lens[5], i, hits = 0;
    const int n = 1000000;
    double t0, ns;
    int k;
    for (i = 0; i < 5; i++)
        lens[i] = strlen(paths[i]);
    t0 = now_ms();
    for (k = 0; k < n; k++) {
        const char *r = vt_red_route_match(red, paths[k % 5], lens[k % 5]);
        hits += r[0] == '/';
    }
    ns = (now_ms() - t0) * 1e6 / n;
    printf("route match: %.1f ns per path (%zu matched)\n", ns, hits);
    CHECK_INT(hits, (size_t)n / 5 * 4); /* the time is printed; bench/ judges speed */
}

static void *matcher(void *arg) {
    int i, *bad = arg;
    for (i = 0; i < 200000; i++) {
        const char *r = m("/users/42");
        if (strcmp(r, "/users/:id") != 0)
            (*bad)++;
    }
    return NULL;
}

static void test_add_while_matching(void) {
    pthread_t th[2];
    int bad[2] = {0, 0}, i;
    char pat[64];
    for (i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, matcher, &bad[i]);
    for (i = 0; i < 300; i++) {
        snprintf(pat, sizeof(pat), "/extra/%d/:x", i);
        CHECK_INT(vt_red_route_add(red, pat), 0);
    }
    for (i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK_INT(bad[0] + bad[1], 0);
    CHECK_STR(m("/extra/299/q"), "/extra/299/:x");
    CHECK_STR(m("/extra/300/q"), VT_RED_UNMATCHED);
}

static void test_route_limit(void) {
    char pat[32];
    int i, rc = 0;
    for (i = 0; i < 5000 && rc == 0; i++) {
        snprintf(pat, sizeof(pat), "/n/%d", i);
        rc = vt_red_route_add(red, pat);
    }
    CHECK_INT(rc, VT_ELIMIT);
    CHECK_STR(m("/n/0"), "/n/0");
}

int main(void) {
    setup();
    RUN(test_syntax_errors);
    RUN(test_duplicates);
    RUN(test_precedence);
    RUN(test_query_and_fragment);
    RUN(test_hostile_paths);
    RUN(test_template_as_path);
    RUN(test_random_paths);
    RUN(test_many_matches);
    RUN(test_add_while_matching);
    teardown();
    setup();
    RUN(test_route_limit);
    teardown();
    TEST_EXIT();
}
