/*
 * rowcat policy run: applies the policy file to every volume a policy
 * manages (the engine is ops_policy_run: flatten for max_depth, the due
 * snapshot, retention's marks), says what became of each volume, and with
 * --gc collects the garbage of those volumes after (ops_gc_job).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/clock.h"
#include "json_out.h"
#include "policy_cli.h"

struct run {
	struct cli_ctx *ctx;
	const struct policy_cli_volumes *vols;
	struct ops_policy_result *results;
	size_t taken, expired, flattened, busy, failed, in_use, elsewhere;
	size_t overdue;
};

static const char *outcome_word(enum ops_policy_outcome outcome)
{
	switch (outcome) {
	case OPS_POLICY_OK:
		return "ok";
	case OPS_POLICY_BUSY:
		return "busy";
	case OPS_POLICY_FAILED:
		return "failed";
	case OPS_POLICY_IN_USE:
		return "in-use";
	case OPS_POLICY_ELSEWHERE:
		return "elsewhere";
	}
	return "?";
}

/* ---- reporting ----------------------------------------------------------- */

/* Counts a finished volume and says what was done; ops_policy_run calls
 * it under the run's lock. */
static void report_volume(void *arg, size_t index,
			  const struct ops_policy_volume *v,
			  const struct ops_policy_result *r)
{
	struct run *run = arg;
	struct cli_ctx *ctx = run->ctx;
	const char *name = v->summary.volume.name;

	run->taken += r->snapshot[0] != '\0';
	run->expired += r->expired;
	run->flattened += r->flattened[0] != '\0';
	(void)index;
	run->busy += r->outcome == OPS_POLICY_BUSY;
	run->failed += r->outcome == OPS_POLICY_FAILED;
	run->in_use += r->outcome == OPS_POLICY_IN_USE;
	run->elsewhere += r->outcome == OPS_POLICY_ELSEWHERE;
	run->overdue += r->due && !r->snapshot[0];
	/* a volume of another host's is no trouble: said unless quiet, so
	 * that each host's timer does not log every other host's volumes */
	if (r->outcome != OPS_POLICY_OK &&
	    (r->outcome != OPS_POLICY_ELSEWHERE || !ctx->quiet))
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

/* The image flattened, "POOL[/NS]/IMAGE" as ops_policy_run wrote it, as
 * rbd's keys; null for none. */
static struct json_object *json_flattened(const char *spec_text)
{
	struct rc_image_spec spec;
	struct rc_error err = {0};

	if (!spec_text[0])
		return NULL;
	if (rc_image_spec_parse(&spec, spec_text, "image name", &err) < 0)
		return cli_json_string(spec_text); /* never: it was written so */
	return cli_json_image(&spec);
}

static struct json_object *json_volume(const struct ops_policy_volume *v,
				       const struct ops_policy_result *r)
{
	struct json_object *obj = json_object_new_object();

	if (!obj)
		return NULL;
	json_object_object_add(obj, "volume",
			       cli_json_string(v->summary.volume.name));
	json_object_object_add(obj, "policy", cli_json_string(v->policy->name));
	json_object_object_add(obj, "outcome",
			       cli_json_string(outcome_word(r->outcome)));
	/* what is due for a volume of another host's is that host's to say */
	json_object_object_add(obj, "due", r->outcome == OPS_POLICY_ELSEWHERE
			       ? NULL : json_object_new_boolean(r->due));
	json_object_object_add(obj, "snapshot", cli_json_nonempty(r->snapshot));
	json_object_object_add(obj, "flattened", json_flattened(r->flattened));
	json_object_object_add(obj, "expired",
			       json_object_new_int64((int64_t)r->expired));
	if (r->outcome != OPS_POLICY_OK)
		json_object_object_add(obj, "message",
				       cli_json_string(r->message));
	if (r->outcome == OPS_POLICY_ELSEWHERE)
		json_object_object_add(obj, "host", cli_json_string(r->host));
	return obj;
}

static int print_json(const struct run *run)
{
	struct json_object *list = json_object_new_array(), *item;
	int rc;

	for (size_t i = 0; list && i < run->vols->count; i++) {
		item = json_volume(&run->vols->items[i], &run->results[i]);
		if (!cli_json_append(list, item)) {
			json_object_put(list);
			list = NULL;
		}
	}
	if (!list)
		return rc_error_set(&run->ctx->err, -ENOMEM, "out of memory");
	rc = cli_json_print(run->ctx, list);
	json_object_put(list);
	return rc;
}

/* ---- --gc ---------------------------------------------------------------- */

/*
 * Collects the garbage of the run's own volumes, with the file's gc
 * settings, judged by the real clock whatever --now says: a rehearsal
 * decides what a policy would expire, never that anything is removed
 * sooner. The rest of the catalog is rowcat gc's. A gc already running
 * elsewhere is not this run's failure: that gc collects.
 */
static int collect(struct cli_ctx *ctx, const struct policy_file *f,
		   const struct policy_cli_volumes *vols,
		   const struct ops_policy_result *results, int jobs)
{
	struct ops_gc_job_options opts = {
		.gc = {
			.plan = { rc_clock_now(), f->gc_min_age,
				  f->gc_trash_delay },
			.jobs = jobs < 4 ? jobs : 4,
		},
	};
	struct ops_gc_scope scope = { .volume_count = vols->count };
	struct ops_gc_job_report rep = {0};
	struct ops_gc_job_events ev = {0};
	struct ops_events op_events;
	int64_t *ids = calloc(vols->count + 1, sizeof(*ids));
	int rc;

	if (!ids)
		return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	scope.volume_count = 0;
	for (size_t i = 0; i < vols->count; i++) {
		if (results[i].outcome != OPS_POLICY_ELSEWHERE)
			ids[scope.volume_count++] =
				vols->items[i].summary.volume.id;
	}
	scope.volume_ids = ids;
	cli_events(ctx, &op_events);
	op_events.progress = NULL;
	ev.ops = &op_events;
	rc = ops_gc_job(ctx->conn, ctx->catalog, &scope, &opts, &ev, &rep,
			&ctx->err);
	free(ids);
	if (rc == -EBUSY && !rep.locked) {
		fprintf(stderr, "rowcat: policy: gc skipped: %s\n",
			ctx->err.message);
		rc_error_clear(&ctx->err);
		return 0;
	}
	if (!ctx->quiet && ctx->format != FORMAT_JSON)
		fprintf(stderr, "rowcat: policy: gc: %zu image%s moved to the "
			"trash, %zu snapshot%s removed, %zu image%s purged; %zu "
			"busy, %zu skipped, %zu failed; %zu waiting\n",
			rep.run.trashed, rep.run.trashed == 1 ? "" : "s",
			rep.run.snapshots_removed,
			rep.run.snapshots_removed == 1 ? "" : "s",
			rep.run.purged, rep.run.purged == 1 ? "" : "s",
			rep.run.busy, rep.run.skipped, rep.run.failed,
			rep.waiting);
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
		   (double)(managed - run->busy - run->failed - run->in_use -
			    run->elsewhere));
	cli_metric(m.out, "rowcat_policy_volumes", NULL, "{outcome=\"busy\"}",
		   (double)run->busy);
	cli_metric(m.out, "rowcat_policy_volumes", NULL, "{outcome=\"failed\"}",
		   (double)run->failed);
	cli_metric(m.out, "rowcat_policy_volumes", NULL, "{outcome=\"in-use\"}",
		   (double)run->in_use);
	cli_metric(m.out, "rowcat_policy_volumes", NULL,
		   "{outcome=\"elsewhere\"}", (double)run->elsewhere);
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
	const char *now, *metrics, *jobs_text;
	bool gc;
	int jobs;
	struct ops_row_options row;
};

