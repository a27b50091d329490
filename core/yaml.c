/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libyaml event stream -> jansson values (see yaml.h). The parser is a
 * recursive descent over events, bounded by PL_YAML_MAX_DEPTH, so the stack
 * it uses is bounded too.
 *
 * The work is linear in the input and bounded: anchors live in an
 * open-addressing hash table (seeded per load, grown by doubling), so an
 * alias costs a probe or two rather than a search through every anchor; an
 * alias shares its anchor's value instead of copying it; and every event and
 * every table probe counts against a budget proportional to the input size
 * (PL_YAML_STEPS_PER_BYTE), so even a table flooded with colliding names ends
 * in an error, not a stall.
 */
#include "core/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <yaml.h>

#include "core/alloc.h"

struct anchor {
    char *name;
    json_t *value; /* owned reference */
    size_t nodes;  /* expanded size of the subtree */
    int height;    /* levels below the anchored node, so an alias cannot dodge the depth limit */
};

/* Anchors of the current document: an open-addressing table (linear probing,
 * a power-of-two size at most half full) of indexes into the anchors array. A
 * redefined name points at its newest anchor (YAML 1.2 §7.1). */
struct anchor_table {
    struct anchor *items; /* in definition order; grown by doubling */
    size_t len;
    size_t cap;
    uint32_t *slots; /* index + 1 into items, 0 when free */
    size_t n_slots;  /* 0 or a power of two */
    uint64_t seed;
};

struct loader {
    yaml_parser_t parser;
    struct anchor_table anchors;
    size_t steps;     /* events parsed plus anchor table probes */
    size_t max_steps; /* the budget for steps */
    size_t nodes;     /* expanded node count of the whole stream */
    json_t *lines;    /* current document's path -> line map, or NULL */
    struct pl_error *err;
};

/* What parsing a node yields besides the value. */
struct node_size {
    size_t nodes; /* values in the subtree, aliases expanded */
    int height;   /* levels below the node (0 for a scalar) */
};

static int parse_node(struct loader *l, yaml_event_t *ev, const char *path, int depth, json_t **ret,
                      struct node_size *ret_size);

/* Counts n steps of work; an error once the budget is spent. */
static int spend(struct loader *l, size_t n, const char *path, int line)
{
    l->steps += n;
    if (l->steps > l->max_steps) {
        return pl_error_set(
            l->err, path, line,
            "document too complex: more than %zu steps of parsing work (%d per byte)", l->max_steps,
            PL_YAML_STEPS_PER_BYTE);
    }
    return 0;
}

static int next_event(struct loader *l, yaml_event_t *ev, const char *path)
{
    if (!yaml_parser_parse(&l->parser, ev)) {
        return pl_error_set(l->err, path, (int)l->parser.problem_mark.line + 1, "invalid YAML: %s",
                            l->parser.problem ? l->parser.problem : "syntax error");
    }
    int r = spend(l, 1, path, (int)ev->start_mark.line + 1);
    if (r < 0) {
        yaml_event_delete(ev);
    }
    return r;
}

/* Whether c is a digit of base (8, 10 or 16). */
static bool is_digit(char c, int base)
{
    if (c >= '0' && c <= '9') {
        return base > 8 || c <= '7';
    }
    return base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
}

/* Length of the run of base digits at s. */
static size_t digits(const char *s, int base)
{
    size_t n = 0;
    while (is_digit(s[n], base)) {
        n++;
    }
    return n;
}

/* Whether s is a whole run of (at least one) base digits. */
static bool all_digits(const char *s, int base)
{
    size_t n = digits(s, base);
    return n > 0 && s[n] == '\0';
}

