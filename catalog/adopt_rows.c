/*
 * rowcat adopt's side of the catalog: images rowcat did not create,
 * recorded as the cluster has them. Each adoption is judged and written
 * inside one transaction for the whole run, so that an ancestor that two
 * images of the run share is recorded once, and a clone adopted after its
 * parent (the caller orders them so) finds the parent's volume.
 *
 * What is reused rather than written again: an image of the chain that
 * the catalog has (by pool, namespace and name), whoever's it is, and a
 * snapshot of that image of the same name. Such an image whose librbd id
 * the catalog knows and that differs from the cluster's is another image
 * that took the name: the adoption is refused rather than linked to it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rowcat/clock.h"
#include "rowcat/host.h"
#include "rowcat/sys/journal.h"
#include "internal.h"

static void bind_text_or_null(sqlite3_stmt *st, int col, const char *text)
{
	if (text && text[0])
		sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

static void bind_id_or_null(sqlite3_stmt *st, int col, int64_t id)
{
	if (id)
		sqlite3_bind_int64(st, col, id);
	else
		sqlite3_bind_null(st, col);
}

/* Finds image spec; *found false when the catalog has none. */
static int find_image(struct catalog *cat, const struct rc_image_spec *spec,
		      struct catalog_image *out, bool *found,
		      struct rc_error *err)
{
	int rc = catalog_image_find(cat, spec, out, err);

	*found = rc == 0;
	if (rc == -ENOENT) {
		rc_error_clear(err);
		rc = 0;
	}
	return rc;
}

/* Whether the catalog's row known is another image than img: librbd's
 * ids differ (a row without a recorded id is taken for the same). */
static bool other_image(const struct catalog_image *known,
			const struct catalog_adopt_image *img)
{
	return known->rbd_id[0] && img->rbd_id[0] &&
	       strcmp(known->rbd_id, img->rbd_id) != 0;
}

static int insert_image(struct catalog *cat, int64_t volume_id,
			const struct catalog_adopt_image *img,
			int64_t parent_snapshot_id, int64_t now,
			int64_t *image_id, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_ADOPT_IMAGE_INSERT, err);

	if (!st)
		return err->code;
	bind_id_or_null(st, 1, volume_id);
	sqlite3_bind_text(st, 2, img->spec.pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, img->spec.ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, img->spec.name, -1, SQLITE_STATIC);
	bind_id_or_null(st, 5, parent_snapshot_id);
	sqlite3_bind_int64(st, 6, img->created_at);
	bind_text_or_null(st, 7, img->rbd_id);
	sqlite3_bind_int64(st, 8, now);
	return catalog_run_write(cat, st, image_id, err, "recording an adopted image");
}

/* The id of image_id's snapshot s, recorded now unless the catalog has
 * one of its name; *added counts those recorded. */
static int ensure_snapshot(struct catalog *cat, int64_t image_id,
			   const struct catalog_adopt_snapshot *s,
			   int64_t *snapshot_id, size_t *added,
			   struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_ADOPT_SNAPSHOT_FIND, err);
	int rc = 0, step;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, image_id);
	sqlite3_bind_text(st, 2, s->name, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*snapshot_id = sqlite3_column_int64(st, 0);
	else if (step != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "finding a snapshot");
	sqlite3_reset(st);
	if (rc < 0 || step == SQLITE_ROW)
		return rc;
	st = catalog_stmt(cat, Q_ADOPT_SNAPSHOT_INSERT, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, image_id);
	sqlite3_bind_text(st, 2, s->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, s->is_protected);
	sqlite3_bind_int64(st, 4, s->created_at);
	sqlite3_bind_int(st, 5, s->pinned);
	rc = catalog_run_write(cat, st, snapshot_id, err, "recording an adopted snapshot");
	if (rc == 0)
		(*added)++;
	return rc;
}

/*
 * Whether a refuses, judged on the catalog as it is: the image is a
 * volume's already, an image of the chain is another of that name, or
 * the volume name is taken. Sets r's outcome (and, for a refusal, its
 * message) and *image (found: the catalog's row of the image).
 */
