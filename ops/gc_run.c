/*
 * rowcat gc: carries out a plan from the catalog's planner, leaf first.
 *
 * Every step is an operation of its own, journalled only after a fresh
 * plan made inside the journalling transaction, at the real clock, still
 * holds it:
 *
 *  kind          steps                                         a crash here
 *  ───────────   ──────────────────────────────────────────   ────────────
 *  gc-trash      journalled → the image's id recorded on its   roll forward
 *                row → moved to the trash → ONE TRANSACTION:
 *                image removed_at, operation done
 *  gc-snapshot   journalled → unprotected → removed →          roll forward
 *                ONE TRANSACTION: snapshot removed_at, done
 *  gc-purge      journalled → removed from the trash →         roll forward
 *                ONE TRANSACTION: image purged_at, done
 *
 * Each step looks before it acts (steps.c, trash.c), so doing it again
 * after a crash finishes it; that is why, unlike snap's, these steps are
 * not written to op.step (it stays 'journalled'): recovery always starts
 * over from the first, which finds its work done. Recovery always rolls forward: while a gc
 * operation runs, no snap, restore or flatten of its volume may start and
 * no pin is taken, so what it was journalled to remove is still garbage.
 * A step that finds its image in use (a watcher, a lock) changes nothing
 * and ends rolled-back: the image is kept, and the next run tries again.
 *
 * Steps on different images run side by side (jobs threads, each with its
 * own catalog connection); a step starts once the steps it waits for are
 * done, and is skipped when one of them did not succeed.
 *
 * Failpoints: gc.{journal,identify,trash,unprotect,snap-remove,purge,
 * commit}.{before,after}.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/clock.h"
#include "rowcat/sys/failpoint.h"
#include "internal.h"

/* ---- one step ----------------------------------------------------------- */

static int identify(struct rbd_conn *conn, struct catalog *cat,
		    struct catalog_image *image, struct rc_error *err)
{
	int rc = rbdops_image_id(conn, &image->spec, image->rbd_id, err);

	if (rc == 0)
		rc = catalog_gc_image_identify(cat, image->id, image->rbd_id, err);
	return rc;
}

/* Carries op forward from wherever it stopped; the steps are drawn above. */
static int forward(struct rbd_conn *conn, struct catalog *cat,
		   struct catalog_operation *op, uint64_t *bytes,
		   bool *bytes_known, bool *cluster_done, struct rc_error *err)
{
	struct catalog_image image;
	struct catalog_snapshot snap;
	const char *ref;
	int rc;

	*cluster_done = false;
	*bytes = 0;
	*bytes_known = true;
	rc = catalog_image_get(cat, op->image_id, &image, err);
	if (rc < 0)
		goto out;
	ref = image.removed_at ? image.rbd_id : NULL;
	switch (op->kind) {
	case CATALOG_OP_GC_TRASH: {
		int64_t left = image.trash_until - rc_clock_now();

		if (!image.rbd_id[0])
			OPS_STEP("gc.identify.before", "gc.identify.after",
			     identify(conn, cat, &image, err));
		OPS_STEP("gc.trash.before", "gc.trash.after",
		     rbdops_image_trash(conn, &image.spec, image.rbd_id,
					left > 0 ? left : 0, err));
		break;
	}
	case CATALOG_OP_GC_SNAPSHOT:
		rc = catalog_snapshot_get(cat, op->snapshot_id, &snap, err);
		if (rc < 0)
			goto out;
		OPS_STEP("gc.unprotect.before", "gc.unprotect.after",
		     rbdops_snapshot_unprotect(conn, &image.spec, ref, snap.name,
					       err));
		OPS_STEP("gc.snap-remove.before", "gc.snap-remove.after",
		     rbdops_snapshot_remove(conn, &image.spec, ref, snap.name,
					    err));
		break;
	case CATALOG_OP_GC_PURGE:
		if (!image.rbd_id[0]) {
			rc = rc_error_set(err, -EINVAL, "image %lld went to the "
					  "trash without a recorded id",
					  (long long)image.id);
			goto out;
		}
		OPS_STEP("gc.purge.before", "gc.purge.after",
		     rbdops_trash_purge(conn, &image.spec, image.rbd_id, bytes,
					bytes_known, err));
		break;
	default:
		rc = rc_error_set(err, -ENOTSUP, "'%s' is not a gc operation",
				  catalog_op_kind_name(op->kind));
		goto out;
	}
	*cluster_done = true;
	OPS_STEP("gc.commit.before", "gc.commit.after",
	     catalog_gc_step_finish(cat, op, rc_clock_now(), err));
out:
	return rc;
}

