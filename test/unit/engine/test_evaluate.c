/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of engine/evaluate.c through its public API: the verdict and
 * its texts, the mode precedence of SPEC §6 (namespace annotation per
 * policy > plimsoll.dev/mode > configuration; plimsoll.dev/mode does not
 * switch on what the configuration turned off), bad annotation values that
 * become a warning note and fall through, excluded namespaces, operations
 * other than CREATE/UPDATE, kinds without a pod template, workload
 * exemptions, and UPDATE grandfathering. liveness-probe and readiness-probe
 * are the probes: their rules are simple and stable.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "engine/config.h"
#include "engine/evaluate.h"
#include "policies/registry.h"
#include "test/helpers/fixture.h"

#define BASE "https://rb.example/"

#define LIVENESS_MSG  "no livenessProbe; a hung process is never restarted"
#define READINESS_MSG "no readinessProbe; traffic arrives before the app is ready"

/* A configuration with every policy off except those in extra (YAML lines under policies:). */
static struct pl_config *config_with(const char *extra, const char *top)
{
    struct pl_buf b;
    pl_buf_init(&b, 1u << 16);
    assert_int_equal(pl_buf_printf(&b, "runbook-base-url: %s\n%spolicies:\n", BASE, top), 0);
    for (size_t i = 0; pl_policies[i]; i++) {
        char needle[128];
        snprintf(needle, sizeof(needle), "  %s:", pl_policies[i]->id);
        if (!strstr(extra, needle)) {
            assert_int_equal(pl_buf_printf(&b, "  %s: {mode: off}\n", pl_policies[i]->id), 0);
        }
    }
    assert_int_equal(pl_buf_puts(&b, extra), 0);
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_config_parse(pl_buf_str(&b), b.len, "plimsoll", &cfg, &err) < 0) {
        fail_msg("test config: %s: %s", err.path, err.message);
    }
    pl_buf_finish(&b);
    return cfg;
}

static const char deployment[] = "kind: Deployment\n"
                                 "metadata: {name: web, namespace: shop}\n"
                                 "spec:\n"
                                 "  template:\n"
                                 "    spec:\n"
                                 "      containers:\n"
                                 "        - name: web\n"
                                 "          image: nginx:1.25\n";

struct run {
    struct pl_pool pool;
    json_t *object;
    json_t *old_object;
    json_t *annotations;
    struct pl_decision d;
};

/* Evaluates yaml as a request of user (NULL: unknown) under cfg; annotations is a YAML
 * mapping or NULL. */
static void evaluate_as(struct run *run, const struct pl_config *cfg, const char *user,
                        enum pl_operation op, const char *yaml, const char *old_yaml,
                        const char *annotations)
{
    memset(run, 0, sizeof(*run));
    pl_pool_init(&run->pool);
    run->object = yaml ? pl_test_yaml(yaml) : NULL;
    run->old_object = old_yaml ? pl_test_yaml(old_yaml) : NULL;
    run->annotations = annotations ? pl_test_yaml(annotations) : NULL;
    struct pl_request req = {
        .operation = op,
        .namespace_ = NULL,
        .object = run->object,
        .old_object = run->old_object,
        .ns_annotations = run->annotations,
        .user = user,
    };
    struct pl_error err;
    pl_error_init(&err);
    if (pl_evaluate(cfg, &req, &run->pool, &run->d, &err) < 0) {
        fail_msg("pl_evaluate failed: %s", err.message);
    }
}

/* Evaluates yaml under cfg; annotations is a YAML mapping or NULL. */
static void evaluate(struct run *run, const struct pl_config *cfg, enum pl_operation op,
                     const char *yaml, const char *old_yaml, const char *annotations)
{
    evaluate_as(run, cfg, NULL, op, yaml, old_yaml, annotations);
}

static void run_finish(struct run *run)
{
    pl_pool_finish(&run->pool);
    json_decref(run->object);
    json_decref(run->old_object);
    json_decref(run->annotations);
}

/* Evaluates yaml as a CREATE under cfg with the neighbour set n (NULL: admission). */
static void evaluate_with(struct run *run, const struct pl_config *cfg, const char *yaml,
                          const struct pl_neighbours *n)
{
    memset(run, 0, sizeof(*run));
    pl_pool_init(&run->pool);
    run->object = pl_test_yaml(yaml);
    struct pl_request req = {.operation = PL_OP_CREATE, .object = run->object, .neighbours = n};
    struct pl_error err;
    pl_error_init(&err);
    if (pl_evaluate(cfg, &req, &run->pool, &run->d, &err) < 0) {
        fail_msg("pl_evaluate failed: %s", err.message);
    }
}

static const char replicated[] = "kind: Deployment\n"
                                 "metadata: {name: web, namespace: shop}\n"
                                 "spec:\n"
                                 "  replicas: 3\n"
                                 "  template:\n"
                                 "    metadata: {labels: {app: web}}\n"
                                 "    spec:\n"
                                 "      containers: [{name: web, image: nginx:1.25}]\n";

static const char blocking_pdb[] =
    "kind: PodDisruptionBudget\n"
    "metadata: {name: web, namespace: shop}\n"
    "spec: {maxUnavailable: 0, selector: {matchLabels: {app: web}}}\n";

/*
 * The policies that need the neighbouring objects run only where a set is
 * given: at admission (no set) a replicated Deployment without a budget is
 * not reported, and a PodDisruptionBudget is not evaluated at all; with a
 * set, both are, and the budget of the set satisfies the Deployment.
 */
static void test_neighbour_policies_only_with_a_set(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  pod-disruption-budget: {mode: enforce}\n"
                                        "  pdb-allows-disruption: {mode: enforce}\n",
                                        "");
    struct run run;
    evaluate_with(&run, cfg, replicated, NULL);
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.len, 0);
    run_finish(&run);
    evaluate_with(&run, cfg, blocking_pdb, NULL);
    assert_true(run.d.allowed);
    assert_false(run.d.evaluated);
    run_finish(&run);

    struct pl_neighbours empty;
    pl_neighbours_init(&empty);
    evaluate_with(&run, cfg, replicated, &empty);
    assert_false(run.d.allowed);
    assert_int_equal(run.d.report.len, 1);
    assert_string_equal(run.d.report.items[0].policy, "pod-disruption-budget");
    assert_string_equal(run.d.report.items[0].path, "spec.template.metadata.labels");
    run_finish(&run);

    struct pl_neighbours set;
    pl_neighbours_init(&set);
    json_t *pdb = pl_test_yaml(blocking_pdb);
    assert_true(pl_neighbours_add(&set, pdb, "shop"));
    json_decref(pdb);
    evaluate_with(&run, cfg, replicated, &set);
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.len, 0);
    run_finish(&run);
    evaluate_with(&run, cfg, blocking_pdb, &set);
    assert_true(run.d.evaluated);
    assert_false(run.d.allowed);
    assert_int_equal(run.d.report.len, 1);
    assert_string_equal(run.d.report.items[0].policy, "pdb-allows-disruption");
    assert_string_equal(run.d.report.items[0].path, "spec.maxUnavailable");
    run_finish(&run);

    /* A policy of pod templates never runs on a budget (which is still judged: a
     * namespace annotation may switch on the policies of its kind), and an excluded
     * namespace is skipped for budgets too. */
    struct pl_config *all = config_with("  liveness-probe: {mode: enforce}\n", "");
    evaluate_with(&run, all, blocking_pdb, &set);
    assert_int_equal(run.d.report.len, 0);
    assert_true(run.d.allowed);
    run_finish(&run);
    pl_config_unref(all);
    evaluate_with(&run, cfg,
                  "kind: PodDisruptionBudget\nmetadata: {name: x, namespace: kube-system}\n"
                  "spec: {maxUnavailable: 0}\n",
                  &set);
    assert_false(run.d.evaluated);
    run_finish(&run);

    pl_neighbours_finish(&set);
    pl_neighbours_finish(&empty);
    pl_config_unref(cfg);
}

