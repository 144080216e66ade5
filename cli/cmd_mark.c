/*
 * rm, pin and unpin: what gc may take and what it must keep. Catalog
 * only; nothing on the cluster changes until `rowcat gc`. unrm undoes rm,
 * from the RBD trash when gc has moved images there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rowcat/clock.h"

/* Splits "VOL@SNAP" (snap may be NULL for "VOL" when allowed) and finds
 * the volume. */
static int parse_target(struct cli_ctx *ctx, char *text, bool snap_required,
			struct catalog_volume *volume, const char **snap)
{
	int rc = cli_snapshot_arg(ctx, text, NULL, snap);

	if (rc < 0)
		return rc;
	if (!*snap && snap_required)
		return rc_error_usage(&ctx->err, "'%s' names no snapshot: "
				      "write VOL@SNAP", text);
	return cli_find_volume(ctx, text, volume);
}

int cmd_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_spec spec = {
		"rm VOL@SNAP | rm VOL",
		"Marks a snapshot, or a whole volume with every image and snapshot\n"
		"of it, for collection. Nothing on the cluster changes: 'rowcat gc'\n"
		"removes what is marked once nothing needs it any more (a snapshot\n"
		"that the operating image still reads through stays until a\n"
		"flatten). Pinned snapshots are kept; a pinned snapshot cannot be\n"
		"marked until it is unpinned.",
		NULL, 1, 1,
	};
	struct catalog_volume volume;
	const char *snap;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = parse_target(ctx, argv[1], false, &volume, &snap);
	if (rc < 0)
		return rc;
	if (snap)
		rc = catalog_snapshot_mark(ctx->catalog, volume.id, snap,
					   rc_clock_now(), &ctx->err);
	else
		rc = catalog_volume_mark(ctx->catalog, volume.id, rc_clock_now(),
					 &ctx->err);
	if (rc == -EBUSY)
		rc_error_prefix(&ctx->err, "volume '%s' is busy: ", volume.name);
	if (rc == 0 && !ctx->quiet)
		fprintf(stderr, "rowcat: %s%s%s marked for collection; "
			"'rowcat gc' removes it when nothing needs it\n",
			volume.name, snap ? "@" : "", snap ? snap : "");
	return rc;
}

int cmd_unrm(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_spec spec = {
		"unrm VOL@SNAP | unrm VOL",
		"Undoes 'rowcat rm': clears the mark of the snapshot, or of the\n"
		"volume. Before gc collected anything, that is all (catalog only;\n"
		"no cluster is needed). When gc has moved images that the volume\n"
		"needs again to the RBD trash, they are restored from it under\n"
		"their names, in one journalled operation that clears the mark as\n"
		"it ends ('rowcat recover' finishes it after a crash). What gc made\n"
		"final cannot come back: a snapshot it removed, an image it purged\n"
		"once its trash delay was over; unrm says so and changes nothing.\n"
		"Undoing what is not marked changes nothing.",
		NULL, 1, 1,
	};
	struct ops_unrm_events ev = { .connect = cli_connect_event, .ctx = ctx };
	struct ops_unrm_result result;
	struct ops_events op_events;
	struct catalog_volume volume;
	const char *snap;
	char name[RC_NAME_MAX], target[RC_SPEC_MAX];
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = parse_target(ctx, argv[1], false, &volume, &snap);
	if (rc < 0)
		return rc;
	snprintf(name, sizeof(name), "%s", volume.name);
	snprintf(target, sizeof(target), "%s%s%s", name, snap ? "@" : "",
		 snap ? snap : "");
	cli_events(ctx, &op_events);
	ev.ops = &op_events;
	rc = ops_volume_unrm(ctx->conn, ctx->catalog, name, snap, &ev, &result,
			     &ctx->err);
	if (rc < 0 || ctx->quiet)
		return rc;
	if (result.nothing_to_do)
		fprintf(stderr, "rowcat: %s is not marked for collection; "
			"nothing to undo\n", target);
	else if (result.restored)
		fprintf(stderr, "rowcat: %s unmarked; %zu image%s restored "
			"from the RBD trash\n", target, result.restored,
			result.restored == 1 ? "" : "s");
	else
		fprintf(stderr, "rowcat: %s unmarked\n", target);
	/* retention marks its snapshots again at its next run */
	if (snap && strncmp(result.origin, "policy:", 7) == 0)
		fprintf(stderr, "rowcat: %s@%s was taken by %s, whose retention "
			"may mark it again; 'rowcat pin %s@%s' keeps it\n", name,
			snap, result.origin, name, snap);
	return 0;
}

static int set_pinned(struct cli_ctx *ctx, int argc, char **argv, bool pinned)
{
	struct cli_spec spec = {
		pinned ? "pin VOL@SNAP" : "unpin VOL@SNAP",
		pinned ? "Pins a snapshot: gc never removes it, nor anything it "
			 "reads\nthrough, whatever any mark or policy says."
		       : "Unpins a snapshot: gc may collect it again once it is "
			 "marked\n(or expired by a policy) and nothing needs it.",
		NULL, 1, 1,
	};
	struct catalog_volume volume;
	const char *snap;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = parse_target(ctx, argv[1], true, &volume, &snap);
	if (rc == 0)
		rc = catalog_snapshot_set_pinned(ctx->catalog, volume.id, snap,
						 pinned, &ctx->err);
	if (rc == -EBUSY || rc == -EAGAIN)
		rc_error_prefix(&ctx->err, "volume '%s' is busy: ", volume.name);
	if (rc == 0 && !ctx->quiet)
		fprintf(stderr, "rowcat: %s@%s %s\n", volume.name, snap,
			pinned ? "pinned" : "unpinned");
	return rc;
}

int cmd_pin(struct cli_ctx *ctx, int argc, char **argv)
{
	return set_pinned(ctx, argc, argv, true);
}

int cmd_unpin(struct cli_ctx *ctx, int argc, char **argv)
{
	return set_pinned(ctx, argc, argv, false);
}
