/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of engine/config.c: the built-in defaults of SPEC §5/§6, every
 * key of the configuration file, and every error: each names the key path
 * and the line it is on (a bad mode on line 7 says line 7), for unknown
 * keys, unknown policy ids, bad parameters, wrong types, and YAML that does
 * not parse. Also exclude-namespaces (default, override, self namespace),
 * exemptions.allow, loading from a file with its size limit, and the
 * reference count.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "engine/config.h"
#include "policies/registry.h"

static struct pl_config *parse_ok(const char *text, const char *self_ns)
{
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_config_parse(text, strlen(text), self_ns, &cfg, &err) < 0) {
        fail_msg("config does not load: %s: %s (line %d)", err.path, err.message, err.line);
    }
    assert_non_null(cfg);
    return cfg;
}

/* Parses text that must fail and checks path, line and message. */
static void parse_fails(const char *text, const char *path, int line, const char *message)
{
    struct pl_config *cfg = (struct pl_config *)0x1;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_config_parse(text, strlen(text), NULL, &cfg, &err);
    if (r != -EINVAL) {
        fail_msg("expected -EINVAL for:\n%s", text);
    }
    assert_ptr_equal(cfg, (struct pl_config *)0x1); /* not written on failure */
    if (strcmp(err.path, path) != 0 || err.line != line || strcmp(err.message, message) != 0) {
        fail_msg("for:\n%s\nexpected %s (line %d): %s\n     got %s (line %d): %s", text, path, line,
                 message, err.path, err.line, err.message);
    }
}

static int idx(const char *id)
{
    int i = pl_policy_index(id);
    if (i < 0) {
        fail_msg("no policy %s", id);
    }
    return i;
}

static void test_defaults(void **state)
{
    (void)state;
    struct pl_config *cfg = pl_config_new_default(NULL);
    assert_int_equal(atomic_load(&cfg->refs), 1);
    assert_string_equal(cfg->runbook_base_url, PL_DEFAULT_RUNBOOK_BASE);
    assert_string_equal(cfg->source, "built-in defaults");
    assert_true(cfg->grandfather_updates);
    assert_false(cfg->mutate_templates);
    assert_int_equal(cfg->n_exclude, 3);
    assert_string_equal(cfg->exclude_namespaces[0], "kube-system");
    assert_string_equal(cfg->exclude_namespaces[1], "kube-public");
    assert_string_equal(cfg->exclude_namespaces[2], "kube-node-lease");
    assert_true(pl_config_excludes(cfg, "kube-system"));
    assert_false(pl_config_excludes(cfg, "default"));
    assert_false(pl_config_excludes(cfg, NULL));
    assert_false(pl_config_excludes(cfg, ""));
    for (size_t i = 0; pl_policies[i]; i++) {
        assert_int_equal(cfg->policies[i].mode, pl_policies[i]->default_mode);
        /* Parameterised policies got their default parameters. */
        if (pl_policies[i]->params && !cfg->policies[i].params) {
            fail_msg("%s has no default params", pl_policies[i]->id);
        }
    }
    /* SPEC §5 defaults, as configured out of the box. */
    assert_int_equal(cfg->policies[idx("liveness-probe")].mode, PL_MODE_ENFORCE);
    assert_int_equal(cfg->policies[idx("readiness-probe")].mode, PL_MODE_ENFORCE);
    assert_int_equal(cfg->policies[idx("distinct-probes")].mode, PL_MODE_WARN);
    assert_int_equal(cfg->policies[idx("resources")].mode, PL_MODE_ENFORCE);
    assert_int_equal(cfg->policies[idx("graceful-shutdown")].mode, PL_MODE_WARN);
    assert_int_equal(cfg->policies[idx("config-mounted")].mode, PL_MODE_WARN);
    assert_int_equal(cfg->policies[idx("required-labels")].mode, PL_MODE_WARN);
    assert_int_equal(cfg->policies[idx("required-annotations")].mode, PL_MODE_OFF);
    assert_int_equal(cfg->policies[idx("commit-labels")].mode, PL_MODE_WARN);
    assert_int_equal(cfg->policies[idx("pod-security")].mode, PL_MODE_ENFORCE);
    assert_int_equal(cfg->policies[idx("image-tag")].mode, PL_MODE_ENFORCE);
    assert_int_equal(cfg->policies[idx("image-registry")].mode, PL_MODE_ENFORCE);
    assert_int_equal(cfg->policies[idx("plain-secrets")].mode, PL_MODE_ENFORCE);
    assert_int_equal(cfg->policies[idx("replicas")].mode, PL_MODE_WARN);
    assert_int_equal(cfg->policies[idx("automount-token")].mode, PL_MODE_OFF);
    /* SPEC §6: every policy may be exempted except these three. */
    for (size_t i = 0; pl_policies[i]; i++) {
        const char *id = pl_policies[i]->id;
        bool never = strcmp(id, "pod-security") == 0 || strcmp(id, "image-registry") == 0 ||
                     strcmp(id, "plain-secrets") == 0;
        if (cfg->policies[i].exempt_allowed == never) {
            fail_msg("%s: exempt_allowed should be %d", id, !never);
        }
    }
    assert_null(pl_config_unref(cfg));
}

