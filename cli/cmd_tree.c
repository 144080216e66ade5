/*
 * rowcat tree: a volume's lineage, drawn from the catalog alone.
 *
 * The catalog hands over flat arrays (catalog_lineage); this file links them
 * into first-child/next-sibling lists (images → their snapshots → the
 * images cloned from each) and walks that tree to draw it or print JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rowcat/clock.h"
#include "rowcat/sys/grow.h"
#include "json.h"
#include "rowcat/units.h"

#define NONE SIZE_MAX

struct tree {
	const struct catalog_lineage *lin;
	size_t *first_snapshot; /* per image: its oldest snapshot, or NONE */
	size_t *next_snapshot;  /* per snapshot: the next of the same image */
	size_t *first_child;    /* per snapshot: the oldest clone of it */
	size_t *next_sibling;   /* per image: the next clone of its parent */
	struct id_index *snapshot_by_id; /* sorted by id, for lookup */
	bool *image_shown, *snapshot_shown; /* drawn, for --all or not */
};

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

static size_t find_snapshot(const struct tree *t, int64_t id)
{
	size_t lo = 0, hi = t->lin->snapshot_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->snapshot_by_id[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->lin->snapshot_count && t->snapshot_by_id[lo].id == id)
		return t->snapshot_by_id[lo].index;
	return NONE;
}

static void tree_free(struct tree *t)
{
	free(t->first_snapshot);
	free(t->next_snapshot);
	free(t->first_child);
	free(t->next_sibling);
	free(t->snapshot_by_id);
	free(t->image_shown);
	free(t->snapshot_shown);
}

/*
 * What gc collected is drawn only with --all, or where something still
 * live hangs below it (a flattened clone of an image now in the trash).
 * Clones have higher ids than their parents: walking images from the
 * last, every clone is decided before the image it came from.
 */
static void decide_shown(struct tree *t, bool all)
{
	const struct catalog_lineage *lin = t->lin;

	for (size_t i = lin->image_count; i-- > 0;) {
		const struct catalog_image *img = &lin->images[i];
		bool shown = all || !img->removed_at || i == 0;

		for (size_t s = t->first_snapshot[i]; s != NONE;
		     s = t->next_snapshot[s]) {
			bool snap_shown = all || (!lin->snapshots[s].removed_at &&
						  !img->removed_at);
			for (size_t c = t->first_child[s]; c != NONE;
			     c = t->next_sibling[c])
				snap_shown = snap_shown || t->image_shown[c];
			t->snapshot_shown[s] = snap_shown;
			shown = shown || snap_shown;
		}
		t->image_shown[i] = shown;
	}
}

static int tree_build(struct tree *t, const struct catalog_lineage *lin,
		      bool all)
{
	size_t ni = lin->image_count, ns = lin->snapshot_count;

	memset(t, 0, sizeof(*t));
	t->lin = lin;
	t->first_snapshot = malloc((ni + 1) * sizeof(size_t));
	t->next_sibling = malloc((ni + 1) * sizeof(size_t));
	t->next_snapshot = malloc((ns + 1) * sizeof(size_t));
	t->first_child = malloc((ns + 1) * sizeof(size_t));
	t->snapshot_by_id = malloc((ns + 1) * sizeof(*t->snapshot_by_id));
	t->image_shown = calloc(ni + 1, sizeof(bool));
	t->snapshot_shown = calloc(ns + 1, sizeof(bool));
	if (!t->first_snapshot || !t->next_sibling || !t->next_snapshot ||
	    !t->first_child || !t->snapshot_by_id || !t->image_shown ||
	    !t->snapshot_shown)
		return -ENOMEM;
	for (size_t i = 0; i < ni; i++)
		t->first_snapshot[i] = t->next_sibling[i] = NONE;
	for (size_t s = 0; s < ns; s++) {
		t->first_child[s] = t->next_snapshot[s] = NONE;
		t->snapshot_by_id[s].id = lin->snapshots[s].id;
		t->snapshot_by_id[s].index = s;
	}
	qsort(t->snapshot_by_id, ns, sizeof(*t->snapshot_by_id), by_id);

	/* Walk backwards and push to the front, so lists keep creation order. */
	for (size_t s = ns; s-- > 0;) {
		size_t owner = find_image(lin, lin->snapshots[s].image_id);
		if (owner == NONE)
			continue;
		t->next_snapshot[s] = t->first_snapshot[owner];
		t->first_snapshot[owner] = s;
	}
	for (size_t i = ni; i-- > 1;) {
		size_t parent = find_snapshot(t, lin->images[i].parent_snapshot_id);
		if (parent == NONE)
			continue;
		t->next_sibling[i] = t->first_child[parent];
		t->first_child[parent] = i;
	}
	decide_shown(t, all);
	return 0;
}

