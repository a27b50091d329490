/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The standard process_* metrics every Prometheus client library exports
 * (CPU, memory, file descriptors, start time), read from /proc/self and
 * getrusage(2) at scrape time, so that plimsoll's dashboards and alerts can
 * use the same queries as any other exporter's.
 */
#ifndef PL_SERVER_PROCESS_H
#define PL_SERVER_PROCESS_H

#include "core/buf.h"
#include "core/compiler.h"

/**
 * Appends process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds and
 * process_start_time_seconds to out. A value that cannot be read (no /proc)
 * is left out rather than guessed. Returns 0 or -E2BIG. Thread-safe.
 */
PL_MUST_CHECK int pl_process_metrics_render(struct pl_buf *out);

#endif