/*
 * A text without a document is refused (a truncated ConfigMap must not turn
 * into the defaults); an explicit empty mapping is the defaults.
 */
static void test_empty_file_is_refused(void **state)
{
    (void)state;
    const char *texts[] = {"", "# only a comment\n", "---\n", "~\n", "null\n", "--- ~\n...\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        parse_fails(
            texts[i], "", 0,
            "the configuration is empty (no document, only comments or null); write {} for the built-in defaults");
    }
    struct pl_config *cfg = parse_ok("{}\n", NULL);
    assert_string_equal(cfg->source, "inline");
    assert_int_equal(cfg->n_exclude, 3);
    assert_int_equal(cfg->policies[idx("replicas")].mode, PL_MODE_WARN);
    pl_config_unref(cfg);
}

static void test_self_namespace(void **state)
{
    (void)state;
    struct pl_config *cfg = pl_config_new_default("plimsoll-system");
    assert_int_equal(cfg->n_exclude, 4);
    assert_string_equal(cfg->exclude_namespaces[3], "plimsoll-system");
    assert_true(pl_config_excludes(cfg, "plimsoll-system"));
    pl_config_unref(cfg);
    /* Already listed: not twice. Empty: ignored. */
    cfg = pl_config_new_default("kube-system");
    assert_int_equal(cfg->n_exclude, 3);
    pl_config_unref(cfg);
    cfg = pl_config_new_default("");
    assert_int_equal(cfg->n_exclude, 3);
    pl_config_unref(cfg);
    /* Added to an overriding list too. */
    cfg = parse_ok("exclude-namespaces: [team-a]\n", "plimsoll");
    assert_int_equal(cfg->n_exclude, 2);
    assert_string_equal(cfg->exclude_namespaces[0], "team-a");
    assert_string_equal(cfg->exclude_namespaces[1], "plimsoll");
    pl_config_unref(cfg);
}

static void test_exclude_namespaces_override(void **state)
{
    (void)state;
    struct pl_config *cfg = parse_ok("exclude-namespaces:\n  - a\n  - b\n  - a\n", NULL);
    assert_int_equal(cfg->n_exclude, 2); /* duplicates collapse */
    assert_true(pl_config_excludes(cfg, "a"));
    assert_true(pl_config_excludes(cfg, "b"));
    assert_false(pl_config_excludes(cfg, "kube-system")); /* the list replaces the default */
    pl_config_unref(cfg);
    cfg = parse_ok("exclude-namespaces: []\n", NULL);
    assert_int_equal(cfg->n_exclude, 0);
    assert_false(pl_config_excludes(cfg, "kube-system"));
    pl_config_unref(cfg);
}

static void test_full_file(void **state)
{
    (void)state;
    const char *text = "runbook-base-url: https://example.org/plimsoll/policies/\n"
                       "exclude-namespaces: [kube-system, monitoring]\n"
                       "grandfather-updates: false\n"
                       "policies:\n"
                       "  liveness-probe: {mode: warn}\n"
                       "  readiness-probe:\n"
                       "    mode: off\n"
                       "  resources: {mode: enforce, require: [requests.cpu, limits.memory]}\n"
                       "  replicas: {min: 3}\n"
                       "  required-annotations: {mode: enforce, annotations: [owner]}\n"
                       "mutations:\n"
                       "  mutate-templates: true\n"
                       "exemptions:\n"
                       "  allow: [liveness-probe, pod-security]\n";
    struct pl_config *cfg = parse_ok(text, NULL);
    assert_string_equal(cfg->runbook_base_url, "https://example.org/plimsoll/policies/");
    assert_int_equal(cfg->n_exclude, 2);
    assert_true(pl_config_excludes(cfg, "monitoring"));
    assert_false(cfg->grandfather_updates);
    assert_true(cfg->mutate_templates);
    assert_int_equal(cfg->policies[idx("liveness-probe")].mode, PL_MODE_WARN);
    /* "off" is a string under the YAML 1.2 core schema, so it is a mode name. */
    assert_int_equal(cfg->policies[idx("readiness-probe")].mode, PL_MODE_OFF);
    assert_int_equal(cfg->policies[idx("resources")].mode, PL_MODE_ENFORCE);
    /* Parameters without a mode keep the default mode. */
    assert_int_equal(cfg->policies[idx("replicas")].mode, PL_MODE_WARN);
    assert_non_null(cfg->policies[idx("replicas")].params);
    assert_int_equal(cfg->policies[idx("required-annotations")].mode, PL_MODE_ENFORCE);
    /* exemptions.allow replaces the default list. */
    for (size_t i = 0; pl_policies[i]; i++) {
        bool listed = strcmp(pl_policies[i]->id, "liveness-probe") == 0 ||
                      strcmp(pl_policies[i]->id, "pod-security") == 0;
        assert_int_equal(cfg->policies[i].exempt_allowed, listed);
    }
    pl_config_unref(cfg);
}

