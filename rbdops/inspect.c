/*
 * What an image is, as `rowcat adopt` finds it: its id, size, creation
 * time, parent (pool, namespace, image and snapshot, the snapshot by id
 * and namespace), every snapshot with its id, namespace, protection and
 * time, and what it may be in the middle of: a migration, or a task the
 * mgr has queued for it. Only reads.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* The object in which the mgr's rbd_support module keeps the tasks of a
 * pool and namespace (src/pybind/mgr/rbd_support/task.py, RBD_TASK_OID):
 * one omap value per task, JSON whose "refs" name the image by
 * "image_id" and say what is to be done in "action". */
#define RBD_TASK_OID "rbd_task"

static const char *migration_state_name(rbd_image_migration_state_t state)
{
	switch (state) {
	case RBD_IMAGE_MIGRATION_STATE_ERROR: return "error";
	case RBD_IMAGE_MIGRATION_STATE_PREPARING: return "preparing";
	case RBD_IMAGE_MIGRATION_STATE_PREPARED: return "prepared";
	case RBD_IMAGE_MIGRATION_STATE_EXECUTING: return "executing";
	case RBD_IMAGE_MIGRATION_STATE_EXECUTED: return "executed";
	case RBD_IMAGE_MIGRATION_STATE_ABORTING: return "aborting";
	case RBD_IMAGE_MIGRATION_STATE_UNKNOWN: break;
	}
	return "unknown";
}

static enum rbdops_snap_kind snap_kind(rbd_snap_namespace_type_t type)
{
	switch (type) {
	case RBD_SNAP_NAMESPACE_TYPE_USER: return RBDOPS_SNAP_USER;
	case RBD_SNAP_NAMESPACE_TYPE_TRASH: return RBDOPS_SNAP_TRASH;
	default: return RBDOPS_SNAP_OTHER;
	}
}

static int64_t seconds_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec;
}

/* The snapshots of an open image, every namespace's. */
static int read_snapshots(rbd_image_t image, const char *text,
			  struct rbdops_image_desc *out, struct rc_error *err)
{
	rbd_snap_info_t *snaps = NULL;
	int count = 0, rc;

	rc = rbdops_snap_list(image, &snaps, &count);
	if (rc < 0)
		return rbdops_fail(err, rc, "listing the snapshots of %s", text);
	out->snapshots = calloc((size_t)count + 1, sizeof(*out->snapshots));
	if (!out->snapshots) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < count && rc == 0; i++) {
		struct rbdops_snap_desc *s = &out->snapshots[i];
		rbd_snap_namespace_type_t type = RBD_SNAP_NAMESPACE_TYPE_USER;
		struct timespec ts = {0};
		int protected_flag = 0;

		s->id = snaps[i].id;
		snprintf(s->name, sizeof(s->name), "%s", snaps[i].name);
		rc = rbd_snap_get_namespace_type(image, s->id, &type);
		if (rc == 0)
			rc = rbd_snap_get_timestamp(image, s->id, &ts);
		if (rc < 0) {
			rc = rbdops_fail(err, rc, "reading snapshot %s@%s", text,
					 s->name);
			break;
		}
		s->kind = snap_kind(type);
		s->created_at = seconds_of(&ts);
		if (s->kind == RBDOPS_SNAP_TRASH &&
		    rbd_snap_get_trash_namespace(image, s->id, s->original_name,
						 sizeof(s->original_name)) < 0)
			s->original_name[0] = '\0';
		/* protection is a user snapshot's; clone v2 needs none */
		if (s->kind == RBDOPS_SNAP_USER) {
			rc = rbd_snap_is_protected(image, s->name, &protected_flag);
			if (rc < 0) {
				rc = rbdops_fail(err, rc, "reading whether %s@%s "
						 "is protected", text, s->name);
				break;
			}
		}
		s->is_protected = protected_flag != 0;
		out->snapshot_count++;
	}
