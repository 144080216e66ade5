/*
 * A gc job: the pipeline that rowcat gc runs on every volume and policy
 * run --gc on the volumes it manages, written once:
 *
 *   job lock → cluster → recovery → gc state → plan → planned → run
 *
 * The lock comes first, so that a refused run neither connects nor
 * recovers; recovery comes before the state is loaded, so that no
 * half-done operation stands in the plan's way. A dry run is the plan
 * alone. The steps themselves are gc_run.c's.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* Adds to *plan the plan of one volume's state, or (volume_id 0) of
 * every volume's, streamed: the whole catalog's rows are never held. */
static int add_plan(struct catalog *cat, int64_t volume_id,
		    const struct catalog_gc_options *opts,
		    struct catalog_gc_plan *plan, struct rc_error *err)
{
	struct catalog_gc_state state = {0};
	struct catalog_gc_plan one = {0};
	int rc = volume_id ? catalog_gc_state_load(cat, volume_id, &state, err)
			   : catalog_gc_plan_catalog(cat, opts, &one, err);

	if (rc == 0 && volume_id)
		rc = catalog_gc_plan(&state, opts, &one, err);
	if (rc == 0)
		rc = catalog_gc_plan_append(plan, &one, err);
	catalog_gc_plan_free(&one);
	catalog_gc_state_free(&state);
	return rc;
}

/* Every volume: one recovery of the whole journal, one plan. */
static int plan_every_volume(struct rbd_conn *conn, struct catalog *cat,
			     const struct ops_gc_job_options *opts,
			     const struct ops_gc_job_events *ev,
			     struct catalog_gc_plan *plan, struct rc_error *err)
{
	struct ops_recovery recovered = {0};
	int rc = 0;

	if (!opts->dry_run) {
		rc = ops_recover(conn, cat, ev ? ev->ops : NULL, &recovered, err);
		if (rc < 0)
			return rc_error_prefix(err, "recovering before gc: ");
		if (ev && ev->recovered)
			ev->recovered(ev->ctx, &recovered);
	}
	return add_plan(cat, 0, &opts->gc.plan, plan, err);
}

/* Adds the plan of one volume to *plan, after settling what a crash left
 * of it; -EBUSY while a live rowcat works on the volume. */
static int plan_volume(struct rbd_conn *conn, struct catalog *cat,
		       const struct catalog_volume *volume,
		       const struct ops_gc_job_options *opts,
		       const struct ops_gc_job_events *ev,
		       struct ops_recovery *recovered,
		       struct catalog_gc_plan *plan, struct rc_error *err)
{
	struct ops_recovery settled = {0};
	int rc = 0;

	if (!opts->dry_run) {
		rc = ops_recover_volume(conn, cat, volume, ev ? ev->ops : NULL,
					&settled, err);
		recovered->finished += settled.finished;
		recovered->undone += settled.undone;
		recovered->failed += settled.failed;
		recovered->busy += settled.busy;
	}
	if (rc < 0)
		return rc;
	return add_plan(cat, volume->id, &opts->gc.plan, plan, err);
}

/* The listed volumes, each as it is now: the caller may have changed it. */
static int plan_volumes(struct rbd_conn *conn, struct catalog *cat,
			const struct ops_gc_scope *scope,
			const struct ops_gc_job_options *opts,
			const struct ops_gc_job_events *ev,
			struct catalog_gc_plan *plan, struct rc_error *err)
{
	struct ops_recovery recovered = {0};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < scope->volume_count; i++) {
		struct catalog_volume volume;

		rc = catalog_volume_get(cat, scope->volume_ids[i], &volume, err);
		if (rc < 0 || volume.marked_at)
			continue; /* a catalog that fails here is no busy volume */
		rc = plan_volume(conn, cat, &volume, opts, ev, &recovered, plan,
				 err);
		/* another rowcat is working on it: the next run collects */
		if (rc == -EBUSY) {
			rc_error_clear(err);
			rc = 0;
		}
	}
	if (rc == 0 && !opts->dry_run && ev && ev->recovered)
		ev->recovered(ev->ctx, &recovered);
	return rc;
}

int ops_gc_job(struct rbd_conn *conn, struct catalog *cat,
	       const struct ops_gc_scope *scope,
	       const struct ops_gc_job_options *opts,
	       const struct ops_gc_job_events *ev,
	       struct ops_gc_job_report *report, struct rc_error *err)
{
	struct catalog_gc_plan plan = {0};
	struct ops_gc_events steps = { ev ? ev->step_done : NULL,
				       ev ? ev->ctx : NULL };
	size_t count;
	int rc = 0;

	memset(report, 0, sizeof(*report));
	if (!opts->dry_run) {
		rc = catalog_job_lock(cat, CATALOG_JOB_GC, err);
		report->locked = rc == 0;
	}
	if (rc == 0 && !opts->dry_run && !conn) {
		rc = ev && ev->connect ? ev->connect(ev->ctx, &conn, err)
			: rc_error_set(err, -EINVAL, "gc: no cluster connection");
	}
	if (rc == 0)
		rc = scope->every_volume
			? plan_every_volume(conn, cat, opts, ev, &plan, err)
			: plan_volumes(conn, cat, scope, opts, ev, &plan, err);
	if (rc < 0)
		goto out;
	report->waiting = plan.waiting;
	count = opts->max_steps && opts->max_steps < plan.count
		? opts->max_steps : plan.count;
	if (ev && ev->planned && (rc = ev->planned(ev->ctx, &plan, count, err)) < 0)
		goto out;
	if (opts->dry_run)
		goto out;
	report->ran = true;
	rc = ops_gc_run(conn, cat, &plan, count, &opts->gc, &steps,
			&report->run, err);
out:
	catalog_gc_plan_free(&plan);
	return rc;
}
