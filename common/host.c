#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rowcat/host.h"

void rc_host_name(char buf[RC_HOST_MAX])
{
	const char *given = getenv("ROWCAT_HOST");

	if (given && given[0]) {
		snprintf(buf, RC_HOST_MAX, "%s", given);
		return;
	}
	/* gethostname may leave a truncated name unterminated */
	if (gethostname(buf, RC_HOST_MAX - 1) < 0 || !buf[0])
		snprintf(buf, RC_HOST_MAX, "localhost");
	buf[RC_HOST_MAX - 1] = '\0';
}
