/*
 * The RBD trash steps of gc, idempotent like those in steps.c. An image is
 * known by the id librbd gave it, recorded in the catalog before it is
 * moved: in the trash it has no name, and a new image may take its old
 * name meanwhile, which must never be mistaken for ours.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int rbdops_image_id(struct rbd_conn *conn, const struct rc_image_spec *spec,
		    char id[RC_RBD_ID_MAX], struct rc_error *err)
{
	struct rbdops_header header;
	char text[RC_SPEC_MAX];
	struct open_image img;
	int rc;

	id[0] = '\0';
	/* from the header, not an open: gc asks this of every image it moves
	 * to the trash, and an open of a clone opens its whole parent chain */
	rc = rbdops_header_read(conn, spec, &header, err);
	if (rc == 0)
		snprintf(id, RC_RBD_ID_MAX, "%s", header.id);
	rbdops_header_free(&header);
	if (rc != -EOPNOTSUPP)
		return rc;
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc == 0 && (rc = rbd_get_id(img.image, id, RC_RBD_ID_MAX)) < 0) {
		rc_image_spec_format(spec, text, sizeof(text));
		rc = rbdops_fail(err, rc, "reading the id of %s", text);
	}
	rbdops_close_image(&img);
	return rc;
}

/* -EBUSY, naming the first, when a client has the image open. (Opening it
 * read-only, as here, adds no watch of our own.) */
static int check_no_watchers(struct open_image *img, const char *text,
			     struct rc_error *err)
{
	rbd_image_watcher_t watchers[8];
	size_t count = 8;
	int rc = rbd_watchers_list(img->image, watchers, &count);

	if (rc == -ERANGE)
		return rc_error_set(err, -EBUSY, "image %s is open by %zu "
				    "clients; kept", text, count);
	if (rc < 0)
		return rbdops_fail(err, rc, "listing the watchers of %s", text);
	if (count > 0)
		rc = rc_error_set(err, -EBUSY, "image %s is open by a client "
				  "(watcher %s%s); kept", text, watchers[0].addr,
				  count > 1 ? " and others" : "");
	rbd_watchers_list_cleanup(watchers, count);
	return rc;
}

/* Whether the image with this id is in spec's pool's trash. */
static int in_trash(rados_ioctx_t io, const char *rbd_id, bool *found,
		    struct rc_error *err)
{
	rbd_trash_image_info_t info;
	int rc = rbd_trash_get(io, rbd_id, &info);

	*found = rc == 0;
	if (rc == 0)
		rbd_trash_get_cleanup(&info);
	if (rc == -ENOENT)
		return 0;
	return rc < 0 ? rbdops_fail(err, rc, "looking for image id %s in the "
				    "trash", rbd_id) : 0;
}

/* Opens spec's pool (into *io, the caller's to close) and looks for
 * image rbd_id in its trash. */
static int trash_lookup(struct rbd_conn *conn, const struct rc_image_spec *spec,
			const char *rbd_id, rados_ioctx_t *io, bool *found,
			struct rc_error *err)
{
	int rc = rbdops_ioctx(conn, spec->pool, spec->ns, io, err);

	return rc < 0 ? rc : in_trash(*io, rbd_id, found, err);
}

int rbdops_image_trash(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       const char *rbd_id, int64_t delay_seconds,
		       struct rc_error *err)
{
	char text[RC_SPEC_MAX], id[RC_RBD_ID_MAX] = "";
	struct open_image img = {0};
	bool found = false;
	int rc;

