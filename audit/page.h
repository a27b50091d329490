/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard's page: one self-contained HTML document (inline CSS, no
 * script, no external font, image or stylesheet, so it works air-gapped and
 * without JavaScript), rendered on the server from the same JSON the API
 * serves (audit/view.c). Filtering is a plain GET form (?namespace=&policy=).
 * Every string from the cluster is HTML-escaped.
 */
#ifndef PL_AUDIT_PAGE_H
#define PL_AUDIT_PAGE_H

#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"

/* Workloads rendered on the page at most; the rest are counted and left to filters. */
#define PL_AUDIT_PAGE_WORKLOADS 500u

struct pl_audit_page_input {
    const json_t *summary;     /* pl_cluster_summary() with the filters; borrowed */
    const json_t *all_summary; /* without filters: every namespace for the form; borrowed */
    const json_t *workloads;   /* pl_cluster_workloads() with the filters; borrowed */
    const char *ns_filter;     /* NULL or "" for none */
    const char *policy_filter; /* NULL or "" for none */
};

/**
 * Renders the page. Returns a new NUL-terminated string from malloc (free
 * with free()) with its length in *ret_len, or NULL when it would pass
 * max bytes.
 */
char *pl_audit_page(const struct pl_audit_page_input *in, size_t max, size_t *ret_len);

#endif
