/*
 * rowcat check --data: each image of a volume whose parent snapshot, by
 * the catalog's lineage, is still on the cluster, compared with it object
 * by object (rbdops/data_compare.c says how, and why it matters). It only
 * reads.
 */
#include <stdio.h>

#include "internal.h"

struct data_checker {
	const char *volume;
	ops_difference_fn fn;
	void *ctx;
	size_t count;
};

static int report_finding(void *arg, const struct rbdops_data_finding *f,
			  struct rc_error *err)
{
	struct data_checker *c = arg;
	struct ops_difference diff = {
		.kind = f->kind == RBDOPS_DATA_LOST
			? OPS_DIFF_LOST_DATA : OPS_DIFF_MAP_WITHOUT_OBJECT,
		.volume = c->volume,
		.has_object = true,
		.object = f->object,
		.offset = f->offset,
		.length = f->length,
	};

	diff.kind_name = ops_difference_kind_name(diff.kind);
	snprintf(diff.subject, sizeof(diff.subject), "%s", f->image);
	snprintf(diff.message, sizeof(diff.message), "%s", f->message);
	c->count++;
	return c->fn ? c->fn(c->ctx, &diff, err) : 0;
}

int ops_check_data(struct rbd_conn *conn, struct catalog *cat,
		   const char *volume, ops_difference_fn fn, void *ctx,
		   size_t *count, struct rc_error *err)
{
	struct data_checker c = { .fn = fn, .ctx = ctx };
	struct catalog_lineage *lin = NULL;
	struct catalog_volume one;
	int rc;

	*count = 0;
	rc = catalog_volume_find(cat, volume, &one, err);
	if (rc == 0)
		rc = catalog_lineage_load(&lin, cat, &one, err);
	if (rc < 0)
		goto out;
	c.volume = lin->volume.name;
	for (size_t i = 0; rc == 0 && i < lin->image_count; i++) {
		const struct catalog_image *image = &lin->images[i];
		const struct catalog_snapshot *snap;
		const struct catalog_image *parent;

		/* the volume's own images, against whatever they read
		 * through; an image above them is its owner's to check */
		if (image->removed_at || !image->parent_snapshot_id ||
		    !catalog_lineage_owns(lin, image))
			continue;
		snap = catalog_lineage_snapshot(lin, image->parent_snapshot_id);
		parent = snap ? catalog_lineage_image(lin, snap->image_id) : NULL;
		if (!parent || snap->removed_at || parent->removed_at)
			continue; /* nothing left to compare with */
		rc = rbdops_data_compare(conn, &image->spec, &parent->spec,
					 snap->name, report_finding, &c, err);
	}
	*count = c.count;
out:
	catalog_lineage_free(lin);
	return rc;
}
