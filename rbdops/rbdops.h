/*
 * rbdops: rowcat's side of the cluster, through librados and librbd.
 *
 * A struct rbd_conn is one connected client. It is made the way Ceph's own
 * tools make theirs (ceph.conf found as librados finds it, CEPH_ARGS,
 * --id/--name/--cluster/--conf) and always with client timeouts, so an
 * unreachable cluster is an error within the timeout, never a hang.
 * This module knows nothing of command lines beyond Ceph's own conventions.
 */
#ifndef ROWCAT_RBDOPS_H
#define ROWCAT_RBDOPS_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "names.h"

/* Every image rowcat creates or clones has exactly these features. */
#define RBDOPS_IMAGE_FEATURES_TEXT \
	"layering, exclusive-lock, object-map, fast-diff, deep-flatten"

#define RBDOPS_DEFAULT_TIMEOUT 30

struct rbd_conn;

/*
 * How to reach the cluster. NULL members fall back to CEPH_ARGS and then to
 * Ceph's defaults (cluster "ceph", client.admin, the usual ceph.conf search).
 */
struct rbdops_conn_options {
	const char *conf;     /* -c/--conf: the ceph.conf to read */
	const char *cluster;  /* --cluster */
	const char *id;       /* --id/--user: the client is client.ID */
	const char *name;     /* -n/--name: the full entity name */
	const char *keyring;  /* -k/--keyring */
	const char *mon_host; /* -m/--mon-host */
	int timeout_seconds;  /* 0 means RBDOPS_DEFAULT_TIMEOUT */
};

/*
 * Connects to the cluster. On success *out is the caller's, to be released
 * with rbdops_disconnect. A cluster that does not answer within the timeout
 * is -ETIMEDOUT (see rc_error_is_unreachable).
 */
int rbdops_connect(struct rbd_conn **out, const struct rbdops_conn_options *opts,
		   struct rc_error *err);

/* Disconnects; NULL is fine. */
void rbdops_disconnect(struct rbd_conn *conn);

/* Checks that pool exists and, when ns is not "", that the RBD namespace
 * does too. -ENOENT with a message naming what is missing. */
int rbdops_pool_check(struct rbd_conn *conn, const char *pool, const char *ns,
		      struct rc_error *err);

/* Sets *exists to whether an image named by spec exists on the cluster. */
int rbdops_image_exists(struct rbd_conn *conn, const struct rc_image_spec *spec,
			bool *exists, struct rc_error *err);

/*
 * Creates an image of `size` bytes with RBDOPS_IMAGE_FEATURES_TEXT.
 * -EEXIST when an image of that name exists already.
 */
int rbdops_image_create(struct rbd_conn *conn, const struct rc_image_spec *spec,
			uint64_t size, struct rc_error *err);

/* The image metadata key that names the operation which made an image. */
#define RBDOPS_OWNER_KEY "rowcat.operation"

/* Sets image metadata key = value on the image at spec. */
int rbdops_image_set_meta(struct rbd_conn *conn, const struct rc_image_spec *spec,
			  const char *key, const char *value,
			  struct rc_error *err);

/*
 * What recovery needs to know of an image it may have made: whether it
 * exists, its RBDOPS_OWNER_KEY metadata ("" when unset) and when it was
 * created.
 */
struct rbdops_image_facts {
	bool exists;
	char owner[128];
	int64_t created_at;
};
int rbdops_image_facts(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       struct rbdops_image_facts *out, struct rc_error *err);

/* ---- operations: journalled in the catalog, carried out on Ceph -------- */

/*
 * Creates volume spec->name: an image at spec of `size` bytes and the
 * catalog's volume whose operating image it is. Everything that can be
 * checked is checked before anything changes: the name is free in the
 * catalog and on the cluster, the pool and namespace exist. Then the
 * operation is journalled, the image created, and the volume recorded in
 * one transaction with the end of the operation.
 */
int rbdops_volume_create(struct rbd_conn *conn, struct catalog *cat,
			 const struct rc_image_spec *spec, uint64_t size,
			 struct rc_error *err);

/* What a recovery did. */
struct rbdops_recovery {
	int finished;    /* rolled forward to done */
	int undone;      /* rolled back */
	int failed;      /* could not be completed; ended as failed */
	int busy;        /* claimed by a live rowcat, left alone */
};

/*
 * Finishes or undoes every operation that a rowcat left 'running' when it
 * died, looking at the cluster first, so that the catalog and the cluster
 * agree again. Operations that a live rowcat holds are counted as busy and
 * left alone. Returns 0 when every operation it owned was settled.
 */
int rbdops_recover(struct rbd_conn *conn, struct catalog *cat,
		   struct rbdops_recovery *report, struct rc_error *err);

#endif
