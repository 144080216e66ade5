/*
 * rowcat tree --format dot: the lineage as a Graphviz digraph.
 *
 * Snapshots are nodes of their own (ellipses) under their image's box,
 * rather than rows of a record-shaped image node: a snapshot is where
 * a lineage forks (a restore clones an old snapshot a second time), and
 * only a node of its own lets dot draw each clone edge from the snapshot
 * it was made of, and keep a long line of generations one straight column.
 *
 * Node names are generated (i<image id>, s<snapshot id>), never the
 * names of images or snapshots: those appear only in quoted labels,
 * escaped, so that whatever a name holds, dot reads the graph.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/clock.h"
#include "tree_dot.h"

/* Colours: an operator reads the picture in a ticket, printed or not. */
#define FILL_OPERATING "#bfdcff"
#define FILL_PINNED    "#ffe680"
#define FILL_FOREIGN   "#e8e8e8"
#define FILL_OTHER     "#efe0f5"
#define GREY_MARKED    "#808080"
#define GREY_COLLECTED "#a8a8a8"

/*
 * Writes text inside a quoted DOT string: " and \ escaped (a \ would
 * otherwise start one of dot's label escapes, \N, \G, \l, ...), & as the
 * entity &amp; (dot reads &NAME; in any label as an entity, and copies
 * one it does not know into the SVG, which no XML reader then takes),
 * and a control character, which no name holds, as a space.
 */
static void put_escaped(FILE *out, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '&')
			fputs("&amp;", out);
		else if (*p < 0x20 || *p == 0x7f)
			fputc(' ', out);
		else
			fputc(*p, out);
	}
}

/* A label of lines: each escaped, joined by dot's centred line break. */
static void put_label(FILE *out, const char *const *lines, size_t count)
{
	fputs("label=\"", out);
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			fputs("\\n", out);
		put_escaped(out, lines[i]);
	}
	fputc('"', out);
}

struct style {
	char words[128];            /* dot's style: filled,bold,... */
	const char *fill, *color, *fontcolor;
	double penwidth;            /* 0: dot's */
};

static void style_add(struct style *s, const char *word)
{
	size_t used = strlen(s->words);

	snprintf(s->words + used, sizeof(s->words) - used, "%s%s",
		 used ? "," : "", word);
}

static void put_style(FILE *out, const struct style *s)
{
	if (s->words[0])
		fprintf(out, ", style=\"%s\"", s->words);
	if (s->fill)
		fprintf(out, ", fillcolor=\"%s\"", s->fill);
	if (s->color)
		fprintf(out, ", color=\"%s\"", s->color);
	if (s->fontcolor)
		fprintf(out, ", fontcolor=\"%s\"", s->fontcolor);
	if (s->penwidth > 0)
		fprintf(out, ", penwidth=%.1f", s->penwidth);
}

/* ---- the lineage's nodes ----------------------------------------------- */

struct dot_graph {
	const struct tree_dot *d;
	FILE *out;
	bool *image_shown;          /* per lin->images */
	bool *snapshot_shown;       /* per lin->snapshots */
};

static size_t image_at(const struct catalog_lineage *lin, int64_t id)
{
	for (size_t i = 0; i < lin->image_count; i++)
		if (lin->images[i].id == id)
			return i;
	return SIZE_MAX;
}

static size_t snapshot_at(const struct catalog_lineage *lin, int64_t id)
{
	for (size_t s = 0; s < lin->snapshot_count; s++)
		if (lin->snapshots[s].id == id)
			return s;
	return SIZE_MAX;
}

static bool image_own(const struct catalog_lineage *lin,
		      const struct catalog_image *img)
{
	return img->volume_id == lin->volume.id;
}

/* Collected as tree says it: an image gc moved to the trash, a snapshot
 * it removed, and the snapshots of an image in the trash. */
static void choose_shown(struct dot_graph *g)
{
	const struct catalog_lineage *lin = g->d->lin;

	for (size_t i = 0; i < lin->image_count; i++)
		g->image_shown[i] = g->d->all || !lin->images[i].removed_at;
	for (size_t s = 0; s < lin->snapshot_count; s++) {
		const struct catalog_snapshot *snap = &lin->snapshots[s];
		size_t i = image_at(lin, snap->image_id);

		g->snapshot_shown[s] = g->d->all ||
			(!snap->removed_at && i != SIZE_MAX &&
			 !lin->images[i].removed_at);
	}
}

