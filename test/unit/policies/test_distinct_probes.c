/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/distinct_probes.c: probe comparison once the API
 * server's defaults are applied (timing fields, httpGet path and scheme,
 * gRPC service, empty lists), named ports resolved through the container's
 * ports, members the tables do not know compared exactly, and a whole check
 * that honours long-running objects and container sets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policies/distinct_probes.c"
#include "test/helpers/fixture.h"
#include "test/helpers/policy_fixture.h"

/* The container every comparison runs in: port "http" is 8080. */
static const char *const container_yaml = "name: web\n"
                                          "ports: [{name: http, containerPort: 8080}, {name: "
                                          "admin, containerPort: 9090}, {name: broken}]\n";

/* Parses two flow-style YAML probes and compares them inside container_yaml. */
static bool identical(const char *a_yaml, const char *b_yaml)
{
    json_t *container = pl_test_yaml(container_yaml);
    json_t *a = pl_test_yaml(a_yaml);
    json_t *b = pl_test_yaml(b_yaml);
    bool same = probes_identical(container, a, b);
    bool reverse = probes_identical(container, b, a);
    assert_int_equal(same, reverse); /* the comparison is symmetric */
    json_decref(a);
    json_decref(b);
    json_decref(container);
    return same;
}

static void test_identical(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        bool same;
    } cases[] = {
        /* Plainly equal and plainly different. */
        {"{httpGet: {path: /healthz, port: 8080}}", "{httpGet: {path: /healthz, port: 8080}}",
         true},
        {"{httpGet: {path: /healthz, port: 8080}}", "{httpGet: {path: /ready, port: 8080}}", false},
        {"{httpGet: {path: /healthz, port: 8080}}", "{tcpSocket: {port: 8080}}", false},
        /* Timing defaults: 0, 1, 10, 1, 3. */
        {"{tcpSocket: {port: 8080}}",
         "{tcpSocket: {port: 8080}, initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, "
         "successThreshold: 1, failureThreshold: 3}",
         true},
        {"{tcpSocket: {port: 8080}}", "{tcpSocket: {port: 8080}, failureThreshold: 4}", false},
        {"{tcpSocket: {port: 8080}}", "{tcpSocket: {port: 8080}, periodSeconds: 5}", false},
        {"{tcpSocket: {port: 8080}}", "{tcpSocket: {port: 8080}, initialDelaySeconds: 30}", false},
        {"{tcpSocket: {port: 8080}}", "{tcpSocket: {port: 8080}, timeoutSeconds: null}", true},
        {"{tcpSocket: {port: 8080}, periodSeconds: 10}",
         "{tcpSocket: {port: 8080}, periodSeconds: '10'}", false},
        /* httpGet defaults: path "/", scheme HTTP, host "", no headers. */
        {"{httpGet: {port: 8080}}", "{httpGet: {path: /, port: 8080, scheme: HTTP, host: ''}}",
         true},
        {"{httpGet: {port: 8080}}", "{httpGet: {port: 8080, scheme: HTTPS}}", false},
        {"{httpGet: {port: 8080}}", "{httpGet: {port: 8080, httpHeaders: []}}", true},
        {"{httpGet: {port: 8080}}",
         "{httpGet: {port: 8080, httpHeaders: [{name: X-Probe, value: live}]}}", false},
        {"{httpGet: {port: 8080, httpHeaders: [{name: A, value: b}]}}",
         "{httpGet: {port: 8080, httpHeaders: [{name: A, value: b}]}}", true},
        /* Named ports resolve through the container's ports. */
        {"{httpGet: {path: /h, port: http}}", "{httpGet: {path: /h, port: 8080}}", true},
        {"{httpGet: {path: /h, port: admin}}", "{httpGet: {path: /h, port: 8080}}", false},
        {"{tcpSocket: {port: http}}", "{tcpSocket: {port: http}}", true},
        {"{tcpSocket: {port: nope}}", "{tcpSocket: {port: nope}}", true},
        {"{tcpSocket: {port: nope}}", "{tcpSocket: {port: other}}", false},
        {"{tcpSocket: {port: broken}}", "{tcpSocket: {port: 0}}", false},
        {"{tcpSocket: {port: 8080, host: db}}", "{tcpSocket: {port: 8080}}", false},
        /* gRPC: an empty service is the default. */
        {"{grpc: {port: 9090}}", "{grpc: {port: 9090, service: ''}}", true},
        {"{grpc: {port: 9090}}", "{grpc: {port: 9090, service: live}}", false},
        /* exec: the command list, exactly. */
        {"{exec: {command: [cat, /tmp/ok]}}", "{exec: {command: [cat, /tmp/ok]}}", true},
        {"{exec: {command: [cat, /tmp/ok]}}", "{exec: {command: [cat, /tmp/ready]}}", false},
        {"{exec: {command: []}}", "{exec: {}}", true},
        {"{exec: {command: x}}", "{exec: {}}", false},
        /* Members no table knows are compared exactly; null equals absent. */
        {"{tcpSocket: {port: 8080}, terminationGracePeriodSeconds: 10}",
         "{tcpSocket: {port: 8080}}", false},
        {"{tcpSocket: {port: 8080}, terminationGracePeriodSeconds: null}",
         "{tcpSocket: {port: 8080}}", true},
        {"{tcpSocket: {port: 8080}, futureField: {a: 1}}",
         "{tcpSocket: {port: 8080}, futureField: {a: 1}}", true},
        {"{tcpSocket: {port: 8080}, httpGet: null}", "{tcpSocket: {port: 8080}}", true},
        {"{tcpSocket: {port: 8080}}", "{tcpSocket: 8080}", false},
        {"{}", "{}", true},
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(cases); i++) {
        bool got = identical(cases[i].a, cases[i].b);
        if (got != cases[i].same) {
            fail_msg("%s vs %s: identical=%d, want %d", cases[i].a, cases[i].b, got, cases[i].same);
        }
    }
}

