/*
 * rowcat policy: the command, `policy check`, and what check and run
 * share: loading the file, and which volume each policy manages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/clock.h"
#include "rowcat/sys/grow.h"
#include "json_out.h"
#include "policy_cli.h"

int policy_cli_load(struct cli_ctx *ctx, const char *path,
		    struct policy_file **out)
{
	struct policy_diagnostics diags = {0};
	int rc = policy_load(out, path, &diags, &ctx->err);

	policy_diagnostics_print(stderr, path, &diags);
	if (rc == -EINVAL && diags.errors)
		rc = rc_error_set(&ctx->err, -EINVAL, "%s: %zu error%s; nothing "
				  "was done", path, diags.errors,
				  diags.errors == 1 ? "" : "s");
	policy_diagnostics_free(&diags);
	if (rc == 0)
		rc = policy_zone_use((*out)->timezone, &ctx->err);
	if (rc < 0) {
		policy_file_free(*out);
		*out = NULL;
	}
	return rc;
}

void policy_cli_apply_cluster(struct cli_ctx *ctx, const struct policy_file *f)
{
	/* the command line wins over the file, as argv wins over CEPH_ARGS */
	if (!ctx->ceph.conf)
		ctx->ceph.conf = f->cluster_conf;
	if (!ctx->ceph.id && !ctx->ceph.name)
		ctx->ceph.id = f->cluster_id;
	if (!ctx->ceph.timeout_seconds)
		ctx->ceph.timeout_seconds = f->cluster_timeout;
}

struct collect {
	const struct policy_file *file;
	struct policy_cli_volumes *out;
	bool *pattern_used;        /* per pattern, in file order */
};

static int collect_volume(void *arg, const struct catalog_volume_summary *row,
			  struct rc_error *err)
{
	struct collect *c = arg;
	struct policy_cli_volumes *out = c->out;
	const struct rc_image_spec *at = &row->operating.spec;
	const struct policy *p;
	size_t k = 0;

	if (row->volume.marked_at)
		return 0; /* removed with rowcat rm: no policy applies any more */
	for (size_t i = 0; i < c->file->policy_count; i++) {
		const struct policy *q = &c->file->policies[i];

		for (size_t j = 0; j < q->pattern_count; j++, k++)
			c->pattern_used[k] = c->pattern_used[k] ||
				policy_pattern_matches(q->patterns[j].glob,
						       at->pool, at->ns,
						       row->volume.name);
	}
	p = policy_match(c->file, at->pool, at->ns, row->volume.name);
	if (!p) {
		if (rc_grow((void **)&out->unmanaged_names,
			    &out->unmanaged_capacity, out->unmanaged + 1,
			    sizeof(*out->unmanaged_names), 16) < 0)
			return rc_error_set(err, -ENOMEM, "out of memory");
		memcpy(out->unmanaged_names[out->unmanaged++],
		       row->volume.name, sizeof(row->volume.name));
		return 0;
	}
	if (rc_grow((void **)&out->items, &out->capacity, out->count + 1,
		    sizeof(*out->items), 16) < 0)
		return rc_error_set(err, -ENOMEM, "out of memory");
	out->items[out->count].summary = *row;
	out->items[out->count++].policy = p;
	return 0;
}

int policy_cli_volumes(struct cli_ctx *ctx, const char *path,
		       const struct policy_file *f, struct policy_cli_volumes *out)
{
	struct collect c = { f, out, NULL };
	struct policy_diagnostics warnings = {0};
	size_t patterns = 0, k = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < f->policy_count; i++)
		patterns += f->policies[i].pattern_count;
	c.pattern_used = calloc(patterns + 1, sizeof(*c.pattern_used));
	if (!c.pattern_used)
		return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	rc = catalog_volume_list(ctx->catalog, collect_volume, &c, &ctx->err);
	for (size_t i = 0; rc == 0 && i < f->policy_count; i++) {
		const struct policy *p = &f->policies[i];

		for (size_t j = 0; j < p->pattern_count; j++, k++) {
			if (!c.pattern_used[k])
				policy_diagnostics_add(&warnings,
					p->patterns[j].mark, true, "'%s' matches "
					"no volume in the catalog",
					p->patterns[j].glob);
		}
	}
	if (!ctx->quiet)
		policy_diagnostics_print(stderr, path, &warnings);
	policy_diagnostics_free(&warnings);
	free(c.pattern_used);
	return rc;
}