/* The next shown entry of a list, from `at` on (NONE at the end). */
static size_t shown_from(const bool *shown, const size_t *next, size_t at)
{
	while (at != NONE && !shown[at])
		at = next[at];
	return at;
}

#define EACH_SNAPSHOT(t, i, s)                                              \
	for (size_t s = shown_from((t)->snapshot_shown, (t)->next_snapshot,  \
				   (t)->first_snapshot[i]);                  \
	     s != NONE; s = shown_from((t)->snapshot_shown, (t)->next_snapshot, \
				       (t)->next_snapshot[s]))
#define EACH_CLONE(t, s, c)                                                 \
	for (size_t c = shown_from((t)->image_shown, (t)->next_sibling,      \
				   (t)->first_child[s]);                     \
	     c != NONE; c = shown_from((t)->image_shown, (t)->next_sibling,   \
				       (t)->next_sibling[c]))

/* ---- JSON ------------------------------------------------------------- */

static void json_image(struct json_writer *w, const struct tree *t, size_t i);

static void json_snapshot(struct json_writer *w, const struct tree *t, size_t s)
{
	const struct catalog_snapshot *snap = &t->lin->snapshots[s];
	char when[RC_ISO_TIME_MAX];

	rc_time_format_iso(snap->created_at, when);
	json_object_begin(w);
	json_kv_string(w, "name", snap->name);
	json_kv_bool(w, "protected", snap->is_protected);
	json_kv_string(w, "created", when);
	json_key(w, "policy_time");
	if (snap->policy_at) {
		rc_time_format_iso(snap->policy_at, when);
		json_string(w, when);
	} else {
		json_null(w);
	}
	json_kv_string(w, "origin", snap->origin);
	json_kv_bool(w, "marked", snap->marked_at || t->lin->volume.marked_at);
	json_kv_bool(w, "pinned", snap->pinned);
	json_kv_bool(w, "removed", snap->removed_at != 0);
	json_key(w, "children");
	json_array_begin(w);
	EACH_CLONE(t, s, c)
		json_image(w, t, c);
	json_array_end(w);
	json_object_end(w);
}

static void json_image(struct json_writer *w, const struct tree *t, size_t i)
{
	const struct catalog_image *img = &t->lin->images[i];
	char spec[RC_SPEC_MAX];

	rc_image_spec_format(&img->spec, spec, sizeof(spec));
	json_object_begin(w);
	json_kv_string(w, "image", spec);
	json_kv_int(w, "depth", t->lin->depths[i]);
	json_kv_bool(w, "operating", img->id == t->lin->volume.operating_image_id);
	json_kv_bool(w, "in_trash", img->removed_at && !img->purged_at);
	json_kv_bool(w, "purged", img->purged_at != 0);
	json_key(w, "snapshots");
	json_array_begin(w);
	EACH_SNAPSHOT(t, i, s)
		json_snapshot(w, t, s);
	json_array_end(w);
	json_object_end(w);
}

static void print_json(const struct tree *t)
{
	const struct catalog_lineage *lin = t->lin;
	const struct catalog_image *operating = NULL;
	struct json_writer w;
	char spec[RC_SPEC_MAX] = "";

	for (size_t i = 0; i < lin->image_count; i++)
		if (lin->images[i].id == lin->volume.operating_image_id)
			operating = &lin->images[i];
	if (operating)
		rc_image_spec_format(&operating->spec, spec, sizeof(spec));
	json_init(&w, stdout);
	json_object_begin(&w);
	json_kv_string(&w, "volume", lin->volume.name);
	json_kv_string(&w, "pool", lin->images[0].spec.pool);
	json_kv_string(&w, "namespace", lin->images[0].spec.ns);
	json_kv_int(&w, "size", (int64_t)lin->volume.size);
	json_kv_bool(&w, "marked", lin->volume.marked_at != 0);
	json_kv_string(&w, "operating", spec);
	json_key(&w, "root");
	json_image(&w, t, 0);
	json_object_end(&w);
	putchar('\n');
}

/* ---- plain ------------------------------------------------------------ */

/* The indentation drawn in front of the current line, grown as we descend. */
struct prefix {
	char *text;
	size_t len, cap;
};

static int prefix_push(struct prefix *p, const char *piece)
{
	size_t n = strlen(piece);

	if (rc_grow((void **)&p->text, &p->cap, p->len + n + 1, 1, 64) < 0)
		return -ENOMEM;
	memcpy(p->text + p->len, piece, n + 1);
	p->len += n;
	return 0;
}

