/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared measuring helpers of the benchmark tools (see measure.h).
 */
#include "bench/measure.h"

#include <stdlib.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void bench_sort_ns(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
}

double bench_percentile_us(const uint64_t *sorted, size_t n, double q)
{
    if (n == 0) {
        return 0;
    }
    size_t i = (size_t)(q * (double)n);
    return (double)sorted[i < n ? i : n - 1] / 1000.0;
}

bool bench_number(const char *s, double lo, double hi, double *ret)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) { /* NaN fails the range test too */
        return false;
    }
    *ret = v;
    return true;
}
