/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation that never returns NULL. Running out of memory is fatal in
 * plimsoll (STYLE rule 11): the process logs and aborts, and the replica set
 * absorbs the restart. Error paths therefore only deal with bad input and I/O.
 */
#ifndef PL_CORE_ALLOC_H
#define PL_CORE_ALLOC_H

#include <stddef.h>

/** malloc() that aborts on failure. Free with free(). Thread-safe. */
void *pl_xmalloc(size_t size);

/** calloc() that aborts on failure (and on n * size overflow). Free with free(). */
void *pl_xcalloc(size_t n, size_t size);

/** realloc() that aborts on failure. The old pointer is no longer valid after the call. */
void *pl_xrealloc(void *p, size_t size);

/** strdup() that aborts on failure. Free with free(). */
char *pl_xstrdup(const char *s);

/** Copy of the first n bytes of s (or fewer, up to its NUL), NUL-terminated. Free with free(). */
char *pl_xstrndup(const char *s, size_t n);

/** Copy of n bytes at p (memcpy, NULs and all). Free with free(). */
void *pl_xmemdup(const void *p, size_t n);

/** Aborts after writing "plimsoll: out of memory" to stderr. */
void pl_oom(void) __attribute__((noreturn));

#endif