out:
	rbd_snap_list_end(snaps);
	free(snaps);
	return rc;
}

static int read_parent(rbd_image_t image, const char *text,
		       struct rbdops_parent_desc *out, struct rc_error *err)
{
	rbd_linked_image_spec_t parent;
	rbd_snap_spec_t snap;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&parent, 0, sizeof(parent));
	memset(&snap, 0, sizeof(snap));
	rc = rbd_get_parent(image, &parent, &snap);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rbdops_fail(err, rc, "reading the parent of %s", text);
	out->has_parent = true;
	snprintf(out->image.pool, sizeof(out->image.pool), "%s",
		 parent.pool_name ? parent.pool_name : "");
	snprintf(out->image.ns, sizeof(out->image.ns), "%s",
		 parent.pool_namespace ? parent.pool_namespace : "");
	snprintf(out->image.name, sizeof(out->image.name), "%s",
		 parent.image_name ? parent.image_name : "");
	snprintf(out->image_id, sizeof(out->image_id), "%s",
		 parent.image_id ? parent.image_id : "");
	out->image_in_trash = parent.trash;
	out->snap_id = snap.id;
	snprintf(out->snap_name, sizeof(out->snap_name), "%s",
		 snap.name ? snap.name : "");
	out->snap_kind = snap_kind(snap.namespace_type);
	rbd_linked_image_spec_cleanup(&parent);
	rbd_snap_spec_cleanup(&snap);
	return 0;
}

static int read_migration(rados_ioctx_t io, const struct rc_image_spec *spec,
			  const char *text, struct rbdops_image_desc *out,
			  struct rc_error *err)
{
	rbd_image_migration_status_t status;
	int rc;

	memset(&status, 0, sizeof(status));
	rc = rbd_migration_status(io, spec->name, &status, sizeof(status));
	/* an image that no migration involves: librbd says EINVAL */
	if (rc == -EINVAL || rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rbdops_fail(err, rc, "reading the migration state of %s",
				   text);
	snprintf(out->migration, sizeof(out->migration), "%s",
		 migration_state_name(status.state));
	rbd_migration_status_cleanup(&status);
	return 0;
}

/* The text of JSON string member key in json (the first), into buf. */
static void json_member(const char *json, size_t len, const char *key,
			char *buf, size_t buf_len)
{
	char pattern[64];
	const char *p, *end = json + len;
	size_t n = 0;

	buf[0] = '\0';
	snprintf(pattern, sizeof(pattern), "\"%s\": \"", key);
	p = memmem(json, len, pattern, strlen(pattern));
	if (!p)
		return;
	for (p += strlen(pattern); p < end && *p != '"' && n + 1 < buf_len; p++)
		buf[n++] = *p;
	buf[n] = '\0';
}

/*
 * The mgr's queued task for the image, if any: its rbd_support module
 * keeps a task in the omap of RBD_TASK_OID until the task is done, so a
 * flatten queued with `ceph rbd task add flatten` is seen here from when
 * it is queued to when it ends, whether or not a mgr is running it now.
 */
static int read_task(rados_ioctx_t io, const char *text,
		     struct rbdops_image_desc *out, struct rc_error *err)
{
	char start_after[64] = "", wanted[RC_RBD_ID_MAX + 32], image_id[RC_RBD_ID_MAX];
	unsigned char more = 1;
	int rc = 0;

