/*
 * Drives rowcat's QMP client (rowcat/qmp.h) from the integration tests.
 *
 *   qmp_drive MONITOR TIMEOUT_MS find SPEC        the disk: four lines
 *   qmp_drive MONITOR TIMEOUT_MS switch SPEC NEW_SPEC NODE
 *       find, stop, add NODE for NEW_SPEC, reopen onto it, del the old
 *       node, cont: the switch as the live snapshot does it
 *   qmp_drive MONITOR TIMEOUT_MS status | stop | cont
 *   qmp_drive MONITOR TIMEOUT_MS exists NODE | child FORMAT_NODE | del NODE
 *   qmp_drive MONITOR TIMEOUT_MS exec COMMAND [ARGUMENTS_JSON]
 *
 * Prints results on stdout; a failure is one line on stderr,
 * "qmp_drive: error CODE: MESSAGE" (CODE as errno names it, e.g. ENOENT),
 * and exit status 1. Usage errors exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/qmp.h"

static const char *code_name(int code)
{
	switch (-code) {
	case ENOENT: return "ENOENT";
	case ENOTSUP: return "ENOTSUP";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNRESET: return "ECONNRESET";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EPIPE: return "EPIPE";
	case EEXIST: return "EEXIST";
	case EIO: return "EIO";
	case EINVAL: return "EINVAL";
	default: return "other";
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: qmp_drive MONITOR TIMEOUT_MS find SPEC | switch SPEC NEW_SPEC NODE |"
		" status | stop | cont | exists NODE | child FORMAT_NODE | del NODE |"
		" exec COMMAND [ARGUMENTS_JSON]\n");
	return 2;
}

static int switch_disk(struct qmp *q, const struct rc_image_spec *old,
		       const struct rc_image_spec *new_image, const char *node,
		       struct rc_error *err)
{
	struct qmp_disk disk;
	int rc = qmp_disk_find(q, old, &disk, err);

	if (rc < 0)
		return rc;
	rc = qmp_stop(q, err);
	if (rc == 0)
		rc = qmp_disk_add_storage(q, &disk, new_image, node, err);
	if (rc == 0)
		rc = qmp_disk_reopen(q, &disk, node, err);
	if (rc == 0)
		rc = qmp_node_del(q, disk.storage_node, err);
	if (rc == 0)
		rc = qmp_cont(q, err);
	if (rc == 0)
		printf("%s %s -> %s\n", disk.format_node, disk.storage_node, node);
	qmp_disk_release(&disk);
	return rc;
}

int main(int argc, char **argv)
{
	struct rc_error err = { 0 };
	struct qmp *q = NULL;
	struct rc_image_spec spec, new_spec;
	const char *cmd;
	int rc;

	if (argc < 4)
		return usage();
	cmd = argv[3];
	rc = qmp_open(argv[1], atoi(argv[2]), &q, &err);
	if (rc < 0)
		goto out;
	if (strcmp(cmd, "find") == 0 && argc == 5) {
		struct qmp_disk disk;
		if ((rc = rc_image_spec_parse(&spec, argv[4], "image name", &err)) < 0 ||
		    (rc = qmp_disk_find(q, &spec, &disk, &err)) < 0)
			goto out;
		printf("%s\n%s\n%s\n%s\n", disk.storage_node, disk.format_node,
		       disk.storage_options, disk.format_options);
		qmp_disk_release(&disk);
	} else if (strcmp(cmd, "switch") == 0 && argc == 7) {
		if ((rc = rc_image_spec_parse(&spec, argv[4], "image name", &err)) < 0 ||
		    (rc = rc_image_spec_parse(&new_spec, argv[5], "image name", &err)) < 0)
			goto out;
		rc = switch_disk(q, &spec, &new_spec, argv[6], &err);
	} else if (strcmp(cmd, "status") == 0 && argc == 4) {
		bool running;
		char status[32];
		if ((rc = qmp_query_status(q, &running, status, &err)) == 0)
			printf("%s %s\n", running ? "running" : "not-running", status);
	} else if (strcmp(cmd, "stop") == 0 && argc == 4) {
		rc = qmp_stop(q, &err);
	} else if (strcmp(cmd, "cont") == 0 && argc == 4) {
		rc = qmp_cont(q, &err);
	} else if (strcmp(cmd, "exists") == 0 && argc == 5) {
		bool exists;
		if ((rc = qmp_node_exists(q, argv[4], &exists, &err)) == 0)
			printf("%s\n", exists ? "yes" : "no");
	} else if (strcmp(cmd, "child") == 0 && argc == 5) {
		char child[QMP_NODE_MAX];
		if ((rc = qmp_format_child(q, argv[4], child, &err)) == 0)
			printf("%s\n", child);
	} else if (strcmp(cmd, "del") == 0 && argc == 5) {
		rc = qmp_node_del(q, argv[4], &err);
	} else if (strcmp(cmd, "exec") == 0 && (argc == 5 || argc == 6)) {
		char *answer = NULL;
		rc = qmp_execute_text(q, argv[4], argc == 6 ? argv[5] : NULL,
				      &answer, &err);
		if (rc == 0)
			printf("%s\n", answer);
		free(answer);
	} else {
		qmp_close(q);
		return usage();
	}
out:
	qmp_close(q);
	if (rc < 0) {
		fprintf(stderr, "qmp_drive: error %s: %s\n", code_name(rc), err.message);
		return 1;
	}
	return 0;
}
