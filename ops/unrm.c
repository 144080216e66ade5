/*
 * rowcat unrm: the undo of `rowcat rm`, while gc has not made it final.
 *
 * Before gc took anything, undoing a mark is a catalog change: one
 * transaction clears it, after checking that no gc step runs on the volume
 * and that nothing the volume needs back is in the trash. After gc moved
 * images to the RBD trash, the images that the volume needs again once
 * the mark is gone (the planner's rule, catalog_unrm_images) are restored
 * from the trash by one journalled operation:
 *
 *  kind   steps                                          a crash here
 *  ────   ────────────────────────────────────────────   ─────────────
 *  unrm   journalled → each image restored from the      roll forward
 *         trash under its name, parents first → ONE
 *         TRANSACTION: the images out of the trash
 *         (removed_at, removed_why, trash_until
 *         cleared), the mark cleared, operation done
 *
 * As gc's, its steps look before they act (rbdops_trash_restore finds an
 * image already restored), so op.step stays 'journalled' and recovery
 * starts over from the first, which finds its work done. While it runs, no
 * gc step on the volume is journalled (gc's steps and unrm exclude each
 * other), so the set of images to restore, recomputed from the catalog,
 * stays the same until the commit. A failure that waiting does not cure
 * (another image took a name) rolls back: what was restored goes back to
 * the trash for what remained of its delay, and the operation ends
 * rolled-back; nothing of the mark changes.
 *
 * What gc made final is refused, naming it: a snapshot it removed, an
 * image it purged.
 *
 * Failpoints: unrm.{journal,restore,commit}.{before,after}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/clock.h"
#include "rowcat/sys/failpoint.h"
#include "rowcat/sys/journal.h"
#include "internal.h"

/* -ENOENT naming the first image in gone[] and what became of it. */
static int say_gone(struct catalog *cat, const char *volume,
		    const int64_t *gone, size_t n, struct rc_error *err)
{
	struct catalog_image image;
	char text[RC_SPEC_MAX], when[RC_ISO_TIME_MAX];
	int rc = catalog_image_get(cat, gone[0], &image, err);

	if (rc < 0)
		return rc;
	rc_image_spec_format(&image.spec, text, sizeof(text));
	rc_time_format_iso(image.purged_at, when);
	return rc_error_set(err, -ENOENT, "cannot undo the rm of '%s': gc "
			    "purged %s%s from the trash at %s (its trash delay "
			    "was over); its data is gone", volume, text,
			    n > 1 ? " and others" : "", when);
}

/* Moves every image of ids that is in the pool again back to the trash,
 * for what is left of its delay. */
static int roll_back(struct rbd_conn *conn, struct catalog *cat,
		     const int64_t *ids, size_t n, struct rc_error *err)
{
	struct catalog_image image;
	int rc = 0;

	for (size_t i = n; rc == 0 && i-- > 0;) {
		int64_t left;

		rc = catalog_image_get(cat, ids[i], &image, err);
		if (rc < 0)
			break;
		left = image.trash_until - rc_clock_now();
		rc = rbdops_image_trash(conn, &image.spec, image.rbd_id,
					left > 0 ? left : 0, err);
	}
	return rc;
}

/*
 * Carries op forward from wherever it stopped; *ids (the images it
 * restores, *n of them) is the caller's to free, and *listed says whether
 * they were found at all (a roll-back needs them).
 */
static int forward(struct rbd_conn *conn, struct catalog *cat,
		   struct catalog_operation *op, const char *volume,
		   int64_t **ids, size_t *n, bool *listed, struct rc_error *err)
{
	struct catalog_image image;
	int64_t *gone = NULL;
	size_t gone_count = 0;
	int rc;

	rc = catalog_unrm_images(cat, op->volume_id, op->snapshot_id, ids, n,
				 &gone, &gone_count, err);
	*listed = rc == 0;
	if (rc == 0 && gone_count)
		rc = say_gone(cat, volume, gone, gone_count, err);
	free(gone);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < *n; i++) {
		rc = catalog_image_get(cat, (*ids)[i], &image, err);
		if (rc < 0)
			goto out;
		OPS_STEP("unrm.restore.before", "unrm.restore.after",
		     rbdops_trash_restore(conn, &image.spec, image.rbd_id, err));
	}
	OPS_STEP("unrm.commit.before", "unrm.commit.after",
	     catalog_unrm_finish(cat, op, *ids, *n, rc_clock_now(), err));
out:
	return rc;
}

/*
 * Settles op after forward() failed with err: a failure that waiting may
 * cure, or one before the images were listed (nothing to roll back by),
 * leaves it running, for recovery; any other is rolled back. Returns the
 * state op ended in (RUNNING: left for recovery).
 */
static enum catalog_op_state settle_failure(struct rbd_conn *conn,
					    struct catalog *cat,
					    struct catalog_operation *op,
					    const int64_t *ids, size_t n,
					    bool listed, struct rc_error *err)
{
	struct rc_error undo = {0};

	if (!listed || ops_is_transient(err) ||
	    op->state != CATALOG_OP_RUNNING)
		return op->state;
	if (roll_back(conn, cat, ids, n, &undo) < 0) {
		rc_error_prefix(err, "(and moving back to the trash failed: "
				"%s) ", undo.message);
		return CATALOG_OP_RUNNING;
	}
	ops_end_failed(cat, op, CATALOG_OP_ROLLED_BACK, err);
	return op->state;
}

