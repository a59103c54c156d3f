/* shard.c - per-thread shards of counter and histogram cells, and their totals.
 *
 * Every counter, histogram and summary series owns a run of cells ("slots") in
 * one process-wide slot space. Each thread that updates a series lazily gets a
 * shard: a page table over that slot space whose pages it alone writes. A
 * scrape adds a slot's cell over every live shard plus the retired shard, into
 * which a thread's cells are folded when it exits.
 *
 * Memory-order argument (the only atomics of the hot path live here and in
 * metrics.c, which follows these rules):
 *
 * - A cell has one writer, its shard's thread, which updates it with a relaxed
 *   load and a relaxed store (no read-modify-write: nobody else writes it, so
 *   the load always sees the writer's own last store). Readers (scrapes) load
 *   cells relaxed. Relaxed is enough because a cell is a monotonic total read
 *   on its own: any value a reader sees was really stored, and 64-bit atomic
 *   loads are never torn. Exact totals at the end of a test follow from
 *   pthread_join, which orders every store of the joined thread before it.
 * - A page pointer is published by its owner with a release store after the
 *   page was zeroed; a reader loads it with acquire, so it never sees the page
 *   before its zeroes. The owner itself reads its page table relaxed (it wrote
 *   it).
 * - A histogram or summary series keeps a sequence cell before its data cells
 *   (a seqlock with one writer). Writer: seq+1 relaxed, data stores release,
 *   seq+2 release. Reader: seq acquire, data loads acquire, seq again relaxed;
 *   it retries when the two differ or the first is odd. If a data load reads
 *   a store of critical section k, it synchronizes with that release store,
 *   which the writer made after storing 2k+1, so the second seq load sees at
 *   least 2k+1 and the reader retries. If both seq loads read 2k, the first
 *   synchronized with the end of section k-1, so every data load sees at least
 *   that section's values and none of section k's. So a scrape sees each
 *   thread's buckets and sum from one moment, and the count (the sum of the
 *   buckets) always equals the +Inf bucket. No fences are needed (ThreadSanitizer
 *   does not model them), and on x86 and ARMv8 release stores and acquire loads
 *   cost what plain ones do.
 * - Native histogram buckets (native.c) are cells elsewhere in the slot
 *   space that the series' writers update inside the series' bracket, with
 *   release stores like its data cells; vt__sum_seq_runs reads them between
 *   the same two sequence loads, so the argument above covers them too.
 * - The shard list, the retired shard, slot allocation and the cell kinds are
 *   guarded by one mutex, the cells lock. Folding a dying thread's shard into
 *   the retired shard happens under it, and so does every scrape's summing, so
 *   a scrape sees a thread's cells either in its shard or in the retired shard,
 *   never both and never neither. The dying thread writes no more cells
 *   after its TLS destructor started, so its final values are all visible to
 *   the fold (the destructor runs on that thread).
 * - Freed slots are zeroed in every shard under the cells lock before reuse.
 *   Only a thread using a handle of a destroyed family could race with that,
 *   which the API forbids.
 *
 * SPDX-License-Identifier: MIT
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

__thread vt__shard_t *vt__tls_shard __attribute__((tls_model("initial-exec")));

static pthread_mutex_t cells_mu = PTHREAD_MUTEX_INITIALIZER;
static vt__shard_t *live_shards; /* every thread's shard, under cells_mu */
static vt__shard_t *retired;     /* folded totals of exited threads, under cells_mu */
static uint8_t *kinds;           /* kind of every allocated cell, under cells_mu */
static uint32_t slots_next;      /* bump pointer of the slot space */
static uint32_t slots_cap;       /* cells kinds[] can describe */
static pthread_key_t shard_key;
static pthread_once_t shard_once = PTHREAD_ONCE_INIT;
static int shard_key_ok;

/* Free runs, by length, for reuse after a family is destroyed. */
typedef struct free_run {
    uint32_t slot;
    struct free_run *next;
} free_run_t;
static free_run_t *free_runs[VT__MAX_CELLS_PER_SERIES + 1];

void vt__cells_lock(void) {
    pthread_mutex_lock(&cells_mu);
}
void vt__cells_unlock(void) {
    pthread_mutex_unlock(&cells_mu);
}

static void shard_fold(void *arg);

static void make_key(void) {
    shard_key_ok = pthread_key_create(&shard_key, shard_fold) == 0;
}

