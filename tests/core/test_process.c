/* test_process.c - the process collector reports this very process, and follows it as it changes.
 *
 * Every value is checked against an independent reading (getrlimit, a count
 * of /proc/self/fd, the clock) or against a change the test makes: opening a
 * file, burning CPU, starting a thread, lowering the descriptor limit. The
 * text output is also handed to promtool when it is installed.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vitals.h"

/* One text scrape of reg; the caller frees it with vt_buf_free(). */
static vt_buf_t scrape_as(vt_registry_t *reg, vt_format_t format) {
    vt_buf_t buf = {0};
    vt_write_opts_t opts;
    vt_write_opts_init(&opts);
    opts.format = format;
    int rc = vt_registry_write_buf(reg, &opts, &buf);
    CHECK_INT(rc, 0);
    return buf;
}

/* The value of the unlabelled sample called name, or NaN when it is absent. */
static double sample(const char *text, const char *name) {
    size_t len = strlen(name);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, name, len) == 0 && line[len] == ' ') {
            return strtod(line + len + 1, NULL);
        }
        line = strchr(line, '\n');
        if (line) {
            line++;
        }
    }
    return NAN;
}

static double scrape_value(vt_registry_t *reg, const char *name) {
    vt_buf_t buf = scrape_as(reg, VT_FORMAT_TEXT);
    double v = buf.data ? sample(buf.data, name) : NAN;
    vt_buf_free(&buf);
    return v;
}

static vt_registry_t *process_registry(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    if (reg) {
        CHECK_INT(vt_process_collector_register(reg), 0);
    }
    return reg;
}

/* Counted the plain way: readdir, less the directory's own descriptor. */
static double fds_by_readdir(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return -1;
    }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            n++;
        }
    }
    closedir(d);
    return n - 1;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_every_metric_present(void) {
    vt_registry_t *reg = process_registry();
    if (!reg) {
        return;
    }
    vt_buf_t buf = scrape_as(reg, VT_FORMAT_TEXT);
    const char *text = buf.data ? buf.data : "";
    static const char *const families[][2] = {
        {"process_cpu_seconds_total", "counter"},
        {"process_open_fds", "gauge"},
        {"process_max_fds", "gauge"},
        {"process_virtual_memory_bytes", "gauge"},
        {"process_resident_memory_bytes", "gauge"},
        {"process_start_time_seconds", "gauge"},
        {"process_threads", "gauge"},
    };
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "# TYPE %s %s\n", families[i][0], families[i][1]);
        CHECK_CONTAINS(text, line);
        snprintf(line, sizeof line, "# HELP %s ", families[i][0]);
        CHECK_CONTAINS(text, line);
        CHECK(!isnan(sample(text, families[i][0])));
    }

    double resident = sample(text, "process_resident_memory_bytes");
    double virt = sample(text, "process_virtual_memory_bytes");
    CHECK(resident > 0);
    CHECK(virt >= resident);
    long page = sysconf(_SC_PAGESIZE);
    CHECK(fmod(resident, (double)page) == 0);

    double start = sample(text, "process_start_time_seconds");
    double now = (double)time(NULL);
    CHECK(start <= now + 1);
    CHECK(start >= now - 60);

    CHECK(sample(text, "process_cpu_seconds_total") >= 0);
    CHECK(sample(text, "process_threads") >= 1);
    vt_buf_free(&buf);
    vt_registry_destroy(reg);
}

static void test_openmetrics_names_and_units(void) {
    vt_registry_t *reg = process_registry();
    if (!reg) {
        return;
    }
    vt_buf_t buf = scrape_as(reg, VT_FORMAT_OPENMETRICS);
    const char *text = buf.data ? buf.data : "";
    CHECK_CONTAINS(text, "# TYPE process_cpu_seconds counter\n");
    CHECK_CONTAINS(text, "# UNIT process_cpu_seconds seconds\n");
    CHECK_CONTAINS(text, "\nprocess_cpu_seconds_total ");
    CHECK_CONTAINS(text, "# UNIT process_resident_memory_bytes bytes\n");
    CHECK_CONTAINS(text, "# UNIT process_start_time_seconds seconds\n");
    CHECK(!isnan(sample(text, "process_threads")));
    CHECK_CONTAINS(text, "# EOF\n");
    vt_buf_free(&buf);
    vt_registry_destroy(reg);
}

