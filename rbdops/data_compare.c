/*
 * An image's objects against its parent snapshot's data, for rowcat check
 * --data (ops/check_data.c reports what is found). It only reads.
 *
 * Why: librbd 16.2 flattens only the objects its object map says may not
 * exist, and a copy-up marks the map before it writes the data, so a
 * client killed in between (a flatten killed part-way, most often) leaves
 * an object the map claims and the cluster lacks (object_map.c tells the
 * whole story; Ceph tracker 68998). The clone still reads through to its
 * parent there, so nothing shows: the map is the trap. A flatten that
 * trusts the map then skips the object and cuts the parent, and the image
 * reads zeros there for good: the data is lost. `rbd object-map check`
 * sees neither, since a map may claim more than exists.
 *
 *  the image on the cluster    asked for each object        a finding when
 *  ────────────────────────    ─────────────────────────    ──────────────────
 *  a clone (has a parent)      the objects its map claims   one is absent
 *                              (fast diff, no parent):       (map-without-
 *                              one stat each                 object)
 *  flattened (parent cut)      every object of the parent   one is absent and
 *                              overlap: one stat each; an    the parent snapshot
 *                              absent one: one read of the   has data there
 *                              parent snapshot               (lost-data)
 *
 * The parent is the one the catalog's lineage gives the image, and it is
 * only compared while that snapshot is still on the cluster. A flattened
 * image's overlap is the smaller of its size and the snapshot's: librbd
 * keeps no overlap once the parent is cut.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One image under comparison with its parent snapshot. */
struct compared {
	rbdops_data_finding_fn fn;
	void *ctx;
	char spec[RC_SPEC_MAX];
	char parent[RC_SPEC_MAX + RC_NAME_MAX]; /* pool/image@snap */
	rados_ioctx_t data_io;   /* where the image's objects live */
	char prefix[RBD_MAX_BLOCK_NAME_SIZE];
	uint64_t object_size;
	uint64_t overlap;
	uint64_t next_object;    /* the claimed objects below it are asked */
	int rc;                  /* a failure inside librbd's callback */
	struct rc_error *err;
};

static int report_object(struct compared *cmp,
			 enum rbdops_data_finding_kind kind, uint64_t object,
			 const char *fmt, ...) RC_PRINTF(4, 5);

/* fmt is given the image, object number, first and last byte, then the
 * parent snapshot, in that order. */
static int report_object(struct compared *cmp,
			 enum rbdops_data_finding_kind kind, uint64_t object,
			 const char *fmt, ...)
{
	struct rbdops_data_finding finding = {
		.kind = kind,
		.image = cmp->spec,
		.object = object,
		.offset = object * cmp->object_size,
	};
	va_list ap;

	finding.length = cmp->overlap - finding.offset < cmp->object_size
		? cmp->overlap - finding.offset : cmp->object_size;
	va_start(ap, fmt);
	vsnprintf(finding.message, sizeof(finding.message), fmt, ap);
	va_end(ap);
	return cmp->fn ? cmp->fn(cmp->ctx, &finding, cmp->err) : 0;
}

/* Whether the RADOS object holding the image's object number n exists. */
static int object_exists(struct compared *cmp, uint64_t n, bool *exists)
{
	char name[RBD_MAX_BLOCK_NAME_SIZE + 24];
	uint64_t size;
	time_t mtime;
	int rc;

	snprintf(name, sizeof(name), "%s.%016" PRIx64, cmp->prefix, n);
	rc = rados_stat(cmp->data_io, name, &size, &mtime);
	*exists = rc == 0;
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rbdops_fail(cmp->err, rc, "asking the cluster for object "
				   "%s of %s", name, cmp->spec);
	return 0;
}

