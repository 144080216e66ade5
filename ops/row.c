/*
 * rowcat snap and rowcat restore: the redirect-on-write operations.
 *
 * Both take a snapshot of the operating image and switch the volume to a
 * new clone; they differ in what is cloned. snap clones the snapshot it
 * just took; restore takes a safety snapshot ("pre-restore") and clones the
 * snapshot the user chose.
 *
 *  step (op.step)      on Ceph after it                       a crash here
 *  ───────────────     ──────────────────────────────────     ─────────────
 *  target-chosen       nothing                                 roll back
 *     │  (journalled with it, in one transaction: the clone's name,
 *     │  VOL.rcN, N = the op's id, or VOL.rcN-K when the catalog or,
 *     │  asked next, the cluster has an image of it that is not ours,
 *     │  which is then journalled in a transaction of its own)
 *     │  snapshot create NAME on the operating image
 *     │  protect it         the snapshot: the point in time is     roll forward
 *     │  (restore) protect  taken, so from here the operation is
 *     │  the chosen one     finished, never undone, by recovery
 *     │  look at the target (a half-made clone of ours goes)
 *  cloning             perhaps a half-made clone               roll forward
 *     │  clone the snapshot to clone into the target, then tag the
 *     │  clone (metadata rowcat.operation = the op's tag)
 *     │  ONE TRANSACTION: the snapshot row, the clone row, the
 *     │  operating image switched, the operation done
 *  done ──▶ the switch hook runs (its failure never undoes the switch)
 *
 * A step is recorded only where recovery needs it (each record is a
 * transaction, and a catalog in RADOS takes its lock for each): what
 * recovery does after the snapshot is decided by the cluster (the
 * snapshot exists: roll forward), and only `cloning` changes what a look
 * at the target means. The steps snapshot-created, protected and cloned
 * are those an older rowcat recorded; recovery reads them as before.
 *
 * Every step looks first: a snapshot of our name is ours; a clone at the
 * target is ours when it carries our tag, or its parent is our snapshot,
 * or, once the journal says the clone was started, it has neither tag nor
 * parent (a clone killed between creating the child and attaching it to
 * the parent leaves exactly that; one killed before librbd wrote the
 * child's header leaves a name that `rbd ls` lists and nothing opens,
 * which counts the same). Before that step, a parentless image
 * at the target is someone else's. A clone of ours that is not
 * complete (no parent, or not listed among the parent's clones) is removed
 * and made again: nothing has been written to it, since the volume has
 * not been switched to it. An image at the target that is not ours is
 * never touched.
 *
 * Undo (a live failure that waiting will not cure, or a roll-forward that
 * cannot complete): remove our clone, unprotect and remove the snapshot,
 * end the operation 'failed'. A cluster that does not answer leaves the
 * operation 'running' for `rowcat recover`.
 *
 * Failpoints: row.{journal,target,snapshot,protect,source-protect,
 * clone-cleanup,cloning-step,clone,tag,commit,
 * undo-clone,undo-unprotect,undo-snapshot,undo-commit}.{before,after}.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rowcat/clock.h"
#include "rowcat/sys/failpoint.h"
#include "internal.h"

/* Records step unless the operation is already past it (the steps of
 * enum catalog_op_step are in the order drawn above). */
static int advance(struct catalog *cat, struct catalog_operation *op,
		   enum catalog_op_step step, struct rc_error *err)
{
	if (op->step >= step)
		return 0;
	return catalog_op_set_step(cat, op, step, err);
}

/* What an operation works on, read from the catalog. */
struct row_plan {
	struct catalog_volume volume;
	struct catalog_image operating;  /* the image that gets the snapshot */
	bool is_restore;
	struct catalog_snapshot chosen;  /* restore: the snapshot restored */
	struct catalog_image chosen_image;
	/* the snapshot cloned: snap's new one, or restore's chosen one */
	const struct rc_image_spec *clone_from;
	const char *clone_from_snapshot;
	/* cloning answered EEXIST: whatever is at the target is not ours */
	bool target_foreign;
	/* the target was journalled with the operation, and the cluster not
	 * yet asked whether it has an image of that name */
	bool target_unchecked;
	int new_depth; /* the clone's depth, read as it was committed */
};

static int load_plan(struct catalog *cat, const struct catalog_operation *op,
		     struct row_plan *plan, struct rc_error *err)
{
	int rc;

	memset(plan, 0, sizeof(*plan));
	plan->is_restore = op->kind == CATALOG_OP_RESTORE;
	rc = catalog_volume_get(cat, op->volume_id, &plan->volume, err);
	if (rc == 0)
		rc = catalog_image_get(cat, op->image_id, &plan->operating, err);
	if (rc < 0)
		return rc;
	plan->clone_from = &plan->operating.spec;
	plan->clone_from_snapshot = op->target_snapshot;
	if (!plan->is_restore)
		return 0;
	rc = catalog_snapshot_get(cat, op->snapshot_id, &plan->chosen, err);
	if (rc == 0)
		rc = catalog_image_get(cat, plan->chosen.image_id,
				       &plan->chosen_image, err);
	plan->clone_from = &plan->chosen_image.spec;
	plan->clone_from_snapshot = plan->chosen.name;
	return rc;
}

bool ops_is_clone_name(const char *volume, const char *name)
{
	size_t n = strlen(volume);
	const char *p;

	if (strncmp(name, volume, n) != 0 || strncmp(name + n, ".rc", 3) != 0)
		return false;
	p = name + n + 3;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '-') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* The k-th name op's clone may take: VOL.rcN, then VOL.rcN-K. */
static int clone_name(const struct catalog_operation *op,
		      const struct row_plan *plan, int k,
		      struct rc_image_spec *target, struct rc_error *err)
{
	int n;

	*target = plan->operating.spec;
	n = k == 1
		? snprintf(target->name, sizeof(target->name), "%s.rc%lld",
			   plan->volume.name, (long long)op->id)
		: snprintf(target->name, sizeof(target->name), "%s.rc%lld-%d",
			   plan->volume.name, (long long)op->id, k);
	if (n < 0 || (size_t)n >= sizeof(target->name))
		return rc_error_set(err, -ENAMETOOLONG,
			"volume name '%s' is too long to name its clones",
			plan->volume.name);
	return 0;
}

/*
 * catalog_op_begin_then's records for a snap or restore, in the
 * journalling transaction: the plan (ctx), and the clone's name, the
 * first the catalog does not know, with the step target-chosen. Whether
 * the cluster has an image of that name is asked after the commit
 * (choose_target), out of any transaction.
 */
