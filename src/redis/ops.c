/* ops.c - the fixed set of command names that become operation labels, and
 * the lookup from a command (name, RESP text or argv) to its operation.
 *
 * Every known name is 1 to VT__REDIS_NAME_MAX ASCII letters, so a name with
 * any other byte, or a longer one, is "other" without a table probe. A name
 * is upper-cased into two zero-padded 64-bit words; the index is an
 * open-addressed table (linear probing) of a multiplicative hash of those
 * words, and a hit is confirmed by comparing both words. It is written once
 * when a metrics object is created and only read afterwards, so lookups from
 * many threads need no lock.
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

/* Folds a byte to its upper-case letter; 0 for anything but ASCII letters. */
static const unsigned char fold[256] = {
    ['A'] = 'A', ['B'] = 'B', ['C'] = 'C', ['D'] = 'D', ['E'] = 'E', ['F'] = 'F', ['G'] = 'G',
    ['H'] = 'H', ['I'] = 'I', ['J'] = 'J', ['K'] = 'K', ['L'] = 'L', ['M'] = 'M', ['N'] = 'N',
    ['O'] = 'O', ['P'] = 'P', ['Q'] = 'Q', ['R'] = 'R', ['S'] = 'S', ['T'] = 'T', ['U'] = 'U',
    ['V'] = 'V', ['W'] = 'W', ['X'] = 'X', ['Y'] = 'Y', ['Z'] = 'Z', ['a'] = 'A', ['b'] = 'B',
    ['c'] = 'C', ['d'] = 'D', ['e'] = 'E', ['f'] = 'F', ['g'] = 'G', ['h'] = 'H', ['i'] = 'I',
    ['j'] = 'J', ['k'] = 'K', ['l'] = 'L', ['m'] = 'M', ['n'] = 'N', ['o'] = 'O', ['p'] = 'P',
    ['q'] = 'Q', ['r'] = 'R', ['s'] = 'S', ['t'] = 'T', ['u'] = 'U', ['v'] = 'V', ['w'] = 'W',
    ['x'] = 'X', ['y'] = 'Y', ['z'] = 'Z'};

/* The upper-cased name packed into two zero-padded words (a known name has
 * no NUL, so the words also encode the length); 0 when it cannot be known. */
static int pack(const char *name, size_t len, uint64_t *w) {
    unsigned char up[VT__REDIS_NAME_MAX] = {0};
    if (!name || len == 0 || len > VT__REDIS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((up[i] = fold[(unsigned char)name[i]]) == 0)
            return 0;
    memcpy(&w[0], up, 8);
    memcpy(&w[1], up + 8, 8);
    return 1;
}

static size_t slot_of(const uint64_t *w) {
    uint64_t h = w[0] * 0x9E3779B97F4A7C15ull ^ w[1] * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h >> 40) & (VT__REDIS_SLOTS - 1);
}

void vt__redis_index_build(vt__redis_index_t *ix) {
    memset(ix, 0, sizeof(*ix));
    for (unsigned op = 0; op < VT__REDIS_N_OPS; op++) {
        const char *name = vt__redis_op_names[op];
        if (!pack(name, strlen(name), ix->words[op]))
            continue; /* cannot happen: the table holds letters only */
        size_t s = slot_of(ix->words[op]);
        while (ix->slot[s])
            s = (s + 1) & (VT__REDIS_SLOTS - 1);
        ix->slot[s] = (uint8_t)(op + 1);
        ix->push[op] = strstr(name, "SUBSCRIBE") != NULL || strcmp(name, "MONITOR") == 0;
    }
}

unsigned vt__redis_op_lookup(const vt__redis_index_t *ix, const char *name, size_t len) {
    uint64_t w[2];
    if (!pack(name, len, w))
        return VT__REDIS_OP_OTHER;
    for (size_t s = slot_of(w);; s = (s + 1) & (VT__REDIS_SLOTS - 1)) {
        unsigned v = ix->slot[s];
        if (v == 0)
            return VT__REDIS_OP_OTHER;
        if (ix->words[v - 1][0] == w[0] && ix->words[v - 1][1] == w[1])
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
    /* The common shape first: fewer than 10 arguments, a name of at most 9
     * bytes ("*3\r\n$3\r\nSET\r\n..."). */
    if (len >= 8 && cmd[1] >= '1' && cmd[1] <= '9' && cmd[2] == '\r' && cmd[3] == '\n' &&
        cmd[4] == '$' && cmd[5] >= '1' && cmd[5] <= '9' && cmd[6] == '\r' && cmd[7] == '\n') {
        n = cmd[5] - '0';
        return (size_t)n <= len - 8 ? vt__redis_op_lookup(ix, cmd + 8, (size_t)n)
                                    : VT__REDIS_OP_OTHER;
    }
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

int vt__redis_op_is_push(const vt__redis_index_t *ix, unsigned op) {
    return op < VT__REDIS_N_OPS && ix->push[op];
}