static bool all_zeros(const char *buf, size_t len)
{
	return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

/* A flattened image: every object of the overlap it lacks, whose extent
 * the parent snapshot has data in. */
static int find_lost_data(struct compared *cmp, rbd_image_t parent_snap)
{
	char *buf = malloc(cmp->object_size);
	bool exists;
	int rc = 0;

	if (!buf) {
		rc = rc_error_set(cmp->err, -ENOMEM, "out of memory");
		goto out;
	}
	for (uint64_t n = 0; rc == 0 && n * cmp->object_size < cmp->overlap; n++) {
		uint64_t offset = n * cmp->object_size;
		size_t len = cmp->overlap - offset < cmp->object_size
			? (size_t)(cmp->overlap - offset) : (size_t)cmp->object_size;
		ssize_t got;

		rc = object_exists(cmp, n, &exists);
		if (rc < 0 || exists)
			continue;
		got = rbd_read(parent_snap, offset, len, buf);
		if (got < 0) {
			rc = rbdops_fail(cmp->err, (int)got, "reading %s at byte %"
					 PRIu64, cmp->parent, offset);
			break;
		}
		if (all_zeros(buf, (size_t)got))
			continue;
		rc = report_object(cmp, RBDOPS_DATA_LOST, n,
				   "image %s: object %" PRIu64 " (bytes %" PRIu64
				   "-%" PRIu64 ") is not on the cluster and the image "
				   "has no parent any more, but parent snapshot %s has "
				   "data there: the image reads zeros instead (a flatten "
				   "skipped the object, Ceph tracker 68998), unless a "
				   "client discarded the whole object since",
				   cmp->spec, n, offset, offset + len - 1, cmp->parent);
	}
out:
	free(buf);
	return rc;
}

/* librbd's fast diff: each extent of objects the map claims. */
static int on_claimed(uint64_t offset, size_t len, int exists, void *arg)
{
	struct compared *cmp = arg;
	uint64_t first = offset / cmp->object_size;
	uint64_t last = (offset + len - 1) / cmp->object_size;
	bool present;

	if (!exists || len == 0)
		return 0;
	for (uint64_t n = first > cmp->next_object ? first : cmp->next_object;
	     cmp->rc == 0 && n <= last; n++) {
		uint64_t from = n * cmp->object_size;

		cmp->next_object = n + 1;
		if (from >= cmp->overlap)
			break;
		cmp->rc = object_exists(cmp, n, &present);
		if (cmp->rc < 0 || present)
			continue;
		cmp->rc = report_object(
			cmp, RBDOPS_DATA_MAP_WITHOUT_OBJECT, n,
			"image %s: object %" PRIu64 " (bytes %" PRIu64 "-%" PRIu64
			"): the object map claims it, the cluster has no such "
			"object; it reads through to parent snapshot %s now, and "
			"a flatten by another tool than rowcat would lose its data",
			cmp->spec, n, from,
			(cmp->overlap - from < cmp->object_size
			 ? cmp->overlap : from + cmp->object_size) - 1,
			cmp->parent);
	}
	return cmp->rc < 0 ? cmp->rc : 0;
}

/* A clone: every object its map claims that the cluster lacks. Without a
 * valid fast-diff map librbd asks the cluster itself, and finds none. */
static int find_unbacked_claims(struct compared *cmp, rbd_image_t image)
{
	int rc;

	cmp->next_object = 0;
	cmp->rc = 0;
	rc = rbd_diff_iterate2(image, NULL, 0, cmp->overlap, 0, 1, on_claimed,
			       cmp);
	if (cmp->rc < 0)
		return cmp->rc;
	if (rc < 0)
		return rbdops_fail(cmp->err, rc, "reading the object map of %s",
				   cmp->spec);
	return 0;
}

/* The I/O context the image's data objects are in: its data pool's, when
 * it has one, in its namespace. *own tells whether to destroy it. */
static int data_ioctx(struct rbd_conn *conn, const struct open_image *img,
		      const struct rc_image_spec *spec, rados_ioctx_t *out,
		      bool *own, struct rc_error *err)
{
	int64_t pool = rbd_get_data_pool_id(img->image);
	int rc;

	*own = false;
	*out = img->io;
	if (pool < 0)
		return rbdops_fail(err, (int)pool, "reading the data pool of %s",
				   spec->name);
	if (pool == rados_ioctx_get_id(img->io))
		return 0;
	rc = rados_ioctx_create2(conn->cluster, pool, out);
	if (rc < 0)
		return rbdops_fail(err, rc, "opening the data pool of %s",
				   spec->name);
	rados_ioctx_set_namespace(*out, spec->ns);
	*own = true;
	return 0;
}

/* Opens parent@snap read-only; *found false, and no error, when the
 * image, the snapshot or its pool is gone (plain check reports those). */
static int open_parent_snapshot(struct rbd_conn *conn,
				const struct rc_image_spec *parent,
				const char *snap, struct open_image *out,
				bool *found, struct rc_error *err)
{
	int rc;

	*found = false;
	out->image = NULL;
	rc = rbdops_ioctx(conn, parent->pool, parent->ns, &out->io, err);
	if (rc == RBDOPS_NO_POOL) {
		rc_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = rbd_open_read_only(out->io, parent->name, &out->image, snap);
	if (rc == 0)
		rbdops_count_open();
	if (rc == -ENOENT) {
		out->image = NULL;
		return 0;
	}
	if (rc < 0) {
		out->image = NULL;
		return rbdops_fail(err, rc, "opening %s@%s", parent->name, snap);
	}
	*found = true;
	return 0;
}

int rbdops_data_compare(struct rbd_conn *conn, const struct rc_image_spec *spec,
			const struct rc_image_spec *parent, const char *snap,
			rbdops_data_finding_fn fn, void *ctx,
			struct rc_error *err)
{
	struct compared cmp = { .fn = fn, .ctx = ctx, .err = err };
	struct open_image img = {0}, at = {0};
	rbd_linked_image_spec_t link;
	rbd_snap_spec_t link_snap;
	rbd_image_info_t info;
	uint64_t snap_size = 0, overlap = 0;
	bool found, is_clone, own_io = false;
	int rc;

	rc_image_spec_format(spec, cmp.spec, sizeof(cmp.spec));
	rc_image_spec_format(parent, cmp.parent, sizeof(cmp.parent));
	snprintf(cmp.parent + strlen(cmp.parent),
		 sizeof(cmp.parent) - strlen(cmp.parent), "@%s", snap);
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc == -ENOENT || rc == RBDOPS_NO_POOL) {
		rc_error_clear(err); /* plain check reports a missing image */
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	rc = open_parent_snapshot(conn, parent, snap, &at, &found, err);
	if (rc < 0 || !found)
		goto out;
	rc = rbd_stat(img.image, &info, sizeof(info));
	if (rc == 0)
		rc = rbd_get_size(at.image, &snap_size);
	if (rc < 0) {
		rc = rbdops_fail(err, rc, "reading the size of %s and %s",
				 cmp.spec, cmp.parent);
		goto out;
	}
	rc = rbd_get_parent(img.image, &link, &link_snap);
	is_clone = rc == 0;
	if (is_clone) {
		rbd_linked_image_spec_cleanup(&link);
		rbd_snap_spec_cleanup(&link_snap);
		rc = rbd_get_overlap(img.image, &overlap);
	} else if (rc == -ENOENT) {
		rc = 0;
	}
	if (rc < 0) {
		rc = rbdops_fail(err, rc, "reading the parent of %s", cmp.spec);
		goto out;
	}
	cmp.object_size = info.obj_size;
	snprintf(cmp.prefix, sizeof(cmp.prefix), "%s", info.block_name_prefix);
	rc = data_ioctx(conn, &img, spec, &cmp.data_io, &own_io, err);
	if (rc < 0)
		goto out;
	if (is_clone) {
		cmp.overlap = overlap;
		rc = find_unbacked_claims(&cmp, img.image);
	} else {
		cmp.overlap = info.size < snap_size ? info.size : snap_size;
		rc = find_lost_data(&cmp, at.image);
	}
out:
	if (own_io)
		rados_ioctx_destroy(cmp.data_io);
	rbdops_close_image(&at);
	rbdops_close_image(&img);
	return rc;
}
