/* Lineage queries: a volume's tree, an image's ancestors and depth, ls. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/sys/by_id.h"
#include "rowcat/sys/grow.h"
#include "internal.h"

int catalog_image_depth(struct catalog *cat, int64_t image_id, int *depth,
			struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_IMAGE_DEPTH, err);
	int rc = 0;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, image_id);
	sqlite3_bind_int(st, 2, 1);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = catalog_sql_error(cat, err, "computing an image's depth");
	else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		rc = rc_error_set(err, -ENOENT, "no image with id %lld in the catalog",
				  (long long)image_id);
	else
		*depth = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return rc;
}

int catalog_image_ancestors(struct catalog *cat, int64_t image_id,
			    bool reads_through, struct catalog_image **out,
			    size_t *count, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_IMAGE_ANCESTORS, err);
	struct catalog_image *images = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, step;

	*out = NULL;
	*count = 0;
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, image_id);
	sqlite3_bind_int(st, 2, reads_through);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (rc_grow((void **)&images, &cap, n + 1, sizeof(*images), 16) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		catalog_read_image(st, 0, &images[n++]);
	}
	if (step != SQLITE_DONE) {
		rc = catalog_sql_error(cat, err, "reading an image's ancestors");
		goto out;
	}
	*out = images;
	*count = n;
	images = NULL;
out:
	sqlite3_reset(st);
	free(images);
	return rc;
}

void catalog_lineage_free(struct catalog_lineage *lineage)
{
	if (!lineage)
		return;
	free(lineage->images);
	free(lineage->depths);
	free(lineage->snapshots);
	free(lineage);
}

static int load_images(struct catalog *cat, struct catalog_lineage *lin,
		       struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_LINEAGE_IMAGES, err);
	size_t cap = 0;
	int rc = 0, step;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, lin->volume.id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		size_t n = lin->image_count;
		if (rc_grow((void **)&lin->images, &cap, n + 1,
			    sizeof(*lin->images), 16) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		catalog_read_image(st, 0, &lin->images[n]);
		lin->image_count++;
	}
	if (step != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "reading a volume's images");
out:
	sqlite3_reset(st);
	return rc;
}

struct snapshot_owner {
	int64_t snapshot_id, image_id;
};

static int by_snapshot_id(const void *a, const void *b)
{
	int64_t x = ((const struct snapshot_owner *)a)->snapshot_id;
	int64_t y = ((const struct snapshot_owner *)b)->snapshot_id;
	return (x > y) - (x < y);
}

/* The index in lin->images of image id, or count when absent: the
 * images come ordered by id. */
static size_t image_index(const struct catalog_lineage *lin, int64_t id)
{
	size_t i = rc_find_by_id(lin->images, lin->image_count,
				 sizeof(*lin->images), id);

	return i == RC_NOT_FOUND ? lin->image_count : i;
}

/*
 * Each image's depth: its parent's plus one while it reads through it, 0
 * for a root or a flattened image. A parent's id is below its clones'
 * (a clone's row refers to its parent's, which existed first), so one
 * pass in id order has every parent's depth before it is needed.
 */
static int count_depths(struct catalog_lineage *lin, struct rc_error *err)
{
	size_t ni = lin->image_count, ns = lin->snapshot_count;
	struct snapshot_owner *owners = malloc((ns + 1) * sizeof(*owners));

	lin->depths = calloc(ni + 1, sizeof(*lin->depths));
	if (!owners || !lin->depths) {
		free(owners);
		return rc_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t s = 0; s < ns; s++)
		owners[s] = (struct snapshot_owner){ lin->snapshots[s].id,
						     lin->snapshots[s].image_id };
	qsort(owners, ns, sizeof(*owners), by_snapshot_id);
	for (size_t i = 0; i < ni; i++) {
		const struct catalog_image *img = &lin->images[i];
		struct snapshot_owner key = { img->parent_snapshot_id, 0 };
		const struct snapshot_owner *parent_snap;
		size_t parent;

		if (!img->parent_snapshot_id || img->flattened_at)
			continue;
		parent_snap = bsearch(&key, owners, ns, sizeof(*owners),
				      by_snapshot_id);
		parent = parent_snap ? image_index(lin, parent_snap->image_id)
				     : ni;
		if (parent < i)
			lin->depths[i] = lin->depths[parent] + 1;
	}
	free(owners);
	return 0;
}