static int judge(struct catalog *cat, const struct catalog_adopt *a,
		 struct catalog_adopt_result *r, struct catalog_image *image,
		 bool *found, struct rc_error *err)
{
	const struct catalog_adopt_image *img = &a->chain[a->chain_length - 1];
	struct catalog_volume volume;
	struct catalog_image known;
	char text[RC_SPEC_MAX];
	bool has;
	int rc;

	r->outcome = CATALOG_ADOPT_ADOPTED;
	rc = find_image(cat, &img->spec, image, found, err);
	for (size_t i = 0; rc == 0 && i < a->chain_length; i++) {
		const struct catalog_adopt_image *link = &a->chain[i];

		rc = find_image(cat, &link->spec, &known, &has, err);
		if (rc < 0 || !has || !other_image(&known, link))
			continue;
		rc_image_spec_format(&link->spec, text, sizeof(text));
		r->outcome = CATALOG_ADOPT_OTHER_IMAGE;
		snprintf(r->message, sizeof(r->message), "the catalog's image "
			 "%s (id %s%s) is not the one of that name on the "
			 "cluster now (id %s)", text, known.rbd_id,
			 known.removed_at ? ", collected by gc" : "",
			 link->rbd_id);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (*found && image->volume_id) {
		rc = catalog_volume_get(cat, image->volume_id, &volume, err);
		if (rc < 0)
			return rc;
		snprintf(r->volume, sizeof(r->volume), "%s", volume.name);
		r->volume_id = volume.id;
		r->image_id = image->id;
		rc_image_spec_format(&img->spec, text, sizeof(text));
		if (volume.operating_image_id == image->id) {
			r->outcome = CATALOG_ADOPT_ALREADY;
			return 0;
		}
		r->outcome = CATALOG_ADOPT_MANAGED;
		snprintf(r->message, sizeof(r->message), "%s is an image of "
			 "volume '%s' already (not its operating image)", text,
			 volume.name);
		return 0;
	}
	rc = catalog_volume_find(cat, a->volume, &volume, err);
	if (rc == -ENOENT) {
		rc_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	r->outcome = CATALOG_ADOPT_NAME_TAKEN;
	snprintf(r->volume, sizeof(r->volume), "%s", volume.name);
	snprintf(r->message, sizeof(r->message), "volume '%s' already exists; "
		 "adopt the image under another name with --as VOL", a->volume);
	return 0;
}

static int insert_volume(struct catalog *cat, const struct catalog_adopt *a,
			 int64_t created_at, int64_t *volume_id,
			 struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_VOLUME_INSERT, err);

	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, a->volume, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)a->size);
	sqlite3_bind_int64(st, 3, created_at);
	return catalog_run_write(cat, st, volume_id, err, "recording an adopted volume");
}

/* The image row becomes volume_id's (it was a foreign ancestor). */
static int own_image(struct catalog *cat, int64_t image_id, int64_t volume_id,
		     struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_ADOPT_IMAGE_OWN, err);
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, image_id);
	sqlite3_bind_int64(st, 2, volume_id);
	rc = catalog_run_write(cat, st, NULL, err, "recording an adopted image's volume");
	if (rc == 0 && sqlite3_changes(cat->db) != 1)
		rc = rc_error_set(err, -ESTALE, "image %lld became another "
				  "volume's meanwhile", (long long)image_id);
	return rc;
}

