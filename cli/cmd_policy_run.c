/*
 * rowcat policy run: for every volume a policy manages, flatten when the
 * depth limit asks for it, take the ROW snapshot that is due, and mark for
 * collection what retention no longer keeps; with --gc, collect after.
 *
 * Volumes are worked on side by side (--jobs threads, each with its own
 * catalog connection, all sharing one cluster connection): a snapshot
 * create waits for a monitor proposal round, and creates that run at once
 * share rounds. Each volume's work is the journalled operations of snap
 * and flatten, so a crash anywhere leaves what `rowcat recover` (or the
 * next run) settles; retention's marks are one catalog transaction.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rowcat/clock.h"
#include "rowcat/sys/failpoint.h"
#include "rowcat/sys/journal.h" /* until the policy engine leaves the CLI */
#include "json.h"
#include "policy_cli.h"

#define DEFAULT_JOBS 8
#define MAX_JOBS 64

enum volume_outcome { VOLUME_OK, VOLUME_BUSY, VOLUME_FAILED };

/* What became of one volume. */
struct volume_result {
	enum volume_outcome outcome;
	bool due;                       /* a snapshot was due */
	char snapshot[RC_NAME_MAX];     /* the one taken; "" none */
	char flattened[RC_SPEC_MAX];    /* the image flattened; "" none */
	size_t expired;                 /* snapshots marked by retention */
	char message[RC_ERROR_MESSAGE_MAX];
};

struct run {
	struct cli_ctx *ctx;
	const struct policy_cli_volumes *vols;
	struct volume_result *results;
	int64_t now;                    /* when the run started, by the
					   policy clock */
	pthread_mutex_t lock;
	size_t next;                    /* the next volume to take */
	size_t taken, expired, flattened, busy, failed, overdue;
};

static const char *outcome_word(enum volume_outcome outcome)
{
	switch (outcome) {
	case VOLUME_OK:
		return "ok";
	case VOLUME_BUSY:
		return "busy";
	case VOLUME_FAILED:
		return "failed";
	}
	return "?";
}

/* ---- one volume ---------------------------------------------------------- */

/* Marks what retention no longer keeps of p's snapshots of volume. */
static int expire(struct catalog *cat, const struct catalog_volume *volume,
		  const struct policy *p, size_t *expired, struct rc_error *err)
{
	struct catalog_lineage *lineage = NULL;
	struct policy_snapshot *snaps = NULL;
	int64_t *drop = NULL;
	bool *keep = NULL;
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
	snaps = calloc(lineage->snapshot_count + 1, sizeof(*snaps));
	keep = calloc(lineage->snapshot_count + 1, sizeof(*keep));
	drop = calloc(lineage->snapshot_count + 1, sizeof(*drop));
	if (!snaps || !keep || !drop) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* what retention weighs: p's own snapshots not on their way out;
	 * pinned ones count like the rest, and are never marked */
	for (size_t i = 0; i < lineage->snapshot_count; i++) {
		const struct catalog_snapshot *s = &lineage->snapshots[i];

		if (strcmp(s->origin, origin) == 0 && !s->marked_at &&
		    !s->removed_at)
			snaps[n++] = (struct policy_snapshot){
				s->id, catalog_snapshot_policy_time(s) };
	}
	rc = policy_retain(&p->keep, snaps, n, keep, err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			drop[n_drop++] = snaps[i].id;
	}
	if (n_drop) {
		RC_FAILPOINT("policy.expire.before");
		rc = catalog_snapshots_expire(cat, volume->id, origin, drop, n_drop,
					      rc_clock_now(), expired, err);
		RC_FAILPOINT("policy.expire.after");
	}
out:
	free(drop);
	free(keep);
	free(snaps);
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
		rc = policy_is_due(p, policy_cli_last_snapshot(lineage, p), now,
				   due, err);
	catalog_lineage_free(lineage);
	return rc;
}

/* The policy's work on one volume; the result says what was done. */
static int apply(struct run *run, struct catalog *cat,
		 const struct policy_cli_volume *v, struct volume_result *r,
		 struct rc_error *err)
{
	const struct policy *p = v->policy;
	const char *name = v->summary.volume.name;
	struct ops_recovery recovered = {0};
	struct catalog_volume volume;
	struct ops_result done;
	struct ops_events ev;
	char origin[POLICY_ORIGIN_MAX];
	int depth = 0, hook_rc = 0, rc;

