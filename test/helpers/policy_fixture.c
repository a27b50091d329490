/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy and mutation test driver (see policy_fixture.h).
 */
#include "test/helpers/policy_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

void *pl_test_params(const struct pl_param_set *set, const char *yaml)
{
    void *params = NULL;
    struct pl_error err;
    if (pl_test_parse_params(set, yaml, &params, &err) < 0) {
        fail_msg("parameters %s: %s: %s", yaml ? yaml : "(the defaults)", err.path, err.message);
    }
    return params;
}

/* pl_test_run_check(), writing "path: message" (with_messages) or "path" per violation. */
static size_t run_check(const struct pl_policy *policy, const void *params, const char *object_yaml,
                        bool with_messages, char *buf, size_t size)
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
        int n = with_messages
                    ? snprintf(buf + len, size - len, "%s%s: %s", i ? "|" : "",
                               report.items[i].path, report.items[i].message)
                    : snprintf(buf + len, size - len, "%s%s", i ? "|" : "", report.items[i].path);
        assert_true(n > 0 && (size_t)n < size - len);
        len += (size_t)n;
    }
    size_t count = report.len;
    pl_pool_finish(&pool);
    json_decref(root);
    return count;
}

size_t pl_test_run_check(const struct pl_policy *policy, const void *params,
                         const char *object_yaml, char *buf, size_t size)
{
    return run_check(policy, params, object_yaml, true, buf, size);
}

/* pl_test_run_policy() and pl_test_run_policy_paths(). */
static size_t run_policy(const struct pl_policy *policy, const char *params_yaml,
                         const char *object_yaml, bool with_messages, char *buf, size_t size)
{
    void *params = NULL;
    if (!policy->params) {
        assert_null(params_yaml); /* a policy without parameters takes none */
    } else {
        params = pl_test_params(policy->params, params_yaml);
    }
    size_t count = run_check(policy, params, object_yaml, with_messages, buf, size);
    pl_params_free(policy->params, params);
    return count;
}

size_t pl_test_run_policy(const struct pl_policy *policy, const char *params_yaml,
                          const char *object_yaml, char *buf, size_t size)
{
    return run_policy(policy, params_yaml, object_yaml, true, buf, size);
}

size_t pl_test_run_policy_paths(const struct pl_policy *policy, const char *params_yaml,
                                const char *object_yaml, char *buf, size_t size)
{
    return run_policy(policy, params_yaml, object_yaml, false, buf, size);
}

json_t *pl_test_run_mutation(const struct pl_mutation *mutation, const char *params_yaml,
                             const char *object_yaml, const char *old_yaml, bool spec_mutable,
                             json_t **ret_doc)
{
    json_t *object = pl_test_yaml(object_yaml);
    json_t *old = old_yaml ? pl_test_yaml(old_yaml) : NULL;
    void *params = NULL;
    if (!mutation->params) {
        assert_null(params_yaml); /* a mutation without parameters takes none */
    } else {
        params = pl_test_params(mutation->params, params_yaml);
    }
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_patch patch;
    pl_patch_init(&patch, object, 0);
    struct pl_object obj, old_obj;
    assert_int_equal(pl_object_init(&obj, patch.doc, NULL), 0);
    if (old) {
        assert_int_equal(pl_object_init(&old_obj, old, NULL), 0);
    }
    struct pl_mutate_ctx ctx = {
        .obj = &obj,
        .old_obj = old ? &old_obj : NULL,
        .params = params,
        .pool = &pool,
        .namespace_ = "shop",
        .spec_mutable = spec_mutable,
    };
    assert_int_equal(mutation->mutate(&ctx, &patch), 0);
    json_t *ops = pl_patch_take_ops(&patch);
    if (ret_doc) {
        *ret_doc = json_incref(patch.doc);
    }
    pl_patch_finish(&patch);
    pl_pool_finish(&pool);
    pl_params_free(mutation->params, params);
    json_decref(old);
    json_decref(object);
    return ops;
}
