/* top_rows.c - which lines of an endpoint are shown, and in which order.
 *
 * Lines are grouped by RED family (families in name order), then sorted by
 * the chosen column: figures largest first, names A to Z; reverse flips
 * that. Unknown figures (NaN) sort last either way, and ties keep name
 * order, so the view does not shuffle between refreshes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/top.h"

typedef struct row {
    const char *family;
    const char *name;
    double value;
    int reverse;
    size_t index;
} row_t;

static int by_row(const void *pa, const void *pb) {
    const row_t *a = pa, *b = pb;
    int c = strcmp(a->family, b->family);
    if (c) {
        return c;
    }
    int na = isnan(a->value), nb = isnan(b->value);
    if (na != nb) {
        return na - nb;
    }
    if (!na && a->value != b->value) {
        c = a->value > b->value ? -1 : 1;
        return a->reverse ? -c : c;
    }
    return strcmp(a->name, b->name);
}

static double column(const vt__top_route_t *r, vt__top_sort_t sort) {
    switch (sort) {
    case VT__SORT_RATE:
        return r->rate;
    case VT__SORT_ERRORS:
        return r->errors;
    case VT__SORT_RATIO:
        return r->error_ratio;
    case VT__SORT_P50:
        return r->p50;
    case VT__SORT_P90:
        return r->p90;
    case VT__SORT_P99:
        return r->p99;
    case VT__SORT_NAME:
        break;
    }
    return 0;
}

int vt__top_rows(const vt__top_endpoint_t *e, vt__top_sort_t sort, int reverse, const char *filter,
                 size_t **out_rows, size_t *out_count) {
    const vt__top_state_t *st = &e->state;
    *out_rows = NULL;
    *out_count = 0;
    row_t *rows = malloc((st->route_count + 1) * sizeof *rows);
    size_t *idx = malloc((st->route_count + 1) * sizeof *idx);
    if (!rows || !idx) {
        free(rows);
        free(idx);
        return VT_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < st->route_count; i++) {
        const vt__top_route_t *r = &st->routes[i];
        const char *family = st->families[r->family].name;
        if (!r->present) {
            continue;
        }
        if (filter && *filter && !strcasestr(r->name, filter) && !strcasestr(family, filter)) {
            continue;
        }
        rows[n].family = family;
        rows[n].name = r->name;
        rows[n].value = column(r, sort);
        rows[n].reverse = reverse;
        rows[n].index = i;
        n++;
    }
    if (sort == VT__SORT_NAME) {
        for (size_t i = 0; i < n; i++) {
            rows[i].value = 0; /* names decide, below */
        }
    }
    qsort(rows, n, sizeof *rows, by_row);
    if (sort == VT__SORT_NAME && reverse) {
        /* Within each family, Z to A. */
        for (size_t a = 0; a < n;) {
            size_t b = a;
            while (b < n && strcmp(rows[b].family, rows[a].family) == 0) {
                b++;
            }
            for (size_t i = a, j = b - 1; i < j; i++, j--) {
                row_t t = rows[i];
                rows[i] = rows[j];
                rows[j] = t;
            }
            a = b;
        }
    }
    for (size_t i = 0; i < n; i++) {
        idx[i] = rows[i].index;
    }
    free(rows);
    *out_rows = idx;
    *out_count = n;
    return 0;
}
