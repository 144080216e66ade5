/*
 * The idempotent steps that operations are made of. Each looks first and
 * then acts, so that running it again after a crash finishes the work
 * instead of failing on what is already done:
 *
 *   snapshot create   an existing snapshot of that name is ours
 *   protect           already protected is success (librbd says EBUSY)
 *   unprotect         already unprotected is success (librbd says EINVAL);
 *                     a snapshot left UNPROTECTING by a killed unprotect
 *                     is settled by unprotecting again
 *   remove            what is already gone (ENOENT) is success
 *   flatten           repeated until the image really has no parent, with
 *                     the object map off meanwhile (object_map.c)
 *
 * A client killed while it had an image open keeps a watch on it until
 * the OSD times the watch out (about 30 s); removing that image answers
 * EBUSY meanwhile, so removals retry EBUSY with a backoff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Long enough for a dead client's watch to time out (30 s by default). */
#define BUSY_WAIT_MS 45000

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

/* Calls attempt(arg) again while it answers -EBUSY, backing off from
 * 250 ms to 4 s, for up to BUSY_WAIT_MS in all. */
static int retry_busy(int (*attempt)(void *arg), void *arg)
{
	long waited = 0, pause = 250;
	int rc;

	while ((rc = attempt(arg)) == -EBUSY && waited < BUSY_WAIT_MS) {
		sleep_ms(pause);
		waited += pause;
		pause = pause < 4000 ? pause * 2 : 4000;
	}
	return rc;
}

/*
 * The header of the image at spec and the name of its header object, for
 * a step that needs no open: -EOPNOTSUPP when the header cannot tell (the
 * caller opens the image instead). *io is the caller's to destroy, also
 * after a failure; free *header with rbdops_header_free.
 */
static int read_header(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       struct rbdops_header *header, rados_ioctx_t *io,
		       char *oid, size_t oid_len, struct rc_error *err)
{
	int rc;

	*io = NULL;
	rc = rbdops_header_read(conn, spec, header, err);
	if (rc == 0)
		rc = rbdops_ioctx(conn, spec->pool, spec->ns, io, err);
	if (rc == 0)
		snprintf(oid, oid_len, "rbd_header.%s", header->id);
	return rc;
}

int rbdops_snapshot_exists(struct rbd_conn *conn,
			   const struct rc_image_spec *spec, const char *snap,
			   bool *exists, struct rc_error *err)
{
	struct rbdops_header header;
	char text[RC_SPEC_MAX];
	struct open_image img;
	int rc;

	*exists = false;
	/* the header, not an open: an open reads the whole parent chain */
	rc = rbdops_header_read(conn, spec, &header, err);
	if (rc == 0)
		*exists = rbdops_header_snapshot(&header, snap) != NULL;
	rbdops_header_free(&header);
	if (rc != -EOPNOTSUPP)
		return rc;
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc == 0 && (rc = rbd_snap_exists(img.image, snap, exists)) < 0) {
		rc_image_spec_format(spec, text, sizeof(text));
		rc = rbdops_fail(err, rc, "looking up snapshot %s@%s", text, snap);
	}
	rbdops_close_image(&img);
	return rc;
}

/* librbd calls a snap create's progress callback unconditionally. */
static int no_progress(uint64_t offset, uint64_t total, void *arg)
{
	(void)offset;
	(void)total;
	(void)arg;
	return 0;
}

/*
 * Whether snap create fails with code by itself: a name taken, an image
 * gone, no permission, a full cluster, a connection cut. librbd passes on
 * whatever a client's quiesce handler answered (rbd-nbd --quiesce's hook
 * exiting 1 gives -EIO), so only a code outside these says a client
 * refused to quiesce.
 */
static bool snap_create_fails_by_itself(int code)
{
	static const int own[] = {
		EEXIST, ENOENT, EINVAL, ENAMETOOLONG, EROFS, EPERM, EACCES,
		EDQUOT, ENOSPC, ENOMEM, ESHUTDOWN, ENOTCONN, ETIMEDOUT,
		ECONNREFUSED, EOPNOTSUPP,
	};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (-code == own[i])
			return true;
	return false;
}

/*
 * Explains a snap create of spec that failed with code: with other
 * clients of the image (which librbd asked to quiesce) and a code that
 * snap create does not give by itself, as a quiesce that failed.
 */
