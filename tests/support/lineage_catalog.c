/*
 * Writes a catalog with long lineages, for the tests of rowcat tree (no
 * cluster: tree reads the catalog alone).
 *
 *   lineage_catalog PATH GENERATIONS [RESTORE_EVERY]
 *
 * Volume vol000000 is a straight chain of GENERATIONS images, as that many
 * snaps would leave it (tests/support/lineage_gen). With RESTORE_EVERY,
 * volume "forked" has GENERATIONS images too, but every RESTORE_EVERY-th
 * of them is a restore: a pre-restore snapshot of the operating image,
 * then a clone of the snapshot taken RESTORE_EVERY / 2 generations
 * earlier, so that the line it leaves becomes a side branch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lineage_gen.h"
#include "rowcat/sys/journal.h"

#define EPOCH 1767225600 /* 2026-01-01T00:00:00Z */

static int write_forked(struct catalog *cat, int generations, int every,
			struct rc_error *err)
{
	struct rc_image_spec image = { .pool = "rbd", .name = "forked" };
	int64_t *snapshot_of = calloc((size_t)generations + 1, sizeof(int64_t));
	int64_t volume_id, operating, snapshot_id, parent;
	struct catalog_volume volume;
	char name[64];
	int rc;

	if (!snapshot_of)
		return rc_error_set(err, -ENOMEM, "out of memory");
	rc = catalog_begin(cat, err);
	if (rc == 0)
		rc = catalog_volume_insert(cat, "forked", 1 << 30, &image, EPOCH,
					   &volume_id, err);
	if (rc == 0)
		rc = catalog_volume_find(cat, "forked", &volume, err);
	operating = volume.operating_image_id;
	for (int g = 1; g < generations && rc == 0; g++) {
		int64_t when = EPOCH + g * 3600;
		bool restore = g % every == 0;

		snprintf(name, sizeof(name), restore ? "pre-restore-%04d" : "s%04d", g);
		rc = catalog_snapshot_insert(cat, operating, name,
					     restore ? "pre-restore" : "manual",
					     true, when, &snapshot_id, err);
		if (rc < 0)
			break;
		snapshot_of[g] = snapshot_id;
		parent = restore ? snapshot_of[g - every / 2] : snapshot_id;
		snprintf(image.name, sizeof(image.name), "forked.g%04d", g);
		rc = catalog_clone_insert(cat, volume_id, &image, parent, when,
					  &operating, err);
	}
	if (rc == 0)
		rc = catalog_volume_set_operating(cat, volume_id, operating, err);
	if (rc == 0)
		rc = catalog_commit(cat, err);
	else
		catalog_rollback(cat);
	free(snapshot_of);
	return rc;
}

int main(int argc, char **argv)
{
	struct catalog *cat = NULL;
	struct rc_error err = {0};
	int generations, every = 0, rc;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: lineage_catalog PATH GENERATIONS [RESTORE_EVERY]\n");
		return 2;
	}
	generations = atoi(argv[2]);
	if (argc == 4)
		every = atoi(argv[3]);
	if (generations < 1 || (argc == 4 && every < 2)) {
		fprintf(stderr, "lineage_catalog: GENERATIONS >= 1, RESTORE_EVERY >= 2\n");
		return 2;
	}
	rc = catalog_open(&cat, argv[1], CATALOG_OPEN_CREATE, &err);
	if (rc == 0)
		rc = lineage_gen(cat, 1, generations, &err);
	if (rc == 0 && every)
		rc = write_forked(cat, generations, every, &err);
	catalog_close(cat);
	if (rc < 0) {
		fprintf(stderr, "lineage_catalog: %s\n", err.message);
		return 1;
	}
	return 0;
}
