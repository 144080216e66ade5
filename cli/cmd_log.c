/* rowcat log: a volume's operations from the journal, newest first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rowcat/clock.h"
#include "json_out.h"

#define CLIENTS_IGNORED "; clients ignored: "
#define DESCRIPTION_MAX (2 * RC_SPEC_MAX + sizeof(CLIENTS_IGNORED) + \
			 sizeof(((struct catalog_operation *)0)->clients_ignored))

/* Whether the row the lookup asked for exists: rc 0 true, -ENOENT false
 * (the description goes without it), anything else a failure in err. */
static int row_found(int rc, bool *found, struct rc_error *err)
{
	*found = rc == 0;
	if (rc != -ENOENT)
		return rc;
	rc_error_clear(err);
	return 0;
}

/* An operation as log shows it, looked up before the first line. */
struct log_row {
	char detail[DESCRIPTION_MAX];
	struct rc_image_spec target;   /* the image made or acted on; name ""
					  when none */
	char snapshot[RC_NAME_MAX];    /* the snapshot taken or removed; "" */
};

/* What an operation made, in words ("s1 as rbd/vol1.rc3"), and the image
 * and snapshot it made or acted on. */
static int describe(struct cli_ctx *ctx, const struct catalog_operation *op,
		    struct log_row *row)
{
	struct catalog_snapshot chosen;
	struct catalog_image image;
	char target[RC_SPEC_MAX] = "", *buf = row->detail;
	size_t len = sizeof(row->detail);
	bool has_image = false, has_snapshot = false;
	int rc = 0;

	if (!op->target.name[0] && op->image_id) /* flatten */
		rc = row_found(catalog_image_get(ctx->catalog, op->image_id,
						 &image, &ctx->err),
			       &has_image, &ctx->err);
	if (rc == 0 && op->snapshot_id &&
	    (op->kind == CATALOG_OP_RESTORE || catalog_op_is_gc(op->kind)))
		rc = row_found(catalog_snapshot_get(ctx->catalog, op->snapshot_id,
						    &chosen, &ctx->err),
			       &has_snapshot, &ctx->err);
	if (rc < 0)
		return rc_error_prefix(&ctx->err, "describing operation %lld: ",
				       (long long)op->id);
	if (op->target.name[0])
		row->target = op->target;
	else if (has_image)
		row->target = image.spec;
	if (row->target.name[0])
		rc_image_spec_format(&row->target, target, sizeof(target));
	snprintf(row->snapshot, sizeof(row->snapshot), "%s",
		 catalog_op_is_gc(op->kind) && has_snapshot ? chosen.name
							    : op->target_snapshot);
	if (op->kind == CATALOG_OP_RESTORE && has_snapshot)
		snprintf(buf, len, "to %s (safety snapshot %s) as %s", chosen.name,
			 op->target_snapshot, target[0] ? target : "-");
	else if (op->kind == CATALOG_OP_SNAP && op->paused_ms >= 0 &&
		 strcmp(op->consumer.where, CATALOG_CONSUMER_HOOKS) == 0)
		snprintf(buf, len, "%s as %s; consumer frozen %.2f s",
			 op->target_snapshot, target[0] ? target : "-",
			 (double)op->paused_ms / 1000);
	else if (op->kind == CATALOG_OP_SNAP && op->paused_ms >= 0)
		snprintf(buf, len, "%s as %s; guest switched, paused %.2f s",
			 op->target_snapshot, target[0] ? target : "-",
			 (double)op->paused_ms / 1000);
	else if (op->kind == CATALOG_OP_SNAP)
		snprintf(buf, len, "%s as %s", op->target_snapshot,
			 target[0] ? target : "-");
	else if (catalog_op_is_gc(op->kind) && has_snapshot)
		snprintf(buf, len, "%s@%s (%s)", target, chosen.name, op->reason);
	else if (catalog_op_is_gc(op->kind))
		snprintf(buf, len, "%s (%s)", target, op->reason);
	else
		snprintf(buf, len, "%s", target);
	/* an override the operator chose, kept with what it let through */
	if (op->clients_ignored[0]) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, CLIENTS_IGNORED "%s",
			 op->clients_ignored);
	}
	return 0;
}

static int64_t duration_ms(const struct catalog_operation *op)
{
	if (!op->wall_finished_ms || !op->wall_started_ms)
		return -1;
	return op->wall_finished_ms - op->wall_started_ms;
}

/* Who journalled op, as "user@host[pid]"; "-" for a row from before
 * schema 9 recorded it. */
static void who(const struct catalog_operation *op, char *buf, size_t len)
{
	if (!op->host[0] && !op->user[0] && !op->pid)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s@%s[%lld]", op->user[0] ? op->user : "-",
			 op->host[0] ? op->host : "-", (long long)op->pid);
}

/* An integer, or null where it is negative (not recorded). */
static struct json_object *json_known(int64_t value)
{
	return value >= 0 ? json_object_new_int64(value) : NULL;
}