static int snapshot_create_failed(struct rbd_conn *conn,
				  const struct rc_image_spec *spec,
				  const char *snap, int code,
				  struct rc_error *err)
{
	struct rbdops_clients clients = {0};
	struct rc_error ignored = {0};
	char text[RC_SPEC_MAX], names[RC_ERROR_MESSAGE_MAX / 2];

	rc_image_spec_format(spec, text, sizeof(text));
	if (snap_create_fails_by_itself(code) ||
	    rbdops_image_clients(conn, spec, &clients, &ignored) < 0 ||
	    rbdops_clients_format(&clients, true, names, sizeof(names)) == 0) {
		rbdops_clients_free(&clients);
		return rbdops_fail(err, code, "creating snapshot %s@%s", text,
				   snap);
	}
	rbdops_clients_free(&clients);
	return rc_error_set(err, code, "a client of %s (%s) failed to quiesce "
			    "for the snapshot (rbd-nbd --quiesce's hook?): %s",
			    text, names, strerror(-code));
}

/*
 * Creates snapshot snap on the open image, unless it exists. *created
 * holds snap create's own failure, which the caller explains
 * (snapshot_create_failed looks at its clients, this connection's own
 * watch left out).
 */
static int create_on(rbd_image_t image, const char *text, const char *snap,
		     int *created, struct rc_error *err)
{
	bool exists = false;
	int rc = rbd_snap_exists(image, snap, &exists);

	*created = 0;
	if (rc < 0)
		return rbdops_fail(err, rc, "looking up snapshot %s@%s", text, snap);
	if (exists)
		return 0;
	/* flags 0: every client is asked to quiesce, and its failure fails
	 * the snapshot, whatever rbd_default_snapshot_quiesce_mode says
	 * (rbd_snap_create follows it, and "skip" would skip it silently) */
	*created = rbd_snap_create2(image, snap, 0, no_progress, NULL);
	if (*created == -EEXIST)
		*created = 0;
	return 0;
}

/* Protects snapshot snap of the open image, unless it is protected. */
static int protect_on(rbd_image_t image, const char *text, const char *snap,
		      struct rc_error *err)
{
	int is_protected = 0;
	int rc = rbd_snap_is_protected(image, snap, &is_protected);

	if (rc == 0 && is_protected)
		return 0;
	if (rc == 0)
		rc = rbd_snap_protect(image, snap);
	if (rc == -EBUSY) /* protected meanwhile */
		rc = 0;
	else if (rc < 0)
		rc = rbdops_fail(err, rc, "protecting snapshot %s@%s", text, snap);
	return rc;
}

/*
 * Protects snapshot snap of the image at spec on its header, as librbd's
 * SnapshotProtectRequest does once its checks pass, then tells the
 * image's clients (a running guest's librbd holding the exclusive lock
 * refreshes, as after librbd's own protect). The same checks, from the
 * header: the snapshot exists in the user namespace, the image has
 * layering, the snapshot is not protected yet (then there is nothing to
 * do). -EOPNOTSUPP where librbd must do it, or word why not: no header
 * to read, no such snapshot, no layering, journaling on (librbd records
 * the protect in the image's journal, which journal-based mirroring
 * replays), or a class call that fails for such a reason.
 */
static int protect_unopened(struct rbd_conn *conn,
			    const struct rc_image_spec *spec, const char *snap,
			    struct rc_error *err)
{
	const struct rbdops_snapshot *found;
	struct rbdops_header header;
	char oid[RC_RBD_ID_MAX + 16], text[RC_SPEC_MAX];
	unsigned char in[9];
	rados_ioctx_t io = NULL;
	int rc;

