/* Private to rbdops/. */
#ifndef ROWCAT_RBDOPS_INTERNAL_H
#define ROWCAT_RBDOPS_INTERNAL_H

#include <errno.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stddef.h>

#include "failpoint.h"

#include "rbdops.h"

struct rbd_conn {
	rados_t cluster;
};

/*
 * What rbdops_ioctx, and so every step, answers when the pool does not
 * exist: not -ENOENT, which the steps read as "the image (or snapshot) is
 * not there" and so as done. A pool that was renamed still holds its
 * images, and one that was deleted is not for gc to settle silently.
 */
#define RBDOPS_NO_POOL (-ENODEV)

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
/*
 * Whether an image holds spec's name even though it cannot be opened: a
 * create or clone killed inside librbd after it wrote the image's id
 * object and directory entry but before its header. `rbd ls` lists such an
 * image, and rbd_remove removes it; creating at its name says EEXIST.
 */
int rbdops_image_name_taken(struct rbd_conn *conn,
			    const struct rc_image_spec *spec, bool *taken,
			    struct rc_error *err);
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

/* Records a librados/librbd failure: "doing: strerror" with the code. */
int rbdops_fail(struct rc_error *err, int code, const char *fmt, ...)
	RC_PRINTF(3, 4);

/* Every image rowcat creates or clones has these features. */
#define RBDOPS_IMAGE_FEATURES                                              \
	(RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK |                \
	 RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF |                   \
	 RBD_FEATURE_DEEP_FLATTEN)

/* ---- the idempotent steps (steps.c) ---- */

int rbdops_snapshot_exists(struct rbd_conn *conn,
			   const struct rc_image_spec *spec, const char *snap,
			   bool *exists, struct rc_error *err);
/* Creates the snapshot unless it exists: one of that name is ours. */
int rbdops_snapshot_create(struct rbd_conn *conn,
			   const struct rc_image_spec *spec, const char *snap,
			   struct rc_error *err);
int rbdops_snapshot_protect(struct rbd_conn *conn,
			    const struct rc_image_spec *spec, const char *snap,
			    struct rc_error *err);
int rbdops_snapshot_is_protected(struct rbd_conn *conn,
				 const struct rc_image_spec *spec,
				 const char *snap, bool *is_protected,
				 struct rc_error *err);
/*
 * Unprotect and remove a snapshot of the image at spec, or (rbd_id not
 * NULL) of the image with that id in spec's pool, which may be in the
 * trash. Unprotect is -EBUSY when clones of the snapshot remain.
 */
int rbdops_snapshot_unprotect(struct rbd_conn *conn,
			      const struct rc_image_spec *spec,
			      const char *rbd_id, const char *snap,
			      struct rc_error *err);
int rbdops_snapshot_remove(struct rbd_conn *conn,
			   const struct rc_image_spec *spec, const char *rbd_id,
			   const char *snap, struct rc_error *err);
int rbdops_image_remove(struct rbd_conn *conn, const struct rc_image_spec *spec,
			struct rc_error *err);
/* Clones parent@snap into child, with RBDOPS_IMAGE_FEATURES. */
int rbdops_clone(struct rbd_conn *conn, const struct rc_image_spec *parent,
		 const char *snap, const struct rc_image_spec *child,
		 struct rc_error *err);
/*
 * Flattens spec until it has no parent, reporting progress to ev, with
 * its object map off (object_map.c says why); rbdops_object_map_restore
 * turns it on again after.
 */
int rbdops_flatten(struct rbd_conn *conn, const struct rc_image_spec *spec,
		   const struct rbdops_events *ev, struct rc_error *err);

/* ---- the object map around a flatten (object_map.c) ---- */

/* Image metadata that holds the map features a flatten turned off. */
#define RBDOPS_MAP_FEATURES_KEY "rowcat.flatten.map-features"
/* Turns off object-map and fast-diff on an open image, first noting in
 * RBDOPS_MAP_FEATURES_KEY which were on (unless a noted flatten left them
 * off already). */
int rbdops_object_map_off(rbd_image_t image, const char *text,
			  struct rc_error *err);
/* Turns on what RBDOPS_MAP_FEATURES_KEY notes, rebuilds the maps of the
 * image and its snapshots, then drops the key; nothing without a key. */
int rbdops_object_map_restore(struct rbd_conn *conn,
			      const struct rc_image_spec *spec,
			      struct rc_error *err);

