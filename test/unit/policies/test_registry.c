/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry (STYLE rule 3): policy and mutation ids unique, kebab-case,
 * sorted; every policy documented in docs/policies/<id>.md and covered by at
 * least one passing and one failing case in test/cases/<id>/; every mutation
 * documented and covered by cases in test/cases-mutate/<id>/; every table
 * entry complete; every parameter table well formed, its defaults accepted
 * by pl_params_parse(); mutations in an order that keeps each `after`.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "policies/registry.h"
#include "test/helpers/fixture.h"

/* A stable id: lower-case words joined by single dashes. */
static void assert_kebab(const char *id)
{
    assert_non_null(id);
    assert_true(strlen(id) > 0 && strlen(id) <= 40);
    assert_true(id[0] >= 'a' && id[0] <= 'z');
    assert_true(id[strlen(id) - 1] != '-');
    for (const char *p = id; *p; p++) {
        assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
        assert_false(p[0] == '-' && p[1] == '-');
    }
}

static void test_ids_unique_sorted_kebab(void **state)
{
    (void)state;
    size_t n = pl_policy_count();
    assert_true(n >= 15);
    for (size_t i = 0; i < n; i++) {
        const char *id = pl_policies[i]->id;
        assert_kebab(id);
        if (i > 0) {
            assert_true(strcmp(pl_policies[i - 1]->id, id) < 0); /* sorted, hence unique */
        }
        assert_int_equal(pl_policy_index(id), (int)i);
    }
    assert_int_equal(pl_policy_index("no-such-policy"), -1);
    assert_null(pl_policies[n]);
}

/* Every kind bit a policy may name. */
#define PL_KINDS_ANY                                                                               \
    (PL_KINDS(PL_KIND_POD) | PL_KINDS(PL_KIND_DEPLOYMENT) | PL_KINDS(PL_KIND_STATEFULSET) |        \
     PL_KINDS(PL_KIND_DAEMONSET) | PL_KINDS(PL_KIND_REPLICASET) |                                  \
     PL_KINDS(PL_KIND_REPLICATIONCONTROLLER) | PL_KINDS(PL_KIND_JOB) | PL_KINDS(PL_KIND_CRONJOB))

/*
 * A parameter table is well formed: kebab-case names, unique; a type; an
 * offset inside the struct; a summary; bounds that hold their own default;
 * an ENUM with choices; and the defaults parse (they go through the same
 * checks as configured values). Unknown keys are refused.
 */
static void assert_params(const char *id, const struct pl_param_set *set)
{
    if (!set) {
        return;
    }
    assert_non_null(set->table);
    assert_true(set->size > 0);
    for (const struct pl_param *q = set->table; q->name; q++) {
        assert_kebab(q->name);
        for (const struct pl_param *other = set->table; other < q; other++) {
            assert_string_not_equal(other->name, q->name);
        }
        assert_true(q->type >= PL_PARAM_BOOL && q->type <= PL_PARAM_STRMAP);
        assert_true(q->offset < set->size);
        assert_true(q->summary && strlen(q->summary) > 10);
        assert_true(q->type != PL_PARAM_ENUM || (q->choices && q->choices[0] && q->choices[1]));
        assert_true(q->type != PL_PARAM_INT || q->min <= q->max);
        assert_false(q->def && q->def_list); /* one default, written once */
    }
    void *params = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_params_parse(set, NULL, NULL, &params, &err) < 0) {
        fail_msg("%s: the defaults do not parse: %s: %s", id, err.path, err.message);
    }
    pl_params_free(set, params);
    json_t *unknown = json_pack("{s:b}", "no-such-parameter", 1);
    assert_int_equal(pl_params_parse(set, unknown, NULL, &params, &err), -EINVAL);
    assert_string_equal(err.path, "no-such-parameter");
    json_decref(unknown);
}

static void test_descriptors_complete(void **state)
{
    (void)state;
    for (size_t i = 0; pl_policies[i]; i++) {
        const struct pl_policy *p = pl_policies[i];
        assert_non_null(p->check);
        assert_non_null(p->summary);
        assert_true(strlen(p->summary) > 10);
        assert_true(p->default_mode == PL_MODE_OFF || p->default_mode == PL_MODE_WARN ||
                    p->default_mode == PL_MODE_ENFORCE);
        assert_true(p->kinds == 0 || (p->kinds & ~PL_KINDS_ANY) == 0);
        assert_params(p->id, p->params);
    }
    /* The facts SPEC §6 states of particular policies, now written in their descriptors. */
    assert_true(pl_policies[pl_policy_index("pod-security")]->never_exempt);
    assert_true(pl_policies[pl_policy_index("image-registry")]->never_exempt);
    assert_true(pl_policies[pl_policy_index("plain-secrets")]->never_exempt);
    assert_false(pl_policies[pl_policy_index("liveness-probe")]->never_exempt);
    assert_true(pl_policies[pl_policy_index("pod-security")]->every_pod);
    assert_false(pl_policies[pl_policy_index("resources")]->every_pod);
}