void policy_cli_volumes_free(struct policy_cli_volumes *v)
{
	free(v->items);
	free(v->unmanaged_names);
	memset(v, 0, sizeof(*v));
}

void policy_cli_schedule_text(const struct policy *p, char *buf, size_t len)
{
	char every[POLICY_DURATION_TEXT_MAX];

	if (p->every) {
		policy_duration_format(p->every, every);
		snprintf(buf, len, "every %s", every);
	} else {
		snprintf(buf, len, "cron %s", p->cron_text);
	}
}

void policy_cli_keep_text(const struct policy_keep *keep, char *buf,
			  size_t len)
{
	size_t used = 0;

	if (!keep->given) {
		snprintf(buf, len, "all");
		return;
	}
	buf[0] = '\0';
	if (keep->latest)
		used += (size_t)snprintf(buf + used, len - used, "latest %d",
					 keep->latest);
	for (int k = 0; k < POLICY_BUCKET_KINDS && used < len; k++) {
		if (keep->buckets[k])
			used += (size_t)snprintf(buf + used, len - used, "%s%s %d",
				used ? ", " : "",
				policy_bucket_name((enum policy_bucket)k),
				keep->buckets[k]);
	}
}

/* ---- policy check ------------------------------------------------------- */

/* One managed volume as check shows it. */
struct check_row {
	const struct ops_policy_volume *v;
	int64_t last, due;
	bool due_now;               /* as policy run decides, slack included */
};

/* A time in the file's timezone as policy_time_format writes it. */
static struct json_object *json_policy_time(int64_t t)
{
	char text[POLICY_TIME_TEXT_MAX];

	policy_time_format(t, text);
	return json_object_new_string(text);
}

static struct json_object *json_policy(const struct policy *p)
{
	struct json_object *obj = json_object_new_object(), *globs, *keep = NULL;

	if (!obj)
		return NULL;
	json_object_object_add(obj, "name", cli_json_string(p->name));
	globs = json_object_new_array();
	for (size_t j = 0; globs && j < p->pattern_count; j++)
		json_object_array_add(globs, cli_json_string(p->patterns[j].glob));
	json_object_object_add(obj, "volumes", globs);
	if (p->every)
		json_object_object_add(obj, "every_seconds",
				       json_object_new_int64(p->every));
	else
		json_object_object_add(obj, "cron", cli_json_string(p->cron_text));
	if (p->keep.given)
		keep = json_object_new_object();
	if (keep && p->keep.latest)
		json_object_object_add(keep, "latest",
				       json_object_new_int(p->keep.latest));
	for (int k = 0; keep && k < POLICY_BUCKET_KINDS; k++) {
		if (p->keep.buckets[k])
			json_object_object_add(keep, policy_bucket_name(
					(enum policy_bucket)k),
					json_object_new_int(p->keep.buckets[k]));
	}
	json_object_object_add(obj, "keep", keep);
	json_object_object_add(obj, "max_depth", json_object_new_int(p->max_depth));
	return obj;
}

static struct json_object *json_check_row(const struct check_row *row,
					  int64_t now)
{
	const struct catalog_volume_summary *s = &row->v->summary;
	struct json_object *obj = json_object_new_object();

	if (!obj)
		return NULL;
	json_object_object_add(obj, "volume", cli_json_string(s->volume.name));
	cli_json_add_image(obj, &s->operating.spec);
	json_object_object_add(obj, "policy", cli_json_string(row->v->policy->name));
	json_object_object_add(obj, "last_snapshot", row->last ?
			       json_policy_time(row->last) : NULL);
	json_object_object_add(obj, "next_due",
			       json_policy_time(row->due_now ? now : row->due));
	json_object_object_add(obj, "due_now",
			       json_object_new_boolean(row->due_now));
	json_object_object_add(obj, "depth", json_object_new_int(s->depth));
	json_object_object_add(obj, "max_depth",
			       json_object_new_int(row->v->policy->max_depth));
	return obj;
}

