/*
 * The rule of attached volumes for snap and restore: a snapshot of an
 * image that a client keeps writing strands every later write in an image
 * the volume no longer uses, and a restore under a running guest reverts
 * its disk beneath it. So neither proceeds while another client has the
 * operating image open, unless the operator says it only reads
 * (--ignore-clients), and then the operation's row keeps whom it ignored.
 *
 * A client counts while it watches the image. An exclusive-lock owner
 * without a watch is dead or cut off from the cluster: the snapshot
 * create itself takes the lock from it, and librbd blocklists it first,
 * so it can never write again. A rowcat killed while it had the image
 * open counts until the OSD ends its watch (about 30 s): nothing tells
 * its watch from any other client's. The check is made before the
 * operation is journalled; a client that opens the image after it is
 * not seen.
 */
#include <stdio.h>

#include "internal.h"

int ops_row_check_clients(struct rbd_conn *conn, const char *volume,
			  const struct rc_image_spec *operating,
			  bool is_restore, const struct ops_row_options *opts,
			  char *ignored, size_t ignored_len,
			  struct rc_error *err)
{
	struct rbdops_clients clients = {0};
	char text[RC_SPEC_MAX], names[RC_ERROR_MESSAGE_MAX / 2];
	size_t count;
	int rc;

	if (ignored_len)
		ignored[0] = '\0';
	rc = rbdops_image_clients(conn, operating, &clients, err);
	if (rc < 0)
		goto out;
	count = rbdops_clients_format(&clients, true, names, sizeof(names));
	if (count == 0)
		goto out;
	if (opts && opts->ignore_clients) {
		snprintf(ignored, ignored_len, "%s", names);
		goto out;
	}
	rc_image_spec_format(operating, text, sizeof(text));
	if (is_restore)
		rc = rc_error_in_use(err, "volume '%s' is in use: %s is open by "
				     "%s; restoring a disk under a running "
				     "client is never wanted: stop the guest "
				     "first (or pass --ignore-clients if it "
				     "only reads)", volume, text, names);
	else
		rc = rc_error_in_use(err, "volume '%s' is in use: %s is open by "
				     "%s, and a snapshot now would strand its "
				     "later writes there: stop %s, or give "
				     "rowcat its QEMU monitor (--qmp), or pass "
				     "--ignore-clients if it only reads", volume,
				     text, names, count == 1 ? "it" : "them");
out:
	rbdops_clients_free(&clients);
	return rc;
}