/* Float per the core schema: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s)
{
    const char *p = s + (*s == '-' || *s == '+');
    if (*p == '.') {
        size_t n = digits(p + 1, 10);
        if (n == 0) {
            return false;
        }
        p += 1 + n;
    } else {
        size_t n = digits(p, 10);
        if (n == 0) {
            return false;
        }
        p += n;
        if (*p == '.') {
            p += 1 + digits(p + 1, 10);
        }
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '-' || *p == '+';
        size_t n = digits(p, 10);
        if (n == 0) {
            return false;
        }
        p += n;
    }
    return *p == '\0';
}

/* Integer per the YAML 1.2 core schema; false if s is not one or overflows. */
static bool scalar_integer(const char *s, json_int_t *ret)
{
    int base = 10;
    const char *digits_at = s;
    if (all_digits(s + (*s == '-' || *s == '+'), 10)) {
        base = 10;
    } else if (strncmp(s, "0o", 2) == 0 && all_digits(s + 2, 8)) {
        base = 8;
        digits_at = s + 2;
    } else if (strncmp(s, "0x", 2) == 0 && all_digits(s + 2, 16)) {
        base = 16;
        digits_at = s + 2;
    } else {
        return false;
    }
    errno = 0;
    char *end = NULL;
    long long v = strtoll(digits_at, &end, base);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *ret = (json_int_t)v;
    return true;
}

/* Resolves an untagged plain scalar to a JSON value (new reference). */
static json_t *plain_scalar(const char *s)
{
    if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
        strcmp(s, "NULL") == 0) {
        return json_null();
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        return json_true();
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        return json_false();
    }
    /* Only strings that can be numbers pay for the regexes. */
    if (strchr("+-.0123456789", s[0])) {
        json_int_t i;
        if (scalar_integer(s, &i)) {
            return json_integer(i);
        }
        if (is_float(s)) {
            return json_real(strtod(s, NULL));
        }
    }
    return json_string(s);
}

static json_t *scalar_value(const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag && strcmp(tag, YAML_STR_TAG) == 0) {
        return json_stringn(s, ev->data.scalar.length);
    }
    if (ev->data.scalar.quoted_implicit && !ev->data.scalar.plain_implicit) {
        return json_stringn(s, ev->data.scalar.length);
    }
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return json_stringn(s, ev->data.scalar.length);
    }
    if (strlen(s) != ev->data.scalar.length) {
        return json_stringn(s, ev->data.scalar.length); /* embedded NUL: not a number */
    }
    return plain_scalar(s);
}

/* Remembers the line of path; the first line recorded for a path wins (a
 * mapping key records its own line before its value is parsed). */
static void record_line(struct loader *l, const char *path, int line)
{
    if (l->lines && !json_object_get(l->lines, path)) {
        json_object_set_new(l->lines, path, json_integer((json_int_t)line));
    }
}

/* A seed for the anchor hash, so that colliding names cannot be prepared. */
static uint64_t hash_seed(const struct loader *l)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
        seed = (uint64_t)(uintptr_t)l ^ (uint64_t)time(NULL) * 0x9e3779b97f4a7c15u;
    }
    return seed;
}

/* FNV-1a from a seeded basis, then a 64-bit finaliser (MurmurHash3's fmix64). */
static uint64_t hash_name(uint64_t seed, const char *name)
{
    uint64_t h = 0xcbf29ce484222325u ^ seed;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h = (h ^ *p) * 0x100000001b3u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return h;
}

/*
 * The slot of name: the one holding it, or the free slot where it would go.
 * Every probe is a step of work. The table must have a free slot.
 */
static int find_slot(struct loader *l, const char *name, size_t *ret_slot, const char *path,
                     int line)
{
    const struct anchor_table *t = &l->anchors;
    size_t mask = t->n_slots - 1;
    size_t i = (size_t)hash_name(t->seed, name) & mask;
    for (;; i = (i + 1) & mask) {
        int r = spend(l, 1, path, line);
        if (r < 0) {
            return r;
        }
        uint32_t slot = t->slots[i];
        if (slot == 0 || strcmp(t->items[slot - 1].name, name) == 0) {
            *ret_slot = i;
            return 0;
        }
    }
}

