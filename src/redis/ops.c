/* ops.c - the fixed set of command names that become operation labels, and
 * the lookup from a command (name, RESP text or argv) to its operation.
 *
 * Every known name is 1 to VT__REDIS_NAME_MAX ASCII letters, so a name with
 * any other byte, or a longer one, is "other" without a table probe. The
 * index is an open-addressed table of FNV-1a hashes of the upper-cased name
 * with linear probing; it is written once when a metrics object is created
 * and only read afterwards, so lookups from many threads need no lock.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "redis_internal.h"

/* Grouped by data type; the position is the operation number. Append
 * anywhere before "other" (indices are internal), keep names unique. */
const char *const vt__redis_op_names[] = {
    /* strings */
    "GET", "SET", "SETEX", "PSETEX", "SETNX", "GETSET", "GETDEL", "GETEX", "MGET", "MSET", "MSETNX",
    "APPEND", "STRLEN", "GETRANGE", "SETRANGE", "INCR", "INCRBY", "INCRBYFLOAT", "DECR", "DECRBY",
    /* keys */
    "DEL", "UNLINK", "EXISTS", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "TTL", "PTTL",
    "PERSIST", "TYPE", "RENAME", "RENAMENX", "KEYS", "SCAN", "TOUCH",
    /* hashes */
    "HGET", "HSET", "HSETNX", "HMGET", "HMSET", "HDEL", "HEXISTS", "HGETALL", "HINCRBY",
    "HINCRBYFLOAT", "HKEYS", "HVALS", "HLEN", "HSCAN",
    /* lists */
    "LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE", "LLEN", "LINDEX", "LSET", "LREM", "LTRIM", "BLPOP",
    "BRPOP", "BLMOVE", "LMOVE", "RPOPLPUSH",
    /* sets */
    "SADD", "SREM", "SMEMBERS", "SISMEMBER", "SCARD", "SPOP", "SRANDMEMBER", "SSCAN", "SINTER",
    "SUNION",
    /* sorted sets */
    "ZADD", "ZREM", "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZSCORE", "ZINCRBY", "ZCARD", "ZRANK",
    "ZCOUNT", "ZREMRANGEBYSCORE", "ZSCAN", "ZPOPMIN",
    /* streams and hyperloglogs */
    "XADD", "XREAD", "XREADGROUP", "XACK", "XLEN", "XRANGE", "PFADD", "PFCOUNT",
    /* scripts and transactions */
    "EVAL", "EVALSHA", "MULTI", "EXEC", "DISCARD", "WATCH",
    /* pub/sub */
    "PUBLISH", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE",
    "SUNSUBSCRIBE",
    /* connection and server */
    "MONITOR", "PING", "ECHO", "AUTH", "SELECT", "INFO", "DBSIZE", "FLUSHDB", "FLUSHALL",
    /* everything else */
    VT_REDIS_OTHER};

const char *const vt__redis_kind_names[VT__REDIS_N_KINDS] = {"reply", "timeout", "io", "protocol",
                                                             "other"};

/* Upper-case name into up and hash it; 0 when it cannot be a known name. */
static int normalize(const char *name, size_t len, char *up, uint32_t *out_hash) {
    uint32_t h = 2166136261u;
    if (!name || len == 0 || len > VT__REDIS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (unsigned char)(ch - ('a' - 'A'));
        else if (ch < 'A' || ch > 'Z')
            return 0;
        up[i] = (char)ch;
        h = (h ^ ch) * 16777619u;
    }
    *out_hash = h;
    return 1;
}

void vt__redis_index_build(vt__redis_index_t *ix) {
    memset(ix, 0, sizeof(*ix));
    for (unsigned op = 0; op < VT__REDIS_N_OPS; op++) {
        char up[VT__REDIS_NAME_MAX];
        uint32_t h;
        const char *name = vt__redis_op_names[op];
        if (!normalize(name, strlen(name), up, &h))
            continue; /* cannot happen: the table holds letters only */
        size_t s = h & (VT__REDIS_SLOTS - 1);
        while (ix->slot[s])
            s = (s + 1) & (VT__REDIS_SLOTS - 1);
        ix->slot[s] = (uint8_t)(op + 1);
    }
}

unsigned vt__redis_op_lookup(const vt__redis_index_t *ix, const char *name, size_t len) {
    char up[VT__REDIS_NAME_MAX];
    uint32_t h;
    if (!normalize(name, len, up, &h))
        return VT__REDIS_OP_OTHER;
    for (size_t s = h & (VT__REDIS_SLOTS - 1);; s = (s + 1) & (VT__REDIS_SLOTS - 1)) {
        unsigned v = ix->slot[s];
        if (v == 0)
            return VT__REDIS_OP_OTHER;
        const char *known = vt__redis_op_names[v - 1];
        if (strncmp(known, up, len) == 0 && known[len] == '\0')
            return v - 1;
    }
}

/* Read "<digits>\r\n" at cmd[*pos]; the value, or -1 when malformed. */
static long long read_len(const char *cmd, size_t len, size_t *pos) {
    long long v = 0;
    size_t p = *pos, start = p;
    while (p < len && cmd[p] >= '0' && cmd[p] <= '9') {
        if (v > 100000000000LL)
            return -1;
        v = v * 10 + (cmd[p] - '0');
        p++;
    }
    if (p == start || p + 1 >= len || cmd[p] != '\r' || cmd[p + 1] != '\n')
        return -1;
    *pos = p + 2;
    return v;
}

unsigned vt__redis_op_from_resp(const vt__redis_index_t *ix, const char *cmd, size_t len) {
    size_t pos = 1;
    long long argc, n;
    if (!cmd || len < 1 || cmd[0] != '*')
        return VT__REDIS_OP_OTHER;
    argc = read_len(cmd, len, &pos);
    if (argc < 1 || pos >= len || cmd[pos] != '$')
        return VT__REDIS_OP_OTHER;
    pos++;
    n = read_len(cmd, len, &pos);
    if (n < 1 || (size_t)n > len - pos)
        return VT__REDIS_OP_OTHER;
    return vt__redis_op_lookup(ix, cmd + pos, (size_t)n);
}

unsigned vt__redis_op_from_argv(const vt__redis_index_t *ix, int argc, const char **argv,
                                const size_t *argvlen) {
    if (argc < 1 || !argv || !argv[0])
        return VT__REDIS_OP_OTHER;
    return vt__redis_op_lookup(ix, argv[0], argvlen ? argvlen[0] : strlen(argv[0]));
}

int vt__redis_op_is_push(unsigned op) {
    if (op >= VT__REDIS_N_OPS)
        return 0;
    const char *n = vt__redis_op_names[op];
    return strcmp(n, "SUBSCRIBE") == 0 || strcmp(n, "PSUBSCRIBE") == 0 ||
           strcmp(n, "SSUBSCRIBE") == 0 || strcmp(n, "UNSUBSCRIBE") == 0 ||
           strcmp(n, "PUNSUBSCRIBE") == 0 || strcmp(n, "SUNSUBSCRIBE") == 0 ||
           strcmp(n, "MONITOR") == 0;
}