	cli_events(run->ctx, &ev);
	ev.progress = NULL; /* lines from many threads would interleave */
	policy_origin(p, origin);
	rc = catalog_volume_find(cat, name, &volume, err);
	if (rc == 0 && volume.marked_at)
		return 0; /* removed since the run began */
	/* what is due is read before recovery too, so that a volume left
	 * busy is still reported overdue */
	if (rc == 0)
		rc = read_due(cat, &volume, p, run->now, &r->due, err);
	/* settle what a crash left first: a snapshot it finished counts as
	 * the policy's last one, so none is taken twice */
	if (rc == 0)
		rc = ops_recover_volume(run->ctx->conn, cat, &volume, &ev,
					   &recovered, err);
	if (rc == 0 && recovered.finished + recovered.undone + recovered.failed) {
		rc = catalog_volume_find(cat, name, &volume, err);
		if (rc == 0)
			rc = read_due(cat, &volume, p, run->now, &r->due, err);
	}
	if (rc == 0)
		rc = catalog_image_depth(cat, volume.operating_image_id, &depth,
					 err);
	if (rc < 0)
		return rc;
	/* flatten first when the snapshot's clone would be one level too
	 * deep, so the operating image never exceeds max_depth */
	if ((r->due && depth > 0 && depth + 1 > p->max_depth) ||
	    depth > p->max_depth) {
		rc = ops_volume_flatten(run->ctx->conn, cat, name, &ev, &done,
					   err);
		if (rc < 0)
			return ops_explain_full_volume(run->ctx->conn, cat, name,
							  err);
		if (!done.nothing_to_do)
			rc_image_spec_format(&done.new_image, r->flattened,
					     sizeof(r->flattened));
	}
	if (r->due) {
		memset(&done, 0, sizeof(done));
		rc = ops_volume_snap(run->ctx->conn, cat, name, NULL, origin,
					&ev, &done, err);
		if (rc < 0 && !done.new_image.name[0])
			return rc;
		/* taken; only the switch hook failed: retention still runs */
		hook_rc = rc;
		snprintf(r->snapshot, sizeof(r->snapshot), "%s", done.snapshot);
	}
	rc = expire(cat, &volume, p, &r->expired, err);
	return rc < 0 ? rc : hook_rc;
}

/* ---- reporting ----------------------------------------------------------- */

/* Counts a finished volume and says what was done; call with run->lock. */
static void report_volume(struct run *run, const struct policy_cli_volume *v,
			  const struct volume_result *r)
{
	struct cli_ctx *ctx = run->ctx;
	const char *name = v->summary.volume.name;

	run->taken += r->snapshot[0] != '\0';
	run->expired += r->expired;
	run->flattened += r->flattened[0] != '\0';
	run->busy += r->outcome == VOLUME_BUSY;
	run->failed += r->outcome == VOLUME_FAILED;
	run->overdue += r->due && !r->snapshot[0];
	if (r->outcome != VOLUME_OK)
		fprintf(stderr, "rowcat: policy: %s: %s: %s\n", name,
			outcome_word(r->outcome), r->message);
	if (ctx->format == FORMAT_JSON ||
	    (!r->snapshot[0] && !r->flattened[0] && !r->expired))
		return;
	printf("%s: policy %s:", name, v->policy->name);
	if (r->flattened[0])
		printf(" flattened %s;", r->flattened);
	if (r->snapshot[0])
		printf(" snapshot %s taken;", r->snapshot);
	printf(" %zu expired\n", r->expired);
	fflush(stdout);
}

static void print_json(const struct run *run)
{
	struct json_writer w;

	json_init(&w, stdout);
	json_array_begin(&w);
	for (size_t i = 0; i < run->vols->count; i++) {
		const struct policy_cli_volume *v = &run->vols->items[i];
		const struct volume_result *r = &run->results[i];

		json_object_begin(&w);
		json_kv_string(&w, "volume", v->summary.volume.name);
		json_kv_string(&w, "policy", v->policy->name);
		json_kv_string(&w, "outcome", outcome_word(r->outcome));
		json_kv_bool(&w, "due", r->due);
		json_key(&w, "snapshot");
		if (r->snapshot[0])
			json_string(&w, r->snapshot);
		else
			json_null(&w);
		json_key(&w, "flattened");
		if (r->flattened[0])
			json_string(&w, r->flattened);
		else
			json_null(&w);
		json_kv_int(&w, "expired", (int64_t)r->expired);
		if (r->outcome != VOLUME_OK)
			json_kv_string(&w, "message", r->message);
		json_object_end(&w);
	}
	json_array_end(&w);
	putchar('\n');
}

