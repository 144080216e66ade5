/* Typed rows: reading and writing volumes, images and snapshots. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void read_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	snprintf(buf, len, "%s", text ? (const char *)text : "");
}

void catalog_read_volume(sqlite3_stmt *st, int c, struct catalog_volume *out)
{
	out->id = sqlite3_column_int64(st, c + 0);
	read_text(st, c + 1, out->name, sizeof(out->name));
	out->size = (uint64_t)sqlite3_column_int64(st, c + 2);
	out->operating_image_id = sqlite3_column_int64(st, c + 3);
	out->created_at = sqlite3_column_int64(st, c + 4);
	out->marked_at = sqlite3_column_int64(st, c + 5);
	read_text(st, c + 6, out->consumer, sizeof(out->consumer));
	read_text(st, c + 7, out->consumer_host, sizeof(out->consumer_host));
}

void catalog_read_image(sqlite3_stmt *st, int c, struct catalog_image *out)
{
	out->id = sqlite3_column_int64(st, c + 0);
	out->volume_id = sqlite3_column_int64(st, c + 1);
	read_text(st, c + 2, out->spec.pool, sizeof(out->spec.pool));
	read_text(st, c + 3, out->spec.ns, sizeof(out->spec.ns));
	read_text(st, c + 4, out->spec.name, sizeof(out->spec.name));
	out->parent_snapshot_id = sqlite3_column_int64(st, c + 5);
	out->flattened_at = sqlite3_column_int64(st, c + 6);
	out->created_at = sqlite3_column_int64(st, c + 7);
	out->removed_at = sqlite3_column_int64(st, c + 8);
	read_text(st, c + 9, out->rbd_id, sizeof(out->rbd_id));
	out->trash_until = sqlite3_column_int64(st, c + 10);
	out->purged_at = sqlite3_column_int64(st, c + 11);
	out->adopted_at = sqlite3_column_int64(st, c + 12);
}

void catalog_read_snapshot(sqlite3_stmt *st, int c, struct catalog_snapshot *out)
{
	out->id = sqlite3_column_int64(st, c + 0);
	out->image_id = sqlite3_column_int64(st, c + 1);
	read_text(st, c + 2, out->name, sizeof(out->name));
	out->is_protected = sqlite3_column_int(st, c + 3) != 0;
	read_text(st, c + 4, out->origin, sizeof(out->origin));
	out->created_at = sqlite3_column_int64(st, c + 5);
	out->pinned = sqlite3_column_int(st, c + 6) != 0;
	out->marked_at = sqlite3_column_int64(st, c + 7);
	out->removed_at = sqlite3_column_int64(st, c + 8);
	out->policy_at = sqlite3_column_int64(st, c + 9);
}

/*
 * Steps a statement expected to return at most one row. Returns 1 with a
 * row, 0 without one, or a negative code with err set.
 */
static int step_one(struct catalog *cat, sqlite3_stmt *st, struct rc_error *err,
		    const char *doing)
{
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		return 0;
	default:
		return catalog_sql_error(cat, err, doing);
	}
}

/* A lookup found its row: what err held from one that found none (the
 * caller tried another name) is no news any more. */
static int found(struct rc_error *err)
{
	rc_error_clear(err);
	return 0;
}

int catalog_volume_find(struct catalog *cat, const char *name,
			struct catalog_volume *out, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_VOLUME_FIND, err);
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = step_one(cat, st, err, "finding a volume");
	if (rc == 1)
		catalog_read_volume(st, 0, out);
	else if (rc == 0)
		rc = rc_error_set(err, -ENOENT, "no volume named '%s' in the catalog",
				  name);
	sqlite3_reset(st);
	return rc < 0 ? rc : found(err);
}

int catalog_image_get(struct catalog *cat, int64_t id,
		      struct catalog_image *out, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_IMAGE_GET, err);
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	rc = step_one(cat, st, err, "reading an image");
	if (rc == 1)
		catalog_read_image(st, 0, out);
	else if (rc == 0)
		rc = rc_error_set(err, -ENOENT, "no image with id %lld in the catalog",
				  (long long)id);
	sqlite3_reset(st);
	return rc < 0 ? rc : found(err);
}

int catalog_image_find(struct catalog *cat, const struct rc_image_spec *spec,
		       struct catalog_image *out, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_IMAGE_FIND, err);
	char text[RC_SPEC_MAX];
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, spec->pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, spec->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, spec->name, -1, SQLITE_STATIC);
	rc = step_one(cat, st, err, "finding an image");
	if (rc == 1) {
		catalog_read_image(st, 0, out);
	} else if (rc == 0) {
		rc_image_spec_format(spec, text, sizeof(text));
		rc = rc_error_set(err, -ENOENT, "no image %s in the catalog", text);
	}
	sqlite3_reset(st);
	return rc < 0 ? rc : found(err);
}

