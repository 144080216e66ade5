/* The ROW commands: snap, restore, flatten. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "rowcat/policy.h"
#include "rowcat/qmp.h"

/*
 * Reports what snap or restore did: JSON on stdout, or a line on stderr.
 * The JSON names the snapshot taken (snap's, or restore's safety
 * snapshot) as rbd does, on the image it was taken of, and the operating
 * image the volume switched to.
 */
static int print_switch(struct cli_ctx *ctx, const char *volume,
			const char *what, const struct ops_result *r)
{
	char old_text[RC_SPEC_MAX], new_text[RC_SPEC_MAX];
	struct json_object *obj;
	int rc;

	rc_image_spec_format(&r->old_image, old_text, sizeof(old_text));
	rc_image_spec_format(&r->new_image, new_text, sizeof(new_text));
	if (ctx->format == FORMAT_JSON) {
		obj = json_object_new_object();
		if (!obj)
			return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		json_object_object_add(obj, "volume", cli_json_string(volume));
		cli_json_add_image(obj, &r->old_image);
		json_object_object_add(obj, "snapshot",
				       cli_json_string(r->snapshot));
		json_object_object_add(obj, "operating",
				       cli_json_image(&r->new_image));
		if (r->paused_ms >= 0)
			json_object_object_add(obj, "paused_ms",
					json_object_new_int64(r->paused_ms));
		rc = cli_json_print(ctx, obj);
		json_object_put(obj);
		return rc;
	} else if (!ctx->quiet && r->paused_ms >= 0 && r->frozen) {
		fprintf(stderr, "rowcat: %s: %s %s@%s; operating image now %s; "
			"consumer frozen %.2f s\n", volume, what, old_text,
			r->snapshot, new_text, (double)r->paused_ms / 1000);
	} else if (!ctx->quiet && r->paused_ms >= 0) {
		fprintf(stderr, "rowcat: %s: %s %s@%s; operating image now %s; "
			"guest switched, paused %.2f s\n", volume, what, old_text,
			r->snapshot, new_text, (double)r->paused_ms / 1000);
	} else if (!ctx->quiet) {
		fprintf(stderr, "rowcat: %s: %s %s@%s; operating image now %s\n",
			volume, what, old_text, r->snapshot, new_text);
	}
	return 0;
}

/* The policy file the policy timer runs (rowcat-policy.service), which a
 * manual snap reads for the volume's max_depth. */
#define POLICY_FILE_DEFAULT "/etc/rowcat/policy.yaml"

/*
 * Warns when depth passes the max_depth of the policy that manages the
 * volume: in $ROWCAT_POLICY_FILE, else POLICY_FILE_DEFAULT (an empty
 * $ROWCAT_POLICY_FILE: none). A file that is missing or does not parse
 * gives no warning: the snap is done, and `policy check` is where a file's
 * mistakes are told.
 */
static void policy_depth_warning(const char *volume, const char *image_text,
				 const struct rc_image_spec *image, int depth)
{
	const char *path = getenv("ROWCAT_POLICY_FILE");
	struct policy_diagnostics diags = {0};
	struct policy_file *file = NULL;
	struct rc_error err = {0};
	const struct policy *p;

	if (!path)
		path = POLICY_FILE_DEFAULT;
	if (!path[0] || policy_load(&file, path, &diags, &err) < 0)
		goto out;
	p = policy_match(file, image->pool, image->ns, volume);
	if (p && depth > p->max_depth)
		fprintf(stderr, "rowcat: warning: %s's operating image %s reads "
			"through %d clone levels, more than max_depth %d of "
			"policy '%s' (%s); the next policy run flattens it, or "
			"'rowcat flatten %s' now\n", volume, image_text, depth,
			p->max_depth, p->name, path, volume);
out:
	policy_diagnostics_free(&diags);
	policy_file_free(file);
}

/*
 * Warns on stderr, whatever --quiet says, when the operating image that
 * snap or restore left reads through a clone chain deeper than the
 * volume's policy allows (policy_depth_warning), or nearing or past what
 * krbd maps (rbdops.h).
 */
static void depth_warning(const char *volume, const struct ops_result *r)
{
	char text[RC_SPEC_MAX];
	int depth = r->depth;

	rc_image_spec_format(&r->new_image, text, sizeof(text));
	policy_depth_warning(volume, text, &r->new_image, depth);
	if (depth < RBDOPS_KRBD_DEPTH_WARN)
		return;
	if (depth > RBDOPS_KRBD_MAX_PARENT_CHAIN)
		fprintf(stderr, "rowcat: warning: %s's operating image %s reads "
			"through %d clone levels, more than the %d that the "
			"kernel's rbd client maps ('rbd map' fails: parent chain "
			"is too long; librbd clients such as QEMU are not "
			"limited); 'rowcat flatten %s' brings it to 0\n", volume,
			text, depth, RBDOPS_KRBD_MAX_PARENT_CHAIN, volume);
	else
		fprintf(stderr, "rowcat: warning: %s's operating image %s reads "
			"through %d clone levels; the kernel's rbd client maps "
			"at most %d; 'rowcat flatten %s' brings it to 0\n",
			volume, text, depth, RBDOPS_KRBD_MAX_PARENT_CHAIN, volume);
}

