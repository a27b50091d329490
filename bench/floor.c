/* SPDX-License-Identifier: Apache-2.0 */
/*
 * floor: the least JSON work any AdmissionReview webhook must do, timed
 * in-process. For each body it parses the request with jansson (the same
 * flags plimsoll uses), reads request.uid, builds the response
 * AdmissionReview {"apiVersion","kind","response":{"uid","allowed":true}}
 * and serialises it, then frees everything; repeated until --iterations or
 * --seconds runs out, whichever comes first.
 *
 * bench/run.sh adds this to nginx's CPU per request (TLS, HTTP, reading the
 * body, a fixed answer) to get the floor plimsoll's CPU per review is
 * compared with. Output: one "floor file=... us_per_review=..." line per body.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#define MAX_BODY (8u * 1024u * 1024u)

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char *read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *buf = malloc(MAX_BODY);
    size_t n = buf ? fread(buf, 1, MAX_BODY, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n == MAX_BODY) {
        free(buf);
        return NULL;
    }
    *ret_len = n;
    return buf;
}

/* One review's worth of work; returns the response length (0 on a bad body). */
static size_t one_review(const char *body, size_t len)
{
    json_error_t jerr;
    json_t *review = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
    if (!review) {
        return 0;
    }
    const char *uid = json_string_value(json_object_get(json_object_get(review, "request"), "uid"));
    const char *version = json_string_value(json_object_get(review, "apiVersion"));
    json_t *response = json_pack(
        "{s:s, s:s, s:{s:s, s:b}}", "apiVersion", version ? version : "admission.k8s.io/v1", "kind",
        "AdmissionReview", "response", "uid", uid ? uid : "", "allowed", 1);
    char *text = response ? json_dumps(response, JSON_COMPACT) : NULL;
    size_t n = text ? strlen(text) : 0;
    free(text);
    json_decref(response);
    json_decref(review);
    return n;
}

int main(int argc, char **argv)
{
    long iterations = 20000;
    double seconds = 3.0;
    int first = 1;
    for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
        if (strcmp(argv[first], "--iterations") == 0) {
            iterations = strtol(argv[first + 1], NULL, 10);
        } else if (strcmp(argv[first], "--seconds") == 0) {
            seconds = strtod(argv[first + 1], NULL);
        } else {
            break;
        }
    }
    if (first >= argc || iterations < 1 || iterations > 100000000 || seconds <= 0 ||
        seconds > 600) {
        fprintf(stderr, "usage: floor [--iterations N] [--seconds S] BODY.json...\n");
        return 2;
    }
    for (int i = first; i < argc; i++) {
        size_t len = 0;
        char *body = read_file(argv[i], &len);
        if (!body || one_review(body, len) == 0) {
            fprintf(stderr, "floor: %s is not a readable AdmissionReview\n", argv[i]);
            free(body);
            return 2;
        }
        for (int w = 0; w < 50; w++) {
            one_review(body, len);
        }
        uint64_t budget = (uint64_t)(seconds * 1e9);
        uint64_t start = cpu_ns(), now = start;
        long n = 0;
        while (n < iterations && now - start < budget) {
            one_review(body, len);
            n++;
            now = cpu_ns();
        }
        printf("floor file=%s bytes=%zu iterations=%ld us_per_review=%.2f\n", argv[i], len, n,
               (double)(now - start) / 1000.0 / (double)n);
        free(body);
    }
    return 0;
}