static const char *warning(const struct run *run, size_t i)
{
    return json_string_value(json_array_get(run->d.warnings, i));
}

static void test_reject_with_exact_message(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  liveness-probe: {mode: enforce}\n", "");
    struct run run;
    evaluate(&run, cfg, PL_OP_CREATE, deployment, NULL, NULL);
    assert_false(run.d.allowed);
    assert_true(run.d.evaluated);
    assert_int_equal(run.d.obj.kind, PL_KIND_DEPLOYMENT);
    assert_int_equal(run.d.report.len, 1);
    assert_string_equal(run.d.report.items[0].policy, "liveness-probe");
    assert_string_equal(run.d.report.items[0].path, "spec.template.spec.containers[0] (web)");
    assert_string_equal(run.d.message,
                        "plimsoll rejected Deployment shop/web: 1 production-readiness violation\n"
                        "- [liveness-probe] spec.template.spec.containers[0] (web): " LIVENESS_MSG
                        ". Runbook: " BASE "liveness-probe");
    assert_int_equal(json_array_size(run.d.warnings), 0);
    run_finish(&run);
    pl_config_unref(cfg);
}

static void test_allowed_when_clean(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  liveness-probe: {mode: enforce}\n", "");
    struct run run;
    evaluate(&run, cfg, PL_OP_CREATE,
             "kind: Pod\nmetadata: {name: p, namespace: shop}\n"
             "spec: {containers: [{name: a, livenessProbe: {exec: {command: [true]}}}]}\n",
             NULL, NULL);
    assert_true(run.d.allowed);
    assert_true(run.d.evaluated);
    assert_null(run.d.message);
    assert_int_equal(run.d.report.len, 0);
    assert_true(json_is_array(run.d.warnings));
    assert_int_equal(json_array_size(run.d.warnings), 0);
    run_finish(&run);
    pl_config_unref(cfg);
}

static void test_warn_mode_from_config(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  readiness-probe: {mode: warn}\n", "");
    struct run run;
    evaluate(&run, cfg, PL_OP_CREATE, deployment, NULL, NULL);
    assert_true(run.d.allowed);
    assert_null(run.d.message);
    assert_int_equal(json_array_size(run.d.warnings), 2);
    assert_string_equal(warning(&run, 0), "[readiness-probe] containers[0] (web): " READINESS_MSG);
    assert_string_equal(warning(&run, 1), "Runbooks: " BASE "readiness-probe");
    run_finish(&run);
    pl_config_unref(cfg);
}

/* The effective mode of liveness-probe on deployment for a config mode and namespace annotations.
 */
static enum pl_mode mode_for(const char *config_mode, const char *annotations, char *note,
                             size_t note_size)
{
    char extra[128];
    snprintf(extra, sizeof(extra), "  liveness-probe: {mode: %s}\n", config_mode);
    struct pl_config *cfg = config_with(extra, "");
    struct run run;
    evaluate(&run, cfg, PL_OP_CREATE, deployment, NULL, annotations);
    enum pl_mode mode = PL_MODE_OFF;
    if (run.d.report.len > 0) {
        assert_int_equal(run.d.report.len, 1);
        mode = run.d.report.items[0].mode;
        assert_int_equal(run.d.allowed, mode != PL_MODE_ENFORCE);
    } else {
        assert_true(run.d.allowed);
    }
    if (note) {
        /* Notes come first among the warnings, before any violation. */
        const char *first = warning(&run, 0);
        snprintf(note, note_size, "%s",
                 first && strncmp(first, "plimsoll: ", 10) == 0 ? first : "");
    }
    run_finish(&run);
    pl_config_unref(cfg);
    return mode;
}

static void test_mode_precedence(void **state)
{
    (void)state;
    /* Rule 4: the configuration. */
    assert_int_equal(mode_for("enforce", NULL, NULL, 0), PL_MODE_ENFORCE);
    assert_int_equal(mode_for("warn", NULL, NULL, 0), PL_MODE_WARN);
    assert_int_equal(mode_for("off", NULL, NULL, 0), PL_MODE_OFF);
    assert_int_equal(mode_for("enforce", "{}", NULL, 0), PL_MODE_ENFORCE);
    assert_int_equal(mode_for("enforce", "{other: x}", NULL, 0), PL_MODE_ENFORCE);
    /* Rule 3: plimsoll.dev/mode for every policy the configuration does not turn off. */
    assert_int_equal(mode_for("enforce", "{plimsoll.dev/mode: warn}", NULL, 0), PL_MODE_WARN);
    assert_int_equal(mode_for("warn", "{plimsoll.dev/mode: enforce}", NULL, 0), PL_MODE_ENFORCE);
    assert_int_equal(mode_for("enforce", "{plimsoll.dev/mode: 'off'}", NULL, 0), PL_MODE_OFF);
    assert_int_equal(mode_for("off", "{plimsoll.dev/mode: enforce}", NULL, 0), PL_MODE_OFF);
    /* Rule 2: the policy's own annotation beats both. */
    assert_int_equal(mode_for("enforce",
                              "{plimsoll.dev/mode: warn, plimsoll.dev/liveness-probe: enforce}",
                              NULL, 0),
                     PL_MODE_ENFORCE);
    assert_int_equal(mode_for("warn",
                              "{plimsoll.dev/mode: enforce, plimsoll.dev/liveness-probe: 'off'}",
                              NULL, 0),
                     PL_MODE_OFF);
    assert_int_equal(mode_for("off", "{plimsoll.dev/liveness-probe: warn}", NULL, 0), PL_MODE_WARN);
    /* Another policy's annotation changes nothing here. */
    assert_int_equal(mode_for("enforce", "{plimsoll.dev/readiness-probe: 'off'}", NULL, 0),
                     PL_MODE_ENFORCE);
}

