/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A JSON Patch (RFC 6902) builder for mutations. It keeps a working copy of
 * the object with every operation applied, so that each new operation is
 * computed against what the API server will hold at that point:
 *
 * - adding into a map or array that does not exist first adds it, empty, as
 *   its own operation (a conforming implementation refuses to add
 *   /metadata/labels/x when labels is missing);
 * - keys are escaped in paths as RFC 6901 says (`~` -> `~0`, `/` -> `~1`),
 *   so that plimsoll.dev/commit becomes plimsoll.dev~1commit;
 * - pl_patch_add() never replaces a value that is there: a member whose
 *   value is JSON null counts as absent (Kubernetes decodes null as unset);
 * - the number of operations is bounded; an operation that would pass the
 *   bound is refused whole, together with the containers it needed.
 *
 * Later mutations see the earlier ones' additions through the working copy,
 * which is what makes a second run over the patched object produce nothing.
 * A patch belongs to one thread at a time.
 */
#ifndef PL_POLICIES_PATCH_H
#define PL_POLICIES_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/compiler.h"

/* Most operations in one patch (a Pod with a hundred containers needs about a thousand). */
#define PL_PATCH_MAX_OPS 2048
/* Longest JSON Pointer, escaped, and most reference tokens in one. */
#define PL_POINTER_MAX       1024
#define PL_POINTER_MAX_DEPTH 32

/* A JSON Pointer under construction. Overflow is sticky and makes every use fail. */
struct pl_pointer {
    char buf[PL_POINTER_MAX];
    size_t len;
    bool overflow;
};

/**
 * Starts a pointer from a dotted path of plain keys ("spec.template.metadata"
 * gives "/spec/template/metadata"; NULL or "" gives the root ""). The keys of
 * a dotted path must not contain '.', '/' or '~'.
 */
void pl_pointer_init(struct pl_pointer *ptr, const char *dotted);

/** Appends one key, escaped (`~` as `~0`, `/` as `~1`). */
void pl_pointer_push(struct pl_pointer *ptr, const char *key);

/** Appends an array index. */
void pl_pointer_push_index(struct pl_pointer *ptr, size_t index);

/** The pointer text, "" for the root. Borrowed from ptr. */
const char *pl_pointer_str(const struct pl_pointer *ptr);

/** Escapes one key into out (size bytes). Returns 0, or -E2BIG when it does not fit. */
PL_MUST_CHECK int pl_pointer_escape(const char *key, char *out, size_t size);

/* Most bytes of operation text in one patch (2048 operations of a few hundred bytes). */
#define PL_PATCH_MAX_TEXT (4u * 1024u * 1024u)

struct pl_patch {
    json_t *doc;       /* the object with every operation applied; owned */
    struct pl_buf ops; /* the operations as JSON text, comma-separated, no brackets */
    size_t n_ops;      /* how many */
    size_t max_ops;    /* bound on n_ops */
};

/**
 * Starts an empty patch over a deep copy of object (borrowed). max_ops 0
 * means PL_PATCH_MAX_OPS. Release with pl_patch_finish().
 */
void pl_patch_init(struct pl_patch *p, const json_t *object, size_t max_ops);

/**
 * pl_patch_init() without the copy: the patch takes over the reference doc
 * (stolen; NULL allowed) and applies its operations to it, for a caller that
 * owns the object and has no use for it unchanged.
 */
void pl_patch_init_owned(struct pl_patch *p, json_t *doc, size_t max_ops);

/** Releases the working copy and the operations. Accepts NULL. */
void pl_patch_finish(struct pl_patch *p);

/** Number of operations so far. */
size_t pl_patch_len(const struct pl_patch *p);

/**
 * The operations so far: a new reference to the array; the patch starts a
 * new empty one (the working copy stays as it is). The operations are kept
 * as text (each written when it is made, which is what an operation's value
 * must be: later operations may add into a map it added), so this parses
 * them; pl_patch_take_text() is the cheap way.
 */
json_t *pl_patch_take_ops(struct pl_patch *p);

/**
 * Appends the operations so far to out as the JSON text of the patch array
 * ("[{...},...]"; "[]" when there are none); the patch starts anew as in
 * pl_patch_take_ops(). Returns 0, or -E2BIG (out as it was) when out's
 * ceiling would be passed.
 */
PL_MUST_CHECK int pl_patch_take_text(struct pl_patch *p, struct pl_buf *out);

/** The value at ptr in the working copy, or NULL. Borrowed from p->doc. */
json_t *pl_patch_get(const struct pl_patch *p, const struct pl_pointer *ptr);

/**
 * Adds value (steals the reference, also on failure) at ptr unless a
 * non-null value is there. The last token may be "-" to append to an array.
 * Missing (or null) maps on the way are added first, as empty maps, each as
 * its own operation; an array when the token after it is "-". Returns 1 when
 * added, 0 when nothing was done because the target is present or a value on
 * the way is not a container (the object is then invalid, and the API server
 * will say so), -E2BIG when the operations would pass max_ops or
 * PL_PATCH_MAX_TEXT (nothing added), -EINVAL for a malformed or overflowed
 * pointer or a value that cannot be written as JSON (a string that is not
 * UTF-8; nothing added).
 */
PL_MUST_CHECK int pl_patch_add(struct pl_patch *p, const struct pl_pointer *ptr, json_t *value);

/**
 * Replaces the value at ptr (which must be an object member that exists)
 * with value (steals the reference). Returns 1 when replaced, 0 when the
 * target is absent or already equal, -E2BIG or -EINVAL as pl_patch_add().
 */
PL_MUST_CHECK int pl_patch_replace(struct pl_patch *p, const struct pl_pointer *ptr, json_t *value);

#endif
