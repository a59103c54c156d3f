/* process.c - the process collector: CPU, memory, descriptors, threads and start time from /proc.
 *
 * Each scrape reads /proc/self/stat once (CPU time, threads, virtual and
 * resident memory), counts /proc/self/fd and asks getrlimit() for the
 * descriptor limit. The start time never changes, so it is worked out once at
 * registration from the process's start tick and the boot time in /proc/stat,
 * and again on each scrape only if that first try failed. A value that cannot
 * be read is left out of that scrape; the scrape itself never fails.
 *
 * A scrape allocates nothing here: files are read with read() into stack
 * buffers and the descriptor directory with getdents64. The collector's state
 * is written only during registration, so concurrent scrapes share it freely.
 *
 * SPDX-License-Identifier: MIT
 */
#include "vitals/process.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "internal.h"

/* Constant facts about the process, gathered at registration. */
typedef struct proc_state {
    double ticks_per_second; /* sysconf(_SC_CLK_TCK); 0 when unknown */
    double page_size;        /* bytes per page; 0 when unknown */
    double start_time;       /* seconds since the epoch; NaN when not yet known */
} proc_state;

/* The fields of /proc/self/stat the collector writes. */
typedef struct self_stat {
    uint64_t utime, stime; /* CPU time in user and kernel mode, in ticks */
    uint64_t num_threads;
    uint64_t starttime; /* ticks after boot */
    uint64_t vsize;     /* bytes */
    uint64_t rss;       /* pages */
} self_stat;

static const char *const names[] = {"process_cpu_seconds_total",
                                    "process_cpu_seconds",
                                    "process_open_fds",
                                    "process_max_fds",
                                    "process_virtual_memory_bytes",
                                    "process_resident_memory_bytes",
                                    "process_start_time_seconds",
                                    "process_threads",
                                    NULL};

/* Reads up to size - 1 bytes of a small file and NUL-terminates them.
 * Returns the length, or -1. */
static long read_small(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t len = 0;
    while (len < size - 1) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return len ? (long)len : -1;
}

/* Reads one non-negative decimal field; 0 on success. Negative numbers (no
 * field this file needs can be one) count as a parse failure. */
static int parse_u64(const char **pp, uint64_t *out) {
    const char *p = *pp;
    while (*p == ' ') {
        p++;
    }
    if (*p < '0' || *p > '9') {
        return -1;
    }
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *pp = p;
    *out = v;
    return 0;
}

static const char *skip_field(const char *p) {
    while (*p == ' ') {
        p++;
    }
    while (*p && *p != ' ') {
        p++;
    }
    return p;
}

/* Parses "pid (comm) state ppid ...". comm is the executable's name as the
 * process set it: it may hold spaces and ')', so the fields start after the
 * last ')'. Field numbers follow proc(5). */
static int parse_stat(const char *text, self_stat *out) {
    const char *p = strrchr(text, ')');
    if (!p) {
        return -1;
    }
    p++;
    for (int field = 3; field <= 24; field++) {
        uint64_t *dst = NULL;
        switch (field) {
        case 14:
            dst = &out->utime;
            break;
        case 15:
            dst = &out->stime;
            break;
        case 20:
            dst = &out->num_threads;
            break;
        case 22:
            dst = &out->starttime;
            break;
        case 23:
            dst = &out->vsize;
            break;
        case 24:
            dst = &out->rss;
            break;
        default:
            break;
        }
        if (dst) {
            if (parse_u64(&p, dst) != 0) {
                return -1;
            }
        } else {
            p = skip_field(p);
        }
        if (*p != ' ' && *p != '\n' && *p != '\0') {
            return -1;
        }
    }
    return 0;
}

static int read_self_stat(self_stat *out) {
    char buf[2048];
    if (read_small("/proc/self/stat", buf, sizeof buf) < 0) {
        return -1;
    }
    return parse_stat(buf, out);
}

/* The "btime" line of /proc/stat: boot time in seconds since the epoch. The
 * file can be long (one interrupt counter per IRQ), so it is scanned line by
 * line; a line's later pieces are told apart by whether the previous piece
 * ended it. */
static int read_boot_time(uint64_t *out) {
    FILE *f = fopen("/proc/stat", "re");
    if (!f) {
        return -1;
    }
    char line[256];
    int at_line_start = 1, rc = -1;
    while (fgets(line, sizeof line, f)) {
        if (at_line_start && strncmp(line, "btime ", 6) == 0) {
            const char *p = line + 6;
            rc = parse_u64(&p, out);
            break;
        }
        at_line_start = strchr(line, '\n') != NULL;
    }
    fclose(f);
    return rc;
}