static void test_bad_annotation_values_fall_through(void **state)
{
    (void)state;
    char note[512];
    /* A bad per-policy value falls through to plimsoll.dev/mode... */
    assert_int_equal(mode_for("enforce",
                              "{plimsoll.dev/liveness-probe: strict, plimsoll.dev/mode: warn}",
                              note, sizeof(note)),
                     PL_MODE_WARN);
    assert_string_equal(note, "plimsoll: namespace annotation plimsoll.dev/liveness-probe has the "
                              "unknown value \"strict\" (expected enforce, warn or off); ignored");
    /* ...or to the configuration. */
    assert_int_equal(mode_for("enforce", "{plimsoll.dev/liveness-probe: Warn}", note, sizeof(note)),
                     PL_MODE_ENFORCE);
    assert_string_equal(note, "plimsoll: namespace annotation plimsoll.dev/liveness-probe has the "
                              "unknown value \"Warn\" (expected enforce, warn or off); ignored");
    /* A bad plimsoll.dev/mode falls through to the configuration. */
    assert_int_equal(mode_for("warn", "{plimsoll.dev/mode: disabled}", note, sizeof(note)),
                     PL_MODE_WARN);
    assert_string_equal(note, "plimsoll: namespace annotation plimsoll.dev/mode has the unknown "
                              "value \"disabled\" (expected enforce, warn or off); ignored");
    /* A value that is not a string is no annotation at all. */
    assert_int_equal(mode_for("enforce", "{plimsoll.dev/mode: 3}", note, sizeof(note)),
                     PL_MODE_ENFORCE);
    assert_string_equal(note, "");
    /* A long value is quoted cut to 64 bytes. */
    char annotations[256];
    char value[101];
    memset(value, 'v', 100);
    value[100] = '\0';
    snprintf(annotations, sizeof(annotations), "{plimsoll.dev/mode: %s}", value);
    (void)mode_for("enforce", annotations, note, sizeof(note));
    char want[256];
    snprintf(want, sizeof(want),
             "plimsoll: namespace annotation plimsoll.dev/mode has the unknown value \"%.64s\" "
             "(expected enforce, warn or off); ignored",
             value);
    assert_string_equal(note, want);
}

static void test_bad_annotation_note_on_admitted_object(void **state)
{
    (void)state;
    /* The note reaches the user even when nothing is violated. */
    struct pl_config *cfg = config_with("  liveness-probe: {mode: enforce}\n", "");
    struct run run;
    evaluate(&run, cfg, PL_OP_CREATE,
             "kind: Pod\nmetadata: {name: p, namespace: shop}\n"
             "spec: {containers: [{name: a, livenessProbe: {exec: {command: [true]}}}]}\n",
             NULL, "{plimsoll.dev/mode: loud}");
    assert_true(run.d.allowed);
    assert_int_equal(json_array_size(run.d.warnings), 1);
    assert_memory_equal(warning(&run, 0), "plimsoll: namespace annotation plimsoll.dev/mode", 48);
    run_finish(&run);
    pl_config_unref(cfg);
}

static void test_excluded_namespaces(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  liveness-probe: {mode: enforce}\n", "");
    const char *namespaces[] = {"kube-system", "kube-public", "kube-node-lease", "plimsoll"};
    for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
        char yaml[512];
        snprintf(yaml, sizeof(yaml),
                 "kind: Pod\nmetadata: {name: p, namespace: %s}\nspec: {containers: [{name: a}]}\n",
                 namespaces[i]);
        struct run run;
        /* Even a namespace annotation cannot switch a policy on there. */
        evaluate(&run, cfg, PL_OP_CREATE, yaml, NULL, "{plimsoll.dev/liveness-probe: enforce}");
        assert_true(run.d.allowed);
        assert_false(run.d.evaluated);
        assert_int_equal(run.d.report.len, 0);
        assert_null(run.d.message);
        run_finish(&run);
    }
    pl_config_unref(cfg);

    /* A configured list replaces the defaults (the self namespace stays). */
    cfg = config_with("  liveness-probe: {mode: enforce}\n", "exclude-namespaces: [legacy]\n");
    struct run run;
    evaluate(&run, cfg, PL_OP_CREATE,
             "kind: Pod\nmetadata: {name: p, namespace: legacy}\nspec: {containers: [{}]}\n", NULL,
             NULL);
    assert_true(run.d.allowed);
    assert_false(run.d.evaluated);
    run_finish(&run);
    evaluate(&run, cfg, PL_OP_CREATE,
             "kind: Pod\nmetadata: {name: p, namespace: kube-system}\nspec: {containers: [{}]}\n",
             NULL, NULL);
    assert_false(run.d.allowed);
    run_finish(&run);
    pl_config_unref(cfg);
}

static void test_request_namespace(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  liveness-probe: {mode: enforce}\n", "");
    json_t *obj = pl_test_yaml("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}]}\n");
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_decision d;
    struct pl_error err;
    pl_error_init(&err);
    /* The object has no namespace: the request's applies (and is excluded here). */
    struct pl_request req = {.operation = PL_OP_CREATE, .namespace_ = "kube-system", .object = obj};
    assert_int_equal(pl_evaluate(cfg, &req, &pool, &d, &err), 0);
    assert_true(d.allowed);
    assert_false(d.evaluated);
    assert_string_equal(d.obj.namespace_, "kube-system");
    pl_pool_clear(&pool);
    req.namespace_ = "shop";
    assert_int_equal(pl_evaluate(cfg, &req, &pool, &d, &err), 0);
    assert_false(d.allowed);
    assert_non_null(strstr(d.message, "rejected Pod shop/p:"));
    pl_pool_clear(&pool);
    /* The object's own namespace wins over the request's. */
    json_t *obj2 = pl_test_yaml(
        "kind: Pod\nmetadata: {name: p, namespace: kube-system}\nspec: {containers: [{}]}\n");
    req.object = obj2;
    req.namespace_ = "shop";
    assert_int_equal(pl_evaluate(cfg, &req, &pool, &d, &err), 0);
    assert_false(d.evaluated);
    pl_pool_finish(&pool);
    json_decref(obj);
    json_decref(obj2);
    pl_config_unref(cfg);
}

static void test_operations(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  liveness-probe: {mode: enforce}\n", "");
    struct run run;
    /* DELETE and CONNECT are admitted, object or not. */
    evaluate(&run, cfg, PL_OP_DELETE, deployment, NULL, NULL);
    assert_true(run.d.allowed);
    assert_false(run.d.evaluated);
    assert_int_equal(run.d.report.len, 0);
    run_finish(&run);
    evaluate(&run, cfg, PL_OP_DELETE, NULL, deployment, NULL);
    assert_true(run.d.allowed);
    assert_string_equal(run.d.obj.kind_name, "");
    assert_string_equal(run.d.obj.name, "");
    run_finish(&run);
    evaluate(&run, cfg, PL_OP_CONNECT, NULL, NULL, NULL);
    assert_true(run.d.allowed);
    assert_int_equal(json_array_size(run.d.warnings), 0);
    run_finish(&run);
    /* UPDATE is judged like CREATE (with nothing to grandfather). */
    evaluate(&run, cfg, PL_OP_UPDATE, deployment, NULL, NULL);
    assert_false(run.d.allowed);
    run_finish(&run);
    pl_config_unref(cfg);
}