/* " (a, b)": the volumes whose outcome is `outcome`, when there are any. */
static void print_names(const struct run *run, enum ops_policy_outcome outcome)
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
	print_names(run, OPS_POLICY_BUSY);
	fprintf(stderr, ", %zu failed", run->failed);
	print_names(run, OPS_POLICY_FAILED);
	fprintf(stderr, ", %zu in use", run->in_use);
	print_names(run, OPS_POLICY_IN_USE);
	if (run->elsewhere) {
		fprintf(stderr, ", %zu on other hosts", run->elsewhere);
		print_names(run, OPS_POLICY_ELSEWHERE);
	}
	fprintf(stderr, "%s\n", a->gc ? "; collecting next" : "");
}

int policy_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct run_args a = { NULL, NULL, NULL, false, 0, { false } };
	struct cli_option options[] = {
		{ 0, "now", CLI_OPT_STRING, &a.now, "TIME",
		  "decide as if it were TIME (2026-11-25T03:00:00Z): what is due "
		  "and what retention expires; for rehearsals and simulations. "
		  "What happens is recorded at the real time (log shows both), "
		  "and gc judges min_age and trash_delay by the real clock" },
		{ 0, "gc", CLI_OPT_FLAG, &a.gc, NULL,
		  "then collect the garbage of the volumes this run manages, "
		  "with the file's gc: settings; 'rowcat gc' collects the rest" },
		{ 'j', "jobs", CLI_OPT_STRING, &a.jobs_text, "N",
		  "volumes worked on at once, 1 to 256 (default 128, 8 with a "
		  "catalog in RADOS; fewer while they are deep, at most 256 "
		  "levels together): a snapshot mostly waits for a monitor "
		  "round, which the snapshots waiting at once share; in RADOS "
		  "the catalog's lock is the limit, and each job's connection "
		  "costs it an opening" },
		{ 0, "metrics", CLI_OPT_STRING, &a.metrics, "FILE",
		  "write Prometheus text-format figures of the run to FILE" },
		{ 0, "ignore-clients", CLI_OPT_FLAG, &a.row.ignore_clients, NULL,
		  "snapshot volumes although another client has their "
		  "operating image open (clients that only read); 'rowcat log' "
		  "names the clients ignored" },
		CLI_OPT_FORMAT(ctx),
		CLI_OPT_END,
	};
	struct cli_spec spec = {
		"policy run FILE [--now TIME] [--gc] [--jobs N] [--metrics FILE] "
		"[--ignore-clients] [--format plain|json]",
		"Applies the policy file FILE to every volume a policy manages:\n"
		"flattens the operating image when a snapshot would take it past\n"
		"max_depth, takes a ROW snapshot when one is due (origin\n"
		"policy:NAME), and marks for collection the policy's snapshots that\n"
		"retention no longer keeps; pinned, manual and pre-restore\n"
		"snapshots are never marked. One failing volume does not stop the\n"
		"others; the exit status is 0 only when all succeeded (a volume\n"
		"busy with another operation is tried again by the next run). A\n"
		"volume whose operating image another client has open gets no\n"
		"snapshot and is reported 'in-use': exit 3 when that is the worst\n"
		"that happened, 1 when a volume failed. A volume with a QEMU consumer\n"
		"('rowcat consumer') is snapshotted live; with --on-freeze and\n"
		"--on-thaw, every snap runs between those hooks (see 'rowcat snap\n"
		"--help'). A volume whose consumer runs on another host is left\n"
		"to that host's run, untouched here: reported 'elsewhere' (not\n"
		"with -q), which alone exits 0, as nothing due does. One policy\n"
		"run at a time.",
		options, 1, 1,
	};
	struct run run = { .ctx = ctx };
	struct policy_cli_volumes vols = {0};
	struct ops_policy_events ev = { .volume_done = report_volume,
					.ctx = &run };
	struct ops_events op_events;
	int64_t now;
	struct policy_file *f = NULL;
	int64_t started_ms = rc_wall_ms();
	bool locked = false;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	if (a.jobs_text) {
		char *end;
		long jobs = strtol(a.jobs_text, &end, 10);

		if (!a.jobs_text[0] || *end || jobs < 1 ||
		    jobs > OPS_POLICY_MAX_JOBS)
			return rc_error_usage(&ctx->err, "--jobs: between 1 and "
					      "%d, not '%s'", OPS_POLICY_MAX_JOBS,
					      a.jobs_text);
		a.jobs = (int)jobs;
	}
	rc = cli_window_hooks(ctx, &a.row);
	if (rc == 0)
		rc = policy_cli_set_now(ctx, a.now);
	if (rc == 0)
		rc = policy_cli_load(ctx, argv[1], &f);
	if (rc == 0)
		rc = cli_open_catalog(ctx, false);
	if (rc == 0) {
		rc = catalog_job_lock(ctx->catalog, CATALOG_JOB_POLICY, &ctx->err);
		locked = rc == 0;
	}
	if (rc == 0 && !a.jobs)
		a.jobs = catalog_is_rados(ctx->catalog)
			 ? OPS_POLICY_DEFAULT_JOBS_RADOS : OPS_POLICY_DEFAULT_JOBS;
	now = rc_clock_policy_now();
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
	cli_events(ctx, &op_events);
	ev.ops = &op_events;
	rc = ops_policy_run(ctx->conn, ctx->catalog, vols.items, vols.count, now,
			    a.jobs, &a.row, &ev, run.results, &ctx->err);
	if (rc < 0)
		goto out;
	if (ctx->format == FORMAT_JSON)
		rc = print_json(&run);
	if (rc < 0)
		goto out;
	print_summary(&run, &a);
	if (run.failed)
		rc = rc_error_set(&ctx->err, -EIO, "policy: %zu of %zu volumes "
				  "failed", run.failed, vols.count);
	else if (run.in_use)
		rc = rc_error_in_use(&ctx->err, "policy: %zu of %zu volumes in "
				     "use by a client, not snapshotted",
				     run.in_use, vols.count);
	if (a.gc) {
		struct rc_error volumes_err = ctx->err;
		int gc_rc = collect(ctx, f, &vols, run.results, a.jobs);

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
