/* cache.c - the Redis cache of reservation lists: a pool of hiredis
 * connections whose every call goes through libvitals-redis, so Redis rate,
 * errors and duration are measured per command.
 *
 * A hiredis context belongs to one thread at a time, and handlers run on many
 * threads: a request leases a context from the pool (opening one while fewer
 * than redis_pool exist, else waiting for one), makes its call and gives it
 * back. A context is never in the idle list and leased at once.
 *
 * When Redis goes away a context breaks (c->err set). Calls on a broken
 * context fail at once without touching the network and count as errors of
 * kind "io", so the service keeps answering from the database and the error
 * rate shows on /metrics. A broken context is reconnected when it is leased,
 * at most once per RECONNECT_BACKOFF_NS per context and one reconnect at a
 * time in the whole pool: a dead Redis costs a few connection attempts per
 * second, not one per request. Each attempt, failed or not, also empties the
 * write buffer where hiredis keeps appending the commands a broken context
 * cannot send, so that buffer holds at most about a second of calls.

 * Locking: `lock` guards the idle list, the open count and the reconnecting
 * flag; no Redis I/O happens while it is held. A leased connection's fields
 * belong to the leasing thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <vitals/redis.h>

#include "service.h"

#define RECONNECT_BACKOFF_NS 1000000000ULL

/* One pooled connection; owned by the thread that leased it. */
typedef struct conn {
    redisContext *c;
    uint64_t next_try_ns; /* no reconnect before this (CLOCK_MONOTONIC) */
} conn_t;

struct res_cache {
    vt_redis_metrics_t *metrics;
    char *host;
    int port;
    struct timeval timeout; /* connect and command timeout */
    unsigned ttl_s;
    int connected_at_start;

    pthread_mutex_t lock;
    pthread_cond_t freed; /* signalled when a connection returns to the pool */
    conn_t **idle;        /* stack of connections not leased; capacity `cap` */
    unsigned n_idle;
    unsigned n_open; /* connections in existence (idle + leased), at most cap */
    unsigned cap;
    int reconnecting; /* a reconnect is running on some thread */
};

/* A new connection; its context is broken (c->err) when Redis is
 * unreachable. NULL only when out of memory. */
static conn_t *open_conn(res_cache_t *cache) {
    conn_t *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->c = redisConnectWithTimeout(cache->host, cache->port, cache->timeout);
    if (!k->c) {
        free(k);
        return NULL;
    }
    if (!k->c->err)
        redisSetTimeout(k->c, cache->timeout);
    k->next_try_ns = vt_now_ns() + RECONNECT_BACKOFF_NS;
    vt_redis_metrics_set_connected(cache->metrics, !k->c->err);
    return k;
}

static void close_conn(conn_t *k) {
    redisFree(k->c);
    free(k);
}

/* Reconnect a broken connection unless its last attempt is recent or another
 * thread is reconnecting. */
static void maybe_reconnect(res_cache_t *cache, conn_t *k) {
    uint64_t now = vt_now_ns();
    if (now < k->next_try_ns)
        return;
    pthread_mutex_lock(&cache->lock);
    if (cache->reconnecting) {
        pthread_mutex_unlock(&cache->lock);
        return;
    }
    cache->reconnecting = 1;
    pthread_mutex_unlock(&cache->lock);

    if (vt_redis_reconnect(cache->metrics, k->c) == REDIS_OK)
        redisSetTimeout(k->c, cache->timeout); /* hiredis keeps only the connect timeout */
    k->next_try_ns = vt_now_ns() + RECONNECT_BACKOFF_NS;

    pthread_mutex_lock(&cache->lock);
    cache->reconnecting = 0;
    pthread_mutex_unlock(&cache->lock);
}

/* A connection for one call, or NULL when none can be had (out of memory). */
static conn_t *lease(res_cache_t *cache) {
    conn_t *k = NULL;
    pthread_mutex_lock(&cache->lock);
    while (cache->n_idle == 0 && cache->n_open >= cache->cap)
        pthread_cond_wait(&cache->freed, &cache->lock);
    if (cache->n_idle > 0)
        k = cache->idle[--cache->n_idle];
    else
        cache->n_open++;
    pthread_mutex_unlock(&cache->lock);

    if (!k) {
        k = open_conn(cache);
        if (!k) {
            pthread_mutex_lock(&cache->lock);
            cache->n_open--;
            pthread_cond_signal(&cache->freed);
            pthread_mutex_unlock(&cache->lock);
            return NULL;
        }
    } else if (k->c->err) {
        maybe_reconnect(cache, k);
    }
    return k;
}

