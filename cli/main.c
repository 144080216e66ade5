/* rowcat's entry point: global options, then one command from the table. */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h" /* json_c_version */
#include "rowcat/policy.h"

#ifndef ROWCAT_VERSION
#define ROWCAT_VERSION "unknown"
#endif

static void print_help(void)
{
	int width = cli_help_width();

	printf("usage: rowcat [global options] COMMAND [args]\n\n");
	cli_wrap(stdout, "Redirect-on-write snapshots of Ceph RBD volumes, with "
		 "their lineage in an SQLite catalog.", 0, 0, width);
	printf("\n\ncommands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		int column;

		if (!c->summary)
			continue; /* hidden: the shell's completion */
		column = printf("  %-10s ", c->name);

		cli_wrap(stdout, c->summary, column, 13, width);
		putchar('\n');
	}
	putchar('\n');
	cli_print_global_help(stdout);
	printf("\n'rowcat COMMAND --help' describes one command.\n");
}

/*
 * This rowcat and the libraries it runs with, each on a line of its own
 * ("NAME VERSION"), for a bug report or a script. librbd and librados
 * are loaded to be asked, as a command that connects would load them;
 * when they cannot be, their lines are left out and the error says why.
 */
static int print_version(struct rc_error *err)
{
	char librbd[RBDOPS_VERSION_TEXT_MAX], librados[RBDOPS_VERSION_TEXT_MAX];
	int rc = rbdops_library_versions(librbd, librados, err);

	printf("rowcat %s (catalog schema %d)\n", ROWCAT_VERSION,
	       catalog_schema_version_supported());
	if (rc == 0)
		printf("librbd %s\nlibrados %s\n", librbd, librados);
	printf("sqlite %s\nlibyaml %s\njson-c %s\n", catalog_sqlite_version(),
	       policy_libyaml_version(), json_c_version());
	return rc;
}

static const struct cli_command *find_command(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/*
 * ROWCAT_DEBUG_TXNS=1 (or sql, which lists them too: catalog/txn_count.c):
 * says on stderr how many catalog transactions the command ran, every connection's (opening the catalog included). A
 * catalog in RADOS pays a lock round trip for each; the benchmarks read
 * this line.
 */
static void report_transactions(void)
{
	const char *wanted = getenv("ROWCAT_DEBUG_TXNS");
	struct catalog_txn_counts counts;

	if (!wanted || (strcmp(wanted, "1") != 0 && strcmp(wanted, "sql") != 0))
		return;
	catalog_txn_counts(NULL, &counts);
	fprintf(stderr, "rowcat: catalog transactions: %llu (%llu writes)\n",
		(unsigned long long)counts.transactions,
		(unsigned long long)counts.writes);
}

static int exit_status(const struct cli_ctx *ctx, int rc)
{
	if (rc >= 0)
		return EXIT_OK;
	if (ctx->err.usage)
		return EXIT_USAGE;
	if (ctx->err.in_use)
		return EXIT_IN_USE;
	if (ctx->err.config)
		return EXIT_CONFIG;
	if (rc_error_is_unreachable(&ctx->err))
		return EXIT_UNREACHABLE;
	return EXIT_FAILED;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {0};
	const struct cli_command *cmd;
	enum cli_request request;
	int first, rc, signo;

	/* the character set only (graphs, table widths): numbers and times
	 * stay as scripts read them */
	setlocale(LC_CTYPE, "");
	first = cli_parse_global(&ctx, argc, argv, &request);
	if (first < 0) {
		rc = first;
		goto out;
	}
	if (request == CLI_SHOW_HELP ||
	    (request == CLI_RUN_COMMAND && first < argc &&
	     strcmp(argv[first], "help") == 0)) {
		print_help();
		return EXIT_OK;
	}
	if (request == CLI_SHOW_VERSION) {
		rc = print_version(&ctx.err);
		goto out;
	}
	if (first >= argc) {
		rc = rc_error_usage(&ctx.err,
				    "no command given; 'rowcat --help' lists them");
		goto out;
	}
	cmd = find_command(argv[first]);
	if (!cmd) {
		rc = rc_error_usage(&ctx.err,
			"unknown command '%s'; 'rowcat --help' lists them",
			argv[first]);
		goto out;
	}
	rc = cmd->run(&ctx, argc - first, argv + first);
#ifndef NDEBUG
	/* error.h's contract, made loud where tests run debug builds: a
	 * failure a command tolerated on its way to success was cleared */
	if (rc >= 0 && ctx.err.code != 0) {
		fprintf(stderr, "rowcat: internal error: '%s' succeeded with a "
			"stale error (%d: %s)\n", cmd->name, ctx.err.code,
			ctx.err.message);
		abort();
	}
#endif
out:
	if (rc < 0)
		fprintf(stderr, "rowcat: %s\n", ctx.err.message);
	if (fflush(stdout) != 0 && rc >= 0) {
		perror("rowcat: writing output");
		rc = -1;
		ctx.err.usage = false;
	}
	/* the catalog first: one in RADOS reads through a client made from
	 * the connection's context */
	catalog_close(ctx.catalog);
	ops_claims_close(ctx.claims);
	rbdops_disconnect(ctx.conn);
	report_transactions();
	signo = ops_live_interrupted();
	if (signo) {
		/* taken as a failure while a guest was paused, and reported:
		 * now rowcat ends the way the signal asked */
		signal(signo, SIG_DFL);
		raise(signo);
	}
	return exit_status(&ctx, rc);
}