static void test_json_config(void **state)
{
    (void)state;
    struct pl_config *cfg =
        parse_ok("{\"policies\": {\"image-tag\": {\"mode\": \"warn\"}}, \"grandfather-updates\": "
                 "true}",
                 NULL);
    assert_int_equal(cfg->policies[idx("image-tag")].mode, PL_MODE_WARN);
    pl_config_unref(cfg);
}

static void test_bad_mode_names_its_line(void **state)
{
    (void)state;
    parse_fails("runbook-base-url: https://x/\n"      /* 1 */
                "exclude-namespaces: [a]\n"           /* 2 */
                "grandfather-updates: true\n"         /* 3 */
                "policies:\n"                         /* 4 */
                "  liveness-probe: {mode: enforce}\n" /* 5 */
                "  readiness-probe:\n"                /* 6 */
                "    mode: strict\n",                 /* 7 */
                "policies.readiness-probe.mode", 7, "mode must be enforce, warn or off");
    parse_fails("policies:\n  image-tag: {mode: 1}\n", "policies.image-tag.mode", 2,
                "mode must be enforce, warn or off");
    parse_fails("policies:\n  image-tag: {mode: Enforce}\n", "policies.image-tag.mode", 2,
                "mode must be enforce, warn or off");
    parse_fails("policies:\n  image-tag: {mode: ~}\n", "policies.image-tag.mode", 2,
                "mode must be enforce, warn or off");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    parse_fails("grandfather-updates: true\nrunbook_base_url: x\n", "runbook_base_url", 2,
                "unknown key \"runbook_base_url\"");
    parse_fails("exemptions:\n  allow: []\n  deny: [x]\n", "exemptions.deny", 3,
                "unknown key \"deny\" (expected allow)");
    parse_fails("mutations:\n  inject-everything: {enabled: true}\n", "mutations.inject-everything",
                2, "unknown mutation \"inject-everything\" (see `plimsoll policies`)");
}

static void test_unknown_policy(void **state)
{
    (void)state;
    parse_fails("policies:\n  liveness-probe: {mode: warn}\n  livenes-probe: {mode: warn}\n",
                "policies.livenes-probe", 3,
                "unknown policy \"livenes-probe\" (see `plimsoll policies`)");
}

static void test_wrong_types(void **state)
{
    (void)state;
    parse_fails("- a\n- b\n", "", 1, "the configuration must be a mapping");
    parse_fails("just a string\n", "", 1, "the configuration must be a mapping");
    parse_fails("runbook-base-url: ''\n", "runbook-base-url", 1,
                "must be a URL such as https://example.org/plimsoll/policies/");
    parse_fails("runbook-base-url: 5\n", "runbook-base-url", 1,
                "must be a URL such as https://example.org/plimsoll/policies/");
    /* yes/no are strings in YAML 1.2: not booleans here. */
    parse_fails("grandfather-updates: no\n", "grandfather-updates", 1, "must be true or false");
    parse_fails("exclude-namespaces: kube-system\n", "exclude-namespaces", 1,
                "must be a list of strings");
    parse_fails("exclude-namespaces:\n  - a\n  - ''\n", "exclude-namespaces[1]", 3,
                "must be a non-empty string");
    parse_fails("exclude-namespaces:\n  - a\n  - {b: c}\n", "exclude-namespaces[1]", 3,
                "must be a non-empty string");
    parse_fails("policies: [liveness-probe]\n", "policies", 1,
                "must be a mapping of policy id to settings");
    parse_fails("policies:\n  liveness-probe: enforce\n", "policies.liveness-probe", 2,
                "must be a mapping such as {mode: enforce}");
    parse_fails("mutations: true\n", "mutations", 1,
                "must be a mapping of mutation id to settings");
    parse_fails("mutations:\n  mutate-templates: yes\n", "mutations.mutate-templates", 2,
                "must be true or false");
    parse_fails("mutations:\n  inject-commit: true\n", "mutations.inject-commit", 2,
                "must be a mapping such as {enabled: true}");
    parse_fails("mutations:\n  inject-commit: {enabled: 1}\n", "mutations.inject-commit.enabled", 2,
                "must be true or false");
    parse_fails("exemptions: [liveness-probe]\n", "exemptions", 1,
                "must be a mapping with the key allow");
    parse_fails("exemptions:\n  allow: liveness-probe\n", "exemptions.allow", 2,
                "must be a list of policy ids");
    parse_fails("exemptions:\n  allow:\n    - liveness-probe\n    - no-such-policy\n",
                "exemptions.allow[1]", 4, "not a known policy id");
    parse_fails("exemptions:\n  allow: [3]\n", "exemptions.allow[0]", 2, "not a known policy id");
}

