/* routes.c - route templates in a segment trie, matched without regexes.
 *
 * A path "/a/b" splits after its leading "/" into the segments "a", "b"; "/"
 * is one empty segment and "/a/" ends in an empty one. A trie node stands for
 * a segment position: a hash table of literal children, at most one ":param"
 * child, and the items of the templates that end there or end there with "*".
 * Matching tries literal, then param, then wildcard at each node; each node
 * sits at one depth and so is visited at most once, which bounds the work by
 * the path length plus the trie size.
 *
 * Concurrency: one writer at a time (the caller serializes inserts) and any
 * number of readers without a lock. Everything a reader can reach is fully
 * built before it is published with a release store, and read with acquire
 * loads, so a reader sees each edge, node and item either complete or not at
 * all. A published edge, node or item never changes. A literal table that
 * fills up is replaced by a copy twice its size; the old table stays
 * allocated until the trie is freed, because a reader may still probe it
 * (tables double, so that garbage is at most the size of the live tables).
 * A reader that runs during an insert sees the trie before or after it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

#define MAX_PATTERN 1024
#define FIRST_TABLE_CAP 4

typedef struct node node_t;

/* A literal child; immutable once published. */
typedef struct edge {
    node_t *child;
    size_t len;
    char seg[]; /* the segment bytes */
} edge_t;

/* Open-addressed table of edges, at most half full so probes end on a NULL. */
typedef struct table {
    size_t cap;   /* a power of two */
    size_t count; /* writer only */
    _Atomic(edge_t *) slot[];
} table_t;

struct node {
    _Atomic(table_t *) lits;
    _Atomic(node_t *) param;   /* ":name" child */
    _Atomic(void *) end_item;  /* template that ends at this node */
    _Atomic(void *) wild_item; /* template whose "*" stands at this node's position */
};

struct vt__rtrie {
    node_t *root;
    table_t **retired; /* replaced tables, freed with the trie; writer only */
    size_t n_retired, cap_retired;
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

static size_t hash_seg(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 32));
}

static const node_t *find_lit(const node_t *n, const char *seg, size_t len) {
    table_t *t = atomic_load_explicit(&n->lits, memory_order_acquire);
    size_t mask, i;
    if (!t)
        return NULL;
    mask = t->cap - 1;
    for (i = hash_seg(seg, len) & mask;; i = (i + 1) & mask) {
        edge_t *e = atomic_load_explicit(&t->slot[i], memory_order_acquire);
        if (!e)
            return NULL;
        if (e->len == len && memcmp(e->seg, seg, len) == 0)
            return e->child;
    }
}

static table_t *table_new(size_t cap) {
    table_t *t = calloc(1, sizeof(*t) + cap * sizeof(t->slot[0]));
    size_t i;
    if (!t)
        return NULL;
    t->cap = cap;
    for (i = 0; i < cap; i++)
        atomic_init(&t->slot[i], NULL);
    return t;
}

/* Put e in the first free slot of its probe sequence. */
static void table_put(table_t *t, edge_t *e, memory_order order) {
    size_t mask = t->cap - 1, i;
    for (i = hash_seg(e->seg, e->len) & mask;; i = (i + 1) & mask) {
        if (!atomic_load_explicit(&t->slot[i], memory_order_relaxed)) {
            atomic_store_explicit(&t->slot[i], e, order);
            t->count++;
            return;
        }
    }
}

static node_t *node_new(void) {
    node_t *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    atomic_init(&n->lits, NULL);
    atomic_init(&n->param, NULL);
    atomic_init(&n->end_item, NULL);
    atomic_init(&n->wild_item, NULL);
    return n;
}

static void node_free(node_t *n) {
    table_t *t;
    size_t i;
    if (!n)
        return;
    t = atomic_load_explicit(&n->lits, memory_order_relaxed);
    for (i = 0; t && i < t->cap; i++) {
        edge_t *e = atomic_load_explicit(&t->slot[i], memory_order_relaxed);
        if (e) {
            node_free(e->child);
            free(e);
        }
    }
    free(t);
    node_free(atomic_load_explicit(&n->param, memory_order_relaxed));
    free(n);
}

/* The literal child for seg, created and published when missing. Writer. */
static node_t *lit_child(vt__rtrie_t *trie, node_t *n, const char *seg, size_t len) {
    table_t *t = atomic_load_explicit(&n->lits, memory_order_relaxed);
    const node_t *found = find_lit(n, seg, len);
    edge_t *e;
    if (found)
        return (node_t *)(uintptr_t)found;
    if (!t || (t->count + 1) * 2 > t->cap) {
        size_t cap = t ? t->cap * 2 : FIRST_TABLE_CAP, i;
        table_t *nt;
        if (t && trie->n_retired == trie->cap_retired) {
            size_t rc = trie->cap_retired ? trie->cap_retired * 2 : 8;
            table_t **r = realloc(trie->retired, rc * sizeof(*r));
            if (!r)
                return NULL;
            trie->retired = r;
            trie->cap_retired = rc;
        }
        nt = table_new(cap);
        if (!nt)
            return NULL;
        for (i = 0; t && i < t->cap; i++) {
            edge_t *old = atomic_load_explicit(&t->slot[i], memory_order_relaxed);
            if (old)
                table_put(nt, old, memory_order_relaxed);
        }
        atomic_store_explicit(&n->lits, nt, memory_order_release);
        if (t)
            trie->retired[trie->n_retired++] = t;
        t = nt;
    }
    e = malloc(sizeof(*e) + len + 1);
    if (!e)
        return NULL;
    e->child = node_new();
    if (!e->child) {
        free(e);
        return NULL;
    }
    e->len = len;
    memcpy(e->seg, seg, len);
    e->seg[len] = '\0';
    table_put(t, e, memory_order_release);
    return e->child;
}

