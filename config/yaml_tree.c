/*
 * Builds a struct ytree from libyaml's events. libyaml's own document
 * loader would do, but it neither bounds nesting nor counts what aliases
 * expand to; reading the events ourselves stops hostile files at the
 * event that makes them so, with its position.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "rowcat/sys/grow.h"
#include "yaml_tree.h"

struct anchor {
	char *name;             /* NULL: a free slot */
	struct ynode *node;
};

struct loader {
	struct ytree *tree;
	struct policy_diagnostics *diags;
	struct ynode *stack[POLICY_NESTING_MAX];
	int depth;
	/* anchors by name, open addressing: a file of a hundred thousand
	 * anchors and aliases costs no more than reading it */
	struct anchor *anchors;
	size_t anchor_count, anchor_slots;
	size_t aliased;         /* nodes aliases have expanded to so far */
};

static struct policy_mark mark_of(yaml_mark_t m)
{
	struct policy_mark at = { (int)m.line + 1, (int)m.column + 1 };

	return at;
}

static int problem(struct loader *ld, struct policy_mark at, const char *what)
{
	if (policy_diagnostics_add(ld->diags, at, false, "%s", what) < 0)
		return -ENOMEM;
	return -EINVAL;
}

static size_t saturating_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static int append(struct ynode ***items, size_t *count, size_t *capacity,
		  struct ynode *node)
{
	if (rc_grow((void **)items, capacity, *count + 1, sizeof(**items), 4) < 0)
		return -ENOMEM;
	(*items)[(*count)++] = node;
	return 0;
}

static struct ynode *new_node(struct loader *ld, enum ynode_kind kind,
			      yaml_mark_t m)
{
	struct ynode *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	if (append(&ld->tree->all, &ld->tree->all_count,
		   &ld->tree->all_capacity, node) < 0) {
		free(node);
		return NULL;
	}
	node->kind = kind;
	node->mark = mark_of(m);
	node->expanded = 1;
	return node;
}

static size_t name_hash(const char *name)
{
	size_t h = 14695981039346656037u;

	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 1099511628211u;
	return h;
}

/* The slot of name: where it is, or the free slot where it would go. */
static struct anchor *anchor_slot(struct anchor *slots, size_t n,
				  const char *name)
{
	size_t i = name_hash(name) & (n - 1);

	while (slots[i].name && strcmp(slots[i].name, name) != 0)
		i = (i + 1) & (n - 1);
	return &slots[i];
}

static int grow_anchors(struct loader *ld)
{
	size_t n = ld->anchor_slots ? 2 * ld->anchor_slots : 64;
	struct anchor *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < ld->anchor_slots; i++) {
		if (ld->anchors[i].name)
			*anchor_slot(slots, n, ld->anchors[i].name) = ld->anchors[i];
	}
	free(ld->anchors);
	ld->anchors = slots;
	ld->anchor_slots = n;
	return 0;
}

/* A later anchor of the same name replaces the earlier, as YAML says. */
static int remember_anchor(struct loader *ld, const yaml_char_t *name,
			   struct ynode *node)
{
	struct anchor *a;

	if (!name)
		return 0;
	if (2 * (ld->anchor_count + 1) > ld->anchor_slots &&
	    grow_anchors(ld) < 0)
		return -ENOMEM;
	a = anchor_slot(ld->anchors, ld->anchor_slots, (const char *)name);
	if (!a->name) {
		a->name = strdup((const char *)name);
		if (!a->name)
			return -ENOMEM;
		ld->anchor_count++;
	}
	a->node = node;
	return 0;
}

static struct ynode *find_anchor(struct loader *ld, const yaml_char_t *name)
{
	if (!ld->anchor_slots)
		return NULL;
	return anchor_slot(ld->anchors, ld->anchor_slots,
			   (const char *)name)->node;
}

/* Hangs node under the open collection, or makes it the root. */
static int attach(struct loader *ld, struct ynode *node)
{
	struct ynode *parent;

	if (ld->depth == 0) {
		ld->tree->root = node;
		return 0;
	}
	parent = ld->stack[ld->depth - 1];
	return append(&parent->items, &parent->count, &parent->capacity, node);
}

static int on_alias(struct loader *ld, const yaml_event_t *ev)
{
	struct policy_mark at = mark_of(ev->start_mark);
	struct ynode *target = find_anchor(ld, ev->data.alias.anchor);
	char what[200];

	if (!target) {
		snprintf(what, sizeof(what), "alias *%s names no anchor before it",
			 (const char *)ev->data.alias.anchor);
		return problem(ld, at, what);
	}
	if (target->open) {
		snprintf(what, sizeof(what), "alias *%s refers to the node it is "
			 "in", (const char *)ev->data.alias.anchor);
		return problem(ld, at, what);
	}
	if (ld->depth + target->height > POLICY_NESTING_MAX) {
		snprintf(what, sizeof(what), "alias *%s nests deeper than %d "
			 "levels", (const char *)ev->data.alias.anchor,
			 POLICY_NESTING_MAX);
		return problem(ld, at, what);
	}
	/* refused at the alias that crosses the line, before any more of
	 * a bomb is read */
	ld->aliased = saturating_add(ld->aliased, target->expanded);
	if (ld->aliased > POLICY_ALIAS_NODES_MAX) {
		snprintf(what, sizeof(what), "aliases expand to more than %d "
			 "nodes (an alias bomb?)", POLICY_ALIAS_NODES_MAX);
		return problem(ld, at, what);
	}
	return attach(ld, target);
}

