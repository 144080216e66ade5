/* Lineage queries: a volume's tree, an image's ancestors and depth, ls. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	size_t cap = 0, depth_cap = 0;
	int rc = 0, step;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, lin->volume.id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		size_t n = lin->image_count;
		if (rc_grow((void **)&lin->images, &cap, n + 1,
			    sizeof(*lin->images), 16) < 0 ||
		    rc_grow((void **)&lin->depths, &depth_cap, n + 1,
			    sizeof(*lin->depths), 16) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		catalog_read_image(st, 0, &lin->images[n]);
		lin->depths[n] = sqlite3_column_int(st, CATALOG_IMAGE_NCOLS);
		lin->image_count++;
	}
	if (step != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "reading a volume's images");
out:
	sqlite3_reset(st);
	return rc;
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
	if (rc == 0 && lin->image_count == 0)
		rc = rc_error_set(err, -ENOENT,
				  "volume '%s' has no root image in the catalog",
				  volume->name);
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
	for (size_t i = 0; i < lineage->image_count; i++)
		if (lineage->images[i].id == id)
			return &lineage->images[i];
	return NULL;
}

const struct catalog_snapshot *
catalog_lineage_snapshot(const struct catalog_lineage *lineage, int64_t id)
{
	for (size_t i = 0; i < lineage->snapshot_count; i++)
		if (lineage->snapshots[i].id == id)
			return &lineage->snapshots[i];
	return NULL;
}