static int load_snapshots(struct catalog *cat, struct catalog_lineage *lin,
			  struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_LINEAGE_SNAPSHOTS, err);
	size_t cap = 0;
	int rc = 0, step;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, lin->volume.id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		size_t n = lin->snapshot_count;
		if (rc_grow((void **)&lin->snapshots, &cap, n + 1,
			    sizeof(*lin->snapshots), 16) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		catalog_read_snapshot(st, 0, &lin->snapshots[n]);
		lin->snapshot_count++;
	}
	if (step != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "reading a volume's snapshots");
out:
	sqlite3_reset(st);
	return rc;
}

int catalog_lineage_load(struct catalog_lineage **out, struct catalog *cat,
			 const struct catalog_volume *volume,
			 struct rc_error *err)
{
	struct catalog_lineage *lin = calloc(1, sizeof(*lin));
	int rc;

	*out = NULL;
	if (!lin)
		return rc_error_set(err, -ENOMEM, "out of memory");
	lin->volume = *volume;
	/* One read transaction, so that the images and snapshots agree. */
	if (sqlite3_exec(cat->db, "SAVEPOINT lineage", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		rc = catalog_sql_error(cat, err, "reading a volume's tree");
		goto out;
	}
	rc = load_images(cat, lin, err);
	if (rc == 0)
		rc = load_snapshots(cat, lin, err);
	if (rc == 0 && !catalog_lineage_root(lin))
		rc = rc_error_set(err, -ENOENT,
				  "volume '%s' has no root image in the catalog",
				  volume->name);
	if (rc == 0)
		rc = count_depths(lin, err);
	sqlite3_exec(cat->db, "RELEASE lineage", NULL, NULL, NULL);
out:
	if (rc < 0) {
		catalog_lineage_free(lin);
		return rc;
	}
	*out = lin;
	return 0;
}

int catalog_volume_list(struct catalog *cat, catalog_volume_fn fn, void *ctx,
			struct rc_error *err)
{
	sqlite3_stmt *list = catalog_stmt(cat, Q_VOLUME_LIST, err);
	sqlite3_stmt *count;
	struct catalog_volume_summary row;
	int rc = 0, step;

	if (!list)
		return err->code;
	while ((step = sqlite3_step(list)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		catalog_read_volume(list, 0, &row.volume);
		catalog_read_image(list, CATALOG_VOLUME_NCOLS, &row.operating);
		rc = catalog_image_depth(cat, row.operating.id, &row.depth, err);
		if (rc < 0)
			goto out;
		count = catalog_stmt(cat, Q_VOLUME_SNAPSHOT_COUNT, err);
		if (!count) {
			rc = err->code;
			goto out;
		}
		sqlite3_bind_int64(count, 1, row.volume.id);
		if (sqlite3_step(count) != SQLITE_ROW) {
			rc = catalog_sql_error(cat, err, "counting snapshots");
			goto out;
		}
		row.snapshot_count = sqlite3_column_int(count, 0);
		sqlite3_reset(count);
		rc = fn(ctx, &row, err);
		/* fn explains its own failure; one that does not is a bug,
		 * which a debug build stops at and a release still words */
		assert(rc >= 0 || err->code != 0);
		if (rc < 0 && err->code == 0)
			rc = rc_error_set(err, rc, "listing volumes: %s",
					  strerror(-rc));
		if (rc != 0)
			goto out;
	}
	if (step != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "listing volumes");
out:
	sqlite3_reset(list);
	return rc;
}

const struct catalog_image *
catalog_lineage_image(const struct catalog_lineage *lineage, int64_t id)
{
	size_t i = image_index(lineage, id);

	return i < lineage->image_count ? &lineage->images[i] : NULL;
}

const struct catalog_image *
catalog_lineage_root(const struct catalog_lineage *lineage)
{
	for (size_t i = 0; i < lineage->image_count; i++)
		if (catalog_lineage_owns(lineage, &lineage->images[i]))
			return &lineage->images[i];
	return NULL;
}

bool catalog_lineage_owns_snapshot(const struct catalog_lineage *lineage,
				   const struct catalog_snapshot *snapshot)
{
	const struct catalog_image *image =
		catalog_lineage_image(lineage, snapshot->image_id);

	return image && catalog_lineage_owns(lineage, image);
}

const struct catalog_snapshot *
catalog_lineage_snapshot(const struct catalog_lineage *lineage, int64_t id)
{
	for (size_t i = 0; i < lineage->snapshot_count; i++)
		if (lineage->snapshots[i].id == id)
			return &lineage->snapshots[i];
	return NULL;
}
