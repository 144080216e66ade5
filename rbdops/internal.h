/* Private to rbdops/. */
#ifndef ROWCAT_RBDOPS_INTERNAL_H
#define ROWCAT_RBDOPS_INTERNAL_H

#include <errno.h>
#include <stddef.h>

#include "ceph_libs.h"
#include "rowcat/rbdops.h"
#include "rowcat/sys/failpoint.h"

struct rbd_conn {
	rados_t cluster;
	char entity[RC_NAME_MAX + 8]; /* client.ID, as connected */
};

/* Records RBDOPS_NO_POOL with the message that names the pool. */
int rbdops_no_pool(struct rc_error *err, const char *pool);

/* Opens an I/O context on spec's pool and namespace; RBDOPS_NO_POOL when
 * the pool does not exist. */
int rbdops_ioctx(struct rbd_conn *conn, const char *pool, const char *ns,
		 rados_ioctx_t *out, struct rc_error *err);

/* An open image and the I/O context it lives in. */
struct open_image {
	rados_ioctx_t io;
	rbd_image_t image;
};

/*
 * Opens the image at spec (read-only or not). -ENOENT, with a message,
 * when it does not exist; RBDOPS_NO_POOL when its pool does not. Close
 * with rbdops_close_image, also after a failure (out->io is NULL when
 * the pool could not be opened).
 */
int rbdops_open_image(struct rbd_conn *conn, const struct rc_image_spec *spec,
		      bool read_only, struct open_image *out,
		      struct rc_error *err);
void rbdops_close_image(struct open_image *img);

/* Opens the image at spec, writable, at its snapshot snap. */
int rbdops_open_image_at(struct rbd_conn *conn, const struct rc_image_spec *spec,
			 const char *snap, struct open_image *out,
			 struct rc_error *err);
/* The snapshots of an open image; free with rbd_snap_list_end and free(). */
int rbdops_snap_list(rbd_image_t image, rbd_snap_info_t **out, int *count);

/* rbdops_open_image, or by librbd's id in spec's pool when rbd_id is not
 * NULL (an image in the trash has no name to be opened by). */
int rbdops_open_image_ref(struct rbd_conn *conn,
			  const struct rc_image_spec *spec, const char *rbd_id,
			  bool read_only, struct open_image *out,
			  struct rc_error *err);

/* Counts one image that an rbd_open* of ours opened (librbd's own opens,
 * such as the parent rbd_clone3 opens, are not counted, nor a look for an
 * image that is not there); ROWCAT_DEBUG_OPENS=1 makes rbdops_disconnect
 * say on stderr how many there were. */
void rbdops_count_open(void);

/* Records a librados/librbd failure: "doing: strerror" with the code. */
int rbdops_fail(struct rc_error *err, int code, const char *fmt, ...)
	RC_PRINTF(3, 4);

/* Every image rowcat creates or clones has these features. */
#define RBDOPS_IMAGE_FEATURES                                              \
	(RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK |                \
	 RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF |                   \
	 RBD_FEATURE_DEEP_FLATTEN)

/* Turns off object-map and fast-diff on an open image, first noting in
 * RBDOPS_MAP_FEATURES_KEY which were on (unless a noted flatten left them
 * off already). */
int rbdops_object_map_off(rbd_image_t image, const char *text,
			  struct rc_error *err);

/* "pool/oid" or "pool/ns/oid" (ns "" for none), for messages. */
void rbdops_object_where(const char *pool, const char *ns, const char *oid,
			 char *buf, size_t len);

/* ---- an image's header object, without an open (header.c) ---- */

/*
 * The id (id_len bytes) and header object name (oid_len bytes) of the
 * format-2 image called name in io: -ENOENT when no rbd_id object has that
 * name (a format-1 image, or none), -EOPNOTSUPP when it cannot be read.
 */
int rbdops_header_oid(rados_ioctx_t io, const char *name, char *id,
		      size_t id_len, char *oid, size_t oid_len);

/* cls_rbd's RBD_PROTECTION_STATUS_PROTECTED (get_protection_status,
 * set_protection_status). */
#define RBDOPS_CLS_PROTECTED 2

/* The snapshot called snap in the user namespace of header (what
 * rbd_snap_exists finds by that name), or NULL. */
const struct rbdops_snapshot *
rbdops_header_snapshot(const struct rbdops_header *header, const char *snap);

/*
 * Tells every client watching the header object oid that the header
 * changed, as librbd does after each change it makes (an empty notify,
 * which librbd and krbd both take as a header update: the client refreshes
 * its view before its next I/O). Waits for their acks up to
 * RBDOPS_NOTIFY_TIMEOUT_MS; a client that does not answer by then (a dead
 * one, whose watch the OSD has not timed out yet) is left to refresh when
 * it watches again, as librbd does after a rewatch. Never fails: the
 * change is made, and a client not told sees it at its next refresh.
 */
#define RBDOPS_NOTIFY_TIMEOUT_MS 5000
void rbdops_header_notify_update(rados_ioctx_t io, const char *oid);

/* ---- cls_lock, the class behind rados_lock_* (cls_lock.c) ---- */

/* One holder of a cls lock, as cls_lock's get_info tells it. */
struct cls_locker {
	char entity[RBDOPS_ENTITY_MAX];       /* "client.4463" */
	char cookie[RBDOPS_LOCK_COOKIE_MAX];
	char addr[RBDOPS_ADDR_MAX];           /* "IP:port/nonce"; "" when
						 its family is unknown */
	char description[2048];               /* a lease's fits whole */
	int64_t expires_at; /* by the OSD's clock, unix s; 0: never */
};

/*
 * Reads lock name on oid as `rados lock info` does (cls_lock's get_info)
 * and calls each(locker, arg) for its holders in the OSD's order (expired
 * ones are gone already: the OSD drops them on every read), until each
 * returns non-zero. 0 also when nobody holds it; rados_exec's code when
 * the call fails (-ENOENT: no object); -EPROTO when the reply is not
 * get_info's as Ceph 16 encodes it (each may have been called for the
 * holders before the bad part); -ENAMETOOLONG for a name of RC_NAME_MAX
 * bytes or more.
 */
int rbdops_cls_lock_info(rados_ioctx_t io, const char *oid, const char *name,
			 int (*each)(const struct cls_locker *locker, void *arg),
			 void *arg);

/*
 * Unlocks exclusive lock name on oid, held by this client as cookie, and
 * removes the attribute cls_lock keeps it in ("lock.NAME"), which
 * rados_unlock leaves behind: without this, every lock name ever taken
 * stays on the object. One write op, so that the attribute goes only
 * when the unlock succeeds: when it fails (-ENOENT: the lock expired or
 * was broken, and maybe another client holds it now) nothing changes.
 * For exclusive locks only: a shared lock's other holders live in the
 * same attribute. 0 or librados's code.
 */
int rbdops_cls_unlock(rados_ioctx_t io, const char *oid, const char *name,
		      const char *cookie);
#endif
