#include "failpoint.h"

#include <signal.h>
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

void rc_failpoint_reached(const char *name)
{
	const char *wanted = getenv("ROWCAT_FAILPOINT");

	if (wanted && strcmp(wanted, name) == 0) {
		kill(getpid(), SIGKILL);
		_exit(137); /* not reached */
	}
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
