/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ready: starts a server and measures the time from exec to the first 200
 * on its plain-HTTP readiness endpoint.
 *
 *   ready --health-port N [--path /readyz] [--cpu C] [--log FILE]
 *         [--timeout-ms MS] [--stop] -- COMMAND [ARG]...
 *
 * The child is pinned to CPU C when given and its stdout and stderr go to
 * FILE. The parent polls 127.0.0.1:N every 200 microseconds. On the first
 * 200 it prints "ready_ms=... pid=..." and exits 0, leaving the server
 * running (or, with --stop, sends it SIGTERM and waits up to 10 s for it to
 * exit). A server that is not ready within the timeout (default 5000 ms) is
 * killed and ready exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/measure.h"

/* One GET; true when the answer's status is 200. */
static bool probe(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = false;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
        char req[256];
        int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
        char resp[64] = {0};
        if (n > 0 && (size_t)n < sizeof(req) && write(fd, req, (size_t)n) == n &&
            read(fd, resp, sizeof(resp) - 1) >= 12) {
            ok = strncmp(resp + 8, " 200", 4) == 0;
        }
    }
    close(fd);
    return ok;
}

static int usage(void)
{
    fprintf(stderr, "usage: ready --health-port N [--path P] [--cpu C] [--log FILE] "
                    "[--timeout-ms MS] [--stop] -- COMMAND [ARG]...\n");
    return 2;
}

static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    uint64_t deadline = bench_now_ns() + 10 * NS_PER_SEC;
    while (bench_now_ns() < deadline) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            return;
        }
        usleep(1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
    int port = 0, cpu = -1;
    long timeout_ms = 5000;
    const char *path = "/readyz", *log = NULL;
    bool stop = false;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--stop") == 0) {
            stop = true;
            continue;
        }
        if (i + 1 >= argc) {
            return usage();
        }
        if (strcmp(argv[i], "--health-port") == 0) {
            port = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--cpu") == 0) {
            cpu = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--timeout-ms") == 0) {
            timeout_ms = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--path") == 0) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--log") == 0) {
            log = argv[++i];
        } else {
            return usage();
        }
    }
    if (i + 1 >= argc || port <= 0 || port > 65535 || timeout_ms <= 0 || timeout_ms > 60000 ||
        cpu >= CPU_SETSIZE) {
        return usage();
    }
    char **cmd = argv + i + 1;
    uint64_t start = bench_now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("ready: fork");
        return 2;
    }
    if (pid == 0) {
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof(set), &set);
        }
        if (log) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
        }
        execvp(cmd[0], cmd);
        perror("ready: exec");
        _exit(127);
    }
    uint64_t deadline = start + (uint64_t)timeout_ms * 1000000ull;
    while (bench_now_ns() < deadline) {
        if (probe(port, path)) {
            printf("ready_ms=%.2f pid=%d\n", (double)(bench_now_ns() - start) / 1e6, (int)pid);
            fflush(stdout);
            if (stop) {
                stop_child(pid);
            }
            return 0;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "ready: %s exited before it was ready\n", cmd[0]);
            return 1;
        }
        usleep(200);
    }
    fprintf(stderr, "ready: %s not ready within %ld ms\n", cmd[0], timeout_ms);
    stop_child(pid);
    return 1;
}
