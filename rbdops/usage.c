/*
 * What an image and each of its snapshots hold on their own, counted as
 * `rbd du` counts them (Ceph's src/tools/rbd/action/DiskUsage.cc): a
 * snapshot's bytes are what changed between the snapshot before it and
 * itself, the image's (its head's) what changed since its newest
 * snapshot, in whole objects (rbd du without --exact), its parent's data
 * never counted (include_parent 0). librbd answers such a diff from the
 * object maps when the image has fast-diff and the maps of the snapshots
 * in the range are valid, and otherwise asks the OSDs for every object's
 * snapshots; each row says which.
 *
 * One open per image: opening a clone opens its whole parent chain (a
 * few ms a level), so the snapshots are read through the same handle,
 * moved to each with rbd_snap_set_by_id, rather than opened one by one
 * as rbd du does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* rbd du's callback: whole objects that changed, whatever their data. */
static int add_extent(uint64_t offset, size_t len, int exists, void *arg)
{
	uint64_t *used = arg;

	(void)offset;
	if (exists)
		*used += len;
	return 0;
}

static int by_snap_id(const void *a, const void *b)
{
	const rbd_snap_info_t *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Whether the object map of the snapshot (or head) the handle is at can
 * answer a diff: librbd's object_map::DiffRequest refuses an invalid one. */
static int map_valid(rbd_image_t image, bool *valid)
{
	uint64_t flags = 0;
	int rc = rbd_get_flags(image, &flags);

	*valid = rc == 0 && !(flags & (RBD_FLAG_FAST_DIFF_INVALID |
				       RBD_FLAG_OBJECT_MAP_INVALID));
	return rc;
}

/*
 * Measures the row at the handle's current snapshot (or head) against
 * from (NULL: the image's beginning). fast_diff says whether librbd can
 * answer from the maps: the feature, and valid maps at both ends (the
 * maps between are those of the rows before, which the caller has seen).
 */
static int measure_row(rbd_image_t image, const char *from,
		       struct rbdops_usage_row *row, bool maps_valid_so_far,
		       bool has_feature, bool *valid_here)
{
	int rc = map_valid(image, valid_here);

	if (rc < 0)
		return rc;
	row->fast_diff = has_feature && maps_valid_so_far && *valid_here;
	row->used = 0;
	return rbd_diff_iterate2(image, from, 0, row->provisioned, 0, 1,
				 add_extent, &row->used);
}

/* The user snapshots of image (rbd du counts no others: not those a
 * group or a mirror took, nor those in the trash namespace), by id. */
static int user_snapshots(rbd_image_t image, rbd_snap_info_t **out,
			  int *count)
{
	rbd_snap_info_t *snaps = NULL;
	int n = 0, kept = 0, rc = rbdops_snap_list(image, &snaps, &n);

	if (rc < 0)
		return rc;
	for (int k = 0; k < n; k++) {
		rbd_snap_namespace_type_t type = RBD_SNAP_NAMESPACE_TYPE_USER;

		rc = rbd_snap_get_namespace_type(image, snaps[k].id, &type);
		if (rc < 0)
			break;
		if (type == RBD_SNAP_NAMESPACE_TYPE_USER) {
			rbd_snap_info_t keep = snaps[k];

			snaps[k] = snaps[kept];
			snaps[kept++] = keep;
		}
	}
	if (rc < 0) {
		rbd_snap_list_end(snaps);
		free(snaps);
		return rc;
	}
	qsort(snaps, (size_t)kept, sizeof(*snaps), by_snap_id);
	*out = snaps;
	*count = n;
	return kept;
}

int rbdops_image_usage(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       struct rbdops_usage *out, struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct open_image img = {0};
	rbd_snap_info_t *snaps = NULL;
	int listed = 0, kept = 0, rc;
	uint64_t features = 0;
	bool valid = true, all_valid = true, has_feature;
	const char *from = NULL;

	memset(out, 0, sizeof(*out));
	rc_image_spec_format(spec, text, sizeof(text));
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc < 0)
		goto out;
	rc = rbd_get_id(img.image, out->id, sizeof(out->id));
	if (rc == 0)
		rc = rbd_get_features(img.image, &features);
	if (rc < 0) {
		rc = rbdops_fail(err, rc, "reading the id and features of %s",
				 text);
		goto out;
	}
	has_feature = (features & RBD_FEATURE_FAST_DIFF) != 0;
	out->fast_diff_feature = has_feature;
	rc = kept = user_snapshots(img.image, &snaps, &listed);
	if (rc < 0) {
		rc = rbdops_fail(err, rc, "listing the snapshots of %s", text);
		goto out;
	}
	out->rows = calloc((size_t)kept + 1, sizeof(*out->rows));
	if (!out->rows) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (int k = 0; k < kept; k++) {
		struct rbdops_usage_row *row = &out->rows[k];

		snprintf(row->snapshot, sizeof(row->snapshot), "%s",
			 snaps[k].name);
		row->snap_id = snaps[k].id;
		row->provisioned = snaps[k].size;
		rc = rbd_snap_set_by_id(img.image, snaps[k].id);
		if (rc == 0)
			rc = measure_row(img.image, from, row, all_valid,
					 has_feature, &valid);
		if (rc < 0) {
			rc = rbdops_fail(err, rc, "reading what %s@%s holds",
					 text, snaps[k].name);
			goto out;
		}
		out->count++;
		/* a diff from this snapshot reads its map again, not those
		 * before it */
		all_valid = valid;
		from = snaps[k].name;
	}
	rc = rbd_snap_set(img.image, NULL);
	if (rc == 0)
		rc = rbd_get_size(img.image, &out->rows[kept].provisioned);
	if (rc == 0)
		rc = measure_row(img.image, from, &out->rows[kept], all_valid,
				 has_feature, &valid);
	if (rc < 0) {
		rc = rbdops_fail(err, rc, "reading what %s holds", text);
		goto out;
	}
	out->count++;
out:
	if (snaps) {
		rbd_snap_list_end(snaps);
		free(snaps);
	}
	rbdops_close_image(&img);
	if (rc < 0)
		rbdops_usage_free(out);
	return rc < 0 ? rc : 0;
}

void rbdops_usage_free(struct rbdops_usage *usage)
{
	free(usage->rows);
	usage->rows = NULL;
	usage->count = 0;
}