static vt__shard_t *shard_new(void) {
    vt__shard_t *sh = vt__calloc(1, sizeof *sh);
    return sh;
}

static vt__cell_t *page_new(vt__shard_t *sh, uint32_t page) {
    /* One extra cache line so the page can start on a 64-byte boundary: pages
     * of two threads never share a line. */
    size_t bytes = VT__PAGE_CELLS * sizeof(vt__cell_t) + 64;
    char *raw = vt__malloc(bytes);
    if (!raw)
        return NULL;
    memset(raw, 0, bytes);
    uintptr_t p = ((uintptr_t)raw + 63) & ~(uintptr_t)63;
    sh->raw[page] = raw;
    vt__cell_t *cells = (vt__cell_t *)p;
    atomic_store_explicit(&sh->dir[page], cells, memory_order_release);
    return cells;
}

/* Where a write goes when the thread has no shard or page yet, or when memory
 * runs out: a per-thread scratch cell run that nobody reads. The hot path never
 * fails; an update lost to out-of-memory is the only update ever lost. */
static __thread vt__cell_t oom_cells[VT__MAX_CELLS_PER_SERIES];

vt__cell_t *vt__cell_slow(uint32_t slot) {
    vt__shard_t *sh = vt__tls_shard;
    if (!sh) {
        pthread_once(&shard_once, make_key);
        sh = shard_new();
        if (!sh)
            return oom_cells;
        pthread_mutex_lock(&cells_mu);
        sh->next = live_shards;
        live_shards = sh;
        pthread_mutex_unlock(&cells_mu);
        vt__tls_shard = sh;
        if (shard_key_ok)
            pthread_setspecific(shard_key, sh);
    }
    uint32_t page = slot >> VT__PAGE_SHIFT;
    if (page >= VT__DIR_PAGES)
        return oom_cells;
    vt__cell_t *cells = atomic_load_explicit(&sh->dir[page], memory_order_relaxed);
    if (!cells) {
        /* Publishing a page needs no lock: readers only ever load dir[]. */
        cells = page_new(sh, page);
        if (!cells)
            return oom_cells;
    }
    return cells + (slot & (VT__PAGE_CELLS - 1));
}

static vt__cell_t *retired_cells(uint32_t slot) {
    uint32_t page = slot >> VT__PAGE_SHIFT;
    vt__cell_t *cells = atomic_load_explicit(&retired->dir[page], memory_order_relaxed);
    if (!cells)
        cells = page_new(retired, page);
    return cells ? cells + (slot & (VT__PAGE_CELLS - 1)) : NULL;
}

