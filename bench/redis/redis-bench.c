/* redis-bench.c - what the instrumentation of libvitals-redis costs: plain
 * hiredis against the vt_redis_* wrappers on GET/SET, unpipelined and in
 * pipelined batches, against a redis-server this program starts on
 * 127.0.0.1.
 *
 * Usage: vitals-bench-redis [--rounds N] [--calls N] [--batches N]
 *                           [--batch N] [--null] [--quick] [--json]
 *
 * Each round runs the four cases on one connection: plain and instrumented
 * unpipelined calls (alternating SET and GET), then plain and instrumented
 * pipelines. The order of plain and instrumented flips every round, so a
 * drift of the machine's speed lands on both alike. A row reports the median
 * over rounds; the overhead is the median over rounds of the per-round ratio
 * instrumented/plain. Wall-clock ratios move by several percent with the
 * load of a shared machine (see --null), far more than the wrappers cost, so
 * both cases are also timed in this thread's CPU time. The wrappers add work
 * in the calling thread and no I/O, so the time they add to a call is the
 * CPU time they add: the cost row divides the median added CPU time by the
 * wall time per call (or per pipelined command) of the fastest plain round,
 * and the targets are judged on it: at most 3% per unpipelined call, at most 5% of pipelined
 * throughput.
 *
 * --null runs plain hiredis in both columns: the changes it shows are the
 * noise floor of the machine at that moment.
 *
 * --quick runs tiny counts: the numbers mean nothing, the run only proves
 * the program works.
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"
#include "vitals.h"
#include "vitals/redis.h"

#define MAX_ROUNDS 101

typedef struct opts {
    int rounds, calls, batches, batch, json, null;
} opts_t;

/* Per round: [0] plain, [1] instrumented. */
static double call_ns[2][MAX_ROUNDS];     /* wall ns per unpipelined call */
static double call_cpu_ns[2][MAX_ROUNDS]; /* client CPU ns per unpipelined call */
static double pipe_ops[2][MAX_ROUNDS];    /* pipelined commands per second */
static double pipe_cpu_ns[2][MAX_ROUNDS]; /* client CPU ns per pipelined command */

static const char value[] = "0123456789abcdef";

