/*
 * rowcat create: the first operation of a volume's life.
 *
 *   journalled ──create image──▶ image-created ──one transaction──▶ done
 *        │                                     (volume + image rows,
 *        └── create failed ──▶ failed           operation done)
 *
 * An interrupted create leaves a 'running' operation whose target names the
 * image; recovery (rbdops recovery, with the snapshot saga) finishes it when
 * the image exists and ends it when it does not.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "internal.h"

/* Checks everything that can be checked before the journal is written. */
static int precheck(struct rbd_conn *conn, struct catalog *cat,
		    const struct rc_image_spec *spec, struct rc_error *err)
{
	struct catalog_volume existing;
	char text[RC_SPEC_MAX];
	bool exists = false;
	int rc;

	rc = catalog_volume_find(cat, spec->name, &existing, err);
	if (rc == 0)
		return rc_error_set(err, -EEXIST, "volume '%s' already exists",
				    spec->name);
	if (rc != -ENOENT)
		return rc;
	rc = rbdops_pool_check(conn, spec->pool, spec->ns, err);
	if (rc < 0)
		return rc;
	rc = rbdops_image_exists(conn, spec, &exists, err);
	if (rc < 0)
		return rc;
	rc_image_spec_format(spec, text, sizeof(text));
	if (exists)
		return rc_error_set(err, -EEXIST,
			"image %s already exists on the cluster and is not "
			"rowcat's; choose another volume name", text);
	return 0;
}

/* Ends op as failed with err's message, keeping err as it is. */
static void record_failure(struct catalog *cat, struct catalog_operation *op,
			   const struct rc_error *err)
{
	struct rc_error ignored;

	if (catalog_begin(cat, &ignored) < 0)
		return;
	if (catalog_op_end(cat, op, "failed", err->message, rc_clock_now(),
			   &ignored) < 0 ||
	    catalog_commit(cat, &ignored) < 0)
		catalog_rollback(cat);
}

int rbdops_volume_create(struct rbd_conn *conn, struct catalog *cat,
			 const struct rc_image_spec *spec, uint64_t size,
			 struct rc_error *err)
{
	struct catalog_operation op = {0};
	int rc;

	rc = precheck(conn, cat, spec, err);
	if (rc < 0)
		return rc;

	snprintf(op.kind, sizeof(op.kind), "create");
	op.target = *spec;
	op.size = size;
	op.started_at = rc_clock_now();
	rc = catalog_op_begin(cat, &op, err);
	if (rc < 0)
		return rc;

	rc = rbdops_image_create(conn, spec, size, err);
	if (rc < 0) {
		record_failure(cat, &op, err);
		return rc;
	}

	rc = catalog_begin(cat, err);
	if (rc < 0)
		return rc;
	rc = catalog_volume_insert(cat, spec->name, size, spec, op.started_at,
				   &op.volume_id, err);
	if (rc == 0)
		rc = catalog_op_end(cat, &op, "done", NULL, rc_clock_now(), err);
	if (rc == 0)
		rc = catalog_commit(cat, err);
	if (rc < 0)
		catalog_rollback(cat);
	return rc;
}
