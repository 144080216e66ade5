/*
 * A volume's lineage as it was at an earlier time (rowcat tree --at), from
 * what the catalog keeps: every row's created_at, and when gc marked,
 * trashed, purged or removed it, or a flatten cut it; the journal says
 * which image was operating when. A pure function of rows already read,
 * so that it is tested without a catalog.
 *
 * What the catalog does not date is shown as it is now: a pin (pin and
 * unpin keep no time) and a volume's consumer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/clock.h"
#include "rowcat/sys/by_id.h"
#include "internal.h"

int64_t catalog_op_real_started(const struct catalog_operation *op)
{
	return op->wall_started_ms ? op->wall_started_ms / 1000 : op->started_at;
}

int64_t catalog_op_real_finished(const struct catalog_operation *op)
{
	if (!op->finished_at)
		return 0;
	return op->wall_finished_ms ? op->wall_finished_ms / 1000
				    : op->finished_at;
}

/* Whether op made its target the volume's operating image when it
 * finished: a create, and every snap and restore that was done. */
static bool switches(const struct catalog_operation *op)
{
	return op->state == CATALOG_OP_DONE && op->target.name[0] &&
	       (op->kind == CATALOG_OP_CREATE || op->kind == CATALOG_OP_SNAP ||
		op->kind == CATALOG_OP_RESTORE);
}

static bool same_spec(const struct rc_image_spec *a, const struct rc_image_spec *b)
{
	return strcmp(a->pool, b->pool) == 0 && strcmp(a->ns, b->ns) == 0 &&
	       strcmp(a->name, b->name) == 0;
}

/* The image as it was at `at`: what happened to it later undone. */
static void image_at(struct catalog_image *img, int64_t at)
{
	if (img->flattened_at > at)
		img->flattened_at = 0;
	if (img->purged_at > at)
		img->purged_at = 0;
	if (img->removed_at > at) {
		img->removed_at = 0;
		img->trash_until = 0;
		img->purged_at = 0;
	}
	if (img->adopted_at > at)
		img->adopted_at = 0;
}

/* The snapshot as it was at `at`. gc unprotects a snapshot right before
 * it removes it; rowcat protects every snapshot it takes, so one removed
 * later was protected then (an adopted one's protection before is not
 * known: it stays as recorded). */
static void snapshot_at(struct catalog_snapshot *snap, int64_t at)
{
	if (snap->marked_at > at)
		snap->marked_at = 0;
	if (snap->removed_at > at) {
		snap->removed_at = 0;
		if (strcmp(snap->origin, "adopted") != 0)
			snap->is_protected = true;
	}
}

/* The lineage's images come ordered by id, so an image is found by a
 * binary search; its snapshots come by time, which is not the ids' order
 * (adopted ones are dated by Ceph, not by when the catalog learnt them),
 * so they are found through an index sorted by id. */
static size_t image_index(const struct catalog_lineage *lin, int64_t id)
{
	return rc_find_by_id(lin->images, lin->image_count,
			     sizeof(*lin->images), id);
}

/* A snapshot's id and its place in lin->snapshots (rc_find_by_id's
 * rows: the id first). */
struct snapshot_key {
	int64_t id;
	size_t at;
};

static int by_snapshot_id(const void *a, const void *b)
{
	const struct snapshot_key *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Fills keys (lin->snapshot_count of them) from lin->snapshots as they
 * are now: again whenever that array changes. */
static void index_snapshots(const struct catalog_lineage *lin,
			    struct snapshot_key *keys)
{
	for (size_t s = 0; s < lin->snapshot_count; s++)
		keys[s] = (struct snapshot_key){ lin->snapshots[s].id, s };
	qsort(keys, lin->snapshot_count, sizeof(*keys), by_snapshot_id);
}

static size_t snapshot_index(const struct catalog_lineage *lin,
			     const struct snapshot_key *keys, int64_t id)
{
	size_t k = rc_find_by_id(keys, lin->snapshot_count, sizeof(*keys), id);

	return k == RC_NOT_FOUND ? SIZE_MAX : keys[k].at;
}

/*
 * Keeps the rows that existed at `at`, in their order. A row dated
 * before its parent (a clock set back) would break the lineage's rule that
 * every clone's parent snapshot is in it: it goes with its parent, and
 * so do its descendants, until nothing more goes. keys (room for every
 * snapshot) is left indexing the snapshots kept.
 */
static void keep_existing(struct catalog_lineage *lin, int64_t at,
			  struct snapshot_key *keys)
{
	bool changed = true;
	size_t n = 0;

	for (size_t i = 0; i < lin->image_count; i++)
		if (lin->images[i].created_at <= at)
			lin->images[n++] = lin->images[i];
	lin->image_count = n;
	n = 0;
	for (size_t s = 0; s < lin->snapshot_count; s++)
		if (lin->snapshots[s].created_at <= at)
			lin->snapshots[n++] = lin->snapshots[s];
	lin->snapshot_count = n;
	index_snapshots(lin, keys);
	while (changed) {
		changed = false;
		n = 0;
		for (size_t s = 0; s < lin->snapshot_count; s++)
			if (image_index(lin, lin->snapshots[s].image_id) != SIZE_MAX)
				lin->snapshots[n++] = lin->snapshots[s];
		changed = n != lin->snapshot_count;
		lin->snapshot_count = n;
		if (changed)
			index_snapshots(lin, keys);
		n = 0;
		for (size_t i = 0; i < lin->image_count; i++) {
			int64_t parent = lin->images[i].parent_snapshot_id;
			if (!parent || snapshot_index(lin, keys, parent) != SIZE_MAX)
				lin->images[n++] = lin->images[i];
		}
		changed = changed || n != lin->image_count;
		lin->image_count = n;
	}
}

/* Every image's clone depth as the flattens done by then left it. */
static int compute_depths(struct catalog_lineage *lin,
			  const struct snapshot_key *keys, struct rc_error *err)
{
	size_t *path = malloc((lin->image_count + 1) * sizeof(*path));

	if (!path)
		return rc_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < lin->image_count; i++)
		lin->depths[i] = -1;
	for (size_t i = 0; i < lin->image_count; i++) {
		size_t len = 0, at = i;
		int depth = -1; /* of the image above the path: none */

		/* up to an image whose depth is known, or the top one that
		 * reads nothing; a cycle in a damaged catalog ends at
		 * image_count steps */
		while (len < lin->image_count) {
			const struct catalog_image *img = &lin->images[at];
			size_t s;

			if (lin->depths[at] >= 0) {
				depth = lin->depths[at];
				break;
			}
			path[len++] = at;
			if (!img->parent_snapshot_id || img->flattened_at)
				break;
			s = snapshot_index(lin, keys, img->parent_snapshot_id);
			at = s == SIZE_MAX ? SIZE_MAX :
				image_index(lin, lin->snapshots[s].image_id);
			if (at == SIZE_MAX)
				break;
		}
		while (len-- > 0)
			lin->depths[path[len]] = ++depth;
	}
	free(path);
	return 0;
}

