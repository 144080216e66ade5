/*
 * rowcat gc: plan from the catalog, show the plan (--dry-run) or carry it
 * out, and say what was done; --metrics leaves figures for Prometheus.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rowcat/clock.h"
#include "json_out.h"
#include "rowcat/policy.h"
#include "rowcat/units.h"

#define DEFAULT_JOBS 4

/* A step as people read it. */
struct step_text {
	char volume[RC_NAME_MAX];
	struct rc_image_spec spec;
	char snapshot[RC_NAME_MAX];   /* "" unless a snapshot removal */
};

struct gc_cli {
	struct cli_ctx *ctx;
	const struct catalog_gc_plan *plan;
	struct step_text *texts;
	size_t finished, total;
	bool dry_run;
	bool verbose;                 /* list what waits, and why */
	struct catalog_gc_wait *waits; /* the plan's, kept for the end */
	size_t waiting;
	bool progress;                /* draw a progress line (a terminal) */
	/* --format json: the steps carried out so far, printed at the end
	 * (in memory like the plan itself: one object per step) */
	struct json_object *done;
};

static const char *action_word(enum catalog_gc_action action)
{
	switch (action) {
	case CATALOG_GC_TRASH:
		return "trash";
	case CATALOG_GC_REMOVE_SNAPSHOT:
		return "remove";
	case CATALOG_GC_PURGE:
		return "purge";
	}
	return "?";
}

static const char *outcome_word(enum ops_gc_outcome outcome)
{
	switch (outcome) {
	case OPS_GC_DONE:
		return "done";
	case OPS_GC_BUSY:
		return "busy";
	case OPS_GC_SKIPPED:
		return "skipped";
	case OPS_GC_FAILED:
		return "failed";
	}
	return "?";
}

static int describe(struct catalog *cat, const struct catalog_gc_step *step,
		    struct step_text *t, struct rc_error *err)
{
	struct catalog_volume volume;
	struct catalog_image image;
	struct catalog_snapshot snap;
	int rc;

	memset(t, 0, sizeof(*t));
	rc = catalog_volume_get(cat, step->volume_id, &volume, err);
	if (rc == 0)
		rc = catalog_image_get(cat, step->image_id, &image, err);
	if (rc == 0 && step->snapshot_id)
		rc = catalog_snapshot_get(cat, step->snapshot_id, &snap, err);
	if (rc < 0)
		return rc;
	snprintf(t->volume, sizeof(t->volume), "%s", volume.name);
	t->spec = image.spec;
	if (step->snapshot_id)
		snprintf(t->snapshot, sizeof(t->snapshot), "%s", snap.name);
	return 0;
}

/* The step's subject: pool/image or pool/image@snapshot. */
static void subject(const struct step_text *t, char *buf, size_t len)
{
	char image[RC_SPEC_MAX];

	rc_image_spec_format(&t->spec, image, sizeof(image));
	snprintf(buf, len, "%s%s%s", image, t->snapshot[0] ? "@" : "",
		 t->snapshot);
}

/* A step as JSON: a new object, NULL when out of memory. */
static struct json_object *json_step(const struct catalog_gc_plan *plan,
				     size_t i, const struct step_text *t)
{
	const struct catalog_gc_step *step = &plan->steps[i];
	struct json_object *obj = json_object_new_object(), *after;

	if (!obj)
		return NULL;
	json_object_object_add(obj, "step", json_object_new_int64((int64_t)i + 1));
	json_object_object_add(obj, "action",
			       cli_json_string(action_word(step->action)));
	json_object_object_add(obj, "volume", cli_json_string(t->volume));
	cli_json_add_image(obj, &t->spec);
	json_object_object_add(obj, "snapshot", cli_json_nonempty(t->snapshot));
	json_object_object_add(obj, "why", cli_json_string(
			catalog_gc_reason_text(step->reason)));
	after = json_object_new_array();
	for (size_t d = 0; after && d < step->dep_count; d++)
		json_object_array_add(after, json_object_new_int64(
			(int64_t)plan->deps[step->first_dep + d] + 1));
	json_object_object_add(obj, "after", after);
	return obj;
}

/* Image id as pool/image, for a waiting item's reason; "image N" when the
 * catalog cannot say. */
static void image_text(struct catalog *cat, int64_t id, char *buf, size_t len)
{
	struct catalog_image image;
	struct rc_error err = {0};

	if (catalog_image_get(cat, id, &image, &err) == 0)
		rc_image_spec_format(&image.spec, buf, len);
	else
		snprintf(buf, len, "image %lld", (long long)id);
}