static int print_check_json(struct cli_ctx *ctx, const struct policy_file *f,
			    const char *path, const struct check_row *rows,
			    size_t n, const struct policy_cli_volumes *vols,
			    int64_t now)
{
	struct json_object *obj = json_object_new_object(), *policies, *volumes,
			   *unmanaged;
	bool whole = obj != NULL;
	int rc;

	if (!whole)
		return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	json_object_object_add(obj, "file", cli_json_string(path));
	json_object_object_add(obj, "timezone", cli_json_string(f->timezone));
	policies = json_object_new_array();
	json_object_object_add(obj, "policies", policies);
	for (size_t i = 0; whole && i < f->policy_count; i++)
		whole = cli_json_append(policies, json_policy(&f->policies[i]));
	volumes = json_object_new_array();
	json_object_object_add(obj, "volumes", volumes);
	for (size_t i = 0; whole && i < n; i++)
		whole = cli_json_append(volumes, json_check_row(&rows[i], now));
	/* by name, as the plain output names them */
	unmanaged = json_object_new_array();
	json_object_object_add(obj, "unmanaged_volumes", unmanaged);
	for (size_t i = 0; whole && i < vols->unmanaged; i++)
		whole = cli_json_append(unmanaged,
			       cli_json_string(vols->unmanaged_names[i]));
	rc = whole ? cli_json_print(ctx, obj)
		   : rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	json_object_put(obj);
	return rc;
}

static void print_check_plain(const struct policy_file *f, const char *path,
			      const struct check_row *rows, size_t n,
			      const struct policy_cli_volumes *vols)
{
	size_t unmanaged = vols->unmanaged;
	char schedule[160], keep[160], last[POLICY_TIME_TEXT_MAX],
	     due[POLICY_TIME_TEXT_MAX], depth[32];

	printf("%s: valid: %zu polic%s, timezone %s\n", path, f->policy_count,
	       f->policy_count == 1 ? "y" : "ies", f->timezone);
	for (size_t i = 0; i < f->policy_count; i++) {
		const struct policy *p = &f->policies[i];

		policy_cli_schedule_text(p, schedule, sizeof(schedule));
		policy_cli_keep_text(&p->keep, keep, sizeof(keep));
		printf("  policy %s: %s; keep %s; max_depth %d\n", p->name,
		       schedule, keep, p->max_depth);
	}
	if (n)
		printf("%-20s %-8s %-25s %-25s %s\n", "VOLUME", "POLICY",
		       "LAST SNAPSHOT", "NEXT DUE", "DEPTH");
	for (size_t i = 0; i < n; i++) {
		const struct catalog_volume_summary *s = &rows[i].v->summary;

		if (rows[i].last)
			policy_time_format(rows[i].last, last);
		else
			snprintf(last, sizeof(last), "-");
		if (rows[i].due_now)
			snprintf(due, sizeof(due), "now");
		else
			policy_time_format(rows[i].due, due);
		snprintf(depth, sizeof(depth), "%d/%d", s->depth,
			 rows[i].v->policy->max_depth);
		printf("%-20s %-8s %-25s %-25s %s\n", s->volume.name,
		       rows[i].v->policy->name, last, due, depth);
	}
	printf("%zu volume%s managed, %zu matching no policy%s", n,
	       n == 1 ? "" : "s", unmanaged, unmanaged ? ":" : "\n");
	/* by name: a volume left out by a pattern's typo is the one an
	 * operator must find, and a count does not say which */
	for (size_t i = 0; i < unmanaged; i++)
		printf(" %s%s", vols->unmanaged_names[i],
		       i + 1 < unmanaged ? "," : "\n");
}