static void test_bad_params(void **state)
{
    (void)state;
    /* A policy without parameters. */
    parse_fails("policies:\n  liveness-probe:\n    mode: warn\n    timeout: 5\n",
                "policies.liveness-probe.timeout", 4,
                "unknown parameter \"timeout\": liveness-probe takes no parameters");
    /* Unknown parameter of a policy that has some. */
    parse_fails("policies:\n  replicas: {mode: warn, minimum: 2}\n", "policies.replicas.minimum", 2,
                "unknown parameter \"minimum\"");
    /* Out of range and wrong type. */
    parse_fails("policies:\n  replicas:\n    min: 0\n", "policies.replicas.min", 3,
                "must be a whole number from 1 to 10000");
    parse_fails("policies:\n  replicas:\n    min: \"2\"\n", "policies.replicas.min", 3,
                "must be a whole number from 1 to 10000");
    /* A bad item of a list parameter names the item and its line. */
    parse_fails("policies:\n"
                "  resources:\n"
                "    require:\n"
                "      - requests.cpu\n"
                "      - limit.memory\n",
                "policies.resources.require[1]", 5,
                "\"limit.memory\" is not of the form requests.<resource> or limits.<resource>");
    parse_fails("policies:\n  resources: {require: requests.cpu}\n", "policies.resources.require",
                2, "must be a list of strings");
}

static void test_yaml_errors_propagate(void **state)
{
    (void)state;
    parse_fails("policies:\n  liveness-probe: {mode: warn}\n  liveness-probe: {mode: off}\n",
                "policies.liveness-probe", 3, "duplicate key \"liveness-probe\"");
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    const char *text = "policies:\n  a: [1\n";
    assert_int_equal(pl_config_parse(text, strlen(text), NULL, &cfg, &err), -EINVAL);
    assert_memory_equal(err.message, "invalid YAML: ", 14);
    assert_int_equal(err.line, 3);
    parse_fails("a: 1\n---\nb: 2\n", "", 0, "expected one YAML document, found 2");
}

/*
 * Regression test, bug found by review (core/yaml.c line map, seen through engine/config.c): an
 * error about a key whose value is written in block style names the line of the value's first entry
 * instead of the key's line. "policies:\n  no-such-policy:\n mode: warn\n" reports line 3; the
 * unknown id is on line 2. Likewise an unknown top-level key with a block value. Fix: in
 * parse_mapping(), record the key's line for child_path before parsing the value.
 */
static void test_block_style_key_lines(void **state)
{
    (void)state;
    const char *text = "policies:\n  no-such-policy:\n    mode: warn\n";
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_config_parse(text, strlen(text), NULL, &cfg, &err), -EINVAL);
    assert_string_equal(err.path, "policies.no-such-policy");
    assert_string_equal(err.message, "unknown policy \"no-such-policy\" (see `plimsoll policies`)");
    assert_int_equal(err.line, 2);

    text = "grandfather-updates: true\nbogus:\n  a: 1\n";
    pl_error_init(&err);
    assert_int_equal(pl_config_parse(text, strlen(text), NULL, &cfg, &err), -EINVAL);
    assert_string_equal(err.path, "bogus");
    assert_int_equal(err.line, 2);
}

static void test_mutation_settings(void **state)
{
    (void)state;
    int commit = pl_mutation_index("inject-commit");
    int tracing = pl_mutation_index("inject-tracing");
    assert_true(commit >= 0);
    assert_true(tracing >= 0);
    struct pl_config *cfg = pl_config_new_default(NULL);
    assert_true(cfg->mutations[commit].enabled); /* SPEC §7 defaults */
    assert_false(cfg->mutations[tracing].enabled);
    pl_config_unref(cfg);
    cfg = parse_ok("mutations:\n  inject-commit: {enabled: false}\n", NULL);
    assert_false(cfg->mutations[commit].enabled);
    pl_config_unref(cfg);
}