static void prefix_pop(struct prefix *p, size_t len)
{
	p->len = len;
	p->text[len] = '\0';
}

static int plain_image(const struct tree *t, size_t i, struct prefix *p);

static int plain_snapshot(const struct tree *t, size_t s, struct prefix *p,
			  bool last)
{
	const struct catalog_snapshot *snap = &t->lin->snapshots[s];
	char when[RC_ISO_TIME_MAX];
	size_t keep = p->len;
	int rc = 0;

	rc_time_format_iso(snap->created_at, when);
	printf("%s%s@%s%s%s%s  %s  %s  %s\n", p->text, last ? "└── " : "├── ",
	       snap->name, snap->pinned ? " pinned" : "",
	       snap->marked_at || t->lin->volume.marked_at ? " marked" : "",
	       snap->removed_at ? " removed" : "",
	       snap->is_protected ? "protected" : "unprotected", when,
	       snap->origin);
	if (prefix_push(p, last ? "    " : "│   ") < 0)
		return -ENOMEM;
	EACH_CLONE(t, s, c) {
		size_t before = p->len;
		bool last_clone = shown_from(t->image_shown, t->next_sibling,
					     t->next_sibling[c]) == NONE;
		if (rc < 0)
			break;
		printf("%s%s", p->text, last_clone ? "└── " : "├── ");
		rc = prefix_push(p, last_clone ? "    " : "│   ");
		if (rc == 0)
			rc = plain_image(t, c, p);
		prefix_pop(p, before);
	}
	prefix_pop(p, keep);
	return rc;
}

/* Prints image i's own line (the caller drew its branch) and its snapshots. */
static int plain_image(const struct tree *t, size_t i, struct prefix *p)
{
	const struct catalog_image *img = &t->lin->images[i];
	char spec[RC_SPEC_MAX];
	int rc = 0;

	char until[RC_ISO_TIME_MAX];

	rc_image_spec_format(&img->spec, spec, sizeof(spec));
	rc_time_format_iso(img->trash_until, until);
	printf("%s  depth %d%s%s%s%s%s\n", spec, t->lin->depths[i],
	       img->flattened_at ? "  flattened" : "",
	       img->removed_at && !img->purged_at ? "  in trash until " : "",
	       img->removed_at && !img->purged_at ? until : "",
	       img->purged_at ? "  purged" : "",
	       img->id == t->lin->volume.operating_image_id ? "  ← operating" : "");
	EACH_SNAPSHOT(t, i, s) {
		if (rc < 0)
			break;
		rc = plain_snapshot(t, s, p,
				    shown_from(t->snapshot_shown, t->next_snapshot,
					       t->next_snapshot[s]) == NONE);
	}
	return rc;
}

static int print_plain(const struct tree *t)
{
	struct prefix p = {0};
	char size[RC_SIZE_TEXT_MAX];
	int rc;

	rc_size_format(t->lin->volume.size, size);
	printf("volume %s (%s)%s\n", t->lin->volume.name, size,
	       t->lin->volume.marked_at ? "  marked for collection" : "");
	rc = prefix_push(&p, "");
	if (rc == 0)
		rc = plain_image(t, 0, &p);
	free(p.text);
	return rc;
}

int cmd_tree(struct cli_ctx *ctx, int argc, char **argv)
{
	bool all = false;
	struct cli_option options[] = {
		{ 'a', "all", CLI_OPT_FLAG, &all, NULL,
		  "draw also what gc has collected (in the trash, purged, removed)" },
		CLI_OPT_FORMAT(ctx), CLI_OPT_END,
	};
	struct cli_spec spec = {
		"tree VOL [--all] [--format plain|json]",
		"Draws the lineage of VOL from the catalog: each image, under it its\n"
		"snapshots (protection, creation time, origin), under each snapshot\n"
		"the images cloned from it. The operating image is marked, and so\n"
		"are snapshots that are pinned or marked for collection. What gc\n"
		"has collected is left out unless --all.",
		options, 1, 1,
	};
	struct catalog_lineage *lin = NULL;
	struct catalog_volume volume;
	struct tree t = {0};
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_find_volume(ctx, argv[1], &volume);
	if (rc < 0)
		return rc;
	rc = catalog_lineage_load(&lin, ctx->catalog, &volume, &ctx->err);
	if (rc < 0)
		goto out;
	rc = tree_build(&t, lin, all);
	if (rc == 0) {
		if (ctx->format == FORMAT_JSON)
			print_json(&t);
		else
			rc = print_plain(&t);
	}
	if (rc < 0)
		rc = rc_error_set(&ctx->err, rc, "out of memory drawing the tree");
out:
	tree_free(&t);
	catalog_lineage_free(lin);
	return rc;
}