/* Thread exit: fold the shard into the retired totals, then free it. */
static void shard_fold(void *arg) {
    vt__shard_t *sh = arg;
    pthread_mutex_lock(&cells_mu);
    if (!retired)
        retired = shard_new();
    for (vt__shard_t **pp = &live_shards; *pp; pp = &(*pp)->next) {
        if (*pp == sh) {
            *pp = sh->next;
            break;
        }
    }
    for (uint32_t page = 0; page < VT__DIR_PAGES && page * VT__PAGE_CELLS < slots_next; page++) {
        vt__cell_t *src = atomic_load_explicit(&sh->dir[page], memory_order_relaxed);
        if (!src)
            continue;
        for (uint32_t i = 0; i < VT__PAGE_CELLS; i++) {
            uint32_t slot = page * VT__PAGE_CELLS + i;
            if (slot >= slots_next)
                break;
            uint64_t v = atomic_load_explicit(&src[i], memory_order_relaxed);
            if (v == 0 || kinds[slot] == VT__CELL_SEQ)
                continue;
            vt__cell_t *dst = retired ? retired_cells(slot) : NULL;
            if (!dst)
                continue; /* out of memory while folding: these counts are lost */
            uint64_t old = atomic_load_explicit(dst, memory_order_relaxed);
            uint64_t sum = kinds[slot] == VT__CELL_F64
                               ? vt__f64_bits(vt__bits_f64(old) + vt__bits_f64(v))
                               : old + v;
            atomic_store_explicit(dst, sum, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&cells_mu);
    for (uint32_t page = 0; page < VT__DIR_PAGES; page++)
        vt__free(sh->raw[page]);
    if (vt__tls_shard == sh)
        vt__tls_shard = NULL;
    vt__free(sh);
}

int vt__slots_alloc(uint32_t n, const uint8_t *kind, uint32_t *out_slot) {
    if (n == 0 || n > VT__MAX_CELLS_PER_SERIES)
        return VT_EINVAL;
    pthread_mutex_lock(&cells_mu);
    uint32_t slot;
    free_run_t *run = free_runs[n];
    if (run) {
        free_runs[n] = run->next;
        slot = run->slot;
        vt__free(run);
    } else {
        slot = slots_next;
        uint32_t off = slot & (VT__PAGE_CELLS - 1);
        if (off + n > VT__PAGE_CELLS)
            slot += VT__PAGE_CELLS - off; /* a series never straddles a page */
        if ((uint64_t)slot + n > (uint64_t)VT__DIR_PAGES * VT__PAGE_CELLS) {
            pthread_mutex_unlock(&cells_mu);
            return VT_ELIMIT;
        }
        if (slot + n > slots_cap) {
            uint32_t cap = slots_cap ? slots_cap : 4096;
            while (cap < slot + n)
                cap *= 2;
            uint8_t *k = vt__realloc(kinds, cap);
            if (!k) {
                pthread_mutex_unlock(&cells_mu);
                return VT_ENOMEM;
            }
            memset(k + slots_cap, 0, cap - slots_cap);
            kinds = k;
            slots_cap = cap;
        }
        slots_next = slot + n;
    }
    memcpy(kinds + slot, kind, n);
    pthread_mutex_unlock(&cells_mu);
    *out_slot = slot;
    return 0;
}

static void zero_run(vt__shard_t *sh, uint32_t slot, uint32_t n) {
    vt__cell_t *cells =
        atomic_load_explicit(&sh->dir[slot >> VT__PAGE_SHIFT], memory_order_acquire);
    if (!cells)
        return;
    for (uint32_t i = 0; i < n; i++)
        atomic_store_explicit(&cells[(slot & (VT__PAGE_CELLS - 1)) + i], 0, memory_order_relaxed);
}

void vt__slots_free(uint32_t slot, uint32_t n) {
    free_run_t *run = vt__malloc(sizeof *run);
    pthread_mutex_lock(&cells_mu);
    for (vt__shard_t *sh = live_shards; sh; sh = sh->next)
        zero_run(sh, slot, n);
    if (retired)
        zero_run(retired, slot, n);
    if (run) { /* without memory the run is simply never reused */
        run->slot = slot;
        run->next = free_runs[n];
        free_runs[n] = run;
    }
    pthread_mutex_unlock(&cells_mu);
}

static inline uint64_t load_cell(vt__shard_t *sh, uint32_t slot) {
    vt__cell_t *cells =
        atomic_load_explicit(&sh->dir[slot >> VT__PAGE_SHIFT], memory_order_acquire);
    return cells ? atomic_load_explicit(&cells[slot & (VT__PAGE_CELLS - 1)], memory_order_relaxed)
                 : 0;
}

uint64_t vt__sum_u64(uint32_t slot) {
    uint64_t total = retired ? load_cell(retired, slot) : 0;
    for (vt__shard_t *sh = live_shards; sh; sh = sh->next)
        total += load_cell(sh, slot);
    return total;
}

double vt__sum_f64(uint32_t slot) {
    double total = retired ? vt__bits_f64(load_cell(retired, slot)) : 0.0;
    for (vt__shard_t *sh = live_shards; sh; sh = sh->next)
        total += vt__bits_f64(load_cell(sh, slot));
    return total;
}

static void add_run(const vt__cell_t *cells, uint32_t n, const uint8_t *kind, uint64_t *out_u,
                    double *out_f, const uint64_t *copy) {
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = copy ? copy[i] : atomic_load_explicit(&cells[i], memory_order_relaxed);
        if (kind[i] == VT__CELL_U64)
            out_u[i] += v;
        else if (kind[i] == VT__CELL_F64)
            out_f[i] += vt__bits_f64(v);
    }
}

void vt__sum_seq(uint32_t slot, uint32_t n, const uint8_t *kind, uint64_t *out_u, double *out_f) {
    uint64_t copy[VT__MAX_CELLS_PER_SERIES];
    uint32_t off = slot & (VT__PAGE_CELLS - 1);
    if (retired) {
        vt__cell_t *cells =
            atomic_load_explicit(&retired->dir[slot >> VT__PAGE_SHIFT], memory_order_relaxed);
        if (cells)
            add_run(cells + off, n, kind, out_u, out_f, NULL);
    }
    for (vt__shard_t *sh = live_shards; sh; sh = sh->next) {
        vt__cell_t *cells =
            atomic_load_explicit(&sh->dir[slot >> VT__PAGE_SHIFT], memory_order_acquire);
        if (!cells)
            continue;
        cells += off;
        for (unsigned spins = 0;; spins++) {
            uint64_t s1 = atomic_load_explicit(&cells[0], memory_order_acquire);
            if (!(s1 & 1)) {
                for (uint32_t i = 1; i < n; i++)
                    copy[i] = atomic_load_explicit(&cells[i], memory_order_acquire);
                if (atomic_load_explicit(&cells[0], memory_order_relaxed) == s1)
                    break;
            }
            if (spins > 64)
                sched_yield(); /* the writer is mid-update or was preempted there */
        }
        copy[0] = 0;
        add_run(NULL, n, kind, out_u, out_f, copy);
    }
}

/* Copy a run's cells of one shard (zeros where it has no page). */
static void copy_run(vt__shard_t *sh, const vt__cell_run_t *r, uint64_t *dst) {
    vt__cell_t *cells =
        atomic_load_explicit(&sh->dir[r->slot >> VT__PAGE_SHIFT], memory_order_acquire);
    if (!cells) {
        memset(dst, 0, r->len * sizeof *dst);
        return;
    }
    cells += r->slot & (VT__PAGE_CELLS - 1);
    for (uint32_t i = 0; i < r->len; i++)
        dst[i] = atomic_load_explicit(&cells[i], memory_order_acquire);
}

static void copy_runs(vt__shard_t *sh, const vt__cell_run_t *runs, size_t nruns, uint64_t *dst) {
    for (size_t k = 0; k < nruns; k++) {
        copy_run(sh, &runs[k], dst);
        dst += runs[k].len;
    }
}

static void add_cells(uint64_t *out, const uint64_t *in, size_t n) {
    for (size_t i = 0; i < n; i++)
        out[i] += in[i];
}

void vt__sum_seq_runs(uint32_t slot, uint32_t n, const uint8_t *kind, uint64_t *out_u,
                      double *out_f, const vt__cell_run_t *runs, size_t nruns, uint64_t *out_runs,
                      uint64_t *scratch) {
    size_t total = 0;
    for (size_t k = 0; k < nruns; k++)
        total += runs[k].len;
    if (retired) {
        copy_runs(retired, runs, nruns, scratch);
        add_cells(out_runs, scratch, total);
        vt__cell_t *cells =
            slot == UINT32_MAX
                ? NULL
                : atomic_load_explicit(&retired->dir[slot >> VT__PAGE_SHIFT], memory_order_relaxed);
        if (cells)
            add_run(cells + (slot & (VT__PAGE_CELLS - 1)), n, kind, out_u, out_f, NULL);
    }
    uint64_t copy[VT__MAX_CELLS_PER_SERIES];
    for (vt__shard_t *sh = live_shards; sh; sh = sh->next) {
        if (slot == UINT32_MAX) {
            copy_runs(sh, runs, nruns, scratch);
            add_cells(out_runs, scratch, total);
            continue;
        }
        vt__cell_t *cells =
            atomic_load_explicit(&sh->dir[slot >> VT__PAGE_SHIFT], memory_order_acquire);
        if (!cells)
            continue; /* the thread never observed: its bracket opens after this page exists */
        cells += slot & (VT__PAGE_CELLS - 1);
        for (unsigned spins = 0;; spins++) {
            uint64_t s1 = atomic_load_explicit(&cells[0], memory_order_acquire);
            if (!(s1 & 1)) {
                for (uint32_t i = 1; i < n; i++)
                    copy[i] = atomic_load_explicit(&cells[i], memory_order_acquire);
                copy_runs(sh, runs, nruns, scratch);
                if (atomic_load_explicit(&cells[0], memory_order_relaxed) == s1)
                    break;
            }
            if (spins > 64)
                sched_yield(); /* the writer is mid-update or was preempted there */
        }
        copy[0] = 0;
        add_run(NULL, n, kind, out_u, out_f, copy);
        add_cells(out_runs, scratch, total);
    }
}