/* Finds the volume in the catalog (and, for a restore, its snapshot
 * source), then connects: a name that is wrong, or a volume removed with
 * rowcat rm, is refused without a cluster. The rules themselves are the
 * operation's (catalog_op_begin, the restore's own lookup); this only
 * says it early, without connecting. */
static int prepare(struct cli_ctx *ctx, const char *volume, const char *source)
{
	struct catalog_snapshot snapshot;
	struct catalog_volume found;
	/* a bad name is refused before the catalog is looked for */
	int rc = cli_volume_name_check(ctx, volume);

	if (rc == 0)
		rc = cli_open_catalog(ctx, false);
	if (rc == 0)
		rc = catalog_read_begin(ctx->catalog, &ctx->err);
	if (rc < 0)
		return rc;
	rc = cli_find_volume(ctx, volume, &found);
	if (rc == 0 && found.marked_at)
		rc = rc_error_set(&ctx->err, -EPERM, "volume '%s' was removed "
				  "('rowcat rm'); it is marked for collection",
				  volume);
	if (rc == 0 && source)
		rc = catalog_snapshot_find(ctx->catalog, found.id, source,
					   &snapshot, &ctx->err);
	catalog_read_end(ctx->catalog);
	if (rc == 0)
		rc = cli_connect(ctx);
	return rc;
}

/* --ignore-clients, as snap and restore declare it. */
#define OPT_IGNORE_CLIENTS(opts) \
	{ 0, "ignore-clients", CLI_OPT_FLAG, &(opts)->ignore_clients, NULL, \
	  "go on although another client has the operating image open " \
	  "(one that only reads); 'rowcat log' names the clients ignored" }

/* The live-snap options: --qmp's address, --pause-timeout's duration. */
static int live_options(struct cli_ctx *ctx, const char *qmp,
			const char *pause_timeout, char where[QMP_WHERE_MAX],
			struct ops_row_options *opts)
{
	int64_t seconds = 0;
	int rc = 0;

	if (qmp) {
		rc = qmp_where_normalize(qmp, where, &ctx->err);
		if (rc < 0) {
			ctx->err.usage = true;
			return rc_error_prefix(&ctx->err, "--qmp: ");
		}
		opts->consumer = where;
	}
	if (pause_timeout) {
		rc = policy_duration_parse(pause_timeout, &seconds, &ctx->err);
		if (rc == 0 && seconds < 1)
			rc = rc_error_usage(&ctx->err, "a pause of less than 1 s "
					    "cannot hold a snapshot");
		if (rc < 0)
			return rc_error_prefix(&ctx->err, "--pause-timeout: ");
		opts->pause_timeout_ms = seconds * 1000;
	}
	return 0;
}

int cmd_snap(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *qmp = NULL, *pause_timeout = NULL;
	struct ops_row_options opts = {0};
	struct cli_option options[] = {
		OPT_IGNORE_CLIENTS(&opts),
		CLI_OPT_FORMAT(ctx),
		{ 0, "qmp", CLI_OPT_STRING, &qmp, "SOCKET|virsh:DOMAIN",
		  "the monitor of the QEMU running on VOL: pause its guest, "
		  "switch its disk to the clone, resume it (default: the one "
		  "'rowcat consumer' recorded)" },
		{ 0, "pause-timeout", CLI_OPT_STRING, &pause_timeout, "DURATION",
		  "resume the guest on its image (or run the thaw hook) and "
		  "undo the snap when the pause lasts longer (default 10s)" },
		CLI_OPT_END };
	struct cli_spec spec = {
		"snap VOL[@NAME] | snap VOL [NAME]",
		"Takes a redirect-on-write snapshot of VOL: snapshots its operating\n"
		"image as NAME (default: the UTC time, like 20261125T103000Z),\n"
		"protects the snapshot, clones it into a new image VOL.rcN and makes\n"
		"that clone the operating image, which all later writes go to.\n"
		"Snapshot names are unique within a volume. The switch hook runs\n"
		"after the switch. Refused (exit 3, nothing changed) while another\n"
		"client has the operating image open: its later writes would be\n"
		"stranded in the old image. Stop it first, or --ignore-clients.\n"
		"With a running QEMU on VOL (--qmp, or 'rowcat consumer'), the snap\n"
		"is live: the guest is paused, snapshotted, its disk switched to\n"
		"the clone, and resumed; the pause is printed and logged. With\n"
		"--on-freeze and --on-thaw (another consumer: krbd, rbd-nbd, a\n"
		"script), the freeze hook runs first, then the snapshot and clone,\n"
		"the switch and the switch hook, then the thaw hook, which always\n"
		"runs ('rowcat recover' runs it after a crash). The snapshot is\n"
		"taken with librbd's quiesce notification: a client that fails to\n"
		"quiesce (rbd-nbd --quiesce's hook) fails the snap. A warning says\n"
		"when the clone reads through 12 or more clone levels (the kernel's\n"
		"rbd client maps at most 16): 'rowcat flatten VOL' cuts the chain.",
		options, 1, 2,
	};
	char where[QMP_WHERE_MAX];
	struct ops_events ev;
	struct ops_result result;
	const char *name = NULL;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_snapshot_arg(ctx, argv[1], rc == 2 ? argv[2] : NULL, &name);
	if (rc < 0)
		return rc;
	rc = live_options(ctx, qmp, pause_timeout, where, &opts);
	if (rc == 0)
		rc = cli_window_hooks(ctx, &opts);
	if (rc == 0)
		rc = prepare(ctx, argv[1], NULL);
	if (rc < 0)
		return rc;
	cli_events(ctx, &ev);
	rc = ops_volume_snap(ctx->conn, ctx->catalog, argv[1], name, "manual",
			     &opts, &ev, &result, &ctx->err);
	if (rc == 0 || result.new_image.name[0]) {
		int printed = print_switch(ctx, argv[1], "snapshot", &result);

		if (rc == 0)
			rc = printed;
		depth_warning(argv[1], &result);
	}
	return rc;
}