static void test_no_pod_template(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  liveness-probe: {mode: enforce}\n", "");
    struct run run;
    evaluate(&run, cfg, PL_OP_CREATE, "kind: Service\nmetadata: {name: s, namespace: shop}\n", NULL,
             NULL);
    assert_true(run.d.allowed);
    assert_false(run.d.evaluated);
    assert_int_equal(run.d.obj.kind, PL_KIND_OTHER);
    run_finish(&run);
    evaluate(&run, cfg, PL_OP_CREATE, "kind: Deployment\nmetadata: {name: d, namespace: shop}\n",
             NULL, NULL);
    assert_true(run.d.allowed);
    assert_false(run.d.evaluated);
    run_finish(&run);
    pl_config_unref(cfg);
}

static void test_not_an_object(void **state)
{
    (void)state;
    struct pl_config *cfg = pl_config_new_default(NULL);
    json_t *arr = json_array();
    struct pl_request req = {.operation = PL_OP_CREATE, .object = arr};
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_decision d;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_evaluate(cfg, &req, &pool, &d, &err), -EINVAL);
    assert_string_equal(err.message, "the object is not a JSON object");
    pl_pool_finish(&pool);
    json_decref(arr);
    pl_config_unref(cfg);
}

static const char exempt_deployment[] = "kind: Deployment\n"
                                        "metadata:\n"
                                        "  name: web\n"
                                        "  namespace: shop\n"
                                        "  annotations:\n"
                                        "    plimsoll.dev/exempt: \"%s\"\n"
                                        "    plimsoll.dev/exempt-reason: \"%s\"\n"
                                        "spec:\n"
                                        "  template:\n"
                                        "    spec:\n"
                                        "      containers: [{name: web, image: nginx:1.25}]\n";

static void evaluate_exempt(struct run *run, const struct pl_config *cfg, const char *ids,
                            const char *reason)
{
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), exempt_deployment, ids, reason);
    evaluate(run, cfg, PL_OP_CREATE, yaml, NULL, NULL);
}

/* Violations of policies the object is exempted from: kept, in mode off, marked exempt. */
static size_t exempted(const struct run *run)
{
    size_t n = 0;
    for (size_t i = 0; i < run->d.report.len; i++) {
        const struct pl_violation *v = &run->d.report.items[i];
        if (v->suppression == PL_SUPPRESS_EXEMPT) {
            assert_int_equal(v->mode, PL_MODE_OFF);
            n++;
        }
    }
    return n;
}

static void test_exemptions(void **state)
{
    (void)state;
    struct pl_config *cfg =
        config_with("  liveness-probe: {mode: enforce}\n  readiness-probe: {mode: enforce}\n", "");
    struct run run;
    evaluate_exempt(&run, cfg, "liveness-probe", "batch-like worker, restarts itself");
    assert_false(run.d.allowed);
    assert_int_equal(pl_report_count(&run.d.report, PL_MODE_ENFORCE), 1);
    assert_int_equal(exempted(&run), 1);
    /* On record, with the mode it would have had, but in neither message nor warnings. */
    assert_string_equal(run.d.report.items[0].policy, "liveness-probe");
    assert_int_equal(run.d.report.items[0].base_mode, PL_MODE_ENFORCE);
    assert_string_equal(run.d.report.items[1].policy, "readiness-probe");
    assert_null(strstr(run.d.message, "liveness-probe"));
    run_finish(&run);

    evaluate_exempt(&run, cfg, "liveness-probe, readiness-probe", "legacy app");
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.len, 2);
    assert_int_equal(exempted(&run), 2);
    assert_int_equal(json_array_size(run.d.warnings), 0);
    run_finish(&run);

    /* No reason: ignored, and said so. */
    evaluate_exempt(&run, cfg, "liveness-probe,readiness-probe", " ");
    assert_false(run.d.allowed);
    assert_int_equal(run.d.report.len, 2);
    assert_int_equal(exempted(&run), 0);
    assert_string_equal(warning(&run, 0),
                        "plimsoll: plimsoll.dev/exempt is ignored: it needs a non-empty "
                        "plimsoll.dev/exempt-reason saying why");
    run_finish(&run);

    /* Unknown ids are reported; the known ones still count. */
    evaluate_exempt(&run, cfg, "livenes-probe,readiness-probe", "typo");
    assert_int_equal(pl_report_count(&run.d.report, PL_MODE_ENFORCE), 1);
    assert_int_equal(exempted(&run), 1);
    assert_string_equal(run.d.report.items[0].policy, "liveness-probe");
    assert_string_equal(warning(&run, 0),
                        "plimsoll: plimsoll.dev/exempt names \"livenes-probe\", which is not a "
                        "policy; ignored");
    run_finish(&run);
    pl_config_unref(cfg);

    /* A policy that may not be exempted still applies. */
    cfg = config_with("  liveness-probe: {mode: enforce}\n",
                      "exemptions: {allow: [readiness-probe]}\n");
    evaluate_exempt(&run, cfg, "liveness-probe", "please");
    assert_false(run.d.allowed);
    assert_int_equal(run.d.report.len, 1);
    assert_int_equal(exempted(&run), 0);
    assert_string_equal(warning(&run, 0),
                        "plimsoll: exemption from liveness-probe is not allowed here "
                        "(exemptions.allow); the policy still applies");
    run_finish(&run);
    pl_config_unref(cfg);
}

static void test_exemption_on_pod_template(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  liveness-probe: {mode: enforce}\n", "");
    struct run run;
    evaluate(&run, cfg, PL_OP_CREATE,
             "kind: Deployment\nmetadata: {name: web, namespace: shop}\n"
             "spec:\n  template:\n    metadata:\n      annotations:\n"
             "        plimsoll.dev/exempt: liveness-probe\n"
             "        plimsoll.dev/exempt-reason: sidecar-only pod\n"
             "    spec: {containers: [{name: web}]}\n",
             NULL, NULL);
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.len, 1);
    assert_int_equal(exempted(&run), 1);
    run_finish(&run);
    pl_config_unref(cfg);
}

static const char old_without_probes[] = "kind: Deployment\n"
                                         "metadata: {name: web, namespace: shop}\n"
                                         "spec:\n"
                                         "  replicas: 1\n"
                                         "  template:\n"
                                         "    spec:\n"
                                         "      containers:\n"
                                         "        - name: web\n"
                                         "          image: nginx:1.24\n";

