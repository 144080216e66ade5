/*
 * The policy engine: for every volume a policy manages, flatten when the
 * depth limit asks for it, take the ROW snapshot that is due, and mark for
 * collection what retention no longer keeps.
 *
 * Volumes are worked on side by side (jobs threads, each with its own
 * catalog connection, all sharing one cluster connection): a snapshot
 * create waits for a monitor proposal round, and creates that run at once
 * share rounds. Deep volumes run fewer at a time: their opens are the
 * work (OPS_POLICY_LEVELS_AT_ONCE). Each volume's work is the journalled operations of snap
 * and flatten, so a crash anywhere leaves what `rowcat recover` (or the
 * next run) settles; retention's marks are one catalog transaction.
 *
 * Failpoints: policy.expire.{before,after}, around retention's marks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/clock.h"
#include "internal.h"

struct run {
	struct rbd_conn *conn;
	const struct catalog *catalog;    /* each worker opens its own */
	const struct ops_policy_volume *vols;
	size_t count;
	struct ops_policy_result *results;
	int64_t now;                    /* when the run started, by the
					   policy clock */
	const struct ops_policy_events *ev;
	const struct ops_row_options *row_opts; /* each snapshot's */
	struct ops_events op_events;    /* each volume's operations' */
	pthread_mutex_t lock;
	size_t next;                    /* the next volume to take */
	/* the levels budget (see OPS_POLICY_LEVELS_AT_ONCE): volumes start
	 * in their order, each once its levels fit beside those in flight */
	pthread_cond_t levels_freed;
	size_t admitted;                /* volumes started so far */
	int levels;                     /* levels of the volumes in flight */
	int levels_max;
};

int64_t ops_policy_last_snapshot(const struct catalog_lineage *lineage,
				 const struct policy *p)
{
	char origin[POLICY_ORIGIN_MAX];
	int64_t last = 0;

	policy_origin(p, origin);
	for (size_t i = 0; i < lineage->snapshot_count; i++) {
		const struct catalog_snapshot *s = &lineage->snapshots[i];

		/* the volume's own: an image it reads through may be another
		 * volume's, with snapshots of a policy of the same name */
		if (strcmp(s->origin, origin) == 0 &&
		    catalog_lineage_owns_snapshot(lineage, s) &&
		    catalog_snapshot_policy_time(s) > last)
			last = catalog_snapshot_policy_time(s);
	}
	return last;
}

/* ---- one volume ---------------------------------------------------------- */

int ops_policy_retention(const struct policy *p,
			 const struct catalog_snapshot *snaps, size_t n,
			 int64_t also_id, bool *weighed, bool *kept,
			 struct policy_retention *why, struct rc_error *err)
{
	struct policy_snapshot *weigh = NULL;
	struct policy_retention *weigh_why = NULL;
	size_t *at = NULL;
	bool *weigh_kept = NULL;
	char origin[POLICY_ORIGIN_MAX];
	size_t m = 0;
	int rc = 0;

	policy_origin(p, origin);
	weigh = calloc(n + 1, sizeof(*weigh));
	weigh_kept = calloc(n + 1, sizeof(*weigh_kept));
	at = calloc(n + 1, sizeof(*at));
	if (why)
		weigh_why = calloc(n + 1, sizeof(*weigh_why));
	if (!weigh || !weigh_kept || !at || (why && !weigh_why)) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* what retention weighs: p's own snapshots not on their way out;
	 * pinned ones count like the rest, and are never marked */
	for (size_t i = 0; i < n; i++) {
		const struct catalog_snapshot *s = &snaps[i];

		weighed[i] = (strcmp(s->origin, origin) == 0 &&
			      !s->marked_at && !s->removed_at) ||
			     (also_id && s->id == also_id);
		kept[i] = true;
		if (!weighed[i])
			continue;
		weigh[m] = (struct policy_snapshot){
			s->id, catalog_snapshot_policy_time(s) };
		at[m++] = i;
	}
	rc = weigh_why
		? policy_retain_explain(&p->keep, weigh, m, weigh_kept,
					weigh_why, err)
		: policy_retain(&p->keep, weigh, m, weigh_kept, err);
	if (rc < 0)
		goto out;
	for (size_t j = 0; j < m; j++) {
		kept[at[j]] = weigh_kept[j];
		if (why) {
			why[at[j]] = weigh_why[j];
			/* held_by in the caller's array, as the rest */
			for (int k = 0; k < POLICY_BUCKET_KINDS; k++)
				why[at[j]].bucket[k].held_by =
					at[weigh_why[j].bucket[k].held_by];
		}
	}
out:
	free(weigh_why);
	free(weigh_kept);
	free(at);
	free(weigh);
	return rc;
}

