/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `plimsoll check` reads: files and directories named on the command
 * line, and how their names become the relative URIs SARIF wants.
 *
 * A directory is walked recursively for *.yaml, *.yml and *.json files, in
 * byte order of their names, skipping names that start with "." (.git,
 * .github); symbolic links are followed, each directory at most once, so a
 * link loop ends the walk rather than the process.
 */
#ifndef PL_CLI_FILES_H
#define PL_CLI_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/compiler.h"

/* Files found in directories, at most. */
#define PL_FILES_MAX 100000

struct pl_file_list {
    char **paths; /* owned */
    size_t len;
};

/** Frees the list's paths. Accepts NULL. */
void pl_file_list_finish(struct pl_file_list *l);

/**
 * Adds the manifest files under directory dir (see above) to l. Returns 0,
 * or -EIO / -E2BIG with a line on stderr (unreadable directory, too many files).
 */
PL_MUST_CHECK int pl_files_walk(const char *dir, struct pl_file_list *l);

/** Whether path is a directory (following links). */
bool pl_files_is_dir(const char *path);

/**
 * Reads path ("-": stdin) into b, whose ceiling bounds the size. Returns 0, or
 * -EIO / -E2BIG with a line on stderr naming display_name.
 */
PL_MUST_CHECK int pl_files_read(const char *path, const char *display_name, struct pl_buf *b);

/**
 * path made absolute against the working directory, with "." and ".." and
 * repeated slashes removed lexically. New string, freed by the caller.
 */
char *pl_path_absolute(const char *path);

/**
 * The URI of path relative to directory base (both as given, made absolute
 * with pl_path_absolute, then tried again with symbolic links resolved), with
 * characters outside a path's safe set percent-encoded; NULL when path is not
 * under base. New string, freed by the caller.
 */
char *pl_path_relative_uri(const char *path, const char *base);

/** "file://" and the percent-encoded absolute path (a trailing "/" when dir). New string. */
char *pl_path_file_uri(const char *path, bool dir);

#endif
