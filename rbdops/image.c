/* Pools, namespaces and images: looking and creating. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rowcat/units.h"

int rbdops_no_pool(struct rc_error *err, const char *pool)
{
	return rc_error_set(err, RBDOPS_NO_POOL, "pool '%s' does not exist",
			    pool);
}

int rbdops_ioctx(struct rbd_conn *conn, const char *pool, const char *ns,
		 rados_ioctx_t *out, struct rc_error *err)
{
	int rc = rados_ioctx_create(conn->cluster, pool, out);

	if (rc == -ENOENT) {
		*out = NULL;
		return rbdops_no_pool(err, pool);
	}
	if (rc < 0)
		return rbdops_fail(err, rc, "opening pool '%s'", pool);
	rados_ioctx_set_namespace(*out, ns);
	return 0;
}

int rbdops_image_size_check(struct rbd_conn *conn, uint64_t size,
			    struct rc_error *err)
{
	char text[16], limit[RC_SIZE_TEXT_MAX], object[RC_SIZE_TEXT_MAX];
	unsigned long order = 22; /* rbd's default, 4 MiB objects */
	uint64_t max;

	if (rados_conf_get(conn->cluster, "rbd_default_order", text,
			   sizeof(text)) == 0)
		order = strtoul(text, NULL, 10);
	if (order < 12 || order > 26)
		order = 22;
	max = RBDOPS_OBJECT_MAP_MAX_OBJECTS << order;
	if (size <= max)
		return 0;
	rc_size_format(max, limit);
	rc_size_format(1ULL << order, object);
	return rc_error_usage(err, "--size: at most %s with %s objects (an "
			      "object map holds at most %llu objects)", limit,
			      object, RBDOPS_OBJECT_MAP_MAX_OBJECTS);
}

int rbdops_open_image(struct rbd_conn *conn, const struct rc_image_spec *spec,
		      bool read_only, struct open_image *out,
		      struct rc_error *err)
{
	return rbdops_open_image_ref(conn, spec, NULL, read_only, out, err);
}

int rbdops_open_image_ref(struct rbd_conn *conn,
			  const struct rc_image_spec *spec, const char *rbd_id,
			  bool read_only, struct open_image *out,
			  struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	int rc;

	out->io = NULL;
	out->image = NULL;
	rc = rbdops_ioctx(conn, spec->pool, spec->ns, &out->io, err);
	if (rc < 0)
		return rc;
	if (rbd_id)
		rc = read_only ? rbd_open_by_id_read_only(out->io, rbd_id,
							  &out->image, NULL)
			       : rbd_open_by_id(out->io, rbd_id, &out->image,
						NULL);
	else
		rc = read_only ? rbd_open_read_only(out->io, spec->name,
						    &out->image, NULL)
			       : rbd_open(out->io, spec->name, &out->image, NULL);
	if (rc == 0)
		rbdops_count_open();
	if (rc < 0) {
		out->image = NULL;
		rc_image_spec_format(spec, text, sizeof(text));
		if (rc == -ENOENT)
			return rc_error_set(err, rc, "image %s%s%s does not exist",
					    text, rbd_id ? " id " : "",
					    rbd_id ? rbd_id : "");
		return rbdops_fail(err, rc, "opening image %s", text);
	}
	return 0;
}

void rbdops_close_image(struct open_image *img)
{
	if (img->image)
		rbd_close(img->image);
	if (img->io)
		rados_ioctx_destroy(img->io);
	img->image = NULL;
	img->io = NULL;
}

int rbdops_pool_check(struct rbd_conn *conn, const char *pool, const char *ns,
		      struct rc_error *err)
{
	rados_ioctx_t io = NULL;
	bool exists = false;
	int rc;

