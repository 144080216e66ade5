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
 *
 * A live rowcat carrying out an operation on the volume has the image
 * open too, and that is "busy", which the journal says (catalog_op_begin)
 * and a policy run tries again: so a volume with an operation running,
 * before or after the look, or switched meanwhile, is left to the
 * journal's rules.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* Whether another rowcat is at work on volume: an operation of it is
 * running, or its operating image is no longer `operating`. */
static int rowcat_at_work(struct catalog *cat,
			  const struct catalog_volume *volume,
			  const struct catalog_image *operating, bool *at_work,
			  struct rc_error *err)
{
	struct catalog_operation *running = NULL;
	struct catalog_volume now;
	size_t n = 0;
	int rc;

	*at_work = false;
	rc = catalog_op_list_running(cat, &running, &n, err);
	for (size_t i = 0; rc == 0 && i < n && !*at_work; i++)
		*at_work = running[i].volume_id == volume->id;
	free(running);
	if (rc == 0 && !*at_work)
		rc = catalog_volume_get(cat, volume->id, &now, err);
	if (rc == 0 && !*at_work)
		*at_work = now.operating_image_id != operating->id;
	return rc;
}

int ops_row_check_clients(struct rbd_conn *conn, struct catalog *cat,
			  const struct catalog_volume *volume,
			  const struct catalog_image *operating,
			  bool is_restore,
			  const struct ops_row_options *opts,
			  char *ignored, size_t ignored_len,
			  struct rc_error *err)
{
	struct rbdops_clients clients = {0};
	char text[RC_SPEC_MAX], names[RC_ERROR_MESSAGE_MAX / 2];
	bool at_work = false;
	size_t count = 0;
	int rc;

	if (ignored_len)
		ignored[0] = '\0';
	rc = rbdops_image_clients(conn, &operating->spec, &clients, err);
	if (rc == 0)
		count = rbdops_clients_format(&clients, true, names,
					      sizeof(names));
	/* looked again: a rowcat that began (or ended) meanwhile may be
	 * the client seen */
	if (rc == 0 && count)
		rc = rowcat_at_work(cat, volume, operating, &at_work, err);
	if (rc < 0 || at_work || count == 0)
		goto out;
	if (opts && opts->ignore_clients) {
		snprintf(ignored, ignored_len, "%s", names);
		goto out;
	}
	rc_image_spec_format(&operating->spec, text, sizeof(text));
	if (is_restore)
		rc = rc_error_in_use(err, "volume '%s' is in use: %s is open by "
				     "%s; restoring a disk under a running "
				     "client is never wanted: stop the guest "
				     "first (or pass --ignore-clients if it "
				     "only reads)", volume->name, text, names);
	else
		rc = rc_error_in_use(err, "volume '%s' is in use: %s is open by "
				     "%s, and a snapshot now would strand its "
				     "later writes there: stop %s, or give "
				     "rowcat its QEMU monitor (--qmp), or pass "
				     "--ignore-clients if it only reads",
				     volume->name, text, names,
				     count == 1 ? "it" : "them");
out:
	rbdops_clients_free(&clients);
	return rc;
}
