/* Private to qmp/: the connection and one command's round trip. */
#ifndef ROWCAT_QMP_INTERNAL_H
#define ROWCAT_QMP_INTERNAL_H

#include <stddef.h>

#include <json-c/json.h>

#include "rowcat/qmp.h"

enum qmp_transport { QMP_SOCKET, QMP_VIRSH };

struct qmp {
	enum qmp_transport transport;
	int fd;              /* the socket; -1 through virsh */
	char *target;        /* the socket's path or the domain's name */
	int timeout_ms;
	unsigned long next_id;
	char *in;            /* bytes read, not yet taken as a message */
	size_t in_len, in_cap;
};

/*
 * Runs `command` with `arguments` (an object or NULL; not taken over) and
 * puts its "return" value in *ret (a new reference the caller puts, or
 * NULL when ret is NULL). A refusal of QEMU's is -EIO, -ENOTSUP for
 * CommandNotFound; the message reads "QEMU refused COMMAND: DESC (CLASS)".
 */
int qmp_execute(struct qmp *q, const char *command, json_object *arguments,
		json_object **ret, struct rc_error *err);

/* How the monitor is named in messages: "QMP socket PATH" / "domain D". */
const char *qmp_target_kind(const struct qmp *q);

#endif