static void test_refcount(void **state)
{
    (void)state;
    struct pl_config *cfg = pl_config_new_default(NULL);
    assert_ptr_equal(pl_config_ref(cfg), cfg);
    assert_ptr_equal(pl_config_ref(cfg), cfg);
    assert_int_equal(atomic_load(&cfg->refs), 3);
    assert_null(pl_config_unref(cfg));
    assert_null(pl_config_unref(cfg));
    assert_int_equal(atomic_load(&cfg->refs), 1);
    /* Still intact for the last holder. */
    assert_string_equal(cfg->runbook_base_url, PL_DEFAULT_RUNBOOK_BASE);
    assert_true(pl_config_excludes(cfg, "kube-public"));
    assert_null(pl_config_unref(cfg)); /* frees: valgrind/ASan check the rest */
    assert_null(pl_config_unref(NULL));
}

static char tmpdir[64];

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_load_file(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pl-test-config-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char path[128];
    snprintf(path, sizeof(path), "%s/config.yaml", tmpdir);
    const char *text = "policies:\n  replicas: {mode: enforce}\n";
    write_file(path, text, strlen(text));
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_config_load_file(path, "self", &cfg, &err), 0);
    assert_string_equal(cfg->source, path);
    assert_int_equal(cfg->policies[idx("replicas")].mode, PL_MODE_ENFORCE);
    assert_true(pl_config_excludes(cfg, "self"));
    pl_config_unref(cfg);

    /* pl_config_load: the same file, or the defaults without one. */
    cfg = NULL;
    assert_int_equal(pl_config_load(path, NULL, &cfg, &err), 0);
    assert_string_equal(cfg->source, path);
    assert_int_equal(cfg->policies[idx("replicas")].mode, PL_MODE_ENFORCE);
    pl_config_unref(cfg);
    cfg = NULL;
    assert_int_equal(pl_config_load(NULL, "self", &cfg, &err), 0);
    assert_string_equal(cfg->source, "built-in defaults");
    assert_true(pl_config_excludes(cfg, "self"));
    pl_config_unref(cfg);

    /* A bad file: -EINVAL, with the line. */
    text = "policies:\n  replicas: {mode: sometimes}\n";
    write_file(path, text, strlen(text));
    cfg = NULL;
    assert_int_equal(pl_config_load_file(path, NULL, &cfg, &err), -EINVAL);
    assert_null(cfg);
    assert_int_equal(err.line, 2);

    /* Missing: -EIO. */
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/missing.yaml", tmpdir);
    pl_error_init(&err);
    assert_int_equal(pl_config_load_file(missing, NULL, &cfg, &err), -EIO);
    assert_non_null(strstr(err.message, "cannot open"));
    assert_non_null(strstr(err.message, "missing.yaml"));

    /* A directory: -EIO. */
    pl_error_init(&err);
    assert_int_equal(pl_config_load_file(tmpdir, NULL, &cfg, &err), -EIO);
    assert_non_null(strstr(err.message, "cannot read"));

    /* Exactly the limit is read; one byte more is refused. */
    char *big = pl_xmalloc(PL_CONFIG_MAX_BYTES + 1);
    memset(big, '#', PL_CONFIG_MAX_BYTES + 1);
    memcpy(big, "{}\n", 3); /* a document, then comments */
    big[PL_CONFIG_MAX_BYTES - 1] = '\n';
    write_file(path, big, PL_CONFIG_MAX_BYTES);
    assert_int_equal(pl_config_load_file(path, NULL, &cfg, &err), 0);
    pl_config_unref(cfg);
    write_file(path, big, PL_CONFIG_MAX_BYTES + 1);
    pl_error_init(&err);
    assert_int_equal(pl_config_load_file(path, NULL, &cfg, &err), -EINVAL);
    assert_non_null(strstr(err.message, "is larger than 1048576 bytes"));
    free(big);

    unlink(path);
    rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_file_is_refused),
        cmocka_unit_test(test_self_namespace),
        cmocka_unit_test(test_exclude_namespaces_override),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_json_config),
        cmocka_unit_test(test_bad_mode_names_its_line),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_unknown_policy),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_yaml_errors_propagate),
        cmocka_unit_test(test_block_style_key_lines),
        cmocka_unit_test(test_mutation_settings),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