static void test_update_grandfathering(void **state)
{
    (void)state;
    struct pl_config *cfg =
        config_with("  liveness-probe: {mode: enforce}\n  readiness-probe: {mode: enforce}\n", "");
    struct run run;
    /* The stored object already lacked both probes: the update is admitted with warnings. */
    evaluate(&run, cfg, PL_OP_UPDATE, deployment, old_without_probes, NULL);
    assert_true(run.d.allowed);
    assert_null(run.d.message);
    assert_int_equal(run.d.report.len, 2);
    assert_int_equal(run.d.report.items[0].mode, PL_MODE_WARN);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_GRANDFATHERED);
    assert_string_equal(warning(&run, 0), "[liveness-probe] containers[0] (web): " LIVENESS_MSG
                                          " (already there before this update: allowed)");
    run_finish(&run);

    /* A new violation (a second container) still rejects; the old one stays a warning. */
    evaluate(&run, cfg, PL_OP_UPDATE,
             "kind: Deployment\nmetadata: {name: web, namespace: shop}\n"
             "spec: {template: {spec: {containers: [{name: web}, {name: new}]}}}\n",
             old_without_probes, NULL);
    assert_false(run.d.allowed);
    assert_int_equal(run.d.report.len, 4);
    assert_non_null(strstr(run.d.message, ": 2 production-readiness violations\n"));
    assert_non_null(strstr(run.d.message, "containers[1] (new)"));
    assert_null(strstr(run.d.message, "containers[0] (web)"));
    run_finish(&run);

    /* The old object was fine: nothing to grandfather. */
    evaluate(&run, cfg, PL_OP_UPDATE, deployment,
             "kind: Deployment\nmetadata: {name: web, namespace: shop}\n"
             "spec: {template: {spec: {containers: [{name: web, livenessProbe: {}, "
             "readinessProbe: {}}]}}}\n",
             NULL);
    assert_false(run.d.allowed);
    run_finish(&run);

    /* CREATE never grandfathers, even with an old object. */
    evaluate(&run, cfg, PL_OP_CREATE, deployment, old_without_probes, NULL);
    assert_false(run.d.allowed);
    run_finish(&run);
    pl_config_unref(cfg);

    /* grandfather-updates: false turns it off. */
    cfg = config_with("  liveness-probe: {mode: enforce}\n", "grandfather-updates: false\n");
    evaluate(&run, cfg, PL_OP_UPDATE, deployment, old_without_probes, NULL);
    assert_false(run.d.allowed);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_NONE);
    run_finish(&run);
    pl_config_unref(cfg);
}

static void test_update_grandfathering_under_namespace_modes(void **state)
{
    (void)state;
    /* The configuration only warns; the namespace enforces liveness-probe and
     * carries a bad value. The old object is judged in the namespace's modes
     * too, so the old violation is grandfathered, and the bad value is noted
     * once, not once per object. */
    struct pl_config *cfg = config_with("  liveness-probe: {mode: warn}\n", "");
    struct run run;
    evaluate(&run, cfg, PL_OP_UPDATE, deployment, old_without_probes,
             "{plimsoll.dev/liveness-probe: enforce, plimsoll.dev/readiness-probe: strict}");
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.len, 1);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_GRANDFATHERED);
    assert_int_equal(json_array_size(run.d.notes), 1);
    assert_non_null(strstr(json_string_value(json_array_get(run.d.notes, 0)),
                           "plimsoll.dev/readiness-probe has the unknown value \"strict\""));
    run_finish(&run);

    /* The same in enforce without the old violation: rejected, so the mode is the namespace's. */
    evaluate(&run, cfg, PL_OP_UPDATE, deployment,
             "kind: Deployment\nmetadata: {name: web, namespace: shop}\n"
             "spec: {template: {spec: {containers: [{name: web, livenessProbe: {}}]}}}\n",
             "{plimsoll.dev/liveness-probe: enforce}");
    assert_false(run.d.allowed);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_NONE);
    run_finish(&run);
    pl_config_unref(cfg);
}

#define RS_CONTROLLER "system:serviceaccount:kube-system:replicaset-controller"

/* A Pod without probes whose ownerReference names a ReplicaSet as its controller. */
static const char owned_pod[] =
    "kind: Pod\n"
    "metadata:\n"
    "  name: web-1\n"
    "  namespace: shop\n"
    "  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: u1, "
    "controller: true}]\n"
    "spec: {containers: [{name: web, image: nginx:1.25}]}\n";

/* The same Pod, and its pod-security violation: a privileged container. */
static const char owned_privileged_pod[] =
    "kind: Pod\n"
    "metadata:\n"
    "  name: web-1\n"
    "  namespace: shop\n"
    "  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: u1, "
    "controller: true}]\n"
    "spec: {containers: [{name: web, image: nginx:1.25, livenessProbe: {}, "
    "securityContext: {privileged: true}}]}\n";

static void test_controller_made_pods(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with(
        "  liveness-probe: {mode: enforce}\n  pod-security: {mode: enforce, level: baseline}\n",
        "");
    struct run run;

    /* The ReplicaSet controller's Pod: what its workload was admitted with only warns. */
    evaluate_as(&run, cfg, RS_CONTROLLER, PL_OP_CREATE, owned_pod, NULL, NULL);
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.len, 1);
    assert_int_equal(run.d.report.items[0].mode, PL_MODE_WARN);
    assert_int_equal(run.d.report.items[0].base_mode, PL_MODE_ENFORCE);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_CONTROLLER);
    assert_string_equal(warning(&run, 0),
                        "[liveness-probe] containers[0] (web): " LIVENESS_MSG
                        " (allowed: a controller made this from an admitted workload)");
    run_finish(&run);

    /* Anyone may write an ownerReference: from an ordinary user it proves nothing. */
    evaluate_as(&run, cfg, "alice", PL_OP_CREATE, owned_pod, NULL, NULL);
    assert_false(run.d.allowed);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_NONE);
    run_finish(&run);
    evaluate_as(&run, cfg, "system:serviceaccount:shop:replicaset-controller", PL_OP_CREATE,
                owned_pod, NULL, NULL);
    assert_false(run.d.allowed);
    run_finish(&run);

    /* A controller's user without the ownerReference: not made from a workload. */
    evaluate_as(&run, cfg, RS_CONTROLLER, PL_OP_CREATE,
                "kind: Pod\nmetadata: {name: p, namespace: shop}\n"
                "spec: {containers: [{name: web, image: nginx:1.25}]}\n",
                NULL, NULL);
    assert_false(run.d.allowed);
    run_finish(&run);

    /* pod-security is enforced on every Pod, and the rejection says so. */
    evaluate_as(&run, cfg, RS_CONTROLLER, PL_OP_CREATE, owned_privileged_pod, NULL, NULL);
    assert_false(run.d.allowed);
    assert_true(run.d.report.items[0].every_pod);
    assert_non_null(strstr(run.d.message, "[pod-security] spec.containers[0] (web)"));
    assert_non_null(strstr(run.d.message,
                           " (enforced on every Pod, also those a controller creates). Runbook: "));
    run_finish(&run);

    /* ... but in a namespace that only warns, it only warns there too. */
    evaluate_as(&run, cfg, RS_CONTROLLER, PL_OP_CREATE, owned_privileged_pod, NULL,
                "{plimsoll.dev/mode: warn}");
    assert_true(run.d.allowed);
    run_finish(&run);
    pl_config_unref(cfg);

    /* controllers.users replaces the list; enforce-on-pods: [] trusts the workloads fully. */
    cfg = config_with(
        "  liveness-probe: {mode: enforce}\n  pod-security: {mode: enforce, level: baseline}\n",
        "controllers: {users: [\"system:serviceaccount:argo:rollouts\"], enforce-on-pods: []}\n");
    evaluate_as(&run, cfg, RS_CONTROLLER, PL_OP_CREATE, owned_pod, NULL, NULL);
    assert_false(run.d.allowed);
    run_finish(&run);
    evaluate_as(&run, cfg, "system:serviceaccount:argo:rollouts", PL_OP_CREATE,
                owned_privileged_pod, NULL, NULL);
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_CONTROLLER);
    run_finish(&run);
    pl_config_unref(cfg);
}

