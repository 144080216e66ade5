/*
 * An image's header read without opening the image.
 *
 * rbd_open opens the image's whole parent chain, level by level (about
 * 4 ms a level, bench row 6), and librbd's C API has no way to skip it:
 * its own OPEN_FLAG_SKIP_OPEN_PARENT (what `rbd children --descendants`,
 * rbd_clone3 and trash move use) is not public. So what `rowcat check`
 * compares and what a snap writes on its new clone go through the rbd
 * object class on the image's header object, as librbd does itself
 * (Ceph 16's cls_rbd, encodings of src/cls/rbd/cls_rbd_types.cc):
 *
 *   rbd_id.NAME           the image's id (an encoded string)
 *   rbd_header.ID         get_features, parent_get, parent_overlap_get,
 *                         get_snapcontext in one read; then snapshot_get
 *                         and get_protection_status of each snapshot in
 *                         another; metadata_set
 *
 * Whatever this reader cannot tell for sure (a format-1 image, one being
 * migrated, a parent link without a head overlap, a reply it does not
 * parse) is -EOPNOTSUPP, and the caller opens the image instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CEPH_NOSNAP ((uint64_t)-2)
#define SNAP_NAMESPACE_USER 0

/* A little-endian reader over one reply; any overrun sets bad. */
struct reader {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static uint64_t take(struct reader *r, size_t n)
{
	uint64_t v = 0;

	if (r->bad || r->left < n) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	r->left -= n;
	return v;
}

static void skip(struct reader *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return;
	}
	r->p += n;
	r->left -= n;
}

/* An encoded string into buf (len bytes); one that does not fit is bad. */
static void take_string(struct reader *r, char *buf, size_t len)
{
	uint32_t n = (uint32_t)take(r, 4);

	if (r->bad || n >= len || r->left < n) {
		r->bad = true;
		buf[0] = '\0';
		return;
	}
	memcpy(buf, r->p, n);
	buf[n] = '\0';
	skip(r, n);
}

/* ENCODE_START's header: version, compat, length; the reader of what
 * follows is cut to that length, and *rest is what comes after it. */
static void take_struct(struct reader *r, struct reader *body,
			struct reader *rest)
{
	uint32_t len;

	skip(r, 2);
	len = (uint32_t)take(r, 4);
	if (r->bad || r->left < len) {
		body->bad = rest->bad = true;
		return;
	}
	*body = (struct reader){ r->p, len, false };
	*rest = (struct reader){ r->p + len, r->left - len, false };
}

