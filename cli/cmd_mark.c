/*
 * rm, pin and unpin: what gc may take and what it must keep. Catalog
 * only; nothing on the cluster changes until `rowcat gc`.
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
	if (rc == 0 && !ctx->quiet)
		fprintf(stderr, "rowcat: %s%s%s marked for collection; "
			"'rowcat gc' removes it when nothing needs it\n",
			volume.name, snap ? "@" : "", snap ? snap : "");
	return rc;
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
