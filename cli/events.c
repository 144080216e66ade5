/*
 * What operations show on the command line while they run: the hooks
 * (switch, and a snap's freeze and thaw), and progress lines the way rbd
 * draws them.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

#define HOOK_VAR_COUNT 5
/* Variables of ours the hook may see, by name or (ending in '_') prefix:
 * what a shell command needs to find programs and speak the operator's
 * language, nothing that says how to reach the cluster (CEPH_ARGS may
 * carry --key) or what else rowcat was given. */
static const char *const hook_passed[] = {
	"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_", "TZ", "TMPDIR",
};
#define HOOK_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* After SIGTERM, how long the hook has to end before SIGKILL. */
#define HOOK_GRACE_MS 5000

static bool hook_passes(const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t len = eq ? (size_t)(eq - entry) : strlen(entry);

	for (size_t i = 0; i < sizeof(hook_passed) / sizeof(hook_passed[0]); i++) {
		size_t n = strlen(hook_passed[i]);

		if (hook_passed[i][n - 1] == '_' ? strncmp(entry, hook_passed[i], n) == 0
						 : (len == n && strncmp(entry, hook_passed[i], n) == 0))
			return true;
	}
	return false;
}

/*
 * The hook's environment: the variables of ours that hook_passed names
 * (PATH a default one when we have none), with ROWCAT_HOOK (switch,
 * freeze, thaw), ROWCAT_VOLUME, ROWCAT_OLD_IMAGE, ROWCAT_NEW_IMAGE and
 * ROWCAT_OPERATING_IMAGE set. Built before fork because the
 * child of a threaded process (librados runs threads) may only call
 * async-signal-safe functions, which setenv and malloc are not. vars[]
 * hold the new entries; free the array and them with free().
 */
static char **hook_environment(const char *values[HOOK_VAR_COUNT],
			       char *vars[HOOK_VAR_COUNT])
{
	static const char *const names[HOOK_VAR_COUNT] = {
		"ROWCAT_HOOK", "ROWCAT_VOLUME", "ROWCAT_OLD_IMAGE",
		"ROWCAT_NEW_IMAGE", "ROWCAT_OPERATING_IMAGE",
	};
	static char default_path[] = "PATH=" HOOK_DEFAULT_PATH;
	size_t count = 0, n = 0;
	bool has_path = false;
	char **envp;

	while (environ[count])
		count++;
	envp = calloc(count + HOOK_VAR_COUNT + 2, sizeof(*envp));
	if (!envp)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		if (!hook_passes(environ[i]))
			continue;
		has_path = has_path || strncmp(environ[i], "PATH=", 5) == 0;
		envp[n++] = environ[i];
	}
	if (!has_path)
		envp[n++] = default_path;
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

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits up to limit_ms (a negative limit: for good) for pid to end.
 * Returns 1 with *status set when it ended, 0 when the limit came first,
 * or a negative errno. Polls, with waits growing from 1 ms to 100 ms: a
 * signal or a second thread would be the alternative, in a process whose
 * threads and signals are librados's.
 */
static int wait_for(pid_t pid, int64_t limit_ms, int *status)
{
	int64_t deadline = monotonic_ms() + limit_ms;
	long nap_ms = 1;

	for (;;) {
		pid_t got = waitpid(pid, status, WNOHANG);

		if (got == pid)
			return 1;
		if (got < 0 && errno != EINTR)
			return -errno;
		if (limit_ms >= 0 && monotonic_ms() >= deadline)
			return 0;
		nanosleep(&(struct timespec){ 0, nap_ms * 1000000L }, NULL);
		if (nap_ms < 100)
			nap_ms *= 2;
	}
}

/*
 * Waits for the hook (the leader of its own process group) at most
 * limit_seconds; at the limit, SIGTERM to its whole group, and SIGKILL to
 * what is left of it HOOK_GRACE_MS later. Says how it ended, as "the
 * WHAT hook 'CMD' exited 3"; the caller says what that means.
 */
