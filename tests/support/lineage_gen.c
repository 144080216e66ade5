#include "lineage_gen.h"

#include <stdio.h>

#include "rowcat/sys/journal.h"

#define GEN_EPOCH 1767225600 /* 2026-01-01T00:00:00Z */

static int gen_volume(struct catalog *cat, int v, int generations,
		      struct rc_error *err)
{
	struct rc_image_spec image = { .pool = "rbd" };
	char volume_name[32], snap_name[RC_NAME_MAX];
	int64_t volume_id, image_id, snapshot_id;
	struct catalog_volume volume;
	int rc;

	snprintf(volume_name, sizeof(volume_name), "vol%06d", v);
	snprintf(image.name, sizeof(image.name), "%s", volume_name);
	rc = catalog_volume_insert(cat, volume_name, 1 << 30, &image, GEN_EPOCH,
				   &volume_id, err);
	if (rc < 0)
		return rc;
	rc = catalog_volume_find(cat, volume_name, &volume, err);
	image_id = volume.operating_image_id;
	for (int g = 1; g < generations && rc == 0; g++) {
		int64_t when = GEN_EPOCH + g * 3600;
		snprintf(snap_name, sizeof(snap_name), "s%04d", g);
		rc = catalog_snapshot_insert(cat, image_id, snap_name, "manual",
					     true, when, &snapshot_id, err);
		if (rc < 0)
			break;
		snprintf(image.name, sizeof(image.name), "%s.g%04d", volume_name, g);
		rc = catalog_clone_insert(cat, volume_id, &image, snapshot_id, when,
					  &image_id, err);
	}
	if (rc == 0)
		rc = catalog_volume_set_operating(cat, volume_id, image_id, err);
	return rc;
}

int lineage_gen(struct catalog *cat, int volumes, int generations,
		struct rc_error *err)
{
	int rc = catalog_begin(cat, err);

	for (int v = 0; v < volumes && rc == 0; v++)
		rc = gen_volume(cat, v, generations, err);
	if (rc == 0)
		rc = catalog_commit(cat, err);
	else
		catalog_rollback(cat);
	return rc;
}
