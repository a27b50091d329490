/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stalls: how long this machine takes the CPUs away, and what that alone
 * does to latency at a fixed request rate (bench/run.sh).
 *
 * One thread per --cpu, pinned to it, reads CLOCK_MONOTONIC in a loop for
 * --seconds. Two readings GAP_NS or more apart mean the thread did not run
 * in between: the hypervisor ran another guest, or an interrupt, a kernel
 * thread or another process had the CPU. Every such gap is recorded.
 *
 * Then it replays requests due every 1/--rate seconds over the same window
 * against the gaps of all the CPUs together, as a server that answers in no
 * time would meet them. A request needs every CPU watched (the load
 * generator's to send and read, the server's to answer), so one due while
 * any of them is away waits until none is. It prints the p50/p99/p99.9 of
 * those waits: an estimate of the floor the machine puts under the
 * tail-latency target, measured in the same run. Not a strict bound: a real
 * answer takes time of its own (and a pause in its middle costs more), but
 * the spinning threads keep every CPU busy, and a hypervisor may take a busy
 * virtual CPU away more often than a mostly idle one.
 *
 * Output: one line of key=value pairs on stdout.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/measure.h"

#define MAX_CPUS 8
#define GAP_NS   20000ull /* shorter pauses are the loop itself and cache misses */
/* Per CPU. Gaps are at least GAP_NS apart in start, so at most 50,000 a
 * second: the longest window (MAX_SECONDS) fits. */
#define MAX_SECONDS  60.0
#define MAX_GAPS     ((size_t)(MAX_SECONDS * 1e9 / GAP_NS))
#define MAX_REQUESTS 10000000.0

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

struct options {
    double seconds, rate;
    struct watcher w[MAX_CPUS];
    size_t n_cpus;
};

static void *watch(void *arg)
{
    struct watcher *w = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    int r = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (r != 0) {
        w->error = r;
        return NULL;
    }
    uint64_t last = bench_now_ns();
    while (last < w->until) {
        uint64_t t = bench_now_ns();
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

static void usage(void)
{
    fprintf(stderr, "usage: stalls --seconds S --cpu N [--cpu N]... [--rate R]\n"
                    "       (S up to 60, R requests a second, default 1000; distinct CPUs)\n");
    exit(2);
}

/* The number s, which must lie in [lo, hi] (and be whole when whole is set). */
static double number(const char *s, double lo, double hi, bool whole)
{
    double v;
    if (!bench_number(s, lo, hi, &v) || (whole && v != (double)(long)v)) {
        usage();
    }
    return v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof(*o));
    o->rate = 1000;
    /* Options come in pairs: --name value. */
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
        } else if (strcmp(argv[i], "--seconds") == 0) {
            o->seconds = number(v, 0.1, MAX_SECONDS, false);
        } else if (strcmp(argv[i], "--rate") == 0) {
            o->rate = number(v, 1, 1e6, false);
        } else if (strcmp(argv[i], "--cpu") == 0 && o->n_cpus < MAX_CPUS) {
            int cpu = (int)number(v, 0, CPU_SETSIZE - 1, true);
            for (size_t k = 0; k < o->n_cpus; k++) {
                if (o->w[k].cpu == cpu) {
                    usage();
                }
            }
            o->w[o->n_cpus++].cpu = cpu;
        } else {
            usage();
        }
    }
    double requests = o->seconds * o->rate;
    if (o->seconds == 0 || o->n_cpus == 0 || requests < 1 || requests > MAX_REQUESTS) {
        usage();
    }
}

static int by_start(const void *a, const void *b)
{
    const struct gap *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Every CPU's gaps as one sorted list of disjoint spans in which at least
 * one CPU was away (overlapping and touching gaps merged). */
static struct gap *merge_gaps(const struct options *o, size_t *ret_n)
{
    size_t n = 0;
    for (size_t i = 0; i < o->n_cpus; i++) {
        n += o->w[i].n_gaps;
    }
    struct gap *all = malloc((n + 1) * sizeof(*all));
    if (!all) {
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < o->n_cpus; i++) {
        memcpy(all + k, o->w[i].gaps, o->w[i].n_gaps * sizeof(*all));
        k += o->w[i].n_gaps;
    }
    qsort(all, n, sizeof(*all), by_start);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && all[i].start <= all[m - 1].end) {
            all[m - 1].end = all[i].end > all[m - 1].end ? all[i].end : all[m - 1].end;
        } else {
            all[m++] = all[i];
        }
    }
    *ret_n = m;
    return all;
}