/* Marks what retention no longer keeps of p's snapshots of volume. */
static int expire(struct catalog *cat, const struct catalog_volume *volume,
		  const struct policy *p, size_t *expired, struct rc_error *err)
{
	struct catalog_lineage *lineage = NULL;
	struct catalog_snapshot *own = NULL;
	int64_t *drop = NULL;
	bool *weighed = NULL, *kept = NULL;
	char origin[POLICY_ORIGIN_MAX];
	size_t n = 0, n_drop = 0;
	int rc;

	*expired = 0;
	if (!p->keep.given)
		return 0;
	policy_origin(p, origin);
	rc = catalog_lineage_load(&lineage, cat, volume, err);
	if (rc < 0)
		goto out;
	weighed = calloc(lineage->snapshot_count + 1, sizeof(*weighed));
	kept = calloc(lineage->snapshot_count + 1, sizeof(*kept));
	drop = calloc(lineage->snapshot_count + 1, sizeof(*drop));
	own = calloc(lineage->snapshot_count + 1, sizeof(*own));
	if (!weighed || !kept || !drop || !own) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* the volume's own: an image it reads through may be another
	 * volume's, with snapshots of a policy of the same name, which are
	 * that volume's to weigh */
	for (size_t i = 0; i < lineage->snapshot_count; i++)
		if (catalog_lineage_owns_snapshot(lineage, &lineage->snapshots[i]))
			own[n++] = lineage->snapshots[i];
	rc = ops_policy_retention(p, own, n, 0, weighed, kept, NULL, err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (weighed[i] && !kept[i])
			drop[n_drop++] = own[i].id;
	}
	if (n_drop) {
		RC_FAILPOINT("policy.expire.before");
		rc = catalog_snapshots_expire(cat, volume->id, origin, drop, n_drop,
					      rc_clock_now(), expired, err);
		RC_FAILPOINT("policy.expire.after");
	}
out:
	free(own);
	free(drop);
	free(kept);
	free(weighed);
	catalog_lineage_free(lineage);
	return rc;
}

/* Whether p's snapshot of volume is due at now, by the catalog. */
static int read_due(struct catalog *cat, const struct catalog_volume *volume,
		    const struct policy *p, int64_t now, bool *due,
		    struct rc_error *err)
{
	struct catalog_lineage *lineage = NULL;
	int rc = catalog_lineage_load(&lineage, cat, volume, err);

	if (rc == 0)
		rc = policy_is_due(p, ops_policy_last_snapshot(lineage, p), now,
				   due, err);
	catalog_lineage_free(lineage);
	return rc;
}

/* What apply decides from, in one read transaction: the volume, whether
 * a snapshot is due, its operating image's depth, and whether an
 * operation of it is running (recovery first). */
static int read_volume(struct catalog *cat, const char *name,
		       const struct policy *p, int64_t now,
		       struct catalog_volume *volume, bool *due, int *depth,
		       bool *pending, struct rc_error *err)
{
	int rc = catalog_read_begin(cat, err);

	if (rc < 0)
		return rc;
	rc = catalog_volume_find(cat, name, volume, err);
	if (rc == 0 && !volume->marked_at)
		rc = read_due(cat, volume, p, now, due, err);
	if (rc == 0 && !volume->marked_at)
		rc = catalog_image_depth(cat, volume->operating_image_id, depth,
					 err);
	if (rc == 0 && !volume->marked_at)
		rc = ops_volume_has_running(cat, volume->id, pending, err);
	catalog_read_end(cat);
	return rc;
}

/* Whether a snap or flatten that failed with rc was refused because
 * `rowcat rm` marked the volume after apply read it: then the volume is
 * left alone, as one marked before the run is. A volume that cannot be
 * read again (gone, or any error) is not known to be removed: the
 * operation's own failure stands. */
static bool removed_meanwhile(struct catalog *cat, const char *name, int rc)
{
	struct catalog_volume volume;
	struct rc_error ignored = {0};

	return rc == -EPERM &&
	       catalog_volume_find(cat, name, &volume, &ignored) == 0 &&
	       volume.marked_at;
}

/*
 * Takes p's due snapshot of volume, unless another run takes it first.
 * Two runs (of two hosts, each taking the detached volumes) may both read
 * a slot as due; the journal lets one snap of the volume run at a time
 * (the other is busy), and this snap is journalled only while the
 * operating image is still the one the slot was read against: a snap
 * the other run committed meanwhile switched it, so the volume is read
 * again, and the slot is no longer due (r->due cleared, nothing taken).
 * A switch that took no slot of p's (a manual snap, a restore) leaves it
 * due, and the snap is tried again on the new operating image.
 */