static int journal_target(struct catalog *cat, struct catalog_operation *op,
			  void *ctx, struct rc_error *err)
{
	struct row_plan *plan = ctx;
	struct rc_image_spec target;
	struct catalog_image known;
	int rc = load_plan(cat, op, plan, err);

	for (int k = 1; rc == 0 && k <= RC_CLONE_NAME_TRIES; k++) {
		rc = clone_name(op, plan, k, &target, err);
		if (rc == 0)
			rc = catalog_image_find(cat, &target, &known, err);
		if (rc == -ENOENT) {
			rc_error_clear(err);
			op->target = target;
			rc = catalog_op_write_target(cat, op, err);
			if (rc == 0)
				rc = catalog_op_write_step(cat, op,
					CATALOG_STEP_TARGET_CHOSEN, err);
			if (rc == 0) {
				op->step = CATALOG_STEP_TARGET_CHOSEN;
				plan->target_unchecked = true;
			}
			return rc;
		}
	}
	return rc < 0 ? rc : rc_error_set(err, -EEXIST,
		"every clone name for operation %lld is taken",
		(long long)op->id);
}

/* Settles the clone's name against the cluster: the one journalled with
 * the operation when no image has it, else the first of VOL.rcN,
 * VOL.rcN-2, ... that neither the cluster nor the catalog knows,
 * journalled (as for an operation journalled without one). */
static int choose_target(struct rbd_conn *conn, struct catalog *cat,
			 struct catalog_operation *op, struct row_plan *plan,
			 struct rc_error *err)
{
	struct rc_image_spec target;
	struct catalog_image known;
	bool exists = true;
	int rc = 0;

	if (op->target.name[0]) {
		rc = rbdops_image_exists(conn, &op->target, &exists, err);
		if (rc < 0)
			return rc;
		plan->target_unchecked = false;
		if (!exists)
			return 0;
	}
	for (int k = 1; exists && k <= RC_CLONE_NAME_TRIES; k++) {
		rc = clone_name(op, plan, k, &target, err);
		if (rc == 0)
			rc = rbdops_image_exists(conn, &target, &exists, err);
		if (rc < 0)
			return rc;
		if (exists)
			continue;
		rc = catalog_image_find(cat, &target, &known, err);
		if (rc == 0)
			exists = true;
		else if (rc != -ENOENT)
			return rc;
		rc_error_clear(err);
	}
	if (exists)
		return rc_error_set(err, -EEXIST,
			"every clone name for operation %lld is taken",
			(long long)op->id);
	op->target = target;
	OPS_STEP("row.target.before", "row.target.after",
	     catalog_op_set_target(cat, op, err));
	rc = advance(cat, op, CATALOG_STEP_TARGET_CHOSEN, err);
out:
	return rc;
}

/* What is at the operation's target on the cluster. */
struct target_state {
	bool exists, ours, complete;
};

static int inspect_target(struct rbd_conn *conn,
			  const struct catalog_operation *op,
			  const struct row_plan *plan, struct target_state *out,
			  struct rc_error *err)
{
	struct rbdops_image_facts facts;
	struct rbdops_parent parent;
	char tag[64];
	bool parent_ours, listed = false, headerless = false;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rbdops_image_facts(conn, &op->target, &facts, err);
	if (rc == 0 && !facts.exists)
		rc = rbdops_image_name_taken(conn, &op->target, &headerless, err);
	if (rc < 0 || (!facts.exists && !headerless))
		return rc;
	out->exists = true;
	if (headerless) {
		/* a clone killed before librbd wrote its header: no tag, no
		 * parent, the clone's own once the journal says it began */
		out->ours = op->step >= CATALOG_STEP_CLONING &&
			    !plan->target_foreign;
		return 0;
	}
	rc = rbdops_image_parent(conn, &op->target, &parent, err);
	if (rc < 0)
		return rc;
	ops_owner_tag(op, tag, sizeof(tag));
	parent_ours = rbdops_parent_is(&parent, plan->clone_from,
				       plan->clone_from_snapshot);
	out->ours = strcmp(facts.owner, tag) == 0 || parent_ours ||
		    (facts.owner[0] == '\0' && !parent.has_parent &&
		     op->step >= CATALOG_STEP_CLONING &&
		     !plan->target_foreign);
	if (!out->ours || !parent_ours)
		return 0;
	rc = rbdops_is_child_of(conn, plan->clone_from, plan->clone_from_snapshot,
				&op->target, &listed, err);
	out->complete = rc == 0 && listed;
	return rc;
}

/* paused_ms: how long a live snap paused its guest; -1: not measured.
 * A snap between hooks commits the switch at consumer-switched, not done:
 * its hooks are still to run (switched_only). */
static int commit_rows(struct catalog *cat, struct catalog_operation *op,
		       struct row_plan *plan, int64_t paused_ms,
		       bool switched_only, struct rc_error *err)
{
	int64_t snapshot_id = 0, clone_id = 0;
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	rc = catalog_snapshot_insert(cat, plan->operating.id, op->target_snapshot,
				     op->origin, true, op->started_at,
				     &snapshot_id, err);
	if (rc == 0 && op->policy_at)
		rc = catalog_snapshot_set_policy_at(cat, snapshot_id,
						    op->policy_at, err);
	if (rc == 0 && plan->is_restore)
		rc = catalog_snapshot_set_protected(cat, plan->chosen.id, true, err);
	if (rc == 0)
		rc = catalog_clone_insert(cat, plan->volume.id, &op->target,
					  plan->is_restore ? plan->chosen.id
							   : snapshot_id,
					  op->started_at, &clone_id, err);
	if (rc == 0)
		rc = catalog_volume_set_operating(cat, plan->volume.id, clone_id,
						  err);
	/* for the depth warning, read here rather than after the commit */
	if (rc == 0)
		rc = catalog_image_depth(cat, clone_id, &plan->new_depth, err);
	if (rc == 0 && paused_ms >= 0)
		rc = catalog_op_set_paused(cat, op, paused_ms, err);
	if (rc == 0 && switched_only)
		rc = catalog_op_write_step(cat, op, CATALOG_STEP_SWITCHED, err);
	if (rc < 0) {
		catalog_rollback(cat);
		return rc;
	}
	if (!switched_only)
		return catalog_op_finish(cat, op, CATALOG_OP_DONE, NULL,
					 rc_clock_now(), err);
	rc = catalog_commit(cat, err);
	if (rc < 0)
		catalog_rollback(cat);
	else
		op->step = CATALOG_STEP_SWITCHED;
	return rc;
}

static int commit(struct catalog *cat, struct catalog_operation *op,
		  struct row_plan *plan, int64_t paused_ms,
		  struct rc_error *err)
{
	return commit_rows(cat, op, plan, paused_ms, false, err);
}

/* Clones into the target; an image that took the name meanwhile is
 * someone else's, and is marked so that undo leaves it alone. */
static int clone_target(struct rbd_conn *conn, struct catalog_operation *op,
			struct row_plan *plan, struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	int rc = rbdops_clone(conn, plan->clone_from, plan->clone_from_snapshot,
			      &op->target, err);

	if (rc == -EEXIST) {
		plan->target_foreign = true;
		rc_image_spec_format(&op->target, text, sizeof(text));
		rc = rc_error_set(err, -EEXIST, "image %s appeared on the cluster "
				  "and is not rowcat's; it is left alone", text);
	}
	return rc;
}

/* Between the steps of a live snap: stops at the first step after its
 * watchdog released the guest. */
