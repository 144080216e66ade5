/*
 * What operations show on the command line while they run: the switch
 * hook, and progress lines the way rbd draws them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/*
 * Runs the switch hook with ROWCAT_VOLUME, ROWCAT_OLD_IMAGE and
 * ROWCAT_NEW_IMAGE in its environment. Its stdout goes to our stderr, so
 * it never mixes with rowcat's data (--format json).
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
	int status;
	pid_t pid;

	if (!cmd || !cmd[0])
		return 0;
	rc_image_spec_format(old_image, old_text, sizeof(old_text));
	rc_image_spec_format(new_image, new_text, sizeof(new_text));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return rc_error_set(err, -errno, "volume '%s' switched to %s, but "
				    "the switch hook could not start: %s", volume,
				    new_text, strerror(errno));
	if (pid == 0) {
		setenv("ROWCAT_VOLUME", volume, 1);
		setenv("ROWCAT_OLD_IMAGE", old_text, 1);
		setenv("ROWCAT_NEW_IMAGE", new_text, 1);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
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
