/*
 * An operation's kind, state and step: the enums the code uses and the
 * words the catalog stores for them. The words are the catalog's format
 * (and what `rowcat log` prints): they never change, and schema.sql's
 * CHECK constraints list the same kinds and states.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "internal.h"

static const char *const kind_names[CATALOG_OP_KIND_COUNT] = {
	[CATALOG_OP_CREATE] = "create",
	[CATALOG_OP_SNAP] = "snap",
	[CATALOG_OP_RESTORE] = "restore",
	[CATALOG_OP_FLATTEN] = "flatten",
	[CATALOG_OP_GC_TRASH] = "gc-trash",
	[CATALOG_OP_GC_SNAPSHOT] = "gc-snapshot",
	[CATALOG_OP_GC_PURGE] = "gc-purge",
	[CATALOG_OP_UNRM] = "unrm",
	[CATALOG_OP_ADOPT] = "adopt",
};

static const char *const state_names[CATALOG_OP_STATE_COUNT] = {
	[CATALOG_OP_RUNNING] = "running",
	[CATALOG_OP_DONE] = "done",
	[CATALOG_OP_FAILED] = "failed",
	[CATALOG_OP_ROLLED_BACK] = "rolled-back",
};

static const char *const step_names[CATALOG_STEP_COUNT] = {
	[CATALOG_STEP_JOURNALLED] = "journalled",
	[CATALOG_STEP_CREATING] = "creating",
	[CATALOG_STEP_IMAGE_CREATED] = "image-created",
	[CATALOG_STEP_TARGET_CHOSEN] = "target-chosen",
	[CATALOG_STEP_PAUSING] = "pausing",
	[CATALOG_STEP_SNAPSHOT_CREATED] = "snapshot-created",
	[CATALOG_STEP_PROTECTED] = "protected",
	[CATALOG_STEP_CLONING] = "cloning",
	[CATALOG_STEP_CLONED] = "cloned",
	[CATALOG_STEP_SWITCHED] = "consumer-switched",
	[CATALOG_STEP_FLATTENED] = "flattened",
};

const char *catalog_op_kind_name(enum catalog_op_kind kind)
{
	return (unsigned)kind < CATALOG_OP_KIND_COUNT ? kind_names[kind] : NULL;
}

const char *catalog_op_state_name(enum catalog_op_state state)
{
	return (unsigned)state < CATALOG_OP_STATE_COUNT ? state_names[state]
							: NULL;
}

const char *catalog_op_step_name(enum catalog_op_step step)
{
	return (unsigned)step < CATALOG_STEP_COUNT ? step_names[step] : NULL;
}

/* The index of text in names[0 .. count), or -1. */
static int name_index(const char *const *names, int count, const char *text)
{
	for (int i = 0; i < count; i++)
		if (names[i] && strcmp(names[i], text) == 0)
			return i;
	return -1;
}

int catalog_op_kind_parse(const char *text, enum catalog_op_kind *out,
			  struct rc_error *err)
{
	int i = name_index(kind_names, CATALOG_OP_KIND_COUNT, text);

	if (i < 0)
		return rc_error_set(err, -EINVAL, "the catalog holds an operation "
				    "of kind '%s', which this rowcat does not "
				    "know", text);
	*out = (enum catalog_op_kind)i;
	return 0;
}

int catalog_op_state_parse(const char *text, enum catalog_op_state *out,
			   struct rc_error *err)
{
	int i = name_index(state_names, CATALOG_OP_STATE_COUNT, text);

	if (i < 0)
		return rc_error_set(err, -EINVAL, "the catalog holds an operation "
				    "in state '%s', which this rowcat does not "
				    "know", text);
	*out = (enum catalog_op_state)i;
	return 0;
}

int catalog_op_step_parse(const char *text, enum catalog_op_step *out,
			  struct rc_error *err)
{
	int i = name_index(step_names, CATALOG_STEP_COUNT, text);

	if (i < 0)
		return rc_error_set(err, -EINVAL, "the catalog holds an operation "
				    "at step '%s', which this rowcat does not "
				    "know", text);
	*out = (enum catalog_op_step)i;
	return 0;
}

bool catalog_op_is_gc(enum catalog_op_kind kind)
{
	return kind == CATALOG_OP_GC_TRASH || kind == CATALOG_OP_GC_SNAPSHOT ||
	       kind == CATALOG_OP_GC_PURGE;
}