	rc = read_header(conn, spec, &header, &io, oid, sizeof(oid), err);
	if (rc < 0)
		goto out;
	found = rbdops_header_snapshot(&header, snap);
	if (!found || !(header.features & RBD_FEATURE_LAYERING) ||
	    (header.features & RBD_FEATURE_JOURNALING)) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (found->is_protected)
		goto out;
	for (int i = 0; i < 8; i++)
		in[i] = (unsigned char)(found->id >> (8 * i));
	in[8] = RBDOPS_CLS_PROTECTED; /* set_protection_status: id, status */
	rc = rados_exec(io, oid, "rbd", "set_protection_status", (char *)in,
			sizeof(in), NULL, 0);
	/* removed meanwhile (ENOENT), layering gone (ENOEXEC), no class:
	 * librbd words it */
	if (rc == -ENOENT || rc == -ENOEXEC || rc == -EINVAL ||
	    rc == -EOPNOTSUPP) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (rc < 0) {
		rc_image_spec_format(spec, text, sizeof(text));
		rc = rbdops_fail(err, rc, "protecting snapshot %s@%s", text,
				 snap);
		goto out;
	}
	rbdops_header_notify_update(io, oid);
out:
	rbdops_header_free(&header);
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

/* Creates snapshot snap of spec, and with protect protects it. The
 * writable open (the snapshot create needs one) is closed before the
 * protect, which goes on the header: no second open of the parent chain,
 * and no handle held between the two. */
static int snapshot_take(struct rbd_conn *conn, const struct rc_image_spec *spec,
			 const char *snap, bool protect, struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct open_image img;
	int rc, created = 0;

	rc_image_spec_format(spec, text, sizeof(text));
	rc = rbdops_open_image(conn, spec, false, &img, err);
	if (rc == 0)
		rc = create_on(img.image, text, snap, &created, err);
	/* the clients looked up leave out this connection's own watch */
	if (rc == 0 && created < 0)
		rc = snapshot_create_failed(conn, spec, snap, created, err);
	rbdops_close_image(&img);
	if (rc == 0 && protect)
		rc = rbdops_snapshot_protect(conn, spec, snap, err);
	return rc;
}

int rbdops_snapshot_create(struct rbd_conn *conn,
			   const struct rc_image_spec *spec, const char *snap,
			   struct rc_error *err)
{
	return snapshot_take(conn, spec, snap, false, err);
}

int rbdops_snapshot_protect(struct rbd_conn *conn,
			    const struct rc_image_spec *spec, const char *snap,
			    struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct open_image img;
	int rc = protect_unopened(conn, spec, snap, err);

	if (rc != -EOPNOTSUPP)
		return rc;
	rc_error_clear(err);
	rc_image_spec_format(spec, text, sizeof(text));
	rc = rbdops_open_image(conn, spec, false, &img, err);
	if (rc == 0)
		rc = protect_on(img.image, text, snap, err);
	rbdops_close_image(&img);
	return rc;
}

int rbdops_snapshot_take(struct rbd_conn *conn,
			 const struct rc_image_spec *spec, const char *snap,
			 struct rc_error *err)
{
	return snapshot_take(conn, spec, snap, true, err);
}

int rbdops_snapshot_is_protected(struct rbd_conn *conn,
				 const struct rc_image_spec *spec,
				 const char *snap, bool *is_protected,
				 struct rc_error *err)
{
	const struct rbdops_snapshot *found;
	struct rbdops_header header;
	char text[RC_SPEC_MAX];
	struct open_image img;
	int flag = 0, rc;

	*is_protected = false;
	rc = rbdops_header_read(conn, spec, &header, err);
	found = rc == 0 ? rbdops_header_snapshot(&header, snap) : NULL;
	if (found)
		*is_protected = found->is_protected;
	rbdops_header_free(&header);
	/* no such snapshot: librbd's -ENOENT, with its message */
	if (rc == 0 && found)
		return 0;
	if (rc < 0 && rc != -EOPNOTSUPP)
		return rc;
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc == 0 && (rc = rbd_snap_is_protected(img.image, snap, &flag)) < 0) {
		rc_image_spec_format(spec, text, sizeof(text));
		rc = rbdops_fail(err, rc, "reading the protection of %s@%s", text,
				 snap);
	}
	*is_protected = flag != 0;
	rbdops_close_image(&img);
	return rc;
}

/* One removal, for retry_busy: of an image, or with snap_call of one of
 * its snapshots. */
struct removal {
	struct rbd_conn *conn;
	const struct rc_image_spec *spec;
	const char *rbd_id; /* NULL: open the image by spec's name */
	const char *snap;
	int (*snap_call)(rbd_image_t image, const char *snap);
};