#define LIVE_CHECK(live)						   \
	do {								   \
		if ((live) && (rc = ops_live_check((live), err)) < 0)	   \
			goto out;					   \
	} while (0)

/* Tags op's clone as its own work (metadata rowcat.operation). */
static int tag_clone(struct rbd_conn *conn, const struct catalog_operation *op,
		     struct rc_error *err)
{
	char tag[64];

	ops_owner_tag(op, tag, sizeof(tag));
	/* on the header: an open would read the clone's whole parent chain */
	return rbdops_image_tag_unopened(conn, &op->target, RBDOPS_OWNER_KEY,
					 tag, err);
}

/*
 * Takes the snapshot and makes the clone, tagged unless live, from
 * wherever op stands. With live, it stops as soon as the guest was
 * released, and spares the paused guest what can wait: a failpoint
 * between snapshot and protect, and the tag, written once the guest runs
 * (a complete clone is known as ours by its parent).
 */
static int take_and_clone(struct rbd_conn *conn, struct catalog *cat,
			  struct catalog_operation *op, struct row_plan *plan,
			  struct ops_live *live, struct rc_error *err)
{
	const struct rc_image_spec *operating = &plan->operating.spec;
	struct target_state target;
	bool is_protected;
	int rc = 0;

	/* Only the snapshot create opens the operating image (writable),
	 * and closes it before its failpoint: a writable handle held across
	 * one would leave, in a killed rowcat, a watch (and maybe the
	 * exclusive lock) that makes the next snap see a client for 30 s.
	 * The protect goes on the image's header, with no open (every open
	 * reads the whole parent chain). */
	if (live) {
		OPS_STEP("row.snapshot.before", "row.snapshot.after",
		     rbdops_snapshot_take(conn, operating, op->target_snapshot,
					  err));
		LIVE_CHECK(live);
	} else {
		OPS_STEP("row.snapshot.before", "row.snapshot.after",
		     rbdops_snapshot_create(conn, operating, op->target_snapshot,
					    err));
		OPS_STEP("row.protect.before", "row.protect.after",
		     rbdops_snapshot_protect(conn, operating,
					     op->target_snapshot, err));
	}
	if (plan->is_restore) {
		rc = rbdops_snapshot_is_protected(conn, plan->clone_from,
						  plan->clone_from_snapshot,
						  &is_protected, err);
		if (rc < 0)
			goto out;
		if (!is_protected)
			OPS_STEP("row.source-protect.before", "row.source-protect.after",
			     rbdops_snapshot_protect(conn, plan->clone_from,
						     plan->clone_from_snapshot, err));
	}

	rc = inspect_target(conn, op, plan, &target, err);
	if (rc < 0)
		goto out;
	if (target.exists && !target.ours) {
		char text[RC_SPEC_MAX];
		rc_image_spec_format(&op->target, text, sizeof(text));
		rc = rc_error_set(err, -EEXIST, "image %s appeared on the cluster "
				  "and is not rowcat's; it is left alone", text);
		goto out;
	}
	if (target.exists && !target.complete)
		OPS_STEP("row.clone-cleanup.before", "row.clone-cleanup.after",
		     rbdops_image_remove(conn, &op->target, err));
	/* The first step recorded since the target: recovery finds the
	 * snapshot and its protection on the cluster, whatever the journal
	 * says, but only this record makes an untagged image at the target
	 * the clone's own, so it lands after the look above and before the
	 * clone. */
	OPS_STEP("row.cloning-step.before", "row.cloning-step.after",
	     advance(cat, op, CATALOG_STEP_CLONING, err));
	if (!target.complete)
		OPS_STEP("row.clone.before", "row.clone.after",
			 clone_target(conn, op, plan, err));
	LIVE_CHECK(live);
	if (!live)
		OPS_STEP("row.tag.before", "row.tag.after",
			 tag_clone(conn, op, err));
	LIVE_CHECK(live);
out:
	return rc;
}

/* Carries op forward from wherever it stands to done. */
static int forward(struct rbd_conn *conn, struct catalog *cat,
		   struct catalog_operation *op, struct row_plan *plan,
		   struct rc_error *err)
{
	int rc = 0;

	if ((plan->target_unchecked || !op->target.name[0]) &&
	    (rc = choose_target(conn, cat, op, plan, err)) < 0)
		goto out;
	if (op->step < CATALOG_STEP_SWITCHED)
		rc = take_and_clone(conn, cat, op, plan, NULL, err);
	else /* a live snap, its guest switched: the tag may be missing */
		OPS_STEP("row.tag.before", "row.tag.after",
			 tag_clone(conn, op, err));
	if (rc < 0)
		goto out;
	OPS_STEP("row.commit.before", "row.commit.after",
		 commit(cat, op, plan, -1, err));
out:
	return rc;
}

/* Ends op with state and why, recording what undo leaves behind. */
static int end_undone(struct rbd_conn *conn, struct catalog *cat,
		      struct catalog_operation *op, const struct row_plan *plan,
		      enum catalog_op_state state, const char *why,
		      struct rc_error *err)
{
	bool source_protected = false;
	int rc = 0;

	/* restore may have protected the chosen snapshot: keep the catalog
	 * telling the truth about it */
	if (plan->is_restore)
		rc = rbdops_snapshot_is_protected(conn, plan->clone_from,
						  plan->clone_from_snapshot,
						  &source_protected, err);
	if (rc < 0)
		return rc;
	rc = catalog_begin(cat, err);
	if (rc < 0)
		return rc;
	if (plan->is_restore && source_protected)
		rc = catalog_snapshot_set_protected(cat, plan->chosen.id, true, err);
	if (rc < 0) {
		catalog_rollback(cat);
		return rc;
	}
	return catalog_op_finish(cat, op, state, why, rc_clock_now(), err);
}

/* Takes away whatever op made, then ends it with state and why. */
static int undo(struct rbd_conn *conn, struct catalog *cat,
		struct catalog_operation *op, const struct row_plan *plan,
		enum catalog_op_state state, const char *why,
		struct rc_error *err)
{
	const struct rc_image_spec *operating = &plan->operating.spec;
	struct target_state target = {0};
	bool snapshot_exists = false;
	int rc = 0;

	if (op->target.name[0] &&
	    (rc = inspect_target(conn, op, plan, &target, err)) < 0)
		goto out;
	if (target.exists && target.ours)
		OPS_STEP("row.undo-clone.before", "row.undo-clone.after",
		     rbdops_image_remove(conn, &op->target, err));
	rc = rbdops_snapshot_exists(conn, operating, op->target_snapshot,
				    &snapshot_exists, err);
	if (rc < 0)
		goto out;
	if (snapshot_exists) {
		OPS_STEP("row.undo-unprotect.before", "row.undo-unprotect.after",
		     rbdops_snapshot_unprotect(conn, operating, NULL,
					       op->target_snapshot, err));
		OPS_STEP("row.undo-snapshot.before", "row.undo-snapshot.after",
		     rbdops_snapshot_remove(conn, operating, NULL,
					    op->target_snapshot,
					    err));
	}
	OPS_STEP("row.undo-commit.before", "row.undo-commit.after",
	     end_undone(conn, cat, op, plan, state, why, err));
out:
	return rc;
}