/* The parent an image reads through on the cluster. */
struct rbdops_parent {
	bool has_parent;
	struct rc_image_spec image;
	char snapshot[RC_NAME_MAX];
};
/* -ENOENT when the image does not exist. */
int rbdops_image_parent(struct rbd_conn *conn, const struct rc_image_spec *spec,
			struct rbdops_parent *out, struct rc_error *err);
bool rbdops_parent_is(const struct rbdops_parent *parent,
		      const struct rc_image_spec *image, const char *snap);
/* Whether child is listed among the clones of parent@snap. */
int rbdops_is_child_of(struct rbd_conn *conn, const struct rc_image_spec *parent,
		       const char *snap, const struct rc_image_spec *child,
		       bool *listed, struct rc_error *err);

/* ---- the trash steps of gc (trash.c) ---- */

/* librbd's id of the image at spec; -ENOENT when there is none. */
int rbdops_image_id(struct rbd_conn *conn, const struct rc_image_spec *spec,
		    char id[RC_RBD_ID_MAX], struct rc_error *err);
/*
 * Moves the image with id rbd_id, named by spec, to the trash for
 * delay_seconds. Done already when that id is in the trash; -EBUSY, with
 * nothing changed, when a client has the image open; -ENOENT when it is
 * neither in the pool nor in the trash.
 */
int rbdops_image_trash(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       const char *rbd_id, int64_t delay_seconds,
		       struct rc_error *err);
/*
 * Removes the image with id rbd_id from spec's pool's trash for good,
 * setting *bytes to what it used when that was cheap to know
 * (*bytes_known). Done already when it is gone; -EEXIST when someone
 * restored it from the trash; -ENOTEMPTY when snapshots remain.
 */
int rbdops_trash_purge(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       const char *rbd_id, uint64_t *bytes, bool *bytes_known,
		       struct rc_error *err);

/* Where the image with id rbd_id in spec's pool is. */
enum rbdops_whereabouts { RBDOPS_IN_POOL, RBDOPS_IN_TRASH, RBDOPS_GONE };
int rbdops_trash_whereabouts(struct rbd_conn *conn,
			     const struct rc_image_spec *spec,
			     const char *rbd_id, enum rbdops_whereabouts *out,
			     struct rc_error *err);

/* ---- check (check.c, check_data.c) ---- */

/* "missing-image", "lost-data", ...: the kind's name in check's JSON. */
const char *rbdops_difference_kind_name(enum rbdops_difference_kind kind);

/* ---- shared by the operations and their recovery ---- */

/*
 * Runs call (which sets rc) between the failpoints before and after; on
 * failure jumps to the caller's `out` label without passing `after`.
 * "before:error" in $ROWCAT_FAILPOINT makes the step fail instead.
 */
#define RBDOPS_STEP(before, after, call)                                   \
	do {                                                               \
		RC_FAILPOINT(before);                                      \
		rc = rc_failpoint_error(before)                            \
			? rc_error_set(err, -EIO, "failure injected at %s", \
				       before)                             \
			: (call);                                          \
		if (rc < 0)                                                \
			goto out;                                          \
		RC_FAILPOINT(after);                                       \
	} while (0)

/* Failures that waiting may cure: the operation stays for recovery. */
bool rbdops_is_transient(const struct rc_error *err);

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

/* Settle one interrupted operation of each kind (row.c, flatten.c). */
int rbdops_row_recover(struct rbd_conn *conn, struct catalog *cat,
		       struct catalog_operation *op,
		       const struct rbdops_events *ev,
		       struct rbdops_recovery *report, struct rc_error *err);
int rbdops_gc_recover(struct rbd_conn *conn, struct catalog *cat,
		      struct catalog_operation *op,
		      struct rbdops_recovery *report, struct rc_error *err);
int rbdops_flatten_recover(struct rbd_conn *conn, struct catalog *cat,
			   struct catalog_operation *op,
			   const struct rbdops_events *ev,
			   struct rbdops_recovery *report, struct rc_error *err);

/* Runs ev->switched, if any, after a commit that switched images. */
int rbdops_notify_switch(const struct rbdops_events *ev, const char *volume,
			 const struct rc_image_spec *old_image,
			 const struct rc_image_spec *new_image,
			 struct rc_error *err);

/*
 * The clone name rule: VOLUME.rcN (N the operation's id), or
 * VOLUME.rcN-K when an image that is not ours holds that name.
 * Whether name is one of volume's clone names.
 */
bool rbdops_is_clone_name(const char *volume, const char *name);

#endif