static void put_image(struct dot_graph *g, size_t i)
{
	const struct catalog_lineage *lin = g->d->lin;
	const struct catalog_image *img = &lin->images[i];
	const char *owner = g->d->owners ? g->d->owners[i] : NULL;
	char spec[RC_SPEC_MAX], owned[RC_NAME_MAX + 16], trash[64];
	char until[RC_ISO_TIME_MAX];
	const char *lines[4];
	struct style st = {0};
	size_t n = 0;

	rc_image_spec_format(&img->spec, spec, sizeof(spec));
	lines[n++] = spec;
	if (img->id == lin->volume.operating_image_id) {
		lines[n++] = "operating";
		style_add(&st, "filled");
		style_add(&st, "bold");
		st.fill = FILL_OPERATING;
		st.penwidth = 2.5;
	} else if (img->volume_id == 0) {
		lines[n++] = "foreign ancestor (never collected)";
		style_add(&st, "filled");
		style_add(&st, "diagonals");
		st.fill = FILL_FOREIGN;
	} else if (!image_own(lin, img)) {
		snprintf(owned, sizeof(owned), "volume %s", owner ? owner : "?");
		lines[n++] = owned;
		style_add(&st, "filled");
		st.fill = FILL_OTHER;
	}
	if (img->flattened_at)
		lines[n++] = "flattened";
	if (img->purged_at) {
		lines[n++] = "purged";
	} else if (img->removed_at) {
		rc_time_format_iso(img->trash_until, until);
		snprintf(trash, sizeof(trash), "in trash until %s", until);
		lines[n++] = trash;
	}
	if (img->removed_at) {
		style_add(&st, "dotted");
		st.color = st.fontcolor = GREY_COLLECTED;
	} else if (lin->volume.marked_at && image_own(lin, img)) {
		style_add(&st, "dashed");
		st.color = st.fontcolor = GREY_MARKED;
	}
	fprintf(g->out, "  i%lld [shape=box, ", (long long)img->id);
	put_label(g->out, lines, n);
	fputs(", tooltip=\"", g->out);
	put_escaped(g->out, spec);
	fputc('"', g->out);
	put_style(g->out, &st);
	fputs("];\n", g->out);
}

static void put_snapshot(struct dot_graph *g, size_t s)
{
	const struct catalog_lineage *lin = g->d->lin;
	const struct catalog_snapshot *snap = &lin->snapshots[s];
	size_t i = image_at(lin, snap->image_id);
	bool own = i != SIZE_MAX && image_own(lin, &lin->images[i]);
	char name[RC_NAME_MAX + 1], words[RC_NAME_MAX + 64];
	char spec[RC_SPEC_MAX] = "";
	const char *lines[2] = { name, words };
	struct style st = {0};
	bool marked = snap->marked_at || (own && lin->volume.marked_at);

	snprintf(name, sizeof(name), "@%s", snap->name);
	snprintf(words, sizeof(words), "%s%s%s%s%s", snap->origin,
		 snap->is_protected ? "" : ", unprotected",
		 snap->pinned ? ", pinned" : "", marked ? ", marked" : "",
		 snap->removed_at ? ", removed" : "");
	if (snap->pinned) {
		style_add(&st, "filled");
		st.fill = FILL_PINNED;
		st.penwidth = 2;
	}
	if (snap->removed_at || (i != SIZE_MAX && lin->images[i].removed_at)) {
		style_add(&st, "dotted");
		st.color = st.fontcolor = GREY_COLLECTED;
	} else if (marked) {
		style_add(&st, "dashed");
		st.color = st.fontcolor = GREY_MARKED;
	}
	if (i != SIZE_MAX)
		rc_image_spec_format(&lin->images[i].spec, spec, sizeof(spec));
	fprintf(g->out, "  s%lld [shape=ellipse, fontsize=10, ",
		(long long)snap->id);
	put_label(g->out, lines, 2);
	fputs(", tooltip=\"", g->out);
	put_escaped(g->out, spec);
	fputc('@', g->out);
	put_escaped(g->out, snap->name);
	fputc('"', g->out);
	put_style(g->out, &st);
	fputs("];\n", g->out);
}

/* A shown image whose parent snapshot is not shown: how many collected
 * nodes are left out above it, in a small note linked to it, as tree's
 * "~ N collected" line. */
static void put_elided(struct dot_graph *g, size_t i)
{
	const struct catalog_lineage *lin = g->d->lin;
	size_t hidden = 0, at = i, s;

	while (lin->images[at].parent_snapshot_id &&
	       (s = snapshot_at(lin, lin->images[at].parent_snapshot_id)) !=
		       SIZE_MAX &&
	       !g->snapshot_shown[s] && hidden <= 2 * lin->image_count) {
		size_t parent = image_at(lin, lin->snapshots[s].image_id);

		hidden++;
		if (parent == SIZE_MAX || g->image_shown[parent])
			break;
		hidden++;
		at = parent;
	}
	fprintf(g->out, "  c%lld [shape=plaintext, fontsize=9, fontcolor=\"%s\", "
		"label=\"~ %zu collected\"];\n", (long long)lin->images[i].id,
		GREY_COLLECTED, hidden);
	fprintf(g->out, "  c%lld -> i%lld [style=dotted, color=\"%s\"];\n",
		(long long)lin->images[i].id, (long long)lin->images[i].id,
		GREY_COLLECTED);
}