bool ops_is_transient(const struct rc_error *err)
{
	return rc_error_is_unreachable(err) || err->code == -EBUSY ||
	       err->code == -EAGAIN || err->code == -EINTR;
}

/*
 * Carries op forward; when that fails for good, undoes it (ended 'failed'
 * with the reason) and returns the original failure. *undone tells which.
 */
static int forward_or_undo(struct rbd_conn *conn, struct catalog *cat,
			   struct catalog_operation *op,
			   struct row_plan *plan, bool *undone,
			   struct rc_error *err)
{
	struct rc_error undo_err = {0};
	int rc;

	*undone = false;
	rc = forward(conn, cat, op, plan, err);
	/* a guest runs on the clone from consumer-switched on: never undone */
	if (rc == 0 || ops_is_transient(err) || op->state != CATALOG_OP_RUNNING ||
	    op->step >= CATALOG_STEP_SWITCHED)
		return rc;
	if (undo(conn, cat, op, plan, CATALOG_OP_FAILED, err->message,
		 &undo_err) == 0) {
		*undone = true;
		rc_error_prefix(err, "nothing was changed: ");
	} else if (strcmp(undo_err.message, err->message) != 0) {
		/* (a refusal that undo met again, such as a catalog that
		 * cannot be written, is said once) */
		rc_error_prefix(err, "%s; undoing it failed too (%s); 'rowcat "
				"recover' retries: ", catalog_op_kind_name(op->kind),
				undo_err.message);
	}
	return rc;
}

int ops_notify_switch(const struct ops_events *ev, const char *volume,
		      const struct rc_image_spec *old_image,
		      const struct rc_image_spec *new_image,
		      struct rc_error *err)
{
	if (!ev || !ev->switched)
		return 0;
	return ev->switched(ev->ctx, volume, old_image, new_image, err);
}

/* The storage node a live snap adds for its clone. */
static void live_node_name(const struct catalog_operation *op, char *buf,
			   size_t len)
{
	snprintf(buf, len, "rowcat-op%lld", (long long)op->id);
}

/*
 * Recovery of a live snap that may have paused its guest. The guest's disk
 * says how far it got: reading the clone, the snap rolls forward (the old
 * node goes, the guest resumes, the catalog commits); reading the image it
 * had, or gone with the switch not journalled, it rolls back (a new node
 * goes, the guest resumes, the snapshot and clone are removed). A guest
 * that never ran on the clone wrote nothing to it: rowcat resumes it only
 * once the switch is journalled, so rolling back loses nothing.
 */
static int live_recover(struct rbd_conn *conn, struct catalog *cat,
			struct catalog_operation *op, struct row_plan *plan,
			const struct ops_events *ev,
			struct ops_recovery *report, struct rc_error *err)
{
	struct ops_live *live = NULL;
	char node[CATALOG_NODE_MAX];
	bool on_clone = false;
	int rc;

	live_node_name(op, node, sizeof(node));
	rc = ops_live_reattach(op, &live, err);
	if (rc == 0 && live)
		rc = ops_live_reads(live, node, &on_clone, err);
	if (rc < 0)
		goto out;
	if (live)
		ops_live_recovered(live, on_clone ||
				   op->step >= CATALOG_STEP_SWITCHED, node);
	if (on_clone || op->step >= CATALOG_STEP_SWITCHED) {
		rc = advance(cat, op, CATALOG_STEP_SWITCHED, err);
		if (rc == 0 && live)
			rc = ops_live_resume(live, err);
		if (rc == 0)
			rc = forward(conn, cat, op, plan, err);
		if (rc == 0) {
			report->finished++;
			rc = ops_notify_switch(ev, plan->volume.name,
					       &plan->operating.spec,
					       &op->target, err);
		}
		goto out;
	}
	if (live && (rc = ops_live_abort(live, err)) < 0)
		goto out;
	rc = undo(conn, cat, op, plan, CATALOG_OP_ROLLED_BACK,
		  live ? "interrupted before its guest's disk was switched; "
			 "the guest runs on the image it was using"
		       : "interrupted before its guest's disk was switched, "
			 "and the guest is gone", err);
	if (rc == 0)
		report->undone++;
out:
	ops_live_close(live);
	return rc;
}

/*
 * A snap between the operator's hooks, for a consumer that is not QEMU
 * (krbd or rbd-nbd under device-mapper, a script): the consumer is frozen
 * for the snapshot, and thawed once the catalog is switched and the
 * switch hook has repointed it. No write can be stranded: while frozen
 * the consumer writes nothing, and it is thawed on the old image only if
 * the switch never committed.
 *
 *  step (op.step)      the consumer                 a crash here: recover
 *  ───────────────     ─────────────────────────    ──────────────────────
 *  target-chosen       running                      rolls back
 *     │  record consumer 'hooks' with the thaw and switch commands
 *  pausing             frozen, or about to be       thaws, rolls back
 *     │  the freeze hook (it fails: the thaw hook at once, then undo)
 *     │  snapshot and protect, clone, then the tag
 *  cloning             frozen                       thaws, rolls back
 *     │  ONE TRANSACTION: the rows, the operating image switched
 *  consumer-switched   frozen; the catalog names    switch hook, thaw,
 *     │                the clone                    done
 *     │  the switch hook (its failure: the switch stands), the thaw hook
 *     │  (always), done with the pause
 *  done                thawed
 *
 * Until the commit the watchdog bounds the window: past the pause
 * timeout, or on SIGINT/SIGTERM, it runs the thaw at once and the snap
 * undoes itself. A crash after the thaw and before `done` runs the switch
 * and thaw hooks again in recovery; a thaw after a failure records that it
 * ran (consumer.resume cleared), so that recovery does not run it twice.
 * Failpoints: row.{freeze,switch-hook,thaw,hooks-done}.{before,after},
 * and row.{consumer,pausing-step,commit} as above.
 */

/* Ends a snap between hooks 'done', with how long it froze its consumer. */
static int finish_done(struct catalog *cat, struct catalog_operation *op,
		       int64_t paused_ms, struct rc_error *err)
{
	int rc = catalog_begin(cat, err);

	if (rc == 0 && paused_ms >= 0)
		rc = catalog_op_set_paused(cat, op, paused_ms, err);
	if (rc < 0) {
		catalog_rollback(cat);
		return rc;
	}
	return catalog_op_finish(cat, op, CATALOG_OP_DONE, NULL, rc_clock_now(),
				 err);
}

/* After the catalog switch: the switch and thaw hooks, then done whatever
 * they answered (the switch stands); their failure is returned. */
static int hooks_finish(struct catalog *cat, struct catalog_operation *op,
			struct ops_live *live, struct rc_error *err)
{
	struct rc_error hooks_err = {0};
	int hooks_rc = ops_live_resume(live, &hooks_err);
	int rc = 0;

