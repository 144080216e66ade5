/*
 * Recovery: settles every operation that a dead rowcat left 'running'.
 *
 * An operation is recovered only by the process that can claim it
 * (catalog_op_claim): a live rowcat holds the claim of what it is doing, so
 * recovery never races an operation in progress. Each kind decides from
 * what it finds on the cluster whether to roll forward or back; the
 * decision for each kind is drawn at the top of the file of that operation.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Settles an interrupted create; see the diagram in volume_create.c. */
static int recover_create(struct rbd_conn *conn, struct catalog *cat,
			  struct catalog_operation *op,
			  struct ops_recovery *report, struct rc_error *err)
{
	struct rbdops_image_facts facts;
	struct catalog_volume existing;
	char tag[64], text[RC_SPEC_MAX], why[2 * RC_SPEC_MAX + 128];
	int rc;

	rc = rbdops_image_facts(conn, &op->target, &facts, err);
	if (rc < 0)
		return rc;
	if (!facts.exists) {
		rc = ops_end_operation(cat, op, CATALOG_OP_ROLLED_BACK,
			"interrupted before the image was created", err);
		if (rc == 0)
			report->undone++;
		return rc;
	}
	ops_owner_tag(op, tag, sizeof(tag));
	rc_image_spec_format(&op->target, text, sizeof(text));
	/* Untagged once the journal says the create was under way: made by
	 * it, killed before the tag could be set. Anything else is someone
	 * else's image. (Never the image's creation time against the
	 * operation's start: two clocks, the cluster's and this host's.) */
	if (strcmp(facts.owner, tag) != 0 &&
	    !(facts.owner[0] == '\0' && op->step != CATALOG_STEP_JOURNALLED)) {
		snprintf(why, sizeof(why),
			 "image %s exists but was not made by this operation; "
			 "left alone", text);
		rc = ops_end_operation(cat, op, CATALOG_OP_FAILED, why, err);
		if (rc == 0)
			report->failed++;
		return rc;
	}
	rc = catalog_volume_find(cat, op->target.name, &existing, err);
	if (rc == 0) {
		snprintf(why, sizeof(why), "volume '%s' was created meanwhile; "
			 "image %s is left alone", op->target.name, text);
		rc = ops_end_operation(cat, op, CATALOG_OP_FAILED, why, err);
		if (rc == 0)
			report->failed++;
		return rc;
	}
	if (rc != -ENOENT)
		return rc;
	rc_error_clear(err);
	if (facts.owner[0] == '\0' && (rc = ops_create_tag(conn, op, err)) < 0)
		return rc;
	rc = ops_create_finish(cat, op, err);
	if (rc == 0)
		report->finished++;
	return rc;
}

/* Settles op, which this process has claimed. */
static int recover_one(struct rbd_conn *conn, struct catalog *cat,
		       struct catalog_operation *op,
		       const struct ops_events *ev,
		       struct ops_recovery *report, struct rc_error *err)
{
	const char *kind = catalog_op_kind_name(op->kind);
	int rc;

	assert(catalog_assert_op_state(op));
	switch (op->kind) {
	case CATALOG_OP_CREATE:
		rc = recover_create(conn, cat, op, report, err);
		break;
	case CATALOG_OP_SNAP:
	case CATALOG_OP_RESTORE:
		rc = ops_row_recover(conn, cat, op, ev, report, err);
		break;
	case CATALOG_OP_FLATTEN:
		rc = ops_flatten_recover(conn, cat, op, ev, report, err);
		break;
	case CATALOG_OP_GC_TRASH:
	case CATALOG_OP_GC_SNAPSHOT:
	case CATALOG_OP_GC_PURGE:
		rc = ops_gc_recover(conn, cat, op, report, err);
		break;
	case CATALOG_OP_UNRM:
		rc = ops_unrm_recover(conn, cat, op, report, err);
		break;
	default:
		rc = rc_error_set(err, -ENOTSUP,
			"this rowcat cannot recover a '%s'", kind ? kind : "?");
		break;
	}
	if (rc < 0)
		rc_error_prefix(err, "recovering operation %lld (%s): ",
				(long long)op->id, kind ? kind : "?");
	return rc;
}

/* Who holds op, which this process could not claim, for the report. */
static void note_busy(struct catalog *cat, const struct catalog_operation *op,
		      struct ops_recovery *report)
{
	const char *kind = catalog_op_kind_name(op->kind);
	struct rc_error ignored;

