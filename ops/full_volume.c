/*
 * A full pool or cluster explained for the volume an operation worked on
 * (rbdops_explain_full says why a timeout can mean "full").
 */
#include <errno.h>

#include "internal.h"

int ops_explain_full_volume(struct rbd_conn *conn, struct catalog *cat,
			       const char *volume, struct rc_error *err)
{
	struct catalog_volume found;
	struct catalog_image operating;
	struct rc_error ignored;

	if (err->code != -ETIMEDOUT && err->code != -ENOSPC &&
	    err->code != -EDQUOT)
		return err->code;
	if (catalog_volume_find(cat, volume, &found, &ignored) < 0 ||
	    catalog_image_get(cat, found.operating_image_id, &operating,
			      &ignored) < 0)
		return err->code;
	return rbdops_explain_full(conn, operating.spec.pool, err);
}
