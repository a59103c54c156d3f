/* loadgen.h - the parts of the demo load generator: the request mix drawn
 * from a seeded generator, and the tally of what was sent and answered.
 *
 * Everything here runs on the load generator's one thread (libcurl's multi
 * interface drives every transfer from it).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LG_LOADGEN_H
#define LG_LOADGEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The kinds of request, each sent to one route template of the service. */
typedef enum lg_kind {
    LG_RESERVATIONS, /* GET /reservations/:user_id */
    LG_CHECKOUT,     /* POST /checkout */
    LG_DATABASE,     /* GET /database */
    LG_ERROR,        /* GET /error */
    LG_ROOT,         /* GET / */
    LG_UP,           /* GET /up */
    LG_KINDS
} lg_kind_t;

/* Route template of each kind, as the service's metrics label it. */
extern const char *const lg_routes[LG_KINDS];
/* Name of each kind in --mix. */
extern const char *const lg_kind_names[LG_KINDS];

/* The share of each kind, and how user ids are drawn. */
typedef struct lg_mix {
    unsigned weight[LG_KINDS]; /* relative weights; their sum is > 0 */
    double long_id_share;      /* share of reservations with a 6-7 character id (400) */
    double hot_share;          /* share of valid ids drawn from the hot set */
    unsigned hot_ids;          /* ids 1..hot_ids form the hot set (cache hits) */
} lg_mix_t;

/* The default mix: 70 reservations, 10 checkout, 5 database, 5 error, 10 /;
 * 3% long ids, 80% of ids from the hot set 1..200. */
void lg_mix_default(lg_mix_t *mix);

/* Parse "reservations=70,checkout=10,..." into mix->weight (kinds not named
 * get 0). Returns 0, or -1 with a message on stderr. */
int lg_mix_parse(lg_mix_t *mix, const char *text);

/* One request to send. */
typedef struct lg_request {
    lg_kind_t kind;
    char path[64]; /* path and query, starting with "/" */
} lg_request_t;

/* The seeded generator of the request sequence: the same seed and mix give
 * the same sequence. */
typedef struct lg_rng {
    uint64_t state;
} lg_rng_t;

void lg_rng_init(lg_rng_t *rng, uint64_t seed);
uint64_t lg_rng_next(lg_rng_t *rng);

/* Draw the next request. */
void lg_mix_next(const lg_mix_t *mix, lg_rng_t *rng, lg_request_t *out);

/* ---- the tally (report.c) ------------------------------------------------ */

/* Statuses are 100..599; index 0 counts transfers that got no answer. */
#define LG_STATUS_SLOTS 600

typedef struct lg_tally {
    uint64_t sent[LG_KINDS];
    uint64_t answered[LG_KINDS][LG_STATUS_SLOTS];  /* [kind][status], [kind][0]: no answer */
    double latency_sum[LG_KINDS][LG_STATUS_SLOTS]; /* seconds, per [kind][status] */
    uint64_t late;                                 /* send slots skipped because of --concurrency */
} lg_tally_t;

/* Totals over every kind. */
uint64_t lg_tally_sent(const lg_tally_t *t);
uint64_t lg_tally_done(const lg_tally_t *t);
uint64_t lg_tally_failed(const lg_tally_t *t); /* no answer */

/* The human summary: one line per route and status. */
void lg_report_text(FILE *f, const lg_tally_t *t, double elapsed_s, uint64_t seed);

/* The same as one JSON object:
 * {"seed": S, "elapsed_seconds": E, "sent": N, "answered": N, "failed": N,
 *  "late": N, "routes": {"<route>": {"sent": N, "codes": {"200": N, ...},
 *  "failed": N}, ...}}. Returns 0 or -1 when writing failed. */
int lg_report_json(FILE *f, const lg_tally_t *t, double elapsed_s, uint64_t seed);

#endif
