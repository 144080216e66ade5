/*
 * rowcat complete: the names a shell's completion offers, one per line,
 * from the catalog alone (no cluster connection), so that the completion
 * script never parses the tables meant for people. Hidden from `rowcat
 * --help` (its summary is NULL in the command table).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define COMPLETION_TIMEOUT_SECONDS 3

static int print_volume(void *arg, const struct catalog_volume_summary *row,
			struct rc_error *err)
{
	(void)arg;
	(void)err;
	printf("%s\n", row->volume.name);
	return 0;
}

/* The volume's own snapshots gc has not removed, marked ones included:
 * they are what rm, pin, unpin, unrm and restore can name (not those of
 * the images it reads through that are not its own). */
static int print_snapshots(struct cli_ctx *ctx, const char *name)
{
	struct catalog_lineage *lineage = NULL;
	struct catalog_volume volume;
	int rc;

	rc = catalog_volume_find(ctx->catalog, name, &volume, &ctx->err);
	if (rc < 0)
		goto out;
	rc = catalog_lineage_load(&lineage, ctx->catalog, &volume, &ctx->err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < lineage->snapshot_count; i++)
		if (!lineage->snapshots[i].removed_at &&
		    catalog_lineage_owns_snapshot(lineage,
						  &lineage->snapshots[i]))
			printf("%s\n", lineage->snapshots[i].name);
out:
	catalog_lineage_free(lineage);
	return rc;
}

static void print_commands(void)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (c->summary)
			printf("%s\n", c->name);
}

int cmd_complete(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_spec spec = {
		"complete commands | complete volumes | complete snapshots VOL",
		"For shell completion: prints the commands 'rowcat --help' lists,\n"
		"the volumes of the catalog, or the snapshots of VOL that gc has\n"
		"not removed, one name per line. Reads only the catalog; with no\n"
		"catalog, or no such volume, prints nothing and exits 0. A catalog\n"
		"in RADOS is asked with a timeout of 3 s unless --timeout is given.",
		NULL, 1, 2,
	};
	int count = cli_parse(ctx, &spec, argc, argv);
	const char *what;
	int rc;

	if (count < 0 || ctx->help_shown)
		return count;
	what = argv[1];
	if (strcmp(what, "commands") == 0 && count == 1) {
		print_commands();
		return 0;
	}
	if (!((strcmp(what, "volumes") == 0 && count == 1) ||
	      (strcmp(what, "snapshots") == 0 && count == 2)))
		return rc_error_usage(&ctx->err, "usage: rowcat %s", spec.usage);
	/* a shell waits on every TAB: a catalog in RADOS on a cluster that
	 * does not answer must not hold it for the default 120 s */
	if (!ctx->ceph.timeout_seconds)
		ctx->ceph.timeout_seconds = COMPLETION_TIMEOUT_SECONDS;
	rc = cli_open_catalog(ctx, false);
	if (rc == 0 && what[0] == 'v')
		rc = catalog_volume_list(ctx->catalog, print_volume, NULL,
					 &ctx->err);
	else if (rc == 0)
		rc = print_snapshots(ctx, argv[2]);
	/* a shell asks while the line is still being typed: no catalog yet,
	 * or a volume name half written, is nothing to offer, not an error */
	if (rc == -ENOENT) {
		rc_error_clear(&ctx->err);
		rc = 0;
	}
	return rc;
}