	rc_image_spec_format(spec, text, sizeof(text));
	/* the pool first, and apart: the trash is looked up in it when the
	 * image does not open by its name, and a pool that is gone must not
	 * read as an image that is gone */
	rc = rbdops_ioctx(conn, spec->pool, spec->ns, &img.io, err);
	if (rc < 0)
		goto out;
	rc = rbd_open_read_only(img.io, spec->name, &img.image, NULL);
	if (rc == 0)
		rbdops_count_open();
	if (rc < 0)
		img.image = NULL;
	if (rc < 0 && rc != -ENOENT)
		rc = rbdops_fail(err, rc, "opening image %s", text);
	if (rc == 0 && (rc = rbd_get_id(img.image, id, sizeof(id))) < 0)
		rc = rbdops_fail(err, rc, "reading the id of %s", text);
	if (rc == -ENOENT || (rc == 0 && strcmp(id, rbd_id) != 0)) {
		/* ours is not under that name (any more): moved already? */
		bool name_free = rc == -ENOENT;

		rc = in_trash(img.io, rbd_id, &found, err);
		if (rc == 0 && !found)
			rc = rc_error_set(err, -ENOENT, "image %s (id %s) is "
					  "neither in the pool nor in its trash",
					  text, rbd_id);
		/* A move killed inside librbd leaves the entry half made
		 * (MOVING), which no purge can remove; moving by the name
		 * again finishes it, and answers ENOENT when there was
		 * nothing to finish. Not when the name is someone else's. */
		if (rc == 0 && name_free) {
			rc = rbd_trash_move(img.io, spec->name,
					    (uint64_t)delay_seconds);
			if (rc == -ENOENT)
				rc = 0;
			else if (rc < 0)
				rc = rbdops_fail(err, rc, "finishing the move of "
						 "%s to the trash", text);
		}
		goto out;
	}
	if (rc == 0)
		rc = check_no_watchers(&img, text, err);
	if (rc < 0)
		goto out;
	rbd_close(img.image);
	img.image = NULL;
	rc = rbd_trash_move(img.io, spec->name, (uint64_t)delay_seconds);
	if (rc == -EBUSY)
		rc = rc_error_set(err, rc, "image %s is in use (a client holds "
				  "its lock); kept", text);
	else if (rc < 0)
		rc = rbdops_fail(err, rc, "moving %s to the trash", text);
out:
	rbdops_close_image(&img);
	return rc;
}

struct extent_sum {
	uint64_t bytes;
};

static int add_extent(uint64_t offset, size_t len, int exists, void *arg)
{
	struct extent_sum *sum = arg;

	(void)offset;
	if (exists)
		sum->bytes += len;
	return 0;
}

/* What `rbd du` says an image without snapshots uses, when its object map
 * makes that cheap: the extents it holds itself, its parent's not
 * counted. */
static void measure(rbd_image_t image, uint64_t *bytes, bool *known)
{
	struct extent_sum sum = {0};
	uint64_t flags = 0, size = 0;

	*bytes = 0;
	*known = false;
	/* without a valid fast-diff map, diff_iterate reads every object */
	if (rbd_get_flags(image, &flags) < 0 ||
	    (flags & RBD_FLAG_FAST_DIFF_INVALID) || rbd_get_size(image, &size) < 0)
		return;
	if (rbd_diff_iterate2(image, NULL, 0, size, 0, 1, add_extent, &sum) < 0)
		return;
	*bytes = sum.bytes;
	*known = true;
}