/* Past the report's cap, a controller's Pod is still let off what its workload was:
 * only the dropped violations of every-Pod policies would reject it. */
static void test_controller_pod_past_the_cap(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with(
        "  plain-secrets: {mode: enforce}\n  pod-security: {mode: enforce, level: baseline}\n", "");
    struct pl_buf b;
    pl_buf_init(&b, 1u << 20);
    assert_int_equal(pl_buf_puts(&b, "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", "
                                     "\"namespace\": \"shop\", \"ownerReferences\": [{\"kind\": "
                                     "\"ReplicaSet\", \"name\": \"r\", \"controller\": true}]}, "
                                     "\"spec\": {\"containers\": [{\"name\": \"web\", \"env\": ["),
                     0);
    for (int i = 0; i < PL_REPORT_MAX_VIOLATIONS + 5; i++) {
        assert_int_equal(pl_buf_printf(&b, "%s{\"name\": \"PASSWORD_%d\", \"value\": \"x%d\"}",
                                       i ? ", " : "", i, i),
                         0);
    }
    assert_int_equal(pl_buf_puts(&b, "]}]}}"), 0);
    struct run run;
    evaluate_as(&run, cfg, RS_CONTROLLER, PL_OP_CREATE, pl_buf_str(&b), NULL, NULL);
    assert_true(run.d.allowed);
    assert_int_equal(pl_report_count(&run.d.report, PL_MODE_ENFORCE), 0);
    assert_int_equal(pl_report_count(&run.d.report, PL_MODE_WARN), PL_REPORT_MAX_VIOLATIONS + 5);
    run_finish(&run);
    /* From anyone else: rejected, all of them counted. */
    evaluate_as(&run, cfg, "alice", PL_OP_CREATE, pl_buf_str(&b), NULL, NULL);
    assert_false(run.d.allowed);
    assert_int_equal(pl_report_count(&run.d.report, PL_MODE_ENFORCE), PL_REPORT_MAX_VIOLATIONS + 5);
    run_finish(&run);
    pl_buf_finish(&b);
    pl_config_unref(cfg);
}

/* A ReplicaSet or Job a controller makes is relaxed whole: enforce-on-pods is for Pods. */
static void test_controller_made_workloads(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  pod-security: {mode: enforce, level: baseline}\n", "");
    const char *rs =
        "kind: ReplicaSet\n"
        "metadata:\n"
        "  name: web-5d8\n"
        "  namespace: shop\n"
        "  ownerReferences: [{kind: Deployment, name: web, uid: u, controller: true}]\n"
        "spec: {template: {spec: {hostNetwork: true, containers: [{name: web}]}}}\n";
    struct run run;
    evaluate_as(&run, cfg, "system:serviceaccount:kube-system:deployment-controller", PL_OP_CREATE,
                rs, NULL, NULL);
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_CONTROLLER);
    assert_false(run.d.report.items[0].every_pod);
    run_finish(&run);
    evaluate_as(&run, cfg, "bob", PL_OP_CREATE, rs, NULL, NULL);
    assert_false(run.d.allowed);
    run_finish(&run);
    pl_config_unref(cfg);
}

/* A workload's own metadata does not reach its Pods: it cannot exempt them from a policy
 * enforced on every Pod. The pod template can. */
static void test_exemption_from_every_pod_policy(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  pod-security: {mode: enforce, level: baseline}\n",
                                        "exemptions: {allow: [pod-security]}\n");
    const char *on_metadata =
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "  namespace: shop\n"
        "  annotations: {plimsoll.dev/exempt: pod-security, plimsoll.dev/exempt-reason: node agent}\n"
        "spec: {template: {spec: {hostPID: true, containers: [{name: web}]}}}\n";
    struct run run;
    evaluate(&run, cfg, PL_OP_CREATE, on_metadata, NULL, NULL);
    assert_false(run.d.allowed);
    assert_string_equal(warning(&run, 0),
                        "plimsoll: exemption from pod-security must be on the pod template: it is "
                        "enforced on every Pod (controllers.enforce-on-pods) and the Pods do not "
                        "carry the Deployment's own annotations");
    run_finish(&run);

    const char *on_template = "kind: Deployment\n"
                              "metadata: {name: web, namespace: shop}\n"
                              "spec:\n"
                              "  template:\n"
                              "    metadata:\n"
                              "      annotations: {plimsoll.dev/exempt: pod-security, "
                              "plimsoll.dev/exempt-reason: node agent}\n"
                              "    spec: {hostPID: true, containers: [{name: web}]}\n";
    evaluate(&run, cfg, PL_OP_CREATE, on_template, NULL, NULL);
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_EXEMPT);
    run_finish(&run);

    /* A Pod's own metadata is its pod metadata. */
    evaluate(
        &run, cfg, PL_OP_CREATE,
        "kind: Pod\nmetadata:\n  name: p\n  namespace: shop\n"
        "  annotations: {plimsoll.dev/exempt: pod-security, plimsoll.dev/exempt-reason: agent}\n"
        "spec: {hostPID: true, containers: [{name: web}]}\n",
        NULL, NULL);
    assert_true(run.d.allowed);
    run_finish(&run);
    pl_config_unref(cfg);
}

/* Grandfathering compares what a violation is, not how it reads: a container
 * or a volume moved, still the same violation; the same rule about another
 * label key, image, resource, env var or volume is a new one. */
