/*
 * A failure explained for the volume an operation worked on: a full pool
 * or cluster (rbdops_explain_full says why a timeout can mean "full"), or
 * the cap the client lacks on the volume's pool.
 */
#include <errno.h>

#include "internal.h"

int ops_explain_volume_failure(struct rbd_conn *conn, struct catalog *cat,
			       const char *volume, struct rc_error *err)
{
	struct catalog_volume found;
	struct catalog_image operating;
	struct rc_error lookup = {0};

	if (err->code != -ETIMEDOUT && err->code != -ENOSPC &&
	    err->code != -EDQUOT && !err->denied)
		return err->code;
	/*
	 * Best effort on purpose, whatever the lookup answers (absent, busy,
	 * damaged): the explanation only adds to err, and the operation's own
	 * failure is what the operator must read, not the lookup's.
	 */
	if (catalog_volume_find(cat, volume, &found, &lookup) < 0 ||
	    catalog_image_get(cat, found.operating_image_id, &operating,
			      &lookup) < 0)
		return err->code;
	return rbdops_explain_failure(conn, operating.spec.pool,
				      operating.spec.ns, err);
}