	rc = rbdops_ioctx(conn, pool, "", &io, err);
	if (rc < 0 || ns[0] == '\0')
		goto out;
	rc = rbd_namespace_exists(io, ns, &exists);
	if (rc < 0)
		rc = rbdops_fail(err, rc, "looking up namespace %s/%s", pool, ns);
	else if (!exists)
		rc = rc_error_set(err, -ENOENT, "namespace '%s/%s' does not exist",
				  pool, ns);
out:
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

int rbdops_image_exists(struct rbd_conn *conn, const struct rc_image_spec *spec,
			bool *exists, struct rc_error *err)
{
	struct open_image img;
	int rc = rbdops_open_image(conn, spec, true, &img, err);

	*exists = rc == 0;
	rbdops_close_image(&img);
	if (rc != -ENOENT)
		return rc;
	rc_error_clear(err);
	return 0;
}

int rbdops_image_create(struct rbd_conn *conn, const struct rc_image_spec *spec,
			uint64_t size, struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	rbd_image_options_t opts = NULL;
	rados_ioctx_t io = NULL;
	int rc;

	rc_image_spec_format(spec, text, sizeof(text));
	rc = rbdops_ioctx(conn, spec->pool, spec->ns, &io, err);
	if (rc < 0)
		goto out;
	rbd_image_options_create(&opts);
	rc = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES,
					  RBDOPS_IMAGE_FEATURES);
	if (rc < 0) {
		rc = rbdops_fail(err, rc, "setting the features of %s", text);
		goto out;
	}
	rc = rbd_create4(io, spec->name, size, opts);
	if (rc == -EEXIST)
		rc = rc_error_set(err, rc, "image %s already exists on the cluster",
				  text);
	else if (rc < 0)
		rc = rbdops_fail(err, rc, "creating image %s", text);
out:
	if (opts)
		rbd_image_options_destroy(opts);
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

int rbdops_image_set_meta(struct rbd_conn *conn, const struct rc_image_spec *spec,
			  const char *key, const char *value,
			  struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct open_image img;
	int rc;

	rc = rbdops_open_image(conn, spec, false, &img, err);
	if (rc == 0 && (rc = rbd_metadata_set(img.image, key, value)) < 0) {
		rc_image_spec_format(spec, text, sizeof(text));
		rc = rbdops_fail(err, rc, "setting metadata %s of %s", key, text);
	}
	rbdops_close_image(&img);
	return rc;
}

int rbdops_image_facts(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       struct rbdops_image_facts *out, struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct open_image img;
	size_t len = sizeof(out->owner);
	int rc;

	memset(out, 0, sizeof(*out));
	rc_image_spec_format(spec, text, sizeof(text));
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc == -ENOENT) {
		rc_error_clear(err);
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	out->exists = true;
	rc = rbd_metadata_get(img.image, RBDOPS_OWNER_KEY, out->owner, &len);
	if (rc == -ENOENT) {
		out->owner[0] = '\0';
		rc = 0;
	} else if (rc < 0) {
		rc = rbdops_fail(err, rc, "reading metadata of %s", text);
		goto out;
	}
out:
	rbdops_close_image(&img);
	return rc;
}

int rbdops_snap_list(rbd_image_t image, rbd_snap_info_t **out, int *count)
{
	rbd_snap_info_t *snaps = NULL;
	int max = 16, rc;

	for (;;) {
		snaps = calloc((size_t)max + 1, sizeof(*snaps));
		if (!snaps)
			return -ENOMEM;
		rc = rbd_snap_list(image, snaps, &max);
		if (rc >= 0)
			break;
		free(snaps);
		if (rc != -ERANGE)
			return rc;
	}
	*out = snaps;
	*count = rc;
	return 0;
}

int rbdops_snapshot_list(struct rbd_conn *conn,
			 const struct rc_image_spec *spec,
			 struct rbdops_snapshot **out, size_t *count,
			 struct rc_error *err)
{
	struct rbdops_snapshot *list = NULL;
	rbd_snap_info_t *snaps = NULL;
	struct open_image img;
	char text[RC_SPEC_MAX];
	int n = 0, rc;