/* Doubles the slot table and rehashes the newest anchor of each name. */
static int grow_slots(struct loader *l, const char *path, int line)
{
    struct anchor_table *t = &l->anchors;
    uint32_t *old = t->slots;
    size_t n_old = t->n_slots;
    t->n_slots = n_old ? n_old * 2 : 64;
    t->slots = pl_xcalloc(t->n_slots, sizeof(*t->slots));
    int r = 0;
    for (size_t i = 0; i < n_old && r == 0; i++) {
        if (old[i] == 0) {
            continue;
        }
        size_t slot = 0;
        r = find_slot(l, t->items[old[i] - 1].name, &slot, path, line);
        if (r == 0) {
            t->slots[slot] = old[i];
        }
    }
    free(old);
    return r;
}

/* Adds an anchor (the newest of its name wins); an error only when the budget is spent. */
static int remember_anchor(struct loader *l, const char *name, json_t *value,
                           const struct node_size *size, const char *path, int line)
{
    struct anchor_table *t = &l->anchors;
    if (!name) {
        return 0;
    }
    if (t->len >= UINT32_MAX - 1) {
        return pl_error_set(l->err, path, line, "too many anchors");
    }
    if (t->len + 1 > t->n_slots / 2) {
        int r = grow_slots(l, path, line);
        if (r < 0) {
            return r;
        }
    }
    size_t slot = 0;
    int r = find_slot(l, name, &slot, path, line);
    if (r < 0) {
        return r;
    }
    if (t->len == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->items = pl_xrealloc(t->items, t->cap * sizeof(*t->items));
    }
    struct anchor *a = &t->items[t->len++];
    a->name = pl_xstrdup(name);
    a->value = json_incref(value);
    a->nodes = size->nodes;
    a->height = size->height;
    t->slots[slot] = (uint32_t)t->len;
    return 0;
}

/* Anchors belong to one document (YAML 1.2 §3.2.2.2). */
static void forget_anchors(struct loader *l)
{
    struct anchor_table *t = &l->anchors;
    for (size_t i = 0; i < t->len; i++) {
        free(t->items[i].name);
        json_decref(t->items[i].value);
    }
    free(t->items);
    free(t->slots);
    uint64_t seed = t->seed;
    memset(t, 0, sizeof(*t));
    t->seed = seed;
}

static int count_nodes(struct loader *l, size_t n, const char *path, const yaml_event_t *ev)
{
    l->nodes += n;
    if (l->nodes > PL_YAML_MAX_NODES) {
        return pl_error_set(l->err, path, (int)ev->start_mark.line + 1,
                            "document too large: more than %d values once aliases are expanded",
                            PL_YAML_MAX_NODES);
    }
    return 0;
}

static int parse_alias(struct loader *l, const yaml_event_t *ev, const char *path, int depth,
                       json_t **ret, struct node_size *ret_size)
{
    const char *name = (const char *)ev->data.alias.anchor;
    int line = (int)ev->start_mark.line + 1;
    size_t slot = 0;
    if (l->anchors.n_slots == 0) {
        return pl_error_set(l->err, path, line, "unknown alias *%s", name);
    }
    int r = find_slot(l, name, &slot, path, line);
    if (r < 0) {
        return r;
    }
    if (l->anchors.slots[slot] == 0) {
        return pl_error_set(l->err, path, line, "unknown alias *%s", name);
    }
    const struct anchor *a = &l->anchors.items[l->anchors.slots[slot] - 1];
    if (depth + a->height > PL_YAML_MAX_DEPTH) {
        return pl_error_set(l->err, path, line,
                            "document nested deeper than %d levels (through alias *%s)",
                            PL_YAML_MAX_DEPTH, name);
    }
    r = count_nodes(l, a->nodes, path, ev);
    if (r < 0) {
        return r;
    }
    *ret = json_incref(a->value);
    ret_size->nodes = a->nodes;
    ret_size->height = a->height;
    return 0;
}

