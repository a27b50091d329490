/* SPDX-License-Identifier: Apache-2.0 */
/*
 * process_* metrics (see process.h). Every read is bounded: /proc/self/stat
 * and /proc/stat lines are read into fixed buffers, and the descriptor count
 * stops at the soft limit (there cannot be more).
 */
#include "server/process.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

/* Reads up to size-1 bytes of path into buf (NUL-ended). Returns the length, or -1. */
static long read_small(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        return -1;
    }
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

/* Field number `field` (1-based, as in proc(5)) of /proc/self/stat, or -1. */
static long long stat_field(const char *stat, int field)
{
    /* comm (field 2) may hold spaces and parentheses: count from the last ')'. */
    const char *p = strrchr(stat, ')');
    if (!p) {
        return -1;
    }
    p++;
    for (int i = 3; i <= field; i++) {
        while (*p == ' ') {
            p++;
        }
        if (!*p) {
            return -1;
        }
        if (i == field) {
            char *end = NULL;
            long long v = strtoll(p, &end, 10);
            return end != p ? v : -1;
        }
        p = strchr(p, ' ');
        if (!p) {
            return -1;
        }
    }
    return -1;
}

/* The boot time (btime of /proc/stat, Unix seconds), or -1. */
static long long boot_time(void)
{
    char buf[16384];
    if (read_small("/proc/stat", buf, sizeof(buf)) < 0) {
        return -1;
    }
    const char *p = strstr(buf, "\nbtime ");
    return p ? strtoll(p + 7, NULL, 10) : -1;
}

/* Open descriptors (entries of /proc/self/fd, less the one reading it), or -1. */
static long long open_fds(unsigned long long limit)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return -1;
    }
    long long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && (unsigned long long)n <= limit) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n > 0 ? n - 1 : 0;
}

/* One metric family of one sample, v written with `decimals` digits after the point. */
static int gauge(struct pl_buf *out, const char *name, const char *type, const char *help,
                 int decimals, double v)
{
    return pl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.*f\n", name, help, name, type, name,
                         decimals, v);
}

int pl_process_metrics_render(struct pl_buf *out)
{
    struct rusage ru;
    int r = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        r = gauge(out, "process_cpu_seconds_total", "counter",
                  "Total user and system CPU time spent in seconds.", 6, cpu);
    }
    char stat[4096];
    long page = sysconf(_SC_PAGESIZE);
    long ticks = sysconf(_SC_CLK_TCK);
    if (r == 0 && read_small("/proc/self/stat", stat, sizeof(stat)) > 0) {
        long long vsize = stat_field(stat, 23), rss = stat_field(stat, 24);
        long long start = stat_field(stat, 22), boot = boot_time();
        if (vsize >= 0) {
            r = gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
                      0, (double)vsize);
        }
        if (r == 0 && rss >= 0 && page > 0) {
            r = gauge(out, "process_resident_memory_bytes", "gauge",
                      "Resident memory size in bytes.", 0, (double)rss * (double)page);
        }
        if (r == 0 && start >= 0 && boot > 0 && ticks > 0) {
            r = gauge(out, "process_start_time_seconds", "gauge",
                      "Start time of the process since unix epoch in seconds.", 2,
                      (double)boot + (double)start / (double)ticks);
        }
    }
    struct rlimit rl;
    if (r == 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        unsigned long long limit = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : rl.rlim_cur;
        long long fds = open_fds(limit);
        if (fds >= 0) {
            r = gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.", 0,
                      (double)fds);
        }
        if (r == 0) {
            r = gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                      0, (double)limit);
        }
    }
    return r;
}