static int snap_if_still_due(struct run *run, struct catalog *cat,
			     struct catalog_volume *volume,
			     const struct policy *p, const char *origin,
			     struct ops_result *done,
			     struct ops_policy_result *r, struct rc_error *err)
{
	struct ops_row_options opts = {0};
	int rc, attempt = 0;

	if (run->row_opts)
		opts = *run->row_opts;
	for (;;) {
		memset(done, 0, sizeof(*done));
		opts.expect_operating_image_id = volume->operating_image_id;
		rc = ops_volume_snap(run->conn, cat, volume->name, NULL, origin,
				     &opts, &run->op_events, done, err);
		if (rc != -ESTALE || done->new_image.name[0] || ++attempt >= 5)
			return rc;
		rc_error_clear(err);
		rc = catalog_volume_find(cat, volume->name, volume, err);
		if (rc == 0)
			rc = read_due(cat, volume, p, run->now, &r->due, err);
		if (rc < 0 || !r->due)
			return rc;
	}
}

/* The policy's work on one volume; the result says what was done. */
static int apply(struct run *run, struct catalog *cat,
		 const struct ops_policy_volume *v, struct ops_policy_result *r,
		 struct rc_error *err)
{
	const struct policy *p = v->policy;
	const char *name = v->summary.volume.name;
	const struct ops_events *ev = &run->op_events;
	struct ops_recovery recovered = {0};
	struct catalog_volume volume;
	struct ops_result done;
	struct rc_error hook_err = {0};
	char origin[POLICY_ORIGIN_MAX];
	bool pending = false;
	int depth = 0, hook_rc = 0, rc;

	policy_origin(p, origin);
	/* what is due is read before recovery too, so that a volume left
	 * busy is still reported overdue */
	rc = read_volume(cat, name, p, run->now, &volume, &r->due, &depth,
			 &pending, err);
	if (rc == 0 && volume.marked_at)
		return 0; /* removed since the run began */
	/* attached elsewhere: that host's run reaches the guest, settles
	 * what its snaps left, and takes what is due */
	if (rc == 0 && ops_consumer_elsewhere(&volume, r->host)) {
		r->outcome = OPS_POLICY_ELSEWHERE;
		r->due = false;
		/* (bounded so that both fit the message whole) */
		snprintf(r->message, sizeof(r->message), "its consumer runs on "
			 "host %.128s (%.255s); that host's policy run takes it",
			 r->host, volume.consumer);
		return 0;
	}
	/* settle what a crash left first: a snapshot it finished counts as
	 * the policy's last one, so none is taken twice */
	if (rc == 0 && pending)
		rc = ops_recover_volume(run->conn, cat, &volume, ev, &recovered,
					err);
	if (rc == 0 && recovered.finished + recovered.undone + recovered.failed)
		rc = read_volume(cat, name, p, run->now, &volume, &r->due,
				 &depth, &pending, err);
	if (rc < 0)
		return rc;
	/* flatten first when the snapshot's clone would be one level too
	 * deep, so the operating image never exceeds max_depth */
	if ((r->due && depth > 0 && depth + 1 > p->max_depth) ||
	    depth > p->max_depth) {
		rc = ops_volume_flatten(run->conn, cat, name, ev, &done, err);
		if (rc < 0 && removed_meanwhile(cat, name, rc)) {
			rc_error_clear(err);
			return 0;
		}
		if (rc < 0)
			return rc;
		if (!done.nothing_to_do)
			rc_image_spec_format(&done.new_image, r->flattened,
					     sizeof(r->flattened));
	}
	if (r->due) {
		rc = snap_if_still_due(run, cat, &volume, p, origin, &done, r,
				       err);
		if (rc < 0 && !done.new_image.name[0] &&
		    removed_meanwhile(cat, name, rc)) {
			rc_error_clear(err);
			return 0;
		}
		if (rc < 0 && !done.new_image.name[0])
			return rc;
		/* taken; only the switch hook failed: retention still runs,
		 * on an err of its own, and the hook's failure is reported */
		hook_rc = rc;
		if (rc < 0) {
			hook_err = *err;
			rc_error_clear(err);
		}
		snprintf(r->snapshot, sizeof(r->snapshot), "%s", done.snapshot);
	}
	rc = expire(cat, &volume, p, &r->expired, err);
	if (rc == 0 && hook_rc < 0)
		*err = hook_err;
	return rc < 0 ? rc : hook_rc;
}

/* ---- the workers --------------------------------------------------------- */