int catalog_run_write(struct catalog *cat, sqlite3_stmt *st, int64_t *rowid,
		      struct rc_error *err, const char *doing)
{
	int rc = 0;

	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, doing);
	else if (rowid)
		*rowid = sqlite3_last_insert_rowid(cat->db);
	sqlite3_reset(st);
	return rc;
}
static int insert_image(struct catalog *cat, int64_t volume_id,
			const struct rc_image_spec *image,
			int64_t parent_snapshot_id, int64_t now,
			int64_t *image_id, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_IMAGE_INSERT, err);

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, volume_id);
	sqlite3_bind_text(st, 2, image->pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, image->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, image->name, -1, SQLITE_STATIC);
	if (parent_snapshot_id)
		sqlite3_bind_int64(st, 5, parent_snapshot_id);
	sqlite3_bind_int64(st, 6, now);
	return catalog_run_write(cat, st, image_id, err, "recording an image");
}

int catalog_image_set_flattened(struct catalog *cat, int64_t image_id,
				int64_t now, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_IMAGE_SET_FLATTENED, err);

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, image_id);
	sqlite3_bind_int64(st, 2, now);
	return catalog_run_write(cat, st, NULL, err, "recording a flatten");
}

int catalog_volume_set_operating(struct catalog *cat, int64_t volume_id,
				 int64_t image_id, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_VOLUME_SET_OPERATING, err);

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, volume_id);
	sqlite3_bind_int64(st, 2, image_id);
	return catalog_run_write(cat, st, NULL, err, "switching the operating image");
}

int catalog_volume_set_consumer(struct catalog *cat, int64_t volume_id,
				const char *where, const char *host,
				struct rc_error *err)
{
	sqlite3_stmt *st;
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	st = catalog_stmt(cat, Q_VOLUME_SET_CONSUMER, err);
	if (!st) {
		rc = err->code;
		goto out;
	}
	sqlite3_bind_int64(st, 1, volume_id);
	if (where && where[0]) {
		sqlite3_bind_text(st, 2, where, -1, SQLITE_STATIC);
		if (host && host[0])
			sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 3);
	} else {
		sqlite3_bind_null(st, 2);
		sqlite3_bind_null(st, 3);
	}
	rc = catalog_run_write(cat, st, NULL, err, "recording a volume's consumer");
out:
	return catalog_settle(cat, rc, err);
}

int catalog_volume_insert(struct catalog *cat, const char *name, uint64_t size,
			  const struct rc_image_spec *image, int64_t now,
			  int64_t *volume_id, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_VOLUME_INSERT, err);
	int64_t image_id = 0;
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)size);
	sqlite3_bind_int64(st, 3, now);
	rc = catalog_run_write(cat, st, volume_id, err, "recording a volume");
	if (rc == -EEXIST)
		return rc_error_set(err, -EEXIST,
				    "volume '%s' already exists in the catalog", name);
	if (rc < 0)
		return rc;
	rc = insert_image(cat, *volume_id, image, 0, now, &image_id, err);
	if (rc == -EEXIST) {
		char text[RC_SPEC_MAX];
		rc_image_spec_format(image, text, sizeof(text));
		return rc_error_set(err, -EEXIST,
				    "image %s is already in the catalog", text);
	}
	if (rc < 0)
		return rc;
	return catalog_volume_set_operating(cat, *volume_id, image_id, err);
}

int catalog_clone_insert(struct catalog *cat, int64_t volume_id,
			 const struct rc_image_spec *image,
			 int64_t parent_snapshot_id, int64_t now,
			 int64_t *image_id, struct rc_error *err)
{
	return insert_image(cat, volume_id, image, parent_snapshot_id, now,
			    image_id, err);
}

int catalog_snapshot_insert(struct catalog *cat, int64_t image_id,
			    const char *name, const char *origin,
			    bool is_protected, int64_t now,
			    int64_t *snapshot_id, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_SNAPSHOT_INSERT, err);

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, image_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, origin, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, is_protected);
	sqlite3_bind_int64(st, 5, now);
	return catalog_run_write(cat, st, snapshot_id, err, "recording a snapshot");
}

int catalog_volume_get(struct catalog *cat, int64_t id,
		       struct catalog_volume *out, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_VOLUME_GET, err);
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	rc = step_one(cat, st, err, "reading a volume");
	if (rc == 1)
		catalog_read_volume(st, 0, out);
	else if (rc == 0)
		rc = rc_error_set(err, -ENOENT, "no volume with id %lld in the catalog",
				  (long long)id);
	sqlite3_reset(st);
	return rc < 0 ? rc : found(err);
}

