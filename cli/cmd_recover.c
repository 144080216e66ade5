/* rowcat recover, and rowcat debug: the crash-safety commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "rowcat/sys/failpoint.h"

/* What recovery did, as JSON: one count per way an operation ended. */
static int print_recovery_json(struct cli_ctx *ctx,
			       const struct ops_recovery *report)
{
	struct json_object *obj = json_object_new_object();
	int rc;

	if (!obj)
		return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	json_object_object_add(obj, "finished",
			       json_object_new_int(report->finished));
	json_object_object_add(obj, "undone", json_object_new_int(report->undone));
	json_object_object_add(obj, "failed", json_object_new_int(report->failed));
	json_object_object_add(obj, "busy", json_object_new_int(report->busy));
	rc = cli_json_print(ctx, obj);
	json_object_put(obj);
	return rc;
}

int cmd_recover(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_option options[] = { CLI_OPT_FORMAT(ctx), CLI_OPT_END };
	struct cli_spec spec = {
		"recover [--format plain|json]",
		"Finishes or undoes every operation that a rowcat left unfinished\n"
		"(killed, or unable to write the catalog), so that the catalog and\n"
		"the cluster agree again.\n"
		"Operations that a running rowcat is carrying out are left to it.\n"
		"With nothing to recover, the cluster is not contacted. A damaged\n"
		"catalog (SQLite's quick check) is refused. JSON: how many were\n"
		"finished, undone, ended as failed, and left to a running rowcat\n"
		"(busy).",
		options, 0, 0,
	};
	struct catalog_operation *pending = NULL;
	struct ops_recovery report = {0};
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
	if (count == 0 && ctx->format == FORMAT_JSON)
		return print_recovery_json(ctx, &report);
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
	if (ctx->format == FORMAT_JSON) {
		int printed = print_recovery_json(ctx, &report);

		return rc < 0 ? rc : printed;
	}
	if (!ctx->quiet)
		fprintf(stderr, "rowcat: recovery: %d finished, %d undone, %d "
			"ended as failed, %d left to a running rowcat\n",
			report.finished, report.undone, report.failed,
			report.busy);
	/* whom to wait for: on a shared catalog, a host and until when */
	if (!ctx->quiet && report.busy)
		fprintf(stderr, "rowcat: operation %lld (%s) is in progress in "
			"%s%s\n", (long long)report.busy_op_id,
			report.busy_op_kind, report.busy_holder,
			report.busy > 1 ? ", and others" : "");
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