/* ---- the workers --------------------------------------------------------- */

static void *worker(void *arg)
{
	struct run *run = arg;
	struct catalog *cat = NULL;
	struct rc_error open_err = {0};
	int open_rc = catalog_open(&cat, catalog_path(run->ctx->catalog),
				   CATALOG_OPEN_EXISTING, &open_err);

	for (;;) {
		const struct policy_cli_volume *v;
		struct volume_result *r;
		struct rc_error err = {0};
		size_t i;
		int rc;

		pthread_mutex_lock(&run->lock);
		i = run->next++;
		pthread_mutex_unlock(&run->lock);
		if (i >= run->vols->count)
			break;
		v = &run->vols->items[i];
		r = &run->results[i];
		if (open_rc < 0) {
			rc = open_rc;
			err = open_err;
		} else {
			rc = apply(run, cat, v, r, &err);
		}
		if (rc < 0) {
			r->outcome = rc == -EBUSY ? VOLUME_BUSY : VOLUME_FAILED;
			snprintf(r->message, sizeof(r->message), "%s", err.message);
		}
		pthread_mutex_lock(&run->lock);
		report_volume(run, v, r);
		pthread_mutex_unlock(&run->lock);
	}
	catalog_close(cat);
	return NULL;
}

static int run_volumes(struct run *run, int jobs, struct rc_error *err)
{
	pthread_t threads[MAX_JOBS];
	int started = 0;

	if ((size_t)jobs > run->vols->count)
		jobs = (int)run->vols->count;
	pthread_mutex_init(&run->lock, NULL);
	for (; started < jobs; started++) {
		if (pthread_create(&threads[started], NULL, worker, run) != 0)
			break;
	}
	for (int t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&run->lock);
	if (jobs > 0 && started == 0)
		return rc_error_set(err, -EAGAIN, "cannot start a policy thread");
	return 0;
}

/* ---- --gc ---------------------------------------------------------------- */

/* Adds the plan of one volume to *plan, after settling what a crash left
 * of it; -EBUSY while a live rowcat works on the volume. */
static int plan_volume(struct cli_ctx *ctx, const struct catalog_volume *volume,
		       const struct ops_gc_options *opts,
		       const struct ops_events *ev,
		       struct catalog_gc_plan *plan)
{
	struct catalog_gc_state state = {0};
	struct catalog_gc_plan one = {0};
	struct ops_recovery recovered = {0};
	int rc = ops_recover_volume(ctx->conn, ctx->catalog, volume, ev,
				       &recovered, &ctx->err);

	if (rc == 0)
		rc = catalog_gc_state_load(ctx->catalog, volume->id, &state,
					   &ctx->err);
	if (rc == 0)
		rc = catalog_gc_plan(&state, &opts->plan, &one, &ctx->err);
	if (rc == 0)
		rc = catalog_gc_plan_append(plan, &one, &ctx->err);
	catalog_gc_plan_free(&one);
	catalog_gc_state_free(&state);
	return rc;
}

/*
 * Collects the garbage of the run's own volumes, with the file's gc
 * settings, judged by the real clock whatever --now says: a rehearsal
 * decides what a policy would expire, never that anything is removed
 * sooner. The rest of the catalog is rowcat gc's. A gc already running
 * elsewhere is not this run's failure: that gc collects.
 */