/* The image levels a volume's snapshot opens: an open of the operating
 * image opens each image above it too, and the clone's open of its parent
 * does it again. */
static int volume_levels(const struct run *run, size_t i)
{
	int levels = run->vols[i].summary.depth + 1;

	return levels < run->levels_max ? levels : run->levels_max;
}

/* Waits, with run->lock held, until volume i may start: every volume
 * before it has, and its levels fit beside those in flight (or nothing
 * is in flight). In order, so that a deep volume is not passed by
 * shallow ones for ever. */
static void levels_take(struct run *run, size_t i)
{
	while (run->admitted != i ||
	       (run->levels > 0 &&
		run->levels + volume_levels(run, i) > run->levels_max))
		pthread_cond_wait(&run->levels_freed, &run->lock);
	run->admitted++;
	run->levels += volume_levels(run, i);
	pthread_cond_broadcast(&run->levels_freed);
}

static void levels_give_back(struct run *run, size_t i)
{
	run->levels -= volume_levels(run, i);
	pthread_cond_broadcast(&run->levels_freed);
}

static void *worker(void *arg)
{
	struct run *run = arg;
	struct catalog *cat = NULL;
	struct rc_error open_err = {0};
	int open_rc = catalog_reopen(&cat, run->catalog, &open_err);

	for (;;) {
		const struct ops_policy_volume *v;
		struct ops_policy_result *r;
		struct rc_error err = {0};
		size_t i;
		int rc;

		pthread_mutex_lock(&run->lock);
		i = run->next++;
		if (i < run->count)
			levels_take(run, i);
		pthread_mutex_unlock(&run->lock);
		if (i >= run->count)
			break;
		v = &run->vols[i];
		r = &run->results[i];
		if (open_rc < 0) {
			rc = open_rc;
			err = open_err;
		} else if (ops_live_interrupted()) {
			/* SIGINT/SIGTERM reached a live snap: start nothing more */
			rc = rc_error_set(&err, -EINTR, "not started: rowcat was "
					  "interrupted by %s",
					  strsignal(ops_live_interrupted()));
		} else {
			rc = apply(run, cat, v, r, &err);
		}
		if (rc < 0) {
			r->outcome = err.in_use ? OPS_POLICY_IN_USE
				     : rc == -EBUSY ? OPS_POLICY_BUSY
				     : OPS_POLICY_FAILED;
			snprintf(r->message, sizeof(r->message), "%s", err.message);
		}
		pthread_mutex_lock(&run->lock);
		levels_give_back(run, i);
		if (run->ev && run->ev->volume_done)
			run->ev->volume_done(run->ev->ctx, i, v, r);
		pthread_mutex_unlock(&run->lock);
	}
	catalog_close(cat);
	return NULL;
}

int ops_policy_run(struct rbd_conn *conn, struct catalog *cat,
		   const struct ops_policy_volume *vols, size_t n, int64_t now,
		   int jobs, const struct ops_row_options *row_opts,
		   const struct ops_policy_events *ev,
		   struct ops_policy_result *results, struct rc_error *err)
{
	pthread_t threads[OPS_POLICY_MAX_JOBS];
	struct run run = {
		.conn = conn, .catalog = cat, .vols = vols,
		.count = n, .results = results, .now = now, .ev = ev,
		.row_opts = row_opts, .levels_max = OPS_POLICY_LEVELS_AT_ONCE,
	};
	int started = 0;
	int rc;

	if (jobs < 1 || jobs > OPS_POLICY_MAX_JOBS)
		return rc_error_set(err, -EINVAL, "policy: between 1 and %d "
				    "volumes at once, not %d",
				    OPS_POLICY_MAX_JOBS, jobs);
	/* a no-op when the caller took it already, as rowcat policy run does
	 * before it lists the volumes */
	rc = catalog_job_lock(cat, CATALOG_JOB_POLICY, err);
	if (rc < 0)
		return rc;
	if (n)
		memset(results, 0, n * sizeof(*results));
	if (ev && ev->ops)
		run.op_events = *ev->ops;
	run.op_events.progress = NULL; /* lines from many threads would
					  interleave */
	if ((size_t)jobs > n)
		jobs = (int)n;
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.levels_freed, NULL);
	for (; started < jobs; started++) {
		if (pthread_create(&threads[started], NULL, worker, &run) != 0)
			break;
	}
	for (int t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_cond_destroy(&run.levels_freed);
	pthread_mutex_destroy(&run.lock);
	if (jobs > 0 && started == 0)
		return rc_error_set(err, -EAGAIN, "cannot start a policy thread");
	return 0;
}