/* The wait of each of n_req requests due every 1/rate seconds from start:
 * until the end of the span it falls in, or none. Sorted. */
static uint64_t *replay(const struct gap *spans, size_t n_spans, uint64_t start, double rate,
                        size_t n_req)
{
    uint64_t *waits = malloc(n_req * sizeof(*waits));
    if (!waits) {
        return NULL;
    }
    size_t s = 0;
    for (size_t r = 0; r < n_req; r++) {
        uint64_t due = start + (uint64_t)(((double)r + 0.5) * 1e9 / rate);
        while (s < n_spans && spans[s].end <= due) {
            s++;
        }
        waits[r] = s < n_spans && spans[s].start <= due ? spans[s].end - due : 0;
    }
    bench_sort_ns(waits, n_req);
    return waits;
}

static void print_result(const struct options *o, const uint64_t *waits, size_t n_req)
{
    printf("stalls seconds=%.1f rate=%.0f", o->seconds, o->rate);
    for (size_t i = 0; i < o->n_cpus; i++) {
        const struct watcher *w = &o->w[i];
        printf(" cpu%d_ge1ms_per_s=%.2f cpu%d_ge2ms_per_s=%.2f cpu%d_lost_pct=%.2f", w->cpu,
               (double)w->ge_1ms / o->seconds, w->cpu, (double)w->ge_2ms / o->seconds, w->cpu,
               (double)w->lost_ns / (o->seconds * 1e7));
    }
    printf(" p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f requests=%zu\n",
           bench_percentile_us(waits, n_req, 0.50), bench_percentile_us(waits, n_req, 0.99),
           bench_percentile_us(waits, n_req, 0.999), (double)waits[n_req - 1] / 1000.0, n_req);
}

/* Fails at once, not after the window, when a CPU is not ours to run on. */
static void check_cpus(const struct options *o)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
        fprintf(stderr, "stalls: sched_getaffinity: %s\n", strerror(errno));
        exit(1);
    }
    for (size_t i = 0; i < o->n_cpus; i++) {
        if (!CPU_ISSET(o->w[i].cpu, &allowed)) {
            fprintf(stderr, "stalls: CPU %d is not available to this process\n", o->w[i].cpu);
            exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    struct options o;
    parse_args(argc, argv, &o);
    check_cpus(&o);
    uint64_t start = bench_now_ns();
    pthread_t threads[MAX_CPUS];
    for (size_t i = 0; i < o.n_cpus; i++) {
        o.w[i].until = start + (uint64_t)(o.seconds * 1e9);
        o.w[i].gaps = malloc(MAX_GAPS * sizeof(*o.w[i].gaps));
        if (!o.w[i].gaps || pthread_create(&threads[i], NULL, watch, &o.w[i]) != 0) {
            fprintf(stderr, "stalls: cannot start a thread\n");
            return 1;
        }
    }
    int failed = 0;
    for (size_t i = 0; i < o.n_cpus; i++) {
        pthread_join(threads[i], NULL);
        if (o.w[i].error) {
            fprintf(stderr, "stalls: cannot run on CPU %d: %s\n", o.w[i].cpu,
                    strerror(o.w[i].error));
            failed = 1;
        }
    }
    size_t n_spans = 0;
    size_t n_req = (size_t)(o.seconds * o.rate);
    struct gap *spans = failed ? NULL : merge_gaps(&o, &n_spans);
    uint64_t *waits = spans ? replay(spans, n_spans, start, o.rate, n_req) : NULL;
    if (waits) {
        print_result(&o, waits, n_req);
    } else if (!failed) {
        fprintf(stderr, "stalls: out of memory\n");
    }
    int rc = waits ? 0 : 1;
    for (size_t i = 0; i < o.n_cpus; i++) {
        free(o.w[i].gaps);
    }
    free(spans);
    free(waits);
    return rc;
}