/* Opens the image and applies r->snap_call to its snapshot. */
static int snap_call_once(void *arg)
{
	struct removal *r = arg;
	struct open_image img;
	struct rc_error ignored; /* the code is all: the callers word it */
	int rc = rbdops_open_image_ref(r->conn, r->spec, r->rbd_id, false, &img,
				       &ignored);

	if (rc == 0)
		rc = r->snap_call(img.image, r->snap);
	rbdops_close_image(&img);
	return rc;
}

int rbdops_snapshot_unprotect(struct rbd_conn *conn,
			      const struct rc_image_spec *spec,
			      const char *rbd_id, const char *snap,
			      struct rc_error *err)
{
	struct removal r = { conn, spec, rbd_id, snap, rbd_snap_unprotect };
	char text[RC_SPEC_MAX];
	/* EBUSY here means clones still exist: no amount of waiting helps */
	int rc = snap_call_once(&r);

	if (rc == RBDOPS_NO_POOL)
		return rbdops_no_pool(err, spec->pool);
	if (rc == -EINVAL || rc == -ENOENT) /* unprotected, or gone */
		return 0;
	rc_image_spec_format(spec, text, sizeof(text));
	if (rc == -EBUSY)
		return rc_error_set(err, rc, "snapshot %s@%s still has clones; "
				    "it stays protected", text, snap);
	if (rc < 0)
		return rbdops_fail(err, rc, "unprotecting snapshot %s@%s", text,
				   snap);
	return 0;
}

int rbdops_snapshot_remove(struct rbd_conn *conn,
			   const struct rc_image_spec *spec, const char *rbd_id,
			   const char *snap, struct rc_error *err)
{
	struct removal r = { conn, spec, rbd_id, snap, rbd_snap_remove };
	char text[RC_SPEC_MAX];
	int rc = retry_busy(snap_call_once, &r);

	if (rc == RBDOPS_NO_POOL)
		return rbdops_no_pool(err, spec->pool);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		rc_image_spec_format(spec, text, sizeof(text));
		return rbdops_fail(err, rc, "removing snapshot %s@%s", text, snap);
	}
	return 0;
}

static int image_remove_once(void *arg)
{
	struct removal *r = arg;
	struct rc_error ignored; /* the code is all: the callers word it */
	rados_ioctx_t io = NULL;
	int rc = rbdops_ioctx(r->conn, r->spec->pool, r->spec->ns, &io, &ignored);

	if (rc == 0)
		rc = rbd_remove(io, r->spec->name);
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

int rbdops_image_remove(struct rbd_conn *conn, const struct rc_image_spec *spec,
			struct rc_error *err)
{
	struct removal r = { conn, spec, NULL, NULL, NULL };
	char text[RC_SPEC_MAX];
	int rc = retry_busy(image_remove_once, &r);

	if (rc == RBDOPS_NO_POOL)
		return rbdops_no_pool(err, spec->pool);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		rc_image_spec_format(spec, text, sizeof(text));
		return rbdops_fail(err, rc, "removing image %s", text);
	}
	return 0;
}

int rbdops_image_parent(struct rbd_conn *conn, const struct rc_image_spec *spec,
			struct rbdops_parent *out, struct rc_error *err)
{
	rbd_linked_image_spec_t image;
	rbd_snap_spec_t snap;
	char text[RC_SPEC_MAX];
	struct open_image img;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc < 0)
		goto out;
	rc = rbd_get_parent(img.image, &image, &snap);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc < 0) {
		rc_image_spec_format(spec, text, sizeof(text));
		rc = rbdops_fail(err, rc, "reading the parent of %s", text);
		goto out;
	}
	out->has_parent = true;
	snprintf(out->image.pool, sizeof(out->image.pool), "%s", image.pool_name);
	snprintf(out->image.ns, sizeof(out->image.ns), "%s", image.pool_namespace);
	snprintf(out->image.name, sizeof(out->image.name), "%s", image.image_name);
	snprintf(out->snapshot, sizeof(out->snapshot), "%s", snap.name);
	rbd_linked_image_spec_cleanup(&image);
	rbd_snap_spec_cleanup(&snap);
out:
	rbdops_close_image(&img);
	return rc;
}

