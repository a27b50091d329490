/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inputs of `plimsoll check` and their URIs (see files.h).
 */
#include "cli/files.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

/* Directory levels walked, at most. */
#define MAX_DEPTH 64

void pl_file_list_finish(struct pl_file_list *l)
{
    if (!l) {
        return;
    }
    for (size_t i = 0; i < l->len; i++) {
        free(l->paths[i]);
    }
    free(l->paths);
    l->paths = NULL;
    l->len = 0;
}

static void list_add(struct pl_file_list *l, char *path)
{
    l->paths = pl_xrealloc(l->paths, (l->len + 1) * sizeof(*l->paths));
    l->paths[l->len++] = path;
}

bool pl_files_is_dir(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_manifest_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Directories already walked, by device and inode: a link back to one is not followed again. */
struct visited {
    dev_t *dev;
    ino_t *ino;
    size_t len;
};

static bool visit(struct visited *v, const struct stat *st)
{
    for (size_t i = 0; i < v->len; i++) {
        if (v->dev[i] == st->st_dev && v->ino[i] == st->st_ino) {
            return false;
        }
    }
    v->dev = pl_xrealloc(v->dev, (v->len + 1) * sizeof(*v->dev));
    v->ino = pl_xrealloc(v->ino, (v->len + 1) * sizeof(*v->ino));
    v->dev[v->len] = st->st_dev;
    v->ino[v->len] = st->st_ino;
    v->len++;
    return true;
}

/* The names in dir but "." entries, sorted; NULL with errno set when dir cannot be read. */
static char **sorted_names(const char *dir, size_t *ret_n)
{
    DIR *d = opendir(dir);
    if (!d) {
        return NULL;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue; /* ., .., and hidden entries such as .git */
        }
        names = pl_xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = pl_xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 1) {
        qsort(names, n, sizeof(*names), compare_names);
    }
    *ret_n = n;
    return names ? names : pl_xcalloc(1, sizeof(*names));
}

static int walk(const char *dir, int depth, struct visited *v, struct pl_file_list *l)
{
    size_t n = 0;
    char **names = sorted_names(dir, &n);
    if (!names) {
        fprintf(stderr, "plimsoll check: cannot read directory %s: %s\n", dir, strerror(errno));
        return -EIO;
    }
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        size_t size = strlen(dir) + strlen(names[i]) + 2;
        char *path = pl_xmalloc(size);
        snprintf(path, size, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
        struct stat st;
        if (r < 0 || stat(path, &st) != 0) {
            if (r == 0) {
                fprintf(stderr, "plimsoll check: cannot read %s: %s\n", path, strerror(errno));
                r = -EIO;
            }
            free(path);
        } else if (S_ISDIR(st.st_mode)) {
            if (depth < MAX_DEPTH && visit(v, &st)) {
                r = walk(path, depth + 1, v, l);
            }
            free(path);
        } else if (S_ISREG(st.st_mode) && is_manifest_name(names[i])) {
            if (l->len >= PL_FILES_MAX) {
                fprintf(stderr, "plimsoll check: more than %d manifest files under %s\n",
                        PL_FILES_MAX, dir);
                r = -E2BIG;
                free(path);
            } else {
                list_add(l, path);
            }
        } else {
            free(path);
        }
        free(names[i]);
    }
    free(names);
    return r;
}

int pl_files_walk(const char *dir, struct pl_file_list *l)
{
    struct visited v = {0};
    struct stat st;
    int r = -EIO;
    if (stat(dir, &st) == 0) {
        visit(&v, &st);
        r = walk(dir, 0, &v, l);
    } else {
        fprintf(stderr, "plimsoll check: cannot read directory %s: %s\n", dir, strerror(errno));
    }
    free(v.dev);
    free(v.ino);
    return r;
}

int pl_files_read(const char *path, const char *display_name, struct pl_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "plimsoll check: cannot open %s: %s\n", display_name, strerror(errno));
        return -EIO;
    }
    char chunk[65536];
    size_t n;
    int r = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (pl_buf_append(b, chunk, n) < 0) {
            fprintf(stderr, "plimsoll check: %s is larger than %zu bytes\n", display_name, b->max);
            r = -E2BIG;
            break;
        }
    }
    if (r == 0 && ferror(f)) {
        fprintf(stderr, "plimsoll check: cannot read %s: %s\n", display_name, strerror(errno));
        r = -EIO;
    }
    if (f != stdin) {
        fclose(f);
    }
    return r;
}

char *pl_path_absolute(const char *path)
{
    char cwd[PATH_MAX] = "/";
    if (path[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
        snprintf(cwd, sizeof(cwd), "/");
    }
    size_t size = strlen(cwd) + strlen(path) + 3;
    char *joined = pl_xmalloc(size);
    snprintf(joined, size, "%s/%s", path[0] == '/' ? "" : cwd, path);
    char *out = pl_xmalloc(size);
    size_t len = 0;
    for (const char *p = joined; *p;) {
        p += strspn(p, "/");
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.')) {
            p += n;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (len > 0 && out[--len] != '/') {
            }
            p += n;
            continue;
        }
        out[len++] = '/';
        memcpy(out + len, p, n);
        len += n;
        p += n;
    }
    if (len == 0) {
        out[len++] = '/';
    }
    out[len] = '\0';
    free(joined);
    return out;
}

/* Percent-encodes what may not stand in a URI path as it is. */
static char *encode(const char *s, const char *suffix)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "-._~/!$&'()*+,;=@";
    size_t size = 3 * strlen(s) + strlen(suffix) + 1;
    char *out = pl_xmalloc(size);
    size_t len = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (strchr(safe, *p)) {
            out[len++] = (char)*p;
        } else {
            snprintf(out + len, size - len, "%%%02X", *p);
            len += 3;
        }
    }
    snprintf(out + len, size - len, "%s", suffix);
    return out;
}

/* The part of abs under base (both absolute and normalised), or NULL. */
static const char *under(const char *abs, const char *base)
{
    size_t n = strlen(base);
    if (strcmp(base, "/") == 0) {
        return abs + 1;
    }
    if (strncmp(abs, base, n) == 0 && abs[n] == '/' && abs[n + 1]) {
        return abs + n + 1;
    }
    return NULL;
}

char *pl_path_relative_uri(const char *path, const char *base)
{
    char *abs = pl_path_absolute(path);
    char *abs_base = pl_path_absolute(base);
    const char *rel = under(abs, abs_base);
    char *uri = rel ? encode(rel, "") : NULL;
    if (!uri) {
        char *real = realpath(abs, NULL);
        char *real_base = realpath(abs_base, NULL);
        rel = real && real_base ? under(real, real_base) : NULL;
        uri = rel ? encode(rel, "") : NULL;
        free(real);
        free(real_base);
    }
    free(abs);
    free(abs_base);
    return uri;
}

char *pl_path_file_uri(const char *path, bool dir)
{
    char *abs = pl_path_absolute(path);
    bool slash = dir && strcmp(abs, "/") != 0;
    char *encoded = encode(abs, slash ? "/" : "");
    size_t size = strlen(encoded) + sizeof("file://");
    char *uri = pl_xmalloc(size);
    snprintf(uri, size, "file://%s", encoded);
    free(abs);
    free(encoded);
    return uri;
}