static int on_scalar(struct loader *ld, const yaml_event_t *ev)
{
	struct ynode *node = new_node(ld, YNODE_SCALAR, ev->start_mark);
	size_t len = ev->data.scalar.length;

	if (!node)
		return -ENOMEM;
	node->text = malloc(len + 1);
	if (!node->text)
		return -ENOMEM;
	memcpy(node->text, ev->data.scalar.value, len);
	node->text[len] = '\0';
	node->text_len = len;
	node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (remember_anchor(ld, ev->data.scalar.anchor, node) < 0)
		return -ENOMEM;
	return attach(ld, node);
}

static int on_collection_start(struct loader *ld, const yaml_event_t *ev,
			       enum ynode_kind kind)
{
	const yaml_char_t *anchor = kind == YNODE_SEQUENCE
		? ev->data.sequence_start.anchor
		: ev->data.mapping_start.anchor;
	struct ynode *node;
	char what[96];

	if (ld->depth == POLICY_NESTING_MAX) {
		snprintf(what, sizeof(what), "nesting deeper than %d levels",
			 POLICY_NESTING_MAX);
		return problem(ld, mark_of(ev->start_mark), what);
	}
	node = new_node(ld, kind, ev->start_mark);
	if (!node || remember_anchor(ld, anchor, node) < 0 ||
	    attach(ld, node) < 0)
		return -ENOMEM;
	node->open = true;
	ld->stack[ld->depth++] = node;
	return 0;
}

static int on_collection_end(struct loader *ld)
{
	struct ynode *node = ld->stack[--ld->depth];

	node->open = false;
	node->height = 1;
	for (size_t i = 0; i < node->count; i++) {
		const struct ynode *item = node->items[i];

		node->expanded = saturating_add(node->expanded, item->expanded);
		if (item->height + 1 > node->height)
			node->height = item->height + 1;
	}
	return 0;
}

/* libyaml's own error, with the place it names. Its reader (bad UTF-8,
 * control characters) names a byte offset, not a line and column. */
static int syntax_error(struct loader *ld, const yaml_parser_t *parser,
			const char *text, size_t len)
{
	struct policy_mark at = mark_of(parser->problem_mark);
	char what[256];

	if (parser->error == YAML_READER_ERROR) {
		size_t end = parser->problem_offset < len ? parser->problem_offset
							  : len;

		at.line = at.column = 1;
		for (size_t i = 0; i < end; i++) {
			at.column = text[i] == '\n' ? 1 : at.column + 1;
			at.line += text[i] == '\n';
		}
	}

	snprintf(what, sizeof(what), "YAML syntax: %s%s%s",
		 parser->problem ? parser->problem : "malformed",
		 parser->context ? " " : "",
		 parser->context ? parser->context : "");
	return problem(ld, at, what);
}

static int on_event(struct loader *ld, const yaml_event_t *ev, int *documents)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*documents > 1)
			return problem(ld, mark_of(ev->start_mark),
				       "more than one YAML document; a policy "
				       "file holds one");
		return 0;
	case YAML_ALIAS_EVENT:
		return on_alias(ld, ev);
	case YAML_SCALAR_EVENT:
		return on_scalar(ld, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_collection_start(ld, ev, YNODE_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return on_collection_start(ld, ev, YNODE_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_collection_end(ld);
	default:
		return 0;
	}
}

int ytree_load(struct ytree *tree, const char *text, size_t len,
	       struct policy_diagnostics *diags)
{
	struct loader ld = { .tree = tree, .diags = diags };
	yaml_parser_t parser;
	yaml_event_t ev;
	int documents = 0, rc = 0;
	bool ended = false;

	memset(tree, 0, sizeof(*tree));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (rc == 0 && !ended) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = parser.error == YAML_MEMORY_ERROR
				? -ENOMEM : syntax_error(&ld, &parser, text, len);
			break;
		}
		ended = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&ld, &ev, &documents);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	for (size_t i = 0; i < ld.anchor_slots; i++)
		free(ld.anchors[i].name);
	free(ld.anchors);
	return rc;
}

const char *policy_libyaml_version(void)
{
	return yaml_get_version_string();
}

void ytree_free(struct ytree *tree)
{
	for (size_t i = 0; i < tree->all_count; i++) {
		free(tree->all[i]->text);
		free(tree->all[i]->items);
		free(tree->all[i]);
	}
	free(tree->all);
	memset(tree, 0, sizeof(*tree));
}