static void put_le(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The id of the format-2 image called name: -ENOENT when there is none. */
static int read_image_id(rados_ioctx_t io, const char *name, char *id,
			 size_t len)
{
	char oid[RC_NAME_MAX + 16];
	unsigned char buf[4 + RC_RBD_ID_MAX];
	struct reader r;
	int n;

	snprintf(oid, sizeof(oid), "rbd_id.%s", name);
	n = rados_read(io, oid, (char *)buf, sizeof(buf), 0);
	if (n < 0)
		return n;
	r = (struct reader){ buf, (size_t)n, false };
	take_string(&r, id, len);
	return r.bad || !id[0] ? -EOPNOTSUPP : 0;
}

int rbdops_header_oid(rados_ioctx_t io, const char *name, char *id,
		      size_t id_len, char *oid, size_t oid_len)
{
	int rc = read_image_id(io, name, id, id_len);

	if (rc == 0)
		snprintf(oid, oid_len, "rbd_header.%s", id);
	return rc;
}

int rbdops_image_tag_unopened(struct rbd_conn *conn,
			      const struct rc_image_spec *spec,
			      const char *key, const char *value,
			      struct rc_error *err)
{
	char id[RC_RBD_ID_MAX], oid[RC_RBD_ID_MAX + 16];
	size_t key_len = strlen(key), value_len = strlen(value);
	unsigned char *in = NULL;
	rados_ioctx_t io = NULL;
	int rc;

	rc = rbdops_ioctx(conn, spec->pool, spec->ns, &io, err);
	if (rc < 0)
		goto out;
	rc = read_image_id(io, spec->name, id, sizeof(id));
	in = malloc(16 + key_len + value_len);
	if (rc == 0 && !in)
		rc = -ENOMEM;
	if (rc == 0) {
		/* a map<string, bufferlist> of one entry */
		put_le(in, 1, 4);
		put_le(in + 4, key_len, 4);
		memcpy(in + 8, key, key_len);
		put_le(in + 8 + key_len, value_len, 4);
		memcpy(in + 12 + key_len, value, value_len);
		snprintf(oid, sizeof(oid), "rbd_header.%s", id);
		rc = rados_exec(io, oid, "rbd", "metadata_set", (char *)in,
				12 + key_len + value_len, NULL, 0);
	}
	/* anything unexpected is librbd's to word, through an open */
	if (rc < 0)
		rc = rbdops_image_set_meta(conn, spec, key, value, err);
out:
	free(in);
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

/* The first read: features, parent, snapshot ids. */
static int read_head(rados_ioctx_t io, const char *oid,
		     struct rbdops_header *out, uint64_t **ids, size_t *count)
{
	rados_read_op_t op = rados_create_read_op();
	unsigned char nosnap[8];
	char *replies[4] = {0};
	size_t lens[4] = {0};
	int prvals[4] = {0}, rc;
	struct reader r, body, rest;
	uint64_t features;
	bool overlap;

	*ids = NULL;
	*count = 0;
	if (!op)
		return -ENOMEM;
	put_le(nosnap, CEPH_NOSNAP, 8);
	rados_read_op_exec(op, "rbd", "get_features", (char *)nosnap, 8,
			   &replies[0], &lens[0], &prvals[0]);
	rados_read_op_exec(op, "rbd", "parent_get", NULL, 0, &replies[1],
			   &lens[1], &prvals[1]);
	rados_read_op_exec(op, "rbd", "parent_overlap_get", (char *)nosnap, 8,
			   &replies[2], &lens[2], &prvals[2]);
	rados_read_op_exec(op, "rbd", "get_snapcontext", NULL, 0, &replies[3],
			   &lens[3], &prvals[3]);
	rc = rados_read_op_operate(op, io, oid, 0);
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = prvals[i];
	if (rc < 0)
		goto out;
	rc = -EOPNOTSUPP;
	r = (struct reader){ (unsigned char *)replies[0], lens[0], false };
	features = take(&r, 8);
	if (r.bad || (features & RBD_FEATURE_MIGRATING))
		goto out;
	out->features = features;

	r = (struct reader){ (unsigned char *)replies[1], lens[1], false };
	take_struct(&r, &body, &rest);
	out->parent_pool_id = (int64_t)take(&body, 8);
	take_string(&body, out->parent_ns, sizeof(out->parent_ns));
	take_string(&body, out->parent_id, sizeof(out->parent_id));
	out->parent_snap_id = take(&body, 8);
	r = (struct reader){ (unsigned char *)replies[2], lens[2], false };
	overlap = take(&r, 1) != 0;
	if (overlap)
		take(&r, 8);
	if (body.bad || r.bad)
		goto out;
	if (out->parent_pool_id < 0)
		out->has_parent = false;
	else if (overlap)
		out->has_parent = true;
	else
		goto out; /* a link kept for snapshots only: librbd's to say */

	r = (struct reader){ (unsigned char *)replies[3], lens[3], false };
	take(&r, 8); /* seq */
	*count = (size_t)take(&r, 4);
	if (r.bad || *count > r.left / 8)
		goto out;
	*ids = calloc(*count + 1, sizeof(**ids));
	if (!*ids) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < *count; i++)
		(*ids)[i] = take(&r, 8);
	rc = r.bad ? -EOPNOTSUPP : 0;
out:
	for (int i = 0; i < 4; i++)
		if (replies[i])
			rados_buffer_free(replies[i]);
	rados_release_read_op(op);
	if (rc < 0) {
		free(*ids);
		*ids = NULL;
		*count = 0;
	}
	return rc;
}

static int by_id(const void *a, const void *b)
{
	const struct rbdops_snapshot *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The second read: each snapshot's name, namespace and protection. */
static int read_snapshots(rados_ioctx_t io, const char *oid,
			  const uint64_t *ids, size_t count,
			  struct rbdops_header *out)
{
	rados_read_op_t op = NULL;
	unsigned char (*args)[8] = NULL;
	char **replies = NULL;
	size_t *lens = NULL;
	int *prvals = NULL, rc = 0;

	out->snapshots = calloc(count + 1, sizeof(*out->snapshots));
	if (!out->snapshots)
		return -ENOMEM;
	if (count == 0)
		return 0;
	args = calloc(count, sizeof(*args));
	replies = calloc(2 * count, sizeof(*replies));
	lens = calloc(2 * count, sizeof(*lens));
	prvals = calloc(2 * count, sizeof(*prvals));
	op = rados_create_read_op();
	if (!args || !replies || !lens || !prvals || !op) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		put_le(args[i], ids[i], 8);
		rados_read_op_exec(op, "rbd", "snapshot_get", (char *)args[i], 8,
				   &replies[2 * i], &lens[2 * i], &prvals[2 * i]);
		rados_read_op_exec(op, "rbd", "get_protection_status",
				   (char *)args[i], 8, &replies[2 * i + 1],
				   &lens[2 * i + 1], &prvals[2 * i + 1]);
	}
	/* a snapshot removed since the first read fails the whole read
	 * (-ENOENT): the caller opens the image instead */
	rc = rados_read_op_operate(op, io, oid, 0);
	for (size_t i = 0; i < 2 * count && rc == 0; i++)
		rc = prvals[i];
	for (size_t i = 0; i < count && rc == 0; i++) {
		struct rbdops_snapshot *s = &out->snapshots[i];
		struct reader r = { (unsigned char *)replies[2 * i], lens[2 * i],
				    false };
		struct reader info, after, ns, after_ns;
		uint32_t ns_type;
		uint8_t status;

		take_struct(&r, &info, &after);
		s->id = take(&info, 8);
		take_struct(&info, &ns, &after_ns);
		ns_type = (uint32_t)take(&ns, 4);
		take_string(&after_ns, s->name, sizeof(s->name));
		r = (struct reader){ (unsigned char *)replies[2 * i + 1],
				     lens[2 * i + 1], false };
		status = (uint8_t)take(&r, 1);
		if (info.bad || ns.bad || after_ns.bad || r.bad ||
		    s->id != ids[i]) {
			rc = -EOPNOTSUPP;
			break;
		}
		/* as rbdops_snapshot_list: a snapshot outside the user
		 * namespace (in the trash) counts as unprotected */
		s->in_user_namespace = ns_type == SNAP_NAMESPACE_USER;
		s->is_protected = s->in_user_namespace &&
				  status == RBDOPS_CLS_PROTECTED;
	}
	if (rc == 0) {
		out->snapshot_count = count;
		qsort(out->snapshots, count, sizeof(*out->snapshots), by_id);
	}
out:
	for (size_t i = 0; replies && i < 2 * count; i++)
		if (replies[i])
			rados_buffer_free(replies[i]);
	if (op)
		rados_release_read_op(op);
	free(args);
	free(replies);
	free(lens);
	free(prvals);
	return rc;
}

int rbdops_header_read(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       struct rbdops_header *out, struct rc_error *err)
{
	char oid[RC_RBD_ID_MAX + 16];
	rados_ioctx_t io = NULL;
	uint64_t *ids = NULL;
	size_t count = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rbdops_ioctx(conn, spec->pool, spec->ns, &io, err);
	if (rc < 0)
		return rc;
	out->pool_id = rados_ioctx_get_id(io);
	snprintf(out->ns, sizeof(out->ns), "%s", spec->ns);
	rc = read_image_id(io, spec->name, out->id, sizeof(out->id));
	if (rc == 0) {
		snprintf(oid, sizeof(oid), "rbd_header.%s", out->id);
		rc = read_head(io, oid, out, &ids, &count);
	}
	if (rc == 0)
		rc = read_snapshots(io, oid, ids, count, out);
	free(ids);
	rados_ioctx_destroy(io);
	if (rc < 0) {
		rbdops_header_free(out);
		/* no rbd_id object: a format-1 image, or none; the caller's
		 * open tells which */
		return rc == -ENOMEM ? rc_error_set(err, rc, "out of memory")
				     : -EOPNOTSUPP;
	}
	return 0;
}

void rbdops_header_free(struct rbdops_header *header)
{
	if (!header)
		return;
	free(header->snapshots);
	header->snapshots = NULL;
	header->snapshot_count = 0;
}

bool rbdops_header_parent_is(const struct rbdops_header *child,
			     const struct rbdops_header *parent,
			     const char *snap)
{
	if (!child->has_parent || child->parent_pool_id != parent->pool_id ||
	    strcmp(child->parent_ns, parent->ns) != 0 ||
	    strcmp(child->parent_id, parent->id) != 0)
		return false;
	for (size_t i = 0; i < parent->snapshot_count; i++)
		if (parent->snapshots[i].id == child->parent_snap_id)
			return strcmp(parent->snapshots[i].name, snap) == 0;
	return false;
}

const struct rbdops_snapshot *
rbdops_header_snapshot(const struct rbdops_header *header, const char *snap)
{
	for (size_t i = 0; i < header->snapshot_count; i++)
		if (header->snapshots[i].in_user_namespace &&
		    strcmp(header->snapshots[i].name, snap) == 0)
			return &header->snapshots[i];
	return NULL;
}

void rbdops_header_notify_update(rados_ioctx_t io, const char *oid)
{
	/* who acked is of no use here, and a failure changes nothing that
	 * was done (see internal.h) */
	(void)rados_notify2(io, oid, "", 0, RBDOPS_NOTIFY_TIMEOUT_MS, NULL,
			    NULL);
}
