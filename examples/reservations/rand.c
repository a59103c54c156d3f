/* rand.c - random draws for the simulated latencies and failures, and sleeps.
 *
 * Each thread owns a splitmix64 generator, seeded on its first draw from the
 * process seed and a per-thread sequence number, so draws take no lock and
 * two threads never share a stream. The process seed is written once before
 * any thread starts and only read afterwards.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "service.h"

static uint64_t process_seed;
static atomic_uint_fast64_t thread_seq;

static _Thread_local uint64_t state;
static _Thread_local int seeded;

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t res_rand_seed(uint64_t seed) {
    if (seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed =
            (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
        if (seed == 0)
            seed = 1;
    }
    process_seed = seed;
    return seed;
}

uint64_t res_rand_u64(void) {
    if (!seeded) {
        uint64_t n = atomic_fetch_add_explicit(&thread_seq, 1, memory_order_relaxed);
        uint64_t mix = process_seed ^ (n * 0xd1b54a32d192ed03ULL);
        state = splitmix64(&mix);
        seeded = 1;
    }
    return splitmix64(&state);
}

double res_rand_unit(void) {
    return (double)(res_rand_u64() >> 11) * 0x1.0p-53;
}

unsigned res_rand_range(unsigned lo, unsigned hi) {
    uint64_t span = (uint64_t)hi - lo + 1;
    return lo + (unsigned)(res_rand_u64() % span);
}

int res_rand_chance(double p) {
    if (!(p > 0))
        return 0;
    if (p >= 1)
        return 1;
    return res_rand_unit() < p;
}

void res_sleep(double seconds) {
    struct timespec ts;
    if (!(seconds > 0))
        return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - floor(seconds)) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
