/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes resource quantities ("250m", "1.5Gi", "2e3", 128974848) read as
 * numbers, for comparing a limit with a request. The grammar is the API's
 * (k8s.io/apimachinery resource.Quantity): a signed decimal number, then an
 * optional suffix, binary (Ki Mi Gi Ti Pi Ei), decimal SI (n u m k M G T P E)
 * or a decimal exponent (e3, E-2). A double is exact enough to compare two
 * quantities of one resource; the result is never used to write one back.
 */
#ifndef PL_CORE_QUANTITY_H
#define PL_CORE_QUANTITY_H

#include <jansson.h>

#include "core/compiler.h"

/**
 * Reads s (borrowed) as a quantity into *ret. Returns 0, or -EINVAL (and
 * *ret untouched) when s is not a quantity: empty, junk after the number, an
 * unknown suffix, longer than 64 characters, or not finite.
 */
PL_MUST_CHECK int pl_quantity_parse(const char *s, double *ret);

/**
 * Reads a quantity as a manifest holds it: a string (see pl_quantity_parse)
 * or a JSON number (borrowed v). Returns 0 or -EINVAL as above.
 */
PL_MUST_CHECK int pl_quantity_json(const json_t *v, double *ret);

#endif
