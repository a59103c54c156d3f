/* statsd_mirror.c - send a registry's values to StatsD every interval.
 *
 * Runs on the client's sender thread only, so its state needs no lock. A
 * counter (or a histogram's count and sum) goes as the increase since the
 * previous run, kept per series in an open-addressing table keyed by the
 * series' StatsD identity (key plus tags); a value below the previous one
 * means the series restarted, and the whole value is sent. Entries of series
 * that disappeared are dropped when the table is rebuilt at the end of a run.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"

/* Labels one series may turn into tags (const labels plus the family's). */
#define MAX_TAGS 80

typedef struct entry {
    char *id;     /* key, "\x01", tags; NULL for an empty slot */
    double a, b;  /* last counter value, or last count and sum */
    uint64_t gen; /* run that last saw it */
} entry_t;

struct vt__mirror {
    vt_registry_t *reg;
    int tags;
    entry_t *tab;
    size_t cap, used; /* cap is a power of two; used counts live ids */
    uint64_t gen;
    vt_statsd_t *client; /* during a run */
    size_t stale;        /* entries not seen in this run */
};

int vt__mirror_create(vt_registry_t *reg, int tags, vt__mirror_t **out) {
    vt__mirror_t *m = calloc(1, sizeof *m);
    if (!m)
        return VT_ENOMEM;
    m->cap = 64;
    m->tab = calloc(m->cap, sizeof *m->tab);
    if (!m->tab) {
        free(m);
        return VT_ENOMEM;
    }
    m->reg = reg;
    m->tags = tags;
    *out = m;
    return 0;
}

void vt__mirror_destroy(vt__mirror_t *m) {
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->tab[i].id);
    free(m->tab);
    free(m);
}