void cli_gc_wait_text(struct catalog *cat, const struct catalog_gc_wait *w,
		      char *buf, size_t len)
{
	char when[RC_ISO_TIME_MAX], on[RC_SPEC_MAX];
	struct catalog_snapshot snap;
	struct rc_error err = {0};

	rc_time_format_iso(w->until, when);
	switch (w->why) {
	case CATALOG_GC_WAIT_YOUNG:
		snprintf(buf, len, "younger than --min-age until %s", when);
		return;
	case CATALOG_GC_WAIT_YOUNG_SNAPSHOT:
		if (catalog_snapshot_get(cat, w->on_snapshot_id, &snap, &err) < 0)
			snprintf(snap.name, sizeof(snap.name), "%lld",
				 (long long)w->on_snapshot_id);
		snprintf(buf, len, "its snapshot @%s, which goes with it, is "
			 "younger than --min-age until %s", snap.name, when);
		return;
	case CATALOG_GC_WAIT_CLONE:
		image_text(cat, w->on_image_id, on, sizeof(on));
		snprintf(buf, len, w->snapshot_id
			 ? "until its clone %s is purged from the trash"
			 : "until %s, a clone of its snapshots, is in the trash",
			 on);
		return;
	case CATALOG_GC_WAIT_TRASH_DELAY:
		snprintf(buf, len, "%s the trash until %s",
			 w->snapshot_id ? "its image is in" : "in", when);
		return;
	case CATALOG_GC_WAIT_TRASHED_NOW:
		snprintf(buf, len, "%s to the trash in this run, for the "
			 "trash delay (until about %s)",
			 w->snapshot_id ? "its image goes" : "goes", when);
		return;
	case CATALOG_GC_WAIT_SNAPSHOTS:
		snprintf(buf, len, "in the trash; purged once its snapshots "
			 "are removed");
		return;
	}
	snprintf(buf, len, "?");
}

/* --verbose: each waiting item, what it is and why it waits. */
static void print_waiting(struct gc_cli *g)
{
	struct catalog *cat = g->ctx->catalog;

	for (size_t k = 0; k < g->waiting; k++) {
		const struct catalog_gc_wait *w = &g->waits[k];
		struct catalog_gc_step as_step = {
			.volume_id = w->volume_id, .image_id = w->image_id,
			.snapshot_id = w->snapshot_id,
		};
		struct step_text t;
		struct rc_error err = {0};
		char what[RC_SPEC_MAX + RC_NAME_MAX], why[512];

		if (describe(cat, &as_step, &t, &err) < 0)
			snprintf(what, sizeof(what), "image %lld",
				 (long long)w->image_id);
		else
			subject(&t, what, sizeof(what));
		cli_gc_wait_text(cat, w, why, sizeof(why));
		printf("      %s  (%s: %s)\n", what, t.volume, why);
	}
}

static int print_plan(struct gc_cli *g, size_t count, struct rc_error *err)
{
	const struct catalog_gc_plan *plan = g->plan;
	char what[RC_SPEC_MAX + RC_NAME_MAX], when[RC_ISO_TIME_MAX];
	struct json_object *steps, *step;
	int rc = 0;

	if (g->ctx->format == FORMAT_JSON) {
		steps = json_object_new_array();
		for (size_t i = 0; steps && i < count && rc == 0; i++) {
			step = json_step(plan, i, &g->texts[i]);
			if (!cli_json_append(steps, step))
				rc = -ENOMEM;
		}
		if (steps && rc == 0)
			rc = cli_json_print(g->ctx, steps);
		else
			rc = rc_error_set(err, -ENOMEM, "out of memory");
		json_object_put(steps);
		return rc;
	}
	printf("gc plan: %zu step%s\n", count, count == 1 ? "" : "s");
	for (size_t i = 0; i < count; i++) {
		subject(&g->texts[i], what, sizeof(what));
		printf("%4zu  %-6s  %s  (%s: %s)\n", i + 1,
		       action_word(plan->steps[i].action), what,
		       g->texts[i].volume,
		       catalog_gc_reason_text(plan->steps[i].reason));
	}
	if (count < plan->count)
		printf("(%zu more steps beyond --max-steps)\n", plan->count - count);
	if (plan->waiting)
		printf("waiting: %zu garbage item%s not collectable yet (younger "
		       "than --min-age, in the trash, or behind those)\n",
		       plan->waiting, plan->waiting == 1 ? "" : "s");
	if (g->verbose)
		print_waiting(g);
	if (plan->next_purge_at) {
		rc_time_format_iso(plan->next_purge_at, when);
		printf("next trash delay ends at %s\n", when);
	}
	return 0;
}

