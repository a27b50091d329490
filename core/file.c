/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded whole-file reads and file stamps (see file.h).
 */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

int pl_file_read(const char *path, size_t max, char **ret, size_t *ret_len, struct pl_error *err)
{
    int r = -EIO;
    struct pl_buf b;
    pl_buf_init(&b, max);
    /* O_NONBLOCK: a FIFO in place of a file must not hang the open (regular files ignore it). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        pl_error_set(err, "", 0, "cannot open %s: %s", path, strerror(errno));
        return -EIO;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        pl_error_set(err, "", 0, "cannot read %s: not a regular file", path);
        goto out;
    }
    for (;;) {
        char chunk[16384];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            pl_error_set(err, "", 0, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0) {
            break;
        }
        if (pl_buf_append(&b, chunk, (size_t)n) < 0) {
            pl_error_set(err, "", 0, "%s is larger than %zu bytes", path, max);
            r = -E2BIG;
            goto out;
        }
    }
    if (ret_len) {
        *ret_len = b.len;
    }
    *ret = pl_buf_steal(&b);
    r = 0;
out:
    close(fd);
    pl_buf_finish(&b);
    return r;
}

struct pl_file_stamp pl_file_stamp(const char *path)
{
    struct pl_file_stamp st = {0};
    struct stat sb;
    if (path && stat(path, &sb) == 0) {
        st.present = true;
        st.dev = sb.st_dev;
        st.ino = sb.st_ino;
        st.size = sb.st_size;
        st.mtime = sb.st_mtim;
    }
    return st;
}

bool pl_file_stamp_equal(const struct pl_file_stamp *a, const struct pl_file_stamp *b)
{
    return a->present == b->present && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}