static void test_grandfathering_by_identity(void **state)
{
    (void)state;
    struct pl_config *cfg =
        config_with("  liveness-probe: {mode: enforce}\n  image-tag: {mode: enforce}\n"
                    "  required-labels: {mode: enforce, labels: [team, tier]}\n",
                    "");
    const char *old_obj = "kind: Deployment\n"
                          "metadata: {name: web, namespace: shop}\n"
                          "spec:\n"
                          "  template:\n"
                          "    metadata: {labels: {team: a}}\n"
                          "    spec: {containers: [{name: web, image: 'nginx:latest'}]}\n";
    /* A sidecar in front of web: the same violations. */
    const char *moved = "kind: Deployment\n"
                        "metadata: {name: web, namespace: shop}\n"
                        "spec:\n"
                        "  template:\n"
                        "    metadata: {labels: {team: a}}\n"
                        "    spec:\n"
                        "      containers:\n"
                        "      - {name: proxy, image: 'envoy:1.29', livenessProbe: {}}\n"
                        "      - {name: web, image: 'nginx:latest'}\n";
    struct run run;
    evaluate(&run, cfg, PL_OP_UPDATE, moved, old_obj, NULL);
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.len, 3);
    for (size_t i = 0; i < run.d.report.len; i++) {
        assert_int_equal(run.d.report.items[i].suppression, PL_SUPPRESS_GRANDFATHERED);
    }
    run_finish(&run);

    /* Another latest image in that container is another violation. */
    evaluate(&run, cfg, PL_OP_UPDATE,
             "kind: Deployment\nmetadata: {name: web, namespace: shop}\n"
             "spec: {template: {metadata: {labels: {team: a}}, spec: {containers: "
             "[{name: web, image: 'evil.example.net/miner:latest'}]}}}\n",
             old_obj, NULL);
    assert_false(run.d.allowed);
    assert_non_null(strstr(run.d.message, ": 1 production-readiness violation\n"));
    assert_non_null(strstr(run.d.message, "[image-tag]"));
    run_finish(&run);

    /* Label team set, label tier still missing, now another one missing: tier is old, team new. */
    const char *swapped = "kind: Deployment\n"
                          "metadata: {name: web, namespace: shop}\n"
                          "spec:\n"
                          "  template:\n"
                          "    metadata: {labels: {}}\n"
                          "    spec: {containers: [{name: web, image: 'nginx:latest'}]}\n";
    evaluate(&run, cfg, PL_OP_UPDATE, swapped, old_obj, NULL);
    assert_false(run.d.allowed);
    assert_non_null(strstr(run.d.message, ": 1 production-readiness violation\n"));
    assert_non_null(strstr(run.d.message, "missing label team"));
    run_finish(&run);
    pl_config_unref(cfg);
}

/* One UPDATE of a Deployment under cfg from old_spec to new_spec (pod specs in flow YAML). */
static void evaluate_spec_update(struct run *run, const struct pl_config *cfg, const char *old_spec,
                                 const char *new_spec)
{
    char old_obj[1024], new_obj[1024];
    const char *head = "kind: Deployment\nmetadata: {name: web, namespace: shop}\n"
                       "spec: {template: {spec: ";
    snprintf(old_obj, sizeof(old_obj), "%s%s}}\n", head, old_spec);
    snprintf(new_obj, sizeof(new_obj), "%s%s}}\n", head, new_spec);
    evaluate(run, cfg, PL_OP_UPDATE, new_obj, old_obj, NULL);
}

/* What a violation is about is part of its identity, for every policy whose
 * one field can hold several things. */
static void test_grandfathering_subjects(void **state)
{
    (void)state;
    struct pl_config *cfg =
        config_with("  resources: {mode: enforce}\n  plain-secrets: {mode: enforce}\n"
                    "  image-registry: {mode: enforce, allowed: [registry.example.com/]}\n"
                    "  pod-security: {mode: enforce, level: restricted}\n",
                    "");
    const char *ok_ctr = "image: registry.example.com/web:1, securityContext: "
                         "{allowPrivilegeEscalation: false, runAsNonRoot: true, "
                         "capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}";
    char old_spec[512], new_spec[512];
    struct run run;

    /* resources: one request missing before, three after. */
    snprintf(old_spec, sizeof(old_spec),
             "{containers: [{name: web, %s, resources: {requests: {memory: 1Mi}, limits: "
             "{memory: 1Mi}}}]}",
             ok_ctr);
    snprintf(new_spec, sizeof(new_spec), "{containers: [{name: web, %s, resources: {}}]}", ok_ctr);
    evaluate_spec_update(&run, cfg, old_spec, new_spec);
    assert_false(run.d.allowed);
    assert_non_null(strstr(run.d.message, ": 2 production-readiness violations\n"));
    assert_null(strstr(run.d.message, "requests.cpu"));
    run_finish(&run);

    /* plain-secrets: another secret-looking variable in the same place. */
    const char *res = "resources: {requests: {cpu: 1m, memory: 1Mi}, limits: {memory: 1Mi}}";
    snprintf(old_spec, sizeof(old_spec),
             "{containers: [{name: web, %s, %s, env: [{name: DB_PASSWORD, value: hunter2xyz}]}]}",
             ok_ctr, res);
    snprintf(new_spec, sizeof(new_spec),
             "{containers: [{name: web, %s, %s, env: [{name: AWS_SECRET_ACCESS_KEY, value: "
             "abcdefgh}]}]}",
             ok_ctr, res);
    evaluate_spec_update(&run, cfg, old_spec, new_spec);
    assert_false(run.d.allowed);
    assert_non_null(strstr(run.d.message, "AWS_SECRET_ACCESS_KEY"));
    run_finish(&run);
    /* ... but the same one moved down the list is the same violation. */
    snprintf(new_spec, sizeof(new_spec),
             "{containers: [{name: web, %s, %s, env: [{name: A, value: b}, {name: DB_PASSWORD, "
             "value: hunter2xyz}]}]}",
             ok_ctr, res);
    evaluate_spec_update(&run, cfg, old_spec, new_spec);
    assert_true(run.d.allowed);
    run_finish(&run);

    /* image-registry: another image from a registry that is not allowed. */
    const char *sc = "securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, "
                     "capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}";
    snprintf(old_spec, sizeof(old_spec),
             "{containers: [{name: web, image: 'docker.io/library/nginx:1.25', %s, %s}]}", sc, res);
    snprintf(new_spec, sizeof(new_spec),
             "{containers: [{name: web, image: 'evil.example.net/miner:1.0', %s, %s}]}", sc, res);
    evaluate_spec_update(&run, cfg, old_spec, new_spec);
    assert_false(run.d.allowed);
    assert_non_null(strstr(run.d.message, "evil.example.net/miner"));
    run_finish(&run);
    /* ... the same image stays grandfathered. */
    evaluate_spec_update(&run, cfg, old_spec, old_spec);
    assert_true(run.d.allowed);
    run_finish(&run);

    /* pod-security volumes: a volume added in front of a grandfathered hostPath one. */
    snprintf(old_spec, sizeof(old_spec),
             "{volumes: [{name: logs, hostPath: {path: /var/log}}], containers: [{name: web, %s, "
             "%s}]}",
             ok_ctr, res);
    snprintf(new_spec, sizeof(new_spec),
             "{volumes: [{name: cfg, configMap: {name: c}}, {name: logs, hostPath: {path: "
             "/var/log}}], containers: [{name: web, %s, %s}]}",
             ok_ctr, res);
    evaluate_spec_update(&run, cfg, old_spec, new_spec);
    assert_true(run.d.allowed);
    assert_int_equal(run.d.report.items[0].suppression, PL_SUPPRESS_GRANDFATHERED);
    run_finish(&run);
    pl_config_unref(cfg);
}

