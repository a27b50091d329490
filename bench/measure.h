/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the benchmark's own tools (loadgen, stalls, ready) share: the clock,
 * percentiles of sorted samples, and numeric options.
 */
#ifndef PL_BENCH_MEASURE_H
#define PL_BENCH_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000ull

/** CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/** Sorts n nanosecond samples in ascending order. */
void bench_sort_ns(uint64_t *v, size_t n);

/** The q-quantile (0..1) of n sorted nanosecond samples, in microseconds; 0 when n is 0. */
double bench_percentile_us(const uint64_t *sorted, size_t n, double q);

/** Parses s as a number in [lo, hi] into *ret; false (nothing written) otherwise. */
bool bench_number(const char *s, double lo, double hi, double *ret);

#endif