int cmd_restore(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ops_row_options row = {0};
	struct cli_option options[] = { OPT_IGNORE_CLIENTS(&row),
					CLI_OPT_FORMAT(ctx), CLI_OPT_END };
	struct cli_spec spec = {
		"restore VOL@SNAP | restore VOL SNAP",
		"Restores VOL to its snapshot SNAP (any snapshot in its tree): first\n"
		"a protected safety snapshot of the operating image (origin\n"
		"pre-restore, named pre-restore-TIME), so the restore itself can be\n"
		"undone, then a new clone of SNAP becomes the operating image.\n"
		"Nothing is deleted. The switch hook runs after the switch.\n"
		"Refused (exit 3, nothing changed) while another client has the\n"
		"operating image open: stop the guest first, or --ignore-clients.",
		options, 1, 2,
	};
	struct ops_events ev;
	struct ops_result result;
	const char *snap;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_snapshot_arg(ctx, argv[1], rc == 2 ? argv[2] : NULL, &snap);
	if (rc == 0 && !snap)
		rc = rc_error_usage(&ctx->err, "'%s' names no snapshot: write "
				    "VOL@SNAP or VOL SNAP", argv[1]);
	if (rc == 0)
		rc = prepare(ctx, argv[1], snap);
	if (rc < 0)
		return rc;
	cli_events(ctx, &ev);
	rc = ops_volume_restore(ctx->conn, ctx->catalog, argv[1], snap, &row,
				&ev, &result, &ctx->err);
	if (rc == 0 || result.new_image.name[0]) {
		int printed = print_switch(ctx, argv[1], "safety snapshot", &result);

		if (rc == 0)
			rc = printed;
		depth_warning(argv[1], &result);
	}
	return rc;
}

int cmd_flatten(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_option options[] = { CLI_OPT_FORMAT(ctx), CLI_OPT_END };
	struct cli_spec spec = {
		"flatten VOL [--format plain|json]",
		"Flattens the operating image of VOL: copies in everything it reads\n"
		"from its ancestors, so that it has no parent on the cluster and its\n"
		"clone depth is 0. The catalog keeps where it came from, as history.\n"
		"Progress is shown on a terminal (not with -q). JSON: the\n"
		"operating image, and whether it was flattened (false: it had no\n"
		"parent).",
		options, 1, 1,
	};
	struct ops_events ev;
	struct ops_result result;
	struct json_object *obj;
	char text[RC_SPEC_MAX];
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = prepare(ctx, argv[1], NULL);
	if (rc < 0)
		return rc;
	cli_events(ctx, &ev);
	rc = ops_volume_flatten(ctx->conn, ctx->catalog, argv[1], &ev, &result,
				&ctx->err);
	cli_progress_end(ctx, rc == 0);
	if (rc == 0 && ctx->format == FORMAT_JSON) {
		obj = json_object_new_object();
		if (!obj)
			return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		json_object_object_add(obj, "volume", cli_json_string(argv[1]));
		cli_json_add_image(obj, &result.new_image);
		json_object_object_add(obj, "flattened",
				json_object_new_boolean(!result.nothing_to_do));
		rc = cli_json_print(ctx, obj);
		json_object_put(obj);
		return rc;
	}
	if (rc < 0 || ctx->quiet)
		return rc;
	rc_image_spec_format(&result.new_image, text, sizeof(text));
	if (result.nothing_to_do)
		fprintf(stderr, "rowcat: %s: %s has no parent; nothing to flatten\n",
			argv[1], text);
	else
		fprintf(stderr, "rowcat: %s: %s flattened\n", argv[1], text);
	return 0;
}