static int print_json(struct cli_ctx *ctx, const struct catalog_operation *ops,
		      const struct log_row *rows, size_t count)
{
	struct json_object *list = json_object_new_array(), *item;
	int rc;

	if (!list)
		return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		const struct catalog_operation *op = &ops[i];

		item = json_object_new_object();
		if (!cli_json_append(list, item)) {
			json_object_put(list);
			return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		}
		json_object_object_add(item, "id", json_object_new_int64(op->id));
		json_object_object_add(item, "operation", cli_json_string(
				catalog_op_kind_name(op->kind)));
		json_object_object_add(item, "started",
				       cli_json_time(catalog_op_real_started(op)));
		json_object_object_add(item, "finished",
				       cli_json_time(catalog_op_real_finished(op)));
		json_object_object_add(item, "policy_time",
				       cli_json_time(op->policy_at));
		json_object_object_add(item, "result", cli_json_string(
				catalog_op_state_name(op->state)));
		json_object_object_add(item, "step", cli_json_string(
				catalog_op_step_name(op->step)));
		json_object_object_add(item, "duration_ms",
				       json_known(duration_ms(op)));
		json_object_object_add(item, "target", rows[i].target.name[0] ?
				       cli_json_image(&rows[i].target) : NULL);
		json_object_object_add(item, "snapshot",
				       cli_json_nonempty(rows[i].snapshot));
		json_object_object_add(item, "detail",
				       cli_json_string(rows[i].detail));
		json_object_object_add(item, "clients_ignored",
				       cli_json_nonempty(op->clients_ignored));
		json_object_object_add(item, "paused_ms",
				       json_known(op->paused_ms));
		json_object_object_add(item, "error",
				       cli_json_nonempty(op->error));
		json_object_object_add(item, "host",
				       cli_json_nonempty(op->host));
		json_object_object_add(item, "user",
				       cli_json_nonempty(op->user));
		json_object_object_add(item, "pid",
				       op->pid ? json_object_new_int64(op->pid) : NULL);
	}
	rc = cli_json_print(ctx, list);
	json_object_put(list);
	return rc;
}

static void print_plain(const struct catalog_operation *ops,
			const struct log_row *rows, size_t count)
{
	char when[RC_ISO_TIME_MAX], policy[RC_ISO_TIME_MAX], took[32];
	char by[RC_USER_MAX + RC_HOST_MAX + 32];
	int by_width = 2;

	/* BY as wide as its widest: user@host[pid] varies a lot */
	for (size_t i = 0; i < count; i++) {
		who(&ops[i], by, sizeof(by));
		if ((int)strlen(by) > by_width)
			by_width = (int)strlen(by);
	}
	printf("%-20s  %-20s  %-11s  %-11s  %8s  %-*s  %s\n", "WHEN",
	       "POLICY TIME", "WHAT", "RESULT", "TOOK", by_width, "BY",
	       "DETAIL");
	for (size_t i = 0; i < count; i++) {
		const struct catalog_operation *op = &ops[i];
		int64_t ms = duration_ms(op);

		rc_time_format_iso(catalog_op_real_started(op), when);
		if (op->policy_at)
			rc_time_format_iso(op->policy_at, policy);
		else
			snprintf(policy, sizeof(policy), "-");
		if (ms >= 0)
			snprintf(took, sizeof(took), "%lld.%02llds",
				 (long long)(ms / 1000), (long long)(ms % 1000 / 10));
		else
			snprintf(took, sizeof(took), "-");
		who(op, by, sizeof(by));
		printf("%-20s  %-20s  %-11s  %-11s  %8s  %-*s  %s%s%s\n", when,
		       policy, catalog_op_kind_name(op->kind),
		       catalog_op_state_name(op->state), took, by_width, by,
		       rows[i].detail, op->error[0] ? ": " : "", op->error);
	}
}

int cmd_log(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_option options[] = { CLI_OPT_FORMAT(ctx), CLI_OPT_END };
	struct cli_spec spec = {
		"log VOL [--format plain|json]",
		"Lists the operations of VOL from the catalog's journal, newest\n"
		"first: when each started by the real clock, the policy time it\n"
		"ran as (policy run --now; '-' when none), what it was, its\n"
		"result (done, failed, rolled-back, or running while unfinished),\n"
		"how long it took, who ran it (BY: user@host[pid], the login\n"
		"name of rowcat's real uid, its host name or $ROWCAT_HOST, and\n"
		"its pid; '-' for operations journalled before rowcat recorded\n"
		"them), and what it made or why it failed; a snap or restore\n"
		"run with --ignore-clients names the clients it ignored.",
		options, 1, 1,
	};
	struct catalog_operation *ops = NULL;
	struct log_row *rows = NULL;
	struct catalog_volume volume;
	size_t count = 0;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_find_volume(ctx, argv[1], &volume);
	if (rc == 0)
		rc = catalog_op_list_volume(ctx->catalog, volume.id, &ops, &count,
					    &ctx->err);
	if (rc < 0)
		return rc;
	/* every description before the first line: a catalog that fails
	 * midway leaves no half-printed log */
	rows = calloc(count + 1, sizeof(*rows));
	if (!rows)
		rc = rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = describe(ctx, &ops[i], &rows[i]);
	if (rc < 0)
		goto out;
	if (ctx->format == FORMAT_JSON)
		rc = print_json(ctx, ops, rows, count);
	else
		print_plain(ops, rows, count);
out:
	free(rows);
	free(ops);
	return rc;
}
