/*
 * Telling which cap a refused client lacks. librbd answers EPERM (or
 * EACCES) for any request the client's caps do not allow, and names
 * neither the client nor the cap. The cap rowcat needs of a pool is the
 * OSD's `profile rbd pool=P` (the monitor's 'allow r' is enough for every
 * snapshot and clone; its `profile rbd` adds the blocklisting of a dead
 * lock owner). Measured against Ceph 16.2.15: a client without any cap
 * on the pool is refused even reading the pool's rbd_directory, one with
 * `profile rbd-read-only` reads it and is refused writing. So one read
 * of that object after the failure tells which cap is missing; it costs
 * the common path nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Appends to err's message (cut to fit), keeping its code. */
static void append(struct rc_error *err, const char *fmt, ...) RC_PRINTF(2, 3);

static void append(struct rc_error *err, const char *fmt, ...)
{
	size_t used = strlen(err->message);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->message + used, sizeof(err->message) - used, fmt, ap);
	va_end(ap);
}

static int explain_denied(struct rbd_conn *conn, const char *pool,
			  const char *ns, struct rc_error *err)
{
	rados_ioctx_t io;
	uint64_t size;
	time_t mtime;
	int rc;

	if (rados_ioctx_create(conn->cluster, pool, &io) < 0)
		return err->code;
	rados_ioctx_set_namespace(io, ns ? ns : "");
	rc = rados_stat(io, "rbd_directory", &size, &mtime);
	rados_ioctx_destroy(io);
	if (rc == -EPERM || rc == -EACCES)
		append(err, ": %s has no cap on pool '%s'", conn->entity, pool);
	else if (rc == 0 || rc == -ENOENT)
		append(err, ": %s may read pool '%s' but not write to it (a "
		       "read-only profile?)", conn->entity, pool);
	/* else the read failed too (a timeout, an I/O error): no guess of
	 * which cap is missing, only what rowcat needs */
	if (ns && ns[0])
		append(err, "; rowcat needs osd 'profile rbd pool=%s "
		       "namespace=%s' (or the whole pool's)", pool, ns);
	else
		append(err, "; rowcat needs osd 'profile rbd pool=%s'", pool);
	append(err, " and mon 'profile rbd' (see 'ceph auth get %s')",
	       conn->entity);
	return err->code;
}

int rbdops_explain_failure(struct rbd_conn *conn, const char *pool,
			   const char *ns, struct rc_error *err)
{
	if (!conn || !pool || !pool[0])
		return err->code;
	if (err->denied)
		return explain_denied(conn, pool, ns, err);
	return rbdops_explain_full(conn, pool, err);
}
