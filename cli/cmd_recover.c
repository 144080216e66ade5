/* rowcat recover, and rowcat debug: the crash-safety commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rowcat/sys/failpoint.h"

int cmd_recover(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_spec spec = {
		"recover",
		"Finishes or undoes every operation that a rowcat left unfinished\n"
		"(killed, or unable to write the catalog), so that the catalog and\n"
		"the cluster agree again.\n"
		"Operations that a running rowcat is carrying out are left to it.\n"
		"With nothing to recover, the cluster is not contacted. A damaged\n"
		"catalog (SQLite's quick check) is refused.",
		NULL, 0, 0,
	};
	struct catalog_operation *pending = NULL;
	struct ops_recovery report;
	struct ops_events ev;
	size_t count = 0;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_open_catalog(ctx, false);
	/* damaged pages could hide an operation from the list below */
	if (rc == 0)
		rc = catalog_verify(ctx->catalog, false, &ctx->err);
	if (rc < 0)
		return rc;
	rc = catalog_op_list_running(ctx->catalog, &pending, &count, &ctx->err);
	free(pending);
	if (rc < 0)
		return rc;
	if (count == 0) {
		if (!ctx->quiet)
			fprintf(stderr, "rowcat: nothing to recover\n");
		return 0;
	}
	rc = cli_connect(ctx);
	if (rc < 0)
		return rc;
	cli_events(ctx, &ev);
	rc = ops_recover(ctx->conn, ctx->catalog, &ev, &report, &ctx->err);
	cli_progress_end(ctx, rc == 0);
	if (!ctx->quiet)
		fprintf(stderr, "rowcat: recovery: %d finished, %d undone, %d "
			"ended as failed, %d left to a running rowcat\n",
			report.finished, report.undone, report.failed,
			report.busy);
	return rc;
}

static void print_name(const char *name, void *ctx)
{
	(void)ctx;
	printf("%s\n", name);
}

int cmd_debug(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_spec spec = {
		"debug failpoints",
		"failpoints: prints the name of every failpoint compiled into this\n"
		"binary, one per line. ROWCAT_FAILPOINT=NAME makes rowcat kill\n"
		"itself (SIGKILL) when it reaches NAME; the crash tests use both.",
		NULL, 1, 1,
	};
	int rc = cli_parse(ctx, &spec, argc, argv);

	if (rc < 0 || ctx->help_shown)
		return rc;
	if (strcmp(argv[1], "failpoints") != 0)
		return rc_error_usage(&ctx->err, "usage: rowcat %s", spec.usage);
	rc_failpoint_each(print_name, NULL);
	return 0;
}