/*
 * Ends op after forward() failed with err: rolled-back when the image was
 * in use (nothing changed), failed for good otherwise. It stays running,
 * for recovery to finish, when the cluster did not answer or when the
 * cluster's side was done and only recording it failed.
 */
static enum ops_gc_outcome end_failed(struct catalog *cat,
				      struct catalog_operation *op,
				      bool cluster_done, struct rc_error *err)
{
	bool busy = err->code == -EBUSY;

	if (cluster_done || rc_error_is_unreachable(err)) {
		rc_error_prefix(err, "operation %lld stays in the journal; "
				"'rowcat recover' finishes it: ",
				(long long)op->id);
		return OPS_GC_FAILED;
	}
	ops_end_failed(cat, op, busy ? CATALOG_OP_ROLLED_BACK : CATALOG_OP_FAILED,
		       err);
	return busy ? OPS_GC_BUSY : OPS_GC_FAILED;
}

int ops_gc_recover(struct rbd_conn *conn, struct catalog *cat,
		   struct catalog_operation *op,
		   struct ops_recovery *report, struct rc_error *err)
{
	uint64_t bytes;
	bool known, cluster_done;
	int rc = forward(conn, cat, op, &bytes, &known, &cluster_done, err);

	if (rc == 0) {
		report->finished++;
		return 0;
	}
	/* settled either way but the first two: the journal holds why */
	switch (end_failed(cat, op, cluster_done, err)) {
	case OPS_GC_BUSY:
		report->undone++;
		rc_error_clear(err);
		return 0;
	case OPS_GC_FAILED:
		if (cluster_done || rc_error_is_unreachable(err))
			return rc;
		report->failed++;
		rc_error_clear(err);
		return 0;
	default:
		return rc;
	}
}

/*
 * Journals and carries out one step of the plan. The fresh plan that must
 * still hold the step is judged at the real clock, whatever time the plan
 * was drawn at: no clock given on a command line ever makes a step go
 * sooner than --min-age and the trash delay allow, and the trash delay
 * recorded runs from the real time of the move.
 */
static enum ops_gc_outcome carry_out(struct rbd_conn *conn,
				     struct catalog *cat,
				     const struct catalog_gc_step *step,
				     const struct catalog_gc_options *opts,
				     struct ops_gc_step_report *r,
				     struct rc_error *err)
{
	struct catalog_gc_options now = *opts;
	struct catalog_operation op;
	enum ops_gc_outcome outcome = OPS_GC_DONE;
	bool cluster_done;
	int rc;

	now.now = rc_clock_now();
	RC_FAILPOINT("gc.journal.before");
	rc = rc_failpoint_error("gc.journal.before")
		? rc_error_set(err, -EIO, "failure injected at gc.journal.before")
		: catalog_gc_step_begin(cat, step, &now, &op, err);
	if (rc == -ESTALE)
		return OPS_GC_SKIPPED;
	if (rc == -EBUSY || rc == -EAGAIN) {
		rc_error_prefix(err, "volume busy: ");
		return OPS_GC_BUSY;
	}
	if (rc < 0)
		return OPS_GC_FAILED;
	RC_FAILPOINT("gc.journal.after");
	if (forward(conn, cat, &op, &r->bytes, &r->bytes_known, &cluster_done,
		    err) < 0) {
		struct catalog_image image;
		struct rc_error lookup = {0};

		outcome = end_failed(cat, &op, cluster_done, err);
		/* after the journal's decision, which a timeout drives; best
		 * effort whatever the lookup answers, since it only adds to
		 * the step's own failure in err */
		if (catalog_image_get(cat, op.image_id, &image, &lookup) == 0)
			rbdops_explain_failure(conn, image.spec.pool,
					       image.spec.ns, err);
	}
	catalog_op_release(cat, op.id);
	return outcome;
}