	report->busy_op_id = op->id;
	snprintf(report->busy_op_kind, sizeof(report->busy_op_kind), "%s",
		 kind ? kind : "?");
	if (catalog_op_claimed_elsewhere(cat, op->id, report->busy_holder,
					 sizeof(report->busy_holder),
					 &ignored) <= 0)
		snprintf(report->busy_holder, sizeof(report->busy_holder),
			 "another rowcat");
}

/*
 * Settles every running operation, or (volume_id set) those of one volume.
 * An operation a live rowcat has claimed is counted busy, and for one
 * volume it is an error: that volume is busy.
 */
static int recover_where(struct rbd_conn *conn, struct catalog *cat,
			 int64_t volume_id, const char *volume_name,
			 const struct ops_events *ev,
			 struct ops_recovery *report, struct rc_error *err)
{
	struct catalog_operation *ops = NULL;
	struct rc_error one;
	size_t count = 0;
	int rc, first_failure = 0;

	memset(report, 0, sizeof(*report));
	rc = catalog_op_list_running(cat, &ops, &count, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < count; i++) {
		struct catalog_operation *op = &ops[i];

		if (volume_id && op->volume_id != volume_id)
			continue;
		rc_error_clear(&one);
		rc = catalog_op_claim(cat, op->id, &one);
		if (rc < 0 && rc != -EBUSY) {
			/* the lock file failed us: not busy, a failure */
			if (!first_failure) {
				*err = one;
				first_failure = rc;
			}
			continue;
		}
		if (rc < 0) {
			if (report->busy++ == 0)
				note_busy(cat, op, report);
			if (volume_name && !first_failure)
				first_failure = rc_error_set(err, -EBUSY,
					"volume '%s' is busy: operation %lld (%s) "
					"is in progress in %s", volume_name,
					(long long)op->id, report->busy_op_kind,
					report->busy_holder);
			continue;
		}
		/* as it is now that it is ours: its holder may have taken
		 * more steps, or finished, since the list was read */
		rc = catalog_op_get(cat, op->id, op, &one);
		if (rc == 0 && op->state == CATALOG_OP_RUNNING)
			rc = recover_one(conn, cat, op, ev, report, &one);
		catalog_op_release(cat, op->id);
		if (rc < 0 && !first_failure) {
			*err = one;
			first_failure = rc;
		}
	}
	free(ops);
	return first_failure;
}

int ops_recover(struct rbd_conn *conn, struct catalog *cat,
		const struct ops_events *ev,
		struct ops_recovery *report, struct rc_error *err)
{
	return recover_where(conn, cat, 0, NULL, ev, report, err);
}

int ops_volume_has_running(struct catalog *cat, int64_t volume_id,
			   bool *running, struct rc_error *err)
{
	struct catalog_operation *ops = NULL;
	size_t count = 0;
	int rc = catalog_op_list_running(cat, &ops, &count, err);

	*running = false;
	for (size_t i = 0; rc == 0 && i < count; i++)
		*running = *running || ops[i].volume_id == volume_id;
	free(ops);
	return rc;
}

int ops_volume_read_start(struct catalog *cat, const char *name,
			  struct catalog_volume *volume,
			  struct catalog_image *operating, bool *pending,
			  struct rc_error *err)
{
	int rc = catalog_volume_find(cat, name, volume, err);

	if (rc == 0)
		rc = ops_volume_has_running(cat, volume->id, pending, err);
	if (rc == 0)
		rc = catalog_image_get(cat, volume->operating_image_id,
				       operating, err);
	return rc;
}

int ops_recover_volume(struct rbd_conn *conn, struct catalog *cat,
		       const struct catalog_volume *volume,
		       const struct ops_events *ev,
		       struct ops_recovery *report, struct rc_error *err)
{
	return recover_where(conn, cat, volume->id, volume->name, ev, report,
			     err);
}

int ops_interrupted(struct rc_error *err, const char *what, const char *name,
		    int64_t op_id)
{
	if (err->code == -ESHUTDOWN)
		return rc_error_prefix(err, "%s of '%s' stopped: this rowcat "
				       "lost its claim on operation %lld, which "
				       "another host has taken over or can "
				       "('rowcat recover'): ", what, name,
				       (long long)op_id);
	return rc_error_prefix(err, "%s of '%s' interrupted (operation %lld "
			       "stays in the journal; 'rowcat recover' "
			       "finishes it): ", what, name, (long long)op_id);
}
