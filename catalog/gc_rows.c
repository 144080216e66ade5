/*
 * gc's side of the catalog: marks and pins, the state the planner reads,
 * and the journalling of each step, which re-plans inside its transaction
 * so that nothing made needed since the plan was drawn is ever taken.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rowcat/clock.h"
#include "rowcat/sys/grow.h"
#include "internal.h"

enum catalog_op_kind catalog_gc_action_kind(enum catalog_gc_action action)
{
	switch (action) {
	case CATALOG_GC_TRASH:
		return CATALOG_OP_GC_TRASH;
	case CATALOG_GC_REMOVE_SNAPSHOT:
		return CATALOG_OP_GC_SNAPSHOT;
	case CATALOG_GC_PURGE:
		return CATALOG_OP_GC_PURGE;
	}
	return CATALOG_OP_NO_KIND;
}

/* Runs one UPDATE of a row by id (?1) with an integer ?2 and text ?3. */
static int update_row(struct catalog *cat, enum catalog_query q, int64_t id,
		      int64_t value, const char *text, const char *doing,
		      struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, q, err);
	int rc = 0;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, value);
	if (text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, doing);
	sqlite3_reset(st);
	return rc;
}

/*
 * -EBUSY while an unrm of the volume is unfinished: it restores, and then
 * unmarks, what the volume's marks make needed, and recomputes that from
 * the catalog until it commits; a mark made meanwhile would change its
 * list under it, or be cleared by its commit.
 */
static int refuse_during_unrm(struct catalog *cat, int64_t volume_id,
			      struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_OP_RUNNING_FOR_VOLUME, err);
	const char *kind = catalog_op_kind_name(CATALOG_OP_UNRM);
	int rc = 0, step;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, volume_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *other = (const char *)sqlite3_column_text(st, 1);

		if (other && strcmp(other, kind) == 0) {
			rc = rc_error_set(err, -EBUSY, "an unrm of the volume "
				"(operation %lld) is unfinished; 'rowcat "
				"recover' settles it if its rowcat stopped",
				(long long)sqlite3_column_int64(st, 0));
			break;
		}
	}
	if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "looking for an unrm");
	sqlite3_reset(st);
	return rc;
}

int catalog_snapshot_mark(struct catalog *cat, int64_t volume_id,
			  const char *name, int64_t now, struct rc_error *err)
{
	struct catalog_snapshot snap;
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	rc = catalog_snapshot_find(cat, volume_id, name, &snap, err);
	if (rc == 0)
		rc = refuse_during_unrm(cat, volume_id, err);
	if (rc == 0 && snap.pinned)
		rc = rc_error_set(err, -EPERM, "snapshot '%s' is pinned; "
				  "'rowcat unpin' it first", name);
	if (rc == 0)
		rc = update_row(cat, Q_SNAPSHOT_MARK, snap.id, now, NULL,
				"marking a snapshot", err);
	return catalog_settle(cat, rc, err);
}

int catalog_volume_mark(struct catalog *cat, int64_t volume_id, int64_t now,
			struct rc_error *err)
{
	int rc = catalog_begin(cat, err);

	if (rc == 0)
		rc = refuse_during_unrm(cat, volume_id, err);
	if (rc == 0)
		rc = update_row(cat, Q_VOLUME_MARK, volume_id, now, NULL,
				"marking a volume", err);
	return catalog_settle(cat, rc, err);
}

int catalog_snapshot_set_pinned(struct catalog *cat, int64_t volume_id,
				const char *name, bool pinned,
				struct rc_error *err)
{
	struct catalog_operation running = { .volume_id = volume_id };
	struct catalog_snapshot snap;
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	rc = catalog_snapshot_find(cat, volume_id, name, &snap, err);
	if (rc == 0 && pinned)
		rc = catalog_volume_check_free(cat, &running, err);
	if (rc == 0)
		rc = update_row(cat, Q_SNAPSHOT_SET_PINNED, snap.id, pinned, NULL,
				"pinning a snapshot", err);
	return catalog_settle(cat, rc, err);
}

