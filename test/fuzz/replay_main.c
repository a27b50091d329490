/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The main() of a fuzz target built with fuzzing_engine=none (STYLE rule
 * 23, as dav1d does it): every argument is a file or a directory of files,
 * and each file is handed once to LLVMFuzzerTestOneInput(), in name order.
 * That turns a checked-in corpus into an ordinary regression test, run
 * under the sanitizers by `meson test --suite fuzz`.
 *
 * Each input is copied into a heap block of exactly its size, without a
 * trailing NUL, so that AddressSanitizer (or valgrind) catches a target
 * that reads one byte too far. A run that finds no input at all fails:
 * an empty or misnamed corpus must not pass silently.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Largest corpus file replayed; libFuzzer's default -max_len is far below. */
#define REPLAY_MAX_BYTES (16u * 1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replays one file. Returns 0, or -1 when it cannot be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    int r = -1;
    uint8_t *data = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_BYTES) {
        fprintf(stderr, "replay: %s: not a file of at most %u bytes\n", path, REPLAY_MAX_BYTES);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    /* Exactly size bytes: an over-read is a heap-buffer-overflow. */
    data = malloc(size ? size : 1);
    if (!data || fread(data, 1, size, f) != size) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        goto out;
    }
    (void)LLVMFuzzerTestOneInput(data, size);
    r = 0;
out:
    free(data);
    fclose(f);
    return r;
}

static int skip_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Replays every regular file of dir in name order; adds to *count. */
static int replay_dir(const char *dir, size_t *count)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, skip_hidden, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int r = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        int len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        struct stat st;
        if (r == 0 && len > 0 && (size_t)len < sizeof(path) && stat(path, &st) == 0 &&
            S_ISREG(st.st_mode)) {
            r = replay_file(path);
            *count += r == 0;
        }
        free(names[i]);
    }
    free(names);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: %s FILE|DIR...\n"
                "Runs each input once through the fuzz target (no fuzzing).\n",
                argv[0]);
        return 2;
    }
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        int r = S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) : replay_file(argv[i]);
        if (r < 0) {
            return 1;
        }
        count += !S_ISDIR(st.st_mode);
    }
    printf("replayed %zu input%s\n", count, count == 1 ? "" : "s");
    return count > 0 ? 0 : 1;
}
