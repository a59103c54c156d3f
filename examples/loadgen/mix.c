/* mix.c - which request comes next: routes drawn by weight, user ids drawn
 * from a hot set (so the service's cache hits), a long tail, and now and then
 * an id that is too long (so the service answers 400).
 *
 * The generator is splitmix64 over a 64-bit state: a sequence is a function
 * of the seed and the mix alone.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

const char *const lg_routes[LG_KINDS] = {
    "/reservations/:user_id", "/checkout", "/database", "/error", "/", "/up",
};

const char *const lg_kind_names[LG_KINDS] = {
    "reservations", "checkout", "database", "error", "root", "up",
};

void lg_mix_default(lg_mix_t *mix) {
    memset(mix, 0, sizeof(*mix));
    mix->weight[LG_RESERVATIONS] = 70;
    mix->weight[LG_CHECKOUT] = 10;
    mix->weight[LG_DATABASE] = 5;
    mix->weight[LG_ERROR] = 5;
    mix->weight[LG_ROOT] = 10;
    mix->long_id_share = 0.03;
    mix->hot_share = 0.8;
    mix->hot_ids = 200;
}

int lg_mix_parse(lg_mix_t *mix, const char *text) {
    unsigned weight[LG_KINDS] = {0};
    unsigned long total = 0;
    const char *p = text;
    while (*p) {
        const char *eq = strchr(p, '='), *end;
        char *num_end;
        unsigned long w;
        int kind = -1;
        if (!eq) {
            fprintf(stderr, "loadgen: --mix wants name=weight pairs, got '%s'\n", p);
            return -1;
        }
        for (int k = 0; k < LG_KINDS; k++)
            if (strlen(lg_kind_names[k]) == (size_t)(eq - p) &&
                strncmp(p, lg_kind_names[k], (size_t)(eq - p)) == 0)
                kind = k;
        if (kind < 0) {
            fprintf(stderr,
                    "loadgen: --mix: unknown route name in '%s' (names: reservations, "
                    "checkout, database, error, root, up)\n",
                    p);
            return -1;
        }
        w = strtoul(eq + 1, &num_end, 10);
        end = num_end;
        if (end == eq + 1 || (*end != ',' && *end != '\0') || w > 1000000) {
            fprintf(stderr, "loadgen: --mix: bad weight in '%s'\n", p);
            return -1;
        }
        weight[kind] = (unsigned)w;
        p = *end == ',' ? end + 1 : end;
    }
    for (int k = 0; k < LG_KINDS; k++)
        total += weight[k];
    if (total == 0) {
        fprintf(stderr, "loadgen: --mix: the weights add up to 0\n");
        return -1;
    }
    memcpy(mix->weight, weight, sizeof(weight));
    return 0;
}

void lg_rng_init(lg_rng_t *rng, uint64_t seed) {
    rng->state = seed;
}

uint64_t lg_rng_next(lg_rng_t *rng) {
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unit(lg_rng_t *rng) {
    return (double)(lg_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* A uniform integer in [lo, hi]. */
static unsigned long range(lg_rng_t *rng, unsigned long lo, unsigned long hi) {
    return lo + (unsigned long)(lg_rng_next(rng) % (hi - lo + 1));
}

void lg_mix_next(const lg_mix_t *mix, lg_rng_t *rng, lg_request_t *out) {
    unsigned long total = 0, pick;
    int kind = 0;
    for (int k = 0; k < LG_KINDS; k++)
        total += mix->weight[k];
    pick = range(rng, 0, total - 1);
    for (int k = 0; k < LG_KINDS; k++) {
        if (pick < mix->weight[k]) {
            kind = k;
            break;
        }
        pick -= mix->weight[k];
    }
    out->kind = (lg_kind_t)kind;
    switch (out->kind) {
    case LG_RESERVATIONS: {
        unsigned long id;
        if (unit(rng) < mix->long_id_share)
            id = range(rng, 100000, 9999999); /* 6 or 7 characters: 400 */
        else if (unit(rng) < mix->hot_share)
            id = range(rng, 1, mix->hot_ids);
        else
            id = range(rng, 1, 99999);
        snprintf(out->path, sizeof(out->path), "/reservations/%lu", id);
        break;
    }
    default:
        snprintf(out->path, sizeof(out->path), "%s", lg_routes[kind]);
        break;
    }
}