static int collect(struct cli_ctx *ctx, const struct policy_file *f,
		   const struct policy_cli_volumes *vols, int jobs)
{
	struct ops_gc_options opts = {
		.plan = { rc_clock_now(), f->gc_min_age, f->gc_trash_delay },
		.jobs = jobs < 4 ? jobs : 4,
	};
	struct catalog_gc_plan plan = {0};
	struct ops_gc_report rep = {0};
	struct ops_events ev;
	int rc = catalog_job_lock(ctx->catalog, CATALOG_JOB_GC, &ctx->err);

	if (rc == -EBUSY) {
		fprintf(stderr, "rowcat: policy: gc skipped: %s\n",
			ctx->err.message);
		rc_error_clear(&ctx->err);
		return 0;
	}
	cli_events(ctx, &ev);
	ev.progress = NULL;
	for (size_t i = 0; rc == 0 && i < vols->count; i++) {
		struct catalog_volume volume;

		/* as it is now: the run may have changed it */
		rc = catalog_volume_get(ctx->catalog,
					vols->items[i].summary.volume.id, &volume,
					&ctx->err);
		if (rc == 0 && !volume.marked_at)
			rc = plan_volume(ctx, &volume, &opts, &ev, &plan);
		/* another rowcat is working on it: the next run collects */
		if (rc == -EBUSY) {
			rc_error_clear(&ctx->err);
			rc = 0;
		}
	}
	if (rc == 0)
		rc = ops_gc_run(ctx->conn, ctx->catalog, &plan, 0, &opts, NULL,
				   &rep, &ctx->err);
	if (!ctx->quiet && ctx->format != FORMAT_JSON)
		fprintf(stderr, "rowcat: policy: gc: %zu image%s moved to the "
			"trash, %zu snapshot%s removed, %zu image%s purged; %zu "
			"busy, %zu skipped, %zu failed; %zu waiting\n",
			rep.trashed, rep.trashed == 1 ? "" : "s",
			rep.snapshots_removed, rep.snapshots_removed == 1 ? "" : "s",
			rep.purged, rep.purged == 1 ? "" : "s", rep.busy,
			rep.skipped, rep.failed, plan.waiting);
	catalog_gc_plan_free(&plan);
	return rc < 0 ? rc_error_prefix(&ctx->err, "gc: ") : 0;
}

/* ---- the command --------------------------------------------------------- */

static int write_metrics(const char *path, const struct run *run,
			 int64_t started_ms, bool ok, struct rc_error *err)
{
	size_t managed = run->vols ? run->vols->count : 0;
	struct cli_metrics m;
	int rc = cli_metrics_begin(&m, "policy", "Whether every volume of the "
				   "last run succeeded (and its gc, with --gc).",
				   started_ms, ok, err);

	if (rc < 0)
		return rc;
	cli_metric(m.out, "rowcat_policy_volumes", "Managed volumes of the last "
		   "run, by outcome.", "{outcome=\"ok\"}",
		   (double)(managed - run->busy - run->failed));
	cli_metric(m.out, "rowcat_policy_volumes", NULL, "{outcome=\"busy\"}",
		   (double)run->busy);
	cli_metric(m.out, "rowcat_policy_volumes", NULL, "{outcome=\"failed\"}",
		   (double)run->failed);
	cli_metric(m.out, "rowcat_policy_snapshots_taken", "Snapshots the last "
		   "run took.", NULL, (double)run->taken);
	cli_metric(m.out, "rowcat_policy_snapshots_expired", "Snapshots the "
		   "last run marked for collection by retention.", NULL,
		   (double)run->expired);
	cli_metric(m.out, "rowcat_policy_images_flattened", "Operating images "
		   "the last run flattened for max_depth.", NULL,
		   (double)run->flattened);
	cli_metric(m.out, "rowcat_policy_overdue_volumes", "Volumes whose due "
		   "snapshot the last run did not take.", NULL,
		   (double)run->overdue);
	return cli_metrics_end(&m, path, err);
}

struct run_args {
	const char *now, *metrics;
	bool gc;
	int jobs;
};

/* " (a, b)": the volumes whose outcome is `outcome`, when there are any. */
static void print_names(const struct run *run, enum volume_outcome outcome)
{
	size_t named = 0;

	for (size_t i = 0; i < run->vols->count; i++) {
		if (run->results[i].outcome != outcome)
			continue;
		fprintf(stderr, "%s%s", named++ ? ", " : " (",
			run->vols->items[i].summary.volume.name);
	}
	if (named)
		fputc(')', stderr);
}

static void print_summary(const struct run *run, const struct run_args *a)
{
	const struct policy_cli_volumes *vols = run->vols;
	struct cli_ctx *ctx = run->ctx;

	if (ctx->quiet || ctx->format == FORMAT_JSON)
		return;
	fprintf(stderr, "rowcat: policy: %zu volume%s managed: %zu snapshot%s "
		"taken, %zu expired, %zu flattened; %zu busy",
		vols->count, vols->count == 1 ? "" : "s", run->taken,
		run->taken == 1 ? "" : "s", run->expired, run->flattened,
		run->busy);
	print_names(run, VOLUME_BUSY);
	fprintf(stderr, ", %zu failed", run->failed);
	print_names(run, VOLUME_FAILED);
	fprintf(stderr, "%s\n", a->gc ? "; collecting next" : "");
}