static int parse_sequence(struct loader *l, const char *path, int depth, json_t **ret,
                          struct node_size *ret_size)
{
    json_t *arr = json_array();
    struct node_size size = {1, 1};
    int r = 0;
    for (size_t i = 0;; i++) {
        yaml_event_t ev;
        r = next_event(l, &ev, path);
        if (r < 0) {
            goto fail;
        }
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        char child_path[512];
        snprintf(child_path, sizeof(child_path), "%s[%zu]", path, i);
        json_t *child = NULL;
        struct node_size child_size = {0, 0};
        r = parse_node(l, &ev, child_path, depth + 1, &child, &child_size);
        if (r < 0) {
            goto fail;
        }
        json_array_append_new(arr, child);
        size.nodes += child_size.nodes;
        if (child_size.height + 1 > size.height) {
            size.height = child_size.height + 1;
        }
    }
    *ret = arr;
    *ret_size = size;
    return 0;
fail:
    json_decref(arr);
    return r;
}

static int parse_mapping(struct loader *l, const char *path, int depth, json_t **ret,
                         struct node_size *ret_size)
{
    json_t *obj = json_object();
    struct node_size size = {1, 1};
    int r = 0;
    for (;;) {
        yaml_event_t key_ev;
        r = next_event(l, &key_ev, path);
        if (r < 0) {
            goto fail;
        }
        if (key_ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key_ev);
            break;
        }
        if (key_ev.type != YAML_SCALAR_EVENT) {
            r = pl_error_set(l->err, path, (int)key_ev.start_mark.line + 1,
                             "mapping keys must be plain strings");
            yaml_event_delete(&key_ev);
            goto fail;
        }
        char *key = pl_xstrndup((const char *)key_ev.data.scalar.value, key_ev.data.scalar.length);
        int key_line = (int)key_ev.start_mark.line + 1;
        yaml_event_delete(&key_ev);

        char child_path[512];
        snprintf(child_path, sizeof(child_path), "%s%s%s", path, *path ? "." : "", key);
        if (json_object_get(obj, key)) {
            r = pl_error_set(l->err, child_path, key_line, "duplicate key \"%s\"", key);
            free(key);
            goto fail;
        }
        record_line(l, child_path, key_line); /* the key's line, not its block value's */
        yaml_event_t val_ev;
        r = next_event(l, &val_ev, child_path);
        if (r < 0) {
            free(key);
            goto fail;
        }
        json_t *child = NULL;
        struct node_size child_size = {0, 0};
        r = parse_node(l, &val_ev, child_path, depth + 1, &child, &child_size);
        if (r < 0) {
            free(key);
            goto fail;
        }
        json_object_set_new(obj, key, child);
        free(key);
        size.nodes += child_size.nodes;
        if (child_size.height + 1 > size.height) {
            size.height = child_size.height + 1;
        }
    }
    *ret = obj;
    *ret_size = size;
    return 0;
fail:
    json_decref(obj);
    return r;
}

/* Converts the node that starts with ev (consumed here) into *ret (new reference). */
static int parse_node(struct loader *l, yaml_event_t *ev, const char *path, int depth, json_t **ret,
                      struct node_size *ret_size)
{
    int r = 0;
    const char *anchor = NULL;
    if (depth > PL_YAML_MAX_DEPTH) {
        r = pl_error_set(l->err, path, (int)ev->start_mark.line + 1,
                         "document nested deeper than %d levels", PL_YAML_MAX_DEPTH);
        goto out;
    }
    record_line(l, path, (int)ev->start_mark.line + 1);
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        r = parse_alias(l, ev, path, depth, ret, ret_size);
        goto out;
    case YAML_SCALAR_EVENT:
        anchor = (const char *)ev->data.scalar.anchor;
        *ret = scalar_value(ev);
        ret_size->nodes = 1;
        ret_size->height = 0;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = (const char *)ev->data.sequence_start.anchor;
        r = parse_sequence(l, path, depth, ret, ret_size);
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = (const char *)ev->data.mapping_start.anchor;
        r = parse_mapping(l, path, depth, ret, ret_size);
        break;
    default:
        r = pl_error_set(l->err, path, (int)ev->start_mark.line + 1, "unexpected YAML event");
        goto out;
    }
    if (r == 0) {
        r = count_nodes(l, ev->type == YAML_SCALAR_EVENT ? 1 : 0, path, ev);
    }
    if (r == 0) {
        r = remember_anchor(l, anchor, *ret, ret_size, path, (int)ev->start_mark.line + 1);
        if (r < 0) {
            json_decref(*ret);
            *ret = NULL;
        }
    } else if (*ret && ev->type == YAML_SCALAR_EVENT) {
        json_decref(*ret);
        *ret = NULL;
    }
