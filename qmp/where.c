/* Where a QEMU's monitor is reached, as operators write it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "rowcat/qmp.h"

int qmp_where_normalize(const char *text, char out[QMP_WHERE_MAX],
			struct rc_error *err)
{
	struct sockaddr_un sun;
	const char *path = NULL;

	if (strncmp(text, "virsh:", 6) == 0) {
		if (!text[6] || strcspn(text + 6, " \t\n'\"\\") != strlen(text + 6))
			return rc_error_set(err, -EINVAL, "'%s': virsh:DOMAIN "
					    "needs a domain name (no spaces or "
					    "quotes)", text);
		snprintf(out, QMP_WHERE_MAX, "%s", text);
		return 0;
	}
	if (strncmp(text, "unix:", 5) == 0)
		path = text + 5;
	else if (text[0] == '/')
		path = text;
	if (!path || path[0] != '/')
		return rc_error_set(err, -EINVAL, "'%s' is not a QEMU monitor: "
				    "give the absolute path of its QMP socket "
				    "(unix:PATH or /PATH) or virsh:DOMAIN", text);
	if (strlen(path) >= sizeof(sun.sun_path))
		return rc_error_set(err, -ENAMETOOLONG, "QMP socket path '%s' is "
				    "longer than a UNIX socket path can be (%zu "
				    "bytes)", path, sizeof(sun.sun_path) - 1);
	snprintf(out, QMP_WHERE_MAX, "unix:%s", path);
	return 0;
}
