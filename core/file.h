/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small files read whole, with a ceiling (configuration, certificates,
 * kubeconfigs, tokens), and the stamp that tells whether a file changed
 * since it was last read (the ..data symlink swap of Kubernetes volumes
 * changes it, since stat(2) follows links).
 */
#ifndef PL_CORE_FILE_H
#define PL_CORE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "core/compiler.h"
#include "core/error.h"

/**
 * Reads the regular file at path, at most max bytes, into a new
 * NUL-terminated string (free with free()); its length goes to *ret_len when
 * not NULL. A FIFO or device in its place fails instead of blocking. Returns
 * 0, -E2BIG when the file is larger than max, or -EIO; err says which file
 * and why.
 */
PL_MUST_CHECK int pl_file_read(const char *path, size_t max, char **ret, size_t *ret_len,
                               struct pl_error *err);

/* What identifies one version of a file. */
struct pl_file_stamp {
    bool present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

/** The stamp of path now (present == false when it cannot be stat'ed). */
struct pl_file_stamp pl_file_stamp(const char *path);

/** Whether two stamps name the same version of a file. */
bool pl_file_stamp_equal(const struct pl_file_stamp *a, const struct pl_file_stamp *b);

#endif