/* ---- the run: workers taking ready steps -------------------------------- */

enum status { PENDING, RUNNING, FINISHED };

struct gc_run {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct rbd_conn *conn;
	const struct catalog *catalog;    /* each worker opens its own */
	const struct catalog_gc_plan *plan;
	size_t count;                     /* steps to take: the plan, capped */
	const struct ops_gc_options *opts;
	const struct ops_gc_events *ev;
	enum status *status;
	enum ops_gc_outcome *outcome;
	int jobs;                         /* workers */
	size_t first_pending;             /* every step before it has started */
	int64_t *running_images;          /* per worker: its step's image, or 0 */
	struct ops_gc_report *report;
	int first_rc;                     /* of the first failure */
	struct rc_error first_err;
};

#define NO_STEP SIZE_MAX

/* Counts and reports a finished step; call with run->lock held. */
static void finish_step(struct gc_run *run, struct ops_gc_step_report *r,
			int rc, const struct rc_error *err)
{
	struct ops_gc_report *rep = run->report;
	const struct catalog_gc_step *step = r->step;

	run->status[r->index] = FINISHED;
	run->outcome[r->index] = r->outcome;
	switch (r->outcome) {
	case OPS_GC_DONE:
		rep->done++;
		if (step->action == CATALOG_GC_TRASH)
			rep->trashed++;
		else if (step->action == CATALOG_GC_REMOVE_SNAPSHOT)
			rep->snapshots_removed++;
		else
			rep->purged++;
		if (step->action == CATALOG_GC_PURGE && r->bytes_known)
			rep->bytes_freed += r->bytes;
		else if (step->action == CATALOG_GC_PURGE)
			rep->purges_unmeasured++;
		break;
	case OPS_GC_BUSY:
		rep->busy++;
		break;
	case OPS_GC_SKIPPED:
		rep->skipped++;
		break;
	case OPS_GC_FAILED:
		rep->failed++;
		if (!run->first_rc) {
			run->first_rc = rc < 0 ? rc : -EIO;
			run->first_err = *err;
		}
		break;
	}
	if (run->ev && run->ev->step_done)
		run->ev->step_done(run->ev->ctx, r);
}

/* The next step whose waits are over and whose image is not being worked
 * on, or NO_STEP; skips, on the way, steps whose waits failed. Call with
 * run->lock held. */
static size_t take_ready(struct gc_run *run, bool *pending_left)
{
	const struct catalog_gc_plan *plan = run->plan;

	*pending_left = false;
	while (run->first_pending < run->count &&
	       run->status[run->first_pending] != PENDING)
		run->first_pending++;
	for (size_t i = run->first_pending; i < run->count; i++) {
		const struct catalog_gc_step *step = &plan->steps[i];
		bool ready = true, blocked = false, image_busy = false;
		size_t blocker = 0;

		if (run->status[i] != PENDING)
			continue;
		for (size_t d = 0; d < step->dep_count; d++) {
			size_t on = plan->deps[step->first_dep + d];
			if (run->status[on] != FINISHED)
				ready = false;
			else if (run->outcome[on] != OPS_GC_DONE) {
				blocked = true;
				blocker = on;
			}
		}
		if (blocked) {
			struct ops_gc_step_report r = {
				.index = i, .step = step,
				.outcome = OPS_GC_SKIPPED,
			};
			char why[96];
			snprintf(why, sizeof(why), "waits for step %zu, which "
				 "did not succeed", blocker + 1);
			r.message = why;
			finish_step(run, &r, 0, NULL);
			continue;
		}
		*pending_left = true;
		for (int w = 0; ready && w < run->jobs; w++)
			image_busy = image_busy ||
				     run->running_images[w] == step->image_id;
		if (ready && !image_busy) {
			run->status[i] = RUNNING;
			return i;
		}
	}
	return NO_STEP;
}

