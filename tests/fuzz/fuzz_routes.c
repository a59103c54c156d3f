/* fuzz_routes.c - libFuzzer target: route templates and paths of arbitrary bytes.
 *
 * Input: byte 0 gives the number k of extra templates (0xF8..0xFF: 1..8, any
 * other byte: none, and then a middleware kept across inputs serves, which is
 * fast); then k candidates separated by newlines; the rest (any bytes, NUL
 * included) is the path. Each candidate goes to vt_red_route_add() beside a fixed set of
 * templates, then the path is matched. Properties:
 *   - vt_red_route_add() accepts exactly the templates that the syntax of
 *     vitals/http.h allows (checked here by an independent reader) unless it
 *     reports a duplicate;
 *   - the match is one of the registered templates (the same string the
 *     middleware holds) or the unmatched value, never the raw path;
 *   - a template matched really matches the path by the documented rules (a
 *     reference matcher here, by plain recursion), and "unmatched" means no
 *     registered template matches it;
 *   - every registered template, passed as a path, records under itself;
 *   - vt_red_observe() counts the request under that route label value.
 *
 * vt-fuzz: sources=core,http libs=-lmicrohttpd,-lz,-lgnutls,-lm,-lpthread
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vitals.h"
#include "vitals/http.h"

#include "fuzz_must.h"

static const char *const fixed[] = {
    "/",           "/users/:id", "/users/me",  "/users/:id/posts", "/users/*",     "/static/*",
    "/a/b/",       "/a/:x/c",    "/a/b/d",     "/v1/items:batch",  "/files/*path", "/x/:y/z",
    "/x/:y/:w/zz", "/metrics",   "/-/healthy",
};
#define NFIXED (sizeof fixed / sizeof fixed[0])
#define MAXT (NFIXED + 8)

/* ---- the reference: the rules of vitals/http.h, read literally ---------- */

typedef struct seg {
    const char *p;
    size_t n;
} seg_t;

/* Split "/a/b" (after its leading "/") into segments; returns the count. */
static size_t split(const char *s, size_t n, seg_t *out, size_t cap) {
    size_t k = 0, start = 1;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (k == cap)
                return cap + 1;
            out[k].p = s + start;
            out[k].n = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

static int name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int dot(const seg_t *s) {
    return (s->n == 1 && s->p[0] == '.') || (s->n == 2 && s->p[0] == '.' && s->p[1] == '.');
}

static int template_ok(const char *t) {
    size_t n = strlen(t);
    seg_t seg[1100];
    if (n == 0 || n > 1024 || t[0] != '/')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e || t[i] == '?' || t[i] == '#')
            return 0;
    size_t k = split(t, n, seg, 1100);
    for (size_t i = 0; i < k; i++) {
        if (seg[i].n == 0 && i + 1 < k)
            return 0;
        if (dot(&seg[i]))
            return 0;
        if (seg[i].n > 0 && (seg[i].p[0] == ':' || seg[i].p[0] == '*')) {
            if (seg[i].p[0] == ':' && seg[i].n == 1)
                return 0;
            if (seg[i].p[0] == '*' && i + 1 < k)
                return 0;
            for (size_t j = 1; j < seg[i].n; j++)
                if (!name_char(seg[i].p[j]))
                    return 0;
        }
    }
    return 1;
}

/* Does template segments t[ti..] match path segments p[pi..]? */
static int ref_match(const seg_t *t, size_t tn, size_t ti, const seg_t *p, size_t pn, size_t pi) {
    if (ti == tn)
        return pi == pn;
    if (pi == pn)
        return 0;
    const seg_t *s = &t[ti];
    if (s->n > 0 && s->p[0] == '*')
        return 1; /* the rest of the path, even one empty segment */
    if (s->n > 0 && s->p[0] == ':')
        return p[pi].n > 0 && ref_match(t, tn, ti + 1, p, pn, pi + 1);
    return s->n == p[pi].n && memcmp(s->p, p[pi].p, s->n) == 0 &&
           ref_match(t, tn, ti + 1, p, pn, pi + 1);
}

/* 1 when template t matches the path (query and fragment already cut). */
static int matches(const char *t, const seg_t *p, size_t pn) {
    seg_t ts[1100];
    size_t tn = split(t, strlen(t), ts, 1100);
    return ref_match(ts, tn, 0, p, pn, 0);
}

/* ---- the target --------------------------------------------------------- */

typedef struct ctx {
    vt_registry_t *reg;
    vt_red_t *red;
    char *tpl[MAXT]; /* registered templates, copies */
    size_t ntpl;
} ctx_t;

