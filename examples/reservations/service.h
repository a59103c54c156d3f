/* service.h - the parts of the reservations demo service and how they meet:
 * configuration, random draws, the simulated database, the Redis cache, JSON
 * helpers and the HTTP handler.
 *
 * The service rebuilds a small Python (Flask) service in C: GET
 * /reservations/:user_id reads a Redis cache and falls back to a slow
 * simulated database, POST /checkout fails now and then like a payment
 * gateway, GET /database is one slow query, GET /error always fails. Every
 * request is measured by the vitals RED adapter; Redis calls by
 * libvitals-redis; the simulated queries by db_query_duration_seconds.
 *
 * Threading: libmicrohttpd calls the handler from many threads at once (one
 * per connection by default). The configuration is read-only after startup;
 * the database and the cache are safe from any thread; random draws use a
 * per-thread generator.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RES_SERVICE_H
#define RES_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include <vitals.h>

/* Longest user id the service accepts, in characters (code points). */
#define RES_USER_ID_MAX_CHARS 5

/* Everything the service is started with; fixed after startup. */
typedef struct res_config {
    const char *host;           /* address to listen on (IPv4 or IPv6 literal) */
    unsigned port;              /* 0 picks a free port */
    const char *redis_host;     /* Redis server address or name */
    unsigned redis_port;        /* Redis server port */
    double error_rate;          /* probability that /reservations/:user_id answers 500 */
    double checkout_error_rate; /* probability that /checkout answers 500 */
    double latency_scale;       /* multiplies every simulated delay; 1 = the original timings */
    unsigned cache_ttl_s;       /* TTL of a cached reservation list, seconds */
    unsigned threads;           /* 0: one thread per connection; N: a pool of N threads */
    unsigned max_connections;   /* concurrent connections accepted */
    unsigned redis_pool;        /* Redis connections kept at most */
    unsigned redis_timeout_ms;  /* connect and command timeout of a Redis call */
    uint64_t seed;              /* random seed; 0 draws one */
} res_config_t;

/* ---- random draws (rand.c) ---------------------------------------------- */

/* Seed every thread's generator from seed (0: from the clock and the pid).
 * Call once before the threads start. Returns the seed used. */
uint64_t res_rand_seed(uint64_t seed);

/* A uniform 64-bit value from the calling thread's generator. */
uint64_t res_rand_u64(void);

/* A uniform double in [0, 1). */
double res_rand_unit(void);

/* A uniform integer in [lo, hi]; lo <= hi. */
unsigned res_rand_range(unsigned lo, unsigned hi);

/* 1 with probability p (p <= 0: never, p >= 1: always), else 0. */
int res_rand_chance(double p);

/* Sleep for seconds (a fraction allowed), resuming after signals. */
void res_sleep(double seconds);

/* ---- the simulated database (db.c) -------------------------------------- */

typedef struct res_db res_db_t;

/* Create the database and db_query_duration_seconds{operation} in reg, with
 * these bucket bounds (NULL, 0: the default ones). Returns 0 or a VT_E* code. */
int res_db_create(vt_registry_t *reg, double latency_scale, const double *buckets,
                  size_t bucket_count, res_db_t **out_db);
void res_db_destroy(res_db_t *db);

/* Look up a user's reservations: sleeps like a query (1-100 ms times 1, 2 or
 * 3, scaled) and writes a JSON list into out (NUL-terminated, at most cap
 * bytes). The list depends only on the user id. Returns its length, or 0
 * when cap is too small. user_id must be valid UTF-8 (see res_utf8_chars). */
size_t res_db_find_reservations(res_db_t *db, const char *user_id, size_t id_len, char *out,
                                size_t cap);

/* The slow query of /database: 0.5 to 1.5 s, scaled. Returns the seconds it
 * took. */
double res_db_slow_query(res_db_t *db);

/* ---- the Redis cache (cache.c) ------------------------------------------ */

typedef struct res_cache res_cache_t;

/* What a cache read found. */
typedef enum res_cache_result {
    RES_CACHE_HIT = 0,
    RES_CACHE_MISS = 1,
    RES_CACHE_DOWN = 2 /* Redis did not answer (or answered an error): use the database */
} res_cache_result_t;

/* Create the cache: the Redis metrics in reg and a pool of connections to
 * cfg's Redis, the first one opened now. A Redis that is down is not an
 * error: calls fail fast and count as errors until it is back. Returns 0 or a
 * VT_E* code. */
int res_cache_create(vt_registry_t *reg, const res_config_t *cfg, res_cache_t **out_cache);
void res_cache_destroy(res_cache_t *cache);

/* Whether the first connection made at startup reached Redis. */
int res_cache_connected_at_start(const res_cache_t *cache);

/* GET key. On a hit *out_value is a malloc'd NUL-terminated copy (free it)
 * and *out_len its length. */
res_cache_result_t res_cache_get(res_cache_t *cache, const char *key, size_t key_len,
                                 char **out_value, size_t *out_len);

/* SET key value EX ttl. Returns 0, or -1 when Redis did not store it. */
int res_cache_set(res_cache_t *cache, const char *key, size_t key_len, const char *value,
                  size_t value_len);

/* ---- JSON (json.c) ------------------------------------------------------- */

/* Code points in s[0..len), or -1 when s is not valid UTF-8 or holds a control
 * character (below 0x20, or 0x7f). */
long res_utf8_chars(const char *s, size_t len);

/* Append s[0..len) as a JSON string (quotes included) to out at *pos, never
 * past cap - 1; keeps out NUL-terminated. Returns 0, or -1 when it did not
 * fit. */
int res_json_string(char *out, size_t cap, size_t *pos, const char *s, size_t len);

/* ---- HTTP (routes.c) ----------------------------------------------------- */

/* What the handler works with. */
typedef struct res_app {
    const res_config_t *cfg;
    res_db_t *db;
    res_cache_t *cache;
} res_app_t;

/* The route templates the RED middleware records requests under. */
extern const char *const res_routes[];

/* The libmicrohttpd access handler of the service; cls is a res_app_t. */
enum MHD_Result res_handle(void *cls, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **con_cls);

#endif