static void test_open_fds_follow_open_and_close(void) {
    vt_registry_t *reg = process_registry();
    if (!reg) {
        return;
    }
    double before = scrape_value(reg, "process_open_fds");
    CHECK_DBL(before, fds_by_readdir());
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_DBL(scrape_value(reg, "process_open_fds"), before + 1);
    int fd2 = dup(fd);
    CHECK_DBL(scrape_value(reg, "process_open_fds"), before + 2);
    close(fd2);
    close(fd);
    CHECK_DBL(scrape_value(reg, "process_open_fds"), before);
    vt_registry_destroy(reg);
}

static void test_max_fds_is_the_soft_limit(void) {
    vt_registry_t *reg = process_registry();
    if (!reg) {
        return;
    }
    struct rlimit rl;
    CHECK_INT(getrlimit(RLIMIT_NOFILE, &rl), 0);
    double want = rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
    CHECK_DBL(scrape_value(reg, "process_max_fds"), want);

    /* Lowering the soft limit shows on the next scrape; then restore it. */
    struct rlimit lower = rl;
    lower.rlim_cur = 200;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= 200) {
        lower.rlim_cur = rl.rlim_cur - 1;
    }
    CHECK_INT(setrlimit(RLIMIT_NOFILE, &lower), 0);
    CHECK_DBL(scrape_value(reg, "process_max_fds"), (double)lower.rlim_cur);
    CHECK_INT(setrlimit(RLIMIT_NOFILE, &rl), 0);
    CHECK_DBL(scrape_value(reg, "process_max_fds"), want);
    vt_registry_destroy(reg);
}

static volatile double burn_sink;

static double rusage_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Both kinds of CPU time count: user time in a loop, kernel time in read(). */
static void test_cpu_seconds_grow_with_work(void) {
    vt_registry_t *reg = process_registry();
    if (!reg) {
        return;
    }
    double before = scrape_value(reg, "process_cpu_seconds_total");
    double start = cpu_now();
    double x = 1.0;
    while (cpu_now() - start < 0.2) {
        for (int i = 0; i < 100000; i++) {
            x = x * 1.0000001 + 1e-9;
        }
    }
    burn_sink = x;
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    CHECK(zero >= 0);
    static char block[1 << 16];
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    do {
        for (int i = 0; i < 100 && zero >= 0; i++) {
            CHECK(read(zero, block, sizeof block) == (ssize_t)sizeof block);
        }
        getrusage(RUSAGE_SELF, &ru1);
    } while ((double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6 <
             0.2);
    close(zero);
    double used = cpu_now() - start;
    double after = scrape_value(reg, "process_cpu_seconds_total");
    double total = rusage_seconds();
    /* The kernel counts in clock ticks (usually 10 ms): allow a few. */
    CHECK(after - before >= used - 0.05);
    CHECK(fabs(after - total) <= 0.05);
    vt_registry_destroy(reg);
}

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void *wait_at_gate(void *arg) {
    (void)arg;
    pthread_mutex_lock(&gate_lock);
    while (!gate_open) {
        pthread_cond_wait(&gate_cond, &gate_lock);
    }
    pthread_mutex_unlock(&gate_lock);
    return NULL;
}

/* Threads counted another way: the entries of /proc/self/task. */
static double tasks(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        return -1;
    }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

/* The scraped thread count once it agrees with /proc/self/task read just
 * before and after; threads that sanitizer runtimes start on their own, and
 * threads the kernel is still reaping after a join, settle within a second. */
static double settled_threads(vt_registry_t *reg) {
    double v = NAN;
    for (int i = 0; i < 100; i++) {
        double t0 = tasks();
        v = scrape_value(reg, "process_threads");
        if (t0 == v && tasks() == v) {
            return v;
        }
        usleep(10000);
    }
    return v;
}

static void test_threads_follow_pthreads(void) {
    vt_registry_t *reg = process_registry();
    if (!reg) {
        return;
    }
    double before = settled_threads(reg);
    CHECK(before >= 1);
    CHECK_DBL(before, tasks());
    gate_open = 0;
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, wait_at_gate, NULL), 0);
    double during = settled_threads(reg);
    CHECK(during >= before + 1);
    CHECK_DBL(during, tasks());
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    pthread_join(t, NULL);
    double after = settled_threads(reg);
    CHECK(after <= during);
    CHECK_DBL(after, tasks());
    vt_registry_destroy(reg);
}

