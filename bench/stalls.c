/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stalls: how long this machine takes the CPUs away, and what that alone
 * does to latency at a fixed request rate (bench/run.sh).
 *
 * One thread per --cpu, pinned to it, reads CLOCK_MONOTONIC in a loop for
 * --seconds. Two readings more than GAP_NS apart mean the thread did not run
 * in between: the hypervisor ran another guest, or an interrupt, a kernel
 * thread or another process had the CPU. Every such gap is recorded.
 *
 * Then it replays requests due every 1/--rate seconds over the same window
 * against the gaps of all the CPUs together, as a server that answers in no
 * time would see them: a request due while some CPU is away is answered when
 * that CPU is back. It prints the p50/p99/p99.9 of those latencies. A request
 * needs both CPUs (the load generator's to send and read, the server's to
 * answer), and a real answer takes time of its own, so a real server on this
 * machine can only do worse: this is the floor the machine puts under the
 * tail-latency target, measured in the same run.
 *
 * Output: one line of key=value pairs on stdout.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CPUS   8
#define MAX_GAPS   (1u << 20) /* per CPU; a gap every microsecond for a second */
#define GAP_NS     20000ull   /* shorter pauses are the loop itself and cache misses */
#define NS_PER_SEC 1000000000ull

struct gap {
    uint64_t start, end;
};

struct watcher {
    int cpu;
    uint64_t until;
    struct gap *gaps;
    size_t n_gaps;
    size_t ge_1ms, ge_2ms;
    uint64_t lost_ns;
    int error;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void *watch(void *arg)
{
    struct watcher *w = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        w->error = 1;
        return NULL;
    }
    uint64_t last = now_ns();
    while (last < w->until) {
        uint64_t t = now_ns();
        uint64_t gap = t - last;
        if (gap >= GAP_NS) {
            w->lost_ns += gap;
            w->ge_1ms += gap >= 1000000ull;
            w->ge_2ms += gap >= 2000000ull;
            if (w->n_gaps < MAX_GAPS) {
                w->gaps[w->n_gaps++] = (struct gap){last, t};
            }
        }
        last = t;
    }
    return NULL;
}

static int by_start(const void *a, const void *b)
{
    const struct gap *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_us(const uint64_t *v, size_t n, double q)
{
    size_t i = (size_t)(q * (double)n);
    return (double)v[i < n ? i : n - 1] / 1000.0;
}

static void usage(void)
{
    fprintf(stderr, "usage: stalls --seconds S --cpu N [--cpu N]... [--rate R]\n");
    exit(2);
}

/* The number s, which must lie in [lo, hi]. */
static double number(const char *s, double lo, double hi)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) {
        usage();
    }
    return v;
}

int main(int argc, char **argv)
{
    double seconds = 0, rate = 1000;
    struct watcher w[MAX_CPUS];
    size_t n_cpus = 0;
    /* Options come in pairs: --name value. */
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
        } else if (strcmp(argv[i], "--seconds") == 0) {
            seconds = number(v, 0.1, 600);
        } else if (strcmp(argv[i], "--rate") == 0) {
            rate = number(v, 1, 1e6);
        } else if (strcmp(argv[i], "--cpu") == 0 && n_cpus < MAX_CPUS) {
            w[n_cpus++] = (struct watcher){.cpu = (int)number(v, 0, CPU_SETSIZE - 1)};
        } else {
            usage();
        }
    }
    if (seconds == 0 || n_cpus == 0) {
        usage();
    }

    uint64_t start = now_ns();
    uint64_t until = start + (uint64_t)(seconds * 1e9);
    pthread_t threads[MAX_CPUS];
    for (size_t i = 0; i < n_cpus; i++) {
        w[i].until = until;
        w[i].gaps = malloc(MAX_GAPS * sizeof(*w[i].gaps));
        if (!w[i].gaps || pthread_create(&threads[i], NULL, watch, &w[i]) != 0) {
            fprintf(stderr, "stalls: cannot start a thread\n");
            return 1;
        }
    }
    size_t n_all = 0;
    for (size_t i = 0; i < n_cpus; i++) {
        pthread_join(threads[i], NULL);
        if (w[i].error) {
            fprintf(stderr, "stalls: cannot run on CPU %d\n", w[i].cpu);
            return 1;
        }
        n_all += w[i].n_gaps;
    }

    /* Every CPU's gaps by start time; a request due at t waits until the
     * latest end of the gaps begun by t (zero when that is before t). */
    struct gap *all = malloc((n_all + 1) * sizeof(*all));
    size_t n_req = (size_t)(seconds * rate);
    uint64_t *lat = malloc((n_req + 1) * sizeof(*lat));
    if (!all || !lat) {
        fprintf(stderr, "stalls: out of memory\n");
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_cpus; i++) {
        memcpy(all + k, w[i].gaps, w[i].n_gaps * sizeof(*all));
        k += w[i].n_gaps;
    }
    qsort(all, n_all, sizeof(*all), by_start);
    uint64_t latest_end = 0;
    size_t g = 0;
    for (size_t r = 0; r < n_req; r++) {
        uint64_t due = start + (uint64_t)(((double)r + 0.5) * 1e9 / rate);
        for (; g < n_all && all[g].start <= due; g++) {
            latest_end = all[g].end > latest_end ? all[g].end : latest_end;
        }
        lat[r] = latest_end > due ? latest_end - due : 0;
    }
    qsort(lat, n_req, sizeof(*lat), by_value);

    printf("stalls seconds=%.1f rate=%.0f", seconds, rate);
    for (size_t i = 0; i < n_cpus; i++) {
        printf(" cpu%d_ge1ms_per_s=%.2f cpu%d_ge2ms_per_s=%.2f cpu%d_lost_pct=%.2f", w[i].cpu,
               (double)w[i].ge_1ms / seconds, w[i].cpu, (double)w[i].ge_2ms / seconds, w[i].cpu,
               (double)w[i].lost_ns / (seconds * 1e7));
    }
    printf(" p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f requests=%zu\n",
           percentile_us(lat, n_req, 0.50), percentile_us(lat, n_req, 0.99),
           percentile_us(lat, n_req, 0.999), n_req ? (double)lat[n_req - 1] / 1000.0 : 0.0, n_req);
    for (size_t i = 0; i < n_cpus; i++) {
        free(w[i].gaps);
    }
    free(all);
    free(lat);
    return 0;
}
