/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aborting allocators (see alloc.h for the policy and its reasons).
 */
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pl_oom(void)
{
    static const char msg[] = "plimsoll: out of memory\n";
    /* write(2) rather than stdio: stdio may itself need memory. */
    ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
    abort();
}

void *pl_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        pl_oom();
    }
    return p;
}

void *pl_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        pl_oom();
    }
    return p;
}

void *pl_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        pl_oom();
    }
    return q;
}

char *pl_xstrdup(const char *s)
{
    return pl_xstrndup(s, strlen(s));
}

void *pl_xmemdup(const void *p, size_t n)
{
    void *copy = pl_xmalloc(n ? n : 1);
    if (n) {
        memcpy(copy, p, n);
    }
    return copy;
}

char *pl_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = pl_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