bool rbdops_parent_is(const struct rbdops_parent *parent,
		      const struct rc_image_spec *image, const char *snap)
{
	return parent->has_parent &&
	       strcmp(parent->image.pool, image->pool) == 0 &&
	       strcmp(parent->image.ns, image->ns) == 0 &&
	       strcmp(parent->image.name, image->name) == 0 &&
	       strcmp(parent->snapshot, snap) == 0;
}

int rbdops_is_child_of(struct rbd_conn *conn, const struct rc_image_spec *parent,
		       const char *snap, const struct rc_image_spec *child,
		       bool *listed, struct rc_error *err)
{
	rbd_linked_image_spec_t *children = NULL;
	size_t count = 16;
	char text[RC_SPEC_MAX];
	struct open_image img;
	int rc;

	*listed = false;
	rc = rbdops_open_image(conn, parent, true, &img, err);
	if (rc < 0)
		goto out;
	rc = rbd_snap_set(img.image, snap);
	while (rc == 0) {
		free(children);
		children = calloc(count, sizeof(*children));
		if (!children) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		rc = rbd_list_children3(img.image, children, &count);
		if (rc != -ERANGE)
			break;
		rc = 0;
	}
	if (rc < 0) {
		rc_image_spec_format(parent, text, sizeof(text));
		rc = rbdops_fail(err, rc, "listing the clones of %s@%s", text, snap);
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		if (strcmp(children[i].pool_name, child->pool) == 0 &&
		    strcmp(children[i].pool_namespace, child->ns) == 0 &&
		    strcmp(children[i].image_name, child->name) == 0)
			*listed = true;
	}
	rbd_linked_image_spec_list_cleanup(children, count);
out:
	free(children);
	rbdops_close_image(&img);
	return rc;
}

int rbdops_clone(struct rbd_conn *conn, const struct rc_image_spec *parent,
		 const char *snap, const struct rc_image_spec *child,
		 struct rc_error *err)
{
	rados_ioctx_t parent_io = NULL, child_io = NULL;
	rbd_image_options_t opts = NULL;
	char text[RC_SPEC_MAX];
	int rc;

	rc_image_spec_format(child, text, sizeof(text));
	rc = rbdops_ioctx(conn, parent->pool, parent->ns, &parent_io, err);
	if (rc == 0)
		rc = rbdops_ioctx(conn, child->pool, child->ns, &child_io, err);
	if (rc < 0)
		goto out;
	rbd_image_options_create(&opts);
	rc = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES,
					  RBDOPS_IMAGE_FEATURES);
	if (rc == 0)
		rc = rbd_clone3(parent_io, parent->name, snap, child_io,
				child->name, opts);
	if (rc < 0)
		rc = rbdops_fail(err, rc, "cloning %s@%s into %s", parent->name,
				 snap, text);
out:
	if (opts)
		rbd_image_options_destroy(opts);
	if (child_io)
		rados_ioctx_destroy(child_io);
	if (parent_io)
		rados_ioctx_destroy(parent_io);
	return rc;
}

int rbdops_flatten(struct rbd_conn *conn, const struct rc_image_spec *spec,
		   rbdops_progress_fn progress, void *progress_ctx,
		   struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct rbdops_parent parent;
	struct open_image img;
	int rc, attempts = 0;

	rc_image_spec_format(spec, text, sizeof(text));
	/* librbd may return before the parent link is really gone (a
	 * flatten interrupted and resumed, a racing refresh): go on until
	 * the image says it has no parent. */
	for (;;) {
		rc = rbdops_image_parent(conn, spec, &parent, err);
		if (rc < 0)
			return rc;
		if (!parent.has_parent)
			return 0;
		if (++attempts > 5)
			return rc_error_set(err, -EIO, "image %s still has a parent "
					    "after %d flattens", text, attempts - 1);
		rc = rbdops_open_image(conn, spec, false, &img, err);
		if (rc < 0)
			return rc;
		rc = rbdops_object_map_off(img.image, text, err);
		if (rc < 0) {
			rbdops_close_image(&img);
			return rc;
		}
		if (progress)
			rc = rbd_flatten_with_progress(img.image, progress,
						       progress_ctx);
		else
			rc = rbd_flatten(img.image);
		rbdops_close_image(&img);
		if (rc == -EINVAL) /* no parent any more */
			rc = 0;
		if (rc < 0)
			return rbdops_fail(err, rc, "flattening %s", text);
	}
}
