/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixtures: load JSON or YAML from a string or a file under the source
 * tree. Failures fail the calling cmocka test.
 */
#ifndef PL_TEST_HELPERS_FIXTURE_H
#define PL_TEST_HELPERS_FIXTURE_H

#include <jansson.h>

/** Parses one YAML (or JSON) document. New reference; fails the test on error. */
json_t *pl_test_yaml(const char *text);

/** Reads a file relative to the source root into a new string (free with free()). */
char *pl_test_read_file(const char *relative_path);

/** Parses the single YAML/JSON document in a file under the source root. New reference. */
json_t *pl_test_yaml_file(const char *relative_path);

#endif
