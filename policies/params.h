/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parameters as data (nginx's ngx_command_t is the model): a policy or
 * mutation describes each parameter once, in a table of struct pl_param
 * rows (name, type, where it goes in the params struct, default, bounds,
 * one-line summary), and pl_params_parse() does the rest for all of them:
 * unknown keys, types, bounds and item checks fail with an error that names
 * the key (err->path, relative to the policy: "require[1]"), absent keys get
 * the default (parsed and checked like configured values, so a default
 * cannot be invalid), and the result is one allocated struct. The same
 * table is what `plimsoll policies`, SARIF rule texts and the docs test
 * read, so the parser, the listing and the runbooks cannot disagree.
 *
 * Parameters are parsed once per configuration load, never per request.
 */
#ifndef PL_POLICIES_PARAMS_H
#define PL_POLICIES_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"

/* A list of owned strings. */
struct pl_strlist {
    char **items;
    size_t len;
};

/** Frees the items; the list is empty afterwards. Accepts NULL. */
void pl_strlist_finish(struct pl_strlist *l);

/** Whether s is one of the items (exact match). */
bool pl_strlist_contains(const struct pl_strlist *l, const char *s);

/* A mapping of owned strings to owned strings, in the order written. */
struct pl_strmap {
    char **keys;
    char **values;
    size_t len;
};

/* What a parameter holds, and the C type at its offset. */
enum pl_param_type {
    PL_PARAM_BOOL = 1, /* bool */
    PL_PARAM_INT,      /* long long, within [min, max] */
    PL_PARAM_STRING,   /* char * (owned; NULL when absent without default) */
    PL_PARAM_ENUM,     /* int: index into choices */
    PL_PARAM_STRLIST,  /* struct pl_strlist of non-empty strings */
    PL_PARAM_STRMAP,   /* struct pl_strmap of string values */
};

/**
 * Checks one string of a parameter: a STRING's value, a STRLIST's item or a
 * STRMAP's key. path names it ("require[1]"). Returns 0, or -EINVAL with
 * err set (pl_error_set(err, path, 0, ...)).
 */
typedef int (*pl_param_check_fn)(const char *value, const char *path, struct pl_error *err);

/* One parameter: one row of a policy's table, ended by a row with name NULL. */
struct pl_param {
    const char *name;            /* "require": the key in the configuration */
    enum pl_param_type type;     /* what it holds */
    size_t offset;               /* offsetof(struct params, field) */
    const char *def;             /* the default as JSON text ("5", "[\"a\"]"); NULL: none */
    const char *const *def_list; /* or a STRLIST's default as a NULL-ended C array (for
                                    strings JSON would have to escape, such as regexes) */
    long long min, max;          /* INT: bounds. STRLIST, STRMAP: most entries (max 0: any) */
    size_t len_max;              /* STRING, STRMAP values: most characters (0: any) */
    const char *const *choices;  /* ENUM: the accepted strings, NULL-ended */
    pl_param_check_fn check;     /* optional check of each string (see above) */
    const char *summary;         /* one sentence, for `plimsoll policies` and the runbook */
};

/**
 * Derives what the table cannot express (compiled patterns, a joined text)
 * from freshly parsed params. Returns 0 or -EINVAL with err set; on failure
 * pl_params_free() still runs, so finish must cope with a half-done prepare.
 */
typedef int (*pl_params_prepare_fn)(void *params, struct pl_error *err);

/** Releases what prepare made (never the table's own fields). */
typedef void (*pl_params_finish_fn)(void *params);

/* A policy's (or mutation's) parameters: the struct they fill and its table. */
struct pl_param_set {
    size_t size;                  /* sizeof(struct params) */
    const struct pl_param *table; /* ended by {NULL} */
    pl_params_prepare_fn prepare; /* NULL when the table says it all */
    pl_params_finish_fn finish;   /* NULL when prepare allocates nothing */
};

/**
 * Parses settings (a JSON object, borrowed; NULL: every default) against
 * set. Keys not in the table fail ("unknown parameter"), except reserved
 * (may be NULL), the key the caller reads itself ("mode", "enabled"). On
 * success *ret_params owns a new struct of set->size bytes, freed with
 * pl_params_free(); NULL when set is NULL (a policy without parameters,
 * which then accepts no key). On error returns -EINVAL with err naming the
 * key. Thread-safe.
 */
PL_MUST_CHECK int pl_params_parse(const struct pl_param_set *set, const json_t *settings,
                                  const char *reserved, void **ret_params, struct pl_error *err);

/** Frees what pl_params_parse() made (set's finish first). Accepts NULL params. */
void pl_params_free(const struct pl_param_set *set, void *params);

/**
 * The type of p as people read it ("integer, 0 to 3600", "list of strings",
 * "baseline or restricted"), written to buf. Returns buf.
 */
const char *pl_param_type_text(const struct pl_param *p, char *buf, size_t size);

/**
 * The default of p as people read it ("5", "[a, b]", "{}", "none"), written
 * to buf (cut at size). Returns buf.
 */
const char *pl_param_default_text(const struct pl_param *p, char *buf, size_t size);

#endif
