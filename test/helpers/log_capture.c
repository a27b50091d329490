/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log capture for tests (see log_capture.h).
 */
#include "test/helpers/log_capture.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"

static int fds[2] = {-1, -1};

int pl_test_log_capture(void **state)
{
    (void)state;
    if (pipe(fds) != 0) {
        return -1;
    }
    if (fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK) != 0) {
        return -1;
    }
    pl_log_set_fd(fds[1]);
    return pl_log_set_level_name("info");
}

int pl_test_log_restore(void **state)
{
    (void)state;
    pl_log_set_fd(STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    fds[0] = fds[1] = -1;
    return pl_log_set_level_name("info");
}

int pl_test_log_fd(void)
{
    return fds[0];
}

json_t *pl_test_log_line(void)
{
    static char buf[65536];
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    if (n <= 0) {
        return NULL;
    }
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0'); /* exactly one line */
    json_error_t jerr;
    json_t *line = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
    assert_non_null(line);
    return line;
}
