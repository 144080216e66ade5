/*
 * rowcat create: the first operation of a volume's life.
 *
 *   journalled ─▶ "creating" ─▶ image created ─▶ image tagged ─▶ "image-created" ─▶ done
 *   (op row,      (step         (rbd_create4)    (metadata        (step recorded)    (volume +
 *    committed;    recorded)                      rowcat.operation                    image rows,
 *    the name                                     = owner tag)                        op done: one
 *    was free)                                                                        transaction)
 *
 * Recovery (recover.c) looks at the cluster, and at the step only to know
 * whether rbd_create4 may have run:
 *   - the image does not exist        → roll back: the operation is undone
 *   - it exists and carries our tag,
 *     or carries none and the step is
 *     "creating" or later             → roll forward: tag it, record the volume
 *   - it exists and is someone else's
 *     (another tag, or none while the
 *     step is still "journalled")     → end the operation as failed, touch nothing
 * No clock decides: the name was free when the operation was journalled,
 * and before "creating" is recorded rowcat has made nothing, so an
 * untagged image found then is someone else's; from "creating" on, an
 * untagged image is the one rbd_create4 made before the tag could be set
 * (killed between the two; an image someone else made in that window is
 * the one case this cannot tell apart, as for the clone in row.c).
 *
 * Failpoints: create.{journal,creating-step,image,tag,step,commit}.{before,after}.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rowcat/clock.h"
#include "rowcat/sys/failpoint.h"
#include "internal.h"

/*
 * The refusal of a name that a volume has already: volume names are
 * unique across pools (later commands name a volume alone), so it says
 * where the one of that name lives, by its operating image.
 */
static int volume_exists(struct catalog *cat,
			 const struct catalog_volume *existing,
			 struct rc_error *err)
{
	struct catalog_image operating;
	char ns[RC_NAME_MAX + 16] = "";

	if (catalog_image_get(cat, existing->operating_image_id, &operating,
			      err) < 0)
		return rc_error_set(err, -EEXIST, "volume '%s' already exists",
				    existing->name);
	if (operating.spec.ns[0])
		snprintf(ns, sizeof(ns), ", namespace '%s'", operating.spec.ns);
	return rc_error_set(err, -EEXIST, "volume '%s' already exists, in "
			    "pool '%s'%s%s; volume names are unique across "
			    "pools", existing->name, operating.spec.pool, ns,
			    existing->marked_at ? " (removed with 'rowcat rm'; "
			    "the catalog keeps its name with its history)" : "");
}

/* Checks everything that can be checked before the journal is written. */
static int precheck(struct rbd_conn *conn, struct catalog *cat,
		    const struct rc_image_spec *spec, uint64_t size,
		    struct rc_error *err)
{
	struct catalog_volume existing;
	char text[RC_SPEC_MAX];
	bool exists = false;
	int rc;

	rc = rc_volume_name_check(spec->name, err);
	if (rc < 0)
		return rc;
	rc = catalog_volume_find(cat, spec->name, &existing, err);
	if (rc == 0)
		return volume_exists(cat, &existing, err);
	if (rc != -ENOENT)
		return rc;
	rc = rbdops_pool_check(conn, spec->pool, spec->ns, err);
	if (rc < 0)
		return rc;
	rc = rbdops_image_size_check(conn, size, err);
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

void ops_owner_tag(const struct catalog_operation *op, char *buf,
		   size_t len)
{
	snprintf(buf, len, "op:%lld:%lld", (long long)op->id,
		 (long long)op->started_at);
}

int ops_end_operation(struct catalog *cat, struct catalog_operation *op,
		      enum catalog_op_state state, const char *why,
		      struct rc_error *err)
{
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	return catalog_op_finish(cat, op, state, why, rc_clock_now(), err);
}

void ops_end_failed(struct catalog *cat, struct catalog_operation *op,
		    enum catalog_op_state state, struct rc_error *err)
{
	struct rc_error ending = {0};
	size_t used;

	if (ops_end_operation(cat, op, state, err->message, &ending) == 0)
		return;
	used = strlen(err->message);
	snprintf(err->message + used, sizeof(err->message) - used,
		 "; operation %lld stays in the journal ('rowcat recover' "
		 "settles it): %s", (long long)op->id, ending.message);
}

int ops_create_finish(struct catalog *cat, struct catalog_operation *op,
		      struct rc_error *err)
{
	int rc;

	RC_FAILPOINT("create.commit.before");
	rc = catalog_begin(cat, err);
	if (rc < 0)
		return rc;
	rc = catalog_volume_insert(cat, op->target.name, op->size, &op->target,
				   op->started_at, &op->volume_id, err);
	if (rc < 0) {
		catalog_rollback(cat);
		return rc;
	}
	rc = catalog_op_finish(cat, op, CATALOG_OP_DONE, NULL, rc_clock_now(),
			       err);
	if (rc < 0)
		return rc;
	RC_FAILPOINT("create.commit.after");
	return 0;
}

int ops_create_tag(struct rbd_conn *conn, const struct catalog_operation *op,
		   struct rc_error *err)
{
	char tag[64];
	int rc;

	ops_owner_tag(op, tag, sizeof(tag));
	RC_FAILPOINT("create.tag.before");
	rc = rbdops_image_set_meta(conn, &op->target, RBDOPS_OWNER_KEY, tag, err);
	if (rc == 0)
		RC_FAILPOINT("create.tag.after");
	return rc;
}

static int volume_create(struct rbd_conn *conn, struct catalog *cat,
			 const struct rc_image_spec *spec, uint64_t size,
			 struct rc_error *err)
{
	struct catalog_operation op = {0};
	int rc;

	rc = precheck(conn, cat, spec, size, err);
	if (rc < 0)
		return rc;

	op.kind = CATALOG_OP_CREATE;
	op.target = *spec;
	op.size = size;
	op.started_at = rc_clock_now();
	RC_FAILPOINT("create.journal.before");
	rc = catalog_op_begin(cat, &op, err);
	if (rc < 0)
		return rc;
	RC_FAILPOINT("create.journal.after");

	RC_FAILPOINT("create.creating-step.before");
	rc = catalog_op_set_step(cat, &op, CATALOG_STEP_CREATING, err);
	if (rc < 0)
		goto out; /* running, with nothing made: recovery rolls back */
	RC_FAILPOINT("create.creating-step.after");

	RC_FAILPOINT("create.image.before");
	rc = rbdops_image_create(conn, spec, size, err);
	if (rc < 0) {
		ops_end_failed(cat, &op, CATALOG_OP_FAILED, err);
		goto out;
	}
	RC_FAILPOINT("create.image.after");
	rc = ops_create_tag(conn, &op, err);
	if (rc < 0)
		goto out; /* the operation stays running: recovery settles it */
	RC_FAILPOINT("create.step.before");
	rc = catalog_op_set_step(cat, &op, CATALOG_STEP_IMAGE_CREATED, err);
	if (rc < 0)
		goto out;
	RC_FAILPOINT("create.step.after");
	rc = ops_create_finish(cat, &op, err);
out:
	catalog_op_release(cat, op.id);
	return rc;
}

int ops_volume_create(struct rbd_conn *conn, struct catalog *cat,
		      const struct rc_image_spec *spec, uint64_t size,
		      struct rc_error *err)
{
	int rc = volume_create(conn, cat, spec, size, err);

	return rc < 0 ? rbdops_explain_failure(conn, spec->pool, spec->ns, err)
		      : rc;
}
