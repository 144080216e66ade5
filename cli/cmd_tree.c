/*
 * rowcat tree: a volume's lineage, drawn from the catalog alone.
 *
 * The lineage is a tree whose nodes alternate: an image, its snapshots,
 * the images cloned from each. It is drawn the way git log --graph draws
 * a history: one node a line, and a straight line of generations stays in
 * one column. A node's children are drawn side branches first, each one
 * column to the right, and its main child last, in the node's own column:
 *
 *     * rbd/vol1                  the root image
 *     o @s1                       its snapshot
 *     |\                          s1 has two clones: a side branch
 *     | * rbd/vol1.rc2            (the line a restore of s1 left)
 *     | o @pre-restore-...
 *     * rbd/vol1.rc3              s1's main clone, in s1's column
 *
 * The main child is the one the operating image descends from; elsewhere
 * the one with the most nodes below it, so that a side branch off a side
 * branch holds at most half of what that one does: the graph of N nodes
 * is at most 2 + log2(N) columns wide, however long the history.
 *
 * What gc collected is left out unless --all. A flattened image whose
 * ancestors are collected starts a line of its own, under a "~" line
 * that says how many nodes were left out above it.
 *
 * An adopted volume's tree starts above its own root, at the images it
 * reads through: a foreign one (no volume's, such as the Glance image a
 * Cinder volume was cloned from) says "foreign", another volume's says
 * whose it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "rowcat/clock.h"
#include "rowcat/policy.h"
#include "rowcat/sys/grow.h"
#include "rowcat/units.h"
#include "table.h"
#include "tree_dot.h"

#define NONE SIZE_MAX

/* A node id: POOL[/NS]/IMAGE or POOL[/NS]/IMAGE@SNAPSHOT. */
#define NODE_ID_MAX (RC_SPEC_MAX + 1 + RC_NAME_MAX)

enum node_kind { NODE_IMAGE, NODE_SNAPSHOT };

struct node {
	enum node_kind kind;
	size_t at;            /* in lin->images or lin->snapshots */
	size_t parent;        /* NONE for the root */
	size_t first_child;   /* children in the order they were made */
	size_t next_sibling;
	size_t main;          /* the shown child drawn in this column, or NONE */
	size_t weight;        /* shown nodes drawn from here down */
	bool shown;           /* not collected by gc, or --all */
	bool leads;           /* the operating image is drawn from here down */
};

enum row_kind {
	ROW_NODE,             /* a node's line */
	ROW_FORK,             /* a side branch starts: "|\" */
	ROW_ELIDED,           /* "~ N collected" above a line of its own */
};

struct row {
	enum row_kind kind;
	size_t node;          /* ROW_NODE: that node; else the one below */
	size_t column;
	size_t elided;        /* ROW_ELIDED: how many nodes were left out */
};

/* A volume that owns images the tree's volume reads through. */
struct owner {
	int64_t volume_id;
	char name[RC_NAME_MAX];
};

struct graph {
	const struct catalog_lineage *lin;
	struct owner *owners; /* of the images not the volume's own */
	size_t owner_count;
	struct node *nodes;   /* images first, then snapshots */
	size_t count;
	struct row *rows;     /* in drawing order */
	size_t row_count, row_cap;
};