static void test_duplicates_and_bad_arguments(void) {
    CHECK_INT(vt_process_collector_register(NULL), VT_EINVAL);

    vt_registry_t *reg = process_registry();
    if (!reg) {
        return;
    }
    CHECK_INT(vt_process_collector_register(reg), VT_EDUPLICATE);
    /* A family may not take one of the collector's names either way round. */
    vt_counter_t *c = NULL;
    CHECK_INT(vt_counter_create(reg, "process_cpu_seconds", "x", NULL, &c), VT_EDUPLICATE);
    vt_gauge_t *g = NULL;
    CHECK_INT(vt_gauge_create(reg, "process_threads", "x", NULL, &g), VT_EDUPLICATE);
    /* The refused calls changed nothing: one copy of each family. */
    vt_buf_t buf = scrape_as(reg, VT_FORMAT_TEXT);
    const char *text = buf.data ? buf.data : "";
    const char *first = strstr(text, "# TYPE process_threads gauge");
    CHECK(first != NULL);
    CHECK(first == NULL || strstr(first + 1, "# TYPE process_threads") == NULL);
    vt_buf_free(&buf);
    vt_registry_destroy(reg);

    vt_registry_t *other = NULL;
    CHECK_INT(vt_registry_create(&other), 0);
    if (!other) {
        return;
    }
    CHECK_INT(vt_gauge_create(other, "process_open_fds", "mine", NULL, &g), 0);
    CHECK_INT(vt_process_collector_register(other), VT_EDUPLICATE);
    buf = scrape_as(other, VT_FORMAT_TEXT);
    CHECK(buf.data == NULL || strstr(buf.data, "process_threads") == NULL);
    CHECK_CONTAINS(buf.data ? buf.data : "", "# HELP process_open_fds mine\n");
    vt_buf_free(&buf);
    vt_registry_destroy(other);
}

/* Scrapes from several threads at once share the collector's state. */
static void *scrape_many(void *arg) {
    vt_registry_t *reg = arg;
    for (int i = 0; i < 200; i++) {
        vt_buf_t buf = {0};
        if (vt_registry_write_buf(reg, NULL, &buf) != 0 || !buf.data ||
            !strstr(buf.data, "process_threads ")) {
            vt_buf_free(&buf);
            return (void *)1;
        }
        vt_buf_free(&buf);
    }
    return NULL;
}

static void test_concurrent_scrapes(void) {
    vt_registry_t *reg = process_registry();
    if (!reg) {
        return;
    }
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        CHECK_INT(pthread_create(&t[i], NULL, scrape_many, reg), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *bad = NULL;
        pthread_join(t[i], &bad);
        CHECK(bad == NULL);
    }
    vt_registry_destroy(reg);
}

static void test_promtool_accepts_the_text(void) {
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        printf("note: promtool not installed; lint check not run\n");
        return;
    }
    vt_registry_t *reg = process_registry();
    if (!reg) {
        return;
    }
    vt_buf_t buf = scrape_as(reg, VT_FORMAT_TEXT);
    FILE *p = popen("promtool check metrics >/dev/null", "w");
    CHECK(p != NULL);
    if (p) {
        fwrite(buf.data ? buf.data : "", 1, buf.len, p);
        int status = pclose(p);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    vt_buf_free(&buf);
    vt_registry_destroy(reg);
}

int main(void) {
    if (access("/proc/self/stat", R_OK) != 0) {
        SKIP_ALL("no /proc: the process collector emits nothing here");
    }
    RUN(test_every_metric_present);
    RUN(test_openmetrics_names_and_units);
    RUN(test_open_fds_follow_open_and_close);
    RUN(test_max_fds_is_the_soft_limit);
    RUN(test_cpu_seconds_grow_with_work);
    RUN(test_threads_follow_pthreads);
    RUN(test_duplicates_and_bad_arguments);
    RUN(test_concurrent_scrapes);
    RUN(test_promtool_accepts_the_text);
    TEST_EXIT();
}