int policy_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct run_args a = { NULL, NULL, false, DEFAULT_JOBS };
	struct cli_option options[] = {
		{ 0, "now", CLI_OPT_STRING, &a.now, "TIME",
		  "decide as if it were TIME (2026-11-25T03:00:00Z): what is due\n"
		  "and what retention expires; for rehearsals and simulations.\n"
		  "What happens is recorded at the real time (log shows both),\n"
		  "and gc judges min_age and trash_delay by the real clock" },
		{ 0, "gc", CLI_OPT_FLAG, &a.gc, NULL,
		  "then collect the garbage of the volumes this run manages,\n"
		  "with the file's gc: settings; 'rowcat gc' collects the rest" },
		{ 'j', "jobs", CLI_OPT_INT, &a.jobs, "N",
		  "volumes worked on at once (default 8)" },
		{ 0, "metrics", CLI_OPT_STRING, &a.metrics, "FILE",
		  "write Prometheus text-format figures of the run to FILE" },
		CLI_OPT_FORMAT(ctx),
		CLI_OPT_END,
	};
	struct cli_spec spec = {
		"policy run FILE [--now TIME] [--gc] [--jobs N] [--metrics FILE] "
		"[--format plain|json]",
		"Applies the policy file FILE to every volume a policy manages:\n"
		"flattens the operating image when a snapshot would take it past\n"
		"max_depth, takes a ROW snapshot when one is due (origin\n"
		"policy:NAME), and marks for collection the policy's snapshots that\n"
		"retention no longer keeps; pinned, manual and pre-restore\n"
		"snapshots are never marked. One failing volume does not stop the\n"
		"others; the exit status is 0 only when all succeeded (a volume\n"
		"busy with another operation is tried again by the next run). One\n"
		"policy run at a time.",
		options, 1, 1,
	};
	struct run run = { .ctx = ctx };
	struct policy_cli_volumes vols = {0};
	struct policy_file *f = NULL;
	int64_t started_ms = rc_wall_ms();
	bool locked = false;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	if (a.jobs < 1 || a.jobs > MAX_JOBS)
		return rc_error_usage(&ctx->err, "--jobs: between 1 and %d, not %d",
				      MAX_JOBS, a.jobs);
	rc = policy_cli_set_now(ctx, a.now);
	if (rc == 0)
		rc = policy_cli_load(ctx, argv[1], &f);
	if (rc == 0)
		rc = cli_open_catalog(ctx, false);
	if (rc == 0) {
		rc = catalog_job_lock(ctx->catalog, CATALOG_JOB_POLICY, &ctx->err);
		locked = rc == 0;
	}
	run.now = rc_clock_policy_now();
	if (rc == 0)
		rc = policy_cli_volumes(ctx, argv[1], f, &vols);
	run.vols = &vols;
	if (rc == 0 && (vols.count || a.gc)) {
		policy_cli_apply_cluster(ctx, f);
		rc = cli_connect(ctx);
	}
	if (rc < 0)
		goto out;
	run.results = calloc(vols.count + 1, sizeof(*run.results));
	if (!run.results) {
		rc = rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = run_volumes(&run, a.jobs, &ctx->err);
	if (rc < 0)
		goto out;
	if (ctx->format == FORMAT_JSON)
		print_json(&run);
	print_summary(&run, &a);
	if (run.failed)
		rc = rc_error_set(&ctx->err, -EIO, "policy: %zu of %zu volumes "
				  "failed", run.failed, vols.count);
	if (a.gc) {
		struct rc_error volumes_err = ctx->err;
		int gc_rc = collect(ctx, f, &vols, a.jobs);

		if (rc < 0)
			ctx->err = volumes_err;
		else
			rc = gc_rc;
	}
out:
	/* every run that held the lock reports, failed ones too */
	if (a.metrics && locked) {
		struct rc_error metrics_err = {0};

		rc = cli_metrics_outcome(ctx, rc, write_metrics(a.metrics, &run,
					 started_ms, rc == 0, &metrics_err),
					 &metrics_err);
	}
	free(run.results);
	policy_cli_volumes_free(&vols);
	policy_file_free(f);
	return rc;
}
