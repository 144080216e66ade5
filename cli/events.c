/*
 * What operations show on the command line while they run: the switch
 * hook, and progress lines the way rbd draws them.
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

#define HOOK_VAR_COUNT 3
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
 * (PATH a default one when we have none), with ROWCAT_VOLUME,
 * ROWCAT_OLD_IMAGE and ROWCAT_NEW_IMAGE set. Built before fork because the
 * child of a threaded process (librados runs threads) may only call
 * async-signal-safe functions, which setenv and malloc are not. vars[]
 * hold the three new entries; free the array and them with free().
 */
static char **hook_environment(const char *values[HOOK_VAR_COUNT],
			       char *vars[HOOK_VAR_COUNT])
{
	static const char *const names[HOOK_VAR_COUNT] = {
		"ROWCAT_VOLUME", "ROWCAT_OLD_IMAGE", "ROWCAT_NEW_IMAGE",
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
 * what is left of it HOOK_GRACE_MS later. Says how it ended: a hook that
 * failed or ran out of time never undoes the switch, which is committed.
 */
static int hook_outcome(pid_t pid, const char *cmd, int limit_seconds,
			const char *volume, const char *new_text,
			struct rc_error *err)
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
		return rc_error_set(err, rc, "volume '%s' switched to %s, but "
				    "waiting for the switch hook failed: %s",
				    volume, new_text, strerror(-rc));
	if (stopped)
		return rc_error_set(err, -ECANCELED,
			"volume '%s' switched to %s, but the switch hook '%s' did "
			"not finish within %d s (--hook-timeout) and was stopped",
			volume, new_text, cmd, limit_seconds);
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

int cli_hook_timeout(struct cli_ctx *ctx, int *seconds)
{
	const char *text = getenv("ROWCAT_HOOK_TIMEOUT");
	char *end;
	long n;

	*seconds = ctx->hook_timeout_seconds;
	if (*seconds > 0)
		return 0;
	*seconds = CLI_HOOK_TIMEOUT_DEFAULT;
	if (!text || !text[0])
		return 0;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno || *end || n <= 0 || n > INT_MAX)
		return rc_error_usage(&ctx->err, "ROWCAT_HOOK_TIMEOUT needs a "
				      "positive whole number of seconds, not "
				      "'%s'", text);
	*seconds = (int)n;
	return 0;
}

/*
 * Runs the switch hook with `sh -c`, in a process group of its own so that
 * all it started can be stopped at the time limit, with the environment
 * hook_environment makes. Its stdout goes to our stderr, so it never mixes
 * with rowcat's data (--format json).
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
	int limit, rc;

	if (!cmd || !cmd[0])
		return 0;
	rc_image_spec_format(old_image, old_text, sizeof(old_text));
	rc_image_spec_format(new_image, new_text, sizeof(new_text));
	/* checked by cli_connect before anything changed; should it be bad
	 * all the same, the default rather than no limit */
	if (cli_hook_timeout(ctx, &limit) < 0)
		limit = CLI_HOOK_TIMEOUT_DEFAULT;
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
		setpgid(0, 0);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	if (pid < 0) {
		rc = rc_error_set(err, -errno, "volume '%s' switched to %s, but "
				  "the switch hook could not start: %s", volume,
				  new_text, strerror(errno));
	} else {
		/* as the child does: whichever runs first, the group exists
		 * before anyone signals it */
		setpgid(pid, pid);
		rc = hook_outcome(pid, cmd, limit, volume, new_text, err);
	}
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

void cli_events(struct cli_ctx *ctx, struct ops_events *ev)
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