	OPS_STEP("row.hooks-done.before", "row.hooks-done.after",
		 finish_done(cat, op, ops_live_paused_ms(live), err));
	if (hooks_rc < 0) {
		*err = hooks_err;
		rc = hooks_rc;
	}
out:
	return rc;
}

/* Records that op's thaw ran (after a failure), so recovery does not run
 * it again; a failure to record it only means that recovery will. */
static void thawed(struct catalog *cat, struct catalog_operation *op)
{
	struct rc_error ignored = {0};

	op->consumer.resume = false;
	catalog_op_set_consumer(cat, op, &ignored);
}

static int hooks_forward(struct rbd_conn *conn, struct catalog *cat,
			 struct catalog_operation *op, struct row_plan *plan,
			 const struct ops_row_options *opts,
			 const struct ops_events *ev, int64_t pause_timeout_ms,
			 struct ops_live **live, struct rc_error *err)
{
	bool frozen = false;
	int rc = 0;

	if ((plan->target_unchecked || !op->target.name[0]) &&
	    (rc = choose_target(conn, cat, op, plan, err)) < 0)
		goto out;
	rc = ops_live_open_hooks(ev, plan->volume.name, opts,
				 &plan->operating.spec, &op->target, live, err);
	if (rc < 0)
		goto out;
	snprintf(op->consumer.where, sizeof(op->consumer.where), "%s",
		 CATALOG_CONSUMER_HOOKS);
	snprintf(op->consumer.thaw, sizeof(op->consumer.thaw), "%s",
		 opts->on_thaw);
	snprintf(op->consumer.switch_cmd, sizeof(op->consumer.switch_cmd), "%s",
		 opts->on_switch ? opts->on_switch : "");
	op->consumer.resume = true; /* a freeze may run from here */
	OPS_STEP("row.consumer.before", "row.consumer.after",
		 catalog_op_set_consumer(cat, op, err));
	OPS_STEP("row.pausing-step.before", "row.pausing-step.after",
		 advance(cat, op, CATALOG_STEP_PAUSING, err));
	OPS_STEP("row.freeze.before", "row.freeze.after",
		 ops_live_pause(*live, pause_timeout_ms, &frozen, err));
	rc = take_and_clone(conn, cat, op, plan, *live, err);
	if (rc < 0)
		goto out;
	/* before the catalog switch: after it, nothing would write it */
	OPS_STEP("row.tag.before", "row.tag.after", tag_clone(conn, op, err));
	rc = ops_live_hold(*live, err);
	if (rc < 0)
		goto out;
	OPS_STEP("row.commit.before", "row.commit.after",
		 commit_rows(cat, op, plan, -1, true, err));
	rc = hooks_finish(cat, op, *live, err);
out:
	return rc;
}

/*
 * A snap between hooks that failed: before the catalog switch, the
 * consumer is thawed (if the freeze began) and the snap undone; from the
 * switch on, the switch stands and the hooks have run (a journal that
 * could not record `done` is left for recover).
 */
static int hooks_forward_or_undo(struct rbd_conn *conn, struct catalog *cat,
				 struct catalog_operation *op,
				 struct row_plan *plan,
				 const struct ops_row_options *opts,
				 const struct ops_events *ev,
				 int64_t pause_timeout_ms, struct ops_live **live,
				 bool *undone, struct rc_error *err)
{
	struct rc_error undo_err = {0};
	char thaw_failed[RC_ERROR_MESSAGE_MAX / 2] = "";
	bool was_frozen;
	int rc;

	*undone = false;
	rc = hooks_forward(conn, cat, op, plan, opts, ev, pause_timeout_ms,
			   live, err);
	if (rc == 0 || op->state != CATALOG_OP_RUNNING ||
	    op->step >= CATALOG_STEP_SWITCHED)
		return rc;
	was_frozen = op->consumer.resume;
	if (*live && ops_live_abort(*live, &undo_err) < 0)
		snprintf(thaw_failed, sizeof(thaw_failed), "%.*s; ",
			 (int)sizeof(thaw_failed) - 3, undo_err.message);
	if (was_frozen)
		thawed(cat, op);
	rc_error_clear(&undo_err);
	if (undo(conn, cat, op, plan, CATALOG_OP_FAILED, err->message,
		 &undo_err) == 0) {
		*undone = true;
		rc_error_prefix(err, "%snothing was changed%s: ", thaw_failed,
				was_frozen ? ", and the consumer was thawed on "
					     "the image it was using" : "");
	} else {
		rc_error_prefix(err, "%ssnap undone only in part (%s); 'rowcat "
				"recover' finishes the undo: ", thaw_failed,
				undo_err.message);
	}
	return rc;
}

/*
 * Recovery of a snap between hooks that may have frozen its consumer (it
 * reached pausing): switched in the catalog, it runs the recorded switch
 * and thaw hooks and ends done; before that, it runs the thaw (unless one
 * already ran) and rolls back.
 */
static int hooks_recover(struct rbd_conn *conn, struct catalog *cat,
			 struct catalog_operation *op, struct row_plan *plan,
			 const struct ops_events *ev,
			 struct ops_recovery *report, struct rc_error *err)
{
	struct ops_live *live = NULL;
	bool was_frozen = op->consumer.resume;
	int rc = ops_live_reattach_hooks(op, ev, plan->volume.name,
					 &plan->operating.spec, &live, err);

	if (rc < 0)
		goto out;
	if (op->step >= CATALOG_STEP_SWITCHED) {
		rc = hooks_finish(cat, op, live, err);
		if (op->state == CATALOG_OP_DONE)
			report->finished++;
		goto out;
	}
	if (was_frozen) {
		rc = ops_live_abort(live, err);
		thawed(cat, op);
		/* the thaw ran, whatever it answered: the undo goes on */
		if (rc < 0)
			rc_error_clear(err);
	}
	rc = undo(conn, cat, op, plan, CATALOG_OP_ROLLED_BACK,
		  was_frozen ? "interrupted before the catalog switch; its "
			       "consumer was thawed on the image it was using"
			     : "interrupted before the catalog switch, with "
			       "its consumer's thaw already run", err);
	if (rc == 0)
		report->undone++;
out:
	ops_live_close(live);
	return rc;
}

int ops_row_recover(struct rbd_conn *conn, struct catalog *cat,
		    struct catalog_operation *op,
		    const struct ops_events *ev,
		    struct ops_recovery *report, struct rc_error *err)
{
	struct row_plan plan;
	bool taken = false, undone = false;
	int rc;