static double now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n) {
    double tmp[MAX_ROUNDS];
    memcpy(tmp, v, (size_t)n * sizeof(double));
    qsort(tmp, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* Median over rounds of a[i] / b[i]. */
static double median_ratio(const double *a, const double *b, int n) {
    double r[MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        r[i] = a[i] / b[i];
    return median(r, n);
}

static int check(redisReply *r) {
    int ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
        freeReplyObject(r);
    return ok;
}

/* Unpipelined: calls alternating SET and GET; fills wall and CPU ns/call. */
static int run_calls(vt_redis_metrics_t *m, redisContext *c, int n, double *wall, double *cpu) {
    int ok = 1;
    double t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
    if (!m) {
        for (int i = 0; i < n; i++)
            ok &= check(i % 2 ? redisCommand(c, "GET %s", "bench:k")
                              : redisCommand(c, "SET %s %s", "bench:k", value));
    } else {
        for (int i = 0; i < n; i++)
            ok &= check(i % 2 ? vt_redis_command(m, c, "GET %s", "bench:k")
                              : vt_redis_command(m, c, "SET %s %s", "bench:k", value));
    }
    *wall = (now_ns(CLOCK_MONOTONIC) - t0) / n;
    *cpu = (now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / n;
    return ok;
}

/* Pipelined: batches of `batch` commands (SET, GET, ...); commands/s. */
static int run_pipeline(vt_redis_conn_t *conn, redisContext *c, int batches, int batch, double *ops,
                        double *cpu) {
    int ok = 1;
    double t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
    for (int b = 0; b < batches; b++) {
        for (int i = 0; i < batch; i++) {
            int rc;
            if (!conn)
                rc = i % 2 ? redisAppendCommand(c, "GET %s", "bench:k")
                           : redisAppendCommand(c, "SET %s %s", "bench:k", value);
            else
                rc = i % 2 ? vt_redis_append_command(conn, "GET %s", "bench:k")
                           : vt_redis_append_command(conn, "SET %s %s", "bench:k", value);
            ok &= rc == REDIS_OK;
        }
        for (int i = 0; i < batch; i++) {
            void *r = NULL;
            ok &= (conn ? vt_redis_get_reply(conn, &r) : redisGetReply(c, &r)) == REDIS_OK;
            ok &= check(r);
        }
    }
    *ops = (double)batches * batch / ((now_ns(CLOCK_MONOTONIC) - t0) * 1e-9);
    *cpu = (now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / ((double)batches * batch);
    return ok;
}

static int parse(int argc, char **argv, opts_t *o) {
    o->rounds = 101;
    o->calls = 4000;
    o->batches = 80;
    o->batch = 100;
    o->json = 0;
    o->null = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int *target = NULL;
        if (strcmp(a, "--null") == 0) {
            o->null = 1;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strcmp(a, "--quick") == 0) {
            o->rounds = 3;
            o->calls = 20;
            o->batches = 2;
            o->batch = 10;
            continue;
        }
        if (strcmp(a, "--rounds") == 0)
            target = &o->rounds;
        else if (strcmp(a, "--calls") == 0)
            target = &o->calls;
        else if (strcmp(a, "--batches") == 0)
            target = &o->batches;
        else if (strcmp(a, "--batch") == 0)
            target = &o->batch;
        if (!target || i + 1 >= argc || (*target = atoi(argv[++i])) <= 0) {
            fprintf(stderr,
                    "usage: %s [--rounds N] [--calls N] [--batches N] [--batch N] "
                    "[--null] [--quick] [--json]\n",
                    argv[0]);
            return -1;
        }
    }
    if (o->rounds > MAX_ROUNDS)
        o->rounds = MAX_ROUNDS;
    return 0;
}

/* Median over rounds of a[i] - b[i]. */
static double median_diff(const double *a, const double *b, int n) {
    double d[MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        d[i] = a[i] - b[i];
    return median(d, n);
}

static void report(const opts_t *o) {
    int n = o->rounds;
    double plain = median(call_ns[0], n), inst = median(call_ns[1], n);
    double plain_cpu = median(call_cpu_ns[0], n), inst_cpu = median(call_cpu_ns[1], n);
    double pplain = median(pipe_ops[0], n), pinst = median(pipe_ops[1], n);
    double pcpu_plain = median(pipe_cpu_ns[0], n), pcpu_inst = median(pipe_cpu_ns[1], n);
    /* Direct comparisons: wall-clock ratios, exposed to every other process
     * on the machine (run --null to see how much). */
    double call_wall = (median_ratio(call_ns[1], call_ns[0], n) - 1) * 100;
    double pipe_wall = (1 - median_ratio(pipe_ops[1], pipe_ops[0], n)) * 100;
    /* The cost: the wrappers add work in the calling thread and no I/O, so
     * the time they add to a call is the client CPU time they add. */
    double call_add = median_diff(call_cpu_ns[1], call_cpu_ns[0], n);
    double pipe_add = median_diff(pipe_cpu_ns[1], pipe_cpu_ns[0], n);
    /* Against the fastest plain round, the least disturbed one: the
     * smallest denominator, so the highest cost. */
    double call_best = call_ns[0][0], pipe_best = 1e9 / pipe_ops[0][0];
    for (int i = 1; i < n; i++) {
        if (call_ns[0][i] < call_best)
            call_best = call_ns[0][i];
        if (1e9 / pipe_ops[0][i] < pipe_best)
            pipe_best = 1e9 / pipe_ops[0][i];
    }
    double call_cost = call_add / call_best * 100;
    double pipe_cost = pipe_add / pipe_best * 100;
    int call_met = call_cost <= 3, pipe_met = pipe_cost <= 5;
    if (o->json) {
        printf("{\"rounds\": %d, \"calls\": %d, \"batches\": %d, \"batch\": %d, \"null\": %s,\n", n,
               o->calls, o->batches, o->batch, o->null ? "true" : "false");
        printf(" \"call_ns\": {\"plain\": %.1f, \"instrumented\": %.1f, \"change_pct\": %.2f},\n",
               plain, inst, call_wall);
        printf(" \"call_cpu_ns\": {\"plain\": %.1f, \"instrumented\": %.1f, \"added\": %.1f},\n",
               plain_cpu, inst_cpu, call_add);
        printf(" \"pipeline_ops_per_s\": {\"plain\": %.0f, \"instrumented\": %.0f, "
               "\"loss_pct\": %.2f},\n",
               pplain, pinst, pipe_wall);
        printf(
            " \"pipeline_cpu_ns\": {\"plain\": %.1f, \"instrumented\": %.1f, \"added\": %.1f},\n",
            pcpu_plain, pcpu_inst, pipe_add);
        printf(" \"cost_pct\": {\"call\": %.2f, \"pipeline\": %.2f},\n", call_cost, pipe_cost);
        printf(" \"targets_met\": {\"call\": %s, \"pipeline\": %s}}\n", call_met ? "true" : "false",
               pipe_met ? "true" : "false");
        return;
    }
    printf("rounds %d: %d unpipelined calls, %d batches of %d per case and round%s\n\n", n,
           o->calls, o->batches, o->batch, o->null ? " (--null: plain in both columns)" : "");
    printf("%-34s %14s %14s %10s\n", "median over rounds", "plain", "instrumented", "change");
    printf("%-34s %11.0f ns %11.0f ns %+9.2f%%\n", "unpipelined: wall per call", plain, inst,
           call_wall);
    printf("%-34s %11.0f ns %11.0f ns %+7.0f ns\n", "unpipelined: client CPU per call", plain_cpu,
           inst_cpu, call_add);
    printf("%-34s %12.0f/s %12.0f/s %+9.2f%%\n", "pipelined: commands per second", pplain, pinst,
           -pipe_wall);
    printf("%-34s %11.0f ns %11.0f ns %+7.0f ns\n", "pipelined: client CPU per command", pcpu_plain,
           pcpu_inst, pipe_add);
    printf("\ncost = added client CPU time / wall time of the fastest plain round\n"
           "(the wrappers add work in the calling thread and no I/O):\n");
    printf("  unpipelined call   %+6.0f ns of %8.0f ns = %+6.2f%%   target <= 3%%: %s\n", call_add,
           call_best, call_cost, call_met ? "met" : "missed");
    printf("  pipelined command  %+6.0f ns of %8.0f ns = %+6.2f%%   target <= 5%%: %s\n", pipe_add,
           pipe_best, pipe_cost, pipe_met ? "met" : "missed");
    printf(
        "\nchange = median over rounds of instrumented/plain - 1 (or of the difference, in ns)\n");
}

int main(int argc, char **argv) {
    opts_t o;
    rs_server_t srv;
    vt_registry_t *reg;
    vt_redis_metrics_t *m;
    vt_redis_conn_t *conn;
    redisContext *c;
    int ok = 1;
    if (parse(argc, argv, &o) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    memset(&srv, 0, sizeof(srv));
    if (!rs_available()) {
        fprintf(stderr, "vitals-bench-redis: redis-server is not installed\n");
        return 77;
    }
    if (rs_start(&srv) != 0) {
        fprintf(stderr, "vitals-bench-redis: redis-server did not start\n");
        return 1;
    }
    c = redisConnect("127.0.0.1", srv.port);
    if (!c || c->err || vt_registry_create(&reg) != 0 ||
        vt_redis_metrics_create(reg, NULL, &m) != 0 || vt_redis_conn_create(m, c, &conn) != 0) {
        fprintf(stderr, "vitals-bench-redis: setup failed\n");
        rs_cleanup(&srv);
        return 1;
    }

    /* Warm up both paths (connection, server, caches, series binding). */
    double w1, w2;
    ok &= run_calls(NULL, c, o.calls / 10 + 2, &w1, &w2);
    ok &= run_calls(m, c, o.calls / 10 + 2, &w1, &w2);
    ok &= run_pipeline(NULL, c, o.batches / 10 + 1, o.batch, &w1, &w2);
    ok &= run_pipeline(conn, c, o.batches / 10 + 1, o.batch, &w1, &w2);

    for (int r = 0; r < o.rounds && ok; r++) {
        for (int k = 0; k < 2; k++) {
            int inst = (r + k) % 2;
            ok &= run_calls(inst && !o.null ? m : NULL, c, o.calls, &call_ns[inst][r],
                            &call_cpu_ns[inst][r]);
        }
        for (int k = 0; k < 2; k++) {
            int inst = (r + k) % 2;
            ok &= run_pipeline(inst && !o.null ? conn : NULL, c, o.batches, o.batch,
                               &pipe_ops[inst][r], &pipe_cpu_ns[inst][r]);
        }
    }
    if (ok)
        report(&o);
    else
        fprintf(stderr, "vitals-bench-redis: a call failed: %s\n", c->errstr);

    vt_redis_conn_destroy(conn);
    redisFree(c);
    vt_redis_metrics_destroy(m);
    vt_registry_destroy(reg);
    rs_cleanup(&srv);
    return ok ? 0 : 1;
}