static size_t find_image(const struct catalog_lineage *lin, int64_t id)
{
	size_t lo = 0, hi = lin->image_count;

	while (lo < hi) { /* images come ordered by id */
		size_t mid = lo + (hi - lo) / 2;
		if (lin->images[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < lin->image_count && lin->images[lo].id == id ? lo : NONE;
}

struct id_index {
	int64_t id;
	size_t index;
};

static int by_id(const void *a, const void *b)
{
	int64_t x = ((const struct id_index *)a)->id;
	int64_t y = ((const struct id_index *)b)->id;
	return (x > y) - (x < y);
}

static size_t find_snapshot(const struct id_index *by, size_t count, int64_t id)
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (by[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < count && by[lo].id == id ? by[lo].index : NONE;
}

static const struct catalog_image *node_image(const struct graph *g, size_t n)
{
	const struct node *node = &g->nodes[n];
	size_t i = node->kind == NODE_IMAGE ? node->at :
		g->nodes[node->parent].at;

	return &g->lin->images[i];
}

static const struct catalog_snapshot *node_snapshot(const struct graph *g,
						    size_t n)
{
	return &g->lin->snapshots[g->nodes[n].at];
}

/* Collected: an image gc moved to the trash (purged or not), a snapshot
 * it removed, and the snapshots of an image in the trash. */
static bool collected(const struct graph *g, size_t n)
{
	if (g->nodes[n].kind == NODE_SNAPSHOT &&
	    node_snapshot(g, n)->removed_at)
		return true;
	return node_image(g, n)->removed_at != 0;
}

static bool is_operating(const struct graph *g, size_t n)
{
	return g->nodes[n].kind == NODE_IMAGE &&
	       node_image(g, n)->id == g->lin->volume.operating_image_id;
}

/* Links images and snapshots into one tree, children in creation order. */
static int graph_link(struct graph *g, bool all)
{
	const struct catalog_lineage *lin = g->lin;
	size_t ni = lin->image_count, ns = lin->snapshot_count;
	struct id_index *snapshot_by_id;

	g->count = ni + ns;
	g->nodes = calloc(g->count + 1, sizeof(*g->nodes));
	snapshot_by_id = malloc((ns + 1) * sizeof(*snapshot_by_id));
	if (!g->nodes || !snapshot_by_id) {
		free(snapshot_by_id);
		return -ENOMEM;
	}
	for (size_t n = 0; n < g->count; n++) {
		struct node *node = &g->nodes[n];
		node->kind = n < ni ? NODE_IMAGE : NODE_SNAPSHOT;
		node->at = n < ni ? n : n - ni;
		node->parent = node->first_child = node->next_sibling = NONE;
		node->main = NONE;
	}
	for (size_t s = 0; s < ns; s++) {
		snapshot_by_id[s].id = lin->snapshots[s].id;
		snapshot_by_id[s].index = s;
	}
	qsort(snapshot_by_id, ns, sizeof(*snapshot_by_id), by_id);
	for (size_t s = 0; s < ns; s++)
		g->nodes[ni + s].parent = find_image(lin, lin->snapshots[s].image_id);
	for (size_t i = 1; i < ni; i++) {
		size_t s = find_snapshot(snapshot_by_id, ns,
					 lin->images[i].parent_snapshot_id);
		g->nodes[i].parent = s == NONE ? NONE : ni + s;
	}
	free(snapshot_by_id);
	/* walk backwards and push to the front: lists keep creation order */
	for (size_t n = g->count; n-- > 0;) {
		size_t p = g->nodes[n].parent;
		if (p == NONE)
			continue;
		g->nodes[n].next_sibling = g->nodes[p].first_child;
		g->nodes[p].first_child = n;
	}
	for (size_t n = 0; n < g->count; n++)
		g->nodes[n].shown = all || !collected(g, n);
	return 0;
}

/*
 * Weighs every shown node and chooses its main child, children before
 * parents: the nodes in an order where each parent comes before its
 * children (depth first from every root), walked backwards.
 */
static int graph_weigh(struct graph *g)
{
	size_t *order = malloc((g->count + 1) * sizeof(*order));
	size_t *stack = malloc((g->count + 1) * sizeof(*stack));
	size_t done = 0, depth = 0;

	if (!order || !stack) {
		free(order);
		free(stack);
		return -ENOMEM;
	}
	for (size_t root = 0; root < g->count; root++) {
		if (g->nodes[root].parent != NONE)
			continue;
		stack[depth++] = root;
		while (depth > 0) {
			size_t n = stack[--depth];
			order[done++] = n;
			for (size_t c = g->nodes[n].first_child; c != NONE;
			     c = g->nodes[c].next_sibling)
				stack[depth++] = c;
		}
	}
	while (done-- > 0) {
		struct node *node = &g->nodes[order[done]];
		size_t best = NONE;

		if (!node->shown)
			continue;
		node->weight = 1;
		node->leads = is_operating(g, order[done]);
		for (size_t c = node->first_child; c != NONE;
		     c = g->nodes[c].next_sibling) {
			const struct node *child = &g->nodes[c];
			if (!child->shown)
				continue;
			node->weight += child->weight;
			node->leads = node->leads || child->leads;
			/* ties go to the newer child: the line drawn on */
			if (best == NONE || child->leads ||
			    (!g->nodes[best].leads &&
			     child->weight >= g->nodes[best].weight))
				best = c;
		}
		node->main = best;
	}
	free(order);
	free(stack);
	return 0;
}

static int add_row(struct graph *g, enum row_kind kind, size_t node,
		   size_t column, size_t elided)
{
	if (rc_grow((void **)&g->rows, &g->row_cap, g->row_count + 1,
		    sizeof(*g->rows), 64) < 0)
		return -ENOMEM;
	g->rows[g->row_count++] = (struct row){ kind, node, column, elided };
	return 0;
}

/* Lays out node n's line of descent in `column`, side branches first. The
 * recursion goes one column deeper a level: as deep as the graph is wide. */
static int lay_out(struct graph *g, size_t n, size_t column)
{
	int rc = 0;

	for (; n != NONE && rc == 0; n = g->nodes[n].main) {
		rc = add_row(g, ROW_NODE, n, column, 0);
		for (size_t c = g->nodes[n].first_child; c != NONE && rc == 0;
		     c = g->nodes[c].next_sibling) {
			if (!g->nodes[c].shown || c == g->nodes[n].main)
				continue;
			rc = add_row(g, ROW_FORK, c, column, 0);
			if (rc == 0)
				rc = lay_out(g, c, column + 1);
		}
	}
	return rc;
}

/* A shown node whose parent is not shown starts a line of its own,
 * under a line that counts the nodes left out above it. */
static int lay_out_root(struct graph *g, size_t root)
{
	size_t elided = 0;
	int rc = 0;

	for (size_t p = g->nodes[root].parent; p != NONE && !g->nodes[p].shown;
	     p = g->nodes[p].parent)
		elided++;
	if (g->nodes[root].parent != NONE)
		rc = add_row(g, ROW_ELIDED, root, 0, elided);
	return rc < 0 ? rc : lay_out(g, root, 0);
}

static bool is_root(const struct graph *g, size_t n)
{
	const struct node *node = &g->nodes[n];
	return node->shown &&
	       (node->parent == NONE || !g->nodes[node->parent].shown);
}

static int graph_build(struct graph *g, const struct catalog_lineage *lin,
		       bool all)
{
	size_t leading = NONE;
	int rc;

	memset(g, 0, sizeof(*g));
	g->lin = lin;
	rc = graph_link(g, all);
	if (rc == 0)
		rc = graph_weigh(g);
	/* the line of the operating image last, so that it ends the drawing */
	for (size_t n = 0; n < g->count && rc == 0; n++) {
		if (!is_root(g, n))
			continue;
		if (g->nodes[n].leads)
			leading = n;
		else
			rc = lay_out_root(g, n);
	}
	if (rc == 0 && leading != NONE)
		rc = lay_out_root(g, leading);
	return rc;
}

static void graph_free(struct graph *g)
{
	free(g->nodes);
	free(g->rows);
	free(g->owners);
}

/* Whether node n (an image, or a snapshot of one) is not the volume's own:
 * a foreign ancestor's, or another volume's. */
static bool is_foreign(const struct graph *g, size_t n)
{
	return !catalog_lineage_owns(g->lin, node_image(g, n));
}

/* The name of volume id: the tree's, another's load_owners read, or NULL
 * (0: a foreign ancestor, no volume's). */
static const char *volume_name(const struct graph *g, int64_t id)
{
	if (id == g->lin->volume.id)
		return g->lin->volume.name;
	for (size_t k = 0; k < g->owner_count; k++)
		if (g->owners[k].volume_id == id)
			return g->owners[k].name;
	return NULL;
}

/* The name of the volume node n is of, as volume_name says. */
static const char *node_owner(const struct graph *g, size_t n)
{
	return volume_name(g, node_image(g, n)->volume_id);
}

/* Reads the names of the other volumes whose images the tree shows. */
static int load_owners(struct cli_ctx *ctx, struct graph *g)
{
	const struct catalog_lineage *lin = g->lin;
	size_t cap = 0;

	for (size_t i = 0; i < lin->image_count; i++) {
		int64_t id = lin->images[i].volume_id;
		struct catalog_volume other;
		bool known = id == 0 || id == lin->volume.id;
		int rc;

		for (size_t k = 0; k < g->owner_count && !known; k++)
			known = g->owners[k].volume_id == id;
		if (known)
			continue;
		rc = catalog_volume_get(ctx->catalog, id, &other, &ctx->err);
		if (rc < 0)
			return rc;
		if (rc_grow((void **)&g->owners, &cap, g->owner_count + 1,
			    sizeof(*g->owners), 4) < 0)
			return -ENOMEM;
		g->owners[g->owner_count].volume_id = id;
		snprintf(g->owners[g->owner_count].name, RC_NAME_MAX, "%s",
			 other.name);
		g->owner_count++;
	}
	return 0;
}

/* n's id ("" for NONE): the spec rbd takes for the image or snapshot. */
static void node_id(const struct graph *g, size_t n, char out[NODE_ID_MAX])
{
	char spec[RC_SPEC_MAX];

	out[0] = '\0';
	if (n == NONE)
		return;
	rc_image_spec_format(&node_image(g, n)->spec, spec, sizeof(spec));
	if (g->nodes[n].kind == NODE_IMAGE)
		snprintf(out, NODE_ID_MAX, "%s", spec);
	else
		snprintf(out, NODE_ID_MAX, "%s@%s", spec,
			 node_snapshot(g, n)->name);
}

static bool snapshot_marked(const struct graph *g, size_t n)
{
	return node_snapshot(g, n)->marked_at || g->lin->volume.marked_at;
}

/* ---- JSON ------------------------------------------------------------- */

/* One node, with rbd's keys for where it is (pool, pool_namespace,
 * image, snapshot). */
static struct json_object *json_node(const struct graph *g, size_t n)
{
	const struct catalog_image *img = node_image(g, n);
	struct json_object *o = json_object_new_object();
	char id[NODE_ID_MAX];

	if (!o)
		return NULL;
	node_id(g, n, id);
	json_object_object_add(o, "id", cli_json_string(id));
	node_id(g, g->nodes[n].parent, id);
	json_object_object_add(o, "parent_id", cli_json_nonempty(id));
	json_object_object_add(o, "type", json_object_new_string(
		g->nodes[n].kind == NODE_IMAGE ? "image" : "snapshot"));
	cli_json_add_image(o, &img->spec);
	json_object_object_add(o, "foreign",
			       json_object_new_boolean(is_foreign(g, n)));
	json_object_object_add(o, "volume", cli_json_string(node_owner(g, n)));
	if (g->nodes[n].kind == NODE_IMAGE) {
		json_object_object_add(o, "depth",
			json_object_new_int(g->lin->depths[g->nodes[n].at]));
		json_object_object_add(o, "created", cli_json_time(img->created_at));
		json_object_object_add(o, "operating",
			json_object_new_boolean(is_operating(g, n)));
		json_object_object_add(o, "flattened",
			json_object_new_boolean(img->flattened_at != 0));
		json_object_object_add(o, "in_trash",
			json_object_new_boolean(img->removed_at && !img->purged_at));
		json_object_object_add(o, "trash_until", cli_json_time(
			img->removed_at && !img->purged_at ? img->trash_until : 0));
		json_object_object_add(o, "purged",
			json_object_new_boolean(img->purged_at != 0));
	} else {
		const struct catalog_snapshot *snap = node_snapshot(g, n);

		json_object_object_add(o, "snapshot", cli_json_string(snap->name));
		json_object_object_add(o, "protected",
			json_object_new_boolean(snap->is_protected));
		json_object_object_add(o, "created", cli_json_time(snap->created_at));
		json_object_object_add(o, "policy_time", cli_json_time(snap->policy_at));
		json_object_object_add(o, "origin", cli_json_string(snap->origin));
		json_object_object_add(o, "pinned", json_object_new_boolean(snap->pinned));
		json_object_object_add(o, "marked",
			json_object_new_boolean(snapshot_marked(g, n)));
		json_object_object_add(o, "removed",
			json_object_new_boolean(snap->removed_at != 0));
	}
	return o;
}

/* The operating image's index, or NONE in a damaged catalog. */
static size_t operating_index(const struct catalog_lineage *lin)
{
	for (size_t i = 0; i < lin->image_count; i++)
		if (lin->images[i].id == lin->volume.operating_image_id)
			return i;
	return NONE;
}

/*
 * The volume as ls --format json prints it, and its nodes in drawing
 * order: a flat list, each node naming its parent, so that any JSON
 * reader takes a lineage of any length (a nested one grew jq's 256
 * levels past in 64 generations).
 */
/* What tree --at adds: the time, and the operation that made the
 * operating image of then operating (NULL: none the journal dates). */
struct tree_at {
	bool given;
	int64_t at;
	const struct catalog_operation *switched_by;
};

/* Who journalled op, as log's BY column says it. */
static void who(const struct catalog_operation *op, char *buf, size_t len)
{
	if (!op->host[0] && !op->user[0] && !op->pid)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s@%s[%lld]", op->user[0] ? op->user : "-",
			 op->host[0] ? op->host : "-", (long long)op->pid);
}

static struct json_object *json_switch(const struct catalog_operation *op)
{
	struct json_object *o;

	if (!op || !(o = json_object_new_object()))
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(op->id));
	json_object_object_add(o, "operation",
			       cli_json_string(catalog_op_kind_name(op->kind)));
	json_object_object_add(o, "finished",
			       cli_json_time(catalog_op_real_finished(op)));
	json_object_object_add(o, "host", cli_json_nonempty(op->host));
	json_object_object_add(o, "user", cli_json_nonempty(op->user));
	json_object_object_add(o, "pid",
			       op->pid ? json_object_new_int64(op->pid) : NULL);
	return o;
}

static int print_json(struct cli_ctx *ctx, const struct graph *g,
		      const struct tree_at *at)
{
	const struct catalog_lineage *lin = g->lin;
	size_t op = operating_index(lin);
	const struct catalog_image *root = catalog_lineage_root(lin);
	struct json_object *top = json_object_new_object();
	struct json_object *nodes = json_object_new_array();
	char spec[RC_SPEC_MAX] = "";
	int snapshots = 0, rc = 0;

	if (!top || !nodes) {
		json_object_put(nodes);
		rc = -ENOMEM;
		goto out;
	}
	for (size_t s = 0; s < lin->snapshot_count; s++)
		snapshots += lin->snapshots[s].removed_at == 0 &&
			     catalog_lineage_owns_snapshot(lin, &lin->snapshots[s]);
	if (op != NONE)
		rc_image_spec_format(&lin->images[op].spec, spec, sizeof(spec));
	json_object_object_add(top, "volume", cli_json_string(lin->volume.name));
	json_object_object_add(top, "pool", cli_json_string(root->spec.pool));
	json_object_object_add(top, "pool_namespace",
			       cli_json_string(root->spec.ns));
	json_object_object_add(top, "size", json_object_new_int64((int64_t)lin->volume.size));
	json_object_object_add(top, "operating", cli_json_string(op == NONE ? NULL : spec));
	json_object_object_add(top, "depth",
			       op == NONE ? NULL : json_object_new_int(lin->depths[op]));
	json_object_object_add(top, "snapshots", json_object_new_int(snapshots));
	json_object_object_add(top, "marked",
			       json_object_new_boolean(lin->volume.marked_at != 0));
	if (at->given) {
		json_object_object_add(top, "at", cli_json_time(at->at));
		json_object_object_add(top, "switched_by",
				       json_switch(at->switched_by));
	}
	json_object_object_add(top, "nodes", nodes);
	for (size_t r = 0; r < g->row_count && rc == 0; r++) {
		struct json_object *node;
		if (g->rows[r].kind != ROW_NODE)
			continue;
		node = json_node(g, g->rows[r].node);
		if (!cli_json_append(nodes, node))
			rc = -ENOMEM;
	}
	if (rc == 0)
		rc = cli_json_print(ctx, top);
out:
	json_object_put(top);
	return rc;
}

/* ---- the table -------------------------------------------------------- */

enum {
	COL_NAME, COL_ID, COL_PARENT, COL_TYPE, COL_DEPTH, COL_CREATED,
	COL_POLICY_TIME, COL_ORIGIN, COL_STATE, COL_COUNT
};

static const struct cli_column tree_columns[COL_COUNT] = {
	[COL_NAME] = { "NAME", "the graph, and an image as POOL[/NS]/IMAGE,\n"
		       "a snapshot as @SNAPSHOT", true, false },
	[COL_ID] = { "ID", "POOL[/NS]/IMAGE or POOL[/NS]/IMAGE@SNAPSHOT,\n"
		     "as rbd takes it", false, false },
	[COL_PARENT] = { "PARENT", "the ID of the node it comes from (none for\n"
			 "the root)", false, false },
	[COL_TYPE] = { "TYPE", "image or snapshot", false, false },
	[COL_DEPTH] = { "DEPTH", "an image's clone depth: the parents it reads\n"
			"through", true, true },
	[COL_CREATED] = { "CREATED", "when the image was made or the snapshot\n"
			  "taken (UTC)", true, false },
	[COL_POLICY_TIME] = { "POLICY-TIME", "the --now of the policy run that took\n"
			      "the snapshot", false, false },
	[COL_ORIGIN] = { "ORIGIN", "why the snapshot was taken: manual,\n"
			 "pre-restore, policy:NAME, adopted", true, false },
	[COL_STATE] = { "STATE", "foreign, volume OTHER (what it reads through\n"
			"that is not its own); operating, flattened, in trash\n"
			"until, purged; protected or unprotected, pinned,\n"
			"marked, removed", true, false },
};

/* The graph in front of a row's name, the name included. */
static void graph_cell(const struct graph *g, const struct row *row,
		       const struct cli_graph_glyphs *glyphs, char *out,
		       size_t size)
{
	size_t used = 0;

	for (size_t c = 0; c < row->column && used < size; c++)
		used += (size_t)snprintf(out + used, size - used, "%s", glyphs->line);
	if (used >= size)
		return;
	switch (row->kind) {
	case ROW_FORK:
		snprintf(out + used, size - used, "%s", glyphs->fork);
		break;
	case ROW_ELIDED:
		snprintf(out + used, size - used, "%s%zu collected", glyphs->elided,
			 row->elided);
		break;
	case ROW_NODE:
		if (g->nodes[row->node].kind == NODE_IMAGE) {
			char spec[RC_SPEC_MAX];
			rc_image_spec_format(&node_image(g, row->node)->spec,
					     spec, sizeof(spec));
			snprintf(out + used, size - used, "%s%s", glyphs->image, spec);
		} else {
			snprintf(out + used, size - used, "%s@%s", glyphs->snapshot,
				 node_snapshot(g, row->node)->name);
		}
		break;
	}
}

static void add_word(char *out, size_t size, const char *word)
{
	size_t used = strlen(out);

	snprintf(out + used, size - used, "%s%s", used ? " " : "", word);
}

/* The STATE cell: what the catalog says of the node, in words. */
static void state_cell(const struct graph *g, size_t n, char *out, size_t size)
{
	char owner[RC_NAME_MAX + 8];

	out[0] = '\0';
	if (is_foreign(g, n) && node_owner(g, n)) {
		snprintf(owner, sizeof(owner), "volume %s", node_owner(g, n));
		add_word(out, size, owner);
	} else if (is_foreign(g, n)) {
		add_word(out, size, "foreign");
	}
	if (g->nodes[n].kind == NODE_IMAGE) {
		const struct catalog_image *img = node_image(g, n);
		char until[RC_ISO_TIME_MAX], text[64];

		if (is_operating(g, n))
			add_word(out, size, "operating");
		if (img->flattened_at)
			add_word(out, size, "flattened");
		if (img->removed_at && !img->purged_at) {
			rc_time_format_iso(img->trash_until, until);
			snprintf(text, sizeof(text), "in trash until %s", until);
			add_word(out, size, text);
		}
		if (img->purged_at)
			add_word(out, size, "purged");
	} else {
		const struct catalog_snapshot *snap = node_snapshot(g, n);

		add_word(out, size, snap->is_protected ? "protected" : "unprotected");
		if (snap->pinned)
			add_word(out, size, "pinned");
		if (snapshot_marked(g, n))
			add_word(out, size, "marked");
		if (snap->removed_at)
			add_word(out, size, "removed");
	}
}

static int fill_row(struct cli_table *t, const struct graph *g,
		    const struct row *row, const struct cli_graph_glyphs *glyphs)
{
	struct libscols_line *line;
	char name[NODE_ID_MAX + 512], text[NODE_ID_MAX];
	size_t n = row->node;
	int rc;

	/* a graph-only row means nothing without its graph */
	if (row->kind != ROW_NODE && (t->raw || !cli_table_shows(t, COL_NAME)))
		return 0;
	line = cli_table_row(t);
	if (!line)
		return -ENOMEM;
	if (t->raw && g->nodes[n].kind == NODE_SNAPSHOT)
		snprintf(name, sizeof(name), "@%s", node_snapshot(g, n)->name);
	else if (t->raw)
		node_id(g, n, name);
	else
		graph_cell(g, row, glyphs, name, sizeof(name));
	rc = cli_table_set(t, line, COL_NAME, name);
	if (row->kind != ROW_NODE || rc < 0)
		return rc;

	node_id(g, n, text);
	rc = cli_table_set(t, line, COL_ID, text);
	node_id(g, g->nodes[n].parent, text);
	rc = rc < 0 ? rc : cli_table_set(t, line, COL_PARENT, text);
	rc = rc < 0 ? rc : cli_table_set(t, line, COL_TYPE,
		g->nodes[n].kind == NODE_IMAGE ? "image" : "snapshot");
	if (g->nodes[n].kind == NODE_IMAGE) {
		snprintf(text, sizeof(text), "%d", g->lin->depths[g->nodes[n].at]);
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_DEPTH, text);
		rc_time_format_iso(node_image(g, n)->created_at, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_CREATED, text);
	} else {
		const struct catalog_snapshot *snap = node_snapshot(g, n);

		rc_time_format_iso(snap->created_at, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_CREATED, text);
		if (snap->policy_at) {
			rc_time_format_iso(snap->policy_at, text);
			rc = rc < 0 ? rc : cli_table_set(t, line, COL_POLICY_TIME, text);
		}
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_ORIGIN, snap->origin);
	}
	state_cell(g, n, text, sizeof(text));
	return rc < 0 ? rc : cli_table_set(t, line, COL_STATE, text);
}