int catalog_lineage_at(struct catalog_lineage **out,
		       const struct catalog_lineage *lineage,
		       const struct catalog_operation *ops, size_t op_count,
		       int64_t at, const struct catalog_operation **switched_by,
		       struct rc_error *err)
{
	const struct catalog_operation *last = NULL;
	struct catalog_lineage *lin = calloc(1, sizeof(*lin));
	struct snapshot_key *keys = NULL;
	size_t operating = SIZE_MAX;
	int rc = 0;

	*out = NULL;
	if (switched_by)
		*switched_by = NULL;
	if (!lin)
		return rc_error_set(err, -ENOMEM, "out of memory");
	lin->volume = lineage->volume;
	if (at < lineage->volume.created_at) {
		char when[RC_ISO_TIME_MAX], created[RC_ISO_TIME_MAX];

		rc_time_format_iso(at, when);
		rc_time_format_iso(lineage->volume.created_at, created);
		rc = rc_error_set(err, -ENOENT, "volume '%s' did not exist yet at "
				  "%s: the catalog has it from %s",
				  lineage->volume.name, when, created);
		goto out;
	}
	lin->images = malloc((lineage->image_count + 1) * sizeof(*lin->images));
	lin->depths = malloc((lineage->image_count + 1) * sizeof(*lin->depths));
	lin->snapshots = malloc((lineage->snapshot_count + 1) *
				sizeof(*lin->snapshots));
	keys = malloc((lineage->snapshot_count + 1) * sizeof(*keys));
	if (!lin->images || !lin->depths || !lin->snapshots || !keys) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(lin->images, lineage->images,
	       lineage->image_count * sizeof(*lin->images));
	lin->image_count = lineage->image_count;
	memcpy(lin->snapshots, lineage->snapshots,
	       lineage->snapshot_count * sizeof(*lin->snapshots));
	lin->snapshot_count = lineage->snapshot_count;
	keep_existing(lin, at, keys);
	for (size_t i = 0; i < lin->image_count; i++)
		image_at(&lin->images[i], at);
	for (size_t s = 0; s < lin->snapshot_count; s++)
		snapshot_at(&lin->snapshots[s], at);
	if (lin->volume.marked_at > at)
		lin->volume.marked_at = 0;

	/* the last switch finished by then; ties (one second) go to the
	 * later operation, which the journal's ids order */
	for (size_t o = 0; o < op_count; o++) {
		const struct catalog_operation *op = &ops[o];
		int64_t finished = catalog_op_real_finished(op);

		if (!switches(op) || finished > at)
			continue;
		if (last && (finished < catalog_op_real_finished(last) ||
			     (finished == catalog_op_real_finished(last) &&
			      op->id < last->id)))
			continue;
		for (size_t i = 0; i < lin->image_count; i++) {
			if (same_spec(&lin->images[i].spec, &op->target)) {
				last = op;
				operating = i;
				break;
			}
		}
	}
	/* before any switch the catalog dates (a volume adopted, or one
	 * whose create is not journalled): the volume's first image */
	for (size_t i = 0; i < lin->image_count && operating == SIZE_MAX; i++)
		if (lin->images[i].volume_id == lin->volume.id)
			operating = i;
	lin->volume.operating_image_id =
		operating == SIZE_MAX ? 0 : lin->images[operating].id;
	if (switched_by)
		*switched_by = last;
	rc = compute_depths(lin, keys, err);
out:
	free(keys);
	if (rc < 0) {
		catalog_lineage_free(lin);
		return rc;
	}
	*out = lin;
	return 0;
}