static double start_time(const proc_state *st, const self_stat *s) {
    uint64_t boot;
    if (st->ticks_per_second <= 0 || read_boot_time(&boot) != 0) {
        return NAN;
    }
    return (double)boot + (double)s->starttime / st->ticks_per_second;
}

/* Open descriptors: the entries of /proc/self/fd other than "." and "..",
 * less the one this function opened to read it. -1 when it cannot be read. */
static double count_open_fds(void) {
#if defined(__linux__) && defined(SYS_getdents64)
    int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    /* The kernel's struct linux_dirent64 records: inode (8 bytes), offset (8),
     * record length (2), type (1), then the NUL-terminated name. */
    _Alignas(8) char buf[4096];
    long count = 0, n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off + 19 < n;) {
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            const char *name = buf + off + 19;
            if (!(name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))) {
                count++;
            }
            if (reclen == 0) {
                break;
            }
            off += reclen;
        }
    }
    close(fd);
    if (n < 0 || count < 1) {
        return -1;
    }
    return (double)(count - 1);
#else
    return -1;
#endif
}

/* The soft RLIMIT_NOFILE; +Inf when unlimited, -1 when unknown. */
static double max_fds(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return -1;
    }
    if (rl.rlim_cur == RLIM_INFINITY) {
        return INFINITY;
    }
    return (double)rl.rlim_cur;
}

/* One family with one unlabelled sample. A failure drops only this family,
 * which the emitter counts; the collector goes on with the next one. */
static void emit(vt_emitter_t *e, vt_type_t type, const char *name, const char *help,
                 const char *unit, double value) {
    if (vt_emit_family(e, type, name, help, unit, NULL) == 0) {
        vt_emit_value(e, NULL, value);
    }
}

static int collect(vt_emitter_t *e, void *user_data) {
    const proc_state *st = user_data;
    self_stat s;
    int have_stat = read_self_stat(&s) == 0;

    if (have_stat && st->ticks_per_second > 0) {
        emit(e, VT_COUNTER, "process_cpu_seconds_total",
             "CPU time the process has spent in user and kernel mode, in seconds.", "seconds",
             (double)(s.utime + s.stime) / st->ticks_per_second);
    }
    double fds = count_open_fds();
    if (fds >= 0) {
        emit(e, VT_GAUGE, "process_open_fds", "File descriptors the process holds open.", NULL,
             fds);
    }
    double limit = max_fds();
    if (limit >= 0) {
        emit(e, VT_GAUGE, "process_max_fds",
             "Most file descriptors the process may open: the soft RLIMIT_NOFILE.", NULL, limit);
    }
    if (have_stat) {
        emit(e, VT_GAUGE, "process_virtual_memory_bytes",
             "Size of the process's virtual address space, in bytes.", "bytes", (double)s.vsize);
    }
    if (have_stat && st->page_size > 0) {
        emit(e, VT_GAUGE, "process_resident_memory_bytes",
             "Memory of the process that is resident in RAM, in bytes.", "bytes",
             (double)s.rss * st->page_size);
    }
    double started = st->start_time;
    if (isnan(started) && have_stat) {
        started = start_time(st, &s);
    }
    if (!isnan(started)) {
        emit(e, VT_GAUGE, "process_start_time_seconds",
             "When the process started, in seconds since the Unix epoch.", "seconds", started);
    }
    if (have_stat) {
        emit(e, VT_GAUGE, "process_threads", "Operating system threads in the process.", NULL,
             (double)s.num_threads);
    }
    return 0;
}

static void release(void *user_data) {
    vt__free(user_data);
}

int vt_process_collector_register(vt_registry_t *reg) {
    if (!reg) {
        return VT_EINVAL;
    }
    proc_state *st = vt__calloc(1, sizeof *st);
    if (!st) {
        return VT_ENOMEM;
    }
    long ticks = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    st->ticks_per_second = ticks > 0 ? (double)ticks : 0;
    st->page_size = page > 0 ? (double)page : 0;
    st->start_time = NAN;
    self_stat s;
    if (read_self_stat(&s) == 0) {
        st->start_time = start_time(st, &s);
    }
    int rc = vt_registry_add_collector(reg, names, collect, st, release, NULL);
    if (rc != 0) {
        vt__free(st);
    }
    return rc;
}