static uint64_t hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static entry_t *probe(entry_t *tab, size_t cap, const char *id, size_t n) {
    size_t i = (size_t)hash(id, n) & (cap - 1);
    while (tab[i].id && !(strlen(tab[i].id) == n && memcmp(tab[i].id, id, n) == 0))
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

/* Move live entries (those seen in run gen, when keep_gen) into a table of
 * cap slots. */
static int rebuild(vt__mirror_t *m, size_t cap, int only_seen) {
    entry_t *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return VT_ENOMEM;
    size_t used = 0;
    for (size_t i = 0; i < m->cap; i++) {
        entry_t *e = &m->tab[i];
        if (!e->id)
            continue;
        if (only_seen && e->gen != m->gen) {
            free(e->id);
            continue;
        }
        *probe(tab, cap, e->id, strlen(e->id)) = *e;
        used++;
    }
    free(m->tab);
    m->tab = tab;
    m->cap = cap;
    m->used = used;
    return 0;
}

/* The entry for id, created (zeroed, *fresh set) when missing; NULL on ENOMEM. */
static entry_t *lookup(vt__mirror_t *m, const char *id, size_t n, int *fresh) {
    entry_t *e = probe(m->tab, m->cap, id, n);
    *fresh = e->id == NULL;
    if (!*fresh)
        return e;
    if ((m->used + 1) * 4 > m->cap * 3) {
        if (rebuild(m, m->cap * 2, 0))
            return NULL;
        e = probe(m->tab, m->cap, id, n);
    }
    e->id = malloc(n + 1);
    if (!e->id)
        return NULL;
    memcpy(e->id, id, n);
    e->id[n] = '\0';
    e->a = e->b = 0;
    m->used++;
    return e;
}

/* One series' StatsD naming: key ("name_suffix.label.value...") and tags. */
typedef struct naming {
    char key[512];
    size_t key_len;
    char tagbuf[1024];
    const char *tags[MAX_TAGS + 1];
    char id[1600];
    size_t id_len;
} naming_t;

/* Replace what would break a DogStatsD tag. */
static size_t tag_text(char *dst, size_t cap, const char *src) {
    size_t n = 0;
    for (; *src; src++) {
        if (n == cap)
            return (size_t)-1;
        char ch = *src;
        dst[n++] = (ch == '|' || ch == ',' || ch == '#' || ch == '\n' || ch == '\r') ? '_' : ch;
    }
    return n;
}

static int name_series(const vt__mirror_t *m, const char *name, const char *suffix,
                       const vt_sample_series_t *s, naming_t *nm) {
    size_t n = vt__segment(nm->key, sizeof nm->key, name);
    size_t sl = strlen(suffix);
    if (n == (size_t)-1 || sl > sizeof nm->key - n)
        return -1;
    memcpy(nm->key + n, suffix, sl);
    n += sl;
    size_t t = 0, ntags = 0;
    for (size_t i = 0; i < s->label_count; i++) {
        if (m->tags) {
            if (ntags == MAX_TAGS)
                return -1;
            size_t a = tag_text(nm->tagbuf + t, sizeof nm->tagbuf - t, s->label_names[i]);
            if (a == (size_t)-1 || sizeof nm->tagbuf - t - a < 2)
                return -1;
            nm->tags[ntags++] = nm->tagbuf + t;
            t += a;
            nm->tagbuf[t++] = ':';
            size_t b = tag_text(nm->tagbuf + t, sizeof nm->tagbuf - t, s->label_values[i]);
            if (b == (size_t)-1 || t + b >= sizeof nm->tagbuf)
                return -1;
            t += b;
            nm->tagbuf[t++] = '\0';
            continue;
        }
        const char *parts[2] = {s->label_names[i], s->label_values[i]};
        for (int p = 0; p < 2; p++) {
            if (n == sizeof nm->key)
                return -1;
            nm->key[n++] = '.';
            size_t w = vt__segment(nm->key + n, sizeof nm->key - n, parts[p]);
            if (w == (size_t)-1)
                return -1;
            n += w;
        }
    }
    if (n == sizeof nm->key)
        return -1;
    nm->key[n] = '\0';
    nm->key_len = n;
    nm->tags[ntags] = NULL;
    /* Identity: key, then \x01 and each tag. */
    size_t id = 0;
    memcpy(nm->id, nm->key, n);
    id = n;
    for (size_t i = 0; i < ntags; i++) {
        size_t l = strlen(nm->tags[i]);
        if (id + 1 + l > sizeof nm->id)
            return -1;
        nm->id[id++] = '\x01';
        memcpy(nm->id + id, nm->tags[i], l);
        id += l;
    }
    nm->id_len = id;
    return 0;
}

/* Queue "key:value|type" for the named series; a negative absolute gauge goes
 * as "0" then the value. */
static void put(vt__mirror_t *m, const naming_t *nm, double v, const char *type) {
    vt_statsd_t *c = m->client;
    char num[VT_DOUBLE_BUFSZ];
    size_t nlen = vt__statsd_num(v, num);
    vt__statsd_parts_t p = {.prefix = c->prefix,
                            .prefix_len = c->prefix_len,
                            .key = nm->key,
                            .value = num,
                            .value_len = nlen,
                            .type = type,
                            .rate = 1,
                            .tags = c->tags,
                            .tags_len = c->tags_len,
                            .call_tags = m->tags ? nm->tags : NULL};
    int rc;
    if (type[0] == 'g' && v < 0) {
        p.value = "0";
        p.value_len = 1;
        rc = vt__statsd_emit(c, &p, num, nlen, 1);
    } else
        rc = vt__statsd_emit(c, &p, NULL, 0, 1);
    if (rc == VT_EINVAL) /* a key empty after sanitizing */
        vt__statsd_count_drop(c, type[0] == 'g' && v < 0 ? 2 : 1);
}

/* The increase of a running total since the last run (all of it when new or
 * restarted); stores the new total. */
static double increase(double *last, double now, int fresh) {
    double d = (fresh || now < *last) ? now : now - *last;
    *last = now;
    return d;
}

static int visit(const vt_sample_family_t *f, void *ud) {
    vt__mirror_t *m = ud;
    naming_t nm;
    for (size_t i = 0; i < f->series_count; i++) {
        const vt_sample_series_t *s = &f->series[i];
        int fresh;
        entry_t *e;
        switch (f->type) {
        case VT_COUNTER:
            if (!isfinite(s->value) || name_series(m, f->name, "_total", s, &nm))
                break;
            if (!(e = lookup(m, nm.id, nm.id_len, &fresh)))
                return VT_ENOMEM;
            e->gen = m->gen;
            double d = increase(&e->a, s->value, fresh);
            if (d != 0)
                put(m, &nm, d, "c");
            break;
        case VT_GAUGE:
        case VT_UNTYPED:
            if (isfinite(s->value) && !name_series(m, f->name, "", s, &nm))
                put(m, &nm, s->value, "g");
            break;
        case VT_HISTOGRAM:
        case VT_SUMMARY:
            if (name_series(m, f->name, "_count", s, &nm))
                break;
            if (!(e = lookup(m, nm.id, nm.id_len, &fresh)))
                return VT_ENOMEM;
            e->gen = m->gen;
            int restarted = fresh || (double)s->count < e->a;
            double dc = increase(&e->a, (double)s->count, fresh);
            double ds = restarted ? s->sum : s->sum - e->b;
            e->b = s->sum;
            if (dc != 0)
                put(m, &nm, dc, "c");
            if (dc != 0 && isfinite(ds) && !name_series(m, f->name, "_sum", s, &nm))
                put(m, &nm, ds, "c");
            break;
        default:
            break;
        }
    }
    return 0;
}

int vt__mirror_run(vt__mirror_t *m, vt_statsd_t *c) {
    m->gen++;
    m->client = c;
    int rc = vt_registry_visit(m->reg, visit, m);
    m->client = NULL;
    /* Forget series that are gone, and shrink after many went. */
    size_t seen = 0;
    for (size_t i = 0; i < m->cap; i++)
        seen += m->tab[i].id && m->tab[i].gen == m->gen;
    if (rc == 0 && seen < m->used) {
        size_t cap = 64;
        while (cap * 3 < seen * 4 + 4)
            cap *= 2;
        rc = rebuild(m, cap, 1);
    }
    return rc;
}