/* Runs the check on an object and returns the number of violations; paths go to paths. */
static size_t run_check(const char *yaml, char *paths, size_t size)
{
    return pl_test_run_policy_paths(&pl_policy_distinct_probes, NULL, yaml, paths, size);
}

static void test_check_sets(void **state)
{
    (void)state;
    char paths[512];
    const char *pod = "kind: Pod\n"
                      "metadata: {name: p}\n"
                      "spec:\n"
                      "  initContainers:\n"
                      "  - {name: init, livenessProbe: {exec: {command: [x]}}, readinessProbe: "
                      "{exec: {command: [x]}}}\n"
                      "  - {name: side, restartPolicy: Always, livenessProbe: {tcpSocket: {port: "
                      "1}}, readinessProbe: {tcpSocket: {port: 1}}}\n"
                      "  containers:\n"
                      "  - {name: a, livenessProbe: {tcpSocket: {port: 2}}, readinessProbe: "
                      "{tcpSocket: {port: 2}}}\n"
                      "  - {name: b, livenessProbe: {tcpSocket: {port: 2}}}\n"
                      "  - {name: c, livenessProbe: 1, readinessProbe: 1}\n"
                      "  ephemeralContainers:\n"
                      "  - {name: e, livenessProbe: {tcpSocket: {port: 3}}, readinessProbe: "
                      "{tcpSocket: {port: 3}}}\n";
    assert_int_equal(run_check(pod, paths, sizeof(paths)), 2);
    assert_string_equal(paths, "spec.containers[0] (a).livenessProbe|"
                               "spec.initContainers[1] (side).livenessProbe");

    const char *job = "kind: Job\n"
                      "metadata: {name: j}\n"
                      "spec:\n"
                      "  template:\n"
                      "    spec:\n"
                      "      containers:\n"
                      "      - {name: a, livenessProbe: {tcpSocket: {port: 2}}, readinessProbe: "
                      "{tcpSocket: {port: 2}}}\n";
    assert_int_equal(run_check(job, paths, sizeof(paths)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical),
        cmocka_unit_test(test_check_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
