/*
 * Whether this client may keep a database in a pool: Ceph's SQLite VFS
 * takes a cls lock on its first object for every transaction, reads
 * included, so a catalog in RADOS needs read, write and class calls on its
 * pool (osd 'profile rbd' gives all three) even to be listed; refused,
 * the VFS says only "disk I/O error".
 */
#include <errno.h>

#include "internal.h"

int rbdops_object_write_check(struct rbd_conn *conn, const char *pool,
			      const char *ns, const char *oid,
			      struct rc_error *err)
{
	rados_write_op_t op = NULL;
	rados_ioctx_t io = NULL;
	int rc;

	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	if (rc < 0)
		return rc;
	op = rados_create_write_op();
	if (!op) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/*
	 * The OSD checks caps before it runs a request: a write to an object
	 * that must exist, and does not, is refused for want of caps first,
	 * else stops at the assertion, having changed nothing.
	 */
	rados_write_op_assert_exists(op);
	rados_write_op_setxattr(op, "rowcat.probe", "", 0);
	rc = rados_write_op_operate(op, io, oid, NULL, 0);
	if (rc == -ENOENT) {
		rc = 0;
	} else if (rc == 0) {
		char where[3 * RC_NAME_MAX];

		rbdops_object_where(pool, ns ? ns : "", oid, where, sizeof(where));
		rc = rc_error_set(err, -EEXIST, "%s exists; rowcat never makes "
				  "it, so it cannot tell what this client may "
				  "do there", where);
	} else {
		rbdops_fail(err, rc, "writing in %s%s%s", pool,
			    ns && ns[0] ? "/" : "", ns ? ns : "");
		rc = rbdops_explain_failure(conn, pool, ns, err);
	}
out:
	if (op)
		rados_release_write_op(op);
	rados_ioctx_destroy(io);
	return rc;
}