static void give_back(res_cache_t *cache, conn_t *k) {
    pthread_mutex_lock(&cache->lock);
    cache->idle[cache->n_idle++] = k;
    pthread_cond_signal(&cache->freed);
    pthread_mutex_unlock(&cache->lock);
}

int res_cache_create(vt_registry_t *reg, const res_config_t *cfg, res_cache_t **out_cache) {
    vt_redis_metrics_opts_t mo;
    res_cache_t *cache = calloc(1, sizeof(*cache));
    conn_t *first;
    int rc;
    if (!cache)
        return VT_ENOMEM;
    cache->cap = cfg->redis_pool ? cfg->redis_pool : 1;
    cache->idle = calloc(cache->cap, sizeof(*cache->idle));
    cache->host = strdup(cfg->redis_host);
    cache->port = (int)cfg->redis_port;
    cache->timeout.tv_sec = (time_t)(cfg->redis_timeout_ms / 1000);
    cache->timeout.tv_usec = (suseconds_t)(cfg->redis_timeout_ms % 1000) * 1000;
    cache->ttl_s = cfg->cache_ttl_s;
    pthread_mutex_init(&cache->lock, NULL);
    pthread_cond_init(&cache->freed, NULL);
    if (!cache->idle || !cache->host) {
        res_cache_destroy(cache);
        return VT_ENOMEM;
    }

    /* GET and SET exposed at 0 from the start, so rate() sees them at once. */
    vt_redis_metrics_opts_init(&mo);
    mo.preinit = VT_VALUES("GET", "SET");
    rc = vt_redis_metrics_create(reg, &mo, &cache->metrics);
    if (rc != 0) {
        res_cache_destroy(cache);
        return rc;
    }

    first = lease(cache);
    if (!first) {
        res_cache_destroy(cache);
        return VT_ENOMEM;
    }
    cache->connected_at_start = !first->c->err;
    give_back(cache, first);
    *out_cache = cache;
    return 0;
}

void res_cache_destroy(res_cache_t *cache) {
    if (!cache)
        return;
    for (unsigned i = 0; i < cache->n_idle; i++)
        close_conn(cache->idle[i]);
    vt_redis_metrics_destroy(cache->metrics);
    pthread_cond_destroy(&cache->freed);
    pthread_mutex_destroy(&cache->lock);
    free(cache->idle);
    free(cache->host);
    free(cache);
}

int res_cache_connected_at_start(const res_cache_t *cache) {
    return cache->connected_at_start;
}

res_cache_result_t res_cache_get(res_cache_t *cache, const char *key, size_t key_len,
                                 char **out_value, size_t *out_len) {
    conn_t *k = lease(cache);
    redisReply *r;
    res_cache_result_t result = RES_CACHE_DOWN;
    if (!k)
        return RES_CACHE_DOWN;
    r = vt_redis_command(cache->metrics, k->c, "GET %b", key, key_len);
    if (r && r->type == REDIS_REPLY_NIL) {
        result = RES_CACHE_MISS;
    } else if (r && r->type == REDIS_REPLY_STRING) {
        char *v = malloc(r->len + 1);
        if (v) {
            memcpy(v, r->str, r->len);
            v[r->len] = '\0';
            *out_value = v;
            *out_len = r->len;
            result = RES_CACHE_HIT;
        }
    }
    if (r)
        freeReplyObject(r);
    give_back(cache, k);
    return result;
}

int res_cache_set(res_cache_t *cache, const char *key, size_t key_len, const char *value,
                  size_t value_len) {
    conn_t *k = lease(cache);
    redisReply *r;
    int ok;
    if (!k)
        return -1;
    r = vt_redis_command(cache->metrics, k->c, "SET %b %b EX %u", key, key_len, value, value_len,
                         cache->ttl_s);
    ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    give_back(cache, k);
    return ok ? 0 : -1;
}