static int print_table(struct cli_ctx *ctx, const struct graph *g,
		       struct cli_table *t, const struct tree_at *at)
{
	const struct cli_graph_glyphs *glyphs = cli_graph_glyphs();
	char size[RC_SIZE_TEXT_MAX], when[RC_ISO_TIME_MAX] = "";
	char by[RC_USER_MAX + RC_HOST_MAX + 32];
	int rc = 0;

	for (size_t r = 0; r < g->row_count && rc == 0; r++)
		rc = fill_row(t, g, &g->rows[r], glyphs);
	if (rc < 0)
		return rc;
	if (!t->raw && !t->noheadings) {
		rc_size_format(g->lin->volume.size, size);
		/* a volume gc collected whole would leave the title alone */
		if (at->given)
			rc_time_format_iso(at->at, when);
		printf("volume %s (%s)%s%s%s%s\n", g->lin->volume.name, size,
		       at->given ? " at " : "", when,
		       g->lin->volume.marked_at ? "  marked for collection" : "",
		       g->row_count == 0 ? "  all collected: --all draws it" : "");
		if (at->switched_by) {
			rc_time_format_iso(catalog_op_real_finished(at->switched_by),
					   when);
			who(at->switched_by, by, sizeof(by));
			printf("operating image since %s: %s %lld by %s\n", when,
			       catalog_op_kind_name(at->switched_by->kind),
			       (long long)at->switched_by->id, by);
		}
	}
	return cli_table_print(t, ctx);
}