out:
    yaml_event_delete(ev);
    return r;
}

static void loader_finish(struct loader *l)
{
    forget_anchors(l);
    yaml_parser_delete(&l->parser);
}

/* Parses one document after its DOCUMENT-START event; appends it unless empty. */
static int parse_document(struct loader *l, json_t *docs, json_t *all_lines)
{
    yaml_event_t ev;
    int r = next_event(l, &ev, "");
    if (r < 0) {
        return r;
    }
    forget_anchors(l);
    l->lines = all_lines ? json_object() : NULL;
    json_t *doc = NULL;
    struct node_size size = {0, 0};
    r = parse_node(l, &ev, "", 0, &doc, &size);
    if (r < 0) {
        json_decref(l->lines);
        l->lines = NULL;
        return r;
    }
    yaml_event_t end;
    r = next_event(l, &end, "");
    if (r == 0) {
        yaml_event_delete(&end);
    }
    if (r == 0 && !json_is_null(doc)) {
        json_array_append(docs, doc);
        if (all_lines) {
            json_array_append(all_lines, l->lines);
        }
    }
    json_decref(doc);
    json_decref(l->lines);
    l->lines = NULL;
    return r;
}

/* pl_yaml_load() with its budget of steps given, telling the steps taken
 * (also on failure) when ret_steps is not NULL: the unit tests measure work. */
static int load(const char *data, size_t len, json_t **ret_docs, json_t **ret_lines,
                struct pl_error *err, size_t max_steps, size_t *ret_steps)
{
    struct loader l = {.err = err, .max_steps = max_steps};
    l.anchors.seed = hash_seed(&l);
    json_t *docs = json_array();
    json_t *lines = ret_lines ? json_array() : NULL;
    int r = 0;

    if (!yaml_parser_initialize(&l.parser)) {
        pl_oom();
    }
    yaml_parser_set_input_string(&l.parser, (const unsigned char *)data, len);
    for (;;) {
        yaml_event_t ev;
        r = next_event(&l, &ev, "");
        if (r < 0) {
            goto out;
        }
        yaml_event_type_t type = ev.type;
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT) {
            break;
        }
        if (type == YAML_DOCUMENT_START_EVENT) {
            r = parse_document(&l, docs, lines);
            if (r < 0) {
                goto out;
            }
        }
    }
    *ret_docs = docs;
    docs = NULL;
    if (ret_lines) {
        *ret_lines = lines;
        lines = NULL;
    }
out:
    if (ret_steps) {
        *ret_steps = l.steps;
    }
    loader_finish(&l);
    json_decref(docs);
    json_decref(lines);
    return r;
}

int pl_yaml_load(const char *data, size_t len, json_t **ret_docs, json_t **ret_lines,
                 struct pl_error *err)
{
    size_t max_steps = (len + PL_YAML_STEPS_BASE) * PL_YAML_STEPS_PER_BYTE;
    if (len > SIZE_MAX / PL_YAML_STEPS_PER_BYTE - PL_YAML_STEPS_BASE) {
        max_steps = SIZE_MAX;
    }
    return load(data, len, ret_docs, ret_lines, err, max_steps, NULL);
}
