/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifests to admission requests, shared by `plimsoll check` and its fuzz
 * target (and by anything else that judges files rather than reviews).
 *
 * A manifest is a YAML or JSON stream. Each document must be a Kubernetes
 * object (a mapping with a string apiVersion and kind); anything else is an
 * error that names its line. `List` and typed lists (`DeploymentList`,
 * `PodList`, ...: a kind ending in "List" with an items array) are expanded,
 * recursively; an item of a typed list without its own kind gets the list's
 * (kind minus "List") and apiVersion, as the API server leaves them out. A
 * Namespace object lends its plimsoll.dev/ annotations to the objects in it.
 * An AdmissionReview document is judged as its request.
 *
 * The manifest remembers where every object starts and, through the loader's
 * path -> line maps, where each of its fields is, so that a violation's path
 * ("spec.template.spec.containers[0] (web).livenessProbe") can be turned
 * into a line and a column of the file.
 *
 * Not thread-safe; one manifest per thread.
 */
#ifndef PL_ENGINE_MANIFEST_H
#define PL_ENGINE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/neighbours.h"
#include "engine/evaluate.h"

/* Objects without a namespace are in this one, as kubectl would have it. */
#define PL_MANIFEST_DEFAULT_NAMESPACE "default"

struct pl_manifest_file {
    char *name;          /* as the caller named it ("-" is the caller's business) */
    char *text;          /* the bytes, NUL-terminated; owned */
    size_t len;          /* bytes in text */
    size_t *line_starts; /* offset of each line's first byte; owned */
    size_t n_lines;
    json_t *lines; /* owned: per document, field path -> 1-based line */
};

struct pl_manifest_object {
    size_t file;      /* index in files[] */
    size_t document;  /* 0-based document of the file */
    json_t *doc;      /* owned reference: the object (a List item), or an AdmissionReview */
    char *prefix;     /* YAML path of the object in its document: "", "items[2]" */
    const char *kind; /* the object's kind (borrowed from doc; "" for none) */
};

struct pl_manifest {
    struct pl_manifest_file *files;
    size_t n_files;
    struct pl_manifest_object *objects; /* in input order */
    size_t n_objects;
    size_t max_objects;     /* past this many objects pl_manifest_add fails; 0: no limit */
    json_t *ns_annotations; /* namespace name -> annotations, from Namespace objects */
};

/** Makes m empty. max_objects bounds the objects kept (0: no bound). Release with _finish. */
void pl_manifest_init(struct pl_manifest *m, size_t max_objects);

/** Frees everything m holds. Accepts NULL. */
void pl_manifest_finish(struct pl_manifest *m);

/**
 * Parses data (len bytes, copied) as a YAML or JSON stream named name and
 * appends its objects. Returns 0; -EINVAL with err filled (err->line set)
 * when the stream is not YAML, a document or List item is not a Kubernetes
 * object, or there are more than max_objects. ret_documents, if not NULL,
 * gets the number of (non-empty) documents on success. After an error m
 * keeps what earlier calls added and nothing of this one.
 */
PL_MUST_CHECK int pl_manifest_add(struct pl_manifest *m, const char *name, const char *data,
                                  size_t len, size_t *ret_documents, struct pl_error *err);

/**
 * Appends doc (borrowed; a Kubernetes object or a List, as a parsed
 * document) as a file named name that has no text: every location is line 1,
 * column 1. For callers that judge objects they did not read from a file
 * (the dashboard) and need no lines. Returns 0 or -EINVAL as pl_manifest_add.
 */
PL_MUST_CHECK int pl_manifest_add_object(struct pl_manifest *m, const char *name, json_t *doc,
                                         struct pl_error *err);

/**
 * The request for object i as CREATE (or, for an AdmissionReview, its own
 * request). Objects whose kind has a pod template and no namespace are put in
 * default_ns. *ret_annotations is a new reference to the namespace's
 * annotations (the input's Namespace object, overlaid by extra, which is
 * borrowed and may be NULL); the request borrows it and m. Returns 0, or
 * -EINVAL with err filled for an AdmissionReview of the wrong shape.
 */
PL_MUST_CHECK int pl_manifest_request(const struct pl_manifest *m, size_t i, const char *default_ns,
                                      const json_t *extra, struct pl_request *ret_req,
                                      json_t **ret_annotations, struct pl_error *err);

/**
 * Adds to out (see core/neighbours.h) every object of m that a neighbour
 * policy may look at, each in the namespace pl_manifest_request gives it
 * (default_ns for those without one), so that `plimsoll check` judges a
 * Deployment with the PodDisruptionBudgets, autoscalers and NetworkPolicies
 * of the same run. AdmissionReviews lend their object unless it is a DELETE
 * or CONNECT; a malformed one is left out (pl_manifest_request reports it).
 * The objects are borrowed by reference: out may outlive m.
 */
void pl_manifest_neighbours(const struct pl_manifest *m, const char *default_ns,
                            struct pl_neighbours *out);

/**
 * Where object i's field path is in its file: the line and column (1-based,
 * column in UTF-16 code units as SARIF counts them) of the field, or of the
 * innermost ancestor the file has, or of the object itself. path is relative
 * to the object and may be a violation path ("spec.containers[0] (web).image",
 * "metadata.annotations[a.b/c]"); NULL or "" means the object.
 */
void pl_manifest_locate(const struct pl_manifest *m, size_t i, const char *path, int *ret_line,
                        int *ret_column);

/**
 * The YAML path of a violation path (drops " (name)" after list indexes, turns
 * "[key]" into ".key"). Returns a new string the caller frees.
 */
char *pl_manifest_field_path(const char *path);

#endif