int vt__rtrie_create(vt__rtrie_t **out_trie) {
    vt__rtrie_t *t;
    if (!out_trie)
        return VT_EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return VT_ENOMEM;
    t->root = node_new();
    if (!t->root) {
        free(t);
        return VT_ENOMEM;
    }
    *out_trie = t;
    return 0;
}

void vt__rtrie_free(vt__rtrie_t *t) {
    size_t i;
    if (!t)
        return;
    node_free(t->root);
    for (i = 0; i < t->n_retired; i++)
        free(t->retired[i]);
    free(t->retired);
    free(t);
}

/* Whether a template with the same shape is already in the trie. */
static int taken(const vt__rtrie_t *t, const char *pattern) {
    const char *p = pattern + 1, *end = pattern + strlen(pattern);
    const node_t *n = t->root;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *se = slash ? slash : end;
        size_t len = (size_t)(se - p);
        if (len > 0 && p[0] == '*')
            return atomic_load_explicit(&n->wild_item, memory_order_relaxed) != NULL;
        if (len > 0 && p[0] == ':')
            n = atomic_load_explicit(&n->param, memory_order_relaxed);
        else
            n = find_lit(n, p, len);
        if (!n)
            return 0;
        if (!slash)
            return atomic_load_explicit(&n->end_item, memory_order_relaxed) != NULL;
        p = slash + 1;
    }
}

int vt__rtrie_insert(vt__rtrie_t *t, const char *pattern, void *item) {
    const char *p, *end;
    node_t *n;
    int rc;
    if (!t || !item)
        return VT_EINVAL;
    rc = vt__route_check(pattern);
    if (rc != 0)
        return rc;
    if (taken(t, pattern))
        return VT_EDUPLICATE;
    p = pattern + 1;
    end = pattern + strlen(pattern);
    n = t->root;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *se = slash ? slash : end;
        size_t len = (size_t)(se - p);
        node_t *next;
        if (len > 0 && p[0] == '*') {
            atomic_store_explicit(&n->wild_item, item, memory_order_release);
            return 0;
        }
        if (len > 0 && p[0] == ':') {
            next = atomic_load_explicit(&n->param, memory_order_relaxed);
            if (!next) {
                next = node_new();
                if (!next)
                    return VT_ENOMEM;
                atomic_store_explicit(&n->param, next, memory_order_release);
            }
        } else {
            next = lit_child(t, n, p, len);
            if (!next)
                return VT_ENOMEM;
        }
        n = next;
        if (!slash) {
            atomic_store_explicit(&n->end_item, item, memory_order_release);
            return 0;
        }
        p = slash + 1;
    }
}

/* Match the segments from p (the start of one) to end against node n. */
static void *walk(const node_t *n, const char *p, const char *end) {
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *se = slash ? slash : end;
    size_t len = (size_t)(se - p);
    const node_t *c = find_lit(n, p, len);
    void *r;
    if (c) {
        r = slash ? walk(c, slash + 1, end)
                  : atomic_load_explicit(&c->end_item, memory_order_acquire);
        if (r)
            return r;
    }
    /* A last segment spelled like a wildcard ("*", "*rest") tries the
     * wildcard before :param, so a template passed as a path names itself. */
    if (!slash && len > 0 && p[0] == '*') {
        r = atomic_load_explicit(&n->wild_item, memory_order_acquire);
        if (r)
            return r;
    }
    c = atomic_load_explicit(&n->param, memory_order_acquire);
    if (c && len > 0) {
        r = slash ? walk(c, slash + 1, end)
                  : atomic_load_explicit(&c->end_item, memory_order_acquire);
        if (r)
            return r;
    }
    return atomic_load_explicit(&n->wild_item, memory_order_acquire);
}

/* Whether [p, end) has a "." or ".." segment. */
static int has_dot_segment(const char *p, const char *end) {
    const char *seg = p;
    for (; p <= end; p++) {
        if (p == end || *p == '/') {
            if (is_dot_segment(seg, (size_t)(p - seg)))
                return 1;
            seg = p + 1;
        }
    }
    return 0;
}

void *vt__rtrie_match(const vt__rtrie_t *t, const char *path, size_t len) {
    const char *end, *cut;
    if (!t || !path || len == 0 || path[0] != '/')
        return NULL;
    /* Cut the query and fragment; refuse dot segments before them (checked
     * byte by byte only when the path holds a "." at all). */
    end = path + len;
    cut = memchr(path, '?', len);
    if (cut)
        end = cut;
    cut = memchr(path, '#', (size_t)(end - path));
    if (cut)
        end = cut;
    if (memchr(path, '.', (size_t)(end - path)) && has_dot_segment(path + 1, end))
        return NULL;
    return walk(t->root, path + 1, end);
}
