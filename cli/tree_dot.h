/*
 * rowcat tree --format dot: a volume's lineage in Graphviz's language,
 * for `rowcat tree VOL --format dot | dot -Tsvg > tree.svg`.
 */
#ifndef ROWCAT_CLI_TREE_DOT_H
#define ROWCAT_CLI_TREE_DOT_H

#include <stdbool.h>
#include <stdio.h>

#include "rowcat/catalog.h"

struct tree_dot {
	const struct catalog_lineage *lin;
	bool all;                   /* draw what gc collected too */
	/* per image of lin: the name of the volume it belongs to when that
	 * is another volume; NULL for the lineage's own images and foreign
	 * ancestors (volume_id 0). owners itself may be NULL. */
	const char *const *owners;
	const char *title;          /* the graph's label */
};

/*
 * Writes d's lineage as one digraph to out: images as boxes, snapshots as
 * ellipses below their image, clone edges from a snapshot to the images
 * cloned from it (dashed where the clone was flattened), the operating
 * image, pinned, marked, collected and foreign nodes styled apart, and a
 * legend. Every identifier is a generated one and every label quoted and
 * escaped, so that any name dot reads. -ENOMEM, or -EIO when out fails.
 */
int tree_dot_print(FILE *out, const struct tree_dot *d);

#endif