static int known(const ctx_t *c, const char *route) {
    if (strcmp(route, VT_RED_UNMATCHED) == 0)
        return 1;
    for (size_t i = 0; i < c->ntpl; i++)
        if (strcmp(route, c->tpl[i]) == 0)
            return 1;
    return 0;
}

static void add(ctx_t *c, const char *t) {
    int rc = vt_red_route_add(c->red, t);
    int ok = template_ok(t);
    if (!ok)
        MUST(rc == VT_EINVAL);
    else
        MUST(rc == 0 || rc == VT_EDUPLICATE);
    if (rc == 0) {
        c->tpl[c->ntpl] = strdup(t);
        MUST(c->tpl[c->ntpl] != NULL);
        c->ntpl++;
    }
}

static void check_path(ctx_t *c, const char *path, size_t len) {
    const char *r = vt_red_route_match(c->red, path, len);
    MUST(r != NULL);
    MUST(known(c, r));
    MUST(r != path);

    /* The reference: cut query and fragment, refuse what the rules refuse. */
    size_t n = 0;
    while (n < len && path[n] != '?' && path[n] != '#')
        n++;
    static seg_t ps[4096];
    size_t pn = n > 0 && path[0] == '/' ? split(path, n, ps, 4096) : 0;
    int eligible = n > 0 && path[0] == '/' && pn <= 4096;
    for (size_t i = 0; eligible && i < pn; i++)
        if (dot(&ps[i]))
            eligible = 0;
    if (n > 0 && path[0] == '/' && pn > 4096)
        return; /* too deep for the reference; the crash checks still ran */
    if (strcmp(r, VT_RED_UNMATCHED) != 0) {
        MUST(eligible);
        MUST(matches(r, ps, pn));
    } else if (eligible) {
        for (size_t i = 0; i < c->ntpl; i++)
            MUST(!matches(c->tpl[i], ps, pn));
    }
}

static void ctx_init(ctx_t *c) {
    memset(c, 0, sizeof *c);
    MUST(vt_registry_create(&c->reg) == 0);
    MUST(vt_red_create(c->reg, NULL, &c->red) == 0);
    for (size_t i = 0; i < NFIXED; i++)
        add(c, fixed[i]);
}

static void ctx_cleanup(ctx_t *c) {
    vt_red_destroy(c->red);
    vt_registry_destroy(c->reg);
    for (size_t i = 0; i < c->ntpl; i++)
        free(c->tpl[i]);
}

static double count_of(ctx_t *c, const char *route) {
    double v = 0;
    int rc = vt_registry_get_sample_value(c->reg, "http_requests_total",
                                          VT_LABELS("method", "route", "code"),
                                          VT_VALUES("GET", route, "200"), &v);
    MUST(rc == 0 || rc == VT_ENOTFOUND);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Inputs without extra templates share one middleware, kept across runs. */
    static ctx_t shared;
    static int shared_ready;
    ctx_t own, *c = &own;
    size_t k = size && data[0] >= 0xF8 ? data[0] - 0xF7u : 0, at = size ? 1 : 0;
    if (k == 0) {
        if (!shared_ready)
            ctx_init(&shared);
        shared_ready = 1;
        c = &shared;
    } else {
        ctx_init(&own);
    }

    for (size_t i = 0; i < k && at <= size; i++) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        char *t = malloc(end - at + 1);
        MUST(t != NULL);
        memcpy(t, data + at, end - at);
        t[end - at] = '\0';
        add(c, t); /* a NUL inside cuts the candidate short: still a string */
        free(t);
        at = end + 1;
    }
    if (at > size)
        at = size;

    /* The path in its own buffer, so reading past it is caught. */
    size_t plen = size - at;
    char *path = malloc(plen ? plen : 1);
    MUST(path != NULL);
    memcpy(path, data + at, plen);
    check_path(c, path, plen);

    for (size_t i = 0; i < c->ntpl; i++)
        MUST(strcmp(vt_red_route_match(c->red, c->tpl[i], strlen(c->tpl[i])), c->tpl[i]) == 0);

    /* The request is recorded under its route. */
    char *cpath = malloc(plen + 1);
    MUST(cpath != NULL);
    memcpy(cpath, path, plen);
    cpath[plen] = '\0';
    const char *route = vt_red_route_match(c->red, cpath, strlen(cpath));
    double before = count_of(c, route);
    vt_red_observe(c->red, "GET", cpath, 200, 0.001, VT_RED_NO_SIZE, VT_RED_NO_SIZE);
    MUST(count_of(c, route) == before + 1);

    if (c == &own)
        ctx_cleanup(&own);
    free(path);
    free(cpath);
    return 0;
}