bool catalog_op_step_of_kind(enum catalog_op_kind kind,
			     enum catalog_op_step step)
{
	if (step == CATALOG_STEP_JOURNALLED)
		return catalog_op_kind_name(kind) != NULL;
	switch (kind) {
	case CATALOG_OP_CREATE:
		return step == CATALOG_STEP_CREATING ||
		       step == CATALOG_STEP_IMAGE_CREATED;
	case CATALOG_OP_SNAP:
		return step >= CATALOG_STEP_TARGET_CHOSEN &&
		       step <= CATALOG_STEP_SWITCHED;
	case CATALOG_OP_RESTORE: /* never live: a guest is stopped first */
		return step >= CATALOG_STEP_TARGET_CHOSEN &&
		       step <= CATALOG_STEP_CLONED &&
		       step != CATALOG_STEP_PAUSING;
	case CATALOG_OP_FLATTEN:
		return step == CATALOG_STEP_FLATTENED;
	case CATALOG_OP_NO_KIND:
	case CATALOG_OP_GC_TRASH:
	case CATALOG_OP_GC_SNAPSHOT:
	case CATALOG_OP_GC_PURGE:
	case CATALOG_OP_UNRM:
	case CATALOG_OP_ADOPT:
	case CATALOG_OP_KIND_COUNT:
		break;
	}
	return false;
}

#ifndef NDEBUG
/*
 * What holds of every operation in memory once journalled:
 *
 *  - it has an id, and a kind, state and step that have names;
 *  - its step is one of its kind's saga;
 *  - running, it has no finished_at; ended, it has one, and a failed or
 *    rolled-back one says why;
 *  - snap, restore and flatten name their volume and the operating image
 *    they started from; snap and restore the snapshot they take, restore
 *    the snapshot it restores, and past target-chosen the clone's name;
 *  - create names the image it makes;
 *  - gc's kinds name their volume, their image and (gc-snapshot) their
 *    snapshot, and say why they collect in reason, never in origin,
 *    which only snap and restore use;
 *  - unrm names its volume; adopt its volume and the image it adopted;
 *  - only gc's kinds have a reason.
 */
int catalog_assert_op_state(const struct catalog_operation *op)
{
	assert(op->id > 0);
	assert(catalog_op_kind_name(op->kind) != NULL);
	assert(catalog_op_state_name(op->state) != NULL);
	assert(catalog_op_step_name(op->step) != NULL);
	assert(catalog_op_step_of_kind(op->kind, op->step));

	assert((op->state == CATALOG_OP_RUNNING) == (op->finished_at == 0));
	assert(op->state != CATALOG_OP_FAILED || op->error[0]);
	assert(op->state != CATALOG_OP_ROLLED_BACK || op->error[0]);

	switch (op->kind) {
	case CATALOG_OP_SNAP:
	case CATALOG_OP_RESTORE:
		assert(op->target_snapshot[0]);
		assert(op->origin[0]);
		assert(op->kind == CATALOG_OP_SNAP || op->snapshot_id);
		assert(op->step < CATALOG_STEP_TARGET_CHOSEN || op->target.name[0]);
		/* a live snap records its guest before it may pause it */
		assert((op->step != CATALOG_STEP_PAUSING &&
			op->step != CATALOG_STEP_SWITCHED) ||
		       op->consumer.where[0]);
		/* fall through */
	case CATALOG_OP_FLATTEN:
		assert(op->volume_id && op->image_id);
		break;
	case CATALOG_OP_CREATE:
		assert(op->target.name[0]);
		break;
	case CATALOG_OP_GC_TRASH:
	case CATALOG_OP_GC_SNAPSHOT:
	case CATALOG_OP_GC_PURGE:
		assert(op->volume_id && op->image_id);
		assert(op->kind != CATALOG_OP_GC_SNAPSHOT || op->snapshot_id);
		assert(op->reason[0] && !op->origin[0]);
		break;
	case CATALOG_OP_UNRM:
		assert(op->volume_id && !op->origin[0]);
		break;
	case CATALOG_OP_ADOPT:
		assert(op->volume_id && op->image_id);
		break;
	case CATALOG_OP_NO_KIND:
	case CATALOG_OP_KIND_COUNT:
		break;
	}
	assert(catalog_op_is_gc(op->kind) || !op->reason[0]);
	return 1;
}
#endif