/* ---- the planner's view ------------------------------------------------ */

void catalog_gc_state_free(struct catalog_gc_state *state)
{
	free(state->volumes);
	free(state->images);
	free(state->snapshots);
	memset(state, 0, sizeof(*state));
}

/* Reads every row of query q_all (of every volume), or of q_one (bound to
 * volume_id) when volume_id is set, with read_row into a growing array of
 * `size`-byte elements. */
static int load_rows(struct catalog *cat, enum catalog_query q_all,
		     enum catalog_query q_one, int64_t volume_id, void **array,
		     size_t *count, size_t size,
		     void (*read_row)(sqlite3_stmt *st, void *row),
		     struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, volume_id ? q_one : q_all, err);
	size_t cap = 0;
	int rc = 0, step;

	if (!st)
		return err->code;
	if (volume_id)
		sqlite3_bind_int64(st, 1, volume_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (rc_grow(array, &cap, *count + 1, size, 16) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		read_row(st, (char *)*array + *count * size);
		(*count)++;
	}
	if (step != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "reading the catalog for gc");
out:
	sqlite3_reset(st);
	return rc;
}

static void read_gc_volume(sqlite3_stmt *st, void *row)
{
	struct catalog_gc_volume *v = row;

	v->id = sqlite3_column_int64(st, 0);
	v->operating_image_id = sqlite3_column_int64(st, 1);
	v->marked_at = sqlite3_column_int64(st, 2);
}

static void read_gc_image(sqlite3_stmt *st, void *row)
{
	struct catalog_gc_image *i = row;

	i->id = sqlite3_column_int64(st, 0);
	i->volume_id = sqlite3_column_int64(st, 1);
	i->parent_snapshot_id = sqlite3_column_int64(st, 2);
	i->created_at = sqlite3_column_int64(st, 3);
	i->flattened = sqlite3_column_int(st, 4) != 0;
	i->trashed = sqlite3_column_int(st, 5) != 0;
	i->purged = sqlite3_column_int(st, 6) != 0;
	i->trash_until = sqlite3_column_int64(st, 7);
}

static void read_gc_snapshot(sqlite3_stmt *st, void *row)
{
	struct catalog_gc_snapshot *s = row;

	s->id = sqlite3_column_int64(st, 0);
	s->image_id = sqlite3_column_int64(st, 1);
	s->created_at = sqlite3_column_int64(st, 2);
	s->marked_at = sqlite3_column_int64(st, 3);
	s->pinned = sqlite3_column_int(st, 4) != 0;
	s->removed = sqlite3_column_int(st, 5) != 0;
}