static int journal_adopt(struct catalog *cat, const struct catalog_adopt *a,
			 const struct catalog_adopt_result *r, int64_t now,
			 int64_t *op_id, struct rc_error *err)
{
	const struct catalog_adopt_image *img = &a->chain[a->chain_length - 1];
	sqlite3_stmt *st = catalog_stmt(cat, Q_ADOPT_OP_INSERT, err);
	char host[RC_HOST_MAX], user[RC_USER_MAX];

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, r->volume_id);
	sqlite3_bind_text(st, 2, catalog_op_kind_name(CATALOG_OP_ADOPT), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, catalog_op_state_name(CATALOG_OP_DONE), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 4, catalog_op_step_name(CATALOG_STEP_JOURNALLED),
			  -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->image_id);
	sqlite3_bind_text(st, 6, img->spec.pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, img->spec.ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, img->spec.name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (int64_t)a->size);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, rc_wall_ms());
	bind_text_or_null(st, 12, cat->has_claims
			  ? cat->claims.identity(cat->claims.ctx) : NULL);
	rc_host_name(host);
	rc_user_name(user);
	sqlite3_bind_text(st, 13, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, (int64_t)getpid());
	return catalog_run_write(cat, st, op_id, err, "journalling an adopt");
}

/* Writes one adoption that judge let through, inside the transaction. */
static int write_adoption(struct catalog *cat, const struct catalog_adopt *a,
			  const struct catalog_image *image, bool found,
			  int64_t now, struct catalog_adopt_result *r,
			  struct rc_error *err)
{
	const struct catalog_adopt_image *img = &a->chain[a->chain_length - 1];
	struct catalog_image known;
	int64_t parent_snapshot_id = 0, ancestor_id, unused;
	bool has;
	int rc = 0;

	/* root first, so that each clone finds its parent's snapshot */
	for (size_t i = 0; rc == 0 && i + 1 < a->chain_length; i++) {
		const struct catalog_adopt_image *link = &a->chain[i];

		rc = find_image(cat, &link->spec, &known, &has, err);
		if (rc == 0 && has)
			ancestor_id = known.id;
		else if (rc == 0 && (rc = insert_image(cat, 0, link,
				parent_snapshot_id, now, &ancestor_id, err)) == 0)
			r->ancestors_added++;
		if (rc == 0)
			rc = ensure_snapshot(cat, ancestor_id,
					     &a->chain[i + 1].parent_snapshot,
					     &parent_snapshot_id,
					     &r->snapshots_added, err);
	}
	if (rc == 0)
		rc = insert_volume(cat, a, img->created_at, &r->volume_id, err);
	if (rc < 0)
		return rc;
	snprintf(r->volume, sizeof(r->volume), "%s", a->volume);
	r->was_foreign = found;
	if (found) {
		r->image_id = image->id;
		rc = own_image(cat, image->id, r->volume_id, err);
	} else {
		rc = insert_image(cat, r->volume_id, img, parent_snapshot_id, now,
				  &r->image_id, err);
	}
	if (rc == 0)
		rc = catalog_volume_set_operating(cat, r->volume_id, r->image_id,
						  err);
	for (size_t s = 0; rc == 0 && s < a->snapshot_count; s++)
		rc = ensure_snapshot(cat, r->image_id, &a->snapshots[s], &unused,
				     &r->snapshots_added, err);
	if (rc == 0)
		rc = journal_adopt(cat, a, r, now, &r->operation_id, err);
	return rc;
}

int catalog_adopt_record(struct catalog *cat, const struct catalog_adopt *a,
			 size_t n, int64_t now, bool dry_run,
			 struct catalog_adopt_result *results,
			 struct rc_error *err)
{
	struct catalog_image image;
	char text[RC_SPEC_MAX];
	bool found;
	int rc;

	for (size_t i = 0; i < n; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		if (a[i].chain_length == 0)
			return rc_error_set(err, -EINVAL, "an adoption of no "
					    "image");
	}
	rc = catalog_begin(cat, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = judge(cat, &a[i], &results[i], &image, &found, err);
		if (rc == 0 && results[i].outcome == CATALOG_ADOPT_ADOPTED)
			rc = write_adoption(cat, &a[i], &image, found, now,
					    &results[i], err);
		if (rc < 0) {
			rc_image_spec_format(&a[i].chain[a[i].chain_length - 1].spec,
					     text, sizeof(text));
			rc_error_prefix(err, "adopting %s: ", text);
		}
	}
	if (dry_run || rc < 0) {
		catalog_rollback(cat);
		return rc;
	}
	return catalog_commit(cat, err);
}