int ops_unrm_recover(struct rbd_conn *conn, struct catalog *cat,
		     struct catalog_operation *op, struct ops_recovery *report,
		     struct rc_error *err)
{
	struct catalog_volume volume;
	int64_t *ids = NULL;
	size_t n = 0;
	bool listed = false;
	int rc = catalog_volume_get(cat, op->volume_id, &volume, err);

	if (rc == 0)
		rc = forward(conn, cat, op, volume.name, &ids, &n, &listed, err);
	if (rc == 0) {
		report->finished++;
	} else if (settle_failure(conn, cat, op, ids, n, listed, err) ==
		   CATALOG_OP_ROLLED_BACK) {
		report->undone++; /* settled: the journal holds why */
		rc_error_clear(err);
		rc = 0;
	}
	free(ids);
	return rc;
}

/* The one-line refusals, and whether there is anything to undo. */
static int judge(struct catalog *cat, const struct catalog_volume *volume,
		 const char *snapshot, struct catalog_snapshot *snap,
		 bool *marked, struct rc_error *err)
{
	char when[RC_ISO_TIME_MAX];
	int rc;

	*marked = volume->marked_at != 0;
	if (!snapshot)
		return 0;
	/* -ENOENT names the volume, and whose a snapshot of that name it
	 * reads through is */
	rc = catalog_snapshot_find_any(cat, volume->id, snapshot, snap, err);
	if (rc < 0)
		return rc;
	if (snap->removed_at) {
		rc_time_format_iso(snap->removed_at, when);
		return rc_error_set(err, -ENOENT, "%s@%s is gone: gc removed "
				    "it at %s, and a removed snapshot cannot be "
				    "brought back", volume->name, snapshot, when);
	}
	if (volume->marked_at && snap->marked_at)
		return rc_error_set(err, -EPERM, "volume '%s' itself is marked "
				    "for collection: 'rowcat unrm %s' first",
				    volume->name, volume->name);
	*marked = snap->marked_at != 0;
	return 0;
}

int ops_volume_unrm(struct rbd_conn *conn, struct catalog *cat,
		    const char *volume_name, const char *snapshot,
		    const struct ops_unrm_events *ev,
		    struct ops_unrm_result *result, struct rc_error *err)
{
	struct catalog_operation op = {0};
	struct catalog_volume volume;
	struct catalog_snapshot snap = {0};
	struct ops_recovery recovered;
	int64_t *ids = NULL, *gone = NULL;
	size_t n = 0, gone_count = 0;
	bool marked = false, listed = false;
	int rc, tries = 0;

	memset(result, 0, sizeof(*result));
again:
	free(ids);
	free(gone);
	ids = gone = NULL;
	rc = catalog_volume_find(cat, volume_name, &volume, err);
	if (rc == 0)
		rc = judge(cat, &volume, snapshot, &snap, &marked, err);
	if (rc == 0)
		rc = catalog_unrm_images(cat, volume.id, snapshot ? snap.id : 0,
					 &ids, &n, &gone, &gone_count, err);
	if (rc == 0 && gone_count)
		rc = say_gone(cat, volume.name, gone, gone_count, err);
	if (rc < 0)
		goto out;
	if (!n && !marked) {
		result->nothing_to_do = true;
		goto out;
	}
	if (!n) {
		rc = catalog_unrm_unmark(cat, volume.id, snapshot ? snap.id : 0,
					 err);
		if (rc == 0)
			goto out;
		/* gc moved something meanwhile, or left a step unfinished:
		 * the cluster is needed after all */
		if ((rc != -ESTALE && rc != -EAGAIN) || ++tries > 3)
			goto busy;
	}
	if (!conn && ev && ev->connect) {
		rc = ev->connect(ev->ctx, &conn, err);
		if (rc < 0)
			goto out;
	}
	if (!conn) {
		rc = rc_error_set(err, -ENOTCONN, "no cluster to restore from");
		goto out;
	}
	rc = ops_recover_volume(conn, cat, &volume, ev ? ev->ops : NULL,
				&recovered, err);
	if (rc < 0)
		goto out;
	if (!n)
		goto again;
	op.kind = CATALOG_OP_UNRM;
	op.volume_id = volume.id;
	op.image_id = volume.operating_image_id;
	op.snapshot_id = snapshot ? snap.id : 0;
	op.started_at = rc_clock_now();
	RC_FAILPOINT("unrm.journal.before");
	rc = catalog_op_begin(cat, &op, err);
	if (rc < 0)
		goto busy;
	RC_FAILPOINT("unrm.journal.after");
	free(ids);
	ids = NULL;
	rc = forward(conn, cat, &op, volume.name, &ids, &n, &listed, err);
	if (rc == 0)
		result->restored = n;
	else if (settle_failure(conn, cat, &op, ids, n, listed, err) ==
		 CATALOG_OP_RUNNING)
		ops_interrupted(err, "unrm", volume.name, op.id);
	catalog_op_release(cat, op.id);
	goto out;
busy:
	if (rc == -EBUSY || rc == -EAGAIN || rc == -ESTALE)
		rc_error_prefix(err, "volume '%s' is busy: ", volume.name);
out:
	/* a full pool, or the cap that restoring from the trash needs */
	if (rc < 0 && conn)
		rc = ops_explain_volume_failure(conn, cat, volume_name, err);
	if (rc == 0 && snapshot)
		snprintf(result->origin, sizeof(result->origin), "%s",
			 snap.origin);
	free(ids);
	free(gone);
	return rc;
}