/* ---- while it runs ------------------------------------------------------ */

static void clear_progress(struct gc_cli *g)
{
	if (g->progress && g->ctx->progress_shown) {
		fputs("\r\033[K", stderr);
		g->ctx->progress_shown = false;
	}
}

static void step_done(void *arg, const struct ops_gc_step_report *r)
{
	struct gc_cli *g = arg;
	const struct step_text *t = &g->texts[r->index];
	char what[RC_SPEC_MAX + RC_NAME_MAX], size[RC_SIZE_TEXT_MAX];
	struct json_object *step;
	static const char *const done_words[] = {
		[CATALOG_GC_TRASH] = "moved to the trash",
		[CATALOG_GC_REMOVE_SNAPSHOT] = "removed",
		[CATALOG_GC_PURGE] = "purged from the trash",
	};

	g->finished++;
	subject(t, what, sizeof(what));
	clear_progress(g);
	if (g->ctx->format == FORMAT_JSON) {
		/* a step json-c cannot hold is left out of the answer, not
		 * out of the run: gc goes on, and says so on stderr */
		step = json_step(g->plan, r->index, t);
		if (step) {
			json_object_object_add(step, "outcome", cli_json_string(
					outcome_word(r->outcome)));
			if (r->message)
				json_object_object_add(step, "message",
						cli_json_string(r->message));
			if (r->step->action == CATALOG_GC_PURGE &&
			    r->outcome == OPS_GC_DONE && r->bytes_known)
				json_object_object_add(step, "bytes",
					json_object_new_int64((int64_t)r->bytes));
		}
		if (!cli_json_append(g->done, step)) {
			fprintf(stderr, "rowcat: gc: out of memory: step %zu "
				"(%s) is missing from the JSON answer\n",
				r->index + 1, what);
		}
	} else if (r->outcome == OPS_GC_DONE) {
		rc_size_format(r->bytes, size);
		printf("%s %s%s%s%s\n", what, done_words[r->step->action],
		       r->step->action == CATALOG_GC_PURGE && r->bytes_known ? " (" : "",
		       r->step->action == CATALOG_GC_PURGE && r->bytes_known ? size : "",
		       r->step->action == CATALOG_GC_PURGE && r->bytes_known ? ")" : "");
		fflush(stdout);
	} else if (!g->ctx->quiet || r->outcome == OPS_GC_FAILED) {
		fprintf(stderr, "rowcat: gc: %s %s: %s\n", outcome_word(r->outcome),
			what, r->message ? r->message : "");
	}
	if (g->progress) {
		fprintf(stderr, "\rCollecting garbage: %zu/%zu steps...",
			g->finished, g->total);
		g->ctx->progress_shown = true;
	}
}

static void print_summary(struct gc_cli *g, const struct ops_gc_report *rep,
			  size_t waiting)
{
	char freed[RC_SIZE_TEXT_MAX], bytes_note[96] = "";

	clear_progress(g);
	if (g->ctx->quiet || g->ctx->format == FORMAT_JSON)
		return;
	rc_size_format(rep->bytes_freed, freed);
	if (rep->purged && rep->purges_unmeasured)
		snprintf(bytes_note, sizeof(bytes_note), "; %zu purged image%s "
			 "had no valid object map to measure cheaply",
			 rep->purges_unmeasured,
			 rep->purges_unmeasured == 1 ? "" : "s");
	fprintf(stderr, "rowcat: gc: %zu image%s moved to the trash, %zu "
		"snapshot%s removed, %zu image%s purged (%s freed by purged "
		"images; removed snapshots are not measured%s); %zu busy, %zu "
		"skipped, %zu failed; %zu waiting\n",
		rep->trashed, rep->trashed == 1 ? "" : "s",
		rep->snapshots_removed, rep->snapshots_removed == 1 ? "" : "s",
		rep->purged, rep->purged == 1 ? "" : "s", freed, bytes_note,
		rep->busy, rep->skipped, rep->failed, waiting);
}

