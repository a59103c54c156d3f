/* report.c - totals of a load generator run and their two summaries: a table
 * for people and a JSON object for scripts (the tests compare it with what
 * Prometheus recorded).
 *
 * Route names are the service's route templates, so each line matches a
 * series of http_requests_total{route,code}.
 *
 * SPDX-License-Identifier: MIT
 */
#include "loadgen.h"

uint64_t lg_tally_sent(const lg_tally_t *t) {
    uint64_t n = 0;
    for (int k = 0; k < LG_KINDS; k++)
        n += t->sent[k];
    return n;
}

uint64_t lg_tally_done(const lg_tally_t *t) {
    uint64_t n = 0;
    for (int k = 0; k < LG_KINDS; k++)
        for (int s = 0; s < LG_STATUS_SLOTS; s++)
            n += t->answered[k][s];
    return n;
}

uint64_t lg_tally_failed(const lg_tally_t *t) {
    uint64_t n = 0;
    for (int k = 0; k < LG_KINDS; k++)
        n += t->answered[k][0];
    return n;
}

void lg_report_text(FILE *f, const lg_tally_t *t, double elapsed_s, uint64_t seed) {
    uint64_t sent = lg_tally_sent(t), n_answered = lg_tally_done(t) - lg_tally_failed(t);
    fprintf(f, "loadgen: %llu requests sent, %llu answered, %llu without answer in %.1f s",
            (unsigned long long)sent, (unsigned long long)n_answered,
            (unsigned long long)lg_tally_failed(t), elapsed_s);
    if (elapsed_s > 0)
        fprintf(f, " (%.1f answers/s)", (double)n_answered / elapsed_s);
    fprintf(f, ", seed %llu\n", (unsigned long long)seed);
    if (t->late)
        fprintf(f, "loadgen: %llu send slots skipped: --concurrency requests were in flight\n",
                (unsigned long long)t->late);
    fprintf(f, "%-24s %6s %8s %10s\n", "route", "code", "count", "mean ms");
    for (int k = 0; k < LG_KINDS; k++) {
        for (int s = 1; s < LG_STATUS_SLOTS; s++) {
            uint64_t n = t->answered[k][s];
            if (n)
                fprintf(f, "%-24s %6d %8llu %10.1f\n", lg_routes[k], s, (unsigned long long)n,
                        1000.0 * t->latency_sum[k][s] / (double)n);
        }
        if (t->answered[k][0])
            fprintf(f, "%-24s %6s %8llu\n", lg_routes[k], "none",
                    (unsigned long long)t->answered[k][0]);
    }
}

int lg_report_json(FILE *f, const lg_tally_t *t, double elapsed_s, uint64_t seed) {
    uint64_t done = lg_tally_done(t), failed = lg_tally_failed(t);
    int first_route = 1;
    fprintf(f,
            "{\"seed\": %llu, \"elapsed_seconds\": %.3f, \"sent\": %llu, \"answered\": %llu, "
            "\"failed\": %llu, \"late\": %llu, \"routes\": {",
            (unsigned long long)seed, elapsed_s, (unsigned long long)lg_tally_sent(t),
            (unsigned long long)(done - failed), (unsigned long long)failed,
            (unsigned long long)t->late);
    for (int k = 0; k < LG_KINDS; k++) {
        int first_code = 1;
        if (!t->sent[k])
            continue;
        fprintf(f, "%s\"%s\": {\"sent\": %llu, \"failed\": %llu, \"codes\": {",
                first_route ? "" : ", ", lg_routes[k], (unsigned long long)t->sent[k],
                (unsigned long long)t->answered[k][0]);
        first_route = 0;
        for (int s = 1; s < LG_STATUS_SLOTS; s++) {
            if (!t->answered[k][s])
                continue;
            fprintf(f, "%s\"%d\": %llu", first_code ? "" : ", ", s,
                    (unsigned long long)t->answered[k][s]);
            first_code = 0;
        }
        fprintf(f, "}}");
    }
    fprintf(f, "}}\n");
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