static void put_edges(struct dot_graph *g)
{
	const struct catalog_lineage *lin = g->d->lin;

	for (size_t s = 0; s < lin->snapshot_count; s++) {
		size_t i = image_at(lin, lin->snapshots[s].image_id);

		if (!g->snapshot_shown[s] || i == SIZE_MAX || !g->image_shown[i])
			continue;
		fprintf(g->out, "  i%lld -> s%lld [arrowhead=none, color=\"#606060\"];\n",
			(long long)lin->images[i].id,
			(long long)lin->snapshots[s].id);
	}
	for (size_t i = 0; i < lin->image_count; i++) {
		const struct catalog_image *img = &lin->images[i];
		size_t s;

		if (!g->image_shown[i] || !img->parent_snapshot_id)
			continue;
		s = snapshot_at(lin, img->parent_snapshot_id);
		if (s == SIZE_MAX || !g->snapshot_shown[s]) {
			if (s != SIZE_MAX)
				put_elided(g, i);
			continue;
		}
		fprintf(g->out, "  s%lld -> i%lld", (long long)lin->snapshots[s].id,
			(long long)img->id);
		/* history: the image reads nothing through it any more */
		if (img->flattened_at)
			fputs(" [style=dashed, label=\"flattened\", fontsize=9]", g->out);
		fputs(";\n", g->out);
	}
}

/* ---- the legend ---------------------------------------------------------- */

static void put_legend(FILE *out)
{
	fputs("  subgraph cluster_legend {\n"
	      "    label=\"legend\"; fontsize=10; color=\"#c0c0c0\";\n"
	      "    node [fontsize=9];\n", out);
	fprintf(out,
		"    legend_image [shape=box, label=\"image\"];\n"
		"    legend_operating [shape=box, label=\"operating image\", "
		"style=\"filled,bold\", fillcolor=\"%s\", penwidth=2.5];\n"
		"    legend_foreign [shape=box, label=\"foreign ancestor\\n(no volume's)\", "
		"style=\"filled,diagonals\", fillcolor=\"%s\"];\n"
		"    legend_other [shape=box, label=\"another volume's\\nimage\", "
		"style=filled, fillcolor=\"%s\"];\n",
		FILL_OPERATING, FILL_FOREIGN, FILL_OTHER);
	fprintf(out,
		"    legend_snapshot [shape=ellipse, label=\"snapshot\"];\n"
		"    legend_pinned [shape=ellipse, label=\"pinned\", style=filled, "
		"fillcolor=\"%s\", penwidth=2];\n"
		"    legend_marked [shape=ellipse, label=\"marked (rm)\", "
		"style=dashed, color=\"%s\", fontcolor=\"%s\"];\n"
		"    legend_collected [shape=ellipse, label=\"collected (gc)\", "
		"style=dotted, color=\"%s\", fontcolor=\"%s\"];\n",
		FILL_PINNED, GREY_MARKED, GREY_MARKED, GREY_COLLECTED,
		GREY_COLLECTED);
	fputs("    legend_clone [shape=box, label=\"clone\"];\n"
	      "    legend_flattened [shape=box, label=\"flattened clone\"];\n"
	      "    legend_image -> legend_snapshot [arrowhead=none, color=\"#606060\"];\n"
	      "    legend_snapshot -> legend_clone;\n"
	      "    legend_snapshot -> legend_flattened [style=dashed, "
	      "label=\"flattened\", fontsize=9];\n"
	      "    legend_operating -> legend_pinned [style=invis];\n"
	      "    legend_foreign -> legend_marked [style=invis];\n"
	      "    legend_other -> legend_collected [style=invis];\n"
	      "  }\n", out);
}

int tree_dot_print(FILE *out, const struct tree_dot *d)
{
	const struct catalog_lineage *lin = d->lin;
	struct dot_graph g = { d, out, NULL, NULL };
	int rc = 0;

	g.image_shown = calloc(lin->image_count + 1, sizeof(*g.image_shown));
	g.snapshot_shown = calloc(lin->snapshot_count + 1,
				  sizeof(*g.snapshot_shown));
	if (!g.image_shown || !g.snapshot_shown) {
		rc = -ENOMEM;
		goto out;
	}
	choose_shown(&g);
	fputs("digraph lineage {\n"
	      "  graph [rankdir=TB, labelloc=t, fontname=\"sans-serif\", ", out);
	put_label(out, &d->title, 1);
	fputs("];\n"
	      "  node [fontname=\"sans-serif\", fontsize=11];\n"
	      "  edge [fontname=\"sans-serif\"];\n", out);
	for (size_t i = 0; i < lin->image_count; i++)
		if (g.image_shown[i])
			put_image(&g, i);
	for (size_t s = 0; s < lin->snapshot_count; s++)
		if (g.snapshot_shown[s])
			put_snapshot(&g, s);
	put_edges(&g);
	put_legend(out);
	fputs("}\n", out);
	if (fflush(out) != 0 || ferror(out))
		rc = -EIO;
out:
	free(g.image_shown);
	free(g.snapshot_shown);
	return rc;
}