int catalog_snapshot_get(struct catalog *cat, int64_t id,
			 struct catalog_snapshot *out, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_SNAPSHOT_GET, err);
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	rc = step_one(cat, st, err, "reading a snapshot");
	if (rc == 1)
		catalog_read_snapshot(st, 0, out);
	else if (rc == 0)
		rc = rc_error_set(err, -ENOENT,
				  "no snapshot with id %lld in the catalog",
				  (long long)id);
	sqlite3_reset(st);
	return rc < 0 ? rc : found(err);
}

/*
 * When volume_id reads through a snapshot called name that is not its own
 * (of a foreign ancestor, or of another volume's image its adopted root was
 * cloned from), says so in err, as -ENOENT, and returns 1; 0 when there is
 * none. Such a snapshot is no volume's to restore, mark or pin here.
 */
static int snapshot_above(struct catalog *cat, const struct catalog_volume *volume,
			  const char *name, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_SNAPSHOT_FIND_ABOVE, err);
	struct catalog_snapshot snap;
	struct catalog_image image;
	char owner[RC_NAME_MAX], spec[RC_SPEC_MAX];
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, volume->id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = step_one(cat, st, err, "finding a snapshot");
	if (rc == 1) {
		catalog_read_snapshot(st, 0, &snap);
		snprintf(owner, sizeof(owner), "%s",
			 sqlite3_column_type(st, CATALOG_SNAPSHOT_NCOLS) ==
			 SQLITE_NULL ? "" : (const char *)sqlite3_column_text(
				 st, CATALOG_SNAPSHOT_NCOLS));
	}
	sqlite3_reset(st);
	if (rc <= 0)
		return rc;
	rc = catalog_image_get(cat, snap.image_id, &image, err);
	if (rc < 0)
		return rc;
	rc_image_spec_format(&image.spec, spec, sizeof(spec));
	if (!owner[0])
		rc_error_set(err, -ENOENT, "%s@%s is not a snapshot of volume "
			     "'%s' but of a foreign image it reads through, which "
			     "rowcat never restores from, marks, pins or removes",
			     spec, name, volume->name);
	else
		rc_error_set(err, -ENOENT, "%s@%s is not a snapshot of volume "
			     "'%s' but of volume '%s', which it reads through: "
			     "name it %s@%s", spec, name, volume->name, owner,
			     owner, name);
	return 1;
}

/* -ENOENT for a snapshot that volume_id's tree does not hold, with the
 * volume's name when it can be read (the message is all that lacks it),
 * and whose it is when the volume reads through it. */
static int no_snapshot(struct catalog *cat, int64_t volume_id,
		       const char *name, struct rc_error *err)
{
	struct catalog_volume volume;
	int rc;

	if (catalog_volume_get(cat, volume_id, &volume, err) < 0)
		return rc_error_set(err, -ENOENT, "the volume has no snapshot "
				    "'%s'", name);
	rc = snapshot_above(cat, &volume, name, err);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return -ENOENT;
	return rc_error_set(err, -ENOENT, "volume '%s' has no snapshot '%s'",
			    volume.name, name);
}

int catalog_snapshot_not_found(struct catalog *cat, int64_t volume_id,
			       const char *name, struct rc_error *err)
{
	return no_snapshot(cat, volume_id, name, err);
}

int catalog_snapshot_find(struct catalog *cat, int64_t volume_id,
			  const char *name, struct catalog_snapshot *out,
			  struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_SNAPSHOT_FIND, err);
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, volume_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = step_one(cat, st, err, "finding a snapshot");
	if (rc == 1)
		catalog_read_snapshot(st, 0, out);
	sqlite3_reset(st);
	if (rc == 0)
		return no_snapshot(cat, volume_id, name, err);
	return rc < 0 ? rc : found(err);
}

int catalog_snapshot_set_protected(struct catalog *cat, int64_t snapshot_id,
				   bool is_protected, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_SNAPSHOT_SET_PROTECTED, err);

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, snapshot_id);
	sqlite3_bind_int(st, 2, is_protected);
	return catalog_run_write(cat, st, NULL, err, "recording a snapshot's protection");
}

int catalog_snapshot_set_policy_at(struct catalog *cat, int64_t snapshot_id,
				   int64_t policy_at, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_SNAPSHOT_SET_POLICY_AT, err);

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, snapshot_id);
	if (policy_at)
		sqlite3_bind_int64(st, 2, policy_at);
	else
		sqlite3_bind_null(st, 2);
	return catalog_run_write(cat, st, NULL, err, "recording a snapshot's policy time");
}
