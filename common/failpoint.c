#include "rowcat/sys/failpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The linker defines these around the section the macro fills. */
extern const struct rc_failpoint __start_rowcat_failpoints[];
extern const struct rc_failpoint __stop_rowcat_failpoints[];

/* Keeps the section (and its bounds) present even with no failpoint. */
static const struct rc_failpoint anchor
	__attribute__((used, section("rowcat_failpoints"),
		       aligned(sizeof(void *)))) = { NULL };

/* Appends name to $ROWCAT_FAILPOINT_TRACE, in one write so that the
 * threads of one process and several processes never interleave lines. */
static void trace(const char *name)
{
	const char *path = getenv("ROWCAT_FAILPOINT_TRACE");
	char line[256];
	int fd, n;

	if (!path || !path[0])
		return;
	n = snprintf(line, sizeof(line), "%s\n", name);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return;
	if (n > 0 && write(fd, line, (size_t)n) < 0) {
		/* a trace is a test aid: losing a line must not stop rowcat */
	}
	close(fd);
}

/*
 * The action $ROWCAT_FAILPOINT gives `name`: its entries are NAME or
 * NAME:ACTION, separated by commas. Returns "kill", "stop", "error",
 * "block" or NULL.
 */
static const char *action_for(const char *name)
{
	const char *p = getenv("ROWCAT_FAILPOINT");
	size_t len = strlen(name);

	while (p && *p) {
		size_t entry = strcspn(p, ",");
		if (entry >= len && strncmp(p, name, len) == 0) {
			if (entry == len)
				return "kill";
			if (entry == len + 5 && strncmp(p + len, ":stop", 5) == 0)
				return "stop";
			if (entry == len + 5 && strncmp(p + len, ":kill", 5) == 0)
				return "kill";
			if (entry == len + 6 && strncmp(p + len, ":error", 6) == 0)
				return "error";
			if (entry == len + 6 && strncmp(p + len, ":block", 6) == 0)
				return "block";
		}
		p += entry;
		if (*p == ',')
			p++;
	}
	return NULL;
}

static pthread_mutex_t blocked_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t blocked_wake = PTHREAD_COND_INITIALIZER;
static unsigned long wakeups;

/* Holds the calling thread until rc_failpoint_wake_blocked. */
static void block(void)
{
	unsigned long seen;

	pthread_mutex_lock(&blocked_lock);
	seen = wakeups;
	while (wakeups == seen)
		pthread_cond_wait(&blocked_wake, &blocked_lock);
	pthread_mutex_unlock(&blocked_lock);
}

void rc_failpoint_wake_blocked(void)
{
	pthread_mutex_lock(&blocked_lock);
	wakeups++;
	pthread_cond_broadcast(&blocked_wake);
	pthread_mutex_unlock(&blocked_lock);
}

void rc_failpoint_reached(const char *name)
{
	const char *action;

	trace(name);
	action = action_for(name);
	if (!action || strcmp(action, "error") == 0)
		return;
	if (strcmp(action, "block") == 0) {
		block();
		return;
	}
	if (strcmp(action, "kill") == 0) {
		kill(getpid(), SIGKILL);
		_exit(137); /* not reached */
	}
	/* to this thread, not the process: a signal sent to the process may
	 * be taken by another thread, and this one would run on (into the
	 * next commit, say) until the group stop reached it */
	raise(SIGSTOP);
}

int rc_failpoint_error(const char *name)
{
	const char *action = action_for(name);

	return action && strcmp(action, "error") == 0 ? -EIO : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void rc_failpoint_each(void (*fn)(const char *name, void *ctx), void *ctx)
{
	size_t count = (size_t)(__stop_rowcat_failpoints - __start_rowcat_failpoints);
	const char **names = calloc(count + 1, sizeof(*names));
	size_t n = 0;

	(void)anchor;
	if (!names)
		return;
	for (const struct rc_failpoint *fp = __start_rowcat_failpoints;
	     fp < __stop_rowcat_failpoints; fp++)
		if (fp->name)
			names[n++] = fp->name;
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			fn(names[i], ctx);
	free(names);
}