	snprintf(wanted, sizeof(wanted), "%s", out->id);
	while (more && !out->task[0] && rc == 0) {
		rados_read_op_t op = rados_create_read_op();
		rados_omap_iter_t iter = NULL;
		char *key, *val;
		size_t key_len, val_len;
		int prval = 0;

		if (!op)
			return rc_error_set(err, -ENOMEM, "out of memory");
		rados_read_op_omap_get_vals2(op, start_after, "", 128, &iter,
					     &more, &prval);
		rc = rados_read_op_operate(op, io, RBD_TASK_OID, 0);
		if (rc == 0)
			rc = prval;
		if (rc == -ENOENT) { /* never a task in this pool */
			rc = 0;
			more = 0;
		} else if (rc < 0) {
			rc = rbdops_fail(err, rc, "reading the mgr's tasks for %s",
					 text);
		}
		while (rc == 0 && iter &&
		       rados_omap_get_next2(iter, &key, &val, &key_len,
					    &val_len) == 0 && key) {
			snprintf(start_after, sizeof(start_after), "%.*s",
				 (int)key_len, key);
			json_member(val, val_len, "image_id", image_id,
				    sizeof(image_id));
			if (strcmp(image_id, wanted) == 0) {
				json_member(val, val_len, "action", out->task,
					    sizeof(out->task));
				if (!out->task[0])
					snprintf(out->task, sizeof(out->task),
						 "task");
				break;
			}
		}
		if (iter)
			rados_omap_get_end(iter);
		rados_release_read_op(op);
	}
	return rc;
}

int rbdops_image_describe(struct rbd_conn *conn,
			  const struct rc_image_spec *spec,
			  struct rbdops_image_desc *out, struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct open_image img;
	struct timespec ts = {0};
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	out->spec = *spec;
	rc_image_spec_format(spec, text, sizeof(text));
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc < 0)
		goto out;
	rc = rbd_get_id(img.image, out->id, sizeof(out->id));
	if (rc == 0)
		rc = rbd_get_size(img.image, &out->size);
	if (rc == 0)
		rc = rbd_get_create_timestamp(img.image, &ts);
	if (rc < 0) {
		rc = rbdops_fail(err, rc, "reading image %s", text);
		goto out;
	}
	out->created_at = seconds_of(&ts);
	len = sizeof(out->owner);
	if (rbd_metadata_get(img.image, RBDOPS_OWNER_KEY, out->owner, &len) < 0)
		out->owner[0] = '\0';
	rc = read_parent(img.image, text, &out->parent, err);
	if (rc == 0)
		rc = read_snapshots(img.image, text, out, err);
	if (rc == 0)
		rc = read_migration(img.io, spec, text, out, err);
	if (rc == 0)
		rc = read_task(img.io, text, out, err);
out:
	rbdops_close_image(&img);
	return rc;
}

void rbdops_image_desc_free(struct rbdops_image_desc *desc)
{
	if (!desc)
		return;
	free(desc->snapshots);
	desc->snapshots = NULL;
	desc->snapshot_count = 0;
}

int rbdops_trash_names(struct rbd_conn *conn, const char *pool, const char *ns,
		       char ***names, size_t *count, struct rc_error *err)
{
	rbd_trash_image_info_t *entries = NULL;
	rados_ioctx_t io = NULL;
	char **list = NULL;
	size_t max = 32, n = 0;
	int rc;

	*names = NULL;
	*count = 0;
	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	while (rc == 0) {
		free(entries);
		entries = calloc(max, sizeof(*entries));
		if (!entries) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		rc = rbd_trash_list(io, entries, &max);
		if (rc == -ERANGE) {
			rc = 0;
			continue;
		}
		if (rc < 0)
			rc = rbdops_fail(err, rc, "listing the trash of %s%s%s",
					 pool, ns[0] ? "/" : "", ns);
		else
			n = max, rc = 0;
		break;
	}
	if (rc == 0) {
		list = calloc(n + 1, sizeof(*list));
		for (size_t i = 0; list && i < n; i++) {
			list[i] = strdup(entries[i].name);
			if (!list[i]) {
				rbdops_names_free(list, i);
				list = NULL;
			}
		}
		if (!list)
			rc = rc_error_set(err, -ENOMEM, "out of memory");
	}
	if (entries && n)
		rbd_trash_list_cleanup(entries, n);
	free(entries);
	if (io)
		rados_ioctx_destroy(io);
	if (rc == 0) {
		*names = list;
		*count = n;
	}
	return rc;
}