static int hook_outcome(pid_t pid, const char *what, const char *cmd,
			int limit_seconds, struct rc_error *err)
{
	bool stopped = false;
	int status = 0;
	int rc = wait_for(pid, (int64_t)limit_seconds * 1000, &status);

	if (rc == 0) {
		stopped = true;
		kill(-pid, SIGTERM);
		rc = wait_for(pid, HOOK_GRACE_MS, &status);
		/* also what the hook left running in its group */
		kill(-pid, SIGKILL);
		if (rc == 0)
			rc = wait_for(pid, -1, &status);
	}
	if (rc < 0)
		return rc_error_set(err, rc, "waiting for the %s hook failed: %s",
				    what, strerror(-rc));
	if (stopped)
		return rc_error_set(err, -ECANCELED,
			"the %s hook '%s' did not finish within %d s "
			"(--hook-timeout) and was stopped", what, cmd,
			limit_seconds);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return rc_error_set(err, -ECANCELED, "the %s hook '%s' exited %d",
				    what, cmd, WEXITSTATUS(status));
	return rc_error_set(err, -ECANCELED, "the %s hook '%s' died of signal %d",
			    what, cmd, WTERMSIG(status));
}

int cli_hook_timeout(struct cli_ctx *ctx, int *seconds)
{
	const char *text = getenv("ROWCAT_HOOK_TIMEOUT");

	*seconds = ctx->hook_timeout_seconds;
	if (*seconds > 0)
		return 0;
	*seconds = CLI_HOOK_TIMEOUT_DEFAULT;
	if (!text || !text[0])
		return 0;
	if (cli_seconds_parse(text, seconds, &ctx->err) < 0)
		return rc_error_prefix(&ctx->err, "ROWCAT_HOOK_TIMEOUT: ");
	return 0;
}

/*
 * Runs hook `what` (switch, freeze, thaw), the shell command cmd, with
 * `sh -c`, in a process group of its own so that all it started can be
 * stopped at the time limit, with the environment hook_environment makes.
 * Its stdout goes to our stderr, so it never mixes with rowcat's data
 * (--format json). May be called from a second thread (a snap's
 * watchdog): it reads ctx only.
 */
static int run_hook(struct cli_ctx *ctx, const char *what, const char *cmd,
		    const char *volume, const struct rc_image_spec *old_image,
		    const struct rc_image_spec *new_image,
		    const struct rc_image_spec *operating, struct rc_error *err)
{
	char old_text[RC_SPEC_MAX], new_text[RC_SPEC_MAX], op_text[RC_SPEC_MAX];
	const char *values[HOOK_VAR_COUNT] = { what, volume, old_text, new_text,
					       op_text };
	char sh[] = "sh", dash_c[] = "-c";
	char *argv[] = { sh, dash_c, NULL, NULL };
	char *vars[HOOK_VAR_COUNT] = {0};
	char **envp;
	pid_t pid;
	int limit, rc;

	rc_image_spec_format(old_image, old_text, sizeof(old_text));
	rc_image_spec_format(new_image, new_text, sizeof(new_text));
	rc_image_spec_format(operating, op_text, sizeof(op_text));
	/* checked by cli_connect before anything changed; should it be bad
	 * all the same, the default rather than no limit */
	if (cli_hook_timeout(ctx, &limit) < 0)
		limit = CLI_HOOK_TIMEOUT_DEFAULT;
	argv[2] = (char *)cmd;
	envp = hook_environment(values, vars);
	if (!envp)
		return rc_error_set(err, -ENOMEM, "the %s hook could not start: "
				    "out of memory", what);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	if (pid < 0) {
		rc = rc_error_set(err, -errno, "the %s hook could not start: %s",
				  what, strerror(errno));
	} else {
		/* as the child does: whichever runs first, the group exists
		 * before anyone signals it */
		setpgid(pid, pid);
		rc = hook_outcome(pid, what, cmd, limit, err);
	}
	for (int v = 0; v < HOOK_VAR_COUNT; v++)
		free(vars[v]);
	free(envp);
	return rc;
}

/* The switch hook after a commit: its failure never undoes the switch. */
static int run_switch_hook(void *arg, const char *volume,
			   const struct rc_image_spec *old_image,
			   const struct rc_image_spec *new_image,
			   struct rc_error *err)
{
	struct cli_ctx *ctx = arg;
	const char *cmd = cli_hook_command(ctx, CLI_HOOK_SWITCH);
	char new_text[RC_SPEC_MAX];
	int rc;

	if (!cmd)
		return 0;
	rc = run_hook(ctx, "switch", cmd, volume, old_image, new_image,
		      new_image, err);
	if (rc < 0) {
		rc_image_spec_format(new_image, new_text, sizeof(new_text));
		rc_error_prefix(err, "volume '%s' switched to %s, but ", volume,
				new_text);
	}
	return rc;
}

/* A hook of a snap's window (ops_events.run_hook). */
static int run_window_hook(void *arg, const char *what, const char *cmd,
			   const struct ops_hook_env *env, struct rc_error *err)
{
	return run_hook(arg, what, cmd, env->volume, env->old_image,
			env->new_image, env->operating, err);
}