/* One worker per job, each with its own catalog connection: a
 * connection is one thread's at a time. */
struct worker {
	struct gc_run *run;
	int slot;                         /* its entry in running_images */
};

static void *worker(void *arg)
{
	struct worker *self = arg;
	struct gc_run *run = self->run;
	struct catalog *cat = NULL;
	struct rc_error open_err = {0}, err;
	int open_rc = catalog_reopen(&cat, run->catalog, &open_err);

	pthread_mutex_lock(&run->lock);
	for (;;) {
		bool pending_left, running = false;
		size_t i = take_ready(run, &pending_left);
		struct ops_gc_step_report r = {0};

		if (i == NO_STEP) {
			for (int w = 0; w < run->jobs; w++)
				running = running || run->running_images[w];
			if (!pending_left && !running)
				break;
			pthread_cond_wait(&run->changed, &run->lock);
			continue;
		}
		run->running_images[self->slot] = run->plan->steps[i].image_id;
		pthread_mutex_unlock(&run->lock);
		r.index = i;
		r.step = &run->plan->steps[i];
		err = open_err;
		if (open_rc < 0)
			r.outcome = OPS_GC_FAILED;
		else
			r.outcome = carry_out(run->conn, cat, r.step,
					      &run->opts->plan, &r, &err);
		if (r.outcome != OPS_GC_DONE)
			r.message = err.message;
		pthread_mutex_lock(&run->lock);
		run->running_images[self->slot] = 0;
		finish_step(run, &r, err.code, &err);
		pthread_cond_broadcast(&run->changed);
	}
	pthread_cond_broadcast(&run->changed);
	pthread_mutex_unlock(&run->lock);
	catalog_close(cat);
	return NULL;
}

int ops_gc_run(struct rbd_conn *conn, struct catalog *cat,
	       const struct catalog_gc_plan *plan, size_t max_steps,
	       const struct ops_gc_options *opts,
	       const struct ops_gc_events *ev,
	       struct ops_gc_report *report, struct rc_error *err)
{
	struct gc_run run = {
		.conn = conn, .catalog = cat, .plan = plan,
		.count = max_steps && max_steps < plan->count ? max_steps
							       : plan->count,
		.opts = opts, .ev = ev, .report = report,
	};
	struct worker *workers = NULL;
	pthread_t *threads = NULL;
	int started = 0, rc = 0;

	memset(report, 0, sizeof(*report));
	if (run.count == 0)
		return 0;
	run.jobs = opts->jobs > 0 ? opts->jobs : 1;
	if ((size_t)run.jobs > run.count)
		run.jobs = (int)run.count;
	run.status = calloc(run.count, sizeof(*run.status));
	run.outcome = calloc(run.count, sizeof(*run.outcome));
	run.running_images = calloc((size_t)run.jobs, sizeof(*run.running_images));
	threads = calloc((size_t)run.jobs, sizeof(*threads));
	workers = calloc((size_t)run.jobs, sizeof(*workers));
	if (!run.status || !run.outcome || !run.running_images || !threads ||
	    !workers) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.changed, NULL);
	for (; started < run.jobs; started++) {
		workers[started] = (struct worker){ &run, started };
		if (pthread_create(&threads[started], NULL, worker,
				   &workers[started]) != 0)
			break;
	}
	if (started == 0)
		rc = rc_error_set(err, -EAGAIN, "cannot start a gc thread");
	for (int t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_cond_destroy(&run.changed);
	pthread_mutex_destroy(&run.lock);
	if (rc == 0 && run.first_rc < 0) {
		*err = run.first_err;
		rc = run.first_rc;
		if (!rc_error_is_unreachable(err))
			rc_error_prefix(err, "%zu of %zu gc steps failed; the "
					"first: ", report->failed, run.count);
	}
out:
	free(workers);
	free(threads);
	free(run.running_images);
	free(run.status);
	free(run.outcome);
	return rc;
}