/* --at TIME: an ISO 8601 time, as --now takes one, or -DURATION, that
 * long before now (-2h, -1d12h), in the durations policies write. */
static int parse_at(struct cli_ctx *ctx, const char *text, int64_t *at)
{
	int64_t ago;
	int rc;

	if (text[0] == '-') {
		rc = policy_duration_parse(text + 1, &ago, &ctx->err);
		if (rc == 0)
			*at = rc_clock_now() - ago;
	} else {
		rc = rc_time_parse_iso(text, at, &ctx->err);
	}
	return rc < 0 ? rc_error_prefix(&ctx->err, "--at: ") : 0;
}

/* The lineage and, with --at, the journal, in one read of the catalog. */
static int load(struct cli_ctx *ctx, const struct catalog_volume *volume,
		bool with_journal, struct catalog_lineage **lin,
		struct catalog_operation **ops, size_t *op_count)
{
	int rc = catalog_read_begin(ctx->catalog, &ctx->err);

	if (rc < 0)
		return rc;
	rc = catalog_lineage_load(lin, ctx->catalog, volume, &ctx->err);
	if (rc == 0 && with_journal)
		rc = catalog_op_list_volume(ctx->catalog, volume->id, ops,
					    op_count, &ctx->err);
	catalog_read_end(ctx->catalog);
	return rc;
}

