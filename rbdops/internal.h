/* Private to rbdops/. */
#ifndef ROWCAT_RBDOPS_INTERNAL_H
#define ROWCAT_RBDOPS_INTERNAL_H

#include <rados/librados.h>
#include <rbd/librbd.h>

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

#endif
