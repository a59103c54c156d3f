/* rand.c - per-thread random numbers for client-side sampling.
 *
 * Each thread owns a xorshift64* state in thread-local storage, seeded from
 * getrandom() on its first draw, so sampling takes no lock and no syscall
 * after that. The quality is ample for keeping a line with probability p;
 * nothing here is for secrets.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "push_internal.h"

#if defined(__GNUC__)
static _Thread_local uint64_t state __attribute__((tls_model("initial-exec")));
#else
static _Thread_local uint64_t state;
#endif

void vt__rand_bytes(void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, GRND_NONBLOCK);
        if (got <= 0)
            break;
        p += got;
        n -= (size_t)got;
    }
    if (n > 0) {
        /* No entropy yet (early boot): mix the clock and an address. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)p;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p[i] = (unsigned char)x;
        }
    }
}

static uint64_t next(void) {
    uint64_t x = state;
    if (VT__PUSH_UNLIKELY(x == 0)) {
        while (x == 0)
            vt__rand_bytes(&x, sizeof x);
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

double vt__rand_unit(void) {
    return (double)(next() >> 11) * 0x1.0p-53;
}