	rc = load_plan(cat, op, &plan, err);
	if (rc < 0)
		return rc;
	if (strcmp(op->consumer.where, CATALOG_CONSUMER_HOOKS) == 0 &&
	    op->step >= CATALOG_STEP_PAUSING)
		return hooks_recover(conn, cat, op, &plan, ev, report, err);
	if (op->consumer.where[0] && op->step >= CATALOG_STEP_PAUSING)
		return live_recover(conn, cat, op, &plan, ev, report, err);
	if (op->target.name[0])
		rc = rbdops_snapshot_exists(conn, &plan.operating.spec,
					    op->target_snapshot, &taken, err);
	if (rc < 0)
		return rc;
	if (!taken) {
		/* No point in time to keep: as if it never ran. Either it
		 * was never taken, or an undo removed it and then could not
		 * record its end (a full disk); the step tells which, when
		 * it was written. */
		rc = undo(conn, cat, op, &plan, CATALOG_OP_ROLLED_BACK,
			  op->step >= CATALOG_STEP_SNAPSHOT_CREATED
			  ? "its snapshot, recorded as taken, is gone from the "
			    "cluster (removed by an undo that could not record "
			    "its end, or by hand)"
			  : "interrupted before its snapshot was recorded; "
			    "none is on the cluster", err);
		if (rc == 0)
			report->undone++;
		return rc;
	}
	rc = forward_or_undo(conn, cat, op, &plan, &undone, err);
	if (rc < 0 && undone) {
		/* settled: the journal holds why it failed */
		report->failed++;
		rc_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	report->finished++;
	return ops_notify_switch(ev, plan.volume.name, &plan.operating.spec,
				 &op->target, err);
}

/* ---- the commands ------------------------------------------------------- */

/* The default snapshot name: the UTC time, then -2, -3... when taken. The
 * policy clock's time, so that a rehearsal names each snapshot after the
 * slot it stands for (the row records the real time). */
static void default_name(char *buf, size_t len, const char *prefix, int k)
{
	char stamp[RC_ISO_TIME_MAX];
	int64_t now = rc_clock_policy_now();
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (k <= 1)
		snprintf(buf, len, "%s%s", prefix, stamp);
	else
		snprintf(buf, len, "%s%s-%d", prefix, stamp, k);
}

/* Whether `name` is free for a new snapshot of volume on its operating
 * image: unknown to the catalog and absent from the cluster. */
static int name_free(struct rbd_conn *conn, struct catalog *cat,
		     const struct catalog_volume *volume,
		     const struct catalog_image *operating, const char *name,
		     bool *is_free, struct rc_error *err)
{
	struct catalog_snapshot existing;
	bool on_cluster = false;
	int rc;

	*is_free = false;
	rc = catalog_snapshot_find(cat, volume->id, name, &existing, err);
	if (rc != -ENOENT)
		return rc; /* 0: the catalog has it, so it is not free */
	rc_error_clear(err);
	rc = rbdops_snapshot_exists(conn, &operating->spec, name, &on_cluster, err);
	*is_free = rc == 0 && !on_cluster;
	return rc;
}

/* The refusal of a snapshot name the volume already has. */
static int name_taken(const struct catalog_volume *volume,
		      const struct catalog_image *operating, const char *name,
		      struct rc_error *err)
{
	char text[RC_SPEC_MAX];

	rc_image_spec_format(&operating->spec, text, sizeof(text));
	return rc_error_set(err, -EEXIST, "volume '%s' already has a snapshot "
			    "named '%s' (in the catalog or on %s)", volume->name,
			    name, text);
}

/* Settles a name for the new snapshot: the user's, checked, or a default
 * one with `prefix` that is free. */
static int pick_snapshot_name(struct rbd_conn *conn, struct catalog *cat,
			      const struct catalog_volume *volume,
			      const struct catalog_image *operating,
			      const char *wanted, const char *prefix,
			      char out[RC_NAME_MAX], struct rc_error *err)
{
	bool is_free = false;
	int rc;

	if (wanted) {
		rc = name_free(conn, cat, volume, operating, wanted, &is_free, err);
		if (rc < 0)
			return rc;
		if (!is_free)
			return name_taken(volume, operating, wanted, err);
		snprintf(out, RC_NAME_MAX, "%s", wanted);
		return 0;
	}
	for (int k = 1; k <= 100 && !is_free; k++) {
		default_name(out, RC_NAME_MAX, prefix, k);
		rc = name_free(conn, cat, volume, operating, out, &is_free, err);
		if (rc < 0)
			return rc;
	}
	return is_free ? 0 : rc_error_set(err, -EEXIST,
		"no free snapshot name for volume '%s'", volume->name);
}

/*
 * What snap and restore read before they journal, in one read
 * transaction: the volume, its operating image, restore's chosen
 * snapshot, and the new snapshot's name as far as the catalog decides it
 * (pick_snapshot_name asks the cluster afterwards). *pending: an
 * operation of the volume is running (recovery first, or the journal
 * refuses). Seen together, none of it can be another rowcat's half-done
 * work: no operation of the volume runs, and this is its operating image.
 */
static int read_start(struct catalog *cat, bool is_restore,
		      const char *volume_name, const char *name,
		      const char *prefix, struct catalog_volume *volume,
		      struct catalog_image *operating,
		      struct catalog_snapshot *chosen, char snapshot[RC_NAME_MAX],
		      bool *pending, struct rc_error *err)
{
	struct catalog_snapshot existing;
	int rc = catalog_read_begin(cat, err);

	*pending = false;
	if (rc < 0)
		return rc;
	rc = ops_volume_read_start(cat, volume_name, volume, operating,
				   pending, err);
	if (rc == 0 && is_restore)
		rc = catalog_snapshot_find(cat, volume->id, name, chosen, err);
	if (rc < 0)
		goto out;
	if (!is_restore && name) {
		rc = catalog_snapshot_find(cat, volume->id, name, &existing, err);
		if (rc == 0)
			rc = name_taken(volume, operating, name, err);
		else if (rc == -ENOENT)
			snprintf(snapshot, RC_NAME_MAX, "%s", name);
	} else {
		/* 0: the catalog has the name; the first it has not, -ENOENT */
		for (int k = 1; k <= 100 && rc == 0; k++) {
			default_name(snapshot, RC_NAME_MAX, prefix, k);
			rc = catalog_snapshot_find(cat, volume->id, snapshot,
						   &existing, err);
		}
		if (rc == 0)
			rc = rc_error_set(err, -EEXIST, "no free snapshot name "
					  "for volume '%s'", volume->name);
	}
	if (rc == -ENOENT) {
		rc_error_clear(err);
		rc = 0;
	}
out:
	catalog_read_end(cat);
	return rc;
}

/*
 * A live snap: the snapshot is taken while the guest is paused, and the
 * guest's disk reads the clone before the guest runs again.
 *
 *  step (op.step)      the guest                    a crash here: recover
 *  ───────────────     ─────────────────────────    ──────────────────────
 *  target-chosen       running                      rolls back
 *     │  record the consumer (where, format node, storage node)
 *     │  stop the guest (QEMU drains its I/O)
 *  pausing             paused, or about to be       resumes it, rolls back
 *     │  snapshot and protect (one open of the image), clone
 *  cloning             paused                       resumes it, rolls back
 *     │  blockdev-add the clone, blockdev-reopen the format node onto it
 *  (switched)          paused, reading the clone    rolls forward
 *  consumer-switched   paused, reading the clone    rolls forward
 *     │  blockdev-del the old node, cont
 *     │  tag the clone (a complete clone is ours by its parent: the
 *     │  tag waits until the guest runs), commit, as above
 *  done                running on the clone
 *
 * recover asks the guest's QEMU which node its disk reads, since a crash
 * between the reopen and its journal entry leaves the journal behind.
 * Failpoints: row.{consumer,pausing-step,pause,switch,switched-step,
 * resume}.{before,after}, and the snap's own.
 */
static int live_forward(struct rbd_conn *conn, struct catalog *cat,
			struct catalog_operation *op, struct row_plan *plan,
			struct ops_live *live, int64_t pause_timeout_ms,
			struct rc_error *err)
{
	char node[CATALOG_NODE_MAX];
	bool stopped = false;
	int rc = 0;