/* --format dot: the graph, titled, with the names of the other volumes
 * whose images the lineage holds (as load_owners read them into g). */
static int print_dot(struct cli_ctx *ctx, const struct graph *g, bool all,
		     const struct tree_at *at)
{
	const struct catalog_lineage *lin = g->lin;
	const char **owners = calloc(lin->image_count + 1, sizeof(*owners));
	char title[RC_NAME_MAX + RC_SIZE_TEXT_MAX + RC_ISO_TIME_MAX + 64];
	char size[RC_SIZE_TEXT_MAX], when[RC_ISO_TIME_MAX] = "";
	struct tree_dot d = { lin, all, NULL, title };
	int rc = 0;

	if (!owners) {
		rc = rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < lin->image_count; i++)
		if (lin->images[i].volume_id != lin->volume.id)
			owners[i] = volume_name(g, lin->images[i].volume_id);
	d.owners = owners;
	rc_size_format(lin->volume.size, size);
	if (at->given)
		rc_time_format_iso(at->at, when);
	snprintf(title, sizeof(title), "volume %s (%s)%s%s%s", lin->volume.name,
		 size, at->given ? " at " : "", when,
		 lin->volume.marked_at ? ", marked for collection" : "");
	rc = tree_dot_print(stdout, &d);
	if (rc == -EIO)
		rc = rc_error_set(&ctx->err, rc, "writing the graph: %s",
				  strerror(errno));
out:
	free(owners);
	return rc;
}