/* A grandfathered violation of a policy enforced on every Pod warns on the
 * workload that its new Pods will be rejected. */
static void test_grandfathered_every_pod_warning(void **state)
{
    (void)state;
    struct pl_config *cfg = config_with("  pod-security: {mode: enforce, level: baseline}\n", "");
#define SCALED_DEPLOYMENT(n)                                                                       \
    "kind: Deployment\n"                                                                           \
    "metadata: {name: web, namespace: shop}\n"                                                     \
    "spec: {replicas: " #n ", template: {spec: {hostPID: true, containers: [{name: web}]}}}\n"
    const char *old_obj = SCALED_DEPLOYMENT(1);
    const char *new_obj = SCALED_DEPLOYMENT(3);
    struct run run;
    evaluate(&run, cfg, PL_OP_UPDATE, new_obj, old_obj, NULL);
    assert_true(run.d.allowed);
    assert_true(run.d.report.items[0].every_pod);
    assert_string_equal(warning(&run, 0),
                        "[pod-security] hostPID: sharing the host's namespaces is not allowed at "
                        "level baseline (set hostPID: false) (already there before this update: "
                        "allowed here, but enforced on every Pod, so new Pods are rejected)");
    run_finish(&run);
    pl_config_unref(cfg);
}

static void test_many_requests_one_pool(void **state)
{
    (void)state;
    struct pl_config *cfg = pl_config_new_default("plimsoll");
    json_t *obj = pl_test_yaml(deployment);
    struct pl_pool pool;
    pl_pool_init(&pool);
    for (int i = 0; i < 200; i++) {
        struct pl_request req = {.operation = PL_OP_CREATE, .object = obj};
        struct pl_decision d;
        struct pl_error err;
        pl_error_init(&err);
        assert_int_equal(pl_evaluate(cfg, &req, &pool, &d, &err), 0);
        assert_false(d.allowed); /* the defaults reject a probe-less Deployment */
        assert_non_null(d.message);
        pl_pool_clear(&pool); /* frees the warnings array: valgrind checks */
    }
    pl_pool_finish(&pool);
    json_decref(obj);
    pl_config_unref(cfg);
}

/*
 * findings_only (the dashboard's way) gives the same decision without its texts: the
 * same allowed, report and notes under the default policies, whatever the namespace's
 * mode and the object's exemptions; only message and warnings are left out.
 */
static void test_findings_only(void **state)
{
    (void)state;
    struct pl_config *cfg = pl_config_new_default("plimsoll");
    static const char *const objects[] = {
        deployment,
        "kind: Pod\nmetadata: {name: p, namespace: shop}\n"
        "spec: {containers: [{name: a, image: nginx, livenessProbe: {exec: {command: [true]}}}]}\n",
        "kind: Deployment\n"
        "metadata: {name: web, namespace: shop, annotations: {plimsoll.dev/exempt: liveness-probe,"
        " plimsoll.dev/exempt-reason: batch}}\n"
        "spec: {template: {spec: {containers: [{name: web, image: nginx:1.25}]}}}\n",
    };
    static const char *const annotations[] = {
        NULL,
        "{plimsoll.dev/mode: warn}",
        "{plimsoll.dev/mode: enforce, plimsoll.dev/image-tag: warn, plimsoll.dev/bogus: x}",
    };
    for (size_t o = 0; o < sizeof(objects) / sizeof(objects[0]); o++) {
        for (size_t a = 0; a < sizeof(annotations) / sizeof(annotations[0]); a++) {
            struct run full, quiet;
            evaluate(&full, cfg, PL_OP_CREATE, objects[o], NULL, annotations[a]);
            memset(&quiet, 0, sizeof(quiet));
            pl_pool_init(&quiet.pool);
            struct pl_request req = {.operation = PL_OP_CREATE,
                                     .object = full.object,
                                     .ns_annotations = full.annotations,
                                     .findings_only = true};
            struct pl_error err;
            pl_error_init(&err);
            assert_int_equal(pl_evaluate(cfg, &req, &quiet.pool, &quiet.d, &err), 0);
            assert_int_equal(quiet.d.allowed, full.d.allowed);
            assert_int_equal(quiet.d.evaluated, full.d.evaluated);
            assert_null(quiet.d.message);
            assert_int_equal(json_array_size(quiet.d.warnings), 0);
            assert_true(json_equal(quiet.d.notes, full.d.notes));
            assert_int_equal(quiet.d.report.len, full.d.report.len);
            assert_true(full.d.report.len > 0);
            for (size_t k = 0; k < full.d.report.len; k++) {
                const struct pl_violation *x = &full.d.report.items[k];
                const struct pl_violation *y = &quiet.d.report.items[k];
                assert_string_equal(y->policy, x->policy);
                assert_int_equal(y->mode, x->mode);
                assert_int_equal(y->suppression, x->suppression);
                assert_string_equal(y->path, x->path);
                assert_string_equal(y->message, x->message);
            }
            pl_pool_finish(&quiet.pool);
            run_finish(&full);
        }
    }
    pl_config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_with_exact_message),
        cmocka_unit_test(test_allowed_when_clean),
        cmocka_unit_test(test_warn_mode_from_config),
        cmocka_unit_test(test_mode_precedence),
        cmocka_unit_test(test_bad_annotation_values_fall_through),
        cmocka_unit_test(test_bad_annotation_note_on_admitted_object),
        cmocka_unit_test(test_excluded_namespaces),
        cmocka_unit_test(test_request_namespace),
        cmocka_unit_test(test_operations),
        cmocka_unit_test(test_no_pod_template),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_exemptions),
        cmocka_unit_test(test_exemption_on_pod_template),
        cmocka_unit_test(test_update_grandfathering),
        cmocka_unit_test(test_update_grandfathering_under_namespace_modes),
        cmocka_unit_test(test_controller_made_pods),
        cmocka_unit_test(test_controller_pod_past_the_cap),
        cmocka_unit_test(test_controller_made_workloads),
        cmocka_unit_test(test_exemption_from_every_pod_policy),
        cmocka_unit_test(test_grandfathering_by_identity),
        cmocka_unit_test(test_grandfathering_subjects),
        cmocka_unit_test(test_grandfathered_every_pod_warning),
        cmocka_unit_test(test_many_requests_one_pool),
        cmocka_unit_test(test_neighbour_policies_only_with_a_set),
        cmocka_unit_test(test_findings_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