	if ((plan->target_unchecked || !op->target.name[0]) &&
	    (rc = choose_target(conn, cat, op, plan, err)) < 0)
		goto out;
	snprintf(op->consumer.format_node, sizeof(op->consumer.format_node),
		 "%s", ops_live_format_node(live));
	snprintf(op->consumer.storage_node, sizeof(op->consumer.storage_node),
		 "%s", ops_live_storage_node(live));
	op->consumer.resume = true; /* until it is known that rowcat did not
				       pause it */
	OPS_STEP("row.consumer.before", "row.consumer.after",
		 catalog_op_set_consumer(cat, op, err));
	OPS_STEP("row.pausing-step.before", "row.pausing-step.after",
		 advance(cat, op, CATALOG_STEP_PAUSING, err));
	OPS_STEP("row.pause.before", "row.pause.after",
		 ops_live_pause(live, pause_timeout_ms, &stopped, err));
	if (!stopped) {
		/* paused by someone else, and left so: not rowcat's to resume */
		op->consumer.resume = false;
		rc = catalog_op_set_consumer(cat, op, err);
		if (rc < 0)
			goto out;
	}
	rc = take_and_clone(conn, cat, op, plan, live, err);
	if (rc < 0)
		goto out;
	live_node_name(op, node, sizeof(node));
	OPS_STEP("row.switch.before", "row.switch.after",
		 ops_live_switch(live, &op->target, node, err));
	OPS_STEP("row.switched-step.before", "row.switched-step.after",
		 advance(cat, op, CATALOG_STEP_SWITCHED, err));
	OPS_STEP("row.resume.before", "row.resume.after",
		 ops_live_resume(live, err));
	OPS_STEP("row.tag.before", "row.tag.after", tag_clone(conn, op, err));
	OPS_STEP("row.commit.before", "row.commit.after",
		 commit(cat, op, plan, ops_live_paused_ms(live), err));
out:
	return rc;
}

/*
 * A live snap that failed: before the switch, the guest resumes on the
 * image it was using and the snap is undone; from the switch on, it is
 * left for recover to finish (the guest reads the clone).
 */
static int live_forward_or_undo(struct rbd_conn *conn, struct catalog *cat,
				struct catalog_operation *op,
				struct row_plan *plan, struct ops_live *live,
				int64_t pause_timeout_ms, bool *undone,
				struct rc_error *err)
{
	struct rc_error undo_err = {0};
	int rc;

	*undone = false;
	rc = live_forward(conn, cat, op, plan, live, pause_timeout_ms, err);
	if (rc == 0 || op->state != CATALOG_OP_RUNNING)
		return rc;
	if (op->step >= CATALOG_STEP_SWITCHED) {
		if (ops_live_paused_ms(live) < 0 && op->consumer.resume)
			rc_error_prefix(err, "its guest reads the clone but is "
					"still paused; ");
		return rc;
	}
	if (ops_live_abort(live, &undo_err) < 0) {
		rc_error_prefix(err, "its guest could not be resumed (%s); ",
				undo_err.message);
		return rc;
	}
	if (undo(conn, cat, op, plan, CATALOG_OP_FAILED, err->message,
		 &undo_err) == 0) {
		*undone = true;
		rc_error_prefix(err, "nothing was changed, and the guest runs on "
				"as it did: ");
	} else {
		rc_error_prefix(err, "snap undone only in part (%s); the guest "
				"runs on the image it was using; 'rowcat "
				"recover' finishes the undo: ", undo_err.message);
	}
	return rc;
}

/*
 * Reaches the consumer a snap switches: the options' own, else the one
 * recorded for the volume; *live stays NULL when there is none. A recorded
 * one that no QEMU listens at is a guest that is not running: the snap
 * goes on as any other (the rule of attached volumes still applies), and
 * `absent` says why, for a refusal to mention.
 */
static int open_consumer(const struct ops_row_options *opts,
			 const struct catalog_volume *volume,
			 const struct catalog_image *operating, bool is_restore,
			 struct ops_live **live, char *absent, size_t absent_len,
			 struct rc_error *err)
{
	bool recorded = !(opts && opts->consumer);
	const char *where = recorded ? volume->consumer : opts->consumer;
	int rc;

	*live = NULL;
	absent[0] = '\0';
	if (is_restore || !where[0])
		return 0;
	rc = ops_live_open(where, &operating->spec, live, err);
	if (recorded && (rc == -ENOENT || rc == -ECONNREFUSED)) {
		snprintf(absent, absent_len, "%.*s", (int)absent_len - 1,
			 err->message);
		rc_error_clear(err);
		rc = 0;
	}
	return rc;
}

/*
 * Refuses (in use: exit 3) a snap through the consumer recorded for the
 * volume when that consumer runs on another host: its monitor is that
 * host's to reach (a socket path here would be another QEMU's, or none),
 * and a snap without it would strand the guest's writes in the old image.
 * A consumer given for this snap (opts->consumer) is one the operator
 * says runs here. Restore never goes through the consumer: a running
 * guest's watch refuses it from any host.
 */
static int refuse_consumer_elsewhere(const struct catalog_volume *volume,
				     const struct ops_row_options *opts,
				     bool is_restore, struct rc_error *err)
{
	char host[RC_HOST_MAX];

	if (is_restore || (opts && opts->consumer) ||
	    !ops_consumer_elsewhere(volume, host))
		return 0;
	return rc_error_in_use(err, "%s's consumer runs on host %s (%s); snap "
			       "it there, or, if its guest runs there no more, "
			       "record where it runs now ('rowcat consumer %s "
			       "ADDRESS' on its host) or forget it ('rowcat "
			       "consumer %s --clear')", volume->name, host,
			       volume->consumer, volume->name, volume->name);
}

/* The shared path of snap and restore: check, journal, carry out. */
static int row_run(struct rbd_conn *conn, struct catalog *cat, bool is_restore,
		   const char *volume_name, const char *name, const char *origin,
		   const struct ops_row_options *opts,
		   const struct ops_events *ev, struct ops_result *result,
		   struct rc_error *err)
{
	struct catalog_operation op;
	struct catalog_volume volume;
	struct catalog_snapshot chosen = {0};
	struct ops_recovery recovery;
	struct ops_live *live = NULL;
	const char *prefix = is_restore ? "pre-restore-" : "";
	char absent[RC_ERROR_MESSAGE_MAX / 2];
	struct row_plan plan;
	int64_t pause_timeout_ms = opts && opts->pause_timeout_ms > 0
		? opts->pause_timeout_ms : OPS_PAUSE_TIMEOUT_MS;
	bool hooks = !is_restore && opts && opts->on_freeze;
	bool undone = false, recovered = false;
	int rc, attempt = 0;

