/*
 * What operations show on the command line while they run: the switch
 * hook, and progress lines the way rbd draws them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

#define HOOK_VAR_COUNT 3

/*
 * The hook's environment: ours, with ROWCAT_VOLUME, ROWCAT_OLD_IMAGE and
 * ROWCAT_NEW_IMAGE set. Built before fork because the child of a
 * threaded process (librados runs threads) may only call async-signal-safe
 * functions, which setenv and malloc are not. vars[] hold the three new
 * entries; free the array and them with free().
 */
static char **hook_environment(const char *values[HOOK_VAR_COUNT],
			       char *vars[HOOK_VAR_COUNT])
{
	static const char *const names[HOOK_VAR_COUNT] = {
		"ROWCAT_VOLUME", "ROWCAT_OLD_IMAGE", "ROWCAT_NEW_IMAGE",
	};
	size_t count = 0, n = 0;
	char **envp;

	while (environ[count])
		count++;
	envp = calloc(count + HOOK_VAR_COUNT + 1, sizeof(*envp));
	if (!envp)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		bool replaced = false;
		for (int v = 0; v < HOOK_VAR_COUNT; v++) {
			size_t len = strlen(names[v]);
			replaced = replaced || (strncmp(environ[i], names[v], len) == 0 &&
						environ[i][len] == '=');
		}
		if (!replaced)
			envp[n++] = environ[i];
	}
	for (int v = 0; v < HOOK_VAR_COUNT; v++) {
		size_t len = strlen(names[v]) + strlen(values[v]) + 2;
		vars[v] = malloc(len);
		if (!vars[v]) {
			while (v-- > 0)
				free(vars[v]);
			free(envp);
			return NULL;
		}
		snprintf(vars[v], len, "%s=%s", names[v], values[v]);
		envp[n++] = vars[v];
	}
	return envp;
}

/* Waits for the hook and says how it ended. */
static int hook_outcome(pid_t pid, const char *cmd, const char *volume,
			const char *new_text, struct rc_error *err)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return rc_error_set(err, -errno, "waiting for the switch "
					    "hook: %s", strerror(errno));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return rc_error_set(err, -ECANCELED,
			"volume '%s' switched to %s, but the switch hook '%s' "
			"exited %d", volume, new_text, cmd, WEXITSTATUS(status));
	return rc_error_set(err, -ECANCELED,
		"volume '%s' switched to %s, but the switch hook '%s' died of "
		"signal %d", volume, new_text, cmd, WTERMSIG(status));
}

/*
 * Runs the switch hook with `sh -c`, the volume and both images in its
 * environment. Its stdout goes to our stderr, so it never mixes with
 * rowcat's data (--format json).
 */
static int run_switch_hook(void *arg, const char *volume,
			   const struct rc_image_spec *old_image,
			   const struct rc_image_spec *new_image,
			   struct rc_error *err)
{
	struct cli_ctx *ctx = arg;
	const char *cmd = ctx->on_switch ? ctx->on_switch
					 : getenv("ROWCAT_ON_SWITCH");
	char old_text[RC_SPEC_MAX], new_text[RC_SPEC_MAX];
	const char *values[HOOK_VAR_COUNT] = { volume, old_text, new_text };
	char sh[] = "sh", dash_c[] = "-c";
	char *argv[] = { sh, dash_c, NULL, NULL };
	char *vars[HOOK_VAR_COUNT] = {0};
	char **envp;
	pid_t pid;
	int rc;

	if (!cmd || !cmd[0])
		return 0;
	rc_image_spec_format(old_image, old_text, sizeof(old_text));
	rc_image_spec_format(new_image, new_text, sizeof(new_text));
	argv[2] = (char *)cmd;
	envp = hook_environment(values, vars);
	if (!envp)
		return rc_error_set(err, -ENOMEM, "volume '%s' switched to %s, but "
				    "the switch hook could not start: out of "
				    "memory", volume, new_text);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	if (pid < 0)
		rc = rc_error_set(err, -errno, "volume '%s' switched to %s, but "
				  "the switch hook could not start: %s", volume,
				  new_text, strerror(errno));
	else
		rc = hook_outcome(pid, cmd, volume, new_text, err);
	for (int v = 0; v < HOOK_VAR_COUNT; v++)
		free(vars[v]);
	free(envp);
	return rc;
}

static int show_progress(uint64_t offset, uint64_t total, void *arg)
{
	struct cli_ctx *ctx = arg;
	unsigned percent = total ? (unsigned)(offset * 100 / total) : 100;

	fprintf(stderr, "\rFlattening image: %u%% complete...", percent);
	ctx->progress_shown = true;
	return 0;
}

void cli_events(struct cli_ctx *ctx, struct rbdops_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ctx = ctx;
	ev->switched = run_switch_hook;
	/* as rbd: progress only for a person watching a terminal */
	if (!ctx->quiet && isatty(STDERR_FILENO))
		ev->progress = show_progress;
}

void cli_progress_end(struct cli_ctx *ctx, bool ok)
{
	if (!ctx->progress_shown)
		return;
	fprintf(stderr, "%s\n", ok ? "done." : "failed.");
	ctx->progress_shown = false;
}