int cmd_tree(struct cli_ctx *ctx, int argc, char **argv)
{
	bool all = false;
	const char *at_text = NULL;
	struct cli_table_options table_options = {0};
	struct cli_option options[] = {
		{ 'a', "all", CLI_OPT_FLAG, &all, NULL,
		  "draw also what gc has collected (in the trash, purged, removed)" },
		{ 0, "at", CLI_OPT_STRING, &at_text, "TIME",
		  "the lineage and operating image as they were at TIME: an "
		  "ISO 8601 time (2026-11-24T10:00:00Z), or -DURATION before "
		  "now (-2h, -1d12h)" },
		CLI_OPT_TABLE(&table_options), CLI_OPT_FORMAT_DOT(ctx), CLI_OPT_END,
	};
	struct cli_spec spec = {
		"tree VOL [--all] [--at TIME] [-o COLUMNS] [--raw] [--noheadings] "
		"[--format plain|json|dot]",
		"Draws the lineage of VOL from the catalog, one image or snapshot a\n"
		"line, as git log --graph draws a history: a line of generations\n"
		"(an image, its snapshot, the clone made from it, ...) runs down one\n"
		"column, and a fork (a restore's clone of an older snapshot, or\n"
		"several snapshots of one image) opens a column to the right for\n"
		"the side branch; the line of the operating image stays leftmost.\n"
		"Graph characters are box drawing under a UTF-8 locale, else ASCII.\n"
		"What gc has collected is left out unless --all; a flattened image\n"
		"whose ancestors are collected starts a line under '~ N collected'.\n"
		"--format json prints the volume with a flat list of nodes, each\n"
		"with its id and its parent's id. An adopted volume's tree starts\n"
		"at the images it reads through that are not its own: STATE says\n"
		"'foreign' (no volume's, a Glance image) or 'volume OTHER'.\n"
		"\n"
		"--format dot writes the lineage in Graphviz's language, for\n"
		"'rowcat tree VOL --format dot | dot -Tsvg > tree.svg': images as\n"
		"boxes, snapshots as ellipses, clone edges from a snapshot to its\n"
		"clones (dashed once flattened), the operating image, pinned,\n"
		"marked, collected and foreign nodes styled apart, and a legend.\n"
		"\n"
		"--at TIME draws the lineage as the catalog dates it at TIME: the\n"
		"images and snapshots made by then, each as it was (not yet\n"
		"flattened, marked or collected), and the image that was operating\n"
		"then, with the operation that made it so and who ran it. Pins\n"
		"are drawn as they are now: the catalog dates none.",
		options, 1, 1,
	};
	struct catalog_operation *ops = NULL;
	struct catalog_lineage *now = NULL, *lin = NULL;
	struct tree_at at = {0};
	size_t op_count = 0;
	struct catalog_volume volume;
	struct cli_table table = {0};
	struct graph g = {0};
	int rc;

	rc = cli_parse_table(ctx, &spec, tree_columns, COL_COUNT, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_table_init(&table, ctx, tree_columns, COL_COUNT, &table_options);
	if (rc < 0)
		return rc;
	at.given = at_text != NULL;
	if (at.given && (rc = parse_at(ctx, at_text, &at.at)) < 0)
		goto out;
	rc = cli_find_volume(ctx, argv[1], &volume);
	if (rc < 0)
		goto out;
	rc = load(ctx, &volume, at.given, &now, &ops, &op_count);
	if (rc < 0)
		goto out;
	if (at.given) {
		rc = catalog_lineage_at(&lin, now, ops, op_count, at.at,
					&at.switched_by, &ctx->err);
		if (rc < 0)
			goto out;
	} else {
		lin = now;
		now = NULL;
	}
	rc = graph_build(&g, lin, all);
	if (rc == 0)
		rc = load_owners(ctx, &g);
	if (rc == 0 && ctx->format == FORMAT_DOT)
		rc = print_dot(ctx, &g, all, &at);
	else if (rc == 0)
		rc = ctx->format == FORMAT_JSON ? print_json(ctx, &g, &at) :
			print_table(ctx, &g, &table, &at);
	if (rc == -ENOMEM)
		rc = rc_error_set(&ctx->err, rc, "out of memory drawing the tree");
out:
	cli_table_free(&table);
	graph_free(&g);
	catalog_lineage_free(lin);
	catalog_lineage_free(now);
	free(ops);
	return rc;
}
