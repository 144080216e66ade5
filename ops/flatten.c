/*
 * rowcat flatten: cut the operating image loose from its ancestors.
 *
 *  step (op.step)   on Ceph after it                      a crash here
 *  ──────────────   ──────────────────────────────────    ────────────
 *  journalled       the image, perhaps partly flattened,   roll forward
 *     │             its object map perhaps off
 *     │  object map off (noted in the image's metadata), flatten,
 *     │  again until the image has no parent
 *  flattened        the image without a parent, its        roll forward
 *     │             object map perhaps off                 (never 'failed':
 *     │  object map on again and rebuilt                    the cluster is
 *     │  (rbdops/object_map.c)                              flattened)
 *     │  ONE TRANSACTION: flattened_at on the image row (its parent
 *     │  link stays, as history), the operation done
 *  done
 *
 * A partly flattened image reads what it read before: librbd copies an
 * object's data from the parent before the image owns it, and the image
 * reads through to the parent wherever it owns nothing. But it is not a
 * safe image to flatten again with its object map on: with Debian 12's
 * librbd, an object whose copy-up was cut short is marked in the map and
 * missing on the cluster, and the next flatten would skip it and then
 * detach the parent, leaving zeros (object_map.c says how and why). So
 * every flatten here runs with the object map off, and recovery always
 * rolls forward through the same step; it ends the operation 'failed'
 * only when the image is gone.
 *
 * Failpoints: flatten.{journal,flatten,map,step,commit}.{before,after}.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rowcat/clock.h"
#include "rowcat/sys/failpoint.h"
#include "internal.h"

static int commit(struct catalog *cat, struct catalog_operation *op,
		  struct rc_error *err)
{
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	rc = catalog_image_set_flattened(cat, op->image_id, op->started_at, err);
	if (rc < 0) {
		catalog_rollback(cat);
		return rc;
	}
	return catalog_op_finish(cat, op, CATALOG_OP_DONE, NULL, rc_clock_now(),
				 err);
}

static int forward(struct rbd_conn *conn, struct catalog *cat,
		   struct catalog_operation *op, const struct rc_image_spec *image,
		   const struct ops_events *ev, struct rc_error *err)
{
	int rc;

	OPS_STEP("flatten.flatten.before", "flatten.flatten.after",
		 rbdops_flatten(conn, image, ev ? ev->progress : NULL,
				ev ? ev->ctx : NULL, err));
	if (op->step != CATALOG_STEP_FLATTENED)
		OPS_STEP("flatten.step.before", "flatten.step.after",
		     catalog_op_set_step(cat, op, CATALOG_STEP_FLATTENED, err));
	OPS_STEP("flatten.map.before", "flatten.map.after",
	     rbdops_object_map_restore(conn, image, err));
	OPS_STEP("flatten.commit.before", "flatten.commit.after",
	     commit(cat, op, err));
out:
	return rc;
}

int ops_flatten_recover(struct rbd_conn *conn, struct catalog *cat,
			struct catalog_operation *op,
			const struct ops_events *ev,
			struct ops_recovery *report, struct rc_error *err)
{
	struct catalog_image image;
	bool exists = false;
	int rc;

	rc = catalog_image_get(cat, op->image_id, &image, err);
	if (rc == 0)
		rc = rbdops_image_exists(conn, &image.spec, &exists, err);
	if (rc < 0)
		return rc;
	if (!exists) {
		rc = ops_end_operation(cat, op, CATALOG_OP_FAILED,
				       "the image is gone from the cluster", err);
		if (rc == 0)
			report->failed++;
		return rc;
	}
	rc = forward(conn, cat, op, &image.spec, ev, err);
	if (rc == 0)
		report->finished++;
	/* once flattened on the cluster, ending 'failed' would leave the
	 * catalog saying the image still has its parent: it stays */
	if (rc < 0 && !ops_is_transient(err) &&
	    op->step != CATALOG_STEP_FLATTENED &&
	    ops_end_operation(cat, op, CATALOG_OP_FAILED, err->message,
			      err) == 0) {
		report->failed++; /* settled: the journal holds why */
		rc_error_clear(err);
		rc = 0;
	}
	return rc;
}

/* The volume, its operating image, and whether an operation of it is
 * running (recovery first), in one read transaction. */
static int read_start(struct catalog *cat, const char *volume_name,
		      struct catalog_volume *volume, struct catalog_image *image,
		      bool *pending, struct rc_error *err)
{
	int rc = catalog_read_begin(cat, err);

	if (rc < 0)
		return rc;
	rc = ops_volume_read_start(cat, volume_name, volume, image, pending,
				   err);
	catalog_read_end(cat);
	return rc;
}

static int volume_flatten(struct rbd_conn *conn, struct catalog *cat,
			  const char *volume_name, const struct ops_events *ev,
			  struct ops_result *result, struct rc_error *err)
{
	struct catalog_operation op = {0};
	struct catalog_volume volume;
	struct catalog_image image;
	struct ops_recovery recovered;
	bool pending = false;
	int rc;

	memset(result, 0, sizeof(*result));
	rc = read_start(cat, volume_name, &volume, &image, &pending, err);
	if (rc == 0 && pending) {
		rc = ops_recover_volume(conn, cat, &volume, ev, &recovered, err);
		if (rc == 0)
			rc = read_start(cat, volume_name, &volume, &image,
					&pending, err);
	}
	if (rc < 0)
		return rc;
	result->old_image = result->new_image = image.spec;
	if (!image.parent_snapshot_id || image.flattened_at) {
		result->nothing_to_do = true;
		return 0;
	}
	op.kind = CATALOG_OP_FLATTEN;
	op.volume_id = volume.id;
	op.image_id = image.id;
	op.requires_operating = true;
	op.started_at = rc_clock_now();
	RC_FAILPOINT("flatten.journal.before");
	rc = catalog_op_begin(cat, &op, err);
	if (rc == -EBUSY || rc == -ESTALE)
		return rc_error_prefix(err, "volume '%s' is busy: ", volume_name);
	if (rc < 0)
		return rc;
	RC_FAILPOINT("flatten.journal.after");
	rc = forward(conn, cat, &op, &image.spec, ev, err);
	if (rc < 0 && !ops_is_transient(err) &&
	    op.state == CATALOG_OP_RUNNING &&
	    op.step != CATALOG_STEP_FLATTENED) {
		/* nothing to undo: the image is whole, flattened or not */
		ops_end_failed(cat, &op, CATALOG_OP_FAILED, err);
	} else if (rc < 0) {
		ops_interrupted(err, "flatten", volume_name, op.id);
	}
	catalog_op_release(cat, op.id);
	return rc;
}

int ops_volume_flatten(struct rbd_conn *conn, struct catalog *cat,
		       const char *volume, const struct ops_events *ev,
		       struct ops_result *result, struct rc_error *err)
{
	int rc = volume_flatten(conn, cat, volume, ev, result, err);

	return rc < 0 ? ops_explain_volume_failure(conn, cat, volume, err) : rc;
}