	*out = NULL;
	*count = 0;
	rc_image_spec_format(spec, text, sizeof(text));
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc < 0)
		goto out;
	rc = rbdops_snap_list(img.image, &snaps, &n);
	if (rc < 0) {
		rc = rbdops_fail(err, rc, "listing the snapshots of %s", text);
		goto out;
	}
	list = calloc((size_t)n + 1, sizeof(*list));
	if (!list) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (int k = 0; k < n; k++) {
		int is_protected = 0;

		rbd_snap_namespace_type_t type = RBD_SNAP_NAMESPACE_TYPE_USER;

		/* a snapshot in the trash namespace (removed while a clone
		 * reads it) has no protection, and no user name to ask by */
		if (rbd_snap_get_namespace_type(img.image, snaps[k].id,
						&type) == 0 &&
		    type != RBD_SNAP_NAMESPACE_TYPE_USER) {
			snprintf(list[*count].name, sizeof(list[*count].name),
				 "%s", snaps[k].name);
			list[(*count)++].is_protected = false;
			continue;
		}
		rc = rbd_snap_is_protected(img.image, snaps[k].name,
					   &is_protected);
		if (rc == -ENOENT) {
			rc = 0; /* removed since it was listed */
			continue;
		}
		if (rc < 0) {
			rc = rbdops_fail(err, rc, "reading the protection of "
					 "%s@%s", text, snaps[k].name);
			goto out;
		}
		snprintf(list[*count].name, sizeof(list[*count].name), "%s",
			 snaps[k].name);
		list[*count].in_user_namespace = true;
		list[(*count)++].is_protected = is_protected != 0;
	}
	*out = list;
	list = NULL;
out:
	if (list)
		*count = 0;
	free(list);
	if (snaps) {
		rbd_snap_list_end(snaps);
		free(snaps);
	}
	rbdops_close_image(&img);
	return rc;
}

int rbdops_open_image_at(struct rbd_conn *conn, const struct rc_image_spec *spec,
			 const char *snap, struct open_image *out,
			 struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	int rc;

	out->image = NULL;
	rc = rbdops_ioctx(conn, spec->pool, spec->ns, &out->io, err);
	if (rc < 0)
		return rc;
	rc = rbd_open(out->io, spec->name, &out->image, snap);
	if (rc == 0)
		rbdops_count_open();
	if (rc < 0) {
		out->image = NULL;
		rc_image_spec_format(spec, text, sizeof(text));
		rbdops_fail(err, rc, "opening %s@%s", text, snap);
		rbdops_close_image(out);
	}
	return rc;
}

int rbdops_image_name_taken(struct rbd_conn *conn,
			    const struct rc_image_spec *spec, bool *taken,
			    struct rc_error *err)
{
	char oid[RC_NAME_MAX + 16];
	rados_ioctx_t io = NULL;
	int rc;

	*taken = false;
	rc = rbdops_ioctx(conn, spec->pool, spec->ns, &io, err);
	if (rc < 0)
		return rc;
	/* librbd's id object, the first thing an image create writes */
	snprintf(oid, sizeof(oid), "rbd_id.%s", spec->name);
	rc = rados_stat(io, oid, NULL, NULL);
	if (rc == 0)
		*taken = true;
	else if (rc == -ENOENT)
		rc = 0;
	else
		rbdops_fail(err, rc, "looking for the image %s", spec->name);
	rados_ioctx_destroy(io);
	return rc;
}

int rbdops_image_list(struct rbd_conn *conn, const char *pool, const char *ns,
		      char ***names, size_t *count, struct rc_error *err)
{
	rbd_image_spec_t *images = NULL;
	rados_ioctx_t io = NULL;
	char **list = NULL;
	size_t max = 64;
	int rc;

	*names = NULL;
	*count = 0;
	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	while (rc == 0) {
		free(images);
		images = calloc(max, sizeof(*images));
		if (!images) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		rc = rbd_list2(io, images, &max);
		if (rc == -ERANGE) {
			rc = 0;
			continue;
		}
		if (rc < 0)
			rc = rbdops_fail(err, rc, "listing the images of %s%s%s",
					 pool, ns[0] ? "/" : "", ns);
		break;
	}
	if (rc < 0) {
		max = 0;
		goto out;
	}
	list = calloc(max + 1, sizeof(*list));
	for (size_t i = 0; list && i < max; i++) {
		list[i] = strdup(images[i].name);
		if (!list[i]) {
			rbdops_names_free(list, i);
			list = NULL;
		}
	}
	if (!list) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	*names = list;
	*count = max;
out:
	if (images) {
		rbd_image_spec_list_cleanup(images, max);
		free(images);
	}
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

void rbdops_names_free(char **names, size_t count)
{
	for (size_t i = 0; names && i < count; i++)
		free(names[i]);
	free(names);
}