/* The figures of a run, for --metrics. */
static int write_metrics(const char *path, const struct ops_gc_job_report *job,
			 int64_t started_ms, bool ok, struct rc_error *err)
{
	const struct ops_gc_report *rep = &job->run;
	struct cli_metrics m;
	int rc = cli_metrics_begin(&m, "gc", "Whether the last run had no "
				   "failed step.", started_ms, ok, err);

	if (rc < 0)
		return rc;
	cli_metric(m.out, "rowcat_gc_steps", "Steps of the last run, by outcome.",
		   "{outcome=\"done\"}", (double)rep->done);
	cli_metric(m.out, "rowcat_gc_steps", NULL, "{outcome=\"busy\"}",
		   (double)rep->busy);
	cli_metric(m.out, "rowcat_gc_steps", NULL, "{outcome=\"skipped\"}",
		   (double)rep->skipped);
	cli_metric(m.out, "rowcat_gc_steps", NULL, "{outcome=\"failed\"}",
		   (double)rep->failed);
	cli_metric(m.out, "rowcat_gc_waiting", "Garbage not collectable yet "
		   "after the last run.", NULL, (double)job->waiting);
	cli_metric(m.out, "rowcat_gc_freed_bytes", "Bytes the last run's purges "
		   "freed, where measured.", NULL, (double)rep->bytes_freed);
	return cli_metrics_end(&m, path, err);
}

/* ---- the command -------------------------------------------------------- */

struct gc_args {
	bool dry_run, verbose;
	const char *min_age, *trash_delay, *metrics, *now;
	int jobs, max_steps;
};

static int parse_gc_options(struct cli_ctx *ctx, const struct gc_args *a,
			    struct ops_gc_options *opts)
{
	int rc;

	memset(opts, 0, sizeof(*opts));
	opts->jobs = a->jobs;
	/* the real clock decides every step gc takes; another time may only
	 * show what a plan would be then */
	opts->plan.now = rc_clock_now();
	if (a->now && !a->dry_run)
		return rc_error_usage(&ctx->err, "--now only with --dry-run: gc "
				      "judges --min-age and the trash delay by "
				      "the real clock");
	if (a->now) {
		rc = rc_time_parse_iso(a->now, &opts->plan.now, &ctx->err);
		if (rc < 0)
			return rc_error_prefix(&ctx->err, "--now: ");
	}
	rc = policy_duration_parse(a->min_age, &opts->plan.min_age, &ctx->err);
	if (rc < 0)
		return rc_error_prefix(&ctx->err, "--min-age: ");
	rc = policy_duration_parse(a->trash_delay, &opts->plan.trash_delay,
				   &ctx->err);
	if (rc < 0)
		return rc_error_prefix(&ctx->err, "--trash-delay: ");
	if (a->jobs > 64)
		return rc_error_usage(&ctx->err, "--jobs: at most 64, not %d",
				      a->jobs);
	return 0;
}

/* What recovery settled before the plan, when it settled anything. */
static void recovered(void *arg, const struct ops_recovery *r)
{
	struct gc_cli *g = arg;
	int settled = r->finished + r->undone + r->failed;

	if (!g->ctx->quiet && settled)
		fprintf(stderr, "rowcat: gc: recovered %d unfinished "
			"operation%s first\n", settled, settled == 1 ? "" : "s");
}

static int connect_cluster(void *arg, struct rbd_conn **conn,
			   struct rc_error *err)
{
	struct gc_cli *g = arg;

	return cli_connect_event(g->ctx, conn, err);
}

/* The plan as people read it: shown (--dry-run), or the run begins. */
static int planned(void *arg, const struct catalog_gc_plan *plan, size_t count,
		   struct rc_error *err)
{
	struct gc_cli *g = arg;
	struct cli_ctx *ctx = g->ctx;
	int rc = 0;