int catalog_gc_state_load(struct catalog *cat, int64_t volume_id,
			  struct catalog_gc_state *out, struct rc_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	/* one read transaction, so that the three lists agree */
	if (sqlite3_exec(cat->db, "SAVEPOINT gc_state", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return catalog_sql_error(cat, err, "reading the catalog for gc");
	rc = load_rows(cat, Q_GC_VOLUMES, Q_GC_VOLUMES_ONE, volume_id,
		       (void **)&out->volumes,
		       &out->volume_count, sizeof(*out->volumes),
		       read_gc_volume, err);
	if (rc == 0)
		rc = load_rows(cat, Q_GC_IMAGES, Q_GC_IMAGES_ONE, volume_id,
			       (void **)&out->images,
			       &out->image_count, sizeof(*out->images),
			       read_gc_image, err);
	if (rc == 0)
		rc = load_rows(cat, Q_GC_SNAPSHOTS, Q_GC_SNAPSHOTS_ONE, volume_id,
			       (void **)&out->snapshots, &out->snapshot_count,
			       sizeof(*out->snapshots), read_gc_snapshot, err);
	sqlite3_exec(cat->db, "RELEASE gc_state", NULL, NULL, NULL);
	if (rc < 0)
		catalog_gc_state_free(out);
	return rc;
}

/* catalog_gc_plan_catalog's source: two cursors in one read. */
struct newest_first {
	struct catalog *cat;
	sqlite3_stmt *images, *snapshots;
	int snap_step;              /* the snapshot cursor's last sqlite3_step */
	struct catalog_gc_snapshot *snaps;
	size_t snap_count, snap_cap;
};

static int cmp_snapshot_id(const void *a, const void *b)
{
	int64_t x = ((const struct catalog_gc_snapshot *)a)->id;
	int64_t y = ((const struct catalog_gc_snapshot *)b)->id;

	return (x > y) - (x < y);
}

static int next_image(void *ctx, struct catalog_gc_image_rows *rows,
		      struct rc_error *err)
{
	struct newest_first *src = ctx;
	int step = sqlite3_step(src->images);

	if (step == SQLITE_DONE)
		return 0;
	if (step != SQLITE_ROW)
		return catalog_sql_error(src->cat, err, "reading the catalog for gc");
	memset(rows, 0, sizeof(*rows));
	read_gc_image(src->images, &rows->image);
	rows->parent_image_id = sqlite3_column_int64(src->images, 8);
	src->snap_count = 0;
	/* newest image first, its snapshots in no order; a snapshot of an
	 * image the catalog does not hold is skipped, as the full read's
	 * join leaves it out */
	while (src->snap_step == SQLITE_ROW) {
		int64_t image_id = sqlite3_column_int64(src->snapshots, 1);

		if (image_id < rows->image.id)
			break;
		if (image_id == rows->image.id) {
			if (rc_grow((void **)&src->snaps, &src->snap_cap,
				    src->snap_count + 1, sizeof(*src->snaps),
				    16) < 0)
				return rc_error_set(err, -ENOMEM, "out of memory");
			read_gc_snapshot(src->snapshots,
					 &src->snaps[src->snap_count++]);
		}
		src->snap_step = sqlite3_step(src->snapshots);
	}
	if (src->snap_step != SQLITE_ROW && src->snap_step != SQLITE_DONE)
		return catalog_sql_error(src->cat, err, "reading the catalog for gc");
	if (src->snap_count > 1)
		qsort(src->snaps, src->snap_count, sizeof(*src->snaps),
		      cmp_snapshot_id);
	rows->snapshots = src->snaps;
	rows->snapshot_count = src->snap_count;
	return 1;
}

int catalog_gc_plan_catalog(struct catalog *cat,
			    const struct catalog_gc_options *opts,
			    struct catalog_gc_plan *out, struct rc_error *err)
{
	struct newest_first src = { .cat = cat };
	struct catalog_gc_volume *volumes = NULL;
	size_t volume_count = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	/* one read transaction, so that the volumes and both cursors agree */
	if (sqlite3_exec(cat->db, "SAVEPOINT gc_plan", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return catalog_sql_error(cat, err, "reading the catalog for gc");
	rc = load_rows(cat, Q_GC_VOLUMES, Q_GC_VOLUMES_ONE, 0,
		       (void **)&volumes, &volume_count, sizeof(*volumes),
		       read_gc_volume, err);
	if (rc < 0)
		goto out;
	src.images = catalog_stmt(cat, Q_GC_IMAGES_NEWEST_FIRST, err);
	src.snapshots = catalog_stmt(cat, Q_GC_SNAPSHOTS_NEWEST_IMAGE_FIRST, err);
	if (!src.images || !src.snapshots) {
		rc = err->code;
		goto out;
	}
	src.snap_step = sqlite3_step(src.snapshots);
	rc = catalog_gc_plan_stream(volumes, volume_count, next_image, &src,
				    opts, out, err);
out:
	if (src.images)
		sqlite3_reset(src.images);
	if (src.snapshots)
		sqlite3_reset(src.snapshots);
	sqlite3_exec(cat->db, "RELEASE gc_plan", NULL, NULL, NULL);
	free(src.snaps);
	free(volumes);
	return rc;
}

/* ---- journalling the steps --------------------------------------------- */

struct still_planned {
	const struct catalog_gc_step *step;
	const struct catalog_gc_options *opts;
};

static bool same_step(const struct catalog_gc_step *a,
		      const struct catalog_gc_step *b)
{
	return a->action == b->action && a->image_id == b->image_id &&
	       a->snapshot_id == b->snapshot_id;
}

/* The rule catalog_gc_step_begin adds: a fresh plan of the volume, made
 * inside the journalling transaction, still holds the step. */
static int check_still_planned(struct catalog *cat, void *ctx,
			       struct rc_error *err)
{
	const struct still_planned *want = ctx;
	struct catalog_gc_state state;
	struct catalog_gc_plan plan = {0};
	bool found = false;
	int rc;

	rc = catalog_gc_state_load(cat, want->step->volume_id, &state, err);
	if (rc == 0)
		rc = catalog_gc_plan(&state, want->opts, &plan, err);
	for (size_t i = 0; rc == 0 && i < plan.count && !found; i++)
		found = same_step(&plan.steps[i], want->step);
	if (rc == 0 && !found)
		rc = rc_error_set(err, -ESTALE,
			"no longer garbage: the catalog changed since the plan "
			"(a restore or pin made it needed, or it is done)");
	/* when the trash delay ends is fixed now, before the move */
	if (rc == 0 && want->step->action == CATALOG_GC_TRASH)
		rc = update_row(cat, Q_IMAGE_SET_TRASH_UNTIL, want->step->image_id,
				want->opts->now + want->opts->trash_delay, NULL,
				"recording a trash delay", err);
	catalog_gc_plan_free(&plan);
	catalog_gc_state_free(&state);
	return rc;
}

int catalog_gc_step_begin(struct catalog *cat, const struct catalog_gc_step *step,
			  const struct catalog_gc_options *opts,
			  struct catalog_operation *op, struct rc_error *err)
{
	struct still_planned want = { step, opts };

	memset(op, 0, sizeof(*op));
	op->kind = catalog_gc_action_kind(step->action);
	snprintf(op->reason, sizeof(op->reason), "%s",
		 catalog_gc_reason_text(step->reason));
	op->volume_id = step->volume_id;
	op->image_id = step->image_id;
	op->snapshot_id = step->snapshot_id;
	op->started_at = opts->now;
	return catalog_op_begin_checked(cat, op, check_still_planned, &want, err);
}

int catalog_gc_image_identify(struct catalog *cat, int64_t image_id,
			      const char *rbd_id, struct rc_error *err)
{
	sqlite3_stmt *st;
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	st = catalog_stmt(cat, Q_IMAGE_IDENTIFY, err);
	if (!st)
		return catalog_settle(cat, err->code, err);
	sqlite3_bind_int64(st, 1, image_id);
	sqlite3_bind_text(st, 2, rbd_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "recording an image's id");
	sqlite3_reset(st);
	return catalog_settle(cat, rc, err);
}

int catalog_gc_step_finish(struct catalog *cat, struct catalog_operation *op,
			   int64_t now, struct rc_error *err)
{
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	switch (op->kind) {
	case CATALOG_OP_GC_TRASH:
		rc = update_row(cat, Q_IMAGE_TRASHED, op->image_id, now,
				op->reason, "recording a trash move", err);
		break;
	case CATALOG_OP_GC_SNAPSHOT:
		rc = update_row(cat, Q_SNAPSHOT_REMOVED, op->snapshot_id, now,
				op->reason, "recording a snapshot removal", err);
		break;
	case CATALOG_OP_GC_PURGE:
		rc = update_row(cat, Q_IMAGE_PURGED, op->image_id, now, NULL,
				"recording a purge", err);
		break;
	default:
		rc = rc_error_set(err, -EINVAL, "'%s' is not a gc operation",
				  catalog_op_kind_name(op->kind));
		break;
	}
	if (rc < 0)
		return catalog_settle(cat, rc, err);
	return catalog_op_finish(cat, op, CATALOG_OP_DONE, NULL, now, err);
}
