/*
 * Private to config/: a YAML document loaded into a small tree of nodes,
 * each with the line and column it started at, so that every message about
 * the policy can point at its place in the file.
 *
 * The loader is where hostile input is stopped: nesting past
 * POLICY_NESTING_MAX, aliases that together would expand to more than
 * POLICY_ALIAS_NODES_MAX nodes or that refer to the node they are in, and
 * more than one document.
 * Aliases are kept as shared nodes, never copied, so an alias bomb costs
 * only its text; the expansion count is what refuses it.
 */
#ifndef ROWCAT_YAML_TREE_H
#define ROWCAT_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "rowcat/policy.h"

enum ynode_kind { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING };

struct ynode {
	enum ynode_kind kind;
	struct policy_mark mark;
	char *text;             /* scalar: its value, NUL-terminated */
	size_t text_len;        /* may be past an embedded NUL ("\0") */
	bool plain;             /* scalar written without quotes */
	struct ynode **items;   /* sequence: items; mapping: key, value, ... */
	size_t count, capacity;
	size_t expanded;        /* nodes it stands for, aliases expanded */
	int height;             /* levels of collections, itself included */
	bool open;              /* still being read (an alias to it is a loop) */
};

/* The tree owns every node (all), including those aliases share. */
struct ytree {
	struct ynode *root;     /* NULL for an empty document */
	struct ynode **all;
	size_t all_count, all_capacity;
};

/*
 * Loads the one YAML document in text (len bytes). Problems go into diags
 * with their positions. Returns 0, -EINVAL (diags holds why) or -ENOMEM;
 * free the tree with ytree_free in every case.
 */
int ytree_load(struct ytree *tree, const char *text, size_t len,
	       struct policy_diagnostics *diags);
void ytree_free(struct ytree *tree);

#endif