static int policy_check(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *now_text = NULL;
	struct cli_option options[] = {
		{ 0, "now", CLI_OPT_STRING, &now_text, "TIME",
		  "say what is due as if it were TIME (2026-11-25T03:00:00Z)" },
		CLI_OPT_FORMAT(ctx),
		CLI_OPT_END,
	};
	struct cli_spec spec = {
		"policy check FILE [--now TIME] [--format plain|json]",
		"Validates the policy file FILE and prints every problem in it as\n"
		"FILE:LINE:COLUMN: message. When it is valid, prints for each volume\n"
		"in the catalog which policy manages it, its last snapshot by that\n"
		"policy and when the next is due (in the file's timezone), and its\n"
		"clone depth against max_depth, and names the volumes that match\n"
		"no policy. Patterns that match no volume are warnings. Changes\n"
		"nothing; needs no cluster.",
		options, 1, 1,
	};
	struct policy_file *f = NULL;
	struct policy_cli_volumes vols = {0};
	struct check_row *rows = NULL;
	int64_t now;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = policy_cli_set_now(ctx, now_text);
	if (rc == 0)
		rc = policy_cli_load(ctx, argv[1], &f);
	if (rc == 0) {
		rc = cli_open_catalog(ctx, false);
		if (rc == -ENOENT) {
			/* the file can be checked before rowcat manages
			 * anything; there are just no volumes to show */
			fprintf(stderr, "rowcat: %s; no volumes to show\n",
				ctx->err.message);
			rc_error_clear(&ctx->err);
			rc = 0;
		} else if (rc == 0) {
			rc = policy_cli_volumes(ctx, argv[1], f, &vols);
		}
	}
	if (rc < 0)
		goto out;
	now = rc_clock_policy_now();
	rows = calloc(vols.count + 1, sizeof(*rows));
	if (!rows) {
		rc = rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; rc == 0 && i < vols.count; i++) {
		struct catalog_lineage *lineage = NULL;

		rows[i].v = &vols.items[i];
		rc = catalog_lineage_load(&lineage, ctx->catalog,
					  &vols.items[i].summary.volume,
					  &ctx->err);
		if (rc == 0)
			rows[i].last = ops_policy_last_snapshot(lineage,
							vols.items[i].policy);
		if (rc == 0)
			rc = policy_next_due(vols.items[i].policy, rows[i].last,
					     &rows[i].due, &ctx->err);
		if (rc == 0)
			rc = policy_is_due(vols.items[i].policy, rows[i].last, now,
					   &rows[i].due_now, &ctx->err);
		catalog_lineage_free(lineage);
	}
	if (rc < 0)
		goto out;
	if (ctx->format == FORMAT_JSON)
		rc = print_check_json(ctx, f, argv[1], rows, vols.count,
				      &vols, now);
	else
		print_check_plain(f, argv[1], rows, vols.count, &vols);
out:
	free(rows);
	policy_cli_volumes_free(&vols);
	policy_file_free(f);
	return rc;
}

int policy_cli_set_now(struct cli_ctx *ctx, const char *text)
{
	int64_t now;
	int rc;

	if (!text)
		return 0;
	rc = rc_time_parse_iso(text, &now, &ctx->err);
	if (rc < 0)
		return rc_error_prefix(&ctx->err, "--now: ");
	rc_clock_policy_set(now);
	return 0;
}

int cmd_policy(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return policy_check(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return policy_run(ctx, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0)) {
		/* both helps, from the declarations that parse them */
		char check[] = "check", run[] = "run", help[] = "--help";
		char *check_argv[] = { check, help, NULL };
		char *run_argv[] = { run, help, NULL };
		int rc = policy_check(ctx, 2, check_argv);

		putchar('\n');
		return rc < 0 ? rc : policy_run(ctx, 2, run_argv);
	}
	return rc_error_usage(&ctx->err, "usage: rowcat policy check|run FILE; "
			      "'rowcat policy --help' says more");
}