static bool file_exists(const char *relative)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/%s", PL_SOURCE_ROOT, relative);
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void test_every_policy_has_a_runbook(void **state)
{
    (void)state;
    for (size_t i = 0; pl_policies[i]; i++) {
        char path[256];
        snprintf(path, sizeof(path), "docs/policies/%s.md", pl_policies[i]->id);
        if (!file_exists(path)) {
            fail_msg("%s has no runbook %s", pl_policies[i]->id, path);
        }
    }
}

/* Counts the cases of a policy whose expected verdict is allowed / rejected. */
static void count_cases(const char *id, int *ret_pass, int *ret_fail)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/test/cases/%s", PL_SOURCE_ROOT, id);
    *ret_pass = *ret_fail = 0;
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        const char *suffix = ".expected.json";
        if (len <= strlen(suffix) || strcmp(e->d_name + len - strlen(suffix), suffix) != 0) {
            continue;
        }
        char rel[4096];
        snprintf(rel, sizeof(rel), "test/cases/%s/%s", id, e->d_name);
        json_t *expected = pl_test_yaml_file(rel);
        json_t *allowed = json_object_get(expected, "allowed");
        assert_true(json_is_boolean(allowed));
        if (json_is_true(allowed)) {
            (*ret_pass)++;
        } else {
            (*ret_fail)++;
        }
        json_decref(expected);
    }
    closedir(d);
}

static void test_every_policy_has_passing_and_failing_cases(void **state)
{
    (void)state;
    for (size_t i = 0; pl_policies[i]; i++) {
        int pass, fail;
        count_cases(pl_policies[i]->id, &pass, &fail);
        if (pass == 0 || fail == 0) {
            fail_msg(
                "%s needs passing and failing cases in test/cases/%s (has %d passing, %d failing)",
                pl_policies[i]->id, pl_policies[i]->id, pass, fail);
        }
    }
}

static bool dir_has_cases(const char *relative)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", PL_SOURCE_ROOT, relative);
    DIR *d = opendir(path);
    if (!d) {
        return false;
    }
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        found = strstr(e->d_name, ".yaml") != NULL;
    }
    closedir(d);
    return found;
}

static void test_mutations(void **state)
{
    (void)state;
    size_t n = pl_mutation_count();
    assert_int_equal(n, 3);
    /* Declared, not derived from spelling: inject-tracing reads inject-commit's commit. */
    const struct pl_mutation *tracing = pl_mutations[pl_mutation_index("inject-tracing")];
    assert_non_null(tracing->after);
    assert_string_equal(tracing->after[0], "inject-commit");
    for (size_t i = 0; i < n; i++) {
        const struct pl_mutation *m = pl_mutations[i];
        assert_kebab(m->id);
        assert_non_null(m->mutate);
        assert_true(m->summary && strlen(m->summary) > 10);
        /* The table is in the order mutations run: what one reads runs before it. */
        for (const char *const *a = m->after; a && *a; a++) {
            int before = pl_mutation_index(*a);
            if (before < 0 || before >= (int)i) {
                fail_msg("%s reads %s, which must run before it (policies/meson.build)", m->id, *a);
            }
        }
        assert_int_equal(pl_mutation_index(m->id), (int)i);
        assert_int_equal(pl_policy_index(m->id), -1); /* one namespace of ids */
        char path[256];
        snprintf(path, sizeof(path), "docs/policies/%s.md", m->id);
        if (!file_exists(path)) {
            fail_msg("%s has no runbook %s", m->id, path);
        }
        snprintf(path, sizeof(path), "test/cases-mutate/%s", m->id);
        if (!dir_has_cases(path)) {
            fail_msg("%s has no cases in %s", m->id, path);
        }
        assert_params(m->id, m->params);
    }
    assert_null(pl_mutations[n]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_unique_sorted_kebab),
        cmocka_unit_test(test_descriptors_complete),
        cmocka_unit_test(test_every_policy_has_a_runbook),
        cmocka_unit_test(test_every_policy_has_passing_and_failing_cases),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
