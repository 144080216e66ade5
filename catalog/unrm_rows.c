/*
 * rowcat unrm's side of the catalog: which images undoing a mark brings
 * back from the trash (the planner's rule of what is needed, applied to
 * the catalog with the mark cleared), and the transactions that clear the
 * mark, alone or at the end of an unrm operation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/sys/grow.h"
#include "rowcat/sys/journal.h"
#include "internal.h"

int catalog_snapshot_find_any(struct catalog *cat, int64_t volume_id,
			      const char *name, struct catalog_snapshot *out,
			      struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_SNAPSHOT_FIND_ANY, err);
	int rc = 0;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, volume_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		catalog_read_snapshot(st, 0, out);
		rc_error_clear(err);
		break;
	case SQLITE_DONE:
		rc = 1;
		break;
	default:
		rc = catalog_sql_error(cat, err, "finding a snapshot");
		break;
	}
	sqlite3_reset(st);
	if (rc == 1)
		return catalog_snapshot_not_found(cat, volume_id, name, err);
	return rc;
}

/* Adds id to a growing list; -ENOMEM. */
static int add_id(int64_t **list, size_t *count, size_t *cap, int64_t id)
{
	if (rc_grow((void **)list, cap, *count + 1, sizeof(**list), 8) < 0)
		return -ENOMEM;
	(*list)[(*count)++] = id;
	return 0;
}

int catalog_unrm_images(struct catalog *cat, int64_t volume_id,
			int64_t snapshot_id, int64_t **restore,
			size_t *restore_count, int64_t **gone,
			size_t *gone_count, struct rc_error *err)
{
	struct catalog_gc_state st = {0};
	bool *image_needed = NULL, *snap_needed = NULL;
	size_t restore_cap = 0, gone_cap = 0;
	int rc;

	*restore = *gone = NULL;
	*restore_count = *gone_count = 0;
	rc = catalog_gc_state_load(cat, volume_id, &st, err);
	if (rc < 0)
		goto out;
	/* the mark cleared, as the operation's end will clear it */
	for (size_t v = 0; v < st.volume_count && !snapshot_id; v++)
		st.volumes[v].marked_at = 0;
	for (size_t s = 0; s < st.snapshot_count && snapshot_id; s++)
		if (st.snapshots[s].id == snapshot_id)
			st.snapshots[s].marked_at = 0;
	image_needed = calloc(st.image_count + 1, sizeof(bool));
	snap_needed = calloc(st.snapshot_count + 1, sizeof(bool));
	if (!image_needed || !snap_needed) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = catalog_gc_needed(&st, image_needed, snap_needed, err);
	/* ascending ids: a parent before its clones */
	for (size_t i = 0; rc == 0 && i < st.image_count; i++) {
		const struct catalog_gc_image *img = &st.images[i];

		if (!image_needed[i] || !img->trashed)
			continue;
		if (img->purged)
			rc = add_id(gone, gone_count, &gone_cap, img->id);
		else
			rc = add_id(restore, restore_count, &restore_cap, img->id);
		if (rc < 0)
			rc = rc_error_set(err, -ENOMEM, "out of memory");
	}
out:
	free(image_needed);
	free(snap_needed);
	catalog_gc_state_free(&st);
	if (rc < 0) {
		free(*restore);
		free(*gone);
		*restore = *gone = NULL;
		*restore_count = *gone_count = 0;
	}
	return rc;
}

/* Clears the mark an unrm undoes, inside the caller's transaction. */
static int clear_mark(struct catalog *cat, int64_t volume_id,
		      int64_t snapshot_id, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, snapshot_id ? Q_SNAPSHOT_UNMARK
							  : Q_VOLUME_UNMARK, err);
	int rc = 0;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, snapshot_id ? snapshot_id : volume_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "clearing a mark");
	sqlite3_reset(st);
	return rc;
}

int catalog_unrm_unmark(struct catalog *cat, int64_t volume_id,
			int64_t snapshot_id, struct rc_error *err)
{
	struct catalog_operation running = { .volume_id = volume_id };
	int64_t *restore = NULL, *gone = NULL;
	size_t restore_count = 0, gone_count = 0;
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	/* a gc step under way could be taking what the mark let it take */
	rc = catalog_volume_check_free(cat, &running, err);
	if (rc == 0)
		rc = catalog_unrm_images(cat, volume_id, snapshot_id, &restore,
					 &restore_count, &gone, &gone_count,
					 err);
	if (rc == 0 && (restore_count || gone_count))
		rc = rc_error_set(err, -ESTALE, "gc moved what the volume "
				  "needs to the trash meanwhile");
	if (rc == 0)
		rc = clear_mark(cat, volume_id, snapshot_id, err);
	free(restore);
	free(gone);
	return catalog_settle(cat, rc, err);
}

int catalog_unrm_finish(struct catalog *cat, struct catalog_operation *op,
			const int64_t *images, size_t n, int64_t now,
			struct rc_error *err)
{
	sqlite3_stmt *st;
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		st = catalog_stmt(cat, Q_IMAGE_UNTRASHED, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, images[i]);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = catalog_sql_error(cat, err, "recording an image "
					       "restored from the trash");
		sqlite3_reset(st);
	}
	if (rc == 0)
		rc = clear_mark(cat, op->volume_id, op->snapshot_id, err);
	if (rc < 0)
		return catalog_settle(cat, rc, err);
	return catalog_op_finish(cat, op, CATALOG_OP_DONE, NULL, now, err);
}
