/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capturing plimsoll's JSON-lines log in a test: cmocka setup/teardown that
 * point the logger at a pipe, and the pipe's read end (non-blocking, so
 * "nothing was logged" reads EAGAIN instead of hanging).
 */
#ifndef PL_TEST_HELPERS_LOG_CAPTURE_H
#define PL_TEST_HELPERS_LOG_CAPTURE_H

#include <jansson.h>

/** cmocka setup: logs go to a pipe, level info. Returns 0 or -1. */
int pl_test_log_capture(void **state);

/** cmocka teardown: logs go to stdout again, the pipe is closed, level info. */
int pl_test_log_restore(void **state);

/** The read end of the capture pipe. */
int pl_test_log_fd(void);

/**
 * What was logged since the last read, as JSON: NULL when nothing was; else it
 * must be exactly one line (asserted). New reference.
 */
json_t *pl_test_log_line(void);

#endif
