/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy test driver (see policy_fixture.h).
 */
#include "test/helpers/policy_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "core/object.h"
#include "core/pool.h"
#include "core/report.h"
#include "test/helpers/fixture.h"

int pl_test_parse_params(const struct pl_param_set *set, const char *yaml, void **ret,
                         struct pl_error *err)
{
    json_t *json = yaml ? pl_test_yaml(yaml) : NULL;
    pl_error_init(err);
    int r = pl_params_parse(set, json, "mode", ret, err);
    json_decref(json);
    return r;
}

size_t pl_test_run_check(const struct pl_policy *policy, const void *params,
                         const char *object_yaml, char *buf, size_t size)
{
    struct pl_error err;
    pl_error_init(&err);
    json_t *root = pl_test_yaml(object_yaml);
    struct pl_object obj;
    assert_int_equal(pl_object_init(&obj, root, &err), 0);
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_report report;
    pl_report_init(&report, &pool, &obj);
    struct pl_eval ev = {.obj = &obj, .params = params, .pool = &pool};
    if (pl_policy_applies(policy, &obj)) { /* as the evaluator decides */
        policy->check(&ev, obj.pod_spec, &report);
    }
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < report.len; i++) {
        int n = snprintf(buf + len, size - len, "%s%s: %s", i ? "|" : "", report.items[i].path,
                         report.items[i].message);
        assert_true(n > 0 && (size_t)n < size - len);
        len += (size_t)n;
    }
    size_t count = report.len;
    pl_pool_finish(&pool);
    json_decref(root);
    return count;
}

size_t pl_test_run_policy(const struct pl_policy *policy, const char *params_yaml,
                          const char *object_yaml, char *buf, size_t size)
{
    void *params = NULL;
    struct pl_error err;
    if (!policy->params) {
        assert_null(params_yaml); /* a policy without parameters takes none */
    } else if (pl_test_parse_params(policy->params, params_yaml, &params, &err) < 0) {
        fail_msg("%s parameters: %s: %s", policy->id, err.path, err.message);
    }
    size_t count = pl_test_run_check(policy, params, object_yaml, buf, size);
    pl_params_free(policy->params, params);
    return count;
}
