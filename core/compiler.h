/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiler attributes used across plimsoll. Kept in one place so that every
 * other header stays free of compiler-specific spelling.
 */
#ifndef PL_CORE_COMPILER_H
#define PL_CORE_COMPILER_H

/* The caller must look at the result: it is an error code or an owned pointer. */
#define PL_MUST_CHECK __attribute__((warn_unused_result))

/* printf-style argument checking: fmt is argument a, the values start at b. */
#define PL_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* The function never returns (abort on OOM, usage errors in tools). */
#define PL_NORETURN __attribute__((noreturn))

/* Number of elements of a true array (not a pointer). */
#define PL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