	g->plan = plan;
	g->total = count;
	if (g->verbose && plan->waiting) {
		g->waits = malloc(plan->waiting * sizeof(*g->waits));
		if (!g->waits)
			return rc_error_set(err, -ENOMEM, "out of memory");
		memcpy(g->waits, plan->waits, plan->waiting * sizeof(*g->waits));
		g->waiting = plan->waiting;
	}
	g->texts = calloc(count + 1, sizeof(*g->texts));
	if (!g->texts)
		return rc_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = describe(ctx->catalog, &plan->steps[i], &g->texts[i], err);
	if (rc < 0)
		return rc;
	if (g->dry_run)
		return print_plan(g, count, err);
	g->progress = cli_progress_wanted(ctx);
	if (ctx->format == FORMAT_JSON) {
		g->done = json_object_new_array();
		if (!g->done)
			return rc_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int cmd_gc(struct cli_ctx *ctx, int argc, char **argv)
{
	struct gc_args a = { false, false, CLI_GC_MIN_AGE, CLI_GC_TRASH_DELAY,
			     NULL, NULL, DEFAULT_JOBS, 0 };
	struct cli_option options[] = {
		{ 0, "dry-run", CLI_OPT_FLAG, &a.dry_run, NULL,
		  "print the plan (what, why, in order); change nothing" },
		{ 0, "min-age", CLI_OPT_STRING, &a.min_age, "DURATION",
		  "collect nothing younger than this (default " CLI_GC_MIN_AGE ")" },
		{ 0, "trash-delay", CLI_OPT_STRING, &a.trash_delay, "DURATION",
		  "keep images in the RBD trash this long before purging them "
		  "(default " CLI_GC_TRASH_DELAY ")" },
		{ 'j', "jobs", CLI_OPT_INT, &a.jobs, "N",
		  "steps on different images carried out at once (default 4)" },
		{ 0, "max-steps", CLI_OPT_INT, &a.max_steps, "N",
		  "carry out at most N steps of the plan in this run" },
		{ 0, "metrics", CLI_OPT_STRING, &a.metrics, "FILE",
		  "write Prometheus text-format figures of the run to FILE "
		  "(atomically, for node_exporter's textfile collector)" },
		{ 0, "verbose", CLI_OPT_FLAG, &a.verbose, NULL,
		  "list the garbage that is not collectable yet, each with why\n"
		  "it waits and until when (plain output: refused with\n--format json)" },
		{ 0, "now", CLI_OPT_STRING, &a.now, "TIME",
		  "with --dry-run: the plan as it would be at TIME "
		  "(2026-11-25T03:00:00Z); a run that collects always judges "
		  "--min-age and the trash delay by the real clock" },
		CLI_OPT_FORMAT(ctx),
		CLI_OPT_END,
	};
	struct cli_spec spec = {
		"gc [--dry-run] [--min-age DURATION] [--trash-delay DURATION] "
		"[--jobs N] [--max-steps N] [--metrics FILE] [--verbose] "
		"[--dry-run --now TIME] [--format plain|json]",
		"Collects what nobody needs, leaf first: moves unneeded images to\n"
		"the RBD trash (restorable with 'rowcat unrm' until their\n"
		"delay ends), unprotects and removes unneeded snapshots, and purges\n"
		"images whose delay has ended. A snapshot is needed while it is\n"
		"pinned, not marked by 'rowcat rm', or read through by a needed\n"
		"image; an image while it is an operating image, carries a needed\n"
		"snapshot, or is read through by a needed image. Images open by a\n"
		"client are kept (busy) and tried again by the next run. One gc\n"
		"runs at a time.",
		options, 0, 0,
	};
	struct gc_cli g = { .ctx = ctx };
	struct ops_gc_scope scope = { .every_volume = true };
	struct ops_gc_job_options opts = {0};
	struct ops_gc_job_report report = {0};
	struct ops_gc_job_events ev = {
		.connect = connect_cluster, .recovered = recovered,
		.planned = planned, .step_done = step_done, .ctx = &g,
	};
	struct ops_events op_events;
	int64_t started_ms = rc_wall_ms();
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = parse_gc_options(ctx, &a, &opts.gc);
	if (rc == 0 && a.verbose && ctx->format == FORMAT_JSON)
		rc = rc_error_usage(&ctx->err, "--verbose lists in plain text; "
				    "give it without --format json");
	if (rc == 0)
		rc = cli_open_catalog(ctx, false);
	if (rc < 0)
		return rc;
	g.dry_run = opts.dry_run = a.dry_run;
	g.verbose = a.verbose;
	cli_events(ctx, &op_events);
	ev.ops = &op_events;
	opts.max_steps = a.max_steps > 0 ? (size_t)a.max_steps : 0;
	rc = ops_gc_job(NULL, ctx->catalog, &scope, &opts, &ev, &report,
			&ctx->err);
	if (report.ran) {
		if (g.done) {
			int printed = cli_json_print(ctx, g.done);

			if (rc == 0)
				rc = printed;
		}
		print_summary(&g, &report.run, report.waiting);
		if (g.verbose && g.waiting) {
			printf("waiting: %zu garbage item%s not collectable "
			       "yet:\n", g.waiting, g.waiting == 1 ? "" : "s");
			print_waiting(&g);
		}
	}
	/* every run that held the lock reports, failed ones too */
	if (a.metrics && report.locked) {
		struct rc_error metrics_err = {0};

		rc = cli_metrics_outcome(ctx, rc, write_metrics(a.metrics,
					 &report, started_ms, rc == 0,
					 &metrics_err), &metrics_err);
	}
	json_object_put(g.done);
	free(g.texts);
	free(g.waits);
	return rc;
}
