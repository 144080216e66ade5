/* Private to rbdops/. */
#ifndef ROWCAT_RBDOPS_INTERNAL_H
#define ROWCAT_RBDOPS_INTERNAL_H

#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stddef.h>

#include "rbdops.h"

struct rbd_conn {
	rados_t cluster;
};

/* Opens an I/O context on spec's pool and namespace. */
int rbdops_ioctx(struct rbd_conn *conn, const char *pool, const char *ns,
		 rados_ioctx_t *out, struct rc_error *err);

/* Records a librados/librbd failure: "doing: strerror" with the code. */
int rbdops_fail(struct rc_error *err, int code, const char *fmt, ...)
	RC_PRINTF(3, 4);

/* ---- shared by the operations and their recovery ---- */

/* The RBDOPS_OWNER_KEY value that marks an image as op's work. */
void rbdops_owner_tag(const struct catalog_operation *op, char *buf,
		      size_t len);

/* Ends op with state and why, in a transaction of its own. */
int rbdops_end_operation(struct catalog *cat, struct catalog_operation *op,
			 const char *state, const char *why,
			 struct rc_error *err);

/* create's last steps: tag the image; record the volume and end the op. */
int rbdops_create_tag(struct rbd_conn *conn, const struct catalog_operation *op,
		      struct rc_error *err);
int rbdops_create_finish(struct catalog *cat, struct catalog_operation *op,
			 struct rc_error *err);

#endif