int rbdops_trash_purge(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       const char *rbd_id, uint64_t *bytes, bool *bytes_known,
		       struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct open_image img = {0};
	bool found = false;
	int rc;

	*bytes = 0;
	*bytes_known = false;
	rc_image_spec_format(spec, text, sizeof(text));
	rc = trash_lookup(conn, spec, rbd_id, &img.io, &found, err);
	if (rc < 0)
		goto out;
	if (!found) {
		/* purged already, unless someone restored it from the trash */
		rc = rbd_open_by_id_read_only(img.io, rbd_id, &img.image, NULL);
		if (rc == 0) {
			rbdops_count_open();
			rc = rc_error_set(err, -EEXIST, "image %s (id %s) was "
					  "restored from the trash; kept", text,
					  rbd_id);
		} else if (rc == -ENOENT)
			rc = 0;
		else
			rc = rbdops_fail(err, rc, "opening image id %s", rbd_id);
		goto out;
	}
	if (rbd_open_by_id_read_only(img.io, rbd_id, &img.image, NULL) == 0) {
		rbdops_count_open();
		measure(img.image, bytes, bytes_known);
		rbd_close(img.image);
		img.image = NULL;
	}
	/* force: the catalog's delay decides, on rowcat's clock */
	rc = rbd_trash_remove(img.io, rbd_id, true);
	if (rc == -ENOTEMPTY)
		rc = rc_error_set(err, rc, "image %s (id %s) in the trash still "
				  "has snapshots the catalog does not know; kept",
				  text, rbd_id);
	else if (rc == -EBUSY)
		rc = rc_error_set(err, rc, "image %s (id %s) in the trash is in "
				  "use or still has clones; kept", text, rbd_id);
	else if (rc == -ENOENT)
		rc = 0; /* purged meanwhile */
	else if (rc < 0)
		rc = rbdops_fail(err, rc, "purging %s (id %s) from the trash",
				 text, rbd_id);
out:
	rbdops_close_image(&img);
	return rc;
}

int rbdops_trash_restore(struct rbd_conn *conn, const struct rc_image_spec *spec,
			 const char *rbd_id, struct rc_error *err)
{
	char text[RC_SPEC_MAX], id[RC_RBD_ID_MAX] = "";
	struct open_image img = {0};
	bool found = false;
	int rc;

	rc_image_spec_format(spec, text, sizeof(text));
	rc = trash_lookup(conn, spec, rbd_id, &img.io, &found, err);
	if (rc < 0)
		goto out;
	if (found) {
		/* an entry a killed restore left half done (RESTORING) is
		 * restored again the same way */
		rc = rbd_trash_restore(img.io, rbd_id, spec->name);
		if (rc == -EEXIST)
			rc = rc_error_set(err, rc, "cannot restore %s (id %s) "
					  "from the trash: another image has "
					  "that name now", text, rbd_id);
		else if (rc < 0)
			rc = rbdops_fail(err, rc, "restoring %s (id %s) from the "
					 "trash", text, rbd_id);
		goto out;
	}
	/* restored already, unless it is gone */
	rc = rbd_open_read_only(img.io, spec->name, &img.image, NULL);
	if (rc == 0)
		rbdops_count_open();
	if (rc < 0)
		img.image = NULL;
	if (rc == 0 && (rc = rbd_get_id(img.image, id, sizeof(id))) < 0)
		rc = rbdops_fail(err, rc, "reading the id of %s", text);
	else if (rc == 0 && strcmp(id, rbd_id) != 0)
		rc = rc_error_set(err, -EEXIST, "image %s (id %s) is not in the "
				  "trash, and %s is another image (id %s)", text,
				  rbd_id, text, id);
	else if (rc == -ENOENT)
		rc = rc_error_set(err, -ENOENT, "image %s (id %s) is neither in "
				  "the trash nor in the pool: it was purged",
				  text, rbd_id);
	else if (rc < 0)
		rc = rbdops_fail(err, rc, "opening image %s", text);
out:
	rbdops_close_image(&img);
	return rc;
}

int rbdops_trash_whereabouts(struct rbd_conn *conn,
			     const struct rc_image_spec *spec,
			     const char *rbd_id, enum rbdops_whereabouts *out,
			     struct rc_error *err)
{
	struct open_image img = {0};
	bool found = false;
	int rc;

	*out = RBDOPS_GONE;
	rc = trash_lookup(conn, spec, rbd_id, &img.io, &found, err);
	if (rc == 0 && found) {
		*out = RBDOPS_IN_TRASH;
	} else if (rc == 0) {
		rc = rbd_open_by_id_read_only(img.io, rbd_id, &img.image, NULL);
		if (rc == 0) {
			rbdops_count_open();
			*out = RBDOPS_IN_POOL;
		} else if (rc == -ENOENT)
			rc = 0;
		else
			rc = rbdops_fail(err, rc, "opening image id %s", rbd_id);
	}
	rbdops_close_image(&img);
	return rc;
}