const char *cli_hook_command(struct cli_ctx *ctx, enum cli_hook hook)
{
	static const char *const vars[] = {
		[CLI_HOOK_SWITCH] = "ROWCAT_ON_SWITCH",
		[CLI_HOOK_FREEZE] = "ROWCAT_ON_FREEZE",
		[CLI_HOOK_THAW] = "ROWCAT_ON_THAW",
	};
	const char *given[] = {
		[CLI_HOOK_SWITCH] = ctx->on_switch,
		[CLI_HOOK_FREEZE] = ctx->on_freeze,
		[CLI_HOOK_THAW] = ctx->on_thaw,
	};
	const char *cmd = given[hook] ? given[hook] : getenv(vars[hook]);

	return cmd && cmd[0] ? cmd : NULL;
}

int cli_window_hooks(struct cli_ctx *ctx, struct ops_row_options *opts)
{
	const char *freeze = cli_hook_command(ctx, CLI_HOOK_FREEZE);
	const char *thaw = cli_hook_command(ctx, CLI_HOOK_THAW);

	if (!freeze && !thaw)
		return 0;
	/* a freeze nothing thaws would leave the consumer frozen; a thaw
	 * alone has nothing to end */
	if (!freeze || !thaw)
		return rc_error_usage(&ctx->err, "--on-freeze and --on-thaw "
				      "(or $ROWCAT_ON_FREEZE and "
				      "$ROWCAT_ON_THAW) go together: %s is "
				      "missing", freeze ? "the thaw hook"
							: "the freeze hook");
	if (opts->consumer)
		return rc_error_usage(&ctx->err, "--qmp switches a QEMU guest; "
				      "--on-freeze/--on-thaw are for other "
				      "consumers: give one or the other");
	if (strlen(freeze) >= CATALOG_HOOK_MAX || strlen(thaw) >= CATALOG_HOOK_MAX)
		return rc_error_usage(&ctx->err, "a freeze or thaw hook longer "
				      "than %d bytes cannot be journalled; put "
				      "it in a script", CATALOG_HOOK_MAX - 1);
	opts->on_freeze = freeze;
	opts->on_thaw = thaw;
	opts->on_switch = cli_hook_command(ctx, CLI_HOOK_SWITCH);
	if (opts->on_switch && strlen(opts->on_switch) >= CATALOG_HOOK_MAX)
		return rc_error_usage(&ctx->err, "a switch hook longer than %d "
				      "bytes cannot be journalled with a "
				      "freeze; put it in a script",
				      CATALOG_HOOK_MAX - 1);
	return 0;
}

/*
 * rbd's ProgressContext::update_progress (src/tools/rbd/Utils.cc) draws a
 * line only when the whole percentage changes, from a last_pc of 0: a
 * flatten of a 1 GiB image reports each of its 256 objects, and a
 * terminal over a slow link should not get 256 lines for 100.
 */
bool cli_progress_redraw(int *last, uint64_t offset, uint64_t total,
			 int *percent)
{
	*percent = total ? (int)(offset > total ? 100 : offset * 100 / total)
			 : 0;
	if (*percent == *last)
		return false;
	*last = *percent;
	return true;
}

static int show_progress(uint64_t offset, uint64_t total, void *arg)
{
	struct cli_ctx *ctx = arg;
	int percent;

	if (!cli_progress_redraw(&ctx->progress_percent, offset, total,
				 &percent))
		return 0;
	fprintf(stderr, "\rFlattening image: %d%% complete...", percent);
	ctx->progress_shown = true;
	return 0;
}

void cli_events(struct cli_ctx *ctx, struct ops_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ctx = ctx;
	ev->switched = run_switch_hook;
	ev->run_hook = run_window_hook;
	ctx->progress_percent = 0;
	if (cli_progress_wanted(ctx))
		ev->progress = show_progress;
}

bool cli_progress_wanted(const struct cli_ctx *ctx)
{
	return !ctx->quiet && !ctx->no_progress && isatty(STDERR_FILENO);
}

void cli_progress_end(struct cli_ctx *ctx, bool ok)
{
	if (!ctx->progress_shown)
		return;
	/* rbd's finish() and fail(): the line redrawn with its outcome */
	if (ok)
		fprintf(stderr, "\rFlattening image: 100%% complete...done.\n");
	else
		fprintf(stderr, "\rFlattening image: %d%% complete...failed.\n",
			ctx->progress_percent);
	ctx->progress_shown = false;
}
