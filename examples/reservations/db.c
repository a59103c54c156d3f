/* db.c - the simulated relational database: queries are sleeps, results are
 * made up, durations are real and measured.
 *
 * A reservations lookup sleeps a uniform 1-100 ms times a factor of 1, 2 or 3
 * (drawn with weights 8, 2 and 1 out of 11), as the original service did; its
 * result is a JSON list of 1 to 3 reservations whose ids are derived from a
 * hash of the user id, so the same user always gets the same list (and a
 * cached answer equals a fresh one). The /database query sleeps 0.5-1.5 s.
 * Every delay is multiplied by the latency scale. Each query is observed in
 * db_query_duration_seconds{operation}: "select_by_user" for a lookup,
 * "select" for the slow query.
 *
 * Thread-safety: the object is read-only after creation; histogram series
 * are safe from any thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>

#include "service.h"

struct res_db {
    vt_registry_t *reg;
    double latency_scale;
    vt_histogram_t *duration;       /* db_query_duration_seconds{operation} */
    vt_histogram_series_t *by_user; /* operation="select_by_user" */
    vt_histogram_series_t *slow;    /* operation="select" */
};

/* Reservation ids run from 0 to this bound, as in the original service. */
#define MAX_RESERVATION_ID 12200u

int res_db_create(vt_registry_t *reg, double latency_scale, const double *buckets,
                  size_t bucket_count, res_db_t **out_db) {
    res_db_t *db = calloc(1, sizeof(*db));
    int rc;
    if (!db)
        return VT_ENOMEM;
    db->reg = reg ? reg : vt_registry_default();
    db->latency_scale = latency_scale;
    rc = vt_histogram_create(db->reg, "db_query_duration_seconds",
                             "Duration of the simulated database queries.", VT_LABELS("operation"),
                             buckets, bucket_count, &db->duration);
    if (rc == 0)
        rc = vt_histogram_with(db->duration, VT_VALUES("select_by_user"), &db->by_user);
    if (rc == 0)
        rc = vt_histogram_with(db->duration, VT_VALUES("select"), &db->slow);
    if (rc != 0) {
        res_db_destroy(db);
        return rc;
    }
    *out_db = db;
    return 0;
}

void res_db_destroy(res_db_t *db) {
    if (!db)
        return;
    if (db->duration) {
        vt_registry_unregister(db->reg, vt_histogram_family(db->duration));
        vt_family_destroy(vt_histogram_family(db->duration));
    }
    free(db);
}

/* FNV-1a: a stable hash of the user id for made-up but repeatable results. */
static uint64_t fnv1a(const char *s, size_t len) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

size_t res_db_find_reservations(res_db_t *db, const char *user_id, size_t id_len, char *out,
                                size_t cap) {
    static const unsigned factors[11] = {1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3};
    vt_timer_t t = vt_timer_start();
    uint64_t h = fnv1a(user_id, id_len);
    unsigned count = 1 + (unsigned)(h % 3);
    size_t pos = 0;
    double ms = (double)factors[res_rand_range(0, 10)] * (double)res_rand_range(1, 100);

    res_sleep(ms * 0.001 * db->latency_scale);

    if (cap == 0)
        return 0;
    out[0] = '\0';
    for (unsigned i = 0; i < count; i++) {
        char head[64];
        unsigned id;
        int n;
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        id = (unsigned)((h >> 33) % (MAX_RESERVATION_ID + 1));
        n = snprintf(head, sizeof(head), "%s{\"id\": %u, \"user_id\": ", i ? ", " : "[", id);
        if (n < 0 || pos + (size_t)n >= cap)
            return 0;
        for (int k = 0; k < n; k++)
            out[pos++] = head[k];
        out[pos] = '\0';
        if (res_json_string(out, cap, &pos, user_id, id_len) != 0 || pos + 1 >= cap)
            return 0;
        out[pos++] = '}';
        out[pos] = '\0';
    }
    if (pos + 1 >= cap)
        return 0;
    out[pos++] = ']';
    out[pos] = '\0';
    vt_timer_observe(&t, db->by_user);
    return pos;
}

double res_db_slow_query(res_db_t *db) {
    vt_timer_t t = vt_timer_start();
    res_sleep((0.5 + res_rand_unit()) * db->latency_scale);
    return vt_timer_observe(&t, db->slow);
}
