/* util.c - UTF-8 checks, hashing, name character classes and sample suffixes.
 *
 * All functions are pure and read only the bytes they are given.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "parse/internal.h"

#define M VT__C_METRIC
#define MF (VT__C_METRIC_FIRST | VT__C_METRIC)
#define A (VT__C_METRIC_FIRST | VT__C_METRIC | VT__C_LABEL_FIRST | VT__C_LABEL)
#define D (VT__C_METRIC | VT__C_LABEL)

/* clang-format off */
const unsigned char vt__name_class[256] = {
    ['0'] = D, ['1'] = D, ['2'] = D, ['3'] = D, ['4'] = D,
    ['5'] = D, ['6'] = D, ['7'] = D, ['8'] = D, ['9'] = D,
    [':'] = MF, ['_'] = A,
    ['a'] = A, ['b'] = A, ['c'] = A, ['d'] = A, ['e'] = A, ['f'] = A, ['g'] = A,
    ['h'] = A, ['i'] = A, ['j'] = A, ['k'] = A, ['l'] = A, ['m'] = A, ['n'] = A,
    ['o'] = A, ['p'] = A, ['q'] = A, ['r'] = A, ['s'] = A, ['t'] = A, ['u'] = A,
    ['v'] = A, ['w'] = A, ['x'] = A, ['y'] = A, ['z'] = A,
    ['A'] = A, ['B'] = A, ['C'] = A, ['D'] = A, ['E'] = A, ['F'] = A, ['G'] = A,
    ['H'] = A, ['I'] = A, ['J'] = A, ['K'] = A, ['L'] = A, ['M'] = A, ['N'] = A,
    ['O'] = A, ['P'] = A, ['Q'] = A, ['R'] = A, ['S'] = A, ['T'] = A, ['U'] = A,
    ['V'] = A, ['W'] = A, ['X'] = A, ['Y'] = A, ['Z'] = A,
};
/* clang-format on */

size_t vt__utf8_check(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* Eight ASCII bytes at a time. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) {
                break;
            }
            i += 8;
        }
        if (i >= n) {
            break;
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) {
                lo = 0xA0; /* no overlong forms */
            } else if (c == 0xED) {
                hi = 0x9F; /* no surrogates */
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) {
                lo = 0x90;
            } else if (c == 0xF4) {
                hi = 0x8F; /* nothing above U+10FFFF */
            }
        } else {
            return i;
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) {
            return i;
        }
        for (size_t k = 2; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return i;
            }
        }
        i += len;
    }
    return n;
}

size_t vt__utf8_count(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        count += (s[i] & 0xC0) != 0x80;
    }
    return count;
}

/* FNV-1a over 8-byte words, then a final mix; good enough for hash tables
 * whose keys an attacker may choose, since every lookup confirms equality. */
uint64_t vt__hash_bytes(const void *p, size_t n, uint64_t seed) {
    const unsigned char *s = p;
    uint64_t h = seed ^ 0xcbf29ce484222325ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) {
        h = (h ^ s[i]) * 0x100000001b3ull;
    }
    h ^= (uint64_t)n;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

uint64_t vt__hash_seed(void) {
    static const char anchor; /* ASLR moves it from run to run */
    return ((uint64_t)(uintptr_t)&anchor * 0x9e3779b97f4a7c15ull) ^ 0x6a09e667f3bcc909ull;
}

vt__suffix_t vt__suffix_kind(const char *name, size_t n, size_t fn) {
    const char *s = name + fn;
    switch (n - fn) {
    case 0:
        return VT__SUF_NONE;
    case 4:
        if (memcmp(s, "_sum", 4) == 0) {
            return VT__SUF_SUM;
        }
        break;
    case 5:
        if (memcmp(s, "_info", 5) == 0) {
            return VT__SUF_INFO;
        }
        if (memcmp(s, "_gsum", 5) == 0) {
            return VT__SUF_GSUM;
        }
        break;
    case 6:
        if (memcmp(s, "_total", 6) == 0) {
            return VT__SUF_TOTAL;
        }
        if (memcmp(s, "_count", 6) == 0) {
            return VT__SUF_COUNT;
        }
        break;
    case 7:
        if (memcmp(s, "_bucket", 7) == 0) {
            return VT__SUF_BUCKET;
        }
        if (memcmp(s, "_gcount", 7) == 0) {
            return VT__SUF_GCOUNT;
        }
        break;
    case 8:
        if (memcmp(s, "_created", 8) == 0) {
            return VT__SUF_CREATED;
        }
        break;
    default:
        break;
    }
    return VT__SUF_OTHER;
}