	memset(result, 0, sizeof(*result));
	result->paused_ms = -1;
	do { /* again when another rowcat switched the volume meanwhile */
		struct catalog_image operating;
		bool on_cluster = false, pending;

		memset(&op, 0, sizeof(op));
		ops_live_close(live);
		live = NULL;
		absent[0] = '\0';
		rc = read_start(cat, is_restore, volume_name, name, prefix,
				&volume, &operating, &chosen, op.target_snapshot,
				&pending, err);
		/* before recovery too: a live snap left unfinished there is
		 * its host's to settle, with the guest it paused */
		if (rc == 0 && !hooks)
			rc = refuse_consumer_elsewhere(&volume, opts, is_restore,
						       err);
		if (rc == 0 && pending && !recovered) {
			/* once: an operation that still runs after it is the
			 * journal's to refuse */
			recovered = true;
			rc = ops_recover_volume(conn, cat, &volume, ev,
						&recovery, err);
			if (rc == 0)
				rc = read_start(cat, is_restore, volume_name,
						name, prefix, &volume, &operating,
						&chosen, op.target_snapshot,
						&pending, err);
		}
		if (rc == 0 && opts && opts->expect_operating_image_id &&
		    volume.operating_image_id != opts->expect_operating_image_id)
			rc = rc_error_set(err, -ESTALE, "volume '%s' switched to "
					  "another operating image since this "
					  "snap was decided", volume.name);
		/* the looks before the journal open nothing (an open reads
		 * the image's whole parent chain): the name on the image's
		 * header, the clients by a notify on it (rbdops/clients.c) */
		if (rc == 0)
			rc = rbdops_snapshot_exists(conn, &operating.spec,
						    op.target_snapshot,
						    &on_cluster, err);
		if (rc == 0 && on_cluster)
			rc = pick_snapshot_name(conn, cat, &volume, &operating,
						is_restore ? NULL : name, prefix,
						op.target_snapshot, err);
		/* after recovery, which may have switched the volume: the
		 * image checked is the one the snapshot is taken of; with a
		 * consumer, its guest is the client, switched by the snap */
		if (rc == 0 && hooks && volume.consumer[0])
			rc = rc_error_set(err, -EINVAL, "volume '%s' has a QEMU "
				"consumer recorded (%s), whose snaps pause the "
				"guest over QMP; the freeze and thaw hooks are "
				"for other consumers: give no hooks, or forget "
				"it ('rowcat consumer %s --clear')", volume.name,
				volume.consumer, volume.name);
		else if (rc == 0 && !hooks)
			rc = refuse_consumer_elsewhere(&volume, opts, is_restore,
						       err);
		if (rc == 0 && !hooks)
			rc = open_consumer(opts, &volume, &operating, is_restore,
					   &live, absent, sizeof(absent), err);
		/* between hooks, the clients are the consumer they freeze */
		if (rc == 0 && !live && !hooks)
			rc = ops_row_check_clients(conn, cat, &volume,
						   &operating, is_restore,
						   opts, op.clients_ignored,
						   sizeof(op.clients_ignored),
						   err);
		if (rc < 0 && err->in_use && absent[0])
			rc_error_prefix(err, "(the QEMU monitor recorded for it "
					"does not answer: %s) ", absent);
		if (rc < 0)
			goto out;
		op.kind = is_restore ? CATALOG_OP_RESTORE : CATALOG_OP_SNAP;
		snprintf(op.origin, sizeof(op.origin), "%s",
			 is_restore ? "pre-restore" : origin);
		op.volume_id = volume.id;
		op.image_id = operating.id;
		op.snapshot_id = chosen.id;
		op.requires_operating = true;
		op.started_at = rc_clock_now();
		RC_FAILPOINT("row.journal.before");
		rc = catalog_op_begin_then(cat, &op, journal_target, &plan, err);
	} while (rc == -ESTALE && ++attempt < 5);
	if (rc == -EBUSY)
		rc_error_prefix(err, "volume '%s' is busy: ", volume_name);
	if (rc < 0)
		goto out;
	RC_FAILPOINT("row.journal.after");

	if (hooks) {
		rc = hooks_forward_or_undo(conn, cat, &op, &plan, opts, ev,
					   pause_timeout_ms, &live, &undone,
					   err);
		result->paused_ms = live ? ops_live_paused_ms(live) : -1;
		result->frozen = true;
	} else if (live) {
		snprintf(op.consumer.where, sizeof(op.consumer.where), "%s",
			 opts && opts->consumer ? opts->consumer : volume.consumer);
		rc = live_forward_or_undo(conn, cat, &op, &plan, live,
					  pause_timeout_ms, &undone, err);
		result->paused_ms = ops_live_paused_ms(live);
	} else {
		rc = forward_or_undo(conn, cat, &op, &plan, &undone, err);
	}
	if (rc < 0 && !undone && op.state == CATALOG_OP_RUNNING)
		ops_interrupted(err, catalog_op_kind_name(op.kind), volume_name,
				op.id);
	catalog_op_release(cat, op.id);
	if (op.state == CATALOG_OP_DONE) {
		snprintf(result->snapshot, sizeof(result->snapshot), "%s",
			 op.target_snapshot);
		result->old_image = plan.operating.spec;
		result->new_image = op.target;
		result->depth = plan.new_depth;
	}
	/* between hooks, the switch hook ran inside the window */
	if (rc < 0 || hooks)
		goto out;
	rc = ops_notify_switch(ev, volume.name, &plan.operating.spec,
			       &op.target, err);
out:
	ops_live_close(live);
	return rc;
}

int ops_volume_snap(struct rbd_conn *conn, struct catalog *cat,
		    const char *volume, const char *snapshot,
		    const char *origin, const struct ops_row_options *opts,
		    const struct ops_events *ev,
		    struct ops_result *result, struct rc_error *err)
{
	int rc = row_run(conn, cat, false, volume, snapshot,
			 origin ? origin : "manual", opts, ev, result, err);

	return rc < 0 ? ops_explain_volume_failure(conn, cat, volume, err) : rc;
}

int ops_volume_restore(struct rbd_conn *conn, struct catalog *cat,
		       const char *volume, const char *snapshot,
		       const struct ops_row_options *opts,
		       const struct ops_events *ev,
		       struct ops_result *result, struct rc_error *err)
{
	int rc = row_run(conn, cat, true, volume, snapshot, "pre-restore", opts,
			 ev, result, err);

	return rc < 0 ? ops_explain_volume_failure(conn, cat, volume, err) : rc;
}
