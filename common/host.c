#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
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

void rc_user_name(char buf[RC_USER_MAX])
{
	uid_t uid = getuid();
	struct passwd pw, *found = NULL;
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	bool named = false;
	int rc = ERANGE;

	/* the entry's strings need room: grow it as glibc asks */
	for (size = size > 0 ? size : 1024; rc == ERANGE && size <= 1 << 20;
	     size *= 2) {
		char *scratch = malloc((size_t)size);

		if (!scratch)
			break;
		rc = getpwuid_r(uid, &pw, scratch, (size_t)size, &found);
		if (rc == 0 && found && found->pw_name && found->pw_name[0]) {
			snprintf(buf, RC_USER_MAX, "%s", found->pw_name);
			named = true;
		}
		free(scratch);
	}
	if (!named)
		snprintf(buf, RC_USER_MAX, "%lu", (unsigned long)uid);
}
