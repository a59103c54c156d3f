/* routes.c - route templates in a segment trie, matched without regexes.
 *
 * A path "/a/b" splits after its leading "/" into the segments "a", "b"; "/"
 * is one empty segment and "/a/" ends in an empty one. A trie node stands for
 * a segment position: literal children sorted by (length, bytes) for a binary
 * search, at most one ":param" child, and the items of the templates that end
 * there or end there with "*". Matching tries literal, then param, then
 * wildcard at each node; each node sits at one depth and so is visited at
 * most once, which bounds the work by the path length plus the trie size.
 * A built trie is never modified: readers on any thread need no lock.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

#define MAX_PATTERN 1024

typedef struct node node_t;

typedef struct edge {
    const char *seg; /* points into a pattern */
    size_t len;
    node_t *child;
} edge_t;

struct node {
    edge_t *lits;
    size_t n_lits, cap_lits;
    node_t *param;   /* ":name" child */
    void *end_item;  /* template that ends at this node */
    void *wild_item; /* template whose "*" stands at this node's position */
};

struct vt__rtrie {
    node_t *root;
};

static int name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_dot_segment(const char *s, size_t n) {
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

int vt__route_check(const char *pattern) {
    const char *p, *end;
    size_t n;
    if (!pattern || pattern[0] != '/')
        return VT_EINVAL;
    n = strlen(pattern);
    if (n > MAX_PATTERN)
        return VT_EINVAL;
    end = pattern + n;
    for (p = pattern; p < end; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '?' || *p == '#')
            return VT_EINVAL;
    p = pattern + 1;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *se = slash ? slash : end;
        size_t len = (size_t)(se - p);
        if (len == 0 && slash)
            return VT_EINVAL; /* empty segment before the end */
        if (is_dot_segment(p, len))
            return VT_EINVAL;
        if (len > 0 && (p[0] == ':' || p[0] == '*')) {
            const char *q;
            if (p[0] == ':' && len == 1)
                return VT_EINVAL;
            for (q = p + 1; q < se; q++)
                if (!name_char(*q))
                    return VT_EINVAL;
            if (p[0] == '*' && slash)
                return VT_EINVAL; /* "*" only last */
        }
        if (!slash)
            return 0;
        p = slash + 1;
    }
}

static int seg_cmp(const char *a, size_t an, const char *b, size_t bn) {
    if (an != bn)
        return an < bn ? -1 : 1;
    return memcmp(a, b, an);
}

static int edge_cmp(const void *x, const void *y) {
    const edge_t *a = x, *b = y;
    return seg_cmp(a->seg, a->len, b->seg, b->len);
}

static void free_node(node_t *n) {
    size_t i;
    if (!n)
        return;
    for (i = 0; i < n->n_lits; i++)
        free_node(n->lits[i].child);
    free_node(n->param);
    free(n->lits);
    free(n);
}

/* The literal child for a segment, created when missing (unsorted during the
 * build). */
static node_t *lit_child(node_t *n, const char *seg, size_t len) {
    size_t i;
    for (i = 0; i < n->n_lits; i++)
        if (seg_cmp(n->lits[i].seg, n->lits[i].len, seg, len) == 0)
            return n->lits[i].child;
    if (n->n_lits == n->cap_lits) {
        size_t cap = n->cap_lits ? n->cap_lits * 2 : 4;
        edge_t *e = realloc(n->lits, cap * sizeof(*e));
        if (!e)
            return NULL;
        n->lits = e;
        n->cap_lits = cap;
    }
    n->lits[n->n_lits].seg = seg;
    n->lits[n->n_lits].len = len;
    n->lits[n->n_lits].child = calloc(1, sizeof(node_t));
    if (!n->lits[n->n_lits].child)
        return NULL;
    return n->lits[n->n_lits++].child;
}

static int insert(node_t *root, const char *pattern, void *item) {
    const char *p = pattern + 1, *end = pattern + strlen(pattern);
    node_t *n = root;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *se = slash ? slash : end;
        size_t len = (size_t)(se - p);
        node_t *next;
        if (len > 0 && p[0] == '*') {
            if (n->wild_item)
                return VT_EDUPLICATE;
            n->wild_item = item;
            return 0;
        }
        if (len > 0 && p[0] == ':') {
            if (!n->param)
                n->param = calloc(1, sizeof(node_t));
            next = n->param;
        } else {
            next = lit_child(n, p, len);
        }
        if (!next)
            return VT_ENOMEM;
        n = next;
        if (!slash) {
            if (n->end_item)
                return VT_EDUPLICATE;
            n->end_item = item;
            return 0;
        }
        p = slash + 1;
    }
}

static void sort_node(node_t *n) {
    size_t i;
    if (!n)
        return;
    if (n->n_lits > 1)
        qsort(n->lits, n->n_lits, sizeof(edge_t), edge_cmp);
    for (i = 0; i < n->n_lits; i++)
        sort_node(n->lits[i].child);
    sort_node(n->param);
}

int vt__rtrie_build(const char *const *patterns, void *const *items, size_t n,
                    vt__rtrie_t **out_trie) {
    vt__rtrie_t *t;
    size_t i;
    int rc = 0;
    if (!out_trie || (n && (!patterns || !items)))
        return VT_EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return VT_ENOMEM;
    t->root = calloc(1, sizeof(node_t));
    if (!t->root) {
        free(t);
        return VT_ENOMEM;
    }
    for (i = 0; i < n && rc == 0; i++) {
        rc = vt__route_check(patterns[i]);
        if (rc == 0)
            rc = insert(t->root, patterns[i], items[i]);
    }
    if (rc != 0) {
        vt__rtrie_free(t);
        return rc;
    }
    sort_node(t->root);
    *out_trie = t;
    return 0;
}

void vt__rtrie_free(vt__rtrie_t *t) {
    if (!t)
        return;
    free_node(t->root);
    free(t);
}

static const node_t *find_lit(const node_t *n, const char *seg, size_t len) {
    size_t lo = 0, hi = n->n_lits;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = seg_cmp(n->lits[mid].seg, n->lits[mid].len, seg, len);
        if (c == 0)
            return n->lits[mid].child;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Match the segments from p (the start of one) to end against node n. */
static void *walk(const node_t *n, const char *p, const char *end) {
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *se = slash ? slash : end;
    size_t len = (size_t)(se - p);
    const node_t *c = find_lit(n, p, len);
    void *r;
    if (c) {
        r = slash ? walk(c, slash + 1, end) : c->end_item;
        if (r)
            return r;
    }
    if (n->param && len > 0) {
        r = slash ? walk(n->param, slash + 1, end) : n->param->end_item;
        if (r)
            return r;
    }
    return n->wild_item;
}

void *vt__rtrie_match(const vt__rtrie_t *t, const char *path, size_t len) {
    const char *end, *p, *seg;
    if (!t || !path || len == 0 || path[0] != '/')
        return NULL;
    /* Cut the query and fragment; refuse dot segments anywhere before them. */
    end = path + len;
    for (p = path + 1, seg = p;; p++) {
        if (p == end || *p == '/' || *p == '?' || *p == '#') {
            if (is_dot_segment(seg, (size_t)(p - seg)))
                return NULL;
            if (p == end || *p != '/') {
                end = p;
                break;
            }
            seg = p + 1;
        }
    }
    return walk(t->root, path + 1, end);
}
