/* Private to cli/policy*.c: what policy check and policy run share. */
#ifndef ROWCAT_POLICY_CLI_H
#define ROWCAT_POLICY_CLI_H

#include "cli.h"
#include "rowcat/policy.h"

/* The volumes a policy file manages, each with its policy. */
struct policy_cli_volumes {
	struct ops_policy_volume *items;   /* by volume name */
	size_t count, capacity;
	size_t unmanaged;                  /* live volumes no policy matches */
	char (*unmanaged_names)[RC_NAME_MAX]; /* those, by name */
	size_t unmanaged_capacity;
};

/*
 * Loads and validates the policy file, printing every problem as
 * FILE:LINE:COLUMN: message on stderr, and makes its timezone the
 * process's. -EINVAL, with a one-line summary in ctx->err, when invalid.
 */
int policy_cli_load(struct cli_ctx *ctx, const char *path,
		    struct policy_file **out);

/* The file's cluster: settings, where the command line set none. */
void policy_cli_apply_cluster(struct cli_ctx *ctx, const struct policy_file *f);

/* --now TIME: sets the policy clock (NULL: leaves it real). What is
 * recorded, and what gc judges, stays on the real clock. */
int policy_cli_set_now(struct cli_ctx *ctx, const char *text);

/*
 * The live volumes of the catalog that a policy of f manages, each with
 * the first policy that matches it; warns on stderr of patterns that
 * match no volume. Free with policy_cli_volumes_free.
 */
int policy_cli_volumes(struct cli_ctx *ctx, const char *path,
		       const struct policy_file *f,
		       struct policy_cli_volumes *out);
void policy_cli_volumes_free(struct policy_cli_volumes *v);

/* "every 1h" / "cron 0 * * * *"; "latest 3, daily 7" / "all". */
void policy_cli_schedule_text(const struct policy *p, char *buf, size_t len);
void policy_cli_keep_text(const struct policy_keep *keep, char *buf,
			  size_t len);

/* rowcat policy run (cmd_policy_run.c). */
int policy_run(struct cli_ctx *ctx, int argc, char **argv);

#endif
